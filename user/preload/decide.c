// SPDX-License-Identifier: MIT
/*
 * Which sockets move to xdpmux: those that bind DEV's addresses or the
 * wildcard (within the port list), and those that connect (or send) to a
 * destination the kernel routes out of DEV. The kernel is asked each time
 * (rtnetlink), so addresses and routes added while the program runs count.
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdio.h>
#include <string.h>

#include "../lib/link/netlink.h"
#include "preload.h"

static struct xm_nl *nl;

/* family, address bytes and port of a sockaddr; an IPv4-mapped IPv6
 * address counts as IPv4, as the kernel routes it. false: not IP. */
static bool split(const struct sockaddr *a, socklen_t len, int *family,
		  uint8_t addr[16], uint16_t *port)
{
	if (a && a->sa_family == AF_INET && len >= sizeof(struct sockaddr_in)) {
		const struct sockaddr_in *s = (const void *)a;

		*family = AF_INET;
		memcpy(addr, &s->sin_addr, 4);
		*port = ntohs(s->sin_port);
		return true;
	}
	if (a && a->sa_family == AF_INET6 && len >= sizeof(struct sockaddr_in6)) {
		const struct sockaddr_in6 *s = (const void *)a;

		*port = ntohs(s->sin6_port);
		if (IN6_IS_ADDR_V4MAPPED(&s->sin6_addr)) {
			*family = AF_INET;
			memcpy(addr, &s->sin6_addr.s6_addr[12], 4);
		} else {
			*family = AF_INET6;
			memcpy(addr, &s->sin6_addr, 16);
		}
		return true;
	}
	return false;
}

const char *pl_addr_str(const struct sockaddr *a, socklen_t len, char *buf, size_t n)
{
	char ip[INET6_ADDRSTRLEN];
	uint8_t addr[16];
	uint16_t port;
	int family;

	if (!split(a, len, &family, addr, &port)) {
		snprintf(buf, n, "(family %d)", a ? a->sa_family : -1);
		return buf;
	}
	inet_ntop(family, addr, ip, sizeof(ip));
	snprintf(buf, n, family == AF_INET6 ? "[%s]:%u" : "%s:%u", ip, port);
	return buf;
}

static bool port_listed(uint16_t port)
{
	if (!pl.nports)
		return true;
	for (int i = 0; i < pl.nports; i++)
		if (port >= pl.port_lo[i] && port <= pl.port_hi[i])
			return true;
	return false;
}

static struct xm_nl *netlink(void)
{
	if (!nl && xm_nl_open(&nl) < 0)
		nl = NULL;
	return nl;
}

static bool dev_has_addr(int family, const uint8_t addr[16])
{
	struct xm_nl_addr a[32];
	int n, i;

	if (!netlink())
		return false;
	n = xm_nl_get_addrs(nl, pl.ifindex, family, a, 32);
	for (i = 0; i < n && i < 32; i++)
		if (a[i].family == family &&
		    !memcmp(a[i].addr, addr, family == AF_INET ? 4 : 16))
			return true;
	return false;
}

/* The checks every decision starts with: a device, an IP address. */
static bool ip_on_dev(const struct sockaddr *a, socklen_t len, int *family,
		      uint8_t addr[16], uint16_t *port, const char **why)
{
	if (!pl.ifindex) {
		*why = "no device";
		return false;
	}
	if (!split(a, len, family, addr, port)) {
		*why = "not an IP address";
		return false;
	}
	return true;
}

bool pl_decide_bind(const struct sockaddr *a, socklen_t len, const char **why)
{
	static const uint8_t zero[16];
	uint8_t addr[16];
	uint16_t port;
	int family;

	if (!ip_on_dev(a, len, &family, addr, &port, why))
		return false;
	if (!port_listed(port)) {
		*why = "port not in --ports";
		return false;
	}
	if (!memcmp(addr, zero, family == AF_INET ? 4 : 16)) {
		*why = "wildcard address";
		return true;
	}
	if (dev_has_addr(family, addr)) {
		*why = "an address of the device";
		return true;
	}
	*why = "not an address of the device";
	return false;
}

bool pl_decide_connect(const struct sockaddr *a, socklen_t len, const char **why)
{
	uint8_t addr[16], hop[16];
	uint16_t port;
	int family;

	if (!ip_on_dev(a, len, &family, addr, &port, why))
		return false;
	if (!netlink()) {
		*why = "no rtnetlink socket";
		return false;
	}
	if (xm_nl_route_get(nl, pl.ifindex, family, addr, hop, NULL) < 0) {
		*why = "not routed out of the device";
		return false;
	}
	*why = "routed out of the device";
	return true;
}
