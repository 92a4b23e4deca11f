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

/* ---- HyStart++, RFC 9406 (hystart.c) ---- */
enum { XM_HYSTART_SS = 0, XM_HYSTART_CSS, XM_HYSTART_DONE };

#define XM_HYSTART_MIN_RTT_THRESH_US  4000u    /* RFC 9406 4.3 constants */
#define XM_HYSTART_MAX_RTT_THRESH_US  16000u
#define XM_HYSTART_MIN_RTT_DIVISOR    8u
#define XM_HYSTART_N_RTT_SAMPLE       8u
#define XM_HYSTART_CSS_GROWTH_DIVISOR 4u
#define XM_HYSTART_CSS_ROUNDS         5u
#define XM_HYSTART_L                  8u       /* no pacing: L = 8 */

void xm_hystart_init(struct xm_hystart *h);
/* One ACK in slow start (cwnd < ssthresh): @acked new bytes, @inflight
 * bytes outstanding before the ACK (a round ends once that much is
 * acked: the RFC's windowEnd), @rtt_us a sample or 0. Returns the bytes to
 * add to cwnd; *to_ca is set when CSS is over and ssthresh should become
 * cwnd. */
uint32_t xm_hystart_on_ack(struct xm_hystart *h, uint32_t acked,
			   uint32_t inflight, uint32_t rtt_us, uint32_t mss,
			   bool *to_ca);
/* Loss or timeout: HyStart++ is over for this connection. */
void xm_hystart_stop(struct xm_hystart *h);

#endif /* XM_TCP_CC_INTERNAL_H */
