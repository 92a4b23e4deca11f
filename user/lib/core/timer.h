/* SPDX-License-Identifier: MIT */
/*
 * Timers of one stack: a binary min-heap of deadlines on the stack's clock.
 * Arm/cancel are O(log n), so a transport with a timer per connection (TCP
 * retransmission, delayed ACK, TIME-WAIT) fits as well as reassembly does:
 * embed a struct xm_timer in the connection, xm_timer_init() it once, arm it
 * on &st->timers, and find the connection in the callback with
 * xm_container_of(). A callback may re-arm its timer or free its owner.
 */
#ifndef XM_CORE_TIMER_H
#define XM_CORE_TIMER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct xm_stack;
struct xm_timer;

/* The struct holding member m at pointer p: a timer callback finds its
 * owner (reassembly entry, TCP connection) this way. */
#define xm_container_of(p, type, m) \
	((type *)(void *)((char *)(p) - offsetof(type, m)))

typedef void (*xm_timer_fn)(struct xm_stack *st, struct xm_timer *t);

struct xm_timer {
	uint64_t deadline;
	xm_timer_fn fn;
	size_t idx;        /* position in the heap; SIZE_MAX when not armed */
};

struct xm_timers {
	struct xm_timer **heap;
	size_t n;
	size_t cap;
};

void xm_timer_init(struct xm_timer *t, xm_timer_fn fn);
static inline bool xm_timer_armed(const struct xm_timer *t)
{
	return t->idx != SIZE_MAX;
}
/* (Re)arm t at deadline; 0 or -ENOMEM. */
int xm_timer_arm(struct xm_timers *ts, struct xm_timer *t, uint64_t deadline);
void xm_timer_cancel(struct xm_timers *ts, struct xm_timer *t);
/* Earliest deadline, UINT64_MAX when none is armed. */
uint64_t xm_timers_next(const struct xm_timers *ts);
/* Run every timer due at now; returns how many ran. */
int xm_timers_run(struct xm_stack *st, struct xm_timers *ts, uint64_t now);
void xm_timers_free(struct xm_timers *ts);

#endif /* XM_CORE_TIMER_H */
