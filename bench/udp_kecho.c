// SPDX-License-Identifier: MIT
/*
 * udp_kecho: the kernel baseline of the echo benchmark, a UDP echo server on
 * one dual-stack kernel socket: blocking recvfrom, sendto back, nothing else
 * (no process per datagram, unlike socat's fork mode), so it is the fastest
 * one-request-at-a-time kernel server there is.
 *
 *   udp_kecho PORT [--spin]
 *
 * --spin never sleeps: recvfrom(MSG_DONTWAIT) in a loop, the kernel-socket
 * counterpart of a kernel-bypass stack's busy polling (the kernel's own busy
 * poll, SO_BUSY_POLL, needs a NAPI id that a veth device does not give).
 *
 * Runs until killed; prints "ready" once bound.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

int main(int argc, char **argv)
{
	struct sockaddr_in6 sa = { .sin6_family = AF_INET6 };
	static uint8_t buf[65536];
	int fd, zero = 0, port, flags = 0;

	if (argc == 3 && !strcmp(argv[2], "--spin"))
		flags = MSG_DONTWAIT;
	port = argc == 2 || flags ? atoi(argv[1]) : 0;
	if (port < 1 || port > 65535) {
		fprintf(stderr, "usage: udp_kecho PORT [--spin]\n");
		return 2;
	}
	sa.sin6_port = htons((uint16_t)port);
	fd = socket(AF_INET6, SOCK_DGRAM, 0);
	if (fd < 0 ||
	    setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &zero, sizeof(zero)) ||
	    bind(fd, (struct sockaddr *)&sa, sizeof(sa))) {
		fprintf(stderr, "udp_kecho: port %d: %s\n", port, strerror(errno));
		return 1;
	}
	printf("udp_kecho: ready on port %d\n", port);
	fflush(stdout);
	for (;;) {
		struct sockaddr_storage from;
		socklen_t flen = sizeof(from);
		ssize_t n = recvfrom(fd, buf, sizeof(buf), flags,
				     (struct sockaddr *)&from, &flen);

		if (n < 0) {
			if (errno == EINTR || errno == EAGAIN)
				continue;
			fprintf(stderr, "udp_kecho: recvfrom: %s\n", strerror(errno));
			return 1;
		}
		sendto(fd, buf, (size_t)n, 0, (struct sockaddr *)&from, flen);
	}
}
