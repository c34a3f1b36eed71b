/* SPDX-License-Identifier: MIT
 *
 * resample_avx2.c — the convolution passes of resample_ref.c with AVX2:
 * the same 32-bit products and wrapping sums (vpmulld, vpaddd), the same
 * rounding half and shift, and a clip made of saturating packs, so every
 * byte equals the reference's. Built with -mavx2 for this file only;
 * resample.c calls it only on CPUs that run it. Preprocessing layer.
 *
 * Horizontal: four rows at once, two per vector, one per 128-bit block; an
 * output pixel's taps are contiguous RGB bytes, loaded 16 at a time (five
 * taps) from each row, each tap's bytes spread to lanes R G B 0 by a
 * shuffle and multiplied by its broadcast weight, so the sums come out one
 * pixel per row with no reduction; the last loads end with the taps.
 * Vertical: 32 bytes of a row at a time, one broadcast weight per tap.
 */
#include "preprocess/resample_kernels.h"

#if defined(__x86_64__)

#include <immintrin.h>
#include <string.h>

#define PRECISION_BITS VITC_RESAMPLE_PRECISION_BITS
#define ROWS           4 /* rows per horizontal step */

/* ---- horizontal ---- */

/* Tap j (0..4) of a 16-byte block as lanes R G B 0 of each 128-bit block. */
static inline __m256i tap_shuffle(int j)
{
    const int8_t z = -1; /* vpshufb writes 0 */
    return _mm256_broadcastsi128_si256(_mm_setr_epi8((int8_t)(3 * j), z, z, z, (int8_t)(3 * j + 1),
                                                     z, z, z, (int8_t)(3 * j + 2), z, z, z, z, z, z,
                                                     z));
}

/* i + s for i + s < 16, else -128 (vpshufb writes 0): from 16 bytes that
 * end where the taps end, the taps at the start of the vector. */
static const int8_t shift_tab[32] = {
    0,    1,    2,    3,    4,    5,    6,    7,    8,    9,    10,   11,   12,   13,   14,   15,
    -128, -128, -128, -128, -128, -128, -128, -128, -128, -128, -128, -128, -128, -128, -128, -128};

/* The len (<= 15) bytes at p, then zeros, reading nothing past them: a load
 * that ends with them when the row has 16 bytes up to their end (back: the
 * row's bytes before p), else a copy. */
static inline __m128i last_bytes(const uint8_t *p, int len, size_t back)
{
    if (back + (size_t)len >= 16) {
        __m128i v = _mm_loadu_si128((const __m128i *)(p + len - 16));
        return _mm_shuffle_epi8(v, _mm_loadu_si128((const __m128i *)(shift_tab + 16 - len)));
    }
    uint8_t tmp[16] = {0};
    memcpy(tmp, p, (size_t)len);
    return _mm_loadu_si128((const __m128i *)tmp);
}

static inline __m256i two_rows(__m128i lo, __m128i hi)
{
    return _mm256_inserti128_si256(_mm256_castsi128_si256(lo), hi, 1);
}

/* Output pixel xx of four rows, rows 0, 1 in one vector and 2, 3 in the
 * other, one per 128-bit block: lanes R G B 0, so the sums need no
 * reduction; writes the rows [0, nr) (4 bytes, 3 for the row's last pixel,
 * whose next byte is not the next pixel's). */
static inline void pixel_4rows(const uint8_t *const row[ROWS], uint8_t *const out[ROWS], int nr,
                               int xx, int last, const struct vitc_resample_coeffs *c,
                               const __m256i sh[5])
{
    const __m256i order = _mm256_setr_epi32(0, 4, 1, 5, 2, 6, 3, 7);
    int xmin = c->bounds[xx * 2], n = c->bounds[xx * 2 + 1];
    const int32_t *k = &c->k[(size_t)xx * c->ksize];
    size_t at = (size_t)xmin * 3;
    const int h = 1 << (PRECISION_BITS - 1);
    __m256i acc01 = _mm256_setr_epi32(h, h, h, 0, h, h, h, 0), acc23 = acc01;
    int t = 0;
    /* Blocks followed by more taps: their 16-byte loads stay inside the taps. */
    for (; t + 5 < n; t += 5) {
        size_t o = at + 3 * (size_t)t;
        __m256i b01 = two_rows(_mm_loadu_si128((const __m128i *)(row[0] + o)),
                               _mm_loadu_si128((const __m128i *)(row[1] + o)));
        __m256i b23 = two_rows(_mm_loadu_si128((const __m128i *)(row[2] + o)),
                               _mm_loadu_si128((const __m128i *)(row[3] + o)));
#pragma GCC unroll 5
        for (int j = 0; j < 5; j++) {
            __m256i w = _mm256_set1_epi32(k[t + j]);
            acc01 = _mm256_add_epi32(acc01, _mm256_mullo_epi32(_mm256_shuffle_epi8(b01, sh[j]), w));
            acc23 = _mm256_add_epi32(acc23, _mm256_mullo_epi32(_mm256_shuffle_epi8(b23, sh[j]), w));
        }
    }
    if (t < n) {
        int m = n - t;
        size_t o = at + 3 * (size_t)t;
        __m256i b01 = two_rows(last_bytes(row[0] + o, 3 * m, o), last_bytes(row[1] + o, 3 * m, o));
        __m256i b23 = two_rows(last_bytes(row[2] + o, 3 * m, o), last_bytes(row[3] + o, 3 * m, o));
        for (int j = 0; j < m; j++) {
            __m256i w = _mm256_set1_epi32(k[t + j]);
            acc01 = _mm256_add_epi32(acc01, _mm256_mullo_epi32(_mm256_shuffle_epi8(b01, sh[j]), w));
            acc23 = _mm256_add_epi32(acc23, _mm256_mullo_epi32(_mm256_shuffle_epi8(b23, sh[j]), w));
        }
    }
    /* int16 then uint8 saturation: the clamp of the shifted sums to 0..255 */
    __m256i p = _mm256_packs_epi32(_mm256_srai_epi32(acc01, PRECISION_BITS),
                                   _mm256_srai_epi32(acc23, PRECISION_BITS));
    p = _mm256_permutevar8x32_epi32(_mm256_packus_epi16(p, p), order);
    __m128i px = _mm256_castsi256_si128(p);
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

static void horizontal_avx2(const uint8_t *src, size_t src_stride, uint8_t *dst, size_t dst_stride,
                            int out_width, int n_rows, const struct vitc_resample_coeffs *c)
{
    const __m256i sh[5] = {tap_shuffle(0), tap_shuffle(1), tap_shuffle(2), tap_shuffle(3),
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
    }
    /* The last row_bytes % 8 columns: the reference pass, on those columns only. */
    int x8 = row_bytes & ~7;
    if (x8 < row_bytes) {
        vitc_resample_ref.vertical(src + x8, src_stride, dst + x8, dst_stride, row_bytes - x8,
                                   out_height, c);
    }
}

const struct vitc_resample_kernels vitc_resample_avx2 = {
    .name = "avx2",
    .horizontal = horizontal_avx2,
    .vertical = vertical_avx2,
};

#endif /* __x86_64__ */
