// SPDX-License-Identifier: MIT
/* Shared pieces of the example programs: see example.h. */
#define _GNU_SOURCE
#include <errno.h>
#include <inttypes.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "example.h"

volatile sig_atomic_t ex_stop, ex_dump;

static void on_signal(int sig)
{
	if (sig == SIGUSR1)
		ex_dump = 1;
	else
		ex_stop = 1;
}

void ex_signals(void)
{
	struct sigaction sa = { .sa_handler = on_signal };

	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGUSR1, &sa, NULL);
	signal(SIGPIPE, SIG_IGN);
}

/* One program, one report: set once by ex_report_init. */
static struct {
	const char *prog, *dev;
	const struct xm_stack *st;
	ex_own_print_fn *own;
	const void *arg;
} report;

void ex_report_init(const char *prog, const char *dev, const struct xm_stack *st,
		    ex_own_print_fn *own, const void *arg)
{
	report.prog = prog;
	report.dev = dev;
	report.st = st;
	report.own = own;
	report.arg = arg;
}

void ex_report(void)
{
	struct xm_stack_stats s;

	if (!report.st)
		return;
	printf("%s %s counters:\n", report.prog, report.dev);
	if (report.own)
		report.own(stdout, report.arg);
	if (xm_stack_stats(report.st, &s) == 0)
		xm_stack_stats_print(stdout, &s, "  stack.");
	fflush(stdout);
}

void ex_report_if_asked(void)
{
	if (!ex_dump)
		return;
	ex_dump = 0;
	ex_report();
}

int ex_parse_uint(const char *s, unsigned long min, unsigned long max,
		  unsigned long *out)
{
	char *end;
	unsigned long v;

	errno = 0;
	v = strtoul(s, &end, 10);
	if (errno || end == s || *end || v < min || v > max || *s == '-')
		return -1;
	*out = v;
	return 0;
}

int ex_parse_port(const char *s, uint16_t *out)
{
	unsigned long v;

	if (ex_parse_uint(s, 1, 65535, &v))
		return -1;
	*out = (uint16_t)v;
	return 0;
}

int ex_parse_mode(const char *prog, const char *arg, struct xm_stack_opts *o)
{
	if (!strcmp(arg, "auto"))
		o->zerocopy = 0;
	else if (!strcmp(arg, "zerocopy"))
		o->zerocopy = 1;
	else if (!strcmp(arg, "copy"))
		o->zerocopy = -1;
	else {
		fprintf(stderr, "%s: bad mode '%s': want auto, zerocopy or copy\n", prog, arg);
		return -1;
	}
	return 0;
}

/* The likely cause of a failed xm_stack_open and what to do about it. */
static const char *open_hint(int err)
{
	switch (err) {
	case -ENOENT:
		return " (attach it first: xdpmux attach DEV)";
	case -EBUSY:
		return " (another process has AF_XDP sockets on this device's rx "
		       "queues: one xdpmux stack per queue; stop it or use other "
		       "queues)";
	case -EADDRINUSE:
		return " (the kernel's ephemeral port range overlaps xdpmux's: "
		       "see net.ipv4.ip_local_port_range in the README)";
	case -EPERM:
	case -EACCES:
		return " (needs root or CAP_NET_ADMIN, CAP_NET_RAW and CAP_BPF; or a "
		       "device daemon serving the device: xdpmuxd DEV)";
	default:
		return "";
	}
}

const char *ex_strerror(int err)
{
	static char buf[320];
	const char *detail = xm_error_detail();

	if (!detail)
		return strerror(err);
	snprintf(buf, sizeof(buf), "%s (%s)", strerror(err), detail);
	return buf;
}

int ex_stack_open(const char *prog, const char *dev, const struct xm_stack_opts *o,
		  struct xm_stack **st)
{
	int err = xm_stack_open(dev, o, st);
	const char *notice;

	if (!err) {
		notice = xm_stack_notice(*st);
		if (notice)
			fprintf(stderr, "%s: warning: %s\n", prog, notice);
		return 0;
	}
	fprintf(stderr, "%s: open stack on %s: %s%s\n", prog, dev, ex_strerror(-err),
		xm_error_detail() ? "" : open_hint(err));
	return -1;
}

/* socket, options, bind: the fd, or -1 with errno and nothing left open. */
static int bound_socket(int type, uint16_t port)
{
	struct sockaddr_in6 sa = { .sin6_family = AF_INET6, .sin6_addr = IN6ADDR_ANY_INIT,
				   .sin6_port = htons(port) };
	int fd, one = 1, e;

	fd = xm_socket(AF_INET6, type | SOCK_NONBLOCK, 0);
	if (fd < 0)
		return -1;
	if ((type == SOCK_STREAM &&
	     xm_setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one)) < 0) ||
	    xm_bind(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0) {
		e = errno;
		xm_close(fd);
		errno = e;
		return -1;
	}
	return fd;
}

int ex_tcp_listen(uint16_t port, int backlog)
{
	int fd = bound_socket(SOCK_STREAM, port), e;

	if (fd >= 0 && xm_listen(fd, backlog) < 0) {
		e = errno;
		xm_close(fd);
		errno = e;
		return -1;
	}
	return fd;
}

int ex_udp_bind(uint16_t port)
{
	return bound_socket(SOCK_DGRAM, port);
}

int ex_frames_check(const char *prog, const struct xm_stack *st)
{
	uint64_t total = 0, accounted = 0;
	int err = xm_stack_frames(st, &total, &accounted);

	if (err) {
		fprintf(stderr, "%s: frame accounting: %s\n", prog, strerror(-err));
		return 1;
	}
	printf("  frames total %" PRIu64 " accounted %" PRIu64 ": %s\n", total, accounted,
	       total == accounted ? "none leaked" : "LEAKED");
	fflush(stdout);
	return total != accounted;
}
