/* SPDX-License-Identifier: MIT */
/*
 * Initial sequence numbers, RFC 6528:
 *   ISN = M + F(localip, localport, remoteip, remoteport, secretkey)
 * with M a 4-microsecond timer (RFC 9293 3.4.1) and F = SipHash-2-4.
 */
#ifndef XM_TCP_ISN_H
#define XM_TCP_ISN_H

#include <stdint.h>

#include "siphash.h"

/* A connection's addresses as 16 bytes (IPv4 as ::ffff:a.b.c.d, RFC 4291
 * 2.5.5.2), ports in host byte order. "l" is this end. */
struct xm_tcp_tuple {
	uint8_t laddr[16];
	uint8_t raddr[16];
	uint16_t lport, rport;
};

/* Fill t->laddr/raddr from a 4-byte IPv4 address in network order. */
void xm_tcp_tuple_v4(uint8_t out[16], const uint8_t v4[4]);

/* SipHash of the tuple plus @extra (a per-use salt, e.g. the cookie
 * counter), shared by ISN and SYN cookies. */
uint64_t xm_tcp_tuple_hash(const uint8_t key[XM_SIPHASH_KEY_LEN],
			   const struct xm_tcp_tuple *t, uint32_t extra);

/* RFC 6528 ISN for @t at time @now_us (any monotonic clock). */
uint32_t xm_tcp_isn(const uint8_t key[XM_SIPHASH_KEY_LEN],
		    const struct xm_tcp_tuple *t, uint64_t now_us);

#endif /* XM_TCP_ISN_H */
