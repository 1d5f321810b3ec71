// SPDX-License-Identifier: GPL-2.0
/*
 * bare.c - baseline for the fast path: one locked atomic add per call on
 * an int per 2 MiB region, the same array shape as pamt.c's refcounts.
 * Kept out of line (own translation unit, noipa) so that callers pay the
 * same call overhead as for tdx_pamt_get()/tdx_pamt_put().
 */
#include <stdlib.h>

#include "bare.h"

static int *bare_refs;
static unsigned long bare_nr;

void bare_init(unsigned long nr_regions)
{
	free(bare_refs);
	bare_refs = calloc(nr_regions, sizeof(*bare_refs));
	bare_nr = nr_regions;
	if (!bare_refs)
		abort();
}

void bare_fini(void)
{
	free(bare_refs);
	bare_refs = NULL;
	bare_nr = 0;
}

__attribute__((noipa))
int bare_get(unsigned long pfn, struct tdx_pamt_cache *cache,
	     struct tdx_pamt_owner *owner)
{
	(void)cache;
	(void)owner;
	/* x86: lock add -- what atomic_inc() is in the kernel */
	__atomic_fetch_add(&bare_refs[pfn / 512], 1, __ATOMIC_SEQ_CST);
	return 0;
}

__attribute__((noipa))
void bare_put(unsigned long pfn, struct tdx_pamt_owner *owner)
{
	(void)owner;
	__atomic_fetch_sub(&bare_refs[pfn / 512], 1, __ATOMIC_SEQ_CST);
}
