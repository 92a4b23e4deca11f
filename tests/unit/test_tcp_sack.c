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

/* ---- randomized against a byte-map model of RFC 6675 ---- */

#define WIN 4096u
#define SEG 64u

struct model {
	uint32_t base;                 /* sequence of map[0] */
	uint32_t una, nxt, high_rxt;   /* offsets from base */
	bool sacked[WIN];
};

static uint64_t rng_next(uint64_t *s)
{
	*s ^= *s << 13;
	*s ^= *s >> 7;
	*s ^= *s << 17;
	return *s;
}

/* For every offset: SACKed runs ending above it and SACKed bytes above it,
 * as suffix sums over the map (O(WIN) per check). */
static uint16_t runs_above[WIN + 1], bytes_above[WIN + 1];

static void m_prepare(const struct model *m)
{
	runs_above[WIN] = bytes_above[WIN] = 0;
	for (uint32_t i = WIN; i-- > 0;) {
		bool in = i >= m->una && i < m->nxt && m->sacked[i];
		bool next_in = i + 1 < m->nxt && m->sacked[i + 1];
		/* a run ending at i + 1 counts for every off < i + 1 */
		runs_above[i] = (uint16_t)(runs_above[i + 1] + (in && !next_in));
		bytes_above[i] = (uint16_t)(bytes_above[i + 1] +
				 (i + 1 < m->nxt && m->sacked[i + 1]));
	}
}

static bool m_lost(uint32_t off, uint32_t mss)
{
	return runs_above[off] >= XM_SACK_DUPTHRESH ||
	       bytes_above[off] > (XM_SACK_DUPTHRESH - 1) * mss;
}

Test(tcp_sack, random_operations_match_byte_model)
{
	for (uint64_t seed = 1; seed <= 200; seed++) {
		uint64_t rs = seed * 0x9e3779b97f4a7c15ull;
		struct model m = { 0 };
		/* half the runs start just below the 2^32 wrap */
		m.base = seed & 1 ? 0xffffffffu - (uint32_t)(rng_next(&rs) % WIN)
				  : (uint32_t)rng_next(&rs);
		struct xm_sack_sb sb;
		xm_sack_init(&sb, m.base);
		/* with mss 256 three 64-byte runs stay under 2*SMSS bytes, so
		 * the discontiguous-runs rule of IsLost decides */
		const uint32_t mss = (seed >> 1) & 1 ? 4 * SEG : SEG;

		for (int op = 0; op < 300; op++) {
			uint32_t r = (uint32_t)rng_next(&rs);
			switch (r % 5) {
			case 0:   /* send more */
				m.nxt += (r >> 8) % (WIN - m.nxt + 1) / 2;
				xm_sack_update(&sb, m.base + m.una, m.base + m.nxt, NULL, 0);
				break;
			case 1:   /* cumulative ACK */
				if (m.nxt > m.una) {
					m.una += (r >> 8) % (m.nxt - m.una + 1) / 2;
					if (m.high_rxt < m.una)
						m.high_rxt = m.una;
				}
				xm_sack_update(&sb, m.base + m.una, m.base + m.nxt, NULL, 0);
				break;
			case 2:
			case 3: { /* SACK blocks: valid, D-SACK, beyond nxt, inverted */
				struct xm_tcp_sack_block b[3];
				unsigned nb = 1 + (r >> 8) % 3;
				uint32_t want = 0;
				for (unsigned k = 0; k < nb; k++) {
					uint32_t s = (uint32_t)(rng_next(&rs) % (WIN / SEG)) * SEG;
					uint32_t e = s + SEG * (1 + (uint32_t)(rng_next(&rs) % 4));
					if (rng_next(&rs) % 8 == 0) {
						uint32_t t = s; s = e; e = t;   /* inverted */
					}
					b[k].start = m.base + s;
					b[k].end = m.base + e;
					if (s < e && e > m.una && e <= m.nxt)
						for (uint32_t i = s > m.una ? s : m.una; i < e; i++)
							if (!m.sacked[i]) {
								m.sacked[i] = true;
								want++;
							}
				}
				uint32_t got = xm_sack_update(&sb, m.base + m.una,
							      m.base + m.nxt, b, nb);
				cr_assert_eq(got, want, "seed %llu op %d: newly SACKed",
					     (unsigned long long)seed, op);
				break;
			}
			case 4: { /* retransmit the next segment NextSeg offers */
				uint32_t seq, len;
				enum xm_sack_next nx = xm_sack_next_seg(&sb, mss, 0, true, &seq, &len);
				if (nx == XM_SACK_NEXT_LOST || nx == XM_SACK_NEXT_RESCUE) {
					xm_sack_mark_rxt(&sb, seq, len);
					if (seq - m.base + len > m.high_rxt)
						m.high_rxt = seq - m.base + len;
				}
				break;
			}
			}
			for (uint32_t i = 0; i < m.una; i++)
				m.sacked[i] = false;

			/* invariants against the model */
			m_prepare(&m);
			uint32_t total = 0, pipe = 0;
			for (uint32_t i = m.una; i < m.nxt; i++) {
				total += m.sacked[i];
				if (m.sacked[i])
					continue;
				if (!m_lost(i, mss))
					pipe++;
				if (i < m.high_rxt)
					pipe++;
			}
			cr_assert_eq(sb.sacked_bytes, total, "seed %llu op %d: sacked bytes",
				     (unsigned long long)seed, op);
			cr_assert_eq(xm_sack_pipe(&sb, mss), pipe, "seed %llu op %d: pipe",
				     (unsigned long long)seed, op);
			for (int probe = 0; probe < 8 && m.nxt > m.una; probe++) {
				uint32_t off = m.una + (uint32_t)(rng_next(&rs) % (m.nxt - m.una));
				uint32_t len = 1 + (uint32_t)(rng_next(&rs) % (m.nxt - off));
				bool all = true;
				for (uint32_t i = off; i < off + len; i++)
					all = all && m.sacked[i];
				cr_assert_eq(xm_sack_is_sacked(&sb, m.base + off, len), all,
					     "seed %llu op %d: is_sacked(%u,%u)",
					     (unsigned long long)seed, op, off, len);
				if (!m.sacked[off])
					cr_assert_eq(xm_sack_is_lost(&sb, m.base + off, mss),
						     m_lost(off, mss),
						     "seed %llu op %d: IsLost(%u)",
						     (unsigned long long)seed, op, off);
			}
			/* NextSeg rule 1: the first lost unSACKed byte at or
			 * above HighRxt, below the highest SACKed byte */
			uint32_t high = m.una;
			for (uint32_t i = m.una; i < m.nxt; i++)
				if (m.sacked[i])
					high = i + 1;
			uint32_t first = UINT32_MAX;
			for (uint32_t i = m.high_rxt > m.una ? m.high_rxt : m.una; i < high; i++)
				if (!m.sacked[i] && m_lost(i, mss)) {
					first = i;
					break;
				}
			uint32_t seq = 0, len = 0;
			enum xm_sack_next nx = xm_sack_next_seg(&sb, mss, 0, false, &seq, &len);
			if (first == UINT32_MAX) {
				cr_assert_neq(nx, XM_SACK_NEXT_LOST, "seed %llu op %d",
					      (unsigned long long)seed, op);
			} else {
				cr_assert_eq(nx, XM_SACK_NEXT_LOST, "seed %llu op %d: NextSeg",
					     (unsigned long long)seed, op);
				cr_assert_eq(seq - m.base, first, "seed %llu op %d: NextSeg seq",
					     (unsigned long long)seed, op);
				cr_assert(len >= 1 && len <= mss);
				for (uint32_t i = first; i < first + len; i++)
					cr_assert_not(m.sacked[i], "NextSeg covers SACKed data");
			}
		}
	}
}

Test(tcp_sack, rfc2883_4_dsack_is_the_first_block_below_the_ack_or_inside_the_second)
{
	struct xm_tcp_sack_block d;
	struct xm_tcp_sack_block below[] = { B(900, 1000) };
	struct xm_tcp_sack_block straddle[] = { B(900, 1100) };
	struct xm_tcp_sack_block inside[] = { B(1500, 1600), B(1400, 1700) };
	struct xm_tcp_sack_block apart[] = { B(1500, 1600), B(1700, 1800) };
	struct xm_tcp_sack_block above[] = { B(1500, 1600) };
	struct xm_tcp_sack_block empty[] = { B(900, 900) };

	cr_assert(xm_sack_dsack(below, 1, 1000, &d));
	cr_assert_eq(d.start, 900u);
	cr_assert_eq(d.end, 1000u);
	/* Linux tcp_check_dsack: starting below the ACK is enough. */
	cr_assert(xm_sack_dsack(straddle, 1, 1000, &d), "straddling the ACK");
	cr_assert_eq(d.end, 1100u);
	cr_assert(xm_sack_dsack(inside, 2, 1000, &d), "inside the second block");
	cr_assert_not(xm_sack_dsack(apart, 2, 1000, &d), "an ordinary SACK");
	cr_assert_not(xm_sack_dsack(above, 1, 1000, &d), "an ordinary SACK");
	cr_assert_not(xm_sack_dsack(empty, 1, 1000, &d));
	cr_assert_not(xm_sack_dsack(below, 0, 1000, &d));
}
