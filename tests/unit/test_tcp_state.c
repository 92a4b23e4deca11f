// SPDX-License-Identifier: MIT
/*
 * RFC 9293 state transitions over the simulated link: active and passive
 * open, simultaneous open and close, half-close both ways, RST sent and
 * received, TIME-WAIT expiry, connection refused, keepalive timeout,
 * challenge ACKs, socket errno as Linux gives it.
 */
#define _GNU_SOURCE   /* POLLRDHUP */
#include "tcp_pair.h"

#define MS 1000000ull
#define S  1000000000ull

struct state_wait {
	int fd;
	enum xm_tcp_state st;
};

static bool in_state(void *ctx)
{
	struct state_wait *w = ctx;

	return state_of(w->fd) == w->st;
}

static void run_to_state(struct pair *p, int fd, enum xm_tcp_state st, uint64_t ns)
{
	struct state_wait w = { fd, st };

	cr_assert(pair_run_until(p, ns, in_state, &w),
		  "seed %lu: fd %d in %s, expected %s", (unsigned long)p->seed, fd,
		  xm_tcp_state_name(state_of(fd)), xm_tcp_state_name(st));
}

Test(tcp_state, three_way_handshake_then_both_established)
{
	struct pair p;
	int l, c, s;

	pair_open(&p, 1, 1500, NULL, NULL);
	l = pair_connect(&p, AF_INET, 8080, &c, &s);
	cr_assert_eq(state_of(c), XM_TCP_ESTABLISHED);
	cr_assert_eq(state_of(s), XM_TCP_ESTABLISHED);
	cr_assert_eq(state_of(l), XM_TCP_LISTEN);
	/* Options negotiated as Linux offers them. */
	cr_assert(conn_of_fd(c)->ts_ok && conn_of_fd(c)->sack_ok && conn_of_fd(c)->ws_ok);
	cr_assert_eq(conn_of_fd(c)->mss, 1460);
	xm_close(c);
	xm_close(s);
	xm_close(l);
	pair_run(&p, 120 * S);
	pair_check_no_leaks(&p);
	pair_close(&p);
}

Test(tcp_state, handshake_waits_in_the_neighbour_queue_until_resolution)
{
	/* Neither host knows the other's MAC at first (a kernel neighbour
	 * entry still INCOMPLETE): A's SYN and B's SYN-ACK, segments without
	 * payload, wait in each stack's neighbour queue instead of being
	 * lost, and leave once the neighbour resolves. */
	struct pair p;
	int l, c, s;

	pair_open(&p, 41, 1500, NULL, NULL);
	xm_link_sim_set_neigh_ready(p.la, xm_sim_now(p.sim) + 3 * MS);
	xm_link_sim_set_neigh_ready(p.lb, xm_sim_now(p.sim) + 6 * MS);
	l = pair_connect(&p, AF_INET, 8081, &c, &s);
	cr_assert_geq(xm_sim_now(p.sim), 6 * MS, "established before B could answer");
	cr_assert_geq(p.a->stats.tx_neigh_wait, 1, "A's SYN waited");
	cr_assert_geq(p.b->stats.tx_neigh_wait, 1, "B's SYN-ACK waited");
	cr_assert_eq(p.a->stats.tx_neigh_drops + p.b->stats.tx_neigh_drops, 0);
	cr_assert_eq(p.b->tcp->stats.syncookies_sent, 0);
	cr_assert_eq(xm_send(c, "ping", 4, MSG_DONTWAIT), 4);
	pair_run(&p, 10 * MS);
	{
		char buf[8];

		cr_assert_eq(xm_recv(s, buf, sizeof(buf), MSG_DONTWAIT), 4);
		cr_assert_eq(memcmp(buf, "ping", 4), 0);
	}
	pair_finish(&p, c, s, l);
}

Test(tcp_state, active_close_fin_wait_time_wait_passive_close_wait_last_ack)
{
	struct pair p;
	int l, c, s;
	char buf[16];

	pair_open(&p, 2, 1500, NULL, NULL);
	l = pair_connect(&p, AF_INET, 8080, &c, &s);
	cr_assert_eq(xm_shutdown(c, SHUT_WR), 0);
	cr_assert_eq(state_of(c), XM_TCP_FIN_WAIT_1);
	run_to_state(&p, c, XM_TCP_FIN_WAIT_2, 1 * S);
	cr_assert_eq(state_of(s), XM_TCP_CLOSE_WAIT);
	/* The server reads EOF, can still send (half-close). */
	cr_assert_eq(xm_recv(s, buf, sizeof(buf), 0), 0);
	cr_assert_eq(xm_send(s, "late", 4, 0), 4);
	pair_run(&p, 100 * MS);
	cr_assert_eq(xm_recv(c, buf, sizeof(buf), 0), 4);
	cr_assert_eq(memcmp(buf, "late", 4), 0);
	cr_assert_eq(xm_shutdown(s, SHUT_WR), 0);
	cr_assert_eq(state_of(s), XM_TCP_LAST_ACK);
	run_to_state(&p, c, XM_TCP_TIME_WAIT, 1 * S);
	cr_assert_eq(xm_recv(c, buf, sizeof(buf), 0), 0);
	pair_run(&p, 100 * MS);
	cr_assert_eq(state_of(s), XM_TCP_CLOSED);
	/* TIME-WAIT lasts 2MSL (60 s), then CLOSED. */
	pair_run(&p, 59 * S);
	cr_assert_eq(state_of(c), XM_TCP_TIME_WAIT, "%s", xm_tcp_state_name(state_of(c)));
	pair_run(&p, 2 * S);
	cr_assert_eq(state_of(c), XM_TCP_CLOSED);
	xm_close(c);
	xm_close(s);
	xm_close(l);
	pair_check_no_leaks(&p);
	pair_close(&p);
}

Test(tcp_state, close_orphans_connection_which_finishes_and_frees)
{
	struct pair p;
	int l, c, s;

	pair_open(&p, 3, 1500, NULL, NULL);
	l = pair_connect(&p, AF_INET6, 8080, &c, &s);
	cr_assert_eq(xm_send(c, "hello", 5, 0), 5);
	xm_close(c);
	pair_run(&p, 100 * MS);
	cr_assert_eq(state_of(s), XM_TCP_CLOSE_WAIT);
	xm_close(s);
	xm_close(l);
	pair_run(&p, 70 * S);
	pair_check_no_leaks(&p);
	pair_close(&p);
}

Test(tcp_state, simultaneous_close_closing_then_time_wait)
{
	struct pair p;
	int l, c, s;

	pair_open(&p, 4, 1500, NULL, NULL);
	l = pair_connect(&p, AF_INET, 8080, &c, &s);
	cr_assert_eq(xm_shutdown(c, SHUT_WR), 0);
	cr_assert_eq(xm_shutdown(s, SHUT_WR), 0);
	cr_assert_eq(state_of(c), XM_TCP_FIN_WAIT_1);
	cr_assert_eq(state_of(s), XM_TCP_FIN_WAIT_1);
	pair_step(&p);
	pair_step(&p);
	run_to_state(&p, c, XM_TCP_TIME_WAIT, 1 * S);
	run_to_state(&p, s, XM_TCP_TIME_WAIT, 1 * S);
	pair_finish(&p, c, s, l);
}

Test(tcp_state, simultaneous_open_syn_received_then_established)
{
	struct pair p;
	struct sockaddr_in a = sin4(A4, 7001), b = sin4(B4, 7002);
	int ca, cb;

	pair_open(&p, 5, 1500, NULL, NULL);
	ca = xm_socket_on(p.a, AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0);
	cb = xm_socket_on(p.b, AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0);
	cr_assert_eq(xm_bind(ca, (struct sockaddr *)&a, sizeof(a)), 0);
	cr_assert_eq(xm_bind(cb, (struct sockaddr *)&b, sizeof(b)), 0);
	cr_assert_eq(xm_connect(ca, (struct sockaddr *)&b, sizeof(b)), -1);
	cr_assert_eq(errno, EINPROGRESS);
	cr_assert_eq(xm_connect(cb, (struct sockaddr *)&a, sizeof(a)), -1);
	cr_assert_eq(errno, EINPROGRESS);
	cr_assert_eq(state_of(ca), XM_TCP_SYN_SENT);
	/* Both SYNs cross: each side goes SYN-SENT -> SYN-RECEIVED. */
	run_to_state(&p, ca, XM_TCP_SYN_RECEIVED, 1 * S);
	run_to_state(&p, ca, XM_TCP_ESTABLISHED, 1 * S);
	run_to_state(&p, cb, XM_TCP_ESTABLISHED, 1 * S);
	cr_assert_eq(xm_connect(ca, (struct sockaddr *)&b, sizeof(b)), 0);
	cr_assert_eq(xm_connect(ca, (struct sockaddr *)&b, sizeof(b)), -1);
	cr_assert_eq(errno, EISCONN);
	xm_close(ca);
	xm_close(cb);
	pair_run(&p, 70 * S);
	pair_check_no_leaks(&p);
	pair_close(&p);
}

Test(tcp_state, connect_to_closed_port_is_refused)
{
	struct pair p;
	struct sockaddr_in b = sin4(B4, 9);
	struct pollfd pf;
	int c, err = 0;
	socklen_t el = sizeof(err);

	pair_open(&p, 6, 1500, NULL, NULL);
	c = xm_socket_on(p.a, AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0);
	cr_assert_eq(xm_connect(c, (struct sockaddr *)&b, sizeof(b)), -1);
	cr_assert_eq(errno, EINPROGRESS);
	cr_assert_eq(xm_connect(c, (struct sockaddr *)&b, sizeof(b)), -1);
	cr_assert_eq(errno, EALREADY);
	pair_run(&p, 100 * MS);
	cr_assert_eq(state_of(c), XM_TCP_CLOSED);
	pf.fd = c;
	pf.events = POLLOUT;
	cr_assert_eq(xm_poll(&pf, 1, 0), 1);
	cr_assert(pf.revents & POLLERR);
	cr_assert_eq(xm_getsockopt(c, SOL_SOCKET, SO_ERROR, &err, &el), 0);
	cr_assert_eq(err, ECONNREFUSED);
	xm_close(c);
	pair_check_no_leaks(&p);
	pair_close(&p);
}

Test(tcp_state, linger_zero_close_sends_rst_peer_sees_econnreset)
{
	struct pair p;
	struct linger lg = { .l_onoff = 1, .l_linger = 0 };
	char buf[8];
	int l, c, s;

	pair_open(&p, 7, 1500, NULL, NULL);
	l = pair_connect(&p, AF_INET, 8080, &c, &s);
	cr_assert_eq(xm_setsockopt(c, SOL_SOCKET, SO_LINGER, &lg, sizeof(lg)), 0);
	xm_close(c);
	pair_run(&p, 100 * MS);
	cr_assert_eq(state_of(s), XM_TCP_CLOSED);
	cr_assert_eq(xm_recv(s, buf, sizeof(buf), 0), -1);
	cr_assert_eq(errno, ECONNRESET);
	cr_assert_eq(xm_send(s, "x", 1, 0), -1);
	cr_assert_eq(errno, EPIPE);
	xm_close(s);
	xm_close(l);
	pair_check_no_leaks(&p);
	pair_close(&p);
}

Test(tcp_state, keepalive_timeout_when_peer_vanishes)
{
	struct pair p;
	struct xm_sim_impair dead = { .loss_ppm = 1000000 };
	int on = 1, idle = 10, intvl = 2, cnt = 3, l, c, s;
	char buf[4];

	pair_open(&p, 8, 1500, NULL, NULL);
	l = pair_connect(&p, AF_INET, 8080, &c, &s);
	cr_assert_eq(xm_setsockopt(c, SOL_SOCKET, SO_KEEPALIVE, &on, sizeof(on)), 0);
	cr_assert_eq(xm_setsockopt(c, IPPROTO_TCP, TCP_KEEPIDLE, &idle, sizeof(idle)), 0);
	cr_assert_eq(xm_setsockopt(c, IPPROTO_TCP, TCP_KEEPINTVL, &intvl, sizeof(intvl)), 0);
	cr_assert_eq(xm_setsockopt(c, IPPROTO_TCP, TCP_KEEPCNT, &cnt, sizeof(cnt)), 0);
	/* Idle but alive: probes are answered, the connection stays. */
	pair_run(&p, 60 * S);
	cr_assert_eq(state_of(c), XM_TCP_ESTABLISHED);
	xm_link_sim_set_impair(p.lb, &dead);
	pair_run(&p, 30 * S);
	cr_assert_eq(state_of(c), XM_TCP_CLOSED);
	cr_assert_eq(xm_recv(c, buf, sizeof(buf), 0), -1);
	cr_assert_eq(errno, ETIMEDOUT);
	xm_close(c);
	xm_close(s);
	xm_close(l);
	pair_run(&p, 200 * S);
	pair_check_no_leaks(&p);
	pair_close(&p);
}

Test(tcp_state, send_on_unconnected_socket_enotconn)
{
	struct pair p;
	int c;

	pair_open(&p, 9, 1500, NULL, NULL);
	c = xm_socket_on(p.a, AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0);
	cr_assert_eq(xm_send(c, "x", 1, 0), -1);
	cr_assert_eq(errno, ENOTCONN);
	cr_assert_eq(xm_shutdown(c, SHUT_WR), -1);
	cr_assert_eq(errno, ENOTCONN);
	xm_close(c);
	pair_check_no_leaks(&p);
	pair_close(&p);
}

Test(tcp_state, shutdown_rd_keeps_acking_the_peer)
{
	struct pair p;
	char buf[4];
	int l, c, s;

	pair_open(&p, 10, 1500, NULL, NULL);
	l = pair_connect(&p, AF_INET, 8080, &c, &s);
	cr_assert_eq(xm_shutdown(s, SHUT_RD), 0);
	cr_assert_eq(xm_send(c, "x", 1, 0), 1);
	pair_run(&p, 5 * S);
	/* As Linux in ESTABLISHED: the byte is acknowledged, nothing is
	 * retransmitted, the connection stays. */
	cr_assert_eq(conn_of_fd(c)->snd_una, conn_of_fd(c)->snd_max);
	cr_assert_eq(p.a->tcp->stats.retrans_segs, 0);
	cr_assert_eq(state_of(c), XM_TCP_ESTABLISHED);
	(void)buf;
	pair_finish(&p, c, s, l);
}

Test(tcp_state, rst_in_close_wait_gives_epipe_as_linux)
{
	struct pair p;
	struct linger lg = { .l_onoff = 1, .l_linger = 0 };
	int l, c, s, err = 0;
	socklen_t el = sizeof(err);

	pair_open(&p, 11, 1500, NULL, NULL);
	l = pair_connect(&p, AF_INET, 8080, &c, &s);
	cr_assert_eq(xm_shutdown(c, SHUT_WR), 0);
	pair_run(&p, 100 * MS);
	cr_assert_eq(state_of(s), XM_TCP_CLOSE_WAIT);
	cr_assert_eq(xm_setsockopt(c, SOL_SOCKET, SO_LINGER, &lg, sizeof(lg)), 0);
	xm_close(c);
	pair_run(&p, 100 * MS);
	cr_assert_eq(state_of(s), XM_TCP_CLOSED);
	cr_assert_eq(xm_getsockopt(s, SOL_SOCKET, SO_ERROR, &err, &el), 0);
	cr_assert_eq(err, EPIPE);
	pair_finish(&p, -1, s, l);
}

Test(tcp_state, handshake_completes_after_a_lost_syn_ack)
{
	struct pair p;
	struct xm_sim_impair drop = { .loss_ppm = 1000000 }, none = { 0 };
	struct sockaddr_in any = sin4("0.0.0.0", 8090), to = sin4(B4, 8090);
	int l, c, s = -1;

	pair_open(&p, 12, 1500, NULL, NULL);
	l = xm_socket_on(p.b, AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0);
	cr_assert_eq(xm_bind(l, (struct sockaddr *)&any, sizeof(any)), 0);
	cr_assert_eq(xm_listen(l, 4), 0);
	c = xm_socket_on(p.a, AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0);
	xm_link_sim_set_impair(p.lb, &drop);   /* the SYN-ACK is lost */
	cr_assert_eq(xm_connect(c, (struct sockaddr *)&to, sizeof(to)), -1);
	pair_run(&p, 500 * MS);
	xm_link_sim_set_impair(p.lb, &none);
	/* Retransmission (the SYN at 1 s, answered at once) completes it. */
	run_to_state(&p, c, XM_TCP_ESTABLISHED, 1200 * MS);
	for (int i = 0; i < 1000 && s < 0; i++) {
		pair_step(&p);
		s = xm_accept(l, NULL, NULL);
	}
	cr_assert_geq(s, 0);
	pair_finish(&p, c, s, l);
}

/* Stack close with connections in every kind of state (listening,
 * established, orphaned in FIN-WAIT, TIME-WAIT): everything is freed (the
 * sanitizer build checks the heap). */
Test(tcp_state, stack_close_frees_open_and_orphaned_connections)
{
	struct pair p;
	int l, c, s, l2, c2, s2;

	pair_open(&p, 13, 1500, NULL, NULL);
	l = pair_connect(&p, AF_INET, 8080, &c, &s);
	l2 = pair_connect(&p, AF_INET6, 8081, &c2, &s2);
	cr_assert_eq(xm_send(c, "pending", 7, 0), 7);
	xm_close(c2);                 /* orphan: FIN-WAIT, then TIME-WAIT */
	pair_run(&p, 10 * MS);
	(void)l;
	(void)s;
	(void)l2;
	(void)s2;
	pair_close(&p);
}

static short revents(int fd)
{
	struct pollfd pf = { .fd = fd, .events = POLLIN | POLLOUT | POLLRDHUP };

	cr_assert_geq(xm_poll(&pf, 1, 0), 0);
	return pf.revents;
}

Test(tcp_state, poll_events_through_half_close_and_close)
{
	struct pair p;
	int l, c, s;

	pair_open(&p, 14, 1500, NULL, NULL);
	l = pair_connect(&p, AF_INET, 8080, &c, &s);
	cr_assert_eq(revents(s), POLLOUT, "idle established: writable only");
	cr_assert_eq(revents(l), 0);
	cr_assert_eq(xm_shutdown(c, SHUT_WR), 0);
	pair_run(&p, 100 * MS);
	cr_assert_eq(revents(s), POLLIN | POLLOUT | POLLRDHUP, "peer FIN: EOF readable");
	cr_assert_eq(xm_shutdown(s, SHUT_WR), 0);
	cr_assert_eq(revents(s) & (POLLHUP | POLLIN | POLLRDHUP), POLLHUP | POLLIN | POLLRDHUP);
	pair_finish(&p, c, s, l);
}

Test(tcp_state, time_wait_gives_its_buffers_back)
{
	struct pair p;
	int l, c, s;
	char buf[16];
	struct xm_tcp_conn *sc;
	uint64_t mem_before;

	pair_open(&p, 40, 1500, NULL, NULL);
	l = pair_connect(&p, AF_INET, 8080, &c, &s);
	sc = conn_of_fd(s);
	cr_assert(sc->sndbuf.cap && sc->rcvbuf.cap, "buffers allocated when established");
	/* The server closes first (as an HTTP server with Connection: close). */
	cr_assert_eq(xm_send(s, "bye", 3, 0), 3);
	cr_assert_eq(xm_shutdown(s, SHUT_WR), 0);
	pair_run(&p, 100 * MS);
	cr_assert_eq(xm_recv(c, buf, sizeof(buf), 0), 3);
	cr_assert_eq(xm_recv(c, buf, sizeof(buf), 0), 0);
	mem_before = sc->st->tcp->mem;
	xm_close(c);
	run_to_state(&p, s, XM_TCP_TIME_WAIT, 1 * S);
	/* TIME-WAIT keeps sequence state only: both rings are freed and
	 * their bytes returned to the stack's bound, not after 2MSL. */
	cr_assert_eq(sc->sndbuf.cap, 0);
	cr_assert_null(sc->sndbuf.buf);
	cr_assert_eq(sc->rcvbuf.cap, 0);
	cr_assert_null(sc->rcvbuf.buf);
	cr_assert_lt(sc->st->tcp->mem, mem_before);
	/* The socket still reads EOF and refuses to send, as before. */
	cr_assert_eq(xm_recv(s, buf, sizeof(buf), MSG_DONTWAIT), 0);
	cr_assert_eq(xm_send(s, "x", 1, 0), -1);
	cr_assert_eq(errno, EPIPE);
	xm_close(s);
	xm_close(l);
	pair_run(&p, 120 * S);
	pair_check_no_leaks(&p);
	pair_close(&p);
}
