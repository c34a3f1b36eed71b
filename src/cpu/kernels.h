/* SPDX-License-Identifier: MIT
 *
 * kernels.h — the CPU compute kernels: pure functions on raw float pointers
 * (sizes, leading dimensions, caller-provided scratch). They never allocate,
 * start threads, log or touch globals; the CPU backend (backend_cpu.c) splits
 * work across threads and calls them. Kernel layer, below the backend.
 */
#ifndef VITC_KERNELS_H
#define VITC_KERNELS_H

#include <stddef.h>
#include <stdint.h>

#include "model/act.h"

/* Width of a packed weight panel in columns (output features). 16 floats is
 * one cache line, four SSE or two AVX registers: wide enough for the
 * reference kernel's inner loop to vectorize, and a multiple of every SIMD
 * width a kernel table may use. */
#define VITC_PACK_NB 16

/* ---- packed linear weights ---- */

/* Floats needed to pack a (N, K) weight: ceil(N / NB) panels of K * NB.
 * Returns non-zero on size_t overflow. */
int vitc_kernels_packed_floats(size_t N, size_t K, size_t *out);

/* Packs W (N, K) row-major (PyTorch Linear layout, y = x W^T) into panels:
 * packed[p][k][j] = W[p*NB + j][k] for j < NB, zero where p*NB + j >= N.
 * packed holds vitc_kernels_packed_floats(N, K) floats. */
void vitc_kernels_pack_linear(const float *restrict W, size_t N, size_t K, float *restrict packed);

/* ---- data movement (layout only, no arithmetic) ---- */

/* Cuts images into non-overlapping P x P patches, the conv-as-linear input:
 * px: (n, C, H, W); out: (n * gh*gw, C*P*P) with gh = H/P, gw = W/P
 * (floored: the stride-P conv never reads the remainder), row = image *
 * gh*gw + py * gw + px (row-major patch grid), column = (c*P + ky)*P + kx,
 * matching the conv weight (hidden, C, P, P) flattened. */
void vitc_kernels_patch_unfold(const float *restrict px, size_t n, size_t C, size_t H, size_t W,
                               size_t P, float *restrict out);

/* Builds the token sequence of n images: x[i*T + 0] = cls + pos[0] and
 * x[i*T + 1 + p] = patch_emb[i*Np + p] + pos[1 + p], T = Np + 1.
 * patch_emb: (n*Np, D); cls: (D); pos: (T, D); x: (n*T, D). */
void vitc_kernels_assemble_tokens(const float *restrict patch_emb, const float *restrict cls,
                                  const float *restrict pos, size_t n, size_t Np, size_t D,
                                  float *restrict x);

/* The same with n_prefix rows before the patches (0: none, 2: DeiT's CLS
 * and distillation token): x[i*T + t] = prefix[t] + pos[t] for t <
 * n_prefix, x[i*T + n_prefix + p] = patch_emb[i*Np + p] + pos[n_prefix + p],
 * T = Np + n_prefix. prefix: (n_prefix, D); pos: (T, D). */
void vitc_kernels_assemble_prefix(const float *restrict patch_emb, const float *restrict prefix,
                                  size_t n_prefix, const float *restrict pos, size_t n, size_t Np,
                                  size_t D, float *restrict x);

/* SwiGLU (DINOv2's feed-forward): y[r][i] = silu(x[r][i]) * x[r][I + i],
 * silu(a) = a / (1 + exp(-a)); x: (rows, 2I), y: (rows, I). */
void vitc_kernels_swiglu(const float *restrict x, float *restrict y, size_t rows, size_t I);

/* Attention pooling (SigLIP's head): one query q (H * hd), the same for
 * every image, against each image's T keys and values; kv: (n * T, 2 * H *
 * hd), each row k | v with head h at columns h * hd of each half; out:
 * (n, H * hd), heads concatenated. Scores (q . k) / sqrt(hd), softmax in
 * float with max subtraction. work: T floats. */
void vitc_kernels_attention_pool(const float *restrict q, const float *restrict kv,
                                 float *restrict out, size_t n, size_t T, size_t H, size_t hd,
                                 float *restrict work);

/* ---- kernel table ---- */

/* Attention query rows a kernel may hold in one register tile. */
#define VITC_ATTN_ROWS 4

/* Query rows whose scores attention scratch holds at once: a block large
 * enough for several register tiles to share each chunk of keys in L1. */
#define VITC_ATTN_SCRATCH_ROWS 24

/* One attention head, the signature of vitc_cpu_kernels.attention_head. */
typedef void vitc_attention_head_fn(size_t T, size_t d, const float *q, const float *k,
                                    const float *v, size_t ld, float *o, size_t ldo, float sqrt_d,
                                    float *work);

/* One set of compute kernels. Tables are static const, one per instruction
 * set (dispatch.h picks one); the reference table is always built and is the
 * test oracle for the others. All tables read the same packed weights
 * (vitc_kernels_pack_linear), so weights are packed once whatever the table.
 * Each output element is accumulated in a fixed order that depends only on
 * the sizes, never on how many rows or columns are computed together, so a
 * row's result is the same in any batch, any block split and with any thread
 * count (for one table; tables differ by rounding, e.g. FMA vs mul + add). */
struct vitc_cpu_kernels {
    const char *name;

    /* Cache blocking, as data for the backend's work split: linear_block
     * takes at most mc rows and nc columns (nc a multiple of VITC_PACK_NB)
     * and walks K in steps of kc (0: all of K at once); mr x nr is its
     * register tile. */
    size_t mr, nr, kc, mc, nc;

    /* Floats of per-thread scratch linear_block needs (0 if none). */
    size_t linear_scratch;

    /* Linear on a block of M <= mc rows and N <= nc columns, fused epilogue:
     *   y[i][j] = act(bias[j] + sum_k x[i][k] * W[j][k]) + res[i][j]
     * for 0 <= i < M, 0 <= j < N, k summed from 0 to K-1 in order.
     * x: (M, K) row stride ldx; wp: the first packed panel of the block
     * (vitc_kernels_pack_linear; panel p at wp + p * K * VITC_PACK_NB);
     * bias: (N) or NULL; res: (M, N) row stride ldy or NULL, and may be y
     * itself (in-place residual add); y: (M, N) row stride ldy, written once,
     * when each element is final. x must not overlap y. scratch: 64-byte
     * aligned, linear_scratch floats, private to the calling thread. */
    void (*linear_block)(size_t M, size_t N, size_t K, const float *x, size_t ldx, const float *wp,
                         const float *bias, const float *res, float *y, size_t ldy,
                         enum vitc_act act, float *scratch);

    /* LayerNorm of one row: y = (x - mean) / sqrt(var + eps) * w + b, with the
     * mean then the biased variance computed in double (two passes).
     * x, y, w, b: (n); y may be x. */
    void (*layernorm_row)(size_t n, const float *x, float *y, const float *w, const float *b,
                          double eps);

    /* One attention head of one image, transformers' eager attention:
     *   s[i][j] = (q_i . k_j) / sqrt_d;  p[i] = softmax(s[i]);  o_i = sum_j p[i][j] v_j
     * q, k, v: (T, d) with row stride ld (column slices of the fused qkv
     * buffer); o: (T, d) row stride ldo; work: scratch of
     * (d + VITC_ATTN_SCRATCH_ROWS) * T floats. The softmax subtracts the row maximum
     * and runs in float. */
    void (*attention_head)(size_t T, size_t d, const float *q, const float *k, const float *v,
                           size_t ld, float *o, size_t ldo, float sqrt_d, float *work);

    /* erf in place, the one GELU uses (exposed so tests can measure its
     * error in ulps): x: (n). */
    void (*erf_row)(float *x, size_t n);

    /* Applies an activation in place: x: (n). */
    void (*act_row)(enum vitc_act act, float *x, size_t n);

    /* Numerically stable softmax in place: x: (n), n >= 1. */
    void (*softmax_row)(float *x, size_t n);
};

/* The portable C kernels (kernels_ref.c), always built. */
extern const struct vitc_cpu_kernels vitc_kernels_ref;

/* The x86-64 tables (kernels_avx2.c: AVX2 + FMA; kernels_avx512.c:
 * AVX-512F/BW/DQ/VL). Built only for x86-64; call them only when
 * vitc_cpu_has() says the CPU runs them (dispatch.h). */
extern const struct vitc_cpu_kernels vitc_kernels_avx2;
extern const struct vitc_cpu_kernels vitc_kernels_avx512;

/* vitc_kernels_act_row_lowp for AVX-512 (kernels_avx512.c). */
void vitc_avx512_act_row_lowp(enum vitc_act act, float *x, size_t n);

/* ---- low-precision linears: bf16 and int8 modes ---- */

/* The activations of the bf16 and int8 modes' epilogues: GELU's erf is
 * Abramowitz and Stegun 7.1.28, erf(x) = 1 - (1 + a1 x + ... + a6 x^6)^-16
 * for x >= 0 (odd; x clamped to 4, where erf is 1 in float), within 2e-6
 * of erf in float arithmetic at about half the exact erf's cost. The GELU
 * outputs are rounded to bf16 or quantized to 8 bits next, errors some
 * 1000x larger; the fp32 mode keeps the exact erf. Other activations are
 * act_row's. Coefficients from 1 up to a6: */
static const float VITC_LOWP_ERF_POLY[7] = {
    1.0f, 0.0705230784f, 0.0422820123f, 0.0092705272f, 0.0001520143f, 0.0002765672f, 0.0000430638f};

/* The portable version (kernels_lowp_ref.c), the oracle: x: (n). */
void vitc_kernels_act_row_lowp(enum vitc_act act, float *x, size_t n);

/* Weights are converted once at load into the same NB-column panels as
 * fp32, with the k index grouped by the dot-product instruction's width so
 * one 64-byte panel row is one SIMD operand:
 *   bf16: packed[p][k/2][j][2] = bf16(W[p*NB + j][k]), K rounded up to 2
 *         (vdpbf16ps: one 32-bit lane = W[j][k], W[j][k+1]);
 *   int8: packed[p][k/4][j][4] = q[p*NB + j][k],       K rounded up to 4
 *         (vpdpbusd: one 32-bit lane = 4 consecutive k).
 * Padding (columns past N, k past K) is zero. */
#define VITC_BF16_KGROUP 2
#define VITC_I8_KGROUP   4

/* Largest K an int8 linear takes: 255 * 127 * K must fit in int32, with
 * room for the zero-point correction. */
#define VITC_I8_MAX_K 32768

/* float -> bf16 bits, round to nearest even; NaN stays NaN (quiet). */
uint16_t vitc_bf16_from_float(float f);
float vitc_bf16_to_float(uint16_t b);

/* Elements (uint16) of a bf16-packed (N, K) weight; non-zero on overflow. */
int vitc_kernels_packed_bf16_elems(size_t N, size_t K, size_t *out);
void vitc_kernels_pack_linear_bf16(const float *restrict W, size_t N, size_t K,
                                   uint16_t *restrict packed);

/* int8 weights, symmetric per output channel: amax[j] = max_k |W[j][k]|,
 * q[j][k] = clamp(rint(W[j][k] * (127 / amax[j])), -127, 127),
 * scale[j] = amax[j] / 127 (q = 0 and scale = 1 for an all-zero row), and
 * sum[j] = sum_k q[j][k] (for the activations' zero point). packed holds
 * vitc_kernels_packed_i8_bytes(N, K) bytes; scale and sum hold
 * ceil(N / NB) * NB entries (zero past N). */
int vitc_kernels_packed_i8_bytes(size_t N, size_t K, size_t *out);
void vitc_kernels_pack_linear_i8(const float *restrict W, size_t N, size_t K,
                                 int8_t *restrict packed, float *restrict scale,
                                 int32_t *restrict sum);

/* Dynamic per-token activation quantization, asymmetric uint8: with
 * lo = min(0, min_k x[k]), hi = max(0, max_k x[k]):
 *   scale = (hi - lo) / 255, inv = 1 / scale (scale = 1 when hi == lo),
 *   zero = clamp(rint(-lo * inv), 0, 255),
 *   q[k] = clamp(rint(x[k] * inv) + zero, 0, 255)   (float ops, in this order;
 * rint rounds half to even, as cvtps2dq does), so every table quantizes a row
 * to the same bytes. Then a linear's int32 dot products give
 *   y[i][j] = act(bias[j] + (acc[i][j] - zero[i] * sum[j]) * (scale[i] * wscale[j])) + res
 * with acc[i][j] = sum_k q[i][k] * qw[j][k]. Portable; tables may vectorise
 * it but must produce the same bytes. */
void vitc_kernels_quantize_row_u8(const float *restrict x, size_t K, uint8_t *restrict q,
                                  float *scale, int32_t *zero);

/* A table of low-precision linear kernels (one per precision and
 * instruction set; dispatch.h picks one). Same blocking data and epilogue
 * contract as vitc_cpu_kernels.linear_block; x is float32 and converted by
 * the kernel itself (to bf16 round-to-nearest-even, or quantized per row as
 * above), so a row's result never depends on the other rows of the block.
 * wp is the block's first panel (bf16: uint16 panels of K2 * NB, int8: byte
 * panels of K4 * NB); w_scale and w_sum point at the block's first column
 * (int8; NULL for bf16). Scratch: linear_scratch + scratch_per_k * K floats,
 * 64-byte aligned, private to the calling thread. */
struct vitc_lowp_kernels {
    const char *name;
    size_t mr, nr, kc, mc, nc;
    size_t linear_scratch, scratch_per_k;
    void (*linear_block)(size_t M, size_t N, size_t K, const float *x, size_t ldx, const void *wp,
                         const float *w_scale, const int32_t *w_sum, const float *bias,
                         const float *res, float *y, size_t ldy, enum vitc_act act, float *scratch);

    /* (optional; NULL: the fp32 table's) Attention in reduced precision,
     * the contract of vitc_cpu_kernels.attention_head except for rounding
     * and the scratch: (d + VITC_ATTN_SCRATCH_ROWS + 1) *
     * (T + VITC_ATTN_SCRATCH_ROWS + 1) floats. */
    void (*attention_head)(size_t T, size_t d, const float *q, const float *k, const float *v,
                           size_t ld, float *o, size_t ldo, float sqrt_d, float *work);
};

/* The portable tables (kernels_lowp_ref.c), always built: the test oracles. */
extern const struct vitc_lowp_kernels vitc_kernels_bf16_ref;
extern const struct vitc_lowp_kernels vitc_kernels_i8_ref;

/* x86-64 tables: AVX-512 + AVX512_BF16 (kernels_bf16_avx512.c) and
 * AVX-512 + AVX512_VNNI (kernels_i8_avx512.c); dispatch.c returns them only
 * on CPUs with the extension. */
extern const struct vitc_lowp_kernels vitc_kernels_bf16_avx512;
extern const struct vitc_lowp_kernels vitc_kernels_i8_avx512;

#endif /* VITC_KERNELS_H */
