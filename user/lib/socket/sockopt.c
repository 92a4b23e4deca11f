// SPDX-License-Identifier: MIT
/*
 * Socket options and descriptor flags. Buffer sizes follow Linux: the value
 * set is doubled (the kernel counts its own overhead) with the same minimums
 * (SOCK_MIN_RCVBUF 2304, SOCK_MIN_SNDBUF 4608); unlike Linux they are not
 * capped at net.core.rmem_max, since this stack's memory is the
 * application's own. Unknown options fail with ENOPROTOOPT.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <netinet/in.h>
#include <stdarg.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/time.h>

#include "../core/stack.h"
#include "sock.h"

#define XM_MIN_RCVBUF 2304
#define XM_MIN_SNDBUF 4608

static int fail(int err)
{
	errno = -err;
	return -1;
}

static uint32_t buf_size(int v, uint32_t min)
{
	uint64_t d;

	if (v < 0)
		v = 0;
	d = (uint64_t)v * 2;
	if (d > INT_MAX)
		d = INT_MAX;
	return d < min ? min : (uint32_t)d;
}

static int get_timeo(const void *val, socklen_t len, uint64_t *ns)
{
	struct timeval tv;

	if (len < (socklen_t)sizeof(tv))
		return -EINVAL;
	memcpy(&tv, val, sizeof(tv));
	if (tv.tv_usec < 0 || tv.tv_usec >= 1000000)
		return -EDOM;   /* as Linux sock_set_timeout */
	if (tv.tv_sec < 0) {
		*ns = 0;
		return 0;
	}
	*ns = (uint64_t)tv.tv_sec * 1000000000ULL + (uint64_t)tv.tv_usec * 1000;
	return 0;
}

/* Options that ask recvmsg for ancillary data: the XM_RX_ bit of
 * level/name, 0 for another option. IPv6 ones only on IPv6 sockets (an
 * IPv4 socket's IPPROTO_IPV6 level is ENOPROTOOPT, as Linux). */
static uint16_t rx_cmsg_bit(const struct xm_sock *s, int level, int name)
{
	if (level == SOL_SOCKET)
		return name == SO_TIMESTAMP ? XM_RX_TIMESTAMP
		       : name == SO_TIMESTAMPNS ? XM_RX_TIMESTAMPNS : 0;
	if (level == IPPROTO_IP)
		return name == IP_PKTINFO ? XM_RX_PKTINFO
		       : name == IP_RECVTOS ? XM_RX_TOS
		       : name == IP_RECVTTL ? XM_RX_TTL : 0;
	if (level == IPPROTO_IPV6 && s->domain == AF_INET6)
		return name == IPV6_RECVPKTINFO ? XM_RX_PKTINFO6
		       : name == IPV6_RECVTCLASS ? XM_RX_TCLASS
		       : name == IPV6_RECVHOPLIMIT ? XM_RX_HOPLIMIT : 0;
	return 0;
}

/* The IP header fields a socket sends with, as Linux checks them:
 * IP_TOS any byte (a stream keeps the ECN bits for TCP), IPV6_TCLASS and
 * the hop limits -1 (the default) to 255, IP_TTL 1 to 255 or -1. */
static int set_ip_field(struct xm_sock *s, int level, int name, int v)
{
	bool v6 = level == IPPROTO_IPV6;

	if (v6 && s->domain != AF_INET6)
		return -ENOPROTOOPT;
	if ((name == IP_MTU_DISCOVER && !v6) || (name == IPV6_MTU_DISCOVER && v6)) {
		/* IP_PMTUDISC_DONT .. OMIT, the same numbers for IPv6 */
		if (v < IP_PMTUDISC_DONT || v > IP_PMTUDISC_OMIT)
			return -EINVAL;
		s->pmtudisc = (uint8_t)v;
		return 0;
	}
	if ((name == IP_RECVERR && !v6) || (name == IPV6_RECVERR && v6)) {
		/* ICMP errors reach the kernel, not the stack: the queue
		 * this asks for stays empty (MSG_ERRQUEUE: EAGAIN). */
		s->recverr = v != 0;
		return 0;
	}
	if ((name == IP_TOS && !v6) || (name == IPV6_TCLASS && v6)) {
		if (v6 && (v < -1 || v > 255))
			return -EINVAL;
		s->tos = (uint8_t)(v < 0 ? 0 : v);
		return 0;
	}
	if (v < -1 || v > 255 || (!v6 && v == 0))
		return -EINVAL;
	s->hop_limit = (uint8_t)(v < 0 ? 0 : v);
	return 0;
}

/* Options kept on the socket as an int-sized value of the IP level:
 * header fields, path MTU discovery, the (always empty) error queue. */
static bool is_ip_field(int level, int name)
{
	return (level == IPPROTO_IP && (name == IP_TOS || name == IP_TTL ||
					name == IP_MTU_DISCOVER || name == IP_RECVERR)) ||
	       (level == IPPROTO_IPV6 && (name == IPV6_TCLASS || name == IPV6_UNICAST_HOPS ||
					  name == IPV6_MTU_DISCOVER || name == IPV6_RECVERR));
}

int xm_setsockopt(int fd, int level, int name, const void *val, socklen_t len)
{
	uint16_t bit;
	struct xm_sock *s = xm_fd_get(fd);
	int v = 0, r;

	if (!s)
		return -1;
	if (len && !val)
		return fail(-EFAULT);
	if (level == SOL_SOCKET && (name == SO_RCVTIMEO || name == SO_SNDTIMEO)) {
		r = get_timeo(val, len, name == SO_RCVTIMEO ? &s->rcvtimeo_ns
							  : &s->sndtimeo_ns);
		return r < 0 ? fail(r) : 0;
	}
	bit = rx_cmsg_bit(s, level, name);
	if (level == SOL_SOCKET || (level == IPPROTO_IPV6 && name == IPV6_V6ONLY) ||
	    bit || is_ip_field(level, name)) {
		if (level == IPPROTO_IP && len >= 1 && len < (socklen_t)sizeof(int))
			v = *(const uint8_t *)val;   /* Linux takes a byte at SOL_IP */
		else if (len < (socklen_t)sizeof(int))
			return fail(-EINVAL);
		else
			memcpy(&v, val, sizeof(v));
	}
	if (bit) {
		/* SO_TIMESTAMPNS replaces SO_TIMESTAMP and back, as Linux */
		if (bit & (XM_RX_TIMESTAMP | XM_RX_TIMESTAMPNS))
			s->rx_cmsgs &= (uint16_t)~(XM_RX_TIMESTAMP | XM_RX_TIMESTAMPNS);
		s->rx_cmsgs = v ? (uint16_t)(s->rx_cmsgs | bit)
				: (uint16_t)(s->rx_cmsgs & ~bit);
		return 0;
	}
	if (is_ip_field(level, name)) {
		r = set_ip_field(s, level, name, v);
		return r < 0 ? fail(r) : 0;
	}
	if (level == SOL_SOCKET) {
		switch (name) {
		case SO_RCVBUF:
		case SO_RCVBUFFORCE:   /* the same here: nothing caps SO_RCVBUF */
			s->rcvbuf = buf_size(v, XM_MIN_RCVBUF);
			return 0;
		case SO_SNDBUF:
		case SO_SNDBUFFORCE:
			s->sndbuf = buf_size(v, XM_MIN_SNDBUF);
			return 0;
		case SO_REUSEADDR:
			s->reuseaddr = !!v;
			return 0;
		case SO_REUSEPORT:
			s->reuseport = !!v;
			return 0;
		case SO_PRIORITY:
			/* Linux's only use of it is the qdisc, which AF_XDP
			 * transmits bypass: kept to be read back. */
			s->priority = v;
			return 0;
		case SO_RCVLOWAT:
			/* Readiness and reads wait for one byte, Linux's
			 * default; a larger mark is not served. */
			return v <= 1 ? 0 : fail(-ENOPROTOOPT);
		}
	} else if (level == IPPROTO_IPV6 && name == IPV6_V6ONLY) {
		if (s->domain != AF_INET6)
			return fail(-ENOPROTOOPT);
		if (s->bound)
			return fail(-EINVAL);   /* as Linux: only before bind */
		s->v6only = !!v;
		return 0;
	}
	/* The protocol's own options (TCP_NODELAY, SO_KEEPALIVE, ...). */
	r = s->proto->setsockopt ? s->proto->setsockopt(s, level, name, val, len)
				 : -ENOPROTOOPT;
	return r < 0 ? fail(r) : 0;
}

static int proto_getsockopt(struct xm_sock *s, int level, int name, void *val,
			    socklen_t *len)
{
	int r = s->proto->getsockopt ? s->proto->getsockopt(s, level, name, val, len)
				     : -ENOPROTOOPT;

	return r < 0 ? fail(r) : 0;
}

int xm_getsockopt(int fd, int level, int name, void *val, socklen_t *len)
{
	struct xm_sock *s = xm_fd_get(fd);
	socklen_t n;
	int v;

	if (!s)
		return -1;
	if (!len || !val)
		return fail(-EFAULT);
	if ((int)*len < 0)
		return fail(-EINVAL);
	if (level == SOL_SOCKET && (name == SO_RCVTIMEO || name == SO_SNDTIMEO)) {
		uint64_t ns = name == SO_RCVTIMEO ? s->rcvtimeo_ns : s->sndtimeo_ns;
		struct timeval tv = { .tv_sec = (time_t)(ns / 1000000000ULL),
				      .tv_usec = (suseconds_t)(ns % 1000000000ULL / 1000) };

		n = *len < (socklen_t)sizeof(tv) ? *len : (socklen_t)sizeof(tv);
		memcpy(val, &tv, n);
		*len = n;
		return 0;
	}
	if (rx_cmsg_bit(s, level, name)) {
		v = !!(s->rx_cmsgs & rx_cmsg_bit(s, level, name));
	} else if (level == IPPROTO_IP && name == IP_TOS) {
		v = s->tos;
	} else if (level == IPPROTO_IP && name == IP_TTL) {
		v = s->hop_limit ? s->hop_limit : XM_IP_TTL_DEFAULT;
	} else if ((level == IPPROTO_IP && name == IP_MTU_DISCOVER) ||
		   (level == IPPROTO_IPV6 && name == IPV6_MTU_DISCOVER && s->domain == AF_INET6)) {
		v = s->pmtudisc;
	} else if ((level == IPPROTO_IP && name == IP_RECVERR) ||
		   (level == IPPROTO_IPV6 && name == IPV6_RECVERR && s->domain == AF_INET6)) {
		v = s->recverr;
	} else if ((level == IPPROTO_IP && name == IP_MTU) ||
		   (level == IPPROTO_IPV6 && name == IPV6_MTU && s->domain == AF_INET6)) {
		if (!s->connected)
			return fail(-ENOTCONN);   /* as Linux: the path's, once known */
		v = (int)s->st->info.mtu;
	} else if (level == IPPROTO_IPV6 && s->domain == AF_INET6 &&
		   (name == IPV6_TCLASS || name == IPV6_UNICAST_HOPS)) {
		v = name == IPV6_TCLASS ? s->tos
		    : s->hop_limit ? s->hop_limit : XM_IP_TTL_DEFAULT;
	} else if (level == SOL_SOCKET) {
		switch (name) {
		case SO_PRIORITY: v = s->priority; break;
		case SO_RCVLOWAT: v = 1; break;
		case SO_RCVBUF: v = (int)s->rcvbuf; break;
		case SO_SNDBUF: v = (int)s->sndbuf; break;
		case SO_REUSEADDR: v = s->reuseaddr; break;
		case SO_REUSEPORT: v = s->reuseport; break;
		case SO_TYPE: v = s->type; break;
		case SO_DOMAIN: v = s->domain; break;
		case SO_PROTOCOL: v = s->proto->ipproto; break;
		case SO_ERROR: v = s->so_error; s->so_error = 0; break;
		default: return proto_getsockopt(s, level, name, val, len);
		}
	} else if (level == IPPROTO_IPV6 && name == IPV6_V6ONLY &&
		   s->domain == AF_INET6) {
		v = s->v6only;
	} else {
		return proto_getsockopt(s, level, name, val, len);
	}
	n = *len < (socklen_t)sizeof(v) ? *len : (socklen_t)sizeof(v);
	memcpy(val, &v, n);
	*len = n;
	return 0;
}

int xm_ioctl(int fd, unsigned long req, int *arg)
{
	struct xm_sock *s = xm_fd_get(fd);
	int r;

	if (!s)
		return -1;
	if (!arg)
		return fail(-EFAULT);
	if (req == FIONBIO) {
		s->nonblock = *arg != 0;
		return 0;
	}
	r = s->proto->ioctl ? s->proto->ioctl(s, req, arg) : -ENOTTY;
	return r < 0 ? fail(r) : 0;
}

int xm_fcntl(int fd, int cmd, ...)
{
	struct xm_sock *s = xm_fd_get(fd);
	va_list ap;
	int arg;

	if (!s)
		return -1;
	switch (cmd) {
	case F_GETFL:
		return O_RDWR | (s->nonblock ? O_NONBLOCK : 0);
	case F_SETFL:
		va_start(ap, cmd);
		arg = va_arg(ap, int);
		va_end(ap);
		s->nonblock = !!(arg & O_NONBLOCK);
		return 0;
	case F_GETFD:
	case F_SETFD:
		return 0;   /* no exec: close-on-exec is moot */
	}
	return fail(-EINVAL);
}
