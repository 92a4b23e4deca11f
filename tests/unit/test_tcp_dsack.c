// SPDX-License-Identifier: MIT
/*
 * D-SACK (RFC 2883) end to end: the receiver (B) reports every duplicate
 * it gets in a block its peer (A) recognises, and the sender counts the
 * D-SACKs it gets also from ACKs that arrive out of order. Receiver cases
 * inject segments into B as if A sent them; A's parser then counts what
 * B's ACKs carried (tcp_dsacks_in), so a block sent in a form RFC 2883 4
 * does not allow is caught as missing.
 */
#include "tcp_crafted.h"

/* Receiver side: a pair A -> B, B's end sc, base its RCV.NXT at start.
 * A sent 4000 bytes B never got (so that B's ACKs of what is injected
 * ACK what A sent). */
struct rcv {
	struct pair p;
	struct xm_tcp_conn *sc;
	uint32_t base;
	int l, c, s;
};

static void rcv_open(struct rcv *r, uint64_t seed)
{
	static const uint8_t flight[4000];
	int one = 1;

	pair_open(&r->p, seed, 1500, &pass, &pass);
	r->l = pair_connect(&r->p, AF_INET, 8080, &r->c, &r->s);
	r->sc = conn_of_fd(r->s);
	cr_assert(r->sc->sack_ok && r->sc->ts_ok);
	r->base = r->sc->rcv_nxt;
	xm_link_sim_set_impair(r->p.la, &drop);
	cr_assert_eq(xm_setsockopt(r->c, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one)), 0);
	send_all(r->c, flight, sizeof(flight));
	pair_run(&r->p, MS / 2);
	cr_assert_eq(conn_of_fd(r->c)->snd_max, r->base + 4000);
}

static void rcv_finish(struct rcv *r)
{
	xm_link_sim_set_impair(r->p.la, &pass);
	abort_finish(&r->p, r->c, r->s, r->l);
}

/* B gets len bytes at base + off from "A", stamped ts_back before
 * TS.Recent. */
static void rcv_seg_ts(struct rcv *r, uint32_t off, uint32_t len, uint32_t ts_back)
{
	static const uint8_t zero[256];
	uint32_t ts = r->sc->ts_recent - ts_back;

	inject(r->p.b, r->sc, r->base + off, r->sc->snd_una, XM_TCP_ACK, zero, len, &ts);
}

static void rcv_seg(struct rcv *r, uint32_t off, uint32_t len)
{
	rcv_seg_ts(r, off, len, 0);
}

/* B's ACKs reach A; D-SACKs B sent and A recognised. */
static void rcv_check(struct rcv *r, uint64_t out, uint64_t in)
{
	pair_run(&r->p, 5 * MS);
	cr_assert_eq(r->p.b->tcp->stats.dsacks_out, out, "seed %lu: B sent %lu D-SACKs",
		     (unsigned long)r->p.seed, (unsigned long)r->p.b->tcp->stats.dsacks_out);
	cr_assert_eq(r->p.a->tcp->stats.dsacks_in, in, "seed %lu: A recognised %lu D-SACKs",
		     (unsigned long)r->p.seed, (unsigned long)r->p.a->tcp->stats.dsacks_in);
}

/* Segments B gets (their timestamps ts_back before TS.Recent), each row
 * one duplicate that B must report in a D-SACK A recognises; then B's
 * RCV.NXT and first out-of-order range, as offsets, and its PAWS drops. */
struct dup_case {
	const char *name;
	uint32_t off[3], len[3], ts_back[3];
	uint32_t rcv_nxt, ooo_start, ooo_end;
	uint64_t paws_drops;
};

static const struct dup_case dup_cases[] = {
	/* RFC 2883 4: a duplicate above RCV.NXT is a D-SACK only through
	 * the second block, which must hold it; RFC 2018 4 orders blocks by
	 * recency, so the block the copy landed in is the most recent
	 * (Linux tcp_sack_new_ofo_skb moves it to the front). The range
	 * that came second would otherwise be reported second. */
	{ "rfc2883_4_an_out_of_order_duplicate_comes_with_its_block_second",
	  { 1000, 2000, 1000 }, { 100, 100, 100 }, { 0 }, 0, 1000, 1100, 0 },
	/* Linux tcp_data_queue_ofo: the part of a segment already held out
	 * of order is a duplicate, not only a whole copy. */
	{ "an_out_of_order_overlap_is_reported",
	  { 1000, 1050 }, { 100, 100 }, { 0 }, 0, 1000, 1150, 0 },
	/* Linux tcp_ofo_queue: in-order data reaching into a range held
	 * out of order duplicates that part. */
	{ "in_order_data_overlapping_held_data_is_reported",
	  { 100, 0, 2000 }, { 100, 150, 100 }, { 0 }, 200, 2000, 2100, 0 },
	/* Linux tcp_send_dupack from the PAWS check: the original of a
	 * segment resent too early comes after its retransmission, with an
	 * older timestamp; dropped, it is still a duplicate to report. */
	{ "a_duplicate_paws_drops_is_reported",
	  { 0, 2000, 0 }, { 100, 100, 100 }, { 0, 0, 1 }, 100, 2000, 2100, 1 },
};

Test(tcp_dsack, rfc2883_every_duplicate_is_reported_in_a_form_the_sender_recognises)
{
	for (size_t i = 0; i < sizeof(dup_cases) / sizeof(dup_cases[0]); i++) {
		const struct dup_case *d = &dup_cases[i];
		struct rcv r;

		cr_log_info("%s", d->name);
		rcv_open(&r, 60 + i);
		for (int k = 0; k < 3 && d->len[k]; k++)
			rcv_seg_ts(&r, d->off[k], d->len[k], d->ts_back[k]);
		cr_assert_eq(r.p.b->tcp->stats.paws_drops, d->paws_drops, "%s", d->name);
		cr_assert_eq(r.sc->rcv_nxt, r.base + d->rcv_nxt, "%s", d->name);
		cr_assert(r.sc->nooo >= 1, "%s", d->name);
		cr_assert_eq(r.sc->ooo[0].start, r.base + d->ooo_start, "%s", d->name);
		cr_assert_eq(r.sc->ooo[0].end, r.base + d->ooo_end, "%s", d->name);
		rcv_check(&r, 1, 1);
		rcv_finish(&r);
	}
}

Test(tcp_dsack, a_partly_duplicate_segment_is_acked_at_once)
{
	/* Linux tcp_send_dupack: the D-SACK leaves before a later duplicate
	 * can take its place; a delayed ACK would hold it. */
	struct rcv r;

	rcv_open(&r, 63);
	rcv_seg(&r, 0, 100);
	pair_run(&r.p, 500 * MS);   /* its delayed ACK went */
	rcv_seg(&r, 50, 100);
	cr_assert_not(r.sc->dsack_pending, "the D-SACK went with an immediate ACK");
	cr_assert_not(xm_timer_armed(&r.sc->t_dack));
	rcv_check(&r, 1, 1);
	rcv_finish(&r);
}

Test(tcp_dsack, every_out_of_order_range_reordering_makes_is_held_and_its_duplicate_reported)
{
	/* Linux keeps every out-of-order segment its buffer takes: a path
	 * that reorders a tenth of a full window leaves hundreds of holes,
	 * and data dropped for want of a range is resent for nothing. Up to
	 * XM_TCP_OOO_MAX ranges are held; past it a segment that needs a
	 * new one is a counted drop, one that touches a range still merges;
	 * a duplicate of any held range is a D-SACK. */
	const uint32_t n = XM_TCP_OOO_MAX;
	struct rcv r;

	rcv_open(&r, 64);
	for (uint32_t k = 1; k <= n; k++)
		rcv_seg(&r, 2 * k, 1);
	cr_assert_eq(r.sc->nooo, n);
	cr_assert_eq(r.p.b->tcp->stats.mem_drops, 0);
	cr_assert_eq(r.sc->rcv_nxt, r.base);
	rcv_seg(&r, 2 * n + 2, 1);
	cr_assert_eq(r.p.b->tcp->stats.mem_drops, 1, "a range past the bound is dropped");
	cr_assert_eq(r.sc->nooo, n);
	rcv_seg(&r, 3, 1);   /* joins [2, 3) and [4, 5) */
	cr_assert_eq(r.p.b->tcp->stats.mem_drops, 1);
	cr_assert_eq(r.sc->nooo, n - 1);
	cr_assert_eq(r.sc->ooo[0].start, r.base + 2);
	cr_assert_eq(r.sc->ooo[0].end, r.base + 5);
	rcv_seg(&r, 1000, 1);
	rcv_check(&r, 1, 1);
	rcv_seg(&r, 0, 2);
	cr_assert_eq(r.sc->rcv_nxt, r.base + 5, "the hole's filling drains the merged range");
	cr_assert_eq(r.sc->nooo, n - 2);
	rcv_finish(&r);
}

Test(tcp_dsack, a_pending_dsack_grows_by_a_touching_duplicate_else_is_replaced)
{
	/* Linux tcp_dsack_extend / tcp_dsack_set: one block goes out; a
	 * duplicate adjacent to it or overlapping it widens it, any other
	 * replaces it; the counter counts blocks that go out. */
	struct rcv r;
	uint64_t out;

	rcv_open(&r, 64);
	xm_link_sim_set_impair(r.p.lb, &drop);
	out = r.p.b->tcp->stats.dsacks_out;
	xm_tcp_dsack_note(r.sc, r.base - 300, r.base - 200);
	xm_tcp_dsack_note(r.sc, r.base - 200, r.base - 100);
	xm_tcp_dsack_note(r.sc, r.base - 350, r.base - 250);
	cr_assert(r.sc->dsack_pending);
	cr_assert_eq(r.sc->dsack_start, r.base - 350);
	cr_assert_eq(r.sc->dsack_end, r.base - 100);
	cr_assert_eq(r.p.b->tcp->stats.dsacks_out, out + 1);
	xm_tcp_dsack_note(r.sc, r.base - 1000, r.base - 900);
	cr_assert_eq(r.sc->dsack_start, r.base - 1000);
	cr_assert_eq(r.sc->dsack_end, r.base - 900);
	cr_assert_eq(r.p.b->tcp->stats.dsacks_out, out + 1, "one block still");
	rcv_finish(&r);
}

/* Sender side: B's flight, A's ACKs crafted. An ACK of una with options
 * TSval tsval (none when 0) and one SACK block [s, e) (none when s == e). */
static void ts_sack_ack(struct pair *p, struct xm_tcp_conn *sc, uint32_t una,
			uint32_t tsval, uint32_t s, uint32_t e)
{
	uint8_t o[24];
	uint32_t n = 0;

	if (s != e) {
		memcpy(o, (uint8_t[]){ 1, 1, 5, 10 }, 4);
		fb_be32_put(o + 4, s);
		fb_be32_put(o + 8, e);
		n = 12;
	}
	if (tsval) {
		memcpy(o + n, (uint8_t[]){ 1, 1, 8, 10 }, 4);
		fb_be32_put(o + n + 4, tsval);
		fb_be32_put(o + n + 8, 0);
		n += 12;
	}
	inject_opts(p->b, sc, sc->rcv_nxt, una, XM_TCP_ACK, NULL, 0, o, n);
}

Test(tcp_dsack, a_dsack_in_an_ack_overtaken_by_a_later_one_is_counted)
{
	/* Linux tcp_ack (old_ack): the SACK blocks of an ACK below
	 * SND.UNA are still read; on a reordering path its D-SACK is the
	 * news that a retransmission was needless. */
	static uint8_t out[10 * 1448];
	struct flight f;
	struct pair p;
	uint64_t in;
	int l, c, s;
	struct xm_tcp_conn *sc = crafted(&p, 65, out, sizeof(out), &l, &c, &s, &f);

	sack_ack(&p, sc, f.una + 2 * sc->mss, f.una, f.una);
	cr_assert_eq(sc->snd_una, f.una + 2 * sc->mss);
	in = p.b->tcp->stats.dsacks_in;
	sack_ack(&p, sc, f.una + sc->mss, f.una, f.una + 100);
	cr_assert_eq(p.b->tcp->stats.dsacks_in, in + 1);
	abort_finish(&p, c, s, l);
}

Test(tcp_dsack, a_duplicate_ack_with_a_slightly_old_timestamp_passes_paws)
{
	/* Linux tcp_disordered_ack: a pure duplicate ACK whose TSval is
	 * older than TS.Recent by less than an RTO was overtaken by
	 * another ACK, not replayed; PAWS (RFC 7323 5) dropping it would
	 * drop its D-SACK. One older by more is still dropped. */
	static uint8_t out[10 * 1448];
	struct flight f;
	struct pair p;
	uint64_t in, paws;
	uint32_t una;
	int l, c, s;
	struct xm_tcp_conn *sc = crafted(&p, 66, out, sizeof(out), &l, &c, &s, &f);

	una = f.una + 2 * sc->mss;
	ts_sack_ack(&p, sc, una, sc->ts_recent + 5, f.una, f.una);
	cr_assert_eq(sc->snd_una, una);
	in = p.b->tcp->stats.dsacks_in;
	paws = p.b->tcp->stats.paws_drops;
	ts_sack_ack(&p, sc, una, sc->ts_recent - 1, f.una, f.una + 100);
	cr_assert_eq(p.b->tcp->stats.paws_drops, paws);
	cr_assert_eq(p.b->tcp->stats.dsacks_in, in + 1);
	ts_sack_ack(&p, sc, una, sc->ts_recent - 100000, f.una, f.una + 100);
	cr_assert_eq(p.b->tcp->stats.paws_drops, paws + 1);
	cr_assert_eq(p.b->tcp->stats.dsacks_in, in + 1);
	abort_finish(&p, c, s, l);
}
