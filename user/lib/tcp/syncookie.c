// SPDX-License-Identifier: MIT
/*
 * SYN cookies in Linux's encoding (net/ipv4/syncookies.c,
 * __cookie_v4_init_sequence / __cookie_v4_check), with SipHash-2-4 as the
 * keyed hash. The top 8 bits carry a 64-second counter, the low 24 bits a
 * keyed hash of (tuple, counter) plus the MSS table index; the whole is
 * offset by a hash of the tuple and the peer's ISN so nothing is guessable
 * without the key.
 *
 * One departure: Linux's offset is H1(tuple) + ISN, so an ACK whose SEG.SEQ
 * and SEG.ACK are both k past the handshake's checks as well as the
 * handshake's own. The last ACK of a connection that sent as many octets as
 * it received (an echo) is such an ACK: arriving late, after it (or a
 * duplicate) closed the connection from LAST-ACK, it opened a connection
 * no peer was behind. Here H1 keys the ISN too: H1(tuple, ISN) + ISN.
 */
#include <string.h>

#include "options.h"
#include "syncookie.h"
#include "seq.h"

#define COOKIEBITS 24
#define COOKIEMASK ((1u << COOKIEBITS) - 1)

/* MSS values as Linux encodes them (msstab in syncookies.c; IPv6 table
 * from net/ipv6/syncookies.c). */
static const uint16_t msstab_v4[] = { 536, 1300, 1440, 1460 };
static const uint16_t msstab_v6[] = { 1280 - 60, 1480 - 60, 1500 - 60, 9000 - 60 };
#define MSSTAB_LEN 4u

static bool tuple_is_v4(const struct xm_tcp_tuple *t)
{
	static const uint8_t prefix[12] = { 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff };
	return !memcmp(t->raddr, prefix, sizeof(prefix));
}

static const uint16_t *msstab(const struct xm_tcp_tuple *t)
{
	return tuple_is_v4(t) ? msstab_v4 : msstab_v6;
}

static uint32_t counter(uint64_t now_us)
{
	return (uint32_t)(now_us / XM_SYNCOOKIE_PERIOD_US);
}

static uint32_t h1(const struct xm_syncookie_key *key, const struct xm_tcp_tuple *t,
		   uint32_t peer_isn)
{
	return (uint32_t)xm_tcp_tuple_hash(key->k[0], t, peer_isn);
}

static uint32_t h2(const struct xm_syncookie_key *key,
		   const struct xm_tcp_tuple *t, uint32_t count)
{
	return (uint32_t)xm_tcp_tuple_hash(key->k[1], t, count);
}

uint32_t xm_syncookie_make(const struct xm_syncookie_key *key,
			   const struct xm_tcp_tuple *t, uint32_t peer_isn,
			   uint16_t mss, uint64_t now_us, uint16_t *mss_used)
{
	const uint16_t *tab = msstab(t);
	uint32_t idx = MSSTAB_LEN - 1;
	/* the largest entry not above the peer's MSS; entry 0 otherwise,
	 * as Linux does */
	while (idx && mss < tab[idx])
		idx--;
	if (mss_used)
		*mss_used = tab[idx];

	uint32_t count = counter(now_us);
	return h1(key, t, peer_isn) + peer_isn + (count << COOKIEBITS) +
	       ((h2(key, t, count) + idx) & COOKIEMASK);
}

uint16_t xm_syncookie_check(const struct xm_syncookie_key *key,
			    const struct xm_tcp_tuple *t, uint32_t peer_isn,
			    uint32_t cookie, uint64_t now_us)
{
	uint32_t count = counter(now_us);
	cookie -= h1(key, t, peer_isn) + peer_isn;
	/* age in counter ticks, modulo the 8 bits the cookie carries */
	uint32_t diff = (count - (cookie >> COOKIEBITS)) & (0xffffffffu >> COOKIEBITS);
	if (diff >= XM_SYNCOOKIE_MAX_AGE)
		return 0;
	uint32_t idx = (cookie - h2(key, t, count - diff)) & COOKIEMASK;
	if (idx >= MSSTAB_LEN)
		return 0;
	return msstab(t)[idx];
}

#define TS_WS_MASK  0xfu        /* Linux TS_OPT_WSCALE_MASK: 0xf = none */
#define TS_SACK     (1u << 4)   /* Linux TS_OPT_SACK */

uint32_t xm_syncookie_ts_encode(uint32_t tsval, const struct xm_syncookie_opts *o)
{
	uint32_t opts = o->ws_ok ? (o->ws > XM_TCP_WS_MAX ? XM_TCP_WS_MAX : o->ws)
				 : TS_WS_MASK;
	if (o->sack_ok)
		opts |= TS_SACK;
	uint32_t mask = (1u << XM_SYNCOOKIE_TS_BITS) - 1;
	uint32_t ts = (tsval & ~mask) | opts;
	if (seq_gt(ts, tsval))
		ts -= 1u << XM_SYNCOOKIE_TS_BITS;   /* keep our clock monotonic */
	return ts;
}

void xm_syncookie_ts_decode(uint32_t tsecr, struct xm_syncookie_opts *o)
{
	uint32_t ws = tsecr & TS_WS_MASK;
	o->ws_ok = ws <= XM_TCP_WS_MAX;
	o->ws = o->ws_ok ? (uint8_t)ws : 0;
	o->sack_ok = tsecr & TS_SACK;
}
