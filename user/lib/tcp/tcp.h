/* SPDX-License-Identifier: MIT */
/*
 * What the rest of the runtime sees of TCP: the protocol entry, the socket's
 * pcb member, and the stack teardown hook.
 */
#ifndef XM_TCP_TCP_H
#define XM_TCP_TCP_H

#include <stdbool.h>
#include <stdint.h>

struct xm_proto;
struct xm_stack;
struct xm_stack_stats;
struct xm_tcp_conn;

/* The socket's TCP part: the connection lives in its own allocation so
 * that it can outlive close() (FIN-WAIT, TIME-WAIT). */
struct xm_tcp_pcb {
	struct xm_tcp_conn *conn;
	bool linger;          /* SO_LINGER */
	uint32_t linger_s;
	bool connecting;      /* non-blocking connect not yet reported */
	uint32_t defer_accept_s;  /* TCP_DEFER_ACCEPT: kept, reported */
};

extern const struct xm_proto xm_proto_tcp;

/* Free every TCP connection of st, orphans included (stack close, after
 * the sockets are closed). */
void xm_tcp_fini(struct xm_stack *st);
/* The tcp_ fields of the stack's public counters. */
void xm_tcp_stats_fill(const struct xm_stack *st, struct xm_stack_stats *o);

#endif /* XM_TCP_TCP_H */
