// SPDX-License-Identifier: MIT
/*
 * Random and mutated test frames (see frame_rand.h). Frames are built by
 * the frame builder (frame.c) from random specs; mutations then damage the
 * bytes, and fr_truth_of says what the result is from the spec, the layout
 * and the mutation alone.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <netinet/in.h>

#include "frame_rand.h"

#define IP4_HDR 20
#define IP6_HDR 40
#define IP_MAX  65535
#define EXT_LEN_MAX 2048   /* Hdr Ext Len 255: (255 + 1) * 8 */

void fr_seed(struct fr_rng *r, uint64_t seed)
{
	r->state = seed;
}

uint64_t fr_u64(struct fr_rng *r)
{
	uint64_t z = (r->state += 0x9e3779b97f4a7c15ull);

	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
	return z ^ (z >> 31);
}

uint32_t fr_below(struct fr_rng *r, uint32_t n)
{
	/* Multiply-shift (Lemire): the bias for n << 2^32 is far below what a
	 * test could notice. */
	return n ? (uint32_t)(((fr_u64(r) >> 32) * (uint64_t)n) >> 32) : 0;
}

bool fr_chance(struct fr_rng *r, unsigned percent)
{
	return fr_below(r, 100) < percent;
}

uint64_t fr_seed_pick(const char *var)
{
	const char *v = var ? getenv(var) : NULL;
	struct timespec ts;

	if (v && *v)
		return strtoull(v, NULL, 0);
	clock_gettime(CLOCK_REALTIME, &ts);
	return (uint64_t)ts.tv_sec * 1000000007ull ^ (uint64_t)ts.tv_nsec ^
	       (uint64_t)getpid() << 40;
}

void fr_params_default(struct fr_params *p)
{
	static const uint16_t ports[] = { 7000, 7001, 9000 };
	static const uint8_t dst4[][4] = { { 198, 18, 0, 2 } };
	static const uint8_t dst6[][16] = { { 0x20, 0x01, 0x0d, 0xb8, [15] = 2 } };

	memset(p, 0, sizeof(*p));
	p->ports = ports;
	p->nports = 3;
	p->dst4 = dst4;
	p->ndst4 = 1;
	p->dst6 = dst6;
	p->ndst6 = 1;
	p->max_vlan = 3;
	p->max_ext = 8;
	p->frag_percent = 25;
	p->frag_ids = 16;
	p->max_payload = 300;
}

static uint8_t pick_l4(struct fr_rng *r, bool v6)
{
	static const uint8_t others[] = { IPPROTO_GRE, IPPROTO_SCTP, 59 /* No Next Header */ };
	unsigned n = fr_below(r, 100);

	if (n < 40)
		return IPPROTO_UDP;
	if (n < 80)
		return IPPROTO_TCP;
	if (n < 90)
		return v6 ? IPPROTO_ICMPV6 : IPPROTO_ICMP;
	return others[fr_below(r, 3)];
}

static void pick_ext_chain(struct fr_rng *r, const struct fr_params *p, struct fb_spec *s)
{
	static const uint8_t types[] = { FB_EXT_HOPOPTS, FB_EXT_ROUTING, FB_EXT_DSTOPTS,
					 FB_EXT_FRAG };
	unsigned n, i, max = p->max_ext < FB_EXT_MAX ? p->max_ext : FB_EXT_MAX;
	bool frag = false;

	if (!max || fr_chance(r, 50))
		return;
	n = 1 + fr_below(r, max);
	for (i = 0; i < n; i++) {
		uint8_t t = types[fr_below(r, frag ? 3 : 4)];
		uint16_t len = fr_chance(r, 90) ? (uint16_t)(8 * (1 + fr_below(r, 8)))
						: (uint16_t)(8 * (1 + fr_below(r, 128)));

		frag |= t == FB_EXT_FRAG;
		fb_ext_push(s, t, t == FB_EXT_FRAG ? 8 : len);
	}
}

static void pick_frag(struct fr_rng *r, const struct fr_params *p, struct fb_spec *s)
{
	int count;

	s->frag.id = fr_below(r, p->frag_ids ? p->frag_ids : 1);
	if (s->payload_len < 16)
		s->payload_len = 16;
	s->frag.size = (uint16_t)(8 * (1 + fr_below(r, 185)));
	count = fb_frag_count(s);
	if (count < 2) {
		s->frag.size = 8;
		count = fb_frag_count(s);
	}
	s->frag.index = (uint16_t)fr_below(r, count > 0 ? (uint32_t)count : 1);
}

void fr_spec(struct fr_rng *r, const struct fr_params *p, struct fb_spec *s)
{
	static const uint16_t raw_types[] = { 0x88B5, 0x88CC, 0x8847, 0x22F0 };
	unsigned n = fr_below(r, 100), i, ntags;
	enum fb_l3 l3 = n < 45 ? FB_L3_IPV4 : n < 90 ? FB_L3_IPV6 : n < 95 ? FB_L3_ARP
								      : FB_L3_RAW;
	bool ip = l3 == FB_L3_IPV4 || l3 == FB_L3_IPV6;

	fb_init(s, l3, ip ? pick_l4(r, l3 == FB_L3_IPV6) : 0);
	ntags = fr_chance(r, 40) ? 0 : fr_below(r, (p->max_vlan < FB_VLAN_MAX ? p->max_vlan
							       : FB_VLAN_MAX) + 1);
	for (i = 0; i < ntags; i++)
		fb_vlan_push(s, fr_chance(r, 50) ? FB_TPID_8021Q : FB_TPID_8021AD,
			     (uint16_t)(1 + fr_below(r, 4094)));
	if (l3 == FB_L3_RAW)
		s->ethertype = raw_types[fr_below(r, 4)];
	if (p->ndst4)
		memcpy(s->ip4.dst, p->dst4[fr_below(r, p->ndst4)], 4);
	if (p->ndst6)
		memcpy(s->ip6.dst, p->dst6[fr_below(r, p->ndst6)], 16);
	s->ip4.src[3] = s->ip6.src[15] = (uint8_t)(1 + fr_below(r, 3));
	if (p->nports)
		s->dport = p->ports[fr_below(r, p->nports)];
	s->sport = (uint16_t)(1024 + fr_below(r, 64512));
	if (l3 == FB_L3_IPV4) {
		if (fr_chance(r, 30))
			s->ip4.opt_len = (uint8_t)(4 * fr_below(r, 11));
		s->ip4.df = fr_chance(r, 50);
		s->ip4.tos = (uint8_t)fr_below(r, 256);
	} else if (l3 == FB_L3_IPV6) {
		s->ip6.flow_label = fr_below(r, 1u << 20);
		pick_ext_chain(r, p, s);
	}
	s->tcp.seq = (uint32_t)fr_u64(r);
	s->tcp.flags = (uint8_t)fr_below(r, 64);
	if (fr_chance(r, 30))
		s->tcp.opt_len = (uint8_t)(4 * fr_below(r, 11));
	s->payload_len = fr_chance(r, 90) ? fr_below(r, (uint32_t)p->max_payload + 1)
					  : 1000 + fr_below(r, 2000);
	if (fr_chance(r, 10))
		s->trailer_len = 1 + fr_below(r, 20);
	if (ip && fr_chance(r, p->frag_percent))
		pick_frag(r, p, s);
}

const char *fr_mutation_name(enum fr_mutation m)
{
	static const char *const names[FR_MUT_N] = {
		"none", "truncate", "ip_len_long", "ip_version", "l4_len", "ext_len", "flip",
	};

	return m < FR_MUT_N ? names[m] : "?";
}

static void be16_set(uint8_t *p, uint16_t v)
{
	p[0] = (uint8_t)(v >> 8);
	p[1] = (uint8_t)v;
}

static void ip4_csum_fix(uint8_t *ip)
{
	size_t hlen = (size_t)(ip[0] & 0xf) * 4;

	if (hlen < IP4_HDR)
		hlen = IP4_HDR;
	ip[10] = ip[11] = 0;
	be16_set(ip + 10, fb_csum_fold(fb_csum_add(0, ip, hlen)));
}

static bool is_ip(const struct fr_frame *f)
{
	return f->spec.l3 == FB_L3_IPV4 || f->spec.l3 == FB_L3_IPV6;
}

/* A value in (above, IP_MAX], or 0 when there is none. */
static uint32_t past(struct fr_rng *r, size_t above)
{
	if (above >= IP_MAX)
		return 0;
	return (uint32_t)above + 1 + fr_below(r, (uint32_t)(IP_MAX - above));
}

static bool mutate_ip_len(struct fr_rng *r, uint8_t *buf, struct fr_frame *f)
{
	size_t l3 = f->lay.l3_off, hdr = f->spec.l3 == FB_L3_IPV6 ? IP6_HDR : 0;
	uint32_t v;

	if (!is_ip(f) || f->len < l3 + (hdr ? IP6_HDR : IP4_HDR))
		return false;
	v = past(r, f->len - l3 - hdr);
	if (!v)
		return false;
	f->mut_at = l3 + (hdr ? 4 : 2);
	be16_set(buf + f->mut_at, (uint16_t)v);
	if (!hdr)
		ip4_csum_fix(buf + l3);
	f->mut_val = v;
	return true;
}

static bool mutate_version(struct fr_rng *r, uint8_t *buf, struct fr_frame *f)
{
	uint8_t good = f->spec.l3 == FB_L3_IPV6 ? 6 : 4, v;

	if (!is_ip(f))
		return false;
	v = (uint8_t)fr_below(r, 15);
	v = v >= good ? v + 1 : v;
	f->mut_at = f->lay.l3_off;
	buf[f->mut_at] = (uint8_t)(v << 4 | (buf[f->mut_at] & 0xf));
	if (good == 4)
		ip4_csum_fix(buf + f->lay.l3_off);
	f->mut_val = v;
	return true;
}

static bool mutate_l4_len(struct fr_rng *r, uint8_t *buf, struct fr_frame *f)
{
	size_t l4 = f->lay.l4_off;
	uint32_t v;

	if (!is_ip(f) || f->spec.frag.size || l4 == SIZE_MAX)
		return false;
	if (f->spec.l4 == IPPROTO_UDP) {
		v = fr_chance(r, 50) ? fr_below(r, 8) : past(r, f->lay.ip_end - l4);
		if (v >= 8 && v <= f->lay.ip_end - l4)
			return false;
		f->mut_at = l4 + 4;
		be16_set(buf + f->mut_at, (uint16_t)v);
	} else if (f->spec.l4 == IPPROTO_TCP) {
		v = fr_below(r, 5);
		f->mut_at = l4 + 12;
		buf[f->mut_at] = (uint8_t)(v << 4 | (buf[f->mut_at] & 0xf));
	} else {
		return false;
	}
	f->mut_val = v;
	return true;
}

static bool mutate_ext_len(struct fr_rng *r, uint8_t *buf, struct fr_frame *f)
{
	unsigned cand[FB_EXT_MAX + 1], n = 0, i;
	size_t at;

	if (f->spec.l3 != FB_L3_IPV6)
		return false;
	for (i = 0; i < f->lay.next; i++) {
		at = f->lay.ext_off[i];
		/* Only where 2048 bytes from the header start are past the IP
		 * packet, so the lie is certain to show. */
		if (at + 2 <= f->lay.ip_end && f->lay.ip_end - at < EXT_LEN_MAX)
			cand[n++] = i;
	}
	/* Not the Fragment header (its length is fixed): the type of header k
	 * is the Next Header of the one before it. */
	for (i = 0; i < n;) {
		unsigned k = cand[i];
		size_t prev_nh = k ? f->lay.ext_off[k - 1] : f->lay.l3_off + 6;

		if (buf[prev_nh] == FB_EXT_FRAG)
			cand[i] = cand[--n];
		else
			i++;
	}
	if (!n)
		return false;
	f->mut_ext = cand[fr_below(r, n)];
	f->mut_at = f->lay.ext_off[f->mut_ext] + 1;
	buf[f->mut_at] = 255;
	f->mut_val = 255;
	return true;
}

size_t fr_mutate(struct fr_rng *r, enum fr_mutation m, uint8_t *buf, struct fr_frame *f)
{
	size_t upper, k, flips;
	bool done = false;

	f->mut = FR_MUT_NONE;
	f->mut_at = SIZE_MAX;
	f->mut_val = 0;
	switch (m) {
	case FR_MUT_NONE:
	case FR_MUT_N:
		break;
	case FR_MUT_TRUNCATE:
		if (f->len > 15) {
			f->len = f->mut_at = 14 + fr_below(r, (uint32_t)(f->len - 14));
			done = true;
		}
		break;
	case FR_MUT_IP_LEN_LONG:
		done = mutate_ip_len(r, buf, f);
		break;
	case FR_MUT_IP_VERSION:
		done = mutate_version(r, buf, f);
		break;
	case FR_MUT_L4_LEN:
		done = mutate_l4_len(r, buf, f);
		break;
	case FR_MUT_EXT_LEN:
		done = mutate_ext_len(r, buf, f);
		break;
	case FR_MUT_FLIP:
		/* Headers only: a changed payload byte tells a parser nothing. */
		upper = f->lay.payload_off != SIZE_MAX && f->lay.payload_off < f->len ?
			f->lay.payload_off : f->len;
		if (upper <= 12)
			upper = f->len;
		flips = 1 + fr_below(r, 4);
		for (k = 0; k < flips; k++) {
			f->mut_at = 12 + fr_below(r, (uint32_t)(upper - 12));
			buf[f->mut_at] ^= (uint8_t)(1 + fr_below(r, 255));
		}
		done = true;
		break;
	}
	if (done)
		f->mut = m;
	return f->len;
}

ssize_t fr_frame(struct fr_rng *r, const struct fr_params *p, unsigned mut_mask,
		 uint8_t *buf, size_t cap, struct fr_frame *f)
{
	enum fr_mutation choice[FR_MUT_N];
	unsigned n = 0, m, tries;
	ssize_t len = -EINVAL;

	for (tries = 0; tries < 16; tries++) {
		fr_spec(r, p, &f->spec);
		len = fb_build(&f->spec, buf, cap, &f->lay);
		if (len > 0)
			break;
	}
	if (len <= 0)
		return len;
	f->len = (size_t)len;
	f->mut = FR_MUT_NONE;
	f->mut_at = SIZE_MAX;
	f->mut_val = 0;
	for (m = FR_MUT_NONE + 1; m < FR_MUT_N; m++)
		if (mut_mask & FR_MUT_BIT(m))
			choice[n++] = m;
	if (n && fr_chance(r, 50))
		fr_mutate(r, choice[fr_below(r, n)], buf, f);
	fr_describe(f, f->desc, sizeof(f->desc));
	return (ssize_t)f->len;
}

/* The IPv6 header chain as the spec lays it out (Fragment header added when
 * fragmenting without one), as frame.c's ip6_plan does. */
static unsigned ip6_chain(const struct fb_spec *s, uint8_t *types, size_t *lens)
{
	unsigned n = 0, i;
	bool frag = false;

	for (i = 0; i < s->ip6.next && i < FB_EXT_MAX; i++) {
		types[n] = s->ip6.ext[i].type;
		lens[n] = types[n] == FB_EXT_FRAG ? 8 : s->ip6.ext[i].len ? s->ip6.ext[i].len : 8;
		frag |= types[n] == FB_EXT_FRAG;
		n++;
	}
	if (s->frag.size && !frag) {
		types[n] = FB_EXT_FRAG;
		lens[n++] = 8;
	}
	return n;
}

void fr_describe(const struct fr_frame *f, char *out, size_t cap)
{
	static const char *const l3n[] = { "ipv4", "ipv6", "arp", "raw" };
	const struct fb_spec *s = &f->spec;
	uint8_t types[FB_EXT_MAX + 1];
	size_t lens[FB_EXT_MAX + 1], at = 0;
	unsigned i, n;

#define ADD(...) do { if (at < cap) at += (size_t)snprintf(out + at, cap - at, __VA_ARGS__); } while (0)
	out[0] = '\0';
	for (i = 0; i < s->nvlan; i++)
		ADD("%s%s:%u ", i ? "" : "tags ", s->vlan[i].tpid == FB_TPID_8021AD ? "ad" : "q",
		    s->vlan[i].tci & 0xfff);
	ADD("%s", l3n[s->l3 <= FB_L3_RAW ? s->l3 : 3]);
	if (s->l3 == FB_L3_RAW)
		ADD(" 0x%04x", s->ethertype);
	if (s->l3 == FB_L3_IPV4 && s->ip4.opt_len)
		ADD(" opts%u", s->ip4.opt_len);
	if (s->l3 == FB_L3_IPV6) {
		n = ip6_chain(s, types, lens);
		for (i = 0; i < n; i++)
			ADD("%s%s%zu", i ? "," : " ext ",
			    types[i] == FB_EXT_HOPOPTS ? "hop" : types[i] == FB_EXT_ROUTING ? "rt" :
			    types[i] == FB_EXT_DSTOPTS ? "dst" : "frag", lens[i]);
	}
	if (s->l3 == FB_L3_IPV4 || s->l3 == FB_L3_IPV6) {
		ADD(" proto %u %u->%u payload %zu", s->l4, s->sport, s->dport, s->payload_len);
		if (s->l4 == IPPROTO_TCP && s->tcp.opt_len)
			ADD(" tcpopts%u", s->tcp.opt_len);
		if (s->frag.size)
			ADD(" frag %u/%d size %u id %u", s->frag.index + 1, fb_frag_count(s),
			    s->frag.size, s->frag.id);
	}
	if (s->trailer_len)
		ADD(" trailer %zu", s->trailer_len);
	ADD(" len %zu", f->len);
	if (f->mut != FR_MUT_NONE)
		ADD(" mut %s@%zu=%u", fr_mutation_name(f->mut), f->mut_at, f->mut_val);
#undef ADD
}

void fr_truth_of(const struct fr_frame *f, struct fr_truth *t)
{
	const struct fb_spec *s = &f->spec;
	uint8_t types[FB_EXT_MAX + 1];
	size_t lens[FB_EXT_MAX + 1], off;
	unsigned n, i;

	memset(t, 0, sizeof(*t));
	t->known = f->mut != FR_MUT_FLIP;
	t->len = f->len;
	t->ntags = s->nvlan;
	t->ext_bad = -1;
	t->l3_off = f->lay.l3_off;
	t->l4_off = SIZE_MAX;
	t->ip_end = f->lay.ip_end;
	switch (s->l3) {
	case FB_L3_IPV4:
		t->ethertype = FB_ETH_P_IP;
		break;
	case FB_L3_IPV6:
		t->ethertype = FB_ETH_P_IPV6;
		break;
	case FB_L3_ARP:
		t->ethertype = FB_ETH_P_ARP;
		return;
	default:
		t->ethertype = s->ethertype;
		return;
	}
	t->ip_version = s->l3 == FB_L3_IPV4 ? 4 : 6;
	if (f->mut == FR_MUT_IP_VERSION)
		t->ip_version = (uint8_t)f->mut_val;
	if (f->mut == FR_MUT_IP_LEN_LONG)
		t->ip_end = t->l3_off + (s->l3 == FB_L3_IPV6 ? IP6_HDR : 0) + f->mut_val;
	t->ip_whole = t->ip_end <= t->len;
	t->l4 = s->l4;
	t->sport = s->sport;
	t->dport = s->dport;
	if (s->l3 == FB_L3_IPV4) {
		memcpy(t->saddr, s->ip4.src, 4);
		memcpy(t->daddr, s->ip4.dst, 4);
		t->frag_id = s->frag.id & 0xffff;
		t->frag_proto = s->l4;
	} else {
		memcpy(t->saddr, s->ip6.src, 16);
		memcpy(t->daddr, s->ip6.dst, 16);
		t->frag_id = s->frag.id;
		t->frag_proto = s->l4;
	}
	if (s->frag.size)
		t->frag = s->frag.index ? FR_FRAG_LATER : FR_FRAG_FIRST;

	off = t->l3_off + (s->l3 == FB_L3_IPV6 ? IP6_HDR : IP4_HDR + s->ip4.opt_len);
	if (s->l3 == FB_L3_IPV6) {
		n = ip6_chain(s, types, lens);
		for (i = 0; i < n; i++) {
			t->ext_type[t->next] = types[i];
			t->ext_off[t->next] = off;
			t->ext_len[t->next] = lens[i];
			if (f->mut == FR_MUT_EXT_LEN && f->lay.ext_off[f->mut_ext] == off) {
				t->ext_bad = (int)t->next;
				t->ext_len[t->next] = EXT_LEN_MAX;
			}
			t->next++;
			off += lens[i];
			if (types[i] == FB_EXT_FRAG) {
				/* RFC 8200 4.5: the Fragment header names the first
				 * header of the fragmentable part. */
				t->frag_proto = i + 1 < n ? types[i + 1] : s->l4;
				/* A later fragment's headers end here. */
				if (t->frag == FR_FRAG_LATER)
					return;
			}
		}
	}
	if (t->frag == FR_FRAG_LATER)
		return;
	t->l4_off = off;
	switch (s->l4) {
	case IPPROTO_UDP:
	case IPPROTO_ICMP:
	case IPPROTO_ICMPV6:
		t->l4_hdr_len = 8;
		break;
	case IPPROTO_TCP:
		t->l4_hdr_len = 20 + s->tcp.opt_len;
		break;
	}
	if (f->mut == FR_MUT_L4_LEN) {
		t->l4_len_bad = true;
		if (s->l4 == IPPROTO_TCP)
			t->l4_hdr_len = 4 * f->mut_val;
	}
}

unsigned fr_vlan_combo_count(unsigned max)
{
	return (2u << max) - 1;
}

void fr_vlan_combo(struct fb_spec *s, unsigned idx)
{
	unsigned k = 0, i;

	/* idx = (2^k - 1) + bits: k tags, bit i says whether tag i is 802.1ad. */
	while (idx >= (1u << k)) {
		idx -= 1u << k;
		k++;
	}
	s->nvlan = 0;
	for (i = 0; i < k; i++)
		fb_vlan_push(s, idx & (1u << i) ? FB_TPID_8021AD : FB_TPID_8021Q,
			     (uint16_t)(100 + i));
}

unsigned fr_ext_chain_count(unsigned max)
{
	unsigned n = 0, p = 1, k;

	for (k = 0; k <= max; k++, p *= 4)
		n += p;
	return n;
}

bool fr_ext_chain(struct fb_spec *s, unsigned idx)
{
	static const uint8_t types[] = { FB_EXT_HOPOPTS, FB_EXT_ROUTING, FB_EXT_DSTOPTS,
					 FB_EXT_FRAG };
	unsigned k = 0, p = 1, i, frags = 0;

	while (idx >= p) {
		idx -= p;
		p *= 4;
		k++;
	}
	s->ip6.next = 0;
	for (i = 0; i < k; i++, idx /= 4) {
		frags += types[idx % 4] == FB_EXT_FRAG;
		fb_ext_push(s, types[idx % 4], (uint16_t)(8 * (i + 1)));
	}
	return frags <= 1;
}
