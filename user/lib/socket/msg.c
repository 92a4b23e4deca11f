// SPDX-License-Identifier: MIT
/*
 * recvmsg / sendmsg: scatter/gather and ancillary data, as Linux's
 * udp_recvmsg / udp_sendmsg and their IPv6 twins give and take it.
 *
 * Received (each when its option is set, in the kernel's order):
 * SO_TIMESTAMP / SO_TIMESTAMPNS (when the stack took the datagram in; for
 * TCP when the last data came), IP_PKTINFO, IP_TTL, IP_TOS on IPv4, and
 * IPV6_PKTINFO, IPV6_HOPLIMIT, IPV6_TCLASS on IPv6 (an IPv4 datagram on a
 * dual-stack socket gives IPV6_PKTINFO with its mapped address). A control
 * buffer too short for them sets MSG_CTRUNC and keeps what fits, as
 * put_cmsg().
 *
 * Sent: IP_PKTINFO / IPV6_PKTINFO (the source address: one of the
 * device's, else EINVAL as Linux's route lookup; the interface: ours or
 * 0), IP_TOS / IPV6_TCLASS and IP_TTL / IPV6_HOPLIMIT for one datagram.
 * Any other control message of the IP level or SOL_SOCKET fails with
 * EINVAL, as the kernel's ip_cmsg_send / __sock_cmsg_send do for what they
 * do not know; other levels are skipped, as the kernel skips them. A
 * stream takes only SOL_SOCKET messages (none of which are served here).
 */
#define _GNU_SOURCE
#include <errno.h>
#include <netinet/in.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <time.h>

#include "../core/stack.h"
#include "sock.h"
#include "sockaddr.h"

#define DGRAM_MAX 65536

static int fail(int err)
{
	errno = -err;
	return -1;
}

/* Append one control message, as Linux's put_cmsg: what does not fit is
 * cut and flagged MSG_CTRUNC. */
struct cbuf {
	struct msghdr *m;
	size_t used;
};

static void put_cmsg(struct cbuf *c, int level, int type, const void *data, size_t len)
{
	struct msghdr *m = c->m;
	size_t room = m->msg_controllen - c->used, clen = CMSG_LEN(len), space;
	struct cmsghdr h = { .cmsg_level = level, .cmsg_type = type };
	uint8_t *at = (uint8_t *)m->msg_control + c->used;

	if (!m->msg_control || room < sizeof(h)) {
		m->msg_flags |= MSG_CTRUNC;
		return;
	}
	if (room < clen) {
		m->msg_flags |= MSG_CTRUNC;
		clen = room;
	}
	h.cmsg_len = clen;   /* the cut length, as Linux */
	memcpy(at, &h, sizeof(h));
	memcpy(at + CMSG_LEN(0), data, clen - CMSG_LEN(0));
	space = CMSG_SPACE(len);
	c->used += space < room ? space : room;
}

static void put_int(struct cbuf *c, int level, int type, int v)
{
	put_cmsg(c, level, type, &v, sizeof(v));
}

static void put_timestamp(struct cbuf *c, const struct xm_sock *s, uint64_t rx_ns)
{
	struct timespec now;
	uint64_t age = xm_now(s->st) - rx_ns, real_ns;

	if (!rx_ns || clock_gettime(CLOCK_REALTIME, &now) < 0)
		return;
	real_ns = (uint64_t)now.tv_sec * 1000000000ULL + (uint64_t)now.tv_nsec - age;
	if (s->rx_cmsgs & XM_RX_TIMESTAMPNS) {
		struct timespec ts = { .tv_sec = (time_t)(real_ns / 1000000000ULL),
				       .tv_nsec = (long)(real_ns % 1000000000ULL) };

		put_cmsg(c, SOL_SOCKET, SO_TIMESTAMPNS, &ts, sizeof(ts));
	} else {
		struct timeval tv = { .tv_sec = (time_t)(real_ns / 1000000000ULL),
				      .tv_usec = (suseconds_t)(real_ns % 1000000000ULL / 1000) };

		put_cmsg(c, SOL_SOCKET, SO_TIMESTAMP, &tv, sizeof(tv));
	}
}

static void put_ip_cmsgs(struct cbuf *c, const struct xm_sock *s,
			 const struct xm_pktmeta *pm)
{
	uint16_t want = s->rx_cmsgs;
	int ifindex = s->st->info.ifindex;

	if (pm->family == AF_INET) {
		if (want & XM_RX_PKTINFO) {
			struct in_pktinfo pi = { .ipi_ifindex = ifindex };

			memcpy(&pi.ipi_spec_dst, pm->dst, 4);
			memcpy(&pi.ipi_addr, pm->dst, 4);
			put_cmsg(c, IPPROTO_IP, IP_PKTINFO, &pi, sizeof(pi));
		}
		if (want & XM_RX_TTL)
			put_int(c, IPPROTO_IP, IP_TTL, pm->hop_limit);
		if (want & XM_RX_TOS) {
			uint8_t tos = (uint8_t)pm->tos;   /* one byte, as Linux */

			put_cmsg(c, IPPROTO_IP, IP_TOS, &tos, 1);
		}
	}
	if (s->domain != AF_INET6)
		return;
	if (want & XM_RX_PKTINFO6) {
		struct in6_pktinfo pi = { .ipi6_ifindex = (unsigned)ifindex };

		if (pm->family == AF_INET) {
			pi.ipi6_addr.s6_addr[10] = pi.ipi6_addr.s6_addr[11] = 0xff;
			memcpy(&pi.ipi6_addr.s6_addr[12], pm->dst, 4);
		} else {
			memcpy(&pi.ipi6_addr, pm->dst, 16);
		}
		put_cmsg(c, IPPROTO_IPV6, IPV6_PKTINFO, &pi, sizeof(pi));
	}
	if (pm->family != AF_INET6)
		return;
	if (want & XM_RX_HOPLIMIT)
		put_int(c, IPPROTO_IPV6, IPV6_HOPLIMIT, pm->hop_limit);
	if (want & XM_RX_TCLASS)
		put_int(c, IPPROTO_IPV6, IPV6_TCLASS, pm->tos);
}

static size_t iov_total(const struct msghdr *m)
{
	size_t n = 0;

	for (size_t i = 0; i < m->msg_iovlen; i++)
		n += m->msg_iov[i].iov_len;
	return n;
}

static void scatter(const struct msghdr *m, const uint8_t *p, size_t n)
{
	for (size_t i = 0; i < m->msg_iovlen && n; i++) {
		size_t k = m->msg_iov[i].iov_len < n ? m->msg_iov[i].iov_len : n;

		memcpy(m->msg_iov[i].iov_base, p, k);
		p += k;
		n -= k;
	}
}

/* A stream fills the iovecs in order, waiting only for the first bytes. */
static ssize_t recv_stream(struct xm_sock *s, struct msghdr *m, int flags,
			   struct xm_pktmeta *pm)
{
	size_t total = 0;
	ssize_t r;

	for (size_t i = 0; i < m->msg_iovlen; i++) {
		struct iovec *v = &m->msg_iov[i];

		if (!v->iov_len)
			continue;
		r = xm_sock_recvfrom(s, v->iov_base, v->iov_len,
				     total ? flags | MSG_DONTWAIT : flags, NULL, pm);
		if (r <= 0)
			return total ? (ssize_t)total : r;
		total += (size_t)r;
		if ((size_t)r < v->iov_len || (flags & MSG_PEEK))
			break;
	}
	return (ssize_t)total;
}

/* A datagram is taken whole (MSG_TRUNC in msg_flags when it did not
 * fit; with MSG_TRUNC in flags its full length is returned). */
static ssize_t recv_dgram(struct xm_sock *s, struct msghdr *m, int flags,
			  struct xm_ep *from, struct xm_pktmeta *pm)
{
	size_t cap = iov_total(m);
	uint8_t *tmp = NULL, *buf;
	ssize_t r;

	if (m->msg_iovlen == 1) {
		buf = m->msg_iov[0].iov_base;
	} else {
		cap = cap < DGRAM_MAX ? cap : DGRAM_MAX;
		buf = tmp = malloc(cap ? cap : 1);
		if (!tmp)
			return -ENOMEM;
	}
	r = xm_sock_recvfrom(s, buf, cap, flags | MSG_TRUNC, from, pm);
	if (r >= 0) {
		size_t got = (size_t)r < cap ? (size_t)r : cap;

		if (tmp)
			scatter(m, tmp, got);
		if ((size_t)r > cap)
			m->msg_flags |= MSG_TRUNC;
		if (!(flags & MSG_TRUNC))
			r = (ssize_t)got;
	}
	free(tmp);
	return r;
}

ssize_t xm_recvmsg(int fd, struct msghdr *m, int flags)
{
	struct xm_sock *s = xm_fd_get(fd);
	struct xm_pktmeta pm = { 0 };
	struct xm_ep from = { 0 };
	struct cbuf c;
	ssize_t r;

	if (!s)
		return -1;
	if (!m || (m->msg_iovlen && !m->msg_iov))
		return fail(-EFAULT);
	m->msg_flags = 0;
	r = s->type == SOCK_STREAM ? recv_stream(s, m, flags, &pm)
				   : recv_dgram(s, m, flags, &from, &pm);
	if (r < 0)
		return fail((int)r);
	if (m->msg_name && s->type != SOCK_STREAM) {
		int e = xm_sockaddr_fill(s, &from, m->msg_name, &m->msg_namelen);

		if (e < 0)
			return fail(e);
	} else {
		m->msg_namelen = 0;
	}
	c.m = m;
	c.used = 0;
	if (s->rx_cmsgs & (XM_RX_TIMESTAMP | XM_RX_TIMESTAMPNS))
		put_timestamp(&c, s, pm.rx_ns);
	if (s->type != SOCK_STREAM)
		put_ip_cmsgs(&c, s, &pm);
	m->msg_controllen = c.used;
	return r;
}

/* One control message of a send into pm; -EINVAL as the kernel for what
 * it does not know or a bad value, 0 also for what it skips. */
static int take_cmsg(const struct xm_sock *s, const struct cmsghdr *h,
		     struct xm_pktmeta *pm)
{
	size_t dlen = h->cmsg_len - CMSG_LEN(0);
	const uint8_t *d = CMSG_DATA(h);
	int v = 0;

	if (h->cmsg_level == SOL_SOCKET)
		return -EINVAL;
	if (s->type == SOCK_STREAM)
		return 0;
	if (h->cmsg_level == IPPROTO_IP) {
		if (h->cmsg_type == IP_PKTINFO) {
			struct in_pktinfo pi;

			if (dlen != sizeof(pi))
				return -EINVAL;
			memcpy(&pi, d, sizeof(pi));
			if (pi.ipi_ifindex && pi.ipi_ifindex != s->st->info.ifindex)
				return -ENODEV;   /* not our device: not ours to send on */
			if (pi.ipi_spec_dst.s_addr) {
				memcpy(pm->src, &pi.ipi_spec_dst, 4);
				pm->has_src = true;
			}
			return 0;
		}
		if (h->cmsg_type != IP_TOS && h->cmsg_type != IP_TTL)
			return -EINVAL;
		if (dlen == sizeof(int))
			memcpy(&v, d, sizeof(v));
		else if (dlen == 1 && h->cmsg_type == IP_TOS)
			v = d[0];
		else
			return -EINVAL;
		if (v < (h->cmsg_type == IP_TTL ? 1 : 0) || v > 255)
			return -EINVAL;
		if (h->cmsg_type == IP_TOS)
			pm->tos = v;
		else
			pm->hop_limit = v;
		return 0;
	}
	if (h->cmsg_level != IPPROTO_IPV6 || s->domain != AF_INET6)
		return 0;
	if (h->cmsg_type == IPV6_PKTINFO) {
		struct in6_pktinfo pi;
		static const uint8_t zero[16];

		if (dlen < sizeof(pi))
			return -EINVAL;
		memcpy(&pi, d, sizeof(pi));
		if (pi.ipi6_ifindex && (int)pi.ipi6_ifindex != s->st->info.ifindex)
			return -ENODEV;
		if (memcmp(&pi.ipi6_addr, zero, 16)) {
			memcpy(pm->src, &pi.ipi6_addr, 16);
			pm->has_src = true;
		}
		return 0;
	}
	if (h->cmsg_type != IPV6_TCLASS && h->cmsg_type != IPV6_HOPLIMIT)
		return -EINVAL;
	if (dlen != sizeof(int))
		return -EINVAL;
	memcpy(&v, d, sizeof(v));
	if (v < -1 || v > 255)
		return -EINVAL;
	if (h->cmsg_type == IPV6_TCLASS)
		pm->tos = v < 0 ? 0 : v;
	else
		pm->hop_limit = v;   /* -1: the socket's */
	return 0;
}

/* The source asked for must be one of ours, in the destination's family
 * (a mapped IPv6 source for an IPv4 peer). */
static int check_src(const struct xm_sock *s, const struct xm_ep *to,
		     struct xm_pktmeta *pm)
{
	static const uint8_t mapped[12] = { [10] = 0xff, [11] = 0xff };

	if (!pm->has_src)
		return 0;
	if (to->family == AF_INET && s->domain == AF_INET6) {
		if (memcmp(pm->src, mapped, 12))
			return -EINVAL;
		memmove(pm->src, pm->src + 12, 4);
	}
	return xm_ip_is_local(s->st, to->family, pm->src) ? 0 : -EINVAL;
}

ssize_t xm_sendmsg(int fd, const struct msghdr *m, int flags)
{
	struct xm_sock *s = xm_fd_get(fd);
	struct xm_pktmeta pm = { .tos = -1, .hop_limit = -1 };
	struct xm_ep ep, *to = NULL;
	size_t total, off = 0;
	uint8_t *buf;
	ssize_t r;

	if (!s)
		return -1;
	if (!m || (m->msg_iovlen && !m->msg_iov) || (m->msg_controllen && !m->msg_control))
		return fail(-EFAULT);
	if (m->msg_name && s->type != SOCK_STREAM) {
		r = xm_sockaddr_parse(s, m->msg_name, m->msg_namelen, XM_ADDR_SENDTO, &ep);
		if (r < 0)
			return fail((int)r);
		to = &ep;
	}
	for (struct cmsghdr *h = CMSG_FIRSTHDR(m); h; h = CMSG_NXTHDR((struct msghdr *)m, h)) {
		if (h->cmsg_len < CMSG_LEN(0))
			return fail(-EINVAL);
		r = take_cmsg(s, h, &pm);
		if (r < 0)
			return fail((int)r);
	}
	if (pm.has_src) {
		const struct xm_ep *dst = to ? to : &s->peer;

		if (!dst->family)
			return fail(-EDESTADDRREQ);
		if ((r = check_src(s, dst, &pm)) < 0)
			return fail((int)r);
	}
	total = iov_total(m);
	if (s->type == SOCK_STREAM) {
		/* the iovecs in order; only the first send may wait */
		r = 0;
		for (size_t i = 0; i < m->msg_iovlen; i++) {
			const struct iovec *v = &m->msg_iov[i];

			if (!v->iov_len)
				continue;
			r = xm_sock_sendto(s, v->iov_base, v->iov_len,
					   off ? flags | MSG_DONTWAIT : flags, NULL, NULL);
			if (r < 0)
				break;
			off += (size_t)r;
			if ((size_t)r < v->iov_len)
				break;
		}
		return off ? (ssize_t)off : r < 0 ? fail((int)r) : 0;
	}
	if (m->msg_iovlen <= 1) {
		r = xm_sock_sendto(s, m->msg_iovlen ? m->msg_iov[0].iov_base : NULL,
				   total, flags, to, &pm);
		return r < 0 ? fail((int)r) : r;
	}
	if (total > DGRAM_MAX)
		return fail(-EMSGSIZE);
	buf = malloc(total ? total : 1);
	if (!buf)
		return fail(-ENOBUFS);
	for (size_t i = 0; i < m->msg_iovlen; i++) {
		memcpy(buf + off, m->msg_iov[i].iov_base, m->msg_iov[i].iov_len);
		off += m->msg_iov[i].iov_len;
	}
	r = xm_sock_sendto(s, buf, total, flags, to, &pm);
	free(buf);
	return r < 0 ? fail((int)r) : r;
}
