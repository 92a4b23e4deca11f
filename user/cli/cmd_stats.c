// SPDX-License-Identifier: MIT
/*
 * xdpmux stats [DEV] [--watch SECONDS]: the verdict and reason counters and
 * the per-binding counters; with --watch, a new sample every SECONDS with
 * per-second rates against the previous one, until SIGINT or SIGTERM.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <signal.h>
#include <string.h>
#include <time.h>

#include "cli.h"

/* Set by SIGINT/SIGTERM during --watch; the CLI's only signal state. */
static volatile sig_atomic_t stop_watch;

static void on_stop(int sig)
{
	(void)sig;
	stop_watch = 1;
}

static const struct xm_stat_val *prev_counters(const struct cli_snapshot *prev,
					       size_t nprev, const char *dev)
{
	size_t i;

	for (i = 0; prev && i < nprev; i++)
		if (!strcmp(prev[i].dev, dev))
			return prev[i].stats;
	return NULL;
}

/* Per second since the previous sample; negative when the counter went
 * backwards (device re-attached), which is reported as no rate. */
static double rate(uint64_t now, uint64_t then, double secs)
{
	return now >= then ? (double)(now - then) / secs : -1;
}

static void print_json(const struct cli_snapshot *s, size_t n,
		       const struct cli_snapshot *prev, size_t nprev, double secs)
{
	char addr[INET6_ADDRSTRLEN];
	struct json j;
	size_t d, i;

	json_init(&j, stdout);
	json_obj_begin(&j, NULL);
	if (prev)
		json_f64(&j, "interval_s", secs);
	json_arr_begin(&j, "devices");
	for (d = 0; d < n; d++) {
		const struct xm_stat_val *p = prev_counters(prev, nprev, s[d].dev);

		json_obj_begin(&j, NULL);
		json_str(&j, "dev", s[d].dev);
		json_obj_begin(&j, "counters");
		for (i = 0; i < XM_STAT_MAX; i++) {
			json_obj_begin(&j, xm_stat_name(i));
			json_str(&j, "kind", xm_stat_is_verdict(i) ? "verdict" : "reason");
			json_u64(&j, "packets", s[d].stats[i].packets);
			json_u64(&j, "bytes", s[d].stats[i].bytes);
			if (p) {
				double pr = rate(s[d].stats[i].packets, p[i].packets, secs);
				double br = rate(s[d].stats[i].bytes, p[i].bytes, secs);

				if (pr >= 0 && br >= 0) {
					json_f64(&j, "packets_per_s", pr);
					json_f64(&j, "bytes_per_s", br);
				}
			}
			json_obj_end(&j);
		}
		json_obj_end(&j);
		json_arr_begin(&j, "bindings");
		for (i = 0; i < s[d].n; i++) {
			const struct xm_binding *b = &s[d].list[i];

			json_obj_begin(&j, NULL);
			json_str(&j, "proto", cli_proto_name(b->key.proto));
			json_u64(&j, "port", ntohs(b->key.port));
			json_str(&j, "address", b->key.family == XM_FAMILY_ANY ? NULL :
				 cli_addr_str(&b->key, addr, sizeof(addr)));
			json_u64(&j, "packets", b->stats.packets);
			json_u64(&j, "bytes", b->stats.bytes);
			json_obj_end(&j);
		}
		json_arr_end(&j);
		json_obj_end(&j);
	}
	json_arr_end(&j);
	json_obj_end(&j);
}

static void print_human(const struct cli_snapshot *s, size_t n,
			const struct cli_snapshot *prev, size_t nprev, double secs,
			bool watch)
{
	char addr[INET6_ADDRSTRLEN];
	struct table *t = table_new();
	size_t d, i;

	table_col(t, "DEV", false);
	table_col(t, "COUNTER", false);
	table_col(t, "KIND", false);
	table_col(t, "PACKETS", true);
	table_col(t, "BYTES", true);
	if (watch) {
		table_col(t, "PKT/S", true);
		table_col(t, "BYTES/S", true);
	}
	for (d = 0; d < n; d++) {
		const struct xm_stat_val *p = prev_counters(prev, nprev, s[d].dev);

		for (i = 0; i < XM_STAT_MAX; i++) {
			table_cell(t, "%s", s[d].dev);
			table_cell(t, "%s", xm_stat_name(i));
			table_cell(t, "%s", xm_stat_is_verdict(i) ? "verdict" : "reason");
			table_cell(t, "%llu", (unsigned long long)s[d].stats[i].packets);
			table_cell(t, "%llu", (unsigned long long)s[d].stats[i].bytes);
			if (!watch)
				continue;
			if (p && rate(s[d].stats[i].packets, p[i].packets, secs) >= 0 &&
			    rate(s[d].stats[i].bytes, p[i].bytes, secs) >= 0) {
				table_cell(t, "%.0f", rate(s[d].stats[i].packets, p[i].packets, secs));
				table_cell(t, "%.0f", rate(s[d].stats[i].bytes, p[i].bytes, secs));
			} else {
				table_cell(t, "-");
				table_cell(t, "-");
			}
		}
	}
	table_print(t, stdout);
	table_free(t);

	t = table_new();
	table_col(t, "DEV", false);
	table_col(t, "PROTO", false);
	table_col(t, "PORT", true);
	table_col(t, "ADDRESS", false);
	table_col(t, "PACKETS", true);
	table_col(t, "BYTES", true);
	for (d = 0; d < n; d++) {
		for (i = 0; i < s[d].n; i++) {
			const struct xm_binding *b = &s[d].list[i];

			table_cell(t, "%s", s[d].dev);
			table_cell(t, "%s", cli_proto_name(b->key.proto));
			table_cell(t, "%u", ntohs(b->key.port));
			table_cell(t, "%s", cli_addr_str(&b->key, addr, sizeof(addr)));
			table_cell(t, "%llu", (unsigned long long)b->stats.packets);
			table_cell(t, "%llu", (unsigned long long)b->stats.bytes);
		}
	}
	putchar('\n');
	table_print(t, stdout);
	table_free(t);
}

static double now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* Sleep, returning early when a stop signal arrives (no SA_RESTART). */
static void sleep_s(double secs)
{
	struct timespec ts = {
		.tv_sec = (time_t)secs,
		.tv_nsec = (long)((secs - (double)(time_t)secs) * 1e9),
	};

	while (!stop_watch && nanosleep(&ts, &ts) && errno == EINTR)
		;
}

int cmd_stats(struct cli *cli, int argc, char **argv)
{
	static const char *const names[] = { "DEV" };
	const char *watch_s = NULL;
	const struct cli_opt opts[] = {
		{ "watch", 'w', &watch_s, NULL },
		{ 0 },
	};
	struct cli_snapshot *cur, *prev = NULL;
	size_t ncur, nprev = 0;
	struct sigaction sa;
	double secs = 0, t_prev = 0, t_now;
	char *pos[1] = { NULL };
	int n, r;

	r = cli_parse(cli, argc, argv, opts, pos, 0, 1, &n, names);
	if (!r && watch_s)
		r = cli_parse_seconds(cli, watch_s, &secs);
	if (!r)
		r = cli_require_privileges(cli);
	if (r)
		return r;
	if (watch_s) {
		memset(&sa, 0, sizeof(sa));
		sa.sa_handler = on_stop;
		sigemptyset(&sa.sa_mask);
		sigaction(SIGINT, &sa, NULL);
		sigaction(SIGTERM, &sa, NULL);
	}
	for (;;) {
		r = cli_snapshots(cli, pos[0], true, &cur, &ncur);
		if (r)
			break;
		t_now = now_s();
		if (watch_s && !cli->json && prev) {
			time_t wall = time(NULL);
			char when[32];

			strftime(when, sizeof(when), "%H:%M:%S", localtime(&wall));
			printf("\n--- %s\n", when);
		}
		if (cli->json)
			print_json(cur, ncur, prev, nprev, t_now - t_prev);
		else
			print_human(cur, ncur, prev, nprev, t_now - t_prev, watch_s != NULL);
		fflush(stdout);
		cli_snapshots_free(prev, nprev);
		prev = cur;
		nprev = ncur;
		t_prev = t_now;
		if (!watch_s)
			break;
		sleep_s(secs);
		if (stop_watch)
			break;
	}
	cli_snapshots_free(prev, nprev);
	return r;
}
