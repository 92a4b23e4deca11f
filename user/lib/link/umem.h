/* SPDX-License-Identifier: MIT */
/*
 * One AF_XDP socket on one rx queue, with its own UMEM, and the bookkeeping
 * that proves no frame leaks: every UMEM frame is in exactly one state at
 * all times, and every transition is checked against the frame's current
 * state, so a frame the kernel or the stack hands back twice is caught and
 * counted instead of silently corrupting the pools.
 *
 * The UMEM is split in two pools: rx frames circulate free -> fill ring ->
 * rx ring -> held by the stack -> free; tx frames circulate free -> lent to
 * the stack -> tx ring -> completion ring -> free. Ring sizes are at least
 * the pool sizes, so a reserve on the fill, tx or completion ring for frames
 * we own can never fail.
 */
#ifndef XM_LINK_UMEM_H
#define XM_LINK_UMEM_H

#include <stdbool.h>
#include <stdint.h>
#include <xdp/xsk.h>

#include "link.h"
#include "rxchain.h"

enum xm_fstate {
	XM_FS_RX_FREE = 0,  /* rx pool, ours, not posted */
	XM_FS_FILL,         /* posted to the fill ring (or in the rx ring) */
	XM_FS_RX_HELD,      /* lent to the stack by rx() */
	XM_FS_TX_FREE,      /* tx pool, ours */
	XM_FS_TX_HELD,      /* lent to the stack by tx_alloc() */
	XM_FS_TX_FLIGHT,    /* in the tx ring, the driver, or the completion ring */
	XM_FS_MAX,
};

struct xm_umem_cfg {
	const char *dev;
	uint32_t queue_id;
	uint32_t frames;        /* power of two, >= 64 */
	uint32_t frame_size;    /* power of two, 2048 or 4096 */
	bool zerocopy;          /* XDP_ZEROCOPY, else XDP_COPY */
	bool need_wakeup;
	bool sg;                /* ask for multi-buffer rx (XDP_USE_SG) */
	bool busy_poll;
	uint32_t busy_poll_budget;
};

struct xm_umem_stats {
	uint64_t rx_frames;
	uint64_t tx_frames;
	uint64_t tx_dropped;      /* bad length or not a lent frame */
	uint64_t tx_kicks;        /* sendto() wake-ups */
	uint64_t rx_kicks;        /* recvfrom() wake-ups (need_wakeup, busy poll) */
	uint64_t bad_transitions; /* a frame handed back in the wrong state */
	uint64_t rx_bad_desc;     /* rx descriptor past its frame's end */
	uint64_t rx_chains;       /* multi-buffer packets gathered */
	uint64_t rx_chain_drops;  /* chains too long or with a bad descriptor */
};

/* Frame ids with this bit name a gathered packet's buffer in rxbufs, not a
 * UMEM frame. */
#define XM_UMEM_ID_RXBUF (1u << 31)
/* Gathered packets the stack may hold at once, and their size: any IP
 * packet (64 KiB) with its Ethernet header and tags. */
#define XM_UMEM_RXBUFS       32
#define XM_UMEM_RXBUF_SIZE   (65536u + 4096u)

struct xm_umem {
	struct xsk_ring_prod fill;
	struct xsk_ring_cons comp;
	struct xsk_ring_cons rx;
	struct xsk_ring_prod tx;
	struct xsk_umem *umem;
	struct xsk_socket *xsk;
	uint8_t *area;
	uint64_t area_size;
	struct xm_umem_cfg cfg;
	uint32_t n_rx;            /* frames [0, n_rx) are the rx pool */
	uint32_t *rx_free;        /* stack of free rx frame indices */
	uint32_t n_rx_free;
	uint32_t *tx_free;
	uint32_t n_tx_free;
	uint8_t *state;           /* enum xm_fstate per frame */
	uint64_t count[XM_FS_MAX];
	/* Per tx frame (index fi - n_rx) while in flight: who to tell on
	 * completion (link.h, tx_done) and the length submitted. */
	void **tx_owner;
	uint32_t *tx_len;
	struct xm_link *link;     /* its tx_done hears of completions; NULL: none */
	bool sg;                  /* bound with XDP_USE_SG */
	struct xm_rxbuf_pool rxbufs; /* gathered chains (sg only) */
	struct xm_umem_stats st;
};

/* Map the UMEM, create the XSK and post the whole rx pool to the fill ring.
 * The XSK is not yet in any xsks map. With cfg->sg on a kernel or driver
 * without multi-buffer AF_XDP it is opened without (u->sg false). */
int xm_umem_open(const struct xm_umem_cfg *cfg, struct xm_umem **out);
void xm_umem_close(struct xm_umem *u);
int xm_umem_fd(const struct xm_umem *u);

/* Post free rx frames to the fill ring, waking the driver when it asks. */
void xm_umem_fill_refill(struct xm_umem *u);
/* Return completed tx frames to the tx pool, reporting them to tx_done. */
void xm_umem_comp_drain(struct xm_umem *u);
/* Take up to max received frames; frame ids are tagged with `tag` in the
 * upper 32 bits. */
int xm_umem_rx(struct xm_umem *u, struct xm_frame *f, int max, uint32_t tag);
/* Whether the rx ring holds frames, without taking them. */
bool xm_umem_rx_ready(struct xm_umem *u);
void xm_umem_rx_release(struct xm_umem *u, const struct xm_frame *f);
int xm_umem_tx_alloc(struct xm_umem *u, struct xm_frame *f, int n, uint32_t tag);
void xm_umem_tx_abort(struct xm_umem *u, const struct xm_frame *f);
/* Queue one lent frame on the tx ring; false (the frame back in the pool
 * and reported to tx_done) when it cannot be sent. Call xm_umem_tx_flush
 * after a batch. */
bool xm_umem_tx_queue(struct xm_umem *u, const struct xm_frame *f);
void xm_umem_tx_flush(struct xm_umem *u);
/* Wake the kernel for tx still in the ring; reap completions. */
void xm_umem_kick(struct xm_umem *u);
/* Frames still in the tx ring or not yet completed. */
uint64_t xm_umem_tx_pending(const struct xm_umem *u);

void xm_umem_accounting(const struct xm_umem *u, struct xm_frame_accounting *a);

#endif /* XM_LINK_UMEM_H */
