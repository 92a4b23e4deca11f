// SPDX-License-Identifier: MIT
/*
 * The TCP socket: struct xm_proto xm_proto_tcp. bind/listen/accept/connect
 * (blocking, and non-blocking with EINPROGRESS), send/recv (MSG_PEEK,
 * MSG_DONTWAIT), poll, shutdown, close with SO_LINGER, and the TCP socket
 * options, with the errno Linux gives for each misuse.
 */
#define _GNU_SOURCE   /* POLLRDHUP */
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <string.h>
#include <sys/socket.h>

#include "../core/stack.h"
#include "../socket/sock.h"
#include "../transport/ports.h"
#include "tcb.h"
#include "tcp.h"

#define SOCK_MIN_SNDBUF_FREE 2048u

static struct xm_tcp_conn *conn_get(struct xm_sock *s)
{
	struct xm_tcp_conn *c = s->pcb.tcp.conn;

	if (c)
		return c;
	c = xm_tcp_conn_new(s->st, s->domain);
	if (!c)
		return NULL;
	c->sock = s;
	s->pcb.tcp.conn = c;
	return c;
}

/* Drive the stack once: wait until something may happen or deadline. */
static int drive(struct xm_stack *st, uint64_t deadline)
{
	int r = xm_stack_wait(st, deadline);

	if (r < 0)
		return r;
	r = xm_stack_poll(st);
	return r < 0 ? r : 0;
}

static uint64_t deadline_after(struct xm_stack *st, uint64_t ns)
{
	return ns ? xm_now(st) + ns : UINT64_MAX;
}

static bool is_any(const uint8_t *a, int family)
{
	static const uint8_t zero[16];

	return !memcmp(a, zero, xm_addr_len(family));
}

static int take_error(struct xm_sock *s)
{
	int e = s->so_error;

	s->so_error = 0;
	return -e;
}

static void sync_bufs(struct xm_sock *s, struct xm_tcp_conn *c)
{
	c->rcvbuf_max = s->rcvbuf;
	c->sndbuf_max = s->sndbuf;
}

/*
 * Whether binding s to `local` clashes with what already holds its port, as
 * Linux decides: only sockets whose local addresses overlap (same address,
 * a wildcard of the family, or an IPv6 wildcard without IPV6_V6ONLY for
 * IPv4) clash, SO_REUSEADDR lets a socket share a port with anything but
 * a listener, and SO_REUSEPORT on both lets them share it, listeners too.
 * `refs` counts every connection on the port, so references
 * beyond the sockets found belong to orphans (FIN-WAIT, TIME-WAIT) whose
 * addresses are not kept with a socket: those clash unless SO_REUSEADDR.
 */
static bool port_conflicts(struct xm_sock *s, const struct xm_ep *local,
			   uint32_t refs)
{
	struct xm_ep saved = s->local;
	uint32_t socks = 0;
	bool clash = false;

	if (!refs)
		return false;
	s->local = *local;
	for (const struct xm_sock *o = s->st->socks; o; o = o->st_next) {
		const struct xm_tcp_conn *oc;

		if (o == s || o->proto != s->proto || !o->bound ||
		    o->local.port != local->port)
			continue;
		oc = o->pcb.tcp.conn;
		socks++;
		if (!xm_socks_overlap(s, o) || (s->reuseport && o->reuseport))
			continue;
		if (!s->reuseaddr || !o->reuseaddr ||
		    (oc && oc->state == XM_TCP_LISTEN))
			clash = true;
	}
	s->local = saved;
	return clash || (refs > socks && !s->reuseaddr);
}

static int tcp_bind(struct xm_sock *s, const struct xm_ep *local)
{
	struct xm_tcp_conn *c = conn_get(s);
	struct xm_tcp_stack *ts;
	uint16_t port = local->port;
	int r;

	if (!c)
		return -ENOMEM;
	ts = s->st->tcp;
	if (c->state != XM_TCP_CLOSED || c->port_ref)
		return -EINVAL;
	if (!is_any(local->addr, local->family) &&
	    !xm_ip_is_local(s->st, local->family, local->addr))
		return -EADDRNOTAVAIL;
	c->family = local->family;
	memcpy(c->laddr, local->addr, 16);
	if (!port) {
		r = xm_tcp_port_pick(c, NULL, 0, &port);
		if (r < 0)
			return r;
	} else if (port_conflicts(s, local, ts->port_refs[port])) {
		return -EADDRINUSE;
	}
	r = xm_tcp_port_get(c, port);
	if (r < 0)
		return r;
	s->local = *local;
	s->local.port = port;
	s->bound = true;
	return 0;
}

static int tcp_listen(struct xm_sock *s, int backlog)
{
	struct xm_tcp_conn *c = conn_get(s);
	int r;

	if (!c)
		return -ENOMEM;
	if (c->state == XM_TCP_LISTEN) {
		c->backlog = backlog;   /* Linux: listen() again resizes */
		return 0;
	}
	if (c->state != XM_TCP_CLOSED || s->connected)
		return -EINVAL;
	if (!s->bound) {
		struct xm_ep any = { .family = s->domain };

		r = tcp_bind(s, &any);
		if (r < 0)
			return r;
	}
	/* Linux clamps to somaxconn (4096) and lets 0 mean 1. */
	if (backlog <= 0)
		backlog = 1;
	if (backlog > 4096)
		backlog = 4096;
	sync_bufs(s, c);
	c->backlog = backlog;
	c->state = XM_TCP_LISTEN;
	return xm_tcp_conn_hash(c);
}

static int tcp_accept(struct xm_sock *s, struct xm_sock **child)
{
	struct xm_tcp_conn *l = s->pcb.tcp.conn, *c;
	struct xm_sock *cs;
	int r;

	if (!l || l->state != XM_TCP_LISTEN)
		return -EINVAL;
	if (!l->acc_head)
		return -EAGAIN;   /* the socket layer waits (or not) */
	c = l->acc_head;
	r = xm_sock_new(s->st, s->proto, s->domain, &cs);
	if (r < 0)
		return r;
	xm_tcp_listen_unlink(c);
	c->sock = cs;
	cs->pcb.tcp.conn = c;
	cs->rcvbuf = s->rcvbuf;
	cs->sndbuf = s->sndbuf;
	/* the IP-level options a Linux child inherits (sk_clone) */
	cs->tos = s->tos;
	cs->hop_limit = s->hop_limit;
	cs->priority = s->priority;
	cs->rx_cmsgs = s->rx_cmsgs;
	cs->pmtudisc = s->pmtudisc;
	cs->recverr = s->recverr;
	cs->bound = true;
	cs->connected = true;
	cs->local.family = c->family;
	memcpy(cs->local.addr, c->laddr, 16);
	cs->local.port = c->lport;
	cs->peer.family = c->family;
	memcpy(cs->peer.addr, c->raddr, 16);
	cs->peer.port = c->rport;
	if (c->error)
		cs->so_error = -c->error;
	*child = cs;
	return 0;
}

/* Wait for a connection attempt to finish: 0, or the error. */
static int connect_wait(struct xm_sock *s, struct xm_tcp_conn *c)
{
	uint64_t deadline = deadline_after(s->st, s->sndtimeo_ns);
	int r;

	while (c->state == XM_TCP_SYN_SENT || c->state == XM_TCP_SYN_RECEIVED) {
		if (xm_now(s->st) >= deadline)
			return -EINPROGRESS;   /* as Linux on SO_SNDTIMEO expiry */
		r = drive(s->st, deadline);
		if (r < 0)
			return r;
	}
	if (c->state == XM_TCP_CLOSED) {
		r = take_error(s);
		return r ? r : -ECONNREFUSED;
	}
	return 0;
}

static int tcp_connect(struct xm_sock *s, const struct xm_ep *peer)
{
	struct xm_tcp_conn *c = conn_get(s);
	struct xm_tcp_stack *ts;
	uint8_t src[16] = { 0 };
	uint16_t port;
	int r;

	if (!c)
		return -ENOMEM;
	ts = s->st->tcp;
	switch (c->state) {
	case XM_TCP_LISTEN:
		return -EINVAL;
	case XM_TCP_SYN_SENT:
	case XM_TCP_SYN_RECEIVED:
		if (s->nonblock)
			return -EALREADY;
		r = connect_wait(s, c);
		s->pcb.tcp.connecting = false;
		return r;
	case XM_TCP_CLOSED:
		if (s->pcb.tcp.connecting) {
			/* A non-blocking attempt that failed: its error, once
			 * (Linux __inet_stream_connect). */
			s->pcb.tcp.connecting = false;
			s->connected = false;
			r = take_error(s);
			return r ? r : -ECONNREFUSED;
		}
		if (s->connected)
			return -EISCONN;   /* was connected, then reset/closed */
		break;
	default:
		if (s->pcb.tcp.connecting) {
			s->pcb.tcp.connecting = false;
			return 0;   /* Linux: 0 once after EINPROGRESS completes */
		}
		return -EISCONN;
	}
	if (!peer->family)
		return -EAFNOSUPPORT;   /* AF_UNSPEC on an unconnected TCP socket */
	if (!peer->port)
		return -ECONNREFUSED;
	r = xm_ip_route(s->st, peer->family, peer->addr, NULL, src);
	if (r < 0)
		return r;
	if (s->bound && !is_any(c->laddr, c->family)) {
		if (c->family != peer->family)
			return -ENETUNREACH;
		memcpy(src, c->laddr, 16);
	}
	c->family = peer->family;
	memcpy(c->laddr, src, 16);
	memcpy(c->raddr, peer->addr, 16);
	c->rport = peer->port;
	if (!s->bound) {
		r = xm_tcp_port_pick(c, peer->addr, peer->port, &port);
		if (r < 0)
			return r;
		r = xm_tcp_port_get(c, port);
		if (r < 0)
			return r;
		s->bound = true;
	} else if (xm_tcp_lookup(ts, c->family, c->laddr, c->lport, c->raddr,
				 c->rport)) {
		return -EADDRNOTAVAIL;
	}
	sync_bufs(s, c);
	r = xm_tcp_buffers_alloc(c, false);
	if (r < 0)
		return r;
	s->local.family = c->family;
	memcpy(s->local.addr, c->laddr, 16);
	s->local.port = c->lport;
	s->peer = *peer;
	c->adv_mss = xm_tcp_rcv_mss(s->st, c->family);
	c->mss = xm_tcp_mss_for_mtu(s->st, c->family);
	c->ws_ok = c->ts_ok = c->sack_ok = true;   /* offered in the SYN */
	c->rcv_wscale = 0;
	while (c->rcv_wscale < XM_TCP_WS_MAX &&
	       ((uint32_t)65535 << c->rcv_wscale) < c->rcvbuf_max)
		c->rcv_wscale++;
	c->ts_offset = xm_stack_rand(s->st);
	c->iss = xm_tcp_isn_for(c);
	c->snd_una = c->snd_nxt = c->snd_max = c->iss;
	c->fin_queued = c->fin_sent = c->fin_rcvd = false;
	c->state = XM_TCP_SYN_SENT;
	c->rtx_count = 0;
	c->error = 0;
	s->so_error = 0;
	r = xm_tcp_conn_hash(c);
	if (r < 0)
		return r;
	ts->stats.active_opens++;
	c->rtt_time = xm_tcp_now_us(c);
	xm_tcp_send_syn(c);
	xm_tcp_rtx_arm(c);
	s->connected = true;   /* the peer is known (getpeername) */
	if (s->nonblock) {
		s->pcb.tcp.connecting = true;
		return -EINPROGRESS;
	}
	r = connect_wait(s, c);
	if (r < 0 && c->state == XM_TCP_CLOSED)
		s->connected = false;
	return r;
}

/* Send what the connection may: its segments share one clock read. */
static void output(struct xm_tcp_conn *c)
{
	xm_now_hold(c->st);
	xm_tcp_output(c);
	xm_now_release(c->st);
}

static bool can_send_state(enum xm_tcp_state st)
{
	return st == XM_TCP_ESTABLISHED || st == XM_TCP_CLOSE_WAIT;
}

/* What a send puts into the send ring: the caller's bytes, or (buf
 * NULL) those of file fd from off on. */
struct send_src {
	const uint8_t *buf;
	int fd;
	off_t off;
};

/* Append up to n bytes of src, done bytes in, to the send ring: how many,
 * 0 at the file's end, or -errno. */
static ssize_t src_append(struct xm_tcp_conn *c, const struct send_src *src,
			  size_t done, uint32_t n)
{
	ssize_t r = n;

	if (src->buf)
		xm_tcp_ring_write(&c->sndbuf, c->sndbuf.len, src->buf + done, n);
	else
		r = xm_tcp_ring_pread(&c->sndbuf, c->sndbuf.len, src->fd,
				      src->off + (off_t)done, n);
	if (r > 0)
		c->sndbuf.len += (uint32_t)r;
	return r;
}

static ssize_t tcp_send(struct xm_sock *s, const struct send_src *src,
			size_t len, int flags)
{
	struct xm_tcp_conn *c = s->pcb.tcp.conn;
	bool block = !(s->nonblock || (flags & MSG_DONTWAIT));
	uint64_t deadline = deadline_after(s->st, s->sndtimeo_ns);
	size_t done = 0;
	ssize_t r;

	if (flags & MSG_FASTOPEN)
		return -EOPNOTSUPP;   /* no TCP Fast Open: as Linux with it off */
	if (s->so_error && (!c || c->state == XM_TCP_CLOSED))
		return take_error(s);
	if (!c || c->state == XM_TCP_CLOSED || c->state == XM_TCP_LISTEN)
		return s->connected ? -EPIPE : -ENOTCONN;
	if (c->state == XM_TCP_SYN_SENT || c->state == XM_TCP_SYN_RECEIVED)
		return -EAGAIN;   /* the socket layer waits for the handshake */
	if ((s->shut & XM_SHUT_WR) || !can_send_state(c->state))
		return -EPIPE;   /* never SIGPIPE: there are no signals here */
	for (;;) {
		uint32_t room = c->sndbuf.cap - c->sndbuf.len;
		uint32_t n = len - done > room ? room : (uint32_t)(len - done);

		if (n) {
			r = src_append(c, src, done, n);
			if (r <= 0)   /* the file ended or failed */
				return done ? (ssize_t)done : r;
			done += (size_t)r;
			output(c);
		}
		if (done == len)
			break;
		if (!block || xm_now(s->st) >= deadline)
			break;
		r = drive(s->st, deadline);
		if (r < 0)
			return done ? (ssize_t)done : r;
		if (c->state == XM_TCP_CLOSED || !can_send_state(c->state)) {
			if (done)
				break;
			r = take_error(s);
			return r ? r : -EPIPE;
		}
	}
	return done ? (ssize_t)done : -EAGAIN;
}

static ssize_t tcp_sendto(struct xm_sock *s, const void *buf, size_t len,
			  int flags, const struct xm_ep *to,
			  const struct xm_pktmeta *meta)
{
	struct send_src src = { .buf = buf, .fd = -1 };

	(void)to;   /* Linux ignores the address of a connected TCP socket */
	(void)meta;
	return tcp_send(s, &src, len, flags);
}

static ssize_t tcp_sendfile(struct xm_sock *s, int fd, off_t off, size_t len,
			    int flags)
{
	struct send_src src = { .fd = fd, .off = off };

	return tcp_send(s, &src, len, flags);
}

/* Receive-buffer auto-tuning within SO_RCVBUF (as Linux
 * tcp_rcv_space_adjust): once per RTT, if the application read more than
 * the last measure, size the ring for twice that. */
static void rcv_autotune(struct xm_tcp_conn *c, uint32_t copied)
{
	uint64_t now = xm_tcp_now_us(c);
	uint32_t rtt = c->rto.has_sample ? c->rto.srtt_us : 1000;
	uint64_t target;

	c->rcv_space_seq += copied;
	if (!c->rcv_space_time) {
		c->rcv_space_time = now;
		return;
	}
	if (now - c->rcv_space_time < (rtt ? rtt : 1))
		return;
	if (c->rcv_space_seq > c->rcv_space) {
		c->rcv_space = c->rcv_space_seq;
		target = (uint64_t)c->rcv_space * 4;
		if (target > c->rcvbuf_max)
			target = c->rcvbuf_max;
		if (target > c->rcvbuf.cap)
			xm_tcp_ring_grow(c->st->tcp, &c->rcvbuf, (uint32_t)target);
	}
	c->rcv_space_seq = 0;
	c->rcv_space_time = now;
}

static ssize_t tcp_recvfrom(struct xm_sock *s, void *buf, size_t len,
			    int flags, struct xm_ep *from, struct xm_pktmeta *meta)
{
	struct xm_tcp_conn *c = s->pcb.tcp.conn;
	uint32_t n;

	if (from)
		*from = s->peer;
	if (!c || c->state == XM_TCP_LISTEN)
		return -ENOTCONN;
	if (meta)   /* SO_TIMESTAMP: when the last data came, as Linux's */
		meta->rx_ns = c->info.last_data_recv * 1000;
	if (c->rcvbuf.len && len) {
		n = len > c->rcvbuf.len ? c->rcvbuf.len : (uint32_t)len;
		/* MSG_TRUNC: the bytes are dropped, not copied, as Linux */
		if (!buf && !(flags & MSG_TRUNC))
			return -EFAULT;
		if (!(flags & MSG_TRUNC))
			xm_tcp_ring_read(&c->rcvbuf, 0, buf, n);
		if (flags & MSG_PEEK)
			return n;
		xm_tcp_ring_consume(&c->rcvbuf, n);
		rcv_autotune(c, n);
		/* RFC 9293 3.8.6.2.2 / RFC 1122 4.2.3.3: announce a window
		 * that opened by at least min(MSS, half the buffer)
		 * (xm_tcp_rcv_window applies that step). Only when what
		 * the peer may still send has fallen to half the buffer and
		 * the window would at least double, as Linux
		 * (__tcp_cleanup_rbuf): while the peer has window left, the
		 * ACKs its data earns carry the update, and a window update
		 * after every read would double the ACKs of a bulk flow. */
		if (c->state != XM_TCP_CLOSED && c->state != XM_TCP_SYN_SENT) {
			uint32_t after = xm_tcp_rcv_window(c);
			uint32_t left = seq_gt(c->rcv_adv, c->rcv_nxt) ? c->rcv_adv - c->rcv_nxt : 0;

			if (after > left && 2u * (uint64_t)left <= c->rcvbuf.cap &&
			    after >= 2u * left)
				xm_tcp_send_ack(c);
		}
		return n;
	}
	if (s->so_error)
		return take_error(s);
	if (!len)
		return 0;
	if (c->fin_rcvd || (s->shut & XM_SHUT_RD))
		return 0;
	if (c->state == XM_TCP_CLOSED)
		return s->connected ? 0 : -ENOTCONN;
	return -EAGAIN;
}

/* As Linux tcp_poll(): HUP when closed or shut both ways, IN|RDHUP once
 * the peer's FIN (or a reset) ended the receive side, OUT when there is
 * room or writing can only fail now (so the writer sees the error). */
static short tcp_poll(struct xm_sock *s)
{
	struct xm_tcp_conn *c = s->pcb.tcp.conn;
	bool closed, rd_done;
	short ev = 0;

	if (!c)
		return POLLOUT | POLLHUP;   /* a fresh socket */
	if (c->state == XM_TCP_LISTEN)
		return c->acc_head ? POLLIN : 0;
	if (c->state == XM_TCP_SYN_SENT || c->state == XM_TCP_SYN_RECEIVED)
		return 0;
	closed = c->state == XM_TCP_CLOSED;
	rd_done = c->fin_rcvd || (s->shut & XM_SHUT_RD) || (closed && s->connected);
	if (s->so_error)
		ev |= POLLERR;
	if (closed || (rd_done && (s->shut & XM_SHUT_WR)))
		ev |= POLLHUP;
	if (c->rcvbuf.len || rd_done)
		ev |= POLLIN;
	if (rd_done)
		ev |= POLLRDHUP;
	if (closed || (s->shut & XM_SHUT_WR) || !can_send_state(c->state) ||
	    c->sndbuf.cap - c->sndbuf.len >= SOCK_MIN_SNDBUF_FREE)
		ev |= POLLOUT;
	return ev;
}

/* Our side is done sending: queue the FIN (RFC 9293 3.10.4). */
static void queue_fin(struct xm_tcp_conn *c)
{
	switch (c->state) {
	case XM_TCP_SYN_RECEIVED:
	case XM_TCP_ESTABLISHED:
		c->state = XM_TCP_FIN_WAIT_1;
		break;
	case XM_TCP_CLOSE_WAIT:
		c->state = XM_TCP_LAST_ACK;
		break;
	default:
		return;
	}
	c->fin_queued = true;
	output(c);
}

static int tcp_shutdown(struct xm_sock *s, int how)
{
	struct xm_tcp_conn *c = s->pcb.tcp.conn;

	if (!c || c->state == XM_TCP_CLOSED || c->state == XM_TCP_SYN_SENT ||
	    c->state == XM_TCP_LISTEN)
		return -ENOTCONN;
	s->shut |= (uint8_t)(how + 1);   /* SHUT_RD 0, SHUT_WR 1, SHUT_RDWR 2 */
	if (how != SHUT_RD)
		queue_fin(c);
	return 0;
}

/* The connection outlives the socket on its own (orphaned), so the socket
 * is always freed at once (never XM_SOCK_KEEP). */
static int tcp_close(struct xm_sock *s)
{
	struct xm_tcp_conn *c = s->pcb.tcp.conn;
	struct xm_tcp_pcb *p = &s->pcb.tcp;

	if (!c)
		return 0;
	switch (c->state) {
	case XM_TCP_CLOSED:
	case XM_TCP_LISTEN:
	case XM_TCP_SYN_SENT:
		c->sock = NULL;
		c->orphan = true;
		p->conn = NULL;
		xm_tcp_set_closed(c, 0);
		return 0;
	default:
		break;
	}
	if (c->rcvbuf.len || (p->linger && !p->linger_s)) {
		/* RFC 2525 2.17 / Linux: unread data, or SO_LINGER with a zero
		 * timeout: abort with RST instead of a FIN. */
		xm_tcp_send_rst_conn(c);
		c->sock = NULL;
		c->orphan = true;
		p->conn = NULL;
		xm_tcp_set_closed(c, 0);
		return 0;
	}
	queue_fin(c);
	if (p->linger) {
		/* SO_LINGER: wait until everything is acknowledged, or the
		 * linger time; as Linux, also for a non-blocking socket. */
		uint64_t deadline = xm_now(s->st) + (uint64_t)p->linger_s * 1000000000ULL;

		while (c->state == XM_TCP_FIN_WAIT_1 || c->state == XM_TCP_CLOSING ||
		       c->state == XM_TCP_LAST_ACK) {
			if (xm_now(s->st) >= deadline || drive(s->st, deadline) < 0)
				break;
		}
	}
	c->sock = NULL;
	c->orphan = true;
	p->conn = NULL;
	if (c->state == XM_TCP_FIN_WAIT_2)
		xm_tcp_finwait2_arm(c);
	else if (c->state == XM_TCP_CLOSED)
		xm_tcp_set_closed(c, 0);
	return 0;
}

static int int_arg(const void *val, socklen_t len, int *v)
{
	if (len < (socklen_t)sizeof(int))
		return -EINVAL;
	memcpy(v, val, sizeof(*v));
	return 0;
}

/* TCP_DEFER_ACCEPT as Linux keeps it: in SYN-ACK retransmissions (from
 * 1 s, doubling, at most 120 s apart), so that a value reads back as the
 * seconds those retransmissions take (5 -> 7). */
static uint32_t defer_accept_round(int secs)
{
	uint32_t period = 0, timeout = 1;

	if (secs <= 0)
		return 0;
	for (uint32_t n = 0; n < 255; n++) {
		period += timeout;
		if ((uint32_t)secs <= period)
			break;
		timeout = timeout * 2 > 120 ? 120 : timeout * 2;
	}
	return period;
}

static int tcp_setsockopt(struct xm_sock *s, int level, int name,
			  const void *val, socklen_t len)
{
	struct xm_tcp_conn *c = conn_get(s);
	int v = 0, r;

	if (!c)
		return -ENOMEM;
	if (level == SOL_SOCKET) {
		switch (name) {
		case SO_LINGER: {
			struct linger lg;

			if (len < (socklen_t)sizeof(lg))
				return -EINVAL;
			memcpy(&lg, val, sizeof(lg));
			s->pcb.tcp.linger = lg.l_onoff != 0;
			s->pcb.tcp.linger_s = lg.l_linger < 0 ? 0 : (uint32_t)lg.l_linger;
			return 0;
		}
		case SO_KEEPALIVE:
			if ((r = int_arg(val, len, &v)) < 0)
				return r;
			c->keepalive = v != 0;
			if (c->state == XM_TCP_ESTABLISHED || c->state == XM_TCP_CLOSE_WAIT)
				xm_tcp_keep_arm(c);
			return 0;
		}
		return -ENOPROTOOPT;   /* generic option: the socket layer's */
	}
	if (level != IPPROTO_TCP)
		return -ENOPROTOOPT;
	if (name == TCP_CONGESTION) {
		char nm[XM_CC_NAME_MAX] = { 0 };
		const struct xm_cc_ops *ops;

		memcpy(nm, val, len < sizeof(nm) - 1 ? len : sizeof(nm) - 1);
		ops = xm_cc_find(nm);
		if (!ops)
			return -ENOENT;   /* as Linux for an unknown algorithm */
		c->cc.ops = ops;
		if (c->state >= XM_TCP_ESTABLISHED) {
			uint32_t cwnd = c->cc.cwnd, ssthresh = c->cc.ssthresh;

			ops->init(&c->cc, c->mss, xm_tcp_now_us(c));
			c->cc.cwnd = cwnd;
			c->cc.ssthresh = ssthresh;
		}
		return 0;
	}
	if ((r = int_arg(val, len, &v)) < 0)
		return r;
	switch (name) {
	case TCP_NODELAY:
		c->nodelay = v != 0;
		if (c->nodelay)
			output(c);   /* Linux pushes pending data */
		return 0;
	case TCP_KEEPIDLE:
	case TCP_KEEPINTVL:
		if (v < 1 || v > 32767)
			return -EINVAL;
		if (name == TCP_KEEPIDLE)
			c->keep_idle_s = (uint32_t)v;
		else
			c->keep_intvl_s = (uint32_t)v;
		if (c->keepalive && c->state == XM_TCP_ESTABLISHED)
			xm_tcp_keep_arm(c);
		return 0;
	case TCP_KEEPCNT:
		if (v < 1 || v > 127)
			return -EINVAL;
		c->keep_cnt = (uint32_t)v;
		return 0;
	case TCP_MAXSEG:
		return 0;   /* accepted; the MSS comes from the path (MTU) */
	case TCP_QUICKACK:
		/* As Linux: on, every segment is acknowledged at once and an
		 * ACK being delayed goes now; off, ACKs are delayed again. */
		c->quickack = v != 0;
		if (c->quickack && xm_timer_armed(&c->t_dack))
			xm_tcp_send_ack(c);
		return 0;
	case TCP_DEFER_ACCEPT:
		/* Kept and reported; accept() gets a connection when its
		 * handshake completes, without waiting for its first data
		 * (the program then waits in its read). */
		s->pcb.tcp.defer_accept_s = defer_accept_round(v);
		return 0;
	}
	return -ENOPROTOOPT;
}

static int put_int(void *val, socklen_t *len, int v)
{
	socklen_t n = *len < (socklen_t)sizeof(v) ? *len : (socklen_t)sizeof(v);

	memcpy(val, &v, n);
	*len = n;
	return 0;
}

static int tcp_getsockopt(struct xm_sock *s, int level, int name, void *val,
			  socklen_t *len)
{
	struct xm_tcp_conn *c = conn_get(s);

	if (!c)
		return -ENOMEM;
	if (level == SOL_SOCKET) {
		switch (name) {
		case SO_LINGER: {
			struct linger lg = { .l_onoff = s->pcb.tcp.linger,
					     .l_linger = (int)s->pcb.tcp.linger_s };
			socklen_t n = *len < (socklen_t)sizeof(lg) ? *len : (socklen_t)sizeof(lg);

			memcpy(val, &lg, n);
			*len = n;
			return 0;
		}
		case SO_KEEPALIVE:
			return put_int(val, len, c->keepalive);
		case SO_ACCEPTCONN:
			return put_int(val, len, c->state == XM_TCP_LISTEN);
		}
		return -ENOPROTOOPT;
	}
	if (level != IPPROTO_TCP)
		return -ENOPROTOOPT;
	switch (name) {
	case TCP_NODELAY:
		return put_int(val, len, c->nodelay);
	case TCP_KEEPIDLE:
		return put_int(val, len, (int)c->keep_idle_s);
	case TCP_KEEPINTVL:
		return put_int(val, len, (int)c->keep_intvl_s);
	case TCP_KEEPCNT:
		return put_int(val, len, (int)c->keep_cnt);
	case TCP_MAXSEG:
		return put_int(val, len, c->mss ? c->mss : XM_TCP_DEFAULT_MSS);
	case TCP_QUICKACK:
		return put_int(val, len, c->quickack);
	case TCP_DEFER_ACCEPT:
		return put_int(val, len, (int)s->pcb.tcp.defer_accept_s);
	case TCP_INFO:
		return xm_tcp_info_get(c, val, len);
	case TCP_CONGESTION: {
		socklen_t n = (socklen_t)strlen(c->cc.ops->name) + 1;

		if (n > *len)
			n = *len;
		memcpy(val, c->cc.ops->name, n);
		*len = n;
		return 0;
	}
	}
	return -ENOPROTOOPT;
}

static int tcp_ioctl(struct xm_sock *s, unsigned long req, int *out)
{
	struct xm_tcp_conn *c = conn_get(s);

	return c ? xm_tcp_queue_size(c, req, out) : -ENOMEM;
}

const struct xm_proto xm_proto_tcp = {
	.type = SOCK_STREAM,
	.ipproto = IPPROTO_TCP,
	.input = xm_tcp_input,
	.bind = tcp_bind,
	.connect = tcp_connect,
	.listen = tcp_listen,
	.accept = tcp_accept,
	.sendto = tcp_sendto,
	.sendfile = tcp_sendfile,
	.recvfrom = tcp_recvfrom,
	.poll = tcp_poll,
	.shutdown = tcp_shutdown,
	.close = tcp_close,
	.setsockopt = tcp_setsockopt,
	.getsockopt = tcp_getsockopt,
	.ioctl = tcp_ioctl,
};
