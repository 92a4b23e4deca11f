/* SPDX-License-Identifier: MIT */
/*
 * rtnetlink queries of the AF_XDP link: the kernel stays the owner of the
 * host's identity (MAC, MTU, addresses, routes, neighbours) and the runtime
 * asks it rather than keeping its own tables.
 *
 * Split in two: netlink_msg.c builds requests and parses replies (pure, unit
 * tested with crafted messages); netlink.c owns the socket and the exchange.
 * Both sit on libmnl, which does the framing, alignment and attribute
 * validation.
 * Every function returns 0 or a negative errno.
 */
#ifndef XM_LINK_NETLINK_H
#define XM_LINK_NETLINK_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <linux/netlink.h>

struct xm_nl_link {
	int ifindex;
	char name[16];
	uint8_t mac[6];
	bool has_mac;
	uint32_t mtu;
	uint32_t num_rx_queues;   /* IFLA_NUM_RX_QUEUES (allocated), 0: unknown */
	char kind[16];            /* IFLA_INFO_KIND ("veth", ...); "": none */
	uint32_t gso_max_size;    /* IFLA_GSO_MAX_SIZE, 0: not reported */
	uint32_t gso_max_segs;    /* IFLA_GSO_MAX_SEGS, 0: not reported */
};

struct xm_nl_addr {
	int ifindex;
	uint8_t family;           /* AF_INET or AF_INET6 */
	uint8_t prefixlen;
	uint8_t scope;            /* RT_SCOPE_* */
	uint8_t addr[16];         /* IPv4 in the first 4 bytes */
};

struct xm_nl_route {
	uint8_t type;             /* RTN_UNICAST, RTN_LOCAL, ... */
	int oif;                  /* 0: none given */
	bool has_gateway;
	uint8_t gateway[16];
	bool has_prefsrc;
	uint8_t prefsrc[16];
};

struct xm_nl_neigh {
	int ifindex;
	uint16_t state;           /* NUD_* */
	bool has_lladdr;
	uint8_t lladdr[6];
};

/* ---- netlink_msg.c: pure message building and parsing ---- */

/* Each builder writes one request into buf (NLMSG_ALIGNed) and returns its
 * length, or -ENOSPC when buf is too small. */
int xm_nl_build_getlink(void *buf, size_t cap, uint32_t seq, int ifindex);
int xm_nl_build_getaddr_dump(void *buf, size_t cap, uint32_t seq, int family);
/* oif 0: let the kernel choose the output device. */
int xm_nl_build_getroute(void *buf, size_t cap, uint32_t seq, int family,
			 const void *dst, int oif);
int xm_nl_build_getneigh(void *buf, size_t cap, uint32_t seq, int family,
			 const void *addr, int ifindex);
/* RTM_NEWNEIGH with NTF_USE: create the entry if missing and make the kernel
 * resolve it (ARP request / neighbour solicitation) as if it had a packet to
 * send, without ever writing a link-layer address ourselves. */
int xm_nl_build_neigh_use(void *buf, size_t cap, uint32_t seq, int family,
			  const void *addr, int ifindex);

/* Parse one reply message of the matching type. -EINVAL: malformed;
 * -ENOMSG: not a message of that type. */
int xm_nl_parse_link(const struct nlmsghdr *nh, struct xm_nl_link *out);
int xm_nl_parse_addr(const struct nlmsghdr *nh, struct xm_nl_addr *out);
int xm_nl_parse_route(const struct nlmsghdr *nh, int family,
		      struct xm_nl_route *out);
int xm_nl_parse_neigh(const struct nlmsghdr *nh, int family,
		      struct xm_nl_neigh *out);

/* What a neighbour entry in this state means for a sender:
 *   XM_NEIGH_USABLE   mac valid, send now
 *   XM_NEIGH_REFRESH  mac valid but stale: send, and ask the kernel to
 *                     confirm it (our frames bypass its stack, so it would
 *                     otherwise never see the entry in use)
 *   XM_NEIGH_PENDING  resolution under way: retry later
 *   XM_NEIGH_RESOLVE  no usable entry: ask the kernel to resolve it
 *   XM_NEIGH_FAILED   the kernel's last resolution failed: report the host
 *                     unreachable, and ask again so a later try may work */
enum xm_neigh_verdict {
	XM_NEIGH_USABLE,
	XM_NEIGH_REFRESH,
	XM_NEIGH_PENDING,
	XM_NEIGH_RESOLVE,
	XM_NEIGH_FAILED,
};
enum xm_neigh_verdict xm_nl_neigh_verdict(const struct xm_nl_neigh *n);

/* ---- netlink.c: one NETLINK_ROUTE socket and its requests ---- */

struct xm_nl;

int xm_nl_open(struct xm_nl **out);
void xm_nl_close(struct xm_nl *nl);

int xm_nl_get_link(struct xm_nl *nl, int ifindex, struct xm_nl_link *out);
/* Addresses of ifindex of the given family (AF_UNSPEC: both), at most max
 * into out; returns how many were found (may exceed max: then truncated). */
int xm_nl_get_addrs(struct xm_nl *nl, int ifindex, int family,
		    struct xm_nl_addr *out, int max);
/* Route to dst out of ifindex. Fills nexthop (the gateway, or dst itself when
 * on-link) and src (the kernel's preferred source). -ENETUNREACH when no
 * route leaves through ifindex or the destination is local. */
int xm_nl_route_get(struct xm_nl *nl, int ifindex, int family, const void *dst,
		    void *nexthop, void *src);
/* The neighbour's MAC from the kernel's table. When it is missing or
 * incomplete, asks the kernel to resolve it and returns -EAGAIN; when the
 * kernel's resolution failed, asks again and returns -EHOSTUNREACH. */
int xm_nl_neigh_get(struct xm_nl *nl, int ifindex, int family,
		    const void *addr, uint8_t mac[6]);
/* Only ask the kernel to (re)resolve addr (RTM_NEWNEIGH, NTF_USE). */
int xm_nl_neigh_use(struct xm_nl *nl, int ifindex, int family, const void *addr);

#endif /* XM_LINK_NETLINK_H */
