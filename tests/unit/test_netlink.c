// SPDX-License-Identifier: MIT
/*
 * rtnetlink of the AF_XDP link: the parsers against crafted kernel replies,
 * then the live queries against a private network namespace (each Criterion
 * test runs in its own process, so unshare(CLONE_NEWNET) touches nothing
 * else): link, addresses, route (on-link, via a gateway, local, none) and
 * neighbour resolution asked of the kernel without any static entry.
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <net/if.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <criterion/criterion.h>
#include <linux/if_link.h>
#include <linux/neighbour.h>
#include <linux/rtnetlink.h>

#include "../../user/lib/link/netlink.h"

/* ---- crafted messages ---- */

struct msg {
	uint8_t b[512];
	struct nlmsghdr *nh;
};

static void *msg_init(struct msg *m, uint16_t type, size_t body)
{
	memset(m, 0, sizeof(*m));
	m->nh = (struct nlmsghdr *)m->b;
	m->nh->nlmsg_type = type;
	m->nh->nlmsg_len = NLMSG_LENGTH(body);
	return NLMSG_DATA(m->nh);
}

static void msg_attr(struct msg *m, uint16_t type, const void *d, size_t len)
{
	struct rtattr *rta = (struct rtattr *)(m->b + NLMSG_ALIGN(m->nh->nlmsg_len));

	rta->rta_type = type;
	rta->rta_len = RTA_LENGTH(len);
	memcpy(RTA_DATA(rta), d, len);
	m->nh->nlmsg_len = NLMSG_ALIGN(m->nh->nlmsg_len) + RTA_SPACE(len);
}

Test(netlink_msg, link_reply_gives_mac_mtu_name_queues)
{
	static const uint8_t mac[6] = { 2, 0, 0, 0, 0, 7 };
	uint32_t mtu = 1500, nq = 4;
	struct xm_nl_link l;
	struct ifinfomsg *ifi;
	struct msg m;

	ifi = msg_init(&m, RTM_NEWLINK, sizeof(*ifi));
	ifi->ifi_index = 9;
	msg_attr(&m, IFLA_IFNAME, "xmu0a", 6);
	msg_attr(&m, IFLA_ADDRESS, mac, 6);
	msg_attr(&m, IFLA_MTU, &mtu, 4);
	msg_attr(&m, IFLA_NUM_RX_QUEUES, &nq, 4);
	cr_assert_eq(xm_nl_parse_link(m.nh, &l), 0);
	cr_assert_eq(l.ifindex, 9);
	cr_assert_str_eq(l.name, "xmu0a");
	cr_assert(l.has_mac);
	cr_assert_arr_eq(l.mac, mac, 6);
	cr_assert_eq(l.mtu, 1500);
	cr_assert_eq(l.num_rx_queues, 4);
	cr_assert_str_eq(l.kind, "", "no IFLA_LINKINFO: no kind");
}

/* IFLA_LINKINFO { IFLA_INFO_KIND "veth" }: the nested attribute is read. */
Test(netlink_msg, link_reply_gives_kind_from_linkinfo)
{
	uint32_t mtu = 1500;
	struct xm_nl_link l;
	struct rtattr *info;
	struct msg m;

	msg_init(&m, RTM_NEWLINK, sizeof(struct ifinfomsg));
	msg_attr(&m, IFLA_MTU, &mtu, 4);
	info = (struct rtattr *)(m.b + NLMSG_ALIGN(m.nh->nlmsg_len));
	msg_attr(&m, IFLA_LINKINFO, "", 0);
	msg_attr(&m, IFLA_INFO_KIND, "veth", 5);
	info->rta_len = (unsigned short)((m.b + m.nh->nlmsg_len) - (uint8_t *)info);
	cr_assert_eq(xm_nl_parse_link(m.nh, &l), 0);
	cr_assert_str_eq(l.kind, "veth");
}

Test(netlink_msg, link_reply_with_short_mtu_is_malformed)
{
	uint16_t mtu = 1500;
	struct xm_nl_link l;
	struct msg m;

	msg_init(&m, RTM_NEWLINK, sizeof(struct ifinfomsg));
	msg_attr(&m, IFLA_MTU, &mtu, 2);
	cr_assert_eq(xm_nl_parse_link(m.nh, &l), -EINVAL);
}

Test(netlink_msg, link_reply_gives_the_driver_kind)
{
	uint8_t nest[RTA_SPACE(RTA_SPACE(5) + RTA_SPACE(8))] = { 0 };
	struct rtattr *kind = (struct rtattr *)nest, *data;
	uint32_t mtu = 1500;
	struct xm_nl_link l;
	struct ifinfomsg *ifi;
	struct msg m;

	/* IFLA_LINKINFO { IFLA_INFO_KIND "veth", IFLA_INFO_DATA {...} } */
	kind->rta_type = IFLA_INFO_KIND;
	kind->rta_len = RTA_LENGTH(5);
	memcpy(RTA_DATA(kind), "veth", 5);
	data = (struct rtattr *)(nest + RTA_SPACE(5));
	data->rta_type = IFLA_INFO_DATA;
	data->rta_len = RTA_LENGTH(8);
	ifi = msg_init(&m, RTM_NEWLINK, sizeof(*ifi));
	ifi->ifi_index = 3;
	msg_attr(&m, IFLA_MTU, &mtu, 4);
	msg_attr(&m, IFLA_LINKINFO, nest, RTA_SPACE(5) + RTA_SPACE(8));
	cr_assert_eq(xm_nl_parse_link(m.nh, &l), 0);
	cr_assert_str_eq(l.kind, "veth");

	/* A physical device: no IFLA_LINKINFO, no kind. */
	ifi = msg_init(&m, RTM_NEWLINK, sizeof(*ifi));
	msg_attr(&m, IFLA_MTU, &mtu, 4);
	cr_assert_eq(xm_nl_parse_link(m.nh, &l), 0);
	cr_assert_str_eq(l.kind, "");
}

Test(netlink_msg, link_reply_without_mtu_is_malformed)
{
	struct ifinfomsg *ifi;
	struct xm_nl_link l;
	struct msg m;

	ifi = msg_init(&m, RTM_NEWLINK, sizeof(*ifi));
	ifi->ifi_index = 1;
	cr_assert_eq(xm_nl_parse_link(m.nh, &l), -EINVAL);
}

Test(netlink_msg, wrong_message_type_is_not_parsed)
{
	struct xm_nl_route r;
	struct msg m;

	msg_init(&m, RTM_NEWLINK, sizeof(struct rtmsg));
	cr_assert_eq(xm_nl_parse_route(m.nh, AF_INET, &r), -ENOMSG);
}

Test(netlink_msg, truncated_body_is_malformed)
{
	struct xm_nl_neigh n;
	struct msg m;

	msg_init(&m, RTM_NEWNEIGH, 2);
	cr_assert_eq(xm_nl_parse_neigh(m.nh, AF_INET, &n), -EINVAL);
}

Test(netlink_msg, ipv4_addr_prefers_local_over_peer_address)
{
	uint8_t local[4] = { 198, 18, 0, 1 }, peer[4] = { 198, 18, 0, 9 };
	struct ifaddrmsg *ifa;
	struct xm_nl_addr a;
	struct msg m;

	ifa = msg_init(&m, RTM_NEWADDR, sizeof(*ifa));
	ifa->ifa_family = AF_INET;
	ifa->ifa_prefixlen = 24;
	ifa->ifa_index = 3;
	msg_attr(&m, IFA_ADDRESS, peer, 4);
	msg_attr(&m, IFA_LOCAL, local, 4);
	cr_assert_eq(xm_nl_parse_addr(m.nh, &a), 0);
	cr_assert_eq(a.family, AF_INET);
	cr_assert_eq(a.prefixlen, 24);
	cr_assert_eq(a.ifindex, 3);
	cr_assert_arr_eq(a.addr, local, 4);
}

Test(netlink_msg, ipv6_addr_uses_ifa_address)
{
	struct in6_addr v6;
	struct ifaddrmsg *ifa;
	struct xm_nl_addr a;
	struct msg m;

	inet_pton(AF_INET6, "2001:db8:1::1", &v6);
	ifa = msg_init(&m, RTM_NEWADDR, sizeof(*ifa));
	ifa->ifa_family = AF_INET6;
	ifa->ifa_prefixlen = 64;
	msg_attr(&m, IFA_ADDRESS, &v6, 16);
	cr_assert_eq(xm_nl_parse_addr(m.nh, &a), 0);
	cr_assert_arr_eq(a.addr, &v6, 16);
}

Test(netlink_msg, route_with_gateway_and_prefsrc)
{
	uint8_t gw[4] = { 198, 18, 0, 254 }, src[4] = { 198, 18, 0, 1 };
	uint32_t oif = 5;
	struct xm_nl_route r;
	struct rtmsg *rtm;
	struct msg m;

	rtm = msg_init(&m, RTM_NEWROUTE, sizeof(*rtm));
	rtm->rtm_family = AF_INET;
	rtm->rtm_type = RTN_UNICAST;
	msg_attr(&m, RTA_OIF, &oif, 4);
	msg_attr(&m, RTA_GATEWAY, gw, 4);
	msg_attr(&m, RTA_PREFSRC, src, 4);
	cr_assert_eq(xm_nl_parse_route(m.nh, AF_INET, &r), 0);
	cr_assert_eq(r.type, RTN_UNICAST);
	cr_assert_eq(r.oif, 5);
	cr_assert(r.has_gateway);
	cr_assert_arr_eq(r.gateway, gw, 4);
	cr_assert(r.has_prefsrc);
	cr_assert_arr_eq(r.prefsrc, src, 4);
}

Test(netlink_msg, route_gateway_of_wrong_length_is_malformed)
{
	uint8_t gw[16] = { 0 };
	struct xm_nl_route r;
	struct rtmsg *rtm;
	struct msg m;

	rtm = msg_init(&m, RTM_NEWROUTE, sizeof(*rtm));
	rtm->rtm_family = AF_INET;
	msg_attr(&m, RTA_GATEWAY, gw, 16);
	cr_assert_eq(xm_nl_parse_route(m.nh, AF_INET, &r), -EINVAL);
}

static struct xm_nl_neigh neigh_of(uint16_t state, bool lladdr)
{
	struct xm_nl_neigh n = { .state = state, .has_lladdr = lladdr };

	return n;
}

Test(netlink_msg, neigh_verdict_by_state)
{
	struct xm_nl_neigh n;

	n = neigh_of(NUD_REACHABLE, true);
	cr_assert_eq(xm_nl_neigh_verdict(&n), XM_NEIGH_USABLE);
	n = neigh_of(NUD_PERMANENT, true);
	cr_assert_eq(xm_nl_neigh_verdict(&n), XM_NEIGH_USABLE);
	n = neigh_of(NUD_DELAY, true);
	cr_assert_eq(xm_nl_neigh_verdict(&n), XM_NEIGH_USABLE);
	n = neigh_of(NUD_PROBE, true);
	cr_assert_eq(xm_nl_neigh_verdict(&n), XM_NEIGH_USABLE);
	n = neigh_of(NUD_STALE, true);
	cr_assert_eq(xm_nl_neigh_verdict(&n), XM_NEIGH_REFRESH);
	n = neigh_of(NUD_INCOMPLETE, false);
	cr_assert_eq(xm_nl_neigh_verdict(&n), XM_NEIGH_PENDING);
	n = neigh_of(NUD_FAILED, false);
	cr_assert_eq(xm_nl_neigh_verdict(&n), XM_NEIGH_FAILED);
	n = neigh_of(NUD_NONE, false);
	cr_assert_eq(xm_nl_neigh_verdict(&n), XM_NEIGH_RESOLVE);
	/* A reachable state without a MAC cannot be used. */
	n = neigh_of(NUD_REACHABLE, false);
	cr_assert_eq(xm_nl_neigh_verdict(&n), XM_NEIGH_RESOLVE);
}

Test(netlink_msg, neigh_reply_gives_state_and_mac)
{
	static const uint8_t mac[6] = { 2, 0, 0, 0, 0, 9 };
	uint8_t dst[4] = { 198, 18, 0, 2 };
	struct xm_nl_neigh n;
	struct ndmsg *ndm;
	struct msg m;

	ndm = msg_init(&m, RTM_NEWNEIGH, sizeof(*ndm));
	ndm->ndm_family = AF_INET;
	ndm->ndm_ifindex = 4;
	ndm->ndm_state = NUD_STALE;
	msg_attr(&m, NDA_DST, dst, 4);
	msg_attr(&m, NDA_LLADDR, mac, 6);
	cr_assert_eq(xm_nl_parse_neigh(m.nh, AF_INET, &n), 0);
	cr_assert_eq(n.state, NUD_STALE);
	cr_assert_eq(n.ifindex, 4);
	cr_assert(n.has_lladdr);
	cr_assert_arr_eq(n.lladdr, mac, 6);
}

Test(netlink_msg, neigh_use_request_creates_and_uses)
{
	uint8_t buf[128], dst[4] = { 198, 18, 0, 2 };
	struct nlmsghdr *nh = (struct nlmsghdr *)buf;
	struct ndmsg *ndm = NLMSG_DATA(nh);
	struct rtattr *rta;
	int len;

	len = xm_nl_build_neigh_use(buf, sizeof(buf), 7, AF_INET, dst, 3);
	cr_assert_gt(len, 0);
	cr_assert_eq(nh->nlmsg_type, RTM_NEWNEIGH);
	cr_assert(nh->nlmsg_flags & NLM_F_CREATE);
	cr_assert_eq(nh->nlmsg_seq, 7);
	cr_assert_eq(ndm->ndm_flags, NTF_USE);
	cr_assert_eq(ndm->ndm_ifindex, 3);
	/* No NDA_LLADDR: we never write a link-layer address ourselves. */
	rta = (struct rtattr *)((char *)ndm + NLMSG_ALIGN(sizeof(*ndm)));
	cr_assert_eq(rta->rta_type, NDA_DST);
	cr_assert_eq(NLMSG_ALIGN(nh->nlmsg_len),
		     NLMSG_ALIGN(NLMSG_LENGTH(sizeof(*ndm))) + RTA_SPACE(4));
}

Test(netlink_msg, builders_refuse_small_buffers_and_bad_families)
{
	uint8_t buf[16], dst[16] = { 0 };

	cr_assert_eq(xm_nl_build_getroute(buf, sizeof(buf), 1, AF_INET, dst, 0),
		     -ENOSPC);
	cr_assert_eq(xm_nl_build_getneigh(buf, sizeof(buf), 1, 99, dst, 1),
		     -EAFNOSUPPORT);
}

/* ---- live queries in a private namespace ---- */

static void run(const char *cmd)
{
	cr_assert_eq(system(cmd), 0, "command failed: %s", cmd);
}

static char peer_ns[32];

static void runf(const char *fmt, const char *arg)
{
	char cmd[256];

	snprintf(cmd, sizeof(cmd), fmt, arg);
	run(cmd);
}

static void live_teardown(void)
{
	char cmd[64];

	if (!peer_ns[0])
		return;
	snprintf(cmd, sizeof(cmd), "ip netns del %s 2>/dev/null", peer_ns);
	if (system(cmd) != 0)
		fprintf(stderr, "cannot delete namespace %s\n", peer_ns);
}

/* A veth pair: xmu5a in a fresh unnamed namespace (this test process's)
 * with 198.18.5.1, xmu5b in the peer namespace xm-u-nl<pid> with
 * 198.18.5.2 (so a real kernel answers ARP for it), and a route to
 * 198.19.0.0/16 via the silent gateway 198.18.5.3. */
static void live_setup(void)
{
	if (geteuid() != 0)
		cr_skip_test("needs root (network namespace)");
	snprintf(peer_ns, sizeof(peer_ns), "xm-u-nl%d", (int)getpid());
	runf("ip netns add %s", peer_ns);
	cr_assert_eq(unshare(CLONE_NEWNET), 0, "unshare: %s", strerror(errno));
	run("ip link set lo up");
	run("ip link add xmu5a type veth peer name xmu5b");
	runf("ip link set xmu5b netns %s", peer_ns);
	runf("ip -n %s addr add 198.18.5.2/24 dev xmu5b", peer_ns);
	runf("ip -n %s link set xmu5b up", peer_ns);
	run("ip addr add 198.18.5.1/24 dev xmu5a");
	run("ip addr add 2001:db8:5::1/64 dev xmu5a nodad");
	run("ip link set xmu5a mtu 1400 up");
	run("ip route add 198.19.0.0/16 via 198.18.5.3 dev xmu5a");
}

static struct xm_nl *nl_open(void)
{
	struct xm_nl *nl = NULL;

	cr_assert_eq(xm_nl_open(&nl), 0);
	return nl;
}

Test(netlink_live, link_and_addresses_of_a_veth, .fini = live_teardown)
{
	struct xm_nl_addr addrs[8];
	struct xm_nl_link l;
	struct xm_nl *nl;
	int ifindex, n, i, v4 = 0, v6 = 0;

	live_setup();
	nl = nl_open();
	ifindex = (int)if_nametoindex("xmu5a");
	cr_assert_eq(xm_nl_get_link(nl, ifindex, &l), 0);
	cr_assert_eq(l.mtu, 1400);
	cr_assert_str_eq(l.name, "xmu5a");
	cr_assert_str_eq(l.kind, "veth");
	cr_assert(l.has_mac);
	n = xm_nl_get_addrs(nl, ifindex, AF_UNSPEC, addrs, 8);
	cr_assert_geq(n, 2);
	for (i = 0; i < n && i < 8; i++) {
		cr_assert_eq(addrs[i].ifindex, ifindex);
		if (addrs[i].family == AF_INET) {
			uint8_t want[4] = { 198, 18, 5, 1 };

			cr_assert_arr_eq(addrs[i].addr, want, 4);
			cr_assert_eq(addrs[i].prefixlen, 24);
			v4++;
		} else {
			v6++;
		}
	}
	cr_assert_eq(v4, 1);
	cr_assert_geq(v6, 1); /* 2001:db8:5::1 and the link-local */
	cr_assert_eq(xm_nl_get_link(nl, 9999, &l), -ENODEV);
	xm_nl_close(nl);
}

Test(netlink_live, route_on_link_via_gateway_local_and_none, .fini = live_teardown)
{
	uint8_t dst[4] = { 198, 18, 5, 77 }, far[4] = { 198, 19, 1, 1 };
	uint8_t local[4] = { 198, 18, 5, 1 }, nowhere[4] = { 203, 0, 113, 1 };
	uint8_t want_src[4] = { 198, 18, 5, 1 }, gw[4] = { 198, 18, 5, 3 };
	uint8_t nh[4], src[4];
	struct xm_nl *nl;
	int ifindex;

	live_setup();
	nl = nl_open();
	ifindex = (int)if_nametoindex("xmu5a");
	cr_assert_eq(xm_nl_route_get(nl, ifindex, AF_INET, dst, nh, src), 0);
	cr_assert_arr_eq(nh, dst, 4, "on-link: the next hop is the destination");
	cr_assert_arr_eq(src, want_src, 4);
	cr_assert_eq(xm_nl_route_get(nl, ifindex, AF_INET, far, nh, src), 0);
	cr_assert_arr_eq(nh, gw, 4, "via a gateway: the next hop is the gateway");
	cr_assert_eq(xm_nl_route_get(nl, ifindex, AF_INET, local, nh, src),
		     -ENETUNREACH, "a local address is not reachable on the wire");
	cr_assert_eq(xm_nl_route_get(nl, ifindex, AF_INET, nowhere, nh, src),
		     -ENETUNREACH, "no default route");
	xm_nl_close(nl);
}

Test(netlink_live, neighbour_is_resolved_by_the_kernel_on_request, .fini = live_teardown)
{
	uint8_t peer[4] = { 198, 18, 5, 2 }, mac[6], want[6];
	struct xm_nl *nl;
	char cmd[128];
	FILE *p;
	int ifindex, err = -EAGAIN, i;

	live_setup();
	nl = nl_open();
	ifindex = (int)if_nametoindex("xmu5a");
	snprintf(cmd, sizeof(cmd), "ip -n %s link show xmu5b | awk '/ether/{print $2}'",
		 peer_ns);
	p = popen(cmd, "r");
	cr_assert(p);
	cr_assert_eq(fscanf(p, "%hhx:%hhx:%hhx:%hhx:%hhx:%hhx", &want[0], &want[1],
			    &want[2], &want[3], &want[4], &want[5]), 6);
	pclose(p);
	/* No entry exists: the first ask must start resolution, not fail. */
	cr_assert_eq(xm_nl_neigh_get(nl, ifindex, AF_INET, peer, mac), -EAGAIN);
	for (i = 0; i < 200 && err == -EAGAIN; i++) {
		usleep(10000);
		err = xm_nl_neigh_get(nl, ifindex, AF_INET, peer, mac);
	}
	cr_assert_eq(err, 0, "neighbour never resolved: %s", strerror(-err));
	cr_assert_arr_eq(mac, want, 6, "the MAC of xmu5b, learnt by ARP");
	xm_nl_close(nl);
}

Test(netlink_live, silent_neighbour_stays_pending_then_fails, .fini = live_teardown)
{
	uint8_t silent[4] = { 198, 18, 5, 3 }, mac[6];
	struct xm_nl *nl;
	int ifindex, err = -EAGAIN, i;

	live_setup();
	/* Probe fast so the kernel gives up within a fraction of a second. */
	run("sysctl -qw net.ipv4.neigh.xmu5a.retrans_time_ms=50");
	run("sysctl -qw net.ipv4.neigh.xmu5a.mcast_solicit=2");
	nl = nl_open();
	ifindex = (int)if_nametoindex("xmu5a");
	cr_assert_eq(xm_nl_neigh_get(nl, ifindex, AF_INET, silent, mac), -EAGAIN);
	/* The kernel now holds an entry it is probing. */
	cr_assert_eq(system("ip neigh show 198.18.5.3 dev xmu5a | "
			    "grep -Eq 'INCOMPLETE|FAILED'"), 0);
	for (i = 0; i < 300 && err == -EAGAIN; i++) {
		usleep(10000);
		err = xm_nl_neigh_get(nl, ifindex, AF_INET, silent, mac);
	}
	cr_assert_eq(err, -EHOSTUNREACH,
		     "a neighbour that never answers must end unreachable, got %s",
		     strerror(-err));
	xm_nl_close(nl);
}
