/* SPDX-License-Identifier: MIT
 *
 * kernels_i8_avx512.c — the int8 linear with AVX-512 VNNI (contract in
 * kernels.h, oracle in kernels_lowp_ref.c): each block's rows are quantized
 * once to uint8 (per-row scale and zero point, the reference's bytes), then
 * an 8 x 48 register tile of int32 accumulators runs vpdpbusd (4 u8
 * activations x 4 s8 weights per lane) over all of K, and a float epilogue
 * rescales, adds bias, activation and residual. The integer sums are exact,
 * so only the epilogue's float rounding can differ from the reference.
 * Compiled with AVX-512 + VNNI flags (Makefile); called only after
 * dispatch.c has seen the CPU run them. Kernel layer: no allocation.
 */
#include "cpu/kernels.h"
#include "cpu/kernels_attn_bf16_avx512.h"

#if defined(__x86_64__)

#include <immintrin.h>
#include <math.h>

#include "cpu/kernels_i8_avx512.h"

/* ---- blocking ---- */

/* Register tile: MR rows x NV panels of 16 columns. 8 x 3 = 24 int32
 * accumulators + 3 weight vectors + a broadcast fit the 32 zmm registers;
 * per group of 4 k the tile issues 24 vpdpbusd (Zen 4: one 512-bit per
 * cycle) for 3 weight loads and 8 four-byte broadcasts, well inside the two
 * loads per cycle. */
#define MR 8
#define NV 3
#define NR (NV * VITC_PACK_NB)

/* Cache blocks, measured (bench/bench_kernels.c). A block quantizes its
 * rows once for all its columns, and quantizing a row costs about as much
 * as two of its 16-column panels of dot products (0.4 cycle per element),
 * so blocks span all of a ViT's N: NC = 3072 (at 384 columns the qkv linear
 * ran at 87% of the vpdpbusd peak, at 2304 at 94%). Threads then share the
 * rows instead: MC = 104 cuts one image (197 rows) into two blocks. A tile
 * streams its K x 48 weight slice (36 KiB at K = 768, 144 KiB at 3072) from
 * L2, where it stays beside the block's MC x K quantized rows. */
#define MC 104
#define NC 3072

/* Scratch: per-row scales and zero points (MC_PAD each), then the quantized
 * rows as MR-row panels of K4 / 4 groups, each group MR dwords. */
#define MC_PAD ((MC + MR - 1) / MR * MR)

/* Lanes [0, n) of a vector, n <= 16. */
static inline __mmask16 lanes(size_t n)
{
    return n >= 16 ? (__mmask16)0xFFFF : (__mmask16)((1u << n) - 1u);
}

/* ---- activation quantization ---- */

/* Scale, 1 / scale and zero point of a row, as vitc_kernels_quantize_row_u8:
 * min and max with 0 by vector (vminps/vmaxps return their second operand,
 * the running value, for a NaN, as the reference's comparisons skip one;
 * and for two zeros, so -0 never enters), four running values each so the
 * pass is not bound by their latency, then the reference's own scalar
 * arithmetic. */
static void row_params(const float *x, size_t K, float *scale, float *inv, int32_t *zero)
{
    __m512 lo[4], hi[4];
    for (int u = 0; u < 4; u++) {
        lo[u] = hi[u] = _mm512_setzero_ps();
    }
    size_t k = 0;
    for (; k + 64 <= K; k += 64) {
        for (int u = 0; u < 4; u++) {
            __m512 v = _mm512_loadu_ps(x + k + 16 * u);
            lo[u] = _mm512_min_ps(v, lo[u]);
            hi[u] = _mm512_max_ps(v, hi[u]);
        }
    }
    for (; k < K; k += 16) {
        __m512 v = _mm512_maskz_loadu_ps(lanes(K - k), x + k);
        lo[0] = _mm512_min_ps(v, lo[0]);
        hi[0] = _mm512_max_ps(v, hi[0]);
    }
    lo[0] = _mm512_min_ps(_mm512_min_ps(lo[0], lo[1]), _mm512_min_ps(lo[2], lo[3]));
    hi[0] = _mm512_max_ps(_mm512_max_ps(hi[0], hi[1]), _mm512_max_ps(hi[2], hi[3]));
    float l = _mm512_reduce_min_ps(lo[0]), h = _mm512_reduce_max_ps(hi[0]);
    float s = (h - l) / 255.0f;
    if (!(s > 0.0f)) {
        s = 1.0f;
    }
    float iv = 1.0f / s;
    float zr = rintf(-l * iv);
    /* A NaN zr (lo = 0 with inv = inf, a range under ~1e-36) gives 0 here,
     * and the same bytes as the reference; its zero point is then an
     * undefined float-to-int conversion. */
    *zero = zr >= 255.0f ? 255 : zr >= 0.0f ? (int32_t)zr : 0;
    *scale = s;
    *inv = iv;
}

/* q = clamp(rint(x * inv) + zero, 0, 255) for 16 floats. x * inv is first
 * clamped to +-512 (wider than any in-range value, |x * inv| <= ~255) so
 * the conversion never overflows: +-inf saturate as in the reference, and
 * NaN, which vmaxps replaces by its second operand, becomes -512 and so 0. */
static inline __m128i quant16(__m512 x, __m512 inv, __m512i zero)
{
    __m512 r = _mm512_max_ps(_mm512_mul_ps(x, inv), _mm512_set1_ps(-512.0f));
    r = _mm512_min_ps(r, _mm512_set1_ps(512.0f));
    __m512i q = _mm512_add_epi32(_mm512_cvtps_epi32(r), zero); /* round half to even */
    return _mm512_cvtusepi32_epi8(_mm512_max_epi32(q, _mm512_setzero_si512()));
}

/* Output dword p of a panel half: row p % 8's group p / 8 (+ 2 for the
 * second half), from a = rows 0-3 and b = rows 4-7, 4 groups per row. */
static inline __m512i group_index(int half)
{
    int g = 2 * half;
    return _mm512_set_epi32(16 + 12 + g + 1, 16 + 8 + g + 1, 16 + 4 + g + 1, 16 + g + 1,
                            12 + g + 1, 8 + g + 1, 4 + g + 1, g + 1, 16 + 12 + g, 16 + 8 + g,
                            16 + 4 + g, 16 + g, 12 + g, 8 + g, 4 + g, g);
}

/* Sixteen k (k0 .. k0+15, lanes mk of them inside K) of the 8 rows of a
 * panel: quantized, zero past K, transposed to groups of 8 row dwords and
 * stored as groups g0 .. g0+3, as many as K4 has. */
static inline __attribute__((always_inline)) void quantize_chunk(
    const float *const *rows, const __m512 *inv, const __m512i *zp, size_t k0, __mmask16 mk,
    size_t groups, uint32_t *aq)
{
    __m128i q[MR];
#pragma GCC unroll 8
    for (int r = 0; r < MR; r++) {
        __m512 v = _mm512_maskz_loadu_ps(mk, rows[r] + k0);
        q[r] = _mm_maskz_mov_epi8(mk, quant16(v, inv[r], zp[r]));
    }
    __m512i a = _mm512_inserti32x4(_mm512_castsi128_si512(q[0]), q[1], 1);
    a = _mm512_inserti32x4(_mm512_inserti32x4(a, q[2], 2), q[3], 3);
    __m512i b = _mm512_inserti32x4(_mm512_castsi128_si512(q[4]), q[5], 1);
    b = _mm512_inserti32x4(_mm512_inserti32x4(b, q[6], 2), q[7], 3);
    size_t g0 = k0 / 4, n = groups - g0 < 4 ? groups - g0 : 4;
    uint32_t *dst = aq + g0 * MR;
    _mm512_mask_storeu_epi32(dst, n >= 2 ? 0xFFFF : 0x00FF,
                             _mm512_permutex2var_epi32(a, group_index(0), b));
    if (n > 2) {
        _mm512_mask_storeu_epi32(dst + 2 * MR, n >= 4 ? 0xFFFF : 0x00FF,
                                 _mm512_permutex2var_epi32(a, group_index(1), b));
    }
}

void vitc_i8_avx512_quantize_panel(const float *x, size_t ldx, size_t m, size_t K, uint32_t *aq,
                                   float *scale, int32_t *zero)
{
    /* Rows past m read row 0 with a zero multiplier and zero point: zeros. */
    const float *rows[MR];
    __m512 inv[MR];
    __m512i zp[MR];
    for (size_t r = 0; r < MR; r++) {
        float iv = 0.0f;
        scale[r] = 0.0f;
        zero[r] = 0;
        rows[r] = x + (r < m ? r : 0) * ldx;
        if (r < m) {
            row_params(rows[r], K, scale + r, &iv, zero + r);
        }
        inv[r] = _mm512_set1_ps(iv);
        zp[r] = _mm512_set1_epi32(zero[r]);
    }
    size_t groups = (K + 3) / 4, k = 0;
    for (; k + 16 <= K; k += 16) {
        quantize_chunk(rows, inv, zp, k, 0xFFFF, groups, aq);
    }
    if (k < K) {
        quantize_chunk(rows, inv, zp, k, lanes(K - k), groups, aq);
    }
}

/* ---- micro-kernel ---- */

/* One register tile's job. */
struct tile {
    size_t groups;         /* K4 / 4                                          */
    const uint32_t *aq;    /* (groups, MR) dwords of 4 quantized activations  */
    const int8_t *bp;      /* panel 0 of the tile; panel v at bp + v*bstride  */
    size_t bstride;        /* bytes between panels: K4 * VITC_PACK_NB         */
    const float *xs;       /* (MR) row scales                                 */
    const int32_t *xz;     /* (MR) row zero points                            */
    const float *ws;       /* (NV*16) column scales at the tile's columns     */
    const int32_t *wsum;   /* (NV*16) column sums of the int8 weights         */
    __mmask16 tail;        /* lanes of the tile's last vector inside N        */
    const float *bias;     /* (NV*16) or NULL                                 */
    const float *res;      /* row stride ldy at the tile's corner, or NULL    */
    float *y;              /* row stride ldy at the tile's corner             */
    size_t ldy;
    enum vitc_act act;
};

/* The tile on mr rows (MR, or MR / 2 for a block's last rows) x nv panels
 * (both constants in every caller, so after unrolling the accumulators
 * live in registers). Rows past m compute on zero activations and are not
 * stored. The epilogue follows the reference:
 *   t = (float)(acc - zero * sum) * (scale * wscale);  t += bias;
 *   t = act(t);  y = t + res
 * with separate multiplies and adds (no FMA), so without an activation the
 * result is the reference's to the bit. */
static inline __attribute__((always_inline)) void tile_run(const struct tile *t, int m,
                                                           const int mr, const int nv)
{
    __m512i acc[MR][NV];
#pragma GCC unroll 8
    for (int r = 0; r < mr; r++) {
#pragma GCC unroll 3
        for (int v = 0; v < nv; v++) {
            acc[r][v] = _mm512_setzero_si512();
        }
    }
    const uint32_t *aq = t->aq;
    const int8_t *bp = t->bp;
    for (size_t g = 0; g < t->groups; g++) {
        __m512i b[NV];
#pragma GCC unroll 3
        for (int v = 0; v < nv; v++) {
            b[v] = _mm512_loadu_si512((const void *)(bp + v * t->bstride + g * 64));
        }
#pragma GCC unroll 8
        for (int r = 0; r < mr; r++) {
            __m512i a = _mm512_set1_epi32((int)aq[g * MR + r]);
#pragma GCC unroll 3
            for (int v = 0; v < nv; v++) {
                acc[r][v] = _mm512_dpbusd_epi32(acc[r][v], a, b[v]);
            }
        }
    }
    float tmp[MR * NR] __attribute__((aligned(64))); /* pre-activation rows */
    const int w = nv * 16;
#pragma GCC unroll 3
    for (int v = 0; v < nv; v++) {
        __mmask16 mk = v == nv - 1 ? t->tail : (__mmask16)0xFFFF;
        __m512 ws = _mm512_maskz_loadu_ps(mk, t->ws + v * 16);
        __m512i wsum = _mm512_maskz_loadu_epi32(mk, t->wsum + v * 16);
        __m512 bv = t->bias ? _mm512_maskz_loadu_ps(mk, t->bias + v * 16) : _mm512_setzero_ps();
#pragma GCC unroll 8
        for (int r = 0; r < mr; r++) {
            if (r >= m) {
                break;
            }
            __m512i c = _mm512_sub_epi32(acc[r][v],
                                         _mm512_mullo_epi32(_mm512_set1_epi32(t->xz[r]), wsum));
            __m512 z = _mm512_mul_ps(_mm512_cvtepi32_ps(c),
                                     _mm512_mul_ps(_mm512_set1_ps(t->xs[r]), ws));
            if (t->bias) {
                z = _mm512_add_ps(z, bv);
            }
            if (t->act != VITC_ACT_NONE) {
                _mm512_store_ps(tmp + r * w + v * 16, z);
                continue;
            }
            if (t->res) {
                z = _mm512_add_ps(z, _mm512_maskz_loadu_ps(mk, t->res + r * t->ldy + v * 16));
            }
            _mm512_mask_storeu_ps(t->y + r * t->ldy + v * 16, mk, z);
        }
    }
    if (t->act == VITC_ACT_NONE) {
        return;
    }
    /* The low-precision activations (kernels.h), on the finished rows at
     * once. */
    vitc_avx512_act_row_lowp(t->act, tmp, (size_t)(m * w));
#pragma GCC unroll 3
    for (int v = 0; v < nv; v++) {
        __mmask16 mk = v == nv - 1 ? t->tail : (__mmask16)0xFFFF;
        for (int r = 0; r < m; r++) {
            __m512 z = _mm512_load_ps(tmp + r * w + v * 16);
            if (t->res) {
                z = _mm512_add_ps(z, _mm512_maskz_loadu_ps(mk, t->res + r * t->ldy + v * 16));
            }
            _mm512_mask_storeu_ps(t->y + r * t->ldy + v * 16, mk, z);
        }
    }
}

/* One copy per tile shape; only N's last tile can be narrower than NV,
 * and only a block's last rows use the half-height tile. */
static void tile_8x3(const struct tile *t, int m)
{
    tile_run(t, m, MR, 3);
}

static void tile_8x2(const struct tile *t, int m)
{
    tile_run(t, m, MR, 2);
}

static void tile_8x1(const struct tile *t, int m)
{
    tile_run(t, m, MR, 1);
}

static void tile_4x3(const struct tile *t, int m)
{
    tile_run(t, m, MR / 2, 3);
}

static void tile_4x2(const struct tile *t, int m)
{
    tile_run(t, m, MR / 2, 2);
}

static void tile_4x1(const struct tile *t, int m)
{
    tile_run(t, m, MR / 2, 1);
}

/* ---- the linear ---- */

static void linear_block_i8_avx512(size_t M, size_t N, size_t K, const float *x, size_t ldx,
                                   const void *wp, const float *w_scale, const int32_t *w_sum,
                                   const float *bias, const float *res, float *y, size_t ldy,
                                   enum vitc_act act, float *scratch)
{
    size_t K4 = (K + 3) / 4 * 4, groups = K4 / 4;
    float *xs = scratch;                                  /* (MC_PAD) row scales      */
    int32_t *xz = (int32_t *)(void *)(scratch + MC_PAD);  /* (MC_PAD) zero points     */
    uint32_t *aq = (uint32_t *)(void *)(scratch + 2 * MC_PAD); /* (MC_PAD/MR, groups, MR) */
    for (size_t i0 = 0; i0 < M; i0 += MR) {
        vitc_i8_avx512_quantize_panel(x + i0 * ldx, ldx, M - i0 < MR ? M - i0 : MR, K,
                                      aq + i0 * groups, xs + i0, xz + i0);
    }
    const int8_t *w = wp;
    size_t n_panels = (N + VITC_PACK_NB - 1) / VITC_PACK_NB;
    __mmask16 tail = lanes(N - (n_panels - 1) * VITC_PACK_NB);
    for (size_t p0 = 0; p0 < n_panels; p0 += NV) {
        int nv = (int)(n_panels - p0 < NV ? n_panels - p0 : NV);
        size_t n0 = p0 * VITC_PACK_NB;
        for (size_t i0 = 0; i0 < M; i0 += MR) {
            int m = (int)(M - i0 < MR ? M - i0 : MR);
            struct tile t = {
                .groups = groups,
                .aq = aq + i0 * groups,
                .bp = w + n0 * K4,
                .bstride = K4 * VITC_PACK_NB,
                .xs = xs + i0,
                .xz = xz + i0,
                .ws = w_scale + n0,
                .wsum = w_sum + n0,
                .tail = p0 + (size_t)nv == n_panels ? tail : (__mmask16)0xFFFF,
                .bias = bias ? bias + n0 : NULL,
                .res = res ? res + i0 * ldy + n0 : NULL,
                .y = y + i0 * ldy + n0,
                .ldy = ldy,
                .act = act,
            };
            static void (*const tiles[2][NV])(const struct tile *, int) = {
                {tile_8x1, tile_8x2, tile_8x3}, {tile_4x1, tile_4x2, tile_4x3}};
            tiles[m <= MR / 2][nv - 1](&t, m);
        }
    }
}

/* Scratch: 2 * MC_PAD floats of row scales and zero points, then MC_PAD
 * rows of K4 bytes: MC_PAD / 4 floats per unit of K plus 3 * MC_PAD / 4 for
 * K's rounding up to 4. */
const struct vitc_lowp_kernels vitc_kernels_i8_avx512 = {
    .name = "avx512-vnni-int8",
    .mr = MR / 2, /* blocks cut at 4 rows: 197 = 100 + 97, 12.5 and 12.1 full tiles */
    .nr = NR,
    .kc = 0,
    .mc = MC,
    .nc = NC,
    .linear_scratch = 2 * MC_PAD + 3 * MC_PAD / 4,
    .scratch_per_k = MC_PAD / 4,
    .linear_block = linear_block_i8_avx512,
    .attention_head = vitc_attention_head_bf16_avx512,
};

#endif /* __x86_64__ */
