/* SPDX-License-Identifier: MIT */
/*
 * Test frame builder: crafts Ethernet frames (0-4 VLAN tags, IPv4 with
 * options, IPv6 with any chain of extension headers, UDP, TCP, ICMP, ICMPv6,
 * ARP or raw payloads) with correct lengths and checksums, into a caller's
 * buffer, and damages them on request (bad versions, lengths, checksums).
 *
 *   struct fb_spec s;
 *   uint8_t buf[FB_FRAME_MAX];
 *   fb_init(&s, FB_L3_IPV4, IPPROTO_UDP);
 *   s.dport = 7000;
 *   ssize_t len = fb_build(&s, buf, sizeof(buf), NULL);
 *
 * Truncated frames are prefixes of a built frame: build, then use fewer bytes.
 *
 * Fragments: set frag.size and build one frame per frag.index. The datagram is
 * built whole (the L4 checksum and UDP length cover all of it) and cut the
 * way a sender would (RFC 791 section 3.2; RFC 8200 section 4.5: the IPv6
 * per-fragment headers are the extension headers up to and including the
 * Fragment header, everything after it is the fragmentable part).
 *
 * Functions return the frame length or a negative errno: -EINVAL for a spec
 * that describes no frame, -EMSGSIZE for an IP packet longer than its length
 * field can say, -ENOSPC when the frame does not fit in cap, -ENOMEM.
 */
#ifndef XM_TEST_FRAME_H
#define XM_TEST_FRAME_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#define FB_AUTO        (-1)    /* in fb_spec.bad: compute the correct value */
#define FB_VLAN_MAX    4
#define FB_EXT_MAX     16
#define FB_IP4_OPT_MAX 40
#define FB_TCP_OPT_MAX 40
#define FB_FRAME_MAX   (14 + 4 * FB_VLAN_MAX + 65535 + 64)

#define FB_TPID_8021Q  0x8100
#define FB_TPID_8021AD 0x88A8
#define FB_ETH_P_IP    0x0800
#define FB_ETH_P_ARP   0x0806
#define FB_ETH_P_IPV6  0x86DD

enum fb_l3 {
	FB_L3_IPV4,
	FB_L3_IPV6,
	FB_L3_ARP,   /* an ARP request (RFC 826): who has ip4.dst, tell ip4.src */
	FB_L3_RAW,   /* `ethertype` then the payload, nothing more */
};

struct fb_vlan {
	uint16_t tpid;  /* FB_TPID_8021AD (outer, QinQ) or FB_TPID_8021Q */
	uint16_t tci;   /* PCP(3) DEI(1) VID(12) */
};

/* IPv6 extension header types (their Next Header values). */
enum fb_ext_type {
	FB_EXT_HOPOPTS = 0,
	FB_EXT_ROUTING = 43,
	FB_EXT_FRAG    = 44,
	FB_EXT_DSTOPTS = 60,
};

struct fb_ext {
	uint8_t type;   /* enum fb_ext_type */
	uint16_t len;   /* bytes: a multiple of 8 in [8, 2048]; 0 means 8.
	                 * FB_EXT_FRAG is always 8. */
};

struct fb_frag {
	uint16_t size;  /* 0: not fragmented; else bytes of the fragmentable part
	                 * per fragment, a multiple of 8 (the last gets the rest) */
	uint16_t index; /* which fragment to build: 0 is the first */
	uint32_t id;    /* IPv4 Identification (low 16 bits) or IPv6 fragment
	                 * Identification */
};

struct fb_spec {
	uint8_t eth_dst[6], eth_src[6];
	unsigned nvlan;                  /* tags, outermost first */
	struct fb_vlan vlan[FB_VLAN_MAX];
	enum fb_l3 l3;
	uint16_t ethertype;              /* FB_L3_RAW only */

	struct {
		uint8_t src[4], dst[4];  /* network order, as on the wire */
		uint8_t ttl, tos;
		bool df;
		uint8_t opt_len;         /* multiple of 4, at most 40 */
		const uint8_t *opts;     /* NULL: NOPs ending in EOL (RFC 791) */
	} ip4;
	struct {
		uint8_t src[16], dst[16];
		uint8_t hop_limit;
		uint32_t flow_label;
		unsigned next;           /* extension headers in ext[], in order */
		struct fb_ext ext[FB_EXT_MAX];
	} ip6;
	/* IPv6: fragmenting adds a Fragment header at the end of ext[] unless
	 * ext[] has one; one in ext[] without frag.size makes an atomic
	 * fragment (offset 0, M 0, RFC 6946). */
	struct fb_frag frag;

	uint8_t l4;                      /* IPPROTO_*: UDP, TCP, ICMP, ICMPV6
	                                  * get a header; others carry only the
	                                  * payload */
	uint16_t sport, dport;           /* host order */
	struct {
		uint32_t seq, ack;
		uint8_t flags;           /* FIN 0x01 SYN 0x02 RST 0x04 PSH 0x08
		                          * ACK 0x10 */
		uint16_t window;
		uint8_t opt_len;         /* multiple of 4, at most 40 */
		const uint8_t *opts;     /* opt_len bytes; NULL: NOPs */
	} tcp;
	const uint8_t *payload;          /* NULL: a counting pattern */
	size_t payload_len;
	size_t trailer_len;              /* zero bytes after the IP packet, as
	                                  * Ethernet padding puts there */

	/* Damage on purpose. Integers: FB_AUTO keeps the correct value, any
	 * other is written as is (masked to the field's width). Checksums are
	 * computed over the damaged headers, then flipped if asked. */
	struct {
		int32_t ip4_version, ip4_ihl, ip4_tot_len;
		int32_t ip6_version, ip6_payload_len;
		int32_t udp_len, tcp_doff;
		bool l3_csum, l4_csum;
	} bad;
};

/* Where the headers of a built frame start; SIZE_MAX for a header the frame
 * does not have. */
struct fb_layout {
	size_t vlan_off[FB_VLAN_MAX];
	size_t l3_off;
	size_t ext_off[FB_EXT_MAX + 1];  /* IPv6 headers in this frame */
	unsigned next;
	size_t l4_off;                   /* transport header */
	size_t payload_off;              /* after the headers */
	size_t ip_end;                   /* end of the IP packet (trailer after) */
	size_t len;
};

/* Defaults: 02:00:00:00:00:01 -> :02, 198.18.0.1 -> 198.18.0.2,
 * 2001:db8::1 -> 2001:db8::2, ports 40000 -> 7000, 18 payload bytes (a
 * 60-byte udp4 frame, the Ethernet minimum: 64 on the wire with the FCS),
 * nothing damaged. */
void fb_init(struct fb_spec *s, enum fb_l3 l3, uint8_t l4);

/* Build the frame into buf; returns its length. lay, if not NULL, receives
 * where its headers are. */
ssize_t fb_build(const struct fb_spec *s, void *buf, size_t cap,
		 struct fb_layout *lay);

/* How many fragments the spec's datagram is cut into (1: not fragmented),
 * or a negative errno. */
int fb_frag_count(const struct fb_spec *s);

/* Tags: helpers for the common encapsulations. */
void fb_vlan_push(struct fb_spec *s, uint16_t tpid, uint16_t vid);
/* Append an IPv6 extension header of len bytes (0: 8). */
void fb_ext_push(struct fb_spec *s, uint8_t type, uint16_t len);

/* RFC 1071 Internet checksum of buf, starting from a partial sum (0 to
 * start); fb_csum_fold finishes it. */
uint32_t fb_csum_add(uint32_t sum, const void *buf, size_t len);
uint16_t fb_csum_fold(uint32_t sum);

/* v as 4 bytes in network order at p, and such 4 bytes read back. */
void fb_be32_put(uint8_t *p, uint32_t v);
uint32_t fb_be32_get(const uint8_t *p);

#endif /* XM_TEST_FRAME_H */
