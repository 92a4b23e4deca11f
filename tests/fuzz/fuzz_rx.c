// SPDX-License-Identifier: MIT
/*
 * libFuzzer: the runtime's receive path (eth -> ip -> reassembly ->
 * transport -> sockets) fed raw frames on the simulated link, with UDP (and
 * TCP, when served) sockets bound on port 7000 over IPv4 and IPv6. An input
 * is a sequence of frames (fuzz_env.h: fz_split), so fragment trains and
 * segment sequences are reachable. Fails on any sanitizer report and on a
 * leaked frame.
 */
#include <stddef.h>
#include <stdint.h>

#include "fuzz_env.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t n)
{
	const uint8_t *rec;
	size_t off = 0, len;

	while (fz_split(data, n, &off, &rec, &len))
		fz_feed(rec, len);
	fz_drain();
	/* Let reassembly and transport timers run now and then, so state does
	 * not only grow across inputs. */
	fz_advance(n & 1 ? 100000000ull : 1000000ull);
	fz_drain();
	return 0;
}
