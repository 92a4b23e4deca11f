// SPDX-License-Identifier: MIT
/*
 * The XDP demultiplexer on well-formed frames, through BPF_PROG_TEST_RUN:
 * every encapsulation and transport, bindings by port and by address, the
 * fallback of a bound port with no AF_XDP socket, protocols that are not
 * ours, multi-buffer (jumbo) frames. Every row asserts the verdict and the
 * counters: the verdict counters and each binding's packets and bytes (see
 * xh_check: counters not named must not move).
 *
 * Malformed frames: test_xdp_malformed.c. Fragments: test_xdp_frag.c.
 */
#define _GNU_SOURCE
#include <sched.h>
#include <bpf/bpf.h>

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

TestSuite(xdp_prog, .init = setup, .fini = teardown);

/* What a well-formed frame to dport gets, by the standard bindings. */
static struct xh_expect by_port(uint8_t l4, uint16_t dport)
{
	if (dport == PORT_BOUND)
		return xt_fallback_pass(l4 == IPPROTO_TCP ? b.tcp : b.udp);
	if (dport == PORT_DROP)
		return xt_fallback_drop(l4 == IPPROTO_TCP ? b.tcp_drop : b.udp_drop);
	return xt_unbound();
}

Test(xdp_prog, every_encapsulation_l3_transport_and_binding)
{
	static const uint16_t ports[] = { PORT_BOUND, PORT_DROP, PORT_UNBOUND };
	static const char *const port_names[] = { "bound_falls_back_pass",
						  "bound_falls_back_drop", "unbound_passes" };
	static const uint8_t l4s[] = { IPPROTO_UDP, IPPROTO_TCP };
	unsigned e, l3, t, p, rows = 0;
	struct fb_spec s;
	char name[160];

	for (e = 0; e < XT_ENCAP_N; e++)
		for (l3 = 0; l3 < XT_L3_N; l3++)
			for (t = 0; t < 2; t++)
				for (p = 0; p < 3; p++) {
					xt_spec(&s, e, l3, l4s[t], ports[p]);
					snprintf(name, sizeof(name), "%s_%s_%s_%s",
						 xt_encap_name(e), xt_l3_name(l3),
						 l4s[t] == IPPROTO_TCP ? "tcp" : "udp",
						 e == XT_THREE_TAGS ? "three_tags_pass_to_kernel"
								    : port_names[p]);
					xt_row(h, name, &s, e == XT_THREE_TAGS ? xt_unbound()
							    : by_port(l4s[t], ports[p]));
					rows++;
				}
	cr_assert_eq(rows, XT_ENCAP_N * XT_L3_N * 2 * 3);
}

/* Every chain of one to three IPv6 extension headers (hop-by-hop, routing,
 * destination options, an atomic fragment header: RFC 6946), in every order,
 * before UDP and TCP: the program walks them to the port. */
Test(xdp_prog, ipv6_every_extension_header_chain_up_to_three)
{
	static const uint8_t types[] = { FB_EXT_HOPOPTS, FB_EXT_ROUTING, FB_EXT_DSTOPTS,
					 FB_EXT_FRAG };
	static const char *const tn[] = { "hop", "rt", "dst", "atomic_frag" };
	unsigned n, code, i, t, rows = 0;
	struct fb_spec s;
	char name[160];

	for (n = 1; n <= 3; n++) {
		unsigned combos = 1;

		for (i = 0; i < n; i++)
			combos *= 4;
		for (code = 0; code < combos; code++) {
			unsigned c = code, nfrag = 0, idx[3];

			for (i = 0; i < n; i++, c /= 4) {
				idx[i] = c % 4;
				nfrag += types[idx[i]] == FB_EXT_FRAG;
			}
			if (nfrag > 1)  /* RFC 8200 4.1: at most one */
				continue;
			for (t = 0; t < 2; t++) {
				uint8_t l4 = t ? IPPROTO_TCP : IPPROTO_UDP;
				size_t at;

				fb_init(&s, FB_L3_IPV6, l4);
				at = (size_t)snprintf(name, sizeof(name), "ipv6");
				for (i = 0; i < n; i++) {
					/* Sizes 8, 16, 24 so that lengths are walked, not
					 * assumed. */
					fb_ext_push(&s, types[idx[i]], (uint16_t)(8 * (i + 1)));
					at += (size_t)snprintf(name + at, sizeof(name) - at, "_%s",
							       tn[idx[i]]);
				}
				snprintf(name + at, sizeof(name) - at, "_%s_bound_is_steered",
					 t ? "tcp" : "udp");
				xt_row(h, name, &s, by_port(l4, PORT_BOUND));
				s.dport = PORT_UNBOUND;
				snprintf(name + at, sizeof(name) - at, "_%s_unbound_passes",
					 t ? "tcp" : "udp");
				xt_row(h, name, &s, xt_unbound());
				rows += 2;
			}
		}
	}
	/* 4 + 16 + 64 chains minus those with two fragment headers (1 + 10). */
	cr_assert_eq(rows, 2 * 2 * (4 + 15 + 54));
}

Test(xdp_prog, ipv6_chain_of_exactly_ext_max_headers_is_steered)
{
	struct fb_spec s;
	int i;

	fb_init(&s, FB_L3_IPV6, IPPROTO_UDP);
	for (i = 0; i < XM_IPV6_EXT_MAX; i++)
		fb_ext_push(&s, FB_EXT_DSTOPTS, 8);
	xt_row(h, "ipv6_six_dstopts_udp_bound_is_steered", &s, by_port(IPPROTO_UDP, PORT_BOUND));
}

/* Frames that are not UDP or TCP go to the kernel, counted pass, whatever
 * port bytes they carry. */
Test(xdp_prog, other_protocols_pass_to_kernel)
{
	static const uint8_t gre[] = { 0x00, 0x00, 0x08, 0x00, 0x1b, 0x58, 0x1b, 0x58 };
	struct fb_spec s;

	fb_init(&s, FB_L3_ARP, 0);
	xt_row(h, "arp_request_passes", &s, xt_unbound());
	fb_vlan_push(&s, FB_TPID_8021Q, 100);
	xt_row(h, "dot1q_arp_request_passes", &s, xt_unbound());

	fb_init(&s, FB_L3_IPV4, IPPROTO_ICMP);
	xt_row(h, "icmp_echo_request_passes", &s, xt_unbound());
	xt_encap_apply(&s, XT_QINQ);
	xt_row(h, "qinq_icmp_echo_request_passes", &s, xt_unbound());

	fb_init(&s, FB_L3_IPV6, IPPROTO_ICMPV6);
	xt_row(h, "icmpv6_echo_request_passes", &s, xt_unbound());
	fb_ext_push(&s, FB_EXT_HOPOPTS, 8);
	xt_row(h, "icmpv6_after_hop_by_hop_passes", &s, xt_unbound());

	/* GRE whose first bytes would read as ports 7000 -> 7000 if parsed as
	 * UDP. */
	fb_init(&s, FB_L3_IPV4, IPPROTO_GRE);
	s.payload = gre;
	s.payload_len = sizeof(gre);
	xt_row(h, "ipv4_gre_with_port_like_bytes_passes", &s, xt_unbound());
	fb_init(&s, FB_L3_IPV6, IPPROTO_GRE);
	s.payload = gre;
	s.payload_len = sizeof(gre);
	xt_row(h, "ipv6_gre_with_port_like_bytes_passes", &s, xt_unbound());

	fb_init(&s, FB_L3_IPV4, IPPROTO_SCTP);
	s.payload = gre;
	s.payload_len = sizeof(gre);
	xt_row(h, "ipv4_sctp_passes", &s, xt_unbound());

	fb_init(&s, FB_L3_IPV6, 59);  /* RFC 8200 4.7: No Next Header */
	s.payload_len = 0;
	xt_row(h, "ipv6_no_next_header_passes", &s, xt_unbound());

	fb_init(&s, FB_L3_RAW, 0);
	xt_row(h, "ieee_local_experimental_ethertype_passes", &s, xt_unbound());
	fb_init(&s, FB_L3_RAW, 0);
	s.ethertype = 0x88CC;  /* LLDP */
	xt_row(h, "lldp_passes", &s, xt_unbound());
	fb_init(&s, FB_L3_RAW, 0);
	fb_vlan_push(&s, FB_TPID_8021Q, 100);
	s.ethertype = 0x8847;  /* MPLS: we do not look inside */
	xt_row(h, "dot1q_mpls_passes", &s, xt_unbound());
}

Test(xdp_prog, ports_other_than_the_bound_one_pass)
{
	struct fb_spec s;

	fb_init(&s, FB_L3_IPV4, IPPROTO_UDP);
	s.dport = PORT_BOUND + 2;
	xt_row(h, "udp_neighbour_port_of_bound_passes", &s, xt_unbound());
	s.dport = 1;
	xt_row(h, "udp_port_1_passes", &s, xt_unbound());
	s.dport = 65535;
	xt_row(h, "udp_port_65535_passes", &s, xt_unbound());
	s.dport = 0;
	xt_row(h, "udp_port_0_passes", &s, xt_unbound());
	/* The source port is not what is bound. */
	s.dport = PORT_UNBOUND;
	s.sport = PORT_BOUND;
	xt_row(h, "udp_from_bound_port_to_unbound_passes", &s, xt_unbound());
	/* A binding is per protocol: tcp/7200 is not udp/7200. */
	fb_init(&s, FB_L3_IPV4, IPPROTO_TCP);
	s.dport = PORT_ADDR_ONLY4;
	xt_row(h, "tcp_to_port_bound_only_for_udp_passes", &s, xt_unbound());
	fb_init(&s, FB_L3_IPV6, IPPROTO_UDP);
	s.dport = PORT_ADDR_ONLY6;
	xt_row(h, "udp_to_port_bound_only_for_tcp_passes", &s, xt_unbound());
}

Test(xdp_prog, address_bindings)
{
	static const uint8_t v4_in_v6[16] = { 198, 18, 0, 2 };
	struct fb_spec s;

	fb_init(&s, FB_L3_IPV4, IPPROTO_UDP);
	s.dport = PORT_ADDR_WILD;
	xt_row(h, "ipv4_address_binding_wins_over_wildcard", &s, xt_fallback_pass(b.wild_v4));
	memcpy(s.ip4.dst, XT_A4_OTHER, 4);
	xt_row(h, "ipv4_other_address_falls_back_to_wildcard", &s,
	       xt_fallback_pass(b.wild_any));

	fb_init(&s, FB_L3_IPV6, IPPROTO_UDP);
	s.dport = PORT_ADDR_WILD;
	xt_row(h, "ipv6_address_binding_wins_over_wildcard", &s, xt_fallback_pass(b.wild_v6));
	memcpy(s.ip6.dst, XT_A6_OTHER, 16);
	xt_row(h, "ipv6_other_address_falls_back_to_wildcard", &s,
	       xt_fallback_pass(b.wild_any));

	fb_init(&s, FB_L3_IPV4, IPPROTO_UDP);
	s.dport = PORT_ADDR_ONLY4;
	xt_row(h, "ipv4_address_binding_alone_catches_its_address", &s,
	       xt_fallback_drop(b.only_v4));
	xt_encap_apply(&s, XT_QINQ);
	xt_row(h, "qinq_ipv4_address_binding_alone_catches_its_address", &s,
	       xt_fallback_drop(b.only_v4));
	fb_init(&s, FB_L3_IPV4, IPPROTO_UDP);
	s.dport = PORT_ADDR_ONLY4;
	memcpy(s.ip4.dst, XT_A4_OTHER, 4);
	xt_row(h, "ipv4_address_binding_alone_does_not_catch_other_address", &s, xt_unbound());
	/* The source address is not the bound one. */
	memcpy(s.ip4.src, XT_A4, 4);
	xt_row(h, "ipv4_address_binding_does_not_match_source_address", &s, xt_unbound());

	/* An IPv4 binding does not catch IPv6, even to an address whose first
	 * four bytes are the bound IPv4 address. */
	fb_init(&s, FB_L3_IPV6, IPPROTO_UDP);
	s.dport = PORT_ADDR_ONLY4;
	xt_row(h, "ipv6_not_caught_by_ipv4_address_binding", &s, xt_unbound());
	memcpy(s.ip6.dst, v4_in_v6, 16);
	xt_row(h, "ipv6_with_ipv4_address_bytes_not_caught_by_ipv4_binding", &s, xt_unbound());

	fb_init(&s, FB_L3_IPV6, IPPROTO_TCP);
	s.dport = PORT_ADDR_ONLY6;
	xt_row(h, "ipv6_address_binding_alone_catches_its_address", &s,
	       xt_fallback_drop(b.only_v6));
	fb_ext_push(&s, FB_EXT_HOPOPTS, 8);
	fb_ext_push(&s, FB_EXT_ROUTING, 24);
	xt_row(h, "ipv6_ext_address_binding_alone_catches_its_address", &s,
	       xt_fallback_drop(b.only_v6));
	fb_init(&s, FB_L3_IPV6, IPPROTO_TCP);
	s.dport = PORT_ADDR_ONLY6;
	memcpy(s.ip6.dst, XT_A6_OTHER, 16);
	xt_row(h, "ipv6_address_binding_alone_does_not_catch_other_address", &s, xt_unbound());
	fb_init(&s, FB_L3_IPV4, IPPROTO_TCP);
	s.dport = PORT_ADDR_ONLY6;
	xt_row(h, "ipv4_not_caught_by_ipv6_address_binding", &s, xt_unbound());
}

/* No AF_XDP socket in xsks (a test run has none): the binding's fallback
 * decides, counted fallback and pass or drop; the binding counts it. */
Test(xdp_prog, fallback_without_socket)
{
	struct fb_spec s;
	int i;

	fb_init(&s, FB_L3_IPV4, IPPROTO_UDP);
	xt_row(h, "ipv4_udp_bound_no_socket_fallback_pass", &s, xt_fallback_pass(b.udp));
	s.dport = PORT_DROP;
	xt_row(h, "ipv4_udp_bound_no_socket_fallback_drop", &s, xt_fallback_drop(b.udp_drop));
	fb_init(&s, FB_L3_IPV6, IPPROTO_TCP);
	xt_row(h, "ipv6_tcp_bound_no_socket_fallback_pass", &s, xt_fallback_pass(b.tcp));
	s.dport = PORT_DROP;
	xt_row(h, "ipv6_tcp_bound_no_socket_fallback_drop", &s, xt_fallback_drop(b.tcp_drop));

	/* Counters accumulate per binding: ten more packets. */
	fb_init(&s, FB_L3_IPV4, IPPROTO_UDP);
	for (i = 0; i < 10; i++)
		xt_row(h, "ipv4_udp_bound_repeated_counts_each_packet", &s,
		       xt_fallback_pass(b.udp));
	{
		struct xm_binding_stats bs;
		uint8_t buf[FB_FRAME_MAX];
		size_t len = xt_build("udp4", &s, buf, NULL);

		cr_assert_eq(xh_binding_counters(h, b.udp, &bs), 0);
		cr_expect_eq(bs.packets, 11);
		cr_expect_eq(bs.bytes, 11 * len);
	}
}

Test(xdp_prog, unbind_returns_port_to_kernel)
{
	struct fb_spec s;

	fb_init(&s, FB_L3_IPV4, IPPROTO_UDP);
	s.dport = PORT_ADDR_WILD;
	cr_assert_eq(xh_unbind(h, b.wild_v4), 0);
	xt_row(h, "ipv4_address_unbound_falls_back_to_wildcard", &s,
	       xt_fallback_pass(b.wild_any));
	cr_assert_eq(xh_unbind(h, b.wild_any), 0);
	xt_row(h, "ipv4_all_bindings_of_port_gone_passes", &s, xt_unbound());
	/* The IPv6 address binding on the same port still holds. */
	fb_init(&s, FB_L3_IPV6, IPPROTO_UDP);
	s.dport = PORT_ADDR_WILD;
	xt_row(h, "ipv6_address_binding_survives_unbind_of_others", &s,
	       xt_fallback_pass(b.wild_v6));
}

/* A frame padded to the Ethernet minimum (60 bytes) carries bytes after
 * the IP packet; they are not the packet's and do not make it malformed. */
Test(xdp_prog, ethernet_padding_after_ip_packet)
{
	struct fb_spec s;

	fb_init(&s, FB_L3_IPV4, IPPROTO_TCP);
	s.payload_len = 0;
	s.tcp.flags = 0x10;
	s.trailer_len = 6;   /* 54-byte ACK padded to 60 */
	xt_row(h, "ipv4_tcp_ack_with_ethernet_padding_is_steered", &s,
	       xt_fallback_pass(b.tcp));
	fb_init(&s, FB_L3_IPV4, IPPROTO_UDP);
	s.payload_len = 1;
	s.trailer_len = 17;
	xt_row(h, "ipv4_udp_with_ethernet_padding_is_steered", &s, xt_fallback_pass(b.udp));
	fb_init(&s, FB_L3_IPV6, IPPROTO_UDP);
	s.trailer_len = 4;
	xt_row(h, "ipv6_udp_with_trailing_bytes_is_steered", &s, xt_fallback_pass(b.udp));
}

/* The program does not verify checksums: the runtime (or the kernel) does,
 * and drops the packet; the port still decides where it goes. */
Test(xdp_prog, checksums_are_not_verified_here)
{
	struct fb_spec s;

	fb_init(&s, FB_L3_IPV4, IPPROTO_UDP);
	s.bad.l3_csum = true;
	xt_row(h, "ipv4_bad_header_checksum_steered_by_port", &s, xt_fallback_pass(b.udp));
	s.bad.l3_csum = false;
	s.bad.l4_csum = true;
	xt_row(h, "ipv4_bad_udp_checksum_steered_by_port", &s, xt_fallback_pass(b.udp));
	fb_init(&s, FB_L3_IPV6, IPPROTO_TCP);
	s.bad.l4_csum = true;
	xt_row(h, "ipv6_bad_tcp_checksum_steered_by_port", &s, xt_fallback_pass(b.tcp));
}

/* Multi-buffer: BPF_PROG_TEST_RUN puts what does not fit in a page into
 * fragments when the program is frags-aware (SEC("xdp.frags"), kernel
 * >= 5.18). Byte counters must count the whole frame, not the first page. */
Test(xdp_prog, jumbo_frames_count_full_length)
{
	static const struct {
		const char *name;
		enum fb_l3 l3;
		uint8_t l4;
		uint16_t dport;
		enum xt_encap encap;
	} rows[] = {
		{ "jumbo_ipv4_udp_bound_counts_9000_bytes", FB_L3_IPV4, IPPROTO_UDP, PORT_BOUND, XT_PLAIN },
		{ "jumbo_ipv4_udp_unbound_counts_9000_bytes", FB_L3_IPV4, IPPROTO_UDP, PORT_UNBOUND, XT_PLAIN },
		{ "jumbo_ipv4_tcp_drop_counts_9000_bytes", FB_L3_IPV4, IPPROTO_TCP, PORT_DROP, XT_PLAIN },
		{ "jumbo_ipv6_udp_bound_counts_9000_bytes", FB_L3_IPV6, IPPROTO_UDP, PORT_BOUND, XT_PLAIN },
		{ "jumbo_ipv6_tcp_unbound_counts_9000_bytes", FB_L3_IPV6, IPPROTO_TCP, PORT_UNBOUND, XT_PLAIN },
		{ "jumbo_qinq_ipv6_tcp_bound_counts_9000_bytes", FB_L3_IPV6, IPPROTO_TCP, PORT_BOUND, XT_QINQ },
	};
	static uint8_t buf[FB_FRAME_MAX];
	struct fb_spec s;
	unsigned i;

	for (i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
		size_t len, hdr;

		fb_init(&s, rows[i].l3, rows[i].l4);
		xt_encap_apply(&s, rows[i].encap);
		s.dport = rows[i].dport;
		/* Headers: eth 14 + tags + IP (20 / 40) + UDP 8 / TCP 20. */
		hdr = 14 + 4 * s.nvlan + (rows[i].l3 == FB_L3_IPV4 ? 20 : 40) +
		      (rows[i].l4 == IPPROTO_TCP ? 20 : 8);
		s.payload_len = 9000 - hdr;
		len = xt_build(rows[i].name, &s, buf, NULL);
		cr_assert_eq(len, 9000, "%s: built %zu bytes", rows[i].name, len);
		xt_expect(h, rows[i].name, buf, len, by_port(rows[i].l4, rows[i].dport));
	}
	/* A jumbo frame truncated (IP says 9000, the frame ends before) is
	 * malformed on the full length too. */
	fb_init(&s, FB_L3_IPV4, IPPROTO_UDP);
	s.payload_len = 9000 - 14 - 20 - 8;
	xt_build("jumbo_truncated", &s, buf, NULL);
	xt_expect(h, "jumbo_ipv4_udp_truncated_to_8000_is_malformed", buf, 8000, xt_malformed());
}

/* The kernel refuses test frames shorter than an Ethernet header, so a
 * frame of 0..13 bytes cannot reach the program through a test run (nor,
 * from a real driver, through XDP). */
Test(xdp_prog, frames_shorter_than_ethernet_header_refused_by_kernel)
{
	uint8_t buf[14] = { 0 };
	uint32_t verdict;
	size_t len;

	for (len = 0; len < sizeof(buf); len++)
		cr_expect_eq(xh_run(h, buf, len, &verdict), -EINVAL, "len %zu", len);
	xt_expect(h, "zeroed_ethernet_header_only_passes", buf, 14, xt_unbound());
}

/* The SYN budget (struct xm_syn_budget): one SYN a second with a burst of
 * three lets three SYNs to a bound port through and drops the fourth,
 * counted; segments with ACK and SYNs to unbound ports are never weighed. */
Test(xdp_prog, syn_budget_drops_syns_past_the_burst)
{
	struct xm_syn_budget budget = { .cost_ns = 1000000000ull,
					.cap_ns = 3 * 1000000000ull };
	struct xh_expect over = { .verdict = XDP_DROP, .binding = XH_NONE,
				  .stats = XH_S(SYN_BUDGET) | XH_S(DROP) };
	cpu_set_t one;
	struct fb_spec s;
	__u32 zero = 0;
	int i;

	/* The bucket is per CPU: run every frame on the same one. */
	CPU_ZERO(&one);
	CPU_SET(0, &one);
	cr_assert_eq(sched_setaffinity(0, sizeof(one), &one), 0);
	cr_assert_eq(bpf_map_update_elem(xh_map_fd(h, XM_MAP_SYN_BUDGET), &zero,
					 &budget, BPF_ANY), 0);
	fb_init(&s, FB_L3_IPV4, IPPROTO_TCP);
	s.tcp.flags = 0x02;   /* SYN */
	for (i = 0; i < 3; i++)
		xt_row(h, "ipv4_syn_within_budget", &s, xt_fallback_pass(b.tcp));
	xt_row(h, "ipv4_syn_past_budget_dropped", &s, over);
	fb_init(&s, FB_L3_IPV6, IPPROTO_TCP);
	s.tcp.flags = 0x02;
	xt_row(h, "ipv6_syn_past_budget_dropped", &s, over);
	s.tcp.flags = 0x12;   /* SYN+ACK: not a new connection's first SYN */
	xt_row(h, "ipv6_synack_not_weighed", &s, xt_fallback_pass(b.tcp));
	s.tcp.flags = 0x10;
	xt_row(h, "ipv6_ack_not_weighed", &s, xt_fallback_pass(b.tcp));
	s.tcp.flags = 0x02;
	s.dport = PORT_UNBOUND;
	xt_row(h, "ipv6_syn_to_unbound_port_not_weighed", &s, xt_unbound());
	/* No budget: every SYN goes through again. */
	budget.cost_ns = 0;
	cr_assert_eq(bpf_map_update_elem(xh_map_fd(h, XM_MAP_SYN_BUDGET), &zero,
					 &budget, BPF_ANY), 0);
	fb_init(&s, FB_L3_IPV4, IPPROTO_TCP);
	s.tcp.flags = 0x02;
	xt_row(h, "ipv4_syn_without_budget", &s, xt_fallback_pass(b.tcp));
}
