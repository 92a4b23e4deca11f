/* SPDX-License-Identifier: MIT */
/* UDP (RFC 768): per-socket state and the protocol entry. */
#ifndef XM_TRANSPORT_UDP_H
#define XM_TRANSPORT_UDP_H

#include <stdint.h>

struct xm_dgram;
struct xm_stack;
struct xm_wmem;
struct xm_sock;
struct xm_proto;

#define XM_UDP_HLEN 8
/* Each queued datagram is charged its payload plus this, in the spirit of
 * the kernel charging skb truesize against SO_RCVBUF. */
#define XM_UDP_DGRAM_OVERHEAD 256

struct xm_udp_pcb {
	struct xm_dgram *rxq_head;
	struct xm_dgram *rxq_tail;
	uint32_t rxq_bytes;          /* charged bytes queued */
	uint32_t rxq_count;
	uint64_t rcvbuf_drops;
	/* Bytes of sent datagrams not yet given back (SO_SNDBUF); created on
	 * the first send, left to the last completion at close. */
	struct xm_wmem *wmem;
};

extern const struct xm_proto xm_proto_udp;


#endif /* XM_TRANSPORT_UDP_H */
