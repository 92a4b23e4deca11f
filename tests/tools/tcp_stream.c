// SPDX-License-Identifier: MIT
/*
 * The selftests' source and sink for TCP transfers: the byte stream that
 * xdpmux-perf's client sends (user/examples/xdpmux-perf/stream.h), made
 * and checked here so that no test stores gigabytes.
 *
 *   tcp_stream N      write the stream's first N bytes to stdout
 *   tcp_stream -c N   read stdin to EOF; exit 0 when it is exactly the
 *                     stream's first N bytes, else say where it differs
 *                     (or how many bytes came) and exit 1
 *   tcp_stream -e ADDR PORT N
 *                     an echo client on the kernel's TCP: connect to ADDR
 *                     (IPv4 or IPv6, numeric) PORT, send the stream's first
 *                     N bytes, half-close, and check as -c what comes back
 *                     until the server's FIN. It reads whatever arrives,
 *                     also while a send waits for window: a client that
 *                     stops reading while it waits to send (socat, blocked
 *                     in write(2) on a full socket) can deadlock with any
 *                     echo server whose buffers are bounded, once its
 *                     unread echo fills its own receive window.
 *
 * Exit status 2 for usage and I/O errors.
 */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <netdb.h>
#include <poll.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "../../user/examples/xdpmux-perf/stream.h"

#define CHUNK 65536

static int write_stream(uint64_t n)
{
	static uint8_t buf[CHUNK];

	for (uint64_t off = 0; off < n;) {
		size_t len = n - off < CHUNK ? (size_t)(n - off) : CHUNK;
		ssize_t w;

		perf_stream_fill(buf, off, len);
		for (size_t done = 0; done < len; done += (size_t)w) {
			w = write(1, buf + done, len - done);
			if (w < 0) {
				perror("tcp_stream: write");
				return 2;
			}
		}
		off += len;
	}
	return 0;
}

/* got[0..len) came at stream offset off of n bytes: 0 when it is the
 * stream's, else say how it is not and 1. */
static int check_chunk(const uint8_t *got, uint64_t off, size_t len, uint64_t n)
{
	static uint8_t want[CHUNK];
	size_t i = 0;

	if (off + len > n) {
		fprintf(stderr, "tcp_stream: more than the %" PRIu64 " bytes sent\n", n);
		return 1;
	}
	perf_stream_fill(want, off, len);
	if (!memcmp(got, want, len))
		return 0;
	while (got[i] == want[i])
		i++;
	fprintf(stderr, "tcp_stream: differs at byte %" PRIu64 " (0x%02x, want 0x%02x)\n",
		off + i, got[i], want[i]);
	return 1;
}

static int check_end(uint64_t off, uint64_t n)
{
	if (off == n)
		return 0;
	fprintf(stderr, "tcp_stream: got %" PRIu64 " of %" PRIu64 " bytes\n", off, n);
	return 1;
}

static int check_stream(uint64_t n)
{
	static uint8_t got[CHUNK];
	uint64_t off = 0;
	ssize_t r;

	while ((r = read(0, got, CHUNK)) > 0) {
		if (check_chunk(got, off, (size_t)r, n))
			return 1;
		off += (uint64_t)r;
	}
	if (r < 0) {
		perror("tcp_stream: read");
		return 2;
	}
	return check_end(off, n);
}

static int echo_client(const char *addr, const char *port, uint64_t n)
{
	static uint8_t out[CHUNK], in[CHUNK];
	struct addrinfo hints = { .ai_socktype = SOCK_STREAM,
				  .ai_flags = AI_NUMERICHOST | AI_NUMERICSERV };
	uint64_t tx = 0, rx = 0;
	size_t out_off = 0, out_len = 0;
	struct addrinfo *ai;
	int fd, r;

	r = getaddrinfo(addr, port, &hints, &ai);
	if (r) {
		fprintf(stderr, "tcp_stream: %s port %s: %s\n", addr, port, gai_strerror(r));
		return 2;
	}
	fd = socket(ai->ai_family, SOCK_STREAM, 0);
	if (fd < 0 || connect(fd, ai->ai_addr, ai->ai_addrlen) < 0) {
		fprintf(stderr, "tcp_stream: connect %s port %s: %s\n", addr, port, strerror(errno));
		freeaddrinfo(ai);
		return 2;
	}
	freeaddrinfo(ai);
	if (!n && shutdown(fd, SHUT_WR) < 0) {
		perror("tcp_stream: shutdown");
		return 2;
	}
	if (fcntl(fd, F_SETFL, O_NONBLOCK) < 0) {
		perror("tcp_stream: O_NONBLOCK");
		return 2;
	}
	for (;;) {
		struct pollfd pf = { .fd = fd, .events = POLLIN | (tx < n ? POLLOUT : 0) };
		ssize_t k;

		if (poll(&pf, 1, -1) < 0) {
			if (errno == EINTR)
				continue;
			perror("tcp_stream: poll");
			return 2;
		}
		/* Read first: the echo must never wait on our sending. */
		k = recv(fd, in, sizeof(in), 0);
		if (k == 0)
			break;
		if (k > 0) {
			if (check_chunk(in, rx, (size_t)k, n))
				return 1;
			rx += (uint64_t)k;
		} else if (errno != EAGAIN && errno != EINTR) {
			fprintf(stderr, "tcp_stream: recv after %" PRIu64 " of %" PRIu64
				" bytes back: %s\n", rx, n, strerror(errno));
			return 2;
		}
		if (tx == n)
			continue;
		if (out_off == out_len) {
			out_len = n - tx < CHUNK ? (size_t)(n - tx) : CHUNK;
			out_off = 0;
			perf_stream_fill(out, tx, out_len);
		}
		k = send(fd, out + out_off, out_len - out_off, MSG_NOSIGNAL);
		if (k < 0) {
			if (errno == EAGAIN || errno == EINTR)
				continue;
			fprintf(stderr, "tcp_stream: send after %" PRIu64 " of %" PRIu64
				" bytes: %s\n", tx, n, strerror(errno));
			return 2;
		}
		out_off += (size_t)k;
		tx += (uint64_t)k;
		if (tx == n && shutdown(fd, SHUT_WR) < 0) {
			perror("tcp_stream: shutdown");
			return 2;
		}
	}
	close(fd);
	return check_end(rx, n);
}

int main(int argc, char **argv)
{
	int check = argc == 3 && !strcmp(argv[1], "-c");
	int echo = argc == 5 && !strcmp(argv[1], "-e");
	const char *count = argv[argc - 1];
	char *end;
	uint64_t n;

	if (argc != 2 + check && !echo) {
		fprintf(stderr, "usage: tcp_stream [-c] BYTES\n"
				"       tcp_stream -e ADDR PORT BYTES\n");
		return 2;
	}
	n = strtoull(count, &end, 10);
	if (*end || end == count) {
		fprintf(stderr, "tcp_stream: bad byte count '%s'\n", count);
		return 2;
	}
	if (echo)
		return echo_client(argv[2], argv[3], n);
	return check ? check_stream(n) : write_stream(n);
}
