// SPDX-License-Identifier: MIT
/*
 * TCP connections: the per-stack table (4-tuple hash, listeners, local port
 * references), connection lifetime, byte rings, ISNs and memory bounds.
 */
#include <errno.h>
#include <netinet/in.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/uio.h>

#include "../core/stack.h"
#include "../socket/sock.h"
#include "../transport/ports.h"
#include "isn.h"
#include "tcb.h"
#include "tcp.h"

#define HASH_INIT 1024u

static const char *const state_names[] = {
	[XM_TCP_CLOSED] = "CLOSED",
	[XM_TCP_LISTEN] = "LISTEN",
	[XM_TCP_SYN_SENT] = "SYN-SENT",
	[XM_TCP_SYN_RECEIVED] = "SYN-RECEIVED",
	[XM_TCP_ESTABLISHED] = "ESTABLISHED",
	[XM_TCP_FIN_WAIT_1] = "FIN-WAIT-1",
	[XM_TCP_FIN_WAIT_2] = "FIN-WAIT-2",
	[XM_TCP_CLOSE_WAIT] = "CLOSE-WAIT",
	[XM_TCP_CLOSING] = "CLOSING",
	[XM_TCP_LAST_ACK] = "LAST-ACK",
	[XM_TCP_TIME_WAIT] = "TIME-WAIT",
};

const char *xm_tcp_state_name(enum xm_tcp_state s)
{
	return (unsigned)s <= XM_TCP_TIME_WAIT ? state_names[s] : "?";
}

/* The bound on all TCP buffers of st (xm_stack_opts.tcp_mem_max). */
static uint64_t mem_max_of(const struct xm_stack *st)
{
	return st->opts.tcp_mem_max ? st->opts.tcp_mem_max : XM_TCP_MEM_MAX;
}

struct xm_tcp_stack *xm_tcp_stack_get(struct xm_stack *st)
{
	struct xm_tcp_stack *ts = st->tcp;

	if (ts)
		return ts;
	ts = calloc(1, sizeof(*ts));
	if (!ts)
		return NULL;
	ts->hash = calloc(HASH_INIT, sizeof(*ts->hash));
	ts->port_refs = calloc(65536, sizeof(*ts->port_refs));
	ts->port_hooked = calloc(65536 / 8, 1);
	if (!ts->hash || !ts->port_refs || !ts->port_hooked) {
		free(ts->hash);
		free(ts->port_refs);
		free(ts->port_hooked);
		free(ts);
		return NULL;
	}
	ts->hmask = HASH_INIT - 1;
	ts->mem_max = mem_max_of(st);
	ts->next_ephemeral = (uint16_t)(XM_EPHEMERAL_FIRST +
		xm_stack_rand(st) % (XM_EPHEMERAL_LAST - XM_EPHEMERAL_FIRST + 1));
	/* RFC 6528: the secret key. Fall back to the stack's generator when
	 * the kernel's is unavailable (the ISN is still unpredictable enough
	 * off-path only with getrandom). */
	if (getrandom(ts->isn_key, sizeof(ts->isn_key), GRND_NONBLOCK) !=
	    (ssize_t)sizeof(ts->isn_key) ||
	    getrandom(&ts->cookie_key, sizeof(ts->cookie_key), GRND_NONBLOCK) !=
	    (ssize_t)sizeof(ts->cookie_key)) {
		for (size_t i = 0; i < sizeof(ts->isn_key); i++)
			ts->isn_key[i] = (uint8_t)xm_stack_rand(st);
		for (size_t i = 0; i < sizeof(ts->cookie_key); i++)
			((uint8_t *)&ts->cookie_key)[i] = (uint8_t)xm_stack_rand(st);
	}
	st->tcp = ts;
	return ts;
}

static void ring_free(struct xm_tcp_stack *ts, struct xm_tcp_ring *r)
{
	if (r->buf) {
		ts->mem -= r->cap;
		free(r->buf);
	}
	memset(r, 0, sizeof(*r));
}

void xm_tcp_stats_fill(const struct xm_stack *st, struct xm_stack_stats *o)
{
	const struct xm_tcp_stack *ts = st->tcp;
	const struct xm_tcp_stats *t;

	if (!ts) {
		o->tcp_mem_max = mem_max_of(st);
		return;
	}
	t = &ts->stats;
	o->tcp_active_opens = t->active_opens;
	o->tcp_passive_opens = t->passive_opens;
	o->tcp_conns = ts->nconns;
	o->tcp_segs_in = t->segs_in;
	o->tcp_segs_out = t->segs_out;
	o->tcp_retrans_segs = t->retrans_segs;
	o->tcp_tso_sends = t->tso_sends;
	o->tcp_tso_segs = t->tso_segs;
	o->tcp_bad_csum = t->bad_csum;
	o->tcp_malformed = t->malformed;
	o->tcp_bad_flags = t->bad_flags;
	o->tcp_rst_in = t->rst_in;
	o->tcp_rst_out = t->rst_out;
	o->tcp_rst_ignored = t->rst_ignored;
	o->tcp_challenge_acks = t->challenge_acks;
	o->tcp_paws_drops = t->paws_drops;
	o->tcp_ooo_segs = t->ooo_segs;
	o->tcp_syncookies_sent = t->syncookies_sent;
	o->tcp_syncookies_ok = t->syncookies_ok;
	o->tcp_syncookies_bad = t->syncookies_bad;
	o->tcp_listen_drops = t->listen_drops;
	o->tcp_mem_drops = t->mem_drops;
	o->tcp_timeouts = t->timeouts;
	o->tcp_rto_fires = t->rto_fires;
	o->tcp_fast_recoveries = t->fast_recoveries;
	o->tcp_persist_probes = t->persist_probes;
	o->tcp_rack_losses = t->rack_losses;
	o->tcp_tlp_probes = t->tlp_probes;
	o->tcp_tlp_recoveries = t->tlp_recoveries;
	o->tcp_dsacks_in = t->dsacks_in;
	o->tcp_dsacks_out = t->dsacks_out;
	o->tcp_dsack_undos = t->dsack_undos;
	o->tcp_frto_undos = t->frto_undos;
	o->tcp_eifel_undos = t->eifel_undos;
	o->tcp_dsacks_dubious = t->dsacks_dubious;
	o->tcp_mem_bytes = ts->mem;
	o->tcp_mem_peak = ts->mem_peak;
	o->tcp_mem_max = ts->mem_max;
}

void xm_tcp_fini(struct xm_stack *st)
{
	struct xm_tcp_stack *ts = st->tcp;

	if (!ts)
		return;
	for (uint32_t i = 0; i <= ts->hmask; i++) {
		while (ts->hash[i]) {
			struct xm_tcp_conn *c = ts->hash[i];

			c->sock = NULL;
			xm_tcp_set_closed(c, 0);
		}
	}
	while (ts->listeners) {
		struct xm_tcp_conn *c = ts->listeners;

		c->sock = NULL;
		xm_tcp_set_closed(c, 0);
	}
	free(ts->hash);
	free(ts->port_refs);
	free(ts->port_hooked);
	free(ts);
	st->tcp = NULL;
}

uint64_t xm_tcp_now_us(const struct xm_tcp_conn *c)
{
	return xm_now(c->st) / 1000;
}

/* RFC 7323 5.4: a timestamp clock of 1 ms, randomly offset per connection. */
uint32_t xm_tcp_tsval(const struct xm_tcp_conn *c)
{
	return (uint32_t)(xm_now(c->st) / 1000000) + c->ts_offset;
}

struct xm_tcp_conn *xm_tcp_conn_new(struct xm_stack *st, int family)
{
	struct xm_tcp_stack *ts = xm_tcp_stack_get(st);
	struct xm_tcp_conn *c;

	if (!ts)
		return NULL;
	if (ts->nconns >= XM_TCP_CONN_MAX) {
		ts->stats.mem_drops++;
		return NULL;
	}
	c = calloc(1, sizeof(*c));
	if (!c)
		return NULL;
	c->st = st;
	c->family = family;
	c->state = XM_TCP_CLOSED;
	c->keep_idle_s = XM_TCP_KEEPIDLE_S;
	c->keep_intvl_s = XM_TCP_KEEPINTVL_S;
	c->keep_cnt = XM_TCP_KEEPCNT;
	c->rcvbuf_max = st->opts.rcvbuf_default ? st->opts.rcvbuf_default : 212992;
	c->sndbuf_max = st->opts.sndbuf_default ? st->opts.sndbuf_default : 212992;
	c->cc.ops = xm_cc_find(NULL);
	xm_rto_init(&c->rto, XM_RTO_MIN_US, XM_RTO_MAX_US, XM_RTO_INITIAL_US);
	xm_tcp_timers_init(c);
	ts->nconns++;
	return c;
}

void xm_tcp_conn_free(struct xm_tcp_conn *c)
{
	struct xm_tcp_stack *ts = c->st->tcp;

	xm_tcp_timers_stop(c);
	xm_tcp_conn_unhash(c);
	xm_tcp_port_put(c);
	ring_free(ts, &c->sndbuf);
	ring_free(ts, &c->rcvbuf);
	xm_tcp_ooo_free(c);
	xm_rack_free(&c->rack);
	ts->nconns--;
	free(c);
}

static uint32_t tuple_hash(int family, const uint8_t *laddr, uint16_t lport,
			   const uint8_t *raddr, uint16_t rport)
{
	uint32_t h = 2166136261u, n = xm_addr_len(family);

	/* FNV-1a: the table is not exposed to collision attacks beyond what
	 * a per-port listener already allows; chains stay short. */
	for (uint32_t i = 0; i < n; i++)
		h = (h ^ laddr[i]) * 16777619u;
	for (uint32_t i = 0; i < n; i++)
		h = (h ^ raddr[i]) * 16777619u;
	h = (h ^ lport) * 16777619u;
	h = (h ^ rport) * 16777619u;
	return h;
}

int xm_tcp_conn_hash(struct xm_tcp_conn *c)
{
	struct xm_tcp_stack *ts = c->st->tcp;
	uint32_t i;

	if (c->hashed)
		return 0;
	if (c->state == XM_TCP_LISTEN) {
		c->hnext = ts->listeners;
		ts->listeners = c;
	} else {
		i = tuple_hash(c->family, c->laddr, c->lport, c->raddr, c->rport) &
		    ts->hmask;
		c->hnext = ts->hash[i];
		ts->hash[i] = c;
	}
	c->hashed = true;
	return 0;
}

void xm_tcp_conn_unhash(struct xm_tcp_conn *c)
{
	struct xm_tcp_stack *ts = c->st->tcp;
	struct xm_tcp_conn **pp;

	if (!c->hashed)
		return;
	if (c->state == XM_TCP_LISTEN)
		pp = &ts->listeners;
	else
		pp = &ts->hash[tuple_hash(c->family, c->laddr, c->lport, c->raddr,
					  c->rport) & ts->hmask];
	for (; *pp; pp = &(*pp)->hnext) {
		if (*pp == c) {
			*pp = c->hnext;
			break;
		}
	}
	c->hnext = NULL;
	c->hashed = false;
}

struct xm_tcp_conn *xm_tcp_lookup(struct xm_tcp_stack *ts, int family,
				  const uint8_t *laddr, uint16_t lport,
				  const uint8_t *raddr, uint16_t rport)
{
	uint32_t n = xm_addr_len(family);
	struct xm_tcp_conn *c;

	c = ts->hash[tuple_hash(family, laddr, lport, raddr, rport) & ts->hmask];
	for (; c; c = c->hnext) {
		if (c->family == family && c->lport == lport && c->rport == rport &&
		    !memcmp(c->laddr, laddr, n) && !memcmp(c->raddr, raddr, n))
			return c;
	}
	return NULL;
}

static bool addr_is_any(const uint8_t *a, uint32_t n)
{
	for (uint32_t i = 0; i < n; i++)
		if (a[i])
			return false;
	return true;
}

/* A listener matches an exact local address before a wildcard one; an
 * IPv6 wildcard listener also takes IPv4 unless IPV6_V6ONLY. */
/* How well listener l takes a segment to laddr:lport: 0 not at all, 3 its
 * own address, 2 its family's wildcard, 1 a dual-stack IPv6 wildcard. */
static int listener_score(const struct xm_tcp_conn *l, int family,
			  const uint8_t *laddr, uint16_t lport)
{
	bool any;

	if (l->lport != lport)
		return 0;
	any = addr_is_any(l->laddr, xm_addr_len(l->family));
	if (l->family == family)
		return any ? 2 : memcmp(l->laddr, laddr, xm_addr_len(family)) ? 0 : 3;
	if (family == AF_INET && l->family == AF_INET6 && any &&
	    !(l->sock && l->sock->v6only))
		return 1;
	return 0;
}

static bool in_reuseport_group(const struct xm_tcp_conn *l)
{
	return l->sock && l->sock->reuseport;
}

struct xm_tcp_conn *xm_tcp_lookup_listener(struct xm_tcp_stack *ts, int family,
					   const uint8_t *laddr, uint16_t lport,
					   uint32_t hash)
{
	struct xm_tcp_conn *best = NULL;
	int best_sc = 0;
	uint32_t n = 0, k;

	for (struct xm_tcp_conn *l = ts->listeners; l; l = l->hnext) {
		int sc = listener_score(l, family, laddr, lport);

		if (sc > best_sc) {
			best = l;
			best_sc = sc;
			n = 0;
		}
		if (sc && sc == best_sc && in_reuseport_group(l))
			n++;
	}
	if (n < 2 || !in_reuseport_group(best))
		return best;
	k = xm_reuseport_index(hash, n);
	for (struct xm_tcp_conn *l = ts->listeners; l; l = l->hnext)
		if (in_reuseport_group(l) &&
		    listener_score(l, family, laddr, lport) == best_sc && !k--)
			return l;
	return best;
}

static bool port_hooked(const struct xm_tcp_stack *ts, uint16_t p)
{
	return ts->port_hooked[p >> 3] & (1u << (p & 7));
}

int xm_tcp_port_get(struct xm_tcp_conn *c, uint16_t port)
{
	struct xm_tcp_stack *ts = c->st->tcp;

	if (c->port_ref)
		return 0;
	if (!ts->port_refs[port]) {
		int r = xm_stack_port_hook(c->st, IPPROTO_TCP, 0, NULL, port, true);

		if (r < 0 && r != -EEXIST)
			return r;
		/* -EEXIST: an operator bound it; not ours to remove. */
		if (r == 0)
			ts->port_hooked[port >> 3] |= (uint8_t)(1u << (port & 7));
	}
	ts->port_refs[port]++;
	c->lport = port;
	c->port_ref = true;
	return 0;
}

void xm_tcp_port_put(struct xm_tcp_conn *c)
{
	struct xm_tcp_stack *ts = c->st->tcp;
	uint16_t port = c->lport;

	if (!c->port_ref)
		return;
	c->port_ref = false;
	if (--ts->port_refs[port] == 0 && port_hooked(ts, port)) {
		xm_stack_port_hook(c->st, IPPROTO_TCP, 0, NULL, port, false);
		ts->port_hooked[port >> 3] &= (uint8_t)~(1u << (port & 7));
	}
}

/* An ephemeral port whose 4-tuple toward raddr:rport is free (RFC 6056
 * leaves the algorithm open; this is a simple incrementing search). */
int xm_tcp_port_pick(struct xm_tcp_conn *c, const uint8_t *raddr, uint16_t rport,
		     uint16_t *out)
{
	struct xm_tcp_stack *ts = c->st->tcp;
	uint32_t n = XM_EPHEMERAL_LAST - XM_EPHEMERAL_FIRST + 1;

	for (uint32_t i = 0; i < n; i++) {
		uint16_t p = ts->next_ephemeral;

		ts->next_ephemeral = p == XM_EPHEMERAL_LAST ? XM_EPHEMERAL_FIRST
							    : (uint16_t)(p + 1);
		if (ts->port_refs[p] &&
		    (!raddr || xm_tcp_lookup(ts, c->family, c->laddr, p, raddr, rport) ||
		     xm_tcp_lookup_listener(ts, c->family, c->laddr, p, 0)))
			continue;
		*out = p;
		return 0;
	}
	return -EADDRNOTAVAIL;   /* as Linux connect() when the range is used up */
}

void xm_tcp_set_state(struct xm_tcp_conn *c, enum xm_tcp_state s)
{
	c->state = s;
}

bool xm_tcp_set_closed(struct xm_tcp_conn *c, int err)
{
	xm_tcp_timers_stop(c);
	if (c->state == XM_TCP_LISTEN)
		xm_tcp_listen_close(c);
	xm_tcp_conn_unhash(c);
	if (c->listener)
		xm_tcp_listen_unlink(c);
	c->state = XM_TCP_CLOSED;
	if (err && !c->error)
		c->error = err;
	if (err && c->sock)
		c->sock->so_error = -err;
	if (!c->sock && !c->in_accept_q) {
		xm_tcp_conn_free(c);
		return true;
	}
	return false;
}

uint32_t xm_tcp_isn_for(struct xm_tcp_conn *c)
{
	struct xm_tcp_stack *ts = c->st->tcp;
	struct xm_tcp_tuple t = { .lport = c->lport, .rport = c->rport };

	if (c->family == AF_INET) {
		xm_tcp_tuple_v4(t.laddr, c->laddr);
		xm_tcp_tuple_v4(t.raddr, c->raddr);
	} else {
		memcpy(t.laddr, c->laddr, 16);
		memcpy(t.raddr, c->raddr, 16);
	}
	if (ts->isn_fixed_on)
		return ts->isn_fixed;
	return xm_tcp_isn(ts->isn_key, &t, xm_tcp_now_us(c));
}

/* RFC 9293 3.7.1: MSS = MTU - fixed IP header - fixed TCP header. */
static uint16_t mss_of(uint32_t mtu, int family)
{
	uint32_t mss = (mtu ? mtu : 1500) - XM_TCP_HLEN -
		       (family == AF_INET6 ? XM_IPV6_HLEN : XM_IPV4_HLEN);

	return mss > 65495 ? 65495 : (uint16_t)mss;
}

uint16_t xm_tcp_mss_for_mtu(const struct xm_stack *st, int family)
{
	return mss_of(st->info.mtu, family);
}

/* The MSS option says what we can receive (RFC 9293 3.7.1): a link that
 * takes packets larger than one buffer whole receives at the device's MTU
 * even where it sends at less (link.h, xm_link_info.mtu). */
uint16_t xm_tcp_rcv_mss(const struct xm_stack *st, int family)
{
	uint32_t mtu = st->info.mtu;

	if (st->info.rx_multibuf && st->info.dev_mtu > mtu)
		mtu = st->info.dev_mtu;
	return mss_of(mtu, family);
}

bool xm_tcp_mem_fits(const struct xm_tcp_stack *ts, uint64_t add)
{
	return ts->mem + add <= ts->mem_max;
}

void xm_tcp_mem_charge(struct xm_tcp_stack *ts, uint64_t add)
{
	ts->mem += add;
	if (ts->mem > ts->mem_peak)
		ts->mem_peak = ts->mem;
}

int xm_tcp_ring_grow(struct xm_tcp_stack *ts, struct xm_tcp_ring *r, uint32_t cap)
{
	uint8_t *b;

	if (cap <= r->cap)
		return 0;
	if (!xm_tcp_mem_fits(ts, cap - r->cap)) {
		ts->stats.mem_drops++;
		return -ENOBUFS;
	}
	b = malloc(cap);
	if (!b)
		return -ENOMEM;
	/* Unwrap: data (and any out-of-order bytes beyond it) start at 0. */
	if (r->buf) {
		uint32_t first = r->cap - r->head;

		memcpy(b, r->buf + r->head, first);
		memcpy(b + first, r->buf, r->head);
		free(r->buf);
	}
	xm_tcp_mem_charge(ts, cap - r->cap);
	r->buf = b;
	r->cap = cap;
	r->head = 0;
	return 0;
}

int xm_tcp_buffers_alloc(struct xm_tcp_conn *c, bool rcv_only)
{
	struct xm_tcp_stack *ts = c->st->tcp;
	uint32_t rcv = c->rcvbuf_max < XM_TCP_RCVBUF_INIT ? c->rcvbuf_max
							  : XM_TCP_RCVBUF_INIT;
	int r;

	r = xm_tcp_ring_grow(ts, &c->rcvbuf, rcv);
	if (r < 0 || rcv_only)
		return r;
	return xm_tcp_ring_grow(ts, &c->sndbuf, c->sndbuf_max);
}

/* TIME-WAIT keeps only the connection's sequence state (RFC 9293 3.10.7.4:
 * it ACKs a retransmitted FIN and nothing else). Our FIN is acknowledged,
 * so the send ring is empty; an empty receive ring can take no more data
 * either. Give both back now, not after 2MSL: a server that closes first
 * holds a TIME-WAIT per connection for 60 s, and with full buffers a few
 * thousand of them exhaust XM_TCP_MEM_MAX and every new SYN is dropped
 * (Linux frees the socket's buffers too and keeps a small tw sock). */
void xm_tcp_buffers_release(struct xm_tcp_conn *c)
{
	struct xm_tcp_stack *ts = c->st->tcp;

	ring_free(ts, &c->sndbuf);
	xm_rack_free(&c->rack);
	if (!c->rcvbuf.len)
		ring_free(ts, &c->rcvbuf);
	if (!c->nooo)
		xm_tcp_ooo_free(c);
}

/* The ring's bytes [off, off + n) as up to two pieces (it wraps); the
 * count is cut at the ring's end. Returns how many pieces. */
static int ring_spans(const struct xm_tcp_ring *r, uint32_t off, uint32_t n,
		      struct iovec sp[2])
{
	uint32_t pos, first;

	if (off >= r->cap || !n)
		return 0;
	if (n > r->cap - off)
		n = r->cap - off;
	pos = (r->head + off) % r->cap;
	first = r->cap - pos < n ? r->cap - pos : n;
	sp[0] = (struct iovec){ r->buf + pos, first };
	sp[1] = (struct iovec){ r->buf, n - first };
	return n > first ? 2 : 1;
}

uint32_t xm_tcp_ring_write(struct xm_tcp_ring *r, uint32_t off,
			   const uint8_t *p, uint32_t n)
{
	struct iovec sp[2];
	int k = ring_spans(r, off, n, sp);

	if (k > 0)
		memcpy(sp[0].iov_base, p, sp[0].iov_len);
	if (k > 1)
		memcpy(sp[1].iov_base, p + sp[0].iov_len, sp[1].iov_len);
	return k ? (uint32_t)(sp[0].iov_len + (k > 1 ? sp[1].iov_len : 0)) : 0;
}

uint32_t xm_tcp_ring_read(const struct xm_tcp_ring *r, uint32_t off,
			  uint8_t *p, uint32_t n)
{
	struct iovec sp[2];
	int k = ring_spans(r, off, n, sp);

	if (k > 0)
		memcpy(p, sp[0].iov_base, sp[0].iov_len);
	if (k > 1)
		memcpy(p + sp[0].iov_len, sp[1].iov_base, sp[1].iov_len);
	return k ? (uint32_t)(sp[0].iov_len + (k > 1 ? sp[1].iov_len : 0)) : 0;
}

ssize_t xm_tcp_ring_pread(struct xm_tcp_ring *r, uint32_t off, int fd,
			  off_t foff, uint32_t n)
{
	struct iovec sp[2];
	int k = ring_spans(r, off, n, sp);
	ssize_t got;

	if (!k)
		return 0;
	do
		got = preadv(fd, sp, k, foff);
	while (got < 0 && errno == EINTR);
	return got < 0 ? -errno : got;
}

void xm_tcp_ring_consume(struct xm_tcp_ring *r, uint32_t n)
{
	if (n > r->len)
		n = r->len;
	if (!n)
		return;
	/* The head moves even when empty: out-of-order bytes may sit
	 * beyond len at fixed offsets. */
	r->len -= n;
	r->head = (r->head + n) % r->cap;
}
