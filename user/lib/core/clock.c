// SPDX-License-Identifier: MIT
/* The real clock: CLOCK_MONOTONIC, the clock timerfd and poll() measure. */
#include <time.h>

#include "../link/link.h"

static uint64_t monotonic_now(void *ctx)
{
	struct timespec ts;

	(void)ctx;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ULL + (uint64_t)ts.tv_nsec;
}

struct xm_clock xm_clock_monotonic(void)
{
	return (struct xm_clock){ .now_ns = monotonic_now, .ctx = NULL };
}
