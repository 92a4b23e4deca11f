/* SPDX-License-Identifier: MIT */
/*
 * xdpmux-perf's parts: main.c reads the command line and opens the stack,
 * tcp.c runs the TCP server and client, udp.c the UDP ones. Each run
 * function returns the exit status (0 ok, 1 failure, 2 usage).
 */
#ifndef XDPMUX_PERF_PERF_H
#define XDPMUX_PERF_PERF_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/socket.h>

#include <xdpmux/xdpmux.h>

struct opts {
	bool server, echo, once, json, idle, udp, latency;
	const char *dev, *addr, *cc;
	uint16_t port;
	uint64_t bytes;              /* TCP: bytes to send */
	int ka_idle, ka_intvl, ka_cnt;
	uint32_t size;               /* UDP: payload bytes of each datagram */
	uint64_t count;              /* UDP: datagrams or round trips; 0: no bound */
	double secs;                 /* UDP: duration; 0: no bound */
	uint64_t rate;               /* UDP: datagrams per second; 0: no pacing */
};

/* "xdpmux-perf: WHAT: EERRNO (text)" on stderr: tests match the name. */
void perf_fail_errno(const char *what, int e);
double perf_now_s(void);
/* ADDR (IPv4 or IPv6 literal) and port: the family, or -1 when unparsable. */
int perf_sockaddr(const char *addr, uint16_t port, struct sockaddr_storage *ss,
		  socklen_t *len);

int tcp_server(const struct opts *o);
int tcp_client(const struct opts *o);
int udp_server(const struct opts *o, struct xm_stack *st);
int udp_client(const struct opts *o, struct xm_stack *st);

#endif
