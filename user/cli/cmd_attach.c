// SPDX-License-Identifier: MIT
/* xdpmux attach | detach | status: the program on a device. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "../lib/daemon/proto.h"
#include "cli.h"

static const char *const dev_name[] = { "DEV" };

int cmd_attach(struct cli *cli, int argc, char **argv)
{
	const char *mode_s = NULL;
	const struct cli_opt opts[] = {
		{ "mode", 'm', &mode_s, NULL },
		{ 0 },
	};
	enum xm_attach_mode mode = XM_MODE_AUTO, used = XM_MODE_AUTO;
	char *pos[1];
	int n, r, err;

	r = cli_parse(cli, argc, argv, opts, pos, 1, 1, &n, dev_name);
	if (r)
		return r;
	if (mode_s && xm_mode_parse(mode_s, &mode))
		return cli_usage_err(cli, "invalid mode '%s': expected auto, native or generic",
				     mode_s);
	r = cli_require_privileges(cli);
	if (r)
		return r;

	err = xm_ctl_attach(pos[0], mode, &used);
	switch (err) {
	case 0:
		printf("%s: attached in %s mode\n", pos[0], xm_mode_name(used));
		return CLI_OK;
	case -ENODEV:
		cli_err("attach %s: no such device", pos[0]);
		break;
	case -EEXIST:
		cli_err("attach %s: xdpmux is already attached; run 'xdpmux detach %s' "
			"first to re-attach", pos[0], pos[0]);
		break;
	case -EOPNOTSUPP:
		cli_err("attach %s: the driver has no native XDP support (%s); "
			"use --mode generic", pos[0], strerror(-err));
		break;
	case -EBUSY:
		cli_err("attach %s: another XDP program holds the device in a way "
			"libxdp cannot share (%s); remove it first", pos[0], strerror(-err));
		break;
	case -EPERM:
	case -EACCES:
		cli_err("attach %s: %s; xdpmux needs root (CAP_BPF, CAP_NET_ADMIN, "
			"CAP_SYS_ADMIN to mount bpffs)", pos[0], strerror(-err));
		break;
	default:
		cli_err("attach %s in %s mode: %s", pos[0], xm_mode_name(mode),
			strerror(-err));
	}
	return CLI_FAIL;
}

int cmd_detach(struct cli *cli, int argc, char **argv)
{
	char *pos[1];
	int n, r, err;

	r = cli_parse(cli, argc, argv, NULL, pos, 1, 1, &n, dev_name);
	if (r)
		return r;
	r = cli_require_privileges(cli);
	if (r)
		return r;
	err = xm_ctl_detach(pos[0]);
	switch (err) {
	case 0:
		printf("%s: detached\n", pos[0]);
		return CLI_OK;
	case -ENODEV:
		cli_err("detach %s: no such device", pos[0]);
		break;
	case -ENOENT:
		cli_err("detach %s: xdpmux is not attached to %s", pos[0], pos[0]);
		break;
	default:
		cli_err("detach %s: %s", pos[0], strerror(-err));
	}
	return CLI_FAIL;
}

static void status_json(struct json *j, const struct xm_dev_status *st,
			const struct xmd_status_reply *dr)
{
	json_obj_begin(j, NULL);
	json_str(j, "dev", st->dev);
	json_i64(j, "ifindex", st->ifindex);
	json_bool(j, "attached", st->attached);
	json_str(j, "mode", st->attached ? xm_mode_name(st->mode) : NULL);
	if (st->attached)
		json_u64(j, "prog_id", st->prog_id);
	else
		json_null(j, "prog_id");
	json_u64(j, "bindings", st->bindings);
	json_u64(j, "stale", st->stale);
	if (dr)
		daemon_status_json(j, dr);
	else
		json_null(j, "daemon");
	json_obj_end(j);
}

static void status_row(struct table *t, const struct xm_dev_status *st,
		       const struct xmd_status_reply *dr)
{
	table_cell(t, "%s", st->dev);
	table_cell(t, "%d", st->ifindex);
	table_cell(t, "%s", st->attached ? "attached" : st->ifindex ? "detached" :
		   "device gone");
	table_cell(t, "%s", st->attached ? xm_mode_name(st->mode) : "-");
	if (st->attached)
		table_cell(t, "%u", st->prog_id);
	else
		table_cell(t, "-");
	table_cell(t, "%u", st->bindings);
	table_cell(t, "%u", st->stale);
	if (dr)
		table_cell(t, "pid %u, %u client(s)", dr->pid, dr->n_clients);
	else
		table_cell(t, "-");
}

int cmd_status(struct cli *cli, int argc, char **argv)
{
	char *pos[1] = { NULL }, (*devs)[32] = NULL;
	struct xmd_status_reply *daemons = NULL;
	bool *has_daemon = NULL;
	struct table *t = NULL;
	struct json j;
	size_t ndev, i;
	int n, r, err;

	r = cli_parse(cli, argc, argv, NULL, pos, 0, 1, &n, dev_name);
	if (r)
		return r;
	r = cli_require_privileges(cli);
	if (r)
		return r;
	r = cli_devices(cli, pos[0], &devs, &ndev);
	if (r)
		return r;

	if (cli->json) {
		json_init(&j, stdout);
		json_obj_begin(&j, NULL);
		json_arr_begin(&j, "devices");
	} else {
		t = table_new();
		table_col(t, "DEV", false);
		table_col(t, "IFINDEX", true);
		table_col(t, "STATE", false);
		table_col(t, "MODE", false);
		table_col(t, "PROG_ID", true);
		table_col(t, "BINDINGS", true);
		table_col(t, "STALE", true);
		table_col(t, "DAEMON", false);
	}
	daemons = calloc(ndev ? ndev : 1, sizeof(*daemons));
	has_daemon = calloc(ndev ? ndev : 1, sizeof(*has_daemon));
	if (!daemons || !has_daemon) {
		cli_err("status: out of memory");
		r = CLI_FAIL;
		ndev = 0;
	}
	for (i = 0; i < ndev; i++) {
		struct xm_dev_status st;

		err = xm_ctl_status(devs[i], &st);
		/* Without DEV, pins whose device went away still show. */
		if (err == -ENODEV && !pos[0]) {
			memset(&st, 0, sizeof(st));
			snprintf(st.dev, sizeof(st.dev), "%s", devs[i]);
		} else if (err == -ENODEV) {
			cli_err("status %s: no such device", devs[i]);
			r = CLI_FAIL;
			break;
		} else if (err) {
			cli_err("status %s: %s", devs[i], strerror(-err));
			r = CLI_FAIL;
			break;
		}
		has_daemon[i] = daemon_status(devs[i], &daemons[i]) == 0;
		if (cli->json)
			status_json(&j, &st, has_daemon[i] ? &daemons[i] : NULL);
		else
			status_row(t, &st, has_daemon[i] ? &daemons[i] : NULL);
	}
	if (r == CLI_OK) {
		if (cli->json) {
			json_arr_end(&j);
			json_obj_end(&j);
		} else {
			table_print(t, stdout);
			for (i = 0; i < ndev; i++)
				if (has_daemon[i])
					daemon_status_print(stdout, devs[i], &daemons[i]);
		}
	}
	table_free(t);
	free(daemons);
	free(has_daemon);
	free(devs);
	return r;
}
