// SPDX-License-Identifier: MIT
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "msg.h"

int xmd_sock_path(const char *dev, char *buf, size_t len)
{
	const char *dir = getenv("XDPMUX_SOCK_DIR");
	int n;

	if (!dir || !*dir)
		dir = XMD_SOCK_DIR;
	n = snprintf(buf, len, "%s/%s.sock", dir, dev);
	return n < 0 || (size_t)n >= len ? -ENAMETOOLONG : 0;
}

int xmd_send(int sock, const void *msg, size_t len, const int *fds, int nfds)
{
	union {
		char buf[CMSG_SPACE(sizeof(int) * XMD_MAX_FDS)];
		struct cmsghdr align;
	} c;
	struct iovec iov = { .iov_base = (void *)msg, .iov_len = len };
	struct msghdr mh = { .msg_iov = &iov, .msg_iovlen = 1 };

	if (nfds < 0 || nfds > XMD_MAX_FDS)
		return -EINVAL;
	if (nfds) {
		struct cmsghdr *cm;

		memset(&c, 0, sizeof(c));
		mh.msg_control = c.buf;
		mh.msg_controllen = CMSG_SPACE(sizeof(int) * (size_t)nfds);
		cm = CMSG_FIRSTHDR(&mh);
		cm->cmsg_level = SOL_SOCKET;
		cm->cmsg_type = SCM_RIGHTS;
		cm->cmsg_len = CMSG_LEN(sizeof(int) * (size_t)nfds);
		memcpy(CMSG_DATA(cm), fds, sizeof(int) * (size_t)nfds);
	}
	for (;;) {
		ssize_t n = sendmsg(sock, &mh, MSG_NOSIGNAL);

		if (n == (ssize_t)len)
			return 0;
		if (n >= 0)
			return -EPROTO;   /* SEQPACKET never sends a part */
		if (errno != EINTR)
			return -errno;
	}
}

ssize_t xmd_recv(int sock, void *buf, size_t cap, int *fds, int *nfds)
{
	union {
		char buf[CMSG_SPACE(sizeof(int) * XMD_MAX_FDS)];
		struct cmsghdr align;
	} c;
	struct iovec iov = { .iov_base = buf, .iov_len = cap };
	struct msghdr mh = {
		.msg_iov = &iov, .msg_iovlen = 1,
		.msg_control = c.buf, .msg_controllen = sizeof(c.buf),
	};
	struct cmsghdr *cm;
	ssize_t n;
	int got = 0;

	do
		n = recvmsg(sock, &mh, MSG_CMSG_CLOEXEC);
	while (n < 0 && errno == EINTR);
	if (n < 0)
		return -errno;
	for (cm = CMSG_FIRSTHDR(&mh); cm; cm = CMSG_NXTHDR(&mh, cm)) {
		size_t k;

		if (cm->cmsg_level != SOL_SOCKET || cm->cmsg_type != SCM_RIGHTS)
			continue;
		k = (cm->cmsg_len - CMSG_LEN(0)) / sizeof(int);
		for (size_t i = 0; i < k; i++) {
			int fd;

			memcpy(&fd, CMSG_DATA(cm) + i * sizeof(int), sizeof(int));
			if (fds && nfds && got < XMD_MAX_FDS)
				fds[got++] = fd;
			else
				close(fd);   /* nobody asked for it */
		}
	}
	if (nfds)
		*nfds = got;
	if (n == 0)
		return 0;
	if ((size_t)n < sizeof(struct xmd_hdr) || (mh.msg_flags & (MSG_TRUNC | MSG_CTRUNC))) {
		for (int i = 0; fds && i < got; i++)
			close(fds[i]);
		if (nfds)
			*nfds = 0;
		return -EPROTO;
	}
	return n;
}

static void ring_init(void *hdr, uint32_t size, uint32_t **prod, uint32_t **cons,
		      uint32_t **flags, void **ring)
{
	struct xmd_ring_hdr *h = hdr;

	*prod = &h->producer;
	*cons = &h->consumer;
	*flags = &h->flags;
	*ring = h + 1;
	(void)size;
}

void xmd_ring_prod_init(struct xsk_ring_prod *r, void *hdr, uint32_t size)
{
	memset(r, 0, sizeof(*r));
	ring_init(hdr, size, &r->producer, &r->consumer, &r->flags, &r->ring);
	r->mask = size - 1;
	r->size = size;
	r->cached_prod = __atomic_load_n(r->producer, __ATOMIC_ACQUIRE);
	/* As libxdp does: the cached consumer runs size ahead, so the
	 * free-entry arithmetic needs no addition. */
	r->cached_cons = __atomic_load_n(r->consumer, __ATOMIC_ACQUIRE) + size;
}

void xmd_ring_cons_init(struct xsk_ring_cons *r, void *hdr, uint32_t size)
{
	memset(r, 0, sizeof(*r));
	ring_init(hdr, size, &r->producer, &r->consumer, &r->flags, &r->ring);
	r->mask = size - 1;
	r->size = size;
	r->cached_prod = __atomic_load_n(r->producer, __ATOMIC_ACQUIRE);
	r->cached_cons = __atomic_load_n(r->consumer, __ATOMIC_ACQUIRE);
}

uint32_t xmd_ring_pending(const void *hdr)
{
	const struct xmd_ring_hdr *h = hdr;

	return __atomic_load_n(&h->producer, __ATOMIC_ACQUIRE) -
	       __atomic_load_n(&h->consumer, __ATOMIC_ACQUIRE);
}
