// SPDX-License-Identifier: MIT
/*
 * IP output: route (asked of the link, i.e. the kernel, and cached for a
 * second), neighbour MAC (same), Ethernet framing, IPv4/IPv6 headers and
 * fragmentation (RFC 791 2.3, RFC 8200 4.5). A datagram whose neighbour is
 * not resolved yet waits in a short queue while the kernel resolves it, as
 * the kernel's own neighbour queue does (unres_qlen).
 *
 * A datagram with an owner (a UDP socket's send-buffer account) is charged
 * to it while it waits here and while its frames are with the link; with no
 * tx buffer free it is refused with -EAGAIN, to be sent again, not lost.
 */
#include <errno.h>
#include <netinet/in.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "../core/stack.h"
#include "net.h"

#define NEIGH_Q_MAX      64
#define NEIGH_RETRY_NS   (5 * 1000000ULL)
#define NEIGH_WAIT_NS    (3 * 1000000000ULL)  /* ~ kernel's 3 probes */
#define IP_DF            0x4000
#define IP_MF            0x2000

struct xm_neigh_pending {
	struct xm_neigh_pending *next;
	struct xm_wmem *owner;   /* charged xm_wmem_cost(len); NULL: none */
	struct xm_ipinfo ip;
	uint64_t expires;
	uint32_t len;
	uint8_t data[];   /* transport header + payload */
};

uint32_t xm_ip_max_l4(int family)
{
	/* IPv4 total length and IPv6 payload length are both 16 bits. */
	return family == AF_INET6 ? XM_IP_MAXPACKET : XM_IP_MAXPACKET - XM_IPV4_HLEN;
}

bool xm_ip_is_local(const struct xm_stack *st, int family, const uint8_t *addr)
{
	if (family == AF_INET) {
		for (uint32_t i = 0; i < st->info.n_ipv4; i++)
			if (!memcmp(st->info.ipv4[i].addr, addr, 4))
				return true;
	} else {
		for (uint32_t i = 0; i < st->info.n_ipv6; i++)
			if (!memcmp(st->info.ipv6[i].addr, addr, 16))
				return true;
	}
	return false;
}

static struct xm_route_entry *route_get(struct xm_stack *st, int family,
					const uint8_t *dst, int *err)
{
	uint32_t alen = xm_addr_len(family);
	uint64_t now = xm_now(st);
	uint32_t h = 2166136261u ^ (uint32_t)family;   /* FNV-1a */
	struct xm_route_entry *e;
	int r;

	for (uint32_t i = 0; i < alen; i++)
		h = (h ^ dst[i]) * 16777619u;
	e = &st->routes[(h ^ (h >> 16)) & (XM_ROUTE_CACHE - 1)];
	if (e->valid && e->family == family && e->expires > now &&
	    !memcmp(e->dst, dst, alen))
		return e;
	memset(e, 0, sizeof(*e));
	r = st->link->ops->route(st->link, family, dst, e->nexthop, e->src);
	if (r < 0) {
		*err = r;
		return NULL;
	}
	e->valid = true;
	e->family = family;
	memcpy(e->dst, dst, alen);
	e->expires = now + XM_ROUTE_CACHE_NS;
	return e;
}

int xm_ip_route(struct xm_stack *st, int family, const uint8_t *dst,
		uint8_t *nexthop, uint8_t *src)
{
	int err = 0;
	struct xm_route_entry *e = route_get(st, family, dst, &err);

	if (!e)
		return err;
	if (nexthop)
		memcpy(nexthop, e->nexthop, xm_addr_len(family));
	if (src)
		memcpy(src, e->src, xm_addr_len(family));
	return 0;
}

static int neigh_get(struct xm_stack *st, struct xm_route_entry *e,
		     uint8_t mac[6])
{
	int r;

	if (!e->has_mac) {
		r = st->link->ops->neigh(st->link, e->family, e->nexthop, e->mac);
		if (r < 0)
			return r;
		e->has_mac = true;
	}
	memcpy(mac, e->mac, 6);
	return 0;
}

/* Copy n bytes at offset off of the virtual concatenation hdr|payload. */
static void l4_copy(uint8_t *to, uint32_t off, uint32_t n, const uint8_t *hdr,
		    uint32_t hlen, const uint8_t *payload)
{
	if (off < hlen) {
		uint32_t k = hlen - off < n ? hlen - off : n;

		memcpy(to, hdr + off, k);
		to += k;
		off += k;
		n -= k;
	}
	if (n)
		memcpy(to, payload + (off - hlen), n);
}

/* The L4 checksum of a whole datagram (hdr + payload under ip's
 * pseudo-header) for ip->l4_csum_off. RFC 768: a UDP sum of zero goes
 * as all ones, zero meaning none; TCP has no such value (RFC 9293 3.1). */
static uint16_t l4_csum_final(const struct xm_ipinfo *ip, uint32_t sum)
{
	uint16_t c = xm_csum_fold(sum);

	return c == 0 && ip->proto == IPPROTO_UDP ? 0xffff : c;
}

/* l4_copy of a whole datagram into one frame, summing it as it goes
 * (ip->l4_csum_off set). hlen is even (TCP and UDP headers are; a
 * datagram queued for its neighbour comes back whole as hdr), so the
 * payload's 16-bit words keep their alignment in the sum. */
static void l4_copy_csum(uint8_t *to, const struct xm_ipinfo *ip,
			 const uint8_t *hdr, uint32_t hlen,
			 const uint8_t *payload, uint32_t plen)
{
	uint32_t sum = xm_csum_pseudo(ip, hlen + plen);

	sum = xm_csum_copy(sum, to, hdr, hlen);
	if (plen)
		sum = xm_csum_copy(sum, to + hlen, payload, plen);
	xm_put16(to + ip->l4_csum_off, l4_csum_final(ip, sum));
}

static uint8_t *eth_put(const struct xm_stack *st, uint8_t *p,
			const uint8_t mac[6], uint16_t type)
{
	memcpy(p, mac, 6);
	memcpy(p + 6, st->info.mac, 6);
	p[12] = (uint8_t)(type >> 8);
	p[13] = (uint8_t)type;
	return p + XM_ETH_HLEN;
}

static void ipv4_put(uint8_t *p, const struct xm_ipinfo *ip, uint32_t tot,
		     uint16_t id, uint16_t frag)
{
	p[0] = 0x45;
	p[1] = ip->tos;
	xm_put16(p + 2, (uint16_t)tot);
	xm_put16(p + 4, id);
	xm_put16(p + 6, frag);
	p[8] = ip->hop_limit ? ip->hop_limit : XM_IP_TTL_DEFAULT;
	p[9] = ip->proto;
	xm_put16(p + 10, 0);
	memcpy(p + 12, ip->src, 4);
	memcpy(p + 16, ip->dst, 4);
	xm_put16(p + 10, xm_csum_fold(xm_csum_add(0, p, XM_IPV4_HLEN)));
}

static void ipv6_put(uint8_t *p, const struct xm_ipinfo *ip, uint32_t plen,
		     uint8_t next)
{
	xm_put32(p, 0x60000000u | (uint32_t)ip->tos << 20);
	xm_put16(p + 4, (uint16_t)plen);
	p[6] = next;
	p[7] = ip->hop_limit ? ip->hop_limit : XM_IP_TTL_DEFAULT;
	memcpy(p + 8, ip->src, 16);
	memcpy(p + 24, ip->dst, 16);
}

/* At most 54 fragments: a 65535-byte datagram cut for the 1280-byte
 * minimum MTU the stack accepts (xm_stack_open_link). */
#define MAX_FRAGS 64

static int send_frames(struct xm_stack *st, const struct xm_ipinfo *ip,
		       const uint8_t mac[6], const uint8_t *hdr, uint32_t hlen,
		       const uint8_t *payload, uint32_t plen, struct xm_wmem *owner)
{
	uint32_t total = hlen + plen, mtu = st->info.mtu, off = 0;
	bool v6 = ip->family == AF_INET6;
	uint32_t iph = v6 ? XM_IPV6_HLEN : XM_IPV4_HLEN;
	bool frag = total + iph > mtu;
	struct xm_frame f[MAX_FRAGS];
	uint32_t chunk, id = 0, n_frames;
	uint16_t csum = 0;

	if (frag) {
		chunk = (mtu - iph - (v6 ? XM_IPV6_FRAG_HLEN : 0)) & ~7u;
		id = v6 ? ++st->ipv6_id : (uint16_t)++st->ipv4_id;
		/* The sum covers every fragment's bytes but goes in the
		 * first: take it before cutting. */
		if (ip->l4_csum_off) {
			uint32_t sum = xm_csum_add(xm_csum_pseudo(ip, total), hdr, hlen);

			if (plen)
				sum = xm_csum_add(sum, payload, plen);
			csum = l4_csum_final(ip, sum);
		}
	} else {
		chunk = total;
	}
	n_frames = (total + chunk - 1) / chunk;
	if (!n_frames)
		n_frames = 1;
	if (n_frames > MAX_FRAGS)
		return -EMSGSIZE;
	/* Take every buffer first: a datagram goes out whole or not at all,
	 * never as a fragment train with holes. */
	for (uint32_t i = 0; i < n_frames; i++) {
		int r = xm_tx_alloc(st, &f[i]);

		if (r == 0 && f[i].cap < XM_ETH_HLEN + mtu) {
			i++;
			r = -EMSGSIZE;
		}
		if (r < 0) {
			if (i)
				st->link->ops->tx_abort(st->link, f, (int)i);
			return r;
		}
	}
	for (uint32_t i = 0; i < n_frames; i++) {
		uint32_t n = total - off < chunk ? total - off : chunk;
		bool more = off + n < total;
		uint8_t *p;

		p = eth_put(st, f[i].data, mac, v6 ? XM_ETH_P_IPV6 : XM_ETH_P_IP);
		if (!v6) {
			uint16_t fo = frag ? (uint16_t)((off >> 3) | (more ? IP_MF : 0))
					   : ip->df_off ? 0 : IP_DF;

			if (!frag)
				id = (uint16_t)++st->ipv4_id;
			ipv4_put(p, ip, iph + n, (uint16_t)id, fo);
			p += iph;
		} else if (frag) {
			ipv6_put(p, ip, XM_IPV6_FRAG_HLEN + n, 44 /* Fragment */);
			p += iph;
			p[0] = ip->proto;
			p[1] = 0;
			xm_put16(p + 2, (uint16_t)(off | (more ? 1 : 0)));
			xm_put32(p + 4, id);
			p += XM_IPV6_FRAG_HLEN;
		} else {
			ipv6_put(p, ip, n, ip->proto);
			p += iph;
		}
		if (!frag && ip->l4_csum_off)
			l4_copy_csum(p, ip, hdr, hlen, payload, plen);
		else
			l4_copy(p, off, n, hdr, hlen, payload);
		if (frag && ip->l4_csum_off && i == 0)
			xm_put16(p + ip->l4_csum_off, csum);   /* chunk > hlen */
		f[i].len = (uint32_t)(p + n - f[i].data);
		f[i].owner = owner;
		xm_tx_queue(st, &f[i]);
		if (frag)
			st->stats.frag_tx++;
		off += n;
	}
	return 0;
}

static int neigh_enqueue(struct xm_stack *st, const struct xm_ipinfo *ip,
			 const uint8_t *hdr, uint32_t hlen,
			 const uint8_t *payload, uint32_t plen,
			 struct xm_wmem *owner)
{
	struct xm_neigh_pending *q, **pp;

	if (st->neigh_q_len >= NEIGH_Q_MAX) {
		st->stats.tx_neigh_drops++;
		return 0;   /* as the kernel: silently lost, counted */
	}
	q = malloc(sizeof(*q) + hlen + plen);
	if (!q)
		return -ENOBUFS;
	q->next = NULL;
	q->owner = owner;
	if (owner)
		xm_wmem_charge(owner, xm_wmem_cost(hlen + plen));
	q->ip = *ip;
	q->expires = xm_now(st) + NEIGH_WAIT_NS;
	q->len = hlen + plen;
	memcpy(q->data, hdr, hlen);
	if (plen)   /* a bare segment (SYN-ACK, ACK) has no payload pointer */
		memcpy(q->data + hlen, payload, plen);
	for (pp = &st->neigh_q; *pp; pp = &(*pp)->next)
		;
	*pp = q;
	st->neigh_q_len++;
	st->stats.tx_neigh_wait++;
	if (!xm_timer_armed(&st->neigh_timer))
		xm_timer_arm(&st->timers, &st->neigh_timer,
			     xm_now(st) + NEIGH_RETRY_NS);
	return 0;
}

static void neigh_pending_free(struct xm_neigh_pending *q)
{
	if (q->owner)
		xm_wmem_release(q->owner, xm_wmem_cost(q->len));
	free(q);
}

int xm_ip_output_owned(struct xm_stack *st, const struct xm_ipinfo *ip,
		       const uint8_t *hdr, uint32_t hlen, const uint8_t *payload,
		       uint32_t plen, struct xm_wmem *owner)
{
	struct xm_route_entry *e;
	uint8_t mac[6];
	int err = 0, r;

	if (hlen + plen > xm_ip_max_l4(ip->family) ||
	    (ip->no_frag && hlen + plen + (ip->family == AF_INET6 ? XM_IPV6_HLEN : XM_IPV4_HLEN) >
				    st->info.mtu))
		return -EMSGSIZE;   /* before a neighbour queue could take it */
	e = route_get(st, ip->family, ip->dst, &err);
	if (!e) {
		st->stats.tx_no_route++;
		return err;
	}
	r = neigh_get(st, e, mac);
	if (r == -EAGAIN)
		return neigh_enqueue(st, ip, hdr, hlen, payload, plen, owner);
	if (r < 0) {
		st->stats.tx_neigh_drops++;
		return r;
	}
	r = send_frames(st, ip, mac, hdr, hlen, payload, plen, owner);
	if (r == -ENOBUFS)
		st->stats.tx_no_buffer++;
	return r;
}

int xm_ip_output_gso(struct xm_stack *st, const struct xm_ipinfo *ip,
		     uint8_t *hdr, uint32_t hlen, const uint8_t *data[2],
		     const uint32_t len[2], uint16_t gso_size)
{
	bool v6 = ip->family == AF_INET6;
	uint32_t iph = v6 ? XM_IPV6_HLEN : XM_IPV4_HLEN, plen = len[0] + len[1];
	uint8_t frame[XM_ETH_HLEN + XM_IPV6_HLEN + 60], mac[6], *p;
	struct xm_link_gso g = { .l4_off = XM_ETH_HLEN + iph, .gso_size = gso_size,
				 .v6 = v6, .data = { data[0], data[1] },
				 .len = { len[0], len[1] } };
	uint32_t segs = (plen + gso_size - 1) / gso_size;
	struct xm_route_entry *e;
	int err = 0, r;

	if (!st->tso || hlen > 60 || !gso_size ||
	    XM_ETH_HLEN + iph + hlen + plen > st->info.gso_max_size ||
	    iph + hlen + plen > XM_IP_MAXPACKET || segs > st->info.gso_max_segs)
		return -EOPNOTSUPP;
	e = route_get(st, ip->family, ip->dst, &err);
	if (!e)
		return err;
	/* Unresolved: the caller's frames wait in the neighbour queue. */
	r = neigh_get(st, e, mac);
	if (r < 0)
		return r;
	/* The device completes the checksum of each segment from the
	 * pseudo-header sum over the whole (tcp_gso_segment adjusts the
	 * length per segment). */
	xm_put16(hdr + 16, (uint16_t)~xm_csum_fold(xm_csum_pseudo(ip, hlen + plen)));
	p = eth_put(st, frame, mac, v6 ? XM_ETH_P_IPV6 : XM_ETH_P_IP);
	if (v6) {
		ipv6_put(p, ip, hlen + plen, ip->proto);
	} else {
		/* Each segment takes the next id, as the kernel's GSO. */
		ipv4_put(p, ip, iph + hlen + plen, (uint16_t)(st->ipv4_id + 1),
			 ip->df_off ? 0 : IP_DF);
		st->ipv4_id += segs;
	}
	memcpy(p + iph, hdr, hlen);
	g.hdr = frame;
	g.hlen = XM_ETH_HLEN + iph + hlen;
	return xm_tx_gso(st, &g);
}

int xm_ip_output(struct xm_stack *st, const struct xm_ipinfo *ip,
		 const uint8_t *hdr, uint32_t hlen, const uint8_t *payload,
		 uint32_t plen)
{
	int r = xm_ip_output_owned(st, ip, hdr, hlen, payload, plen, NULL);

	if (r != -EAGAIN)
		return r;
	/* No one will send it again: that is a drop. */
	st->stats.tx_no_buffer++;
	return -ENOBUFS;
}

/* Retry queued datagrams; drop those whose neighbour stayed unresolved. */
void xm_neigh_timer_fn(struct xm_stack *st, struct xm_timer *t)
{
	struct xm_neigh_pending **pp = &st->neigh_q;
	uint64_t now = xm_now(st);

	while (*pp) {
		struct xm_neigh_pending *q = *pp;
		struct xm_route_entry *e;
		uint8_t mac[6];
		int err = 0, r = -EAGAIN;
		bool resolved;

		e = route_get(st, q->ip.family, q->ip.dst, &err);
		if (e)
			r = neigh_get(st, e, mac);
		resolved = r == 0;
		if (resolved)
			r = send_frames(st, &q->ip, mac, q->data, q->len, NULL, 0,
					q->owner);
		/* Unresolved yet, or no tx buffer yet: again at the next tick. */
		if (r == -EAGAIN && q->expires > now) {
			pp = &q->next;
			continue;
		}
		if (r < 0 && resolved)
			st->stats.tx_no_buffer++;
		else if (r < 0)
			st->stats.tx_neigh_drops++;
		*pp = q->next;
		st->neigh_q_len--;
		neigh_pending_free(q);
	}
	if (st->neigh_q)
		xm_timer_arm(&st->timers, t, now + NEIGH_RETRY_NS);
}

void xm_ip_output_fini(struct xm_stack *st)
{
	while (st->neigh_q) {
		struct xm_neigh_pending *q = st->neigh_q;

		st->neigh_q = q->next;
		neigh_pending_free(q);
	}
	st->neigh_q_len = 0;
	xm_timer_cancel(&st->timers, &st->neigh_timer);
	memset(st->routes, 0, sizeof(st->routes));
}
