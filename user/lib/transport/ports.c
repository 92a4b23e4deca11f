// SPDX-License-Identifier: MIT
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "../core/stack.h"
#include "../socket/sock.h"
#include "ports.h"

int xm_ports_init(struct xm_port_table *t, int ipproto, uint16_t first_try)
{
	t->ipproto = ipproto;
	t->chain = calloc(65536, sizeof(*t->chain));
	t->hooked = calloc(65536 / 8, 1);
	if (!t->chain || !t->hooked) {
		xm_ports_fini(t);
		return -ENOMEM;
	}
	if (first_try < XM_EPHEMERAL_FIRST)
		first_try = XM_EPHEMERAL_FIRST;
	t->next_ephemeral = first_try;
	return 0;
}

void xm_ports_fini(struct xm_port_table *t)
{
	free(t->chain);
	free(t->hooked);
	t->chain = NULL;
	t->hooked = NULL;
}

static bool hooked(const struct xm_port_table *t, uint16_t port)
{
	return t->hooked[port >> 3] & (1u << (port & 7));
}

static void set_hooked(struct xm_port_table *t, uint16_t port, bool on)
{
	if (on)
		t->hooked[port >> 3] |= (uint8_t)(1u << (port & 7));
	else
		t->hooked[port >> 3] &= (uint8_t)~(1u << (port & 7));
}

int xm_ports_attach(struct xm_stack *st, struct xm_port_table *t,
		    struct xm_sock *s)
{
	uint16_t port = s->local.port;

	if (!t->chain[port]) {
		int r = xm_stack_port_hook(st, t->ipproto, 0, NULL, port, true);

		if (r < 0 && r != -EEXIST)
			return r;
		/* -EEXIST: an operator bound it; it is not ours to remove. */
		set_hooked(t, port, r == 0);
	}
	s->port_next = t->chain[port];
	t->chain[port] = s;
	return 0;
}

void xm_ports_detach(struct xm_stack *st, struct xm_port_table *t,
		     struct xm_sock *s)
{
	uint16_t port = s->local.port;

	for (struct xm_sock **pp = &t->chain[port]; *pp; pp = &(*pp)->port_next) {
		if (*pp == s) {
			*pp = s->port_next;
			break;
		}
	}
	s->port_next = NULL;
	if (!t->chain[port] && hooked(t, port)) {
		xm_stack_port_hook(st, t->ipproto, 0, NULL, port, false);
		set_hooked(t, port, false);
	}
}

int xm_ports_ephemeral(struct xm_port_table *t, uint16_t *port)
{
	uint32_t n = XM_EPHEMERAL_LAST - XM_EPHEMERAL_FIRST + 1;

	for (uint32_t i = 0; i < n; i++) {
		uint16_t p = t->next_ephemeral;

		t->next_ephemeral = p == XM_EPHEMERAL_LAST ? XM_EPHEMERAL_FIRST
							   : (uint16_t)(p + 1);
		if (!t->chain[p]) {
			*port = p;
			return 0;
		}
	}
	return -EAGAIN;
}

bool xm_addr_is_any(const uint8_t *a, int family)
{
	static const uint8_t zero[16];

	return !memcmp(a, zero, xm_addr_len(family));
}

int xm_sock_local_scope(const struct xm_sock *s, int family)
{
	const struct xm_ep *l = &s->local;

	if (l->family == family)
		return xm_addr_is_any(l->addr, family) ? 1 : 2;
	if (family == AF_INET && l->family == AF_INET6 && !s->v6only &&
	    xm_addr_is_any(l->addr, AF_INET6))
		return 1;
	return 0;
}

bool xm_socks_overlap(const struct xm_sock *a, const struct xm_sock *b)
{
	static const int fams[] = { AF_INET, AF_INET6 };

	for (int i = 0; i < 2; i++) {
		int f = fams[i];
		int sa = xm_sock_local_scope(a, f), sb = xm_sock_local_scope(b, f);

		if (!sa || !sb)
			continue;
		if (sa == 1 || sb == 1 ||
		    !memcmp(a->local.addr, b->local.addr, xm_addr_len(f)))
			return true;
	}
	return false;
}

/* A 4-tuple mixed with the stack's key: FNV-1a over the fields, then a
 * murmur3 finaliser so that every bit of the result depends on all of
 * them (the group index takes the top bits). Not cryptographic; it only
 * spreads flows. */
uint32_t xm_flow_hash(const struct xm_stack *st, int family, const uint8_t *saddr,
		      const uint8_t *daddr, uint16_t sport, uint16_t dport)
{
	uint32_t h = 2166136261u ^ st->flow_key, n = xm_addr_len(family);
	uint8_t ports[4] = { (uint8_t)(sport >> 8), (uint8_t)sport,
			     (uint8_t)(dport >> 8), (uint8_t)dport };

	for (uint32_t i = 0; i < n; i++)
		h = (h ^ saddr[i]) * 16777619u;
	for (uint32_t i = 0; i < n; i++)
		h = (h ^ daddr[i]) * 16777619u;
	for (int i = 0; i < 4; i++)
		h = (h ^ ports[i]) * 16777619u;
	h ^= h >> 16;
	h *= 0x85ebca6bu;
	h ^= h >> 13;
	h *= 0xc2b2ae35u;
	h ^= h >> 16;
	return h;
}
