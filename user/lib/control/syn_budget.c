// SPDX-License-Identifier: MIT
/* The device's SYN budget (struct xm_syn_budget in xdpmux/maps.h). */
#include <errno.h>
#include <unistd.h>
#include <bpf/bpf.h>

#include "ctl_internal.h"

int xm_ctl_set_syn_budget(const char *dev, uint64_t syns_per_s, uint64_t burst)
{
	struct xm_syn_budget b = { 0 };
	__u32 zero = 0;
	int fd, err = 0;

	if (syns_per_s > 1000000000ull || (syns_per_s && !burst) ||
	    burst > UINT64_MAX / 1000000000ull)
		return -EINVAL;
	if (syns_per_s) {
		b.cost_ns = 1000000000ull / syns_per_s;
		b.cap_ns = burst * b.cost_ns;
	}
	fd = xm_pins_open_map(dev, XM_MAP_SYN_BUDGET);
	if (fd < 0)
		return fd;
	if (bpf_map_update_elem(fd, &zero, &b, BPF_ANY))
		err = -errno;
	close(fd);
	return err;
}
