// SPDX-License-Identifier: MIT
/* HTTP/1.1 request heads (RFC 9112): see http.h. */
#define _GNU_SOURCE
#include <ctype.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "http.h"

size_t http_head_len(const char *buf, size_t len)
{
	const char *e = memmem(buf, len, "\r\n\r\n", 4);

	return e ? (size_t)(e - buf) + 4 : 0;
}

int http_oversize_status(const char *buf, size_t len)
{
	return memchr(buf, '\n', len) ? 431 : 414;
}

static int hexval(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	c = (char)tolower((unsigned char)c);
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	return -1;
}

int http_target_path(const char *t, size_t len, char *out, size_t cap)
{
	size_t o = 0, i, seg;

	/* RFC 9112 3.2.1: origin-form starts with '/'; absolute-form is for
	 * proxies and asterisk-form for OPTIONS, neither of which we serve. */
	if (!len || t[0] != '/')
		return 400;
	for (i = 1; i < len && t[i] != '?' && t[i] != '#'; i++) {
		char c = t[i];

		if (c == '%') {
			int h, l;

			if (i + 2 >= len || (h = hexval(t[i + 1])) < 0 ||
			    (l = hexval(t[i + 2])) < 0)
				return 400;
			c = (char)(h * 16 + l);
			if (!c)
				return 400;
			i += 2;
		}
		if (o + 1 >= cap)
			return 414;
		out[o++] = c;
	}
	out[o] = 0;

	/* Remove dot segments in place over the decoded path (a decoded "%2e%2e"
	 * is "..", so this runs after decoding, not before). */
	{
		size_t r = 0, w = 0;

		while (r <= o) {
			size_t end = r;

			while (end < o && out[end] != '/')
				end++;
			seg = end - r;
			if (seg == 0 || (seg == 1 && out[r] == '.')) {
				/* empty or "." segment: drop */
			} else if (seg == 2 && out[r] == '.' && out[r + 1] == '.') {
				if (!w)
					return 400;   /* above the root */
				while (w && out[w - 1] != '/')
					w--;
				if (w)
					w--;      /* the '/' before it */
			} else {
				if (w)
					out[w++] = '/';
				memmove(out + w, out + r, seg);
				w += seg;
			}
			r = end + 1;
		}
		out[w] = 0;
	}
	return 0;
}

/* Header field value with surrounding whitespace trimmed (RFC 9112 5.1). */
static void trim(const char **v, const char **e)
{
	while (*v < *e && (**v == ' ' || **v == '\t'))
		(*v)++;
	while (*e > *v && ((*e)[-1] == ' ' || (*e)[-1] == '\t'))
		(*e)--;
}

/* Does the comma-separated list [v, e) hold token tok (case-insensitive)? */
static bool list_has(const char *v, const char *e, const char *tok)
{
	size_t tl = strlen(tok);

	while (v < e) {
		const char *c = memchr(v, ',', (size_t)(e - v)), *ie = c ? c : e, *iv = v;

		trim(&iv, &ie);
		if ((size_t)(ie - iv) == tl && !strncasecmp(iv, tok, tl))
			return true;
		v = c ? c + 1 : e;
	}
	return false;
}

static int parse_request_line(const char *p, const char *e, struct http_req *r)
{
	const char *sp1 = memchr(p, ' ', (size_t)(e - p)), *sp2;
	size_t mlen;

	if (!sp1)
		return 400;
	sp2 = memchr(sp1 + 1, ' ', (size_t)(e - sp1 - 1));
	if (!sp2 || sp2 == sp1 + 1)
		return 400;
	/* HTTP-version = "HTTP/" DIGIT "." DIGIT (RFC 9112 2.3) */
	if (e - sp2 - 1 != 8 || memcmp(sp2 + 1, "HTTP/", 5) || !isdigit((unsigned char)sp2[6]) ||
	    sp2[7] != '.' || !isdigit((unsigned char)sp2[8]))
		return 400;
	if (sp2[6] != '1')
		return 505;
	r->minor = sp2[8] - '0';
	mlen = (size_t)(sp1 - p);
	for (size_t i = 0; i < mlen; i++)
		if (!isupper((unsigned char)p[i]) && p[i] != '-' && p[i] != '_')
			return 400;   /* methods are tokens; ours are upper case */
	if (mlen == 3 && !memcmp(p, "GET", 3))
		r->method = HTTP_GET;
	else if (mlen == 4 && !memcmp(p, "HEAD", 4))
		r->method = HTTP_HEAD;
	else
		return 405;
	if ((size_t)(sp2 - sp1 - 1) > HTTP_MAX_TARGET)
		return 414;
	return http_target_path(sp1 + 1, (size_t)(sp2 - sp1 - 1), r->path, sizeof(r->path));
}

int http_parse_head(const char *buf, size_t len, struct http_req *r)
{
	const char *p = buf, *end = buf + len, *eol;
	bool have_host = false, have_cl = false, conn_close = false, conn_ka = false;
	int st;

	memset(r, 0, sizeof(*r));
	/* RFC 9112 2.2: ignore at least one empty line before the request. */
	while (end - p >= 2 && p[0] == '\r' && p[1] == '\n')
		p += 2;
	eol = memmem(p, (size_t)(end - p), "\r\n", 2);
	if (!eol)
		return 400;
	st = parse_request_line(p, eol, r);
	if (st == 405 || st == 414 || st == 505)
		return st;     /* answered with Connection: close */
	if (st)
		return 400;
	for (p = eol + 2; p < end; p = eol + 2) {
		const char *colon, *v, *ve;
		size_t nlen;

		eol = memmem(p, (size_t)(end - p), "\r\n", 2);
		if (!eol || eol == p)
			break;     /* the empty line ending the head */
		colon = memchr(p, ':', (size_t)(eol - p));
		/* RFC 9112 5.1: no whitespace between name and colon. */
		if (!colon || colon == p || colon[-1] == ' ' || colon[-1] == '\t')
			return 400;
		if (*p == ' ' || *p == '\t')
			return 400;   /* obsolete line folding (RFC 9112 5.2) */
		nlen = (size_t)(colon - p);
		v = colon + 1;
		ve = eol;
		trim(&v, &ve);
		if (nlen == 4 && !strncasecmp(p, "Host", 4)) {
			if (have_host)
				return 400;   /* RFC 9112 3.2: exactly one */
			have_host = true;
		} else if (nlen == 14 && !strncasecmp(p, "Content-Length", 14)) {
			char *ce;
			unsigned long long n;

			if (v == ve || !isdigit((unsigned char)*v))
				return 400;
			errno = 0;
			n = strtoull(v, &ce, 10);
			if (errno || ce != ve || (have_cl && n != r->body_len))
				return 400;   /* RFC 9112 6.3 (5): invalid length */
			have_cl = true;
			r->body_len = n;
		} else if (nlen == 17 && !strncasecmp(p, "Transfer-Encoding", 17)) {
			return 501;   /* no request bodies to decode here */
		} else if (nlen == 10 && !strncasecmp(p, "Connection", 10)) {
			conn_close |= list_has(v, ve, "close");
			conn_ka |= list_has(v, ve, "keep-alive");
		}
	}
	if (r->minor >= 1 && !have_host)
		return 400;
	/* RFC 9112 9.3: 1.1 persists unless "close"; 1.0 only on "keep-alive". */
	r->keep_alive = !conn_close && (r->minor >= 1 || conn_ka);
	return 0;
}

const char *http_reason(int status)
{
	switch (status) {
	case 200: return "OK";
	case 400: return "Bad Request";
	case 403: return "Forbidden";
	case 404: return "Not Found";
	case 405: return "Method Not Allowed";
	case 414: return "URI Too Long";
	case 431: return "Request Header Fields Too Large";
	case 500: return "Internal Server Error";
	case 501: return "Not Implemented";
	case 503: return "Service Unavailable";
	case 505: return "HTTP Version Not Supported";
	default: return "Unknown";
	}
}

const char *http_mime(const char *path)
{
	static const struct { const char *ext, *type; } types[] = {
		{ "html", "text/html; charset=utf-8" }, { "htm", "text/html; charset=utf-8" },
		{ "txt", "text/plain; charset=utf-8" }, { "css", "text/css" },
		{ "js", "text/javascript" }, { "json", "application/json" },
		{ "png", "image/png" }, { "jpg", "image/jpeg" }, { "jpeg", "image/jpeg" },
		{ "gif", "image/gif" }, { "svg", "image/svg+xml" }, { "ico", "image/x-icon" },
		{ "pdf", "application/pdf" }, { "gz", "application/gzip" },
		{ "tar", "application/x-tar" }, { "zip", "application/zip" },
	};
	const char *dot = strrchr(path, '.'), *slash = strrchr(path, '/');

	if (dot && (!slash || dot > slash))
		for (size_t i = 0; i < sizeof(types) / sizeof(types[0]); i++)
			if (!strcasecmp(dot + 1, types[i].ext))
				return types[i].type;
	return "application/octet-stream";
}
