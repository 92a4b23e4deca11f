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
	uint16_t type;

	if (len < XM_ETH_HLEN) {
		st->stats.rx_malformed++;
		return;
	}
	if (memcmp(frame, st->info.mac, 6) != 0) {
		st->stats.rx_not_for_us++;
		return;
	}
	type = (uint16_t)(frame[12] << 8 | frame[13]);
	if (type == XM_ETH_P_IP)
		xm_ipv4_input(st, frame + XM_ETH_HLEN, len - XM_ETH_HLEN);
	else if (type == XM_ETH_P_IPV6)
		xm_ipv6_input(st, frame + XM_ETH_HLEN, len - XM_ETH_HLEN);
	else
		st->stats.rx_not_for_us++;
}
