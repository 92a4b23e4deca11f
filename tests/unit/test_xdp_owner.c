// SPDX-License-Identifier: MIT
/*
 * Owner slots in the XDP demultiplexer (issue 14), through
 * BPF_PROG_TEST_RUN: a binding of owner slot N is redirected through xsks
 * key XM_XSK_KEY(N, queue) and no other; when N has no socket on the queue
 * it takes its fallback, whoever else has one there. A test run carries no
 * redirect out, so the verdict says whether the program found a socket at
 * the key it chose; with one socket placed at one owner's key only, that
 * tells the owner's key from every other. Each row also goes through the
 * runtime's classifier (xd_check), which must agree.
 *
 * Needs root. Each test runs in its own process (Criterion forks) and
 * unshares its network namespace: the AF_XDP socket is bound to that
 * namespace's loopback, queue 0, the queue a test run's frame arrives on.
 */
#define _GNU_SOURCE
#include <sched.h>
#include <stdlib.h>
#include <xdpmux/control.h>

#include "lib/xdp_diff.h"
#include "lib/xdp_test.h"
#include "../../user/lib/link/umem.h"

#define PORT_A    7400   /* udp and tcp wildcard, owner A, fallback pass */
#define PORT_B    7401   /* udp wildcard, owner B, fallback pass */
#define PORT_B_DROP 7402 /* udp wildcard, owner B, fallback drop */
#define PORT_MIX  7500   /* udp: 198.18.0.2 and 2001:db8::2 owner A, wildcard owner B */
#define OWNER_A   5
#define OWNER_B   6

static struct xh *h;
static struct xm_umem *xsk;
static struct {
	int a_udp, a_tcp, b_udp, b_drop, mix_v4, mix_v6, mix_any;
} ob;

static int bind_as(uint8_t proto, uint8_t family, const void *addr, uint16_t port,
		   enum xm_fallback fb, uint32_t owner)
{
	int idx = xh_bind_as(h, proto, family, addr, port, fb, owner);

	cr_assert(idx >= 0, "bind %u/%u as owner %u: %s", proto, port, owner, strerror(-idx));
	return idx;
}

static void setup(void)
{
	struct xm_umem_cfg cfg = { .dev = "lo", .queue_id = 0, .frames = 64,
				   .frame_size = 2048 };
	int err;

	cr_assert_eq(unshare(CLONE_NEWNET), 0, "unshare: %s", strerror(errno));
	cr_assert_eq(system("ip link set lo up"), 0);
	err = xm_umem_open(&cfg, &xsk);
	cr_assert_eq(err, 0, "AF_XDP socket on lo queue 0: %s", strerror(-err));
	h = xt_open();
	ob.a_udp = bind_as(IPPROTO_UDP, XM_FAMILY_ANY, NULL, PORT_A, XM_FALLBACK_PASS, OWNER_A);
	ob.a_tcp = bind_as(IPPROTO_TCP, XM_FAMILY_ANY, NULL, PORT_A, XM_FALLBACK_PASS, OWNER_A);
	ob.b_udp = bind_as(IPPROTO_UDP, XM_FAMILY_ANY, NULL, PORT_B, XM_FALLBACK_PASS, OWNER_B);
	ob.b_drop = bind_as(IPPROTO_UDP, XM_FAMILY_ANY, NULL, PORT_B_DROP, XM_FALLBACK_DROP,
			    OWNER_B);
	ob.mix_v4 = bind_as(IPPROTO_UDP, XM_FAMILY_INET, XT_A4, PORT_MIX, XM_FALLBACK_PASS,
			    OWNER_A);
	ob.mix_v6 = bind_as(IPPROTO_UDP, XM_FAMILY_INET6, XT_A6, PORT_MIX, XM_FALLBACK_PASS,
			    OWNER_A);
	ob.mix_any = bind_as(IPPROTO_UDP, XM_FAMILY_ANY, NULL, PORT_MIX, XM_FALLBACK_PASS,
			     OWNER_B);
}

static void teardown(void)
{
	xh_close(h);
	xm_umem_close(xsk);
}

TestSuite(xdp_owner, .init = setup, .fini = teardown);

static void xsk_at(uint32_t owner, uint32_t queue, bool present)
{
	int err = xh_set_xsk(h, owner, queue, present ? xm_umem_fd(xsk) : -1);

	cr_assert_eq(err, 0, "%s the socket at owner %u queue %u: %s",
		     present ? "place" : "remove", owner, queue, strerror(-err));
}

static struct xh_expect redirect(int binding)
{
	return (struct xh_expect){ XDP_REDIRECT, XH_S(REDIRECT), binding, 0 };
}

/* The program does e with the frame, and the classifier agrees. */
static void row(const char *name, const struct fb_spec *s, struct xh_expect e)
{
	static uint8_t buf[FB_FRAME_MAX];
	static char why[XD_WHY_MAX];
	size_t len = xt_build(name, s, buf, NULL);
	int r;

	xt_expect(h, name, buf, len, e);
	r = xd_check(h, buf, len, why, sizeof(why));
	cr_expect_eq(r, 0, "%s: classifier: %s", name, r == -EDOM ? why : strerror(-r));
}

static void spec(struct fb_spec *s, enum fb_l3 l3, uint8_t l4, uint16_t dport)
{
	fb_init(s, l3, l4);
	s->dport = dport;
}

Test(xdp_owner, binding_goes_to_its_owners_key_never_another_owners_socket)
{
	struct fb_spec s;

	xsk_at(OWNER_A, 0, true);
	spec(&s, FB_L3_IPV4, IPPROTO_UDP, PORT_A);
	row("ipv4_udp_owner_a_redirected_to_owner_a_socket", &s, redirect(ob.a_udp));
	spec(&s, FB_L3_IPV6, IPPROTO_TCP, PORT_A);
	row("ipv6_tcp_owner_a_redirected_to_owner_a_socket", &s, redirect(ob.a_tcp));
	spec(&s, FB_L3_IPV4, IPPROTO_UDP, PORT_B);
	row("ipv4_udp_owner_b_not_sent_to_owner_a_socket", &s, xt_fallback_pass(ob.b_udp));

	/* The socket moves to B's key: now B's port is redirected, A's not. */
	xsk_at(OWNER_A, 0, false);
	xsk_at(OWNER_B, 0, true);
	spec(&s, FB_L3_IPV4, IPPROTO_UDP, PORT_B);
	row("ipv4_udp_owner_b_redirected_to_owner_b_socket", &s, redirect(ob.b_udp));
	spec(&s, FB_L3_IPV4, IPPROTO_UDP, PORT_A);
	row("ipv4_udp_owner_a_not_sent_to_owner_b_socket", &s, xt_fallback_pass(ob.a_udp));
}

/* Slot 0's key is the queue id: the standalone owner and CLI bindings. */
Test(xdp_owner, slot_zero_key_is_the_queue_id)
{
	struct fb_spec s;
	int b0 = bind_as(IPPROTO_UDP, XM_FAMILY_ANY, NULL, PORT_BOUND, XM_FALLBACK_PASS, 0);

	cr_assert_eq(XM_XSK_KEY(0, 7), 7);
	cr_assert_eq(XM_XSK_KEY(OWNER_A, 3), OWNER_A * XM_MAX_QUEUES + 3);
	spec(&s, FB_L3_IPV4, IPPROTO_UDP, PORT_BOUND);
	row("ipv4_udp_slot0_no_socket_falls_back", &s, xt_fallback_pass(b0));
	xsk_at(0, 0, true);
	row("ipv4_udp_slot0_redirected_to_socket_at_queue_id", &s, redirect(b0));
	spec(&s, FB_L3_IPV4, IPPROTO_UDP, PORT_A);
	row("ipv4_udp_owner_a_not_sent_to_slot0_socket", &s, xt_fallback_pass(ob.a_udp));
}

/* Another owner's socket on the queue, or the owner's own socket on
 * another queue: neither is the owner's socket on this queue. */
Test(xdp_owner, no_socket_of_owner_on_queue_takes_fallback)
{
	struct fb_spec s;

	xsk_at(OWNER_A, 0, true);
	xsk_at(OWNER_B, 1, true);
	spec(&s, FB_L3_IPV4, IPPROTO_UDP, PORT_B);
	row("ipv4_udp_owner_b_socket_on_other_queue_fallback_pass", &s,
	    xt_fallback_pass(ob.b_udp));
	spec(&s, FB_L3_IPV6, IPPROTO_UDP, PORT_B_DROP);
	row("ipv6_udp_owner_b_socket_on_other_queue_fallback_drop", &s,
	    xt_fallback_drop(ob.b_drop));
	spec(&s, FB_L3_IPV4, IPPROTO_UDP, PORT_B_DROP);
	row("ipv4_udp_owner_b_other_owner_on_queue_fallback_drop", &s,
	    xt_fallback_drop(ob.b_drop));
	spec(&s, FB_L3_IPV4, IPPROTO_UDP, PORT_A);
	row("ipv4_udp_owner_a_socket_on_queue_redirected", &s, redirect(ob.a_udp));
}

/* PORT_MIX: the address bindings are A's, the wildcard B's. A frame to the
 * bound address goes to A, one to any other address to B. */
Test(xdp_owner, wildcard_and_address_bindings_of_different_owners_on_one_port)
{
	struct fb_spec s;

	xsk_at(OWNER_A, 0, true);
	spec(&s, FB_L3_IPV4, IPPROTO_UDP, PORT_MIX);
	row("ipv4_bound_address_to_owner_a", &s, redirect(ob.mix_v4));
	spec(&s, FB_L3_IPV6, IPPROTO_UDP, PORT_MIX);
	row("ipv6_bound_address_to_owner_a", &s, redirect(ob.mix_v6));
	memcpy(s.ip6.dst, XT_A6_OTHER, 16);
	row("ipv6_other_address_wildcard_owner_b_no_socket", &s, xt_fallback_pass(ob.mix_any));
	spec(&s, FB_L3_IPV4, IPPROTO_UDP, PORT_MIX);
	memcpy(s.ip4.dst, XT_A4_OTHER, 4);
	row("ipv4_other_address_wildcard_owner_b_no_socket", &s, xt_fallback_pass(ob.mix_any));

	xsk_at(OWNER_A, 0, false);
	xsk_at(OWNER_B, 0, true);
	row("ipv4_other_address_to_owner_b", &s, redirect(ob.mix_any));
	spec(&s, FB_L3_IPV4, IPPROTO_UDP, PORT_MIX);
	row("ipv4_bound_address_owner_a_no_socket", &s, xt_fallback_pass(ob.mix_v4));
}

/* Every fragment of a datagram as its first fragment: redirected when its
 * binding's owner has the socket, falling back when not. */
static void fragments(const char *what, enum fb_l3 l3, uint16_t dport, const uint8_t *dst,
		      uint32_t id, struct xh_expect first)
{
	struct xh_expect later = first;
	struct fb_spec s;
	char name[160];
	int n, i;

	later.stats |= XH_S(FRAG_FOLLOW);
	spec(&s, l3, IPPROTO_UDP, dport);
	if (dst && l3 == FB_L3_IPV4)
		memcpy(s.ip4.dst, dst, 4);
	else if (dst)
		memcpy(s.ip6.dst, dst, 16);
	s.payload_len = 3000;
	s.frag.size = 1232;
	s.frag.id = id;
	n = fb_frag_count(&s);
	cr_assert_gt(n, 2, "%s: %d fragments", what, n);
	for (i = 0; i < n; i++) {
		s.frag.index = (uint16_t)i;
		snprintf(name, sizeof(name), "%s_fragment_%d_of_%d", what, i + 1, n);
		row(name, &s, i ? later : first);
	}
}

Test(xdp_owner, later_fragment_follows_first_fragments_owner)
{
	xsk_at(OWNER_A, 0, true);
	fragments("ipv4_wildcard_owner_a_redirected", FB_L3_IPV4, PORT_A, NULL, 11,
		  redirect(ob.a_udp));
	fragments("ipv6_wildcard_owner_a_redirected", FB_L3_IPV6, PORT_A, NULL, 12,
		  redirect(ob.a_udp));
	fragments("ipv4_wildcard_owner_b_falls_back", FB_L3_IPV4, PORT_B, NULL, 13,
		  xt_fallback_pass(ob.b_udp));
	fragments("ipv6_wildcard_owner_b_drop_falls_back", FB_L3_IPV6, PORT_B_DROP, NULL, 14,
		  xt_fallback_drop(ob.b_drop));
	fragments("ipv4_address_owner_a_redirected", FB_L3_IPV4, PORT_MIX, NULL, 15,
		  redirect(ob.mix_v4));
	fragments("ipv6_address_owner_a_redirected", FB_L3_IPV6, PORT_MIX, NULL, 16,
		  redirect(ob.mix_v6));
	fragments("ipv4_other_address_wildcard_owner_b_falls_back", FB_L3_IPV4, PORT_MIX,
		  XT_A4_OTHER, 17, xt_fallback_pass(ob.mix_any));
	fragments("ipv6_other_address_wildcard_owner_b_falls_back", FB_L3_IPV6, PORT_MIX,
		  XT_A6_OTHER, 18, xt_fallback_pass(ob.mix_any));
}

/* The daemon's clean-up when a client goes: its bindings, and only its,
 * leave, and port_index with them (the port goes back to the kernel, or
 * to the other owner's wildcard). */
Test(xdp_owner, unbind_owner_slot_removes_only_that_slots_bindings)
{
	struct fb_spec s;
	size_t removed = 99;

	xsk_at(OWNER_B, 0, true);
	cr_assert_eq(xh_unbind_owner_slot(h, OWNER_A, &removed), 0);
	cr_expect_eq(removed, 4, "owner A had 4 bindings, %zu removed", removed);
	spec(&s, FB_L3_IPV4, IPPROTO_UDP, PORT_A);
	row("ipv4_udp_owner_a_gone_port_to_kernel", &s, xt_unbound());
	spec(&s, FB_L3_IPV4, IPPROTO_UDP, PORT_MIX);
	row("ipv4_owner_a_address_gone_wildcard_owner_b_takes_it", &s, redirect(ob.mix_any));
	spec(&s, FB_L3_IPV4, IPPROTO_UDP, PORT_B);
	row("ipv4_owner_b_kept", &s, redirect(ob.b_udp));
	cr_assert_eq(xh_unbind_owner_slot(h, OWNER_A, &removed), 0);
	cr_expect_eq(removed, 0);
	cr_expect_eq(xh_unbind_owner_slot(h, XM_MAX_OWNERS, &removed), -EINVAL);
	cr_expect_eq(xh_bind_as(h, IPPROTO_UDP, XM_FAMILY_ANY, NULL, PORT_A, XM_FALLBACK_PASS,
				XM_MAX_OWNERS), -EINVAL);
}
