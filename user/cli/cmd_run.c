// SPDX-License-Identifier: MIT
/*
 * xdpmux run DEV [--ports LIST] [--spin-us N] -- PROGRAM [ARGS]: run an
 * unmodified program with libxdpmux-preload.so, which moves its TCP and
 * UDP sockets on DEV onto the xdpmux stack. The settings reach the library
 * through the environment (XDPMUX_RUN_*); this command checks them, so that
 * a mistake is reported here rather than inside the program.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <limits.h>
#include <net/if.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli.h"

#ifndef XM_PRELOAD_DIR
#define XM_PRELOAD_DIR "/usr/local/lib/xdpmux"
#endif
#define PRELOAD_NAME "libxdpmux-preload.so"

/* Next to the xdpmux binary (the build tree), else where make install
 * puts it. */
static int find_preload(char *out, size_t len)
{
	char exe[PATH_MAX - sizeof(PRELOAD_NAME) - 1];
	ssize_t n = readlink("/proc/self/exe", exe, sizeof(exe) - 1);
	char *slash;

	if (n > 0) {
		exe[n] = '\0';
		slash = strrchr(exe, '/');
		if (slash) {
			*slash = '\0';
			if (snprintf(out, len, "%s/%s", exe, PRELOAD_NAME) < (int)len &&
			    !access(out, R_OK))
				return 0;
		}
	}
	snprintf(out, len, "%s/%s", XM_PRELOAD_DIR, PRELOAD_NAME);
	return access(out, R_OK) ? -ENOENT : 0;
}

/* "80,443,8000-8100": each item checked; the list passes on as given. */
static int check_ports(const struct cli *cli, const char *list)
{
	char *copy = strdup(list), *save = NULL, *item;
	int r = CLI_OK, n = 0;

	if (!copy) {
		cli_err("run: out of memory");
		return CLI_FAIL;
	}
	for (item = strtok_r(copy, ",", &save); item && r == CLI_OK;
	     item = strtok_r(NULL, ",", &save)) {
		uint16_t lo, hi;

		r = cli_parse_ports(cli, item, &lo, &hi);
		n++;
	}
	free(copy);
	if (r == CLI_OK && (!n || n > 64))
		r = cli_usage_err(cli, "--ports takes 1 to 64 ports or ranges, comma-separated");
	return r;
}

int cmd_run(struct cli *cli, int argc, char **argv)
{
	static const char *const names[] = { "DEV" };
	const char *ports = NULL, *spin = NULL, *old;
	const struct cli_opt opts[] = {
		{ "ports", 'p', &ports, NULL },
		{ "spin-us", 0, &spin, NULL },
		{ 0 },
	};
	char so[PATH_MAX], *pre, *pos[1] = { NULL }, *end;
	struct xm_ctl *ctl;
	int dd, n, r;

	for (dd = 1; dd < argc && strcmp(argv[dd], "--"); dd++)
		;
	/* Without "--" the program's name would read as a second DEV. */
	if (dd == argc) {
		for (int i = 1; i < argc; i++)
			if (!strcmp(argv[i], "-h") || !strcmp(argv[i], "--help"))
				return cli_parse(cli, argc, argv, opts, pos, 1, 1, &n, names);
		return cli_usage_err(cli, "missing '-- PROGRAM [ARGS]'");
	}
	r = cli_parse(cli, dd, argv, opts, pos, 1, 1, &n, names);
	if (r)
		return r;
	if (dd >= argc - 1)
		return cli_usage_err(cli, "missing '-- PROGRAM [ARGS]'");
	if (ports && (r = check_ports(cli, ports)))
		return r;
	if (spin) {
		errno = 0;
		unsigned long v = strtoul(spin, &end, 10);

		if (errno || *end || !*spin || v > 1000000)
			return cli_usage_err(cli, "--spin-us takes 0 to 1000000, not '%s'", spin);
	}
	if (!if_nametoindex(pos[0])) {
		cli_err("run: no device '%s'", pos[0]);
		return CLI_FAIL;
	}
	/* Through a device daemon the program needs no privilege (the daemon
	 * holds them and applies its policy); alone, it needs root and the
	 * demultiplexer on DEV: say so now, not as a line from inside the
	 * program. */
	if (!daemon_serves(pos[0])) {
		if (cli_require_privileges(cli))
			return CLI_FAIL;
		if (cli_ctl_open("run", pos[0], &ctl))
			return CLI_FAIL;
		xm_ctl_close(ctl);
	}
	if (find_preload(so, sizeof(so))) {
		cli_err("run: %s not found next to xdpmux nor in %s; build it with make",
			PRELOAD_NAME, XM_PRELOAD_DIR);
		return CLI_FAIL;
	}
	old = getenv("LD_PRELOAD");
	if (asprintf(&pre, "%s%s%s", so, old && *old ? ":" : "", old && *old ? old : "") < 0) {
		cli_err("run: out of memory");
		return CLI_FAIL;
	}
	if (setenv("LD_PRELOAD", pre, 1) || setenv("XDPMUX_RUN_DEV", pos[0], 1) ||
	    setenv("XDPMUX_RUN_PORTS", ports ? ports : "", 1) ||
	    setenv("XDPMUX_RUN_SPIN_US", spin ? spin : "0", 1)) {
		cli_err("run: cannot set the environment: %s", strerror(errno));
		return CLI_FAIL;
	}
	fflush(stdout);
	execvp(argv[dd + 1], argv + dd + 1);
	cli_err("run: cannot run '%s': %s", argv[dd + 1], strerror(errno));
	return CLI_FAIL;
}
