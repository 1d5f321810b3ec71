// SPDX-License-Identifier: GPL-2.0
/*
 * bench_api.c - a tiny API over the harness for benchmark programs: set up
 * the fake machine + TDX module model + the real pamt.c, run N get/put
 * pairs, read the SEAMCALL counts.  Link with libdpamt-harness.a (built
 * with or without the fast path, see Makefile `lib` target).
 */
#include "harness.h"

#define BENCH_BASE_PFN	0x40000UL

int dpamt_bench_setup(unsigned long nr_regions)
{
	harness_mem_init(BENCH_BASE_PFN, nr_regions, 1, 16);
	harness_truth_reset();
	harness_quiet(true);
	return tdx_pamt_init(BENCH_BASE_PFN + nr_regions * HARNESS_REGION_PAGES);
}

void dpamt_bench_teardown(void)
{
	tdx_pamt_exit();
	harness_quiet(false);
	harness_mem_fini();
}

unsigned long dpamt_bench_pfn(unsigned long region, unsigned long idx)
{
	return harness_td_pfn(region, idx);
}

uint64_t dpamt_bench_getput(unsigned long pfn, uint64_t n, bool hold)
{
	uint64_t fails = 0, i;

	if (hold && tdx_pamt_get(pfn, NULL, NULL))
		return n;
	for (i = 0; i < n; i++) {
		if (tdx_pamt_get(pfn, NULL, NULL)) {
			fails++;
			continue;
		}
		tdx_pamt_put(pfn, NULL);
	}
	if (hold)
		tdx_pamt_put(pfn, NULL);
	return fails;
}

void dpamt_bench_seamcalls(uint64_t *adds, uint64_t *removes)
{
	struct tdxm_stats st;

	tdxm_get_stats(&st);
	if (adds)
		*adds = st.add_ok;
	if (removes)
		*removes = st.remove_ok;
}

bool dpamt_bench_fastpath(void)
{
#ifdef HARNESS_NO_FASTPATH
	return false;
#else
	return true;
#endif
}
