// SPDX-License-Identifier: MIT
/* The TCP test stream (user/examples/xdpmux-perf/stream.h): xdpmux-perf
 * and the selftests' tcp_stream both make it with perf_stream_fill, so a
 * fault there would agree with itself on the wire; here it is held to the
 * definition, byte i being byte i % 8 (little-endian) of word i / 8. */
#include <criterion/criterion.h>
#include <string.h>

#include "../../user/examples/xdpmux-perf/stream.h"

static uint8_t defined_byte(uint64_t i)
{
	return (uint8_t)(perf_stream_word(i >> 3) >> ((i & 7) * 8));
}

Test(perf_stream, fill_matches_the_definition_at_every_alignment)
{
	uint8_t buf[64 + 2];
	uint64_t bases[] = { 0, 8, 1000, (1ull << 40) + 3 };

	for (size_t b = 0; b < sizeof(bases) / sizeof(bases[0]); b++)
		for (uint64_t off = bases[b]; off < bases[b] + 17; off++)
			for (size_t len = 0; len <= 64; len++) {
				memset(buf, 0xa5, sizeof(buf));
				perf_stream_fill(buf + 1, off, len);
				cr_assert_eq(buf[0], 0xa5, "wrote before buf at off %llu",
					     (unsigned long long)off);
				for (size_t i = 0; i < len; i++)
					cr_assert_eq(buf[1 + i], defined_byte(off + i),
						     "off %llu len %zu byte %zu",
						     (unsigned long long)off, len, i);
				cr_assert_eq(buf[1 + len], 0xa5, "wrote past len %zu at off %llu",
					     len, (unsigned long long)off);
			}
}

Test(perf_stream, consecutive_fills_are_one_stream)
{
	uint8_t whole[1000], parts[1000];
	size_t cut[] = { 0, 3, 11, 16, 17, 500, 993, 1000 };

	perf_stream_fill(whole, 77, sizeof(whole));
	for (size_t c = 0; c + 1 < sizeof(cut) / sizeof(cut[0]); c++)
		perf_stream_fill(parts + cut[c], 77 + cut[c], cut[c + 1] - cut[c]);
	cr_assert_arr_eq(whole, parts, sizeof(whole));
}
