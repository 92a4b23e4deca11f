// SPDX-License-Identifier: MIT
/*
 * Sleeps the library would not otherwise see. The replies of an event-loop
 * turn are held until the program next waits (pl_tx_hold); a loop that
 * sends and then sleeps outside the library - a tick loop's nanosleep, a
 * shell's waitpid, a sigwait - would keep them until it woke. The kernel
 * sends as the program writes, so these calls release the hold first.
 * Only calls a program makes itself pass through here: glibc's own calls
 * between them (sleep -> nanosleep) bind inside libc, which is why both
 * sleep and nanosleep are here. Work without any call (pure computation)
 * still sends at the next call, as the README says.
 */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <signal.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "preload.h"

/* libc's NAME, looked up once (racing threads store the same pointer). */
#define NEXT(name)                                                             \
	static __typeof__(name) *real_;                                        \
	if (!real_)                                                            \
		real_ = (__typeof__(name) *)dlsym(RTLD_NEXT, #name);           \
	pl_tx_release_outside()

int nanosleep(const struct timespec *req, struct timespec *rem)
{
	NEXT(nanosleep);
	return real_(req, rem);
}

int clock_nanosleep(clockid_t clock, int flags, const struct timespec *req,
		    struct timespec *rem)
{
	NEXT(clock_nanosleep);
	return real_(clock, flags, req, rem);
}

unsigned int sleep(unsigned int seconds)
{
	NEXT(sleep);
	return real_(seconds);
}

int usleep(useconds_t usec)
{
	NEXT(usleep);
	return real_(usec);
}

int pause(void)
{
	NEXT(pause);
	return real_();
}

int sigsuspend(const sigset_t *mask)
{
	NEXT(sigsuspend);
	return real_(mask);
}

int sigwait(const sigset_t *set, int *sig)
{
	NEXT(sigwait);
	return real_(set, sig);
}

int sigwaitinfo(const sigset_t *set, siginfo_t *info)
{
	NEXT(sigwaitinfo);
	return real_(set, info);
}

int sigtimedwait(const sigset_t *set, siginfo_t *info, const struct timespec *timeout)
{
	NEXT(sigtimedwait);
	return real_(set, info, timeout);
}

pid_t wait(int *status)
{
	NEXT(wait);
	return real_(status);
}

pid_t waitpid(pid_t pid, int *status, int options)
{
	NEXT(waitpid);
	return real_(pid, status, options);
}

pid_t wait4(pid_t pid, int *status, int options, struct rusage *ru)
{
	NEXT(wait4);
	return real_(pid, status, options, ru);
}

int waitid(idtype_t idtype, id_t id, siginfo_t *info, int options)
{
	NEXT(waitid);
	return real_(idtype, id, info, options);
}
