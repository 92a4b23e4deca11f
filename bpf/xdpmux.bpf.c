// SPDX-License-Identifier: GPL-2.0
/*
 * xdpmux XDP demultiplexer: parse each frame down to its transport header and
 * steer bound (protocol, destination port[, address]) pairs into AF_XDP
 * sockets. Everything else is XDP_PASS, so the kernel sees it exactly as if
 * we were not here.
 *
 * Fragments: the first fragment of a bound datagram carries the ports and is
 * steered by them; it records its binding in the `frags` LRU map under
 * (family, proto, saddr, daddr, id) so the later fragments, which carry no
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

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_HASH);
	__uint(max_entries, XM_MAX_BINDINGS);
	__type(key, struct xm_binding_key);
	__type(value, struct xm_binding_stats);
} binding_stats SEC(".maps");

/* One lookup in an array tells whether any binding exists for a port, so an
 * unbound packet costs no hash lookup. */
struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, XM_PORT_INDEX_ENTRIES);
	__type(key, __u32);
	__type(value, __u32);
} port_index SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_XSKMAP);
	__uint(max_entries, XM_MAX_QUEUES);
	__type(key, __u32);
	__type(value, __u32);
} xsks SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, XM_STAT_MAX);
	__type(key, __u32);
	__type(value, struct xm_stat_val);
} stats SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, XM_FRAG_ENTRIES);
	__type(key, struct xm_frag_key);
	__type(value, struct xm_binding_key);
} frags SEC(".maps");

enum parse_result {
	PARSE_L4,        /* transport ports found */
	PARSE_LATER_FRAG,/* a non-first fragment: no ports, look up frags */
	PARSE_OTHER,     /* not for us (ARP, ICMP, 3 VLAN tags, ...): pass */
	PARSE_MALFORMED,
	PARSE_EXT_LIMIT,
};

struct pkt {
	__u8 family;
	__u8 proto;
	__be16 dport;
	__u8 first_frag;   /* offset 0 with more fragments to come */
	__u8 frag_proto;   /* what every fragment names as its next header: the
	                    * IPv4 protocol, or the IPv6 Fragment header's Next
	                    * Header (RFC 8200 4.5: the first header of the
	                    * fragmentable part, maybe an extension header) */
	__u32 frag_id;
	__u8 saddr[16];
	__u8 daddr[16];
};

static __always_inline void count(__u32 which, __u64 bytes)
{
	struct xm_stat_val *v = bpf_map_lookup_elem(&stats, &which);

	if (v) {
		v->packets++;
		v->bytes += bytes;
	}
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
	} else {
		return PARSE_OTHER;
	}
	p->proto = proto;
	return PARSE_L4;
}

static __always_inline int parse_ipv4(void *data, void *data_end, __u32 off,
				      __u32 frame_len, struct pkt *p)
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
	if (tot < ihl || off + tot > frame_len || data + off + ihl > data_end)
		return PARSE_MALFORMED;

	p->family = XM_FAMILY_INET;
	__builtin_memcpy(p->saddr, &ip->saddr, 4);
	__builtin_memcpy(p->daddr, &ip->daddr, 4);
	if (ip->protocol != IPPROTO_UDP && ip->protocol != IPPROTO_TCP)
		return PARSE_OTHER;
	frag = bpf_ntohs(ip->frag_off);
	p->frag_proto = ip->protocol;
	p->frag_id = ip->id;
	if (frag & IP_OFFSET)
		return PARSE_LATER_FRAG;
	p->first_frag = !!(frag & IP_MF);
	return parse_ports(data, data_end, off + ihl, tot - ihl, ip->protocol, p);
}

static __always_inline int parse_ipv6(void *data, void *data_end, __u32 off,
				      __u32 frame_len, struct pkt *p)
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
	if (end > frame_len)
		return PARSE_MALFORMED;

	p->family = XM_FAMILY_INET6;
	__builtin_memcpy(p->saddr, &ip6->saddr, 16);
	__builtin_memcpy(p->daddr, &ip6->daddr, 16);
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

static __always_inline int parse(struct xdp_md *ctx, __u32 frame_len, struct pkt *p)
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
		return parse_ipv4(data, data_end, off, frame_len, p);
	if (proto == bpf_htons(ETH_P_IPV6))
		return parse_ipv6(data, data_end, off, frame_len, p);
	return PARSE_OTHER;
}

/* Address-specific binding first, then the wildcard; key ends as the match. */
static __always_inline struct xm_binding_val *
lookup_binding(const struct pkt *p, struct xm_binding_key *key)
{
	__u32 idx = (p->proto == IPPROTO_TCP ? XM_PROTO_SLOT_TCP << 16 : 0) |
		    bpf_ntohs(p->dport);
	struct xm_binding_val *val;
	__u32 *kinds;

	kinds = bpf_map_lookup_elem(&port_index, &idx);
	if (!kinds || !*kinds)
		return NULL;
	key->proto = p->proto;
	key->port = p->dport;
	if (*kinds & XM_PORT_ADDRESSED) {
		key->family = p->family;
		__builtin_memcpy(key->addr, p->daddr, 16);
		val = bpf_map_lookup_elem(&bindings, key);
		if (val)
			return val;
	}
	if (!(*kinds & XM_PORT_WILDCARD))
		return NULL;
	key->family = XM_FAMILY_ANY;
	__builtin_memset(key->addr, 0, 16);
	return bpf_map_lookup_elem(&bindings, key);
}

static __always_inline void frag_key_fill(const struct pkt *p, struct xm_frag_key *fk)
{
	fk->family = p->family;
	fk->proto = p->frag_proto;
	fk->id = p->frag_id;
	__builtin_memcpy(fk->saddr, p->saddr, 16);
	__builtin_memcpy(fk->daddr, p->daddr, 16);
}

static __always_inline int steer(struct xdp_md *ctx, const struct xm_binding_key *key,
				 const struct xm_binding_val *val, __u64 len)
{
	struct xm_binding_stats *bs = bpf_map_lookup_elem(&binding_stats, key);
	__u64 fallback = val->fallback == XM_FALLBACK_DROP ? XDP_DROP : XDP_PASS;
	long act;

	if (bs) {
		bs->packets++;
		bs->bytes += len;
	}
	act = bpf_redirect_map(&xsks, ctx->rx_queue_index, fallback);
	if (act == XDP_REDIRECT) {
		count(XM_STAT_REDIRECT, len);
		return XDP_REDIRECT;
	}
	count(XM_STAT_FALLBACK, len);
	count(act == XDP_DROP ? XM_STAT_DROP : XM_STAT_PASS, len);
	return act == XDP_DROP ? XDP_DROP : XDP_PASS;
}

SEC("xdp.frags")
int xdpmux_demux(struct xdp_md *ctx)
{
	__u64 len = bpf_xdp_get_buff_len(ctx);
	struct xm_binding_key key = {};
	struct xm_binding_val *val;
	struct pkt p = {};
	int r;

	r = parse(ctx, len, &p);
	if (r == PARSE_L4) {
		val = lookup_binding(&p, &key);
		if (p.first_frag) {
			/* An unbound datagram records the zero key, which no
			 * binding has: its later fragments then pass as seen,
			 * not as orphans. */
			struct xm_binding_key none = {};
			struct xm_frag_key fk = {};

			frag_key_fill(&p, &fk);
			bpf_map_update_elem(&frags, &fk, val ? &key : &none, BPF_ANY);
		}
		if (!val)
			goto pass;
		return steer(ctx, &key, val, len);
	}
	if (r == PARSE_LATER_FRAG) {
		struct xm_frag_key fk = {};
		struct xm_binding_key *bk;

		frag_key_fill(&p, &fk);
		bk = bpf_map_lookup_elem(&frags, &fk);
		if (!bk) {
			count(XM_STAT_FRAG_ORPHAN, len);
			goto pass;
		}
		__builtin_memcpy(&key, bk, sizeof(key));
		val = bpf_map_lookup_elem(&bindings, &key);
		if (!val)
			goto pass;
		count(XM_STAT_FRAG_FOLLOW, len);
		return steer(ctx, &key, val, len);
	}
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

char LICENSE[] SEC("license") = "GPL";
