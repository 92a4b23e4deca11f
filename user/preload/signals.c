// SPDX-License-Identifier: MIT
/*
 * SA_RESTART for blocking calls on xdpmux sockets. They wait in ppoll(),
 * which a signal always ends with EINTR; the kernel's socket calls instead
 * restart when the handler that ran was installed with SA_RESTART. To know
 * which handler ran, the program's handlers are installed behind a
 * trampoline that notes the restart flag for the interrupted thread
 * (pl_block reads it); sigaction() reports the program's own handler and
 * flags back, so the trampoline is invisible to it.
 */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <errno.h>
#include <signal.h>
#include <string.h>

#include "preload.h"

static struct sigaction app[_NSIG];   /* as the program set them */
static bool wrapped[_NSIG];
/* initial-exec: read in a signal handler, which must not allocate */
__thread int pl_sig_restart __attribute__((tls_model("initial-exec"))) = -1;

static int (*real_sigaction)(int, const struct sigaction *, struct sigaction *);

static void trampoline(int sig, siginfo_t *si, void *uc)
{
	const struct sigaction *a = &app[sig];
	int saved = errno;

	pl_sig_restart = !!(a->sa_flags & SA_RESTART);
	errno = saved;
	if (a->sa_flags & SA_SIGINFO)
		a->sa_sigaction(sig, si, uc);
	else
		a->sa_handler(sig);
}

int sigaction(int sig, const struct sigaction *act, struct sigaction *old)
{
	struct sigaction mine, prev = { 0 };
	bool was;
	int r;

	if (!real_sigaction)
		real_sigaction = (int (*)(int, const struct sigaction *, struct sigaction *))
			dlsym(RTLD_NEXT, "sigaction");
	if (sig <= 0 || sig >= _NSIG)
		return real_sigaction(sig, act, old);
	was = wrapped[sig];
	if (was)
		prev = app[sig];
	if (!act || act->sa_handler == SIG_DFL || act->sa_handler == SIG_IGN) {
		r = real_sigaction(sig, act, old);
		if (r == 0 && act)
			wrapped[sig] = false;
	} else {
		mine = *act;
		mine.sa_sigaction = trampoline;
		mine.sa_flags |= SA_SIGINFO;
		r = real_sigaction(sig, &mine, old);
		if (r == 0) {
			app[sig] = *act;
			wrapped[sig] = true;
		}
	}
	if (r == 0 && old && was)
		*old = prev;
	return r;
}

/* glibc's signal() calls its own sigaction, not ours: BSD semantics, as
 * glibc gives it (SA_RESTART). */
sighandler_t signal(int sig, sighandler_t h)
{
	struct sigaction act = { .sa_handler = h, .sa_flags = SA_RESTART }, old;

	sigemptyset(&act.sa_mask);
	sigaddset(&act.sa_mask, sig);
	if (sigaction(sig, &act, &old) < 0)
		return SIG_ERR;
	return old.sa_handler;
}
