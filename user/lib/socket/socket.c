// SPDX-License-Identifier: MIT
/*
 * The socket calls: argument checks with the errno Linux gives, fd lookup,
 * blocking (drive the stack while waiting), then the protocol's ops.
 */
#include <errno.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "../core/stack.h"
#include "sock.h"
#include "sockaddr.h"

static __thread struct xm_stack *current_stack;

void xm_stack_use(struct xm_stack *st)
{
	current_stack = st;
}

void xm_stack_unuse(struct xm_stack *st)
{
	if (current_stack == st)
		current_stack = NULL;
}

static int fail(int err)
{
	errno = -err;
	return -1;
}

int xm_sock_new(struct xm_stack *st, const struct xm_proto *proto, int domain,
		struct xm_sock **out)
{
	struct xm_sock *s = calloc(1, sizeof(*s));
	int r;

	if (!s)
		return -ENOMEM;
	s->st = st;
	s->proto = proto;
	s->domain = domain;
	s->type = proto->type;
	s->rcvbuf = st->opts.rcvbuf_default;
	s->sndbuf = st->opts.sndbuf_default;
	s->pmtudisc = IP_PMTUDISC_WANT;   /* Linux's default */
	s->local.family = domain;
	r = xm_fd_alloc(s);
	if (r < 0) {
		free(s);
		return r;
	}
	s->st_next = st->socks;
	if (st->socks)
		st->socks->st_pprev = &s->st_next;
	s->st_pprev = &st->socks;
	st->socks = s;
	*out = s;
	return 0;
}

void xm_sock_destroy(struct xm_sock *s)
{
	*s->st_pprev = s->st_next;
	if (s->st_next)
		s->st_next->st_pprev = s->st_pprev;
	if (s->fd >= 0)
		xm_fd_free(s->fd);
	free(s);
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
	r = xm_sock_new(st, p, domain, &s);
	if (r < 0)
		return fail(r);
	s->nonblock = !!(type & SOCK_NONBLOCK);
	return s->fd;
}

int xm_socket(int domain, int type, int protocol)
{
	return xm_socket_on(current_stack, domain, type, protocol);
}

/* The application lets go of s: its fd is gone at once; the protocol may
 * keep the socket a while (XM_SOCK_KEEP). */
static void sock_close(struct xm_sock *s)
{
	int keep = s->proto->close(s);

	if (keep == XM_SOCK_KEEP) {
		xm_fd_free(s->fd);
		s->fd = -1;
	} else {
		xm_sock_destroy(s);
	}
}

int xm_close(int fd)
{
	struct xm_sock *s = xm_fd_get(fd);

	if (!s)
		return -1;
	sock_close(s);
	return 0;
}

void xm_socks_close_all(struct xm_stack *st)
{
	struct xm_sock *s;

	/* First what the application still holds, then what the protocols
	 * kept past close: those are dropped without ceremony. A close may
	 * free other sockets (a listener's unaccepted children), so rescan. */
	for (;;) {
		for (s = st->socks; s && s->fd < 0; s = s->st_next)
			;
		if (!s)
			break;
		sock_close(s);
	}
	while ((s = st->socks)) {
		if (s->proto->destroy)
			s->proto->destroy(s);
		xm_sock_destroy(s);
	}
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
	if (r == -EINPROGRESS && !s->nonblock) {
		/* A connection-oriented protocol started a handshake: wait
		 * for it to finish (writable) or fail (error), as connect(2)
		 * does; the outcome is in so_error. */
		uint64_t deadline = deadline_after(s->st, s->sndtimeo_ns);
		bool polled = false;

		while (!(s->proto->poll(s) & (POLLOUT | POLLERR | POLLHUP))) {
			r = block_step(s->st, false, &polled, deadline);
			if (r < 0)
				return fail(r == -EAGAIN ? -EINPROGRESS : r);
		}
		r = -s->so_error;
		s->so_error = 0;
	}
	return r < 0 ? fail(r) : 0;
}

int xm_listen(int fd, int backlog)
{
	struct xm_sock *s = xm_fd_get(fd);
	int r;

	if (!s)
		return -1;
	if (!s->proto->listen)
		return fail(-EOPNOTSUPP);   /* as Linux for UDP */
	r = s->proto->listen(s, backlog);
	return r < 0 ? fail(r) : 0;
}

int xm_accept(int fd, struct sockaddr *addr, socklen_t *len)
{
	return xm_accept4(fd, addr, len, 0);
}

int xm_accept4(int fd, struct sockaddr *addr, socklen_t *len, int flags)
{
	struct xm_sock *s = xm_fd_get(fd), *c;
	bool polled = false;
	uint64_t deadline;
	int r;

	if (!s)
		return -1;
	if (flags & ~(SOCK_NONBLOCK | SOCK_CLOEXEC))
		return fail(-EINVAL);   /* as Linux accept4 */
	if (!s->proto->accept)
		return fail(-EOPNOTSUPP);
	deadline = deadline_after(s->st, s->rcvtimeo_ns);
	for (;;) {
		r = s->proto->accept(s, &c);
		if (r != -EAGAIN)
			break;
		r = block_step(s->st, s->nonblock, &polled, deadline);
		if (r < 0)
			break;
	}
	if (r < 0)
		return fail(r);
	c->nonblock = !!(flags & SOCK_NONBLOCK);
	if (addr) {
		r = xm_sockaddr_fill(c, &c->peer, addr, len);
		if (r < 0)
			return fail(r);   /* as Linux: the connection is accepted */
	}
	return c->fd;
}

/* A send of file fd's bytes from off on: straight into the protocol's
 * send buffer where it takes them so, else through a buffer here (one
 * piece of at most 64 KiB a call, as a datagram would carry). */
static ssize_t file_send(struct xm_sock *s, int fd, off_t off, size_t len,
			 int flags)
{
	uint8_t *buf;
	ssize_t n, r;

	if (s->proto->sendfile)
		return s->proto->sendfile(s, fd, off, len, flags);
	if (len > 65536)
		len = 65536;
	buf = malloc(len);
	if (!buf)
		return -ENOMEM;
	do
		n = pread(fd, buf, len, off);
	while (n < 0 && errno == EINTR);
	r = n < 0 ? -errno : n ? s->proto->sendto(s, buf, (size_t)n, flags, NULL, NULL) : 0;
	free(buf);
	return r;
}

/* Send or receive, waiting as the socket's flags and timeouts say; a
 * send with file >= 0 sends that file's bytes from off on, not buf's. */
static ssize_t io_wait(struct xm_sock *s, bool send, void *buf, int file, off_t off,
		       size_t len, int flags, struct xm_ep *ep, struct xm_pktmeta *meta)
{
	bool polled = send;   /* sending needs no prior receive */
	uint64_t deadline = deadline_after(s->st, send ? s->sndtimeo_ns : s->rcvtimeo_ns);
	ssize_t r;

	for (;;) {
		if (!send)
			r = s->proto->recvfrom(s, buf, len, flags, ep, meta);
		else if (file >= 0)
			r = file_send(s, file, off, len, flags);
		else
			r = s->proto->sendto(s, buf, len, flags, ep, meta);
		if (r != -EAGAIN)
			return r;
		r = block_step(s->st, s->nonblock || (flags & MSG_DONTWAIT),
			       &polled, deadline);
		if (r < 0)
			return r;
	}
}

ssize_t xm_sock_sendto(struct xm_sock *s, const void *buf, size_t len, int flags,
		       const struct xm_ep *to, const struct xm_pktmeta *meta)
{
	if (flags & MSG_OOB)
		return -EOPNOTSUPP;
	if (len && !buf)
		return -EFAULT;
	/* io_wait writes neither through a send */
	return io_wait(s, true, (void *)buf, -1, 0, len, flags, (struct xm_ep *)to,
		       (struct xm_pktmeta *)meta);
}

ssize_t xm_sendto(int fd, const void *buf, size_t len, int flags,
		  const struct sockaddr *to, socklen_t tolen)
{
	struct xm_sock *s = xm_fd_get(fd);
	struct xm_ep ep, *pep = NULL;
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
	r = xm_sock_sendto(s, buf, len, flags, pep, NULL);
	return r < 0 ? fail((int)r) : r;
}

ssize_t xm_send(int fd, const void *buf, size_t len, int flags)
{
	return xm_sendto(fd, buf, len, flags, NULL, 0);
}

ssize_t xm_sendfile_flags(int out_fd, int in_fd, off_t *offset, size_t count,
			  int flags)
{
	struct xm_sock *s = xm_fd_get(out_fd);
	off_t pos;
	ssize_t r;

	if (!s)
		return -1;
	if (flags & ~(MSG_DONTWAIT | MSG_NOSIGNAL | MSG_MORE))
		return fail(-EINVAL);
	pos = offset ? *offset : lseek(in_fd, 0, SEEK_CUR);
	if (pos < 0)
		/* A negative offset, or no position to read from (a pipe,
		 * a socket): as Linux's sendfile from what it cannot map. */
		return fail(offset || errno == ESPIPE ? -EINVAL : -errno);
	if (count > 0x7ffff000)   /* Linux's MAX_RW_COUNT */
		count = 0x7ffff000;
	if (!count)
		return 0;
	r = io_wait(s, true, NULL, in_fd, pos, count, flags, NULL, NULL);
	if (r < 0)
		return fail((int)r);
	if (offset)
		*offset = pos + (off_t)r;
	else
		lseek(in_fd, pos + (off_t)r, SEEK_SET);
	return r;
}

ssize_t xm_sendfile(int out_fd, int in_fd, off_t *offset, size_t count)
{
	return xm_sendfile_flags(out_fd, in_fd, offset, count, 0);
}

ssize_t xm_sock_recvfrom(struct xm_sock *s, void *buf, size_t len, int flags,
			 struct xm_ep *from, struct xm_pktmeta *meta)
{
	if (flags & MSG_ERRQUEUE)
		return -EAGAIN;   /* never waits; ICMP errors stay with the kernel */
	return io_wait(s, false, buf, -1, 0, len, flags, from, meta);
}

ssize_t xm_recvfrom(int fd, void *buf, size_t len, int flags,
		    struct sockaddr *from, socklen_t *fromlen)
{
	struct xm_sock *s = xm_fd_get(fd);
	struct xm_ep ep;
	ssize_t r;

	if (!s)
		return -1;
	r = xm_sock_recvfrom(s, buf, len, flags, &ep, NULL);
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
	if (!s->proto->shutdown)
		return fail(-EOPNOTSUPP);
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
