// SPDX-License-Identifier: MIT
/* Multi-buffer receive (user/lib/link/rxchain.c): a descriptor chain is
 * copied whole, a chain not all peeked yet is left alone, one too long or
 * with a bad descriptor is dropped but fully consumed, and the buffer pool
 * refuses a buffer given back that it did not lend. */
#include <criterion/criterion.h>
#include <string.h>

#include "../../user/lib/link/rxchain.h"

struct fake {
	struct xm_rx_desc d[8];
	bool bad[8];
};

static bool fake_get(void *ctx, uint32_t i, struct xm_rx_desc *d)
{
	struct fake *f = ctx;

	*d = f->d[i];
	return !f->bad[i];
}

static uint8_t a[3000], b[3000], c[500], buf[8192];
static struct fake f;
static uint32_t nd, len;

static void fill(struct fake *f)
{
	memset(f, 0, sizeof(*f));
	memset(a, 'a', sizeof(a));
	memset(b, 'b', sizeof(b));
	memset(c, 'c', sizeof(c));
	f->d[0] = (struct xm_rx_desc){ a, sizeof(a), true };
	f->d[1] = (struct xm_rx_desc){ b, sizeof(b), true };
	f->d[2] = (struct xm_rx_desc){ c, sizeof(c), false };
	f->d[3] = (struct xm_rx_desc){ a, 60, false };
}

/* A chain of three (6500 bytes) then a single 60-byte packet; n of the
 * four peeked. */
static struct xm_rx_descs chain3(uint32_t n)
{
	struct xm_rx_descs ds = { fake_get, &f, n };

	fill(&f);
	nd = len = 99;
	return ds;
}

Test(rxchain, chain_copied_whole_then_next_packet)
{
	struct xm_rx_descs ds = chain3(4);

	cr_assert_eq(xm_rx_chain_gather(&ds, 0, buf, sizeof(buf), &nd, &len), XM_RXC_OK);
	cr_assert_eq(nd, 3);
	cr_assert_eq(len, 6500);
	cr_assert_eq(buf[0], 'a');
	cr_assert_eq(buf[2999], 'a');
	cr_assert_eq(buf[3000], 'b');
	cr_assert_eq(buf[6000], 'c');
	cr_assert_eq(buf[6499], 'c');
	cr_assert_eq(xm_rx_chain_gather(&ds, 3, buf, sizeof(buf), &nd, &len), XM_RXC_OK);
	cr_assert_eq(nd, 1);
	cr_assert_eq(len, 60);
}

Test(rxchain, chain_not_all_peeked_is_incomplete)
{
	struct xm_rx_descs ds = chain3(2);

	cr_assert_eq(xm_rx_chain_gather(&ds, 0, buf, sizeof(buf), &nd, &len),
		     XM_RXC_INCOMPLETE);
	cr_assert_eq(nd, 99, "nothing consumed");
}

Test(rxchain, too_long_or_bad_chain_dropped_but_consumed)
{
	struct xm_rx_descs ds = chain3(4);

	cr_assert_eq(xm_rx_chain_gather(&ds, 0, buf, 6499, &nd, &len), XM_RXC_TOO_LONG);
	cr_assert_eq(nd, 3);
	f.bad[1] = true;
	cr_assert_eq(xm_rx_chain_gather(&ds, 0, buf, sizeof(buf), &nd, &len), XM_RXC_BAD_DESC);
	cr_assert_eq(nd, 3);
}

Test(rxchain, pool_lends_each_buffer_once)
{
	struct xm_rxbuf_pool p;
	int x, y;

	cr_assert_eq(xm_rxbuf_pool_init(&p, 2, 4096), 0);
	x = xm_rxbuf_get(&p);
	y = xm_rxbuf_get(&p);
	cr_assert(x >= 0 && y >= 0 && x != y);
	cr_assert_eq(xm_rxbuf_get(&p), -1, "all lent");
	cr_assert_eq(xm_rxbuf_data(&p, (uint32_t)y) - xm_rxbuf_data(&p, (uint32_t)x),
		     (y - x) * 4096);
	xm_rxbuf_put(&p, (uint32_t)x);
	xm_rxbuf_put(&p, (uint32_t)x);
	cr_assert_eq(p.bad_puts, 1, "a second put of one buffer is refused");
	cr_assert_eq(xm_rxbuf_get(&p), x);
	xm_rxbuf_pool_fini(&p);
}
