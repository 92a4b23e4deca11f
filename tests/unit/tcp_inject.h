/* SPDX-License-Identifier: MIT */
/*
 * Crafted segments for the TCP tests: inject one segment into a stack as
 * if the connection's peer had sent it (test_tcp_input.c,
 * test_tcp_recovery.c).
 */
#ifndef XM_TEST_TCP_INJECT_H
#define XM_TEST_TCP_INJECT_H

#include "tcp_pair.h"
#include "../../user/lib/net/net.h"
#include "lib/frame.h"

/* Inject one segment into stack st as if c's peer sent it to c, with TCP
 * options opts (olen bytes, a multiple of 4). */
static inline void inject_opts(struct xm_stack *st, const struct xm_tcp_conn *c, uint32_t seq,
			uint32_t ack, uint8_t flags, const void *data, uint32_t len,
			const uint8_t *opts, uint32_t olen)
{
	uint8_t seg[XM_TCP_HLEN + 40 + 256] = { 0 };
	struct xm_ipinfo ip = { .family = c->family, .proto = IPPROTO_TCP };
	uint32_t hlen = XM_TCP_HLEN + olen, win = 65535;
	uint16_t cs;

	cr_assert_leq(len, 256);
	cr_assert(olen <= 40 && olen % 4 == 0);
	memcpy(ip.src, c->raddr, 16);
	memcpy(ip.dst, c->laddr, 16);
	seg[0] = (uint8_t)(c->rport >> 8);
	seg[1] = (uint8_t)c->rport;
	seg[2] = (uint8_t)(c->lport >> 8);
	seg[3] = (uint8_t)c->lport;
	fb_be32_put(seg + 4, seq);
	fb_be32_put(seg + 8, ack);
	if (olen)
		memcpy(seg + XM_TCP_HLEN, opts, olen);
	seg[12] = (uint8_t)((hlen / 4) << 4);
	seg[13] = flags;
	seg[14] = (uint8_t)(win >> 8);
	seg[15] = (uint8_t)win;
	if (len)
		memcpy(seg + hlen, data, len);
	cs = xm_l4_csum(&ip, seg, hlen + len, NULL, 0);
	seg[16] = (uint8_t)(cs >> 8);
	seg[17] = (uint8_t)cs;
	xm_tcp_input(st, &ip, seg, hlen + len);
}

/* inject_opts with a timestamp option carrying *tsval, or none. */
static inline void inject(struct xm_stack *st, const struct xm_tcp_conn *c, uint32_t seq,
		   uint32_t ack, uint8_t flags, const void *data, uint32_t len,
		   const uint32_t *tsval)
{
	uint8_t o[12] = { 1, 1, 8, 10 };

	if (tsval)
		fb_be32_put(o + 4, *tsval);
	inject_opts(st, c, seq, ack, flags, data, len, o, tsval ? 12 : 0);
}

#endif /* XM_TEST_TCP_INJECT_H */
