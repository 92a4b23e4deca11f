// SPDX-License-Identifier: MIT
/*
 * Loss recovery held to its RFCs: RACK-TLP (RFC 8985) over the simulated
 * link (a lost retransmission repaired without the RTO, a lost tail
 * repaired by the probe, a reordering-only path that stops retransmitting
 * once the reordering window has adapted), DSACK undo (RFC 2883) and
 * F-RTO (RFC 5682) with crafted ACKs, and the PRR (RFC 6937) and RACK rules
 * as functions.
 */
#include "tcp_crafted.h"

Test(tcp_recovery, rfc8985_lost_retransmission_is_repaired_without_the_rto)
{
	/* RFC 8985 2.2 / 6.2: a retransmission is a segment with its own
	 * send time; once data sent after it is SACKed and its time is up,
	 * it is lost and goes again. RFC 6675 never retransmits a hole
	 * twice: the RTO had to. B's frames never reach A; A's ACKs are
	 * crafted. */
	static uint8_t out[16 * SEG];
	struct xm_tcp_conn *sc;
	struct xm_rack_seg *first;
	uint32_t una, rtx_end;
	struct flight f;
	struct pair p;
	uint64_t rto, rtx;
	int l, c, s;

	sc = crafted(&p, 41, out, sizeof(out), &l, &c, &s, &f);
	una = f.una;
	cr_assert_eq(sc->snd_max - una, 10 * SEG, "the initial window is out");
	rto = p.b->tcp->stats.rto_fires;
	rtx = p.b->tcp->stats.retrans_segs;
	/* Segments 2-4 SACKed: the first is lost and sent again. */
	sack_ack(&p, sc, una, una + SEG, una + 4 * SEG);
	cr_assert(sc->in_recovery);
	cr_assert_eq(p.b->tcp->stats.retrans_segs, rtx + 1);
	/* Two more SACKed: PRR lets new data out after the retransmission. */
	rtx_end = sc->snd_max;
	sack_ack(&p, sc, una, una + SEG, una + 6 * SEG);
	cr_assert(seq_gt(sc->snd_max, rtx_end), "new data went out");
	/* A round trip later that new data is SACKed, the retransmission is
	 * not: it was lost, and goes again, long before any RTO. */
	pair_run(&p, 2 * MS);
	sack_ack(&p, sc, una, rtx_end, rtx_end + SEG);
	first = &sc->rack.q[sc->rack.head];
	cr_assert_eq(first->start, una);
	cr_assert_eq(first->flags & ~XM_RACK_EVER_RTX, XM_RACK_LOST | XM_RACK_RETRANS,
		     "the first segment is lost, and in flight again");
	cr_assert_eq(first->xmit_us, xm_tcp_now_us(sc), "sent now, by this ACK");
	cr_assert_geq(p.b->tcp->stats.retrans_segs, rtx + 2);
	cr_assert_eq(p.b->tcp->stats.rto_fires, rto, "no timeout was needed");
	abort_finish(&p, c, s, l);
}

Test(tcp_recovery, tso_super_segment_is_recorded_per_mss_and_a_hole_inside_is_resent)
{
	/* The initial window leaves as one super-segment (the sim cuts it
	 * as the kernel's GSO would); RACK records each MSS of it, sent at
	 * the same time, so a SACK of its second half marks the first half
	 * lost, segment by segment, and recovery resends one MSS at a time,
	 * as Linux splits a TSO skb on a partial SACK. */
	static uint8_t out[16 * SEG];
	struct xm_tcp_conn *sc;
	uint32_t una, rtx;
	struct flight f;
	struct pair p;
	uint64_t rto;
	int l, c, s;

	sc = crafted(&p, 43, out, sizeof(out), &l, &c, &s, &f);
	una = f.una;
	cr_assert_eq(sc->snd_max - una, 10 * SEG);
	cr_assert_eq(p.b->tcp->stats.tso_sends, 1, "one super-segment");
	cr_assert_eq(p.b->tcp->stats.tso_segs, 10);
	cr_assert_eq(sc->rack.n, 10, "RACK has %u records", sc->rack.n);
	for (uint32_t i = 0; i < sc->rack.n; i++) {
		const struct xm_rack_seg *r = &sc->rack.q[(sc->rack.head + i) % sc->rack.cap];

		cr_assert_eq(r->start, una + i * SEG);
		cr_assert_eq(r->end - r->start, SEG);
		cr_assert_eq(r->xmit_us, sc->rack.q[sc->rack.head].xmit_us);
	}
	rto = p.b->tcp->stats.rto_fires;
	rtx = (uint32_t)p.b->tcp->stats.retrans_segs;
	sack_ack(&p, sc, una, una + 4 * SEG, una + 10 * SEG);
	cr_assert(sc->in_recovery);
	cr_assert_eq(p.b->tcp->stats.rack_losses, 4, "the 4 segments before the SACKed ones");
	cr_assert_geq(p.b->tcp->stats.retrans_segs, rtx + 1);
	cr_assert_eq(sc->rack.q[sc->rack.head].start, una);
	cr_assert_eq(sc->rack.q[sc->rack.head].end, una + SEG, "resent as one MSS");
	cr_assert(sc->rack.q[sc->rack.head].flags & XM_RACK_RETRANS);
	/* New data may leave as super-segments in recovery, as Linux's
	 * tcp_write_xmit sends TSO skbs in any state; what was sent before
	 * never goes again in one. */
	cr_assert_leq((p.b->tcp->stats.tso_segs - 10) * SEG, sc->snd_max - (una + 10 * SEG),
		      "only new data in super-segments");
	for (uint32_t i = 0; i < sc->rack.n; i++) {
		const struct xm_rack_seg *r = &sc->rack.q[(sc->rack.head + i) % sc->rack.cap];

		if (r->flags & XM_RACK_RETRANS)
			cr_assert_eq(r->end - r->start, SEG, "a retransmission of one MSS");
	}
	cr_assert_eq(p.b->tcp->stats.rto_fires, rto, "no timeout was needed");
	abort_finish(&p, c, s, l);
}

Test(tcp_recovery, rfc6675_first_retransmission_goes_whatever_cwnd_says)
{
	/* RFC 6675 5 (4.2): entering fast recovery retransmits the first
	 * lost segment at once. Here the reordering timer finds the loss
	 * after new data filled cwnd again; the reduced cwnd is below the
	 * pipe, and waiting for it to open would wait for ACKs that may
	 * never come. */
	static uint8_t out[16 * SEG];
	struct xm_tcp_conn *sc;
	struct flight f;
	struct pair p;
	uint32_t una;
	uint64_t rtx;
	int l, c, s;

	sc = crafted(&p, 49, out, sizeof(out), &l, &c, &s, &f);
	una = f.una;
	/* Reordering seen before: RACK waits min_RTT / 4 (0.5 ms). */
	sc->rack.reordering_seen = true;
	sack_ack(&p, sc, una, una + SEG, una + 4 * SEG);
	cr_assert(!sc->in_recovery, "not lost yet: the reordering window runs");
	cr_assert_geq(xm_rack_pipe(&sc->rack) + sc->mss, sc->cc.cwnd, "new data filled cwnd");
	rtx = p.b->tcp->stats.retrans_segs;
	pair_run(&p, MS);
	cr_assert(sc->in_recovery, "the reordering timer found the loss");
	cr_assert_gt(xm_rack_pipe(&sc->rack) - SEG + sc->mss, sc->cc.cwnd,
		     "the reduced cwnd alone would not let it out");
	cr_assert_eq(p.b->tcp->stats.retrans_segs, rtx + 1, "the first segment went again");
	abort_finish(&p, c, s, l);
}

Test(tcp_recovery, rfc5682_timeout_is_spurious_when_never_retransmitted_data_is_acked)
{
	/* RFC 5682 3 step 3.b (as Linux: any ACK of data never sent
	 * twice): the whole flight was only late; the ACK that comes after
	 * the timeout covers segments the timeout did not resend. cwnd and
	 * ssthresh come back, and B stops going back over them. */
	static uint8_t out[10 * SEG];
	uint64_t undos;
	struct xm_tcp_conn *sc;
	struct flight f;
	struct pair p;
	int l, c, s;

	sc = crafted(&p, 51, out, sizeof(out), &l, &c, &s, &f);
	undos = p.b->tcp->stats.frto_undos;
	until_rto(&p, sc);
	cr_assert(sc->rto_recovery);
	cr_assert_eq(sc->cc.cwnd, sc->mss, "RFC 5681 3.1: the loss window");
	/* Only the first segment went again: an ACK of it alone proves
	 * nothing. */
	inject(p.b, sc, sc->rcv_nxt, f.una + SEG, XM_TCP_ACK, NULL, 0, NULL);
	cr_assert_eq(p.b->tcp->stats.frto_undos, undos);
	cr_assert(sc->rto_recovery);
	/* The originals of the rest were delivered. */
	inject(p.b, sc, sc->rcv_nxt, f.end, XM_TCP_ACK, NULL, 0, NULL);
	cr_assert_eq(p.b->tcp->stats.frto_undos, undos + 1);
	cr_assert(!sc->rto_recovery);
	cr_assert_geq(sc->cc.cwnd, f.cwnd, "cwnd restored");
	abort_finish(&p, c, s, l);
}

/* B after a timeout and the ACK of its first retransmission, with
 * segments never sent waiting behind the 10 that were (IW); *hi is
 * SND.MAX at the timeout (the RecoveryPoint: the tail loss probe may
 * have sent one more). */
static struct xm_tcp_conn *frto_step2b(struct pair *p, uint64_t seed, int *l, int *c,
				       int *s, struct flight *f, uint64_t *rtx, uint32_t *hi)
{
	static uint8_t out[14 * SEG];
	struct xm_tcp_conn *sc = crafted(p, seed, out, sizeof(out), l, c, s, f);

	cr_assert_eq(f->end - f->una, 10 * SEG, "the initial window went, the rest waits");
	cr_assert_lt(sc->snd_max, f->una + sizeof(out));
	until_rto(p, sc);
	cr_assert(sc->rto_recovery && sc->frto);
	*rtx = p->b->tcp->stats.retrans_segs;
	*hi = sc->snd_max;
	inject(p->b, sc, sc->rcv_nxt, f->una + SEG, XM_TCP_ACK, NULL, 0, NULL);
	return sc;
}

Test(tcp_recovery, rfc5682_2b_first_ack_after_the_timeout_sends_new_data_not_resends)
{
	/* RFC 5682 3.1 step 2.b: the first ACK after the timeout advances
	 * SND.UNA: send new data, not the next old segment, so that the
	 * next ACK tells a spurious timeout from a real one. */
	struct xm_tcp_conn *sc;
	struct flight f;
	struct pair p;
	uint64_t rtx;
	uint32_t hi;
	int l, c, s;

	sc = frto_step2b(&p, 53, &l, &c, &s, &f, &rtx, &hi);
	cr_assert_eq(p.b->tcp->stats.retrans_segs, rtx, "nothing resent on the first ACK");
	cr_assert_gt(sc->snd_max, hi, "new data went instead");
	cr_assert(sc->frto && sc->rto_recovery);
	/* Step 3.b: the next ACK covers originals the timeout never
	 * resent: spurious, undone. */
	inject(p.b, sc, sc->rcv_nxt, f.una + 6 * SEG, XM_TCP_ACK, NULL, 0, NULL);
	cr_assert(!sc->rto_recovery, "F-RTO undo");
	cr_assert_geq(sc->cc.cwnd, f.cwnd, "cwnd restored");
	abort_finish(&p, c, s, l);
}

Test(tcp_recovery, rfc5682_3a_sack_of_only_the_new_data_makes_the_timeout_real)
{
	/* RFC 5682 3.1 step 3.a (and its appendix B): the new data of step
	 * 2.b is SACKed, nothing below the RecoveryPoint: the flight was
	 * lost. No undo; the old segments go again. */
	struct xm_tcp_conn *sc;
	struct flight f;
	struct pair p;
	uint64_t rtx, undos;
	uint32_t hi;
	int l, c, s;

	sc = frto_step2b(&p, 55, &l, &c, &s, &f, &rtx, &hi);
	undos = p.b->tcp->stats.frto_undos;
	cr_assert_gt(sc->snd_max, hi);
	sack_ack(&p, sc, f.una + SEG, hi, sc->snd_max);
	cr_assert_eq(p.b->tcp->stats.frto_undos, undos, "new data proves nothing of the old");
	cr_assert(!sc->frto && sc->rto_recovery);
	cr_assert_lt(sc->cc.cwnd, f.cwnd);
	cr_assert_gt(p.b->tcp->stats.retrans_segs, rtx, "the lost flight is resent");
	abort_finish(&p, c, s, l);
}

Test(tcp_recovery, rfc5682_a_loss_found_after_an_undone_timeout_is_retransmitted)
{
	/* The ACKs of a flight were lost, and its last segment too: the
	 * timeout resends the first, and the ACK that follows covers all
	 * but the last, never resent: F-RTO undoes the timeout (RFC 5682
	 * 3.b). The data sent next is SACKed above the last segment: RACK
	 * finds it lost, and it must go again now, in a fast recovery of
	 * its own (as Linux enters Recovery from Open after
	 * tcp_try_undo_loss), not wait for the RTO because the undone
	 * timeout's RecoveryPoint (RFC 6582 recover) is still ahead. */
	static uint8_t out[20 * SEG];
	struct xm_tcp_conn *sc;
	struct flight f;
	struct pair p;
	uint64_t undos, rtx, rto;
	uint32_t hi;
	int l, c, s;

	sc = crafted(&p, 57, out, sizeof(out), &l, &c, &s, &f);
	cr_assert_eq(f.end - f.una, 10 * SEG);
	until_rto(&p, sc);
	undos = p.b->tcp->stats.frto_undos;
	rto = p.b->tcp->stats.rto_fires;
	inject(p.b, sc, sc->rcv_nxt, f.end - SEG, XM_TCP_ACK, NULL, 0, NULL);
	cr_assert_eq(p.b->tcp->stats.frto_undos, undos + 1, "the timeout was spurious");
	cr_assert(!sc->rto_recovery);
	hi = sc->snd_max;
	cr_assert(seq_ge(hi, f.end + 3 * SEG), "new data went out after the undo");
	rtx = p.b->tcp->stats.retrans_segs;
	sack_ack(&p, sc, f.end - SEG, f.end, hi);
	cr_assert_gt(p.b->tcp->stats.retrans_segs, rtx, "the lost last segment went again");
	cr_assert(sc->in_recovery, "a new loss episode: fast recovery");
	cr_assert_eq(p.b->tcp->stats.rto_fires, rto);
	abort_finish(&p, c, s, l);
}

Test(tcp_recovery, rfc8985_tail_loss_probe_repairs_a_lost_tail_before_the_rto)
{
	/* RFC 8985 7: the last two segments of a flight are lost: no
	 * later segment brings a SACK. After PTO = 2*SRTT the probe (the
	 * last segment again) is SACKed, and RACK finds the other. */
	static uint8_t out[10 * SEG];
	struct xm_tcp_conn *sc;
	struct drain d;
	struct pair p;
	uint64_t rto, tlp;
	int l, c, s;

	sc = pair_nodelay_delayed(&p, 43, MS, &l, &c, &s);
	rto = p.b->tcp->stats.rto_fires;
	tlp = p.b->tcp->stats.tlp_probes;
	send_all(s, out, 8 * SEG);
	xm_link_sim_set_impair(p.lb, &drop);
	send_all(s, out + 8 * SEG, 2 * SEG);
	xm_link_sim_set_impair(p.lb, &pass);
	cr_assert_eq(sc->snd_max - sc->snd_una, sizeof(out), "all ten went out");
	d = (struct drain){ .fd = c, .want = sizeof(out) };
	cr_assert(pair_run_until(&p, XM_RTO_MIN_US * 1000ull / 2, drained, &d),
		  "half the smallest RTO later A has %zu of %zu bytes", d.got, d.want);
	cr_assert_eq(p.b->tcp->stats.tlp_probes, tlp + 1);
	cr_assert_eq(p.b->tcp->stats.rto_fires, rto, "no timeout was needed");
	pair_finish(&p, c, s, l);
}

Test(tcp_recovery, rfc8985_pto_of_an_acked_flight_does_not_probe_the_next)
{
	/* A flight acked in full leaves no probe due (RFC 8985 7.2). The
	 * next goes just before the first one's PTO would have expired: its
	 * probe counts from its own send, and its ACK, a round trip later,
	 * comes first. Over a lossless link nothing is sent twice. (Kept,
	 * the first flight's PTO fired 100 us after the second went and
	 * resent its last segment: xdpmux-httpd's retransmissions on a
	 * lossless veth.) */
	static uint8_t out[2 * SEG];
	struct xm_tcp_conn *sc;
	uint64_t stale, tlp, rtx;
	struct pair p;
	int l, c, s;

	sc = pair_nodelay_delayed(&p, 59, MS, &l, &c, &s);
	tlp = p.b->tcp->stats.tlp_probes;
	rtx = p.b->tcp->stats.retrans_segs;
	send_all(s, out, sizeof(out));
	cr_assert(xm_timer_armed(&sc->t_loss) && sc->loss_timer_tlp, "the PTO runs");
	stale = sc->t_loss.deadline;
	while (sc->snd_una != sc->snd_max)
		cr_assert(pair_step(&p));
	cr_assert_lt(xm_sim_now(p.sim) + MS, stale, "acked well before its PTO");
	cr_assert(!xm_timer_armed(&sc->t_loss), "nothing out: no probe due, no wakeup for one");
	pair_run(&p, stale - MS / 10 - xm_sim_now(p.sim));
	send_all(s, out, sizeof(out));
	while (sc->snd_una != sc->snd_max)
		cr_assert(pair_step(&p));
	cr_assert_eq(p.b->tcp->stats.tlp_probes, tlp, "no probe: every ACK came in time");
	cr_assert_eq(p.b->tcp->stats.retrans_segs, rtx, "nothing sent twice");
	pair_finish(&p, c, s, l);
}

Test(tcp_recovery, rfc8985_pto_restarts_with_each_new_flight)
{
	/* RFC 8985 7.2, as Linux tcp_write_xmit: the PTO starts again with
	 * new data sent (not the probe itself). The ACKs slow down to 8 ms
	 * a way, after a round trip of 2 ms: a second flight sent 1 ms
	 * before the first one's PTO is not probed when that PTO would have
	 * expired, 1.5 ms after it went, but a PTO after its own send. */
	static const struct xm_sim_impair slow = { .delay_ns = 8 * MS };
	static uint8_t out[2 * SEG];
	struct xm_tcp_conn *sc;
	uint64_t sent0, pto, sent1, tlp;
	struct pair p;
	int l, c, s;

	sc = pair_nodelay_delayed(&p, 61, MS, &l, &c, &s);
	xm_link_sim_set_impair(p.la, &slow);
	tlp = p.b->tcp->stats.tlp_probes;
	sent0 = xm_sim_now(p.sim);
	send_all(s, out, sizeof(out));
	cr_assert(xm_timer_armed(&sc->t_loss) && sc->loss_timer_tlp, "the PTO runs");
	pto = sc->t_loss.deadline - sent0;
	pair_run(&p, pto - MS);
	sent1 = xm_sim_now(p.sim);
	send_all(s, out, sizeof(out));
	cr_assert_eq(sc->t_loss.deadline, sent1 + pto, "the PTO counts from the second flight");
	pair_run(&p, 3 * MS / 2);
	cr_assert_eq(p.b->tcp->stats.tlp_probes, tlp, "no probe before a PTO passed");
	xm_link_sim_set_impair(p.la, &pass);
	pair_finish(&p, c, s, l);
}

/* B sends total bytes to A as fast as the windows allow. */
static void bulk(struct pair *p, int from, int to, size_t total)
{
	static uint8_t buf[256 * 1024];
	size_t sent = 0, got = 0;

	while (got < total) {
		ssize_t n;

		while (sent < total) {
			size_t k = total - sent < sizeof(buf) ? total - sent : sizeof(buf);

			n = xm_send(from, buf, k, MSG_DONTWAIT);
			if (n <= 0)
				break;
			sent += (size_t)n;
		}
		while ((n = xm_recv(to, buf, sizeof(buf), MSG_DONTWAIT)) > 0)
			got += (size_t)n;
		cr_assert(pair_step(p), "stalled at %zu of %zu bytes", got, total);
	}
}

Test(tcp_recovery, rfc8985_reordering_only_path_stops_retransmitting_after_adaptation)
{
	/* RFC 8985 6.2: on a path that reorders (a tenth of the frames
	 * held back up to half a millisecond, RTT 2 ms) and loses nothing,
	 * the first reordering looks like loss; the DSACKs for those
	 * retransmissions widen the reordering window (steps 3 and 4) until
	 * it covers the reordering, and no more data is sent twice. */
	struct xm_sim_impair reo = { .delay_ns = MS, .reorder_ppm = 100000,
				     .reorder_ns = MS / 2 };
	struct xm_tcp_conn *sc;
	struct pair p;
	uint64_t rtx;
	int l, c, s;

	sc = pair_nodelay_delayed(&p, 45, MS, &l, &c, &s);
	xm_link_sim_set_impair(p.lb, &reo);
	bulk(&p, s, c, 8u << 20);
	cr_assert(sc->rack.reordering_seen);
	rtx = p.b->tcp->stats.retrans_segs;
	cr_log_info("adaptation: %lu retransmissions, %lu DSACKs, %lu undos, reo_wnd_mult %u",
		    (unsigned long)rtx, (unsigned long)p.b->tcp->stats.dsacks_in,
		    (unsigned long)p.b->tcp->stats.dsack_undos, sc->rack.reo_wnd_mult);
	bulk(&p, s, c, 32u << 20);
	cr_assert_eq(p.b->tcp->stats.retrans_segs, rtx,
		     "%lu segments sent twice after adaptation",
		     (unsigned long)(p.b->tcp->stats.retrans_segs - rtx));
	cr_assert_eq(p.b->tcp->stats.rto_fires, 0);
	pair_finish(&p, c, s, l);
}

Test(tcp_recovery, rfc2883_dsacks_for_every_retransmission_undo_the_reduction)
{
	/* RFC 2883 4.2 / Linux tcp_try_undo_dsack: fast recovery started
	 * on a segment that was only late; when the peer reports the one
	 * retransmission as a duplicate, cwnd and ssthresh come back. */
	static uint8_t out[8 * SEG];
	uint32_t una, end, cwnd, ssthresh;
	struct xm_tcp_conn *sc;
	struct flight f;
	struct pair p;
	uint64_t undos;
	int l, c, s;

	sc = crafted(&p, 47, out, sizeof(out), &l, &c, &s, &f);
	una = f.una;
	end = f.end;
	cwnd = f.cwnd;
	ssthresh = f.ssthresh;
	undos = p.b->tcp->stats.dsack_undos;
	/* Everything but the first segment SACKed: RACK calls it lost
	 * (no reordering seen yet, DupThresh segments SACKed). */
	sack_ack(&p, sc, una, una + SEG, end);
	cr_assert(sc->in_recovery);
	cr_assert_lt(sc->cc.cwnd, cwnd, "RFC 6937: the window comes down");
	cr_assert_eq(sc->undo_retrans, 1, "the first segment went again, once");
	/* The original arrives after all: the full ACK ends the recovery. */
	inject(p.b, sc, sc->rcv_nxt, end, XM_TCP_ACK, NULL, 0, NULL);
	cr_assert(!sc->in_recovery);
	cr_assert_lt(sc->cc.cwnd, cwnd);
	/* Then the retransmission: a D-SACK below the cumulative ACK. */
	sack_ack(&p, sc, end, una, una + SEG);
	cr_assert_eq(p.b->tcp->stats.dsack_undos, undos + 1);
	cr_assert_geq(sc->cc.cwnd, cwnd, "cwnd restored");
	cr_assert_geq(sc->cc.ssthresh, ssthresh < cwnd / 4 * 3 ? ssthresh : cwnd / 4 * 3,
		      "ssthresh restored");
	cr_assert_eq(sc->rack.reo_wnd_mult, 2, "RFC 8985 6.2 step 4: the DSACK widens reo_wnd");
	abort_finish(&p, c, s, l);
}

Test(tcp_recovery, rfc2883_dsack_of_data_never_resent_neither_undoes_nor_widens)
{
	/* Linux tcp_dsack_seen: a D-SACK for more than was ever resent
	 * reports the network's duplicate of an original (RFC 2883 4.1.3),
	 * not a needless retransmission. In a recovery whose one
	 * retransmission is still unanswered, such a D-SACK of the second
	 * segment must not undo the reduction nor widen reo_wnd; the
	 * retransmission's own D-SACK, which follows, still does both. */
	static uint8_t out[8 * SEG];
	struct xm_tcp_conn *sc;
	struct flight f;
	struct pair p;
	uint64_t undos, in, dubious;
	uint32_t cwnd_cut;
	int l, c, s;

	sc = crafted(&p, 61, out, sizeof(out), &l, &c, &s, &f);
	undos = p.b->tcp->stats.dsack_undos;
	in = p.b->tcp->stats.dsacks_in;
	dubious = p.b->tcp->stats.dsacks_dubious;
	sack_ack(&p, sc, f.una, f.una + SEG, f.end);
	cr_assert(sc->in_recovery);
	cr_assert_eq(sc->info.total_retrans, 1, "the first segment went again, once");
	cwnd_cut = sc->cc.cwnd;
	cr_assert_lt(cwnd_cut, f.cwnd);
	/* The original of the first segment arrives: the full ACK. */
	inject(p.b, sc, sc->rcv_nxt, f.end, XM_TCP_ACK, NULL, 0, NULL);
	/* A copy of the second segment, made by the network, and a copy
	 * of the first, made by the network too: two duplicates reported
	 * against one retransmission. The first of them is believed (as
	 * Linux does, by count), the second is not. */
	sack_ack(&p, sc, f.end, f.una + SEG, f.una + 2 * SEG);
	cr_assert_eq(p.b->tcp->stats.dsacks_in, in + 1);
	cr_assert_eq(p.b->tcp->stats.dsack_undos, undos + 1,
		     "one D-SACK per retransmission undoes (RFC 2883 4.2)");
	sack_ack(&p, sc, f.end, f.una + 2 * SEG, f.una + 3 * SEG);
	cr_assert_eq(p.b->tcp->stats.dsacks_in, in + 2);
	cr_assert_eq(p.b->tcp->stats.dsacks_dubious, dubious + 1,
		     "a second duplicate for one retransmission is the network's");
	cr_assert_eq(sc->dsack_dups, 2);
	abort_finish(&p, c, s, l);
}

Test(tcp_recovery, rfc2883_dsack_with_nothing_ever_resent_is_ignored)
{
	/* No retransmission at all: whatever the peer reports duplicate,
	 * the network duplicated; reo_wnd stays where it was and nothing
	 * is undone or counted as our error. */
	static uint8_t out[4 * SEG];
	struct xm_tcp_conn *sc;
	struct flight f;
	struct pair p;
	uint64_t in, dubious;
	uint32_t mult;
	int l, c, s;

	sc = crafted(&p, 67, out, sizeof(out), &l, &c, &s, &f);
	inject(p.b, sc, sc->rcv_nxt, f.end, XM_TCP_ACK, NULL, 0, NULL);
	cr_assert_eq(sc->info.total_retrans, 0);
	in = p.b->tcp->stats.dsacks_in;
	dubious = p.b->tcp->stats.dsacks_dubious;
	mult = sc->rack.reo_wnd_mult;
	sack_ack(&p, sc, f.end, f.una, f.una + SEG);
	cr_assert_eq(p.b->tcp->stats.dsacks_in, in + 1, "still a D-SACK received");
	cr_assert_eq(p.b->tcp->stats.dsacks_dubious, dubious + 1);
	cr_assert_eq(sc->rack.reo_wnd_mult, mult, "RFC 8985 6.2: reo_wnd is not widened");
	abort_finish(&p, c, s, l);
}

Test(tcp_recovery, undone_recovery_begun_in_slow_start_ends_with_the_cwnd_it_had)
{
	/* Linux tcp_try_undo_dsack / tcp_fastretrans_alert: an undone
	 * recovery leaves with the cwnd undo restored. A recovery that began
	 * in slow start restored an infinite ssthresh too; deflating cwnd to
	 * it at the full ACK (RFC 6582 3.2 step 3) made cwnd unbounded. The
	 * first segment is only late, the last lost: the original's ACK is
	 * partial, the retransmission's D-SACK undoes the recovery, and the
	 * full ACK comes once the last segment is repaired. */
	static uint8_t out[10 * SEG];
	struct xm_tcp_conn *sc;
	struct flight f;
	struct pair p;
	uint64_t undos;
	int l, c, s;

	sc = crafted(&p, 59, out, sizeof(out), &l, &c, &s, &f);
	cr_assert_eq(f.end - f.una, 10 * SEG);
	cr_assert_gt(f.ssthresh, 1000 * f.cwnd, "slow start: ssthresh is infinite");
	undos = p.b->tcp->stats.dsack_undos;
	sack_ack(&p, sc, f.una, f.una + SEG, f.end - SEG);
	cr_assert(sc->in_recovery);
	inject(p.b, sc, sc->rcv_nxt, f.end - SEG, XM_TCP_ACK, NULL, 0, NULL);
	cr_assert(sc->in_recovery, "a partial ACK");
	sack_ack(&p, sc, f.end - SEG, f.una, f.una + SEG);
	cr_assert_eq(p.b->tcp->stats.dsack_undos, undos + 1);
	inject(p.b, sc, sc->rcv_nxt, f.end, XM_TCP_ACK, NULL, 0, NULL);
	cr_assert(!sc->in_recovery);
	cr_assert_eq(sc->cc.cwnd, f.cwnd, "cwnd %u after the undone recovery, %u before it",
		     sc->cc.cwnd, f.cwnd);
	abort_finish(&p, c, s, l);
}

Test(tcp_recovery, rfc8985_6_2_reo_wnd_is_zero_until_reordering_is_seen)
{
	struct xm_rack r = { 0 };
	const uint32_t mss = 1000;

	xm_rack_init(&r, 0);
	r.min_rtt_us = 8000;
	/* Step 4: no reordering seen and DupThresh segments SACKed, or in
	 * recovery: zero; else min_RTT / 4, at most SRTT. */
	cr_assert_eq(xm_rack_reo_wnd(&r, false, 10000, mss), 2000);
	cr_assert_eq(xm_rack_reo_wnd(&r, true, 10000, mss), 0);
	r.sacked_bytes = 3 * mss;
	cr_assert_eq(xm_rack_reo_wnd(&r, false, 10000, mss), 0);
	r.reordering_seen = true;
	cr_assert_eq(xm_rack_reo_wnd(&r, true, 10000, mss), 2000);
	cr_assert_eq(xm_rack_reo_wnd(&r, true, 1000, mss), 1000, "capped at SRTT");
	xm_rack_free(&r);
}

Test(tcp_recovery, rfc8985_6_2_dsack_widens_reo_wnd_once_per_round_for_16_recoveries)
{
	struct xm_rack r = { 0 };

	xm_rack_init(&r, 100);
	r.min_rtt_us = 8000;
	r.reordering_seen = true;
	xm_rack_dsack(&r, 100, 5000);
	cr_assert_eq(r.reo_wnd_mult, 2);
	xm_rack_dsack(&r, 2000, 6000);
	cr_assert_eq(r.reo_wnd_mult, 2, "a second DSACK in the same round trip");
	xm_rack_dsack(&r, 5000, 9000);
	cr_assert_eq(r.reo_wnd_mult, 3, "the round ended at the first DSACK's SND.NXT");
	cr_assert_eq(xm_rack_reo_wnd(&r, false, 100000, 1000), 6000);
	for (int i = 0; i < 40; i++)
		xm_rack_recovery_end(&r, 9000, true);
	cr_assert_eq(r.reo_wnd_persist, 16, "an undone recovery does not count (Linux)");
	for (int i = 0; i < 15; i++)
		xm_rack_recovery_end(&r, 9000, false);
	cr_assert_eq(r.reo_wnd_mult, 3, "kept for 16 recoveries");
	xm_rack_recovery_end(&r, 9000, false);
	cr_assert_eq(r.reo_wnd_mult, 1, "then back to min_RTT / 4");
	xm_rack_free(&r);
}

Test(tcp_recovery, rfc8985_6_2_step5_marks_only_segments_sent_before_a_delivered_one)
{
	struct xm_tcp_sack_block b = { 3000, 4000 };
	struct xm_rack r = { 0 };
	uint64_t wait;
	uint32_t seq, len;

	xm_rack_init(&r, 0);
	xm_rack_on_send(&r, 0, 1000, 100);
	xm_rack_on_send(&r, 1000, 2000, 200);
	xm_rack_on_send(&r, 2000, 3000, 300);
	xm_rack_on_send(&r, 3000, 4000, 400);
	xm_rack_on_send(&r, 4000, 5000, 500);
	cr_assert_eq(xm_rack_pipe(&r), 5000);
	/* [3000, 4000) SACKed at 1400: RACK.rtt 1000; reo_wnd 250. */
	xm_rack_on_ack(&r, 0, &b, 1, 1400);
	cr_assert_eq(r.rtt_us, 1000);
	/* Each expires at its send time + 1250. */
	cr_assert_eq(xm_rack_detect(&r, 1300, 250, &wait), 0, "nothing has waited rtt + reo_wnd");
	cr_assert_eq(wait, 50, "[0, 1000) expires at 1350");
	cr_assert_eq(xm_rack_detect(&r, 1450, 250, &wait), 2, "[0, 2000) at 1350 and 1450");
	cr_assert_eq(wait, 100, "[2000, 3000) expires at 1550");
	cr_assert_eq(xm_rack_pipe(&r), 5000 - 1000 - 2000, "SACKed and lost are out of the pipe");
	cr_assert(xm_rack_next_lost(&r, 5000, &seq, &len));
	cr_assert_eq(seq, 0);
	cr_assert_eq(len, 1000);
	/* The retransmission is in the pipe again. Neither it nor
	 * [4000, 5000), sent after the delivered segment, is marked by it. */
	xm_rack_on_send(&r, 0, 1000, 1450);
	cr_assert_eq(xm_rack_pipe(&r), 3000);
	cr_assert_eq(xm_rack_detect(&r, 10000, 250, &wait), 1, "[2000, 3000) only");
	/* New data sent after the retransmission is SACKed: RACK.rtt 1100,
	 * the retransmission expires at 1450 + 1350. */
	xm_rack_on_send(&r, 5000, 6000, 1500);
	b = (struct xm_tcp_sack_block){ 5000, 6000 };
	xm_rack_on_ack(&r, 0, &b, 1, 2600);
	cr_assert_eq(xm_rack_detect(&r, 2600, 250, &wait), 1, "[4000, 5000), due at 1850");
	cr_assert_eq(wait, 200);
	cr_assert_eq(xm_rack_detect(&r, 2800, 250, &wait), 1, "the retransmission");
	cr_assert(xm_rack_next_lost(&r, 6000, &seq, &len));
	cr_assert_eq(seq, 0, "a lost retransmission is due again");
	xm_rack_free(&r);
}

Test(tcp_recovery, rfc6937_prr_sends_ssthresh_over_recoverfs_of_what_is_delivered)
{
	const uint32_t mss = 1000, fs = 20 * mss, ssthresh = 14 * mss;
	struct xm_prr prr;
	uint32_t pipe = fs - mss, sent = 0;

	/* One segment lost; each ACK delivers one; while pipe > ssthresh
	 * PRR releases 7 segments for every 10 delivered (RFC 6937 3). */
	xm_prr_init(&prr, fs);
	for (int i = 0; i < 10; i++) {
		uint32_t cwnd = xm_prr_on_ack(&prr, mss, pipe - mss, ssthresh, mss);
		uint32_t sndcnt = cwnd - (pipe - mss);

		pipe = pipe - mss + sndcnt;
		xm_prr_on_send(&prr, sndcnt);
		sent += sndcnt;
	}
	cr_assert_eq(sent, 7 * mss);
}

Test(tcp_recovery, rfc6937_ssrb_lets_at_most_one_mss_more_than_delivered)
{
	const uint32_t mss = 1000;
	struct xm_prr prr;

	/* Heavy loss: pipe far below ssthresh. PRR-SSRB grows it back like
	 * slow start: what was delivered, plus one MSS. */
	xm_prr_init(&prr, 20 * mss);
	cr_assert_eq(xm_prr_on_ack(&prr, mss, 4 * mss, 14 * mss, mss), 6 * mss);
	xm_prr_on_send(&prr, 2 * mss);
	cr_assert_eq(xm_prr_on_ack(&prr, mss, 5 * mss, 14 * mss, mss), 7 * mss);
	/* Never past ssthresh. */
	cr_assert_eq(xm_prr_on_ack(&prr, 9 * mss, 13 * mss, 14 * mss, mss), 14 * mss);
}

Test(tcp_recovery, rack_min_rtt_is_the_minimum_of_the_last_300_seconds)
{
	const uint64_t s = 1000000;
	struct xm_rack r = { 0 };
	uint64_t wait;

	/* RFC 8985 6.2 keeps RACK.min_RTT as Linux does: a windowed minimum
	 * (tcp_min_rtt_wlen, 300 s). A path whose RTT grew gets a reordering
	 * window from its RTT of now, not from a minimum long gone. */
	xm_rack_init(&r, 0);
	xm_rack_on_send(&r, 0, 1000, 10);
	xm_rack_on_ack(&r, 1000, NULL, 0, 110);
	cr_assert_eq(r.min_rtt_us, 100);
	xm_rack_on_send(&r, 1000, 2000, 200 * s);
	xm_rack_on_ack(&r, 2000, NULL, 0, 200 * s + 8000);
	cr_assert_eq(r.min_rtt_us, 100, "within the window the minimum holds");
	cr_assert_eq(xm_rack_reo_wnd(&r, false, 10000, 1000), 25);
	xm_rack_on_send(&r, 2000, 3000, 301 * s);
	xm_rack_on_ack(&r, 3000, NULL, 0, 301 * s + 9000);
	cr_assert_eq(r.min_rtt_us, 8000, "100 us aged out: the 8 ms sample of 200 s is the minimum");
	cr_assert_eq(xm_rack_reo_wnd(&r, false, 10000, 1000), 2000);
	xm_rack_on_send(&r, 3000, 4000, 600 * s);
	xm_rack_on_ack(&r, 4000, NULL, 0, 600 * s + 9500);
	cr_assert_eq(r.min_rtt_us, 9000, "then the 9 ms of 301 s");
	cr_assert_eq(xm_rack_detect(&r, 600 * s + 9500, 0, &wait), 0);
	xm_rack_free(&r);
}

Test(tcp_recovery, minmax_keeps_candidates_to_take_over_from_an_aged_minimum)
{
	struct xm_minmax m = { 0 };

	cr_assert_eq(xm_minmax_running_min(&m, 100, 1, 50), 50);
	cr_assert_eq(xm_minmax_running_min(&m, 100, 30, 70), 50);
	cr_assert_eq(xm_minmax_running_min(&m, 100, 60, 90), 50);
	cr_assert_eq(xm_minmax_running_min(&m, 100, 90, 80), 50);
	/* 50 (t 1) ages out at 101: the best later sample is 70 (t 30). */
	cr_assert_eq(xm_minmax_running_min(&m, 100, 102, 95), 70);
	cr_assert_eq(xm_minmax_running_min(&m, 100, 103, 40), 40, "a new minimum at once");
	cr_assert_eq(xm_minmax_get(&m), 40);
}

Test(tcp_recovery, rfc8985_6_2_overtaking_both_ways_stops_retransmitting_after_adaptation)
{
	/* netem's reorder: a hundredth of the frames each way skip the
	 * 10 ms delay (RTT 20 ms) and overtake what was sent up to 10 ms
	 * before them. A SACK of such a frame makes everything sent in
	 * those 10 ms look lost until reo_wnd covers 10 ms; RFC 8985 6.2
	 * grows it in min_RTT/4 steps per round with DSACKs, up to SRTT.
	 * When a frame and the ACK for it both overtake, its RTT is near
	 * zero: taken as min_RTT, it shrank every step (and so reo_wnd) to
	 * nothing, and every overtaking frame was resent. */
	struct xm_sim_impair ovt = { .delay_ns = 10 * MS, .overtake_ppm = 10000 };
	struct xm_tcp_conn *sc;
	struct pair p;
	uint64_t rtx;
	int l, c, s;

	sc = pair_nodelay_delayed(&p, 47, 10 * MS, &l, &c, &s);
	xm_link_sim_set_impair(p.lb, &ovt);
	xm_link_sim_set_impair(p.la, &ovt);
	bulk(&p, s, c, 4u << 20);
	cr_assert(sc->rack.reordering_seen);
	rtx = p.b->tcp->stats.retrans_segs;
	cr_log_info("adaptation: %lu retransmissions, %lu DSACKs, reo_wnd_mult %u, min_RTT %u us",
		    (unsigned long)rtx, (unsigned long)p.b->tcp->stats.dsacks_in,
		    sc->rack.reo_wnd_mult, sc->rack.min_rtt_us);
	bulk(&p, s, c, 16u << 20);
	cr_assert_eq(p.b->tcp->stats.retrans_segs, rtx,
		     "%lu segments sent twice after adaptation (min_RTT %u us, reo_wnd %u us)",
		     (unsigned long)(p.b->tcp->stats.retrans_segs - rtx), sc->rack.min_rtt_us,
		     xm_rack_reo_wnd(&sc->rack, false, sc->rto.srtt_us, sc->mss));
	cr_assert_leq(xm_rack_reo_wnd(&sc->rack, false, sc->rto.srtt_us, sc->mss),
		      sc->rto.srtt_us, "reo_wnd never exceeds SRTT");
	cr_assert_eq(p.b->tcp->stats.rto_fires, 0);
	pair_finish(&p, c, s, l);
}

Test(tcp_recovery, rfc8985_karn_a_segment_sent_twice_gives_no_min_rtt_sample)
{
	/* RFC 6298 (Karn) / Linux TCPCB_EVER_RETRANS: which copy of a
	 * segment sent twice was delivered is unknown, also after RACK
	 * declared the retransmission lost again (it is then no longer
	 * in flight, but was sent twice all the same). */
	struct xm_tcp_sack_block b = { 2000, 3000 };
	struct xm_rack r = { 0 };
	uint64_t wait;

	xm_rack_init(&r, 0);
	xm_rack_rtt_sample(&r, 10000, 0);
	xm_rack_on_send(&r, 0, 1000, 0);
	xm_rack_on_send(&r, 1000, 2000, 0);
	xm_rack_on_send(&r, 0, 1000, 50000);        /* retransmitted */
	xm_rack_on_send(&r, 2000, 3000, 52000);
	xm_rack_on_ack(&r, 0, &b, 1, 55000);         /* RACK.rtt 3 ms */
	cr_assert_eq(xm_rack_detect(&r, 55000, 0, &wait), 2, "both lost, the retransmission too");
	cr_assert_eq(r.q[r.head].flags & (XM_RACK_RETRANS | XM_RACK_EVER_RTX), XM_RACK_EVER_RTX);
	xm_rack_on_ack(&r, 1000, NULL, 0, 56000);   /* 6 ms after the retransmission */
	cr_assert_eq(r.min_rtt_us, 10000, "no sample from a segment sent twice");
	cr_assert_eq(r.rtt_us, 3000, "nor a RACK.rtt below min_RTT");
	xm_rack_free(&r);
}
