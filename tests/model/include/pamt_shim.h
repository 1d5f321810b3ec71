/* SPDX-License-Identifier: GPL-2.0 */
/*
 * pamt_shim.h - the one seam between the real arch/x86/virt/vmx/tdx/pamt.c
 * and this userspace harness (the tools/testing/vma pattern).
 *
 * It uses the include guard of the kernel's arch/x86/virt/vmx/tdx/pamt.h.
 * harness.c includes this file first and then pamt.c; pamt.c's
 * '#include "pamt.h"' then expands to nothing, and everything pamt.c needs
 * from the kernel comes from here instead:
 *
 *   stubs.h   kernel facilities that become no-ops in userspace
 *   dup.h     definitions copied from kernel headers (asm/tdx.h, list.h,
 *             the prototypes of pamt.h), unchanged in meaning
 *   custom.h  kernel facilities re-implemented for testing: atomics with
 *             __atomic builtins (visible to ThreadSanitizer), spinlocks as
 *             pthread mutexes with an owner for lockdep_assert_held(), a
 *             fake struct page array and page allocator with allocation
 *             counting and fail-on-Nth injection, WARN counting
 *
 * The TDX module's status codes are not copied: the kernel's own
 * asm/shared/tdx_errno.h is included by path (LINUX_TDX_ERRNO_H, set by
 * the Makefile from LINUX=).
 */
#ifndef _X86_VIRT_TDX_PAMT_H
#define _X86_VIRT_TDX_PAMT_H

#include <errno.h>
#include <limits.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <pthread.h>

#ifndef LINUX_TDX_ERRNO_H
#error "build with -DLINUX_TDX_ERRNO_H='\"<linux tree>/arch/x86/include/asm/shared/tdx_errno.h\"'"
#endif
#include LINUX_TDX_ERRNO_H

#include "stubs.h"
#include "dup.h"
#include "custom.h"

#endif /* _X86_VIRT_TDX_PAMT_H */
