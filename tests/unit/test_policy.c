// SPDX-License-Identifier: MIT
/*
 * The device daemon's port policy (user/lib/control/policy.h): rule
 * parsing, each malformed spec refused with its reason, numeric ids, root,
 * group membership from the group database, policy files.
 *
 * The membership test runs on a user and group database of its own: as
 * root it unshares its mount namespace (Criterion forks each test) and
 * bind-mounts its own /etc/passwd and /etc/group there; skipped otherwise.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <unistd.h>
#include <criterion/criterion.h>

#include "../../user/lib/control/policy.h"

static struct xm_policy *p;
static char err[256];

static void setup(void)
{
	cr_assert_eq(xm_policy_new(&p), 0);
	err[0] = '\0';
}

static void teardown(void)
{
	xm_policy_free(p);
}

TestSuite(policy, .init = setup, .fini = teardown);

static void add_ok(const char *spec)
{
	int r = xm_policy_add(p, spec, err, sizeof(err));

	cr_assert_eq(r, 0, "add \"%s\": %s (%s)", spec, strerror(-r), err);
}

static void describes(const char *want)
{
	char buf[512];

	cr_assert_eq(xm_policy_describe(p, buf, sizeof(buf)), 0);
	cr_expect_str_eq(buf, want);
}

Test(policy, user_and_group_specs_by_name_and_id_are_described_one_line_each)
{
	add_ok("root:9000-9999,443");
	add_ok("@0:7000");
	add_ok("1000:1-65535");
	add_ok("@4242:80,8080-8081,90");
	describes("allow root:9000-9999,443\n"
		  "allow @0:7000\n"
		  "allow 1000:1-65535\n"
		  "allow @4242:80,8080-8081,90\n");
}

Test(policy, empty_policy_describes_as_empty_and_short_buffer_is_enospc)
{
	char buf[16];

	describes("");
	add_ok("1000:9000-9999,443");
	cr_expect_eq(xm_policy_describe(p, buf, sizeof(buf)), -ENOSPC);
	cr_expect_eq(strlen(buf), sizeof(buf) - 1, "truncated, terminated: \"%s\"", buf);
}

Test(policy, each_malformed_spec_is_einval_with_its_reason)
{
	static const struct {
		const char *spec, *reason;
	} bad[] = {
		{ "", "an empty rule" },
		{ "root", "expected USER:PORTS or @GROUP:PORTS" },
		{ "root:", "no ports after ':'" },
		{ ":80", "no user name before ':'" },
		{ "@:80", "no group name before ':'" },
		{ "root:0", "port 0 is out of range 1-65535" },
		{ "root:65536", "port 65536 is out of range 1-65535" },
		{ "root:1-70000", "port 70000 is out of range 1-65535" },
		{ "root:123456", "\"123456\" is not a port" },
		{ "root:80-70", "the range 80-70 runs backwards" },
		{ "root:80,", "an empty item in the port list" },
		{ "root:,80", "an empty item in the port list" },
		{ "root:80,,81", "an empty item in the port list" },
		{ "root:8o", "\"8o\" is not a port" },
		{ "root:-80", "\"-80\" is not a port" },
		{ "root:80-", "\"80-\" is not a port" },
		{ "root:1-2-3", "\"1-2-3\" is not a port" },
		{ "root:80:81", "\"80:81\" is not a port" },
		{ "root: 80", "a rule holds no spaces" },
		{ "4294967295:80", "is not a user name or a numeric id" },
		{ "12ab:80", "is not a user name or a numeric id" },
		{ "@99999999999:80", "is not a group name or a numeric id" },
		{ "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa:80",
		  "the user name is longer than" },
	};
	size_t i;

	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		err[0] = '\0';
		cr_expect_eq(xm_policy_add(p, bad[i].spec, err, sizeof(err)), -EINVAL,
			     "\"%s\" accepted", bad[i].spec);
		cr_expect(strstr(err, bad[i].reason), "\"%s\": reason \"%s\", want \"%s\"",
			  bad[i].spec, err, bad[i].reason);
		cr_expect(!strchr(err, '\n'), "\"%s\": reason is not one line", bad[i].spec);
	}
	cr_expect_eq(xm_policy_add(p, "root:0", NULL, 0), -EINVAL, "no error buffer");
	describes("");
}

Test(policy, unknown_user_or_group_name_is_enoent)
{
	cr_expect_eq(xm_policy_add(p, "xm-no-such-user:80", err, sizeof(err)), -ENOENT);
	cr_expect(strstr(err, "no user named \"xm-no-such-user\""), "reason: %s", err);
	cr_expect_eq(xm_policy_add(p, "@xm-no-such-group:80", err, sizeof(err)), -ENOENT);
	cr_expect(strstr(err, "no group named \"xm-no-such-group\""), "reason: %s", err);
	describes("");
}

Test(policy, root_may_connect_and_bind_anything_with_no_rule)
{
	cr_expect(xm_policy_user_allowed(p, 0, 0));
	cr_expect(xm_policy_port_allowed(p, 0, 0, 1));
	cr_expect(xm_policy_port_allowed(p, 0, 1234, 65535));
	cr_expect(!xm_policy_user_allowed(p, 1000, 1000), "no rule, uid 1000 allowed");
	cr_expect(!xm_policy_port_allowed(p, 1000, 1000, 80));
}

/* uids and gids no user database entry has: only the rule's number and the
 * peer's primary gid count. */
Test(policy, numeric_uid_and_primary_gid_rules)
{
	add_ok("3999001:7000-7010");
	add_ok("@3999100:443");
	cr_expect(xm_policy_user_allowed(p, 3999001, 3999002));
	cr_expect(xm_policy_port_allowed(p, 3999001, 3999002, 7000));
	cr_expect(xm_policy_port_allowed(p, 3999001, 3999002, 7010));
	cr_expect(!xm_policy_port_allowed(p, 3999001, 3999002, 7011));
	cr_expect(!xm_policy_port_allowed(p, 3999001, 3999002, 443));
	cr_expect(!xm_policy_user_allowed(p, 3999003, 3999002), "another uid allowed");
	cr_expect(xm_policy_user_allowed(p, 3999003, 3999100), "primary gid of the group");
	cr_expect(xm_policy_port_allowed(p, 3999003, 3999100, 443));
	cr_expect(!xm_policy_port_allowed(p, 3999003, 3999100, 444));
	cr_expect(!xm_policy_port_allowed(p, 3999003, 3999100, 7000));
}

static void write_file(const char *path, const char *text)
{
	FILE *f = fopen(path, "we");

	cr_assert(f, "create %s: %s", path, strerror(errno));
	cr_assert(fputs(text, f) >= 0);
	cr_assert_eq(fclose(f), 0);
}

/* A private /etc/passwd and /etc/group: alice and carol in devs by the
 * group file only, bob not. */
static void private_user_db(void)
{
	static char dir[] = "/tmp/xm-policy-db.XXXXXX";
	char pw[64], gr[64];

	if (geteuid() != 0)
		cr_skip_test("needs root for a private mount namespace");
	cr_assert_eq(unshare(CLONE_NEWNS), 0, "unshare: %s", strerror(errno));
	cr_assert_eq(mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL), 0);
	cr_assert(mkdtemp(dir), "mkdtemp: %s", strerror(errno));
	snprintf(pw, sizeof(pw), "%s/passwd", dir);
	snprintf(gr, sizeof(gr), "%s/group", dir);
	write_file(pw, "root:x:0:0:root:/root:/bin/sh\n"
		       "xm-alice:x:3999201:3999201::/:/bin/false\n"
		       "xm-bob:x:3999202:3999202::/:/bin/false\n"
		       "xm-carol:x:3999203:3999203::/:/bin/false\n");
	write_file(gr, "root:x:0:\n"
		       "xm-alice:x:3999201:\n"
		       "xm-bob:x:3999202:\n"
		       "xm-carol:x:3999203:\n"
		       "xm-devs:x:3999300:xm-alice,xm-carol\n"
		       "xm-ops:x:3999301:xm-bob\n");
	cr_assert_eq(mount(pw, "/etc/passwd", NULL, MS_BIND, NULL), 0, "%s", strerror(errno));
	cr_assert_eq(mount(gr, "/etc/group", NULL, MS_BIND, NULL), 0, "%s", strerror(errno));
	/* The mounts hold the files; the names can go now. */
	unlink(pw);
	unlink(gr);
	rmdir(dir);
}

Test(policy, supplementary_groups_from_group_database_count)
{
	private_user_db();
	add_ok("@xm-devs:7000-7099");
	add_ok("xm-bob:8000");
	describes("allow @xm-devs:7000-7099\nallow xm-bob:8000\n");
	/* Members of xm-devs by the group file alone, with their own primary
	 * gid from SO_PEERCRED. */
	cr_expect(xm_policy_user_allowed(p, 3999201, 3999201), "alice, member of devs");
	cr_expect(xm_policy_port_allowed(p, 3999201, 3999201, 7050));
	cr_expect(!xm_policy_port_allowed(p, 3999201, 3999201, 8000));
	cr_expect(xm_policy_port_allowed(p, 3999203, 3999203, 7000), "carol, member of devs");
	/* bob is in ops, not devs: only his own rule. */
	cr_expect(xm_policy_user_allowed(p, 3999202, 3999202));
	cr_expect(xm_policy_port_allowed(p, 3999202, 3999202, 8000));
	cr_expect(!xm_policy_port_allowed(p, 3999202, 3999202, 7000), "bob is not in devs");
	/* A uid the database does not know: its primary gid only. */
	cr_expect(!xm_policy_user_allowed(p, 3999299, 3999299));
	cr_expect(xm_policy_port_allowed(p, 3999299, 3999300, 7000), "primary gid devs");
}

static char file[64];

static void policy_file(const char *text)
{
	int fd;

	snprintf(file, sizeof(file), "/tmp/xm-policy.XXXXXX");
	fd = mkstemp(file);
	cr_assert(fd >= 0, "mkstemp: %s", strerror(errno));
	close(fd);
	write_file(file, text);
}

Test(policy, file_with_comments_and_blank_lines_loads_every_rule)
{
	int r;

	policy_file("# xdpmuxd port policy\n"
		    "\n"
		    "allow root:80   # a comment after a rule\n"
		    "   allow\t@0:9000-9999,443\n"
		    "\t\n"
		    "allow 1000:7000");
	r = xm_policy_load(p, file, err, sizeof(err));
	unlink(file);
	cr_assert_eq(r, 0, "%s", err);
	describes("allow root:80\nallow @0:9000-9999,443\nallow 1000:7000\n");
	cr_expect(xm_policy_port_allowed(p, 1000, 1000, 7000));
	cr_expect(!xm_policy_port_allowed(p, 1000, 1000, 80));
}

/* One bad line: the error names the file and the line, and none of the
 * file's rules are added. */
Test(policy, file_with_a_bad_line_names_it_and_adds_nothing)
{
	static const struct {
		const char *line, *reason;
		int err;
	} bad[] = {
		{ "allow root:99999", "port 99999 is out of range", -EINVAL },
		{ "deny root:80", "expected \"allow USER:PORTS\"", -EINVAL },
		{ "allow", "expected \"allow USER:PORTS\"", -EINVAL },
		{ "allow root:80 root:81", "expected \"allow USER:PORTS\"", -EINVAL },
		{ "allow xm-no-such-user:80", "no user named", -ENOENT },
	};
	char text[256], want[128];
	size_t i;
	int r;

	add_ok("1000:1");
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		snprintf(text, sizeof(text), "# policy\nallow root:80\n\n%s\nallow 1001:2\n",
			 bad[i].line);
		policy_file(text);
		err[0] = '\0';
		r = xm_policy_load(p, file, err, sizeof(err));
		snprintf(want, sizeof(want), "%s:4: ", file);
		unlink(file);
		cr_expect_eq(r, bad[i].err, "\"%s\": %d", bad[i].line, r);
		cr_expect(!strncmp(err, want, strlen(want)), "\"%s\": error \"%s\" does not "
			  "start with \"%s\"", bad[i].line, err, want);
		cr_expect(strstr(err, bad[i].reason), "\"%s\": error \"%s\"", bad[i].line, err);
	}
	describes("allow 1000:1\n");
	cr_expect_eq(xm_policy_load(p, "/nonexistent/xm-policy", err, sizeof(err)), -ENOENT);
	cr_expect(strstr(err, "/nonexistent/xm-policy"), "error \"%s\" names the file", err);
}
