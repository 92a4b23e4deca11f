/* SPDX-License-Identifier: MIT */
/*
 * SYN cookies (used when the listen backlog is full), as Linux encodes them
 * (net/ipv4/syncookies.c, RFC 4987 3.6):
 *   cookie = H1(tuple, peer_isn) + peer_isn + (count << 24)
 *          + ((H2(tuple, count) + mss_index) & 0xffffff)
 * (Linux's H1 leaves out peer_isn: see syncookie.c.)
 * count = now / 64 s; a cookie is valid for XM_SYNCOOKIE_MAX_AGE counter
 * ticks after it was made. When the peer sent timestamps, window scale and
 * SACK-permitted are carried in the low 6 bits of our TSval.
 */
#ifndef XM_TCP_SYNCOOKIE_H
#define XM_TCP_SYNCOOKIE_H

#include <stdbool.h>
#include <stdint.h>

#include "isn.h"

#define XM_SYNCOOKIE_PERIOD_US   (64ull * 1000000ull)
#define XM_SYNCOOKIE_MAX_AGE     2u   /* counter ticks: 64..128 s */

struct xm_syncookie_key {
	uint8_t k[2][XM_SIPHASH_KEY_LEN];
};

/* Make the ISN to send in a SYN-ACK to a SYN with sequence @peer_isn.
 * @mss is the peer's MSS (already clamped); *mss_used receives the table
 * MSS encoded (the largest entry <= @mss), which is the MSS to use. */
uint32_t xm_syncookie_make(const struct xm_syncookie_key *key,
			   const struct xm_tcp_tuple *t, uint32_t peer_isn,
			   uint16_t mss, uint64_t now_us, uint16_t *mss_used);

/* Check the ACK completing a cookie handshake: @peer_isn = SEG.SEQ - 1,
 * @cookie = SEG.ACK - 1. Returns the MSS encoded (> 0), or 0 when the
 * cookie is forged, for another tuple, or older than MAX_AGE ticks. */
uint16_t xm_syncookie_check(const struct xm_syncookie_key *key,
			    const struct xm_tcp_tuple *t, uint32_t peer_isn,
			    uint32_t cookie, uint64_t now_us);

/* Options carried in the TSval low bits (Linux cookie_init_timestamp). */
struct xm_syncookie_opts {
	bool ws_ok;
	uint8_t ws;        /* peer's window scale, <= 14 */
	bool sack_ok;
};

#define XM_SYNCOOKIE_TS_BITS  6u

/* Return @tsval with its low 6 bits replaced by @o (rounded DOWN to keep the
 * clock monotonic: never above @tsval). */
uint32_t xm_syncookie_ts_encode(uint32_t tsval, const struct xm_syncookie_opts *o);
/* Decode from the TSecr of the completing ACK. */
void xm_syncookie_ts_decode(uint32_t tsecr, struct xm_syncookie_opts *o);

#endif /* XM_TCP_SYNCOOKIE_H */
