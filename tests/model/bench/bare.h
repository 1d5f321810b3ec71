/* SPDX-License-Identifier: GPL-2.0 */
/*
 * bare.h - the baseline of the fast-path benchmark: a bare atomic
 * increment (get) and decrement (put) of a per-2 MiB counter, with the
 * same signature as tdx_pamt_get()/tdx_pamt_put() and compiled in a
 * translation unit of its own, so a loop calling them has exactly the
 * shape of a loop calling the real functions (two out-of-line calls per
 * iteration, a return value tested).
 */
#ifndef DPAMT_BENCH_BARE_H
#define DPAMT_BENCH_BARE_H

struct tdx_pamt_cache;
struct tdx_pamt_owner;

void bare_init(unsigned long nr_regions);
void bare_fini(void);
int bare_get(unsigned long pfn, struct tdx_pamt_cache *cache,
	     struct tdx_pamt_owner *owner);
void bare_put(unsigned long pfn, struct tdx_pamt_owner *owner);

#endif
