/* SPDX-License-Identifier: MIT */
/*
 * Run the xdpmux XDP program on crafted frames through BPF_PROG_TEST_RUN.
 *
 * The harness loads the program from its skeleton (build/include/
 * xdpmux.skel.h) directly, not through libxdp and not attached anywhere: its
 * maps are private to the harness. Bindings are written by the control
 * library itself (xm_ctl_open_maps on the skeleton's maps), so the tests
 * check the program against the map layout the CLI really writes.
 *
 *   struct xh *h;
 *   xh_open(&h);
 *   int b = xh_bind(h, IPPROTO_UDP, XM_FAMILY_ANY, NULL, 7000, XM_FALLBACK_PASS);
 *   struct xh_expect e = { .verdict = XDP_PASS, .stats = XH_S(FALLBACK) | XH_S(PASS),
 *                          .binding = b };
 *   char why[256];
 *   if (xh_check(h, frame, len, &e, why, sizeof(why)))  ... why says what differed
 *
 * A test run's frame arrives on rx queue 0. Unless a test puts an AF_XDP
 * socket in the xsks map (xh_set_xsk), there is none, so a bound packet
 * takes its binding's fallback (XDP_PASS or XDP_DROP, counted
 * XM_STAT_FALLBACK). With one at its owner's key the program returns
 * XDP_REDIRECT: a test run does not carry the redirect out.
 *
 * Functions return 0 (or an index) or a negative errno and never print.
 */
#ifndef XM_TEST_XDP_HARNESS_H
#define XM_TEST_XDP_HARNESS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <xdpmux/maps.h>

#define XH_BINDINGS_MAX 64
#define XH_NONE         (-1)      /* xh_expect.binding: no binding counts */
#define XH_S(name)      (1u << XM_STAT_##name)

struct xh;

/* Load a fresh copy of the program and its maps. */
int xh_open(struct xh **out);
void xh_close(struct xh *h);
int xh_prog_fd(const struct xh *h);
int xh_map_fd(const struct xh *h, const char *name);  /* XM_MAP_* */

/* Add a binding (addr: 4 or 16 bytes by family, NULL for XM_FAMILY_ANY;
 * port in host order). Returns the binding's index in the harness (for
 * xh_expect.binding and xh_binding_counters). */
int xh_bind(struct xh *h, uint8_t proto, uint8_t family, const void *addr,
	    uint16_t port, enum xm_fallback fallback);
/* The same, owned by owner slot owner_slot (xh_bind: slot 0). */
int xh_bind_as(struct xh *h, uint8_t proto, uint8_t family, const void *addr,
	       uint16_t port, enum xm_fallback fallback, uint32_t owner_slot);
/* Put AF_XDP socket fd at key XM_XSK_KEY(owner_slot, queue) of the xsks
 * map (fd < 0: remove it). The harness remembers which owners have one on
 * queue 0, the queue a test run's frame arrives on (xh_has_xsk), because
 * an XSKMAP cannot be read from userspace. */
int xh_set_xsk(struct xh *h, uint32_t owner_slot, uint32_t queue, int fd);
bool xh_has_xsk(const struct xh *h, uint32_t owner_slot);
/* Remove binding idx; port_index is recomputed. */
int xh_unbind(struct xh *h, int idx);
/* Remove every binding of owner slot owner_slot (xm_ctl_unbind_owner_slot);
 * *removed counts them. */
int xh_unbind_owner_slot(struct xh *h, uint32_t owner_slot, size_t *removed);
const struct xm_binding_key *xh_binding_key(const struct xh *h, int idx);

/* Run one frame. The kernel refuses frames shorter than an Ethernet header
 * (-EINVAL); frames over a page need a frags-aware program, which ours is. */
int xh_run(struct xh *h, const void *frame, size_t len, uint32_t *verdict);

/* Counters summed over CPUs. */
int xh_stats(struct xh *h, struct xm_stat_val out[XM_STAT_MAX]);
int xh_binding_counters(struct xh *h, int idx, struct xm_binding_stats *out);
/* Entries in the frags4 and frags6 maps together. */
int xh_frags_count(struct xh *h);

/* What one frame did: its verdict and how much each counter moved (bind[]
 * indexed like xh_bind's indices; zero for removed bindings). */
struct xh_delta {
	uint32_t verdict;
	struct xm_stat_val stats[XM_STAT_MAX];
	struct xm_binding_stats bind[XH_BINDINGS_MAX];
};
int xh_run_delta(struct xh *h, const void *frame, size_t len, struct xh_delta *d);
unsigned xh_nbindings(const struct xh *h);   /* indices ever handed out */

/* What one frame must do: its verdict, which XM_STAT counters go up (by one
 * packet and the frame's length in bytes; every other stays put) and which
 * binding's counters go up the same way (XH_NONE: none; every other binding
 * stays put). */
struct xh_expect {
	uint32_t verdict;
	uint32_t stats;     /* XH_S(...) | ... */
	int binding;
	size_t counted_len; /* bytes the counters should move by; 0: the frame's */
};

/* The linear part of a BPF_PROG_TEST_RUN frame (x86_64, 4 KiB pages): a
 * longer frame is multi-buffer. */
#define XH_LINEAR_MAX (4096 - 256 - 320)

/* The bytes the program counts for a frame of frame_len bytes whose IP
 * datagram ends ip_end bytes in: all of them, except that trailing bytes
 * after a datagram that ends in the linear part of a multi-buffer frame are
 * not counted (the program takes them for link padding, see
 * datagram_fits() in bpf/xdpmux.bpf.c). */
size_t xh_counted_len(size_t frame_len, size_t ip_end);

/* Run the frame and compare. 0: as expected; -EDOM: it differed, `why` says
 * how; other negative errno: the run itself failed. */
int xh_check(struct xh *h, const void *frame, size_t len,
	     const struct xh_expect *e, char *why, size_t why_len);

const char *xh_verdict_name(uint32_t verdict);

#endif /* XM_TEST_XDP_HARNESS_H */
