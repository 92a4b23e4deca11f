// SPDX-License-Identifier: MIT
/*
 * sockaddr <-> endpoint, with the errno Linux gives for each malformed
 * address (checked against the kernel's inet_bind / inet6_bind /
 * udp_sendmsg / udpv6_sendmsg / move_addr_to_kernel).
 */
#include <errno.h>
#include <netinet/in.h>
#include <string.h>
#include <sys/socket.h>

#include "sockaddr.h"

static const uint8_t v4mapped_prefix[12] = { 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff };

int xm_sockaddr_parse(const struct xm_sock *s, const struct sockaddr *sa,
		      socklen_t len, enum xm_addr_use use, struct xm_ep *ep)
{
	memset(ep, 0, sizeof(*ep));
	if (len > (socklen_t)sizeof(struct sockaddr_storage))
		return -EINVAL;
	if (len > 0 && !sa)
		return -EFAULT;
	if (use == XM_ADDR_CONNECT && len >= sizeof(sa_family_t) &&
	    sa->sa_family == AF_UNSPEC)
		return 0;   /* dissolve the association: family 0 */
	if (s->domain == AF_INET) {
		const struct sockaddr_in *in = (const void *)sa;

		if (len < (socklen_t)sizeof(*in))
			return -EINVAL;
		if (in->sin_family != AF_INET) {
			/* Linux lets bind(AF_UNSPEC, INADDR_ANY) through for
			 * old programs. */
			if (!(use == XM_ADDR_BIND && in->sin_family == AF_UNSPEC &&
			      in->sin_addr.s_addr == htonl(INADDR_ANY)))
				return -EAFNOSUPPORT;
		}
		ep->family = AF_INET;
		memcpy(ep->addr, &in->sin_addr, 4);
		ep->port = ntohs(in->sin_port);
		return 0;
	}
	/* AF_INET6 socket */
	if (len >= sizeof(sa_family_t) && sa->sa_family == AF_INET &&
	    use == XM_ADDR_SENDTO) {
		const struct sockaddr_in *in = (const void *)sa;

		/* udpv6_sendmsg hands IPv4 destinations to IPv4. */
		if (len < (socklen_t)sizeof(*in))
			return -EINVAL;
		if (s->v6only)
			return -ENETUNREACH;
		ep->family = AF_INET;
		memcpy(ep->addr, &in->sin_addr, 4);
		ep->port = ntohs(in->sin_port);
		return 0;
	}
	{
		const struct sockaddr_in6 *in6 = (const void *)sa;

		if (len < 24 /* SIN6_LEN_RFC2133 */)
			return -EINVAL;
		if (in6->sin6_family != AF_INET6)
			return -EAFNOSUPPORT;
		ep->port = ntohs(in6->sin6_port);
		if (!memcmp(&in6->sin6_addr, v4mapped_prefix, 12)) {
			if (s->v6only)
				return use == XM_ADDR_BIND ? -EINVAL : -ENETUNREACH;
			ep->family = AF_INET;
			memcpy(ep->addr, (const uint8_t *)&in6->sin6_addr + 12, 4);
		} else {
			ep->family = AF_INET6;
			memcpy(ep->addr, &in6->sin6_addr, 16);
		}
	}
	return 0;
}

int xm_sockaddr_fill(const struct xm_sock *s, const struct xm_ep *ep,
		     struct sockaddr *sa, socklen_t *len)
{
	struct sockaddr_storage ss;
	socklen_t n;

	if (!sa || !len)
		return -EFAULT;
	if ((int)*len < 0)
		return -EINVAL;
	memset(&ss, 0, sizeof(ss));
	if (s->domain == AF_INET) {
		struct sockaddr_in *in = (void *)&ss;

		in->sin_family = AF_INET;
		in->sin_port = htons(ep->port);
		memcpy(&in->sin_addr, ep->addr, 4);
		n = sizeof(*in);
	} else {
		struct sockaddr_in6 *in6 = (void *)&ss;

		in6->sin6_family = AF_INET6;
		in6->sin6_port = htons(ep->port);
		if (ep->family == AF_INET) {
			memcpy(&in6->sin6_addr, v4mapped_prefix, 12);
			memcpy((uint8_t *)&in6->sin6_addr + 12, ep->addr, 4);
		} else {
			memcpy(&in6->sin6_addr, ep->addr, 16);
		}
		n = sizeof(*in6);
	}
	memcpy(sa, &ss, *len < n ? *len : n);
	*len = n;
	return 0;
}
