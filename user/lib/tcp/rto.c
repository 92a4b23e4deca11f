// SPDX-License-Identifier: MIT
/*
 * RFC 6298 retransmission timer arithmetic, in microseconds. Integer math
 * with 64-bit intermediates; K = 4, alpha = 1/8, beta = 1/4 (RFC 6298 2).
 */
#include "rto.h"

static uint32_t clamp(const struct xm_rto *r, uint64_t v)
{
	if (v < r->min_us)
		return r->min_us;
	if (v > r->max_us)
		return r->max_us;
	return (uint32_t)v;
}

void xm_rto_init(struct xm_rto *r, uint32_t min_us, uint32_t max_us,
		 uint32_t initial_us)
{
	r->srtt_us = 0;
	r->rttvar_us = 0;
	r->min_us = min_us;
	r->max_us = max_us < min_us ? min_us : max_us;
	r->backoff = 0;
	r->has_sample = false;
	r->rto_us = clamp(r, initial_us);   /* RFC 6298 2.1 */
}

void xm_rto_sample(struct xm_rto *r, uint32_t rtt_us)
{
	uint64_t rtt = rtt_us;
	if (!r->has_sample) {
		/* RFC 6298 2.2 */
		r->srtt_us = (uint32_t)rtt;
		r->rttvar_us = (uint32_t)(rtt / 2);
		r->has_sample = true;
	} else {
		/* RFC 6298 2.3: RTTVAR first, with the old SRTT. */
		uint64_t err = rtt > r->srtt_us ? rtt - r->srtt_us
						: r->srtt_us - rtt;
		r->rttvar_us = (uint32_t)((3 * (uint64_t)r->rttvar_us + err) / 4);
		r->srtt_us = (uint32_t)((7 * (uint64_t)r->srtt_us + rtt) / 8);
	}
	uint64_t var = 4 * (uint64_t)r->rttvar_us;
	if (var < XM_RTO_CLOCK_G_US)
		var = XM_RTO_CLOCK_G_US;
	/* RFC 6298 2.4 (minimum) and 2.5 (maximum). */
	r->rto_us = clamp(r, (uint64_t)r->srtt_us + var);
}

uint32_t xm_rto_timeout_us(const struct xm_rto *r)
{
	if (r->backoff >= 32)
		return r->max_us;
	uint64_t t = (uint64_t)r->rto_us << r->backoff;
	return t > r->max_us ? r->max_us : (uint32_t)t;
}

void xm_rto_backoff(struct xm_rto *r)
{
	/* RFC 6298 5.5; stop counting once capped so nothing overflows. */
	if (xm_rto_timeout_us(r) < r->max_us)
		r->backoff++;
}

void xm_rto_reset_backoff(struct xm_rto *r)
{
	r->backoff = 0;
}
