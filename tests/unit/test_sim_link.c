// SPDX-License-Identifier: MIT
/* The simulated link: virtual time, seeded impairments, frame accounting,
 * and the timer heap the stack runs on it. */
#include <criterion/criterion.h>
#include <errno.h>
#include <string.h>

#include "../../user/lib/core/timer.h"
#include "../../user/lib/link/link.h"

struct pair {
	struct xm_sim *sim;
	struct xm_link *a, *b;
};

static void pair_open(struct pair *p, uint64_t seed, const struct xm_sim_impair *a_tx)
{
	struct xm_sim_opts o = { 0 };

	cr_assert_eq(xm_sim_new(seed, &p->sim), 0);
	o.sim = p->sim;
	o.mac[0] = 2;
	o.mac[5] = 0xa;
	o.frames = 64;
	if (a_tx)
		o.tx = *a_tx;
	cr_assert_eq(xm_link_sim_open(&o, &p->a), 0);
	memset(&o.tx, 0, sizeof(o.tx));
	o.mac[5] = 0xb;
	cr_assert_eq(xm_link_sim_open(&o, &p->b), 0);
}

static void pair_close(struct pair *p)
{
	p->a->ops->close(p->a);
	p->b->ops->close(p->b);
	xm_sim_free(p->sim);
}

/* Send one 100-byte frame a -> b carrying tag. */
static void send_tag(struct pair *p, uint8_t tag, const uint8_t *dst_mac)
{
	static const uint8_t mac_b[6] = { 2, 0, 0, 0, 0, 0xb };
	struct xm_frame f;

	cr_assert_eq(p->a->ops->tx_alloc(p->a, &f, 1), 1);
	memset(f.data, 0, 100);
	memcpy(f.data, dst_mac ? dst_mac : mac_b, 6);
	f.data[50] = tag;
	f.len = 100;
	cr_assert_eq(p->a->ops->tx_submit(p->a, &f, 1), 1);
}

/* Receive everything b has now; tags into out, returns count. */
static int recv_tags(struct pair *p, uint8_t *out, int max, uint8_t (*frames)[100])
{
	struct xm_frame f[64];
	int n = p->b->ops->rx(p->b, f, max < 64 ? max : 64);

	for (int i = 0; i < n; i++) {
		out[i] = f[i].data[50];
		if (frames)
			memcpy(frames[i], f[i].data, 100);
	}
	if (n > 0)
		p->b->ops->rx_release(p->b, f, n);
	return n;
}

static void assert_accounted(struct xm_link *l)
{
	struct xm_frame_accounting a;

	cr_assert_eq(l->ops->accounting(l, &a), 0);
	cr_assert_eq(xm_frame_accounting_sum(&a), a.total);
}

Test(sim_link, frame_arrives_after_its_delay_in_virtual_time)
{
	struct xm_sim_impair im = { .delay_ns = 5000 };
	struct pair p;
	uint8_t tags[4];

	pair_open(&p, 1, &im);
	send_tag(&p, 7, NULL);
	cr_assert_eq(xm_sim_in_flight(p.sim), 1);
	cr_assert_eq(recv_tags(&p, tags, 4, NULL), 0);
	xm_sim_advance(p.sim, 4999);
	cr_assert_eq(recv_tags(&p, tags, 4, NULL), 0);
	/* wait() moves the clock to the delivery, not past it */
	cr_assert_eq(p.b->ops->wait(p.b, UINT64_MAX), 0);
	cr_assert_eq(recv_tags(&p, tags, 4, NULL), 1);
	cr_assert_eq(tags[0], 7);
	cr_assert_eq(xm_sim_in_flight(p.sim), 0);
	/* nothing can arrive any more: wait() says so instead of hanging */
	cr_assert_eq(p.b->ops->wait(p.b, UINT64_MAX), -EDEADLK);
	assert_accounted(p.a);
	assert_accounted(p.b);
	pair_close(&p);
}

Test(sim_link, only_matching_or_broadcast_mac_delivered)
{
	static const uint8_t other[6] = { 2, 0, 0, 0, 0, 0xc };
	static const uint8_t bcast[6] = { 0xff, 0xff, 0xff, 0xff, 0xff, 0xff };
	struct pair p;
	uint8_t tags[4];

	pair_open(&p, 1, NULL);
	send_tag(&p, 1, other);
	send_tag(&p, 2, bcast);
	cr_assert_eq(recv_tags(&p, tags, 4, NULL), 1);
	cr_assert_eq(tags[0], 2);
	pair_close(&p);
}

Test(sim_link, total_loss_delivers_nothing)
{
	struct xm_sim_impair im = { .loss_ppm = 1000000 };
	struct pair p;
	uint8_t tags[64];

	pair_open(&p, 1, &im);
	for (int i = 0; i < 50; i++)
		send_tag(&p, (uint8_t)i, NULL);
	cr_assert_eq(recv_tags(&p, tags, 64, NULL), 0);
	pair_close(&p);
}

Test(sim_link, duplication_delivers_twice)
{
	struct xm_sim_impair im = { .dup_ppm = 1000000 };
	struct pair p;
	uint8_t tags[64];

	pair_open(&p, 1, &im);
	for (int i = 0; i < 10; i++)
		send_tag(&p, (uint8_t)i, NULL);
	cr_assert_eq(recv_tags(&p, tags, 64, NULL), 20);
	for (int i = 0; i < 20; i++)
		cr_assert_eq(tags[i], i / 2);
	pair_close(&p);
}

Test(sim_link, corruption_flips_one_bit_past_ethernet)
{
	struct xm_sim_impair im = { .corrupt_ppm = 1000000 };
	static uint8_t frames[64][100];
	struct pair p;
	uint8_t tags[64];
	int n;

	pair_open(&p, 3, &im);
	for (int i = 0; i < 20; i++)
		send_tag(&p, 0, NULL);
	n = recv_tags(&p, tags, 64, frames);
	cr_assert_eq(n, 20);
	for (int i = 0; i < n; i++) {
		int bits = 0;

		cr_assert_eq(frames[i][5], 0xb, "Ethernet header untouched");
		/* sent all zero past the MAC (tag 0): count the bits set */
		for (int k = 14; k < 100; k++)
			bits += __builtin_popcount(frames[i][k]);
		cr_assert_eq(bits, 1, "frame %d has %d bits flipped", i, bits);
	}
	pair_close(&p);
}

Test(sim_link, reordering_changes_order_but_loses_nothing)
{
	struct xm_sim_impair im = { .reorder_ppm = 500000, .reorder_ns = 10000 };
	struct pair p;
	uint8_t tags[64];
	bool seen[40] = { 0 }, in_order = true;
	int n = 0;

	pair_open(&p, 5, &im);
	for (int i = 0; i < 40; i++)
		send_tag(&p, (uint8_t)i, NULL);
	xm_sim_advance(p.sim, 20000);
	n = recv_tags(&p, tags, 64, NULL);
	cr_assert_eq(n, 40);
	for (int i = 0; i < n; i++) {
		cr_assert(!seen[tags[i]]);
		seen[tags[i]] = true;
		if (i && tags[i] < tags[i - 1])
			in_order = false;
	}
	cr_assert(!in_order, "nothing was reordered");
	pair_close(&p);
}

static int lossy_run(uint64_t seed, uint8_t *tags)
{
	struct xm_sim_impair im = { .loss_ppm = 300000, .reorder_ppm = 300000,
				    .reorder_ns = 1000 };
	struct pair p;
	int n;

	pair_open(&p, seed, &im);
	for (int i = 0; i < 40; i++)
		send_tag(&p, (uint8_t)i, NULL);
	xm_sim_advance(p.sim, 2000);
	n = recv_tags(&p, tags, 64, NULL);
	pair_close(&p);
	return n;
}

Test(sim_link, same_seed_replays_exactly)
{
	uint8_t t1[64], t2[64], t3[64];
	int n1 = lossy_run(42, t1), n2 = lossy_run(42, t2), n3 = lossy_run(43, t3);

	cr_assert_eq(n1, n2);
	cr_assert_arr_eq(t1, t2, (size_t)n1);
	cr_assert(n1 != n3 || memcmp(t1, t3, (size_t)n1), "another seed, same run");
	cr_assert(n1 > 10 && n1 < 40, "about 30%% loss, got %d of 40", n1);
}

Test(sim_link, buffers_are_accounted)
{
	struct xm_frame f[64];
	struct xm_frame_accounting a;
	struct pair p;

	pair_open(&p, 1, NULL);
	cr_assert_eq(p.a->ops->tx_alloc(p.a, f, 64), 64);
	cr_assert_eq(p.a->ops->tx_alloc(p.a, f, 1), 0, "pool exhausted");
	p.a->ops->accounting(p.a, &a);
	cr_assert_eq(a.tx_held, 64);
	cr_assert_eq(a.free, 0);
	p.a->ops->tx_abort(p.a, f, 64);
	assert_accounted(p.a);
	send_tag(&p, 1, NULL);
	cr_assert_eq(p.b->ops->rx(p.b, f, 4), 1);
	p.b->ops->accounting(p.b, &a);
	cr_assert_eq(a.rx_held, 1);
	p.b->ops->rx_release(p.b, f, 1);
	assert_accounted(p.b);
	/* an oversized frame is taken back and not sent */
	cr_assert_eq(p.a->ops->tx_alloc(p.a, f, 1), 1);
	f[0].len = 1515;
	cr_assert_eq(p.a->ops->tx_submit(p.a, f, 1), 0);
	assert_accounted(p.a);
	pair_close(&p);
}

/* Owners told of completed buffers, in order (link.h tx_done). */
struct done_log {
	int n;
	uintptr_t owner[8];
	uint32_t len[8];
};

static void record_done(void *ctx, void *owner, uint32_t len)
{
	struct done_log *d = ctx;

	cr_assert_lt(d->n, 8);
	d->owner[d->n] = (uintptr_t)owner;
	d->len[d->n++] = len;
}

static void send_owned(struct pair *p, uintptr_t owner, uint32_t len)
{
	struct xm_frame f;

	cr_assert_eq(p->a->ops->tx_alloc(p->a, &f, 1), 1);
	memset(f.data, 0, len);
	f.data[0] = 2;
	f.data[5] = 0xb;
	f.len = len;
	f.owner = (void *)owner;
	p->a->ops->tx_submit(p->a, &f, 1);
}

Test(sim_link, sent_buffers_complete_after_tx_done_ns_in_order)
{
	struct xm_sim_impair im = { .tx_done_ns = 1000 };
	struct xm_frame_accounting a;
	struct done_log d = { 0 };
	struct pair p;

	pair_open(&p, 1, &im);
	p.a->tx_done = record_done;
	p.a->tx_done_ctx = &d;
	send_owned(&p, 1, 100);
	xm_sim_advance(p.sim, 500);
	send_owned(&p, 2, 200);
	send_owned(&p, 0, 300);              /* no owner: nobody told */
	send_owned(&p, 3, 1515);             /* oversize: refused, told at once */
	cr_assert_eq(d.n, 1);
	cr_assert_eq(d.owner[0], 3);
	p.a->ops->accounting(p.a, &a);
	cr_assert_eq(a.tx_in_flight, 3, "on the wire, buffers not yet back");
	assert_accounted(p.a);
	/* The link's wait wakes for the first completion. */
	cr_assert_eq(p.a->ops->wait(p.a, UINT64_MAX), 0);
	p.a->ops->kick(p.a);
	cr_assert_eq(d.n, 2);
	cr_assert_eq(d.owner[1], 1);
	cr_assert_eq(d.len[1], 100);
	/* Held: nothing completes, however long. */
	im.tx_done_ns = UINT64_MAX;
	xm_link_sim_set_impair(p.a, &im);
	xm_sim_advance(p.sim, 1000000000);
	p.a->ops->kick(p.a);
	cr_assert_eq(d.n, 2);
	/* Close gives back what is still in flight, and tells. */
	p.b->ops->close(p.b);
	p.a->ops->close(p.a);
	cr_assert_eq(d.n, 3);
	cr_assert_eq(d.owner[2], 2);
	cr_assert_eq(d.len[2], 200);
	xm_sim_free(p.sim);
}

/* ---- timers ---- */

struct tick {
	struct xm_timer t;
	int fired;
	uint64_t order;
};

static uint64_t fire_seq;

static void on_tick(struct xm_stack *st, struct xm_timer *t)
{
	struct tick *k = xm_container_of(t, struct tick, t);

	(void)st;
	k->fired++;
	k->order = ++fire_seq;
}

Test(sim_timer, timers_fire_in_deadline_order_and_cancel)
{
	struct xm_timers ts = { 0 };
	struct tick k[100];

	for (int i = 0; i < 100; i++) {
		xm_timer_init(&k[i].t, on_tick);
		k[i].fired = 0;
		/* a permutation of 0..99 */
		cr_assert_eq(xm_timer_arm(&ts, &k[i].t, (uint64_t)((i * 37) % 100) + 1), 0);
	}
	xm_timer_cancel(&ts, &k[5].t);
	xm_timer_arm(&ts, &k[6].t, 1000);   /* re-arm later */
	cr_assert_eq(xm_timers_next(&ts), 1);
	cr_assert_eq(xm_timers_run(NULL, &ts, 100), 98);
	for (int i = 0; i < 100; i++) {
		if (i == 5 || i == 6) {
			cr_assert_eq(k[i].fired, 0);
			continue;
		}
		cr_assert_eq(k[i].fired, 1);
	}
	for (int i = 0; i < 100; i++)
		for (int j = 0; j < 100; j++)
			if (k[i].fired && k[j].fired && (i * 37) % 100 < (j * 37) % 100)
				cr_assert_lt(k[i].order, k[j].order);
	cr_assert_eq(xm_timers_next(&ts), 1000);
	cr_assert(xm_timer_armed(&k[6].t));
	cr_assert(!xm_timer_armed(&k[7].t));
	xm_timers_free(&ts);
}
