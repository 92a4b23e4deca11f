// SPDX-License-Identifier: MIT
/*
 * The XDP demultiplexer on frames it cannot or will not parse: truncated at
 * every length, header fields that lie, IPv6 extension chains past the
 * program's bound. Such a frame goes to the kernel (XDP_PASS) counted
 * malformed (or ext_limit), and is never steered by whatever port bytes it
 * seems to carry: every row is sent to a bound port.
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

TestSuite(xdp_malformed, .init = setup, .fini = teardown);

static void ip4_fix_csum(uint8_t *ip)
{
	size_t hlen = (size_t)(ip[0] & 0xf) * 4;

	ip[10] = ip[11] = 0;
	hlen = hlen < 20 ? 20 : hlen;
	uint16_t c = fb_csum_fold(fb_csum_add(0, ip, hlen));
	ip[10] = (uint8_t)(c >> 8);
	ip[11] = (uint8_t)c;
}

/* Make the IP length field say the packet ends at frame length len, as a
 * sender that built the short packet on purpose would. Only where the whole
 * fixed IP header is inside len. */
static bool ip_length_fit(uint8_t *f, const struct fb_layout *lay, bool v6, size_t len)
{
	uint8_t *ip = f + lay->l3_off;
	size_t n;

	if (len < lay->l3_off + (v6 ? 40 : 20))
		return false;
	n = len - lay->l3_off - (v6 ? 40 : 0);
	ip[v6 ? 4 : 2] = (uint8_t)(n >> 8);
	ip[v6 ? 5 : 3] = (uint8_t)n;
	if (!v6)
		ip4_fix_csum(ip);
	return true;
}

/* Cut every frame shape at every length from the end of the Ethernet
 * header to one byte short of the whole:
 *  - as is: the IP length says more than the frame has -> malformed;
 *  - with the IP length rewritten to end where the frame ends: now each
 *    inner bound is what stops the parse -> malformed while a header is
 *    incomplete (a UDP length always says more than is left), but a TCP
 *    segment whose header is whole is a valid segment with a short payload
 *    and is steered.
 * Frames shorter than 14 bytes: see frames_shorter_than_ethernet_header_*. */
Test(xdp_malformed, truncation_at_every_length_of_every_shape, .timeout = 120)
{
	static uint8_t full[FB_FRAME_MAX], cut[FB_FRAME_MAX];
	unsigned encap, l3, t, shapes = 0, runs = 0;
	struct fb_layout lay;
	struct fb_spec s;
	char name[200];

	for (encap = XT_PLAIN; encap <= XT_QINQ; encap++)
		for (l3 = 0; l3 <= XT_L3_N; l3++)    /* XT_L3_N: ipv6 atomic frag */
			for (t = 0; t < 2; t++) {
				uint8_t l4 = t ? IPPROTO_TCP : IPPROTO_UDP;
				bool v6 = l3 == XT_IPV6 || l3 == XT_IPV6_EXT || l3 == XT_L3_N;
				const char *l3n = l3 == XT_L3_N ? "ipv6_atomic_frag" : xt_l3_name(l3);
				size_t len, n;

				xt_spec(&s, encap, l3 == XT_L3_N ? XT_IPV6 : l3, l4, PORT_BOUND);
				if (l3 == XT_L3_N)
					fb_ext_push(&s, FB_EXT_FRAG, 8);
				if (t)
					s.tcp.opt_len = 12;
				n = xt_build("truncation", &s, full, &lay);
				shapes++;
				for (len = 14; len < n; len++) {
					bool tcp_whole = t && len >= lay.payload_off;

					snprintf(name, sizeof(name), "%s_%s_%s_cut_to_%zu_of_%zu_is_malformed",
						 xt_encap_name(encap), l3n, t ? "tcp" : "udp", len, n);
					xt_expect(h, name, full, len, xt_malformed());
					memcpy(cut, full, len);
					if (!ip_length_fit(cut, &lay, v6, len))
						continue;
					snprintf(name, sizeof(name), "%s_%s_%s_cut_to_%zu_of_%zu_ip_length_fitted_%s",
						 xt_encap_name(encap), l3n, t ? "tcp" : "udp", len, n,
						 tcp_whole ? "tcp_header_whole_is_steered" : "is_malformed");
					xt_expect(h, name, cut, len,
						  tcp_whole ? xt_fallback_pass(b.tcp) : xt_malformed());
					runs++;
				}
			}
	cr_assert_eq(shapes, 4 * 5 * 2);
	cr_assert_gt(runs, 1000);
}

/* Three VLAN tags are not ours: whatever follows is the kernel's, even a
 * broken IP header. */
Test(xdp_malformed, three_tags_with_broken_ip_pass_uncounted_as_malformed)
{
	struct fb_spec s;

	xt_spec(&s, XT_THREE_TAGS, XT_IPV4, IPPROTO_UDP, PORT_BOUND);
	s.bad.ip4_ihl = 3;
	xt_row(h, "three_tags_ipv4_bad_ihl_passes", &s, xt_unbound());
}

struct bad_row {
	const char *name;
	enum fb_l3 l3;
	uint8_t l4;
	void (*damage)(struct fb_spec *s);
	bool steered;   /* the damage leaves a frame the program may steer */
};

#define DAMAGE(fn, stmt) static void fn(struct fb_spec *s) { stmt; }
DAMAGE(ip4_version_0, s->bad.ip4_version = 0)
DAMAGE(ip4_version_6, s->bad.ip4_version = 6)
DAMAGE(ip4_version_15, s->bad.ip4_version = 15)
DAMAGE(ip4_ihl_0, s->bad.ip4_ihl = 0)
DAMAGE(ip4_ihl_4, s->bad.ip4_ihl = 4)
DAMAGE(ip4_ihl_15, s->bad.ip4_ihl = 15)
DAMAGE(ip4_ihl_15_short_payload, { s->bad.ip4_ihl = 15; s->payload_len = 0; })
DAMAGE(ip4_tot_0, s->bad.ip4_tot_len = 0)
DAMAGE(ip4_tot_19, s->bad.ip4_tot_len = 19)
DAMAGE(ip4_tot_20, s->bad.ip4_tot_len = 20)
DAMAGE(ip4_tot_27, s->bad.ip4_tot_len = 27)
DAMAGE(ip4_tot_long, s->bad.ip4_tot_len = 20 + 8 + 18 + 1)
DAMAGE(ip4_tot_max, s->bad.ip4_tot_len = 65535)
DAMAGE(ip4_tot_short_udp, s->bad.ip4_tot_len = 20 + 8 + 10)
DAMAGE(ip4_tot_short_tcp, s->bad.ip4_tot_len = 20 + 20 + 10)
DAMAGE(ip4_opts_tot_inside_opts, { s->ip4.opt_len = 40; s->bad.ip4_tot_len = 40; })
DAMAGE(ip6_version_4, s->bad.ip6_version = 4)
DAMAGE(ip6_version_0, s->bad.ip6_version = 0)
DAMAGE(ip6_version_7, s->bad.ip6_version = 7)
DAMAGE(ip6_plen_long, s->bad.ip6_payload_len = 8 + 18 + 1)
DAMAGE(ip6_plen_max, s->bad.ip6_payload_len = 65535)
DAMAGE(ip6_plen_0, s->bad.ip6_payload_len = 0)
DAMAGE(ip6_plen_7, s->bad.ip6_payload_len = 7)
DAMAGE(ip6_plen_short_udp, s->bad.ip6_payload_len = 8 + 10)
DAMAGE(ip6_plen_short_tcp, s->bad.ip6_payload_len = 20 + 10)
DAMAGE(ip6_plen_0_hop, { fb_ext_push(s, FB_EXT_HOPOPTS, 8); s->bad.ip6_payload_len = 0; })
DAMAGE(ip6_plen_inside_ext, { fb_ext_push(s, FB_EXT_DSTOPTS, 64); s->bad.ip6_payload_len = 32; })
DAMAGE(ip6_plen_ends_after_ext, { fb_ext_push(s, FB_EXT_DSTOPTS, 64); s->bad.ip6_payload_len = 64; })
DAMAGE(tcp_doff_0, s->bad.tcp_doff = 0)
DAMAGE(tcp_doff_4, s->bad.tcp_doff = 4)
DAMAGE(tcp_doff_15, s->bad.tcp_doff = 15)
DAMAGE(tcp_doff_past_segment, { s->bad.tcp_doff = 10; s->payload_len = 19; })
DAMAGE(tcp_doff_to_segment_end, { s->bad.tcp_doff = 10; s->payload_len = 20; })
DAMAGE(tcp_doff_6, s->bad.tcp_doff = 6)
DAMAGE(udp_len_0, s->bad.udp_len = 0)
DAMAGE(udp_len_7, s->bad.udp_len = 7)
DAMAGE(udp_len_long, s->bad.udp_len = 8 + 18 + 1)
DAMAGE(udp_len_max, s->bad.udp_len = 65535)
DAMAGE(udp_len_8, s->bad.udp_len = 8)
DAMAGE(udp_len_short, s->bad.udp_len = 8 + 10)

static const struct bad_row bad_rows[] = {
	{ "ipv4_version_0_is_malformed", FB_L3_IPV4, IPPROTO_UDP, ip4_version_0, false },
	{ "ipv4_version_6_is_malformed", FB_L3_IPV4, IPPROTO_UDP, ip4_version_6, false },
	{ "ipv4_version_15_is_malformed", FB_L3_IPV4, IPPROTO_TCP, ip4_version_15, false },
	{ "ipv4_ihl_0_is_malformed", FB_L3_IPV4, IPPROTO_UDP, ip4_ihl_0, false },
	{ "ipv4_ihl_4_is_malformed", FB_L3_IPV4, IPPROTO_TCP, ip4_ihl_4, false },
	{ "ipv4_ihl_15_past_total_length_is_malformed", FB_L3_IPV4, IPPROTO_UDP, ip4_ihl_15, false },
	{ "ipv4_ihl_15_past_frame_end_is_malformed", FB_L3_IPV4, IPPROTO_UDP,
	  ip4_ihl_15_short_payload, false },
	{ "ipv4_total_length_0_is_malformed", FB_L3_IPV4, IPPROTO_UDP, ip4_tot_0, false },
	{ "ipv4_total_length_below_header_is_malformed", FB_L3_IPV4, IPPROTO_UDP, ip4_tot_19, false },
	{ "ipv4_total_length_header_only_udp_is_malformed", FB_L3_IPV4, IPPROTO_UDP, ip4_tot_20, false },
	{ "ipv4_total_length_cuts_udp_header_is_malformed", FB_L3_IPV4, IPPROTO_UDP, ip4_tot_27, false },
	{ "ipv4_total_length_past_frame_is_malformed", FB_L3_IPV4, IPPROTO_UDP, ip4_tot_long, false },
	{ "ipv4_total_length_65535_is_malformed", FB_L3_IPV4, IPPROTO_TCP, ip4_tot_max, false },
	{ "ipv4_total_length_shorter_than_udp_length_is_malformed", FB_L3_IPV4, IPPROTO_UDP,
	  ip4_tot_short_udp, false },
	/* The bytes after the total length are link padding; what is inside
	 * is a whole TCP header. */
	{ "ipv4_total_length_short_tcp_rest_is_padding_is_steered", FB_L3_IPV4, IPPROTO_TCP,
	  ip4_tot_short_tcp, true },
	{ "ipv4_total_length_inside_options_is_malformed", FB_L3_IPV4, IPPROTO_UDP,
	  ip4_opts_tot_inside_opts, false },
	{ "ipv6_version_4_is_malformed", FB_L3_IPV6, IPPROTO_UDP, ip6_version_4, false },
	{ "ipv6_version_0_is_malformed", FB_L3_IPV6, IPPROTO_TCP, ip6_version_0, false },
	{ "ipv6_version_7_is_malformed", FB_L3_IPV6, IPPROTO_UDP, ip6_version_7, false },
	{ "ipv6_payload_length_past_frame_is_malformed", FB_L3_IPV6, IPPROTO_UDP, ip6_plen_long, false },
	{ "ipv6_payload_length_65535_is_malformed", FB_L3_IPV6, IPPROTO_TCP, ip6_plen_max, false },
	{ "ipv6_payload_length_0_udp_is_malformed", FB_L3_IPV6, IPPROTO_UDP, ip6_plen_0, false },
	{ "ipv6_payload_length_0_tcp_is_malformed", FB_L3_IPV6, IPPROTO_TCP, ip6_plen_0, false },
	{ "ipv6_payload_length_cuts_udp_header_is_malformed", FB_L3_IPV6, IPPROTO_UDP, ip6_plen_7, false },
	{ "ipv6_payload_length_shorter_than_udp_length_is_malformed", FB_L3_IPV6, IPPROTO_UDP,
	  ip6_plen_short_udp, false },
	{ "ipv6_payload_length_short_tcp_rest_is_padding_is_steered", FB_L3_IPV6, IPPROTO_TCP,
	  ip6_plen_short_tcp, true },
	{ "ipv6_jumbogram_payload_length_0_with_hop_by_hop_is_malformed", FB_L3_IPV6, IPPROTO_UDP,
	  ip6_plen_0_hop, false },
	{ "ipv6_payload_length_ends_inside_extension_header_is_malformed", FB_L3_IPV6, IPPROTO_UDP,
	  ip6_plen_inside_ext, false },
	{ "ipv6_payload_length_ends_after_extension_header_is_malformed", FB_L3_IPV6, IPPROTO_TCP,
	  ip6_plen_ends_after_ext, false },
	{ "ipv4_tcp_doff_0_is_malformed", FB_L3_IPV4, IPPROTO_TCP, tcp_doff_0, false },
	{ "ipv4_tcp_doff_4_is_malformed", FB_L3_IPV4, IPPROTO_TCP, tcp_doff_4, false },
	{ "ipv6_tcp_doff_4_is_malformed", FB_L3_IPV6, IPPROTO_TCP, tcp_doff_4, false },
	{ "ipv4_tcp_doff_15_past_segment_is_malformed", FB_L3_IPV4, IPPROTO_TCP, tcp_doff_15, false },
	{ "ipv6_tcp_doff_one_byte_past_segment_is_malformed", FB_L3_IPV6, IPPROTO_TCP,
	  tcp_doff_past_segment, false },
	{ "ipv4_tcp_doff_to_segment_end_is_steered", FB_L3_IPV4, IPPROTO_TCP,
	  tcp_doff_to_segment_end, true },
	{ "ipv4_tcp_doff_6_inside_segment_is_steered", FB_L3_IPV4, IPPROTO_TCP, tcp_doff_6, true },
	{ "ipv4_udp_length_0_is_malformed", FB_L3_IPV4, IPPROTO_UDP, udp_len_0, false },
	{ "ipv4_udp_length_7_is_malformed", FB_L3_IPV4, IPPROTO_UDP, udp_len_7, false },
	{ "ipv6_udp_length_0_is_malformed", FB_L3_IPV6, IPPROTO_UDP, udp_len_0, false },
	{ "ipv4_udp_length_past_ip_payload_is_malformed", FB_L3_IPV4, IPPROTO_UDP, udp_len_long, false },
	{ "ipv6_udp_length_past_ip_payload_is_malformed", FB_L3_IPV6, IPPROTO_UDP, udp_len_long, false },
	{ "ipv4_udp_length_65535_is_malformed", FB_L3_IPV4, IPPROTO_UDP, udp_len_max, false },
	/* RFC 768 lets the UDP length be shorter than the IP payload: the
	 * rest is not the datagram's; the kernel trims it the same way. */
	{ "ipv4_udp_length_header_only_is_steered", FB_L3_IPV4, IPPROTO_UDP, udp_len_8, true },
	{ "ipv6_udp_length_shorter_than_ip_payload_is_steered", FB_L3_IPV6, IPPROTO_UDP,
	  udp_len_short, true },
};

Test(xdp_malformed, lying_header_fields)
{
	unsigned i, e;
	char name[200];
	struct fb_spec s;

	for (i = 0; i < sizeof(bad_rows) / sizeof(bad_rows[0]); i++) {
		const struct bad_row *r = &bad_rows[i];

		for (e = XT_PLAIN; e <= XT_QINQ; e++) {
			fb_init(&s, r->l3, r->l4);
			xt_encap_apply(&s, e);
			r->damage(&s);
			snprintf(name, sizeof(name), "%s_%s", xt_encap_name(e), r->name);
			xt_row(h, name, &s, !r->steered ? xt_malformed()
				: xt_fallback_pass(r->l4 == IPPROTO_TCP ? b.tcp : b.udp));
		}
	}
}

/* A vlan tag cut short, or an EtherType that says IP with no IP after it. */
Test(xdp_malformed, link_layer)
{
	uint8_t f[64] = { 0x02, 0, 0, 0, 0, 0x02, 0x02, 0, 0, 0, 0, 0x01 };

	f[12] = 0x81;
	f[13] = 0x00;
	xt_expect(h, "dot1q_tag_cut_after_tpid_is_malformed", f, 14, xt_malformed());
	xt_expect(h, "dot1q_tag_cut_inside_tci_is_malformed", f, 16, xt_malformed());
	f[16] = 0x08;
	f[17] = 0x00;
	xt_expect(h, "dot1q_ipv4_ethertype_nothing_after_is_malformed", f, 18, xt_malformed());
	f[12] = 0x08;
	xt_expect(h, "ipv4_ethertype_nothing_after_is_malformed", f, 14, xt_malformed());
	f[12] = 0x86;
	f[13] = 0xdd;
	xt_expect(h, "ipv6_ethertype_nothing_after_is_malformed", f, 14, xt_malformed());
	/* 64 bytes of zeros after an IPv6 EtherType: version 0. */
	xt_expect(h, "ipv6_ethertype_zeros_after_is_malformed", f, sizeof(f), xt_malformed());
}

/* XM_IPV6_EXT_MAX headers are walked; a chain longer than that, or one
 * whose headers reach past the bytes the program reads (XM_HDR_MAX), is
 * passed to the kernel and counted ext_limit (it may well be valid). */
Test(xdp_malformed, ipv6_extension_chain_past_the_bound)
{
	static const uint8_t cycle[] = { FB_EXT_HOPOPTS, FB_EXT_DSTOPTS, FB_EXT_ROUTING };
	struct fb_spec s;
	char name[160];
	int n, i;

	for (n = XM_IPV6_EXT_MAX + 1; n <= FB_EXT_MAX; n++) {
		fb_init(&s, FB_L3_IPV6, n % 2 ? IPPROTO_UDP : IPPROTO_TCP);
		for (i = 0; i < n; i++)
			fb_ext_push(&s, cycle[i % 3], 8);
		snprintf(name, sizeof(name), "ipv6_chain_of_%d_ext_headers_counts_ext_limit", n);
		xt_row(h, name, &s, xt_ext_limit());
	}
	fb_init(&s, FB_L3_IPV6, IPPROTO_UDP);
	for (i = 0; i < XM_IPV6_EXT_MAX; i++)
		fb_ext_push(&s, FB_EXT_DSTOPTS, 8);
	fb_ext_push(&s, FB_EXT_FRAG, 8);
	xt_row(h, "ipv6_fragment_header_as_seventh_counts_ext_limit", &s, xt_ext_limit());

	/* Few headers, many bytes. */
	fb_init(&s, FB_L3_IPV6, IPPROTO_UDP);
	fb_ext_push(&s, FB_EXT_DSTOPTS, 2048);
	xt_row(h, "ipv6_one_2048_byte_dstopts_counts_ext_limit", &s, xt_ext_limit());
	fb_init(&s, FB_L3_IPV6, IPPROTO_TCP);
	for (i = 0; i < XM_IPV6_EXT_MAX; i++)
		fb_ext_push(&s, FB_EXT_DSTOPTS, 80);
	xt_row(h, "ipv6_six_80_byte_dstopts_counts_ext_limit", &s, xt_ext_limit());
	fb_init(&s, FB_L3_IPV6, IPPROTO_TCP);
	fb_ext_push(&s, FB_EXT_HOPOPTS, 256);
	fb_ext_push(&s, FB_EXT_DSTOPTS, 128);
	xt_row(h, "ipv6_hop_256_dst_128_bytes_within_bound_is_steered", &s,
	       xt_fallback_pass(b.tcp));
}
