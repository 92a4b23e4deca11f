// SPDX-License-Identifier: MIT
/*
 * The daemon's port policy (policy.h): "allow" rules, parsed once, and the
 * checks the daemon makes of a connecting peer (its SO_PEERCRED uid and
 * gid) and of each port it asks to bind. Names are resolved when a rule is
 * added, so a rule means the uid or gid it named then; group membership is
 * looked up at each check, so it follows the group database.
 */
#define _GNU_SOURCE
#include <ctype.h>
#include <errno.h>
#include <grp.h>
#include <pwd.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "policy.h"

#define NAME_LEN 64   /* longer user and group names are refused */

struct port_range {
	uint16_t lo, hi;
};

struct rule {
	bool group;                /* @GROUP: id is a gid; else a uid */
	uint32_t id;
	char name[NAME_LEN];       /* as the spec wrote it */
	struct port_range *ports;
	size_t nports;
};

struct xm_policy {
	struct rule *rules;
	size_t n, cap;
};

__attribute__((format(printf, 4, 5)))
static int fail(char *err, size_t errlen, int code, const char *fmt, ...)
{
	va_list ap;

	if (err && errlen) {
		va_start(ap, fmt);
		vsnprintf(err, errlen, fmt, ap);
		va_end(ap);
	}
	return code;
}

int xm_policy_new(struct xm_policy **out)
{
	*out = calloc(1, sizeof(**out));
	return *out ? 0 : -ENOMEM;
}

static void rules_free(struct rule *r, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		free(r[i].ports);
}

void xm_policy_free(struct xm_policy *p)
{
	if (!p)
		return;
	rules_free(p->rules, p->n);
	free(p->rules);
	free(p);
}

/* Room for `extra` more rules. */
static int rules_reserve(struct xm_policy *p, size_t extra)
{
	size_t cap = p->cap ? p->cap : 8;
	struct rule *grown;

	while (cap < p->n + extra)
		cap *= 2;
	if (cap == p->cap)
		return 0;
	grown = realloc(p->rules, cap * sizeof(*grown));
	if (!grown)
		return -ENOMEM;
	p->rules = grown;
	p->cap = cap;
	return 0;
}

/* A user or group database call (the *_r functions) with a buffer that
 * grows while the call says ERANGE. 0, or the call's error number. */
typedef int (*db_call)(void *ctx, char *buf, size_t len);

static int with_buffer(db_call call, void *ctx)
{
	size_t len = 1024;
	char *buf = NULL, *grown;
	int r;

	for (;;) {
		grown = realloc(buf, len);
		if (!grown) {
			r = ENOMEM;
			break;
		}
		buf = grown;
		r = call(ctx, buf, len);
		if (r != ERANGE || len >= (1u << 20))
			break;
		len *= 2;
	}
	free(buf);
	return r;
}

struct db_query {
	const char *name;   /* by name; or by uid: */
	uid_t uid;
	uint32_t id;        /* out: the uid or gid */
	char *out_name;     /* out (by uid): the user's name, NAME_LEN bytes */
};

/* 0 and the entry, or ENOENT when there is none, or another errno. */
static int user_by_name(void *ctx, char *buf, size_t len)
{
	struct db_query *q = ctx;
	struct passwd pw, *res;
	int r = getpwnam_r(q->name, &pw, buf, len, &res);

	if (!r && !res)
		return ENOENT;
	if (!r)
		q->id = pw.pw_uid;
	return r;
}

static int group_by_name(void *ctx, char *buf, size_t len)
{
	struct db_query *q = ctx;
	struct group gr, *res;
	int r = getgrnam_r(q->name, &gr, buf, len, &res);

	if (!r && !res)
		return ENOENT;
	if (!r)
		q->id = gr.gr_gid;
	return r;
}

static int user_by_uid(void *ctx, char *buf, size_t len)
{
	struct db_query *q = ctx;
	struct passwd pw, *res;
	int r = getpwuid_r(q->uid, &pw, buf, len, &res);

	if (!r && !res)
		return ENOENT;
	if (!r && snprintf(q->out_name, NAME_LEN, "%s", pw.pw_name) >= NAME_LEN)
		return ENAMETOOLONG;
	return r;
}

/* A decimal number of at most `max`, digits only, into *v. */
static bool parse_num(const char *s, size_t n, unsigned long max, unsigned long *v)
{
	size_t i;

	if (!n || n > 10)
		return false;
	*v = 0;
	for (i = 0; i < n; i++) {
		if (!isdigit((unsigned char)s[i]))
			return false;
		*v = *v * 10 + (unsigned long)(s[i] - '0');
	}
	return *v <= max;
}

/* One item of a port list, "N" or "LO-HI", n bytes at s. */
static int parse_range(const char *spec, const char *s, size_t n, struct port_range *r,
		       char *err, size_t errlen)
{
	const char *dash = memchr(s, '-', n);
	size_t lo_len = dash ? (size_t)(dash - s) : n;
	unsigned long lo, hi;

	if (!n)
		return fail(err, errlen, -EINVAL, "\"%s\": an empty item in the port list", spec);
	if (!parse_num(s, lo_len, 99999, &lo) ||
	    (dash && !parse_num(dash + 1, n - lo_len - 1, 99999, &hi)))
		return fail(err, errlen, -EINVAL, "\"%s\": \"%.*s\" is not a port or a range "
			    "of ports like 9000-9999", spec, (int)n, s);
	if (!dash)
		hi = lo;
	if (lo < 1 || hi > 65535)
		return fail(err, errlen, -EINVAL, "\"%s\": port %lu is out of range 1-65535",
			    spec, lo < 1 ? lo : hi);
	if (lo > hi)
		return fail(err, errlen, -EINVAL, "\"%s\": the range %lu-%lu runs backwards",
			    spec, lo, hi);
	r->lo = (uint16_t)lo;
	r->hi = (uint16_t)hi;
	return 0;
}

static int parse_ports(const char *spec, const char *s, struct rule *r, char *err,
		       size_t errlen)
{
	size_t cap = 1, i;
	const char *c;
	int e;

	for (c = s; *c; c++)
		cap += *c == ',';
	r->ports = calloc(cap, sizeof(*r->ports));
	if (!r->ports)
		return -ENOMEM;
	for (i = 0; i < cap; i++) {
		c = strchr(s, ',');
		e = parse_range(spec, s, c ? (size_t)(c - s) : strlen(s), &r->ports[i], err,
				errlen);
		if (e) {
			free(r->ports);
			r->ports = NULL;
			return e;
		}
		s = c + 1;
	}
	r->nports = cap;
	return 0;
}

/* The uid or gid the name (or number) before the ':' stands for. */
static int parse_who(const char *spec, const char *who, size_t n, struct rule *r,
		     char *err, size_t errlen)
{
	const char *kind = r->group ? "group" : "user";
	struct db_query q = { .name = r->name };
	unsigned long id;
	int e;

	if (!n)
		return fail(err, errlen, -EINVAL, "\"%s\": no %s name before ':'", spec, kind);
	if (n >= NAME_LEN)
		return fail(err, errlen, -EINVAL, "\"%s\": the %s name is longer than %d bytes",
			    spec, kind, NAME_LEN - 1);
	memcpy(r->name, who, n);
	r->name[n] = '\0';
	/* (uid_t)-1 and (gid_t)-1 mean "no id" to the kernel. */
	if (isdigit((unsigned char)who[0])) {
		if (!parse_num(who, n, 0xFFFFFFFEul, &id))
			return fail(err, errlen, -EINVAL, "\"%s\": \"%s\" is not a %s name or a "
				    "numeric id below 4294967295", spec, r->name, kind);
		r->id = (uint32_t)id;
		return 0;
	}
	e = with_buffer(r->group ? group_by_name : user_by_name, &q);
	if (e == ENOENT)
		return fail(err, errlen, -ENOENT, "\"%s\": no %s named \"%s\"", spec, kind,
			    r->name);
	if (e)
		return fail(err, errlen, -e, "\"%s\": looking up %s \"%s\": %s", spec, kind,
			    r->name, strerror(e));
	r->id = q.id;
	return 0;
}

int xm_policy_add(struct xm_policy *p, const char *spec, char *err, size_t errlen)
{
	struct rule r = { 0 };
	const char *colon, *who, *c;
	int e;

	if (!spec || !*spec)
		return fail(err, errlen, -EINVAL, "an empty rule: expected USER:PORTS or "
			    "@GROUP:PORTS");
	for (c = spec; *c; c++)
		if (isspace((unsigned char)*c) || iscntrl((unsigned char)*c))
			return fail(err, errlen, -EINVAL, "\"%s\": a rule holds no spaces", spec);
	colon = strchr(spec, ':');
	if (!colon)
		return fail(err, errlen, -EINVAL, "\"%s\": expected USER:PORTS or "
			    "@GROUP:PORTS", spec);
	if (!colon[1])
		return fail(err, errlen, -EINVAL, "\"%s\": no ports after ':'", spec);
	r.group = spec[0] == '@';
	who = spec + r.group;
	e = parse_who(spec, who, (size_t)(colon - who), &r, err, errlen);
	if (!e)
		e = parse_ports(spec, colon + 1, &r, err, errlen);
	if (!e)
		e = rules_reserve(p, 1);
	if (e) {
		free(r.ports);
		return e == -ENOMEM ? fail(err, errlen, e, "out of memory") : e;
	}
	p->rules[p->n++] = r;
	return 0;
}

/* The rule of one line, into tmp; line is modified. 0 for a line with no
 * rule (blank, a comment). */
static int load_line(struct xm_policy *tmp, char *line, char *why, size_t whylen)
{
	char *word, *spec, *rest;

	line[strcspn(line, "#")] = '\0';
	word = line + strspn(line, " \t\r\n");
	if (!*word)
		return 0;
	spec = word + strcspn(word, " \t\r\n");
	if (*spec)
		*spec++ = '\0';
	spec += strspn(spec, " \t\r\n");
	rest = spec + strcspn(spec, " \t\r\n");
	if (*rest)
		*rest++ = '\0';
	rest += strspn(rest, " \t\r\n");
	if (strcmp(word, "allow") || !*spec || *rest)
		return fail(why, whylen, -EINVAL, "expected \"allow USER:PORTS\" or "
			    "\"allow @GROUP:PORTS\"");
	return xm_policy_add(tmp, spec, why, whylen);
}

int xm_policy_load(struct xm_policy *p, const char *path, char *err, size_t errlen)
{
	struct xm_policy tmp = { 0 };
	char *line = NULL, why[256];
	unsigned lineno = 0;
	size_t cap = 0;
	int e = 0;
	FILE *f;

	f = fopen(path, "re");
	if (!f)
		return fail(err, errlen, -errno, "%s: %s", path, strerror(errno));
	while (!e && getline(&line, &cap, f) >= 0) {
		lineno++;
		e = load_line(&tmp, line, why, sizeof(why));
		if (e)
			fail(err, errlen, e, "%s:%u: %s", path, lineno, why);
	}
	if (!e && ferror(f))
		e = fail(err, errlen, -EIO, "%s: read error", path);
	free(line);
	fclose(f);
	if (!e)
		e = rules_reserve(p, tmp.n);
	if (e) {
		rules_free(tmp.rules, tmp.n);
	} else if (tmp.n) {
		memcpy(p->rules + p->n, tmp.rules, tmp.n * sizeof(*tmp.rules));
		p->n += tmp.n;
	}
	free(tmp.rules);
	return e;
}

/* uid's groups: gid and, when the user database knows uid, its
 * supplementary groups. *groups malloc'd; on failure to look them up, gid
 * alone (the membership SO_PEERCRED vouches for). */
static void groups_of(uid_t uid, gid_t gid, gid_t **groups, int *n)
{
	char name[NAME_LEN];
	struct db_query q = { .uid = uid, .out_name = name };
	gid_t *g = NULL, *grown;
	int want = 16;

	*groups = NULL;
	*n = 0;
	if (with_buffer(user_by_uid, &q))
		return;
	for (;;) {
		int got = want;

		grown = realloc(g, (size_t)want * sizeof(*g));
		if (!grown)
			break;
		g = grown;
		if (getgrouplist(name, gid, g, &got) >= 0) {
			*groups = g;
			*n = got;
			return;
		}
		if (got <= want || got > 65536)
			break;
		want = got;
	}
	free(g);
}

static bool lists_port(const struct rule *r, uint16_t port)
{
	size_t i;

	for (i = 0; i < r->nports; i++)
		if (port >= r->ports[i].lo && port <= r->ports[i].hi)
			return true;
	return false;
}

static bool has_group(const gid_t *groups, int n, gid_t gid, uint32_t want)
{
	int i;

	if (gid == want)
		return true;
	for (i = 0; i < n; i++)
		if (groups[i] == want)
			return true;
	return false;
}

/* Whether a rule naming uid or one of its groups lists port (port < 0:
 * any rule naming them). */
static bool allowed(const struct xm_policy *p, uid_t uid, gid_t gid, long port)
{
	gid_t *groups = NULL;
	bool looked = false, ok = false;
	int ngroups = 0;
	size_t i;

	if (uid == 0)
		return true;
	for (i = 0; i < p->n && !ok; i++) {
		const struct rule *r = &p->rules[i];

		if (port >= 0 && !lists_port(r, (uint16_t)port))
			continue;
		if (!r->group) {
			ok = r->id == uid;
			continue;
		}
		if (!looked) {
			groups_of(uid, gid, &groups, &ngroups);
			looked = true;
		}
		ok = has_group(groups, ngroups, gid, r->id);
	}
	free(groups);
	return ok;
}

bool xm_policy_user_allowed(const struct xm_policy *p, uid_t uid, gid_t gid)
{
	return allowed(p, uid, gid, -1);
}

bool xm_policy_port_allowed(const struct xm_policy *p, uid_t uid, gid_t gid, uint16_t port)
{
	return allowed(p, uid, gid, port);
}

/* Append to buf (len bytes, *at used); false when it did not fit. */
__attribute__((format(printf, 4, 5)))
static bool put(char *buf, size_t len, size_t *at, const char *fmt, ...)
{
	va_list ap;
	int w;

	va_start(ap, fmt);
	w = vsnprintf(buf + *at, len - *at, fmt, ap);
	va_end(ap);
	if (w < 0 || (size_t)w >= len - *at)
		return false;
	*at += (size_t)w;
	return true;
}

int xm_policy_describe(const struct xm_policy *p, char *buf, size_t len)
{
	size_t at = 0, i, j;
	bool ok = true;

	if (!len)
		return p->n ? -ENOSPC : 0;
	buf[0] = '\0';
	for (i = 0; ok && i < p->n; i++) {
		const struct rule *r = &p->rules[i];

		ok = put(buf, len, &at, "allow %s%s:", r->group ? "@" : "", r->name);
		for (j = 0; ok && j < r->nports; j++) {
			const struct port_range *pr = &r->ports[j];

			ok = pr->lo == pr->hi ?
			     put(buf, len, &at, "%s%u", j ? "," : "", pr->lo) :
			     put(buf, len, &at, "%s%u-%u", j ? "," : "", pr->lo, pr->hi);
		}
		ok = ok && put(buf, len, &at, "\n");
	}
	return ok ? 0 : -ENOSPC;
}
