/* SPDX-License-Identifier: MIT */
/*
 * The device daemon's protocol (xdpmuxd <-> libxdpmux), one definition for
 * both ends.
 *
 * Why a daemon: AF_XDP allows one UMEM pool, with one fill ring and one
 * completion ring, per (device, queue), and every socket on that queue must
 * share it. So one process, xdpmuxd, owns each queue's UMEM and those two
 * rings; each program gets its own AF_XDP socket per queue (created by the
 * daemon, which has the capabilities, and passed over SCM_RIGHTS) bound to
 * the shared UMEM, and an owner slot that its bindings name, so the XDP
 * program redirects each binding's packets into its owner's socket.
 *
 * Control: a SOCK_SEQPACKET Unix socket, one request and one reply per
 * message. Setup: HELLO (reply, then one QUEUE message per rx queue with
 * the unbound socket and the memfds), the program maps the rings, MAPPED
 * (the daemon binds the sockets and puts them in the xsks map; reply). Frames: per (program, queue) a shared "channel" (a memfd both map)
 * with two single-producer rings of UMEM addresses and a mark per frame:
 *
 *   give (daemon -> program): frames lent to the program for transmission
 *        (XMD_TX_LOAN, more while it asks and the pool can), and those
 *        frames again each time the device has completed them;
 *   ret  (program -> daemon): received frames the program is done with;
 *   mark[frame]: what the program holds, for the daemon to reclaim exactly
 *        if the program dies (XMD_MARK_*).
 *
 * The daemon sleeps in epoll; a program that has given it work (frames in
 * ret, or it runs short of tx frames) wakes it through an eventfd, but only
 * when the daemon has said it sleeps (need_wakeup in the channel), as the
 * kernel's own AF_XDP rings do.
 */
#ifndef XM_DAEMON_PROTO_H
#define XM_DAEMON_PROTO_H

#include <stdint.h>

#define XMD_SOCK_DIR      "/run/xdpmux"
#define XMD_PROTO_VERSION 1
#define XMD_MAGIC         0x786d6463u   /* "xmdc" */
#define XMD_MSG_MAX       4096
#define XMD_ERRMSG        160

/* Per (program, queue): ring sizes the daemon creates (powers of two). */
#define XMD_RX_RING       1024   /* the program's XSK rx ring */
#define XMD_TX_LOAN       512    /* tx frames lent to a program per queue */
/* A program that runs out of tx frames with all of them in flight asks for
 * more (tx_want), up to this, while the pool has frames to spare: a frame
 * sent on a veth comes back only when the receiver frees its skb, and a
 * receiver holding a window of segments out of order waits for the one
 * retransmission that needs a frame. */
#define XMD_TX_LOAN_MAX   4096
#define XMD_TX_RING       XMD_TX_LOAN_MAX   /* the program's XSK tx ring */
#define XMD_FILL_RING     4096   /* the queue's fill ring (daemon) */

enum xmd_op {
	XMD_HELLO = 1,     /* program -> daemon: who I am; reply + fds */
	XMD_BIND,          /* bind a port for the program's owner slot */
	XMD_UNBIND,
	XMD_NEIGH_USE,     /* ask the kernel to resolve a neighbour (needs
			    * CAP_NET_ADMIN, which programs do not have) */
	XMD_STATUS,        /* the daemon's clients and frame accounting */
	XMD_QUEUE,         /* daemon -> program: one queue's fds (after HELLO) */
	XMD_MAPPED,        /* program -> daemon: rings mapped, bind the sockets
			    * (Linux before 6.x maps a socket's rings only
			    * before it is bound); reply when they serve */
};

struct xmd_hdr {
	uint32_t op;
	int32_t err;       /* replies: 0 or -errno */
};

struct xmd_hello {
	struct xmd_hdr h;
	uint32_t version;
	uint32_t pad;
	char comm[16];
};

struct xmd_hello_reply {
	struct xmd_hdr h;
	char msg[XMD_ERRMSG];  /* why, when err != 0 */
	uint32_t version;
	uint32_t owner_slot;
	uint32_t n_queues;     /* XMD_QUEUE messages that follow */
	uint32_t frame_size;
	uint32_t frames;       /* UMEM frames per queue */
	uint32_t zerocopy;
	uint32_t multibuf;     /* bound with XDP_USE_SG: packets larger than
				* a frame come as descriptor chains */
	uint32_t pad;
};

/* Followed by SCM_RIGHTS: [xsk fd, umem memfd, channel memfd, doorbell
 * eventfd (the same one in every queue message)]. */
struct xmd_queue {
	struct xmd_hdr h;
	uint32_t queue_id;
	uint32_t rx_size;
	uint32_t tx_size;
	uint32_t give_size;
	uint32_t ret_size;
	uint32_t pad;
	uint64_t umem_size;
	uint64_t chan_size;
};

struct xmd_bind {
	struct xmd_hdr h;
	uint8_t proto;       /* IPPROTO_UDP / IPPROTO_TCP */
	uint8_t fallback;    /* enum xm_fallback */
	uint16_t port;       /* host order */
	char msg[XMD_ERRMSG];/* reply: why, when err != 0 */
};

struct xmd_neigh {
	struct xmd_hdr h;
	uint32_t family;
	uint8_t addr[16];
};

#define XMD_STATUS_MAX_CLIENTS 64
struct xmd_status_client {
	uint32_t pid;
	uint32_t uid;
	uint32_t owner_slot;
	uint32_t sockets;         /* AF_XDP sockets (one per queue) */
	uint64_t frames_held;     /* rx frames it holds + tx frames lent */
	uint32_t bindings;
	uint32_t tx_queued;       /* in its tx rings, not yet read by the kernel */
	uint32_t give_pending;    /* lent or completed, not yet taken */
	char comm[16];
};

struct xmd_status_reply {
	struct xmd_hdr h;
	uint32_t pid;             /* the daemon's */
	uint32_t n_queues;
	uint32_t frames;          /* per queue */
	uint32_t n_clients;
	/* Frames of every queue, summed (see xmd_pool_accounting). */
	uint64_t free, fill_ring, kernel, client_rx, client_tx, quarantine;
	uint64_t bad_returns;     /* frames a program handed back wrongly */
	uint64_t reclaimed;       /* frames taken back from dead programs */
	struct xmd_status_client c[XMD_STATUS_MAX_CLIENTS];
};

/* ---- the channel (shared memory) ---- */

/* A ring of UMEM addresses in shared memory, laid out so that the
 * xsk_ring_prod / xsk_ring_cons helpers of <xdp/xsk.h> drive it as they
 * drive the kernel's rings: producer and consumer on their own cache
 * lines. */
struct xmd_ring_hdr {
	uint32_t producer;
	uint8_t pad1[60];
	uint32_t consumer;
	uint8_t pad2[60];
	uint32_t flags;           /* unused: need_wakeup is in the channel */
	uint8_t pad3[60];
};

enum xmd_mark {
	XMD_MARK_NONE = 0,
	XMD_MARK_RX = 1,      /* a received frame the program holds (set by
			       * the program, cleared by the daemon on ret) */
	XMD_MARK_TX_FREE = 2, /* a lent tx frame, idle in the program */
	XMD_MARK_TX_SUB = 3,  /* a lent tx frame submitted (tx ring, device) */
};

struct xmd_chan_hdr {
	uint32_t magic;
	uint32_t frames;          /* marks that follow the rings */
	uint32_t give_size;
	uint32_t ret_size;
	/* Set by the daemon before it sleeps, cleared when it wakes: a
	 * program that gives it work meanwhile writes the doorbell. */
	uint32_t need_wakeup;
	/* Set by the program: the tx frames it would have lent, between
	 * XMD_TX_LOAN and XMD_TX_LOAN_MAX. */
	uint32_t tx_want;
	uint8_t pad[40];
};

/* Offsets inside the channel memfd. */
static inline uint64_t xmd_chan_give_off(void)
{
	return sizeof(struct xmd_chan_hdr);
}

static inline uint64_t xmd_chan_ret_off(uint32_t give_size)
{
	return xmd_chan_give_off() + sizeof(struct xmd_ring_hdr) +
	       (uint64_t)give_size * 8;
}

static inline uint64_t xmd_chan_mark_off(uint32_t give_size, uint32_t ret_size)
{
	return xmd_chan_ret_off(give_size) + sizeof(struct xmd_ring_hdr) +
	       (uint64_t)ret_size * 8;
}

static inline uint64_t xmd_chan_size(uint32_t give_size, uint32_t ret_size,
				     uint32_t frames)
{
	return (xmd_chan_mark_off(give_size, ret_size) + frames + 4095) &
	       ~(uint64_t)4095;
}

#endif /* XM_DAEMON_PROTO_H */
