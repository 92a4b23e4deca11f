// SPDX-License-Identifier: MIT
/*
 * TCP output: building segments (header, options, checksum), what the send
 * window, congestion window, Nagle and the receiver allow (RFC 9293 3.8.6,
 * RFC 5681, RFC 6675 NextSeg), ACKs with SACK blocks, window updates,
 * retransmissions, probes and resets.
 */
#include <errno.h>
#include <netinet/in.h>
#include <string.h>

#include "../core/stack.h"
#include "../net/net.h"
#include "../socket/sock.h"
#include "tcb.h"

static struct xm_ipinfo ipinfo(int family, const uint8_t *src,
			       const uint8_t *dst, const struct xm_tcp_conn *c)
{
	struct xm_ipinfo ip = { .family = family, .proto = IPPROTO_TCP,
				.tos = c ? c->tos : 0, .hop_limit = c ? c->hop_limit : 0 };

	memcpy(ip.src, src, xm_addr_len(family));
	memcpy(ip.dst, dst, xm_addr_len(family));
	return ip;
}

static int emit(struct xm_stack *st, int family, const uint8_t *src,
		const uint8_t *dst, const struct xm_tcp_conn *c, uint8_t *hdr,
		uint32_t hlen, const uint8_t *payload, uint32_t plen)
{
	struct xm_ipinfo ip = ipinfo(family, src, dst, c);

	/* Summed by IP output as it copies the segment into the frame. */
	hdr[16] = hdr[17] = 0;
	ip.l4_csum_off = 16;
	return xm_ip_output(st, &ip, hdr, hlen, payload, plen);
}

/* The window we can offer: free receive buffer (RFC 9293 3.8.6.2.2 SWS
 * avoidance: do not move the right edge by less than min(buf/2, MSS)),
 * never shrinking an edge already advertised (RFC 9293 3.8.6). */
uint32_t xm_tcp_rcv_window(const struct xm_tcp_conn *c)
{
	uint32_t space = c->rcvbuf.cap - c->rcvbuf.len;
	uint32_t adv = seq_gt(c->rcv_adv, c->rcv_nxt) ? c->rcv_adv - c->rcv_nxt : 0;
	uint32_t step = c->rcvbuf.cap / 2 < c->adv_mss ? c->rcvbuf.cap / 2 : c->adv_mss;
	uint32_t max = (uint32_t)65535 << c->rcv_wscale;

	if (space > adv && space - adv < step)
		space = adv;
	if (space < adv)
		space = adv;
	if (space > max)
		space = max;
	return space;
}

uint32_t xm_tcp_inflight(const struct xm_tcp_conn *c)
{
	return c->snd_nxt - c->snd_una;
}

/* RFC 2018 4: after the block holding the newest segment, the blocks
 * reported most recently, so that each range is repeated in a few ACKs
 * and the loss of one ACK loses no SACK information. Fills blk from k;
 * returns the new count. */
static uint8_t sack_blocks_recent(const struct xm_tcp_conn *c,
				  struct xm_tcp_sack_block *blk, uint8_t k)
{
	uint32_t below = UINT32_MAX;

	while (k < XM_TCP_SACK_MAX) {
		int best = -1;

		for (uint16_t i = 0; i < c->nooo; i++)
			if (c->ooo[i].stamp < below &&
			    (best < 0 || c->ooo[i].stamp > c->ooo[best].stamp))
				best = i;
		if (best < 0)
			break;
		below = c->ooo[best].stamp;
		blk[k].start = c->ooo[best].start;
		blk[k++].end = c->ooo[best].end;
	}
	return k;
}

/* The options of a segment of c with flags, into hdr's option space;
 * returns their length. SACK blocks go on an ACK when there is something
 * to report (a D-SACK block once). */
static uint32_t seg_opts(struct xm_tcp_conn *c, uint8_t flags, uint8_t *hdr)
{
	struct xm_tcp_opts o = { 0 };
	bool syn = flags & XM_TCP_SYN;

	if (syn) {
		o.mss_ok = true;
		o.mss = c->adv_mss;
		o.ws_ok = c->ws_ok;
		o.ws = c->rcv_wscale;
		o.sack_ok = c->sack_ok;
		o.ts_ok = c->ts_ok;
	} else {
		o.ts_ok = c->ts_ok;
		if (c->sack_ok && (c->nooo || c->dsack_pending) && (flags & XM_TCP_ACK)) {
			/* RFC 2883 4: a D-SACK block first, once; RFC 2018 4:
			 * then the block with the newest segment, then the
			 * others. */
			uint8_t k = 0;

			if (c->dsack_pending) {
				o.sack[k].start = c->dsack_start;
				o.sack[k++].end = c->dsack_end;
				c->dsack_pending = false;
			}
			k = sack_blocks_recent(c, o.sack, k);
			o.nsack = k;
		}
	}
	if (o.ts_ok) {
		o.tsval = xm_tcp_tsval(c);
		o.tsecr = c->ts_recent;
	}
	return xm_tcp_opts_build(hdr + XM_TCP_HLEN, XM_TCP_OPTS_MAX, &o, syn);
}

/* The fixed header of a segment of c (checksum left to the caller);
 * returns the window it offers, unscaled. */
static uint32_t seg_hdr(struct xm_tcp_conn *c, uint8_t *hdr, uint32_t seq,
			uint8_t flags, uint32_t optlen)
{
	bool syn = flags & XM_TCP_SYN;
	uint32_t wnd = xm_tcp_rcv_window(c);
	const struct xm_sock *sock;

	xm_put16(hdr, c->lport);
	xm_put16(hdr + 2, c->rport);
	xm_put32(hdr + 4, seq);
	xm_put32(hdr + 8, (flags & XM_TCP_ACK) ? c->rcv_nxt : 0);
	hdr[12] = (uint8_t)(((XM_TCP_HLEN + optlen) / 4) << 4);
	hdr[13] = flags;
	/* RFC 7323 2.2: the window of a SYN is never scaled. */
	xm_put16(hdr + 14, syn ? (wnd > 65535 ? 65535 : wnd) : wnd >> c->rcv_wscale);
	hdr[18] = hdr[19] = 0;
	sock = c->sock ? c->sock : c->listener ? c->listener->sock : NULL;
	if (sock) {   /* an orphan goes on with what its socket last set */
		c->tos = sock->tos & ~3u;   /* ECN bits are TCP's, as Linux */
		c->hop_limit = sock->hop_limit;
	}
	return wnd;
}

/* len data bytes at seq left in segments of seg bytes (the last one
 * short; one segment without data): the counters, and RACK's and PRR's
 * records, one per segment. */
static void seg_count(struct xm_tcp_conn *c, uint32_t seq, uint32_t len,
		      uint32_t seg, bool syn)
{
	uint32_t n = len ? (len + seg - 1) / seg : 1;

	c->st->tcp->stats.segs_out += n;
	c->info.segs_out += n;
	if (!len)
		return;
	c->info.data_segs_out += n;
	c->info.bytes_sent += len;
	c->info.last_data_sent = xm_tcp_now_us(c);
	for (uint32_t o = 0; !syn && o < len; o += seg)
		xm_tcp_recovery_sent(c, seq + o, len - o < seg ? len - o : seg);
}

/* What an ACK sent with window wnd told the peer. */
static void ack_sent(struct xm_tcp_conn *c, uint8_t flags, uint32_t wnd)
{
	bool syn = flags & XM_TCP_SYN;
	uint32_t adv;

	if (!(flags & XM_TCP_ACK))
		return;
	adv = syn ? (wnd > 65535 ? 65535 : wnd) : (wnd >> c->rcv_wscale) << c->rcv_wscale;
	c->last_ack_sent = c->rcv_nxt;
	if (seq_gt(c->rcv_nxt + adv, c->rcv_adv))
		c->rcv_adv = c->rcv_nxt + adv;
	c->dack_segs = 0;
	c->ack_now = false;
	xm_timer_cancel(&c->st->timers, &c->t_dack);
}

/* Build and send one segment of c. Data comes from the send ring at
 * seq - snd_una. Returns 0 or -errno. */
static int send_segment(struct xm_tcp_conn *c, uint32_t seq, uint32_t len,
			uint8_t flags)
{
	struct xm_tcp_stack *ts = c->st->tcp;
	uint8_t hdr[XM_TCP_HLEN + XM_TCP_OPTS_MAX];
	const uint8_t *payload = NULL;
	bool syn = flags & XM_TCP_SYN;
	uint32_t optlen, wnd;
	int r;

	optlen = seg_opts(c, flags, hdr);
	if (len) {
		uint32_t off = seq - c->snd_una;

		/* The MSS bounds data plus options (RFC 9293 3.7.1); a
		 * trimmed segment no longer ends the stream, nor what the
		 * application wrote: no FIN, no PSH. */
		if (len + optlen > c->mss && !syn) {
			len = c->mss > optlen ? c->mss - optlen : 1;
			flags &= (uint8_t)~(XM_TCP_FIN | XM_TCP_PSH);
		}
		if (c->sndbuf.head + off < c->sndbuf.cap &&
		    c->sndbuf.head + off + len <= c->sndbuf.cap) {
			payload = c->sndbuf.buf + c->sndbuf.head + off;
		} else {
			xm_tcp_ring_read(&c->sndbuf, off, ts->scratch, len);
			payload = ts->scratch;
		}
	}
	wnd = seg_hdr(c, hdr, seq, flags, optlen);
	r = emit(c->st, c->family, c->laddr, c->raddr, c, hdr, XM_TCP_HLEN + optlen,
		 payload, len);
	if (r < 0)
		return r;
	seg_count(c, seq, len, len, syn);
	ack_sent(c, flags, wnd);
	return (int)len;
}

/* Whether new data may go as a super-segment now: the link offloads
 * segmentation, and nothing asks for segments the device would not cut
 * the same way (every segment carries a copy of one header). */
static bool tso_ok(const struct xm_tcp_conn *c, bool rexmit)
{
	return c->st->tso && !rexmit && !c->tlp_force &&
	       !c->rto_recovery &&
	       /* SACK blocks would be repeated in every segment. */
	       !(c->sack_ok && (c->nooo || c->dsack_pending));
}

static uint32_t data_end(const struct xm_tcp_conn *c)
{
	return c->snd_una + c->sndbuf.len;
}

/* Whether a FIN goes with (or as) the segment ending at end. */
static bool fin_here(const struct xm_tcp_conn *c, uint32_t end)
{
	return c->fin_queued && end == data_end(c);
}

/* Send up to room bytes of new data at snd_nxt as one super-segment of
 * full segments (the link's device cuts it: link.h), as Linux's TSO: the
 * last one may be short where it ends the data and Nagle would not hold
 * it. RACK and PRR see each segment, sent at the same time, as Linux
 * splits a TSO skb on a partial ACK. Returns the bytes sent, with PSH/FIN
 * added to *flags as the last segment carries them, or -errno (nothing
 * sent: -EOPNOTSUPP when less than two segments would go). */
static int send_super(struct xm_tcp_conn *c, uint32_t room, uint8_t *flags)
{
	struct xm_tcp_stack *ts = c->st->tcp;
	uint8_t hdr[XM_TCP_HLEN + XM_TCP_OPTS_MAX], f = *flags;
	uint32_t seq = c->snd_nxt, end = data_end(c), optlen, seg, max, n, total;
	uint32_t iph = c->family == AF_INET6 ? XM_IPV6_HLEN : XM_IPV4_HLEN;
	uint32_t off = seq - c->snd_una, at, wnd, len[2];
	const uint8_t *data[2];
	struct xm_ipinfo ip;
	int r;

	optlen = seg_opts(c, f, hdr);
	if (c->mss <= optlen)
		return -EOPNOTSUPP;
	seg = c->mss - optlen;
	/* IP's 16-bit length, and the device's bound on a whole frame. */
	max = c->st->info.gso_max_size - XM_ETH_HLEN - iph - XM_TCP_HLEN - optlen;
	if (max > XM_IP_MAXPACKET - iph - XM_TCP_HLEN - optlen)
		max = XM_IP_MAXPACKET - iph - XM_TCP_HLEN - optlen;
	if (max > c->st->info.gso_max_segs * seg)
		max = c->st->info.gso_max_segs * seg;
	n = (room < max ? room : max) / seg;
	total = n * seg;
	if (room == end - seq && room > total && room <= max &&
	    (c->nodelay || fin_here(c, end))) {
		total = room;
		n++;
	}
	if (n < 2)
		return -EOPNOTSUPP;
	if (seq + total == end)
		f |= XM_TCP_PSH;   /* as send_segment's caller: ends a write */
	if (fin_here(c, seq + total))
		f |= XM_TCP_FIN;
	at = (c->sndbuf.head + off) % c->sndbuf.cap;
	data[0] = c->sndbuf.buf + at;
	len[0] = c->sndbuf.cap - at < total ? c->sndbuf.cap - at : total;
	data[1] = c->sndbuf.buf;
	len[1] = total - len[0];
	wnd = seg_hdr(c, hdr, seq, f, optlen);
	ip = ipinfo(c->family, c->laddr, c->raddr, c);
	r = xm_ip_output_gso(c->st, &ip, hdr, XM_TCP_HLEN + optlen, data, len,
			     (uint16_t)seg);
	if (r < 0)
		return r;
	ts->stats.tso_sends++;
	ts->stats.tso_segs += n;
	seg_count(c, seq, total, seg, false);
	ack_sent(c, f, wnd);
	*flags = f;
	return (int)total;
}

void xm_tcp_send_syn(struct xm_tcp_conn *c)
{
	uint8_t flags = XM_TCP_SYN;

	if (c->state == XM_TCP_SYN_RECEIVED)
		flags |= XM_TCP_ACK;
	send_segment(c, c->iss, 0, flags);
	if (seq_lt(c->snd_nxt, c->iss + 1))
		c->snd_nxt = c->iss + 1;
	if (seq_lt(c->snd_max, c->snd_nxt))
		c->snd_max = c->snd_nxt;
	xm_tx_flush(c->st);
}

void xm_tcp_send_ack(struct xm_tcp_conn *c)
{
	send_segment(c, c->snd_nxt, 0, XM_TCP_ACK);
	xm_tx_flush(c->st);
}

void xm_tcp_send_rst_conn(struct xm_tcp_conn *c)
{
	struct xm_tcp_stack *ts = c->st->tcp;

	send_segment(c, c->snd_nxt, 0, XM_TCP_RST | XM_TCP_ACK);
	ts->stats.rst_out++;
	xm_tx_flush(c->st);
}

/* Zero-window probe (RFC 9293 3.8.6.1) and keepalive (RFC 1122 4.2.3.6):
 * a segment with SEG.SEQ = SND.UNA - 1 and no data, which the peer must
 * answer with an ACK carrying its current window. Linux sends the same. */
void xm_tcp_send_probe(struct xm_tcp_conn *c)
{
	send_segment(c, c->snd_una - 1, 0, XM_TCP_ACK);
	xm_tx_flush(c->st);
}

int xm_tcp_retransmit(struct xm_tcp_conn *c, uint32_t seq, uint32_t maxlen)
{
	struct xm_tcp_stack *ts = c->st->tcp;
	uint32_t avail, len;
	uint8_t flags = XM_TCP_ACK;
	int r;

	if (c->state == XM_TCP_SYN_SENT || c->state == XM_TCP_SYN_RECEIVED) {
		xm_tcp_send_syn(c);
		return 0;
	}
	if (seq_lt(seq, c->snd_una))
		seq = c->snd_una;
	avail = seq_lt(seq, data_end(c)) ? data_end(c) - seq : 0;
	len = avail < maxlen ? avail : maxlen;
	if (len > c->mss)
		len = c->mss;
	if (!len && !(c->fin_sent && seq == data_end(c)))
		return 0;
	if (c->fin_sent && fin_here(c, seq + len))
		flags |= XM_TCP_FIN;
	if (len)
		flags |= XM_TCP_PSH;
	r = send_segment(c, seq, len, flags);
	if (r < 0)
		return r;
	ts->stats.retrans_segs++;
	c->info.total_retrans++;
	c->info.bytes_retrans += (uint32_t)r;
	/* Karn: no RTT sample from a retransmitted range. */
	if (c->rtt_timing && seq_le(seq, c->rtt_seq))
		c->rtt_timing = false;
	return r;
}

/* RFC 6675 5 (C): while pipe < cwnd, send by NextSeg(). */
static void sack_recovery_send(struct xm_tcp_conn *c)
{
	for (int guard = 0; guard < 1024; guard++) {
		uint32_t pipe = xm_sack_pipe(&c->sb, c->mss), seq, len;
		uint32_t unsent = data_end(c) - c->snd_nxt;
		enum xm_sack_next nx;

		if (pipe + c->mss > c->cc.cwnd)
			return;
		nx = xm_sack_next_seg(&c->sb, c->mss, unsent, true, &seq, &len);
		if (nx == XM_SACK_NEXT_LOST || nx == XM_SACK_NEXT_RESCUE) {
			int r = xm_tcp_retransmit(c, seq, len);

			/* RFC 6675 5 (C.3): HighRxt ends where the segment
			 * sent ends. Options trim a segment to less than
			 * the MSS NextSeg() offered: the rest of the hole
			 * is still to send, not retransmitted. No frame to
			 * send it in: the next ACK (or the RTO) tries again. */
			if (r <= 0)
				return;
			xm_sack_mark_rxt(&c->sb, seq, (uint32_t)r);
			continue;
		}
		return;   /* NEW data or nothing: the normal path below */
	}
}

bool xm_tcp_sends_data(const struct xm_tcp_conn *c)
{
	switch (c->state) {
	case XM_TCP_ESTABLISHED:
	case XM_TCP_CLOSE_WAIT:
	case XM_TCP_FIN_WAIT_1:
	case XM_TCP_CLOSING:
	case XM_TCP_LAST_ACK:
		return true;
	default:
		return false;
	}
}

/* Send new data (and the FIN) as the windows allow. */
void xm_tcp_output(struct xm_tcp_conn *c)
{
	struct xm_tcp_stack *ts;
	bool sent = false, probe = c->tlp_force, tso_refused;

	if (!xm_tcp_sends_data(c)) {
		/* The handshake, FIN-WAIT-2 and TIME-WAIT send only ACKs. */
		if (c->ack_now && c->state != XM_TCP_CLOSED && c->state != XM_TCP_LISTEN)
			xm_tcp_send_ack(c);
		return;
	}
	ts = c->st->tcp;
	/* A super-segment the link refused (its buffer full, say) is not
	 * tried again in this call: frames, without a failing syscall
	 * before each. */
	tso_refused = false;
	if (xm_tcp_rack_on(c)) {
		if (c->in_recovery || c->rto_recovery)
			xm_tcp_recovery_send(c);
	} else if (c->in_recovery && c->sack_ok) {
		sack_recovery_send(c);
	}
	for (;;) {
		uint32_t end = data_end(c), unsent, wnd_end, win, cwnd_room, len, room;
		uint32_t inflight = xm_tcp_inflight(c), pipe, dup;
		uint8_t flags = XM_TCP_ACK;
		bool rexmit = seq_lt(c->snd_nxt, c->snd_max), limited;
		int r;

		if (c->fin_sent && c->snd_nxt == c->snd_max)
			break;   /* everything including the FIN is out */
		if (seq_gt(c->snd_nxt, end))
			break;
		unsent = end - c->snd_nxt;
		/* Limited Transmit (RFC 5681 3.2 (1), RFC 3042; with SACK
		 * RFC 6675 5 (3)): the first duplicate ACKs let new data
		 * out, what the peer SACKed (else one MSS per duplicate ACK,
		 * two at most) leaving the pipe, so that a loss in a small
		 * window still brings DupThresh duplicate ACKs, not the RTO. */
		limited = !c->in_recovery && !c->rto_recovery && c->dupacks;
		dup = c->in_recovery || c->dupacks < 2 ? c->dupacks : 2;
		if (xm_tcp_rack_on(c))
			pipe = xm_rack_pipe(&c->rack);
		else if ((c->in_recovery || limited) && c->sack_ok)
			pipe = xm_sack_pipe(&c->sb, c->mss);
		else if (c->in_recovery || limited)
			pipe = inflight > dup * c->mss ? inflight - dup * c->mss : 0;
		else
			pipe = inflight;
		/* After an RTO (go-back-N): skip what the peer SACKed. */
		if (rexmit && c->sack_ok && unsent &&
		    xm_sack_is_sacked(&c->sb, c->snd_nxt, 1)) {
			uint32_t step = unsent < c->mss ? unsent : c->mss;

			while (step > 1 && !xm_sack_is_sacked(&c->sb, c->snd_nxt, step))
				step /= 2;
			c->snd_nxt += step;
			continue;
		}
		wnd_end = c->snd_una + c->snd_wnd;
		win = seq_gt(wnd_end, c->snd_nxt) ? wnd_end - c->snd_nxt : 0;
		cwnd_room = c->cc.cwnd > pipe ? c->cc.cwnd - pipe : 0;
		/* RFC 8985 7.3: a tail loss probe goes out whatever cwnd says. */
		if (c->tlp_force && cwnd_room < c->mss)
			cwnd_room = c->mss;
		room = unsent;
		if (room > win)
			room = win;
		if (room > cwnd_room)
			room = cwnd_room;
		len = room < c->mss ? room : c->mss;
		if (!win && unsent && !inflight) {
			/* Zero window with data waiting and nothing in flight:
			 * the persist timer probes (RFC 9293 3.8.6.1). */
			xm_tcp_persist_arm(c);
			break;
		}
		if (len < unsent && len < c->mss && !c->sws_override) {
			/* Sender SWS avoidance (RFC 9293 3.8.6.2.1): a partial
			 * segment only when it is at least half the largest
			 * window the peer offered; with nothing in flight the
			 * persist timer is the override timeout (RFC 1122
			 * 4.2.3.4), so a small window never deadlocks. */
			if (len == 0 || len < c->max_snd_wnd / 2) {
				if (!inflight && win)
					xm_tcp_persist_arm(c);
				break;
			}
		}
		if (len == unsent && len < c->mss && len && !c->nodelay &&
		    inflight && !rexmit && !fin_here(c, c->snd_nxt + len))
			break;   /* Nagle (RFC 9293 3.7.4) */
		if (len == unsent && fin_here(c, c->snd_nxt + len) &&
		    (len || cwnd_room || !inflight))
			flags |= XM_TCP_FIN;
		if (!len && !(flags & XM_TCP_FIN))
			break;
		/* PSH only where the segment empties what the application
		 * wrote, as Linux marks the end of a write: a receiver's GRO
		 * ends its aggregate at a PSH, so PSH on every segment would
		 * cost a Linux receiver a wakeup and an ACK per segment or
		 * two instead of per 64 KB. */
		if (len && c->snd_nxt + len == end)
			flags |= XM_TCP_PSH;
		/* More than a segment's worth: one super-segment, or (no
		 * offload, or it refused) a segment as before. */
		r = -EOPNOTSUPP;
		if (room > c->mss && !tso_refused && tso_ok(c, rexmit)) {
			r = send_super(c, room, &flags);
			tso_refused = r < 0 && r != -EOPNOTSUPP;
		}
		if (r < 0)
			r = send_segment(c, c->snd_nxt, len, flags);
		if (r == -ENOBUFS || r == -EAGAIN) {
			/* No transmit buffer (the link's frames are all out,
			 * e.g. held by a receiver on a veth until it reads):
			 * with nothing in flight no ACK will come to send
			 * again, so the persist timer retries, as Linux arms
			 * its probe timer when a send fails with nothing out
			 * (tcp_check_probe_timer); frames still out come
			 * back with no ACK, so look again when they may. */
			if (!inflight)
				xm_tcp_persist_arm(c);
			if (xm_tx_in_flight(c->st))
				xm_tcp_txwait_arm(c);
		}
		if (r < 0)
			break;
		len = (uint32_t)r;
		if (rexmit) {
			ts->stats.retrans_segs++;
			c->info.total_retrans++;
			c->info.bytes_retrans += len;
		}
		if (!c->rtt_timing && !rexmit && len && !c->ts_ok) {
			c->rtt_timing = true;
			c->rtt_seq = c->snd_nxt;
			c->rtt_time = xm_tcp_now_us(c);
		}
		c->snd_nxt += len;
		if ((flags & XM_TCP_FIN) && c->snd_nxt == data_end(c)) {
			c->snd_nxt++;
			c->fin_sent = true;
		}
		if (seq_gt(c->snd_nxt, c->snd_max))
			c->snd_max = c->snd_nxt;
		c->sb.nxt = c->snd_max;
		sent = true;
		if (!xm_timer_armed(&c->t_rtx) || c->persist)
			xm_tcp_rtx_arm(c);
		if (c->tlp_force) {
			c->tlp_force = false;
			break;
		}
	}
	c->frto_new = false;
	if (sent)
		c->txwait_backoff = 0;
	/* RFC 8985 7.2: the PTO starts again after data that was not
	 * itself the probe (as Linux tcp_write_xmit), so that it counts
	 * from the newest segment sent, whose ACK cannot be back yet. */
	if (sent && !probe)
		xm_tcp_tlp_schedule(c);
	if (!sent && c->ack_now)
		send_segment(c, c->snd_nxt, 0, XM_TCP_ACK);
	xm_tx_flush(c->st);
}

void xm_tcp_send_reset(struct xm_stack *st, const struct xm_ipinfo *ip,
		       uint16_t sport, uint16_t dport, uint32_t seq,
		       uint32_t ack, uint8_t flags)
{
	uint8_t hdr[XM_TCP_HLEN] = { 0 };
	struct xm_tcp_stack *ts = st->tcp;

	/* ip is the received datagram: answer from its destination. */
	xm_put16(hdr, dport);
	xm_put16(hdr + 2, sport);
	xm_put32(hdr + 4, seq);
	xm_put32(hdr + 8, ack);
	hdr[12] = (XM_TCP_HLEN / 4) << 4;
	hdr[13] = flags;
	if (emit(st, ip->family, ip->dst, ip->src, NULL, hdr, XM_TCP_HLEN, NULL, 0) == 0 && ts)
		ts->stats.rst_out++;
	xm_tx_flush(st);
}
