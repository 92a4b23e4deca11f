/* SPDX-License-Identifier: MIT */
/*
 * The runtime under a fuzzer: one stack on a simulated link, with UDP
 * sockets (and TCP ones when the runtime serves TCP) bound on IPv4 and IPv6
 * at port FZ_PORT, and a raw peer link that puts fuzzer frames on the wire.
 * Opened once per process; fz_feed() runs one frame through the receive
 * path, drains the sockets and aborts when the stack leaks a frame.
 *
 * Addresses as tests/unit/lib/sim_env.h: the stack is 02:..:02,
 * 198.18.0.2, 2001:db8::2; the peer 02:..:01, 198.18.0.1, 2001:db8::1.
 *
 * Inputs are split into frames by fz_split(): each record is a 2-byte
 * big-endian length (taken modulo FZ_FRAME_MAX) and that many bytes; a
 * short last record takes what is left.
 */
#ifndef XM_FUZZ_ENV_H
#define XM_FUZZ_ENV_H

#include <stddef.h>
#include <stdint.h>

#define FZ_PORT      7000
#define FZ_FRAME_MAX 1514   /* Ethernet, MTU 1500 */

struct xm_stack;

/* The stack (opened on first use; aborts when it cannot be). */
struct xm_stack *fz_stack(void);
/* One frame through the receive path (len <= FZ_FRAME_MAX). */
void fz_feed(const uint8_t *frame, size_t len);
/* Advance virtual time, running timers (reassembly expiry, ...). */
void fz_advance(uint64_t ns);
/* Read what the sockets received; abort when a frame leaked. */
void fz_drain(void);

/* Next record of data[*off..n): its bytes in *rec, *rec_len; 0 at the end. */
int fz_split(const uint8_t *data, size_t n, size_t *off, const uint8_t **rec,
	     size_t *rec_len);

#endif /* XM_FUZZ_ENV_H */
