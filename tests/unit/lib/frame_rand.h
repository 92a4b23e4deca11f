/* SPDX-License-Identifier: MIT */
/*
 * Random and mutated test frames, for differential and fuzz-style tests of
 * every packet classifier in xdpmux (the XDP program, the runtime's parser).
 *
 * Everything comes from one seed, so a failure replays exactly: print the
 * seed (fr_seed_pick does) and the frame's description.
 *
 *   struct fr_rng r;
 *   uint64_t seed = fr_seed_pick("XM_SEED");   // env var, else fresh
 *   printf("seed %llu\n", seed);
 *   fr_seed(&r, seed);
 *   struct fr_params p;  fr_params_default(&p);
 *   struct fr_frame f;
 *   ssize_t len = fr_frame(&r, &p, FR_MUT_ALL, buf, sizeof(buf), &f);
 *   struct fr_truth t;  fr_truth_of(&f, &t);   // what the frame is
 *
 * The truth is computed from the spec and the builder's layout, never by
 * parsing the bytes, so it is an independent reference to compare a parser
 * against. After FR_MUT_FLIP (random bytes changed) nothing is known
 * (t.known false): only invariants can be checked.
 *
 * Enumerations: fr_vlan_combo and fr_ext_chain walk every tag stack and
 * every IPv6 extension chain up to a length, for exhaustive tables.
 */
#ifndef XM_TEST_FRAME_RAND_H
#define XM_TEST_FRAME_RAND_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "frame.h"

/* splitmix64 (Steele, Lea, Flood 2014): small, fast, same on every host. */
struct fr_rng {
	uint64_t state;
};

void fr_seed(struct fr_rng *r, uint64_t seed);
uint64_t fr_u64(struct fr_rng *r);
uint32_t fr_below(struct fr_rng *r, uint32_t n);   /* [0, n); 0 when n is 0 */
bool fr_chance(struct fr_rng *r, unsigned percent);
/* The seed in environment variable `var` (decimal or 0x hex) if set, else
 * one from the clock and pid. */
uint64_t fr_seed_pick(const char *var);

/* What random frames are made of. Pointers are the caller's and must stay
 * valid while frames are generated. */
struct fr_params {
	const uint16_t *ports;        /* destination ports (host order) */
	unsigned nports;
	const uint8_t (*dst4)[4];     /* destination addresses */
	unsigned ndst4;
	const uint8_t (*dst6)[16];
	unsigned ndst6;
	unsigned max_vlan;            /* tags, at most FB_VLAN_MAX */
	unsigned max_ext;             /* IPv6 extension headers, at most FB_EXT_MAX */
	unsigned frag_percent;        /* of IP frames, fragmented */
	uint32_t frag_ids;            /* fragment ids drawn from [0, frag_ids) */
	size_t max_payload;
};

/* Ports 7000, 7001, 9000; fb_init's addresses; up to 3 tags, 8 extension
 * headers, 25% fragments with 16 ids, payloads up to 300 bytes. */
void fr_params_default(struct fr_params *p);

/* A random, well-formed frame spec. */
void fr_spec(struct fr_rng *r, const struct fr_params *p, struct fb_spec *s);

enum fr_mutation {
	FR_MUT_NONE,
	FR_MUT_TRUNCATE,     /* cut anywhere after the Ethernet header */
	FR_MUT_IP_LEN_LONG,  /* IPv4 total / IPv6 payload length past the frame */
	FR_MUT_IP_VERSION,   /* a version that is not the EtherType's */
	FR_MUT_L4_LEN,       /* UDP length past the datagram or < 8; TCP doff < 5
	                      * (unfragmented frames only) */
	FR_MUT_EXT_LEN,      /* an IPv6 extension header's length past the packet */
	FR_MUT_FLIP,         /* 1-4 random bytes of the headers changed */
	FR_MUT_N,
};
#define FR_MUT_BIT(m)      (1u << (m))
#define FR_MUT_ALL         ((1u << FR_MUT_N) - 1)
#define FR_MUT_KNOWN       (FR_MUT_ALL & ~FR_MUT_BIT(FR_MUT_FLIP))

const char *fr_mutation_name(enum fr_mutation m);

struct fr_frame {
	struct fb_spec spec;
	struct fb_layout lay;     /* of the frame as built, before mutation */
	size_t len;               /* after mutation */
	enum fr_mutation mut;     /* what was done (NONE when the chosen one did
	                           * not apply to this frame) */
	size_t mut_at;            /* byte offset cut or changed */
	uint32_t mut_val;         /* the value written there */
	unsigned mut_ext;         /* FR_MUT_EXT_LEN: which header (lay.ext_off) */
	char desc[400];
};

/* A random frame into buf: a spec, built, then one mutation drawn from
 * mut_mask (FR_MUT_NONE is always possible: half the frames stay whole).
 * Returns its length or a negative errno. */
ssize_t fr_frame(struct fr_rng *r, const struct fr_params *p, unsigned mut_mask,
		 uint8_t *buf, size_t cap, struct fr_frame *f);

/* Apply mutation m to a built frame (f->spec and f->lay filled); returns
 * the new length. */
size_t fr_mutate(struct fr_rng *r, enum fr_mutation m, uint8_t *buf, struct fr_frame *f);

/* One line: tags, L3, extension chain, L4, ports, fragment, mutation. */
void fr_describe(const struct fr_frame *f, char *out, size_t cap);

enum fr_frag { FR_FRAG_NONE, FR_FRAG_FIRST, FR_FRAG_LATER };

/* What a frame is, by construction. Offsets are in the frame as cut. */
struct fr_truth {
	bool known;               /* false after FR_MUT_FLIP */
	unsigned ntags;
	uint16_t ethertype;       /* after the tags */
	uint8_t ip_version;       /* 4, 6, 0 for neither; as written (mutated) */
	bool ip_whole;            /* the IP length field fits the frame */
	uint8_t l4;               /* transport protocol (IPv4 protocol or last
	                           * next header) */
	uint16_t sport, dport;    /* host order */
	uint8_t saddr[16], daddr[16];  /* IPv4 in the first 4 bytes */
	enum fr_frag frag;
	uint32_t frag_id;
	uint8_t frag_proto;       /* IPv4 protocol / Fragment header Next Header */
	unsigned next;            /* IPv6 extension headers in this frame */
	uint8_t ext_type[FB_EXT_MAX + 1];
	size_t ext_off[FB_EXT_MAX + 1];
	size_t ext_len[FB_EXT_MAX + 1];
	int ext_bad;              /* header whose length lies, -1: none */
	size_t l3_off, l4_off;    /* SIZE_MAX: not in this frame */
	size_t l4_hdr_len;        /* UDP 8, TCP data offset * 4, ICMP 8 */
	bool l4_len_bad;          /* FR_MUT_L4_LEN */
	size_t ip_end;            /* where the IP packet ends by its length */
	size_t len;
};

void fr_truth_of(const struct fr_frame *f, struct fr_truth *t);

/* Tag stacks: every stack of 0..max tags, each 802.1Q or 802.1ad
 * (2^(max+1) - 1 of them). idx in [0, fr_vlan_combo_count(max)). */
unsigned fr_vlan_combo_count(unsigned max);
void fr_vlan_combo(struct fb_spec *s, unsigned idx);

/* IPv6 extension chains: every sequence of 0..max headers of hop-by-hop,
 * routing, destination options and fragment (sum of 4^k). Header i is
 * 8 * (i + 1) bytes. Returns false for a chain with two Fragment headers
 * (RFC 8200 4.5 allows one), which the caller skips. */
unsigned fr_ext_chain_count(unsigned max);
bool fr_ext_chain(struct fb_spec *s, unsigned idx);

#endif /* XM_TEST_FRAME_RAND_H */
