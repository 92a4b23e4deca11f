// SPDX-License-Identifier: MIT
/*
 * xdpmux-echo: echo every datagram on the given UDP ports back to its
 * sender, and every byte of the connections on the given TCP ports back to
 * the peer (tcp_echo.c), through the xdpmux userspace stack.
 *
 *   xdpmux-echo DEV [--udp PORT ...] [--tcp PORT ...] [--busy-poll]
 *               [--spin | --spin-us USEC] [--mode auto|zerocopy|copy]
 *               [--tcp-mem-max BYTES] [--syn-rate N] [--no-multibuf]
 *
 * When a round finds nothing to do it polls the link for --spin-us (default
 * 50) microseconds before it sleeps: a request that follows a reply within
 * that time (any one-at-a-time client's next request) is served without a
 * wakeup, which costs more than the rest of the server's work. Idle, it
 * sleeps like any server; --spin-us 0 sleeps at once, --spin never sleeps.
 *
 * SIGUSR1 prints its counters and the stack's; on SIGINT/SIGTERM it prints them, closes its sockets (which
 * removes their bindings), checks the link's frame accounting and exits:
 * 0 when clean, 1 when a frame leaked or something failed, 2 on usage
 * errors. Each port is one IPv6 wildcard socket, which (dual-stack, as on
 * Linux) also serves IPv4. At least one --udp or --tcp port is needed.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <getopt.h>
#include <netinet/in.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <unistd.h>

#include <xdpmux/xdpmux.h>

#include "../common/example.h"
#include "tcp_echo.h"

#define MAX_PORTS 64
#define BATCH 64

struct port {
	uint16_t port;
	int fd;
	uint64_t rx, rx_bytes, tx, tx_errors;
};

static void usage(FILE *f)
{
	fprintf(f,
		"usage: xdpmux-echo DEV [--udp PORT ...] [--tcp PORT ...] [--busy-poll]\n"
		"                   [--spin | --spin-us USEC] [--mode auto|zerocopy|copy]\n"
		"                   [--tcp-mem-max BYTES] [--syn-rate N] [--no-multibuf]\n"
		"Echoes every UDP datagram on a --udp PORT back to its sender, and\n"
		"every byte of each connection to a --tcp PORT back to the peer\n"
		"(half-closing after the peer does), through the xdpmux stack on DEV\n"
		"(attach it first: xdpmux attach DEV).\n"
		"  --busy-poll  ask the kernel to busy-poll the AF_XDP sockets\n"
		"  --spin       never sleep: poll the stack in a loop\n"
		"  --spin-us    poll the link this long when idle before sleeping\n"
		"               (default 50; 0: sleep at once)\n"
		"  --mode       AF_XDP zero-copy or copy mode (default auto)\n"
		"  --tcp-mem-max  bound on the TCP buffer memory of all connections\n"
		"               (default 1 GiB)\n"
		"  --syn-rate   SYNs per second (per CPU) the XDP program lets through\n"
		"               to bound TCP ports; the rest are dropped there\n"
		"  --no-multibuf  no multi-buffer AF_XDP, as on Linux before 6.6\n"
		"SIGUSR1 prints the counters; SIGINT/SIGTERM print them and exit.\n");
}

/* One more --udp or --tcp port (KIND "" or "TCP "): 0, else prints why. */
static int add_port(uint16_t *list, int *n, const char *kind, const char *arg)
{
	if (*n == MAX_PORTS) {
		fprintf(stderr, "xdpmux-echo: at most %d %sports\n", MAX_PORTS, kind);
		return -1;
	}
	if (ex_parse_port(arg, &list[*n])) {
		fprintf(stderr, "xdpmux-echo: bad port '%s': want 1-65535\n", arg);
		return -1;
	}
	(*n)++;
	return 0;
}

/* Echo what the socket has queued; stops at EAGAIN. */
static void serve(struct port *p, uint8_t *buf, size_t cap)
{
	int i;

	for (i = 0; i < BATCH; i++) {
		struct sockaddr_storage from;
		socklen_t flen = sizeof(from);
		ssize_t n = xm_recvfrom(p->fd, buf, cap, 0,
					(struct sockaddr *)&from, &flen);

		if (n < 0)
			return;
		p->rx++;
		p->rx_bytes += (uint64_t)n;
		if (xm_sendto(p->fd, buf, (size_t)n, 0, (struct sockaddr *)&from,
			      flen) < 0)
			p->tx_errors++;
		else
			p->tx++;
	}
}

/* What the echo counts beside the stack, for its report. */
struct echo_counters {
	const struct port *ports;
	int n;
	const struct tcp_echo *tcp;
};

static void print_counters(FILE *f, const void *arg)
{
	const struct echo_counters *c = arg;
	int i;

	for (i = 0; i < c->n; i++)
		fprintf(f, "  udp/%-5u rx %llu (%llu bytes) tx %llu tx_errors %llu\n",
			c->ports[i].port, (unsigned long long)c->ports[i].rx,
			(unsigned long long)c->ports[i].rx_bytes,
			(unsigned long long)c->ports[i].tx,
			(unsigned long long)c->ports[i].tx_errors);
	if (c->tcp)
		tcp_echo_print(c->tcp, f);
}

int main(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "udp", required_argument, NULL, 'u' },
		{ "tcp", required_argument, NULL, 't' },
		{ "busy-poll", no_argument, NULL, 'b' },
		{ "spin", no_argument, NULL, 's' },
		{ "spin-us", required_argument, NULL, 'U' },
		{ "mode", required_argument, NULL, 'm' },
		{ "tcp-mem-max", required_argument, NULL, 'M' },
		{ "syn-rate", required_argument, NULL, 'S' },
		{ "no-multibuf", no_argument, NULL, 'N' },
		{ "help", no_argument, NULL, 'h' },
		{ 0 }
	};
	struct xm_stack_opts o = XM_STACK_OPTS_INIT;
	struct port ports[MAX_PORTS];
	struct echo_counters counters = { .ports = ports };
	uint16_t uports[MAX_PORTS], tports[MAX_PORTS];
	struct tcp_echo *tcp = NULL;
	struct epoll_event ev = { .events = EPOLLIN };
	struct xm_stack *st;
	const char *dev;
	bool spin = false;
	unsigned long spin_us = 50;
	int n_ports = 0, n_tports = 0, c, i, epfd, rc = 0;
	static uint8_t buf[65536];

	while ((c = getopt_long(argc, argv, "h", longopts, NULL)) != -1) {
		switch (c) {
		case 'u':
			if (add_port(uports, &n_ports, "", optarg))
				return 2;
			break;
		case 't':
			if (add_port(tports, &n_tports, "TCP ", optarg))
				return 2;
			break;
		case 'b':
			o.busy_poll = true;
			break;
		case 'N':
			o.no_multibuf = true;
			break;
		case 's':
			spin = true;
			break;
		case 'U':
			if (ex_parse_uint(optarg, 0, 1000000, &spin_us)) {
				fprintf(stderr, "xdpmux-echo: bad --spin-us '%s': want "
					"microseconds, 0-1000000\n", optarg);
				return 2;
			}
			break;
		case 'm':
			if (ex_parse_mode("xdpmux-echo", optarg, &o))
				return 2;
			break;
		case 'M': {
			unsigned long v;

			if (ex_parse_uint(optarg, 1, ULONG_MAX, &v)) {
				fprintf(stderr, "xdpmux-echo: bad --tcp-mem-max '%s': "
					"want a positive number of bytes\n", optarg);
				return 2;
			}
			o.tcp_mem_max = v;
			break;
		}
		case 'S': {
			unsigned long v;

			if (ex_parse_uint(optarg, 1, UINT32_MAX, &v)) {
				fprintf(stderr, "xdpmux-echo: bad --syn-rate '%s': want "
					"SYNs per second, 1-%u\n", optarg, UINT32_MAX);
				return 2;
			}
			o.syn_rate = (uint32_t)v;
			break;
		}
		case 'h':
			usage(stdout);
			return 0;
		default:
			usage(stderr);
			return 2;
		}
	}
	if (optind != argc - 1 || (!n_ports && !n_tports)) {
		usage(stderr);
		return 2;
	}
	dev = argv[optind];
	o.spin_us = (uint32_t)spin_us;

	ex_signals();
	if (ex_stack_open("xdpmux-echo", dev, &o, &st))
		return 1;
	for (i = 0; i < n_ports; i++) {
		ports[i] = (struct port){ .port = uports[i], .fd = ex_udp_bind(uports[i]) };
		if (ports[i].fd < 0) {
			fprintf(stderr, "xdpmux-echo: bind udp/%u on %s: %s\n",
				ports[i].port, dev, ex_strerror(errno));
			while (i--)
				xm_close(ports[i].fd);
			xm_stack_close(st);
			return 1;
		}
	}
	if (n_tports) {
		uint16_t bad = 0;

		if (tcp_echo_open(tports, n_tports, &tcp, &bad) < 0) {
			fprintf(stderr, "xdpmux-echo: listen tcp/%u on %s: %s\n", bad, dev,
				ex_strerror(errno));
			for (i = 0; i < n_ports; i++)
				xm_close(ports[i].fd);
			xm_stack_close(st);
			return 1;
		}
	}
	epfd = epoll_create1(EPOLL_CLOEXEC);
	if (epfd < 0 || epoll_ctl(epfd, EPOLL_CTL_ADD, xm_stack_fd(st), &ev) < 0) {
		fprintf(stderr, "xdpmux-echo: epoll: %s\n", strerror(errno));
		rc = 1;
		ex_stop = 1;
	}
	printf("xdpmux-echo: serving");
	for (i = 0; i < n_ports; i++)
		printf(" udp/%u", ports[i].port);
	for (i = 0; i < n_tports; i++)
		printf(" tcp/%u", tports[i]);
	printf(" on %s\n", dev);
	fflush(stdout);
	counters.n = n_ports;
	counters.tcp = tcp;
	ex_report_init("xdpmux-echo", dev, st, print_counters, &counters);

	while (!ex_stop) {
		int t, r;

		r = xm_stack_poll(st);
		if (r < 0 && r != -EAGAIN && r != -EINTR) {
			fprintf(stderr, "xdpmux-echo: stack poll: %s\n", strerror(-r));
			rc = 1;
			break;
		}
		for (i = 0; i < n_ports; i++)
			serve(&ports[i], buf, sizeof(buf));
		if (tcp)
			tcp_echo_serve(tcp);
		ex_report_if_asked();
		if (spin || r > 0)
			continue;
		r = xm_stack_spin(st, o.spin_us);
		if (r > 0)
			continue;
		t = xm_stack_timeout_ms(st);
		if (t < 0 || t > 100)
			t = 100; /* notice signals promptly */
		if (epoll_wait(epfd, &ev, 1, t) < 0 && errno != EINTR) {
			fprintf(stderr, "xdpmux-echo: epoll_wait: %s\n", strerror(errno));
			rc = 1;
			break;
		}
	}

	ex_report();
	if (tcp) {
		if (tcp_echo_close(tcp) < 0) {
			fprintf(stderr, "xdpmux-echo: close tcp listeners: %s\n",
				strerror(errno));
			rc = 1;
		}
	}
	for (i = 0; i < n_ports; i++)
		if (xm_close(ports[i].fd) < 0) {
			fprintf(stderr, "xdpmux-echo: close udp/%u: %s\n",
				ports[i].port, strerror(errno));
			rc = 1;
		}
	/* Let the last replies leave before counting frames. */
	for (i = 0; i < 10; i++)
		xm_stack_poll(st);
	if (ex_frames_check("xdpmux-echo", st))
		rc = 1;
	xm_stack_close(st);
	if (epfd >= 0)
		close(epfd);
	return rc;
}
