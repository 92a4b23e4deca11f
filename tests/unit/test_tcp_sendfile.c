// SPDX-License-Identifier: MIT
/*
 * xm_sendfile over the simulated link, against sendfile(2)'s rules: the
 * file's bytes arrive whole and in order, *offset moves and the file
 * position does not (or, without an offset, the position moves), a file
 * that ends early gives what it has and then 0, a datagram socket gets
 * them through a buffer, and misuse fails with Linux's errno.
 */
#define _GNU_SOURCE   /* memfd_create */
#include <sys/mman.h>
#include <unistd.h>

#include "tcp_pair.h"

#define S 1000000000ull

static uint8_t pattern(size_t i)
{
	return (uint8_t)(i * 7 + (i >> 9) + 3);
}

/* A file of len bytes of pattern(). */
static int file_of(size_t len)
{
	static uint8_t buf[65536];
	int fd = memfd_create("xm-sendfile", 0);
	size_t done = 0;

	cr_assert_geq(fd, 0, "memfd_create: %s", strerror(errno));
	while (done < len) {
		size_t n = len - done < sizeof(buf) ? len - done : sizeof(buf);

		for (size_t i = 0; i < n; i++)
			buf[i] = pattern(done + i);
		cr_assert_eq(write(fd, buf, n), (ssize_t)n);
		done += n;
	}
	cr_assert_eq(lseek(fd, 0, SEEK_SET), 0);
	return fd;
}

/* What arrives at fd, checked against pattern() from first on. */
struct expect {
	int fd;
	size_t first, got, want;
};

static bool arrived(void *ctx)
{
	struct expect *e = ctx;
	static uint8_t buf[65536];
	ssize_t n;

	while ((n = xm_recv(e->fd, buf, sizeof(buf), MSG_DONTWAIT)) > 0) {
		for (ssize_t i = 0; i < n; i++)
			cr_assert_eq(buf[i], pattern(e->first + e->got + (size_t)i),
				     "byte %zu", e->got + (size_t)i);
		e->got += (size_t)n;
	}
	return e->got == e->want;
}

/* A connection A (*c) -> B (*s) over family and a file of len bytes
 * (the return); e->fd is B's end. Returns the listener in *l. */
static int conn_and_file(struct pair *p, uint64_t seed, int family, size_t len,
			 int *l, int *c, int *s, struct expect *e)
{
	pair_open(p, seed, 1500, NULL, NULL);
	*l = pair_connect(p, family, 8080, c, s);
	e->fd = *s;
	return file_of(len);
}

/* Everything expected arrived; the file closed, the pair finished. */
static void finish(struct pair *p, struct expect *e, int fd, int l, int c, int s)
{
	cr_assert(pair_run_until(p, 10 * S, arrived, e), "got %zu of %zu", e->got, e->want);
	close(fd);
	pair_finish(p, c, s, l);
}

Test(tcp_sendfile, a_file_arrives_whole_the_offset_moves_and_the_position_stays)
{
	/* 3 MiB: many times the send ring, so the sends are partial and
	 * some find the ring full (EAGAIN on a non-blocking socket). */
	const size_t len = 3u << 20;
	struct expect e = { .want = len };
	struct pair p;
	int l, c, s, fd, eagain = 0;
	off_t off = 0;

	fd = conn_and_file(&p, 5, AF_INET, len, &l, &c, &s, &e);
	while ((size_t)off < len) {
		off_t before = off;
		ssize_t n = xm_sendfile(c, fd, &off, len - (size_t)off);

		if (n < 0) {
			cr_assert_eq(errno, EAGAIN, "sendfile: %s", strerror(errno));
			cr_assert_eq(off, before, "a failed call moves no offset");
			eagain++;
		} else {
			cr_assert_gt(n, 0);
			cr_assert_eq(off, before + n);
			/* Short: the send ring is full until ACKs come. */
			if ((size_t)off < len) {
				before = off;
				cr_assert_eq(xm_sendfile(c, fd, &off, len - (size_t)off), -1);
				cr_assert_eq(errno, EAGAIN);
				cr_assert_eq(off, before, "a failed call moves no offset");
				eagain++;
			}
		}
		pair_run_until(&p, S, arrived, &e);
	}
	cr_assert_gt(eagain, 0, "the ring never filled: the test proves less");
	cr_assert_eq(lseek(fd, 0, SEEK_CUR), 0, "the file position stays");
	finish(&p, &e, fd, l, c, s);
}

Test(tcp_sendfile, without_an_offset_the_file_position_moves)
{
	struct expect e = { .first = 1000, .want = 5000 };
	struct pair p;
	int l, c, s, fd;

	fd = conn_and_file(&p, 6, AF_INET6, 20000, &l, &c, &s, &e);
	cr_assert_eq(lseek(fd, 1000, SEEK_SET), 1000);
	cr_assert_eq(xm_sendfile(c, fd, NULL, 5000), 5000);
	cr_assert_eq(lseek(fd, 0, SEEK_CUR), 6000);
	finish(&p, &e, fd, l, c, s);
}

Test(tcp_sendfile, a_file_that_ends_early_gives_what_it_has_then_0)
{
	struct expect e = { .first = 9900, .want = 100 };
	struct pair p;
	int l, c, s, fd;
	off_t off = 9900;

	fd = conn_and_file(&p, 7, AF_INET, 10000, &l, &c, &s, &e);
	cr_assert_eq(xm_sendfile(c, fd, &off, 1000), 100);
	cr_assert_eq(off, 10000);
	cr_assert_eq(xm_sendfile(c, fd, &off, 1000), 0);
	cr_assert_eq(off, 10000);
	cr_assert_eq(xm_sendfile(c, fd, &off, 0), 0, "count 0");
	finish(&p, &e, fd, l, c, s);
}

Test(tcp_sendfile, misuse_fails_with_linux_errno)
{
	struct expect e = { 0 };
	struct pair p;
	int l, c, s, fd, pfd[2], wfd, u;
	off_t off = -1;

	fd = conn_and_file(&p, 8, AF_INET, 4096, &l, &c, &s, &e);
	cr_assert_eq(xm_sendfile(c, fd, &off, 10), -1);
	cr_assert_eq(errno, EINVAL, "negative offset: %s", strerror(errno));
	off = 0;
	cr_assert_eq(xm_sendfile_flags(c, fd, &off, 10, MSG_OOB), -1);
	cr_assert_eq(errno, EINVAL, "a flag sendfile does not take");
	cr_assert_eq(xm_sendfile(fd, fd, &off, 10), -1);
	cr_assert_eq(errno, EBADF, "not an xdpmux socket");
	cr_assert_eq(pipe(pfd), 0);
	cr_assert_eq(xm_sendfile(c, pfd[0], NULL, 10), -1);
	cr_assert_eq(errno, EINVAL, "a pipe: %s", strerror(errno));
	wfd = open("/dev/null", O_WRONLY | O_CLOEXEC);
	cr_assert_geq(wfd, 0);
	cr_assert_eq(xm_sendfile(c, wfd, &off, 10), -1);
	cr_assert_eq(errno, EBADF, "a file open for writing only: %s", strerror(errno));
	u = xm_socket_on(p.a, AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0);
	cr_assert_eq(xm_sendfile(u, fd, &off, 10), -1);
	cr_assert_eq(errno, ENOTCONN, "unconnected: %s", strerror(errno));
	cr_assert_eq(off, 0, "no offset moved by a failure");
	xm_close(u);
	close(pfd[0]);
	close(pfd[1]);
	close(wfd);
	finish(&p, &e, fd, l, c, s);
}

Test(tcp_sendfile, a_datagram_socket_sends_the_bytes_as_one_datagram)
{
	struct sockaddr_in a = sin4(A4, 7000), b = sin4(B4, 5000);
	uint8_t in[4096];
	struct pair p;
	int fa, fb, fd;
	off_t off = 300;
	ssize_t n = -1;

	pair_open(&p, 9, 1500, NULL, NULL);
	fa = xm_socket_on(p.a, AF_INET, SOCK_DGRAM | SOCK_NONBLOCK, 0);
	fb = xm_socket_on(p.b, AF_INET, SOCK_DGRAM | SOCK_NONBLOCK, 0);
	cr_assert_eq(xm_bind(fa, (struct sockaddr *)&a, sizeof(a)), 0);
	cr_assert_eq(xm_bind(fb, (struct sockaddr *)&b, sizeof(b)), 0);
	cr_assert_eq(xm_connect(fa, (struct sockaddr *)&b, sizeof(b)), 0);
	fd = file_of(8192);
	cr_assert_eq(xm_sendfile(fa, fd, &off, 2000), 2000);
	cr_assert_eq(off, 2300);
	for (int i = 0; i < 1000 && n < 0; i++) {
		pair_step(&p);
		n = xm_recv(fb, in, sizeof(in), 0);
	}
	cr_assert_eq(n, 2000, "recv: %zd %s", n, strerror(errno));
	for (size_t i = 0; i < 2000; i++)
		cr_assert_eq(in[i], pattern(300 + i), "byte %zu", i);
	close(fd);
	xm_close(fa);
	xm_close(fb);
	pair_finish(&p, -1, -1, -1);
}
