// SPDX-License-Identifier: MIT
/* The socket API's answers to misuse: the errno Linux gives for the same
 * call on a kernel UDP socket (checked against Linux 6.x), plus options,
 * descriptor flags, poll, and the bindings hook. */
#define _GNU_SOURCE
#include <criterion/criterion.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <string.h>
#include <sys/time.h>
#include <unistd.h>

#include "lib/sim_env.h"

static struct sim_env e;

static void setup(void)
{
	env_open(&e, 1, NULL);
}

static void teardown(void)
{
	env_close(&e);
}

TestSuite(socket_errno, .init = setup, .fini = teardown);

#define FAILS(call, err) do { \
	errno = 0; \
	cr_assert_eq((long)(call), -1L, "%s did not fail", #call); \
	cr_assert_eq(errno, (err), "%s: errno %s, want %s", #call, \
		     strerrorname_np(errno), strerrorname_np(err)); \
} while (0)

static int udp4(void)
{
	return xm_socket_on(e.a, AF_INET, SOCK_DGRAM, 0);
}

static socklen_t a4(uint16_t port, struct sockaddr_storage *ss)
{
	return env_addr(AF_INET, 'a', port, ss);
}

Test(socket_errno, bad_and_closed_fds_are_ebadf)
{
	struct sockaddr_storage ss;
	socklen_t l = sizeof(ss);
	char buf[4];
	int v, fd = udp4();

	FAILS(xm_send(-1, "x", 1, 0), EBADF);
	FAILS(xm_send(3, "x", 1, 0), EBADF);   /* a kernel fd is not ours */
	FAILS(xm_recv(XM_FD_BASE + 999999, buf, 4, 0), EBADF);
	cr_assert_eq(xm_close(fd), 0);
	FAILS(xm_close(fd), EBADF);
	FAILS(xm_bind(fd, (void *)&ss, a4(1, &ss)), EBADF);
	FAILS(xm_connect(fd, (void *)&ss, a4(1, &ss)), EBADF);
	FAILS(xm_sendto(fd, "x", 1, 0, (void *)&ss, sizeof(struct sockaddr_in)), EBADF);
	FAILS(xm_recvfrom(fd, buf, 4, 0, NULL, NULL), EBADF);
	FAILS(xm_getsockname(fd, (void *)&ss, &l), EBADF);
	FAILS(xm_getpeername(fd, (void *)&ss, &l), EBADF);
	FAILS(xm_setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &v, sizeof(v)), EBADF);
	FAILS(xm_getsockopt(fd, SOL_SOCKET, SO_RCVBUF, &v, &l), EBADF);
	FAILS(xm_fcntl(fd, F_GETFL), EBADF);
	FAILS(xm_shutdown(fd, SHUT_RDWR), EBADF);
	FAILS(xm_listen(fd, 1), EBADF);
	FAILS(xm_accept(fd, NULL, NULL), EBADF);
}

Test(socket_errno, socket_arguments)
{
	FAILS(xm_socket_on(e.a, 12345, SOCK_DGRAM, 0), EAFNOSUPPORT);
	FAILS(xm_socket_on(e.a, AF_INET, 77, 0), EINVAL);
	FAILS(xm_socket_on(e.a, AF_INET, SOCK_DGRAM, IPPROTO_TCP), EPROTONOSUPPORT);
	FAILS(xm_socket_on(NULL, AF_INET, SOCK_DGRAM, 0), EINVAL);
}

Test(socket_errno, bind_errors)
{
	struct sockaddr_storage ss, bs;
	struct sockaddr_in bad;
	int fd = udp4(), fd2 = udp4();

	FAILS(xm_bind(fd, (void *)&ss, 8), EINVAL);          /* short addrlen */
	FAILS(xm_bind(fd, (void *)&ss, 200), EINVAL);        /* > sockaddr_storage */
	FAILS(xm_bind(fd, NULL, sizeof(struct sockaddr_in)), EFAULT);
	a4(7000, &bs);
	memcpy(&bad, &bs, sizeof(bad));
	bad.sin_family = AF_INET6;
	FAILS(xm_bind(fd, (void *)&bad, sizeof(bad)), EAFNOSUPPORT);
	bad.sin_family = AF_INET;
	bad.sin_addr.s_addr = htonl(0xc6120063);   /* 198.18.0.99: not ours */
	FAILS(xm_bind(fd, (void *)&bad, sizeof(bad)), EADDRNOTAVAIL);
	cr_assert_eq(xm_bind(fd, (void *)&ss, a4(7000, &ss)), 0);
	FAILS(xm_bind(fd, (void *)&ss, a4(7001, &ss)), EINVAL);   /* bound twice */
	FAILS(xm_bind(fd2, (void *)&ss, a4(7000, &ss)), EADDRINUSE);
}

Test(socket_errno, wildcard_and_address_binds_conflict)
{
	struct sockaddr_in any = { .sin_family = AF_INET, .sin_port = htons(7000) };
	struct sockaddr_storage ss;
	int fd = udp4(), fd2 = udp4(), f6 = xm_socket_on(e.a, AF_INET6, SOCK_DGRAM, 0);
	struct sockaddr_in6 any6 = { .sin6_family = AF_INET6, .sin6_port = htons(7000) };

	cr_assert_eq(xm_bind(fd, (void *)&any, sizeof(any)), 0);
	FAILS(xm_bind(fd2, (void *)&ss, a4(7000, &ss)), EADDRINUSE);
	/* A dual-stack IPv6 wildcard covers IPv4 too. */
	FAILS(xm_bind(f6, (void *)&any6, sizeof(any6)), EADDRINUSE);
}

Test(socket_errno, reuseaddr_on_both_shares_the_port)
{
	struct sockaddr_storage ss;
	int fd = udp4(), fd2 = udp4(), fd3 = udp4(), one = 1;

	cr_assert_eq(xm_setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one)), 0);
	cr_assert_eq(xm_setsockopt(fd2, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one)), 0);
	cr_assert_eq(xm_bind(fd, (void *)&ss, a4(7000, &ss)), 0);
	cr_assert_eq(xm_bind(fd2, (void *)&ss, a4(7000, &ss)), 0);
	/* Not when the newcomer lacks it. */
	FAILS(xm_bind(fd3, (void *)&ss, a4(7000, &ss)), EADDRINUSE);
	/* The port is free again when every holder closed it. */
	xm_close(fd);
	xm_close(fd2);
	cr_assert_eq(xm_bind(fd3, (void *)&ss, a4(7000, &ss)), 0);
}

Test(socket_errno, send_recv_errors)
{
	static char big[65536];
	struct sockaddr_storage ss;
	struct sockaddr_in to;
	socklen_t tl = env_addr(AF_INET, 'b', 9, &ss);
	char buf[8];
	int fd = udp4();

	memcpy(&to, &ss, sizeof(to));
	FAILS(xm_send(fd, "x", 1, 0), EDESTADDRREQ);
	FAILS(xm_sendto(fd, "x", 1, 0, NULL, 16), EDESTADDRREQ);
	FAILS(xm_sendto(fd, NULL, 10, 0, (void *)&to, tl), EFAULT);
	FAILS(xm_sendto(fd, "x", 1, 0, (void *)&to, 4), EINVAL);
	to.sin_port = 0;
	FAILS(xm_sendto(fd, "x", 1, 0, (void *)&to, tl), EINVAL);
	to.sin_port = htons(9);
	to.sin_family = AF_INET6;
	FAILS(xm_sendto(fd, "x", 1, 0, (void *)&to, tl), EAFNOSUPPORT);
	to.sin_family = AF_INET;
	FAILS(xm_sendto(fd, big, 65508, 0, (void *)&to, tl), EMSGSIZE);
	cr_assert_eq(xm_sendto(fd, big, 65507, 0, (void *)&to, tl), 65507);
	FAILS(xm_send(fd, "x", 1, MSG_OOB), EOPNOTSUPP);
	FAILS(xm_recv(fd, buf, sizeof(buf), MSG_DONTWAIT), EAGAIN);
	(void)ss;
}

Test(socket_errno, nonblocking_by_flag_and_fcntl)
{
	char buf[8];
	int fd = xm_socket_on(e.a, AF_INET, SOCK_DGRAM | SOCK_NONBLOCK, 0), fd2 = udp4();

	FAILS(xm_recv(fd, buf, sizeof(buf), 0), EAGAIN);
	cr_assert_eq(xm_fcntl(fd, F_GETFL) & O_NONBLOCK, O_NONBLOCK);
	cr_assert_eq(xm_fcntl(fd2, F_GETFL) & O_NONBLOCK, 0);
	cr_assert_eq(xm_fcntl(fd2, F_SETFL, O_NONBLOCK), 0);
	FAILS(xm_recv(fd2, buf, sizeof(buf), 0), EAGAIN);
	FAILS(xm_fcntl(fd2, 9999), EINVAL);
}

Test(socket_errno, blocking_recv_times_out_in_virtual_time)
{
	struct timeval tv = { .tv_sec = 2 };
	uint64_t t0 = xm_sim_now(e.sim);
	char buf[8];
	int fd = udp4();

	cr_assert_eq(xm_setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv)), 0);
	FAILS(xm_recv(fd, buf, sizeof(buf), 0), EAGAIN);
	cr_assert_geq(xm_sim_now(e.sim) - t0, 2000000000ULL);
}

Test(socket_errno, blocking_recv_waits_for_the_datagram)
{
	struct sockaddr_storage ss;
	char buf[8];
	int fa = env_udp(e.a, AF_INET, 7000), fb = env_udp(e.b, AF_INET, 0);

	cr_assert_eq(xm_fcntl(fa, F_SETFL, 0), 0);
	cr_assert_eq(xm_sendto(fb, "hi", 2, 0, (void *)&ss, a4(7000, &ss)), 2);
	/* The frame is on the wire; the blocking call drives a's stack. */
	cr_assert_eq(xm_recv(fa, buf, sizeof(buf), 0), 2);
}

Test(socket_errno, blocking_recv_with_nothing_coming_does_not_hang)
{
	char buf[8];
	int fd = udp4();

	/* On the sim nothing can ever arrive: fail instead of hanging. */
	FAILS(xm_recv(fd, buf, sizeof(buf), 0), EDEADLK);
}

Test(socket_errno, connection_state_errors)
{
	struct sockaddr_storage ss;
	socklen_t l = sizeof(ss);
	int fd = udp4();

	FAILS(xm_getpeername(fd, (void *)&ss, &l), ENOTCONN);
	FAILS(xm_shutdown(fd, SHUT_RD), ENOTCONN);
	FAILS(xm_shutdown(fd, 7), EINVAL);
	FAILS(xm_listen(fd, 1), EOPNOTSUPP);
	FAILS(xm_accept(fd, NULL, NULL), EOPNOTSUPP);
	env_addr(AF_INET, 'b', 9, &ss);
	FAILS(xm_connect(fd, (void *)&ss, 4), EINVAL);
	cr_assert_eq(xm_connect(fd, (void *)&ss, sizeof(struct sockaddr_in)), 0);
	cr_assert_eq(xm_getpeername(fd, (void *)&ss, &l), 0);
	cr_assert_eq(l, sizeof(struct sockaddr_in));
	cr_assert_eq(ntohs(((struct sockaddr_in *)&ss)->sin_port), 9);
	cr_assert_eq(xm_shutdown(fd, SHUT_WR), 0);
	FAILS(xm_send(fd, "x", 1, 0), EPIPE);
	/* connect(AF_UNSPEC) dissolves the association. */
	ss.ss_family = AF_UNSPEC;
	cr_assert_eq(xm_connect(fd, (void *)&ss, sizeof(ss)), 0);
	FAILS(xm_getpeername(fd, (void *)&ss, &l), ENOTCONN);
}

Test(socket_errno, null_pointers_are_efault)
{
	socklen_t l = 4;
	int v = 1, fd = udp4();
	char buf[4];

	FAILS(xm_getsockname(fd, NULL, &l), EFAULT);
	FAILS(xm_getsockopt(fd, SOL_SOCKET, SO_RCVBUF, &v, NULL), EFAULT);
	FAILS(xm_getsockopt(fd, SOL_SOCKET, SO_RCVBUF, NULL, &l), EFAULT);
	FAILS(xm_setsockopt(fd, SOL_SOCKET, SO_RCVBUF, NULL, 4), EFAULT);
	FAILS(xm_poll(NULL, 1, 0), EFAULT);
	(void)buf;
}

Test(socket_errno, recvfrom_without_fromlen_consumes_and_faults)
{
	struct sockaddr_storage ss, from;
	char buf[8];
	int fa = env_udp(e.a, AF_INET, 7000), fb = env_udp(e.b, AF_INET, 0);

	cr_assert_eq(xm_sendto(fb, "hi", 2, 0, (void *)&ss, a4(7000, &ss)), 2);
	env_settle(&e);
	FAILS(xm_recvfrom(fa, buf, sizeof(buf), 0, (void *)&from, NULL), EFAULT);
	FAILS(xm_recv(fa, buf, sizeof(buf), 0), EAGAIN);   /* as Linux: consumed */
}

Test(socket_errno, options)
{
	int v = 0, fd = udp4(), f6 = xm_socket_on(e.a, AF_INET6, SOCK_DGRAM, 0);
	socklen_t l = sizeof(v);

	FAILS(xm_setsockopt(fd, SOL_SOCKET, 9999, &v, sizeof(v)), ENOPROTOOPT);
	FAILS(xm_getsockopt(fd, SOL_SOCKET, 9999, &v, &l), ENOPROTOOPT);
	FAILS(xm_setsockopt(fd, 9999, 1, &v, sizeof(v)), ENOPROTOOPT);
	FAILS(xm_getsockopt(fd, 9999, 1, &v, &l), EOPNOTSUPP);
	FAILS(xm_getsockopt(fd, IPPROTO_UDP, 9999, &v, &l), ENOPROTOOPT);
	FAILS(xm_setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &v, 2), EINVAL);
	v = 10000;
	cr_assert_eq(xm_setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &v, sizeof(v)), 0);
	cr_assert_eq(xm_getsockopt(fd, SOL_SOCKET, SO_RCVBUF, &v, &l), 0);
	cr_assert_eq(v, 20000);   /* doubled, as Linux */
	v = 1;
	cr_assert_eq(xm_setsockopt(fd, SOL_SOCKET, SO_SNDBUF, &v, sizeof(v)), 0);
	cr_assert_eq(xm_getsockopt(fd, SOL_SOCKET, SO_SNDBUF, &v, &l), 0);
	cr_assert_eq(v, 4608);    /* Linux's minimum */
	cr_assert_eq(xm_getsockopt(fd, SOL_SOCKET, SO_TYPE, &v, &l), 0);
	cr_assert_eq(v, SOCK_DGRAM);
	cr_assert_eq(xm_getsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &v, &l), 0);
	cr_assert_eq(v, 0);
	FAILS(xm_setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &v, sizeof(v)), ENOPROTOOPT);
	v = 1;
	cr_assert_eq(xm_setsockopt(f6, IPPROTO_IPV6, IPV6_V6ONLY, &v, sizeof(v)), 0);
	l = 2;
	cr_assert_eq(xm_getsockopt(fd, SOL_SOCKET, SO_RCVBUF, &v, &l), 0);
	cr_assert_eq(l, 2);   /* truncated, as Linux */
}

Test(socket_errno, poll_reports_readiness)
{
	struct sockaddr_storage ss;
	int fa = env_udp(e.a, AF_INET, 7000), fb = env_udp(e.b, AF_INET, 0), gone = udp4();
	struct pollfd p[3] = {
		{ .fd = fa, .events = POLLIN },
		{ .fd = fa, .events = POLLOUT },
		{ .fd = gone, .events = POLLIN },
	};
	uint64_t t0;
	char buf[4];

	xm_close(gone);
	cr_assert_eq(xm_poll(p, 1, 0), 0);
	cr_assert_eq(p[0].revents, 0);
	cr_assert_eq(xm_poll(p, 3, 0), 2);
	cr_assert_eq(p[1].revents, POLLOUT);
	cr_assert_eq(p[2].revents, POLLNVAL);
	/* A timeout elapses in virtual time. */
	t0 = xm_sim_now(e.sim);
	cr_assert_eq(xm_poll(p, 1, 1500), 0);
	cr_assert_geq(xm_sim_now(e.sim) - t0, 1500000000ULL);
	/* A datagram on the wire wakes a blocking poll. */
	cr_assert_eq(xm_sendto(fb, "hi", 2, 0, (void *)&ss, a4(7000, &ss)), 2);
	cr_assert_eq(xm_poll(p, 1, -1), 1);
	cr_assert_eq(p[0].revents, POLLIN);
	cr_assert_eq(xm_recv(fa, buf, sizeof(buf), 0), 2);
	/* shutdown(SHUT_RD): readable (EOF) and POLLRDHUP. */
	p[0].events = POLLIN | POLLRDHUP;
	xm_shutdown(fa, SHUT_RD);
	cr_assert_eq(xm_poll(p, 1, 0), 1);
	cr_assert_eq(p[0].revents, POLLIN | POLLRDHUP);
	cr_assert_eq(xm_recv(fa, buf, sizeof(buf), 0), 0);
}

Test(socket_errno, stack_fd_is_an_epollable_fd)
{
	int fd = xm_stack_fd(e.a);

	cr_assert_geq(fd, 0);
	cr_assert_geq(fcntl(fd, F_GETFD), 0);
}

/* ---- the bindings hook: what xm_stack_open wires to the control library ---- */

struct hook_log {
	int calls;
	uint16_t last_port;
	bool last_bind;
	int fail_with;
};

static int hook(void *ctx, int proto, int family, const void *addr, uint16_t port,
		bool bind)
{
	struct hook_log *h = ctx;

	(void)family;
	(void)addr;
	cr_assert_eq(proto, IPPROTO_UDP);
	if (bind && h->fail_with)
		return h->fail_with;
	h->calls++;
	h->last_port = port;
	h->last_bind = bind;
	return 0;
}

Test(socket_hook, bind_and_close_reach_the_hook_once_per_port)
{
	struct sim_env_opts o = { 0 };
	struct hook_log h = { 0 };
	struct sim_env he;
	struct sockaddr_storage ss;
	int one = 1, f1, f2;

	o.a_opts.bind_hook = hook;
	o.a_opts.hook_ctx = &h;
	env_open(&he, 1, &o);
	f1 = xm_socket_on(he.a, AF_INET, SOCK_DGRAM, 0);
	f2 = xm_socket_on(he.a, AF_INET, SOCK_DGRAM, 0);
	xm_setsockopt(f1, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	xm_setsockopt(f2, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	cr_assert_eq(xm_bind(f1, (void *)&ss, a4(7000, &ss)), 0);
	cr_assert_eq(h.calls, 1);
	cr_assert(h.last_bind);
	cr_assert_eq(h.last_port, 7000);
	cr_assert_eq(xm_bind(f2, (void *)&ss, a4(7000, &ss)), 0);
	cr_assert_eq(h.calls, 1);   /* the port is already steered to us */
	xm_close(f1);
	cr_assert_eq(h.calls, 1);
	xm_close(f2);
	cr_assert_eq(h.calls, 2);
	cr_assert(!h.last_bind);
	/* A failing hook fails the bind with its errno, and nothing is bound. */
	h.fail_with = -ENOSPC;
	f1 = xm_socket_on(he.a, AF_INET, SOCK_DGRAM, 0);
	FAILS(xm_bind(f1, (void *)&ss, a4(7001, &ss)), ENOSPC);
	h.fail_with = 0;
	cr_assert_eq(xm_bind(f1, (void *)&ss, a4(7001, &ss)), 0);
	/* Stack close releases what is still bound. */
	env_close(&he);
	cr_assert_eq(h.calls, 4);
	cr_assert(!h.last_bind);
	cr_assert_eq(h.last_port, 7001);
}

Test(socket_hook, autobind_reaches_the_hook)
{
	struct sim_env_opts o = { 0 };
	struct hook_log h = { 0 };
	struct sim_env he;
	struct sockaddr_storage ss;
	int fd;

	o.a_opts.bind_hook = hook;
	o.a_opts.hook_ctx = &h;
	env_open(&he, 1, &o);
	fd = xm_socket_on(he.a, AF_INET, SOCK_DGRAM, 0);
	cr_assert_eq(xm_sendto(fd, "x", 1, 0, (void *)&ss, env_addr(AF_INET, 'b', 9, &ss)), 1);
	cr_assert_eq(h.calls, 1);
	cr_assert_geq(h.last_port, XM_EPHEMERAL_FIRST);
	env_close(&he);
}

Test(socket_errno, recv_flags_peek_trunc_and_short_buffers)
{
	struct sockaddr_storage ss;
	char buf[16];
	int fa = env_udp(e.a, AF_INET, 7000), fb = env_udp(e.b, AF_INET, 0);

	cr_assert_eq(xm_sendto(fb, "abcdefgh", 8, 0, (void *)&ss, a4(7000, &ss)), 8);
	cr_assert_eq(xm_sendto(fb, "12345678", 8, 0, (void *)&ss, a4(7000, &ss)), 8);
	env_settle(&e);
	/* MSG_PEEK leaves the datagram queued */
	cr_assert_eq(xm_recv(fa, buf, sizeof(buf), MSG_PEEK), 8);
	cr_assert_arr_eq(buf, "abcdefgh", 8);
	/* a short buffer truncates and the rest of the datagram is gone;
	 * MSG_TRUNC returns the real length (as Linux) */
	cr_assert_eq(xm_recv(fa, buf, 3, MSG_TRUNC), 8);
	cr_assert_arr_eq(buf, "abc", 3);
	cr_assert_eq(xm_recv(fa, buf, 3, 0), 3);
	cr_assert_arr_eq(buf, "123", 3);
	FAILS(xm_recv(fa, buf, sizeof(buf), 0), EAGAIN);
}
