/* SPDX-License-Identifier: MIT */
/* Frame state tables: every frame of a UMEM in exactly one state, every
 * move checked against the frame's current state, a count per state kept
 * in step, so a frame handed back twice or in the wrong state is refused
 * (and counted by the caller) instead of corrupting a pool. */
#ifndef XM_LINK_FSTATE_H
#define XM_LINK_FSTATE_H

#include <stdbool.h>
#include <stdint.h>

/* Move frame fi (of n) from state `from` to `to`; false when fi is out of
 * range or not in `from` (nothing changes then). */
static inline bool xm_fstate_move(uint8_t *state, uint64_t *count, uint32_t n,
				  uint32_t fi, unsigned from, unsigned to)
{
	if (fi >= n || state[fi] != from)
		return false;
	state[fi] = (uint8_t)to;
	count[from]--;
	count[to]++;
	return true;
}

#endif /* XM_LINK_FSTATE_H */
