// SPDX-License-Identifier: MIT
/*
 * Binding owners. A pid alone can be reused after its process dies, so an
 * owner is (pid, start time): field 22 of /proc/<pid>/stat, in clock ticks
 * since boot (proc(5)).
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ctl_internal.h"

int xm_proc_start_time(pid_t pid, uint64_t *start)
{
	char path[64], buf[1024], *p;
	unsigned long long v;
	size_t len;
	FILE *f;
	int field;

	if (pid <= 0)
		return -ESRCH;
	snprintf(path, sizeof(path), "/proc/%d/stat", (int)pid);
	f = fopen(path, "re");
	if (!f)
		return errno == ENOENT ? -ESRCH : -errno;
	len = fread(buf, 1, sizeof(buf) - 1, f);
	fclose(f);
	buf[len] = '\0';
	/* comm (field 2) may hold spaces and ')': fields resume after the last ')'. */
	p = strrchr(buf, ')');
	if (!p)
		return -EIO;
	p++;
	/* p points before field 3; skip fields 3..21. */
	for (field = 3; field < 22; field++) {
		p = strchr(p + 1, ' ');
		if (!p)
			return -EIO;
	}
	if (sscanf(p, " %llu", &v) != 1)
		return -EIO;
	*start = v;
	return 0;
}

int xm_proc_comm(pid_t pid, char *buf, size_t len)
{
	char path[64];
	FILE *f;
	int err = 0;

	if (pid <= 0 || !len)
		return pid <= 0 ? -ESRCH : -EINVAL;
	snprintf(path, sizeof(path), "/proc/%d/comm", (int)pid);
	f = fopen(path, "re");
	if (!f)
		return errno == ENOENT ? -ESRCH : -errno;
	if (fgets(buf, (int)len, f))
		buf[strcspn(buf, "\n")] = '\0';
	else
		err = -EIO;
	fclose(f);
	return err;
}

/* pid 0 (nobody, made by an operator) is never a live process. */
bool xm_owner_alive(uint32_t pid, uint64_t start)
{
	uint64_t now;

	if (pid == 0 || pid > INT32_MAX)
		return false;
	if (xm_proc_start_time((pid_t)pid, &now))
		return false;
	return now == start;
}
