// SPDX-License-Identifier: MIT
/* Proportional Rate Reduction, RFC 6937 3 (PRR-SSRB). */
#include "prr.h"

void xm_prr_init(struct xm_prr *p, uint32_t recover_fs)
{
	p->recover_fs = recover_fs ? recover_fs : 1;
	p->delivered = 0;
	p->out = 0;
}

void xm_prr_on_send(struct xm_prr *p, uint32_t bytes)
{
	p->out += bytes;
}

uint32_t xm_prr_on_ack(struct xm_prr *p, uint32_t delivered, uint32_t pipe,
		       uint32_t ssthresh, uint32_t mss)
{
	int64_t sndcnt;

	p->delivered += delivered;
	if (pipe > ssthresh) {
		/* Proportional part: sndcnt = CEIL(prr_delivered * ssthresh
		 * / RecoverFS) - prr_out. */
		uint64_t allowed = (p->delivered * ssthresh + p->recover_fs - 1) /
				   p->recover_fs;

		sndcnt = (int64_t)allowed - (int64_t)p->out;
	} else {
		/* Slow start reduction bound: grow back towards ssthresh no
		 * faster than slow start, at least one MSS per ACK. */
		int64_t limit = (int64_t)p->delivered - (int64_t)p->out;

		if (limit < (int64_t)delivered)
			limit = delivered;
		limit += mss;
		sndcnt = (int64_t)ssthresh - pipe;
		if (sndcnt > limit)
			sndcnt = limit;
	}
	if (sndcnt < 0)
		sndcnt = 0;
	return pipe + (uint32_t)sndcnt;
}
