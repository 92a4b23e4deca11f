// SPDX-License-Identifier: MIT
/* The files xdpmux-httpd serves: see filecache.h. */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <linux/openat2.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "filecache.h"

/* Open path under the root; RESOLVE_BENEATH refuses ".." and symlinks that
 * lead out of it (the request path was already cleaned of ".."; this also
 * covers symlinks inside the tree). 0 or the HTTP status to answer. */
static int open_beneath(int root_fd, const char *path, int *fd, struct stat *sb)
{
	struct open_how how = {
		/* O_NONBLOCK: opening a FIFO must not block the server. */
		.flags = O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK,
		.resolve = RESOLVE_BENEATH | RESOLVE_NO_MAGICLINKS,
	};
	int f = (int)syscall(SYS_openat2, root_fd, *path ? path : ".", &how, sizeof(how));

	if (f < 0)
		return errno == EACCES || errno == EPERM ? 403 :
		       errno == EMFILE || errno == ENFILE || errno == ENOMEM ? 503 : 404;
	if (fstat(f, sb) < 0) {
		close(f);
		return 500;
	}
	*fd = f;
	return 0;
}

static int open_file(int root_fd, const char *path, int *fd, struct stat *sb)
{
	char index[HTTP_MAX_TARGET + 16];
	int st = open_beneath(root_fd, path, fd, sb);

	if (st)
		return st;
	if (S_ISDIR(sb->st_mode)) {
		close(*fd);
		snprintf(index, sizeof(index), "%s%sindex.html", path, *path ? "/" : "");
		st = open_beneath(root_fd, index, fd, sb);
		if (st)
			return st == 403 ? 403 : 404;
	}
	if (!S_ISREG(sb->st_mode)) {
		close(*fd);
		return 404;
	}
	return 0;
}

void fc_init(struct filecache *fc, int root_fd, uint64_t valid_ms)
{
	memset(fc, 0, sizeof(*fc));
	fc->root_fd = root_fd;
	fc->valid_ms = valid_ms;
}

void fc_put(struct fc_file *f)
{
	if (f && !--f->refs) {
		close(f->fd);
		free(f);
	}
}

/* FNV-1a: the slot a path is kept in. */
static uint32_t path_slot(const char *p)
{
	uint32_t h = 2166136261u;

	while (*p)
		h = (h ^ (uint8_t)*p++) * 16777619u;
	return h % FC_SLOTS;
}

int fc_open(struct filecache *fc, const char *path, uint64_t now_ms,
	    struct fc_file **out)
{
	struct fc_slot *s = NULL;
	struct fc_file *f;
	size_t len = strlen(path);
	int st;

	if (fc->valid_ms && len < sizeof(s->path)) {
		s = &fc->slot[path_slot(path)];
		if (s->f && now_ms - s->opened_ms < fc->valid_ms &&
		    !strcmp(s->path, path)) {
			s->f->refs++;
			*out = s->f;
			return 0;
		}
	}
	f = malloc(sizeof(*f));
	if (!f)
		return 503;
	st = open_file(fc->root_fd, path, &f->fd, &f->sb);
	if (st) {
		free(f);
		return st;
	}
	f->refs = 1;
	if (s) {
		/* Replaces what the slot held: a responses still sending the
		 * old file keeps it open until it is done. */
		fc_put(s->f);
		s->f = f;
		f->refs++;
		s->opened_ms = now_ms;
		memcpy(s->path, path, len + 1);
	}
	*out = f;
	return 0;
}

void fc_flush(struct filecache *fc)
{
	for (int i = 0; i < FC_SLOTS; i++) {
		fc_put(fc->slot[i].f);
		fc->slot[i].f = NULL;
	}
}
