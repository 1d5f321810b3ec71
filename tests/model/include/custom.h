/* SPDX-License-Identifier: GPL-2.0 */
/*
 * custom.h - kernel facilities re-implemented for testing.  Everything
 * here behaves like the kernel's version as far as pamt.c can tell, and
 * in addition records what the tests need to check.  Implementations of
 * the out-of-line parts are in shim.c.
 */
#ifndef DPAMT_HARNESS_CUSTOM_H
#define DPAMT_HARNESS_CUSTOM_H

#include <pthread.h>
#include <stdbool.h>
#include <stdio.h>

/* ------------------------------------------------------------------ */
/* READ_ONCE / WRITE_ONCE: marked accesses, relaxed atomics for TSan.   */

#define READ_ONCE(x) ({						\
	__typeof__(x) ___v;					\
	__atomic_load(&(x), &___v, __ATOMIC_RELAXED);		\
	___v;							\
})
#define WRITE_ONCE(x, val) do {					\
	__typeof__(x) ___v = (val);				\
	__atomic_store(&(x), &___v, __ATOMIC_RELAXED);		\
} while (0)

/* ------------------------------------------------------------------ */
/*
 * Atomics (Documentation/atomic_t.txt semantics): plain reads/sets and
 * void RMWs are relaxed, value-returning and conditional RMWs are fully
 * ordered (SEQ_CST here), _release/_acquire as named.  __atomic builtins
 * only, never x86 asm, so ThreadSanitizer sees every access.
 *
 * HARNESS_NO_FASTPATH compiles the DPAMT lock-free fast paths out:
 * atomic_add_unless() (and so atomic_inc_not_zero()) never succeeds when
 * no spinlock is held, which is a legal behaviour for a caller that must
 * handle the count being at the excluded value, so every get takes
 * pamt_lock (where the re-check works as usual) and every put goes through
 * its last-reference path.
 */
/*
 * Preemption injection: with harness_preempt_ppm set, every atomic op and
 * lock acquisition may yield the CPU first, which widens race windows
 * between a check and the action that depends on it.
 */
extern unsigned int harness_preempt_ppm;
void harness_preempt(void);

static inline void harness_preempt_point(void)
{
#ifndef HARNESS_BENCH
	if (__builtin_expect(__atomic_load_n(&harness_preempt_ppm, __ATOMIC_RELAXED), 0))
		harness_preempt();
#endif
}

typedef struct { int counter; } atomic_t;
typedef struct { s64 counter; } atomic64_t;
#define ATOMIC_INIT(i) { (i) }

static inline int atomic_read(const atomic_t *v)
{
	harness_preempt_point();
	return __atomic_load_n(&v->counter, __ATOMIC_RELAXED);
}

static inline int atomic_read_acquire(const atomic_t *v)
{
	return __atomic_load_n(&v->counter, __ATOMIC_ACQUIRE);
}

static inline void atomic_set(atomic_t *v, int i)
{
	harness_preempt_point();
	__atomic_store_n(&v->counter, i, __ATOMIC_RELAXED);
}

static inline void atomic_set_release(atomic_t *v, int i)
{
	harness_preempt_point();
	__atomic_store_n(&v->counter, i, __ATOMIC_RELEASE);
}

static inline void atomic_inc(atomic_t *v)
{
	harness_preempt_point();
	__atomic_fetch_add(&v->counter, 1, __ATOMIC_RELAXED);
}

static inline void atomic_dec(atomic_t *v)
{
	harness_preempt_point();
	__atomic_fetch_sub(&v->counter, 1, __ATOMIC_RELAXED);
}

static inline int atomic_inc_return(atomic_t *v)
{
	return __atomic_add_fetch(&v->counter, 1, __ATOMIC_SEQ_CST);
}

static inline int atomic_dec_return(atomic_t *v)
{
	return __atomic_sub_fetch(&v->counter, 1, __ATOMIC_SEQ_CST);
}

static inline bool atomic_dec_and_test(atomic_t *v)
{
	harness_preempt_point();
	return __atomic_sub_fetch(&v->counter, 1, __ATOMIC_SEQ_CST) == 0;
}

static inline bool atomic_try_cmpxchg(atomic_t *v, int *old, int new)
{
	harness_preempt_point();
	return __atomic_compare_exchange_n(&v->counter, old, new, false,
					   __ATOMIC_SEQ_CST, __ATOMIC_RELAXED);
}

static inline int atomic_cmpxchg(atomic_t *v, int old, int new)
{
	__atomic_compare_exchange_n(&v->counter, &old, new, false,
				    __ATOMIC_SEQ_CST, __ATOMIC_RELAXED);
	return old;
}

int harness_locks_held(void);

static inline bool atomic_add_unless(atomic_t *v, int a, int u)
{
	int c;

#ifdef HARNESS_NO_FASTPATH
	/* only the lock-free uses: the re-check under pamt_lock stays */
	if (!harness_locks_held())
		return false;
#endif
	c = atomic_read(v);

	harness_preempt_point();
	do {
		if (c == u)
			return false;
	} while (!__atomic_compare_exchange_n(&v->counter, &c, c + a, false,
					      __ATOMIC_SEQ_CST, __ATOMIC_RELAXED));
	return true;
}

static inline bool atomic_inc_not_zero(atomic_t *v)
{
	return atomic_add_unless(v, 1, 0);
}

typedef struct { long counter; } atomic_long_t;

static inline long atomic_long_read(const atomic_long_t *v)
{
	return __atomic_load_n(&v->counter, __ATOMIC_RELAXED);
}

static inline void atomic_long_set(atomic_long_t *v, long i)
{
	__atomic_store_n(&v->counter, i, __ATOMIC_RELAXED);
}

static inline void atomic_long_add(long i, atomic_long_t *v)
{
	__atomic_fetch_add(&v->counter, i, __ATOMIC_RELAXED);
}

static inline void atomic_long_sub(long i, atomic_long_t *v)
{
	__atomic_fetch_sub(&v->counter, i, __ATOMIC_RELAXED);
}

#define atomic_long_inc(v)	atomic_long_add(1, v)
#define atomic_long_dec(v)	atomic_long_sub(1, v)

static inline long atomic_long_add_return(long i, atomic_long_t *v)
{
	return __atomic_add_fetch(&v->counter, i, __ATOMIC_SEQ_CST);
}

#define smp_store_release(p, v)	__atomic_store_n(p, v, __ATOMIC_RELEASE)
#define smp_load_acquire(p)	__atomic_load_n(p, __ATOMIC_ACQUIRE)

static inline s64 atomic64_read(const atomic64_t *v)
{
	return __atomic_load_n(&v->counter, __ATOMIC_RELAXED);
}

static inline void atomic64_set(atomic64_t *v, s64 i)
{
	__atomic_store_n(&v->counter, i, __ATOMIC_RELAXED);
}

static inline void atomic64_add(s64 i, atomic64_t *v)
{
	__atomic_fetch_add(&v->counter, i, __ATOMIC_RELAXED);
}

static inline void atomic64_sub(s64 i, atomic64_t *v)
{
	__atomic_fetch_sub(&v->counter, i, __ATOMIC_RELAXED);
}

/* ------------------------------------------------------------------ */
/* WARN*: counted (every hit, not only the first), printed once a site. */

void harness_warn(const char *file, int line, const char *what);

#define __HARNESS_WARN(cond, what) ({					\
	bool __w = !!(cond);						\
	if (__builtin_expect(__w, 0))					\
		harness_warn(__FILE__, __LINE__, what);			\
	__w;								\
})
#define WARN_ON(cond)			__HARNESS_WARN(cond, #cond)
#define WARN_ON_ONCE(cond)		__HARNESS_WARN(cond, #cond)
#define WARN(cond, fmt, ...)		__HARNESS_WARN(cond, fmt)
#define WARN_ONCE(cond, fmt, ...)	__HARNESS_WARN(cond, fmt)
#define BUG_ON(cond) do { if (cond) { harness_warn(__FILE__, __LINE__, "BUG: " #cond); abort(); } } while (0)

void harness_printk(const char *level, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
#define pr_err(fmt, ...)	harness_printk("err", pr_fmt(fmt), ##__VA_ARGS__)
#define pr_warn(fmt, ...)	harness_printk("warn", pr_fmt(fmt), ##__VA_ARGS__)
#define pr_info(fmt, ...)	harness_printk("info", pr_fmt(fmt), ##__VA_ARGS__)
#define pr_debug(fmt, ...)	do { } while (0)
#define pr_err_ratelimited	pr_err
#define pr_warn_ratelimited	pr_warn
#define pr_warn_once		pr_warn
#define pr_info_ratelimited	pr_info

/* ------------------------------------------------------------------ */
/*
 * Spinlocks: a pthread mutex plus the owner, for lockdep_assert_held(),
 * recursion detection and a small lockdep-like irq-safety check: a lock
 * taken in (simulated) softirq context must never be taken with
 * interrupts enabled elsewhere.
 */
typedef struct spinlock {
	pthread_mutex_t mutex;
	unsigned long owner;		/* pthread_self() of the holder, 0 */
	const char *name;
	int used_in_softirq;		/* taken from softirq/RCU context  */
	int used_softirq_unsafe;	/* taken with irqs/softirqs enabled */
} spinlock_t;
typedef spinlock_t raw_spinlock_t;

#define __SPIN_LOCK_UNLOCKED(lockname) \
	{ .mutex = PTHREAD_MUTEX_INITIALIZER, .owner = 0, .name = #lockname }
#define DEFINE_SPINLOCK(x)	spinlock_t x = __SPIN_LOCK_UNLOCKED(x)
#define DEFINE_RAW_SPINLOCK(x)	DEFINE_SPINLOCK(x)

void harness_spin_lock(spinlock_t *lock, bool irqsave);
void harness_spin_unlock(spinlock_t *lock, bool irqrestore);
void harness_lockdep_assert_held(spinlock_t *lock, const char *file, int line);

static inline void spin_lock_init(spinlock_t *lock)
{
	pthread_mutex_init(&lock->mutex, NULL);
	lock->owner = 0;
	lock->name = "dynamic";
	lock->used_in_softirq = lock->used_softirq_unsafe = 0;
}

#define spin_lock(l)			harness_spin_lock(l, false)
#define spin_unlock(l)			harness_spin_unlock(l, false)
#define spin_lock_irqsave(l, f)		do { (f) = 0; harness_spin_lock(l, true); } while (0)
#define spin_unlock_irqrestore(l, f)	do { (void)(f); harness_spin_unlock(l, true); } while (0)
#define spin_lock_irq(l)		harness_spin_lock(l, true)
#define spin_unlock_irq(l)		harness_spin_unlock(l, true)
#define raw_spin_lock			spin_lock
#define raw_spin_unlock			spin_unlock
#define raw_spin_lock_irqsave		spin_lock_irqsave
#define raw_spin_unlock_irqrestore	spin_unlock_irqrestore
#ifndef HARNESS_NO_LOCK_OWNER_CHECK
#define lockdep_assert_held(l)		harness_lockdep_assert_held(l, __FILE__, __LINE__)
#else
/* a mutant with locks of its own: the module model alone must catch it */
#define lockdep_assert_held(l)		do { } while (0)
#endif
#define lockdep_is_held(l)		((l)->owner == (unsigned long)pthread_self())

/* A point where the kernel may reschedule: one more preemption point. */
#define cond_resched()			harness_preempt_point()

/* ------------------------------------------------------------------ */
/*
 * RCU.  Readers take a shared pthread rwlock; synchronize_rcu() and the
 * reclaim behind kfree_rcu() take it exclusively, i.e. wait until every
 * reader that could see an object is gone before it is freed (ASan then
 * reports any reader that keeps using it).
 */
struct rcu_head {
	struct rcu_head *next;
};

void rcu_read_lock(void);
void rcu_read_unlock(void);
void synchronize_rcu(void);
void rcu_barrier(void);
void harness_kfree_rcu(void *obj, struct rcu_head *head);
#define kfree_rcu(ptr, field)	harness_kfree_rcu(ptr, &(ptr)->field)

/*
 * A slow reader (harness_rcu_slow_reader()) stalls at every dereference,
 * so that an object freed without waiting for readers is freed under it.
 */
extern __thread unsigned int harness_rcu_stall_us;
void harness_rcu_stall(void);
#define rcu_dereference_raw(p) ({					\
	__typeof__(p) ___p = __atomic_load_n(&(p), __ATOMIC_CONSUME);	\
	if (__builtin_expect(harness_rcu_stall_us, 0))			\
		harness_rcu_stall();					\
	___p;								\
})
#define rcu_assign_pointer(p, v) __atomic_store_n(&(p), (v), __ATOMIC_RELEASE)

/* include/linux/rculist.h: hlist with lockless readers */
#define hlist_entry(ptr, type, member)	container_of(ptr, type, member)
#define hlist_entry_safe(ptr, type, member) ({				\
	__typeof__(ptr) ____ptr = (ptr);				\
	____ptr ? hlist_entry(____ptr, type, member) : NULL;		\
})

static inline void hlist_add_head_rcu(struct hlist_node *n, struct hlist_head *h)
{
	struct hlist_node *first = h->first;

	n->next = first;
	n->pprev = &h->first;
	if (first)
		first->pprev = &n->next;
	rcu_assign_pointer(h->first, n);
}

static inline void hlist_del_rcu(struct hlist_node *n)
{
	struct hlist_node *next = n->next;

	__atomic_store_n(n->pprev, next, __ATOMIC_RELAXED);
	if (next)
		next->pprev = n->pprev;
	n->pprev = (struct hlist_node **)0x122;
}

#define hlist_for_each_entry_rcu(pos, head, member, ...)		\
	for (pos = hlist_entry_safe(rcu_dereference_raw((head)->first),	\
				    __typeof__(*(pos)), member);	\
	     pos;							\
	     pos = hlist_entry_safe(rcu_dereference_raw((pos)->member.next), \
				    __typeof__(*(pos)), member))

#define hlist_for_each_entry_safe(pos, n, head, member)			\
	for (pos = hlist_entry_safe((head)->first, __typeof__(*(pos)), member); \
	     pos && ({ n = pos->member.next; 1; });			\
	     pos = hlist_entry_safe(n, __typeof__(*(pos)), member))

/* ------------------------------------------------------------------ */
/* Bitmaps: atomic bit operations as the kernel's (x86: fully ordered). */

static inline void set_bit(long nr, unsigned long *addr)
{
	harness_preempt_point();
	__atomic_fetch_or(&addr[nr / BITS_PER_LONG], 1UL << (nr % BITS_PER_LONG),
			  __ATOMIC_SEQ_CST);
}

static inline void clear_bit(long nr, unsigned long *addr)
{
	__atomic_fetch_and(&addr[nr / BITS_PER_LONG], ~(1UL << (nr % BITS_PER_LONG)),
			   __ATOMIC_SEQ_CST);
}

static inline bool test_bit(long nr, const unsigned long *addr)
{
	return (__atomic_load_n(&addr[nr / BITS_PER_LONG], __ATOMIC_RELAXED) >>
		(nr % BITS_PER_LONG)) & 1;
}

static inline bool test_and_clear_bit(long nr, unsigned long *addr)
{
	unsigned long mask = 1UL << (nr % BITS_PER_LONG);

	harness_preempt_point();
	return __atomic_fetch_and(&addr[nr / BITS_PER_LONG], ~mask,
				  __ATOMIC_SEQ_CST) & mask;
}

static inline unsigned long find_next_bit(const unsigned long *addr,
					  unsigned long size, unsigned long off)
{
	for (; off < size; off++)
		if (test_bit(off, addr))
			return off;
	return size;
}

#define for_each_set_bit(bit, addr, size)				\
	for ((bit) = find_next_bit((addr), (size), 0);			\
	     (bit) < (size);						\
	     (bit) = find_next_bit((addr), (size), (bit) + 1))

static inline bool bitmap_empty(const unsigned long *addr, unsigned long nbits)
{
	return find_next_bit(addr, nbits, 0) == nbits;
}

static inline unsigned int bitmap_weight(const unsigned long *addr,
					 unsigned long nbits)
{
	unsigned int w = 0;
	unsigned long i;

	for (i = 0; i < nbits; i++)
		w += test_bit(i, addr);
	return w;
}

unsigned long *bitmap_zalloc(unsigned long nbits, gfp_t gfp);
void bitmap_free(const unsigned long *bitmap);

/* ------------------------------------------------------------------ */
/*
 * Workqueues: each delayed_work has a worker thread of its own (started
 * on first use).  In "manual" mode (harness_work_manual(true), the
 * default for single-threaded tests) nothing runs by itself: queued work
 * runs when the test flushes it, so a test can observe the state between
 * a put and the removal behind it.  Delays are not modelled: queued work
 * is due at once.
 */
struct work_struct;
typedef void (*work_func_t)(struct work_struct *work);

struct work_struct {
	work_func_t func;
};

struct delayed_work {
	struct work_struct work;
	/* harness */
	pthread_mutex_t mutex;
	pthread_cond_t cond;
	bool pending, running, started, stop;
	unsigned long runs;
	pthread_t thread;
};

#define DECLARE_DELAYED_WORK(n, f)					\
	struct delayed_work n = {					\
		.work = { .func = (f) },				\
		.mutex = PTHREAD_MUTEX_INITIALIZER,			\
		.cond = PTHREAD_COND_INITIALIZER,			\
	}

struct workqueue_struct;
extern struct workqueue_struct *system_dfl_wq;

bool queue_delayed_work(struct workqueue_struct *wq, struct delayed_work *dw,
			unsigned long delay);
bool mod_delayed_work(struct workqueue_struct *wq, struct delayed_work *dw,
		      unsigned long delay);
bool flush_delayed_work(struct delayed_work *dw);
bool cancel_delayed_work_sync(struct delayed_work *dw);
void harness_work_manual(bool manual);
/* stop and join every worker thread (end of a test) */
void harness_work_stop(struct delayed_work *dw);

#define HZ 1000

/* ------------------------------------------------------------------ */
/* Caches: a hook, so the tests (and the module model) see every flush. */
void clflush_cache_range(void *addr, unsigned int size);

/* ------------------------------------------------------------------ */
/* GFP flags (the bits that matter here). */
#define __GFP_HIGH		0x20u
#define __GFP_IO		0x40u
#define __GFP_FS		0x80u
#define __GFP_ZERO		0x100u
#define __GFP_DIRECT_RECLAIM	0x400u
#define __GFP_KSWAPD_RECLAIM	0x800u
#define __GFP_NOWARN		0x2000u
#define __GFP_ACCOUNT		0x400000u
#define __GFP_RECLAIM		(__GFP_DIRECT_RECLAIM | __GFP_KSWAPD_RECLAIM)
#define GFP_KERNEL		(__GFP_RECLAIM | __GFP_IO | __GFP_FS)
#define GFP_KERNEL_ACCOUNT	(GFP_KERNEL | __GFP_ACCOUNT)
#define GFP_ATOMIC		(__GFP_HIGH | __GFP_KSWAPD_RECLAIM)
#define GFP_NOWAIT		(__GFP_KSWAPD_RECLAIM | __GFP_NOWARN)

/* ------------------------------------------------------------------ */
/*
 * Fake physical memory: a struct page array ("mem_map") over a fake
 * physical range [fake_base_pfn, fake_end_pfn).  Memory for the pages is
 * one MAP_NORESERVE mapping, so page_address() works; freed pages are
 * poisoned under ASan.
 */
enum harness_page_state {
	HP_FREE,	/* in the fake page allocator                         */
	HP_KERNEL,	/* allocated by alloc_page*() (pamt.c or the harness) */
	HP_TD,		/* claimed by the harness as a TD/guest 4K page        */
	HP_RESERVED,	/* never allocatable (TD-page part of a region)        */
};

struct page {
	unsigned long flags;
	unsigned long private;
	struct list_head lru;
	/* harness-only */
	int hstate;		/* enum harness_page_state, atomic        */
	int nid;
	unsigned int free_idx;	/* position in its node's free stack     */
};

extern struct page *fake_mem_map;
extern unsigned long fake_base_pfn, fake_end_pfn;
extern char *fake_mem;

#define NUMA_NO_NODE	(-1)

static inline bool pfn_valid(unsigned long pfn)
{
	return pfn >= fake_base_pfn && pfn < fake_end_pfn;
}

static inline struct page *pfn_to_page(unsigned long pfn)
{
	if (!pfn_valid(pfn)) {
		harness_warn(__FILE__, __LINE__, "pfn_to_page() of an invalid pfn");
		abort();
	}
	return &fake_mem_map[pfn - fake_base_pfn];
}

static inline unsigned long page_to_pfn(const struct page *page)
{
	return fake_base_pfn + (unsigned long)(page - fake_mem_map);
}

static inline phys_addr_t page_to_phys(const struct page *page)
{
	return PFN_PHYS(page_to_pfn(page));
}

static inline void *page_address(const struct page *page)
{
	return fake_mem + (size_t)(page - fake_mem_map) * PAGE_SIZE;
}

static inline int pfn_to_nid(unsigned long pfn)
{
	return pfn_to_page(pfn)->nid;
}

static inline int page_to_nid(const struct page *page)
{
	return page->nid;
}

#define page_private(page)		((page)->private)
#define set_page_private(page, v)	((page)->private = (v))

struct page *alloc_pages_node(int nid, gfp_t gfp, unsigned int order);
void __free_pages(struct page *page, unsigned int order);
#define alloc_pages(gfp, order)	alloc_pages_node(NUMA_NO_NODE, gfp, order)
#define alloc_page(gfp)		alloc_pages_node(NUMA_NO_NODE, gfp, 0)
#define __free_page(page)	__free_pages(page, 0)

void *kmalloc(size_t size, gfp_t gfp);
void *kzalloc(size_t size, gfp_t gfp);
void *kzalloc_node(size_t size, gfp_t gfp, int nid);
void *kvzalloc(size_t size, gfp_t gfp);
void kvfree(const void *p);
/* checks, like lockdep and might_sleep(), that @gfp fits the context */
#ifndef HARNESS_BENCH
void might_alloc(gfp_t gfp);
#else
static inline void might_alloc(gfp_t gfp) { (void)gfp; }
#endif
void kfree(const void *p);
void *vzalloc(unsigned long size);
void *vmalloc(unsigned long size);
void vfree(const void *p);
#define kzalloc_obj(P, ...) ((__typeof__(P) *)kzalloc(sizeof(__typeof__(P)), ##__VA_ARGS__))
#define kmalloc_obj(P, ...) ((__typeof__(P) *)kmalloc(sizeof(__typeof__(P)), ##__VA_ARGS__))

#endif /* DPAMT_HARNESS_CUSTOM_H */
