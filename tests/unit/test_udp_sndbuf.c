// SPDX-License-Identifier: MIT
/* UDP send back-pressure over the simulated link, as Linux has it: a
 * socket's datagrams are charged to SO_SNDBUF until the link gives their
 * buffers back (the sim holds them for tx_done_ns, or until released); a
 * send that finds no room in the send buffer or no free tx buffer fails
 * EAGAIN when non-blocking and waits when blocking; POLLOUT follows; no
 * datagram is lost and no frame leaks. */
#define _GNU_SOURCE
#include <criterion/criterion.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <string.h>
#include <sys/time.h>

#include "lib/sim_env.h"
#include "../../user/lib/core/stack.h"

#define PORT_A 7000
#define PORT_B 5000
#define LEN 1000
/* One unfragmented datagram of LEN bytes: Ethernet + IPv4 + UDP + LEN. */
#define FRAME_LEN (14 + 20 + 8 + LEN)
#define HELD UINT64_MAX
#define MS 1000000ULL

TestSuite(udp_sndbuf, .timeout = 60);

static struct sim_env e;
static int fa, fb;
static struct sockaddr_storage to;
static socklen_t tolen;
static uint8_t pay[65536];

/* a sends to b; a's sent buffers complete after done_ns (HELD: never). */
static void open_env(uint64_t done_ns, uint32_t a_frames)
{
	struct sim_env_opts o = { .a_frames = a_frames };

	o.a_to_b.tx_done_ns = done_ns;
	env_open(&e, 7, &o);
	fa = env_udp(e.a, AF_INET, PORT_A);
	fb = env_udp(e.b, AF_INET, PORT_B);
	tolen = env_addr(AF_INET, 'b', PORT_B, &to);
}

static void set_done_ns(uint64_t done_ns)
{
	struct xm_sim_impair im = { .tx_done_ns = done_ns };

	xm_link_sim_set_impair(e.la, &im);
}

static void set_sndbuf(int fd, int v)
{
	cr_assert_eq(xm_setsockopt(fd, SOL_SOCKET, SO_SNDBUF, &v, sizeof(v)), 0);
}

static int sndbuf(int fd)
{
	socklen_t l = sizeof(int);
	int v = 0;

	cr_assert_eq(xm_getsockopt(fd, SOL_SOCKET, SO_SNDBUF, &v, &l), 0);
	return v;
}

static void set_blocking(int fd)
{
	cr_assert_eq(xm_fcntl(fd, F_SETFL, 0), 0);
}

static ssize_t send_b(int fd, size_t len)
{
	return xm_sendto(fd, pay, len, 0, (void *)&to, tolen);
}

/* Sends of LEN bytes (flags) until one fails; returns how many went. */
static int send_until_refused_flags(int fd, int flags)
{
	int n = 0;

	while (xm_sendto(fd, pay, LEN, flags, (void *)&to, tolen) == LEN)
		ENV_ASSERT(&e, ++n < 1000, "never refused");
	ENV_ASSERT(&e, errno == EAGAIN, "refused with %s, want EAGAIN",
		   strerrorname_np(errno));
	return n;
}

static int send_until_refused(int fd)
{
	return send_until_refused_flags(fd, 0);
}

static short revents(int fd, short events, int timeout_ms)
{
	struct pollfd p = { .fd = fd, .events = events };

	cr_assert_geq(xm_poll(&p, 1, timeout_ms), 0, "xm_poll: %s", strerror(errno));
	return p.revents;
}

/* Datagrams b has received (drains its socket). */
static int received(void)
{
	uint8_t in[LEN];
	int n = 0;

	env_settle(&e);
	while (xm_recv(fb, in, sizeof(in), 0) >= 0)
		n++;
	return n;
}

static struct xm_stack_stats stats(void)
{
	struct xm_stack_stats s;

	cr_assert_eq(xm_stack_stats(e.a, &s), 0);
	return s;
}

static void no_frame_leaked(void)
{
	uint64_t total, acc;

	cr_assert_eq(xm_stack_frames(e.a, &total, &acc), 0);
	ENV_ASSERT(&e, total == acc, "frames leaked: %llu of %llu accounted",
		   (unsigned long long)acc, (unsigned long long)total);
}

static void finish(void)
{
	xm_close(fa);
	xm_close(fb);
	env_close(&e);
}

/* Linux admits a datagram while less than sndbuf is charged, so the last
 * one admitted takes the charge past it. */
Test(udp_sndbuf, sndbuf_bounds_bytes_not_yet_completed)
{
	uint32_t cost = xm_wmem_cost(FRAME_LEN);
	int n, buf;

	open_env(HELD, 0);
	set_sndbuf(fa, 4096);
	buf = sndbuf(fa);
	cr_assert_eq(buf, 8192, "SO_SNDBUF doubles, as Linux");
	n = send_until_refused(fa);
	ENV_ASSERT(&e, (uint32_t)(n - 1) * cost < (uint32_t)buf &&
		       (uint32_t)n * cost >= (uint32_t)buf,
		   "%d datagrams of cost %u admitted for sndbuf %d", n, cost, buf);
	/* Refused means not sent: b got exactly the admitted ones. */
	ENV_ASSERT(&e, received() == n, "b did not get the %d admitted", n);
	cr_assert_eq(stats().tx_no_buffer, 0, "back-pressure is not a drop");
	finish();
}

Test(udp_sndbuf, completions_make_room_again)
{
	int n;

	open_env(HELD, 0);
	set_sndbuf(fa, 4096);
	n = send_until_refused(fa);
	cr_assert_eq(send_b(fa, LEN), -1, "still full while nothing completed");
	set_done_ns(0);
	cr_assert_eq(send_b(fa, LEN), LEN, "a send reaps completions itself");
	/* Everything is back: the same number fits again. */
	set_done_ns(HELD);
	cr_assert_eq(send_until_refused(fa), n);
	set_done_ns(0);
	ENV_ASSERT(&e, received() == 2 * n + 1, "a datagram was lost");
	finish();
}

Test(udp_sndbuf, msg_dontwait_fails_eagain_on_a_blocking_socket)
{
	open_env(HELD, 0);
	set_blocking(fa);
	set_sndbuf(fa, 0);   /* the minimum: 4608 */
	cr_assert_gt(send_until_refused_flags(fa, MSG_DONTWAIT), 0);
	finish();
}

/* As Linux: the check is "anything left below sndbuf", so one datagram
 * bigger than the whole buffer still goes when nothing is queued. */
Test(udp_sndbuf, datagram_bigger_than_sndbuf_admitted_when_empty)
{
	open_env(HELD, 0);
	set_sndbuf(fa, 0);
	cr_assert_eq(send_b(fa, 9000), 9000);
	cr_assert_eq(send_b(fa, 1), -1);
	cr_assert_eq(errno, EAGAIN);
	finish();
}

Test(udp_sndbuf, pollout_needs_half_the_sndbuf_free)
{
	uint32_t cost = xm_wmem_cost(FRAME_LEN);
	int buf, n = 0;

	open_env(HELD, 0);
	set_sndbuf(fa, 4096);
	buf = sndbuf(fa);
	cr_assert_eq(revents(fa, POLLOUT, 0), POLLOUT, "writable when empty");
	/* Writable while under half charged (sock_writeable). */
	while ((uint32_t)n * cost < (uint32_t)buf / 2) {
		cr_assert_eq(revents(fa, POLLOUT, 0), POLLOUT,
			     "not writable with %d of %d charged", n * (int)cost, buf);
		cr_assert_eq(send_b(fa, LEN), LEN);
		n++;
	}
	cr_assert_eq(revents(fa, POLLOUT, 0), 0, "writable past half the sndbuf");
	/* Admitted past the POLLOUT mark, up to the sndbuf itself. */
	send_until_refused(fa);
	cr_assert_eq(revents(fa, POLLOUT | POLLIN, 0), 0);
	set_done_ns(0);
	cr_assert_eq(revents(fa, POLLOUT, 0), POLLOUT, "writable once completed");
	finish();
}

Test(udp_sndbuf, poll_waits_for_completions_to_report_pollout)
{
	uint64_t t0;

	open_env(5 * MS, 0);
	set_sndbuf(fa, 0);
	send_until_refused(fa);
	cr_assert_eq(revents(fa, POLLOUT, 0), 0);
	t0 = xm_sim_now(e.sim);
	cr_assert_eq(revents(fa, POLLOUT, -1), POLLOUT);
	ENV_ASSERT(&e, xm_sim_now(e.sim) >= t0 + 5 * MS,
		   "POLLOUT before any completion was due");
	finish();
}

Test(udp_sndbuf, blocking_send_waits_for_completions)
{
	uint64_t t0;
	int i;

	open_env(5 * MS, 0);
	set_blocking(fa);
	set_sndbuf(fa, 0);
	t0 = xm_sim_now(e.sim);
	for (i = 0; i < 40; i++)
		ENV_ASSERT(&e, send_b(fa, LEN) == LEN, "send %d: %s", i,
			   strerror(errno));
	/* 40 datagrams do not fit 4608 bytes: the sender waited for the
	 * link to give buffers back. */
	ENV_ASSERT(&e, xm_sim_now(e.sim) >= t0 + 5 * MS, "never waited");
	ENV_ASSERT(&e, received() == 40, "a datagram was lost");
	cr_assert_eq(stats().tx_no_buffer, 0);
	finish();
}

Test(udp_sndbuf, blocking_send_honours_sndtimeo)
{
	struct timeval tv = { .tv_usec = 100000 };
	uint64_t t0;

	open_env(HELD, 0);
	set_blocking(fa);
	set_sndbuf(fa, 0);
	cr_assert_eq(xm_setsockopt(fa, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv)), 0);
	cr_assert_gt(send_until_refused_flags(fa, MSG_DONTWAIT), 0);
	t0 = xm_sim_now(e.sim);
	cr_assert_eq(send_b(fa, LEN), -1, "completions never come: must not hang");
	cr_assert_eq(errno, EAGAIN, "as Linux when SO_SNDTIMEO expires");
	ENV_ASSERT(&e, xm_sim_now(e.sim) >= t0 + 100 * MS, "gave up before the timeout");
	finish();
}

/* ---- the link's tx buffers ---- */

/* 16 buffers, all in flight: the 17th datagram has no buffer. */
Test(udp_sndbuf, no_tx_buffer_is_eagain_not_a_drop)
{
	int n;

	open_env(HELD, 16);
	n = send_until_refused(fa);
	cr_assert_eq(n, 16, "one buffer per datagram");
	cr_assert_eq(stats().tx_no_buffer, 0);
	cr_assert_eq(revents(fa, POLLOUT, 0), 0, "writable without a tx buffer");
	set_done_ns(0);
	cr_assert_eq(revents(fa, POLLOUT, 0), POLLOUT);
	cr_assert_eq(send_b(fa, LEN), LEN, "the refused datagram, sent again");
	ENV_ASSERT(&e, received() == n + 1, "a datagram was lost");
	no_frame_leaked();
	finish();
}

Test(udp_sndbuf, blocking_send_waits_for_a_tx_buffer)
{
	int i;

	open_env(2 * MS, 16);
	set_blocking(fa);
	for (i = 0; i < 100; i++)
		ENV_ASSERT(&e, send_b(fa, LEN) == LEN, "send %d: %s", i,
			   strerror(errno));
	ENV_ASSERT(&e, received() == 100, "a datagram was lost");
	cr_assert_eq(stats().tx_no_buffer, 0);
	no_frame_leaked();
	finish();
}

/* Completions wake no fd: an event loop on xm_stack_fd() is told to look
 * again soon while a sender waits for them, and no longer after. */
Test(udp_sndbuf, event_loop_polls_again_while_a_sender_waits)
{
	open_env(HELD, 16);
	cr_assert_eq(xm_stack_timeout_ms(e.a), -1, "no timer, no wait");
	send_until_refused(fa);
	cr_assert_eq(xm_stack_timeout_ms(e.a), 1);
	set_done_ns(0);
	xm_stack_poll(e.a);
	cr_assert_eq(xm_stack_timeout_ms(e.a), -1, "nothing left in flight");
	finish();
}

/* 45 fragments never fit 16 buffers: waiting cannot help, so even a
 * blocking send fails (ENOBUFS) once everything in flight is back. */
Test(udp_sndbuf, datagram_bigger_than_the_pool_fails_enobufs)
{
	open_env(2 * MS, 16);
	set_blocking(fa);
	cr_assert_eq(send_b(fa, LEN), LEN);
	cr_assert_eq(send_b(fa, 65507), -1);
	cr_assert_eq(errno, ENOBUFS);
	cr_assert_eq(stats().tx_no_buffer, 1);
	ENV_ASSERT(&e, received() == 1, "the datagram before it was lost");
	finish();
}

/* ---- close ---- */

Test(udp_sndbuf, close_with_datagrams_in_flight_leaks_nothing)
{
	open_env(HELD, 64);
	send_until_refused(fa);
	xm_close(fa);
	no_frame_leaked();
	set_done_ns(0);
	xm_stack_poll(e.a);   /* completions for a closed socket */
	no_frame_leaked();
	/* Every buffer is back: 64 datagrams go again from a new socket. */
	fa = env_udp(e.a, AF_INET, PORT_A);
	for (int i = 0; i < 64; i++)
		cr_assert_eq(send_b(fa, LEN), LEN);
	finish();
}

Test(udp_sndbuf, stack_close_with_datagrams_in_flight)
{
	open_env(HELD, 0);
	send_until_refused(fa);
	no_frame_leaked();
	/* env_close checks the accounting; the sanitizer build checks that
	 * the send-buffer account went with the last completion. */
	xm_close(fb);
	env_close(&e);
}
