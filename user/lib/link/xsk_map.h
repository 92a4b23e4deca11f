/* SPDX-License-Identifier: MIT */
/* Map one ring of an AF_XDP socket (rx, tx, fill, completion) from its fd
 * into libxdp's ring struct, without libxdp's socket object: the device
 * daemon creates sockets for other processes, and those processes map the
 * rings of a socket they received over SCM_RIGHTS. */
#ifndef XM_LINK_XSK_MAP_H
#define XM_LINK_XSK_MAP_H

#include <stddef.h>
#include <stdint.h>
#include <xdp/xsk.h>

enum xm_xsk_ring {
	XM_XSK_RX,     /* consumer: struct xsk_ring_cons */
	XM_XSK_TX,     /* producer: struct xsk_ring_prod */
	XM_XSK_FILL,   /* producer */
	XM_XSK_COMP,   /* consumer */
};

struct xm_xsk_mapping {
	void *base;
	size_t len;
};

/* Map ring `which` of size entries (as set with setsockopt) of fd; fills
 * *prod (TX, FILL) or *cons (RX, COMP), the other NULL. 0 or -errno. */
int xm_xsk_ring_map(int fd, enum xm_xsk_ring which, uint32_t size,
		    struct xsk_ring_prod *prod, struct xsk_ring_cons *cons,
		    struct xm_xsk_mapping *m);
void xm_xsk_ring_unmap(struct xm_xsk_mapping *m);

#endif /* XM_LINK_XSK_MAP_H */
