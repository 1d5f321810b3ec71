/* SPDX-License-Identifier: GPL-2.0 */
/*
 * A model of the parts of the TDX module that Dynamic PAMT talks to:
 * TDH.PHYMEM.PAMT.ADD / TDH.PHYMEM.PAMT.REMOVE with the real ABI checks and
 * status codes, plus a "4K user" interface that stands in for the SEAMCALLs
 * that hand a 4K page to the module (TDH.MEM.PAGE.AUG/ADD, SEPT.ADD,
 * MNG.CREATE, ...).  It shares nothing with the kernel side: it only sees
 * register values and keeps its own view of which pages it owns.
 *
 * Every breach of the ABI contract by the host is counted as a violation
 * (and the first few are printed); the harness fails a test on any
 * violation it did not ask for.
 */
#ifndef TDX_MODULE_MODEL_H
#define TDX_MODULE_MODEL_H

#include <stdint.h>
#include <stdbool.h>

/* ABI register layout of the PAMT.ADD/REMOVE RCX operand */
#define TDXM_PS_2M		1ULL
#define TDXM_PAGE_SHIFT		12
#define TDXM_PAGE_SIZE		(1ULL << TDXM_PAGE_SHIFT)
#define TDXM_2M_SHIFT		21
#define TDXM_2M_SIZE		(1ULL << TDXM_2M_SHIFT)
#define TDXM_PAGES_PER_2M	512
#define TDXM_HPA_MASK		0x000FFFFFFFFFF000ULL	/* bits 51:12 */

/* Operand ids (register numbers) reported in the low 32 status bits */
#define TDXM_OPND_RCX		1
#define TDXM_OPND_RDX		2
#define TDXM_OPND_R8		8

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
};

struct tdxm_stats {
	uint64_t calls;			/* ADD + REMOVE SEAMCALLs issued     */
	uint64_t add_ok, remove_ok;	/* successful ones                   */
	uint64_t add_err, remove_err;	/* failed ones (any reason)          */
	uint64_t injected;		/* faults injected                   */
	uint64_t busy_injected;
	uint64_t pairs_installed;	/* now                               */
	uint64_t pairs_peak;
	uint64_t uses;			/* 4K page uses                       */
	uint64_t violations[TDXM_V_NR];
};

/* Set up a fake TDMR covering [base_pfn, base_pfn + nr_pages). */
void tdxm_init(unsigned long base_pfn, unsigned long nr_pages);
void tdxm_fini(void);
/*
 * Host-side hooks (optional): is a pfn allocated by the host page
 * allocator, and where is its memory (the module writes pair pages).
 */
void tdxm_set_hooks(bool (*allocated)(unsigned long pfn),
		    void *(*mem)(unsigned long pfn));
void tdxm_reset_stats(void);

/* The two DPAMT leaves, by register value. */
uint64_t tdxm_pamt_add(uint64_t rcx, uint64_t rdx, uint64_t r8);
uint64_t tdxm_pamt_remove(uint64_t rcx, uint64_t *rdx, uint64_t *r8);

/*
 * A 4K page of a region becomes a TD/control page (AUG/ADD/CREATE...):
 * returns TDX_SUCCESS or TDX_MISSING_PAMT_PAGE_PAIR / TDX_PAGE_NOT_FREE.
 */
uint64_t tdxm_page_use(unsigned long pfn);
/* ... and goes back to the host (PAGE.REMOVE + PHYMEM.PAGE.RECLAIM). */
void tdxm_page_release(unsigned long pfn);

/* Queries for the host-side checks. */
bool tdxm_pfn_owned(unsigned long pfn);		/* pair page or 4K user */
bool tdxm_pfn_is_pair(unsigned long pfn);		/* page of an installed pair */
bool tdxm_pfn_needs_reset(unsigned long pfn);	/* returned, not cleared */
void tdxm_pfn_reset(unsigned long pfn);		/* host cleared it        */
bool tdxm_region_has_pair(unsigned long pfn);
unsigned int tdxm_region_users(unsigned long pfn);
void tdxm_note_violation(enum tdxm_violation v, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

/*
 * Fault injection.  tdxm_fail_at(n, kind, count): the n-th SEAMCALL from
 * now (1-based) and the count-1 following ones fail with @kind.
 * tdxm_busy_ppm: per-call probability (parts per million) of a random
 * OPERAND_BUSY, drawn from a per-thread seeded generator.
 */
void tdxm_fail_at(uint64_t n, enum tdxm_fault kind, unsigned int count);
void tdxm_fail_clear(void);
void tdxm_set_busy_ppm(unsigned int ppm);
/* per-call probability of an arbitrary failure (TDXM_F_ERROR) */
void tdxm_set_error_ppm(unsigned int ppm);
void tdxm_seed_thread(uint64_t seed);

void tdxm_get_stats(struct tdxm_stats *st);
void tdxm_set_quiet(bool quiet);	/* count violations, do not print */
uint64_t tdxm_total_violations(void);
/* print every non-zero violation counter; returns the total */
uint64_t tdxm_report_violations(const char *who);

#endif /* TDX_MODULE_MODEL_H */
