/* SPDX-License-Identifier: MIT */
/* Pieces shared by the congestion control modules (not for the engine). */
#ifndef XM_TCP_CC_INTERNAL_H
#define XM_TCP_CC_INTERNAL_H

#include <stdbool.h>
#include <stdint.h>

#include "cc.h"

#define XM_CC_INFINITE_SSTHRESH 0x7fffffffu   /* Linux TCP_INFINITE_SSTHRESH */
#define XM_CC_CWND_MAX          0x40000000u   /* 1 GiB: keeps sums in range */

/* Grow only when the window is what limits the sender (RFC 7661 spirit;
 * Linux tcp_is_cwnd_limited): in slow start while at least half of cwnd
 * is in flight, in congestion avoidance while at most one segment of cwnd
 * is unused. */
bool xm_cc_cwnd_limited(const struct xm_cc *cc, uint32_t inflight);

/* Slow start (RFC 5681 eq. 2, counting every acked byte as Linux does and
 * RFC 3465 allows), not past ssthresh; returns the acked bytes left over
 * for congestion avoidance. */
uint32_t xm_cc_slow_start(struct xm_cc *cc, uint32_t acked);

#endif /* XM_TCP_CC_INTERNAL_H */
