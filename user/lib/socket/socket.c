// SPDX-License-Identifier: MIT
/*
 * The socket calls: argument checks with the errno Linux gives, fd lookup,
 * blocking (drive the stack while waiting), then the protocol's ops.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "../core/stack.h"
#include "sock.h"
#include "sockaddr.h"

static __thread struct xm_stack *current_stack;

void xm_stack_use(struct xm_stack *st)
{
	current_stack = st;
}

static int fail(int err)
{
	errno = -err;
	return -1;
}

int xm_socket_on(struct xm_stack *st, int domain, int type, int protocol)
{
	const struct xm_proto *p;
	struct xm_sock *s;
	int r;

	if (!st)
		return fail(-EINVAL);
	r = xm_proto_find(domain, type, protocol, &p);
	if (r < 0)
		return fail(r);
	s = calloc(1, sizeof(*s));
	if (!s)
		return fail(-ENOMEM);
	s->st = st;
	s->proto = p;
	s->domain = domain;
	s->type = p->type;
	s->nonblock = !!(type & SOCK_NONBLOCK);
	s->rcvbuf = st->opts.rcvbuf_default;
	s->sndbuf = st->opts.sndbuf_default;
	s->local.family = domain;
	r = xm_fd_alloc(s);
	if (r < 0) {
		free(s);
		return fail(r);
	}
	s->st_next = st->socks;
	if (st->socks)
		st->socks->st_pprev = &s->st_next;
	s->st_pprev = &st->socks;
	st->socks = s;
	return s->fd;
}

int xm_socket(int domain, int type, int protocol)
{
	return xm_socket_on(current_stack, domain, type, protocol);
}

static void sock_destroy(struct xm_sock *s)
{
	s->proto->close(s);
	*s->st_pprev = s->st_next;
	if (s->st_next)
		s->st_next->st_pprev = s->st_pprev;
	xm_fd_free(s->fd);
	free(s);
}

int xm_close(int fd)
{
	struct xm_sock *s = xm_fd_get(fd);

	if (!s)
		return -1;
	sock_destroy(s);
	return 0;
}

void xm_socks_close_all(struct xm_stack *st)
{
	while (st->socks)
		sock_destroy(st->socks);
}

int xm_bind(int fd, const struct sockaddr *addr, socklen_t len)
{
	struct xm_sock *s = xm_fd_get(fd);
	struct xm_ep ep;
	int r;

	if (!s)
		return -1;
	r = xm_sockaddr_parse(s, addr, len, XM_ADDR_BIND, &ep);
	if (r < 0)
		return fail(r);
	if (s->bound)
		return fail(-EINVAL);
	r = s->proto->bind(s, &ep);
	return r < 0 ? fail(r) : 0;
}

int xm_connect(int fd, const struct sockaddr *addr, socklen_t len)
{
	struct xm_sock *s = xm_fd_get(fd);
	struct xm_ep ep;
	int r;

	if (!s)
		return -1;
	r = xm_sockaddr_parse(s, addr, len, XM_ADDR_CONNECT, &ep);
	if (r < 0)
		return fail(r);
	r = s->proto->connect(s, &ep);
	return r < 0 ? fail(r) : 0;
}

int xm_listen(int fd, int backlog)
{
	struct xm_sock *s = xm_fd_get(fd);
	int r;

	if (!s)
		return -1;
	if (!s->proto->listen)
		return fail(-EOPNOTSUPP);
	r = s->proto->listen(s, backlog);
	return r < 0 ? fail(r) : 0;
}

int xm_accept(int fd, struct sockaddr *addr, socklen_t *len)
{
	struct xm_sock *s = xm_fd_get(fd), *c;
	int r;

	if (!s)
		return -1;
	if (!s->proto->accept)
		return fail(-EOPNOTSUPP);
	r = s->proto->accept(s, &c);
	if (r < 0)
		return fail(r);
	if (addr && len)
		xm_sockaddr_fill(c, &c->peer, addr, len);
	return c->fd;
}

static uint64_t deadline_after(struct xm_stack *st, uint64_t timeout_ns)
{
	return timeout_ns ? xm_now(st) + timeout_ns : UINT64_MAX;
}

/* One step of a blocking call: poll once, wait if still nothing. Returns 0
 * to retry, or -errno (EAGAIN when the deadline passed). */
static int block_step(struct xm_stack *st, bool nonblock, bool *polled,
		      uint64_t deadline)
{
	int r;

	if (!*polled) {
		/* Even a non-blocking call looks at the link once, so a
		 * program without an event loop still makes progress. */
		*polled = true;
		r = xm_stack_poll(st);
		return r < 0 ? r : 0;
	}
	if (nonblock || xm_now(st) >= deadline)
		return -EAGAIN;
	r = xm_stack_wait(st, deadline);
	if (r < 0)
		return r;
	r = xm_stack_poll(st);
	return r < 0 ? r : 0;
}

ssize_t xm_sendto(int fd, const void *buf, size_t len, int flags,
		  const struct sockaddr *to, socklen_t tolen)
{
	struct xm_sock *s = xm_fd_get(fd);
	struct xm_ep ep, *pep = NULL;
	bool polled = true;   /* sending needs no prior receive */
	uint64_t deadline;
	ssize_t r;

	if (!s)
		return -1;
	if (flags & MSG_OOB)
		return fail(-EOPNOTSUPP);
	if (to) {
		r = xm_sockaddr_parse(s, to, tolen, XM_ADDR_SENDTO, &ep);
		if (r < 0)
			return fail((int)r);
		pep = &ep;
	}
	if (len && !buf)
		return fail(-EFAULT);
	deadline = deadline_after(s->st, s->sndtimeo_ns);
	for (;;) {
		r = s->proto->sendto(s, buf, len, flags, pep);
		if (r != -EAGAIN)
			break;
		r = block_step(s->st, s->nonblock || (flags & MSG_DONTWAIT),
			       &polled, deadline);
		if (r < 0)
			break;
	}
	return r < 0 ? fail((int)r) : r;
}

ssize_t xm_send(int fd, const void *buf, size_t len, int flags)
{
	return xm_sendto(fd, buf, len, flags, NULL, 0);
}

ssize_t xm_recvfrom(int fd, void *buf, size_t len, int flags,
		    struct sockaddr *from, socklen_t *fromlen)
{
	struct xm_sock *s = xm_fd_get(fd);
	bool polled = false;
	uint64_t deadline;
	struct xm_ep ep;
	ssize_t r;

	if (!s)
		return -1;
	if (from && !fromlen)
		return fail(-EFAULT);
	deadline = deadline_after(s->st, s->rcvtimeo_ns);
	for (;;) {
		r = s->proto->recvfrom(s, buf, len, flags, &ep);
		if (r != -EAGAIN)
			break;
		r = block_step(s->st, s->nonblock || (flags & MSG_DONTWAIT),
			       &polled, deadline);
		if (r < 0)
			break;
	}
	if (r < 0)
		return fail((int)r);
	if (from) {
		int e = xm_sockaddr_fill(s, &ep, from, fromlen);

		if (e < 0)
			return fail(e);
	}
	return r;
}

ssize_t xm_recv(int fd, void *buf, size_t len, int flags)
{
	return xm_recvfrom(fd, buf, len, flags, NULL, NULL);
}

int xm_shutdown(int fd, int how)
{
	struct xm_sock *s = xm_fd_get(fd);
	int r;

	if (!s)
		return -1;
	if (how < SHUT_RD || how > SHUT_RDWR)
		return fail(-EINVAL);
	r = s->proto->shutdown(s, how);
	return r < 0 ? fail(r) : 0;
}

int xm_getsockname(int fd, struct sockaddr *addr, socklen_t *len)
{
	struct xm_sock *s = xm_fd_get(fd);
	int r;

	if (!s)
		return -1;
	r = xm_sockaddr_fill(s, &s->local, addr, len);
	return r < 0 ? fail(r) : 0;
}

int xm_getpeername(int fd, struct sockaddr *addr, socklen_t *len)
{
	struct xm_sock *s = xm_fd_get(fd);
	int r;

	if (!s)
		return -1;
	if (!s->connected)
		return fail(-ENOTCONN);
	r = xm_sockaddr_fill(s, &s->peer, addr, len);
	return r < 0 ? fail(r) : 0;
}

int xm_socket_rcvbuf_drops(int fd, uint64_t *drops)
{
	struct xm_sock *s = xm_fd_get(fd);

	if (!s)
		return -1;
	if (!drops)
		return fail(-EFAULT);
	*drops = s->type == SOCK_DGRAM ? s->pcb.udp.rcvbuf_drops : 0;
	return 0;
}
