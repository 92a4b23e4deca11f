/* SPDX-License-Identifier: MIT */
/* SipHash-2-4 (Aumasson & Bernstein, 2012), the keyed PRF behind ISNs
 * (RFC 6528 F()) and SYN cookies. */
#ifndef XM_TCP_SIPHASH_H
#define XM_TCP_SIPHASH_H

#include <stddef.h>
#include <stdint.h>

#define XM_SIPHASH_KEY_LEN 16

uint64_t xm_siphash24(const uint8_t key[XM_SIPHASH_KEY_LEN],
		      const void *data, size_t len);

#endif /* XM_TCP_SIPHASH_H */
