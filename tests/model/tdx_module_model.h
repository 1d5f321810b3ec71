/* SPDX-License-Identifier: GPL-2.0 */
/*
 * A model of the parts of the TDX module that Dynamic PAMT talks to, with
 * the rules taken from the public TDX module source (tdh_phymem_pamt_add.c,
 * tdh_phymem_pamt_remove.c, tdh_phymem_page_rdmd.c, tdh_phymem_page_wbinvd.c,
 * pamt_manager.h; intel/tdx-module):
 *
 *  - TDH.PHYMEM.PAMT.ADD / PAMT.REMOVE with the ABI's checks and status
 *    codes, an exclusive try-lock on the target 2 MiB entry and shared
 *    try-locks on the entries of the regions that hold the pair pages
 *    (contention gives TDX_OPERAND_BUSY, as in the module);
 *  - TDH.PHYMEM.PAGE.RDMD (page type: PAMT for pair pages, NDA for free
 *    pages, the type a 4K user gave) and TDH.PHYMEM.PAGE.WBINVD (needs a
 *    free page), both with a shared try-lock on the page's region;
 *  - a "4K user" interface for the SEAMCALLs that hand a 4K page to the
 *    module (PAGE.AUG/ADD, SEPT.ADD, MNG.CREATE, ...): MISSING_PAMT_PAGE_PAIR
 *    without a pair, PAGE_NOT_FREE for a page in use;
 *  - cache lines per page and KeyID class: the host's (KeyID 0) lines of a
 *    page the host wrote and did not flush, the module's lines of a pair
 *    page it wrote through the global private KeyID until the host asked
 *    for TDH.PHYMEM.PAGE.WBINVD with that KeyID.
 *
 * It shares nothing with the kernel side: it only sees register values.
 * Every breach of the ABI contract by the host, and of the rules the
 * kernel's design promises (ADD/REMOVE never in flight at once; a pair
 * page never handed over with the host's dirty lines, never freed with
 * the module's), is counted as a violation and the first few are printed.
 *
 * The same file is the PAMT part of the emulated TDX module that runs
 * under QEMU (tests/tdx-emu), so the harness and the emulator enforce one
 * implementation of these rules.
 */
#ifndef TDX_MODULE_MODEL_H
#define TDX_MODULE_MODEL_H

#include <stdint.h>
#include <stdbool.h>

/* ABI register layout of the PAMT.ADD/REMOVE/RDMD RCX operand */
#define TDXM_PS_4K		0ULL
#define TDXM_PS_2M		1ULL
#define TDXM_PAGE_SHIFT		12
#define TDXM_PAGE_SIZE		(1ULL << TDXM_PAGE_SHIFT)
#define TDXM_2M_SHIFT		21
#define TDXM_2M_SIZE		(1ULL << TDXM_2M_SHIFT)
#define TDXM_PAGES_PER_2M	512
#define TDXM_HPA_MASK		0x000FFFFFFFFFF000ULL	/* bits 51:12 */

/* Operand ids (register numbers) reported in the low 32 status bits */
#define TDXM_OPND_RAX		0
#define TDXM_OPND_RCX		1
#define TDXM_OPND_RDX		2
#define TDXM_OPND_R8		8

/* Page types (PAMT entry PT field), as RDMD reports them in RCX[7:0] */
/* RDMD RCX bit 63: the entry is a PAMT node (a 2M entry holding a pair) */
#define TDXM_RDMD_NON_LEAF	(1ULL << 63)
#define TDXM_PT_NDA		0
#define TDXM_PT_RSVD		1
#define TDXM_PT_REG		3
#define TDXM_PT_TDR		4
#define TDXM_PT_TDCX		5
#define TDXM_PT_TDVPR		6
#define TDXM_PT_EPT		8
#define TDXM_PT_PAMT		15

enum tdxm_violation {
	TDXM_V_DOUBLE_ADD,	/* ADD on a region that holds a pair     */
	TDXM_V_PAGE_NOT_FREE,	/* pair page already module-owned/in use */
	TDXM_V_REMOVE_NO_PAIR,	/* REMOVE on a region without a pair     */
	TDXM_V_REMOVE_USERS,	/* REMOVE while 4K users exist           */
	TDXM_V_USE_NO_PAIR,	/* 4K page used in a region with no pair */
	TDXM_V_BAD_OPERAND,	/* malformed RCX/RDX/R8                  */
	TDXM_V_OUT_OF_TDMR,	/* page/region outside TDX memory        */
	TDXM_V_NOT_HOST_PAGE,	/* pair page not allocated by the host   */
	TDXM_V_FREE_OWNED,	/* host freed a page the module owns     */
	TDXM_V_FREE_DIRTY,	/* returned pair page freed uncleared    */
	TDXM_V_USE_NOT_FREE,	/* 4K page used twice / is a pair page   */
	TDXM_V_FREE_DIRTY_KEYID,/* page freed with private-KeyID lines   */
	TDXM_V_ADD_HOST_DIRTY,	/* pair page handed over with host lines */
	TDXM_V_PAMT_CONCURRENT,	/* two ADD/REMOVE in flight at once      */
	TDXM_V_WBINVD_IN_USE,	/* WBINVD of a page the module uses      */
	TDXM_V_NR
};

extern const char *const tdxm_violation_names[TDXM_V_NR];

/* Fault injection kinds for the next SEAMCALL(s) */
enum tdxm_fault {
	TDXM_F_NONE,
	TDXM_F_BUSY,		/* TDX_OPERAND_BUSY (retryable)            */
	TDXM_F_ERROR,		/* an arbitrary non-retryable failure       */
	TDXM_F_SW_ERROR,	/* TDX_SEAMCALL_VMFAILINVALID-like          */
	TDXM_F_BAD_OUTPUT,	/* REMOVE succeeds but returns other pages
				   (a misbehaving module; ADD unaffected)  */
	/*
	 * More REMOVE outputs, for single-threaded tests only (they read
	 * another region's pair without its lock).  The region's own pair
	 * is removed in all of them, as with TDXM_F_BAD_OUTPUT.
	 */
	TDXM_F_OTHER_PAIR,	/* returns the pair of another region,
				   which stays installed there            */
	TDXM_F_MIXED_PAIR,	/* returns its own page 0 and page 1 of
				   another region's pair                  */
	TDXM_F_SWAPPED_OUTPUT,	/* returns its own pair in RDX/R8 swapped
				   (not a fault: the pages are right)     */
	TDXM_F_LOSE_PAIR,	/* REMOVE: the module forgot the pair just
				   before (NO_PAMT_PAGE_PAIR follows)     */
};

/* Which SEAMCALLs the fault injection applies to (tdxm_fail_only()) */
enum tdxm_leaf {
	TDXM_L_ANY,
	TDXM_L_ADD,
	TDXM_L_REMOVE,
	TDXM_L_WBINVD,
	TDXM_L_RDMD,
};

struct tdxm_stats {
	uint64_t calls;			/* SEAMCALLs issued to the model     */
	uint64_t add_ok, remove_ok;	/* successful ones                   */
	uint64_t add_err, remove_err;	/* failed ones (any reason)          */
	uint64_t add_busy, remove_busy;	/* of those, TDX_OPERAND_BUSY        */
	uint64_t wbinvd_ok, wbinvd_err;
	uint64_t injected;		/* faults injected                   */
	uint64_t busy_injected;
	uint64_t busy_contended;	/* BUSY from a real lock conflict    */
	uint64_t pairs_installed;	/* now                               */
	uint64_t pairs_peak;
	uint64_t uses;			/* 4K page uses                       */
	uint64_t violations[TDXM_V_NR];
};

/* Set up a fake TDMR covering [base_pfn, base_pfn + nr_pages). */
void tdxm_init(unsigned long base_pfn, unsigned long nr_pages);
void tdxm_fini(void);
/* Dynamic PAMT configured (TDH.SYS.CONFIG R8 bit 16); on after init. */
void tdxm_set_dynamic(bool on);
/* How KeyIDs are encoded in physical addresses, for WBINVD. */
void tdxm_set_keyids(unsigned int keyid_shift, unsigned int global_keyid);
/*
 * Host-side hooks (optional): is a pfn allocated by the host page
 * allocator, and where is its memory (the module writes pair pages).
 */
void tdxm_set_hooks(bool (*allocated)(unsigned long pfn),
		    void *(*mem)(unsigned long pfn));
void tdxm_reset_stats(void);

/* The DPAMT leaves, by register value. */
uint64_t tdxm_pamt_add(uint64_t rcx, uint64_t rdx, uint64_t r8);
uint64_t tdxm_pamt_remove(uint64_t rcx, uint64_t *rdx, uint64_t *r8);
/* RDMD: out[0..5] = RCX (page type), RDX (owner), R8 (level), R9..R11 */
uint64_t tdxm_page_rdmd(uint64_t rcx, uint64_t out[6]);
/* WBINVD: RCX = page HPA with a KeyID in the bits above keyid_shift */
uint64_t tdxm_page_wbinvd(uint64_t rcx);

/*
 * A 4K page of a region becomes a TD/control page (AUG/ADD/CREATE...) of
 * page type @pt: returns TDX_SUCCESS or TDX_MISSING_PAMT_PAGE_PAIR /
 * TDX_PAGE_NOT_FREE / TDX_OPERAND_BUSY (its region's entry is locked).
 */
uint64_t tdxm_page_use_type(unsigned long pfn, unsigned int pt);
uint64_t tdxm_page_use(unsigned long pfn);	/* PT_REG */
/* ... and goes back to the host (PAGE.REMOVE + PHYMEM.PAGE.RECLAIM). */
void tdxm_page_release(unsigned long pfn);

/* Host-side cache events (the harness calls these). */
void tdxm_host_write(unsigned long pfn);	/* host wrote the page   */
void tdxm_host_flush(unsigned long pfn);	/* host flushed its lines */

/* Queries for the host-side checks. */
bool tdxm_pfn_owned(unsigned long pfn);		/* pair page or 4K user */
bool tdxm_pfn_is_pair(unsigned long pfn);		/* page of an installed pair */
bool tdxm_pfn_needs_reset(unsigned long pfn);	/* returned, not cleared */
bool tdxm_pfn_dirty_private(unsigned long pfn);	/* module's lines left */
void tdxm_pfn_reset(unsigned long pfn);		/* host cleared it        */
bool tdxm_region_has_pair(unsigned long pfn);
/* the pair pages of the region of pfn; false without a pair */
bool tdxm_region_pair(unsigned long pfn, uint64_t *pa0, uint64_t *pa1);
unsigned int tdxm_region_users(unsigned long pfn);
void tdxm_note_violation(enum tdxm_violation v, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

/*
 * Fault injection.  tdxm_fail_at(n, kind, count): the n-th SEAMCALL from
 * now (1-based) and the count-1 following ones fail with @kind; with
 * tdxm_fail_only(leaf), only SEAMCALLs of that leaf are counted.
 * tdxm_busy_ppm: per-call probability (parts per million) of a random
 * OPERAND_BUSY, drawn from a per-thread seeded generator.
 */
void tdxm_fail_at(uint64_t n, enum tdxm_fault kind, unsigned int count);
void tdxm_fail_only(enum tdxm_leaf leaf);
void tdxm_fail_clear(void);
void tdxm_set_busy_ppm(unsigned int ppm);
/* per-call probability of an arbitrary failure (TDXM_F_ERROR) */
void tdxm_set_error_ppm(unsigned int ppm);
void tdxm_seed_thread(uint64_t seed);
/* Widen the window of each ADD/REMOVE (microseconds), for races. */
void tdxm_set_inflight_delay_us(unsigned int us);

void tdxm_get_stats(struct tdxm_stats *st);
void tdxm_set_quiet(bool quiet);	/* count violations, do not print */
uint64_t tdxm_total_violations(void);
/* print every non-zero violation counter; returns the total */
uint64_t tdxm_report_violations(const char *who);

#endif /* TDX_MODULE_MODEL_H */
