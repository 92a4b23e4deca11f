// SPDX-License-Identifier: MIT
/*
 * Attach and detach the demultiplexer through libxdp, so other XDP programs
 * can share the device, and pin its maps for later processes (the CLI, the
 * runtime). Our program is recognised on a device by its name.
 */
#include <errno.h>
#include <linux/ethtool.h>
#include <linux/sockios.h>
#include <net/if.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>
#include <bpf/libbpf.h>
#include <xdp/libxdp.h>

#include "ctl_internal.h"
#include "xdpmux.skel.h"

const char *xm_mode_name(enum xm_attach_mode mode)
{
	switch (mode) {
	case XM_MODE_AUTO: return "auto";
	case XM_MODE_NATIVE: return "native";
	case XM_MODE_GENERIC: return "generic";
	}
	return "unknown";
}

int xm_mode_parse(const char *s, enum xm_attach_mode *mode)
{
	if (!strcmp(s, "auto"))
		*mode = XM_MODE_AUTO;
	else if (!strcmp(s, "native"))
		*mode = XM_MODE_NATIVE;
	else if (!strcmp(s, "generic"))
		*mode = XM_MODE_GENERIC;
	else
		return -EINVAL;
	return 0;
}

/* libbpf and libxdp print warnings to stderr by default; the library must
 * not print, so both are silenced for the duration of a call. */
static int quiet_libbpf(enum libbpf_print_level l, const char *f, va_list ap)
{
	(void)l; (void)f; (void)ap;
	return 0;
}

static int quiet_libxdp(enum libxdp_print_level l, const char *f, va_list ap)
{
	(void)l; (void)f; (void)ap;
	return 0;
}

struct quiet {
	libbpf_print_fn_t bpf;
	libxdp_print_fn_t xdp;
};

static struct quiet quiet_begin(void)
{
	struct quiet q = {
		.bpf = libbpf_set_print(quiet_libbpf),
		.xdp = libxdp_set_print(quiet_libxdp),
	};
	return q;
}

static void quiet_end(struct quiet q)
{
	libbpf_set_print(q.bpf);
	libxdp_set_print(q.xdp);
}

static bool dev_is_veth(const char *dev)
{
	struct ethtool_drvinfo info = { .cmd = ETHTOOL_GDRVINFO };
	struct ifreq ifr = {};
	bool veth = false;
	int fd;

	fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return false;
	snprintf(ifr.ifr_name, sizeof(ifr.ifr_name), "%s", dev);
	ifr.ifr_data = (void *)&info;
	if (!ioctl(fd, SIOCETHTOOL, &ifr))
		veth = !strcmp(info.driver, "veth");
	close(fd);
	return veth;
}

/*
 * The one place AUTO is resolved. veth -> GENERIC: native XDP on veth turns
 * off GRO/TSO on the path, which costs kernel TCP most of its throughput
 * (measured by the team, see bench/). Anything else -> NATIVE, and the caller
 * falls back to GENERIC when the driver has no native XDP (EOPNOTSUPP).
 */
static enum xm_attach_mode mode_auto_choice(const char *dev)
{
	return dev_is_veth(dev) ? XM_MODE_GENERIC : XM_MODE_NATIVE;
}

static enum xdp_attach_mode to_xdp_mode(enum xm_attach_mode m)
{
	return m == XM_MODE_GENERIC ? XDP_MODE_SKB : XDP_MODE_NATIVE;
}

static bool is_ours(const struct xdp_program *p)
{
	const char *name = p ? xdp_program__name(p) : NULL;

	return name && !strcmp(name, XM_PROG_NAME);
}

/* Our program among those on ifindex: returned so the caller may detach it. */
static struct xdp_program *find_ours(struct xdp_multiprog *mp)
{
	struct xdp_program *p;

	if (xdp_multiprog__is_legacy(mp)) {
		p = xdp_multiprog__main_prog(mp);
		return is_ours(p) ? p : NULL;
	}
	for (p = xdp_multiprog__next_prog(NULL, mp); p;
	     p = xdp_multiprog__next_prog(p, mp))
		if (is_ours(p))
			return p;
	return NULL;
}

static struct xdp_multiprog *multiprog_get(int ifindex)
{
	struct xdp_multiprog *mp = xdp_multiprog__get_from_ifindex(ifindex);

	return libxdp_get_error(mp) ? NULL : mp;
}

int xm_find_prog(int ifindex, uint32_t *prog_id, enum xm_attach_mode *mode)
{
	struct quiet q = quiet_begin();
	struct xdp_multiprog *mp = multiprog_get(ifindex);
	struct xdp_program *p = mp ? find_ours(mp) : NULL;
	int found = p != NULL;

	if (p) {
		*prog_id = xdp_program__id(p);
		*mode = xdp_multiprog__attach_mode(mp) == XDP_MODE_SKB ?
			XM_MODE_GENERIC : XM_MODE_NATIVE;
	}
	if (mp)
		xdp_multiprog__close(mp);
	quiet_end(q);
	return found;
}

static int pin_maps(struct xdpmux *skel, const char *dev)
{
	const struct {
		struct bpf_map *map;
		const char *name;
	} maps[] = {
		{ skel->maps.bindings, XM_MAP_BINDINGS },
		{ skel->maps.binding_stats, XM_MAP_BINDING_STATS },
		{ skel->maps.data_port_index, XM_MAP_PORT_INDEX },
		{ skel->maps.xsks, XM_MAP_XSKS },
		{ skel->maps.stats, XM_MAP_STATS },
		{ skel->maps.frags4, XM_MAP_FRAGS4 },
		{ skel->maps.frags6, XM_MAP_FRAGS6 },
		{ skel->maps.syn_budget, XM_MAP_SYN_BUDGET },
	};
	char path[128];
	size_t i;
	int err;

	for (i = 0; i < sizeof(maps) / sizeof(maps[0]); i++) {
		err = xm_pins_map_path(dev, maps[i].name, path, sizeof(path));
		if (err)
			return err;
		err = bpf_map__pin(maps[i].map, path);
		if (err)
			return err;
		if (chmod(path, 0600))
			return -errno;
	}
	return 0;
}

static int attach_prog(struct xdp_program *prog, int ifindex,
		       enum xm_attach_mode mode)
{
	return xdp_program__attach(prog, ifindex, to_xdp_mode(mode), 0);
}

/* Called with the root lock held and nothing of ours on the device. */
static int attach_locked(const char *dev, int ifindex, enum xm_attach_mode mode,
			 enum xm_attach_mode *used)
{
	struct xdp_program *prog = NULL;
	struct xdpmux *skel;
	char dir[128];
	int err;

	err = xm_pins_dir(dev, dir, sizeof(dir));
	if (err)
		return err;
	/* Pins without a program: left by a device that went away. */
	err = xm_pins_remove(dev);
	if (err)
		return err;

	skel = xdpmux__open();
	if (!skel)
		return errno ? -errno : -ENOMEM;
	{
		DECLARE_LIBXDP_OPTS(xdp_program_opts, opts,
				    .obj = skel->obj, .prog_name = XM_PROG_NAME);
		prog = xdp_program__create(&opts);
	}
	err = (int)libxdp_get_error(prog);
	if (err) {
		prog = NULL;
		goto out;
	}

	if (mode == XM_MODE_AUTO) {
		mode = mode_auto_choice(dev);
		err = attach_prog(prog, ifindex, mode);
		if (err == -EOPNOTSUPP && mode == XM_MODE_NATIVE) {
			mode = XM_MODE_GENERIC;
			err = attach_prog(prog, ifindex, mode);
		}
	} else {
		err = attach_prog(prog, ifindex, mode);
	}
	if (err)
		goto out;

	if (mkdir(dir, 0700) && errno != EEXIST)
		err = -errno;
	else
		err = pin_maps(skel, dev);
	if (err) {
		/* Leave nothing behind: neither pins nor the program. */
		xm_pins_remove(dev);
		xdp_program__detach(prog, ifindex, to_xdp_mode(mode), 0);
		goto out;
	}
	if (used)
		*used = mode;
out:
	if (prog)
		xdp_program__close(prog);
	xdpmux__destroy(skel);
	return err;
}

int xm_ctl_attach(const char *dev, enum xm_attach_mode mode,
		  enum xm_attach_mode *used)
{
	enum xm_attach_mode cur;
	struct quiet q;
	uint32_t id;
	int ifindex, lock, err;

	err = xm_pins_dev_valid(dev);
	if (err)
		return -ENODEV;
	ifindex = if_nametoindex(dev);
	if (!ifindex)
		return -ENODEV;
	err = xm_pins_ensure_root();
	if (err)
		return err;
	lock = xm_pins_lock_path(XM_PIN_ROOT);
	if (lock < 0)
		return lock;
	if (xm_find_prog(ifindex, &id, &cur)) {
		err = -EEXIST;
	} else {
		q = quiet_begin();
		err = attach_locked(dev, ifindex, mode, used);
		quiet_end(q);
	}
	xm_pins_unlock_fd(lock);
	return err;
}

int xm_ctl_detach(const char *dev)
{
	struct xdp_multiprog *mp = NULL;
	struct xdp_program *p = NULL;
	struct stat st;
	char dir[128];
	struct quiet q;
	int ifindex, lock, devlock, err;
	bool pinned;

	err = xm_pins_dir(dev, dir, sizeof(dir));
	if (err)
		return -ENODEV;
	ifindex = if_nametoindex(dev);
	pinned = !stat(dir, &st);
	if (!ifindex && !pinned)
		return -ENODEV;
	lock = xm_pins_lock_path(XM_PIN_ROOT);
	if (lock < 0)
		return lock == -ENOENT ? -ENOENT : lock;

	q = quiet_begin();
	if (ifindex) {
		mp = multiprog_get(ifindex);
		p = mp ? find_ours(mp) : NULL;
	}
	if (!p && !pinned) {
		err = -ENOENT;
		goto out;
	}
	if (p) {
		if (xdp_multiprog__is_legacy(mp))
			err = xdp_multiprog__detach(mp);
		else
			err = xdp_program__detach(p, ifindex,
						  xdp_multiprog__attach_mode(mp), 0);
		if (err)
			goto out;
	}
	if (pinned) {
		/* Wait for writers on the device (a bind in flight) to finish. */
		devlock = xm_pins_lock_path(dir);
		err = xm_pins_remove(dev);
		xm_pins_unlock_fd(devlock);
	}
out:
	if (mp)
		xdp_multiprog__close(mp);
	quiet_end(q);
	xm_pins_unlock_fd(lock);
	return err;
}
