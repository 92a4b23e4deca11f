// SPDX-License-Identifier: MIT
/*
 * xdpmux bind | unbind | list | gc: the bindings of a device. A range is
 * checked whole before anything is written, under the device's writer lock,
 * and a write that still fails half-way is rolled back, so a failed command
 * changes nothing.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"

static const char *const bind_names[] = { "DEV", "PROTOCOL (udp or tcp)", "PORT" };
static const char *const dev_name[] = { "DEV" };

/* The command line of bind and unbind, parsed. */
struct bind_args {
	const char *dev;
	struct xm_binding_key key;   /* port: the range start */
	uint16_t lo, hi;
	enum xm_fallback fallback;
	bool force;
};

static int parse_bind_args(struct cli *cli, int argc, char **argv, bool bind,
			   struct bind_args *a)
{
	const char *addr = NULL, *fallback = NULL;
	const struct cli_opt bind_opts[] = {
		{ "addr", 'a', &addr, NULL },
		{ "fallback", 0, &fallback, NULL },
		{ "force", 'f', NULL, &a->force },
		{ 0 },
	};
	const struct cli_opt unbind_opts[] = {
		{ "addr", 'a', &addr, NULL },
		{ 0 },
	};
	char *pos[3];
	int n, r;

	memset(a, 0, sizeof(*a));
	r = cli_parse(cli, argc, argv, bind ? bind_opts : unbind_opts, pos, 3, 3, &n,
		      bind_names);
	if (r)
		return r;
	a->dev = pos[0];
	r = cli_parse_proto(cli, pos[1], &a->key.proto);
	if (!r)
		r = cli_parse_ports(cli, pos[2], &a->lo, &a->hi);
	if (!r && addr)
		r = cli_parse_addr(cli, addr, &a->key);
	if (!r && fallback)
		r = cli_parse_fallback(cli, fallback, &a->fallback);
	if (r)
		return r;
	return cli_require_privileges(cli);
}

static struct xm_binding_key key_at(const struct bind_args *a, uint32_t port)
{
	struct xm_binding_key k = a->key;

	k.port = htons((uint16_t)port);
	return k;
}

static void report_bind(const char *verb, const char *dev,
			const struct xm_binding_key *k, int err)
{
	char ks[80];

	cli_key_str(k, ks, sizeof(ks));
	if (err == -EEXIST)
		cli_err("%s %s %s: already bound; unbind it first", verb, dev, ks);
	else if (err == -ENOENT)
		cli_err("%s %s %s: not bound", verb, dev, ks);
	else if (err == -ENOSPC)
		cli_err("%s %s %s: the binding table is full (%d bindings); unbind "
			"some first", verb, dev, ks, XM_MAX_BINDINGS);
	else
		cli_err("%s %s %s: %s", verb, dev, ks, strerror(-err));
}

/* Everything that would make the range fail, before any write. */
static int bind_check(struct xm_ctl *ctl, const struct bind_args *a)
{
	struct xm_binding_val val;
	struct xm_conflict c;
	uint32_t p;
	char ks[80];
	int r;

	for (p = a->lo; p <= a->hi; p++) {
		struct xm_binding_key k = key_at(a, p);

		r = xm_ctl_lookup(ctl, &k, &val);
		if (r != -ENOENT) {
			report_bind("bind", a->dev, &k, r ? r : -EEXIST);
			return CLI_FAIL;
		}
		if (a->force)
			continue;
		r = xm_ctl_port_conflict(&k, &c);
		if (r < 0) {
			cli_err("bind %s %s: cannot check for kernel sockets on the port: "
				"%s; pass --force to skip the check", a->dev,
				cli_key_str(&k, ks, sizeof(ks)), strerror(-r));
			return CLI_FAIL;
		}
		if (r == 1) {
			cli_key_str(&k, ks, sizeof(ks));
			if (c.pid)
				cli_err("bind %s %s: port already used by a kernel socket "
					"(pid %d, %s); stop it or pass --force", a->dev, ks,
					(int)c.pid, c.comm);
			else
				cli_err("bind %s %s: port already used by a kernel socket; "
					"stop it or pass --force", a->dev, ks);
			return CLI_FAIL;
		}
	}
	return CLI_OK;
}

int cmd_bind(struct cli *cli, int argc, char **argv)
{
	struct bind_args a;
	struct xm_ctl *ctl;
	uint32_t p, q;
	int r, err;

	r = parse_bind_args(cli, argc, argv, true, &a);
	if (r)
		return r;
	r = cli_ctl_open("bind", a.dev, &ctl);
	if (r)
		return r;
	err = xm_ctl_lock(ctl);
	if (err) {
		cli_err("bind %s: cannot lock %s/%s: %s", a.dev, XM_PIN_ROOT, a.dev,
			strerror(-err));
		xm_ctl_close(ctl);
		return CLI_FAIL;
	}
	r = bind_check(ctl, &a);
	for (p = a.lo; r == CLI_OK && p <= a.hi; p++) {
		struct xm_binding_key k = key_at(&a, p);

		err = xm_ctl_bind(ctl, &k, a.fallback, 0);
		if (!err)
			continue;
		report_bind("bind", a.dev, &k, err);
		for (q = a.lo; q < p; q++) {
			k = key_at(&a, q);
			xm_ctl_unbind(ctl, &k);
		}
		r = CLI_FAIL;
	}
	xm_ctl_unlock(ctl);
	xm_ctl_close(ctl);
	return r;
}

int cmd_unbind(struct cli *cli, int argc, char **argv)
{
	struct xm_binding_val *saved;
	struct bind_args a;
	struct xm_ctl *ctl;
	uint32_t p, q;
	int r, err;

	r = parse_bind_args(cli, argc, argv, false, &a);
	if (r)
		return r;
	r = cli_ctl_open("unbind", a.dev, &ctl);
	if (r)
		return r;
	saved = calloc((size_t)(a.hi - a.lo) + 1, sizeof(*saved));
	err = saved ? xm_ctl_lock(ctl) : -ENOMEM;
	if (err) {
		cli_err("unbind %s: %s", a.dev, strerror(-err));
		free(saved);
		xm_ctl_close(ctl);
		return CLI_FAIL;
	}
	/* Every port of the range must be bound; keep the values to restore. */
	for (p = a.lo; r == CLI_OK && p <= a.hi; p++) {
		struct xm_binding_key k = key_at(&a, p);

		err = xm_ctl_lookup(ctl, &k, &saved[p - a.lo]);
		if (err) {
			report_bind("unbind", a.dev, &k, err);
			r = CLI_FAIL;
		}
	}
	for (p = a.lo; r == CLI_OK && p <= a.hi; p++) {
		struct xm_binding_key k = key_at(&a, p);

		err = xm_ctl_unbind(ctl, &k);
		if (!err)
			continue;
		report_bind("unbind", a.dev, &k, err);
		for (q = a.lo; q < p; q++) {
			k = key_at(&a, q);
			xm_ctl_bind_value(ctl, &k, &saved[q - a.lo]);
		}
		r = CLI_FAIL;
	}
	xm_ctl_unlock(ctl);
	xm_ctl_close(ctl);
	free(saved);
	return r;
}

static void binding_json(struct json *j, const char *dev, const struct xm_binding *b)
{
	char addr[INET6_ADDRSTRLEN], comm[32];

	json_obj_begin(j, NULL);
	json_str(j, "dev", dev);
	json_str(j, "proto", cli_proto_name(b->key.proto));
	json_u64(j, "port", ntohs(b->key.port));
	json_str(j, "family", cli_family_name(b->key.family));
	json_str(j, "address", b->key.family == XM_FAMILY_ANY ? NULL :
		 cli_addr_str(&b->key, addr, sizeof(addr)));
	json_str(j, "fallback", cli_fallback_name(b->val.fallback));
	json_u64(j, "owner_pid", b->val.owner_pid);
	json_str(j, "owner_comm", cli_owner_comm(b, comm, sizeof(comm)));
	json_u64(j, "owner_slot", b->val.owner_slot);
	json_str(j, "state", cli_binding_state(b));
	json_u64(j, "created_ns", b->val.created_ns);
	json_u64(j, "packets", b->stats.packets);
	json_u64(j, "bytes", b->stats.bytes);
	json_obj_end(j);
}

static void binding_row(struct table *t, const char *dev, const struct xm_binding *b)
{
	char addr[INET6_ADDRSTRLEN], comm[32];

	table_cell(t, "%s", dev);
	table_cell(t, "%s", cli_proto_name(b->key.proto));
	table_cell(t, "%u", ntohs(b->key.port));
	table_cell(t, "%s", cli_addr_str(&b->key, addr, sizeof(addr)));
	table_cell(t, "%s", cli_fallback_name(b->val.fallback));
	if (b->val.owner_pid)
		table_cell(t, "%u", b->val.owner_pid);
	else
		table_cell(t, "-");
	table_cell(t, "%s", cli_owner_comm(b, comm, sizeof(comm)));
	table_cell(t, "%u", b->val.owner_slot);
	table_cell(t, "%s", cli_binding_state(b));
	table_cell(t, "%llu", (unsigned long long)b->stats.packets);
	table_cell(t, "%llu", (unsigned long long)b->stats.bytes);
}

int cmd_list(struct cli *cli, int argc, char **argv)
{
	struct cli_snapshot *all;
	char *pos[1] = { NULL };
	struct table *t;
	struct json j;
	size_t ndev, d, i;
	int n, r;

	r = cli_parse(cli, argc, argv, NULL, pos, 0, 1, &n, dev_name);
	if (!r)
		r = cli_require_privileges(cli);
	if (!r)
		r = cli_snapshots(cli, pos[0], false, &all, &ndev);
	if (r)
		return r;
	if (cli->json) {
		json_init(&j, stdout);
		json_obj_begin(&j, NULL);
		json_arr_begin(&j, "bindings");
		for (d = 0; d < ndev; d++)
			for (i = 0; i < all[d].n; i++)
				binding_json(&j, all[d].dev, &all[d].list[i]);
		json_arr_end(&j);
		json_obj_end(&j);
	} else {
		t = table_new();
		table_col(t, "DEV", false);
		table_col(t, "PROTO", false);
		table_col(t, "PORT", true);
		table_col(t, "ADDRESS", false);
		table_col(t, "FALLBACK", false);
		table_col(t, "OWNER", true);
		table_col(t, "PROGRAM", false);
		table_col(t, "SLOT", true);
		table_col(t, "STATE", false);
		table_col(t, "PACKETS", true);
		table_col(t, "BYTES", true);
		for (d = 0; d < ndev; d++)
			for (i = 0; i < all[d].n; i++)
				binding_row(t, all[d].dev, &all[d].list[i]);
		table_print(t, stdout);
		table_free(t);
	}
	cli_snapshots_free(all, ndev);
	return CLI_OK;
}

int cmd_gc(struct cli *cli, int argc, char **argv)
{
	char *pos[1] = { NULL }, (*devs)[32], what[64];
	size_t ndev, i, total = 0, *removed;
	struct xm_ctl *ctl;
	struct json j;
	int n, r, err;

	r = cli_parse(cli, argc, argv, NULL, pos, 0, 1, &n, dev_name);
	if (!r)
		r = cli_require_privileges(cli);
	if (!r)
		r = cli_devices(cli, pos[0], &devs, &ndev);
	if (r)
		return r;
	removed = calloc(ndev ? ndev : 1, sizeof(*removed));
	for (i = 0; removed && i < ndev; i++) {
		snprintf(what, sizeof(what), "gc %s", devs[i]);
		err = xm_ctl_open(devs[i], &ctl);
		if (err == -ENODEV && !pos[0]) {
			devs[i][0] = '\0'; /* device gone: nothing to collect */
			continue;
		}
		if (err) {
			cli_report_open(what, devs[i], err);
			r = CLI_FAIL;
			break;
		}
		err = xm_ctl_gc(ctl, &removed[i]);
		xm_ctl_close(ctl);
		total += removed[i];
		if (err) {
			cli_err("%s: %s (after removing %zu stale binding(s))", what,
				strerror(-err), removed[i]);
			r = CLI_FAIL;
			break;
		}
	}
	if (!removed) {
		cli_err("gc: out of memory");
		r = CLI_FAIL;
	}
	if (r == CLI_OK && cli->json) {
		json_init(&j, stdout);
		json_obj_begin(&j, NULL);
		json_arr_begin(&j, "devices");
		for (i = 0; i < ndev; i++) {
			if (!devs[i][0])
				continue;
			json_obj_begin(&j, NULL);
			json_str(&j, "dev", devs[i]);
			json_u64(&j, "removed", removed[i]);
			json_obj_end(&j);
		}
		json_arr_end(&j);
		json_u64(&j, "removed", total);
		json_obj_end(&j);
	} else if (r == CLI_OK) {
		for (i = 0; i < ndev; i++)
			if (devs[i][0])
				printf("%s: removed %zu stale binding(s)\n", devs[i], removed[i]);
	}
	free(removed);
	free(devs);
	return r;
}
