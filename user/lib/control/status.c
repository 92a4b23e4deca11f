// SPDX-License-Identifier: MIT
/* One device at a glance: attached?, in which mode, how many bindings. */
#include <errno.h>
#include <net/if.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "ctl_internal.h"

int xm_ctl_status(const char *dev, struct xm_dev_status *st)
{
	struct xm_binding *list;
	struct xm_ctl *ctl;
	size_t n, i;
	int err;

	memset(st, 0, sizeof(*st));
	if (xm_pins_dev_valid(dev))
		return -ENODEV;
	snprintf(st->dev, sizeof(st->dev), "%s", dev);
	st->ifindex = (int)if_nametoindex(dev);
	if (!st->ifindex)
		return -ENODEV;
	st->attached = xm_find_prog(st->ifindex, &st->prog_id, &st->mode) == 1;

	err = xm_ctl_open(dev, &ctl);
	if (err == -ENOENT)
		return 0; /* no pins: nothing bound */
	if (err)
		return err;
	err = xm_ctl_list(ctl, &list, &n);
	xm_ctl_close(ctl);
	if (err)
		return err;
	st->bindings = (unsigned)n;
	for (i = 0; i < n; i++)
		st->stale += list[i].stale;
	free(list);
	return 0;
}
