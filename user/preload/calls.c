// SPDX-License-Identifier: MIT
/*
 * The socket's life: socket, bind, connect, listen, accept, shutdown,
 * close and the names. socket() makes a kernel socket; bind and connect
 * decide whether it moves (decide.c) and move it (move.c).
 */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <errno.h>
#include <linux/close_range.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "preload.h"

#define PL_PASS(kind_wanted, fd) (pl_inside || pl_kind_of(fd) != (kind_wanted))

static const char *type_name(int type)
{
	return type == SOCK_STREAM ? "tcp" : "udp";
}

int socket(int domain, int type, int protocol)
{
	int base = type & ~(SOCK_NONBLOCK | SOCK_CLOEXEC), fd;
	struct pl_ent *e;

	pl_init();
	fd = real.socket(domain, type, protocol);
	if (fd < 0 || pl_inside || pl.st_failed ||
	    (domain != AF_INET && domain != AF_INET6) ||
	    !((base == SOCK_STREAM && (!protocol || protocol == IPPROTO_TCP)) ||
	      (base == SOCK_DGRAM && (!protocol || protocol == IPPROTO_UDP))))
		return fd;
	e = pl_ent(fd, true);
	if (!e)
		return fd;   /* beyond the table: stays a kernel socket */
	pl_lock();
	pl_forget(fd);   /* a number we missed the close of */
	e->domain = domain;
	e->type = base;
	e->nopts = 0;
	e->opts = NULL;
	e->ncand_ep = 0;
	atomic_store_explicit(&e->kind, PL_CAND, memory_order_release);
	pl_unlock();
	pl_debug("fd %d: %s%s socket: decided at bind or connect", fd,
		 type_name(base), domain == AF_INET6 ? "6" : "");
	return fd;
}

/* Move candidate fd at bind (connect false) or connect/sendto; true when it
 * moved, false when it stays a kernel socket (forgotten); -1 with errno
 * when moving failed. Lock held. */
static int try_move(int fd, const struct sockaddr *a, socklen_t len, bool connect,
		    bool bind_to)
{
	struct pl_ent *e = pl_ent(fd, false);
	const char *why, *call = connect ? "connect" : bind_to ? "bind" : "sendto";
	char as[80];
	bool move;
	int r;

	move = connect || !bind_to ? pl_decide_connect(a, len, &why)
				   : pl_decide_bind(a, len, &why);
	pl_addr_str(a, len, as, sizeof(as));
	if (move && !pl_stack()) {
		move = false;
		why = "the xdpmux stack could not be opened";
	}
	if (!move) {
		pl_debug("fd %d: %s %s %s: kernel (%s)", fd, type_name(e->type), call, as, why);
		pl_forget(fd);
		return 0;
	}
	r = pl_move(fd, e, bind_to || connect ? a : NULL, len, connect);
	if (r < 0) {
		char line[256];

		snprintf(line, sizeof(line), "xdpmux: %s fd %d %s %s on xdpmux: %s\n",
			 call, fd, type_name(e->type), as, strerror(-r));
		if (write(STDERR_FILENO, line, strlen(line)) < 0) {
			/* nowhere else to say it */
		}
		errno = -r;
		return -1;
	}
	pl_debug("fd %d: %s %s %s: xdpmux (%s)", fd, type_name(e->type), call, as, why);
	return 1;
}

int bind(int fd, const struct sockaddr *a, socklen_t len)
{
	struct pl_xs *xs;
	int r;

	pl_init();
	if (!pl_inside && pl_kind_of(fd) == PL_CAND) {
		pl_lock();
		r = try_move(fd, a, len, false, true);
		pl_unlock();
		if (r)
			return r > 0 ? 0 : -1;
	}
	if (PL_PASS(PL_XM, fd))
		return real.bind(fd, a, len);
	pl_lock();
	xs = pl_xs_get(fd, "bind");
	r = xs ? xm_bind(xs->xfd, a, len) : -1;
	pl_unlock();
	return r;
}

static ssize_t connect_done(struct pl_xs *xs, void *arg)
{
	struct pollfd p = { .fd = xs->xfd, .events = POLLOUT };
	socklen_t len = sizeof(int);
	int err = 0;

	(void)arg;
	if (xm_poll(&p, 1, 0) < 0)
		return -1;
	if (!p.revents) {
		errno = EAGAIN;
		return -1;
	}
	if (xm_getsockopt(xs->xfd, SOL_SOCKET, SO_ERROR, &err, &len) < 0)
		return -1;
	errno = err;
	return err ? -1 : 0;
}

/* After a TCP connect started: EINPROGRESS for a non-blocking socket, else
 * wait for the handshake as connect(2) does. Lock held. */
static int connect_wait(struct pl_xs *xs)
{
	ssize_t r;

	if (xs->type != SOCK_STREAM)
		return 0;
	if (xs->nonblock) {
		errno = EINPROGRESS;
		return -1;
	}
	r = pl_block(xs, false, EPOLLOUT, connect_done, NULL);
	if (r < 0 && errno == EAGAIN)
		errno = EINPROGRESS;   /* SO_SNDTIMEO passed, as Linux */
	return r < 0 ? -1 : 0;
}

int connect(int fd, const struct sockaddr *a, socklen_t len)
{
	struct pl_xs *xs;
	int r;

	pl_init();
	if (!pl_inside && pl_kind_of(fd) == PL_CAND) {
		pl_lock();
		r = try_move(fd, a, len, true, false);
		if (r > 0)
			r = connect_wait(pl_ent(fd, false)->xs);
		pl_unlock();
		if (r)
			return r > 0 ? 0 : -1;
	}
	if (PL_PASS(PL_XM, fd)) {
		pl_tx_release_outside();   /* it may block */
		return real.connect(fd, a, len);
	}
	pl_lock();
	xs = pl_xs_get(fd, "connect");
	r = xs ? xm_connect(xs->xfd, a, len) : -1;
	if (r < 0 && xs && errno == EINPROGRESS)
		r = connect_wait(xs);
	pl_unlock();
	return r;
}

/* A first sendto/sendmsg on an unbound UDP candidate: moves when the
 * destination is routed out of the device. */
void pl_sendto_decide(int fd, const struct sockaddr *to, socklen_t len)
{
	struct pl_ent *e;

	if (pl_inside || !to || pl_kind_of(fd) != PL_CAND)
		return;
	pl_lock();
	e = pl_ent(fd, false);
	if (e->kind == PL_CAND) {
		if (e->type == SOCK_DGRAM)
			try_move(fd, to, len, false, false);
		else
			pl_forget(fd);
	}
	pl_unlock();
}

int listen(int fd, int backlog)
{
	struct pl_xs *xs;
	int r;

	pl_init();
	if (!pl_inside && pl_kind_of(fd) == PL_CAND) {
		/* listen without bind: the kernel picks a port; it stays */
		pl_lock();
		pl_debug("fd %d: listen before bind: kernel", fd);
		pl_forget(fd);
		pl_unlock();
	}
	if (PL_PASS(PL_XM, fd))
		return real.listen(fd, backlog);
	pl_lock();
	xs = pl_xs_get(fd, "listen");
	r = xs ? xm_listen(xs->xfd, backlog) : -1;
	if (r == 0 && pl.debug) {
		struct sockaddr_storage ss;
		socklen_t len = sizeof(ss);
		char as[80];

		if (!xm_getsockname(xs->xfd, (struct sockaddr *)&ss, &len))
			pl_debug("fd %d: tcp listen %s: xdpmux", fd,
				 pl_addr_str((struct sockaddr *)&ss, len, as, sizeof(as)));
	}
	pl_unlock();
	return r;
}

struct accept_args {
	struct sockaddr *addr;
	socklen_t *len;
};

static ssize_t accept_op(struct pl_xs *xs, void *arg)
{
	struct accept_args *a = arg;

	return xm_accept4(xs->xfd, a->addr, a->len, SOCK_NONBLOCK);
}

int accept4(int fd, struct sockaddr *addr, socklen_t *len, int flags)
{
	struct accept_args a = { addr, len };
	struct pl_xs *xs, *cxs;
	struct pl_ent *e;
	int xfd, ph = -1;

	pl_init();
	if (PL_PASS(PL_XM, fd)) {
		pl_tx_release_outside();   /* it may block */
		return real.accept4(fd, addr, len, flags);
	}
	if (flags & ~(SOCK_NONBLOCK | SOCK_CLOEXEC)) {
		errno = EINVAL;
		return -1;
	}
	pl_lock();
	xs = pl_xs_get(fd, "accept");
	xfd = xs ? (int)pl_block(xs, false, EPOLLIN, accept_op, &a) : -1;
	if (xfd < 0)
		goto out;
	cxs = calloc(1, sizeof(*cxs));
	ph = real.socket(AF_UNIX, SOCK_DGRAM | (flags & SOCK_CLOEXEC), 0);
	e = ph >= 0 ? pl_ent(ph, true) : NULL;
	if (!cxs || !e) {
		int err = ph < 0 ? errno : ENOMEM;

		if (ph >= 0)
			real.close(ph);
		xm_close(xfd);
		free(cxs);
		errno = err;
		ph = -1;
		goto out;
	}
	pl_forget(ph);
	cxs->xfd = xfd;
	cxs->refs = 1;
	cxs->type = SOCK_STREAM;
	cxs->pid = pl.pid;
	cxs->nonblock = !!(flags & SOCK_NONBLOCK);
	e->xs = cxs;
	atomic_store_explicit(&e->kind, PL_XM, memory_order_release);
out:
	pl_unlock();
	return ph;
}

int accept(int fd, struct sockaddr *addr, socklen_t *len)
{
	return accept4(fd, addr, len, 0);
}

int close(int fd)
{
	pl_init();
	if (!pl_inside && pl_kind_of(fd) != PL_NONE) {
		pl_lock();
		pl_forget(fd);
		pl_unlock();
	}
	return real.close(fd);
}

/* Forget every fd of ours in [lo, hi] (close_range, closefrom). */
static void forget_range(unsigned lo, unsigned hi)
{
	pl_lock();
	for (unsigned fd = lo; fd <= hi && fd < (1U << 20); fd++) {
		struct pl_ent *e = pl_ent((int)fd, false);

		if (!e) {
			fd |= (1U << 10) - 1;   /* no chunk: skip it whole */
			continue;
		}
		if (e->kind != PL_NONE)
			pl_forget((int)fd);
	}
	pl_unlock();
}

int close_range(unsigned lo, unsigned hi, int flags)
{
	static int (*real_close_range)(unsigned, unsigned, int);

	pl_init();
	if (!real_close_range)
		real_close_range = (int (*)(unsigned, unsigned, int))dlsym(RTLD_NEXT, "close_range");
	if (!real_close_range) {
		errno = ENOSYS;
		return -1;
	}
	/* CLOSE_RANGE_CLOEXEC only marks the fds: nothing closes yet. */
	if (!pl_inside && !(flags & CLOSE_RANGE_CLOEXEC) && lo <= hi)
		forget_range(lo, hi);
	return real_close_range(lo, hi, flags);
}

void closefrom(int lo)
{
	if (lo < 0)
		lo = 0;
	close_range((unsigned)lo, ~0U, 0);
}

int shutdown(int fd, int how)
{
	XS_CALL(fd, "shutdown", real.shutdown(fd, how), (pl_cork_flush(xs), xm_shutdown(xs->xfd, how)));
}

int getsockname(int fd, struct sockaddr *a, socklen_t *len)
{
	XS_CALL(fd, "getsockname", real.getsockname(fd, a, len), xm_getsockname(xs->xfd, a, len));
}

int getpeername(int fd, struct sockaddr *a, socklen_t *len)
{
	XS_CALL(fd, "getpeername", real.getpeername(fd, a, len), xm_getpeername(xs->xfd, a, len));
}
