// SPDX-License-Identifier: MIT
/* One HTTP connection of xdpmux-httpd: see conn.h. */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <xdpmux/xdpmux.h>

#include "conn.h"

/* How long a closing connection drains what the client still sends: Linux
 * (and our stack, as Linux) answers data arriving after close() with a RST,
 * which can make the client drop the response it has not read yet; so shut
 * the write side down first and read until the client closes (the
 * "lingering close" of nginx and Apache). */
#define LINGER_MS 2000

void conn_init(struct conn *c, int fd, uint64_t now_ms)
{
	c->fd = fd;
	c->file = NULL;
	c->file_off = c->file_left = c->discard = 0;
	c->last_ms = now_ms;
	c->linger_until_ms = 0;
	c->close_after = c->closing = c->peer_eof = false;
	c->in_len = c->out_off = c->out_len = 0;
}

void conn_close(struct conn *c)
{
	fc_put(c->file);
	c->file = NULL;
	xm_close(c->fd);
	c->fd = -1;
}

short conn_events(const struct conn *c)
{
	/* While a response is blocked on the window, read nothing more: the
	 * client's pipelined requests wait in the socket (back pressure). */
	if (c->out_off < c->out_len || c->file_left)
		return POLLOUT;
	return POLLIN;
}

static void http_date(char *buf, size_t cap, time_t t)
{
	struct tm tm;

	gmtime_r(&t, &tm);
	strftime(buf, cap, "%a, %d %b %Y %H:%M:%S GMT", &tm);
}

static void count_status(struct srv *s, int status)
{
	if (status < 300)
		s->stats.status_2xx++;
	else if (status < 500)
		s->stats.status_4xx++;
	else
		s->stats.status_5xx++;
}

/* Start a response: the head into c->out, and the connection's fate. */
static void respond_head(struct srv *s, struct conn *c, int status, int minor,
			 const char *type, uint64_t len, const char *extra)
{
	char date[64];
	int n;

	count_status(s, status);
	http_date(date, sizeof(date), time(NULL));
	n = snprintf(c->out, sizeof(c->out),
		     "HTTP/1.1 %d %s\r\nServer: xdpmux-httpd\r\nDate: %s\r\n"
		     "Content-Type: %s\r\nContent-Length: %" PRIu64 "\r\n%s%s\r\n",
		     status, http_reason(status), date, type, len, extra ? extra : "",
		     c->close_after ? "Connection: close\r\n"
				    : minor == 0 ? "Connection: keep-alive\r\n" : "");
	c->out_off = 0;
	c->out_len = (uint32_t)n;
}

static void respond_error(struct srv *s, struct conn *c, int status, int minor, bool head_only)
{
	char body[96];
	int n = snprintf(body, sizeof(body), "%d %s\n", status, http_reason(status));

	respond_head(s, c, status, minor, "text/plain; charset=utf-8", (uint64_t)n,
		     status == 405 ? "Allow: GET, HEAD\r\n" : NULL);
	if (!head_only) {
		memcpy(c->out + c->out_len, body, (size_t)n);
		c->out_len += (uint32_t)n;
	}
}

/* Append the next part of the file to c->out; false when the file shrank
 * or failed under us (the promised Content-Length cannot be met). */
static bool fill_from_file(struct conn *c)
{
	size_t room = CONN_OUT - c->out_len;
	size_t want = c->file_left < room ? (size_t)c->file_left : room;
	ssize_t n;

	if (!want)
		return true;
	n = pread(c->file->fd, c->out + c->out_len, want, (off_t)c->file_off);
	if (n <= 0)
		return false;
	c->out_len += (uint32_t)n;
	c->file_off += (uint64_t)n;
	c->file_left -= (uint64_t)n;
	return true;
}

/* Answer the head at the start of c->in (hl bytes). */
static void handle_request(struct srv *s, struct conn *c, size_t hl, uint64_t now_ms)
{
	struct http_req r;
	struct fc_file *f;
	char extra[96], lm[64];
	int st;
	size_t body;

	s->stats.requests++;
	st = http_parse_head(c->in, hl, &r);
	if (st) {
		/* The stream may be out of step with request boundaries now. */
		c->close_after = true;
		respond_error(s, c, st, r.minor, false);
		c->in_len = 0;
		return;
	}
	body = r.body_len < c->in_len - hl ? (size_t)r.body_len : c->in_len - hl;
	memmove(c->in, c->in + hl + body, c->in_len - hl - body);
	c->in_len -= (uint32_t)(hl + body);
	c->discard = r.body_len - body;
	c->close_after = !r.keep_alive;

	st = fc_open(&s->files, r.path, now_ms, &f);
	if (st) {
		respond_error(s, c, st, r.minor, r.method == HTTP_HEAD);
		return;
	}
	http_date(lm, sizeof(lm), f->sb.st_mtime);
	snprintf(extra, sizeof(extra), "Last-Modified: %s\r\n", lm);
	respond_head(s, c, 200, r.minor, http_mime(r.path), (uint64_t)f->sb.st_size, extra);
	if (r.method == HTTP_HEAD || !f->sb.st_size) {
		fc_put(f);
		return;
	}
	c->file = f;
	c->file_off = 0;
	c->file_left = (uint64_t)f->sb.st_size;
	/* Head and the start of the body in one send: a small response is one
	 * segment, not a head that Nagle lets out and a body it holds until
	 * the client's delayed ACK. */
	if (!fill_from_file(c))
		s->stats.errors++;   /* conn_step ends the connection */
}

/* recv that counts failures other than EAGAIN. >0 bytes, 0 EOF, -1 error,
 * -2 nothing now. */
static ssize_t recv_some(struct srv *s, struct conn *c, void *buf, size_t len)
{
	ssize_t n = xm_recv(c->fd, buf, len, MSG_DONTWAIT);

	if (n >= 0)
		return n;
	if (errno == EAGAIN)
		return -2;
	if (errno != ECONNRESET)
		s->stats.errors++;
	return -1;
}

bool conn_step(struct srv *s, struct conn *c, uint64_t now_ms)
{
	static char sink[16384];
	ssize_t n;

	for (;;) {
		if (c->out_off < c->out_len) {
			n = xm_send(c->fd, c->out + c->out_off, c->out_len - c->out_off,
				    MSG_DONTWAIT);
			if (n < 0) {
				if (errno == EAGAIN)
					return true;
				if (errno != EPIPE && errno != ECONNRESET)
					s->stats.errors++;
				return false;
			}
			c->out_off += (uint32_t)n;
			s->stats.bytes_sent += (uint64_t)n;
			c->last_ms = now_ms;
			continue;
		}
		if (c->file_left) {
			/* The rest of the body straight from the file into the
			 * connection's send buffer. */
			off_t off = (off_t)c->file_off;

			n = xm_sendfile_flags(c->fd, c->file->fd, &off,
					      c->file_left, MSG_DONTWAIT);
			if (n < 0 && errno == EAGAIN)
				return true;
			if (n <= 0) {
				/* The file shrank or failed under us, or the
				 * connection did: the client sees a short body. */
				if (n == 0 || (errno != EPIPE && errno != ECONNRESET))
					s->stats.errors++;
				return false;
			}
			c->file_off += (uint64_t)n;
			c->file_left -= (uint64_t)n;
			s->stats.bytes_sent += (uint64_t)n;
			c->last_ms = now_ms;
			continue;
		}
		if (c->file) {
			fc_put(c->file);
			c->file = NULL;
		}
		if (c->close_after && !c->closing) {
			if (xm_shutdown(c->fd, SHUT_WR) < 0)
				return false;
			c->closing = true;
			c->linger_until_ms = now_ms + LINGER_MS;
		}
		if (c->closing) {
			n = recv_some(s, c, sink, sizeof(sink));
			if (n > 0)
				continue;
			return n == -2 && now_ms < c->linger_until_ms;
		}
		if (c->discard) {
			n = recv_some(s, c, sink, c->discard < sizeof(sink) ? c->discard : sizeof(sink));
			if (n <= 0)
				return n == -2;
			c->discard -= (uint64_t)n;
			c->last_ms = now_ms;
			continue;
		}
		if (c->in_len) {
			size_t hl = http_head_len(c->in, c->in_len);

			if (hl) {
				handle_request(s, c, hl, now_ms);
				continue;
			}
			if (c->in_len == sizeof(c->in)) {
				c->close_after = true;
				respond_error(s, c, http_oversize_status(c->in, c->in_len), 1, false);
				s->stats.requests++;
				c->in_len = 0;
				continue;
			}
		}
		if (c->peer_eof)
			return false;   /* nothing more will come */
		n = recv_some(s, c, c->in + c->in_len, sizeof(c->in) - c->in_len);
		if (n == -2)
			return true;
		if (n < 0)
			return false;
		if (n == 0) {
			c->peer_eof = true;
			continue;
		}
		c->in_len += (uint32_t)n;
		c->last_ms = now_ms;
	}
}
