// SPDX-License-Identifier: MIT
/*
 * Test frame builder (see frame.h). The transport segment (or, for IPv6, the
 * whole fragmentable part) is built first in a scratch buffer, so lengths and
 * checksums cover the datagram before it is cut into fragments; then the
 * frame is written link layer first.
 */
#include <errno.h>
#include <netinet/in.h>
#include <stdlib.h>
#include <string.h>

#include "frame.h"

#define IP4_HDR    20
#define IP6_HDR    40
#define UDP_HDR    8
#define TCP_HDR    20
#define ICMP_HDR   8
#define ARP_LEN    28
#define FRAG_HDR   8
#define EXT_LEN_MAX 2048
#define IP_MAX     65535    /* IPv4 total length, IPv6 payload length */
#define ROUTING_TYPE_EXPERIMENT 253  /* RFC 4727: for experiments */

/* Scratch space (malloc'd per build) for the fragmentable part: every extension header at its
 * largest plus the biggest transport segment. */
#define SEG_MAX    (FB_EXT_MAX * EXT_LEN_MAX + IP_MAX)

static const uint8_t default_payload_len = 18;

struct writer {
	uint8_t *p;
	size_t cap, n;
	bool overflow;
};

static uint8_t *w_reserve(struct writer *w, size_t len)
{
	uint8_t *at;

	if (w->overflow || len > w->cap - w->n) {
		w->overflow = true;
		return NULL;
	}
	at = w->p + w->n;
	memset(at, 0, len);
	w->n += len;
	return at;
}

static void w_put(struct writer *w, const void *src, size_t len)
{
	uint8_t *at = w_reserve(w, len);

	if (at)
		memcpy(at, src, len);
}

static void be16_put(uint8_t *p, uint16_t v)
{
	p[0] = v >> 8;
	p[1] = v & 0xff;
}

void fb_be32_put(uint8_t *p, uint32_t v)
{
	be16_put(p, v >> 16);
	be16_put(p + 2, v & 0xffff);
}

uint32_t fb_be32_get(const uint8_t *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

static void w_be16(struct writer *w, uint16_t v)
{
	uint8_t *at = w_reserve(w, 2);

	if (at)
		be16_put(at, v);
}

uint32_t fb_csum_add(uint32_t sum, const void *buf, size_t len)
{
	const uint8_t *p = buf;
	size_t i;

	/* RFC 1071: one's complement sum of 16-bit big-endian words; an odd
	 * last byte is padded with zero. Only the last chunk may be odd. */
	for (i = 0; i + 1 < len; i += 2)
		sum += (uint32_t)p[i] << 8 | p[i + 1];
	if (len & 1)
		sum += (uint32_t)p[len - 1] << 8;
	while (sum >> 16)
		sum = (sum & 0xffff) + (sum >> 16);
	return sum;
}

uint16_t fb_csum_fold(uint32_t sum)
{
	while (sum >> 16)
		sum = (sum & 0xffff) + (sum >> 16);
	return (uint16_t)~sum;
}

void fb_init(struct fb_spec *s, enum fb_l3 l3, uint8_t l4)
{
	static const uint8_t mac_dst[6] = { 0x02, 0, 0, 0, 0, 0x02 };
	static const uint8_t mac_src[6] = { 0x02, 0, 0, 0, 0, 0x01 };
	static const uint8_t a4_src[4] = { 198, 18, 0, 1 };
	static const uint8_t a4_dst[4] = { 198, 18, 0, 2 };
	static const uint8_t a6_src[16] = { 0x20, 0x01, 0x0d, 0xb8, [15] = 1 };
	static const uint8_t a6_dst[16] = { 0x20, 0x01, 0x0d, 0xb8, [15] = 2 };

	memset(s, 0, sizeof(*s));
	memcpy(s->eth_dst, mac_dst, 6);
	memcpy(s->eth_src, mac_src, 6);
	s->l3 = l3;
	s->ethertype = 0x88B5;  /* IEEE 802 local experimental */
	memcpy(s->ip4.src, a4_src, 4);
	memcpy(s->ip4.dst, a4_dst, 4);
	s->ip4.ttl = 64;
	memcpy(s->ip6.src, a6_src, 16);
	memcpy(s->ip6.dst, a6_dst, 16);
	s->ip6.hop_limit = 64;
	s->frag.id = 0x12345;
	s->l4 = l4;
	s->sport = 40000;
	s->dport = 7000;
	s->tcp.seq = 1000;
	s->tcp.ack = 2000;
	s->tcp.flags = 0x18;  /* PSH|ACK */
	s->tcp.window = 65535;
	s->payload_len = default_payload_len;
	s->bad.ip4_version = FB_AUTO;
	s->bad.ip4_ihl = FB_AUTO;
	s->bad.ip4_tot_len = FB_AUTO;
	s->bad.ip6_version = FB_AUTO;
	s->bad.ip6_payload_len = FB_AUTO;
	s->bad.udp_len = FB_AUTO;
	s->bad.tcp_doff = FB_AUTO;
}

void fb_vlan_push(struct fb_spec *s, uint16_t tpid, uint16_t vid)
{
	if (s->nvlan < FB_VLAN_MAX)
		s->vlan[s->nvlan++] = (struct fb_vlan){ .tpid = tpid, .tci = vid & 0xfff };
}

void fb_ext_push(struct fb_spec *s, uint8_t type, uint16_t len)
{
	if (s->ip6.next < FB_EXT_MAX)
		s->ip6.ext[s->ip6.next++] = (struct fb_ext){ .type = type, .len = len };
}

static uint32_t pick(int32_t bad, uint32_t good)
{
	return bad == FB_AUTO ? good : (uint32_t)bad;
}

/* The pseudo-header sum of the spec's IP family (RFC 768, RFC 9293 3.1,
 * RFC 8200 8.1) for a transport segment of len bytes. */
static uint32_t pseudo_sum(const struct fb_spec *s, uint8_t proto, uint32_t len)
{
	uint8_t tail[8] = { 0 };
	uint32_t sum;

	if (s->l3 == FB_L3_IPV4) {
		sum = fb_csum_add(0, s->ip4.src, 4);
		sum = fb_csum_add(sum, s->ip4.dst, 4);
		tail[1] = proto;
		be16_put(tail + 2, (uint16_t)len);
		return fb_csum_add(sum, tail, 4);
	}
	/* Our routing headers have Segments Left 0: ip6.dst is the final
	 * destination the checksum must use. */
	sum = fb_csum_add(0, s->ip6.src, 16);
	sum = fb_csum_add(sum, s->ip6.dst, 16);
	fb_be32_put(tail, len);
	tail[7] = proto;
	return fb_csum_add(sum, tail, 8);
}

static bool transport_has_header(uint8_t l4)
{
	return l4 == IPPROTO_UDP || l4 == IPPROTO_TCP || l4 == IPPROTO_ICMP ||
	       l4 == IPPROTO_ICMPV6;
}

/* The transport segment: header and payload, checksummed. Returns its
 * length; *payload_at receives where the payload starts in it. */
static ssize_t build_transport(const struct fb_spec *s, struct writer *w,
			       size_t *payload_at)
{
	size_t start = w->n, hdr_at, i, len;
	uint8_t *h, *at;
	uint16_t csum;
	uint32_t sum;

	if (s->l4 == IPPROTO_TCP && (s->tcp.opt_len % 4 || s->tcp.opt_len > FB_TCP_OPT_MAX))
		return -EINVAL;
	hdr_at = w->n;
	switch (s->l4) {
	case IPPROTO_UDP:
		w_reserve(w, UDP_HDR);
		break;
	case IPPROTO_TCP:
		w_reserve(w, TCP_HDR + s->tcp.opt_len);
		break;
	case IPPROTO_ICMP:
	case IPPROTO_ICMPV6:
		w_reserve(w, ICMP_HDR);
		break;
	}
	*payload_at = w->n - start;
	if (s->payload) {
		w_put(w, s->payload, s->payload_len);
	} else if ((at = w_reserve(w, s->payload_len))) {
		for (i = 0; i < s->payload_len; i++)
			at[i] = (uint8_t)i;
	}
	if (w->overflow)
		return -EMSGSIZE;
	len = w->n - start;
	h = w->p + hdr_at;

	switch (s->l4) {
	case IPPROTO_UDP:
		be16_put(h, s->sport);
		be16_put(h + 2, s->dport);
		be16_put(h + 4, (uint16_t)pick(s->bad.udp_len, (uint32_t)len));
		sum = fb_csum_add(pseudo_sum(s, IPPROTO_UDP, (uint32_t)len), h, len);
		csum = fb_csum_fold(sum);
		/* RFC 768: a computed zero is sent as all ones. */
		be16_put(h + 6, csum ? csum : 0xffff);
		break;
	case IPPROTO_TCP:
		be16_put(h, s->sport);
		be16_put(h + 2, s->dport);
		fb_be32_put(h + 4, s->tcp.seq);
		fb_be32_put(h + 8, s->tcp.ack);
		h[12] = (uint8_t)(pick(s->bad.tcp_doff, (TCP_HDR + s->tcp.opt_len) / 4) << 4);
		h[13] = s->tcp.flags;
		be16_put(h + 14, s->tcp.window);
		if (s->tcp.opts)
			memcpy(h + TCP_HDR, s->tcp.opts, s->tcp.opt_len);
		else
			memset(h + TCP_HDR, 1, s->tcp.opt_len);  /* NOP (RFC 9293 3.2) */
		sum = fb_csum_add(pseudo_sum(s, IPPROTO_TCP, (uint32_t)len), h, len);
		be16_put(h + 16, fb_csum_fold(sum));
		break;
	case IPPROTO_ICMP:
	case IPPROTO_ICMPV6:
		/* Echo Request (RFC 792; RFC 4443 4.1), id 0x1234, seq 1. ICMPv6
		 * sums a pseudo-header, ICMP does not. */
		h[0] = s->l4 == IPPROTO_ICMP ? 8 : 128;
		be16_put(h + 4, 0x1234);
		be16_put(h + 6, 1);
		sum = s->l4 == IPPROTO_ICMPV6 && s->l3 == FB_L3_IPV6 ?
		      pseudo_sum(s, IPPROTO_ICMPV6, (uint32_t)len) : 0;
		be16_put(h + 2, fb_csum_fold(fb_csum_add(sum, h, len)));
		break;
	default:
		return (ssize_t)len;
	}
	if (s->bad.l4_csum) {
		size_t c = s->l4 == IPPROTO_UDP ? 6 : s->l4 == IPPROTO_TCP ? 16 : 2;

		h[c] ^= 0xff;
	}
	return (ssize_t)len;
}

static void ext_fill_options(uint8_t *h, size_t len)
{
	size_t pad = len - 2;

	/* RFC 8200 4.2: Pad1 for one byte, else one PadN covering the rest. */
	if (pad == 1) {
		h[2] = 0;
	} else {
		h[2] = 1;
		h[3] = (uint8_t)(pad - 2);
	}
}

/* One IPv6 extension header (not Fragment) of e->len bytes. */
static int ext_write(struct writer *w, const struct fb_ext *e, uint8_t next)
{
	size_t len = e->len ? e->len : 8;
	uint8_t *h;

	if (len % 8 || len > EXT_LEN_MAX)
		return -EINVAL;
	h = w_reserve(w, len);
	if (!h)
		return -EMSGSIZE;
	h[0] = next;
	h[1] = (uint8_t)(len / 8 - 1);
	if (e->type == FB_EXT_ROUTING) {
		/* Segments Left 0: RFC 8200 4.4 says to go on to the next
		 * header whatever the routing type. */
		h[2] = ROUTING_TYPE_EXPERIMENT;
		h[3] = 0;
	} else {
		ext_fill_options(h, len);
	}
	return 0;
}

struct ip6_plan {
	struct fb_ext chain[FB_EXT_MAX + 1];
	unsigned n;
	int frag_at;            /* index of the Fragment header, -1: none */
};

static int ip6_plan(const struct fb_spec *s, struct ip6_plan *pl)
{
	unsigned i;

	if (s->ip6.next > FB_EXT_MAX)
		return -EINVAL;
	pl->n = 0;
	pl->frag_at = -1;
	for (i = 0; i < s->ip6.next; i++) {
		uint8_t t = s->ip6.ext[i].type;

		if (t != FB_EXT_HOPOPTS && t != FB_EXT_ROUTING && t != FB_EXT_DSTOPTS &&
		    t != FB_EXT_FRAG)
			return -EINVAL;
		if (t == FB_EXT_FRAG) {
			if (pl->frag_at >= 0)
				return -EINVAL;
			pl->frag_at = (int)pl->n;
		}
		pl->chain[pl->n++] = s->ip6.ext[i];
	}
	if (s->frag.size && pl->frag_at < 0) {
		pl->frag_at = (int)pl->n;
		pl->chain[pl->n++] = (struct fb_ext){ .type = FB_EXT_FRAG, .len = FRAG_HDR };
	}
	return 0;
}

static uint8_t ip6_next_of(const struct ip6_plan *pl, unsigned i, uint8_t l4)
{
	return i + 1 < pl->n ? pl->chain[i + 1].type : l4;
}

/* The part of the packet that fragmentation cuts: for IPv6 the extension
 * headers after the Fragment header, then the transport segment. Offsets of
 * what it holds go to part_ext[] (indexed like plan->chain), *l4_at and
 * *payload_at. */
static ssize_t build_fragmentable(const struct fb_spec *s, const struct ip6_plan *pl,
				  struct writer *w, size_t part_ext[], size_t *l4_at,
				  size_t *payload_at)
{
	unsigned i = pl && pl->frag_at >= 0 ? (unsigned)pl->frag_at + 1 : pl ? pl->n : 0;
	ssize_t seg;
	int err;

	for (; pl && i < pl->n; i++) {
		part_ext[i] = w->n;
		err = ext_write(w, &pl->chain[i], ip6_next_of(pl, i, s->l4));
		if (err)
			return err;
	}
	*l4_at = w->n;
	seg = build_transport(s, w, payload_at);
	if (seg < 0)
		return seg;
	*payload_at += *l4_at;
	return (ssize_t)w->n;
}

/* The slice [off, off + len) of the fragmentable part this frame carries,
 * and whether more fragments follow. */
static int frag_slice(const struct fb_spec *s, size_t part_len, size_t *off,
		      size_t *len, bool *more)
{
	if (!s->frag.size) {
		*off = 0;
		*len = part_len;
		*more = false;
		return 0;
	}
	if (s->frag.size % 8)
		return -EINVAL;
	*off = (size_t)s->frag.index * s->frag.size;
	if (*off >= part_len)
		return -EINVAL;
	*len = part_len - *off < s->frag.size ? part_len - *off : s->frag.size;
	*more = *off + *len < part_len;
	return 0;
}

int fb_frag_count(const struct fb_spec *s)
{
	struct ip6_plan pl;
	size_t ext_len = 0, seg;
	unsigned i;

	if (!s->frag.size)
		return 1;
	if (s->frag.size % 8)
		return -EINVAL;
	seg = s->payload_len;
	if (s->l4 == IPPROTO_UDP || s->l4 == IPPROTO_ICMP || s->l4 == IPPROTO_ICMPV6)
		seg += 8;
	else if (s->l4 == IPPROTO_TCP)
		seg += TCP_HDR + s->tcp.opt_len;
	if (s->l3 == FB_L3_IPV6) {
		if (ip6_plan(s, &pl))
			return -EINVAL;
		for (i = (unsigned)pl.frag_at + 1; i < pl.n; i++)
			ext_len += pl.chain[i].len ? pl.chain[i].len : 8;
	}
	return (int)((seg + ext_len + s->frag.size - 1) / s->frag.size);
}

/* Map an offset in the fragmentable part to the frame, if this fragment
 * carries it. */
static size_t part_to_frame(size_t at, size_t slice_off, size_t slice_len, size_t base)
{
	if (at < slice_off || at >= slice_off + slice_len)
		return SIZE_MAX;
	return base + at - slice_off;
}

static int build_ipv4(const struct fb_spec *s, struct writer *w, struct fb_layout *l,
		      uint8_t *part)
{
	struct writer pw = { .p = part, .cap = SEG_MAX };
	size_t l4_at = 0, payload_at = 0, off, len, hlen, tot, i;
	ssize_t plen;
	bool more;
	uint8_t *h;
	int err;

	if (s->ip4.opt_len % 4 || s->ip4.opt_len > FB_IP4_OPT_MAX)
		return -EINVAL;
	plen = build_fragmentable(s, NULL, &pw, NULL, &l4_at, &payload_at);
	if (plen < 0)
		return (int)plen;
	err = frag_slice(s, (size_t)plen, &off, &len, &more);
	if (err)
		return err;
	hlen = IP4_HDR + s->ip4.opt_len;
	tot = hlen + len;
	if (tot > IP_MAX)
		return -EMSGSIZE;

	l->l3_off = w->n;
	h = w_reserve(w, hlen);
	if (!h)
		return -ENOSPC;
	h[0] = (uint8_t)(pick(s->bad.ip4_version, 4) << 4 | (pick(s->bad.ip4_ihl, hlen / 4) & 0xf));
	h[1] = s->ip4.tos;
	be16_put(h + 2, (uint16_t)pick(s->bad.ip4_tot_len, (uint32_t)tot));
	be16_put(h + 4, (uint16_t)s->frag.id);
	/* RFC 791: flags (reserved, DF, MF) then the offset in 8-byte units. */
	be16_put(h + 6, (uint16_t)((s->ip4.df ? 0x4000 : 0) | (more ? 0x2000 : 0) | off / 8));
	h[8] = s->ip4.ttl;
	h[9] = s->l4;
	memcpy(h + 12, s->ip4.src, 4);
	memcpy(h + 16, s->ip4.dst, 4);
	if (s->ip4.opts) {
		memcpy(h + IP4_HDR, s->ip4.opts, s->ip4.opt_len);
	} else if (s->ip4.opt_len) {
		/* NOPs (type 1), the last byte End of Option List (type 0). */
		for (i = 0; i + 1 < s->ip4.opt_len; i++)
			h[IP4_HDR + i] = 1;
	}
	be16_put(h + 10, fb_csum_fold(fb_csum_add(0, h, hlen)));
	if (s->bad.l3_csum)
		h[10] ^= 0xff;

	l->l4_off = transport_has_header(s->l4) ?
		    part_to_frame(l4_at, off, len, w->n) : SIZE_MAX;
	l->payload_off = off ? w->n : w->n + payload_at;
	w_put(w, part + off, len);
	return w->overflow ? -ENOSPC : 0;
}

static int build_ipv6(const struct fb_spec *s, struct writer *w, struct fb_layout *l,
		      uint8_t *part)
{
	struct writer pw = { .p = part, .cap = SEG_MAX };
	size_t part_ext[FB_EXT_MAX + 1], l4_at = 0, payload_at = 0, off, len, pay, start;
	unsigned i, per_frag;
	struct ip6_plan pl;
	ssize_t plen;
	uint8_t *h;
	bool more;
	int err;

	err = ip6_plan(s, &pl);
	if (err)
		return err;
	plen = build_fragmentable(s, &pl, &pw, part_ext, &l4_at, &payload_at);
	if (plen < 0)
		return (int)plen;
	err = frag_slice(s, (size_t)plen, &off, &len, &more);
	if (err)
		return err;

	per_frag = pl.frag_at >= 0 ? (unsigned)pl.frag_at + 1 : pl.n;
	pay = len;
	for (i = 0; i < per_frag; i++)
		pay += pl.chain[i].type == FB_EXT_FRAG ? FRAG_HDR :
		       pl.chain[i].len ? pl.chain[i].len : 8;
	if (pay > IP_MAX)
		return -EMSGSIZE;

	l->l3_off = w->n;
	h = w_reserve(w, IP6_HDR);
	if (!h)
		return -ENOSPC;
	fb_be32_put(h, pick(s->bad.ip6_version, 6) << 28 | (s->ip6.flow_label & 0xfffff));
	be16_put(h + 4, (uint16_t)pick(s->bad.ip6_payload_len, (uint32_t)pay));
	h[6] = pl.n ? pl.chain[0].type : s->l4;
	h[7] = s->ip6.hop_limit;
	memcpy(h + 8, s->ip6.src, 16);
	memcpy(h + 24, s->ip6.dst, 16);

	l->next = 0;
	for (i = 0; i < per_frag; i++) {
		uint8_t next = ip6_next_of(&pl, i, s->l4);

		l->ext_off[l->next++] = w->n;
		if (pl.chain[i].type == FB_EXT_FRAG) {
			uint8_t *fh = w_reserve(w, FRAG_HDR);

			if (!fh)
				return -ENOSPC;
			/* RFC 8200 4.5: offset in 8-byte units, then M. */
			fh[0] = next;
			be16_put(fh + 2, (uint16_t)((off / 8) << 3 | (more ? 1 : 0)));
			fb_be32_put(fh + 4, s->frag.id);
		} else {
			err = ext_write(w, &pl.chain[i], next);
			if (err)
				return err == -EMSGSIZE ? -ENOSPC : err;
		}
	}
	start = w->n;
	for (; i < pl.n; i++) {
		size_t at = part_to_frame(part_ext[i], off, len, start);

		if (at != SIZE_MAX)
			l->ext_off[l->next++] = at;
	}
	l->l4_off = transport_has_header(s->l4) ? part_to_frame(l4_at, off, len, start) :
		    SIZE_MAX;
	l->payload_off = off ? start : start + payload_at;
	w_put(w, part + off, len);
	return w->overflow ? -ENOSPC : 0;
}

static int build_arp(const struct fb_spec *s, struct writer *w, struct fb_layout *l)
{
	uint8_t *a;

	l->l3_off = w->n;
	a = w_reserve(w, ARP_LEN);
	if (!a)
		return -ENOSPC;
	/* RFC 826: Ethernet/IPv4 request. */
	be16_put(a, 1);
	be16_put(a + 2, FB_ETH_P_IP);
	a[4] = 6;
	a[5] = 4;
	be16_put(a + 6, 1);
	memcpy(a + 8, s->eth_src, 6);
	memcpy(a + 14, s->ip4.src, 4);
	memcpy(a + 24, s->ip4.dst, 4);
	l->payload_off = w->n;
	return 0;
}

ssize_t fb_build(const struct fb_spec *s, void *buf, size_t cap, struct fb_layout *lay)
{
	struct writer w = { .p = buf, .cap = cap };
	uint8_t *part = NULL;
	struct fb_layout l;
	uint16_t type;
	unsigned i;
	int err = 0;

	if (s->nvlan > FB_VLAN_MAX)
		return -EINVAL;
	memset(&l, 0xff, sizeof(l));
	l.next = 0;
	w_put(&w, s->eth_dst, 6);
	w_put(&w, s->eth_src, 6);
	for (i = 0; i < s->nvlan; i++) {
		/* The tag's TPID sits where the EtherType would be (802.1Q 9.3);
		 * the TCI follows and the next type after it. */
		w_be16(&w, s->vlan[i].tpid);
		l.vlan_off[i] = w.n;
		w_be16(&w, s->vlan[i].tci);
	}
	switch (s->l3) {
	case FB_L3_IPV4:
		type = FB_ETH_P_IP;
		break;
	case FB_L3_IPV6:
		type = FB_ETH_P_IPV6;
		break;
	case FB_L3_ARP:
		type = FB_ETH_P_ARP;
		break;
	case FB_L3_RAW:
		type = s->ethertype;
		break;
	default:
		return -EINVAL;
	}
	w_be16(&w, type);
	if (w.overflow)
		return -ENOSPC;

	switch (s->l3) {
	case FB_L3_IPV4:
	case FB_L3_IPV6:
		part = malloc(SEG_MAX);
		if (!part)
			return -ENOMEM;
		err = s->l3 == FB_L3_IPV4 ? build_ipv4(s, &w, &l, part) :
		      build_ipv6(s, &w, &l, part);
		free(part);
		break;
	case FB_L3_ARP:
		err = build_arp(s, &w, &l);
		break;
	case FB_L3_RAW: {
		uint8_t *at;
		size_t j;

		l.l3_off = l.payload_off = w.n;
		if (s->payload) {
			w_put(&w, s->payload, s->payload_len);
		} else if ((at = w_reserve(&w, s->payload_len))) {
			for (j = 0; j < s->payload_len; j++)
				at[j] = (uint8_t)j;
		}
		break;
	}
	}
	if (err)
		return err;
	l.ip_end = w.n;
	w_reserve(&w, s->trailer_len);
	if (w.overflow)
		return -ENOSPC;
	l.len = w.n;
	if (lay)
		*lay = l;
	return (ssize_t)w.n;
}
