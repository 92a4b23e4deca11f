// SPDX-License-Identifier: MIT
/*
 * rtnetlink request builders and reply parsers on libmnl. Pure functions
 * over byte buffers: no socket here, so every parser is unit-tested with
 * crafted messages.
 */
#include <errno.h>
#include <string.h>
#include <sys/socket.h>
#include <libmnl/libmnl.h>
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

/* Start a request: header plus a zeroed family-specific body, or NULL when
 * cap cannot hold them (libmnl's put_header does not check). */
static struct nlmsghdr *msg_start(void *buf, size_t cap, uint16_t type,
				  uint16_t flags, uint32_t seq, size_t body,
				  void **bodyp)
{
	struct nlmsghdr *nh;

	if (cap < mnl_nlmsg_size(MNL_ALIGN(body)))
		return NULL;
	nh = mnl_nlmsg_put_header(buf);
	nh->nlmsg_type = type;
	nh->nlmsg_flags = NLM_F_REQUEST | flags;
	nh->nlmsg_seq = seq;
	*bodyp = mnl_nlmsg_put_extra_header(nh, body);
	return nh;
}

int xm_nl_build_getlink(void *buf, size_t cap, uint32_t seq, int ifindex)
{
	struct ifinfomsg *ifi;
	struct nlmsghdr *nh = msg_start(buf, cap, RTM_GETLINK, 0, seq,
					sizeof(*ifi), (void **)&ifi);

	if (!nh)
		return -ENOSPC;
	ifi->ifi_family = AF_UNSPEC;
	ifi->ifi_index = ifindex;
	return (int)nh->nlmsg_len;
}

int xm_nl_build_getaddr_dump(void *buf, size_t cap, uint32_t seq, int family)
{
	struct ifaddrmsg *ifa;
	struct nlmsghdr *nh = msg_start(buf, cap, RTM_GETADDR, NLM_F_DUMP, seq,
					sizeof(*ifa), (void **)&ifa);

	if (!nh)
		return -ENOSPC;
	ifa->ifa_family = (uint8_t)family;
	return (int)nh->nlmsg_len;
}

int xm_nl_build_getroute(void *buf, size_t cap, uint32_t seq, int family,
			 const void *dst, int oif)
{
	int alen = addr_len(family);
	struct nlmsghdr *nh;
	struct rtmsg *rtm;

	if (alen < 0)
		return alen;
	nh = msg_start(buf, cap, RTM_GETROUTE, 0, seq, sizeof(*rtm),
		       (void **)&rtm);
	if (!nh)
		return -ENOSPC;
	rtm->rtm_family = (uint8_t)family;
	rtm->rtm_dst_len = (uint8_t)(alen * 8);
	if (!mnl_attr_put_check(nh, cap, RTA_DST, (size_t)alen, dst))
		return -ENOSPC;
	if (oif > 0 && !mnl_attr_put_u32_check(nh, cap, RTA_OIF, (uint32_t)oif))
		return -ENOSPC;
	return (int)nh->nlmsg_len;
}

static int build_neigh(void *buf, size_t cap, uint16_t type, uint16_t flags,
		       uint32_t seq, int family, const void *addr, int ifindex,
		       uint16_t state, uint8_t ntf)
{
	int alen = addr_len(family);
	struct nlmsghdr *nh;
	struct ndmsg *ndm;

	if (alen < 0)
		return alen;
	nh = msg_start(buf, cap, type, flags, seq, sizeof(*ndm), (void **)&ndm);
	if (!nh)
		return -ENOSPC;
	ndm->ndm_family = (uint8_t)family;
	ndm->ndm_ifindex = ifindex;
	ndm->ndm_state = state;
	ndm->ndm_flags = ntf;
	if (!mnl_attr_put_check(nh, cap, NDA_DST, (size_t)alen, addr))
		return -ENOSPC;
	return (int)nh->nlmsg_len;
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

static int body_ok(const struct nlmsghdr *nh, uint16_t type, size_t body)
{
	if (nh->nlmsg_type != type)
		return -ENOMSG;
	if (mnl_nlmsg_get_payload_len(nh) < body)
		return -EINVAL;
	return 0;
}

/* Run an attribute callback over the attributes after a body of `body`
 * bytes. Callbacks store a negative errno in their state and return
 * MNL_CB_ERROR to stop; a walk that stops reports that errno. */
static int parse_attrs(const struct nlmsghdr *nh, size_t body, mnl_attr_cb_t cb,
		       void *state, const int *err)
{
	if (mnl_attr_parse(nh, (unsigned int)body, cb, state) == MNL_CB_ERROR)
		return *err ? *err : -EINVAL;
	return 0;
}

/* Copy a string attribute of at most cap - 1 characters (NUL or not at the
 * end of the payload). */
static int attr_str(const struct nlattr *a, char *dst, size_t cap)
{
	size_t n = strnlen(mnl_attr_get_payload(a), mnl_attr_get_payload_len(a));

	if (n >= cap)
		return -EINVAL;
	memcpy(dst, mnl_attr_get_payload(a), n);
	dst[n] = '\0';
	return 0;
}

struct link_parse {
	struct xm_nl_link *out;
	int err;
};

static int linkinfo_cb(const struct nlattr *a, void *data)
{
	struct xm_nl_link *out = data;

	/* The kind is information, not identity: one too long to be any
	 * kind we know is left empty rather than failing the link. */
	if (mnl_attr_get_type(a) == IFLA_INFO_KIND &&
	    attr_str(a, out->kind, sizeof(out->kind)))
		out->kind[0] = '\0';
	return MNL_CB_OK;
}

static int link_attr_cb(const struct nlattr *a, void *data)
{
	struct link_parse *p = data;
	struct xm_nl_link *out = p->out;

	switch (mnl_attr_get_type(a)) {
	case IFLA_ADDRESS:
		if (mnl_attr_get_payload_len(a) == 6) {
			memcpy(out->mac, mnl_attr_get_payload(a), 6);
			out->has_mac = true;
		}
		break;
	case IFLA_MTU:
		if (mnl_attr_validate(a, MNL_TYPE_U32) < 0)
			goto bad;
		out->mtu = mnl_attr_get_u32(a);
		break;
	case IFLA_NUM_RX_QUEUES:
		if (mnl_attr_validate(a, MNL_TYPE_U32) < 0)
			goto bad;
		out->num_rx_queues = mnl_attr_get_u32(a);
		break;
	case IFLA_GSO_MAX_SIZE:
		if (mnl_attr_validate(a, MNL_TYPE_U32) < 0)
			goto bad;
		out->gso_max_size = mnl_attr_get_u32(a);
		break;
	case IFLA_GSO_MAX_SEGS:
		if (mnl_attr_validate(a, MNL_TYPE_U32) < 0)
			goto bad;
		out->gso_max_segs = mnl_attr_get_u32(a);
		break;
	case IFLA_IFNAME:
		if (attr_str(a, out->name, sizeof(out->name)))
			goto bad;
		break;
	case IFLA_LINKINFO:
		if (mnl_attr_validate(a, MNL_TYPE_NESTED) < 0 ||
		    mnl_attr_parse_nested(a, linkinfo_cb, out) == MNL_CB_ERROR)
			goto bad;
		break;
	}
	return MNL_CB_OK;
bad:
	p->err = -EINVAL;
	return MNL_CB_ERROR;
}

int xm_nl_parse_link(const struct nlmsghdr *nh, struct xm_nl_link *out)
{
	const struct ifinfomsg *ifi = mnl_nlmsg_get_payload(nh);
	struct link_parse p = { out, 0 };
	int err = body_ok(nh, RTM_NEWLINK, sizeof(*ifi));

	if (err)
		return err;
	memset(out, 0, sizeof(*out));
	out->ifindex = ifi->ifi_index;
	err = parse_attrs(nh, sizeof(*ifi), link_attr_cb, &p, &p.err);
	if (err)
		return err;
	return out->mtu ? 0 : -EINVAL;
}

struct addr_parse {
	int alen;
	const void *local, *address;
};

static int addr_attr_cb(const struct nlattr *a, void *data)
{
	struct addr_parse *p = data;

	if (mnl_attr_validate2(a, MNL_TYPE_BINARY, (size_t)p->alen) < 0)
		return MNL_CB_OK; /* not an address of this family: skip */
	if (mnl_attr_get_type(a) == IFA_LOCAL)
		p->local = mnl_attr_get_payload(a);
	else if (mnl_attr_get_type(a) == IFA_ADDRESS)
		p->address = mnl_attr_get_payload(a);
	return MNL_CB_OK;
}

int xm_nl_parse_addr(const struct nlmsghdr *nh, struct xm_nl_addr *out)
{
	const struct ifaddrmsg *ifa = mnl_nlmsg_get_payload(nh);
	struct addr_parse p = { 0 };
	int err = body_ok(nh, RTM_NEWADDR, sizeof(*ifa));

	if (err)
		return err;
	p.alen = addr_len(ifa->ifa_family);
	if (p.alen < 0)
		return -ENOMSG;
	memset(out, 0, sizeof(*out));
	out->ifindex = (int)ifa->ifa_index;
	out->family = ifa->ifa_family;
	out->prefixlen = ifa->ifa_prefixlen;
	out->scope = ifa->ifa_scope;
	mnl_attr_parse(nh, sizeof(*ifa), addr_attr_cb, &p);
	/* IFA_LOCAL is the interface's own address; IFA_ADDRESS is the peer's
	 * on point-to-point links, and the only one given for IPv6. */
	if (p.local)
		memcpy(out->addr, p.local, (size_t)p.alen);
	else if (p.address)
		memcpy(out->addr, p.address, (size_t)p.alen);
	else
		return -EINVAL;
	return 0;
}

struct route_parse {
	struct xm_nl_route *out;
	size_t alen;
	int err;
};

static int route_attr_cb(const struct nlattr *a, void *data)
{
	struct route_parse *p = data;
	struct xm_nl_route *out = p->out;

	switch (mnl_attr_get_type(a)) {
	case RTA_OIF:
		if (mnl_attr_validate(a, MNL_TYPE_U32) < 0)
			goto bad;
		out->oif = (int)mnl_attr_get_u32(a);
		break;
	case RTA_GATEWAY:
		if (mnl_attr_validate2(a, MNL_TYPE_BINARY, p->alen) < 0)
			goto bad;
		memcpy(out->gateway, mnl_attr_get_payload(a), p->alen);
		out->has_gateway = true;
		break;
	case RTA_PREFSRC:
		if (mnl_attr_validate2(a, MNL_TYPE_BINARY, p->alen) < 0)
			goto bad;
		memcpy(out->prefsrc, mnl_attr_get_payload(a), p->alen);
		out->has_prefsrc = true;
		break;
	}
	return MNL_CB_OK;
bad:
	p->err = -EINVAL;
	return MNL_CB_ERROR;
}

int xm_nl_parse_route(const struct nlmsghdr *nh, int family,
		      struct xm_nl_route *out)
{
	const struct rtmsg *rtm = mnl_nlmsg_get_payload(nh);
	struct route_parse p = { out, 0, 0 };
	int alen = addr_len(family), err = body_ok(nh, RTM_NEWROUTE, sizeof(*rtm));

	if (err)
		return err;
	if (alen < 0 || rtm->rtm_family != family)
		return -EINVAL;
	p.alen = (size_t)alen;
	memset(out, 0, sizeof(*out));
	out->type = rtm->rtm_type;
	return parse_attrs(nh, sizeof(*rtm), route_attr_cb, &p, &p.err);
}

static int neigh_attr_cb(const struct nlattr *a, void *data)
{
	struct xm_nl_neigh *out = data;

	if (mnl_attr_get_type(a) == NDA_LLADDR &&
	    mnl_attr_get_payload_len(a) == 6) {
		memcpy(out->lladdr, mnl_attr_get_payload(a), 6);
		out->has_lladdr = true;
	}
	return MNL_CB_OK;
}

int xm_nl_parse_neigh(const struct nlmsghdr *nh, int family,
		      struct xm_nl_neigh *out)
{
	const struct ndmsg *ndm = mnl_nlmsg_get_payload(nh);
	int err = body_ok(nh, RTM_NEWNEIGH, sizeof(*ndm));

	if (err)
		return err;
	if (ndm->ndm_family != family)
		return -EINVAL;
	memset(out, 0, sizeof(*out));
	out->ifindex = ndm->ndm_ifindex;
	out->state = ndm->ndm_state;
	mnl_attr_parse(nh, sizeof(*ndm), neigh_attr_cb, out);
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
