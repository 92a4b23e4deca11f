/* SPDX-License-Identifier: MIT */
/*
 * What every example program (xdpmux-echo, xdpmux-httpd, xdpmux-perf)
 * does alike: parse ports and --mode, open the stack with an error that
 * says what to do, stop on SIGINT/SIGTERM, print the counters on SIGUSR1
 * and at exit, open IPv6 wildcard (dual-stack) sockets, and check the
 * stack's frame accounting at exit. PROG is the program's name, the prefix of every message.
 */
#ifndef XDPMUX_EXAMPLES_EXAMPLE_H
#define XDPMUX_EXAMPLES_EXAMPLE_H

#include <signal.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include <xdpmux/xdpmux.h>

/* Set by SIGINT/SIGTERM (ex_stop) and SIGUSR1 (ex_dump). */
extern volatile sig_atomic_t ex_stop, ex_dump;

/* Install the handlers above; SIGPIPE is ignored. */
void ex_signals(void);

/* The program's own counter lines ("  NAME ...") for its report. */
typedef void ex_own_print_fn(FILE *f, const void *arg);
/* Say what the report is: "PROG DEV counters:", the program's own lines
 * (own may be NULL), then the stack's counters ("  stack.NAME VALUE"). */
void ex_report_init(const char *prog, const char *dev, const struct xm_stack *st,
		    ex_own_print_fn *own, const void *arg);
/* Print the report on stdout now (at exit). */
void ex_report(void);
/* Print it if SIGUSR1 came since the last call: call it in every loop
 * that waits, so the signal is answered within one wait. */
void ex_report_if_asked(void);

/* A decimal in [min, max] (no sign, nothing after it): 0, else -1. */
int ex_parse_uint(const char *s, unsigned long min, unsigned long max,
		  unsigned long *out);
/* A port 1-65535: 0, else -1. */
int ex_parse_port(const char *s, uint16_t *out);
/* --mode auto|zerocopy|copy into o->zerocopy: 0, else prints why and -1. */
int ex_parse_mode(const char *prog, const char *arg, struct xm_stack_opts *o);

/* xm_stack_open, or "PROG: open stack on DEV: ERROR (what to do)": 0 or -1. */
/* strerror(err), and the device daemon's reason when it gave one (a
 * refused bind: which policy, which other owner). */
const char *ex_strerror(int err);

int ex_stack_open(const char *prog, const char *dev, const struct xm_stack_opts *o,
		  struct xm_stack **st);

/* A non-blocking IPv6 wildcard socket bound to port: a TCP listener
 * (SO_REUSEADDR, backlog) or a UDP socket. fd, or -1 with errno set. */
int ex_tcp_listen(uint16_t port, int backlog);
int ex_udp_bind(uint16_t port);

/* Print the frame accounting line ("none leaked" or "LEAKED"): 0 when
 * every frame is accounted for, else 1. */
int ex_frames_check(const char *prog, const struct xm_stack *st);

#endif
