// SPDX-License-Identifier: MIT
/*
 * poll, ppoll, select and pselect over a mix of kernel fds and xdpmux
 * sockets. Without an xdpmux socket in the set the call goes straight to
 * libc. Otherwise: the xdpmux sockets' readiness (xm_poll, which also runs
 * the stack) and the kernel fds' (poll with no wait) are read together;
 * when nothing is ready, pl_sleep waits on the kernel fds and the stack.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "preload.h"

static bool any_xm(const struct pollfd *fds, nfds_t n)
{
	for (nfds_t i = 0; i < n; i++)
		if (pl_kind_of(fds[i].fd) == PL_XM)
			return true;
	return false;
}

int pl_poll(struct pollfd *fds, nfds_t n, uint64_t until_ns, const sigset_t *mask)
{
	struct pollfd *x = calloc(n ? n : 1, sizeof(*x)), *k = calloc(n ? n : 1, sizeof(*k));
	nfds_t *xi = calloc(n ? n : 1, sizeof(*xi)), *ki = calloc(n ? n : 1, sizeof(*ki));
	nfds_t nx = 0, nk = 0, i;
	int ready = -1;

	if (!x || !k || !xi || !ki) {
		errno = ENOMEM;
		goto out;
	}
	pl_lock();
	pl_tx_release();
	for (i = 0; i < n; i++) {
		struct pl_xs *xs;

		fds[i].revents = 0;
		if (pl_kind_of(fds[i].fd) != PL_XM) {
			k[nk] = fds[i];
			ki[nk++] = i;
		} else if ((xs = pl_xs_get(fds[i].fd, "poll"))) {
			x[nx] = (struct pollfd){ .fd = xs->xfd, .events = fds[i].events };
			xi[nx++] = i;
		} else {
			fds[i].revents = POLLNVAL;
		}
	}
	for (;;) {
		ready = 0;
		if (nx && xm_poll(x, nx, 0) < 0)
			break;
		if (nk && real.poll(k, nk, 0) < 0)
			break;
		for (i = 0; i < nx; i++)
			fds[xi[i]].revents = x[i].revents;
		for (i = 0; i < nk; i++)
			fds[ki[i]].revents = k[i].revents;
		for (i = 0; i < n; i++)
			ready += fds[i].revents != 0;
		if (ready || pl_now_ns() >= until_ns)
			break;
		if (pl_sleep(k, nk, until_ns, mask) < 0) {
			ready = -1;
			break;
		}
	}
	if (ready > 0)
		pl_tx_hold();
	pl_unlock();
out:
	free(x);
	free(k);
	free(xi);
	free(ki);
	return ready;
}

static uint64_t ts_deadline(const struct timespec *ts)
{
	if (!ts)
		return UINT64_MAX;
	return pl_now_ns() + (uint64_t)ts->tv_sec * 1000000000ULL + (uint64_t)ts->tv_nsec;
}

int poll(struct pollfd *fds, nfds_t n, int timeout)
{
	pl_init();
	if (pl_inside || !any_xm(fds, n)) {
		pl_tx_release_outside();
		return real.poll(fds, n, timeout);
	}
	return pl_poll(fds, n, pl_deadline(timeout), NULL);
}

int ppoll(struct pollfd *fds, nfds_t n, const struct timespec *ts, const sigset_t *mask)
{
	pl_init();
	if (pl_inside || !any_xm(fds, n)) {
		pl_tx_release_outside();
		return real.ppoll(fds, n, ts, mask);
	}
	return pl_poll(fds, n, ts_deadline(ts), mask);
}

/* select through poll: readable is POLLIN|POLLHUP|POLLERR, writable
 * POLLOUT|POLLERR, exceptional POLLPRI, as the kernel maps them. */
static int select_common(int nfds, fd_set *rd, fd_set *wr, fd_set *ex,
			 uint64_t until_ns, const sigset_t *mask, bool *handled)
{
	struct pollfd *p;
	int n = 0, r, fd, i;
	bool xm = false;

	*handled = false;
	if (nfds < 0 || nfds > FD_SETSIZE)
		return 0;
	for (fd = 0; fd < nfds; fd++)
		if (((rd && FD_ISSET(fd, rd)) || (wr && FD_ISSET(fd, wr)) ||
		     (ex && FD_ISSET(fd, ex))) && pl_kind_of(fd) == PL_XM)
			xm = true;
	if (!xm)
		return 0;
	*handled = true;
	p = calloc((size_t)nfds + 1, sizeof(*p));
	if (!p) {
		errno = ENOMEM;
		return -1;
	}
	for (fd = 0; fd < nfds; fd++) {
		short ev = (short)((rd && FD_ISSET(fd, rd) ? POLLIN : 0) |
				   (wr && FD_ISSET(fd, wr) ? POLLOUT : 0) |
				   (ex && FD_ISSET(fd, ex) ? POLLPRI : 0));

		if (ev)
			p[n++] = (struct pollfd){ .fd = fd, .events = ev };
	}
	r = pl_poll(p, (nfds_t)n, until_ns, mask);
	if (r < 0)
		goto out;
	for (i = 0; i < n; i++)
		if (p[i].revents & POLLNVAL) {
			errno = EBADF;
			r = -1;
			goto out;
		}
	r = 0;
	for (i = 0; i < n; i++) {
		fd = p[i].fd;
		if (rd && FD_ISSET(fd, rd) && !(p[i].revents & (POLLIN | POLLHUP | POLLERR)))
			FD_CLR(fd, rd);
		if (wr && FD_ISSET(fd, wr) && !(p[i].revents & (POLLOUT | POLLERR)))
			FD_CLR(fd, wr);
		if (ex && FD_ISSET(fd, ex) && !(p[i].revents & POLLPRI))
			FD_CLR(fd, ex);
		r += (rd && FD_ISSET(fd, rd)) + (wr && FD_ISSET(fd, wr)) +
		     (ex && FD_ISSET(fd, ex));
	}
out:
	free(p);
	return r;
}

int select(int nfds, fd_set *rd, fd_set *wr, fd_set *ex, struct timeval *tv)
{
	uint64_t until = UINT64_MAX;
	bool handled;
	int r;

	pl_init();
	if (pl_inside)
		return real.select(nfds, rd, wr, ex, tv);
	if (tv)
		until = pl_now_ns() + (uint64_t)tv->tv_sec * 1000000000ULL +
			(uint64_t)tv->tv_usec * 1000ULL;
	r = select_common(nfds, rd, wr, ex, until, NULL, &handled);
	if (!handled) {
		pl_tx_release_outside();
		return real.select(nfds, rd, wr, ex, tv);
	}
	if (tv) {
		/* Linux writes back the time left. */
		uint64_t now = pl_now_ns(), left = until > now ? until - now : 0;

		tv->tv_sec = (time_t)(left / 1000000000ULL);
		tv->tv_usec = (suseconds_t)(left % 1000000000ULL / 1000);
	}
	return r;
}

int pselect(int nfds, fd_set *rd, fd_set *wr, fd_set *ex, const struct timespec *ts,
	    const sigset_t *mask)
{
	bool handled;
	int r;

	pl_init();
	if (pl_inside)
		return real.pselect(nfds, rd, wr, ex, ts, mask);
	r = select_common(nfds, rd, wr, ex, ts_deadline(ts), mask, &handled);
	if (handled)
		return r;
	pl_tx_release_outside();
	return real.pselect(nfds, rd, wr, ex, ts, mask);
}
