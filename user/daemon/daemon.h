/* SPDX-License-Identifier: MIT */
/*
 * xdpmuxd: the device daemon. It owns each rx queue's UMEM, fill ring and
 * completion ring (pool.c), creates an AF_XDP socket per (program, queue)
 * bound to that UMEM and hands it over (client.c), and answers the
 * programs' requests within its port policy (rpc.c). The protocol and the
 * reasons for it are in user/lib/daemon/proto.h.
 */
#ifndef XMD_DAEMON_H
#define XMD_DAEMON_H

#include <net/if.h>
#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>
#include <xdp/xsk.h>

#include <xdpmux/control.h>

#include "../lib/daemon/proto.h"
#include "../lib/link/xsk_map.h"

struct xm_policy;
struct xm_nl;

/* Where a frame of a pool is, as far as the daemon knows. */
enum xmd_fstate {
	XMD_F_FREE = 0,   /* the daemon's free stack */
	XMD_F_FILL,       /* posted to the fill ring: there, in the kernel, in
			   * some program's rx ring, or held by it (its mark) */
	XMD_F_LOAN,       /* lent to owner[] for transmission */
	XMD_F_QUAR,       /* a dead program's tx frame the device may still
			   * complete: freed on completion or at quar_until */
	XMD_F_MAX,
};

/* Frames of a dead program that may still be in the device wait this long
 * for their completion before they are free again. */
#define XMD_QUARANTINE_NS 500000000ull

struct xmd_pool {
	uint32_t queue_id;
	uint32_t frames;
	uint32_t frame_size;
	int area_fd;              /* memfd of the UMEM area, handed out */
	uint8_t *area;
	uint64_t area_size;
	int xsk_fd;               /* the UMEM's own socket: fill + completion */
	struct xsk_ring_prod fill;
	struct xsk_ring_cons comp;
	struct xm_xsk_mapping fill_m, comp_m;
	uint8_t *state;           /* enum xmd_fstate */
	uint8_t *owner;           /* owner slot, for LOAN and QUAR */
	uint64_t *quar_until;
	uint32_t *free;           /* stack of free frame indices */
	uint32_t n_free;
	uint64_t count[XMD_F_MAX];
	uint64_t bad_returns;
	uint64_t reclaimed;
	uint64_t next_quar;       /* earliest quar_until; UINT64_MAX: none */
};

struct xmd_client_q {
	int xsk_fd;
	int chan_fd;
	uint8_t *chan;
	uint64_t chan_size;
	struct xmd_chan_hdr *hdr;
	struct xsk_ring_prod give;
	struct xsk_ring_cons ret;
	uint8_t *mark;
	/* Views of the program's own rings, read when it dies. */
	struct xsk_ring_cons rx_view;
	struct xsk_ring_prod tx_view;
	struct xm_xsk_mapping rx_m, tx_m;
	uint32_t loan;            /* frames in state LOAN for this client */
	bool in_map;
};

struct xmd_client {
	uint32_t slot;
	int sock;
	int pidfd;
	int doorbell;             /* eventfd: the program wakes us */
	pid_t pid;
	uid_t uid;
	gid_t gid;
	char comm[16];
	bool ready;               /* HELLO answered, sockets handed over */
	struct xmd_client_q *q;   /* one per pool */
	uint32_t bindings;
};

struct xmd {
	char dev[IF_NAMESIZE];
	int ifindex;
	struct xm_ctl *ctl;
	struct xm_nl *nl;
	struct xm_policy *policy;
	bool attached_by_us;
	bool zerocopy;
	bool multibuf;            /* the UMEM sockets use XDP_USE_SG */
	bool verbose;
	enum xm_attach_mode mode;
	uint32_t frames;
	char sock_path[108];
	int listen_fd;
	int epfd;
	int sigfd;
	uint32_t n_pools;
	struct xmd_pool *pools;
	struct xmd_client *clients[XM_MAX_OWNERS];  /* by slot; 0 unused */
	uint32_t n_clients;
};

/* Logging: one line on stderr, prefixed "xdpmuxd DEV: ". */
void xmd_log(const struct xmd *d, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

uint64_t xmd_now_ns(void);

/* pool.c */
int xmd_pool_open(struct xmd *d, struct xmd_pool *p, uint32_t queue_id);
void xmd_pool_close(struct xmd_pool *p);
/* Completions, returns, fill ring, loans, quarantine: everything the pool
 * owes its programs. Returns how many frames came back (completed or
 * returned). */
uint32_t xmd_pool_service(struct xmd *d, uint32_t pi);
/* Take back everything client c held in pool pi (c's socket is closed). */
void xmd_pool_reclaim(struct xmd *d, uint32_t pi, struct xmd_client *c);
/* Frames the pool could still promise a new program. */
bool xmd_pool_has_room(const struct xmd *d, const struct xmd_pool *p);
/* Frames client c holds in pool pi: lent + received and not returned. */
uint64_t xmd_client_frames(const struct xmd_pool *p, const struct xmd_client_q *q);
void xmd_pool_accounting(const struct xmd *d, const struct xmd_pool *p,
			 struct xmd_status_reply *r);

/* client.c */
int xmd_client_accept(struct xmd *d);
/* A message (or EOF, or the pidfd) from the client in slot; false: gone. */
void xmd_client_event(struct xmd *d, uint32_t slot, uint32_t what, uint32_t events);
void xmd_client_drop(struct xmd *d, struct xmd_client *c, const char *why);

/* rpc.c: answer one request of a ready client (or STATUS from anyone). */
int xmd_rpc(struct xmd *d, struct xmd_client *c, const void *msg, size_t len);

/* epoll data: what an event is about */
enum xmd_ev {
	XMD_EV_LISTEN = 1,
	XMD_EV_SIGNAL,
	XMD_EV_CONN,      /* | slot << 8 */
	XMD_EV_PIDFD,
	XMD_EV_DOORBELL,
};

#endif /* XMD_DAEMON_H */
