// SPDX-License-Identifier: MIT
/*
 * udp_gen: a fast UDP sender on an AF_XDP socket, for the receive-rate
 * benchmark. It builds one frame (addresses, next hop and MACs from the
 * kernel over rtnetlink, exactly as the runtime does) and transmits copies of
 * it as fast as the tx ring drains, for a fixed time.
 *
 *   udp_gen DEV DST_ADDR PORT [--size BYTES] [--seconds S] [--flows N]
 *           [--xdp-live [--rate PPS]]
 *
 * BYTES is the UDP payload (default 64). --flows N cycles the source port
 * over N values so a multi-queue receiver could spread them (default 1).
 * Prints "sent N packets in S s: P pps". Needs no XDP program on DEV (tx
 * only); in copy mode every sendto() transmits a batch through the kernel.
 *
 * --xdp-live sends without AF_XDP and without an skb per packet: an XDP
 * program returning XDP_TX (bpf/gen_pace.bpf.c) runs through
 * BPF_PROG_TEST_RUN in live-frames mode (BPF_F_TEST_XDP_LIVE_FRAMES, Linux
 * 5.18) with DEV as the ingress device, so every copy of the frame leaves
 * DEV through its ndo_xdp_xmit. On veth that hands xdp_frames straight to
 * the peer's NAPI, which needs XDP (native) on the peer; a frame the peer
 * cannot take is dropped by veth and counted in DEV's tx drops, so the
 * count printed is what was offered, and the receiver's own count is the
 * figure. This is several times faster than copy-mode AF_XDP, whose
 * sendto() builds an skb per frame, so the receiver rather than the sender
 * becomes the limit. --rate paces it: the program holds each frame until
 * it is due (without it, frames go out in bursts as fast as the loop runs).
 */
#include <arpa/inet.h>
#include <bpf/bpf.h>
#include <linux/bpf.h>
#include <errno.h>
#include <getopt.h>
#include <net/if.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "../user/lib/link/netlink.h"
#include "../user/lib/link/umem.h"
#include "../user/lib/net/net.h"
#include "gen_pace.skel.h"

#define BATCH 64

static uint64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

static int die(const char *what, int err)
{
	fprintf(stderr, "udp_gen: %s: %s\n", what, strerror(err < 0 ? -err : err));
	return 1;
}

static void put16(uint8_t *p, uint16_t v)
{
	p[0] = (uint8_t)(v >> 8);
	p[1] = (uint8_t)v;
}

/* Ethernet + IPv4/IPv6 + UDP + payload into f; returns the frame length.
 * xm_csum_* work on big-endian 16-bit words as host integers: store with
 * put16. */
static uint32_t build_frame(uint8_t *f, int family, const uint8_t *smac,
			    const uint8_t *dmac, const uint8_t *src,
			    const uint8_t *dst, uint16_t sport, uint16_t dport,
			    uint32_t payload)
{
	struct xm_ipinfo ip = { .family = family, .proto = IPPROTO_UDP };
	uint32_t l3 = family == AF_INET ? XM_IPV4_HLEN : XM_IPV6_HLEN;
	uint32_t ulen = 8 + payload, i;
	uint8_t *iph = f + XM_ETH_HLEN, *udp = iph + l3;
	uint16_t c;

	memcpy(f, dmac, 6);
	memcpy(f + 6, smac, 6);
	put16(f + 12, family == AF_INET ? XM_ETH_P_IP : XM_ETH_P_IPV6);
	memset(iph, 0, l3);
	if (family == AF_INET) {
		iph[0] = 0x45;
		put16(iph + 2, (uint16_t)(l3 + ulen));
		iph[6] = 0x40; /* DF */
		iph[8] = 64;
		iph[9] = IPPROTO_UDP;
		memcpy(iph + 12, src, 4);
		memcpy(iph + 16, dst, 4);
		put16(iph + 10, xm_csum_fold(xm_csum_add(0, iph, l3)));
	} else {
		iph[0] = 0x60;
		put16(iph + 4, (uint16_t)ulen);
		iph[6] = IPPROTO_UDP;
		iph[7] = 64;
		memcpy(iph + 8, src, 16);
		memcpy(iph + 24, dst, 16);
	}
	put16(udp, sport);
	put16(udp + 2, dport);
	put16(udp + 4, (uint16_t)ulen);
	udp[6] = udp[7] = 0;
	for (i = 0; i < payload; i++)
		udp[8 + i] = (uint8_t)('a' + i % 26);
	memcpy(ip.src, src, xm_addr_len(family));
	memcpy(ip.dst, dst, xm_addr_len(family));
	c = xm_csum_fold(xm_csum_add(xm_csum_pseudo(&ip, ulen), udp, ulen));
	if (!c)
		c = 0xffff; /* RFC 768: a computed zero is sent as all ones */
	put16(udp + 6, c);
	return XM_ETH_HLEN + l3 + ulen;
}

/* --xdp-live: offer copies of the frames for `seconds`, at `rate` frames a
 * second (0: as fast as the loop runs); returns how many were offered or
 * -errno. bpf/gen_pace.bpf.c transmits each frame or drops it unoffered. */
static int64_t send_live(int ifindex, uint8_t (*tmpl)[1536], const uint32_t *len,
			 uint32_t flows, double seconds, double rate,
			 uint64_t *elapsed_ns)
{
	uint64_t t0 = now_ns(), t_end = t0 + (uint64_t)(seconds * 1e9), t;
	struct gen_pace *skel = gen_pace__open_and_load();
	uint32_t fi = 0;
	int64_t sent;
	int prog;

	if (!skel)
		return -errno;
	skel->bss->interval_ns = rate > 0 ? (uint64_t)(1e9 / rate) : 0;
	prog = bpf_program__fd(skel->progs.xm_gen_pace);
	do {
		struct xdp_md ctx = { .data_end = len[fi],
				      .ingress_ifindex = (uint32_t)ifindex };
		/* Each call sets the kernel's XDP dispatcher up and back, which
		 * costs far more than a frame: paced calls hold a few ms of
		 * frames at the rates measured here. */
		LIBBPF_OPTS(bpf_test_run_opts, o,
			    .data_in = tmpl[fi], .data_size_in = len[fi],
			    .ctx_in = &ctx, .ctx_size_in = sizeof(ctx),
			    .repeat = 1 << 14, .batch_size = 64,
			    .flags = BPF_F_TEST_XDP_LIVE_FRAMES);

		if (bpf_prog_test_run_opts(prog, &o)) {
			int err = -errno;

			gen_pace__destroy(skel);
			return err;
		}
		fi = (fi + 1) % flows;
		t = now_ns();
	} while (t < t_end);
	sent = (int64_t)skel->bss->sent;
	gen_pace__destroy(skel);
	*elapsed_ns = t - t0;
	return sent;
}

int main(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "size", required_argument, NULL, 's' },
		{ "seconds", required_argument, NULL, 't' },
		{ "flows", required_argument, NULL, 'f' },
		{ "xdp-live", no_argument, NULL, 'l' },
		{ "rate", required_argument, NULL, 'r' },
		{ 0 }
	};
	uint8_t dst[16], src[16], nh[16], dmac[6];
	uint32_t payload = 64, flows = 1, len[256], fi = 0;
	double seconds = 5, rate = 0;
	struct xm_umem_cfg cfg = { .frames = 4096, .frame_size = 2048,
				   .need_wakeup = true };
	struct xm_frame_accounting acc = { 0 };
	static uint8_t tmpl[256][1536];
	struct xm_nl_link lk;
	struct xm_nl *nl;
	struct xm_umem *u;
	uint64_t sent = 0, t0, t_end, t;
	int family, ifindex, c, err, i;
	bool live = false;
	uint16_t port;

	while ((c = getopt_long(argc, argv, "", longopts, NULL)) != -1) {
		switch (c) {
		case 's': payload = (uint32_t)atoi(optarg); break;
		case 't': seconds = atof(optarg); break;
		case 'f': flows = (uint32_t)atoi(optarg); break;
		case 'l': live = true; break;
		case 'r': rate = atof(optarg); break;
		default: return 2;
		}
	}
	if (argc - optind != 3 || payload > 1400 || !flows || flows > 256 ||
	    seconds <= 0 || (rate && (rate < 1000 || !live))) {
		fprintf(stderr, "usage: udp_gen DEV DST_ADDR PORT [--size 0-1400] "
			"[--seconds S] [--flows 1-256] [--xdp-live [--rate PPS >= 1000]]\n");
		return 2;
	}
	cfg.dev = argv[optind];
	port = (uint16_t)atoi(argv[optind + 2]);
	family = inet_pton(AF_INET, argv[optind + 1], dst) == 1 ? AF_INET :
		 inet_pton(AF_INET6, argv[optind + 1], dst) == 1 ? AF_INET6 : 0;
	if (!family || !port) {
		fprintf(stderr, "udp_gen: bad address or port\n");
		return 2;
	}
	ifindex = (int)if_nametoindex(cfg.dev);
	if (!ifindex)
		return die(cfg.dev, errno);
	err = xm_nl_open(&nl);
	if (err)
		return die("netlink", err);
	err = xm_nl_get_link(nl, ifindex, &lk);
	if (err)
		return die("link", err);
	err = xm_nl_route_get(nl, ifindex, family, dst, nh, src);
	if (err)
		return die("route", err);
	for (i = 0; i < 300; i++) {
		err = xm_nl_neigh_get(nl, ifindex, family, nh, dmac);
		if (err != -EAGAIN)
			break;
		usleep(10000);
	}
	if (err)
		return die("neighbour", err);
	xm_nl_close(nl);
	for (i = 0; i < (int)flows; i++)
		len[i] = build_frame(tmpl[i], family, lk.mac, dmac, src, dst,
				     (uint16_t)(40000 + i), port, payload);

	if (live) {
		uint64_t ns = 1;
		int64_t n = send_live(ifindex, tmpl, len, flows, seconds, rate, &ns);

		if (n < 0)
			return die("XDP live frames (BPF_PROG_TEST_RUN)", (int)n);
		printf("sent %lld packets in %.2f s: %.0f pps (offered through XDP_TX; "
		       "drops are in %s's tx counters)\n", (long long)n,
		       (double)ns / 1e9, (double)n * 1e9 / (double)ns, cfg.dev);
		return 0;
	}

	/* Copy mode: veth and most test devices have no zero-copy support,
	 * and a generator gains nothing from it at these rates. */
	err = xm_umem_open(&cfg, &u);
	if (err)
		return die("AF_XDP socket", err);
	t0 = now_ns();
	t_end = t0 + (uint64_t)(seconds * 1e9);
	do {
		struct xm_frame f[BATCH];
		int n = xm_umem_tx_alloc(u, f, BATCH, 0);

		for (i = 0; i < n; i++) {
			memcpy(f[i].data, tmpl[fi], len[fi]);
			f[i].len = len[fi];
			if (xm_umem_tx_queue(u, &f[i]))
				sent++;
			fi = (fi + 1) % flows;
		}
		xm_umem_tx_flush(u);
		if (!n)
			xm_umem_kick(u);
		t = now_ns();
	} while (t < t_end);
	/* Let the ring drain so the count is what left. */
	for (i = 0; i < 1000 && xm_umem_tx_pending(u); i++) {
		xm_umem_kick(u);
		usleep(100);
	}
	sent -= xm_umem_tx_pending(u);
	xm_umem_accounting(u, &acc);
	printf("sent %llu packets in %.2f s: %.0f pps (frames %llu/%llu accounted)\n",
	       (unsigned long long)sent, (double)(t - t0) / 1e9,
	       (double)sent * 1e9 / (double)(t - t0),
	       (unsigned long long)xm_frame_accounting_sum(&acc),
	       (unsigned long long)acc.total);
	xm_umem_close(u);
	return 0;
}
