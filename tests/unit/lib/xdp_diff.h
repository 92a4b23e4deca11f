/* SPDX-License-Identifier: MIT */
/*
 * Differential check of the XDP program against the runtime's classifier
 * (user/lib/net/classify.c): one frame through both, the same verdict, the
 * same counters and the same binding, and the same entry in the `frags` map
 * after a first fragment. The classifier reads the harness's own maps (the
 * bindings the control library wrote, the fragments the program recorded)
 * before the program runs the frame.
 *
 *   struct xh *h;  xh_open(&h);  ... xh_bind(h, ...) ...
 *   char why[XD_WHY_MAX];
 *   int r = xd_check(h, frame, len, why, sizeof(why));
 *   // 0: agree; -EDOM: they differ, why says how, with the frame in hex;
 *   // other -errno: running the program failed.
 *
 * Frames shorter than an Ethernet header are classified only (the kernel
 * refuses to run them). Never prints.
 */
#ifndef XM_TEST_XDP_DIFF_H
#define XM_TEST_XDP_DIFF_H

#include <stddef.h>
#include <stdint.h>

#include "xdp_harness.h"

#define XD_WHY_MAX 32768

int xd_check(struct xh *h, const uint8_t *frame, size_t len, char *why, size_t cap);

/* The frame as hex, 32 bytes a line, into out; returns out. */
char *xd_hex(const uint8_t *frame, size_t len, char *out, size_t cap);

#endif /* XM_TEST_XDP_DIFF_H */
