// SPDX-License-Identifier: MIT
/*
 * Per-packet cost of the XDP demultiplexer, next to the cheapest XDP program
 * there is (bpf/pass_only.bpf.c), both run by the kernel through
 * BPF_PROG_TEST_RUN on the same crafted frames.
 *
 *   xdp_cost [--repeat N] [--rounds R] [--case NAME]... [--object FILE]...
 *            [--xsk-dev DEV]
 *
 * Prints one tab-separated line per frame kind (and redirect_only, below):
 *   CASE  XDPMUX_NS  PASS_ONLY_NS  XDPMUX_MIN  PASS_ONLY_MIN  XDPMUX_KNS  PASS_ONLY_KNS
 * where each figure is ns per packet, the median (and minimum) over R rounds
 * of N runs each; rounds of the two programs alternate so that noise from
 * other work on the machine lands on both. The last two columns are the
 * medians of the kernel's own figure (opts.duration), see below.
 * bench/bench_xdp_cost.sh turns the lines into bench records.
 *
 * Before timing, each case is run once and its verdict and the program's
 * counters are checked, so a case measures the path it is named after (an
 * unbound udp4 frame really ends in XM_STAT_PASS, the bound one in
 * XM_STAT_FALLBACK, ...). A mismatch is an error, not a number.
 *
 * A bound packet normally meets an AF_XDP socket on its rx queue and is
 * redirected; a test run has none unless one is made. With --xsk-dev DEV,
 * an XSK is bound to queue 0 of DEV (a veth of the bench's own namespace)
 * and put in the program's xsks map for the udp4_redirect case only, so
 * that case takes the redirect path: bpf_redirect_map finds the socket and
 * the program returns XDP_REDIRECT. Outside live-frames mode the test run
 * does not carry the redirect out, so the figure is the program's own cost
 * of deciding it, as for every other case. In that case a third program is
 * timed in the same rounds, bpf/redirect_only.bpf.c, which calls
 * bpf_redirect_map and does nothing else, and printed as the row
 * `redirect_only`: the least any program that steers into AF_XDP costs,
 * since the helper is a real call that no such program avoids.
 *
 * ns/packet: the kernel times the N runs itself and reports opts.duration,
 * the time per run truncated to whole ns, leaving out the moments it yields
 * the CPU (cond_resched). That figure is robust to other work on the machine
 * but too coarse for a ratio: the pass-only program runs in 5-7 ns on some
 * hosts (21 on others), so the truncation alone moves a ratio by up to 20%.
 * The CPU time this thread spent in the syscall (CLOCK_THREAD_CPUTIME_ID)
 * over N is exact to fractions of a ns once the syscall's fixed cost is
 * taken out: for N > 1 the kernel swaps the program into the XDP
 * dispatcher before the runs and out after them, which costs 0.3-0.6 ms of
 * CPU a call here: 0.3-0.6 ns a packet at N = 1,000,000, 3-6 ns at 100,000. That cost is measured per
 * program as the median CPU time of calls with N = 2 and subtracted. Left
 * in, it added the same amount to both programs and pulled every ratio
 * towards 1 (in one comparison udp4 read 1.43 at N = 1,000,000, where the
 * slope between N = 100,000 and 10,000,000 gave 1.53).
 * The remainder lands inside [duration, duration + 1) on a quiet machine;
 * under load it also absorbs interrupts and scheduling, by several ns. So
 * each round's figure is that remainder clamped to the interval: the
 * kernel's robust figure, refined by the CPU clock. (The wall clock is no
 * use here: it counts the time other processes held the CPU, which tripled
 * some figures under load.)
 *
 * Both figures include the test-run loop's own per-packet work (bh
 * disable/enable, context setup), a few ns that the pass-only program
 * consists of almost entirely; the ratio is therefore the demultiplexer's
 * cost per packet relative to the least any XDP program costs here.
 */
#include <errno.h>
#include <getopt.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <arpa/inet.h>
#include <linux/bpf.h>
#include <linux/if_ether.h>
#include <netinet/in.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include <xdpmux/control.h>
#include <xdpmux/maps.h>
#include "../user/lib/link/umem.h"
#include "pass_only.skel.h"
#include "redirect_only.skel.h"
#include "xdpmux.skel.h"

#define PORT_UNBOUND 9000
#define PORT_BOUND   7000
#define FRAME_MAX    256
#define PAYLOAD_LEN  22     /* makes the plain udp4 frame 64 bytes */

/* ---- a small frame builder: just enough for the cases below ---- */

struct frame {
	uint8_t b[FRAME_MAX];
	size_t len;
};

static void *put(struct frame *f, const void *src, size_t n)
{
	void *at = f->b + f->len;

	memcpy(at, src, n);
	f->len += n;
	return at;
}

static void put_be16(struct frame *f, uint16_t v)
{
	v = htons(v);
	put(f, &v, 2);
}

static void put_eth(struct frame *f, uint16_t ethertype, int vlans)
{
	static const uint8_t dst[6] = { 0x02, 0, 0, 0, 0, 0x02 };
	static const uint8_t src[6] = { 0x02, 0, 0, 0, 0, 0x01 };
	int i;

	put(f, dst, 6);
	put(f, src, 6);
	for (i = 0; i < vlans; i++) {
		/* 802.1ad outer tag first when there are two (IEEE 802.1Q-2018 6.9). */
		put_be16(f, vlans == 2 && i == 0 ? 0x88A8 : 0x8100);
		put_be16(f, 100 + i);   /* TCI: VLAN id, priority 0 */
	}
	put_be16(f, ethertype);
}

/* RFC 1071 one's complement sum, for the IPv4 header checksum. */
static uint16_t csum(const void *p, size_t n)
{
	const uint8_t *b = p;
	uint32_t s = 0;
	size_t i;

	for (i = 0; i + 1 < n; i += 2)
		s += (uint32_t)b[i] << 8 | b[i + 1];
	if (n & 1)
		s += (uint32_t)b[n - 1] << 8;
	while (s >> 16)
		s = (s & 0xffff) + (s >> 16);
	return htons((uint16_t)~s);
}

/* frag_off is the host-order flags+offset field (RFC 791 3.1). */
static void put_ipv4(struct frame *f, uint8_t proto, size_t l4_len, uint16_t frag_off)
{
	uint8_t h[20] = { 0x45, 0 };
	uint16_t v;

	v = htons((uint16_t)(20 + l4_len)); memcpy(h + 2, &v, 2);
	v = htons(0x1234);                  memcpy(h + 4, &v, 2);
	v = htons(frag_off);                memcpy(h + 6, &v, 2);
	h[8] = 64;
	h[9] = proto;
	memcpy(h + 12, (uint8_t[]){ 198, 18, 0, 1 }, 4);
	memcpy(h + 16, (uint8_t[]){ 198, 18, 0, 2 }, 4);
	v = csum(h, sizeof(h));             memcpy(h + 10, &v, 2);
	put(f, h, sizeof(h));
}

static void put_ipv6(struct frame *f, uint8_t proto, size_t l4_len)
{
	uint8_t h[40] = { 0x60, 0 };
	uint16_t v = htons((uint16_t)l4_len);

	memcpy(h + 4, &v, 2);
	h[6] = proto;
	h[7] = 64;
	inet_pton(AF_INET6, "2001:db8::1", h + 8);
	inet_pton(AF_INET6, "2001:db8::2", h + 24);
	put(f, h, sizeof(h));
}

/* The checksums of the L4 headers stay zero: the XDP program never reads
 * them, and the kernel's stack never sees these frames (test run only). */
static void put_udp(struct frame *f, uint16_t dport, size_t payload)
{
	uint8_t zero[PAYLOAD_LEN + 64] = { 0 };

	put_be16(f, 40000);
	put_be16(f, dport);
	put_be16(f, (uint16_t)(8 + payload));
	put_be16(f, 0);
	put(f, zero, payload);
}

static void put_tcp(struct frame *f, uint16_t dport, size_t payload)
{
	uint8_t h[20] = { 0 };
	uint8_t zero[PAYLOAD_LEN + 64] = { 0 };
	uint16_t v;

	v = htons(40000); memcpy(h, &v, 2);
	v = htons(dport); memcpy(h + 2, &v, 2);
	h[12] = 5 << 4;           /* data offset: 5 words, no options */
	h[13] = 0x10;             /* ACK */
	v = htons(512);   memcpy(h + 14, &v, 2);
	put(f, h, sizeof(h));
	put(f, zero, payload);
}

/* ---- the cases ---- */

enum kind { UDP4, TCP4, UDP6, TCP6, VLAN_UDP4, FRAG4_FIRST, FRAG4_LATER, FRAG6_LATER };

struct bench_case {
	const char *name;
	enum kind kind;
	uint16_t dport;
	enum xm_stat expect;   /* counter the xdpmux run must bump */
	const char *prime;     /* case run once before, to set up state */
	bool xsk;              /* an XSK on the queue: XDP_REDIRECT, not XDP_PASS */
};

static const struct bench_case cases[] = {
	{ "udp4",        UDP4,        PORT_UNBOUND, XM_STAT_PASS, NULL, false },
	{ "tcp4",        TCP4,        PORT_UNBOUND, XM_STAT_PASS, NULL, false },
	{ "udp6",        UDP6,        PORT_UNBOUND, XM_STAT_PASS, NULL, false },
	{ "tcp6",        TCP6,        PORT_UNBOUND, XM_STAT_PASS, NULL, false },
	/* Binding present, no AF_XDP socket on the queue: the fallback path. */
	{ "udp4_bound",  UDP4,        PORT_BOUND,   XM_STAT_FALLBACK, NULL, false },
	/* Binding present and its socket on the queue (needs --xsk-dev). */
	{ "udp4_redirect", UDP4,      PORT_BOUND,   XM_STAT_REDIRECT, NULL, true },
	{ "vlan_udp4",   VLAN_UDP4,   PORT_UNBOUND, XM_STAT_PASS, NULL, false },
	/* A later fragment with no first fragment seen: frags lookup misses. */
	{ "frag4",       FRAG4_LATER, PORT_UNBOUND, XM_STAT_FRAG_ORPHAN, NULL, false },
	/* A later fragment of a bound datagram: frags4 hit, its wildcard
	 * binding in port_index, fallback. */
	{ "frag4_bound", FRAG4_LATER, PORT_BOUND,   XM_STAT_FRAG_FOLLOW, "frag4_first_bound", false },
	/* The same for IPv6: frags6 lookup misses. */
	{ "frag6",       FRAG6_LATER, PORT_UNBOUND, XM_STAT_FRAG_ORPHAN, NULL, false },
	/* Only used to prime frag4_bound; never timed. */
	{ "frag4_first_bound", FRAG4_FIRST, PORT_BOUND, XM_STAT_FALLBACK, NULL, false },
};
#define N_CASES (sizeof(cases) / sizeof(cases[0]))

static void build_frame(const struct bench_case *c, struct frame *f)
{
	size_t udp_len = 8 + PAYLOAD_LEN, tcp_len = 20 + PAYLOAD_LEN;

	f->len = 0;
	switch (c->kind) {
	case UDP4:
		put_eth(f, ETH_P_IP, 0);
		put_ipv4(f, IPPROTO_UDP, udp_len, 0);
		put_udp(f, c->dport, PAYLOAD_LEN);
		break;
	case TCP4:
		put_eth(f, ETH_P_IP, 0);
		put_ipv4(f, IPPROTO_TCP, tcp_len, 0);
		put_tcp(f, c->dport, PAYLOAD_LEN);
		break;
	case UDP6:
		put_eth(f, ETH_P_IPV6, 0);
		put_ipv6(f, IPPROTO_UDP, udp_len);
		put_udp(f, c->dport, PAYLOAD_LEN);
		break;
	case TCP6:
		put_eth(f, ETH_P_IPV6, 0);
		put_ipv6(f, IPPROTO_TCP, tcp_len);
		put_tcp(f, c->dport, PAYLOAD_LEN);
		break;
	case VLAN_UDP4:
		put_eth(f, ETH_P_IP, 1);
		put_ipv4(f, IPPROTO_UDP, udp_len, 0);
		put_udp(f, c->dport, PAYLOAD_LEN);
		break;
	case FRAG4_FIRST:
		/* MF set, offset 0, 24 bytes (a multiple of 8, RFC 791): the UDP
		 * header, whose length covers the whole datagram. */
		put_eth(f, ETH_P_IP, 0);
		put_ipv4(f, IPPROTO_UDP, 24, 0x2000);
		put_be16(f, 40000);
		put_be16(f, c->dport);
		put_be16(f, 24 + PAYLOAD_LEN);
		put_be16(f, 0);
		put(f, (uint8_t[16]){ 0 }, 16);
		break;
	case FRAG4_LATER: {
		/* The last fragment, at offset 24 bytes (3 units of 8): no ports. */
		uint8_t zero[PAYLOAD_LEN] = { 0 };

		put_eth(f, ETH_P_IP, 0);
		put_ipv4(f, IPPROTO_UDP, PAYLOAD_LEN, 3);
		put(f, zero, PAYLOAD_LEN);
		break;
	}
	case FRAG6_LATER: {
		/* The same after a Fragment header (RFC 8200 4.5): next header
		 * UDP, offset 3 units of 8, M clear, identification 0x1234. */
		uint8_t zero[PAYLOAD_LEN] = { 0 };
		uint8_t fh[8] = { IPPROTO_UDP, 0, 0, 3 << 3, 0, 0, 0x12, 0x34 };

		put_eth(f, ETH_P_IPV6, 0);
		put_ipv6(f, IPPROTO_FRAGMENT, sizeof(fh) + PAYLOAD_LEN);
		put(f, fh, sizeof(fh));
		put(f, zero, PAYLOAD_LEN);
		break;
	}
	}
}

static const struct bench_case *case_find(const char *name)
{
	size_t i;

	for (i = 0; i < N_CASES; i++)
		if (!strcmp(cases[i].name, name))
			return &cases[i];
	return NULL;
}

/* ---- running ---- */

__attribute__((noreturn, format(printf, 1, 2)))
static void die(const char *fmt, ...)
{
	va_list ap;

	fputs("xdp_cost: ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	exit(1);
}

static int map_fd(struct bpf_object *obj, const char *name, bool required)
{
	struct bpf_map *m = bpf_object__find_map_by_name(obj, name);

	if (!m && required)
		die("the program has no map '%s'", name);
	return m ? bpf_map__fd(m) : -1;
}

static double clock_ns(clockid_t which)
{
	struct timespec ts;

	clock_gettime(which, &ts);
	return ts.tv_sec * 1e9 + ts.tv_nsec;
}

/* One timed BPF_PROG_TEST_RUN: ns per run (see the top of this file), and
 * the kernel's own whole-ns figure. */
struct timing {
	double ns;
	double kernel_ns;
};

/* One BPF_PROG_TEST_RUN of `repeat` runs of the frame; t may be NULL.
 * fixed_ns: the call's fixed CPU cost for this program (fixed_cost()). */
static void test_run_timed(int prog_fd, const struct frame *f, uint32_t repeat,
			   double fixed_ns, uint32_t *retval, struct timing *t)
{
	uint8_t out[FRAME_MAX];
	LIBBPF_OPTS(bpf_test_run_opts, opts,
		.data_in = f->b,
		.data_size_in = (uint32_t)f->len,
		.data_out = out,
		.data_size_out = sizeof(out),
		.repeat = repeat,
	);
	double t0, t1;
	int err;

	t0 = clock_ns(CLOCK_THREAD_CPUTIME_ID);
	err = bpf_prog_test_run_opts(prog_fd, &opts);
	t1 = clock_ns(CLOCK_THREAD_CPUTIME_ID);
	if (err)
		die("BPF_PROG_TEST_RUN (repeat %u): %s", repeat, strerror(-err));
	if (retval)
		*retval = opts.retval;
	if (t) {
		double cpu = (t1 - t0 - fixed_ns) / repeat, lo = opts.duration;

		t->ns = cpu < lo ? lo : cpu > lo + 1 ? lo + 1 : cpu;
		t->kernel_ns = lo;
	}
}

static void test_run(int prog_fd, const struct frame *f, uint32_t repeat,
		     uint32_t *retval)
{
	test_run_timed(prog_fd, f, repeat, 0, retval, NULL);
}

static uint64_t stat_packets(struct xm_ctl *ctl, enum xm_stat which)
{
	struct xm_stat_val v[XM_STAT_MAX];
	int err = xm_ctl_stats(ctl, v);

	if (err)
		die("reading the stats map: %s", strerror(-err));
	return v[which].packets;
}

/* Run the case once on the demultiplexer and check that it took the path it
 * is named after: XDP_REDIRECT for a case with an XSK, else XDP_PASS (every
 * case's binding falls back to pass), with `expect` counted in the counters
 * ctl reads. An --object variant may have dropped counters, so there (ctl
 * NULL) only the verdict is checked. */
static void check_path(int prog_fd, struct xm_ctl *ctl, const struct bench_case *c)
{
	uint32_t ret, want = c->xsk ? XDP_REDIRECT : XDP_PASS;
	uint64_t before, after;
	struct frame f;

	build_frame(c, &f);
	before = ctl ? stat_packets(ctl, c->expect) : 0;
	test_run(prog_fd, &f, 1, &ret);
	after = ctl ? stat_packets(ctl, c->expect) : 1;
	if (ret != want)
		die("case %s: verdict %u, expected %u", c->name, ret, want);
	if (after != before + 1)
		die("case %s: the program did not count %s (counter %llu -> %llu): it "
		    "took another path than the one this case measures", c->name,
		    c->expect == XM_STAT_PASS ? "a pass" : "the expected reason",
		    (unsigned long long)before, (unsigned long long)after);
}

/* The control library on the maps of a demultiplexer object. */
static struct xm_ctl *ctl_of(struct bpf_object *obj)
{
	struct xm_ctl_maps maps = {
		.bindings = map_fd(obj, XM_MAP_BINDINGS, true),
		.binding_stats = map_fd(obj, XM_MAP_BINDING_STATS, true),
		.port_index = map_fd(obj, XM_SEC_PORT_INDEX, true),
		.xsks = map_fd(obj, XM_MAP_XSKS, true),
		.stats = map_fd(obj, XM_MAP_STATS, true),
	};
	struct xm_ctl *ctl;
	int err = xm_ctl_open_maps(&maps, &ctl);

	if (err)
		die("opening the program's maps: %s", strerror(-err));
	return ctl;
}

/* The binding a CLI `bind ... udp PORT_BOUND --fallback pass` makes,
 * written by the control library itself. */
static void bind_udp_port(struct xm_ctl *ctl, uint16_t port)
{
	struct xm_binding_key key = { .proto = IPPROTO_UDP, .family = XM_FAMILY_ANY,
				      .port = htons(port) };
	struct xm_binding_val val = { .fallback = XM_FALLBACK_PASS };
	int err = xm_ctl_bind_value(ctl, &key, &val);

	if (err)
		die("writing the binding for udp/%u: %s", port, strerror(-err));
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return (x > y) - (x < y);
}

/* About 200 ms of busy work first, so the CPU has left its idle clock
 * before the first case is timed (the first case otherwise reads high). */
static void warm_up(int prog_fd)
{
	struct frame f;
	double t0 = clock_ns(CLOCK_MONOTONIC);

	build_frame(&cases[0], &f);
	while (clock_ns(CLOCK_MONOTONIC) - t0 < 200e6)
		test_run(prog_fd, &f, 100000, NULL);
}

/* Sorts v. */
static double median(double *v, size_t n)
{
	qsort(v, n, sizeof(*v), cmp_double);
	return (v[(n - 1) / 2] + v[n / 2]) / 2;
}

/* The CPU time of a BPF_PROG_TEST_RUN call beyond its runs (the XDP
 * dispatcher swap, made for every call with repeat > 1): the median of
 * calls with repeat 2, whose two runs cost a few ns of it. */
static double fixed_cost(int prog_fd)
{
	double v[21];
	struct frame f;
	size_t i;

	build_frame(&cases[0], &f);
	for (i = 0; i < sizeof(v) / sizeof(v[0]); i++) {
		double t0 = clock_ns(CLOCK_THREAD_CPUTIME_ID);

		test_run(prog_fd, &f, 2, NULL);
		v[i] = clock_ns(CLOCK_THREAD_CPUTIME_ID) - t0;
	}
	return median(v, sizeof(v) / sizeof(v[0]));
}

static void usage(FILE *to, int rc)
{
	size_t i;

	fprintf(to, "usage: xdp_cost [--repeat N] [--rounds R] [--case NAME]...\n"
		"  --repeat N   runs per BPF_PROG_TEST_RUN (default 1000000)\n"
		"  --rounds R   timed rounds per program; the median is reported (default 5)\n"
		"  --object F   time the first program of BPF object F instead of the\n"
		"               built demultiplexer (to compare variants of it; up to\n"
		"               8, timed in turns, rows named CASE@FILE; their\n"
		"               counters are not checked, only verdicts)\n"
		"  --xsk-dev D  bind an AF_XDP socket to queue 0 of device D, for the\n"
		"               udp4_redirect case (skipped without it), which also\n"
		"               times bpf_redirect_map alone (row redirect_only)\n"
		"  --case NAME  only this case (repeatable); cases:");
	for (i = 0; i < N_CASES; i++)
		if (strcmp(cases[i].name, "frag4_first_bound"))
			fprintf(to, " %s", cases[i].name);
	fputc('\n', to);
	exit(rc);
}

/* A program timed against the pass-only one: the built demultiplexer, or
 * the first program of an --object file. */
struct subject {
	const char *label;         /* NULL for the built demultiplexer */
	const char *row;           /* non-NULL: times only cases with an XSK,
	                            * printed as this row (the redirect floor) */
	struct bpf_object *obj;
	int prog_fd;
	struct xm_ctl *ctl;        /* on its maps; NULL for the floor */
	int xsks_fd;
	double fixed_ns;           /* fixed_cost() */
	double *cpu, *kern;        /* per round */
};

/* Whether s takes part in case c: the floor only where there is an XSK. */
static bool subject_times(const struct subject *s, const struct bench_case *c)
{
	return !s->row || c->xsk;
}

/* The counters to check s's paths with: only the built demultiplexer's, as
 * an --object variant may have dropped some (and the floor has none). */
static struct xm_ctl *subject_counters(const struct subject *s)
{
	return s->label ? NULL : s->ctl;
}

static void subject_open_object(struct subject *s, const char *path)
{
	struct bpf_program *prog;
	const char *base = strrchr(path, '/');

	s->obj = bpf_object__open_file(path, NULL);
	if (!s->obj)
		die("opening %s: %s", path, strerror(errno));
	if (bpf_object__load(s->obj))
		die("loading %s: %s", path, strerror(errno));
	prog = bpf_object__next_program(s->obj, NULL);
	if (!prog)
		die("%s holds no program", path);
	s->prog_fd = bpf_program__fd(prog);
	s->xsks_fd = map_fd(s->obj, XM_MAP_XSKS, true);
	s->label = base ? base + 1 : path;
}

static void print_row(const char *name, const char *label, double *cpu,
		      double *kern, double *pcpu, double *pkern, unsigned long rounds)
{
	double min = cpu[0], pmin = pcpu[0];
	unsigned long r;

	for (r = 1; r < rounds; r++) {
		if (cpu[r] < min)
			min = cpu[r];
		if (pcpu[r] < pmin)
			pmin = pcpu[r];
	}
	printf("%s%s%s\t%.2f\t%.2f\t%.2f\t%.2f\t%.1f\t%.1f\n", name,
	       label ? "@" : "", label ? label : "",
	       median(cpu, rounds), median(pcpu, rounds), min, pmin,
	       median(kern, rounds), median(pkern, rounds));
}

static double *rounds_alloc(unsigned long rounds)
{
	double *v = calloc(rounds, sizeof(*v));

	if (!v)
		die("out of memory");
	return v;
}

#define MAX_OBJECTS 8

/* Put the socket (fd >= 0) in queue 0's slot of every subject's xsks map,
 * or empty the slot (fd < 0). */
static void xsk_slot(const struct subject *subj, size_t n, int fd)
{
	uint32_t zero = 0;
	size_t j;

	for (j = 0; j < n; j++)
		if (fd >= 0 ? bpf_map_update_elem(subj[j].xsks_fd, &zero, &fd, BPF_ANY) :
			      bpf_map_delete_elem(subj[j].xsks_fd, &zero))
			die("%s the AF_XDP socket in the xsks map: %s",
			    fd >= 0 ? "putting" : "removing", strerror(errno));
}

int main(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "repeat", required_argument, NULL, 'n' },
		{ "rounds", required_argument, NULL, 'r' },
		{ "case",   required_argument, NULL, 'c' },
		{ "object", required_argument, NULL, 'o' },
		{ "xsk-dev", required_argument, NULL, 'x' },
		{ "help",   no_argument,       NULL, 'h' },
		{ 0 },
	};
	const struct bench_case *only[N_CASES];
	const char *objects[MAX_OBJECTS];
	struct subject subj[MAX_OBJECTS + 1];
	size_t n_only = 0, n_obj = 0, n_subj, i, j;
	unsigned long repeat = 1000000, rounds = 5;
	struct pass_only *pass;
	struct redirect_only *floor = NULL;
	struct xdpmux *mux = NULL;
	const char *xsk_dev = NULL;
	struct xm_umem *xsk = NULL;
	double pass_fixed_ns;
	int opt, pass_fd, err;

	while ((opt = getopt_long(argc, argv, "n:r:c:o:x:h", longopts, NULL)) != -1) {
		char *end;

		switch (opt) {
		case 'n':
			repeat = strtoul(optarg, &end, 10);
			if (*end || !repeat || repeat > UINT32_MAX)
				usage(stderr, 2);
			break;
		case 'r':
			rounds = strtoul(optarg, &end, 10);
			if (*end || !rounds || rounds > 1000)
				usage(stderr, 2);
			break;
		case 'c':
			if (n_only == N_CASES)
				usage(stderr, 2);
			only[n_only] = case_find(optarg);
			if (!only[n_only]) {
				fprintf(stderr, "xdp_cost: unknown case '%s'\n", optarg);
				usage(stderr, 2);
			}
			n_only++;
			break;
		case 'o':
			if (n_obj == MAX_OBJECTS) {
				fprintf(stderr, "xdp_cost: at most %d --object\n", MAX_OBJECTS);
				usage(stderr, 2);
			}
			objects[n_obj++] = optarg;
			break;
		case 'x':
			xsk_dev = optarg;
			break;
		case 'h':
			usage(stdout, 0);
			break;
		default:
			usage(stderr, 2);
		}
	}
	if (optind != argc)
		usage(stderr, 2);

	memset(subj, 0, sizeof(subj));
	if (n_obj) {
		for (i = 0; i < n_obj; i++)
			subject_open_object(&subj[i], objects[i]);
		n_subj = n_obj;
	} else {
		mux = xdpmux__open_and_load();
		if (!mux)
			die("loading the xdpmux program: %s (needs root and a kernel "
			    "with BTF)", strerror(errno));
		subj[0].obj = mux->obj;
		subj[0].prog_fd = bpf_program__fd(mux->progs.xdpmux_demux);
		subj[0].xsks_fd = map_fd(mux->obj, XM_MAP_XSKS, true);
		n_subj = 1;
	}
	if (xsk_dev) {
		/* Only queue 0 is used: a test run's rx_queue_index is 0. The
		 * socket never receives (the test run does not redirect), so
		 * the smallest UMEM does. */
		struct xm_umem_cfg cfg = { .dev = xsk_dev, .queue_id = 0, .frames = 64,
					   .frame_size = 2048 };

		err = xm_umem_open(&cfg, &xsk);
		if (err)
			die("AF_XDP socket on %s queue 0: %s", xsk_dev, strerror(-err));
		floor = redirect_only__open_and_load();
		if (!floor)
			die("loading the redirect_only program: %s", strerror(errno));
		subj[n_subj] = (struct subject){
			.label = "redirect_only", .row = "redirect_only", .obj = floor->obj,
			.prog_fd = bpf_program__fd(floor->progs.xdpmux_redirect_only),
			.xsks_fd = map_fd(floor->obj, XM_MAP_XSKS, true),
		};
		n_subj++;
	}
	pass = pass_only__open_and_load();
	if (!pass)
		die("loading the pass_only program: %s", strerror(errno));
	pass_fd = bpf_program__fd(pass->progs.xdpmux_pass_only);
	for (j = 0; j < n_subj; j++) {
		if (!subj[j].row) {
			subj[j].ctl = ctl_of(subj[j].obj);
			bind_udp_port(subj[j].ctl, PORT_BOUND);
		}
		subj[j].cpu = rounds_alloc(rounds);
		subj[j].kern = rounds_alloc(rounds);
	}
	warm_up(pass_fd);
	pass_fixed_ns = fixed_cost(pass_fd);
	for (j = 0; j < n_subj; j++)
		subj[j].fixed_ns = fixed_cost(subj[j].prog_fd);
	fprintf(stderr, "xdp_cost: fixed cost of a call: pass-only %.0f ns", pass_fixed_ns);
	for (j = 0; j < n_subj; j++)
		fprintf(stderr, ", %s %.0f ns", subj[j].label ? subj[j].label : "xdpmux",
			subj[j].fixed_ns);
	fputc('\n', stderr);

	for (i = 0; i < N_CASES; i++) {
		const struct bench_case *c = &cases[i];
		double *pcpu = rounds_alloc(rounds), *pkern = rounds_alloc(rounds);
		struct timing t;
		struct frame f;
		unsigned long r;

		if (!strcmp(c->name, "frag4_first_bound"))
			goto next;
		if (n_only) {
			for (j = 0; j < n_only && only[j] != c; j++)
				;
			if (j == n_only)
				goto next;
		}
		if (c->xsk && !xsk) {
			fprintf(stderr, "xdp_cost: %s skipped: it needs --xsk-dev\n", c->name);
			goto next;
		}
		if (c->xsk)
			xsk_slot(subj, n_subj, xm_umem_fd(xsk));
		build_frame(c, &f);
		/* Check each path, and a short warm-up run of each program so
		 * caches and branch predictors start equal; then the programs
		 * take turns round by round. */
		for (j = 0; j < n_subj; j++) {
			if (!subject_times(&subj[j], c))
				continue;
			if (c->prime)
				check_path(subj[j].prog_fd, subject_counters(&subj[j]),
					   case_find(c->prime));
			check_path(subj[j].prog_fd, subject_counters(&subj[j]), c);
			test_run(subj[j].prog_fd, &f, repeat / 10 + 1, NULL);
		}
		test_run(pass_fd, &f, repeat / 10 + 1, NULL);
		for (r = 0; r < rounds; r++) {
			for (j = 0; j < n_subj; j++) {
				if (!subject_times(&subj[j], c))
					continue;
				test_run_timed(subj[j].prog_fd, &f, (uint32_t)repeat,
					       subj[j].fixed_ns, NULL, &t);
				subj[j].cpu[r] = t.ns;
				subj[j].kern[r] = t.kernel_ns;
			}
			test_run_timed(pass_fd, &f, (uint32_t)repeat, pass_fixed_ns, NULL, &t);
			pcpu[r] = t.ns;
			pkern[r] = t.kernel_ns;
		}
		/* median() sorts, so the pass-only rounds are copied per row. */
		for (j = 0; j < n_subj; j++) {
			double pc[rounds], pk[rounds];

			if (!subject_times(&subj[j], c))
				continue;
			memcpy(pc, pcpu, sizeof(pc));
			memcpy(pk, pkern, sizeof(pk));
			print_row(subj[j].row ? subj[j].row : c->name,
				  subj[j].row ? NULL : subj[j].label, subj[j].cpu,
				  subj[j].kern, pc, pk, rounds);
		}
		fflush(stdout);
		if (c->xsk)
			xsk_slot(subj, n_subj, -1);
next:
		free(pcpu);
		free(pkern);
	}
	pass_only__destroy(pass);
	for (j = 0; j < n_subj; j++) {
		free(subj[j].cpu);
		free(subj[j].kern);
		xm_ctl_close(subj[j].ctl);
	}
	for (j = 0; j < n_obj; j++)   /* the --object files; skeletons below */
		bpf_object__close(subj[j].obj);
	redirect_only__destroy(floor);
	if (mux)
		xdpmux__destroy(mux);
	xm_umem_close(xsk);
	return 0;
}
