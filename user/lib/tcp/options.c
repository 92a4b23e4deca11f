// SPDX-License-Identifier: MIT
/*
 * TCP options (RFC 9293 3.1 and 3.7.1, RFC 7323, RFC 2018): parse what a
 * peer sent, strictly enough that a malformed area is refused as a whole
 * (RFC 9293 3.1: "MUST be prepared to handle an illegal option length"),
 * and build ours in the byte layout Linux uses, so captures compare 1:1.
 */
#include <errno.h>
#include <string.h>

#include "../net/net.h"
#include "options.h"

#define LEN_MSS        4
#define LEN_WS         3
#define LEN_SACK_PERM  2
#define LEN_TS         10
#define LEN_SACK_BASE  2
#define LEN_SACK_BLOCK 8

/* One option with a length byte: kind at p[0], length p[1] == olen. */
static int parse_one(const uint8_t *p, uint8_t olen, bool syn,
		     struct xm_tcp_opts *o)
{
	switch (p[0]) {
	case XM_TCPOPT_MSS:
		if (olen != LEN_MSS)
			return -EINVAL;
		if (syn) {
			o->mss = xm_get16(p + 2);
			o->mss_ok = o->mss != 0;   /* 0 is no MSS at all */
		}
		return 0;
	case XM_TCPOPT_WS:
		if (olen != LEN_WS)
			return -EINVAL;
		if (syn) {
			/* RFC 7323 2.3: log and use 14 when larger. */
			o->ws_ok = true;
			o->ws = p[2] > XM_TCP_WS_MAX ? XM_TCP_WS_MAX : p[2];
		}
		return 0;
	case XM_TCPOPT_SACK_PERM:
		if (olen != LEN_SACK_PERM)
			return -EINVAL;
		if (syn)
			o->sack_ok = true;
		return 0;
	case XM_TCPOPT_TS:
		if (olen != LEN_TS)
			return -EINVAL;
		o->ts_ok = true;
		o->tsval = xm_get32(p + 2);
		o->tsecr = xm_get32(p + 6);
		return 0;
	case XM_TCPOPT_SACK:
		if (olen < LEN_SACK_BASE + LEN_SACK_BLOCK ||
		    (olen - LEN_SACK_BASE) % LEN_SACK_BLOCK)
			return -EINVAL;
		/* RFC 2018 3: SACK blocks on a SYN mean nothing. */
		if (syn)
			return 0;
		for (uint8_t i = LEN_SACK_BASE; i < olen; i += LEN_SACK_BLOCK) {
			if (o->nsack == XM_TCP_SACK_MAX)
				break;
			o->sack[o->nsack].start = xm_get32(p + i);
			o->sack[o->nsack].end = xm_get32(p + i + 4);
			o->nsack++;
		}
		return 0;
	default:
		return 0;   /* RFC 9293 3.1: unknown options are skipped */
	}
}

int xm_tcp_opts_parse(const uint8_t *p, uint32_t len, bool syn,
		      struct xm_tcp_opts *o)
{
	memset(o, 0, sizeof(*o));
	if (len > XM_TCP_OPTS_MAX)
		return -EINVAL;
	uint32_t i = 0;
	while (i < len) {
		uint8_t kind = p[i];
		if (kind == XM_TCPOPT_EOL)
			break;
		if (kind == XM_TCPOPT_NOP) {
			i++;
			continue;
		}
		if (len - i < 2)
			return -EINVAL;        /* kind without its length byte */
		uint8_t olen = p[i + 1];
		if (olen < 2 || olen > len - i)
			return -EINVAL;        /* zero length loops, or truncated */
		int err = parse_one(p + i, olen, syn, o);
		if (err)
			return err;
		i += olen;
	}
	return 0;
}

uint32_t xm_tcp_opts_build(uint8_t *p, uint32_t cap,
			   const struct xm_tcp_opts *o, bool syn)
{
	uint32_t room = cap < XM_TCP_OPTS_MAX ? cap & ~3u : XM_TCP_OPTS_MAX;
	uint32_t n = 0;

	if (syn && o->mss_ok && room - n >= 4) {
		p[n++] = XM_TCPOPT_MSS;
		p[n++] = LEN_MSS;
		xm_put16(p + n, o->mss);
		n += 2;
	}
	bool sack_perm_done = false;
	if (o->ts_ok && room - n >= 12) {
		/* Linux folds SACK-permitted into the timestamp's padding. */
		if (syn && o->sack_ok) {
			p[n++] = XM_TCPOPT_SACK_PERM;
			p[n++] = LEN_SACK_PERM;
			sack_perm_done = true;
		} else {
			p[n++] = XM_TCPOPT_NOP;
			p[n++] = XM_TCPOPT_NOP;
		}
		p[n++] = XM_TCPOPT_TS;
		p[n++] = LEN_TS;
		xm_put32(p + n, o->tsval);
		xm_put32(p + n + 4, o->tsecr);
		n += 8;
	}
	if (syn && o->sack_ok && !sack_perm_done && room - n >= 4) {
		p[n++] = XM_TCPOPT_NOP;
		p[n++] = XM_TCPOPT_NOP;
		p[n++] = XM_TCPOPT_SACK_PERM;
		p[n++] = LEN_SACK_PERM;
	}
	if (syn && o->ws_ok && room - n >= 4) {
		p[n++] = XM_TCPOPT_NOP;
		p[n++] = XM_TCPOPT_WS;
		p[n++] = LEN_WS;
		p[n++] = o->ws > XM_TCP_WS_MAX ? XM_TCP_WS_MAX : o->ws;
	}
	if (!syn && o->nsack && room - n >= 4 + LEN_SACK_BLOCK) {
		uint32_t fit = (room - n - 4) / LEN_SACK_BLOCK;
		uint32_t nb = o->nsack < fit ? o->nsack : fit;
		if (nb > XM_TCP_SACK_MAX)
			nb = XM_TCP_SACK_MAX;
		p[n++] = XM_TCPOPT_NOP;
		p[n++] = XM_TCPOPT_NOP;
		p[n++] = XM_TCPOPT_SACK;
		p[n++] = (uint8_t)(LEN_SACK_BASE + nb * LEN_SACK_BLOCK);
		for (uint32_t i = 0; i < nb; i++) {
			xm_put32(p + n, o->sack[i].start);
			xm_put32(p + n + 4, o->sack[i].end);
			n += LEN_SACK_BLOCK;
		}
	}
	return n;
}
