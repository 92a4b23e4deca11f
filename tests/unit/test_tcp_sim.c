// SPDX-License-Identifier: MIT
/*
 * TCP over the simulated link, seeded and deterministic: 100 MB transfers
 * arrive byte-identical under loss (1%, 5%, 20%), reordering,
 * duplication, corruption, and across the 2^32 sequence wrap; both ends
 * finish in the right states; no frame, buffer or connection leaks after
 * close. The seed is printed on failure: rerun with the same to replay.
 */
#include <stdio.h>
#include <stdlib.h>

#include "tcp_pair.h"

#define MS 1000000ull
#define S  1000000000ull
#define MB (1024u * 1024u)

/* The byte at stream offset i: a fixed pseudo-random function, so the
 * receiver checks without keeping a copy. */
static uint64_t mix(uint64_t x)
{
	x += 0x9e3779b97f4a7c15ull;
	x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ull;
	x = (x ^ (x >> 27)) * 0x94d049bb133111ebull;
	return x ^ (x >> 31);
}

static void stream_fill(uint8_t *p, uint64_t off, uint32_t n)
{
	for (uint32_t i = 0; i < n; i++) {
		uint64_t o = off + i;

		p[i] = (uint8_t)(mix(o >> 3) >> ((o & 7) * 8));
	}
}

struct xfer {
	uint64_t total, sent, rcvd;
	bool eof;
	uint64_t first_bad;
	uint64_t out_off;
	uint32_t out_len;
};

static void xfer_pump(struct xfer *x, int c, int s)
{
	static uint8_t out[256 * 1024], buf[256 * 1024], want[256 * 1024];
	ssize_t n;

	while (x->sent < x->total) {
		uint64_t left = x->total - x->sent;
		uint32_t len, at;

		/* out[] holds the stream from out_off; refill when used up. */
		if (x->sent >= x->out_off + x->out_len || !x->out_len) {
			x->out_off = x->sent;
			x->out_len = left < sizeof(out) ? (uint32_t)left : (uint32_t)sizeof(out);
			stream_fill(out, x->out_off, x->out_len);
		}
		at = (uint32_t)(x->sent - x->out_off);
		len = x->out_len - at;
		n = xm_send(c, out + at, len, MSG_DONTWAIT);
		if (n < 0) {
			cr_assert_eq(errno, EAGAIN, "send: %s", strerror(errno));
			break;
		}
		x->sent += (uint64_t)n;
		if (x->sent == x->total)
			cr_assert_eq(xm_shutdown(c, SHUT_WR), 0);
	}
	for (;;) {
		n = xm_recv(s, buf, sizeof(buf), MSG_DONTWAIT);
		if (n < 0) {
			cr_assert_eq(errno, EAGAIN, "recv: %s", strerror(errno));
			break;
		}
		if (n == 0) {
			x->eof = true;
			break;
		}
		stream_fill(want, x->rcvd, (uint32_t)n);
		if (x->first_bad == UINT64_MAX && memcmp(buf, want, (size_t)n)) {
			for (ssize_t i = 0; i < n; i++)
				if (buf[i] != want[i]) {
					x->first_bad = x->rcvd + (uint64_t)i;
					break;
				}
		}
		x->rcvd += (uint64_t)n;
	}
}

static void big_bufs(int fd)
{
	int v = 4 * MB;

	cr_assert_eq(xm_setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &v, sizeof(v)), 0);
	cr_assert_eq(xm_setsockopt(fd, SOL_SOCKET, SO_SNDBUF, &v, sizeof(v)), 0);
}

/* Transfer total bytes A -> B over links of mtu impaired by ia (A's
 * frames) and ib (B's) (no_gso: without segmentation offload); check
 * identity, end states, and leaks. A's and B's TCP counters to *sa_out,
 * *sb_out. */
static void transfer_ab(uint64_t seed, uint64_t total, const struct xm_sim_impair *ia,
			const struct xm_sim_impair *ib, uint32_t isn, const char *cc,
			uint32_t mtu, bool no_gso, struct xm_tcp_stats *sa_out,
			struct xm_tcp_stats *sb_out)
{
	struct sockaddr_in any = sin4("0.0.0.0", 5001), to = sin4(B4, 5001);
	struct xfer x = { .total = total, .first_bad = UINT64_MAX };
	struct xm_tcp_stats sa, sb;
	struct pair p;
	int l, c, s = -1, r;

	pair_open_gso(&p, seed, mtu, ia, ib, no_gso);
	if (isn) {
		xm_tcp_stack_get(p.a)->isn_fixed_on = true;
		xm_tcp_stack_get(p.a)->isn_fixed = isn;
		xm_tcp_stack_get(p.b)->isn_fixed_on = true;
		xm_tcp_stack_get(p.b)->isn_fixed = isn - 12345;
	}
	l = xm_socket_on(p.b, AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0);
	big_bufs(l);
	cr_assert_eq(xm_bind(l, (struct sockaddr *)&any, sizeof(any)), 0);
	cr_assert_eq(xm_listen(l, 4), 0);
	c = xm_socket_on(p.a, AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0);
	big_bufs(c);
	if (cc)
		cr_assert_eq(xm_setsockopt(c, IPPROTO_TCP, TCP_CONGESTION, cc, strlen(cc)), 0);
	r = xm_connect(c, (struct sockaddr *)&to, sizeof(to));
	cr_assert(r == -1 && errno == EINPROGRESS);
	while (s < 0) {
		cr_assert(pair_step(&p));
		cr_assert_lt(xm_sim_now(p.sim), 600 * S, "seed %lu: no accept",
			     (unsigned long)seed);
		s = xm_accept(l, NULL, NULL);
	}
	while (!x.eof) {
		xfer_pump(&x, c, s);
		if (x.eof)
			break;
		cr_assert(pair_step(&p), "seed %lu: stalled at %lu/%lu bytes",
			  (unsigned long)seed, (unsigned long)x.rcvd, (unsigned long)total);
		cr_assert_lt(xm_sim_now(p.sim), 36000 * S,
			     "seed %lu: transfer took too long (virtual time), %lu/%lu",
			     (unsigned long)seed, (unsigned long)x.rcvd, (unsigned long)total);
	}
	cr_assert_eq(x.first_bad, UINT64_MAX, "seed %lu: stream differs at byte %lu",
		     (unsigned long)seed, (unsigned long)x.first_bad);
	cr_assert_eq(x.rcvd, total, "seed %lu: received %lu of %lu bytes",
		     (unsigned long)seed, (unsigned long)x.rcvd, (unsigned long)total);
	/* Receive-window auto-tuning grew the ring from 64 KB, within
	 * SO_RCVBUF. */
	cr_assert_gt(conn_of_fd(s)->rcvbuf.cap, XM_TCP_RCVBUF_INIT);
	cr_assert_leq(conn_of_fd(s)->rcvbuf.cap, conn_of_fd(s)->rcvbuf_max);
	/* The receiver closes its side: the sender ends in TIME-WAIT, the
	 * receiver in CLOSED. */
	cr_assert_eq(state_of(s), XM_TCP_CLOSE_WAIT);
	cr_assert_eq(xm_shutdown(s, SHUT_WR), 0);
	for (int i = 0; i < 10000000 && state_of(c) != XM_TCP_TIME_WAIT; i++)
		cr_assert(pair_step(&p));
	for (int i = 0; i < 10000000 && state_of(s) != XM_TCP_CLOSED; i++)
		cr_assert(pair_step(&p));
	cr_assert_eq(state_of(c), XM_TCP_TIME_WAIT, "seed %lu: client %s",
		     (unsigned long)seed, xm_tcp_state_name(state_of(c)));
	cr_assert_eq(state_of(s), XM_TCP_CLOSED, "seed %lu: server %s",
		     (unsigned long)seed, xm_tcp_state_name(state_of(s)));
	sa = p.a->tcp->stats;
	sb = p.b->tcp->stats;
	cr_log_info("seed %lu: %lu MB in %.1f s virtual; A out %lu segs, %lu rexmit, "
		    "%lu RTOs, %lu RACK losses, %lu TLPs, %lu undos; "
		    "B out %lu, ooo %lu, memdrops %lu, dsacks %lu, bad csum A %lu B %lu",
		    (unsigned long)seed, (unsigned long)(total / MB),
		    (double)xm_sim_now(p.sim) / 1e9, (unsigned long)sa.segs_out,
		    (unsigned long)sa.retrans_segs, (unsigned long)sa.rto_fires,
		    (unsigned long)sa.rack_losses, (unsigned long)sa.tlp_probes,
		    (unsigned long)sa.dsack_undos, (unsigned long)sb.segs_out,
		    (unsigned long)sb.ooo_segs, (unsigned long)sb.mem_drops,
		    (unsigned long)sb.dsacks_out, (unsigned long)sa.bad_csum,
		    (unsigned long)sb.bad_csum);
	if (sa_out)
		*sa_out = sa;
	if (sb_out)
		*sb_out = sb;
	pair_finish(&p, c, s, l);
}

/* transfer_ab with the same impairments both ways. */
static void transfer_on(uint64_t seed, uint64_t total, const struct xm_sim_impair *im,
			uint32_t isn, const char *cc, uint32_t mtu, bool no_gso,
			struct xm_tcp_stats *sa_out, struct xm_tcp_stats *sb_out)
{
	transfer_ab(seed, total, im, im, isn, cc, mtu, no_gso, sa_out, sb_out);
}

static void transfer(uint64_t seed, uint64_t total, const struct xm_sim_impair *im,
		     uint32_t isn, const char *cc)
{
	transfer_on(seed, total, im, isn, cc, 9000, false, NULL, NULL);
}

#define DELAY (1 * MS)

Test(tcp_sim, clean_link_100mb, .timeout = 120)
{
	struct xm_sim_impair im = { .delay_ns = DELAY };

	transfer(100, 100ull * MB, &im, 0, NULL);
}

Test(tcp_sim, loss_1pct_100mb, .timeout = 120)
{
	struct xm_sim_impair im = { .delay_ns = DELAY, .loss_ppm = 10000 };

	transfer(101, 100ull * MB, &im, 0, NULL);
}

Test(tcp_sim, loss_5pct_100mb, .timeout = 120)
{
	struct xm_sim_impair im = { .delay_ns = DELAY, .loss_ppm = 50000 };

	transfer(105, 100ull * MB, &im, 0, NULL);
}

Test(tcp_sim, loss_20pct_100mb, .timeout = 120)
{
	struct xm_sim_impair im = { .delay_ns = DELAY, .loss_ppm = 200000 };

	transfer(120, 100ull * MB, &im, 0, NULL);
}

Test(tcp_sim, reorder_100mb, .timeout = 120)
{
	struct xm_sim_impair im = { .delay_ns = DELAY, .reorder_ppm = 100000,
				    .reorder_ns = 3 * MS };
	struct xm_tcp_stats sa, sb;

	transfer_on(130, 100ull * MB, &im, 0, NULL, 9000, false, &sa, &sb);
	/* RFC 2883: with nothing lost or duplicated, A recognises every
	 * D-SACK B sends, also in an ACK that a later one overtook; only
	 * PAWS (RFC 7323 5, as Linux) drops an overtaken ACK whose
	 * timestamp is older and that is not a duplicate of the latest. */
	cr_assert_gt(sb.dsacks_out, 0, "the reordering made spurious retransmissions");
	cr_assert_leq(sa.dsacks_in, sb.dsacks_out);
	cr_assert_geq(sa.dsacks_in + sa.paws_drops, sb.dsacks_out,
		      "seed 130: A got %lu of B's %lu D-SACKs, PAWS dropped %lu ACKs",
		      (unsigned long)sa.dsacks_in, (unsigned long)sb.dsacks_out,
		      (unsigned long)sa.paws_drops);
}

Test(tcp_sim, reordered_data_every_dsack_sent_is_recognised, .timeout = 120)
{
	/* RFC 2883 4: every duplicate B gets (spurious retransmissions of
	 * data the link reordered) reaches A as a D-SACK A recognises, the
	 * duplicates above RCV.NXT included; B's ACKs go in order. */
	struct xm_sim_impair ia = { .delay_ns = DELAY, .reorder_ppm = 100000,
				    .reorder_ns = 3 * MS };
	struct xm_sim_impair ib = { .delay_ns = DELAY };
	struct xm_tcp_stats sa, sb;

	transfer_ab(131, 100ull * MB, &ia, &ib, 0, NULL, 9000, false, &sa, &sb);
	cr_assert_gt(sb.dsacks_out, 0, "the reordering made spurious retransmissions");
	/* A tenth of the window delayed leaves more holes than a small
	 * range table holds: B keeps all that came (as Linux), so nothing
	 * was lost and every retransmission was a duplicate B reported. */
	cr_assert_eq(sb.mem_drops, 0, "seed 131: B dropped %lu segments it had room for",
		     (unsigned long)sb.mem_drops);
	cr_assert_leq(sa.retrans_segs, sb.dsacks_out, "seed 131: A resent %lu, B got %lu twice",
		      (unsigned long)sa.retrans_segs, (unsigned long)sb.dsacks_out);
	cr_assert_eq(sa.dsacks_in, sb.dsacks_out, "seed 131: A got %lu of B's %lu D-SACKs",
		     (unsigned long)sa.dsacks_in, (unsigned long)sb.dsacks_out);
}

Test(tcp_sim, duplication_100mb, .timeout = 120)
{
	struct xm_sim_impair im = { .delay_ns = DELAY, .dup_ppm = 50000 };

	transfer(140, 100ull * MB, &im, 0, NULL);
}

Test(tcp_sim, corruption_100mb, .timeout = 120)
{
	struct xm_sim_impair im = { .delay_ns = DELAY, .corrupt_ppm = 20000 };

	transfer(150, 100ull * MB, &im, 0, NULL);
}

Test(tcp_sim, everything_at_once_newreno_100mb, .timeout = 120)
{
	struct xm_sim_impair im = { .delay_ns = DELAY, .loss_ppm = 20000,
				    .dup_ppm = 10000, .reorder_ppm = 20000,
				    .reorder_ns = 2 * MS, .corrupt_ppm = 5000 };

	transfer(160, 100ull * MB, &im, 0, "reno");
}

/* ISNs 1 MB below 2^32 on both sides: sequence and ACK numbers wrap
 * early in the transfer (100 MB wraps nothing otherwise). */
Test(tcp_sim, sequence_wrap_100mb_with_loss, .timeout = 120)
{
	struct xm_sim_impair im = { .delay_ns = DELAY, .loss_ppm = 10000 };

	transfer(170, 100ull * MB, &im, (uint32_t)(0u - 1u * MB), NULL);
}

/* Segmentation offload (link.h tx_gso): the sender hands the link
 * super-segments of up to 64 KB, which the sim cuts into MTU frames as
 * the kernel's GSO would; the stream arrives identical, in at least as
 * many segments as one MSS each takes. */
#define SEG1500 1448u   /* payload of a 1500-byte frame with timestamps */

Test(tcp_sim, tso_bulk_leaves_as_super_segments_cut_to_one_mss, .timeout = 120)
{
	struct xm_sim_impair im = { .delay_ns = DELAY };
	struct xm_tcp_stats sa, sb;
	uint64_t total = 20ull * MB;

	transfer_on(180, total, &im, 0, NULL, 1500, false, &sa, &sb);
	cr_assert_gt(sa.tso_sends, 0, "no super-segment was sent");
	cr_assert_geq(sa.tso_segs, 2 * sa.tso_sends, "each carries two segments or more");
	cr_assert_geq(sb.segs_in, total / SEG1500, "B got %lu segments for %lu bytes",
		      (unsigned long)sb.segs_in, (unsigned long)total);
	cr_assert_geq(sa.segs_out, total / SEG1500);
	cr_assert_eq(sa.retrans_segs, 0);
}

Test(tcp_sim, tso_bulk_with_loss_arrives_identical, .timeout = 120)
{
	struct xm_sim_impair im = { .delay_ns = DELAY, .loss_ppm = 10000,
				    .reorder_ppm = 10000, .reorder_ns = MS };
	struct xm_tcp_stats sa;

	transfer_on(181, 20ull * MB, &im, 0, NULL, 1500, false, &sa, NULL);
	cr_assert_gt(sa.tso_sends, 0);
	cr_assert_gt(sa.retrans_segs, 0, "the loss was repaired");
	cr_assert_eq(sa.rto_fires, 0, "by RACK, segment by segment: no timeout");
}

Test(tcp_sim, tso_off_without_link_offload_sends_frames_of_one_mss, .timeout = 120)
{
	struct xm_sim_impair im = { .delay_ns = DELAY };
	struct xm_tcp_stats sa;

	transfer_on(182, 4ull * MB, &im, 0, NULL, 1500, true, &sa, NULL);
	cr_assert_eq(sa.tso_sends, 0);
	cr_assert_eq(sa.tso_segs, 0);
}

Test(tcp_sim, tso_off_with_xdpmux_tso_0_in_the_environment, .timeout = 120)
{
	struct xm_sim_impair im = { .delay_ns = DELAY };
	struct xm_tcp_stats sa;

	cr_assert_eq(setenv("XDPMUX_TSO", "0", 1), 0);
	transfer_on(183, 4ull * MB, &im, 0, NULL, 1500, false, &sa, NULL);
	cr_assert_eq(sa.tso_sends, 0);
}
