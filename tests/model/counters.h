/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Counter arrays shared by the harness (bugs it found in the kernel code)
 * and the TDX module model (protocol violations): summed and reported the
 * same way.  Counters are bumped from many threads, hence atomic loads.
 */
#ifndef TDX_DPAMT_MODEL_COUNTERS_H
#define TDX_DPAMT_MODEL_COUNTERS_H

#include <stdint.h>
#include <stdio.h>

static inline uint64_t counters_sum(const uint64_t *ctr, int nr)
{
	uint64_t n = 0;

	for (int i = 0; i < nr; i++)
		n += __atomic_load_n(&ctr[i], __ATOMIC_RELAXED);
	return n;
}

/* Print every non-zero counter as "[who] N x name"; return the sum. */
static inline uint64_t counters_report(const char *who, const uint64_t *ctr,
				       const char *const *names, int nr)
{
	uint64_t n = 0;

	for (int i = 0; i < nr; i++) {
		uint64_t v = __atomic_load_n(&ctr[i], __ATOMIC_RELAXED);

		if (v)
			fprintf(stderr, "  [%s] %llu x %s\n", who,
				(unsigned long long)v, names[i]);
		n += v;
	}
	return n;
}

#endif
