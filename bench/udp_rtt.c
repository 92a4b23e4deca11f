// SPDX-License-Identifier: MIT
/*
 * udp_rtt: UDP echo round trips through a kernel socket, one request at a
 * time, for the echo latency benchmark. The same client measures any echo
 * server (xdpmux-echo or a kernel one), so the two figures compare servers.
 *
 *   udp_rtt ADDR PORT [--count N] [--warmup N] [--size B] [--timeout-ms T]
 *
 * Each request carries a sequence number; a reply must carry the one sent
 * and be byte-identical, else it is discarded (a late reply to a request
 * that timed out). Timed-out requests count as lost and are left out of the
 * percentiles. Prints one line:
 *   requests N lost L req_per_s R p50_us X p99_us Y
 * and exits 1 when more than 1% were lost or none answered.
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <getopt.h>
#include <netdb.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

static uint64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

static int cmp_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;

	return x < y ? -1 : x > y;
}

/* Nearest-rank percentile of sorted v[0..n). */
static double pct_us(const uint64_t *v, size_t n, double p)
{
	size_t k = (size_t)(p / 100.0 * (double)n + 0.999999);

	if (k < 1)
		k = 1;
	if (k > n)
		k = n;
	return (double)v[k - 1] / 1000.0;
}

/* Send request seq and wait for its reply; returns the round trip in ns or
 * 0 when it timed out. */
static uint64_t one(int fd, uint8_t *req, uint8_t *rep, size_t size,
		    uint32_t seq, int timeout_ms)
{
	struct pollfd p = { .fd = fd, .events = POLLIN };
	uint64_t t0, deadline;

	memcpy(req, &seq, sizeof(seq));
	t0 = now_ns();
	deadline = t0 + (uint64_t)timeout_ms * 1000000ull;
	if (send(fd, req, size, 0) != (ssize_t)size)
		return 0;
	for (;;) {
		uint64_t t = now_ns();
		ssize_t n;

		if (t >= deadline)
			return 0;
		if (poll(&p, 1, (int)((deadline - t) / 1000000ull) + 1) <= 0)
			continue;
		n = recv(fd, rep, size + 1, MSG_DONTWAIT);
		if (n == (ssize_t)size && !memcmp(req, rep, size))
			return now_ns() - t0;
		/* A late reply, or ECONNREFUSED from an ICMP error: keep
		 * waiting until the deadline. */
	}
}

int main(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "count", required_argument, NULL, 'n' },
		{ "warmup", required_argument, NULL, 'w' },
		{ "size", required_argument, NULL, 's' },
		{ "timeout-ms", required_argument, NULL, 't' },
		{ 0 }
	};
	struct addrinfo hints = { .ai_socktype = SOCK_DGRAM,
				  .ai_flags = AI_NUMERICHOST | AI_NUMERICSERV };
	long count = 10000, warmup = 200, size = 64, timeout_ms = 200, i;
	uint64_t *rtt, t_start, elapsed;
	size_t ok = 0, lost = 0;
	struct addrinfo *ai;
	uint8_t *req, *rep;
	int c, fd, err;

	while ((c = getopt_long(argc, argv, "", longopts, NULL)) != -1) {
		switch (c) {
		case 'n': count = atol(optarg); break;
		case 'w': warmup = atol(optarg); break;
		case 's': size = atol(optarg); break;
		case 't': timeout_ms = atol(optarg); break;
		default: return 2;
		}
	}
	if (argc - optind != 2 || count < 1 || warmup < 0 || size < 4 ||
	    size > 65507 || timeout_ms < 1) {
		fprintf(stderr, "usage: udp_rtt ADDR PORT [--count N] [--warmup N] "
			"[--size 4-65507] [--timeout-ms T]\n");
		return 2;
	}
	err = getaddrinfo(argv[optind], argv[optind + 1], &hints, &ai);
	if (err) {
		fprintf(stderr, "udp_rtt: %s port %s: %s\n", argv[optind],
			argv[optind + 1], gai_strerror(err));
		return 2;
	}
	fd = socket(ai->ai_family, SOCK_DGRAM, 0);
	if (fd < 0 || connect(fd, ai->ai_addr, ai->ai_addrlen)) {
		fprintf(stderr, "udp_rtt: connect %s port %s: %s\n", argv[optind],
			argv[optind + 1], strerror(errno));
		return 1;
	}
	freeaddrinfo(ai);
	req = malloc((size_t)size);
	rep = malloc((size_t)size + 1);
	rtt = calloc((size_t)count, sizeof(*rtt));
	if (!req || !rep || !rtt) {
		fprintf(stderr, "udp_rtt: out of memory\n");
		return 1;
	}
	for (i = 0; i < size; i++)
		req[i] = (uint8_t)i;
	for (i = 0; i < warmup; i++)
		one(fd, req, rep, (size_t)size, (uint32_t)(count + i), (int)timeout_ms);
	t_start = now_ns();
	for (i = 0; i < count; i++) {
		uint64_t r = one(fd, req, rep, (size_t)size, (uint32_t)i, (int)timeout_ms);

		if (r)
			rtt[ok++] = r;
		else
			lost++;
	}
	elapsed = now_ns() - t_start;
	if (!ok) {
		fprintf(stderr, "udp_rtt: no reply to any of %ld requests\n", count);
		free(rtt);
		free(rep);
		free(req);
		close(fd);
		return 1;
	}
	qsort(rtt, ok, sizeof(*rtt), cmp_u64);
	printf("requests %ld lost %zu req_per_s %.0f p50_us %.1f p99_us %.1f\n",
	       count, lost, (double)ok * 1e9 / (double)elapsed,
	       pct_us(rtt, ok, 50), pct_us(rtt, ok, 99));
	free(rtt);
	free(rep);
	free(req);
	close(fd);
	return lost * 100 > (size_t)count ? 1 : 0;
}
