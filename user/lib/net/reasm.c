// SPDX-License-Identifier: MIT
/*
 * IP reassembly (RFC 791 3.2, RFC 8200 4.5, RFC 815), with the defences
 * Linux has:
 *  - overlapping fragments drop the whole datagram (RFC 5722 for IPv6; Linux
 *    does the same for IPv4), an exact duplicate is only ignored, so a
 *    network that duplicates frames still delivers;
 *  - a timer per datagram (opts.reasm_timeout_ms, default 30 s like
 *    net.ipv4.ipfrag_time) drops incomplete datagrams;
 *  - memory held is bounded (opts.reasm_mem_max, default 4 MiB like
 *    ipfrag_high_thresh): the oldest incomplete datagrams are evicted first.
 */
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "../core/stack.h"
#include "net.h"

struct reasm_frag {
	struct reasm_frag *next;   /* sorted by offset */
	uint32_t off;
	uint32_t len;
	uint8_t data[];
};

struct xm_reasm_entry {
	struct xm_reasm_entry *next;   /* stack list, oldest first */
	struct xm_timer timer;
	int family;
	uint8_t proto;
	uint8_t tos;
	uint32_t id;
	uint8_t src[16];
	uint8_t dst[16];
	bool have_last;
	uint32_t total;
	uint32_t mem;
	struct reasm_frag *frags;
};

static bool entry_matches(const struct xm_reasm_entry *e, const struct xm_frag *fr)
{
	uint32_t alen = xm_addr_len(fr->family);

	return e->family == fr->family && e->proto == fr->proto &&
	       e->id == fr->id && !memcmp(e->src, fr->src, alen) &&
	       !memcmp(e->dst, fr->dst, alen);
}

static void entry_destroy(struct xm_stack *st, struct xm_reasm_entry *e)
{
	struct xm_reasm_entry **pp;

	for (pp = &st->reasm; *pp; pp = &(*pp)->next) {
		if (*pp == e) {
			*pp = e->next;
			break;
		}
	}
	xm_timer_cancel(&st->timers, &e->timer);
	while (e->frags) {
		struct reasm_frag *f = e->frags;

		e->frags = f->next;
		free(f);
	}
	st->reasm_mem -= e->mem;
	free(e);
}

static void reasm_timeout(struct xm_stack *st, struct xm_timer *t)
{
	struct xm_reasm_entry *e = xm_container_of(t, struct xm_reasm_entry, timer);

	/* RFC 792 would send Time Exceeded; ICMP stays with the kernel. */
	st->stats.reasm_timeouts++;
	entry_destroy(st, e);
}

static struct xm_reasm_entry *entry_get(struct xm_stack *st,
					const struct xm_frag *fr)
{
	struct xm_reasm_entry *e, **pp;
	uint64_t timeout;

	for (e = st->reasm; e; e = e->next)
		if (entry_matches(e, fr))
			return e;
	e = calloc(1, sizeof(*e));
	if (!e)
		return NULL;
	e->family = fr->family;
	e->proto = fr->proto;
	e->tos = fr->tos;
	e->id = fr->id;
	memcpy(e->src, fr->src, 16);
	memcpy(e->dst, fr->dst, 16);
	e->mem = sizeof(*e);
	st->reasm_mem += e->mem;
	xm_timer_init(&e->timer, reasm_timeout);
	timeout = (uint64_t)st->opts.reasm_timeout_ms * 1000000ULL;
	xm_timer_arm(&st->timers, &e->timer, xm_now(st) + timeout);
	for (pp = &st->reasm; *pp; pp = &(*pp)->next)
		;
	*pp = e;
	return e;
}

static bool entry_complete(const struct xm_reasm_entry *e)
{
	uint32_t at = 0;

	if (!e->have_last)
		return false;
	for (const struct reasm_frag *f = e->frags; f; f = f->next) {
		if (f->off != at)
			return false;
		at += f->len;
	}
	return at == e->total;
}

static void entry_deliver(struct xm_stack *st, struct xm_reasm_entry *e)
{
	struct xm_ipinfo ip = { .family = e->family, .proto = e->proto, .tos = e->tos };
	uint32_t total = e->total;
	uint8_t *buf = malloc(total ? total : 1);

	if (buf) {
		for (const struct reasm_frag *f = e->frags; f; f = f->next)
			memcpy(buf + f->off, f->data, f->len);
		memcpy(ip.src, e->src, 16);
		memcpy(ip.dst, e->dst, 16);
		st->stats.reasm_ok++;
	} else {
		st->stats.reasm_mem_drops++;
	}
	entry_destroy(st, e);
	if (buf)
		xm_transport_input(st, &ip, buf, total);
	free(buf);
}

void xm_reasm_input(struct xm_stack *st, const struct xm_frag *fr,
		    const uint8_t *data, uint32_t len)
{
	uint32_t iph = fr->family == AF_INET ? XM_IPV4_HLEN : 0;
	uint32_t end = fr->offset + len, charge;
	struct xm_reasm_entry *e;
	struct reasm_frag *nf, **pp;

	/* Every fragment but the last carries a multiple of 8 bytes, and the
	 * datagram must fit the 16-bit length field. */
	if ((fr->more && (len % 8 || !len)) ||
	    end + iph > XM_IP_MAXPACKET) {
		st->stats.reasm_bad++;
		return;
	}
	e = entry_get(st, fr);
	if (!e) {
		st->stats.reasm_mem_drops++;
		return;
	}
	if (!fr->more) {
		if ((e->have_last && e->total != end)) {
			st->stats.reasm_bad++;
			entry_destroy(st, e);
			return;
		}
		for (struct reasm_frag *f = e->frags; f; f = f->next) {
			if (f->off + f->len > end) {
				st->stats.reasm_bad++;
				entry_destroy(st, e);
				return;
			}
		}
		e->have_last = true;
		e->total = end;
	} else if (e->have_last && end > e->total) {
		st->stats.reasm_bad++;
		entry_destroy(st, e);
		return;
	}
	for (pp = &e->frags; *pp; pp = &(*pp)->next) {
		struct reasm_frag *f = *pp;

		if (f->off == fr->offset && f->len == len)
			return;   /* exact duplicate: harmless, ignore */
		if (fr->offset < f->off + f->len && f->off < end) {
			st->stats.reasm_overlaps++;
			entry_destroy(st, e);
			return;
		}
		if (f->off > fr->offset)
			break;
	}
	charge = (uint32_t)sizeof(*nf) + len;
	/* Make room by evicting the oldest other datagrams first. */
	while (st->reasm_mem + charge > st->opts.reasm_mem_max &&
	       st->reasm && st->reasm != e) {
		st->stats.reasm_mem_drops++;
		entry_destroy(st, st->reasm);
	}
	if (st->reasm_mem + charge > st->opts.reasm_mem_max) {
		st->stats.reasm_mem_drops++;
		entry_destroy(st, e);
		return;
	}
	nf = malloc(sizeof(*nf) + len);
	if (!nf) {
		st->stats.reasm_mem_drops++;
		entry_destroy(st, e);
		return;
	}
	/* Eviction may have reordered nothing in e: pp is still valid. */
	nf->off = fr->offset;
	nf->len = len;
	memcpy(nf->data, data, len);
	nf->next = *pp;
	*pp = nf;
	e->mem += charge;
	st->reasm_mem += charge;
	if (entry_complete(e))
		entry_deliver(st, e);
}

void xm_reasm_fini(struct xm_stack *st)
{
	while (st->reasm)
		entry_destroy(st, st->reasm);
}
