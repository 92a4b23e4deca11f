// SPDX-License-Identifier: MIT
/*
 * Ethernet input. Only frames to our MAC reach us (the XDP program steers
 * bound IP traffic only; ARP/ND stay with the kernel). VLAN-tagged frames
 * are not served: the stack would have to answer with the same tags.
 */
#include <string.h>

#include "../core/stack.h"
#include "net.h"

void xm_eth_input(struct xm_stack *st, const uint8_t *frame, uint32_t len)
{
	struct xm_l2 l2;

	if (xm_eth_parse(frame, len, 0, &l2) != XM_PARSE_OK) {
		st->stats.rx_malformed++;
		return;
	}
	if (memcmp(frame, st->info.mac, 6) != 0) {
		st->stats.rx_not_for_us++;
		return;
	}
	if (l2.type == XM_ETH_P_IP)
		xm_ipv4_input(st, frame + l2.l3_off, len - l2.l3_off);
	else if (l2.type == XM_ETH_P_IPV6)
		xm_ipv6_input(st, frame + l2.l3_off, len - l2.l3_off);
	else
		st->stats.rx_not_for_us++;
}
