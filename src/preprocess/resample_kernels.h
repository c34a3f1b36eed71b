/* SPDX-License-Identifier: MIT
 *
 * resample_kernels.h — the two convolution passes of Pillow's 8bpc resize
 * (ImagingResampleHorizontal_8bpc / Vertical_8bpc) as kernels on raw RGB
 * rows, in three tables: the scalar reference (resample_ref.c, always
 * built, the oracle) and AVX2 / AVX-512 versions (resample_avx2.c,
 * resample_avx512.c) that compute the same 32-bit integer sums and so the
 * same bytes. Kernels never allocate; resample.c builds the coefficients.
 * Preprocessing layer.
 */
#ifndef VITC_RESAMPLE_KERNELS_H
#define VITC_RESAMPLE_KERNELS_H

#include <stddef.h>
#include <stdint.h>

/* 8 bits of result, and 2 more for the overshoot of filters with negative
 * lobes (sums below 0 or above 1), in a 32-bit int. */
#define VITC_RESAMPLE_PRECISION_BITS (32 - 8 - 2)

/* One pass's taps: for output o, k[o*ksize .. +bounds[2o+1]) apply to the
 * input samples bounds[2o] .. bounds[2o] + bounds[2o+1] - 1. */
struct vitc_resample_coeffs {
    int ksize;
    int *bounds; /* (out_size, 2): first input index, tap count */
    int32_t *k;  /* (out_size, ksize) fixed point, PRECISION_BITS   */
};

/* Horizontal pass over n_rows RGB rows: dst row r, pixel o (of out_width)
 * = clip8(sum of src row r's pixels bounds[2o] + i times k[o*ksize + i]).
 * Reads only the source pixels the taps name. */
typedef void vitc_resample_h_fn(const uint8_t *src, size_t src_stride, /* (n_rows, ...) */
                                uint8_t *dst, size_t dst_stride,       /* (n_rows, 3*out_width) */
                                int out_width, int n_rows, const struct vitc_resample_coeffs *c);

/* Vertical pass: dst row o (of out_height), each of its row_bytes bytes
 * = clip8(sum of the same byte of src rows bounds[2o] + i times
 * k[o*ksize + i]). */
typedef void vitc_resample_v_fn(const uint8_t *src, size_t src_stride, /* (in rows, row_bytes) */
                                uint8_t *dst, size_t dst_stride,       /* (out_height, row_bytes) */
                                int row_bytes, int out_height,
                                const struct vitc_resample_coeffs *c);

struct vitc_resample_kernels {
    const char *name; /* the VITC_CPU name: ref, avx2, avx512 */
    vitc_resample_h_fn *horizontal;
    vitc_resample_v_fn *vertical;
};

extern const struct vitc_resample_kernels vitc_resample_ref;
#if defined(__x86_64__)
extern const struct vitc_resample_kernels vitc_resample_avx2;
extern const struct vitc_resample_kernels vitc_resample_avx512;
#endif

/* The table resize uses: the one VITC_CPU names when this CPU runs it,
 * else the best this CPU runs. Never NULL. */
const struct vitc_resample_kernels *vitc_resample_kernels_select(void);

#endif /* VITC_RESAMPLE_KERNELS_H */
