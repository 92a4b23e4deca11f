// SPDX-License-Identifier: MIT
/*
 * TCP timers: retransmission (RFC 6298 with exponential backoff, SYN and
 * SYN-ACK retries as Linux counts them), persist (RFC 9293 3.8.6.1),
 * delayed ACK (RFC 1122 4.2.3.2), keepalive (RFC 1122 4.2.3.6), TIME-WAIT
 * 2MSL (RFC 9293 3.10.7.4) and the orphaned FIN-WAIT-2 timeout.
 * t_rtx serves the retransmission, persist, SYN, FIN-WAIT-2 and TIME-WAIT
 * roles, one at a time by state.
 */
#include <errno.h>
#include <stddef.h>

#include "../core/stack.h"
#include "tcb.h"

#define conn_of(t, member) xm_container_of(t, struct xm_tcp_conn, member)

#define FIN_WAIT2_TIMEOUT_US 60000000ull   /* Linux tcp_fin_timeout */

static void arm_us(struct xm_tcp_conn *c, struct xm_timer *t, uint64_t us)
{
	xm_timer_arm(&c->st->timers, t, xm_now(c->st) + us * 1000);
}

void xm_tcp_rtx_arm(struct xm_tcp_conn *c)
{
	c->persist = false;
	arm_us(c, &c->t_rtx, xm_rto_timeout_us(&c->rto));
}

/* RFC 6298 5.3: restart the timer when an ACK acknowledges new data; stop
 * it when all data is acknowledged (5.2). */
void xm_tcp_rtx_restart(struct xm_tcp_conn *c)
{
	if (c->snd_una == c->snd_max) {
		if (!c->persist)
			xm_timer_cancel(&c->st->timers, &c->t_rtx);
		return;
	}
	xm_tcp_rtx_arm(c);
}

void xm_tcp_persist_arm(struct xm_tcp_conn *c)
{
	uint64_t us;

	if (c->persist && xm_timer_armed(&c->t_rtx))
		return;
	us = (uint64_t)xm_rto_timeout_us(&c->rto) << c->persist_backoff;
	if (us < XM_TCP_PERSIST_MIN_US)
		us = XM_TCP_PERSIST_MIN_US;
	if (us > XM_RTO_MAX_US)
		us = XM_RTO_MAX_US;
	c->persist = true;
	arm_us(c, &c->t_rtx, us);
}

/* A completed tx frame signals no fd and sends no ACK: with every frame
 * out and every segment ACKed before its frame came back (a veth receiver
 * frees a frame only when its reader has read it; the device daemon hands
 * completions over only when it looks), nothing would run the output
 * again until a loss timer fires, far too late for a sender that is only
 * short of buffers. So look again as the stack's other tx waiters do. */
void xm_tcp_txwait_arm(struct xm_tcp_conn *c)
{
	if (!xm_timer_armed(&c->t_txwait))
		xm_timer_arm(&c->st->timers, &c->t_txwait,
			     xm_now(c->st) + (XM_TX_RETRY_NS << c->txwait_backoff));
}

void xm_tcp_dack_arm(struct xm_tcp_conn *c)
{
	if (!xm_timer_armed(&c->t_dack))
		arm_us(c, &c->t_dack, XM_TCP_DELACK_US);
}

void xm_tcp_keep_arm(struct xm_tcp_conn *c)
{
	if (!c->keepalive) {
		xm_timer_cancel(&c->st->timers, &c->t_keep);
		return;
	}
	c->keep_probes = 0;
	arm_us(c, &c->t_keep, (uint64_t)c->keep_idle_s * 1000000);
}

void xm_tcp_timewait_arm(struct xm_tcp_conn *c)
{
	c->persist = false;
	xm_timer_cancel(&c->st->timers, &c->t_dack);
	xm_timer_cancel(&c->st->timers, &c->t_keep);
	xm_tcp_buffers_release(c);
	arm_us(c, &c->t_rtx, 2 * XM_TCP_MSL_US);
}

static void rtx_fire(struct xm_stack *st, struct xm_timer *t)
{
	struct xm_tcp_conn *c = conn_of(t, t_rtx);
	struct xm_tcp_stack *ts = st->tcp;

	switch (c->state) {
	case XM_TCP_TIME_WAIT:
		xm_tcp_set_closed(c, 0);
		return;
	case XM_TCP_FIN_WAIT_2:
		if (c->orphan) {
			xm_tcp_set_closed(c, 0);
			return;
		}
		break;
	case XM_TCP_SYN_SENT:
	case XM_TCP_SYN_RECEIVED:
		if (++c->rtx_count > (c->state == XM_TCP_SYN_SENT ? XM_TCP_SYN_RETRIES
								 : XM_TCP_SYNACK_RETRIES)) {
			ts->stats.timeouts++;
			xm_tcp_set_closed(c, -ETIMEDOUT);
			return;
		}
		xm_rto_backoff(&c->rto);
		xm_tcp_rtx_arm(c);
		xm_tcp_send_syn(c);
		return;
	default:
		break;
	}
	if (c->persist) {
		/* RFC 9293 3.8.6.1: probe the zero window; a closed window is
		 * no reason to give up (RFC 1122 4.2.2.17). */
		c->persist = false;
		if (c->snd_wnd) {
			/* A small window: the override timeout sends what
			 * fits (RFC 1122 4.2.3.4). */
			c->sws_override = true;
			xm_tcp_output(c);
			c->sws_override = false;
			return;
		}
		xm_tcp_send_probe(c);
		ts->stats.persist_probes++;
		if (c->persist_backoff < 16)
			c->persist_backoff++;
		xm_tcp_persist_arm(c);
		return;
	}
	if (c->snd_una == c->snd_max)
		return;
	if (++c->rtx_count > XM_TCP_RETRIES2) {
		ts->stats.timeouts++;
		xm_tcp_send_rst_conn(c);
		xm_tcp_set_closed(c, -ETIMEDOUT);
		return;
	}
	ts->stats.rto_fires++;
	xm_tcp_recovery_rto(c);
	/* RFC 6298 5.4-5.6, RFC 5681 3.1 eq. 4, RFC 6582 4.2. */
	if (c->rtx_count == 1 || !c->rto_recovery)
		c->cc.ops->on_rto(&c->cc, xm_tcp_inflight(c), xm_tcp_now_us(c));
	else
		c->cc.cwnd = c->mss;
	xm_rto_backoff(&c->rto);
	c->in_recovery = false;
	c->cc.in_recovery = false;
	c->rto_recovery = true;
	c->recover = c->snd_max;
	c->dupacks = 0;
	c->rtt_timing = false;
	c->sb.high_rxt = c->snd_una;
	c->snd_nxt = c->snd_una;
	c->rto_tsval = xm_tcp_tsval(c);
	c->rto_seen = true;
	xm_tcp_rtx_arm(c);
	xm_tcp_output(c);
}

static void dack_fire(struct xm_stack *st, struct xm_timer *t)
{
	struct xm_tcp_conn *c = conn_of(t, t_dack);

	(void)st;
	if (c->state == XM_TCP_CLOSED || c->state == XM_TCP_LISTEN)
		return;
	xm_tcp_send_ack(c);
}

static void txwait_fire(struct xm_stack *st, struct xm_timer *t)
{
	struct xm_tcp_conn *c = conn_of(t, t_txwait);

	(void)st;
	if (c->state == XM_TCP_CLOSED || c->state == XM_TCP_LISTEN)
		return;
	/* Frames a receiver holds until its reader reads may stay out for
	 * long: do not wake every XM_TX_RETRY_NS all that time. A segment
	 * sent resets it (xm_tcp_output). */
	if (c->txwait_backoff < XM_TCP_TXWAIT_BACKOFF_MAX)
		c->txwait_backoff++;
	xm_tcp_output(c);
}

static void keep_fire(struct xm_stack *st, struct xm_timer *t)
{
	struct xm_tcp_conn *c = conn_of(t, t_keep);
	uint64_t now = xm_tcp_now_us(c), idle;

	if (!c->keepalive || (c->state != XM_TCP_ESTABLISHED &&
			      c->state != XM_TCP_CLOSE_WAIT &&
			      c->state != XM_TCP_FIN_WAIT_2))
		return;
	idle = now - c->last_rcv_time;
	if (idle < (uint64_t)c->keep_idle_s * 1000000 && !c->keep_probes) {
		arm_us(c, t, (uint64_t)c->keep_idle_s * 1000000 - idle);
		return;
	}
	/* RFC 1122 4.2.3.6 / Linux: keep_cnt unanswered probes, then drop. */
	if (c->keep_probes >= c->keep_cnt) {
		st->tcp->stats.timeouts++;
		xm_tcp_send_rst_conn(c);
		xm_tcp_set_closed(c, -ETIMEDOUT);
		return;
	}
	c->keep_probes++;
	xm_tcp_send_probe(c);
	arm_us(c, t, (uint64_t)c->keep_intvl_s * 1000000);
}

void xm_tcp_timers_init(struct xm_tcp_conn *c)
{
	xm_timer_init(&c->t_rtx, rtx_fire);
	xm_timer_init(&c->t_dack, dack_fire);
	xm_timer_init(&c->t_keep, keep_fire);
	xm_timer_init(&c->t_txwait, txwait_fire);
	xm_tcp_loss_timer_init(c);
}

void xm_tcp_timers_stop(struct xm_tcp_conn *c)
{
	xm_timer_cancel(&c->st->timers, &c->t_rtx);
	xm_timer_cancel(&c->st->timers, &c->t_dack);
	xm_timer_cancel(&c->st->timers, &c->t_keep);
	xm_timer_cancel(&c->st->timers, &c->t_loss);
	xm_timer_cancel(&c->st->timers, &c->t_txwait);
	c->persist = false;
}

/* The orphaned FIN-WAIT-2 timeout (Linux tcp_fin_timeout). */
void xm_tcp_finwait2_arm(struct xm_tcp_conn *c)
{
	c->persist = false;
	arm_us(c, &c->t_rtx, FIN_WAIT2_TIMEOUT_US);
}
