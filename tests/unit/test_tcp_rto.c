// SPDX-License-Identifier: MIT
/* RFC 6298 estimator: each step checked against the RFC's formulas
 * evaluated independently in floating point. */
#include <criterion/criterion.h>

#include "../../user/lib/tcp/rto.h"

struct ref {
	double srtt, rttvar;
	bool first;
};

/* RFC 6298 2.2 and 2.3, literally. */
static double ref_sample(struct ref *f, double r, double min, double max)
{
	if (f->first) {
		f->srtt = r;
		f->rttvar = r / 2;
		f->first = false;
	} else {
		f->rttvar = 0.75 * f->rttvar + 0.25 * (f->srtt > r ? f->srtt - r : r - f->srtt);
		f->srtt = 0.875 * f->srtt + 0.125 * r;
	}
	double k = 4 * f->rttvar;
	double rto = f->srtt + (k > XM_RTO_CLOCK_G_US ? k : XM_RTO_CLOCK_G_US);
	return rto < min ? min : rto > max ? max : rto;
}

Test(tcp_rto, initial_rto_is_one_second)
{
	struct xm_rto r;
	xm_rto_init(&r, XM_RTO_MIN_US, XM_RTO_MAX_US, XM_RTO_INITIAL_US);
	cr_assert_eq(xm_rto_timeout_us(&r), 1000000u);
	cr_assert_not(r.has_sample);
}

Test(tcp_rto, first_sample_rule_2_2)
{
	struct xm_rto r;
	xm_rto_init(&r, 0, XM_RTO_MAX_US, XM_RTO_INITIAL_US);
	xm_rto_sample(&r, 100000);
	cr_assert_eq(r.srtt_us, 100000u);
	cr_assert_eq(r.rttvar_us, 50000u);
	cr_assert_eq(r.rto_us, 300000u);   /* R + 4 * R/2 */
	cr_assert(r.has_sample);
}

Test(tcp_rto, sequence_tracks_rfc_formulas)
{
	static const uint32_t samples[] = {
		100000, 120000, 80000, 300000, 95000, 101000, 99000, 5000000,
		100000, 100000, 100000, 100000, 100000, 100000, 100000, 100000,
		150, 40, 300, 2000, 1000, 1000, 1000, 1000, 1000,
	};
	struct xm_rto r;
	struct ref f = { .first = true };
	xm_rto_init(&r, 0, XM_RTO_MAX_US, XM_RTO_INITIAL_US);
	for (size_t i = 0; i < sizeof(samples) / sizeof(samples[0]); i++) {
		xm_rto_sample(&r, samples[i]);
		double want = ref_sample(&f, samples[i], 0, XM_RTO_MAX_US);
		/* Integer truncation loses < 1 us per step and the filters
		 * shrink old error, so it stays bounded: SRTT by 1/(1-7/8) =
		 * 8 us; RTTVAR by (1 + 8/4)/(1-3/4) = 12 us; RTO by 8+4*12. */
		cr_assert_float_eq((double)r.srtt_us, f.srtt, 8.0, "srtt step %zu", i);
		cr_assert_float_eq((double)r.rttvar_us, f.rttvar, 12.0, "rttvar step %zu", i);
		cr_assert_float_eq((double)r.rto_us, want, 56.0, "rto step %zu", i);
	}
}

Test(tcp_rto, exact_with_multiples_of_eight)
{
	struct xm_rto r;
	xm_rto_init(&r, 0, XM_RTO_MAX_US, XM_RTO_INITIAL_US);
	xm_rto_sample(&r, 80000);      /* srtt 80000, rttvar 40000 */
	xm_rto_sample(&r, 160000);     /* rttvar = 30000 + 20000, srtt = 70000 + 20000 */
	cr_assert_eq(r.rttvar_us, 50000u);
	cr_assert_eq(r.srtt_us, 90000u);
	cr_assert_eq(r.rto_us, 290000u);
}

Test(tcp_rto, clock_granularity_floor)
{
	struct xm_rto r;
	xm_rto_init(&r, 0, XM_RTO_MAX_US, XM_RTO_INITIAL_US);
	for (int i = 0; i < 100; i++)
		xm_rto_sample(&r, 10);  /* RTTVAR decays to ~0 */
	cr_assert_eq(r.rto_us, r.srtt_us + XM_RTO_CLOCK_G_US);
}

Test(tcp_rto, minimum_rule_2_4)
{
	struct xm_rto r;
	xm_rto_init(&r, XM_RTO_MIN_US, XM_RTO_MAX_US, XM_RTO_INITIAL_US);
	xm_rto_sample(&r, 1000);
	cr_assert_eq(xm_rto_timeout_us(&r), XM_RTO_MIN_US);
}

Test(tcp_rto, maximum_rule_2_5)
{
	struct xm_rto r;
	xm_rto_init(&r, XM_RTO_MIN_US, XM_RTO_MAX_US, XM_RTO_INITIAL_US);
	xm_rto_sample(&r, 4000000000u);
	cr_assert_eq(xm_rto_timeout_us(&r), XM_RTO_MAX_US);
}

Test(tcp_rto, backoff_doubles_then_caps_rule_5_5)
{
	struct xm_rto r;
	xm_rto_init(&r, XM_RTO_MIN_US, XM_RTO_MAX_US, XM_RTO_INITIAL_US);
	uint32_t want = 1000000;
	for (int i = 0; i < 40; i++) {
		cr_assert_eq(xm_rto_timeout_us(&r), want, "after %d backoffs", i);
		xm_rto_backoff(&r);
		want = want * 2 > XM_RTO_MAX_US ? XM_RTO_MAX_US : want * 2;
	}
	cr_assert_lt(r.backoff, 32, "backoff stops counting once capped");
	xm_rto_reset_backoff(&r);
	cr_assert_eq(xm_rto_timeout_us(&r), 1000000u);
}

Test(tcp_rto, sample_keeps_backoff_until_reset)
{
	struct xm_rto r;
	xm_rto_init(&r, XM_RTO_MIN_US, XM_RTO_MAX_US, XM_RTO_INITIAL_US);
	xm_rto_backoff(&r);
	xm_rto_sample(&r, 100000);
	cr_assert_eq(xm_rto_timeout_us(&r), 2 * r.rto_us);
	xm_rto_reset_backoff(&r);
	cr_assert_eq(xm_rto_timeout_us(&r), r.rto_us);
}
