/* SPDX-License-Identifier: GPL-2.0 */
/*
 * harness.h - what the tests (and the benchmark) use of the userspace
 * DPAMT harness: the fake machine (shim.c), white-box access to the real
 * pamt.c (harness.c) and the TDX module model (tdx_module_model.h).
 *
 * Used by harness.c (with pamt.c), shim.c, the tests and the benchmark.
 */
#ifndef DPAMT_HARNESS_H
#define DPAMT_HARNESS_H

#include <stdbool.h>
#include <stdint.h>

#include "include/fake_kernel.h"
/* the kernel's internal DPAMT interface (tdx_pamt_init(), ...) */
#ifndef PAMT_H
#error "build with -DPAMT_H='\"<linux tree>/arch/x86/virt/vmx/tdx/pamt.h\"'"
#endif
#include PAMT_H
#include "tdx_module_model.h"

/* ---- the fake machine (shim.c) ---- */

#define HARNESS_REGION_PAGES	512UL

/*
 * Lay out nr_regions 2 MiB regions of fake TDX memory starting at
 * base_pfn (2 MiB aligned), spread over nr_nodes NUMA nodes.  In every
 * region the first pool_pages pages belong to the page allocator (pair
 * pages, control pages); the rest are "guest memory" the harness hands
 * out with harness_claim_td_page().  Also (re)initialises the TDX module
 * model for the same range.
 */
void harness_mem_init(unsigned long base_pfn, unsigned long nr_regions,
		      int nr_nodes, unsigned int pool_pages);
void harness_mem_fini(void);
unsigned long harness_nr_regions(void);
unsigned int harness_pool_pages(void);
/* pfn of the idx-th guest page of a region (idx < 512 - pool_pages) */
unsigned long harness_td_pfn(unsigned long region, unsigned long idx);
unsigned long harness_pfn_region(unsigned long pfn);
bool harness_claim_td_page(unsigned long pfn);
void harness_release_td_page(unsigned long pfn);
bool harness_page_allocated(unsigned long pfn);

enum harness_bug {
	HBUG_BAD_FREE,		/* free of a page that is not allocated     */
	HBUG_PRIVATE_ON_FREE,	/* page freed with page->private still set   */
	HBUG_SLEEP_IN_ATOMIC,	/* sleeping allocation under a spinlock/irq  */
	HBUG_ALLOC_MMU_LOCK,	/* any allocation under (fake) mmu_lock       */
	HBUG_LOCK_NOT_HELD,	/* lockdep_assert_held() failed               */
	HBUG_LOCK_IRQ_UNSAFE,	/* lock used in softirq and with irqs on      */
	HBUG_LOCK_IN_HARDIRQ,	/* a spinlock taken in hard interrupt context */
	HBUG_SEAMCALL_UNLOCKED,	/* PAMT.ADD/REMOVE without pamt_lock          */
	HBUG_SEAMCALL_ATOMIC,	/* a SEAMCALL with interrupts/bh disabled     */
	HBUG_RESET_OWNED,	/* host cleared a page the module owns        */
	HBUG_WRONG_NODE,	/* pair page not on the region's node         */
	HBUG_NOT_ACCOUNTED,	/* DPAMT page allocated without __GFP_ACCOUNT */
	HBUG_NR
};
extern const char *const harness_bug_names[HBUG_NR];

struct harness_counters {
	uint64_t alloc_calls;		/* kernel allocations attempted     */
	uint64_t alloc_injected;	/* ... of which failed by injection */
	uint64_t page_allocs, page_frees;
	uint64_t kmallocs, kfrees, vmallocs, vfrees;
	int64_t live_pages, live_kmalloc, live_vmalloc;
	uint64_t warns;
	uint64_t printks;
	unsigned int last_gfp;		/* gfp of the last allocation       */
	uint64_t bugs[HBUG_NR];
};
void harness_get_counters(struct harness_counters *c);
uint64_t harness_total_bugs(void);
uint64_t harness_report_bugs(const char *who);
void harness_note_bug(enum harness_bug b, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

/* fail the n-th kernel allocation from now (1-based), or at random */
void harness_fail_alloc_at(uint64_t n);
void harness_fail_alloc_ppm(unsigned int ppm);
void harness_fail_alloc_clear(void);
void harness_seed_thread(uint64_t seed);
uint64_t harness_rand(void);		/* per-thread xorshift */

/* execution context of the calling thread */
void harness_ctx_softirq(bool on);	/* RCU callback / softirq */
void harness_ctx_hardirq(bool on);	/* hard interrupt handler */
void harness_ctx_irqs_off(bool on);	/* local_irq_disable() */
void harness_ctx_mmu_lock(bool on);	/* KVM mmu_lock held: no allocation */
void harness_ctx_node(int nid);		/* the CPU's NUMA node */
bool harness_ctx_atomic(void);		/* any lock, irq or bh context */
void harness_quiet(bool on);		/* do not print WARNs/printks */
extern int harness_verbose;

/* one-shot hook run inside the next page allocation (before pamt_lock) */
void harness_set_alloc_hook(void (*fn)(void *arg), void *arg);

/* ---- white-box access to pamt.c (harness.c) ---- */

/* the refcount of a fake region (index from harness_mem_init()) */
int harness_pamt_ref(unsigned long region);
unsigned long harness_pamt_nr_regions(void);
void harness_pamt_lock(void);			/* take/drop pamt_lock */
void harness_pamt_unlock(void);
/*
 * What pamt.c believes about a region (pamt_lock or a quiet system):
 * whether it has a pair record, the record's pages and charge, and
 * whether the record is stuck (REMOVE failed, kept as leaked).
 */
struct harness_pair {
	bool installed;
	bool stuck;
	bool pending;			/* marked for the removal work */
	unsigned long pfn[2];
	unsigned long charge;
};
void harness_pamt_pair(unsigned long region, struct harness_pair *p);
long harness_pamt_pair_pages(void);	/* pages not back in the allocator */
long harness_pamt_leaked_pages(void);
long harness_pamt_records(void);
/* run the removal work until nothing is pending (tdx_pamt_flush_removals) */
void harness_pamt_flush(void);
/* stop the removal work's thread (before memory goes away) */
void harness_pamt_stop_work(void);
/* the global private KeyID and the KeyID shift the wrappers encode */
#define HARNESS_GLOBAL_KEYID	1
#define HARNESS_KEYID_SHIFT	46

/* ---- benchmark-friendly API (bench_api.c) ---- */

/* Set up fake memory, the module model and pamt.c with nr_regions. */
int dpamt_bench_setup(unsigned long nr_regions);
void dpamt_bench_teardown(void);
/* pfn of a guest page in a region, for get/put */
unsigned long dpamt_bench_pfn(unsigned long region, unsigned long idx);
/*
 * n get/put pairs on pfn; with hold, keep one extra reference around the
 * loop (steady state: fast path only); with accounting, also do what KVM
 * does to count a TD's references and charges.  Returns the number of
 * failures.
 */
uint64_t dpamt_bench_getput(unsigned long pfn, uint64_t n, bool hold,
			    bool accounting);
/* SEAMCALLs so far: PAMT.ADD and PAMT.REMOVE that succeeded */
void dpamt_bench_seamcalls(uint64_t *adds, uint64_t *removes);
/* Is the fast path compiled in? */
bool dpamt_bench_fastpath(void);

#endif /* DPAMT_HARNESS_H */
