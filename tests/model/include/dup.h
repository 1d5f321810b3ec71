/* SPDX-License-Identifier: GPL-2.0 */
/*
 * dup.h - definitions copied from kernel headers, unchanged in meaning.
 *
 * Keep in sync with:
 *   arch/x86/include/asm/tdx.h        (DPAMT API: structs, prototypes)
 *   arch/x86/include/asm/shared/tdx.h (TDX_PS_2M)
 *   include/linux/list.h, hash.h, log2.h, sizes.h, pfn.h, align.h,
 *   math.h, minmax.h
 * pamt.h is the kernel's own (pamt.c includes it from its directory).
 * A mismatch in a prototype is a compile error in harness.c (the real
 * definitions in pamt.c are checked against these declarations).
 */
#ifndef DPAMT_HARNESS_DUP_H
#define DPAMT_HARNESS_DUP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef uint8_t u8;
typedef uint16_t u16;
typedef uint32_t u32;
typedef unsigned long long u64;
typedef long long s64;
typedef int32_t s32;
typedef u64 phys_addr_t;
typedef unsigned int gfp_t;

/* include/linux/sizes.h, pfn.h, align.h, math.h, minmax.h, overflow.h */
#define SZ_4K			0x00001000
#define SZ_2M			0x00200000
#define SZ_1G			0x40000000
#define BITS_PER_BYTE		8
#define PAGE_SHIFT		12
#define PAGE_SIZE		(1UL << PAGE_SHIFT)
#define PAGE_MASK		(~(PAGE_SIZE - 1))
#define PFN_PHYS(x)		((phys_addr_t)(x) << PAGE_SHIFT)
#define PHYS_PFN(x)		((unsigned long)((x) >> PAGE_SHIFT))
#define __ALIGN_KERNEL_MASK(x, mask)	(((x) + (mask)) & ~(mask))
#define ALIGN(x, a)		__ALIGN_KERNEL_MASK(x, (__typeof__(x))(a) - 1)
#define ALIGN_DOWN(x, a)	ALIGN((x) - ((a) - 1), (a))
#define PAGE_ALIGN(addr)	ALIGN(addr, PAGE_SIZE)
#define DIV_ROUND_UP(n, d)	(((n) + (d) - 1) / (d))
#define DIV_ROUND_UP_ULL(ll, d)	DIV_ROUND_UP((unsigned long long)(ll), (d))
#define max(a, b)		({ __typeof__(a) _a = (a); __typeof__(b) _b = (b); _a > _b ? _a : _b; })
#define min(a, b)		({ __typeof__(a) _a = (a); __typeof__(b) _b = (b); _a < _b ? _a : _b; })
#define array_size(a, b)	((size_t)(a) * (size_t)(b))
#define ARRAY_SIZE(a)		(sizeof(a) / sizeof((a)[0]))
#define BIT(n)			(1UL << (n))
#define BIT_ULL(n)		(1ULL << (n))
#define BUILD_BUG_ON(cond)	_Static_assert(!(cond), "BUILD_BUG_ON(" #cond ")")
#ifndef static_assert
#define static_assert(expr, ...) _Static_assert(expr, #expr)
#endif
#define container_of(ptr, type, member) \
	((type *)((char *)(ptr) - offsetof(type, member)))

/* arch/x86/include/asm/tdx.h, asm/shared/tdx.h */
#define TDX_SUCCESS		0ULL
#define TDX_PS_4K		0
#define TDX_PS_2M		1
#define TDX_PS_1G		2

/* include/linux/list.h (the subset pamt.c uses) */
struct list_head {
	struct list_head *next, *prev;
};

#define LIST_HEAD_INIT(name) { &(name), &(name) }
#define LIST_HEAD(name) struct list_head name = LIST_HEAD_INIT(name)

static inline void INIT_LIST_HEAD(struct list_head *list)
{
	list->next = list;
	list->prev = list;
}

static inline void __list_add(struct list_head *new, struct list_head *prev,
			      struct list_head *next)
{
	next->prev = new;
	new->next = next;
	new->prev = prev;
	prev->next = new;
}

static inline void list_add(struct list_head *new, struct list_head *head)
{
	__list_add(new, head, head->next);
}

static inline void list_add_tail(struct list_head *new, struct list_head *head)
{
	__list_add(new, head->prev, head);
}

#define LIST_POISON1 ((struct list_head *)0x100)
#define LIST_POISON2 ((struct list_head *)0x122)

static inline void list_del(struct list_head *entry)
{
	entry->next->prev = entry->prev;
	entry->prev->next = entry->next;
	entry->next = LIST_POISON1;
	entry->prev = LIST_POISON2;
}

static inline int list_empty(const struct list_head *head)
{
	return head->next == head;
}

#define list_entry(ptr, type, member) container_of(ptr, type, member)
#define list_first_entry(ptr, type, member) list_entry((ptr)->next, type, member)
#define list_next_entry(pos, member) \
	list_entry((pos)->member.next, __typeof__(*(pos)), member)
#define list_for_each_entry_safe(pos, n, head, member)			\
	for (pos = list_first_entry(head, __typeof__(*pos), member),	\
	     n = list_next_entry(pos, member);				\
	     &pos->member != (head);					\
	     pos = n, n = list_next_entry(n, member))

/* include/linux/list.h, types.h: hlist (the subset pamt.c uses) */
struct hlist_head {
	struct hlist_node *first;
};

struct hlist_node {
	struct hlist_node *next, **pprev;
};

#define list_first_entry_or_null(ptr, type, member) ({			\
	struct list_head *head__ = (ptr);				\
	struct list_head *pos__ = head__->next;				\
	pos__ != head__ ? list_entry(pos__, type, member) : NULL;	\
})

/* include/linux/hash.h */
#define GOLDEN_RATIO_64 0x61C8864680B583EBull
static inline uint64_t hash_long(uint64_t val, unsigned int bits)
{
	return val * GOLDEN_RATIO_64 >> (64 - bits);
}

/* include/linux/log2.h */
#define ilog2(n)		((unsigned int)(63 - __builtin_clzl((unsigned long)(n))))
#define roundup_pow_of_two(n)	((n) <= 1 ? 1UL : 1UL << (ilog2((n) - 1) + 1))

/* include/linux/bitops.h, bitmap.h (sizes only; operations in custom.h) */
#define BITS_PER_LONG		64
#define BITS_TO_LONGS(nr)	DIV_ROUND_UP(nr, BITS_PER_LONG)

/* arch/x86/include/asm/tdx.h */
#define TDX_FEATURES0_DYNAMIC_PAMT	BIT_ULL(36)

/* arch/x86/include/asm/tdx.h: the DPAMT API */
#define TDX_DPAMT_PAIR_PAGES	2

struct tdx_pamt_cache {
	struct list_head pairs;
	int nr;
};

enum tdx_pamt_mode {
	TDX_PAMT_MODE_NONE,	/* TDX module not initialised */
	TDX_PAMT_MODE_STATIC,
	TDX_PAMT_MODE_DYNAMIC,
};

struct tdx_pamt_stats {
	enum tdx_pamt_mode mode;
	u64 static_bytes;
	u64 static_equivalent_bytes;
	u64 dynamic_bytes;
	u64 metadata_bytes;
	u64 leaked_bytes;
};

struct page;

bool tdx_dynamic_pamt_enabled(void);
int tdx_pamt_get(unsigned long pfn, gfp_t gfp, unsigned long charge);
int tdx_pamt_get_cached(unsigned long pfn, struct tdx_pamt_cache *cache,
			unsigned long charge);
unsigned long tdx_pamt_put(unsigned long pfn);
void tdx_pamt_cache_init(struct tdx_pamt_cache *cache);
int tdx_pamt_cache_topup(struct tdx_pamt_cache *cache, int nr_pairs, gfp_t gfp);
void tdx_pamt_cache_free(struct tdx_pamt_cache *cache);
void tdx_pamt_get_stats(struct tdx_pamt_stats *stats);

void tdx_quirk_reset_paddr(unsigned long base, unsigned long size);

#endif /* DPAMT_HARNESS_DUP_H */
