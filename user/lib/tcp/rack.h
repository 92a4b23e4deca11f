/* SPDX-License-Identifier: MIT */
/*
 * RACK (RFC 8985): time-based loss detection over a per-segment record of
 * what was sent, when, and what became of it.
 *
 * Every data segment sent is one record [start, end) in sequence order,
 * with its last transmission time and three flags: SACKED (delivered out
 * of order), LOST (RACK, or the RTO, declared it lost) and RETRANS (a
 * retransmission of it is in flight). A segment whose retransmission RACK
 * finds lost again loses RETRANS and keeps LOST: it is due again, which
 * is how a lost retransmission is repaired without waiting for the RTO.
 *
 * The records also give the pipe (RFC 6675 SetPipe in bytes: each unSACKED
 * byte counts once unless lost, once more if retransmitted) in O(1), kept
 * by counters updated with every flag change.
 *
 * When the records cannot be kept (allocation failure, more segments in
 * flight than XM_RACK_SEGS_MAX), ok turns false for the connection and
 * the caller falls back to RFC 6675 loss detection.
 */
#ifndef XM_TCP_RACK_H
#define XM_TCP_RACK_H

#include <stdbool.h>
#include <stdint.h>

#include "minmax.h"
#include "options.h"

#define XM_RACK_SACKED   0x01u
#define XM_RACK_LOST     0x02u
#define XM_RACK_RETRANS  0x04u
#define XM_RACK_EVER_RTX 0x08u          /* sent more than once, ever */
/* RACK's time rule marked it lost: the rule does not look at it again
 * until it is resent, also when an undo clears LOST (Linux takes it off
 * tsorted_sent_queue). An undo that proved the episode reordering trusts
 * it to arrive; if it does not, the RTO resends it. */
#define XM_RACK_TIMED_OUT 0x10u

#define XM_RACK_SEGS_MAX (1u << 17)
#define XM_RACK_DUPTHRESH 3u            /* RFC 8985 6.2 step 4 DupThresh */
#define XM_RACK_REO_PERSIST 16u         /* RFC 8985 6.2 step 4 */
/* RACK.min_RTT is the minimum over this window, not of all time: a path
 * whose RTT grew (a new route, a standing queue) gets a reordering window
 * for its RTT of now (Linux sysctl tcp_min_rtt_wlen, 300 s). */
#define XM_RACK_MIN_RTT_WIN_US (300ull * 1000000)

struct xm_rack_seg {
	uint32_t start, end;
	uint64_t xmit_us;                /* last (re)transmission */
	uint32_t order;                  /* send counter at that time */
	uint8_t flags;
};

struct xm_rack {
	struct xm_rack_seg *q;           /* q[head .. head + n) */
	uint32_t cap, head, n;
	bool ok;
	uint32_t una, end;               /* [una, end): the recorded range */
	/* counters over unSACKED records, for the pipe and the scans */
	uint32_t nsacked, nretrans;
	uint32_t sacked_bytes, lost_bytes, rtx_bytes;
	bool lost_pending;               /* some record LOST, not RETRANS */
	uint32_t lost_low;               /* none of them starts below this */

	/* RFC 8985 6.1 state */
	uint64_t xmit_us;                /* RACK.xmit_ts */
	uint32_t end_seq;                /* RACK.end_seq */
	uint32_t xmit_order;             /* its send counter */
	uint32_t sends;                  /* send counter */
	uint32_t rtt_us;                 /* RACK.rtt */
	uint32_t min_rtt_us;             /* RACK.min_RTT (0: none yet) */
	struct xm_minmax min_rtt;        /* its windowed filter */
	uint32_t fack;                   /* RACK.fack */
	bool delivered_any;
	bool orig_delivered;             /* the last ACK delivered a segment
					  * never retransmitted (F-RTO) */
	uint32_t orig_end;               /* the lowest end of those */
	/* RFC 8985 6.2 reordering window */
	bool reordering_seen;
	uint32_t reo_wnd_mult, reo_wnd_persist;
	bool dsack_round_on;
	uint32_t dsack_round;
};

/* Start empty at snd_una; records are allocated on first use. */
void xm_rack_init(struct xm_rack *r, uint32_t una);
void xm_rack_free(struct xm_rack *r);

/* A data segment [start, end) went out at now: new data extends the
 * records, a retransmission marks (splitting at its edges) the records it
 * covers RETRANS with the new time. */
void xm_rack_on_send(struct xm_rack *r, uint32_t start, uint32_t end,
		     uint64_t now_us);

/* RFC 8985 6.1 steps 1-3 for one ACK: drop what una acknowledges, mark
 * what the SACK blocks cover, and advance RACK.xmit_ts, RACK.rtt,
 * RACK.fack and reordering_seen from every segment newly delivered. */
void xm_rack_on_ack(struct xm_rack *r, uint32_t una,
		    const struct xm_tcp_sack_block *blk, unsigned nblk,
		    uint64_t now_us);

/* An RTT sample of a segment never retransmitted (the handshake's too):
 * RACK.min_RTT becomes the minimum over XM_RACK_MIN_RTT_WIN_US. */
void xm_rack_rtt_sample(struct xm_rack *r, uint32_t rtt_us, uint64_t now_us);
/* RFC 8985 6.2 step 4: RACK.reo_wnd in microseconds. */
uint32_t xm_rack_reo_wnd(const struct xm_rack *r, bool in_recovery,
			 uint32_t srtt_us, uint32_t mss);
/* RFC 8985 6.2 step 4 adaptation: a DSACK arrived (snd_una, snd_nxt now). */
void xm_rack_dsack(struct xm_rack *r, uint32_t snd_una, uint32_t snd_nxt);
/* RFC 8985 6.2 step 4: fast or RTO recovery ended; undone: all of its
 * retransmissions were shown spurious (it does not count toward the 16). */
void xm_rack_recovery_end(struct xm_rack *r, uint32_t snd_una, bool undone);

/* RFC 8985 6.2 step 5: mark LOST every record sent before RACK.xmit_ts
 * whose time (plus RACK.rtt and reo_wnd) has passed. Returns how many were
 * newly marked; *wait_us (0: none) is when the next one may expire (the
 * reordering timer, 6.3). */
uint32_t xm_rack_detect(struct xm_rack *r, uint64_t now_us, uint32_t reo_wnd_us,
			uint64_t *wait_us);

/* RTO (RFC 8985 6.3, as Linux tcp_enter_loss): everything not SACKED is
 * lost, no retransmission of it is in flight. */
void xm_rack_mark_all_lost(struct xm_rack *r);

/* RFC 5681 3.2 fast retransmit when duplicate ACKs carry no SACK blocks
 * (a peer that negotiated SACK and does not send them): the first record
 * is lost. */
void xm_rack_mark_first_lost(struct xm_rack *r);

/* A spurious timeout undone: nothing is lost until RACK says so. */
void xm_rack_unmark_lost(struct xm_rack *r);

/* The first record below @limit that is LOST and due (not RETRANS, not
 * SACKED): *seq, *len. False when none. */
bool xm_rack_next_lost(struct xm_rack *r, uint32_t limit, uint32_t *seq,
		       uint32_t *len);

/* Bytes in flight (RFC 6675 SetPipe over the records). */
uint32_t xm_rack_pipe(const struct xm_rack *r);

/* The last record, for a tail loss probe; false if none. */
bool xm_rack_last(const struct xm_rack *r, uint32_t *seq, uint32_t *len);

#endif /* XM_TCP_RACK_H */
