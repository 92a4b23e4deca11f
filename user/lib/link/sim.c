// SPDX-License-Identifier: MIT
/*
 * Simulated link: an Ethernet segment shared by a few links, a virtual clock,
 * and seeded impairments (loss, duplication, reordering, delay, corruption)
 * applied to each frame a link sends. Deterministic: the only randomness is
 * the seed, so a failing test replays exactly.
 *
 * Each link owns a fixed pool of frame buffers, so frame accounting works as
 * on the AF_XDP link: free + rx_held + tx_held + tx_in_flight == total when
 * nothing leaked. Frames on the wire are copies and belong to no pool; the
 * buffer a frame was sent from stays in flight for the link's tx_done_ns
 * (the device's completion latency) and is reported to tx_done, in order,
 * as the AF_XDP completion ring returns frames.
 *
 * tx_gso cuts a TCP super-segment into frames as the kernel's software GSO
 * would (net/gso.c) and puts them on the wire with the same impairments;
 * it takes no buffer from the pool, as the AF_XDP link's packet socket
 * takes no UMEM frame.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "link.h"
#include "../net/net.h"

#define SIM_MAX_LINKS 8
#define SIM_ETH_HLEN 14
#define SIM_GSO_MAX_SIZE 65536   /* Linux's default gso_max_size */

struct sim_pkt {
	struct sim_pkt *next;
	uint64_t at;        /* virtual time of delivery */
	uint64_t seq;       /* tie-break: keeps equal times in send order */
	uint32_t len;
	uint8_t data[];
};

/* A sent frame whose buffer has not completed yet. */
struct sim_flight {
	uint64_t sent_at;
	void *owner;
	uint32_t id;
	uint32_t len;
};

struct sim_link {
	struct xm_link base;
	struct xm_sim *sim;
	struct xm_sim_opts o;
	uint32_t frame_size;
	uint8_t *mem;
	uint32_t *free_ids;
	uint32_t n_free;
	uint64_t rx_held;
	uint64_t tx_held;
	struct sim_flight *flight; /* ring of o.frames, oldest at flight_head */
	uint32_t flight_head;
	uint32_t n_flight;
	struct sim_pkt *rxq;   /* sorted by (at, seq) */
	uint64_t tx_oversize;
	uint8_t *gso_buf;      /* one frame: tx_gso builds its segments here */
};

struct xm_sim {
	uint64_t seed;
	uint64_t rng;
	uint64_t now;
	uint64_t seq;
	uint64_t in_flight;
	struct sim_link *links[SIM_MAX_LINKS];
};

/* splitmix64: small, good enough, and fully determined by the seed. */
static uint64_t sim_rand(struct xm_sim *s)
{
	uint64_t z = (s->rng += 0x9e3779b97f4a7c15ULL);

	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
	return z ^ (z >> 31);
}

static bool sim_chance(struct xm_sim *s, uint32_t ppm)
{
	return ppm && sim_rand(s) % 1000000 < ppm;
}

int xm_sim_new(uint64_t seed, struct xm_sim **out)
{
	struct xm_sim *s = calloc(1, sizeof(*s));

	if (!s)
		return -ENOMEM;
	s->seed = seed;
	s->rng = seed;
	s->now = 1000000000ULL; /* start at 1 s so "time 0" is never a deadline */
	*out = s;
	return 0;
}

void xm_sim_free(struct xm_sim *sim)
{
	free(sim);
}

uint64_t xm_sim_seed(const struct xm_sim *sim)
{
	return sim->seed;
}

uint64_t xm_sim_now(const struct xm_sim *sim)
{
	return sim->now;
}

void xm_sim_advance(struct xm_sim *sim, uint64_t ns)
{
	sim->now += ns;
}

uint64_t xm_sim_in_flight(const struct xm_sim *sim)
{
	return sim->in_flight;
}

uint64_t xm_sim_next_delivery(const struct xm_sim *sim)
{
	uint64_t t = UINT64_MAX;

	for (int k = 0; k < SIM_MAX_LINKS; k++) {
		const struct sim_link *sl = sim->links[k];

		if (sl && sl->rxq && sl->rxq->at < t)
			t = sl->rxq->at;
	}
	return t;
}

static uint64_t sim_now_cb(void *ctx)
{
	return ((struct xm_sim *)ctx)->now;
}

struct xm_clock xm_sim_clock(struct xm_sim *sim)
{
	return (struct xm_clock){ .now_ns = sim_now_cb, .ctx = sim };
}

static struct sim_link *to_sim(struct xm_link *l)
{
	return (struct sim_link *)l;
}

static uint8_t *frame_buf(struct sim_link *sl, uint32_t id)
{
	return sl->mem + (size_t)id * sl->frame_size;
}

static void rxq_insert(struct sim_link *sl, struct sim_pkt *p)
{
	struct sim_pkt **pp = &sl->rxq;

	while (*pp && ((*pp)->at < p->at ||
		       ((*pp)->at == p->at && (*pp)->seq < p->seq)))
		pp = &(*pp)->next;
	p->next = *pp;
	*pp = p;
	sl->sim->in_flight++;
}

static int sim_rx(struct xm_link *l, struct xm_frame *f, int max)
{
	struct sim_link *sl = to_sim(l);
	int n = 0;

	while (n < max && sl->rxq && sl->rxq->at <= sl->sim->now && sl->n_free) {
		struct sim_pkt *p = sl->rxq;
		uint32_t id = sl->free_ids[--sl->n_free];

		sl->rxq = p->next;
		sl->sim->in_flight--;
		memcpy(frame_buf(sl, id), p->data, p->len);
		f[n].data = frame_buf(sl, id);
		f[n].len = p->len;
		f[n].cap = sl->frame_size;
		f[n].id = id;
		free(p);
		sl->rx_held++;
		n++;
	}
	return n;
}

static void sim_give_back(struct sim_link *sl, struct xm_frame *f, int n,
			  uint64_t *held)
{
	for (int i = 0; i < n; i++) {
		sl->free_ids[sl->n_free++] = (uint32_t)f[i].id;
		(*held)--;
	}
}

static void sim_rx_release(struct xm_link *l, struct xm_frame *f, int n)
{
	struct sim_link *sl = to_sim(l);

	sim_give_back(sl, f, n, &sl->rx_held);
}

/* Virtual time the oldest in-flight buffer completes; UINT64_MAX: none
 * or held. */
static uint64_t flight_next(const struct sim_link *sl)
{
	uint64_t d = sl->o.tx.tx_done_ns, at;

	if (!sl->n_flight || d == UINT64_MAX)
		return UINT64_MAX;
	at = sl->flight[sl->flight_head].sent_at + d;
	return at < d ? UINT64_MAX - 1 : at;   /* saturate, never "held" */
}

static void flight_done(struct sim_link *sl)
{
	struct sim_flight *fl = &sl->flight[sl->flight_head];

	sl->flight_head = (sl->flight_head + 1) % sl->o.frames;
	sl->n_flight--;
	sl->free_ids[sl->n_free++] = fl->id;
	xm_link_tx_done(&sl->base, fl->owner, fl->len);
}

/* Return the buffers whose completion is due, oldest first. */
static void flight_reap(struct sim_link *sl)
{
	while (flight_next(sl) <= sl->sim->now)
		flight_done(sl);
}

static int sim_tx_alloc(struct xm_link *l, struct xm_frame *f, int n)
{
	struct sim_link *sl = to_sim(l);
	int i;

	if ((uint32_t)n > sl->n_free)
		flight_reap(sl);
	for (i = 0; i < n && sl->n_free; i++) {
		uint32_t id = sl->free_ids[--sl->n_free];

		f[i].data = frame_buf(sl, id);
		f[i].len = 0;
		f[i].cap = sl->frame_size;
		f[i].id = id;
		f[i].owner = NULL;
		sl->tx_held++;
	}
	return i;
}

static bool mac_matches(const uint8_t *dst, const uint8_t *mac)
{
	return (dst[0] & 1) || memcmp(dst, mac, 6) == 0; /* multicast bit */
}

static void sim_deliver(struct sim_link *to, const struct xm_sim_impair *im,
			const uint8_t *data, uint32_t len)
{
	struct xm_sim *s = to->sim;
	int copies = 1;

	if (sim_chance(s, im->loss_ppm))
		return;
	if (sim_chance(s, im->dup_ppm))
		copies = 2;
	for (int c = 0; c < copies; c++) {
		struct sim_pkt *p = malloc(sizeof(*p) + len);

		if (!p)
			return;
		memcpy(p->data, data, len);
		p->len = len;
		p->at = s->now + im->delay_ns;
		p->seq = s->seq++;
		if (sim_chance(s, im->overtake_ppm))
			p->at = s->now;
		if (im->reorder_ns && sim_chance(s, im->reorder_ppm))
			p->at += 1 + sim_rand(s) % im->reorder_ns;
		if (len > SIM_ETH_HLEN && sim_chance(s, im->corrupt_ppm)) {
			uint32_t at = SIM_ETH_HLEN +
				      (uint32_t)(sim_rand(s) % (len - SIM_ETH_HLEN));

			p->data[at] ^= (uint8_t)(1u << (sim_rand(s) % 8));
		}
		rxq_insert(to, p);
	}
}

/* Put one frame on the wire: to every other link its MAC matches. */
static void sim_send(struct sim_link *sl, const uint8_t *data, uint32_t len)
{
	for (int k = 0; k < SIM_MAX_LINKS; k++) {
		struct sim_link *to = sl->sim->links[k];

		if (to && to != sl && mac_matches(data, to->o.mac))
			sim_deliver(to, &sl->o.tx, data, len);
	}
}

static int sim_tx_submit(struct xm_link *l, struct xm_frame *f, int n)
{
	struct sim_link *sl = to_sim(l);
	struct xm_sim *s = sl->sim;
	int sent = 0;

	for (int i = 0; i < n; i++) {
		struct sim_flight *fl;

		sl->tx_held--;
		if (f[i].len < SIM_ETH_HLEN ||
		    f[i].len > sl->o.mtu + SIM_ETH_HLEN) {
			sl->tx_oversize++;
			sl->free_ids[sl->n_free++] = (uint32_t)f[i].id;
			xm_link_tx_done(l, f[i].owner, f[i].len);
			continue;
		}
		sim_send(sl, f[i].data, f[i].len);
		fl = &sl->flight[(sl->flight_head + sl->n_flight++) % sl->o.frames];
		fl->sent_at = s->now;
		fl->owner = f[i].owner;
		fl->id = (uint32_t)f[i].id;
		fl->len = f[i].len;
		sent++;
	}
	flight_reap(sl);   /* tx_done_ns 0: done at once */
	return sent;
}

static void sim_gso_emit(void *ctx, const uint8_t *frame, uint32_t len)
{
	sim_send(ctx, frame, len);
}

static int sim_tx_gso(struct xm_link *l, const struct xm_link_gso *g)
{
	struct sim_link *sl = to_sim(l);
	int n;

	if (sl->o.no_gso)
		return -EOPNOTSUPP;
	if (g->hlen + g->gso_size > sl->o.mtu + SIM_ETH_HLEN ||
	    g->hlen + g->len[0] + g->len[1] > SIM_GSO_MAX_SIZE) {
		sl->tx_oversize++;
		return -EMSGSIZE;
	}
	n = xm_gso_segment(g, sl->gso_buf, sl->frame_size, sim_gso_emit, sl);
	return n < 0 ? n : 0;
}

static void sim_tx_abort(struct xm_link *l, struct xm_frame *f, int n)
{
	struct sim_link *sl = to_sim(l);

	sim_give_back(sl, f, n, &sl->tx_held);
}

static void sim_kick(struct xm_link *l)
{
	flight_reap(to_sim(l));
}

static int sim_poll_fd(struct xm_link *l)
{
	(void)l;
	return -1;
}

static int sim_info(struct xm_link *l, struct xm_link_info *info)
{
	struct sim_link *sl = to_sim(l);
	int idx = 0;

	for (int k = 0; k < SIM_MAX_LINKS; k++)
		if (sl->sim->links[k] == sl)
			idx = k;
	memset(info, 0, sizeof(*info));
	strcpy(info->name, "sim");
	info->name[3] = (char)('0' + idx);
	info->ifindex = 1000 + idx;
	memcpy(info->mac, sl->o.mac, 6);
	info->mtu = sl->o.mtu;
	info->dev_mtu = sl->o.mtu;
	info->rx_multibuf = true;   /* every frame is one buffer */
	if (!sl->o.no_gso) {
		info->gso_max_size = SIM_GSO_MAX_SIZE;
		info->gso_max_segs = 65535;
	}
	memcpy(info->kind, sl->o.kind, sizeof(info->kind) - 1);
	info->n_ipv4 = sl->o.n_ipv4;
	info->n_ipv6 = sl->o.n_ipv6;
	memcpy(info->ipv4, sl->o.ipv4, sizeof(info->ipv4));
	memcpy(info->ipv6, sl->o.ipv6, sizeof(info->ipv6));
	return 0;
}

/* The segment is one subnet: every destination is on-link. */
static int sim_route(struct xm_link *l, int family, const void *dst,
		     void *nexthop, void *src)
{
	struct sim_link *sl = to_sim(l);

	if (family == AF_INET && sl->o.n_ipv4) {
		memcpy(nexthop, dst, 4);
		memcpy(src, sl->o.ipv4[0].addr, 4);
		return 0;
	}
	if (family == AF_INET6 && sl->o.n_ipv6) {
		memcpy(nexthop, dst, 16);
		memcpy(src, sl->o.ipv6[0].addr, 16);
		return 0;
	}
	return -ENETUNREACH;
}

static bool sim_owns(const struct sim_link *sl, int family, const void *a)
{
	if (family == AF_INET) {
		for (uint32_t i = 0; i < sl->o.n_ipv4; i++)
			if (!memcmp(sl->o.ipv4[i].addr, a, 4))
				return true;
	} else {
		for (uint32_t i = 0; i < sl->o.n_ipv6; i++)
			if (!memcmp(sl->o.ipv6[i].addr, a, 16))
				return true;
	}
	return false;
}

static int sim_neigh(struct xm_link *l, int family, const void *nexthop,
		     uint8_t mac[6])
{
	struct sim_link *sl = to_sim(l);

	if (sl->sim->now < sl->o.neigh_ready_ns)
		return -EAGAIN;
	for (int k = 0; k < SIM_MAX_LINKS; k++) {
		struct sim_link *o = sl->sim->links[k];

		if (o && o != sl && sim_owns(o, family, nexthop)) {
			memcpy(mac, o->o.mac, 6);
			return 0;
		}
	}
	return -EHOSTUNREACH;
}

static int sim_accounting(struct xm_link *l, struct xm_frame_accounting *a)
{
	struct sim_link *sl = to_sim(l);

	memset(a, 0, sizeof(*a));
	a->total = sl->o.frames;
	a->free = sl->n_free;
	a->rx_held = sl->rx_held;
	a->tx_held = sl->tx_held;
	a->tx_in_flight = sl->n_flight;
	return 0;
}

/* Advance virtual time to the next delivery for this link, the next tx
 * completion or the deadline, whichever comes first. With none of them,
 * nothing can ever happen. */
static int sim_wait(struct xm_link *l, uint64_t deadline_ns)
{
	struct sim_link *sl = to_sim(l);
	struct xm_sim *s = sl->sim;
	uint64_t target = deadline_ns;

	if (sl->rxq && sl->rxq->at < target)
		target = sl->rxq->at;
	if (flight_next(sl) < target)
		target = flight_next(sl);
	if (target == UINT64_MAX)
		return -EDEADLK;
	if (target > s->now)
		s->now = target;
	return 0;
}

static void sim_close(struct xm_link *l)
{
	struct sim_link *sl = to_sim(l);

	for (int k = 0; k < SIM_MAX_LINKS; k++)
		if (sl->sim->links[k] == sl)
			sl->sim->links[k] = NULL;
	while (sl->n_flight)
		flight_done(sl);
	while (sl->rxq) {
		struct sim_pkt *p = sl->rxq;

		sl->rxq = p->next;
		sl->sim->in_flight--;
		free(p);
	}
	free(sl->mem);
	free(sl->free_ids);
	free(sl->flight);
	free(sl->gso_buf);
	free(sl);
}

static const struct xm_link_ops sim_ops = {
	.rx = sim_rx,
	.rx_release = sim_rx_release,
	.tx_alloc = sim_tx_alloc,
	.tx_submit = sim_tx_submit,
	.tx_abort = sim_tx_abort,
	.poll_fd = sim_poll_fd,
	.info = sim_info,
	.route = sim_route,
	.neigh = sim_neigh,
	.accounting = sim_accounting,
	.tx_gso = sim_tx_gso,
	.wait = sim_wait,
	.kick = sim_kick,
	.close = sim_close,
};

int xm_link_sim_open(const struct xm_sim_opts *o, struct xm_link **out)
{
	struct sim_link *sl;
	int slot = -1;

	if (!o || !o->sim || o->n_ipv4 > XM_LINK_MAX_ADDRS ||
	    o->n_ipv6 > XM_LINK_MAX_ADDRS)
		return -EINVAL;
	for (int k = SIM_MAX_LINKS - 1; k >= 0; k--)
		if (!o->sim->links[k])
			slot = k;
	if (slot < 0)
		return -ENOSPC;
	sl = calloc(1, sizeof(*sl));
	if (!sl)
		return -ENOMEM;
	sl->base.ops = &sim_ops;
	sl->sim = o->sim;
	sl->o = *o;
	if (!sl->o.mtu)
		sl->o.mtu = 1500;
	if (!sl->o.frames)
		sl->o.frames = 1024;
	sl->frame_size = (sl->o.mtu + SIM_ETH_HLEN + 63) & ~63u;
	sl->mem = malloc((size_t)sl->o.frames * sl->frame_size);
	sl->free_ids = malloc(sizeof(uint32_t) * sl->o.frames);
	sl->flight = malloc(sizeof(*sl->flight) * sl->o.frames);
	sl->gso_buf = malloc(sl->frame_size);
	if (!sl->mem || !sl->free_ids || !sl->flight || !sl->gso_buf) {
		free(sl->mem);
		free(sl->free_ids);
		free(sl->flight);
		free(sl->gso_buf);
		free(sl);
		return -ENOMEM;
	}
	for (uint32_t i = 0; i < sl->o.frames; i++)
		sl->free_ids[i] = sl->o.frames - 1 - i;
	sl->n_free = sl->o.frames;
	o->sim->links[slot] = sl;
	*out = &sl->base;
	return 0;
}

uint64_t xm_link_sim_next_delivery(struct xm_link *l)
{
	struct sim_link *sl = to_sim(l);

	return sl->rxq ? sl->rxq->at : UINT64_MAX;
}

void xm_link_sim_set_impair(struct xm_link *l, const struct xm_sim_impair *im)
{
	to_sim(l)->o.tx = *im;
}

void xm_link_sim_set_neigh_ready(struct xm_link *l, uint64_t ns)
{
	to_sim(l)->o.neigh_ready_ns = ns;
}
