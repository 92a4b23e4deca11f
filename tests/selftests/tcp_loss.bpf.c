// SPDX-License-Identifier: GPL-2.0
/*
 * A tc (cls_bpf, direct action) program for the TCP selftests: drop a
 * frame with probability THRESH / 2^32. Compiled by the test with
 * -DTHRESH=... (clang -target bpf); no maps, no CO-RE.
 */
#include <linux/bpf.h>
#include <linux/pkt_cls.h>

static unsigned int (*prandom_u32)(void) = (void *)BPF_FUNC_get_prandom_u32;

__attribute__((section("tc"), used))
int tcp_loss(struct __sk_buff *skb)
{
	(void)skb;
	return prandom_u32() < (unsigned int)THRESH ? TC_ACT_SHOT : TC_ACT_OK;
}

char _license[] __attribute__((section("license"), used)) = "GPL";
