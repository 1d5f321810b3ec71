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
	harness_quiet(true);
	/* removals run in the background, as in the kernel */
	harness_work_manual(false);
	return tdx_pamt_init(BENCH_BASE_PFN + nr_regions * HARNESS_REGION_PAGES);
}

void dpamt_bench_teardown(void)
{
	harness_pamt_flush();
	tdx_pamt_exit();
	harness_pamt_stop_work();
	harness_work_manual(true);
	harness_quiet(false);
	harness_mem_fini();
}

unsigned long dpamt_bench_pfn(unsigned long region, unsigned long idx)
{
	return harness_td_pfn(region, idx);
}

/*
 * What KVM does around every get and put (arch/x86/kvm/vmx/tdx.c:
 * tdx_dpamt_get()/tdx_dpamt_put()): count the TD's pages and the pairs
 * charged to it in its statistics.
 */
struct bench_td_stats {
	atomic64_t pages, pair_bytes, installs;
};

static struct bench_td_stats bench_td;

static inline int bench_get(unsigned long pfn, bool accounting)
{
	int ret = tdx_pamt_get(pfn, GFP_KERNEL_ACCOUNT, 1);

	if (!accounting || ret < 0)
		return ret < 0 ? ret : 0;
	atomic64_add(1, &bench_td.pages);
	if (ret) {
		atomic64_add(2 * PAGE_SIZE, &bench_td.pair_bytes);
		atomic64_add(1, &bench_td.installs);
	}
	return 0;
}

static inline void bench_put(unsigned long pfn, bool accounting)
{
	unsigned long charge = tdx_pamt_put(pfn);

	if (!accounting)
		return;
	atomic64_sub(1, &bench_td.pages);
	if (charge)
		atomic64_sub(2 * PAGE_SIZE, &bench_td.pair_bytes);
}

uint64_t dpamt_bench_getput(unsigned long pfn, uint64_t n, bool hold,
			    bool accounting)
{
	uint64_t fails = 0, i;

	if (hold && bench_get(pfn, accounting))
		return n;
	for (i = 0; i < n; i++) {
		if (bench_get(pfn, accounting)) {
			fails++;
			continue;
		}
		bench_put(pfn, accounting);
	}
	if (hold)
		bench_put(pfn, accounting);
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
