// SPDX-License-Identifier: MIT
/*
 * Pinned maps under XM_PIN_ROOT/<dev>/: the bpffs mount, the directories
 * (root only, 0700), opening pins, removing them, the list of attached
 * devices, and the directory locks that serialise writers.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/magic.h>
#include <net/if.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/vfs.h>
#include <unistd.h>
#include <bpf/bpf.h>

#include "ctl_internal.h"

#define XM_BPFFS "/sys/fs/bpf"

const char *const xm_pinned_maps[] = {
	XM_MAP_BINDINGS, XM_MAP_BINDING_STATS, XM_MAP_PORT_INDEX,
	XM_MAP_XSKS, XM_MAP_STATS, XM_MAP_FRAGS4, XM_MAP_FRAGS6,
	XM_MAP_SYN_BUDGET,
};
const size_t xm_pinned_maps_n = sizeof(xm_pinned_maps) / sizeof(xm_pinned_maps[0]);

/* Maps earlier builds pinned and this one does not: removed with the rest,
 * so that a device attached before an upgrade detaches cleanly instead of
 * keeping a directory rmdir cannot remove. */
static const char *const retired_maps[] = {
	"frags",   /* fragments of both families, before frags4 and frags6 */
};

/* A device name becomes a path component: refuse anything that could walk. */
int xm_pins_dev_valid(const char *dev)
{
	size_t len = dev ? strlen(dev) : 0;

	if (len == 0 || len >= IFNAMSIZ || strchr(dev, '/') ||
	    !strcmp(dev, ".") || !strcmp(dev, ".."))
		return -EINVAL;
	return 0;
}

int xm_pins_dir(const char *dev, char *buf, size_t len)
{
	int n, err = xm_pins_dev_valid(dev);

	if (err)
		return err;
	n = snprintf(buf, len, "%s/%s", XM_PIN_ROOT, dev);
	return n < 0 || (size_t)n >= len ? -ENAMETOOLONG : 0;
}

int xm_pins_map_path(const char *dev, const char *map, char *buf, size_t len)
{
	int n, err = xm_pins_dev_valid(dev);

	if (err)
		return err;
	n = snprintf(buf, len, "%s/%s/%s", XM_PIN_ROOT, dev, map);
	return n < 0 || (size_t)n >= len ? -ENAMETOOLONG : 0;
}

static int is_bpffs(const char *path)
{
	struct statfs fs;

	if (statfs(path, &fs))
		return -errno;
	return fs.f_type == BPF_FS_MAGIC;
}

static int mkdir_private(const char *path)
{
	if (mkdir(path, 0700) && errno != EEXIST)
		return -errno;
	/* An existing directory may have been made with a looser umask. */
	if (chmod(path, 0700))
		return -errno;
	return 0;
}

int xm_pins_ensure_root(void)
{
	int r = is_bpffs(XM_BPFFS);

	if (r < 0)
		return r;
	if (!r && mount("bpf", XM_BPFFS, "bpf", 0, "mode=0700"))
		return -errno;
	return mkdir_private(XM_PIN_ROOT);
}

static int unpin(const char *dev, const char *map)
{
	char path[128];
	int err = xm_pins_map_path(dev, map, path, sizeof(path));

	if (err)
		return err;
	if (unlink(path) && errno != ENOENT)
		return -errno;
	return 0;
}

int xm_pins_remove(const char *dev)
{
	char path[128];
	size_t i;
	int err;

	for (i = 0; i < xm_pinned_maps_n; i++) {
		err = unpin(dev, xm_pinned_maps[i]);
		if (err)
			return err;
	}
	for (i = 0; i < sizeof(retired_maps) / sizeof(retired_maps[0]); i++) {
		err = unpin(dev, retired_maps[i]);
		if (err)
			return err;
	}
	err = xm_pins_dir(dev, path, sizeof(path));
	if (err)
		return err;
	if (rmdir(path) && errno != ENOENT)
		return -errno;
	return 0;
}

int xm_pins_open_map(const char *dev, const char *map)
{
	char path[128];
	int fd, err = xm_pins_map_path(dev, map, path, sizeof(path));

	if (err)
		return err;
	fd = bpf_obj_get(path);
	return fd < 0 ? -errno : fd;
}

int xm_pins_lock_path(const char *path)
{
	int fd = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);

	if (fd < 0)
		return -errno;
	while (flock(fd, LOCK_EX)) {
		if (errno != EINTR) {
			int err = -errno;

			close(fd);
			return err;
		}
	}
	return fd;
}

void xm_pins_unlock_fd(int fd)
{
	if (fd >= 0)
		close(fd); /* closing the last fd drops the flock */
}

static int dev_cmp(const void *a, const void *b)
{
	return strcmp(a, b);
}

int xm_ctl_devices(char (**devs)[32], size_t *n)
{
	char (*out)[32] = NULL, (*grown)[32];
	size_t cap = 0, cnt = 0;
	struct dirent *de;
	char path[128];
	DIR *d;

	*devs = NULL;
	*n = 0;
	d = opendir(XM_PIN_ROOT);
	if (!d)
		return errno == ENOENT ? 0 : -errno;
	while ((de = readdir(d))) {
		struct stat st;

		if (xm_pins_dev_valid(de->d_name) || de->d_name[0] == '.')
			continue;
		/* Only directories that hold our bindings map are ours. */
		if (xm_pins_map_path(de->d_name, XM_MAP_BINDINGS, path, sizeof(path)) ||
		    stat(path, &st))
			continue;
		if (cnt == cap) {
			cap = cap ? 2 * cap : 8;
			grown = realloc(out, cap * sizeof(*out));
			if (!grown) {
				free(out);
				closedir(d);
				return -ENOMEM;
			}
			out = grown;
		}
		/* xm_pins_dev_valid bounded the name below IFNAMSIZ. */
		memcpy(out[cnt++], de->d_name, strlen(de->d_name) + 1);
	}
	closedir(d);
	if (cnt)
		qsort(out, cnt, sizeof(*out), dev_cmp);
	*devs = out;
	*n = cnt;
	return 0;
}
