// SPDX-License-Identifier: MIT
/* See xdp_diff.h. */
#include <arpa/inet.h>
#include <bpf/bpf.h>
#include <errno.h>
#include <linux/bpf.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <xdpmux/control.h>

#include "../../../user/lib/net/classify.h"
#include "xdp_diff.h"

/* The view the classifier reads: the harness's maps. */
struct view_ctx {
	const struct xh *h;
	int bindings_fd, frags4_fd, frags6_fd;
	struct xm_binding_val val;
	struct xm_binding_key frag_val;
	bool recorded;
	struct xm_frag_key rec_key;
	struct xm_binding_key rec_val;
};

static const struct xm_binding_val *v_lookup(void *ctx, const struct xm_binding_key *key)
{
	struct view_ctx *c = ctx;

	return bpf_map_lookup_elem(c->bindings_fd, key, &c->val) ? NULL : &c->val;
}

static bool v_has_socket(void *ctx, uint32_t owner_slot)
{
	const struct view_ctx *c = ctx;

	return xh_has_xsk(c->h, owner_slot);   /* a test run is on queue 0 */
}

/* The model's key in the program's map of its family: 0, or -errno. */
static int frag_map_lookup(const struct view_ctx *c, const struct xm_frag_key *key,
			   struct xm_binding_key *val)
{
	if (key->family == XM_FAMILY_INET) {
		struct xm_frag4_key k = { .id = (__be16)key->id, .proto = key->proto };

		memcpy(&k.saddr, key->saddr, 4);
		memcpy(&k.daddr, key->daddr, 4);
		return bpf_map_lookup_elem(c->frags4_fd, &k, val);
	} else {
		struct xm_frag6_key k = { .proto = key->proto, .id = key->id };

		memcpy(k.saddr, key->saddr, 16);
		memcpy(k.daddr, key->daddr, 16);
		return bpf_map_lookup_elem(c->frags6_fd, &k, val);
	}
}

static const struct xm_binding_key *v_frag_lookup(void *ctx, const struct xm_frag_key *key)
{
	struct view_ctx *c = ctx;

	return frag_map_lookup(c, key, &c->frag_val) ? NULL : &c->frag_val;
}

/* Not written: the program writes the map; xd_check compares after. */
static void v_frag_record(void *ctx, const struct xm_frag_key *key,
			  const struct xm_binding_key *binding)
{
	struct view_ctx *c = ctx;

	c->recorded = true;
	c->rec_key = *key;
	c->rec_val = *binding;
}

char *xd_hex(const uint8_t *frame, size_t len, char *out, size_t cap)
{
	size_t i, n = 0;

	if (!cap)
		return out;
	out[0] = '\0';
	for (i = 0; i < len && n + 4 < cap; i++)
		n += (size_t)snprintf(out + n, cap - n, "%02x%s", frame[i],
				      i + 1 == len ? "" : (i % 32 == 31 ? "\n" : " "));
	return out;
}

static int binding_index(struct xh *h, const struct xm_binding_key *key)
{
	unsigned i;

	for (i = 0; i < xh_nbindings(h); i++) {
		const struct xm_binding_key *k = xh_binding_key(h, (int)i);

		if (k && !memcmp(k, key, sizeof(*key)))
			return (int)i;
	}
	return XH_NONE;
}

static uint32_t xdp_verdict(enum xm_cls_verdict v)
{
	return v == XM_CLS_DROP ? XDP_DROP : v == XM_CLS_REDIRECT ? XDP_REDIRECT : XDP_PASS;
}

/* What the program did against what the runtime says, into diff. Packet
 * counts only: for a frame whose bytes past the IP datagram spill into a
 * second buffer the program counts the linear part's length (see
 * datagram_fits() in bpf/xdpmux.bpf.c), which the runtime cannot know. */
static void compare(struct xh *h, const struct xh_delta *d, const struct xh_expect *e,
		    char *diff, size_t cap)
{
	size_t n = 0;
	unsigned i;

	diff[0] = '\0';
	if (d->verdict != e->verdict)
		n += (size_t)snprintf(diff + n, cap - n, "verdict %s; ", xh_verdict_name(d->verdict));
	for (i = 0; i < XM_STAT_MAX && n < cap; i++)
		if (d->stats[i].packets != ((e->stats >> i) & 1u))
			n += (size_t)snprintf(diff + n, cap - n, "%s +%llu; ", xm_stat_name(i),
					      (unsigned long long)d->stats[i].packets);
	for (i = 0; i < xh_nbindings(h) && n < cap; i++)
		if (d->bind[i].packets != ((int)i == e->binding ? 1u : 0u))
			n += (size_t)snprintf(diff + n, cap - n, "binding %u +%llu; ", i,
					      (unsigned long long)d->bind[i].packets);
}

int xd_check(struct xh *h, const uint8_t *frame, size_t len, char *why, size_t cap)
{
	struct view_ctx c = {
		.h = h,
		.bindings_fd = xh_map_fd(h, XM_MAP_BINDINGS),
		.frags4_fd = xh_map_fd(h, XM_MAP_FRAGS4),
		.frags6_fd = xh_map_fd(h, XM_MAP_FRAGS6),
	};
	struct xm_cls_view v = {
		.lookup = v_lookup, .has_socket = v_has_socket,
		.frag_lookup = v_frag_lookup, .frag_record = v_frag_record, .ctx = &c,
	};
	static char hex[3 * 10000];
	struct xm_binding_key got;
	struct xm_cls_result res;
	struct xh_delta d;
	struct xh_expect e;
	char diff[768];
	unsigned i;
	size_t n;
	int r;

	if (c.bindings_fd < 0 || c.frags4_fd < 0 || c.frags6_fd < 0)
		return -EBADF;
	xm_classify(frame, (uint32_t)len, &v, &res);
	if (len < 14)
		return 0;
	e.verdict = xdp_verdict(res.verdict);
	e.stats = res.stats;
	e.binding = res.bound ? binding_index(h, &res.key) : XH_NONE;
	r = xh_run_delta(h, frame, len, &d);
	if (r)
		return r;
	compare(h, &d, &e, diff, sizeof(diff));
	if (!diff[0] && c.recorded &&
	    (frag_map_lookup(&c, &c.rec_key, &got) ||
	     memcmp(&got, &c.rec_val, sizeof(got))))
		snprintf(diff, sizeof(diff), "first fragment: the frags map does not hold the "
			 "binding the runtime recorded (proto %u port %u)",
			 c.rec_val.proto, ntohs(c.rec_val.port));
	if (!diff[0])
		return 0;
	n = (size_t)snprintf(why, cap, "runtime says %s, stats", xm_cls_verdict_name(res.verdict));
	for (i = 0; i < XM_STAT_MAX && n < cap; i++)
		if (res.stats & (1u << i))
			n += (size_t)snprintf(why + n, cap - n, " %s", xm_stat_name(i));
	if (n < cap)
		snprintf(why + n, cap - n, ", binding %d; XDP differs: %s\nframe (%zu bytes):\n%s",
			 e.binding, diff, len, xd_hex(frame, len, hex, sizeof(hex)));
	return -EDOM;
}
