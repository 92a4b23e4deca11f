// SPDX-License-Identifier: MIT
/*
 * What a TCP connection reports about itself: TCP_INFO (struct tcp_info,
 * the fields and units of Linux's tcp_get_info) and the queue sizes of the
 * SIOCINQ / SIOCOUTQ / SIOCOUTQNSD ioctls. Counts in packets are bytes
 * divided by the send MSS, as the kernel's are packets of that size.
 */
#include <errno.h>
#include <linux/sockios.h>
#include <sys/ioctl.h>
#include <linux/tcp.h>
#include <string.h>

#include "../core/stack.h"
#include "../net/net.h"
#include "cc_internal.h"
#include "tcb.h"

/* Linux's enum of TCP states (include/net/tcp_states.h). */
static uint8_t linux_state(enum xm_tcp_state s)
{
	static const uint8_t map[] = {
		[XM_TCP_CLOSED] = 7,      [XM_TCP_LISTEN] = 10,
		[XM_TCP_SYN_SENT] = 2,    [XM_TCP_SYN_RECEIVED] = 3,
		[XM_TCP_ESTABLISHED] = 1, [XM_TCP_FIN_WAIT_1] = 4,
		[XM_TCP_FIN_WAIT_2] = 5,  [XM_TCP_CLOSE_WAIT] = 8,
		[XM_TCP_CLOSING] = 11,    [XM_TCP_LAST_ACK] = 9,
		[XM_TCP_TIME_WAIT] = 6,
	};

	return (unsigned)s < sizeof(map) ? map[s] : 7;
}

static bool synchronized(const struct xm_tcp_conn *c)
{
	return c->state >= XM_TCP_ESTABLISHED;
}

/* Data bytes queued and sent at least once (snd_nxt may count our FIN). */
static uint32_t data_sent(const struct xm_tcp_conn *c)
{
	uint32_t n = synchronized(c) ? c->snd_nxt - c->snd_una : 0;

	return n < c->sndbuf.len ? n : c->sndbuf.len;
}

int xm_tcp_queue_size(const struct xm_tcp_conn *c, unsigned long req, int *out)
{
	if (req != SIOCINQ && req != SIOCOUTQ && req != SIOCOUTQNSD)
		return -ENOTTY;
	if (c->state == XM_TCP_LISTEN)
		return -EINVAL;   /* as Linux tcp_ioctl */
	if (req == SIOCINQ)
		*out = (int)c->rcvbuf.len;
	else if (req == SIOCOUTQ)
		*out = (int)c->sndbuf.len;
	else
		*out = (int)(c->sndbuf.len - data_sent(c));
	return 0;
}

static uint32_t pkts(uint32_t bytes, uint32_t mss)
{
	return (bytes + mss - 1) / mss;
}

static uint32_t ms_since(uint64_t now_us, uint64_t then_us)
{
	return then_us && now_us > then_us ? (uint32_t)((now_us - then_us) / 1000) : 0;
}

/* Application bytes the peer acknowledged: the SYN and a FIN take one
 * sequence number each and are not data. */
static uint64_t bytes_acked(const struct xm_tcp_conn *c)
{
	uint32_t n;

	if (!synchronized(c))
		return 0;
	n = c->snd_una - c->iss - 1;
	if (c->fin_sent && !c->sndbuf.len && c->snd_una == c->snd_max && n)
		n--;
	return n;
}

static uint64_t bytes_received(const struct xm_tcp_conn *c)
{
	uint32_t n;

	if (!synchronized(c) && c->state != XM_TCP_SYN_RECEIVED)
		return 0;
	n = c->rcv_nxt - c->irs - 1;
	if (c->fin_rcvd && !c->fin_ooo && n)
		n--;
	return n;
}

static void fill(const struct xm_tcp_conn *c, struct tcp_info *ti)
{
	uint32_t mss = c->mss ? c->mss : XM_TCP_DEFAULT_MSS;
	uint64_t now = xm_tcp_now_us(c);
	uint32_t rcv_mss = c->info.rcv_mss;

	memset(ti, 0, sizeof(*ti));
	ti->tcpi_state = linux_state(c->state);
	if (c->state == XM_TCP_LISTEN) {
		/* Linux: the accept queue and the backlog. */
		ti->tcpi_unacked = c->acc_q_len;
		ti->tcpi_sacked = (uint32_t)c->backlog;
		return;
	}
	ti->tcpi_ca_state = c->rto_recovery ? 4 /* Loss */
			    : c->in_recovery ? 3 /* Recovery */
			    : c->dupacks || c->sb.sacked_bytes ? 1 /* Disorder */ : 0;
	ti->tcpi_retransmits = (uint8_t)c->rtx_count;
	ti->tcpi_probes = (uint8_t)(c->persist ? c->persist_backoff : c->keep_probes);
	ti->tcpi_backoff = c->rto.backoff;
	if (c->ts_ok)
		ti->tcpi_options |= TCPI_OPT_TIMESTAMPS;
	if (c->sack_ok)
		ti->tcpi_options |= TCPI_OPT_SACK;
	if (c->ws_ok) {
		ti->tcpi_options |= TCPI_OPT_WSCALE;
		ti->tcpi_snd_wscale = c->snd_wscale & 0xf;
		ti->tcpi_rcv_wscale = c->rcv_wscale & 0xf;
	}
	ti->tcpi_rto = xm_rto_timeout_us(&c->rto);
	ti->tcpi_ato = XM_TCP_DELACK_US;
	ti->tcpi_snd_mss = mss;
	if (!rcv_mss)   /* Linux's first guess (tcp_initialize_rcv_mss) */
		rcv_mss = c->adv_mss && c->adv_mss < mss ? c->adv_mss : mss;
	ti->tcpi_rcv_mss = c->adv_mss && rcv_mss > c->adv_mss ? c->adv_mss : rcv_mss;
	if (synchronized(c))
		ti->tcpi_unacked = pkts(c->snd_max - c->snd_una, mss);
	ti->tcpi_sacked = pkts(c->sb.sacked_bytes, mss);
	ti->tcpi_lost = pkts(c->rack.lost_bytes, mss);
	ti->tcpi_retrans = pkts(c->rack.rtx_bytes, mss);
	ti->tcpi_last_data_sent = ms_since(now, c->info.last_data_sent);
	ti->tcpi_last_data_recv = ms_since(now, c->info.last_data_recv);
	ti->tcpi_last_ack_recv = ms_since(now, c->last_rcv_time);
	ti->tcpi_pmtu = mss + XM_TCP_HLEN +
			(c->family == AF_INET6 ? XM_IPV6_HLEN : XM_IPV4_HLEN);
	ti->tcpi_rcv_ssthresh = xm_tcp_rcv_window(c);
	ti->tcpi_rtt = c->rto.srtt_us;
	ti->tcpi_rttvar = c->rto.rttvar_us;
	ti->tcpi_snd_ssthresh = c->cc.ssthresh >= XM_CC_INFINITE_SSTHRESH
					? 0x7fffffff   /* TCP_INFINITE_SSTHRESH */
					: c->cc.ssthresh / mss;
	ti->tcpi_snd_cwnd = c->cc.cwnd / mss;
	ti->tcpi_advmss = c->adv_mss;
	ti->tcpi_reordering = 3;   /* the dupack threshold (RFC 5681) */
	ti->tcpi_rcv_space = c->rcv_space;
	ti->tcpi_total_retrans = c->info.total_retrans;
	/* No pacing: Linux's "unlimited" for the ceiling. */
	ti->tcpi_max_pacing_rate = ~0ULL;
	ti->tcpi_bytes_acked = bytes_acked(c);
	ti->tcpi_bytes_received = bytes_received(c);
	ti->tcpi_segs_out = c->info.segs_out;
	ti->tcpi_segs_in = c->info.segs_in;
	ti->tcpi_notsent_bytes = c->sndbuf.len - data_sent(c);
	ti->tcpi_min_rtt = c->rack.min_rtt_us ? c->rack.min_rtt_us : ~0U;
	ti->tcpi_data_segs_in = c->info.data_segs_in;
	ti->tcpi_data_segs_out = c->info.data_segs_out;
	ti->tcpi_delivered = (uint32_t)(bytes_acked(c) / mss);
	ti->tcpi_bytes_sent = c->info.bytes_sent;
	ti->tcpi_bytes_retrans = c->info.bytes_retrans;
	ti->tcpi_snd_wnd = c->snd_wnd;
}

int xm_tcp_info_get(const struct xm_tcp_conn *c, void *val, socklen_t *len)
{
	struct tcp_info ti;
	socklen_t n = *len < (socklen_t)sizeof(ti) ? *len : (socklen_t)sizeof(ti);

	fill(c, &ti);
	memcpy(val, &ti, n);
	*len = n;
	return 0;
}
