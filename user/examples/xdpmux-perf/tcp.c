// SPDX-License-Identifier: MIT
/*
 * TCP side of xdpmux-perf (see main.c for the command line).
 *
 * Server: accept connections on PORT; with --echo send back what arrives
 * (otherwise the data is counted and discarded); each connection ends when
 * the peer half-closes: the server closes its side after the echo, so both
 * directions half-close. --once: exit after one.
 *
 * Client: connect, send N pseudo-random bytes, shut down the write side,
 * and read until EOF; --echo checks that what comes back is byte-identical
 * to what was sent. --idle sends nothing and waits for the connection to
 * end (keepalive timeout, reset by peer).
 */
#define _GNU_SOURCE
#include <errno.h>
#include <inttypes.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../common/example.h"
#include "perf.h"
#include "stream.h"

#define MAX_CONNS 64
#define BUF 65536

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
				perf_fail_errno("send", errno);
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
			perf_fail_errno("recv", errno);
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

int tcp_server(const struct opts *o)
{
	static struct conn *conns[MAX_CONNS];
	struct pollfd pf[MAX_CONNS + 1];
	struct linger lg = { .l_onoff = 1, .l_linger = 60 };
	int l, n = 0, served = 0, rc = 0;

	l = ex_tcp_listen(o->port, 128);
	if (l < 0) {
		perf_fail_errno("listen", errno);
		return 1;
	}
	printf("xdpmux-perf: listening on tcp/%u\n", o->port);
	fflush(stdout);
	while (!ex_stop) {
		int i, fd;

		pf[0].fd = l;
		pf[0].events = POLLIN;
		for (i = 0; i < n; i++) {
			pf[i + 1].fd = conns[i]->fd;
			pf[i + 1].events = POLLIN | (conns[i]->pend_len ? POLLOUT : 0);
		}
		if (xm_poll(pf, (nfds_t)n + 1, 100) < 0 && errno != EINTR) {
			perf_fail_errno("poll", errno);
			rc = 1;
			break;
		}
		ex_report_if_asked();
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
			conns[n]->t0 = perf_now_s();
			n++;
		}
		for (i = 0; i < n; i++) {
			struct conn *c = conns[i];

			if (serve(o, c))
				continue;
			report(o, "server", c->tx, c->rx, perf_now_s() - c->t0, c->eof ? "ok" : "error");
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

int tcp_client(const struct opts *o)
{
	static uint8_t buf[BUF], want[BUF], out[BUF];
	struct sockaddr_storage ss;
	uint64_t tx = 0, rx = 0, bad = UINT64_MAX;
	uint64_t out_off = 0;   /* out holds the stream's [out_off, out_end) */
	uint64_t out_end = 0;
	bool wr_done = false;
	socklen_t sl;
	double t0;
	int fd, fam, one = 1, rc = 0;

	fam = perf_sockaddr(o->addr, o->port, &ss, &sl);
	if (fam < 0) {
		fprintf(stderr, "xdpmux-perf: bad address '%s'\n", o->addr);
		return 2;
	}
	fd = xm_socket(fam, SOCK_STREAM, 0);
	if (fd < 0) {
		perf_fail_errno("socket", errno);
		return 1;
	}
	if (o->cc && xm_setsockopt(fd, IPPROTO_TCP, TCP_CONGESTION, o->cc, strlen(o->cc)) < 0) {
		perf_fail_errno("TCP_CONGESTION", errno);
		return 1;
	}
	if (o->ka_cnt &&
	    (xm_setsockopt(fd, SOL_SOCKET, SO_KEEPALIVE, &one, sizeof(one)) < 0 ||
	     xm_setsockopt(fd, IPPROTO_TCP, TCP_KEEPIDLE, &o->ka_idle, sizeof(int)) < 0 ||
	     xm_setsockopt(fd, IPPROTO_TCP, TCP_KEEPINTVL, &o->ka_intvl, sizeof(int)) < 0 ||
	     xm_setsockopt(fd, IPPROTO_TCP, TCP_KEEPCNT, &o->ka_cnt, sizeof(int)) < 0)) {
		perf_fail_errno("keepalive options", errno);
		return 1;
	}
	t0 = perf_now_s();
	if (xm_connect(fd, (struct sockaddr *)&ss, sl) < 0) {
		perf_fail_errno("connect", errno);
		xm_close(fd);
		return 1;
	}
	printf("xdpmux-perf: connected to %s port %u\n", o->addr, o->port);
	fflush(stdout);
	if (o->idle)
		wr_done = true;
	while (!ex_stop) {
		struct pollfd pf = { .fd = fd, .events = POLLIN | (wr_done ? 0 : POLLOUT) };
		ssize_t n;

		if (xm_poll(&pf, 1, 100) < 0 && errno != EINTR) {
			perf_fail_errno("poll", errno);
			rc = 1;
			break;
		}
		ex_report_if_asked();
		while (!wr_done) {
			/* Each byte is made once: a send that takes part of
			 * out leaves the rest for the next one. */
			if (tx == out_end) {
				out_off = tx;
				out_end = tx + (o->bytes - tx < BUF ? o->bytes - tx : BUF);
				perf_stream_fill(out, out_off, (size_t)(out_end - out_off));
			}
			n = out_end > tx ? xm_send(fd, out + (tx - out_off),
						   (size_t)(out_end - tx), MSG_DONTWAIT) : 0;
			if (n < 0) {
				if (errno == EAGAIN)
					break;
				perf_fail_errno("send", errno);
				rc = 1;
				goto done;
			}
			tx += (uint64_t)n;
			if (tx == o->bytes) {
				if (xm_shutdown(fd, SHUT_WR) < 0) {
					perf_fail_errno("shutdown", errno);
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
				perf_fail_errno("recv", errno);
				rc = 1;
				goto done;
			}
			if (n == 0)
				goto done;
			if (o->echo && bad == UINT64_MAX) {
				perf_stream_fill(want, rx, (size_t)n);
				for (ssize_t i = 0; i < n && bad == UINT64_MAX; i++)
					if (buf[i] != want[i])
						bad = rx + (uint64_t)i;
			}
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
	report(o, "client", tx, rx, perf_now_s() - t0, rc ? "error" : "ok");
	xm_close(fd);
	return rc;
}
