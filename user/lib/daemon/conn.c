// SPDX-License-Identifier: MIT
/*
 * The program's side of the daemon protocol: connect, HELLO and the
 * sockets it hands over, then one synchronous request at a time (binds are
 * rare next to packets; a round trip to the daemon is a few microseconds).
 */
#define _GNU_SOURCE
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <xdpmux/maps.h>
#include <xdpmux/xdpmux.h>

#include "conn.h"
#include "msg.h"

static __thread char detail[XMD_ERRMSG + 64];

const char *xm_error_detail(void)
{
	return detail[0] ? detail : NULL;
}

void xm_error_detail_set(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(detail, sizeof(detail), fmt, ap);
	va_end(ap);
}

static int sock_connect(const char *dev)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	char path[sizeof(sa.sun_path)];
	int fd, err;

	err = xmd_sock_path(dev, path, sizeof(path));
	if (err)
		return err;
	memcpy(sa.sun_path, path, strlen(path) + 1);
	fd = socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -errno;
	if (connect(fd, (struct sockaddr *)&sa, sizeof(sa))) {
		err = errno;
		close(fd);
		/* No socket, or a dead daemon's: nobody serves the device. */
		return err == ENOENT || err == ECONNREFUSED ? -ENOENT : -err;
	}
	return fd;
}

/* One request, its reply (same op) into reply. */
static int roundtrip(int sock, const void *req, size_t len, void *reply, size_t cap)
{
	int err = xmd_send(sock, req, len, NULL, 0);
	ssize_t n;

	if (err)
		return err == -EPIPE || err == -ECONNRESET ? -ENETDOWN : err;
	n = xmd_recv(sock, reply, cap, NULL, NULL);
	if (n == 0 || n == -ECONNRESET)
		return -ENETDOWN;
	if (n < 0)
		return (int)n;
	if ((size_t)n < cap || ((const struct xmd_hdr *)reply)->op !=
			       ((const struct xmd_hdr *)req)->op)
		return -EPROTO;
	return 0;
}

void xmd_conn_close(struct xmd_conn *c)
{
	if (!c)
		return;
	for (uint32_t i = 0; c->queues && i < c->hello.n_queues; i++) {
		struct xmd_conn_queue *q = &c->queues[i];

		if (q->xsk_fd >= 0)
			close(q->xsk_fd);
		if (q->umem_fd >= 0)
			close(q->umem_fd);
		if (q->chan_fd >= 0)
			close(q->chan_fd);
	}
	if (c->doorbell >= 0)
		close(c->doorbell);
	if (c->sock >= 0)
		close(c->sock);
	free(c->queues);
	free(c);
}

int xmd_conn_open(const char *dev, struct xmd_conn **out)
{
	struct xmd_hello m = { .h = { XMD_HELLO, 0 }, .version = XMD_PROTO_VERSION };
	struct xmd_conn *c;
	ssize_t n;
	int err;

	detail[0] = 0;
	c = calloc(1, sizeof(*c));
	if (!c)
		return -ENOMEM;
	c->doorbell = -1;
	c->sock = sock_connect(dev);
	if (c->sock < 0) {
		err = c->sock;
		free(c);
		return err;
	}
	prctl(PR_GET_NAME, m.comm);
	err = roundtrip(c->sock, &m, sizeof(m), &c->hello, sizeof(c->hello));
	if (!err && c->hello.h.err) {
		err = c->hello.h.err;
		xm_error_detail_set("xdpmuxd %s: %s", dev, c->hello.msg);
	}
	if (!err && (!c->hello.n_queues || c->hello.n_queues > 64))
		err = -EPROTO;
	if (!err) {
		c->queues = calloc(c->hello.n_queues, sizeof(*c->queues));
		if (!c->queues)
			err = -ENOMEM;
	}
	for (uint32_t i = 0; !err && c->queues && i < c->hello.n_queues; i++)
		c->queues[i].xsk_fd = c->queues[i].umem_fd = c->queues[i].chan_fd = -1;
	for (uint32_t i = 0; !err && i < c->hello.n_queues; i++) {
		struct xmd_conn_queue *q = &c->queues[i];
		int fds[XMD_MAX_FDS], nfds = 0;

		n = xmd_recv(c->sock, &q->q, sizeof(q->q), fds, &nfds);
		if (n != (ssize_t)sizeof(q->q) || q->q.h.op != XMD_QUEUE || nfds != 4) {
			for (int k = 0; k < nfds; k++)
				close(fds[k]);
			err = n == 0 ? -ENETDOWN : -EPROTO;
			break;
		}
		q->xsk_fd = fds[0];
		q->umem_fd = fds[1];
		q->chan_fd = fds[2];
		if (c->doorbell < 0)
			c->doorbell = fds[3];
		else
			close(fds[3]);
	}
	if (err) {
		xmd_conn_close(c);
		return err;
	}
	*out = c;
	return 0;
}

int xmd_conn_activate(struct xmd_conn *c)
{
	struct xmd_hdr r = { XMD_MAPPED, 0 };
	int err = roundtrip(c->sock, &r, sizeof(r), &r, sizeof(r));

	return err ? err : r.err;
}

int xmd_conn_bind(struct xmd_conn *c, int proto, uint16_t port, bool bind)
{
	struct xmd_bind r = { .h = { bind ? XMD_BIND : XMD_UNBIND, 0 },
			      .proto = (uint8_t)proto, .port = port,
			      .fallback = XM_FALLBACK_PASS };
	int err;

	detail[0] = 0;
	if (c->dead)
		return -ENETDOWN;
	err = roundtrip(c->sock, &r, sizeof(r), &r, sizeof(r));
	if (err == -ENETDOWN)
		c->dead = true;
	if (err)
		return err;
	if (r.h.err && r.msg[0])
		xm_error_detail_set("xdpmuxd: %s", r.msg);
	return r.h.err;
}

int xmd_conn_neigh_use(struct xmd_conn *c, int family, const void *addr)
{
	struct xmd_neigh r = { .h = { XMD_NEIGH_USE, 0 }, .family = (uint32_t)family };
	int err;

	if (c->dead)
		return -ENETDOWN;
	memcpy(r.addr, addr, family == AF_INET ? 4 : 16);
	err = roundtrip(c->sock, &r, sizeof(r), &r, sizeof(r));
	if (err == -ENETDOWN)
		c->dead = true;
	return err ? err : r.h.err;
}

int xmd_status_query(const char *dev, struct xmd_status_reply *out)
{
	struct xmd_hdr req = { XMD_STATUS, 0 };
	int sock = sock_connect(dev), err;

	if (sock < 0)
		return sock;
	err = roundtrip(sock, &req, sizeof(req), out, sizeof(*out));
	close(sock);
	return err;
}
