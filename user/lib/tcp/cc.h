/* SPDX-License-Identifier: MIT */
/*
 * Congestion control behind one small ops table, selectable per socket
 * (TCP_CONGESTION): "cubic" (RFC 9438, default) and "reno"/"newreno"
 * (RFC 5681 + RFC 6582).
 *
 * Units: cwnd, ssthresh, mss, acked and inflight are bytes. The engine
 * calls:
 *   init            at connection setup (IW = 10 segments, RFC 6928);
 *   on_ack          for every ACK that advances snd_una (acked = bytes newly
 *                   acknowledged, inflight = bytes outstanding before the
 *                   ACK, rtt_us = a valid RTT sample or 0). No growth while
 *                   in_recovery;
 *   on_loss         when entering fast recovery (3 dupacks / RFC 6675 loss):
 *                   sets ssthresh and cwnd = ssthresh, in_recovery = true;
 *   on_rto          at a retransmission timeout: ssthresh = reduced window,
 *                   cwnd = 1 MSS (RFC 5681 3.1 loss window), leaves recovery;
 *   on_recovery_end when snd_una passes the recovery point (RFC 6582):
 *                   cwnd = ssthresh (deflate), in_recovery = false.
 * The engine may send while inflight (or RFC 6675 pipe) < cwnd.
 */
#ifndef XM_TCP_CC_H
#define XM_TCP_CC_H

#include <stdbool.h>
#include <stdint.h>

#define XM_CC_IW_SEGS      10u       /* RFC 6928, Linux TCP_INIT_CWND */
#define XM_CC_NAME_MAX     16u       /* Linux TCP_CA_NAME_MAX */

struct xm_cc;

struct xm_cc_ops {
	const char *name;
	void (*init)(struct xm_cc *cc, uint32_t mss, uint64_t now_us);
	void (*on_ack)(struct xm_cc *cc, uint32_t acked, uint32_t inflight,
		       uint32_t rtt_us, uint64_t now_us);
	void (*on_loss)(struct xm_cc *cc, uint32_t inflight, uint64_t now_us);
	void (*on_rto)(struct xm_cc *cc, uint32_t inflight, uint64_t now_us);
	void (*on_recovery_end)(struct xm_cc *cc, uint64_t now_us);
};

struct xm_cc_newreno {
	uint32_t bytes_acked;    /* RFC 5681 3.1 byte counting in CA */
};

/* HyStart++ (RFC 9406) slow start, used by CUBIC as RFC 9438 4.10 asks. */
struct xm_hystart {
	uint8_t state;           /* XM_HYSTART_SS, _CSS or _DONE */
	uint8_t css_rounds;      /* rounds spent in conservative slow start */
	uint16_t samples;        /* RTT samples this round (rttSampleCount) */
	uint32_t last_min_us;    /* lastRoundMinRTT, UINT32_MAX = none */
	uint32_t cur_min_us;     /* currentRoundMinRTT */
	uint32_t css_base_us;    /* cssBaselineMinRtt */
	uint32_t round_left;     /* bytes to be acked before the round ends */
};

/* RFC 9438 state; windows in segments (double, as the RFC's formulas). */
struct xm_cc_cubic {
	double w_max;            /* window before the last reduction (4.2) */
	double k;                /* seconds, eq. 2 */
	double w_est;            /* Reno-friendly estimate, eq. 4 (4.3) */
	double cwnd_frac;        /* fractional cwnd growth not yet applied */
	uint64_t epoch_us;       /* start of the current CA epoch, 0 = none */
	uint64_t last_ack_us;    /* previous on_ack, to skip idle time (5.8) */
	uint32_t min_rtt_us;     /* smallest RTT sample seen */
	uint32_t srtt_us;        /* last RTT sample, for W(t+RTT) (4.2) */
	struct xm_hystart hs;
};

struct xm_cc {
	const struct xm_cc_ops *ops;
	uint32_t cwnd, ssthresh, mss;
	bool in_recovery;
	union {
		struct xm_cc_newreno newreno;
		struct xm_cc_cubic cubic;
	} u;
};

extern const struct xm_cc_ops xm_cc_newreno_ops;
extern const struct xm_cc_ops xm_cc_cubic_ops;

/* "cubic" (also NULL or "": the default), "reno", "newreno"; NULL if none. */
const struct xm_cc_ops *xm_cc_find(const char *name);

/* CUBIC's W_cubic(t) in segments, RFC 9438 eq. 1, exposed for tests:
 * C*(t-K)^3 + W_max with t in seconds. */
double xm_cc_cubic_w(double t_s, double k_s, double w_max);
/* RFC 9438 eq. 2: K = cbrt((W_max - cwnd_epoch)/C). */
double xm_cc_cubic_k(double w_max, double cwnd_epoch);

#define XM_CUBIC_C     0.4
#define XM_CUBIC_BETA  0.7

#endif /* XM_TCP_CC_H */
