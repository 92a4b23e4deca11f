// SPDX-License-Identifier: MIT
/*
 * TCP receive queue: in-order text into the receive ring, out-of-order
 * ranges kept beside it (merged, SACKed by recency), and the D-SACK
 * blocks (RFC 2883) for data that came twice.
 */
#include <string.h>

#include "../core/stack.h"
#include "tcb.h"

void xm_tcp_dsack_note(struct xm_tcp_conn *c, uint32_t s, uint32_t e)
{
	if (!c->sack_ok || !seq_lt(s, e))
		return;
	c->dsack_pending = true;
	c->dsack_start = s;
	c->dsack_end = e;
	c->st->tcp->stats.dsacks_out++;
}

static void ooo_insert(struct xm_tcp_conn *c, uint32_t s, uint32_t e)
{
	uint8_t i, j;

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

	if (len > room)
		len = room;   /* beyond the buffer: the peer resends it */
	if (!len)
		return true;
	if (seq == c->rcv_nxt) {
		bool had_ooo = c->nooo;

		xm_tcp_ring_write(&c->rcvbuf, off, p, len);
		c->rcvbuf.len += len;
		c->rcv_nxt += len;
		ooo_drain(c);
		return had_ooo;   /* RFC 5681 4.2: ACK at once when filling a hole */
	}
	for (uint8_t i = 0; i < c->nooo; i++)
		if (seq_le(c->ooo[i].start, seq) && seq_le(seq + len, c->ooo[i].end)) {
			xm_tcp_dsack_note(c, seq, seq + len);
			return true;
		}
	if (c->nooo >= XM_TCP_OOO_MAX) {
		bool fits = false;

		for (uint8_t i = 0; i < c->nooo; i++)
			if (seq_le(c->ooo[i].start, seq + len) && seq_ge(c->ooo[i].end, seq))
				fits = true;
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
