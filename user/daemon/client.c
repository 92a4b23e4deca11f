// SPDX-License-Identifier: MIT
/*
 * The daemon's programs: accept, identify (SO_PEERCRED, the policy), hand
 * each one an AF_XDP socket per queue on the shared UMEM and its channel,
 * and take everything back when it goes, however it goes (close, exit,
 * kill -9: the connection's EOF or its pidfd, whichever comes first).
 */
#define _GNU_SOURCE
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <unistd.h>
#include <linux/if_xdp.h>
#include <bpf/bpf.h>

#include "../lib/control/policy.h"
#include "../lib/daemon/msg.h"
#include "daemon.h"

#ifndef SOL_XDP
#define SOL_XDP 283
#endif

static uint64_t ev_data(enum xmd_ev what, uint32_t slot)
{
	return (uint64_t)what | (uint64_t)slot << 8;
}

static int pidfd_open(pid_t pid)
{
	return (int)syscall(SYS_pidfd_open, pid, 0);
}

static void read_comm(pid_t pid, char comm[16])
{
	char path[64];
	FILE *f;

	snprintf(path, sizeof(path), "/proc/%d/comm", (int)pid);
	f = fopen(path, "re");
	if (!f || !fgets(comm, 16, f))
		snprintf(comm, 16, "?");
	else
		comm[strcspn(comm, "\n")] = 0;
	if (f)
		fclose(f);
}

int xmd_client_accept(struct xmd *d)
{
	struct epoll_event ev = { .events = EPOLLIN };
	struct xmd_client *c;
	struct ucred cr;
	socklen_t crlen = sizeof(cr);
	uint32_t slot;
	int fd;

	fd = accept4(d->listen_fd, NULL, NULL, SOCK_CLOEXEC | SOCK_NONBLOCK);
	if (fd < 0)
		return -errno;
	if (getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cr, &crlen)) {
		close(fd);
		return -errno;
	}
	for (slot = 1; slot < XM_MAX_OWNERS && d->clients[slot]; slot++)
		;
	if (slot == XM_MAX_OWNERS) {
		struct xmd_hello_reply r = { .h = { XMD_HELLO, -EUSERS } };

		snprintf(r.msg, sizeof(r.msg), "the daemon serves %d programs already",
			 XM_MAX_OWNERS - 1);
		xmd_send(fd, &r, sizeof(r), NULL, 0);
		xmd_log(d, "refused pid %d: %s", (int)cr.pid, r.msg);
		close(fd);
		return 0;
	}
	c = calloc(1, sizeof(*c));
	if (!c) {
		close(fd);
		return -ENOMEM;
	}
	c->slot = slot;
	c->sock = fd;
	c->pid = cr.pid;
	c->uid = cr.uid;
	c->gid = cr.gid;
	c->pidfd = pidfd_open(cr.pid);
	c->doorbell = -1;
	read_comm(cr.pid, c->comm);
	d->clients[slot] = c;
	ev.data.u64 = ev_data(XMD_EV_CONN, slot);
	epoll_ctl(d->epfd, EPOLL_CTL_ADD, fd, &ev);
	if (c->pidfd >= 0) {
		ev.data.u64 = ev_data(XMD_EV_PIDFD, slot);
		epoll_ctl(d->epfd, EPOLL_CTL_ADD, c->pidfd, &ev);
	}
	return 0;
}

static void queue_release(struct xmd *d, struct xmd_client *c, uint32_t pi)
{
	struct xmd_client_q *q = &c->q[pi];
	uint32_t key = XM_XSK_KEY(c->slot, d->pools[pi].queue_id);

	if (q->in_map)
		bpf_map_delete_elem(xm_ctl_xsks_fd(d->ctl), &key);
	q->in_map = false;
	if (q->xsk_fd >= 0)
		close(q->xsk_fd);
	q->xsk_fd = -1;
	if (q->chan)
		xmd_pool_reclaim(d, pi, c);
	xm_xsk_ring_unmap(&q->rx_m);
	xm_xsk_ring_unmap(&q->tx_m);
	if (q->chan)
		munmap(q->chan, q->chan_size);
	q->chan = NULL;
	if (q->chan_fd >= 0)
		close(q->chan_fd);
	q->chan_fd = -1;
}

void xmd_client_drop(struct xmd *d, struct xmd_client *c, const char *why)
{
	uint64_t before = 0, after = 0, quar = 0;
	size_t unbound = 0;

	for (uint32_t pi = 0; pi < d->n_pools; pi++)
		before += d->pools[pi].reclaimed;
	/* Bindings first, so its ports fall back to the kernel (or drop) at
	 * once rather than to a socket about to go. */
	if (c->ready)
		xm_ctl_unbind_owner_slot(d->ctl, c->slot, &unbound);
	for (uint32_t pi = 0; c->q && pi < d->n_pools; pi++) {
		queue_release(d, c, pi);
		quar += d->pools[pi].count[XMD_F_QUAR];
	}
	for (uint32_t pi = 0; pi < d->n_pools; pi++)
		after += d->pools[pi].reclaimed;
	if (c->ready)
		xmd_log(d, "pid %d (%s, uid %u, slot %u) %s: %zu binding(s) removed, "
			"%" PRIu64 " frame(s) reclaimed, %" PRIu64 " awaiting the device",
			(int)c->pid, c->comm, (unsigned)c->uid, c->slot, why, unbound,
			after - before, quar);
	epoll_ctl(d->epfd, EPOLL_CTL_DEL, c->sock, NULL);
	close(c->sock);
	if (c->pidfd >= 0) {
		epoll_ctl(d->epfd, EPOLL_CTL_DEL, c->pidfd, NULL);
		close(c->pidfd);
	}
	if (c->doorbell >= 0) {
		epoll_ctl(d->epfd, EPOLL_CTL_DEL, c->doorbell, NULL);
		close(c->doorbell);
	}
	if (c->ready)
		d->n_clients--;
	d->clients[c->slot] = NULL;
	free(c->q);
	free(c);
	/* Its frames are free: post them where the others can use them. */
	for (uint32_t pi = 0; pi < d->n_pools; pi++)
		xmd_pool_service(d, pi);
}

/* One socket on pool pi for client c (not yet bound), its channel, and
 * our views of its rings. */
static int queue_setup(struct xmd *d, struct xmd_client *c, uint32_t pi)
{
	struct xmd_pool *p = &d->pools[pi];
	struct xmd_client_q *q = &c->q[pi];
	uint32_t rx = XMD_RX_RING, tx = XMD_TX_RING;
	int err;

	q->xsk_fd = socket(AF_XDP, SOCK_RAW | SOCK_CLOEXEC, 0);
	if (q->xsk_fd < 0)
		return -errno;
	if (setsockopt(q->xsk_fd, SOL_XDP, XDP_RX_RING, &rx, sizeof(rx)) ||
	    setsockopt(q->xsk_fd, SOL_XDP, XDP_TX_RING, &tx, sizeof(tx)))
		return -errno;
	err = xm_xsk_ring_map(q->xsk_fd, XM_XSK_RX, rx, NULL, &q->rx_view, &q->rx_m);
	if (!err)
		err = xm_xsk_ring_map(q->xsk_fd, XM_XSK_TX, tx, &q->tx_view, NULL, &q->tx_m);
	if (err)
		return err;
	q->chan_size = xmd_chan_size(XMD_TX_LOAN_MAX, p->frames, p->frames);
	q->chan_fd = memfd_create("xdpmux-chan", MFD_CLOEXEC);
	if (q->chan_fd < 0)
		return -errno;
	if (ftruncate(q->chan_fd, (off_t)q->chan_size))
		return -errno;
	q->chan = mmap(NULL, q->chan_size, PROT_READ | PROT_WRITE, MAP_SHARED,
		       q->chan_fd, 0);
	if (q->chan == MAP_FAILED) {
		q->chan = NULL;
		return -errno;
	}
	q->hdr = (struct xmd_chan_hdr *)q->chan;
	q->hdr->magic = XMD_MAGIC;
	q->hdr->frames = p->frames;
	q->hdr->give_size = XMD_TX_LOAN_MAX;
	q->hdr->tx_want = XMD_TX_LOAN;
	q->hdr->ret_size = p->frames;
	xmd_ring_prod_init(&q->give, q->chan + xmd_chan_give_off(), XMD_TX_LOAN_MAX);
	xmd_ring_cons_init(&q->ret, q->chan + xmd_chan_ret_off(XMD_TX_LOAN_MAX), p->frames);
	q->mark = q->chan + xmd_chan_mark_off(XMD_TX_LOAN_MAX, p->frames);
	return 0;
}

/* Bind client c's socket on pool pi to the shared UMEM and steer its owner
 * slot's packets on that queue to it: after the program mapped its rings. */
static int queue_activate(struct xmd *d, struct xmd_client *c, uint32_t pi)
{
	struct xmd_pool *p = &d->pools[pi];
	struct xmd_client_q *q = &c->q[pi];
	uint32_t key = XM_XSK_KEY(c->slot, p->queue_id);
	struct sockaddr_xdp sxdp = {
		.sxdp_family = AF_XDP,
		.sxdp_flags = XDP_SHARED_UMEM,
		.sxdp_ifindex = (uint32_t)d->ifindex,
		.sxdp_queue_id = p->queue_id,
		.sxdp_shared_umem_fd = (uint32_t)p->xsk_fd,
	};

	if (bind(q->xsk_fd, (struct sockaddr *)&sxdp, sizeof(sxdp)))
		return -errno;
	if (bpf_map_update_elem(xm_ctl_xsks_fd(d->ctl), &key, &q->xsk_fd, BPF_ANY))
		return -errno;
	q->in_map = true;
	return 0;
}

static int hello(struct xmd *d, struct xmd_client *c, const struct xmd_hello *m)
{
	struct xmd_hello_reply r = { .h = { XMD_HELLO, 0 } };
	uint32_t pi;
	int err = 0;

	r.version = XMD_PROTO_VERSION;
	if (m->version != XMD_PROTO_VERSION) {
		r.h.err = -EPROTO;
		snprintf(r.msg, sizeof(r.msg), "protocol version %u, the daemon speaks %u "
			 "(programs and daemon from different builds)",
			 m->version, XMD_PROTO_VERSION);
	} else if (!xm_policy_user_allowed(d->policy, c->uid, c->gid)) {
		r.h.err = -EACCES;
		snprintf(r.msg, sizeof(r.msg), "uid %u may not use xdpmux on %s "
			 "(no --allow rule names it or its groups)",
			 (unsigned)c->uid, d->dev);
	} else {
		for (pi = 0; pi < d->n_pools; pi++)
			if (!xmd_pool_has_room(d, &d->pools[pi]))
				break;
		if (pi < d->n_pools) {
			r.h.err = -ENOSPC;
			snprintf(r.msg, sizeof(r.msg), "no UMEM frames left for another "
				 "program (%u serve it; raise --frames)", d->n_clients);
		}
	}
	if (r.h.err) {
		xmd_log(d, "refused pid %d (%s, uid %u): %s", (int)c->pid, c->comm,
			(unsigned)c->uid, r.msg);
		xmd_send(c->sock, &r, sizeof(r), NULL, 0);
		return r.h.err;
	}
	memcpy(c->comm, m->comm, sizeof(c->comm));
	c->comm[sizeof(c->comm) - 1] = 0;
	c->q = calloc(d->n_pools, sizeof(*c->q));
	c->doorbell = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	if (!c->q || c->doorbell < 0)
		err = -ENOMEM;
	for (pi = 0; c->q && pi < d->n_pools; pi++)
		c->q[pi].xsk_fd = c->q[pi].chan_fd = -1;
	for (pi = 0; !err && pi < d->n_pools; pi++)
		err = queue_setup(d, c, pi);
	if (err) {
		r.h.err = err;
		snprintf(r.msg, sizeof(r.msg), "creating its AF_XDP socket: %s",
			 strerror(-err));
		xmd_log(d, "pid %d (%s): %s", (int)c->pid, c->comm, r.msg);
		xmd_send(c->sock, &r, sizeof(r), NULL, 0);
		return err;
	}
	r.owner_slot = c->slot;
	r.n_queues = d->n_pools;
	r.frame_size = d->pools[0].frame_size;
	r.frames = d->pools[0].frames;
	r.zerocopy = d->zerocopy;
	r.multibuf = d->multibuf;
	err = xmd_send(c->sock, &r, sizeof(r), NULL, 0);
	for (pi = 0; !err && pi < d->n_pools; pi++) {
		struct xmd_queue qm = {
			.h = { XMD_QUEUE, 0 },
			.queue_id = d->pools[pi].queue_id,
			.rx_size = XMD_RX_RING,
			.tx_size = XMD_TX_RING,
			.give_size = XMD_TX_LOAN_MAX,
			.ret_size = d->pools[pi].frames,
			.umem_size = d->pools[pi].area_size,
			.chan_size = c->q[pi].chan_size,
		};
		int fds[4] = { c->q[pi].xsk_fd, d->pools[pi].area_fd, c->q[pi].chan_fd,
			       c->doorbell };

		err = xmd_send(c->sock, &qm, sizeof(qm), fds, 4);
	}
	return err;
}

/* The program mapped its rings: bind its sockets, and it is served. */
static int mapped(struct xmd *d, struct xmd_client *c)
{
	struct epoll_event ev = { .events = EPOLLIN };
	struct xmd_hdr r = { XMD_MAPPED, 0 };
	uint32_t pi;

	for (pi = 0; !r.err && pi < d->n_pools; pi++)
		r.err = queue_activate(d, c, pi);
	if (r.err) {
		xmd_log(d, "pid %d (%s): binding its AF_XDP socket: %s", (int)c->pid,
			c->comm, strerror(-r.err));
		xmd_send(c->sock, &r, sizeof(r), NULL, 0);
		return r.err;
	}
	c->ready = true;
	d->n_clients++;
	for (pi = 0; pi < d->n_pools; pi++)
		xmd_pool_service(d, pi);   /* its loan, in its give rings */
	ev.data.u64 = ev_data(XMD_EV_DOORBELL, c->slot);
	epoll_ctl(d->epfd, EPOLL_CTL_ADD, c->doorbell, &ev);
	xmd_log(d, "pid %d (%s, uid %u) connected: slot %u, %u socket(s)", (int)c->pid,
		c->comm, (unsigned)c->uid, c->slot, d->n_pools);
	return xmd_send(c->sock, &r, sizeof(r), NULL, 0);
}

void xmd_client_event(struct xmd *d, uint32_t slot, uint32_t what, uint32_t events)
{
	struct xmd_client *c = slot < XM_MAX_OWNERS ? d->clients[slot] : NULL;
	union {
		struct xmd_hdr h;
		struct xmd_hello hello;
		char buf[XMD_MSG_MAX];
	} m;
	ssize_t n;

	if (!c)
		return;
	if (what == XMD_EV_PIDFD) {
		xmd_client_drop(d, c, "exited");
		return;
	}
	if (what == XMD_EV_DOORBELL) {
		uint64_t v;

		if (read(c->doorbell, &v, sizeof(v)) < 0 && errno != EAGAIN)
			xmd_log(d, "doorbell of pid %d: %s", (int)c->pid, strerror(errno));
		return;   /* the loop services every pool after events */
	}
	for (;;) {
		n = xmd_recv(c->sock, &m, sizeof(m), NULL, NULL);
		if (n == -EAGAIN)
			return;
		if (n <= 0) {
			xmd_client_drop(d, c, n == 0 || (events & EPOLLHUP) ?
					"disconnected" : "sent a malformed message");
			return;
		}
		if (!c->ready) {
			/* HELLO, then MAPPED; STATUS from anyone. */
			int err = 0;

			if (m.h.op == XMD_HELLO && !c->q)
				err = (size_t)n < sizeof(m.hello) ? -EPROTO : hello(d, c, &m.hello);
			else if (m.h.op == XMD_MAPPED && c->q)
				err = mapped(d, c);
			else if (m.h.op != XMD_STATUS)
				err = -EPROTO;
			if (err) {
				xmd_client_drop(d, c, "refused");
				return;
			}
			if (m.h.op != XMD_STATUS)
				continue;
		}
		if (xmd_rpc(d, c, &m, (size_t)n) < 0) {
			xmd_client_drop(d, c, "failed a reply");
			return;
		}
	}
}
