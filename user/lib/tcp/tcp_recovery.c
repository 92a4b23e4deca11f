// SPDX-License-Identifier: MIT
/*
 * Loss recovery of a SACK connection, as Linux does it by default:
 * RACK loss detection and its reordering timer (RFC 8985 6), tail loss
 * probes (RFC 8985 7), Proportional Rate Reduction of cwnd during fast
 * recovery (RFC 6937), DSACK reception (RFC 2883) and the undo of
 * retransmissions the DSACKs (as Linux tcp_try_undo_dsack) or the
 * timestamps (RFC 3522 Eifel detection) prove spurious, with their cwnd
 * reduction.
 *
 * Connections without SACK, or whose send records could not be kept
 * (rack.ok false), use RFC 5681/6582/6675 in tcp_input.c/tcp_output.c.
 */
#include <stddef.h>

#include "../core/stack.h"
#include "tcb.h"

#define TLP_WCDELACK_US   200000u   /* RFC 8985 7.2 WCDelAckT (Linux) */
#define TLP_MIN_EXTRA_US  2000u     /* Linux TCP_TIMEOUT_MIN_US */

bool xm_tcp_rack_on(const struct xm_tcp_conn *c)
{
	return c->sack_ok && c->rack.ok;
}

static void loss_timer_arm(struct xm_tcp_conn *c, uint64_t us, bool tlp)
{
	c->loss_timer_tlp = tlp;
	xm_timer_arm(&c->st->timers, &c->t_loss, xm_now(c->st) + us * 1000);
}

/* A loss episode (fast recovery or RTO) begins: what undo restores. */
void xm_tcp_undo_init(struct xm_tcp_conn *c)
{
	uint32_t three_q = c->cc.cwnd / 4 * 3;

	c->prior_cwnd = c->cc.cwnd;
	/* Linux tcp_current_ssthresh: slow start was heading here too. */
	c->prior_ssthresh = c->cc.ssthresh > three_q ? c->cc.ssthresh : three_q;
	c->undo_marker = c->snd_una;
	c->undo_retrans = 0;
	c->undo_on = true;
	c->undone = false;
	c->undo_ts_on = false;
}

static void undo(struct xm_tcp_conn *c, uint64_t *counter)
{
	if (c->cc.cwnd < c->prior_cwnd)
		c->cc.cwnd = c->prior_cwnd;
	if (c->cc.ssthresh < c->prior_ssthresh)
		c->cc.ssthresh = c->prior_ssthresh;
	c->undo_on = false;
	c->undone = true;
	c->frto = false;
	(*counter)++;
	if (c->rto_recovery) {
		/* The timeout was spurious: stop going back over data the
		 * peer has (Linux tcp_try_undo_loss). RACK finds whatever
		 * was lost among it, as after any other send. */
		c->rto_recovery = false;
		c->cc.in_recovery = false;
		/* Nor does its RecoveryPoint (RFC 6582 recover) hold any
		 * more: a segment RACK finds lost from here, one the
		 * timeout had not resent, is a loss of its own and starts
		 * a fast recovery (Linux is back in Open). Left at the
		 * timeout's snd_max, recover kept that recovery out, and
		 * the segment waited for the next, backed-off, RTO. */
		c->recover = c->snd_una - 1;
		c->snd_nxt = c->snd_max;
		xm_rack_unmark_lost(&c->rack);
		xm_rack_recovery_end(&c->rack, c->snd_una, c->undone);
	}
}

/* RFC 3522 2 (Eifel detection), as Linux tcp_packet_delayed: an ACK that
 * advances SND.UNA echoes a TSval older than the episode's first
 * retransmission: what it acknowledges arrived as sent before that, the
 * original; the retransmission was not needed. Only once a retransmission
 * of this episode went (an echo of older data says nothing before), and
 * not for a TSecr of 0, which echoes nothing (RFC 7323 3.2). */
static bool eifel_spurious(const struct xm_tcp_conn *c, const struct xm_tcp_seg *seg)
{
	return c->ts_ok && seg->opts.ts_ok && seg->opts.tsecr && c->undo_on &&
	       c->undo_ts_on && seq_lt(seg->opts.tsecr, c->undo_tsval);
}

void xm_tcp_eifel_ack(struct xm_tcp_conn *c, const struct xm_tcp_seg *seg)
{
	/* Linux tcp_try_undo_loss (any ACK advancing SND.UNA after a
	 * timeout) and tcp_try_undo_recovery (the full ACK). */
	if (xm_tcp_rack_on(c) && eifel_spurious(c, seg) &&
	    (c->rto_recovery || (c->in_recovery && seq_ge(c->snd_una, c->recover))))
		undo(c, &c->st->tcp->stats.eifel_undos);
}

/* RFC 3522 on a partial ACK of a fast recovery (Linux
 * tcp_try_undo_partial): the hole was filled by the original, late, not
 * by its retransmission: reordering, not loss. Undo the reduction now and
 * clear the LOST marks, so that the rest of the flight, as likely only
 * late, is not resent; the recovery itself runs to its full ACK, PRR off
 * (as after a D-SACK undo). */
static void eifel_partial(struct xm_tcp_conn *c, const struct xm_tcp_seg *seg,
			  uint32_t acked)
{
	if (!acked || !c->in_recovery || !eifel_spurious(c, seg))
		return;
	c->rack.reordering_seen = true;   /* Linux tcp_check_sack_reordering */
	/* RFC 8985 6.2 step 4 widens reo_wnd for the DSACK of a spurious
	 * retransmission; this ACK shows the same a round trip before the
	 * DSACK comes (which then widens it no more in this round). */
	xm_rack_dsack(&c->rack, c->snd_una, c->snd_nxt);
	undo(c, &c->st->tcp->stats.eifel_undos);
	xm_rack_unmark_lost(&c->rack);
}

/* RFC 2883 4.2 / Linux: every retransmission of the episode the peer
 * reports as a duplicate was not needed; when that is all of them, the
 * reduction was not either. */
static void dsack_undo(struct xm_tcp_conn *c, const struct xm_tcp_sack_block *d)
{
	uint32_t segs = (d->end - d->start + c->mss - 1) / c->mss;

	if (!c->undo_on || !c->undo_retrans || seq_lt(d->start, c->undo_marker))
		return;
	c->undo_retrans = c->undo_retrans > segs ? c->undo_retrans - segs : 0;
	if (!c->undo_retrans)
		undo(c, &c->st->tcp->stats.dsack_undos);
}

/* RFC 8985 7.4: did the probe repair a loss? */
static void tlp_ack(struct xm_tcp_conn *c, const struct xm_tcp_seg *seg,
		    bool advanced, bool sacked, bool dsack)
{
	uint64_t now = xm_tcp_now_us(c);

	if (!c->tlp_on || seq_lt(seg->ack, c->tlp_end_seq))
		return;
	if (!c->tlp_retrans || dsack) {
		c->tlp_on = false;   /* new data, or both copies arrived */
	} else if (seq_gt(seg->ack, c->tlp_end_seq)) {
		/* Data after the probe is acked and no DSACK came for the
		 * probe: it repaired a loss; reduce as for one (7.4.2). */
		c->tlp_on = false;
		c->st->tcp->stats.tlp_recoveries++;
		if (!c->in_recovery && !c->rto_recovery) {
			c->cc.ops->on_loss(&c->cc, c->snd_max - c->snd_una, now);
			c->cc.ops->on_recovery_end(&c->cc, now);
		}
	} else if (!advanced && !sacked) {
		c->tlp_on = false;
	}
}

void xm_tcp_tlp_schedule(struct xm_tcp_conn *c)
{
	uint64_t pto, now_ns;

	if (!xm_tcp_rack_on(c) || c->in_recovery || c->rto_recovery || c->tlp_on ||
	    c->persist || c->snd_una == c->snd_max || !c->rto.has_sample ||
	    !xm_tcp_sends_data(c)) {
		/* No probe is due, so none may stay armed: a PTO left from
		 * a flight the peer has since acked in full would fire for
		 * the next one, however recently it went, and resend data
		 * the peer is still acking (Linux: one timer for RTO and
		 * PTO, cleared by tcp_rearm_rto once nothing is out). */
		if (xm_timer_armed(&c->t_loss) && c->loss_timer_tlp)
			xm_timer_cancel(&c->st->timers, &c->t_loss);
		return;
	}
	if (xm_timer_armed(&c->t_loss) && !c->loss_timer_tlp)
		return;   /* the reordering timer comes first (RFC 8985 7.2) */
	/* RFC 8985 7.2: PTO = 2*SRTT, plus the peer's worst delayed ACK
	 * when one segment is out, and never later than the RTO. */
	pto = 2ull * c->rto.srtt_us;
	pto += c->snd_max - c->snd_una <= c->mss ? TLP_WCDELACK_US : TLP_MIN_EXTRA_US;
	now_ns = xm_now(c->st);
	if (xm_timer_armed(&c->t_rtx) && now_ns + pto * 1000 >= c->t_rtx.deadline) {
		xm_timer_cancel(&c->st->timers, &c->t_loss);
		return;
	}
	loss_timer_arm(c, pto, true);
}

static void tlp_fire(struct xm_tcp_conn *c)
{
	struct xm_tcp_stack *ts = c->st->tcp;
	uint32_t old_max = c->snd_max, data_end = c->snd_una + c->sndbuf.len;
	uint32_t seq, len;
	int r = 0;

	if (!xm_tcp_rack_on(c) || c->in_recovery || c->rto_recovery || c->tlp_on ||
	    c->persist || c->snd_una == c->snd_max || !xm_tcp_sends_data(c))
		return;
	/* RFC 8985 7.3: new data if the receive window allows, else the
	 * highest segment sent again. */
	if (c->snd_nxt == c->snd_max && seq_lt(c->snd_nxt, data_end)) {
		c->tlp_force = true;
		xm_tcp_output(c);
		c->tlp_force = false;
	}
	c->tlp_retrans = c->snd_max == old_max;
	if (c->tlp_retrans) {
		if (xm_rack_last(&c->rack, &seq, &len))
			r = xm_tcp_retransmit(c, seq, len);
		else if (c->fin_sent)
			r = xm_tcp_retransmit(c, data_end, 0);   /* the FIN alone */
		xm_tx_flush(c->st);
		if (r < 0)
			return;
	}
	c->tlp_on = true;
	c->tlp_end_seq = c->snd_max;
	ts->stats.tlp_probes++;
	xm_tcp_rtx_arm(c);   /* RFC 8985 7.3: the RTO follows the probe */
}

/* RFC 8985 6.2 step 5 and 6.3: mark losses; start fast recovery on the
 * first; arm the reordering timer for those not yet due. */
static void rack_detect(struct xm_tcp_conn *c)
{
	uint64_t wait;
	uint32_t reo = xm_rack_reo_wnd(&c->rack, c->in_recovery || c->rto_recovery,
				       c->rto.srtt_us, c->mss);
	uint32_t lost;

	/* A recovery undone, its retransmissions in flight: what RACK would
	 * mark now was sent with the originals shown late, and is as likely
	 * late too; mark nothing until the retransmissions are acknowledged
	 * (Linux tcp_try_undo_partial, with retrans_out). */
	if (c->in_recovery && c->undone && c->rack.nretrans)
		return;
	lost = xm_rack_detect(&c->rack, xm_tcp_now_us(c), reo, &wait);

	c->st->tcp->stats.rack_losses += lost;
	if (lost && !c->in_recovery && !c->rto_recovery)
		xm_tcp_enter_recovery(c);
	if (wait)
		loss_timer_arm(c, wait, false);
	else if (xm_timer_armed(&c->t_loss) && !c->loss_timer_tlp)
		xm_timer_cancel(&c->st->timers, &c->t_loss);
}

/* RFC 5682 3.1 (SACK-enhanced F-RTO, as Linux tcp_process_loss), for
 * the ACKs after a timeout that have not shown it spurious (3.b). */
static void frto_step2(struct xm_tcp_conn *c, const struct xm_tcp_seg *seg,
		       uint32_t acked, uint32_t delivered)
{
	uint32_t data_end = c->snd_una + c->sndbuf.len;

	if (c->frto_probed) {
		/* Step 3.a: a duplicate ACK, or SACKs of nothing but what
		 * the timeout resent, after the new data went out: the
		 * loss was real; go on retransmitting, no undo. */
		if (!acked || seg->opts.nsack || delivered > acked)
			c->frto = false;
		return;
	}
	/* Step 2.b: the first ACK advances SND.UNA (step 2.a: without
	 * covering what was outstanding, which ends the recovery). Send
	 * new data rather than resend more: if the timeout was spurious,
	 * its ACK will show the originals were delivered. */
	if (!acked)
		return;
	c->frto_probed = true;
	/* Nothing new to send (or no window for it): resend as after any
	 * timeout, RFC 5682 2.b's conventional recovery; an ACK of data
	 * never resent still shows the timeout spurious (3.b, as Linux). */
	if (seq_lt(c->snd_max, data_end) &&
	    seq_lt(c->snd_max, c->snd_una + c->snd_wnd)) {
		c->frto_new = true;
		c->snd_nxt = c->snd_max;   /* RACK's LOST marks keep the rest */
	}
}

bool xm_tcp_dsack_in(struct xm_tcp_conn *c, const struct xm_tcp_seg *seg)
{
	struct xm_tcp_sack_block d;

	if (!xm_sack_dsack(seg->opts.sack, seg->opts.nsack, seg->ack, &d))
		return false;
	c->st->tcp->stats.dsacks_in++;
	/* Linux tcp_dsack_seen: when the peer has now reported more
	 * duplicates than we ever resent, this one is the network's (a
	 * duplicated original) or a broken receiver's: it says nothing of
	 * our retransmissions, so it neither undoes a reduction nor widens
	 * the reordering window. */
	c->dsack_dups += (d.end - d.start + c->mss - 1) / c->mss;
	if (c->dsack_dups > c->info.total_retrans) {
		c->st->tcp->stats.dsacks_dubious++;
		return false;
	}
	xm_rack_dsack(&c->rack, c->snd_una, c->snd_nxt);
	dsack_undo(c, &d);
	return true;
}

void xm_tcp_recovery_ack(struct xm_tcp_conn *c, const struct xm_tcp_seg *seg,
			 uint32_t acked, uint32_t delivered)
{
	bool dsack = xm_tcp_dsack_in(c, seg);

	xm_rack_on_ack(&c->rack, c->snd_una, seg->opts.sack, seg->opts.nsack,
		       xm_tcp_now_us(c));
	if (!c->rack.ok)
		return;
	/* F-RTO (RFC 5682 3, step 3.b, as Linux): after a timeout, data
	 * never retransmitted is (S)ACKed: it was not lost, only late, and
	 * so was, most likely, what the timeout resent. Data sent in step
	 * 2.b does not count: it was never at risk (RFC 5682 B, below the
	 * RecoveryPoint only; recover is still the timeout's). */
	if (c->frto && c->rack.orig_delivered && seq_le(c->rack.orig_end, c->recover))
		undo(c, &c->st->tcp->stats.frto_undos);
	if (!c->rto_recovery)
		c->frto = false;   /* this ACK ended the timeout's recovery */
	if (c->frto)
		frto_step2(c, seg, acked, delivered);
	tlp_ack(c, seg, acked != 0, delivered > acked, dsack);
	eifel_partial(c, seg, acked);
	rack_detect(c);
	/* RFC 6937 3: on every ACK of the recovery, the one that started
	 * it included. */
	if (c->in_recovery && !c->undone)
		c->cc.cwnd = xm_prr_on_ack(&c->prr, delivered, xm_rack_pipe(&c->rack),
					   c->cc.ssthresh, c->mss);
	if (acked)
		xm_tcp_tlp_schedule(c);
}

void xm_tcp_recovery_start(struct xm_tcp_conn *c)
{
	xm_prr_init(&c->prr, c->snd_max - c->snd_una);
}

void xm_tcp_recovery_end(struct xm_tcp_conn *c, uint64_t now)
{
	uint32_t cwnd = c->cc.cwnd;

	c->cc.ops->on_recovery_end(&c->cc, now);
	/* An undone recovery keeps the cwnd undo restored, not the deflation
	 * to ssthresh (Linux tcp_fastretrans_alert: no tcp_end_cwnd_reduction
	 * after tcp_try_undo_recovery): undo restored ssthresh too, infinite
	 * when the recovery began in slow start. */
	if (c->undone)
		c->cc.cwnd = cwnd;
	if (xm_tcp_rack_on(c))
		xm_rack_recovery_end(&c->rack, c->snd_una, c->undone);
}

void xm_tcp_recovery_rto(struct xm_tcp_conn *c)
{
	/* F-RTO for the first timeout of an episode (Linux tcp_enter_loss). */
	c->frto = xm_tcp_rack_on(c) && !c->in_recovery && !c->rto_recovery;
	c->frto_new = c->frto_probed = false;
	if (!c->in_recovery && !c->rto_recovery)
		xm_tcp_undo_init(c);
	c->tlp_on = false;
	xm_timer_cancel(&c->st->timers, &c->t_loss);
	if (xm_tcp_rack_on(c))
		xm_rack_mark_all_lost(&c->rack);
}

void xm_tcp_recovery_sent(struct xm_tcp_conn *c, uint32_t seq, uint32_t len)
{
	if (c->sack_ok)
		xm_rack_on_send(&c->rack, seq, seq + len, xm_tcp_now_us(c));
	if (c->in_recovery)
		xm_prr_on_send(&c->prr, len);
	if (c->undo_on && seq_lt(seq, c->snd_max)) {
		if (!c->undo_ts_on) {
			c->undo_ts_on = true;
			c->undo_tsval = xm_tcp_tsval(c);
		}
		c->undo_retrans++;
	}
}

/* RFC 8985 6.2-6.3 with RFC 6675 5 (C): while the pipe leaves room in
 * cwnd (PRR's, in fast recovery), retransmit what RACK marked lost, lowest
 * first; below @limit only (after an RTO, go-back-N sends the rest). */
void xm_tcp_recovery_send(struct xm_tcp_conn *c)
{
	uint32_t limit = c->in_recovery ? c->snd_max : c->snd_nxt;

	if (c->frto_new)
		return;   /* RFC 5682 2.b: this ACK sends new data only */
	for (int guard = 0; guard < 1024; guard++) {
		/* RFC 6675 5 (4.2), Linux tcp_cwnd_reduction: the first
		 * retransmission of a recovery goes whatever cwnd says. When
		 * the reordering timer started the recovery, or new data
		 * filled cwnd first, the ACKs that would open it may never
		 * come: the one SACKing everything in flight can be lost. */
		bool first = c->in_recovery && !c->prr.out;
		uint32_t seq, len;
		int r;

		if (!first && xm_rack_pipe(&c->rack) + c->mss > c->cc.cwnd)
			return;
		if (!xm_rack_next_lost(&c->rack, limit, &seq, &len))
			return;
		r = xm_tcp_retransmit(c, seq, len);
		if (r <= 0)
			return;
	}
}

static void loss_fire(struct xm_stack *st, struct xm_timer *t)
{
	struct xm_tcp_conn *c = xm_container_of(t, struct xm_tcp_conn, t_loss);

	(void)st;
	if (!xm_tcp_rack_on(c) || !xm_tcp_sends_data(c))
		return;
	if (c->loss_timer_tlp) {
		tlp_fire(c);
		return;
	}
	rack_detect(c);
	xm_tcp_output(c);
}

void xm_tcp_loss_timer_init(struct xm_tcp_conn *c)
{
	xm_timer_init(&c->t_loss, loss_fire);
}
