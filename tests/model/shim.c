// SPDX-License-Identifier: GPL-2.0
/*
 * shim.c - the out-of-line part of the fake kernel (include/custom.h):
 * fake physical memory and page allocator with counting and fault
 * injection, kmalloc/vmalloc counting, spinlocks with owner tracking and a
 * lockdep-like irq-safety check, RCU, a workqueue, WARN/printk counting.
 */
#include <stdarg.h>
#include <sys/mman.h>
#include <sched.h>
#include <unistd.h>

#include "include/fake_kernel.h"
#include "harness.h"
#include "counters.h"
#include "rng.h"

#if defined(__SANITIZE_ADDRESS__)
#include <sanitizer/asan_interface.h>
#define POISON(p, n)	ASAN_POISON_MEMORY_REGION(p, n)
#define UNPOISON(p, n)	ASAN_UNPOISON_MEMORY_REGION(p, n)
#else
#define POISON(p, n)	do { } while (0)
#define UNPOISON(p, n)	do { } while (0)
#endif

#define RLX __ATOMIC_RELAXED

struct page *fake_mem_map;
unsigned long fake_base_pfn, fake_end_pfn;
char *fake_mem;

static size_t fake_npages;
static unsigned long fake_nregions;
static unsigned int fake_pool;
static int fake_nnodes = 1;

/* page allocator: one free stack per node, one lock */
static pthread_mutex_t alloc_lock = PTHREAD_MUTEX_INITIALIZER;
static unsigned long *free_stack[8];
static size_t free_top[8];

static struct harness_counters ctr;
int harness_verbose;
unsigned int harness_preempt_ppm;

void harness_preempt(void)
{
	if (harness_rand() % 1000000 < __atomic_load_n(&harness_preempt_ppm, RLX))
		sched_yield();
}
static int harness_quiet_flag;

static uint64_t fail_alloc_at_n;		/* absolute alloc_calls index */
static unsigned int fail_alloc_ppm;

__thread struct task_struct harness_current_task;
static __thread uint64_t t_rng = 0x2545F4914F6CDD1DULL;
static __thread int t_lock_depth;
static __thread int t_irq_off;
static __thread int t_softirq;
static __thread int t_hardirq;
static __thread int t_mmu_lock;
static __thread int t_node;

const char *const harness_bug_names[HBUG_NR] = {
	[HBUG_BAD_FREE]		 = "free of a page that is not allocated",
	[HBUG_PRIVATE_ON_FREE]	 = "page freed with page->private set",
	[HBUG_SLEEP_IN_ATOMIC]	 = "sleeping allocation in atomic context",
	[HBUG_ALLOC_MMU_LOCK]	 = "allocation under KVM's mmu_lock",
	[HBUG_LOCK_NOT_HELD]	 = "lockdep_assert_held() failed",
	[HBUG_LOCK_IRQ_UNSAFE]	 = "lock taken in softirq and with irqs enabled",
	[HBUG_LOCK_IN_HARDIRQ]	 = "spinlock taken in hard interrupt context",
	[HBUG_SEAMCALL_UNLOCKED] = "PAMT.ADD/REMOVE issued without pamt_lock",
	[HBUG_SEAMCALL_ATOMIC]	 = "SEAMCALL with interrupts or bottom halves disabled",
	[HBUG_RESET_OWNED]	 = "host cleared a page the TDX module owns",
	[HBUG_WRONG_NODE]	 = "pair page allocated on another node than its region",
	[HBUG_NOT_ACCOUNTED]	 = "DPAMT page allocated without __GFP_ACCOUNT",
};

/* ------------------------------------------------------------------ */

uint64_t harness_rand(void)
{
	return xorshift64_next(&t_rng);
}

void harness_seed_thread(uint64_t seed)
{
	t_rng = (seed + 1) * 0x9E3779B97F4A7C15ULL;
	if (!t_rng)
		t_rng = 1;
	tdxm_seed_thread(seed + 0x1234);
}

void harness_quiet(bool on)
{
	__atomic_store_n(&harness_quiet_flag, on, RLX);
}

static bool quiet(void)
{
	return __atomic_load_n(&harness_quiet_flag, RLX) && !harness_verbose;
}

void harness_warn(const char *file, int line, const char *what)
{
	uint64_t n = __atomic_add_fetch(&ctr.warns, 1, RLX);

	if (!quiet() && n <= 20)
		fprintf(stderr, "WARNING: %s:%d: %s\n", file, line, what);
}

void harness_printk(const char *level, const char *fmt, ...)
{
	va_list ap;

	__atomic_fetch_add(&ctr.printks, 1, RLX);
	if (!harness_verbose)
		return;
	fprintf(stderr, "[%s] ", level);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
}

void harness_note_bug(enum harness_bug b, const char *fmt, ...)
{
	va_list ap;
	uint64_t n = __atomic_add_fetch(&ctr.bugs[b], 1, RLX);

	if (n > 3)
		return;
	fprintf(stderr, "HARNESS: BUG: %s: ", harness_bug_names[b]);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
}

uint64_t harness_total_bugs(void)
{
	return counters_sum(ctr.bugs, HBUG_NR);
}

uint64_t harness_report_bugs(const char *who)
{
	return counters_report(who, ctr.bugs, harness_bug_names, HBUG_NR);
}

void harness_get_counters(struct harness_counters *c)
{
	/* racy snapshot is fine: only used when quiescent */
	uint64_t *dst = (uint64_t *)c, *src = (uint64_t *)&ctr;

	for (size_t i = 0; i < sizeof(*c) / sizeof(uint64_t); i++)
		dst[i] = __atomic_load_n(&src[i], RLX);
}

/* ------------------------------------------------------------------ */
/* execution context */

void harness_ctx_softirq(bool on)
{
	t_softirq = on;
}

int harness_locks_held(void)
{
	return t_lock_depth;
}

void harness_ctx_hardirq(bool on)
{
	t_hardirq = on;
}

void harness_ctx_irqs_off(bool on)
{
	t_irq_off += on ? 1 : -1;
}

bool harness_ctx_atomic(void)
{
	return t_irq_off || t_softirq || t_hardirq;
}

void harness_ctx_mmu_lock(bool on)
{
	t_mmu_lock = on;
}

void harness_ctx_node(int nid)
{
	t_node = nid;
}

/* ------------------------------------------------------------------ */
/* spinlocks */

void harness_spin_lock(spinlock_t *l, bool irqsave)
{
	unsigned long self = (unsigned long)pthread_self();

	harness_preempt_point();
	if (__atomic_load_n(&l->owner, RLX) == self) {
		fprintf(stderr, "HARNESS: recursive locking of %s: deadlock\n", l->name);
		abort();
	}
	if (t_hardirq)
		harness_note_bug(HBUG_LOCK_IN_HARDIRQ, "%s", l->name);
	if (t_softirq) {
		__atomic_store_n(&l->used_in_softirq, 1, RLX);
	} else if (!irqsave && !t_irq_off) {
		__atomic_store_n(&l->used_softirq_unsafe, 1, RLX);
	}
	if (__atomic_load_n(&l->used_in_softirq, RLX) &&
	    __atomic_load_n(&l->used_softirq_unsafe, RLX)) {
		/* report once per lock */
		if (__atomic_exchange_n(&l->used_softirq_unsafe, 2, RLX) == 1)
			harness_note_bug(HBUG_LOCK_IRQ_UNSAFE, "%s", l->name);
	}
	pthread_mutex_lock(&l->mutex);
	__atomic_store_n(&l->owner, self, RLX);
	t_lock_depth++;
	if (irqsave)
		t_irq_off++;
}

void harness_spin_unlock(spinlock_t *l, bool irqrestore)
{
	unsigned long self = (unsigned long)pthread_self();

	if (__atomic_load_n(&l->owner, RLX) != self) {
		fprintf(stderr, "HARNESS: unlock of %s not held by this thread\n", l->name);
		abort();
	}
	__atomic_store_n(&l->owner, 0, RLX);
	t_lock_depth--;
	if (irqrestore)
		t_irq_off--;
	pthread_mutex_unlock(&l->mutex);
}

void harness_lockdep_assert_held(spinlock_t *l, const char *file, int line)
{
	if (__atomic_load_n(&l->owner, RLX) != (unsigned long)pthread_self())
		harness_note_bug(HBUG_LOCK_NOT_HELD, "%s at %s:%d", l->name, file, line);
}

/* ------------------------------------------------------------------ */
/* fault injection */

void harness_fail_alloc_at(uint64_t n)
{
	__atomic_store_n(&fail_alloc_at_n, __atomic_load_n(&ctr.alloc_calls, RLX) + n, RLX);
}

void harness_fail_alloc_ppm(unsigned int ppm)
{
	__atomic_store_n(&fail_alloc_ppm, ppm, RLX);
}

void harness_fail_alloc_clear(void)
{
	__atomic_store_n(&fail_alloc_at_n, 0, RLX);
	__atomic_store_n(&fail_alloc_ppm, 0, RLX);
}

/* May this thread allocate with @gfp here?  As the kernel's might_alloc(). */
static void check_alloc_context(gfp_t gfp, const char *what)
{
	if (t_mmu_lock)
		harness_note_bug(HBUG_ALLOC_MMU_LOCK, "%s", what);
	if ((gfp & __GFP_DIRECT_RECLAIM) &&
	    (t_lock_depth || t_irq_off || t_softirq || t_hardirq))
		harness_note_bug(HBUG_SLEEP_IN_ATOMIC, "%s, gfp %#x, %d locks held%s",
				 what, gfp, t_lock_depth, t_softirq ? ", in softirq" : "");
}

/* Count an allocation attempt; true if it must fail. */
static bool alloc_enter(gfp_t gfp, const char *what)
{
	uint64_t n = __atomic_add_fetch(&ctr.alloc_calls, 1, RLX);
	unsigned int ppm = __atomic_load_n(&fail_alloc_ppm, RLX);

	check_alloc_context(gfp, what);
	__atomic_store_n(&ctr.last_gfp, gfp, RLX);
	if (n == __atomic_load_n(&fail_alloc_at_n, RLX) ||
	    (ppm && harness_rand() % 1000000 < ppm)) {
		__atomic_fetch_add(&ctr.alloc_injected, 1, RLX);
		return true;
	}
	return false;
}

/* ------------------------------------------------------------------ */
/* fake physical memory and page allocator */

static bool hook_allocated(unsigned long pfn)
{
	return pfn_valid(pfn) &&
	       __atomic_load_n(&pfn_to_page(pfn)->hstate, RLX) == HP_KERNEL;
}

static void *hook_mem(unsigned long pfn)
{
	return pfn_valid(pfn) ? page_address(pfn_to_page(pfn)) : NULL;
}

void harness_mem_fini(void)
{
	if (fake_mem) {
		UNPOISON(fake_mem, fake_npages * PAGE_SIZE);
		munmap(fake_mem, fake_npages * PAGE_SIZE);
	}
	free(fake_mem_map);
	for (int i = 0; i < 8; i++) {
		free(free_stack[i]);
		free_stack[i] = NULL;
		free_top[i] = 0;
	}
	fake_mem = NULL;
	fake_mem_map = NULL;
	fake_base_pfn = fake_end_pfn = 0;
	fake_npages = 0;
}

void harness_mem_init(unsigned long base_pfn, unsigned long nr_regions,
		      int nr_nodes, unsigned int pool_pages)
{
	unsigned long i;

	harness_mem_fini();
	if (nr_nodes < 1)
		nr_nodes = 1;
	if (nr_nodes > 8)
		nr_nodes = 8;
	if (base_pfn % HARNESS_REGION_PAGES || !pool_pages ||
	    pool_pages >= HARNESS_REGION_PAGES) {
		fprintf(stderr, "harness_mem_init: bad layout\n");
		abort();
	}
	fake_nnodes = nr_nodes;
	fake_nregions = nr_regions;
	fake_pool = pool_pages;
	fake_npages = nr_regions * HARNESS_REGION_PAGES;
	fake_base_pfn = base_pfn;
	fake_end_pfn = base_pfn + fake_npages;
	fake_mem_map = calloc(fake_npages, sizeof(struct page));
	fake_mem = mmap(NULL, fake_npages * PAGE_SIZE, PROT_READ | PROT_WRITE,
			MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
	if (!fake_mem_map || fake_mem == MAP_FAILED) {
		perror("harness_mem_init");
		exit(2);
	}
	for (int n = 0; n < nr_nodes; n++) {
		free_stack[n] = calloc(fake_npages, sizeof(unsigned long));
		free_top[n] = 0;
	}
	for (i = 0; i < fake_npages; i++) {
		struct page *p = &fake_mem_map[i];
		unsigned long region = i / HARNESS_REGION_PAGES;

		p->nid = (int)(region * nr_nodes / nr_regions);
		INIT_LIST_HEAD(&p->lru);
		p->hstate = (i % HARNESS_REGION_PAGES) < pool_pages ? HP_FREE : HP_RESERVED;
	}
	/* fill the free stacks in a fixed pseudo-random order */
	{
		uint64_t x = 0x853c49e6748fea9bULL;
		unsigned long *order = malloc(fake_npages * sizeof(*order));
		size_t n = 0;

		for (i = 0; i < fake_npages; i++)
			if (fake_mem_map[i].hstate == HP_FREE)
				order[n++] = i;
		for (i = n; i > 1; i--) {
			unsigned long j;

			x ^= x << 13; x ^= x >> 7; x ^= x << 17;
			j = x % i;
			unsigned long t = order[i - 1];
			order[i - 1] = order[j];
			order[j] = t;
		}
		for (i = 0; i < n; i++) {
			struct page *p = &fake_mem_map[order[i]];

			p->free_idx = free_top[p->nid];
			free_stack[p->nid][free_top[p->nid]++] = order[i];
		}
		free(order);
	}
	POISON(fake_mem, fake_npages * PAGE_SIZE);
	memset(&ctr, 0, sizeof(ctr));
	fail_alloc_at_n = 0;
	fail_alloc_ppm = 0;
	tdxm_init(base_pfn, fake_npages);
	tdxm_set_hooks(hook_allocated, hook_mem);
}

unsigned long harness_nr_regions(void)
{
	return fake_nregions;
}

unsigned int harness_pool_pages(void)
{
	return fake_pool;
}

unsigned long harness_td_pfn(unsigned long region, unsigned long idx)
{
	return fake_base_pfn + region * HARNESS_REGION_PAGES + fake_pool +
	       idx % (HARNESS_REGION_PAGES - fake_pool);
}

unsigned long harness_pfn_region(unsigned long pfn)
{
	return (pfn - fake_base_pfn) / HARNESS_REGION_PAGES;
}

bool harness_claim_td_page(unsigned long pfn)
{
	int old = HP_RESERVED;

	return __atomic_compare_exchange_n(&pfn_to_page(pfn)->hstate, &old, HP_TD,
					   false, RLX, RLX);
}

void harness_release_td_page(unsigned long pfn)
{
	__atomic_store_n(&pfn_to_page(pfn)->hstate, HP_RESERVED, RLX);
}

bool harness_page_allocated(unsigned long pfn)
{
	return hook_allocated(pfn);
}

static void (*alloc_hook)(void *arg);
static void *alloc_hook_arg;

void harness_set_alloc_hook(void (*fn)(void *arg), void *arg)
{
	alloc_hook_arg = arg;
	alloc_hook = fn;
}

struct page *alloc_pages_node(int nid, gfp_t gfp, unsigned int order)
{
	struct page *page = NULL;
	unsigned long idx;

	if (alloc_hook) {
		void (*fn)(void *arg) = alloc_hook;

		alloc_hook = NULL;	/* one shot, single-threaded tests only */
		fn(alloc_hook_arg);
	}

	if (order != 0) {
		harness_warn(__FILE__, __LINE__, "harness: only order-0 pages");
		return NULL;
	}
	if (alloc_enter(gfp, "alloc_pages_node"))
		return NULL;
	if (nid == NUMA_NO_NODE || nid < 0 || nid >= fake_nnodes)
		nid = t_node % fake_nnodes;

	pthread_mutex_lock(&alloc_lock);
	for (int tries = 0; tries < fake_nnodes && !page; tries++) {
		int n = (nid + tries) % fake_nnodes;

		if (free_top[n]) {
			idx = free_stack[n][--free_top[n]];
			page = &fake_mem_map[idx];
		}
	}
	if (page) {
		__atomic_store_n(&page->hstate, HP_KERNEL, RLX);
		ctr.page_allocs++;
		ctr.live_pages++;
	}
	pthread_mutex_unlock(&alloc_lock);
	if (!page)
		return NULL;	/* out of fake memory */

	page->private = 0;
	page->flags = gfp;
	INIT_LIST_HEAD(&page->lru);
	UNPOISON(page_address(page), PAGE_SIZE);
	/* fresh pages are not zero unless asked: make stale data visible */
	memset(page_address(page), (gfp & __GFP_ZERO) ? 0 : 0xcc, PAGE_SIZE);
	/* ... and written through KeyID 0: the caches may hold those lines */
	tdxm_host_write(page_to_pfn(page));
	return page;
}

void __free_pages(struct page *page, unsigned int order)
{
	unsigned long pfn = page_to_pfn(page);

	(void)order;
	if (__atomic_load_n(&page->hstate, RLX) != HP_KERNEL) {
		harness_note_bug(HBUG_BAD_FREE, "pfn %#lx state %d", pfn, page->hstate);
		return;
	}
	if (tdxm_pfn_owned(pfn)) {
		tdxm_note_violation(TDXM_V_FREE_OWNED, "pfn %#lx", pfn);
		return;		/* keep it away from the allocator */
	}
	if (tdxm_pfn_needs_reset(pfn))
		tdxm_note_violation(TDXM_V_FREE_DIRTY, "pfn %#lx", pfn);
	if (tdxm_pfn_dirty_private(pfn))
		tdxm_note_violation(TDXM_V_FREE_DIRTY_KEYID,
				    "pfn %#lx still has lines of a private KeyID", pfn);
	if (page->private)
		harness_note_bug(HBUG_PRIVATE_ON_FREE, "pfn %#lx private %#lx",
				 pfn, page->private);
	page->private = 0;
	POISON(page_address(page), PAGE_SIZE);

	pthread_mutex_lock(&alloc_lock);
	__atomic_store_n(&page->hstate, HP_FREE, RLX);
	page->free_idx = free_top[page->nid];
	free_stack[page->nid][free_top[page->nid]++] = pfn - fake_base_pfn;
	ctr.page_frees++;
	ctr.live_pages--;
	pthread_mutex_unlock(&alloc_lock);
}

/* ------------------------------------------------------------------ */
/* kmalloc / vmalloc */

void *kmalloc(size_t size, gfp_t gfp)
{
	void *p;

	if (alloc_enter(gfp, "kmalloc"))
		return NULL;
	p = malloc(size ? size : 1);
	if (p) {
		memset(p, 0xcc, size);
		__atomic_fetch_add(&ctr.kmallocs, 1, RLX);
		__atomic_fetch_add(&ctr.live_kmalloc, 1, RLX);
	}
	return p;
}

void *kzalloc_node(size_t size, gfp_t gfp, int nid)
{
	(void)nid;
	return kzalloc(size, gfp);
}

void *kvzalloc(size_t size, gfp_t gfp)
{
	return kzalloc(size, gfp);
}

void kvfree(const void *p)
{
	kfree(p);
}

unsigned long *bitmap_zalloc(unsigned long nbits, gfp_t gfp)
{
	return kzalloc(BITS_TO_LONGS(nbits) * sizeof(long), gfp);
}

void bitmap_free(const unsigned long *bitmap)
{
	kfree(bitmap);
}

#ifndef HARNESS_BENCH
void might_alloc(gfp_t gfp)
{
	check_alloc_context(gfp, "might_alloc()");
}
#endif

void *kzalloc(size_t size, gfp_t gfp)
{
	void *p = kmalloc(size, gfp);

	if (p)
		memset(p, 0, size);
	return p;
}

void kfree(const void *p)
{
	if (!p)
		return;
	__atomic_fetch_add(&ctr.kfrees, 1, RLX);
	__atomic_fetch_sub(&ctr.live_kmalloc, 1, RLX);
	free((void *)p);
}

void *vmalloc(unsigned long size)
{
	void *p;

	if (alloc_enter(GFP_KERNEL, "vmalloc"))
		return NULL;
	p = malloc(size ? size : 1);
	if (p) {
		__atomic_fetch_add(&ctr.vmallocs, 1, RLX);
		__atomic_fetch_add(&ctr.live_vmalloc, 1, RLX);
	}
	return p;
}

void *vzalloc(unsigned long size)
{
	void *p = vmalloc(size);

	if (p)
		memset(p, 0, size);
	return p;
}

void vfree(const void *p)
{
	if (!p)
		return;
	__atomic_fetch_add(&ctr.vfrees, 1, RLX);
	__atomic_fetch_sub(&ctr.live_vmalloc, 1, RLX);
	free((void *)p);
}

/* ------------------------------------------------------------------ */
/* caches */

void clflush_cache_range(void *addr, unsigned int size)
{
	unsigned long off = (unsigned long)((char *)addr - fake_mem);
	unsigned long pfn;

	if ((char *)addr < fake_mem || off >= fake_npages * PAGE_SIZE) {
		harness_warn(__FILE__, __LINE__, "clflush_cache_range() outside fake memory");
		return;
	}
	for (pfn = fake_base_pfn + off / PAGE_SIZE;
	     pfn < fake_base_pfn + DIV_ROUND_UP(off + size, PAGE_SIZE); pfn++)
		tdxm_host_flush(pfn);
}

/* ------------------------------------------------------------------ */
/* RCU */

static pthread_rwlock_t rcu_lock = PTHREAD_RWLOCK_INITIALIZER;
static pthread_mutex_t rcu_free_lock = PTHREAD_MUTEX_INITIALIZER;
static struct rcu_head *rcu_free_list;
static __thread int t_rcu_depth;

__thread unsigned int harness_rcu_stall_us;

void harness_rcu_stall(void)
{
	usleep(harness_rcu_stall_us);
}

void rcu_read_lock(void)
{
	if (!t_rcu_depth++)
		pthread_rwlock_rdlock(&rcu_lock);
}

void rcu_read_unlock(void)
{
	if (!--t_rcu_depth)
		pthread_rwlock_unlock(&rcu_lock);
}

/* Objects passed to kfree_rcu() start at their rcu_head's offset back. */
struct rcu_obj {
	void *obj;
	struct rcu_head head;
};

void harness_kfree_rcu(void *obj, struct rcu_head *head)
{
	/* A side node, so that the object stays untouched until it is freed. */
	struct rcu_obj *o = malloc(sizeof(*o));

	(void)head;
	if (!o) {
		perror("kfree_rcu");
		abort();
	}
	o->obj = obj;
	pthread_mutex_lock(&rcu_free_lock);
	o->head.next = rcu_free_list;
	rcu_free_list = &o->head;
	pthread_mutex_unlock(&rcu_free_lock);
}

void synchronize_rcu(void)
{
	if (t_rcu_depth) {
		fprintf(stderr, "HARNESS: synchronize_rcu() inside an RCU read-side section\n");
		abort();
	}
	pthread_rwlock_wrlock(&rcu_lock);
	pthread_rwlock_unlock(&rcu_lock);
}

void rcu_barrier(void)
{
	struct rcu_head *list, *next;

	synchronize_rcu();
	pthread_mutex_lock(&rcu_free_lock);
	list = rcu_free_list;
	rcu_free_list = NULL;
	pthread_mutex_unlock(&rcu_free_lock);
	for (; list; list = next) {
		struct rcu_obj *o = container_of(list, struct rcu_obj, head);

		next = list->next;
		kfree(o->obj);
		free(o);
	}
}

/* ------------------------------------------------------------------ */
/* workqueue */

struct workqueue_struct *system_dfl_wq;
static bool work_manual = true;

void harness_work_manual(bool manual)
{
	__atomic_store_n(&work_manual, manual, RLX);
}

/* Run the work once if it is pending; caller holds dw->mutex. */
static void work_run_locked(struct delayed_work *dw)
{
	dw->pending = false;
	dw->running = true;
	pthread_mutex_unlock(&dw->mutex);
	dw->work.func(&dw->work);
	/* the work is done: what it freed may go after a grace period */
	rcu_barrier();
	pthread_mutex_lock(&dw->mutex);
	dw->running = false;
	dw->runs++;
	pthread_cond_broadcast(&dw->cond);
}

static void *worker(void *arg)
{
	struct delayed_work *dw = arg;

	harness_seed_thread((uint64_t)(uintptr_t)arg);
	pthread_mutex_lock(&dw->mutex);
	while (!dw->stop) {
		if (dw->pending && !__atomic_load_n(&work_manual, RLX))
			work_run_locked(dw);
		else
			pthread_cond_wait(&dw->cond, &dw->mutex);
	}
	pthread_mutex_unlock(&dw->mutex);
	return NULL;
}

bool queue_delayed_work(struct workqueue_struct *wq, struct delayed_work *dw,
			unsigned long delay)
{
	bool queued;

	(void)wq;
	(void)delay;
	pthread_mutex_lock(&dw->mutex);
	if (!dw->started && !__atomic_load_n(&work_manual, RLX)) {
		dw->started = true;
		dw->stop = false;
		if (pthread_create(&dw->thread, NULL, worker, dw)) {
			perror("pthread_create");
			abort();
		}
	}
	queued = !dw->pending;
	dw->pending = true;
	pthread_cond_broadcast(&dw->cond);
	pthread_mutex_unlock(&dw->mutex);
	return queued;
}

bool mod_delayed_work(struct workqueue_struct *wq, struct delayed_work *dw,
		      unsigned long delay)
{
	return !queue_delayed_work(wq, dw, delay);
}

bool flush_delayed_work(struct delayed_work *dw)
{
	bool waited = false;

	pthread_mutex_lock(&dw->mutex);
	while (dw->running) {
		pthread_cond_wait(&dw->cond, &dw->mutex);
		waited = true;
	}
	if (dw->pending) {
		/* flush_delayed_work() runs pending work now, in any mode */
		work_run_locked(dw);
		waited = true;
	}
	pthread_mutex_unlock(&dw->mutex);
	return waited;
}

bool cancel_delayed_work_sync(struct delayed_work *dw)
{
	bool was_pending;

	pthread_mutex_lock(&dw->mutex);
	was_pending = dw->pending;
	dw->pending = false;
	while (dw->running)
		pthread_cond_wait(&dw->cond, &dw->mutex);
	pthread_mutex_unlock(&dw->mutex);
	return was_pending;
}

void harness_work_stop(struct delayed_work *dw)
{
	bool started;

	pthread_mutex_lock(&dw->mutex);
	started = dw->started;
	dw->stop = true;
	pthread_cond_broadcast(&dw->cond);
	pthread_mutex_unlock(&dw->mutex);
	if (started)
		pthread_join(dw->thread, NULL);
	pthread_mutex_lock(&dw->mutex);
	dw->started = false;
	dw->stop = false;
	pthread_mutex_unlock(&dw->mutex);
}
