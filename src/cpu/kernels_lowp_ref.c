/* SPDX-License-Identifier: MIT
 *
 * kernels_lowp_ref.c — bf16 and int8 weight packing, activation conversion
 * and the portable low-precision linear kernels and attention head: the
 * oracle the SIMD tables are tested against, and what runs on CPUs without
 * them. Kernel layer:
 * pure functions, no allocation.
 */
#include <math.h>
#include <string.h>

#include "cpu/kernels.h"
#include "cpu/kernels_attn_bf16_avx512.h"

/* ---- bf16 ---- */

uint16_t vitc_bf16_from_float(float f)
{
    uint32_t u;
    memcpy(&u, &f, sizeof u);
    if ((u & 0x7fffffffu) > 0x7f800000u) {
        return (uint16_t)((u >> 16) | 0x0040u); /* NaN: keep it a quiet NaN */
    }
    u += 0x7fffu + ((u >> 16) & 1u);
    return (uint16_t)(u >> 16);
}

float vitc_bf16_to_float(uint16_t b)
{
    uint32_t u = (uint32_t)b << 16;
    float f;
    memcpy(&f, &u, sizeof f);
    return f;
}

static size_t round_up(size_t n, size_t q)
{
    return (n + q - 1) / q * q;
}

/* n_panels * NB * round_up(K, group) elements, overflow-checked. */
static int packed_elems(size_t N, size_t K, size_t group, size_t *out)
{
    size_t panels = N / VITC_PACK_NB + (N % VITC_PACK_NB != 0);
    size_t kg = K + group - 1;
    if (kg < K) {
        return 1;
    }
    kg -= kg % group;
    if (panels != 0 && kg > SIZE_MAX / VITC_PACK_NB / panels) {
        return 1;
    }
    *out = panels * VITC_PACK_NB * kg;
    return 0;
}

int vitc_kernels_packed_bf16_elems(size_t N, size_t K, size_t *out)
{
    return packed_elems(N, K, VITC_BF16_KGROUP, out);
}

void vitc_kernels_pack_linear_bf16(const float *restrict W, size_t N, size_t K,
                                   uint16_t *restrict packed)
{
    size_t K2 = round_up(K, VITC_BF16_KGROUP), panels = round_up(N, VITC_PACK_NB) / VITC_PACK_NB;
    for (size_t p = 0; p < panels; p++) {
        uint16_t *dst = packed + p * K2 * VITC_PACK_NB;
        for (size_t k = 0; k < K2; k++) {
            for (size_t j = 0; j < VITC_PACK_NB; j++) {
                size_t n = p * VITC_PACK_NB + j;
                float v = n < N && k < K ? W[n * K + k] : 0.0f;
                dst[(k / 2) * VITC_PACK_NB * 2 + j * 2 + k % 2] = vitc_bf16_from_float(v);
            }
        }
    }
}

/* ---- int8 ---- */

int vitc_kernels_packed_i8_bytes(size_t N, size_t K, size_t *out)
{
    return packed_elems(N, K, VITC_I8_KGROUP, out);
}

void vitc_kernels_pack_linear_i8(const float *restrict W, size_t N, size_t K,
                                 int8_t *restrict packed, float *restrict scale,
                                 int32_t *restrict sum)
{
    size_t K4 = round_up(K, VITC_I8_KGROUP), Np = round_up(N, VITC_PACK_NB);
    memset(packed, 0, Np * K4);
    for (size_t n = 0; n < Np; n++) {
        scale[n] = n < N ? 1.0f : 0.0f;
        sum[n] = 0;
    }
    for (size_t n = 0; n < N; n++) {
        const float *w = W + n * K;
        float amax = 0.0f;
        for (size_t k = 0; k < K; k++) {
            amax = fabsf(w[k]) > amax ? fabsf(w[k]) : amax;
        }
        if (amax == 0.0f) {
            continue;
        }
        float inv = 127.0f / amax;
        int8_t *dst = packed + (n / VITC_PACK_NB) * K4 * VITC_PACK_NB;
        size_t j = n % VITC_PACK_NB;
        int32_t s = 0;
        for (size_t k = 0; k < K; k++) {
            float r = rintf(w[k] * inv);
            int q = r > 127.0f ? 127 : r < -127.0f ? -127 : (int)r;
            dst[(k / 4) * VITC_PACK_NB * 4 + j * 4 + k % 4] = (int8_t)q;
            s += q;
        }
        scale[n] = amax / 127.0f;
        sum[n] = s;
    }
}

void vitc_kernels_quantize_row_u8(const float *restrict x, size_t K, uint8_t *restrict q,
                                  float *scale, int32_t *zero)
{
    float lo = 0.0f, hi = 0.0f;
    for (size_t k = 0; k < K; k++) {
        lo = x[k] < lo ? x[k] : lo;
        hi = x[k] > hi ? x[k] : hi;
    }
    float s = (hi - lo) / 255.0f;
    if (!(s > 0.0f)) {
        s = 1.0f;
    }
    float inv = 1.0f / s;
    float zr = rintf(-lo * inv);
    int32_t z = zr >= 255.0f ? 255 : zr >= 0.0f ? (int32_t)zr : 0; /* NaN -> 0 */
    for (size_t k = 0; k < K; k++) {
        float r = rintf(x[k] * inv) + (float)z;
        q[k] = (uint8_t)(r >= 255.0f ? 255 : r >= 0.0f ? (int)r : 0); /* NaN -> 0 */
    }
    *scale = s;
    *zero = z;
}

/* ---- the reference linears ---- */

void vitc_kernels_act_row_lowp(enum vitc_act act, float *x, size_t n)
{
    if (act != VITC_ACT_GELU) {
        vitc_kernels_ref.act_row(act, x, n);
        return;
    }
    for (size_t i = 0; i < n; i++) {
        float u = x[i] * 0.70710678118654752f, au = fminf(fabsf(u), 4.0f);
        float p = VITC_LOWP_ERF_POLY[6];
        for (int c = 5; c >= 0; c--) {
            p = fmaf(p, au, VITC_LOWP_ERF_POLY[c]);
        }
        p *= p;
        p *= p;
        p *= p;
        p *= p;
        float e = copysignf(1.0f - 1.0f / p, u);
        x[i] = x[i] * 0.5f * (1.0f + e);
    }
}

/* bias, activation, residual for one row of nb results in t. */
static void epilogue(float *t, size_t nb, const float *bias, const float *res, float *y,
                     enum vitc_act act)
{
    if (bias) {
        for (size_t j = 0; j < nb; j++) {
            t[j] += bias[j];
        }
    }
    vitc_kernels_act_row_lowp(act, t, nb);
    if (res) {
        for (size_t j = 0; j < nb; j++) {
            t[j] += res[j];
        }
    }
    memcpy(y, t, nb * sizeof *y);
}

/* Each output is one fp32 accumulator over k pairs in order, adding the odd
 * product then the even one (both exact in fp32), as vdpbf16ps does. */
static void linear_block_bf16_ref(size_t M, size_t N, size_t K, const float *x, size_t ldx,
                                  const void *wp, const float *w_scale, const int32_t *w_sum,
                                  const float *bias, const float *res, float *y, size_t ldy,
                                  enum vitc_act act, float *scratch)
{
    const uint16_t *w = wp;
    size_t K2 = round_up(K, 2);
    uint16_t *xb = (uint16_t *)(void *)scratch; /* one row, K2 */
    for (size_t i = 0; i < M; i++) {
        for (size_t k = 0; k < K2; k++) {
            xb[k] = k < K ? vitc_bf16_from_float(x[i * ldx + k]) : 0;
        }
        for (size_t n0 = 0; n0 < N; n0 += VITC_PACK_NB) {
            size_t nb = N - n0 < VITC_PACK_NB ? N - n0 : VITC_PACK_NB;
            const uint16_t *panel = w + n0 * K2;
            float t[VITC_PACK_NB];
            for (size_t j = 0; j < nb; j++) {
                float acc = 0.0f;
                for (size_t k = 0; k < K2; k += 2) {
                    const uint16_t *pw = panel + (k / 2) * VITC_PACK_NB * 2 + j * 2;
                    acc += vitc_bf16_to_float(xb[k + 1]) * vitc_bf16_to_float(pw[1]);
                    acc += vitc_bf16_to_float(xb[k]) * vitc_bf16_to_float(pw[0]);
                }
                t[j] = acc;
            }
            epilogue(t, nb, bias ? bias + n0 : NULL, res ? res + i * ldy + n0 : NULL,
                     y + i * ldy + n0, act);
        }
    }
}

static void linear_block_i8_ref(size_t M, size_t N, size_t K, const float *x, size_t ldx,
                                const void *wp, const float *w_scale, const int32_t *w_sum,
                                const float *bias, const float *res, float *y, size_t ldy,
                                enum vitc_act act, float *scratch)
{
    const int8_t *w = wp;
    size_t K4 = round_up(K, 4);
    uint8_t *xq = (uint8_t *)(void *)scratch; /* one row, K4 */
    for (size_t i = 0; i < M; i++) {
        float xs;
        int32_t xz;
        vitc_kernels_quantize_row_u8(x + i * ldx, K, xq, &xs, &xz);
        memset(xq + K, 0, K4 - K);
        for (size_t n0 = 0; n0 < N; n0 += VITC_PACK_NB) {
            size_t nb = N - n0 < VITC_PACK_NB ? N - n0 : VITC_PACK_NB;
            const int8_t *panel = w + n0 * K4;
            float t[VITC_PACK_NB];
            for (size_t j = 0; j < nb; j++) {
                int32_t acc = 0;
                for (size_t k = 0; k < K4; k++) {
                    acc += (int32_t)xq[k] * panel[(k / 4) * VITC_PACK_NB * 4 + j * 4 + k % 4];
                }
                t[j] = (float)(acc - xz * w_sum[n0 + j]) * (xs * w_scale[n0 + j]);
            }
            epilogue(t, nb, bias ? bias + n0 : NULL, res ? res + i * ldy + n0 : NULL,
                     y + i * ldy + n0, act);
        }
    }
}

/* One row of converted activations per call: bf16 needs K2 / 2 floats of
 * scratch, int8 K4 / 4 (plus one float of rounding slack each). */
/* ---- the attention head with bf16 products ----
 * The oracle for kernels_attn_bf16_avx512.c and the attention_head of the
 * tables below: q, k, v and the softmax's probabilities rounded to bf16
 * (round to nearest even), their products exact in float and summed in
 * float, the softmax in float, 1/sum applied to the output. */

static float bf(float x)
{
    return vitc_bf16_to_float(vitc_bf16_from_float(x));
}

void vitc_attention_head_bf16_ref(size_t T, size_t d, const float *q, const float *k,
                                  const float *v, size_t ld, float *o, size_t ldo, float sqrt_d,
                                  float *work)
{
    float *restrict kt = work;        /* (d, T) bf16(k) transposed */
    float *restrict s = work + d * T; /* (T) scores, then bf16(e)  */
    for (size_t j = 0; j < T; j++) {
        for (size_t c = 0; c < d; c++) {
            kt[c * T + j] = bf(k[j * ld + c]);
        }
    }
    float scale = 1.0f / sqrt_d;
    for (size_t i = 0; i < T; i++) {
        memset(s, 0, T * sizeof *s);
        for (size_t c = 0; c < d; c++) {
            float qc = bf(q[i * ld + c]);
            for (size_t j = 0; j < T; j++) {
                s[j] += qc * kt[c * T + j];
            }
        }
        float mx = s[0], sum = 0.0f;
        for (size_t j = 1; j < T; j++) {
            mx = s[j] > mx ? s[j] : mx;
        }
        for (size_t j = 0; j < T; j++) {
            float e = expf(s[j] * scale - mx * scale);
            sum += e;
            s[j] = bf(e);
        }
        float inv = 1.0f / sum, *oi = o + i * ldo;
        for (size_t c = 0; c < d; c++) {
            float acc = 0.0f;
            for (size_t j = 0; j < T; j++) {
                acc += s[j] * bf(v[j * ld + c]);
            }
            oi[c] = acc * inv;
        }
    }
}

/* ---- the tables ---- */

const struct vitc_lowp_kernels vitc_kernels_bf16_ref = {
    .name = "ref-bf16",
    .mr = 1,
    .nr = VITC_PACK_NB,
    .kc = 0,
    .mc = 64,
    .nc = 256,
    .linear_scratch = 1,
    .scratch_per_k = 1,
    .linear_block = linear_block_bf16_ref,
    .attention_head = vitc_attention_head_bf16_ref,
};

const struct vitc_lowp_kernels vitc_kernels_i8_ref = {
    .name = "ref-int8",
    .mr = 1,
    .nr = VITC_PACK_NB,
    .kc = 0,
    .mc = 64,
    .nc = 256,
    .linear_scratch = 4,
    .scratch_per_k = 1,
    .linear_block = linear_block_i8_ref,
    .attention_head = vitc_attention_head_bf16_ref,
};
