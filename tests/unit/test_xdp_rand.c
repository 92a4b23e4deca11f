// SPDX-License-Identifier: MIT
/*
 * Differential tests of the XDP program: random and mutated frames
 * (lib/frame_rand.c) against a reference classifier written here from what
 * each frame is by construction (fr_truth) and the program's documented
 * limits. Each frame's verdict and counters must be what the reference
 * says; frames whose header bytes were flipped at random (nothing known
 * about them) must keep the counters' invariants.
 *
 * Every run prints its seed; XM_SEED=<seed> replays it exactly, and
 * XM_RAND_FRAMES=<n> sets how many frames each random test sends.
 */
#include <stdlib.h>
#include <xdpmux/control.h>

#include "lib/xdp_test.h"
#include "lib/frame_rand.h"

/* bpf/xdpmux.bpf.c XM_HDR_MAX: headers are read within this offset. */
#define REF_HDR_MAX 512
#define FRAGS_MODEL_MAX 1024

static struct xh *h;
static struct xt_bindings b;
static uint64_t seed;

/* What `frags` should hold: the binding each first fragment matched
 * (XH_NONE: seen, not bound). */
static struct frag_entry {
	uint8_t family, proto;
	uint32_t id;
	uint8_t saddr[16], daddr[16];
	int binding;
} frags_model[FRAGS_MODEL_MAX];
static unsigned frags_n;
/* Frames with flipped bytes record fragments under keys nobody knows: from
 * then on only unfragmented frames can be held to the reference. */
static bool frags_unknown;

static void setup(void)
{
	h = xt_open();
	b = xt_bind_standard(h);
	seed = fr_seed_pick("XM_SEED");
	frags_n = 0;
	frags_unknown = false;
}

static void teardown(void)
{
	xh_close(h);
}

TestSuite(xdp_rand, .init = setup, .fini = teardown);

static unsigned frames_to_send(unsigned dflt)
{
	const char *v = getenv("XM_RAND_FRAMES");

	return v && *v ? (unsigned)strtoul(v, NULL, 0) : dflt;
}

enum ref { REF_PASS, REF_MALFORMED, REF_EXT_LIMIT, REF_L4, REF_LATER };

static const char *ref_name(enum ref r)
{
	static const char *const n[] = { "pass", "malformed", "ext_limit", "l4", "later_frag" };

	return n[r];
}

/* The reference parse: the same rules as the program, read from the
 * frame's construction instead of its bytes. The program reads at most
 * XM_VLAN_MAX tags, XM_IPV6_EXT_MAX extension headers and headers within
 * REF_HDR_MAX bytes; lengths must fit the frame and each other. */
static enum ref reference(const struct fr_truth *t)
{
	size_t off = 14, end;
	unsigned i;

	for (i = 0; i < t->ntags && i < XM_VLAN_MAX; i++, off += 4)
		if (off + 4 > t->len)
			return REF_MALFORMED;
	if (t->ntags > XM_VLAN_MAX)
		return REF_PASS;
	if (t->ethertype == FB_ETH_P_IP) {
		if (off + 20 > t->len || t->ip_version != 4 || !t->ip_whole)
			return REF_MALFORMED;
		if (t->l4 != IPPROTO_UDP && t->l4 != IPPROTO_TCP)
			return REF_PASS;
		if (t->frag == FR_FRAG_LATER)
			return REF_LATER;
		off = t->l4_off;
	} else if (t->ethertype == FB_ETH_P_IPV6) {
		if (off + 40 > t->len || t->ip_version != 6 || !t->ip_whole)
			return REF_MALFORMED;
		off += 40;
		for (i = 0; i < XM_IPV6_EXT_MAX && i < t->next; i++) {
			if (off > REF_HDR_MAX)
				return REF_EXT_LIMIT;
			if (t->ext_type[i] == FB_EXT_FRAG) {
				if (off + 8 > t->len)
					return REF_MALFORMED;
				if (t->frag == FR_FRAG_LATER)
					return t->frag_proto == IPPROTO_UDP ||
					       t->frag_proto == IPPROTO_TCP ||
					       t->frag_proto == FB_EXT_DSTOPTS ||
					       t->frag_proto == FB_EXT_ROUTING ? REF_LATER : REF_PASS;
			} else if (off + 2 > t->len) {
				return REF_MALFORMED;
			}
			off += t->ext_len[i];
			if (off > t->ip_end)
				return REF_MALFORMED;
		}
		if (i < t->next)
			return REF_EXT_LIMIT;
	} else {
		return REF_PASS;
	}
	end = t->ip_end;
	if (off > REF_HDR_MAX)
		return REF_EXT_LIMIT;
	if (t->l4 == IPPROTO_UDP) {
		if (off + 8 > t->len || end - off < 8)
			return REF_MALFORMED;
		if (t->frag != FR_FRAG_FIRST && t->l4_len_bad)
			return REF_MALFORMED;
		return REF_L4;
	}
	if (t->l4 == IPPROTO_TCP) {
		if (off + 20 > t->len || end - off < 20)
			return REF_MALFORMED;
		if (t->l4_hdr_len < 20 || t->l4_hdr_len > end - off)
			return REF_MALFORMED;
		return REF_L4;
	}
	return REF_PASS;
}

static bool key_matches(const struct xm_binding_key *k, uint8_t proto, uint8_t family,
			uint16_t dport, const uint8_t *daddr)
{
	return k->proto == proto && k->port == htons(dport) && k->family == family &&
	       (family == XM_FAMILY_ANY || !memcmp(k->addr, daddr, 16));
}

/* The binding a packet matches: address-specific first, then wildcard. */
static int ref_binding(const struct fr_truth *t)
{
	uint8_t fam = t->ethertype == FB_ETH_P_IP ? XM_FAMILY_INET : XM_FAMILY_INET6;
	unsigned i, pass;

	for (pass = 0; pass < 2; pass++)
		for (i = 0; i < xh_nbindings(h); i++)
			if (key_matches(xh_binding_key(h, (int)i), t->l4, pass ? XM_FAMILY_ANY : fam,
					t->dport, t->daddr))
				return (int)i;
	return XH_NONE;
}

static bool binding_drops(int idx)
{
	return idx == b.udp_drop || idx == b.tcp_drop || idx == b.only_v4 || idx == b.only_v6;
}

static struct frag_entry *frags_find(const struct fr_truth *t)
{
	uint8_t fam = t->ethertype == FB_ETH_P_IP ? XM_FAMILY_INET : XM_FAMILY_INET6;
	unsigned i;

	for (i = 0; i < frags_n; i++) {
		struct frag_entry *e = &frags_model[i];

		if (e->family == fam && e->proto == t->frag_proto && e->id == t->frag_id &&
		    !memcmp(e->saddr, t->saddr, 16) && !memcmp(e->daddr, t->daddr, 16))
			return e;
	}
	return NULL;
}

static void frags_record(const struct fr_truth *t, int binding)
{
	struct frag_entry *e = frags_find(t);

	if (!e) {
		cr_assert_lt(frags_n, FRAGS_MODEL_MAX, "frags model full");
		e = &frags_model[frags_n++];
		e->family = t->ethertype == FB_ETH_P_IP ? XM_FAMILY_INET : XM_FAMILY_INET6;
		e->proto = t->frag_proto;
		e->id = t->frag_id;
		memcpy(e->saddr, t->saddr, 16);
		memcpy(e->daddr, t->daddr, 16);
	}
	e->binding = binding;
}

static struct xh_expect steered(int binding)
{
	return binding_drops(binding) ? xt_fallback_drop(binding) : xt_fallback_pass(binding);
}

/* What the program must do with the frame, updating the frags model. */
static struct xh_expect expected(const struct fr_truth *t, enum ref r)
{
	struct frag_entry *e;
	struct xh_expect x;
	int bi;

	switch (r) {
	case REF_MALFORMED:
		return xt_malformed();
	case REF_EXT_LIMIT:
		return xt_ext_limit();
	case REF_L4:
		bi = ref_binding(t);
		if (t->frag == FR_FRAG_FIRST)
			frags_record(t, bi);
		return bi == XH_NONE ? xt_unbound() : steered(bi);
	case REF_LATER:
		e = frags_find(t);
		if (!e)
			return (struct xh_expect){ XDP_PASS, XH_S(FRAG_ORPHAN) | XH_S(PASS), XH_NONE, 0 };
		if (e->binding == XH_NONE)
			return xt_unbound();
		x = steered(e->binding);
		x.stats |= XH_S(FRAG_FOLLOW);
		return x;
	case REF_PASS:
	default:
		return xt_unbound();
	}
}

/* What holds for any frame: one verdict counter moves, by one packet and
 * the frame's length; the reasons agree with it; a binding moves only with
 * the fallback (no socket here), and then exactly one. */
static void check_invariants(const struct xh_delta *d, size_t len, const char *ctx)
{
	unsigned i, verdicts = 0, moved = 0;

	cr_expect(d->verdict == XDP_PASS || d->verdict == XDP_DROP, "%s: verdict %s", ctx,
		  xh_verdict_name(d->verdict));
	for (i = 0; i < XM_STAT_MAX; i++) {
		const struct xm_stat_val *v = &d->stats[i];

		/* A multi-buffer frame may count only its linear part when
		 * the program finds the datagram ends there (trailing bytes
		 * are taken for link padding). */
		cr_expect((v->packets == 0 && v->bytes == 0) ||
			  (v->packets == 1 && (v->bytes == len ||
			   (len > XH_LINEAR_MAX && v->bytes == XH_LINEAR_MAX))),
			  "%s: %s moved +%llu +%llu", ctx, xm_stat_name(i),
			  (unsigned long long)v->packets, (unsigned long long)v->bytes);
	}
#define MOVED(s) (d->stats[XM_STAT_##s].packets != 0)
	verdicts = MOVED(PASS) + MOVED(DROP) + MOVED(MALFORMED) + MOVED(REDIRECT);
	cr_expect_eq(verdicts, 1, "%s: %u verdict counters moved", ctx, verdicts);
	cr_expect(!MOVED(REDIRECT), "%s: redirect without a socket", ctx);
	cr_expect((d->verdict == XDP_DROP) == MOVED(DROP), "%s: verdict and drop disagree", ctx);
	cr_expect(!MOVED(MALFORMED) || (!MOVED(FALLBACK) && !MOVED(FRAG_FOLLOW) &&
					!MOVED(FRAG_ORPHAN) && !MOVED(EXT_LIMIT)),
		  "%s: malformed and a reason", ctx);
	cr_expect(!MOVED(FRAG_FOLLOW) || MOVED(FALLBACK), "%s: followed, not steered", ctx);
	cr_expect(!MOVED(FRAG_ORPHAN) || MOVED(PASS), "%s: orphan not passed", ctx);
	cr_expect(!MOVED(EXT_LIMIT) || MOVED(PASS), "%s: ext_limit not passed", ctx);
	cr_expect(!MOVED(FALLBACK) || MOVED(PASS) || MOVED(DROP), "%s: fallback verdict", ctx);
	for (i = 0; i < xh_nbindings(h); i++) {
		if (!d->bind[i].packets && !d->bind[i].bytes)
			continue;
		moved++;
		cr_expect(d->bind[i].packets == 1 &&
			  (d->bind[i].bytes == len ||
			   (len > XH_LINEAR_MAX && d->bind[i].bytes == XH_LINEAR_MAX)),
			  "%s: binding #%u moved +%llu +%llu", ctx, i,
			  (unsigned long long)d->bind[i].packets,
			  (unsigned long long)d->bind[i].bytes);
	}
	cr_expect_eq(moved, MOVED(FALLBACK) ? 1u : 0u, "%s: %u bindings moved", ctx, moved);
#undef MOVED
}

/* Run one frame, check it against the reference (when its truth is
 * known) and the invariants. Returns false on a mismatch. */
static bool check_frame(const uint8_t *buf, const struct fr_frame *f, const char *label)
{
	struct fr_truth t;
	struct xh_delta d;
	struct xh_expect x;
	char ctx[600], why[768];
	enum ref r = REF_PASS;
	int err;

	fr_truth_of(f, &t);
	if (frags_unknown && t.frag != FR_FRAG_NONE)
		t.known = false;
	if (t.known)
		r = reference(&t);
	snprintf(ctx, sizeof(ctx), "seed %llu %s [%s] ref %s", (unsigned long long)seed, label,
		 f->desc, t.known ? ref_name(r) : "unknown");
	if (!t.known) {
		err = xh_run_delta(h, buf, f->len, &d);
		cr_assert_eq(err, 0, "%s: run: %s", ctx, strerror(-err));
		check_invariants(&d, f->len, ctx);
		return true;
	}
	x = expected(&t, r);
	/* The program learns where the datagram ends only from an IP header
	 * it reaches: past XM_VLAN_MAX tags it counts the whole frame. */
	if (f->mut == FR_MUT_NONE && t.ntags <= XM_VLAN_MAX)
		x.counted_len = xh_counted_len(f->len, f->lay.ip_end);
	err = xh_check(h, buf, f->len, &x, why, sizeof(why));
	cr_expect(err == 0, "%s: %s", ctx, err == -EDOM ? why : strerror(-err));
	if (frags_unknown || t.frag != FR_FRAG_FIRST)
		return err == 0;
	/* After a first fragment, the frags map holds what the model holds (far
	 * below its size, so the LRU evicts nothing). */
	cr_expect_eq(xh_frags_count(h), (int)frags_n, "%s: frags map has %d entries, model %u",
		     ctx, xh_frags_count(h), frags_n);
	return err == 0 && xh_frags_count(h) == (int)frags_n;
}

static void random_frames(unsigned mut_mask, unsigned dflt, const char *what)
{
	static uint8_t buf[FB_FRAME_MAX];
	unsigned n = frames_to_send(dflt), i, bad = 0, muts[FR_MUT_N] = { 0 };
	struct fr_params p;
	struct fr_frame f;
	struct fr_rng r;
	char label[64];

	cr_log_info("%s: seed %llu (XM_SEED=%llu replays), %u frames", what,
		    (unsigned long long)seed, (unsigned long long)seed, n);
	fr_seed(&r, seed);
	fr_params_default(&p);
	for (i = 0; i < n && bad < 20; i++) {
		ssize_t len = fr_frame(&r, &p, mut_mask, buf, sizeof(buf), &f);

		cr_assert_gt(len, 0, "seed %llu frame %u: build: %s", (unsigned long long)seed, i,
			     strerror((int)-len));
		muts[f.mut]++;
		snprintf(label, sizeof(label), "frame %u", i);
		bad += !check_frame(buf, &f, label);
	}
	/* The generator must really produce what the test claims to cover. */
	if (n >= 1000)
		for (i = 0; i < FR_MUT_N; i++)
			if (mut_mask & FR_MUT_BIT(i))
				cr_expect_gt(muts[i], 0, "no frame got mutation %s", fr_mutation_name(i));
}

Test(xdp_rand, random_and_mutated_frames_match_reference, .timeout = 300)
{
	random_frames(FR_MUT_KNOWN, 20000, "known mutations");
}

Test(xdp_rand, random_frames_with_flipped_header_bytes_keep_invariants, .timeout = 300)
{
	frags_unknown = true;
	random_frames(FR_MUT_BIT(FR_MUT_FLIP), 20000, "flipped bytes");
}

/* Every tag stack of up to three tags (802.1Q or 802.1ad each) times every
 * IPv6 extension chain of up to three headers, UDP and TCP to a bound port,
 * whole and as first and second fragment, and each cut at a random length;
 * IPv4 with and without options under every tag stack likewise. */
Test(xdp_rand, every_vlan_stack_and_ipv6_chain_matches_reference, .timeout = 300)
{
	static uint8_t buf[FB_FRAME_MAX];
	unsigned v, c, t, fr, l3, runs = 0;
	struct fr_frame f;
	struct fr_rng r;
	char label[80];

	cr_log_info("seed %llu", (unsigned long long)seed);
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
						check_frame(buf, &f, label);
						/* The same frame cut short. */
						fr_mutate(&r, FR_MUT_TRUNCATE, buf, &f);
						fr_describe(&f, f.desc, sizeof(f.desc));
						check_frame(buf, &f, label);
						runs++;
					}
	/* 15 tag stacks x (2 IPv4 + 74 IPv6 chains: 85 less 11 with two
	 * Fragment headers) x 2 transports x 3. */
	cr_assert_eq(runs, 15 * (2 + 74) * 2 * 3);
}
