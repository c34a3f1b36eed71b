/* SPDX-License-Identifier: MIT
 *
 * pos_interp.c — PyTorch's upsample_bicubic2d (aten/src/ATen/native/
 * UpSample.h, CPU, float) on a position-embedding grid, with the scale
 * factor transformers 4.40.2 passes. Model layer: host arithmetic at load.
 */
#include "model/pos_interp.h"

#include <math.h>
#include <string.h>

/* upsample_get_cubic_coefficients, A = -0.75 (PyTorch's, not Pillow's -0.5). */
static void cubic_weights(float t, float w[4])
{
    const float A = -0.75f;
    float x1 = t + 1.0f, x2 = 1.0f - t, x3 = 2.0f - t;
    w[0] = ((A * x1 - 5.0f * A) * x1 + 8.0f * A) * x1 - 4.0f * A;
    w[1] = ((A + 2.0f) * t - (A + 3.0f)) * t * t + 1.0f;
    w[2] = ((A + 2.0f) * x2 - (A + 3.0f)) * x2 * x2 + 1.0f;
    w[3] = ((A * x3 - 5.0f * A) * x3 + 8.0f * A) * x3 - 4.0f * A;
}

static size_t clamp_index(long i, size_t n)
{
    return i < 0 ? 0 : (size_t)i >= n ? n - 1 : (size_t)i;
}

/* Source taps and weights of output index o: PyTorch keeps 1/factor as a
 * float (compute_scales_value) and maps src = scale * (o + 0.5) - 0.5. */
static void taps(size_t o, size_t n, double factor, size_t idx[4], float w[4])
{
    float scale = (float)(1.0 / factor);
    float src = scale * ((float)o + 0.5f) - 0.5f;
    float fl = floorf(src);
    cubic_weights(src - fl, w);
    for (int k = 0; k < 4; k++) {
        idx[k] = clamp_index((long)fl - 1 + k, n);
    }
}

void vitc_pos_interpolate(const float *table, size_t n_prefix, size_t N, size_t D, size_t gh,
                          size_t gw, float *out)
{
    memcpy(out, table, n_prefix * D * sizeof *out);
    const float *grid = table + n_prefix * D;
    double fy = ((double)gh + 0.1) / (double)N, fx = ((double)gw + 0.1) / (double)N;
    for (size_t y = 0; y < gh; y++) {
        size_t iy[4], ix[4];
        float wy[4], wx[4];
        taps(y, N, fy, iy, wy);
        for (size_t x = 0; x < gw; x++) {
            taps(x, N, fx, ix, wx);
            float *o = out + (n_prefix + y * gw + x) * D;
            for (size_t d = 0; d < D; d++) {
                /* cubic_interp1d along x for each of the 4 rows, then along y. */
                float rows[4];
                for (int r = 0; r < 4; r++) {
                    const float *row = grid + iy[r] * N * D;
                    rows[r] = row[ix[0] * D + d] * wx[0] + row[ix[1] * D + d] * wx[1] +
                              row[ix[2] * D + d] * wx[2] + row[ix[3] * D + d] * wx[3];
                }
                o[d] = rows[0] * wy[0] + rows[1] * wy[1] + rows[2] * wy[2] + rows[3] * wy[3];
            }
        }
    }
}
