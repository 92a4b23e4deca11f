// SPDX-License-Identifier: MIT
/*
 * The devices a command covers (one named, or every attached one), opening
 * their maps with a report of what went wrong, and snapshots of their
 * bindings and counters for list and stats.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"

/* The reason an open failed, with what to do about it. */
void cli_report_open(const char *what, const char *dev, int err)
{
	if (err == -ENODEV)
		cli_err("%s: no such device", what);
	else if (err == -ENOENT)
		cli_err("%s: xdpmux is not attached to %s; run 'xdpmux attach %s' first",
			what, dev, dev);
	else if (err == -EPROTO)
		cli_err("%s: the pinned maps under %s/%s were made by another version of "
			"xdpmux; run 'xdpmux detach %s' and attach again",
			what, XM_PIN_ROOT, dev, dev);
	else if (err == -EACCES || err == -EPERM)
		cli_err("%s: cannot open the pinned maps under %s/%s: %s; run as root",
			what, XM_PIN_ROOT, dev, strerror(-err));
	else
		cli_err("%s: cannot open the pinned maps under %s/%s: %s",
			what, XM_PIN_ROOT, dev, strerror(-err));
}

/* `cmd` names the command; errors read "CMD DEV: why". */
int cli_ctl_open(const char *cmd, const char *dev, struct xm_ctl **ctl)
{
	char what[64];
	int err = xm_ctl_open(dev, ctl);

	if (err) {
		snprintf(what, sizeof(what), "%s %s", cmd, dev);
		cli_report_open(what, dev, err);
		return CLI_FAIL;
	}
	return CLI_OK;
}

int cli_devices(const struct cli *cli, const char *dev, char (**devs)[32], size_t *n)
{
	int err;

	if (dev) {
		*devs = calloc(1, sizeof(**devs));
		if (!*devs) {
			cli_err("%s: out of memory", cli->cmd->name);
			return CLI_FAIL;
		}
		snprintf((*devs)[0], sizeof((*devs)[0]), "%s", dev);
		*n = 1;
		return CLI_OK;
	}
	err = xm_ctl_devices(devs, n);
	if (err) {
		cli_err("%s: cannot list the attached devices under %s: %s",
			cli->cmd->name, XM_PIN_ROOT, strerror(-err));
		return CLI_FAIL;
	}
	return CLI_OK;
}

void cli_snapshots_free(struct cli_snapshot *s, size_t n)
{
	size_t i;

	for (i = 0; s && i < n; i++)
		free(s[i].list);
	free(s);
}

/* A device that vanished since it was attached is skipped when no DEV was
 * named, so one stale pin directory does not fail the whole listing. */
int cli_snapshots(const struct cli *cli, const char *dev, bool counters,
		  struct cli_snapshot **out, size_t *nout)
{
	char (*devs)[32], what[64];
	struct cli_snapshot *all;
	struct xm_ctl *ctl;
	size_t ndev, i, cnt = 0;
	int r, err;

	r = cli_devices(cli, dev, &devs, &ndev);
	if (r)
		return r;
	all = calloc(ndev ? ndev : 1, sizeof(*all));
	if (!all) {
		free(devs);
		cli_err("%s: out of memory", cli->cmd->name);
		return CLI_FAIL;
	}
	for (i = 0; i < ndev; i++) {
		struct cli_snapshot *s = &all[cnt];

		snprintf(what, sizeof(what), "%s %s", cli->cmd->name, devs[i]);
		err = xm_ctl_open(devs[i], &ctl);
		if (err == -ENODEV && !dev)
			continue;
		if (err) {
			cli_report_open(what, devs[i], err);
			r = CLI_FAIL;
			break;
		}
		snprintf(s->dev, sizeof(s->dev), "%s", devs[i]);
		err = xm_ctl_list(ctl, &s->list, &s->n);
		if (!err && counters)
			err = xm_ctl_stats(ctl, s->stats);
		xm_ctl_close(ctl);
		cnt++;
		if (err) {
			cli_err("%s: cannot read the maps: %s", what, strerror(-err));
			r = CLI_FAIL;
			break;
		}
	}
	free(devs);
	if (r) {
		cli_snapshots_free(all, cnt);
		return r;
	}
	*out = all;
	*nout = cnt;
	return CLI_OK;
}
