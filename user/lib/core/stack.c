// SPDX-License-Identifier: MIT
/*
 * The stack object and its event loop: receive a batch from the link, hand
 * each frame to Ethernet input, run due timers, flush the frames built on
 * the way, and let the link do its deferred work. Blocking calls wait on
 * the link (its poll fd, or virtual time on the sim) until the next timer.
 */
#define _GNU_SOURCE   /* ppoll */
#include <errno.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/random.h>
#include <sys/timerfd.h>
#include <time.h>
#include <unistd.h>

#include <xdpmux/control.h>

#include "../net/net.h"
#include "../socket/sock.h"
#include "stack.h"

#define DEFAULT_BUF        212992u      /* Linux net.core.rmem_default */
#define DEFAULT_REASM_MEM  (4u << 20)   /* Linux ipfrag_high_thresh */
#define DEFAULT_REASM_MS   30000u       /* Linux ipfrag_time */
#define POLL_BUDGET        4            /* rx batches per xm_stack_poll */

static int epoll_add(int epfd, int fd)
{
	struct epoll_event ev = { .events = EPOLLIN, .data.fd = fd };

	return epoll_ctl(epfd, EPOLL_CTL_ADD, fd, &ev) < 0 ? -errno : 0;
}

/* The link's fd joins the set when xm_stack_fd() is first asked for, not
 * before: an fd in an epoll set calls the set back for every frame the
 * kernel queues on it, on the sender's CPU, even while nobody waits, and a
 * program that waits with xm_stack_wait_fd() (xdpmux run) never needs it. */
static int event_fd_open(struct xm_stack *st)
{
	st->epfd = epoll_create1(EPOLL_CLOEXEC);
	if (st->epfd < 0)
		return -errno;
	st->timerfd = timerfd_create(CLOCK_MONOTONIC, TFD_NONBLOCK | TFD_CLOEXEC);
	if (st->timerfd < 0)
		return -errno;
	return epoll_add(st->epfd, st->timerfd);
}

static void seed_rand(struct xm_stack *st)
{
	uint64_t seed = 0;

	/* The sim must replay exactly: seed from its clock, not the OS. */
	if (st->link->ops->wait || getrandom(&seed, sizeof(seed), GRND_NONBLOCK) !=
	    (ssize_t)sizeof(seed))
		seed = xm_now(st) ^ 0x2545f4914f6cdd1dULL;
	st->rand_state = seed | 1;
}

uint32_t xm_stack_rand(struct xm_stack *st)
{
	/* xorshift64* */
	uint64_t x = st->rand_state;

	x ^= x >> 12;
	x ^= x << 25;
	x ^= x >> 27;
	st->rand_state = x;
	return (uint32_t)((x * 0x2545f4914f6cdd1dULL) >> 32);
}

/* Where a port table starts looking for ephemeral ports: random, so two
 * runs of a program do not reuse each other's ports at once. */
static uint16_t ephemeral_start(struct xm_stack *st)
{
	return (uint16_t)(XM_EPHEMERAL_FIRST +
		xm_stack_rand(st) % (XM_EPHEMERAL_LAST - XM_EPHEMERAL_FIRST + 1));
}

/* The link gave back the buffer of a frame charged to a send buffer. */
static void stack_tx_done(void *ctx, void *owner, uint32_t len)
{
	(void)ctx;
	xm_wmem_release(owner, xm_wmem_cost(len));
}

int xm_stack_open_link(struct xm_link *link, const struct xm_clock *clock,
		       const struct xm_stack_opts *o, struct xm_stack **out)
{
	struct xm_stack *st;
	int r;

	if (!link || !clock || !clock->now_ns || !out)
		return -EINVAL;
	st = calloc(1, sizeof(*st));
	if (!st) {
		link->ops->close(link);
		return -ENOMEM;
	}
	st->link = link;
	link->tx_done = stack_tx_done;
	link->tx_done_ctx = st;
	st->clock = *clock;
	st->epfd = st->timerfd = -1;
	st->timerfd_deadline = UINT64_MAX;
	if (o)
		st->opts = *o;
	if (!st->opts.rcvbuf_default)
		st->opts.rcvbuf_default = DEFAULT_BUF;
	if (!st->opts.sndbuf_default)
		st->opts.sndbuf_default = DEFAULT_BUF;
	if (!st->opts.reasm_mem_max)
		st->opts.reasm_mem_max = DEFAULT_REASM_MEM;
	if (!st->opts.reasm_timeout_ms)
		st->opts.reasm_timeout_ms = DEFAULT_REASM_MS;
	xm_timer_init(&st->neigh_timer, xm_neigh_timer_fn);
	r = link->ops->info(link, &st->info);
	if (r < 0)
		goto fail;
	st->csum_partial_ok = !strcmp(st->info.kind, "veth");
	st->tso = link->ops->tx_gso && st->info.gso_max_size &&
		  st->info.gso_max_segs > 1 && !st->opts.no_tso &&
		  !xm_stack_tso_env_off();
	if (!st->info.rx_multibuf)
		snprintf(st->notice, sizeof(st->notice),
			 "%s cannot receive packets larger than %u bytes (no "
			 "multi-buffer AF_XDP): a peer must not send TSO/GSO "
			 "superpackets to it (on the peer: ethtool -K PEERDEV tso off "
			 "gso off)%s", st->info.name, st->info.mtu,
			 st->info.dev_mtu > st->info.mtu ? ", nor frames above that MTU" : "");
	if (st->info.mtu < 1280) {   /* IPv6 minimum; IPv4 needs less */
		r = -EINVAL;
		goto fail;
	}
	r = event_fd_open(st);
	if (r < 0)
		goto fail;
	seed_rand(st);
	st->flow_key = xm_stack_rand(st);
	r = xm_ports_init(&st->udp_ports, IPPROTO_UDP, ephemeral_start(st));
	if (r < 0)
		goto fail;
	st->ipv4_id = xm_stack_rand(st);
	st->ipv6_id = xm_stack_rand(st);
	xm_stack_use(st);
	*out = st;
	return 0;
fail:
	st->ctl = NULL;
	xm_stack_close(st);
	return r;
}

const char *xm_stack_notice(const struct xm_stack *st)
{
	return st && st->notice[0] ? st->notice : NULL;
}

void xm_stack_close(struct xm_stack *st)
{
	if (!st)
		return;
	xm_socks_close_all(st);   /* unbinds their ports */
	xm_tcp_fini(st);          /* connections close() left behind */
	xm_stack_tx_hold(st, false);
	xm_reasm_fini(st);
	xm_ip_output_fini(st);
	xm_timers_free(&st->timers);
	st->link->ops->close(st->link);
	if (st->ctl)
		xm_ctl_close(st->ctl);
	if (st->epfd >= 0)
		close(st->epfd);
	if (st->timerfd >= 0)
		close(st->timerfd);
	xm_ports_fini(&st->udp_ports);
	xm_stack_unuse(st);
	free(st);
}

int xm_stack_fd(struct xm_stack *st)
{
	int lfd, r;

	if (!st)
		return -EINVAL;
	lfd = st->link->ops->poll_fd(st->link);
	if (!st->epfd_has_link && lfd >= 0) {
		r = epoll_add(st->epfd, lfd);
		if (r < 0)
			return r;
		st->epfd_has_link = true;
	}
	return st->epfd;
}

int xm_stack_wait_fd(const struct xm_stack *st)
{
	if (!st)
		return -EINVAL;
	return st->link->ops->poll_fd(st->link);
}

/* Keep the timerfd no later than the earliest timer so that an application
 * epolling xm_stack_fd() wakes up for it. Relative, so a virtual clock
 * works too. Two syscalls, and this runs on every xm_stack_poll(), so only
 * when the earliest deadline moved earlier or the armed one passed: a
 * deadline that moved later (a timer restarted or cancelled, as every ACK
 * does to the retransmission timer) leaves the fd armed early, and the
 * one wakeup too many that costs re-arms it then. */
static void timerfd_sync(struct xm_stack *st)
{
	uint64_t next = xm_timers_next(&st->timers), now, expired;
	struct itimerspec its = { 0 };

	if (next == UINT64_MAX && st->timerfd_deadline == UINT64_MAX)
		return;   /* the common case: no timer, no clock read */
	now = xm_now(st);
	if (next >= st->timerfd_deadline && st->timerfd_deadline > now)
		return;
	/* Drain a pending expiry so the fd stops polling readable. */
	while (read(st->timerfd, &expired, sizeof(expired)) > 0)
		;
	if (next != UINT64_MAX) {
		uint64_t d = next > now ? next - now : 1;

		its.it_value.tv_sec = (time_t)(d / 1000000000ULL);
		its.it_value.tv_nsec = (long)(d % 1000000000ULL);
	}
	timerfd_settime(st->timerfd, 0, &its, NULL);
	st->timerfd_deadline = next;
}

int xm_stack_poll(struct xm_stack *st)
{
	struct xm_frame f[XM_RX_BATCH];
	int total = 0;
	bool timed;

	if (!st)
		return -EINVAL;
	for (int b = 0; b < POLL_BUDGET; b++) {
		int n = st->link->ops->rx(st->link, f, XM_RX_BATCH);

		if (n < 0)
			return n;
		for (int i = 0; i < n; i++) {
			st->stats.rx_frames++;
			st->stats.rx_bytes += f[i].len;
			if (f[i].len > st->info.mtu + XM_ETH_HLEN)
				st->stats.rx_superframes++;
			xm_now_hold(st);
			xm_eth_input(st, f[i].data, f[i].len);
			xm_now_release(st);
		}
		if (n)
			st->link->ops->rx_release(st->link, f, n);
		total += n;
		if (n < XM_RX_BATCH)
			break;
	}
	/* Reading the clock is not free (a VM's vDSO may trap): only when a
	 * timer is armed. */
	timed = xm_timers_next(&st->timers) != UINT64_MAX;
	if (timed) {
		xm_now_hold(st);   /* the timers and timerfd_sync: one read */
		xm_timers_run(st, &st->timers, xm_now(st));
	}
	xm_tx_flush(st);
	xm_tx_reap(st);
	/* Nothing left to complete: no sender can gain by waking. */
	if (st->tx_waiting && !xm_tx_in_flight(st))
		st->tx_waiting = false;
	timerfd_sync(st);
	if (timed)
		xm_now_release(st);
	return total;
}

int xm_stack_timeout_ms(const struct xm_stack *st)
{
	uint64_t next = xm_timers_next(&st->timers), now = xm_now(st), ms;

	if (st->tx_waiting && next > now + XM_TX_RETRY_NS)
		next = now + XM_TX_RETRY_NS;   /* completions signal no fd */
	if (next == UINT64_MAX)
		return -1;
	if (next <= now)
		return 0;
	ms = (next - now + 999999) / 1000000;
	return ms > INT32_MAX ? INT32_MAX : (int)ms;
}

static inline void cpu_relax(void)
{
#if defined(__x86_64__) || defined(__i386__)
	__builtin_ia32_pause();
#elif defined(__aarch64__)
	__asm__ __volatile__("yield");
#endif
}

/* Poll the link until it has frames (1) or the clock reaches end (0). */
static int spin_until(struct xm_stack *st, uint64_t end)
{
	struct xm_link *l = st->link;
	unsigned int i;

	if (!l->ops->rx_ready)
		return 0;
	for (i = 0;; i++) {
		if (l->ops->rx_ready(l)) {
			st->stats.spin_hits++;
			return 1;
		}
		/* A look at the ring is cheaper than a clock read. */
		if ((i & 15) == 15 && xm_now(st) >= end) {
			st->stats.spin_timeouts++;
			return 0;
		}
		cpu_relax();
	}
}

int xm_stack_spin(struct xm_stack *st, uint32_t usec)
{
	uint64_t end;

	if (!st)
		return -EINVAL;
	if (!usec || !st->link->ops->rx_ready)
		return 0;
	end = xm_now(st) + (uint64_t)usec * 1000;
	if (xm_timers_next(&st->timers) < end)
		end = xm_timers_next(&st->timers);
	return spin_until(st, end);
}

int xm_stack_wait(struct xm_stack *st, uint64_t deadline_ns)
{
	uint64_t until = xm_timers_next(&st->timers), now;
	struct timespec ts;
	struct pollfd p;
	int fd, r;

	if (deadline_ns < until)
		until = deadline_ns;
	/* The sim's wait knows its completion times; a real link's
	 * completions wake no fd, so look again soon. */
	if (st->link->ops->wait)
		return st->link->ops->wait(st->link, until);
	fd = st->link->ops->poll_fd(st->link);
	now = xm_now(st);
	if (st->tx_waiting && until > now + XM_TX_RETRY_NS)
		until = now + XM_TX_RETRY_NS;
	if (until != UINT64_MAX && until <= now)
		return 0;
	if (fd < 0 && until == UINT64_MAX)
		return -EDEADLK;   /* nothing can ever wake us */
	if (st->opts.spin_us) {
		uint64_t end = now + (uint64_t)st->opts.spin_us * 1000;

		if (spin_until(st, end < until ? end : until))
			return 0;
		now = xm_now(st);
		if (until != UINT64_MAX && until <= now)
			return 0;
	}
	ts.tv_sec = (time_t)((until - now) / 1000000000ULL);
	ts.tv_nsec = (long)((until - now) % 1000000000ULL);
	p.fd = fd;   /* -1: just sleep */
	p.events = POLLIN;
	r = ppoll(&p, 1, until == UINT64_MAX ? NULL : &ts, NULL);
	if (r < 0 && errno != EINTR)
		return -errno;
	return r < 0 ? -EINTR : 0;
}

int xm_stack_frames(const struct xm_stack *st, uint64_t *total,
		    uint64_t *accounted)
{
	struct xm_frame_accounting a;
	int r;

	if (!st || !total || !accounted)
		return -EINVAL;
	r = st->link->ops->accounting(st->link, &a);
	if (r < 0)
		return r;
	*total = a.total;
	*accounted = xm_frame_accounting_sum(&a);
	return 0;
}

int xm_stack_port_hook(struct xm_stack *st, int proto, int family,
		       const void *addr, uint16_t port, bool bind)
{
	if (!st->opts.bind_hook)
		return 0;   /* a stack without a device: nothing to steer */
	return st->opts.bind_hook(st->opts.hook_ctx, proto, family, addr, port,
				  bind);
}

/* ---- tx: frames are built in link buffers and submitted in batches ---- */

static void tx_submit(struct xm_stack *st);

int xm_tx_alloc(struct xm_stack *st, struct xm_frame *f)
{
	int n;

	if (st->txq_n == XM_TX_BATCH)
		xm_tx_flush(st);
	n = st->link->ops->tx_alloc(st->link, f, 1);
	if (n == 0) {
		/* Submit what we hold and let the link reap completions. */
		tx_submit(st);
		xm_tx_reap(st);
		n = st->link->ops->tx_alloc(st->link, f, 1);
	}
	if (n < 0)
		return n;
	if (n == 1)
		return 0;
	/* Waiting helps only if buffers are on their way back. */
	return xm_tx_in_flight(st) ? -EAGAIN : -ENOBUFS;
}

bool xm_tx_in_flight(struct xm_stack *st)
{
	struct xm_frame_accounting a;

	return st->link->ops->accounting(st->link, &a) == 0 && a.tx_in_flight;
}

int xm_tx_gso(struct xm_stack *st, const struct xm_link_gso *g)
{
	uint32_t len = g->hlen + g->len[0] + g->len[1];
	int r;

	/* Frames built before it leave first, held or not: segments of one
	 * connection must not overtake each other. */
	tx_submit(st);
	r = st->link->ops->tx_gso(st->link, g);
	/* The device refuses what it said it takes: frames from now on,
	 * not a wasted syscall before each. A full socket buffer or a
	 * device down passes. */
	if (r == -EINVAL || r == -EOPNOTSUPP || r == -EMSGSIZE || r == -EPERM ||
	    r == -EACCES)
		st->tso = false;
	if (r < 0)
		return r;
	st->stats.tx_frames++;
	st->stats.tx_bytes += len;
	return 0;
}

bool xm_stack_tso_env_off(void)
{
	const char *v = getenv("XDPMUX_TSO");

	return v && !strcmp(v, "0");
}

void xm_tx_queue(struct xm_stack *st, const struct xm_frame *f)
{
	if (st->txq_n == XM_TX_BATCH)
		xm_tx_flush(st);
	if (f->owner)
		xm_wmem_charge(f->owner, xm_wmem_cost(f->len));
	st->txq[st->txq_n++] = *f;
}

bool xm_tx_room(struct xm_stack *st)
{
	struct xm_frame f;

	if (st->link->ops->tx_alloc(st->link, &f, 1) != 1)
		return false;
	st->link->ops->tx_abort(st->link, &f, 1);
	return true;
}

void xm_tx_reap(struct xm_stack *st)
{
	if (st->link->ops->kick)
		st->link->ops->kick(st->link);
}

struct xm_wmem *xm_wmem_new(void)
{
	return calloc(1, sizeof(struct xm_wmem));
}

void xm_wmem_orphan(struct xm_wmem *w)
{
	if (w && !w->bytes)
		free(w);
	else if (w)
		w->orphan = true;
}

void xm_wmem_charge(struct xm_wmem *w, uint32_t bytes)
{
	w->bytes += bytes;
}

void xm_wmem_release(struct xm_wmem *w, uint32_t bytes)
{
	w->bytes -= bytes;
	if (w->orphan && !w->bytes)
		free(w);
}

void xm_stack_tx_hold(struct xm_stack *st, bool hold)
{
	st->tx_hold = hold;
	if (!hold)
		tx_submit(st);
}

void xm_tx_flush(struct xm_stack *st)
{
	/* Held: the frames wait in txq for the release, or until it is full. */
	if (!st->tx_hold || st->txq_n == XM_TX_BATCH)
		tx_submit(st);
}

static void tx_submit(struct xm_stack *st)
{
	int n = st->txq_n, sent;
	uint64_t bytes = 0;

	if (!n)
		return;
	for (int i = 0; i < n; i++)
		bytes += st->txq[i].len;
	st->txq_n = 0;
	sent = st->link->ops->tx_submit(st->link, st->txq, n);
	if (sent < 0)
		sent = 0;
	st->stats.tx_frames += (uint64_t)sent;
	st->stats.tx_bytes += sent == n ? bytes : 0;
	st->stats.tx_link_drops += (uint64_t)(n - sent);
}
