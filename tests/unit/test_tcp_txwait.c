// SPDX-License-Identifier: MIT
/*
 * A TCP sender short of tx frames, not of window: every frame is out, every
 * segment already ACKed, and the frames complete later (a veth receiver
 * frees one only when its reader has read it; a client of the device
 * daemon gets its completions only when the daemon looks). No ACK and no
 * fd tells it the frames are back, so it must look again itself rather
 * than sleep until a timer of its own (persist, RTO: 200 ms at least).
 */
#include "tcp_pair.h"

#define MS 1000000ull
#define LATE_NS (5 * MS)        /* a frame completes this long after it left */
#define BYTES (4u << 20)
#define BUF (4u << 20)

struct bulk {
	struct pair *p;
	int c, s;
	uint64_t sent, got;
};

static bool moved_all(void *ctx)
{
	static uint8_t buf[65536];
	struct bulk *b = ctx;
	ssize_t n;

	while (b->sent < BYTES) {
		uint64_t want = BYTES - b->sent;

		n = xm_send(b->c, buf, want < sizeof(buf) ? want : sizeof(buf), MSG_DONTWAIT);
		if (n <= 0)
			break;
		b->sent += (uint64_t)n;
	}
	while ((n = xm_recv(b->s, buf, sizeof(buf), MSG_DONTWAIT)) > 0)
		b->got += (uint64_t)n;
	return b->got == BYTES;
}

Test(tcp_txwait, sender_short_of_frames_sends_again_once_they_complete, .timeout = 60)
{
	struct xm_sim_impair late = { .tx_done_ns = LATE_NS };
	struct pair p;
	struct bulk b = { .p = &p };
	int l;

	pair_open_gso(&p, 11, 1500, NULL, NULL, true);
	/* Send buffer and window larger than the link's frames: frames run
	 * out first (the window scale is chosen at the handshake). */
	p.a->opts.sndbuf_default = p.b->opts.rcvbuf_default = BUF;
	l = pair_connect(&p, AF_INET, 8080, &b.c, &b.s);
	xm_link_sim_set_impair(p.la, &late);
	/* 512 frames of one MSS each, back 5 ms after they leave: 4 MB
	 * needs several refills, and takes tens of ms of virtual time when
	 * the sender looks again as frames come back; a persist timer
	 * would not fire even once before 200 ms. */
	cr_assert(pair_run_until(&p, XM_TCP_PERSIST_MIN_US * 1000ull, moved_all, &b),
		  "%lu of %u bytes before a persist timer could fire",
		  (unsigned long)b.got, BYTES);
	cr_assert_eq(p.a->tcp->stats.rto_fires, 0);
	cr_assert_eq(p.a->tcp->stats.retrans_segs, 0);
	late.tx_done_ns = 0;
	xm_link_sim_set_impair(p.la, &late);
	pair_finish(&p, b.c, b.s, l);
}

/* Frames a receiver never frees (its reader stopped): the sender keeps
 * looking, but ever less often, not every XM_TX_RETRY_NS for as long as
 * the frames stay out. */
Test(tcp_txwait, sender_looks_ever_less_often_while_frames_stay_out, .timeout = 60)
{
	struct xm_sim_impair held = { .tx_done_ns = UINT64_MAX };
	struct pair p;
	struct bulk b = { .p = &p };
	uint64_t before, looks;
	int l;

	pair_open_gso(&p, 12, 1500, NULL, NULL, true);
	p.a->opts.sndbuf_default = p.b->opts.rcvbuf_default = BUF;
	l = pair_connect(&p, AF_INET, 8080, &b.c, &b.s);
	xm_link_sim_set_impair(p.la, &held);
	/* Until every frame is out and ACKed. */
	pair_run_until(&p, 10 * MS, moved_all, &b);
	before = p.a->stats.tx_no_buffer;
	pair_run_until(&p, 100 * MS, moved_all, &b);
	looks = p.a->stats.tx_no_buffer - before;
	/* Every 50 us would be 2000 looks in 100 ms; backing off to 1.6 ms,
	 * about 65. */
	cr_assert_gt(looks, 0, "the sender stopped looking");
	cr_assert_lt(looks, 200, "%lu looks in 100 ms", (unsigned long)looks);
	held.tx_done_ns = 0;
	xm_link_sim_set_impair(p.la, &held);
	cr_assert(pair_run_until(&p, XM_TCP_PERSIST_MIN_US * 1000ull, moved_all, &b));
	pair_finish(&p, b.c, b.s, l);
}
