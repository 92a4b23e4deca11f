// SPDX-License-Identifier: MIT
/*
 * UDP (RFC 768, RFC 1122 4.1, RFC 8200 8.1): demultiplexing by local port,
 * checksums, per-socket receive queues bounded by SO_RCVBUF, bind rules and
 * ephemeral ports as Linux has them.
 *
 * Send back-pressure as Linux: a socket's datagrams are charged to its send
 * buffer until the link gives their frames back (tx completion); a send is
 * admitted while less than SO_SNDBUF is charged (sock_alloc_send_pskb) and
 * POLLOUT needs less than half of it (sock_writeable). A send that finds no
 * room, in the send buffer or among the link's tx buffers, is refused with
 * EAGAIN, which makes a blocking caller wait (socket.c) for completions.
 */
#define _GNU_SOURCE   /* POLLRDHUP */
#include <errno.h>
#include <linux/sockios.h>
#include <sys/ioctl.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "../core/stack.h"
#include "../socket/sock.h"
#include "ports.h"
#include "udp.h"

struct xm_dgram {
	struct xm_dgram *next;
	struct xm_ep from;
	uint8_t dst[16];             /* for IP_PKTINFO */
	uint8_t tos, hop_limit;
	uint64_t rx_ns;
	uint32_t len;
	uint8_t data[];
};

static bool port_conflicts(const struct xm_sock *s, uint16_t port)
{
	for (const struct xm_sock *o = xm_ports_first(&s->st->udp_ports, port); o;
	     o = o->port_next) {
		if ((s->reuseaddr && o->reuseaddr) || (s->reuseport && o->reuseport))
			continue;
		if (xm_socks_overlap(s, o))
			return true;
	}
	return false;
}

static int udp_bind(struct xm_sock *s, const struct xm_ep *local)
{
	uint16_t port = local->port;
	struct xm_ep saved = s->local;
	int r;

	if (!xm_addr_is_any(local->addr, local->family) &&
	    !xm_ip_is_local(s->st, local->family, local->addr))
		return -EADDRNOTAVAIL;
	s->local = *local;
	if (!port) {
		r = xm_ports_ephemeral(&s->st->udp_ports, &port);
		if (r < 0)
			goto fail;
	} else if (port_conflicts(s, port)) {
		r = -EADDRINUSE;
		goto fail;
	}
	s->local.port = port;
	r = xm_ports_attach(s->st, &s->st->udp_ports, s);
	if (r < 0)
		goto fail;
	s->bound = true;
	return 0;
fail:
	s->local = saved;
	return r;
}

static int autobind(struct xm_sock *s)
{
	struct xm_ep any = { .family = s->domain };

	return s->bound ? 0 : udp_bind(s, &any);
}

static int udp_connect(struct xm_sock *s, const struct xm_ep *peer)
{
	uint8_t src[16];
	int r;

	if (!peer->family) {
		s->connected = false;
		memset(&s->peer, 0, sizeof(s->peer));
		return 0;
	}
	r = xm_ip_route(s->st, peer->family, peer->addr, NULL, src);
	if (r < 0)
		return r;
	r = autobind(s);
	if (r < 0)
		return r;
	s->peer = *peer;
	s->connected = true;
	return 0;
}

/* Room to admit one more datagram? Reaps completions before saying no. */
static bool sndbuf_room(struct xm_sock *s)
{
	struct xm_wmem *w = s->pcb.udp.wmem;

	if (w->bytes < s->sndbuf)
		return true;
	xm_tx_reap(s->st);
	return w->bytes < s->sndbuf;
}

static ssize_t udp_sendto(struct xm_sock *s, const void *buf, size_t len,
			  int flags, const struct xm_ep *to,
			  const struct xm_pktmeta *meta)
{
	struct xm_stack *st = s->st;
	struct xm_ipinfo ip = { .proto = IPPROTO_UDP };
	uint8_t h[XM_UDP_HLEN];
	uint32_t ulen;
	int r;

	(void)flags;
	if (s->shut & XM_SHUT_WR)
		return -EPIPE;
	if (!to) {
		if (!s->connected)
			return -EDESTADDRREQ;
		to = &s->peer;
	} else if (!to->port) {
		return -EINVAL;   /* as Linux: only an explicit port 0 */
	}
	if (len > xm_ip_max_l4(to->family) - XM_UDP_HLEN)
		return -EMSGSIZE;
	r = autobind(s);
	if (r < 0)
		return r;
	ip.family = to->family;
	memcpy(ip.dst, to->addr, 16);
	ip.tos = meta && meta->tos >= 0 ? (uint8_t)meta->tos : s->tos;
	ip.hop_limit = meta && meta->hop_limit >= 0 ? (uint8_t)meta->hop_limit
						    : s->hop_limit;
	ip.no_frag = s->pmtudisc == IP_PMTUDISC_DO || s->pmtudisc == IP_PMTUDISC_PROBE ||
		     s->pmtudisc == IP_PMTUDISC_INTERFACE;
	ip.df_off = s->pmtudisc == IP_PMTUDISC_DONT;
	if (xm_sock_local_scope(s, to->family) == 0)
		return -ENETUNREACH;   /* as Linux: v4-bound socket to v6 */
	else if (meta && meta->has_src)   /* IP_PKTINFO wins, as Linux; msg.c checked it */
		memcpy(ip.src, meta->src, 16);
	else if (xm_sock_local_scope(s, to->family) == 2)
		memcpy(ip.src, s->local.addr, 16);
	else if ((r = xm_ip_route(st, to->family, to->addr, NULL, ip.src)) < 0)
		return r;
	if (!s->pcb.udp.wmem && !(s->pcb.udp.wmem = xm_wmem_new()))
		return -ENOBUFS;
	if (!sndbuf_room(s)) {
		st->tx_waiting = true;
		return -EAGAIN;
	}
	ulen = (uint32_t)len + XM_UDP_HLEN;
	h[0] = (uint8_t)(s->local.port >> 8);
	h[1] = (uint8_t)s->local.port;
	h[2] = (uint8_t)(to->port >> 8);
	h[3] = (uint8_t)to->port;
	h[4] = (uint8_t)(ulen >> 8);
	h[5] = (uint8_t)ulen;
	/* Summed by IP output as it copies the datagram into its frames. */
	h[6] = h[7] = 0;
	ip.l4_csum_off = 6;
	r = xm_ip_output_owned(st, &ip, h, XM_UDP_HLEN, buf, (uint32_t)len,
			       s->pcb.udp.wmem);
	xm_tx_flush(st);
	if (r == -EAGAIN)
		st->tx_waiting = true;   /* no tx buffer: wait for completions */
	return r < 0 ? r : (ssize_t)len;
}

static ssize_t udp_recvfrom(struct xm_sock *s, void *buf, size_t len,
			    int flags, struct xm_ep *from, struct xm_pktmeta *meta)
{
	struct xm_udp_pcb *u = &s->pcb.udp;
	struct xm_dgram *d = u->rxq_head;
	size_t n;

	if (!d)
		return (s->shut & XM_SHUT_RD) ? 0 : -EAGAIN;
	n = d->len < len ? d->len : len;
	if (!(flags & MSG_PEEK)) {
		u->rxq_head = d->next;
		if (!u->rxq_head)
			u->rxq_tail = NULL;
		u->rxq_bytes -= d->len + XM_UDP_DGRAM_OVERHEAD;
		u->rxq_count--;
	}
	if (n && !buf) {
		if (!(flags & MSG_PEEK))
			free(d);
		return -EFAULT;   /* as Linux: the datagram is consumed */
	}
	memcpy(buf, d->data, n);
	if (from)
		*from = d->from;
	if (meta) {
		meta->family = d->from.family;
		memcpy(meta->dst, d->dst, 16);
		meta->tos = d->tos;
		meta->hop_limit = d->hop_limit;
		meta->rx_ns = d->rx_ns;
	}
	if (flags & MSG_TRUNC)
		n = d->len;
	if (!(flags & MSG_PEEK))
		free(d);
	return (ssize_t)n;
}

/* How well s matches a datagram: -1 not at all; connected beats
 * bound-to-address beats wildcard (RFC 1122 4.1.3.3 leaves it open; this
 * is what Linux scores). */
static int udp_score(const struct xm_sock *s, const struct xm_ipinfo *ip,
		     uint16_t sport)
{
	int sc = xm_sock_local_scope(s, ip->family), score;

	if (!sc)
		return -1;
	if (sc == 2 && memcmp(s->local.addr, ip->dst, xm_addr_len(ip->family)))
		return -1;
	score = sc == 2 ? 1 : 0;
	if (s->connected) {
		if (s->peer.family != ip->family || s->peer.port != sport ||
		    memcmp(s->peer.addr, ip->src, xm_addr_len(ip->family)))
			return -1;
		score += 2;
	}
	return score;
}

/* The best socket for a datagram; among an SO_REUSEPORT group of equally
 * good unconnected sockets, the one the flow hash picks (ports.h). */
static struct xm_sock *udp_lookup(struct xm_stack *st, const struct xm_ipinfo *ip,
				  uint16_t sport, uint16_t dport)
{
	struct xm_sock *best = NULL;
	int best_score = -1;
	uint32_t n = 0, k;

	for (struct xm_sock *s = xm_ports_first(&st->udp_ports, dport); s;
	     s = s->port_next) {
		int score = udp_score(s, ip, sport);

		if (score > best_score) {
			best = s;
			best_score = score;
			n = 0;
		}
		if (score == best_score && s->reuseport && !s->connected)
			n++;
	}
	if (n < 2 || !best->reuseport || best->connected)
		return best;
	k = xm_reuseport_index(xm_flow_hash(st, ip->family, ip->src, ip->dst,
					    sport, dport), n);
	for (struct xm_sock *s = xm_ports_first(&st->udp_ports, dport); s;
	     s = s->port_next)
		if (s->reuseport && !s->connected && udp_score(s, ip, sport) == best_score &&
		    !k--)
			return s;
	return best;
}

static void udp_input(struct xm_stack *st, const struct xm_ipinfo *ip,
		      const uint8_t *l4, uint32_t len)
{
	uint16_t sport, dport;
	enum xm_l4_csum_verdict v = XM_CSUM_GOOD;
	struct xm_udp_pcb *u;
	struct xm_dgram *d;
	struct xm_sock *s;
	uint32_t ulen, charge;

	if (xm_udp_hdr_check(l4, len, true) != XM_PARSE_OK) {
		st->stats.rx_malformed++;
		return;
	}
	ulen = (uint32_t)(l4[4] << 8 | l4[5]);
	/* RFC 768: zero means none was computed (IPv4 only); RFC 8200 8.1:
	 * IPv6 receivers must discard a zero UDP checksum. */
	if (l4[6] == 0 && l4[7] == 0) {
		if (ip->family == AF_INET6)
			v = XM_CSUM_BAD;
	} else {
		v = xm_l4_csum_verify(ip, l4, ulen, 6);
	}
	if (v == XM_CSUM_BAD) {
		st->stats.rx_bad_l4_csum++;
		return;
	}
	if (v == XM_CSUM_PARTIAL)
		st->stats.rx_csum_partial++;
	sport = (uint16_t)(l4[0] << 8 | l4[1]);
	dport = (uint16_t)(l4[2] << 8 | l4[3]);
	s = udp_lookup(st, ip, sport, dport);
	if (!s) {
		/* The kernel would answer ICMP port unreachable; it owns ICMP. */
		st->stats.rx_no_socket++;
		return;
	}
	u = &s->pcb.udp;
	charge = ulen - XM_UDP_HLEN + XM_UDP_DGRAM_OVERHEAD;
	if ((s->shut & XM_SHUT_RD) ||
	    (u->rxq_count && u->rxq_bytes + charge > s->rcvbuf)) {
		u->rcvbuf_drops++;
		st->stats.rx_rcvbuf_drops++;
		return;
	}
	d = malloc(sizeof(*d) + ulen - XM_UDP_HLEN);
	if (!d) {
		u->rcvbuf_drops++;
		st->stats.rx_rcvbuf_drops++;
		return;
	}
	d->next = NULL;
	d->from.family = ip->family;
	memcpy(d->from.addr, ip->src, 16);
	d->from.port = sport;
	memcpy(d->dst, ip->dst, 16);
	d->tos = ip->tos;
	d->hop_limit = ip->hop_limit;
	/* the clock only when asked: it costs a call per datagram */
	d->rx_ns = s->rx_cmsgs & (XM_RX_TIMESTAMP | XM_RX_TIMESTAMPNS) ? xm_now(st) : 0;
	d->len = ulen - XM_UDP_HLEN;
	memcpy(d->data, l4 + XM_UDP_HLEN, d->len);
	if (u->rxq_tail)
		u->rxq_tail->next = d;
	else
		u->rxq_head = d;
	u->rxq_tail = d;
	u->rxq_bytes += charge;
	u->rxq_count++;
}

/* POLLOUT as Linux's sock_writeable (under half the send buffer charged),
 * and only while the link has a tx buffer to lend. */
static bool udp_writable(struct xm_sock *s)
{
	const struct xm_wmem *w = s->pcb.udp.wmem;

	if ((!w || w->bytes < s->sndbuf / 2) && xm_tx_room(s->st))
		return true;
	s->st->tx_waiting = true;   /* a poller may wait for completions */
	return false;
}

/* As Linux's datagram_poll. */
static short udp_poll(struct xm_sock *s)
{
	short ev = 0;

	if (s->pcb.udp.rxq_head)
		ev |= POLLIN;
	if (s->shut & XM_SHUT_RD)
		ev |= POLLIN | POLLRDHUP;
	if (s->shut == (XM_SHUT_RD | XM_SHUT_WR))
		ev |= POLLHUP;
	if (udp_writable(s))
		ev |= POLLOUT;
	if (s->so_error)
		ev |= POLLERR;
	return ev;
}

static int udp_shutdown(struct xm_sock *s, int how)
{
	s->shut |= (uint8_t)(how + 1);   /* SHUT_RD 0, SHUT_WR 1, SHUT_RDWR 2 */
	/* Linux (inet_shutdown) marks an unconnected socket shut too, to
	 * wake its pollers, and still reports ENOTCONN. */
	return s->connected ? 0 : -ENOTCONN;
}

/* No UDP-level options are served; the errno for the rest is Linux's:
 * an IPv4 socket's unknown level ends in ip_getsockopt (EOPNOTSUPP), the
 * rest in ENOPROTOOPT. */
static int udp_getsockopt(struct xm_sock *s, int level, int name, void *val,
			  socklen_t *len)
{
	(void)name;
	(void)val;
	(void)len;
	if (s->domain == AF_INET && level != SOL_SOCKET && level != IPPROTO_IP &&
	    level != IPPROTO_UDP)
		return -EOPNOTSUPP;
	return -ENOPROTOOPT;
}

/* As Linux's udp_ioctl: SIOCINQ the next datagram's payload, SIOCOUTQ
 * the bytes sent and not yet given back by the device. */
static int udp_ioctl(struct xm_sock *s, unsigned long req, int *out)
{
	switch (req) {
	case SIOCINQ:
		*out = s->pcb.udp.rxq_head ? (int)s->pcb.udp.rxq_head->len : 0;
		return 0;
	case SIOCOUTQ:
		if (s->pcb.udp.wmem)
			xm_tx_reap(s->st);
		*out = s->pcb.udp.wmem ? (int)s->pcb.udp.wmem->bytes : 0;
		return 0;
	}
	return -ENOTTY;
}

static int udp_close(struct xm_sock *s)
{
	struct xm_udp_pcb *u = &s->pcb.udp;

	if (s->bound)
		xm_ports_detach(s->st, &s->st->udp_ports, s);
	while (u->rxq_head) {
		struct xm_dgram *d = u->rxq_head;

		u->rxq_head = d->next;
		free(d);
	}
	u->rxq_tail = NULL;
	u->rxq_bytes = 0;
	u->rxq_count = 0;
	xm_wmem_orphan(u->wmem);   /* what is in flight still releases it */
	u->wmem = NULL;
	return 0;
}

const struct xm_proto xm_proto_udp = {
	.type = SOCK_DGRAM,
	.ipproto = IPPROTO_UDP,
	.input = udp_input,
	.bind = udp_bind,
	.connect = udp_connect,
	.sendto = udp_sendto,
	.recvfrom = udp_recvfrom,
	.poll = udp_poll,
	.shutdown = udp_shutdown,
	.getsockopt = udp_getsockopt,
	.ioctl = udp_ioctl,
	.close = udp_close,
};
