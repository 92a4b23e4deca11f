// SPDX-License-Identifier: MIT
/*
 * udp_sink: count the UDP datagrams arriving on a port, through either the
 * kernel (one socket, recvmmsg in batches) or the xdpmux stack (one xm_
 * socket on DEV, sleeping on xm_stack_fd() only when idle), for the
 * receive-rate benchmark.
 *
 *   udp_sink kernel PORT [--seconds S] [--warmup W]
 *   udp_sink xdpmux DEV PORT [--seconds S] [--warmup W] [--frames N]
 *
 * Waits for the first datagram, lets W seconds pass (default 0.5), then
 * counts for S seconds (default 3) and prints
 *   "received N datagrams in T s: P pps"
 *   "cpu C ns per datagram"   (this process's CPU time over the window)
 * Exits 1 if nothing arrives within 10 s of starting. --frames sets the
 * UMEM size per rx queue (half of it is the rx ring: the burst the stack can
 * absorb while its thread is not running).
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <poll.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <xdpmux/xdpmux.h>

#define BATCH 64
#define RCVBUF (8 << 20)
#define FIRST_WAIT_NS 10000000000ull

struct window {
	double warmup, seconds;
	uint64_t start, first, count_from, count_until;
	uint64_t counted;
	uint64_t cpu_from, cpu_until; /* this process's CPU time, ns */
	int phase;            /* 0 waiting, 1 warming, 2 counting, 3 done */
};

static uint64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

static uint64_t cpu_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

/* Account n datagrams received at time t; false once the window closed. */
static bool window_add(struct window *w, uint64_t n, uint64_t t)
{
	if (w->phase == 0) {
		if (!n)
			return t - w->start < FIRST_WAIT_NS;
		w->phase = 1;
		w->first = t;
		w->count_from = t + (uint64_t)(w->warmup * 1e9);
		w->count_until = w->count_from + (uint64_t)(w->seconds * 1e9);
	}
	if (w->phase == 1 && t >= w->count_from) {
		w->phase = 2;
		w->cpu_from = cpu_ns();
	}
	if (w->phase == 2) {
		if (t >= w->count_until) {
			w->phase = 3;
			w->cpu_until = cpu_ns();
			return false;
		}
		w->counted += n;
	}
	return true;
}

static int report(const struct window *w)
{
	if (w->phase == 0) {
		fprintf(stderr, "udp_sink: no datagram within 10 s\n");
		return 1;
	}
	if (w->phase != 3) {
		fprintf(stderr, "udp_sink: the sender stopped before the window closed\n");
		return 1;
	}
	if (!w->counted) {
		/* Datagrams came, then none in the whole window: the sender
		 * stopped or this receiver stalled; either way no figure. */
		fprintf(stderr, "udp_sink: nothing received in the counting window\n");
		return 1;
	}
	printf("received %llu datagrams in %.2f s: %.0f pps\n",
	       (unsigned long long)w->counted, w->seconds,
	       (double)w->counted / w->seconds);
	/* The application's own share of the receive work (what runs in the
	 * kernel's NAPI is not in it): CPU time over the window. */
	printf("cpu %.0f ns per datagram\n",
	       (double)(w->cpu_until - w->cpu_from) / (double)w->counted);
	return 0;
}

static int run_kernel(uint16_t port, struct window *w)
{
	struct sockaddr_in6 sa = { .sin6_family = AF_INET6, .sin6_port = htons(port) };
	static uint8_t bufs[BATCH][2048];
	struct mmsghdr msgs[BATCH];
	struct iovec iov[BATCH];
	struct timeval tv = { .tv_usec = 100000 };
	int fd, i, zero = 0, rcvbuf = RCVBUF;

	fd = socket(AF_INET6, SOCK_DGRAM, 0);
	if (fd < 0 ||
	    setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &zero, sizeof(zero)) ||
	    setsockopt(fd, SOL_SOCKET, SO_RCVBUFFORCE, &rcvbuf, sizeof(rcvbuf)) ||
	    setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv)) ||
	    bind(fd, (struct sockaddr *)&sa, sizeof(sa))) {
		fprintf(stderr, "udp_sink: kernel socket on port %u: %s\n", port,
			strerror(errno));
		return 1;
	}
	for (i = 0; i < BATCH; i++) {
		iov[i].iov_base = bufs[i];
		iov[i].iov_len = sizeof(bufs[i]);
		memset(&msgs[i], 0, sizeof(msgs[i]));
		msgs[i].msg_hdr.msg_iov = &iov[i];
		msgs[i].msg_hdr.msg_iovlen = 1;
	}
	printf("udp_sink: kernel socket on port %u ready\n", port);
	fflush(stdout);
	for (;;) {
		int n = recvmmsg(fd, msgs, BATCH, MSG_WAITFORONE, NULL);

		if (n < 0 && errno != EAGAIN && errno != EINTR) {
			fprintf(stderr, "udp_sink: recvmmsg: %s\n", strerror(errno));
			return 1;
		}
		if (!window_add(w, n > 0 ? (uint64_t)n : 0, now_ns()))
			break;
	}
	close(fd);
	return report(w);
}

static int run_xdpmux(const char *dev, uint16_t port, uint32_t frames,
		      struct window *w)
{
	struct sockaddr_in6 sa = { .sin6_family = AF_INET6, .sin6_port = htons(port) };
	struct xm_stack_opts o = XM_STACK_OPTS_INIT;
	struct xm_stack_stats s;
	struct xm_stack *st;
	uint8_t buf[2048];
	struct pollfd p = { .events = POLLIN };

	o.frames = frames;
	int fd, err, rcvbuf = RCVBUF, rc;

	err = xm_stack_open(dev, &o, &st);
	if (err) {
		fprintf(stderr, "udp_sink: xdpmux stack on %s: %s\n", dev, strerror(-err));
		return 1;
	}
	fd = xm_socket(AF_INET6, SOCK_DGRAM, 0);
	if (fd < 0 ||
	    xm_setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &rcvbuf, sizeof(rcvbuf)) < 0 ||
	    xm_bind(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0 ||
	    xm_fcntl(fd, F_SETFL, O_NONBLOCK) < 0) {
		fprintf(stderr, "udp_sink: xdpmux socket on %s port %u: %s\n", dev,
			port, strerror(errno));
		xm_stack_close(st);
		return 1;
	}
	p.fd = xm_stack_fd(st);
	printf("udp_sink: xdpmux socket on %s port %u ready\n", dev, port);
	fflush(stdout);
	for (;;) {
		uint64_t n = 0;

		err = xm_stack_poll(st);
		if (err < 0 && err != -EAGAIN && err != -EINTR) {
			fprintf(stderr, "udp_sink: stack poll: %s\n", strerror(-err));
			break;
		}
		while (xm_recv(fd, buf, sizeof(buf), 0) >= 0)
			n++;
		if (!window_add(w, n, now_ns()))
			break;
		/* Sleep when idle, as the kernel receiver does in recvmmsg:
		 * spinning would take the CPU the sender's softirq needs. */
		if (err == 0 && !n)
			poll(&p, 1, 10);
	}
	rc = report(w);
	if (xm_stack_stats(st, &s) == 0)
		printf("udp_sink: stack rx_frames %llu rcvbuf_drops %llu no_socket %llu "
		       "bad_csum %llu malformed %llu\n",
		       (unsigned long long)s.rx_frames,
		       (unsigned long long)s.rx_rcvbuf_drops,
		       (unsigned long long)s.rx_no_socket,
		       (unsigned long long)(s.rx_bad_ip_csum + s.rx_bad_l4_csum),
		       (unsigned long long)s.rx_malformed);
	xm_close(fd);
	xm_stack_close(st);
	return rc;
}

int main(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "seconds", required_argument, NULL, 's' },
		{ "warmup", required_argument, NULL, 'w' },
		{ "frames", required_argument, NULL, 'f' },
		{ 0 }
	};
	struct window w = { .warmup = 0.5, .seconds = 3 };
	uint32_t frames = 0;
	int c, args;

	while ((c = getopt_long(argc, argv, "", longopts, NULL)) != -1) {
		switch (c) {
		case 's': w.seconds = atof(optarg); break;
		case 'w': w.warmup = atof(optarg); break;
		case 'f': frames = (uint32_t)atoi(optarg); break;
		default: return 2;
		}
	}
	args = argc - optind;
	w.start = now_ns();
	if (w.seconds > 0 && w.warmup >= 0) {
		if (args == 2 && !strcmp(argv[optind], "kernel"))
			return run_kernel((uint16_t)atoi(argv[optind + 1]), &w);
		if (args == 3 && !strcmp(argv[optind], "xdpmux"))
			return run_xdpmux(argv[optind + 1],
					  (uint16_t)atoi(argv[optind + 2]), frames, &w);
	}
	fprintf(stderr, "usage: udp_sink kernel PORT [--seconds S] [--warmup W]\n"
			"       udp_sink xdpmux DEV PORT [--seconds S] [--warmup W] [--frames N]\n");
	return 2;
}
