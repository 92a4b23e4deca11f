/* SPDX-License-Identifier: MIT */
#ifndef XM_SOCKET_SOCKADDR_H
#define XM_SOCKET_SOCKADDR_H

#include <sys/socket.h>

#include "sock.h"

enum xm_addr_use {
	XM_ADDR_BIND,
	XM_ADDR_CONNECT,
	XM_ADDR_SENDTO,
};

/* 0 or -errno (EINVAL, EFAULT, EAFNOSUPPORT, ENETUNREACH). For CONNECT,
 * AF_UNSPEC yields ep->family 0. */
int xm_sockaddr_parse(const struct xm_sock *s, const struct sockaddr *sa,
		      socklen_t len, enum xm_addr_use use, struct xm_ep *ep);
/* Write ep as s's family of sockaddr, truncated to *len; *len = full size. */
int xm_sockaddr_fill(const struct xm_sock *s, const struct xm_ep *ep,
		     struct sockaddr *sa, socklen_t *len);

#endif /* XM_SOCKET_SOCKADDR_H */
