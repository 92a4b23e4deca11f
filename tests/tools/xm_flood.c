// SPDX-License-Identifier: MIT
/*
 * xm_flood: the hostile sender of the flood selftests. It crafts a pool of
 * frames with the test frame builder (tests/unit/lib/frame.h) and sends them
 * round-robin out of DEV through an AF_PACKET socket that bypasses the qdisc,
 * in sendmmsg() batches, as fast as the sender can, for a fixed time.
 *
 *   xm_flood DEV --dst-mac MAC --dst ADDR --dport PORT --kind KIND
 *            [--src ADDR[/LEN]] [--sport PORT] [--seconds S]
 *
 * KIND:
 *   syn        SYNs with random source ports and sequence numbers (and
 *              random source addresses when --src is a prefix): a SYN flood.
 *   malformed  frames at the port that no stack may accept: bad UDP and TCP
 *              checksums, bad IPv4 header checksums, headers cut short,
 *              IPv4 IHL below 5, total lengths past the frame, TCP data
 *              offsets below 5 or past the segment, and illegal TCP flag
 *              combinations (SYN+FIN, SYN+RST, none, FIN+PSH+URG) with good
 *              checksums.
 *   rst        RSTs to one connection (--src ADDR and --sport name the
 *              peer's end) with sequence numbers spread over the whole space:
 *              a blind reset attack, which RFC 5961 defeats.
 *
 * SIGINT or SIGTERM ends the flood early, as the end of --seconds does.
 * --src defaults to DEV's first address of the family. Prints one line:
 * "xm_flood: sent N frames in S s (P frames/s)". Exit 0, 1 on a failure,
 * 2 on usage errors.
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <getopt.h>
#include <ifaddrs.h>
#include <linux/if_packet.h>
#include <net/ethernet.h>
#include <net/if.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "../unit/lib/frame.h"

#define POOL   4096
#define BATCH  64
#define F_FIN  0x01
#define F_SYN  0x02
#define F_RST  0x04
#define F_PSH  0x08
#define F_ACK  0x10
#define F_URG  0x20

enum kind { K_SYN, K_MALFORMED, K_RST };

struct cfg {
	const char *dev;
	int kind;              /* enum kind, -1 unset */
	int family;
	uint8_t dst[16], src[16], dmac[6], smac[6];
	int src_plen;          /* -1: one address */
	uint16_t dport, sport;
	double seconds;
};

struct frame {
	uint8_t *data;
	size_t len;
};

static uint64_t rng = 0x9E3779B97F4A7C15ull;
static volatile sig_atomic_t stop;

static void on_signal(int sig)
{
	(void)sig;
	stop = 1;
}

static uint32_t rnd(void)
{
	/* xorshift64*: the frames need variety, not secrecy */
	rng ^= rng >> 12;
	rng ^= rng << 25;
	rng ^= rng >> 27;
	return (uint32_t)((rng * 0x2545F4914F6CDD1Dull) >> 32);
}

static double now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static int usage(void)
{
	fprintf(stderr,
		"usage: xm_flood DEV --dst-mac MAC --dst ADDR --dport PORT\n"
		"                --kind syn|malformed|rst [--src ADDR[/LEN]] [--sport PORT]\n"
		"                [--seconds S]\n");
	return 2;
}

static int parse_mac(const char *s, uint8_t mac[6])
{
	unsigned v[6];

	if (sscanf(s, "%x:%x:%x:%x:%x:%x", &v[0], &v[1], &v[2], &v[3], &v[4],
		   &v[5]) != 6)
		return -EINVAL;
	for (int i = 0; i < 6; i++) {
		if (v[i] > 255)
			return -EINVAL;
		mac[i] = (uint8_t)v[i];
	}
	return 0;
}

static int parse_port(const char *s, uint16_t *out)
{
	char *end;
	long v = strtol(s, &end, 10);

	if (end == s || *end || v < 1 || v > 65535)
		return -EINVAL;
	*out = (uint16_t)v;
	return 0;
}

/* ADDR or ADDR/LEN of the given family (0: any, set *family). */
static int parse_addr(const char *s, int *family, uint8_t out[16], int *plen)
{
	char buf[INET6_ADDRSTRLEN + 8], *slash;
	int fam;

	if (strlen(s) >= sizeof(buf))
		return -EINVAL;
	strcpy(buf, s);
	slash = strchr(buf, '/');
	if (slash)
		*slash++ = '\0';
	fam = strchr(buf, ':') ? AF_INET6 : AF_INET;
	if ((*family && *family != fam) || inet_pton(fam, buf, out) != 1)
		return -EINVAL;
	*family = fam;
	if (plen) {
		char *end;

		*plen = -1;
		if (slash) {
			long v = strtol(slash, &end, 10);

			if (end == slash || *end || v < 0 ||
			    v > (fam == AF_INET ? 32 : 128))
				return -EINVAL;
			*plen = (int)v;
		}
	} else if (slash) {
		return -EINVAL;
	}
	return 0;
}

/* DEV's MAC and, unless given, its first address of the family. */
static int dev_info(struct cfg *c, bool need_src)
{
	struct ifaddrs *ifs, *i;
	int found = 0;

	if (getifaddrs(&ifs) < 0)
		return -errno;
	for (i = ifs; i; i = i->ifa_next) {
		if (!i->ifa_addr || strcmp(i->ifa_name, c->dev))
			continue;
		if (i->ifa_addr->sa_family == AF_PACKET) {
			struct sockaddr_ll *ll = (struct sockaddr_ll *)i->ifa_addr;

			memcpy(c->smac, ll->sll_addr, 6);
			found |= 1;
		} else if (need_src && i->ifa_addr->sa_family == c->family &&
			   !(found & 2)) {
			if (c->family == AF_INET)
				memcpy(c->src, &((struct sockaddr_in *)i->ifa_addr)->sin_addr, 4);
			else
				memcpy(c->src, &((struct sockaddr_in6 *)i->ifa_addr)->sin6_addr, 16);
			found |= 2;
		}
	}
	freeifaddrs(ifs);
	if (!(found & 1))
		return -ENODEV;
	if (need_src && !(found & 2))
		return -EADDRNOTAVAIL;
	return 0;
}

/* A source address: --src, with the bits past its prefix randomised. */
static void pick_src(const struct cfg *c, uint8_t *out)
{
	int alen = c->family == AF_INET ? 4 : 16;

	memcpy(out, c->src, (size_t)alen);
	if (c->src_plen < 0)
		return;
	for (int bit = c->src_plen; bit < alen * 8; bit++)
		if (rnd() & 1)
			out[bit / 8] |= (uint8_t)(0x80 >> (bit % 8));
		else
			out[bit / 8] &= (uint8_t)~(0x80 >> (bit % 8));
}

static void spec_base(const struct cfg *c, struct fb_spec *s, uint8_t l4)
{
	fb_init(s, c->family == AF_INET ? FB_L3_IPV4 : FB_L3_IPV6, l4);
	memcpy(s->eth_dst, c->dmac, 6);
	memcpy(s->eth_src, c->smac, 6);
	if (c->family == AF_INET) {
		memcpy(s->ip4.dst, c->dst, 4);
		pick_src(c, s->ip4.src);
	} else {
		memcpy(s->ip6.dst, c->dst, 16);
		pick_src(c, s->ip6.src);
	}
	s->dport = c->dport;
	s->sport = c->sport ? c->sport : (uint16_t)(1024 + rnd() % 64000);
	s->tcp.seq = rnd();
	s->tcp.ack = rnd();
	s->payload_len = 0;
}

/* The i-th malformed frame: cycles through every kind of damage. */
static ssize_t build_malformed(const struct cfg *c, unsigned i, uint8_t *buf)
{
	static const uint8_t bad_flags[] = {
		F_SYN | F_FIN, F_SYN | F_RST, 0, F_FIN | F_PSH | F_URG,
	};
	struct fb_layout lay;
	struct fb_spec s;
	bool tcp = (i / 16) % 2;
	ssize_t n;

	spec_base(c, &s, tcp ? IPPROTO_TCP : IPPROTO_UDP);
	s.payload_len = 32;
	s.tcp.flags = F_PSH | F_ACK;
	switch (i % 16) {
	case 0:
	case 1:
		s.bad.l4_csum = true;
		break;
	case 2:
		if (c->family == AF_INET)
			s.bad.l3_csum = true;
		else
			s.bad.l4_csum = true;
		break;
	case 3:
		if (c->family == AF_INET)
			s.bad.ip4_ihl = 4;
		else
			s.bad.ip6_payload_len = 2000;
		break;
	case 4:
		if (c->family == AF_INET)
			s.bad.ip4_tot_len = 1400;   /* past the frame */
		else
			s.bad.ip6_payload_len = 1400;
		break;
	case 5:
		if (tcp)
			s.bad.tcp_doff = 3;
		else
			s.bad.udp_len = 4;
		break;
	case 6:
		if (tcp)
			s.bad.tcp_doff = 15;   /* 60 bytes of header in a shorter segment */
		else
			s.bad.udp_len = 1000;
		s.payload_len = 8;
		break;
	case 7:
	case 8:
	case 9:
	case 10:
		if (tcp) {
			s.tcp.flags = bad_flags[i % 16 - 7];
			s.tcp.seq = rnd();
		} else {
			s.bad.l4_csum = true;
		}
		break;
	default:
		break;   /* 11-15: cut short below */
	}
	n = fb_build(&s, buf, FB_FRAME_MAX, &lay);
	if (n < 0)
		return n;
	switch (i % 16) {
	case 11:
		return (ssize_t)lay.l3_off + 10;         /* inside the IP header */
	case 12:
		return (ssize_t)lay.l4_off + 4;          /* inside the L4 header */
	case 13:
		return (ssize_t)lay.l4_off + (tcp ? 12 : 6);
	case 14:
		return (ssize_t)lay.l3_off;              /* Ethernet header only */
	case 15:
		return (ssize_t)lay.payload_off - 1;     /* one byte short */
	}
	return n;
}

static ssize_t build_one(const struct cfg *c, unsigned i, uint8_t *buf)
{
	struct fb_spec s;

	switch (c->kind) {
	case K_SYN:
		spec_base(c, &s, IPPROTO_TCP);
		s.tcp.flags = F_SYN;
		s.tcp.ack = 0;
		return fb_build(&s, buf, FB_FRAME_MAX, NULL);
	case K_RST:
		spec_base(c, &s, IPPROTO_TCP);
		s.tcp.flags = F_RST;
		s.tcp.ack = 0;
		/* evenly over the sequence space, from a random start */
		s.tcp.seq = (uint32_t)(i * (0x100000000ull / POOL)) + (rnd() & 0xfffff);
		return fb_build(&s, buf, FB_FRAME_MAX, NULL);
	case K_MALFORMED:
		return build_malformed(c, i, buf);
	}
	return -EINVAL;
}

static int build_pool(const struct cfg *c, struct frame *pool)
{
	uint8_t *buf = malloc(FB_FRAME_MAX);

	if (!buf)
		return -ENOMEM;
	for (unsigned i = 0; i < POOL; i++) {
		ssize_t n = build_one(c, i, buf);

		if (n < 0) {
			free(buf);
			return (int)n;
		}
		if (n < ETH_ZLEN)
			n = ETH_ZLEN;   /* the wire's minimum; the tail is zeros */
		pool[i].data = calloc(1, (size_t)n);
		if (!pool[i].data) {
			free(buf);
			return -ENOMEM;
		}
		memcpy(pool[i].data, buf, (size_t)n);
		pool[i].len = (size_t)n;
	}
	free(buf);
	return 0;
}

static int open_socket(const char *dev)
{
	struct sockaddr_ll ll = { .sll_family = AF_PACKET };
	int one = 1, fd;

	ll.sll_ifindex = (int)if_nametoindex(dev);
	if (!ll.sll_ifindex)
		return -ENODEV;
	fd = socket(AF_PACKET, SOCK_RAW, 0);   /* protocol 0: send only */
	if (fd < 0)
		return -errno;
	if (setsockopt(fd, SOL_PACKET, PACKET_QDISC_BYPASS, &one, sizeof(one)) < 0 ||
	    bind(fd, (struct sockaddr *)&ll, sizeof(ll)) < 0) {
		int err = -errno;

		close(fd);
		return err;
	}
	return fd;
}

/* Send the pool round-robin for c->seconds; returns frames sent or -errno. */
static int64_t flood(int fd, const struct cfg *c, const struct frame *pool,
		     double *elapsed)
{
	struct mmsghdr msgs[BATCH];
	struct iovec iov[BATCH];
	double start = now_s(), end = start + c->seconds;
	int64_t sent = 0;
	unsigned next = 0;

	memset(msgs, 0, sizeof(msgs));
	while (!stop && now_s() < end) {
		int r;

		for (int b = 0; b < BATCH; b++) {
			const struct frame *f = &pool[(next + (unsigned)b) % POOL];

			iov[b].iov_base = f->data;
			iov[b].iov_len = f->len;
			msgs[b].msg_hdr.msg_iov = &iov[b];
			msgs[b].msg_hdr.msg_iovlen = 1;
		}
		r = sendmmsg(fd, msgs, BATCH, 0);
		if (r < 0) {
			if (errno == ENOBUFS || errno == EAGAIN || errno == EINTR)
				continue;   /* the device queue is full: go on */
			return -errno;
		}
		sent += r;
		next = (next + (unsigned)r) % POOL;
	}
	*elapsed = now_s() - start;
	return sent;
}

int main(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "dst-mac", required_argument, NULL, 'm' },
		{ "dst", required_argument, NULL, 'd' },
		{ "src", required_argument, NULL, 's' },
		{ "dport", required_argument, NULL, 'p' },
		{ "sport", required_argument, NULL, 'P' },
		{ "kind", required_argument, NULL, 'k' },
		{ "seconds", required_argument, NULL, 't' },
		{ 0 }
	};
	struct cfg c = { .seconds = 5, .kind = -1, .src_plen = -1 };
	const char *src_arg = NULL;
	bool have_mac = false, have_dst = false;
	struct frame *pool;
	double elapsed = 0;
	int64_t sent;
	int opt, fd, err;
	char *end;

	while ((opt = getopt_long(argc, argv, "", longopts, NULL)) != -1) {
		switch (opt) {
		case 'm':
			if (parse_mac(optarg, c.dmac))
				return fprintf(stderr, "xm_flood: bad MAC '%s'\n", optarg), 2;
			have_mac = true;
			break;
		case 'd':
			if (parse_addr(optarg, &c.family, c.dst, NULL))
				return fprintf(stderr, "xm_flood: bad --dst '%s'\n", optarg), 2;
			have_dst = true;
			break;
		case 's':
			src_arg = optarg;
			break;
		case 'p':
			if (parse_port(optarg, &c.dport))
				return fprintf(stderr, "xm_flood: bad --dport '%s'\n", optarg), 2;
			break;
		case 'P':
			if (parse_port(optarg, &c.sport))
				return fprintf(stderr, "xm_flood: bad --sport '%s'\n", optarg), 2;
			break;
		case 'k':
			if (!strcmp(optarg, "syn"))
				c.kind = K_SYN;
			else if (!strcmp(optarg, "malformed"))
				c.kind = K_MALFORMED;
			else if (!strcmp(optarg, "rst"))
				c.kind = K_RST;
			else
				return fprintf(stderr, "xm_flood: bad --kind '%s': want syn, "
					       "malformed or rst\n", optarg), 2;
			break;
		case 't':
			c.seconds = strtod(optarg, &end);
			if (end == optarg || *end || !(c.seconds > 0 && c.seconds <= 3600))
				return fprintf(stderr, "xm_flood: bad --seconds '%s'\n", optarg), 2;
			break;
		default:
			return usage();
		}
	}
	if (optind != argc - 1 || !have_mac || !have_dst || !c.dport ||
	    c.kind < 0)
		return usage();
	c.dev = argv[optind];
	if (src_arg && parse_addr(src_arg, &c.family, c.src, &c.src_plen))
		return fprintf(stderr, "xm_flood: bad --src '%s' (want an address of "
			       "--dst's family, optionally /LEN)\n", src_arg), 2;
	if (c.kind == K_RST && (!c.sport || !src_arg || c.src_plen >= 0))
		return fprintf(stderr, "xm_flood: --kind rst needs --src ADDR and "
			       "--sport of the connection\n"), 2;
	err = dev_info(&c, !src_arg);
	if (err)
		return fprintf(stderr, "xm_flood: %s: %s\n", c.dev, strerror(-err)), 1;
	rng ^= (uint64_t)time(NULL) * 0x100000001b3ull ^ (uint64_t)getpid();
	pool = calloc(POOL, sizeof(*pool));
	if (!pool)
		return fprintf(stderr, "xm_flood: %s\n", strerror(ENOMEM)), 1;
	err = build_pool(&c, pool);
	if (err)
		return fprintf(stderr, "xm_flood: build frames: %s\n", strerror(-err)), 1;
	signal(SIGINT, on_signal);
	signal(SIGTERM, on_signal);
	fd = open_socket(c.dev);
	if (fd < 0)
		return fprintf(stderr, "xm_flood: AF_PACKET socket on %s: %s\n", c.dev,
			       strerror(-fd)), 1;
	sent = flood(fd, &c, pool, &elapsed);
	close(fd);
	for (unsigned i = 0; i < POOL; i++)
		free(pool[i].data);
	free(pool);
	if (sent < 0)
		return fprintf(stderr, "xm_flood: send on %s: %s\n", c.dev,
			       strerror((int)-sent)), 1;
	printf("xm_flood: sent %lld frames in %.1f s (%.0f frames/s)\n",
	       (long long)sent, elapsed, elapsed > 0 ? (double)sent / elapsed : 0.0);
	return 0;
}
