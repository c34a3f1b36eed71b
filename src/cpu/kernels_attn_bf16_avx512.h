/* SPDX-License-Identifier: MIT
 *
 * kernels_attn_bf16_avx512.h — attention with bf16 products, the
 * attention_head of the low-precision tables: AVX-512 + AVX512_BF16 (call
 * only on CPUs with AVX512_BF16) and its portable oracle
 * (in kernels_lowp_ref.c). Kernel layer.
 */
#ifndef VITC_KERNELS_ATTN_BF16_AVX512_H
#define VITC_KERNELS_ATTN_BF16_AVX512_H

#include <stddef.h>

/* vitc_lowp_kernels.attention_head (kernels.h): q.k and p.v with vdpbf16ps
 * on bf16 (round to nearest even) q, k, v and probabilities, fp32
 * accumulation; scores, max, exp and sum in fp32. */
void vitc_attention_head_bf16_avx512(size_t T, size_t d, const float *q, const float *k,
                                     const float *v, size_t ld, float *o, size_t ldo, float sqrt_d,
                                     float *work);

/* The same rounding of the same values, in portable C (exact bf16 products,
 * float sums in another order): vitc_kernels_bf16_ref and _i8_ref's. */
void vitc_attention_head_bf16_ref(size_t T, size_t d, const float *q, const float *k,
                                  const float *v, size_t ld, float *o, size_t ldo, float sqrt_d,
                                  float *work);

#endif /* VITC_KERNELS_ATTN_BF16_AVX512_H */
