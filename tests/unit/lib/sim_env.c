// SPDX-License-Identifier: MIT
#include <criterion/criterion.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdlib.h>
#include <string.h>

#include "sim_env.h"

const uint8_t env_ip4_a[4] = { 198, 18, 0, 2 };
const uint8_t env_ip4_b[4] = { 198, 18, 0, 1 };
const uint8_t env_ip6_a[16] = { 0x20, 0x01, 0x0d, 0xb8, [15] = 2 };
const uint8_t env_ip6_b[16] = { 0x20, 0x01, 0x0d, 0xb8, [15] = 1 };

static void link_opts(struct xm_sim_opts *so, struct xm_sim *sim, uint8_t id,
		      const uint8_t *ip4, const uint8_t *ip6, uint32_t mtu,
		      const struct xm_sim_impair *tx)
{
	memset(so, 0, sizeof(*so));
	so->sim = sim;
	so->mac[0] = 0x02;
	so->mac[5] = id;
	so->mtu = mtu;
	so->frames = 4096;
	so->n_ipv4 = 1;
	memcpy(so->ipv4[0].addr, ip4, 4);
	so->ipv4[0].prefixlen = 15;
	so->n_ipv6 = 1;
	memcpy(so->ipv6[0].addr, ip6, 16);
	so->ipv6[0].prefixlen = 32;
	so->tx = *tx;
}

void env_open(struct sim_env *e, uint64_t seed, const struct sim_env_opts *o)
{
	static const struct sim_env_opts none;
	const char *env_seed = getenv("XM_SEED");
	struct xm_sim_opts so;
	struct xm_clock clock;
	struct xm_link *la, *lb;

	if (!o)
		o = &none;
	memset(e, 0, sizeof(*e));
	e->seed = env_seed ? strtoull(env_seed, NULL, 0) : seed;
	cr_assert_eq(xm_sim_new(e->seed, &e->sim), 0);
	clock = xm_sim_clock(e->sim);
	link_opts(&so, e->sim, 2, env_ip4_a, env_ip6_a, o->mtu, &o->a_to_b);
	if (o->a_frames)
		so.frames = o->a_frames;
	if (o->a_kind)
		snprintf(so.kind, sizeof(so.kind), "%s", o->a_kind);
	cr_assert_eq(xm_link_sim_open(&so, &la), 0);
	link_opts(&so, e->sim, 1, env_ip4_b, env_ip6_b, o->mtu, &o->b_to_a);
	cr_assert_eq(xm_link_sim_open(&so, &lb), 0);
	e->la = la;
	e->lb = lb;
	cr_assert_eq(xm_stack_open_link(la, &clock, &o->a_opts, &e->a), 0);
	if (o->raw_peer) {
		e->raw = lb;
	} else {
		struct xm_stack_opts bo = XM_STACK_OPTS_INIT;

		cr_assert_eq(xm_stack_open_link(lb, &clock, &bo, &e->b), 0);
	}
}

void env_close(struct sim_env *e)
{
	uint64_t total, acc;

	if (e->a) {
		cr_assert_eq(xm_stack_frames(e->a, &total, &acc), 0);
		ENV_ASSERT(e, total == acc, "frames leaked: %llu of %llu accounted",
			   (unsigned long long)acc, (unsigned long long)total);
		xm_stack_close(e->a);
	}
	if (e->b)
		xm_stack_close(e->b);
	if (e->raw)
		e->raw->ops->close(e->raw);
	xm_sim_free(e->sim);
	memset(e, 0, sizeof(*e));
}

static void poll_all(struct sim_env *e)
{
	/* Each stack's output lands on the wire at "now + delay"; loop until
	 * neither has anything left to do at this instant. */
	for (int i = 0; i < 1000; i++) {
		int n = xm_stack_poll(e->a);

		if (e->b)
			n += xm_stack_poll(e->b);
		if (n <= 0)
			break;
	}
}

void env_settle(struct sim_env *e)
{
	for (int i = 0; i < 1000000; i++) {
		uint64_t next;

		poll_all(e);
		/* Frames for a raw peer wait for env_collect(). */
		next = xm_link_sim_next_delivery(e->la);
		if (e->b && xm_link_sim_next_delivery(e->lb) < next)
			next = xm_link_sim_next_delivery(e->lb);
		if (next == UINT64_MAX)
			return;
		if (next > xm_sim_now(e->sim))
			xm_sim_advance(e->sim, next - xm_sim_now(e->sim));
	}
	cr_assert_fail("[seed %llu] the segment never went quiet",
		       (unsigned long long)e->seed);
}

void env_advance(struct sim_env *e, uint64_t ns)
{
	uint64_t end = xm_sim_now(e->sim) + ns;

	while (xm_sim_now(e->sim) < end) {
		uint64_t step = end - xm_sim_now(e->sim);

		if (step > 10000000)
			step = 10000000;   /* 10 ms: timers run close to due */
		xm_sim_advance(e->sim, step);
		poll_all(e);
	}
}

void env_inject(struct sim_env *e, const void *frame, uint32_t len)
{
	struct xm_frame f;

	cr_assert(e->raw, "env_inject needs raw_peer");
	cr_assert_eq(e->raw->ops->tx_alloc(e->raw, &f, 1), 1);
	cr_assert_leq(len, f.cap);
	memcpy(f.data, frame, len);
	f.len = len;
	cr_assert_eq(e->raw->ops->tx_submit(e->raw, &f, 1), 1);
	env_settle(e);
}

int env_collect(struct sim_env *e, uint8_t (*bufs)[2048], uint32_t *lens, int max)
{
	struct xm_frame f[64];
	int got = 0;

	env_settle(e);
	while (got < max) {
		int want = max - got < 64 ? max - got : 64;
		int n = e->raw->ops->rx(e->raw, f, want);

		if (n <= 0)
			break;
		for (int i = 0; i < n; i++) {
			uint32_t l = f[i].len < 2048 ? f[i].len : 2048;

			memcpy(bufs[got + i], f[i].data, l);
			lens[got + i] = l;
		}
		e->raw->ops->rx_release(e->raw, f, n);
		got += n;
	}
	return got;
}

socklen_t env_addr(int family, char which, uint16_t port, struct sockaddr_storage *ss)
{
	memset(ss, 0, sizeof(*ss));
	if (family == AF_INET) {
		struct sockaddr_in *in = (void *)ss;

		in->sin_family = AF_INET;
		in->sin_port = htons(port);
		memcpy(&in->sin_addr, which == 'a' ? env_ip4_a : env_ip4_b, 4);
		return sizeof(*in);
	} else {
		struct sockaddr_in6 *in6 = (void *)ss;

		in6->sin6_family = AF_INET6;
		in6->sin6_port = htons(port);
		memcpy(&in6->sin6_addr, which == 'a' ? env_ip6_a : env_ip6_b, 16);
		return sizeof(*in6);
	}
}

int env_udp(struct xm_stack *st, int family, uint16_t port)
{
	struct sockaddr_storage ss;
	socklen_t len;
	int fd = xm_socket_on(st, family, SOCK_DGRAM | SOCK_NONBLOCK, 0);

	cr_assert_geq(fd, 0, "xm_socket: %s", strerror(errno));
	memset(&ss, 0, sizeof(ss));
	ss.ss_family = (sa_family_t)family;
	len = family == AF_INET ? sizeof(struct sockaddr_in) : sizeof(struct sockaddr_in6);
	((struct sockaddr_in *)&ss)->sin_port = htons(port);   /* same offset in both */
	cr_assert_eq(xm_bind(fd, (struct sockaddr *)&ss, len), 0, "xm_bind: %s",
		     strerror(errno));
	return fd;
}
