/* SPDX-License-Identifier: MIT */
/* Messages with file descriptors over the daemon's socket, and the
 * channel's rings: helpers both ends use. */
#ifndef XM_DAEMON_MSG_H
#define XM_DAEMON_MSG_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>
#include <xdp/xsk.h>

#include "proto.h"

#define XMD_MAX_FDS 4

/* The daemon's socket for dev: XMD_SOCK_DIR/DEV.sock, or $XDPMUX_SOCK_DIR
 * instead of XMD_SOCK_DIR (tests). -ENAMETOOLONG. */
int xmd_sock_path(const char *dev, char *buf, size_t len);

/* One message, with nfds descriptors (0..XMD_MAX_FDS). 0 or -errno. */
int xmd_send(int sock, const void *msg, size_t len, const int *fds, int nfds);
/* One message into buf; received descriptors (close-on-exec) into fds,
 * their count into *nfds. Returns the message length, 0 at EOF, or -errno.
 * A message shorter than a header, or truncated, is -EPROTO. */
ssize_t xmd_recv(int sock, void *buf, size_t cap, int *fds, int *nfds);

/* Drive a channel ring (struct xmd_ring_hdr followed by size u64 slots)
 * with libxdp's ring helpers. size: a power of two. */
void xmd_ring_prod_init(struct xsk_ring_prod *r, void *hdr, uint32_t size);
void xmd_ring_cons_init(struct xsk_ring_cons *r, void *hdr, uint32_t size);
/* Entries between consumer and producer, as seen now (for the other end's
 * view of a ring, or after its owner died). */
uint32_t xmd_ring_pending(const void *hdr);

#endif /* XM_DAEMON_MSG_H */
