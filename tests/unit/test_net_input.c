// SPDX-License-Identifier: MIT
/* The network layer against crafted frames (tests/unit/lib/frame.h) from a
 * raw peer: checksum verification, malformed and foreign frames, options
 * and extension headers, reassembly (order, duplicates, overlaps, timeout,
 * memory bound), and what the stack puts on the wire. Every case asserts
 * the delivery and the counter that names it. */
#include <criterion/criterion.h>
#include <errno.h>
#include <netinet/in.h>
#include <string.h>

#include "lib/frame.h"
#include "lib/sim_env.h"

#define PORT 7000

static struct sim_env e;
static int fa4, fa6;
static uint8_t frame[FB_FRAME_MAX];
static uint8_t pay[65536];

static void open_env_frames(const struct xm_stack_opts *so, uint32_t frames)
{
	struct sim_env_opts o = { .raw_peer = true, .a_frames = frames };

	if (so)
		o.a_opts = *so;
	env_open(&e, 1, &o);
	fa4 = env_udp(e.a, AF_INET, PORT);
	fa6 = xm_socket_on(e.a, AF_INET6, SOCK_DGRAM | SOCK_NONBLOCK, 0);
	{
		struct sockaddr_in6 any = { .sin6_family = AF_INET6, .sin6_port = htons(PORT) };
		int one = 1;

		xm_setsockopt(fa6, IPPROTO_IPV6, IPV6_V6ONLY, &one, sizeof(one));
		cr_assert_eq(xm_bind(fa6, (void *)&any, sizeof(any)), 0);
	}
	for (size_t i = 0; i < sizeof(pay); i++)
		pay[i] = (uint8_t)(i * 13 + (i >> 9));
}

static void open_env(const struct xm_stack_opts *so)
{
	open_env_frames(so, 0);
}

static void setup(void)
{
	open_env(NULL);
}

static void teardown(void)
{
	env_close(&e);
}

static void spec(struct fb_spec *s, int family, size_t len)
{
	fb_init(s, family == AF_INET ? FB_L3_IPV4 : FB_L3_IPV6, IPPROTO_UDP);
	s->dport = PORT;
	s->payload = pay;
	s->payload_len = len;
}

static void inject(const struct fb_spec *s, size_t trim)
{
	ssize_t n = fb_build(s, frame, sizeof(frame), NULL);

	cr_assert_gt(n, 0, "fb_build: %zd", n);
	env_inject(&e, frame, (uint32_t)((size_t)n - trim));
}

static void inject_frag(struct fb_spec *s, int index)
{
	s->frag.index = (uint16_t)index;
	inject(s, 0);
}

static struct xm_stack_stats stats(void)
{
	struct xm_stack_stats st;

	xm_stack_stats(e.a, &st);
	return st;
}

/* The next datagram on fd is exactly pay[0..len). */
static void expect_datagram(int fd, size_t len)
{
	static uint8_t in[65600];
	ssize_t n = xm_recv(fd, in, sizeof(in), 0);

	cr_assert_eq(n, (ssize_t)len, "recv: %zd (%s), want %zu", n,
		     n < 0 ? strerror(errno) : "", len);
	cr_assert(!memcmp(in, pay, len), "datagram differs");
}

static void expect_nothing(int fd)
{
	uint8_t in[16];

	cr_assert_eq(xm_recv(fd, in, sizeof(in), 0), -1, "unexpected datagram");
	cr_assert_eq(errno, EAGAIN);
}

TestSuite(net_input, .init = setup, .fini = teardown);

Test(net_input, udp4_delivered)
{
	struct fb_spec s;

	spec(&s, AF_INET, 100);
	inject(&s, 0);
	expect_datagram(fa4, 100);
	cr_assert_eq(stats().rx_frames, 1);
}

Test(net_input, udp6_delivered)
{
	struct fb_spec s;

	spec(&s, AF_INET6, 100);
	inject(&s, 0);
	expect_datagram(fa6, 100);
}

Test(net_input, bad_ipv4_header_checksum_dropped_and_counted)
{
	struct fb_spec s;

	spec(&s, AF_INET, 100);
	s.bad.l3_csum = true;
	inject(&s, 0);
	expect_nothing(fa4);
	cr_assert_eq(stats().rx_bad_ip_csum, 1);
}

Test(net_input, bad_udp4_checksum_dropped_and_counted)
{
	struct fb_spec s;

	spec(&s, AF_INET, 100);
	s.bad.l4_csum = true;
	inject(&s, 0);
	expect_nothing(fa4);
	cr_assert_eq(stats().rx_bad_l4_csum, 1);
}

Test(net_input, bad_udp6_checksum_dropped_and_counted)
{
	struct fb_spec s;

	spec(&s, AF_INET6, 100);
	s.bad.l4_csum = true;
	inject(&s, 0);
	expect_nothing(fa6);
	cr_assert_eq(stats().rx_bad_l4_csum, 1);
}

static void zero_udp_csum_case(int family)
{
	struct fb_layout lay;
	struct fb_spec s;
	ssize_t n;

	spec(&s, family, 100);
	n = fb_build(&s, frame, sizeof(frame), &lay);
	cr_assert_gt(n, 0);
	frame[lay.l4_off + 6] = 0;
	frame[lay.l4_off + 7] = 0;
	env_inject(&e, frame, (uint32_t)n);
}

Test(net_input, udp4_zero_checksum_accepted)
{
	/* RFC 768: zero means the sender computed none. */
	zero_udp_csum_case(AF_INET);
	expect_datagram(fa4, 100);
	cr_assert_eq(stats().rx_bad_l4_csum, 0);
}

Test(net_input, udp6_zero_checksum_rejected)
{
	/* RFC 8200 8.1: IPv6 receivers discard a zero UDP checksum. */
	zero_udp_csum_case(AF_INET6);
	expect_nothing(fa6);
	cr_assert_eq(stats().rx_bad_l4_csum, 1);
}

Test(net_input, truncated_frames_are_malformed)
{
	struct fb_layout lay;
	struct fb_spec s;
	ssize_t n;
	uint64_t before;

	spec(&s, AF_INET, 100);
	n = fb_build(&s, frame, sizeof(frame), &lay);
	cr_assert_gt(n, 0);
	/* Cut after Ethernet, inside the IP header, the UDP header, the
	 * payload. */
	env_inject(&e, frame, 14);
	env_inject(&e, frame, 14 + 12);
	env_inject(&e, frame, (uint32_t)lay.l4_off + 4);
	env_inject(&e, frame, (uint32_t)n - 1);
	expect_nothing(fa4);
	cr_assert_eq(stats().rx_malformed, 4);
	spec(&s, AF_INET6, 100);
	n = fb_build(&s, frame, sizeof(frame), &lay);
	before = stats().rx_malformed;
	env_inject(&e, frame, 14 + 30);
	env_inject(&e, frame, (uint32_t)n - 1);
	expect_nothing(fa6);
	cr_assert_eq(stats().rx_malformed, before + 2);
}

Test(net_input, bad_lengths_are_malformed)
{
	struct fb_spec s;

	spec(&s, AF_INET, 100);
	s.bad.ip4_ihl = 3;
	inject(&s, 0);
	spec(&s, AF_INET, 100);
	s.bad.ip4_tot_len = 2000;
	inject(&s, 0);
	spec(&s, AF_INET, 100);
	s.bad.udp_len = 4;
	inject(&s, 0);
	spec(&s, AF_INET, 100);
	s.bad.udp_len = 500;
	inject(&s, 0);
	spec(&s, AF_INET6, 100);
	s.bad.ip6_payload_len = 3000;
	inject(&s, 0);
	expect_nothing(fa4);
	expect_nothing(fa6);
	cr_assert_eq(stats().rx_malformed, 5);
}

Test(net_input, ethernet_padding_is_ignored)
{
	struct fb_spec s;

	spec(&s, AF_INET, 4);
	s.trailer_len = 20;
	inject(&s, 0);
	expect_datagram(fa4, 4);
}

Test(net_input, foreign_frames_not_for_us)
{
	struct fb_spec s;

	spec(&s, AF_INET, 10);
	s.eth_dst[5] = 0x77;   /* another host's MAC: the sim does not deliver it */
	inject(&s, 0);
	spec(&s, AF_INET, 10);
	s.ip4.dst[3] = 99;     /* not our address */
	inject(&s, 0);
	spec(&s, AF_INET6, 10);
	s.ip6.dst[15] = 99;
	inject(&s, 0);
	fb_init(&s, FB_L3_ARP, 0);   /* ARP stays with the kernel */
	memset(s.eth_dst, 0xff, 6);
	inject(&s, 0);
	expect_nothing(fa4);
	expect_nothing(fa6);
	cr_assert_eq(stats().rx_not_for_us, 3);
	cr_assert_eq(stats().rx_frames, 3);
}

Test(net_input, unbound_port_counted)
{
	struct fb_spec s;

	spec(&s, AF_INET, 10);
	s.dport = PORT + 1;
	inject(&s, 0);
	cr_assert_eq(stats().rx_no_socket, 1);
	fb_init(&s, FB_L3_IPV4, IPPROTO_ICMP);
	inject(&s, 0);
	cr_assert_eq(stats().rx_other_proto, 1);
}

Test(net_input, ipv6_no_next_header_is_not_malformed)
{
	struct fb_spec s;

	/* RFC 8200 4.7: payload length 0, Next Header 59: valid, empty. */
	fb_init(&s, FB_L3_IPV6, IPPROTO_NONE);
	s.payload_len = 0;
	inject(&s, 0);
	cr_assert_eq(stats().rx_malformed, 0);
	cr_assert_eq(stats().rx_other_proto, 1);
}

Test(net_input, ipv4_options_skipped)
{
	struct fb_spec s;

	spec(&s, AF_INET, 50);
	s.ip4.opt_len = 8;
	inject(&s, 0);
	expect_datagram(fa4, 50);
}

Test(net_input, ipv6_extension_headers_skipped)
{
	struct fb_spec s;

	spec(&s, AF_INET6, 50);
	fb_ext_push(&s, FB_EXT_HOPOPTS, 8);
	fb_ext_push(&s, FB_EXT_DSTOPTS, 16);
	inject(&s, 0);
	expect_datagram(fa6, 50);
}

Test(net_input, ipv6_atomic_fragment_is_a_whole_datagram)
{
	struct fb_spec s;

	spec(&s, AF_INET6, 50);
	fb_ext_push(&s, FB_EXT_FRAG, 8);
	inject(&s, 0);
	expect_datagram(fa6, 50);
	cr_assert_eq(stats().reasm_ok, 0);
}

/* ---- reassembly ---- */

static int frag_spec(struct fb_spec *s, int family, size_t len, uint32_t id)
{
	int n;

	spec(s, family, len);
	s->frag.size = 1000;
	s->frag.id = id;
	n = fb_frag_count(s);
	cr_assert_gt(n, 1);
	return n;
}

static void reverse_order_case(int family, int fd, size_t len)
{
	struct fb_spec s;
	int n = frag_spec(&s, family, len, 77);

	for (int i = n - 1; i >= 0; i--)
		inject_frag(&s, i);
	expect_datagram(fd, len);
	cr_assert_eq(stats().reasm_ok, 1);
	cr_assert_eq(stats().reasm_mem_bytes, 0);
}

Test(net_input, ipv4_fragments_in_reverse_order)
{
	reverse_order_case(AF_INET, fa4, 65507);
}

Test(net_input, ipv6_fragments_in_reverse_order)
{
	reverse_order_case(AF_INET6, fa6, 65527);
}

Test(net_input, duplicate_fragment_ignored)
{
	struct fb_spec s;
	int n = frag_spec(&s, AF_INET, 5000, 78);

	inject_frag(&s, 0);
	inject_frag(&s, 0);
	for (int i = 1; i < n; i++)
		inject_frag(&s, i);
	expect_datagram(fa4, 5000);
	expect_nothing(fa4);
	cr_assert_eq(stats().reasm_overlaps, 0);
}

static void overlap_case(int family, int fd)
{
	struct fb_spec s, o;
	int n = frag_spec(&s, family, 5000, 79);

	inject_frag(&s, 0);
	/* The same datagram cut at 512: its second piece overlaps the first
	 * fragment (RFC 5722: drop the whole datagram). */
	frag_spec(&o, family, 5000, 79);
	o.frag.size = 512;
	inject_frag(&o, 1);
	cr_assert_eq(stats().reasm_overlaps, 1);
	for (int i = 1; i < n; i++)
		inject_frag(&s, i);
	expect_nothing(fd);
	env_advance(&e, 31ULL * 1000000000ULL);
	cr_assert_eq(stats().reasm_ok, 0);
	cr_assert_eq(stats().reasm_mem_bytes, 0);
}

Test(net_input, ipv4_overlapping_fragments_rejected)
{
	overlap_case(AF_INET, fa4);
}

Test(net_input, ipv6_overlapping_fragments_rejected)
{
	overlap_case(AF_INET6, fa6);
}

Test(net_input, incomplete_datagram_times_out)
{
	struct fb_spec s;

	frag_spec(&s, AF_INET, 5000, 80);
	inject_frag(&s, 0);
	inject_frag(&s, 2);
	env_advance(&e, 29ULL * 1000000000ULL);
	cr_assert_gt(stats().reasm_mem_bytes, 2000);
	cr_assert_eq(stats().reasm_timeouts, 0);
	env_advance(&e, 2ULL * 1000000000ULL);
	cr_assert_eq(stats().reasm_timeouts, 1);
	cr_assert_eq(stats().reasm_mem_bytes, 0);
	/* The rest arriving late starts over and never completes. */
	inject_frag(&s, 1);
	expect_nothing(fa4);
}

Test(net_input, fragment_past_the_last_is_inconsistent)
{
	struct fb_spec s;
	int n = frag_spec(&s, AF_INET, 5000, 81);

	inject_frag(&s, n - 1);   /* fixes the total length */
	spec(&s, AF_INET, 9000);
	s.frag.size = 1000;
	s.frag.id = 81;
	inject_frag(&s, 7);       /* starts at 7000, past the end */
	cr_assert_eq(stats().reasm_bad, 1);
	expect_nothing(fa4);
}

Test(net_input, reassembly_memory_is_bounded)
{
	struct xm_stack_opts so = XM_STACK_OPTS_INIT;
	struct fb_spec s;
	int n;

	env_close(&e);
	so.reasm_mem_max = 64 * 1024;
	open_env(&so);
	/* 200 first fragments of datagrams that never complete. */
	for (uint32_t id = 1; id <= 200; id++) {
		frag_spec(&s, AF_INET, 5000, id);
		inject_frag(&s, 0);
		cr_assert_leq(stats().reasm_mem_bytes, 64 * 1024);
	}
	cr_assert_gt(stats().reasm_mem_drops, 100);
	/* A complete datagram still gets through: the oldest make room. */
	n = frag_spec(&s, AF_INET, 20000, 999);
	for (int i = 0; i < n; i++)
		inject_frag(&s, i);
	expect_datagram(fa4, 20000);
	cr_assert_leq(stats().reasm_mem_bytes, 64 * 1024);
}

Test(net_input, datagram_larger_than_the_bound_dropped)
{
	struct xm_stack_opts so = XM_STACK_OPTS_INIT;
	struct fb_spec s;
	int n;

	env_close(&e);
	so.reasm_mem_max = 16 * 1024;
	open_env(&so);
	n = frag_spec(&s, AF_INET, 30000, 5);
	for (int i = 0; i < n; i++)
		inject_frag(&s, i);
	expect_nothing(fa4);
	cr_assert_gt(stats().reasm_mem_drops, 0);
	cr_assert_leq(stats().reasm_mem_bytes, 16 * 1024);
}

/* ---- output: what a puts on the wire ---- */

static uint8_t wire[64][2048];
static uint32_t wire_len[64];

static const uint8_t mac_b[6] = { 2, 0, 0, 0, 0, 1 };

static uint16_t be16(const uint8_t *p)
{
	return (uint16_t)(p[0] << 8 | p[1]);
}

static int send_and_collect(int family, size_t len)
{
	struct sockaddr_storage to;
	int fd = family == AF_INET ? fa4 : fa6;

	cr_assert_eq(xm_sendto(fd, pay, len, 0, (void *)&to, env_addr(family, 'b', 9, &to)),
		     (ssize_t)len);
	return env_collect(&e, wire, wire_len, 64);
}

Test(net_input, udp4_output_headers_and_checksums)
{
	const uint8_t *ip, *udp;
	uint32_t sum;

	cr_assert_eq(send_and_collect(AF_INET, 333), 1);
	cr_assert_eq(wire_len[0], 14 + 20 + 8 + 333);
	cr_assert_eq(be16(wire[0] + 12), 0x0800);
	cr_assert_arr_eq(wire[0], mac_b, 6);
	ip = wire[0] + 14;
	cr_assert_eq(ip[0], 0x45);
	cr_assert_eq(be16(ip + 2), 20 + 8 + 333);
	cr_assert_eq(be16(ip + 6), 0x4000);   /* DF, not a fragment */
	cr_assert_eq(ip[9], IPPROTO_UDP);
	cr_assert_arr_eq(ip + 12, env_ip4_a, 4);
	cr_assert_arr_eq(ip + 16, env_ip4_b, 4);
	cr_assert_eq(fb_csum_fold(fb_csum_add(0, ip, 20)), 0);
	udp = ip + 20;
	cr_assert_eq(be16(udp), PORT);
	cr_assert_eq(be16(udp + 2), 9);
	cr_assert_eq(be16(udp + 4), 8 + 333);
	/* pseudo-header + segment sums to zero */
	sum = fb_csum_add(0, ip + 12, 8);
	sum += IPPROTO_UDP + 8 + 333;
	sum = fb_csum_add(sum, udp, 8 + 333);
	cr_assert_eq(fb_csum_fold(sum), 0);
	cr_assert_arr_eq(udp + 8, pay, 333);
}

Test(net_input, udp6_output_headers_and_checksums)
{
	const uint8_t *ip, *udp;
	uint32_t sum;

	cr_assert_eq(send_and_collect(AF_INET6, 333), 1);
	cr_assert_eq(wire_len[0], 14 + 40 + 8 + 333);
	cr_assert_eq(be16(wire[0] + 12), 0x86DD);
	ip = wire[0] + 14;
	cr_assert_eq(ip[0] >> 4, 6);
	cr_assert_eq(be16(ip + 4), 8 + 333);
	cr_assert_eq(ip[6], IPPROTO_UDP);
	cr_assert_arr_eq(ip + 8, env_ip6_a, 16);
	cr_assert_arr_eq(ip + 24, env_ip6_b, 16);
	udp = ip + 40;
	cr_assert_neq(be16(udp + 6), 0);
	sum = fb_csum_add(0, ip + 8, 32);
	sum += IPPROTO_UDP + 8 + 333;
	sum = fb_csum_add(sum, udp, 8 + 333);
	cr_assert_eq(fb_csum_fold(sum), 0);
}

static void output_fragments_case(int family, size_t len)
{
	uint32_t iph = family == AF_INET ? 20 : 48, next = 0, ident = 0;
	int n = send_and_collect(family, len);

	cr_assert_gt(n, 1);
	for (int i = 0; i < n; i++) {
		const uint8_t *ip = wire[i] + 14;
		uint32_t off, data, id;
		bool more;

		cr_assert_leq(wire_len[i], 14 + 1500, "fragment %d exceeds the MTU", i);
		if (family == AF_INET) {
			cr_assert_eq(fb_csum_fold(fb_csum_add(0, ip, 20)), 0);
			off = (be16(ip + 6) & 0x1fff) * 8u;
			more = be16(ip + 6) & 0x2000;
			id = be16(ip + 4);
			data = be16(ip + 2) - 20u;
		} else {
			cr_assert_eq(ip[6], 44);   /* Fragment header */
			cr_assert_eq(ip[40], IPPROTO_UDP);
			off = be16(ip + 42) & ~7u;
			more = be16(ip + 42) & 1;
			id = (uint32_t)be16(ip + 44) << 16 | be16(ip + 46);
			data = be16(ip + 4) - 8u;
		}
		if (i == 0)
			ident = id;
		cr_assert_eq(id, ident, "fragments of one datagram share the id");
		cr_assert_eq(off, next, "fragment %d at %u, want %u", i, off, next);
		cr_assert_eq(more, i < n - 1);
		if (more)
			cr_assert_eq(data % 8, 0);
		cr_assert_eq(wire_len[i], 14 + iph + data);
		next += data;
	}
	cr_assert_eq(next, 8 + len);
}

Test(net_input, ipv4_output_fragmented_to_the_mtu)
{
	output_fragments_case(AF_INET, 9000);
}

Test(net_input, ipv6_output_fragmented_to_the_mtu)
{
	output_fragments_case(AF_INET6, 9000);
}

Test(net_input, datagram_sent_whole_or_not_at_all)
{
	struct sockaddr_storage to;
	socklen_t tl;

	env_close(&e);
	open_env_frames(NULL, 16);
	tl = env_addr(AF_INET, 'b', 9, &to);
	/* 7 fragments fit in 16 buffers */
	cr_assert_eq(xm_sendto(fa4, pay, 9000, 0, (void *)&to, tl), 9000);
	cr_assert_eq(env_collect(&e, wire, wire_len, 64), 7);
	/* 45 do not: ENOBUFS, and not one fragment on the wire */
	cr_assert_eq(xm_sendto(fa4, pay, 65507, 0, (void *)&to, tl), -1);
	cr_assert_eq(errno, ENOBUFS);
	cr_assert_eq(env_collect(&e, wire, wire_len, 64), 0);
	cr_assert_eq(stats().tx_no_buffer, 1);
}

/* ---- robustness ---- */

static uint64_t rng_next(uint64_t *x)
{
	*x ^= *x << 13;
	*x ^= *x >> 7;
	*x ^= *x << 17;
	return *x;
}

Test(net_input, mangled_frames_never_break_the_stack)
{
	uint64_t x = e.seed * 0x9e3779b97f4a7c15ULL + 1;
	struct fb_spec s;

	for (int i = 0; i < 5000; i++) {
		int family = rng_next(&x) & 1 ? AF_INET : AF_INET6;
		ssize_t n;
		uint32_t len;

		spec(&s, family, rng_next(&x) % 3000);
		if (rng_next(&x) & 1) {
			s.frag.size = 512;
			s.frag.id = (uint32_t)rng_next(&x) % 8;
			s.frag.index = (uint16_t)(rng_next(&x) % (uint64_t)fb_frag_count(&s));
		}
		n = fb_build(&s, frame, sizeof(frame), NULL);
		cr_assert_gt(n, 0);
		len = (uint32_t)n;
		if (len > 1514)
			len = 1514;
		/* flip a few bytes past Ethernet, maybe cut the frame short */
		for (int k = (int)(rng_next(&x) % 4); k > 0; k--)
			frame[14 + rng_next(&x) % (len - 14)] ^= (uint8_t)(rng_next(&x) | 1);
		if (rng_next(&x) % 4 == 0)
			len = 14 + (uint32_t)(rng_next(&x) % (len - 13));
		env_inject(&e, frame, len);
		while (xm_recv(fa4, pay + 60000, 4000, 0) >= 0 ||
		       xm_recv(fa6, pay + 60000, 4000, 0) >= 0)
			;
		ENV_ASSERT(&e, stats().reasm_mem_bytes <= 4u << 20, "reassembly over its bound");
	}
	/* Still serving: restore the payload pattern and deliver one. */
	for (size_t i = 0; i < sizeof(pay); i++)
		pay[i] = (uint8_t)(i * 13 + (i >> 9));
	spec(&s, AF_INET, 100);
	inject(&s, 0);
	expect_datagram(fa4, 100);
}
