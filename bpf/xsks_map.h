/* SPDX-License-Identifier: GPL-2.0 */
/* The XSKMAP the demultiplexer redirects through, one AF_XDP socket per
 * (owner slot, rx queue), keyed XM_XSK_KEY; one definition for it and for
 * the bench's redirect_only floor, so the floor times the same map. */
#ifndef XDPMUX_BPF_XSKS_MAP_H
#define XDPMUX_BPF_XSKS_MAP_H

struct {
	__uint(type, BPF_MAP_TYPE_XSKMAP);
	__uint(max_entries, XM_XSK_ENTRIES);
	__type(key, __u32);
	__type(value, __u32);
} xsks SEC(".maps");

#endif
