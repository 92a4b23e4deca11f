/* SPDX-License-Identifier: MIT */
/*
 * TCP side of xdpmux-echo: listeners that accept any number of connections
 * and send back every byte received. When the client half-closes, the echo
 * of what it sent is finished, then our side shuts down its write half and
 * closes (both directions half-close, as `socat ... EXEC:cat` does).
 * A client that stops reading stops the echo: no more is read from it until
 * its window opens again (back pressure, no unbounded buffering).
 */
#ifndef XDPMUX_ECHO_TCP_ECHO_H
#define XDPMUX_ECHO_TCP_ECHO_H

#include <stdint.h>
#include <stdio.h>

struct tcp_echo;

/* Listen on tcp/PORT for each of ports[0..n) (IPv6 wildcard, dual-stack).
 * 0, or -1 with errno set and *bad_port the port that failed. */
int tcp_echo_open(const uint16_t *ports, int n, struct tcp_echo **out,
		  uint16_t *bad_port);
/* Accept what is pending and move every connection forward; never blocks. */
void tcp_echo_serve(struct tcp_echo *t);
void tcp_echo_print(const struct tcp_echo *t, FILE *f);
/* Close every connection and listener; 0, or -1 when a close failed. */
int tcp_echo_close(struct tcp_echo *t);

#endif
