// SPDX-License-Identifier: MIT
/* See fuzz_env.h. A fuzzer runs one process per harness, so the stack is
 * the harness's (the library itself keeps no global state). */
#include <errno.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <xdpmux/xdpmux.h>

#include "../../user/lib/link/link.h"
#include "fuzz_env.h"

static struct fz {
	struct xm_sim *sim;
	struct xm_link *la, *raw;
	struct xm_stack *st;
	int fds[4];
	int nfds;
} fz;

static void die(const char *what, int err)
{
	fprintf(stderr, "fuzz_env: %s: %s\n", what, strerror(err < 0 ? -err : err));
	abort();
}

static void link_opts(struct xm_sim_opts *so, uint8_t id)
{
	static const uint8_t ip6[16] = { 0x20, 0x01, 0x0d, 0xb8 };

	memset(so, 0, sizeof(*so));
	so->sim = fz.sim;
	so->mac[0] = 0x02;
	so->mac[5] = id;
	so->frames = 1024;
	so->n_ipv4 = 1;
	so->ipv4[0].addr[0] = 198;
	so->ipv4[0].addr[1] = 18;
	so->ipv4[0].addr[3] = id;
	so->ipv4[0].prefixlen = 15;
	so->n_ipv6 = 1;
	memcpy(so->ipv6[0].addr, ip6, 16);
	so->ipv6[0].addr[15] = id;
	so->ipv6[0].prefixlen = 32;
}

static void sock(int family, int type)
{
	struct sockaddr_storage ss = { .ss_family = (sa_family_t)family };
	socklen_t sl = family == AF_INET ? sizeof(struct sockaddr_in) : sizeof(struct sockaddr_in6);
	int fd = xm_socket_on(fz.st, family, type | SOCK_NONBLOCK, 0);

	if (fd < 0) {
		if (type == SOCK_STREAM && errno == EPROTONOSUPPORT)
			return;   /* no TCP in this runtime yet */
		die("socket", errno);
	}
	/* One socket per family, as two kernel sockets would need. */
	if (family == AF_INET6 &&
	    xm_setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &(int){ 1 }, sizeof(int)) < 0)
		die("IPV6_V6ONLY", errno);
	if (family == AF_INET)
		((struct sockaddr_in *)&ss)->sin_port = htons(FZ_PORT);
	else
		((struct sockaddr_in6 *)&ss)->sin6_port = htons(FZ_PORT);
	if (xm_bind(fd, (struct sockaddr *)&ss, sl) < 0)
		die("bind", errno);
	if (type == SOCK_STREAM && xm_listen(fd, 16) < 0)
		die("listen", errno);
	fz.fds[fz.nfds++] = fd;
}

struct xm_stack *fz_stack(void)
{
	struct xm_stack_opts o = XM_STACK_OPTS_INIT;
	struct xm_sim_opts so;
	struct xm_clock clock;
	int err;

	if (fz.st)
		return fz.st;
	if ((err = xm_sim_new(1, &fz.sim)))
		die("sim", err);
	clock = xm_sim_clock(fz.sim);
	link_opts(&so, 2);
	if ((err = xm_link_sim_open(&so, &fz.la)))
		die("link", err);
	link_opts(&so, 1);
	if ((err = xm_link_sim_open(&so, &fz.raw)))
		die("peer link", err);
	if ((err = xm_stack_open_link(fz.la, &clock, &o, &fz.st)))
		die("stack", err);
	sock(AF_INET, SOCK_DGRAM);
	sock(AF_INET6, SOCK_DGRAM);
	sock(AF_INET, SOCK_STREAM);
	sock(AF_INET6, SOCK_STREAM);
	return fz.st;
}

static void poll_stack(void)
{
	for (int i = 0; i < 100 && xm_stack_poll(fz.st) > 0; i++)
		;
}

void fz_feed(const uint8_t *frame, size_t len)
{
	struct xm_frame f;
	uint64_t next;

	fz_stack();
	if (len > FZ_FRAME_MAX)
		len = FZ_FRAME_MAX;
	if (fz.raw->ops->tx_alloc(fz.raw, &f, 1) != 1 || f.cap < len)
		die("peer tx buffer", ENOBUFS);
	memcpy(f.data, frame, len);
	f.len = (uint32_t)len;
	/* The link carries 14 to 1514 bytes; it drops (and counts) others. */
	if (fz.raw->ops->tx_submit(fz.raw, &f, 1) != 1)
		return;
	next = xm_link_sim_next_delivery(fz.la);
	if (next != UINT64_MAX && next > xm_sim_now(fz.sim))
		xm_sim_advance(fz.sim, next - xm_sim_now(fz.sim));
	poll_stack();
}

void fz_advance(uint64_t ns)
{
	fz_stack();
	xm_sim_advance(fz.sim, ns);
	poll_stack();
}

void fz_drain(void)
{
	static uint8_t buf[70000];
	struct xm_frame f[32];
	uint64_t total, acc;
	int i, n;

	fz_stack();
	for (i = 0; i < fz.nfds; i++)
		while (xm_recvfrom(fz.fds[i], buf, sizeof(buf), MSG_DONTWAIT, NULL, NULL) >= 0)
			;
	/* What the stack sent (nothing, for most inputs) goes back to the pool. */
	while ((n = fz.raw->ops->rx(fz.raw, f, 32)) > 0)
		fz.raw->ops->rx_release(fz.raw, f, n);
	if (xm_stack_frames(fz.st, &total, &acc))
		die("frame accounting", EIO);
	if (total != acc) {
		fprintf(stderr, "fuzz_env: frames leaked: %llu of %llu accounted\n",
			(unsigned long long)acc, (unsigned long long)total);
		abort();
	}
}

int fz_split(const uint8_t *data, size_t n, size_t *off, const uint8_t **rec, size_t *rec_len)
{
	size_t want;

	if (*off + 2 > n)
		return 0;
	want = ((size_t)data[*off] << 8 | data[*off + 1]) % (FZ_FRAME_MAX + 1);
	*off += 2;
	if (want > n - *off)
		want = n - *off;
	*rec = data + *off;
	*rec_len = want;
	*off += want;
	return 1;
}
