// SPDX-License-Identifier: MIT
/*
 * The XDP demultiplexer on fragmented datagrams (RFC 791 3.2, RFC 8200 4.5).
 * Only the first fragment carries the ports: it is steered by them and
 * records its binding in `frags4`/`frags6`; later fragments follow it (counted
 * frag_follow, and in the binding's packets and bytes). A later fragment
 * with no first fragment seen goes to the kernel, counted frag_orphan.
 */
#include "lib/xdp_test.h"

static struct xh *h;
static struct xt_bindings b;

static void setup(void)
{
	h = xt_open();
	b = xt_bind_standard(h);
}

static void teardown(void)
{
	xh_close(h);
}

TestSuite(xdp_frag, .init = setup, .fini = teardown);

static struct xh_expect follows(struct xh_expect first)
{
	first.stats |= XH_S(FRAG_FOLLOW);
	return first;
}

static struct xh_expect orphan(void)
{
	return (struct xh_expect){ XDP_PASS, XH_S(FRAG_ORPHAN) | XH_S(PASS), XH_NONE, 0 };
}

/* A datagram of payload_len bytes cut into fragments of frag_size. */
static void frag_spec(struct fb_spec *s, enum fb_l3 l3, uint8_t l4, uint16_t dport,
		      uint32_t id)
{
	fb_init(s, l3, l4);
	s->dport = dport;
	s->payload_len = 3000;
	s->frag.size = 1232;
	s->frag.id = id;
}

/* Build fragment idx of s into buf. */
static size_t frag_build(const char *name, struct fb_spec *s, unsigned idx, uint8_t *buf)
{
	s->frag.index = (uint16_t)idx;
	return xt_build(name, s, buf, NULL);
}

/* Send every fragment in order: the first must do `first`, the rest
 * `later`. Returns the bytes of all fragments. */
static size_t send_each(const char *what, struct fb_spec *s, struct xh_expect first,
			struct xh_expect later)
{
	static uint8_t buf[FB_FRAME_MAX];
	int n = fb_frag_count(s), i;
	size_t total = 0, len;
	char name[200];

	cr_assert_gt(n, 2, "%s: %d fragments", what, n);
	for (i = 0; i < n; i++) {
		len = frag_build(what, s, (unsigned)i, buf);
		total += len;
		snprintf(name, sizeof(name), "%s_%s_%d_of_%d", what,
			 i ? "later_fragment" : "first_fragment", i + 1, n);
		xt_expect(h, name, buf, len, i ? later : first);
	}
	return total;
}

/* A bound datagram: the first fragment steered by port, the rest follow. */
static size_t send_in_order(const char *what, struct fb_spec *s, struct xh_expect first)
{
	return send_each(what, s, first, follows(first));
}

static void binding_total(int idx, uint64_t packets, uint64_t bytes, const char *what)
{
	struct xm_binding_stats bs;

	cr_assert_eq(xh_binding_counters(h, idx, &bs), 0);
	cr_expect_eq(bs.packets, packets, "%s: binding packets %llu, expected %llu", what,
		     (unsigned long long)bs.packets, (unsigned long long)packets);
	cr_expect_eq(bs.bytes, bytes, "%s: binding bytes %llu, expected %llu", what,
		     (unsigned long long)bs.bytes, (unsigned long long)bytes);
}

Test(xdp_frag, later_fragments_follow_first)
{
	struct fb_spec s;
	size_t bytes;

	frag_spec(&s, FB_L3_IPV4, IPPROTO_UDP, PORT_BOUND, 1);
	bytes = send_in_order("ipv4_udp", &s, xt_fallback_pass(b.udp));
	binding_total(b.udp, 3, bytes, "ipv4_udp_binding_counts_every_fragment");
	cr_expect_eq(xh_frags_count(h), 1);

	frag_spec(&s, FB_L3_IPV6, IPPROTO_UDP, PORT_BOUND, 2);
	bytes += send_in_order("ipv6_udp", &s, xt_fallback_pass(b.udp));
	binding_total(b.udp, 6, bytes, "ipv6_udp_binding_counts_every_fragment");

	frag_spec(&s, FB_L3_IPV4, IPPROTO_TCP, PORT_BOUND, 3);
	send_in_order("ipv4_tcp", &s, xt_fallback_pass(b.tcp));
	frag_spec(&s, FB_L3_IPV6, IPPROTO_TCP, PORT_BOUND, 4);
	send_in_order("ipv6_tcp", &s, xt_fallback_pass(b.tcp));

	frag_spec(&s, FB_L3_IPV4, IPPROTO_UDP, PORT_DROP, 5);
	send_in_order("ipv4_udp_drop", &s, xt_fallback_drop(b.udp_drop));
	frag_spec(&s, FB_L3_IPV6, IPPROTO_TCP, PORT_DROP, 6);
	send_in_order("ipv6_tcp_drop", &s, xt_fallback_drop(b.tcp_drop));

	/* Later fragments follow the binding the first matched, an address
	 * binding included. */
	frag_spec(&s, FB_L3_IPV4, IPPROTO_UDP, PORT_ADDR_WILD, 7);
	send_in_order("ipv4_udp_address_binding", &s, xt_fallback_pass(b.wild_v4));
	frag_spec(&s, FB_L3_IPV6, IPPROTO_UDP, PORT_ADDR_WILD, 8);
	memcpy(s.ip6.dst, XT_A6_OTHER, 16);
	send_in_order("ipv6_udp_other_address_wildcard", &s, xt_fallback_pass(b.wild_any));

	/* Encapsulated. */
	frag_spec(&s, FB_L3_IPV4, IPPROTO_UDP, PORT_BOUND, 9);
	xt_encap_apply(&s, XT_QINQ);
	send_in_order("qinq_ipv4_udp", &s, xt_fallback_pass(b.udp));
	frag_spec(&s, FB_L3_IPV6, IPPROTO_UDP, PORT_BOUND, 10);
	xt_encap_apply(&s, XT_DOT1Q);
	send_in_order("dot1q_ipv6_udp", &s, xt_fallback_pass(b.udp));
	frag_spec(&s, FB_L3_IPV4, IPPROTO_UDP, PORT_BOUND, 11);
	s.ip4.opt_len = 12;
	send_in_order("ipv4_options_udp", &s, xt_fallback_pass(b.udp));
}

/* IPv6: per-fragment extension headers before the Fragment header, and
 * extension headers in the fragmentable part after it (RFC 8200 4.5: the
 * Fragment header's Next Header then names a destination options header, in
 * every fragment). */
Test(xdp_frag, ipv6_fragments_with_extension_headers)
{
	struct fb_spec s;

	frag_spec(&s, FB_L3_IPV6, IPPROTO_UDP, PORT_BOUND, 20);
	fb_ext_push(&s, FB_EXT_HOPOPTS, 8);
	fb_ext_push(&s, FB_EXT_ROUTING, 24);
	send_in_order("ipv6_hop_rt_frag_udp", &s, xt_fallback_pass(b.udp));

	frag_spec(&s, FB_L3_IPV6, IPPROTO_UDP, PORT_BOUND, 21);
	fb_ext_push(&s, FB_EXT_HOPOPTS, 8);
	fb_ext_push(&s, FB_EXT_FRAG, 8);
	fb_ext_push(&s, FB_EXT_DSTOPTS, 16);
	send_in_order("ipv6_hop_frag_dst_udp", &s, xt_fallback_pass(b.udp));

	frag_spec(&s, FB_L3_IPV6, IPPROTO_TCP, PORT_DROP, 22);
	fb_ext_push(&s, FB_EXT_FRAG, 8);
	fb_ext_push(&s, FB_EXT_DSTOPTS, 8);
	send_in_order("ipv6_frag_dst_tcp_drop", &s, xt_fallback_drop(b.tcp_drop));
}

Test(xdp_frag, orphans)
{
	static uint8_t buf[FB_FRAME_MAX];
	struct fb_spec s;
	size_t len;

	/* The second fragment before the first: the program cannot know its
	 * port; the kernel gets it (and, never seeing the first, drops the
	 * datagram when reassembly times out). */
	frag_spec(&s, FB_L3_IPV4, IPPROTO_UDP, PORT_BOUND, 30);
	len = frag_build("ipv4", &s, 1, buf);
	xt_expect(h, "ipv4_later_fragment_before_first_is_orphan", buf, len, orphan());
	len = frag_build("ipv4", &s, 0, buf);
	xt_expect(h, "ipv4_first_fragment_after_orphan_steered_by_port", buf, len,
		  xt_fallback_pass(b.udp));
	len = frag_build("ipv4", &s, 2, buf);
	xt_expect(h, "ipv4_last_fragment_after_first_follows", buf, len,
		  follows(xt_fallback_pass(b.udp)));

	frag_spec(&s, FB_L3_IPV6, IPPROTO_TCP, PORT_BOUND, 31);
	len = frag_build("ipv6", &s, 2, buf);
	xt_expect(h, "ipv6_later_fragment_before_first_is_orphan", buf, len, orphan());

	/* What identifies the datagram: (family, protocol, source, destination,
	 * id). A first fragment of one does not adopt a later one of another. */
	frag_spec(&s, FB_L3_IPV4, IPPROTO_UDP, PORT_BOUND, 32);
	len = frag_build("ipv4", &s, 0, buf);
	xt_expect(h, "ipv4_first_fragment_id_32", buf, len, xt_fallback_pass(b.udp));
	s.frag.id = 33;
	len = frag_build("ipv4", &s, 1, buf);
	xt_expect(h, "ipv4_later_fragment_other_id_is_orphan", buf, len, orphan());
	s.frag.id = 32;
	s.ip4.src[3] = 9;
	len = frag_build("ipv4", &s, 1, buf);
	xt_expect(h, "ipv4_later_fragment_other_source_is_orphan", buf, len, orphan());
	s.ip4.src[3] = 1;
	s.ip4.dst[3] = 9;
	len = frag_build("ipv4", &s, 1, buf);
	xt_expect(h, "ipv4_later_fragment_other_destination_is_orphan", buf, len, orphan());
	s.ip4.dst[3] = 2;
	s.l4 = IPPROTO_TCP;
	len = frag_build("ipv4", &s, 1, buf);
	xt_expect(h, "ipv4_later_fragment_other_protocol_is_orphan", buf, len, orphan());
	frag_spec(&s, FB_L3_IPV6, IPPROTO_UDP, PORT_BOUND, 32);
	len = frag_build("ipv6", &s, 1, buf);
	xt_expect(h, "ipv6_later_fragment_same_id_as_ipv4_is_orphan", buf, len, orphan());

	/* IPv4 identifications are 16 bits: id 0x10020 on the wire is 0x0020. */
	frag_spec(&s, FB_L3_IPV6, IPPROTO_UDP, PORT_BOUND, 0x10020);
	len = frag_build("ipv6", &s, 0, buf);
	xt_expect(h, "ipv6_first_fragment_32_bit_id", buf, len, xt_fallback_pass(b.udp));
	s.frag.id = 0x20;
	len = frag_build("ipv6", &s, 1, buf);
	xt_expect(h, "ipv6_later_fragment_low_16_bits_of_id_only_is_orphan", buf, len, orphan());
}

/* Fragments of datagrams nobody bound are the kernel's, all of them,
 * counted pass only: their later fragments are not orphans, their first
 * fragment was seen. */
Test(xdp_frag, unbound_datagrams_pass)
{
	struct fb_spec s;

	frag_spec(&s, FB_L3_IPV4, IPPROTO_UDP, PORT_UNBOUND, 40);
	send_each("ipv4_udp_unbound", &s, xt_unbound(), xt_unbound());
	frag_spec(&s, FB_L3_IPV6, IPPROTO_TCP, PORT_UNBOUND, 41);
	send_each("ipv6_tcp_unbound", &s, xt_unbound(), xt_unbound());
	/* Bound only for another address. */
	frag_spec(&s, FB_L3_IPV4, IPPROTO_UDP, PORT_ADDR_ONLY4, 42);
	memcpy(s.ip4.dst, XT_A4_OTHER, 4);
	send_each("ipv4_udp_other_address_unbound", &s, xt_unbound(), xt_unbound());
	/* Big pings: not UDP or TCP at all. */
	frag_spec(&s, FB_L3_IPV4, IPPROTO_ICMP, 0, 43);
	send_each("ipv4_icmp", &s, xt_unbound(), xt_unbound());
	frag_spec(&s, FB_L3_IPV6, IPPROTO_ICMPV6, 0, 44);
	send_each("ipv6_icmpv6", &s, xt_unbound(), xt_unbound());
}

/* Expect `follows` for later fragments, unless what they follow is gone. */
Test(xdp_frag, binding_removed_between_fragments)
{
	static uint8_t buf[FB_FRAME_MAX];
	struct fb_spec s;
	size_t len;

	frag_spec(&s, FB_L3_IPV4, IPPROTO_UDP, PORT_BOUND, 50);
	len = frag_build("ipv4", &s, 0, buf);
	xt_expect(h, "ipv4_first_fragment_steered_by_port", buf, len, xt_fallback_pass(b.udp));
	cr_assert_eq(xh_unbind(h, b.udp), 0);
	len = frag_build("ipv4", &s, 1, buf);
	xt_expect(h, "ipv4_later_fragment_after_unbind_passes", buf, len, xt_unbound());
}

/* RFC 1858 / RFC 3128: a first fragment too short to hold the transport
 * header cannot be steered by port. */
Test(xdp_frag, tiny_first_fragment)
{
	static uint8_t buf[FB_FRAME_MAX];
	struct fb_spec s;
	size_t len;

	frag_spec(&s, FB_L3_IPV4, IPPROTO_TCP, PORT_BOUND, 60);
	s.frag.size = 8;
	s.payload_len = 16;
	len = frag_build("ipv4", &s, 0, buf);
	xt_expect(h, "ipv4_tcp_first_fragment_of_8_bytes_is_malformed", buf, len, xt_malformed());
	len = frag_build("ipv4", &s, 1, buf);
	xt_expect(h, "ipv4_tcp_later_fragment_after_tiny_first_is_orphan", buf, len, orphan());

	frag_spec(&s, FB_L3_IPV6, IPPROTO_TCP, PORT_BOUND, 61);
	s.frag.size = 16;
	s.payload_len = 16;
	len = frag_build("ipv6", &s, 0, buf);
	xt_expect(h, "ipv6_tcp_first_fragment_of_16_bytes_is_malformed", buf, len, xt_malformed());

	/* A UDP header fits in 8 bytes: that first fragment is whole enough. */
	frag_spec(&s, FB_L3_IPV4, IPPROTO_UDP, PORT_BOUND, 62);
	s.frag.size = 8;
	s.payload_len = 16;
	send_in_order("ipv4_udp_8_byte_fragments", &s, xt_fallback_pass(b.udp));
}
