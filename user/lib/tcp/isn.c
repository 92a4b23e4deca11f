// SPDX-License-Identifier: MIT
/* RFC 6528 initial sequence numbers over SipHash-2-4. */
#include <string.h>

#include "isn.h"

void xm_tcp_tuple_v4(uint8_t out[16], const uint8_t v4[4])
{
	/* RFC 4291 2.5.5.2 IPv4-mapped IPv6 address */
	memset(out, 0, 10);
	out[10] = 0xff;
	out[11] = 0xff;
	memcpy(out + 12, v4, 4);
}

uint64_t xm_tcp_tuple_hash(const uint8_t key[XM_SIPHASH_KEY_LEN],
			   const struct xm_tcp_tuple *t, uint32_t extra)
{
	/* A fixed byte layout, independent of struct padding and host order. */
	uint8_t m[16 + 16 + 2 + 2 + 4];
	memcpy(m, t->laddr, 16);
	memcpy(m + 16, t->raddr, 16);
	m[32] = (uint8_t)(t->lport >> 8);
	m[33] = (uint8_t)t->lport;
	m[34] = (uint8_t)(t->rport >> 8);
	m[35] = (uint8_t)t->rport;
	m[36] = (uint8_t)(extra >> 24);
	m[37] = (uint8_t)(extra >> 16);
	m[38] = (uint8_t)(extra >> 8);
	m[39] = (uint8_t)extra;
	return xm_siphash24(key, m, sizeof(m));
}

uint32_t xm_tcp_isn(const uint8_t key[XM_SIPHASH_KEY_LEN],
		    const struct xm_tcp_tuple *t, uint64_t now_us)
{
	/* RFC 6528 3: ISN = M + F(...); M ticks every 4 us (RFC 9293 3.4.1),
	 * so a reused 4-tuple gets an ISN ahead of its previous incarnation. */
	uint32_t m = (uint32_t)(now_us >> 2);
	return m + (uint32_t)xm_tcp_tuple_hash(key, t, 0);
}
