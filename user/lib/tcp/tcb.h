/* SPDX-License-Identifier: MIT */
/*
 * The TCP engine's data: one connection (the RFC 9293 TCB, plus buffers,
 * timers and the negotiated options), the per-stack TCP table, and the
 * functions the engine's files (tcp_input.c, tcp_output.c, tcp_timer.c,
 * tcp_listen.c, tcp_conn.c, tcp_sock.c) call in one another.
 *
 * A connection is a heap object separate from its socket: after close() it
 * lives on, orphaned (sock == NULL), through FIN-WAIT / LAST-ACK / TIME-WAIT
 * until it reaches CLOSED, and is freed then.
 */
#ifndef XM_TCP_TCB_H
#define XM_TCP_TCB_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>
#include <sys/types.h>

#include "../core/timer.h"
#include "cc.h"
#include "options.h"
#include "prr.h"
#include "rack.h"
#include "rto.h"
#include "sack.h"
#include "seq.h"
#include "siphash.h"
#include "syncookie.h"

struct xm_stack;
struct xm_sock;
struct xm_ipinfo;

enum xm_tcp_state {
	XM_TCP_CLOSED = 0,
	XM_TCP_LISTEN,
	XM_TCP_SYN_SENT,
	XM_TCP_SYN_RECEIVED,
	XM_TCP_ESTABLISHED,
	XM_TCP_FIN_WAIT_1,
	XM_TCP_FIN_WAIT_2,
	XM_TCP_CLOSE_WAIT,
	XM_TCP_CLOSING,
	XM_TCP_LAST_ACK,
	XM_TCP_TIME_WAIT,
};

const char *xm_tcp_state_name(enum xm_tcp_state s);

#define XM_TCP_HLEN          20
#define XM_TCP_FIN 0x01
#define XM_TCP_SYN 0x02
#define XM_TCP_RST 0x04
#define XM_TCP_PSH 0x08
#define XM_TCP_ACK 0x10
#define XM_TCP_URG 0x20

#define XM_TCP_DEFAULT_MSS   536u       /* RFC 9293 3.7.1 (IPv4) */
#define XM_TCP_DEFAULT_MSS6  1220u      /* RFC 8200 5: 1280 - 60 */
#define XM_TCP_MSL_US        30000000ull  /* Linux TIME-WAIT is 60 s = 2MSL */
#define XM_TCP_DELACK_US     40000u     /* Linux TCP_DELACK_MIN */
#define XM_TCP_SYN_RETRIES   6u         /* Linux tcp_syn_retries */
#define XM_TCP_SYNACK_RETRIES 5u        /* Linux tcp_synack_retries */
#define XM_TCP_RETRIES2      15u        /* Linux tcp_retries2 */
#define XM_TCP_KEEPIDLE_S    7200u      /* Linux defaults */
#define XM_TCP_KEEPINTVL_S   75u
#define XM_TCP_KEEPCNT       9u
#define XM_TCP_PERSIST_MIN_US 200000u
/* Out-of-order ranges kept: the holes a reordering path leaves in a full
 * window (Linux keeps every out-of-order segment its buffer takes). The
 * bound caps the linear scans one segment costs when a peer makes many
 * tiny ranges on purpose; the array grows only as far as it is needed. */
#define XM_TCP_OOO_MAX       1024u
#define XM_TCP_RCVBUF_INIT   65536u     /* receive ring before auto-tuning */
#define XM_TCP_MEM_MAX       (1ull << 30) /* all TCP buffers of one stack */
#define XM_TCP_CONN_MAX      65536u     /* connections of one stack */
#define XM_TCP_CHALLENGE_PER_S 1000u    /* RFC 5961 7: Linux tcp_challenge_ack_limit */

/* A byte ring; data starts at head. */
struct xm_tcp_ring {
	uint8_t *buf;
	uint32_t cap;
	uint32_t head;
	uint32_t len;
};

struct xm_tcp_range {
	uint32_t start, end;             /* [start, end) sequence space */
	uint32_t stamp;                  /* ooo_clock when data last came */
};

struct xm_tcp_conn {
	struct xm_stack *st;
	struct xm_sock *sock;            /* NULL once closed by the application */
	struct xm_tcp_conn *hnext;       /* hash chain (4-tuple) or listener list */
	struct xm_tcp_conn *listener;    /* SYN-RECEIVED / accept queue: parent */
	struct xm_tcp_conn *qnext;       /* listener's SYN or accept queue */
	bool hashed;
	bool in_accept_q;
	bool port_ref;                   /* holds a reference on lport */

	int family;
	uint8_t laddr[16], raddr[16];    /* network order */
	uint16_t lport, rport;           /* host order */

	enum xm_tcp_state state;

	/* RFC 9293 3.3.1 send sequence variables */
	uint32_t iss, snd_una, snd_nxt, snd_max, snd_wnd, snd_wl1, snd_wl2;
	uint32_t max_snd_wnd;
	uint8_t snd_wscale, rcv_wscale;
	uint16_t mss;                    /* effective send MSS (data bytes) */
	uint16_t adv_mss;                /* the MSS we advertised */
	bool ws_ok, ts_ok, sack_ok;
	bool fin_queued;                 /* application shut its side down */
	bool fin_sent;
	/* bytes from snd_una: [snd_una, snd_una + sndbuf.len) are unacked or
	 * unsent data; the FIN (if queued) follows them. */
	struct xm_tcp_ring sndbuf;
	uint32_t sndbuf_max;

	/* receive sequence variables */
	uint32_t irs, rcv_nxt, rcv_adv;  /* rcv_adv: right edge advertised */
	uint32_t last_ack_sent;
	struct xm_tcp_ring rcvbuf;       /* in-order data, then OOO space */
	uint32_t rcvbuf_max;             /* SO_RCVBUF: auto-tuning ceiling */
	struct xm_tcp_range *ooo;        /* by start; ooo_cap of them */
	uint16_t nooo, ooo_cap;
	uint32_t ooo_clock;              /* orders ranges by recency for SACK */
	bool fin_rcvd;
	uint32_t fin_seq;                /* peer's FIN sequence when ooo */
	bool fin_ooo;
	/* auto-tuning (as Linux tcp_rcv_space_adjust) */
	uint32_t rcv_space, rcv_space_seq;
	uint64_t rcv_space_time;

	/* timestamps, RFC 7323 */
	uint32_t ts_recent;
	uint64_t ts_recent_time;
	uint32_t ts_offset;

	/* RTT, RTO, congestion control, loss recovery */
	struct xm_rto rto;
	bool rtt_timing;
	uint32_t rtt_seq;
	uint64_t rtt_time;
	struct xm_cc cc;
	struct xm_sack_sb sb;
	bool in_recovery;
	uint32_t recover;                /* RFC 6582 recovery point, as snd_max */
	uint32_t dupacks;
	uint32_t rtx_count;              /* consecutive timeouts */
	uint32_t rtx_next;               /* NewReno: next seq to retransmit */
	bool rto_recovery;               /* after RTO: go-back-N to snd_max */
	uint32_t rto_tsval;              /* our TSval when the last RTO fired */
	bool rto_seen;
	/* RACK-TLP, PRR and undo: tcp_recovery.c */
	struct xm_rack rack;
	struct xm_prr prr;
	struct xm_timer t_loss;          /* RACK reordering timer or TLP PTO */
	bool loss_timer_tlp;             /* t_loss is the PTO */
	bool tlp_on, tlp_retrans, tlp_force;
	uint32_t tlp_end_seq;            /* RFC 8985 TLP.end_seq */
	bool undo_on, undone;
	bool frto;                       /* RFC 5682: is this timeout spurious? */
	bool frto_new;                   /* RFC 5682 2.b: new data, not resends */
	bool frto_probed;                /* 2.b done for this timeout */
	uint32_t undo_marker, undo_retrans;
	/* RFC 3522 RetransmitTS (Linux retrans_stamp): our TSval of the
	 * episode's first retransmission, once there was one */
	bool undo_ts_on;
	uint32_t undo_tsval;
	uint32_t prior_cwnd, prior_ssthresh;
	/* segments the peer's D-SACKs reported duplicate, over the
	 * connection (Linux dsack_dups), against info.total_retrans */
	uint32_t dsack_dups;
	/* receiver: a D-SACK block for the next ACK (RFC 2883 4) */
	bool dsack_pending;
	uint32_t dsack_start, dsack_end;

	/* timers */
	struct xm_timer t_rtx;           /* RTO, persist, SYN, TIME-WAIT */
	struct xm_timer t_dack;
	struct xm_timer t_keep;
	struct xm_timer t_txwait;        /* tx frames out: send again soon */
	bool persist;
	bool sws_override;               /* persist timeout: send a small segment */
	uint32_t persist_backoff;
	uint32_t txwait_backoff;         /* t_txwait found no frame this often */
	uint8_t dack_segs;
	bool ack_now;
	bool quickack;

	/* options */
	uint8_t tos, hop_limit;          /* IP_TOS / IP_TTL of the socket */
	bool nodelay;
	bool keepalive;
	uint32_t keep_idle_s, keep_intvl_s, keep_cnt;
	uint32_t keep_probes;
	uint64_t last_rcv_time;

	/* counts for TCP_INFO (tcp_info.c); times on the stack clock, us */
	struct {
		uint32_t segs_in, segs_out, data_segs_in, data_segs_out;
		uint32_t total_retrans;
		uint32_t rcv_mss;        /* largest payload received */
		uint64_t bytes_sent, bytes_retrans;
		uint64_t last_data_sent, last_data_recv;
	} info;

	int error;                       /* pending error for the socket */
	bool orphan;                     /* the application closed it */
	uint64_t challenge_time;
	uint32_t challenge_count;

	/* listener */
	int backlog;
	uint32_t syn_q_len, acc_q_len;
	struct xm_tcp_conn *acc_head, *acc_tail;
	struct xm_tcp_conn *syn_head;
	uint64_t last_cookie_us;         /* when we last sent a SYN cookie */
	bool cookie_sent;
};

struct xm_tcp_stats {
	uint64_t active_opens, passive_opens;
	uint64_t segs_in, segs_out, retrans_segs, bad_csum, malformed, bad_flags;
	uint64_t tso_sends, tso_segs;
	uint64_t rst_in, rst_out, rst_ignored, challenge_acks, paws_drops;
	uint64_t ooo_segs, syncookies_sent, syncookies_ok, syncookies_bad;
	uint64_t listen_drops, mem_drops, timeouts;
	uint64_t rto_fires, fast_recoveries, persist_probes;
	uint64_t rack_losses, tlp_probes, tlp_recoveries;
	uint64_t dsacks_in, dsacks_out, dsack_undos, frto_undos, eifel_undos;
	uint64_t dsacks_dubious;
};

struct xm_tcp_stack {
	struct xm_tcp_conn **hash;
	uint32_t hmask;
	struct xm_tcp_conn *listeners;
	uint16_t *port_refs;             /* sockets/connections per local port */
	uint8_t *port_hooked;            /* bit per port: we bound it */
	uint16_t next_ephemeral;
	uint8_t isn_key[XM_SIPHASH_KEY_LEN];
	/* Tests only (sequence wrap): when set, every ISN is isn_fixed. */
	bool isn_fixed_on;
	uint32_t isn_fixed;
	struct xm_syncookie_key cookie_key;
	uint64_t mem;                    /* bytes of buffers allocated */
	uint64_t mem_peak;
	uint64_t mem_max;
	uint32_t nconns;
	struct xm_tcp_stats stats;
	uint8_t scratch[65536];          /* contiguous copy of a wrapped payload */
};

/* ---- tcp_conn.c: table, lifetime, ports, buffers ---- */
struct xm_tcp_stack *xm_tcp_stack_get(struct xm_stack *st);
void xm_tcp_fini(struct xm_stack *st);
struct xm_tcp_conn *xm_tcp_conn_new(struct xm_stack *st, int family);
/* Free the connection when it is closed and nobody holds it. */
void xm_tcp_conn_free(struct xm_tcp_conn *c);
int xm_tcp_conn_hash(struct xm_tcp_conn *c);
void xm_tcp_conn_unhash(struct xm_tcp_conn *c);
struct xm_tcp_conn *xm_tcp_lookup(struct xm_tcp_stack *ts, int family,
				  const uint8_t *laddr, uint16_t lport,
				  const uint8_t *raddr, uint16_t rport);
/* The listener for a connection request to laddr:lport; hash
 * (xm_flow_hash of the request) chooses within an SO_REUSEPORT group. */
struct xm_tcp_conn *xm_tcp_lookup_listener(struct xm_tcp_stack *ts, int family,
					   const uint8_t *laddr, uint16_t lport,
					   uint32_t hash);
int xm_tcp_port_get(struct xm_tcp_conn *c, uint16_t port);
void xm_tcp_port_put(struct xm_tcp_conn *c);
int xm_tcp_port_pick(struct xm_tcp_conn *c, const uint8_t *raddr, uint16_t rport,
		     uint16_t *out);
/* Enter CLOSED: cancel timers, unhash, wake the socket with err (0 none),
 * free if orphaned. Returns true when c was freed. */
bool xm_tcp_set_closed(struct xm_tcp_conn *c, int err);
void xm_tcp_set_state(struct xm_tcp_conn *c, enum xm_tcp_state s);
uint32_t xm_tcp_isn_for(struct xm_tcp_conn *c);
uint64_t xm_tcp_now_us(const struct xm_tcp_conn *c);
uint32_t xm_tcp_tsval(const struct xm_tcp_conn *c);
/* The MSS we send at, from the link's (send) MTU (RFC 9293 3.7.1, RFC 879). */
uint16_t xm_tcp_mss_for_mtu(const struct xm_stack *st, int family);
/* The MSS we announce: what we can receive, which may be more. */
uint16_t xm_tcp_rcv_mss(const struct xm_stack *st, int family);
/* Receive ring (initial size) and, unless rcv_only, the send ring. */
int xm_tcp_buffers_alloc(struct xm_tcp_conn *c, bool rcv_only);
void xm_tcp_buffers_release(struct xm_tcp_conn *c);

/* rings */
uint32_t xm_tcp_ring_write(struct xm_tcp_ring *r, uint32_t off,
			   const uint8_t *p, uint32_t n);
uint32_t xm_tcp_ring_read(const struct xm_tcp_ring *r, uint32_t off,
			  uint8_t *p, uint32_t n);
/* Up to n bytes of file fd at foff into the ring at off, straight from
 * the page cache (a file sent needs no buffer of the application's):
 * the bytes read (0 at the file's end), or -errno. */
ssize_t xm_tcp_ring_pread(struct xm_tcp_ring *r, uint32_t off, int fd,
			  off_t foff, uint32_t n);
void xm_tcp_ring_consume(struct xm_tcp_ring *r, uint32_t n);
int xm_tcp_ring_grow(struct xm_tcp_stack *ts, struct xm_tcp_ring *r,
		     uint32_t cap);
/* The stack's TCP memory (rings, out-of-order ranges) against its bound:
 * whether add more bytes fit, and taking them (the peak follows). */
bool xm_tcp_mem_fits(const struct xm_tcp_stack *ts, uint64_t add);
void xm_tcp_mem_charge(struct xm_tcp_stack *ts, uint64_t add);

/* ---- tcp_info.c ---- */
/* TCP_INFO: struct tcp_info of c, truncated to *len as Linux does. */
int xm_tcp_info_get(const struct xm_tcp_conn *c, void *val, socklen_t *len);
/* SIOCINQ, SIOCOUTQ, SIOCOUTQNSD of c into *out; -EINVAL listening,
 * -ENOTTY for another request. */
int xm_tcp_queue_size(const struct xm_tcp_conn *c, unsigned long req, int *out);

/* ---- tcp_output.c ---- */
/* The state lets data (and a FIN) out: ESTABLISHED, CLOSE-WAIT, and the
 * closing states until our FIN is acknowledged. */
bool xm_tcp_sends_data(const struct xm_tcp_conn *c);
/* Send what the windows allow (data, FIN), or an ACK if one is due. */
void xm_tcp_output(struct xm_tcp_conn *c);
void xm_tcp_send_ack(struct xm_tcp_conn *c);
/* SYN or SYN-ACK (by state). */
void xm_tcp_send_syn(struct xm_tcp_conn *c);
/* Retransmit one segment starting at seq, at most maxlen bytes (fast
 * retransmit, recovery). Returns the payload bytes sent, which options may
 * make fewer than maxlen (0: nothing to send), or -errno. */
int xm_tcp_retransmit(struct xm_tcp_conn *c, uint32_t seq, uint32_t maxlen);
/* A bare control segment not tied to a connection (RST replies). */
void xm_tcp_send_reset(struct xm_stack *st, const struct xm_ipinfo *ip,
		       uint16_t sport, uint16_t dport, uint32_t seq,
		       uint32_t ack, uint8_t flags);
void xm_tcp_send_rst_conn(struct xm_tcp_conn *c);
void xm_tcp_send_probe(struct xm_tcp_conn *c);   /* zero window / keepalive */
uint32_t xm_tcp_rcv_window(const struct xm_tcp_conn *c);
/* Bytes of the peer's window left and inflight. */
uint32_t xm_tcp_inflight(const struct xm_tcp_conn *c);

/* ---- tcp_timer.c ---- */
void xm_tcp_timers_init(struct xm_tcp_conn *c);
void xm_tcp_timers_stop(struct xm_tcp_conn *c);
void xm_tcp_rtx_arm(struct xm_tcp_conn *c);
void xm_tcp_rtx_restart(struct xm_tcp_conn *c);
void xm_tcp_dack_arm(struct xm_tcp_conn *c);
void xm_tcp_keep_arm(struct xm_tcp_conn *c);
void xm_tcp_timewait_arm(struct xm_tcp_conn *c);
void xm_tcp_persist_arm(struct xm_tcp_conn *c);
/* A send failed for want of tx frames while the link has frames in
 * flight: try again when they may have come back, XM_TX_RETRY_NS after
 * the first failure, twice as long after each retry that found none, up
 * to XM_TX_RETRY_NS << XM_TCP_TXWAIT_BACKOFF_MAX. */
#define XM_TCP_TXWAIT_BACKOFF_MAX 5
void xm_tcp_txwait_arm(struct xm_tcp_conn *c);
void xm_tcp_finwait2_arm(struct xm_tcp_conn *c);

/* ---- tcp_reass.c ---- */
/* Queue segment text (already trimmed to the window, seq >= rcv_nxt).
 * Returns true when the ACK should go out now. */
bool xm_tcp_data_in(struct xm_tcp_conn *c, uint32_t seq, const uint8_t *p,
		    uint32_t len);
/* RFC 2883 4: report [s, e), received twice, first in the next ACK. */
void xm_tcp_dsack_note(struct xm_tcp_conn *c, uint32_t s, uint32_t e);
void xm_tcp_ooo_free(struct xm_tcp_conn *c);

/* ---- tcp_input.c ---- */
void xm_tcp_input(struct xm_stack *st, const struct xm_ipinfo *ip,
		  const uint8_t *l4, uint32_t len);

/* A parsed, checksum-verified segment. */
struct xm_tcp_seg {
	uint32_t seq, ack, len;          /* len: payload bytes (no SYN/FIN) */
	uint32_t wnd;                    /* raw 16-bit window */
	uint16_t sport, dport;
	uint8_t flags;
	bool opts_ok;
	struct xm_tcp_opts opts;
	const uint8_t *data;
};

void xm_tcp_conn_input(struct xm_tcp_conn *c, const struct xm_ipinfo *ip,
		       struct xm_tcp_seg *seg);

/* RFC 6675 / RFC 8985 fast recovery starts (unless the ACK covers no more
 * than recover: RFC 6582 3.2 (2)). */
void xm_tcp_enter_recovery(struct xm_tcp_conn *c);

/* ---- tcp_recovery.c: RACK-TLP, PRR, DSACK undo ---- */
bool xm_tcp_rack_on(const struct xm_tcp_conn *c);
void xm_tcp_loss_timer_init(struct xm_tcp_conn *c);
/* Every ACK of a SACK connection, after snd_una and the scoreboard moved:
 * @acked bytes cumulatively, @delivered bytes in all (RFC 6937). */
void xm_tcp_recovery_ack(struct xm_tcp_conn *c, const struct xm_tcp_seg *seg,
			 uint32_t acked, uint32_t delivered);
/* A D-SACK (RFC 2883) in seg: count it, widen RACK's reordering window,
 * count it toward undo; whether there was one. Also for an ACK below
 * SND.UNA, which a reordering path delivers late. */
bool xm_tcp_dsack_in(struct xm_tcp_conn *c, const struct xm_tcp_seg *seg);
void xm_tcp_recovery_start(struct xm_tcp_conn *c);
void xm_tcp_recovery_end(struct xm_tcp_conn *c, uint64_t now);
void xm_tcp_recovery_rto(struct xm_tcp_conn *c);
void xm_tcp_undo_init(struct xm_tcp_conn *c);
/* An ACK advanced snd_una to @seg->ack, before the recovery it may end
 * ends: undo a timeout's recovery, or a fast recovery at its full ACK,
 * that the ACK's timestamp shows spurious (RFC 3522). */
void xm_tcp_eifel_ack(struct xm_tcp_conn *c, const struct xm_tcp_seg *seg);
/* A data segment [seq, seq + len) went out. */
void xm_tcp_recovery_sent(struct xm_tcp_conn *c, uint32_t seq, uint32_t len);
/* Retransmit what RACK marked lost while cwnd allows. */
void xm_tcp_recovery_send(struct xm_tcp_conn *c);
void xm_tcp_tlp_schedule(struct xm_tcp_conn *c);

/* ---- tcp_listen.c ---- */
void xm_tcp_listen_input(struct xm_tcp_conn *l, const struct xm_ipinfo *ip,
			 const struct xm_tcp_seg *seg);
/* A connection of l's SYN queue became ESTABLISHED: move it to the
 * accept queue. */
/* Returns false when c could not get its send buffer: it was reset and
 * freed. */
bool xm_tcp_listen_established(struct xm_tcp_conn *c);
void xm_tcp_listen_unlink(struct xm_tcp_conn *c);
void xm_tcp_listen_close(struct xm_tcp_conn *l);
/* A handshake RTT sample (RFC 6298 2.2) when the SYN or SYN-ACK was not
 * retransmitted (Karn). */
void xm_tcp_handshake_rtt(struct xm_tcp_conn *c);
/* Set up c's options, windows and MSS from a received SYN. */
void xm_tcp_syn_options(struct xm_tcp_conn *c, const struct xm_tcp_seg *seg);

#endif /* XM_TCP_TCB_H */
