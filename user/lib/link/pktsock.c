// SPDX-License-Identifier: MIT
#include <endian.h>
#include <errno.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <unistd.h>
#include <linux/if_ether.h>
#include <linux/if_packet.h>
#include <linux/virtio_net.h>

#include "pktsock.h"

/* Room for a few 64 KB super-segments in flight: a NIC frees each skb at
 * its tx completion (a veth at once, when the peer has taken it). */
#define PKTSOCK_SNDBUF (4 << 20)

int xm_pktsock_open(struct xm_pktsock *p, int ifindex)
{
	struct sockaddr_ll sll = { .sll_family = AF_PACKET, .sll_ifindex = ifindex };
	int one = 1, sndbuf = PKTSOCK_SNDBUF, err;

	p->fd = -1;
	p->ifindex = ifindex;
	/* Protocol 0: no receive hook, so no incoming frame is ever copied
	 * to this socket. */
	p->fd = socket(AF_PACKET, SOCK_RAW | SOCK_CLOEXEC, 0);
	if (p->fd < 0)
		return -errno;
	/* Not PACKET_QDISC_BYPASS: its direct path (__dev_direct_xmit)
	 * drops a GSO skb the device cannot take whole (TSO off, GSO on)
	 * instead of segmenting it, as dev_queue_xmit does. */
	if (setsockopt(p->fd, SOL_PACKET, PACKET_VNET_HDR, &one, sizeof(one)) ||
	    bind(p->fd, (struct sockaddr *)&sll, sizeof(sll))) {
		err = -errno;
		xm_pktsock_close(p);
		return err;
	}
	/* Capped at net.core.wmem_max; the default still takes three. */
	setsockopt(p->fd, SOL_SOCKET, SO_SNDBUF, &sndbuf, sizeof(sndbuf));
	return 0;
}

int xm_pktsock_send(struct xm_pktsock *p, const struct xm_link_gso *g)
{
	uint32_t plen = g->len[0] + g->len[1];
	/* virtio_net_hdr is little-endian on a packet socket (vio_le()). */
	struct virtio_net_hdr vh = {
		.flags = VIRTIO_NET_HDR_F_NEEDS_CSUM,
		.gso_type = plen > g->gso_size ? (g->v6 ? VIRTIO_NET_HDR_GSO_TCPV6 :
							  VIRTIO_NET_HDR_GSO_TCPV4)
					       : VIRTIO_NET_HDR_GSO_NONE,
		.hdr_len = htole16((uint16_t)g->hlen),
		.gso_size = htole16(g->gso_size),
		.csum_start = htole16((uint16_t)g->l4_off),
		.csum_offset = htole16(16),   /* struct tcphdr's check */
	};
	struct sockaddr_ll sll = {
		.sll_family = AF_PACKET,
		.sll_ifindex = p->ifindex,
		.sll_protocol = htobe16(g->v6 ? ETH_P_IPV6 : ETH_P_IP),
	};
	struct iovec iov[4] = {
		{ &vh, sizeof(vh) },
		{ (void *)g->hdr, g->hlen },
		{ (void *)g->data[0], g->len[0] },
		{ (void *)g->data[1], g->len[1] },
	};
	struct msghdr msg = {
		.msg_name = &sll,
		.msg_namelen = sizeof(sll),
		.msg_iov = iov,
		.msg_iovlen = g->len[1] ? 4 : g->len[0] ? 3 : 2,
	};

	if (p->fd < 0)
		return -EOPNOTSUPP;
	if (sendmsg(p->fd, &msg, MSG_DONTWAIT) < 0)
		return errno == EWOULDBLOCK ? -EAGAIN : -errno;
	return 0;
}

void xm_pktsock_close(struct xm_pktsock *p)
{
	if (p->fd >= 0)
		close(p->fd);
	p->fd = -1;
}
