// SPDX-License-Identifier: MIT
/*
 * Frame classification with the stack's parser (parse.c), under the XDP
 * program's rules: at most XM_VLAN_MAX tags, XM_IPV6_EXT_MAX extension
 * headers, headers within XM_CLS_HDR_MAX bytes; anything it cannot parse is
 * passed to the kernel (counted malformed); the first fragment of a
 * datagram is steered by its ports and its later fragments follow it.
 * See classify.h and the comment at the top of bpf/xdpmux.bpf.c.
 */
#include <netinet/in.h>
#include <string.h>
#include <sys/socket.h>

#include "classify.h"
#include "net.h"

#define NH_ROUTING 43
#define NH_DSTOPTS 60
#define STAT(s) (1u << XM_STAT_##s)

enum kind { K_PASS, K_MALFORMED, K_EXT_LIMIT, K_L4, K_LATER };

/* What the frame is: the IP packet and its transport header checked. */
static enum kind parse_frame(const uint8_t *frame, uint32_t len, struct xm_l3 *l3,
			     uint16_t *dport, bool *first_frag)
{
	struct xm_ip_limits lim = { .max_ext = XM_IPV6_EXT_MAX };
	const uint8_t *pkt, *l4;
	struct xm_l2 l2;
	uint32_t l4_len;
	int r;

	if (xm_eth_parse(frame, len, XM_VLAN_MAX, &l2) != XM_PARSE_OK)
		return K_MALFORMED;
	pkt = frame + l2.l3_off;
	if (l2.type == XM_ETH_P_IP) {
		if (xm_ipv4_parse(pkt, len - l2.l3_off, l3) != XM_PARSE_OK)
			return K_MALFORMED;
		/* The program looks at fragments of UDP and TCP only. */
		if (l3->ip.proto != IPPROTO_UDP && l3->ip.proto != IPPROTO_TCP)
			return K_PASS;
		if (l3->frag && l3->fr.offset)
			return K_LATER;
	} else if (l2.type == XM_ETH_P_IPV6) {
		lim.hdr_max = XM_CLS_HDR_MAX - l2.l3_off;
		r = xm_ipv6_parse(pkt, len - l2.l3_off, &lim, l3);
		if (r == XM_PARSE_MALFORMED)
			return K_MALFORMED;
		if (r == XM_PARSE_EXT_LIMIT)
			return K_EXT_LIMIT;
		if (l3->frag && l3->fr.offset) {
			/* Destination options or routing may come before the
			 * transport header in the fragmentable part. */
			uint8_t nh = l3->fr.proto;

			return nh == IPPROTO_UDP || nh == IPPROTO_TCP || nh == NH_DSTOPTS ||
			       nh == NH_ROUTING ? K_LATER : K_PASS;
		}
	} else {
		return K_PASS;   /* ARP, a third tag, ... */
	}
	*first_frag = l3->frag;
	l4 = pkt + l3->l4_off;
	l4_len = l3->end - l3->l4_off;
	if (l3->ip.proto == IPPROTO_UDP)
		r = xm_udp_hdr_check(l4, l4_len, !*first_frag);
	else if (l3->ip.proto == IPPROTO_TCP)
		r = xm_tcp_hdr_check(l4, l4_len);
	else
		return K_PASS;
	if (r != XM_PARSE_OK)
		return K_MALFORMED;
	*dport = (uint16_t)(l4[2] << 8 | l4[3]);
	return K_L4;
}

static uint8_t family_of(const struct xm_l3 *l3)
{
	return l3->ip.family == AF_INET ? XM_FAMILY_INET : XM_FAMILY_INET6;
}

/* Address-specific binding first, then the wildcard. */
static const struct xm_binding_val *lookup(const struct xm_cls_view *v, const struct xm_l3 *l3,
					   uint16_t dport, struct xm_binding_key *key)
{
	const struct xm_binding_val *val;

	memset(key, 0, sizeof(*key));
	key->proto = l3->ip.proto;
	key->port = htons(dport);
	key->family = family_of(l3);
	memcpy(key->addr, l3->ip.dst, xm_addr_len(l3->ip.family));
	val = v->lookup(v->ctx, key);
	if (val)
		return val;
	key->family = XM_FAMILY_ANY;
	memset(key->addr, 0, sizeof(key->addr));
	return v->lookup(v->ctx, key);
}

static void frag_key(const struct xm_l3 *l3, struct xm_frag_key *fk)
{
	memset(fk, 0, sizeof(*fk));
	fk->family = family_of(l3);
	fk->proto = l3->fr.proto;
	fk->id = l3->frag_id_raw;
	memcpy(fk->saddr, l3->ip.src, xm_addr_len(l3->ip.family));
	memcpy(fk->daddr, l3->ip.dst, xm_addr_len(l3->ip.family));
}

static void steer(const struct xm_cls_view *v, const struct xm_binding_key *key,
		  const struct xm_binding_val *val, struct xm_cls_result *out)
{
	out->bound = true;
	out->key = *key;
	out->val = *val;
	/* A binding goes to its owner's socket only, never another's. */
	if (val->owner_slot < XM_MAX_OWNERS && v->has_socket &&
	    v->has_socket(v->ctx, val->owner_slot)) {
		out->verdict = XM_CLS_REDIRECT;
		out->stats |= STAT(REDIRECT);
		return;
	}
	out->stats |= STAT(FALLBACK);
	if (val->fallback == XM_FALLBACK_DROP) {
		out->verdict = XM_CLS_DROP;
		out->stats |= STAT(DROP);
	} else {
		out->stats |= STAT(PASS);
	}
}

void xm_classify(const uint8_t *frame, uint32_t len, const struct xm_cls_view *v,
		 struct xm_cls_result *out)
{
	const struct xm_binding_val *val;
	const struct xm_binding_key *bk;
	struct xm_binding_key key;
	struct xm_frag_key fk;
	struct xm_l3 l3;
	bool first_frag = false;
	uint16_t dport = 0;

	memset(out, 0, sizeof(*out));
	out->verdict = XM_CLS_PASS;
	switch (parse_frame(frame, len, &l3, &dport, &first_frag)) {
	case K_MALFORMED:
		out->stats = STAT(MALFORMED);
		return;
	case K_EXT_LIMIT:
		out->stats = STAT(EXT_LIMIT) | STAT(PASS);
		return;
	case K_L4:
		val = lookup(v, &l3, dport, &key);
		if (first_frag) {
			/* An unbound datagram records the zero key, which no
			 * binding has: its later fragments pass as seen. */
			static const struct xm_binding_key none;

			frag_key(&l3, &fk);
			v->frag_record(v->ctx, &fk, val ? &key : &none);
		}
		if (val)
			steer(v, &key, val, out);
		else
			out->stats = STAT(PASS);
		return;
	case K_LATER:
		frag_key(&l3, &fk);
		bk = v->frag_lookup(v->ctx, &fk);
		if (!bk) {
			out->stats = STAT(FRAG_ORPHAN) | STAT(PASS);
			return;
		}
		key = *bk;
		val = v->lookup(v->ctx, &key);
		if (!val) {
			out->stats = STAT(PASS);
			return;
		}
		out->stats = STAT(FRAG_FOLLOW);
		steer(v, &key, val, out);
		return;
	case K_PASS:
	default:
		out->stats = STAT(PASS);
		return;
	}
}

const char *xm_cls_verdict_name(enum xm_cls_verdict v)
{
	switch (v) {
	case XM_CLS_PASS: return "pass";
	case XM_CLS_REDIRECT: return "redirect";
	case XM_CLS_DROP: return "drop";
	}
	return "?";
}
