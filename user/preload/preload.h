/* SPDX-License-Identifier: MIT */
/*
 * libxdpmux-preload: unmodified socket programs on xdpmux (`xdpmux run`).
 *
 * Every fd the program sees is a real kernel fd. An AF_INET/AF_INET6 TCP or
 * UDP socket starts as a kernel socket (a "candidate"); at bind (DEV's
 * address or the wildcard, within the port list) or connect/sendto (a
 * destination routed out of DEV) it moves: an xdpmux socket is made, and
 * the fd number is turned into a placeholder (an unbound AF_UNIX socket
 * dup3'ed over it), so fd numbers, dup, fcntl, close-on-exec and select's
 * FD_SETSIZE behave as the kernel's. Every intercepted call looks the fd up
 * in a table (lock-free read) and passes kernel fds straight on.
 *
 * Threads: one process-wide lock serialises every use of the stack (it is
 * single-threaded); a thread that must wait drops the lock and sleeps in
 * ppoll() on the stack's fd, so other threads and signals get through.
 */
#ifndef XM_PRELOAD_H
#define XM_PRELOAD_H

#include <poll.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <sys/epoll.h>
#include <sys/select.h>
#include <sys/socket.h>
#include <sys/types.h>
#include <sys/uio.h>

#include <xdpmux/xdpmux.h>

/* What a kernel fd number is to us. */
enum pl_kind {
	PL_NONE = 0,   /* not ours: straight to libc */
	PL_CAND,       /* a kernel TCP/UDP socket that may still move */
	PL_XM,         /* a placeholder for an xdpmux socket */
	PL_EPOLL,      /* an epoll fd with xdpmux sockets in its interest list */
};

/* Options set on a candidate, replayed on the xdpmux socket when it moves. */
#define PL_CAND_OPTS 12
#define PL_CAND_EPOLLS 4
struct pl_opt {
	int level, name;
	socklen_t len;
	uint8_t val[16];
};

/* An xdpmux socket; shared by every fd dup'ed from one placeholder, as an
 * open file description is. */
struct pl_xs {
	int xfd;            /* the xm_* descriptor */
	int refs;           /* fds naming it */
	int type;           /* SOCK_STREAM, SOCK_DGRAM */
	pid_t pid;          /* the process that made it (fork: the parent) */
	bool nonblock;      /* the program's O_NONBLOCK */
	uint32_t et_seen;   /* EPOLLET: readiness reported and not yet consumed */
	bool corked;        /* TCP_CORK: cork.c */
	uint8_t *cork_buf;
	size_t cork_len;
};

struct pl_ent {
	_Atomic uint8_t kind;
	int domain, type;            /* PL_CAND */
	struct pl_opt *opts;         /* PL_CAND: malloc'd, PL_CAND_OPTS */
	int nopts;
	/* PL_CAND: the epoll sets it is in, which lose it when it moves (the
	 * kernel socket's file goes) and get it back as an xdpmux interest */
	int cand_epfd[PL_CAND_EPOLLS];
	struct epoll_event cand_ev[PL_CAND_EPOLLS];
	int ncand_ep;
	struct pl_xs *xs;            /* PL_XM */
	int n_xm_watch;              /* PL_EPOLL: interests on xdpmux sockets */
};

/* ---- state.c ---- */
struct pl_state {
	char dev[32];
	int ifindex;
	uint16_t port_lo[64], port_hi[64];
	int nports;                  /* 0: every port */
	uint32_t spin_us;
	bool debug;
	struct xm_stack *st;         /* opened at the first socket that moves */
	bool st_failed;              /* opening it failed: everything stays kernel */
	pid_t pid;                   /* our pid (changes in a forked child) */
	int wake_fd;                 /* eventfd: rouses threads asleep in pl_sleep */
	int sleepers;
	bool wake_set;               /* wake_fd written since the last reset */
	uint64_t seen_frames;        /* rx+tx frames at the last wake check */
	/* xm_stack_tx_hold() is on: the sends of an event-loop turn wait to
	 * leave together (pl_tx_hold); read without the lock by calls on
	 * kernel fds, which release it */
	_Atomic bool tx_held;
};
extern struct pl_state pl;
extern __thread int pl_inside;   /* in our own code: libc calls pass through */

void pl_lock(void);
/* Wake sleepers when this thread moved frames, then drop the lock. */
void pl_unlock(void);
/* Around a sleep in pl_sleep: count the thread as a sleeper, which other
 * threads wake (wake_fd) when they move frames. */
void pl_unlock_to_sleep(void);
void pl_lock_after_sleep(void);
/* Batching of transmit kicks (lock held): a wait that returned events
 * holds the frames the program's sends make, so that the replies of one
 * turn of its event loop leave with one kick; anything that may block or
 * stop serving releases them: the next wait (or sleep), a close, I/O,
 * connect or accept on a kernel fd, exit. */
void pl_tx_hold(void);
void pl_tx_release(void);
/* A call on a kernel fd: release the hold first (no lock when none). */
static inline void pl_tx_release_outside(void)
{
	if (atomic_load_explicit(&pl.tx_held, memory_order_relaxed) && !pl_inside) {
		pl_lock();
		pl_tx_release();
		pl_unlock();
	}
}
void pl_init(void);
/* The stack, opened on first use; NULL when it cannot be (reported once). */
struct xm_stack *pl_stack(void);

/* The entry of fd (allocated when create), NULL when none. */
struct pl_ent *pl_ent(int fd, bool create);
static inline enum pl_kind pl_kind_of(int fd)
{
	struct pl_ent *e = fd >= 0 ? pl_ent(fd, false) : NULL;

	return e ? (enum pl_kind)atomic_load_explicit(&e->kind, memory_order_acquire)
		 : PL_NONE;
}
/* Forget fd (its kind becomes PL_NONE); drops its xs reference, closing
 * the xdpmux socket with its last fd. Lock held. */
void pl_forget(int fd);

void pl_debug(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* "xdpmux: CALL on an xdpmux socket is not supported" once per call name. */
void pl_unsupported(const char *call);
/* The socket of fd for a call, lock held: NULL with errno set when it is
 * one of a forked parent's (reported once). */
struct pl_xs *pl_xs_get(int fd, const char *call);

/* The body of an interposer on an fd: libc's call (realcall) for a fd that
 * is not an xdpmux socket, else expr with xs set, under the lock. */
#define XS_CALL(fd, name, realcall, expr)                          \
	do {                                                       \
		struct pl_xs *xs;                                  \
		ssize_t r_;                                        \
		pl_init();                                         \
		if (pl_inside || pl_kind_of(fd) != PL_XM) {        \
			pl_tx_release_outside();                   \
			return realcall;                           \
		}                                                  \
		pl_lock();                                         \
		xs = pl_xs_get(fd, name);                          \
		r_ = xs ? (expr) : -1;                             \
		pl_unlock();                                       \
		return r_;                                         \
	} while (0)

/* ---- decide.c ---- */
/* Should a socket bound to / connecting to addr move to xdpmux? */
bool pl_decide_bind(const struct sockaddr *addr, socklen_t len, const char **why);
bool pl_decide_connect(const struct sockaddr *addr, socklen_t len, const char **why);
const char *pl_addr_str(const struct sockaddr *addr, socklen_t len, char *buf, size_t n);

/* ---- move.c ---- */
/* Make candidate fd an xdpmux socket bound to (connect: connecting to) a
 * (NULL: neither, as for a first sendto),
 * lock held; 0 (a connect may still be in progress) or -errno, the kernel
 * socket untouched on failure. */
int pl_move(int fd, struct pl_ent *e, const struct sockaddr *a, socklen_t len,
	    bool connect);

/* ---- wait.c ---- */
/* Sleep (lock held; dropped while asleep) until the stack may have work,
 * one of kfds has events (revents set) or until_ns (CLOCK_MONOTONIC,
 * UINT64_MAX: none). Spins spin_us first. Returns the number of kfds with
 * events, or -1 with errno EINTR when a signal came. */
int pl_sleep(struct pollfd *kfds, nfds_t nk, uint64_t until_ns, const sigset_t *mask);
uint64_t pl_now_ns(void);
uint64_t pl_deadline(int timeout_ms);
/* Run op (returning >= 0 or -1/errno) on xs until it does not fail with
 * EAGAIN, sleeping between tries unless the socket is non-blocking or
 * dontwait; ev is the readiness awaited (EPOLLIN/EPOLLOUT) whose EPOLLET
 * report is consumed on EAGAIN. Lock held. */
ssize_t pl_block(struct pl_xs *xs, bool dontwait, uint32_t ev,
		 ssize_t (*op)(struct pl_xs *xs, void *arg), void *arg);

/* ---- cork.c: TCP_CORK ---- */
/* Set or clear the cork; clearing sends what it held. Lock held. */
int pl_cork_set(struct pl_xs *xs, bool on);
/* While corked, keep len bytes of a stream send to go out with what
 * follows: true when they were kept (the send is done). Lock held. */
bool pl_cork_take(struct pl_xs *xs, const void *buf, size_t len);
/* Where len more bytes may be written into the cork by the caller, who
 * then adds what it wrote to cork_len (sendfile reads the file straight
 * in); NULL when not corked or they would not fit. Lock held. */
uint8_t *pl_cork_room(struct pl_xs *xs, size_t len);
/* Send what the cork holds (before a send that does not fit, at close). */
int pl_cork_flush(struct pl_xs *xs);

/* ---- the real libc functions ---- */
struct pl_real {
	int (*socket)(int, int, int);
	int (*bind)(int, const struct sockaddr *, socklen_t);
	int (*connect)(int, const struct sockaddr *, socklen_t);
	int (*listen)(int, int);
	int (*accept4)(int, struct sockaddr *, socklen_t *, int);
	int (*close)(int);
	int (*shutdown)(int, int);
	ssize_t (*read)(int, void *, size_t);
	ssize_t (*write)(int, const void *, size_t);
	ssize_t (*readv)(int, const struct iovec *, int);
	ssize_t (*writev)(int, const struct iovec *, int);
	ssize_t (*send)(int, const void *, size_t, int);
	ssize_t (*recv)(int, void *, size_t, int);
	ssize_t (*sendto)(int, const void *, size_t, int, const struct sockaddr *, socklen_t);
	ssize_t (*recvfrom)(int, void *, size_t, int, struct sockaddr *, socklen_t *);
	ssize_t (*sendmsg)(int, const struct msghdr *, int);
	ssize_t (*recvmsg)(int, struct msghdr *, int);
	int (*sendmmsg)(int, struct mmsghdr *, unsigned int, int);
	int (*recvmmsg)(int, struct mmsghdr *, unsigned int, int, struct timespec *);
	ssize_t (*sendfile)(int, int, off_t *, size_t);
	int (*getsockname)(int, struct sockaddr *, socklen_t *);
	int (*getpeername)(int, struct sockaddr *, socklen_t *);
	int (*getsockopt)(int, int, int, void *, socklen_t *);
	int (*setsockopt)(int, int, int, const void *, socklen_t);
	int (*fcntl)(int, int, ...);
	int (*ioctl)(int, unsigned long, ...);
	int (*dup)(int);
	int (*dup2)(int, int);
	int (*dup3)(int, int, int);
	int (*poll)(struct pollfd *, nfds_t, int);
	int (*ppoll)(struct pollfd *, nfds_t, const struct timespec *, const sigset_t *);
	int (*select)(int, fd_set *, fd_set *, fd_set *, struct timeval *);
	int (*pselect)(int, fd_set *, fd_set *, fd_set *, const struct timespec *,
		       const sigset_t *);
	int (*epoll_ctl)(int, int, int, struct epoll_event *);
	int (*epoll_wait)(int, struct epoll_event *, int, int);
	int (*epoll_pwait)(int, struct epoll_event *, int, int, const sigset_t *);
};
extern struct pl_real real;

/* ---- signals.c ---- */
/* Set when a handler of the program ran on this thread: 1 if installed
 * with SA_RESTART, 0 if not; -1 before any. */
extern __thread int pl_sig_restart __attribute__((tls_model("initial-exec")));

/* ---- poll.c ---- */
/* poll(2) over a mix of kernel fds and placeholders. */
int pl_poll(struct pollfd *fds, nfds_t n, uint64_t until_ns, const sigset_t *mask);

/* ---- epoll.c ---- */
void pl_epoll_forget_fd(int fd);
/* Carry a candidate's epoll memberships over to its xdpmux socket. */
void pl_epoll_adopt(int fd, struct pl_ent *e);
void pl_epoll_forget_epfd(int epfd);

#endif /* XM_PRELOAD_H */
