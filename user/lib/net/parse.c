// SPDX-License-Identifier: MIT
/*
 * Header parsing shared by the stack's receive path (eth.c, ipv4.c, ipv6.c,
 * udp.c) and the frame classifier (classify.c): where each header is and
 * whether its lengths hold together. No side effects and no stack: the
 * callers decide what a result means (count, reassemble, deliver, steer).
 */
#include <string.h>
#include <sys/socket.h>

#include "net.h"
#include "../transport/udp.h"

#define ETH_P_8021Q  0x8100
#define ETH_P_8021AD 0x88A8
#define IP_MF     0x2000
#define IP_OFFSET 0x1FFF
#define NH_HOPOPTS  0
#define NH_ROUTING  43
#define NH_FRAGMENT 44
#define NH_DSTOPTS  60
#define TCP_HLEN_MIN 20

int xm_eth_parse(const uint8_t *frame, uint32_t len, unsigned max_tags,
		 struct xm_l2 *out)
{
	uint32_t off = XM_ETH_HLEN;
	uint16_t type;

	if (len < XM_ETH_HLEN)
		return XM_PARSE_MALFORMED;
	type = xm_get16(frame + 12);
	out->ntags = 0;
	/* IEEE 802.1Q tags, 802.1ad (QinQ) outer ones: 4 bytes each. */
	while (out->ntags < max_tags && (type == ETH_P_8021Q || type == ETH_P_8021AD)) {
		if (off + 4 > len)
			return XM_PARSE_MALFORMED;
		type = xm_get16(frame + off + 2);
		off += 4;
		out->ntags++;
	}
	out->type = type;
	out->l3_off = off;
	return XM_PARSE_OK;
}

int xm_ipv4_parse(const uint8_t *pkt, uint32_t len, struct xm_l3 *out)
{
	uint32_t ihl, tot;
	uint16_t frag, id;

	if (len < XM_IPV4_HLEN || (pkt[0] >> 4) != 4)
		return XM_PARSE_MALFORMED;
	ihl = (pkt[0] & 0xf) * 4u;
	tot = xm_get16(pkt + 2);
	/* Ethernet pads short frames: trust the total length, not len. */
	if (ihl < XM_IPV4_HLEN || tot < ihl || tot > len)
		return XM_PARSE_MALFORMED;
	memset(out, 0, sizeof(*out));
	out->ip.family = AF_INET;
	out->ip.proto = pkt[9];
	out->ip.tos = pkt[1];
	out->ip.hop_limit = pkt[8];
	memcpy(out->ip.src, pkt + 12, 4);
	memcpy(out->ip.dst, pkt + 16, 4);
	out->l4_off = ihl;
	out->end = tot;
	frag = xm_get16(pkt + 6);
	if (frag & (IP_MF | IP_OFFSET)) {
		out->frag = true;
		out->fr.family = AF_INET;
		out->fr.proto = pkt[9];
		out->fr.tos = out->ip.tos;
		out->fr.id = xm_get16(pkt + 4);
		out->fr.offset = (uint32_t)(frag & IP_OFFSET) * 8;
		out->fr.more = !!(frag & IP_MF);
		memcpy(out->fr.src, out->ip.src, 4);
		memcpy(out->fr.dst, out->ip.dst, 4);
		out->frag_data = ihl;
		memcpy(&id, pkt + 4, 2);
		out->frag_id_raw = id;
	}
	return XM_PARSE_OK;
}

static bool nh_is_ext(uint8_t nh)
{
	return nh == NH_HOPOPTS || nh == NH_ROUTING || nh == NH_DSTOPTS || nh == NH_FRAGMENT;
}

/*
 * RFC 8200 4: walk hop-by-hop, routing, destination options and Fragment
 * headers to the upper-layer header. A later fragment (offset > 0) stops
 * the walk: what follows its Fragment header is data. A first fragment's
 * chain is walked on (RFC 7112: the first fragment holds the whole header
 * chain), so that its transport header is found; an atomic fragment (offset
 * 0, M 0) is a whole datagram (RFC 8200 4.5). If a packet has two Fragment
 * headers, against RFC 8200 4.1, the last one counts.
 */
int xm_ipv6_parse(const uint8_t *pkt, uint32_t len, const struct xm_ip_limits *lim,
		  struct xm_l3 *out)
{
	uint32_t plen, off = XM_IPV6_HLEN, end;
	uint8_t nh;
	unsigned i;

	if (len < XM_IPV6_HLEN || (pkt[0] >> 4) != 6)
		return XM_PARSE_MALFORMED;
	plen = xm_get16(pkt + 4);
	end = XM_IPV6_HLEN + plen;
	/* Payload length 0 is either nothing (No Next Header, RFC 8200 4.7)
	 * or a jumbogram (RFC 2675), which no Ethernet link carries: the
	 * header walk below finds nothing it can deliver either way. */
	if (end > len)
		return XM_PARSE_MALFORMED;
	memset(out, 0, sizeof(*out));
	out->ip.family = AF_INET6;
	out->ip.tos = (uint8_t)((pkt[0] & 0xf) << 4 | pkt[1] >> 4);
	out->ip.hop_limit = pkt[7];
	memcpy(out->ip.src, pkt + 8, 16);
	memcpy(out->ip.dst, pkt + 24, 16);
	out->end = end;
	nh = pkt[6];
	for (i = 0; i < lim->max_ext && nh_is_ext(nh); i++) {
		if (off > lim->hdr_max)
			return XM_PARSE_EXT_LIMIT;
		if (nh == NH_FRAGMENT) {
			uint16_t fo;
			uint32_t id;

			if (off + XM_IPV6_FRAG_HLEN > end)
				return XM_PARSE_MALFORMED;
			fo = xm_get16(pkt + off + 2);
			out->fr.family = AF_INET6;
			out->fr.proto = pkt[off];
			out->fr.tos = out->ip.tos;
			out->fr.offset = fo & ~7u;
			out->fr.more = fo & 1;
			out->fr.id = (uint32_t)pkt[off + 4] << 24 | (uint32_t)pkt[off + 5] << 16 |
				     (uint32_t)pkt[off + 6] << 8 | pkt[off + 7];
			memcpy(&id, pkt + off + 4, 4);
			out->frag_id_raw = id;
			memcpy(out->fr.src, out->ip.src, 16);
			memcpy(out->fr.dst, out->ip.dst, 16);
			nh = pkt[off];
			off += XM_IPV6_FRAG_HLEN;
			out->frag = out->fr.offset || out->fr.more;
			out->frag_data = off;
			if (out->fr.offset) {
				out->ip.proto = nh;
				out->l4_off = off;
				out->nexts = i + 1;
				return XM_PARSE_OK;
			}
			continue;
		}
		/* Hop-by-hop, routing and destination options share the
		 * layout: next header, length in 8-octet units past the
		 * first 8 (RFC 8200 4.3-4.6). */
		if (off + 8 > end)
			return XM_PARSE_MALFORMED;
		nh = pkt[off];
		off += (pkt[off + 1] + 1u) * 8;
		if (off > end)
			return XM_PARSE_MALFORMED;
	}
	out->nexts = i;
	if (nh_is_ext(nh) || off > lim->hdr_max)
		return XM_PARSE_EXT_LIMIT;
	out->ip.proto = nh;
	out->l4_off = off;
	return XM_PARSE_OK;
}

/* RFC 768: 8 bytes of header, and a length that covers it and fits. */
int xm_udp_hdr_check(const uint8_t *l4, uint32_t len, bool whole)
{
	uint32_t ulen;

	if (len < XM_UDP_HLEN)
		return XM_PARSE_MALFORMED;
	if (!whole)
		return XM_PARSE_OK;
	ulen = xm_get16(l4 + 4);
	return ulen < XM_UDP_HLEN || ulen > len ? XM_PARSE_MALFORMED : XM_PARSE_OK;
}

/* RFC 9293 3.1: 20 bytes of header, a data offset of 5..15 words that
 * fits the segment. */
int xm_tcp_hdr_check(const uint8_t *l4, uint32_t len)
{
	uint32_t doff;

	if (len < TCP_HLEN_MIN)
		return XM_PARSE_MALFORMED;
	doff = (uint32_t)(l4[12] >> 4) * 4;
	return doff < TCP_HLEN_MIN || doff > len ? XM_PARSE_MALFORMED : XM_PARSE_OK;
}
