// SPDX-License-Identifier: MIT
/*
 * rtnetlink request builders and reply parsers. Pure functions over byte
 * buffers: no socket here, so every parser is unit-tested with crafted
 * messages.
 */
#include <errno.h>
#include <string.h>
#include <sys/socket.h>
#include <linux/if_addr.h>
#include <linux/if_link.h>
#include <linux/neighbour.h>
#include <linux/rtnetlink.h>

#include "netlink.h"

static int addr_len(int family)
{
	if (family == AF_INET)
		return 4;
	if (family == AF_INET6)
		return 16;
	return -EAFNOSUPPORT;
}

/* Start a request: header plus a zeroed family-specific body. */
static struct nlmsghdr *msg_start(void *buf, size_t cap, uint16_t type,
				  uint16_t flags, uint32_t seq, size_t body)
{
	struct nlmsghdr *nh = buf;
	size_t len = NLMSG_LENGTH(body);

	if (cap < NLMSG_ALIGN(len))
		return NULL;
	memset(buf, 0, NLMSG_ALIGN(len));
	nh->nlmsg_len = len;
	nh->nlmsg_type = type;
	nh->nlmsg_flags = NLM_F_REQUEST | flags;
	nh->nlmsg_seq = seq;
	return nh;
}

static int msg_put(struct nlmsghdr *nh, size_t cap, uint16_t type,
		   const void *data, size_t len)
{
	size_t off = NLMSG_ALIGN(nh->nlmsg_len);
	struct rtattr *rta = (struct rtattr *)((char *)nh + off);

	if (off + RTA_SPACE(len) > cap)
		return -ENOSPC;
	rta->rta_type = type;
	rta->rta_len = RTA_LENGTH(len);
	memcpy(RTA_DATA(rta), data, len);
	nh->nlmsg_len = off + RTA_SPACE(len);
	return 0;
}

static int msg_end(const struct nlmsghdr *nh)
{
	return (int)NLMSG_ALIGN(nh->nlmsg_len);
}

int xm_nl_build_getlink(void *buf, size_t cap, uint32_t seq, int ifindex)
{
	struct nlmsghdr *nh = msg_start(buf, cap, RTM_GETLINK, 0, seq,
					sizeof(struct ifinfomsg));
	struct ifinfomsg *ifi;

	if (!nh)
		return -ENOSPC;
	ifi = NLMSG_DATA(nh);
	ifi->ifi_family = AF_UNSPEC;
	ifi->ifi_index = ifindex;
	return msg_end(nh);
}

int xm_nl_build_getaddr_dump(void *buf, size_t cap, uint32_t seq, int family)
{
	struct nlmsghdr *nh = msg_start(buf, cap, RTM_GETADDR, NLM_F_DUMP, seq,
					sizeof(struct ifaddrmsg));
	struct ifaddrmsg *ifa;

	if (!nh)
		return -ENOSPC;
	ifa = NLMSG_DATA(nh);
	ifa->ifa_family = (uint8_t)family;
	return msg_end(nh);
}

int xm_nl_build_getroute(void *buf, size_t cap, uint32_t seq, int family,
			 const void *dst, int oif)
{
	struct nlmsghdr *nh = msg_start(buf, cap, RTM_GETROUTE, 0, seq,
					sizeof(struct rtmsg));
	int alen = addr_len(family);
	struct rtmsg *rtm;
	uint32_t o = (uint32_t)oif;

	if (alen < 0)
		return alen;
	if (!nh)
		return -ENOSPC;
	rtm = NLMSG_DATA(nh);
	rtm->rtm_family = (uint8_t)family;
	rtm->rtm_dst_len = (uint8_t)(alen * 8);
	if (msg_put(nh, cap, RTA_DST, dst, (size_t)alen))
		return -ENOSPC;
	if (oif > 0 && msg_put(nh, cap, RTA_OIF, &o, sizeof(o)))
		return -ENOSPC;
	return msg_end(nh);
}

static int build_neigh(void *buf, size_t cap, uint16_t type, uint16_t flags,
		       uint32_t seq, int family, const void *addr, int ifindex,
		       uint16_t state, uint8_t ntf)
{
	struct nlmsghdr *nh = msg_start(buf, cap, type, flags, seq,
					sizeof(struct ndmsg));
	int alen = addr_len(family);
	struct ndmsg *ndm;

	if (alen < 0)
		return alen;
	if (!nh)
		return -ENOSPC;
	ndm = NLMSG_DATA(nh);
	ndm->ndm_family = (uint8_t)family;
	ndm->ndm_ifindex = ifindex;
	ndm->ndm_state = state;
	ndm->ndm_flags = ntf;
	if (msg_put(nh, cap, NDA_DST, addr, (size_t)alen))
		return -ENOSPC;
	return msg_end(nh);
}

int xm_nl_build_getneigh(void *buf, size_t cap, uint32_t seq, int family,
			 const void *addr, int ifindex)
{
	return build_neigh(buf, cap, RTM_GETNEIGH, 0, seq, family, addr,
			   ifindex, 0, 0);
}

int xm_nl_build_neigh_use(void *buf, size_t cap, uint32_t seq, int family,
			  const void *addr, int ifindex)
{
	/* NLM_F_CREATE so a missing entry is made (state NONE, no lladdr);
	 * the kernel's neigh_add then calls neigh_event_send() because of
	 * NTF_USE, which starts resolution exactly as an outgoing packet
	 * would. Nothing static is written. */
	return build_neigh(buf, cap, RTM_NEWNEIGH, NLM_F_CREATE | NLM_F_ACK,
			   seq, family, addr, ifindex, NUD_NONE, NTF_USE);
}

/* Walk the attributes after a fixed body of `body` bytes. */
#define for_each_rta(nh, body, rta, rem)                                     \
	for (rta = (struct rtattr *)((char *)NLMSG_DATA(nh) + NLMSG_ALIGN(body)), \
	     rem = (int)(nh)->nlmsg_len - (int)NLMSG_LENGTH(NLMSG_ALIGN(body));   \
	     RTA_OK(rta, rem); rta = RTA_NEXT(rta, rem))

static int body_ok(const struct nlmsghdr *nh, uint16_t type, size_t body)
{
	if (nh->nlmsg_type != type)
		return -ENOMSG;
	if (nh->nlmsg_len < NLMSG_LENGTH(body))
		return -EINVAL;
	return 0;
}

/* IFLA_LINKINFO nests the driver's kind ("veth", "bridge", ...) as
 * IFLA_INFO_KIND; a physical device has no IFLA_LINKINFO at all. */
static int parse_linkinfo(struct rtattr *nest, char *kind, size_t cap)
{
	struct rtattr *rta;
	int rem = (int)RTA_PAYLOAD(nest);
	size_t n;

	for (rta = RTA_DATA(nest); RTA_OK(rta, rem); rta = RTA_NEXT(rta, rem)) {
		if (rta->rta_type != IFLA_INFO_KIND)
			continue;
		n = strnlen(RTA_DATA(rta), RTA_PAYLOAD(rta));
		if (n >= cap)
			return -EINVAL;
		memcpy(kind, RTA_DATA(rta), n);
		kind[n] = '\0';
	}
	return 0;
}

int xm_nl_parse_link(const struct nlmsghdr *nh, struct xm_nl_link *out)
{
	const struct ifinfomsg *ifi = NLMSG_DATA(nh);
	struct rtattr *rta;
	int rem, err = body_ok(nh, RTM_NEWLINK, sizeof(*ifi));
	size_t n;

	if (err)
		return err;
	memset(out, 0, sizeof(*out));
	out->ifindex = ifi->ifi_index;
	for_each_rta(nh, sizeof(*ifi), rta, rem) {
		size_t len = RTA_PAYLOAD(rta);

		switch (rta->rta_type) {
		case IFLA_ADDRESS:
			if (len == 6) {
				memcpy(out->mac, RTA_DATA(rta), 6);
				out->has_mac = true;
			}
			break;
		case IFLA_MTU:
			if (len < 4)
				return -EINVAL;
			memcpy(&out->mtu, RTA_DATA(rta), 4);
			break;
		case IFLA_NUM_RX_QUEUES:
			if (len < 4)
				return -EINVAL;
			memcpy(&out->num_rx_queues, RTA_DATA(rta), 4);
			break;
		case IFLA_IFNAME:
			n = strnlen(RTA_DATA(rta), len);
			if (n >= sizeof(out->name))
				return -EINVAL;
			memcpy(out->name, RTA_DATA(rta), n);
			out->name[n] = '\0';
			break;
		case IFLA_LINKINFO:
			err = parse_linkinfo(rta, out->kind, sizeof(out->kind));
			if (err)
				return err;
			break;
		}
	}
	return out->mtu ? 0 : -EINVAL;
}

int xm_nl_parse_addr(const struct nlmsghdr *nh, struct xm_nl_addr *out)
{
	const struct ifaddrmsg *ifa = NLMSG_DATA(nh);
	bool have_local = false, have_addr = false;
	uint8_t local[16], address[16];
	struct rtattr *rta;
	int rem, alen, err = body_ok(nh, RTM_NEWADDR, sizeof(*ifa));

	if (err)
		return err;
	alen = addr_len(ifa->ifa_family);
	if (alen < 0)
		return -ENOMSG;
	memset(out, 0, sizeof(*out));
	out->ifindex = (int)ifa->ifa_index;
	out->family = ifa->ifa_family;
	out->prefixlen = ifa->ifa_prefixlen;
	out->scope = ifa->ifa_scope;
	for_each_rta(nh, sizeof(*ifa), rta, rem) {
		if ((int)RTA_PAYLOAD(rta) != alen)
			continue;
		if (rta->rta_type == IFA_LOCAL) {
			memcpy(local, RTA_DATA(rta), (size_t)alen);
			have_local = true;
		} else if (rta->rta_type == IFA_ADDRESS) {
			memcpy(address, RTA_DATA(rta), (size_t)alen);
			have_addr = true;
		}
	}
	/* IFA_LOCAL is the interface's own address; IFA_ADDRESS is the peer's
	 * on point-to-point links, and the only one given for IPv6. */
	if (have_local)
		memcpy(out->addr, local, (size_t)alen);
	else if (have_addr)
		memcpy(out->addr, address, (size_t)alen);
	else
		return -EINVAL;
	return 0;
}

int xm_nl_parse_route(const struct nlmsghdr *nh, int family,
		      struct xm_nl_route *out)
{
	const struct rtmsg *rtm = NLMSG_DATA(nh);
	struct rtattr *rta;
	int rem, alen = addr_len(family), err = body_ok(nh, RTM_NEWROUTE, sizeof(*rtm));

	if (err)
		return err;
	if (alen < 0 || rtm->rtm_family != family)
		return -EINVAL;
	memset(out, 0, sizeof(*out));
	out->type = rtm->rtm_type;
	for_each_rta(nh, sizeof(*rtm), rta, rem) {
		size_t len = RTA_PAYLOAD(rta);

		switch (rta->rta_type) {
		case RTA_OIF:
			if (len < 4)
				return -EINVAL;
			memcpy(&out->oif, RTA_DATA(rta), 4);
			break;
		case RTA_GATEWAY:
			if ((int)len != alen)
				return -EINVAL;
			memcpy(out->gateway, RTA_DATA(rta), len);
			out->has_gateway = true;
			break;
		case RTA_PREFSRC:
			if ((int)len != alen)
				return -EINVAL;
			memcpy(out->prefsrc, RTA_DATA(rta), len);
			out->has_prefsrc = true;
			break;
		}
	}
	return 0;
}

int xm_nl_parse_neigh(const struct nlmsghdr *nh, int family,
		      struct xm_nl_neigh *out)
{
	const struct ndmsg *ndm = NLMSG_DATA(nh);
	struct rtattr *rta;
	int rem, err = body_ok(nh, RTM_NEWNEIGH, sizeof(*ndm));

	if (err)
		return err;
	if (ndm->ndm_family != family)
		return -EINVAL;
	memset(out, 0, sizeof(*out));
	out->ifindex = ndm->ndm_ifindex;
	out->state = ndm->ndm_state;
	for_each_rta(nh, sizeof(*ndm), rta, rem) {
		if (rta->rta_type == NDA_LLADDR && RTA_PAYLOAD(rta) == 6) {
			memcpy(out->lladdr, RTA_DATA(rta), 6);
			out->has_lladdr = true;
		}
	}
	return 0;
}

enum xm_neigh_verdict xm_nl_neigh_verdict(const struct xm_nl_neigh *n)
{
	if (n->state & NUD_INCOMPLETE)
		return XM_NEIGH_PENDING;
	if (n->state & NUD_FAILED)
		return XM_NEIGH_FAILED;
	if (!n->has_lladdr)
		return XM_NEIGH_RESOLVE;
	if (n->state & (NUD_REACHABLE | NUD_PERMANENT | NUD_NOARP))
		return XM_NEIGH_USABLE;
	/* DELAY and PROBE: the kernel is already confirming it. */
	if (n->state & (NUD_DELAY | NUD_PROBE))
		return XM_NEIGH_USABLE;
	if (n->state & NUD_STALE)
		return XM_NEIGH_REFRESH;
	/* NONE: resolve. */
	return XM_NEIGH_RESOLVE;
}
