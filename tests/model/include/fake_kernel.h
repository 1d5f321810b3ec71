/* SPDX-License-Identifier: GPL-2.0 */
/*
 * fake_kernel.h - the kernel that the REAL arch/x86/virt/vmx/tdx/pamt.c
 * is compiled against in userspace (the tools/testing/vma pattern).
 *
 * pamt.c includes ordinary kernel headers; the build puts include/fake/
 * first on the include path, where every one of them is a one-line file
 * that includes this one.  pamt.c's own "pamt.h" is the kernel's, found
 * next to pamt.c.  What pamt.c uses comes from:
 *
 *   stubs.h   kernel facilities that become no-ops in userspace
 *   dup.h     definitions copied from kernel headers (asm/tdx.h, list.h,
 *             sizes, ...), unchanged in meaning
 *   custom.h  kernel facilities re-implemented for testing: atomics with
 *             __atomic builtins (visible to ThreadSanitizer), spinlocks
 *             with an owner, RCU, a workqueue, a fake struct page array
 *             and page allocator with fault injection, WARN counting
 *
 * The TDX module's status codes are not copied: the kernel's own
 * asm/shared/tdx_errno.h is included by path (LINUX_TDX_ERRNO_H, set by
 * the Makefile from LINUX=).
 */
#ifndef DPAMT_FAKE_KERNEL_H
#define DPAMT_FAKE_KERNEL_H

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

#endif /* DPAMT_FAKE_KERNEL_H */
