/* SPDX-License-Identifier: MIT */
/*
 * Two hosts on a simulated Ethernet segment, for transport tests without
 * root or a network:
 *   a: the stack under test   02:00:00:00:00:02 198.18.0.2 2001:db8::2
 *   b: the peer               02:00:00:00:00:01 198.18.0.1 2001:db8::1
 * The peer is another xdpmux stack, or (raw) a bare sim link the test
 * writes crafted frames to (see frame.h: its defaults address a from b).
 *
 * The seed comes from XM_SEED when set (to replay a failure) or from the
 * test; ENV_ASSERT messages carry it.
 */
#ifndef XM_TEST_SIM_ENV_H
#define XM_TEST_SIM_ENV_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include <xdpmux/xdpmux.h>

#include "../../../user/lib/link/link.h"

struct sim_env_opts {
	bool raw_peer;               /* b is a bare link, not a stack */
	uint32_t mtu;                /* 0: 1500 */
	uint32_t a_frames;           /* a's buffer pool; 0: 4096 */
	const char *a_kind;          /* a's link kind ("veth"); NULL: none */
	struct xm_sim_impair a_to_b; /* impairments of frames a sends */
	struct xm_sim_impair b_to_a;
	struct xm_stack_opts a_opts;
};

struct sim_env {
	uint64_t seed;
	struct xm_sim *sim;
	struct xm_stack *a;
	struct xm_stack *b;          /* NULL with raw_peer */
	struct xm_link *raw;         /* the raw peer's link, or NULL */
	struct xm_link *la, *lb;     /* a's and b's links (owned by them) */
};

extern const uint8_t env_ip4_a[4], env_ip4_b[4];
extern const uint8_t env_ip6_a[16], env_ip6_b[16];

/* Open; asserts (criterion) on failure. */
void env_open(struct sim_env *e, uint64_t seed, const struct sim_env_opts *o);
/* Close both stacks and the sim; asserts no frame of a leaked. */
void env_close(struct sim_env *e);
/* Poll both stacks and advance virtual time to each next delivery until
 * nothing is on the wire (timers are left alone). */
void env_settle(struct sim_env *e);
/* Advance virtual time by ns, polling both stacks (timers run). */
void env_advance(struct sim_env *e, uint64_t ns);
/* Raw peer: put one frame on the wire towards a, then settle. */
void env_inject(struct sim_env *e, const void *frame, uint32_t len);
/* Raw peer: take the frames a sent (up to max, each copied into bufs[i]
 * of cap bytes); returns how many. */
int env_collect(struct sim_env *e, uint8_t (*bufs)[2048], uint32_t *lens, int max);

/* Socket helpers on a given stack: bound UDP socket (port 0: ephemeral). */
int env_udp(struct xm_stack *st, int family, uint16_t port);
/* sockaddr of host a or b (which 'a'/'b') at port, family AF_INET/6. */
socklen_t env_addr(int family, char which, uint16_t port, struct sockaddr_storage *ss);

/* The seed goes first in the message, so the caller's format and arguments
 * are formatted on their own. */
#define ENV_ASSERT(e, cond, ...) do { \
	if (!(cond)) { \
		char env_msg_[512]; \
		snprintf(env_msg_, sizeof(env_msg_), __VA_ARGS__); \
		cr_assert_fail("[seed %llu] %s", (unsigned long long)(e)->seed, \
			       env_msg_); \
	} \
} while (0)

#endif /* XM_TEST_SIM_ENV_H */
