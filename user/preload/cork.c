// SPDX-License-Identifier: MIT
/*
 * TCP_CORK for xdpmux sockets, as Linux: while corked, small sends are
 * held and go out together when the cork is pulled (or when more than a
 * buffer's worth is held). nginx corks around a response's header and
 * sendfile body; sent apart, the body would wait behind Nagle for the
 * peer's delayed ACK of the header (40 ms a request). Linux also pushes
 * a cork after 200 ms; here a held send goes at the next send, uncork or
 * close, which is when the programs that cork end their response anyway.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "preload.h"

#define CORK_MAX 65536

int pl_cork_flush(struct pl_xs *xs)
{
	size_t off = 0;

	/* A short wait even for a non-blocking socket: what the cork holds
	 * was already reported sent to the program. */
	while (off < xs->cork_len) {
		ssize_t r = xm_send(xs->xfd, xs->cork_buf + off, xs->cork_len - off,
				    MSG_DONTWAIT);

		if (r >= 0) {
			off += (size_t)r;
			continue;
		}
		if (errno != EAGAIN) {
			xs->cork_len = 0;
			return -1;
		}
		if (xm_stack_poll(pl.st) <= 0 && pl_sleep(NULL, 0, UINT64_MAX, NULL) < 0 &&
		    errno != EINTR)
			break;
	}
	xs->cork_len = 0;
	return 0;
}

int pl_cork_set(struct pl_xs *xs, bool on)
{
	xs->corked = on;
	return on ? 0 : pl_cork_flush(xs);
}

uint8_t *pl_cork_room(struct pl_xs *xs, size_t len)
{
	if (!xs->corked || xs->type != SOCK_STREAM || xs->cork_len + len > CORK_MAX)
		return NULL;
	if (!xs->cork_buf && !(xs->cork_buf = malloc(CORK_MAX)))
		return NULL;
	return xs->cork_buf + xs->cork_len;
}

bool pl_cork_take(struct pl_xs *xs, const void *buf, size_t len)
{
	uint8_t *room;

	if (!xs->corked || xs->type != SOCK_STREAM)
		return false;
	if (xs->cork_len + len > CORK_MAX) {
		pl_cork_flush(xs);
		return false;
	}
	if (!(room = pl_cork_room(xs, len)))
		return false;
	memcpy(room, buf, len);
	xs->cork_len += len;
	return true;
}
