// SPDX-License-Identifier: MIT
/*
 * Sender SACK scoreboard (RFC 6675). Ranges are kept sorted by sequence
 * (wrap-safe through seq.h), disjoint and merged, so IsLost() and SetPipe()
 * work hole by hole: every byte of one hole has the same SACKed data above
 * it, hence the same IsLost() answer.
 */
#include <string.h>

#include "sack.h"
#include "seq.h"

void xm_sack_clear(struct xm_sack_sb *sb, uint32_t snd_una, uint32_t snd_nxt)
{
	sb->una = snd_una;
	sb->nxt = snd_nxt;
	sb->high_rxt = snd_una;
	sb->sacked_bytes = 0;
	sb->n = 0;
}

void xm_sack_init(struct xm_sack_sb *sb, uint32_t snd_una)
{
	memset(sb, 0, sizeof(*sb));
	xm_sack_clear(sb, snd_una, snd_una);
}

static void remove_at(struct xm_sack_sb *sb, unsigned i)
{
	sb->sacked_bytes -= sb->r[i].end - sb->r[i].start;
	memmove(&sb->r[i], &sb->r[i + 1], (sb->n - i - 1) * sizeof(sb->r[0]));
	sb->n--;
}

/* Cumulative ACK: drop what it covers (RFC 6675 5: the scoreboard holds
 * only data above HighACK). */
static void advance_una(struct xm_sack_sb *sb, uint32_t una)
{
	if (seq_le(una, sb->una))
		return;
	sb->una = una;
	while (sb->n && seq_le(sb->r[0].end, una))
		remove_at(sb, 0);
	if (sb->n && seq_lt(sb->r[0].start, una)) {
		sb->sacked_bytes -= una - sb->r[0].start;
		sb->r[0].start = una;
	}
	if (seq_lt(sb->high_rxt, una))
		sb->high_rxt = una;
}

/* Insert [s, e) (already within [una, nxt)), merging neighbours. */
static void insert(struct xm_sack_sb *sb, uint32_t s, uint32_t e)
{
	unsigned i = 0;
	while (i < sb->n && seq_lt(sb->r[i].end, s))
		i++;
	/* r[i] is the first range that ends at or after s: merge all that
	 * start at or before e. */
	unsigned j = i;
	while (j < sb->n && seq_le(sb->r[j].start, e)) {
		s = seq_min(s, sb->r[j].start);
		e = seq_max(e, sb->r[j].end);
		j++;
	}
	for (unsigned k = i; k < j; k++)
		sb->sacked_bytes -= sb->r[k].end - sb->r[k].start;
	if (j > i) {
		/* replace r[i..j) by one range */
		memmove(&sb->r[i + 1], &sb->r[j], (sb->n - j) * sizeof(sb->r[0]));
		sb->n = (uint8_t)(sb->n - (j - i) + 1);
	} else {
		if (sb->n == XM_SACK_RANGES) {
			/* Full: drop the highest range (least useful for loss
			 * detection; forgetting SACK state is always safe). */
			if (i == sb->n)
				return;
			remove_at(sb, sb->n - 1);
		}
		memmove(&sb->r[i + 1], &sb->r[i], (sb->n - i) * sizeof(sb->r[0]));
		sb->n++;
	}
	sb->r[i].start = s;
	sb->r[i].end = e;
	sb->sacked_bytes += e - s;
}

uint32_t xm_sack_update(struct xm_sack_sb *sb, uint32_t snd_una,
			uint32_t snd_nxt, const struct xm_tcp_sack_block *blk,
			unsigned nblk)
{
	advance_una(sb, snd_una);
	sb->nxt = snd_nxt;
	uint32_t before = sb->sacked_bytes;
	for (unsigned b = 0; b < nblk; b++) {
		uint32_t s = blk[b].start, e = blk[b].end;
		/* RFC 2018 / RFC 2883: ignore empty or inverted blocks,
		 * D-SACKs at or below the cumulative ACK and blocks beyond
		 * what was sent; clip a block straddling snd_una. */
		if (!seq_lt(s, e) || seq_le(e, sb->una) || seq_gt(e, sb->nxt))
			continue;
		if (seq_lt(s, sb->una))
			s = sb->una;
		insert(sb, s, e);
	}
	return sb->sacked_bytes - before;
}

bool xm_sack_is_sacked(const struct xm_sack_sb *sb, uint32_t seq, uint32_t len)
{
	for (unsigned i = 0; i < sb->n; i++)
		if (seq_le(sb->r[i].start, seq) && seq_le(seq + len, sb->r[i].end))
			return true;
	return false;
}

/* IsLost for a byte at or after range index @first_above's predecessor:
 * @above_ranges ranges and @above_bytes SACKed bytes lie above it. */
static bool lost_by(unsigned above_ranges, uint32_t above_bytes, uint32_t mss)
{
	return above_ranges >= XM_SACK_DUPTHRESH ||
	       above_bytes > (XM_SACK_DUPTHRESH - 1) * mss;
}

bool xm_sack_is_lost(const struct xm_sack_sb *sb, uint32_t seq, uint32_t mss)
{
	unsigned ranges = 0;
	uint32_t bytes = 0;
	for (unsigned i = 0; i < sb->n; i++) {
		if (seq_le(sb->r[i].end, seq))
			continue;
		uint32_t s = seq_max(sb->r[i].start, seq + 1);
		ranges++;
		bytes += sb->r[i].end - s;
	}
	return lost_by(ranges, bytes, mss);
}

bool xm_sack_loss_detected(const struct xm_sack_sb *sb, uint32_t mss)
{
	return !xm_sack_is_sacked(sb, sb->una, 1) &&
	       xm_sack_is_lost(sb, sb->una, mss);
}

uint32_t xm_sack_high_sacked(const struct xm_sack_sb *sb)
{
	return sb->n ? sb->r[sb->n - 1].end : sb->una;
}

/* Bytes of [s, e) below HighRxt, i.e. already retransmitted. */
static uint32_t below_rxt(const struct xm_sack_sb *sb, uint32_t s, uint32_t e)
{
	if (seq_le(sb->high_rxt, s))
		return 0;
	return seq_min(e, sb->high_rxt) - s;
}

/* RFC 6675 4 SetPipe(): for every unSACKed byte, one if not lost (still in
 * the network) plus one if retransmitted (the retransmission is). */
uint32_t xm_sack_pipe(const struct xm_sack_sb *sb, uint32_t mss)
{
	uint64_t pipe = 0;
	uint32_t hole = sb->una;
	uint32_t above_bytes = sb->sacked_bytes;
	for (unsigned i = 0; i <= sb->n; i++) {
		uint32_t end = i < sb->n ? sb->r[i].start : sb->nxt;
		if (seq_lt(hole, end)) {
			if (!lost_by(sb->n - i, above_bytes, mss))
				pipe += end - hole;
			pipe += below_rxt(sb, hole, end);
		}
		if (i < sb->n) {
			above_bytes -= sb->r[i].end - sb->r[i].start;
			hole = sb->r[i].end;
		}
	}
	return pipe > UINT32_MAX ? UINT32_MAX : (uint32_t)pipe;
}

enum xm_sack_next xm_sack_next_seg(const struct xm_sack_sb *sb, uint32_t mss,
				   uint32_t new_data, bool rescue_ok,
				   uint32_t *seq, uint32_t *len)
{
	/* Rule 1: first unSACKed byte above HighRxt, below the highest
	 * SACKed byte, that IsLost(). Holes only exist below a range. */
	uint32_t hole = sb->una;
	uint32_t above_bytes = sb->sacked_bytes;
	bool have_rescue = false;
	uint32_t rescue_seq = 0, rescue_len = 0;
	for (unsigned i = 0; i < sb->n; i++) {
		uint32_t s = seq_max(hole, sb->high_rxt), e = sb->r[i].start;
		if (seq_lt(s, e)) {
			uint32_t l = e - s < mss ? e - s : mss;
			if (lost_by(sb->n - i, above_bytes, mss)) {
				*seq = s;
				*len = l;
				return XM_SACK_NEXT_LOST;
			}
			if (!have_rescue) {
				have_rescue = true;
				rescue_seq = s;
				rescue_len = l;
			}
		}
		above_bytes -= sb->r[i].end - sb->r[i].start;
		hole = sb->r[i].end;
	}
	/* Rule 2: new data, when the caller has it and the window allows. */
	if (new_data)
		return XM_SACK_NEXT_NEW;
	/* Rule 3: an unSACKed hole above HighRxt even if not yet lost. */
	if (rescue_ok && have_rescue) {
		*seq = rescue_seq;
		*len = rescue_len;
		return XM_SACK_NEXT_RESCUE;
	}
	return XM_SACK_NEXT_NONE;
}

void xm_sack_mark_rxt(struct xm_sack_sb *sb, uint32_t seq, uint32_t len)
{
	uint32_t end = seq + len;
	if (seq_gt(end, sb->high_rxt))
		sb->high_rxt = end;
}

bool xm_sack_dsack(const struct xm_tcp_sack_block *blk, unsigned nblk,
		   uint32_t ack, struct xm_tcp_sack_block *out)
{
	if (!nblk || !seq_lt(blk[0].start, blk[0].end))
		return false;
	/* Linux tcp_check_dsack: a block starting below the ACK reports a
	 * duplicate even when it ends above it (a receiver may report the
	 * whole copy, not clip it at RCV.NXT). */
	if (!seq_lt(blk[0].start, ack) &&
	    !(nblk > 1 && seq_ge(blk[0].start, blk[1].start) &&
	      seq_le(blk[0].end, blk[1].end)))
		return false;
	*out = blk[0];
	return true;
}
