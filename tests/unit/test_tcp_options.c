// SPDX-License-Identifier: MIT
/*
 * TCP option parsing (RFC 9293 3.1, RFC 7323, RFC 2018): well-formed areas
 * as Linux sends them, then malformed and truncated ones, each refused;
 * building our options in Linux's byte layout.
 */
#include <errno.h>
#include <string.h>
#include <criterion/criterion.h>

#include "../../user/lib/tcp/options.h"

/* A Linux SYN: mss 1460, SACK-perm, TS, NOP, WS 7 (20 bytes). */
static const uint8_t linux_syn[] = {
	2, 4, 0x05, 0xb4,
	4, 2, 8, 10, 0x11, 0x22, 0x33, 0x44, 0, 0, 0, 0,
	1, 3, 3, 7,
};

Test(tcp_options, linux_syn_parses_all_fields)
{
	struct xm_tcp_opts o;
	cr_assert_eq(xm_tcp_opts_parse(linux_syn, sizeof(linux_syn), true, &o), 0);
	cr_assert(o.mss_ok);
	cr_assert_eq(o.mss, 1460);
	cr_assert(o.sack_ok);
	cr_assert(o.ts_ok);
	cr_assert_eq(o.tsval, 0x11223344u);
	cr_assert_eq(o.tsecr, 0u);
	cr_assert(o.ws_ok);
	cr_assert_eq(o.ws, 7);
}

Test(tcp_options, syn_only_options_ignored_without_syn)
{
	struct xm_tcp_opts o;
	cr_assert_eq(xm_tcp_opts_parse(linux_syn, sizeof(linux_syn), false, &o), 0);
	cr_assert_not(o.mss_ok);
	cr_assert_not(o.ws_ok);
	cr_assert_not(o.sack_ok);
	cr_assert(o.ts_ok, "timestamps count on every segment");
}

Test(tcp_options, window_scale_above_14_is_clamped)
{
	const uint8_t p[] = { 1, 3, 3, 15 };
	struct xm_tcp_opts o;
	cr_assert_eq(xm_tcp_opts_parse(p, sizeof(p), true, &o), 0);
	cr_assert(o.ws_ok);
	cr_assert_eq(o.ws, 14);
}

Test(tcp_options, mss_zero_is_no_mss)
{
	const uint8_t p[] = { 2, 4, 0, 0 };
	struct xm_tcp_opts o;
	cr_assert_eq(xm_tcp_opts_parse(p, sizeof(p), true, &o), 0);
	cr_assert_not(o.mss_ok);
}

Test(tcp_options, sack_blocks_on_ack)
{
	const uint8_t p[] = {
		1, 1, 8, 10, 0, 0, 0, 9, 0, 0, 0, 8,
		1, 1, 5, 18,
		0, 0, 0x10, 0, 0, 0, 0x20, 0,
		0xff, 0xff, 0xff, 0xf0, 0, 0, 0, 0x10,
	};
	struct xm_tcp_opts o;
	cr_assert_eq(xm_tcp_opts_parse(p, sizeof(p), false, &o), 0);
	cr_assert(o.ts_ok);
	cr_assert_eq(o.tsval, 9u);
	cr_assert_eq(o.tsecr, 8u);
	cr_assert_eq(o.nsack, 2);
	cr_assert_eq(o.sack[0].start, 0x1000u);
	cr_assert_eq(o.sack[0].end, 0x2000u);
	cr_assert_eq(o.sack[1].start, 0xfffffff0u);
	cr_assert_eq(o.sack[1].end, 0x10u);
}

Test(tcp_options, unknown_option_skipped_by_length)
{
	/* kind 30 (MPTCP) with 6 bytes, then MSS */
	const uint8_t p[] = { 30, 6, 1, 2, 3, 4, 2, 4, 0x02, 0x18 };
	struct xm_tcp_opts o;
	cr_assert_eq(xm_tcp_opts_parse(p, sizeof(p), true, &o), 0);
	cr_assert(o.mss_ok);
	cr_assert_eq(o.mss, 536);
}

Test(tcp_options, eol_stops_parsing)
{
	const uint8_t p[] = { 0, 2, 4, 0x05, 0xb4 };
	struct xm_tcp_opts o;
	cr_assert_eq(xm_tcp_opts_parse(p, sizeof(p), true, &o), 0);
	cr_assert_not(o.mss_ok);
}

Test(tcp_options, empty_area)
{
	struct xm_tcp_opts o;
	cr_assert_eq(xm_tcp_opts_parse(NULL, 0, true, &o), 0);
	cr_assert_not(o.mss_ok || o.ws_ok || o.sack_ok || o.ts_ok || o.nsack);
}

/* ---- malformed: every one must be refused with -EINVAL ---- */

struct bad {
	const char *name;
	uint8_t b[44];
	uint8_t len;
	bool syn;
};

static const struct bad malformed[] = {
	{ "length_zero_would_loop",    { 30, 0, 0, 0 }, 4, true },
	{ "length_one",                { 30, 1, 0, 0 }, 4, true },
	{ "kind_without_length_byte",  { 1, 1, 1, 2 }, 4, true },
	{ "length_past_the_end",       { 30, 8, 0, 0 }, 4, true },
	{ "mss_truncated",             { 2, 4, 5 }, 3, true },
	{ "mss_wrong_length",          { 2, 3, 5, 1, 1, 1 }, 6, true },
	{ "ws_wrong_length",           { 3, 4, 7, 0 }, 4, true },
	{ "sack_perm_wrong_length",    { 4, 3, 0, 1 }, 4, true },
	{ "ts_wrong_length",           { 8, 6, 0, 0, 0, 1 }, 6, false },
	{ "ts_truncated",              { 1, 1, 8, 10, 0, 0, 0, 1, 0, 0 }, 10, false },
	{ "sack_no_block",             { 1, 1, 5, 2 }, 4, false },
	{ "sack_partial_block",        { 5, 6, 0, 0, 0, 1 }, 6, false },
	{ "sack_block_truncated",      { 5, 10, 0, 0, 0, 1, 0, 0 }, 8, false },
	{ "area_longer_than_40",       { 1 }, 41, true },
};

Test(tcp_options, malformed_areas_are_refused)
{
	for (size_t i = 0; i < sizeof(malformed) / sizeof(malformed[0]); i++) {
		const struct bad *c = &malformed[i];
		struct xm_tcp_opts o;
		cr_expect_eq(xm_tcp_opts_parse(c->b, c->len, c->syn, &o), -EINVAL,
			     "%s", c->name);
	}
}

Test(tcp_options, every_truncation_of_linux_syn_is_safe)
{
	/* Cut the valid area at every length: either it still parses (the
	 * cut fell on an option boundary) or it is refused; never a read past
	 * the given length (ASan build checks that part). */
	for (uint32_t len = 0; len <= sizeof(linux_syn); len++) {
		uint8_t *copy = malloc(len ? len : 1);
		memcpy(copy, linux_syn, len);
		struct xm_tcp_opts o;
		int r = xm_tcp_opts_parse(copy, len, true, &o);
		bool boundary = len == 0 || len == 4 || len == 6 || len == 16 ||
				len == 17 ||
				len == 20;
		cr_expect_eq(r, boundary ? 0 : -EINVAL, "len %u", len);
		free(copy);
	}
}

/* ---- building ---- */

Test(tcp_options, build_syn_matches_linux_layout)
{
	struct xm_tcp_opts o = {
		.mss_ok = true, .mss = 1460, .sack_ok = true, .ts_ok = true,
		.tsval = 0x11223344, .tsecr = 0, .ws_ok = true, .ws = 7,
	};
	uint8_t p[40];
	uint32_t n = xm_tcp_opts_build(p, sizeof(p), &o, true);
	cr_assert_eq(n, sizeof(linux_syn));
	cr_assert_arr_eq(p, linux_syn, n);
}

Test(tcp_options, build_syn_without_timestamps)
{
	struct xm_tcp_opts o = {
		.mss_ok = true, .mss = 1460, .sack_ok = true, .ws_ok = true, .ws = 2,
	};
	const uint8_t want[] = { 2, 4, 0x05, 0xb4, 1, 1, 4, 2, 1, 3, 3, 2 };
	uint8_t p[40];
	uint32_t n = xm_tcp_opts_build(p, sizeof(p), &o, true);
	cr_assert_eq(n, sizeof(want));
	cr_assert_arr_eq(p, want, n);
}

Test(tcp_options, build_ack_with_ts_and_three_sack_blocks)
{
	struct xm_tcp_opts o = { .ts_ok = true, .tsval = 5, .tsecr = 6, .nsack = 4 };
	for (int i = 0; i < 4; i++) {
		o.sack[i].start = 1000u * (i + 1);
		o.sack[i].end = 1000u * (i + 1) + 500;
	}
	uint8_t p[40];
	uint32_t n = xm_tcp_opts_build(p, sizeof(p), &o, false);
	/* 12 bytes TS + 4 + 3 blocks * 8 = 40: a fourth block does not fit */
	cr_assert_eq(n, 40u);
	const uint8_t head[] = { 1, 1, 8, 10, 0, 0, 0, 5, 0, 0, 0, 6, 1, 1, 5, 26 };
	cr_assert_arr_eq(p, head, sizeof(head));

	struct xm_tcp_opts back;
	cr_assert_eq(xm_tcp_opts_parse(p, n, false, &back), 0);
	cr_assert_eq(back.nsack, 3);
	cr_assert_eq(back.sack[2].start, 3000u);
	cr_assert_eq(back.sack[2].end, 3500u);
	cr_assert_eq(back.tsval, 5u);
}

Test(tcp_options, build_four_sack_blocks_without_ts)
{
	struct xm_tcp_opts o = { .nsack = 4 };
	for (int i = 0; i < 4; i++) {
		o.sack[i].start = 10u * i;
		o.sack[i].end = 10u * i + 5;
	}
	uint8_t p[40];
	uint32_t n = xm_tcp_opts_build(p, sizeof(p), &o, false);
	cr_assert_eq(n, 36u);
	struct xm_tcp_opts back;
	cr_assert_eq(xm_tcp_opts_parse(p, n, false, &back), 0);
	cr_assert_eq(back.nsack, 4);
}

Test(tcp_options, build_respects_capacity_and_alignment)
{
	struct xm_tcp_opts o = {
		.mss_ok = true, .mss = 1460, .sack_ok = true, .ts_ok = true,
		.ws_ok = true, .ws = 7,
	};
	uint8_t p[40];
	for (uint32_t cap = 0; cap <= 40; cap++) {
		memset(p, 0xee, sizeof(p));
		uint32_t n = xm_tcp_opts_build(p, cap, &o, true);
		cr_assert_leq(n, cap);
		cr_assert_eq(n % 4, 0u);
		for (uint32_t i = n; i < sizeof(p); i++)
			cr_assert_eq(p[i], 0xee, "wrote past %u (cap %u)", n, cap);
		struct xm_tcp_opts back;
		cr_assert_eq(xm_tcp_opts_parse(p, n, true, &back), 0, "cap %u", cap);
	}
}

Test(tcp_options, build_non_syn_leaves_out_syn_options)
{
	struct xm_tcp_opts o = { .mss_ok = true, .mss = 1460, .ws_ok = true,
				 .sack_ok = true };
	uint8_t p[40];
	cr_assert_eq(xm_tcp_opts_build(p, sizeof(p), &o, false), 0u);
}

/* ---- randomized ---- */

static uint64_t xs(uint64_t *s)
{
	*s ^= *s << 13;
	*s ^= *s >> 7;
	*s ^= *s << 17;
	return *s;
}

Test(tcp_options, random_bytes_parse_or_refuse_never_overread)
{
	/* Exactly len bytes on the heap: ASan (SAN=1) catches an over-read. */
	uint64_t s = 0x243f6a8885a308d3ull;
	int ok = 0, refused = 0;
	for (int i = 0; i < 200000; i++) {
		uint32_t len = (uint32_t)(xs(&s) % 41);
		uint8_t *p = malloc(len ? len : 1);
		for (uint32_t k = 0; k < len; k++) {
			uint64_t r = xs(&s);
			/* bias towards known kinds and small lengths */
			p[k] = r % 3 == 0 ? (uint8_t)(r >> 8) % 9 : (uint8_t)(r >> 16);
		}
		struct xm_tcp_opts o;
		int r = xm_tcp_opts_parse(p, len, i & 1, &o);
		cr_assert(r == 0 || r == -EINVAL);
		if (r == 0) {
			ok++;
			cr_assert_leq(o.nsack, XM_TCP_SACK_MAX);
			cr_assert_leq(o.ws, XM_TCP_WS_MAX);
			cr_assert(!o.mss_ok || o.mss != 0);
			if (!(i & 1))
				cr_assert_not(o.mss_ok || o.ws_ok || o.sack_ok);
		} else {
			refused++;
		}
		free(p);
	}
	cr_assert_gt(ok, 1000);
	cr_assert_gt(refused, 1000);
}

Test(tcp_options, random_build_then_parse_round_trip)
{
	uint64_t s = 0x13198a2e03707344ull;
	for (int i = 0; i < 100000; i++) {
		bool syn = xs(&s) & 1;
		struct xm_tcp_opts o = { 0 };
		o.mss_ok = xs(&s) & 1;
		o.mss = (uint16_t)(1 + xs(&s) % 65535);
		o.ws_ok = xs(&s) & 1;
		o.ws = (uint8_t)(xs(&s) % 15);
		o.sack_ok = xs(&s) & 1;
		o.ts_ok = xs(&s) & 1;
		o.tsval = (uint32_t)xs(&s);
		o.tsecr = (uint32_t)xs(&s);
		o.nsack = (uint8_t)(xs(&s) % 5);
		for (int k = 0; k < o.nsack; k++) {
			o.sack[k].start = (uint32_t)xs(&s);
			o.sack[k].end = (uint32_t)xs(&s);
		}
		uint32_t cap = (uint32_t)(xs(&s) % 41);
		uint8_t p[40];
		uint32_t n = xm_tcp_opts_build(p, cap, &o, syn);
		cr_assert_leq(n, cap);
		cr_assert_eq(n % 4, 0u);
		struct xm_tcp_opts b;
		cr_assert_eq(xm_tcp_opts_parse(p, n, syn, &b), 0, "iteration %d", i);
		/* what was written reads back the same; what was left out
		 * for lack of room is absent, never garbled */
		if (b.mss_ok)
			cr_assert(syn && o.mss_ok && b.mss == o.mss);
		if (b.ws_ok)
			cr_assert(syn && o.ws_ok && b.ws == o.ws);
		if (b.sack_ok)
			cr_assert(syn && o.sack_ok);
		if (b.ts_ok)
			cr_assert(o.ts_ok && b.tsval == o.tsval && b.tsecr == o.tsecr);
		cr_assert_leq(b.nsack, syn ? 0 : o.nsack);
		for (int k = 0; k < b.nsack; k++) {
			cr_assert_eq(b.sack[k].start, o.sack[k].start);
			cr_assert_eq(b.sack[k].end, o.sack[k].end);
		}
		/* with the full 40 bytes nothing is left out (but SACK blocks
		 * beyond 3 when timestamps take 12 bytes) */
		if (cap == 40) {
			cr_assert_eq(b.mss_ok, syn && o.mss_ok);
			cr_assert_eq(b.ws_ok, syn && o.ws_ok);
			cr_assert_eq(b.sack_ok, syn && o.sack_ok);
			cr_assert_eq(b.ts_ok, o.ts_ok);
			if (!syn)
				cr_assert_eq(b.nsack, o.ts_ok && o.nsack == 4 ? 3 : o.nsack);
		}
	}
}
