// SPDX-License-Identifier: GPL-2.0
/* The baseline of `make bench`: the cheapest XDP program there is, so the
 * demultiplexer's cost can be reported as a ratio measured in the same run. */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>

SEC("xdp.frags")
int xdpmux_pass_only(struct xdp_md *ctx)
{
	return XDP_PASS;
}

char LICENSE[] SEC("license") = "GPL";
