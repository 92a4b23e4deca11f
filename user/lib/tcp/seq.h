/* SPDX-License-Identifier: MIT */
/*
 * TCP sequence-number arithmetic modulo 2^32 (RFC 9293 3.4, RFC 1982).
 *
 * Every comparison of sequence numbers, acknowledgment numbers or timestamp
 * values goes through these helpers: a < b means "b is ahead of a by less
 * than 2^31", computed as the sign of the 32-bit difference, so the
 * comparison stays correct across the 2^32 wrap.
 */
#ifndef XM_TCP_SEQ_H
#define XM_TCP_SEQ_H

#include <stdbool.h>
#include <stdint.h>

static inline int32_t seq_diff(uint32_t a, uint32_t b)
{
	return (int32_t)(a - b);
}

static inline bool seq_lt(uint32_t a, uint32_t b) { return seq_diff(a, b) < 0; }
static inline bool seq_le(uint32_t a, uint32_t b) { return seq_diff(a, b) <= 0; }
static inline bool seq_gt(uint32_t a, uint32_t b) { return seq_diff(a, b) > 0; }
static inline bool seq_ge(uint32_t a, uint32_t b) { return seq_diff(a, b) >= 0; }

/* lo <= a <= hi, both ends inclusive (RFC 9293 3.4 acceptability tests
 * build their half-open forms from seq_le/seq_lt directly). */
static inline bool seq_between(uint32_t a, uint32_t lo, uint32_t hi)
{
	return (uint32_t)(a - lo) <= (uint32_t)(hi - lo);
}

static inline uint32_t seq_max(uint32_t a, uint32_t b) { return seq_gt(a, b) ? a : b; }
static inline uint32_t seq_min(uint32_t a, uint32_t b) { return seq_lt(a, b) ? a : b; }

#endif /* XM_TCP_SEQ_H */
