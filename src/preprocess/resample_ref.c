/* SPDX-License-Identifier: MIT
 *
 * resample_ref.c — the scalar convolution passes of Pillow 9.4's
 * libImaging/Resample.c (ImagingResampleHorizontal_8bpc and
 * ImagingResampleVertical_8bpc) on RGB rows: 32-bit sums started at one
 * half, shifted and clipped. Always built; the oracle the SIMD tables are
 * tested against (resample_kernels.h). Preprocessing layer.
 */
#include "preprocess/resample_kernels.h"

#define PRECISION_BITS VITC_RESAMPLE_PRECISION_BITS

/* Pillow's clip8: its lookup table is a clamp of (ss >> PRECISION_BITS).
 * Right shift of a negative int is arithmetic with the compilers vitc
 * supports, as Pillow itself assumes. */
static inline uint8_t clip8(int ss)
{
    int v = ss >> PRECISION_BITS;
    return (uint8_t)(v < 0 ? 0 : v > 255 ? 255 : v);
}

static void horizontal_ref(const uint8_t *src, size_t src_stride, uint8_t *dst, size_t dst_stride,
                           int out_width, int n_rows, const struct vitc_resample_coeffs *c)
{
    for (int yy = 0; yy < n_rows; yy++) {
        const uint8_t *row = src + (size_t)yy * src_stride;
        uint8_t *out = dst + (size_t)yy * dst_stride;
        for (int xx = 0; xx < out_width; xx++) {
            int xmin = c->bounds[xx * 2], n = c->bounds[xx * 2 + 1];
            const int32_t *k = &c->k[(size_t)xx * c->ksize];
            const uint8_t *s = row + (size_t)xmin * 3;
            int ss0 = 1 << (PRECISION_BITS - 1), ss1 = ss0, ss2 = ss0;
            for (int x = 0; x < n; x++) {
                ss0 += s[3 * x + 0] * k[x];
                ss1 += s[3 * x + 1] * k[x];
                ss2 += s[3 * x + 2] * k[x];
            }
            out[3 * xx + 0] = clip8(ss0);
            out[3 * xx + 1] = clip8(ss1);
            out[3 * xx + 2] = clip8(ss2);
        }
    }
}

static void vertical_ref(const uint8_t *src, size_t src_stride, uint8_t *dst, size_t dst_stride,
                         int row_bytes, int out_height, const struct vitc_resample_coeffs *c)
{
    for (int yy = 0; yy < out_height; yy++) {
        int ymin = c->bounds[yy * 2], n = c->bounds[yy * 2 + 1];
        const int32_t *k = &c->k[(size_t)yy * c->ksize];
        uint8_t *out = dst + (size_t)yy * dst_stride;
        for (int xx = 0; xx < row_bytes; xx++) {
            int ss = 1 << (PRECISION_BITS - 1);
            for (int y = 0; y < n; y++) {
                ss += src[(size_t)(y + ymin) * src_stride + xx] * k[y];
            }
            out[xx] = clip8(ss);
        }
    }
}

const struct vitc_resample_kernels vitc_resample_ref = {
    .name = "ref",
    .horizontal = horizontal_ref,
    .vertical = vertical_ref,
};
