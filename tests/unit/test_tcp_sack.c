// SPDX-License-Identifier: MIT
/* RFC 6675 scoreboard: updates, D-SACK and bogus blocks, IsLost, SetPipe,
 * NextSeg, the range bound, and the 2^32 wrap. */
#include <criterion/criterion.h>

#include "../../user/lib/tcp/sack.h"

#define MSS 100u

static struct xm_tcp_sack_block B(uint32_t s, uint32_t e)
{
	return (struct xm_tcp_sack_block){ s, e };
}

static struct xm_sack_sb sb_at(uint32_t una, uint32_t nxt)
{
	struct xm_sack_sb sb;
	xm_sack_init(&sb, una);
	xm_sack_update(&sb, una, nxt, NULL, 0);
	return sb;
}

Test(tcp_sack, insert_merge_and_count)
{
	struct xm_sack_sb sb = sb_at(1000, 3000);
	struct xm_tcp_sack_block b[] = { B(1200, 1300), B(1500, 1600) };
	cr_assert_eq(xm_sack_update(&sb, 1000, 3000, b, 2), 200u);
	cr_assert_eq(sb.n, 2);
	/* a block bridging both merges into one range */
	struct xm_tcp_sack_block c = B(1250, 1550);
	cr_assert_eq(xm_sack_update(&sb, 1000, 3000, &c, 1), 200u);
	cr_assert_eq(sb.n, 1);
	cr_assert_eq(sb.r[0].start, 1200u);
	cr_assert_eq(sb.r[0].end, 1600u);
	cr_assert_eq(sb.sacked_bytes, 400u);
	/* duplicate: nothing new */
	cr_assert_eq(xm_sack_update(&sb, 1000, 3000, &c, 1), 0u);
	/* adjacent merges too */
	struct xm_tcp_sack_block d = B(1600, 1700);
	xm_sack_update(&sb, 1000, 3000, &d, 1);
	cr_assert_eq(sb.n, 1);
	cr_assert_eq(sb.r[0].end, 1700u);
	cr_assert(xm_sack_is_sacked(&sb, 1200, 500));
	cr_assert_not(xm_sack_is_sacked(&sb, 1100, 200));
	cr_assert_not(xm_sack_is_sacked(&sb, 1650, 100));
}

Test(tcp_sack, dsack_and_bogus_blocks_ignored)
{
	struct xm_sack_sb sb = sb_at(1000, 2000);
	struct xm_tcp_sack_block b[] = {
		B(900, 1000),    /* D-SACK below snd_una */
		B(1500, 2100),   /* beyond snd_nxt */
		B(1500, 1500),   /* empty */
		B(1600, 1500),   /* inverted */
	};
	cr_assert_eq(xm_sack_update(&sb, 1000, 2000, b, 4), 0u);
	cr_assert_eq(sb.n, 0);
	/* straddling snd_una: clipped */
	struct xm_tcp_sack_block c = B(900, 1100);
	cr_assert_eq(xm_sack_update(&sb, 1000, 2000, &c, 1), 100u);
	cr_assert_eq(sb.r[0].start, 1000u);
}

Test(tcp_sack, cumulative_ack_trims_ranges)
{
	struct xm_sack_sb sb = sb_at(1000, 3000);
	struct xm_tcp_sack_block b[] = { B(1200, 1300), B(1500, 1600) };
	xm_sack_update(&sb, 1000, 3000, b, 2);
	xm_sack_update(&sb, 1250, 3000, NULL, 0);
	cr_assert_eq(sb.n, 2);
	cr_assert_eq(sb.r[0].start, 1250u);
	cr_assert_eq(sb.sacked_bytes, 150u);
	xm_sack_update(&sb, 1600, 3000, NULL, 0);
	cr_assert_eq(sb.n, 0);
	cr_assert_eq(sb.sacked_bytes, 0u);
	/* an old ACK does not move una backwards */
	xm_sack_update(&sb, 1200, 3000, NULL, 0);
	cr_assert_eq(sb.una, 1600u);
}

Test(tcp_sack, is_lost_dupthresh_rules)
{
	/* segments of 100 at 1000..2000; 1000 missing */
	struct xm_sack_sb sb = sb_at(1000, 2000);
	struct xm_tcp_sack_block b = B(1100, 1300);   /* 2 segments above */
	xm_sack_update(&sb, 1000, 2000, &b, 1);
	cr_assert_not(xm_sack_is_lost(&sb, 1000, MSS), "2 segments: not yet");
	cr_assert_not(xm_sack_loss_detected(&sb, MSS));
	b = B(1300, 1400);                             /* 3rd: > 2*SMSS bytes */
	xm_sack_update(&sb, 1000, 2000, &b, 1);
	cr_assert(xm_sack_is_lost(&sb, 1000, MSS));
	cr_assert(xm_sack_loss_detected(&sb, MSS));
	cr_assert_not(xm_sack_is_lost(&sb, 1400, MSS), "nothing SACKed above");
}

Test(tcp_sack, is_lost_by_discontiguous_ranges)
{
	/* three small discontiguous ranges (< 2 * MSS bytes in all) */
	struct xm_sack_sb sb = sb_at(0, 10000);
	struct xm_tcp_sack_block b[] = { B(1000, 1010), B(2000, 2010), B(3000, 3010) };
	xm_sack_update(&sb, 0, 10000, b, 2);
	cr_assert_not(xm_sack_is_lost(&sb, 0, MSS));
	xm_sack_update(&sb, 0, 10000, b + 2, 1);
	cr_assert(xm_sack_is_lost(&sb, 0, MSS));
	cr_assert_not(xm_sack_is_lost(&sb, 1500, MSS));
}

/* SetPipe by brute force over bytes, RFC 6675 4 literally. */
static uint32_t pipe_ref(const struct xm_sack_sb *sb, uint32_t mss)
{
	uint32_t pipe = 0;
	for (uint32_t s = sb->una; s != sb->nxt; s++) {
		if (xm_sack_is_sacked(sb, s, 1))
			continue;
		if (!xm_sack_is_lost(sb, s, mss))
			pipe++;
		if ((int32_t)(s - sb->high_rxt) < 0)
			pipe++;
	}
	return pipe;
}

Test(tcp_sack, pipe_matches_rfc_6675_setpipe)
{
	struct xm_sack_sb sb = sb_at(1000, 3000);
	cr_assert_eq(xm_sack_pipe(&sb, MSS), 2000u, "no SACK: all in flight");
	struct xm_tcp_sack_block b[] = { B(1100, 1200), B(1300, 1500), B(1700, 1800) };
	xm_sack_update(&sb, 1000, 3000, b, 3);
	cr_assert_eq(xm_sack_pipe(&sb, MSS), pipe_ref(&sb, MSS));
	/* holes [1000,1100) and [1200,1300) are lost, [1500,1700) has one
	 * range (100 bytes) above: not lost; the tail is in flight */
	cr_assert_eq(xm_sack_pipe(&sb, MSS), 200u + 1200u);
	xm_sack_mark_rxt(&sb, 1000, 100);
	cr_assert_eq(xm_sack_pipe(&sb, MSS), 1500u);
	cr_assert_eq(xm_sack_pipe(&sb, MSS), pipe_ref(&sb, MSS));
}

Test(tcp_sack, next_seg_rules_1_2_3)
{
	struct xm_sack_sb sb = sb_at(1000, 3000);
	struct xm_tcp_sack_block b[] = { B(1100, 1200), B(1300, 1500), B(1700, 1800) };
	xm_sack_update(&sb, 1000, 3000, b, 3);
	uint32_t seq, len;
	/* rule 1: lowest lost hole first */
	cr_assert_eq(xm_sack_next_seg(&sb, MSS, 0, true, &seq, &len), XM_SACK_NEXT_LOST);
	cr_assert_eq(seq, 1000u);
	cr_assert_eq(len, 100u);
	xm_sack_mark_rxt(&sb, seq, len);
	cr_assert_eq(xm_sack_next_seg(&sb, MSS, 0, true, &seq, &len), XM_SACK_NEXT_LOST);
	cr_assert_eq(seq, 1200u);
	xm_sack_mark_rxt(&sb, seq, len);
	/* rule 2: new data before a not-yet-lost hole */
	cr_assert_eq(xm_sack_next_seg(&sb, MSS, 500, true, &seq, &len), XM_SACK_NEXT_NEW);
	/* rule 3: the hole [1500,1700), one MSS at a time */
	cr_assert_eq(xm_sack_next_seg(&sb, MSS, 0, true, &seq, &len), XM_SACK_NEXT_RESCUE);
	cr_assert_eq(seq, 1500u);
	cr_assert_eq(len, 100u);
	cr_assert_eq(xm_sack_next_seg(&sb, MSS, 0, false, &seq, &len), XM_SACK_NEXT_NONE);
	xm_sack_mark_rxt(&sb, 1500, 200);
	cr_assert_eq(xm_sack_next_seg(&sb, MSS, 0, true, &seq, &len), XM_SACK_NEXT_NONE,
		     "the tail above the highest SACK is never a hole");
}

Test(tcp_sack, next_seg_splits_a_long_hole_by_mss)
{
	struct xm_sack_sb sb = sb_at(0, 10000);
	struct xm_tcp_sack_block b = B(5000, 5400);
	xm_sack_update(&sb, 0, 10000, &b, 1);
	uint32_t seq, len, next = 0;
	for (int i = 0; i < 50; i++) {
		cr_assert_eq(xm_sack_next_seg(&sb, MSS, 0, false, &seq, &len),
			     XM_SACK_NEXT_LOST);
		cr_assert_eq(seq, next);
		cr_assert_eq(len, MSS);
		xm_sack_mark_rxt(&sb, seq, len);
		next += MSS;
	}
	cr_assert_eq(xm_sack_next_seg(&sb, MSS, 0, true, &seq, &len), XM_SACK_NEXT_NONE);
}

Test(tcp_sack, bounded_ranges_drop_the_highest)
{
	struct xm_sack_sb sb = sb_at(0, 100000);
	for (uint32_t i = 0; i < 2 * XM_SACK_RANGES; i++) {
		struct xm_tcp_sack_block b = B(1000 * (i + 1), 1000 * (i + 1) + 10);
		xm_sack_update(&sb, 0, 100000, &b, 1);
	}
	cr_assert_eq(sb.n, XM_SACK_RANGES);
	cr_assert_eq(sb.r[XM_SACK_RANGES - 1].end, 1000 * XM_SACK_RANGES + 10);
	/* a lower block still gets in, pushing out the highest */
	struct xm_tcp_sack_block low = B(500, 510);
	xm_sack_update(&sb, 0, 100000, &low, 1);
	cr_assert_eq(sb.n, XM_SACK_RANGES);
	cr_assert_eq(sb.r[0].start, 500u);
	cr_assert_eq(sb.r[XM_SACK_RANGES - 1].end, 1000 * (XM_SACK_RANGES - 1) + 10);
	cr_assert_eq(sb.sacked_bytes, 10 * XM_SACK_RANGES);
}

Test(tcp_sack, works_across_the_sequence_wrap)
{
	uint32_t una = 0xffffff00u, nxt = 0x300u;
	struct xm_sack_sb sb = sb_at(una, nxt);
	struct xm_tcp_sack_block b[] = { B(0xffffffc0u, 0x40u), B(0x100u, 0x200u) };
	cr_assert_eq(xm_sack_update(&sb, una, nxt, b, 2), 0x80u + 0x100u);
	cr_assert_eq(sb.r[0].start, 0xffffffc0u);
	cr_assert(xm_sack_is_sacked(&sb, 0xfffffff0u, 0x20));
	cr_assert(xm_sack_is_lost(&sb, una, 0x20));
	cr_assert_eq(xm_sack_pipe(&sb, 0x20), pipe_ref(&sb, 0x20));
	uint32_t seq, len;
	cr_assert_eq(xm_sack_next_seg(&sb, 0x20, 0, false, &seq, &len), XM_SACK_NEXT_LOST);
	cr_assert_eq(seq, una);
	xm_sack_update(&sb, 0x40u, nxt, NULL, 0);
	cr_assert_eq(sb.n, 1);
	cr_assert_eq(sb.sacked_bytes, 0x100u);
}

Test(tcp_sack, clear_forgets_everything)
{
	struct xm_sack_sb sb = sb_at(0, 1000);
	struct xm_tcp_sack_block b = B(100, 200);
	xm_sack_update(&sb, 0, 1000, &b, 1);
	xm_sack_mark_rxt(&sb, 0, 100);
	xm_sack_clear(&sb, 50, 1000);
	cr_assert_eq(sb.n, 0);
	cr_assert_eq(sb.high_rxt, 50u);
	cr_assert_eq(xm_sack_pipe(&sb, MSS), 950u);
}
