/* SPDX-License-Identifier: MIT */
/*
 * Map keys, values and constants shared by the XDP program (bpf/) and
 * userspace (user/). One definition of each: both sides include this file.
 *
 * Byte order: ports and addresses are kept in network byte order, exactly as
 * they sit in the packet, so the XDP program never swaps bytes on its fast
 * path.
 */
#ifndef XDPMUX_MAPS_H
#define XDPMUX_MAPS_H

#ifdef __bpf__
/* vmlinux.h already provides the __u* / __be* types. */
#else
#include <linux/types.h>
#endif

#define XM_MAX_BINDINGS   4096
#define XM_MAX_QUEUES     64      /* rx queues per device with an XSK slot */
/* Owner slots per device: each program sharing a device (through the
 * device daemon) has one, and its bindings name it. Slot 0 is the device's
 * standalone owner: a program that opened the device alone, and every
 * binding made by the CLI. */
#define XM_MAX_OWNERS     64
#define XM_FRAG_ENTRIES   8192    /* in-flight fragmented datagrams tracked,
                                   * per family */
#define XM_VLAN_MAX       2       /* 802.1ad outer + 802.1Q inner */
#define XM_IPV6_EXT_MAX   6       /* extension headers walked before giving up */

/* port_index is indexed by (proto slot << 16) | host-order port. It is the
 * program's global array (section .data.port_index): one map element that
 * holds all entries, read and written through mmap. */
#define XM_PROTO_SLOT_UDP 0
#define XM_PROTO_SLOT_TCP 1
#define XM_PORT_INDEX_ENTRIES (2 * 65536)

/* The `xsks` XSKMAP key of owner slot `owner`'s AF_XDP socket on rx queue
 * `queue`: one row of XM_MAX_QUEUES keys per owner, so slot 0's key is the
 * queue id, as it was when a device had one owner. */
#define XM_XSK_KEY(owner, queue) ((owner) * XM_MAX_QUEUES + (queue))
#define XM_XSK_ENTRIES (XM_MAX_OWNERS * XM_MAX_QUEUES)

/* xm_port_entry.kinds bits: which kinds of binding exist for the port, and
 * the wildcard binding's fallback. */
#define XM_PORT_WILDCARD  0x1
#define XM_PORT_ADDRESSED 0x2
#define XM_PORT_DROP      0x4     /* the wildcard binding falls back to drop
                                   * (XM_FALLBACK_DROP); clear: pass */

/*
 * port_index value. Besides telling whether a port has bindings at all, it
 * carries the wildcard binding's fallback, owner slot and counter slot, so
 * a packet to a wildcard binding is steered without a hash lookup: the
 * bindings map stays the control plane's record and is looked up only for
 * bindings with an address and for fragments. The control library keeps
 * both in step. Four bytes, written with one store: the fallback shares
 * the kinds byte so the owner fits beside it.
 */
struct xm_port_entry {
	__u8 kinds;        /* XM_PORT_* bits */
	__u8 owner;        /* the wildcard binding's owner slot */
	__u16 slot;        /* the wildcard binding's binding_stats slot */
};

/* xm_binding_key.family: 0 is the wildcard (any destination address). */
#define XM_FAMILY_ANY   0
#define XM_FAMILY_INET  2   /* AF_INET */
#define XM_FAMILY_INET6 10  /* AF_INET6 */

/*
 * A binding: (protocol, destination port[, destination address]).
 * IPv4 addresses sit in the first four bytes of addr, the rest zero.
 */
struct xm_binding_key {
	__u8 proto;        /* IPPROTO_UDP or IPPROTO_TCP */
	__u8 family;       /* XM_FAMILY_* */
	__be16 port;
	__u8 addr[16];
};

enum xm_fallback {
	XM_FALLBACK_PASS = 0, /* no socket on the queue: hand to the kernel */
	XM_FALLBACK_DROP = 1, /* no socket on the queue: drop */
};

struct xm_binding_val {
	__u32 owner_pid;      /* 0: made by the CLI, owned by nobody */
	__u32 fallback;       /* enum xm_fallback */
	__u64 owner_start;    /* owner's start time (clock ticks since boot), to
	                       * tell a live owner from a reused pid */
	__u64 created_ns;     /* CLOCK_REALTIME when bound */
	__u32 slot;           /* index in binding_stats, < XM_MAX_BINDINGS,
	                       * chosen by the control library (unique among
	                       * the device's bindings) */
	__u32 owner_slot;     /* < XM_MAX_OWNERS: whose socket (XM_XSK_KEY)
	                       * the binding's packets go to; 0 standalone */
};

/* Per-binding counters: binding_stats is a per-CPU array indexed by the
 * binding's slot, so the XDP program reaches them without hashing a key.
 * A slot's counters are zeroed when a binding takes it. */
struct xm_binding_stats {
	__u64 packets;
	__u64 bytes;
};

/* Per-verdict and per-reason counters (per-CPU array, indexed by these). */
enum xm_stat {
	XM_STAT_PASS = 0,      /* verdict: XDP_PASS (unbound, ARP, ICMP, ...) */
	XM_STAT_REDIRECT,      /* verdict: redirected into an AF_XDP socket */
	XM_STAT_DROP,          /* verdict: dropped by a binding's fallback */
	XM_STAT_MALFORMED,     /* verdict: could not parse, passed to the kernel */
	XM_STAT_FALLBACK,      /* reason: bound, but no socket on the rx queue */
	XM_STAT_FRAG_FOLLOW,   /* reason: later fragment followed its first */
	XM_STAT_FRAG_ORPHAN,   /* reason: later fragment with no first seen */
	XM_STAT_EXT_LIMIT,     /* reason: IPv6 extension chain past the bound */
	XM_STAT_SYN_BUDGET,    /* reason: a SYN to a bound port past the SYN
	                        * budget, dropped (also counted as drop) */
	XM_STAT_MAX,
};

struct xm_stat_val {
	__u64 packets;
	__u64 bytes;
};

/*
 * Fragment tracking: the first fragment of a datagram records which binding
 * it matched (the zero key when none), so the later fragments, which carry
 * no ports, follow it. An LRU map per family, keyed by what identifies a
 * datagram's fragments (RFC 791 3.2, RFC 8200 4.5): the map hashes its whole
 * key on each lookup, and with one map for both families an IPv4 fragment
 * paid for hashing 40 bytes where 12 identify it.
 */
struct xm_frag4_key {
	__be16 id;
	__u8 proto;
	__u8 pad;
	__be32 saddr;
	__be32 daddr;
};

struct xm_frag6_key {
	__u8 proto;        /* the Fragment header's Next Header */
	__u8 pad[3];
	__be32 id;
	__u8 saddr[16];
	__u8 daddr[16];
};

/*
 * SYN budget: how many SYNs (SYN set, ACK clear) to bound TCP ports the
 * program lets through to the AF_XDP sockets per second, per CPU. Past it
 * the SYN is dropped in XDP, where it costs least, so that a SYN flood
 * faster than the stack can answer does not overrun the socket's rx ring
 * and take established connections' segments down with it. A token bucket
 * in nanoseconds of credit: each SYN costs cost_ns, credit accrues with
 * time up to cap_ns (the burst). cost_ns 0: no budget (the default).
 */
struct xm_syn_budget {
	__u64 cost_ns;     /* 1e9 / SYNs per second */
	__u64 cap_ns;      /* burst * cost_ns */
};

struct xm_syn_bucket {     /* per CPU, the program's own state */
	__u64 credit_ns;
	__u64 last_ns;
};

#define XM_PIN_ROOT "/sys/fs/bpf/xdpmux"

/* Map names: the pinned file names under XM_PIN_ROOT/<dev>/. */
#define XM_MAP_BINDINGS      "bindings"
#define XM_MAP_BINDING_STATS "binding_stats"
#define XM_MAP_PORT_INDEX    "port_index"        /* pinned as; in the object the */
#define XM_SEC_PORT_INDEX    ".data.port_index"  /* map is named after its section */
#define XM_MAP_XSKS          "xsks"
#define XM_MAP_STATS         "stats"
#define XM_MAP_FRAGS4        "frags4"
#define XM_MAP_FRAGS6        "frags6"
#define XM_MAP_SYN_BUDGET    "syn_budget"

#endif /* XDPMUX_MAPS_H */
