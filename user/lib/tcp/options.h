/* SPDX-License-Identifier: MIT */
/*
 * TCP option parsing and building: MSS (RFC 9293 3.7.1), window scale and
 * timestamps (RFC 7323), SACK-permitted and SACK blocks (RFC 2018).
 */
#ifndef XM_TCP_OPTIONS_H
#define XM_TCP_OPTIONS_H

#include <stdbool.h>
#include <stdint.h>

#define XM_TCPOPT_EOL        0
#define XM_TCPOPT_NOP        1
#define XM_TCPOPT_MSS        2
#define XM_TCPOPT_WS         3
#define XM_TCPOPT_SACK_PERM  4
#define XM_TCPOPT_SACK       5
#define XM_TCPOPT_TS         8

#define XM_TCP_WS_MAX        14   /* RFC 7323 2.3 */
#define XM_TCP_OPTS_MAX      40   /* data offset 15 words - 5 header words */
#define XM_TCP_SACK_MAX      4    /* 4 blocks fit without timestamps, 3 with */

struct xm_tcp_sack_block {
	uint32_t start, end;         /* host byte order, [start, end) */
};

struct xm_tcp_opts {
	bool mss_ok;
	uint16_t mss;
	bool ws_ok;
	uint8_t ws;
	bool sack_ok;                /* SACK-permitted (SYN only) */
	bool ts_ok;
	uint32_t tsval, tsecr;
	uint8_t nsack;               /* SACK blocks present (non-SYN) */
	struct xm_tcp_sack_block sack[XM_TCP_SACK_MAX];
};

/*
 * Parse the options area @p (@len bytes, after the 20-byte header) into @o
 * (zeroed first). Returns 0, or -EINVAL when malformed: a length byte < 2 or
 * running past the end, a known option with the wrong length, a truncated
 * option. Unknown options are skipped by their length. MSS, WS and
 * SACK-permitted are honoured only when @syn; WS above 14 is clamped to 14
 * (RFC 7323 2.3). SACK blocks are read only when !@syn; more than 4 is
 * malformed by length. An MSS of 0 is ignored (mss_ok stays false).
 */
int xm_tcp_opts_parse(const uint8_t *p, uint32_t len, bool syn,
		      struct xm_tcp_opts *o);

/*
 * Write the options of @o into @p (capacity @cap) in Linux's layout:
 * SYN: MSS, then SACK-perm+TS (4,2,8,10) or NOP,NOP,TS or NOP,NOP,SACK-perm,
 *      then NOP+WS (1,3,3,ws).
 * non-SYN: NOP,NOP,TS then NOP,NOP,SACK(n blocks) -- as many SACK blocks as
 *      fit in what remains of 40 bytes and @cap.
 * Returns bytes written: a multiple of 4, NOP-padded, never more than @cap
 * (options that do not fit are left out).
 */
uint32_t xm_tcp_opts_build(uint8_t *p, uint32_t cap,
			   const struct xm_tcp_opts *o, bool syn);

#endif /* XM_TCP_OPTIONS_H */
