// SPDX-License-Identifier: MIT
/*
 * The open handle on one attached device: its pinned maps, and the writer
 * lock (flock on the pin directory) that keeps a binding and its port_index
 * bits from interleaving with another writer's.
 */
#include <errno.h>
#include <fcntl.h>
#include <net/if.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <unistd.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include "ctl_internal.h"

/* Whether a pinned map has the key and value sizes this library reads and
 * writes it with: maps pinned by another version of xdpmux may not, and
 * using them would read counters or write bindings in the wrong places. */
static int check_layout(int fd, __u32 key_size, __u32 value_size, __u32 max_entries)
{
	struct bpf_map_info info;
	__u32 len = sizeof(info);

	memset(&info, 0, sizeof(info));
	if (bpf_obj_get_info_by_fd(fd, &info, &len))
		return -errno;
	if (info.key_size != key_size || info.value_size != value_size)
		return -EPROTO;
	return !max_entries || info.max_entries == max_entries ? 0 : -EPROTO;
}

int xm_ctl_open(const char *dev, struct xm_ctl **out)
{
	struct {
		const char *name;
		int *fd;
		__u32 key_size, value_size;
		__u32 max_entries;   /* 0: any */
	} maps[5] = { { 0 } };
	struct xm_ctl *ctl;
	char dir[128];
	size_t i;
	int err;

	*out = NULL;
	if (xm_pins_dir(dev, dir, sizeof(dir)) || !if_nametoindex(dev))
		return -ENODEV;
	ctl = calloc(1, sizeof(*ctl));
	if (!ctl)
		return -ENOMEM;
	strncpy(ctl->dev, dev, sizeof(ctl->dev) - 1);
	ctl->bindings_fd = ctl->binding_stats_fd = ctl->port_index_fd = -1;
	ctl->xsks_fd = ctl->stats_fd = ctl->dir_fd = -1;
	ctl->ncpus = libbpf_num_possible_cpus();
	if (ctl->ncpus < 1) {
		err = ctl->ncpus < 0 ? ctl->ncpus : -EINVAL;
		goto fail;
	}
	ctl->dir_fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (ctl->dir_fd < 0) {
		err = errno == ENOENT ? -ENOENT : -errno;
		goto fail;
	}
	maps[0].name = XM_MAP_BINDINGS;      maps[0].fd = &ctl->bindings_fd;
	maps[0].key_size = sizeof(struct xm_binding_key);
	maps[0].value_size = sizeof(struct xm_binding_val);
	maps[1].name = XM_MAP_BINDING_STATS; maps[1].fd = &ctl->binding_stats_fd;
	maps[1].key_size = sizeof(__u32);
	maps[1].value_size = sizeof(struct xm_binding_stats);
	maps[2].name = XM_MAP_PORT_INDEX;    maps[2].fd = &ctl->port_index_fd;
	maps[2].key_size = sizeof(__u32);
	maps[2].value_size = XM_PORT_INDEX_ENTRIES * sizeof(struct xm_port_entry);
	maps[3].name = XM_MAP_XSKS;          maps[3].fd = &ctl->xsks_fd;
	maps[3].key_size = maps[3].value_size = sizeof(__u32);
	/* One row of queues per owner slot: a program from before owner
	 * slots had one row, and its port_index entries another meaning. */
	maps[3].max_entries = XM_XSK_ENTRIES;
	maps[4].name = XM_MAP_STATS;         maps[4].fd = &ctl->stats_fd;
	maps[4].key_size = sizeof(__u32);
	maps[4].value_size = sizeof(struct xm_stat_val);
	for (i = 0; i < 5; i++) {
		*maps[i].fd = xm_pins_open_map(dev, maps[i].name);
		err = *maps[i].fd < 0 ? *maps[i].fd :
		      check_layout(*maps[i].fd, maps[i].key_size, maps[i].value_size,
				   maps[i].max_entries);
		if (err)
			goto fail;
	}
	*out = ctl;
	return 0;
fail:
	xm_ctl_close(ctl);
	return err;
}

int xm_ctl_open_maps(const struct xm_ctl_maps *maps, struct xm_ctl **out)
{
	const int from[5] = { maps->bindings, maps->binding_stats, maps->port_index,
			      maps->xsks, maps->stats };
	struct xm_ctl *ctl;
	int *to[5], err;
	size_t i;

	*out = NULL;
	ctl = calloc(1, sizeof(*ctl));
	if (!ctl)
		return -ENOMEM;
	to[0] = &ctl->bindings_fd;
	to[1] = &ctl->binding_stats_fd;
	to[2] = &ctl->port_index_fd;
	to[3] = &ctl->xsks_fd;
	to[4] = &ctl->stats_fd;
	for (i = 0; i < 5; i++)
		*to[i] = -1;
	ctl->dir_fd = -1;   /* no pin directory: xm_ctl_lock only counts */
	ctl->ncpus = libbpf_num_possible_cpus();
	if (ctl->ncpus < 1) {
		err = ctl->ncpus < 0 ? ctl->ncpus : -EINVAL;
		goto fail;
	}
	for (i = 0; i < 5; i++) {
		*to[i] = fcntl(from[i], F_DUPFD_CLOEXEC, 0);
		if (*to[i] < 0) {
			err = -errno;
			goto fail;
		}
	}
	*out = ctl;
	return 0;
fail:
	xm_ctl_close(ctl);
	return err;
}

void xm_ctl_close(struct xm_ctl *ctl)
{
	int fds[6];
	size_t i;

	if (!ctl)
		return;
	fds[0] = ctl->bindings_fd;
	fds[1] = ctl->binding_stats_fd;
	fds[2] = ctl->port_index_fd;
	fds[3] = ctl->xsks_fd;
	fds[4] = ctl->stats_fd;
	fds[5] = ctl->dir_fd;   /* drops the lock if still held */
	for (i = 0; i < 6; i++)
		if (fds[i] >= 0)
			close(fds[i]);
	free(ctl);
}

int xm_ctl_xsks_fd(const struct xm_ctl *ctl)
{
	return ctl->xsks_fd;
}

const char *xm_ctl_dev(const struct xm_ctl *ctl)
{
	return ctl->dev;
}

int xm_ctl_lock(struct xm_ctl *ctl)
{
	if (ctl->lock_depth == 0 && ctl->dir_fd >= 0) {
		while (flock(ctl->dir_fd, LOCK_EX))
			if (errno != EINTR)
				return -errno;
	}
	ctl->lock_depth++;
	return 0;
}

void xm_ctl_unlock(struct xm_ctl *ctl)
{
	if (ctl->lock_depth > 0 && --ctl->lock_depth == 0 && ctl->dir_fd >= 0)
		flock(ctl->dir_fd, LOCK_UN);
}
