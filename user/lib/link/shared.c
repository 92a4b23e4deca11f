// SPDX-License-Identifier: MIT
/*
 * The shared AF_XDP link: a program's side of a device the daemon serves
 * (user/lib/daemon/proto.h). Per queue it has its own AF_XDP socket (rx and
 * tx rings), the daemon's UMEM mapped, and a channel: received frames go
 * back on `ret`, tx frames arrive lent (and again once completed) on
 * `give`, and the channel's marks say what it holds, so the daemon can take
 * everything back if this process dies. The fill and completion rings are
 * the daemon's: it is woken (doorbell) when it sleeps and is owed work.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>
#include <linux/if_ether.h>
#include <linux/if_xdp.h>

#include "../daemon/conn.h"
#include "../daemon/msg.h"
#include "fstate.h"
#include "kview.h"
#include "link.h"
#include "rxchain.h"
#include "umem.h"
#include "xsk_map.h"

enum sh_fstate {
	SH_NONE = 0,    /* not ours (the daemon's, or another program's) */
	SH_RX_HELD,     /* received, lent to the stack */
	SH_TX_FREE,     /* lent to us by the daemon, idle */
	SH_TX_HELD,     /* lent to the stack by tx_alloc */
	SH_TX_FLIGHT,   /* submitted: tx ring, device, completion */
	SH_MAX,
};

/* How often an idle receive looks whether the daemon is still there. */
#define DAEMON_CHECK_NS 1000000ull

struct shq {
	uint32_t qid;
	int xsk_fd;
	uint32_t frames;
	uint32_t frame_size;
	uint8_t *area;
	uint64_t area_size;
	uint8_t *chan;
	uint64_t chan_size;
	struct xmd_chan_hdr *hdr;
	struct xsk_ring_cons rx;
	struct xsk_ring_prod tx;
	struct xm_xsk_mapping rx_m, tx_m;
	struct xsk_ring_cons give;
	struct xsk_ring_prod ret;
	uint8_t *mark;
	uint8_t *state;
	uint64_t count[SH_MAX];
	uint32_t *tx_free;
	uint32_t n_tx_free;
	void **tx_owner;
	uint32_t *tx_len;
	uint64_t lent;            /* frames the daemon lent us, in all */
	uint64_t bad;             /* frames in a state they cannot be in */
	uint32_t unannounced;     /* frames put on ret since the last doorbell */
	bool want_more;           /* tx_want raised since the last doorbell */
	struct xm_rxbuf_pool rxbufs; /* gathered chains; none without SG */
};

struct shared {
	struct xm_link link;
	struct xm_kview kv;
	struct xmd_conn *conn;
	int epfd;
	uint32_t n_q;
	uint32_t rx_next;
	uint64_t next_check_ns;
	bool down;                /* the daemon is gone: sockets closed */
	struct shq *q;
};

static struct shared *to_sh(struct xm_link *l)
{
	return (struct shared *)l;
}

static uint64_t mono_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

static bool frame_move(struct shq *q, uint32_t fi, enum sh_fstate from,
		       enum sh_fstate to)
{
	if (xm_fstate_move(q->state, q->count, q->frames, fi, from, to))
		return true;
	q->bad++;
	return false;
}

static void mark(struct shq *q, uint32_t fi, enum xmd_mark m)
{
	__atomic_store_n(&q->mark[fi], (uint8_t)m, __ATOMIC_RELAXED);
}

static void tx_flight_report_all(struct shared *s, struct shq *q)
{
	for (uint32_t fi = 0; q->state && fi < q->frames; fi++)
		if (q->state[fi] == SH_TX_FLIGHT) {
			void *owner = q->tx_owner[fi];

			q->tx_owner[fi] = NULL;
			frame_move(q, fi, SH_TX_FLIGHT, SH_TX_FREE);
			q->tx_free[q->n_tx_free++] = fi;
			xm_link_tx_done(&s->link, owner, q->tx_len[fi]);
		}
}

/* The daemon is gone: close our sockets, so they leave the xsks map and
 * our ports fall back at once even if the program lingers; every call
 * fails with ENETDOWN from now on. The UMEM stays mapped for the frames
 * the stack still holds. */
static void link_down(struct shared *s)
{
	if (s->down)
		return;
	s->down = true;
	s->conn->dead = true;
	for (uint32_t qi = 0; qi < s->n_q; qi++) {
		struct shq *q = &s->q[qi];

		xm_xsk_ring_unmap(&q->rx_m);
		xm_xsk_ring_unmap(&q->tx_m);
		if (q->xsk_fd >= 0)
			close(q->xsk_fd);
		q->xsk_fd = -1;
		tx_flight_report_all(s, q);
	}
}

/* The daemon is gone when its socket reads EOF (it never speaks first). */
static bool daemon_gone(struct shared *s)
{
	char b;

	if (!s->conn->dead &&
	    (recv(s->conn->sock, &b, 1, MSG_PEEK | MSG_DONTWAIT) == 0 ||
	     (errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR)))
		s->conn->dead = true;
	if (s->conn->dead)
		link_down(s);
	return s->down;
}

/* Frames the daemon lent or gave back after completion. */
static void give_pull(struct shared *s, struct shq *q)
{
	uint32_t idx = 0, n = xsk_ring_cons__peek(&q->give, q->give.size, &idx);

	for (uint32_t i = 0; i < n; i++) {
		uint64_t addr = *xsk_ring_cons__comp_addr(&q->give, idx + i);
		uint32_t fi = (uint32_t)(addr / q->frame_size);

		if (fi >= q->frames) {
			q->bad++;
			continue;
		}
		if (q->state[fi] == SH_TX_FLIGHT) {
			void *owner = q->tx_owner[fi];

			q->tx_owner[fi] = NULL;
			frame_move(q, fi, SH_TX_FLIGHT, SH_TX_FREE);
			xm_link_tx_done(&s->link, owner, q->tx_len[fi]);
		} else if (q->state[fi] == SH_NONE) {
			frame_move(q, fi, SH_NONE, SH_TX_FREE);
			q->lent++;
		} else {
			q->bad++;
			continue;
		}
		mark(q, fi, XMD_MARK_TX_FREE);
		q->tx_free[q->n_tx_free++] = fi;
	}
	if (n)
		xsk_ring_cons__release(&q->give, n);
}

struct sh_peek {
	struct shq *q;
	uint32_t idx;             /* ring index of the first peeked descriptor */
};

static bool sh_desc_get(void *ctx, uint32_t i, struct xm_rx_desc *out)
{
	struct sh_peek *pk = ctx;
	struct shq *q = pk->q;
	const struct xdp_desc *d = xsk_ring_cons__rx_desc(&q->rx, pk->idx + i);
	uint64_t addr = xsk_umem__extract_addr(d->addr);

	out->more = d->options & XDP_PKT_CONTD;
	out->data = q->area + addr;
	out->len = d->len;
	return addr / q->frame_size < q->frames &&
	       addr % q->frame_size + d->len <= q->frame_size;
}

/* A frame we give back unread (or copied) to the daemon. */
static void ret_push(struct shq *q, uint64_t addr)
{
	*xsk_ring_prod__fill_addr(&q->ret, q->ret.cached_prod++) = addr;
	q->unannounced++;
}

static void ret_publish(struct shq *q)
{
	if (q->ret.cached_prod != *q->ret.producer)
		__atomic_store_n(q->ret.producer, q->ret.cached_prod, __ATOMIC_RELEASE);
}

/* The chain at peeked descriptor k (a packet larger than one frame):
 * copied into an rx buffer, its frames straight back to the daemon. The
 * descriptors it took, 0 to stop for now (no buffer free, or the chain
 * not all in the ring yet); *got when f was filled. */
static uint32_t rx_chain(struct shq *q, struct sh_peek *pk, uint32_t k, uint32_t n,
			 uint32_t qi, struct xm_frame *f, bool *got)
{
	struct xm_rx_descs ds = { .get = sh_desc_get, .ctx = pk, .n = n };
	enum xm_rx_chain_status cs;
	uint32_t nd = 0, len = 0;
	int b = xm_rxbuf_get(&q->rxbufs);

	*got = false;
	if (b < 0)
		return 0;
	cs = xm_rx_chain_gather(&ds, k, xm_rxbuf_data(&q->rxbufs, (uint32_t)b),
				q->rxbufs.size, &nd, &len);
	if (cs == XM_RXC_INCOMPLETE) {
		xm_rxbuf_put(&q->rxbufs, (uint32_t)b);
		return 0;
	}
	for (uint32_t j = 0; j < nd; j++) {
		uint64_t addr = xsk_umem__extract_addr(
			xsk_ring_cons__rx_desc(&q->rx, pk->idx + k + j)->addr);

		if (addr / q->frame_size < q->frames)
			ret_push(q, addr);
		else
			q->bad++;
	}
	if (cs != XM_RXC_OK) {
		xm_rxbuf_put(&q->rxbufs, (uint32_t)b);
		q->bad++;
		return nd;
	}
	f->data = xm_rxbuf_data(&q->rxbufs, (uint32_t)b);
	f->len = len;
	f->cap = q->rxbufs.size;
	f->id = (uint64_t)qi << 32 | XM_UMEM_ID_RXBUF | (uint32_t)b;
	f->owner = NULL;
	*got = true;
	return nd;
}

static int sh_rx(struct xm_link *l, struct xm_frame *f, int max)
{
	struct shared *s = to_sh(l);
	int got = 0;

	if (s->down)
		return -ENETDOWN;
	for (uint32_t i = 0; i < s->n_q && got < max; i++) {
		uint32_t qi = (s->rx_next + i) % s->n_q, idx = 0, n, k = 0;
		struct shq *q = &s->q[qi];
		struct sh_peek pk = { .q = q };

		/* A chain counts as one frame but spans many descriptors:
		 * peek all there is, and give back what this call leaves. */
		n = xsk_ring_cons__peek(&q->rx, q->rxbufs.n ? q->rx.size :
					(uint32_t)(max - got), &idx);
		pk.idx = idx;
		while (k < n && got < max) {
			const struct xdp_desc *d = xsk_ring_cons__rx_desc(&q->rx, idx + k);
			uint64_t addr = xsk_umem__extract_addr(d->addr);
			uint32_t fi = (uint32_t)(addr / q->frame_size);

			if (d->options & XDP_PKT_CONTD) {
				bool filled;
				uint32_t nd = rx_chain(q, &pk, k, n, qi, &f[got], &filled);

				if (!nd)
					break;
				k += nd;
				got += filled;
				continue;
			}
			k++;
			/* Mark before the ring lets go of it, so that at
			 * every instant the daemon can find it. */
			if (fi >= q->frames || !frame_move(q, fi, SH_NONE, SH_RX_HELD))
				continue;
			mark(q, fi, XMD_MARK_RX);
			if (addr % q->frame_size + d->len > q->frame_size) {
				q->bad++;   /* past its frame: hand it back unread */
				frame_move(q, fi, SH_RX_HELD, SH_NONE);
				ret_push(q, addr);
				continue;
			}
			f[got].data = q->area + addr;
			f[got].len = d->len;
			f[got].cap = q->frame_size - (uint32_t)(addr % q->frame_size);
			f[got].id = (uint64_t)qi << 32 | fi;
			f[got].owner = NULL;
			got++;
		}
		if (k < n)
			xsk_ring_cons__cancel(&q->rx, n - k);
		if (k)
			xsk_ring_cons__release(&q->rx, k);
		ret_publish(q);
	}
	s->rx_next = (s->rx_next + 1) % s->n_q;
	if (!got) {
		uint64_t now = mono_ns();

		if (now >= s->next_check_ns) {
			s->next_check_ns = now + DAEMON_CHECK_NS;
			if (daemon_gone(s))
				return -ENETDOWN;
		}
	}
	return got;
}

static bool sh_rx_ready(struct xm_link *l)
{
	struct shared *s = to_sh(l);

	if (s->down)
		return true;   /* so that the caller receives, and hears ENETDOWN */
	for (uint32_t i = 0; i < s->n_q; i++)
		if (xsk_cons_nb_avail(&s->q[i].rx, 1))
			return true;
	return false;
}

static struct shq *frame_q(struct shared *s, const struct xm_frame *f)
{
	uint32_t qi = (uint32_t)(f->id >> 32);

	return qi < s->n_q ? &s->q[qi] : NULL;
}

static void sh_rx_release(struct xm_link *l, struct xm_frame *f, int n)
{
	struct shared *s = to_sh(l);

	for (int i = 0; i < n; i++) {
		struct shq *q = frame_q(s, &f[i]);
		uint32_t fi = (uint32_t)f[i].id;

		if (q && (fi & XM_UMEM_ID_RXBUF)) {
			xm_rxbuf_put(&q->rxbufs, fi & ~XM_UMEM_ID_RXBUF);
			continue;
		}
		if (!q || !frame_move(q, fi, SH_RX_HELD, SH_NONE) || s->down)
			continue;
		/* Never full: it holds every frame of the UMEM. The daemon
		 * clears the mark once it has the frame back. */
		ret_push(q, (uint64_t)fi * q->frame_size);
	}
	for (uint32_t qi = 0; qi < s->n_q; qi++)
		ret_publish(&s->q[qi]);
}

static int sh_tx_alloc(struct xm_link *l, struct xm_frame *f, int n)
{
	struct shared *s = to_sh(l);
	int got = 0;

	if (s->down || s->conn->dead)
		return -ENETDOWN;
	for (uint32_t qi = 0; qi < s->n_q && got < n; qi++) {
		struct shq *q = &s->q[qi];

		if (q->n_tx_free < (uint32_t)(n - got))
			give_pull(s, q);
		/* Every frame lent is out and none came back: ask for more
		 * (proto.h, XMD_TX_LOAN_MAX). */
		if (!q->n_tx_free && q->count[SH_TX_FLIGHT] == q->lent &&
		    q->hdr->tx_want < XMD_TX_LOAN_MAX && q->hdr->tx_want <= q->lent) {
			__atomic_store_n(&q->hdr->tx_want, q->hdr->tx_want + XMD_TX_LOAN,
					 __ATOMIC_RELAXED);
			q->want_more = true;
		}
		while (q->n_tx_free && got < n) {
			uint32_t fi = q->tx_free[--q->n_tx_free];

			frame_move(q, fi, SH_TX_FREE, SH_TX_HELD);
			f[got].data = q->area + (uint64_t)fi * q->frame_size;
			f[got].len = 0;
			f[got].cap = q->frame_size;
			f[got].id = (uint64_t)qi << 32 | fi;
			f[got].owner = NULL;
			got++;
		}
	}
	return got;
}

static void tx_abort_one(struct shq *q, uint32_t fi)
{
	if (frame_move(q, fi, SH_TX_HELD, SH_TX_FREE))
		q->tx_free[q->n_tx_free++] = fi;
}

static void sh_tx_abort(struct xm_link *l, struct xm_frame *f, int n)
{
	struct shared *s = to_sh(l);

	for (int i = 0; i < n; i++) {
		struct shq *q = frame_q(s, &f[i]);

		if (q)
			tx_abort_one(q, (uint32_t)f[i].id);
	}
}

static uint32_t tx_outstanding(const struct shq *q)
{
	return q->tx.cached_prod - __atomic_load_n(q->tx.consumer, __ATOMIC_ACQUIRE);
}

static void tx_flush(struct shq *q)
{
	uint32_t pending = q->tx.cached_prod - *q->tx.producer;

	if (pending)
		xsk_ring_prod__submit(&q->tx, pending);
	/* Copy mode sends a bounded batch per call: kick until empty. */
	for (int rounds = 0; rounds < 64 && tx_outstanding(q); rounds++) {
		if (!xsk_ring_prod__needs_wakeup(&q->tx))
			break;
		if (sendto(q->xsk_fd, NULL, 0, MSG_DONTWAIT, NULL, 0) < 0 &&
		    errno != EAGAIN && errno != EBUSY && errno != ENOBUFS && errno != EINTR)
			break;
	}
}

static int sh_tx_submit(struct xm_link *l, struct xm_frame *f, int n)
{
	struct shared *s = to_sh(l);
	bool touched[64] = { false };
	int queued = 0;

	for (int i = 0; i < n; i++) {
		struct shq *q = frame_q(s, &f[i]);
		uint32_t fi = (uint32_t)f[i].id, idx = 0;
		struct xdp_desc *d;

		if (!q || s->down || f[i].len > q->frame_size ||
		    !frame_move(q, fi, SH_TX_HELD, SH_TX_FLIGHT)) {
			if (q && fi < q->frames && q->state[fi] == SH_TX_HELD)
				tx_abort_one(q, fi);
			xm_link_tx_done(l, f[i].owner, f[i].len);
			continue;
		}
		/* Cannot fail: the tx ring holds the whole loan. */
		xsk_ring_prod__reserve(&q->tx, 1, &idx);
		mark(q, fi, XMD_MARK_TX_SUB);
		q->tx_owner[fi] = f[i].owner;
		q->tx_len[fi] = f[i].len;
		d = xsk_ring_prod__tx_desc(&q->tx, idx);
		d->addr = (uint64_t)fi * q->frame_size;
		d->len = f[i].len;
		d->options = 0;
		touched[f[i].id >> 32 & 63] = true;
		queued++;
	}
	for (uint32_t qi = 0; qi < s->n_q && qi < 64; qi++)
		if (touched[qi])
			tx_flush(&s->q[qi]);
	return queued;
}

/* Wake the daemon, when it sleeps, only for work that cannot wait for its
 * next look at the rings (it looks every few milliseconds while programs
 * are connected): a doorbell is a syscall here and a wakeup there, and a
 * round trip per request would double a request's cost. Returned frames can
 * wait until they are many (the fill ring holds XMD_FILL_RING); completions
 * until enough frames are out that a sender may soon wait for them (its
 * send buffer or its loan). */
#define RING_RETURNED   256
#define RING_IN_FLIGHT  64

static void sh_kick(struct xm_link *l)
{
	struct shared *s = to_sh(l);
	bool ring = false;

	if (s->down)
		return;
	for (uint32_t qi = 0; qi < s->n_q; qi++) {
		struct shq *q = &s->q[qi];

		if (tx_outstanding(q))
			tx_flush(q);
		give_pull(s, q);
		if (q->unannounced < RING_RETURNED && q->count[SH_TX_FLIGHT] < RING_IN_FLIGHT &&
		    !q->want_more)
			continue;
		if (!__atomic_load_n(&q->hdr->need_wakeup, __ATOMIC_SEQ_CST))
			continue;
		ring = true;
		q->unannounced = 0;
		q->want_more = false;
	}
	if (ring && !s->conn->dead) {
		uint64_t one = 1;

		if (write(s->conn->doorbell, &one, sizeof(one)) < 0) {
			/* EAGAIN: the counter is full, it will wake anyway */
		}
	}
}

static int sh_poll_fd(struct xm_link *l)
{
	return to_sh(l)->epfd;
}

static int sh_info(struct xm_link *l, struct xm_link_info *info)
{
	struct shared *s = to_sh(l);

	int err = xm_kview_info(&s->kv, s->q[0].frame_size - XDP_PACKET_HEADROOM -
				ETH_HLEN, info);

	info->rx_multibuf = s->conn->hello.multibuf;
	/* No packet socket (it takes CAP_NET_RAW, which a client of the
	 * daemon lacks): TCP sends frames of one MTU. */
	info->gso_max_size = info->gso_max_segs = 0;
	return err;
}

static int sh_route(struct xm_link *l, int family, const void *dst, void *nexthop,
		    void *src)
{
	return xm_kview_route(&to_sh(l)->kv, family, dst, nexthop, src);
}

static int sh_neigh(struct xm_link *l, int family, const void *nexthop, uint8_t mac[6])
{
	return xm_kview_neigh(&to_sh(l)->kv, family, nexthop, mac);
}

static int daemon_neigh_use(void *ctx, int family, const void *addr)
{
	return xmd_conn_neigh_use(ctx, family, addr);
}

static int sh_accounting(struct xm_link *l, struct xm_frame_accounting *a)
{
	struct shared *s = to_sh(l);
	uint64_t bad = 0;

	memset(a, 0, sizeof(*a));
	for (uint32_t qi = 0; qi < s->n_q; qi++) {
		struct shq *q = &s->q[qi];
		uint32_t in_rx = s->down ? 0 :
				 __atomic_load_n(q->rx.producer, __ATOMIC_ACQUIRE) -
				 *q->rx.consumer;

		/* Ours: what the daemon lent, and what arrived and is not
		 * yet handed back. */
		a->total += q->lent + in_rx + q->count[SH_RX_HELD];
		a->free += q->n_tx_free;
		a->rx_ring += in_rx;
		a->rx_held += q->count[SH_RX_HELD];
		a->tx_held += q->count[SH_TX_HELD];
		a->tx_in_flight += q->count[SH_TX_FLIGHT];
		bad += q->bad;
	}
	return bad ? -EUCLEAN : 0;
}

static void shq_close(struct shared *s, struct shq *q)
{
	/* Let queued replies leave before the socket goes. */
	for (int spin = 0; !s->down && q->tx_m.base && spin < 1000 && tx_outstanding(q);
	     spin++) {
		tx_flush(q);
		if (tx_outstanding(q))
			usleep(100);
	}
	/* What never completed is free all the same once the socket goes. */
	tx_flight_report_all(s, q);
	xm_xsk_ring_unmap(&q->rx_m);
	xm_xsk_ring_unmap(&q->tx_m);
	if (q->xsk_fd >= 0)
		close(q->xsk_fd);
	if (q->area)
		munmap(q->area, q->area_size);
	if (q->chan)
		munmap(q->chan, q->chan_size);
	free(q->state);
	free(q->tx_free);
	free(q->tx_owner);
	free(q->tx_len);
	xm_rxbuf_pool_fini(&q->rxbufs);
}

static void sh_close(struct xm_link *l)
{
	struct shared *s = to_sh(l);

	for (uint32_t i = 0; s->q && i < s->n_q; i++)
		shq_close(s, &s->q[i]);
	free(s->q);
	if (s->epfd >= 0)
		close(s->epfd);
	xm_kview_close(&s->kv);
	/* Closing the connection is what tells the daemon to take back
	 * whatever we still held. */
	xmd_conn_close(s->conn);
	free(s);
}

static const struct xm_link_ops shared_ops = {
	.rx = sh_rx,
	.rx_ready = sh_rx_ready,
	.rx_release = sh_rx_release,
	.tx_alloc = sh_tx_alloc,
	.tx_submit = sh_tx_submit,
	.tx_abort = sh_tx_abort,
	.poll_fd = sh_poll_fd,
	.info = sh_info,
	.route = sh_route,
	.neigh = sh_neigh,
	.accounting = sh_accounting,
	.wait = NULL,
	.kick = sh_kick,
	.close = sh_close,
};

static int shq_open(struct shared *s, struct shq *q, struct xmd_conn_queue *cq)
{
	const struct xmd_hello_reply *h = &s->conn->hello;
	void *p;
	int err;

	q->qid = cq->q.queue_id;
	q->frames = h->frames;
	q->frame_size = h->frame_size;
	q->xsk_fd = cq->xsk_fd;
	cq->xsk_fd = -1;
	if (cq->q.give_size & (cq->q.give_size - 1) || cq->q.ret_size & (cq->q.ret_size - 1) ||
	    cq->q.chan_size != xmd_chan_size(cq->q.give_size, cq->q.ret_size, q->frames) ||
	    cq->q.umem_size != (uint64_t)q->frames * q->frame_size)
		return -EPROTO;
	p = mmap(NULL, cq->q.umem_size, PROT_READ | PROT_WRITE, MAP_SHARED, cq->umem_fd, 0);
	if (p == MAP_FAILED)
		return -errno;
	q->area = p;
	q->area_size = cq->q.umem_size;
	p = mmap(NULL, cq->q.chan_size, PROT_READ | PROT_WRITE, MAP_SHARED, cq->chan_fd, 0);
	if (p == MAP_FAILED)
		return -errno;
	q->chan = p;
	q->chan_size = cq->q.chan_size;
	q->hdr = p;
	if (q->hdr->magic != XMD_MAGIC)
		return -EPROTO;
	xmd_ring_cons_init(&q->give, q->chan + xmd_chan_give_off(), cq->q.give_size);
	xmd_ring_prod_init(&q->ret, q->chan + xmd_chan_ret_off(cq->q.give_size),
			   cq->q.ret_size);
	q->mark = q->chan + xmd_chan_mark_off(cq->q.give_size, cq->q.ret_size);
	err = xm_xsk_ring_map(q->xsk_fd, XM_XSK_RX, cq->q.rx_size, NULL, &q->rx, &q->rx_m);
	if (!err)
		err = xm_xsk_ring_map(q->xsk_fd, XM_XSK_TX, cq->q.tx_size, &q->tx, NULL,
				      &q->tx_m);
	if (err)
		return err;
	q->state = calloc(q->frames, 1);
	q->tx_free = calloc(q->frames, sizeof(uint32_t));
	q->tx_owner = calloc(q->frames, sizeof(void *));
	q->tx_len = calloc(q->frames, sizeof(uint32_t));
	if (!q->state || !q->tx_free || !q->tx_owner || !q->tx_len)
		return -ENOMEM;
	q->count[SH_NONE] = q->frames;
	if (h->multibuf)
		return xm_rxbuf_pool_init(&q->rxbufs, XM_UMEM_RXBUFS, XM_UMEM_RXBUF_SIZE);
	return 0;
}

int xm_link_shared_open(const char *dev, struct xmd_conn *conn, struct xm_link **out)
{
	struct epoll_event ev = { .events = EPOLLIN };
	struct shared *s;
	int err;

	s = calloc(1, sizeof(*s));
	if (!s) {
		xmd_conn_close(conn);
		return -ENOMEM;
	}
	s->link.ops = &shared_ops;
	s->conn = conn;
	s->epfd = -1;
	err = xm_kview_open(&s->kv, dev);
	if (err)
		goto fail;
	s->kv.neigh_use = daemon_neigh_use;
	s->kv.neigh_ctx = conn;
	s->n_q = conn->hello.n_queues;
	s->q = calloc(s->n_q, sizeof(*s->q));
	s->epfd = epoll_create1(EPOLL_CLOEXEC);
	if (!s->q || s->epfd < 0) {
		err = s->epfd < 0 ? -errno : -ENOMEM;
		goto fail;
	}
	for (uint32_t i = 0; i < s->n_q; i++)
		s->q[i].xsk_fd = -1;
	for (uint32_t i = 0; i < s->n_q; i++) {
		err = shq_open(s, &s->q[i], &conn->queues[i]);
		if (err)
			goto fail;
		ev.data.u32 = i;
		if (epoll_ctl(s->epfd, EPOLL_CTL_ADD, s->q[i].xsk_fd, &ev)) {
			err = -errno;
			goto fail;
		}
	}
	err = xmd_conn_activate(conn);
	if (err)
		goto fail;
	for (uint32_t i = 0; i < s->n_q; i++)
		give_pull(s, &s->q[i]);   /* the loan, lent once we serve */
	/* The daemon's end closing (it died) wakes a sleeping stack, whose
	 * next receive then fails with ENETDOWN. */
	ev.events = EPOLLIN | EPOLLRDHUP;
	ev.data.u32 = UINT32_MAX;
	if (epoll_ctl(s->epfd, EPOLL_CTL_ADD, conn->sock, &ev)) {
		err = -errno;
		goto fail;
	}
	*out = &s->link;
	return 0;
fail:
	sh_close(&s->link);
	return err;
}
