// SPDX-License-Identifier: MIT
/*
 * Writes the seed corpus of the frame harnesses (rx, classify) into DIR:
 * every VLAN stack x IPv6 extension chain sample x transport, whole and as
 * a fragment train in one input, and random mutated frames; records as
 * fuzz_env.h describes. Rebuild and run by hand when the frame builder
 * learns new shapes:
 *   cc -Iinclude -o /tmp/gen tests/fuzz/gen_corpus.c tests/unit/lib/frame.c \
 *      tests/unit/lib/frame_rand.c && /tmp/gen tests/fuzz/corpus/rx
 */
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../unit/lib/frame_rand.h"

static void put(FILE *f, const uint8_t *b, size_t len)
{
	uint8_t hdr[2] = { (uint8_t)(len >> 8), (uint8_t)len };

	fwrite(hdr, 1, 2, f);
	fwrite(b, 1, len, f);
}

static FILE *open_seed(const char *dir, const char *name)
{
	char path[512];
	FILE *f;

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	f = fopen(path, "wb");
	if (!f) {
		perror(path);
		exit(1);
	}
	return f;
}

int main(int argc, char **argv)
{
	static uint8_t buf[FB_FRAME_MAX];
	struct fr_params p;
	struct fr_frame fr;
	struct fr_rng r;
	char name[64];
	unsigned v, c, t, i, k;

	if (argc != 2)
		return 2;
	fr_seed(&r, 7);
	for (v = 0; v < fr_vlan_combo_count(2); v++)
		for (c = 0; c < fr_ext_chain_count(2) + 2; c += 5)
			for (t = 0; t < 2; t++) {
				bool v4 = c >= fr_ext_chain_count(2);
				struct fb_spec s;
				FILE *f;
				ssize_t len;

				fb_init(&s, v4 ? FB_L3_IPV4 : FB_L3_IPV6, t ? IPPROTO_TCP : IPPROTO_UDP);
				fr_vlan_combo(&s, v);
				if (!v4 && !fr_ext_chain(&s, c))
					continue;
				s.dport = 7000;
				s.payload_len = 64;
				snprintf(name, sizeof(name), "v%u-c%u-%s", v, c, t ? "tcp" : "udp");
				f = open_seed(argv[1], name);
				len = fb_build(&s, buf, sizeof(buf), NULL);
				if (len > 0)
					put(f, buf, (size_t)len);
				/* The same datagram as three fragments. */
				s.frag.size = 24;
				s.frag.id = c;
				for (k = 0; k < 3; k++) {
					s.frag.index = (uint16_t)k;
					len = fb_build(&s, buf, sizeof(buf), NULL);
					if (len > 0)
						put(f, buf, (size_t)len);
				}
				fclose(f);
			}
	fr_params_default(&p);
	for (i = 0; i < 40; i++) {
		FILE *f;
		ssize_t len = fr_frame(&r, &p, FR_MUT_ALL, buf, sizeof(buf), &fr);

		if (len <= 0 || len > 1514)
			continue;
		snprintf(name, sizeof(name), "rand-%02u", i);
		f = open_seed(argv[1], name);
		put(f, buf, (size_t)len);
		fclose(f);
	}
	return 0;
}
