/* SPDX-License-Identifier: MIT */
/*
 * libxdpmux runtime: a userspace UDP/IP stack over AF_XDP with a socket API
 * that mirrors POSIX. Calls take the same argument types as their POSIX
 * namesakes and return -1 with errno set as Linux would for the same misuse.
 *
 *   struct xm_stack *st;
 *   struct xm_stack_opts o = XM_STACK_OPTS_INIT;
 *   xm_stack_open("eth0", &o, &st);
 *   int fd = xm_socket(AF_INET, SOCK_DGRAM, 0);   // on the current stack
 *   xm_bind(fd, ...); xm_recvfrom(fd, ...); xm_sendto(fd, ...);
 *
 * Threads: a stack is single-threaded and run-to-completion; use it (and its
 * sockets) from one thread at a time. xm_socket() creates the socket on the
 * calling thread's current stack (the last one opened or chosen with
 * xm_stack_use()); xm_socket_on() names the stack explicitly.
 *
 * Socket descriptors are not kernel fds: they are numbered from
 * XM_FD_BASE up, so passing a kernel fd to an xm_ call fails with EBADF.
 * For an event loop, add xm_stack_fd() to epoll and call xm_stack_poll()
 * when it is readable (and before sleeping, see xm_stack_timeout_ms()).
 *
 * UDP sends: a socket's datagrams count against its SO_SNDBUF until the
 * device has sent them (the AF_XDP completion ring gives their frames
 * back). As on Linux, a send is admitted while less than SO_SNDBUF is
 * outstanding, and POLLOUT is reported while less than half is and the
 * device has a free tx buffer. A send that finds no room, or no free tx
 * buffer, blocks until completions make room (at most SO_SNDTIMEO, then
 * EAGAIN) or, non-blocking or with MSG_DONTWAIT, fails with EAGAIN; the
 * datagram is never dropped for it. ENOBUFS: the datagram needs more tx
 * buffers than the device has at all.
 */
#ifndef XDPMUX_XDPMUX_H
#define XDPMUX_XDPMUX_H

#include <poll.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <sys/socket.h>
#include <sys/types.h>

#ifdef __cplusplus
extern "C" {
#endif

#define XM_FD_BASE (1 << 24)

/* Ephemeral ports (connect/sendto on an unbound socket). The kernel must
 * not hand these out itself: its net.ipv4.ip_local_port_range (default
 * 32768-60999) must stay below 61000, or the overlap be listed in
 * net.ipv4.ip_local_reserved_ports. xm_stack_open() checks both and fails
 * with -EADDRINUSE otherwise. */
#define XM_EPHEMERAL_FIRST 61000
#define XM_EPHEMERAL_LAST  65535

struct xm_stack;
struct xm_link;
struct xm_clock;

struct xm_stack_opts {
	/* AF_XDP link */
	uint32_t queue_first;     /* first rx queue to serve */
	uint32_t queue_count;     /* 0: all rx queues of the device */
	uint32_t frames;          /* UMEM frames; 0: default */
	int zerocopy;             /* 0 auto, 1 force zero-copy, -1 force copy */
	bool busy_poll;
	/* Do not ask for multi-buffer AF_XDP (XDP_USE_SG), as on a kernel
	 * before 6.6: packets larger than one UMEM frame are lost. */
	bool no_multibuf;
	/* TCP segmentation offload off: send frames of one MTU each, not
	 * super-segments of up to 64 KB through an AF_PACKET socket (the
	 * kernel segments them, or a veth hands them whole to its peer).
	 * Also XDPMUX_TSO=0 in the environment. Off by itself when the
	 * device bounds GSO packets to one segment (ip link set DEV
	 * gso_max_segs 1, as for Linux's TCP), without CAP_NET_RAW, and for
	 * a client of the device daemon. A device with TSO and GSO off still
	 * gets super-segments, cut by the kernel in software, as Linux's TCP
	 * sends them. */
	bool no_tso;
	/* Microseconds a blocking call (xm_recv, xm_accept, xm_poll, ...)
	 * keeps polling the link before it sleeps, as Linux's busy_read:
	 * a frame that comes meanwhile is seen without a wakeup, which is
	 * most of a round trip's latency. 0: sleep at once. */
	uint32_t spin_us;
	/* stack */
	uint32_t rcvbuf_default;  /* per-socket receive buffer; 0: 212992 */
	uint32_t sndbuf_default;  /* per-socket send buffer; 0: 212992 */
	uint32_t reasm_mem_max;   /* bytes held by reassembly; 0: 4 MiB */
	uint32_t reasm_timeout_ms;/* 0: 30000 (Linux ipfrag_time) */
	bool skip_port_range_check; /* do not check ip_local_port_range */
	/* SYN budget of the device's XDP program (xm_ctl_set_syn_budget):
	 * SYNs per second per CPU let through to bound TCP ports, the rest
	 * dropped in XDP (the "syn_budget" counter of xdpmux stats); 0
	 * leaves the device's setting alone. syn_burst 0: syn_rate / 10. */
	uint32_t syn_rate;
	uint32_t syn_burst;
	uint64_t tcp_mem_max;     /* bytes of TCP buffers, all connections
				   * together; 0: 1 GiB. A connection that
				   * would pass it is refused (listen_drops)
				   * or does not grow its window. */
	/* Called for each port the stack binds / releases (0 or -errno; a
	 * failing bind fails xm_bind). xm_stack_open() installs the control
	 * library's binding map hooks; xm_stack_open_link() uses these. */
	int (*bind_hook)(void *ctx, int proto, int family, const void *addr,
			 uint16_t port, bool bind);
	void *hook_ctx;
};

#define XM_STACK_OPTS_INIT { 0 }

/* 0 or -errno. When a device daemon (xdpmuxd DEV) serves dev, the stack is
 * its client: the daemon hands it an AF_XDP socket per rx queue on its
 * shared UMEM and binds ports for it within its policy (no privileges
 * needed); a refusal fails with the daemon's errno (EACCES, ...) and its
 * reason in xm_error_detail(), and once the daemon is gone every call fails
 * with ENETDOWN. Otherwise it opens the device alone, as follows.
 * Opens the AF_XDP link on dev (xdpmux must be attached: else
 * -ENOENT), reads the kernel's view of the device, removes stale bindings
 * (xm_ctl_gc). Each port a socket of the stack binds is added to the
 * device's bindings map owned by this pid, and removed when its last socket
 * closes; binding a port a kernel socket uses fails with EADDRINUSE. */
int xm_stack_open(const char *dev, const struct xm_stack_opts *o,
		  struct xm_stack **out);
/* Why the last failed call of this thread failed, when a device daemon
 * said so (its refusal, one line); NULL otherwise. */
const char *xm_error_detail(void);
/* For tests and other backends: the stack takes ownership of link. */
int xm_stack_open_link(struct xm_link *link, const struct xm_clock *clock,
		       const struct xm_stack_opts *o, struct xm_stack **out);
/* Closes every socket (unbinding its port) and the link. */
void xm_stack_close(struct xm_stack *st);
/* What a peer must do for this stack's link to take all its traffic, as a
 * sentence for the application to show at start-up; NULL: nothing. Set when
 * the link cannot receive a packet larger than one buffer (no multi-buffer
 * AF_XDP: Linux before 6.6, or no_multibuf). */
const char *xm_stack_notice(const struct xm_stack *st);

/* Make st the calling thread's stack for xm_socket(). */
void xm_stack_use(struct xm_stack *st);
/* An fd to put in an epoll set: readable when xm_stack_poll() has work. */
int xm_stack_fd(struct xm_stack *st);
/* An fd to poll() or ppoll() for POLLIN with the timeout of
 * xm_stack_timeout_ms(): readable when the link has frames (-1: the link
 * has none; sleep the timeout). Cheaper for the senders than
 * xm_stack_fd(), which nests the link's fd in an epoll set that the kernel
 * calls back for every frame it queues, waited on or not. */
int xm_stack_wait_fd(const struct xm_stack *st);
/* Receive and process what the link has, run due timers, flush output.
 * Returns the number of frames processed or -errno. Never blocks. */
int xm_stack_poll(struct xm_stack *st);
/* Poll the link without sleeping until it has frames (1) or usec
 * microseconds or the next timer passed (0); -EINVAL for a NULL stack. For
 * an application's own event loop: call it when xm_stack_poll() found
 * nothing and before sleeping on xm_stack_fd(), so that traffic arriving
 * within usec is served without a wakeup. Costs a CPU while it spins;
 * returns 0 at once on a link that cannot be polled (the simulated one). */
int xm_stack_spin(struct xm_stack *st, uint32_t usec);
/* Hold (true) or release (false) the frames that sends and the stack make:
 * while held they are queued, not handed to the link, and go out together
 * at the release (or when a batch of 64 fills), one transmit kick for many
 * sends. For an event loop: hold while serving the events a wait returned,
 * release before waiting again. */
void xm_stack_tx_hold(struct xm_stack *st, bool hold);
/* Milliseconds until the next timer (-1: none); at most 1 while a sender
 * waits for tx completions, which do not make xm_stack_fd() readable. */
int xm_stack_timeout_ms(const struct xm_stack *st);

struct xm_stack_stats {
	uint64_t rx_frames;
	uint64_t rx_bytes;
	uint64_t tx_frames;
	uint64_t tx_bytes;
	uint64_t rx_not_for_us;      /* wrong MAC/address, other ethertype */
	uint64_t rx_malformed;       /* truncated or inconsistent headers */
	uint64_t rx_bad_ip_csum;     /* IPv4 header checksum */
	uint64_t rx_bad_l4_csum;     /* UDP and TCP checksum */
	uint64_t rx_superframes;     /* frames above the link MTU taken whole
				      * (a peer's TSO/GSO superpackets, jumbo
				      * frames: multi-buffer AF_XDP) */
	uint64_t rx_csum_partial;    /* UDP/TCP segments taken with a veth
				      * peer's partial checksum (README) */
	uint64_t rx_no_socket;       /* no socket bound to the port */
	uint64_t rx_rcvbuf_drops;    /* receive buffer full */
	uint64_t rx_other_proto;     /* IP protocol we do not serve */
	uint64_t reasm_ok;           /* datagrams reassembled */
	uint64_t reasm_timeouts;     /* incomplete datagrams expired */
	uint64_t reasm_overlaps;     /* datagrams dropped for overlapping frags */
	uint64_t reasm_mem_drops;    /* datagrams dropped for the memory bound */
	uint64_t reasm_bad;          /* inconsistent fragments */
	uint64_t reasm_mem_bytes;    /* gauge: bytes held by reassembly now */
	uint64_t frag_tx;            /* fragments sent */
	uint64_t tx_no_route;
	uint64_t tx_neigh_wait;      /* datagrams queued for neighbour resolution */
	uint64_t tx_neigh_drops;     /* dropped: neighbour unresolved/queue full */
	uint64_t tx_no_buffer;       /* dropped: no tx buffer from the link (a UDP
				      * send waits or fails EAGAIN instead) */
	uint64_t tx_link_drops;      /* dropped by the link on submit */
	/* TCP (all zero until the stack's first TCP socket) */
	uint64_t tcp_active_opens;   /* connect()s that sent a SYN */
	uint64_t tcp_passive_opens;  /* connections a listener accepted */
	uint64_t tcp_conns;          /* gauge: connections now, any state */
	uint64_t tcp_segs_in;
	uint64_t tcp_segs_out;
	uint64_t tcp_retrans_segs;
	uint64_t tcp_tso_sends;      /* super-segments sent (xm_stack_opts.no_tso) */
	uint64_t tcp_tso_segs;       /* the segments they carried (also in
				      * tcp_segs_out) */
	uint64_t tcp_bad_csum;       /* also in rx_bad_l4_csum */
	uint64_t tcp_malformed;      /* bad data offset, options, port 0 */
	uint64_t tcp_bad_flags;      /* illegal flag combinations dropped */
	uint64_t tcp_rst_in;         /* RSTs that closed or refused */
	uint64_t tcp_rst_out;
	uint64_t tcp_rst_ignored;    /* outside the window: dropped */
	uint64_t tcp_challenge_acks; /* RFC 5961 */
	uint64_t tcp_paws_drops;     /* RFC 7323 PAWS */
	uint64_t tcp_ooo_segs;       /* queued out of order */
	uint64_t tcp_syncookies_sent;
	uint64_t tcp_syncookies_ok;
	uint64_t tcp_syncookies_bad; /* ACKs to a listener with no valid cookie */
	uint64_t tcp_listen_drops;   /* SYNs and handshakes dropped: queues full */
	uint64_t tcp_mem_drops;      /* segments dropped for the memory bound */
	uint64_t tcp_timeouts;       /* connections that timed out */
	uint64_t tcp_rto_fires;
	uint64_t tcp_fast_recoveries;
	uint64_t tcp_persist_probes;
	uint64_t tcp_rack_losses;    /* segments RACK (RFC 8985) declared lost */
	uint64_t tcp_tlp_probes;     /* tail loss probes sent */
	uint64_t tcp_tlp_recoveries; /* probes that repaired a tail loss */
	uint64_t tcp_dsacks_in;      /* D-SACKs received (RFC 2883) */
	uint64_t tcp_dsacks_out;     /* D-SACKs sent */
	uint64_t tcp_dsack_undos;    /* cwnd reductions undone: spurious */
	uint64_t tcp_frto_undos;     /* timeouts found spurious (F-RTO) */
	uint64_t tcp_eifel_undos;    /* recoveries found spurious by timestamps */
	uint64_t tcp_dsacks_dubious; /* D-SACKs beyond our retransmissions:
				      * the network's duplicates, ignored */
	uint64_t tcp_mem_bytes;      /* gauge: TCP buffer bytes held now */
	uint64_t tcp_mem_peak;       /* the most tcp_mem_bytes has been */
	uint64_t tcp_mem_max;        /* the bound (xm_stack_opts.tcp_mem_max) */
	/* polling before sleep (xm_stack_opts.spin_us, xm_stack_spin) */
	uint64_t spin_hits;          /* frames came while polling: no wakeup */
	uint64_t spin_timeouts;      /* none came: the caller went to sleep */
};
int xm_stack_stats(const struct xm_stack *st, struct xm_stack_stats *out);
/* Print every counter of s as "PREFIXname value" lines, in struct order:
 * the one format the examples print and the selftests parse. */
void xm_stack_stats_print(FILE *f, const struct xm_stack_stats *s,
			  const char *prefix);

/* Frame accounting of the link: total and accounted frames. accounted ==
 * total when no frame leaked. 0 or -errno. */
int xm_stack_frames(const struct xm_stack *st, uint64_t *total,
		    uint64_t *accounted);

/* ---- sockets ---- */

int xm_socket(int domain, int type, int protocol);
int xm_socket_on(struct xm_stack *st, int domain, int type, int protocol);
int xm_bind(int fd, const struct sockaddr *addr, socklen_t len);
int xm_connect(int fd, const struct sockaddr *addr, socklen_t len);
int xm_listen(int fd, int backlog);
int xm_accept(int fd, struct sockaddr *addr, socklen_t *len);
/* flags: SOCK_NONBLOCK, SOCK_CLOEXEC (accepted, moot); others EINVAL. */
int xm_accept4(int fd, struct sockaddr *addr, socklen_t *len, int flags);
ssize_t xm_send(int fd, const void *buf, size_t len, int flags);
/* As sendfile(2) to a socket: up to count bytes of in_fd from *offset
 * (NULL: from its file position, which then advances; else *offset
 * advances and the position stays), waiting as a send does. A stream
 * socket reads them straight into its send buffer, one copy fewer than
 * read() and send(); others get them through a buffer, up to 64 KiB a
 * datagram. Fewer than count at the file's end; 0 at it. in_fd must be a
 * file it can read at an offset (EINVAL for a pipe or socket). */
ssize_t xm_sendfile(int out_fd, int in_fd, off_t *offset, size_t count);
/* The same with send flags: MSG_DONTWAIT, MSG_NOSIGNAL, MSG_MORE. */
ssize_t xm_sendfile_flags(int out_fd, int in_fd, off_t *offset, size_t count,
			  int flags);
ssize_t xm_recv(int fd, void *buf, size_t len, int flags);
ssize_t xm_sendto(int fd, const void *buf, size_t len, int flags,
		  const struct sockaddr *to, socklen_t tolen);
ssize_t xm_recvfrom(int fd, void *buf, size_t len, int flags,
		    struct sockaddr *from, socklen_t *fromlen);
/* As recvmsg(2) / sendmsg(2), with the ancillary data Linux gives and
 * takes for UDP (enabled by setsockopt as on Linux): SO_TIMESTAMP,
 * SO_TIMESTAMPNS, IP_PKTINFO, IP_RECVTOS, IP_RECVTTL, IPV6_RECVPKTINFO,
 * IPV6_RECVTCLASS, IPV6_RECVHOPLIMIT on receive (MSG_CTRUNC when the
 * control buffer is short; TCP gives the timestamps only), IP_PKTINFO /
 * IPV6_PKTINFO (source address), IP_TOS / IPV6_TCLASS and IP_TTL /
 * IPV6_HOPLIMIT on send; other control messages fail with EINVAL, as
 * Linux for what it does not know. */
ssize_t xm_recvmsg(int fd, struct msghdr *msg, int flags);
ssize_t xm_sendmsg(int fd, const struct msghdr *msg, int flags);
int xm_shutdown(int fd, int how);
int xm_close(int fd);
int xm_getsockname(int fd, struct sockaddr *addr, socklen_t *len);
int xm_getpeername(int fd, struct sockaddr *addr, socklen_t *len);
/* Beyond the socket-level basics: SO_REUSEPORT (several sockets on one
 * address and port, each connection or datagram to one of them by a hash
 * of its addresses and ports), TCP_INFO (struct tcp_info from the
 * connection's state), IP_TOS / IPV6_TCLASS and IP_TTL / IPV6_UNICAST_HOPS
 * (the header fields sent), SO_PRIORITY (kept; AF_XDP has no qdisc), and
 * the receive options of xm_recvmsg(). */
int xm_setsockopt(int fd, int level, int name, const void *val, socklen_t len);
int xm_getsockopt(int fd, int level, int name, void *val, socklen_t *len);
/* FIONBIO, and the queue sizes as Linux's socket ioctls give them:
 * FIONREAD/SIOCINQ (TCP: bytes readable in order; UDP: the next datagram's
 * length, 0 when none), SIOCOUTQ (TCP: bytes not yet acknowledged, sent or
 * not; UDP: bytes of datagrams the device has not sent yet) and SIOCOUTQNSD
 * (TCP: bytes not yet sent). A listening socket: EINVAL; other requests:
 * ENOTTY. */
int xm_ioctl(int fd, unsigned long req, int *arg);
/* F_GETFL / F_SETFL (O_NONBLOCK) only. */
int xm_fcntl(int fd, int cmd, ...);
/* POLLIN / POLLOUT / POLLERR / POLLHUP / POLLRDHUP / POLLNVAL on xm fds; drives the
 * stack of the fds while it waits. All fds must belong to one stack. */
int xm_poll(struct pollfd *fds, nfds_t n, int timeout_ms);

/* Datagrams dropped because this socket's receive buffer was full. */
int xm_socket_rcvbuf_drops(int fd, uint64_t *drops);

#ifdef __cplusplus
}
#endif
#endif /* XDPMUX_XDPMUX_H */
