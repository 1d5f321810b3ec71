/* SPDX-License-Identifier: GPL-2.0 */
/*
 * xorshift64: the small, fast, seedable generator behind every random
 * choice of the harness and of the TDX module model (one state per thread
 * in each, so runs repeat for a given seed).
 */
#ifndef TDX_DPAMT_MODEL_RNG_H
#define TDX_DPAMT_MODEL_RNG_H

#include <stdint.h>

static inline uint64_t xorshift64_next(uint64_t *state)
{
	uint64_t x = *state;

	x ^= x << 13;
	x ^= x >> 7;
	x ^= x << 17;
	*state = x;
	return x;
}

#endif
