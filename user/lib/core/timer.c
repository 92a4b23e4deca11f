// SPDX-License-Identifier: MIT
#include <errno.h>
#include <stdlib.h>

#include "timer.h"

void xm_timer_init(struct xm_timer *t, xm_timer_fn fn)
{
	t->deadline = 0;
	t->fn = fn;
	t->idx = SIZE_MAX;
}

static void heap_set(struct xm_timers *ts, size_t i, struct xm_timer *t)
{
	ts->heap[i] = t;
	t->idx = i;
}

static void sift_up(struct xm_timers *ts, size_t i)
{
	struct xm_timer *t = ts->heap[i];

	while (i > 0) {
		size_t p = (i - 1) / 2;

		if (ts->heap[p]->deadline <= t->deadline)
			break;
		heap_set(ts, i, ts->heap[p]);
		i = p;
	}
	heap_set(ts, i, t);
}

static void sift_down(struct xm_timers *ts, size_t i)
{
	struct xm_timer *t = ts->heap[i];

	for (;;) {
		size_t c = 2 * i + 1;

		if (c >= ts->n)
			break;
		if (c + 1 < ts->n && ts->heap[c + 1]->deadline < ts->heap[c]->deadline)
			c++;
		if (t->deadline <= ts->heap[c]->deadline)
			break;
		heap_set(ts, i, ts->heap[c]);
		i = c;
	}
	heap_set(ts, i, t);
}

int xm_timer_arm(struct xm_timers *ts, struct xm_timer *t, uint64_t deadline)
{
	if (xm_timer_armed(t)) {
		uint64_t old = t->deadline;

		t->deadline = deadline;
		if (deadline < old)
			sift_up(ts, t->idx);
		else
			sift_down(ts, t->idx);
		return 0;
	}
	if (ts->n == ts->cap) {
		size_t cap = ts->cap ? ts->cap * 2 : 64;
		struct xm_timer **h = realloc(ts->heap, cap * sizeof(*h));

		if (!h)
			return -ENOMEM;
		ts->heap = h;
		ts->cap = cap;
	}
	t->deadline = deadline;
	heap_set(ts, ts->n++, t);
	sift_up(ts, t->idx);
	return 0;
}

void xm_timer_cancel(struct xm_timers *ts, struct xm_timer *t)
{
	size_t i = t->idx;
	struct xm_timer *last;

	if (!xm_timer_armed(t))
		return;
	t->idx = SIZE_MAX;
	last = ts->heap[--ts->n];
	if (i == ts->n)
		return;
	heap_set(ts, i, last);
	sift_up(ts, i);
	sift_down(ts, last->idx);
}

uint64_t xm_timers_next(const struct xm_timers *ts)
{
	return ts->n ? ts->heap[0]->deadline : UINT64_MAX;
}

int xm_timers_run(struct xm_stack *st, struct xm_timers *ts, uint64_t now)
{
	int ran = 0;

	while (ts->n && ts->heap[0]->deadline <= now) {
		struct xm_timer *t = ts->heap[0];

		xm_timer_cancel(ts, t);
		t->fn(st, t);   /* may re-arm t or free its owner */
		ran++;
	}
	return ran;
}

void xm_timers_free(struct xm_timers *ts)
{
	free(ts->heap);
	ts->heap = NULL;
	ts->n = ts->cap = 0;
}
