// SPDX-License-Identifier: MIT
/* Which TCP binds share a port, as Linux decides: sockets clash only when
 * their local addresses overlap, IPV6_V6ONLY keeps an IPv6 wildcard off
 * IPv4, and SO_REUSEADDR never lets a socket in next to a listener. */
#define _GNU_SOURCE
#include <criterion/criterion.h>
#include <errno.h>
#include <netinet/in.h>
#include <string.h>

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

TestSuite(tcp_bind, .init = setup, .fini = teardown);

#define FAILS(call, err) do { \
	errno = 0; \
	cr_assert_eq((long)(call), -1L, "%s did not fail", #call); \
	cr_assert_eq(errno, (err), "%s: errno %s, want %s", #call, \
		     strerrorname_np(errno), strerrorname_np(err)); \
} while (0)

static int tcp(int family)
{
	int fd = xm_socket_on(e.a, family, SOCK_STREAM, 0);

	cr_assert_geq(fd, 0, "socket: %s", strerror(errno));
	return fd;
}

static int bind_any(int fd, int family, uint16_t port)
{
	struct sockaddr_in a4 = { .sin_family = AF_INET, .sin_port = htons(port) };
	struct sockaddr_in6 a6 = { .sin6_family = AF_INET6, .sin6_port = htons(port) };

	return family == AF_INET ? xm_bind(fd, (void *)&a4, sizeof(a4))
				 : xm_bind(fd, (void *)&a6, sizeof(a6));
}

static void v6only(int fd)
{
	cr_assert_eq(xm_setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &(int){ 1 }, sizeof(int)), 0);
}

static void reuse(int fd)
{
	cr_assert_eq(xm_setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &(int){ 1 }, sizeof(int)), 0);
}

Test(tcp_bind, ipv4_and_v6only_ipv6_listeners_share_a_port)
{
	int f4 = tcp(AF_INET), f6 = tcp(AF_INET6);

	v6only(f6);
	cr_assert_eq(bind_any(f4, AF_INET, 8000), 0);
	cr_assert_eq(xm_listen(f4, 8), 0);
	cr_assert_eq(bind_any(f6, AF_INET6, 8000), 0, "v6only next to IPv4: %s", strerror(errno));
	cr_assert_eq(xm_listen(f6, 8), 0);
}

Test(tcp_bind, a_dual_stack_ipv6_wildcard_clashes_with_ipv4)
{
	int f6 = tcp(AF_INET6), f4 = tcp(AF_INET);

	cr_assert_eq(bind_any(f6, AF_INET6, 8001), 0);
	FAILS(bind_any(f4, AF_INET, 8001), EADDRINUSE);
}

Test(tcp_bind, a_specific_address_clashes_with_the_wildcard)
{
	struct sockaddr_storage ss;
	int f1 = tcp(AF_INET), f2 = tcp(AF_INET);
	socklen_t l = env_addr(AF_INET, 'a', 8002, &ss);

	cr_assert_eq(bind_any(f1, AF_INET, 8002), 0);
	FAILS(xm_bind(f2, (void *)&ss, l), EADDRINUSE);
	/* Another family's specific address does not overlap. */
	int f3 = tcp(AF_INET6);

	l = env_addr(AF_INET6, 'a', 8002, &ss);
	cr_assert_eq(xm_bind(f3, (void *)&ss, l), 0);
}

Test(tcp_bind, reuseaddr_shares_a_port_but_never_with_a_listener)
{
	int f1 = tcp(AF_INET), f2 = tcp(AF_INET), f3 = tcp(AF_INET);

	reuse(f1);
	reuse(f2);
	reuse(f3);
	cr_assert_eq(bind_any(f1, AF_INET, 8003), 0);
	cr_assert_eq(bind_any(f2, AF_INET, 8003), 0);
	cr_assert_eq(xm_listen(f1, 8), 0);
	FAILS(bind_any(f3, AF_INET, 8003), EADDRINUSE);
	/* Closed, the port is free again. */
	xm_close(f1);
	xm_close(f2);
	cr_assert_eq(bind_any(f3, AF_INET, 8003), 0);
}
