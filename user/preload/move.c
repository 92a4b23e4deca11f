// SPDX-License-Identifier: MIT
/*
 * Moving a candidate to xdpmux: an xdpmux socket takes the candidate's
 * options and flags and is bound or connected; only when that worked does
 * the fd number become a placeholder, so a failure leaves the kernel socket
 * as it was.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <unistd.h>

#include "preload.h"

/* The placeholder is an unbound AF_UNIX datagram socket: a real socket
 * (fstat says S_ISSOCK) that never becomes readable and that nobody can
 * send to. dup3 puts it over the candidate's number, closing the kernel
 * socket in the same step. */
static int placeholder_over(int fd)
{
	int fdflags = real.fcntl(fd, F_GETFD), ph, r;

	ph = real.socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	if (ph < 0)
		return -errno;
	r = real.dup3(ph, fd, (fdflags & FD_CLOEXEC) ? O_CLOEXEC : 0);
	real.close(ph);
	return r < 0 ? -errno : 0;
}

int pl_move(int fd, struct pl_ent *e, const struct sockaddr *a, socklen_t len,
	    bool connect)
{
	struct xm_stack *st = pl_stack();
	struct pl_xs *xs;
	int xfd, fl, r;

	if (!st)
		return -ENETDOWN;
	xs = calloc(1, sizeof(*xs));
	if (!xs)
		return -ENOMEM;
	xfd = xm_socket_on(st, e->domain, e->type | SOCK_NONBLOCK, 0);
	if (xfd < 0) {
		r = -errno;
		free(xs);
		return r;
	}
	for (int i = 0; i < e->nopts; i++) {
		const struct pl_opt *o = &e->opts[i];

		if (xm_setsockopt(xfd, o->level, o->name, o->val, o->len) < 0)
			pl_debug("fd %d: option %d/%d not carried to xdpmux: %m",
				 fd, o->level, o->name);
	}
	/* A non-blocking connect: the handshake goes on after the move. */
	r = !a ? 0 : connect ? xm_connect(xfd, a, len) : xm_bind(xfd, a, len);
	if (r < 0 && !(connect && errno == EINPROGRESS)) {
		r = -errno;
		xm_close(xfd);
		free(xs);
		return r;
	}
	fl = real.fcntl(fd, F_GETFL);
	xs->xfd = xfd;
	xs->refs = 1;
	xs->type = e->type;
	xs->pid = pl.pid;
	xs->nonblock = fl >= 0 && (fl & O_NONBLOCK);
	r = placeholder_over(fd);
	if (r < 0) {
		xm_close(xfd);
		free(xs);
		return r;
	}
	free(e->opts);
	e->opts = NULL;
	e->nopts = 0;
	e->xs = xs;
	atomic_store_explicit(&e->kind, PL_XM, memory_order_release);
	pl_epoll_adopt(fd, e);
	return 0;
}
