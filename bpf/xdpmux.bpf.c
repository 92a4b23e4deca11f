// SPDX-License-Identifier: GPL-2.0
/*
 * xdpmux XDP demultiplexer: parse each frame down to its transport header and
 * steer bound (protocol, destination port[, address]) pairs into AF_XDP
 * sockets. Everything else is XDP_PASS, so the kernel sees it exactly as if
 * we were not here.
 *
 * Fragments: the first fragment of a bound datagram carries the ports and is
 * steered by them; it records its binding in the `frags4` or `frags6` LRU
 * map under (proto, saddr, daddr, id) so the later fragments, which carry no
 * ports, follow it. A later fragment that arrives before its first one finds
 * no entry and is passed to the kernel (counted as XM_STAT_FRAG_ORPHAN); the
 * kernel then never sees the first fragment, so it discards the incomplete
 * datagram when its reassembly timer expires, and the datagram is lost as if
 * the network had dropped it. The first fragment of an unbound datagram
 * records that it was seen (the zero key, which no binding has), so its
 * later fragments pass without being counted as orphans.
 */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_endian.h>
#include "xdpmux/maps.h"

#define ETH_P_IP      0x0800
#define ETH_P_IPV6    0x86DD
#define ETH_P_8021Q   0x8100
#define ETH_P_8021AD  0x88A8

#define IPPROTO_HOPOPTS_ 0
#define IPPROTO_ROUTING_ 43
#define IPPROTO_FRAG_    44
#define IPPROTO_DSTOPTS_ 60

#define IP_MF     0x2000
#define IP_OFFSET 0x1FFF

/* Upper bound of the header offset, so the verifier can bound packet reads.
 * Only an IPv6 extension chain gets past it (IPv4 headers end by byte 82):
 * like a chain of too many headers, that is a limit of ours, not a fault of
 * the packet, so it is counted XM_STAT_EXT_LIMIT, not malformed. */
#define XM_HDR_MAX 512

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, XM_MAX_BINDINGS);
	__type(key, struct xm_binding_key);
	__type(value, struct xm_binding_val);
	__uint(map_flags, BPF_F_NO_PREALLOC);
} bindings SEC(".maps");

/* Indexed by xm_binding_val.slot: an array lookup, not a hash of the key. */
struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, XM_MAX_BINDINGS);
	__type(key, __u32);
	__type(value, struct xm_binding_stats);
} binding_stats SEC(".maps");

/* One read of an array tells whether any binding exists for a port, so an
 * unbound packet costs no hash lookup, and steers a wildcard binding's
 * packets without one either (struct xm_port_entry). A global array, which
 * libbpf makes a one-element, mmap-able array map of, rather than an array
 * map of entries: the program reads an entry at its address, without a map
 * lookup's key on the stack, bounds check and NULL test, about a tenth of
 * the fast path's cost. The control library writes entries through mmap. */
struct xm_port_entry port_index[XM_PORT_INDEX_ENTRIES] SEC(".data.port_index");

_Static_assert((XM_PORT_INDEX_ENTRIES & (XM_PORT_INDEX_ENTRIES - 1)) == 0,
	       "port_index is indexed under a mask");

/* The entry of idx, (protocol slot << 16) | port. Verifiers before about
 * 6.10 track no bounds through a byte swap, so to them idx is any value and
 * the read could leave the array; clang knows it cannot and drops a plain
 * range check. barrier_var() makes clang forget, and the mask, one ALU
 * instruction, bounds idx for every verifier. */
static __always_inline struct xm_port_entry *port_entry(__u32 idx)
{
	barrier_var(idx);
	return &port_index[idx & (XM_PORT_INDEX_ENTRIES - 1)];
}

#include "xsks_map.h"

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, XM_STAT_MAX);
	__type(key, __u32);
	__type(value, struct xm_stat_val);
} stats SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, XM_FRAG_ENTRIES);
	__type(key, struct xm_frag4_key);
	__type(value, struct xm_binding_key);
} frags4 SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, XM_FRAG_ENTRIES);
	__type(key, struct xm_frag6_key);
	__type(value, struct xm_binding_key);
} frags6 SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct xm_syn_budget);
} syn_budget SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct xm_syn_bucket);
} syn_bucket SEC(".maps");

enum parse_result {
	PARSE_L4,        /* transport ports found */
	PARSE_LATER_FRAG,/* a non-first fragment: no ports, look up frags */
	PARSE_OTHER,     /* not for us (ARP, ICMP, 3 VLAN tags, ...): pass */
	PARSE_MALFORMED,
	PARSE_EXT_LIMIT,
};

/*
 * What parse() learns about a frame. Deliberately small and never zeroed as
 * a whole: clearing and filling a struct with both addresses cost about as
 * much per packet as the whole pass-only program does, and only bindings
 * with an address and fragments need the addresses. So the struct points at
 * the IP header instead, and lookup_binding() and frag_key_fill() copy the
 * addresses out of the packet when they need them. Each field is set on
 * every path that leads to a reader of it.
 */
struct pkt {
	void *l3;          /* the IP header; its fixed part is inside the
	                    * linear data (checked by parse) */
	__u64 len;         /* frame length over all buffers; 0 until known */
	__u8 family;
	__u8 proto;
	__be16 dport;
	__u8 first_frag;   /* offset 0 with more fragments to come */
	__u8 syn;          /* TCP with SYN set and ACK clear */
	/* IPv6 only (an IPv4 fragment's key comes straight from its header):
	 * the Fragment header's Next Header, which every fragment names (RFC
	 * 8200 4.5: the first header of the fragmentable part, maybe an
	 * extension header), and its identification. */
	__u8 frag_proto;
	__u32 frag_id;
};

static __always_inline void count(__u32 which, __u64 bytes)
{
	struct xm_stat_val *v = bpf_map_lookup_elem(&stats, &which);

	if (v) {
		v->packets++;
		v->bytes += bytes;
	}
}

/*
 * Whether an IP datagram ending `end` bytes into the frame fits in it, with
 * the frame's length (over all its buffers) in p->len. bpf_xdp_get_buff_len
 * is a helper call, a few ns a packet, so it is made only when the datagram
 * reaches past the linear part: otherwise all that can follow the datagram
 * in the linear part or beyond is link padding, and the frame length counted
 * is the linear part's (no link pads a frame into a second buffer).
 */
static __always_inline bool datagram_fits(struct xdp_md *ctx, void *data,
					  void *data_end, __u32 end, struct pkt *p)
{
	__u64 linear = data_end - data;

	if (end <= linear) {
		p->len = linear;
		return true;
	}
	p->len = bpf_xdp_get_buff_len(ctx);
	return end <= p->len;
}

static __always_inline int parse_ports(void *data, void *data_end, __u32 off,
				       __u32 l4_len, __u8 proto, struct pkt *p)
{
	if (off > XM_HDR_MAX)
		return PARSE_EXT_LIMIT;
	if (proto == IPPROTO_UDP) {
		struct udphdr *uh = data + off;

		if ((void *)(uh + 1) > data_end || l4_len < sizeof(*uh))
			return PARSE_MALFORMED;
		/* Unfragmented: the UDP length must fit the IP payload. */
		if (!p->first_frag &&
		    (bpf_ntohs(uh->len) < sizeof(*uh) || bpf_ntohs(uh->len) > l4_len))
			return PARSE_MALFORMED;
		p->dport = uh->dest;
	} else if (proto == IPPROTO_TCP) {
		struct tcphdr *th = data + off;

		if ((void *)(th + 1) > data_end || l4_len < sizeof(*th))
			return PARSE_MALFORMED;
		if (th->doff < 5 || th->doff * 4 > l4_len)
			return PARSE_MALFORMED;
		p->dport = th->dest;
		p->syn = th->syn && !th->ack;
	} else {
		return PARSE_OTHER;
	}
	p->proto = proto;
	return PARSE_L4;
}

static __always_inline int parse_ipv4(struct xdp_md *ctx, void *data, void *data_end,
				      __u32 off, struct pkt *p)
{
	struct iphdr *ip = data + off;
	__u32 ihl, tot;
	__u16 frag;

	if ((void *)(ip + 1) > data_end)
		return PARSE_MALFORMED;
	if (ip->version != 4 || ip->ihl < 5)
		return PARSE_MALFORMED;
	ihl = ip->ihl * 4;
	tot = bpf_ntohs(ip->tot_len);
	if (tot < ihl || data + off + ihl > data_end ||
	    !datagram_fits(ctx, data, data_end, off + tot, p))
		return PARSE_MALFORMED;

	p->family = XM_FAMILY_INET;
	p->l3 = ip;
	if (ip->protocol != IPPROTO_UDP && ip->protocol != IPPROTO_TCP)
		return PARSE_OTHER;
	frag = bpf_ntohs(ip->frag_off);
	p->first_frag = 0;
	if (frag & (IP_MF | IP_OFFSET)) {
		if (frag & IP_OFFSET)
			return PARSE_LATER_FRAG;
		p->first_frag = 1;
	}
	return parse_ports(data, data_end, off + ihl, tot - ihl, ip->protocol, p);
}

static __always_inline int parse_ipv6(struct xdp_md *ctx, void *data, void *data_end,
				      __u32 off, struct pkt *p)
{
	struct ipv6hdr *ip6 = data + off;
	__u32 end;
	__u8 nh;
	int i;

	if ((void *)(ip6 + 1) > data_end)
		return PARSE_MALFORMED;
	if (ip6->version != 6)
		return PARSE_MALFORMED;
	/* A zero payload length is either a packet with nothing after the
	 * header (No Next Header, RFC 8200 4.7: the kernel's) or a jumbogram
	 * (RFC 2675), which no link here carries: the walk below finds no room
	 * for an extension or transport header in it and calls it malformed. */
	end = off + sizeof(*ip6) + bpf_ntohs(ip6->payload_len);
	if (!datagram_fits(ctx, data, data_end, end, p))
		return PARSE_MALFORMED;

	p->family = XM_FAMILY_INET6;
	p->l3 = ip6;
	p->first_frag = 0;
	nh = ip6->nexthdr;
	off += sizeof(*ip6);

	for (i = 0; i < XM_IPV6_EXT_MAX; i++) {
		if (off > XM_HDR_MAX)
			return PARSE_EXT_LIMIT;
		if (nh == IPPROTO_HOPOPTS_ || nh == IPPROTO_ROUTING_ ||
		    nh == IPPROTO_DSTOPTS_) {
			struct ipv6_opt_hdr *eh = data + off;

			if ((void *)(eh + 1) > data_end)
				return PARSE_MALFORMED;
			nh = eh->nexthdr;
			off += (eh->hdrlen + 1) * 8;
		} else if (nh == IPPROTO_FRAG_) {
			struct frag_hdr *fh = data + off;
			__u16 fo;

			if ((void *)(fh + 1) > data_end)
				return PARSE_MALFORMED;
			nh = fh->nexthdr;
			fo = bpf_ntohs(fh->frag_off);
			p->frag_id = fh->identification;
			p->frag_proto = nh;
			off += sizeof(*fh);
			/* A Fragment header past the payload length is no
			 * fragment (the runtime's parser agrees: issue 7). */
			if (off > end)
				return PARSE_MALFORMED;
			if (fo & ~7) {
				/* Destination options or routing may come
				 * before the transport header in the
				 * fragmentable part. */
				if (nh != IPPROTO_UDP && nh != IPPROTO_TCP &&
				    nh != IPPROTO_DSTOPTS_ && nh != IPPROTO_ROUTING_)
					return PARSE_OTHER;
				return PARSE_LATER_FRAG;
			}
			p->first_frag = fo & 1;
		} else {
			break;
		}
		if (off > end)
			return PARSE_MALFORMED;
	}
	if (nh == IPPROTO_HOPOPTS_ || nh == IPPROTO_ROUTING_ ||
	    nh == IPPROTO_DSTOPTS_ || nh == IPPROTO_FRAG_)
		return PARSE_EXT_LIMIT;
	return parse_ports(data, data_end, off, end - off, nh, p);
}

/* p->len is left 0 where the frame has no IP datagram to measure. */
static __always_inline int parse(struct xdp_md *ctx, struct pkt *p)
{
	void *data = (void *)(long)ctx->data;
	void *data_end = (void *)(long)ctx->data_end;
	struct ethhdr *eth = data;
	__u32 off = sizeof(*eth);
	__be16 proto;
	int i;

	if ((void *)(eth + 1) > data_end)
		return PARSE_MALFORMED;
	proto = eth->h_proto;
	for (i = 0; i < XM_VLAN_MAX; i++) {
		struct vlan_hdr *vh = data + off;

		if (proto != bpf_htons(ETH_P_8021Q) && proto != bpf_htons(ETH_P_8021AD))
			break;
		if ((void *)(vh + 1) > data_end)
			return PARSE_MALFORMED;
		proto = vh->h_vlan_encapsulated_proto;
		off += sizeof(*vh);
	}
	if (proto == bpf_htons(ETH_P_IP))
		return parse_ipv4(ctx, data, data_end, off, p);
	if (proto == bpf_htons(ETH_P_IPV6))
		return parse_ipv6(ctx, data, data_end, off, p);
	return PARSE_OTHER;
}

/* The destination (dst) or source address of the frame's IP header into
 * out[16]: an IPv4 address in the first four bytes, the rest zero, as
 * struct xm_binding_key keeps them. */
static __always_inline void addr_copy(const struct pkt *p, bool dst, __u8 *out)
{
	if (p->family == XM_FAMILY_INET) {
		struct iphdr *ip = p->l3;

		__builtin_memset(out, 0, 16);
		__builtin_memcpy(out, dst ? &ip->daddr : &ip->saddr, 4);
	} else {
		struct ipv6hdr *ip6 = p->l3;

		__builtin_memcpy(out, dst ? &ip6->daddr : &ip6->saddr, 16);
	}
}

/* The port_index entry of (proto, port), proto UDP or TCP. */
static __always_inline struct xm_port_entry *port_entry_of(__u8 proto, __be16 port)
{
	return port_entry((proto == IPPROTO_TCP ? XM_PROTO_SLOT_TCP << 16 : 0) |
			  bpf_ntohs(port));
}

/* Address-specific binding first, then the wildcard; key ends as the match.
 * The key is filled only once port_index says a binding exists. */
static __always_inline struct xm_binding_val *
lookup_binding(const struct pkt *p, struct xm_binding_key *key)
{
	struct xm_port_entry *pe = port_entry_of(p->proto, p->dport);
	struct xm_binding_val *val;

	if (!pe->kinds)
		return NULL;
	key->proto = p->proto;
	key->port = p->dport;
	if (pe->kinds & XM_PORT_ADDRESSED) {
		key->family = p->family;
		addr_copy(p, true, key->addr);
		val = bpf_map_lookup_elem(&bindings, key);
		if (val)
			return val;
	}
	if (!(pe->kinds & XM_PORT_WILDCARD))
		return NULL;
	key->family = XM_FAMILY_ANY;
	__builtin_memset(key->addr, 0, 16);
	return bpf_map_lookup_elem(&bindings, key);
}

static __always_inline void frag4_key_fill(struct iphdr *ip, struct xm_frag4_key *k)
{
	k->id = ip->id;
	k->proto = ip->protocol;
	k->pad = 0;
	k->saddr = ip->saddr;
	k->daddr = ip->daddr;
}

static __always_inline void frag6_key_fill(const struct pkt *p, struct xm_frag6_key *k)
{
	struct ipv6hdr *ip6 = p->l3;

	k->proto = p->frag_proto;
	__builtin_memset(k->pad, 0, sizeof(k->pad));
	k->id = p->frag_id;
	__builtin_memcpy(k->saddr, &ip6->saddr, 16);
	__builtin_memcpy(k->daddr, &ip6->daddr, 16);
}

/* What the first fragment of an IPv4 fragment's datagram recorded, or NULL. */
static __always_inline struct xm_binding_key *frag4_lookup(struct iphdr *ip)
{
	struct xm_frag4_key k;

	frag4_key_fill(ip, &k);
	return bpf_map_lookup_elem(&frags4, &k);
}

/* The same for the frame parse() took apart, of either family. */
static __always_inline struct xm_binding_key *frag_lookup(const struct pkt *p)
{
	struct xm_frag6_key k;

	if (p->family == XM_FAMILY_INET)
		return frag4_lookup(p->l3);
	frag6_key_fill(p, &k);
	return bpf_map_lookup_elem(&frags6, &k);
}

static __always_inline void frag_record(const struct pkt *p, const struct xm_binding_key *bk)
{
	if (p->family == XM_FAMILY_INET) {
		struct xm_frag4_key k;

		frag4_key_fill(p->l3, &k);
		bpf_map_update_elem(&frags4, &k, bk, BPF_ANY);
	} else {
		struct xm_frag6_key k;

		frag6_key_fill(p, &k);
		bpf_map_update_elem(&frags6, &k, bk, BPF_ANY);
	}
}

/* Whether a SYN to a bound port is past the SYN budget (struct
 * xm_syn_budget); takes its cost from this CPU's credit when it is not. */
static __always_inline bool syn_over_budget(void)
{
	__u32 zero = 0;
	struct xm_syn_budget *cfg = bpf_map_lookup_elem(&syn_budget, &zero);
	struct xm_syn_bucket *b;
	__u64 now, credit;

	if (!cfg || !cfg->cost_ns)
		return false;
	b = bpf_map_lookup_elem(&syn_bucket, &zero);
	if (!b)
		return false;
	now = bpf_ktime_get_ns();
	credit = b->credit_ns + (now - b->last_ns);
	if (credit > cfg->cap_ns)
		credit = cfg->cap_ns;
	b->last_ns = now;
	if (credit < cfg->cost_ns) {
		b->credit_ns = credit;
		return true;
	}
	b->credit_ns = credit - cfg->cost_ns;
	return false;
}

/*
 * A bound packet: the binding's counters (by its slot), then its owner's
 * socket on this rx queue (key XM_XSK_KEY(owner, queue)), or the binding's
 * fallback when that owner has none there, whoever else has one.
 *
 * bpf_redirect_map is a real call into the kernel, the costliest step of
 * this path: about 6 ns of a bound packet's 37 on a host whose returns go
 * through a mitigation thunk. A lookup in the XSKMAP is inlined by the
 * verifier and costs next to nothing, so it goes first and the call is made
 * only when there is a socket to redirect to: a binding whose socket is
 * gone, or that has none on this queue, falls back without it. Should the
 * socket go in between, bpf_redirect_map finds nothing and returns the
 * fallback all the same.
 */
static __always_inline int steer(struct xdp_md *ctx, __u32 slot, __u32 owner, __u32 drop,
				 __u64 len)
{
	struct xm_binding_stats *bs = bpf_map_lookup_elem(&binding_stats, &slot);
	__u64 fallback = drop ? XDP_DROP : XDP_PASS;
	__u32 queue = ctx->rx_queue_index;
	long act = fallback;
	__u32 key;

	if (bs) {
		bs->packets++;
		bs->bytes += len;
	}
	/* Past the map's rows the key would name another owner's socket (or
	 * another queue's): such a packet has no socket of its owner. */
	if (queue < XM_MAX_QUEUES && owner < XM_MAX_OWNERS) {
		key = XM_XSK_KEY(owner, queue);
		if (bpf_map_lookup_elem(&xsks, &key))
			act = bpf_redirect_map(&xsks, key, fallback);
	}
	if (act == XDP_REDIRECT) {
		count(XM_STAT_REDIRECT, len);
		return XDP_REDIRECT;
	}
	count(XM_STAT_FALLBACK, len);
	count(act == XDP_DROP ? XM_STAT_DROP : XM_STAT_PASS, len);
	return act == XDP_DROP ? XDP_DROP : XDP_PASS;
}

/* steer() by the wildcard binding whose port_index entry is pe, or by a
 * binding's value (an address binding, a fragment's). */
static __always_inline int steer_wildcard(struct xdp_md *ctx,
					  const struct xm_port_entry *pe, __u64 len)
{
	return steer(ctx, pe->slot, pe->owner, pe->kinds & XM_PORT_DROP, len);
}

static __always_inline int steer_binding(struct xdp_md *ctx,
					 const struct xm_binding_val *val, __u64 len)
{
	return steer(ctx, val->slot, val->owner_slot, val->fallback == XM_FALLBACK_DROP, len);
}

/*
 * A later fragment, bk what its datagram's first fragment recorded (NULL:
 * nothing, an orphan). It follows that binding while the binding exists. A
 * wildcard binding is found as the fast path finds it, in port_index, which
 * holds its slot, owner and fallback; only a binding with an address costs a
 * lookup in the bindings map. The zero key (the first fragment matched no
 * binding) has protocol 0 and passes.
 */
static __always_inline int frag_later(struct xdp_md *ctx, const struct xm_binding_key *bk,
				      __u64 len)
{
	struct xm_binding_key key;
	struct xm_binding_val *val;
	struct xm_port_entry *pe;

	if (!bk) {
		count(XM_STAT_FRAG_ORPHAN, len);
		goto pass;
	}
	if (bk->family == XM_FAMILY_ANY) {
		if (!bk->proto)
			goto pass;
		pe = port_entry_of(bk->proto, bk->port);
		if (!(pe->kinds & XM_PORT_WILDCARD))
			goto pass;
		count(XM_STAT_FRAG_FOLLOW, len);
		return steer_wildcard(ctx, pe, len);
	}
	__builtin_memcpy(&key, bk, sizeof(key));
	val = bpf_map_lookup_elem(&bindings, &key);
	if (!val)
		goto pass;
	count(XM_STAT_FRAG_FOLLOW, len);
	return steer_binding(ctx, val, len);
pass:
	count(XM_STAT_PASS, len);
	return XDP_PASS;
}

/* Every frame the fast path does not finish: parse it in full, look its
 * binding up, and count it. Not inlined, so that the fast path's few
 * registers are not spilled to make room for this path's state. */
static __noinline int demux_slow(struct xdp_md *ctx)
{
	struct xm_binding_key key;
	struct xm_binding_val *val;
	struct pkt p;
	__u64 len;
	int r;

	p.len = 0;
	p.syn = 0;
	r = parse(ctx, &p);
	len = p.len ? p.len : bpf_xdp_get_buff_len(ctx);
	if (r == PARSE_L4) {
		val = lookup_binding(&p, &key);
		if (p.first_frag) {
			/* An unbound datagram records the zero key, which no
			 * binding has: its later fragments then pass as seen,
			 * not as orphans. */
			struct xm_binding_key none = {};

			frag_record(&p, val ? &key : &none);
		}
		if (!val)
			goto pass;
		if (p.syn && syn_over_budget()) {
			count(XM_STAT_SYN_BUDGET, len);
			count(XM_STAT_DROP, len);
			return XDP_DROP;
		}
		return steer_binding(ctx, val, len);
	}
	if (r == PARSE_LATER_FRAG)
		return frag_later(ctx, frag_lookup(&p), len);
	if (r == PARSE_MALFORMED) {
		count(XM_STAT_MALFORMED, len);
		return XDP_PASS;
	}
	if (r == PARSE_EXT_LIMIT)
		count(XM_STAT_EXT_LIMIT, len);
pass:
	count(XM_STAT_PASS, len);
	return XDP_PASS;
}

/*
 * The fast path: the frames nearly all traffic consists of, passed to the
 * kernel at the least cost. The budget is a few ns (issue 3: at most 1.5x
 * an XDP_PASS-only program, which itself costs 5 to 21 ns under
 * BPF_PROG_TEST_RUN, by host), so every instruction counts: parse() with
 * its VLAN loop, variable offsets and extension-header walk costs more than
 * the whole budget. Here the offsets are constants.
 *
 * It takes an IPv4 header without options, or an IPv6 header followed
 * directly by UDP or TCP, at `off` (after no VLAN tag or one), with the
 * whole datagram in the linear part, and the same checks parse_ports()
 * makes of the transport header. An unbound port passes; a port with only
 * a wildcard binding is steered by the slot, owner and fallback port_index
 * holds for it. A later IPv4 fragment of UDP or TCP is looked up in frags4 and
 * handled as demux_slow() would (frag_later()); a first fragment, which
 * must record its datagram, is not. Anything else (any check failed, a
 * binding with an address) returns FAST_NO and goes to demux_slow(), which
 * parses the frame again and does all the accounting (malformed,
 * fragments, address bindings). So the fast path never decides anything
 * the slow path would decide differently, and counts what the slow path
 * would count.
 */
#define FAST_NO (-1)

/* The transport header at l4, l4_len bytes long by the IP header, whose
 * first 8 bytes the caller has bounds-checked; len is the frame length. */
static __always_inline int fast_l4(struct xdp_md *ctx, void *l4, void *data_end,
				   __u8 nh, __u32 l4_len, __u64 len)
{
	struct tcphdr *th = NULL;
	struct xm_port_entry *pe;
	__u32 idx;

	if (nh == IPPROTO_UDP) {
		struct udphdr *uh = l4;
		__u32 ulen = bpf_ntohs(uh->len);

		if (ulen < sizeof(*uh) || ulen > l4_len)
			return FAST_NO;
		idx = (XM_PROTO_SLOT_UDP << 16) | bpf_ntohs(uh->dest);
	} else if (nh == IPPROTO_TCP) {
		__u32 doff;

		th = l4;
		if ((void *)(th + 1) > data_end)
			return FAST_NO;
		doff = th->doff;
		if (doff < 5 || doff * 4 > l4_len)
			return FAST_NO;
		idx = (XM_PROTO_SLOT_TCP << 16) | bpf_ntohs(th->dest);
	} else {
		return FAST_NO;
	}

	/* The frame length counted is as datagram_fits() counts it. */
	pe = port_entry(idx);
	if (!pe->kinds) {
		count(XM_STAT_PASS, len);
		return XDP_PASS;
	}
	/* Only a wildcard binding (kinds is never XM_PORT_DROP alone):
	 * port_index has its slot, owner and fallback. With an address
	 * binding too, the slow path looks the address up. */
	if (pe->kinds & XM_PORT_ADDRESSED)
		return FAST_NO;
	/* A SYN to a bound port is weighed against the SYN budget on the
	 * slow path. */
	if (th && th->syn && !th->ack)
		return FAST_NO;
	return steer_wildcard(ctx, pe, len);
}

/* The IP headers at the constant offset off. The bounds checks cover the
 * IP header and the first 8 bytes after it (a UDP header) at once; the
 * datagram, checked against the linear part by its IP length, covers the
 * rest, but the verifier needs the checks on pointers. */
static __always_inline int fast_ipv4(struct xdp_md *ctx, void *data, void *data_end,
				     __u32 off)
{
	struct iphdr *ip = data + off;
	__u64 len = data_end - data;
	__u32 tot;

	if ((void *)(ip + 1) + sizeof(struct udphdr) > data_end)
		return FAST_NO;
	/* Version 4 and a 20-byte header in one byte (RFC 791 3.1). */
	if (*(__u8 *)ip != 0x45)
		return FAST_NO;
	tot = bpf_ntohs(ip->tot_len);
	if (tot < sizeof(*ip) || off + tot > len)
		return FAST_NO;
	if (ip->frag_off & bpf_htons(IP_MF | IP_OFFSET)) {
		/* A later fragment needs nothing past the IP header; a first
		 * one records its datagram, on the slow path. */
		if (!(ip->frag_off & bpf_htons(IP_OFFSET)) ||
		    (ip->protocol != IPPROTO_UDP && ip->protocol != IPPROTO_TCP))
			return FAST_NO;
		return frag_later(ctx, frag4_lookup(ip), len);
	}
	return fast_l4(ctx, ip + 1, data_end, ip->protocol, tot - sizeof(*ip), len);
}

static __always_inline int fast_ipv6(struct xdp_md *ctx, void *data, void *data_end,
				     __u32 off)
{
	struct ipv6hdr *ip6 = data + off;
	__u64 len = data_end - data;
	__u32 plen;

	if ((void *)(ip6 + 1) + sizeof(struct udphdr) > data_end || ip6->version != 6)
		return FAST_NO;
	plen = bpf_ntohs(ip6->payload_len);
	if (off + sizeof(*ip6) + plen > len)
		return FAST_NO;
	return fast_l4(ctx, ip6 + 1, data_end, ip6->nexthdr, plen, len);
}

SEC("xdp.frags")
int xdpmux_demux(struct xdp_md *ctx)
{
	void *data = (void *)(long)ctx->data;
	void *data_end = (void *)(long)ctx->data_end;
	struct ethhdr *eth = data;
	struct vlan_hdr *vh = (void *)(eth + 1);
	int r = FAST_NO;
	__be16 proto;

	/* Untagged, or one VLAN tag: each with constant offsets. */
	if ((void *)(vh + 1) > data_end)
		return demux_slow(ctx);
	proto = eth->h_proto;
	if (proto == bpf_htons(ETH_P_IP)) {
		r = fast_ipv4(ctx, data, data_end, sizeof(*eth));
	} else if (proto == bpf_htons(ETH_P_IPV6)) {
		r = fast_ipv6(ctx, data, data_end, sizeof(*eth));
	} else if (proto == bpf_htons(ETH_P_8021Q) || proto == bpf_htons(ETH_P_8021AD)) {
		proto = vh->h_vlan_encapsulated_proto;
		if (proto == bpf_htons(ETH_P_IP))
			r = fast_ipv4(ctx, data, data_end, sizeof(*eth) + sizeof(*vh));
		else if (proto == bpf_htons(ETH_P_IPV6))
			r = fast_ipv6(ctx, data, data_end, sizeof(*eth) + sizeof(*vh));
	}
	return r == FAST_NO ? demux_slow(ctx) : r;
}

char LICENSE[] SEC("license") = "GPL";
