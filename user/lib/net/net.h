/* SPDX-License-Identifier: MIT */
/*
 * The network layer: Ethernet framing (the neighbour's MAC comes from the
 * link, i.e. the kernel), IPv4 and IPv6 input/output, checksums,
 * fragmentation on send and reassembly on receive.
 */
#ifndef XM_NET_NET_H
#define XM_NET_NET_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "../core/timer.h"

struct xm_stack;
struct xm_wmem;

#define XM_ETH_HLEN 14
#define XM_ETH_P_IP 0x0800
#define XM_ETH_P_IPV6 0x86DD
#define XM_IPV4_HLEN 20
#define XM_IPV6_HLEN 40
/* TTL / hop limit sent unless a socket sets one: Linux's ip_default_ttl */
#define XM_IP_TTL_DEFAULT 64
#define XM_IPV6_FRAG_HLEN 8
#define XM_IP_MAXPACKET 65535

/* One IP datagram's addressing, as the transport sees it. */
struct xm_ipinfo {
	int family;          /* AF_INET or AF_INET6 */
	uint8_t proto;       /* IPPROTO_* of the transport */
	uint8_t src[16];     /* network order; IPv4 in the first 4 bytes */
	uint8_t dst[16];
	/* Received, unfragmented, on a link whose sender leaves checksums
	 * partial (a veth): the partial form counts as verified. */
	bool csum_partial_ok;
	/* IPv4 TOS / IPv6 traffic class (DSCP and ECN), as received or to
	 * send; hop_limit: TTL / hop limit, 0 on output for the default. */
	uint8_t tos;
	uint8_t hop_limit;
	/* Output, IP_MTU_DISCOVER: never fragment (a datagram above the MTU
	 * fails with EMSGSIZE: DO, PROBE, INTERFACE), or leave DF clear on
	 * an IPv4 packet (DONT). */
	bool no_frag;
	bool df_off;
	/* Output: nonzero, the offset in the transport header of its
	 * checksum field, left zero by the transport: IP output sums the
	 * segment as it copies it into the frame (one pass over the
	 * payload, not two). 0: the transport filled the field. */
	uint8_t l4_csum_off;
};

static inline uint32_t xm_addr_len(int family)
{
	return family == 10 /* AF_INET6 */ ? 16 : 4;
}

/* Network byte order fields of the headers the stack reads and builds. */
static inline uint16_t xm_get16(const uint8_t *p)
{
	return (uint16_t)(p[0] << 8 | p[1]);
}

static inline uint32_t xm_get32(const uint8_t *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

static inline void xm_put16(uint8_t *p, uint32_t v)
{
	p[0] = (uint8_t)(v >> 8);
	p[1] = (uint8_t)v;
}

static inline void xm_put32(uint8_t *p, uint32_t v)
{
	xm_put16(p, v >> 16);
	xm_put16(p + 2, v);
}

/* ---- csum.c: RFC 1071 Internet checksum ---- */

/* Ones' complement sum of buf folded into 32 bits, added to sum. */
uint32_t xm_csum_add(uint32_t sum, const void *buf, size_t len);
/* xm_csum_add of src while copying it to dst (len bytes; they must not
 * overlap). */
uint32_t xm_csum_copy(uint32_t sum, void *dst, const void *src, size_t len);
/* Fold and complement. */
uint16_t xm_csum_fold(uint32_t sum);
/* Pseudo-header sum for UDP/TCP (RFC 768, RFC 8200 8.1). */
uint32_t xm_csum_pseudo(const struct xm_ipinfo *ip, uint32_t l4_len);
/* The UDP/TCP checksum of hdr (even length) then payload under ip's
 * pseudo-header: what goes in the header when its checksum field is zero,
 * and 0 when verifying a received segment whose field is set. */
uint16_t xm_l4_csum(const struct xm_ipinfo *ip, const void *hdr, uint32_t hlen,
		    const void *payload, uint32_t plen);

/* A received UDP/TCP segment's checksum (field at csum_off in l4). */
enum xm_l4_csum_verdict {
	XM_CSUM_GOOD,        /* complete and correct */
	XM_CSUM_PARTIAL,     /* the partial form, and ip->csum_partial_ok */
	XM_CSUM_BAD,
};
enum xm_l4_csum_verdict xm_l4_csum_verify(const struct xm_ipinfo *ip,
					  const uint8_t *l4, uint32_t len,
					  uint32_t csum_off);

/* ---- gso.c ---- */

struct xm_link_gso;
/* Cut a TCP super-segment into its segments as the kernel's software GSO
 * would (link.h, struct xm_link_gso); emit gets each frame, built in buf
 * (cap bytes: the headers plus gso_size at least). Untagged Ethernet, IPv4
 * without options or IPv6 without extension headers. Returns the number
 * of segments, or -EINVAL. */
int xm_gso_segment(const struct xm_link_gso *g, uint8_t *buf, uint32_t cap,
		   void (*emit)(void *ctx, const uint8_t *frame, uint32_t len),
		   void *ctx);

/* ---- eth.c ---- */

/* Handle one received frame. */
void xm_eth_input(struct xm_stack *st, const uint8_t *frame, uint32_t len);

/* ---- ip_out.c ---- */

/* Largest transport payload (header included) in one IP datagram. */
uint32_t xm_ip_max_l4(int family);
/* Route dst (cached): nexthop and preferred source. -ENETUNREACH. */
int xm_ip_route(struct xm_stack *st, int family, const uint8_t *dst,
		uint8_t *nexthop, uint8_t *src);
/* Is addr one of the link's addresses? */
bool xm_ip_is_local(const struct xm_stack *st, int family, const uint8_t *addr);
/* Send one transport segment from ip->src to ip->dst with protocol
 * ip->proto (the transport fills src from xm_ip_route() or its bound
 * address): hdr (checksum already set) then payload, fragmenting as needed.
 * Returns 0 or -errno (-ENETUNREACH, -EHOSTUNREACH, -ENOBUFS, -EMSGSIZE).
 * A missing neighbour queues the datagram (0). No tx buffer free: dropped
 * and counted (tx_no_buffer), -ENOBUFS. */
int xm_ip_output(struct xm_stack *st, const struct xm_ipinfo *ip,
		 const uint8_t *hdr, uint32_t hlen, const uint8_t *payload,
		 uint32_t plen);
/* The same for a datagram charged to owner (a socket's send-buffer
 * account, core/stack.h; NULL: none) until the link gives its buffers
 * back, or it leaves the neighbour queue. No tx buffer free now but some in
 * flight: -EAGAIN, nothing sent, nothing counted (the caller waits and
 * sends it again); none will ever be: -ENOBUFS. */
int xm_ip_output_owned(struct xm_stack *st, const struct xm_ipinfo *ip,
		       const uint8_t *hdr, uint32_t hlen, const uint8_t *payload,
		       uint32_t plen, struct xm_wmem *owner);
/* Send a TCP super-segment through the link's segmentation offload
 * (st->tso): hdr is the TCP header with options (checksum set here),
 * the payload in up to two pieces (len[1] 0: one), cut by the device into
 * segments of gso_size bytes. 0, or -errno and nothing sent: -EOPNOTSUPP
 * (no offload, or too large for it), the route's or neighbour's error
 * (-EAGAIN: unresolved yet), the link's. The caller then sends frames. */
int xm_ip_output_gso(struct xm_stack *st, const struct xm_ipinfo *ip,
		     uint8_t *hdr, uint32_t hlen, const uint8_t *data[2],
		     const uint32_t len[2], uint16_t gso_size);
/* Drop every queued datagram and the route cache (stack close). */
void xm_ip_output_fini(struct xm_stack *st);
void xm_neigh_timer_fn(struct xm_stack *st, struct xm_timer *t);

/* ---- ipv4.c / ipv6.c: input ---- */

void xm_ipv4_input(struct xm_stack *st, const uint8_t *pkt, uint32_t len);
void xm_ipv6_input(struct xm_stack *st, const uint8_t *pkt, uint32_t len);

/* ---- reasm.c: RFC 791 / RFC 8200 4.5 reassembly ---- */

struct xm_frag {
	int family;
	uint8_t proto;       /* upper-layer protocol */
	uint8_t tos;         /* of the first fragment seen: RFC 3168 5.3 */
	uint32_t id;
	uint8_t src[16];
	uint8_t dst[16];
	uint32_t offset;     /* bytes */
	bool more;           /* MF / M flag */
};

/* Add one fragment's payload. When it completes the datagram, calls the
 * transport input with the reassembled payload. */
void xm_reasm_input(struct xm_stack *st, const struct xm_frag *fr,
		    const uint8_t *data, uint32_t len);
void xm_reasm_fini(struct xm_stack *st);

/* ---- parse.c: header parsing shared by the receive path and classify.c ---- */

enum xm_parse_status {
	XM_PARSE_OK = 0,
	XM_PARSE_MALFORMED,   /* truncated, or lengths that do not fit */
	XM_PARSE_EXT_LIMIT,   /* more headers than the caller walks */
};

/* Ethernet: up to max_tags VLAN tags (802.1Q / 802.1ad) are stepped over. */
struct xm_l2 {
	uint16_t type;       /* EtherType after the tags (host order) */
	unsigned ntags;
	uint32_t l3_off;
};
int xm_eth_parse(const uint8_t *frame, uint32_t len, unsigned max_tags,
		 struct xm_l2 *out);

/* How far an IPv6 header chain is walked: at most max_ext extension
 * headers, none starting past hdr_max bytes into the packet. */
struct xm_ip_limits {
	unsigned max_ext;
	uint32_t hdr_max;
};

/* One IP packet. Offsets are from the IP header. */
struct xm_l3 {
	struct xm_ipinfo ip;  /* proto: the upper-layer header after the chain
	                       * (for a later fragment: its Fragment header's
	                       * Next Header) */
	uint32_t l4_off;      /* upper-layer header (for a fragment: first
	                       * fragment's transport header; later: its data) */
	uint32_t end;         /* the packet's length by its header */
	unsigned nexts;       /* IPv6 extension headers walked */
	bool frag;            /* a fragment (not an atomic one): fr is set */
	struct xm_frag fr;
	uint32_t frag_data;   /* where the fragment's data starts */
	uint32_t frag_id_raw; /* the id as it sits in the packet (IPv4: 16
	                       * bits), as the XDP program keys it */
};
/* 0 (XM_PARSE_OK) or an XM_PARSE_* status; out is set on XM_PARSE_OK. */
int xm_ipv4_parse(const uint8_t *pkt, uint32_t len, struct xm_l3 *out);
int xm_ipv6_parse(const uint8_t *pkt, uint32_t len, const struct xm_ip_limits *lim,
		  struct xm_l3 *out);
/* Transport headers in len bytes of IP payload. whole: an unfragmented
 * datagram, whose UDP length must fit len (a first fragment's need not). */
int xm_udp_hdr_check(const uint8_t *l4, uint32_t len, bool whole);
int xm_tcp_hdr_check(const uint8_t *l4, uint32_t len);

/* ---- transport dispatch (transport/proto.c) ---- */
void xm_transport_input(struct xm_stack *st, const struct xm_ipinfo *ip,
			const uint8_t *l4, uint32_t len);

#endif /* XM_NET_NET_H */
