/* SPDX-License-Identifier: MIT */
/*
 * A sender whose flight never reaches its peer, driven by crafted ACKs:
 * the loss recovery tests (test_tcp_recovery.c, test_tcp_eifel.c).
 */
#ifndef XM_TEST_TCP_CRAFTED_H
#define XM_TEST_TCP_CRAFTED_H

#include "tcp_inject.h"

#define MS 1000000ull
#define SEG 1448u      /* payload of a 1500-byte frame with timestamps */

static struct xm_sim_impair drop = { .delay_ns = MS, .loss_ppm = 1000000 };
static struct xm_sim_impair pass = { .delay_ns = MS };

static inline void send_all(int fd, const uint8_t *p, size_t n)
{
	cr_assert_eq(xm_send(fd, p, n, MSG_DONTWAIT), (ssize_t)n);
}

/* An ACK from A of una: with a timestamp option echoing *tsecr, unless
 * tsecr is NULL, and one SACK block [s, e), unless s == e. */
static inline void crafted_ack(struct pair *p, struct xm_tcp_conn *sc, uint32_t una,
			       const uint32_t *tsecr, uint32_t s, uint32_t e)
{
	uint8_t o[24];
	uint32_t n = 0;

	if (tsecr) {
		memcpy(o + n, (uint8_t[]){ 1, 1, 8, 10 }, 4);   /* NOP NOP TS */
		/* TSval: A's latest, which PAWS (RFC 7323 5) lets in */
		fb_be32_put(o + n + 4, sc->ts_recent);
		fb_be32_put(o + n + 8, *tsecr);
		n += 12;
	}
	if (s != e) {
		memcpy(o + n, (uint8_t[]){ 1, 1, 5, 10 }, 4);   /* NOP NOP SACK */
		fb_be32_put(o + n + 4, s);
		fb_be32_put(o + n + 8, e);
		n += 12;
	}
	inject_opts(p->b, sc, sc->rcv_nxt, una, XM_TCP_ACK, NULL, 0, o, n);
}

/* An ACK from A of una with one SACK block [s, e). */
static inline void sack_ack(struct pair *p, struct xm_tcp_conn *sc, uint32_t una,
			    uint32_t s, uint32_t e)
{
	crafted_ack(p, sc, una, NULL, s, e);
}

/* B's flight as it left: what a recovery and its undo are checked against. */
struct flight {
	uint32_t una, end, cwnd, ssthresh;
	uint32_t tsval;                  /* B's TSval on it */
};

/* A connection whose B end sends n bytes of out that never reach A (A's
 * ACKs are crafted), half a round trip ago; returns B's end. */
static inline struct xm_tcp_conn *crafted(struct pair *p, uint64_t seed, const uint8_t *out,
					  size_t n, int *l, int *c, int *s, struct flight *f)
{
	struct xm_tcp_conn *sc = pair_nodelay_delayed(p, seed, MS, l, c, s);

	cr_assert(sc->sack_ok && xm_tcp_rack_on(sc));
	xm_link_sim_set_impair(p->lb, &drop);
	send_all(*s, out, n);
	*f = (struct flight){ .una = sc->snd_una, .end = sc->snd_max,
			      .cwnd = sc->cc.cwnd, .ssthresh = sc->cc.ssthresh,
			      .tsval = xm_tcp_tsval(sc) };
	pair_run(p, MS / 2);
	return sc;
}

/* The injected ACKs desynchronised the two ends: abort, then finish. */
static inline void abort_finish(struct pair *p, int c, int s, int l)
{
	struct linger lg = { .l_onoff = 1, .l_linger = 0 };

	xm_link_sim_set_impair(p->lb, &pass);
	xm_setsockopt(c, SOL_SOCKET, SO_LINGER, &lg, sizeof(lg));
	pair_finish(p, c, s, l);
}

/* Step B (its sender) through its next retransmission timeout. */
static inline void until_rto(struct pair *p, struct xm_tcp_conn *sc)
{
	uint64_t rto = p->b->tcp->stats.rto_fires;

	while (p->b->tcp->stats.rto_fires == rto) {
		cr_assert(xm_timer_armed(&sc->t_rtx));
		cr_assert(pair_step_until(p, sc->t_rtx.deadline));
	}
}

#endif /* XM_TEST_TCP_CRAFTED_H */
