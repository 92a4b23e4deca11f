// SPDX-License-Identifier: MIT
/*
 * epoll with xdpmux sockets and kernel fds in one set. An xdpmux socket's
 * interest is kept here, not in the kernel's epoll (its placeholder never
 * becomes ready); epoll_wait reads the xdpmux interests' readiness, takes
 * the kernel's events from the real epoll without waiting, and when
 * neither has anything sleeps on the epoll fd and the stack (pl_sleep).
 *
 * EPOLLET: an interest reports when readiness it had not reported appears,
 * and again after each read or write on that direction (pl_block), so a
 * program never misses data that came after its last read; it may get a
 * report the kernel would not give (readiness it left unconsumed), which
 * edge-triggered programs handle as any spurious wakeup. EPOLLONESHOT: reported once, then off until EPOLL_CTL_MOD.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "preload.h"

struct interest {
	int epfd, fd;
	struct pl_xs *xs;
	struct epoll_event ev;
	bool off;                /* EPOLLONESHOT fired */
};

static struct interest *list;
static int nlist, caplist;

static int find(int epfd, int fd)
{
	for (int i = 0; i < nlist; i++)
		if (list[i].epfd == epfd && list[i].fd == fd)
			return i;
	return -1;
}

static void drop(int i)
{
	struct pl_ent *e = pl_ent(list[i].epfd, false);

	if (e && e->kind == PL_EPOLL && --e->n_xm_watch == 0)
		atomic_store_explicit(&e->kind, PL_NONE, memory_order_release);
	list[i] = list[--nlist];
}

void pl_epoll_forget_fd(int fd)
{
	for (int i = nlist - 1; i >= 0; i--)
		if (list[i].fd == fd)
			drop(i);
}

void pl_epoll_forget_epfd(int epfd)
{
	for (int i = nlist - 1; i >= 0; i--)
		if (list[i].epfd == epfd)
			list[i] = list[--nlist];
}

static int ctl(int epfd, int op, int fd, struct epoll_event *ev)
{
	struct pl_ent *e;
	int i = find(epfd, fd);

	if (!pl_xs_get(fd, "epoll_ctl"))
		return -1;
	if (op != EPOLL_CTL_DEL && !ev) {
		errno = EFAULT;
		return -1;
	}
	switch (op) {
	case EPOLL_CTL_ADD:
		if (i >= 0) {
			errno = EEXIST;
			return -1;
		}
		e = pl_ent(epfd, true);
		if (!e || (e->kind != PL_NONE && e->kind != PL_EPOLL)) {
			errno = EINVAL;
			return -1;
		}
		if (nlist == caplist) {
			int cap = caplist ? caplist * 2 : 64;
			struct interest *n = realloc(list, (size_t)cap * sizeof(*n));

			if (!n) {
				errno = ENOMEM;
				return -1;
			}
			list = n;
			caplist = cap;
		}
		list[nlist++] = (struct interest){ epfd, fd, pl_ent(fd, false)->xs, *ev, false };
		e->n_xm_watch++;
		atomic_store_explicit(&e->kind, PL_EPOLL, memory_order_release);
		return 0;
	case EPOLL_CTL_MOD:
		if (i < 0) {
			errno = ENOENT;
			return -1;
		}
		list[i].ev = *ev;
		list[i].off = false;
		return 0;
	case EPOLL_CTL_DEL:
		if (i < 0) {
			errno = ENOENT;
			return -1;
		}
		drop(i);
		return 0;
	default:
		errno = EINVAL;
		return -1;
	}
}

void pl_epoll_adopt(int fd, struct pl_ent *e)
{
	for (int i = 0; i < e->ncand_ep; i++)
		if (ctl(e->cand_epfd[i], EPOLL_CTL_ADD, fd, &e->cand_ev[i]) < 0)
			pl_debug("fd %d: not carried into epoll fd %d: %m", fd, e->cand_epfd[i]);
	e->ncand_ep = 0;
}

/* Note a candidate's membership of epfd (lock held). */
static void cand_note(struct pl_ent *e, int epfd, int op, const struct epoll_event *ev)
{
	int i;

	for (i = 0; i < e->ncand_ep && e->cand_epfd[i] != epfd; i++)
		;
	if (op == EPOLL_CTL_DEL) {
		if (i < e->ncand_ep) {
			e->cand_epfd[i] = e->cand_epfd[--e->ncand_ep];
			e->cand_ev[i] = e->cand_ev[e->ncand_ep];
		}
		return;
	}
	if (i == PL_CAND_EPOLLS) {
		pl_debug("fd in more than %d epoll sets: the rest lose it if it moves",
			 PL_CAND_EPOLLS);
		return;
	}
	e->cand_epfd[i] = epfd;
	e->cand_ev[i] = *ev;
	if (i == e->ncand_ep)
		e->ncand_ep++;
}

int epoll_ctl(int epfd, int op, int fd, struct epoll_event *ev)
{
	int r;

	pl_init();
	if (!pl_inside && pl_kind_of(fd) == PL_CAND) {
		r = real.epoll_ctl(epfd, op, fd, ev);
		if (r == 0) {
			pl_lock();
			if (pl_kind_of(fd) == PL_CAND)
				cand_note(pl_ent(fd, false), epfd, op, ev);
			pl_unlock();
		}
		return r;
	}
	if (pl_inside || pl_kind_of(fd) != PL_XM)
		return real.epoll_ctl(epfd, op, fd, ev);
	pl_lock();
	r = ctl(epfd, op, fd, ev);
	pl_unlock();
	return r;
}

/* The xdpmux interests of epfd that are ready, into out (at most max).
 * Lock held. */
static int scan(int epfd, struct epoll_event *out, int max)
{
	/* Kept between waits (they are made under the lock): a wait is the
	 * hot path of an event loop, and two mallocs per turn showed. */
	static struct pollfd *p;
	static int *idx, cap;
	int n = 0, got = 0;

	if (nlist > cap) {
		struct pollfd *np = realloc(p, (size_t)nlist * sizeof(*p));
		int *ni;

		if (np)
			p = np;
		ni = np ? realloc(idx, (size_t)nlist * sizeof(*idx)) : NULL;
		if (!ni) {
			errno = ENOMEM;
			return -1;
		}
		idx = ni;
		cap = nlist;
	}
	for (int i = 0; i < nlist; i++) {
		if (list[i].epfd != epfd || list[i].off || list[i].xs->pid != pl.pid)
			continue;
		p[n] = (struct pollfd){ .fd = list[i].xs->xfd,
					.events = (short)(list[i].ev.events & 0xffff) };
		idx[n++] = i;
	}
	if (n && xm_poll(p, (nfds_t)n, 0) < 0)
		n = 0;
	for (int j = 0; j < n && got < max; j++) {
		struct interest *it = &list[idx[j]];
		uint32_t ready = (uint16_t)p[j].revents, seen = it->xs->et_seen;

		if (it->ev.events & EPOLLET) {
			/* report only readiness not yet reported */
			it->xs->et_seen = ready;
			if (!(ready & ~seen))
				continue;
		}
		if (!ready)
			continue;
		out[got].events = ready;
		out[got++].data = it->ev.data;
		if (it->ev.events & EPOLLONESHOT)
			it->off = true;
	}
	return got;
}

/* How often a turn that found xdpmux events also asks the kernel's epoll
 * for its fds' events: that costs a syscall per turn, and a busy server's
 * kernel fds (a pipe, a timer, a listener on another device) can wait a
 * few turns; a turn that finds nothing always asks. */
#define KERNEL_CHECK_EVERY 8

static int wait_common(int epfd, struct epoll_event *evs, int max, int timeout,
		       const sigset_t *mask)
{
	static unsigned turns;
	uint64_t until = 0;
	/* Whether epfd may have events: unknown (assume so) until a sleep
	 * in ppoll() on it says. */
	bool kready = true, first = true;
	int got, r;

	if (max <= 0 || !evs) {
		errno = max <= 0 ? EINVAL : EFAULT;
		return -1;
	}
	pl_lock();
	pl_tx_release();
	for (;;) {
		struct pollfd k = { .fd = epfd, .events = POLLIN, .revents = POLLIN };

		got = scan(epfd, evs, max);
		if (got < 0)
			break;
		if (got < max && kready &&
		    (!got || !first || ++turns % KERNEL_CHECK_EVERY == 0)) {
			r = real.epoll_wait(epfd, evs + got, max - got, 0);
			if (r < 0) {
				got = got ? got : -1;
				break;
			}
			got += r;
		}
		first = false;
		if (got)
			break;
		if (!until)
			until = pl_deadline(timeout);
		if (until != UINT64_MAX && pl_now_ns() >= until)
			break;
		/* pl_sleep sets k.revents when it slept in ppoll(); when it
		 * returned at once (spinning found frames) it stays POLLIN. */
		if (pl_sleep(&k, 1, until, mask) < 0) {
			got = -1;
			break;
		}
		kready = k.revents != 0;
	}
	if (got > 0)
		pl_tx_hold();
	pl_unlock();
	return got;
}

int epoll_wait(int epfd, struct epoll_event *evs, int max, int timeout)
{
	pl_init();
	if (pl_inside || pl_kind_of(epfd) != PL_EPOLL) {
		pl_tx_release_outside();
		return real.epoll_wait(epfd, evs, max, timeout);
	}
	return wait_common(epfd, evs, max, timeout, NULL);
}

int epoll_pwait(int epfd, struct epoll_event *evs, int max, int timeout,
		const sigset_t *mask)
{
	pl_init();
	if (pl_inside || pl_kind_of(epfd) != PL_EPOLL) {
		pl_tx_release_outside();
		return real.epoll_pwait(epfd, evs, max, timeout, mask);
	}
	return wait_common(epfd, evs, max, timeout, mask);
}
