// SPDX-License-Identifier: MIT
/*
 * The protocol table: which transport serves a socket() triple, and which
 * one an incoming IP datagram goes to. TCP slots in as one more row.
 */
#include <errno.h>
#include <netinet/in.h>
#include <sys/socket.h>

#include "../core/stack.h"
#include "../socket/sock.h"

static const struct xm_proto *const protos[] = {
	&xm_proto_udp,
	&xm_proto_tcp,
};

#define N_PROTOS (sizeof(protos) / sizeof(protos[0]))

int xm_proto_find(int domain, int type, int protocol,
		  const struct xm_proto **out)
{
	int base = type & ~(SOCK_NONBLOCK | SOCK_CLOEXEC);

	if (domain != AF_INET && domain != AF_INET6)
		return -EAFNOSUPPORT;
	if (base < SOCK_STREAM || base > SOCK_PACKET || base == 4 || base == 6 ||
	    base == 7 || base == 8 || base == 9)
		return -EINVAL;   /* as Linux: not a socket type */
	for (size_t i = 0; i < N_PROTOS; i++) {
		if (protos[i]->type != base)
			continue;
		if (protocol != 0 && protocol != protos[i]->ipproto)
			return -EPROTONOSUPPORT;
		*out = protos[i];
		return 0;
	}
	/* SOCK_STREAM until TCP is added, SOCK_RAW, ...: not served here. */
	return -EPROTONOSUPPORT;
}

void xm_transport_input(struct xm_stack *st, const struct xm_ipinfo *ip,
			const uint8_t *l4, uint32_t len)
{
	for (size_t i = 0; i < N_PROTOS; i++) {
		if (protos[i]->ipproto == ip->proto) {
			protos[i]->input(st, ip, l4, len);
			return;
		}
	}
	st->stats.rx_other_proto++;
}
