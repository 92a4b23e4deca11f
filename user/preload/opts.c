// SPDX-License-Identifier: MIT
/*
 * Options and descriptor calls: setsockopt/getsockopt, fcntl, ioctl and
 * dup/dup2/dup3. A candidate's options are set on its kernel socket and
 * remembered for the move; a placeholder's fd flags (close-on-exec) live
 * on the placeholder itself, its O_NONBLOCK on the xdpmux socket.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <linux/sockios.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>

#include "preload.h"

static void remember(struct pl_ent *e, int level, int name, const void *val,
		     socklen_t len)
{
	int i;

	if (len > sizeof(e->opts[0].val))
		return;
	if (!e->opts && !(e->opts = calloc(PL_CAND_OPTS, sizeof(*e->opts))))
		return;
	for (i = 0; i < e->nopts; i++)
		if (e->opts[i].level == level && e->opts[i].name == name)
			break;
	if (i == PL_CAND_OPTS)
		return;
	e->opts[i].level = level;
	e->opts[i].name = name;
	e->opts[i].len = len;
	memcpy(e->opts[i].val, val, len);
	if (i == e->nopts)
		e->nopts++;
}

int setsockopt(int fd, int level, int name, const void *val, socklen_t len)
{
	enum pl_kind k;
	struct pl_xs *xs;
	int r;

	pl_init();
	k = pl_inside ? PL_NONE : pl_kind_of(fd);
	if (k != PL_XM) {
		r = real.setsockopt(fd, level, name, val, len);
		if (r == 0 && k == PL_CAND) {
			pl_lock();
			if (pl_kind_of(fd) == PL_CAND)
				remember(pl_ent(fd, false), level, name, val, len);
			pl_unlock();
		}
		return r;
	}
	pl_lock();
	xs = pl_xs_get(fd, "setsockopt");
	if (xs && level == IPPROTO_TCP && name == TCP_CORK && xs->type == SOCK_STREAM) {
		r = len >= sizeof(int) && val ? pl_cork_set(xs, *(const int *)val != 0) : -1;
		if (r < 0 && (len < sizeof(int) || !val))
			errno = EINVAL;
		pl_unlock();
		return r;
	}
	r = xs ? xm_setsockopt(xs->xfd, level, name, val, len) : -1;
	if (r < 0 && xs && errno == ENOPROTOOPT) {
		pl_debug("fd %d: setsockopt %d/%d not supported", fd, level, name);
		pl_unsupported("setsockopt of this option (XDPMUX_DEBUG=1 names it)");
		errno = ENOPROTOOPT;
	}
	pl_unlock();
	return r;
}

int getsockopt(int fd, int level, int name, void *val, socklen_t *len)
{
	struct pl_xs *xs;
	int r;

	pl_init();
	if (pl_inside || pl_kind_of(fd) != PL_XM)
		return real.getsockopt(fd, level, name, val, len);
	pl_lock();
	xs = pl_xs_get(fd, "getsockopt");
	if (xs && level == IPPROTO_TCP && name == TCP_CORK && val && len &&
	    *len >= sizeof(int)) {
		*(int *)val = xs->corked;
		*len = sizeof(int);
		pl_unlock();
		return 0;
	}
	r = xs ? xm_getsockopt(xs->xfd, level, name, val, len) : -1;
	if (r < 0 && xs && errno == ENOPROTOOPT) {
		pl_debug("fd %d: getsockopt %d/%d not supported", fd, level, name);
		pl_unsupported("getsockopt of this option (XDPMUX_DEBUG=1 names it)");
		errno = ENOPROTOOPT;
	}
	pl_unlock();
	return r;
}

/* newfd now names the socket of oldfd too. Lock held. */
static void dup_into(int oldfd, int newfd)
{
	struct pl_ent *o = pl_ent(oldfd, false), *n = pl_ent(newfd, true);

	if (!n || !o || o->kind != PL_XM)
		return;
	pl_forget(newfd);
	n->xs = o->xs;
	n->xs->refs++;
	atomic_store_explicit(&n->kind, PL_XM, memory_order_release);
}

static int fcntl_xm(int fd, int cmd, long arg)
{
	struct pl_xs *xs;
	int r;

	pl_lock();
	xs = pl_xs_get(fd, "fcntl");
	if (!xs) {
		r = -1;
	} else if (cmd == F_GETFL) {
		r = real.fcntl(fd, F_GETFL);
		if (r >= 0)
			r = (r & ~O_NONBLOCK) | (xs->nonblock ? O_NONBLOCK : 0);
	} else if (cmd == F_SETFL) {
		r = real.fcntl(fd, F_SETFL, arg);
		if (r == 0)
			xs->nonblock = !!(arg & O_NONBLOCK);
	} else if (cmd == F_DUPFD || cmd == F_DUPFD_CLOEXEC) {
		r = real.fcntl(fd, cmd, arg);
		if (r >= 0)
			dup_into(fd, r);
	} else if (cmd == F_GETFD || cmd == F_SETFD) {
		r = real.fcntl(fd, cmd, arg);
	} else {
		pl_debug("fd %d: fcntl command %d not supported", fd, cmd);
		pl_unsupported("fcntl with this command (XDPMUX_DEBUG=1 names it)");
		errno = EINVAL;
		r = -1;
	}
	pl_unlock();
	return r;
}

int fcntl(int fd, int cmd, ...)
{
	va_list ap;
	long arg;

	va_start(ap, cmd);
	arg = va_arg(ap, long);
	va_end(ap);
	pl_init();
	if (pl_inside || pl_kind_of(fd) != PL_XM)
		return real.fcntl(fd, cmd, arg);
	return fcntl_xm(fd, cmd, arg);
}

/* What a program built with _FILE_OFFSET_BITS=64 calls. */
int fcntl64(int fd, int cmd, ...) __attribute__((alias("fcntl")));

int ioctl(int fd, unsigned long req, ...)
{
	struct pl_xs *xs;
	va_list ap;
	void *arg;
	int r = -1, k;

	va_start(ap, req);
	arg = va_arg(ap, void *);
	va_end(ap);
	pl_init();
	if (pl_inside || pl_kind_of(fd) != PL_XM)
		return real.ioctl(fd, req, arg);
	if (req >= 0x8910 && req <= 0x89ff && req != SIOCOUTQNSD) {
		/* Interface queries (SIOCGIF*) name a device, not the socket:
		 * any socket answers them. */
		k = real.socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
		if (k < 0)
			return -1;
		r = real.ioctl(k, req, arg);
		real.close(k);
		return r;
	}
	pl_lock();
	xs = pl_xs_get(fd, "ioctl");
	if (!xs) {
		r = -1;
	} else if (req == FIONBIO) {
		xs->nonblock = !!*(int *)arg;
		r = 0;
	} else if (req == FIONREAD || req == SIOCOUTQ || req == SIOCOUTQNSD) {
		/* SIOCINQ is FIONREAD, SIOCOUTQ is TIOCOUTQ. What TCP_CORK
		 * holds here is still in the send queue, as on Linux. */
		r = xm_ioctl(xs->xfd, req, arg);
		if (r == 0 && req != FIONREAD)
			*(int *)arg += (int)xs->cork_len;
	} else if (req == FIOCLEX || req == FIONCLEX) {
		r = real.ioctl(fd, req, arg);
	} else {
		pl_debug("fd %d: ioctl 0x%lx not supported", fd, req);
		pl_unsupported("ioctl with this request (XDPMUX_DEBUG=1 names it)");
		errno = ENOTTY;   /* as Linux for a request the socket lacks */
	}
	pl_unlock();
	return r;
}

int dup(int fd)
{
	int r;

	pl_init();
	if (pl_inside || pl_kind_of(fd) != PL_XM)
		return real.dup(fd);
	pl_lock();
	r = real.dup(fd);
	if (r >= 0)
		dup_into(fd, r);
	pl_unlock();
	return r;
}

static int dup3_common(int oldfd, int newfd, int flags, bool is_dup2)
{
	int r;

	pl_init();
	if (pl_inside || (pl_kind_of(oldfd) == PL_NONE && pl_kind_of(newfd) == PL_NONE) ||
	    oldfd == newfd)
		return is_dup2 ? real.dup2(oldfd, newfd) : real.dup3(oldfd, newfd, flags);
	pl_lock();
	r = is_dup2 ? real.dup2(oldfd, newfd) : real.dup3(oldfd, newfd, flags);
	if (r >= 0) {
		/* newfd was closed by the dup: forget what it was */
		if (pl_kind_of(oldfd) == PL_XM)
			dup_into(oldfd, newfd);
		else
			pl_forget(newfd);
	}
	pl_unlock();
	return r;
}

int dup2(int oldfd, int newfd)
{
	return dup3_common(oldfd, newfd, 0, true);
}

int dup3(int oldfd, int newfd, int flags)
{
	return dup3_common(oldfd, newfd, flags, false);
}
