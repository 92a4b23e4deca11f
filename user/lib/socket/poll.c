// SPDX-License-Identifier: MIT
/* xm_poll: readiness of xm sockets, driving their stack while it waits. */
#include <errno.h>
#include <poll.h>

#include "../core/stack.h"
#include "sock.h"

static int scan(struct pollfd *fds, nfds_t n)
{
	int ready = 0;

	for (nfds_t i = 0; i < n; i++) {
		struct xm_sock *s;

		fds[i].revents = 0;
		if (fds[i].fd < 0)
			continue;   /* as poll(2): ignored */
		s = xm_fd_get(fds[i].fd);
		if (!s)
			fds[i].revents = POLLNVAL;
		else
			fds[i].revents = (short)(s->proto->poll(s) &
						 (fds[i].events | POLLERR | POLLHUP));
		if (fds[i].revents)
			ready++;
	}
	return ready;
}

int xm_poll(struct pollfd *fds, nfds_t n, int timeout_ms)
{
	struct xm_stack *st = NULL;
	uint64_t deadline;
	int ready, r;

	if (n && !fds) {
		errno = EFAULT;
		return -1;
	}
	for (nfds_t i = 0; i < n; i++) {
		struct xm_sock *s = fds[i].fd >= 0 ? xm_fd_get(fds[i].fd) : NULL;

		if (!s)
			continue;
		if (st && s->st != st) {
			errno = EINVAL;
			return -1;
		}
		st = s->st;
	}
	if (!st)
		return scan(fds, n);
	deadline = timeout_ms < 0 ? UINT64_MAX
				  : xm_now(st) + (uint64_t)timeout_ms * 1000000ULL;
	for (;;) {
		r = xm_stack_poll(st);
		if (r < 0)
			goto err;
		ready = scan(fds, n);
		if (ready || xm_now(st) >= deadline)
			return ready;
		r = xm_stack_wait(st, deadline);
		if (r < 0)
			goto err;
	}
err:
	errno = -r;
	return -1;
}
