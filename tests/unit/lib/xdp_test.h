/* SPDX-License-Identifier: MIT */
/*
 * Shared pieces of the XDP program tests (tests/unit/test_xdp_*.c): the
 * standard set of bindings and Criterion helpers that build a frame and
 * check what the program did with it. Header-only so that the harness and
 * the frame builder stay free of Criterion.
 */
#ifndef XM_TEST_XDP_TEST_H
#define XM_TEST_XDP_TEST_H

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <netinet/in.h>
#include <linux/bpf.h>
#include <criterion/criterion.h>

#include "frame.h"
#include "xdp_harness.h"

/* Ports of the standard bindings (see xt_bind_standard). */
#define PORT_BOUND      7000   /* udp and tcp, wildcard, fallback pass */
#define PORT_DROP       7001   /* udp and tcp, wildcard, fallback drop */
#define PORT_ADDR_WILD  7100   /* udp: 198.18.0.2, 2001:db8::2 and wildcard */
#define PORT_ADDR_ONLY4 7200   /* udp: 198.18.0.2 only */
#define PORT_ADDR_ONLY6 7300   /* tcp: 2001:db8::2 only */
#define PORT_UNBOUND    9000

/* The default destinations of fb_init, and other addresses of the host. */
static const uint8_t XT_A4[4] = { 198, 18, 0, 2 };
static const uint8_t XT_A4_OTHER[4] = { 198, 18, 0, 3 };
static const uint8_t XT_A6[16] = { 0x20, 0x01, 0x0d, 0xb8, [15] = 2 };
static const uint8_t XT_A6_OTHER[16] = { 0x20, 0x01, 0x0d, 0xb8, [15] = 3 };

struct xt_bindings {
	int udp, tcp;            /* PORT_BOUND */
	int udp_drop, tcp_drop;  /* PORT_DROP */
	int wild_v4, wild_v6, wild_any;   /* PORT_ADDR_WILD */
	int only_v4;             /* PORT_ADDR_ONLY4 */
	int only_v6;             /* PORT_ADDR_ONLY6 */
};

static inline struct xh *xt_open(void)
{
	struct xh *h = NULL;
	int err = xh_open(&h);

	cr_assert(err == 0, "load the xdpmux program: %s (run as root?)", strerror(-err));
	return h;
}

static inline int xt_bind1(struct xh *h, uint8_t proto, uint8_t family,
			   const void *addr, uint16_t port, enum xm_fallback fb)
{
	int idx = xh_bind(h, proto, family, addr, port, fb);

	cr_assert(idx >= 0, "bind %u/%u: %s", proto, port, strerror(-idx));
	return idx;
}

static inline struct xt_bindings xt_bind_standard(struct xh *h)
{
	struct xt_bindings b;

	b.udp = xt_bind1(h, IPPROTO_UDP, XM_FAMILY_ANY, NULL, PORT_BOUND, XM_FALLBACK_PASS);
	b.tcp = xt_bind1(h, IPPROTO_TCP, XM_FAMILY_ANY, NULL, PORT_BOUND, XM_FALLBACK_PASS);
	b.udp_drop = xt_bind1(h, IPPROTO_UDP, XM_FAMILY_ANY, NULL, PORT_DROP, XM_FALLBACK_DROP);
	b.tcp_drop = xt_bind1(h, IPPROTO_TCP, XM_FAMILY_ANY, NULL, PORT_DROP, XM_FALLBACK_DROP);
	b.wild_v4 = xt_bind1(h, IPPROTO_UDP, XM_FAMILY_INET, XT_A4, PORT_ADDR_WILD,
			     XM_FALLBACK_PASS);
	b.wild_v6 = xt_bind1(h, IPPROTO_UDP, XM_FAMILY_INET6, XT_A6, PORT_ADDR_WILD,
			     XM_FALLBACK_PASS);
	b.wild_any = xt_bind1(h, IPPROTO_UDP, XM_FAMILY_ANY, NULL, PORT_ADDR_WILD,
			      XM_FALLBACK_PASS);
	b.only_v4 = xt_bind1(h, IPPROTO_UDP, XM_FAMILY_INET, XT_A4, PORT_ADDR_ONLY4,
			     XM_FALLBACK_DROP);
	b.only_v6 = xt_bind1(h, IPPROTO_TCP, XM_FAMILY_INET6, XT_A6, PORT_ADDR_ONLY6,
			     XM_FALLBACK_DROP);
	return b;
}

/* Expectations by outcome. */
static inline struct xh_expect xt_unbound(void)
{
	return (struct xh_expect){ XDP_PASS, XH_S(PASS), XH_NONE, 0 };
}

static inline struct xh_expect xt_malformed(void)
{
	return (struct xh_expect){ XDP_PASS, XH_S(MALFORMED), XH_NONE, 0 };
}

static inline struct xh_expect xt_ext_limit(void)
{
	return (struct xh_expect){ XDP_PASS, XH_S(EXT_LIMIT) | XH_S(PASS), XH_NONE, 0 };
}

/* Bound, no socket in the test run: the binding's fallback. */
static inline struct xh_expect xt_fallback_pass(int binding)
{
	return (struct xh_expect){ XDP_PASS, XH_S(FALLBACK) | XH_S(PASS), binding, 0 };
}

static inline struct xh_expect xt_fallback_drop(int binding)
{
	return (struct xh_expect){ XDP_DROP, XH_S(FALLBACK) | XH_S(DROP), binding, 0 };
}

/* Build a frame (into buf of FB_FRAME_MAX bytes) or fail the test. */
static inline size_t xt_build(const char *name, const struct fb_spec *s, uint8_t *buf,
			      struct fb_layout *lay)
{
	ssize_t n = fb_build(s, buf, FB_FRAME_MAX, lay);

	cr_assert(n > 0, "%s: build the frame: %s", name, strerror((int)-n));
	return (size_t)n;
}

/* Run the frame and expect e; the row's name is in every failure. */
#define xt_expect(h, name, frame, len, e)                                         \
	do {                                                                      \
		struct xh_expect e_ = (e);                                        \
		char why_[768];                                                   \
		int r_ = xh_check((h), (frame), (len), &e_, why_, sizeof(why_));  \
		cr_expect(r_ == 0, "%s (len %zu): %s", (name), (size_t)(len),     \
			  r_ == -EDOM ? why_ : strerror(-r_));                    \
	} while (0)

/* Build from a spec, run, expect. */
static inline void xt_row(struct xh *h, const char *name, const struct fb_spec *s,
			  struct xh_expect e)
{
	static uint8_t buf[FB_FRAME_MAX];
	size_t len = xt_build(name, s, buf, NULL);

	xt_expect(h, name, buf, len, e);
}

/* Link-layer encapsulations. Three tags is one more than the program walks
 * (XM_VLAN_MAX): such a frame is not ours and goes to the kernel. */
enum xt_encap { XT_PLAIN, XT_DOT1Q, XT_DOT1AD, XT_QINQ, XT_THREE_TAGS, XT_ENCAP_N };

static inline const char *xt_encap_name(enum xt_encap e)
{
	static const char *const names[XT_ENCAP_N] = {
		"plain", "dot1q", "dot1ad", "qinq", "three_tags",
	};

	return names[e];
}

static inline void xt_encap_apply(struct fb_spec *s, enum xt_encap e)
{
	switch (e) {
	case XT_PLAIN:
		break;
	case XT_DOT1Q:
		fb_vlan_push(s, FB_TPID_8021Q, 100);
		break;
	case XT_DOT1AD:
		fb_vlan_push(s, FB_TPID_8021AD, 200);
		break;
	case XT_QINQ:
		fb_vlan_push(s, FB_TPID_8021AD, 200);
		fb_vlan_push(s, FB_TPID_8021Q, 100);
		break;
	case XT_THREE_TAGS:
		fb_vlan_push(s, FB_TPID_8021AD, 300);
		fb_vlan_push(s, FB_TPID_8021AD, 200);
		fb_vlan_push(s, FB_TPID_8021Q, 100);
		break;
	default:
		break;
	}
}

/* Network-layer shapes. */
enum xt_l3 { XT_IPV4, XT_IPV4_OPTS, XT_IPV6, XT_IPV6_EXT, XT_L3_N };

static inline const char *xt_l3_name(enum xt_l3 l)
{
	static const char *const names[XT_L3_N] = {
		"ipv4", "ipv4_options", "ipv6", "ipv6_hop_dst_rt_dst",
	};

	return names[l];
}

static inline void xt_spec(struct fb_spec *s, enum xt_encap e, enum xt_l3 l3, uint8_t l4,
			   uint16_t dport)
{
	fb_init(s, l3 == XT_IPV4 || l3 == XT_IPV4_OPTS ? FB_L3_IPV4 : FB_L3_IPV6, l4);
	xt_encap_apply(s, e);
	s->dport = dport;
	if (l3 == XT_IPV4_OPTS)
		s->ip4.opt_len = FB_IP4_OPT_MAX;
	if (l3 == XT_IPV6_EXT) {
		/* The order RFC 8200 4.1 recommends. */
		fb_ext_push(s, FB_EXT_HOPOPTS, 8);
		fb_ext_push(s, FB_EXT_DSTOPTS, 16);
		fb_ext_push(s, FB_EXT_ROUTING, 24);
		fb_ext_push(s, FB_EXT_DSTOPTS, 8);
	}
}

#endif /* XM_TEST_XDP_TEST_H */
