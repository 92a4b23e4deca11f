// SPDX-License-Identifier: MIT
/*
 * Eifel detection (RFC 3522, as Linux tcp_packet_delayed and its undos):
 * an ACK whose timestamp echo is older than the episode's first
 * retransmission shows that the original arrived and the retransmission
 * was not needed; the cwnd reduction is undone, and what RACK had marked
 * lost is not resent. B's flight never reaches A; A's ACKs are crafted.
 */
#include "tcp_crafted.h"

/* B in fast recovery: segments 1-7 of the 10 of its initial window lost
 * by RACK when A SACKs 8-10, two round trips of the clock (TSval) after
 * they were sent; PRR resent the first four at once. Four more segments
 * wait to be sent. */
static struct xm_tcp_conn *recovering(struct pair *p, uint64_t seed, int *l, int *c,
				      int *s, struct flight *f)
{
	static uint8_t out[14 * SEG];
	struct xm_tcp_conn *sc = crafted(p, seed, out, sizeof(out), l, c, s, f);

	cr_assert_eq(f->end - f->una, 10 * SEG);
	pair_run(p, 2 * MS);
	sack_ack(p, sc, f->una, f->una + 7 * SEG, f->end);
	cr_assert(sc->in_recovery);
	cr_assert(sc->undo_ts_on, "the first retransmission's TSval is kept");
	cr_assert(seq_lt(f->tsval, sc->undo_tsval), "the originals' TSval is older");
	cr_assert_lt(sc->cc.cwnd, f->cwnd, "RFC 6937: the window comes down");
	return sc;
}

/* The records of [s, e) in B's RACK queue that are marked lost. */
static uint32_t lost_records(const struct xm_tcp_conn *sc, uint32_t s, uint32_t e)
{
	uint32_t n = 0;

	for (uint32_t i = 0; i < sc->rack.n; i++) {
		const struct xm_rack_seg *g = &sc->rack.q[(sc->rack.head + i) % sc->rack.cap];

		if (seq_ge(g->start, s) && seq_le(g->end, e) && (g->flags & XM_RACK_LOST))
			n++;
	}
	return n;
}

Test(tcp_eifel, rfc3522_spurious_fast_retransmit_is_undone_at_the_full_ack)
{
	/* Linux tcp_try_undo_recovery: the full ACK echoes the originals'
	 * TSval: cwnd and ssthresh come back. The recovery began in slow
	 * start, with ssthresh infinite: cwnd comes back to what it was,
	 * not to that. */
	uint32_t prior_ssthresh;
	struct xm_tcp_conn *sc;
	struct flight f;
	struct pair p;
	uint64_t undos;
	int l, c, s;

	sc = recovering(&p, 61, &l, &c, &s, &f);
	undos = p.b->tcp->stats.eifel_undos;
	prior_ssthresh = sc->prior_ssthresh;
	crafted_ack(&p, sc, f.end, &f.tsval, 0, 0);
	cr_assert_eq(p.b->tcp->stats.eifel_undos, undos + 1);
	cr_assert(!sc->in_recovery);
	cr_assert_eq(sc->cc.cwnd, f.cwnd, "cwnd %u, %u before the recovery", sc->cc.cwnd, f.cwnd);
	cr_assert_eq(sc->cc.ssthresh, prior_ssthresh, "ssthresh restored");
	abort_finish(&p, c, s, l);
}

Test(tcp_eifel, rfc3522_spurious_timeout_is_undone_by_the_ack_of_an_original)
{
	/* Linux tcp_try_undo_loss: after a timeout, the ACK of the first
	 * segment alone, which the timeout resent, proves nothing to F-RTO
	 * (RFC 5682 3.1); its timestamp echo shows it acknowledges the
	 * original. The timeout is undone, and B stops going back. */
	static uint8_t out[10 * SEG];
	struct xm_tcp_conn *sc;
	struct flight f;
	struct pair p;
	uint64_t undos, rtx;
	int l, c, s;

	sc = crafted(&p, 63, out, sizeof(out), &l, &c, &s, &f);
	until_rto(&p, sc);
	cr_assert(sc->rto_recovery && sc->undo_ts_on);
	undos = p.b->tcp->stats.eifel_undos;
	rtx = p.b->tcp->stats.retrans_segs;
	crafted_ack(&p, sc, f.una + SEG, &f.tsval, 0, 0);
	cr_assert_eq(p.b->tcp->stats.eifel_undos, undos + 1);
	cr_assert(!sc->rto_recovery);
	cr_assert_geq(sc->cc.cwnd, f.cwnd, "cwnd restored");
	cr_assert_eq(lost_records(sc, f.una, f.end), 0, "nothing is lost");
	cr_assert_eq(p.b->tcp->stats.retrans_segs, rtx, "nothing more resent");
	abort_finish(&p, c, s, l);
}

Test(tcp_eifel, rfc3522_partial_ack_undoes_and_the_rest_of_the_flight_is_not_resent)
{
	/* Linux tcp_try_undo_partial: a partial ACK echoing the originals'
	 * TSval shows reordering: cwnd comes back and the LOST marks go at
	 * once, so segments 5-7, lost but not resent yet, are never resent;
	 * reo_wnd widens as for a DSACK (RFC 8985 6.2). While the resent
	 * 2-4 are in flight RACK marks nothing, not even when new data sent
	 * with them is SACKed: they are as likely to be late. */
	struct xm_tcp_conn *sc;
	struct flight f;
	struct pair p;
	uint64_t undos, rtx;
	int l, c, s;

	sc = recovering(&p, 65, &l, &c, &s, &f);
	undos = p.b->tcp->stats.eifel_undos;
	rtx = p.b->tcp->stats.retrans_segs;
	cr_assert_eq(lost_records(sc, f.una + 4 * SEG, f.una + 7 * SEG), 3,
		     "segments 5-7 wait for PRR");
	cr_assert_eq(sc->rack.reo_wnd_mult, 1);
	/* The original of segment 1. */
	crafted_ack(&p, sc, f.una + SEG, &f.tsval, f.una + 7 * SEG, f.end);
	cr_assert_eq(p.b->tcp->stats.eifel_undos, undos + 1);
	cr_assert_geq(sc->cc.cwnd, f.cwnd, "cwnd restored");
	cr_assert_eq(lost_records(sc, f.una, f.end), 0, "the LOST marks are cleared");
	cr_assert(sc->rack.reordering_seen);
	cr_assert_eq(sc->rack.reo_wnd_mult, 2, "reo_wnd widened");
	cr_assert_eq(p.b->tcp->stats.retrans_segs, rtx, "nothing more resent");
	cr_assert(seq_gt(sc->snd_max, f.end), "new data went instead");
	/* The first new segment is SACKed; 2-4 were resent before it. */
	pair_run(&p, 2 * MS);
	crafted_ack(&p, sc, f.una + SEG, &f.tsval, f.una + 7 * SEG, f.end + SEG);
	pair_run(&p, 2 * MS);
	cr_assert_eq(lost_records(sc, f.una, sc->snd_max), 0, "RACK marked nothing");
	cr_assert_eq(p.b->tcp->stats.retrans_segs, rtx, "nothing resent");
	/* The originals of 2-7 come in. */
	crafted_ack(&p, sc, f.una + 4 * SEG, &f.tsval, f.una + 7 * SEG, f.end + SEG);
	crafted_ack(&p, sc, f.una + 7 * SEG, &f.tsval, f.una + 7 * SEG, f.end + SEG);
	pair_run(&p, 2 * MS);
	cr_assert_eq(p.b->tcp->stats.retrans_segs, rtx, "segments 5-7 were never resent");
	abort_finish(&p, c, s, l);
}

Test(tcp_eifel, rfc3522_ack_echoing_the_retransmission_is_a_real_loss)
{
	/* RFC 3522 2: an echo of the retransmission's TSval (or later)
	 * says the retransmission filled the hole: the loss was real, the
	 * reduction stays. */
	struct xm_tcp_conn *sc;
	struct flight f;
	struct pair p;
	uint64_t undos;
	uint32_t cwnd, rtx_ts;
	int l, c, s;

	sc = recovering(&p, 67, &l, &c, &s, &f);
	undos = p.b->tcp->stats.eifel_undos;
	rtx_ts = sc->undo_tsval;
	crafted_ack(&p, sc, f.una + 4 * SEG, &rtx_ts, f.una + 7 * SEG, f.end);
	cr_assert(sc->in_recovery, "a partial ACK of a real loss");
	cwnd = sc->cc.cwnd;
	crafted_ack(&p, sc, f.end, &rtx_ts, 0, 0);
	cr_assert_eq(p.b->tcp->stats.eifel_undos, undos);
	cr_assert(!sc->in_recovery);
	cr_assert_lt(sc->cc.cwnd, f.cwnd, "the reduction stays");
	cr_assert_leq(sc->cc.cwnd, cwnd < sc->cc.ssthresh ? sc->cc.ssthresh : cwnd);
	abort_finish(&p, c, s, l);
}

Test(tcp_eifel, rfc3522_no_undo_when_timestamps_were_not_negotiated)
{
	/* RFC 3522 2 needs the timestamps of RFC 7323; without them a
	 * timestamp option is ignored (RFC 7323 3.2), an old echo too. B
	 * is made a connection whose handshake negotiated none. */
	static uint8_t out[10 * SEG];
	struct xm_tcp_conn *sc;
	struct flight f;
	struct pair p;
	uint64_t undos;
	int l, c, s;

	sc = crafted(&p, 69, out, sizeof(out), &l, &c, &s, &f);
	sc->ts_ok = false;
	until_rto(&p, sc);
	undos = p.b->tcp->stats.eifel_undos;
	crafted_ack(&p, sc, f.una + SEG, &f.tsval, 0, 0);
	cr_assert_eq(p.b->tcp->stats.eifel_undos, undos);
	cr_assert(sc->rto_recovery, "the timeout stands");
	cr_assert_lt(sc->cc.cwnd, f.cwnd);
	abort_finish(&p, c, s, l);
}

Test(tcp_eifel, rfc3522_tsecr_of_zero_echoes_nothing)
{
	/* RFC 7323 3.2: a TSecr of 0 is no echo (a peer sends it when it
	 * has none to give), however old it would look. */
	struct xm_tcp_conn *sc;
	const uint32_t zero = 0;
	struct flight f;
	struct pair p;
	uint64_t undos;
	int l, c, s;

	sc = recovering(&p, 71, &l, &c, &s, &f);
	cr_assert(seq_lt(zero, sc->undo_tsval), "this seed's clock makes 0 look older");
	undos = p.b->tcp->stats.eifel_undos;
	crafted_ack(&p, sc, f.end, &zero, 0, 0);
	cr_assert_eq(p.b->tcp->stats.eifel_undos, undos);
	cr_assert_lt(sc->cc.cwnd, f.cwnd, "the reduction stays");
	abort_finish(&p, c, s, l);
}

Test(tcp_eifel, rfc3522_undos_are_counted_in_the_stack_statistics)
{
	/* The operator's view (xdpmux stats, the programs' exit counters):
	 * tcp_eifel_undos beside the other undo counters. */
	struct xm_stack_stats st;
	struct xm_tcp_conn *sc;
	struct flight f;
	struct pair p;
	char *text = NULL;
	size_t len = 0;
	FILE *mem;
	int l, c, s;

	sc = recovering(&p, 73, &l, &c, &s, &f);
	crafted_ack(&p, sc, f.end, &f.tsval, 0, 0);
	cr_assert_eq(xm_stack_stats(p.b, &st), 0);
	cr_assert_eq(st.tcp_eifel_undos, 1);
	cr_assert_eq(st.tcp_dsack_undos + st.tcp_frto_undos, 0, "no other undo took it");
	mem = open_memstream(&text, &len);
	cr_assert(mem);
	xm_stack_stats_print(mem, &st, "stack.");
	fclose(mem);
	cr_assert(strstr(text, "stack.tcp_eifel_undos 1\n"), "%s", text);
	free(text);
	abort_finish(&p, c, s, l);
}
