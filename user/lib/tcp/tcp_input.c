// SPDX-License-Identifier: MIT
/*
 * TCP input: RFC 9293 3.10.7 "SEGMENT ARRIVES" for every state, with
 * RFC 5961 challenge ACKs (blind RST, SYN and data injection), RFC 7323
 * PAWS and timestamps, the out-of-order queue (overlap and duplicate
 * trimming), ACK processing with RFC 6298 RTT sampling, RFC 5681/6582
 * fast retransmit and NewReno recovery, and RFC 6675 SACK recovery.
 */
#include <errno.h>
#include <netinet/in.h>
#include <string.h>

#include "../core/stack.h"
#include "../net/net.h"
#include "../socket/sock.h"
#include "../transport/ports.h"
#include "tcb.h"

#define PAWS_24DAYS_US (24ull * 86400 * 1000000)

/* Sequence space a segment occupies: data plus SYN and FIN. */
static uint32_t seg_space(const struct xm_tcp_seg *s)
{
	return s->len + !!(s->flags & XM_TCP_SYN) + !!(s->flags & XM_TCP_FIN);
}

/* RFC 5961 7: challenge ACKs, rate-limited per second. */
static void challenge_ack(struct xm_tcp_conn *c)
{
	struct xm_tcp_stack *ts = c->st->tcp;
	uint64_t now = xm_tcp_now_us(c);

	if (now - c->challenge_time >= 1000000) {
		c->challenge_time = now;
		c->challenge_count = 0;
	}
	if (c->challenge_count >= XM_TCP_CHALLENGE_PER_S)
		return;
	c->challenge_count++;
	ts->stats.challenge_acks++;
	xm_tcp_send_ack(c);
}

/* The socket sees an error and a closed connection. */
static void conn_reset(struct xm_tcp_conn *c, int err)
{
	struct xm_tcp_stack *ts = c->st->tcp;

	ts->stats.rst_in++;
	xm_tcp_set_closed(c, err);
}

void xm_tcp_syn_options(struct xm_tcp_conn *c, const struct xm_tcp_seg *seg)
{
	const struct xm_tcp_opts *o = &seg->opts;
	uint16_t our = xm_tcp_mss_for_mtu(c->st, c->family);
	uint16_t peer = o->mss_ok ? o->mss
				  : (c->family == AF_INET6 ? XM_TCP_DEFAULT_MSS6
							   : XM_TCP_DEFAULT_MSS);

	/* RFC 9293 3.7.1: send no more than the peer's MSS, nor than our
	 * path MTU allows. */
	c->mss = peer < our ? peer : our;
	if (c->mss < 64)
		c->mss = 64;   /* as Linux TCP_MIN_SND_MSS-ish floor */
	/* RFC 7323 2.2: scaling only when both sides sent WS. */
	if (c->state == XM_TCP_SYN_SENT) {
		c->ws_ok = c->ws_ok && o->ws_ok;
		c->ts_ok = c->ts_ok && o->ts_ok;
		c->sack_ok = c->sack_ok && o->sack_ok;
	} else {
		c->ws_ok = o->ws_ok;
		c->ts_ok = o->ts_ok;
		c->sack_ok = o->sack_ok;
	}
	c->snd_wscale = c->ws_ok ? o->ws : 0;
	if (!c->ws_ok)
		c->rcv_wscale = 0;
	if (c->ts_ok) {
		c->ts_recent = o->tsval;
		c->ts_recent_time = xm_tcp_now_us(c);
	}
	/* Our MSS in segments counts options we will always send. */
	if (c->ts_ok && c->mss > 64 + 12)
		c->mss = (uint16_t)c->mss;
}

void xm_tcp_handshake_rtt(struct xm_tcp_conn *c)
{
	uint64_t now = xm_tcp_now_us(c);

	if (!c->rtx_count && c->rtt_time && now > c->rtt_time)
		xm_rto_sample(&c->rto, (uint32_t)(now - c->rtt_time));
	c->rtt_time = 0;
}

static void cc_start(struct xm_tcp_conn *c)
{
	c->cc.ops->init(&c->cc, c->mss, xm_tcp_now_us(c));
	xm_sack_init(&c->sb, c->snd_una);
	c->sb.nxt = c->snd_max;
	c->recover = c->snd_una - 1;
	xm_rack_init(&c->rack, c->snd_una);
	/* RACK.min_RTT starts from the handshake's sample, if any. */
	if (c->rto.has_sample)
		xm_rack_rtt_sample(&c->rack, c->rto.srtt_us, xm_tcp_now_us(c));
}

/* ---- receive side ---- */

static void fin_in(struct xm_tcp_conn *c)
{
	c->fin_rcvd = true;
	c->fin_ooo = false;
	c->rcv_nxt++;
	c->ack_now = true;
	switch (c->state) {
	case XM_TCP_SYN_RECEIVED:
	case XM_TCP_ESTABLISHED:
		xm_tcp_set_state(c, XM_TCP_CLOSE_WAIT);
		break;
	case XM_TCP_FIN_WAIT_1:
		/* Our FIN not yet acknowledged (else we would be in FW2). */
		xm_tcp_set_state(c, XM_TCP_CLOSING);
		break;
	case XM_TCP_FIN_WAIT_2:
		xm_tcp_set_state(c, XM_TCP_TIME_WAIT);
		xm_tcp_timewait_arm(c);
		break;
	case XM_TCP_TIME_WAIT:
		xm_tcp_timewait_arm(c);
		break;
	default:
		break;
	}
}

/* ---- send side: ACK processing ---- */

/* snd_max counts the FIN once sent: acknowledging it acknowledges all. */
static bool our_fin_acked(const struct xm_tcp_conn *c)
{
	return c->fin_sent && c->snd_una == c->snd_max;
}

/* acked_new: the segment moved SND.UNA. */
static void window_update(struct xm_tcp_conn *c, const struct xm_tcp_seg *seg,
			  bool acked_new)
{
	/* RFC 9293 3.10.7.4: SND.WL1/WL2 keep old segments from moving
	 * the window. But "SND.WND is an offset from SND.UNA": a segment
	 * that moved SND.UNA and kept its window out would move the right
	 * edge by what it acknowledged, past what the peer offered. It is
	 * newer than any segment before (the peer's ACKs only grow), even
	 * when its SEG.SEQ is older than SND.WL1 (a retransmission, an ACK
	 * from a peer going back after a timeout): take its window, as
	 * Linux does (tcp_may_update_window). */
	if (acked_new || seq_lt(c->snd_wl1, seg->seq) ||
	    (c->snd_wl1 == seg->seq && seq_le(c->snd_wl2, seg->ack))) {
		uint32_t w = seg->wnd << c->snd_wscale;

		if (w && !c->snd_wnd)
			c->persist_backoff = 0;
		c->snd_wnd = w;
		c->snd_wl1 = seg->seq;
		c->snd_wl2 = seg->ack;
		if (w > c->max_snd_wnd)
			c->max_snd_wnd = w;
		if (w && c->persist) {
			c->persist = false;
			xm_timer_cancel(&c->st->timers, &c->t_rtx);
			if (c->snd_una != c->snd_max)
				xm_tcp_rtx_arm(c);
		}
	}
}

static void new_ack(struct xm_tcp_conn *c, const struct xm_tcp_seg *seg)
{
	uint32_t newly_sacked = 0, sacked_before = c->sb.sacked_bytes;
	uint32_t acked = seg->ack - c->snd_una;
	int64_t delivered;
	uint32_t inflight = c->snd_max - c->snd_una;
	uint32_t data = acked < c->sndbuf.len ? acked : c->sndbuf.len;
	uint64_t now = xm_tcp_now_us(c);
	uint32_t rtt = 0;

	/* RFC 7323 4 (RTTM) or RFC 6298 with Karn's rule. */
	if (c->ts_ok && seg->opts.ts_ok && seg->opts.tsecr) {
		uint32_t d = xm_tcp_tsval(c) - seg->opts.tsecr;

		/* An echo of a segment sent before the last timeout would
		 * count the backoff wait as RTT (a receiver echoes an old
		 * TS.Recent when it ACKs a duplicate): not a sample. */
		if (c->rto_seen && seq_lt(seg->opts.tsecr, c->rto_tsval))
			d = 60000;
		if (d < 60000)
			rtt = d ? d * 1000 : 500;
	} else if (c->rtt_timing && seq_gt(seg->ack, c->rtt_seq)) {
		rtt = (uint32_t)(now - c->rtt_time);
		if (!rtt)
			rtt = 1;
		c->rtt_timing = false;
	}
	/* RFC 6298 5 / Karn: the backoff stays until a valid sample. */
	if (rtt) {
		xm_rto_sample(&c->rto, rtt);
		xm_rto_reset_backoff(&c->rto);
	}
	c->rtx_count = 0;
	xm_tcp_ring_consume(&c->sndbuf, data);
	c->snd_una = seg->ack;
	if (seq_lt(c->snd_nxt, c->snd_una))
		c->snd_nxt = c->snd_una;
	if (c->sack_ok)
		newly_sacked = xm_sack_update(&c->sb, c->snd_una, c->snd_max,
					      seg->opts.sack, seg->opts.nsack);
	else
		xm_sack_init(&c->sb, c->snd_una);
	c->sb.nxt = c->snd_max;
	/* RFC 6937 DeliveredData: the cumulative advance plus the change in
	 * SACKed bytes (which the advance may have swallowed). */
	delivered = (int64_t)acked + c->sb.sacked_bytes - sacked_before;

	xm_tcp_eifel_ack(c, seg);
	if (c->rto_recovery && seq_ge(c->snd_una, c->recover)) {
		c->rto_recovery = false;
		if (xm_tcp_rack_on(c))
			xm_rack_recovery_end(&c->rack, c->snd_una, c->undone);
	}
	if (c->in_recovery) {
		if (seq_ge(c->snd_una, c->recover)) {
			/* RFC 6582 3.2 (3) / RFC 6675 5: full ACK ends it. */
			c->in_recovery = false;
			c->dupacks = 0;
			xm_tcp_recovery_end(c, now);
		} else if (!c->sack_ok) {
			/* RFC 6582 3.2 (5): partial ACK: retransmit the next
			 * hole, deflate by what was acked. */
			xm_tcp_retransmit(c, c->snd_una, c->mss);
			c->dupacks = c->dupacks > acked / c->mss ? c->dupacks - acked / c->mss : 0;
		}
	} else {
		c->dupacks = 0;
		c->cc.ops->on_ack(&c->cc, acked, inflight, rtt, now);
		/* Keep recover within 2^31 of snd_una on long transfers
		 * (RFC 6582 3.2 step 2 compares them). */
		if (!c->rto_recovery && seq_lt(c->recover, c->snd_una - 1))
			c->recover = c->snd_una - 1;
		/* RFC 6675 5: an ACK SACKing new octets counts as a duplicate
		 * "regardless of its status as a cumulative acknowledgment":
		 * (2) IsLost(HighACK + 1) starts recovery now, not after
		 * further ACKs that may never come. */
		if (newly_sacked && !c->rto_recovery && !xm_tcp_rack_on(c) &&
		    xm_sack_loss_detected(&c->sb, c->mss)) {
			c->dupacks = 1;
			xm_tcp_enter_recovery(c);
		}
	}
	xm_tcp_rtx_restart(c);
	if (xm_tcp_rack_on(c))
		xm_tcp_recovery_ack(c, seg, acked, delivered > 0 ? (uint32_t)delivered : 0);
}

void xm_tcp_enter_recovery(struct xm_tcp_conn *c)
{
	uint64_t now = xm_tcp_now_us(c);

	/* RFC 6582 3.2 (2): only when the ACK covers more than recover,
	 * "the highest sequence number transmitted" when recovery (or the
	 * RTO) began: no second reduction for losses of the same window.
	 * recover holds snd_max, one past that number, so an ACK of
	 * recover itself covers it: data sent since may be lost. */
	if (seq_lt(c->snd_una, c->recover))
		return;
	c->recover = c->snd_max;
	c->in_recovery = true;
	c->st->tcp->stats.fast_recoveries++;
	xm_tcp_undo_init(c);
	c->cc.ops->on_loss(&c->cc, c->snd_max - c->snd_una, now);
	xm_tcp_recovery_start(c);
	c->rtt_timing = false;
	if (c->sack_ok) {
		c->sb.high_rxt = c->snd_una;
		return;   /* xm_tcp_output: NextSeg() retransmits */
	}
	xm_tcp_retransmit(c, c->snd_una, c->mss);
}

static void dup_ack(struct xm_tcp_conn *c, const struct xm_tcp_seg *seg)
{
	uint32_t newly_sacked = 0;

	if (c->sack_ok)
		newly_sacked = xm_sack_update(&c->sb, c->snd_una, c->snd_max,
					      seg->opts.sack, seg->opts.nsack);
	/* RACK (RFC 8985) looks at every ACK and decides losses from the
	 * SACK blocks; duplicate ACKs without any still count to DupThresh
	 * (RFC 5681 3.2), or a peer that never sends blocks would only
	 * ever be repaired by the RTO. */
	if (xm_tcp_rack_on(c)) {
		if (newly_sacked) {
			c->dupacks++;
		} else if (!seg->opts.nsack && c->snd_una != c->snd_max && !seg->len &&
			   !(seg->flags & (XM_TCP_SYN | XM_TCP_FIN)) &&
			   (seg->wnd << c->snd_wscale) == c->snd_wnd &&
			   ++c->dupacks >= XM_SACK_DUPTHRESH &&
			   !c->in_recovery && !c->rto_recovery) {
			xm_rack_mark_first_lost(&c->rack);
			xm_tcp_enter_recovery(c);
		}
		xm_tcp_recovery_ack(c, seg, 0, newly_sacked);
		return;
	}
	/* RFC 5681 2 "DUPLICATE ACKNOWLEDGMENT": outstanding data, no data,
	 * no SYN/FIN, same ACK and window. RFC 6675 2: with SACK, an ACK
	 * SACKing new octets is one even with data or a new window (all a
	 * peer that sends data too ever sends), and the scoreboard decides
	 * (RFC 6675 5). */
	if (c->snd_una == c->snd_max)
		return;
	if (!newly_sacked &&
	    (seg->len || (seg->flags & (XM_TCP_SYN | XM_TCP_FIN)) ||
	     (seg->wnd << c->snd_wscale) != c->snd_wnd))
		return;
	c->dupacks++;
	if (c->in_recovery || c->rto_recovery)
		return;
	if (c->dupacks >= XM_SACK_DUPTHRESH ||
	    (c->sack_ok && xm_sack_loss_detected(&c->sb, c->mss)))
		xm_tcp_enter_recovery(c);
}

/* RFC 9293 3.10.7.4 fifth: the ACK field. Returns false when the segment
 * is to be dropped (or c was freed: *gone). */
static bool ack_in(struct xm_tcp_conn *c, const struct xm_ipinfo *ip,
		   const struct xm_tcp_seg *seg, bool *gone)
{
	/* RFC 5961 5.2: ACKs outside [SND.UNA - MAX.SND.WND, SND.NXT]. */
	uint32_t lo = c->snd_una - (c->max_snd_wnd ? c->max_snd_wnd : 1);
	bool acked_new;

	if (c->state == XM_TCP_SYN_RECEIVED) {
		if (seq_gt(seg->ack, c->snd_una) && seq_le(seg->ack, c->snd_max)) {
			xm_tcp_set_state(c, XM_TCP_ESTABLISHED);
			c->snd_wnd = seg->wnd << c->snd_wscale;
			c->max_snd_wnd = c->snd_wnd;
			c->snd_wl1 = seg->seq;
			c->snd_wl2 = seg->ack;
			c->snd_una = seg->ack;
			if (seq_lt(c->snd_nxt, c->snd_una))
				c->snd_nxt = c->snd_una;
			xm_tcp_handshake_rtt(c);
			c->rtx_count = 0;
			xm_rto_reset_backoff(&c->rto);
			xm_timer_cancel(&c->st->timers, &c->t_rtx);
			cc_start(c);
			xm_tcp_keep_arm(c);
			if (c->listener && !xm_tcp_listen_established(c)) {
				*gone = true;
				return false;
			}
			return true;
		}
		/* RFC 9293 3.10.7.4: <SEQ=SEG.ACK><CTL=RST>. */
		xm_tcp_send_reset(c->st, ip, seg->sport, seg->dport, seg->ack, 0,
				  XM_TCP_RST);
		return false;
	}
	if (seq_gt(seg->ack, c->snd_max) || seq_lt(seg->ack, lo)) {
		challenge_ack(c);
		return false;
	}
	acked_new = seq_gt(seg->ack, c->snd_una);
	if (acked_new)
		new_ack(c, seg);
	else if (seg->ack == c->snd_una)
		dup_ack(c, seg);
	else if (xm_tcp_rack_on(c))
		/* An old ACK, overtaken by a later one: its D-SACK still
		 * tells of a needless retransmission (Linux tcp_ack
		 * old_ack reads its SACK blocks). */
		xm_tcp_dsack_in(c, seg);
	/* RFC 9293 3.10.7.4: only if SND.UNA =< SEG.ACK =< SND.NXT. */
	if (seq_ge(seg->ack, c->snd_una))
		window_update(c, seg, acked_new);

	switch (c->state) {
	case XM_TCP_FIN_WAIT_1:
		if (our_fin_acked(c)) {
			xm_tcp_set_state(c, XM_TCP_FIN_WAIT_2);
			xm_timer_cancel(&c->st->timers, &c->t_rtx);
			if (c->orphan)
				xm_tcp_finwait2_arm(c);
		}
		break;
	case XM_TCP_CLOSING:
		if (our_fin_acked(c)) {
			xm_tcp_set_state(c, XM_TCP_TIME_WAIT);
			xm_tcp_timewait_arm(c);
		}
		break;
	case XM_TCP_LAST_ACK:
		if (our_fin_acked(c)) {
			*gone = xm_tcp_set_closed(c, 0);
			return false;
		}
		break;
	default:
		break;
	}
	return true;
}

/* RFC 9293 3.10.7.3: SYN-SENT. */
static void syn_sent_in(struct xm_tcp_conn *c, const struct xm_ipinfo *ip,
			const struct xm_tcp_seg *seg)
{
	bool ack = seg->flags & XM_TCP_ACK;

	if (ack && (seq_le(seg->ack, c->iss) || seq_gt(seg->ack, c->snd_max))) {
		if (!(seg->flags & XM_TCP_RST))
			xm_tcp_send_reset(c->st, ip, seg->sport, seg->dport, seg->ack,
					  0, XM_TCP_RST);
		return;
	}
	if (seg->flags & XM_TCP_RST) {
		if (ack)
			conn_reset(c, -ECONNREFUSED);
		return;
	}
	if (!(seg->flags & XM_TCP_SYN))
		return;
	c->irs = seg->seq;
	c->rcv_nxt = seg->seq + 1;
	c->rcv_adv = c->rcv_nxt;
	xm_tcp_syn_options(c, seg);
	c->snd_wnd = seg->wnd;       /* RFC 7323 2.2: unscaled in a SYN */
	c->max_snd_wnd = c->snd_wnd;
	c->snd_wl1 = seg->seq;
	c->snd_wl2 = seg->ack;
	if (ack) {
		c->snd_una = seg->ack;
		xm_tcp_handshake_rtt(c);
		xm_tcp_set_state(c, XM_TCP_ESTABLISHED);
		xm_timer_cancel(&c->st->timers, &c->t_rtx);
		c->rtx_count = 0;
		xm_rto_reset_backoff(&c->rto);
		cc_start(c);
		xm_tcp_keep_arm(c);
		c->ack_now = true;
		xm_tcp_output(c);
		return;
	}
	/* RFC 9293 3.5 simultaneous open: SYN-RECEIVED, send SYN,ACK. */
	xm_tcp_set_state(c, XM_TCP_SYN_RECEIVED);
	xm_tcp_send_syn(c);
	xm_tcp_rtx_arm(c);
}

/* Linux tcp_disordered_ack: a pure duplicate ACK (the expected sequence
 * number, SND.UNA, a window it would not update) whose timestamp is older
 * than TS.Recent by no more than an RTO (the peer's clock taken as 1 ms)
 * was only overtaken by a later ACK: no old duplicate can harm, and its
 * SACK and D-SACK blocks (RFC 2883) are news. */
static bool disordered_ack(const struct xm_tcp_conn *c, const struct xm_tcp_seg *seg)
{
	return (seg->flags & XM_TCP_ACK) && !seg->len &&
	       !(seg->flags & (XM_TCP_SYN | XM_TCP_FIN)) &&
	       seg->seq == c->rcv_nxt && seg->ack == c->snd_una &&
	       seq_le(seg->seq, c->snd_wl1) &&
	       !(seg->seq == c->snd_wl1 && (seg->wnd << c->snd_wscale) > c->snd_wnd) &&
	       c->ts_recent - seg->opts.tsval <= xm_rto_timeout_us(&c->rto) / 1000;
}

/* The ACK for a segment dropped before its text is looked at, with a
 * D-SACK (RFC 2883 4.1.1) for what of it came before (Linux
 * tcp_send_dupack). */
static void send_dupack(struct xm_tcp_conn *c, const struct xm_tcp_seg *seg)
{
	if (seg->len && seq_lt(seg->seq, c->rcv_nxt))
		xm_tcp_dsack_note(c, seg->seq, seq_min(seg->seq + seg->len, c->rcv_nxt));
	xm_tcp_send_ack(c);
}

static bool paws_reject(struct xm_tcp_conn *c, const struct xm_tcp_seg *seg)
{
	struct xm_tcp_stack *ts = c->st->tcp;

	if (!c->ts_ok || !seg->opts.ts_ok || (seg->flags & XM_TCP_RST))
		return false;
	if (!seq_lt(seg->opts.tsval, c->ts_recent) || disordered_ack(c, seg))
		return false;
	/* RFC 7323 5.5: ts_recent idle over 24 days is invalid. */
	if (xm_tcp_now_us(c) - c->ts_recent_time > PAWS_24DAYS_US) {
		c->ts_recent = seg->opts.tsval;
		return false;
	}
	ts->stats.paws_drops++;
	return true;
}

/* RFC 9293 3.10.7.4 first: is any of the segment in the window? */
static bool acceptable(const struct xm_tcp_conn *c, const struct xm_tcp_seg *seg,
		       uint32_t wnd)
{
	uint32_t sp = seg_space(seg), end = c->rcv_nxt + wnd;

	if (!sp)
		return wnd ? seq_ge(seg->seq, c->rcv_nxt) && seq_lt(seg->seq, end)
			   : seg->seq == c->rcv_nxt;
	if (!wnd)
		return false;
	return (seq_ge(seg->seq, c->rcv_nxt) && seq_lt(seg->seq, end)) ||
	       (seq_ge(seg->seq + sp - 1, c->rcv_nxt) && seq_lt(seg->seq + sp - 1, end));
}

void xm_tcp_conn_input(struct xm_tcp_conn *c, const struct xm_ipinfo *ip,
		       struct xm_tcp_seg *seg)
{
	struct xm_tcp_stack *ts = c->st->tcp;
	uint32_t wnd;
	bool gone = false, ack_now = false;

	c->info.segs_in++;
	if (seg->len) {
		c->info.data_segs_in++;
		c->info.last_data_recv = xm_tcp_now_us(c);
		if (seg->len > c->info.rcv_mss)
			c->info.rcv_mss = seg->len;
	}
	if (c->state == XM_TCP_SYN_SENT) {
		syn_sent_in(c, ip, seg);
		return;
	}
	/* A retransmitted SYN: the SYN-ACK was lost; answer at once (Linux
	 * tcp_check_req) rather than at our retransmission timeout. */
	if (c->state == XM_TCP_SYN_RECEIVED && (seg->flags & XM_TCP_SYN) &&
	    !(seg->flags & (XM_TCP_ACK | XM_TCP_RST)) && seg->seq == c->irs) {
		xm_tcp_send_syn(c);
		return;
	}
	if (paws_reject(c, seg)) {
		/* Most often the original of a segment resent too early,
		 * arriving after its retransmission raised TS.Recent: a
		 * duplicate like any other (Linux tcp_send_dupack). */
		send_dupack(c, seg);
		return;
	}
	wnd = seq_gt(c->rcv_adv, c->rcv_nxt) ? c->rcv_adv - c->rcv_nxt : 0;
	if (!acceptable(c, seg, wnd)) {
		/* RFC 9293 3.10.7.4: with a zero window, still take the ACK
		 * (and RST) of an in-sequence segment, drop its text. */
		if (!wnd && seg->seq == c->rcv_nxt && !(seg->flags & XM_TCP_SYN)) {
			seg->len = 0;
			seg->flags &= (uint8_t)~XM_TCP_FIN;
			ack_now = true;
		} else {
			/* Send an ACK (unless RST) and drop. A keepalive or a
			 * window probe lands here and gets its ACK; so does a
			 * retransmitted FIN in TIME-WAIT, which also restarts
			 * the 2MSL timeout (RFC 9293 3.10.7.4 eighth). */
			if (c->state == XM_TCP_TIME_WAIT && (seg->flags & XM_TCP_FIN))
				xm_tcp_timewait_arm(c);
			if (!(seg->flags & XM_TCP_RST))
				send_dupack(c, seg);
			else
				ts->stats.rst_ignored++;
			return;
		}
	}
	/* second: RST (RFC 5961 3.2: exact match resets, else challenge). */
	if (seg->flags & XM_TCP_RST) {
		if (seg->seq != c->rcv_nxt) {
			challenge_ack(c);
			return;
		}
		switch (c->state) {
		case XM_TCP_SYN_RECEIVED:
			/* Passive: back to LISTEN (drop the embryo); active
			 * (simultaneous open): refused. */
			if (c->listener) {
				ts->stats.rst_in++;
				xm_tcp_set_closed(c, 0);
			} else {
				conn_reset(c, -ECONNREFUSED);
			}
			return;
		case XM_TCP_CLOSING:
		case XM_TCP_LAST_ACK:
		case XM_TCP_TIME_WAIT:
			ts->stats.rst_in++;
			xm_tcp_set_closed(c, 0);
			return;
		case XM_TCP_CLOSE_WAIT:
			conn_reset(c, -EPIPE);   /* as Linux tcp_reset() */
			return;
		default:
			conn_reset(c, -ECONNRESET);
			return;
		}
	}
	/* fourth: SYN in a synchronized state (RFC 5961 4.2). */
	if (seg->flags & XM_TCP_SYN) {
		if (c->state == XM_TCP_SYN_RECEIVED && seg->seq == c->irs) {
			xm_tcp_send_syn(c);   /* retransmitted SYN: resend SYN-ACK */
			return;
		}
		challenge_ack(c);
		return;
	}
	/* fifth: ACK */
	if (!(seg->flags & XM_TCP_ACK)) {
		ts->stats.bad_flags++;
		return;
	}
	/* A validated segment: the peer is alive (keepalive). */
	c->last_rcv_time = xm_tcp_now_us(c);
	c->keep_probes = 0;
	/* RFC 7323 4.3: remember the peer's timestamp of the segment that
	 * holds the next expected byte. */
	if (c->ts_ok && seg->opts.ts_ok && seq_le(seg->seq, c->last_ack_sent) &&
	    seq_ge(seg->opts.tsval, c->ts_recent)) {
		c->ts_recent = seg->opts.tsval;
		c->ts_recent_time = xm_tcp_now_us(c);
	}
	if (!ack_in(c, ip, seg, &gone))
		return;
	if (c->state == XM_TCP_CLOSED)
		return;

	/* seventh: text. Trim what is already received or beyond the
	 * window (RFC 9293 3.10.7.4: "trimmed" to the window). */
	if (seg->len && (c->state == XM_TCP_ESTABLISHED ||
			 c->state == XM_TCP_FIN_WAIT_1 ||
			 c->state == XM_TCP_FIN_WAIT_2)) {
		uint32_t seq = seg->seq, len = seg->len;
		const uint8_t *p = seg->data;

		if (seq_lt(seq, c->rcv_nxt)) {
			uint32_t d = c->rcv_nxt - seq;

			/* At once, so that the D-SACK goes out before another
			 * duplicate can replace it (Linux tcp_send_dupack). */
			xm_tcp_dsack_note(c, seq, d >= len ? seq + len : c->rcv_nxt);
			ack_now = true;
			if (d >= len) {
				len = 0;
			} else {
				seq += d;
				p += d;
				len -= d;
			}
		}
		if (len && seq_gt(seq + len, c->rcv_nxt + wnd)) {
			uint32_t over = seq + len - (c->rcv_nxt + wnd);

			len = over >= len ? 0 : len - over;
			seg->flags &= (uint8_t)~XM_TCP_FIN;
			ack_now = true;
		}
		if (len) {
			if (c->orphan) {
				/* Data after close: RFC 9293 3.10.4 / Linux: RST. */
				xm_tcp_send_rst_conn(c);
				xm_tcp_set_closed(c, 0);
				return;
			}
			if (xm_tcp_data_in(c, seq, p, len))
				ack_now = true;
			/* RFC 1122 4.2.3.2 / RFC 5681 4.2: ACK at least
			 * every second full-sized segment. */
			if (++c->dack_segs >= 2 || c->quickack)
				ack_now = true;
		}
	}
	/* eighth: FIN, once everything before it has arrived. */
	if (seg->flags & XM_TCP_FIN) {
		uint32_t fseq = seg->seq + seg->len;

		if (fseq == c->rcv_nxt && c->state != XM_TCP_CLOSE_WAIT &&
		    c->state != XM_TCP_CLOSING && c->state != XM_TCP_LAST_ACK) {
			fin_in(c);
		} else if (seq_gt(fseq, c->rcv_nxt)) {
			c->fin_ooo = true;
			c->fin_seq = fseq;
			ack_now = true;
		} else {
			ack_now = true;   /* retransmitted FIN */
		}
	}
	if (c->fin_ooo && !c->fin_rcvd && c->fin_seq == c->rcv_nxt)
		fin_in(c);
	if (c->state == XM_TCP_TIME_WAIT) {
		if (ack_now || (seg->flags & XM_TCP_FIN))
			xm_tcp_send_ack(c);
		return;
	}
	if (ack_now)
		c->ack_now = true;
	else if (seg->len)
		xm_tcp_dack_arm(c);
	xm_tcp_output(c);
}

static uint32_t flow_hash(const struct xm_stack *st, const struct xm_ipinfo *ip,
			  const struct xm_tcp_seg *seg)
{
	return xm_flow_hash(st, ip->family, ip->src, ip->dst, seg->sport, seg->dport);
}

void xm_tcp_input(struct xm_stack *st, const struct xm_ipinfo *ip,
		  const uint8_t *l4, uint32_t len)
{
	struct xm_tcp_stack *ts = xm_tcp_stack_get(st);
	struct xm_tcp_seg seg = { 0 };
	struct xm_tcp_conn *c;
	uint32_t doff;

	if (!ts)
		return;
	ts->stats.segs_in++;
	if (len < XM_TCP_HLEN) {
		ts->stats.malformed++;
		st->stats.rx_malformed++;
		return;
	}
	doff = (uint32_t)(l4[12] >> 4) * 4;
	if (doff < XM_TCP_HLEN || doff > len) {
		ts->stats.malformed++;
		st->stats.rx_malformed++;
		return;
	}
	switch (xm_l4_csum_verify(ip, l4, len, 16)) {
	case XM_CSUM_BAD:
		ts->stats.bad_csum++;
		st->stats.rx_bad_l4_csum++;
		return;
	case XM_CSUM_PARTIAL:
		st->stats.rx_csum_partial++;
		break;
	case XM_CSUM_GOOD:
		break;
	}
	seg.sport = xm_get16(l4);
	seg.dport = xm_get16(l4 + 2);
	seg.seq = xm_get32(l4 + 4);
	seg.ack = xm_get32(l4 + 8);
	seg.flags = l4[13] & 0x3f;
	seg.wnd = xm_get16(l4 + 14);
	seg.data = l4 + doff;
	seg.len = len - doff;
	if (xm_tcp_opts_parse(l4 + XM_TCP_HLEN, doff - XM_TCP_HLEN,
			      seg.flags & XM_TCP_SYN, &seg.opts) < 0) {
		/* A malformed option list: drop and count, as Linux does
		 * for a bad option length. */
		ts->stats.malformed++;
		st->stats.rx_malformed++;
		return;
	}
	/* RFC 9293 3.9.1: a datagram to a broadcast/multicast address or
	 * from port 0 never opens anything. */
	if (!seg.sport || !seg.dport) {
		ts->stats.malformed++;
		return;
	}
	c = xm_tcp_lookup(ts, ip->family, ip->dst, seg.dport, ip->src, seg.sport);
	if (c && c->state == XM_TCP_TIME_WAIT &&
	    (seg.flags & (XM_TCP_SYN | XM_TCP_ACK | XM_TCP_RST)) == XM_TCP_SYN &&
	    (seq_gt(seg.seq, c->rcv_nxt) ||
	     (c->ts_ok && seg.opts.ts_ok && seq_gt(seg.opts.tsval, c->ts_recent)))) {
		/* A new incarnation (RFC 9293 3.10.7.4 TIME-WAIT note, RFC
		 * 6191, Linux tcp_timewait_state_process): end TIME-WAIT and
		 * let a listener take the SYN. */
		struct xm_tcp_conn *l = xm_tcp_lookup_listener(ts, ip->family,
							       ip->dst, seg.dport,
							       flow_hash(st, ip, &seg));

		if (l) {
			xm_tcp_set_closed(c, 0);
			xm_tcp_listen_input(l, ip, &seg);
			return;
		}
	}
	if (c) {
		xm_tcp_conn_input(c, ip, &seg);
		return;
	}
	c = xm_tcp_lookup_listener(ts, ip->family, ip->dst, seg.dport,
				   flow_hash(st, ip, &seg));
	if (c) {
		xm_tcp_listen_input(c, ip, &seg);
		return;
	}
	/* RFC 9293 3.10.7.1: CLOSED. */
	st->stats.rx_no_socket++;
	if (seg.flags & XM_TCP_RST)
		return;
	if (seg.flags & XM_TCP_ACK)
		xm_tcp_send_reset(st, ip, seg.sport, seg.dport, seg.ack, 0, XM_TCP_RST);
	else
		xm_tcp_send_reset(st, ip, seg.sport, seg.dport, 0,
				  seg.seq + seg_space(&seg), XM_TCP_RST | XM_TCP_ACK);
}
