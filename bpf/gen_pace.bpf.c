// SPDX-License-Identifier: GPL-2.0
/*
 * The pacing of bench/udp_gen --xdp-live: run in a BPF_PROG_TEST_RUN loop of
 * live frames, it holds each frame until it is due at the rate asked, then
 * transmits it (XDP_TX). Waiting here, on the generator's own CPU, rather
 * than dropping what is not due: a frame dropped in the test run, like a
 * frame veth drops at a full ring, returns its page through the page
 * pool's shared ring under the lock the receiver takes for every frame it
 * frees, and a generator that offers far more than the receiver takes
 * spends that receiver's time on the lock (measured: 40% of an AF_XDP
 * receiver's). Paced, the generator offers what is asked, spread evenly.
 */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>

/* Set by udp_gen before the first run; 0 transmits every frame at once. */
__u64 interval_ns;
/* Frames transmitted, read by udp_gen at the end. */
__u64 sent;
/* When the next frame is due. */
__u64 next_ns;

/* How far behind the schedule the generator may fall (preempted, a slow
 * flush) and still catch up: a burst of at most this many intervals. */
#define CATCH_UP 64
/* The longest wait for one frame, in clock reads (tens of ns each): over
 * a millisecond, the longest interval udp_gen accepts (--rate >= 1000). */
#define WAIT_MAX (1 << 16)

static long due_yet(__u64 i, void *due)
{
	return bpf_ktime_get_ns() >= *(__u64 *)due;
}

SEC("xdp")
int xm_gen_pace(struct xdp_md *ctx)
{
	__u64 now, due;

	sent++;
	if (!interval_ns)
		return XDP_TX;
	now = bpf_ktime_get_ns();
	due = next_ns;
	if (now < due)
		bpf_loop(WAIT_MAX, due_yet, &due, 0);
	else if (due + CATCH_UP * interval_ns < now)
		due = now - CATCH_UP * interval_ns;
	next_ns = due + interval_ns;
	return XDP_TX;
}

char LICENSE[] SEC("license") = "GPL";
