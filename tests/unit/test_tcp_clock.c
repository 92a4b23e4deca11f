// SPDX-License-Identifier: MIT
/*
 * How often the TCP paths read the stack's clock. A clock read is cheap on
 * bare metal but not in a VM, and a request-response server pays it per
 * segment: receiving a segment and sending a reply each read it once, as
 * Linux refreshes tcp_mstamp once per segment and once per transmit burst.
 */
#include "tcp_pair.h"

struct counting_clock {
	struct xm_clock inner;
	unsigned reads;
};

static uint64_t counting_now(void *ctx)
{
	struct counting_clock *cc = ctx;

	cc->reads++;
	return cc->inner.now_ns(cc->inner.ctx);
}

/* A request from A to B: B's poll that takes it in, then B's reply. */
static void request_reply(struct pair *p, struct counting_clock *cc, int c, int s,
			  unsigned *poll_reads, unsigned *send_reads)
{
	char buf[64];
	int n = 0;

	cr_assert_eq(xm_send(c, "GET", 3, 0), 3);
	for (int i = 0; i < 1000 && n == 0; i++) {
		cr_assert_geq(xm_stack_poll(p->a), 0);
		xm_sim_advance(p->sim, 1000);
		cc->reads = 0;
		n = xm_stack_poll(p->b);
		cr_assert_geq(n, 0);
	}
	cr_assert_eq(n, 1, "B took %d frames in one poll", n);
	*poll_reads = cc->reads;
	cr_assert_eq(xm_recv(s, buf, sizeof(buf), MSG_DONTWAIT), 3);
	cc->reads = 0;
	cr_assert_eq(xm_send(s, "OK", 2, 0), 2);
	*send_reads = cc->reads;
	for (int i = 0; i < 1000 && xm_recv(c, buf, sizeof(buf), MSG_DONTWAIT) != 2; i++)
		pair_step(p);
}

Test(tcp_clock, a_segment_in_and_a_reply_out_read_the_clock_once_each)
{
	struct counting_clock cc = { 0 };
	struct pair p;
	unsigned poll_reads, send_reads;
	int l, c, s;

	pair_nodelay(&p, 41, &l, &c, &s);
	cc.inner = p.b->clock;
	p.b->clock = (struct xm_clock){ .now_ns = counting_now, .ctx = &cc };
	/* The second exchange: the first may start timers the second finds. */
	for (int round = 0; round < 2; round++)
		request_reply(&p, &cc, c, s, &poll_reads, &send_reads);
	/* One read for the segment, one for the timers that poll ran. */
	cr_assert_leq(poll_reads, 2, "a poll taking one segment read the clock %u times",
		      poll_reads);
	cr_assert_leq(send_reads, 1, "a send of one segment read the clock %u times",
		      send_reads);
	p.b->clock = cc.inner;
	pair_finish(&p, c, s, l);
}
