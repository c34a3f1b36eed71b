/* SPDX-License-Identifier: MIT
 *
 * kernels_ref.c — the portable reference kernels (contracts in kernels.h).
 * Plain C11 with no intrinsics and no -ffast-math: inner loops have
 * compile-time trip counts (VITC_PACK_NB, VEC) so compilers vectorize them at
 * -O2 without reassociating any sum. Kernel layer: no allocation, no threads.
 */
#include "cpu/kernels.h"

#include <math.h>
#include <string.h>

#include "base/err.h"

/* Elementwise loops are cut into blocks of VEC so the block loop has a
 * constant trip count (GCC's -O2 cost model vectorizes only such loops);
 * each element still sees the same operations as in a scalar loop. */
#define VEC 16

/* ---- packing and data movement ---- */

int vitc_kernels_packed_floats(size_t N, size_t K, size_t *out)
{
    size_t panels = N / VITC_PACK_NB + (N % VITC_PACK_NB != 0);
    size_t per_panel = 0;
    if (vitc_mul_size(K, VITC_PACK_NB, &per_panel)) {
        return 1;
    }
    return vitc_mul_size(panels, per_panel, out);
}

void vitc_kernels_pack_linear(const float *restrict W, size_t N, size_t K, float *restrict packed)
{
    size_t panels = N / VITC_PACK_NB + (N % VITC_PACK_NB != 0);
    for (size_t p = 0; p < panels; p++) {
        float *panel = packed + p * K * VITC_PACK_NB;
        for (size_t k = 0; k < K; k++) {
            for (size_t j = 0; j < VITC_PACK_NB; j++) {
                size_t n = p * VITC_PACK_NB + j;
                panel[k * VITC_PACK_NB + j] = n < N ? W[n * K + k] : 0.0f;
            }
        }
    }
}

void vitc_kernels_patch_unfold(const float *restrict px, size_t n, size_t C, size_t H, size_t W,
                               size_t P, float *restrict out)
{
    size_t gh = H / P, gw = W / P, Np = gh * gw, cols = C * P * P;
    for (size_t img = 0; img < n; img++) {
        for (size_t gy = 0; gy < gh; gy++) {
            for (size_t gx = 0; gx < gw; gx++) {
                float *row = out + (img * Np + gy * gw + gx) * cols;
                for (size_t c = 0; c < C; c++) {
                    for (size_t ky = 0; ky < P; ky++) {
                        const float *src = px + ((img * C + c) * H + gy * P + ky) * W + gx * P;
                        memcpy(row + (c * P + ky) * P, src, P * sizeof *src);
                    }
                }
            }
        }
    }
}

void vitc_kernels_assemble_tokens(const float *restrict patch_emb, const float *restrict cls,
                                  const float *restrict pos, size_t n, size_t Np, size_t D,
                                  float *restrict x)
{
    size_t T = Np + 1;
    for (size_t img = 0; img < n; img++) {
        float *xi = x + img * T * D;
        for (size_t d = 0; d < D; d++) {
            xi[d] = cls[d] + pos[d];
        }
        for (size_t p = 0; p < Np; p++) {
            const float *e = patch_emb + (img * Np + p) * D;
            const float *ps = pos + (1 + p) * D;
            float *dst = xi + (1 + p) * D;
            for (size_t d = 0; d < D; d++) {
                dst[d] = e[d] + ps[d];
            }
        }
    }
}

void vitc_kernels_assemble_prefix(const float *restrict patch_emb, const float *restrict prefix,
                                  size_t n_prefix, const float *restrict pos, size_t n, size_t Np,
                                  size_t D, float *restrict x)
{
    size_t T = Np + n_prefix;
    for (size_t img = 0; img < n; img++) {
        float *xi = x + img * T * D;
        for (size_t t = 0; t < n_prefix; t++) {
            for (size_t d = 0; d < D; d++) {
                xi[t * D + d] = prefix[t * D + d] + pos[t * D + d];
            }
        }
        for (size_t p = 0; p < Np; p++) {
            const float *e = patch_emb + (img * Np + p) * D;
            const float *ps = pos + (n_prefix + p) * D;
            float *dst = xi + (n_prefix + p) * D;
            for (size_t d = 0; d < D; d++) {
                dst[d] = e[d] + ps[d];
            }
        }
    }
}

/* ---- activations and softmax ---- */

/* transformers' NewGELUActivation: 0.5x(1 + tanh(sqrt(2/pi)(x + 0.044715x^3))). */
static float gelu_tanh(float x)
{
    const float k = 0.7978845608028654f; /* sqrt(2/pi) */
    return 0.5f * x * (1.0f + tanhf(k * (x + 0.044715f * (x * x * x))));
}

static void act_row_ref(enum vitc_act act, float *x, size_t n)
{
    switch (act) {
    case VITC_ACT_NONE:
        break;
    case VITC_ACT_GELU:
        /* PyTorch's exact GELU: x * 0.5 * (1 + erf(x / sqrt(2))), in float. */
        for (size_t i = 0; i < n; i++) {
            x[i] = x[i] * 0.5f * (1.0f + erff(x[i] * 0.70710678118654752f));
        }
        break;
    case VITC_ACT_GELU_TANH:
        for (size_t i = 0; i < n; i++) {
            x[i] = gelu_tanh(x[i]);
        }
        break;
    case VITC_ACT_QUICK_GELU:
        for (size_t i = 0; i < n; i++) {
            x[i] = x[i] / (1.0f + expf(-1.702f * x[i]));
        }
        break;
    case VITC_ACT_RELU:
        for (size_t i = 0; i < n; i++) {
            x[i] = x[i] > 0.0f ? x[i] : 0.0f;
        }
        break;
    case VITC_ACT_SILU:
        for (size_t i = 0; i < n; i++) {
            x[i] = x[i] / (1.0f + expf(-x[i]));
        }
        break;
    case VITC_ACT_TANH:
        for (size_t i = 0; i < n; i++) {
            x[i] = tanhf(x[i]);
        }
        break;
    }
}

static void erf_row_ref(float *x, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        x[i] = erff(x[i]);
    }
}

static void softmax_row_ref(float *x, size_t n)
{
    float mx = x[0];
    for (size_t i = 1; i < n; i++) {
        mx = x[i] > mx ? x[i] : mx;
    }
    float sum = 0.0f;
    for (size_t i = 0; i < n; i++) {
        x[i] = expf(x[i] - mx);
        sum += x[i];
    }
    for (size_t i = 0; i < n; i++) {
        x[i] /= sum;
    }
}

/* ---- linear ---- */

/* Bias, activation, residual, store: for one row of nb <= VITC_PACK_NB
 * results. res may equal y: each element is read before it is written. */
static void linear_epilogue(float *restrict acc, size_t nb, const float *bias, const float *res,
                            float *y, enum vitc_act act)
{
    if (bias) {
        for (size_t j = 0; j < nb; j++) {
            acc[j] += bias[j];
        }
    }
    act_row_ref(act, acc, nb);
    if (res) {
        for (size_t j = 0; j < nb; j++) {
            acc[j] += res[j];
        }
    }
    memcpy(y, acc, nb * sizeof *y);
}

static void linear_panel_ref(size_t M, size_t K, size_t nb, const float *x, size_t ldx,
                             const float *wp, const float *bias, const float *res, float *y,
                             size_t ldy, enum vitc_act act)
{
    size_t i = 0;
    /* Two rows at a time share each load of a panel row wp[k]. Of tiles of
     * 1..8 rows, 2 ran fastest with both GCC 12 and clang 14 at -O2. */
    for (; i + 2 <= M; i += 2) {
        float acc0[VITC_PACK_NB] = {0}, acc1[VITC_PACK_NB] = {0};
        const float *x0 = x + i * ldx, *x1 = x0 + ldx;
        for (size_t k = 0; k < K; k++) {
            const float *restrict w = wp + k * VITC_PACK_NB;
            float xv0 = x0[k], xv1 = x1[k];
            for (size_t j = 0; j < VITC_PACK_NB; j++) {
                acc0[j] += xv0 * w[j];
                acc1[j] += xv1 * w[j];
            }
        }
        linear_epilogue(acc0, nb, bias, res ? res + i * ldy : NULL, y + i * ldy, act);
        linear_epilogue(acc1, nb, bias, res ? res + (i + 1) * ldy : NULL, y + (i + 1) * ldy, act);
    }
    /* The last odd row: the same per-element sums. */
    for (; i < M; i++) {
        float acc[VITC_PACK_NB] = {0};
        for (size_t k = 0; k < K; k++) {
            const float *restrict w = wp + k * VITC_PACK_NB;
            float xv = x[i * ldx + k];
            for (size_t j = 0; j < VITC_PACK_NB; j++) {
                acc[j] += xv * w[j];
            }
        }
        linear_epilogue(acc, nb, bias, res ? res + i * ldy : NULL, y + i * ldy, act);
    }
}

/* The reference has no packing or cache blocking: one panel at a time over
 * all M rows and all of K. */
static void linear_block_ref(size_t M, size_t N, size_t K, const float *x, size_t ldx,
                             const float *wp, const float *bias, const float *res, float *y,
                             size_t ldy, enum vitc_act act, float *scratch)
{
    for (size_t n0 = 0; n0 < N; n0 += VITC_PACK_NB) {
        size_t nb = N - n0 < VITC_PACK_NB ? N - n0 : VITC_PACK_NB;
        linear_panel_ref(M, K, nb, x, ldx, wp + n0 * K, bias ? bias + n0 : NULL,
                         res ? res + n0 : NULL, y + n0, ldy, act);
    }
}

/* ---- layernorm ---- */

static void layernorm_row_ref(size_t n, const float *x, float *y, const float *w, const float *b,
                              double eps)
{
    double mean = 0.0;
    for (size_t i = 0; i < n; i++) {
        mean += x[i];
    }
    mean /= (double)n;
    double var = 0.0;
    for (size_t i = 0; i < n; i++) {
        double d = x[i] - mean;
        var += d * d;
    }
    var /= (double)n;
    double rstd = 1.0 / sqrt(var + eps);
    for (size_t i = 0; i < n; i++) {
        y[i] = (float)((x[i] - mean) * rstd * w[i] + b[i]);
    }
}

/* ---- attention ---- */

/* y[0:n] += a * x[0:n], blocked by VEC (see VEC). */
static void axpy(size_t n, float a, const float *restrict x, float *restrict y)
{
    size_t j = 0;
    for (; j + VEC <= n; j += VEC) {
        for (size_t u = 0; u < VEC; u++) {
            y[j + u] += a * x[j + u];
        }
    }
    for (; j < n; j++) {
        y[j] += a * x[j];
    }
}

static void attention_head_ref(size_t T, size_t d, const float *q, const float *k, const float *v,
                               size_t ld, float *o, size_t ldo, float sqrt_d, float *work)
{
    float *restrict kt = work;        /* (d, T): k transposed, so scores are axpys */
    float *restrict s = work + d * T; /* (T) scores, then probabilities */
    for (size_t j = 0; j < T; j++) {
        for (size_t c = 0; c < d; c++) {
            kt[c * T + j] = k[j * ld + c];
        }
    }
    for (size_t i = 0; i < T; i++) {
        const float *qi = q + i * ld;
        memset(s, 0, T * sizeof *s);
        for (size_t c = 0; c < d; c++) {
            axpy(T, qi[c], kt + c * T, s);
        }
        /* transformers divides the product q.k^T by sqrt(d) (not q by it). */
        for (size_t j = 0; j < T; j++) {
            s[j] /= sqrt_d;
        }
        softmax_row_ref(s, T);
        float *oi = o + i * ldo;
        memset(oi, 0, d * sizeof *oi);
        for (size_t j = 0; j < T; j++) {
            axpy(d, s[j], v + j * ld, oi);
        }
    }
}

const struct vitc_cpu_kernels vitc_kernels_ref = {
    .name = "ref",
    /* Blocks as large as the backend's old work split: 64 rows x 4 panels. */
    .mr = 2,
    .nr = VITC_PACK_NB,
    .kc = 0,
    .mc = 64,
    .nc = 4 * VITC_PACK_NB,
    .linear_scratch = 0,
    .linear_block = linear_block_ref,
    .layernorm_row = layernorm_row_ref,
    .attention_head = attention_head_ref,
    .erf_row = erf_row_ref,
    .act_row = act_row_ref,
    .softmax_row = softmax_row_ref,
};

void vitc_kernels_swiglu(const float *restrict x, float *restrict y, size_t rows, size_t I)
{
    for (size_t r = 0; r < rows; r++) {
        const float *a = x + r * 2 * I, *b = a + I;
        for (size_t i = 0; i < I; i++) {
            y[r * I + i] = a[i] / (1.0f + expf(-a[i])) * b[i];
        }
    }
}

void vitc_kernels_attention_pool(const float *restrict q, const float *restrict kv,
                                 float *restrict out, size_t n, size_t T, size_t H, size_t hd,
                                 float *restrict work)
{
    size_t D = H * hd;
    float scale = 1.0f / sqrtf((float)hd);
    for (size_t img = 0; img < n; img++) {
        for (size_t h = 0; h < H; h++) {
            const float *qh = q + h * hd;
            float mx = -INFINITY, sum = 0.0f;
            for (size_t t = 0; t < T; t++) {
                const float *k = kv + (img * T + t) * 2 * D + h * hd;
                float s = 0.0f;
                for (size_t j = 0; j < hd; j++) {
                    s += qh[j] * k[j];
                }
                work[t] = s * scale;
                mx = work[t] > mx ? work[t] : mx;
            }
            for (size_t t = 0; t < T; t++) {
                work[t] = expf(work[t] - mx);
                sum += work[t];
            }
            float *o = out + img * D + h * hd;
            for (size_t j = 0; j < hd; j++) {
                o[j] = 0.0f;
            }
            for (size_t t = 0; t < T; t++) {
                const float *v = kv + (img * T + t) * 2 * D + D + h * hd;
                float p = work[t] / sum;
                for (size_t j = 0; j < hd; j++) {
                    o[j] += p * v[j];
                }
            }
        }
    }
}
