// SPDX-License-Identifier: MIT
/*
 * The AF_XDP link: one XSK (with its own UMEM, umem.c) per rx queue in use,
 * each inserted into the device's pinned `xsks` map at its queue id so the
 * XDP demultiplexer redirects bound ports to it; the link-layer questions
 * (MAC, MTU, addresses, next hop, neighbour) are answered by the kernel
 * (kview.c). TCP super-segments leave through a packet socket on the same
 * device (pktsock.c), AF_XDP having no segmentation offload.
 */
#include <errno.h>
#include <net/if.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <unistd.h>
#include <bpf/bpf.h>
#include <linux/bpf.h>
#include <linux/ethtool.h>
#include <linux/if_ether.h>
#include <linux/sockios.h>

#include <xdpmux/control.h>

#include "link.h"
#include "kview.h"
#include "pktsock.h"
#include "umem.h"

#define AFXDP_FRAMES_DEFAULT  4096
#define AFXDP_FRAME_SIZE      4096

struct afxdp {
	struct xm_link link;
	struct xm_kview kv;
	struct xm_pktsock pkt;    /* tx_gso; fd -1: none */
	struct xm_ctl *ctl;
	int epfd;                 /* the queues' XSKs; -1 with one queue */
	uint32_t n_q;
	uint32_t frame_size;      /* UMEM frame size of every queue */
	uint64_t bad_handles;     /* frames whose id names no queue of ours */
	uint32_t rx_next;         /* round robin over queues in rx() */
	bool zerocopy;
	bool sg;                  /* every queue bound with XDP_USE_SG */
	struct xm_umem **q;
	uint32_t *qid;            /* rx queue id of q[i] */
};

static struct afxdp *to_afxdp(struct xm_link *l)
{
	return (struct afxdp *)l;
}

/* ---- frames ---- */

static int afxdp_rx(struct xm_link *l, struct xm_frame *f, int max)
{
	struct afxdp *a = to_afxdp(l);
	int got = 0;
	uint32_t i;

	for (i = 0; i < a->n_q && got < max; i++) {
		uint32_t qi = (a->rx_next + i) % a->n_q;

		got += xm_umem_rx(a->q[qi], f + got, max - got, qi);
	}
	a->rx_next = (a->rx_next + 1) % a->n_q;
	return got;
}

static bool afxdp_rx_ready(struct xm_link *l)
{
	struct afxdp *a = to_afxdp(l);
	uint32_t i;

	for (i = 0; i < a->n_q; i++)
		if (xm_umem_rx_ready(a->q[i]))
			return true;
	return false;
}

static struct xm_umem *frame_queue(struct afxdp *a, const struct xm_frame *f)
{
	uint32_t qi = (uint32_t)(f->id >> 32);

	if (qi < a->n_q)
		return a->q[qi];
	a->bad_handles++;
	return NULL;
}

static void afxdp_rx_release(struct xm_link *l, struct xm_frame *f, int n)
{
	struct afxdp *a = to_afxdp(l);
	int i;

	for (i = 0; i < n; i++) {
		struct xm_umem *u = frame_queue(a, &f[i]);

		if (u)
			xm_umem_rx_release(u, &f[i]);
	}
}

static int afxdp_tx_alloc(struct xm_link *l, struct xm_frame *f, int n)
{
	struct afxdp *a = to_afxdp(l);
	int got = 0;
	uint32_t i;

	/* Queue 0 first: one tx queue keeps the stack's frames in order. */
	for (i = 0; i < a->n_q && got < n; i++)
		got += xm_umem_tx_alloc(a->q[i], f + got, n - got, i);
	return got;
}

static int afxdp_tx_submit(struct xm_link *l, struct xm_frame *f, int n)
{
	struct afxdp *a = to_afxdp(l);
	bool touched[XM_MAX_QUEUES] = { false };
	int queued = 0, i;
	uint32_t q;

	for (i = 0; i < n; i++) {
		struct xm_umem *u = frame_queue(a, &f[i]);
		uint32_t qi = (uint32_t)(f[i].id >> 32);

		if (!u) {
			xm_link_tx_done(l, f[i].owner, f[i].len);
			continue;
		}
		if (xm_umem_tx_queue(u, &f[i]))
			queued++;
		touched[qi] = true;
	}
	for (q = 0; q < a->n_q; q++)
		if (touched[q])
			xm_umem_tx_flush(a->q[q]);
	return queued;
}

static void afxdp_tx_abort(struct xm_link *l, struct xm_frame *f, int n)
{
	struct afxdp *a = to_afxdp(l);
	int i;

	for (i = 0; i < n; i++) {
		struct xm_umem *u = frame_queue(a, &f[i]);

		if (u)
			xm_umem_tx_abort(u, &f[i]);
	}
}

/* The frames tx_submit took are already out of the ring in copy mode
 * (xm_umem_tx_flush kicks until it is empty), so the super-segment cannot
 * overtake them. In zero-copy mode the driver sends the ring's frames
 * asynchronously from another queue than the packet socket's, and a
 * super-segment may overtake a frame sent just before it; TCP's RACK
 * takes that as reordering, not loss. */
static int afxdp_tx_gso(struct xm_link *l, const struct xm_link_gso *g)
{
	return xm_pktsock_send(&to_afxdp(l)->pkt, g);
}

static void afxdp_kick(struct xm_link *l)
{
	struct afxdp *a = to_afxdp(l);
	uint32_t i;

	for (i = 0; i < a->n_q; i++)
		xm_umem_kick(a->q[i]);
}

/* With one queue its XSK itself: an epoll set around it would run one
 * more wakeup callback per received frame, on the CPU that delivers it
 * (on a veth the peer's sender). */
static int afxdp_poll_fd(struct xm_link *l)
{
	struct afxdp *a = to_afxdp(l);

	return a->n_q == 1 ? xm_umem_fd(a->q[0]) : a->epfd;
}

static int afxdp_accounting(struct xm_link *l, struct xm_frame_accounting *acc)
{
	struct afxdp *a = to_afxdp(l);
	uint64_t bad = 0;
	uint32_t i;

	memset(acc, 0, sizeof(*acc));
	bad = a->bad_handles;
	for (i = 0; i < a->n_q; i++) {
		xm_umem_accounting(a->q[i], acc);
		bad += a->q[i]->st.bad_transitions + a->q[i]->rxbufs.bad_puts;
	}
	/* A frame handed back twice or in the wrong state was refused, so the
	 * sums still balance; report the bug rather than hide it. */
	return bad ? -EUCLEAN : 0;
}

/* ---- link layer from the kernel ---- */

/* The kernel keeps XDP_PACKET_HEADROOM at the head of every rx frame. The
 * stack sends whole frames of one UMEM chunk each (no multi-buffer tx), so
 * this bounds the MTU the stack sends at even when larger packets are
 * received as chains. */
static uint32_t afxdp_max_mtu(const struct afxdp *a)
{
	return a->frame_size - XDP_PACKET_HEADROOM - ETH_HLEN;
}

/* Frames the stack sends fit one UMEM frame (kview caps the MTU); larger
 * ones arrive as multi-buffer chains where the kernel has XDP_USE_SG. */
static int afxdp_info(struct xm_link *l, struct xm_link_info *info)
{
	struct afxdp *a = to_afxdp(l);
	int err = xm_kview_info(&a->kv, afxdp_max_mtu(a), info);

	info->rx_multibuf = a->sg;
	if (a->pkt.fd < 0) {
		info->gso_max_size = info->gso_max_segs = 0;
	} else {
		/* Linux's legacy bounds where the kernel reports none. */
		if (!info->gso_max_size)
			info->gso_max_size = 65536;
		if (!info->gso_max_segs)
			info->gso_max_segs = 65535;
	}
	return err;
}

static int afxdp_route(struct xm_link *l, int family, const void *dst,
		       void *nexthop, void *src)
{
	return xm_kview_route(&to_afxdp(l)->kv, family, dst, nexthop, src);
}

static int afxdp_neigh(struct xm_link *l, int family, const void *nexthop,
		       uint8_t mac[6])
{
	return xm_kview_neigh(&to_afxdp(l)->kv, family, nexthop, mac);
}

/* ---- open / close ---- */

/* Rx queues the device uses: ethtool's channel counts (rx-only plus
 * combined), or 1 when the driver reports none (all traffic on queue 0). */
int xm_link_dev_rx_queues(const char *dev, uint32_t *n)
{
	struct ethtool_channels ch = { .cmd = ETHTOOL_GCHANNELS };
	struct ifreq ifr = { 0 };
	int fd, err = 0;

	fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -errno;
	strncpy(ifr.ifr_name, dev, IF_NAMESIZE - 1);
	ifr.ifr_data = (void *)&ch;
	if (ioctl(fd, SIOCETHTOOL, &ifr)) {
		if (errno != EOPNOTSUPP)
			err = -errno;
		*n = 1;
	} else {
		*n = ch.rx_count + ch.combined_count;
		if (!*n)
			*n = 1;
	}
	close(fd);
	return err;
}

static void afxdp_close(struct xm_link *l)
{
	struct afxdp *a = to_afxdp(l);
	uint32_t i;
	int spin;

	if (!a)
		return;
	for (i = 0; a->q && i < a->n_q; i++) {
		if (!a->q[i])
			continue;
		/* Let queued replies leave before the socket goes. */
		for (spin = 0; spin < 1000 && xm_umem_tx_pending(a->q[i]); spin++) {
			xm_umem_kick(a->q[i]);
			if (xm_umem_tx_pending(a->q[i]))
				usleep(100);
		}
		if (a->ctl)
			bpf_map_delete_elem(xm_ctl_xsks_fd(a->ctl), &a->qid[i]);
		xm_umem_close(a->q[i]);
	}
	free(a->q);
	free(a->qid);
	xm_pktsock_close(&a->pkt);
	if (a->epfd >= 0)
		close(a->epfd);
	xm_kview_close(&a->kv);
	xm_ctl_close(a->ctl);
	free(a);
}

static const struct xm_link_ops afxdp_ops = {
	.rx = afxdp_rx,
	.rx_ready = afxdp_rx_ready,
	.rx_release = afxdp_rx_release,
	.tx_alloc = afxdp_tx_alloc,
	.tx_submit = afxdp_tx_submit,
	.tx_abort = afxdp_tx_abort,
	.poll_fd = afxdp_poll_fd,
	.info = afxdp_info,
	.route = afxdp_route,
	.neigh = afxdp_neigh,
	.accounting = afxdp_accounting,
	.tx_gso = afxdp_tx_gso,
	.wait = NULL,
	.kick = afxdp_kick,
	.close = afxdp_close,
};

/* Zero-copy first where the driver can, then copy mode. A program attached
 * in generic (skb) mode only ever sees copies, so go straight to copy. */
static int queue_open(struct afxdp *a, const struct xm_afxdp_opts *o,
		      bool generic, uint32_t qid, struct xm_umem **out)
{
	struct xm_umem_cfg cfg = {
		.dev = a->kv.dev,
		.queue_id = qid,
		.frames = o->frames ? o->frames : AFXDP_FRAMES_DEFAULT,
		.frame_size = o->frame_size ? o->frame_size : AFXDP_FRAME_SIZE,
		.need_wakeup = !o->no_need_wakeup,
		.sg = !o->no_multibuf,
		.busy_poll = o->busy_poll,
		.busy_poll_budget = o->busy_poll_budget,
	};
	int err = -EOPNOTSUPP;

	if (o->copy_mode != XM_AFXDP_COPY && !generic) {
		cfg.zerocopy = true;
		err = xm_umem_open(&cfg, out);
		if (!err || o->copy_mode == XM_AFXDP_ZEROCOPY)
			return err;
	}
	if (o->copy_mode == XM_AFXDP_ZEROCOPY)
		return err;
	cfg.zerocopy = false;
	return xm_umem_open(&cfg, out);
}

int xm_link_afxdp_open(const char *dev, const struct xm_afxdp_opts *o,
		       struct xm_link **out)
{
	static const struct xm_afxdp_opts defaults = { 0 };
	struct xm_dev_status st;
	uint32_t n_dev = 0, i;
	struct afxdp *a;
	int err;

	if (!o)
		o = &defaults;
	if (!dev || strlen(dev) >= IF_NAMESIZE)
		return -EINVAL;
	a = calloc(1, sizeof(*a));
	if (!a)
		return -ENOMEM;
	a->link.ops = &afxdp_ops;
	a->epfd = -1;
	a->pkt.fd = -1;
	err = xm_kview_open(&a->kv, dev);
	if (err) {
		xm_kview_close(&a->kv);
		free(a);
		return err;
	}
	err = xm_ctl_status(dev, &st);
	if (err)
		goto fail;
	if (!st.attached) {
		err = -ENOENT;
		goto fail;
	}
	err = xm_ctl_open(dev, &a->ctl);
	if (err)
		goto fail;
	err = xm_link_dev_rx_queues(dev, &n_dev);
	if (err)
		goto fail;
	if (o->queue_first >= n_dev) {
		err = -EINVAL;
		goto fail;
	}
	a->n_q = o->queue_count ? o->queue_count : n_dev - o->queue_first;
	if (o->queue_first + a->n_q > n_dev ||
	    o->queue_first + a->n_q > XM_MAX_QUEUES) {
		err = -EINVAL;
		goto fail;
	}
	a->q = calloc(a->n_q, sizeof(*a->q));
	a->qid = calloc(a->n_q, sizeof(*a->qid));
	if (!a->q || !a->qid) {
		err = -ENOMEM;
		goto fail;
	}
	if (a->n_q > 1) {
		a->epfd = epoll_create1(EPOLL_CLOEXEC);
		if (a->epfd < 0) {
			err = -errno;
			goto fail;
		}
	}
	for (i = 0; i < a->n_q; i++) {
		struct epoll_event ev = { .events = EPOLLIN, .data.u32 = i };

		a->qid[i] = o->queue_first + i;
		err = queue_open(a, o, st.mode == XM_MODE_GENERIC, a->qid[i],
				 &a->q[i]);
		if (err)
			goto fail;
		a->q[i]->link = &a->link;
		a->zerocopy = a->q[i]->cfg.zerocopy;
		a->sg = i ? a->sg && a->q[i]->sg : a->q[i]->sg;
		a->frame_size = a->q[i]->cfg.frame_size;
		err = xsk_socket__update_xskmap(a->q[i]->xsk,
						xm_ctl_xsks_fd(a->ctl));
		if (err)
			goto fail;
		if (a->epfd >= 0 &&
		    epoll_ctl(a->epfd, EPOLL_CTL_ADD, xm_umem_fd(a->q[i]), &ev)) {
			err = -errno;
			goto fail;
		}
	}
	/* Without it (no CAP_NET_RAW) TCP sends frames of one
	 * MTU, as before: never a reason to fail the open. */
	if (!o->no_gso)
		xm_pktsock_open(&a->pkt, a->kv.ifindex);
	*out = &a->link;
	return 0;

fail:
	afxdp_close(&a->link);
	return err;
}
