/* SPDX-License-Identifier: MIT */
/*
 * Private to the control library (user/lib/control/): the open handle on a
 * device's pinned maps, and the helpers the files here share.
 */
#ifndef XDPMUX_CTL_INTERNAL_H
#define XDPMUX_CTL_INTERNAL_H

#include <stddef.h>
#include <xdpmux/control.h>

#define XM_PROG_NAME "xdpmux_demux"
#define XM_DEV_MAX   32

struct xm_ctl {
	char dev[XM_DEV_MAX];
	int dir_fd;          /* the pin directory: flock'd by writers */
	int lock_depth;      /* xm_ctl_lock nesting */
	int ncpus;           /* possible CPUs: per-CPU value count */
	int bindings_fd;
	int binding_stats_fd;
	int port_index_fd;
	int xsks_fd;
	int stats_fd;
};

/* The maps attach pins, in the order it pins them. */
extern const char *const xm_pinned_maps[];
extern const size_t xm_pinned_maps_n;

/* pins.c */
int xm_pins_dev_valid(const char *dev);
int xm_pins_dir(const char *dev, char *buf, size_t len);
int xm_pins_map_path(const char *dev, const char *map, char *buf, size_t len);
int xm_pins_ensure_root(void);
int xm_pins_remove(const char *dev);
int xm_pins_open_map(const char *dev, const char *map);
/* flock(LOCK_EX) on a directory; returns the fd holding the lock. */
int xm_pins_lock_path(const char *path);
void xm_pins_unlock_fd(int fd);

/* attach.c: our program on ifindex, if any. */
int xm_find_prog(int ifindex, uint32_t *prog_id, enum xm_attach_mode *mode);

#endif /* XDPMUX_CTL_INTERNAL_H */
