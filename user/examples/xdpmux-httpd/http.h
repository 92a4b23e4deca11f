/* SPDX-License-Identifier: MIT */
/*
 * HTTP/1.1 request heads (RFC 9112) for xdpmux-httpd: finding the end of a
 * head, parsing the request line and the headers the server acts on, and
 * turning a request target into a path relative to the document root.
 * Pure functions over buffers: no I/O, no allocation.
 */
#ifndef XDPMUX_HTTPD_HTTP_H
#define XDPMUX_HTTPD_HTTP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define HTTP_MAX_HEAD   8192   /* request line + headers, as nginx's default */
#define HTTP_MAX_TARGET 2048   /* request target; longer gives 414 */

enum http_method { HTTP_GET, HTTP_HEAD };

struct http_req {
	enum http_method method;
	int minor;                 /* HTTP/1.<minor> */
	bool keep_alive;           /* after this response */
	uint64_t body_len;         /* Content-Length of the request body */
	char path[HTTP_MAX_TARGET + 1]; /* relative to the root, no leading '/' */
};

/* Length of the head (through the empty line) when buf holds a whole one,
 * else 0. */
size_t http_head_len(const char *buf, size_t len);

/* Parse a whole head (len from http_head_len). 0 when r is a request to
 * serve, else the HTTP status to answer with: 400 (malformed, missing Host
 * in HTTP/1.1, path above the root), 405 (method other than GET/HEAD), 414
 * (target too long), 501 (Transfer-Encoding), 505 (not HTTP/1.x). On an
 * error r->keep_alive is false when the stream cannot be trusted further. */
int http_parse_head(const char *buf, size_t len, struct http_req *r);

/* Status for a head that does not fit in HTTP_MAX_HEAD bytes: 414 when even
 * the request line is incomplete, else 431. */
int http_oversize_status(const char *buf, size_t len);

/* Decode a request target's path (origin-form: "/a/b%20c?q") into out,
 * relative to the root, with "." and ".." segments resolved (RFC 3986
 * 5.2.4). 0, or 400 (not origin-form, bad or NUL escape, ".." above the
 * root), 414 (longer than cap - 1). */
int http_target_path(const char *t, size_t len, char *out, size_t cap);

const char *http_reason(int status);
/* Content-Type for a file name, by extension. */
const char *http_mime(const char *path);

#endif
