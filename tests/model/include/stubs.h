/* SPDX-License-Identifier: GPL-2.0 */
/*
 * stubs.h - kernel facilities that are no-ops (or trivial) in userspace.
 */
#ifndef DPAMT_HARNESS_STUBS_H
#define DPAMT_HARNESS_STUBS_H

#define EXPORT_SYMBOL(sym)
#define EXPORT_SYMBOL_GPL(sym)
#define EXPORT_SYMBOL_FOR_KVM(sym)
#define EXPORT_SYMBOL_FOR_MODULES(sym, mods)

/* The harness is what CONFIG_KUNIT would be for the kernel. */
#define CONFIG_KUNIT 1
#define IS_ENABLED(x) (x)
#define VISIBLE_IF_KUNIT
#define KUNIT_STATIC_STUB_REDIRECT(fn, ...) do { } while (0)
#define EXPORT_SYMBOL_IF_KUNIT(sym)

/*
 * pamt.c runs its removal work on behalf of a KUnit test that set itself
 * with tdx_pamt_set_kunit_test(); the harness never does, but the code
 * reads and restores current->kunit_test around the work.
 */
struct kunit;
struct task_struct {
	struct kunit *kunit_test;
};
extern __thread struct task_struct harness_current_task;
#define current (&harness_current_task)

#define noinline __attribute__((noinline))
#define __init
#define __exit
#define __ro_after_init
#define __read_mostly
#define __must_check __attribute__((warn_unused_result))
#define __always_unused __attribute__((unused))
#define __maybe_unused __attribute__((unused))
#define __cond_acquires(...)
#define __acquires(x)
#define __releases(x)
#define __must_hold(x)

#define might_sleep() do { } while (0)
#define preempt_disable() do { } while (0)
#define preempt_enable() do { } while (0)

#define cpu_relax() __asm__ __volatile__("pause" ::: "memory")

/* as in include/linux/printk.h; harness.c drops it before pamt.c sets its own */
#ifndef pr_fmt
#define pr_fmt(fmt) fmt
#endif

#endif /* DPAMT_HARNESS_STUBS_H */
