// SPDX-License-Identifier: MIT
/* Congestion control registry (TCP_CONGESTION names, as Linux spells them)
 * and the slow start both modules share. */
#include <string.h>

#include "cc.h"
#include "cc_internal.h"

const struct xm_cc_ops *xm_cc_find(const char *name)
{
	if (!name || !*name || !strcmp(name, "cubic"))
		return &xm_cc_cubic_ops;
	if (!strcmp(name, "reno") || !strcmp(name, "newreno"))
		return &xm_cc_newreno_ops;
	return NULL;
}

bool xm_cc_cwnd_limited(const struct xm_cc *cc, uint32_t inflight)
{
	if (cc->cwnd < cc->ssthresh)
		return (uint64_t)inflight * 2 >= cc->cwnd;
	return (uint64_t)inflight + cc->mss >= cc->cwnd;
}

uint32_t xm_cc_slow_start(struct xm_cc *cc, uint32_t acked)
{
	uint32_t limit = cc->ssthresh < XM_CC_CWND_MAX ? cc->ssthresh
						       : XM_CC_CWND_MAX;
	uint32_t room = cc->cwnd < limit ? limit - cc->cwnd : 0;
	uint32_t inc = acked < room ? acked : room;
	cc->cwnd += inc;
	return acked - inc;
}
