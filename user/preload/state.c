// SPDX-License-Identifier: MIT
/*
 * The preload's process state: settings from `xdpmux run` (environment),
 * the one lock, the stack (opened at the first socket that moves), the fd
 * table, fork handling, and the messages it prints.
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <dirent.h>
#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <net/if.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include <xdpmux/control.h>

#include "preload.h"

struct pl_state pl = { .wake_fd = -1 };
struct pl_real real;
__thread int pl_inside;

static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_once_t once = PTHREAD_ONCE_INIT;

/* Two-level fd table: chunks are allocated once and never freed, so a
 * lookup needs no lock. */
#define CHUNK_BITS 10
#define CHUNK (1 << CHUNK_BITS)
#define NCHUNKS 1024           /* fds below 1 << 20 */
static _Atomic(struct pl_ent *) chunks[NCHUNKS];

struct pl_ent *pl_ent(int fd, bool create)
{
	unsigned c = (unsigned)fd >> CHUNK_BITS;
	struct pl_ent *ch;

	if (fd < 0 || c >= NCHUNKS)
		return NULL;
	ch = atomic_load_explicit(&chunks[c], memory_order_acquire);
	if (!ch && create) {
		struct pl_ent *n = calloc(CHUNK, sizeof(*n));

		if (!n)
			return NULL;
		if (!atomic_compare_exchange_strong(&chunks[c], &ch, n))
			free(n);
		else
			ch = n;
	}
	return ch ? &ch[fd & (CHUNK - 1)] : NULL;
}

void pl_lock(void)
{
	pthread_mutex_lock(&lock);
	pl_inside++;
}

static void wake_check(void)
{
	if (pl.sleepers && pl.st) {
		struct xm_stack_stats s;
		uint64_t frames;

		/* This thread may have consumed frames that a sleeper waits
		 * for: its ppoll on the stack fd would not see them. */
		xm_stack_stats(pl.st, &s);
		frames = s.rx_frames + s.tx_frames;
		if (frames != pl.seen_frames) {
			uint64_t one = 1;

			pl.seen_frames = frames;
			pl.wake_set = true;
			if (write(pl.wake_fd, &one, sizeof(one)) < 0) {
				/* the counter is already non-zero: sleepers wake */
			}
		}
	}
}

void pl_unlock(void)
{
	wake_check();
	pl_inside--;
	pthread_mutex_unlock(&lock);
}

void pl_unlock_to_sleep(void)
{
	wake_check();
	pl.sleepers++;
	pl_inside--;
	pthread_mutex_unlock(&lock);
}

void pl_lock_after_sleep(void)
{
	uint64_t v;

	pl_lock();
	/* The last sleeper out resets the wake: everyone asleep saw it. */
	if (--pl.sleepers == 0 && pl.wake_set) {
		pl.wake_set = false;
		if (read(pl.wake_fd, &v, sizeof(v)) < 0) {
			/* already reset */
		}
	}
}

void pl_tx_hold(void)
{
	if (pl.st && !pl.tx_held) {
		xm_stack_tx_hold(pl.st, true);
		atomic_store_explicit(&pl.tx_held, true, memory_order_relaxed);
	}
}

void pl_tx_release(void)
{
	if (pl.tx_held) {
		atomic_store_explicit(&pl.tx_held, false, memory_order_relaxed);
		if (pl.st)
			xm_stack_tx_hold(pl.st, false);
	}
}

void pl_debug(const char *fmt, ...)
{
	char line[512];
	va_list ap;
	int n;

	if (!pl.debug)
		return;
	n = snprintf(line, sizeof(line), "xdpmux[%d]: ", (int)getpid());
	va_start(ap, fmt);
	vsnprintf(line + n, sizeof(line) - (size_t)n - 1, fmt, ap);
	va_end(ap);
	strcat(line, "\n");
	pl_inside++;
	if (write(STDERR_FILENO, line, strlen(line)) < 0) {
		/* nowhere else to say it */
	}
	pl_inside--;
}

/* Print line once per key (a call name): a program that calls an
 * unsupported function in a loop must not flood its stderr. */
static void say_once(const char *key, const char *line)
{
	static const char *said[64];
	static int nsaid;
	int i;

	for (i = 0; i < nsaid; i++)
		if (!strcmp(said[i], key))
			return;
	if (nsaid < 64)
		said[nsaid++] = key;
	pl_inside++;
	if (write(STDERR_FILENO, line, strlen(line)) < 0) {
		/* nowhere else to say it */
	}
	pl_inside--;
}

void pl_unsupported(const char *call)
{
	char line[256];

	snprintf(line, sizeof(line),
		 "xdpmux: %s on an xdpmux socket is not supported\n", call);
	say_once(call, line);
}

struct pl_xs *pl_xs_get(int fd, const char *call)
{
	struct pl_ent *e = pl_ent(fd, false);
	char line[256];

	if (!e || e->kind != PL_XM) {
		errno = EBADF;
		return NULL;
	}
	if (e->xs->pid == pl.pid)
		return e->xs;
	snprintf(line, sizeof(line),
		 "xdpmux: %s on fd %d: the xdpmux socket belongs to the parent "
		 "process (pid %d); a forked child can only close it\n",
		 call, fd, (int)e->xs->pid);
	say_once("fork", line);
	errno = EBADF;
	return NULL;
}

void pl_forget(int fd)
{
	struct pl_ent *e = pl_ent(fd, false);
	struct pl_xs *xs;

	if (!e)
		return;
	switch (e->kind) {
	case PL_CAND:
		free(e->opts);
		e->opts = NULL;
		e->nopts = 0;
		e->ncand_ep = 0;
		break;
	case PL_XM:
		pl_tx_release();
		xs = e->xs;
		e->xs = NULL;
		pl_epoll_forget_fd(fd);
		if (--xs->refs == 0) {
			/* A forked child never touches the parent's stack:
			 * its rings are shared memory. */
			if (xs->pid == pl.pid) {
				pl_cork_flush(xs);
				xm_close(xs->xfd);
			}
			free(xs->cork_buf);
			free(xs);
		}
		break;
	case PL_EPOLL:
		pl_epoll_forget_epfd(fd);
		break;
	default:
		break;
	}
	atomic_store_explicit(&e->kind, PL_NONE, memory_order_release);
}

static void fork_prepare(void)
{
	pthread_mutex_lock(&lock);
}

static void fork_parent(void)
{
	pthread_mutex_unlock(&lock);
}

static void fork_child(void)
{
	/* The parent's stack stays the parent's: the child's sockets are
	 * kernel sockets, and the inherited xdpmux sockets can only be
	 * closed (pl_xs_get). */
	pl.pid = getpid();
	pl.st = NULL;
	pl.st_failed = true;
	pl.sleepers = 0;
	pl.wake_set = false;
	atomic_store(&pl.tx_held, false);
	pthread_mutex_unlock(&lock);
}

static void parse_ports(const char *s)
{
	while (s && *s && pl.nports < 64) {
		char *end;
		unsigned long lo = strtoul(s, &end, 10), hi = lo;

		if (*end == '-')
			hi = strtoul(end + 1, &end, 10);
		pl.port_lo[pl.nports] = (uint16_t)lo;
		pl.port_hi[pl.nports] = (uint16_t)hi;
		pl.nports++;
		s = *end == ',' ? end + 1 : NULL;
	}
}

#define REAL(name) real.name = (__typeof__(real.name))dlsym(RTLD_NEXT, #name)

static void init_once(void)
{
	const char *v;

	REAL(socket); REAL(bind); REAL(connect); REAL(listen); REAL(accept4);
	REAL(close); REAL(shutdown); REAL(read); REAL(write); REAL(readv);
	REAL(writev); REAL(send); REAL(recv); REAL(sendto); REAL(recvfrom);
	REAL(sendmsg); REAL(recvmsg); REAL(sendmmsg); REAL(recvmmsg);
	REAL(sendfile); REAL(getsockname); REAL(getpeername); REAL(getsockopt);
	REAL(setsockopt); REAL(fcntl); REAL(ioctl); REAL(dup); REAL(dup2);
	REAL(dup3); REAL(poll); REAL(ppoll); REAL(select); REAL(pselect);
	REAL(epoll_ctl); REAL(epoll_wait); REAL(epoll_pwait);

	pl.pid = getpid();
	v = getenv("XDPMUX_DEBUG");
	pl.debug = v && *v && strcmp(v, "0");
	v = getenv("XDPMUX_RUN_DEV");
	if (v)
		snprintf(pl.dev, sizeof(pl.dev), "%s", v);
	pl.ifindex = pl.dev[0] ? (int)if_nametoindex(pl.dev) : 0;
	if (!pl.ifindex) {
		pl.st_failed = true;
		pl_debug("no device (XDPMUX_RUN_DEV '%s'): every socket stays on the kernel",
			 pl.dev);
	}
	parse_ports(getenv("XDPMUX_RUN_PORTS"));
	v = getenv("XDPMUX_RUN_SPIN_US");
	pl.spin_us = v ? (uint32_t)strtoul(v, NULL, 10) : 0;
	pl.wake_fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	pthread_atfork(fork_prepare, fork_parent, fork_child);
}

__attribute__((constructor)) void pl_init(void)
{
	pthread_once(&once, init_once);
}

/* Which fds are open, as a bitmap over the first 4096 (NULL: unknown). */
static uint64_t *open_fds(void)
{
	uint64_t *set = calloc(4096 / 64, sizeof(*set));
	DIR *d = opendir("/proc/self/fd");
	struct dirent *de;

	if (!set || !d) {
		free(set);
		if (d)
			closedir(d);
		return NULL;
	}
	while ((de = readdir(d))) {
		int fd = atoi(de->d_name);

		if (de->d_name[0] != '.' && fd >= 0 && fd < 4096)
			set[fd / 64] |= 1ULL << (fd % 64);
	}
	closedir(d);
	return set;
}

/* The stack's own fds must not leak into a program the application execs
 * (an AF_XDP socket there would hold the device): whatever the stack and
 * the libraries under it opened gets FD_CLOEXEC. */
static void cloexec_new_fds(const uint64_t *before)
{
	uint64_t *after = open_fds();

	if (!before || !after) {
		free(after);
		return;
	}
	for (int fd = 0; fd < 4096; fd++) {
		uint64_t bit = 1ULL << (fd % 64);

		if ((after[fd / 64] & bit) && !(before[fd / 64] & bit)) {
			int fl = real.fcntl(fd, F_GETFD);

			if (fl >= 0 && !(fl & FD_CLOEXEC))
				real.fcntl(fd, F_SETFD, fl | FD_CLOEXEC);
		}
	}
	free(after);
}

/* Bindings owned by our pid that this image did not make (it has no
 * stack yet) are those of the image before an exec: its stack went
 * without a word (exec runs no destructor). Removed, so that ours start
 * clean and go when we close. */
static void drop_bindings_of_exec(void)
{
	struct xm_binding *b;
	struct xm_ctl *ctl;
	size_t n;

	if (xm_ctl_open(pl.dev, &ctl))
		return;
	if (!xm_ctl_list(ctl, &b, &n)) {
		for (size_t i = 0; i < n; i++)
			if (b[i].val.owner_pid == (uint32_t)pl.pid &&
			    !xm_ctl_unbind(ctl, &b[i].key))
				pl_debug("removed a binding of the program before exec (port %u)",
					 ntohs(b[i].key.port));
		free(b);
	}
	xm_ctl_close(ctl);
}

struct xm_stack *pl_stack(void)
{
	uint64_t *before;
	struct xm_stack_opts o = XM_STACK_OPTS_INIT;
	char line[256];
	int r;

	if (pl.st || pl.st_failed)
		return pl.st;
	o.spin_us = pl.spin_us;
	drop_bindings_of_exec();
	before = open_fds();
	r = xm_stack_open(pl.dev, &o, &pl.st);
	if (r == 0)
		cloexec_new_fds(before);
	free(before);
	if (r < 0) {
		pl.st = NULL;
		pl.st_failed = true;
		snprintf(line, sizeof(line),
			 "xdpmux: cannot open the xdpmux stack on %s: %s; every socket "
			 "stays on the kernel\n", pl.dev, strerror(-r));
		say_once("stack_open", line);
		return NULL;
	}
	pl_debug("opened the xdpmux stack on %s", pl.dev);
	return pl.st;
}

#define EXIT_DRAIN_NS (10ULL * 1000000000ULL)

/* At exit the kernel would close the program's sockets and go on sending
 * what they hold; here the stack dies with the process. So: close every
 * socket the program still has, and run the stack until the TCP send
 * buffers are empty (acknowledged) or EXIT_DRAIN_NS passed. Then the
 * bindings go with the stack, so the ports return to the kernel at once
 * rather than when `xdpmux gc` finds the owner dead. */
__attribute__((destructor)) static void pl_fini(void)
{
	uint64_t deadline = pl_now_ns() + EXIT_DRAIN_NS;
	struct xm_stack_stats s;

	if (!pl.st || pl.pid != getpid())
		return;
	pl_lock();
	pl_tx_release();
	for (int c = 0; c < NCHUNKS; c++) {
		struct pl_ent *ch = atomic_load(&chunks[c]);

		for (int i = 0; ch && i < CHUNK; i++)
			if (ch[i].kind == PL_XM)
				pl_forget(c * CHUNK + i);
	}
	while (!xm_stack_stats(pl.st, &s) && s.tcp_mem_bytes && pl_now_ns() < deadline)
		if (xm_stack_poll(pl.st) <= 0 && pl_sleep(NULL, 0, deadline, NULL) < 0 &&
		    errno != EINTR)
			break;
	xm_stack_close(pl.st);
	pl.st = NULL;
	pl.st_failed = true;
	pl_unlock();
}
