// SPDX-License-Identifier: MIT
/*
 * Command-line parsing, the one-line error reports, the privilege check, and
 * the formatting of bindings that several subcommands share.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <limits.h>
#include <math.h>
#include <netinet/in.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>
#include <linux/capability.h>

#include "cli.h"

#ifndef CAP_BPF
#define CAP_BPF 39 /* Linux 5.8 */
#endif

void cli_err(const char *fmt, ...)
{
	va_list ap;

	fputs("xdpmux: ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
}

int cli_usage_err(const struct cli *cli, const char *fmt, ...)
{
	va_list ap;

	fprintf(stderr, "xdpmux: %s: ", cli->cmd->name);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fprintf(stderr, "; see 'xdpmux %s --help'\n", cli->cmd->name);
	return CLI_USAGE;
}

void cli_cmd_help(const struct cli_cmd *cmd, FILE *f)
{
	fprintf(f, "usage: xdpmux %s %s%s\n\n%s\n", cmd->name, cmd->synopsis,
		cmd->reads ? " [-j|--json]" : "", cmd->summary);
	if (cmd->details)
		fprintf(f, "\n%s", cmd->details);
	if (cmd->reads)
		fputs("  -j, --json          print one JSON document on stdout\n", f);
	fputs("  -h, --help          show this help\n", f);
}

static const struct cli_opt *find_long(const struct cli_opt *opts, const char *name,
				       size_t len)
{
	for (; opts && opts->name; opts++)
		if (strlen(opts->name) == len && !strncmp(opts->name, name, len))
			return opts;
	return NULL;
}

static const struct cli_opt *find_short(const struct cli_opt *opts, char c)
{
	for (; opts && opts->name; opts++)
		if (opts->short_name && opts->short_name == c)
			return opts;
	return NULL;
}

int cli_parse(struct cli *cli, int argc, char **argv, const struct cli_opt *opts,
	      char **pos, int min_pos, int max_pos, int *npos,
	      const char *const *pos_names)
{
	bool only_pos = false;
	int i, n = 0;

	for (i = 1; i < argc; i++) {
		const char *a = argv[i], *eq = NULL, *val;
		const struct cli_opt *o;

		if (only_pos || a[0] != '-' || a[1] == '\0') {
			if (n == max_pos)
				return cli_usage_err(cli, "unexpected argument '%s'", a);
			pos[n++] = argv[i];
			continue;
		}
		if (!strcmp(a, "--")) {
			only_pos = true;
			continue;
		}
		if (!strcmp(a, "-h") || !strcmp(a, "--help")) {
			cli_cmd_help(cli->cmd, stdout);
			return CLI_HELP;
		}
		if (!strcmp(a, "-j") || !strcmp(a, "--json")) {
			if (!cli->cmd->reads)
				return cli_usage_err(cli, "'%s' applies to read commands only", a);
			cli->json = true;
			continue;
		}
		if (a[1] == '-') {
			eq = strchr(a + 2, '=');
			o = find_long(opts, a + 2, eq ? (size_t)(eq - a - 2) : strlen(a + 2));
		} else {
			o = a[2] == '\0' ? find_short(opts, a[1]) : NULL;
		}
		if (!o)
			return cli_usage_err(cli, "unknown option '%s'", a);
		if (o->flag) {
			if (eq)
				return cli_usage_err(cli, "option '--%s' takes no value", o->name);
			*o->flag = true;
			continue;
		}
		if (eq) {
			val = eq + 1;
		} else {
			if (i + 1 == argc)
				return cli_usage_err(cli, "option '%s' needs a value", a);
			val = argv[++i];
		}
		*o->value = val;
	}
	if (n < min_pos)
		return cli_usage_err(cli, "missing %s", pos_names[n]);
	*npos = n;
	return CLI_OK;
}

/* CAP_SYS_ADMIN covers both on kernels before 5.8 (no CAP_BPF). */
int cli_require_privileges(const struct cli *cli)
{
	struct __user_cap_header_struct hdr = { .version = _LINUX_CAPABILITY_VERSION_3 };
	struct __user_cap_data_struct data[2] = {};
	uint64_t eff;
	bool ok;

	if (syscall(SYS_capget, &hdr, data)) {
		cli_err("%s: cannot read this process's capabilities: %s",
			cli->cmd->name, strerror(errno));
		return CLI_FAIL;
	}
	eff = (uint64_t)data[1].effective << 32 | data[0].effective;
	ok = (eff & (1ull << CAP_SYS_ADMIN)) ||
	     ((eff & (1ull << CAP_BPF)) && (eff & (1ull << CAP_NET_ADMIN)));
	if (!ok) {
		cli_err("%s: permission denied: xdpmux needs root (CAP_BPF and "
			"CAP_NET_ADMIN) to use XDP and the pinned maps; run it as root",
			cli->cmd->name);
		return CLI_FAIL;
	}
	return CLI_OK;
}

int cli_parse_proto(const struct cli *cli, const char *s, uint8_t *proto)
{
	if (!strcmp(s, "udp"))
		*proto = IPPROTO_UDP;
	else if (!strcmp(s, "tcp"))
		*proto = IPPROTO_TCP;
	else
		return cli_usage_err(cli, "unknown protocol '%s': expected udp or tcp", s);
	return CLI_OK;
}

static int parse_port(const struct cli *cli, const char *arg, const char *s,
		      size_t len, uint16_t *port)
{
	unsigned long v = 0;
	size_t i;

	if (len == 0)
		return cli_usage_err(cli, "invalid port '%s': empty port number", arg);
	for (i = 0; i < len; i++) {
		if (s[i] < '0' || s[i] > '9')
			return cli_usage_err(cli, "invalid port '%s': not a number", arg);
		if (v <= 65535)
			v = v * 10 + (unsigned long)(s[i] - '0');
	}
	if (v == 0 || v > 65535)
		return cli_usage_err(cli, "invalid port '%s': ports are 1-65535", arg);
	*port = (uint16_t)v;
	return CLI_OK;
}

int cli_parse_ports(const struct cli *cli, const char *s, uint16_t *lo, uint16_t *hi)
{
	const char *dash = strchr(s, '-');
	int err;

	if (!dash) {
		err = parse_port(cli, s, s, strlen(s), lo);
		*hi = *lo;
		return err;
	}
	err = parse_port(cli, s, s, (size_t)(dash - s), lo);
	if (!err)
		err = parse_port(cli, s, dash + 1, strlen(dash + 1), hi);
	if (!err && *lo > *hi)
		return cli_usage_err(cli, "invalid port range '%s': start is above end", s);
	return err;
}

int cli_parse_addr(const struct cli *cli, const char *s, struct xm_binding_key *key)
{
	memset(key->addr, 0, sizeof(key->addr));
	if (inet_pton(AF_INET, s, key->addr) == 1) {
		key->family = XM_FAMILY_INET;
		return CLI_OK;
	}
	if (inet_pton(AF_INET6, s, key->addr) == 1) {
		key->family = XM_FAMILY_INET6;
		return CLI_OK;
	}
	memset(key->addr, 0, sizeof(key->addr));
	return cli_usage_err(cli, "invalid address '%s': not an IPv4 or IPv6 address", s);
}

int cli_parse_fallback(const struct cli *cli, const char *s, enum xm_fallback *fb)
{
	if (!strcmp(s, "pass"))
		*fb = XM_FALLBACK_PASS;
	else if (!strcmp(s, "drop"))
		*fb = XM_FALLBACK_DROP;
	else
		return cli_usage_err(cli, "invalid fallback '%s': expected pass or drop", s);
	return CLI_OK;
}

int cli_parse_seconds(const struct cli *cli, const char *s, double *secs)
{
	char *end;
	double v;

	errno = 0;
	v = strtod(s, &end);
	if (errno || end == s || *end || !isfinite(v) || v <= 0 || v > 86400)
		return cli_usage_err(cli, "invalid interval '%s': expected seconds, "
				     "more than 0 and at most 86400", s);
	*secs = v;
	return CLI_OK;
}

const char *cli_proto_name(uint8_t proto)
{
	return proto == IPPROTO_UDP ? "udp" : proto == IPPROTO_TCP ? "tcp" : "?";
}

const char *cli_fallback_name(uint32_t fallback)
{
	return fallback == XM_FALLBACK_DROP ? "drop" : fallback == XM_FALLBACK_PASS ?
	       "pass" : "?";
}

const char *cli_family_name(uint8_t family)
{
	switch (family) {
	case XM_FAMILY_ANY: return "any";
	case XM_FAMILY_INET: return "ipv4";
	case XM_FAMILY_INET6: return "ipv6";
	}
	return "?";
}

const char *cli_addr_str(const struct xm_binding_key *key, char *buf, size_t len)
{
	if (key->family == XM_FAMILY_INET)
		return inet_ntop(AF_INET, key->addr, buf, (socklen_t)len) ? buf : "?";
	if (key->family == XM_FAMILY_INET6)
		return inet_ntop(AF_INET6, key->addr, buf, (socklen_t)len) ? buf : "?";
	snprintf(buf, len, "*");
	return buf;
}

const char *cli_key_str(const struct xm_binding_key *key, char *buf, size_t len)
{
	char addr[INET6_ADDRSTRLEN];
	const char *proto = cli_proto_name(key->proto);
	unsigned port = ntohs(key->port);

	cli_addr_str(key, addr, sizeof(addr));
	if (key->family == XM_FAMILY_INET6)
		snprintf(buf, len, "%s/[%s]:%u", proto, addr, port);
	else if (key->family == XM_FAMILY_INET)
		snprintf(buf, len, "%s/%s:%u", proto, addr, port);
	else
		snprintf(buf, len, "%s/%u", proto, port);
	return buf;
}

const char *cli_binding_state(const struct xm_binding *b)
{
	if (b->val.owner_pid == 0)
		return "static";
	return b->stale ? "stale" : "live";
}

/* A stale owner's pid may name another process by now: its name is not
 * the owner's. */
const char *cli_owner_comm(const struct xm_binding *b, char *buf, size_t len)
{
	if (b->val.owner_pid == 0 || b->stale ||
	    xm_proc_comm((pid_t)b->val.owner_pid, buf, len) || !buf[0])
		return "-";
	return buf;
}
