// SPDX-License-Identifier: MIT
/*
 * CUBIC congestion control, RFC 9438. Windows in the formulas are in
 * segments (doubles, as the RFC writes them); cc->cwnd stays in bytes, with
 * the fractional growth carried in cwnd_frac so slow growth is not lost to
 * rounding. The initial slow start is HyStart++ (RFC 9438 4.10 -> RFC 9406,
 * hystart.c); later ones are RFC 5681's.
 */
#include "cc.h"
#include "cc_internal.h"

/* RFC 9438 4.3: alpha_cubic = 3 * (1 - beta) / (1 + beta). */
#define ALPHA_CUBIC (3.0 * (1.0 - XM_CUBIC_BETA) / (1.0 + XM_CUBIC_BETA))

/* Cube root by Newton's method: libm is not linked into libxdpmux. */
static double cube_root(double x)
{
	if (x == 0.0)
		return 0.0;
	double a = x < 0 ? -x : x;
	double y = a > 1.0 ? a : 1.0;
	for (int i = 0; i < 200; i++) {
		double next = (2.0 * y + a / (y * y)) / 3.0;
		if (next >= y)      /* monotone from above: converged */
			break;
		y = next;
	}
	return x < 0 ? -y : y;
}

double xm_cc_cubic_w(double t_s, double k_s, double w_max)
{
	double d = t_s - k_s;
	return XM_CUBIC_C * d * d * d + w_max;       /* RFC 9438 eq. 1 */
}

double xm_cc_cubic_k(double w_max, double cwnd_epoch)
{
	return cube_root((w_max - cwnd_epoch) / XM_CUBIC_C);   /* eq. 2 */
}

static double cwnd_segs(const struct xm_cc *cc)
{
	return ((double)cc->cwnd + cc->u.cubic.cwnd_frac) / cc->mss;
}

static void set_cwnd_segs(struct xm_cc *cc, double w)
{
	double bytes = w * cc->mss;
	if (bytes > XM_CC_CWND_MAX)
		bytes = XM_CC_CWND_MAX;
	uint32_t whole = (uint32_t)bytes;
	cc->cwnd = whole;
	cc->u.cubic.cwnd_frac = bytes - whole;
}

static void reset_epoch(struct xm_cc *cc)
{
	cc->u.cubic.epoch_us = 0;
	cc->u.cubic.cwnd_frac = 0;
}

static void cubic_init(struct xm_cc *cc, uint32_t mss, uint64_t now_us)
{
	(void)now_us;
	cc->mss = mss ? mss : 536;
	cc->cwnd = XM_CC_IW_SEGS * cc->mss;     /* RFC 6928 */
	cc->ssthresh = XM_CC_INFINITE_SSTHRESH;
	cc->in_recovery = false;
	cc->u.cubic = (struct xm_cc_cubic){ 0 };
	xm_hystart_init(&cc->u.cubic.hs);
}

/* RFC 9438 4.2: a congestion avoidance epoch starts at the first ACK in
 * congestion avoidance; K from the window at that moment. With no earlier
 * reduction (or a window already above W_max) the curve's origin is the
 * current window: K = 0, as Linux bictcp_update does. */
static void start_epoch(struct xm_cc *cc, double w, uint64_t now_us)
{
	struct xm_cc_cubic *s = &cc->u.cubic;
	s->epoch_us = now_us ? now_us : 1;
	if (s->w_max <= w) {
		s->w_max = w;
		s->k = 0;
	} else {
		s->k = xm_cc_cubic_k(s->w_max, w);
	}
	s->w_est = w;                           /* RFC 9438 4.3 */
}

static void cubic_on_ack(struct xm_cc *cc, uint32_t acked, uint32_t inflight,
			 uint32_t rtt_us, uint64_t now_us)
{
	struct xm_cc_cubic *s = &cc->u.cubic;

	if (rtt_us) {
		if (!s->min_rtt_us || rtt_us < s->min_rtt_us)
			s->min_rtt_us = rtt_us;
		/* smoothed as RFC 6298 SRTT, for W_cubic(t + RTT) */
		s->srtt_us = s->srtt_us ? (7 * s->srtt_us + rtt_us) / 8 : rtt_us;
	}
	uint64_t gap = s->last_ack_us && now_us > s->last_ack_us ? now_us - s->last_ack_us : 0;
	s->last_ack_us = now_us;
	/* RFC 9438 5.8: t must not count time in which cwnd was not used:
	 * shift the epoch by gaps between ACKs longer than a round trip (the
	 * sender was idle, as Linux's CA_EVENT_TX_START) and by the time
	 * spent application-limited. */
	if (s->epoch_us) {
		uint64_t rtt = s->srtt_us ? s->srtt_us : 1000;
		if (!xm_cc_cwnd_limited(cc, inflight))
			s->epoch_us += gap;
		else if (gap > rtt)
			s->epoch_us += gap - rtt;
		if (s->epoch_us > now_us)
			s->epoch_us = now_us;
	}
	if (cc->in_recovery || !acked || !xm_cc_cwnd_limited(cc, inflight))
		return;
	if (cc->cwnd < cc->ssthresh && s->hs.state != XM_HYSTART_DONE) {
		bool to_ca;
		uint32_t inc = xm_hystart_on_ack(&s->hs, acked, inflight, rtt_us,
						 cc->mss, &to_ca);
		xm_cc_slow_start(cc, inc);
		if (to_ca)
			cc->ssthresh = cc->cwnd;
		return;
	}
	if (cc->cwnd < cc->ssthresh) {
		acked = xm_cc_slow_start(cc, acked);
		if (!acked)
			return;
	}

	double w = cwnd_segs(cc);
	double segs = (double)acked / cc->mss;
	if (!s->epoch_us)
		start_epoch(cc, w, now_us);
	double t = now_us > s->epoch_us ? (double)(now_us - s->epoch_us) / 1e6 : 0;
	double rtt = (double)s->srtt_us / 1e6;

	/* RFC 9438 4.3: Reno-friendly estimate, alpha = 1 once W_est has
	 * reached W_max. */
	double alpha = s->w_est >= s->w_max ? 1.0 : ALPHA_CUBIC;
	s->w_est += alpha * segs / w;

	double next;
	if (xm_cc_cubic_w(t, s->k, s->w_max) < s->w_est) {
		next = s->w_est;                /* Reno-friendly region */
	} else {
		/* RFC 9438 4.4/4.5: concave and convex regions, growing by
		 * (target - cwnd) / cwnd per acked segment, target clamped to
		 * [cwnd, 1.5 cwnd]. */
		double target = xm_cc_cubic_w(t + rtt, s->k, s->w_max);
		if (target < w)
			target = w;
		else if (target > 1.5 * w)
			target = 1.5 * w;
		next = w + (target - w) / w * segs;
	}
	if (next > w)
		set_cwnd_segs(cc, next);
}

/* RFC 9438 4.6 and 4.7: multiplicative decrease with fast convergence. */
static void reduce(struct xm_cc *cc)
{
	struct xm_cc_cubic *s = &cc->u.cubic;
	double w = cwnd_segs(cc);

	s->w_max = w < s->w_max ? w * (1.0 + XM_CUBIC_BETA) / 2.0 : w;
	double ss = (double)cc->cwnd * XM_CUBIC_BETA;
	cc->ssthresh = ss > 2.0 * cc->mss ? (uint32_t)ss : 2 * cc->mss;
}

static void cubic_on_loss(struct xm_cc *cc, uint32_t inflight, uint64_t now_us)
{
	(void)inflight;
	(void)now_us;
	xm_hystart_stop(&cc->u.cubic.hs);   /* RFC 9406 4.3 */
	reduce(cc);
	cc->cwnd = cc->ssthresh;
	cc->in_recovery = true;
	reset_epoch(cc);
}

static void cubic_on_rto(struct xm_cc *cc, uint32_t inflight, uint64_t now_us)
{
	(void)inflight;
	(void)now_us;
	/* RFC 9438 4.8 / RFC 5681 3.1: reduce once per loss episode; a
	 * timeout in fast recovery keeps the ssthresh recovery set. */
	if (cc->cwnd > cc->mss && !cc->in_recovery)
		reduce(cc);
	xm_hystart_stop(&cc->u.cubic.hs);
	cc->cwnd = cc->mss;
	cc->in_recovery = false;
	reset_epoch(cc);
}

static void cubic_on_recovery_end(struct xm_cc *cc, uint64_t now_us)
{
	(void)now_us;
	cc->cwnd = cc->ssthresh;
	cc->in_recovery = false;
	reset_epoch(cc);
}

const struct xm_cc_ops xm_cc_cubic_ops = {
	.name = "cubic",
	.init = cubic_init,
	.on_ack = cubic_on_ack,
	.on_loss = cubic_on_loss,
	.on_rto = cubic_on_rto,
	.on_recovery_end = cubic_on_recovery_end,
};
