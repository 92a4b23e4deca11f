// SPDX-License-Identifier: MIT
/*
 * The descriptor table. Socket descriptors are process-wide numbers, as
 * kernel fds are, so that the socket calls keep their POSIX signatures
 * (xm_recv(fd, ...), no stack argument). That makes this table the one piece
 * of process-global state in the library; it is guarded by a mutex and holds
 * nothing but the fd -> socket mapping. Numbers start at XM_FD_BASE so a
 * kernel fd passed by mistake fails with EBADF instead of naming a socket.
 */
#include <errno.h>
#include <pthread.h>
#include <stdlib.h>

#include <xdpmux/xdpmux.h>

#include "sock.h"

#define FD_MAX (1 << 20)

static pthread_mutex_t fd_lock = PTHREAD_MUTEX_INITIALIZER;
static struct xm_sock **fd_tab;
static int fd_cap;
static int fd_hint;

int xm_fd_alloc(struct xm_sock *s)
{
	int fd = -EMFILE;

	pthread_mutex_lock(&fd_lock);
	for (int n = 0; n < fd_cap; n++) {
		int i = (fd_hint + n) % fd_cap;

		if (!fd_tab[i]) {
			fd = i;
			break;
		}
	}
	if (fd < 0 && fd_cap < FD_MAX) {
		int cap = fd_cap ? fd_cap * 2 : 256;
		struct xm_sock **t = realloc(fd_tab, sizeof(*t) * (size_t)cap);

		if (t) {
			for (int i = fd_cap; i < cap; i++)
				t[i] = NULL;
			fd = fd_cap;
			fd_tab = t;
			fd_cap = cap;
		} else {
			fd = -ENOMEM;
		}
	}
	if (fd >= 0) {
		fd_tab[fd] = s;
		/* Lowest-free is what POSIX promises; we only promise unused,
		 * and not reusing a just-closed number at once catches
		 * use-after-close with EBADF more often. */
		fd_hint = fd + 1;
		fd += XM_FD_BASE;
		s->fd = fd;
	}
	pthread_mutex_unlock(&fd_lock);
	return fd;
}

void xm_fd_free(int fd)
{
	pthread_mutex_lock(&fd_lock);
	if (fd >= XM_FD_BASE && fd - XM_FD_BASE < fd_cap)
		fd_tab[fd - XM_FD_BASE] = NULL;
	pthread_mutex_unlock(&fd_lock);
}

struct xm_sock *xm_fd_get(int fd)
{
	struct xm_sock *s = NULL;

	pthread_mutex_lock(&fd_lock);
	if (fd >= XM_FD_BASE && fd - XM_FD_BASE < fd_cap)
		s = fd_tab[fd - XM_FD_BASE];
	pthread_mutex_unlock(&fd_lock);
	if (!s)
		errno = EBADF;
	return s;
}
