// SPDX-License-Identifier: MIT
/* TCP side of xdpmux-echo: see tcp_echo.h. */
#define _GNU_SOURCE
#include <errno.h>
#include <inttypes.h>
#include <netinet/in.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include <xdpmux/xdpmux.h>

#include "../common/example.h"
#include "tcp_echo.h"

#define ECHO_BUF 16384

struct tlisten {
	uint16_t port;
	int fd;
	uint64_t accepted, rx_bytes, tx_bytes, errors, half_closed;
};

struct tconn {
	int fd;
	struct tlisten *l;
	uint32_t off, len;        /* bytes of buf not yet echoed */
	bool eof;
	uint8_t buf[ECHO_BUF];
};

struct tcp_echo {
	struct tlisten *ls;
	int nls;
	struct tconn **cs;
	int ncs, capcs;
};

int tcp_echo_open(const uint16_t *ports, int n, struct tcp_echo **out, uint16_t *bad_port)
{
	struct tcp_echo *t = calloc(1, sizeof(*t));
	int i;

	if (!t || !(t->ls = calloc((size_t)n ? (size_t)n : 1, sizeof(*t->ls)))) {
		free(t);
		errno = ENOMEM;
		return -1;
	}
	for (i = 0; i < n; i++) {
		t->ls[i].port = ports[i];
		t->ls[i].fd = ex_tcp_listen(ports[i], 511);
		if (t->ls[i].fd < 0) {
			int e = errno;

			*bad_port = ports[i];
			t->nls = i;
			tcp_echo_close(t);
			errno = e;
			return -1;
		}
	}
	t->nls = n;
	*out = t;
	return 0;
}

/* One connection as far as it goes; false when it is over. */
static bool step(struct tconn *c)
{
	ssize_t n;

	for (;;) {
		if (c->off < c->len) {
			n = xm_send(c->fd, c->buf + c->off, c->len - c->off, MSG_DONTWAIT);
			if (n < 0) {
				if (errno == EAGAIN)
					return true;
				c->l->errors++;
				return false;
			}
			c->off += (uint32_t)n;
			c->l->tx_bytes += (uint64_t)n;
			continue;
		}
		if (c->eof) {
			/* Everything echoed: our FIN follows the last byte. */
			if (xm_shutdown(c->fd, SHUT_WR) < 0)
				c->l->errors++;
			else
				c->l->half_closed++;
			return false;
		}
		n = xm_recv(c->fd, c->buf, sizeof(c->buf), MSG_DONTWAIT);
		if (n < 0) {
			if (errno == EAGAIN)
				return true;
			c->l->errors++;
			return false;
		}
		if (n == 0) {
			c->eof = true;
			continue;
		}
		c->l->rx_bytes += (uint64_t)n;
		c->off = 0;
		c->len = (uint32_t)n;
	}
}

static void accept_all(struct tcp_echo *t, struct tlisten *l)
{
	int fd;

	while ((fd = xm_accept4(l->fd, NULL, NULL, SOCK_NONBLOCK)) >= 0) {
		struct tconn *c;

		if (t->ncs == t->capcs) {
			int cap = t->capcs ? 2 * t->capcs : 64;
			struct tconn **cs = realloc(t->cs, (size_t)cap * sizeof(*cs));

			if (!cs) {
				xm_close(fd);
				l->errors++;
				return;
			}
			t->cs = cs;
			t->capcs = cap;
		}
		c = malloc(sizeof(*c));
		if (!c) {
			xm_close(fd);
			l->errors++;
			return;
		}
		c->fd = fd;
		c->l = l;
		c->off = c->len = 0;
		c->eof = false;
		t->cs[t->ncs++] = c;
		l->accepted++;
	}
}

void tcp_echo_serve(struct tcp_echo *t)
{
	int i;

	for (i = 0; i < t->nls; i++)
		accept_all(t, &t->ls[i]);
	for (i = 0; i < t->ncs; i++) {
		struct tconn *c = t->cs[i];

		if (step(c))
			continue;
		/* The stack finishes sending what is queued after close. */
		xm_close(c->fd);
		free(c);
		t->cs[i--] = t->cs[--t->ncs];
	}
}

void tcp_echo_print(const struct tcp_echo *t, FILE *f)
{
	for (int i = 0; i < t->nls; i++) {
		const struct tlisten *l = &t->ls[i];

		fprintf(f, "  tcp/%-5u connections %" PRIu64 " (half-closed %" PRIu64
			") rx %" PRIu64 " bytes tx %" PRIu64 " bytes errors %" PRIu64 "\n",
			l->port, l->accepted, l->half_closed, l->rx_bytes, l->tx_bytes,
			l->errors);
	}
}

int tcp_echo_close(struct tcp_echo *t)
{
	int rc = 0, i;

	for (i = 0; i < t->ncs; i++) {
		xm_close(t->cs[i]->fd);
		free(t->cs[i]);
	}
	for (i = 0; i < t->nls; i++)
		if (xm_close(t->ls[i].fd) < 0)
			rc = -1;
	free(t->cs);
	free(t->ls);
	free(t);
	return rc;
}
