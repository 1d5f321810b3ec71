// SPDX-License-Identifier: GPL-2.0
/*
 * tests.c - tests of the real pamt.c against the TDX module model.
 *
 * Every test ends with check_all() after the removal work ran: no protocol
 * violation seen by the module model, no harness bug (lockdep-like checks,
 * bad frees, SEAMCALLs in atomic context, allocations under mmu_lock),
 * every region's counter, pair record and the module's pair agree with
 * the harness's own count of references, every page and record accounted
 * for, every host-wide figure and every charge equal to the truth.
 */
#include <getopt.h>
#include <inttypes.h>
#include <time.h>
#include <unistd.h>

#include "harness.h"

#define BASE_PFN	0x40000UL	/* fake TDX memory starts at 1 GiB */
#define PAIR_BYTES	(2 * 4096ULL)
#define POOL		32		/* allocator pages per region */

/* ------------------------------------------------------------------ */
/* test bookkeeping */

static int t_failed;			/* checks failed in the current test */
static const char *t_name;
static uint64_t total_ops;		/* get + put calls, all tests */
static uint64_t total_alloc_inj, total_seam_inj;
static unsigned int opt_scale = 100;	/* percent of the default sizes */
static uint64_t opt_seed = 1;

#define CHECK(cond, ...) do {						\
	if (!(cond)) {							\
		if (__atomic_add_fetch(&t_failed, 1, __ATOMIC_RELAXED) <= 10) { \
			fprintf(stderr, "  FAIL %s:%d [%s]: %s: ",	\
				__FILE__, __LINE__, t_name, #cond);	\
			fprintf(stderr, "" __VA_ARGS__);		\
			fputc('\n', stderr);				\
		}							\
	}								\
} while (0)

#define CHECK_EQ(a, b, what) do {					\
	long long __a = (long long)(a), __b = (long long)(b);		\
	CHECK(__a == __b, "%s: %lld != %lld", what, __a, __b);		\
} while (0)

static uint64_t scaled(uint64_t n)
{
	uint64_t v = n * opt_scale / 100;

	return v ? v : 1;
}

/* ------------------------------------------------------------------ */
/* the harness's own truth: references held, 4K users, charges */

static int *truth_refs;			/* per region, atomic */
static int *truth_users;		/* 4K pages in use, per region, atomic */
static unsigned long env_nregions;

#define MAX_TAGS 64
static int64_t charged[MAX_TAGS];	/* per tag: regions charged, atomic */
static int64_t installs[MAX_TAGS];	/* per tag: get() that returned 1 */

static __thread uint64_t t_ops;

static void flush_ops(void)
{
	__atomic_fetch_add(&total_ops, t_ops, __ATOMIC_RELAXED);
	t_ops = 0;
}

/* Guest page @idx of fake region @r (see harness_mem_init(), POOL). */
static unsigned long td_pfn(unsigned long r, unsigned long idx)
{
	return BASE_PFN + r * HARNESS_REGION_PAGES + POOL + idx;
}

static unsigned long region_of(unsigned long pfn)
{
	return harness_pfn_region(pfn);
}

static void note_get(unsigned long pfn, int ret, unsigned long tag)
{
	if (ret < 0)
		return;
	__atomic_fetch_add(&truth_refs[region_of(pfn)], 1, __ATOMIC_RELAXED);
	if (ret == 1) {
		CHECK(tag < MAX_TAGS, "tag %lu", tag);
		__atomic_fetch_add(&charged[tag], 1, __ATOMIC_RELAXED);
		__atomic_fetch_add(&installs[tag], 1, __ATOMIC_RELAXED);
	}
	CHECK(ret == 0 || ret == 1, "get returned %d", ret);
}

/* get like KVM's control pages (may allocate) */
static int h_get(unsigned long pfn, unsigned long tag)
{
	int ret = tdx_pamt_get(pfn, GFP_KERNEL_ACCOUNT, tag);

	t_ops++;
	note_get(pfn, ret, tag);
	return ret;
}

/* get like KVM's fault path: from a cache, under (fake) mmu_lock */
static int h_get_cached(unsigned long pfn, struct tdx_pamt_cache *cache,
			unsigned long tag)
{
	int ret;

	harness_ctx_mmu_lock(true);
	ret = tdx_pamt_get_cached(pfn, cache, tag);
	harness_ctx_mmu_lock(false);
	t_ops++;
	note_get(pfn, ret, tag);
	return ret;
}

static unsigned long h_put(unsigned long pfn)
{
	unsigned long charge = tdx_pamt_put(pfn);

	t_ops++;
	__atomic_fetch_sub(&truth_refs[region_of(pfn)], 1, __ATOMIC_RELAXED);
	if (charge) {
		CHECK(charge < MAX_TAGS, "put returned charge %lu", charge);
		if (charge < MAX_TAGS)
			__atomic_fetch_sub(&charged[charge], 1, __ATOMIC_RELAXED);
	}
	return charge;
}

/* Hand a 4K page to the module: it must see a pair for its region. */
static bool h_use(unsigned long pfn)
{
	uint64_t st = tdxm_page_use(pfn);

	CHECK(st == TDX_SUCCESS, "module refused 4K page %#lx: %#llx", pfn,
	      (unsigned long long)st);
	if (st == TDX_SUCCESS)
		__atomic_fetch_add(&truth_users[region_of(pfn)], 1, __ATOMIC_RELAXED);
	return st == TDX_SUCCESS;
}

static void h_unuse(unsigned long pfn)
{
	__atomic_fetch_sub(&truth_users[region_of(pfn)], 1, __ATOMIC_RELAXED);
	tdxm_page_release(pfn);
}

/* get + use + unuse + put of a guest page: the region must work. */
static void region_works(unsigned long r, unsigned long tag)
{
	unsigned long pfn = td_pfn(r, 7);

	CHECK(h_get(pfn, tag) >= 0, "get in region %lu", r);
	if (h_use(pfn))
		h_unuse(pfn);
	h_put(pfn);
}

/* ------------------------------------------------------------------ */
/* environment */

static void env_up(unsigned long nregions, int nodes, unsigned int pool)
{
	int ret;

	harness_mem_init(BASE_PFN, nregions, nodes, pool);
	tdxm_set_keyids(HARNESS_KEYID_SHIFT, HARNESS_GLOBAL_KEYID);
	harness_work_manual(true);
	free(truth_refs);
	truth_refs = calloc(nregions, sizeof(*truth_refs));
	free(truth_users);
	truth_users = calloc(nregions, sizeof(*truth_users));
	env_nregions = nregions;
	memset(charged, 0, sizeof(charged));
	memset(installs, 0, sizeof(installs));
	ret = tdx_pamt_init(BASE_PFN + nregions * HARNESS_REGION_PAGES);
	CHECK_EQ(ret, 0, "tdx_pamt_init");
	tdx_pamt_set_static_info(nregions * SZ_2M, 4096,
				 nregions * HARNESS_REGION_PAGES * 16);
}

static void env_down(void)
{
	struct harness_counters c;
	struct tdxm_stats ms;

	harness_pamt_flush();
	tdx_pamt_exit();
	harness_pamt_stop_work();
	harness_get_counters(&c);
	tdxm_get_stats(&ms);
	CHECK_EQ(c.live_vmalloc, 0, "vmalloc'ed memory left after tdx_pamt_exit()");
	CHECK_EQ(c.live_kmalloc, 0, "kmalloc'ed memory left after tdx_pamt_exit()");
	total_alloc_inj += c.alloc_injected;
	total_seam_inj += ms.injected;
	flush_ops();
}

/*
 * The full consistency check, after the removal work ran, with nothing in
 * flight.  extra_pages/extra_kmallocs: what the test itself holds (pages
 * of control pages, pairs in caches); leaked: pages the test expects the
 * kernel to have given up on; warns: WARNs the test expects.
 */
static void check_all(const char *when, int64_t extra_pages,
		      int64_t extra_kmallocs, int64_t leaked, int64_t warns)
{
	struct harness_counters c;
	struct tdxm_stats ms;
	struct tdx_pamt_stats st;
	int64_t tag_regions[MAX_TAGS] = { 0 };
	unsigned long r, pfn;
	long records = 0, stuck = 0;

	harness_pamt_flush();
	harness_get_counters(&c);
	tdxm_get_stats(&ms);
	tdx_pamt_get_stats(&st);

	if (tdxm_total_violations())
		tdxm_report_violations(when);
	CHECK_EQ(tdxm_total_violations(), 0, "TDX module protocol violations");
	if (harness_total_bugs())
		harness_report_bugs(when);
	CHECK_EQ(harness_total_bugs(), 0, "harness-detected kernel bugs");

	for (r = 0; r < env_nregions; r++) {
		unsigned long any = td_pfn(r, 0);
		int ref = harness_pamt_ref(r);
		int truth = __atomic_load_n(&truth_refs[r], __ATOMIC_RELAXED);
		struct harness_pair p;
		uint64_t m0, m1;
		bool mod;

		harness_pamt_pair(r, &p);
		mod = tdxm_region_pair(any, &m0, &m1);
		CHECK(ref == truth, "%s: region %lu refcount %d, harness holds %d",
		      when, r, ref, truth);
		/* the kernel's view of the region is the module's */
		CHECK(p.installed == mod, "%s: region %lu kernel pair %d, module pair %d",
		      when, r, p.installed, mod);
		if (p.installed && mod)
			CHECK((PFN_PHYS(p.pfn[0]) == m0 && PFN_PHYS(p.pfn[1]) == m1) ||
			      (PFN_PHYS(p.pfn[0]) == m1 && PFN_PHYS(p.pfn[1]) == m0),
			      "%s: region %lu pair pages differ", when, r);
		/* in use, or kept after a failed REMOVE; nothing else waits */
		CHECK(p.installed == (ref > 0 || p.stuck),
		      "%s: region %lu ref %d installed %d stuck %d", when, r, ref,
		      p.installed, p.stuck);
		CHECK(!p.pending, "%s: region %lu still pending after flush", when, r);
		if (ref > 0 && p.charge < MAX_TAGS)
			tag_regions[p.charge]++;
		records += p.installed;
		stuck += p.stuck;
		CHECK_EQ(tdxm_region_users(any),
			 __atomic_load_n(&truth_users[r], __ATOMIC_RELAXED), "4K users");
	}
	for (int t = 1; t < MAX_TAGS; t++)
		CHECK(charged[t] == tag_regions[t],
		      "%s: tag %d: get/put say %lld charged regions, pamt.c %lld",
		      when, t, (long long)charged[t], (long long)tag_regions[t]);

	/* pages and records */
	CHECK_EQ(harness_pamt_leaked_pages(), leaked, "leaked pages");
	/* stuck pairs are installed and leaked at once */
	CHECK_EQ(harness_pamt_pair_pages(), 2 * records + leaked - 2 * stuck,
		 "pair pages: installed pairs + leaked pages not installed");
	CHECK(c.live_pages == harness_pamt_pair_pages() + extra_pages,
	      "%s: %lld pages allocated, expected %ld in pairs + %lld held",
	      when, (long long)c.live_pages, harness_pamt_pair_pages(),
	      (long long)extra_pages);
	CHECK_EQ(ms.pairs_installed, records, "module pairs == kernel records");
	CHECK_EQ(harness_pamt_records(), records + extra_kmallocs, "pair records");
	/* records + the pending bitmap and three hash tables of tdx_pamt_init() */
	CHECK_EQ(c.live_kmalloc, records + extra_kmallocs + 4, "kmalloc'ed objects");

	for (pfn = BASE_PFN; pfn < BASE_PFN + env_nregions * HARNESS_REGION_PAGES; pfn++) {
		if (tdx_pamt_is_pair_page(PFN_PHYS(pfn)) != tdxm_pfn_is_pair(pfn)) {
			CHECK(0, "%s: tdx_pamt_is_pair_page(%#lx) = %d, module says %d",
			      when, pfn, tdx_pamt_is_pair_page(PFN_PHYS(pfn)),
			      tdxm_pfn_is_pair(pfn));
			break;
		}
		if (tdxm_pfn_is_pair(pfn))
			CHECK(harness_page_allocated(pfn), "pair page %#lx not allocated", pfn);
	}
	CHECK(!tdx_pamt_is_pair_page(PFN_PHYS(BASE_PFN - 1)), "hole below TDX memory");

	/* host-wide figures */
	CHECK_EQ(st.mode, TDX_PAMT_MODE_DYNAMIC, "mode");
	CHECK_EQ(st.dynamic_bytes, harness_pamt_pair_pages() * 4096, "dynamic_bytes");
	CHECK_EQ(st.leaked_bytes, leaked * 4096, "leaked_bytes");
	CHECK_EQ(st.static_bytes, 4096, "static_bytes");
	CHECK_EQ(st.static_equivalent_bytes, env_nregions * HARNESS_REGION_PAGES * 16,
		 "static_equivalent_bytes");
	CHECK(st.metadata_bytes >= PAGE_ALIGN(harness_pamt_nr_regions() * sizeof(int)),
	      "metadata_bytes %llu below the refcounts", (unsigned long long)st.metadata_bytes);
	CHECK_EQ(c.warns, warns, "WARNs");
}

/* ------------------------------------------------------------------ */
/* single-thread tests */

static void test_basic(void)
{
	unsigned long a = td_pfn(0, 0), b = td_pfn(0, 1);
	struct tdx_pamt_stats st;
	struct harness_pair p;

	env_up(4, 1, POOL);
	CHECK_EQ(h_get(a, 1), 1, "first get takes the region's first reference");
	CHECK(tdxm_region_has_pair(a), "pair installed");
	CHECK_EQ(h_get(b, 2), 0, "second get");
	h_use(a);
	h_use(b);
	tdx_pamt_get_stats(&st);
	CHECK_EQ(st.dynamic_bytes, PAIR_BYTES, "dynamic_bytes after install");
	check_all("two refs", 0, 0, 0, 0);
	h_unuse(a);
	h_unuse(b);
	CHECK_EQ(h_put(b), 0, "not the last reference");
	CHECK_EQ(h_put(a), 1, "last put returns the charge of the first get");
	/* the pair is still there until the work runs */
	harness_pamt_pair(0, &p);
	CHECK(p.installed && p.pending, "pending removal after the last put");
	CHECK(tdxm_region_has_pair(a), "module keeps the pair until the work runs");
	check_all("all put", 0, 0, 0, 0);
	CHECK(!tdxm_region_has_pair(a), "pair removed by the work");
	tdx_pamt_get_stats(&st);
	CHECK_EQ(st.dynamic_bytes, 0, "dynamic_bytes after removal");
	env_down();
}

static void test_many_regions(void)
{
	unsigned long n = 16, r;

	env_up(n, 2, POOL);
	for (r = 0; r < n; r++) {
		CHECK_EQ(h_get(td_pfn(r, 0), r % 3 + 1), 1, "get");
		h_use(td_pfn(r, 0));
	}
	check_all("all regions", 0, 0, 0, 0);
	for (r = 0; r < n; r += 2) {
		h_unuse(td_pfn(r, 0));
		CHECK_EQ(h_put(td_pfn(r, 0)), r % 3 + 1, "charge");
	}
	check_all("half released", 0, 0, 0, 0);
	for (r = 1; r < n; r += 2) {
		h_unuse(td_pfn(r, 0));
		h_put(td_pfn(r, 0));
	}
	check_all("all released", 0, 0, 0, 0);
	env_down();
}

static void test_disabled(void)
{
	struct harness_counters c0, c1;
	struct tdxm_stats ms;
	struct tdx_pamt_stats st;

	harness_mem_init(BASE_PFN, 2, 1, POOL);
	env_nregions = 2;
	harness_get_counters(&c0);
	CHECK(!tdx_dynamic_pamt_enabled(), "disabled before init");
	CHECK_EQ(tdx_pamt_get(td_pfn(0, 0), GFP_KERNEL_ACCOUNT, 1), 0, "get");
	CHECK_EQ(tdx_pamt_put(td_pfn(0, 0)), 0, "put");
	tdx_pamt_get_stats(&st);
	CHECK_EQ(st.mode, TDX_PAMT_MODE_NONE, "mode before the module is up");
	tdx_pamt_set_static_info(2 * SZ_2M, 8192, 8192);
	tdx_pamt_get_stats(&st);
	CHECK_EQ(st.mode, TDX_PAMT_MODE_STATIC, "static mode");
	CHECK_EQ(st.dynamic_bytes + st.metadata_bytes + st.leaked_bytes, 0, "no DPAMT figures");
	CHECK_EQ(st.static_bytes, 8192, "static_bytes");
	harness_get_counters(&c1);
	tdxm_get_stats(&ms);
	CHECK_EQ(c1.alloc_calls, c0.alloc_calls, "allocations without DPAMT");
	CHECK_EQ(ms.calls, 0, "SEAMCALLs without DPAMT");
	memset(&st, 0, sizeof(st));
	tdx_pamt_exit();
	flush_ops();
}

static void test_bad_pfn(void)
{
	unsigned long beyond = BASE_PFN + 4 * HARNESS_REGION_PAGES;

	env_up(4, 1, POOL);
	harness_quiet(true);
	CHECK_EQ(tdx_pamt_get(beyond, GFP_KERNEL_ACCOUNT, 1), -EINVAL, "get beyond TDX memory");
	CHECK_EQ(tdx_pamt_put(beyond), 0, "put beyond TDX memory");
	harness_quiet(false);
	check_all("bad pfn", 0, 0, 0, 2);
	env_down();
}

/* A put without a reference warns and changes nothing. */
static void test_unbalanced_put(void)
{
	unsigned long a = td_pfn(0, 0);

	env_up(1, 1, POOL);
	harness_quiet(true);
	CHECK_EQ(tdx_pamt_put(a), 0, "put without a reference");
	harness_quiet(false);
	CHECK_EQ(harness_pamt_ref(0), 0, "count stays at 0");
	/* the next get installs a pair: the region is not believed backed */
	CHECK_EQ(h_get(a, 1), 1, "first reference after the bad put");
	if (h_use(a))
		h_unuse(a);
	h_put(a);
	check_all("after an unbalanced put", 0, 0, 0, 1);
	env_down();
}

/* A region released and taken again before the work runs keeps its pair. */
static void test_reuse_before_removal(void)
{
	unsigned long a = td_pfn(1, 3);
	struct tdxm_stats m0, m1;

	env_up(2, 1, POOL);
	CHECK_EQ(h_get(a, 1), 1, "install");
	CHECK_EQ(h_put(a), 1, "release: charged to 1");
	tdxm_get_stats(&m0);
	CHECK_EQ(h_get(a, 2), 1, "taken again: the first reference, charged to 2");
	tdxm_get_stats(&m1);
	CHECK_EQ(m1.add_ok, m0.add_ok, "no second PAMT.ADD: the pair was reused");
	CHECK_EQ(m1.remove_ok + m1.remove_err, m0.remove_ok + m0.remove_err,
		 "no REMOVE either");
	h_use(a);
	check_all("reused", 0, 0, 0, 0);
	h_unuse(a);
	CHECK_EQ(h_put(a), 2, "charged to the tag of the reuse");
	check_all("removed", 0, 0, 0, 0);
	env_down();
}

/* The charge goes with the region, whoever drops its last reference. */
static void test_charge_last_put(void)
{
	unsigned long a = td_pfn(0, 1), b = td_pfn(0, 2);

	env_up(1, 1, POOL);
	CHECK_EQ(h_get(a, 5), 1, "tag 5 installs");
	CHECK_EQ(h_get(b, 6), 0, "tag 6 joins");
	CHECK_EQ(h_put(a), 0, "tag 5 leaves first: no charge returned");
	check_all("charged to a tag without references", 0, 0, 0, 0);
	CHECK_EQ(h_put(b), 5, "tag 6's put returns tag 5's charge");
	check_all("released", 0, 0, 0, 0);
	env_down();
}

static void test_cache(void)
{
	struct tdx_pamt_cache cache;
	struct harness_counters c0, c1;
	unsigned long a = td_pfn(0, 0), b = td_pfn(1, 0);
	unsigned long c = td_pfn(2, 0);

	env_up(3, 1, POOL);
	tdx_pamt_cache_init(&cache);
	CHECK_EQ(tdx_pamt_cache_topup(&cache, 2, GFP_KERNEL_ACCOUNT), 0, "topup");
	CHECK_EQ(cache.nr, 2, "two pairs");
	CHECK_EQ(tdx_pamt_cache_topup(&cache, 2, GFP_KERNEL_ACCOUNT), 0, "topup again");
	CHECK_EQ(cache.nr, 2, "no more than asked");
	harness_get_counters(&c0);
	CHECK_EQ(h_get_cached(a, &cache, 1), 1, "install from the cache");
	CHECK_EQ(cache.nr, 1, "one pair used");
	CHECK_EQ(h_get_cached(td_pfn(0, 1), &cache, 1), 0, "installed region");
	CHECK_EQ(cache.nr, 1, "no pair used for an installed region");
	CHECK_EQ(h_get_cached(b, &cache, 1), 1, "second install");
	CHECK_EQ(cache.nr, 0, "cache empty");
	CHECK_EQ(h_get_cached(c, &cache, 1), -ENOMEM, "empty cache: -ENOMEM, no allocation");
	harness_get_counters(&c1);
	CHECK_EQ(c1.alloc_calls, c0.alloc_calls, "no allocation under mmu_lock");
	h_put(td_pfn(0, 1));
	h_put(a);
	h_put(b);
	/* a released region is reused from the cache path without a pair */
	CHECK_EQ(h_get_cached(a, &cache, 2), 1, "reuse with an empty cache");
	h_put(a);
	check_all("cache drained", 0, 0, 0, 0);
	CHECK_EQ(tdx_pamt_cache_topup(&cache, 3, GFP_KERNEL_ACCOUNT), 0, "topup");
	check_all("full cache held", 6, 3, 0, 0);
	tdx_pamt_cache_free(&cache);
	check_all("cache freed", 0, 0, 0, 0);
	env_down();
}

/* The slow path must re-check under the lock: someone may have installed. */
static void nested_get(void *arg)
{
	unsigned long pfn = *(unsigned long *)arg;

	CHECK_EQ(h_get(pfn + 1, 9), 1, "nested get installs");
}

static void test_recheck_under_lock(void)
{
	unsigned long a = td_pfn(0, 4);
	struct tdxm_stats m;

	env_up(1, 1, POOL);
	/* runs inside the outer get's allocation, before it takes the lock */
	harness_set_alloc_hook(nested_get, &a);
	CHECK_EQ(h_get(a, 3), 0, "outer get finds the region installed");
	tdxm_get_stats(&m);
	CHECK_EQ(m.add_ok, 1, "exactly one PAMT.ADD");
	CHECK_EQ(m.add_err, 0, "no refused ADD");
	check_all("both hold", 0, 0, 0, 0);
	h_put(a);
	CHECK_EQ(h_put(a + 1), 9, "the nested get's charge");
	check_all("released", 0, 0, 0, 0);
	env_down();
}

/* The caller's gfp flags reach every allocation of a pair. */
static DEFINE_SPINLOCK(caller_lock);

static void test_gfp(void)
{
	struct harness_counters c;
	unsigned long a = td_pfn(0, 0);

	env_up(1, 1, POOL);
	spin_lock(&caller_lock);	/* atomic, but not an interrupt */
	CHECK_EQ(tdx_pamt_get(a, GFP_NOWAIT | __GFP_ACCOUNT, 1), 1, "atomic get");
	spin_unlock(&caller_lock);
	note_get(a, 1, 1);
	harness_get_counters(&c);
	CHECK_EQ(c.last_gfp, GFP_NOWAIT | __GFP_ACCOUNT, "gfp of the pair pages");
	CHECK_EQ(c.bugs[HBUG_SLEEP_IN_ATOMIC], 0, "no sleeping allocation");
	h_put(a);
	check_all("atomic get", 0, 0, 0, 0);
	env_down();
}

static void test_numa(void)
{
	struct tdx_pamt_cache cache;
	struct harness_pair p;
	unsigned long r;

	env_up(4, 2, POOL);
	harness_ctx_node(0);
	for (r = 0; r < 4; r++) {
		h_get(td_pfn(r, 0), 1);
		harness_pamt_pair(r, &p);
		for (int i = 0; i < 2; i++)
			CHECK_EQ(pfn_to_nid(p.pfn[i]), pfn_to_nid(td_pfn(r, 0)),
				 "pair page on the node of the region it describes");
	}
	for (r = 0; r < 4; r++)
		h_put(td_pfn(r, 0));
	check_all("no-cache pairs", 0, 0, 0, 0);

	/* the cache is filled on the node of the CPU that tops it up */
	harness_ctx_node(1);
	tdx_pamt_cache_init(&cache);
	tdx_pamt_cache_topup(&cache, 4, GFP_KERNEL_ACCOUNT);
	for (r = 0; r < 4; r++) {
		h_get_cached(td_pfn(r, 0), &cache, 1);
		harness_pamt_pair(r, &p);
		CHECK_EQ(pfn_to_nid(p.pfn[0]), 1, "cache pair from the topping-up node");
	}
	for (r = 0; r < 4; r++)
		h_put(td_pfn(r, 0));
	harness_ctx_node(0);
	tdx_pamt_cache_free(&cache);
	check_all("cache pairs", 0, 0, 0, 0);
	env_down();
}

static void test_add_failures(void)
{
	static const struct {
		enum tdxm_fault kind;
		unsigned int count;
		int expect;
	} cases[] = {
		{ TDXM_F_BUSY, TDX_PAMT_BUSY_TRIES - 1, 1 },	/* retried through */
		{ TDXM_F_BUSY, TDX_PAMT_BUSY_TRIES, -EBUSY },
		{ TDXM_F_ERROR, 1, -EIO },
		{ TDXM_F_SW_ERROR, 1, -EIO },
	};
	unsigned long a = td_pfn(0, 0);

	env_up(2, 1, POOL);
	harness_quiet(true);
	for (size_t i = 0; i < ARRAY_SIZE(cases); i++) {
		tdxm_fail_only(TDXM_L_ADD);
		tdxm_fail_at(1, cases[i].kind, cases[i].count);
		CHECK_EQ(h_get(a, 1), cases[i].expect, "get with a failing ADD");
		tdxm_fail_clear();
		if (cases[i].expect == 1) {
			h_use(a);
			h_unuse(a);
			h_put(a);
		}
		check_all("after a failing ADD", 0, 0, 0, 0);
		/* the region must work right away */
		region_works(0, 2);
		check_all("region used again", 0, 0, 0, 0);
	}
	harness_quiet(false);
	env_down();
}

/* REMOVE outcomes, see "Removal" in pamt.h. */
static void test_remove_busy(void)
{
	unsigned long a = td_pfn(0, 0);
	struct tdxm_stats m;

	env_up(1, 1, POOL);
	h_get(a, 1);
	h_put(a);
	tdxm_fail_only(TDXM_L_REMOVE);
	tdxm_fail_at(1, TDXM_F_BUSY, 3);
	check_all("transient BUSY on REMOVE", 0, 0, 0, 0);
	tdxm_fail_clear();
	tdxm_get_stats(&m);
	CHECK_EQ(m.remove_ok, 1, "removed once the module was not busy");
	CHECK(!tdxm_region_has_pair(a), "no pair left");
	region_works(0, 1);
	check_all("used again", 0, 0, 0, 0);
	env_down();
}

/* The module lost the pair: NO_PAMT_PAGE_PAIR.  Forget it, keep the pages. */
static void test_remove_no_pair(void)
{
	unsigned long a = td_pfn(0, 0);
	struct harness_pair p;

	env_up(1, 1, POOL);
	harness_quiet(true);
	h_get(a, 1);
	harness_pamt_pair(0, &p);
	h_put(a);
	tdxm_fail_only(TDXM_L_REMOVE);
	tdxm_fail_at(1, TDXM_F_LOSE_PAIR, 1);
	harness_pamt_flush();
	tdxm_fail_clear();
	CHECK(harness_page_allocated(p.pfn[0]) && harness_page_allocated(p.pfn[1]),
	      "pages of a lost pair are never freed");
	check_all("pair lost", 0, 0, 2, 0);
	/* the next 4K page there works: the kernel installs a new pair */
	region_works(0, 2);
	check_all("region works after NO_PAMT_PAGE_PAIR", 0, 0, 2, 0);
	harness_quiet(false);
	env_down();
}

/* REMOVE "succeeds" with other pages: never free what came back. */
static void test_remove_bad_output(void)
{
	static const enum tdxm_fault kinds[] = {
		TDXM_F_BAD_OUTPUT, TDXM_F_OTHER_PAIR, TDXM_F_MIXED_PAIR,
	};
	unsigned long a = td_pfn(0, 0), other = td_pfn(1, 0);
	int64_t leaked = 0;

	env_up(2, 1, POOL);
	harness_quiet(true);
	CHECK_EQ(h_get(other, 4), 1, "another region with a pair");
	for (size_t i = 0; i < ARRAY_SIZE(kinds); i++) {
		struct harness_pair p, o0, o1;

		harness_pamt_pair(1, &o0);
		h_get(a, 1);
		harness_pamt_pair(0, &p);
		h_put(a);
		tdxm_fail_only(TDXM_L_REMOVE);
		tdxm_fail_at(1, kinds[i], 1);
		harness_pamt_flush();
		tdxm_fail_clear();
		leaked += 2;
		CHECK(harness_page_allocated(p.pfn[0]) && harness_page_allocated(p.pfn[1]),
		      "installed pair kept");
		harness_pamt_pair(1, &o1);
		CHECK(o1.installed && o1.pfn[0] == o0.pfn[0] && o1.pfn[1] == o0.pfn[1],
		      "the other region's pair untouched");
		check_all("REMOVE returned other pages", 0, 0, leaked, 0);
		region_works(0, 2);
		check_all("region works again", 0, 0, leaked, 0);
	}
	h_put(other);
	check_all("done", 0, 0, leaked, 0);
	harness_quiet(false);
	env_down();
}

static void test_remove_swapped_output(void)
{
	unsigned long a = td_pfn(0, 0);

	env_up(1, 1, POOL);
	h_get(a, 1);
	h_put(a);
	tdxm_fail_only(TDXM_L_REMOVE);
	tdxm_fail_at(1, TDXM_F_SWAPPED_OUTPUT, 1);
	check_all("pair returned in the other order", 0, 0, 0, 0);
	tdxm_fail_clear();
	env_down();
}

/* Any other REMOVE failure: the module may hold it, keep and report it. */
static void test_remove_error(void)
{
	unsigned long a = td_pfn(0, 0);
	struct tdxm_stats m0, m1;
	struct harness_pair p;

	env_up(1, 1, POOL);
	harness_quiet(true);
	h_get(a, 1);
	h_put(a);
	tdxm_fail_only(TDXM_L_REMOVE);
	tdxm_fail_at(1, TDXM_F_ERROR, 1);
	harness_pamt_flush();
	tdxm_fail_clear();
	harness_pamt_pair(0, &p);
	CHECK(p.installed && p.stuck, "kept as installed and stuck");
	check_all("REMOVE failed", 0, 0, 2, 0);
	/* not retried on its own */
	tdxm_get_stats(&m0);
	harness_pamt_flush();
	tdxm_get_stats(&m1);
	CHECK_EQ(m1.remove_ok + m1.remove_err, m0.remove_ok + m0.remove_err, "no retry");
	/* the region keeps working with the kept pair; release removes it */
	CHECK_EQ(h_get(a, 2), 1, "reuse of the stuck pair");
	tdxm_get_stats(&m1);
	CHECK_EQ(m1.add_ok, m0.add_ok, "no new ADD");
	h_use(a);
	check_all("stuck pair in use again", 0, 0, 0, 0);
	h_unuse(a);
	h_put(a);
	check_all("stuck pair removed at last", 0, 0, 0, 0);
	harness_quiet(false);
	env_down();
}

/* Pages come back from REMOVE dirty: each needs a WBINVD before it is freed. */
static void test_wbinvd(void)
{
	unsigned long a = td_pfn(0, 0);
	struct harness_pair p;
	struct tdxm_stats m;

	env_up(1, 1, POOL);
	harness_quiet(true);
	h_get(a, 1);
	harness_pamt_pair(0, &p);
	h_put(a);
	check_all("flushed and freed", 0, 0, 0, 0);
	tdxm_get_stats(&m);
	CHECK_EQ(m.wbinvd_ok, 2, "one WBINVD per returned page");

	/* a few BUSY: retried */
	h_get(a, 1);
	h_put(a);
	tdxm_fail_only(TDXM_L_WBINVD);
	tdxm_fail_at(1, TDXM_F_BUSY, 3);
	check_all("WBINVD busy for a while", 0, 0, 0, 0);

	/* busy for longer than one attempt lasts: tried again later */
	h_get(a, 1);
	h_put(a);
	tdxm_fail_only(TDXM_L_WBINVD);
	tdxm_fail_at(1, TDXM_F_BUSY, 2 * TDX_PAMT_BUSY_TRIES + 1);
	check_all("WBINVD busy for long", 0, 0, 0, 0);
	tdxm_get_stats(&m);
	CHECK(m.busy_injected >= 2 * TDX_PAMT_BUSY_TRIES + 1, "all BUSY seen");

	/* a failure: that page, and only that one, is leaked */
	h_get(a, 1);
	harness_pamt_pair(0, &p);
	h_put(a);
	tdxm_fail_only(TDXM_L_WBINVD);
	tdxm_fail_at(1, TDXM_F_ERROR, 1);
	check_all("one WBINVD failed", 0, 0, 1, 0);
	tdxm_fail_clear();
	CHECK(harness_page_allocated(p.pfn[0]) != harness_page_allocated(p.pfn[1]),
	      "exactly one page kept");
	region_works(0, 1);
	check_all("region works", 0, 0, 1, 0);
	harness_quiet(false);
	env_down();
}

/* An allocation that fails at any point leaves nothing behind. */
static void test_alloc_failures(void)
{
	unsigned long a = td_pfn(0, 0);
	struct tdx_pamt_cache cache;

	env_up(1, 1, POOL);
	for (int n = 1; n <= 3; n++) {	/* the record, page 0, page 1 */
		harness_fail_alloc_at(n);
		CHECK_EQ(h_get(a, 1), -ENOMEM, "get with a failing allocation");
		harness_fail_alloc_clear();
		check_all("allocation failed", 0, 0, 0, 0);
		region_works(0, 1);
	}
	tdx_pamt_cache_init(&cache);
	for (int n = 1; n <= 3; n++) {
		harness_fail_alloc_at(n);
		CHECK_EQ(tdx_pamt_cache_topup(&cache, 1, GFP_KERNEL_ACCOUNT), -ENOMEM,
			 "topup with a failing allocation");
		harness_fail_alloc_clear();
		CHECK_EQ(cache.nr, 0, "nothing half-made in the cache");
		check_all("topup failed", 0, 0, 0, 0);
	}
	env_down();
}

/* put never takes a lock: it works from any context. */
static void test_put_contexts(void)
{
	unsigned long pfn[4];

	env_up(4, 1, POOL);
	for (int i = 0; i < 4; i++) {
		pfn[i] = td_pfn(i, 0);
		h_get(pfn[i], 1);
	}
	harness_ctx_softirq(true);	/* e.g. an RCU callback */
	h_put(pfn[0]);
	harness_ctx_softirq(false);
	harness_ctx_hardirq(true);
	h_put(pfn[1]);
	harness_ctx_hardirq(false);
	harness_ctx_irqs_off(true);
	h_put(pfn[2]);
	harness_ctx_irqs_off(false);
	harness_ctx_mmu_lock(true);
	h_put(pfn[3]);
	harness_ctx_mmu_lock(false);
	check_all("puts from every context", 0, 0, 0, 0);
	env_down();
}

static void test_pair_page_recognition(void)
{
	struct harness_pair p;
	unsigned long a = td_pfn(0, 0);

	env_up(2, 1, POOL);
	h_get(a, 1);
	harness_pamt_pair(0, &p);
	CHECK(tdx_pamt_is_pair_page(PFN_PHYS(p.pfn[0])), "page 0");
	CHECK(tdx_pamt_is_pair_page(PFN_PHYS(p.pfn[1]) + 123), "page 1, any offset");
	CHECK(!tdx_pamt_is_pair_page(PFN_PHYS(a)), "a guest page");
	h_put(a);
	check_all("removed", 0, 0, 0, 0);	/* checks every page */
	CHECK(!tdx_pamt_is_pair_page(PFN_PHYS(p.pfn[0])), "after removal");
	env_down();
}

/*
 * A machine check looks up a pair page while the removal work frees that
 * pair: the record must stay valid for the lockless reader.
 */
static void *slow_mce_fn(void *arg)
{
	unsigned long pfn = *(unsigned long *)arg;

	harness_rcu_stall_us = 200;
	harness_ctx_hardirq(true);
	(void)tdx_pamt_is_pair_page(PFN_PHYS(pfn));
	harness_ctx_hardirq(false);
	return NULL;
}

static void test_mce_during_removal(void)
{
	unsigned long a = td_pfn(0, 0);

	env_up(1, 1, POOL);
	for (int i = 0; i < 50; i++) {
		struct harness_pair p;
		pthread_t t;

		h_get(a, 1);
		harness_pamt_pair(0, &p);
		h_put(a);
		/* page 0: its table is walked first, the pointer loaded at once */
		pthread_create(&t, NULL, slow_mce_fn, &p.pfn[0]);
		usleep(50);	/* let it reach the record */
		harness_pamt_flush();
		pthread_join(t, NULL);
	}
	check_all("lookups during removal", 0, 0, 0, 0);
	env_down();
}

static void test_sizing(void)
{
	static const struct {
		u64 features0;
		int err;
		u64 val;
		u16 expect;
	} bits[] = {
		{ 0, 0, 1, 0 },				/* no Dynamic PAMT */
		{ TDX_FEATURES0_DYNAMIC_PAMT, -EIO, 1, 0 },	/* read failed */
		{ TDX_FEATURES0_DYNAMIC_PAMT, 0, 0, 0 },
		{ TDX_FEATURES0_DYNAMIC_PAMT, 0, 1, 1 },
		{ TDX_FEATURES0_DYNAMIC_PAMT, 0, 8, 8 },
		{ TDX_FEATURES0_DYNAMIC_PAMT, 0, 9, 0 },
		{ TDX_FEATURES0_DYNAMIC_PAMT, 0, 200, 0 },
	};

	harness_quiet(true);
	for (size_t i = 0; i < ARRAY_SIZE(bits); i++)
		CHECK_EQ(tdx_pamt_bitmap_bits(bits[i].features0, bits[i].err, bits[i].val),
			 bits[i].expect, "bitmap bits");
	harness_quiet(false);
	/* 1 GiB TDMR: 4K level 4 MiB static, 32 KiB as a 1-bit bitmap */
	CHECK_EQ(tdx_pamt_level_bytes(SZ_1G, TDX_PS_4K, 16, 0), 4 << 20, "4K static");
	CHECK_EQ(tdx_pamt_level_bytes(SZ_1G, TDX_PS_4K, 16, 1), 32 << 10, "4K bitmap");
	CHECK_EQ(tdx_pamt_level_bytes(SZ_1G, TDX_PS_2M, 16, 1), 8192, "2M");
	CHECK_EQ(tdx_pamt_level_bytes(SZ_1G, TDX_PS_1G, 16, 1), 4096, "1G, page aligned");
	CHECK_EQ(tdx_pamt_level_bytes(3ULL * SZ_1G, TDX_PS_4K, 16, 2), 192 << 10,
		 "2-bit bitmap");
}

/* ------------------------------------------------------------------ */
/*
 * Fault sweep: one scenario (two tags, a cache, control-page style gets,
 * shared regions), re-run with a failure at each of its allocations and
 * with each fault kind at each of its SEAMCALLs.  Whatever fails, the
 * end state must be consistent: every region works afterwards and nothing
 * but what the faults justify is leaked.
 */
static const enum tdxm_fault seam_faults[] = {
	TDXM_F_BUSY, TDXM_F_ERROR, TDXM_F_BAD_OUTPUT, TDXM_F_LOSE_PAIR,
};
static uint64_t sweep_runs, sweep_allocs, sweep_calls;

static void scenario(void)
{
	struct tdx_pamt_cache cache;
	unsigned long held[8];
	int n = 0;

	tdx_pamt_cache_init(&cache);
	if (!tdx_pamt_cache_topup(&cache, 2, GFP_KERNEL_ACCOUNT)) {
		for (int i = 0; i < 3; i++) {
			unsigned long pfn = td_pfn(i % 2, 10 + i);

			if (h_get_cached(pfn, &cache, 1) >= 0)
				held[n++] = pfn;
		}
	}
	for (int i = 0; i < 3; i++) {
		unsigned long pfn = td_pfn(1 + i % 2, 20 + i);

		if (h_get(pfn, 2) >= 0)
			held[n++] = pfn;
	}
	for (int i = 0; i < n; i++)
		if (h_use(held[i]))
			h_unuse(held[i]);
	/* release in another order, half before the work runs */
	for (int i = n - 1; i >= n / 2; i--)
		h_put(held[i]);
	harness_pamt_flush();
	for (int i = 0; i < n / 2; i++)
		h_put(held[i]);
	tdx_pamt_cache_free(&cache);
}

static void sweep_run(int mode, uint64_t i, int kind)
{
	long leaked;

	env_up(3, 1, POOL);
	harness_quiet(true);
	if (mode == 0)
		harness_fail_alloc_at(i);
	else if (mode == 1)
		tdxm_fail_at(i, seam_faults[kind], 1);
	scenario();
	harness_pamt_flush();
	harness_fail_alloc_clear();
	tdxm_fail_clear();
	/* whatever happened, every region works now */
	for (unsigned long r = 0; r < 3; r++)
		region_works(r, 3);
	harness_pamt_flush();
	harness_quiet(false);
	/*
	 * Only faults that take pages away justify a leak: a failed WBINVD
	 * (one page), a REMOVE that returned other pages or lost the pair
	 * (two).  A failed REMOVE's pair was reused and removed above.
	 */
	leaked = harness_pamt_leaked_pages();
	if (mode == 0 || seam_faults[kind] == TDXM_F_BUSY)
		CHECK_EQ(leaked, 0, "leak from a transient fault");
	else if (seam_faults[kind] == TDXM_F_ERROR)
		CHECK(leaked <= 1, "ERROR: %ld pages leaked", leaked);
	else
		CHECK(leaked == 0 || leaked == 2, "lost pair: %ld pages leaked", leaked);
	check_all("sweep", 0, 0, leaked, 0);
	sweep_runs++;
	env_down();
}

static void test_sweep(void)
{
	struct harness_counters c0, c1;
	struct tdxm_stats m;
	uint64_t allocs, calls;

	/* count the scenario's allocations and SEAMCALLs */
	env_up(3, 1, POOL);
	harness_get_counters(&c0);
	scenario();
	harness_pamt_flush();
	harness_get_counters(&c1);
	tdxm_get_stats(&m);
	allocs = c1.alloc_calls - c0.alloc_calls;
	calls = m.calls;
	check_all("scenario", 0, 0, 0, 0);
	env_down();

	for (uint64_t i = 1; i <= allocs; i++)
		sweep_run(0, i, 0);
	for (uint64_t i = 1; i <= calls; i++)
		for (size_t k = 0; k < ARRAY_SIZE(seam_faults); k++)
			sweep_run(1, i, k);
	sweep_allocs = allocs;
	sweep_calls = calls;
	CHECK(allocs >= 6 && calls >= 6, "scenario too small: %llu allocs %llu calls",
	      (unsigned long long)allocs, (unsigned long long)calls);
}

/* ------------------------------------------------------------------ */
/* threads */

static int monitor_stop;
static uint64_t monitor_checks, mce_lookups;

/*
 * A machine check can come at any time and looks pages up without a lock:
 * keep doing that on random pages while the others work.
 */
static void *mce_fn(void *arg)
{
	(void)arg;
	harness_seed_thread(opt_seed * 4242);
	while (!__atomic_load_n(&monitor_stop, __ATOMIC_ACQUIRE)) {
		unsigned long pfn = BASE_PFN + harness_rand() % (env_nregions *
								   HARNESS_REGION_PAGES);

		harness_ctx_hardirq(true);	/* #MC: no locks */
		(void)tdx_pamt_is_pair_page(PFN_PHYS(pfn));
		harness_ctx_hardirq(false);
		__atomic_fetch_add(&mce_lookups, 1, __ATOMIC_RELAXED);
	}
	return NULL;
}

/*
 * Under pamt_lock nobody installs or removes: every region with references
 * has a pair in the kernel's record and in the module, and the two agree
 * on its pages.
 */
static void *monitor_fn(void *arg)
{
	(void)arg;
	while (!__atomic_load_n(&monitor_stop, __ATOMIC_ACQUIRE)) {
		struct tdx_pamt_stats st;

		harness_pamt_lock();
		for (unsigned long r = 0; r < env_nregions; r++) {
			unsigned long any = td_pfn(r, 0);
			struct harness_pair p;
			uint64_t m0, m1;
			bool mod;
			int ref;

			ref = harness_pamt_ref(r);
			harness_pamt_pair(r, &p);
			mod = tdxm_region_pair(any, &m0, &m1);
			CHECK(p.installed == mod, "under pamt_lock: region %lu kernel %d module %d",
			      r, p.installed, mod);
			CHECK(ref == 0 || p.installed, "under pamt_lock: region %lu ref %d without pair",
			      r, ref);
			if (p.installed && mod)
				CHECK(PFN_PHYS(p.pfn[0]) == m0 || PFN_PHYS(p.pfn[0]) == m1,
				      "under pamt_lock: region %lu pages differ", r);
		}
		harness_pamt_unlock();
		tdx_pamt_get_stats(&st);	/* lock-free */
		__atomic_fetch_add(&monitor_checks, 1, __ATOMIC_RELAXED);
		usleep(300);
	}
	return NULL;
}

struct stress_cfg {
	int threads;
	unsigned long regions;
	uint64_t iters;		/* per thread */
	int hold;		/* max pages held per thread */
	unsigned int busy_ppm, error_ppm, alloc_ppm;
	unsigned int preempt_ppm;	/* yield at atomics/locks */
	unsigned int inflight_us;	/* widen ADD/REMOVE in the module */
	int ntags;
};

struct stress_thread {
	const struct stress_cfg *cfg;
	int id;
	pthread_t tid;
};

static unsigned long pick_region(const struct stress_cfg *cfg)
{
	/* half of the traffic on a few hot regions */
	if (harness_rand() & 1)
		return harness_rand() % (cfg->regions < 3 ? cfg->regions : 3);
	return harness_rand() % cfg->regions;
}

static bool claim_in_region(unsigned long r, unsigned long *pfn)
{
	unsigned long n = HARNESS_REGION_PAGES - harness_pool_pages();

	for (int t = 0; t < 8; t++) {
		unsigned long p = td_pfn(r, harness_rand() % n);

		if (harness_claim_td_page(p)) {
			*pfn = p;
			return true;
		}
	}
	return false;
}

/* Release a held page, putting from a random context. */
static void release_held(unsigned long pfn)
{
	unsigned int ctx = harness_rand() % 8;

	h_unuse(pfn);
	if (ctx == 0)
		harness_ctx_softirq(true);
	else if (ctx == 1)
		harness_ctx_hardirq(true);
	h_put(pfn);
	harness_ctx_softirq(false);
	harness_ctx_hardirq(false);
	harness_release_td_page(pfn);
}

static void *stress_fn(void *arg)
{
	struct stress_thread *st = arg;
	const struct stress_cfg *cfg = st->cfg;
	struct tdx_pamt_cache cache;
	unsigned long held[16];
	int nheld = 0;
	uint64_t it;

	harness_seed_thread(opt_seed * 1000 + st->id);
	tdxm_seed_thread(opt_seed * 7777 + st->id);
	harness_ctx_node(st->id & 1);
	tdx_pamt_cache_init(&cache);
	for (it = 0; it < cfg->iters; it++) {
		bool acquire = nheld == 0 ||
			       (nheld < cfg->hold && (harness_rand() & 1));

		if (acquire) {
			unsigned long tag = 1 + harness_rand() % cfg->ntags, pfn;
			int ret;

			if (!claim_in_region(pick_region(cfg), &pfn))
				continue;
			if (harness_rand() % 10 < 7) {
				if (tdx_pamt_cache_topup(&cache, 1, GFP_KERNEL_ACCOUNT)) {
					harness_release_td_page(pfn);
					continue;
				}
				ret = h_get_cached(pfn, &cache, tag);
			} else {
				ret = h_get(pfn, tag);
			}
			if (ret < 0) {
				CHECK(ret == -ENOMEM || ret == -EBUSY || ret == -EIO,
				      "get failed with %d", ret);
				CHECK(ret != -EIO || cfg->error_ppm, "get -EIO without errors");
				CHECK(ret != -ENOMEM || cfg->alloc_ppm, "get -ENOMEM without failures");
				harness_release_td_page(pfn);
				continue;
			}
			if (!h_use(pfn)) {
				h_put(pfn);
				harness_release_td_page(pfn);
				continue;
			}
			held[nheld++] = pfn;
		} else {
			int k = harness_rand() % nheld;

			release_held(held[k]);
			held[k] = held[--nheld];
		}
	}
	while (nheld)
		release_held(held[--nheld]);
	tdx_pamt_cache_free(&cache);
	flush_ops();
	return NULL;
}

static void run_stress(const struct stress_cfg *cfg, const char *what)
{
	struct stress_thread th[32];
	pthread_t mon, mce;
	int i;

	env_up(cfg->regions, 2, POOL);
	harness_work_manual(false);	/* removals run concurrently */
	tdxm_set_busy_ppm(cfg->busy_ppm);
	tdxm_set_error_ppm(cfg->error_ppm);
	tdxm_set_inflight_delay_us(cfg->inflight_us);
	harness_fail_alloc_ppm(cfg->alloc_ppm);
	harness_quiet(cfg->error_ppm || cfg->alloc_ppm);
	__atomic_store_n(&harness_preempt_ppm, cfg->preempt_ppm, __ATOMIC_RELAXED);
	monitor_stop = 0;
	pthread_create(&mon, NULL, monitor_fn, NULL);
	pthread_create(&mce, NULL, mce_fn, NULL);
	for (i = 0; i < cfg->threads; i++) {
		th[i].cfg = cfg;
		th[i].id = i;
		pthread_create(&th[i].tid, NULL, stress_fn, &th[i]);
	}
	for (i = 0; i < cfg->threads; i++)
		pthread_join(th[i].tid, NULL);
	__atomic_store_n(&monitor_stop, 1, __ATOMIC_RELEASE);
	pthread_join(mon, NULL);
	pthread_join(mce, NULL);
	__atomic_store_n(&harness_preempt_ppm, 0, __ATOMIC_RELAXED);
	tdxm_set_busy_ppm(0);
	tdxm_set_error_ppm(0);
	tdxm_set_inflight_delay_us(0);
	harness_fail_alloc_clear();
	harness_pamt_flush();
	/* stuck pairs are only retried when their region is used again */
	for (unsigned long r = 0; r < cfg->regions; r++)
		region_works(r, 1);
	harness_quiet(false);
	check_all(what, 0, 0, harness_pamt_leaked_pages(), 0);
	CHECK(cfg->error_ppm || !harness_pamt_leaked_pages(), "leaks without errors");
	env_down();
}

static void test_stress(void)
{
	struct stress_cfg cfg = {
		.threads = 8, .regions = 16, .iters = scaled(300000), .hold = 6,
		.busy_ppm = 20000, .ntags = 3, .preempt_ppm = 2000,
	};

	run_stress(&cfg, "stress");
}

/* Maximum 0 <-> 1 churn on two regions, ADD/REMOVE made slow. */
static void test_stress_2_regions(void)
{
	struct stress_cfg cfg = {
		.threads = 6, .regions = 2, .iters = scaled(60000), .hold = 1,
		.ntags = 2, .preempt_ppm = 20000, .inflight_us = 1,
	};

	run_stress(&cfg, "stress-2-regions");
}

static void test_stress_faults(void)
{
	struct stress_cfg cfg = {
		.threads = 6, .regions = 12, .iters = scaled(150000), .hold = 6,
		.busy_ppm = 50000, .error_ppm = 2000, .alloc_ppm = 5000,
		.ntags = 3, .preempt_ppm = 1000,
	};

	run_stress(&cfg, "stress-faults");
}

/* ------------------------------------------------------------------ */
/*
 * KVM-like workload: TDs come and go, each with vCPU threads that top up
 * their pair cache and then fault pages into their own and shared regions
 * under a (fake) mmu_lock, take control pages, and zap from contexts
 * where KVM or other TDX users free TDX pages.  Per-TD statistics are
 * kept the way KVM keeps them (arch/x86/kvm/vmx/tdx.c tdx_dpamt_get/put),
 * from what get and put report; a charge can come back from another TD's
 * put.  At the end, the sum over TDs of their charged bytes equals the
 * host's installed pairs minus what no live TD is charged for.
 */
struct td {
	int64_t pages, pair_bytes, pair_installs;	/* like kvm->stat, atomic */
	int alive;					/* atomic */
};

#define NTDS 4
static struct td tds[NTDS + 1];		/* tag = index, 0 unused */
/* faults by the number of PAMT.ADDs they made under mmu_lock (0..5) */
static uint64_t adds_per_fault[6];

static void td_get_done(unsigned long tag, int ret)
{
	__atomic_fetch_add(&tds[tag].pages, 1, __ATOMIC_RELAXED);
	if (ret == 1) {
		__atomic_fetch_add(&tds[tag].pair_bytes, PAIR_BYTES, __ATOMIC_RELAXED);
		__atomic_fetch_add(&tds[tag].pair_installs, 1, __ATOMIC_RELAXED);
	}
}

static void td_put(unsigned long tag, unsigned long pfn)
{
	unsigned long charge = h_put(pfn);

	__atomic_fetch_sub(&tds[tag].pages, 1, __ATOMIC_RELAXED);
	if (charge && charge <= NTDS)
		__atomic_fetch_sub(&tds[charge].pair_bytes, PAIR_BYTES, __ATOMIC_RELAXED);
}

struct vcpu_arg {
	unsigned long tag;
	int id;
	uint64_t faults;
};

static void *vcpu_fn(void *arg)
{
	struct vcpu_arg *v = arg;
	struct tdx_pamt_cache cache;
	unsigned long held[32];
	int nheld = 0;

	harness_seed_thread(opt_seed * 31 + v->id);
	tdxm_seed_thread(opt_seed * 37 + v->id);
	harness_ctx_node(v->id % 2);
	tdx_pamt_cache_init(&cache);
	for (uint64_t f = 0; f < v->faults; f++) {
		if (nheld < 32 && (harness_rand() % 3)) {
			/* a fault: up to 5 pages (4 S-EPT tables + the leaf) */
			int n = 1 + harness_rand() % 5, got = 0, before;

			if (tdx_pamt_cache_topup(&cache, 5, GFP_KERNEL_ACCOUNT))
				continue;
			before = cache.nr;
			for (int k = 0; k < n && nheld < 32; k++) {
				/* own region (tag) or a shared one (0) */
				unsigned long r = (harness_rand() & 1) ? v->tag : 0, pfn;
				int ret;

				if (!claim_in_region(r, &pfn))
					continue;
				ret = h_get_cached(pfn, &cache, v->tag);
				/* the cache holds enough for one fault */
				CHECK(ret != -ENOMEM, "fault ran out of cache pairs");
				if (ret < 0) {
					harness_release_td_page(pfn);
					break;	/* RET_PF_RETRY */
				}
				td_get_done(v->tag, ret);
				if (!h_use(pfn)) {
					td_put(v->tag, pfn);
					harness_release_td_page(pfn);
					break;
				}
				held[nheld++] = pfn;
				got++;
			}
			(void)got;
			/* every pair taken from the cache was one PAMT.ADD */
			__atomic_fetch_add(&adds_per_fault[before - cache.nr], 1,
					   __ATOMIC_RELAXED);
		} else if (nheld) {
			int k = harness_rand() % nheld;
			unsigned long pfn = held[k];

			h_unuse(pfn);
			/* zaps run under mmu_lock; other users free anywhere */
			harness_ctx_softirq(harness_rand() % 4 == 0);
			td_put(v->tag, pfn);
			harness_ctx_softirq(false);
			harness_release_td_page(pfn);
			held[k] = held[--nheld];
		}
	}
	while (nheld) {
		unsigned long pfn = held[--nheld];

		h_unuse(pfn);
		td_put(v->tag, pfn);
		harness_release_td_page(pfn);
	}
	tdx_pamt_cache_free(&cache);
	flush_ops();
	return NULL;
}

static void test_kvm_workload(void)
{
	int lifetimes = scaled(6) > 1 ? scaled(6) : 2;

	env_up(NTDS + 1, 2, POOL);
	harness_work_manual(false);
	tdxm_set_busy_ppm(10000);
	memset(tds, 0, sizeof(tds));
	for (int life = 0; life < lifetimes; life++) {
		struct vcpu_arg va[NTDS * 2];
		pthread_t t[NTDS * 2];

		for (int i = 0; i < NTDS * 2; i++) {
			va[i].tag = 1 + i / 2;
			va[i].id = life * 100 + i;
			va[i].faults = scaled(20000);
			pthread_create(&t[i], NULL, vcpu_fn, &va[i]);
		}
		for (int i = 0; i < NTDS * 2; i++)
			pthread_join(t[i], NULL);
		/* every TD dropped all its pages: KVM's tdx_vm_destroy() check */
		for (int td = 1; td <= NTDS; td++) {
			CHECK_EQ(tds[td].pages, 0, "TD pages at destroy");
			CHECK_EQ(tds[td].pair_bytes, 0, "TD charged bytes at destroy");
			CHECK_EQ(tds[td].pair_installs, installs[td], "TD pair installs");
		}
	}
	tdxm_set_busy_ppm(0);
	check_all("kvm workload", 0, 0, 0, 0);
	env_down();
}

/* ------------------------------------------------------------------ */

static const struct test {
	const char *name;
	void (*fn)(void);
} tests[] = {
	{ "basic", test_basic },
	{ "many-regions", test_many_regions },
	{ "disabled", test_disabled },
	{ "bad-pfn", test_bad_pfn },
	{ "unbalanced-put", test_unbalanced_put },
	{ "reuse-before-removal", test_reuse_before_removal },
	{ "charge-last-put", test_charge_last_put },
	{ "cache", test_cache },
	{ "recheck-under-lock", test_recheck_under_lock },
	{ "gfp", test_gfp },
	{ "numa", test_numa },
	{ "add-failures", test_add_failures },
	{ "remove-busy", test_remove_busy },
	{ "remove-no-pair", test_remove_no_pair },
	{ "remove-bad-output", test_remove_bad_output },
	{ "remove-swapped-output", test_remove_swapped_output },
	{ "remove-error", test_remove_error },
	{ "wbinvd", test_wbinvd },
	{ "alloc-failures", test_alloc_failures },
	{ "put-contexts", test_put_contexts },
	{ "pair-page-recognition", test_pair_page_recognition },
	{ "mce-during-removal", test_mce_during_removal },
	{ "sizing", test_sizing },
	{ "fault-sweep", test_sweep },
	{ "stress", test_stress },
	{ "stress-2-regions", test_stress_2_regions },
	{ "stress-faults", test_stress_faults },
	{ "kvm-workload", test_kvm_workload },
};

static void usage(const char *argv0)
{
	fprintf(stderr, "usage: %s [--scale=PERCENT] [--seed=N] [--list] [--verbose] [TEST...]\n",
		argv0);
}

int main(int argc, char **argv)
{
	static const struct option lopts[] = {
		{ "scale", required_argument, NULL, 's' },
		{ "seed", required_argument, NULL, 'S' },
		{ "list", no_argument, NULL, 'l' },
		{ "verbose", no_argument, NULL, 'v' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	int passed = 0, failed = 0, opt;

	while ((opt = getopt_long(argc, argv, "s:S:lvh", lopts, NULL)) != -1) {
		switch (opt) {
		case 's':
			opt_scale = strtoul(optarg, NULL, 0);
			break;
		case 'S':
			opt_seed = strtoull(optarg, NULL, 0);
			break;
		case 'l':
			for (size_t i = 0; i < ARRAY_SIZE(tests); i++)
				printf("%s\n", tests[i].name);
			return 0;
		case 'v':
			harness_verbose = 1;
			break;
		default:
			usage(argv[0]);
			return 2;
		}
	}

	printf("dpamt model: real pamt.c, %s, scale %u%%, seed %llu\n",
#ifdef HARNESS_NO_FASTPATH
	       "fast path compiled out",
#else
	       "fast path on",
#endif
	       opt_scale, (unsigned long long)opt_seed);
	for (size_t i = 0; i < ARRAY_SIZE(tests); i++) {
		struct timespec a, b;
		uint64_t ops0 = total_ops;
		bool selected = optind >= argc;

		for (int k = optind; k < argc; k++)
			if (!strcmp(argv[k], tests[i].name))
				selected = true;
		if (!selected)
			continue;
		t_failed = 0;
		t_name = tests[i].name;
		clock_gettime(CLOCK_MONOTONIC, &a);
		harness_seed_thread(opt_seed);
		tests[i].fn();
		clock_gettime(CLOCK_MONOTONIC, &b);
		printf("%s %-22s %7.2fs  %10llu ops%s\n",
		       !t_failed ? "ok  " : "FAIL", tests[i].name,
		       (b.tv_sec - a.tv_sec) + (b.tv_nsec - a.tv_nsec) / 1e9,
		       (unsigned long long)(total_ops - ops0),
		       t_failed ? "  <-- see stderr" : "");
		fflush(stdout);
		if (t_failed)
			failed++;
		else
			passed++;
	}
	if (sweep_runs)
		printf("fault sweep: %llu runs (every one of %llu allocations, "
		       "every one of %llu SEAMCALLs x %zu fault kinds)\n",
		       (unsigned long long)sweep_runs, (unsigned long long)sweep_allocs,
		       (unsigned long long)sweep_calls, ARRAY_SIZE(seam_faults));
	printf("operations: %llu get/put calls\n", (unsigned long long)total_ops);
	printf("injected faults: %llu (allocation %llu, SEAMCALL %llu)\n",
	       (unsigned long long)(total_alloc_inj + total_seam_inj),
	       (unsigned long long)total_alloc_inj, (unsigned long long)total_seam_inj);
	if (adds_per_fault[0] + adds_per_fault[1])
		printf("kvm-workload faults by PAMT.ADDs under mmu_lock: 0: %llu, 1: %llu, "
		       "2: %llu, 3: %llu, 4: %llu, 5: %llu\n",
		       (unsigned long long)adds_per_fault[0], (unsigned long long)adds_per_fault[1],
		       (unsigned long long)adds_per_fault[2], (unsigned long long)adds_per_fault[3],
		       (unsigned long long)adds_per_fault[4], (unsigned long long)adds_per_fault[5]);
	printf("monitor checks under pamt_lock: %llu, lockless machine-check lookups: %llu\n",
	       (unsigned long long)monitor_checks, (unsigned long long)mce_lookups);
	printf("%d passed, %d failed\n", passed, failed);
	return failed ? 1 : 0;
}
