// SPDX-License-Identifier: MIT
/*
 * Data calls on xdpmux sockets: read/write and the send/recv family,
 * scatter/gather, the mmsg batches and sendfile. Each is the xm_ call made
 * non-blocking and retried by pl_block; a blocking stream send writes all
 * of its bytes before returning, as the kernel's does.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/sendfile.h>
#include <unistd.h>

#include "preload.h"

#define DGRAM_MAX 65536
static __thread uint8_t dgram_buf[DGRAM_MAX];

void pl_sendto_decide(int fd, const struct sockaddr *to, socklen_t len);

struct io_args {
	void *buf;
	size_t len;
	int flags;
	const struct sockaddr *to;
	socklen_t tolen;
	struct sockaddr *from;
	socklen_t *fromlen;
};

static ssize_t recv_op(struct pl_xs *xs, void *arg)
{
	struct io_args *a = arg;

	return xm_recvfrom(xs->xfd, a->buf, a->len, a->flags | MSG_DONTWAIT,
			   a->from, a->fromlen);
}

static ssize_t send_op(struct pl_xs *xs, void *arg)
{
	struct io_args *a = arg;

	return xm_sendto(xs->xfd, a->buf, a->len,
			 (a->flags & ~MSG_NOSIGNAL) | MSG_DONTWAIT, a->to, a->tolen);
}

/* Lock held. MSG_WAITALL on a stream waits for the whole length. */
static ssize_t xs_recv(struct pl_xs *xs, void *buf, size_t len, int flags,
		       struct sockaddr *from, socklen_t *fromlen)
{
	struct io_args a = { buf, len, flags & ~MSG_WAITALL, NULL, 0, from, fromlen };
	bool dontwait = flags & MSG_DONTWAIT;
	size_t got = 0;
	ssize_t r;

	if (!(flags & MSG_WAITALL) || xs->type != SOCK_STREAM)
		return pl_block(xs, dontwait, EPOLLIN, recv_op, &a);
	while (got < len) {
		a.buf = (uint8_t *)buf + got;
		a.len = len - got;
		r = pl_block(xs, dontwait, EPOLLIN, recv_op, &a);
		if (r <= 0)
			return got ? (ssize_t)got : r;
		got += (size_t)r;
	}
	return (ssize_t)got;
}

/* Lock held. A blocking stream send returns when all is sent (or an error
 * after some was: then the count). EPIPE raises SIGPIPE unless
 * MSG_NOSIGNAL, as the kernel does. */
static ssize_t xs_send(struct pl_xs *xs, const void *buf, size_t len, int flags,
		       const struct sockaddr *to, socklen_t tolen)
{
	struct io_args a = { (void *)buf, len, flags, to, tolen, NULL, NULL };
	bool dontwait = flags & MSG_DONTWAIT;
	size_t sent = 0;
	ssize_t r;

	if (pl_cork_take(xs, buf, len))
		return (ssize_t)len;
	do {
		a.buf = (uint8_t *)buf + sent;
		a.len = len - sent;
		r = pl_block(xs, dontwait, EPOLLOUT, send_op, &a);
		if (r < 0)
			break;
		sent += (size_t)r;
	} while (xs->type == SOCK_STREAM && !xs->nonblock && !dontwait && sent < len);
	if (r < 0 && errno == EPIPE && !(flags & MSG_NOSIGNAL))
		raise(SIGPIPE);
	if (r < 0 && sent)
		return (ssize_t)sent;
	return r < 0 ? r : (ssize_t)sent;
}

ssize_t read(int fd, void *buf, size_t len)
{
	XS_CALL(fd, "read", real.read(fd, buf, len), xs_recv(xs, buf, len, 0, NULL, NULL));
}

ssize_t write(int fd, const void *buf, size_t len)
{
	XS_CALL(fd, "write", real.write(fd, buf, len), xs_send(xs, buf, len, 0, NULL, 0));
}

ssize_t recv(int fd, void *buf, size_t len, int flags)
{
	XS_CALL(fd, "recv", real.recv(fd, buf, len, flags),
		xs_recv(xs, buf, len, flags, NULL, NULL));
}

ssize_t send(int fd, const void *buf, size_t len, int flags)
{
	XS_CALL(fd, "send", real.send(fd, buf, len, flags),
		xs_send(xs, buf, len, flags, NULL, 0));
}

ssize_t recvfrom(int fd, void *buf, size_t len, int flags, struct sockaddr *from,
		 socklen_t *fromlen)
{
	XS_CALL(fd, "recvfrom", real.recvfrom(fd, buf, len, flags, from, fromlen),
		xs_recv(xs, buf, len, flags, from, fromlen));
}

ssize_t sendto(int fd, const void *buf, size_t len, int flags,
	       const struct sockaddr *to, socklen_t tolen)
{
	pl_init();
	pl_sendto_decide(fd, to, tolen);
	XS_CALL(fd, "sendto", real.sendto(fd, buf, len, flags, to, tolen),
		xs_send(xs, buf, len, flags, to, tolen));
}

static ssize_t recvmsg_op(struct pl_xs *xs, void *arg)
{
	struct io_args *a = arg;

	return xm_recvmsg(xs->xfd, a->buf, a->flags | MSG_DONTWAIT);
}

static ssize_t sendmsg_op(struct pl_xs *xs, void *arg)
{
	struct io_args *a = arg;

	return xm_sendmsg(xs->xfd, a->buf, (a->flags & ~MSG_NOSIGNAL) | MSG_DONTWAIT);
}

/* Lock held. A datagram, or stream data with a control buffer (for its
 * SO_TIMESTAMP), is the library's recvmsg with its ancillary data, as is
 * MSG_ERRQUEUE (which never waits: the queue stays empty); otherwise a
 * stream fills the iovecs in order, waiting only for the first bytes
 * (all of them with MSG_WAITALL). */
static ssize_t xs_recvmsg(struct pl_xs *xs, struct msghdr *m, int flags)
{
	struct io_args a = { .buf = m, .flags = flags };
	size_t total = 0;
	ssize_t r;
	int i;

	if (xs->type != SOCK_STREAM || (flags & MSG_ERRQUEUE) ||
	    (m->msg_control && m->msg_controllen && !(flags & MSG_WAITALL)))
		return pl_block(xs, flags & (MSG_DONTWAIT | MSG_ERRQUEUE), EPOLLIN,
				recvmsg_op, &a);
	m->msg_controllen = 0;
	m->msg_flags = 0;
	m->msg_namelen = 0;
	for (i = 0; i < (int)m->msg_iovlen; i++) {
		struct iovec *v = &m->msg_iov[i];

		if (!v->iov_len)
			continue;
		r = xs_recv(xs, v->iov_base, v->iov_len, total ? flags | MSG_DONTWAIT : flags,
			    NULL, NULL);
		if (r <= 0)
			return total ? (ssize_t)total : r;
		total += (size_t)r;
		if ((size_t)r < v->iov_len)
			break;
	}
	return (ssize_t)total;
}

/* A control message the library refused: named under XDPMUX_DEBUG, said
 * once. */
static void cmsg_refused(int fd, const struct msghdr *m)
{
	for (struct cmsghdr *h = CMSG_FIRSTHDR(m); h; h = CMSG_NXTHDR((struct msghdr *)m, h))
		pl_debug("fd %d: sendmsg control message %d/%d", fd, h->cmsg_level,
			 h->cmsg_type);
	pl_unsupported("sendmsg with this control message (XDPMUX_DEBUG=1 names it)");
}

/* Lock held. A datagram goes whole through the library's sendmsg, which
 * takes its ancillary data; a stream's control messages are checked
 * there alone (a send of no bytes) and its bytes sent as a write. */
static ssize_t xs_sendmsg(struct pl_xs *xs, int fd, const struct msghdr *m, int flags)
{
	struct io_args a = { .buf = (void *)m, .flags = flags };
	size_t total = 0;
	ssize_t r;
	int i;

	if (xs->type != SOCK_STREAM) {
		r = pl_block(xs, flags & MSG_DONTWAIT, EPOLLOUT, sendmsg_op, &a);
		if (r < 0 && errno == EINVAL && m->msg_controllen)
			cmsg_refused(fd, m);
		return r;
	}
	if (m->msg_controllen) {
		struct msghdr ctl = { .msg_control = m->msg_control,
				      .msg_controllen = m->msg_controllen };

		if (xm_sendmsg(xs->xfd, &ctl, MSG_DONTWAIT) < 0) {
			if (errno == EINVAL)
				cmsg_refused(fd, m);
			return -1;
		}
	}
	for (i = 0; i < (int)m->msg_iovlen; i++) {
		const struct iovec *v = &m->msg_iov[i];

		if (!v->iov_len)
			continue;
		r = xs_send(xs, v->iov_base, v->iov_len, total ? flags | MSG_DONTWAIT : flags,
			    NULL, 0);
		if (r < 0)
			return total ? (ssize_t)total : r;
		total += (size_t)r;
		if ((size_t)r < v->iov_len)
			break;
	}
	return (ssize_t)total;
}

ssize_t recvmsg(int fd, struct msghdr *m, int flags)
{
	XS_CALL(fd, "recvmsg", real.recvmsg(fd, m, flags), xs_recvmsg(xs, m, flags));
}

ssize_t sendmsg(int fd, const struct msghdr *m, int flags)
{
	pl_init();
	if (m)
		pl_sendto_decide(fd, m->msg_name, m->msg_namelen);
	XS_CALL(fd, "sendmsg", real.sendmsg(fd, m, flags), xs_sendmsg(xs, fd, m, flags));
}

ssize_t readv(int fd, const struct iovec *iov, int n)
{
	struct msghdr m = { .msg_iov = (struct iovec *)iov, .msg_iovlen = (size_t)n };

	XS_CALL(fd, "readv", real.readv(fd, iov, n), xs_recvmsg(xs, &m, 0));
}

ssize_t writev(int fd, const struct iovec *iov, int n)
{
	struct msghdr m = { .msg_iov = (struct iovec *)iov, .msg_iovlen = (size_t)n };

	XS_CALL(fd, "writev", real.writev(fd, iov, n), xs_sendmsg(xs, fd, &m, 0));
}

/* Batches: the first message may wait (MSG_WAITFORONE: only it), the rest
 * take what is there. The timeout of recvmmsg is checked between messages,
 * as the kernel does. */
static int xs_recvmmsg(struct pl_xs *xs, struct mmsghdr *v, unsigned n, int flags,
		       struct timespec *ts)
{
	uint64_t until = ts ? pl_now_ns() + (uint64_t)ts->tv_sec * 1000000000ULL +
				      (uint64_t)ts->tv_nsec : UINT64_MAX;
	unsigned i;

	for (i = 0; i < n; i++) {
		ssize_t r = xs_recvmsg(xs, &v[i].msg_hdr, flags & ~MSG_WAITFORONE);

		if (r < 0)
			return i ? (int)i : -1;
		v[i].msg_len = (unsigned)r;
		if (flags & MSG_WAITFORONE)
			flags |= MSG_DONTWAIT;
		if (pl_now_ns() >= until)
			return (int)i + 1;
	}
	return (int)n;
}

static int xs_sendmmsg(struct pl_xs *xs, int fd, struct mmsghdr *v, unsigned n, int flags)
{
	unsigned i;

	for (i = 0; i < n; i++) {
		ssize_t r = xs_sendmsg(xs, fd, &v[i].msg_hdr, flags);

		if (r < 0)
			return i ? (int)i : -1;
		v[i].msg_len = (unsigned)r;
	}
	return (int)n;
}

int recvmmsg(int fd, struct mmsghdr *v, unsigned int n, int flags, struct timespec *ts)
{
	XS_CALL(fd, "recvmmsg", real.recvmmsg(fd, v, n, flags, ts),
		xs_recvmmsg(xs, v, n, flags, ts));
}

int sendmmsg(int fd, struct mmsghdr *v, unsigned int n, int flags)
{
	pl_init();
	if (n && v)
		pl_sendto_decide(fd, v[0].msg_hdr.msg_name, v[0].msg_hdr.msg_namelen);
	XS_CALL(fd, "sendmmsg", real.sendmmsg(fd, v, n, flags), xs_sendmmsg(xs, fd, v, n, flags));
}

struct file_args {
	int in;
	off_t pos;
	size_t count;
};

static ssize_t sendfile_op(struct pl_xs *xs, void *arg)
{
	struct file_args *a = arg;
	off_t pos = a->pos;

	return xm_sendfile_flags(xs->xfd, a->in, &pos, a->count,
				 MSG_DONTWAIT | MSG_NOSIGNAL);
}

/* sendfile to an xdpmux socket; what the socket did not take is not
 * consumed from the file (offset, or the file position when offset is
 * NULL). A corked socket's piece is read straight into the cork (the body
 * of a corked HTTP reply: one copy less); a stream's rest goes by
 * xm_sendfile, from the file straight into the connection's send buffer;
 * a datagram socket's in pieces through a buffer. EPIPE raises SIGPIPE,
 * as the kernel's sendfile does. Lock held. */
static ssize_t xs_sendfile(struct pl_xs *xs, int in, off_t *offset, size_t count)
{
	off_t pos = offset ? *offset : lseek(in, 0, SEEK_CUR);
	size_t done = 0;
	ssize_t r = 0;

	if (offset && pos < 0)
		errno = EINVAL;   /* as Linux; lseek failing set errno itself */
	if (pos < 0)
		return -1;
	while (done < count) {
		size_t want = count - done < DGRAM_MAX ? count - done : DGRAM_MAX;
		uint8_t *room = pl_cork_room(xs, want);
		ssize_t n, s;

		if (!room && xs->type == SOCK_STREAM) {
			struct file_args a = { in, pos + (off_t)done, count - done };

			/* What the cork holds goes first (a full cork). */
			if (xs->cork_len && pl_cork_flush(xs) < 0) {
				r = -1;
				break;
			}
			r = pl_block(xs, done != 0, EPOLLOUT, sendfile_op, &a);
			if (r < 0 && errno == EPIPE)
				raise(SIGPIPE);
			if (r > 0)
				done += (size_t)r;
			break;
		}
		n = pread(in, room ? room : dgram_buf, want, pos + (off_t)done);
		if (n <= 0) {
			r = n;
			break;
		}
		if (room) {
			xs->cork_len += (size_t)n;
			done += (size_t)n;
			continue;
		}
		s = xs_send(xs, dgram_buf, (size_t)n, done ? MSG_DONTWAIT : 0, NULL, 0);
		if (s < 0) {
			r = s;
			break;
		}
		done += (size_t)s;
		if (s < n)
			break;
	}
	if (offset)
		*offset = pos + (off_t)done;
	else if (done)
		lseek(in, pos + (off_t)done, SEEK_SET);
	return done ? (ssize_t)done : r;
}

ssize_t sendfile(int out, int in, off_t *offset, size_t count)
{
	if (!pl_inside && pl_kind_of(in) == PL_XM) {
		pl_unsupported("sendfile from (not to)");
		errno = EINVAL;   /* as Linux for a socket as the source */
		return -1;
	}
	XS_CALL(out, "sendfile", real.sendfile(out, in, offset, count),
		xs_sendfile(xs, in, offset, count));
}

ssize_t sendfile64(int out, int in, off_t *offset, size_t count)
{
	return sendfile(out, in, offset, count);
}

/* _FORTIFY_SOURCE builds call these instead. */
ssize_t __read_chk(int fd, void *buf, size_t len, size_t buflen)
{
	if (len > buflen)
		abort();   /* what the fortified libc call does */
	return read(fd, buf, len);
}

ssize_t __recv_chk(int fd, void *buf, size_t len, size_t buflen, int flags)
{
	if (len > buflen)
		abort();
	return recv(fd, buf, len, flags);
}

ssize_t __recvfrom_chk(int fd, void *buf, size_t len, size_t buflen, int flags,
		       struct sockaddr *from, socklen_t *fromlen)
{
	if (len > buflen)
		abort();
	return recvfrom(fd, buf, len, flags, from, fromlen);
}
