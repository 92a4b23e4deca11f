/* SPDX-License-Identifier: MIT */
/*
 * The runtime's classification of a frame: what the XDP program
 * (bpf/xdpmux.bpf.c) must do with it, its verdict and binding, decided by
 * the stack's own header parser (parse.c) and the program's documented
 * limits. The differential tests and fuzzers run both on the same frames
 * and fail on any disagreement, so the two parsers cannot drift apart.
 *
 * The bindings and fragment tables are read through a view (callbacks), so
 * the caller can back it with the pinned maps, a test's model, or nothing.
 */
#ifndef XM_NET_CLASSIFY_H
#define XM_NET_CLASSIFY_H

#include <stdbool.h>
#include <stdint.h>

#include <xdpmux/maps.h>

/* bpf/xdpmux.bpf.c XM_HDR_MAX: no header is read that starts past this
 * offset into the frame; such a frame is passed, counted EXT_LIMIT. */
#define XM_CLS_HDR_MAX 512

/* A fragmented datagram, as the model identifies it in either family; the
 * program keeps the two families in two maps (struct xm_frag4_key, struct
 * xm_frag6_key), which hold the same fields. An IPv4 address sits in the
 * first four bytes, the rest zero; id is the IPv4 (16-bit) or IPv6 (32-bit)
 * identification as it sits in the packet. */
struct xm_frag_key {
	uint8_t family;    /* XM_FAMILY_INET or XM_FAMILY_INET6 */
	uint8_t proto;
	uint32_t id;
	uint8_t saddr[16];
	uint8_t daddr[16];
};

struct xm_cls_view {
	/* The binding under key, or NULL (the `bindings` map). */
	const struct xm_binding_val *(*lookup)(void *ctx, const struct xm_binding_key *key);
	/* Whether owner slot owner_slot (< XM_MAX_OWNERS) has an AF_XDP
	 * socket on the frame's rx queue (`xsks`, key XM_XSK_KEY). */
	bool (*has_socket)(void *ctx, uint32_t owner_slot);
	/* The binding a first fragment recorded for key, NULL when none was
	 * seen (the `frags4` and `frags6` maps); and record one (all-zero key: seen, not
	 * bound). */
	const struct xm_binding_key *(*frag_lookup)(void *ctx, const struct xm_frag_key *key);
	void (*frag_record)(void *ctx, const struct xm_frag_key *key,
			    const struct xm_binding_key *binding);
	void *ctx;
};

enum xm_cls_verdict {
	XM_CLS_PASS,       /* XDP_PASS */
	XM_CLS_REDIRECT,   /* XDP_REDIRECT into the binding's socket */
	XM_CLS_DROP,       /* XDP_DROP by the binding's fallback */
};

struct xm_cls_result {
	enum xm_cls_verdict verdict;
	uint32_t stats;               /* 1 << XM_STAT_* for each counter that moves */
	bool bound;                   /* key and val are the binding that counts */
	struct xm_binding_key key;
	struct xm_binding_val val;
};

/* Classify one frame of len bytes. Never fails: every frame gets a verdict. */
void xm_classify(const uint8_t *frame, uint32_t len, const struct xm_cls_view *view,
		 struct xm_cls_result *out);

const char *xm_cls_verdict_name(enum xm_cls_verdict v);

#endif /* XM_NET_CLASSIFY_H */
