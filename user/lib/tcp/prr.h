/* SPDX-License-Identifier: MIT */
/*
 * Proportional Rate Reduction (RFC 6937, with the SSRB bound as Linux
 * uses it): during fast recovery, cwnd follows what the network delivers,
 * so that at the end of recovery inflight has come down to ssthresh
 * smoothly instead of in a burst of silence (cwnd = ssthresh at once) or
 * of sending (when losses leave the pipe small).
 */
#ifndef XM_TCP_PRR_H
#define XM_TCP_PRR_H

#include <stdint.h>

struct xm_prr {
	uint32_t recover_fs;       /* RecoverFS: bytes in flight at entry */
	uint64_t delivered;        /* prr_delivered */
	uint64_t out;              /* prr_out */
};

/* Recovery starts with recover_fs bytes outstanding (snd.nxt - snd.una). */
void xm_prr_init(struct xm_prr *p, uint32_t recover_fs);
/* One ACK delivered @delivered bytes (cumulatively or by SACK): returns the
 * cwnd to send with, pipe + sndcnt (RFC 6937 3). */
uint32_t xm_prr_on_ack(struct xm_prr *p, uint32_t delivered, uint32_t pipe,
		       uint32_t ssthresh, uint32_t mss);
/* Bytes sent (new or retransmitted) during recovery. */
void xm_prr_on_send(struct xm_prr *p, uint32_t bytes);

#endif /* XM_TCP_PRR_H */
