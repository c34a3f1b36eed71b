/* SPDX-License-Identifier: MIT
 *
 * pos_interp.h — a position-embedding table resized to another patch grid
 * as transformers 4.40.2 does it (ViT's interpolate_pos_encoding, DINOv2's
 * embeddings): PyTorch's bicubic interpolation called with a scale factor.
 * Model layer: pure arithmetic on host floats, done once at load.
 */
#ifndef VITC_POS_INTERP_H
#define VITC_POS_INTERP_H

#include <stddef.h>

/* table: (n_prefix + N*N, D), the prefix rows (CLS ...) then an N x N grid
 * row-major; out: (n_prefix + gh*gw, D). The prefix rows are copied; the
 * grid is resized by torch.nn.functional.interpolate(mode="bicubic",
 * align_corners=False, scale_factor=((gh + 0.1) / N, (gw + 0.1) / N)):
 * output row y reads source src = (y + 0.5) / factor - 0.5 (not clamped),
 * taps floor(src) - 1 .. + 2 clamped to the grid, cubic weights with
 * A = -0.75. */
void vitc_pos_interpolate(const float *table, size_t n_prefix, size_t N, size_t D, size_t gh,
                          size_t gw, float *out);

#endif /* VITC_POS_INTERP_H */
