/* SPDX-License-Identifier: MIT */
/*
 * The device daemon's port policy: which local users may connect to it and
 * which local ports each may bind. Rules only allow; what no rule allows is
 * refused, except to root (uid 0), which may do everything.
 *
 *   allow alice:9000-9999,443      a user, by name or numeric uid
 *   allow @devs:7000               a group, by name or numeric gid: its
 *                                  members by primary or supplementary group
 *
 * Private to libxdpmux and the daemon that links it; every function returns
 * 0 or a negative errno and never prints.
 */
#ifndef XDPMUX_CONTROL_POLICY_H
#define XDPMUX_CONTROL_POLICY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

struct xm_policy;

int xm_policy_new(struct xm_policy **out);
void xm_policy_free(struct xm_policy *p);

/* spec "USER:PORTS" or "@GROUP:PORTS"; USER/GROUP a name or a numeric id;
 * PORTS like "9000-9999,443" (1-65535, ranges inclusive, lo <= hi). -EINVAL
 * (and a one-line reason in err) for a malformed spec; -ENOENT for an
 * unknown user or group name. err may be NULL. */
int xm_policy_add(struct xm_policy *p, const char *spec, char *err, size_t errlen);

/* A policy file: one "allow SPEC" per line; blank lines and '#' comments
 * (to the end of the line). Errors name the file and the line in err; a
 * file with an error adds none of its rules. */
int xm_policy_load(struct xm_policy *p, const char *path, char *err, size_t errlen);

/* uid 0 is always allowed everything. A uid may connect when some rule
 * names it or one of its groups: gid, its primary group as the peer's
 * SO_PEERCRED gives it, and its supplementary groups from the group
 * database (getgrouplist). */
bool xm_policy_user_allowed(const struct xm_policy *p, uid_t uid, gid_t gid);
/* Whether uid may bind local port `port` (any protocol): a rule naming it
 * or one of its groups lists the port. */
bool xm_policy_port_allowed(const struct xm_policy *p, uid_t uid, gid_t gid, uint16_t port);

/* One line per rule ("allow alice:9000-9999,443\n"), for the daemon's
 * start-up log; "" when there are none. -ENOSPC: it did not fit in len
 * (buf holds what did, terminated). */
int xm_policy_describe(const struct xm_policy *p, char *buf, size_t len);

#endif /* XDPMUX_CONTROL_POLICY_H */
