// SPDX-License-Identifier: MIT
/* The device's verdict and reason counters, summed over CPUs. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <bpf/bpf.h>

#include "ctl_internal.h"

const char *xm_stat_name(enum xm_stat s)
{
	static const char *const names[XM_STAT_MAX] = {
		[XM_STAT_PASS] = "pass",
		[XM_STAT_REDIRECT] = "redirect",
		[XM_STAT_DROP] = "drop",
		[XM_STAT_MALFORMED] = "malformed",
		[XM_STAT_FALLBACK] = "fallback",
		[XM_STAT_FRAG_FOLLOW] = "frag_follow",
		[XM_STAT_FRAG_ORPHAN] = "frag_orphan",
		[XM_STAT_EXT_LIMIT] = "ext_limit",
		[XM_STAT_SYN_BUDGET] = "syn_budget",
	};

	return (unsigned)s < XM_STAT_MAX && names[s] ? names[s] : "unknown";
}

bool xm_stat_is_verdict(enum xm_stat s)
{
	return s <= XM_STAT_MALFORMED;
}

int xm_ctl_stats(struct xm_ctl *ctl, struct xm_stat_val out[XM_STAT_MAX])
{
	struct xm_stat_val *per = calloc(ctl->ncpus, sizeof(*per));
	uint32_t idx;
	int cpu, err = 0;

	if (!per)
		return -ENOMEM;
	memset(out, 0, XM_STAT_MAX * sizeof(*out));
	for (idx = 0; idx < XM_STAT_MAX; idx++) {
		if (bpf_map_lookup_elem(ctl->stats_fd, &idx, per)) {
			err = -errno;
			break;
		}
		for (cpu = 0; cpu < ctl->ncpus; cpu++) {
			out[idx].packets += per[cpu].packets;
			out[idx].bytes += per[cpu].bytes;
		}
	}
	free(per);
	return err;
}
