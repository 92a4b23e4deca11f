// SPDX-License-Identifier: MIT
/*
 * The test frame builder (lib/frame.c) itself: other tests trust its
 * lengths, checksums and fragments, so they are checked here against the
 * RFCs on random specs (lib/frame_rand.c, seed printed, XM_SEED replays).
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <netinet/in.h>
#include <criterion/criterion.h>

#include "lib/frame.h"
#include "lib/frame_rand.h"

static uint16_t be16(const uint8_t *p)
{
	return (uint16_t)(p[0] << 8 | p[1]);
}

/* RFC 1071 section 3: the sum of 00 01 f2 03 f4 f5 f6 f7 is ddf2. */
Test(frame, internet_checksum_rfc1071_example)
{
	static const uint8_t b[] = { 0x00, 0x01, 0xf2, 0x03, 0xf4, 0xf5, 0xf6, 0xf7 };

	cr_assert_eq(fb_csum_add(0, b, sizeof(b)), 0xddf2);
	cr_assert_eq(fb_csum_fold(fb_csum_add(0, b, sizeof(b))), 0x220d);
	/* An odd length pads the last byte with zero. */
	cr_assert_eq(fb_csum_add(0, b, 3), 0xf201);
}

static size_t ip6_per_fragment_len(const struct fb_spec *s, bool *explicit_frag)
{
	size_t n = 40;
	unsigned i;

	*explicit_frag = false;
	for (i = 0; i < s->ip6.next; i++) {
		if (s->ip6.ext[i].type == FB_EXT_FRAG) {
			*explicit_frag = true;
			return n + 8;
		}
		n += s->ip6.ext[i].len ? s->ip6.ext[i].len : 8;
	}
	return n;
}

/* Where the fragmentable part starts, from the IP header (RFC 791: after
 * the IPv4 header; RFC 8200 4.5: after the Fragment header). */
static size_t part_start(const struct fb_spec *s, bool fragment)
{
	bool explicit_frag;
	size_t n;

	if (s->l3 == FB_L3_IPV4)
		return 20 + s->ip4.opt_len;
	n = ip6_per_fragment_len(s, &explicit_frag);
	return explicit_frag || !fragment ? n : n + 8;
}

/* The transport checksum over the pseudo-header verifies (RFC 768, RFC
 * 9293 3.1, RFC 8200 8.1). */
static bool l4_csum_ok(const struct fb_spec *s, const uint8_t *seg, size_t len)
{
	uint8_t tail[8] = { 0 };
	uint32_t sum;

	if (s->l3 == FB_L3_IPV4) {
		sum = fb_csum_add(0, s->ip4.src, 4);
		sum = fb_csum_add(sum, s->ip4.dst, 4);
		tail[1] = s->l4;
		tail[2] = (uint8_t)(len >> 8);
		tail[3] = (uint8_t)len;
		sum = fb_csum_add(sum, tail, 4);
	} else {
		sum = fb_csum_add(0, s->ip6.src, 16);
		sum = fb_csum_add(sum, s->ip6.dst, 16);
		tail[2] = (uint8_t)(len >> 8);
		tail[3] = (uint8_t)len;
		tail[7] = s->l4;
		sum = fb_csum_add(sum, tail, 8);
	}
	return fb_csum_fold(fb_csum_add(sum, seg, len)) == 0;
}

static void check_frame(const struct fb_spec *s, const uint8_t *f, const struct fb_layout *l,
			size_t len, const char *d)
{
	size_t at = 12, l3 = l->l3_off;
	unsigned i;

	cr_assert_eq(l->len, len, "%s", d);
	cr_expect_eq(l->ip_end + s->trailer_len, len, "%s: trailer", d);
	for (i = 0; i < s->nvlan; i++, at += 4) {
		cr_expect_eq(be16(f + at), s->vlan[i].tpid, "%s: tag %u tpid", d, i);
		cr_expect_eq(l->vlan_off[i], at + 2, "%s: tag %u offset", d, i);
	}
	cr_expect_eq(l3, at + 2, "%s: l3 offset", d);
	if (s->l3 == FB_L3_IPV4) {
		cr_expect_eq(be16(f + at), FB_ETH_P_IP, "%s", d);
		cr_expect_eq(f[l3] >> 4, 4, "%s: version", d);
		cr_expect_eq((size_t)(f[l3] & 0xf) * 4, 20u + s->ip4.opt_len, "%s: ihl", d);
		cr_expect_eq(be16(f + l3 + 2), l->ip_end - l3, "%s: total length", d);
		cr_expect_eq(f[l3 + 9], s->l4, "%s: protocol", d);
		cr_expect_eq(fb_csum_fold(fb_csum_add(0, f + l3, 20u + s->ip4.opt_len)), 0,
			     "%s: header checksum", d);
	} else if (s->l3 == FB_L3_IPV6) {
		cr_expect_eq(be16(f + at), FB_ETH_P_IPV6, "%s", d);
		cr_expect_eq(f[l3] >> 4, 6, "%s: version", d);
		cr_expect_eq(be16(f + l3 + 4), l->ip_end - l3 - 40, "%s: payload length", d);
		/* Each header's Next Header names the next one (RFC 8200 4). */
		for (i = 0; i < l->next; i++)
			cr_expect_eq(f[i ? l->ext_off[i - 1] : l3 + 6],
				     i < s->ip6.next ? s->ip6.ext[i].type : FB_EXT_FRAG,
				     "%s: next header of header %u", d, i);
	}
	if ((s->l3 == FB_L3_IPV4 || s->l3 == FB_L3_IPV6) && !s->frag.size &&
	    (s->l4 == IPPROTO_UDP || s->l4 == IPPROTO_TCP ||
	     (s->l4 == IPPROTO_ICMPV6 && s->l3 == FB_L3_IPV6))) {
		size_t seg = l->ip_end - l->l4_off;

		cr_expect(l4_csum_ok(s, f + l->l4_off, seg), "%s: transport checksum", d);
		if (s->l4 == IPPROTO_UDP)
			cr_expect_eq(be16(f + l->l4_off + 4), seg, "%s: udp length", d);
		if (s->l4 != IPPROTO_ICMPV6)
			cr_expect_eq(be16(f + l->l4_off + 2), s->dport, "%s: dport", d);
	}
}

Test(frame, random_frames_have_rfc_lengths_and_checksums, .timeout = 120)
{
	static uint8_t buf[FB_FRAME_MAX];
	uint64_t seed = fr_seed_pick("XM_SEED");
	struct fr_params p;
	struct fr_frame f;
	struct fr_rng r;
	unsigned i;

	cr_log_info("seed %llu", (unsigned long long)seed);
	fr_seed(&r, seed);
	fr_params_default(&p);
	p.frag_percent = 0;
	for (i = 0; i < 5000; i++) {
		ssize_t len = fr_frame(&r, &p, 0, buf, sizeof(buf), &f);
		char d[500];

		snprintf(d, sizeof(d), "seed %llu frame %u [%s]", (unsigned long long)seed, i,
			 f.desc);
		cr_assert_gt(len, 0, "%s: %s", d, strerror((int)-len));
		check_frame(&f.spec, buf, &f.lay, (size_t)len, d);
	}
}

/* Fragments put back together by their offsets are the unfragmented
 * packet's fragmentable part; every fragment but the last says more
 * follow (RFC 791 3.2, RFC 8200 4.5). */
Test(frame, fragments_reassemble_to_the_whole_datagram, .timeout = 120)
{
	static uint8_t whole[FB_FRAME_MAX], frag[FB_FRAME_MAX];
	uint64_t seed = fr_seed_pick("XM_SEED");
	struct fb_layout wl, fl;
	struct fr_params p;
	struct fb_spec s;
	struct fr_rng r;
	unsigned i, done = 0;

	cr_log_info("seed %llu", (unsigned long long)seed);
	fr_seed(&r, seed);
	fr_params_default(&p);
	p.frag_percent = 100;
	for (i = 0; i < 400; i++) {
		struct fb_spec ws;
		size_t wstart, wlen, got = 0;
		ssize_t n;
		int count, k;
		char d[120];

		fr_spec(&r, &p, &s);
		if (s.l3 != FB_L3_IPV4 && s.l3 != FB_L3_IPV6)
			continue;
		snprintf(d, sizeof(d), "seed %llu spec %u", (unsigned long long)seed, i);
		ws = s;
		ws.frag.size = 0;
		ws.trailer_len = 0;
		n = fb_build(&ws, whole, sizeof(whole), &wl);
		if (n <= 0)
			continue;
		wstart = wl.l3_off + part_start(&ws, false);
		wlen = wl.ip_end - wstart;
		count = fb_frag_count(&s);
		cr_assert_gt(count, 1, "%s", d);
		for (k = 0; k < count; k++) {
			size_t fstart, flen, off;
			bool more;

			s.frag.index = (uint16_t)k;
			n = fb_build(&s, frag, sizeof(frag), &fl);
			cr_assert_gt(n, 0, "%s frag %d: %s", d, k, strerror((int)-n));
			fstart = fl.l3_off + part_start(&s, true);
			flen = fl.ip_end - fstart;
			if (s.l3 == FB_L3_IPV4) {
				uint16_t fo = be16(frag + fl.l3_off + 6);

				off = (size_t)(fo & 0x1fff) * 8;
				more = fo & 0x2000;
				cr_expect_eq(be16(frag + fl.l3_off + 4), s.frag.id & 0xffff, "%s", d);
			} else {
				uint16_t fo = be16(frag + fstart - 6);

				off = (size_t)(fo >> 3) * 8;
				more = fo & 1;
			}
			cr_expect_eq(off, (size_t)k * s.frag.size, "%s frag %d offset", d, k);
			cr_expect_eq(more, k + 1 < count, "%s frag %d more-fragments", d, k);
			cr_assert_leq(off + flen, wlen, "%s frag %d past the datagram", d, k);
			cr_expect(!memcmp(frag + fstart, whole + wstart + off, flen),
				  "%s frag %d bytes differ", d, k);
			got += flen;
		}
		cr_expect_eq(got, wlen, "%s: fragments carry %zu of %zu bytes", d, got, wlen);
		done++;
	}
	cr_assert_gt(done, 100);
}

Test(frame, errors)
{
	static uint8_t buf[FB_FRAME_MAX];
	struct fb_spec s;

	fb_init(&s, FB_L3_IPV4, IPPROTO_UDP);
	cr_expect_eq(fb_build(&s, buf, 59, NULL), -ENOSPC, "60-byte frame into 59");
	cr_expect_eq(fb_build(&s, buf, 60, NULL), 60);
	s.frag.size = 12;
	cr_expect_eq(fb_build(&s, buf, sizeof(buf), NULL), -EINVAL, "fragment size not /8");
	s.frag.size = 8;
	s.frag.index = 100;
	cr_expect_eq(fb_build(&s, buf, sizeof(buf), NULL), -EINVAL, "no such fragment");
	fb_init(&s, FB_L3_IPV4, IPPROTO_UDP);
	s.payload_len = 65535 - 28 + 1;
	cr_expect_eq(fb_build(&s, buf, sizeof(buf), NULL), -EMSGSIZE, "IPv4 over 65535");
	s.payload_len = 65535 - 28;
	cr_expect_eq(fb_build(&s, buf, sizeof(buf), NULL), 14 + 65535);
	fb_init(&s, FB_L3_IPV6, IPPROTO_UDP);
	fb_ext_push(&s, FB_EXT_FRAG, 8);
	fb_ext_push(&s, FB_EXT_FRAG, 8);
	cr_expect_eq(fb_build(&s, buf, sizeof(buf), NULL), -EINVAL, "two fragment headers");
	fb_init(&s, FB_L3_IPV6, IPPROTO_UDP);
	fb_ext_push(&s, FB_EXT_DSTOPTS, 12);
	cr_expect_eq(fb_build(&s, buf, sizeof(buf), NULL), -EINVAL, "ext length not /8");
	fb_init(&s, FB_L3_IPV4, IPPROTO_TCP);
	s.tcp.opt_len = 6;
	cr_expect_eq(fb_build(&s, buf, sizeof(buf), NULL), -EINVAL, "tcp options not /4");
}
