/* SPDX-License-Identifier: MIT */
/*
 * Private to the xdpmux command: the command table, argument parsing, error
 * reporting, and the JSON and table writers the subcommands share.
 */
#ifndef XDPMUX_CLI_H
#define XDPMUX_CLI_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <xdpmux/control.h>

#define CLI_OK    0
#define CLI_FAIL  1   /* the command failed; nothing changed */
#define CLI_USAGE 2   /* bad command line */
#define CLI_HELP  (-1) /* parse printed help: exit 0 */

struct cli;

struct cli_cmd {
	const char *name;
	const char *synopsis;  /* arguments, as in the usage line */
	const char *summary;
	const char *details;   /* option help, or NULL */
	bool reads;            /* a read command: takes -j/--json */
	int (*run)(struct cli *cli, int argc, char **argv);
};

struct cli {
	const struct cli_cmd *cmd;
	bool json;
};

/* One option of a command: a flag (`flag` set) or one taking a value. */
struct cli_opt {
	const char *name;      /* long name, without "--" */
	char short_name;       /* 0: none */
	const char **value;    /* set for options with a value */
	bool *flag;            /* set for flags */
};

/* Parse argv[1..] (argv[0] is the command name) into options and at most
 * max_pos positionals; -h/--help prints the command's help (CLI_HELP) and
 * -j/--json sets cli->json for read commands. Returns CLI_OK, CLI_HELP or
 * CLI_USAGE (after reporting). */
int cli_parse(struct cli *cli, int argc, char **argv, const struct cli_opt *opts,
	      char **pos, int min_pos, int max_pos, int *npos,
	      const char *const *pos_names);

/* "xdpmux: <fmt>\n" on stderr: the single error line. */
void cli_err(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* A usage error for the current command; returns CLI_USAGE. */
int cli_usage_err(const struct cli *cli, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
void cli_cmd_help(const struct cli_cmd *cmd, FILE *f);
/* Root, or CAP_BPF and CAP_NET_ADMIN: checked before touching BPF. Reports
 * and returns CLI_FAIL when missing. */
int cli_require_privileges(const struct cli *cli);

/* Argument parsers: 0, or a usage error already reported. */
int cli_parse_proto(const struct cli *cli, const char *s, uint8_t *proto);
int cli_parse_ports(const struct cli *cli, const char *s, uint16_t *lo, uint16_t *hi);
int cli_parse_addr(const struct cli *cli, const char *s, struct xm_binding_key *key);
int cli_parse_fallback(const struct cli *cli, const char *s, enum xm_fallback *fb);
int cli_parse_seconds(const struct cli *cli, const char *s, double *secs);

/* Formatting shared by the commands. */
const char *cli_proto_name(uint8_t proto);
const char *cli_fallback_name(uint32_t fallback);
const char *cli_family_name(uint8_t family);
/* The binding's address ("*" for the wildcard) into buf. */
const char *cli_addr_str(const struct xm_binding_key *key, char *buf, size_t len);
/* "udp/7000", "udp/198.18.0.1:7000", "tcp/[2001:db8::1]:80" */
const char *cli_key_str(const struct xm_binding_key *key, char *buf, size_t len);
/* "live", "stale" or "static" */
const char *cli_binding_state(const struct xm_binding *b);
/* The owner's program name (/proc/PID/comm) in buf, or "-" when the binding
 * is static or its owner gone. */
const char *cli_owner_comm(const struct xm_binding *b, char *buf, size_t len);
/* The devices a read command covers: dev alone, or every attached one.
 * *devs malloc'd. Reports and returns CLI_FAIL on error. */
int cli_devices(const struct cli *cli, const char *dev, char (**devs)[32], size_t *n);
/* Open dev's maps; reports a failure for `what` (e.g. "list xmc0a"). */
int cli_ctl_open(const char *cmd, const char *dev, struct xm_ctl **ctl);
void cli_report_open(const char *what, const char *dev, int err);

/* json.c: a streaming writer; key is NULL inside arrays and at top level. */
struct json {
	FILE *f;
	int depth;
	bool comma[32];
};
void json_init(struct json *j, FILE *f);
void json_obj_begin(struct json *j, const char *key);
void json_obj_end(struct json *j);
void json_arr_begin(struct json *j, const char *key);
void json_arr_end(struct json *j);
void json_str(struct json *j, const char *key, const char *v); /* NULL: null */
void json_u64(struct json *j, const char *key, uint64_t v);
void json_i64(struct json *j, const char *key, int64_t v);
void json_f64(struct json *j, const char *key, double v);
void json_bool(struct json *j, const char *key, bool v);
void json_null(struct json *j, const char *key);

/* table.c: aligned columns; numbers right-aligned. */
struct table;
struct table *table_new(void);
void table_col(struct table *t, const char *name, bool right);
void table_cell(struct table *t, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
void table_print(struct table *t, FILE *f);
void table_free(struct table *t);

/* devices.c: one device's bindings (and counters) read at one moment. */
struct cli_snapshot {
	char dev[32];
	struct xm_binding *list;
	size_t n;
	struct xm_stat_val stats[XM_STAT_MAX]; /* when counters were asked for */
};
int cli_snapshots(const struct cli *cli, const char *dev, bool counters,
		  struct cli_snapshot **out, size_t *n);
void cli_snapshots_free(struct cli_snapshot *s, size_t n);

/* The subcommands. */
int cmd_attach(struct cli *cli, int argc, char **argv);
int cmd_detach(struct cli *cli, int argc, char **argv);
int cmd_status(struct cli *cli, int argc, char **argv);
int cmd_bind(struct cli *cli, int argc, char **argv);
int cmd_unbind(struct cli *cli, int argc, char **argv);
int cmd_list(struct cli *cli, int argc, char **argv);
int cmd_gc(struct cli *cli, int argc, char **argv);
int cmd_stats(struct cli *cli, int argc, char **argv);
int cmd_run(struct cli *cli, int argc, char **argv);

/* daemon_status.c: the device daemon's part of `xdpmux status`. */
struct xmd_status_reply;
/* 0, or -ENOENT when no daemon serves dev. */
int daemon_status(const char *dev, struct xmd_status_reply *r);
/* Whether a device daemon answers for dev. */
bool daemon_serves(const char *dev);
void daemon_status_json(struct json *j, const struct xmd_status_reply *r);
void daemon_status_print(FILE *f, const char *dev, const struct xmd_status_reply *r);

#endif /* XDPMUX_CLI_H */
