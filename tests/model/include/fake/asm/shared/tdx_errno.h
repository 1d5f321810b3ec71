/* SPDX-License-Identifier: GPL-2.0 */
/* Stands in for <asm/shared/tdx_errno.h>: the fake kernel provides it, see fake_kernel.h. */
#include "fake_kernel.h"
