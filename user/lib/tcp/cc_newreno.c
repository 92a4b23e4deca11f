// SPDX-License-Identifier: MIT
/*
 * NewReno congestion control: RFC 5681 slow start and congestion avoidance
 * with byte counting (RFC 3465), RFC 6582 fast recovery. The engine drives
 * recovery with a pipe estimate (RFC 6675 style), so cwnd is not inflated
 * per duplicate ACK: it is set to ssthresh on entry and kept there.
 */
#include "cc.h"
#include "cc_internal.h"

static void newreno_init(struct xm_cc *cc, uint32_t mss, uint64_t now_us)
{
	(void)now_us;
	cc->mss = mss ? mss : 536;
	cc->cwnd = XM_CC_IW_SEGS * cc->mss;     /* RFC 6928 */
	cc->ssthresh = XM_CC_INFINITE_SSTHRESH;
	cc->in_recovery = false;
	cc->u.newreno.bytes_acked = 0;
}

static void newreno_on_ack(struct xm_cc *cc, uint32_t acked, uint32_t inflight,
			   uint32_t rtt_us, uint64_t now_us)
{
	(void)rtt_us;
	(void)now_us;
	if (cc->in_recovery || !acked || !xm_cc_cwnd_limited(cc, inflight))
		return;
	if (cc->cwnd < cc->ssthresh) {
		acked = xm_cc_slow_start(cc, acked);
		if (!acked)
			return;
	}
	/* RFC 5681 3.1 / RFC 3465 2.1: one MSS per cwnd of acked bytes. */
	struct xm_cc_newreno *s = &cc->u.newreno;
	s->bytes_acked += acked;
	while (s->bytes_acked >= cc->cwnd && cc->cwnd < XM_CC_CWND_MAX) {
		s->bytes_acked -= cc->cwnd;
		cc->cwnd += cc->mss;
	}
}

/* RFC 5681 eq. 4: ssthresh = max(FlightSize / 2, 2 * SMSS). */
static uint32_t half_flight(const struct xm_cc *cc, uint32_t inflight)
{
	uint32_t half = inflight / 2;
	return half > 2 * cc->mss ? half : 2 * cc->mss;
}

static void newreno_on_loss(struct xm_cc *cc, uint32_t inflight, uint64_t now_us)
{
	(void)now_us;
	cc->ssthresh = half_flight(cc, inflight);
	cc->cwnd = cc->ssthresh;
	cc->in_recovery = true;
	cc->u.newreno.bytes_acked = 0;
}

static void newreno_on_rto(struct xm_cc *cc, uint32_t inflight, uint64_t now_us)
{
	(void)now_us;
	/* RFC 5681 3.1: a retransmission lost again keeps ssthresh (the
	 * window is already one segment, nothing was acked since); so does
	 * a timeout during fast recovery, which already set it (as Linux
	 * tcp_enter_loss). */
	if (cc->cwnd > cc->mss && !cc->in_recovery)
		cc->ssthresh = half_flight(cc, inflight);
	cc->cwnd = cc->mss;                      /* loss window */
	cc->in_recovery = false;
	cc->u.newreno.bytes_acked = 0;
}

static void newreno_on_recovery_end(struct xm_cc *cc, uint64_t now_us)
{
	(void)now_us;
	/* RFC 6582 3.2 step 3, option (2): deflate to ssthresh. */
	cc->cwnd = cc->ssthresh;
	cc->in_recovery = false;
}

const struct xm_cc_ops xm_cc_newreno_ops = {
	.name = "reno",
	.init = newreno_init,
	.on_ack = newreno_on_ack,
	.on_loss = newreno_on_loss,
	.on_rto = newreno_on_rto,
	.on_recovery_end = newreno_on_recovery_end,
};
