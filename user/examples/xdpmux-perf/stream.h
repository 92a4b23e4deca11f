/* SPDX-License-Identifier: MIT */
/*
 * The test stream xdpmux-perf's TCP client sends and its server checks, and
 * the selftests make and check too (tests/tools/tcp_stream.c): 64-bit words,
 * little-endian, so byte i is byte i % 8 of word i / 8. One definition, so
 * that every side agrees.
 */
#ifndef XDPMUX_PERF_STREAM_H
#define XDPMUX_PERF_STREAM_H

#include <stdint.h>

static inline uint64_t perf_stream_word(uint64_t k)
{
	uint64_t x = k * 0x9e3779b97f4a7c15ull;

	x ^= x >> 29;
	x *= 0xbf58476d1ce4e5b9ull;
	return x ^ (x >> 32);
}

static inline uint8_t perf_stream_byte(uint64_t i)
{
	return (uint8_t)(perf_stream_word(i >> 3) >> ((i & 7) * 8));
}

#endif
