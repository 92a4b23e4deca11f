// SPDX-License-Identifier: MIT
/*
 * libFuzzer: TCP option parsing (user/lib/tcp/options.c), as SYN and as
 * non-SYN; what parses must build back into an area that parses to the
 * same options. Built only when the runtime has TCP (Makefile).
 */
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../../user/lib/tcp/options.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t n)
{
	struct xm_tcp_opts o, again;
	uint8_t area[40];
	uint32_t len;

	if (n < 1)
		return 0;
	for (int syn = 0; syn < 2; syn++) {
		/* The options area is at most 40 bytes (data offset 15). */
		if (xm_tcp_opts_parse(data + 1, (uint32_t)(n - 1 > 40 ? 40 : n - 1), syn, &o))
			continue;
		len = xm_tcp_opts_build(area, sizeof(area), &o, syn);
		if (len > sizeof(area) || xm_tcp_opts_parse(area, len, syn, &again)) {
			fprintf(stderr, "fuzz_tcp_options: built options do not parse back\n");
			abort();
		}
	}
	return 0;
}
