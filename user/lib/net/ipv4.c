// SPDX-License-Identifier: MIT
/* IPv4 input (RFC 791, RFC 1122 3.2.1): validate, verify the header
 * checksum, keep what is addressed to us, reassemble fragments. */
#include <netinet/in.h>
#include <string.h>
#include <sys/socket.h>

#include "../core/stack.h"
#include "net.h"

void xm_ipv4_input(struct xm_stack *st, const uint8_t *pkt, uint32_t len)
{
	struct xm_l3 l3;

	if (xm_ipv4_parse(pkt, len, &l3) != XM_PARSE_OK) {
		st->stats.rx_malformed++;
		return;
	}
	if (xm_csum_fold(xm_csum_add(0, pkt, l3.l4_off)) != 0) {
		st->stats.rx_bad_ip_csum++;
		return;
	}
	if (!xm_ip_is_local(st, AF_INET, l3.ip.dst)) {
		st->stats.rx_not_for_us++;
		return;
	}
	if (l3.frag) {
		xm_reasm_input(st, &l3.fr, pkt + l3.frag_data, l3.end - l3.frag_data);
		return;
	}
	l3.ip.csum_partial_ok = st->csum_partial_ok;
	xm_transport_input(st, &l3.ip, pkt + l3.l4_off, l3.end - l3.l4_off);
}
