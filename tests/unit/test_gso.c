// SPDX-License-Identifier: MIT
/*
 * Software segmentation of a TCP super-segment (net/gso.c), held to what
 * the kernel's GSO puts on the wire (tcp_gso_segment, inet_gso_segment):
 * segments of gso_size with the last one short, sequence numbers advanced,
 * PSH and FIN on the last segment only and CWR on the first only, IPv4 ids
 * consecutive, lengths and both checksums complete; the payload in two
 * pieces (a send ring that wraps) comes out in order.
 */
#include <arpa/inet.h>
#include <criterion/criterion.h>
#include <errno.h>
#include <netinet/in.h>
#include <string.h>

#include "../../user/lib/link/link.h"
#include "../../user/lib/net/net.h"

#define GSO 1000u
#define PLEN (3 * GSO + 123)   /* three full segments and a short one */
#define THLEN 32u               /* TCP header with timestamps */

struct seen {
	int n;
	uint8_t frame[8][1600];
	uint32_t len[8];
};

static void collect(void *ctx, const uint8_t *frame, uint32_t len)
{
	struct seen *s = ctx;

	cr_assert_lt(s->n, 8);
	cr_assert_leq(len, sizeof(s->frame[0]));
	memcpy(s->frame[s->n], frame, len);
	s->len[s->n++] = len;
}

static uint8_t payload[PLEN];

/* A super-segment's headers as the stack builds them: IP lengths over the
 * whole, TCP checksum field the pseudo-header sum. */
static uint32_t super_hdr(uint8_t *h, bool v6, uint8_t flags)
{
	uint32_t iph = v6 ? 40 : 20, l4 = 14 + iph;
	struct xm_ipinfo ip = { .family = v6 ? AF_INET6 : AF_INET, .proto = IPPROTO_TCP };
	uint16_t ps;

	memset(h, 0, l4 + THLEN);
	memcpy(h, "\x02\0\0\0\0\x02\x02\0\0\0\0\x01", 12);
	h[12] = v6 ? 0x86 : 0x08;
	h[13] = v6 ? 0xdd : 0x00;
	if (v6) {
		h[14] = 0x60;
		h[18] = (uint8_t)((THLEN + PLEN) >> 8);
		h[19] = (uint8_t)(THLEN + PLEN);
		h[20] = IPPROTO_TCP;
		h[21] = 64;
		inet_pton(AF_INET6, "2001:db8::1", h + 22);
		inet_pton(AF_INET6, "2001:db8::2", h + 38);
		memcpy(ip.src, h + 22, 16);
		memcpy(ip.dst, h + 38, 16);
	} else {
		h[14] = 0x45;
		h[16] = (uint8_t)((20 + THLEN + PLEN) >> 8);
		h[17] = (uint8_t)(20 + THLEN + PLEN);
		h[18] = 0xff;   /* id 0xfffe: the ids wrap */
		h[19] = 0xfe;
		h[20] = 0x40;   /* DF */
		h[22] = 64;
		h[23] = IPPROTO_TCP;
		inet_pton(AF_INET, "198.18.0.1", h + 26);
		inet_pton(AF_INET, "198.18.0.2", h + 30);
		memcpy(ip.src, h + 26, 4);
		memcpy(ip.dst, h + 30, 4);
	}
	h[l4] = 0x13;                        /* ports 5000 -> 80 */
	h[l4 + 1] = 0x88;
	h[l4 + 3] = 80;
	memcpy(h + l4 + 4, "\xff\xff\xf0\x00", 4);   /* seq: wraps in segment 5 */
	h[l4 + 12] = (THLEN / 4) << 4;
	h[l4 + 13] = flags;
	h[l4 + 20] = 1;                      /* NOP NOP TS */
	h[l4 + 21] = 1;
	h[l4 + 22] = 8;
	h[l4 + 23] = 10;
	ps = (uint16_t)~xm_csum_fold(xm_csum_pseudo(&ip, THLEN + PLEN));
	h[l4 + 16] = (uint8_t)(ps >> 8);
	h[l4 + 17] = (uint8_t)ps;
	return l4 + THLEN;
}

static void check(bool v6)
{
	uint8_t hdr[14 + 40 + THLEN], buf[1600];
	uint32_t hlen = super_hdr(hdr, v6, 0x80 | 0x10 | 0x08 | 0x01);   /* CWR ACK PSH FIN */
	uint32_t iph = v6 ? 40 : 20, l4 = 14 + iph, off = 0;
	/* An odd split: the second piece starts mid-word. */
	struct xm_link_gso g = { .hdr = hdr, .hlen = hlen, .l4_off = l4, .gso_size = GSO,
				 .v6 = v6, .data = { payload, payload + 1501 },
				 .len = { 1501, PLEN - 1501 } };
	struct seen s = { 0 };

	for (uint32_t i = 0; i < PLEN; i++)
		payload[i] = (uint8_t)(i * 7 + 3);
	cr_assert_eq(xm_gso_segment(&g, buf, sizeof(buf), collect, &s), 4);
	cr_assert_eq(s.n, 4);
	for (int i = 0; i < s.n; i++) {
		const uint8_t *f = s.frame[i], *th = f + l4;
		uint32_t k = i < 3 ? GSO : 123;
		struct xm_l3 l3;
		uint32_t seq = 0xfffff000u + off;

		cr_assert_eq(s.len[i], hlen + k, "segment %d: %u bytes", i, s.len[i]);
		if (v6) {
			struct xm_ip_limits lim = { 8, 512 };

			cr_assert_eq(xm_ipv6_parse(f + 14, s.len[i] - 14, &lim, &l3), XM_PARSE_OK);
			cr_assert_eq(f[18] << 8 | f[19], THLEN + k);
		} else {
			cr_assert_eq(xm_ipv4_parse(f + 14, s.len[i] - 14, &l3), XM_PARSE_OK);
			cr_assert_eq(f[16] << 8 | f[17], 20 + THLEN + k);
			cr_assert_eq(f[18] << 8 | f[19], (0xfffe + i) & 0xffff, "consecutive ids");
			cr_assert_eq(xm_csum_fold(xm_csum_add(0, f + 14, 20)), 0, "IPv4 checksum");
		}
		cr_assert_eq(l3.end, s.len[i] - 14);
		l3.ip.csum_partial_ok = false;   /* complete, not the partial form */
		cr_assert_eq(xm_l4_csum_verify(&l3.ip, th, THLEN + k, 16), XM_CSUM_GOOD,
			     "segment %d: TCP checksum", i);
		cr_assert_eq((uint32_t)th[4] << 24 | (uint32_t)th[5] << 16 |
			     (uint32_t)th[6] << 8 | th[7], seq);
		cr_assert_eq(th[13], i == 0 ? 0x10 | 0x80 : i == 3 ? 0x10 | 0x08 | 0x01 : 0x10,
			     "segment %d: flags %#x", i, th[13]);
		cr_assert_eq(memcmp(th + 20, hdr + l4 + 20, THLEN - 20), 0, "options copied");
		cr_assert_eq(memcmp(th + THLEN, payload + off, k), 0, "segment %d: payload", i);
		off += k;
	}
}

Test(gso, ipv4_super_segment_cut_as_the_kernel_does)
{
	check(false);
}

Test(gso, ipv6_super_segment_cut_as_the_kernel_does)
{
	check(true);
}

Test(gso, refuses_a_buffer_smaller_than_one_segment)
{
	uint8_t hdr[14 + 20 + THLEN], buf[100];
	struct xm_link_gso g = { .hdr = hdr, .gso_size = GSO, .data = { payload },
				 .len = { PLEN } };
	struct seen s = { 0 };

	g.hlen = super_hdr(hdr, false, 0x10);
	g.l4_off = 34;
	cr_assert_eq(xm_gso_segment(&g, buf, sizeof(buf), collect, &s), -EINVAL);
	cr_assert_eq(s.n, 0);
}
