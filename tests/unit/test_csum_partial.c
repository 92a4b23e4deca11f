// SPDX-License-Identifier: MIT
/*
 * Partial checksums (README, "Checksums"): on a link of kind "veth" a UDP or
 * TCP segment whose checksum field holds the folded pseudo-header sum (what
 * a Linux sender leaves for the device to finish, CHECKSUM_PARTIAL) is
 * taken and counted in rx_csum_partial; anything else that is not a
 * complete checksum is dropped as bad, and on any other link the partial
 * form is a bad checksum like any other. The partial form is computed here
 * from the frame's own bytes, independently of the stack's code.
 */
#include <criterion/criterion.h>
#include <errno.h>
#include <netinet/in.h>
#include <string.h>

#include "lib/frame.h"
#include "lib/sim_env.h"

#define PORT 7000

static struct sim_env e;
static uint8_t frame[FB_FRAME_MAX];
static uint8_t pay[4000];

static void open_kind(const char *kind)
{
	struct sim_env_opts o = { .raw_peer = true, .a_kind = kind };

	env_open(&e, 17, &o);
	for (size_t i = 0; i < sizeof(pay); i++)
		pay[i] = (uint8_t)(i * 7 + 3);
}

static void teardown(void)
{
	env_close(&e);
}

static struct xm_stack_stats stats(void)
{
	struct xm_stack_stats st;

	xm_stack_stats(e.a, &st);
	return st;
}

/* The pseudo-header sum of the frame's IP packet for an L4 length, folded
 * and not complemented: the kernel's ~csum_tcpudp_magic(.., 0). */
static uint16_t partial_of(const struct fb_layout *lay, int family,
			   uint8_t proto, uint32_t l4_len)
{
	const uint8_t *ip = frame + lay->l3_off;
	uint8_t tail[4] = { 0, proto, (uint8_t)(l4_len >> 8), (uint8_t)l4_len };
	uint32_t s;

	s = family == AF_INET ? fb_csum_add(0, ip + 12, 8) : fb_csum_add(0, ip + 8, 32);
	s = fb_csum_add(s, tail, 4);
	return (uint16_t)~fb_csum_fold(s);
}

static void put16(uint8_t *p, uint16_t v)
{
	p[0] = (uint8_t)(v >> 8);
	p[1] = (uint8_t)v;
}

/* A UDP datagram of len bytes to PORT; its checksum field set to the
 * partial form plus delta (0: exactly the partial form). */
static void inject_udp_partial(int family, size_t len, int delta)
{
	struct fb_layout lay;
	struct fb_spec s;
	ssize_t n;

	fb_init(&s, family == AF_INET ? FB_L3_IPV4 : FB_L3_IPV6, IPPROTO_UDP);
	s.dport = PORT;
	s.payload = pay;
	s.payload_len = len;
	n = fb_build(&s, frame, sizeof(frame), &lay);
	cr_assert_gt(n, 0);
	put16(frame + lay.l4_off + 6,
	      (uint16_t)(partial_of(&lay, family, IPPROTO_UDP, (uint32_t)len + 8) + delta));
	env_inject(&e, frame, (uint32_t)n);
}

/* A UDP socket on PORT; an IPv6 one only for IPv6, beside an IPv4 one. */
static int udp_sock(int family)
{
	struct sockaddr_storage ss;
	int fd, one = 1;

	if (family == AF_INET)
		return env_udp(e.a, AF_INET, PORT);
	fd = xm_socket_on(e.a, AF_INET6, SOCK_DGRAM | SOCK_NONBLOCK, 0);
	cr_assert_geq(fd, 0);
	cr_assert_eq(xm_setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &one, sizeof(one)), 0);
	cr_assert_eq(xm_bind(fd, (struct sockaddr *)&ss, env_addr(AF_INET6, 'a', PORT, &ss)), 0);
	return fd;
}

static void expect_datagram(int fd, size_t len)
{
	static uint8_t in[8192];
	ssize_t n = xm_recv(fd, in, sizeof(in), MSG_DONTWAIT);

	cr_assert_eq(n, (ssize_t)len, "recv: %zd (%s), want %zu", n,
		     n < 0 ? strerror(errno) : "", len);
	cr_assert(!memcmp(in, pay, len), "datagram differs");
}

static void expect_nothing(int fd)
{
	uint8_t in[16];

	cr_assert_eq(xm_recv(fd, in, sizeof(in), MSG_DONTWAIT), -1, "unexpected datagram");
	cr_assert_eq(errno, EAGAIN);
}

static void udp_partial_taken(int family)
{
	int fd;

	open_kind("veth");
	fd = udp_sock(family);
	inject_udp_partial(family, 1, 0);
	inject_udp_partial(family, 1000, 0);
	expect_datagram(fd, 1);
	expect_datagram(fd, 1000);
	cr_assert_eq(stats().rx_csum_partial, 2);
	cr_assert_eq(stats().rx_bad_l4_csum, 0);
}

Test(csum_partial, udp4_partial_form_taken_on_veth, .fini = teardown)
{
	udp_partial_taken(AF_INET);
}

Test(csum_partial, udp6_partial_form_taken_on_veth, .fini = teardown)
{
	udp_partial_taken(AF_INET6);
}

/* An IPv4 UDP datagram of len bytes with a complete checksum, flipped if
 * damaged. */
static void inject_udp_complete(size_t len, bool damaged)
{
	struct fb_spec s;
	ssize_t n;

	fb_init(&s, FB_L3_IPV4, IPPROTO_UDP);
	s.dport = PORT;
	s.payload = pay;
	s.payload_len = len;
	s.bad.l4_csum = damaged;
	n = fb_build(&s, frame, sizeof(frame), NULL);
	cr_assert_gt(n, 0);
	env_inject(&e, frame, (uint32_t)n);
}

Test(csum_partial, complete_checksum_still_taken_on_veth, .fini = teardown)
{
	int fd;

	open_kind("veth");
	fd = udp_sock(AF_INET);
	inject_udp_complete(300, false);
	expect_datagram(fd, 300);
	cr_assert_eq(stats().rx_csum_partial, 0);
}

Test(csum_partial, near_partial_form_is_bad_on_veth, .fini = teardown)
{
	int fd;

	open_kind("veth");
	fd = udp_sock(AF_INET6);
	inject_udp_partial(AF_INET6, 100, 1);
	inject_udp_partial(AF_INET6, 100, -1);
	expect_nothing(fd);
	cr_assert_eq(stats().rx_bad_l4_csum, 2);
	cr_assert_eq(stats().rx_csum_partial, 0);
}

Test(csum_partial, real_bad_checksum_dropped_on_veth, .fini = teardown)
{
	int fd;

	open_kind("veth");
	fd = udp_sock(AF_INET);
	inject_udp_complete(300, true);
	expect_nothing(fd);
	cr_assert_eq(stats().rx_bad_l4_csum, 1);
}

Test(csum_partial, udp6_zero_checksum_still_rejected_on_veth, .fini = teardown)
{
	struct fb_layout lay;
	struct fb_spec s;
	ssize_t n;
	int fd;

	open_kind("veth");
	fd = udp_sock(AF_INET6);
	fb_init(&s, FB_L3_IPV6, IPPROTO_UDP);
	s.dport = PORT;
	n = fb_build(&s, frame, sizeof(frame), &lay);
	put16(frame + lay.l4_off + 6, 0);
	env_inject(&e, frame, (uint32_t)n);
	expect_nothing(fd);
	cr_assert_eq(stats().rx_bad_l4_csum, 1);
}

Test(csum_partial, partial_form_is_bad_on_other_links, .fini = teardown)
{
	int fd4, fd6;

	open_kind(NULL);
	fd4 = udp_sock(AF_INET);
	fd6 = udp_sock(AF_INET6);
	inject_udp_partial(AF_INET, 100, 0);
	inject_udp_partial(AF_INET6, 100, 0);
	expect_nothing(fd4);
	expect_nothing(fd6);
	cr_assert_eq(stats().rx_bad_l4_csum, 2);
	cr_assert_eq(stats().rx_csum_partial, 0);
}

/* The kernel completes the checksum before it fragments: a reassembled
 * datagram in the partial form is not one a local sender makes. */
Test(csum_partial, reassembled_datagram_in_partial_form_is_bad, .fini = teardown)
{
	struct fb_layout lay;
	struct fb_spec s;
	int fd, nf, i;
	ssize_t n;

	open_kind("veth");
	fd = udp_sock(AF_INET);
	fb_init(&s, FB_L3_IPV4, IPPROTO_UDP);
	s.dport = PORT;
	s.payload = pay;
	s.payload_len = 3000;
	s.frag.size = 1480;
	s.frag.id = 77;
	nf = fb_frag_count(&s);
	cr_assert_eq(nf, 3);
	for (i = 0; i < nf; i++) {
		s.frag.index = (uint16_t)i;
		n = fb_build(&s, frame, sizeof(frame), &lay);
		cr_assert_gt(n, 0);
		if (i == 0)
			put16(frame + lay.l4_off + 6,
			      partial_of(&lay, AF_INET, IPPROTO_UDP, 3008));
		env_inject(&e, frame, (uint32_t)n);
	}
	expect_nothing(fd);
	cr_assert_eq(stats().reasm_ok, 1);
	cr_assert_eq(stats().rx_bad_l4_csum, 1);
	cr_assert_eq(stats().rx_csum_partial, 0);
}

/* A SYN in the partial form to a listener on port is answered with a
 * SYN-ACK: how many came back. */
static int syn_partial_answered(int family, uint16_t port)
{
	static uint8_t out[16][2048];
	uint32_t lens[16];
	struct sockaddr_storage ss;
	struct fb_layout lay;
	struct fb_spec s;
	int l, n, i, synacks = 0;
	ssize_t len;

	l = xm_socket_on(e.a, family, SOCK_STREAM | SOCK_NONBLOCK, 0);
	cr_assert_geq(l, 0);
	cr_assert_eq(xm_bind(l, (struct sockaddr *)&ss, env_addr(family, 'a', port, &ss)), 0);
	cr_assert_eq(xm_listen(l, 8), 0);
	fb_init(&s, family == AF_INET ? FB_L3_IPV4 : FB_L3_IPV6, IPPROTO_TCP);
	s.dport = port;
	s.tcp.seq = 1000;
	s.tcp.flags = 0x02;
	s.tcp.window = 65535;
	s.payload_len = 0;
	len = fb_build(&s, frame, sizeof(frame), &lay);
	cr_assert_gt(len, 0);
	put16(frame + lay.l4_off + 16,
	      partial_of(&lay, family, IPPROTO_TCP, (uint32_t)(lay.ip_end - lay.l4_off)));
	env_inject(&e, frame, (uint32_t)len);
	n = env_collect(&e, out, lens, 16);
	for (i = 0; i < n; i++) {
		const uint8_t *ip = out[i] + 14;
		uint32_t l4 = family == AF_INET ? (uint32_t)(ip[0] & 0xf) * 4 : 40;

		if (lens[i] > 14 + l4 + 13 && (ip[l4 + 13] & 0x12) == 0x12)
			synacks++;
	}
	return synacks;
}

Test(csum_partial, tcp_syn_in_partial_form_answered_on_veth, .fini = teardown)
{
	open_kind("veth");
	cr_assert_eq(syn_partial_answered(AF_INET, PORT), 1, "no SYN-ACK (IPv4)");
	cr_assert_eq(syn_partial_answered(AF_INET6, PORT + 1), 1, "no SYN-ACK (IPv6)");
	cr_assert_eq(stats().rx_csum_partial, 2);
	cr_assert_eq(stats().tcp_bad_csum, 0);
}

Test(csum_partial, tcp_syn_in_partial_form_bad_elsewhere, .fini = teardown)
{
	open_kind(NULL);
	cr_assert_eq(syn_partial_answered(AF_INET, PORT), 0, "a SYN-ACK to a bad checksum");
	cr_assert_eq(stats().tcp_bad_csum, 1);
	cr_assert_eq(stats().rx_csum_partial, 0);
}
