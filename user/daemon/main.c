// SPDX-License-Identifier: MIT
/*
 * xdpmuxd DEV: the device daemon (see daemon.h). Foreground, one line on
 * stderr per event, clean exit on SIGTERM or SIGINT.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <getopt.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include "../lib/control/policy.h"
#include "../lib/daemon/msg.h"
#include "../lib/link/link.h"
#include "../lib/link/netlink.h"
#include "daemon.h"

#define FRAMES_DEFAULT 32768
/* While programs are connected, look at the rings at least this often even
 * when nobody rings: completions arrive without a wakeup, and programs ring
 * only once they are owed many frames. Soon again after a look that found
 * frames moving, less often once traffic stops. */
#define BUSY_SWEEP_MS 1
#define IDLE_SWEEP_MS 10

static const char *prog_name = "xdpmuxd";

void xmd_log(const struct xmd *d, const char *fmt, ...)
{
	va_list ap;

	fprintf(stderr, "%s %s: ", prog_name, d->dev);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
}

uint64_t xmd_now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

/* The policy's rules (one a line) as one log line: "a; b". */
static void policy_one_line(const char *rules, char *out, size_t len)
{
	size_t w = 0;

	for (const char *r = rules; *r && w + 3 < len; r++) {
		if (*r != '\n')
			out[w++] = *r;
		else if (r[1])
			out[w++] = ';', out[w++] = ' ';
	}
	out[w] = 0;
}

static void usage(FILE *f)
{
	fprintf(f,
		"usage: xdpmuxd DEV [--allow USER:PORTS]... [--allow @GROUP:PORTS]...\n"
		"               [--policy FILE] [--socket PATH] [--mode auto|native|generic]\n"
		"               [--frames N] [-v|--verbose]\n"
		"       xdpmuxd --help | --version\n"
		"Serves xdpmux to many programs on DEV: owns its AF_XDP UMEM and hands\n"
		"each program its sockets over " XMD_SOCK_DIR "/DEV.sock. Root may bind\n"
		"any port; --allow lets a user's or group's programs bind PORTS\n"
		"(e.g. 9000-9999,443), without capabilities.\n");
}

/* The socket's directory, and no stale socket of a dead daemon in the way;
 * -EADDRINUSE when a live daemon answers on it. */
static int listen_open(struct xmd *d)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	char dir[sizeof(d->sock_path)];
	char *slash;
	int fd;

	snprintf(dir, sizeof(dir), "%s", d->sock_path);
	slash = strrchr(dir, '/');
	if (slash && slash != dir) {
		*slash = 0;
		if (mkdir(dir, 0755) && errno != EEXIST)
			return -errno;
	}
	memcpy(sa.sun_path, d->sock_path, strlen(d->sock_path) + 1);
	fd = socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -errno;
	if (!connect(fd, (struct sockaddr *)&sa, sizeof(sa))) {
		close(fd);
		return -EADDRINUSE;
	}
	close(fd);
	unlink(d->sock_path);
	fd = socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	if (fd < 0)
		return -errno;
	/* Anyone may connect: the policy decides who is served. */
	if (bind(fd, (struct sockaddr *)&sa, sizeof(sa)) ||
	    chmod(d->sock_path, 0666) || listen(fd, 64)) {
		int err = -errno;

		close(fd);
		return err;
	}
	d->listen_fd = fd;
	return 0;
}

static int setup(struct xmd *d)
{
	struct xm_dev_status st;
	enum xm_attach_mode used;
	size_t removed = 0;
	int err;

	err = xm_ctl_status(d->dev, &st);
	if (err) {
		xmd_log(d, "status: %s", strerror(-err));
		return err;
	}
	if (!st.attached) {
		err = xm_ctl_attach(d->dev, d->mode, &used);
		if (err) {
			xmd_log(d, "attach xdpmux: %s", strerror(-err));
			return err;
		}
		d->attached_by_us = true;
		d->mode = used;
		xmd_log(d, "attached xdpmux (%s mode)", xm_mode_name(used));
	} else {
		d->mode = st.mode;
	}
	err = xm_ctl_open(d->dev, &d->ctl);
	if (err) {
		xmd_log(d, "open its maps: %s%s", strerror(-err), err == -EPROTO ?
			" (made by another version of xdpmux: detach and attach again)" : "");
		return err;
	}
	/* Bindings a previous daemon's programs left would steer their ports
	 * to sockets that are gone. */
	for (uint32_t s = 1; s < XM_MAX_OWNERS; s++) {
		size_t r = 0;

		xm_ctl_unbind_owner_slot(d->ctl, s, &r);
		removed += r;
	}
	if (removed)
		xmd_log(d, "removed %zu binding(s) a previous daemon's programs left", removed);
	err = xm_nl_open(&d->nl);
	if (err)
		return err;
	err = xm_link_dev_rx_queues(d->dev, &d->n_pools);
	if (err)
		return err;
	if (d->n_pools > XM_MAX_QUEUES)
		d->n_pools = XM_MAX_QUEUES;
	d->pools = calloc(d->n_pools, sizeof(*d->pools));
	if (!d->pools)
		return -ENOMEM;
	for (uint32_t i = 0; i < d->n_pools; i++) {
		d->pools[i].xsk_fd = d->pools[i].area_fd = -1;
		err = xmd_pool_open(d, &d->pools[i], i);
		if (err) {
			xmd_log(d, "queue %u: UMEM socket: %s%s", i, strerror(-err),
				err == -EBUSY ? " (a program has opened the device alone: "
				"stop it, then start the daemon first)" : "");
			return err;
		}
	}
	err = listen_open(d);
	if (err) {
		xmd_log(d, "socket %s: %s%s", d->sock_path, strerror(-err),
			err == -EADDRINUSE ? " (another xdpmuxd serves the device)" : "");
		return err;
	}
	return 0;
}

static void teardown(struct xmd *d)
{
	for (uint32_t s = 1; s < XM_MAX_OWNERS; s++)
		if (d->clients[s])
			xmd_client_drop(d, d->clients[s], "left at daemon exit");
	if (d->listen_fd >= 0) {
		close(d->listen_fd);
		unlink(d->sock_path);
	}
	for (uint32_t i = 0; d->pools && i < d->n_pools; i++)
		xmd_pool_close(&d->pools[i]);
	free(d->pools);
	xm_nl_close(d->nl);
	xm_ctl_close(d->ctl);
	if (d->attached_by_us) {
		int err = xm_ctl_detach(d->dev);

		if (err)
			xmd_log(d, "detach: %s", strerror(-err));
		else
			xmd_log(d, "detached xdpmux");
	}
	xm_policy_free(d->policy);
}

static void set_need_wakeup(struct xmd *d, uint32_t v)
{
	for (uint32_t s = 1; s < XM_MAX_OWNERS; s++) {
		struct xmd_client *c = d->clients[s];

		for (uint32_t pi = 0; c && c->ready && pi < d->n_pools; pi++)
			__atomic_store_n(&c->q[pi].hdr->need_wakeup, v, __ATOMIC_SEQ_CST);
	}
}

static uint32_t service_all(struct xmd *d)
{
	uint32_t moved = 0;

	for (uint32_t pi = 0; pi < d->n_pools; pi++)
		moved += xmd_pool_service(d, pi);
	return moved;
}

static int run(struct xmd *d)
{
	struct epoll_event evs[64];
	bool stop = false;
	uint32_t moved = 0;

	while (!stop) {
		int n, timeout = !d->n_clients ? -1 : moved ? BUSY_SWEEP_MS : IDLE_SWEEP_MS;

		/* Say we sleep, then look once more: a program that gave us work
		 * before it saw the flag is served now, one after rings. */
		set_need_wakeup(d, 1);
		moved = service_all(d);
		n = epoll_wait(d->epfd, evs, 64, timeout);
		set_need_wakeup(d, 0);
		if (n < 0 && errno != EINTR) {
			xmd_log(d, "epoll_wait: %s", strerror(errno));
			return -errno;
		}
		for (int i = 0; i < n; i++) {
			uint64_t v = evs[i].data.u64;
			uint32_t what = (uint32_t)(v & 0xff), slot = (uint32_t)(v >> 8);

			switch (what) {
			case XMD_EV_LISTEN:
				while (xmd_client_accept(d) == 0)
					;
				break;
			case XMD_EV_SIGNAL: {
				struct signalfd_siginfo si;

				if (read(d->sigfd, &si, sizeof(si)) == sizeof(si)) {
					xmd_log(d, "%s: exiting", strsignal((int)si.ssi_signo));
					stop = true;
				}
				break;
			}
			default:
				xmd_client_event(d, slot, what, evs[i].events);
			}
		}
		moved += service_all(d);
	}
	return 0;
}

int main(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "allow", required_argument, NULL, 'a' },
		{ "policy", required_argument, NULL, 'p' },
		{ "socket", required_argument, NULL, 's' },
		{ "mode", required_argument, NULL, 'm' },
		{ "frames", required_argument, NULL, 'f' },
		{ "verbose", no_argument, NULL, 'v' },
		{ "help", no_argument, NULL, 'h' },
		{ "version", no_argument, NULL, 'V' },
		{ 0 },
	};
	struct xmd d = { .listen_fd = -1, .epfd = -1, .sigfd = -1, .frames = FRAMES_DEFAULT };
	struct epoll_event ev = { .events = EPOLLIN };
	char err_msg[256] = "";
	const char *sock_path = NULL;
	sigset_t mask;
	int c, err, rc;

	if (xm_policy_new(&d.policy)) {
		fprintf(stderr, "%s: out of memory\n", prog_name);
		return 1;
	}
	while ((c = getopt_long(argc, argv, "vh", opts, NULL)) != -1) {
		switch (c) {
		case 'a':
			if (xm_policy_add(d.policy, optarg, err_msg, sizeof(err_msg))) {
				fprintf(stderr, "%s: --allow %s: %s\n", prog_name, optarg, err_msg);
				rc = 2;
				goto out;
			}
			break;
		case 'p':
			if (xm_policy_load(d.policy, optarg, err_msg, sizeof(err_msg))) {
				fprintf(stderr, "%s: --policy: %s\n", prog_name, err_msg);
				rc = 1;
				goto out;
			}
			break;
		case 's':
			sock_path = optarg;
			break;
		case 'm':
			if (xm_mode_parse(optarg, &d.mode)) {
				fprintf(stderr, "%s: bad --mode '%s': want auto, native or generic\n",
					prog_name, optarg);
				rc = 2;
				goto out;
			}
			break;
		case 'f': {
			char *end;
			unsigned long v = strtoul(optarg, &end, 10);

			if (*end || v < 8192 || v > (1u << 20) || (v & (v - 1))) {
				fprintf(stderr, "%s: bad --frames '%s': a power of two, "
					"8192 to 1048576\n", prog_name, optarg);
				rc = 2;
				goto out;
			}
			d.frames = (uint32_t)v;
			break;
		}
		case 'v':
			d.verbose = true;
			break;
		case 'h':
			usage(stdout);
			rc = 0;
			goto out;
		case 'V':
			printf("xdpmuxd %s\n", XM_VERSION);
			rc = 0;
			goto out;
		default:
			usage(stderr);
			rc = 2;
			goto out;
		}
	}
	if (optind != argc - 1 || strlen(argv[optind]) >= sizeof(d.dev)) {
		usage(stderr);
		rc = 2;
		goto out;
	}
	snprintf(d.dev, sizeof(d.dev), "%s", argv[optind]);
	d.ifindex = (int)if_nametoindex(d.dev);
	if (!d.ifindex) {
		fprintf(stderr, "%s: %s: no such device\n", prog_name, d.dev);
		rc = 1;
		goto out;
	}
	if (sock_path) {
		if (strlen(sock_path) >= sizeof(d.sock_path)) {
			fprintf(stderr, "%s: --socket: path too long\n", prog_name);
			rc = 2;
			goto out;
		}
		snprintf(d.sock_path, sizeof(d.sock_path), "%s", sock_path);
	} else if (xmd_sock_path(d.dev, d.sock_path, sizeof(d.sock_path))) {
		fprintf(stderr, "%s: socket path too long\n", prog_name);
		rc = 2;
		goto out;
	}
	signal(SIGPIPE, SIG_IGN);
	sigemptyset(&mask);
	sigaddset(&mask, SIGTERM);
	sigaddset(&mask, SIGINT);
	sigprocmask(SIG_BLOCK, &mask, NULL);
	d.sigfd = signalfd(-1, &mask, SFD_CLOEXEC);
	d.epfd = epoll_create1(EPOLL_CLOEXEC);
	err = setup(&d);
	if (!err) {
		char rules[1024], line[1200];

		ev.data.u64 = XMD_EV_LISTEN;
		epoll_ctl(d.epfd, EPOLL_CTL_ADD, d.listen_fd, &ev);
		ev.data.u64 = XMD_EV_SIGNAL;
		epoll_ctl(d.epfd, EPOLL_CTL_ADD, d.sigfd, &ev);
		xm_policy_describe(d.policy, rules, sizeof(rules));
		policy_one_line(rules, line, sizeof(line));
		xmd_log(&d, "serving on %s: %u queue(s), %u frames each, %s%s; policy: %s",
			d.sock_path, d.n_pools, d.frames, d.zerocopy ? "zero-copy" : "copy mode",
			d.multibuf ? ", multi-buffer" : ", no multi-buffer (Linux before 6.6: "
			"a veth peer must turn TSO/GSO off, ethtool -K PEER tso off gso off)",
			line[0] ? line : "root only");
		err = run(&d);
	}
	teardown(&d);
	close(d.epfd);
	close(d.sigfd);
	return err ? 1 : 0;
out:
	/* Before serving: only the policy is held (a clean exit for --help,
	 * and no leak for the sanitizers to report). */
	xm_policy_free(d.policy);
	return rc;
}
