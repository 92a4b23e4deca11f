// SPDX-License-Identifier: MIT
/*
 * Connections a listener opens from a SYN cookie (RFC 4987 3.6) once its
 * SYN queue is full, driven by a crafted client over the sim that sends
 * what a Linux client sends: the handshake completed by a bare ACK, by an
 * ACK carrying data, by one carrying data and FIN; with the data lost and
 * sent again; with and without RFC 7323 timestamps and window scaling. In
 * every case the application reads the data and the end of stream, and
 * its echo and FIN reach the client.
 *
 * Every segment the client gets is checked as a Linux client would check
 * it: the timestamp clock never goes back (else PAWS drops the segment,
 * RFC 7323 5.3) and the advertised right edge never moves left (RFC 9293
 * 3.8.6) by more than the window scale rounds off.
 */
#include <arpa/inet.h>
#include <criterion/criterion.h>
#include <errno.h>
#include <netinet/in.h>
#include <string.h>

#include "lib/frame.h"
#include "lib/sim_env.h"
#include "../../user/lib/tcp/seq.h"

#define MS 1000000ull
#define PORT 7000            /* the listener's, on host a */
#define PEER_PORT 40000      /* the client's, on the raw peer b */
#define FLOOD_PORT 39999     /* a SYN never answered: fills the SYN queue */

enum { FIN = 0x01, SYN = 0x02, RST = 0x04, PSH = 0x08, ACK = 0x10 };

/* What the client offers in its SYN (Linux: MSS 1460, SACK, timestamps,
 * window scale 7) and the window field of its later segments. */
struct client_cfg {
	bool ts, sack, ws;
	uint8_t wscale;
	uint16_t wnd;
};

static const struct client_cfg linux_client = {
	.ts = true, .sack = true, .ws = true, .wscale = 7, .wnd = 502,
};

/* A segment the listener's host sent to the client, parsed. */
struct rseg {
	uint8_t flags;
	uint32_t seq, ack;
	uint16_t wnd;
	bool mss_ok, ws_ok, sack_ok, ts_ok;
	uint16_t mss;
	uint8_t ws;
	uint32_t tsval, tsecr;
	uint32_t len;
	uint8_t data[1500];
};

struct client {
	struct sim_env e;
	struct client_cfg cfg;
	int l;                       /* the listener on a */
	uint32_t iss, snd_nxt;       /* the client's sequence space */
	uint32_t ts_base;            /* its timestamp clock: ts_base + ms */
	/* the server, as learned from its segments */
	struct rseg synack;
	bool synced;
	uint32_t rcv_nxt;
	uint32_t ts_recent;
	uint32_t right_edge;         /* rcv_nxt + window the server offered */
	uint32_t snd_una;            /* the server's highest ACK */
	uint8_t rcvd[8192];
	uint32_t rcvd_len;
	bool fin_rcvd, rst_rcvd;
	uint32_t rst_seq;
};

static uint32_t client_tsval(const struct client *c)
{
	return c->ts_base + (uint32_t)(xm_sim_now(c->e.sim) / MS);
}

/* Send one segment from the client's port sport. The ACK field is what
 * the client has received, its options those Linux puts there. */
static void send_from(struct client *c, uint16_t sport, uint8_t flags, uint32_t seq,
		      const void *data, uint32_t len)
{
	struct fb_spec s;
	uint8_t o[40], frame[2048];
	uint32_t n = 0;
	ssize_t flen;

	fb_init(&s, FB_L3_IPV4, IPPROTO_TCP);
	s.sport = sport;
	s.dport = PORT;
	s.tcp.seq = seq;
	s.tcp.ack = (flags & ACK) ? c->rcv_nxt : 0;
	s.tcp.flags = flags;
	s.tcp.window = (flags & SYN) ? 64240 : c->cfg.wnd;
	if (flags & SYN) {
		o[n++] = 2, o[n++] = 4, o[n++] = 0x05, o[n++] = 0xb4;   /* MSS 1460 */
		if (c->cfg.sack)
			o[n++] = 4, o[n++] = 2;
		else if (c->cfg.ts)
			o[n++] = 1, o[n++] = 1;
		if (c->cfg.ts) {
			o[n++] = 8, o[n++] = 10;
			fb_be32_put(o + n, client_tsval(c));
			fb_be32_put(o + n + 4, 0);
			n += 8;
		} else if (c->cfg.sack) {
			o[n++] = 1, o[n++] = 1;
		}
		if (c->cfg.ws)
			o[n++] = 1, o[n++] = 3, o[n++] = 3, o[n++] = c->cfg.wscale;
	} else if (c->cfg.ts) {
		o[n++] = 1, o[n++] = 1, o[n++] = 8, o[n++] = 10;
		fb_be32_put(o + n, client_tsval(c));
		fb_be32_put(o + n + 4, c->ts_recent);
		n += 8;
	}
	cr_assert_eq(n % 4, 0);
	s.tcp.opts = o;
	s.tcp.opt_len = (uint8_t)n;
	s.payload = data;
	s.payload_len = len;
	flen = fb_build(&s, frame, sizeof(frame), NULL);
	cr_assert_gt(flen, 0);
	env_inject(&c->e, frame, (uint32_t)flen);
}

static void client_send(struct client *c, uint8_t flags, uint32_t seq,
			const void *data, uint32_t len)
{
	send_from(c, PEER_PORT, flags, seq, data, len);
}

/* The client's next segment: at SND.NXT, which it then advances. */
static void client_next(struct client *c, uint8_t flags, const void *data, uint32_t len)
{
	client_send(c, flags, c->snd_nxt, data, len);
	c->snd_nxt += len + !!(flags & FIN);
}

static void parse_opts(const uint8_t *p, uint32_t n, struct rseg *r)
{
	for (uint32_t i = 0; i < n;) {
		uint8_t kind = p[i], olen;

		if (kind == 0)
			break;
		if (kind == 1) {
			i++;
			continue;
		}
		cr_assert_lt(i + 1, n, "option runs past the header");
		olen = p[i + 1];
		cr_assert(olen >= 2 && i + olen <= n, "bad option length %u", olen);
		if (kind == 2 && olen == 4) {
			r->mss_ok = true;
			r->mss = (uint16_t)(p[i + 2] << 8 | p[i + 3]);
		} else if (kind == 3 && olen == 3) {
			r->ws_ok = true;
			r->ws = p[i + 2];
		} else if (kind == 4 && olen == 2) {
			r->sack_ok = true;
		} else if (kind == 8 && olen == 10) {
			r->ts_ok = true;
			r->tsval = fb_be32_get(p + i + 2);
			r->tsecr = fb_be32_get(p + i + 6);
		}
		i += olen;
	}
}

/* Take what the server sent the client (segments to other ports, the
 * flood's, are dropped), as a Linux client takes it; returns how many
 * segments, copied to out (up to max). */
static int client_recv(struct client *c, struct rseg *out, int max)
{
	static uint8_t bufs[256][2048];
	static uint32_t lens[256];
	int n = env_collect(&c->e, bufs, lens, 256), k = 0;

	for (int i = 0; i < n; i++) {
		const uint8_t *f = bufs[i], *ip = f + 14, *th;
		struct rseg r = { 0 };
		uint32_t ihl, tot, doff;

		if (lens[i] < 14 + 20 || f[12] != 0x08 || f[13] != 0x00 || ip[9] != IPPROTO_TCP)
			continue;
		ihl = (ip[0] & 0xfu) * 4;
		tot = (uint32_t)(ip[2] << 8 | ip[3]);
		th = ip + ihl;
		if ((uint32_t)(th[2] << 8 | th[3]) != PEER_PORT)
			continue;
		doff = (uint32_t)(th[12] >> 4) * 4;
		r.seq = fb_be32_get(th + 4);
		r.ack = fb_be32_get(th + 8);
		r.flags = th[13] & 0x3f;
		r.wnd = (uint16_t)(th[14] << 8 | th[15]);
		parse_opts(th + 20, doff - 20, &r);
		r.len = tot - ihl - doff;
		cr_assert_leq(r.len, sizeof(r.data));
		memcpy(r.data, th + doff, r.len);

		if (r.flags & RST) {
			c->rst_rcvd = true;
			c->rst_seq = r.seq;
		} else if (r.flags & SYN) {
			cr_assert(r.flags & ACK, "a SYN without ACK from a listener");
			cr_assert_eq(r.ack, c->iss + 1, "SYN-ACK acks %u, not ISS+1", r.ack);
			if (!c->synced) {
				c->synack = r;
				c->synced = true;
				c->rcv_nxt = r.seq + 1;
				c->snd_una = r.ack;
				c->right_edge = r.ack + r.wnd;   /* RFC 7323 2.2: unscaled */
			}
			if (r.ts_ok && seq_lt(c->ts_recent, r.tsval))
				c->ts_recent = r.tsval;
		} else {
			uint8_t ws = c->synack.ws_ok && c->cfg.ws ? c->synack.ws : 0;
			uint32_t edge = r.ack + ((uint32_t)r.wnd << ws);

			cr_assert(c->synced, "a segment before the SYN-ACK");
			if (c->synack.ts_ok) {
				cr_assert(r.ts_ok, "timestamps negotiated, segment without");
				cr_assert(!seq_lt(r.tsval, c->ts_recent),
					  "TSval %u older than %u already seen: PAWS drops it",
					  r.tsval, c->ts_recent);
				c->ts_recent = r.tsval;
			}
			if (r.flags & ACK) {
				/* Less than one unit of the scale: the rounding
				 * down of RFC 7323 2.3. */
				cr_assert(!seq_lt(edge + (1u << ws) - 1, c->right_edge),
					  "the window's right edge moved left: %u < %u",
					  edge, c->right_edge);
				if (seq_lt(c->right_edge, edge))
					c->right_edge = edge;
				if (seq_lt(c->snd_una, r.ack))
					c->snd_una = r.ack;
			}
			if (r.len && r.seq == c->rcv_nxt) {
				cr_assert_leq(c->rcvd_len + r.len, sizeof(c->rcvd));
				memcpy(c->rcvd + c->rcvd_len, r.data, r.len);
				c->rcvd_len += r.len;
				c->rcv_nxt += r.len;
			}
			if ((r.flags & FIN) && r.seq + r.len == c->rcv_nxt) {
				c->fin_rcvd = true;
				c->rcv_nxt++;
			}
		}
		if (k < max)
			out[k++] = r;
	}
	return k;
}

static struct xm_stack_stats stats(const struct client *c)
{
	struct xm_stack_stats s;

	cr_assert_eq(xm_stack_stats(c->e.a, &s), 0);
	return s;
}

/* A listener with a backlog of 1 on a, its SYN queue filled by one SYN
 * from another port that is never answered (a flood's), and a client
 * whose SYN is then answered with a cookie. */
static void client_open(struct client *c, uint64_t seed, const struct client_cfg *cfg)
{
	struct sim_env_opts o = { .raw_peer = true };
	struct sockaddr_storage ss;
	socklen_t sl;
	struct rseg r[8];
	int n;

	memset(c, 0, sizeof(*c));
	env_open(&c->e, seed, &o);
	c->cfg = *cfg;
	/* Near the wrap, so that SEG.SEQ - 1 and the data wrap too. */
	c->iss = 0xfffffff8u;
	c->snd_nxt = c->iss;
	c->ts_base = 0x7ffffff0u;
	c->l = xm_socket_on(c->e.a, AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0);
	cr_assert_geq(c->l, 0);
	sl = env_addr(AF_INET, 'a', PORT, &ss);
	((struct sockaddr_in *)&ss)->sin_addr.s_addr = htonl(INADDR_ANY);
	cr_assert_eq(xm_bind(c->l, (struct sockaddr *)&ss, sl), 0);
	cr_assert_eq(xm_listen(c->l, 1), 0);

	send_from(c, FLOOD_PORT, SYN, 12345, NULL, 0);
	cr_assert_eq(stats(c).tcp_passive_opens, 1, "the flood's SYN is queued");

	client_send(c, SYN, c->iss, NULL, 0);
	c->snd_nxt = c->iss + 1;
	n = client_recv(c, r, 8);
	cr_assert(c->synced, "no SYN-ACK (%d segments)", n);
	cr_assert_eq(stats(c).tcp_syncookies_sent, 1, "the SYN queue is full: a cookie");
	cr_assert_eq(stats(c).tcp_conns, 2, "no state kept for the cookie's SYN");
	cr_assert(c->synack.mss_ok);
	/* Linux: without timestamps the cookie carries no other option. */
	cr_assert_eq(c->synack.ts_ok, cfg->ts);
	cr_assert_eq(c->synack.ws_ok, cfg->ts && cfg->ws);
	cr_assert_eq(c->synack.sack_ok, cfg->ts && cfg->sack);
	if (cfg->ts)
		cr_assert_eq(c->synack.tsecr, client_tsval(c), "the SYN's TSval echoed");
	xm_sim_advance(c->e.sim, 1 * MS);
}

/* The application on a: accept, read to the end of stream, echo what it
 * read, then shut down its side and close. */
struct app {
	int s;
	uint8_t buf[8192];
	uint32_t len;
	bool eof, done;
};

static void app_run(struct client *c, struct app *a)
{
	ssize_t n;

	if (a->done)
		return;
	if (a->s < 0) {
		a->s = xm_accept(c->l, NULL, NULL);
		if (a->s < 0) {
			cr_assert_eq(errno, EAGAIN, "accept: %s", strerror(errno));
			return;
		}
	}
	while (!a->eof) {
		n = xm_recv(a->s, a->buf + a->len, sizeof(a->buf) - a->len, MSG_DONTWAIT);
		if (n < 0) {
			cr_assert_eq(errno, EAGAIN, "recv: %s", strerror(errno));
			return;
		}
		if (n == 0)
			a->eof = true;
		a->len += (uint32_t)n;
	}
	cr_assert_eq(xm_send(a->s, a->buf, a->len, MSG_DONTWAIT), (ssize_t)a->len);
	cr_assert_eq(xm_shutdown(a->s, SHUT_WR), 0);
	cr_assert_eq(xm_close(a->s), 0);
	a->done = true;
	env_settle(&c->e);
}

/* Let the application and the server run, the client acknowledging what
 * it gets, until the echo and the server's FIN are in (or 10 s passed). */
static void run_to_echo(struct client *c, struct app *a)
{
	struct rseg r[64];

	for (int i = 0; i < 1000 && !(c->fin_rcvd && a->done); i++) {
		uint32_t before = c->rcv_nxt;

		app_run(c, a);
		client_recv(c, r, 64);
		if (c->rcv_nxt != before)
			client_send(c, ACK, c->snd_nxt, NULL, 0);
		else
			env_advance(&c->e, 10 * MS);
	}
}

/* What every case ends with: the application got the data and the end of
 * stream once, and the client the echo, the server's FIN, and an ACK of
 * everything it sent including its FIN. The server's side then closes. */
static void expect_echo(struct client *c, struct app *a, const char *data)
{
	uint32_t len = (uint32_t)strlen(data);

	run_to_echo(c, a);
	cr_assert_geq(a->s, 0, "the application never got the connection");
	cr_assert(a->eof, "the application never saw the end of stream (read %u bytes)",
		  a->len);
	cr_assert_eq(a->len, len, "the application read %u bytes, not %u", a->len, len);
	cr_assert_eq(memcmp(a->buf, data, len), 0);
	cr_assert_eq(c->rcvd_len, len, "the client got %u bytes of echo, not %u",
		     c->rcvd_len, len);
	cr_assert_eq(memcmp(c->rcvd, data, len), 0);
	cr_assert(c->fin_rcvd, "no FIN from the server");
	cr_assert_eq(c->snd_una, c->snd_nxt, "the server acked %u of %u",
		     c->snd_una - c->iss, c->snd_nxt - c->iss);
	cr_assert(!c->rst_rcvd);
	env_advance(&c->e, 1000 * MS);
	cr_assert_eq(stats(c).tcp_conns, 2, "the connection is gone (listener and the "
		     "flood's embryo left)");
	cr_assert_eq(stats(c).tcp_syncookies_ok, 1);
	cr_assert_eq(stats(c).tcp_syncookies_bad, 0);
}

static void client_close(struct client *c)
{
	cr_assert_eq(xm_close(c->l), 0);
	env_close(&c->e);
}

static const char msg[] = "client 1\n";
#define MSG_LEN ((uint32_t)sizeof(msg) - 1)

Test(tcp_syncookie, bare_ack_completes_then_data_and_fin_are_echoed)
{
	struct client c;
	struct app a = { .s = -1 };

	client_open(&c, 1, &linux_client);
	client_next(&c, ACK, NULL, 0);
	cr_assert_eq(stats(&c).tcp_syncookies_ok, 1);
	app_run(&c, &a);
	cr_assert_geq(a.s, 0, "established by the ACK: in the accept queue");
	client_next(&c, ACK | PSH, msg, MSG_LEN);
	client_next(&c, ACK | FIN, NULL, 0);
	expect_echo(&c, &a, msg);
	client_close(&c);
}

Test(tcp_syncookie, ack_carrying_data_completes_the_handshake)
{
	struct client c;
	struct app a = { .s = -1 };

	client_open(&c, 2, &linux_client);
	/* The bare ACK is lost: the data segment completes the handshake. */
	client_next(&c, ACK | PSH, msg, MSG_LEN);
	cr_assert_eq(stats(&c).tcp_syncookies_ok, 1);
	client_next(&c, ACK | FIN, NULL, 0);
	expect_echo(&c, &a, msg);
	client_close(&c);
}

Test(tcp_syncookie, ack_carrying_data_and_fin_completes_the_handshake)
{
	struct client c;
	struct app a = { .s = -1 };

	client_open(&c, 3, &linux_client);
	client_next(&c, ACK | PSH | FIN, msg, MSG_LEN);
	cr_assert_eq(stats(&c).tcp_syncookies_ok, 1);
	expect_echo(&c, &a, msg);
	client_close(&c);
}

Test(tcp_syncookie, data_lost_after_the_bare_ack_is_sent_again)
{
	struct client c;
	struct app a = { .s = -1 };
	struct rseg r[8];
	int n;

	client_open(&c, 4, &linux_client);
	client_next(&c, ACK, NULL, 0);
	/* The data segment is lost; the FIN after it arrives. */
	client_send(&c, ACK | FIN, c.snd_nxt + MSG_LEN, NULL, 0);
	n = client_recv(&c, r, 8);
	cr_assert_geq(n, 1, "the FIN out of order is answered at once (RFC 5681 4.2)");
	cr_assert_eq(r[n - 1].ack, c.snd_nxt, "a duplicate ACK naming the hole");
	app_run(&c, &a);
	cr_assert(!a.eof, "no end of stream before the data");
	/* The client's retransmission timeout: data sent again, later. */
	env_advance(&c.e, 300 * MS);
	client_next(&c, ACK | PSH, msg, MSG_LEN);
	c.snd_nxt++;   /* and the FIN sent before */
	expect_echo(&c, &a, msg);
	client_close(&c);
}

Test(tcp_syncookie, data_and_fin_lost_after_the_bare_ack_are_sent_again)
{
	struct client c;
	struct app a = { .s = -1 };

	client_open(&c, 5, &linux_client);
	client_next(&c, ACK, NULL, 0);
	app_run(&c, &a);
	cr_assert_geq(a.s, 0);
	/* Both lost; the client retransmits them together. */
	env_advance(&c.e, 300 * MS);
	client_next(&c, ACK | PSH | FIN, msg, MSG_LEN);
	expect_echo(&c, &a, msg);
	client_close(&c);
}

Test(tcp_syncookie, data_completing_the_handshake_sent_twice_is_delivered_once)
{
	struct client c;
	struct app a = { .s = -1 };

	client_open(&c, 6, &linux_client);
	client_send(&c, ACK | PSH, c.snd_nxt, msg, MSG_LEN);
	/* Its ACK was lost: the client sends the data again. */
	env_advance(&c.e, 300 * MS);
	client_next(&c, ACK | PSH, msg, MSG_LEN);
	cr_assert_eq(stats(&c).tcp_syncookies_ok, 1, "one connection, not two");
	client_next(&c, ACK | FIN, NULL, 0);
	expect_echo(&c, &a, msg);
	client_close(&c);
}

Test(tcp_syncookie, fin_before_the_lost_ack_and_data_is_reset_as_linux_does)
{
	struct client c;
	struct rseg r[8];
	uint32_t fin_seq;

	client_open(&c, 7, &linux_client);
	/* Bare ACK and data lost: the FIN's SEG.SEQ - 1 is not the ISN the
	 * cookie was made for, so nothing names the connection. */
	fin_seq = c.snd_nxt + MSG_LEN;
	client_send(&c, ACK | FIN, fin_seq, NULL, 0);
	client_recv(&c, r, 8);
	cr_assert(c.rst_rcvd, "the listener resets an ACK without a valid cookie");
	cr_assert_eq(c.rst_seq, c.rcv_nxt, "RST <SEQ=SEG.ACK> (RFC 9293 3.10.7.2)");
	cr_assert_eq(stats(&c).tcp_syncookies_bad, 1);
	cr_assert_eq(stats(&c).tcp_syncookies_ok, 0);
	cr_assert_eq(stats(&c).tcp_conns, 2, "no connection");
	client_close(&c);
}

Test(tcp_syncookie, without_timestamps_no_option_survives_and_data_is_echoed)
{
	struct client_cfg cfg = { .sack = true, .ws = true, .wscale = 7, .wnd = 64240 };
	struct client c;
	struct app a = { .s = -1 };

	client_open(&c, 8, &cfg);
	client_next(&c, ACK | PSH, msg, MSG_LEN);
	client_next(&c, ACK | FIN, NULL, 0);
	expect_echo(&c, &a, msg);
	client_close(&c);
}

Test(tcp_syncookie, the_clients_window_scale_survives_the_cookie)
{
	/* A window field of 4 is 512 bytes at scale 7 (4 bytes unscaled). */
	struct client_cfg cfg = linux_client;
	struct client c;
	struct app a = { .s = -1 };
	struct rseg r[64];
	char data[1400];
	int n;

	cfg.wnd = 4;
	for (size_t i = 0; i < sizeof(data); i++)
		data[i] = (char)('a' + i % 26);
	client_open(&c, 9, &cfg);
	client_next(&c, ACK | PSH, data, sizeof(data));
	client_next(&c, ACK | FIN, NULL, 0);
	app_run(&c, &a);
	cr_assert(a.done, "the application read the data and the end of stream");
	n = client_recv(&c, r, 64);
	{
		uint32_t sent = 0;

		for (int i = 0; i < n; i++)
			sent += r[i].len;
		cr_assert_eq(sent, 512, "the server sent %u bytes into a 512-byte window",
			     sent);
	}
	/* The client reads as it goes: its window stays 512 bytes. */
	for (int i = 0; i < 10 && !c.fin_rcvd; i++) {
		client_next(&c, ACK, NULL, 0);
		client_recv(&c, r, 64);
	}
	cr_assert_eq(c.rcvd_len, sizeof(data));
	cr_assert_eq(memcmp(c.rcvd, data, sizeof(data)), 0);
	cr_assert(c.fin_rcvd);
	client_close(&c);
}

Test(tcp_syncookie, the_window_offered_after_the_cookie_is_taken_whole)
{
	struct client c;
	struct app a = { .s = -1 };
	struct rseg r[64];
	static char chunk[1448];
	uint32_t sent = 0;

	memset(chunk, 'x', sizeof(chunk));
	client_open(&c, 10, &linux_client);
	client_next(&c, ACK, NULL, 0);
	cr_assert_geq(c.right_edge - c.snd_nxt, 65535, "the SYN-ACK's window");
	/* The application does not read: the client fills every window the
	 * server offers (scaled as its SYN-ACK said), and all of it is
	 * taken. */
	for (int i = 0; i < 1000; i++) {
		uint32_t room, len;

		client_recv(&c, r, 64);
		if (c.snd_nxt == c.right_edge) {
			env_advance(&c.e, 500 * MS);   /* a delayed ACK */
			client_recv(&c, r, 64);
			if (c.snd_nxt == c.right_edge)
				break;
		}
		room = c.right_edge - c.snd_nxt;
		len = room < sizeof(chunk) ? room : sizeof(chunk);
		client_next(&c, ACK, chunk, len);
		sent += len;
	}
	cr_assert_eq(c.snd_nxt, c.right_edge);
	cr_assert_geq(sent, 65535);
	cr_assert_eq(c.snd_una, c.snd_nxt, "%u of the %u bytes offered were taken",
		     c.snd_una - (c.iss + 1), sent);
	a.s = xm_accept(c.l, NULL, NULL);
	cr_assert_geq(a.s, 0);
	for (ssize_t n; (n = xm_recv(a.s, chunk, sizeof(chunk), MSG_DONTWAIT)) > 0;)
		a.len += (uint32_t)n;
	cr_assert_eq(a.len, sent, "the application read %u of %u bytes", a.len, sent);
	cr_assert_eq(xm_close(a.s), 0);
	client_close(&c);
}

Test(tcp_syncookie, a_late_last_ack_after_the_close_opens_nothing)
{
	struct client c;
	struct app a = { .s = -1 };
	struct rseg r[8];
	int s;

	client_open(&c, 11, &linux_client);
	client_next(&c, ACK | PSH | FIN, msg, MSG_LEN);
	expect_echo(&c, &a, msg);
	/* The client's last ACK once more, late (a duplicate, or one held
	 * up behind the one that closed the connection): both its sequence
	 * numbers are past the handshake's by the same 10 octets (9 of data
	 * and a FIN each way), which must not pass for a cookie. */
	client_next(&c, ACK, NULL, 0);
	client_recv(&c, r, 8);
	s = xm_accept(c.l, NULL, NULL);
	cr_assert_lt(s, 0, "a connection opened by the last ACK of a closed one");
	cr_assert_eq(errno, EAGAIN);
	cr_assert_eq(stats(&c).tcp_syncookies_ok, 1);
	cr_assert_eq(stats(&c).tcp_syncookies_bad, 1);
	cr_assert(c.rst_rcvd, "the listener resets it (RFC 9293 3.10.7.2)");
	client_close(&c);
}
