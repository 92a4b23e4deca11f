// SPDX-License-Identifier: GPL-2.0
/*
 * A tc (cls_bpf, direct action) program for the TCP selftests and
 * benchmarks: drop, or with -DDUP duplicate, a seeded fraction of the frames
 * crossing the hook it is attached to (ingress or egress). No CO-RE; the
 * test compiles it with clang -target bpf -mcpu=v3 -g and
 *   -DPCT=N   act on N percent of the frames (100: on every one);
 *   -DPPM=N   or on N per million (-DPPM=5000: 0.5%);
 *   -DSEED=N  frame k through this filter (k counts per attached filter, so
 *             per direction) is chosen iff mix(SEED + k) % 1000000 < PPM:
 *             the same seed makes the same choices for the same frames;
 *   -DDUP     duplicate a chosen frame (a clone goes first, the same way)
 *             instead of dropping it;
 *   -DFWD=I   pass frames to the egress of device I (ifindex) instead of up
 *             the stack: on the ingress of both ends of a namespace in the
 *             middle of a link, the filters make a wire that impairs;
 *   -DDELAY_IFINDEX=I -DDELAY_PPM=N  send a further seeded fraction (its
 *             own sequence) to device I instead, a delay line that gives
 *             them back later: they arrive after frames sent after them.
 * `frames`, `chosen` and `delayed` count what the filter saw and did, so
 * that the test can check that the impairment took effect.
 */
#include <linux/bpf.h>
#include <linux/pkt_cls.h>

static long (*bpf_clone_redirect)(struct __sk_buff *skb, __u32 ifindex, __u64 flags) =
	(void *)BPF_FUNC_clone_redirect;
static long (*bpf_redirect)(__u32 ifindex, __u64 flags) = (void *)BPF_FUNC_redirect;

#ifndef PPM
#define PPM ((__u64)PCT * 10000)
#endif

/* Set on a clone (and only while cloning on the original): the clone comes
 * through this filter again and must pass untouched. */
#define DUP_MARK 0x58444d50

__u64 frames, chosen, delayed;

/* splitmix64's finalizer: consecutive k give independent-looking choices. */
static __u64 mix(__u64 x)
{
	x ^= x >> 30;
	x *= 0xbf58476d1ce4e5b9ull;
	x ^= x >> 27;
	x *= 0x94d049bb133111ebull;
	return x ^ (x >> 31);
}

__attribute__((section("tc"), used))
int tcp_impair(struct __sk_buff *skb)
{
	__u64 k;

	if (skb->mark == DUP_MARK) {
		skb->mark = 0;
		return TC_ACT_OK;
	}
	k = __sync_fetch_and_add(&frames, 1);
	if (mix((__u64)SEED + k) % 1000000 < PPM) {
		__sync_fetch_and_add(&chosen, 1);
#ifdef DUP
		/* The peer's frames are its own (egress) or arrive on this
		 * device (ingress, ingress_ifindex set): the clone goes the
		 * same way. */
		skb->mark = DUP_MARK;
		bpf_clone_redirect(skb, skb->ifindex,
				   skb->ingress_ifindex ? BPF_F_INGRESS : 0);
		skb->mark = 0;
#else
		return TC_ACT_SHOT;
#endif
	}
#ifdef DELAY_IFINDEX
	if (mix(((__u64)SEED ^ 0x6a09e667f3bcc909ull) + k) % 1000000 < DELAY_PPM) {
		__sync_fetch_and_add(&delayed, 1);
		return bpf_redirect(DELAY_IFINDEX, 0);
	}
#endif
#ifdef FWD
	return bpf_redirect(FWD, 0);
#else
	return TC_ACT_OK;
#endif
}

char _license[] __attribute__((section("license"), used)) = "GPL";
