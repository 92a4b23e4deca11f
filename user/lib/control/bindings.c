// SPDX-License-Identifier: MIT
/*
 * Bindings in the pinned maps: add, remove, list, collect stale ones. Three
 * maps move together under the device's writer lock: `bindings` (the record
 * of each binding: owner, fallback, and its slot), `binding_stats` (per-CPU
 * counters in an array indexed by the slot, so the XDP program reaches them
 * without hashing; a slot's counters are zeroed when a binding takes it) and
 * `port_index` (which kinds of binding exist for a (proto, port), and the
 * wildcard binding's slot, owner slot and fallback, so that neither an
 * unbound packet nor one to a wildcard binding costs a hash lookup). A
 * binding is written before port_index points at it and port_index is
 * recomputed only after it is gone, so the program never follows
 * port_index to a missing binding for longer than one update.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <time.h>
#include <bpf/bpf.h>

#include "ctl_internal.h"

static bool zero(const uint8_t *p, size_t n)
{
	while (n--)
		if (*p++)
			return false;
	return true;
}

static int key_check(const struct xm_binding_key *k)
{
	if (k->proto != IPPROTO_UDP && k->proto != IPPROTO_TCP)
		return -EINVAL;
	if (k->port == 0)
		return -EINVAL;
	switch (k->family) {
	case XM_FAMILY_ANY:
		return zero(k->addr, 16) ? 0 : -EINVAL;
	case XM_FAMILY_INET:
		return zero(k->addr + 4, 12) ? 0 : -EINVAL;
	case XM_FAMILY_INET6:
		return 0;
	}
	return -EINVAL;
}

static uint32_t port_index_slot(uint8_t proto, __be16 port)
{
	uint32_t slot = proto == IPPROTO_TCP ? XM_PROTO_SLOT_TCP : XM_PROTO_SLOT_UDP;

	return slot << 16 | ntohs(port);
}

/* Collect every key in the bindings map; *keys malloc'd. */
static int keys_all(struct xm_ctl *ctl, struct xm_binding_key **keys, size_t *n)
{
	struct xm_binding_key cur, next, *out = NULL, *grown;
	size_t cnt = 0, cap = 0;
	void *prev = NULL;

	while (!bpf_map_get_next_key(ctl->bindings_fd, prev, &next)) {
		if (cnt == cap) {
			cap = cap ? 2 * cap : 64;
			grown = realloc(out, cap * sizeof(*out));
			if (!grown) {
				free(out);
				return -ENOMEM;
			}
			out = grown;
		}
		out[cnt++] = next;
		cur = next;
		prev = &cur;
	}
	if (errno != ENOENT) {
		free(out);
		return -errno;
	}
	*keys = out;
	*n = cnt;
	return 0;
}

_Static_assert(sizeof(struct xm_port_entry) == sizeof(uint32_t),
	       "a port_index entry is written with one store");

/* Entry idx of port_index (the program's global array, one map element
 * mapped whole) set to e, in one store: the program never sees half an
 * entry. */
static int port_index_store(int fd, uint32_t idx, const struct xm_port_entry *e)
{
	size_t len = (size_t)XM_PORT_INDEX_ENTRIES * sizeof(*e);
	struct xm_port_entry *tab;
	uint32_t v;

	tab = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	if (tab == MAP_FAILED)
		return -errno;
	memcpy(&v, e, sizeof(v));
	__atomic_store_n((uint32_t *)&tab[idx], v, __ATOMIC_RELEASE);
	munmap(tab, len);
	return 0;
}

/* port_index[(proto, port)] from the bindings that exist now. */
static int port_index_recompute(struct xm_ctl *ctl, uint8_t proto, __be16 port)
{
	uint32_t idx = port_index_slot(proto, port);
	struct xm_port_entry e = { 0 };
	struct xm_binding_key *keys;
	struct xm_binding_val val;
	size_t n, i;
	int err;

	err = keys_all(ctl, &keys, &n);
	if (err)
		return err;
	for (i = 0; i < n; i++) {
		if (keys[i].proto != proto || keys[i].port != port)
			continue;
		if (keys[i].family != XM_FAMILY_ANY) {
			e.kinds |= XM_PORT_ADDRESSED;
			continue;
		}
		/* Gone since the key walk: only under another writer, which
		 * the lock excludes; then it has no bit either. */
		if (bpf_map_lookup_elem(ctl->bindings_fd, &keys[i], &val))
			continue;
		e.kinds |= XM_PORT_WILDCARD;
		if (val.fallback == XM_FALLBACK_DROP)
			e.kinds |= XM_PORT_DROP;
		e.owner = (uint8_t)val.owner_slot;
		e.slot = (uint16_t)val.slot;
	}
	free(keys);
	return port_index_store(ctl->port_index_fd, idx, &e);
}

/* The lowest binding_stats slot no binding holds; -ENOSPC when none. */
static int slot_pick(struct xm_ctl *ctl, uint32_t *slot)
{
	uint8_t *held = calloc(XM_MAX_BINDINGS, 1);
	struct xm_binding_key *keys;
	struct xm_binding_val val;
	size_t n, i;
	int err;

	if (!held)
		return -ENOMEM;
	err = keys_all(ctl, &keys, &n);
	if (err) {
		free(held);
		return err;
	}
	for (i = 0; i < n; i++)
		if (!bpf_map_lookup_elem(ctl->bindings_fd, &keys[i], &val) &&
		    val.slot < XM_MAX_BINDINGS)
			held[val.slot] = 1;
	free(keys);
	err = -ENOSPC;
	for (i = 0; i < XM_MAX_BINDINGS; i++) {
		if (!held[i]) {
			*slot = (uint32_t)i;
			err = 0;
			break;
		}
	}
	free(held);
	return err;
}

static int stats_reset(struct xm_ctl *ctl, uint32_t slot)
{
	struct xm_binding_stats *zeroed = calloc(ctl->ncpus, sizeof(*zeroed));
	int err = 0;

	if (!zeroed)
		return -ENOMEM;
	if (bpf_map_update_elem(ctl->binding_stats_fd, &slot, zeroed, BPF_ANY))
		err = -errno;
	free(zeroed);
	return err;
}

/* val's slot is ours to choose: whatever the caller had in it (a value
 * saved before an unbind) may be held by another binding by now. */
static int bind_locked(struct xm_ctl *ctl, const struct xm_binding_key *key,
		       const struct xm_binding_val *val)
{
	struct xm_binding_val v = *val;
	int err;

	err = slot_pick(ctl, &v.slot);
	if (err)
		return err;
	err = stats_reset(ctl, v.slot);
	if (err)
		return err;
	if (bpf_map_update_elem(ctl->bindings_fd, key, &v, BPF_NOEXIST))
		return errno == E2BIG ? -ENOSPC : -errno;
	err = port_index_recompute(ctl, key->proto, key->port);
	if (err)
		bpf_map_delete_elem(ctl->bindings_fd, key);
	return err;
}

int xm_ctl_bind_value(struct xm_ctl *ctl, const struct xm_binding_key *key,
		      const struct xm_binding_val *val)
{
	int err = key_check(key);

	if (err)
		return err;
	if (val->fallback != XM_FALLBACK_PASS && val->fallback != XM_FALLBACK_DROP)
		return -EINVAL;
	if (val->owner_slot >= XM_MAX_OWNERS)
		return -EINVAL;
	err = xm_ctl_lock(ctl);
	if (err)
		return err;
	err = bind_locked(ctl, key, val);
	xm_ctl_unlock(ctl);
	return err;
}

int xm_ctl_bind_as(struct xm_ctl *ctl, const struct xm_binding_key *key,
		   enum xm_fallback fallback, pid_t owner, uint32_t owner_slot)
{
	struct xm_binding_val val = { .owner_pid = (uint32_t)owner, .fallback = fallback,
				      .owner_slot = owner_slot };
	struct timespec now;
	uint64_t start;
	int err;

	if (owner < 0)
		return -EINVAL;
	if (owner) {
		err = xm_proc_start_time(owner, &start);
		if (err)
			return err;
		val.owner_start = start;
	}
	clock_gettime(CLOCK_REALTIME, &now);
	val.created_ns = (uint64_t)now.tv_sec * 1000000000ull + (uint64_t)now.tv_nsec;
	return xm_ctl_bind_value(ctl, key, &val);
}

int xm_ctl_bind(struct xm_ctl *ctl, const struct xm_binding_key *key,
		enum xm_fallback fallback, pid_t owner)
{
	return xm_ctl_bind_as(ctl, key, fallback, owner, 0);
}

static int unbind_locked(struct xm_ctl *ctl, const struct xm_binding_key *key)
{
	if (bpf_map_delete_elem(ctl->bindings_fd, key))
		return -errno;
	return port_index_recompute(ctl, key->proto, key->port);
}

int xm_ctl_unbind(struct xm_ctl *ctl, const struct xm_binding_key *key)
{
	int err = key_check(key);

	if (err)
		return err;
	err = xm_ctl_lock(ctl);
	if (err)
		return err;
	err = unbind_locked(ctl, key);
	xm_ctl_unlock(ctl);
	return err;
}

int xm_ctl_lookup(struct xm_ctl *ctl, const struct xm_binding_key *key,
		  struct xm_binding_val *val)
{
	if (bpf_map_lookup_elem(ctl->bindings_fd, key, val))
		return -errno;
	return 0;
}

static int stats_sum(struct xm_ctl *ctl, uint32_t slot, struct xm_binding_stats *sum)
{
	struct xm_binding_stats *per = calloc(ctl->ncpus, sizeof(*per));
	int i, err = 0;

	memset(sum, 0, sizeof(*sum));
	if (!per)
		return -ENOMEM;
	/* ENOENT: a slot out of range (a value not written by us): none. */
	if (bpf_map_lookup_elem(ctl->binding_stats_fd, &slot, per)) {
		err = errno == ENOENT ? 0 : -errno;
	} else {
		for (i = 0; i < ctl->ncpus; i++) {
			sum->packets += per[i].packets;
			sum->bytes += per[i].bytes;
		}
	}
	free(per);
	return err;
}

int xm_ctl_binding_stats(struct xm_ctl *ctl, const struct xm_binding_key *key,
			 struct xm_binding_stats *sum)
{
	struct xm_binding_val val;

	if (bpf_map_lookup_elem(ctl->bindings_fd, key, &val))
		return -errno;
	return stats_sum(ctl, val.slot, sum);
}

static int binding_cmp(const void *a, const void *b)
{
	const struct xm_binding_key *x = &((const struct xm_binding *)a)->key;
	const struct xm_binding_key *y = &((const struct xm_binding *)b)->key;

	if (x->proto != y->proto)
		return x->proto - y->proto;
	if (x->port != y->port)
		return ntohs(x->port) - ntohs(y->port);
	if (x->family != y->family)
		return x->family - y->family;
	return memcmp(x->addr, y->addr, sizeof(x->addr));
}

int xm_ctl_list(struct xm_ctl *ctl, struct xm_binding **out, size_t *n)
{
	struct xm_binding_key *keys;
	struct xm_binding *list;
	size_t nkeys, i, cnt = 0;
	int err;

	*out = NULL;
	*n = 0;
	err = keys_all(ctl, &keys, &nkeys);
	if (err)
		return err;
	list = calloc(nkeys ? nkeys : 1, sizeof(*list));
	if (!list) {
		free(keys);
		return -ENOMEM;
	}
	for (i = 0; i < nkeys; i++) {
		struct xm_binding *b = &list[cnt];

		b->key = keys[i];
		/* Gone since the key walk (another writer): not listed. */
		if (bpf_map_lookup_elem(ctl->bindings_fd, &b->key, &b->val))
			continue;
		err = stats_sum(ctl, b->val.slot, &b->stats);
		if (err)
			break;
		b->stale = b->val.owner_pid != 0 &&
			   !xm_owner_alive(b->val.owner_pid, b->val.owner_start);
		cnt++;
	}
	free(keys);
	if (err) {
		free(list);
		return err;
	}
	qsort(list, cnt, sizeof(*list), binding_cmp);
	*out = list;
	*n = cnt;
	return 0;
}

/* Remove, under the writer lock, every binding `doomed` picks. */
static int unbind_where(struct xm_ctl *ctl, bool (*doomed)(const struct xm_binding *b,
							   uint32_t arg),
			uint32_t arg, size_t *removed)
{
	struct xm_binding *list;
	size_t n, i;
	int err;

	*removed = 0;
	err = xm_ctl_lock(ctl);
	if (err)
		return err;
	err = xm_ctl_list(ctl, &list, &n);
	for (i = 0; !err && i < n; i++) {
		if (!doomed(&list[i], arg))
			continue;
		err = unbind_locked(ctl, &list[i].key);
		if (err == -ENOENT) /* its owner unbound it meanwhile */
			err = 0;
		else if (!err)
			(*removed)++;
	}
	free(list);
	xm_ctl_unlock(ctl);
	return err;
}

static bool is_stale(const struct xm_binding *b, uint32_t unused)
{
	(void)unused;
	return b->stale;
}

static bool of_owner_slot(const struct xm_binding *b, uint32_t owner_slot)
{
	return b->val.owner_slot == owner_slot;
}

int xm_ctl_gc(struct xm_ctl *ctl, size_t *removed)
{
	return unbind_where(ctl, is_stale, 0, removed);
}

int xm_ctl_unbind_owner_slot(struct xm_ctl *ctl, uint32_t owner_slot, size_t *removed)
{
	*removed = 0;
	if (owner_slot >= XM_MAX_OWNERS)
		return -EINVAL;
	return unbind_where(ctl, of_owner_slot, owner_slot, removed);
}
