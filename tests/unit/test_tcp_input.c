// SPDX-License-Identifier: MIT
/*
 * TCP input and output behaviours pinned down with crafted segments and
 * small exchanges over the sim: RFC 5961 challenge ACKs against blind RST,
 * SYN and data injection; PAWS; SYN cookies; data before accept(); zero
 * window probes; Nagle and TCP_NODELAY; MSG_PEEK; TCP_CONGESTION; SACK
 * loss detection on ACKs that carry data.
 */
#include "tcp_inject.h"

#define MS 1000000ull
#define S  1000000000ull

Test(tcp_input, rst_in_window_but_not_exact_gets_challenge_ack_then_exact_resets)
{
	struct pair p;
	struct xm_tcp_conn *sc;
	uint64_t ch;
	char buf[4];
	int l, c, s;

	pair_open(&p, 21, 1500, NULL, NULL);
	l = pair_connect(&p, AF_INET, 8080, &c, &s);
	sc = conn_of_fd(s);
	ch = p.b->tcp->stats.challenge_acks;
	inject(p.b, sc, sc->rcv_nxt + 100, 0, XM_TCP_RST, NULL, 0, NULL);
	cr_assert_eq(sc->state, XM_TCP_ESTABLISHED, "RFC 5961 3.2: no reset");
	cr_assert_eq(p.b->tcp->stats.challenge_acks, ch + 1);
	/* Out of the window altogether: dropped (an ACK, no state change). */
	inject(p.b, sc, sc->rcv_nxt + 0x40000000u, 0, XM_TCP_RST, NULL, 0, NULL);
	cr_assert_eq(sc->state, XM_TCP_ESTABLISHED);
	cr_assert_eq(p.b->tcp->stats.rst_ignored, 1);
	inject(p.b, sc, sc->rcv_nxt, 0, XM_TCP_RST, NULL, 0, NULL);
	cr_assert_eq(state_of(s), XM_TCP_CLOSED);
	cr_assert_eq(xm_recv(s, buf, sizeof(buf), MSG_DONTWAIT), -1);
	cr_assert_eq(errno, ECONNRESET);
	pair_finish(&p, c, s, l);
}

Test(tcp_input, syn_in_established_gets_challenge_ack)
{
	struct pair p;
	struct xm_tcp_conn *sc;
	uint64_t ch;
	int l, c, s;

	pair_open(&p, 22, 1500, NULL, NULL);
	l = pair_connect(&p, AF_INET, 8080, &c, &s);
	sc = conn_of_fd(s);
	ch = p.b->tcp->stats.challenge_acks;
	inject(p.b, sc, sc->rcv_nxt + 7, 0, XM_TCP_SYN, NULL, 0, NULL);
	cr_assert_eq(sc->state, XM_TCP_ESTABLISHED, "RFC 5961 4.2: no reset");
	cr_assert_eq(p.b->tcp->stats.challenge_acks, ch + 1);
	/* The real peer answers the challenge ACK with nothing harmful. */
	pair_run(&p, 100 * MS);
	cr_assert_eq(state_of(c), XM_TCP_ESTABLISHED);
	cr_assert_eq(state_of(s), XM_TCP_ESTABLISHED);
	pair_finish(&p, c, s, l);
}

Test(tcp_input, data_with_ack_beyond_snd_nxt_is_dropped_and_challenged)
{
	struct pair p;
	struct xm_tcp_conn *sc;
	uint64_t ch;
	char buf[8];
	int l, c, s;

	pair_open(&p, 23, 1500, NULL, NULL);
	l = pair_connect(&p, AF_INET, 8080, &c, &s);
	sc = conn_of_fd(s);
	ch = p.b->tcp->stats.challenge_acks;
	inject(p.b, sc, sc->rcv_nxt, sc->snd_max + 100000, XM_TCP_ACK, "evil", 4, NULL);
	cr_assert_eq(p.b->tcp->stats.challenge_acks, ch + 1, "RFC 5961 5.2");
	cr_assert_eq(xm_recv(s, buf, sizeof(buf), MSG_DONTWAIT), -1);
	cr_assert_eq(errno, EAGAIN);
	/* The same with an acceptable ACK is delivered. */
	inject(p.b, sc, sc->rcv_nxt, sc->snd_una, XM_TCP_ACK, "good", 4, NULL);
	cr_assert_eq(xm_recv(s, buf, sizeof(buf), MSG_DONTWAIT), 4);
	cr_assert_eq(memcmp(buf, "good", 4), 0);
	/* The injected bytes desynchronised the two ends: abort. */
	{
		struct linger lg = { .l_onoff = 1, .l_linger = 0 };

		xm_setsockopt(c, SOL_SOCKET, SO_LINGER, &lg, sizeof(lg));
	}
	pair_finish(&p, c, s, l);
}

Test(tcp_input, paws_drops_segment_with_old_timestamp)
{
	struct pair p;
	struct xm_tcp_conn *sc;
	uint32_t old, fresh;
	char buf[8];
	int l, c, s;

	pair_open(&p, 24, 1500, NULL, NULL);
	l = pair_connect(&p, AF_INET, 8080, &c, &s);
	sc = conn_of_fd(s);
	cr_assert(sc->ts_ok);
	old = sc->ts_recent - 1000;
	inject(p.b, sc, sc->rcv_nxt, sc->snd_una, XM_TCP_ACK, "old!", 4, &old);
	cr_assert_eq(p.b->tcp->stats.paws_drops, 1);
	cr_assert_eq(xm_recv(s, buf, sizeof(buf), MSG_DONTWAIT), -1);
	fresh = sc->ts_recent + 1;
	inject(p.b, sc, sc->rcv_nxt, sc->snd_una, XM_TCP_ACK, "new!", 4, &fresh);
	cr_assert_eq(xm_recv(s, buf, sizeof(buf), MSG_DONTWAIT), 4);
	cr_assert_eq(sc->ts_recent, fresh, "RFC 7323 4.3: TS.Recent updated");
	/* The injected bytes desynchronised the two ends: abort. */
	{
		struct linger lg = { .l_onoff = 1, .l_linger = 0 };

		xm_setsockopt(c, SOL_SOCKET, SO_LINGER, &lg, sizeof(lg));
	}
	pair_finish(&p, c, s, l);
}

Test(tcp_input, illegal_flags_open_nothing_and_show_in_public_counters)
{
	struct pair p;
	struct xm_tcp_conn *sc, probe;
	struct xm_stack_stats before, after;
	uint32_t nxt;
	int l, c, s;

	pair_open(&p, 26, 1500, NULL, NULL);
	l = pair_connect(&p, AF_INET, 8080, &c, &s);
	sc = conn_of_fd(s);
	cr_assert_eq(xm_stack_stats(p.b, &before), 0);
	cr_assert_eq(before.tcp_conns, 2, "the listener and the accepted one");
	cr_assert_eq(before.tcp_passive_opens, 1);
	/* From a port with no connection, to the listener: SYN+FIN and a
	 * segment with no flags at all open nothing. */
	probe = *sc;
	probe.rport = 40000;
	inject(p.b, &probe, 1000, 0, XM_TCP_SYN | XM_TCP_FIN, NULL, 0, NULL);
	inject(p.b, &probe, 1000, 0, 0, NULL, 0, NULL);
	/* On the connection, in the window, without ACK: dropped. */
	nxt = sc->rcv_nxt;
	inject(p.b, sc, nxt, 0, XM_TCP_PSH | XM_TCP_FIN | XM_TCP_URG, "x", 1, NULL);
	cr_assert_eq(sc->state, XM_TCP_ESTABLISHED);
	cr_assert_eq(sc->rcv_nxt, nxt, "neither the byte nor the FIN taken");
	cr_assert_eq(xm_stack_stats(p.b, &after), 0);
	cr_assert_eq(after.tcp_bad_flags, before.tcp_bad_flags + 3);
	cr_assert_eq(after.tcp_conns, 2, "nothing opened");
	cr_assert_eq(after.tcp_passive_opens, 1);
	cr_assert_eq(after.tcp_segs_in, before.tcp_segs_in + 3);
	cr_assert_geq(after.tcp_mem_bytes, 1, "the connection's buffers");
	cr_assert_geq(after.tcp_mem_peak, after.tcp_mem_bytes);
	cr_assert_eq(after.tcp_mem_max, 1ull << 30, "the default bound");
	pair_finish(&p, c, s, l);
}

Test(tcp_input, syn_cookie_handshake_when_syn_queue_full)
{
	struct pair p;
	struct sockaddr_in any = sin4("0.0.0.0", 8081), to = sin4(B4, 8081);
	struct xm_tcp_conn *lc;
	char buf[8];
	int l, c, s = -1;

	pair_open(&p, 25, 1500, NULL, NULL);
	l = xm_socket_on(p.b, AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0);
	cr_assert_eq(xm_bind(l, (struct sockaddr *)&any, sizeof(any)), 0);
	cr_assert_eq(xm_listen(l, 1), 0);
	lc = conn_of_fd(l);
	lc->syn_q_len = 1;   /* as if a SYN flood filled the SYN queue */
	c = xm_socket_on(p.a, AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0);
	cr_assert_eq(xm_connect(c, (struct sockaddr *)&to, sizeof(to)), -1);
	for (int i = 0; i < 10000 && s < 0; i++) {
		pair_step(&p);
		s = xm_accept(l, NULL, NULL);
	}
	cr_assert_geq(s, 0, "no connection from the cookie");
	cr_assert_eq(p.b->tcp->stats.syncookies_sent, 1);
	cr_assert_eq(p.b->tcp->stats.syncookies_ok, 1);
	lc->syn_q_len = 0;
	pair_run(&p, 10 * MS);
	cr_assert_eq(state_of(c), XM_TCP_ESTABLISHED);
	cr_assert_eq(xm_send(c, "cookie", 6, 0), 6);
	pair_run(&p, 100 * MS);
	cr_assert_eq(xm_recv(s, buf, sizeof(buf), MSG_DONTWAIT), 6);
	cr_assert_eq(memcmp(buf, "cookie", 6), 0);
	/* A bare ACK to the listener with a forged cookie: RST, counted. */
	pair_finish(&p, c, s, l);
}

Test(tcp_input, data_sent_before_accept_is_queued_not_reset)
{
	struct pair p;
	struct sockaddr_in any = sin4("0.0.0.0", 8082), to = sin4(B4, 8082);
	char buf[16];
	int l, c, s;

	pair_open(&p, 26, 1500, NULL, NULL);
	l = xm_socket_on(p.b, AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0);
	cr_assert_eq(xm_bind(l, (struct sockaddr *)&any, sizeof(any)), 0);
	cr_assert_eq(xm_listen(l, 8), 0);
	c = xm_socket_on(p.a, AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0);
	cr_assert_eq(xm_connect(c, (struct sockaddr *)&to, sizeof(to)), -1);
	for (int i = 0; i < 10000 && state_of(c) != XM_TCP_ESTABLISHED; i++)
		pair_step(&p);
	cr_assert_eq(xm_send(c, "early bird", 10, 0), 10);
	pair_run(&p, 100 * MS);
	s = xm_accept(l, NULL, NULL);
	cr_assert_geq(s, 0);
	cr_assert_eq(xm_recv(s, buf, sizeof(buf), MSG_PEEK | MSG_DONTWAIT), 10);
	cr_assert_eq(xm_recv(s, buf, sizeof(buf), MSG_DONTWAIT), 10, "MSG_PEEK kept the data");
	cr_assert_eq(memcmp(buf, "early bird", 10), 0);
	cr_assert_eq(state_of(c), XM_TCP_ESTABLISHED);
	pair_finish(&p, c, s, l);
}

Test(tcp_input, zero_window_persist_probes_then_transfer_resumes)
{
	struct pair p;
	static uint8_t out[200000], in[200000];
	size_t got = 0, sent = 0;
	int l, c, s, small = 1;
	ssize_t n;

	pair_open(&p, 27, 1500, NULL, NULL);
	l = pair_connect(&p, AF_INET, 8080, &c, &s);
	(void)small;
	for (size_t i = 0; i < sizeof(out); i++)
		out[i] = (uint8_t)(i * 7 + 3);
	/* The receiver does not read: its 64 KB ring fills, the window
	 * closes, the sender probes (persist timer) instead of giving up. */
	while (sent < sizeof(out)) {
		n = xm_send(c, out + sent, sizeof(out) - sent, MSG_DONTWAIT);
		if (n < 0)
			break;
		sent += (size_t)n;
	}
	pair_run(&p, 30 * S);
	cr_assert_geq(p.a->tcp->stats.persist_probes, 3);
	cr_assert_eq(state_of(c), XM_TCP_ESTABLISHED);
	cr_assert_eq(conn_of_fd(c)->snd_wnd, 0);
	while (got < sizeof(out)) {
		n = xm_recv(s, in + got, sizeof(in) - got, MSG_DONTWAIT);
		if (n > 0)
			got += (size_t)n;
		while (sent < sizeof(out) &&
		       (n = xm_send(c, out + sent, sizeof(out) - sent, MSG_DONTWAIT)) > 0)
			sent += (size_t)n;
		cr_assert(pair_step(&p));
		cr_assert_lt(xm_sim_now(p.sim), 600 * S, "stalled at %zu", got);
	}
	cr_assert_eq(memcmp(in, out, sizeof(out)), 0);
	pair_finish(&p, c, s, l);
}

Test(tcp_input, nagle_holds_small_segment_until_ack_nodelay_does_not)
{
	struct pair p;
	uint64_t before;
	int l, c, s, one = 1;

	pair_open(&p, 28, 1500, NULL, NULL);
	l = pair_connect(&p, AF_INET, 8080, &c, &s);
	pair_run(&p, 100 * MS);
	before = p.a->tcp->stats.segs_out;
	cr_assert_eq(xm_send(c, "a", 1, 0), 1);
	cr_assert_eq(xm_send(c, "b", 1, 0), 1);
	cr_assert_eq(p.a->tcp->stats.segs_out, before + 1, "Nagle: one small segment in flight");
	pair_run(&p, 100 * MS);
	cr_assert_eq(xm_setsockopt(c, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one)), 0);
	before = p.a->tcp->stats.segs_out;
	cr_assert_eq(xm_send(c, "c", 1, 0), 1);
	cr_assert_eq(xm_send(c, "d", 1, 0), 1);
	cr_assert_eq(p.a->tcp->stats.segs_out, before + 2, "TCP_NODELAY: both go out");
	pair_finish(&p, c, s, l);
}

Test(tcp_input, tcp_congestion_get_set_unknown)
{
	struct pair p;
	char name[16];
	socklen_t len = sizeof(name);
	int c;

	pair_open(&p, 29, 1500, NULL, NULL);
	c = xm_socket_on(p.a, AF_INET, SOCK_STREAM, 0);
	cr_assert_eq(xm_getsockopt(c, IPPROTO_TCP, TCP_CONGESTION, name, &len), 0);
	cr_assert_str_eq(name, "cubic");
	cr_assert_eq(xm_setsockopt(c, IPPROTO_TCP, TCP_CONGESTION, "reno", 4), 0);
	len = sizeof(name);
	cr_assert_eq(xm_getsockopt(c, IPPROTO_TCP, TCP_CONGESTION, name, &len), 0);
	cr_assert_str_eq(name, "reno");
	cr_assert_eq(xm_setsockopt(c, IPPROTO_TCP, TCP_CONGESTION, "bbr9", 4), -1);
	cr_assert_eq(errno, ENOENT);
	xm_close(c);
	pair_check_no_leaks(&p);
	pair_close(&p);
}

Test(tcp_input, sack_on_data_segments_starts_fast_recovery)
{
	/* RFC 6675 2: an ACK whose SACK blocks cover octets not SACKed
	 * before is a duplicate ACK even when it carries data or changes the
	 * window, which is all a peer sending data back (an echo) ever
	 * sends. Three of them SACKing three segments above a hole start
	 * fast recovery at once instead of waiting for the RTO. */
	static char out[8 * 1460];
	uint8_t o[12] = { 1, 1, 5, 10 };   /* NOP NOP, SACK with one block */
	struct linger lg = { .l_onoff = 1, .l_linger = 0 };
	struct xm_tcp_conn *sc;
	struct pair p;
	uint32_t una, seq;
	uint64_t fr;
	int l, c, s;

	pair_open(&p, 29, 1500, NULL, NULL);
	l = pair_connect(&p, AF_INET, 8080, &c, &s);
	sc = conn_of_fd(s);
	cr_assert(sc->sack_ok);
	cr_assert_eq(xm_send(s, out, sizeof(out), MSG_DONTWAIT), (ssize_t)sizeof(out));
	una = sc->snd_una;
	cr_assert_geq(sc->snd_max - una, 5 * sc->mss, "the data is out");
	fr = p.b->tcp->stats.fast_recoveries;
	seq = sc->rcv_nxt;
	for (uint32_t k = 2; k <= 4; k++, seq += 4) {
		fb_be32_put(o + 4, una + sc->mss);
		fb_be32_put(o + 8, una + k * sc->mss);
		inject_opts(p.b, sc, seq, una, XM_TCP_ACK, "echo", 4, o, sizeof(o));
	}
	cr_assert_eq(p.b->tcp->stats.fast_recoveries, fr + 1, "RFC 6675 5 (2): IsLost(HighACK + 1)");
	cr_assert(sc->in_recovery);
	/* The injected bytes desynchronised the two ends: abort. */
	xm_setsockopt(c, SOL_SOCKET, SO_LINGER, &lg, sizeof(lg));
	pair_finish(&p, c, s, l);
}

Test(tcp_input, cumulative_ack_with_sack_above_a_hole_starts_fast_recovery)
{
	/* RFC 6675 5: an ACK SACKing new octets is a duplicate ACK
	 * "regardless of its status as a cumulative acknowledgment": one
	 * that acks the first segment and SACKs three above a hole in the
	 * second starts fast recovery even if no other ACK follows. */
	static char out[8 * 1460];
	uint8_t o[12] = { 1, 1, 5, 10 };   /* NOP NOP, SACK with one block */
	struct xm_tcp_conn *sc;
	struct pair p;
	uint32_t una;
	uint64_t fr;
	int l, c, s;

	pair_open(&p, 31, 1500, NULL, NULL);
	l = pair_connect(&p, AF_INET, 8080, &c, &s);
	sc = conn_of_fd(s);
	cr_assert_eq(xm_send(s, out, sizeof(out), MSG_DONTWAIT), (ssize_t)sizeof(out));
	una = sc->snd_una;
	cr_assert_geq(sc->snd_max - una, 5 * sc->mss, "the data is out");
	fr = p.b->tcp->stats.fast_recoveries;
	fb_be32_put(o + 4, una + 2 * sc->mss);
	fb_be32_put(o + 8, una + 5 * sc->mss);
	inject_opts(p.b, sc, sc->rcv_nxt, una + sc->mss, XM_TCP_ACK, NULL, 0, o, sizeof(o));
	cr_assert_eq(sc->snd_una, una + sc->mss);
	cr_assert_eq(p.b->tcp->stats.fast_recoveries, fr + 1, "RFC 6675 5 (2): IsLost(HighACK + 1)");
	cr_assert(sc->in_recovery);
	pair_finish(&p, c, s, l);
}

Test(tcp_input, sack_recovery_resends_every_byte_of_a_hole_longer_than_a_segment)
{
	/* RFC 6675 5 (C.3): HighRxt is the end of the segment actually
	 * retransmitted. A segment holds MSS less its options (timestamps,
	 * SACK blocks), so a retransmission of a hole longer than a segment
	 * is shorter than NextSeg()'s one MSS; counting the bytes the
	 * options pushed out as retransmitted leaves a sliver of the hole
	 * that only the RTO resends. Two segments lost back to back: fast
	 * recovery repairs them all, well before the RTO could fire. */
	static uint8_t out[12 * 1460];
	struct xm_sim_impair drop = { .loss_ppm = 1000000 }, none = { 0 };
	struct xm_tcp_conn *sc;
	struct drain d;
	struct pair p;
	uint64_t rto, fr;
	uint32_t first;
	int l, c, s;

	sc = pair_nodelay(&p, 33, &l, &c, &s);
	cr_assert(sc->sack_ok && sc->ts_ok);
	rto = p.b->tcp->stats.rto_fires;
	fr = p.b->tcp->stats.fast_recoveries;
	first = 2 * sc->mss;
	xm_link_sim_set_impair(p.lb, &drop);
	cr_assert_eq(xm_send(s, out, first, MSG_DONTWAIT), (ssize_t)first);
	cr_assert_eq(sc->snd_max - sc->snd_una, first, "the first two MSS went out, and were lost");
	xm_link_sim_set_impair(p.lb, &none);
	cr_assert_eq(xm_send(s, out + first, sizeof(out) - first, MSG_DONTWAIT),
		     (ssize_t)(sizeof(out) - first));
	d = (struct drain){ .fd = c, .want = sizeof(out) };
	cr_assert(pair_run_until(&p, XM_RTO_MIN_US * 1000ull / 2, drained, &d),
		  "half the smallest RTO later the receiver has %zu of %zu bytes",
		  d.got, d.want);
	cr_assert_eq(p.b->tcp->stats.fast_recoveries, fr + 1);
	cr_assert_eq(p.b->tcp->stats.rto_fires, rto, "the RTO repaired what fast recovery left");
	pair_finish(&p, c, s, l);
}

Test(tcp_input, loss_just_past_the_last_recovery_point_starts_fast_recovery)
{
	/* RFC 6582 3.2 (2): three duplicate ACKs start fast retransmit when
	 * they cover more than recover, the highest sequence number sent
	 * when the last recovery began. The full ACK that ends a recovery
	 * acknowledges just that; when the next segment is lost, the
	 * duplicate ACKs carry the same number, and the loss is new:
	 * fast recovery, not the RTO, repairs it. */
	static char out[4 * 1460];
	uint8_t o[12] = { 1, 1, 5, 10 };   /* NOP NOP, SACK with one block */
	struct xm_tcp_conn *sc;
	struct pair p;
	uint32_t una, end;
	uint64_t fr;
	int l, c, s;

	sc = pair_nodelay(&p, 35, &l, &c, &s);
	cr_assert(sc->sack_ok);
	cr_assert_eq(xm_send(s, out, sizeof(out), MSG_DONTWAIT), (ssize_t)sizeof(out));
	una = sc->snd_una;
	end = sc->snd_max;
	cr_assert_eq(end - una, sizeof(out), "the data is out");
	fr = p.b->tcp->stats.fast_recoveries;
	/* The first segment lost, the rest SACKed: recovery, recover = end. */
	fb_be32_put(o + 4, una + sc->mss);
	fb_be32_put(o + 8, end);
	inject_opts(p.b, sc, sc->rcv_nxt, una, XM_TCP_ACK, NULL, 0, o, sizeof(o));
	cr_assert(sc->in_recovery);
	cr_assert_eq(p.b->tcp->stats.fast_recoveries, fr + 1);
	/* The retransmission arrives: the full ACK ends the recovery. */
	inject(p.b, sc, sc->rcv_nxt, end, XM_TCP_ACK, NULL, 0, NULL);
	cr_assert(!sc->in_recovery);
	cr_assert_eq(sc->snd_una, end);
	/* New data, its first segment lost: three duplicate ACKs of end. */
	cr_assert_eq(xm_send(s, out, sizeof(out), MSG_DONTWAIT), (ssize_t)sizeof(out));
	cr_assert_gt(sc->snd_max - end, sc->mss, "two segments or more are out");
	for (int k = 0; k < 3; k++)
		inject(p.b, sc, sc->rcv_nxt, end, XM_TCP_ACK, NULL, 0, NULL);
	cr_assert(sc->in_recovery, "RFC 6582 3.2 (2): an ACK of recover covers more than it");
	cr_assert_eq(p.b->tcp->stats.fast_recoveries, fr + 2);
	pair_finish(&p, c, s, l);
}

Test(tcp_input, send_window_never_ends_past_the_edge_the_peer_offered)
{
	/* "SND.WND is an offset from SND.UNA" (RFC 9293 3.10.7.4), and an
	 * ACK of new data whose SEG.SEQ is below SND.WL1 fails the test for
	 * updating it: keeping the old SND.WND while SND.UNA moves slides
	 * the right edge past what the peer offered, into a full buffer.
	 * Such ACKs are common: B, going back after a timeout, numbers its
	 * ACKs from its old snd_una while A holds B's data up to snd_max.
	 * Here B's receive buffer fills while B goes back: A must not send
	 * past the window B offers. */
	static uint8_t out[2 * 1460], big[256 * 1024];
	struct xm_sim_impair drop = { .loss_ppm = 1000000 }, none = { 0 };
	struct xm_tcp_conn *sc, *cc;
	struct pair p;
	size_t sent = 0;
	uint64_t rto, end;
	int l, c, s;
	ssize_t n;

	sc = pair_nodelay(&p, 37, &l, &c, &s);
	cc = conn_of_fd(c);
	/* B's first MSS is lost, its second reaches A out of order; what B
	 * sends after it is lost too (RACK's retransmission, the tail loss
	 * probe), so that B must time out. */
	xm_link_sim_set_impair(p.lb, &drop);
	cr_assert_eq(xm_send(s, out, sizeof(out) / 2, MSG_DONTWAIT), (ssize_t)sizeof(out) / 2);
	xm_link_sim_set_impair(p.lb, &none);
	cr_assert_eq(xm_send(s, out, sizeof(out) / 2, MSG_DONTWAIT), (ssize_t)sizeof(out) / 2);
	xm_link_sim_set_impair(p.lb, &drop);
	pair_run(&p, 10 * MS);
	cr_assert_eq(cc->nooo, 1);
	/* B times out; its retransmission is lost too: B goes back. Step
	 * up to the RTO, not past it into the next one. */
	rto = p.b->tcp->stats.rto_fires;
	xm_link_sim_set_impair(p.lb, &drop);
	while (p.b->tcp->stats.rto_fires == rto) {
		cr_assert(xm_timer_armed(&sc->t_rtx));
		cr_assert(pair_step_until(&p, sc->t_rtx.deadline));
	}
	xm_link_sim_set_impair(p.lb, &none);
	cr_assert(seq_lt(sc->snd_nxt, sc->snd_max));
	/* A sends more than B's receive buffer holds; B does not read. */
	end = xm_sim_now(p.sim) + 100 * MS;
	while (xm_sim_now(p.sim) < end) {
		while (sent < sizeof(big) &&
		       (n = xm_send(c, big + sent, sizeof(big) - sent, MSG_DONTWAIT)) > 0)
			sent += (size_t)n;
		cr_assert(pair_step_until(&p, end));
	}
	cr_assert_gt(sent, sc->rcvbuf.cap, "A had more to send than B holds");
	cr_assert(seq_le(cc->snd_max, sc->rcv_adv),
		  "A sent %d bytes past the window B announced (A thinks it is %u)",
		  (int)(cc->snd_max - sc->rcv_adv), cc->snd_wnd);
	pair_finish(&p, c, s, l);
}

Test(tcp_input, limited_transmit_sends_new_data_on_the_first_duplicate_acks)
{
	/* RFC 5681 3.2 (1), RFC 3042, RFC 6675 5 (3): on the first and the
	 * second duplicate ACK the sender sends a segment of new data, the
	 * SACKed one having left the pipe, so that a loss in a window of a
	 * few segments still brings DupThresh duplicate ACKs. B's window is
	 * full (cwnd); each duplicate ACK lets one more segment out. The
	 * link has a round-trip time: RACK (RFC 8985 6.2) then waits a
	 * quarter of it before it calls the first segment lost, as long as
	 * fewer than DupThresh segments are SACKed above it. */
	static char out[20 * 1460];
	uint8_t o[12] = { 1, 1, 5, 10 };   /* NOP NOP, SACK with one block */
	struct xm_tcp_conn *sc;
	struct pair p;
	uint32_t una, max;
	int l, c, s;

	sc = pair_nodelay_delayed(&p, 39, 1 * MS, &l, &c, &s);
	cr_assert(sc->sack_ok);
	cr_assert_eq(xm_send(s, out, sizeof(out), MSG_DONTWAIT), (ssize_t)sizeof(out));
	una = sc->snd_una;
	max = sc->snd_max;
	cr_assert_lt(max - una, sizeof(out), "the congestion window holds data back");
	/* The duplicate ACKs come half a round trip later: before any
	 * real ACK, not with a round-trip time of zero. */
	pair_run(&p, MS / 2);
	for (uint32_t k = 2; k <= 3; k++) {
		fb_be32_put(o + 4, una + sc->mss);
		fb_be32_put(o + 8, una + k * sc->mss);
		inject_opts(p.b, sc, sc->rcv_nxt, una, XM_TCP_ACK, NULL, 0, o, sizeof(o));
		cr_assert(!sc->in_recovery);
		cr_assert_eq(sc->dupacks, k - 1);
		cr_assert(seq_gt(sc->snd_max, max), "duplicate ACK %u sent no new data", k - 1);
		max = sc->snd_max;
	}
	pair_finish(&p, c, s, l);
}

/* PSH marks the segment that empties what the application wrote, as Linux
 * marks the end of a write, not every segment: a receiver's GRO ends its
 * aggregate at each PSH. The frames A sends are read off B's link. */
Test(tcp_input, psh_only_on_the_segment_that_empties_what_was_written)
{
	static char out[6 * 1460];
	struct xm_frame f[64];
	struct pair p;
	int l, c, s, n, got = 0, psh = 0, data = 0, one = 1;
	bool last_psh = false;

	pair_open(&p, 43, 1500, NULL, NULL);
	l = pair_connect(&p, AF_INET, 8080, &c, &s);
	pair_run(&p, 100 * MS);
	/* Not Nagle: the short last segment goes out at once. */
	cr_assert_eq(xm_setsockopt(c, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one)), 0);
	cr_assert_eq(xm_send(c, out, sizeof(out), 0), (ssize_t)sizeof(out));
	while (xm_sim_in_flight(p.sim) && got < 64) {
		uint64_t t = xm_sim_next_delivery(p.sim);

		if (t > xm_sim_now(p.sim))
			xm_sim_advance(p.sim, t - xm_sim_now(p.sim));
		n = p.lb->ops->rx(p.lb, f, 64);
		for (int i = 0; i < n; i++) {
			const uint8_t *ip = f[i].data + 14, *th = ip + 20;
			uint32_t plen = (uint32_t)(ip[2] << 8 | ip[3]) - 20 - (th[12] >> 4) * 4;

			if (!plen)
				continue;
			data++;
			psh += (th[13] & XM_TCP_PSH) != 0;
			last_psh = (th[13] & XM_TCP_PSH) != 0;
		}
		p.lb->ops->rx_release(p.lb, f, n);
		got += n;
	}
	cr_assert_gt(data, 4, "%d data segments", data);
	cr_assert_eq(psh, 1, "PSH on %d of %d data segments", psh, data);
	cr_assert(last_psh, "the last data segment carries PSH");
	pair_finish(&p, c, s, l);
}
