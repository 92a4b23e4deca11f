// SPDX-License-Identifier: MIT
#include <errno.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <linux/if_xdp.h>

#include "xsk_map.h"

#ifndef SOL_XDP
#define SOL_XDP 283
#endif

int xm_xsk_ring_map(int fd, enum xm_xsk_ring which, uint32_t size,
		    struct xsk_ring_prod *prod, struct xsk_ring_cons *cons,
		    struct xm_xsk_mapping *m)
{
	struct xdp_mmap_offsets off;
	socklen_t optlen = sizeof(off);
	const struct xdp_ring_offset *ro;
	size_t desc_size;
	off_t pgoff;
	uint8_t *p;

	if (getsockopt(fd, SOL_XDP, XDP_MMAP_OFFSETS, &off, &optlen))
		return -errno;
	switch (which) {
	case XM_XSK_RX:
		ro = &off.rx, pgoff = XDP_PGOFF_RX_RING;
		desc_size = sizeof(struct xdp_desc);
		break;
	case XM_XSK_TX:
		ro = &off.tx, pgoff = XDP_PGOFF_TX_RING;
		desc_size = sizeof(struct xdp_desc);
		break;
	case XM_XSK_FILL:
		ro = &off.fr, pgoff = (off_t)XDP_UMEM_PGOFF_FILL_RING;
		desc_size = sizeof(uint64_t);
		break;
	case XM_XSK_COMP:
		ro = &off.cr, pgoff = (off_t)XDP_UMEM_PGOFF_COMPLETION_RING;
		desc_size = sizeof(uint64_t);
		break;
	default:
		return -EINVAL;
	}
	m->len = ro->desc + (size_t)size * desc_size;
	p = mmap(NULL, m->len, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_POPULATE,
		 fd, pgoff);
	if (p == MAP_FAILED)
		return -errno;
	m->base = p;
	if (prod) {
		memset(prod, 0, sizeof(*prod));
		prod->mask = size - 1;
		prod->size = size;
		prod->producer = (uint32_t *)(p + ro->producer);
		prod->consumer = (uint32_t *)(p + ro->consumer);
		prod->flags = (uint32_t *)(p + ro->flags);
		prod->ring = p + ro->desc;
		prod->cached_prod = *prod->producer;
		prod->cached_cons = *prod->consumer + size;
	}
	if (cons) {
		memset(cons, 0, sizeof(*cons));
		cons->mask = size - 1;
		cons->size = size;
		cons->producer = (uint32_t *)(p + ro->producer);
		cons->consumer = (uint32_t *)(p + ro->consumer);
		cons->flags = (uint32_t *)(p + ro->flags);
		cons->ring = p + ro->desc;
		cons->cached_prod = *cons->producer;
		cons->cached_cons = *cons->consumer;
	}
	return 0;
}

void xm_xsk_ring_unmap(struct xm_xsk_mapping *m)
{
	if (m->base)
		munmap(m->base, m->len);
	m->base = NULL;
}
