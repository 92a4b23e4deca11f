// SPDX-License-Identifier: MIT
/*
 * xdpmux-perf: TCP client and server over libxdpmux, for throughput
 * measurements and for the TCP selftests against kernel peers.
 *
 *   xdpmux-perf DEV server PORT [--echo] [--once] [--json]
 *       accept connections on PORT; --echo sends back what arrives
 *       (otherwise the data is counted and discarded); each connection ends
 *       when the peer half-closes: the server closes its side after the
 *       echo, so both directions half-close. --once: exit after one.
 *   xdpmux-perf DEV client ADDR PORT [--bytes N] [--echo] [--idle]
 *                 [--keepalive IDLE,INTVL,CNT] [--cc NAME] [--json]
 *       connect, send N pseudo-random bytes (default 10 MB), shut down the
 *       write side, and read until EOF; --echo checks that what comes back
 *       is byte-identical to what was sent. --idle sends nothing and waits
 *       for the connection to end (keepalive timeout, reset by peer).
 *
 * Errors print "xdpmux-perf: WHAT: EERRNO (text)" so tests can match the
 * errno name. Exit status: 0 ok, 1 failure (or a leaked frame), 2 usage.
 * At exit the frame accounting line says "none leaked" or "LEAKED".
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <xdpmux/xdpmux.h>

#define MAX_CONNS 64
#define BUF 65536

static volatile sig_atomic_t stop;

static void on_signal(int sig)
{
	(void)sig;
	stop = 1;
}

struct opts {
	bool server, echo, once, json, idle;
	const char *dev, *addr, *cc;
	uint16_t port;
	uint64_t bytes;
	int ka_idle, ka_intvl, ka_cnt;
};

static void usage(FILE *f)
{
	fprintf(f,
		"usage: xdpmux-perf DEV server PORT [--echo] [--once] [--json]\n"
		"       xdpmux-perf DEV client ADDR PORT [--bytes N] [--echo] [--idle]\n"
		"                   [--keepalive IDLE,INTVL,CNT] [--cc NAME] [--json]\n");
}

static void fail_errno(const char *what, int e)
{
	const char *name = strerrorname_np(e);

	fprintf(stderr, "xdpmux-perf: %s: %s (%s)\n", what, name ? name : "?",
		strerror(e));
}

static double now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* The byte at offset i of the test stream. */
static uint8_t stream_byte(uint64_t i)
{
	uint64_t x = (i >> 3) * 0x9e3779b97f4a7c15ull;

	x ^= x >> 29;
	x *= 0xbf58476d1ce4e5b9ull;
	x ^= x >> 32;
	return (uint8_t)(x >> ((i & 7) * 8));
}

static int parse_sockaddr(const char *addr, uint16_t port,
			  struct sockaddr_storage *ss, socklen_t *len)
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

struct conn {
	int fd;
	uint64_t rx, tx;
	uint8_t pend[BUF];      /* echo bytes not yet sent */
	uint32_t pend_off, pend_len;
	bool eof;
	double t0;
};

static void report(const struct opts *o, const char *who, uint64_t tx, uint64_t rx,
		   double secs, const char *result)
{
	double mbit = secs > 0 ? (double)(tx > rx ? tx : rx) * 8 / secs / 1e6 : 0;

	if (o->json)
		printf("{\"mode\":\"%s\",\"proto\":\"tcp\",\"bytes_sent\":%" PRIu64
		       ",\"bytes_received\":%" PRIu64 ",\"seconds\":%.6f,"
		       "\"mbit_per_s\":%.3f,\"result\":\"%s\"}\n",
		       who, tx, rx, secs, mbit, result);
	else
		printf("%s: sent %" PRIu64 " received %" PRIu64 " bytes in %.3f s "
		       "(%.1f Mbit/s): %s\n", who, tx, rx, secs, mbit, result);
	fflush(stdout);
}

/* One step of a server connection; returns false when it is finished. */
static bool serve(const struct opts *o, struct conn *c)
{
	static uint8_t buf[BUF];
	ssize_t n;

	for (;;) {
		if (c->pend_len) {
			n = xm_send(c->fd, c->pend + c->pend_off, c->pend_len, MSG_DONTWAIT);
			if (n < 0) {
				if (errno == EAGAIN)
					return true;
				fail_errno("send", errno);
				return false;
			}
			c->tx += (uint64_t)n;
			c->pend_off += (uint32_t)n;
			c->pend_len -= (uint32_t)n;
			continue;
		}
		if (c->eof)
			return false;
		n = xm_recv(c->fd, o->echo ? c->pend : buf, BUF, MSG_DONTWAIT);
		if (n < 0) {
			if (errno == EAGAIN)
				return true;
			fail_errno("recv", errno);
			return false;
		}
		if (n == 0) {
			c->eof = true;
			continue;
		}
		c->rx += (uint64_t)n;
		if (o->echo) {
			c->pend_off = 0;
			c->pend_len = (uint32_t)n;
		}
	}
}

static int run_server(const struct opts *o, struct xm_stack *st)
{
	static struct conn *conns[MAX_CONNS];
	struct sockaddr_in6 any = { .sin6_family = AF_INET6, .sin6_port = htons(o->port) };
	struct pollfd pf[MAX_CONNS + 1];
	struct linger lg = { .l_onoff = 1, .l_linger = 60 };
	int l, n = 0, one = 1, served = 0, rc = 0;

	(void)st;
	l = xm_socket(AF_INET6, SOCK_STREAM | SOCK_NONBLOCK, 0);
	if (l < 0 || xm_setsockopt(l, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one)) < 0 ||
	    xm_bind(l, (struct sockaddr *)&any, sizeof(any)) < 0 || xm_listen(l, 128) < 0) {
		fail_errno("listen", errno);
		return 1;
	}
	printf("xdpmux-perf: listening on tcp/%u\n", o->port);
	fflush(stdout);
	while (!stop) {
		int i, fd;

		pf[0].fd = l;
		pf[0].events = POLLIN;
		for (i = 0; i < n; i++) {
			pf[i + 1].fd = conns[i]->fd;
			pf[i + 1].events = POLLIN | (conns[i]->pend_len ? POLLOUT : 0);
		}
		if (xm_poll(pf, (nfds_t)n + 1, 100) < 0 && errno != EINTR) {
			fail_errno("poll", errno);
			rc = 1;
			break;
		}
		while (n < MAX_CONNS && (fd = xm_accept4(l, NULL, NULL, SOCK_NONBLOCK)) >= 0) {
			conns[n] = calloc(1, sizeof(*conns[n]));
			if (!conns[n]) {
				xm_close(fd);
				break;
			}
			/* The process owns the stack: a close() must not leave
			 * echoed data unsent when we exit, so linger (close
			 * returns once the peer acknowledged everything). */
			xm_setsockopt(fd, SOL_SOCKET, SO_LINGER, &lg, sizeof(lg));
			conns[n]->fd = fd;
			conns[n]->t0 = now_s();
			n++;
		}
		for (i = 0; i < n; i++) {
			struct conn *c = conns[i];

			if (serve(o, c))
				continue;
			report(o, "server", c->tx, c->rx, now_s() - c->t0, c->eof ? "ok" : "error");
			if (!c->eof)
				rc = 1;
			xm_close(c->fd);
			free(c);
			conns[i--] = conns[--n];
			served++;
		}
		if (o->once && served)
			break;
	}
	for (int i = 0; i < n; i++) {
		xm_close(conns[i]->fd);
		free(conns[i]);
	}
	xm_close(l);
	return rc;
}

static int run_client(const struct opts *o, struct xm_stack *st)
{
	static uint8_t buf[BUF], out[BUF];
	struct sockaddr_storage ss;
	uint64_t tx = 0, rx = 0, bad = UINT64_MAX;
	bool wr_done = false;
	socklen_t sl;
	double t0;
	int fd, fam, one = 1, rc = 0;

	(void)st;
	fam = parse_sockaddr(o->addr, o->port, &ss, &sl);
	if (fam < 0) {
		fprintf(stderr, "xdpmux-perf: bad address '%s'\n", o->addr);
		return 2;
	}
	fd = xm_socket(fam, SOCK_STREAM, 0);
	if (fd < 0) {
		fail_errno("socket", errno);
		return 1;
	}
	if (o->cc && xm_setsockopt(fd, IPPROTO_TCP, TCP_CONGESTION, o->cc, strlen(o->cc)) < 0) {
		fail_errno("TCP_CONGESTION", errno);
		return 1;
	}
	if (o->ka_cnt &&
	    (xm_setsockopt(fd, SOL_SOCKET, SO_KEEPALIVE, &one, sizeof(one)) < 0 ||
	     xm_setsockopt(fd, IPPROTO_TCP, TCP_KEEPIDLE, &o->ka_idle, sizeof(int)) < 0 ||
	     xm_setsockopt(fd, IPPROTO_TCP, TCP_KEEPINTVL, &o->ka_intvl, sizeof(int)) < 0 ||
	     xm_setsockopt(fd, IPPROTO_TCP, TCP_KEEPCNT, &o->ka_cnt, sizeof(int)) < 0)) {
		fail_errno("keepalive options", errno);
		return 1;
	}
	t0 = now_s();
	if (xm_connect(fd, (struct sockaddr *)&ss, sl) < 0) {
		fail_errno("connect", errno);
		xm_close(fd);
		return 1;
	}
	printf("xdpmux-perf: connected to %s port %u\n", o->addr, o->port);
	fflush(stdout);
	if (o->idle)
		wr_done = true;
	while (!stop) {
		struct pollfd pf = { .fd = fd, .events = POLLIN | (wr_done ? 0 : POLLOUT) };
		ssize_t n;

		if (xm_poll(&pf, 1, 100) < 0 && errno != EINTR) {
			fail_errno("poll", errno);
			rc = 1;
			break;
		}
		while (!wr_done) {
			uint32_t len = o->bytes - tx < BUF ? (uint32_t)(o->bytes - tx) : BUF;

			for (uint32_t i = 0; i < len; i++)
				out[i] = stream_byte(tx + i);
			n = len ? xm_send(fd, out, len, MSG_DONTWAIT) : 0;
			if (n < 0) {
				if (errno == EAGAIN)
					break;
				fail_errno("send", errno);
				rc = 1;
				goto done;
			}
			tx += (uint64_t)n;
			if (tx == o->bytes) {
				if (xm_shutdown(fd, SHUT_WR) < 0) {
					fail_errno("shutdown", errno);
					rc = 1;
					goto done;
				}
				wr_done = true;
			}
		}
		for (;;) {
			n = xm_recv(fd, buf, sizeof(buf), MSG_DONTWAIT);
			if (n < 0) {
				if (errno == EAGAIN)
					break;
				fail_errno("recv", errno);
				rc = 1;
				goto done;
			}
			if (n == 0)
				goto done;
			if (o->echo)
				for (ssize_t i = 0; i < n && bad == UINT64_MAX; i++)
					if (buf[i] != stream_byte(rx + (uint64_t)i))
						bad = rx + (uint64_t)i;
			rx += (uint64_t)n;
		}
	}
done:
	if (o->echo && !rc) {
		if (bad != UINT64_MAX) {
			fprintf(stderr, "xdpmux-perf: echo differs at byte %" PRIu64 "\n", bad);
			rc = 1;
		} else if (rx != tx) {
			fprintf(stderr, "xdpmux-perf: echo: sent %" PRIu64 " got back %" PRIu64 "\n",
				tx, rx);
			rc = 1;
		}
	}
	report(o, "client", tx, rx, now_s() - t0, rc ? "error" : "ok");
	xm_close(fd);
	return rc;
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
		{ "help", no_argument, NULL, 'h' },
		{ 0 }
	};
	struct opts o = { .bytes = 10u << 20 };
	struct xm_stack_opts so = XM_STACK_OPTS_INIT;
	struct sigaction sa = { .sa_handler = on_signal };
	uint64_t total = 0, accounted = 0;
	struct xm_stack *st;
	int c, err, rc, nargs;
	char *end;

	while ((c = getopt_long(argc, argv, "hj", longopts, NULL)) != -1) {
		switch (c) {
		case 'e': o.echo = true; break;
		case 'o': o.once = true; break;
		case 'j': o.json = true; break;
		case 'i': o.idle = true; break;
		case 'c': o.cc = optarg; break;
		case 'b':
			o.bytes = strtoull(optarg, &end, 10);
			if (*end) {
				fprintf(stderr, "xdpmux-perf: bad --bytes '%s'\n", optarg);
				return 2;
			}
			break;
		case 'k':
			if (sscanf(optarg, "%d,%d,%d", &o.ka_idle, &o.ka_intvl, &o.ka_cnt) != 3 ||
			    o.ka_idle < 1 || o.ka_intvl < 1 || o.ka_cnt < 1) {
				fprintf(stderr, "xdpmux-perf: bad --keepalive '%s': want IDLE,INTVL,CNT\n",
					optarg);
				return 2;
			}
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
		o.port = (uint16_t)strtoul(argv[optind + 2], &end, 10);
	} else if (!strcmp(argv[optind + 1], "client") && nargs == 4) {
		o.addr = argv[optind + 2];
		o.port = (uint16_t)strtoul(argv[optind + 3], &end, 10);
	} else {
		usage(stderr);
		return 2;
	}
	if (*end || !o.port) {
		fprintf(stderr, "xdpmux-perf: bad port: want 1-65535\n");
		return 2;
	}
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	signal(SIGPIPE, SIG_IGN);
	err = xm_stack_open(o.dev, &so, &st);
	if (err) {
		fprintf(stderr, "xdpmux-perf: open stack on %s: %s%s\n", o.dev, strerror(-err),
			err == -ENOENT ? " (attach it first: xdpmux attach DEV)" : "");
		return 1;
	}
	rc = o.server ? run_server(&o, st) : run_client(&o, st);
	/* Closed connections finish their FIN exchange (a short while). */
	for (int i = 0; i < 50; i++) {
		struct pollfd none = { .fd = -1 };

		xm_stack_poll(st);
		poll(&none, 0, 10);
	}
	err = xm_stack_frames(st, &total, &accounted);
	if (err) {
		fprintf(stderr, "xdpmux-perf: frame accounting: %s\n", strerror(-err));
		rc = 1;
	} else {
		printf("  frames total %llu accounted %llu: %s\n", (unsigned long long)total,
		       (unsigned long long)accounted, total == accounted ? "none leaked" : "LEAKED");
		if (total != accounted)
			rc = 1;
	}
	fflush(stdout);
	xm_stack_close(st);
	return rc;
}
