// SPDX-License-Identifier: MIT
/* Multi-buffer receive: walk and copy one descriptor chain (rxchain.h). */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

#include "rxchain.h"

enum xm_rx_chain_status xm_rx_chain_gather(const struct xm_rx_descs *ds,
					   uint32_t first, uint8_t *buf,
					   uint32_t cap, uint32_t *ndesc,
					   uint32_t *len)
{
	enum xm_rx_chain_status st = XM_RXC_OK;
	struct xm_rx_desc d = { .more = true };
	uint32_t i, total = 0;

	/* The whole chain is walked even once it is known to be dropped:
	 * every descriptor of it has to be consumed with it. */
	for (i = first; i < ds->n && d.more; i++) {
		if (!ds->get(ds->ctx, i, &d)) {
			st = XM_RXC_BAD_DESC;
			continue;
		}
		if (st == XM_RXC_OK && total + d.len > cap)
			st = XM_RXC_TOO_LONG;
		if (st == XM_RXC_OK)
			memcpy(buf + total, d.data, d.len);
		total += d.len;
	}
	if (d.more)
		return XM_RXC_INCOMPLETE;
	*ndesc = i - first;
	*len = total;
	return st;
}

int xm_rxbuf_pool_init(struct xm_rxbuf_pool *p, uint32_t n, uint32_t size)
{
	memset(p, 0, sizeof(*p));
	p->mem = mmap(NULL, (size_t)n * size, PROT_READ | PROT_WRITE,
		      MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (p->mem == MAP_FAILED) {
		p->mem = NULL;
		return -ENOMEM;
	}
	p->free = calloc(n, sizeof(*p->free));
	p->lent = calloc(n, 1);
	if (!p->free || !p->lent) {
		xm_rxbuf_pool_fini(p);
		return -ENOMEM;
	}
	p->size = size;
	p->n = n;
	for (uint32_t i = 0; i < n; i++)
		p->free[i] = n - 1 - i;
	p->n_free = n;
	return 0;
}

void xm_rxbuf_pool_fini(struct xm_rxbuf_pool *p)
{
	if (p->mem)
		munmap(p->mem, (size_t)p->n * p->size);
	free(p->free);
	free(p->lent);
	memset(p, 0, sizeof(*p));
}

int xm_rxbuf_get(struct xm_rxbuf_pool *p)
{
	uint32_t i;

	if (!p->n_free)
		return -1;
	i = p->free[--p->n_free];
	p->lent[i] = 1;
	return (int)i;
}

uint8_t *xm_rxbuf_data(const struct xm_rxbuf_pool *p, uint32_t i)
{
	return p->mem + (size_t)i * p->size;
}

void xm_rxbuf_put(struct xm_rxbuf_pool *p, uint32_t i)
{
	if (i >= p->n || !p->lent[i]) {
		p->bad_puts++;
		return;
	}
	p->lent[i] = 0;
	p->free[p->n_free++] = i;
}
