// SPDX-License-Identifier: GPL-2.0
/*
 * harness.c - compile the REAL arch/x86/virt/vmx/tdx/pamt.c in userspace.
 *
 * The build puts include/fake/ first on the include path, so the kernel
 * headers pamt.c includes resolve to the fake kernel (fake_kernel.h); its
 * "pamt.h" is the kernel's own.  The file is included by path (PAMT_C,
 * from the Makefile's LINUX=), so its static functions and data are
 * visible to the white-box helpers below.
 *
 * Also here: the three SEAMCALL wrappers tdx.c provides in the kernel
 * (same register encoding), routed to the TDX module model, and
 * tdx_quirk_reset_paddr().
 */
#include "include/fake_kernel.h"

#ifndef PAMT_C
#error "build with -DPAMT_C='\"<linux tree>/arch/x86/virt/vmx/tdx/pamt.c\"'"
#endif
#undef pr_fmt		/* pamt.c defines its own, as kernel files do */
#include PAMT_C

#include "harness.h"

/*
 * What the kernel's design promises around every SEAMCALL of pamt.c:
 * ADD and REMOVE only with pamt_lock held, and none of them with
 * interrupts or bottom halves disabled (put may run there, but it never
 * calls the module).
 */
static void check_seamcall(const char *leaf, phys_addr_t pa, bool locked)
{
#ifndef HARNESS_NO_LOCK_OWNER_CHECK
	if (locked && __atomic_load_n(&pamt_lock.owner, __ATOMIC_RELAXED) !=
		      (unsigned long)pthread_self())
#else
	/* a mutant with other locks: the module model alone must catch it */
	if (0)
#endif
		harness_note_bug(HBUG_SEAMCALL_UNLOCKED, "%s %#llx", leaf,
				 (unsigned long long)pa);
	if (harness_ctx_atomic())
		harness_note_bug(HBUG_SEAMCALL_ATOMIC, "%s %#llx", leaf,
				 (unsigned long long)pa);
}

/* tdx.c: TDH.PHYMEM.PAMT.ADD */
u64 tdh_phymem_pamt_add(phys_addr_t base, phys_addr_t pair0, phys_addr_t pair1)
{
	check_seamcall("PAMT.ADD", base, true);
	return tdxm_pamt_add(base | TDX_PS_2M, pair0, pair1);
}

/* tdx.c: TDH.PHYMEM.PAMT.REMOVE */
u64 tdh_phymem_pamt_remove(phys_addr_t base, phys_addr_t *pair0,
			   phys_addr_t *pair1)
{
	uint64_t rdx, r8;
	u64 ret;

	check_seamcall("PAMT.REMOVE", base, true);
	ret = tdxm_pamt_remove(base | TDX_PS_2M, &rdx, &r8);
	*pair0 = rdx;
	*pair1 = r8;
	return ret;
}

/* tdx.c: TDH.PHYMEM.PAGE.WBINVD with the global private KeyID */
u64 tdh_phymem_pamt_page_wbinvd(phys_addr_t page)
{
	check_seamcall("PAGE.WBINVD", page, false);
	return tdxm_page_wbinvd(page |
			       (u64)HARNESS_GLOBAL_KEYID << HARNESS_KEYID_SHIFT);
}

/* tdx.c: clear a page the TDX module used, before the kernel reuses it */
void tdx_quirk_reset_paddr(unsigned long base, unsigned long size)
{
	unsigned long pfn;

	for (pfn = PHYS_PFN(base); pfn < PHYS_PFN(base + size); pfn++) {
		if (!pfn_valid(pfn))
			continue;
		if (tdxm_pfn_owned(pfn))
			harness_note_bug(HBUG_RESET_OWNED, "pfn %#lx", pfn);
		memset(page_address(pfn_to_page(pfn)), 0, PAGE_SIZE);
		tdxm_pfn_reset(pfn);
	}
}

/* ---- white-box helpers ---- */

static unsigned long region_idx(unsigned long region)
{
	return fake_base_pfn / HARNESS_REGION_PAGES + region;
}

int harness_pamt_ref(unsigned long region)
{
	unsigned long idx = region_idx(region);

	if (!pamt.refs || idx >= pamt.nr_regions)
		return -1;
	return atomic_read(&pamt.refs[idx]);
}

unsigned long harness_pamt_nr_regions(void)
{
	return pamt.nr_regions;
}

void harness_pamt_lock(void)
{
	spin_lock(&pamt_lock);
}

void harness_pamt_unlock(void)
{
	spin_unlock(&pamt_lock);
}

void harness_pamt_pair(unsigned long region, struct harness_pair *p)
{
	unsigned long idx = region_idx(region);
	struct pamt_pair *pair;

	memset(p, 0, sizeof(*p));
	if (!pamt.enabled || idx >= pamt.nr_regions)
		return;
	p->pending = test_bit(idx, pamt.pending);
	rcu_read_lock();
	pair = pamt_find(idx);
	if (pair) {
		p->installed = true;
		p->stuck = READ_ONCE(pair->stuck);
		p->pfn[0] = page_to_pfn(pair->page[0]);
		p->pfn[1] = page_to_pfn(pair->page[1]);
		p->charge = READ_ONCE(pair->charge);
	}
	rcu_read_unlock();
}

long harness_pamt_pair_pages(void)
{
	return atomic_long_read(&pamt.pair_pages);
}

long harness_pamt_leaked_pages(void)
{
	return atomic_long_read(&pamt.leaked_pages);
}

long harness_pamt_records(void)
{
	return atomic_long_read(&pamt.nr_records);
}

void harness_pamt_flush(void)
{
	tdx_pamt_flush_removals();
	rcu_barrier();
}

void harness_pamt_stop_work(void)
{
	harness_work_stop(&pamt_remove_work);
}
