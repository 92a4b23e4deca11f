// SPDX-License-Identifier: MIT
/*
 * Passive open: a LISTEN connection's SYN queue (SYN-RECEIVED children) and
 * accept queue (ESTABLISHED children not yet accepted), both bounded by the
 * backlog as Linux bounds them, and SYN cookies (RFC 4987 3.6) when the SYN
 * queue is full.
 */
#include <errno.h>
#include <netinet/in.h>
#include <string.h>

#include "../core/stack.h"
#include "../net/net.h"
#include "../socket/sock.h"
#include "isn.h"
#include "syncookie.h"
#include "tcb.h"

static void tuple_of(const struct xm_ipinfo *ip, uint16_t lport, uint16_t rport,
		     struct xm_tcp_tuple *t)
{
	memset(t, 0, sizeof(*t));
	if (ip->family == AF_INET) {
		xm_tcp_tuple_v4(t->laddr, ip->dst);
		xm_tcp_tuple_v4(t->raddr, ip->src);
	} else {
		memcpy(t->laddr, ip->dst, 16);
		memcpy(t->raddr, ip->src, 16);
	}
	t->lport = lport;
	t->rport = rport;
}

/* A child of l for the segment's 4-tuple, in state s. */
static struct xm_tcp_conn *child_new(struct xm_tcp_conn *l,
				     const struct xm_ipinfo *ip,
				     const struct xm_tcp_seg *seg)
{
	struct xm_tcp_conn *c = xm_tcp_conn_new(l->st, ip->family);

	if (!c)
		return NULL;
	memcpy(c->laddr, ip->dst, 16);
	memcpy(c->raddr, ip->src, 16);
	c->rport = seg->sport;
	c->rcvbuf_max = l->rcvbuf_max;
	c->sndbuf_max = l->sndbuf_max;
	c->nodelay = l->nodelay;
	c->keepalive = l->keepalive;
	c->keep_idle_s = l->keep_idle_s;
	c->keep_intvl_s = l->keep_intvl_s;
	c->keep_cnt = l->keep_cnt;
	c->cc.ops = l->cc.ops;
	c->ts_offset = (uint32_t)xm_stack_rand(l->st);
	/* Only the receive ring now (data may come with the handshake's
	 * ACK); the send ring when established, so that a SYN flood costs
	 * little memory (and the SYN queue bound caps it). */
	if (xm_tcp_port_get(c, seg->dport) < 0 || xm_tcp_buffers_alloc(c, true) < 0) {
		xm_tcp_conn_free(c);
		return NULL;
	}
	c->adv_mss = xm_tcp_rcv_mss(l->st, ip->family);
	/* The window scale we need for the largest receive buffer. */
	while (c->rcv_wscale < XM_TCP_WS_MAX &&
	       ((uint32_t)65535 << c->rcv_wscale) < c->rcvbuf_max)
		c->rcv_wscale++;
	c->irs = seg->seq;
	c->rcv_nxt = seg->seq + 1;
	c->rcv_adv = c->rcv_nxt;
	c->listener = l;
	c->rtt_time = xm_tcp_now_us(c);
	return c;
}

static void enqueue_accept(struct xm_tcp_conn *l, struct xm_tcp_conn *c)
{
	c->qnext = NULL;
	if (l->acc_tail)
		l->acc_tail->qnext = c;
	else
		l->acc_head = c;
	l->acc_tail = c;
	l->acc_q_len++;
	c->in_accept_q = true;
}

static void syn_in(struct xm_tcp_conn *l, const struct xm_ipinfo *ip,
		   const struct xm_tcp_seg *seg)
{
	struct xm_tcp_stack *ts = l->st->tcp;
	struct xm_tcp_conn *c;

	/* Linux: a full accept queue drops the SYN; the peer retries. */
	if (l->acc_q_len >= (uint32_t)l->backlog) {
		ts->stats.listen_drops++;
		return;
	}
	if (l->syn_q_len >= (uint32_t)l->backlog) {
		/* SYN cookies: answer without keeping state. */
		struct xm_tcp_tuple t;
		struct xm_tcp_conn tmp;
		uint16_t mss_used, peer = seg->opts.mss_ok ? seg->opts.mss : 536;
		uint16_t our = xm_tcp_mss_for_mtu(l->st, ip->family);

		tuple_of(ip, seg->dport, seg->sport, &t);
		/* A throwaway connection only to build the SYN-ACK: nothing
		 * of it is kept (its timers are never armed). */
		memset(&tmp, 0, sizeof(tmp));
		xm_tcp_timers_init(&tmp);
		tmp.st = l->st;
		tmp.family = ip->family;
		memcpy(tmp.laddr, ip->dst, 16);
		memcpy(tmp.raddr, ip->src, 16);
		tmp.lport = seg->dport;
		tmp.rport = seg->sport;
		tmp.state = XM_TCP_SYN_RECEIVED;
		tmp.iss = xm_syncookie_make(&ts->cookie_key, &t, seg->seq,
					    peer < our ? peer : our,
					    xm_tcp_now_us(&tmp), &mss_used);
		tmp.snd_nxt = tmp.iss;
		tmp.rcv_nxt = seg->seq + 1;
		tmp.adv_mss = mss_used;
		tmp.mss = mss_used;
		tmp.rcvbuf.cap = 65535;
		/* Options survive only through the timestamp (Linux): with
		 * no timestamps, no window scaling and no SACK. */
		if (seg->opts.ts_ok) {
			struct xm_syncookie_opts so = {
				.ws_ok = seg->opts.ws_ok, .ws = seg->opts.ws,
				.sack_ok = seg->opts.sack_ok,
			};

			tmp.ts_ok = true;
			tmp.ts_recent = seg->opts.tsval;
			tmp.ts_offset = xm_syncookie_ts_encode(
				(uint32_t)(xm_now(l->st) / 1000000), &so) -
				(uint32_t)(xm_now(l->st) / 1000000);
			tmp.sack_ok = so.sack_ok;
			tmp.ws_ok = so.ws_ok;
			while (tmp.ws_ok && tmp.rcv_wscale < XM_TCP_WS_MAX &&
			       ((uint32_t)65535 << tmp.rcv_wscale) < l->rcvbuf_max)
				tmp.rcv_wscale++;
		}
		ts->stats.syncookies_sent++;
		l->cookie_sent = true;
		l->last_cookie_us = xm_tcp_now_us(l);
		xm_tcp_send_syn(&tmp);
		return;
	}
	c = child_new(l, ip, seg);
	if (!c) {
		ts->stats.listen_drops++;
		return;
	}
	c->state = XM_TCP_SYN_RECEIVED;
	xm_tcp_syn_options(c, seg);
	c->iss = xm_tcp_isn_for(c);
	c->snd_una = c->snd_nxt = c->snd_max = c->iss;
	c->snd_wnd = seg->wnd;
	c->snd_wl1 = seg->seq;
	xm_tcp_conn_hash(c);
	c->qnext = l->syn_head;
	l->syn_head = c;
	l->syn_q_len++;
	ts->stats.passive_opens++;
	xm_tcp_send_syn(c);
	xm_tcp_rtx_arm(c);
}

/* The ACK of a cookie SYN-ACK: rebuild the connection from the cookie. */
static void cookie_ack_in(struct xm_tcp_conn *l, const struct xm_ipinfo *ip,
			  const struct xm_tcp_seg *seg)
{
	struct xm_tcp_stack *ts = l->st->tcp;
	struct xm_tcp_tuple t;
	struct xm_tcp_conn *c;
	struct xm_tcp_seg syn = *seg;
	uint16_t mss;

	/* Only while cookies may be outstanding (Linux
	 * tcp_synq_no_recent_overflow): otherwise a blind attacker could
	 * open connections by guessing cookies without any SYN. */
	if (!l->cookie_sent || xm_tcp_now_us(l) - l->last_cookie_us >
	    (uint64_t)XM_SYNCOOKIE_MAX_AGE * XM_SYNCOOKIE_PERIOD_US) {
		xm_tcp_send_reset(l->st, ip, seg->sport, seg->dport, seg->ack, 0,
				  XM_TCP_RST);
		return;
	}
	tuple_of(ip, seg->dport, seg->sport, &t);
	mss = xm_syncookie_check(&ts->cookie_key, &t, seg->seq - 1, seg->ack - 1,
				 xm_tcp_now_us(l));
	if (!mss || l->acc_q_len >= (uint32_t)l->backlog) {
		if (!mss)
			ts->stats.syncookies_bad++;
		else
			ts->stats.listen_drops++;
		xm_tcp_send_reset(l->st, ip, seg->sport, seg->dport, seg->ack, 0,
				  XM_TCP_RST);
		return;
	}
	ts->stats.syncookies_ok++;
	syn.seq = seg->seq - 1;
	memset(&syn.opts, 0, sizeof(syn.opts));
	syn.opts.mss_ok = true;
	syn.opts.mss = mss;
	if (seg->opts.ts_ok) {
		struct xm_syncookie_opts so;

		xm_syncookie_ts_decode(seg->opts.tsecr, &so);
		syn.opts.ts_ok = true;
		syn.opts.tsval = seg->opts.tsval;
		syn.opts.ws_ok = so.ws_ok;
		syn.opts.ws = so.ws;
		syn.opts.sack_ok = so.sack_ok;
	}
	c = child_new(l, ip, &syn);
	if (!c) {
		ts->stats.listen_drops++;
		return;
	}
	c->state = XM_TCP_SYN_RECEIVED;
	xm_tcp_syn_options(c, &syn);
	if (!c->ws_ok)
		c->rcv_wscale = 0;
	c->ts_offset = seg->opts.ts_ok ? seg->opts.tsecr - (uint32_t)(xm_now(l->st) / 1000000)
				       : c->ts_offset;
	c->iss = seg->ack - 1;
	c->snd_una = c->iss;
	c->snd_nxt = c->snd_max = c->iss + 1;
	c->rcv_adv = c->rcv_nxt + 65535;
	xm_tcp_conn_hash(c);
	ts->stats.passive_opens++;
	/* Completes like any SYN-RECEIVED connection: the ACK moves it to
	 * ESTABLISHED and the accept queue. Not on the SYN queue. */
	c->qnext = l->syn_head;
	l->syn_head = c;
	l->syn_q_len++;
	{
		struct xm_tcp_seg ack = *seg;

		xm_tcp_conn_input(c, ip, &ack);
	}
}

void xm_tcp_listen_input(struct xm_tcp_conn *l, const struct xm_ipinfo *ip,
			 const struct xm_tcp_seg *seg)
{
	/* RFC 9293 3.10.7.2: LISTEN. */
	if (seg->flags & XM_TCP_RST)
		return;
	if (seg->flags & XM_TCP_ACK) {
		if (!(seg->flags & XM_TCP_SYN)) {
			cookie_ack_in(l, ip, seg);
			return;
		}
		xm_tcp_send_reset(l->st, ip, seg->sport, seg->dport, seg->ack, 0,
				  XM_TCP_RST);
		return;
	}
	/* SYN with FIN opens nothing (Linux drops it too): a scanner's
	 * probe, not a client. */
	if ((seg->flags & (XM_TCP_SYN | XM_TCP_FIN)) == (XM_TCP_SYN | XM_TCP_FIN)) {
		l->st->tcp->stats.bad_flags++;
		return;
	}
	if (seg->flags & XM_TCP_SYN)
		syn_in(l, ip, seg);
	else
		l->st->tcp->stats.bad_flags++;
}

bool xm_tcp_listen_established(struct xm_tcp_conn *c)
{
	struct xm_tcp_conn *l = c->listener;

	if (xm_tcp_buffers_alloc(c, false) < 0) {
		l->st->tcp->stats.listen_drops++;
		xm_tcp_send_rst_conn(c);
		xm_tcp_set_closed(c, 0);
		return false;
	}
	xm_tcp_listen_unlink(c);
	c->listener = l;
	enqueue_accept(l, c);
	return true;
}

/* Take c off its listener's SYN or accept queue. */
void xm_tcp_listen_unlink(struct xm_tcp_conn *c)
{
	struct xm_tcp_conn *l = c->listener, **pp, *prev = NULL;

	if (!l)
		return;
	if (c->in_accept_q) {
		for (pp = &l->acc_head; *pp; prev = *pp, pp = &(*pp)->qnext) {
			if (*pp == c) {
				*pp = c->qnext;
				if (l->acc_tail == c)
					l->acc_tail = prev;
				l->acc_q_len--;
				break;
			}
		}
		c->in_accept_q = false;
	} else {
		for (pp = &l->syn_head; *pp; pp = &(*pp)->qnext) {
			if (*pp == c) {
				*pp = c->qnext;
				l->syn_q_len--;
				break;
			}
		}
	}
	c->qnext = NULL;
	c->listener = NULL;
}

/* Closing a listener resets every connection not yet accepted (Linux
 * inet_csk_listen_stop). */
void xm_tcp_listen_close(struct xm_tcp_conn *l)
{
	while (l->syn_head || l->acc_head) {
		struct xm_tcp_conn *c = l->syn_head ? l->syn_head : l->acc_head;

		xm_tcp_listen_unlink(c);
		if (c->state != XM_TCP_CLOSED)
			xm_tcp_send_rst_conn(c);
		c->sock = NULL;
		xm_tcp_set_closed(c, 0);
	}
}
