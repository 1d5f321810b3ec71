// SPDX-License-Identifier: GPL-2.0
/*
 * bare.c - baseline for the fast path: one locked atomic add per get and
 * one locked atomic subtract per put on an int per 2 MiB region (the same
 * array shape and index as pamt.c's counts), and bare_getput(), a loop of
 * the same shape as dpamt_bench_getput() (tests/model/bench_api.c), see
 * bare.h.  bare_get() and bare_put() are noipa, so the loop calls them
 * out of line as the real loop calls tdx_pamt_get()/tdx_pamt_put() in
 * another translation unit.
 */
#include <stdlib.h>

#include "bare.h"

static int *bare_refs;
static unsigned long bare_nr;

void bare_init(unsigned long nr_regions)
{
	free(bare_refs);
	/* cache-line aligned, as vzalloc() memory is */
	if (posix_memalign((void **)&bare_refs, 64, nr_regions * sizeof(*bare_refs)))
		abort();
	for (unsigned long i = 0; i < nr_regions; i++)
		bare_refs[i] = 0;
	bare_nr = nr_regions;
}

void bare_fini(void)
{
	free(bare_refs);
	bare_refs = NULL;
	bare_nr = 0;
}

__attribute__((noipa))
int bare_get(unsigned long pfn, unsigned int gfp, unsigned long charge)
{
	(void)gfp;
	(void)charge;
	/* x86: lock add -- what atomic_inc() is in the kernel */
	__atomic_fetch_add(&bare_refs[pfn / 512], 1, __ATOMIC_SEQ_CST);
	return 0;
}

__attribute__((noipa))
unsigned long bare_put(unsigned long pfn)
{
	__atomic_fetch_sub(&bare_refs[pfn / 512], 1, __ATOMIC_SEQ_CST);
	return 0;
}

/* The same statistics as bench_api.c keeps for KVM, counters of our own. */
static struct {
	int64_t pages, pair_bytes, installs;
} bare_td;

#define BARE_GFP	0x400cc0u	/* GFP_KERNEL_ACCOUNT of the harness */
#define BARE_PAIR_BYTES	(2 * 4096)

static inline int bare_get_acct(unsigned long pfn, bool accounting)
{
	int ret = bare_get(pfn, BARE_GFP, 1);

	if (!accounting || ret < 0)
		return ret < 0 ? ret : 0;
	__atomic_fetch_add(&bare_td.pages, 1, __ATOMIC_RELAXED);
	if (ret) {
		__atomic_fetch_add(&bare_td.pair_bytes, BARE_PAIR_BYTES, __ATOMIC_RELAXED);
		__atomic_fetch_add(&bare_td.installs, 1, __ATOMIC_RELAXED);
	}
	return 0;
}

static inline void bare_put_acct(unsigned long pfn, bool accounting)
{
	unsigned long charge = bare_put(pfn);

	if (!accounting)
		return;
	__atomic_fetch_sub(&bare_td.pages, 1, __ATOMIC_RELAXED);
	if (charge)
		__atomic_fetch_sub(&bare_td.pair_bytes, BARE_PAIR_BYTES, __ATOMIC_RELAXED);
}

uint64_t bare_getput(unsigned long pfn, uint64_t n, bool hold, bool accounting)
{
	uint64_t fails = 0, i;

	if (hold && bare_get_acct(pfn, accounting))
		return n;
	for (i = 0; i < n; i++) {
		if (bare_get_acct(pfn, accounting)) {
			fails++;
			continue;
		}
		bare_put_acct(pfn, accounting);
	}
	if (hold)
		bare_put_acct(pfn, accounting);
	return fails;
}
