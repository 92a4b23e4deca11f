// SPDX-License-Identifier: MIT
/*
 * RACK loss detection (RFC 8985 6) over the per-segment send records.
 * Records are kept in sequence order in one array (q[head .. head+n)):
 * cumulative ACKs drop from the front, new data appends at the back, a
 * retransmission that covers part of a record splits it so that flags
 * and times stay exact per byte range.
 */
#include <stdlib.h>
#include <string.h>

#include "rack.h"
#include "seq.h"

void xm_rack_init(struct xm_rack *r, uint32_t una)
{
	free(r->q);
	memset(r, 0, sizeof(*r));
	r->ok = true;
	r->una = r->end = r->fack = una;
	r->reo_wnd_mult = 1;
}

void xm_rack_free(struct xm_rack *r)
{
	free(r->q);
	r->q = NULL;
	r->cap = r->head = r->n = 0;
	r->ok = false;
}

static struct xm_rack_seg *at(const struct xm_rack *r, uint32_t k)
{
	return &r->q[r->head + k];
}

/* Add (sign 1) or remove (sign -1) a record's share of the counters. */
static void account(struct xm_rack *r, const struct xm_rack_seg *s, int sign)
{
	uint32_t len = s->end - s->start;
	uint32_t d = sign > 0 ? len : (uint32_t)-len;
	uint32_t one = sign > 0 ? 1u : (uint32_t)-1;

	if (s->flags & XM_RACK_SACKED) {
		r->nsacked += one;
		r->sacked_bytes += d;
		return;
	}
	if (s->flags & XM_RACK_LOST)
		r->lost_bytes += d;
	if (s->flags & XM_RACK_RETRANS) {
		r->nretrans += one;
		r->rtx_bytes += d;
	}
}

static void set_flags(struct xm_rack *r, struct xm_rack_seg *s, uint8_t flags)
{
	account(r, s, -1);
	s->flags = flags;
	account(r, s, 1);
	if ((flags & (XM_RACK_LOST | XM_RACK_RETRANS | XM_RACK_SACKED)) == XM_RACK_LOST) {
		if (!r->lost_pending || seq_lt(s->start, r->lost_low))
			r->lost_low = s->start;
		r->lost_pending = true;
	}
}

/* Records stop being kept: the caller falls back to RFC 6675. */
static void give_up(struct xm_rack *r)
{
	xm_rack_free(r);
}

/* Room for one more record at relative index k (shifting the tail). */
static bool make_room(struct xm_rack *r, uint32_t k)
{
	if (r->head + r->n == r->cap) {
		if (r->head) {
			memmove(r->q, at(r, 0), r->n * sizeof(*r->q));
			r->head = 0;
		} else {
			uint32_t cap = r->cap ? r->cap * 2 : 64;
			struct xm_rack_seg *q;

			if (cap > XM_RACK_SEGS_MAX)
				return false;
			q = realloc(r->q, cap * sizeof(*q));
			if (!q)
				return false;
			r->q = q;
			r->cap = cap;
		}
	}
	memmove(at(r, k + 1), at(r, k), (r->n - k) * sizeof(*r->q));
	r->n++;
	return true;
}

/* First record that ends after seq (the one holding seq, or above it). */
static uint32_t find(const struct xm_rack *r, uint32_t seq)
{
	uint32_t lo = 0, hi = r->n;

	while (lo < hi) {
		uint32_t mid = lo + (hi - lo) / 2;

		if (seq_gt(at(r, mid)->end, seq))
			hi = mid;
		else
			lo = mid + 1;
	}
	return lo;
}

/* Split record k at seq (strictly inside it). */
static bool split(struct xm_rack *r, uint32_t k, uint32_t seq)
{
	struct xm_rack_seg s;

	if (!make_room(r, k + 1))
		return false;
	s = *at(r, k);
	/* both halves keep the flags: the counters gain a record, no bytes */
	at(r, k)->end = seq;
	s.start = seq;
	*at(r, k + 1) = s;
	if (s.flags & XM_RACK_SACKED)
		r->nsacked++;
	else if (s.flags & XM_RACK_RETRANS)
		r->nretrans++;
	return true;
}

static void mark_rtx(struct xm_rack *r, uint32_t s, uint32_t e, uint64_t now)
{
	uint32_t k = find(r, s);

	if (k < r->n && seq_lt(at(r, k)->start, s)) {
		if (!split(r, k, s)) {
			give_up(r);
			return;
		}
		k++;
	}
	for (; k < r->n && seq_lt(at(r, k)->start, e); k++) {
		struct xm_rack_seg *g;

		if (seq_gt(at(r, k)->end, e) && !split(r, k, e)) {
			give_up(r);
			return;
		}
		g = at(r, k);
		g->xmit_us = now;
		g->order = r->sends;
		set_flags(r, g, (uint8_t)((g->flags | XM_RACK_RETRANS | XM_RACK_EVER_RTX) &
					  ~XM_RACK_TIMED_OUT));
	}
}

void xm_rack_on_send(struct xm_rack *r, uint32_t start, uint32_t end,
		     uint64_t now_us)
{
	if (!r->ok || seq_le(end, r->una))
		return;
	r->sends++;
	if (seq_lt(start, r->una))
		start = r->una;
	if (seq_lt(start, r->end)) {
		uint32_t e = seq_min(end, r->end);

		mark_rtx(r, start, e, now_us);
		if (!r->ok)
			return;
		start = e;
	}
	if (!seq_lt(start, end))
		return;
	if (start != r->end || !make_room(r, r->n)) {
		give_up(r);   /* data we never saw go out: records incomplete */
		return;
	}
	*at(r, r->n - 1) = (struct xm_rack_seg){ .start = start, .end = end,
						 .xmit_us = now_us, .order = r->sends };
	r->end = end;
}

/* RFC 8985 6.1 RACK_sent_after. Segments sent within one clock tick
 * are told apart by the order they were sent in, not by end_seq as the
 * RFC does: a retransmission sent in the same tick after new data has
 * the lower end_seq, and would look sent before the data it followed
 * (whose SACK then marks it lost though it arrived). */
static bool sent_after(uint64_t t1, uint32_t o1, uint64_t t2, uint32_t o2)
{
	return t1 > t2 || (t1 == t2 && (int32_t)(o1 - o2) > 0);
}

/* RFC 8985 6.1 steps 2 and 3 for one newly delivered record; in_order:
 * cumulatively ACKed, not SACKed above a hole first. */
static void deliver(struct xm_rack *r, const struct xm_rack_seg *s, uint64_t now,
		    bool in_order)
{
	uint32_t rtt = now > s->xmit_us ? (uint32_t)(now - s->xmit_us) : 0;
	/* Sent more than once, ever (Linux TCPCB_RETRANS): which copy was
	 * delivered is unknown even after RACK declared the last one lost
	 * again, and a sample from the last copy's time may be far short
	 * of any real RTT (Karn). */
	bool rtx = s->flags & XM_RACK_EVER_RTX;

	if (!(s->flags & XM_RACK_EVER_RTX) &&
	    (!r->orig_delivered || seq_lt(s->end, r->orig_end))) {
		r->orig_delivered = true;
		r->orig_end = s->end;
	}
	/* Step 3: delivered below the highest delivered, never resent. */
	if (seq_gt(s->end, r->fack))
		r->fack = s->end;
	else if (seq_lt(s->end, r->fack) && !rtx)
		r->reordering_seen = true;
	/* Step 2: an ACK of a retransmitted segment quicker than any RTT
	 * is for the original: not a sample (the timestamp test of step 2
	 * needs per-segment TSvals we do not keep). */
	if (rtx && r->min_rtt_us && rtt < r->min_rtt_us)
		return;
	r->rtt_us = rtt;
	/* A segment SACKed above a hole may have overtaken those before
	 * it: its RTT is short by the very reordering it shows (netem's
	 * reorder sends it without the path's delay), and a min_RTT taken
	 * from it would shrink the reordering window that must cover that
	 * reordering (RFC 8985 6.2 step 4 sizes it in min_RTT/4 steps).
	 * Only segments delivered in order give min_RTT samples. */
	if (!rtx && in_order)
		xm_rack_rtt_sample(r, rtt, now);
	if (!r->delivered_any || sent_after(s->xmit_us, s->order, r->xmit_us, r->xmit_order)) {
		r->xmit_us = s->xmit_us;
		r->end_seq = s->end;
		r->xmit_order = s->order;
		r->delivered_any = true;
	}
}

void xm_rack_rtt_sample(struct xm_rack *r, uint32_t rtt_us, uint64_t now_us)
{
	r->min_rtt_us = xm_minmax_running_min(&r->min_rtt, XM_RACK_MIN_RTT_WIN_US, now_us,
					      rtt_us ? rtt_us : 1);
}

static void sack_block(struct xm_rack *r, uint32_t s, uint32_t e, uint64_t now)
{
	if (seq_lt(s, r->una))
		s = r->una;
	if (seq_gt(e, r->end))
		e = r->end;
	if (!seq_lt(s, e))
		return;
	for (uint32_t k = find(r, s); k < r->n && seq_lt(at(r, k)->start, e); k++) {
		struct xm_rack_seg *g = at(r, k);

		if (g->flags & XM_RACK_SACKED)
			continue;
		/* RFC 6675 counts SACKed bytes: a record partly covered is
		 * split at the block's edge, the covered part delivered. */
		if (seq_lt(g->start, s)) {
			if (!split(r, k, s)) {
				give_up(r);
				return;
			}
			continue;   /* the next round takes the upper part */
		}
		if (seq_gt(g->end, e) && !split(r, k, e)) {
			give_up(r);
			return;
		}
		g = at(r, k);
		deliver(r, g, now, false);
		set_flags(r, g, (uint8_t)(g->flags | XM_RACK_SACKED));
	}
}

void xm_rack_on_ack(struct xm_rack *r, uint32_t una,
		    const struct xm_tcp_sack_block *blk, unsigned nblk,
		    uint64_t now_us)
{
	unsigned order[XM_TCP_SACK_MAX];

	if (!r->ok)
		return;
	r->orig_delivered = false;
	while (r->n && seq_le(at(r, 0)->end, una)) {
		struct xm_rack_seg *g = at(r, 0);

		if (!(g->flags & XM_RACK_SACKED))
			deliver(r, g, now_us, true);
		account(r, g, -1);
		r->head++;
		r->n--;
	}
	if (r->n && seq_lt(at(r, 0)->start, una)) {
		account(r, at(r, 0), -1);
		at(r, 0)->start = una;
		account(r, at(r, 0), 1);
	}
	if (!r->n)
		r->head = 0;
	if (seq_gt(una, r->una))
		r->una = una;
	if (seq_lt(r->end, r->una))
		r->end = r->una;
	if (seq_lt(r->fack, r->una))
		r->fack = r->una;
	/* Blocks in sequence order: the first block is the newest, and
	 * taking it first would make the older ones below it look
	 * reordered (6.2 step 3). */
	if (nblk > XM_TCP_SACK_MAX)
		nblk = XM_TCP_SACK_MAX;
	for (unsigned i = 0; i < nblk; i++) {
		unsigned j = i;

		while (j && seq_gt(blk[order[j - 1]].start, blk[i].start)) {
			order[j] = order[j - 1];
			j--;
		}
		order[j] = i;
	}
	for (unsigned i = 0; i < nblk && r->ok; i++)
		sack_block(r, blk[order[i]].start, blk[order[i]].end, now_us);
}

uint32_t xm_rack_reo_wnd(const struct xm_rack *r, bool in_recovery,
			 uint32_t srtt_us, uint32_t mss)
{
	uint64_t w;

	/* RACK.segs_sacked >= DupThresh, counted in bytes as RFC 6675
	 * IsLost() does: records split by SACK edges are not segments. */
	if (!r->reordering_seen &&
	    (in_recovery || r->sacked_bytes > (XM_RACK_DUPTHRESH - 1) * mss))
		return 0;
	w = (uint64_t)r->reo_wnd_mult * r->min_rtt_us / 4;
	if (srtt_us && w > srtt_us)
		w = srtt_us;
	return (uint32_t)w;
}

void xm_rack_dsack(struct xm_rack *r, uint32_t snd_una, uint32_t snd_nxt)
{
	if (r->dsack_round_on && seq_ge(snd_una, r->dsack_round))
		r->dsack_round_on = false;
	/* One widening per round trip, however many DSACKs it brings. */
	if (r->dsack_round_on)
		return;
	r->dsack_round_on = true;
	r->dsack_round = snd_nxt;
	if (r->reo_wnd_mult < 255)
		r->reo_wnd_mult++;
	r->reo_wnd_persist = XM_RACK_REO_PERSIST;
}

void xm_rack_recovery_end(struct xm_rack *r, uint32_t snd_una, bool undone)
{
	if (r->dsack_round_on && seq_ge(snd_una, r->dsack_round))
		r->dsack_round_on = false;
	/* A recovery proven spurious is reordering the window failed to
	 * cover, not a loss recovery without DSACKs (Linux counts only
	 * those it cannot undo, tcp_try_undo_recovery). */
	if (undone)
		return;
	if (r->reo_wnd_persist)
		r->reo_wnd_persist--;
	if (!r->reo_wnd_persist)
		r->reo_wnd_mult = 1;
}

uint32_t xm_rack_detect(struct xm_rack *r, uint64_t now_us, uint32_t reo_wnd_us,
			uint64_t *wait_us)
{
	uint32_t lost = 0, seen_rtx = 0, nrtx = r->nretrans;

	*wait_us = 0;
	if (!r->ok || !r->delivered_any)
		return 0;
	for (uint32_t k = 0; k < r->n; k++) {
		struct xm_rack_seg *g = at(r, k);
		bool rtx = g->flags & XM_RACK_RETRANS;
		int64_t remaining;

		if (g->flags & XM_RACK_SACKED)
			continue;
		if (rtx)
			seen_rtx++;
		else if (g->flags & (XM_RACK_LOST | XM_RACK_TIMED_OUT))
			continue;   /* due for retransmission, or trusted */
		/* Records never resent are in sending order: once one is
		 * not (yet) lost, none after it is; only retransmitted
		 * records further on remain to be looked at. */
		if (!sent_after(r->xmit_us, r->xmit_order, g->xmit_us, g->order)) {
			if (!rtx && seen_rtx >= nrtx)
				break;
			continue;
		}
		remaining = (int64_t)(g->xmit_us + r->rtt_us + reo_wnd_us) - (int64_t)now_us;
		if (remaining <= 0) {
			set_flags(r, g, (uint8_t)((g->flags | XM_RACK_LOST | XM_RACK_TIMED_OUT) &
					       ~XM_RACK_RETRANS));
			lost++;
			continue;
		}
		if (!*wait_us || (uint64_t)remaining < *wait_us)
			*wait_us = (uint64_t)remaining;
		if (!rtx && seen_rtx >= nrtx)
			break;
	}
	return lost;
}

void xm_rack_mark_all_lost(struct xm_rack *r)
{
	for (uint32_t k = 0; k < r->n; k++) {
		struct xm_rack_seg *g = at(r, k);

		if (!(g->flags & XM_RACK_SACKED))
			set_flags(r, g, (uint8_t)((g->flags & XM_RACK_EVER_RTX) | XM_RACK_LOST));
	}
}

void xm_rack_mark_first_lost(struct xm_rack *r)
{
	if (r->ok && r->n && !(at(r, 0)->flags & (XM_RACK_SACKED | XM_RACK_LOST)))
		set_flags(r, at(r, 0), XM_RACK_LOST);
}

bool xm_rack_next_lost(struct xm_rack *r, uint32_t limit, uint32_t *seq,
		       uint32_t *len)
{
	uint32_t k;

	if (!r->ok || !r->lost_pending)
		return false;
	for (k = find(r, r->lost_low); k < r->n; k++) {
		struct xm_rack_seg *g = at(r, k);

		if (!seq_lt(g->start, limit))
			return false;
		if ((g->flags & (XM_RACK_LOST | XM_RACK_RETRANS | XM_RACK_SACKED)) ==
		    XM_RACK_LOST) {
			r->lost_low = g->start;
			*seq = g->start;
			*len = g->end - g->start;
			return true;
		}
	}
	r->lost_pending = false;
	return false;
}

uint32_t xm_rack_pipe(const struct xm_rack *r)
{
	return (r->end - r->una) - r->sacked_bytes - r->lost_bytes + r->rtx_bytes;
}

bool xm_rack_last(const struct xm_rack *r, uint32_t *seq, uint32_t *len)
{
	if (!r->ok || !r->n)
		return false;
	*seq = at(r, r->n - 1)->start;
	*len = at(r, r->n - 1)->end - at(r, r->n - 1)->start;
	return true;
}

void xm_rack_unmark_lost(struct xm_rack *r)
{
	for (uint32_t k = 0; k < r->n; k++) {
		struct xm_rack_seg *g = at(r, k);

		if (g->flags & XM_RACK_LOST)
			set_flags(r, g, (uint8_t)(g->flags & ~XM_RACK_LOST));
	}
	r->lost_pending = false;
}
