/* SPDX-License-Identifier: MIT */
/*
 * The link interface: the only thing the network and transport layers know
 * about the wire. A link hands out received Ethernet frames in batches, lends
 * transmit buffers, and answers the link-layer questions the kernel owns
 * (MAC, MTU, addresses, next hop, neighbour MAC). Two backends implement it:
 * the AF_XDP link (afxdp*.c, umem*.c, netlink*.c) and the simulated link
 * (sim*.c) with virtual time and seeded impairments for tests.
 *
 * Differences from the shape in the split brief (all additive):
 *  - `wait` (optional, may be NULL): block until frames may be ready or the
 *    clock reaches deadline_ns. The sim implements it by advancing virtual
 *    time; the AF_XDP link leaves it NULL and the stack poll()s poll_fd.
 *  - `kick` (optional, may be NULL): flush/wake-up work the backend
 *    deferred (e.g. sendto() for need_wakeup, completion ring reaping);
 *    the stack calls it once per loop iteration.
 *
 * Ownership: every frame buffer belongs to the link. rx() lends frames until
 * rx_release(); tx_alloc() lends empty buffers until tx_submit() (which takes
 * them back in every case) or tx_abort().
 *
 * Tx completion: a submitted buffer is in flight until the device is done
 * with it (the AF_XDP completion ring; the sim's tx_done_ns). A frame
 * submitted with an owner is reported to the link's tx_done callback exactly
 * once, when its buffer is free again: completed, refused by tx_submit, or
 * still in flight at close(). The stack charges its sockets' send buffers
 * by that (SO_SNDBUF), as the kernel releases sk_wmem_alloc on skb free.
 */
#ifndef XM_LINK_H
#define XM_LINK_H

#include <stdbool.h>
#include <stdint.h>

struct xm_link;

struct xm_frame {
	uint8_t *data;   /* first byte of the Ethernet header */
	uint32_t len;    /* bytes of frame in data */
	uint32_t cap;    /* bytes writable at data (tx) */
	uint64_t id;     /* backend's handle (UMEM address, pool index) */
	void *owner;     /* tx: handed to tx_done when the buffer is free again;
			  * NULL (as tx_alloc lends it): nobody to tell */
};

#define XM_LINK_MAX_ADDRS 8

struct xm_link_addr4 {
	uint8_t addr[4];      /* network byte order */
	uint8_t prefixlen;
};

struct xm_link_addr6 {
	uint8_t addr[16];
	uint8_t prefixlen;
};

struct xm_link_info {
	char name[16];
	int ifindex;
	uint8_t mac[6];
	uint32_t mtu;                   /* IP MTU (without the Ethernet header) */
	char kind[16];                  /* the driver's link kind ("veth");
					 * "": a physical device */
	uint32_t dev_mtu;               /* the device's MTU (mtu may be less:
					 * what one tx buffer carries) */
	bool rx_multibuf;               /* packets larger than one buffer
					 * arrive whole (multi-buffer AF_XDP) */
	/* tx_gso takes TCP super-segments of up to gso_max_size bytes
	 * (Ethernet header included, as the kernel's bound on skb->len)
	 * and gso_max_segs segments; 0: it
	 * takes none (no tx_gso, or the device's GSO is off). */
	uint32_t gso_max_size;
	uint32_t gso_max_segs;
	uint32_t n_ipv4;
	uint32_t n_ipv6;
	struct xm_link_addr4 ipv4[XM_LINK_MAX_ADDRS];
	struct xm_link_addr6 ipv6[XM_LINK_MAX_ADDRS];
};

/* Where every frame buffer of the link is. Nothing leaked when
 * xm_frame_accounting_sum(a) == a->total. */
struct xm_frame_accounting {
	uint64_t total;        /* buffers the link owns (UMEM frames, sim pool) */
	uint64_t free;         /* in the backend's free pool */
	uint64_t fill;         /* posted to the fill ring(s) */
	uint64_t rx_ring;      /* filled by the kernel, not yet taken by rx() */
	uint64_t rx_held;      /* lent by rx(), not yet rx_release()d */
	uint64_t tx_held;      /* lent by tx_alloc(), not yet submitted/aborted */
	uint64_t tx_in_flight; /* in the tx or completion ring */
};

static inline uint64_t
xm_frame_accounting_sum(const struct xm_frame_accounting *a)
{
	return a->free + a->fill + a->rx_ring + a->rx_held + a->tx_held +
	       a->tx_in_flight;
}

/* A TCP super-segment (what a kernel TSO sender hands its device): one
 * Ethernet + IP + TCP header for the whole, whose IP lengths cover all of
 * it and whose TCP checksum field holds the pseudo-header sum (RFC 1071
 * form, not complemented: the partial checksum the device completes). The
 * device cuts it into segments of gso_size payload bytes, each with a copy
 * of the header: sequence number advanced, PSH and FIN only on the last,
 * IP length, IPv4 id and both checksums per segment (the kernel's
 * tcp_gso_segment and inet_gso_segment). */
struct xm_link_gso {
	const uint8_t *hdr;          /* Ethernet + IP + TCP (with options) */
	uint32_t hlen;
	uint32_t l4_off;             /* TCP header's offset in hdr */
	const uint8_t *data[2];      /* the payload, in up to 2 pieces (a
				      * ring that wraps); len 0: unused */
	uint32_t len[2];
	uint16_t gso_size;
	bool v6;
};

struct xm_link_ops {
	/* Up to max received frames; returns the count (0: none) or -errno.
	 * Frames stay valid until rx_release. */
	int (*rx)(struct xm_link *l, struct xm_frame *f, int max);
	void (*rx_release)(struct xm_link *l, struct xm_frame *f, int n);
	/* Optional (NULL): whether rx() would return frames now, without
	 * taking any; cheap enough to call in a loop (a look at the rings). */
	bool (*rx_ready)(struct xm_link *l);
	/* Lend up to n empty buffers (data, cap set; len 0); returns how many
	 * (0 when none are free right now) or -errno. */
	int (*tx_alloc)(struct xm_link *l, struct xm_frame *f, int n);
	/* Take back all n frames whatever the result; returns how many were
	 * queued for transmission (the rest dropped and counted) or -errno. */
	int (*tx_submit)(struct xm_link *l, struct xm_frame *f, int n);
	/* Give back lent, unsent tx buffers. */
	void (*tx_abort)(struct xm_link *l, struct xm_frame *f, int n);
	/* An fd that polls readable when rx() may return frames; -1: none. */
	int (*poll_fd)(struct xm_link *l);
	int (*info)(struct xm_link *l, struct xm_link_info *info);
	/* family AF_INET/AF_INET6; dst, nexthop, src: 4 or 16 bytes, network
	 * order. nexthop = dst when on-link. -ENETUNREACH: no route. */
	int (*route)(struct xm_link *l, int family, const void *dst,
		     void *nexthop, void *src);
	/* 0 and mac filled, or -EAGAIN: resolution asked of the kernel, try
	 * later; -EHOSTUNREACH: resolution failed. */
	int (*neigh)(struct xm_link *l, int family, const void *nexthop,
		     uint8_t mac[6]);
	int (*accounting)(struct xm_link *l, struct xm_frame_accounting *a);
	/* Optional (NULL: no segmentation offload; also when info says
	 * gso_max_size 0). Send one TCP super-segment after every frame
	 * tx_submit took before it. 0 or -errno; -EAGAIN/-ENOBUFS: nothing
	 * sent, the caller sends the data as frames. */
	int (*tx_gso)(struct xm_link *l, const struct xm_link_gso *g);
	/* Optional (NULL): wait until rx may have frames or the link's clock
	 * reaches deadline_ns (UINT64_MAX: no deadline). 0 or -errno;
	 * -EDEADLK from the sim when nothing can ever arrive. */
	int (*wait)(struct xm_link *l, uint64_t deadline_ns);
	/* Optional (NULL): do deferred work (wake the kernel for tx, reap
	 * completions and report them to tx_done, refill the fill ring). */
	void (*kick)(struct xm_link *l);
	void (*close)(struct xm_link *l);
};

/* Backends embed this as their first member. */
struct xm_link {
	const struct xm_link_ops *ops;
	/* Set by the link's user (the stack); NULL: no one listens. len is
	 * the frame's len as submitted. Called from inside tx_alloc,
	 * tx_submit, kick and close. */
	void (*tx_done)(void *ctx, void *owner, uint32_t len);
	void *tx_done_ctx;
};

/* For backends: the buffer of a frame submitted with owner is free again. */
static inline void xm_link_tx_done(struct xm_link *l, void *owner, uint32_t len)
{
	if (owner && l->tx_done)
		l->tx_done(l->tx_done_ctx, owner, len);
}

struct xm_clock {
	uint64_t (*now_ns)(void *ctx);
	void *ctx;
};

static inline uint64_t xm_clock_now(const struct xm_clock *c)
{
	return c->now_ns(c->ctx);
}

/* CLOCK_MONOTONIC. */
struct xm_clock xm_clock_monotonic(void);

/* ---- AF_XDP backend (afxdp*.c) ---- */

enum xm_afxdp_copy_mode {
	XM_AFXDP_AUTO = 0,   /* zero-copy when the driver allows it, else copy */
	XM_AFXDP_ZEROCOPY,   /* zero-copy or fail */
	XM_AFXDP_COPY,       /* copy mode */
};

struct xm_afxdp_opts {
	uint32_t queue_first;     /* first rx queue */
	uint32_t queue_count;     /* 0: every rx queue of the device */
	uint32_t frames;          /* UMEM frames; 0: default */
	uint32_t frame_size;      /* 0: default (4096) */
	enum xm_afxdp_copy_mode copy_mode;
	bool busy_poll;
	uint32_t busy_poll_budget; /* 0: default */
	bool no_need_wakeup;       /* disable XDP_USE_NEED_WAKEUP */
	bool no_multibuf;          /* do not ask for XDP_USE_SG (as on a kernel
				    * before 6.6) */
	bool no_gso;               /* no packet socket for tx_gso (pktsock.c):
				    * TCP sends frames of one MTU */
};

/* Rx queues the device uses (ethtool's channel counts; 1 when the driver
 * reports none). */
int xm_link_dev_rx_queues(const char *dev, uint32_t *n);

/* Opens the XSKs and inserts them into the device's pinned xsks map.
 * -ENOENT: xdpmux not attached to dev. */
int xm_link_afxdp_open(const char *dev, const struct xm_afxdp_opts *o,
		       struct xm_link **out);

/* ---- shared AF_XDP backend (shared.c): a device the daemon serves ---- */

struct xmd_conn;
/* Takes conn (closed on failure too). */
int xm_link_shared_open(const char *dev, struct xmd_conn *conn,
			struct xm_link **out);

/* ---- simulated backend (sim*.c) ---- */

/* A simulated Ethernet segment with a virtual clock. Every frame one link
 * sends reaches each other link whose MAC (or broadcast) matches, subject to
 * the sender's impairments. Randomness comes only from the seed. */
struct xm_sim;

struct xm_sim_impair {
	uint32_t loss_ppm;      /* frames dropped, parts per million */
	uint32_t dup_ppm;       /* frames delivered twice */
	uint32_t reorder_ppm;   /* frames held back by up to reorder_ns */
	uint32_t corrupt_ppm;   /* frames with one bit flipped past Ethernet */
	uint64_t delay_ns;      /* one-way latency */
	uint64_t reorder_ns;    /* extra hold for reordered frames */
	/* Frames sent without delay_ns, overtaking those sent up to delay_ns
	 * before them (netem's reorder). */
	uint32_t overtake_ppm;
	/* A sent frame's buffer stays in flight this long before it
	 * completes and returns to the pool (a slow device); 0: at once;
	 * UINT64_MAX: held until changed (xm_link_sim_set_impair). */
	uint64_t tx_done_ns;
};

struct xm_sim_opts {
	struct xm_sim *sim;
	uint8_t mac[6];
	uint32_t mtu;            /* 0: 1500 */
	char kind[16];           /* xm_link_info.kind to report ("veth") */
	uint32_t frames;         /* buffer pool; 0: 1024 */
	uint32_t n_ipv4;
	uint32_t n_ipv6;
	struct xm_link_addr4 ipv4[XM_LINK_MAX_ADDRS];
	struct xm_link_addr6 ipv6[XM_LINK_MAX_ADDRS];
	struct xm_sim_impair tx; /* applied to frames this link sends */
	/* No tx_gso: TCP sends frames of one MTU, as over AF_XDP alone. */
	bool no_gso;
	/* Until this virtual time the neighbours this link is asked for are
	 * unresolved (-EAGAIN, a kernel entry still INCOMPLETE); 0: never. */
	uint64_t neigh_ready_ns;
};

int xm_sim_new(uint64_t seed, struct xm_sim **out);
/* Free after every link of the sim is closed. */
void xm_sim_free(struct xm_sim *sim);
uint64_t xm_sim_seed(const struct xm_sim *sim);
uint64_t xm_sim_now(const struct xm_sim *sim);
void xm_sim_advance(struct xm_sim *sim, uint64_t ns);
struct xm_clock xm_sim_clock(struct xm_sim *sim);
/* Frames on the wire not yet delivered (to any link). */
uint64_t xm_sim_in_flight(const struct xm_sim *sim);
/* Virtual time of the earliest frame on the wire; UINT64_MAX: none. */
uint64_t xm_sim_next_delivery(const struct xm_sim *sim);

int xm_link_sim_open(const struct xm_sim_opts *o, struct xm_link **out);
/* Virtual time of the earliest frame on the wire to this link. */
uint64_t xm_link_sim_next_delivery(struct xm_link *l);
/* Change a sim link's impairments mid-test. */
void xm_link_sim_set_impair(struct xm_link *l, const struct xm_sim_impair *im);
/* Change when a sim link's neighbours resolve (xm_sim_opts.neigh_ready_ns). */
void xm_link_sim_set_neigh_ready(struct xm_link *l, uint64_t ns);

#endif /* XM_LINK_H */
