// SPDX-License-Identifier: MIT
/* RFC 1071 Internet checksum and the UDP/TCP pseudo-header sums. */
#include <criterion/criterion.h>
#include <netinet/in.h>
#include <string.h>
#include <sys/socket.h>

#include "../../user/lib/net/net.h"
#include "lib/frame.h"

Test(net_csum, rfc1071_example)
{
	/* RFC 1071 section 3: the sum of these words is ddf2 (folded). */
	static const uint8_t d[] = { 0x00, 0x01, 0xf2, 0x03, 0xf4, 0xf5, 0xf6, 0xf7 };

	cr_assert_eq(xm_csum_fold(xm_csum_add(0, d, sizeof(d))), (uint16_t)~0xddf2);
}

Test(net_csum, odd_lengths_and_split_sums_agree_with_reference)
{
	uint8_t buf[3001];

	for (size_t i = 0; i < sizeof(buf); i++)
		buf[i] = (uint8_t)(i * 2654435761u >> 13);
	for (size_t len = 0; len <= sizeof(buf); len += 97) {
		uint16_t ref = fb_csum_fold(fb_csum_add(0, buf, len));
		size_t half = len / 2 & ~(size_t)1;   /* split on an even offset */
		uint32_t s = xm_csum_add(xm_csum_add(0, buf, half), buf + half, len - half);

		cr_assert_eq(xm_csum_fold(xm_csum_add(0, buf, len)), ref, "len %zu", len);
		cr_assert_eq(xm_csum_fold(s), ref, "split len %zu", len);
	}
}

/* Every tail length (the 32-, 4-, 2- and 1-byte steps), every alignment,
 * and all-ones words whose sums carry the most. */
Test(net_csum, every_tail_and_alignment_and_carry_agree_with_reference)
{
	uint8_t buf[200];

	for (int fill = 0; fill < 2; fill++) {
		for (size_t i = 0; i < sizeof(buf); i++)
			buf[i] = fill ? 0xff : (uint8_t)(i * 2654435761u >> 11);
		for (size_t off = 0; off < 8; off++)
			for (size_t len = 0; off + len <= sizeof(buf); len++) {
				uint16_t ref = fb_csum_fold(fb_csum_add(0xfffe, buf + off, len));

				cr_assert_eq(xm_csum_fold(xm_csum_add(0xfffe, buf + off, len)),
					     ref, "fill %d off %zu len %zu", fill, off, len);
			}
	}
}

Test(net_csum, l4_checksum_verifies_to_zero)
{
	struct xm_ipinfo ip = { .family = AF_INET6, .proto = IPPROTO_UDP,
				.src = { 0x20, 0x01, 0x0d, 0xb8, [15] = 1 },
				.dst = { 0x20, 0x01, 0x0d, 0xb8, [15] = 2 } };
	uint8_t h[8] = { 0x9c, 0x40, 0x1b, 0x58, 0, 8 + 11, 0, 0 };
	const char *pay = "hello world";
	uint16_t c = xm_l4_csum(&ip, h, 8, pay, 11);
	uint8_t seg[19];

	h[6] = (uint8_t)(c >> 8);
	h[7] = (uint8_t)c;
	memcpy(seg, h, 8);
	memcpy(seg + 8, pay, 11);
	cr_assert_eq(xm_l4_csum(&ip, seg, 19, NULL, 0), 0);
	seg[10] ^= 0x40;
	cr_assert_neq(xm_l4_csum(&ip, seg, 19, NULL, 0), 0);
	/* IPv4 pseudo-header uses 4-byte addresses */
	ip.family = AF_INET;
	cr_assert_neq(xm_l4_csum(&ip, h, 8, pay, 11), c);
}

/* The sum while copying: the same sum as xm_csum_add, dst an exact copy,
 * and nothing written past it, at every tail length and alignment. */
Test(net_csum, copy_sums_as_add_and_copies_exactly)
{
	uint8_t src[200], dst[216];

	for (size_t i = 0; i < sizeof(src); i++)
		src[i] = (uint8_t)(i * 2654435761u >> 7);
	for (size_t off = 0; off < 8; off++)
		for (size_t len = 0; off + len <= sizeof(src); len++) {
			memset(dst, 0xa5, sizeof(dst));
			cr_assert_eq(xm_csum_copy(0x1234, dst + 8 + off, src + off, len),
				     xm_csum_add(0x1234, src + off, len), "off %zu len %zu", off, len);
			cr_assert_eq(memcmp(dst + 8 + off, src + off, len), 0, "off %zu len %zu", off, len);
			cr_assert_eq(dst[8 + off + len], 0xa5, "written past, len %zu", len);
			cr_assert_eq(dst[7 + off], 0xa5, "written before, len %zu", len);
		}
}
