// SPDX-License-Identifier: MIT
/*
 * HyStart++ (RFC 9406): leave slow start when the round trip time of a
 * round grows by RttThresh over the previous round (the queue is filling),
 * go through Conservative Slow Start (CSS, growth / 4) for up to CSS_ROUNDS
 * rounds, and go back to slow start if the RTT drops under the baseline
 * (the exit was spurious). Rounds are counted by bytes: a round ends when
 * the bytes outstanding at its start are acknowledged, which is the RFC's
 * "ACK at or above windowEnd" with cumulative ACKs.
 *
 * Used for the initial slow start only; after a loss or timeout slow start
 * is RFC 5681's (a conservative choice, RFC 9406 4.3 leaves it open).
 */
#include "cc.h"
#include "cc_internal.h"

#define NONE UINT32_MAX

void xm_hystart_init(struct xm_hystart *h)
{
	*h = (struct xm_hystart){
		.state = XM_HYSTART_SS,
		.last_min_us = NONE,
		.cur_min_us = NONE,
		.css_base_us = NONE,
	};
}

void xm_hystart_stop(struct xm_hystart *h)
{
	h->state = XM_HYSTART_DONE;
}

static uint32_t rtt_thresh(uint32_t last_min)
{
	uint32_t t = last_min / XM_HYSTART_MIN_RTT_DIVISOR;
	if (t > XM_HYSTART_MAX_RTT_THRESH_US)
		t = XM_HYSTART_MAX_RTT_THRESH_US;
	if (t < XM_HYSTART_MIN_RTT_THRESH_US)
		t = XM_HYSTART_MIN_RTT_THRESH_US;
	return t;
}

uint32_t xm_hystart_on_ack(struct xm_hystart *h, uint32_t acked,
			   uint32_t inflight, uint32_t rtt_us, uint32_t mss,
			   bool *to_ca)
{
	*to_ca = false;
	if (h->state == XM_HYSTART_DONE)
		return acked;

	/* A new round: RFC 9406 4.2 "at the start of each round". */
	if (!h->round_left) {
		if (h->state == XM_HYSTART_CSS &&
		    ++h->css_rounds >= XM_HYSTART_CSS_ROUNDS) {
			/* CSS_ROUNDS complete: congestion avoidance with
			 * ssthresh = cwnd. */
			h->state = XM_HYSTART_DONE;
			*to_ca = true;
			return 0;
		}
		h->last_min_us = h->cur_min_us;
		h->cur_min_us = NONE;
		h->samples = 0;
		h->round_left = inflight ? inflight : acked;
	}
	h->round_left -= acked < h->round_left ? acked : h->round_left;

	if (rtt_us) {
		if (rtt_us < h->cur_min_us)
			h->cur_min_us = rtt_us;
		if (h->samples < UINT16_MAX)
			h->samples++;
	}

	uint32_t cap = XM_HYSTART_L * mss;
	uint32_t inc = acked < cap ? acked : cap;
	bool enough = h->samples >= XM_HYSTART_N_RTT_SAMPLE && h->cur_min_us != NONE;

	if (h->state == XM_HYSTART_SS) {
		if (enough && h->last_min_us != NONE &&
		    h->cur_min_us >= h->last_min_us + rtt_thresh(h->last_min_us)) {
			h->css_base_us = h->cur_min_us;
			h->state = XM_HYSTART_CSS;
			h->css_rounds = 0;
			return inc / XM_HYSTART_CSS_GROWTH_DIVISOR;
		}
		return inc;
	}
	/* CSS: the exit was spurious if the RTT went back under the
	 * baseline; resume slow start. */
	if (enough && h->cur_min_us < h->css_base_us) {
		h->css_base_us = NONE;
		h->state = XM_HYSTART_SS;
		return inc;
	}
	return inc / XM_HYSTART_CSS_GROWTH_DIVISOR;
}
