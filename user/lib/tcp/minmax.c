// SPDX-License-Identifier: MIT
/* Windowed minimum (minmax.h). */
#include "minmax.h"

static uint32_t restart(struct xm_minmax *m, struct xm_minmax_sample x)
{
	m->s[0] = m->s[1] = m->s[2] = x;
	return x.v;
}

uint32_t xm_minmax_running_min(struct xm_minmax *m, uint64_t win, uint64_t t,
			       uint32_t v)
{
	struct xm_minmax_sample x = { .t = t ? t : 1, .v = v };
	uint64_t age;

	/* A new minimum, or every sample kept is out of the window. */
	if (!m->s[0].t || v <= m->s[0].v || x.t - m->s[2].t > win)
		return restart(m, x);
	if (v <= m->s[1].v)
		m->s[1] = m->s[2] = x;
	else if (v <= m->s[2].v)
		m->s[2] = x;
	age = x.t - m->s[0].t;
	if (age > win) {
		/* The minimum aged out: the candidates move up (twice if
		 * the next one is out of the window too). */
		m->s[0] = m->s[1];
		m->s[1] = m->s[2];
		m->s[2] = x;
		if (x.t - m->s[0].t > win) {
			m->s[0] = m->s[1];
			m->s[1] = m->s[2];
		}
	} else if (m->s[1].t == m->s[0].t && age > win / 4) {
		/* A quarter of the window with no better sample: keep this
		 * one as the second candidate, for the next sub-window. */
		m->s[1] = m->s[2] = x;
	} else if (m->s[2].t == m->s[1].t && age > win / 2) {
		m->s[2] = x;
	}
	return m->s[0].v;
}
