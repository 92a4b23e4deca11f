// SPDX-License-Identifier: MIT
/*
 * Congestion control: the registry, NewReno (RFC 5681, RFC 6582) step by
 * step, CUBIC's window against RFC 9438's W_cubic(t) and W_est formulas
 * over simulated rounds of ACKs.
 */
#include <criterion/criterion.h>

#include "../../user/lib/tcp/cc.h"

#define MSS 1000u

static struct xm_cc make(const char *name)
{
	struct xm_cc cc = { .ops = xm_cc_find(name) };
	cr_assert_not_null(cc.ops, "%s", name);
	cc.ops->init(&cc, MSS, 0);
	return cc;
}

Test(tcp_cc, registry_names)
{
	cr_assert_eq(xm_cc_find(NULL), &xm_cc_cubic_ops);
	cr_assert_eq(xm_cc_find(""), &xm_cc_cubic_ops);
	cr_assert_eq(xm_cc_find("cubic"), &xm_cc_cubic_ops);
	cr_assert_eq(xm_cc_find("reno"), &xm_cc_newreno_ops);
	cr_assert_eq(xm_cc_find("newreno"), &xm_cc_newreno_ops);
	cr_assert_null(xm_cc_find("bbr"));
	cr_assert_str_eq(xm_cc_cubic_ops.name, "cubic");
	cr_assert_str_eq(xm_cc_newreno_ops.name, "reno");
}

Test(tcp_cc, initial_window_is_ten_segments_rfc_6928)
{
	struct xm_cc a = make("reno"), b = make("cubic");
	cr_assert_eq(a.cwnd, 10 * MSS);
	cr_assert_eq(b.cwnd, 10 * MSS);
	cr_assert_gt(a.ssthresh, 1000000000u);
	cr_assert_gt(b.ssthresh, 1000000000u);
}

/* ---- NewReno ---- */

Test(tcp_cc, newreno_slow_start_grows_by_bytes_acked)
{
	struct xm_cc cc = make("reno");
	cc.ops->on_ack(&cc, 2 * MSS, cc.cwnd, 0, 1000);
	cr_assert_eq(cc.cwnd, 12 * MSS);
	cc.ssthresh = 13 * MSS;
	/* crossing ssthresh: 1 MSS fills slow start, the rest is CA */
	cc.ops->on_ack(&cc, 3 * MSS, cc.cwnd, 0, 2000);
	cr_assert_eq(cc.cwnd, 13 * MSS);
}

Test(tcp_cc, newreno_congestion_avoidance_one_mss_per_window)
{
	struct xm_cc cc = make("reno");
	cc.ssthresh = 10 * MSS;   /* cwnd == ssthresh: congestion avoidance */
	for (int i = 0; i < 9; i++)
		cc.ops->on_ack(&cc, MSS, cc.cwnd, 0, 1000);
	cr_assert_eq(cc.cwnd, 10 * MSS, "not a full window acked yet");
	cc.ops->on_ack(&cc, MSS, cc.cwnd, 0, 1000);
	cr_assert_eq(cc.cwnd, 11 * MSS);
}

Test(tcp_cc, newreno_application_limited_does_not_grow)
{
	struct xm_cc cc = make("reno");
	cc.ops->on_ack(&cc, MSS, 2 * MSS, 0, 1000);   /* 2 of 10 in flight */
	cr_assert_eq(cc.cwnd, 10 * MSS);
	cc.ssthresh = 10 * MSS;
	for (int i = 0; i < 20; i++)
		cc.ops->on_ack(&cc, MSS, 5 * MSS, 0, 1000);
	cr_assert_eq(cc.cwnd, 10 * MSS);
}

Test(tcp_cc, newreno_fast_recovery_rfc_5681_6582)
{
	struct xm_cc cc = make("reno");
	cc.cwnd = 40 * MSS;
	cc.ops->on_loss(&cc, 30 * MSS, 1000);
	/* RFC 5681 eq. 4: ssthresh = max(FlightSize / 2, 2 * SMSS) */
	cr_assert_eq(cc.ssthresh, 15 * MSS);
	cr_assert_eq(cc.cwnd, 15 * MSS);
	cr_assert(cc.in_recovery);
	/* partial ACKs during recovery do not grow the window */
	cc.ops->on_ack(&cc, 5 * MSS, 15 * MSS, 0, 2000);
	cr_assert_eq(cc.cwnd, 15 * MSS);
	cc.ops->on_recovery_end(&cc, 3000);
	cr_assert_not(cc.in_recovery);
	cr_assert_eq(cc.cwnd, cc.ssthresh);
	/* small flight: floor of two segments */
	cc.ops->on_loss(&cc, MSS, 4000);
	cr_assert_eq(cc.ssthresh, 2 * MSS);
}

Test(tcp_cc, newreno_rto_loss_window_and_repeat)
{
	struct xm_cc cc = make("reno");
	cc.cwnd = 40 * MSS;
	cc.ops->on_rto(&cc, 40 * MSS, 1000);
	cr_assert_eq(cc.cwnd, MSS);
	cr_assert_eq(cc.ssthresh, 20 * MSS);
	/* the retransmission times out again: ssthresh is kept */
	cc.ops->on_rto(&cc, MSS, 2000);
	cr_assert_eq(cc.ssthresh, 20 * MSS);
	cr_assert_eq(cc.cwnd, MSS);
	/* slow start again up to ssthresh */
	cc.ops->on_ack(&cc, MSS, MSS, 0, 3000);
	cr_assert_eq(cc.cwnd, 2 * MSS);
}

/* ---- CUBIC ---- */

Test(tcp_cc, cubic_formulas_eq_1_and_2)
{
	/* K = cbrt(W_max * (1 - beta) / C) when cwnd_epoch = beta * W_max */
	double k = xm_cc_cubic_k(100, 70);
	cr_assert_float_eq(XM_CUBIC_C * k * k * k, 30.0, 1e-9);
	cr_assert_float_eq(k, 4.2171633265087, 1e-9);
	cr_assert_float_eq(xm_cc_cubic_w(0, k, 100), 70.0, 1e-6);
	cr_assert_float_eq(xm_cc_cubic_w(k, k, 100), 100.0, 1e-9);
	cr_assert_float_eq(xm_cc_cubic_w(k + 2, k, 100), 100 + 0.4 * 8, 1e-9);
	double big = xm_cc_cubic_k(1e6, 1.0);
	cr_assert_float_eq(XM_CUBIC_C * big * big * big, 1e6 - 1, 1e-3);
	double neg = xm_cc_cubic_k(10, 20);
	cr_assert_float_eq(XM_CUBIC_C * neg * neg * neg, -10.0, 1e-9);
}

Test(tcp_cc, cubic_multiplicative_decrease_and_fast_convergence)
{
	struct xm_cc cc = make("cubic");
	cc.cwnd = 100 * MSS;
	cc.ops->on_loss(&cc, 100 * MSS, 1000);
	/* RFC 9438 4.6: ssthresh = cwnd * beta_cubic */
	cr_assert_eq(cc.ssthresh, 70 * MSS);
	cr_assert_eq(cc.cwnd, 70 * MSS);
	cr_assert_float_eq(cc.u.cubic.w_max, 100.0, 1e-9);
	cc.ops->on_recovery_end(&cc, 2000);
	/* RFC 9438 4.7: a loss below W_max releases bandwidth faster */
	cc.cwnd = 80 * MSS;
	cc.ops->on_loss(&cc, 80 * MSS, 3000);
	cr_assert_float_eq(cc.u.cubic.w_max, 80.0 * 1.7 / 2, 1e-9);
	cr_assert_eq(cc.cwnd, 56 * MSS);
}

/* Deliver one round trip of ACKs (one per segment of cwnd), evenly spaced
 * over @rtt_us starting at *now, the sender keeping the window full;
 * returns the window in segments. */
static double round_trip(struct xm_cc *cc, uint64_t *now, uint32_t rtt_us)
{
	uint32_t n = cc->cwnd / MSS;
	uint64_t start = *now;
	for (uint32_t j = 1; j <= n; j++) {
		*now = start + (uint64_t)rtt_us * j / n;
		cc->ops->on_ack(cc, MSS, cc->cwnd, rtt_us, *now);
	}
	return (double)cc->cwnd / MSS;
}

static void enter_ca_after_loss(struct xm_cc *cc, double w_max_segs, uint64_t *now)
{
	cc->cwnd = (uint32_t)(w_max_segs * MSS);
	cc->ops->on_loss(cc, cc->cwnd, *now);
	cc->ops->on_recovery_end(cc, *now);
}

/* RFC 9438 eq. 4 over whole rounds, segments acked per round = cwnd, so
 * W_est grows by alpha_cubic per RTT, then by 1 once it reaches W_max. */
static double w_est_ref(double w_max, double rounds)
{
	const double alpha = 3 * (1 - XM_CUBIC_BETA) / (1 + XM_CUBIC_BETA);
	double start = w_max * XM_CUBIC_BETA;
	double to_wmax = (w_max - start) / alpha;
	if (rounds <= to_wmax)
		return start + alpha * rounds;
	return w_max + (rounds - to_wmax);
}

static double max2(double a, double b)
{
	return a > b ? a : b;
}

Test(tcp_cc, cubic_window_follows_w_cubic_of_t)
{
	/* Long RTT: the cubic function dominates the Reno estimate until
	 * well past K; cwnd = max(W_cubic, W_est) throughout (4.3-4.5). */
	const uint32_t rtt = 100000;
	const double w_max = 1000;
	struct xm_cc cc = make("cubic");
	uint64_t now = 1000000;
	enter_ca_after_loss(&cc, w_max, &now);
	uint64_t epoch = now;   /* first CA ACK starts the epoch */
	double k = xm_cc_cubic_k(w_max, w_max * XM_CUBIC_BETA);
	bool saw_plateau = false, saw_convex = false;
	for (int r = 0; r < 150; r++) {
		double w = round_trip(&cc, &now, rtt);
		double t = (double)(now - epoch) / 1e6;
		/* the window lags W_cubic(t + RTT) by at most one round and
		 * never overshoots it (plus a segment of rounding) */
		double cub_hi = xm_cc_cubic_w(t + rtt / 1e6, k, w_max);
		double cub_lo = xm_cc_cubic_w(t - rtt / 1e6, k, w_max);
		double hi = max2(cub_hi, w_est_ref(w_max, r + 2));
		double lo = max2(cub_lo, w_est_ref(w_max, r - 1));
		cr_assert_leq(w, hi + 1.0, "round %d t=%.2f w=%.2f bound=%.2f", r, t, w, hi);
		cr_assert_geq(w, lo - 1.0, "round %d t=%.2f w=%.2f bound=%.2f", r, t, w, lo);
		if (t - k < 0.1 && k - t < 0.1) {
			cr_assert_float_eq(w, w_max, 1.5, "plateau at t=K: w=%.2f", w);
			saw_plateau = true;
		}
		if (t > k + 1 && cub_lo > w_est_ref(w_max, r + 2) + 2) {
			/* convex region, cubic-dominated: above W_max */
			cr_assert_gt(w, w_max);
			saw_convex = true;
		}
	}
	cr_assert(saw_plateau);
	cr_assert(saw_convex);
}

Test(tcp_cc, cubic_reno_friendly_region_follows_w_est)
{
	/* Short RTT: RFC 9438 4.3, cwnd = W_est = beta*W_max + alpha * t/RTT
	 * (eq. 4) while it exceeds W_cubic(t). */
	const uint32_t rtt = 1000;
	const double w_max = 100;
	const double alpha = 3 * (1 - XM_CUBIC_BETA) / (1 + XM_CUBIC_BETA);
	struct xm_cc cc = make("cubic");
	uint64_t now = 1000000;
	enter_ca_after_loss(&cc, w_max, &now);
	double k = xm_cc_cubic_k(w_max, w_max * XM_CUBIC_BETA);
	for (int r = 1; r <= 50; r++) {
		double w = round_trip(&cc, &now, rtt);
		double est = w_max * XM_CUBIC_BETA + alpha * r;
		double t = (double)r * rtt / 1e6;
		cr_assert_lt(xm_cc_cubic_w(t, k, w_max), est, "still Reno-friendly");
		cr_assert_float_eq(w, est, 1.0 + 0.02 * r, "round %d: w=%.2f W_est=%.2f", r, w, est);
	}
}

Test(tcp_cc, cubic_no_growth_in_recovery_or_app_limited)
{
	struct xm_cc cc = make("cubic");
	cc.cwnd = 50 * MSS;
	cc.ops->on_loss(&cc, 50 * MSS, 1000);
	uint32_t w = cc.cwnd;
	cc.ops->on_ack(&cc, 10 * MSS, w, 1000, 2000);
	cr_assert_eq(cc.cwnd, w);
	cc.ops->on_recovery_end(&cc, 3000);
	cc.ops->on_ack(&cc, MSS, MSS, 1000, 4000);   /* 1 of 35 in flight */
	cr_assert_eq(cc.cwnd, w);
}

Test(tcp_cc, cubic_rto_then_slow_start_to_ssthresh)
{
	struct xm_cc cc = make("cubic");
	cc.cwnd = 100 * MSS;
	cc.ops->on_rto(&cc, 100 * MSS, 1000);
	cr_assert_eq(cc.cwnd, MSS);
	cr_assert_eq(cc.ssthresh, 70 * MSS);
	cc.ops->on_rto(&cc, MSS, 2000);
	cr_assert_eq(cc.ssthresh, 70 * MSS, "repeat timeout keeps ssthresh");
	uint64_t now = 3000;
	for (int r = 0; r < 7; r++)
		round_trip(&cc, &now, 10000);
	/* 1, 2, 4 .. 64, then capped at 70 and growing slowly from there */
	cr_assert_geq(cc.cwnd, 70 * MSS);
	cr_assert_lt(cc.cwnd, 80 * MSS);
}

Test(tcp_cc, cubic_idle_and_app_limited_time_not_counted_rfc_9438_5_8)
{
	/* Two flows after the same loss; one goes idle for 10 s mid-way.
	 * Afterwards its window must continue from where it stopped, as if
	 * the idle time had not passed (not leap towards W_cubic(t + 10)). */
	const uint32_t rtt = 100000;
	struct xm_cc a = make("cubic"), b = make("cubic");
	uint64_t ta = 1000000, tb = 1000000;
	enter_ca_after_loss(&a, 1000, &ta);
	enter_ca_after_loss(&b, 1000, &tb);
	for (int r = 0; r < 20; r++) {
		round_trip(&a, &ta, rtt);
		round_trip(&b, &tb, rtt);
	}
	tb += 10000000;                                   /* idle 10 s */
	for (int r = 0; r < 20; r++) {
		round_trip(&a, &ta, rtt);
		round_trip(&b, &tb, rtt);
	}
	/* the first round after idle counts as one RTT of curve time */
	cr_assert_float_eq((double)b.cwnd / MSS, (double)a.cwnd / MSS, 5.0,
			   "idle flow %u vs busy flow %u", b.cwnd / MSS, a.cwnd / MSS);

	/* Application-limited ACKs (half the window in flight) leave both
	 * cwnd and the curve's clock where they were. */
	uint32_t w = b.cwnd;
	uint64_t epoch = b.u.cubic.epoch_us;
	for (int i = 0; i < 1000; i++) {
		tb += 10000;
		b.ops->on_ack(&b, MSS, w / 2, rtt, tb);
	}
	cr_assert_eq(b.cwnd, w);
	cr_assert_eq(b.u.cubic.epoch_us, epoch + 1000 * 10000ull);
}

/* ---- HyStart++ (RFC 9406) in CUBIC's initial slow start ---- */

Test(tcp_cc, hystart_constant_rtt_is_plain_slow_start)
{
	struct xm_cc cc = make("cubic");
	uint64_t now = 1000;
	for (int r = 0; r < 8; r++) {
		double w = round_trip(&cc, &now, 50000);
		cr_assert_float_eq(w, 10.0 * (2 << r), 1e-9, "round %d: w=%.0f", r, w);
	}
	cr_assert_eq(cc.u.cubic.hs.state, 0 /* XM_HYSTART_SS */);
	cr_assert_gt(cc.ssthresh, 1000000000u);
}

/* Rounds of 50 ms until the window reaches 640 segments, then the RTT
 * grows by 10 ms (over RttThresh = max(4, min(50/8, 16)) = 6.25 ms). */
static void hystart_to_css(struct xm_cc *cc, uint64_t *now)
{
	for (int r = 0; r < 6; r++)
		round_trip(cc, now, 50000);
	cr_assert_eq(cc->cwnd, 640 * MSS);
	double w = round_trip(cc, now, 60000);
	cr_assert_eq(cc->u.cubic.hs.state, 1 /* XM_HYSTART_CSS */);
	/* 8 ACKs (N_RTT_SAMPLE) at full growth, the rest at 1/4 */
	cr_assert_float_eq(w, 640 + 8 + 632 / 4, 1.0, "w=%.1f", w);
	cr_assert_eq(cc->u.cubic.hs.css_base_us, 60000u);
}

Test(tcp_cc, hystart_delay_increase_enters_css_then_congestion_avoidance)
{
	struct xm_cc cc = make("cubic");
	uint64_t now = 1000;
	hystart_to_css(&cc, &now);
	int rounds = 0;
	while (cc.ssthresh > 1000000000u && rounds < 10) {
		double before = (double)cc.cwnd / MSS;
		double w = round_trip(&cc, &now, 60000);
		if (cc.ssthresh > 1000000000u)
			/* CSS grows by a quarter of what slow start would */
			cr_assert_float_eq(w, before * 1.25, 1.0, "w=%.1f before=%.1f", w, before);
		rounds++;
	}
	cr_assert_leq(rounds, (int)5, "CSS lasts at most CSS_ROUNDS rounds");
	cr_assert_eq(cc.u.cubic.hs.state, 2 /* XM_HYSTART_DONE */);
	cr_assert_leq(cc.ssthresh, cc.cwnd);
	/* now congestion avoidance: far less than 25 % per round */
	double before = (double)cc.cwnd / MSS;
	double w = round_trip(&cc, &now, 60000);
	cr_assert_lt(w, before * 1.05);
}

Test(tcp_cc, hystart_spurious_exit_resumes_slow_start)
{
	struct xm_cc cc = make("cubic");
	uint64_t now = 1000;
	hystart_to_css(&cc, &now);
	/* the RTT drops back under the CSS baseline: resume slow start */
	double before = (double)cc.cwnd / MSS;
	round_trip(&cc, &now, 50000);
	cr_assert_eq(cc.u.cubic.hs.state, 0 /* XM_HYSTART_SS */);
	before = (double)cc.cwnd / MSS;
	double w = round_trip(&cc, &now, 50000);
	cr_assert_float_eq(w, 2 * before, 1.0, "doubling again: w=%.1f before=%.1f", w, before);
}

Test(tcp_cc, hystart_growth_per_ack_capped_at_l_segments)
{
	struct xm_cc cc = make("cubic");
	/* a stretch ACK of 20 segments grows cwnd by at most L = 8 */
	cc.ops->on_ack(&cc, 20 * MSS, cc.cwnd, 50000, 1000);
	cr_assert_eq(cc.cwnd, 18 * MSS);
}

Test(tcp_cc, hystart_ends_at_loss_and_timeout)
{
	struct xm_cc cc = make("cubic");
	cc.ops->on_loss(&cc, cc.cwnd, 1000);
	cr_assert_eq(cc.u.cubic.hs.state, 2 /* XM_HYSTART_DONE */);
	struct xm_cc d = make("cubic");
	d.ops->on_rto(&d, d.cwnd, 1000);
	cr_assert_eq(d.u.cubic.hs.state, 2 /* XM_HYSTART_DONE */);
	/* after the timeout, slow start is RFC 5681's: no L cap */
	d.ssthresh = 100 * MSS;
	d.ops->on_ack(&d, 20 * MSS, d.cwnd, 50000, 2000);
	cr_assert_eq(d.cwnd, 21 * MSS);
}
