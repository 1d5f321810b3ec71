/* SPDX-License-Identifier: GPL-2.0 */
/* Stands in for <linux/cacheflush.h>: the fake kernel provides it, see fake_kernel.h. */
#include "fake_kernel.h"
