// SPDX-License-Identifier: MIT
/* IPv4 input (RFC 791, RFC 1122 3.2.1): validate, verify the header
 * checksum, keep what is addressed to us, reassemble fragments. */
#include <netinet/in.h>
#include <string.h>
#include <sys/socket.h>

#include "../core/stack.h"
#include "net.h"

#define IP_MF     0x2000
#define IP_OFFSET 0x1FFF

void xm_ipv4_input(struct xm_stack *st, const uint8_t *pkt, uint32_t len)
{
	struct xm_ipinfo ip = { .family = AF_INET };
	uint32_t ihl, tot;
	uint16_t frag;

	if (len < XM_IPV4_HLEN || (pkt[0] >> 4) != 4) {
		st->stats.rx_malformed++;
		return;
	}
	ihl = (pkt[0] & 0xf) * 4u;
	tot = (uint32_t)(pkt[2] << 8 | pkt[3]);
	/* Ethernet pads short frames: trust the total length, not len. */
	if (ihl < XM_IPV4_HLEN || tot < ihl || tot > len) {
		st->stats.rx_malformed++;
		return;
	}
	if (xm_csum_fold(xm_csum_add(0, pkt, ihl)) != 0) {
		st->stats.rx_bad_ip_csum++;
		return;
	}
	ip.proto = pkt[9];
	memcpy(ip.src, pkt + 12, 4);
	memcpy(ip.dst, pkt + 16, 4);
	if (!xm_ip_is_local(st, AF_INET, ip.dst)) {
		st->stats.rx_not_for_us++;
		return;
	}
	frag = (uint16_t)(pkt[6] << 8 | pkt[7]);
	if (frag & (IP_MF | IP_OFFSET)) {
		struct xm_frag fr = {
			.family = AF_INET,
			.proto = ip.proto,
			.id = (uint32_t)(pkt[4] << 8 | pkt[5]),
			.offset = (uint32_t)(frag & IP_OFFSET) * 8,
			.more = !!(frag & IP_MF),
		};

		memcpy(fr.src, ip.src, 4);
		memcpy(fr.dst, ip.dst, 4);
		xm_reasm_input(st, &fr, pkt + ihl, tot - ihl);
		return;
	}
	xm_transport_input(st, &ip, pkt + ihl, tot - ihl);
}
