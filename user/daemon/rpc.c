// SPDX-License-Identifier: MIT
/*
 * Requests of the daemon's programs: bind and unbind ports (within the
 * policy, and never a port a kernel socket or another program uses), ask
 * the kernel to resolve a neighbour, and status.
 */
#include <endian.h>
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>
#include <netinet/in.h>

#include "../lib/control/policy.h"
#include "../lib/daemon/msg.h"
#include "../lib/link/netlink.h"
#include <unistd.h>
#include <xdpmux/xdpmux.h>
#include "daemon.h"

static int refuse(struct xmd *d, struct xmd_client *c, struct xmd_bind *r,
		  int err, const char *why)
{
	r->h.err = err;
	snprintf(r->msg, sizeof(r->msg), "%s", why);
	xmd_log(d, "refused %s/%u to pid %d (%s, uid %u): %s",
		r->proto == IPPROTO_TCP ? "tcp" : "udp", r->port, (int)c->pid,
		c->comm, (unsigned)c->uid, why);
	return 0;
}

static int bind_port(struct xmd *d, struct xmd_client *c, struct xmd_bind *r)
{
	struct xm_binding_key key = { 0 };
	struct xm_binding_val val;
	struct xm_conflict k;
	char why[XMD_ERRMSG];
	int err;

	if ((r->proto != IPPROTO_UDP && r->proto != IPPROTO_TCP) || !r->port ||
	    r->fallback > XM_FALLBACK_DROP)
		return refuse(d, c, r, -EINVAL, "malformed bind request");
	/* Ephemeral ports (xdpmux's own range, which the kernel never hands
	 * out) are every program's, as the kernel's are every process's. */
	if ((uint32_t)r->port < XM_EPHEMERAL_FIRST &&
	    !xm_policy_port_allowed(d->policy, c->uid, c->gid, r->port)) {
		snprintf(why, sizeof(why), "port %u is outside what the policy allows "
			 "uid %u", r->port, (unsigned)c->uid);
		return refuse(d, c, r, -EACCES, why);
	}
	key.proto = r->proto;
	key.family = XM_FAMILY_ANY;
	key.port = htobe16(r->port);
	if (xm_ctl_port_conflict(&key, &k) == 1) {
		snprintf(why, sizeof(why), "the port is used by a kernel socket (pid %d, %s)",
			 (int)k.pid, k.comm[0] ? k.comm : "?");
		return refuse(d, c, r, -EADDRINUSE, why);
	}
	err = xm_ctl_bind_as(d->ctl, &key, (enum xm_fallback)r->fallback, c->pid, c->slot);
	if (err == -EEXIST && !xm_ctl_lookup(d->ctl, &key, &val)) {
		if (val.owner_slot == c->slot) {
			r->h.err = 0;
			return 0;
		}
		if (!val.owner_pid)
			snprintf(why, sizeof(why), "the port is bound statically (xdpmux "
				 "bind); xdpmux unbind it first");
		else
			snprintf(why, sizeof(why), "the port is bound by pid %u",
				 val.owner_pid);
		return refuse(d, c, r, -EADDRINUSE, why);
	}
	if (err) {
		snprintf(why, sizeof(why), "bindings map: %s", strerror(-err));
		return refuse(d, c, r, err, why);
	}
	c->bindings++;
	if (d->verbose)
		xmd_log(d, "bound %s/%u for pid %d (%s)",
			r->proto == IPPROTO_TCP ? "tcp" : "udp", r->port, (int)c->pid, c->comm);
	r->h.err = 0;
	return 0;
}

static int unbind_port(struct xmd *d, struct xmd_client *c, struct xmd_bind *r)
{
	struct xm_binding_key key = { 0 };
	struct xm_binding_val val;

	key.proto = r->proto;
	key.family = XM_FAMILY_ANY;
	key.port = htobe16(r->port);
	r->h.err = xm_ctl_lookup(d->ctl, &key, &val);
	if (!r->h.err && val.owner_slot != c->slot)
		r->h.err = -EPERM;   /* not its binding */
	if (!r->h.err)
		r->h.err = xm_ctl_unbind(d->ctl, &key);
	if (!r->h.err && c->bindings)
		c->bindings--;
	return 0;
}

static int status(struct xmd *d, struct xmd_status_reply *r)
{
	uint32_t n = 0;

	memset(r, 0, sizeof(*r));
	r->h.op = XMD_STATUS;
	r->pid = (uint32_t)getpid();
	r->n_queues = d->n_pools;
	r->frames = d->frames;
	for (uint32_t pi = 0; pi < d->n_pools; pi++)
		xmd_pool_accounting(d, &d->pools[pi], r);
	for (uint32_t s = 1; s < XM_MAX_OWNERS && n < XMD_STATUS_MAX_CLIENTS; s++) {
		struct xmd_client *c = d->clients[s];
		struct xmd_status_client *o = &r->c[n];

		if (!c || !c->ready)
			continue;
		o->pid = (uint32_t)c->pid;
		o->uid = (uint32_t)c->uid;
		o->owner_slot = c->slot;
		o->sockets = d->n_pools;
		o->bindings = c->bindings;
		memcpy(o->comm, c->comm, sizeof(o->comm));
		for (uint32_t pi = 0; pi < d->n_pools; pi++) {
			const struct xmd_client_q *q = &c->q[pi];

			o->frames_held += xmd_client_frames(&d->pools[pi], q);
			o->tx_queued += __atomic_load_n(q->tx_view.producer, __ATOMIC_ACQUIRE) -
					__atomic_load_n(q->tx_view.consumer, __ATOMIC_ACQUIRE);
			o->give_pending += xmd_ring_pending(q->chan + xmd_chan_give_off());
		}
		n++;
	}
	r->n_clients = n;
	return 0;
}

int xmd_rpc(struct xmd *d, struct xmd_client *c, const void *msg, size_t len)
{
	const struct xmd_hdr *h = msg;

	switch (h->op) {
	case XMD_BIND:
	case XMD_UNBIND: {
		struct xmd_bind r;

		if (len < sizeof(r))
			return -EPROTO;
		memcpy(&r, msg, sizeof(r));
		r.msg[0] = 0;
		if (h->op == XMD_BIND)
			bind_port(d, c, &r);
		else
			unbind_port(d, c, &r);
		return xmd_send(c->sock, &r, sizeof(r), NULL, 0);
	}
	case XMD_NEIGH_USE: {
		struct xmd_neigh r;

		if (len < sizeof(r))
			return -EPROTO;
		memcpy(&r, msg, sizeof(r));
		r.h.err = r.family == AF_INET || r.family == AF_INET6 ?
			  xm_nl_neigh_use(d->nl, d->ifindex, (int)r.family, r.addr) :
			  -EAFNOSUPPORT;
		return xmd_send(c->sock, &r, sizeof(r), NULL, 0);
	}
	case XMD_STATUS: {
		static struct xmd_status_reply r;

		status(d, &r);
		return xmd_send(c->sock, &r, sizeof(r), NULL, 0);
	}
	default:
		return -EPROTO;
	}
}
