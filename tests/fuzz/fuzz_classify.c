// SPDX-License-Identifier: MIT
/*
 * libFuzzer: the differential check (tests/unit/lib/xdp_diff.h) on fuzzer
 * frames: the runtime's classifier and the XDP program through
 * BPF_PROG_TEST_RUN must agree. Needs root (it loads the program). An input
 * is a sequence of frames (fuzz_env.h: fz_split), so a first fragment and
 * its followers can meet. A disagreement prints both sides and the frame in
 * hex, then aborts so libFuzzer keeps the input.
 */
#include <errno.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../unit/lib/xdp_diff.h"
#include "fuzz_env.h"

static struct xh *h;

static void bind1(uint8_t proto, uint8_t family, const void *addr, uint16_t port,
		  enum xm_fallback fb)
{
	int r = xh_bind(h, proto, family, addr, port, fb);

	if (r < 0) {
		fprintf(stderr, "fuzz_classify: bind %u/%u: %s\n", proto, port, strerror(-r));
		abort();
	}
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	static const uint8_t a4[4] = { 198, 18, 0, 2 };
	static const uint8_t a6[16] = { 0x20, 0x01, 0x0d, 0xb8, [15] = 2 };
	int r;

	(void)argc;
	(void)argv;
	r = xh_open(&h);
	if (r) {
		fprintf(stderr, "fuzz_classify: load the XDP program: %s (run as root)\n",
			strerror(-r));
		abort();
	}
	/* The bindings of tests/unit/lib/xdp_test.h xt_bind_standard. */
	bind1(IPPROTO_UDP, XM_FAMILY_ANY, NULL, 7000, XM_FALLBACK_PASS);
	bind1(IPPROTO_TCP, XM_FAMILY_ANY, NULL, 7000, XM_FALLBACK_PASS);
	bind1(IPPROTO_UDP, XM_FAMILY_ANY, NULL, 7001, XM_FALLBACK_DROP);
	bind1(IPPROTO_TCP, XM_FAMILY_ANY, NULL, 7001, XM_FALLBACK_DROP);
	bind1(IPPROTO_UDP, XM_FAMILY_INET, a4, 7100, XM_FALLBACK_PASS);
	bind1(IPPROTO_UDP, XM_FAMILY_INET6, a6, 7100, XM_FALLBACK_PASS);
	bind1(IPPROTO_UDP, XM_FAMILY_ANY, NULL, 7100, XM_FALLBACK_PASS);
	bind1(IPPROTO_UDP, XM_FAMILY_INET, a4, 7200, XM_FALLBACK_DROP);
	bind1(IPPROTO_TCP, XM_FAMILY_INET6, a6, 7300, XM_FALLBACK_DROP);
	return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t n)
{
	static char why[XD_WHY_MAX];
	const uint8_t *rec;
	size_t off = 0, len;
	int r;

	while (fz_split(data, n, &off, &rec, &len)) {
		r = xd_check(h, rec, len, why, sizeof(why));
		if (r == -EDOM) {
			fprintf(stderr, "fuzz_classify: runtime and XDP disagree: %s\n", why);
			abort();
		}
		if (r) {
			fprintf(stderr, "fuzz_classify: run the program: %s\n", strerror(-r));
			abort();
		}
	}
	return 0;
}
