/* SPDX-License-Identifier: MIT */
/*
 * SACK scoreboard for the sender, RFC 6675 over [snd_una, snd_nxt).
 *
 * Holds up to XM_SACK_RANGES disjoint, sorted, merged SACKed ranges. When
 * full, the range nearest snd_nxt is dropped (it is the least useful for
 * loss detection, and dropping SACK information is always safe: RFC 2018 8,
 * the data is simply retransmitted). Blocks below snd_una (D-SACK, RFC 2883)
 * or beyond snd_nxt are ignored, partly overlapping blocks are clipped.
 */
#ifndef XM_TCP_SACK_H
#define XM_TCP_SACK_H

#include <stdbool.h>
#include <stdint.h>

#include "options.h"

#define XM_SACK_RANGES     32u
#define XM_SACK_DUPTHRESH  3u      /* RFC 6675 DupThresh */

struct xm_sack_sb {
	uint32_t una;              /* HighACK: cumulative ACK point */
	uint32_t nxt;              /* HighData + 1 */
	uint32_t high_rxt;         /* RFC 6675 HighRxt (== una when none) */
	uint32_t sacked_bytes;     /* total bytes in r[] */
	uint8_t n;
	struct xm_tcp_sack_block r[XM_SACK_RANGES];
};

enum xm_sack_next {
	XM_SACK_NEXT_NONE = 0,     /* nothing to send by rules 1 and 3 */
	XM_SACK_NEXT_LOST,         /* rule 1: a lost hole to retransmit */
	XM_SACK_NEXT_NEW,          /* rule 2: send new data (caller checks) */
	XM_SACK_NEXT_RESCUE,       /* rule 3: unSACKed hole, not yet lost */
};

void xm_sack_init(struct xm_sack_sb *sb, uint32_t snd_una);
/* Forget everything (RTO, RFC 6675 5.1: SACK info may be kept, but Linux
 * clears on reneging; we keep it simple and safe). */
void xm_sack_clear(struct xm_sack_sb *sb, uint32_t snd_una, uint32_t snd_nxt);

/* Apply a cumulative ACK and the SACK blocks of one segment. Returns the
 * number of bytes newly SACKed (not counting the cumulative advance). */
uint32_t xm_sack_update(struct xm_sack_sb *sb, uint32_t snd_una,
			uint32_t snd_nxt, const struct xm_tcp_sack_block *blk,
			unsigned nblk);

/* [seq, seq+len) entirely SACKed. */
bool xm_sack_is_sacked(const struct xm_sack_sb *sb, uint32_t seq, uint32_t len);
/* RFC 6675 IsLost(seq): DupThresh discontiguous SACKed ranges above seq, or
 * more than (DupThresh-1)*mss SACKed bytes above seq. */
bool xm_sack_is_lost(const struct xm_sack_sb *sb, uint32_t seq, uint32_t mss);
/* RFC 6675 5 (fast recovery entry): IsLost(una). */
bool xm_sack_loss_detected(const struct xm_sack_sb *sb, uint32_t mss);
/* RFC 6675 SetPipe(), in bytes. */
uint32_t xm_sack_pipe(const struct xm_sack_sb *sb, uint32_t mss);
/* Highest SACKed sequence (end of last range), or una if none. */
uint32_t xm_sack_high_sacked(const struct xm_sack_sb *sb);

/*
 * RFC 6675 NextSeg(): fills *seq, *len (len <= mss) for rules 1 and 3;
 * returns XM_SACK_NEXT_NEW when rule 2 applies and @new_data (bytes of
 * unsent data the caller has and the receive window allows) is non-zero;
 * rule 3 is offered only when @rescue_ok (the caller's cwnd/pipe check).
 */
enum xm_sack_next xm_sack_next_seg(const struct xm_sack_sb *sb, uint32_t mss,
				   uint32_t new_data, bool rescue_ok,
				   uint32_t *seq, uint32_t *len);
/* RFC 2883 4: the first block reports a duplicate (D-SACK) when it starts
 * below the cumulative ACK, or lies inside the second block; *out gets it. */
bool xm_sack_dsack(const struct xm_tcp_sack_block *blk, unsigned nblk,
		   uint32_t ack, struct xm_tcp_sack_block *out);
/* Record that [seq, seq+len) was retransmitted (advances HighRxt). */
void xm_sack_mark_rxt(struct xm_sack_sb *sb, uint32_t seq, uint32_t len);

#endif /* XM_TCP_SACK_H */
