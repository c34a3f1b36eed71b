/* SPDX-License-Identifier: MIT
 *
 * kernels_attn_bf16_avx512.c — one attention head with bf16 products for
 * the low-precision modes (contract: vitc_lowp_kernels.attention_head in
 * kernels.h): q, k, v and the softmax's probabilities rounded to bf16, q.k
 * and p.v with vdpbf16ps into fp32 accumulators, everything else (scores,
 * max, exp, sum, 1/sum) in fp32. Same blocking as the fp32 AVX-512 kernel:
 * blocks of VITC_ATTN_SCRATCH_ROWS query rows, 8 x 48 score tiles and
 * 6 x 64 P.V tiles, each dpbf16 doing two multiply-adds per lane. Compiled
 * with AVX-512 + AVX512_BF16 flags (Makefile). Kernel layer: no allocation.
 */
#include "cpu/kernels_attn_bf16_avx512.h"

#include "cpu/kernels.h"

#if defined(__x86_64__)

#include <immintrin.h>
#include <stdint.h>

#define SROWS 8
#define PROWS 6
_Static_assert(VITC_ATTN_SCRATCH_ROWS % SROWS == 0 && VITC_ATTN_SCRATCH_ROWS % PROWS == 0,
               "attention blocks hold whole tiles");

static inline __mmask16 lanes(size_t n)
{
    return n >= 16 ? (__mmask16)0xFFFF : (__mmask16)((1u << n) - 1u);
}

/* exp(x) for x <= 0 (kernels_avx512.c's v_exp without the upper clamp):
 * x = n ln2 + r, a degree-7 Taylor polynomial, vscalefps for 2^n. */
static inline __m512 exp_nonpos(__m512 x)
{
    x = _mm512_max_ps(x, _mm512_set1_ps(-104.0f));
    __m512 n = _mm512_roundscale_ps(_mm512_mul_ps(x, _mm512_set1_ps(1.44269504088896341f)),
                                    _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC);
    __m512 r = _mm512_fnmadd_ps(n, _mm512_set1_ps(0.693145751953125f), x);
    r = _mm512_fnmadd_ps(n, _mm512_set1_ps(1.42860682030941723212e-6f), r);
    __m512 p = _mm512_set1_ps(1.0f / 5040.0f);
    p = _mm512_fmadd_ps(p, r, _mm512_set1_ps(1.0f / 720.0f));
    p = _mm512_fmadd_ps(p, r, _mm512_set1_ps(1.0f / 120.0f));
    p = _mm512_fmadd_ps(p, r, _mm512_set1_ps(1.0f / 24.0f));
    p = _mm512_fmadd_ps(p, r, _mm512_set1_ps(1.0f / 6.0f));
    p = _mm512_fmadd_ps(p, r, _mm512_set1_ps(0.5f));
    p = _mm512_fmadd_ps(p, r, _mm512_set1_ps(1.0f));
    p = _mm512_fmadd_ps(p, r, _mm512_set1_ps(1.0f));
    return _mm512_scalef_ps(p, n);
}

/* ---- conversion to bf16 pairs ---- */

/* 16 dwords, each the bf16 pair (x[2i], x[2i + 1]) of up to 32 floats
 * (n of them; zeros past n). */
static inline __m512i pairs_row(const float *x, size_t n)
{
    __m512 lo = _mm512_maskz_loadu_ps(lanes(n), x);
    __m512 hi = _mm512_maskz_loadu_ps(lanes(n > 16 ? n - 16 : 0), x + 16);
    return (__m512i)_mm512_cvtne2ps_pbh(hi, lo);
}

/* 16 dwords, each the bf16 pair (a[i], b[i]). */
static inline __m512i pairs_zip(__m512 a, __m512 b)
{
    __m512i lo = _mm512_cvtepu16_epi32((__m256i)_mm512_cvtneps_pbh(a));
    __m512i hi = _mm512_cvtepu16_epi32((__m256i)_mm512_cvtneps_pbh(b));
    return _mm512_or_si512(lo, _mm512_slli_epi32(hi, 16));
}

/* 16 x 16 dword transpose in registers: 32-bit then 64-bit unpacks, then
 * two rounds of 128-bit lane shuffles. */
static inline void transpose16(__m512i *r)
{
    __m512i t[16];
    for (int i = 0; i < 16; i += 2) {
        t[i] = _mm512_unpacklo_epi32(r[i], r[i + 1]);
        t[i + 1] = _mm512_unpackhi_epi32(r[i], r[i + 1]);
    }
    for (int i = 0; i < 16; i += 4) {
        r[i] = _mm512_unpacklo_epi64(t[i], t[i + 2]);
        r[i + 1] = _mm512_unpackhi_epi64(t[i], t[i + 2]);
        r[i + 2] = _mm512_unpacklo_epi64(t[i + 1], t[i + 3]);
        r[i + 3] = _mm512_unpackhi_epi64(t[i + 1], t[i + 3]);
    }
    for (int x = 0; x < 4; x++) {
        __m512i a01 = _mm512_shuffle_i32x4(r[x], r[4 + x], 0x44);
        __m512i a23 = _mm512_shuffle_i32x4(r[8 + x], r[12 + x], 0x44);
        __m512i b01 = _mm512_shuffle_i32x4(r[x], r[4 + x], 0xEE);
        __m512i b23 = _mm512_shuffle_i32x4(r[8 + x], r[12 + x], 0xEE);
        t[x] = _mm512_shuffle_i32x4(a01, a23, 0x88);
        t[4 + x] = _mm512_shuffle_i32x4(a01, a23, 0xDD);
        t[8 + x] = _mm512_shuffle_i32x4(b01, b23, 0x88);
        t[12 + x] = _mm512_shuffle_i32x4(b01, b23, 0xDD);
    }
    for (int i = 0; i < 16; i++) {
        r[i] = t[i];
    }
}

/* kt[c2][j] = pair(k[j][2 c2], k[j][2 c2 + 1]) for T keys, dh = ceil(d/2)
 * pairs (row stride T). */
static void pack_k(size_t T, size_t d, const float *k, size_t ld, uint32_t *kt)
{
    size_t dh = (d + 1) / 2;
    for (size_t j0 = 0; j0 < T; j0 += 16) {
        size_t nj = T - j0 < 16 ? T - j0 : 16;
        for (size_t c0 = 0; c0 < d; c0 += 32) {
            __m512i r[16];
            for (size_t i = 0; i < 16; i++) {
                r[i] = i < nj ? pairs_row(k + (j0 + i) * ld + c0, d - c0) : _mm512_setzero_si512();
            }
            transpose16(r);
            size_t n2 = dh - c0 / 2 < 16 ? dh - c0 / 2 : 16;
            for (size_t i = 0; i < n2; i++) {
                _mm512_mask_storeu_epi32(kt + (c0 / 2 + i) * T + j0, lanes(nj), r[i]);
            }
        }
    }
}

/* vp[j2][c] = pair(v[2 j2][c], v[2 j2 + 1][c]), a zero second half past T. */
static void pack_v(size_t T, size_t d, const float *v, size_t ld, uint32_t *vp)
{
    for (size_t j = 0; j < T; j += 2) {
        for (size_t c0 = 0; c0 < d; c0 += 16) {
            __mmask16 m = lanes(d - c0);
            __m512 a = _mm512_maskz_loadu_ps(m, v + j * ld + c0);
            __m512 b =
                j + 1 < T ? _mm512_maskz_loadu_ps(m, v + (j + 1) * ld + c0) : _mm512_setzero_ps();
            _mm512_mask_storeu_epi32(vp + (j / 2) * d + c0, m, pairs_zip(a, b));
        }
    }
}

/* ---- tiles ---- */

/* Raw scores s[r][j0 + 16u + lane] = q_r . k_j over dh pairs of SROWS rows
 * (qr: pair rows) against up to 48 keys; mx as in kernels_avx512.c. */
static inline __attribute__((always_inline)) void scores_tile(size_t T, size_t dh,
                                                              const uint32_t *const *qr,
                                                              const uint32_t *kt, size_t j0,
                                                              float *s, __m512 *mx, const int nv)
{
    __m512 acc[SROWS][3];
    __mmask16 mk[3];
#pragma GCC unroll 3
    for (int u = 0; u < nv; u++) {
        mk[u] = lanes(T - j0 - (size_t)u * 16);
#pragma GCC unroll 8
        for (int r = 0; r < SROWS; r++) {
            acc[r][u] = _mm512_setzero_ps();
        }
    }
    for (size_t c = 0; c < dh; c++) {
        __m512bh kv[3];
#pragma GCC unroll 3
        for (int u = 0; u < nv; u++) {
            kv[u] = (__m512bh)_mm512_maskz_loadu_epi32(mk[u], kt + c * T + j0 + (size_t)u * 16);
        }
#pragma GCC unroll 8
        for (int r = 0; r < SROWS; r++) {
            __m512bh qv = (__m512bh)_mm512_set1_epi32((int)qr[r][c]);
#pragma GCC unroll 3
            for (int u = 0; u < nv; u++) {
                acc[r][u] = _mm512_dpbf16_ps(acc[r][u], qv, kv[u]);
            }
        }
    }
#pragma GCC unroll 8
    for (int r = 0; r < SROWS; r++) {
#pragma GCC unroll 3
        for (int u = 0; u < nv; u++) {
            _mm512_mask_storeu_ps(s + (size_t)r * T + j0 + (size_t)u * 16, mk[u], acc[r][u]);
            mx[r] = _mm512_mask_max_ps(mx[r], mk[u], mx[r], acc[r][u]);
        }
    }
}

/* o[r][0:w] = (sum_j2 pair(p) . pair(v)) * inv[r] for PROWS rows (pr: bf16
 * pair rows of th = ceil(T/2)), w <= 64 columns; stores the first rows. */
static inline __attribute__((always_inline)) void
pv_tile(size_t th, size_t d, size_t w, const uint32_t *const *pr, const uint32_t *vp, float *o,
        size_t ldo, const float *inv, size_t rows, const int nv)
{
    __m512 acc[PROWS][4];
    __mmask16 mk[4];
#pragma GCC unroll 4
    for (int u = 0; u < nv; u++) {
        mk[u] = lanes(w - (size_t)u * 16);
#pragma GCC unroll 6
        for (int r = 0; r < PROWS; r++) {
            acc[r][u] = _mm512_setzero_ps();
        }
    }
    for (size_t j = 0; j < th; j++) {
        __m512bh vv[4];
#pragma GCC unroll 4
        for (int u = 0; u < nv; u++) {
            vv[u] = (__m512bh)_mm512_maskz_loadu_epi32(mk[u], vp + j * d + (size_t)u * 16);
        }
#pragma GCC unroll 6
        for (int r = 0; r < PROWS; r++) {
            __m512bh pv = (__m512bh)_mm512_set1_epi32((int)pr[r][j]);
#pragma GCC unroll 4
            for (int u = 0; u < nv; u++) {
                acc[r][u] = _mm512_dpbf16_ps(acc[r][u], pv, vv[u]);
            }
        }
    }
#pragma GCC unroll 6
    for (int r = 0; r < PROWS; r++) {
        if ((size_t)r >= rows) {
            break;
        }
        __m512 vi = _mm512_set1_ps(inv[r]);
#pragma GCC unroll 4
        for (int u = 0; u < nv; u++) {
            _mm512_mask_storeu_ps(o + r * ldo + (size_t)u * 16, mk[u],
                                  _mm512_mul_ps(acc[r][u], vi));
        }
    }
}

/* ---- head ---- */

/* e[j] = exp(s[j] * scale - mx * scale) over one row of n scores, written
 * back in place as bf16 pairs (a zero after an odd n: the row of floats
 * holds ceil(n/2) dwords, and each chunk is read before its halves are
 * written); returns 1 / sum_j e[j] of the fp32 values. */
static float softmax_row_bf16(float *s, size_t n, float mx, float scale)
{
    __m512 vs = _mm512_set1_ps(scale), vm = _mm512_set1_ps(mx * scale), sum = _mm512_setzero_ps();
    uint16_t *p = (uint16_t *)s;
    for (size_t j = 0; j < n; j += 16) {
        __mmask16 m = lanes(n - j);
        __m512 e = exp_nonpos(_mm512_fmsub_ps(_mm512_maskz_loadu_ps(m, s + j), vs, vm));
        e = _mm512_maskz_mov_ps(m, e);
        sum = _mm512_add_ps(sum, e);
        size_t even = n - j >= 16 ? 16 : (n - j + 1) & ~(size_t)1;
        _mm256_mask_storeu_epi16(p + j, lanes(even), (__m256i)_mm512_cvtneps_pbh(e));
    }
    return 1.0f / _mm512_reduce_add_ps(sum);
}

static void scores_block(size_t T, size_t dh, const uint32_t *qb, const uint32_t *kt, size_t rows,
                         float *s, float *rowmax)
{
    __m512 mx[VITC_ATTN_SCRATCH_ROWS];
    for (size_t r = 0; r < VITC_ATTN_SCRATCH_ROWS; r++) {
        mx[r] = _mm512_set1_ps(-__builtin_inff());
    }
    size_t groups = (rows + SROWS - 1) / SROWS;
    for (size_t j0 = 0; j0 < T; j0 += 48) {
        for (size_t g = 0; g < groups; g++) {
            const uint32_t *qr[SROWS];
            for (size_t r = 0; r < SROWS; r++) {
                qr[r] = qb + (g * SROWS + r < rows ? g * SROWS + r : rows - 1) * dh;
            }
            float *sg = s + g * SROWS * T;
            switch (T - j0 < 48 ? (T - j0 + 15) / 16 : 3) {
            case 1:
                scores_tile(T, dh, qr, kt, j0, sg, mx + g * SROWS, 1);
                break;
            case 2:
                scores_tile(T, dh, qr, kt, j0, sg, mx + g * SROWS, 2);
                break;
            default:
                scores_tile(T, dh, qr, kt, j0, sg, mx + g * SROWS, 3);
            }
        }
    }
    for (size_t r = 0; r < rows; r++) {
        rowmax[r] = _mm512_reduce_max_ps(mx[r]);
    }
}

/* Scratch, in dwords: k pairs (dh, T), v pairs (th, d), the block's query
 * pairs (VITC_ATTN_SCRATCH_ROWS, dh), then its scores (that many rows of
 * T floats, each turned into th bf16 pairs in place); at most
 * (d + VITC_ATTN_SCRATCH_ROWS + 1) * (T + VITC_ATTN_SCRATCH_ROWS + 1). */
void vitc_attention_head_bf16_avx512(size_t T, size_t d, const float *q, const float *k,
                                     const float *v, size_t ld, float *o, size_t ldo, float sqrt_d,
                                     float *work)
{
    size_t dh = (d + 1) / 2, th = (T + 1) / 2;
    uint32_t *kt = (uint32_t *)work;
    uint32_t *vp = kt + dh * T;
    uint32_t *qb = vp + th * d;
    float *s = (float *)(qb + VITC_ATTN_SCRATCH_ROWS * dh);
    float rowmax[VITC_ATTN_SCRATCH_ROWS], inv[VITC_ATTN_SCRATCH_ROWS];
    pack_k(T, d, k, ld, kt);
    pack_v(T, d, v, ld, vp);
    float scale = 1.0f / sqrt_d;
    for (size_t i0 = 0; i0 < T; i0 += VITC_ATTN_SCRATCH_ROWS) {
        size_t rows = T - i0 < VITC_ATTN_SCRATCH_ROWS ? T - i0 : VITC_ATTN_SCRATCH_ROWS;
        for (size_t r = 0; r < rows; r++) {
            for (size_t c0 = 0; c0 < d; c0 += 32) {
                size_t n2 = dh - c0 / 2 < 16 ? dh - c0 / 2 : 16;
                _mm512_mask_storeu_epi32(qb + r * dh + c0 / 2, lanes(n2),
                                         pairs_row(q + (i0 + r) * ld + c0, d - c0));
            }
        }
        scores_block(T, dh, qb, kt, rows, s, rowmax);
        for (size_t r = 0; r < rows; r++) {
            inv[r] = softmax_row_bf16(s + r * T, T, rowmax[r], scale);
        }
        for (size_t g = 0; g * PROWS < rows; g++) {
            size_t gr = rows - g * PROWS < PROWS ? rows - g * PROWS : PROWS;
            const uint32_t *pr[PROWS];
            for (size_t r = 0; r < PROWS; r++) {
                pr[r] = (const uint32_t *)(s + (g * PROWS + (r < gr ? r : gr - 1)) * T);
            }
            for (size_t c0 = 0; c0 < d; c0 += 64) {
                size_t w = d - c0 < 64 ? d - c0 : 64;
                float *oc = o + (i0 + g * PROWS) * ldo + c0;
                const float *ig = inv + g * PROWS;
                switch ((w + 15) / 16) {
                case 1:
                    pv_tile(th, d, w, pr, vp + c0, oc, ldo, ig, gr, 1);
                    break;
                case 2:
                    pv_tile(th, d, w, pr, vp + c0, oc, ldo, ig, gr, 2);
                    break;
                case 3:
                    pv_tile(th, d, w, pr, vp + c0, oc, ldo, ig, gr, 3);
                    break;
                default:
                    pv_tile(th, d, w, pr, vp + c0, oc, ldo, ig, gr, 4);
                }
            }
        }
    }
}

#endif /* __x86_64__ */
