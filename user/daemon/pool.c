// SPDX-License-Identifier: MIT
/*
 * One rx queue's UMEM, owned by the daemon: the area (a memfd, so programs
 * can map it), the UMEM's own socket with the fill and completion rings,
 * and the state of every frame. Frames move only here, each move checked
 * against the frame's state, so a program that hands back a frame it does
 * not hold is counted (bad_returns) and cannot corrupt the pool.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <unistd.h>
#include <linux/if_xdp.h>

#include "../lib/link/fstate.h"
#include "../lib/link/rxchain.h"
#include "daemon.h"

#ifndef SOL_XDP
#define SOL_XDP 283
#endif

/* The UMEM's own socket needs a ring to bind; it is never in the xsks map,
 * so nothing ever arrives on it. */
#define OWN_RX_RING 64

static bool frame_move(struct xmd_pool *p, uint32_t fi, enum xmd_fstate from,
		       enum xmd_fstate to)
{
	if (xm_fstate_move(p->state, p->count, p->frames, fi, from, to))
		return true;
	p->bad_returns++;
	return false;
}

static void frame_free(struct xmd_pool *p, uint32_t fi)
{
	p->free[p->n_free++] = fi;
}

static uint32_t addr_frame(const struct xmd_pool *p, uint64_t addr)
{
	return (uint32_t)(xsk_umem__extract_addr(addr) / p->frame_size);
}

static int umem_socket(struct xmd *d, struct xmd_pool *p)
{
	struct xdp_umem_reg reg = {
		.addr = (uintptr_t)p->area,
		.len = p->area_size,
		.chunk_size = p->frame_size,
		.headroom = 0,
	};
	struct sockaddr_xdp sxdp = {
		.sxdp_family = AF_XDP,
		.sxdp_ifindex = (uint32_t)d->ifindex,
		.sxdp_queue_id = p->queue_id,
	};
	uint32_t fill = XMD_FILL_RING, comp = p->frames, rx = OWN_RX_RING;
	int fd, err, tries;

	fd = socket(AF_XDP, SOCK_RAW | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -errno;
	p->xsk_fd = fd;
	/* The completion ring holds every frame, so the device can never
	 * find it full. */
	if (comp > 16384)
		comp = 16384;
	if (setsockopt(fd, SOL_XDP, XDP_UMEM_REG, &reg, sizeof(reg)) ||
	    setsockopt(fd, SOL_XDP, XDP_UMEM_FILL_RING, &fill, sizeof(fill)) ||
	    setsockopt(fd, SOL_XDP, XDP_UMEM_COMPLETION_RING, &comp, sizeof(comp)) ||
	    setsockopt(fd, SOL_XDP, XDP_RX_RING, &rx, sizeof(rx)))
		return -errno;
	err = xm_xsk_ring_map(fd, XM_XSK_FILL, fill, &p->fill, NULL, &p->fill_m);
	if (!err)
		err = xm_xsk_ring_map(fd, XM_XSK_COMP, comp, NULL, &p->comp, &p->comp_m);
	if (err)
		return err;
	/* Zero-copy where the driver can (native mode), copy otherwise; a
	 * socket closed a moment ago keeps its queue busy until the kernel's
	 * release work runs: retry EBUSY for a second. */
	for (int zc = d->mode == XM_MODE_GENERIC ? 0 : 1; zc >= 0; zc--) {
		/* Multi-buffer (a veth peer's superpackets, jumbo frames)
		 * where the kernel (6.6+) and the driver have it. The other
		 * sockets of the UMEM inherit it. */
		for (int sg = 1; sg >= 0; sg--) {
			sxdp.sxdp_flags = (uint16_t)((zc ? XDP_ZEROCOPY : XDP_COPY) |
						     XDP_USE_NEED_WAKEUP |
						     (sg ? XDP_USE_SG : 0));
			for (tries = 0;; tries++) {
				err = bind(fd, (struct sockaddr *)&sxdp, sizeof(sxdp)) ?
				      -errno : 0;
				if (err != -EBUSY || tries == 100)
					break;
				usleep(10000);
			}
			if (!err) {
				d->zerocopy = zc;
				d->multibuf = sg;
				return 0;
			}
			if (err == -EBUSY)
				return err;
		}
	}
	return err;
}

int xmd_pool_open(struct xmd *d, struct xmd_pool *p, uint32_t queue_id)
{
	int err;

	memset(p, 0, sizeof(*p));
	p->queue_id = queue_id;
	p->frames = d->frames;
	p->frame_size = 4096;
	p->xsk_fd = p->area_fd = -1;
	p->next_quar = UINT64_MAX;
	p->area_size = (uint64_t)p->frames * p->frame_size;
	p->area_fd = memfd_create("xdpmux-umem", MFD_CLOEXEC);
	if (p->area_fd < 0)
		return -errno;
	if (ftruncate(p->area_fd, (off_t)p->area_size))
		return -errno;
	p->area = mmap(NULL, p->area_size, PROT_READ | PROT_WRITE,
		       MAP_SHARED | MAP_POPULATE, p->area_fd, 0);
	if (p->area == MAP_FAILED) {
		p->area = NULL;
		return -errno;
	}
	p->state = calloc(p->frames, 1);
	p->owner = calloc(p->frames, 1);
	p->quar_until = calloc(p->frames, sizeof(uint64_t));
	p->free = calloc(p->frames, sizeof(uint32_t));
	if (!p->state || !p->owner || !p->quar_until || !p->free)
		return -ENOMEM;
	for (uint32_t i = 0; i < p->frames; i++)
		p->free[i] = p->frames - 1 - i;
	p->n_free = p->frames;
	p->count[XMD_F_FREE] = p->frames;
	err = umem_socket(d, p);
	if (err)
		return err;
	xmd_pool_service(d, (uint32_t)(p - d->pools));
	return 0;
}

void xmd_pool_close(struct xmd_pool *p)
{
	xm_xsk_ring_unmap(&p->fill_m);
	xm_xsk_ring_unmap(&p->comp_m);
	if (p->xsk_fd >= 0)
		close(p->xsk_fd);
	if (p->area)
		munmap(p->area, p->area_size);
	if (p->area_fd >= 0)
		close(p->area_fd);
	free(p->state);
	free(p->owner);
	free(p->quar_until);
	free(p->free);
	memset(p, 0, sizeof(*p));
	p->xsk_fd = p->area_fd = -1;
}

/* A completed frame goes back to the program it is lent to (the loan
 * stands), or, if that program died, to the free stack. */
static uint32_t comp_drain(struct xmd *d, struct xmd_pool *p, uint32_t pi)
{
	uint32_t idx = 0, n = xsk_ring_cons__peek(&p->comp, p->comp.size, &idx);

	for (uint32_t i = 0; i < n; i++) {
		uint32_t fi = addr_frame(p, *xsk_ring_cons__comp_addr(&p->comp, idx + i));
		struct xmd_client *c;
		uint32_t gi = 0;

		if (fi >= p->frames) {
			p->bad_returns++;
			continue;
		}
		if (p->state[fi] == XMD_F_QUAR) {
			frame_move(p, fi, XMD_F_QUAR, XMD_F_FREE);
			frame_free(p, fi);
			continue;
		}
		c = p->state[fi] == XMD_F_LOAN ? d->clients[p->owner[fi]] : NULL;
		if (!c) {
			p->bad_returns++;
			continue;
		}
		/* Cannot fail: the give ring holds the whole loan. */
		if (xsk_ring_prod__reserve(&c->q[pi].give, 1, &gi) == 1) {
			*xsk_ring_prod__fill_addr(&c->q[pi].give, gi) =
				(uint64_t)fi * p->frame_size;
			xsk_ring_prod__submit(&c->q[pi].give, 1);
		}
	}
	if (n)
		xsk_ring_cons__release(&p->comp, n);
	return n;
}

/* Received frames a program is done with. */
static uint32_t ret_drain(struct xmd_pool *p, struct xmd_client_q *q)
{
	uint32_t idx = 0, n = xsk_ring_cons__peek(&q->ret, q->ret.size, &idx);

	for (uint32_t i = 0; i < n; i++) {
		uint32_t fi = addr_frame(p, *xsk_ring_cons__comp_addr(&q->ret, idx + i));

		if (fi < p->frames && p->state[fi] == XMD_F_FILL) {
			__atomic_store_n(&q->mark[fi], XMD_MARK_NONE, __ATOMIC_RELAXED);
			frame_move(p, fi, XMD_F_FILL, XMD_F_FREE);
			frame_free(p, fi);
		} else {
			p->bad_returns++;
		}
	}
	if (n)
		xsk_ring_cons__release(&q->ret, n);
	return n;
}

static void fill_refill(struct xmd_pool *p)
{
	uint32_t idx = 0, n = xsk_prod_nb_free(&p->fill, p->n_free);

	if (n > p->n_free)
		n = p->n_free;
	if (!n || xsk_ring_prod__reserve(&p->fill, n, &idx) != n)
		return;
	for (uint32_t i = 0; i < n; i++) {
		uint32_t fi = p->free[--p->n_free];

		frame_move(p, fi, XMD_F_FREE, XMD_F_FILL);
		*xsk_ring_prod__fill_addr(&p->fill, idx + i) = (uint64_t)fi * p->frame_size;
	}
	xsk_ring_prod__submit(&p->fill, n);
	if (xsk_ring_prod__needs_wakeup(&p->fill))
		recvfrom(p->xsk_fd, NULL, 0, MSG_DONTWAIT, NULL, NULL);
}

static void loan_top_up(struct xmd_pool *p, struct xmd_client *c, uint32_t pi)
{
	struct xmd_client_q *q = &c->q[pi];
	uint32_t target = __atomic_load_n(&q->hdr->tx_want, __ATOMIC_RELAXED), want, idx = 0;

	/* Its own loan always; more only from frames the fill ring can spare. */
	if (target < XMD_TX_LOAN)
		target = XMD_TX_LOAN;
	if (target > XMD_TX_LOAN_MAX)
		target = XMD_TX_LOAN_MAX;
	if (q->loan >= target || !p->n_free)
		return;
	want = target - q->loan;
	if (q->loan >= XMD_TX_LOAN) {
		uint32_t spare = p->n_free > XMD_FILL_RING ? p->n_free - XMD_FILL_RING : 0;

		if (want > spare)
			want = spare;
	}
	if (want > p->n_free)
		want = p->n_free;
	if (!want)
		return;
	if (xsk_ring_prod__reserve(&q->give, want, &idx) != want)
		return;
	for (uint32_t i = 0; i < want; i++) {
		uint32_t fi = p->free[--p->n_free];

		frame_move(p, fi, XMD_F_FREE, XMD_F_LOAN);
		p->owner[fi] = (uint8_t)c->slot;
		*xsk_ring_prod__fill_addr(&q->give, idx + i) = (uint64_t)fi * p->frame_size;
	}
	xsk_ring_prod__submit(&q->give, want);
	q->loan += want;
}

static void quarantine_expire(struct xmd_pool *p, uint64_t now)
{
	uint64_t next = UINT64_MAX;

	if (now < p->next_quar)
		return;
	for (uint32_t fi = 0; fi < p->frames; fi++) {
		if (p->state[fi] != XMD_F_QUAR)
			continue;
		if (p->quar_until[fi] <= now) {
			frame_move(p, fi, XMD_F_QUAR, XMD_F_FREE);
			frame_free(p, fi);
		} else if (p->quar_until[fi] < next) {
			next = p->quar_until[fi];
		}
	}
	p->next_quar = next;
}

uint32_t xmd_pool_service(struct xmd *d, uint32_t pi)
{
	struct xmd_pool *p = &d->pools[pi];
	uint32_t moved = comp_drain(d, p, pi);

	for (uint32_t s = 1; s < XM_MAX_OWNERS; s++)
		if (d->clients[s] && d->clients[s]->ready)
			moved += ret_drain(p, &d->clients[s]->q[pi]);
	if (p->count[XMD_F_QUAR])
		quarantine_expire(p, xmd_now_ns());
	/* Receive first: the fill ring is what keeps every program fed. */
	fill_refill(p);
	for (uint32_t s = 1; s < XM_MAX_OWNERS; s++)
		if (d->clients[s] && d->clients[s]->ready)
			loan_top_up(p, d->clients[s], pi);
	return moved;
}

/* Free frame fi if it is in state `from` (and, for a loan, c's). */
static bool reclaim_one(struct xmd_pool *p, const struct xmd_client *c,
			uint32_t fi, enum xmd_fstate from)
{
	if (fi >= p->frames || p->state[fi] != from)
		return false;
	if (from == XMD_F_LOAN && p->owner[fi] != c->slot)
		return false;
	frame_move(p, fi, from, XMD_F_FREE);
	frame_free(p, fi);
	p->reclaimed++;
	return true;
}

void xmd_pool_reclaim(struct xmd *d, uint32_t pi, struct xmd_client *c)
{
	struct xmd_pool *p = &d->pools[pi];
	struct xmd_client_q *q = &c->q[pi];
	/* What it returned before it went is simply returned. */
	ret_drain(p, q);
	/* Received frames still in its rx ring: between its consumer and
	 * the kernel's producer (our view's cached indices are stale). */
	for (uint32_t k = __atomic_load_n(q->rx_view.consumer, __ATOMIC_ACQUIRE);
	     k != __atomic_load_n(q->rx_view.producer, __ATOMIC_ACQUIRE); k++)
		reclaim_one(p, c, addr_frame(p, ((struct xdp_desc *)q->rx_view.ring)
					     [k & q->rx_view.mask].addr), XMD_F_FILL);
	/* Lent frames it never took, and those it queued but the kernel never
	 * read (the socket is closed: it never will). */
	for (uint32_t k = __atomic_load_n(q->give.consumer, __ATOMIC_ACQUIRE);
	     k != *q->give.producer; k++)
		reclaim_one(p, c, addr_frame(p, ((uint64_t *)q->give.ring)[k & q->give.mask]),
			    XMD_F_LOAN);
	for (uint32_t k = __atomic_load_n(q->tx_view.consumer, __ATOMIC_ACQUIRE);
	     k != __atomic_load_n(q->tx_view.producer, __ATOMIC_ACQUIRE); k++)
		reclaim_one(p, c, addr_frame(p, ((struct xdp_desc *)q->tx_view.ring)
					     [k & q->tx_view.mask].addr), XMD_F_LOAN);
	/* What its marks say it held. */
	for (uint32_t fi = 0; fi < p->frames; fi++) {
		uint8_t m = __atomic_load_n(&q->mark[fi], __ATOMIC_RELAXED);

		if (m == XMD_MARK_RX)
			reclaim_one(p, c, fi, XMD_F_FILL);
		else if (m == XMD_MARK_TX_FREE)
			reclaim_one(p, c, fi, XMD_F_LOAN);
	}
	/* The rest of its loan was submitted and may still be in the device:
	 * free when the device completes it, or after the quarantine. */
	for (uint32_t fi = 0; fi < p->frames; fi++) {
		if (p->state[fi] == XMD_F_LOAN && p->owner[fi] == c->slot) {
			frame_move(p, fi, XMD_F_LOAN, XMD_F_QUAR);
			p->quar_until[fi] = xmd_now_ns() + XMD_QUARANTINE_NS;
			if (p->quar_until[fi] < p->next_quar)
				p->next_quar = p->quar_until[fi];
		}
	}
	q->loan = 0;
}

bool xmd_pool_has_room(const struct xmd *d, const struct xmd_pool *p)
{
	uint64_t promised = XMD_FILL_RING +
		(uint64_t)(d->n_clients + 1) * (XMD_TX_LOAN + XMD_RX_RING);

	return promised <= p->frames;
}

uint64_t xmd_client_frames(const struct xmd_pool *p, const struct xmd_client_q *q)
{
	uint64_t n = q->loan;

	n += (uint32_t)(__atomic_load_n(q->rx_view.producer, __ATOMIC_ACQUIRE) -
			__atomic_load_n(q->rx_view.consumer, __ATOMIC_ACQUIRE));
	for (uint32_t fi = 0; fi < p->frames; fi++)
		if (q->mark[fi] == XMD_MARK_RX && p->state[fi] == XMD_F_FILL)
			n++;
	return n;
}

void xmd_pool_accounting(const struct xmd *d, const struct xmd_pool *p,
			 struct xmd_status_reply *r)
{
	uint64_t fill_ring = (uint32_t)(*p->fill.producer -
					__atomic_load_n(p->fill.consumer, __ATOMIC_ACQUIRE));
	uint64_t client_rx = 0;

	for (uint32_t s = 1; s < XM_MAX_OWNERS; s++)
		if (d->clients[s] && d->clients[s]->ready)
			client_rx += xmd_client_frames(p, &d->clients[s]->q[p - d->pools]) -
				     d->clients[s]->q[p - d->pools].loan;
	r->free += p->count[XMD_F_FREE];
	r->fill_ring += fill_ring;
	r->client_rx += client_rx;
	/* Posted, taken by the kernel, not in any program's ring nor hands:
	 * in the kernel's own cache of the pool (a frame it could not place
	 * in a full rx ring goes there) or on its way into an rx ring. */
	r->kernel += p->count[XMD_F_FILL] - fill_ring - client_rx;
	r->client_tx += p->count[XMD_F_LOAN];
	r->quarantine += p->count[XMD_F_QUAR];
	r->bad_returns += p->bad_returns;
	r->reclaimed += p->reclaimed;
}
