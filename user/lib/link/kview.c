// SPDX-License-Identifier: MIT
#include <errno.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>

#include "kview.h"
#include "netlink.h"

/* A neighbour the kernel resolved stays usable this long before we ask
 * again (the kernel's own reachable time is ~30 s). */
#define NEIGH_TTL_NS          1000000000ull
#define ROUTE_TTL_NS          1000000000ull
/* While a resolution is pending, ask the kernel at most this often. */
#define NEIGH_RETRY_NS        1000000ull

static uint64_t mono_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

static size_t alen(int family)
{
	return family == AF_INET ? 4 : 16;
}

static struct xm_kview_ent *cache_slot(struct xm_kview_ent *c, int family,
				       const void *key)
{
	const uint8_t *k = key;
	uint32_t h = 2166136261u; /* FNV-1a */
	size_t i;

	for (i = 0; i < alen(family); i++)
		h = (h ^ k[i]) * 16777619u;
	return &c[h % XM_KVIEW_CACHE_SLOTS];
}

static bool cache_hit(const struct xm_kview_ent *e, int family, const void *key,
		      uint64_t now)
{
	return e->family == family && now < e->expires_ns &&
	       !memcmp(e->key, key, alen(family));
}

int xm_kview_open(struct xm_kview *kv, const char *dev)
{
	memset(kv, 0, sizeof(*kv));
	if (!dev || strlen(dev) >= IF_NAMESIZE)
		return -EINVAL;
	memcpy(kv->dev, dev, strlen(dev) + 1);
	kv->ifindex = (int)if_nametoindex(dev);
	if (!kv->ifindex)
		return -ENODEV;
	return xm_nl_open(&kv->nl);
}

void xm_kview_close(struct xm_kview *kv)
{
	xm_nl_close(kv->nl);
	kv->nl = NULL;
}

int xm_kview_info(struct xm_kview *kv, uint32_t max_mtu, struct xm_link_info *info)
{
	struct xm_nl_addr addrs[2 * XM_LINK_MAX_ADDRS];
	struct xm_nl_link nlk;
	int n, i, err;

	err = xm_nl_get_link(kv->nl, kv->ifindex, &nlk);
	if (err)
		return err;
	memset(info, 0, sizeof(*info));
	memcpy(info->name, kv->dev, sizeof(info->name) - 1);
	info->ifindex = kv->ifindex;
	memcpy(info->mac, nlk.mac, 6);
	memcpy(info->kind, nlk.kind, sizeof(info->kind));
	info->dev_mtu = nlk.mtu;
	/* The device's bounds; a backend without tx_gso clears them. */
	info->gso_max_size = nlk.gso_max_size;
	info->gso_max_segs = nlk.gso_max_segs;
	/* A frame the stack sends must fit one buffer: report the MTU the link
	 * can send, and the stack fragments to it. */
	info->mtu = nlk.mtu < max_mtu ? nlk.mtu : max_mtu;
	n = xm_nl_get_addrs(kv->nl, kv->ifindex, AF_UNSPEC, addrs,
			    (int)(sizeof(addrs) / sizeof(addrs[0])));
	if (n < 0)
		return n;
	if (n > (int)(sizeof(addrs) / sizeof(addrs[0])))
		n = (int)(sizeof(addrs) / sizeof(addrs[0]));
	for (i = 0; i < n; i++) {
		if (addrs[i].family == AF_INET && info->n_ipv4 < XM_LINK_MAX_ADDRS) {
			struct xm_link_addr4 *d = &info->ipv4[info->n_ipv4++];

			memcpy(d->addr, addrs[i].addr, 4);
			d->prefixlen = addrs[i].prefixlen;
		} else if (addrs[i].family == AF_INET6 &&
			   info->n_ipv6 < XM_LINK_MAX_ADDRS) {
			struct xm_link_addr6 *d = &info->ipv6[info->n_ipv6++];

			memcpy(d->addr, addrs[i].addr, 16);
			d->prefixlen = addrs[i].prefixlen;
		}
	}
	return 0;
}

int xm_kview_route(struct xm_kview *kv, int family, const void *dst,
		   void *nexthop, void *src)
{
	struct xm_kview_ent *e;
	uint64_t now = mono_ns();
	int err;

	if (family != AF_INET && family != AF_INET6)
		return -EAFNOSUPPORT;
	e = cache_slot(kv->route, family, dst);
	if (!cache_hit(e, family, dst, now)) {
		memset(e, 0, sizeof(*e));
		err = xm_nl_route_get(kv->nl, kv->ifindex, family, dst, e->val,
				      e->src);
		if (err)
			return err; /* not cached: routes appear at any time */
		e->family = (uint8_t)family;
		memcpy(e->key, dst, alen(family));
		e->expires_ns = now + ROUTE_TTL_NS;
	}
	memcpy(nexthop, e->val, alen(family));
	if (src)
		memcpy(src, e->src, alen(family));
	return 0;
}

int xm_kview_neigh(struct xm_kview *kv, int family, const void *nexthop,
		   uint8_t mac[6])
{
	struct xm_kview_ent *e;
	uint64_t now = mono_ns();
	int err;

	if (family != AF_INET && family != AF_INET6)
		return -EAFNOSUPPORT;
	e = cache_slot(kv->neigh, family, nexthop);
	if (cache_hit(e, family, nexthop, now)) {
		if (e->err)
			return e->err;
		memcpy(mac, e->val, 6);
		return 0;
	}
	err = xm_nl_neigh_get(kv->nl, kv->ifindex, family, nexthop, e->val);
	/* Reading the table needs nothing; asking the kernel to resolve
	 * needs CAP_NET_ADMIN: without it, ask whoever has it. */
	if ((err == -EPERM || err == -EACCES) && kv->neigh_use) {
		err = kv->neigh_use(kv->neigh_ctx, family, nexthop);
		if (!err)
			err = -EAGAIN;
	}
	if (err && err != -EAGAIN) {
		e->family = 0;
		return err;
	}
	e->family = (uint8_t)family;
	memcpy(e->key, nexthop, alen(family));
	e->err = err;
	e->expires_ns = now + (err ? NEIGH_RETRY_NS : NEIGH_TTL_NS);
	if (!err)
		memcpy(mac, e->val, 6);
	return err;
}
