// SPDX-License-Identifier: MIT
/* The xm_* side of what `xdpmux run` serves beyond data, between two stacks
 * over the simulated link: SO_REUSEPORT groups, recvmsg/sendmsg ancillary
 * data (PKTINFO, TOS, TTL, MSG_CTRUNC, EINVAL for the unknown), the
 * SIOCINQ / SIOCOUTQ queue sizes of UDP, IP_MTU_DISCOVER, IP_RECVERR and
 * SO_RCVBUFFORCE. */
#include <criterion/criterion.h>
#include <errno.h>
#include <linux/sockios.h>
#include <netinet/in.h>
#include <string.h>
#include <sys/ioctl.h>

#include "lib/sim_env.h"

#define PORT_A 7000

static int udp_unbound(struct xm_stack *st, int family)
{
	int fd = xm_socket_on(st, family, SOCK_DGRAM | SOCK_NONBLOCK, 0);

	cr_assert_geq(fd, 0, "xm_socket: %s", strerror(errno));
	return fd;
}

static int bind_port(int fd, int family, uint16_t port)
{
	struct sockaddr_storage ss = { .ss_family = (sa_family_t)family };

	((struct sockaddr_in *)&ss)->sin_port = htons(port);
	return xm_bind(fd, (struct sockaddr *)&ss, family == AF_INET ? sizeof(struct sockaddr_in)
								     : sizeof(struct sockaddr_in6));
}

static void set_int(int fd, int level, int name, int v)
{
	cr_assert_eq(xm_setsockopt(fd, level, name, &v, sizeof(v)), 0, "setsockopt %d/%d: %s",
		     level, name, strerror(errno));
}

Test(sock_msg, udp_reuseport_group_shares_flows_and_needs_the_option)
{
	struct sim_env e;
	struct sockaddr_storage to;
	socklen_t tl;
	int g[2], other, got[2] = { 0, 0 }, v;
	socklen_t vl = sizeof(v);
	char b;

	env_open(&e, 1, NULL);
	for (int i = 0; i < 2; i++) {
		g[i] = udp_unbound(e.a, AF_INET);
		set_int(g[i], SOL_SOCKET, SO_REUSEPORT, 1);
		cr_assert_eq(bind_port(g[i], AF_INET, PORT_A), 0, "group bind %d: %s", i,
			     strerror(errno));
	}
	cr_assert_eq(xm_getsockopt(g[0], SOL_SOCKET, SO_REUSEPORT, &v, &vl), 0);
	cr_assert_eq(v, 1);
	other = udp_unbound(e.a, AF_INET);
	cr_assert_eq(bind_port(other, AF_INET, PORT_A), -1);
	cr_assert_eq(errno, EADDRINUSE);
	tl = env_addr(AF_INET, 'a', PORT_A, &to);
	for (int i = 0; i < 64; i++) {
		int fb = env_udp(e.b, AF_INET, 0);

		cr_assert_eq(xm_sendto(fb, "x", 1, 0, (void *)&to, tl), 1);
		env_settle(&e);
		xm_close(fb);
	}
	for (int i = 0; i < 2; i++)
		while (xm_recv(g[i], &b, 1, MSG_DONTWAIT) == 1)
			got[i]++;
	cr_assert_eq(got[0] + got[1], 64, "%d + %d datagrams", got[0], got[1]);
	cr_assert(got[0] && got[1], "one socket of the group got all: %d %d", got[0], got[1]);
	/* one flow always meets the same socket */
	{
		int fb = env_udp(e.b, AF_INET, 0), first = -1;

		for (int k = 0; k < 8; k++) {
			cr_assert_eq(xm_sendto(fb, "y", 1, 0, (void *)&to, tl), 1);
			env_settle(&e);
			for (int i = 0; i < 2; i++)
				if (xm_recv(g[i], &b, 1, MSG_DONTWAIT) == 1) {
					cr_assert(first < 0 || first == i, "flow moved");
					first = i;
				}
		}
		xm_close(fb);
	}
	xm_close(g[0]);
	xm_close(g[1]);
	xm_close(other);
	env_close(&e);
}

struct got {
	ssize_t len;
	int flags, ncmsg, tos, ttl;
	uint8_t dst[16];
	bool pktinfo;
};

static struct got recv_ctl(int fd, size_t ctl_len)
{
	union { struct cmsghdr h; char b[256]; } ctl;
	char data[64];
	struct iovec iov = { data, sizeof(data) };
	struct msghdr m = { .msg_iov = &iov, .msg_iovlen = 1, .msg_control = &ctl,
			    .msg_controllen = ctl_len };
	struct got g = { .tos = -1, .ttl = -1 };

	g.len = xm_recvmsg(fd, &m, MSG_DONTWAIT);
	cr_assert_geq(g.len, 0, "xm_recvmsg: %s", strerror(errno));
	g.flags = m.msg_flags;
	for (struct cmsghdr *h = CMSG_FIRSTHDR(&m); h; h = CMSG_NXTHDR(&m, h)) {
		g.ncmsg++;
		if (h->cmsg_level == IPPROTO_IP && h->cmsg_type == IP_PKTINFO) {
			struct in_pktinfo pi;

			memcpy(&pi, CMSG_DATA(h), sizeof(pi));
			memcpy(g.dst, &pi.ipi_addr, 4);
			g.pktinfo = true;
		} else if (h->cmsg_level == IPPROTO_IP && h->cmsg_type == IP_TOS) {
			g.tos = *CMSG_DATA(h);
		} else if (h->cmsg_level == IPPROTO_IP && h->cmsg_type == IP_TTL) {
			memcpy(&g.ttl, CMSG_DATA(h), sizeof(int));
		}
	}
	return g;
}

Test(sock_msg, udp_pktinfo_tos_ttl_in_and_out)
{
	struct sim_env e;
	struct sockaddr_storage to, back;
	socklen_t tl, bl;
	int fa, fb, q = -1;
	struct got g;

	env_open(&e, 2, NULL);
	fa = env_udp(e.a, AF_INET, PORT_A);
	set_int(fa, IPPROTO_IP, IP_PKTINFO, 1);
	set_int(fa, IPPROTO_IP, IP_RECVTOS, 1);
	set_int(fa, IPPROTO_IP, IP_RECVTTL, 1);
	fb = env_udp(e.b, AF_INET, 5000);
	set_int(fb, IPPROTO_IP, IP_TOS, 0x28);
	set_int(fb, IPPROTO_IP, IP_TTL, 17);
	set_int(fb, IPPROTO_IP, IP_RECVTOS, 1);
	tl = env_addr(AF_INET, 'a', PORT_A, &to);
	cr_assert_eq(xm_sendto(fb, "hello", 5, 0, (void *)&to, tl), 5);
	env_settle(&e);
	cr_assert_eq(xm_ioctl(fa, SIOCINQ, &q), 0);
	cr_assert_eq(q, 5, "SIOCINQ %d", q);
	g = recv_ctl(fa, 256);
	cr_assert_eq(g.len, 5);
	cr_assert(g.pktinfo);
	cr_assert_arr_eq(g.dst, env_ip4_a, 4);
	cr_assert_eq(g.tos, 0x28);
	cr_assert_eq(g.ttl, 17);
	cr_assert_eq(g.flags & MSG_CTRUNC, 0);
	/* the answer with its own TOS, from the address PKTINFO named */
	{
		union { struct cmsghdr h; char b[CMSG_SPACE(sizeof(struct in_pktinfo)) +
					       CMSG_SPACE(sizeof(int))]; } ctl;
		struct in_pktinfo pi = { 0 };
		struct iovec iov = { "world", 5 };
		struct msghdr m = { .msg_iov = &iov, .msg_iovlen = 1, .msg_control = &ctl,
				    .msg_controllen = sizeof(ctl) };
		struct cmsghdr *h;
		int tos = 0x48;

		bl = env_addr(AF_INET, 'b', 5000, &back);
		m.msg_name = &back;
		m.msg_namelen = bl;
		memset(&ctl, 0, sizeof(ctl));
		memcpy(&pi.ipi_spec_dst, env_ip4_a, 4);
		h = CMSG_FIRSTHDR(&m);
		h->cmsg_level = IPPROTO_IP;
		h->cmsg_type = IP_PKTINFO;
		h->cmsg_len = CMSG_LEN(sizeof(pi));
		memcpy(CMSG_DATA(h), &pi, sizeof(pi));
		h = CMSG_NXTHDR(&m, h);
		h->cmsg_level = IPPROTO_IP;
		h->cmsg_type = IP_TOS;
		h->cmsg_len = CMSG_LEN(sizeof(int));
		memcpy(CMSG_DATA(h), &tos, sizeof(tos));
		cr_assert_eq(xm_sendmsg(fa, &m, 0), 5, "xm_sendmsg: %s", strerror(errno));
		cr_assert_eq(xm_ioctl(fa, SIOCOUTQ, &q), 0);
		env_settle(&e);
		g = recv_ctl(fb, 256);
		cr_assert_eq(g.len, 5);
		cr_assert_eq(g.tos, 0x48);
		/* sent and given back by the link: nothing left queued */
		cr_assert_eq(xm_ioctl(fa, SIOCOUTQ, &q), 0);
		cr_assert_eq(q, 0, "SIOCOUTQ %d after the completion", q);
		/* a source not ours, and an unknown message: EINVAL as Linux */
		memcpy(&pi.ipi_spec_dst, env_ip4_b, 4);
		h = CMSG_FIRSTHDR(&m);
		memcpy(CMSG_DATA(h), &pi, sizeof(pi));
		cr_assert_eq(xm_sendmsg(fa, &m, 0), -1);
		cr_assert_eq(errno, EINVAL);
		h->cmsg_type = IP_RECVERR;
		cr_assert_eq(xm_sendmsg(fa, &m, 0), -1);
		cr_assert_eq(errno, EINVAL);
	}
	/* a control buffer with room for one int: cut, MSG_CTRUNC */
	cr_assert_eq(xm_sendto(fb, "again", 5, 0, (void *)&to, tl), 5);
	env_settle(&e);
	g = recv_ctl(fa, CMSG_SPACE(sizeof(int)));
	cr_assert(g.flags & MSG_CTRUNC);
	cr_assert_leq(g.ncmsg, 1);
	xm_close(fa);
	xm_close(fb);
	env_close(&e);
}

Test(sock_msg, udp_pmtudisc_do_refuses_what_would_fragment_errqueue_empty_bufforce)
{
	static uint8_t big[3000];
	struct sim_env e;
	struct sockaddr_storage to;
	struct iovec iov = { big, sizeof(big) };
	struct msghdr m = { .msg_iov = &iov, .msg_iovlen = 1 };
	socklen_t tl, vl = sizeof(int);
	int fa, fb, v;

	env_open(&e, 3, NULL);
	fa = env_udp(e.a, AF_INET, PORT_A);
	fb = env_udp(e.b, AF_INET, 5000);
	tl = env_addr(AF_INET, 'b', 5000, &to);
	cr_assert_eq(xm_getsockopt(fa, IPPROTO_IP, IP_MTU_DISCOVER, &v, &vl), 0);
	cr_assert_eq(v, IP_PMTUDISC_WANT);
	/* WANT: fragmented and delivered */
	cr_assert_eq(xm_sendto(fa, big, sizeof(big), 0, (void *)&to, tl), (ssize_t)sizeof(big));
	env_settle(&e);
	cr_assert_eq(xm_recv(fb, big, sizeof(big), MSG_DONTWAIT), (ssize_t)sizeof(big));
	set_int(fa, IPPROTO_IP, IP_MTU_DISCOVER, IP_PMTUDISC_DO);
	cr_assert_eq(xm_sendto(fa, big, sizeof(big), 0, (void *)&to, tl), -1);
	cr_assert_eq(errno, EMSGSIZE);
	cr_assert_eq(xm_sendto(fa, big, 1000, 0, (void *)&to, tl), 1000);
	v = 6;
	cr_assert_eq(xm_setsockopt(fa, IPPROTO_IP, IP_MTU_DISCOVER, &v, sizeof(v)), -1);
	cr_assert_eq(errno, EINVAL);
	/* SO_RCVBUFFORCE is SO_RCVBUF (doubled, as Linux) */
	set_int(fa, SOL_SOCKET, SO_RCVBUFFORCE, 100000);
	cr_assert_eq(xm_getsockopt(fa, SOL_SOCKET, SO_RCVBUF, &v, &vl), 0);
	cr_assert_eq(v, 200000);
	/* IP_RECVERR: kept; the error queue is empty and never waits */
	set_int(fa, IPPROTO_IP, IP_RECVERR, 1);
	cr_assert_eq(xm_recvmsg(fa, &m, MSG_ERRQUEUE), -1);
	cr_assert_eq(errno, EAGAIN);
	xm_close(fa);
	xm_close(fb);
	env_close(&e);
}
