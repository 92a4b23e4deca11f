// SPDX-License-Identifier: MIT
/*
 * xdpmux-httpd: a small HTTP/1.1 static file server on the xdpmux stack.
 *
 *   xdpmux-httpd DEV --port PORT --root DIR [--max-conns N]
 *                [--idle-timeout SEC] [--file-cache-ms MS] [--busy-poll]
 *                [--mode auto|zerocopy|copy]
 *
 * GET and HEAD of regular files under DIR (a directory serves its
 * index.html), persistent connections and pipelining, Content-Length on
 * every response; 400, 404, 405, 414, 431, 501, 505 as RFC 9110/9112 say.
 * Paths never leave DIR: ".." is resolved lexically (above the root is a
 * 400) and files are opened with openat2(RESOLVE_BENEATH), so a symlink
 * pointing out of DIR is a 404. A file served is kept open for MS
 * milliseconds (default 1000, 0: never) for the next requests of its path,
 * as nginx's open_file_cache (filecache.h).
 *
 * One thread, one xdpmux stack, every connection non-blocking under
 * xm_poll. One IPv6 wildcard listener, which (dual-stack, as on Linux) also
 * accepts IPv4. SIGUSR1 prints its counters and the stack's. On
 * SIGINT/SIGTERM it prints them, closes every
 * socket (removing its binding) and checks the link's frame accounting:
 * exit 0 when clean, 1 on failure or a leaked frame, 2 on usage errors.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <inttypes.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <xdpmux/xdpmux.h>

#include "../common/example.h"
#include "conn.h"

static void usage(FILE *f)
{
	fprintf(f,
		"usage: xdpmux-httpd DEV --port PORT --root DIR [--max-conns N]\n"
		"                    [--idle-timeout SEC] [--file-cache-ms MS] [--busy-poll]\n"
		"                    [--mode auto|zerocopy|copy]\n"
		"Serves the files under DIR over HTTP/1.1 (GET, HEAD) on tcp/PORT\n"
		"through the xdpmux stack on DEV (attach it first: xdpmux attach DEV).\n"
		"  --max-conns     connections served at once (default 1024); more\n"
		"                  wait in the listen backlog\n"
		"  --idle-timeout  close a connection idle this long (default 60 s)\n"
		"  --file-cache-ms keep a file served open this long for the next\n"
		"                  requests of its path (default 1000, 0: never)\n"
		"SIGUSR1 prints the counters; SIGINT/SIGTERM print them and exit.\n");
}

static uint64_t now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

static void print_stats(FILE *f, const void *arg)
{
	const struct srv_stats *s = arg;

	fprintf(f, "  connections accepted %" PRIu64 " closed %" PRIu64 " (idle %" PRIu64 ")\n"
	       "  requests %" PRIu64 " 2xx %" PRIu64 " 4xx %" PRIu64 " 5xx %" PRIu64
	       " bytes_sent %" PRIu64 " errors %" PRIu64 "\n",
	       s->accepted, s->closed, s->idle_closed, s->requests, s->status_2xx,
	       s->status_4xx, s->status_5xx, s->bytes_sent, s->errors);
}

int main(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "port", required_argument, NULL, 'p' },
		{ "root", required_argument, NULL, 'r' },
		{ "max-conns", required_argument, NULL, 'c' },
		{ "idle-timeout", required_argument, NULL, 'i' },
		{ "file-cache-ms", required_argument, NULL, 'f' },
		{ "busy-poll", no_argument, NULL, 'b' },
		{ "mode", required_argument, NULL, 'm' },
		{ "help", no_argument, NULL, 'h' },
		{ 0 }
	};
	struct xm_stack_opts o = XM_STACK_OPTS_INIT;
	struct srv srv = { .root_fd = -1 };
	unsigned long port = 0, max_conns = 1024, idle_s = 60, cache_ms = 1000;
	const char *dev, *root = NULL;
	struct conn **conns;
	struct pollfd *pf;
	struct xm_stack *st;
	struct stat sb;
	int c, lfd, n = 0, rc = 0;

	while ((c = getopt_long(argc, argv, "h", longopts, NULL)) != -1) {
		switch (c) {
		case 'p':
			if (ex_parse_uint(optarg, 1, 65535, &port)) {
				fprintf(stderr, "xdpmux-httpd: bad port '%s': want 1-65535\n", optarg);
				return 2;
			}
			break;
		case 'r':
			root = optarg;
			break;
		case 'c':
			if (ex_parse_uint(optarg, 1, 65536, &max_conns)) {
				fprintf(stderr, "xdpmux-httpd: bad --max-conns '%s': want 1-65536\n",
					optarg);
				return 2;
			}
			break;
		case 'i':
			if (ex_parse_uint(optarg, 1, 86400, &idle_s)) {
				fprintf(stderr, "xdpmux-httpd: bad --idle-timeout '%s': want 1-86400\n",
					optarg);
				return 2;
			}
			break;
		case 'f':
			if (ex_parse_uint(optarg, 0, 60000, &cache_ms)) {
				fprintf(stderr, "xdpmux-httpd: bad --file-cache-ms '%s': want 0-60000\n",
					optarg);
				return 2;
			}
			break;
		case 'b':
			o.busy_poll = true;
			break;
		case 'm':
			if (ex_parse_mode("xdpmux-httpd", optarg, &o))
				return 2;
			break;
		case 'h':
			usage(stdout);
			return 0;
		default:
			usage(stderr);
			return 2;
		}
	}
	if (optind != argc - 1 || !port || !root) {
		usage(stderr);
		return 2;
	}
	dev = argv[optind];
	srv.root_fd = open(root, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (srv.root_fd < 0 || fstat(srv.root_fd, &sb) < 0) {
		fprintf(stderr, "xdpmux-httpd: root %s: %s\n", root, strerror(errno));
		return 2;
	}
	fc_init(&srv.files, srv.root_fd, cache_ms);
	conns = calloc(max_conns, sizeof(*conns));
	pf = calloc(max_conns + 1, sizeof(*pf));
	if (!conns || !pf) {
		fprintf(stderr, "xdpmux-httpd: out of memory for %lu connections\n", max_conns);
		return 1;
	}

	ex_signals();
	if (ex_stack_open("xdpmux-httpd", dev, &o, &st))
		return 1;
	lfd = ex_tcp_listen((uint16_t)port, 511);
	if (lfd < 0) {
		fprintf(stderr, "xdpmux-httpd: listen tcp/%lu on %s: %s\n", port, dev,
			ex_strerror(errno));
		xm_stack_close(st);
		return 1;
	}
	printf("xdpmux-httpd: serving %s on tcp/%lu on %s\n", root, port, dev);
	fflush(stdout);
	ex_report_init("xdpmux-httpd", dev, st, print_stats, &srv.stats);

	while (!ex_stop) {
		uint64_t now;
		int i, fd;

		pf[0].fd = lfd;
		pf[0].events = (unsigned long)n < max_conns ? POLLIN : 0;
		for (i = 0; i < n; i++) {
			pf[i + 1].fd = conns[i]->fd;
			pf[i + 1].events = conn_events(conns[i]);
		}
		if (xm_poll(pf, (nfds_t)n + 1, 100) < 0 && errno != EINTR) {
			fprintf(stderr, "xdpmux-httpd: poll: %s\n", strerror(errno));
			rc = 1;
			break;
		}
		ex_report_if_asked();
		now = now_ms();
		for (i = 0; i < n; i++) {
			struct conn *k = conns[i];
			bool keep;

			if (pf[i + 1].revents)
				keep = conn_step(&srv, k, now);
			else if (k->closing)
				keep = now < k->linger_until_ms;
			else if (now - k->last_ms >= idle_s * 1000) {
				keep = false;
				srv.stats.idle_closed++;
			} else
				keep = true;
			if (keep)
				continue;
			conn_close(k);
			free(k);
			srv.stats.closed++;
			/* Keep pf in step with conns for the rest of this pass. */
			conns[i] = conns[--n];
			pf[i + 1] = pf[n + 1];
			i--;
		}
		while ((unsigned long)n < max_conns &&
		       (fd = xm_accept4(lfd, NULL, NULL, SOCK_NONBLOCK)) >= 0) {
			struct conn *k = malloc(sizeof(*k));

			if (!k) {
				xm_close(fd);
				break;
			}
			/* Responses go out in whole buffers (head and body
			 * together): Nagle could only delay the last one. */
			xm_setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &(int){ 1 }, sizeof(int));
			conn_init(k, fd, now);
			srv.stats.accepted++;
			/* Serve what already arrived with the handshake. */
			if (!conn_step(&srv, k, now)) {
				conn_close(k);
				free(k);
				srv.stats.closed++;
				continue;
			}
			conns[n++] = k;
		}
	}

	ex_report();
	for (int i = 0; i < n; i++) {
		conn_close(conns[i]);
		free(conns[i]);
	}
	if (xm_close(lfd) < 0) {
		fprintf(stderr, "xdpmux-httpd: close listener: %s\n", strerror(errno));
		rc = 1;
	}
	/* Let the last segments (FIN, RST) leave before counting frames. */
	for (int i = 0; i < 10; i++)
		xm_stack_poll(st);
	if (ex_frames_check("xdpmux-httpd", st))
		rc = 1;
	xm_stack_close(st);
	fc_flush(&srv.files);
	close(srv.root_fd);
	free(conns);
	free(pf);
	return rc;
}
