/* SPDX-License-Identifier: MIT */
/*
 * libxdpmux control plane: attach the XDP program to a device, and manage the
 * bindings in its pinned maps. Used by the `xdpmux` CLI and by the runtime
 * (xm_bind / xm_close). Every function returns 0 or a negative errno and
 * never prints: the caller reports.
 */
#ifndef XDPMUX_CONTROL_H
#define XDPMUX_CONTROL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>
#include <xdpmux/maps.h>

enum xm_attach_mode {
	XM_MODE_AUTO = 0,
	XM_MODE_NATIVE,
	XM_MODE_GENERIC,
};

const char *xm_mode_name(enum xm_attach_mode mode);
int xm_mode_parse(const char *s, enum xm_attach_mode *mode);

/* Attach the demultiplexer to dev (through libxdp, so other XDP programs may
 * share the device) and pin its maps under XM_PIN_ROOT/<dev>/, mounting bpffs
 * if needed. `used` receives the mode actually attached (AUTO resolved).
 * -EEXIST: already attached. */
int xm_ctl_attach(const char *dev, enum xm_attach_mode mode,
		  enum xm_attach_mode *used);
/* Detach and remove every pin and directory attach created. -ENOENT: not
 * attached. */
int xm_ctl_detach(const char *dev);

struct xm_dev_status {
	char dev[32];
	int ifindex;
	bool attached;            /* our program is on the device */
	enum xm_attach_mode mode; /* NATIVE or GENERIC when attached */
	uint32_t prog_id;
	unsigned bindings;
	unsigned stale;
};
int xm_ctl_status(const char *dev, struct xm_dev_status *st);
/* Devices with pins under XM_PIN_ROOT; *devs is malloc'd (free it). */
int xm_ctl_devices(char (**devs)[32], size_t *n);

/* An open handle on one attached device's pinned maps. */
struct xm_ctl;
/* -ENODEV: no such device; -ENOENT: device not attached; -EPROTO: its
 * pinned maps have another layout than this library's (another version of
 * xdpmux attached them: detach and attach again). */
int xm_ctl_open(const char *dev, struct xm_ctl **ctl);
/* The same control on the maps of a program loaded but not attached or
 * pinned (unit tests, benchmarks through BPF_PROG_TEST_RUN): the fds are
 * duplicated, the caller keeps its own. No writer lock: one writer only. */
struct xm_ctl_maps {
	int bindings, binding_stats, port_index, xsks, stats;
};
int xm_ctl_open_maps(const struct xm_ctl_maps *maps, struct xm_ctl **ctl);
void xm_ctl_close(struct xm_ctl *ctl);
int xm_ctl_xsks_fd(const struct xm_ctl *ctl);
const char *xm_ctl_dev(const struct xm_ctl *ctl);
/* The device's writer lock (flock on its pin directory), which bind, unbind
 * and gc take for each call. Hold it across several calls that must not
 * interleave with another writer (a range bind, check-then-bind). Nests. */
int xm_ctl_lock(struct xm_ctl *ctl);
void xm_ctl_unlock(struct xm_ctl *ctl);

/* Add one binding, owned by `owner` (0: nobody, made by an operator), for
 * owner slot 0 (the device's standalone owner). -EEXIST: already bound;
 * -ENOSPC: map full. Keeps port_index in step. */
int xm_ctl_bind(struct xm_ctl *ctl, const struct xm_binding_key *key,
		enum xm_fallback fallback, pid_t owner);
/* The same for owner slot `owner_slot`: the binding's packets go to that
 * slot's socket on their rx queue (XM_XSK_KEY). -EINVAL: owner_slot >=
 * XM_MAX_OWNERS; other errors as xm_ctl_bind. */
int xm_ctl_bind_as(struct xm_ctl *ctl, const struct xm_binding_key *key,
		   enum xm_fallback fallback, pid_t owner, uint32_t owner_slot);
/* Add one binding with a complete value, e.g. to restore one that unbind
 * removed (its counters start again from zero). Errors as xm_ctl_bind_as. */
int xm_ctl_bind_value(struct xm_ctl *ctl, const struct xm_binding_key *key,
		      const struct xm_binding_val *val);
/* The value of one binding. -ENOENT: not bound. */
int xm_ctl_lookup(struct xm_ctl *ctl, const struct xm_binding_key *key,
		  struct xm_binding_val *val);
/* Counters of one binding, summed over CPUs. -ENOENT: not bound. */
int xm_ctl_binding_stats(struct xm_ctl *ctl, const struct xm_binding_key *key,
			 struct xm_binding_stats *sum);
/* -ENOENT: not bound. */
int xm_ctl_unbind(struct xm_ctl *ctl, const struct xm_binding_key *key);

struct xm_binding {
	struct xm_binding_key key;
	struct xm_binding_val val;
	struct xm_binding_stats stats;  /* summed over CPUs */
	bool stale;                     /* owner pid gone (or reused) */
};
/* All bindings, sorted by (proto, port, family, addr); *out malloc'd. */
int xm_ctl_list(struct xm_ctl *ctl, struct xm_binding **out, size_t *n);
/* Remove bindings whose owner died; *removed counts them. */
int xm_ctl_gc(struct xm_ctl *ctl, size_t *removed);
/* Remove every binding of owner slot owner_slot, under the writer lock
 * (the daemon, when a client goes, and for bindings a previous daemon
 * left); *removed counts them. -EINVAL: owner_slot >= XM_MAX_OWNERS. */
int xm_ctl_unbind_owner_slot(struct xm_ctl *ctl, uint32_t owner_slot, size_t *removed);
/* The SYN budget of the attached program (struct xm_syn_budget): at most
 * syns_per_s SYNs a second to bound TCP ports, per CPU, in bursts of up to
 * burst; 0 syns_per_s: no budget. Device-wide: the last call wins. */
int xm_ctl_set_syn_budget(const char *dev, uint64_t syns_per_s, uint64_t burst);
/* Counters summed over CPUs, indexed by enum xm_stat. */
int xm_ctl_stats(struct xm_ctl *ctl, struct xm_stat_val out[XM_STAT_MAX]);
const char *xm_stat_name(enum xm_stat s);
/* true for the verdict counters (pass, redirect, drop, malformed), false for
 * the reason counters. */
bool xm_stat_is_verdict(enum xm_stat s);

/* Owner liveness: a pid is live when it exists and its start time matches.
 * xm_proc_start_time: -ESRCH when the pid does not exist. pid 0 (no owner)
 * is never live; list reports such bindings as static, never stale. */
int xm_proc_start_time(pid_t pid, uint64_t *start);
/* The program name of pid (/proc/PID/comm) into buf. -ESRCH: no such pid. */
int xm_proc_comm(pid_t pid, char *buf, size_t len);
bool xm_owner_alive(uint32_t pid, uint64_t start);

/* A kernel socket already using (proto, port[, addr]) in this namespace. */
struct xm_conflict {
	pid_t pid;        /* 0 when no process could be found */
	char comm[32];
};
/* 1 and *c filled when a kernel socket listens on (UDP: is bound to) the
 * port on the binding's address or a wildcard; 0 when free. */
int xm_ctl_port_conflict(const struct xm_binding_key *key, struct xm_conflict *c);

#endif /* XDPMUX_CONTROL_H */
