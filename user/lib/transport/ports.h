/* SPDX-License-Identifier: MIT */
/*
 * Local ports of one transport protocol: which sockets hold each port, the
 * bindings-map hook (the first socket on a port steers it to this stack,
 * the last one out releases it), ephemeral port choice, and the address
 * overlap rules bind() conflicts are judged by. UDP has one table; TCP adds
 * its own with its own conflict rules on top of the same helpers.
 */
#ifndef XM_TRANSPORT_PORTS_H
#define XM_TRANSPORT_PORTS_H

#include <stdbool.h>
#include <stdint.h>

struct xm_stack;
struct xm_sock;

struct xm_port_table {
	int ipproto;                 /* IPPROTO_UDP, IPPROTO_TCP */
	struct xm_sock **chain;      /* per port, linked by xm_sock.port_next */
	uint8_t *hooked;             /* bit per port: our hook bound it */
	uint16_t next_ephemeral;
};

int xm_ports_init(struct xm_port_table *t, int ipproto, uint16_t first_try);
void xm_ports_fini(struct xm_port_table *t);

static inline struct xm_sock *xm_ports_first(const struct xm_port_table *t,
					     uint16_t port)
{
	return t->chain[port];
}

/* Put s (s->local.port already set) on its port's chain; the first
 * socket on a port calls the stack's port hook. 0 or -errno (hook). */
int xm_ports_attach(struct xm_stack *st, struct xm_port_table *t,
		    struct xm_sock *s);
/* Take s off its chain; the last one out releases the hook's binding. */
void xm_ports_detach(struct xm_stack *st, struct xm_port_table *t,
		     struct xm_sock *s);
/* A port in [XM_EPHEMERAL_FIRST, XM_EPHEMERAL_LAST] no socket holds, taken
 * round-robin from a random start; -EAGAIN as Linux when none is free. */
int xm_ports_ephemeral(struct xm_port_table *t, uint16_t *port);

/* What s's local address takes in one family: 0 nothing, 1 any address,
 * 2 only s->local.addr (dual-stack IPv6 wildcards take IPv4 too). */
int xm_sock_local_scope(const struct xm_sock *s, int family);
/* Do the local addresses of a and b share an address (same port assumed)? */
bool xm_socks_overlap(const struct xm_sock *a, const struct xm_sock *b);
bool xm_addr_is_any(const uint8_t *a, int family);

/*
 * SO_REUSEPORT, as Linux has it within one process: sockets that all set
 * the option may bind the same address and port (TCP listeners and UDP
 * alike), and each arriving connection request or datagram goes to one of
 * the group chosen by a hash of its 4-tuple, so one flow always meets the
 * same socket. xm_flow_hash() is that hash (keyed per stack, so a peer
 * cannot aim its flows at one socket); xm_reuseport_index() maps it onto a
 * group of n, as the kernel's reciprocal_scale().
 */
uint32_t xm_flow_hash(const struct xm_stack *st, int family, const uint8_t *saddr,
		      const uint8_t *daddr, uint16_t sport, uint16_t dport);
static inline uint32_t xm_reuseport_index(uint32_t hash, uint32_t n)
{
	return (uint32_t)(((uint64_t)hash * n) >> 32);
}

#endif /* XM_TRANSPORT_PORTS_H */
