/* SPDX-License-Identifier: MIT
 *
 * kernels_avx512.c — the AVX-512 kernel table (contracts in kernels.h):
 * a blocked linear on the shared packed weights with an 8 x 48 register
 * tile and fused epilogues, vectorised erf/tanh/exp accurate to a few float
 * ulps, LayerNorm in double, and attention in blocks of 24 query rows.
 * Compiled with AVX-512 flags (Makefile); called only after dispatch.c has
 * seen the CPU run them. Kernel layer: no allocation, no threads.
 */
#include "cpu/kernels.h"

#if defined(__x86_64__)

#include <immintrin.h>
#include <stdbool.h>
#include <string.h>

/* ---- blocking ---- */

/* Register tile: MR rows x NV vectors of 16 columns (one packed panel each).
 * 8 x 3 = 24 accumulators + 3 weight vectors + 1 broadcast fit the 32 zmm
 * registers; per k the tile issues 24 FMAs for 3 loads and 8 broadcasts,
 * inside Zen 4's one 512-bit FMA and two loads per cycle. */
#define MR 8
#define NV 3
#define NR (NV * VITC_PACK_NB)

/* Cache blocks, measured (bench/bench_kernels.c) rather than derived: with
 * M ~ 200 rows per image everything but the weights fits in the 1 MiB L2, so
 * the blocks serve packing and threading more than cache reuse. A KC of all
 * of ViT-B's K = 768 beat 128..512 (fewer partial-sum passes); the weight
 * slice a tile streams (KC x 48, 144 KiB) comes from L2 at 8 bytes per
 * cycle. MC = 24 rows x NC = 1536 columns per block: a block packs its rows
 * once, so the qkv and MLP-up linears (N = 2304, 3072) pack each row twice
 * rather than 3 and 4 times at NC = 768 (packing was ~2.4% of a forward; a
 * whole ViT-B/16 forward ran ~3% faster); one image (197 rows) still splits
 * into 9 row blocks for the threads. */
#define KC 768
#define MC 24
#define NC (32 * NR)

/* ---- vector math ---- */

static inline __m512 v_fill(float c)
{
    return _mm512_set1_ps(c);
}

/* exp(x): x = n ln2 + r with |r| <= ln2/2, a degree-7 Taylor polynomial
 * (truncation 5e-9 relative), then vscalefps for 2^n, which also handles
 * overflow to inf and gradual underflow to 0. */
static inline __m512 v_exp(__m512 x)
{
    x = _mm512_min_ps(_mm512_max_ps(x, v_fill(-104.0f)), v_fill(88.7228394f));
    __m512 n = _mm512_roundscale_ps(_mm512_mul_ps(x, v_fill(1.44269504088896341f)),
                                    _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC);
    __m512 r = _mm512_fnmadd_ps(n, v_fill(0.693145751953125f), x); /* ln2 high bits: exact */
    r = _mm512_fnmadd_ps(n, v_fill(1.42860682030941723212e-6f), r);
    __m512 p = v_fill(1.0f / 5040.0f);
    p = _mm512_fmadd_ps(p, r, v_fill(1.0f / 720.0f));
    p = _mm512_fmadd_ps(p, r, v_fill(1.0f / 120.0f));
    p = _mm512_fmadd_ps(p, r, v_fill(1.0f / 24.0f));
    p = _mm512_fmadd_ps(p, r, v_fill(1.0f / 6.0f));
    p = _mm512_fmadd_ps(p, r, v_fill(0.5f));
    p = _mm512_fmadd_ps(p, r, v_fill(1.0f));
    p = _mm512_fmadd_ps(p, r, v_fill(1.0f));
    return _mm512_scalef_ps(p, n);
}

/* Horner evaluation of c[0] + c[1] t + ... + c[n-1] t^(n-1). */
static inline __m512 v_poly(__m512 t, const float *c, int n)
{
    __m512 p = v_fill(c[n - 1]);
    for (int i = n - 2; i >= 0; i--) {
        p = _mm512_fmadd_ps(p, t, v_fill(c[i]));
    }
    return p;
}

/* |x| with x's sign put back onto a non-negative y. */
static inline __m512 v_copysign(__m512 y, __m512 x)
{
    return _mm512_or_ps(y, _mm512_and_ps(x, v_fill(-0.0f)));
}

/* erf on [0, 4) in 16 intervals of 0.25, one degree-5 polynomial each in
 * t = z - (the interval's centre): ERF_TAB[j][i] is interval i's
 * coefficient of t^j. Below 1 the polynomials fit erf(z) / z, which is
 * smooth and positive, so z * P(t) keeps erf's relative accuracy down to 0;
 * from 1 on they fit erf(z) itself, saving that multiply's rounding where
 * erf nears 1. Relative least-squares fits on Chebyshev nodes (error below
 * 3e-9, 0.05 ulp); the constant terms were rounded to float first and the
 * rest refitted around them. No exp, no cancellation. */
static const float ERF_TAB[6][16] __attribute__((aligned(64))) = {
    {1.122529626e+00f, 1.077645063e+00f, 9.971854091e-01f, 8.960857987e-01f, 8.883882165e-01f,
     9.481700659e-01f, 9.784437418e-01f, 9.919900298e-01f, 9.973459840e-01f, 9.992170334e-01f,
     9.997946024e-01f, 9.999521375e-01f, 9.999901056e-01f, 9.999982119e-01f, 9.999997020e-01f,
     9.999999404e-01f},
    {-9.315494448e-02f, -2.594460845e-01f, -3.738974035e-01f, -4.243894219e-01f, 3.182739615e-01f,
     1.703597605e-01f, 8.047225326e-02f, 3.354582563e-02f, 1.234082039e-02f, 4.006477538e-03f,
     1.147875329e-03f, 2.902284905e-04f, 6.475879491e-05f, 1.275178420e-05f, 2.215933591e-06f,
     3.398257604e-07f},
    {-3.656398356e-01f, -2.884882987e-01f, -1.652639806e-01f, -3.973417729e-02f, -3.580559492e-01f,
     -2.342452854e-01f, -1.307711452e-01f, -6.289173663e-02f, -2.622746862e-02f, -9.507784620e-03f,
     -3.007333726e-03f, -8.323155926e-04f, -2.029273746e-04f, -4.996972348e-05f, -7.290382200e-06f,
     3.059386017e-06f},
    {5.537721142e-02f, 1.429823637e-01f, 1.753440052e-01f, 1.516039968e-01f, 1.624542624e-01f,
     1.579394937e-01f, 1.148418263e-01f, 6.744266301e-02f, 3.303771466e-02f, 1.373056602e-02f,
     4.890294280e-03f, 1.502424246e-03f, 3.999626206e-04f, 9.256081103e-05f, 1.866695857e-05f,
     3.286756737e-06f},
    {1.059288457e-01f, 6.234096736e-02f, 1.935448381e-03f, -4.423476011e-02f, 2.811199054e-02f,
     -3.010771051e-02f, -4.929160699e-02f, -4.253455997e-02f, -2.622529306e-02f, -1.357327960e-02f,
     -5.750076845e-03f, -2.007545205e-03f, -5.365310353e-04f, 2.106448228e-04f, -6.982950435e-05f,
     -2.301433415e-04f},
    {-1.944288053e-02f, -4.607267678e-02f, -4.641944543e-02f, -2.566549182e-02f, -6.126525253e-02f,
     -3.072053939e-02f, -2.297781641e-03f, 1.130135451e-02f, 1.244887710e-02f, 8.357654326e-03f,
     4.235763568e-03f, 1.727650291e-03f, 5.842665560e-04f, 1.665893942e-04f, 4.045940295e-05f,
     8.430251000e-06f},
};

/* erf(x) within 2 float ulps (tests/unit/cpu/test_kernels.c measures it): z = |x|
 * clamped to 4 (erf rounds to 1 in float from 3.92 on), the interval's six
 * coefficients picked per lane by vpermps from ERF_TAB, Horner in t, times
 * z below 1, x's sign. About half the instructions of the erf(x)/x and
 * log(erfc) fits with an exp it replaces, which made the fp32 GELU take 8.3
 * ns per 16 floats on Zen 5 (now 4.4). NaN stays NaN: vminps returns its
 * second operand, z, for one. */
static inline __m512 v_erf(__m512 x)
{
    __m512 z = _mm512_min_ps(v_fill(4.0f), _mm512_abs_ps(x));
    __m512 fi = _mm512_roundscale_ps(_mm512_min_ps(_mm512_mul_ps(z, v_fill(4.0f)), v_fill(15.5f)),
                                     _MM_FROUND_TO_ZERO | _MM_FROUND_NO_EXC);
    __m512i i = _mm512_cvttps_epi32(fi);
    __m512 t = _mm512_sub_ps(z, _mm512_fmadd_ps(fi, v_fill(0.25f), v_fill(0.125f)));
    __m512 p = _mm512_permutexvar_ps(i, _mm512_load_ps(ERF_TAB[5]));
    for (int j = 4; j >= 0; j--) {
        p = _mm512_fmadd_ps(p, t, _mm512_permutexvar_ps(i, _mm512_load_ps(ERF_TAB[j])));
    }
    __mmask16 below1 = _mm512_cmp_ps_mask(fi, v_fill(4.0f), _CMP_LT_OQ);
    return v_copysign(_mm512_mask_mul_ps(p, below1, z, p), x);
}

/* (tanh(x)/x - 1) / x^2 in s = x^2 on [0, 0.625] (relative error of tanh
 * 1.4e-10). */
static const float TANH_SMALL[6] = {
    -0.3333332970235996f,  0.13333182877573632f,   -0.05394470542651791f,
    0.021691853639922244f, -0.008159179797150206f, 0.0021285594225206143f,
};

/* tanh(x): x + x s P(s) below 0.625, 1 - 2 / (exp(2|x|) + 1) above (>= 0.55, so
 * the subtraction loses nothing), saturating where tanh rounds to 1. */
static inline __m512 v_tanh(__m512 x)
{
    __m512 ax = _mm512_abs_ps(x);
    __m512 s = _mm512_mul_ps(ax, ax);
    __m512 small = _mm512_fmadd_ps(ax, _mm512_mul_ps(s, v_poly(s, TANH_SMALL, 6)), ax);
    __m512 e = v_exp(_mm512_mul_ps(v_fill(2.0f), _mm512_min_ps(ax, v_fill(10.0f))));
    __m512 large =
        _mm512_sub_ps(v_fill(1.0f), _mm512_div_ps(v_fill(2.0f), _mm512_add_ps(e, v_fill(1.0f))));
    __mmask16 big = _mm512_cmp_ps_mask(ax, v_fill(0.625f), _CMP_GE_OQ);
    return v_copysign(_mm512_mask_blend_ps(big, small, large), x);
}

/* x / (1 + exp(-a x)). */
static inline __m512 v_sigmoid_mul(__m512 x, float a)
{
    __m512 e = v_exp(_mm512_mul_ps(v_fill(-a), x));
    return _mm512_div_ps(x, _mm512_add_ps(v_fill(1.0f), e));
}

/* The activations with the same formulas, in the same order, as the
 * reference (kernels_ref.c), with vector erf/tanh/exp. */
static inline __m512 v_act(enum vitc_act act, __m512 x)
{
    switch (act) {
    case VITC_ACT_NONE:
        return x;
    case VITC_ACT_GELU: {
        __m512 e = v_erf(_mm512_mul_ps(x, v_fill(0.70710678118654752f)));
        return _mm512_mul_ps(_mm512_mul_ps(x, v_fill(0.5f)), _mm512_add_ps(v_fill(1.0f), e));
    }
    case VITC_ACT_GELU_TANH: {
        __m512 x3 = _mm512_mul_ps(_mm512_mul_ps(x, x), x);
        __m512 in = _mm512_mul_ps(v_fill(0.7978845608028654f),
                                  _mm512_add_ps(x, _mm512_mul_ps(v_fill(0.044715f), x3)));
        return _mm512_mul_ps(_mm512_mul_ps(v_fill(0.5f), x),
                             _mm512_add_ps(v_fill(1.0f), v_tanh(in)));
    }
    case VITC_ACT_QUICK_GELU:
        return v_sigmoid_mul(x, 1.702f);
    case VITC_ACT_RELU:
        return _mm512_max_ps(x, _mm512_setzero_ps());
    case VITC_ACT_SILU:
        return v_sigmoid_mul(x, 1.0f);
    case VITC_ACT_TANH:
        return v_tanh(x);
    }
    return x;
}

/* Lanes [0, n) of a vector, n <= 16. */
static inline __mmask16 lanes(size_t n)
{
    return n >= 16 ? (__mmask16)0xFFFF : (__mmask16)((1u << n) - 1u);
}

static void erf_row_avx512(float *x, size_t n)
{
    for (size_t i = 0; i < n; i += 16) {
        __mmask16 m = lanes(n - i);
        _mm512_mask_storeu_ps(x + i, m, v_erf(_mm512_maskz_loadu_ps(m, x + i)));
    }
}

/* The low-precision modes' erf (kernels.h: A&S 7.1.28), as the portable
 * vitc_kernels_act_row_lowp computes it but with a Newton-refined
 * reciprocal for its division. */
static inline __m512 v_erf_lowp(__m512 x)
{
    __m512 ax = _mm512_min_ps(_mm512_abs_ps(x), v_fill(4.0f));
    __m512 p = v_poly(ax, VITC_LOWP_ERF_POLY, 7);
    p = _mm512_mul_ps(p, p);
    p = _mm512_mul_ps(p, p);
    p = _mm512_mul_ps(p, p);
    p = _mm512_mul_ps(p, p);
    __m512 r = _mm512_rcp14_ps(p);
    r = _mm512_mul_ps(r, _mm512_fnmadd_ps(p, r, v_fill(2.0f)));
    return v_copysign(_mm512_sub_ps(v_fill(1.0f), r), x);
}

void vitc_avx512_act_row_lowp(enum vitc_act act, float *x, size_t n)
{
    if (act != VITC_ACT_GELU) {
        vitc_kernels_avx512.act_row(act, x, n);
        return;
    }
    for (size_t i = 0; i < n; i += 16) {
        __mmask16 m = lanes(n - i);
        __m512 v = _mm512_maskz_loadu_ps(m, x + i);
        __m512 e = v_erf_lowp(_mm512_mul_ps(v, v_fill(0.70710678118654752f)));
        _mm512_mask_storeu_ps(
            x + i, m,
            _mm512_mul_ps(_mm512_mul_ps(v, v_fill(0.5f)), _mm512_add_ps(v_fill(1.0f), e)));
    }
}

static void act_row_avx512(enum vitc_act act, float *x, size_t n)
{
    if (act == VITC_ACT_NONE) {
        return;
    }
    for (size_t i = 0; i < n; i += 16) {
        __mmask16 m = lanes(n - i);
        _mm512_mask_storeu_ps(x + i, m, v_act(act, _mm512_maskz_loadu_ps(m, x + i)));
    }
}

/* ---- linear ---- */

/* One register tile's job: which rows of packed activations meet which
 * weight panels, where partial sums live between K blocks, and the
 * epilogue applied after the last one. */
struct tile {
    size_t kc;         /* K steps in this block                          */
    const float *ap;   /* (kc, MR) packed activation rows                */
    const float *bp;   /* panel 0 at this K block; panel v at bp + v*bstride */
    size_t bstride;    /* floats between panels: K * VITC_PACK_NB        */
    float *part;       /* (MR, NC) partial sums, row stride NC           */
    bool first, last;  /* first / last K block                           */
    __mmask16 tail;    /* lanes of the tile's last vector inside N       */
    const float *bias; /* (NV*16) at the tile's columns, or NULL         */
    const float *res;  /* row stride ldy at the tile's corner, or NULL   */
    float *y;          /* row stride ldy at the tile's corner            */
    size_t ldy;
    enum vitc_act act;
};

/* The micro-kernel on MR rows x nv vectors; nv is a constant in every
 * caller and every index below is a constant after unrolling, so the
 * accumulators live in registers. Rows past the block's end (m < MR) compute
 * on zero-padded activations and are not stored. Each element sums
 * k = 0, 1, ... in one FMA chain, carried across K blocks through part. */
static inline __attribute__((always_inline)) void tile_run(const struct tile *t, int m,
                                                           const int nv)
{
    __m512 acc[MR][NV];
#pragma GCC unroll 8
    for (int r = 0; r < MR; r++) {
#pragma GCC unroll 3
        for (int v = 0; v < nv; v++) {
            acc[r][v] =
                t->first ? _mm512_setzero_ps() : _mm512_load_ps(t->part + (size_t)r * NC + v * 16);
        }
    }
    const float *ap = t->ap, *bp = t->bp;
    for (size_t k = 0; k < t->kc; k++) {
        __m512 b[NV];
#pragma GCC unroll 3
        for (int v = 0; v < nv; v++) {
            b[v] = _mm512_loadu_ps(bp + v * t->bstride + k * VITC_PACK_NB);
        }
#pragma GCC unroll 8
        for (int r = 0; r < MR; r++) {
            __m512 a = _mm512_set1_ps(ap[k * MR + r]);
#pragma GCC unroll 3
            for (int v = 0; v < nv; v++) {
                acc[r][v] = _mm512_fmadd_ps(a, b[v], acc[r][v]);
            }
        }
    }
    if (!t->last) {
#pragma GCC unroll 8
        for (int r = 0; r < MR; r++) {
#pragma GCC unroll 3
            for (int v = 0; v < nv; v++) {
                _mm512_store_ps(t->part + (size_t)r * NC + v * 16, acc[r][v]);
            }
        }
        return;
    }
    /* Epilogue, as the reference: bias, activation, residual, one store. */
#pragma GCC unroll 3
    for (int v = 0; v < nv; v++) {
        __mmask16 mk = v == nv - 1 ? t->tail : (__mmask16)0xFFFF;
        __m512 bv = t->bias ? _mm512_maskz_loadu_ps(mk, t->bias + v * 16) : _mm512_setzero_ps();
#pragma GCC unroll 8
        for (int r = 0; r < MR; r++) {
            if (r >= m) {
                break;
            }
            __m512 z = acc[r][v];
            if (t->bias) {
                z = _mm512_add_ps(z, bv);
            }
            z = v_act(t->act, z);
            if (t->res) {
                z = _mm512_add_ps(z, _mm512_maskz_loadu_ps(mk, t->res + r * t->ldy + v * 16));
            }
            _mm512_mask_storeu_ps(t->y + r * t->ldy + v * 16, mk, z);
        }
    }
}

/* One copy per tile width; only N's last tile can be narrower than NV. */
static void tile_nv3(const struct tile *t, int m)
{
    tile_run(t, m, 3);
}

static void tile_nv2(const struct tile *t, int m)
{
    tile_run(t, m, 2);
}

static void tile_nv1(const struct tile *t, int m)
{
    tile_run(t, m, 1);
}

/* dst[k][r] = row r's k-th float for k < 8, r < 8: an 8 x 8 transpose in
 * registers (unpack pairs, then quads, then swap 128-bit halves). */
static inline void transpose_8x8(const float *const *rows, size_t k0, float *dst)
{
    __m256 r[8], t[8], u[8];
    for (int i = 0; i < 8; i++) {
        r[i] = _mm256_loadu_ps(rows[i] + k0);
    }
    for (int i = 0; i < 8; i += 2) {
        t[i] = _mm256_unpacklo_ps(r[i], r[i + 1]);
        t[i + 1] = _mm256_unpackhi_ps(r[i], r[i + 1]);
    }
    for (int i = 0; i < 8; i += 4) {
        u[i] = _mm256_shuffle_ps(t[i], t[i + 2], _MM_SHUFFLE(1, 0, 1, 0));
        u[i + 1] = _mm256_shuffle_ps(t[i], t[i + 2], _MM_SHUFFLE(3, 2, 3, 2));
        u[i + 2] = _mm256_shuffle_ps(t[i + 1], t[i + 3], _MM_SHUFFLE(1, 0, 1, 0));
        u[i + 3] = _mm256_shuffle_ps(t[i + 1], t[i + 3], _MM_SHUFFLE(3, 2, 3, 2));
    }
    for (int i = 0; i < 4; i++) {
        _mm256_storeu_ps(dst + i * MR, _mm256_permute2f128_ps(u[i], u[i + 4], 0x20));
        _mm256_storeu_ps(dst + (i + 4) * MR, _mm256_permute2f128_ps(u[i], u[i + 4], 0x31));
    }
}

/* Packs rows [0, M) x columns [0, kc) of x into MR-row panels, k-major:
 * ap[panel][k][r] = x[panel * MR + r][k], rows past M zero. Full panels
 * move 8 x 8 blocks through registers; the rest goes float by float. */
static void pack_rows(size_t M, size_t kc, const float *x, size_t ldx, float *ap)
{
    for (size_t i0 = 0; i0 < M; i0 += MR) {
        size_t m = M - i0 < MR ? M - i0 : MR, k = 0;
        float *dst = ap + i0 * kc;
        const float *rows[MR];
        for (size_t r = 0; r < MR; r++) {
            rows[r] = x + (i0 + (r < m ? r : 0)) * ldx;
        }
        if (m == MR) {
            for (; k + 8 <= kc; k += 8) {
                transpose_8x8(rows, k, dst + k * MR);
            }
        }
        for (; k < kc; k++) {
            for (size_t r = 0; r < MR; r++) {
                dst[k * MR + r] = r < m ? rows[r][k] : 0.0f;
            }
        }
    }
}

static void linear_block_avx512(size_t M, size_t N, size_t K, const float *x, size_t ldx,
                                const float *wp, const float *bias, const float *res, float *y,
                                size_t ldy, enum vitc_act act, float *scratch)
{
    float *ap = scratch;             /* (MC/MR, KC, MR) packed activations */
    float *part = scratch + MC * KC; /* (MC, NC) partial sums              */
    size_t n_panels = (N + VITC_PACK_NB - 1) / VITC_PACK_NB;
    __mmask16 tail = lanes(N - (n_panels - 1) * VITC_PACK_NB);
    for (size_t k0 = 0; k0 < K; k0 += KC) {
        size_t kc = K - k0 < KC ? K - k0 : KC;
        pack_rows(M, kc, x + k0, ldx, ap);
        for (size_t p0 = 0; p0 < n_panels; p0 += NV) {
            int nv = (int)(n_panels - p0 < NV ? n_panels - p0 : NV);
            size_t n0 = p0 * VITC_PACK_NB;
            for (size_t i0 = 0; i0 < M; i0 += MR) {
                int m = (int)(M - i0 < MR ? M - i0 : MR);
                struct tile t = {
                    .kc = kc,
                    .ap = ap + i0 * kc,
                    .bp = wp + p0 * K * VITC_PACK_NB + k0 * VITC_PACK_NB,
                    .bstride = K * VITC_PACK_NB,
                    .part = part + i0 * NC + n0,
                    .first = k0 == 0,
                    .last = k0 + kc == K,
                    .tail = p0 + (size_t)nv == n_panels ? tail : (__mmask16)0xFFFF,
                    .bias = bias ? bias + n0 : NULL,
                    .res = res ? res + i0 * ldy + n0 : NULL,
                    .y = y + i0 * ldy + n0,
                    .ldy = ldy,
                    .act = act,
                };
                if (nv == 3) {
                    tile_nv3(&t, m);
                } else if (nv == 2) {
                    tile_nv2(&t, m);
                } else {
                    tile_nv1(&t, m);
                }
            }
        }
    }
}

/* ---- softmax and layernorm ---- */

static void softmax_row_avx512(float *x, size_t n)
{
    __m512 mx = v_fill(-__builtin_inff());
    for (size_t i = 0; i < n; i += 16) {
        __mmask16 m = lanes(n - i);
        mx = _mm512_mask_max_ps(mx, m, mx, _mm512_maskz_loadu_ps(m, x + i));
    }
    __m512 vmax = v_fill(_mm512_reduce_max_ps(mx)), sum = _mm512_setzero_ps();
    for (size_t i = 0; i < n; i += 16) {
        __mmask16 m = lanes(n - i);
        __m512 e = v_exp(_mm512_sub_ps(_mm512_maskz_loadu_ps(m, x + i), vmax));
        e = _mm512_maskz_mov_ps(m, e);
        sum = _mm512_add_ps(sum, e);
        _mm512_mask_storeu_ps(x + i, m, e);
    }
    __m512 vsum = v_fill(_mm512_reduce_add_ps(sum));
    for (size_t i = 0; i < n; i += 16) {
        __mmask16 m = lanes(n - i);
        _mm512_mask_storeu_ps(x + i, m, _mm512_div_ps(_mm512_maskz_loadu_ps(m, x + i), vsum));
    }
}

/* Sum of (x[i] - c) over n floats in double, in a fixed order for each n. */
static double sum_minus(size_t n, const float *x, double c, bool square)
{
    __m512d acc0 = _mm512_setzero_pd(), acc1 = _mm512_setzero_pd(), vc = _mm512_set1_pd(c);
    size_t i = 0;
    for (; i + 16 <= n; i += 16) {
        __m512d lo = _mm512_sub_pd(_mm512_cvtps_pd(_mm256_loadu_ps(x + i)), vc);
        __m512d hi = _mm512_sub_pd(_mm512_cvtps_pd(_mm256_loadu_ps(x + i + 8)), vc);
        acc0 = square ? _mm512_fmadd_pd(lo, lo, acc0) : _mm512_add_pd(acc0, lo);
        acc1 = square ? _mm512_fmadd_pd(hi, hi, acc1) : _mm512_add_pd(acc1, hi);
    }
    double s = _mm512_reduce_add_pd(_mm512_add_pd(acc0, acc1));
    for (; i < n; i++) {
        double d = x[i] - c;
        s += square ? d * d : d;
    }
    return s;
}

static void layernorm_row_avx512(size_t n, const float *x, float *y, const float *w, const float *b,
                                 double eps)
{
    double mean = sum_minus(n, x, 0.0, false) / (double)n;
    double var = sum_minus(n, x, mean, true) / (double)n;
    double rstd = 1.0 / __builtin_sqrt(var + eps);
    __m512d vm = _mm512_set1_pd(mean), vr = _mm512_set1_pd(rstd);
    size_t i = 0;
    for (; i + 8 <= n; i += 8) {
        __m512d d = _mm512_mul_pd(_mm512_sub_pd(_mm512_cvtps_pd(_mm256_loadu_ps(x + i)), vm), vr);
        d = _mm512_fmadd_pd(d, _mm512_cvtps_pd(_mm256_loadu_ps(w + i)),
                            _mm512_cvtps_pd(_mm256_loadu_ps(b + i)));
        _mm256_storeu_ps(y + i, _mm512_cvtpd_ps(d));
    }
    for (; i < n; i++) {
        y[i] = (float)((x[i] - mean) * rstd * w[i] + b[i]);
    }
}

/* ---- attention ---- */

/* Register tiles: scores of SROWS query rows, P.V of PROWS rows. A block
 * of VITC_ATTN_SCRATCH_ROWS rows (a multiple of both) shares each chunk of
 * transposed keys, in L1, among its score tiles. */
#define SROWS 8
#define PROWS 6
_Static_assert(VITC_ATTN_SCRATCH_ROWS % SROWS == 0 && VITC_ATTN_SCRATCH_ROWS % PROWS == 0,
               "attention blocks hold whole tiles");

/* Raw scores s[r][j0 + 16u + lane] = q_r . k_j of SROWS query rows against
 * up to 48 keys as nv vectors (a constant in every caller), 8 x 3 = 24
 * accumulators; mx[r] keeps each row's running maximum (masked lanes never
 * enter it). Each row's dot products run over c in order, whatever the
 * other rows are. */
static inline __attribute__((always_inline)) void scores_tile(size_t T, size_t d,
                                                              const float *const *qr,
                                                              const float *kt, size_t j0, float *s,
                                                              __m512 *mx, const int nv)
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
    for (size_t c = 0; c < d; c++) {
        __m512 kv[3];
#pragma GCC unroll 3
        for (int u = 0; u < nv; u++) {
            kv[u] = _mm512_maskz_loadu_ps(mk[u], kt + c * T + j0 + (size_t)u * 16);
        }
#pragma GCC unroll 8
        for (int r = 0; r < SROWS; r++) {
            __m512 qv = _mm512_set1_ps(qr[r][c]);
#pragma GCC unroll 3
            for (int u = 0; u < nv; u++) {
                acc[r][u] = _mm512_fmadd_ps(qv, kv[u], acc[r][u]);
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

/* o[r][0:w] = (sum_j p[r][j] v[j][0:w]) * inv[r] for PROWS rows (pr, with
 * the last real row repeated), w <= 64 columns as nv vectors (a constant in
 * every caller), 6 x 4 = 24 accumulators; stores only the first `rows`. */
static inline __attribute__((always_inline)) void
pv_tile(size_t T, size_t w, const float *const *pr, const float *v, size_t ld, float *o, size_t ldo,
        const float *inv, size_t rows, const int nv)
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
    for (size_t j = 0; j < T; j++) {
        __m512 vv[4];
#pragma GCC unroll 4
        for (int u = 0; u < nv; u++) {
            vv[u] = _mm512_maskz_loadu_ps(mk[u], v + j * ld + (size_t)u * 16);
        }
#pragma GCC unroll 6
        for (int r = 0; r < PROWS; r++) {
            __m512 pv = _mm512_set1_ps(pr[r][j]);
#pragma GCC unroll 4
            for (int u = 0; u < nv; u++) {
                acc[r][u] = _mm512_fmadd_ps(pv, vv[u], acc[r][u]);
            }
        }
    }
#pragma GCC unroll 6
    for (int r = 0; r < PROWS; r++) {
        if ((size_t)r >= rows) {
            break;
        }
        __m512 vi = v_fill(inv[r]);
#pragma GCC unroll 4
        for (int u = 0; u < nv; u++) {
            _mm512_mask_storeu_ps(o + r * ldo + (size_t)u * 16, mk[u],
                                  _mm512_mul_ps(acc[r][u], vi));
        }
    }
}

/* e[j] = exp(s[j] * scale - mx * scale) in place over one row of n scores;
 * returns 1 / sum_j e[j]. transformers computes exp(s/sqrt_d - max/sqrt_d):
 * the same whenever 1/sqrt_d is exact (d = 64), else within an ulp. */
static float softmax_exp_row(float *s, size_t n, float mx, float scale)
{
    __m512 vs = v_fill(scale), vm = v_fill(mx * scale), sum = _mm512_setzero_ps();
    for (size_t j = 0; j < n; j += 16) {
        __mmask16 m = lanes(n - j);
        __m512 e = v_exp(_mm512_fmsub_ps(_mm512_maskz_loadu_ps(m, s + j), vs, vm));
        e = _mm512_maskz_mov_ps(m, e);
        sum = _mm512_add_ps(sum, e);
        _mm512_mask_storeu_ps(s + j, m, e);
    }
    return 1.0f / _mm512_reduce_add_ps(sum);
}

/* Scores of one block of up to VITC_ATTN_SCRATCH_ROWS query rows from i0: one
 * chunk of up to 48 keys at a time against every SROWS-row tile of the
 * block; rowmax gets each row's largest raw score. */
static void scores_block(size_t T, size_t d, const float *q, size_t ld, const float *kt, size_t i0,
                         size_t rows, float *s, float *rowmax)
{
    __m512 mx[VITC_ATTN_SCRATCH_ROWS];
    for (size_t r = 0; r < VITC_ATTN_SCRATCH_ROWS; r++) {
        mx[r] = v_fill(-__builtin_inff());
    }
    size_t groups = (rows + SROWS - 1) / SROWS;
    for (size_t j0 = 0; j0 < T; j0 += 48) {
        for (size_t g = 0; g < groups; g++) {
            const float *qr[SROWS];
            for (size_t r = 0; r < SROWS; r++) {
                size_t i = g * SROWS + r < rows ? g * SROWS + r : rows - 1;
                qr[r] = q + (i0 + i) * ld;
            }
            float *sg = s + g * SROWS * T;
            switch (T - j0 < 48 ? (T - j0 + 15) / 16 : 3) {
            case 1:
                scores_tile(T, d, qr, kt, j0, sg, mx + g * SROWS, 1);
                break;
            case 2:
                scores_tile(T, d, qr, kt, j0, sg, mx + g * SROWS, 2);
                break;
            default:
                scores_tile(T, d, qr, kt, j0, sg, mx + g * SROWS, 3);
            }
        }
    }
    for (size_t r = 0; r < rows; r++) {
        rowmax[r] = _mm512_reduce_max_ps(mx[r]);
    }
}

/* kt[c][j] = k[j][c] for T keys of d dims (kt row stride T), 16 x 16
 * blocks transposed in registers: unpacks of 32-bit then 64-bit pairs, then
 * two rounds of 128-bit lane shuffles. */
static void transpose_k(size_t T, size_t d, const float *k, size_t ld, float *kt)
{
    for (size_t j0 = 0; j0 < T; j0 += 16) {
        size_t nj = T - j0 < 16 ? T - j0 : 16;
        __mmask16 mj = lanes(nj);
        for (size_t c0 = 0; c0 < d; c0 += 16) {
            size_t nc = d - c0 < 16 ? d - c0 : 16;
            __mmask16 mc = lanes(nc);
            __m512 r[16], t[16];
            for (size_t i = 0; i < 16; i++) {
                r[i] = i < nj ? _mm512_maskz_loadu_ps(mc, k + (j0 + i) * ld + c0)
                              : _mm512_setzero_ps();
            }
            for (int i = 0; i < 16; i += 2) {
                t[i] = _mm512_unpacklo_ps(r[i], r[i + 1]);
                t[i + 1] = _mm512_unpackhi_ps(r[i], r[i + 1]);
            }
            for (int i = 0; i < 16; i += 4) {
                __m512d a = _mm512_castps_pd(t[i]), b = _mm512_castps_pd(t[i + 2]);
                __m512d e = _mm512_castps_pd(t[i + 1]), f = _mm512_castps_pd(t[i + 3]);
                r[i] = _mm512_castpd_ps(_mm512_unpacklo_pd(a, b));
                r[i + 1] = _mm512_castpd_ps(_mm512_unpackhi_pd(a, b));
                r[i + 2] = _mm512_castpd_ps(_mm512_unpacklo_pd(e, f));
                r[i + 3] = _mm512_castpd_ps(_mm512_unpackhi_pd(e, f));
            }
            /* r[4b + x] holds, per 128-bit lane L, column 4L + x of rows
             * 4b..4b+3; gather the four lanes L of blocks b = 0..3. */
            for (int x = 0; x < 4; x++) {
                __m512 a01 = _mm512_shuffle_f32x4(r[x], r[4 + x], 0x44); /* L0,L1 of b0 | b1 */
                __m512 a23 = _mm512_shuffle_f32x4(r[8 + x], r[12 + x], 0x44);
                __m512 b01 = _mm512_shuffle_f32x4(r[x], r[4 + x], 0xEE); /* L2,L3 */
                __m512 b23 = _mm512_shuffle_f32x4(r[8 + x], r[12 + x], 0xEE);
                t[x] = _mm512_shuffle_f32x4(a01, a23, 0x88);      /* lane 0 */
                t[4 + x] = _mm512_shuffle_f32x4(a01, a23, 0xDD);  /* lane 1 */
                t[8 + x] = _mm512_shuffle_f32x4(b01, b23, 0x88);  /* lane 2 */
                t[12 + x] = _mm512_shuffle_f32x4(b01, b23, 0xDD); /* lane 3 */
            }
            for (size_t i = 0; i < nc; i++) {
                _mm512_mask_storeu_ps(kt + (c0 + i) * T + j0, mj, t[i]);
            }
        }
    }
}

/* Blocks of VITC_ATTN_SCRATCH_ROWS query rows: raw scores against k
 * transposed once per head (scores_block), exp in place with the scale
 * folded in, then P.V in PROWS-row tiles with the softmax's 1/sum applied
 * to the output. A short tile repeats its last row and stores only the real
 * ones, so every row is computed the same way wherever it falls. */
static void attention_head_avx512(size_t T, size_t d, const float *q, const float *k,
                                  const float *v, size_t ld, float *o, size_t ldo, float sqrt_d,
                                  float *work)
{
    float *kt = work;      /* (d, T) k transposed                   */
    float *s = kt + d * T; /* (block rows, T) raw scores, then exp  */
    float rowmax[VITC_ATTN_SCRATCH_ROWS], inv[VITC_ATTN_SCRATCH_ROWS];
    transpose_k(T, d, k, ld, kt);
    float scale = 1.0f / sqrt_d;
    for (size_t i0 = 0; i0 < T; i0 += VITC_ATTN_SCRATCH_ROWS) {
        size_t rows = T - i0 < VITC_ATTN_SCRATCH_ROWS ? T - i0 : VITC_ATTN_SCRATCH_ROWS;
        scores_block(T, d, q, ld, kt, i0, rows, s, rowmax);
        for (size_t r = 0; r < rows; r++) {
            inv[r] = softmax_exp_row(s + r * T, T, rowmax[r], scale);
        }
        for (size_t g = 0; g * PROWS < rows; g++) {
            size_t gr = rows - g * PROWS < PROWS ? rows - g * PROWS : PROWS;
            const float *pr[PROWS];
            for (size_t r = 0; r < PROWS; r++) {
                pr[r] = s + (g * PROWS + (r < gr ? r : gr - 1)) * T;
            }
            for (size_t c0 = 0; c0 < d; c0 += 64) {
                size_t w = d - c0 < 64 ? d - c0 : 64;
                float *oc = o + (i0 + g * PROWS) * ldo + c0;
                const float *vc = v + c0, *ig = inv + g * PROWS;
                switch ((w + 15) / 16) {
                case 1:
                    pv_tile(T, w, pr, vc, ld, oc, ldo, ig, gr, 1);
                    break;
                case 2:
                    pv_tile(T, w, pr, vc, ld, oc, ldo, ig, gr, 2);
                    break;
                case 3:
                    pv_tile(T, w, pr, vc, ld, oc, ldo, ig, gr, 3);
                    break;
                default:
                    pv_tile(T, w, pr, vc, ld, oc, ldo, ig, gr, 4);
                }
            }
        }
    }
}

const struct vitc_cpu_kernels vitc_kernels_avx512 = {
    .name = "avx512",
    .mr = MR,
    .nr = NR,
    .kc = KC,
    .mc = MC,
    .nc = NC,
    .linear_scratch = MC * KC + MC * NC,
    .linear_block = linear_block_avx512,
    .layernorm_row = layernorm_row_avx512,
    .attention_head = attention_head_avx512,
    .erf_row = erf_row_avx512,
    .act_row = act_row_avx512,
    .softmax_row = softmax_row_avx512,
};

#endif /* __x86_64__ */
