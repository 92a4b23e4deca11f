// SPDX-License-Identifier: MIT
/*
 * Differential test: the runtime's classifier (user/lib/net/classify.c, the
 * stack's own parser) and the XDP program through BPF_PROG_TEST_RUN must
 * agree on every frame: verdict, counters, binding, recorded fragment.
 * Frames: every VLAN stack x IPv6 extension chain x transport x fragment,
 * whole and cut; random well-formed and mutated frames (truncations, bogus
 * IP / UDP / TCP / extension lengths, versions, flipped header bytes,
 * fragments); and random bytes behind random EtherTypes. The first
 * disagreement fails the test and prints the frame as hex.
 *
 * XM_SEED=<seed> replays a run; XM_RAND_FRAMES=<n> sets the random count.
 */
#include <stdlib.h>

#include "lib/xdp_test.h"
#include "lib/frame_rand.h"
#include "lib/xdp_diff.h"

static struct xh *h;
static uint64_t seed;

static void setup(void)
{
	h = xt_open();
	xt_bind_standard(h);
	seed = fr_seed_pick("XM_SEED");
}

static void teardown(void)
{
	xh_close(h);
}

TestSuite(classify, .init = setup, .fini = teardown);

static unsigned frames_to_send(unsigned dflt)
{
	const char *v = getenv("XM_RAND_FRAMES");

	return v && *v ? (unsigned)strtoul(v, NULL, 0) : dflt;
}

static void agree(const uint8_t *buf, size_t len, const char *label, const char *desc)
{
	static char why[XD_WHY_MAX];
	int r = xd_check(h, buf, len, why, sizeof(why));

	cr_assert(r == 0, "seed %llu (XM_SEED replays) %s [%s]: %s", (unsigned long long)seed,
		  label, desc, r == -EDOM ? why : strerror(-r));
}

Test(classify, every_vlan_stack_and_ipv6_chain_agrees, .timeout = 300)
{
	static uint8_t buf[FB_FRAME_MAX];
	unsigned v, c, t, fr, l3, runs = 0;
	struct fr_frame f;
	struct fr_rng r;
	char label[80];

	fr_seed(&r, seed);
	for (v = 0; v < fr_vlan_combo_count(3); v++)
		for (l3 = 0; l3 < 3; l3++)
			for (c = 0; c < (l3 == 2 ? fr_ext_chain_count(3) : 1); c++)
				for (t = 0; t < 2; t++)
					for (fr = 0; fr < 3; fr++) {
						struct fb_spec *s = &f.spec;
						ssize_t len;

						fb_init(s, l3 == 2 ? FB_L3_IPV6 : FB_L3_IPV4,
							t ? IPPROTO_TCP : IPPROTO_UDP);
						fr_vlan_combo(s, v);
						if (l3 == 1)
							s->ip4.opt_len = 8;
						if (l3 == 2 && !fr_ext_chain(s, c))
							continue;
						s->dport = (uint16_t)(runs % 3 ? PORT_BOUND : PORT_ADDR_WILD);
						s->payload_len = 40;
						s->frag.id = runs % 16;
						if (fr) {
							s->frag.size = 16;
							s->frag.index = (uint16_t)(fr - 1);
						}
						len = fb_build(s, buf, sizeof(buf), &f.lay);
						cr_assert_gt(len, 0, "build: %s", strerror((int)-len));
						f.len = (size_t)len;
						fr_mutate(&r, FR_MUT_NONE, buf, &f);
						fr_describe(&f, f.desc, sizeof(f.desc));
						snprintf(label, sizeof(label), "combo %u/%u/%u/%u/%u", v, l3, c, t, fr);
						agree(buf, f.len, label, f.desc);
						fr_mutate(&r, FR_MUT_TRUNCATE, buf, &f);
						fr_describe(&f, f.desc, sizeof(f.desc));
						agree(buf, f.len, label, f.desc);
						runs++;
					}
	cr_assert_eq(runs, 15 * (2 + 74) * 2 * 3);
}

static void random_frames(unsigned mut_mask, unsigned dflt, const char *what)
{
	static uint8_t buf[FB_FRAME_MAX];
	unsigned n = frames_to_send(dflt), i;
	struct fr_params p;
	struct fr_frame f;
	struct fr_rng r;
	char label[64];

	cr_log_info("%s: seed %llu, %u frames", what, (unsigned long long)seed, n);
	fr_seed(&r, seed);
	fr_params_default(&p);
	for (i = 0; i < n; i++) {
		ssize_t len = fr_frame(&r, &p, mut_mask, buf, sizeof(buf), &f);

		cr_assert_gt(len, 0, "seed %llu frame %u: build: %s", (unsigned long long)seed, i,
			     strerror((int)-len));
		snprintf(label, sizeof(label), "%s frame %u", what, i);
		agree(buf, f.len, label, f.desc);
	}
}

Test(classify, random_and_mutated_frames_agree, .timeout = 300)
{
	random_frames(FR_MUT_KNOWN, 20000, "mutated");
}

Test(classify, frames_with_flipped_header_bytes_agree, .timeout = 300)
{
	random_frames(FR_MUT_BIT(FR_MUT_FLIP), 20000, "flipped");
}

/* Random bytes after an Ethernet header with a chosen EtherType (IPv4,
 * IPv6, tags) and, half the time, a plausible first IP byte. */
Test(classify, random_bytes_agree, .timeout = 300)
{
	static const uint16_t types[] = { 0x0800, 0x86dd, 0x8100, 0x88a8, 0x0806 };
	static uint8_t buf[1600];
	unsigned n = frames_to_send(20000), i, j;
	struct fr_rng r;
	char label[64];

	fr_seed(&r, seed);
	for (i = 0; i < n; i++) {
		size_t len = 14 + fr_below(&r, 200), off = 14;
		uint16_t type = types[fr_below(&r, 5)];

		for (j = 0; j < len; j++)
			buf[j] = (uint8_t)fr_u64(&r);
		buf[12] = (uint8_t)(type >> 8);
		buf[13] = (uint8_t)type;
		while ((type == 0x8100 || type == 0x88a8) && off + 4 <= len && fr_chance(&r, 70)) {
			type = types[fr_below(&r, 4)];
			buf[off + 2] = (uint8_t)(type >> 8);
			buf[off + 3] = (uint8_t)type;
			off += 4;
		}
		if (off < len && fr_chance(&r, 50))
			buf[off] = type == 0x86dd ? 0x60 : 0x45;
		snprintf(label, sizeof(label), "random frame %u", i);
		agree(buf, len, label, "random bytes");
	}
}
