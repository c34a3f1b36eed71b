/* SPDX-License-Identifier: MIT
 *
 * kernels_bf16_avx512.c — the bf16 linear for CPUs with AVX512_BF16
 * (contract in kernels.h, "low-precision linears"): each block's rows of x
 * are rounded to bf16 pairs once (vcvtne2ps2bf16), then an 8 x 48 register
 * tile of vdpbf16ps walks the pairs in order with fp32 accumulators, the
 * same sums as the portable oracle (kernels_lowp_ref.c), and the epilogue
 * reuses the fp32 AVX-512 table's activations. One difference by design of
 * the instructions: subnormal activations and products count as zero
 * (vcvtne2ps2bf16 and vdpbf16ps imply DAZ/FTZ), where the oracle keeps
 * them; every row is still converted the same way in any block. Compiled with AVX-512 and
 * -mavx512bf16 (Makefile); called only after dispatch.c has seen the CPU
 * run them. Kernel layer: no allocation, no threads.
 */
#include "cpu/kernels.h"
#include "cpu/kernels_attn_bf16_avx512.h"

#if defined(__x86_64__)

#include <immintrin.h>
#include <stdbool.h>
#include <string.h>

/* ---- blocking ---- */

/* Register tile: MR rows x NV vectors of 16 columns (one packed panel
 * each): 24 accumulators + 3 weight vectors + 1 broadcast activation pair.
 * Per k pair the tile issues 24 vdpbf16ps for 3 vector loads and 8 dword
 * broadcasts, inside Zen 4's one 512-bit dot product and two loads per
 * cycle. (An embedded {1to16} broadcast per vdpbf16ps measured the same.) */
#define MR 8
#define NV 3
#define NR (NV * VITC_PACK_NB)

/* Activation pairs are converted in chunks of CH pairs (32 floats, two
 * vectors) per row and stored chunk by chunk, so the tile's broadcasts in
 * a chunk sit at constant offsets (no transpose: with one, the conversion
 * of a 48-column block cost a fifth of its time); a panel's pair count is
 * rounded up to CH. */
#define CH 16

/* Cache blocks: all of K at once (the weight slice a tile streams, K x 48
 * bf16, is 72 KiB at K = 768 and 288 KiB at 3072, from L2); MC rows of
 * converted activations (MC * K * 2 bytes) stay in L2 beside it while the
 * N block's panels pass over them. MC = 24 keeps one image (197 rows) at 9
 * row blocks for two threads. NC = 1536 converts each row once per 1536
 * columns: on 2 threads the qkv and MLP-up linears ran 3% and 4% faster than
 * at 768 (fewer conversions) and than at 3072 (fewer, larger tasks to share);
 * 88-96% of the vdpbf16ps peak on Zen 4 for ViT-B's shapes
 * (bench/bench_kernels.c). */
#define MC 24
#define NC (32 * NR)

/* Lanes [0, n) of a vector, n <= 16 (0 for n <= 0 is the caller's job). */
static inline __mmask16 lanes(size_t n)
{
    return n >= 16 ? (__mmask16)0xFFFF : (__mmask16)((1u << n) - 1u);
}

/* ---- activation conversion ---- */

/* Converts m <= MR rows of x (K floats each) into one panel of bf16 pairs
 * in chunks of CH pairs, row-major within a chunk:
 *   ap[c / CH][r][c % CH] = (bf16(x[r][2c]), bf16(x[r][2c+1])) as one dword
 * for c < kp (a multiple of CH; pairs past K are zero), so the tile's
 * broadcasts of one chunk sit at constant offsets and no transpose is
 * needed. Every row goes through the same vector conversion whatever m is,
 * so its bits never depend on the block; rows past m repeat row 0 and are
 * never stored. */
static void convert_panel(size_t m, size_t K, const float *x, size_t ldx, size_t kp,
                          uint32_t *ap)
{
    const float *rows[MR];
    for (size_t r = 0; r < MR; r++) {
        rows[r] = x + (r < m ? r : 0) * ldx;
    }
    for (size_t c = 0; c < kp; c += CH) {
        size_t k = 2 * c;
        size_t left = K > k ? K - k : 0;
        __mmask16 lo = left ? lanes(left) : 0, hi = left > 16 ? lanes(left - 16) : 0;
        for (int r = 0; r < MR; r++) {
            __m512 a = _mm512_maskz_loadu_ps(lo, rows[r] + k);
            __m512 b = _mm512_maskz_loadu_ps(hi, rows[r] + k + 16);
            /* Round to nearest even; the low 16 bf16 come from the second
             * operand, so a row's pairs land in order. */
            __m512bh v = _mm512_cvtne2ps_pbh(b, a);
            _mm512_store_si512((void *)(ap + c * MR + r * CH), (__m512i)v);
        }
    }
}

/* ---- linear ---- */

/* One register tile's job: which activation panel meets which weight
 * panels, and the epilogue. */
struct tile {
    size_t kpairs;      /* k pairs: ceil(K / 2)                             */
    const uint32_t *ap; /* (kp / CH, MR, CH) activation pairs               */
    const uint16_t *bp; /* panel 0: (kpairs, 16, 2); panel v at bp + v*bstride */
    size_t bstride;     /* bf16 elements between panels: K2 * VITC_PACK_NB  */
    __mmask16 tail;     /* lanes of the tile's last vector inside N         */
    int ncols;          /* columns of the tile inside N                     */
    const float *bias;  /* (ncols) at the tile's columns, or NULL           */
    const float *res;   /* row stride ldy at the tile's corner, or NULL     */
    float *y;           /* row stride ldy at the tile's corner              */
    size_t ldy;
    enum vitc_act act;
};

/* One k pair of the tile: nv weight vectors (16 columns x the pair each)
 * meet mr broadcast activation pairs, at a[r * CH]. */
static inline __attribute__((always_inline)) void pair_step(__m512 acc[MR][NV],
                                                            const uint32_t *a,
                                                            const uint16_t *b, size_t bs,
                                                            const int nv, const int mr)
{
    __m512bh w[NV];
#pragma GCC unroll 3
    for (int v = 0; v < nv; v++) {
        w[v] = (__m512bh)_mm512_loadu_si512((const void *)(b + v * bs));
    }
#pragma GCC unroll 8
    for (int r = 0; r < mr; r++) {
        __m512bh x = (__m512bh)_mm512_set1_epi32((int)a[r * CH]);
#pragma GCC unroll 3
        for (int v = 0; v < nv; v++) {
            acc[r][v] = _mm512_dpbf16_ps(acc[r][v], x, w[v]);
        }
    }
}

/* The micro-kernel on mr <= MR rows x nv vectors; mr and nv are constants
 * in every caller, so the accumulators live in registers. Each output
 * element is one accumulator over the k pairs in order, vdpbf16ps adding
 * the odd product then the even one: the reference's sums, bit for bit.
 * Rows from m to mr compute on a repeated row and are not stored. */
static inline __attribute__((always_inline)) void tile_run(const struct tile *t, int m,
                                                           const int nv, const int mr)
{
    __m512 acc[MR][NV];
#pragma GCC unroll 8
    for (int r = 0; r < mr; r++) {
#pragma GCC unroll 3
        for (int v = 0; v < nv; v++) {
            acc[r][v] = _mm512_setzero_ps();
        }
    }
    const uint32_t *ap = t->ap;
    const uint16_t *bp = t->bp;
    size_t bs = t->bstride;
    /* Whole chunks unrolled (constant broadcast offsets), then the rest;
     * the pairs stay in order either way. */
    size_t full = t->kpairs / CH, rest = t->kpairs % CH;
    for (size_t ch = 0; ch <= full; ch++, ap += CH * MR, bp += CH * 2 * VITC_PACK_NB) {
        if (ch == full) {
            for (size_t j = 0; j < rest; j++) {
                pair_step(acc, ap + j, bp + j * 2 * VITC_PACK_NB, bs, nv, mr);
            }
            break;
        }
#pragma GCC unroll 16
        for (int j = 0; j < CH; j++) {
            pair_step(acc, ap + j, bp + j * 2 * VITC_PACK_NB, bs, nv, mr);
        }
    }
    /* Epilogue, as the contract: bias, activation, residual (read before y
     * is written, as it may be y), one store. An activation runs once over
     * the whole tile, so its long dependency chains (erf, exp) of the
     * tile's vectors overlap. */
    __m512 bv[NV];
#pragma GCC unroll 3
    for (int v = 0; v < nv; v++) {
        __mmask16 mk = v == nv - 1 ? t->tail : (__mmask16)0xFFFF;
        bv[v] = t->bias ? _mm512_maskz_loadu_ps(mk, t->bias + v * 16) : _mm512_setzero_ps();
    }
    _Alignas(64) float buf[MR * NR];
    bool act = t->act != VITC_ACT_NONE;
    if (act) {
#pragma GCC unroll 8
        for (int r = 0; r < mr; r++) {
#pragma GCC unroll 3
            for (int v = 0; v < NV; v++) {
                __m512 z = v < nv ? _mm512_add_ps(acc[r][v], bv[v]) : _mm512_setzero_ps();
                _mm512_store_ps(buf + r * NR + v * 16, z);
            }
        }
        vitc_avx512_act_row_lowp(t->act, buf, (size_t)m * NR);
    }
#pragma GCC unroll 8
    for (int r = 0; r < mr; r++) {
        if (r >= m) {
            break;
        }
        const float *res = t->res ? t->res + r * t->ldy : NULL;
        float *y = t->y + r * t->ldy;
#pragma GCC unroll 3
        for (int v = 0; v < nv; v++) {
            __mmask16 mk = v == nv - 1 ? t->tail : (__mmask16)0xFFFF;
            __m512 z = act ? _mm512_load_ps(buf + r * NR + v * 16) : _mm512_add_ps(acc[r][v], bv[v]);
            if (res) {
                z = _mm512_add_ps(z, _mm512_maskz_loadu_ps(mk, res + v * 16));
            }
            _mm512_mask_storeu_ps(y + v * 16, mk, z);
        }
    }
}

/* One copy per tile shape: only N's last tile can be narrower than NV,
 * and a block's last row tile runs on the even number of rows covering it
 * (M = 197 ends on 5 rows: 6 computed, not 8). */
static void tile_nv3_mr8(const struct tile *t, int m)
{
    tile_run(t, m, 3, 8);
}

static void tile_nv3_mr6(const struct tile *t, int m)
{
    tile_run(t, m, 3, 6);
}

static void tile_nv3_mr4(const struct tile *t, int m)
{
    tile_run(t, m, 3, 4);
}

static void tile_nv3_mr2(const struct tile *t, int m)
{
    tile_run(t, m, 3, 2);
}

static void tile_nv2(const struct tile *t, int m)
{
    tile_run(t, m, 2, MR);
}

static void tile_nv1(const struct tile *t, int m)
{
    tile_run(t, m, 1, MR);
}

static void (*const tile_nv3[MR / 2])(const struct tile *, int) = {
    tile_nv3_mr2, tile_nv3_mr4, tile_nv3_mr6, tile_nv3_mr8};

static void linear_block_bf16_avx512(size_t M, size_t N, size_t K, const float *x, size_t ldx,
                                     const void *wp, const float *w_scale, const int32_t *w_sum,
                                     const float *bias, const float *res, float *y, size_t ldy,
                                     enum vitc_act act, float *scratch)
{
    size_t kpairs = (K + 1) / 2, kp = (kpairs + CH - 1) / CH * CH;
    uint32_t *ap = (uint32_t *)(void *)scratch; /* (ceil(M / MR), kp, MR) pairs */
    for (size_t i0 = 0; i0 < M; i0 += MR) {
        size_t m = M - i0 < MR ? M - i0 : MR;
        convert_panel(m, K, x + i0 * ldx, ldx, kp, ap + i0 * kp);
    }
    const uint16_t *w = wp;
    size_t bstride = kpairs * 2 * VITC_PACK_NB;
    size_t n_panels = (N + VITC_PACK_NB - 1) / VITC_PACK_NB;
    __mmask16 tail = lanes(N - (n_panels - 1) * VITC_PACK_NB);
    for (size_t p0 = 0; p0 < n_panels; p0 += NV) {
        int nv = (int)(n_panels - p0 < NV ? n_panels - p0 : NV);
        size_t n0 = p0 * VITC_PACK_NB;
        for (size_t i0 = 0; i0 < M; i0 += MR) {
            int m = (int)(M - i0 < MR ? M - i0 : MR);
            struct tile t = {
                .kpairs = kpairs,
                .ap = ap + i0 * kp,
                .bp = w + p0 * bstride,
                .bstride = bstride,
                .tail = p0 + (size_t)nv == n_panels ? tail : (__mmask16)0xFFFF,
                .ncols = (int)(N - n0 < NR ? N - n0 : NR),
                .bias = bias ? bias + n0 : NULL,
                .res = res ? res + i0 * ldy + n0 : NULL,
                .y = y + i0 * ldy + n0,
                .ldy = ldy,
                .act = act,
            };
            if (nv == 3) {
                tile_nv3[(m - 1) / 2](&t, m);
            } else if (nv == 2) {
                tile_nv2(&t, m);
            } else {
                tile_nv1(&t, m);
            }
        }
    }
}

/* Scratch: ceil(M / MR) panels of kp <= K / 2 + CH dwords x MR rows, so at
 * most MC / 2 floats per unit of K plus MC * CH. */
const struct vitc_lowp_kernels vitc_kernels_bf16_avx512 = {
    .name = "avx512-bf16",
    .mr = MR,
    .nr = NR,
    .kc = 0,
    .mc = MC,
    .nc = NC,
    .linear_scratch = MC * CH,
    .scratch_per_k = MC / 2,
    .linear_block = linear_block_bf16_avx512,
    .attention_head = vitc_attention_head_bf16_avx512,
};

#endif /* __x86_64__ */
