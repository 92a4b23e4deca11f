// SPDX-License-Identifier: MIT
/*
 * Waiting: a blocking call on an xdpmux socket retries its non-blocking
 * form, and between tries sleeps in ppoll() on the stack's fd (plus any
 * kernel fds of a poll/select/epoll call, and the wake fd that other
 * threads use), without the lock. Sleeping in a syscall keeps signals
 * working: a handler that runs ends the sleep with EINTR.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/time.h>
#include <time.h>

#include "preload.h"

uint64_t pl_now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ULL + (uint64_t)ts.tv_nsec;
}

uint64_t pl_deadline(int timeout_ms)
{
	return timeout_ms < 0 ? UINT64_MAX
			      : pl_now_ns() + (uint64_t)timeout_ms * 1000000ULL;
}

int pl_sleep(struct pollfd *kfds, nfds_t nk, uint64_t until_ns, const sigset_t *mask)
{
	struct pollfd small[16], *p = small;
	uint64_t now = pl_now_ns(), wait_ns = UINT64_MAX;
	struct timespec ts;
	int tmo, r, err, ready = 0;

	if (!pl.st)
		return 0;
	pl_tx_release();
	if (pl.spin_us && xm_stack_spin(pl.st, pl.spin_us) == 1)
		return 0;
	if (nk + 2 > 16) {
		p = malloc((nk + 2) * sizeof(*p));
		if (!p) {
			errno = ENOMEM;
			return -1;
		}
	}
	if (nk)
		memcpy(p, kfds, nk * sizeof(*p));
	p[nk] = (struct pollfd){ .fd = xm_stack_wait_fd(pl.st), .events = POLLIN };
	p[nk + 1] = (struct pollfd){ .fd = pl.wake_fd, .events = POLLIN };
	tmo = xm_stack_timeout_ms(pl.st);
	if (tmo >= 0)
		wait_ns = (uint64_t)tmo * 1000000ULL;
	if (until_ns != UINT64_MAX) {
		uint64_t left = until_ns > now ? until_ns - now : 0;

		if (left < wait_ns)
			wait_ns = left;
	}
	ts.tv_sec = (time_t)(wait_ns / 1000000000ULL);
	ts.tv_nsec = (long)(wait_ns % 1000000000ULL);
	pl_unlock_to_sleep();
	r = real.ppoll(p, nk + 2, wait_ns == UINT64_MAX ? NULL : &ts, mask);
	err = errno;
	pl_lock_after_sleep();
	for (nfds_t i = 0; i < nk; i++) {
		kfds[i].revents = r > 0 ? p[i].revents : 0;
		ready += kfds[i].revents != 0;
	}
	if (p != small)
		free(p);
	if (r < 0) {
		errno = err;
		return -1;
	}
	return ready;
}

/* SO_RCVTIMEO / SO_SNDTIMEO of the xdpmux socket: the deadline of a wait
 * that starts now. */
static uint64_t sock_deadline(struct pl_xs *xs, uint32_t ev)
{
	struct timeval tv;
	socklen_t len = sizeof(tv);

	if (xm_getsockopt(xs->xfd, SOL_SOCKET, ev == EPOLLIN ? SO_RCVTIMEO : SO_SNDTIMEO,
			  &tv, &len) < 0 || (!tv.tv_sec && !tv.tv_usec))
		return UINT64_MAX;
	return pl_now_ns() + (uint64_t)tv.tv_sec * 1000000000ULL +
	       (uint64_t)tv.tv_usec * 1000ULL;
}

ssize_t pl_block(struct pl_xs *xs, bool dontwait, uint32_t ev,
		 ssize_t (*op)(struct pl_xs *xs, void *arg), void *arg)
{
	uint64_t deadline = 0;
	bool polled = false;
	ssize_t r;

	for (;;) {
		r = op(xs, arg);
		if (r >= 0) {
			/* EPOLLET reports readiness again after any read
			 * (write): data that comes after it is a new edge,
			 * which a scan of the level alone cannot tell from
			 * data already reported. An extra report is allowed,
			 * a missed one stalls the program. */
			xs->et_seen &= ~ev;
			return r;
		}
		if (errno != EAGAIN)
			return r;
		/* A non-blocking xm_send does not run the stack: the ACKs
		 * that would make room may be waiting. Run it once. */
		if (!polled) {
			polled = true;
			if (xm_stack_poll(pl.st) > 0)
				continue;
		}
		/* The program saw EAGAIN: an edge-triggered epoll reports
		 * the next readiness again. */
		xs->et_seen &= ~ev;
		if (xs->nonblock || dontwait) {
			errno = EAGAIN;
			return -1;
		}
		if (!deadline)
			deadline = sock_deadline(xs, ev);
		else if (pl_now_ns() >= deadline) {
			errno = EAGAIN;
			return -1;
		}
		pl_sig_restart = -1;
		if (pl_sleep(NULL, 0, deadline, NULL) < 0 &&
		    (errno != EINTR || pl_sig_restart != 1))
			return -1;   /* EINTR: a handler without SA_RESTART ran */
		xm_stack_poll(pl.st);
	}
}
