/* SPDX-License-Identifier: MIT
 *
 * resample_avx512.c — the convolution passes of resample_ref.c with
 * AVX-512 (F, BW, VL): the same 32-bit products and wrapping sums, the same
 * rounding half and shift, and a clip of max(0) then unsigned saturation,
 * so every byte equals the reference's. Built with AVX-512 flags for this
 * file only; resample.c calls it only on CPUs that run it. Preprocessing
 * layer.
 *
 * Horizontal: four rows at once, one per 128-bit block; an output pixel's
 * taps are contiguous RGB bytes, loaded 16 at a time (five taps) from each
 * row, each tap's bytes spread to lanes R G B 0 by a shuffle and multiplied
 * by its broadcast weight, so the sums come out one pixel per row with no
 * reduction; the last loads are masked so nothing past the taps is read.
 * Vertical: 64 bytes of a row at a time, one broadcast weight per tap,
 * masked at the row's end.
 */
#include "preprocess/resample_kernels.h"

#if defined(__x86_64__)

#include <immintrin.h>
#include <string.h>

#define PRECISION_BITS VITC_RESAMPLE_PRECISION_BITS
#define ROWS           4 /* rows per horizontal step, one per 128-bit block */

/* ---- horizontal ---- */

/* Tap j (0..4) of a 16-byte block as lanes R G B 0 of each 128-bit block. */
static inline __m512i tap_shuffle(int j)
{
    const int8_t z = -1; /* vpshufb writes 0 */
    return _mm512_broadcast_i32x4(_mm_setr_epi8((int8_t)(3 * j), z, z, z, (int8_t)(3 * j + 1), z, z,
                                                z, (int8_t)(3 * j + 2), z, z, z, z, z, z, z));
}

/* 16 bytes (15 of them: five taps) of each of four rows, one row per
 * 128-bit block; the `bytes` mask limits the loads at the end of the taps. */
static inline __m512i four_rows(const uint8_t *const row[ROWS], size_t at, __mmask16 bytes)
{
    __m512i b = _mm512_castsi128_si512(_mm_maskz_loadu_epi8(bytes, row[0] + at));
    b = _mm512_inserti32x4(b, _mm_maskz_loadu_epi8(bytes, row[1] + at), 1);
    b = _mm512_inserti32x4(b, _mm_maskz_loadu_epi8(bytes, row[2] + at), 2);
    return _mm512_inserti32x4(b, _mm_maskz_loadu_epi8(bytes, row[3] + at), 3);
}

/* Output pixel xx of four rows: lanes R G B 0 per row, so the sums need no
 * reduction; writes the rows [0, nr) (4 bytes, 3 for the row's last pixel,
 * whose next byte is not the next pixel's). */
static inline void pixel_4rows(const uint8_t *const row[ROWS], uint8_t *const out[ROWS], int nr,
                               int xx, int last, const struct vitc_resample_coeffs *c,
                               const __m512i sh[5])
{
    int xmin = c->bounds[xx * 2], n = c->bounds[xx * 2 + 1];
    const int32_t *k = &c->k[(size_t)xx * c->ksize];
    size_t at = (size_t)xmin * 3;
    __m512i acc = _mm512_maskz_set1_epi32(0x7777, 1 << (PRECISION_BITS - 1));
    int t = 0;
    /* Blocks followed by more taps: their 16-byte loads stay inside the taps. */
    for (; t + 5 < n; t += 5) {
        __m512i b = four_rows(row, at + 3 * (size_t)t, 0xFFFF);
#pragma GCC unroll 5
        for (int j = 0; j < 5; j++) {
            __m512i w = _mm512_set1_epi32(k[t + j]);
            acc = _mm512_add_epi32(acc, _mm512_mullo_epi32(_mm512_shuffle_epi8(b, sh[j]), w));
        }
    }
    if (t < n) {
        int m = n - t;
        __m512i b = four_rows(row, at + 3 * (size_t)t, (__mmask16)((1u << (3 * m)) - 1));
        for (int j = 0; j < m; j++) {
            __m512i w = _mm512_set1_epi32(k[t + j]);
            acc = _mm512_add_epi32(acc, _mm512_mullo_epi32(_mm512_shuffle_epi8(b, sh[j]), w));
        }
    }
    acc = _mm512_max_epi32(_mm512_srai_epi32(acc, PRECISION_BITS), _mm512_setzero_si512());
    __m128i px = _mm512_cvtusepi32_epi8(acc);
    for (int r = 0; r < nr; r++) {
        uint32_t v = (uint32_t)_mm_cvtsi128_si32(px);
        if (last) {
            memcpy(out[r] + 3 * (size_t)xx, &v, 3);
        } else {
            memcpy(out[r] + 3 * (size_t)xx, &v, 4);
        }
        px = _mm_srli_si128(px, 4);
    }
}

static void horizontal_avx512(const uint8_t *src, size_t src_stride, uint8_t *dst,
                              size_t dst_stride, int out_width, int n_rows,
                              const struct vitc_resample_coeffs *c)
{
    const __m512i sh[5] = {tap_shuffle(0), tap_shuffle(1), tap_shuffle(2), tap_shuffle(3),
                           tap_shuffle(4)};
    for (int y = 0; y < n_rows; y += ROWS) {
        /* the last block repeats its last row where rows run out */
        int nr = n_rows - y < ROWS ? n_rows - y : ROWS;
        const uint8_t *row[ROWS];
        uint8_t *out[ROWS];
        for (int r = 0; r < ROWS; r++) {
            int rr = r < nr ? r : nr - 1;
            row[r] = src + (size_t)(y + rr) * src_stride;
            out[r] = dst + (size_t)(y + rr) * dst_stride;
        }
        for (int xx = 0; xx < out_width; xx++) {
            pixel_4rows(row, out, nr, xx, xx == out_width - 1, c, sh);
        }
    }
}

/* ---- vertical ---- */

/* Shift and clip 16 sums to 16 bytes. */
static inline __m128i narrow16(__m512i a)
{
    return _mm512_cvtusepi32_epi8(
        _mm512_max_epi32(_mm512_srai_epi32(a, PRECISION_BITS), _mm512_setzero_si512()));
}

static inline __m512i tap16(__m512i a, const uint8_t *p, __m512i w)
{
    __m128i b = _mm_loadu_si128((const __m128i *)p);
    return _mm512_add_epi32(a, _mm512_mullo_epi32(_mm512_cvtepu8_epi32(b), w));
}

static void vertical_avx512(const uint8_t *src, size_t src_stride, uint8_t *dst, size_t dst_stride,
                            int row_bytes, int out_height, const struct vitc_resample_coeffs *c)
{
    const __m512i half = _mm512_set1_epi32(1 << (PRECISION_BITS - 1));
    for (int yy = 0; yy < out_height; yy++) {
        int ymin = c->bounds[yy * 2], n = c->bounds[yy * 2 + 1];
        const int32_t *k = &c->k[(size_t)yy * c->ksize];
        const uint8_t *s = src + (size_t)ymin * src_stride;
        uint8_t *out = dst + (size_t)yy * dst_stride;
        int x = 0;
        for (; x + 64 <= row_bytes; x += 64) {
            __m512i a0 = half, a1 = half, a2 = half, a3 = half;
            for (int y = 0; y < n; y++) {
                const uint8_t *p = s + (size_t)y * src_stride + x;
                __m512i w = _mm512_set1_epi32(k[y]);
                a0 = tap16(a0, p, w);
                a1 = tap16(a1, p + 16, w);
                a2 = tap16(a2, p + 32, w);
                a3 = tap16(a3, p + 48, w);
            }
            _mm_storeu_si128((__m128i *)(out + x), narrow16(a0));
            _mm_storeu_si128((__m128i *)(out + x + 16), narrow16(a1));
            _mm_storeu_si128((__m128i *)(out + x + 32), narrow16(a2));
            _mm_storeu_si128((__m128i *)(out + x + 48), narrow16(a3));
        }
        for (; x < row_bytes; x += 16) {
            int m = row_bytes - x < 16 ? row_bytes - x : 16;
            __mmask16 bytes = (__mmask16)((1u << m) - 1);
            __m512i a = half;
            for (int y = 0; y < n; y++) {
                __m128i b = _mm_maskz_loadu_epi8(bytes, s + (size_t)y * src_stride + x);
                a = _mm512_add_epi32(
                    a, _mm512_mullo_epi32(_mm512_cvtepu8_epi32(b), _mm512_set1_epi32(k[y])));
            }
            _mm_mask_storeu_epi8(out + x, bytes, narrow16(a));
        }
    }
}

const struct vitc_resample_kernels vitc_resample_avx512 = {
    .name = "avx512",
    .horizontal = horizontal_avx512,
    .vertical = vertical_avx512,
};

#endif /* __x86_64__ */
