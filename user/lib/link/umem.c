// SPDX-License-Identifier: MIT
/*
 * UMEM and AF_XDP socket of one rx queue: the fill ring refilled in batches,
 * the completion ring drained, need_wakeup honoured, and every frame's state
 * tracked (see umem.h).
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <unistd.h>
#include <linux/if_xdp.h>

#include "umem.h"

#ifndef SO_PREFER_BUSY_POLL
#define SO_PREFER_BUSY_POLL 69
#endif
#ifndef SO_BUSY_POLL_BUDGET
#define SO_BUSY_POLL_BUDGET 70
#endif

/* Post rx frames in batches of at least this many: every submit is a
 * store-release the driver has to observe. */
#define FILL_BATCH 32
#define BUSY_POLL_USECS 20
#define BUSY_POLL_BUDGET_DEFAULT 64

static bool frame_move(struct xm_umem *u, uint32_t fi, enum xm_fstate from,
		       enum xm_fstate to)
{
	if (fi >= u->cfg.frames || u->state[fi] != from) {
		u->st.bad_transitions++;
		return false;
	}
	u->state[fi] = (uint8_t)to;
	u->count[from]--;
	u->count[to]++;
	return true;
}

static void tx_report(struct xm_umem *u, void *owner, uint32_t len)
{
	if (u->link)
		xm_link_tx_done(u->link, owner, len);
}

/* A tx frame left flight (completed, or the socket is closing). */
static void tx_flight_end(struct xm_umem *u, uint32_t fi)
{
	void *owner = u->tx_owner[fi - u->n_rx];

	u->tx_owner[fi - u->n_rx] = NULL;
	tx_report(u, owner, u->tx_len[fi - u->n_rx]);
}

static uint64_t frame_addr(const struct xm_umem *u, uint32_t fi)
{
	return (uint64_t)fi * u->cfg.frame_size;
}

int xm_umem_fd(const struct xm_umem *u)
{
	return xsk_socket__fd(u->xsk);
}

/* libxdp leaves the fill and completion rings mapped when the first socket
 * of a UMEM fails to bind; unmap them before deleting the UMEM. */
static void umem_rings_unmap(struct xm_umem *u)
{
	struct xdp_mmap_offsets off;
	socklen_t len = sizeof(off);
	int fd = xsk_umem__fd(u->umem);

	if (fd < 0 || getsockopt(fd, SOL_XDP, XDP_MMAP_OFFSETS, &off, &len) ||
	    len != sizeof(off))
		return;
	munmap((char *)u->fill.ring - off.fr.desc,
	       off.fr.desc + u->fill.size * sizeof(__u64));
	munmap((char *)u->comp.ring - off.cr.desc,
	       off.cr.desc + u->comp.size * sizeof(__u64));
}

static int busy_poll_enable(int fd, uint32_t budget)
{
	int one = 1, usecs = BUSY_POLL_USECS;
	int b = budget ? (int)budget : BUSY_POLL_BUDGET_DEFAULT;

	if (setsockopt(fd, SOL_SOCKET, SO_PREFER_BUSY_POLL, &one, sizeof(one)) ||
	    setsockopt(fd, SOL_SOCKET, SO_BUSY_POLL, &usecs, sizeof(usecs)) ||
	    setsockopt(fd, SOL_SOCKET, SO_BUSY_POLL_BUDGET, &b, sizeof(b)))
		return -errno;
	return 0;
}

static bool pow2(uint32_t v)
{
	return v && !(v & (v - 1));
}

/* The UMEM on transparent huge pages where the kernel has them (best
 * effort): with 4 KiB frames every frame is its own page otherwise, one TLB
 * entry per packet for the kernel's copy and for our parse. Populated now,
 * so the data path never faults. */
static uint8_t *umem_area_map(uint64_t size)
{
	uint8_t *p = mmap(NULL, size, PROT_READ | PROT_WRITE,
			  MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);

	if (p == MAP_FAILED)
		return p;
	madvise(p, size, MADV_HUGEPAGE);
	if (madvise(p, size, MADV_POPULATE_WRITE))
		memset(p, 0, size); /* kernels before 5.14 */
	return p;
}

static void umem_free(struct xm_umem *u)
{
	if (u->area_size)
		munmap(u->area, u->area_size);
	free(u->state);
	free(u->rx_free);
	free(u->tx_free);
	free(u->tx_owner);
	free(u->tx_len);
	xm_rxbuf_pool_fini(&u->rxbufs);
	free(u);
}

static int umem_alloc(const struct xm_umem_cfg *cfg, struct xm_umem **out)
{
	struct xm_umem *u;
	uint32_t i;

	if (!pow2(cfg->frames) || cfg->frames < 64 || !pow2(cfg->frame_size) ||
	    cfg->frame_size < 2048 || cfg->frame_size > 4096)
		return -EINVAL;
	u = calloc(1, sizeof(*u));
	if (!u)
		return -ENOMEM;
	u->cfg = *cfg;
	u->n_rx = cfg->frames / 2;
	u->area_size = (uint64_t)cfg->frames * cfg->frame_size;
	u->area = umem_area_map(u->area_size);
	u->state = calloc(cfg->frames, 1);
	u->rx_free = calloc(u->n_rx, sizeof(uint32_t));
	u->tx_free = calloc(cfg->frames - u->n_rx, sizeof(uint32_t));
	u->tx_owner = calloc(cfg->frames - u->n_rx, sizeof(void *));
	u->tx_len = calloc(cfg->frames - u->n_rx, sizeof(uint32_t));
	if (u->area == MAP_FAILED || !u->state || !u->rx_free || !u->tx_free ||
	    !u->tx_owner || !u->tx_len) {
		if (u->area == MAP_FAILED)
			u->area_size = 0;   /* nothing to unmap */
		umem_free(u);
		return -ENOMEM;
	}
	/* Pop order is ascending, which keeps a small test readable. */
	for (i = 0; i < u->n_rx; i++) {
		u->state[i] = XM_FS_RX_FREE;
		u->rx_free[u->n_rx - 1 - i] = i;
	}
	u->n_rx_free = u->n_rx;
	for (i = u->n_rx; i < cfg->frames; i++) {
		u->state[i] = XM_FS_TX_FREE;
		u->tx_free[cfg->frames - 1 - i] = i;
	}
	u->n_tx_free = cfg->frames - u->n_rx;
	u->count[XM_FS_RX_FREE] = u->n_rx;
	u->count[XM_FS_TX_FREE] = u->n_tx_free;
	*out = u;
	return 0;
}

static int umem_open(const struct xm_umem_cfg *cfg, struct xm_umem **out)
{
	struct xsk_umem_config ucfg = { 0 };
	struct xsk_socket_config scfg = { 0 };
	struct xm_umem *u;
	int err;

	err = umem_alloc(cfg, &u);
	if (err)
		return err;
	ucfg.fill_size = u->n_rx;
	ucfg.comp_size = cfg->frames - u->n_rx;
	ucfg.frame_size = cfg->frame_size;
	err = xsk_umem__create(&u->umem, u->area, u->area_size, &u->fill,
			       &u->comp, &ucfg);
	if (err)
		goto fail_alloc;

	scfg.rx_size = u->n_rx;
	scfg.tx_size = cfg->frames - u->n_rx;
	/* Our own XDP program redirects: libxdp must not load its default. */
	scfg.libxdp_flags = XSK_LIBXDP_FLAGS__INHIBIT_PROG_LOAD;
	scfg.bind_flags = cfg->zerocopy ? XDP_ZEROCOPY : XDP_COPY;
	if (cfg->need_wakeup)
		scfg.bind_flags |= XDP_USE_NEED_WAKEUP;
	if (cfg->sg) {
		scfg.bind_flags |= XDP_USE_SG;
		err = xm_rxbuf_pool_init(&u->rxbufs, XM_UMEM_RXBUFS, XM_UMEM_RXBUF_SIZE);
		if (err) {
			xsk_umem__delete(u->umem);
			goto fail_alloc;
		}
		u->sg = true;
	}
	/* A socket closed a moment ago (a restarted process, a stack reopened)
	 * leaves its queue in the kernel until its release work runs, and bind
	 * fails with EBUSY meanwhile: retry for up to a second before saying
	 * the queue belongs to someone else. */
	for (int tries = 0;; tries++) {
		err = xsk_socket__create(&u->xsk, cfg->dev, cfg->queue_id, u->umem,
					 &u->rx, &u->tx, &scfg);
		if (err != -EBUSY || tries == 100)
			break;
		usleep(10000);
	}
	if (err) {
		umem_rings_unmap(u);
		xsk_umem__delete(u->umem);
		goto fail_alloc;
	}
	if (cfg->busy_poll) {
		err = busy_poll_enable(xsk_socket__fd(u->xsk), cfg->busy_poll_budget);
		if (err) {
			xm_umem_close(u);
			return err;
		}
	}
	xm_umem_fill_refill(u);
	*out = u;
	return 0;

fail_alloc:
	umem_free(u);
	return err;
}

int xm_umem_open(const struct xm_umem_cfg *cfg, struct xm_umem **out)
{
	struct xm_umem_cfg plain;
	int err = umem_open(cfg, out);

	/* Before Linux 6.6 bind refuses the unknown flag (EINVAL); a
	 * zero-copy driver without multi-buffer support refuses it too. */
	if (!cfg->sg || (err != -EINVAL && err != -EOPNOTSUPP))
		return err;
	plain = *cfg;
	plain.sg = false;
	return umem_open(&plain, out);
}

void xm_umem_close(struct xm_umem *u)
{
	if (!u)
		return;
	/* What never completed is free all the same once the socket goes. */
	for (uint32_t fi = u->n_rx; fi < u->cfg.frames; fi++)
		if (u->state[fi] == XM_FS_TX_FLIGHT)
			tx_flight_end(u, fi);
	xsk_socket__delete(u->xsk);
	xsk_umem__delete(u->umem);
	umem_free(u);
}

void xm_umem_fill_refill(struct xm_umem *u)
{
	uint32_t n = u->n_rx_free, idx = 0, i;

	if (n < FILL_BATCH && u->count[XM_FS_FILL] > u->n_rx / 4)
		return;
	if (!n)
		return;
	n = xsk_prod_nb_free(&u->fill, n);
	if (n > u->n_rx_free)
		n = u->n_rx_free;
	if (!n || xsk_ring_prod__reserve(&u->fill, n, &idx) != n)
		return;
	for (i = 0; i < n; i++) {
		uint32_t fi = u->rx_free[--u->n_rx_free];

		frame_move(u, fi, XM_FS_RX_FREE, XM_FS_FILL);
		*xsk_ring_prod__fill_addr(&u->fill, idx + i) = frame_addr(u, fi);
	}
	xsk_ring_prod__submit(&u->fill, n);
}

void xm_umem_comp_drain(struct xm_umem *u)
{
	uint32_t idx = 0, n, i;

	n = xsk_ring_cons__peek(&u->comp, u->comp.size, &idx);
	for (i = 0; i < n; i++) {
		uint64_t addr = *xsk_ring_cons__comp_addr(&u->comp, idx + i);
		uint32_t fi = (uint32_t)(addr / u->cfg.frame_size);

		if (fi >= u->n_rx &&
		    frame_move(u, fi, XM_FS_TX_FLIGHT, XM_FS_TX_FREE)) {
			u->tx_free[u->n_tx_free++] = fi;
			tx_flight_end(u, fi);
		} else if (fi < u->n_rx)
			u->st.bad_transitions++;
	}
	if (n)
		xsk_ring_cons__release(&u->comp, n);
}

static void rx_wakeup(struct xm_umem *u)
{
	if (u->cfg.busy_poll ||
	    (u->cfg.need_wakeup && xsk_ring_prod__needs_wakeup(&u->fill))) {
		recvfrom(xsk_socket__fd(u->xsk), NULL, 0, MSG_DONTWAIT, NULL, NULL);
		u->st.rx_kicks++;
	}
}

struct rx_peek {
	struct xm_umem *u;
	uint32_t idx;            /* ring index of the first peeked descriptor */
};

static bool rx_desc_get(void *ctx, uint32_t i, struct xm_rx_desc *out)
{
	struct rx_peek *pk = ctx;
	struct xm_umem *u = pk->u;
	const struct xdp_desc *d = xsk_ring_cons__rx_desc(&u->rx, pk->idx + i);
	uint64_t addr = xsk_umem__extract_addr(d->addr);

	out->more = d->options & XDP_PKT_CONTD;
	out->data = u->area + addr;
	out->len = d->len;
	return addr / u->cfg.frame_size < u->n_rx &&
	       addr % u->cfg.frame_size + d->len <= u->cfg.frame_size;
}

/* The frames of a gathered chain go back to the rx pool at once: the
 * stack gets a copy (rxchain.h). */
static void rx_chain_free(struct xm_umem *u, uint32_t idx, uint32_t n)
{
	for (uint32_t i = 0; i < n; i++) {
		const struct xdp_desc *d = xsk_ring_cons__rx_desc(&u->rx, idx + i);
		uint32_t fi = (uint32_t)(xsk_umem__extract_addr(d->addr) / u->cfg.frame_size);

		if (fi >= u->n_rx)
			u->st.bad_transitions++;
		else if (frame_move(u, fi, XM_FS_FILL, XM_FS_RX_FREE))
			u->rx_free[u->n_rx_free++] = fi;
	}
}

/* The packet at peeked descriptor i is a chain: gather it into f. Returns
 * the descriptors it took (the frame filled when *got), 0 to stop for now
 * (no buffer free, or the chain not all in the ring yet). */
static uint32_t rx_chain(struct xm_umem *u, struct rx_peek *pk, uint32_t i,
			 uint32_t n, struct xm_frame *f, uint32_t tag, bool *got)
{
	struct xm_rx_descs ds = { .get = rx_desc_get, .ctx = pk, .n = n };
	enum xm_rx_chain_status cs;
	uint32_t nd = 0, len = 0;
	int b = xm_rxbuf_get(&u->rxbufs);

	*got = false;
	if (b < 0)
		return 0;
	cs = xm_rx_chain_gather(&ds, i, xm_rxbuf_data(&u->rxbufs, (uint32_t)b),
				u->rxbufs.size, &nd, &len);
	if (cs == XM_RXC_INCOMPLETE) {
		xm_rxbuf_put(&u->rxbufs, (uint32_t)b);
		return 0;
	}
	rx_chain_free(u, pk->idx + i, nd);
	if (cs != XM_RXC_OK) {
		xm_rxbuf_put(&u->rxbufs, (uint32_t)b);
		u->st.rx_chain_drops++;
		return nd;
	}
	f->data = xm_rxbuf_data(&u->rxbufs, (uint32_t)b);
	f->len = len;
	f->cap = u->rxbufs.size;
	f->id = (uint64_t)tag << 32 | XM_UMEM_ID_RXBUF | (uint32_t)b;
	u->st.rx_chains++;
	*got = true;
	return nd;
}

int xm_umem_rx(struct xm_umem *u, struct xm_frame *f, int max, uint32_t tag)
{
	uint32_t idx = 0, n, i = 0;
	struct rx_peek pk;
	int out = 0;

	xm_umem_fill_refill(u);
	/* Busy polling: this call is what runs the device's NAPI (the
	 * kernel's af_xdp.rst), so it is made on every receive, not only when
	 * the ring is empty, as the rx ring is refilled by it. */
	if (u->cfg.busy_poll)
		rx_wakeup(u);
	/* A chain counts as one frame but spans many descriptors: peek all
	 * there is, and give back what this call does not take. */
	n = xsk_ring_cons__peek(&u->rx, u->sg ? u->n_rx : (uint32_t)max, &idx);
	if (!n) {
		if (!u->cfg.busy_poll)
			rx_wakeup(u);
		return 0;
	}
	pk.u = u;
	pk.idx = idx;
	while (i < n && out < max) {
		const struct xdp_desc *d = xsk_ring_cons__rx_desc(&u->rx, idx + i);
		uint64_t addr = xsk_umem__extract_addr(d->addr);
		uint32_t fi = (uint32_t)(addr / u->cfg.frame_size);
		uint32_t off = (uint32_t)(addr % u->cfg.frame_size);

		if (d->options & XDP_PKT_CONTD) {
			bool got;
			uint32_t nd = rx_chain(u, &pk, i, n, &f[out], tag, &got);

			if (!nd)
				break;
			i += nd;
			out += got;
			continue;
		}
		i++;
		if (fi >= u->n_rx) {
			/* Not an rx frame of ours: never posted, never taken. */
			u->st.bad_transitions++;
			continue;
		}
		if (!frame_move(u, fi, XM_FS_FILL, XM_FS_RX_HELD))
			continue;
		if (off + d->len > u->cfg.frame_size) {
			/* A descriptor running past its frame: drop it, but
			 * the frame itself goes back to the pool. */
			frame_move(u, fi, XM_FS_RX_HELD, XM_FS_RX_FREE);
			u->rx_free[u->n_rx_free++] = fi;
			u->st.rx_bad_desc++;
			continue;
		}
		/* The kernel wrote the frame moments ago, maybe from another
		 * CPU: start loading its headers and the start of its payload
		 * now, so the stack does not wait on each frame in turn. */
		__builtin_prefetch(u->area + addr);
		__builtin_prefetch(u->area + addr + 64);
		f[out].data = u->area + addr;
		f[out].len = d->len;
		f[out].cap = u->cfg.frame_size - off;
		f[out].id = (uint64_t)tag << 32 | fi;
		out++;
	}
	if (i < n)
		xsk_ring_cons__cancel(&u->rx, n - i);
	if (i)
		xsk_ring_cons__release(&u->rx, i);
	u->st.rx_frames += (uint64_t)out;
	return out;
}

bool xm_umem_rx_ready(struct xm_umem *u)
{
	/* Busy polling: the kernel fills the ring only when asked. */
	if (u->cfg.busy_poll)
		rx_wakeup(u);
	return xsk_cons_nb_avail(&u->rx, 1) > 0;
}

void xm_umem_rx_release(struct xm_umem *u, const struct xm_frame *f)
{
	uint32_t fi = (uint32_t)f->id;

	if (fi & XM_UMEM_ID_RXBUF) {
		xm_rxbuf_put(&u->rxbufs, fi & ~XM_UMEM_ID_RXBUF);
		return;
	}
	if (fi < u->n_rx && frame_move(u, fi, XM_FS_RX_HELD, XM_FS_RX_FREE))
		u->rx_free[u->n_rx_free++] = fi;
	else if (fi >= u->n_rx)
		u->st.bad_transitions++;
}

int xm_umem_tx_alloc(struct xm_umem *u, struct xm_frame *f, int n, uint32_t tag)
{
	int i;

	if ((uint32_t)n > u->n_tx_free)
		xm_umem_comp_drain(u);
	for (i = 0; i < n && u->n_tx_free; i++) {
		uint32_t fi = u->tx_free[--u->n_tx_free];

		frame_move(u, fi, XM_FS_TX_FREE, XM_FS_TX_HELD);
		f[i].data = u->area + frame_addr(u, fi);
		f[i].len = 0;
		f[i].cap = u->cfg.frame_size;
		f[i].id = (uint64_t)tag << 32 | fi;
		f[i].owner = NULL;
	}
	return i;
}

void xm_umem_tx_abort(struct xm_umem *u, const struct xm_frame *f)
{
	uint32_t fi = (uint32_t)f->id;

	if (fi >= u->n_rx && frame_move(u, fi, XM_FS_TX_HELD, XM_FS_TX_FREE))
		u->tx_free[u->n_tx_free++] = fi;
	else if (fi < u->n_rx)
		u->st.bad_transitions++;
}

bool xm_umem_tx_queue(struct xm_umem *u, const struct xm_frame *f)
{
	uint32_t fi = (uint32_t)f->id, idx = 0;
	uint64_t base = frame_addr(u, fi), off;
	struct xdp_desc *d;

	if (fi < u->n_rx || fi >= u->cfg.frames || u->state[fi] != XM_FS_TX_HELD) {
		u->st.bad_transitions++;
		goto drop;
	}
	off = (uint64_t)(f->data - u->area);
	if (off < base || f->len == 0 ||
	    off + f->len > base + u->cfg.frame_size) {
		xm_umem_tx_abort(u, f);
		goto drop;
	}
	/* Cannot fail: the tx ring holds as many entries as the tx pool. */
	if (xsk_ring_prod__reserve(&u->tx, 1, &idx) != 1) {
		xm_umem_tx_abort(u, f);
		goto drop;
	}
	d = xsk_ring_prod__tx_desc(&u->tx, idx);
	d->addr = off;
	d->len = f->len;
	d->options = 0;
	frame_move(u, fi, XM_FS_TX_HELD, XM_FS_TX_FLIGHT);
	u->tx_owner[fi - u->n_rx] = f->owner;
	u->tx_len[fi - u->n_rx] = f->len;
	u->st.tx_frames++;
	return true;
drop:
	u->st.tx_dropped++;
	tx_report(u, f->owner, f->len);
	return false;
}

static uint32_t tx_ring_outstanding(const struct xm_umem *u)
{
	return u->tx.cached_prod - __atomic_load_n(u->tx.consumer, __ATOMIC_ACQUIRE);
}

static bool tx_wakeup(struct xm_umem *u)
{
	if (u->cfg.need_wakeup && !xsk_ring_prod__needs_wakeup(&u->tx))
		return false;
	u->st.tx_kicks++;
	if (sendto(xsk_socket__fd(u->xsk), NULL, 0, MSG_DONTWAIT, NULL, 0) >= 0)
		return true;
	/* EAGAIN: the copy-mode budget per call ran out, more remains;
	 * EBUSY/ENOBUFS: transient, the descriptors stay for the next kick. */
	return errno == EAGAIN || errno == EBUSY || errno == ENOBUFS ||
	       errno == EINTR;
}

void xm_umem_tx_flush(struct xm_umem *u)
{
	uint32_t pending = u->tx.cached_prod - *u->tx.producer;
	int rounds;

	if (pending)
		xsk_ring_prod__submit(&u->tx, pending);
	if (!tx_ring_outstanding(u))
		return;
	if (u->cfg.zerocopy) {
		/* The driver transmits asynchronously; one wake-up is enough. */
		tx_wakeup(u);
		return;
	}
	/* Copy mode transmits inside sendto(), a bounded batch per call: kick
	 * until the ring is empty, reaping completions so they never fill. */
	for (rounds = 0; rounds < 64 && tx_ring_outstanding(u); rounds++) {
		if (!tx_wakeup(u))
			break;
		xm_umem_comp_drain(u);
	}
}

void xm_umem_kick(struct xm_umem *u)
{
	xm_umem_comp_drain(u);
	if (tx_ring_outstanding(u))
		xm_umem_tx_flush(u);
	xm_umem_fill_refill(u);
}

uint64_t xm_umem_tx_pending(const struct xm_umem *u)
{
	return u->count[XM_FS_TX_FLIGHT];
}

void xm_umem_accounting(const struct xm_umem *u, struct xm_frame_accounting *a)
{
	uint32_t in_rx = __atomic_load_n(u->rx.producer, __ATOMIC_ACQUIRE) -
			 *u->rx.consumer;

	if (in_rx > u->count[XM_FS_FILL])
		in_rx = (uint32_t)u->count[XM_FS_FILL];
	a->total += u->cfg.frames;
	/* From the free lists themselves, not the state counts, so a frame
	 * pushed twice shows up as a sum above the total. */
	a->free += (uint64_t)u->n_rx_free + u->n_tx_free;
	a->fill += u->count[XM_FS_FILL] - in_rx;
	a->rx_ring += in_rx;
	a->rx_held += u->count[XM_FS_RX_HELD];
	a->tx_held += u->count[XM_FS_TX_HELD];
	a->tx_in_flight += u->count[XM_FS_TX_FLIGHT];
}
