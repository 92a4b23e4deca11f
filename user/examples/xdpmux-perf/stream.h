/* SPDX-License-Identifier: MIT */
/*
 * The test stream xdpmux-perf's TCP client sends and its server checks, and
 * the selftests make and check too (tests/tools/tcp_stream.c): 64-bit words,
 * little-endian, so byte i is byte i % 8 of word i / 8. One definition, so
 * that every side agrees.
 */
#ifndef XDPMUX_PERF_STREAM_H
#define XDPMUX_PERF_STREAM_H

#include <endian.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

static inline uint64_t perf_stream_word(uint64_t k)
{
	uint64_t x = k * 0x9e3779b97f4a7c15ull;

	x ^= x >> 29;
	x *= 0xbf58476d1ce4e5b9ull;
	return x ^ (x >> 32);
}

/* The stream's bytes [off, off + len) into buf, one word computed per 8
 * bytes: at a few Gbit/s, making the stream byte by byte cost the sender
 * more CPU than its TCP did. */
static inline void perf_stream_fill(uint8_t *buf, uint64_t off, size_t len)
{
	size_t i = 0;

	while (i < len) {
		uint64_t x = perf_stream_word((off + i) >> 3);
		unsigned int b = (off + i) & 7;

		if (!b && len - i >= 8) {
			x = htole64(x);
			memcpy(buf + i, &x, 8);
			i += 8;
			continue;
		}
		for (; b < 8 && i < len; b++)
			buf[i++] = (uint8_t)(x >> (b * 8));
	}
}

#endif
