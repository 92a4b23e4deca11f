// SPDX-License-Identifier: MIT
/*
 * The AF_XDP link on a real veth in a private namespace, with xdpmux
 * attached and a real kernel on the other end: a bound port's datagram
 * arrives on the XSK, a frame we transmit reaches the peer's kernel socket,
 * the link-layer answers come from the kernel, misuse is refused, and at
 * every step each UMEM frame is accounted for; a stack over it polls the
 * ring before sleeping when asked to (spin_us).
 *
 * Needs root; skipped otherwise. Each test runs in its own process (Criterion
 * forks), unshares its network namespace, and names its devices after its
 * pid so the pins under /sys/fs/bpf/xdpmux/ never collide with another run.
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <net/if.h>
#include <poll.h>
#include <sched.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <unistd.h>
#include <dirent.h>
#include <signal.h>
#include <sys/mman.h>
#include <bpf/bpf.h>
#include <xdp/xsk.h>
#include <criterion/criterion.h>
#include <linux/if_ether.h>

#include <xdpmux/control.h>
#include <xdpmux/xdpmux.h>
#include "lib/frame.h"
#include "../../user/lib/link/link.h"
#include "../../user/lib/core/stack.h"

#define PORT_IN  7100
#define PORT_OUT 7200

static char peer_ns[32], dev[IF_NAMESIZE], peer_dev[IF_NAMESIZE];
static char out_file[64];

static void run(const char *cmd)
{
	cr_assert_eq(system(cmd), 0, "command failed: %s", cmd);
}

static void runf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static void runf(const char *fmt, ...)
{
	char cmd[512];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(cmd, sizeof(cmd), fmt, ap);
	va_end(ap);
	run(cmd);
}

static void teardown(void)
{
	char cmd[320];

	if (!peer_ns[0])
		return;
	/* The pins outlive the device; the program goes with the veth. */
	xm_ctl_detach(dev);
	snprintf(cmd, sizeof(cmd),
		 "ip netns pids %s | xargs -r kill; ip netns del %s; rm -rf %s/%s %s",
		 peer_ns, peer_ns, XM_PIN_ROOT, dev, out_file);
	if (system(cmd) != 0)
		fprintf(stderr, "cleanup of %s incomplete\n", peer_ns);
}

/* Removes what a run killed before its teardown (SIGKILL, a timeout around
 * the suite) left: the peer namespace, pins and output file named after a
 * pid that no longer lives. Its own device went with its own namespace. */
static void sweep_dead_runs(void)
{
	DIR *d = opendir("/run/netns");
	struct dirent *de;
	int pid;

	if (!d)
		return;
	while ((de = readdir(d))) {
		char ns[32], cmd[320];

		if (sscanf(de->d_name, "xm-u-lk%d", &pid) != 1 || pid <= 0)
			continue;
		snprintf(ns, sizeof(ns), "xm-u-lk%d", pid);
		if (strcmp(ns, de->d_name) || kill(pid, 0) == 0 || errno != ESRCH)
			continue;
		snprintf(cmd, sizeof(cmd),
			 "ip netns pids %s | xargs -r kill; ip netns del %s; "
			 "rm -rf %s/xmuL%d /tmp/%s.out",
			 ns, ns, XM_PIN_ROOT, pid % 10000000, ns);
		if (system(cmd) != 0)
			fprintf(stderr, "cleanup of %s incomplete\n", ns);
	}
	closedir(d);
}

/* dev (198.18.6.1, 2001:db8:6::1) here with xdpmux attached in `mode`;
 * peer_dev (198.18.6.2, 2001:db8:6::2) in peer_ns. Both ends have `queues`
 * rx and tx queues. */
static void setup_queues(int queues, enum xm_attach_mode mode)
{
	enum xm_attach_mode used;
	int err;

	if (geteuid() != 0)
		cr_skip_test("needs root (network namespace, BPF)");
	sweep_dead_runs();
	snprintf(peer_ns, sizeof(peer_ns), "xm-u-lk%d", (int)getpid());
	snprintf(dev, sizeof(dev), "xmuL%d", (int)getpid() % 10000000);
	snprintf(peer_dev, sizeof(peer_dev), "xmuP%d", (int)getpid() % 10000000);
	snprintf(out_file, sizeof(out_file), "/tmp/xm-u-lk%d.out", (int)getpid());
	runf("ip netns add %s", peer_ns);
	cr_assert_eq(unshare(CLONE_NEWNET), 0, "unshare: %s", strerror(errno));
	run("ip link set lo up");
	runf("ip link add %s numrxqueues %d numtxqueues %d type veth peer name %s "
	     "numrxqueues %d numtxqueues %d netns %s", dev, queues, queues,
	     peer_dev, queues, queues, peer_ns);
	if (queues > 1) {
		runf("ethtool -L %s rx %d tx %d", dev, queues, queues);
		runf("ip netns exec %s ethtool -L %s rx %d tx %d", peer_ns, peer_dev,
		     queues, queues);
	}
	runf("ip -n %s addr add 198.18.6.2/24 dev %s", peer_ns, peer_dev);
	runf("ip -n %s addr add 2001:db8:6::2/64 dev %s nodad", peer_ns, peer_dev);
	runf("ip -n %s link set %s up", peer_ns, peer_dev);
	runf("ip addr add 198.18.6.1/24 dev %s", dev);
	runf("ip addr add 2001:db8:6::1/64 dev %s nodad", dev);
	runf("ip link set %s up", dev);
	err = xm_ctl_attach(dev, mode, &used);
	cr_assert_eq(err, 0, "attach %s: %s", dev, strerror(-err));
}

static void setup(void)
{
	setup_queues(1, XM_MODE_GENERIC);
}

static struct xm_link *link_open_frame(uint32_t frame_size)
{
	struct xm_afxdp_opts o = { .frames = 256, .frame_size = frame_size };
	struct xm_link *l = NULL;
	int err = xm_link_afxdp_open(dev, &o, &l);

	cr_assert_eq(err, 0, "afxdp open %s: %s", dev, strerror(-err));
	return l;
}

static struct xm_link *link_open(void)
{
	return link_open_frame(0);
}

static void bind_udp(uint16_t port)
{
	struct xm_binding_key k = { .proto = IPPROTO_UDP, .family = XM_FAMILY_ANY,
				    .port = htons(port) };
	struct xm_ctl *ctl;

	cr_assert_eq(xm_ctl_open(dev, &ctl), 0);
	cr_assert_eq(xm_ctl_bind(ctl, &k, XM_FALLBACK_DROP, getpid()), 0);
	xm_ctl_close(ctl);
}

static void assert_all_accounted(struct xm_link *l, const char *when)
{
	struct xm_frame_accounting a;

	cr_assert_eq(l->ops->accounting(l, &a), 0, "%s: accounting", when);
	cr_assert_eq(xm_frame_accounting_sum(&a), a.total,
		     "%s: %llu of %llu frames accounted", when,
		     (unsigned long long)xm_frame_accounting_sum(&a),
		     (unsigned long long)a.total);
}

/* Receive one frame, waiting on poll_fd and kicking; asserts one arrives
 * within ~5 s (a bound on a hang, not a timing assertion). */
static void rx_one(struct xm_link *l, struct xm_frame *f)
{
	struct pollfd p = { .fd = l->ops->poll_fd(l), .events = POLLIN };
	int i, n = 0;

	for (i = 0; i < 500 && n == 0; i++) {
		n = l->ops->rx(l, f, 1);
		if (!n) {
			poll(&p, 1, 10);
			l->ops->kick(l);
		}
	}
	cr_assert_eq(n, 1, "no frame received");
}

static void read_mac(const char *ns, const char *d, uint8_t mac[6])
{
	char cmd[160];
	FILE *p;

	snprintf(cmd, sizeof(cmd), "ip %s %s link show %s | awk '/ether/{print $2}'",
		 ns ? "-n" : "", ns ? ns : "", d);
	p = popen(cmd, "r");
	cr_assert(p);
	cr_assert_eq(fscanf(p, "%hhx:%hhx:%hhx:%hhx:%hhx:%hhx", &mac[0], &mac[1],
			    &mac[2], &mac[3], &mac[4], &mac[5]), 6);
	pclose(p);
}

Test(afxdp_link, open_refuses_a_device_without_xdpmux, .fini = teardown)
{
	struct xm_link *l = NULL;

	setup();
	cr_assert_eq(xm_ctl_detach(dev), 0);
	cr_assert_eq(xm_link_afxdp_open(dev, NULL, &l), -ENOENT);
	cr_assert_eq(xm_link_afxdp_open("xmu-nosuchdev", NULL, &l), -ENODEV);
}

Test(afxdp_link, bound_datagram_arrives_on_the_xsk_and_frames_balance, .fini = teardown)
{
	struct xm_frame_accounting a;
	struct xm_link *l;
	struct xm_frame f;
	const uint8_t *udp;

	setup();
	l = link_open();
	assert_all_accounted(l, "after open");
	cr_assert_eq(l->ops->accounting(l, &a), 0);
	cr_assert_gt(a.fill, 0, "the fill ring is stocked at open");
	bind_udp(PORT_IN);
	runf("ip netns exec %s sh -c 'printf hello-xsk | "
	     "socat -u - UDP4-SENDTO:198.18.6.1:%d'", peer_ns, PORT_IN);
	rx_one(l, &f);
	cr_assert_geq(f.len, 14 + 20 + 8 + 9);
	cr_assert_eq(f.data[12] << 8 | f.data[13], ETH_P_IP);
	udp = f.data + 14 + (f.data[14] & 0xf) * 4;
	cr_assert_eq(udp[2] << 8 | udp[3], PORT_IN);
	cr_assert_arr_eq(udp + 8, "hello-xsk", 9);
	cr_assert_eq(l->ops->accounting(l, &a), 0);
	cr_assert_eq(a.rx_held, 1, "the frame is lent to the caller");
	assert_all_accounted(l, "while held");
	l->ops->rx_release(l, &f, 1);
	l->ops->kick(l);
	cr_assert_eq(l->ops->accounting(l, &a), 0);
	cr_assert_eq(a.rx_held, 0);
	assert_all_accounted(l, "after release");
	l->ops->close(l);
}

/* What the link reported to tx_done (link.h). */
struct done_log {
	int calls;
	void *owner;
	uint32_t len;
};

static void record_done(void *ctx, void *owner, uint32_t len)
{
	struct done_log *d = ctx;

	d->calls++;
	d->owner = owner;
	d->len = len;
}

static void listen_done(struct xm_link *l, struct done_log *d)
{
	memset(d, 0, sizeof(*d));
	l->tx_done = record_done;
	l->tx_done_ctx = d;
}

Test(afxdp_link, transmitted_frame_reaches_the_peer_kernel_socket, .fini = teardown)
{
	struct done_log done;
	int token;
	struct xm_frame_accounting a;
	struct xm_link_info info;
	uint8_t peer_mac[6];
	struct xm_link *l;
	struct xm_frame f;
	struct fb_spec s;
	char got[64] = "";
	ssize_t len;
	FILE *fp;
	int i;

	setup();
	l = link_open();
	cr_assert_eq(l->ops->info(l, &info), 0);
	read_mac(peer_ns, peer_dev, peer_mac);
	runf("ip netns exec %s socat -u UDP4-RECV:%d,bind=198.18.6.2 "
	     "CREATE:%s >/dev/null 2>&1 &", peer_ns, PORT_OUT, out_file);
	runf("for i in $(seq 50); do ip netns exec %s ss -Huln 'sport = :%d' | "
	     "grep -q . && exit 0; sleep 0.1; done; exit 1", peer_ns, PORT_OUT);

	listen_done(l, &done);
	cr_assert_eq(l->ops->tx_alloc(l, &f, 1), 1);
	cr_assert_null(f.owner, "lent with no owner");
	cr_assert_eq(l->ops->accounting(l, &a), 0);
	cr_assert_eq(a.tx_held, 1);
	fb_init(&s, FB_L3_IPV4, IPPROTO_UDP);
	memcpy(s.eth_dst, peer_mac, 6);
	memcpy(s.eth_src, info.mac, 6);
	memcpy(s.ip4.src, (uint8_t[]){ 198, 18, 6, 1 }, 4);
	memcpy(s.ip4.dst, (uint8_t[]){ 198, 18, 6, 2 }, 4);
	s.sport = 40000;
	s.dport = PORT_OUT;
	s.payload = (const uint8_t *)"from-the-xsk";
	s.payload_len = 12;
	len = fb_build(&s, f.data, f.cap, NULL);
	cr_assert_gt(len, 0);
	f.len = (uint32_t)len;
	f.owner = &token;
	cr_assert_eq(l->ops->tx_submit(l, &f, 1), 1);
	for (i = 0; i < 500; i++) {
		fp = fopen(out_file, "r");
		if (fp) {
			size_t n = fread(got, 1, sizeof(got) - 1, fp);

			got[n] = 0;
			fclose(fp);
			if (n)
				break;
		}
		l->ops->kick(l);
		usleep(10000);
	}
	cr_assert_str_eq(got, "from-the-xsk", "the peer's kernel got our frame");
	for (i = 0; i < 500; i++) {
		l->ops->kick(l);
		cr_assert_eq(l->ops->accounting(l, &a), 0);
		if (!a.tx_in_flight)
			break;
		usleep(1000);
	}
	cr_assert_eq(a.tx_in_flight, 0, "the completion came back");
	cr_assert_eq(done.calls, 1, "and was reported once");
	cr_assert_eq(done.owner, &token);
	cr_assert_eq(done.len, f.len);
	assert_all_accounted(l, "after transmit");
	l->ops->close(l);
	cr_assert_eq(done.calls, 1, "close reports nothing twice");
}

Test(afxdp_link, info_route_and_neighbour_come_from_the_kernel, .fini = teardown)
{
	uint8_t dst[4] = { 198, 18, 6, 2 }, nh[4], src[4], mac[6], want[6];
	uint8_t dst6[16] = { 0x20, 0x01, 0x0d, 0xb8, 0, 6, [15] = 2 }, nh6[16], src6[16];
	uint8_t far[4] = { 203, 0, 113, 9 };
	struct xm_link_info info;
	struct xm_link *l;
	int i, err = -EAGAIN;

	setup();
	runf("ip link set %s mtu 1400", dev);
	l = link_open();
	cr_assert_eq(l->ops->info(l, &info), 0);
	read_mac(NULL, dev, want);
	cr_assert_arr_eq(info.mac, want, 6);
	cr_assert_eq(info.mtu, 1400);
	l->ops->close(l);
	/* A jumbo MTU is capped to what one 4 KiB UMEM frame carries after
	 * the kernel's 256-byte headroom and the Ethernet header. */
	runf("ip link set %s mtu 9000", dev);
	l = link_open_frame(4096);
	cr_assert_eq(l->ops->info(l, &info), 0);
	cr_assert_eq(info.mtu, 4096 - 256 - 14);
	l->ops->close(l);
	runf("ip link set %s mtu 1400", dev);
	l = link_open();
	cr_assert_eq(l->ops->info(l, &info), 0);
	cr_assert_eq(info.n_ipv4, 1);
	cr_assert_arr_eq(info.ipv4[0].addr, ((uint8_t[]){ 198, 18, 6, 1 }), 4);
	cr_assert_geq(info.n_ipv6, 1);

	cr_assert_eq(l->ops->route(l, AF_INET, dst, nh, src), 0);
	cr_assert_arr_eq(nh, dst, 4, "on-link: next hop is the destination");
	cr_assert_arr_eq(src, ((uint8_t[]){ 198, 18, 6, 1 }), 4);
	cr_assert_eq(l->ops->route(l, AF_INET6, dst6, nh6, src6), 0);
	cr_assert_arr_eq(nh6, dst6, 16);
	cr_assert_eq(l->ops->route(l, AF_INET, far, nh, src), -ENETUNREACH);

	read_mac(peer_ns, peer_dev, want);
	for (i = 0; i < 500 && err == -EAGAIN; i++) {
		err = l->ops->neigh(l, AF_INET, dst, mac);
		if (err == -EAGAIN)
			usleep(10000);
	}
	cr_assert_eq(err, 0, "IPv4 neighbour: %s", strerror(-err));
	cr_assert_arr_eq(mac, want, 6);
	err = -EAGAIN;
	for (i = 0; i < 500 && err == -EAGAIN; i++) {
		err = l->ops->neigh(l, AF_INET6, dst6, mac);
		if (err == -EAGAIN)
			usleep(10000);
	}
	cr_assert_eq(err, 0, "IPv6 neighbour: %s", strerror(-err));
	cr_assert_arr_eq(mac, want, 6);
	runf("ip neigh show 198.18.6.2 dev %s | grep -vq PERMANENT", dev);
	l->ops->close(l);
}

Test(afxdp_link, frames_handed_back_wrongly_are_refused_and_reported, .fini = teardown)
{
	struct xm_frame_accounting a;
	struct xm_frame f, forged;
	struct done_log done;
	struct xm_link *l;
	int token;

	setup();
	l = link_open();
	listen_done(l, &done);
	cr_assert_eq(l->ops->tx_alloc(l, &f, 1), 1);
	l->ops->tx_abort(l, &f, 1);
	/* Aborted twice: the second must not put the frame in the pool again. */
	l->ops->tx_abort(l, &f, 1);
	cr_assert_eq(l->ops->accounting(l, &a), -EUCLEAN, "misuse is reported");
	cr_assert_eq(xm_frame_accounting_sum(&a), a.total, "and the pools still balance");
	/* A frame never lent cannot be submitted; its owner hears of it. */
	forged = f;
	forged.len = 60;
	forged.owner = &token;
	cr_assert_eq(l->ops->tx_submit(l, &forged, 1), 0);
	cr_assert_eq(done.calls, 1);
	cr_assert_eq(l->ops->accounting(l, &a), -EUCLEAN);
	cr_assert_eq(xm_frame_accounting_sum(&a), a.total);
	cr_assert_eq(a.tx_in_flight, 0);
	/* A lent frame with a length past its buffer is dropped, not sent. */
	cr_assert_eq(l->ops->tx_alloc(l, &f, 1), 1);
	f.len = f.cap + 1;
	f.owner = &token;
	cr_assert_eq(l->ops->tx_submit(l, &f, 1), 0);
	cr_assert_eq(done.calls, 2);
	cr_assert_eq(l->ops->accounting(l, &a), -EUCLEAN);
	cr_assert_eq(a.tx_held, 0);
	cr_assert_eq(xm_frame_accounting_sum(&a), a.total);
	/* A handle naming no queue of the link is refused too. */
	forged.id = (uint64_t)7 << 32;
	l->ops->rx_release(l, &forged, 1);
	cr_assert_eq(l->ops->tx_submit(l, &forged, 1), 0);
	cr_assert_eq(done.calls, 3);
	cr_assert_eq(done.owner, &token);
	cr_assert_eq(l->ops->accounting(l, &a), -EUCLEAN);
	cr_assert_eq(xm_frame_accounting_sum(&a), a.total);
	l->ops->close(l);
}

Test(afxdp_link, one_xsk_per_rx_queue_and_copy_mode_when_no_zerocopy, .fini = teardown)
{
	struct xm_frame_accounting a;
	struct xm_frame f[64];
	struct pollfd p;
	struct xm_link *l;
	int got = 0, per_queue[2] = { 0 }, i, j, n;

	/* Native: generic XDP on veth sees every skb on rx queue 0, while
	 * native XDP runs per rx queue, the one the peer transmitted on. */
	setup_queues(2, XM_MODE_NATIVE);
	/* veth has no zero-copy AF_XDP: forcing it fails, auto falls back. */
	{
		struct xm_afxdp_opts zc = { .frames = 256,
					    .copy_mode = XM_AFXDP_ZEROCOPY };

		l = NULL;
		cr_assert_eq(xm_link_afxdp_open(dev, &zc, &l), -EOPNOTSUPP);
		cr_assert_null(l);
	}
	l = link_open();
	cr_assert_eq(l->ops->accounting(l, &a), 0);
	cr_assert_eq(a.total, 2 * 256, "one UMEM of 256 frames per rx queue");
	bind_udp(PORT_IN);
	/* Datagrams from 24 source ports: the peer's tx queue, hence our rx
	 * queue, follows the flow hash, so both queues get traffic. */
	runf("ip netns exec %s sh -c 'for p in $(seq 41000 41023); do printf x | "
	     "socat -u - UDP4-SENDTO:198.18.6.1:%d,sourceport=$p; done'",
	     peer_ns, PORT_IN);
	p.fd = l->ops->poll_fd(l);
	p.events = POLLIN;
	for (i = 0; i < 500 && got < 24; i++) {
		n = l->ops->rx(l, f, 64);
		cr_assert_geq(n, 0);
		for (j = 0; j < n; j++) /* the backend tags ids with the queue */
			per_queue[f[j].id >> 32 ? 1 : 0]++;
		if (n) {
			l->ops->rx_release(l, f, n);
			got += n;
		} else {
			poll(&p, 1, 10);
		}
	}
	cr_assert_eq(got, 24, "every datagram arrived on one of the XSKs");
	cr_assert(per_queue[0] && per_queue[1],
		  "both queues served (%d on queue 0, %d on queue 1)",
		  per_queue[0], per_queue[1]);
	assert_all_accounted(l, "after two queues");
	l->ops->close(l);
}

Test(afxdp_link, busy_poll_and_no_need_wakeup_sockets_receive, .fini = teardown)
{
	struct xm_afxdp_opts o = { .frames = 256, .busy_poll = true,
				   .busy_poll_budget = 16, .no_need_wakeup = true };
	struct xm_link *l = NULL;
	struct xm_frame f;
	int err;

	setup();
	err = xm_link_afxdp_open(dev, &o, &l);
	cr_assert_eq(err, 0, "open with busy poll: %s", strerror(-err));
	bind_udp(PORT_IN);
	runf("ip netns exec %s sh -c 'printf busy | "
	     "socat -u - UDP4-SENDTO:198.18.6.1:%d'", peer_ns, PORT_IN);
	rx_one(l, &f);
	l->ops->rx_release(l, &f, 1);
	assert_all_accounted(l, "busy poll");
	l->ops->close(l);
}

Test(afxdp_link, rx_ready_sees_a_frame_without_taking_it, .fini = teardown)
{
	struct xm_frame_accounting a;
	struct xm_link *l;
	struct xm_frame f;
	int i;

	setup();
	l = link_open();
	bind_udp(PORT_IN);
	cr_assert_not(l->ops->rx_ready(l), "an idle ring is not ready");
	runf("ip netns exec %s sh -c 'printf ready | "
	     "socat -u - UDP4-SENDTO:198.18.6.1:%d'", peer_ns, PORT_IN);
	/* A bound on a hang: the frame is in the ring within 5 s. */
	for (i = 0; i < 500 && !l->ops->rx_ready(l); i++)
		usleep(10000);
	cr_assert(l->ops->rx_ready(l), "the frame never showed in the ring");
	cr_assert(l->ops->rx_ready(l), "looking twice takes nothing");
	cr_assert_eq(l->ops->accounting(l, &a), 0);
	cr_assert_eq(a.rx_ring, 1, "the frame stays in the ring (%llu)",
		     (unsigned long long)a.rx_ring);
	cr_assert_eq(a.rx_held, 0);
	cr_assert_eq(l->ops->rx(l, &f, 1), 1);
	cr_assert_not(l->ops->rx_ready(l), "taken: the ring is empty again");
	l->ops->rx_release(l, &f, 1);
	assert_all_accounted(l, "after rx_ready");
	l->ops->close(l);
}

/* xm_stack_opts.spin_us: a blocking receive polls the ring before it
 * sleeps, and a datagram that comes meanwhile is taken without a wakeup
 * (spin_hits), while an idle spin ends and is counted (spin_timeouts). */
Test(afxdp_link, blocking_recv_spins_and_catches_a_datagram, .fini = teardown)
{
	struct xm_stack_opts o = XM_STACK_OPTS_INIT;
	struct sockaddr_in sa = { .sin_family = AF_INET, .sin_port = htons(PORT_IN) };
	struct xm_clock clock = xm_clock_monotonic();
	struct xm_stack_stats s;
	struct timeval tmo = { .tv_sec = 10 };
	struct xm_stack *st;
	char buf[64];
	int fd, err;
	ssize_t n;

	setup();
	o.spin_us = 2000000;   /* longer than the sender's delay below */
	err = xm_stack_open_link(link_open(), &clock, &o, &st);
	cr_assert_eq(err, 0, "stack open: %s", strerror(-err));
	cr_assert_eq(xm_stack_spin(NULL, 1), -EINVAL);
	xm_stack_use(st);
	bind_udp(PORT_IN);
	fd = xm_socket(AF_INET, SOCK_DGRAM, 0);
	cr_assert_geq(fd, 0, "socket: %s", strerror(errno));
	cr_assert_eq(xm_bind(fd, (struct sockaddr *)&sa, sizeof(sa)), 0,
		     "bind: %s", strerror(errno));
	/* A bound on a hang, not a timing assertion. */
	cr_assert_eq(xm_setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tmo, sizeof(tmo)), 0);

	cr_assert_eq(xm_stack_spin(st, 1000), 0, "nothing came: the spin ends");
	cr_assert_eq(xm_stack_stats(st, &s), 0);
	cr_assert_eq(s.spin_timeouts, 1);
	cr_assert_eq(s.spin_hits, 0);

	/* Sent after the receive below has begun to wait. */
	runf("(sleep 0.3; ip netns exec %s sh -c 'printf spun | "
	     "socat -u - UDP4-SENDTO:198.18.6.1:%d') >/dev/null 2>&1 &",
	     peer_ns, PORT_IN);
	n = xm_recv(fd, buf, sizeof(buf), 0);
	if (n != 4) {
		xm_stack_stats(st, &s);
		xm_stack_stats_print(stderr, &s, "  ");
	}
	cr_assert_eq(n, 4, "recv: %zd %s", n, strerror(errno));
	cr_assert_arr_eq(buf, "spun", 4);
	cr_assert_eq(xm_stack_stats(st, &s), 0);
	cr_assert_geq(s.spin_hits, 1, "the datagram was not caught spinning");

	xm_close(fd);
	xm_stack_close(st);
}

/* How many fds an epoll set watches (its /proc fdinfo "tfd:" lines). */
static int epoll_watched(int epfd)
{
	char path[64], line[256];
	FILE *f;
	int n = 0;

	snprintf(path, sizeof(path), "/proc/self/fdinfo/%d", epfd);
	f = fopen(path, "r");
	cr_assert_not_null(f, "%s: %s", path, strerror(errno));
	while (fgets(line, sizeof(line), f))
		n += !strncmp(line, "tfd:", 4);
	fclose(f);
	return n;
}

/* The link's fd sits in the stack's epoll set only once an application
 * asks for xm_stack_fd(): an fd in an epoll set calls the set back for
 * every frame queued on it, on the sender's CPU, waited on or not. A
 * program that sleeps on xm_stack_wait_fd() (xdpmux run) spares the
 * senders that; both fds become readable for a datagram. */
Test(afxdp_link, link_fd_joins_the_stack_epoll_set_only_when_asked, .fini = teardown)
{
	struct xm_stack_opts o = XM_STACK_OPTS_INIT;
	struct xm_clock clock = xm_clock_monotonic();
	struct xm_stack *st;
	struct pollfd p;
	struct epoll_event ev;
	int err, epfd;

	setup();
	err = xm_stack_open_link(link_open(), &clock, &o, &st);
	cr_assert_eq(err, 0, "stack open: %s", strerror(-err));
	bind_udp(PORT_IN);
	cr_assert_eq(epoll_watched(st->epfd), 1, "before xm_stack_fd(): the timerfd alone");
	p = (struct pollfd){ .fd = xm_stack_wait_fd(st), .events = POLLIN };
	cr_assert_geq(p.fd, 0);
	{
		/* One queue: the XSK itself, no epoll set around it (one
		 * wakeup callback less per frame). */
		int dom = 0;
		socklen_t dl = sizeof(dom);

		cr_assert_eq(getsockopt(p.fd, SOL_SOCKET, SO_DOMAIN, &dom, &dl), 0,
			     "the wait fd of a one-queue link is no socket: %s", strerror(errno));
		cr_assert_eq(dom, AF_XDP);
	}
	cr_assert_eq(poll(&p, 1, 0), 0, "nothing sent yet");
	runf("ip netns exec %s sh -c 'printf wake | "
	     "socat -u - UDP4-SENDTO:198.18.6.1:%d'", peer_ns, PORT_IN);
	/* A bound on a hang, not a timing assertion. */
	cr_assert_eq(poll(&p, 1, 5000), 1, "the wait fd did not wake for a frame");
	epfd = xm_stack_fd(st);
	cr_assert_eq(epfd, st->epfd);
	cr_assert_eq(epoll_watched(epfd), 2, "asked for: the link's fd joined");
	cr_assert_eq(xm_stack_fd(st), epfd);
	cr_assert_eq(epoll_watched(epfd), 2, "asked again: added once");
	cr_assert_eq(epoll_wait(epfd, &ev, 1, 5000), 1, "the stack fd misses the frame");
	xm_stack_close(st);
}

/*
 * Two AF_XDP sockets on one queue sharing one UMEM (XDP_SHARED_UMEM), as
 * the device daemon makes them for two client programs, each at its owner
 * slot's key in xsks (XM_XSK_KEY): each receives its own owner's port and
 * nothing of the other's, and a third owner's port, with no socket on the
 * queue, takes its fallback. The kernel behaviour the daemon relies on.
 */
#define SHARED_FRAMES 64
#define SHARED_FSIZE  2048
#define SHARED_SENDS  3

struct owner_xsk {
	struct xsk_socket *xsk;
	struct xsk_ring_cons rx;
	struct xsk_ring_prod tx;
	uint16_t port;
	int got;
};

/* Take what o's rx ring holds; every frame must be UDP to o's port. */
static void owner_rx(struct owner_xsk *o, void *area, struct xsk_ring_prod *fill)
{
	uint32_t idx = 0, fidx = 0, n, i;

	n = xsk_ring_cons__peek(&o->rx, SHARED_FRAMES, &idx);
	if (!n)
		return;
	cr_assert_eq(xsk_ring_prod__reserve(fill, n, &fidx), n);
	for (i = 0; i < n; i++) {
		const struct xdp_desc *d = xsk_ring_cons__rx_desc(&o->rx, idx + i);
		const uint8_t *f = xsk_umem__get_data(area, d->addr);
		const uint8_t *udp = f + 14 + (f[14] & 0xf) * 4;

		cr_assert_geq(d->len, 14 + 20 + 8);
		cr_assert_eq(f[23], IPPROTO_UDP);
		cr_assert_eq(udp[2] << 8 | udp[3], o->port,
			     "the socket of port %u's owner got a datagram to port %u",
			     o->port, udp[2] << 8 | udp[3]);
		o->got++;
		*xsk_ring_prod__fill_addr(fill, fidx + i) = xsk_umem__extract_addr(d->addr);
	}
	xsk_ring_cons__release(&o->rx, n);
	xsk_ring_prod__submit(fill, n);
}

Test(afxdp_link, two_owners_sharing_a_umem_on_one_queue_each_get_only_their_port,
     .fini = teardown)
{
	struct xsk_umem_config uc = { .fill_size = SHARED_FRAMES, .comp_size = SHARED_FRAMES,
				      .frame_size = SHARED_FSIZE };
	struct xsk_socket_config sc = { .rx_size = SHARED_FRAMES, .tx_size = SHARED_FRAMES,
					.libxdp_flags = XSK_LIBXDP_FLAGS__INHIBIT_PROG_LOAD,
					.bind_flags = XDP_COPY };
	struct owner_xsk own[2] = { { .port = PORT_IN }, { .port = PORT_OUT } };
	const uint16_t port_none = PORT_IN + 1;   /* owner 3: no socket */
	/* libxdp leaves some of a ring's cached indices as it finds them. */
	struct xsk_ring_prod fill = { 0 };
	struct xsk_ring_cons comp = { 0 };
	struct xm_binding_stats bs;
	struct xsk_umem *umem;
	struct xm_ctl *ctl;
	uint32_t idx, i, key;
	size_t size = SHARED_FRAMES * SHARED_FSIZE;
	void *area;
	int fd;

	setup();
	area = mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	cr_assert(area != MAP_FAILED);
	cr_assert_eq(xsk_umem__create(&umem, area, size, &fill, &comp, &uc), 0);
	for (i = 0; i < 2; i++)
		cr_assert_eq(xsk_socket__create_shared(&own[i].xsk, dev, 0, umem, &own[i].rx,
						       &own[i].tx, &fill, &comp, &sc), 0,
			     "socket %u on %s queue 0", i, dev);
	cr_assert_eq(xsk_ring_prod__reserve(&fill, SHARED_FRAMES, &idx), SHARED_FRAMES);
	for (i = 0; i < SHARED_FRAMES; i++)
		*xsk_ring_prod__fill_addr(&fill, idx + i) = (uint64_t)i * SHARED_FSIZE;
	xsk_ring_prod__submit(&fill, SHARED_FRAMES);

	cr_assert_eq(xm_ctl_open(dev, &ctl), 0);
	for (i = 0; i < 3; i++) {
		struct xm_binding_key k = { .proto = IPPROTO_UDP, .family = XM_FAMILY_ANY,
					    .port = htons(i < 2 ? own[i].port : port_none) };

		cr_assert_eq(xm_ctl_bind_as(ctl, &k, XM_FALLBACK_DROP, getpid(), i + 1), 0);
		if (i == 2)
			break;
		key = XM_XSK_KEY(i + 1, 0);
		fd = xsk_socket__fd(own[i].xsk);
		cr_assert_eq(bpf_map_update_elem(xm_ctl_xsks_fd(ctl), &key, &fd, BPF_ANY), 0);
	}
	/* The unowned port first: were it delivered, it would come first. */
	runf("ip netns exec %s sh -c 'for p in %u %u %u; do for i in $(seq %d); do "
	     "printf d | socat -u - UDP4-SENDTO:198.18.6.1:$p; done; done'", peer_ns,
	     port_none, own[0].port, own[1].port, SHARED_SENDS);
	/* A bound on a hang, not a timing assertion. */
	for (i = 0; i < 500 && (own[0].got < SHARED_SENDS || own[1].got < SHARED_SENDS); i++) {
		struct pollfd p[2] = { { .fd = xsk_socket__fd(own[0].xsk), .events = POLLIN },
				       { .fd = xsk_socket__fd(own[1].xsk), .events = POLLIN } };

		poll(p, 2, 10);
		owner_rx(&own[0], area, &fill);
		owner_rx(&own[1], area, &fill);
	}
	cr_expect_eq(own[0].got, SHARED_SENDS, "owner 1's socket got %d", own[0].got);
	cr_expect_eq(own[1].got, SHARED_SENDS, "owner 2's socket got %d", own[1].got);
	{
		struct xm_binding_key k = { .proto = IPPROTO_UDP, .family = XM_FAMILY_ANY,
					    .port = htons(port_none) };

		cr_assert_eq(xm_ctl_binding_stats(ctl, &k, &bs), 0);
		cr_expect_eq(bs.packets, SHARED_SENDS, "owner 3's port counted %llu",
			     (unsigned long long)bs.packets);
	}
	xm_ctl_close(ctl);
	for (i = 0; i < 2; i++)
		xsk_socket__delete(own[i].xsk);
	xsk_umem__delete(umem);
	munmap(area, size);
}
