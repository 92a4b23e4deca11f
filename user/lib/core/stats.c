// SPDX-License-Identifier: MIT
/*
 * The stack's public counters: one snapshot call and one text form, so that
 * every example prints them alike and the selftests parse one format.
 */
#include <errno.h>
#include <inttypes.h>
#include <stddef.h>

#include "../tcp/tcp.h"
#include "stack.h"

int xm_stack_stats(const struct xm_stack *st, struct xm_stack_stats *out)
{
	if (!st || !out)
		return -EINVAL;
	*out = st->stats;
	out->reasm_mem_bytes = st->reasm_mem;
	xm_tcp_stats_fill(st, out);
	return 0;
}

#define F(name) { #name, offsetof(struct xm_stack_stats, name) }
static const struct {
	const char *name;
	size_t off;
} fields[] = {
	F(rx_frames),
	F(rx_bytes),
	F(tx_frames),
	F(tx_bytes),
	F(rx_not_for_us),
	F(rx_malformed),
	F(rx_bad_ip_csum),
	F(rx_bad_l4_csum),
	F(rx_superframes),
	F(rx_csum_partial),
	F(rx_no_socket),
	F(rx_rcvbuf_drops),
	F(rx_other_proto),
	F(reasm_ok),
	F(reasm_timeouts),
	F(reasm_overlaps),
	F(reasm_mem_drops),
	F(reasm_bad),
	F(reasm_mem_bytes),
	F(frag_tx),
	F(tx_no_route),
	F(tx_neigh_wait),
	F(tx_neigh_drops),
	F(tx_no_buffer),
	F(tx_link_drops),
	F(tcp_active_opens),
	F(tcp_passive_opens),
	F(tcp_conns),
	F(tcp_segs_in),
	F(tcp_segs_out),
	F(tcp_retrans_segs),
	F(tcp_tso_sends),
	F(tcp_tso_segs),
	F(tcp_bad_csum),
	F(tcp_malformed),
	F(tcp_bad_flags),
	F(tcp_rst_in),
	F(tcp_rst_out),
	F(tcp_rst_ignored),
	F(tcp_challenge_acks),
	F(tcp_paws_drops),
	F(tcp_ooo_segs),
	F(tcp_syncookies_sent),
	F(tcp_syncookies_ok),
	F(tcp_syncookies_bad),
	F(tcp_listen_drops),
	F(tcp_mem_drops),
	F(tcp_timeouts),
	F(tcp_rto_fires),
	F(tcp_fast_recoveries),
	F(tcp_persist_probes),
	F(tcp_rack_losses),
	F(tcp_tlp_probes),
	F(tcp_tlp_recoveries),
	F(tcp_dsacks_in),
	F(tcp_dsacks_out),
	F(tcp_dsack_undos),
	F(tcp_frto_undos),
	F(tcp_eifel_undos),
	F(tcp_dsacks_dubious),
	F(tcp_mem_bytes),
	F(tcp_mem_peak),
	F(tcp_mem_max),
	F(spin_hits),
	F(spin_timeouts),
};
#undef F

_Static_assert(sizeof(fields) / sizeof(fields[0]) * sizeof(uint64_t) ==
	       sizeof(struct xm_stack_stats), "a counter without a name");

void xm_stack_stats_print(FILE *f, const struct xm_stack_stats *s,
			  const char *prefix)
{
	for (size_t i = 0; i < sizeof(fields) / sizeof(fields[0]); i++)
		fprintf(f, "%s%s %" PRIu64 "\n", prefix ? prefix : "", fields[i].name,
			*(const uint64_t *)((const char *)s + fields[i].off));
}
