// SPDX-License-Identifier: GPL-2.0
/* The floor of any program that hands packets to AF_XDP: the redirect to
 * the socket on the packet's rx queue and nothing else. `make bench` times
 * it next to the demultiplexer's redirect path, so the cost of the helper
 * call, which no steering program can avoid, is told apart from ours. */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include "xdpmux/maps.h"

#include "xsks_map.h"

SEC("xdp.frags")
int xdpmux_redirect_only(struct xdp_md *ctx)
{
	return bpf_redirect_map(&xsks, ctx->rx_queue_index, XDP_PASS);
}

char LICENSE[] SEC("license") = "GPL";
