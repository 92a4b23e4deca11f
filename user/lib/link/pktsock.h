/* SPDX-License-Identifier: MIT */
/*
 * The AF_XDP link's segmentation offload: AF_XDP cannot send a GSO packet,
 * so TCP super-segments leave through an AF_PACKET socket with
 * PACKET_VNET_HDR on the same device. The kernel then carries one GSO skb
 * per super-segment, as it does for its own TSO sender: the NIC segments
 * it, or a veth hands it whole to its peer. The socket is bound with
 * protocol 0, so it receives (and copies) nothing.
 */
#ifndef XM_LINK_PKTSOCK_H
#define XM_LINK_PKTSOCK_H

#include <stdint.h>

#include "link.h"

struct xm_pktsock {
	int fd;                   /* -1: no offload (the link sends frames) */
	int ifindex;
};

/* Opens the socket when dev's generic segmentation offload is on (ethtool
 * -K DEV gso on, as a kernel TCP sender would use it). 0 with fd set; 0
 * with fd -1: the device has GSO off; -errno: no socket could be made
 * (-EPERM without CAP_NET_RAW). */
int xm_pktsock_open(struct xm_pktsock *p, const char *dev, int ifindex);
/* One super-segment: 0, or -errno (-EAGAIN: the socket's send buffer is
 * full; nothing was sent). */
int xm_pktsock_send(struct xm_pktsock *p, const struct xm_link_gso *g);
void xm_pktsock_close(struct xm_pktsock *p);

#endif /* XM_LINK_PKTSOCK_H */
