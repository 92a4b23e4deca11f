// SPDX-License-Identifier: MIT
/*
 * Is a kernel socket already using a port we are about to bind? Read from
 * /proc/net/{tcp,tcp6,udp,udp6}, which show the sockets of the reading
 * process's network namespace: a TCP socket conflicts when it listens, a UDP
 * socket when it is bound, on the port and on the binding's address or a
 * wildcard. The owner is found by the socket's inode in /proc/<pid>/fd.
 */
#include <arpa/inet.h>
#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "ctl_internal.h"

#define TCP_LISTEN_STATE 0x0A /* include/net/tcp_states.h: TCP_LISTEN */

struct proc_sock {
	uint8_t family;       /* XM_FAMILY_INET or XM_FAMILY_INET6 */
	uint8_t addr[16];
	uint16_t port;        /* host order */
	unsigned state;
	unsigned long inode;
};

/*
 * "0100007F:1F90" -> 127.0.0.1, 8080. The kernel prints each 32-bit word of
 * the address with %08X in host byte order, so each word is parsed and
 * stored back in host order to recover the network-order bytes.
 */
static int parse_addr(const char *s, struct proc_sock *ps)
{
	size_t words = ps->family == XM_FAMILY_INET ? 1 : 4, i;
	char word[9];
	uint32_t w;
	unsigned port;

	for (i = 0; i < words; i++) {
		memcpy(word, s + 8 * i, 8);
		word[8] = '\0';
		w = (uint32_t)strtoul(word, NULL, 16);
		memcpy(ps->addr + 4 * i, &w, 4);
	}
	if (s[8 * words] != ':' || sscanf(s + 8 * words + 1, "%x", &port) != 1)
		return -EINVAL;
	ps->port = (uint16_t)port;
	return 0;
}

static bool addr_is_any(const struct proc_sock *ps)
{
	static const uint8_t zero[16];

	return !memcmp(ps->addr, zero, ps->family == XM_FAMILY_INET ? 4 : 16);
}

static bool addr_is_v4mapped(const uint8_t *a6, const uint8_t *a4)
{
	static const uint8_t prefix[12] = { [10] = 0xff, [11] = 0xff };

	return !memcmp(a6, prefix, 12) && !memcmp(a6 + 12, a4, 4);
}

/* Would a packet for the binding's address reach this kernel socket? */
static bool addr_overlaps(const struct xm_binding_key *key, const struct proc_sock *ps)
{
	if (key->family == XM_FAMILY_ANY || addr_is_any(ps))
		/* An IPv4 wildcard socket does not see IPv6 traffic; a dual-stack
		 * IPv6 wildcard socket sees both. */
		return !(key->family == XM_FAMILY_INET6 && ps->family == XM_FAMILY_INET);
	if (key->family == ps->family)
		return !memcmp(key->addr, ps->addr, ps->family == XM_FAMILY_INET ? 4 : 16);
	if (key->family == XM_FAMILY_INET && ps->family == XM_FAMILY_INET6)
		return addr_is_v4mapped(ps->addr, key->addr);
	return false;
}

/* The inode of a conflicting socket in one /proc/net table; 0 when none. */
static int scan_table(const char *path, uint8_t family, bool tcp,
		      const struct xm_binding_key *key, unsigned long *inode)
{
	char line[512], local[64], remote[64];
	struct proc_sock ps;
	FILE *f;

	f = fopen(path, "re");
	if (!f)
		return errno == ENOENT ? 0 : -errno; /* no IPv6 in this kernel */
	if (!fgets(line, sizeof(line), f)) { /* header */
		fclose(f);
		return 0;
	}
	while (fgets(line, sizeof(line), f)) {
		memset(&ps, 0, sizeof(ps));
		ps.family = family;
		/* sl local rem st tx:rx tr:when retrnsmt uid timeout inode */
		if (sscanf(line, " %*s %63s %63s %x %*s %*s %*s %*u %*u %lu",
			   local, remote, &ps.state, &ps.inode) != 4)
			continue;
		if (parse_addr(local, &ps))
			continue;
		if (ps.port != ntohs(key->port))
			continue;
		if (tcp && ps.state != TCP_LISTEN_STATE)
			continue;
		if (!addr_overlaps(key, &ps))
			continue;
		*inode = ps.inode;
		fclose(f);
		return 1;
	}
	fclose(f);
	return 0;
}

static bool all_digits(const char *s)
{
	if (!*s)
		return false;
	for (; *s; s++)
		if (!isdigit((unsigned char)*s))
			return false;
	return true;
}

static bool pid_has_socket(int pid, const char *want)
{
	char dir[64], path[320], target[64];
	struct dirent *de;
	bool found = false;
	ssize_t len;
	DIR *d;

	snprintf(dir, sizeof(dir), "/proc/%d/fd", pid);
	d = opendir(dir);
	if (!d)
		return false; /* exited meanwhile, or a kernel thread */
	while (!found && (de = readdir(d))) {
		if (de->d_name[0] == '.')
			continue;
		snprintf(path, sizeof(path), "%s/%s", dir, de->d_name);
		len = readlink(path, target, sizeof(target) - 1);
		if (len <= 0)
			continue;
		target[len] = '\0';
		found = !strcmp(target, want);
	}
	closedir(d);
	return found;
}

/* The first process holding socket `inode`, and its comm. */
static void find_owner(unsigned long inode, struct xm_conflict *c)
{
	char want[48];
	struct dirent *de;
	DIR *d;

	snprintf(want, sizeof(want), "socket:[%lu]", inode);
	d = opendir("/proc");
	if (!d)
		return;
	while ((de = readdir(d))) {
		int pid;

		if (!all_digits(de->d_name))
			continue;
		pid = atoi(de->d_name);
		if (!pid_has_socket(pid, want))
			continue;
		c->pid = (pid_t)pid;
		if (xm_proc_comm(c->pid, c->comm, sizeof(c->comm)))
			c->comm[0] = '\0';
		break;
	}
	closedir(d);
}

int xm_ctl_port_conflict(const struct xm_binding_key *key, struct xm_conflict *c)
{
	const bool tcp = key->proto == IPPROTO_TCP;
	const char *v4 = tcp ? "/proc/net/tcp" : "/proc/net/udp";
	const char *v6 = tcp ? "/proc/net/tcp6" : "/proc/net/udp6";
	unsigned long inode = 0;
	int r;

	memset(c, 0, sizeof(*c));
	if (key->proto != IPPROTO_TCP && key->proto != IPPROTO_UDP)
		return -EINVAL;
	r = 0;
	if (key->family != XM_FAMILY_INET6)
		r = scan_table(v4, XM_FAMILY_INET, tcp, key, &inode);
	if (r == 0)
		r = scan_table(v6, XM_FAMILY_INET6, tcp, key, &inode);
	if (r <= 0)
		return r;
	find_owner(inode, c);
	return 1;
}
