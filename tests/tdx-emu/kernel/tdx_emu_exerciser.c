// SPDX-License-Identifier: GPL-2.0
/*
 * Exerciser of the emulated TDX module (tests/tdx-emu), built into a test
 * kernel by tests/tdx-emu/run-mutant.py --exerciser; never part of the
 * kernel series.
 *
 * The kernel series hands no 4K page to the TDX module outside KVM, and KVM
 * cannot run on the emulator, so nothing in a normal boot reaches the
 * module's TD page lifecycle or the statuses that only pages in use make
 * possible (MISSING_PAMT_PAGE_PAIR, PAMT_PAGE_NOT_EMPTY, HKID_NOT_FREE,
 * TD_ASSOCIATED_PAGES_EXIST ...).  This late initcall drives them through
 * the kernel's own SEAMCALL wrappers on a 2 MiB block of its own and checks
 * every status, with its operand id, against the module's rules:
 *
 *   TDXEMU-EXERCISER: ok <step>
 *   TDXEMU-EXERCISER: FAIL <step>: <what>
 *   TDXEMU-EXERCISER: done: <N> passed, <M> failed
 *
 * It leaves no page pair, TD or KeyID behind, so the live KUnit suite that
 * runs after it sees the module as it was.
 */
#include <linux/cpu.h>
#include <linux/cpumask.h>
#include <linux/gfp.h>
#include <linux/init.h>
#include <linux/mm.h>
#include <linux/printk.h>
#include <linux/smp.h>
#include <linux/topology.h>
#include <asm/cacheflush.h>
#include <asm/tdx.h>
#include "tdx.h"
#include "seamcall_internal.h"
#include "pamt.h"

#define OPND_RCX	1ULL
#define S_MISSING_PAIR	(0x8000030800000000ULL | OPND_RCX)
#define S_RANGE_NOT_FREE (0xC000030400000000ULL | OPND_RCX)
#define S_NO_PAIR	(0xC000030500000000ULL | OPND_RCX)
#define S_NOT_EMPTY_0	0xC000030600000000ULL
#define S_OPERAND_INVALID_RCX (0xC000010000000000ULL | OPND_RCX)
#define S_HKID_NOT_FREE	0xC000082000000000ULL
#define S_LIFECYCLE	0xC000060700000000ULL
#define S_WBCACHE_NOT_COMPLETE 0x8000081700000000ULL
#define S_ASSOCIATED	0xC000040000000000ULL
#define PT_PAMT_NONLEAF	(15ULL | BIT_ULL(63))
#define PT_TDR		4
#define PT_TDCX		5

static int passed, failed;

static void check(const char *step, u64 got, u64 want)
{
	if (got == want) {
		passed++;
		pr_info("TDXEMU-EXERCISER: ok %s\n", step);
		return;
	}
	failed++;
	pr_info("TDXEMU-EXERCISER: FAIL %s: got %#llx, want %#llx\n", step, got, want);
}

#define EXPECT(step, got, want) check(step, (u64)(got), (u64)(want))

static u64 rdmd(phys_addr_t pa, int level, struct tdx_module_args *out)
{
	struct tdx_module_args args = { .rcx = pa | level };
	u64 r = seamcall_ret(TDH_PHYMEM_PAGE_RDMD, &args);

	*out = args;
	return r;
}

/* Write back a page the module wrote through the global private KeyID. */
static u64 wbinvd_global(struct page *page)
{
	struct tdx_td td = { .tdr_page = page };

	return tdh_phymem_page_wbinvd_tdr(&td);
}

/* A leaf that must run once on every package (KEY.CONFIG, CACHE.WB). */
static struct tdx_td *the_td;
static u64 pkg_status;

static int on_package(void *fn)
{
	u64 r = ((u64 (*)(void))fn)();

	if (r && !pkg_status)
		pkg_status = r;
	return 0;
}

static u64 key_config_one(void)
{
	return tdh_mng_key_config(the_td);
}

static u64 cache_wb_one(void)
{
	return tdh_phymem_cache_wb(false);
}

/* The first failing status (64 bits: smp_call_on_cpu() returns an int) */
static u64 every_package(u64 (*fn)(void))
{
	cpumask_var_t done;
	int cpu;

	if (!zalloc_cpumask_var(&done, GFP_KERNEL))
		return ~0ULL;
	pkg_status = 0;
	cpus_read_lock();
	for_each_online_cpu(cpu) {
		if (cpumask_test_and_set_cpu(topology_physical_package_id(cpu), done))
			continue;
		smp_call_on_cpu(cpu, on_package, fn, true);
	}
	cpus_read_unlock();
	free_cpumask_var(done);
	return pkg_status;
}

static int __init tdx_emu_exerciser(void)
{
	struct page *block, *p0, *p1, *tdcs[1];
	struct tdx_module_args md;
	struct tdx_td td = {};
	phys_addr_t base, out0, out1;
	u64 r, pt, owner, size;
	int hkid;

	if (!tdx_get_sysinfo() || !tdx_dynamic_pamt_enabled()) {
		pr_info("TDXEMU-EXERCISER: skipped: no TDX module with Dynamic PAMT\n");
		return 0;
	}
	block = alloc_pages(GFP_KERNEL | __GFP_ZERO, 9);	/* a 2 MiB region */
	p0 = alloc_page(GFP_KERNEL);
	p1 = alloc_page(GFP_KERNEL);
	hkid = tdx_guest_keyid_alloc();
	if (!block || !p0 || !p1 || hkid < 0) {
		pr_info("TDXEMU-EXERCISER: skipped: no memory or KeyID\n");
		goto out;
	}
	base = page_to_phys(block);
	td.tdr_page = block;
	tdcs[0] = block + 300;		/* in the second pair page's half */
	td.tdcs_pages = tdcs;
	td.tdcs_nr_pages = 1;
	the_td = &td;

	EXPECT("MNG.CREATE without a pair: MISSING_PAMT_PAGE_PAIR",
	       tdh_mng_create(&td, hkid), S_MISSING_PAIR);
	EXPECT("PAMT.ADD, malformed RCX (bit 3): OPERAND_INVALID(RCX)",
	       tdh_phymem_pamt_add(base | BIT(3), page_to_phys(p0), page_to_phys(p1)),
	       S_OPERAND_INVALID_RCX);
	clflush_cache_range(page_address(p0), PAGE_SIZE);
	clflush_cache_range(page_address(p1), PAGE_SIZE);
	EXPECT("PAMT.ADD", tdh_phymem_pamt_add(base, page_to_phys(p0), page_to_phys(p1)),
	       0ULL);
	EXPECT("PAMT.ADD again: HPA_RANGE_NOT_FREE",
	       tdh_phymem_pamt_add(base, page_to_phys(p0), page_to_phys(p1)),
	       S_RANGE_NOT_FREE);
	r = rdmd(base, TDX_PS_2M, &md);
	EXPECT("RDMD of the region", r, 0ULL);
	EXPECT("RDMD of the region: PT_PAMT, non-leaf", md.rcx, PT_PAMT_NONLEAF);
	EXPECT("RDMD of the region: pair page 0", md.r10, (u64)page_to_phys(p0));
	EXPECT("RDMD of the region: pair page 1", md.r11, (u64)page_to_phys(p1));
	r = rdmd(page_to_phys(p1), TDX_PS_4K, &md);
	EXPECT("RDMD of a pair page: PT_PAMT", md.rcx | r, 15ULL);

	EXPECT("MNG.CREATE", tdh_mng_create(&td, hkid), 0ULL);
	r = rdmd(base, TDX_PS_4K, &md);
	EXPECT("RDMD of the TDR: PT_TDR", md.rcx | r, (u64)PT_TDR);
	td.tdr_page = block + 1;
	EXPECT("MNG.CREATE with a KeyID in use: HKID_NOT_FREE",
	       tdh_mng_create(&td, hkid), S_HKID_NOT_FREE);
	td.tdr_page = block;
	EXPECT("MNG.KEY.CONFIG on every package", every_package(key_config_one), 0ULL);
	EXPECT("MNG.ADDCX", tdh_mng_addcx(&td, tdcs[0]), 0ULL);
	EXPECT("PAMT.REMOVE with pages in use: PAMT_PAGE_NOT_EMPTY(0)",
	       tdh_phymem_pamt_remove(base, &out0, &out1), S_NOT_EMPTY_0);
	EXPECT("MNG.KEY.FREEID before VPFLUSHDONE: LIFECYCLE_STATE_INCORRECT",
	       tdh_mng_key_freeid(&td), S_LIFECYCLE);
	EXPECT("MNG.VPFLUSHDONE", tdh_mng_vpflushdone(&td), 0ULL);
	EXPECT("MNG.KEY.FREEID before CACHE.WB: WBCACHE_NOT_COMPLETE",
	       tdh_mng_key_freeid(&td), S_WBCACHE_NOT_COMPLETE);
	EXPECT("PHYMEM.CACHE.WB on every package", every_package(cache_wb_one), 0ULL);
	EXPECT("MNG.KEY.FREEID", tdh_mng_key_freeid(&td), 0ULL);
	EXPECT("PAGE.RECLAIM of the TDR with a TDCS page: TD_ASSOCIATED_PAGES_EXIST",
	       tdh_phymem_page_reclaim(block, &pt, &owner, &size), S_ASSOCIATED);
	EXPECT("PAGE.RECLAIM of the TDCS page",
	       tdh_phymem_page_reclaim(tdcs[0], &pt, &owner, &size), 0ULL);
	EXPECT("PAGE.RECLAIM of the TDCS page: PT_TDCX", pt, (u64)PT_TDCX);
	EXPECT("PAGE.RECLAIM of the TDCS page: owner is the TDR", owner, (u64)base);
	EXPECT("PAGE.RECLAIM of the TDR", tdh_phymem_page_reclaim(block, &pt, &owner, &size),
	       0ULL);
	EXPECT("PAGE.WBINVD of the TDR", wbinvd_global(block), 0ULL);
	EXPECT("PAGE.WBINVD of the TDCS page", wbinvd_global(tdcs[0]), 0ULL);
	EXPECT("PAGE.WBINVD of a pair page in use: PAGE_METADATA_INCORRECT(RCX)",
	       wbinvd_global(p0), 0xC000030000000000ULL | OPND_RCX);
	EXPECT("PAMT.REMOVE", tdh_phymem_pamt_remove(base, &out0, &out1), 0ULL);
	EXPECT("PAMT.REMOVE: RDX is pair page 0", (u64)out0, (u64)page_to_phys(p0));
	EXPECT("PAMT.REMOVE: R8 is pair page 1", (u64)out1, (u64)page_to_phys(p1));
	EXPECT("PAMT.REMOVE again: NO_PAMT_PAGE_PAIR",
	       tdh_phymem_pamt_remove(base, &out0, &out1), S_NO_PAIR);
	EXPECT("PAGE.WBINVD of pair page 0", wbinvd_global(p0), 0ULL);
	EXPECT("PAGE.WBINVD of pair page 1", wbinvd_global(p1), 0ULL);
	r = rdmd(base, TDX_PS_2M, &md);
	EXPECT("RDMD of the region after REMOVE: PT_NDA", md.rcx | r, 0ULL);
out:
	pr_info("TDXEMU-EXERCISER: done: %d passed, %d failed\n", passed, failed);
	if (hkid >= 0)
		tdx_guest_keyid_free(hkid);
	if (p0)
		__free_page(p0);
	if (p1)
		__free_page(p1);
	if (block)
		__free_pages(block, 9);
	return 0;
}
late_initcall(tdx_emu_exerciser);
