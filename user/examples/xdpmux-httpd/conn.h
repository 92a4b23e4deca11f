/* SPDX-License-Identifier: MIT */
/*
 * One HTTP connection of xdpmux-httpd: read request heads, answer each
 * (pipelined requests in order), stream files with non-blocking sends.
 */
#ifndef XDPMUX_HTTPD_CONN_H
#define XDPMUX_HTTPD_CONN_H

#include <stdbool.h>
#include <stdint.h>

#include "filecache.h"
#include "http.h"

#define CONN_OUT 65536

struct srv_stats {
	uint64_t requests, bytes_sent;
	uint64_t status_2xx, status_4xx, status_5xx;
	uint64_t accepted, closed, idle_closed, errors;
};

struct conn {
	int fd;
	struct fc_file *file;     /* file being sent, NULL none */
	uint64_t file_off, file_left;
	uint64_t discard;         /* request body bytes still to skip */
	uint64_t last_ms;         /* last progress, for the idle timeout */
	uint64_t linger_until_ms; /* closing: drain input until then */
	bool close_after;         /* close once the current response is out */
	bool closing;             /* write side shut down, draining */
	bool peer_eof;
	uint32_t in_len;
	uint32_t out_off, out_len;
	char in[HTTP_MAX_HEAD];
	char out[CONN_OUT];
};

struct srv {
	int root_fd;
	struct filecache files;
	struct srv_stats stats;
};

void conn_init(struct conn *c, int fd, uint64_t now_ms);
/* Make what progress the socket allows. false when the connection is over
 * (the caller closes it with conn_close). */
bool conn_step(struct srv *s, struct conn *c, uint64_t now_ms);
/* poll(2) events the connection waits for. */
short conn_events(const struct conn *c);
void conn_close(struct conn *c);

#endif
