/* SPDX-License-Identifier: MIT
 *
 * random_inputs.c — the seeded input stream of bench and compare. CLI layer.
 */
#include "random_inputs.h"

/* splitmix64 (Steele, Lea and Flood): small, fast and the same everywhere. */
static uint64_t splitmix64(uint64_t *state)
{
    uint64_t z = (*state += 0x9e3779b97f4a7c15u);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9u;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebu;
    return z ^ (z >> 31);
}

void cli_fill_uniform(float *x, size_t n, uint64_t *state)
{
    for (size_t i = 0; i < n; i++) {
        x[i] = (float)((double)(splitmix64(state) >> 40) / (double)(1u << 23) - 1.0);
    }
}
