/* SPDX-License-Identifier: MIT */
/*
 * The generic socket: what every protocol's socket shares (fd, addresses,
 * options, flags), plus a per-protocol ops table (struct xm_proto) the
 * socket calls dispatch to. UDP is one entry; TCP adds another.
 *
 * Adding a protocol (TCP):
 *  - a struct xm_proto row in transport/proto.c (type SOCK_STREAM,
 *    ipproto IPPROTO_TCP) and its pcb in the union below;
 *  - its own struct xm_port_table in struct xm_stack (ports.h gives the
 *    port hook, ephemeral ports and address-overlap rules);
 *  - input() gets every datagram of its ipproto, already reassembled and
 *    addressed to us; output goes through xm_ip_output() with the source
 *    and destination in struct xm_ipinfo and xm_l4_csum() for the checksum;
 *  - per-connection timers: struct xm_timer in the pcb, armed on
 *    &st->timers, owner found with xm_container_of();
 *  - ops return -EAGAIN to make a blocking call wait (the socket layer
 *    drives the stack until poll() changes or the timeout passes); connect
 *    returns -EINPROGRESS to start a handshake (blocking connect then waits
 *    for POLLOUT/POLLERR and returns so_error); accept creates the child
 *    with xm_sock_new(); close returns XM_SOCK_KEEP to outlive the fd and
 *    calls xm_sock_destroy() when done, destroy() drops it at stack close.
 */
#ifndef XM_SOCKET_SOCK_H
#define XM_SOCKET_SOCK_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>
#include <sys/types.h>

#include "../net/net.h"
#include "../tcp/tcp.h"
#include "../transport/udp.h"

struct xm_stack;

/* An endpoint: family 0 means unspecified. Ports in host order. An IPv4
 * peer of a dual-stack IPv6 socket is kept as AF_INET. */
struct xm_ep {
	int family;
	uint8_t addr[16];
	uint16_t port;
};

struct xm_sock;

/* What a datagram carries besides its payload and peer: recvmsg's and
 * sendmsg's ancillary data (socket/msg.c). On receive every field is
 * filled; on send, has_src asks for that source address and tos /
 * hop_limit >= 0 override the socket's for this datagram. */
struct xm_pktmeta {
	int family;                  /* of dst (receive) */
	uint8_t dst[16];             /* receive: the address it was sent to */
	uint8_t src[16];             /* send: the source to use */
	bool has_src;
	int tos, hop_limit;
	uint64_t rx_ns;              /* receive: stack clock when it came */
};

/* Per-protocol operations; every function returns >= 0 or -errno. A NULL
 * entry means the operation does not apply (EOPNOTSUPP). */
struct xm_proto {
	int type;           /* SOCK_DGRAM, SOCK_STREAM */
	int ipproto;        /* IPPROTO_UDP, ... */
	void (*input)(struct xm_stack *st, const struct xm_ipinfo *ip,
		      const uint8_t *l4, uint32_t len);
	int (*bind)(struct xm_sock *s, const struct xm_ep *local);
	/* family 0: dissolve the association (connect(AF_UNSPEC)). */
	int (*connect)(struct xm_sock *s, const struct xm_ep *peer);
	int (*listen)(struct xm_sock *s, int backlog);
	int (*accept)(struct xm_sock *s, struct xm_sock **child);
	/* to NULL: the connected peer. -EAGAIN when it would block. meta
	 * (NULL: none) as struct xm_pktmeta says; a stream ignores it. */
	ssize_t (*sendto)(struct xm_sock *s, const void *buf, size_t len,
			  int flags, const struct xm_ep *to,
			  const struct xm_pktmeta *meta);
	/* Optional: as sendto to the connected peer, with the bytes of file
	 * fd from off on, read straight into the protocol's send buffer; 0
	 * at the file's end. Without it the socket layer reads them into a
	 * buffer of its own and calls sendto. */
	ssize_t (*sendfile)(struct xm_sock *s, int fd, off_t off, size_t len,
			    int flags);
	ssize_t (*recvfrom)(struct xm_sock *s, void *buf, size_t len,
			    int flags, struct xm_ep *from, struct xm_pktmeta *meta);
	/* POLLIN | POLLOUT | POLLERR | POLLHUP | POLLRDHUP as poll(2) has
	 * them; the socket layer masks them with the caller's events. */
	short (*poll)(struct xm_sock *s);
	int (*shutdown)(struct xm_sock *s, int how);
	/* Optional: options the socket layer does not know (any level);
	 * -ENOPROTOOPT for those the protocol does not know either. get
	 * truncates to *len and sets it, as getsockopt(2). */
	int (*setsockopt)(struct xm_sock *s, int level, int name,
			  const void *val, socklen_t len);
	int (*getsockopt)(struct xm_sock *s, int level, int name, void *val,
			  socklen_t *len);
	/* Optional: the queue sizes of xm_ioctl (SIOCINQ, SIOCOUTQ,
	 * SIOCOUTQNSD) into *out; -ENOTTY for a request it does not serve. */
	int (*ioctl)(struct xm_sock *s, unsigned long req, int *out);
	/* The application closed the fd. 0: free the socket now;
	 * XM_SOCK_KEEP: the protocol still needs it (e.g. TCP's FIN exchange)
	 * and calls xm_sock_destroy() when done. */
	int (*close)(struct xm_sock *s);
	/* Optional: free protocol state at once, no exchange with the peer;
	 * called at stack close for sockets close() kept. */
	void (*destroy)(struct xm_sock *s);
};

#define XM_SOCK_KEEP 1

struct xm_sock {
	int fd;                      /* -1 once the application closed it */
	struct xm_stack *st;
	const struct xm_proto *proto;
	struct xm_sock *st_next;     /* stack's list of sockets */
	struct xm_sock **st_pprev;
	struct xm_sock *port_next;   /* protocol's port chain (ports.h) */
	int domain;                  /* AF_INET, AF_INET6 */
	int type;
	bool nonblock;
	bool reuseaddr;
	bool reuseport;              /* SO_REUSEPORT: ports.h */
	uint8_t tos;                 /* IP_TOS / IPV6_TCLASS of what it sends */
	uint8_t hop_limit;           /* IP_TTL / IPV6_UNICAST_HOPS; 0: default */
	int priority;                /* SO_PRIORITY: kept and reported only */
	uint8_t pmtudisc;            /* IP(V6)_MTU_DISCOVER, IP_PMTUDISC_* */
	bool recverr;                /* IP(V6)_RECVERR: nothing is ever queued */
	uint16_t rx_cmsgs;           /* XM_RX_*: ancillary data recvmsg gives */
	bool v6only;
	bool bound;
	bool connected;
	uint8_t shut;                /* bit 0 SHUT_RD, bit 1 SHUT_WR */
	int so_error;
	uint32_t rcvbuf;
	uint32_t sndbuf;
	uint64_t rcvtimeo_ns;        /* 0: block forever */
	uint64_t sndtimeo_ns;
	struct xm_ep local;
	struct xm_ep peer;
	union {
		struct xm_udp_pcb udp;
		struct xm_tcp_pcb tcp;
	} pcb;
};

/* Ancillary data asked for (setsockopt), given by recvmsg (msg.c). */
#define XM_RX_PKTINFO     0x01   /* IP_PKTINFO */
#define XM_RX_PKTINFO6    0x02   /* IPV6_RECVPKTINFO */
#define XM_RX_TOS         0x04   /* IP_RECVTOS */
#define XM_RX_TCLASS      0x08   /* IPV6_RECVTCLASS */
#define XM_RX_TTL         0x10   /* IP_RECVTTL */
#define XM_RX_HOPLIMIT    0x20   /* IPV6_RECVHOPLIMIT */
#define XM_RX_TIMESTAMP   0x40   /* SO_TIMESTAMP */
#define XM_RX_TIMESTAMPNS 0x80   /* SO_TIMESTAMPNS */

#define XM_SHUT_RD 1
#define XM_SHUT_WR 2

/* socket.c: a new socket of proto on st with an fd, linked into the stack
 * (for socket() and for a protocol's accept()); -errno. */
int xm_sock_new(struct xm_stack *st, const struct xm_proto *proto, int domain,
		struct xm_sock **out);
/* The send / receive of xm_sendto / xm_recvfrom with ancillary data
 * (msg.c), waiting as the socket's flags say; -errno. */
ssize_t xm_sock_sendto(struct xm_sock *s, const void *buf, size_t len, int flags,
		       const struct xm_ep *to, const struct xm_pktmeta *meta);
ssize_t xm_sock_recvfrom(struct xm_sock *s, void *buf, size_t len, int flags,
			 struct xm_ep *from, struct xm_pktmeta *meta);
/* Release a socket's fd (if it still has one) and free it. */
void xm_sock_destroy(struct xm_sock *s);

/* transport/proto.c: the protocol for a socket() triple, or -errno. */
int xm_proto_find(int domain, int type, int protocol,
		  const struct xm_proto **out);

/* fdtable.c */
int xm_fd_alloc(struct xm_sock *s);
void xm_fd_free(int fd);
/* The socket of fd, or NULL (errno EBADF set). */
struct xm_sock *xm_fd_get(int fd);

/* Close every socket of st (stack close). */
void xm_socks_close_all(struct xm_stack *st);

#endif /* XM_SOCKET_SOCK_H */
