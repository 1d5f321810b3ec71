// SPDX-License-Identifier: GPL-2.0
/*
 * Model of the TDX module's Dynamic PAMT leaves.  See tdx_module_model.h.
 *
 * Concurrency: every piece of model state is a relaxed atomic, and the
 * module's PAMT entry locks are modelled with relaxed try-locks (a
 * conflict gives TDX_OPERAND_BUSY, as in the module).  Relaxed, so that
 * the model adds no happens-before edges between a get() and a concurrent
 * ADD/REMOVE that the kernel code does not create itself:
 * ThreadSanitizer must see the kernel's own synchronisation, not ours.
 * The overlap check between a 4K use and a REMOVE is a Dekker pair of
 * RMWs (lock-prefixed on x86) separated by compiler barriers.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "counters.h"
#include "rng.h"
#include "tdx_module_model.h"

/* Status codes, as in arch/x86/include/asm/shared/tdx_errno.h (ABI). */
#define S_SUCCESS			0ULL
#define S_OPERAND_INVALID		0xC000010000000000ULL
#define S_OPERAND_ADDR_RANGE_ERROR	0xC000010100000000ULL
#define S_OPERAND_BUSY			0x8000020000000000ULL
#define S_PAGE_METADATA_INCORRECT	0xC000030000000000ULL
#define S_PAGE_NOT_FREE			0xC000030300000000ULL
#define S_HPA_RANGE_NOT_FREE		0xC000030400000000ULL
#define S_NO_PAMT_PAGE_PAIR		0xC000030500000000ULL
#define S_PAMT_PAGE_NOT_EMPTY		0xC000030600000000ULL
#define S_MISSING_PAMT_PAGE_PAIR	0x8000030800000000ULL
#define S_VMFAILINVALID			0x8000FF00FFFF0000ULL
/* The class and details in bits 63:32; the operand id below. */
#define S_STATUS_MASK			0xFFFFFFFF00000000ULL

#define barrier()	__asm__ __volatile__("" ::: "memory")
#define RLX		__ATOMIC_RELAXED

#define S_PAGE_METADATA_INCORRECT_RCX	(S_PAGE_METADATA_INCORRECT | TDXM_OPND_RCX)

enum { P_NONE, P_PAIR, P_TD };

/* Cache lines of a page, by KeyID class */
#define LINE_HOST	1	/* KeyID 0: written by the host, not flushed */
#define LINE_GLOBAL	2	/* the global private KeyID (the module)     */
#define LINE_TD		4	/* a TD's private KeyID                      */

struct region {
	int lock;			/* the 2M PAMT entry's lock: 0 free,
					   >0 shared holders, -1 exclusive   */
	unsigned char has_pair;
	unsigned int users;		/* 4K users                           */
	uint64_t pair[2];		/* HPAs of the pair                   */
};

static unsigned long m_base, m_npages, m_nregions;
static struct region *m_regions;
static unsigned char *m_pstate;		/* P_*, per page                      */
static unsigned char *m_ptype;		/* page type of a 4K user             */
static unsigned char *m_dirty;		/* returned by REMOVE, not cleared    */
static unsigned char *m_lines;		/* LINE_*, per page                   */
static bool m_dynamic = true;
static unsigned int m_keyid_shift = 46, m_global_keyid = 1;
static int m_inflight;			/* ADD/REMOVE being executed          */
static unsigned int m_inflight_delay_us;

static struct tdxm_stats m_st;
static uint64_t m_viol_printed;
static bool m_quiet;

void tdxm_set_quiet(bool quiet)
{
	__atomic_store_n(&m_quiet, quiet, RLX);
}

static uint64_t m_fail_start, m_fail_count, m_fail_seen;
static int m_fail_kind, m_fail_leaf;
static unsigned int m_busy_ppm, m_error_ppm;
static __thread uint64_t t_rng = 0x9E3779B97F4A7C15ULL;

static bool (*h_allocated)(unsigned long pfn);
static void *(*h_mem)(unsigned long pfn);

const char *const tdxm_violation_names[TDXM_V_NR] = {
	[TDXM_V_DOUBLE_ADD]	= "PAMT.ADD on a region that holds a pair (HPA_RANGE_NOT_FREE)",
	[TDXM_V_PAGE_NOT_FREE]	= "PAMT.ADD with a pair page that is not free (PAGE_NOT_FREE)",
	[TDXM_V_REMOVE_NO_PAIR]	= "PAMT.REMOVE on a region without a pair (NO_PAMT_PAGE_PAIR)",
	[TDXM_V_REMOVE_USERS]	= "PAMT.REMOVE while 4K pages are in use (PAMT_PAGE_NOT_EMPTY)",
	[TDXM_V_USE_NO_PAIR]	= "4K page used in a region without a pair (MISSING_PAMT_PAGE_PAIR)",
	[TDXM_V_BAD_OPERAND]	= "malformed operand (OPERAND_INVALID)",
	[TDXM_V_OUT_OF_TDMR]	= "address outside TDX memory (OPERAND_ADDR_RANGE_ERROR)",
	[TDXM_V_NOT_HOST_PAGE]	= "pair page not allocated by the host",
	[TDXM_V_FREE_OWNED]	= "host freed a page the module owns",
	[TDXM_V_FREE_DIRTY]	= "pair page freed without being cleared",
	[TDXM_V_USE_NOT_FREE]	= "4K page handed to the module twice or is a pair page",
	[TDXM_V_FREE_DIRTY_KEYID] = "page freed with dirty cache lines of a private KeyID (no TDH.PHYMEM.PAGE.WBINVD)",
	[TDXM_V_ADD_HOST_DIRTY]	= "pair page handed to PAMT.ADD with the host's dirty KeyID-0 lines (no flush)",
	[TDXM_V_PAMT_CONCURRENT] = "two PAMT.ADD/REMOVE in flight at once (the host must serialise them)",
	[TDXM_V_WBINVD_IN_USE]	= "TDH.PHYMEM.PAGE.WBINVD of a page the module uses (PAGE_METADATA_INCORRECT)",
};

void tdxm_set_hooks(bool (*allocated)(unsigned long pfn),
		    void *(*mem)(unsigned long pfn))
{
	h_allocated = allocated;
	h_mem = mem;
}

void tdxm_set_dynamic(bool on)
{
	__atomic_store_n(&m_dynamic, on, RLX);
}

void tdxm_set_keyids(unsigned int keyid_shift, unsigned int global_keyid)
{
	m_keyid_shift = keyid_shift;
	m_global_keyid = global_keyid;
}

void tdxm_set_inflight_delay_us(unsigned int us)
{
	__atomic_store_n(&m_inflight_delay_us, us, RLX);
}

void tdxm_init(unsigned long base_pfn, unsigned long nr_pages)
{
	tdxm_fini();
	m_base = base_pfn;
	m_npages = nr_pages;
	m_nregions = nr_pages / TDXM_PAGES_PER_2M;
	m_regions = calloc(m_nregions, sizeof(*m_regions));
	m_pstate = calloc(nr_pages, 1);
	m_ptype = calloc(nr_pages, 1);
	m_dirty = calloc(nr_pages, 1);
	m_lines = calloc(nr_pages, 1);
	if (!m_regions || !m_pstate || !m_ptype || !m_dirty || !m_lines) {
		perror("tdxm_init");
		exit(2);
	}
	memset(&m_st, 0, sizeof(m_st));
	m_viol_printed = 0;
	m_dynamic = true;
	m_inflight = 0;
	m_inflight_delay_us = 0;
	tdxm_fail_clear();
	m_busy_ppm = 0;
	m_error_ppm = 0;
}

void tdxm_fini(void)
{
	free(m_regions);
	free(m_pstate);
	free(m_ptype);
	free(m_dirty);
	free(m_lines);
	m_regions = NULL;
	m_pstate = m_ptype = m_dirty = m_lines = NULL;
}

void tdxm_reset_stats(void)
{
	uint64_t installed = m_st.pairs_installed;

	memset(&m_st, 0, sizeof(m_st));
	m_st.pairs_installed = installed;
	m_st.pairs_peak = installed;
	m_viol_printed = 0;
}

void tdxm_note_violation(enum tdxm_violation v, const char *fmt, ...)
{
	va_list ap;

	__atomic_fetch_add(&m_st.violations[v], 1, RLX);
	if (__atomic_load_n(&m_quiet, RLX) ||
	    __atomic_fetch_add(&m_viol_printed, 1, RLX) >= 10)
		return;
	fprintf(stderr, "TDX module model: VIOLATION: %s: ", tdxm_violation_names[v]);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
}

static uint64_t rng_next(void)
{
	return xorshift64_next(&t_rng);
}

void tdxm_seed_thread(uint64_t seed)
{
	t_rng = seed ? seed * 0x9E3779B97F4A7C15ULL : 1;
}

void tdxm_fail_at(uint64_t n, enum tdxm_fault kind, unsigned int count)
{
	uint64_t now = __atomic_load_n(&m_fail_seen, RLX);

	__atomic_store_n(&m_fail_kind, kind, RLX);
	__atomic_store_n(&m_fail_count, count, RLX);
	__atomic_store_n(&m_fail_start, now + n, RLX);
}

void tdxm_fail_only(enum tdxm_leaf leaf)
{
	__atomic_store_n(&m_fail_leaf, leaf, RLX);
}

void tdxm_fail_clear(void)
{
	__atomic_store_n(&m_fail_count, 0, RLX);
	__atomic_store_n(&m_fail_kind, TDXM_F_NONE, RLX);
	__atomic_store_n(&m_fail_leaf, TDXM_L_ANY, RLX);
}

void tdxm_set_busy_ppm(unsigned int ppm)
{
	__atomic_store_n(&m_busy_ppm, ppm, RLX);
}

void tdxm_set_error_ppm(unsigned int ppm)
{
	__atomic_store_n(&m_error_ppm, ppm, RLX);
}

/* The REMOVE output fault (TDXM_F_*_OUTPUT/_PAIR) of the current call. */
static __thread int t_bad_output;

/* Count a call and decide whether to inject a fault into it. */
static uint64_t seamcall_enter(enum tdxm_leaf leaf)
{
	int only = __atomic_load_n(&m_fail_leaf, RLX);
	uint64_t count = __atomic_load_n(&m_fail_count, RLX);
	unsigned int ppm = __atomic_load_n(&m_busy_ppm, RLX);
	unsigned int eppm = __atomic_load_n(&m_error_ppm, RLX);
	uint64_t n = 0;

	__atomic_add_fetch(&m_st.calls, 1, RLX);
	if (only == TDXM_L_ANY || only == (int)leaf)
		n = __atomic_add_fetch(&m_fail_seen, 1, RLX);
	t_bad_output = TDXM_F_NONE;

	if (n && count) {
		uint64_t start = __atomic_load_n(&m_fail_start, RLX);

		if (n >= start && n < start + count) {
			__atomic_fetch_add(&m_st.injected, 1, RLX);
			switch (__atomic_load_n(&m_fail_kind, RLX)) {
			case TDXM_F_BUSY:
				__atomic_fetch_add(&m_st.busy_injected, 1, RLX);
				return S_OPERAND_BUSY | TDXM_OPND_RCX;
			case TDXM_F_ERROR:
				return S_PAGE_METADATA_INCORRECT | TDXM_OPND_RCX;
			case TDXM_F_SW_ERROR:
				return S_VMFAILINVALID;
			case TDXM_F_BAD_OUTPUT:
			case TDXM_F_OTHER_PAIR:
			case TDXM_F_MIXED_PAIR:
			case TDXM_F_SWAPPED_OUTPUT:
			case TDXM_F_LOSE_PAIR:
				t_bad_output = __atomic_load_n(&m_fail_kind, RLX);
				return S_SUCCESS;
			default:
				break;
			}
		}
	}
	/* Random faults only where PAMT.ADD/REMOVE would see them. */
	if (leaf != TDXM_L_ADD && leaf != TDXM_L_REMOVE)
		return S_SUCCESS;
	if (eppm && rng_next() % 1000000 < eppm) {
		__atomic_fetch_add(&m_st.injected, 1, RLX);
		return S_PAGE_METADATA_INCORRECT | TDXM_OPND_RCX;
	}
	if (ppm && rng_next() % 1000000 < ppm) {
		__atomic_fetch_add(&m_st.injected, 1, RLX);
		__atomic_fetch_add(&m_st.busy_injected, 1, RLX);
		return S_OPERAND_BUSY | TDXM_OPND_RCX;
	}
	return S_SUCCESS;
}

static bool pfn_in_tdmr(unsigned long pfn)
{
	return pfn >= m_base && pfn < m_base + m_npages;
}

static unsigned long pfn_idx(unsigned long pfn)
{
	return pfn - m_base;
}

static struct region *pfn_region(unsigned long pfn)
{
	return &m_regions[pfn_idx(pfn) / TDXM_PAGES_PER_2M];
}

/*
 * Which page of a region's pair (0 or 1) holds the PAMT entry of a typed
 * 4K user; 0 when the users are not typed (counted only).
 */
static uint64_t first_used_half(struct region *r)
{
	unsigned long first = (unsigned long)(r - m_regions) * TDXM_PAGES_PER_2M;
	unsigned long half = TDXM_PAGES_PER_2M / 2;

	for (unsigned long i = 0; i < half; i++)
		if (first + i < m_npages &&
		    __atomic_load_n(&m_pstate[first + i], RLX) == P_TD)
			return 0;
	for (unsigned long i = half; i < TDXM_PAGES_PER_2M; i++)
		if (first + i < m_npages &&
		    __atomic_load_n(&m_pstate[first + i], RLX) == P_TD)
			return 1;
	return 0;
}

/* Check the "page size + HPA" RCX operand; returns the region or NULL. */
static struct region *check_rcx(uint64_t rcx, const char *leaf, uint64_t *err)
{
	uint64_t pa = rcx & TDXM_HPA_MASK;

	if ((rcx & 7) != TDXM_PS_2M || (rcx & ~(TDXM_HPA_MASK | 7)) ||
	    (pa & (TDXM_2M_SIZE - 1))) {
		tdxm_note_violation(TDXM_V_BAD_OPERAND, "%s RCX=%#llx", leaf,
				    (unsigned long long)rcx);
		*err = S_OPERAND_INVALID | TDXM_OPND_RCX;
		return NULL;
	}
	if (!pfn_in_tdmr(pa >> TDXM_PAGE_SHIFT)) {
		tdxm_note_violation(TDXM_V_OUT_OF_TDMR, "%s RCX=%#llx", leaf,
				    (unsigned long long)rcx);
		*err = S_OPERAND_ADDR_RANGE_ERROR | TDXM_OPND_RCX;
		return NULL;
	}
	return pfn_region(pa >> TDXM_PAGE_SHIFT);
}

static uint64_t check_page(uint64_t hpa, uint64_t opnd)
{
	if (hpa & ~TDXM_HPA_MASK) {
		tdxm_note_violation(TDXM_V_BAD_OPERAND, "PAMT.ADD pair page %#llx (operand %llu)",
				    (unsigned long long)hpa, (unsigned long long)opnd);
		return S_OPERAND_INVALID | opnd;
	}
	if (!pfn_in_tdmr(hpa >> TDXM_PAGE_SHIFT)) {
		tdxm_note_violation(TDXM_V_OUT_OF_TDMR, "PAMT.ADD pair page %#llx",
				    (unsigned long long)hpa);
		return S_OPERAND_ADDR_RANGE_ERROR | opnd;
	}
	return S_SUCCESS;
}

/* The module's sharex try-locks on 2M PAMT entries. */
static bool lock_ex(struct region *r)
{
	int free_ = 0;

	return __atomic_compare_exchange_n(&r->lock, &free_, -1, false, RLX, RLX);
}

static bool lock_sh(struct region *r)
{
	int v = __atomic_load_n(&r->lock, RLX);

	do {
		if (v < 0)
			return false;
	} while (!__atomic_compare_exchange_n(&r->lock, &v, v + 1, false, RLX, RLX));
	return true;
}

static void unlock_ex(struct region *r)
{
	__atomic_store_n(&r->lock, 0, RLX);
}

static void unlock_sh(struct region *r)
{
	__atomic_fetch_sub(&r->lock, 1, RLX);
}

static bool status_busy(uint64_t status)
{
	return (status & S_STATUS_MASK) == S_OPERAND_BUSY;
}

static uint64_t busy(uint64_t opnd)
{
	__atomic_fetch_add(&m_st.busy_contended, 1, RLX);
	return S_OPERAND_BUSY | opnd;
}

/*
 * Lock what an ADD or REMOVE of region @r with the pair @pa locks in the
 * module: @r exclusively, the regions of the pair pages shared (unless
 * one of them is @r itself).  Returns 0 or the BUSY status.
 */
static uint64_t lock_pamt_op(struct region *r, const uint64_t pa[2],
			     struct region *held[2])
{
	held[0] = held[1] = NULL;
	if (!lock_ex(r))
		return busy(TDXM_OPND_RCX);
	for (int i = 0; i < 2; i++) {
		struct region *pr = pfn_region(pa[i] >> TDXM_PAGE_SHIFT);

		if (pr == r || (i == 1 && pr == held[0]))
			continue;
		if (!lock_sh(pr)) {
			if (held[0])
				unlock_sh(held[0]);
			unlock_ex(r);
			return busy(i ? TDXM_OPND_R8 : TDXM_OPND_RDX);
		}
		held[i] = pr;
	}
	return S_SUCCESS;
}

static void unlock_pamt_op(struct region *r, struct region *held[2])
{
	for (int i = 0; i < 2; i++)
		if (held[i])
			unlock_sh(held[i]);
	unlock_ex(r);
}

/* ADD and REMOVE must never overlap: the host promises one at a time. */
static void inflight_enter(const char *leaf, uint64_t rcx)
{
	unsigned int us = __atomic_load_n(&m_inflight_delay_us, RLX);

	if (__atomic_fetch_add(&m_inflight, 1, RLX))
		tdxm_note_violation(TDXM_V_PAMT_CONCURRENT, "%s RCX=%#llx",
				    leaf, (unsigned long long)rcx);
	if (us)
		usleep(us);
}

static void inflight_exit(void)
{
	__atomic_fetch_sub(&m_inflight, 1, RLX);
}

static void stat_max(uint64_t *p, uint64_t v)
{
	uint64_t old = __atomic_load_n(p, RLX);

	while (v > old && !__atomic_compare_exchange_n(p, &old, v, false, RLX, RLX))
		;
}

static unsigned char lines(unsigned long pfn)
{
	return __atomic_load_n(&m_lines[pfn_idx(pfn)], RLX);
}

uint64_t tdxm_pamt_add(uint64_t rcx, uint64_t rdx, uint64_t r8)
{
	uint64_t err = seamcall_enter(TDXM_L_ADD);
	struct region *r, *held[2];
	unsigned long p0, p1;
	unsigned char none;
	uint64_t inst, pa[2] = { rdx, r8 };

	inflight_enter("PAMT.ADD", rcx);
	if (err)
		goto out;
	if (!__atomic_load_n(&m_dynamic, RLX)) {
		err = S_OPERAND_INVALID | TDXM_OPND_RAX;
		goto out;
	}
	r = check_rcx(rcx, "PAMT.ADD", &err);
	if (!r)
		goto out;
	err = check_page(rdx, TDXM_OPND_RDX);
	if (!err)
		err = check_page(r8, TDXM_OPND_R8);
	if (err)
		goto out;
	p0 = rdx >> TDXM_PAGE_SHIFT;
	p1 = r8 >> TDXM_PAGE_SHIFT;

	err = lock_pamt_op(r, pa, held);
	if (err)
		goto out;
	if (__atomic_load_n(&r->has_pair, RLX)) {
		tdxm_note_violation(TDXM_V_DOUBLE_ADD, "region %#llx",
				    (unsigned long long)(rcx & TDXM_HPA_MASK));
		err = S_HPA_RANGE_NOT_FREE | TDXM_OPND_RCX;
		goto unlock;
	}
	none = P_NONE;
	/*
	 * As tdh_phymem_pamt_add.c: the bitmap bit of page 0 is set first, so
	 * the same page twice is refused on page 1 (R8).
	 */
	if (!__atomic_compare_exchange_n(&m_pstate[pfn_idx(p0)], &none,
					 P_PAIR, false, RLX, RLX)) {
		tdxm_note_violation(TDXM_V_PAGE_NOT_FREE, "pair page %#llx (state %d)",
				    (unsigned long long)rdx, none);
		err = S_PAGE_NOT_FREE | TDXM_OPND_RDX;
		goto unlock;
	}
	none = P_NONE;
	if (!__atomic_compare_exchange_n(&m_pstate[pfn_idx(p1)], &none, P_PAIR,
					 false, RLX, RLX)) {
		tdxm_note_violation(TDXM_V_PAGE_NOT_FREE, "pair page %#llx (state %d)",
				    (unsigned long long)r8, none);
		__atomic_store_n(&m_pstate[pfn_idx(p0)], P_NONE, RLX);
		err = S_PAGE_NOT_FREE | TDXM_OPND_R8;
		goto unlock;
	}
	/* ALL CHECKS PASSED: from here on the leaf succeeds. */
	if (h_allocated && (!h_allocated(p0) || !h_allocated(p1)))
		tdxm_note_violation(TDXM_V_NOT_HOST_PAGE, "pair %#llx/%#llx",
				    (unsigned long long)rdx, (unsigned long long)r8);
	for (int i = 0; i < 2; i++) {
		unsigned long pfn = pa[i] >> TDXM_PAGE_SHIFT;

		/*
		 * Lines the host wrote through KeyID 0 and did not flush can be
		 * evicted later, on top of what the module writes through the
		 * global KeyID.
		 */
		if (lines(pfn) & LINE_HOST)
			tdxm_note_violation(TDXM_V_ADD_HOST_DIRTY, "pair page %#lx", pfn);
		/* The module zeroes the pair through the global private KeyID. */
		if (h_mem) {
			void *m = h_mem(pfn);

			if (m)
				memset(m, 0x5a, TDXM_PAGE_SIZE);
		}
		__atomic_fetch_or(&m_lines[pfn_idx(pfn)], LINE_GLOBAL, RLX);
		__atomic_store_n(&m_dirty[pfn_idx(pfn)], 0, RLX);
	}
	__atomic_store_n(&r->pair[0], rdx, RLX);
	__atomic_store_n(&r->pair[1], r8, RLX);
	__atomic_store_n(&r->has_pair, 1, RLX);
	inst = __atomic_add_fetch(&m_st.pairs_installed, 1, RLX);
	stat_max(&m_st.pairs_peak, inst);
unlock:
	unlock_pamt_op(r, held);
out:
	inflight_exit();
	__atomic_fetch_add(err ? &m_st.add_err : &m_st.add_ok, 1, RLX);
	if (status_busy(err))
		__atomic_fetch_add(&m_st.add_busy, 1, RLX);
	return err;
}

uint64_t tdxm_pamt_remove(uint64_t rcx, uint64_t *rdx, uint64_t *r8)
{
	uint64_t err = seamcall_enter(TDXM_L_REMOVE), pa[2];
	int bad_output = t_bad_output;
	struct region *r, *held[2];
	unsigned int users;

	/* Outputs are undefined on failure: make any use of them visible. */
	*rdx = 0xdead000000001000ULL;
	*r8 = 0xdead000000002000ULL;
	inflight_enter("PAMT.REMOVE", rcx);
	if (err)
		goto out;
	if (!__atomic_load_n(&m_dynamic, RLX)) {
		err = S_OPERAND_INVALID | TDXM_OPND_RAX;
		goto out;
	}
	r = check_rcx(rcx, "PAMT.REMOVE", &err);
	if (!r)
		goto out;
	pa[0] = __atomic_load_n(&r->pair[0], RLX);
	pa[1] = __atomic_load_n(&r->pair[1], RLX);
	if (!__atomic_load_n(&r->has_pair, RLX)) {
		/* no pair pages to lock */
		if (!lock_ex(r)) {
			err = busy(TDXM_OPND_RCX);
			goto out;
		}
		held[0] = held[1] = NULL;
	} else {
		err = lock_pamt_op(r, pa, held);
		if (err)
			goto out;
	}
	if (bad_output == TDXM_F_LOSE_PAIR && __atomic_load_n(&r->has_pair, RLX)) {
		/* The module lost track of the pair: it is NDA for it now. */
		for (int i = 0; i < 2; i++)
			__atomic_store_n(&m_pstate[pfn_idx(pa[i] >> TDXM_PAGE_SHIFT)],
					 P_NONE, RLX);
		__atomic_store_n(&r->has_pair, 0, RLX);
		__atomic_fetch_sub(&m_st.pairs_installed, 1, RLX);
		err = S_NO_PAMT_PAGE_PAIR | TDXM_OPND_RCX;
		goto unlock;
	}
	if (!__atomic_exchange_n(&r->has_pair, 0, RLX)) {
		tdxm_note_violation(TDXM_V_REMOVE_NO_PAIR, "region %#llx",
				    (unsigned long long)(rcx & TDXM_HPA_MASK));
		err = S_NO_PAMT_PAGE_PAIR | TDXM_OPND_RCX;
		goto unlock;
	}
	barrier();
	users = __atomic_load_n(&r->users, RLX);
	if (users) {
		tdxm_note_violation(TDXM_V_REMOVE_USERS, "region %#llx has %u 4K users",
				    (unsigned long long)(rcx & TDXM_HPA_MASK), users);
		__atomic_store_n(&r->has_pair, 1, RLX);
		/*
		 * The operand id is the pair page that holds a used entry: page 0
		 * has the entries of the region's first 256 4K pages.
		 */
		err = S_PAMT_PAGE_NOT_EMPTY | first_used_half(r);
		goto unlock;
	}
	*rdx = pa[0];
	*r8 = pa[1];
	switch (bad_output) {
	case TDXM_F_BAD_OUTPUT:
		/* a page outside TDX memory and a page the host never gave us */
		*rdx = (m_base - 1) << TDXM_PAGE_SHIFT;
		*r8 = pa[1] + TDXM_PAGE_SIZE;
		break;
	case TDXM_F_OTHER_PAIR:
	case TDXM_F_MIXED_PAIR:
		for (unsigned long i = 0; i < m_nregions; i++) {
			struct region *o = &m_regions[i];

			if (o == r || !__atomic_load_n(&o->has_pair, RLX))
				continue;
			if (bad_output == TDXM_F_OTHER_PAIR)
				*rdx = __atomic_load_n(&o->pair[0], RLX);
			*r8 = __atomic_load_n(&o->pair[1], RLX);
			break;
		}
		break;
	case TDXM_F_SWAPPED_OUTPUT:
		*rdx = pa[1];
		*r8 = pa[0];
		break;
	}
	/* REMOVE only reads the pages: the module's lines stay in the caches. */
	for (int i = 0; i < 2; i++) {
		unsigned long idx = pfn_idx(pa[i] >> TDXM_PAGE_SHIFT);

		__atomic_store_n(&m_dirty[idx], 1, RLX);
		__atomic_store_n(&m_pstate[idx], P_NONE, RLX);
	}
	__atomic_store_n(&r->pair[0], 0, RLX);
	__atomic_store_n(&r->pair[1], 0, RLX);
	__atomic_fetch_sub(&m_st.pairs_installed, 1, RLX);
unlock:
	unlock_pamt_op(r, held);
out:
	inflight_exit();
	__atomic_fetch_add(err ? &m_st.remove_err : &m_st.remove_ok, 1, RLX);
	if (status_busy(err))
		__atomic_fetch_add(&m_st.remove_busy, 1, RLX);
	return err;
}

uint64_t tdxm_page_rdmd(uint64_t rcx, uint64_t out[6])
{
	uint64_t err = seamcall_enter(TDXM_L_RDMD), pa = rcx & TDXM_HPA_MASK;
	unsigned int level = rcx & 7;
	unsigned long pfn = pa >> TDXM_PAGE_SHIFT;
	struct region *r;

	memset(out, 0, 6 * sizeof(out[0]));
	if (err)
		return err;
	if ((rcx & ~(TDXM_HPA_MASK | 7)) || level > TDXM_PS_2M ||
	    (level == TDXM_PS_2M && !__atomic_load_n(&m_dynamic, RLX)) ||
	    (level == TDXM_PS_2M && (pa & (TDXM_2M_SIZE - 1))))
		return S_OPERAND_INVALID | TDXM_OPND_RCX;
	if (!pfn_in_tdmr(pfn))
		return S_OPERAND_ADDR_RANGE_ERROR | TDXM_OPND_RCX;

	r = pfn_region(pfn);
	if (!lock_sh(r))
		return busy(TDXM_OPND_RCX);
	if (level == TDXM_PS_2M) {
		out[2] = TDXM_PS_2M;
		if (__atomic_load_n(&r->has_pair, RLX)) {
			/* phymem_page_rdmd_pt_ret_t: a PAMT node is non-leaf */
			out[0] = TDXM_PT_PAMT | TDXM_RDMD_NON_LEAF;
			out[4] = __atomic_load_n(&r->pair[0], RLX);
			out[5] = __atomic_load_n(&r->pair[1], RLX);
		}
	} else {
		switch (__atomic_load_n(&m_pstate[pfn_idx(pfn)], RLX)) {
		case P_PAIR:
			out[0] = TDXM_PT_PAMT;
			break;
		case P_TD:
			out[0] = __atomic_load_n(&m_ptype[pfn_idx(pfn)], RLX);
			break;
		default:
			out[0] = TDXM_PT_NDA;
			/* the walk stops at a 2M entry without a pair */
			out[2] = __atomic_load_n(&r->has_pair, RLX) ? TDXM_PS_4K : TDXM_PS_2M;
			break;
		}
	}
	unlock_sh(r);
	return S_SUCCESS;
}

uint64_t tdxm_page_wbinvd(uint64_t rcx)
{
	uint64_t err = seamcall_enter(TDXM_L_WBINVD);
	uint64_t keyid = rcx >> m_keyid_shift;
	uint64_t pa = rcx & ((1ULL << m_keyid_shift) - 1);
	unsigned long pfn = pa >> TDXM_PAGE_SHIFT;
	struct region *r;
	unsigned char clear;

	if (err)
		goto out;
	if (pa & (TDXM_PAGE_SIZE - 1)) {
		err = S_OPERAND_INVALID | TDXM_OPND_RCX;
		goto out;
	}
	if (!pfn_in_tdmr(pfn)) {
		err = S_OPERAND_ADDR_RANGE_ERROR | TDXM_OPND_RCX;
		goto out;
	}
	r = pfn_region(pfn);
	if (!lock_sh(r)) {
		err = busy(TDXM_OPND_RCX);
		goto out;
	}
	if (__atomic_load_n(&m_pstate[pfn_idx(pfn)], RLX) != P_NONE) {
		tdxm_note_violation(TDXM_V_WBINVD_IN_USE, "page %#lx", pfn);
		err = S_PAGE_METADATA_INCORRECT_RCX;
	} else {
		clear = keyid == 0 ? LINE_HOST :
			keyid == m_global_keyid ? LINE_GLOBAL : LINE_TD;
		__atomic_fetch_and(&m_lines[pfn_idx(pfn)], (unsigned char)~clear, RLX);
	}
	unlock_sh(r);
out:
	__atomic_fetch_add(err ? &m_st.wbinvd_err : &m_st.wbinvd_ok, 1, RLX);
	return err;
}

uint64_t tdxm_page_use_type(unsigned long pfn, unsigned int pt)
{
	unsigned char none = P_NONE;
	struct region *r;

	__atomic_fetch_add(&m_st.uses, 1, RLX);
	if (!pfn_in_tdmr(pfn)) {
		tdxm_note_violation(TDXM_V_OUT_OF_TDMR, "4K page %#lx", pfn);
		return S_OPERAND_ADDR_RANGE_ERROR;
	}
	r = pfn_region(pfn);
	if (!lock_sh(r))
		return busy(TDXM_OPND_RCX);
	if (!__atomic_compare_exchange_n(&m_pstate[pfn_idx(pfn)], &none, P_TD,
					 false, RLX, RLX)) {
		unlock_sh(r);
		tdxm_note_violation(TDXM_V_USE_NOT_FREE, "4K page %#lx (state %d)", pfn, none);
		return S_PAGE_NOT_FREE;
	}
	__atomic_store_n(&m_ptype[pfn_idx(pfn)], pt, RLX);
	__atomic_fetch_add(&r->users, 1, RLX);
	barrier();
	if (!__atomic_load_n(&r->has_pair, RLX)) {
		tdxm_note_violation(TDXM_V_USE_NO_PAIR, "4K page %#lx", pfn);
		__atomic_fetch_sub(&r->users, 1, RLX);
		__atomic_store_n(&m_pstate[pfn_idx(pfn)], P_NONE, RLX);
		unlock_sh(r);
		return S_MISSING_PAMT_PAGE_PAIR;
	}
	unlock_sh(r);
	return S_SUCCESS;
}

uint64_t tdxm_page_use(unsigned long pfn)
{
	return tdxm_page_use_type(pfn, TDXM_PT_REG);
}

void tdxm_page_release(unsigned long pfn)
{
	struct region *r = pfn_region(pfn);

	__atomic_store_n(&m_pstate[pfn_idx(pfn)], P_NONE, RLX);
	barrier();
	__atomic_fetch_sub(&r->users, 1, RLX);
}

void tdxm_host_write(unsigned long pfn)
{
	if (pfn_in_tdmr(pfn))
		__atomic_fetch_or(&m_lines[pfn_idx(pfn)], LINE_HOST, RLX);
}

void tdxm_host_flush(unsigned long pfn)
{
	if (pfn_in_tdmr(pfn))
		__atomic_fetch_and(&m_lines[pfn_idx(pfn)], (unsigned char)~LINE_HOST, RLX);
}

bool tdxm_pfn_owned(unsigned long pfn)
{
	return pfn_in_tdmr(pfn) && __atomic_load_n(&m_pstate[pfn_idx(pfn)], RLX) != P_NONE;
}

bool tdxm_pfn_is_pair(unsigned long pfn)
{
	return pfn_in_tdmr(pfn) && __atomic_load_n(&m_pstate[pfn_idx(pfn)], RLX) == P_PAIR;
}

bool tdxm_pfn_needs_reset(unsigned long pfn)
{
	return pfn_in_tdmr(pfn) && __atomic_load_n(&m_dirty[pfn_idx(pfn)], RLX);
}

bool tdxm_pfn_dirty_private(unsigned long pfn)
{
	return pfn_in_tdmr(pfn) && (lines(pfn) & (LINE_GLOBAL | LINE_TD));
}

void tdxm_pfn_reset(unsigned long pfn)
{
	if (pfn_in_tdmr(pfn))
		__atomic_store_n(&m_dirty[pfn_idx(pfn)], 0, RLX);
}

bool tdxm_region_has_pair(unsigned long pfn)
{
	return pfn_in_tdmr(pfn) && __atomic_load_n(&pfn_region(pfn)->has_pair, RLX);
}

bool tdxm_region_pair(unsigned long pfn, uint64_t *pa0, uint64_t *pa1)
{
	struct region *r;

	if (!tdxm_region_has_pair(pfn))
		return false;
	r = pfn_region(pfn);
	*pa0 = __atomic_load_n(&r->pair[0], RLX);
	*pa1 = __atomic_load_n(&r->pair[1], RLX);
	return true;
}

unsigned int tdxm_region_users(unsigned long pfn)
{
	return pfn_in_tdmr(pfn) ? __atomic_load_n(&pfn_region(pfn)->users, RLX) : 0;
}

void tdxm_get_stats(struct tdxm_stats *st)
{
	memcpy(st, &m_st, sizeof(*st));
}

uint64_t tdxm_total_violations(void)
{
	return counters_sum(m_st.violations, TDXM_V_NR);
}

uint64_t tdxm_report_violations(const char *who)
{
	return counters_report(who, m_st.violations, tdxm_violation_names, TDXM_V_NR);
}
