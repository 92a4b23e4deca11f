// SPDX-License-Identifier: MIT
/*
 * BPF_PROG_TEST_RUN harness for the XDP program (see xdp_harness.h).
 */
#include <errno.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <netinet/in.h>
#include <linux/bpf.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include <xdpmux/control.h>
#include "xdpmux.skel.h"
#include "xdp_harness.h"

struct xh {
	struct xdpmux *skel;
	struct xm_ctl *ctl;        /* the control library on the skeleton's maps */
	int prog_fd;
	unsigned nbind;
	bool xsk_q0[XM_MAX_OWNERS];  /* owners with a socket on queue 0 */
	struct {
		bool used;
		uint32_t owner_slot;
		struct xm_binding_key key;
	} bind[XH_BINDINGS_MAX];
};

int xh_open(struct xh **out)
{
	struct xh *h = calloc(1, sizeof(*h));
	int err;

	if (!h)
		return -ENOMEM;
	h->skel = xdpmux__open_and_load();
	if (!h->skel) {
		err = -errno ? -errno : -EINVAL;
		goto fail;
	}
	h->prog_fd = bpf_program__fd(h->skel->progs.xdpmux_demux);
	err = xm_ctl_open_maps(&(struct xm_ctl_maps){
			.bindings = bpf_map__fd(h->skel->maps.bindings),
			.binding_stats = bpf_map__fd(h->skel->maps.binding_stats),
			.port_index = bpf_map__fd(h->skel->maps.data_port_index),
			.xsks = bpf_map__fd(h->skel->maps.xsks),
			.stats = bpf_map__fd(h->skel->maps.stats),
		}, &h->ctl);
	if (err) {
		xdpmux__destroy(h->skel);
		goto fail;
	}
	*out = h;
	return 0;
fail:
	free(h);
	return err;
}

void xh_close(struct xh *h)
{
	if (!h)
		return;
	xm_ctl_close(h->ctl);
	xdpmux__destroy(h->skel);
	free(h);
}

int xh_prog_fd(const struct xh *h)
{
	return h->prog_fd;
}

int xh_map_fd(const struct xh *h, const char *name)
{
	struct bpf_map *m = bpf_object__find_map_by_name(h->skel->obj, name);

	return m ? bpf_map__fd(m) : -ENOENT;
}

int xh_bind(struct xh *h, uint8_t proto, uint8_t family, const void *addr,
	    uint16_t port, enum xm_fallback fallback)
{
	return xh_bind_as(h, proto, family, addr, port, fallback, 0);
}

int xh_bind_as(struct xh *h, uint8_t proto, uint8_t family, const void *addr,
	       uint16_t port, enum xm_fallback fallback, uint32_t owner_slot)
{
	struct xm_binding_val val = { .fallback = fallback, .owner_slot = owner_slot };
	struct xm_binding_key key = { .proto = proto, .family = family,
				      .port = htons(port) };
	int idx, err;

	if (h->nbind == XH_BINDINGS_MAX)
		return -ENOSPC;
	if (family == XM_FAMILY_INET)
		memcpy(key.addr, addr, 4);
	else if (family == XM_FAMILY_INET6)
		memcpy(key.addr, addr, 16);
	else if (family != XM_FAMILY_ANY)
		return -EINVAL;
	err = xm_ctl_bind_value(h->ctl, &key, &val);
	if (err)
		return err;
	idx = (int)h->nbind++;
	h->bind[idx].used = true;
	h->bind[idx].owner_slot = owner_slot;
	h->bind[idx].key = key;
	return idx;
}

int xh_unbind(struct xh *h, int idx)
{
	int err;

	if (idx < 0 || (unsigned)idx >= h->nbind || !h->bind[idx].used)
		return -ENOENT;
	err = xm_ctl_unbind(h->ctl, &h->bind[idx].key);
	if (err)
		return err;
	h->bind[idx].used = false;
	return 0;
}

int xh_unbind_owner_slot(struct xh *h, uint32_t owner_slot, size_t *removed)
{
	unsigned i;
	int err = xm_ctl_unbind_owner_slot(h->ctl, owner_slot, removed);

	if (err)
		return err;
	for (i = 0; i < h->nbind; i++)
		if (h->bind[i].owner_slot == owner_slot)
			h->bind[i].used = false;
	return 0;
}

int xh_set_xsk(struct xh *h, uint32_t owner_slot, uint32_t queue, int fd)
{
	uint32_t key = XM_XSK_KEY(owner_slot, queue);
	int map = bpf_map__fd(h->skel->maps.xsks);

	if (owner_slot >= XM_MAX_OWNERS || queue >= XM_MAX_QUEUES)
		return -EINVAL;
	if (fd >= 0 ? bpf_map_update_elem(map, &key, &fd, BPF_ANY) :
		      bpf_map_delete_elem(map, &key))
		return -errno;
	if (queue == 0)
		h->xsk_q0[owner_slot] = fd >= 0;
	return 0;
}

bool xh_has_xsk(const struct xh *h, uint32_t owner_slot)
{
	return owner_slot < XM_MAX_OWNERS && h->xsk_q0[owner_slot];
}

const struct xm_binding_key *xh_binding_key(const struct xh *h, int idx)
{
	if (idx < 0 || (unsigned)idx >= h->nbind)
		return NULL;
	return &h->bind[idx].key;
}

int xh_run(struct xh *h, const void *frame, size_t len, uint32_t *verdict)
{
	LIBBPF_OPTS(bpf_test_run_opts, opts,
		    .data_in = frame,
		    .data_size_in = (uint32_t)len,
		    .repeat = 1);

	/* No context: the frame arrives on queue 0 of the loopback device. */
	if (bpf_prog_test_run_opts(h->prog_fd, &opts))
		return -errno;
	*verdict = opts.retval;
	return 0;
}

int xh_stats(struct xh *h, struct xm_stat_val out[XM_STAT_MAX])
{
	return xm_ctl_stats(h->ctl, out);
}

int xh_binding_counters(struct xh *h, int idx, struct xm_binding_stats *out)
{
	if (idx < 0 || (unsigned)idx >= h->nbind || !h->bind[idx].used)
		return -ENOENT;
	return xm_ctl_binding_stats(h->ctl, &h->bind[idx].key, out);
}

static int map_count(int fd, size_t key_size)
{
	uint8_t cur[64], next[64];
	void *prev = NULL;
	int n = 0;

	if (key_size > sizeof(cur))
		return -EINVAL;
	while (!bpf_map_get_next_key(fd, prev, next)) {
		n++;
		memcpy(cur, next, key_size);
		prev = cur;
	}
	return errno == ENOENT ? n : -errno;
}

int xh_frags_count(struct xh *h)
{
	int n4 = map_count(bpf_map__fd(h->skel->maps.frags4), sizeof(struct xm_frag4_key));
	int n6 = map_count(bpf_map__fd(h->skel->maps.frags6), sizeof(struct xm_frag6_key));

	return n4 < 0 ? n4 : n6 < 0 ? n6 : n4 + n6;
}

const char *xh_verdict_name(uint32_t verdict)
{
	static const char *const names[] = { "XDP_ABORTED", "XDP_DROP", "XDP_PASS",
					     "XDP_TX", "XDP_REDIRECT" };

	return verdict < 5 ? names[verdict] : "XDP_?";
}

struct why {
	char *p;
	size_t cap, n;
};

__attribute__((format(printf, 2, 3)))
static void why_add(struct why *w, const char *fmt, ...)
{
	va_list ap;
	int r;

	if (!w->cap || w->n >= w->cap)
		return;
	va_start(ap, fmt);
	r = vsnprintf(w->p + w->n, w->cap - w->n, fmt, ap);
	va_end(ap);
	if (r > 0)
		w->n += (size_t)r;
}

unsigned xh_nbindings(const struct xh *h)
{
	return h->nbind;
}

int xh_run_delta(struct xh *h, const void *frame, size_t len, struct xh_delta *d)
{
	struct xm_stat_val before[XM_STAT_MAX];
	struct xm_binding_stats bb[XH_BINDINGS_MAX], ba;
	unsigned i;
	int err;

	memset(d, 0, sizeof(*d));
	for (i = 0; i < h->nbind; i++)
		if (h->bind[i].used && (err = xh_binding_counters(h, (int)i, &bb[i])))
			return err;
	err = xh_stats(h, before);
	if (err)
		return err;
	err = xh_run(h, frame, len, &d->verdict);
	if (err)
		return err;
	err = xh_stats(h, d->stats);
	if (err)
		return err;
	for (i = 0; i < XM_STAT_MAX; i++) {
		d->stats[i].packets -= before[i].packets;
		d->stats[i].bytes -= before[i].bytes;
	}
	for (i = 0; i < h->nbind; i++) {
		if (!h->bind[i].used)
			continue;
		err = xh_binding_counters(h, (int)i, &ba);
		if (err)
			return err;
		d->bind[i].packets = ba.packets - bb[i].packets;
		d->bind[i].bytes = ba.bytes - bb[i].bytes;
	}
	return 0;
}

int xh_check(struct xh *h, const void *frame, size_t len,
	     const struct xh_expect *e, char *why, size_t why_len)
{
	struct why w = { .p = why, .cap = why_len };
	struct xh_delta d;
	unsigned i;
	int err;

	if (why_len)
		why[0] = '\0';
	err = xh_run_delta(h, frame, len, &d);
	if (err)
		return err;
	if (e->counted_len)
		len = e->counted_len;
	if (d.verdict != e->verdict)
		why_add(&w, "verdict %s, expected %s; ", xh_verdict_name(d.verdict),
			xh_verdict_name(e->verdict));
	for (i = 0; i < XM_STAT_MAX; i++) {
		bool want = e->stats & (1u << i);

		if (d.stats[i].packets != (want ? 1 : 0) || d.stats[i].bytes != (want ? len : 0))
			why_add(&w, "%s +%llu pkt +%llu B, expected +%u +%zu; ",
				xm_stat_name(i), (unsigned long long)d.stats[i].packets,
				(unsigned long long)d.stats[i].bytes, want ? 1 : 0, want ? len : 0);
	}
	for (i = 0; i < h->nbind; i++) {
		bool want = (int)i == e->binding;

		if (!h->bind[i].used)
			continue;
		if (d.bind[i].packets != (want ? 1 : 0) || d.bind[i].bytes != (want ? len : 0))
			why_add(&w, "binding #%u +%llu pkt +%llu B, expected +%u +%zu; ",
				i, (unsigned long long)d.bind[i].packets,
				(unsigned long long)d.bind[i].bytes, want ? 1 : 0, want ? len : 0);
	}
	if (e->binding != XH_NONE &&
	    (e->binding < 0 || (unsigned)e->binding >= h->nbind || !h->bind[e->binding].used))
		why_add(&w, "expected binding #%d does not exist; ", e->binding);
	return w.n ? -EDOM : 0;
}

size_t xh_counted_len(size_t frame_len, size_t ip_end)
{
	if (frame_len > XH_LINEAR_MAX && ip_end <= XH_LINEAR_MAX)
		return XH_LINEAR_MAX;
	return frame_len;
}
