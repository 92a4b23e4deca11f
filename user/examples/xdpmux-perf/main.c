// SPDX-License-Identifier: MIT
/*
 * xdpmux-perf: TCP and UDP clients and servers over libxdpmux, for
 * throughput and latency measurements and for the selftests against kernel
 * peers.
 *
 *   xdpmux-perf DEV server PORT [--echo] [--once] [--json]
 *   xdpmux-perf DEV client ADDR PORT [--bytes N] [--echo] [--idle]
 *                 [--keepalive IDLE,INTVL,CNT] [--cc NAME] [--json]
 *       TCP (tcp.c): the client sends N pseudo-random bytes (default 10 MB)
 *       and reads until EOF; the server counts, or with --echo echoes.
 *
 *   xdpmux-perf DEV server PORT --udp [--once] [--json]
 *   xdpmux-perf DEV client ADDR PORT --udp [--latency] [--size N]
 *                 [--count N] [--time SEC] [--rate PPS] [--json]
 *       UDP (udp.c): the client streams datagrams of N bytes and reports
 *       what the server counted (loss), or with --latency plays ping-pong
 *       and reports requests/s and round-trip percentiles.
 *
 * Errors print "xdpmux-perf: WHAT: EERRNO (text)" so tests can match the
 * errno name. Exit status: 0 ok, 1 failure (or a leaked frame), 2 usage.
 * At exit the frame accounting line says "none leaked" or "LEAKED".
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <getopt.h>
#include <limits.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "../common/example.h"
#include "perf.h"

/* The smallest UDP payload: the header of udp.c's protocol. */
#define UDP_MIN_SIZE 20

static void usage(FILE *f)
{
	fprintf(f,
		"usage: xdpmux-perf DEV server PORT [--echo] [--once] [--json]\n"
		"       xdpmux-perf DEV client ADDR PORT [--bytes N] [--echo] [--idle]\n"
		"                   [--keepalive IDLE,INTVL,CNT] [--cc NAME] [--json]\n"
		"       xdpmux-perf DEV server PORT --udp [--once] [--json]\n"
		"       xdpmux-perf DEV client ADDR PORT --udp [--latency] [--size N]\n"
		"                   [--count N] [--time SEC] [--rate PPS] [--json]\n"
		"UDP: the client streams datagrams of --size bytes (default 64, at least\n"
		"%d) for --count datagrams or --time seconds (default 5 s), paced at\n"
		"--rate datagrams/s (default: as fast as it can), and reports what the\n"
		"server counted; --latency: one datagram at a time, echoed, for\n"
		"requests/s and round-trip percentiles (any UDP echo server will do).\n"
		"The UDP server counts streams and echoes everything else.\n",
		UDP_MIN_SIZE);
}

void perf_fail_errno(const char *what, int e)
{
	const char *name = strerrorname_np(e);

	fprintf(stderr, "xdpmux-perf: %s: %s (%s)\n", what, name ? name : "?",
		ex_strerror(e));
}

double perf_now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

int perf_sockaddr(const char *addr, uint16_t port, struct sockaddr_storage *ss,
		  socklen_t *len)
{
	struct sockaddr_in *a4 = (struct sockaddr_in *)ss;
	struct sockaddr_in6 *a6 = (struct sockaddr_in6 *)ss;

	memset(ss, 0, sizeof(*ss));
	if (inet_pton(AF_INET, addr, &a4->sin_addr) == 1) {
		a4->sin_family = AF_INET;
		a4->sin_port = htons(port);
		*len = sizeof(*a4);
		return AF_INET;
	}
	if (inet_pton(AF_INET6, addr, &a6->sin6_addr) == 1) {
		a6->sin6_family = AF_INET6;
		a6->sin6_port = htons(port);
		*len = sizeof(*a6);
		return AF_INET6;
	}
	return -1;
}

/* A whole number in [min, max] for OPT: 0, else prints why and -1. */
static int parse_num(const char *opt, const char *arg, unsigned long min,
		     unsigned long max, unsigned long *out)
{
	if (!ex_parse_uint(arg, min, max, out))
		return 0;
	fprintf(stderr, "xdpmux-perf: bad %s '%s': want %lu-%lu\n", opt, arg, min, max);
	return -1;
}

/* Options that only one protocol (or only the client) takes: a usage
 * error elsewhere. */
static int check_proto_opts(const struct opts *o, bool tcp_opts, bool udp_opts)
{
	const char *msg = NULL;

	if (o->udp && tcp_opts)
		msg = "--bytes, --echo, --idle, --keepalive and --cc are TCP options "
		      "(the UDP server always echoes)";
	else if (!o->udp && udp_opts)
		msg = "--latency, --size, --count, --time and --rate need --udp";
	else if (o->server && udp_opts)
		msg = "--latency, --size, --count, --time and --rate are client options";
	if (msg)
		fprintf(stderr, "xdpmux-perf: %s\n", msg);
	return msg ? -1 : 0;
}

int main(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "echo", no_argument, NULL, 'e' },
		{ "once", no_argument, NULL, 'o' },
		{ "json", no_argument, NULL, 'j' },
		{ "idle", no_argument, NULL, 'i' },
		{ "bytes", required_argument, NULL, 'b' },
		{ "keepalive", required_argument, NULL, 'k' },
		{ "cc", required_argument, NULL, 'c' },
		{ "udp", no_argument, NULL, 'u' },
		{ "latency", no_argument, NULL, 'L' },
		{ "size", required_argument, NULL, 's' },
		{ "count", required_argument, NULL, 'n' },
		{ "time", required_argument, NULL, 't' },
		{ "rate", required_argument, NULL, 'r' },
		{ "help", no_argument, NULL, 'h' },
		{ 0 }
	};
	struct opts o = { .bytes = 10u << 20, .size = 64 };
	struct xm_stack_opts so = XM_STACK_OPTS_INIT;
	bool tcp_opts = false, udp_opts = false;
	unsigned long v;
	struct xm_stack *st;
	int c, rc, nargs;
	char *end;

	while ((c = getopt_long(argc, argv, "hj", longopts, NULL)) != -1) {
		switch (c) {
		case 'e': o.echo = true; tcp_opts = true; break;
		case 'o': o.once = true; break;
		case 'j': o.json = true; break;
		case 'i': o.idle = true; tcp_opts = true; break;
		case 'c': o.cc = optarg; tcp_opts = true; break;
		case 'u': o.udp = true; break;
		case 'L': o.latency = true; udp_opts = true; break;
		case 'b':
			o.bytes = strtoull(optarg, &end, 10);
			if (*end) {
				fprintf(stderr, "xdpmux-perf: bad --bytes '%s'\n", optarg);
				return 2;
			}
			tcp_opts = true;
			break;
		case 'k':
			if (sscanf(optarg, "%d,%d,%d", &o.ka_idle, &o.ka_intvl, &o.ka_cnt) != 3 ||
			    o.ka_idle < 1 || o.ka_intvl < 1 || o.ka_cnt < 1) {
				fprintf(stderr, "xdpmux-perf: bad --keepalive '%s': want IDLE,INTVL,CNT\n",
					optarg);
				return 2;
			}
			tcp_opts = true;
			break;
		case 's':
			if (parse_num("--size", optarg, UDP_MIN_SIZE, 65527, &v))
				return 2;
			o.size = (uint32_t)v;
			udp_opts = true;
			break;
		case 'n':
			if (parse_num("--count", optarg, 1, ULONG_MAX, &v))
				return 2;
			o.count = v;
			udp_opts = true;
			break;
		case 't':
			o.secs = strtod(optarg, &end);
			if (*end || end == optarg || !(o.secs > 0)) {
				fprintf(stderr, "xdpmux-perf: bad --time '%s': want seconds > 0\n",
					optarg);
				return 2;
			}
			udp_opts = true;
			break;
		case 'r':
			if (parse_num("--rate", optarg, 1, ULONG_MAX, &v))
				return 2;
			o.rate = v;
			udp_opts = true;
			break;
		case 'h':
			usage(stdout);
			return 0;
		default:
			usage(stderr);
			return 2;
		}
	}
	nargs = argc - optind;
	if (nargs < 2) {
		usage(stderr);
		return 2;
	}
	o.dev = argv[optind];
	if (!strcmp(argv[optind + 1], "server") && nargs == 3) {
		o.server = true;
	} else if (!strcmp(argv[optind + 1], "client") && nargs == 4) {
		o.addr = argv[optind + 2];
	} else {
		usage(stderr);
		return 2;
	}
	if (ex_parse_port(argv[optind + nargs - 1], &o.port)) {
		fprintf(stderr, "xdpmux-perf: bad port: want 1-65535\n");
		return 2;
	}
	if (check_proto_opts(&o, tcp_opts, udp_opts))
		return 2;
	if (o.udp && !o.server && !o.count && !o.secs)
		o.secs = 5;
	ex_signals();
	if (ex_stack_open("xdpmux-perf", o.dev, &so, &st))
		return 1;
	ex_report_init("xdpmux-perf", o.dev, st, NULL, NULL);
	if (o.udp)
		rc = o.server ? udp_server(&o, st) : udp_client(&o, st);
	else
		rc = o.server ? tcp_server(&o) : tcp_client(&o);
	/* Closed connections finish their FIN exchange (a short while). */
	for (int i = 0; i < 50; i++) {
		struct pollfd none = { .fd = -1 };

		xm_stack_poll(st);
		poll(&none, 0, 10);
	}
	if (o.udp)
		ex_report();
	if (ex_frames_check("xdpmux-perf", st))
		rc = 1;
	xm_stack_close(st);
	return rc;
}
