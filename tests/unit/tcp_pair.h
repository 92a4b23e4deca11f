/* SPDX-License-Identifier: MIT */
/*
 * Two stacks on one simulated Ethernet segment, driven together in virtual
 * time, for the TCP tests (test_tcp_state.c, test_tcp_sim.c). Host A is
 * 198.18.0.1 / 2001:db8::1, host B 198.18.0.2 / 2001:db8::2. Sockets are
 * non-blocking: one thread drives both stacks with pair_run*().
 */
#ifndef XM_TEST_TCP_PAIR_H
#define XM_TEST_TCP_PAIR_H

#include <arpa/inet.h>
#include <criterion/criterion.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <string.h>

#include <xdpmux/xdpmux.h>

#include "../../user/lib/core/stack.h"
#include "../../user/lib/link/link.h"
#include "../../user/lib/socket/sock.h"
#include "../../user/lib/tcp/tcb.h"

struct pair {
	struct xm_sim *sim;
	struct xm_link *la, *lb;
	struct xm_stack *a, *b;
	uint64_t seed;
};

#define A4 "198.18.0.1"
#define B4 "198.18.0.2"

/* no_gso: the links have no segmentation offload (TCP sends frames of
 * one MTU, as over AF_XDP alone); else they cut super-segments as the
 * kernel's GSO would. */
static inline void pair_open_gso(struct pair *p, uint64_t seed, uint32_t mtu,
				 const struct xm_sim_impair *ia,
				 const struct xm_sim_impair *ib, bool no_gso)
{
	struct xm_sim_opts oa = { .mac = { 2, 0, 0, 0, 0, 1 }, .mtu = mtu,
				  .frames = 512, .n_ipv4 = 1, .n_ipv6 = 1 };
	struct xm_sim_opts ob = { .mac = { 2, 0, 0, 0, 0, 2 }, .mtu = mtu,
				  .frames = 512, .n_ipv4 = 1, .n_ipv6 = 1 };
	struct xm_stack_opts so = XM_STACK_OPTS_INIT;
	struct xm_clock clk;

	memset(p, 0, sizeof(*p));
	p->seed = seed;
	cr_assert_eq(xm_sim_new(seed, &p->sim), 0);
	oa.sim = ob.sim = p->sim;
	inet_pton(AF_INET, A4, oa.ipv4[0].addr);
	inet_pton(AF_INET, B4, ob.ipv4[0].addr);
	oa.ipv4[0].prefixlen = ob.ipv4[0].prefixlen = 24;
	inet_pton(AF_INET6, "2001:db8::1", oa.ipv6[0].addr);
	inet_pton(AF_INET6, "2001:db8::2", ob.ipv6[0].addr);
	oa.ipv6[0].prefixlen = ob.ipv6[0].prefixlen = 64;
	oa.no_gso = ob.no_gso = no_gso;
	if (ia)
		oa.tx = *ia;
	if (ib)
		ob.tx = *ib;
	cr_assert_eq(xm_link_sim_open(&oa, &p->la), 0);
	cr_assert_eq(xm_link_sim_open(&ob, &p->lb), 0);
	clk = xm_sim_clock(p->sim);
	so.skip_port_range_check = true;
	cr_assert_eq(xm_stack_open_link(p->la, &clk, &so, &p->a), 0);
	cr_assert_eq(xm_stack_open_link(p->lb, &clk, &so, &p->b), 0);
}

static inline void pair_open(struct pair *p, uint64_t seed, uint32_t mtu,
			     const struct xm_sim_impair *ia,
			     const struct xm_sim_impair *ib)
{
	pair_open_gso(p, seed, mtu, ia, ib, false);
}

/* Every frame back in its pool, every connection and buffer freed. */
static inline void pair_check_no_leaks(struct pair *p)
{
	struct xm_stack *ss[2] = { p->a, p->b };

	for (int i = 0; i < 2; i++) {
		uint64_t total, acc;

		cr_assert_eq(xm_stack_frames(ss[i], &total, &acc), 0);
		cr_assert_eq(total, acc, "seed %lu: stack %d leaked %lu frames",
			     (unsigned long)p->seed, i, (unsigned long)(total - acc));
		if (ss[i]->tcp) {
			cr_assert_eq(ss[i]->tcp->nconns, 0,
				     "seed %lu: stack %d has %u connections left",
				     (unsigned long)p->seed, i, ss[i]->tcp->nconns);
			cr_assert_eq(ss[i]->tcp->mem, 0,
				     "seed %lu: stack %d holds %lu buffer bytes",
				     (unsigned long)p->seed, i,
				     (unsigned long)ss[i]->tcp->mem);
		}
	}
}

static inline void pair_close(struct pair *p)
{
	xm_stack_close(p->a);
	xm_stack_close(p->b);
	xm_sim_free(p->sim);
}

static inline bool pair_step_until(struct pair *p, uint64_t limit);

/* Close the given fds (-1: none), let every connection finish (TIME-WAIT
 * is 60 s), check nothing leaked, free everything. */
static inline void pair_finish(struct pair *p, int c, int s, int l)
{
	uint64_t end;

	if (c >= 0)
		xm_close(c);
	if (s >= 0)
		xm_close(s);
	if (l >= 0)
		xm_close(l);
	end = xm_sim_now(p->sim) + 70000000000ull;
	while (xm_sim_now(p->sim) < end && pair_step_until(p, end))
		;
	pair_check_no_leaks(p);
	pair_close(p);
}

static inline uint64_t min64(uint64_t a, uint64_t b)
{
	return a < b ? a : b;
}

/* One step: process what both stacks have, else advance virtual time to
 * the next event (a timer, or a frame's arrival; frames on the wire are
 * waited for in steps of at most 50 us so neither host's is skipped).
 * Returns false when nothing can ever happen again. */
static inline bool pair_step_until(struct pair *p, uint64_t limit)
{
	int ra = xm_stack_poll(p->a), rb = xm_stack_poll(p->b);
	uint64_t now = xm_sim_now(p->sim), tn;

	cr_assert_geq(ra, 0);
	cr_assert_geq(rb, 0);
	if (ra > 0 || rb > 0)
		return true;
	tn = min64(xm_timers_next(&p->a->timers), xm_timers_next(&p->b->timers));
	if (!xm_sim_in_flight(p->sim)) {
		if (tn == UINT64_MAX)
			return false;
		tn = min64(tn, limit);
		if (tn > now)
			xm_sim_advance(p->sim, tn - now);
		return true;
	}
	xm_stack_wait(p->a, min64(tn, now + 50000));
	if (xm_sim_now(p->sim) == now)
		xm_sim_advance(p->sim, 1000);
	return true;
}

static inline bool pair_step(struct pair *p)
{
	return pair_step_until(p, UINT64_MAX);
}

/* Run for ns of virtual time (or until nothing can happen). */
static inline void pair_run(struct pair *p, uint64_t ns)
{
	uint64_t end = xm_sim_now(p->sim) + ns;

	while (xm_sim_now(p->sim) < end && pair_step_until(p, end))
		;
}

/* Run until cond(ctx) or ns of virtual time passed; returns cond. */
static inline bool pair_run_until(struct pair *p, uint64_t ns,
				  bool (*cond)(void *), void *ctx)
{
	uint64_t end = xm_sim_now(p->sim) + ns;

	while (!cond(ctx)) {
		if (xm_sim_now(p->sim) >= end || !pair_step_until(p, end))
			return cond(ctx);
	}
	return true;
}

static inline struct sockaddr_in sin4(const char *ip, uint16_t port)
{
	struct sockaddr_in a = { .sin_family = AF_INET, .sin_port = htons(port) };

	inet_pton(AF_INET, ip, &a.sin_addr);
	return a;
}

static inline struct sockaddr_in6 sin6(const char *ip, uint16_t port)
{
	struct sockaddr_in6 a = { .sin6_family = AF_INET6, .sin6_port = htons(port) };

	inet_pton(AF_INET6, ip, &a.sin6_addr);
	return a;
}

static inline struct xm_tcp_conn *conn_of_fd(int fd)
{
	struct xm_sock *s = xm_fd_get(fd);

	return s ? s->pcb.tcp.conn : NULL;
}

static inline enum xm_tcp_state state_of(int fd)
{
	struct xm_tcp_conn *c = conn_of_fd(fd);

	return c ? c->state : XM_TCP_CLOSED;
}

/* A listener on B:port and a connected, accepted pair; returns the
 * listener, *cfd (on A) and *sfd (on B). */
static inline int pair_connect(struct pair *p, int family, uint16_t port,
			       int *cfd, int *sfd)
{
	struct sockaddr_storage ss;
	socklen_t sl;
	int l, c, r;

	l = xm_socket_on(p->b, family, SOCK_STREAM | SOCK_NONBLOCK, 0);
	cr_assert_geq(l, 0);
	if (family == AF_INET) {
		struct sockaddr_in a = sin4("0.0.0.0", port);

		memcpy(&ss, &a, sizeof(a));
		sl = sizeof(a);
	} else {
		struct sockaddr_in6 a = sin6("::", port);

		memcpy(&ss, &a, sizeof(a));
		sl = sizeof(a);
	}
	cr_assert_eq(xm_bind(l, (struct sockaddr *)&ss, sl), 0, "bind: %s", strerror(errno));
	cr_assert_eq(xm_listen(l, 16), 0);
	c = xm_socket_on(p->a, family, SOCK_STREAM | SOCK_NONBLOCK, 0);
	cr_assert_geq(c, 0);
	if (family == AF_INET) {
		struct sockaddr_in a = sin4(B4, port);

		memcpy(&ss, &a, sizeof(a));
	} else {
		struct sockaddr_in6 a = sin6("2001:db8::2", port);

		memcpy(&ss, &a, sizeof(a));
	}
	r = xm_connect(c, (struct sockaddr *)&ss, sl);
	cr_assert(r == -1 && errno == EINPROGRESS, "connect: %d %s", r, strerror(errno));
	*sfd = -1;
	for (int i = 0; i < 100000 && *sfd < 0; i++) {
		pair_step(p);
		*sfd = xm_accept(l, NULL, NULL);
		if (*sfd < 0)
			cr_assert_eq(errno, EAGAIN);
	}
	cr_assert_geq(*sfd, 0, "seed %lu: no connection accepted", (unsigned long)p->seed);
	for (int i = 0; i < 100000 && state_of(c) != XM_TCP_ESTABLISHED; i++)
		pair_step(p);
	cr_assert_eq(state_of(c), XM_TCP_ESTABLISHED);
	*cfd = c;
	return l;
}

/* A connection A (*c) -> B (*s) on port 8080 whose B end sends without
 * Nagle's wait, so that each send goes out at once, over links that
 * delay every frame by delay_ns; returns B's end. */
static inline struct xm_tcp_conn *pair_nodelay_delayed(struct pair *p, uint64_t seed,
							uint64_t delay_ns, int *l,
							int *c, int *s)
{
	struct xm_sim_impair im = { .delay_ns = delay_ns };
	int one = 1;

	pair_open(p, seed, 1500, &im, &im);
	*l = pair_connect(p, AF_INET, 8080, c, s);
	cr_assert_eq(xm_setsockopt(*s, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one)), 0);
	return conn_of_fd(*s);
}

static inline struct xm_tcp_conn *pair_nodelay(struct pair *p, uint64_t seed,
						int *l, int *c, int *s)
{
	return pair_nodelay_delayed(p, seed, 0, l, c, s);
}

/* pair_run_until() condition: everything d->want bytes arrived at d->fd. */
struct drain {
	int fd;
	size_t got, want;
};

static inline bool drained(void *ctx)
{
	struct drain *d = ctx;
	static uint8_t buf[65536];
	ssize_t n;

	while ((n = xm_recv(d->fd, buf, sizeof(buf), MSG_DONTWAIT)) > 0)
		d->got += (size_t)n;
	return d->got == d->want;
}

#endif /* XM_TEST_TCP_PAIR_H */
