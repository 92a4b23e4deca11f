// SPDX-License-Identifier: MIT
/*
 * libFuzzer: IP reassembly (user/lib/net/reasm.c) driven directly with
 * fragments whose offsets, flags, ids and lengths the fuzzer picks, so it
 * reaches overlaps, duplicates, holes, the memory bound and oversize
 * datagrams far faster than through whole frames. Each record (fuzz_env.h)
 * is one fragment: byte 0 flags (bit 0 IPv6, bit 1 more fragments, bits
 * 2-3 id, bit 4 TCP else UDP), bytes 1-2 offset in 8-byte units (big
 * endian), then the data. Completed datagrams go to the UDP (TCP) sockets
 * on port 7000 when their headers say so.
 */
#include <netinet/in.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <sys/socket.h>

#include "../../user/lib/net/net.h"
#include "fuzz_env.h"

static const uint8_t peer4[4] = { 198, 18, 0, 1 }, self4[4] = { 198, 18, 0, 2 };
static const uint8_t peer6[16] = { 0x20, 0x01, 0x0d, 0xb8, [15] = 1 };
static const uint8_t self6[16] = { 0x20, 0x01, 0x0d, 0xb8, [15] = 2 };

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t n)
{
	struct xm_stack *st = fz_stack();
	const uint8_t *rec;
	size_t off = 0, len;

	while (fz_split(data, n, &off, &rec, &len)) {
		struct xm_frag fr = { 0 };

		if (len < 3)
			continue;
		fr.family = rec[0] & 1 ? AF_INET6 : AF_INET;
		fr.more = rec[0] & 2;
		fr.id = (rec[0] >> 2) & 3;
		fr.proto = rec[0] & 16 ? IPPROTO_TCP : IPPROTO_UDP;
		fr.offset = ((uint32_t)rec[1] << 8 | rec[2]) * 8;
		if (fr.family == AF_INET) {
			/* RFC 791: 13 bits of offset. */
			fr.offset &= 0x1fff * 8;
			memcpy(fr.src, peer4, 4);
			memcpy(fr.dst, self4, 4);
		} else {
			memcpy(fr.src, peer6, 16);
			memcpy(fr.dst, self6, 16);
		}
		xm_reasm_input(st, &fr, rec + 3, (uint32_t)(len - 3));
	}
	fz_drain();
	fz_advance(n & 1 ? 61000000000ull : 1000000ull);
	fz_drain();
	return 0;
}
