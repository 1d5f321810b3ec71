// SPDX-License-Identifier: GPL-2.0
/*
 * harness.c - compile the REAL arch/x86/virt/vmx/tdx/pamt.c in userspace.
 *
 * pamt_shim.h takes pamt.h's include guard, so pamt.c's own
 * '#include "pamt.h"' expands to nothing and the fake kernel in
 * include/{stubs,dup,custom}.h is what pamt.c compiles against.  The file
 * is included by path (PAMT_C, from the Makefile's LINUX=), so its static
 * functions and data are visible to the white-box helpers below.
 *
 * Also here: the two SEAMCALL wrappers tdx.c provides in the kernel
 * (same register encoding), routed to the TDX module model, and
 * tdx_quirk_reset_paddr().
 */
#include "include/pamt_shim.h"

#ifndef PAMT_C
#error "build with -DPAMT_C='\"<linux tree>/arch/x86/virt/vmx/tdx/pamt.c\"'"
#endif
#undef pr_fmt		/* pamt.c defines its own, as kernel files do */
#include PAMT_C

#include "harness.h"

static __thread struct harness_tag *t_tag;
static struct harness_tag **region_tag;		/* pamt_lock */
static unsigned char *region_rm_failed;		/* pamt_lock */
static unsigned long region_tag_n;

void harness_set_current_owner(struct harness_tag *tag)
{
	t_tag = tag;
}

struct harness_tag *harness_region_charged_tag(unsigned long region)
{
	return region < region_tag_n ? region_tag[region] : NULL;
}

static unsigned long model_region(phys_addr_t base)
{
	return harness_pfn_region(PHYS_PFN(base));
}

void harness_truth_reset(void)
{
	free(region_tag);
	free(region_rm_failed);
	region_tag_n = harness_nr_regions();
	region_tag = calloc(region_tag_n, sizeof(*region_tag));
	region_rm_failed = calloc(region_tag_n, 1);
}

static void tags_ensure(void)
{
	if (region_tag_n != harness_nr_regions())
		harness_truth_reset();
}

bool harness_region_remove_failed(unsigned long region)
{
	return region < region_tag_n && region_rm_failed[region];
}

/* tdx.c: TDH.PHYMEM.PAMT.ADD */
u64 tdh_phymem_pamt_add(phys_addr_t base, phys_addr_t pair0, phys_addr_t pair1)
{
	u64 rcx = base | TDX_PS_2M, ret;

	if (__atomic_load_n(&pamt_lock.owner, __ATOMIC_RELAXED) !=
	    (unsigned long)pthread_self())
		harness_note_bug(HBUG_SEAMCALL_UNLOCKED, "PAMT.ADD %#llx",
				 (unsigned long long)base);
	if (pfn_valid(PHYS_PFN(pair0)) && pfn_valid(PHYS_PFN(pair1)) &&
	    (!(pfn_to_page(PHYS_PFN(pair0))->flags & __GFP_ACCOUNT) ||
	     !(pfn_to_page(PHYS_PFN(pair1))->flags & __GFP_ACCOUNT)))
		harness_note_bug(HBUG_NOT_ACCOUNTED, "pair of %#llx",
				 (unsigned long long)base);

	ret = tdxm_pamt_add(rcx, pair0, pair1);
	if (ret == TDX_SUCCESS && pfn_valid(PHYS_PFN(base))) {
		unsigned long r = model_region(base);

		tags_ensure();
		region_tag[r] = t_tag;
		if (t_tag) {
			t_tag->installs++;
			t_tag->charged++;
		}
	}
	return ret;
}

/* tdx.c: TDH.PHYMEM.PAMT.REMOVE */
u64 tdh_phymem_pamt_remove(phys_addr_t base, phys_addr_t *pair0,
			   phys_addr_t *pair1)
{
	u64 rcx = base | TDX_PS_2M, ret;
	uint64_t rdx, r8;

	if (__atomic_load_n(&pamt_lock.owner, __ATOMIC_RELAXED) !=
	    (unsigned long)pthread_self())
		harness_note_bug(HBUG_SEAMCALL_UNLOCKED, "PAMT.REMOVE %#llx",
				 (unsigned long long)base);

	ret = tdxm_pamt_remove(rcx, &rdx, &r8);
	*pair0 = rdx;
	*pair1 = r8;
	if (pfn_valid(PHYS_PFN(base))) {
		tags_ensure();
		region_rm_failed[model_region(base)] = ret != TDX_SUCCESS;
	}
	if (ret == TDX_SUCCESS && pfn_valid(PHYS_PFN(base))) {
		unsigned long r = model_region(base);

		if (region_tag[r])
			region_tag[r]->charged--;
		region_tag[r] = NULL;
	}
	return ret;
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

int harness_pamt_ref(unsigned long region)
{
	unsigned long idx = (fake_base_pfn / HARNESS_REGION_PAGES) + region;

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
	spin_lock_irq(&pamt_lock);
}

void harness_pamt_unlock(void)
{
	spin_unlock_irq(&pamt_lock);
}

unsigned long harness_pamt_leaked_pairs(void)
{
	return pamt.leaked_pairs;
}

unsigned long harness_pamt_nr_pairs(void)
{
	return pamt.nr_pairs;
}
