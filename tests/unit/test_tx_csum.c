// SPDX-License-Identifier: MIT
/*
 * Transport checksums summed by IP output while it copies a segment into
 * its frame (xm_ipinfo.l4_csum_off): what leaves the stack carries the
 * RFC 1071 sum of its own bytes, checked here from the frames a raw peer
 * collects with the test library's independent checksum, for a datagram
 * in one frame, one cut into fragments (the sum, taken before cutting,
 * in the first), a TCP SYN, the UDP sum that comes out zero (sent as
 * all ones, RFC 768), and one that waited for its neighbour.
 */
#include <criterion/criterion.h>
#include <netinet/in.h>
#include <string.h>

#include "../../user/lib/net/net.h"
#include "lib/frame.h"
#include "lib/sim_env.h"

#define PORT 7000

static struct sim_env e;
static uint8_t got[8][2048];
static uint32_t lens[8];

static void setup(void)
{
	struct sim_env_opts o = { .raw_peer = true };

	env_open(&e, 23, &o);
}

static void teardown(void)
{
	env_close(&e);
}

/* Send len bytes of pay from a UDP socket of a bound to sport (0: an
 * ephemeral port) to b; collect the frames; returns how many. */
static int udp_send_collect(int family, uint16_t sport, const uint8_t *pay, size_t len)
{
	struct sockaddr_storage to;
	socklen_t tl = env_addr(family, 'b', PORT, &to);
	int fd = env_udp(e.a, family, sport);

	cr_assert_eq(xm_sendto(fd, pay, len, 0, (struct sockaddr *)&to, tl), (ssize_t)len);
	xm_close(fd);
	return env_collect(&e, got, lens, 8);
}

/* The RFC 1071 sum over the pseudo-header and l4 (len bytes) of a frame
 * whose IP header starts at ip: 0 when the checksum in it is right. */
static uint16_t l4_verify(int family, const uint8_t *ip, uint8_t proto,
			  const uint8_t *l4, uint32_t len)
{
	uint8_t tail[4] = { 0, proto, (uint8_t)(len >> 8), (uint8_t)len };
	uint32_t s = family == AF_INET ? fb_csum_add(0, ip + 12, 8)
				       : fb_csum_add(0, ip + 8, 32);

	s = fb_csum_add(s, tail, 4);
	return fb_csum_fold(fb_csum_add(s, l4, len));
}

static uint16_t frame_udp_field(int family, int i)
{
	const uint8_t *l4 = got[i] + XM_ETH_HLEN + (family == AF_INET ? 20 : 40);

	return (uint16_t)(l4[6] << 8 | l4[7]);
}

TestSuite(tx_csum, .init = setup, .fini = teardown);

Test(tx_csum, udp_in_one_frame_carries_its_sum)
{
	static const int fam[2] = { AF_INET, AF_INET6 };
	uint8_t pay[1001];

	for (size_t i = 0; i < sizeof(pay); i++)
		pay[i] = (uint8_t)(i * 2654435761u >> 9);
	for (int k = 0; k < 2; k++) {
		uint32_t iph = fam[k] == AF_INET ? 20 : 40;
		const uint8_t *ip = got[0] + XM_ETH_HLEN;

		cr_assert_eq(udp_send_collect(fam[k], 0, pay, sizeof(pay)), 1);
		cr_assert_eq(lens[0], XM_ETH_HLEN + iph + 8 + sizeof(pay));
		cr_assert_neq(frame_udp_field(fam[k], 0), 0, "family %d: no sum", fam[k]);
		cr_assert_eq(l4_verify(fam[k], ip, IPPROTO_UDP, ip + iph, 8 + sizeof(pay)), 0,
			     "family %d", fam[k]);
		cr_assert_eq(memcmp(ip + iph + 8, pay, sizeof(pay)), 0);
	}
}

Test(tx_csum, udp_fragments_carry_the_whole_datagrams_sum_in_the_first)
{
	static uint8_t pay[3000], l4[8 + sizeof(pay)];
	uint32_t have = 0;
	int n;

	for (size_t i = 0; i < sizeof(pay); i++)
		pay[i] = (uint8_t)(i * 40503u >> 3);
	n = udp_send_collect(AF_INET, 0, pay, sizeof(pay));
	cr_assert_eq(n, 3);
	for (int i = 0; i < n; i++) {
		const uint8_t *ip = got[i] + XM_ETH_HLEN;
		uint32_t off = (uint32_t)((ip[6] & 0x1f) << 8 | ip[7]) * 8;
		uint32_t part = (uint32_t)(ip[2] << 8 | ip[3]) - 20;

		cr_assert_leq(off + part, sizeof(l4));
		memcpy(l4 + off, ip + 20, part);
		have += part;
	}
	cr_assert_eq(have, sizeof(l4));
	cr_assert_eq(l4_verify(AF_INET, got[0] + XM_ETH_HLEN, IPPROTO_UDP, l4, sizeof(l4)), 0);
	cr_assert_eq(memcmp(l4 + 8, pay, sizeof(pay)), 0);
}

/* A datagram whose last word is the checksum it has with that word zero
 * sums to 0xffff: its checksum computes as 0, which UDP cannot send. */
Test(tx_csum, udp_sum_of_zero_goes_as_all_ones)
{
	uint8_t pay[64] = { 1, 2, 3, 4, 5 };
	uint16_t c;

	/* The same port both times: it is in the sum. */
	cr_assert_eq(udp_send_collect(AF_INET6, 40000, pay, sizeof(pay)), 1);
	c = frame_udp_field(AF_INET6, 0);
	pay[62] = (uint8_t)(c >> 8);
	pay[63] = (uint8_t)c;
	cr_assert_eq(udp_send_collect(AF_INET6, 40000, pay, sizeof(pay)), 1);
	cr_assert_eq(frame_udp_field(AF_INET6, 0), 0xffff);
	cr_assert_eq(l4_verify(AF_INET6, got[0] + XM_ETH_HLEN, IPPROTO_UDP,
			       got[0] + XM_ETH_HLEN + 40, 8 + sizeof(pay)), 0);
}

Test(tx_csum, tcp_syn_carries_its_sum)
{
	struct sockaddr_storage to;
	socklen_t tl = env_addr(AF_INET, 'b', PORT, &to);
	int fd = xm_socket_on(e.a, AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0);
	const uint8_t *ip = got[0] + XM_ETH_HLEN, *l4 = ip + 20;

	cr_assert_geq(fd, 0);
	cr_assert_eq(xm_connect(fd, (struct sockaddr *)&to, tl), -1);
	cr_assert_eq(env_collect(&e, got, lens, 8), 1);
	cr_assert_eq(l4[13] & 0x02, 0x02, "not a SYN");
	cr_assert_neq(l4[16] << 8 | l4[17], 0);
	cr_assert_eq(l4_verify(AF_INET, ip, IPPROTO_TCP, l4, lens[0] - XM_ETH_HLEN - 20), 0);
	xm_close(fd);
}

/* A datagram that waits for its neighbour is stored with the field still
 * zero and summed when it finally goes. */
Test(tx_csum, udp_held_for_its_neighbour_is_summed_when_it_goes)
{
	uint8_t pay[300];
	const uint8_t *ip = got[0] + XM_ETH_HLEN;

	for (size_t i = 0; i < sizeof(pay); i++)
		pay[i] = (uint8_t)(i * 131u + 7);
	xm_link_sim_set_neigh_ready(e.la, xm_sim_now(e.sim) + 5000000);
	cr_assert_eq(udp_send_collect(AF_INET, 0, pay, sizeof(pay)), 0);
	env_advance(&e, 200000000);
	cr_assert_eq(env_collect(&e, got, lens, 8), 1);
	cr_assert_eq(l4_verify(AF_INET, ip, IPPROTO_UDP, ip + 20, 8 + sizeof(pay)), 0);
	cr_assert_neq(frame_udp_field(AF_INET, 0), 0);
}
