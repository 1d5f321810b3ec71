/* SPDX-License-Identifier: GPL-2.0 */
/* Used only to compile the real lib/dec_and_lock.c: everything is in the shim. */
#include "../../pamt_shim.h"
