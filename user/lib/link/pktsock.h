/* SPDX-License-Identifier: MIT */
/*
 * The AF_XDP link's segmentation offload: AF_XDP cannot send a GSO packet,
 * so TCP super-segments leave through an AF_PACKET socket with
 * PACKET_VNET_HDR on the same device. The kernel then carries one GSO skb
 * per super-segment, as it does for its own TCP: the NIC segments it, a
 * veth hands it whole to its peer, and a device without TSO/GSO gets it
 * cut (and summed, without checksum offload) in software by
 * dev_queue_xmit. Linux's TCP builds GSO skbs whatever the device's GSO
 * setting (sk_setup_caps), because one skb cut late costs less than one
 * per segment all the way down; so does this socket. The socket is bound
 * with protocol 0, so it receives (and copies) nothing.
 */
#ifndef XM_LINK_PKTSOCK_H
#define XM_LINK_PKTSOCK_H

#include <stdint.h>

#include "link.h"

struct xm_pktsock {
	int fd;                   /* -1: no offload (the link sends frames) */
	int ifindex;
};

/* Opens the socket on ifindex: 0, or -errno (-EPERM without CAP_NET_RAW;
 * then fd stays -1 and the link sends frames of one MTU). */
int xm_pktsock_open(struct xm_pktsock *p, int ifindex);
/* One super-segment: 0, or -errno (-EAGAIN: the socket's send buffer is
 * full; nothing was sent). */
int xm_pktsock_send(struct xm_pktsock *p, const struct xm_link_gso *g);
void xm_pktsock_close(struct xm_pktsock *p);

#endif /* XM_LINK_PKTSOCK_H */
