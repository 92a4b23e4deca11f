/* SPDX-License-Identifier: MIT */
/*
 * Multi-buffer receive (AF_XDP with XDP_USE_SG): a packet larger than one
 * UMEM chunk (a TSO/GSO superpacket from a veth peer, a jumbo frame) comes
 * as a chain of rx descriptors, each but the last flagged XDP_PKT_CONTD.
 * The stack takes one contiguous frame, so a chain is copied into a buffer
 * of an rx buffer pool and its UMEM frames go straight back to their pool.
 *
 * Independent of any ring layout: a backend lends its peeked descriptors
 * through struct xm_rx_descs, so the AF_XDP link (umem.c) and any other
 * backend with its own rings share the same chain walk and copy.
 */
#ifndef XM_LINK_RXCHAIN_H
#define XM_LINK_RXCHAIN_H

#include <stdbool.h>
#include <stdint.h>

/* Not in the uapi headers of every distribution (Linux 6.6). */
#ifndef XDP_USE_SG
#define XDP_USE_SG (1 << 4)
#endif
#ifndef XDP_PKT_CONTD
#define XDP_PKT_CONTD (1 << 0)
#endif

/* One rx descriptor: its bytes, and whether the packet goes on in the next. */
struct xm_rx_desc {
	const uint8_t *data;
	uint32_t len;
	bool more;
};

/* The descriptors a backend has peeked: get(ctx, i, d) fills the i-th of n
 * and returns false when its bytes are not valid (past its frame); d->more
 * is set either way. */
struct xm_rx_descs {
	bool (*get)(void *ctx, uint32_t i, struct xm_rx_desc *d);
	void *ctx;
	uint32_t n;
};

enum xm_rx_chain_status {
	XM_RXC_OK = 0,
	XM_RXC_INCOMPLETE,    /* the chain goes past the last peeked one */
	XM_RXC_TOO_LONG,      /* more bytes than the buffer holds: drop */
	XM_RXC_BAD_DESC,      /* a descriptor of the chain is invalid: drop */
};

/* The packet starting at descriptor `first`: how many descriptors it spans
 * (*ndesc, set for every status but INCOMPLETE) and, with XM_RXC_OK, its
 * bytes copied into buf (at most cap) and their count in *len. */
enum xm_rx_chain_status xm_rx_chain_gather(const struct xm_rx_descs *ds,
					   uint32_t first, uint8_t *buf,
					   uint32_t cap, uint32_t *ndesc,
					   uint32_t *len);

/* Fixed-size buffers lent to the stack for gathered packets. */
struct xm_rxbuf_pool {
	uint8_t *mem;
	uint32_t size;        /* bytes per buffer */
	uint32_t n;
	uint32_t *free;       /* stack of free buffer indices */
	uint32_t n_free;
	uint8_t *lent;        /* per buffer: 1 while the stack holds it */
	uint64_t bad_puts;    /* a buffer given back that was not lent */
};

int xm_rxbuf_pool_init(struct xm_rxbuf_pool *p, uint32_t n, uint32_t size);
void xm_rxbuf_pool_fini(struct xm_rxbuf_pool *p);
/* A free buffer's index, or -1 when all are lent. */
int xm_rxbuf_get(struct xm_rxbuf_pool *p);
uint8_t *xm_rxbuf_data(const struct xm_rxbuf_pool *p, uint32_t i);
void xm_rxbuf_put(struct xm_rxbuf_pool *p, uint32_t i);

#endif /* XM_LINK_RXCHAIN_H */
