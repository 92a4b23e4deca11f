// SPDX-License-Identifier: MIT
/* UDP between two xdpmux stacks over the simulated link: delivery, source
 * addresses, connected sockets, fragmentation and reassembly under loss,
 * reordering, duplication and corruption, receive buffer limits. */
#include <criterion/criterion.h>
#include <errno.h>
#include <netinet/in.h>
#include <string.h>

#include "lib/sim_env.h"

#define PORT_A 7000
#define PORT_B 5000

static void fill(uint8_t *buf, size_t len, uint32_t tag)
{
	for (size_t i = 0; i < len; i++)
		buf[i] = (uint8_t)(tag * 131 + i * 7 + (i >> 8));
}

static void delivery_case(int family)
{
	struct sim_env e;
	struct sockaddr_storage to, from;
	socklen_t flen = sizeof(from);
	uint8_t out[100], in[200];
	int fa, fb;
	ssize_t n;

	env_open(&e, 1, NULL);
	fa = env_udp(e.a, family, PORT_A);
	fb = env_udp(e.b, family, PORT_B);
	fill(out, sizeof(out), 1);
	cr_assert_eq(xm_sendto(fb, out, sizeof(out), 0, (void *)&to,
			       env_addr(family, 'a', PORT_A, &to)), (ssize_t)sizeof(out));
	env_settle(&e);
	n = xm_recvfrom(fa, in, sizeof(in), 0, (void *)&from, &flen);
	cr_assert_eq(n, (ssize_t)sizeof(out), "recvfrom: %zd %s", n, strerror(errno));
	cr_assert_arr_eq(in, out, sizeof(out));
	/* The source is b's address and port. */
	{
		struct sockaddr_storage want;
		socklen_t wl = env_addr(family, 'b', PORT_B, &want);

		cr_assert_eq(flen, wl);
		cr_assert_arr_eq(&from, &want, wl);
	}
	/* Reply to where it came from. */
	cr_assert_eq(xm_sendto(fa, in, (size_t)n, 0, (void *)&from, flen), n);
	env_settle(&e);
	cr_assert_eq(xm_recv(fb, in, sizeof(in), 0), n);
	cr_assert_arr_eq(in, out, sizeof(out));
	xm_close(fa);
	xm_close(fb);
	env_close(&e);
}

Test(udp_delivery, ipv4_datagram_delivered_with_source)
{
	delivery_case(AF_INET);
}

Test(udp_delivery, ipv6_datagram_delivered_with_source)
{
	delivery_case(AF_INET6);
}

Test(udp_delivery, zero_length_datagram_delivered)
{
	struct sim_env e;
	struct sockaddr_storage to;
	uint8_t in[8];
	int fa, fb;

	env_open(&e, 1, NULL);
	fa = env_udp(e.a, AF_INET, PORT_A);
	fb = env_udp(e.b, AF_INET, 0);
	cr_assert_eq(xm_sendto(fb, "", 0, 0, (void *)&to, env_addr(AF_INET, 'a', PORT_A, &to)), 0);
	env_settle(&e);
	cr_assert_eq(xm_recv(fa, in, sizeof(in), 0), 0);
	cr_assert_eq(xm_recv(fa, in, sizeof(in), 0), -1);
	cr_assert_eq(errno, EAGAIN);
	env_close(&e);
}

Test(udp_delivery, connected_socket_only_takes_its_peer)
{
	struct sim_env e;
	struct sockaddr_storage peer, to;
	uint8_t in[8];
	int fa, fb1, fb2;

	env_open(&e, 1, NULL);
	fa = env_udp(e.a, AF_INET, PORT_A);
	fb1 = env_udp(e.b, AF_INET, PORT_B);
	fb2 = env_udp(e.b, AF_INET, PORT_B + 1);
	cr_assert_eq(xm_connect(fa, (void *)&peer, env_addr(AF_INET, 'b', PORT_B, &peer)), 0);
	env_addr(AF_INET, 'a', PORT_A, &to);
	cr_assert_eq(xm_sendto(fb2, "no", 2, 0, (void *)&to, sizeof(struct sockaddr_in)), 2);
	cr_assert_eq(xm_sendto(fb1, "yes", 3, 0, (void *)&to, sizeof(struct sockaddr_in)), 3);
	env_settle(&e);
	cr_assert_eq(xm_recv(fa, in, sizeof(in), 0), 3);
	cr_assert_arr_eq(in, "yes", 3);
	cr_assert_eq(xm_recv(fa, in, sizeof(in), 0), -1);
	{
		struct xm_stack_stats s;

		xm_stack_stats(e.a, &s);
		cr_assert_eq(s.rx_no_socket, 1);
	}
	/* send() goes to the connected peer. */
	cr_assert_eq(xm_send(fa, "back", 4, 0), 4);
	env_settle(&e);
	cr_assert_eq(xm_recv(fb1, in, sizeof(in), 0), 4);
	env_close(&e);
}

Test(udp_delivery, ephemeral_port_from_xdpmux_range)
{
	struct sim_env e;
	struct sockaddr_storage to, from, name;
	socklen_t fl = sizeof(from), nl = sizeof(name);
	uint8_t in[8];
	int fa, fb;
	uint16_t port;

	env_open(&e, 1, NULL);
	fb = env_udp(e.b, AF_INET6, PORT_B);
	fa = xm_socket_on(e.a, AF_INET6, SOCK_DGRAM, 0);
	cr_assert_eq(xm_sendto(fa, "x", 1, 0, (void *)&to, env_addr(AF_INET6, 'b', PORT_B, &to)), 1);
	cr_assert_eq(xm_getsockname(fa, (void *)&name, &nl), 0);
	port = ntohs(((struct sockaddr_in6 *)&name)->sin6_port);
	cr_assert_geq(port, XM_EPHEMERAL_FIRST);
	cr_assert_leq(port, XM_EPHEMERAL_LAST);
	env_settle(&e);
	cr_assert_eq(xm_recvfrom(fb, in, sizeof(in), 0, (void *)&from, &fl), 1);
	cr_assert_eq(ntohs(((struct sockaddr_in6 *)&from)->sin6_port), port);
	env_close(&e);
}

Test(udp_delivery, dual_stack_socket_takes_ipv4)
{
	struct sim_env e;
	struct sockaddr_storage to, from;
	socklen_t fl = sizeof(from);
	struct sockaddr_in6 *f6 = (void *)&from;
	uint8_t in[8];
	int fa, fb;

	env_open(&e, 1, NULL);
	fa = env_udp(e.a, AF_INET6, PORT_A);
	fb = env_udp(e.b, AF_INET, PORT_B);
	cr_assert_eq(xm_sendto(fb, "v4", 2, 0, (void *)&to, env_addr(AF_INET, 'a', PORT_A, &to)), 2);
	env_settle(&e);
	cr_assert_eq(xm_recvfrom(fa, in, sizeof(in), 0, (void *)&from, &fl), 2);
	cr_assert_eq(f6->sin6_family, AF_INET6);
	cr_assert(IN6_IS_ADDR_V4MAPPED(&f6->sin6_addr));
	cr_assert_arr_eq(f6->sin6_addr.s6_addr + 12, env_ip4_b, 4);
	/* And answers through IPv4 to the mapped address. */
	cr_assert_eq(xm_sendto(fa, "ok", 2, 0, (void *)&from, fl), 2);
	env_settle(&e);
	cr_assert_eq(xm_recv(fb, in, sizeof(in), 0), 2);
	env_close(&e);
}

/* ---- large datagrams under impairments ---- */

#define BIG_N 6

struct big_case {
	int family;
	size_t len;
	struct xm_sim_impair im;
	bool lossless;   /* every datagram must arrive */
};

static void big_case_run(const struct big_case *c, uint64_t seed)
{
	static uint8_t out[BIG_N][65527], in[65600];
	struct sim_env_opts o = { 0 };
	struct sim_env e;
	struct sockaddr_storage to;
	bool seen[BIG_N] = { 0 };
	int fa, fb, got = 0;
	struct xm_stack_stats s;

	o.b_to_a = c->im;
	o.a_opts.rcvbuf_default = 8u << 20;
	env_open(&e, seed, &o);
	fa = env_udp(e.a, c->family, PORT_A);
	fb = env_udp(e.b, c->family, PORT_B);
	env_addr(c->family, 'a', PORT_A, &to);
	for (int i = 0; i < BIG_N; i++) {
		fill(out[i], c->len, (uint32_t)(seed * 100 + (uint64_t)i));
		/* tag the datagram in its first byte */
		out[i][0] = (uint8_t)i;
		ENV_ASSERT(&e, xm_sendto(fb, out[i], c->len, 0, (void *)&to,
					 c->family == AF_INET ? sizeof(struct sockaddr_in)
							      : sizeof(struct sockaddr_in6)) ==
			       (ssize_t)c->len, "sendto: %s", strerror(errno));
		env_settle(&e);
	}
	for (;;) {
		ssize_t n = xm_recv(fa, in, sizeof(in), 0);

		if (n < 0)
			break;
		ENV_ASSERT(&e, (size_t)n == c->len, "datagram of %zd bytes, sent %zu", n, c->len);
		ENV_ASSERT(&e, in[0] < BIG_N, "unknown datagram tag %u", in[0]);
		ENV_ASSERT(&e, !memcmp(in, out[in[0]], c->len),
			   "datagram %u differs from what was sent", in[0]);
		seen[in[0]] = true;
		got++;
	}
	if (c->lossless) {
		for (int i = 0; i < BIG_N; i++)
			ENV_ASSERT(&e, seen[i], "datagram %d never arrived", i);
		xm_stack_stats(e.a, &s);
		ENV_ASSERT(&e, s.reasm_ok >= BIG_N, "only %llu reassembled",
			   (unsigned long long)s.reasm_ok);
	}
	/* Incomplete datagrams expire, freeing their memory. */
	env_advance(&e, 31ULL * 1000000000ULL);
	xm_stack_stats(e.a, &s);
	ENV_ASSERT(&e, s.reasm_mem_bytes == 0, "reassembly still holds %llu bytes",
		   (unsigned long long)s.reasm_mem_bytes);
	if (c->im.corrupt_ppm)
		ENV_ASSERT(&e, s.rx_bad_l4_csum + s.rx_bad_ip_csum + s.rx_malformed +
			       s.rx_not_for_us + s.reasm_bad + s.reasm_overlaps +
			       s.reasm_timeouts > 0 || got == BIG_N,
			   "corruption went unnoticed");
	xm_close(fa);
	xm_close(fb);
	env_close(&e);
}

static void big_cases(const struct big_case *c)
{
	for (uint64_t seed = 1; seed <= 8; seed++)
		big_case_run(c, seed);
}

Test(udp_fragments, ipv4_max_datagram_clean)
{
	struct big_case c = { .family = AF_INET, .len = 65507, .lossless = true };

	big_cases(&c);
}

Test(udp_fragments, ipv6_max_datagram_clean)
{
	struct big_case c = { .family = AF_INET6, .len = 65527, .lossless = true };

	big_cases(&c);
}

Test(udp_fragments, ipv4_reordered_and_duplicated)
{
	struct big_case c = {
		.family = AF_INET, .len = 65507, .lossless = true,
		.im = { .dup_ppm = 100000, .reorder_ppm = 300000,
			.reorder_ns = 2000000, .delay_ns = 100000 },
	};

	big_cases(&c);
}

Test(udp_fragments, ipv6_reordered_and_duplicated)
{
	struct big_case c = {
		.family = AF_INET6, .len = 65527, .lossless = true,
		.im = { .dup_ppm = 100000, .reorder_ppm = 300000,
			.reorder_ns = 2000000, .delay_ns = 100000 },
	};

	big_cases(&c);
}

Test(udp_fragments, ipv4_lossy_delivers_only_intact)
{
	struct big_case c = {
		.family = AF_INET, .len = 20000,
		.im = { .loss_ppm = 20000, .dup_ppm = 20000, .reorder_ppm = 100000,
			.reorder_ns = 1000000 },
	};

	big_cases(&c);
}

Test(udp_fragments, ipv6_lossy_delivers_only_intact)
{
	struct big_case c = {
		.family = AF_INET6, .len = 20000,
		.im = { .loss_ppm = 20000, .dup_ppm = 20000, .reorder_ppm = 100000,
			.reorder_ns = 1000000 },
	};

	big_cases(&c);
}

Test(udp_fragments, corrupted_frames_never_delivered)
{
	struct big_case c4 = {
		.family = AF_INET, .len = 9000,
		.im = { .corrupt_ppm = 100000 },
	};
	struct big_case c6 = c4;

	c6.family = AF_INET6;
	big_cases(&c4);
	big_cases(&c6);
}

Test(udp_fragments, oversized_datagram_is_emsgsize)
{
	static uint8_t buf[65536];
	struct sim_env e;
	struct sockaddr_storage to;
	int f4, f6;

	env_open(&e, 1, NULL);
	f4 = env_udp(e.a, AF_INET, 0);
	f6 = env_udp(e.a, AF_INET6, 0);
	cr_assert_eq(xm_sendto(f4, buf, 65508, 0, (void *)&to, env_addr(AF_INET, 'b', 1, &to)), -1);
	cr_assert_eq(errno, EMSGSIZE);
	cr_assert_eq(xm_sendto(f6, buf, 65528, 0, (void *)&to, env_addr(AF_INET6, 'b', 1, &to)), -1);
	cr_assert_eq(errno, EMSGSIZE);
	env_close(&e);
}

/* ---- receive buffer ---- */

Test(udp_rcvbuf, full_buffer_drops_and_counts)
{
	struct sim_env e;
	struct sockaddr_storage to;
	uint8_t buf[1000] = { 0 };
	int fa, fb, rcvbuf = 4096, got = 0;
	uint64_t drops = 0;
	struct xm_stack_stats s;

	env_open(&e, 1, NULL);
	fa = env_udp(e.a, AF_INET, PORT_A);
	fb = env_udp(e.b, AF_INET, PORT_B);
	/* Linux doubles it: 8192 bytes, each 1000-byte datagram charged
	 * 1000 + 256, so 6 fit. */
	cr_assert_eq(xm_setsockopt(fa, SOL_SOCKET, SO_RCVBUF, &rcvbuf, sizeof(rcvbuf)), 0);
	env_addr(AF_INET, 'a', PORT_A, &to);
	for (int i = 0; i < 20; i++)
		cr_assert_eq(xm_sendto(fb, buf, sizeof(buf), 0, (void *)&to,
				       sizeof(struct sockaddr_in)), (ssize_t)sizeof(buf));
	env_settle(&e);
	while (xm_recv(fa, buf, sizeof(buf), 0) == (ssize_t)sizeof(buf))
		got++;
	cr_assert_eq(errno, EAGAIN);
	cr_assert_eq(got, 6);
	cr_assert_eq(xm_socket_rcvbuf_drops(fa, &drops), 0);
	cr_assert_eq(drops, 14);
	xm_stack_stats(e.a, &s);
	cr_assert_eq(s.rx_rcvbuf_drops, 14);
	/* Room again once read. */
	cr_assert_eq(xm_sendto(fb, buf, sizeof(buf), 0, (void *)&to, sizeof(struct sockaddr_in)),
		     (ssize_t)sizeof(buf));
	env_settle(&e);
	cr_assert_eq(xm_recv(fa, buf, sizeof(buf), 0), (ssize_t)sizeof(buf));
	env_close(&e);
}

/* xm_stack_tx_hold: held frames stay in the stack, polls included, and
 * leave in order at the release; a full batch (64) leaves on its own. */
Test(udp_delivery, held_sends_leave_together_at_release)
{
	struct sim_env e;
	struct sockaddr_storage to;
	struct xm_stack_stats s;
	uint8_t in[8];
	socklen_t tl;
	int fa, fb, i;

	env_open(&e, 1, NULL);
	fa = env_udp(e.a, AF_INET, PORT_A);
	fb = env_udp(e.b, AF_INET, 0);
	tl = env_addr(AF_INET, 'a', PORT_A, &to);
	xm_stack_tx_hold(e.b, true);
	for (i = 0; i < 3; i++)
		cr_assert_eq(xm_sendto(fb, &i, sizeof(i), 0, (void *)&to, tl), (ssize_t)sizeof(i));
	env_settle(&e);
	xm_stack_stats(e.b, &s);
	cr_assert_eq(s.tx_frames, 0, "held frames left: %llu", (unsigned long long)s.tx_frames);
	cr_assert_eq(xm_recv(fa, in, sizeof(in), MSG_DONTWAIT), -1);
	cr_assert_eq(errno, EAGAIN);
	xm_stack_tx_hold(e.b, false);
	env_settle(&e);
	for (i = 0; i < 3; i++) {
		int got = -1;

		cr_assert_eq(xm_recv(fa, &got, sizeof(got), MSG_DONTWAIT), (ssize_t)sizeof(got));
		cr_assert_eq(got, i);
	}
	xm_stack_tx_hold(e.b, true);
	for (i = 0; i < 64; i++)
		cr_assert_eq(xm_sendto(fb, &i, sizeof(i), 0, (void *)&to, tl), (ssize_t)sizeof(i));
	xm_stack_stats(e.b, &s);
	cr_assert_eq(s.tx_frames, 3 + 64, "a full batch is sent: %llu",
		     (unsigned long long)s.tx_frames);
	xm_stack_tx_hold(e.b, false);
	xm_close(fa);
	xm_close(fb);
	env_close(&e);
}
