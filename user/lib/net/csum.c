// SPDX-License-Identifier: MIT
/* RFC 1071 Internet checksum, computed over big-endian 16-bit words. */
#include <netinet/in.h>
#include <string.h>

#include "net.h"

/*
 * RFC 1071 2 (B), (C): the one's complement sum does not depend on byte
 * order, and a carry out of 64 bits is worth 1 (2^64 = 1 modulo 2^16 - 1).
 * So the words are added 64 bits at a time as they lie in memory, in two
 * chains whose carries are counted, and the folded result is swapped once:
 * no byte swap per word. A bulk sender sums every payload byte it sends,
 * so this loop is hot.
 */
/*
 * The sum, and with dst a copy of buf made in the same pass: a sender that
 * sums a segment as it writes it into the frame reads the payload once
 * (Linux's csum_partial_copy_nocheck does the same for its senders without
 * checksum offload). Always inlined so that dst == NULL (xm_csum_add)
 * costs the plain sum nothing.
 */
static inline __attribute__((always_inline)) uint32_t
csum_pass(uint32_t sum, uint8_t *dst, const void *buf, size_t len)
{
	const uint8_t *p = buf;
	uint64_t s0 = 0, s1 = 0, c0 = 0, c1 = 0, w[4], s;
	uint32_t x;
	uint16_t h;

	while (len >= 32) {
		memcpy(w, p, 32);
		if (dst) {
			memcpy(dst, w, 32);
			dst += 32;
		}
		c0 += __builtin_add_overflow(s0, w[0], &s0);
		c1 += __builtin_add_overflow(s1, w[1], &s1);
		c0 += __builtin_add_overflow(s0, w[2], &s0);
		c1 += __builtin_add_overflow(s1, w[3], &s1);
		p += 32;
		len -= 32;
	}
	if (dst)   /* the short tail: copied here, summed below */
		memcpy(dst, p, len);
	while (len >= 8) {
		memcpy(w, p, 8);
		c0 += __builtin_add_overflow(s0, w[0], &s0);
		p += 8;
		len -= 8;
	}
	if (len >= 4) {
		memcpy(&x, p, 4);
		c1 += x;
		p += 4;
		len -= 4;
	}
	if (len >= 2) {
		memcpy(&h, p, 2);
		c1 += h;
		p += 2;
		len -= 2;
	}
	if (len) {
		/* The odd byte is the high byte of a word padded with zero. */
		const uint8_t last[2] = { p[0], 0 };

		memcpy(&h, last, 2);
		c1 += h;
	}
	c0 += __builtin_add_overflow(s0, s1, &s0);
	/* 2^32 = 1 too: fold the halves, then to 16 bits. */
	s = (s0 & 0xffffffff) + (s0 >> 32) + c0 + c1;
	s = (s & 0xffffffff) + (s >> 32);
	s = (s & 0xffff) + (s >> 16);
	s = (s & 0xffff) + (s >> 16);
	s = (s & 0xffff) + (s >> 16);
	/* Memory order to the big-endian words the caller sums in. */
	s = (uint64_t)ntohs((uint16_t)s) + sum;
	/* Fold to 32 bits; the caller may add more before the final fold. */
	s = (s & 0xffff) + (s >> 16);
	s = (s & 0xffff) + (s >> 16);
	return (uint32_t)s;
}

uint32_t xm_csum_add(uint32_t sum, const void *buf, size_t len)
{
	return csum_pass(sum, NULL, buf, len);
}

uint32_t xm_csum_copy(uint32_t sum, void *dst, const void *src, size_t len)
{
	return csum_pass(sum, dst, src, len);
}

uint16_t xm_csum_fold(uint32_t sum)
{
	while (sum >> 16)
		sum = (sum & 0xffff) + (sum >> 16);
	return (uint16_t)~sum;
}

uint32_t xm_csum_pseudo(const struct xm_ipinfo *ip, uint32_t l4_len)
{
	uint32_t alen = xm_addr_len(ip->family);
	uint32_t s = 0;

	s = xm_csum_add(s, ip->src, alen);
	s = xm_csum_add(s, ip->dst, alen);
	/* RFC 768: zero, protocol, length; RFC 8200 8.1: 32-bit length, zero,
	 * next header. Both sum to proto + length. */
	s += ip->proto;
	s += l4_len & 0xffff;
	s += l4_len >> 16;
	return s;
}

/*
 * A sender that leaves the checksum to the device (the kernel's
 * CHECKSUM_PARTIAL) puts the folded, uncomplemented pseudo-header sum in the
 * field, over this packet's own L4 length (a TSO superpacket's whole
 * length); the device would add the rest. A veth has no device to finish
 * it and no wire to corrupt it, and the kernel's receiver trusts it
 * (README, "Checksums"). The form is tested first: it needs no pass over
 * the payload. The folded pseudo-header sum is never 0 (the protocol
 * number is in it), so a UDP field of 0 is never taken for it.
 */
enum xm_l4_csum_verdict xm_l4_csum_verify(const struct xm_ipinfo *ip,
					  const uint8_t *l4, uint32_t len,
					  uint32_t csum_off)
{
	uint16_t field = (uint16_t)(l4[csum_off] << 8 | l4[csum_off + 1]);
	uint16_t partial;

	if (ip->csum_partial_ok) {
		partial = (uint16_t)~xm_csum_fold(xm_csum_pseudo(ip, len));
		if (field == partial)
			return XM_CSUM_PARTIAL;
	}
	return xm_l4_csum(ip, l4, len, NULL, 0) == 0 ? XM_CSUM_GOOD : XM_CSUM_BAD;
}

uint16_t xm_l4_csum(const struct xm_ipinfo *ip, const void *hdr, uint32_t hlen,
		    const void *payload, uint32_t plen)
{
	uint32_t s = xm_csum_pseudo(ip, hlen + plen);

	s = xm_csum_add(s, hdr, hlen);
	/* An odd-length header would misalign the payload's 16-bit words;
	 * transport headers are even, so only the payload may be odd. */
	if (plen)
		s = xm_csum_add(s, payload, plen);
	return xm_csum_fold(s);
}
