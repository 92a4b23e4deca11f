// SPDX-License-Identifier: MIT
/*
 * For test_run_preload.sh: socket calls and options beyond plain data,
 * checked the same under `xdpmux run` and on the kernel (the oracle: each
 * server mode must pass on both). Each server has a peer mode, run on the
 * kernel in the other namespace.
 *
 *   sock_features tcp-server PORT        / tcp-peer ADDR PORT
 *     FIONREAD/SIOCINQ once the peer's bytes are in; TCP_INFO (state,
 *     options, MSS, RTT, RTO, cwnd, segment and byte counts; a short
 *     optlen gets the struct's head); SIOCOUTQ and SIOCOUTQNSD while the
 *     peer does not read, down to 0 once it read all, then bytes_acked;
 *     MSG_PEEK, MSG_TRUNC (discarding) and MSG_WAITALL; TCP_QUICKACK,
 *     TCP_DEFER_ACCEPT, SO_PRIORITY, IP_TOS, IP_TTL read back.
 *   sock_features reuse-server PORT      / reuse-peer ADDR PORT
 *     SO_REUSEPORT: two TCP listeners and two UDP sockets on PORT (a third
 *     without the option: EADDRINUSE); the peer's 64 connections and 64
 *     datagrams from distinct ports reach both of each pair.
 *   sock_features udp-server PORT        / udp-peer ADDR4 ADDR6 PORT
 *     A wildcard UDP server, IPv4 and dual-stack IPv6, with IP_PKTINFO,
 *     IP_RECVTOS, IP_RECVTTL, SO_TIMESTAMPNS / IPV6_RECVPKTINFO,
 *     IPV6_RECVTCLASS: the peer's datagram (TOS 0x28 / class 0x20) comes
 *     with its destination, TOS, TTL 64 and a receive time; the answer
 *     leaves from that address (IP_PKTINFO / IPV6_PKTINFO) with the TOS
 *     asked in its own control message, which the peer checks; a short
 *     control buffer sets MSG_CTRUNC; FIONREAD is the next datagram's
 *     length; with IP(V6)_MTU_DISCOVER DO a datagram that would fragment
 *     fails with EMSGSIZE; with IP(V6)_RECVERR MSG_ERRQUEUE gives EAGAIN;
 *     an unknown control message fails with EINVAL.
 *   sock_features sendfile-server PORT   / sendfile-peer ADDR PORT
 *     sendfile from a file: with an offset (it advances, the file
 *     position stays) and without (the position advances), a count past
 *     the end (to the end), at the end (0), 0 bytes, after a rewrite (the
 *     new bytes), corked after a header (as nginx), after a truncation
 *     (shorter, 0 past the new end); a write-only file gives EBADF, a
 *     negative offset EINVAL. The peer sends back what it reads, which
 *     must be the file's bytes at each call.
 * Prints "listening" when the peer may start, then what it checked; exit 0 when all held, 1 with "FAIL: why".
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/sockios.h>
#include <netinet/in.h>
#include <linux/tcp.h>   /* the whole struct tcp_info */
#include <poll.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/sendfile.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#define TCP_BYTES 30000   /* within the first receive window of both */
#define REUSE_N 64

static void fail(const char *fmt, ...)
{
	va_list ap;

	printf("FAIL: ");
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	printf(" (errno: %s)\n", strerror(errno));
	exit(1);
}

#define CHECK(cond, ...) do { if (!(cond)) fail(__VA_ARGS__); } while (0)

static int opt_int(int fd, int level, int name)
{
	int v = -1;
	socklen_t l = sizeof(v);

	CHECK(getsockopt(fd, level, name, &v, &l) == 0, "getsockopt %d/%d", level, name);
	return v;
}

static void set_int(int fd, int level, int name, int v)
{
	CHECK(setsockopt(fd, level, name, &v, sizeof(v)) == 0, "setsockopt %d/%d = %d",
	      level, name, v);
}

static int ioctl_int(int fd, unsigned long req)
{
	int v = -1;

	CHECK(ioctl(fd, req, &v) == 0, "ioctl 0x%lx", req);
	return v;
}

/* Until ioctl req on fd gives want (up to 30 s: progress, not timing). */
static void await_ioctl(int fd, unsigned long req, int want, const char *what)
{
	for (int i = 0; i < 3000; i++) {
		struct pollfd p = { .fd = fd, .events = POLLIN };

		if (ioctl_int(fd, req) == want)
			return;
		poll(&p, 1, 10);
	}
	fail("%s: ioctl 0x%lx is %d, never %d", what, req, ioctl_int(fd, req), want);
}

/* A wildcard socket on port (TCP: listening, with SO_REUSEADDR as
 * servers set it); -1 with *err when bind failed. */
static int listener(int family, int type, int port, bool reuseport, int *err)
{
	struct sockaddr_in6 a6 = { .sin6_family = AF_INET6, .sin6_port = htons((uint16_t)port) };
	struct sockaddr_in a4 = { .sin_family = AF_INET, .sin_port = htons((uint16_t)port) };
	int fd = socket(family, type, 0), one = 1, r;

	CHECK(fd >= 0, "socket");
	if (type == SOCK_STREAM)
		setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	if (reuseport)
		set_int(fd, SOL_SOCKET, SO_REUSEPORT, 1);
	r = family == AF_INET ? bind(fd, (struct sockaddr *)&a4, sizeof(a4))
			      : bind(fd, (struct sockaddr *)&a6, sizeof(a6));
	if (r < 0) {
		*err = errno;
		close(fd);
		return -1;
	}
	if (type == SOCK_STREAM)
		CHECK(listen(fd, 128) == 0, "listen");
	return fd;
}

static int connect_to(const char *addr, int port, int type)
{
	struct sockaddr_storage ss = { 0 };
	struct sockaddr_in *a4 = (void *)&ss;
	struct sockaddr_in6 *a6 = (void *)&ss;
	socklen_t len;
	int fd;

	if (inet_pton(AF_INET, addr, &a4->sin_addr) == 1) {
		a4->sin_family = AF_INET;
		a4->sin_port = htons((uint16_t)port);
		len = sizeof(*a4);
	} else {
		CHECK(inet_pton(AF_INET6, addr, &a6->sin6_addr) == 1, "address %s", addr);
		a6->sin6_family = AF_INET6;
		a6->sin6_port = htons((uint16_t)port);
		len = sizeof(*a6);
	}
	fd = socket(ss.ss_family, type, 0);
	CHECK(fd >= 0, "socket");
	CHECK(connect(fd, (struct sockaddr *)&ss, len) == 0, "connect %s:%d", addr, port);
	return fd;
}

static void read_full(int fd, void *buf, size_t n, const char *what)
{
	ssize_t r = recv(fd, buf, n, MSG_WAITALL);

	CHECK(r == (ssize_t)n, "%s: MSG_WAITALL read %zd of %zu", what, r, n);
}

/* ---- TCP ---- */

static void tcp_info_checks(int fd)
{
	struct tcp_info ti;
	socklen_t l = sizeof(ti);
	uint8_t head[8];

	memset(&ti, 0, sizeof(ti));
	CHECK(getsockopt(fd, IPPROTO_TCP, TCP_INFO, &ti, &l) == 0, "TCP_INFO");
	CHECK(l >= offsetof(struct tcp_info, tcpi_total_retrans) + 4, "TCP_INFO length %u", l);
	CHECK(ti.tcpi_state == 1, "tcpi_state %u, not ESTABLISHED", ti.tcpi_state);
	CHECK((ti.tcpi_options & (TCPI_OPT_SACK | TCPI_OPT_TIMESTAMPS | TCPI_OPT_WSCALE)) ==
	      (TCPI_OPT_SACK | TCPI_OPT_TIMESTAMPS | TCPI_OPT_WSCALE),
	      "tcpi_options 0x%x lacks SACK/TS/WSCALE", ti.tcpi_options);
	CHECK(ti.tcpi_snd_mss >= 536 && ti.tcpi_snd_mss <= 65535, "snd_mss %u", ti.tcpi_snd_mss);
	CHECK(ti.tcpi_rcv_mss > 0, "rcv_mss %u", ti.tcpi_rcv_mss);
	CHECK(ti.tcpi_advmss > 0, "advmss %u", ti.tcpi_advmss);
	CHECK(ti.tcpi_rto >= 200000, "rto %u us", ti.tcpi_rto);
	CHECK(ti.tcpi_rtt > 0, "rtt %u", ti.tcpi_rtt);
	CHECK(ti.tcpi_snd_cwnd >= 2, "snd_cwnd %u", ti.tcpi_snd_cwnd);
	CHECK(ti.tcpi_segs_in >= 2 && ti.tcpi_data_segs_in >= 1, "segs_in %u data_segs_in %u",
	      ti.tcpi_segs_in, ti.tcpi_data_segs_in);
	CHECK(ti.tcpi_segs_out >= 1, "segs_out %u", ti.tcpi_segs_out);
	CHECK(ti.tcpi_bytes_received == TCP_BYTES, "bytes_received %llu, sent %d",
	      (unsigned long long)ti.tcpi_bytes_received, TCP_BYTES);
	l = sizeof(head);
	CHECK(getsockopt(fd, IPPROTO_TCP, TCP_INFO, head, &l) == 0 && l == sizeof(head),
	      "TCP_INFO with optlen 8: length %u", l);
	CHECK(head[0] == 1, "short TCP_INFO: state %u", head[0]);
	printf("tcp_info: state ESTABLISHED, snd_mss %u rcv_mss %u rtt %u us rto %u us "
	       "cwnd %u, segs in/out %u/%u, %llu bytes received; optlen 8 gives 8\n",
	       ti.tcpi_snd_mss, ti.tcpi_rcv_mss, ti.tcpi_rtt, ti.tcpi_rto, ti.tcpi_snd_cwnd,
	       ti.tcpi_segs_in, ti.tcpi_segs_out, (unsigned long long)ti.tcpi_bytes_received);
}

static void tcp_opts_checks(int fd, int lfd)
{
	set_int(fd, IPPROTO_TCP, TCP_QUICKACK, 1);
	CHECK(opt_int(fd, IPPROTO_TCP, TCP_QUICKACK) == 1, "TCP_QUICKACK reads back");
	CHECK(opt_int(lfd, IPPROTO_TCP, TCP_DEFER_ACCEPT) == 7,
	      "TCP_DEFER_ACCEPT 5 reads back %d, Linux 7", opt_int(lfd, IPPROTO_TCP, TCP_DEFER_ACCEPT));
	set_int(fd, SOL_SOCKET, SO_PRIORITY, 4);
	CHECK(opt_int(fd, SOL_SOCKET, SO_PRIORITY) == 4, "SO_PRIORITY");
	set_int(fd, IPPROTO_IP, IP_TOS, 0x10);
	CHECK(opt_int(fd, IPPROTO_IP, IP_TOS) == 0x10, "IP_TOS reads back %d",
	      opt_int(fd, IPPROTO_IP, IP_TOS));
	CHECK(opt_int(fd, IPPROTO_IP, IP_TTL) == 64, "IP_TTL default");
	set_int(fd, IPPROTO_IP, IP_TTL, 33);
	CHECK(opt_int(fd, IPPROTO_IP, IP_TTL) == 33, "IP_TTL reads back");
	printf("options: TCP_QUICKACK, TCP_DEFER_ACCEPT (5 -> 7), SO_PRIORITY, IP_TOS (also "
	       "from the listener), IP_TTL\n");
}

static int tcp_server(int port)
{
	static char buf[1 << 16];
	int err = 0, lfd = listener(AF_INET, SOCK_STREAM, port, false, &err);
	int d, c, outq, nsd, n;
	long long flood = 0;
	struct tcp_info ti;
	socklen_t l = sizeof(ti);
	char tail[32];

	CHECK(lfd >= 0, "bind tcp/%d: %s", port, strerror(err));
	set_int(lfd, IPPROTO_IP, IP_TOS, 0x20);
	printf("listening\n");
	d = accept(lfd, NULL, NULL);   /* the data connection, then control */
	c = accept(lfd, NULL, NULL);
	CHECK(d >= 0 && c >= 0, "accept");
	CHECK(opt_int(d, IPPROTO_IP, IP_TOS) == 0x20, "accepted socket's IP_TOS %d, the listener's 0x20",
	      opt_int(d, IPPROTO_IP, IP_TOS));
	/* after the accepts: the kernel would hold the (silent) control one */
	set_int(lfd, IPPROTO_TCP, TCP_DEFER_ACCEPT, 5);
	await_ioctl(d, FIONREAD, TCP_BYTES, "FIONREAD of the peer's bytes");
	CHECK(ioctl_int(d, SIOCINQ) == TCP_BYTES, "SIOCINQ");
	printf("FIONREAD/SIOCINQ: %d\n", TCP_BYTES);
	tcp_info_checks(d);
	tcp_opts_checks(d, lfd);
	CHECK(recv(d, buf, 10, MSG_PEEK) == 10 && ioctl_int(d, FIONREAD) == TCP_BYTES,
	      "MSG_PEEK consumed");
	CHECK(recv(d, NULL, 1000, MSG_TRUNC) == 1000, "MSG_TRUNC discard");
	read_full(d, buf, TCP_BYTES - 1000, "the rest");
	printf("MSG_PEEK, MSG_TRUNC (1000 bytes dropped), MSG_WAITALL\n");
	/* Write until the peer (not reading) makes us wait. */
	CHECK(fcntl(d, F_SETFL, O_NONBLOCK) == 0, "O_NONBLOCK");
	for (;;) {
		ssize_t w = send(d, buf, sizeof(buf), 0);

		if (w < 0 && errno == EAGAIN)
			break;
		CHECK(w > 0, "send");
		flood += w;
	}
	outq = ioctl_int(d, SIOCOUTQ);
	nsd = ioctl_int(d, SIOCOUTQNSD);
	CHECK(outq > 0 && outq <= flood, "SIOCOUTQ %d after %lld bytes", outq, flood);
	CHECK(nsd >= 0 && nsd <= outq, "SIOCOUTQNSD %d, SIOCOUTQ %d", nsd, outq);
	CHECK(getsockopt(d, IPPROTO_TCP, TCP_INFO, &ti, &l) == 0, "TCP_INFO");
	CHECK(ti.tcpi_unacked > 0 || ti.tcpi_notsent_bytes > 0, "nothing in flight or queued");
	printf("flooded %lld bytes: SIOCOUTQ %d SIOCOUTQNSD %d\n", flood, outq, nsd);
	CHECK(send(c, "G", 1, 0) == 1, "go");
	await_ioctl(d, SIOCOUTQ, 0, "SIOCOUTQ once the peer read all");
	CHECK(ioctl_int(d, SIOCOUTQNSD) == 0, "SIOCOUTQNSD at the end");
	l = sizeof(ti);
	CHECK(getsockopt(d, IPPROTO_TCP, TCP_INFO, &ti, &l) == 0, "TCP_INFO");
	CHECK(ti.tcpi_bytes_acked == (uint64_t)flood, "bytes_acked %llu, sent %lld",
	      (unsigned long long)ti.tcpi_bytes_acked, flood);
	CHECK(ti.tcpi_unacked == 0 && ti.tcpi_notsent_bytes == 0, "unacked %u notsent %u",
	      ti.tcpi_unacked, ti.tcpi_notsent_bytes);
	printf("SIOCOUTQ 0 once read; bytes_acked %lld\n", flood);
	close(d);
	n = (int)recv(c, tail, sizeof(tail) - 1, MSG_WAITALL);
	CHECK(n > 0, "peer's count");
	tail[n] = 0;
	CHECK(atoll(tail) == flood, "peer read %s, sent %lld", tail, flood);
	close(c);
	close(lfd);
	printf("ok\n");
	return 0;
}

static int tcp_peer(const char *addr, int port)
{
	static char buf[1 << 16];
	int d = connect_to(addr, port, SOCK_STREAM), c = connect_to(addr, port, SOCK_STREAM);
	long long got = 0;
	char g, line[32];
	ssize_t r;

	memset(buf, 'x', sizeof(buf));
	for (int sent = 0; sent < TCP_BYTES; sent += (int)r) {
		r = send(d, buf, TCP_BYTES - sent < (int)sizeof(buf) ? (size_t)(TCP_BYTES - sent)
								     : sizeof(buf), 0);
		CHECK(r > 0, "peer send");
	}
	read_full(c, &g, 1, "go");
	while ((r = recv(d, buf, sizeof(buf), 0)) > 0)
		got += r;
	CHECK(r == 0, "peer read");
	snprintf(line, sizeof(line), "%lld", got);
	CHECK(send(c, line, strlen(line), 0) > 0, "peer count");
	shutdown(c, SHUT_WR);
	recv(c, &g, 1, 0);
	printf("peer: read %lld\n", got);
	return 0;
}

/* ---- SO_REUSEPORT ---- */

static int reuse_server(int port)
{
	int err = 0, t[2], u[2], x, counts[4] = { 0 };
	char b;

	for (int i = 0; i < 2; i++) {
		t[i] = listener(AF_INET6, SOCK_STREAM, port, true, &err);
		CHECK(t[i] >= 0, "TCP listener %d with SO_REUSEPORT: %s", i, strerror(err));
		u[i] = listener(AF_INET6, SOCK_DGRAM, port, true, &err);
		CHECK(u[i] >= 0, "UDP socket %d with SO_REUSEPORT: %s", i, strerror(err));
	}
	CHECK(opt_int(t[0], SOL_SOCKET, SO_REUSEPORT) == 1, "SO_REUSEPORT reads back");
	x = listener(AF_INET6, SOCK_STREAM, port, false, &err);
	CHECK(x < 0 && err == EADDRINUSE, "TCP without SO_REUSEPORT: %s", strerror(err));
	x = listener(AF_INET6, SOCK_DGRAM, port, false, &err);
	CHECK(x < 0 && err == EADDRINUSE, "UDP without SO_REUSEPORT: %s", strerror(err));
	printf("two TCP listeners and two UDP sockets on %d; a third: EADDRINUSE\n", port);
	printf("listening\n");
	for (int done = 0; done < 2 * REUSE_N;) {
		struct pollfd p[4] = { { t[0], POLLIN, 0 }, { t[1], POLLIN, 0 },
				       { u[0], POLLIN, 0 }, { u[1], POLLIN, 0 } };

		CHECK(poll(p, 4, 30000) > 0, "nothing came (%d of %d)", done, 2 * REUSE_N);
		for (int i = 0; i < 4; i++) {
			struct sockaddr_storage from;
			socklen_t fl = sizeof(from);
			char tag = (char)('1' + i % 2);
			int c;

			if (!(p[i].revents & POLLIN))
				continue;
			if (i < 2) {
				c = accept(t[i], NULL, NULL);
				CHECK(c >= 0, "accept");
				read_full(c, &b, 1, "byte");
				CHECK(send(c, &tag, 1, 0) == 1, "answer");
				close(c);
			} else {
				CHECK(recvfrom(u[i - 2], &b, 1, 0, (void *)&from, &fl) == 1, "recvfrom");
				CHECK(sendto(u[i - 2], &tag, 1, 0, (void *)&from, fl) == 1, "answer");
			}
			counts[i]++;
			done++;
		}
	}
	printf("connections per listener: %d %d; datagrams per socket: %d %d\n",
	       counts[0], counts[1], counts[2], counts[3]);
	CHECK(counts[0] && counts[1], "one TCP listener got no connection");
	CHECK(counts[2] && counts[3], "one UDP socket got no datagram");
	printf("ok\n");
	return 0;
}

static int reuse_peer(const char *addr, int port)
{
	int seen[2][2] = { { 0 } };

	for (int type = 0; type < 2; type++)
		for (int i = 0; i < REUSE_N; i++) {
			int fd = connect_to(addr, port, type ? SOCK_DGRAM : SOCK_STREAM);
			struct timeval tv = { 10, 0 };
			char b = 'q';

			setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
			CHECK(send(fd, &b, 1, 0) == 1, "peer send");
			CHECK(recv(fd, &b, 1, 0) == 1 && (b == '1' || b == '2'), "peer answer");
			seen[type][b - '1']++;
			close(fd);
		}
	printf("peer: tcp %d/%d udp %d/%d\n", seen[0][0], seen[0][1], seen[1][0], seen[1][1]);
	return 0;
}

/* ---- UDP ancillary data ---- */

struct rx {
	char data[256];
	ssize_t len;
	int flags;
	struct sockaddr_storage from;
	socklen_t fromlen;
	bool pktinfo;
	uint8_t dst[16];
	int tos, ttl, ncmsg;
	struct timespec stamp;
};

static void rx_msg(int fd, struct rx *rx, size_t ctl_len)
{
	union { struct cmsghdr h; char b[512]; } ctl;
	struct iovec iov = { rx->data, sizeof(rx->data) };
	struct msghdr m = { .msg_name = &rx->from, .msg_namelen = sizeof(rx->from),
			    .msg_iov = &iov, .msg_iovlen = 1,
			    .msg_control = &ctl, .msg_controllen = ctl_len };

	memset(rx, 0, sizeof(*rx));
	rx->tos = rx->ttl = -1;
	iov.iov_base = rx->data;
	rx->len = recvmsg(fd, &m, 0);
	CHECK(rx->len >= 0, "recvmsg");
	rx->flags = m.msg_flags;
	rx->fromlen = m.msg_namelen;
	for (struct cmsghdr *h = CMSG_FIRSTHDR(&m); h; h = CMSG_NXTHDR(&m, h)) {
		rx->ncmsg++;
		if (h->cmsg_level == IPPROTO_IP && h->cmsg_type == IP_PKTINFO) {
			struct in_pktinfo pi;

			memcpy(&pi, CMSG_DATA(h), sizeof(pi));
			memcpy(rx->dst, &pi.ipi_addr, 4);
			rx->pktinfo = true;
		} else if (h->cmsg_level == IPPROTO_IPV6 && h->cmsg_type == IPV6_PKTINFO) {
			struct in6_pktinfo pi;

			memcpy(&pi, CMSG_DATA(h), sizeof(pi));
			memcpy(rx->dst, &pi.ipi6_addr, 16);
			rx->pktinfo = true;
		} else if (h->cmsg_level == IPPROTO_IP && h->cmsg_type == IP_TOS) {
			rx->tos = *CMSG_DATA(h);
		} else if (h->cmsg_level == IPPROTO_IPV6 && h->cmsg_type == IPV6_TCLASS) {
			memcpy(&rx->tos, CMSG_DATA(h), sizeof(int));
		} else if ((h->cmsg_level == IPPROTO_IP && h->cmsg_type == IP_TTL) ||
			   (h->cmsg_level == IPPROTO_IPV6 && h->cmsg_type == IPV6_HOPLIMIT)) {
			memcpy(&rx->ttl, CMSG_DATA(h), sizeof(int));
		} else if (h->cmsg_level == SOL_SOCKET && h->cmsg_type == SO_TIMESTAMPNS) {
			memcpy(&rx->stamp, CMSG_DATA(h), sizeof(rx->stamp));
		}
	}
}

/* One control message at at; returns the room it takes. */
static size_t put_cm(char *at, int level, int type, const void *data, size_t n)
{
	struct cmsghdr h = { .cmsg_len = CMSG_LEN(n), .cmsg_level = level, .cmsg_type = type };

	memcpy(at, &h, sizeof(h));
	memcpy(at + CMSG_LEN(0), data, n);
	return CMSG_SPACE(n);
}

/* Answer from the address the datagram came to, with TOS tos in the
 * message's own control data. */
static void tx_reply(int fd, const struct rx *rx, int family, int tos)
{
	union { struct cmsghdr h; char b[128]; } ctl;
	struct iovec iov = { (void *)rx->data, (size_t)rx->len };
	struct msghdr m = { .msg_name = (void *)&rx->from, .msg_namelen = rx->fromlen,
			    .msg_iov = &iov, .msg_iovlen = 1, .msg_control = &ctl };
	struct in_pktinfo pi4 = { 0 };
	struct in6_pktinfo pi6 = { 0 };
	size_t used;

	memset(&ctl, 0, sizeof(ctl));
	memcpy(&pi4.ipi_spec_dst, rx->dst, 4);
	memcpy(&pi6.ipi6_addr, rx->dst, 16);
	if (family == AF_INET) {
		used = put_cm(ctl.b, IPPROTO_IP, IP_PKTINFO, &pi4, sizeof(pi4));
		used += put_cm(ctl.b + used, IPPROTO_IP, IP_TOS, &tos, sizeof(tos));
	} else {
		used = put_cm(ctl.b, IPPROTO_IPV6, IPV6_PKTINFO, &pi6, sizeof(pi6));
		used += put_cm(ctl.b + used, IPPROTO_IPV6, IPV6_TCLASS, &tos, sizeof(tos));
	}
	m.msg_controllen = used;
	CHECK(sendmsg(fd, &m, 0) == rx->len, "sendmsg with PKTINFO and TOS");
}

static void udp_family(int family, int port)
{
	int err = 0, fd = listener(family, SOCK_DGRAM, port, false, &err), alen;
	bool v4 = family == AF_INET;
	struct timespec now;
	char as[64], ctl[CMSG_SPACE(sizeof(int))];
	struct rx rx;

	CHECK(fd >= 0, "bind udp/%d: %s", port, strerror(err));
	if (v4) {
		set_int(fd, IPPROTO_IP, IP_PKTINFO, 1);
		set_int(fd, IPPROTO_IP, IP_RECVTOS, 1);
		set_int(fd, IPPROTO_IP, IP_RECVTTL, 1);
		set_int(fd, SOL_SOCKET, SO_TIMESTAMPNS, 1);
		CHECK(opt_int(fd, SOL_SOCKET, SO_TIMESTAMPNS) == 1 &&
		      opt_int(fd, SOL_SOCKET, SO_TIMESTAMP) == 0, "SO_TIMESTAMPNS reads back");
	} else {
		set_int(fd, IPPROTO_IPV6, IPV6_RECVPKTINFO, 1);
		set_int(fd, IPPROTO_IPV6, IPV6_RECVTCLASS, 1);
		set_int(fd, IPPROTO_IPV6, IPV6_RECVHOPLIMIT, 1);
	}
	printf("listening\n");
	/* first datagram: FIONREAD, then everything it carries */
	{
		struct pollfd p = { fd, POLLIN, 0 };

		CHECK(poll(&p, 1, 30000) == 1, "no datagram");
	}
	CHECK(ioctl_int(fd, FIONREAD) == 100, "FIONREAD %d, datagram of 100",
	      ioctl_int(fd, FIONREAD));
	rx_msg(fd, &rx, 512);
	alen = v4 ? 4 : 16;
	inet_ntop(family, rx.dst, as, sizeof(as));
	CHECK(rx.len == 100 && !(rx.flags & (MSG_CTRUNC | MSG_TRUNC)), "datagram %zd flags 0x%x",
	      rx.len, rx.flags);
	CHECK(rx.pktinfo, "no PKTINFO");
	CHECK(rx.tos == (v4 ? 0x28 : 0x20), "TOS/TCLASS %d", rx.tos);
	CHECK(rx.ttl == 64, "TTL/hop limit %d", rx.ttl);
	if (v4) {
		clock_gettime(CLOCK_REALTIME, &now);
		CHECK(rx.stamp.tv_sec > 0 && rx.stamp.tv_sec <= now.tv_sec &&
		      rx.stamp.tv_sec > now.tv_sec - 600, "SO_TIMESTAMPNS %lld, now %lld",
		      (long long)rx.stamp.tv_sec, (long long)now.tv_sec);
	}
	printf("%s: to %s, %s 0x%x, %s %d%s\n", v4 ? "IPv4" : "IPv6", as,
	       v4 ? "TOS" : "TCLASS", rx.tos, v4 ? "TTL" : "hop limit", rx.ttl,
	       v4 ? ", receive time" : "");
	tx_reply(fd, &rx, family, v4 ? 0x48 : 0x40);
	/* second datagram: a control buffer with room for one int */
	rx_msg(fd, &rx, sizeof(ctl));
	CHECK(rx.flags & MSG_CTRUNC, "no MSG_CTRUNC with %zu bytes of control buffer",
	      sizeof(ctl));
	CHECK(rx.ncmsg <= 1, "%d control messages in a buffer for one", rx.ncmsg);
	/* IP_PMTUDISC_DO: what would fragment fails; the error queue (with
	 * IP_RECVERR) is empty and does not wait */
	{
		static char big[3000];
		struct iovec iov = { big, sizeof(big) };
		struct msghdr m = { .msg_iov = &iov, .msg_iovlen = 1 };
		int lvl = v4 ? IPPROTO_IP : IPPROTO_IPV6;

		CHECK(opt_int(fd, lvl, v4 ? IP_MTU_DISCOVER : IPV6_MTU_DISCOVER) ==
		      IP_PMTUDISC_WANT, "MTU_DISCOVER default");
		set_int(fd, lvl, v4 ? IP_MTU_DISCOVER : IPV6_MTU_DISCOVER, IP_PMTUDISC_DO);
		CHECK(sendto(fd, big, sizeof(big), 0, (void *)&rx.from, rx.fromlen) < 0 &&
		      errno == EMSGSIZE, "3000 bytes with PMTUDISC_DO not EMSGSIZE");
		set_int(fd, lvl, v4 ? IP_RECVERR : IPV6_RECVERR, 1);
		CHECK(recvmsg(fd, &m, MSG_ERRQUEUE) < 0 && errno == EAGAIN,
		      "MSG_ERRQUEUE not EAGAIN");
	}
	/* an unknown control message on send: EINVAL, as Linux */
	{
		union { struct cmsghdr h; char b[CMSG_SPACE(sizeof(int))]; } bad = { 0 };
		struct iovec iov = { rx.data, 1 };
		struct msghdr m = { .msg_name = &rx.from, .msg_namelen = rx.fromlen,
				    .msg_iov = &iov, .msg_iovlen = 1,
				    .msg_control = &bad, .msg_controllen = sizeof(bad) };

		bad.h.cmsg_level = v4 ? IPPROTO_IP : IPPROTO_IPV6;
		bad.h.cmsg_type = v4 ? IP_RECVERR : IPV6_RECVERR;
		bad.h.cmsg_len = CMSG_LEN(sizeof(int));
		CHECK(sendmsg(fd, &m, 0) < 0 && errno == EINVAL, "unknown cmsg not EINVAL");
	}
	(void)alen;
	printf("%s: MSG_CTRUNC on a short control buffer; PMTUDISC_DO EMSGSIZE; "
	       "MSG_ERRQUEUE EAGAIN; unknown cmsg EINVAL\n",
	       v4 ? "IPv4" : "IPv6");
	close(fd);
}

static int udp_server(int port)
{
	udp_family(AF_INET, port);
	udp_family(AF_INET6, port);
	printf("ok\n");
	return 0;
}

static void udp_peer_family(const char *addr, int port, int tos_out, int tos_back)
{
	int fd = connect_to(addr, port, SOCK_DGRAM);
	bool v4 = !strchr(addr, ':');
	struct timeval tv = { 10, 0 };
	struct sockaddr_storage local;
	socklen_t ll = sizeof(local);
	char data[100];
	struct rx rx;
	int i;

	setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	set_int(fd, v4 ? IPPROTO_IP : IPPROTO_IPV6, v4 ? IP_TOS : IPV6_TCLASS, tos_out);
	set_int(fd, v4 ? IPPROTO_IP : IPPROTO_IPV6, v4 ? IP_RECVTOS : IPV6_RECVTCLASS, 1);
	getsockname(fd, (void *)&local, &ll);
	memset(data, 'd', sizeof(data));
	/* until the server answers (it may still be starting) */
	for (i = 0; i < 30; i++) {
		struct pollfd p = { fd, POLLIN, 0 };
		socklen_t el = sizeof(int);
		int e;

		/* a refusal (ICMP, before it binds) is taken and retried */
		send(fd, data, sizeof(data), 0);
		if (poll(&p, 1, 1000) == 1 && (p.revents & POLLIN))
			break;
		getsockopt(fd, SOL_SOCKET, SO_ERROR, &e, &el);
		poll(NULL, 0, 200);
	}
	rx_msg(fd, &rx, 512);
	CHECK(rx.len == sizeof(data), "peer: answer of %zd", rx.len);
	CHECK(rx.tos == tos_back, "peer: answer's TOS 0x%x, asked 0x%x", rx.tos, tos_back);
	CHECK(send(fd, data, 10, 0) == 10, "peer second send");
	printf("peer: %s answer from %s with TOS 0x%x\n", v4 ? "IPv4" : "IPv6", addr, rx.tos);
	close(fd);
}

static int udp_peer(const char *a4, const char *a6, int port)
{
	udp_peer_family(a4, port, 0x28, 0x48);
	udp_peer_family(a6, port, 0x20, 0x40);
	return 0;
}

/* ---- sendfile ---- */

#define SF_SIZE 4096

/* Byte i of the file's generation gen: each rewrite changes every byte. */
static uint8_t sf_byte(int gen, size_t i)
{
	return (uint8_t)(i * 31 + (size_t)gen * 101 + 7);
}

/* Rewrite the file as generation gen, len bytes long. */
static void sf_fill(int f, int gen, size_t len)
{
	static uint8_t b[SF_SIZE];

	for (size_t i = 0; i < len; i++)
		b[i] = sf_byte(gen, i);
	CHECK(pwrite(f, b, len, 0) == (ssize_t)len && ftruncate(f, (off_t)len) == 0,
	      "rewrite the file");
}

struct sf_stream {
	uint8_t b[1 << 16];
	size_t len;
};

/* sendfile(d, f, off, count) must return want; what it sent is generation
 * gen's bytes from where it read (off, or the file position). */
static void sf_send(int d, int f, off_t *off, size_t count, ssize_t want, int gen,
		    struct sf_stream *exp, const char *what)
{
	off_t from = off ? *off : lseek(f, 0, SEEK_CUR);
	ssize_t r = sendfile(d, f, off, count);

	CHECK(r == want, "%s: sendfile returned %zd, not %zd", what, r, want);
	for (ssize_t i = 0; i < r; i++)
		exp->b[exp->len++] = sf_byte(gen, (size_t)from + (size_t)i);
	CHECK(!off || *off == from + r, "%s: offset %lld, not %lld", what,
	      (long long)*off, (long long)(from + r));
	CHECK(off || lseek(f, 0, SEEK_CUR) == from + r, "%s: file position %lld, not %lld",
	      what, (long long)lseek(f, 0, SEEK_CUR), (long long)(from + r));
	printf("%s: %zd\n", what, r);
}

/* Read the peer's echo of all sent so far and compare: the kernel sends
 * the page cache's pages by reference (through a veth, into the peer's
 * receive queue too), so the file is rewritten only once the peer has
 * copied out what was sent. */
static void sf_sync(int d, const struct sf_stream *exp, struct sf_stream *got)
{
	while (got->len < exp->len) {
		ssize_t r = recv(d, got->b + got->len, exp->len - got->len, 0);

		CHECK(r > 0, "the peer's echo: %zd at %zu of %zu", r, got->len, exp->len);
		got->len += (size_t)r;
	}
	for (size_t i = 0; i < exp->len; i++)
		CHECK(got->b[i] == exp->b[i], "byte %zu: 0x%02x, sent 0x%02x", i, got->b[i],
		      exp->b[i]);
}

static int sendfile_server(int port)
{
	static struct sf_stream exp, got;
	char path[] = "/tmp/xm-sendfile.XXXXXX";
	int err = 0, lfd = listener(AF_INET, SOCK_STREAM, port, false, &err);
	int d, f, wo;
	off_t off;

	CHECK(lfd >= 0, "bind tcp/%d: %s", port, strerror(err));
	printf("listening\n");
	d = accept(lfd, NULL, NULL);
	CHECK(d >= 0, "accept");
	f = mkstemp(path);
	wo = open(path, O_WRONLY);
	CHECK(f >= 0 && wo >= 0 && unlink(path) == 0, "temporary file");
	sf_fill(f, 1, SF_SIZE);
	off = 100;
	sf_send(d, f, &off, 1000, 1000, 1, &exp, "offset 100, 1000 bytes (the position stays)");
	CHECK(lseek(f, 0, SEEK_CUR) == 0, "the file position moved");
	CHECK(lseek(f, 10, SEEK_SET) == 10, "lseek");
	sf_send(d, f, NULL, 500, 500, 1, &exp, "no offset: from the position 10, 500 bytes");
	off = 4000;
	sf_send(d, f, &off, 1000, 96, 1, &exp, "1000 bytes at 4000 of 4096: to the end");
	sf_send(d, f, &off, 10, 0, 1, &exp, "at the end");
	CHECK(lseek(f, 4090, SEEK_SET) == 4090, "lseek");
	sf_send(d, f, NULL, 100, 6, 1, &exp, "no offset, 100 bytes at 4090: to the end");
	off = 0;
	sf_send(d, f, &off, 0, 0, 1, &exp, "0 bytes");
	sf_sync(d, &exp, &got);
	sf_fill(f, 2, SF_SIZE);
	off = 0;
	sf_send(d, f, &off, 300, 300, 2, &exp, "after a rewrite: the new bytes");
	sf_sync(d, &exp, &got);
	sf_fill(f, 3, SF_SIZE);
	set_int(d, IPPROTO_TCP, TCP_CORK, 1);   /* as nginx: header, body, uncork */
	CHECK(send(d, "HDR", 3, 0) == 3, "corked header");
	memcpy(exp.b + exp.len, "HDR", 3);
	exp.len += 3;
	off = 0;
	sf_send(d, f, &off, SF_SIZE, SF_SIZE, 3, &exp, "corked, after a header: the whole file");
	set_int(d, IPPROTO_TCP, TCP_CORK, 0);
	sf_sync(d, &exp, &got);
	sf_fill(f, 4, 2000);
	off = 1500;
	sf_send(d, f, &off, 1000, 500, 4, &exp, "truncated to 2000: 1000 at 1500 gives 500");
	off = 3000;
	sf_send(d, f, &off, 100, 0, 4, &exp, "past the new end");
	errno = 0;
	CHECK(sendfile(d, wo, NULL, 10) == -1 && errno == EBADF, "a write-only file: not EBADF");
	off = -1;
	errno = 0;
	CHECK(sendfile(d, f, &off, 10) == -1 && errno == EINVAL, "offset -1: not EINVAL");
	printf("write-only file: EBADF; offset -1: EINVAL\n");
	CHECK(shutdown(d, SHUT_WR) == 0, "shutdown");
	sf_sync(d, &exp, &got);
	CHECK(recv(d, got.b, 1, 0) == 0, "the peer's echo: more than was sent");
	printf("the peer read the %zu bytes sent\n", got.len);
	close(d);
	close(f);
	close(wo);
	close(lfd);
	printf("ok\n");
	return 0;
}

/* Send back all that comes, until the server's FIN. */
static int sendfile_peer(const char *addr, int port)
{
	static uint8_t buf[1 << 16];
	int d = connect_to(addr, port, SOCK_STREAM);
	size_t total = 0;
	ssize_t r, w;

	while ((r = recv(d, buf, sizeof(buf), 0)) > 0) {
		for (ssize_t sent = 0; sent < r; sent += w) {
			w = send(d, buf + sent, (size_t)(r - sent), 0);
			CHECK(w > 0, "peer send");
		}
		total += (size_t)r;
	}
	CHECK(r == 0, "peer read");
	close(d);
	printf("peer: read and sent back %zu\n", total);
	return 0;
}

int main(int argc, char **argv)
{
	setvbuf(stdout, NULL, _IOLBF, 0);
	if (argc == 3 && !strcmp(argv[1], "tcp-server"))
		return tcp_server(atoi(argv[2]));
	if (argc == 4 && !strcmp(argv[1], "tcp-peer"))
		return tcp_peer(argv[2], atoi(argv[3]));
	if (argc == 3 && !strcmp(argv[1], "reuse-server"))
		return reuse_server(atoi(argv[2]));
	if (argc == 4 && !strcmp(argv[1], "reuse-peer"))
		return reuse_peer(argv[2], atoi(argv[3]));
	if (argc == 3 && !strcmp(argv[1], "udp-server"))
		return udp_server(atoi(argv[2]));
	if (argc == 5 && !strcmp(argv[1], "udp-peer"))
		return udp_peer(argv[2], argv[3], atoi(argv[4]));
	if (argc == 3 && !strcmp(argv[1], "sendfile-server"))
		return sendfile_server(atoi(argv[2]));
	if (argc == 4 && !strcmp(argv[1], "sendfile-peer"))
		return sendfile_peer(argv[2], atoi(argv[3]));
	fprintf(stderr, "usage: sock_features tcp-server PORT | tcp-peer ADDR PORT |\n"
			"  reuse-server PORT | reuse-peer ADDR PORT |\n"
			"  udp-server PORT | udp-peer ADDR4 ADDR6 PORT |\n"
			"  sendfile-server PORT | sendfile-peer ADDR PORT\n");
	return 2;
}
