/* SPDX-License-Identifier: MIT */
/* A program's connection to the device daemon (libxdpmux side). */
#ifndef XM_DAEMON_CONN_H
#define XM_DAEMON_CONN_H

#include <stdbool.h>
#include <stdint.h>

#include "proto.h"

struct xmd_conn_queue {
	struct xmd_queue q;
	int xsk_fd;
	int umem_fd;
	int chan_fd;
};

struct xmd_conn {
	int sock;
	int doorbell;
	struct xmd_hello_reply hello;
	struct xmd_conn_queue *queues;   /* hello.n_queues */
	bool dead;                       /* the daemon went away */
};

/* Connect to the daemon serving dev and be served: -ENOENT when no daemon
 * serves it (no socket, or nobody answers on it: open the device alone);
 * the daemon's refusal as -errno with its reason in xm_error_detail(). */
int xmd_conn_open(const char *dev, struct xmd_conn **out);
/* The rings are mapped: ask the daemon to bind the sockets. 0 or -errno. */
int xmd_conn_activate(struct xmd_conn *c);
/* Closes what the link has not taken (fds set to -1 are taken). */
void xmd_conn_close(struct xmd_conn *c);
/* bind: true to bind, false to unbind. 0 or -errno (reason recorded). */
int xmd_conn_bind(struct xmd_conn *c, int proto, uint16_t port, bool bind);
int xmd_conn_neigh_use(struct xmd_conn *c, int family, const void *addr);
/* Ask the daemon for its status (any process may). -ENOENT: no daemon. */
int xmd_status_query(const char *dev, struct xmd_status_reply *out);

/* Record why the last call failed, for xm_error_detail(). */
void xm_error_detail_set(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

#endif /* XM_DAEMON_CONN_H */
