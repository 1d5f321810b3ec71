// SPDX-License-Identifier: GPL-2.0
/*
 * Model of the TDX module's Dynamic PAMT leaves.  See tdx_module_model.h.
 *
 * Concurrency: the state of a 2 MiB region is changed only by PAMT.ADD and
 * PAMT.REMOVE, which take a per-region try-lock as the real module does
 * (contention -> TDX_OPERAND_BUSY).  The 4K-user side (tdxm_page_use() /
 * tdxm_page_release()) deliberately uses relaxed atomics only, so that the
 * model adds no happens-before edges between a get() and a concurrent
 * ADD/REMOVE that the kernel code does not create itself: ThreadSanitizer
 * must see the kernel's own synchronisation, not ours.  The overlap check
 * between a 4K use and a REMOVE is a Dekker pair of RMWs (lock-prefixed on
 * x86) separated by compiler barriers.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>

#include "counters.h"
#include "rng.h"
#include <string.h>

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

#define barrier()	__asm__ __volatile__("" ::: "memory")
#define RLX		__ATOMIC_RELAXED

enum { P_NONE, P_PAIR, P_TD };

struct region {
	int lock;			/* module-internal entry lock         */
	unsigned char has_pair;		/* relaxed                            */
	unsigned int users;		/* 4K users, relaxed                  */
	uint64_t pair[2];		/* HPAs, under lock                   */
};

static unsigned long m_base, m_npages, m_nregions;
static struct region *m_regions;
static unsigned char *m_pstate;		/* P_*, per page                      */
static unsigned char *m_dirty;		/* returned by REMOVE, not cleared    */

static struct tdxm_stats m_st;
static uint64_t m_viol_printed;
static bool m_quiet;

void tdxm_set_quiet(bool quiet)
{
	__atomic_store_n(&m_quiet, quiet, RLX);
}

static uint64_t m_fail_start, m_fail_count;
static int m_fail_kind;
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
};

void tdxm_set_hooks(bool (*allocated)(unsigned long pfn),
		    void *(*mem)(unsigned long pfn))
{
	h_allocated = allocated;
	h_mem = mem;
}

void tdxm_init(unsigned long base_pfn, unsigned long nr_pages)
{
	tdxm_fini();
	m_base = base_pfn;
	m_npages = nr_pages;
	m_nregions = nr_pages / TDXM_PAGES_PER_2M;
	m_regions = calloc(m_nregions, sizeof(*m_regions));
	m_pstate = calloc(nr_pages, 1);
	m_dirty = calloc(nr_pages, 1);
	if (!m_regions || !m_pstate || !m_dirty) {
		perror("tdxm_init");
		exit(2);
	}
	memset(&m_st, 0, sizeof(m_st));
	m_viol_printed = 0;
	tdxm_fail_clear();
	m_busy_ppm = 0;
	m_error_ppm = 0;
}

void tdxm_fini(void)
{
	free(m_regions);
	free(m_pstate);
	free(m_dirty);
	m_regions = NULL;
	m_pstate = m_dirty = NULL;
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
	uint64_t now = __atomic_load_n(&m_st.calls, RLX);

	__atomic_store_n(&m_fail_kind, kind, RLX);
	__atomic_store_n(&m_fail_count, count, RLX);
	__atomic_store_n(&m_fail_start, now + n, RLX);
}

void tdxm_fail_clear(void)
{
	__atomic_store_n(&m_fail_count, 0, RLX);
	__atomic_store_n(&m_fail_kind, TDXM_F_NONE, RLX);
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
static uint64_t seamcall_enter(void)
{
	uint64_t n = __atomic_add_fetch(&m_st.calls, 1, RLX);
	uint64_t start = __atomic_load_n(&m_fail_start, RLX);
	uint64_t count = __atomic_load_n(&m_fail_count, RLX);
	unsigned int ppm = __atomic_load_n(&m_busy_ppm, RLX);
	unsigned int eppm = __atomic_load_n(&m_error_ppm, RLX);

	if (count && n >= start && n < start + count) {
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
			t_bad_output = __atomic_load_n(&m_fail_kind, RLX);
			return S_SUCCESS;
		default:
			break;
		}
	}
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

static bool region_trylock(struct region *r)
{
	int zero = 0;

	return __atomic_compare_exchange_n(&r->lock, &zero, 1, false,
					   __ATOMIC_ACQUIRE, RLX);
}

static void region_unlock(struct region *r)
{
	__atomic_store_n(&r->lock, 0, __ATOMIC_RELEASE);
}

static void stat_max(uint64_t *p, uint64_t v)
{
	uint64_t old = __atomic_load_n(p, RLX);

	while (v > old && !__atomic_compare_exchange_n(p, &old, v, false, RLX, RLX))
		;
}

uint64_t tdxm_pamt_add(uint64_t rcx, uint64_t rdx, uint64_t r8)
{
	uint64_t err = seamcall_enter();
	unsigned long p0, p1;
	unsigned char none;
	struct region *r;
	uint64_t inst;

	if (err)
		goto out;
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

	if (!region_trylock(r)) {
		err = S_OPERAND_BUSY | TDXM_OPND_RCX;
		goto out;
	}
	if (__atomic_load_n(&r->has_pair, RLX)) {
		tdxm_note_violation(TDXM_V_DOUBLE_ADD, "region %#llx",
				    (unsigned long long)(rcx & TDXM_HPA_MASK));
		err = S_HPA_RANGE_NOT_FREE | TDXM_OPND_RCX;
		goto unlock;
	}
	none = P_NONE;
	if (p0 == p1 || !__atomic_compare_exchange_n(&m_pstate[pfn_idx(p0)], &none,
						     P_PAIR, false, __ATOMIC_ACQ_REL, RLX)) {
		tdxm_note_violation(TDXM_V_PAGE_NOT_FREE, "pair page %#llx (state %d)",
				    (unsigned long long)rdx, p0 == p1 ? -1 : none);
		err = S_PAGE_NOT_FREE | TDXM_OPND_RDX;
		goto unlock;
	}
	none = P_NONE;
	if (!__atomic_compare_exchange_n(&m_pstate[pfn_idx(p1)], &none, P_PAIR,
					 false, __ATOMIC_ACQ_REL, RLX)) {
		tdxm_note_violation(TDXM_V_PAGE_NOT_FREE, "pair page %#llx (state %d)",
				    (unsigned long long)r8, none);
		__atomic_store_n(&m_pstate[pfn_idx(p0)], P_NONE, __ATOMIC_RELEASE);
		err = S_PAGE_NOT_FREE | TDXM_OPND_R8;
		goto unlock;
	}
	if (h_allocated && (!h_allocated(p0) || !h_allocated(p1)))
		tdxm_note_violation(TDXM_V_NOT_HOST_PAGE, "pair %#llx/%#llx",
				    (unsigned long long)rdx, (unsigned long long)r8);
	/* The module initialises the pair with its private KeyID. */
	if (h_mem) {
		void *m0 = h_mem(p0), *m1 = h_mem(p1);

		if (m0)
			memset(m0, 0x5a, TDXM_PAGE_SIZE);
		if (m1)
			memset(m1, 0x5a, TDXM_PAGE_SIZE);
	}
	__atomic_store_n(&m_dirty[pfn_idx(p0)], 0, RLX);
	__atomic_store_n(&m_dirty[pfn_idx(p1)], 0, RLX);
	r->pair[0] = rdx;
	r->pair[1] = r8;
	__atomic_store_n(&r->has_pair, 1, RLX);
	inst = __atomic_add_fetch(&m_st.pairs_installed, 1, RLX);
	stat_max(&m_st.pairs_peak, inst);
unlock:
	region_unlock(r);
out:
	__atomic_fetch_add(err ? &m_st.add_err : &m_st.add_ok, 1, RLX);
	return err;
}

uint64_t tdxm_pamt_remove(uint64_t rcx, uint64_t *rdx, uint64_t *r8)
{
	uint64_t err;

	t_bad_output = TDXM_F_NONE;
	err = seamcall_enter();
	struct region *r;
	unsigned int users;

	/* Outputs are undefined on failure: make any use of them visible. */
	*rdx = 0xdead000000001000ULL;
	*r8 = 0xdead000000002000ULL;
	if (err)
		goto out;
	r = check_rcx(rcx, "PAMT.REMOVE", &err);
	if (!r)
		goto out;
	if (!region_trylock(r)) {
		err = S_OPERAND_BUSY | TDXM_OPND_RCX;
		goto out;
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
		err = S_PAMT_PAGE_NOT_EMPTY;	/* detail: index of a busy entry */
		goto unlock;
	}
	*rdx = r->pair[0];
	*r8 = r->pair[1];
	switch (t_bad_output) {
	case TDXM_F_BAD_OUTPUT:
		/* a page outside TDX memory and a page the host never gave us */
		*rdx = (m_base - 1) << TDXM_PAGE_SHIFT;
		*r8 = r->pair[1] + TDXM_PAGE_SIZE;
		break;
	case TDXM_F_OTHER_PAIR:
	case TDXM_F_MIXED_PAIR:
		for (unsigned long i = 0; i < m_nregions; i++) {
			struct region *o = &m_regions[i];

			if (o == r || !__atomic_load_n(&o->has_pair, RLX))
				continue;
			if (t_bad_output == TDXM_F_OTHER_PAIR)
				*rdx = o->pair[0];
			*r8 = o->pair[1];
			break;
		}
		break;
	case TDXM_F_SWAPPED_OUTPUT:
		*rdx = r->pair[1];
		*r8 = r->pair[0];
		break;
	}
	__atomic_store_n(&m_dirty[pfn_idx(r->pair[0] >> TDXM_PAGE_SHIFT)], 1, RLX);
	__atomic_store_n(&m_dirty[pfn_idx(r->pair[1] >> TDXM_PAGE_SHIFT)], 1, RLX);
	__atomic_store_n(&m_pstate[pfn_idx(r->pair[0] >> TDXM_PAGE_SHIFT)], P_NONE, __ATOMIC_RELEASE);
	__atomic_store_n(&m_pstate[pfn_idx(r->pair[1] >> TDXM_PAGE_SHIFT)], P_NONE, __ATOMIC_RELEASE);
	r->pair[0] = r->pair[1] = 0;
	__atomic_fetch_sub(&m_st.pairs_installed, 1, RLX);
unlock:
	region_unlock(r);
out:
	__atomic_fetch_add(err ? &m_st.remove_err : &m_st.remove_ok, 1, RLX);
	return err;
}

uint64_t tdxm_page_use(unsigned long pfn)
{
	unsigned char none = P_NONE;
	struct region *r;

	__atomic_fetch_add(&m_st.uses, 1, RLX);
	if (!pfn_in_tdmr(pfn)) {
		tdxm_note_violation(TDXM_V_OUT_OF_TDMR, "4K page %#lx", pfn);
		return S_OPERAND_ADDR_RANGE_ERROR;
	}
	if (!__atomic_compare_exchange_n(&m_pstate[pfn_idx(pfn)], &none, P_TD,
					 false, RLX, RLX)) {
		tdxm_note_violation(TDXM_V_USE_NOT_FREE, "4K page %#lx (state %d)", pfn, none);
		return S_PAGE_NOT_FREE;
	}
	r = pfn_region(pfn);
	__atomic_fetch_add(&r->users, 1, RLX);
	barrier();
	if (!__atomic_load_n(&r->has_pair, RLX)) {
		tdxm_note_violation(TDXM_V_USE_NO_PAIR, "4K page %#lx", pfn);
		__atomic_fetch_sub(&r->users, 1, RLX);
		__atomic_store_n(&m_pstate[pfn_idx(pfn)], P_NONE, RLX);
		return S_MISSING_PAMT_PAGE_PAIR;
	}
	return S_SUCCESS;
}

void tdxm_page_release(unsigned long pfn)
{
	struct region *r = pfn_region(pfn);

	__atomic_store_n(&m_pstate[pfn_idx(pfn)], P_NONE, RLX);
	barrier();
	__atomic_fetch_sub(&r->users, 1, RLX);
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

void tdxm_pfn_reset(unsigned long pfn)
{
	if (pfn_in_tdmr(pfn))
		__atomic_store_n(&m_dirty[pfn_idx(pfn)], 0, RLX);
}

bool tdxm_region_has_pair(unsigned long pfn)
{
	return pfn_in_tdmr(pfn) && __atomic_load_n(&pfn_region(pfn)->has_pair, RLX);
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
