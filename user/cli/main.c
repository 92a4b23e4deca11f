// SPDX-License-Identifier: MIT
/*
 * xdpmux: the control plane. Attaches the demultiplexer to a device and
 * manages its bindings in the pinned maps. This file dispatches to the
 * subcommands and prints the usage; the work is in cmd_*.c.
 */
#include <string.h>

#include "cli.h"

static const struct cli_cmd commands[] = {
	{ "attach", "DEV [--mode auto|native|generic]",
	  "Attach the demultiplexer to DEV and pin its maps.",
	  "  --mode MODE         auto (default: generic on veth, else native,\n"
	  "                      falling back to generic), native or generic\n",
	  false, cmd_attach },
	{ "detach", "DEV",
	  "Detach the demultiplexer from DEV and remove its pinned maps.",
	  NULL, false, cmd_detach },
	{ "status", "[DEV]",
	  "Show whether the demultiplexer is attached, in which mode, and how many\n"
	  "bindings DEV (default: every attached device) has.",
	  NULL, true, cmd_status },
	{ "bind", "DEV udp|tcp PORT[-PORT] [--addr ADDR] [--fallback pass|drop] [--force]",
	  "Steer a port (or range) to AF_XDP sockets. The binding belongs to no\n"
	  "process (state \"static\" in list) until unbound.",
	  "  --addr ADDR         only packets to this IPv4/IPv6 address (default: any)\n"
	  "  --fallback ACTION   what happens to the port's packets while no socket\n"
	  "                      is on the rx queue: pass to the kernel (default) or drop\n"
	  "  --force             bind even when a kernel socket uses the port\n",
	  false, cmd_bind },
	{ "unbind", "DEV udp|tcp PORT[-PORT] [--addr ADDR]",
	  "Remove a binding (or a range of them); the port goes back to the kernel.",
	  "  --addr ADDR         the address the binding was made with\n",
	  false, cmd_unbind },
	{ "list", "[DEV]",
	  "List the bindings of DEV (default: every attached device) with their\n"
	  "owner, state (live, stale: owner died, static: made by bind) and counters.",
	  NULL, true, cmd_list },
	{ "stats", "[DEV] [--watch SECONDS]",
	  "Show the verdict and reason counters and the per-binding counters.",
	  "  --watch SECONDS     reprint every SECONDS with per-second rates until\n"
	  "                      interrupted (with -j: one JSON document per line)\n",
	  true, cmd_stats },
	{ "gc", "[DEV]",
	  "Remove the stale bindings (whose owner process died).",
	  NULL, true, cmd_gc },
	{ "run", "DEV [--ports LIST] [--spin-us N] -- PROGRAM [ARGS]",
	  "Run an unmodified PROGRAM with its TCP and UDP sockets on DEV moved to\n"
	  "xdpmux: those that bind DEV's addresses or the wildcard, or connect to a\n"
	  "destination routed out of DEV. Every other socket stays with the kernel.\n"
	  "XDPMUX_DEBUG=1 in the environment logs each socket's decision on stderr.",
	  "  --ports LIST        only binds to these ports move (80,443,8000-8100)\n"
	  "  --spin-us N         a blocking call polls N microseconds before it sleeps\n",
	  false, cmd_run },
};
#define NCOMMANDS (sizeof(commands) / sizeof(commands[0]))

static void usage(FILE *f)
{
	size_t i;

	fputs("usage: xdpmux [-j|--json] COMMAND [ARGS]\n"
	      "       xdpmux COMMAND --help | --help | --version\n\n"
	      "Steer chosen transport ports of a device to userspace (AF_XDP) and\n"
	      "leave every other packet to the kernel.\n\ncommands:\n", f);
	for (i = 0; i < NCOMMANDS; i++)
		fprintf(f, "  %s %s\n", commands[i].name, commands[i].synopsis);
	fputs("\n-j/--json applies to the read commands (status, list, stats, gc).\n"
	      "Exit status: 0 success, 1 failure (nothing changed), 2 usage error.\n", f);
}

int main(int argc, char **argv)
{
	struct cli cli = { 0 };
	int i, r;

	for (i = 1; i < argc && argv[i][0] == '-'; i++) {
		if (!strcmp(argv[i], "-h") || !strcmp(argv[i], "--help")) {
			usage(stdout);
			return CLI_OK;
		}
		if (!strcmp(argv[i], "--version") || !strcmp(argv[i], "-V")) {
			printf("xdpmux %s\n", XM_VERSION);
			return CLI_OK;
		}
		if (!strcmp(argv[i], "-j") || !strcmp(argv[i], "--json")) {
			cli.json = true;
			continue;
		}
		cli_err("unknown option '%s'; see 'xdpmux --help'", argv[i]);
		return CLI_USAGE;
	}
	if (i == argc) {
		cli_err("missing command; see 'xdpmux --help'");
		return CLI_USAGE;
	}
	for (size_t c = 0; c < NCOMMANDS; c++) {
		if (strcmp(argv[i], commands[c].name))
			continue;
		cli.cmd = &commands[c];
		if (cli.json && !cli.cmd->reads)
			return cli_usage_err(&cli, "-j/--json applies to read commands only");
		r = cli.cmd->run(&cli, argc - i, argv + i);
		if (fflush(stdout) && r == CLI_OK) {
			cli_err("%s: cannot write the output", cli.cmd->name);
			return CLI_FAIL;
		}
		return r == CLI_HELP ? CLI_OK : r;
	}
	cli_err("unknown command '%s'; see 'xdpmux --help'", argv[i]);
	return CLI_USAGE;
}
