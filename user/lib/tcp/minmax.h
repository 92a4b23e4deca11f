/* SPDX-License-Identifier: MIT */
/*
 * A windowed minimum (Kathleen Nichols' algorithm, as Linux lib/minmax.c
 * keeps RTT minima): the smallest value measured over the last @win
 * microseconds, in O(1) time and space. Three samples are kept: the
 * window's minimum and the best candidates to take over when it ages out
 * (the minimum of the window's second and of its last quarter), so an old
 * minimum expires instead of holding forever.
 */
#ifndef XM_TCP_MINMAX_H
#define XM_TCP_MINMAX_H

#include <stdint.h>

struct xm_minmax_sample {
	uint64_t t;      /* when measured, microseconds */
	uint32_t v;
};

struct xm_minmax {
	struct xm_minmax_sample s[3];   /* s[0] the minimum; 0 t: empty */
};

/* The minimum so far (0 before any sample). */
static inline uint32_t xm_minmax_get(const struct xm_minmax *m)
{
	return m->s[0].v;
}

/* Take sample @v measured at @t; returns the minimum over (t - win, t]. */
uint32_t xm_minmax_running_min(struct xm_minmax *m, uint64_t win, uint64_t t,
			       uint32_t v);

#endif /* XM_TCP_MINMAX_H */
