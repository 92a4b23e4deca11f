/* SPDX-License-Identifier: MIT */
/*
 * The stack object: everything one single-threaded, run-to-completion
 * userspace IP stack owns. No layer keeps state anywhere else.
 */
#ifndef XM_CORE_STACK_H
#define XM_CORE_STACK_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <xdpmux/xdpmux.h>

#include "../link/link.h"
#include "../transport/ports.h"
#include "timer.h"

struct xm_sock;
struct xm_tcp_stack;
struct xm_ctl;
struct xm_reasm_entry;
struct xm_neigh_pending;

#define XM_RX_BATCH 64
#define XM_TX_BATCH 64
/* Route cache slots, direct-mapped by destination: a listener answers many
 * peers (a SYN flood's spoofed sources among them), and a miss costs a
 * netlink round trip to the kernel. A power of two. */
#define XM_ROUTE_CACHE 1024
#define XM_ROUTE_CACHE_NS 1000000000ULL   /* re-ask the kernel every second */
/* While a sender waits for tx completions, which no fd signals on a real
 * link, the stack looks again this often. */
#define XM_TX_RETRY_NS 50000ULL
/* Each frame (or queued datagram) charged to a send buffer costs its
 * length plus this, in the spirit of the kernel charging skb truesize
 * against SO_SNDBUF. */
#define XM_WMEM_FRAME_OVERHEAD 256

/* A socket's send-buffer account, as the kernel's sk_wmem_alloc: bytes of
 * its datagrams waiting in the stack (neighbour queue) or lent to the link
 * (tx ring, device, completion ring) and not yet given back. It outlives its
 * socket while anything is charged, so that a completion after close finds
 * it (the link reports every frame with an owner, at the latest at close). */
struct xm_wmem {
	uint32_t bytes;
	bool orphan;          /* its socket closed: freed when bytes reach 0 */
};

struct xm_route_entry {
	bool valid;
	int family;
	uint8_t dst[16];
	uint8_t nexthop[16];
	uint8_t src[16];
	uint8_t mac[6];
	bool has_mac;
	uint64_t expires;
};

struct xm_stack {
	struct xm_link *link;
	struct xm_clock clock;
	/* While now_holds > 0, xm_now() is now_held (xm_now_hold). */
	uint64_t now_held;
	uint32_t now_holds;
	struct xm_link_info info;
	/* The link is a veth: take partial checksums (net/csum.c). */
	bool csum_partial_ok;
	/* TCP sends super-segments through the link's tx_gso (link.h):
	 * it has one, the device's GSO is on, and neither opts.no_tso nor
	 * XDPMUX_TSO=0 turned it off. */
	bool tso;
	char notice[256];                 /* xm_stack_notice() */
	struct xm_stack_opts opts;
	struct xm_stack_stats stats;
	struct xm_timers timers;

	/* tx frames built but not yet submitted to the link */
	struct xm_frame txq[XM_TX_BATCH];
	int txq_n;
	bool tx_hold;                     /* xm_stack_tx_hold() */
	/* A sender found no room (send buffer or tx buffers) and waits for
	 * completions: wake up for them until nothing is in flight. */
	bool tx_waiting;

	/* net/ */
	struct xm_route_entry routes[XM_ROUTE_CACHE];
	uint32_t ipv4_id;
	uint32_t ipv6_id;
	struct xm_reasm_entry *reasm;     /* oldest first */
	uint64_t reasm_mem;
	struct xm_neigh_pending *neigh_q; /* datagrams awaiting a neighbour MAC */
	uint32_t neigh_q_len;
	struct xm_timer neigh_timer;

	/* transport/: demux by local port, one table per protocol */
	struct xm_port_table udp_ports;

	/* tcp/: connections, listeners, ports (created on first use) */
	struct xm_tcp_stack *tcp;

	/* socket/ */
	struct xm_sock *socks;            /* every open socket of this stack */

	/* event fd for applications: epoll set of link fd + timerfd */
	int epfd;
	bool epfd_has_link;               /* the link's fd is in epfd yet */
	int timerfd;
	uint64_t timerfd_deadline;        /* what timerfd is armed for */

	struct xm_ctl *ctl;               /* NULL unless opened on a device */
	uint64_t rand_state;
	uint32_t flow_key;                /* xm_flow_hash (ports.h) */
};

/* Current time on the stack's clock. */
static inline uint64_t xm_now(const struct xm_stack *st)
{
	if (st->now_holds)
		return st->now_held;
	return st->clock.now_ns(st->clock.ctx);
}

/* Read the clock once for a piece of work that never waits (one received
 * frame, one send's segments), as Linux's tcp_mstamp_refresh() does per
 * segment: without it the TCP paths read it five to ten times per segment
 * (timestamps, RTT, RACK, timers), and a VM's clock read costs as much as
 * a tenth of a small request. Nests; the outermost hold reads. Never hold
 * across a wait: time would stand still for a deadline. */
static inline void xm_now_hold(struct xm_stack *st)
{
	if (!st->now_holds++)
		st->now_held = st->clock.now_ns(st->clock.ctx);
}

static inline void xm_now_release(struct xm_stack *st)
{
	st->now_holds--;
}

/* A small, non-cryptographic random number (ids, port choice). */
uint32_t xm_stack_rand(struct xm_stack *st);

/* Wait until the link may have frames or the next timer / deadline_ns is
 * due (UINT64_MAX: none). 0 or -errno. */
int xm_stack_wait(struct xm_stack *st, uint64_t deadline_ns);

/* Stop being the calling thread's current stack, if st is (stack close). */
void xm_stack_unuse(struct xm_stack *st);

/* The application-visible port hook (binding map on a device). */
int xm_stack_port_hook(struct xm_stack *st, int proto, int family,
		       const void *addr, uint16_t port, bool bind);

/* tx path: borrow one frame (0; -EAGAIN: none free, but some in flight
 * will return; -ENOBUFS: none will), queue it built (charging f->owner, a
 * struct xm_wmem, if set), flush all. */
int xm_tx_alloc(struct xm_stack *st, struct xm_frame *f);
void xm_tx_queue(struct xm_stack *st, const struct xm_frame *f);
void xm_tx_flush(struct xm_stack *st);
/* Send a TCP super-segment (st->tso) after the frames queued before it:
 * 0 or the link's -errno (nothing sent). */
int xm_tx_gso(struct xm_stack *st, const struct xm_link_gso *g);
/* XDPMUX_TSO=0 in the environment: no super-segments. */
bool xm_stack_tso_env_off(void);
/* Would xm_tx_alloc find a buffer now? */
bool xm_tx_room(struct xm_stack *st);
/* Let the link reap completions (and do its other deferred work). */
void xm_tx_reap(struct xm_stack *st);
/* Are frames submitted and not yet completed, i.e. will tx buffers come
 * back without anything being received? */
bool xm_tx_in_flight(struct xm_stack *st);

/* Send-buffer accounts. new: NULL when out of memory. orphan: the socket
 * closes; the account goes when its last byte is released. */
struct xm_wmem *xm_wmem_new(void);
void xm_wmem_orphan(struct xm_wmem *w);
void xm_wmem_charge(struct xm_wmem *w, uint32_t bytes);
void xm_wmem_release(struct xm_wmem *w, uint32_t bytes);

/* What holding len bytes (one frame, one queued datagram) charges. */
static inline uint32_t xm_wmem_cost(uint32_t len)
{
	return len + XM_WMEM_FRAME_OVERHEAD;
}

#endif /* XM_CORE_STACK_H */
