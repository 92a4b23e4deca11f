/* SPDX-License-Identifier: MIT */
/*
 * The kernel's view of a device, as every AF_XDP link needs it: MAC, MTU
 * and addresses, the route and the neighbour for a destination, asked over
 * rtnetlink with short-lived caches so a busy sender does not pay a netlink
 * round trip per frame. The kernel stays the owner of all of it.
 */
#ifndef XM_LINK_KVIEW_H
#define XM_LINK_KVIEW_H

#include <net/if.h>
#include <stdint.h>

#include "link.h"

struct xm_nl;

#define XM_KVIEW_CACHE_SLOTS 64

struct xm_kview_ent {
	uint8_t family;           /* 0: empty */
	uint8_t key[16];
	int err;                  /* cached result: 0 or -EAGAIN */
	uint64_t expires_ns;
	uint8_t val[16];          /* neigh: mac; route: nexthop */
	uint8_t src[16];          /* route: preferred source */
};

struct xm_kview {
	char dev[IF_NAMESIZE];
	int ifindex;
	struct xm_nl *nl;
	/* Asking the kernel to resolve a neighbour takes CAP_NET_ADMIN; a
	 * program without it asks whoever has it (the device daemon).
	 * NULL: the program has it. */
	int (*neigh_use)(void *ctx, int family, const void *addr);
	void *neigh_ctx;
	struct xm_kview_ent neigh[XM_KVIEW_CACHE_SLOTS];
	struct xm_kview_ent route[XM_KVIEW_CACHE_SLOTS];
};

/* -ENODEV: no such device. */
int xm_kview_open(struct xm_kview *kv, const char *dev);
void xm_kview_close(struct xm_kview *kv);
/* The link's info; mtu no more than max_mtu (what one frame carries). */
int xm_kview_info(struct xm_kview *kv, uint32_t max_mtu, struct xm_link_info *info);
/* As struct xm_link_ops route and neigh. */
int xm_kview_route(struct xm_kview *kv, int family, const void *dst,
		   void *nexthop, void *src);
int xm_kview_neigh(struct xm_kview *kv, int family, const void *nexthop,
		   uint8_t mac[6]);

#endif /* XM_LINK_KVIEW_H */
