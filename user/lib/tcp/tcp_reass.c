// SPDX-License-Identifier: MIT
/*
 * TCP receive queue: in-order text into the receive ring, out-of-order
 * ranges kept beside it (merged, SACKed by recency), and the D-SACK
 * blocks (RFC 2883) for data that came twice.
 */
#include <stdlib.h>
#include <string.h>

#include "../core/stack.h"
#include "tcb.h"

void xm_tcp_dsack_note(struct xm_tcp_conn *c, uint32_t s, uint32_t e)
{
	if (!c->sack_ok || !seq_lt(s, e))
		return;
	/* One block goes out (RFC 2883 4: only the first block reports a
	 * duplicate). A duplicate touching the one still pending grows it
	 * (Linux tcp_dsack_extend); any other replaces it, the newest being
	 * what the sender most needs (Linux tcp_dsack_set). Counted once
	 * per block that goes out, not per duplicate folded into it. */
	if (c->dsack_pending && seq_le(s, c->dsack_end) && seq_le(c->dsack_start, e)) {
		c->dsack_start = seq_min(s, c->dsack_start);
		c->dsack_end = seq_max(e, c->dsack_end);
		return;
	}
	if (!c->dsack_pending)
		c->st->tcp->stats.dsacks_out++;
	c->dsack_pending = true;
	c->dsack_start = s;
	c->dsack_end = e;
}

/* [s, e) against the out-of-order ranges: note the lowest part already
 * held as a duplicate (Linux tcp_data_queue_ofo / tcp_ofo_queue report
 * overlaps too, not only whole copies). Ranges never touch, so the parts
 * are never adjacent and one block holds only one of them. Returns the
 * index of the range holding all of [s, e), or -1. */
static int ooo_dup(struct xm_tcp_conn *c, uint32_t s, uint32_t e)
{
	bool noted = false;

	for (uint16_t i = 0; i < c->nooo; i++) {
		const struct xm_tcp_range *r = &c->ooo[i];

		if (!seq_lt(r->start, e) || !seq_lt(s, r->end))
			continue;
		if (seq_le(r->start, s) && seq_le(e, r->end)) {
			xm_tcp_dsack_note(c, s, e);
			return i;
		}
		if (!noted)
			xm_tcp_dsack_note(c, seq_max(s, r->start), seq_min(e, r->end));
		noted = true;
	}
	return -1;
}

/* Room for one more range: false when the bound is reached or memory is
 * short (the segment is dropped and the peer resends it, as Linux drops
 * what its out-of-order queue cannot take). The array is counted in the
 * stack's TCP memory, as the rings are. */
static bool ooo_room(struct xm_tcp_conn *c)
{
	struct xm_tcp_stack *ts = c->st->tcp;
	struct xm_tcp_range *n;
	uint32_t cap;
	size_t add;

	if (c->nooo < c->ooo_cap)
		return true;
	if (c->ooo_cap >= XM_TCP_OOO_MAX)
		return false;
	cap = c->ooo_cap ? 2u * c->ooo_cap : 16u;
	if (cap > XM_TCP_OOO_MAX)
		cap = XM_TCP_OOO_MAX;
	add = sizeof(*n) * (size_t)(cap - c->ooo_cap);
	if (!xm_tcp_mem_fits(ts, add))
		return false;
	n = realloc(c->ooo, sizeof(*n) * (size_t)cap);
	if (!n)
		return false;
	xm_tcp_mem_charge(ts, add);
	c->ooo = n;
	c->ooo_cap = (uint16_t)cap;
	return true;
}

void xm_tcp_ooo_free(struct xm_tcp_conn *c)
{
	c->st->tcp->mem -= sizeof(*c->ooo) * (size_t)c->ooo_cap;
	free(c->ooo);
	c->ooo = NULL;
	c->nooo = c->ooo_cap = 0;
}

/* [s, e) into the ranges; ooo_room said there is room for a new one. */
static void ooo_insert(struct xm_tcp_conn *c, uint32_t s, uint32_t e)
{
	uint16_t i, j;

	/* Merge with every range it overlaps or touches. */
	for (i = 0; i < c->nooo;) {
		struct xm_tcp_range *r = &c->ooo[i];

		if (seq_le(r->start, e) && seq_ge(r->end, s)) {
			s = seq_min(s, r->start);
			e = seq_max(e, r->end);
			memmove(r, r + 1, sizeof(*r) * (size_t)(c->nooo - i - 1));
			c->nooo--;
			continue;
		}
		i++;
	}
	for (i = 0; i < c->nooo && seq_lt(c->ooo[i].start, s); i++)
		;
	for (j = c->nooo; j > i; j--)
		c->ooo[j] = c->ooo[j - 1];
	c->ooo[i].start = s;
	c->ooo[i].end = e;
	c->ooo[i].stamp = ++c->ooo_clock;
	c->nooo++;
}

/* After rcv_nxt advanced: pull in out-of-order ranges it reached. */
static void ooo_drain(struct xm_tcp_conn *c)
{
	while (c->nooo && seq_le(c->ooo[0].start, c->rcv_nxt)) {
		if (seq_gt(c->ooo[0].end, c->rcv_nxt)) {
			uint32_t n = c->ooo[0].end - c->rcv_nxt;

			c->rcvbuf.len += n;
			c->rcv_nxt += n;
		}
		memmove(&c->ooo[0], &c->ooo[1], sizeof(c->ooo[0]) * (size_t)(c->nooo - 1));
		c->nooo--;
	}
}

bool xm_tcp_data_in(struct xm_tcp_conn *c, uint32_t seq, const uint8_t *p,
		    uint32_t len)
{
	struct xm_tcp_stack *ts = c->st->tcp;
	uint32_t off = c->rcvbuf.len + (seq - c->rcv_nxt);
	uint32_t room = c->rcvbuf.cap > off ? c->rcvbuf.cap - off : 0;
	int held;

	if (len > room)
		len = room;   /* beyond the buffer: the peer resends it */
	if (!len)
		return true;
	if (seq == c->rcv_nxt) {
		bool had_ooo = c->nooo;

		ooo_dup(c, seq, seq + len);
		xm_tcp_ring_write(&c->rcvbuf, off, p, len);
		c->rcvbuf.len += len;
		c->rcv_nxt += len;
		ooo_drain(c);
		return had_ooo;   /* RFC 5681 4.2: ACK at once when filling a hole */
	}
	held = ooo_dup(c, seq, seq + len);
	if (held >= 0) {
		/* RFC 2883 4: the block holding the duplicate comes second,
		 * so it must be the most recent (RFC 2018 4 order). */
		c->ooo[held].stamp = ++c->ooo_clock;
		return true;
	}
	if (!ooo_room(c)) {
		bool fits = false;

		/* One that touches a range merges into it: no new range. */
		for (uint16_t i = 0; i < c->nooo && !fits; i++)
			fits = seq_le(c->ooo[i].start, seq + len) && seq_ge(c->ooo[i].end, seq);
		if (!fits) {
			ts->stats.mem_drops++;
			return true;
		}
	}
	ts->stats.ooo_segs++;
	xm_tcp_ring_write(&c->rcvbuf, off, p, len);
	ooo_insert(c, seq, seq + len);
	return true;   /* RFC 5681 4.2: out-of-order: immediate (dup) ACK */
}
