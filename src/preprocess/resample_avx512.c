/* SPDX-License-Identifier: MIT
 *
 * resample_avx512.c — the convolution passes of resample_ref.c with
 * AVX-512 (F, BW, VL): the same 32-bit products and wrapping sums, the same
 * rounding half and shift, and a clip of max(0) then unsigned saturation,
 * so every byte equals the reference's. Built with AVX-512 flags for this
 * file only; resample.c calls it only on CPUs that run it. Preprocessing
 * layer.
 *
 * Horizontal: an output pixel's taps are contiguous RGB bytes; one vector
 * takes five taps (15 bytes widened to lanes R G B x5, the 16th lane with
 * zero weight); the last load is masked so nothing past the taps is read;
 * four rows share each expanded weight vector. Vertical: 64 bytes of a row
 * at a time, one broadcast weight per tap, masked at the row's end.
 */
#include "preprocess/resample_kernels.h"

#if defined(__x86_64__)

#include <immintrin.h>
#include <string.h>

#define PRECISION_BITS VITC_RESAMPLE_PRECISION_BITS
#define ROWS           4 /* rows sharing one output pixel's weights */

/* ---- horizontal ---- */

/* Weights of taps [0, m) (m <= 5) as lanes k0 k0 k0 k1 k1 k1 ... k4 k4 k4 0. */
static inline __m512i weights5(const int32_t *k, int m)
{
    const __m512i idx = _mm512_setr_epi32(0, 0, 0, 1, 1, 1, 2, 2, 2, 3, 3, 3, 4, 4, 4, 0);
    __m512i w = _mm512_maskz_loadu_epi32((__mmask16)((1u << m) - 1), k);
    return _mm512_maskz_permutexvar_epi32(0x7FFF, idx, w);
}

/* Sums lanes (R G B) x5 into one pixel and writes its 3 bytes (4 when the
 * next byte is the next pixel's, written later). */
static inline void store_pixel(uint8_t *d, __m512i acc, int last)
{
    const __m512i idx = _mm512_setr_epi32(0, 1, 2, 0, 3, 4, 5, 0, 6, 7, 8, 0, 9, 10, 11, 0);
    /* lanes 0..2 += lanes 12..14, then one pixel per 128-bit block */
    __m512i t = _mm512_add_epi32(acc, _mm512_maskz_alignr_epi32(0x0007, acc, acc, 12));
    __m512i p = _mm512_maskz_permutexvar_epi32(0x7777, idx, t);
    __m256i y = _mm256_add_epi32(_mm512_castsi512_si256(p), _mm512_extracti64x4_epi64(p, 1));
    __m128i x = _mm_add_epi32(_mm256_castsi256_si128(y), _mm256_extracti128_si256(y, 1));
    x = _mm_max_epi32(_mm_srai_epi32(x, PRECISION_BITS), _mm_setzero_si128());
    uint32_t v = (uint32_t)_mm_cvtsi128_si32(_mm_cvtusepi32_epi8(x));
    if (last) {
        memcpy(d, &v, 3);
    } else {
        memcpy(d, &v, 4);
    }
}

/* One output pixel of rows [0, nr) (nr <= ROWS; a constant once inlined, and
 * the row loops unrolled so that the sums stay in registers). */
static inline void pixel_rows(const uint8_t *src, size_t src_stride, uint8_t *dst,
                              size_t dst_stride, int xx, int last,
                              const struct vitc_resample_coeffs *c, int nr)
{
    int xmin = c->bounds[xx * 2], n = c->bounds[xx * 2 + 1];
    const int32_t *k = &c->k[(size_t)xx * c->ksize];
    const uint8_t *s = src + (size_t)xmin * 3;
    __m512i acc[ROWS];
    int t = 0;
#pragma GCC unroll 4
    for (int r = 0; r < ROWS; r++) {
        acc[r] = _mm512_maskz_set1_epi32(0x0007, 1 << (PRECISION_BITS - 1));
    }
    /* Steps followed by more taps: their 16-byte loads stay inside the taps. */
    for (; t + 5 < n; t += 5) {
        __m512i w = weights5(k + t, 5);
#pragma GCC unroll 4
        for (int r = 0; r < nr; r++) {
            __m128i b = _mm_loadu_si128((const __m128i *)(s + (size_t)r * src_stride + 3 * t));
            acc[r] = _mm512_add_epi32(acc[r], _mm512_mullo_epi32(_mm512_cvtepu8_epi32(b), w));
        }
    }
    if (t < n) {
        int m = n - t;
        __m512i w = weights5(k + t, m);
        __mmask16 bytes = (__mmask16)((1u << (3 * m)) - 1);
#pragma GCC unroll 4
        for (int r = 0; r < nr; r++) {
            __m128i b = _mm_maskz_loadu_epi8(bytes, s + (size_t)r * src_stride + 3 * t);
            acc[r] = _mm512_add_epi32(acc[r], _mm512_mullo_epi32(_mm512_cvtepu8_epi32(b), w));
        }
    }
#pragma GCC unroll 4
    for (int r = 0; r < nr; r++) {
        store_pixel(dst + (size_t)r * dst_stride + 3 * (size_t)xx, acc[r], last);
    }
}

static void horizontal_avx512(const uint8_t *src, size_t src_stride, uint8_t *dst,
                              size_t dst_stride, int out_width, int n_rows,
                              const struct vitc_resample_coeffs *c)
{
    int y = 0;
    for (; y + ROWS <= n_rows; y += ROWS) {
        const uint8_t *s = src + (size_t)y * src_stride;
        uint8_t *d = dst + (size_t)y * dst_stride;
        for (int xx = 0; xx < out_width; xx++) {
            pixel_rows(s, src_stride, d, dst_stride, xx, xx == out_width - 1, c, ROWS);
        }
    }
    for (; y < n_rows; y++) {
        const uint8_t *s = src + (size_t)y * src_stride;
        uint8_t *d = dst + (size_t)y * dst_stride;
        for (int xx = 0; xx < out_width; xx++) {
            pixel_rows(s, src_stride, d, dst_stride, xx, xx == out_width - 1, c, 1);
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
