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
 *
 * Exit status 2 for usage and I/O errors.
 */
#include <inttypes.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "../../user/examples/xdpmux-perf/stream.h"

#define CHUNK 65536

static void fill(uint8_t *buf, uint64_t off, size_t len)
{
	for (size_t i = 0; i < len;) {
		uint64_t x = perf_stream_word((off + i) >> 3);

		for (unsigned int b = (off + i) & 7; b < 8 && i < len; b++)
			buf[i++] = (uint8_t)(x >> (b * 8));
	}
}

static int write_stream(uint64_t n)
{
	static uint8_t buf[CHUNK];

	for (uint64_t off = 0; off < n;) {
		size_t len = n - off < CHUNK ? (size_t)(n - off) : CHUNK;
		ssize_t w;

		fill(buf, off, len);
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

static int check_stream(uint64_t n)
{
	static uint8_t got[CHUNK], want[CHUNK];
	uint64_t off = 0;
	ssize_t r;

	while ((r = read(0, got, CHUNK)) > 0) {
		size_t len = (size_t)r;

		if (off + len > n) {
			fprintf(stderr, "tcp_stream: more than the %" PRIu64 " bytes sent\n", n);
			return 1;
		}
		fill(want, off, len);
		if (memcmp(got, want, len)) {
			size_t i = 0;

			while (got[i] == want[i])
				i++;
			fprintf(stderr, "tcp_stream: differs at byte %" PRIu64
				" (0x%02x, want 0x%02x)\n", off + i, got[i], want[i]);
			return 1;
		}
		off += len;
	}
	if (r < 0) {
		perror("tcp_stream: read");
		return 2;
	}
	if (off != n) {
		fprintf(stderr, "tcp_stream: got %" PRIu64 " of %" PRIu64 " bytes\n", off, n);
		return 1;
	}
	return 0;
}

int main(int argc, char **argv)
{
	int check = argc == 3 && !strcmp(argv[1], "-c");
	char *end;
	uint64_t n;

	if (argc != 2 + check) {
		fprintf(stderr, "usage: tcp_stream [-c] BYTES\n");
		return 2;
	}
	n = strtoull(argv[1 + check], &end, 10);
	if (*end || end == argv[1 + check]) {
		fprintf(stderr, "tcp_stream: bad byte count '%s'\n", argv[1 + check]);
		return 2;
	}
	return check ? check_stream(n) : write_stream(n);
}
