/* SPDX-License-Identifier: GPL-2.0 */
/*
 * bare.h - the baseline of the fast-path benchmark: a bare atomic
 * increment (get) and decrement (put) of a per-2 MiB counter, with the
 * signatures of tdx_pamt_get() and tdx_pamt_put(), out of line and not
 * analysable by the caller (noipa), and a loop, bare_getput(), with
 * exactly the shape of dpamt_bench_getput() in tests/model/bench_api.c:
 * the same calls per iteration, the same return value tests, and with
 * @accounting the same statistics updates KVM makes around every get and
 * put (counted in counters of its own).
 */
#ifndef DPAMT_BENCH_BARE_H
#define DPAMT_BENCH_BARE_H

#include <stdbool.h>
#include <stdint.h>

void bare_init(unsigned long nr_regions);
void bare_fini(void);
int bare_get(unsigned long pfn, unsigned int gfp, unsigned long charge);
unsigned long bare_put(unsigned long pfn);
uint64_t bare_getput(unsigned long pfn, uint64_t n, bool hold, bool accounting);

#endif
