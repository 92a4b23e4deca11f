// SPDX-License-Identifier: MIT
/*
 * Software segmentation of a TCP super-segment (struct xm_link_gso), as the
 * kernel's GSO does it when the device cannot (tcp_gso_segment,
 * inet_gso_segment, ipv6_gso_segment): every segment gets a copy of the
 * headers with its own sequence number, IP length and (IPv4) an id one
 * more than the segment before; PSH and FIN stay on the last segment only
 * and CWR on the first only; both checksums are complete. The simulated
 * link segments with it, so that the transport's tests see on the wire
 * what a kernel peer receives.
 */
#include <errno.h>
#include <netinet/in.h>
#include <string.h>

#include "../link/link.h"
#include "net.h"

#define TCP_FIN 0x01
#define TCP_PSH 0x08
#define TCP_CWR 0x80

/* n bytes at off of the payload's pieces, to dst. */
static void payload_copy(const struct xm_link_gso *g, uint32_t off, uint8_t *dst,
			 uint32_t n)
{
	for (int i = 0; i < 2 && n; i++) {
		uint32_t k;

		if (off >= g->len[i]) {
			off -= g->len[i];
			continue;
		}
		k = g->len[i] - off < n ? g->len[i] - off : n;
		memcpy(dst, g->data[i] + off, k);
		dst += k;
		n -= k;
		off = 0;
	}
}

int xm_gso_segment(const struct xm_link_gso *g, uint8_t *buf, uint32_t cap,
		   void (*emit)(void *ctx, const uint8_t *frame, uint32_t len),
		   void *ctx)
{
	uint32_t plen = g->len[0] + g->len[1], l3 = XM_ETH_HLEN, off = 0, seq;
	uint32_t thlen = g->hlen - g->l4_off;
	struct xm_ipinfo ip = { .family = g->v6 ? AF_INET6 : AF_INET,
				.proto = IPPROTO_TCP };
	uint16_t id;
	int n = 0;

	if (!g->gso_size || g->hlen + g->gso_size > cap ||
	    g->l4_off != l3 + (g->v6 ? XM_IPV6_HLEN : XM_IPV4_HLEN) ||
	    thlen < 20 || (uint32_t)(g->hdr[g->l4_off + 12] >> 4) * 4 != thlen)
		return -EINVAL;
	memcpy(ip.src, g->hdr + l3 + (g->v6 ? 8 : 12), xm_addr_len(ip.family));
	memcpy(ip.dst, g->hdr + l3 + (g->v6 ? 24 : 16), xm_addr_len(ip.family));
	seq = xm_get32(g->hdr + g->l4_off + 4);
	id = xm_get16(g->hdr + l3 + 4);
	do {
		uint32_t k = plen - off < g->gso_size ? plen - off : g->gso_size;
		bool last = off + k == plen;
		uint8_t *ih = buf + l3, *th = buf + g->l4_off;

		memcpy(buf, g->hdr, g->hlen);
		payload_copy(g, off, buf + g->hlen, k);
		if (g->v6) {
			xm_put16(ih + 4, thlen + k);
		} else {
			xm_put16(ih + 2, XM_IPV4_HLEN + thlen + k);
			xm_put16(ih + 4, (uint16_t)(id + n));
			xm_put16(ih + 10, 0);
			xm_put16(ih + 10, xm_csum_fold(xm_csum_add(0, ih, XM_IPV4_HLEN)));
		}
		xm_put32(th + 4, seq + off);
		if (!last)
			th[13] &= (uint8_t)~(TCP_FIN | TCP_PSH);
		if (n)
			th[13] &= (uint8_t)~TCP_CWR;
		xm_put16(th + 16, 0);
		xm_put16(th + 16, xm_l4_csum(&ip, th, thlen + k, NULL, 0));
		emit(ctx, buf, g->hlen + k);
		off += k;
		n++;
	} while (off < plen);
	return n;
}
