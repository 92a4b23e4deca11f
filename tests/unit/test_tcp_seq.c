// SPDX-License-Identifier: MIT
/* Sequence arithmetic modulo 2^32 (RFC 9293 3.4), across the wrap. */
#include <criterion/criterion.h>

#include "../../user/lib/tcp/seq.h"

Test(tcp_seq, ordering_without_wrap)
{
	cr_assert(seq_lt(1, 2));
	cr_assert(seq_le(2, 2));
	cr_assert(seq_gt(3, 2));
	cr_assert(seq_ge(3, 3));
	cr_assert_not(seq_lt(2, 2));
	cr_assert_not(seq_gt(2, 2));
}

Test(tcp_seq, ordering_across_the_2_32_wrap)
{
	cr_assert(seq_lt(0xfffffff0u, 0x10u));
	cr_assert(seq_gt(0x10u, 0xfffffff0u));
	cr_assert(seq_lt(0xffffffffu, 0u));
	cr_assert(seq_le(0xffffffffu, 0u));
	cr_assert(seq_ge(0u, 0xffffffffu));
	cr_assert_eq(seq_diff(0x5u, 0xfffffffbu), 10);
	cr_assert_eq(seq_diff(0xfffffffbu, 0x5u), -10);
}

Test(tcp_seq, half_space_boundary)
{
	/* b up to a + 2^31 - 1 is "after" a; at exactly 2^31 apart the
	 * signed difference is INT32_MIN, so each one is "before" the other
	 * (RFC 1982 leaves that case undefined; callers never get there). */
	cr_assert(seq_lt(0u, 0x7fffffffu));
	cr_assert(seq_gt(0x80000001u, 0x00000002u));
	cr_assert(seq_lt(0x80000002u, 0x00000002u));
	cr_assert(seq_lt(0x00000002u, 0x80000002u));
}

Test(tcp_seq, between_inclusive_and_wrapping)
{
	cr_assert(seq_between(5, 5, 10));
	cr_assert(seq_between(10, 5, 10));
	cr_assert_not(seq_between(4, 5, 10));
	cr_assert_not(seq_between(11, 5, 10));
	cr_assert(seq_between(0xffffffffu, 0xfffffff0u, 0x10u));
	cr_assert(seq_between(0u, 0xfffffff0u, 0x10u));
	cr_assert(seq_between(0x10u, 0xfffffff0u, 0x10u));
	cr_assert_not(seq_between(0x11u, 0xfffffff0u, 0x10u));
	cr_assert_not(seq_between(0xffffffefu, 0xfffffff0u, 0x10u));
}

Test(tcp_seq, min_max_across_wrap)
{
	cr_assert_eq(seq_max(0xfffffff0u, 0x10u), 0x10u);
	cr_assert_eq(seq_min(0xfffffff0u, 0x10u), 0xfffffff0u);
	cr_assert_eq(seq_max(7, 3), 7u);
	cr_assert_eq(seq_min(7, 3), 3u);
}
