// SPDX-License-Identifier: MIT
/* IPv6 input (RFC 8200): validate, keep what is addressed to us, skip
 * hop-by-hop / routing / destination options, reassemble fragments. IPv6
 * has no header checksum; the transport checksum is mandatory (RFC 8200 8.1). */
#include <netinet/in.h>
#include <string.h>
#include <sys/socket.h>

#include "../core/stack.h"
#include "net.h"

#define NH_HOPOPTS  0
#define NH_ROUTING  43
#define NH_FRAGMENT 44
#define NH_DSTOPTS  60
#define EXT_MAX     8

void xm_ipv6_input(struct xm_stack *st, const uint8_t *pkt, uint32_t len)
{
	struct xm_ipinfo ip = { .family = AF_INET6 };
	uint32_t plen, off = XM_IPV6_HLEN, end;
	uint8_t nh;

	if (len < XM_IPV6_HLEN || (pkt[0] >> 4) != 6) {
		st->stats.rx_malformed++;
		return;
	}
	plen = (uint32_t)(pkt[4] << 8 | pkt[5]);
	end = XM_IPV6_HLEN + plen;
	/* Payload length 0 is either nothing (No Next Header, RFC 8200 4.7)
	 * or a jumbogram (RFC 2675), which no Ethernet link carries: the
	 * header walk below finds nothing it can deliver either way. */
	if (end > len) {
		st->stats.rx_malformed++;
		return;
	}
	memcpy(ip.src, pkt + 8, 16);
	memcpy(ip.dst, pkt + 24, 16);
	if (!xm_ip_is_local(st, AF_INET6, ip.dst)) {
		st->stats.rx_not_for_us++;
		return;
	}
	nh = pkt[6];
	for (int i = 0; i < EXT_MAX; i++) {
		if (nh == NH_HOPOPTS || nh == NH_ROUTING || nh == NH_DSTOPTS) {
			if (off + 8 > end)
				goto malformed;
			nh = pkt[off];
			off += (pkt[off + 1] + 1u) * 8;
			if (off > end)
				goto malformed;
			continue;
		}
		if (nh == NH_FRAGMENT) {
			struct xm_frag fr = { .family = AF_INET6 };
			uint16_t fo;

			if (off + XM_IPV6_FRAG_HLEN > end)
				goto malformed;
			fo = (uint16_t)(pkt[off + 2] << 8 | pkt[off + 3]);
			fr.proto = pkt[off];
			fr.offset = fo & ~7u;
			fr.more = fo & 1;
			fr.id = (uint32_t)pkt[off + 4] << 24 | (uint32_t)pkt[off + 5] << 16 |
				(uint32_t)pkt[off + 6] << 8 | pkt[off + 7];
			memcpy(fr.src, ip.src, 16);
			memcpy(fr.dst, ip.dst, 16);
			off += XM_IPV6_FRAG_HLEN;
			/* RFC 8200 4.5: an atomic fragment (offset 0, M 0) is
			 * processed as a whole datagram. */
			if (!fr.offset && !fr.more) {
				nh = fr.proto;
				continue;
			}
			xm_reasm_input(st, &fr, pkt + off, end - off);
			return;
		}
		break;
	}
	ip.proto = nh;
	xm_transport_input(st, &ip, pkt + off, end - off);
	return;
malformed:
	st->stats.rx_malformed++;
}
