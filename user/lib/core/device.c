// SPDX-License-Identifier: MIT
/*
 * A stack on a real device: the AF_XDP link, the ephemeral port range check
 * and the bindings map. Everything here is what a simulated stack does not
 * have; the stack itself (stack.c) only sees the link and the port hook.
 */
#include <endian.h>
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include <xdpmux/control.h>

#include "../daemon/conn.h"
#include "stack.h"

#define PORT_RANGE_PATH    "/proc/sys/net/ipv4/ip_local_port_range"
#define RESERVED_PORTS_PATH "/proc/sys/net/ipv4/ip_local_reserved_ports"
#define N_EPHEMERAL (XM_EPHEMERAL_LAST - XM_EPHEMERAL_FIRST + 1)

/* Mark in `reserved` our ephemeral ports listed in ip_local_reserved_ports
 * ("8080,61000-65535"): the kernel never picks those automatically. */
static void read_reserved(bool *reserved)
{
	FILE *f = fopen(RESERVED_PORTS_PATH, "re");
	unsigned lo, hi;
	int c;

	if (!f)
		return;
	for (;;) {
		if (fscanf(f, "%u", &lo) != 1)
			break;
		hi = lo;
		c = fgetc(f);
		if (c == '-') {
			if (fscanf(f, "%u", &hi) != 1)
				break;
			c = fgetc(f);
		}
		for (unsigned p = lo; p <= hi && p <= XM_EPHEMERAL_LAST; p++)
			if (p >= XM_EPHEMERAL_FIRST)
				reserved[p - XM_EPHEMERAL_FIRST] = true;
		if (c != ',')
			break;
	}
	fclose(f);
}

/* The kernel must never hand out one of our ephemeral ports: a kernel
 * socket on it would lose its traffic to the XDP program. It does not when
 * its ip_local_port_range (default 32768-60999) stays below ours, or when
 * the overlap is in ip_local_reserved_ports. */
static int check_port_range(void)
{
	bool reserved[N_EPHEMERAL];
	unsigned lo, hi;
	FILE *f = fopen(PORT_RANGE_PATH, "re");
	int n;

	if (!f)
		return -errno;
	n = fscanf(f, "%u %u", &lo, &hi);
	fclose(f);
	if (n != 2)
		return -EINVAL;
	if (hi < XM_EPHEMERAL_FIRST || lo > XM_EPHEMERAL_LAST)
		return 0;
	memset(reserved, 0, sizeof(reserved));
	read_reserved(reserved);
	for (unsigned p = lo > XM_EPHEMERAL_FIRST ? lo : XM_EPHEMERAL_FIRST;
	     p <= hi && p <= XM_EPHEMERAL_LAST; p++)
		if (!reserved[p - XM_EPHEMERAL_FIRST])
			return -EADDRINUSE;
	return 0;
}

/* The port hook of a device stack: each UDP/TCP port the stack binds goes
 * into the device's bindings map (wildcard address), owned by this pid.
 * A port a kernel socket already uses is refused (EADDRINUSE), as the CLI
 * refuses it: steering it here would take that socket's traffic. */
static int ctl_port_hook(void *ctx, int proto, int family, const void *addr,
			 uint16_t port, bool bind)
{
	struct xm_ctl *ctl = ctx;
	struct xm_binding_key key;

	(void)family;
	(void)addr;
	memset(&key, 0, sizeof(key));
	key.proto = (uint8_t)proto;
	key.family = XM_FAMILY_ANY;
	key.port = htobe16(port);
	if (bind) {
		struct xm_conflict c;

		/* A failed check (no /proc) cannot tell: bind anyway. */
		if (xm_ctl_port_conflict(&key, &c) == 1)
			return -EADDRINUSE;
		return xm_ctl_bind(ctl, &key, XM_FALLBACK_PASS, getpid());
	}
	return xm_ctl_unbind(ctl, &key);
}

/* The port hook of a stack the daemon serves: the daemon binds for it,
 * within its policy, owned by this program's slot. */
static int daemon_port_hook(void *ctx, int proto, int family, const void *addr,
			    uint16_t port, bool bind)
{
	(void)family;
	(void)addr;
	return xmd_conn_bind(ctx, proto, port, bind);
}

static int daemon_stack_open(const char *dev, struct xmd_conn *conn,
			     struct xm_stack_opts *so, struct xm_stack **out)
{
	struct xm_clock clock = xm_clock_monotonic();
	struct xm_link *link;
	int r;

	r = xm_link_shared_open(dev, conn, &link);
	if (r < 0)
		return r;
	if (!so->bind_hook) {
		so->bind_hook = daemon_port_hook;
		so->hook_ctx = conn;   /* lives as long as the link */
	}
	return xm_stack_open_link(link, &clock, so, out);
}

int xm_stack_open(const char *dev, const struct xm_stack_opts *o,
		  struct xm_stack **out)
{
	struct xm_stack_opts so = o ? *o : (struct xm_stack_opts)XM_STACK_OPTS_INIT;
	struct xm_afxdp_opts ao = { 0 };
	struct xm_clock clock = xm_clock_monotonic();
	struct xm_link *link;
	struct xm_ctl *ctl;
	size_t removed;
	int r;

	if (!dev || !out)
		return -EINVAL;
	if (!so.skip_port_range_check) {
		r = check_port_range();
		if (r < 0)
			return r;
	}
	/* A daemon serving the device shares it; without one, open it alone. */
	{
		struct xmd_conn *conn;

		r = xmd_conn_open(dev, &conn);
		if (!r)
			return daemon_stack_open(dev, conn, &so, out);
		if (r != -ENOENT)
			return r;
	}
	r = xm_ctl_open(dev, &ctl);
	if (r < 0)
		return r;
	/* Bindings of dead owners would steer their ports to nobody. */
	r = xm_ctl_gc(ctl, &removed);
	if (r < 0)
		goto fail_ctl;
	if (so.syn_rate) {
		r = xm_ctl_set_syn_budget(dev, so.syn_rate, so.syn_burst ? so.syn_burst :
					  (so.syn_rate >= 10 ? so.syn_rate / 10 : 1));
		if (r < 0)
			goto fail_ctl;
	}
	ao.queue_first = so.queue_first;
	ao.queue_count = so.queue_count;
	ao.frames = so.frames;
	ao.copy_mode = so.zerocopy > 0 ? XM_AFXDP_ZEROCOPY :
		       so.zerocopy < 0 ? XM_AFXDP_COPY : XM_AFXDP_AUTO;
	ao.busy_poll = so.busy_poll;
	ao.no_multibuf = so.no_multibuf;
	ao.no_gso = so.no_tso || xm_stack_tso_env_off();
	r = xm_link_afxdp_open(dev, &ao, &link);
	if (r < 0)
		goto fail_ctl;
	if (!so.bind_hook) {
		so.bind_hook = ctl_port_hook;
		so.hook_ctx = ctl;
	}
	r = xm_stack_open_link(link, &clock, &so, out);
	if (r < 0)
		goto fail_ctl;   /* the stack closed the link */
	(*out)->ctl = ctl;
	return 0;
fail_ctl:
	xm_ctl_close(ctl);
	return r;
}
