// SPDX-License-Identifier: MIT
/*
 * One NETLINK_ROUTE socket (libmnl's) and the request/reply exchange over
 * it. The messages themselves are built and parsed in netlink_msg.c.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <libmnl/libmnl.h>
#include <linux/neighbour.h>
#include <linux/rtnetlink.h>

#include "netlink.h"

#define NL_BUF 32768

struct xm_nl {
	struct mnl_socket *sock;
	uint32_t seq;
	uint32_t portid;
	uint8_t buf[NL_BUF];
};

int xm_nl_open(struct xm_nl **out)
{
	/* A request the kernel does not answer must not hang the stack. */
	struct timeval tv = { .tv_sec = 2 };
	int one = 1, err;
	struct xm_nl *nl;

	nl = calloc(1, sizeof(*nl));
	if (!nl)
		return -ENOMEM;
	nl->sock = mnl_socket_open2(NETLINK_ROUTE, SOCK_CLOEXEC);
	if (!nl->sock) {
		err = -errno;
		free(nl);
		return err;
	}
	if (setsockopt(mnl_socket_get_fd(nl->sock), SOL_SOCKET, SO_RCVTIMEO,
		       &tv, sizeof(tv)) ||
	    mnl_socket_bind(nl->sock, 0, MNL_SOCKET_AUTOPID)) {
		err = -errno;
		mnl_socket_close(nl->sock);
		free(nl);
		return err;
	}
	/* Extended acks are only a nicety; older kernels lack them. */
	mnl_socket_setsockopt(nl->sock, NETLINK_EXT_ACK, &one, sizeof(one));
	nl->portid = mnl_socket_get_portid(nl->sock);
	nl->seq = 1;
	*out = nl;
	return 0;
}

void xm_nl_close(struct xm_nl *nl)
{
	if (!nl)
		return;
	mnl_socket_close(nl->sock);
	free(nl);
}

static int nl_send(struct xm_nl *nl, int len)
{
	ssize_t n;

	if (len < 0)
		return len;
	do {
		n = mnl_socket_sendto(nl->sock, nl->buf, (size_t)len);
	} while (n < 0 && errno == EINTR);
	if (n < 0)
		return -errno;
	return n == len ? 0 : -EIO;
}

/*
 * Receive the replies to request `seq`, calling cb on every data message.
 * Returns the first error the kernel reported (NLMSG_ERROR), or cb's
 * first non-zero return, or 0 once NLMSG_DONE / the ack / the single reply
 * (when !multi) is seen.
 *
 * Not mnl_cb_run(): it fails the whole buffer on a message of another
 * sequence number, and such a message is normal here (the late reply to a
 * request that timed out), to be skipped.
 */
static int nl_recv(struct xm_nl *nl, uint32_t seq, bool multi,
		   int (*cb)(const struct nlmsghdr *, void *), void *arg)
{
	int result = 0;

	for (;;) {
		const struct nlmsghdr *nh;
		ssize_t n;
		int rem;

		n = mnl_socket_recvfrom(nl->sock, nl->buf, sizeof(nl->buf));
		if (n < 0) {
			if (errno == EINTR)
				continue;
			return errno == EWOULDBLOCK ? -ETIMEDOUT : -errno;
		}
		rem = (int)n;
		for (nh = (const struct nlmsghdr *)nl->buf; mnl_nlmsg_ok(nh, rem);
		     nh = mnl_nlmsg_next(nh, &rem)) {
			if (nh->nlmsg_seq != seq || nh->nlmsg_pid != nl->portid)
				continue; /* a late reply to an earlier request */
			if (nh->nlmsg_type == NLMSG_DONE)
				return result;
			if (nh->nlmsg_type == NLMSG_ERROR) {
				const struct nlmsgerr *e = mnl_nlmsg_get_payload(nh);

				if (mnl_nlmsg_get_payload_len(nh) < sizeof(*e))
					return -EINVAL;
				/* error 0 is the ack */
				return result ? result : e->error;
			}
			if (nh->nlmsg_type < NLMSG_MIN_TYPE)
				continue; /* NOOP, OVERRUN: no data */
			if (!result && cb)
				result = cb(nh, arg);
			if (!multi)
				return result;
		}
	}
}

static int nl_request(struct xm_nl *nl, int len, bool multi,
		      int (*cb)(const struct nlmsghdr *, void *), void *arg)
{
	struct nlmsghdr *nh = (struct nlmsghdr *)nl->buf;
	uint32_t seq;
	int err;

	if (len < 0)
		return len;
	seq = nh->nlmsg_seq;
	err = nl_send(nl, len);
	if (err)
		return err;
	return nl_recv(nl, seq, multi, cb, arg);
}
static int link_cb(const struct nlmsghdr *nh, void *arg)
{
	return xm_nl_parse_link(nh, arg);
}

int xm_nl_get_link(struct xm_nl *nl, int ifindex, struct xm_nl_link *out)
{
	int len = xm_nl_build_getlink(nl->buf, sizeof(nl->buf), ++nl->seq, ifindex);

	memset(out, 0, sizeof(*out));
	return nl_request(nl, len, false, link_cb, out);
}

struct addr_walk {
	int ifindex;
	int family;
	struct xm_nl_addr *out;
	int max;
	int found;
};

static int addr_cb(const struct nlmsghdr *nh, void *arg)
{
	struct addr_walk *w = arg;
	struct xm_nl_addr a;

	if (xm_nl_parse_addr(nh, &a))
		return 0; /* another family or an odd entry: not ours */
	if (a.ifindex != w->ifindex ||
	    (w->family != AF_UNSPEC && a.family != w->family))
		return 0;
	if (w->found < w->max)
		w->out[w->found] = a;
	w->found++;
	return 0;
}

int xm_nl_get_addrs(struct xm_nl *nl, int ifindex, int family,
		    struct xm_nl_addr *out, int max)
{
	struct addr_walk w = { ifindex, family, out, max, 0 };
	int len = xm_nl_build_getaddr_dump(nl->buf, sizeof(nl->buf), ++nl->seq,
					   family);
	int err = nl_request(nl, len, true, addr_cb, &w);

	return err ? err : w.found;
}

struct route_reply {
	int family;
	struct xm_nl_route r;
};

static int route_cb(const struct nlmsghdr *nh, void *arg)
{
	struct route_reply *rr = arg;

	return xm_nl_parse_route(nh, rr->family, &rr->r);
}

int xm_nl_route_get(struct xm_nl *nl, int ifindex, int family, const void *dst,
		    void *nexthop, void *src)
{
	struct route_reply rr = { .family = family };
	size_t alen = family == AF_INET ? 4 : 16;
	int len, err;

	/* Ask without pinning the output device: the answer must be the route
	 * the kernel itself would use, and if that leaves through another
	 * device we cannot reach dst from ours. */
	len = xm_nl_build_getroute(nl->buf, sizeof(nl->buf), ++nl->seq, family,
				   dst, 0);
	err = nl_request(nl, len, false, route_cb, &rr);
	if (err == -EHOSTUNREACH || err == -EACCES || err == -EINVAL ||
	    err == -ENETUNREACH)
		return -ENETUNREACH; /* unreachable, prohibit, blackhole */
	if (err)
		return err;
	if (rr.r.type != RTN_UNICAST || rr.r.oif != ifindex)
		return -ENETUNREACH;
	memcpy(nexthop, rr.r.has_gateway ? rr.r.gateway : dst, alen);
	if (src) {
		if (!rr.r.has_prefsrc)
			return -EADDRNOTAVAIL;
		memcpy(src, rr.r.prefsrc, alen);
	}
	return 0;
}

int xm_nl_neigh_use(struct xm_nl *nl, int ifindex, int family, const void *addr)
{
	int len = xm_nl_build_neigh_use(nl->buf, sizeof(nl->buf), ++nl->seq,
					family, addr, ifindex);

	return nl_request(nl, len, false, NULL, NULL);
}

struct neigh_reply {
	int family;
	struct xm_nl_neigh n;
	bool seen;
};

static int neigh_cb(const struct nlmsghdr *nh, void *arg)
{
	struct neigh_reply *nr = arg;
	int err = xm_nl_parse_neigh(nh, nr->family, &nr->n);

	nr->seen = !err;
	return err;
}

int xm_nl_neigh_get(struct xm_nl *nl, int ifindex, int family,
		    const void *addr, uint8_t mac[6])
{
	struct neigh_reply nr = { .family = family };
	int len, err;

	if (family != AF_INET && family != AF_INET6)
		return -EAFNOSUPPORT;
	len = xm_nl_build_getneigh(nl->buf, sizeof(nl->buf), ++nl->seq, family,
				   addr, ifindex);
	err = nl_request(nl, len, false, neigh_cb, &nr);
	if (err && err != -ENOENT)
		return err;
	if (err == -ENOENT || !nr.seen) {
		err = xm_nl_neigh_use(nl, ifindex, family, addr);
		return err ? err : -EAGAIN;
	}
	switch (xm_nl_neigh_verdict(&nr.n)) {
	case XM_NEIGH_USABLE:
		memcpy(mac, nr.n.lladdr, 6);
		return 0;
	case XM_NEIGH_REFRESH:
		memcpy(mac, nr.n.lladdr, 6);
		/* Best effort: the MAC is usable while the kernel confirms. */
		xm_nl_neigh_use(nl, ifindex, family, addr);
		return 0;
	case XM_NEIGH_PENDING:
		return -EAGAIN;
	case XM_NEIGH_FAILED:
		err = xm_nl_neigh_use(nl, ifindex, family, addr);
		return err ? err : -EHOSTUNREACH;
	case XM_NEIGH_RESOLVE:
	default:
		err = xm_nl_neigh_use(nl, ifindex, family, addr);
		return err ? err : -EAGAIN;
	}
}
