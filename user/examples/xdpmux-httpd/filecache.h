/* SPDX-License-Identifier: MIT */
/*
 * The files xdpmux-httpd serves, opened under its root and kept open for a
 * short while (nginx's open_file_cache): a request for a path served less
 * than `valid_ms` ago reuses its descriptor and stat, so a small file costs
 * one pread instead of openat2, fstat, pread and close. A file changed or
 * removed within that window may still be served as it was, as with nginx's
 * open_file_cache_valid.
 */
#ifndef XDPMUX_HTTPD_FILECACHE_H
#define XDPMUX_HTTPD_FILECACHE_H

#include <stdint.h>
#include <sys/stat.h>

#include "http.h"

#define FC_SLOTS 64

/* An open file; shared by the cache and the responses that send it. */
struct fc_file {
	int fd;
	uint32_t refs;
	struct stat sb;
};

struct fc_slot {
	struct fc_file *f;        /* NULL: empty */
	uint64_t opened_ms;
	char path[HTTP_MAX_TARGET + 1];
};

struct filecache {
	int root_fd;
	uint64_t valid_ms;        /* 0: open every time */
	struct fc_slot slot[FC_SLOTS];
};

void fc_init(struct filecache *fc, int root_fd, uint64_t valid_ms);
/* The regular file at path under the root (a directory's index.html),
 * with a reference for the caller: 0, or the HTTP status to answer. */
int fc_open(struct filecache *fc, const char *path, uint64_t now_ms,
	    struct fc_file **out);
void fc_put(struct fc_file *f);
/* Drop every cached file (those still being sent close when sent). */
void fc_flush(struct filecache *fc);

#endif
