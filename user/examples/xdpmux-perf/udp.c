// SPDX-License-Identifier: MIT
/*
 * UDP side of xdpmux-perf (see main.c for the command line).
 *
 * The protocol between client and server: every datagram of it starts with
 * a 20-byte header, big-endian,
 *
 *   magic u32 "XMPF" | type u8 | 3 zero bytes | session u32 | seq u64
 *
 * and a run is one session, a random id the client picks:
 *   START  client -> server, opens the session; answered by START_ACK.
 *          Sent until answered (the first datagrams to a new peer may wait
 *          for neighbour resolution), so the measurement starts warm.
 *   DATA   the stream: counted (datagrams, payload bytes, first and last
 *          arrival), never answered.
 *   PING   the latency test: echoed as it came, and counted.
 *   DONE   the end, seq = datagrams the client sent; answered by RESULT:
 *          the header, then datagrams u64, bytes u64 and nanoseconds u64
 *          (first to last arrival) as the server counted them. UDP may lose
 *          either, so the client sends DONE again until RESULT comes (and
 *          the server answers every DONE, reporting the session once).
 * The server echoes anything else as it came, so a kernel client (socat,
 * nc) can use it as a UDP echo server. The other way round, the latency
 * client works against any UDP echo server (a kernel `socat
 * UDP-RECVFROM:PORT,fork EXEC:cat`): a START that comes back as it was
 * sent says the peer is a plain echo server, and the test runs without
 * START_ACK and DONE. The stream test needs an xdpmux-perf server: only it
 * can say what arrived.
 */
#define _GNU_SOURCE
#include <endian.h>
#include <errno.h>
#include <inttypes.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <time.h>

#include "../common/example.h"
#include "perf.h"

#define MAGIC 0x584d5046u         /* "XMPF" */
#define HDR_LEN 20
#define RESULT_LEN (HDR_LEN + 24)
#define SESSIONS 64               /* sessions the server remembers */
#define ASK_TRIES 10
#define ASK_WAIT_MS 300
#define PING_TIMEOUT_MS 1000      /* a round trip longer than this is lost */
#define ONCE_GRACE_S 0.5          /* --once: answer repeated DONEs this long */
#define SERVER_RCVBUF (8 << 20)   /* absorbs bursts of an unpaced stream */

enum msg_type { MSG_START = 1, MSG_START_ACK, MSG_DATA, MSG_PING, MSG_DONE, MSG_RESULT };

struct hdr {
	uint8_t type;
	uint32_t session;
	uint64_t seq;
};

static void put_be32(uint8_t *p, uint32_t v)
{
	v = htobe32(v);
	memcpy(p, &v, 4);
}

static void put_be64(uint8_t *p, uint64_t v)
{
	v = htobe64(v);
	memcpy(p, &v, 8);
}

static uint32_t get_be32(const uint8_t *p)
{
	uint32_t v;

	memcpy(&v, p, 4);
	return be32toh(v);
}

static uint64_t get_be64(const uint8_t *p)
{
	uint64_t v;

	memcpy(&v, p, 8);
	return be64toh(v);
}

static void hdr_put(uint8_t *p, uint8_t type, uint32_t session, uint64_t seq)
{
	put_be32(p, MAGIC);
	p[4] = type;
	p[5] = p[6] = p[7] = 0;
	put_be32(p + 8, session);
	put_be64(p + 12, seq);
}

/* true when p is a datagram of the protocol (its header filled in h). */
static bool hdr_get(const uint8_t *p, size_t len, struct hdr *h)
{
	if (len < HDR_LEN || get_be32(p) != MAGIC || p[4] < MSG_START || p[4] > MSG_RESULT)
		return false;
	h->type = p[4];
	h->session = get_be32(p + 8);
	h->seq = get_be64(p + 12);
	return true;
}

static double rate(double n, double secs)
{
	return secs > 0 ? n / secs : 0;
}

/* ---- server ---- */

struct session {
	bool used, reported, pinged;
	uint32_t id;
	uint64_t packets, bytes;
	double t_first, t_last, t_open;
};

struct server {
	const struct opts *o;
	int fd;
	struct session s[SESSIONS];
	uint64_t rx, rx_bytes, echoed, tx_errors, sessions;
	bool done_once;
	double exit_at;
};

/* The session with this id; a new one (the oldest forgotten when the
 * table is full) when there is none. */
static struct session *session_get(struct server *sv, uint32_t id)
{
	struct session *free_s = NULL, *oldest = &sv->s[0];

	for (int i = 0; i < SESSIONS; i++) {
		struct session *s = &sv->s[i];

		if (s->used && s->id == id)
			return s;
		if (!s->used && !free_s)
			free_s = s;
		if (s->used && s->t_open < oldest->t_open)
			oldest = s;
	}
	if (!free_s)
		free_s = oldest;
	*free_s = (struct session){ .used = true, .id = id, .t_open = perf_now_s() };
	sv->sessions++;
	return free_s;
}

static void session_count(struct session *s, size_t len)
{
	s->t_last = perf_now_s();
	if (!s->packets)
		s->t_first = s->t_last;
	s->packets++;
	s->bytes += len;
}

static void server_report(const struct server *sv, const struct session *s,
			  const char *result)
{
	double secs = s->packets > 1 ? s->t_last - s->t_first : 0;
	double gbit = rate((double)s->bytes * 8 / 1e9, secs);
	const char *test = s->pinged ? "latency" : "stream";

	if (sv->o->json)
		printf("{\"mode\":\"server\",\"proto\":\"udp\",\"test\":\"%s\","
		       "\"packets_received\":%" PRIu64 ",\"bytes_received\":%" PRIu64 ","
		       "\"seconds\":%.6f,\"pps\":%.1f,\"mbit_per_s\":%.3f,"
		       "\"gbit_per_s\":%.6f,\"result\":\"%s\"}\n",
		       test, s->packets, s->bytes, secs, rate((double)s->packets, secs),
		       gbit * 1e3, gbit, result);
	else
		printf("server: udp %s: received %" PRIu64 " datagrams (%" PRIu64 " bytes) "
		       "in %.3f s (%.0f pps, %.3f Gbit/s): %s\n", test, s->packets,
		       s->bytes, secs, rate((double)s->packets, secs), gbit, result);
	fflush(stdout);
}

static void server_reply(struct server *sv, const void *buf, size_t len,
			 const struct sockaddr_storage *to, socklen_t tolen)
{
	if (xm_sendto(sv->fd, buf, len, 0, (const struct sockaddr *)to, tolen) < 0)
		sv->tx_errors++;
}

/* One datagram from a client. */
static void server_handle(struct server *sv, uint8_t *buf, size_t len,
			  const struct sockaddr_storage *from, socklen_t flen)
{
	struct session *s;
	struct hdr h;

	sv->rx++;
	sv->rx_bytes += len;
	if (!hdr_get(buf, len, &h) || h.type == MSG_START_ACK || h.type == MSG_RESULT) {
		server_reply(sv, buf, len, from, flen);   /* a plain echo */
		sv->echoed++;
		return;
	}
	s = session_get(sv, h.session);
	switch (h.type) {
	case MSG_START: {
		uint8_t ack[HDR_LEN];

		hdr_put(ack, MSG_START_ACK, h.session, 0);
		server_reply(sv, ack, sizeof(ack), from, flen);
		break;
	}
	case MSG_PING:
		s->pinged = true;
		server_reply(sv, buf, len, from, flen);
		sv->echoed++;
		session_count(s, len);   /* a ping counts like data */
		break;
	case MSG_DATA:
		session_count(s, len);
		break;
	case MSG_DONE: {
		uint8_t res[RESULT_LEN];
		double secs = s->packets > 1 ? s->t_last - s->t_first : 0;

		hdr_put(res, MSG_RESULT, h.session, h.seq);
		put_be64(res + HDR_LEN, s->packets);
		put_be64(res + HDR_LEN + 8, s->bytes);
		put_be64(res + HDR_LEN + 16, (uint64_t)(secs * 1e9 + 0.5));
		server_reply(sv, res, sizeof(res), from, flen);
		if (!s->reported) {
			s->reported = true;
			server_report(sv, s, "ok");
		}
		if (sv->o->once && !sv->done_once) {
			sv->done_once = true;
			sv->exit_at = perf_now_s() + ONCE_GRACE_S;
		}
		break;
	}
	}
}

int udp_server(const struct opts *o, struct xm_stack *st)
{
	static struct server sv;
	static uint8_t buf[65536];
	int rcvbuf = SERVER_RCVBUF, rc = 0;

	(void)st;
	sv.o = o;
	sv.fd = ex_udp_bind(o->port);
	if (sv.fd < 0) {
		perf_fail_errno("bind", errno);
		return 1;
	}
	if (xm_setsockopt(sv.fd, SOL_SOCKET, SO_RCVBUF, &rcvbuf, sizeof(rcvbuf)) < 0) {
		perf_fail_errno("SO_RCVBUF", errno);
		xm_close(sv.fd);
		return 1;
	}
	printf("xdpmux-perf: listening on udp/%u\n", o->port);
	fflush(stdout);
	while (!ex_stop && !(sv.done_once && perf_now_s() >= sv.exit_at)) {
		struct pollfd pf = { .fd = sv.fd, .events = POLLIN };

		ex_report_if_asked();
		if (xm_poll(&pf, 1, sv.done_once ? 10 : 100) < 0 && errno != EINTR) {
			perf_fail_errno("poll", errno);
			rc = 1;
			break;
		}
		for (int i = 0; i < 1024; i++) {
			struct sockaddr_storage from;
			socklen_t flen = sizeof(from);
			ssize_t n = xm_recvfrom(sv.fd, buf, sizeof(buf), 0,
						(struct sockaddr *)&from, &flen);

			if (n < 0) {
				if (errno != EAGAIN) {
					perf_fail_errno("recv", errno);
					rc = 1;
				}
				break;
			}
			server_handle(&sv, buf, (size_t)n, &from, flen);
		}
		if (rc)
			break;
	}
	/* Sessions whose DONE never came: what they sent still counts. */
	for (int i = 0; i < SESSIONS; i++)
		if (sv.s[i].used && !sv.s[i].reported)
			server_report(&sv, &sv.s[i], "incomplete");
	if (o->json)
		printf("{\"mode\":\"server\",\"proto\":\"udp\",\"test\":\"total\","
		       "\"packets_received\":%" PRIu64 ",\"bytes_received\":%" PRIu64 ","
		       "\"echoed\":%" PRIu64 ",\"tx_errors\":%" PRIu64 ",\"sessions\":%" PRIu64
		       ",\"result\":\"%s\"}\n", sv.rx, sv.rx_bytes, sv.echoed, sv.tx_errors,
		       sv.sessions, rc ? "error" : "ok");
	else
		printf("server: udp total: received %" PRIu64 " datagrams (%" PRIu64
		       " bytes), echoed %" PRIu64 ", tx errors %" PRIu64 ", sessions %" PRIu64
		       ": %s\n", sv.rx, sv.rx_bytes, sv.echoed, sv.tx_errors, sv.sessions,
		       rc ? "error" : "ok");
	fflush(stdout);
	xm_close(sv.fd);
	return rc;
}

/* ---- client ---- */

enum answer { ANSWER_NONE, ANSWER_REPLY, ANSWER_ECHO };

/* Send msg until the peer answers with a WANT datagram of this session
 * (copied to reply) or sends msg back as it was (a plain echo server);
 * -1 with errno on a socket error. */
static int ask(int fd, const uint8_t *msg, size_t len, uint8_t want, uint32_t session,
	       uint8_t *reply, size_t cap)
{
	for (int t = 0; t < ASK_TRIES && !ex_stop; t++) {
		double until = perf_now_s() + ASK_WAIT_MS / 1e3;

		if (xm_send(fd, msg, len, 0) < 0 && errno != ENOBUFS)
			return -1;
		while (!ex_stop && perf_now_s() < until) {
			struct pollfd pf = { .fd = fd, .events = POLLIN };
			struct hdr h;
			ssize_t n;

			if (xm_poll(&pf, 1, 10) < 0 && errno != EINTR)
				return -1;
			while ((n = xm_recv(fd, reply, cap, MSG_DONTWAIT)) >= 0) {
				if ((size_t)n == len && !memcmp(reply, msg, len))
					return ANSWER_ECHO;
				if (hdr_get(reply, (size_t)n, &h) && h.type == want &&
				    h.session == session)
					return ANSWER_REPLY;
			}
			if (errno != EAGAIN)
				return -1;
		}
	}
	return ANSWER_NONE;
}

struct client {
	const struct opts *o;
	struct xm_stack *st;
	int fd;
	uint32_t session;
	uint8_t buf[65536], in[65536];
};

/* Whether the run should go on after `done` datagrams or round trips. */
static bool client_more(const struct client *c, uint64_t done, double t0)
{
	return !ex_stop && (!c->o->count || done < c->o->count) &&
	       (!c->o->secs || perf_now_s() - t0 < c->o->secs);
}

/* Sleep until the pacing lets datagram `sent` go, at most 1 ms at a time
 * so that the stack is polled meanwhile. */
static void pace(const struct client *c, uint64_t sent, double t0)
{
	double ahead = (double)sent / (double)c->o->rate - (perf_now_s() - t0);
	struct timespec ts;

	if (ahead <= 0)
		return;
	if (ahead > 1e-3)
		ahead = 1e-3;
	ts.tv_sec = 0;
	ts.tv_nsec = (long)(ahead * 1e9);
	nanosleep(&ts, NULL);
}

static int client_stream(struct client *c)
{
	const struct opts *o = c->o;
	uint64_t sent = 0, got = 0, got_bytes = 0, lost;
	double t0, secs, srv_secs = 0, gbit, srv_gbit;
	const char *result = "ok";
	int a;

	memset(c->buf, 0, o->size);
	t0 = perf_now_s();
	while (client_more(c, sent, t0)) {
		ex_report_if_asked();
		if (o->rate && (double)sent >= (perf_now_s() - t0) * (double)o->rate) {
			xm_stack_poll(c->st);
			pace(c, sent, t0);
			continue;
		}
		hdr_put(c->buf, MSG_DATA, c->session, sent);
		if (xm_send(c->fd, c->buf, o->size, 0) < 0) {
			if (errno != ENOBUFS && errno != EAGAIN) {
				perf_fail_errno("send", errno);
				return 1;
			}
			/* The tx ring is full: let the link complete some. */
			xm_stack_poll(c->st);
			continue;
		}
		if (++sent % 64 == 0)
			xm_stack_poll(c->st);
	}
	secs = perf_now_s() - t0;
	hdr_put(c->buf, MSG_DONE, c->session, sent);
	a = ask(c->fd, c->buf, HDR_LEN, MSG_RESULT, c->session, c->in, sizeof(c->in));
	if (a < 0) {
		perf_fail_errno("done", errno);
		return 1;
	}
	if (a == ANSWER_REPLY) {
		got = get_be64(c->in + HDR_LEN);
		got_bytes = get_be64(c->in + HDR_LEN + 8);
		srv_secs = (double)get_be64(c->in + HDR_LEN + 16) / 1e9;
	} else {
		fprintf(stderr, "xdpmux-perf: no result from the server after %d tries\n",
			ASK_TRIES);
		result = "no_result";
	}
	lost = sent > got ? sent - got : 0;
	gbit = rate((double)sent * o->size * 8 / 1e9, secs);
	srv_gbit = rate((double)got_bytes * 8 / 1e9, srv_secs);
	if (o->json)
		printf("{\"mode\":\"client\",\"proto\":\"udp\",\"test\":\"stream\",\"size\":%u,"
		       "\"packets_sent\":%" PRIu64 ",\"bytes_sent\":%" PRIu64 ","
		       "\"packets_received\":%" PRIu64 ",\"bytes_received\":%" PRIu64 ","
		       "\"packets_lost\":%" PRIu64 ",\"loss_percent\":%.3f,\"seconds\":%.6f,"
		       "\"pps\":%.1f,\"mbit_per_s\":%.3f,\"gbit_per_s\":%.6f,"
		       "\"server_seconds\":%.6f,\"received_pps\":%.1f,"
		       "\"received_gbit_per_s\":%.6f,\"result\":\"%s\"}\n",
		       o->size, sent, sent * o->size, got, got_bytes, lost,
		       rate(100.0 * (double)lost, (double)sent), secs,
		       rate((double)sent, secs), gbit * 1e3, gbit, srv_secs,
		       rate((double)got, srv_secs), srv_gbit, result);
	else
		printf("client: udp stream: sent %" PRIu64 " datagrams of %u bytes in %.3f s "
		       "(%.0f pps, %.3f Gbit/s); the server received %" PRIu64 " (%" PRIu64
		       " bytes) in %.3f s (%.0f pps, %.3f Gbit/s), lost %" PRIu64
		       " (%.3f%%): %s\n", sent, o->size, secs, rate((double)sent, secs), gbit,
		       got, got_bytes, srv_secs, rate((double)got, srv_secs), srv_gbit, lost,
		       rate(100.0 * (double)lost, (double)sent), result);
	fflush(stdout);
	return a == ANSWER_REPLY ? 0 : 1;
}

static int cmp_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;

	return x < y ? -1 : x > y;
}

/* The p-th percentile (nearest rank) of n sorted samples, in µs. */
static double percentile_us(const uint64_t *ns, uint64_t n, unsigned p)
{
	uint64_t rank = (p * n + 99) / 100;

	if (!n)
		return 0;
	return (double)ns[rank ? rank - 1 : 0] / 1e3;
}

/* One ping: 1 when its echo came back (RTT in *rtt_ns), 0 when it was
 * lost, -1 with errno on a socket error. */
static int ping(struct client *c, uint64_t seq, uint64_t *rtt_ns)
{
	struct pollfd pf = { .fd = c->fd, .events = POLLIN };
	struct timespec t0, t1;
	struct hdr h;
	double until;
	ssize_t n;

	hdr_put(c->buf, MSG_PING, c->session, seq);
	clock_gettime(CLOCK_MONOTONIC, &t0);
	until = perf_now_s() + PING_TIMEOUT_MS / 1e3;
	while (xm_send(c->fd, c->buf, c->o->size, 0) < 0) {
		if (errno != ENOBUFS || ex_stop || perf_now_s() >= until)
			return errno == ENOBUFS ? 0 : -1;
		xm_stack_poll(c->st);
	}
	for (;;) {
		while ((n = xm_recv(c->fd, c->in, sizeof(c->in), MSG_DONTWAIT)) >= 0) {
			/* Late echoes of earlier (lost) pings do not count. */
			if ((size_t)n != c->o->size || !hdr_get(c->in, (size_t)n, &h) ||
			    h.type != MSG_PING || h.session != c->session || h.seq != seq)
				continue;
			clock_gettime(CLOCK_MONOTONIC, &t1);
			*rtt_ns = (uint64_t)(t1.tv_sec - t0.tv_sec) * 1000000000u +
				  (uint64_t)t1.tv_nsec - (uint64_t)t0.tv_nsec;
			return 1;
		}
		if (errno != EAGAIN)
			return -1;
		if (ex_stop || perf_now_s() >= until)
			return 0;
		if (xm_poll(&pf, 1, 1) < 0 && errno != EINTR)
			return -1;
	}
}

static int client_latency(struct client *c, bool xdpmux_peer)
{
	const struct opts *o = c->o;
	uint64_t *rtt = NULL, n = 0, cap = 0, sent = 0, lost = 0;
	const char *result = "ok";
	double t0, secs, p50, p99, max;
	int rc = 0;

	memset(c->buf, 0, o->size);
	t0 = perf_now_s();
	while (client_more(c, sent, t0)) {
		uint64_t ns;
		int r;

		ex_report_if_asked();

		if (n == cap) {
			uint64_t *p = realloc(rtt, (cap ? cap * 2 : 4096) * sizeof(*rtt));

			if (!p) {
				perf_fail_errno("round-trip samples", ENOMEM);
				rc = 1;
				break;
			}
			rtt = p;
			cap = cap ? cap * 2 : 4096;
		}
		r = ping(c, sent++, &ns);
		if (r < 0) {
			perf_fail_errno("ping", errno);
			rc = 1;
			break;
		}
		if (r)
			rtt[n++] = ns;
		else
			lost++;
	}
	secs = perf_now_s() - t0;
	if (!rc && xdpmux_peer) {
		/* Let the server report the session (and --once end). */
		hdr_put(c->buf, MSG_DONE, c->session, sent);
		if (ask(c->fd, c->buf, HDR_LEN, MSG_RESULT, c->session, c->in,
			sizeof(c->in)) != ANSWER_REPLY)
			fprintf(stderr, "xdpmux-perf: no result from the server after %d tries\n",
				ASK_TRIES);
	}
	if (rc || !n) {
		result = "error";
		rc = 1;
	}
	if (n)
		qsort(rtt, n, sizeof(*rtt), cmp_u64);
	p50 = percentile_us(rtt, n, 50);
	p99 = percentile_us(rtt, n, 99);
	max = n ? (double)rtt[n - 1] / 1e3 : 0;
	if (o->json)
		printf("{\"mode\":\"client\",\"proto\":\"udp\",\"test\":\"latency\",\"size\":%u,"
		       "\"peer\":\"%s\",\"requests\":%" PRIu64 ",\"lost\":%" PRIu64 ","
		       "\"seconds\":%.6f,\"requests_per_s\":%.1f,\"p50_us\":%.1f,"
		       "\"p99_us\":%.1f,\"max_us\":%.1f,\"result\":\"%s\"}\n",
		       o->size, xdpmux_peer ? "xdpmux-perf" : "echo", n, lost, secs,
		       rate((double)n, secs), p50, p99, max, result);
	else
		printf("client: udp latency: %" PRIu64 " round trips (lost %" PRIu64 ") of %u "
		       "bytes with %s in %.3f s (%.0f requests/s): p50 %.1f us, p99 %.1f us, "
		       "max %.1f us: %s\n", n, lost, o->size,
		       xdpmux_peer ? "xdpmux-perf" : "an echo server", secs,
		       rate((double)n, secs), p50, p99, max, result);
	fflush(stdout);
	free(rtt);
	return rc;
}

int udp_client(const struct opts *o, struct xm_stack *st)
{
	static struct client c;
	struct sockaddr_storage ss;
	socklen_t sl;
	int fam, a, rc;

	c.o = o;
	c.st = st;
	fam = perf_sockaddr(o->addr, o->port, &ss, &sl);
	if (fam < 0) {
		fprintf(stderr, "xdpmux-perf: bad address '%s'\n", o->addr);
		return 2;
	}
	if (getrandom(&c.session, sizeof(c.session), 0) != sizeof(c.session)) {
		perf_fail_errno("getrandom", errno);
		return 1;
	}
	c.fd = xm_socket(fam, SOCK_DGRAM | SOCK_NONBLOCK, 0);
	if (c.fd < 0 || xm_connect(c.fd, (struct sockaddr *)&ss, sl) < 0) {
		perf_fail_errno("connect", errno);
		if (c.fd >= 0)
			xm_close(c.fd);
		return 1;
	}
	hdr_put(c.buf, MSG_START, c.session, 0);
	a = ask(c.fd, c.buf, HDR_LEN, MSG_START_ACK, c.session, c.in, sizeof(c.in));
	if (a <= 0) {
		if (a < 0)
			perf_fail_errno("start", errno);
		else
			fprintf(stderr, "xdpmux-perf: no answer from %s port %u after %d tries "
				"(is a UDP server there?)\n", o->addr, o->port, ASK_TRIES);
		xm_close(c.fd);
		return 1;
	}
	if (a == ANSWER_ECHO && !o->latency) {
		fprintf(stderr, "xdpmux-perf: %s port %u is a plain echo server: the stream "
			"test needs an xdpmux-perf server (--latency works with any)\n",
			o->addr, o->port);
		xm_close(c.fd);
		return 1;
	}
	printf("xdpmux-perf: connected to %s port %u (udp, session %08x)\n", o->addr,
	       o->port, c.session);
	fflush(stdout);
	rc = o->latency ? client_latency(&c, a == ANSWER_REPLY) : client_stream(&c);
	xm_close(c.fd);
	return rc;
}
