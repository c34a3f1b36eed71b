/* SPDX-License-Identifier: MIT
 *
 * random_inputs.h — the seeded random pixel_values of `vitc bench` and
 * `vitc compare`: one platform-independent stream (splitmix64), so a seed
 * names the same images in both commands and on every machine. CLI layer.
 */
#ifndef VITC_CLI_RANDOM_INPUTS_H
#define VITC_CLI_RANDOM_INPUTS_H

#include <stddef.h>
#include <stdint.h>

/* Fills x with n values uniform in [-1, 1), continuing the stream whose
 * state starts as the seed. Each value has 24 random bits, so it is an
 * exact float. */
void cli_fill_uniform(float *x, size_t n, uint64_t *state);

#endif /* VITC_CLI_RANDOM_INPUTS_H */
