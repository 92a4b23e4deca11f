/* SPDX-License-Identifier: MIT */
/*
 * Retransmission timeout estimator, RFC 6298.
 *
 * Karn's algorithm is the caller's duty: feed xm_rto_sample() only RTTs from
 * segments that were not retransmitted, or from timestamp echoes (RFC 7323 4).
 */
#ifndef XM_TCP_RTO_H
#define XM_TCP_RTO_H

#include <stdbool.h>
#include <stdint.h>

#define XM_RTO_MIN_US      200000u     /* Linux TCP_RTO_MIN */
#define XM_RTO_MAX_US      120000000u  /* Linux TCP_RTO_MAX */
#define XM_RTO_INITIAL_US  1000000u    /* RFC 6298 2.1 */
#define XM_RTO_CLOCK_G_US  1000u       /* clock granularity G (1 ms) */

struct xm_rto {
	uint32_t srtt_us, rttvar_us, rto_us, min_us, max_us;
	uint8_t backoff;           /* number of doublings since last reset */
	bool has_sample;
};

/* RFC 6298 2.1: RTO = initial until the first sample. */
void xm_rto_init(struct xm_rto *r, uint32_t min_us, uint32_t max_us,
		 uint32_t initial_us);
/* RFC 6298 2.2/2.3: first sample sets SRTT=R, RTTVAR=R/2; then
 * alpha=1/8, beta=1/4; RTO = SRTT + max(G, 4*RTTVAR), clamped [min, max].
 * Resets nothing else (backoff is kept until xm_rto_reset_backoff). */
void xm_rto_sample(struct xm_rto *r, uint32_t rtt_us);
/* RFC 6298 5.5: double the timer, capped at max_us. */
void xm_rto_backoff(struct xm_rto *r);
/* A new ACK for new data collapses the backoff (RFC 6298 5.7 discussion). */
void xm_rto_reset_backoff(struct xm_rto *r);
/* Current timeout: rto_us << backoff, capped at max_us. */
uint32_t xm_rto_timeout_us(const struct xm_rto *r);

#endif /* XM_TCP_RTO_H */
