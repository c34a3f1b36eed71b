/* SPDX-License-Identifier: MIT
 *
 * kernels_attn_bf16_ref.c — the portable attention head with bf16 products,
 * the oracle for kernels_attn_bf16_avx512.c and the attention_head of the
 * portable low-precision tables: q, k, v and the softmax's probabilities
 * rounded to bf16 (round to nearest even), their products exact in float
 * and summed in float, the softmax in float, 1/sum applied to the output.
 * Kernel layer: no allocation.
 */
#include <math.h>
#include <string.h>

#include "kernels.h"
#include "kernels_attn_bf16_avx512.h"

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
