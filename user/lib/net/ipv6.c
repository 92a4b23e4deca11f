// SPDX-License-Identifier: MIT
/* IPv6 input (RFC 8200): validate, keep what is addressed to us, skip
 * hop-by-hop / routing / destination options, reassemble fragments. IPv6
 * has no header checksum; the transport checksum is mandatory (RFC 8200 8.1). */
#include <netinet/in.h>
#include <stdint.h>
#include <string.h>
#include <sys/socket.h>

#include "../core/stack.h"
#include "net.h"

/* Extension headers walked before giving up (the XDP program walks fewer,
 * XM_IPV6_EXT_MAX, and passes longer chains to the kernel). */
#define EXT_MAX     8

void xm_ipv6_input(struct xm_stack *st, const uint8_t *pkt, uint32_t len)
{
	static const struct xm_ip_limits lim = { .max_ext = EXT_MAX, .hdr_max = UINT32_MAX };
	struct xm_l3 l3;
	int r;

	/* The destination is checked once the fixed header holds together,
	 * before the extension headers are walked: someone else's packet is
	 * not ours to call malformed. */
	if (len >= XM_IPV6_HLEN && (pkt[0] >> 4) == 6 &&
	    XM_IPV6_HLEN + (uint32_t)(pkt[4] << 8 | pkt[5]) <= len &&
	    !xm_ip_is_local(st, AF_INET6, pkt + 24)) {
		st->stats.rx_not_for_us++;
		return;
	}
	r = xm_ipv6_parse(pkt, len, &lim, &l3);
	if (r == XM_PARSE_EXT_LIMIT) {
		st->stats.rx_other_proto++;
		return;
	}
	if (r != XM_PARSE_OK) {
		st->stats.rx_malformed++;
		return;
	}
	if (l3.frag) {
		xm_reasm_input(st, &l3.fr, pkt + l3.frag_data, l3.end - l3.frag_data);
		return;
	}
	l3.ip.csum_partial_ok = st->csum_partial_ok;
	xm_transport_input(st, &l3.ip, pkt + l3.l4_off, l3.end - l3.l4_off);
}
