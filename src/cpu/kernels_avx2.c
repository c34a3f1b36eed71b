/* SPDX-License-Identifier: MIT
 *
 * kernels_avx2.c — the AVX2 + FMA kernel table (contracts in kernels.h),
 * the same algorithms as kernels_avx512.c on 8-lane vectors: a blocked
 * linear with a 6 x 16 register tile on the shared packed weights, vector
 * erf/tanh/exp, LayerNorm in double, attention four query rows at a time.
 * Compiled with AVX2 flags (Makefile); called only after dispatch.c has seen
 * the CPU run them. Kernel layer: no allocation, no threads.
 */
#include "cpu/kernels.h"

#if defined(__x86_64__)

#include <immintrin.h>
#include <stdbool.h>

/* ---- blocking ---- */

/* Register tile: MR rows x one packed panel (two 8-lane vectors): 12
 * accumulators + 2 weight vectors + 1 broadcast of the 16 ymm registers,
 * 12 FMAs per 2 loads and 6 broadcasts per k. */
#define MR 6
#define NR VITC_PACK_NB

/* Cache blocks, measured as for kernels_avx512.c (bench/bench_kernels.c):
 * all of ViT-B's K = 768 per block beat 256 and 384, and 24 rows x 768
 * columns keep activation packing near 2% of the work. */
#define KC 768
#define MC 24
#define NC (48 * NR)

/* ---- vector math ---- */

static inline __m256 v_fill(float c)
{
    return _mm256_set1_ps(c);
}

/* Lanes [0, n) of a vector as a maskload/maskstore mask, n <= 8. */
static inline __m256i lanes(size_t n)
{
    int k = n >= 8 ? 8 : (int)n;
    return _mm256_cmpgt_epi32(_mm256_set1_epi32(k), _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7));
}

/* exp(x) as in kernels_avx512.c, with 2^n built in the exponent field; the
 * input is clamped to [-87.33, 88.37] where 2^n stays a normal float, which
 * changes results only where exp is below 1.2e-38 or above 2.4e38. */
static inline __m256 v_exp(__m256 x)
{
    x = _mm256_min_ps(_mm256_max_ps(x, v_fill(-87.33f)), v_fill(88.37f));
    __m256 n = _mm256_round_ps(_mm256_mul_ps(x, v_fill(1.44269504088896341f)),
                               _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC);
    __m256 r = _mm256_fnmadd_ps(n, v_fill(0.693145751953125f), x);
    r = _mm256_fnmadd_ps(n, v_fill(1.42860682030941723212e-6f), r);
    __m256 p = v_fill(1.0f / 5040.0f);
    p = _mm256_fmadd_ps(p, r, v_fill(1.0f / 720.0f));
    p = _mm256_fmadd_ps(p, r, v_fill(1.0f / 120.0f));
    p = _mm256_fmadd_ps(p, r, v_fill(1.0f / 24.0f));
    p = _mm256_fmadd_ps(p, r, v_fill(1.0f / 6.0f));
    p = _mm256_fmadd_ps(p, r, v_fill(0.5f));
    p = _mm256_fmadd_ps(p, r, v_fill(1.0f));
    p = _mm256_fmadd_ps(p, r, v_fill(1.0f));
    __m256i e =
        _mm256_slli_epi32(_mm256_add_epi32(_mm256_cvtps_epi32(n), _mm256_set1_epi32(127)), 23);
    return _mm256_mul_ps(p, _mm256_castsi256_ps(e));
}

static inline __m256 v_poly(__m256 t, const float *c, int n)
{
    __m256 p = v_fill(c[n - 1]);
    for (int i = n - 2; i >= 0; i--) {
        p = _mm256_fmadd_ps(p, t, v_fill(c[i]));
    }
    return p;
}

static inline __m256 v_abs(__m256 x)
{
    return _mm256_andnot_ps(v_fill(-0.0f), x);
}

static inline __m256 v_copysign(__m256 y, __m256 x)
{
    return _mm256_or_ps(y, _mm256_and_ps(x, v_fill(-0.0f)));
}

/* The fits of kernels_avx512.c (see there). */
static const float ERF_SMALL[7] = {
    0.1283791657323394f,   -0.37612625839631836f,   0.11283585269123994f,   -0.02685381598750035f,
    0.005188334324129035f, -0.0008010245918580924f, 7.854020010907459e-05f,
};
static const float ERFC_LOG[10] = {
    -5.364941260699015f,     -4.4181608220091215f,     -0.9237509444584194f,
    -0.016464947343218357f,  0.003571137180114959f,    -0.0007329721657960229f,
    0.0001349745513055133f,  -1.9983662376457775e-05f, 1.8205793169529126e-06f,
    -4.221969193309386e-08f,
};
static const float TANH_SMALL[6] = {
    -0.3333332970235996f,  0.13333182877573632f,   -0.05394470542651791f,
    0.021691853639922244f, -0.008159179797150206f, 0.0021285594225206143f,
};

static inline __m256 v_erf(__m256 x)
{
    __m256 ax = v_abs(x);
    __m256 small = _mm256_fmadd_ps(ax, v_poly(_mm256_mul_ps(ax, ax), ERF_SMALL, 7), ax);
    __m256 t = _mm256_sub_ps(_mm256_min_ps(ax, v_fill(3.92f)), v_fill(2.0f));
    __m256 large = _mm256_sub_ps(v_fill(1.0f), v_exp(v_poly(t, ERFC_LOG, 10)));
    __m256 big = _mm256_cmp_ps(ax, v_fill(1.0f), _CMP_GE_OQ);
    return v_copysign(_mm256_blendv_ps(small, large, big), x);
}

static inline __m256 v_tanh(__m256 x)
{
    __m256 ax = v_abs(x);
    __m256 s = _mm256_mul_ps(ax, ax);
    __m256 small = _mm256_fmadd_ps(ax, _mm256_mul_ps(s, v_poly(s, TANH_SMALL, 6)), ax);
    __m256 e = v_exp(_mm256_mul_ps(v_fill(2.0f), _mm256_min_ps(ax, v_fill(10.0f))));
    __m256 large =
        _mm256_sub_ps(v_fill(1.0f), _mm256_div_ps(v_fill(2.0f), _mm256_add_ps(e, v_fill(1.0f))));
    __m256 big = _mm256_cmp_ps(ax, v_fill(0.625f), _CMP_GE_OQ);
    return v_copysign(_mm256_blendv_ps(small, large, big), x);
}

static inline __m256 v_sigmoid_mul(__m256 x, float a)
{
    __m256 e = v_exp(_mm256_mul_ps(v_fill(-a), x));
    return _mm256_div_ps(x, _mm256_add_ps(v_fill(1.0f), e));
}

static inline __m256 v_act(enum vitc_act act, __m256 x)
{
    switch (act) {
    case VITC_ACT_NONE:
        return x;
    case VITC_ACT_GELU: {
        __m256 e = v_erf(_mm256_mul_ps(x, v_fill(0.70710678118654752f)));
        return _mm256_mul_ps(_mm256_mul_ps(x, v_fill(0.5f)), _mm256_add_ps(v_fill(1.0f), e));
    }
    case VITC_ACT_GELU_TANH: {
        __m256 x3 = _mm256_mul_ps(_mm256_mul_ps(x, x), x);
        __m256 in = _mm256_mul_ps(v_fill(0.7978845608028654f),
                                  _mm256_add_ps(x, _mm256_mul_ps(v_fill(0.044715f), x3)));
        return _mm256_mul_ps(_mm256_mul_ps(v_fill(0.5f), x),
                             _mm256_add_ps(v_fill(1.0f), v_tanh(in)));
    }
    case VITC_ACT_QUICK_GELU:
        return v_sigmoid_mul(x, 1.702f);
    case VITC_ACT_RELU:
        return _mm256_max_ps(x, _mm256_setzero_ps());
    case VITC_ACT_SILU:
        return v_sigmoid_mul(x, 1.0f);
    case VITC_ACT_TANH:
        return v_tanh(x);
    }
    return x;
}

static void erf_row_avx2(float *x, size_t n)
{
    for (size_t i = 0; i < n; i += 8) {
        __m256i m = lanes(n - i);
        _mm256_maskstore_ps(x + i, m, v_erf(_mm256_maskload_ps(x + i, m)));
    }
}

static void act_row_avx2(enum vitc_act act, float *x, size_t n)
{
    if (act == VITC_ACT_NONE) {
        return;
    }
    for (size_t i = 0; i < n; i += 8) {
        __m256i m = lanes(n - i);
        _mm256_maskstore_ps(x + i, m, v_act(act, _mm256_maskload_ps(x + i, m)));
    }
}

/* ---- linear ---- */

/* One register tile's job (see kernels_avx512.c). */
struct tile {
    size_t kc;         /* K steps in this block                        */
    const float *ap;   /* (kc, MR) packed activation rows              */
    const float *bp;   /* the tile's panel at this K block             */
    float *part;       /* (MR, NC) partial sums, row stride NC         */
    bool first, last;  /* first / last K block                         */
    size_t nb;         /* columns of the panel inside N (1..16)        */
    const float *bias; /* (16) at the tile's columns, or NULL          */
    const float *res;  /* row stride ldy at the tile's corner, or NULL */
    float *y;          /* row stride ldy at the tile's corner          */
    size_t ldy;
    enum vitc_act act;
};

/* MR rows x one panel; rows past m compute on zero-padded activations and
 * are not stored. One FMA chain per element over k = 0, 1, ... */
static void tile_run(const struct tile *t, int m)
{
    __m256 acc[MR][2];
#pragma GCC unroll 6
    for (int r = 0; r < MR; r++) {
        acc[r][0] = t->first ? _mm256_setzero_ps() : _mm256_load_ps(t->part + (size_t)r * NC);
        acc[r][1] = t->first ? _mm256_setzero_ps() : _mm256_load_ps(t->part + (size_t)r * NC + 8);
    }
    const float *ap = t->ap, *bp = t->bp;
    for (size_t k = 0; k < t->kc; k++) {
        __m256 b0 = _mm256_loadu_ps(bp + k * VITC_PACK_NB);
        __m256 b1 = _mm256_loadu_ps(bp + k * VITC_PACK_NB + 8);
#pragma GCC unroll 6
        for (int r = 0; r < MR; r++) {
            __m256 a = _mm256_broadcast_ss(ap + k * MR + r);
            acc[r][0] = _mm256_fmadd_ps(a, b0, acc[r][0]);
            acc[r][1] = _mm256_fmadd_ps(a, b1, acc[r][1]);
        }
    }
    if (!t->last) {
#pragma GCC unroll 6
        for (int r = 0; r < MR; r++) {
            _mm256_store_ps(t->part + (size_t)r * NC, acc[r][0]);
            _mm256_store_ps(t->part + (size_t)r * NC + 8, acc[r][1]);
        }
        return;
    }
    __m256i mk[2] = {lanes(t->nb), lanes(t->nb > 8 ? t->nb - 8 : 0)};
    __m256 bv[2] = {_mm256_setzero_ps(), _mm256_setzero_ps()};
    if (t->bias) {
        bv[0] = _mm256_maskload_ps(t->bias, mk[0]);
        bv[1] = _mm256_maskload_ps(t->bias + 8, mk[1]);
    }
#pragma GCC unroll 6
    for (int r = 0; r < MR; r++) {
        if (r >= m) {
            break;
        }
#pragma GCC unroll 2
        for (int v = 0; v < 2; v++) {
            __m256 z = acc[r][v];
            if (t->bias) {
                z = _mm256_add_ps(z, bv[v]);
            }
            z = v_act(t->act, z);
            if (t->res) {
                z = _mm256_add_ps(z, _mm256_maskload_ps(t->res + r * t->ldy + v * 8, mk[v]));
            }
            _mm256_maskstore_ps(t->y + r * t->ldy + v * 8, mk[v], z);
        }
    }
}

/* ap[panel][k][r] = x[panel * MR + r][k], rows past M zero. */
static void pack_rows(size_t M, size_t kc, const float *x, size_t ldx, float *ap)
{
    for (size_t i0 = 0; i0 < M; i0 += MR) {
        size_t m = M - i0 < MR ? M - i0 : MR;
        float *dst = ap + i0 * kc;
        for (size_t r = 0; r < MR; r++) {
            const float *src = x + (i0 + r) * ldx;
            for (size_t k = 0; k < kc; k++) {
                dst[k * MR + r] = r < m ? src[k] : 0.0f;
            }
        }
    }
}

static void linear_block_avx2(size_t M, size_t N, size_t K, const float *x, size_t ldx,
                              const float *wp, const float *bias, const float *res, float *y,
                              size_t ldy, enum vitc_act act, float *scratch)
{
    float *ap = scratch;             /* (MC/MR, KC, MR) packed activations */
    float *part = scratch + MC * KC; /* (MC, NC) partial sums              */
    for (size_t k0 = 0; k0 < K; k0 += KC) {
        size_t kc = K - k0 < KC ? K - k0 : KC;
        pack_rows(M, kc, x + k0, ldx, ap);
        for (size_t n0 = 0; n0 < N; n0 += NR) {
            for (size_t i0 = 0; i0 < M; i0 += MR) {
                struct tile t = {
                    .kc = kc,
                    .ap = ap + i0 * kc,
                    .bp = wp + n0 * K + k0 * VITC_PACK_NB,
                    .part = part + i0 * NC + n0,
                    .first = k0 == 0,
                    .last = k0 + kc == K,
                    .nb = N - n0 < NR ? N - n0 : NR,
                    .bias = bias ? bias + n0 : NULL,
                    .res = res ? res + i0 * ldy + n0 : NULL,
                    .y = y + i0 * ldy + n0,
                    .ldy = ldy,
                    .act = act,
                };
                tile_run(&t, (int)(M - i0 < MR ? M - i0 : MR));
            }
        }
    }
}

/* ---- softmax and layernorm ---- */

static float hmax(__m256 v)
{
    __m128 m = _mm_max_ps(_mm256_castps256_ps128(v), _mm256_extractf128_ps(v, 1));
    m = _mm_max_ps(m, _mm_movehl_ps(m, m));
    m = _mm_max_ss(m, _mm_movehdup_ps(m));
    return _mm_cvtss_f32(m);
}

static float hsum(__m256 v)
{
    __m128 s = _mm_add_ps(_mm256_castps256_ps128(v), _mm256_extractf128_ps(v, 1));
    s = _mm_add_ps(s, _mm_movehl_ps(s, s));
    s = _mm_add_ss(s, _mm_movehdup_ps(s));
    return _mm_cvtss_f32(s);
}

static void softmax_row_avx2(float *x, size_t n)
{
    __m256 mx = v_fill(-__builtin_inff());
    for (size_t i = 0; i < n; i += 8) {
        __m256i m = lanes(n - i);
        __m256 v = _mm256_blendv_ps(mx, _mm256_maskload_ps(x + i, m), _mm256_castsi256_ps(m));
        mx = _mm256_max_ps(mx, v);
    }
    __m256 vmax = v_fill(hmax(mx)), sum = _mm256_setzero_ps();
    for (size_t i = 0; i < n; i += 8) {
        __m256i m = lanes(n - i);
        __m256 e = v_exp(_mm256_sub_ps(_mm256_maskload_ps(x + i, m), vmax));
        e = _mm256_and_ps(e, _mm256_castsi256_ps(m));
        sum = _mm256_add_ps(sum, e);
        _mm256_maskstore_ps(x + i, m, e);
    }
    __m256 vsum = v_fill(hsum(sum));
    for (size_t i = 0; i < n; i += 8) {
        __m256i m = lanes(n - i);
        _mm256_maskstore_ps(x + i, m, _mm256_div_ps(_mm256_maskload_ps(x + i, m), vsum));
    }
}

/* Sum of (x[i] - c), or of its squares, in double in a fixed order for n. */
static double sum_minus(size_t n, const float *x, double c, bool square)
{
    __m256d acc0 = _mm256_setzero_pd(), acc1 = _mm256_setzero_pd(), vc = _mm256_set1_pd(c);
    size_t i = 0;
    for (; i + 8 <= n; i += 8) {
        __m256d lo = _mm256_sub_pd(_mm256_cvtps_pd(_mm_loadu_ps(x + i)), vc);
        __m256d hi = _mm256_sub_pd(_mm256_cvtps_pd(_mm_loadu_ps(x + i + 4)), vc);
        acc0 = square ? _mm256_fmadd_pd(lo, lo, acc0) : _mm256_add_pd(acc0, lo);
        acc1 = square ? _mm256_fmadd_pd(hi, hi, acc1) : _mm256_add_pd(acc1, hi);
    }
    __m256d a = _mm256_add_pd(acc0, acc1);
    __m128d h = _mm_add_pd(_mm256_castpd256_pd128(a), _mm256_extractf128_pd(a, 1));
    double s = _mm_cvtsd_f64(_mm_add_sd(h, _mm_unpackhi_pd(h, h)));
    for (; i < n; i++) {
        double d = x[i] - c;
        s += square ? d * d : d;
    }
    return s;
}

static void layernorm_row_avx2(size_t n, const float *x, float *y, const float *w, const float *b,
                               double eps)
{
    double mean = sum_minus(n, x, 0.0, false) / (double)n;
    double var = sum_minus(n, x, mean, true) / (double)n;
    double rstd = 1.0 / __builtin_sqrt(var + eps);
    __m256d vm = _mm256_set1_pd(mean), vr = _mm256_set1_pd(rstd);
    size_t i = 0;
    for (; i + 4 <= n; i += 4) {
        __m256d d = _mm256_mul_pd(_mm256_sub_pd(_mm256_cvtps_pd(_mm_loadu_ps(x + i)), vm), vr);
        d = _mm256_fmadd_pd(d, _mm256_cvtps_pd(_mm_loadu_ps(w + i)),
                            _mm256_cvtps_pd(_mm_loadu_ps(b + i)));
        _mm_storeu_ps(y + i, _mm256_cvtpd_ps(d));
    }
    for (; i < n; i++) {
        y[i] = (float)((x[i] - mean) * rstd * w[i] + b[i]);
    }
}

/* ---- attention ---- */

/* o[r][0:w] = sum_j p[r][j] v[j][0:w] for the first `rows` of
 * VITC_ATTN_ROWS rows, w <= 16 columns as two vectors. */
static void pv_chunk(size_t T, size_t w, const float *p, const float *v, size_t ld, float *o,
                     size_t ldo, size_t rows)
{
    __m256 acc[VITC_ATTN_ROWS][2];
    __m256i mk[2] = {lanes(w), lanes(w > 8 ? w - 8 : 0)};
#pragma GCC unroll 4
    for (int r = 0; r < VITC_ATTN_ROWS; r++) {
        acc[r][0] = _mm256_setzero_ps();
        acc[r][1] = _mm256_setzero_ps();
    }
    for (size_t j = 0; j < T; j++) {
        __m256 v0 = _mm256_maskload_ps(v + j * ld, mk[0]);
        __m256 v1 = _mm256_maskload_ps(v + j * ld + 8, mk[1]);
#pragma GCC unroll 4
        for (int r = 0; r < VITC_ATTN_ROWS; r++) {
            __m256 pr = _mm256_broadcast_ss(p + (size_t)r * T + j);
            acc[r][0] = _mm256_fmadd_ps(pr, v0, acc[r][0]);
            acc[r][1] = _mm256_fmadd_ps(pr, v1, acc[r][1]);
        }
    }
#pragma GCC unroll 4
    for (int r = 0; r < VITC_ATTN_ROWS; r++) {
        if ((size_t)r >= rows) {
            break;
        }
        _mm256_maskstore_ps(o + r * ldo, mk[0], acc[r][0]);
        _mm256_maskstore_ps(o + r * ldo + 8, mk[1], acc[r][1]);
    }
}

/* As attention_head_avx512: four query rows at a time, a short last group
 * repeating its last row and storing only the real ones. */
static void attention_head_avx2(size_t T, size_t d, const float *q, const float *k, const float *v,
                                size_t ld, float *o, size_t ldo, float sqrt_d, float *work)
{
    float *kt = work;      /* (d, T) k transposed                */
    float *s = kt + d * T; /* (VITC_ATTN_ROWS, T) scores, then p */
    for (size_t j = 0; j < T; j++) {
        for (size_t c = 0; c < d; c++) {
            kt[c * T + j] = k[j * ld + c];
        }
    }
    __m256 vsd = v_fill(sqrt_d);
    for (size_t i0 = 0; i0 < T; i0 += VITC_ATTN_ROWS) {
        size_t rows = T - i0 < VITC_ATTN_ROWS ? T - i0 : VITC_ATTN_ROWS;
        const float *qr[VITC_ATTN_ROWS];
        for (size_t r = 0; r < VITC_ATTN_ROWS; r++) {
            qr[r] = q + (i0 + (r < rows ? r : rows - 1)) * ld;
        }
        for (size_t j0 = 0; j0 < T; j0 += 8) {
            __m256i mk = lanes(T - j0);
            __m256 acc[VITC_ATTN_ROWS];
            for (int r = 0; r < VITC_ATTN_ROWS; r++) {
                acc[r] = _mm256_setzero_ps();
            }
            for (size_t c = 0; c < d; c++) {
                __m256 kv = _mm256_maskload_ps(kt + c * T + j0, mk);
                for (int r = 0; r < VITC_ATTN_ROWS; r++) {
                    acc[r] = _mm256_fmadd_ps(_mm256_broadcast_ss(qr[r] + c), kv, acc[r]);
                }
            }
            for (int r = 0; r < VITC_ATTN_ROWS; r++) {
                _mm256_maskstore_ps(s + (size_t)r * T + j0, mk, _mm256_div_ps(acc[r], vsd));
            }
        }
        for (size_t r = 0; r < VITC_ATTN_ROWS; r++) {
            softmax_row_avx2(s + r * T, T);
        }
        for (size_t c0 = 0; c0 < d; c0 += 16) {
            size_t w = d - c0 < 16 ? d - c0 : 16;
            pv_chunk(T, w, s, v + c0, ld, o + i0 * ldo + c0, ldo, rows);
        }
    }
}

const struct vitc_cpu_kernels vitc_kernels_avx2 = {
    .name = "avx2",
    .mr = MR,
    .nr = NR,
    .kc = KC,
    .mc = MC,
    .nc = NC,
    .linear_scratch = MC * KC + MC * NC,
    .linear_block = linear_block_avx2,
    .layernorm_row = layernorm_row_avx2,
    .attention_head = attention_head_avx2,
    .erf_row = erf_row_avx2,
    .act_row = act_row_avx2,
    .softmax_row = softmax_row_avx2,
};

#endif /* __x86_64__ */
