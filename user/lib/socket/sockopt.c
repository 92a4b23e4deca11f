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

int xm_setsockopt(int fd, int level, int name, const void *val, socklen_t len)
{
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
	if (level == SOL_SOCKET || (level == IPPROTO_IPV6 && name == IPV6_V6ONLY)) {
		if (len < (socklen_t)sizeof(int))
			return fail(-EINVAL);
		memcpy(&v, val, sizeof(v));
	}
	if (level == SOL_SOCKET) {
		switch (name) {
		case SO_RCVBUF:
			s->rcvbuf = buf_size(v, XM_MIN_RCVBUF);
			return 0;
		case SO_SNDBUF:
			s->sndbuf = buf_size(v, XM_MIN_SNDBUF);
			return 0;
		case SO_REUSEADDR:
			s->reuseaddr = !!v;
			return 0;
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
	if (level == SOL_SOCKET) {
		switch (name) {
		case SO_RCVBUF: v = (int)s->rcvbuf; break;
		case SO_SNDBUF: v = (int)s->sndbuf; break;
		case SO_REUSEADDR: v = s->reuseaddr; break;
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
