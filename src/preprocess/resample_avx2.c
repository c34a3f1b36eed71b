/* SPDX-License-Identifier: MIT
 *
 * resample_avx2.c — the convolution passes of resample_ref.c with AVX2:
 * the same 32-bit products and wrapping sums (vpmulld, vpaddd), the same
 * rounding half and shift, and a clip made of saturating packs, so every
 * byte equals the reference's. Built with -mavx2 for this file only;
 * resample.c calls it only on CPUs that run it. Preprocessing layer.
 *
 * Horizontal: an output pixel's taps are contiguous RGB bytes; one vector
 * takes two taps (6 bytes widened to lanes R G B R G B, the last two lanes
 * with zero weight) and four rows share each expanded weight vector.
 * Vertical: 32 bytes of a row at a time, one broadcast weight per tap.
 */
#include "preprocess/resample_kernels.h"

#if defined(__x86_64__)

#include <immintrin.h>
#include <string.h>

#define PRECISION_BITS VITC_RESAMPLE_PRECISION_BITS
#define ROWS           4 /* rows sharing one output pixel's weights */

static inline uint8_t clip8(int ss)
{
    int v = ss >> PRECISION_BITS;
    return (uint8_t)(v < 0 ? 0 : v > 255 ? 255 : v);
}

/* ---- horizontal ---- */

/* Weights of taps t, t+1 (or t alone when one) as lanes k0 k0 k0 k1 k1 k1 0 0. */
static inline __m256i weights2(const int32_t *k, int two)
{
    const __m256i idx = _mm256_setr_epi32(0, 0, 0, 1, 1, 1, 2, 2);
    __m128i w = two ? _mm_loadl_epi64((const __m128i *)k) : _mm_cvtsi32_si128(k[0]);
    return _mm256_permutevar8x32_epi32(_mm256_castsi128_si256(w), idx);
}

/* The last one or two taps' bytes, widened, without reading past them. */
static inline __m256i pixels_tail(const uint8_t *p, int two)
{
    uint64_t v = 0;
    if (two) {
        memcpy(&v, p, 6);
    } else {
        memcpy(&v, p, 3);
    }
    return _mm256_cvtepu8_epi32(_mm_cvtsi64_si128((long long)v));
}

/* Sums lanes R G B R G B 0 0 into one pixel and writes its 3 bytes (4 when
 * the next byte is the next pixel's, written later). */
static inline void store_pixel(uint8_t *d, __m256i acc, int last)
{
    const __m256i idx = _mm256_setr_epi32(0, 1, 2, 6, 3, 4, 5, 7);
    __m256i p = _mm256_permutevar8x32_epi32(acc, idx);
    __m128i x = _mm_add_epi32(_mm256_castsi256_si128(p), _mm256_extracti128_si256(p, 1));
    x = _mm_srai_epi32(x, PRECISION_BITS);
    x = _mm_packus_epi16(_mm_packs_epi32(x, x), x);
    uint32_t v = (uint32_t)_mm_cvtsi128_si32(x);
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
    __m256i acc[ROWS];
    int t = 0;
#pragma GCC unroll 4
    for (int r = 0; r < ROWS; r++) {
        acc[r] = _mm256_setr_epi32(1 << (PRECISION_BITS - 1), 1 << (PRECISION_BITS - 1),
                                   1 << (PRECISION_BITS - 1), 0, 0, 0, 0, 0);
    }
    /* Pairs followed by more taps: their 8-byte loads stay inside the taps. */
    for (; t + 2 < n; t += 2) {
        __m256i w = weights2(k + t, 1);
#pragma GCC unroll 4
        for (int r = 0; r < nr; r++) {
            __m128i b = _mm_loadl_epi64((const __m128i *)(s + (size_t)r * src_stride + 3 * t));
            acc[r] = _mm256_add_epi32(acc[r], _mm256_mullo_epi32(_mm256_cvtepu8_epi32(b), w));
        }
    }
    if (t < n) {
        int two = n - t == 2;
        __m256i w = weights2(k + t, two);
#pragma GCC unroll 4
        for (int r = 0; r < nr; r++) {
            __m256i b = pixels_tail(s + (size_t)r * src_stride + 3 * t, two);
            acc[r] = _mm256_add_epi32(acc[r], _mm256_mullo_epi32(b, w));
        }
    }
#pragma GCC unroll 4
    for (int r = 0; r < nr; r++) {
        store_pixel(dst + (size_t)r * dst_stride + 3 * (size_t)xx, acc[r], last);
    }
}

static void horizontal_avx2(const uint8_t *src, size_t src_stride, uint8_t *dst, size_t dst_stride,
                            int out_width, int n_rows, const struct vitc_resample_coeffs *c)
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

/* Shift, clip and narrow 4 x 8 sums to 32 bytes in order. */
static inline __m256i narrow32(__m256i a0, __m256i a1, __m256i a2, __m256i a3)
{
    const __m256i order = _mm256_setr_epi32(0, 4, 1, 5, 2, 6, 3, 7);
    __m256i p01 = _mm256_packs_epi32(_mm256_srai_epi32(a0, PRECISION_BITS),
                                     _mm256_srai_epi32(a1, PRECISION_BITS));
    __m256i p23 = _mm256_packs_epi32(_mm256_srai_epi32(a2, PRECISION_BITS),
                                     _mm256_srai_epi32(a3, PRECISION_BITS));
    return _mm256_permutevar8x32_epi32(_mm256_packus_epi16(p01, p23), order);
}

static void vertical_avx2(const uint8_t *src, size_t src_stride, uint8_t *dst, size_t dst_stride,
                          int row_bytes, int out_height, const struct vitc_resample_coeffs *c)
{
    const __m256i half = _mm256_set1_epi32(1 << (PRECISION_BITS - 1));
    for (int yy = 0; yy < out_height; yy++) {
        int ymin = c->bounds[yy * 2], n = c->bounds[yy * 2 + 1];
        const int32_t *k = &c->k[(size_t)yy * c->ksize];
        const uint8_t *s = src + (size_t)ymin * src_stride;
        uint8_t *out = dst + (size_t)yy * dst_stride;
        int x = 0;
        for (; x + 32 <= row_bytes; x += 32) {
            __m256i a0 = half, a1 = half, a2 = half, a3 = half;
            for (int y = 0; y < n; y++) {
                const uint8_t *p = s + (size_t)y * src_stride + x;
                __m256i w = _mm256_set1_epi32(k[y]);
                a0 = _mm256_add_epi32(
                    a0, _mm256_mullo_epi32(
                            _mm256_cvtepu8_epi32(_mm_loadl_epi64((const __m128i *)p)), w));
                a1 = _mm256_add_epi32(
                    a1, _mm256_mullo_epi32(
                            _mm256_cvtepu8_epi32(_mm_loadl_epi64((const __m128i *)(p + 8))), w));
                a2 = _mm256_add_epi32(
                    a2, _mm256_mullo_epi32(
                            _mm256_cvtepu8_epi32(_mm_loadl_epi64((const __m128i *)(p + 16))), w));
                a3 = _mm256_add_epi32(
                    a3, _mm256_mullo_epi32(
                            _mm256_cvtepu8_epi32(_mm_loadl_epi64((const __m128i *)(p + 24))), w));
            }
            _mm256_storeu_si256((__m256i *)(out + x), narrow32(a0, a1, a2, a3));
        }
        for (; x + 8 <= row_bytes; x += 8) {
            __m256i a = half;
            for (int y = 0; y < n; y++) {
                const uint8_t *p = s + (size_t)y * src_stride + x;
                a = _mm256_add_epi32(
                    a, _mm256_mullo_epi32(_mm256_cvtepu8_epi32(_mm_loadl_epi64((const __m128i *)p)),
                                          _mm256_set1_epi32(k[y])));
            }
            _mm_storel_epi64((__m128i *)(out + x), _mm256_castsi256_si128(narrow32(a, a, a, a)));
        }
        for (; x < row_bytes; x++) {
            int ss = 1 << (PRECISION_BITS - 1);
            for (int y = 0; y < n; y++) {
                ss += s[(size_t)y * src_stride + x] * k[y];
            }
            out[x] = clip8(ss);
        }
    }
}

const struct vitc_resample_kernels vitc_resample_avx2 = {
    .name = "avx2",
    .horizontal = horizontal_avx2,
    .vertical = vertical_avx2,
};

#endif /* __x86_64__ */
