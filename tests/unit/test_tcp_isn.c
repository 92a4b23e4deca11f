// SPDX-License-Identifier: MIT
/* SipHash-2-4 against the reference vectors, RFC 6528 ISNs, and SYN
 * cookies: round trip, MSS table, expiry, and rejection of forgeries. */
#include <string.h>
#include <criterion/criterion.h>

#include "../../user/lib/tcp/isn.h"
#include "../../user/lib/tcp/syncookie.h"

/* SipHash-2-4 reference vectors (paper appendix / reference test.c,
 * vectors_sip64): key 00..0f, message 00..n-1. */
static const uint64_t sip_vectors[] = {
	0x726fdb47dd0e0e31ull, 0x74f839c593dc67fdull, 0x0d6c8009d9a94f5aull,
	0x85676696d7fb7e2dull, 0xcf2794e0277187b7ull, 0x18765564cd99a68dull,
	0xcbc9466e58fee3ceull, 0xab0200f58b01d137ull, 0x93f5f5799a932462ull,
	0x9e0082df0ba9e4b0ull, 0x7a5dbbc594ddb9f3ull, 0xf4b32f46226bada7ull,
	0x751e8fbc860ee5fbull, 0x14ea5627c0843d90ull, 0xf723ca908e7af2eeull,
	0xa129ca6149be45e5ull, 0x3f2acc7f57c29bdbull,
};

Test(tcp_isn, siphash_reference_vectors)
{
	uint8_t key[16], msg[64];
	for (int i = 0; i < 16; i++)
		key[i] = (uint8_t)i;
	for (int i = 0; i < 64; i++)
		msg[i] = (uint8_t)i;
	for (size_t n = 0; n < sizeof(sip_vectors) / sizeof(sip_vectors[0]); n++)
		cr_expect_eq(xm_siphash24(key, msg, n), sip_vectors[n],
			     "len %zu: %016llx", n,
			     (unsigned long long)xm_siphash24(key, msg, n));
}

static struct xm_tcp_tuple tuple4(uint8_t last, uint16_t lport, uint16_t rport)
{
	struct xm_tcp_tuple t;
	const uint8_t l[4] = { 198, 18, 0, 1 }, r[4] = { 198, 18, 0, last };
	xm_tcp_tuple_v4(t.laddr, l);
	xm_tcp_tuple_v4(t.raddr, r);
	t.lport = lport;
	t.rport = rport;
	return t;
}

static const uint8_t key_a[16] = { 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16 };
static const uint8_t key_b[16] = { 16, 15, 14, 13, 12, 11, 10, 9, 8, 7, 6, 5, 4, 3, 2, 1 };

Test(tcp_isn, v4_mapped_layout)
{
	struct xm_tcp_tuple t = tuple4(2, 80, 40000);
	const uint8_t want[16] = { 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff, 198, 18, 0, 2 };
	cr_assert_arr_eq(t.raddr, want, 16);
}

Test(tcp_isn, rfc_6528_clock_component)
{
	struct xm_tcp_tuple t = tuple4(2, 80, 40000);
	uint32_t a = xm_tcp_isn(key_a, &t, 1000000);
	/* same tuple later: advances by one per 4 microseconds */
	cr_assert_eq(xm_tcp_isn(key_a, &t, 1000000 + 4000), a + 1000);
	/* the offset F() is the keyed hash of the tuple */
	cr_assert_eq(a - 250000u, (uint32_t)xm_tcp_tuple_hash(key_a, &t, 0));
}

Test(tcp_isn, different_tuple_or_key_different_offset)
{
	struct xm_tcp_tuple t = tuple4(2, 80, 40000);
	struct xm_tcp_tuple u = tuple4(2, 80, 40001);
	struct xm_tcp_tuple v = tuple4(3, 80, 40000);
	uint32_t a = xm_tcp_isn(key_a, &t, 0);
	cr_assert_neq(a, xm_tcp_isn(key_a, &u, 0));
	cr_assert_neq(a, xm_tcp_isn(key_a, &v, 0));
	cr_assert_neq(a, xm_tcp_isn(key_b, &t, 0));
	/* swapping ends is another connection too */
	struct xm_tcp_tuple s = t;
	memcpy(s.laddr, t.raddr, 16);
	memcpy(s.raddr, t.laddr, 16);
	s.lport = t.rport;
	s.rport = t.lport;
	cr_assert_neq(a, xm_tcp_isn(key_a, &s, 0));
}

/* ---- SYN cookies ---- */

static struct xm_syncookie_key ck(void)
{
	struct xm_syncookie_key k;
	memcpy(k.k[0], key_a, 16);
	memcpy(k.k[1], key_b, 16);
	return k;
}

Test(tcp_isn, cookie_round_trip_every_mss_entry)
{
	struct xm_syncookie_key k = ck();
	struct xm_tcp_tuple t = tuple4(2, 80, 40000);
	static const struct { uint16_t peer, want; } v4[] = {
		{ 1460, 1460 }, { 9000, 1460 }, { 1459, 1440 }, { 1440, 1440 },
		{ 1300, 1300 }, { 1299, 536 }, { 536, 536 }, { 100, 536 },
	};
	uint64_t now = 5000000000ull;
	for (size_t i = 0; i < sizeof(v4) / sizeof(v4[0]); i++) {
		uint16_t used = 0;
		uint32_t isn = 0x12345678u + (uint32_t)i * 0x10000000u;
		uint32_t c = xm_syncookie_make(&k, &t, isn, v4[i].peer, now, &used);
		cr_expect_eq(used, v4[i].want, "peer mss %u", v4[i].peer);
		cr_expect_eq(xm_syncookie_check(&k, &t, isn, c, now + 1000000),
			     v4[i].want, "peer mss %u", v4[i].peer);
	}
}

Test(tcp_isn, cookie_ipv6_table)
{
	struct xm_syncookie_key k = ck();
	struct xm_tcp_tuple t = { .lport = 443, .rport = 50000 };
	t.laddr[0] = 0x20; t.laddr[1] = 0x01; t.laddr[2] = 0x0d; t.laddr[3] = 0xb8; t.laddr[15] = 1;
	memcpy(t.raddr, t.laddr, 16);
	t.raddr[15] = 2;
	uint16_t used;
	uint32_t c = xm_syncookie_make(&k, &t, 7, 1440, 0, &used);
	cr_assert_eq(used, 1440);
	cr_assert_eq(xm_syncookie_check(&k, &t, 7, c, 0), 1440);
	c = xm_syncookie_make(&k, &t, 7, 8960, 0, &used);
	cr_assert_eq(used, 8940);
	cr_assert_eq(xm_syncookie_check(&k, &t, 7, c, 0), 8940);
}

Test(tcp_isn, cookie_expires_after_max_age)
{
	struct xm_syncookie_key k = ck();
	struct xm_tcp_tuple t = tuple4(2, 80, 40000);
	uint64_t now = 1000 * XM_SYNCOOKIE_PERIOD_US + 1;
	uint32_t c = xm_syncookie_make(&k, &t, 99, 1460, now, NULL);
	cr_assert_eq(xm_syncookie_check(&k, &t, 99, c, now + XM_SYNCOOKIE_PERIOD_US), 1460,
		     "one tick old is still valid");
	cr_assert_eq(xm_syncookie_check(&k, &t, 99, c,
					now + XM_SYNCOOKIE_MAX_AGE * XM_SYNCOOKIE_PERIOD_US), 0,
		     "MAX_AGE ticks old is refused");
	cr_assert_eq(xm_syncookie_check(&k, &t, 99, c, now - XM_SYNCOOKIE_PERIOD_US), 0,
		     "a cookie from the future is refused");
}

Test(tcp_isn, cookie_rejects_forgery_and_wrong_context)
{
	struct xm_syncookie_key k = ck(), other = ck();
	other.k[1][0] ^= 1;
	struct xm_tcp_tuple t = tuple4(2, 80, 40000);
	struct xm_tcp_tuple u = tuple4(2, 80, 40001);
	uint64_t now = 77 * XM_SYNCOOKIE_PERIOD_US;
	uint32_t c = xm_syncookie_make(&k, &t, 1000, 1460, now, NULL);
	cr_assert_eq(xm_syncookie_check(&k, &u, 1000, c, now), 0, "other tuple");
	/* The peer ISN is keyed into the offset: any other ISN fails. */
	for (uint32_t d = 1; d <= 3; d++) {
		cr_assert_eq(xm_syncookie_check(&k, &t, 1000 + d, c, now), 0, "peer ISN +%u", d);
		cr_assert_eq(xm_syncookie_check(&k, &t, 1000 - d, c, now), 0, "peer ISN -%u", d);
	}
	cr_assert_eq(xm_syncookie_check(&k, &t, 1000 + 0x10000, c, now), 0, "other peer ISN");
	cr_assert_eq(xm_syncookie_check(&k, &t, 1000 - 0x10000, c, now), 0, "other peer ISN");
	/* An ACK with SEG.SEQ and SEG.ACK both n past the handshake's (the
	 * last ACK of an echo: n octets each way) is no handshake (in Linux's
	 * additive encoding it would check). */
	for (uint32_t shift = 1; shift <= 64; shift++)
		cr_assert_eq(xm_syncookie_check(&k, &t, 1000 + shift, c + shift, now), 0,
			     "both shifted by %u", shift);
	cr_assert_eq(xm_syncookie_check(&other, &t, 1000, c, now), 0, "other key");
	/* blind guesses: a 24-bit check with 4 valid indices per tick and 2
	 * ticks lets ~2^-21 through; 100000 tries should find none */
	int accepted = 0;
	uint32_t x = 0x9e3779b9u;
	for (int i = 0; i < 100000; i++) {
		x = x * 1664525u + 1013904223u;
		if (x != c && xm_syncookie_check(&k, &t, 1000, x, now))
			accepted++;
	}
	cr_assert_leq(accepted, 2, "%d random cookies accepted", accepted);
}

Test(tcp_isn, cookie_timestamp_options)
{
	struct xm_syncookie_opts o = { .ws_ok = true, .ws = 7, .sack_ok = true }, back;
	uint32_t ts = xm_syncookie_ts_encode(0x12345678u, &o);
	cr_assert_leq(ts, 0x12345678u, "never ahead of our clock");
	cr_assert_gt(ts, 0x12345678u - 128);
	xm_syncookie_ts_decode(ts, &back);
	cr_assert(back.ws_ok);
	cr_assert_eq(back.ws, 7);
	cr_assert(back.sack_ok);

	struct xm_syncookie_opts none = { 0 };
	ts = xm_syncookie_ts_encode(0x1000u, &none);
	xm_syncookie_ts_decode(ts, &back);
	cr_assert_not(back.ws_ok);
	cr_assert_not(back.sack_ok);
	/* across the TSval wrap the clock still does not step forward */
	ts = xm_syncookie_ts_encode(3, &o);
	cr_assert_eq(ts & 0x3f, (7u | 16u));
	cr_assert((int32_t)(ts - 3u) <= 0);
}
