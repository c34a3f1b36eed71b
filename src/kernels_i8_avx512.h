/* SPDX-License-Identifier: MIT
 *
 * kernels_i8_avx512.h — what the int8 AVX-512 VNNI table (kernels_i8_avx512.c)
 * exposes beyond its struct vitc_lowp_kernels: its vectorised activation
 * quantizer, so tests can hold it to vitc_kernels_quantize_row_u8 byte for
 * byte. Kernel layer; call only when dispatch.c reports AVX512_VNNI.
 */
#ifndef VITC_KERNELS_I8_AVX512_H
#define VITC_KERNELS_I8_AVX512_H

#include <stddef.h>
#include <stdint.h>

/* vitc_kernels_quantize_row_u8 with AVX-512: the same bytes, scale and zero
 * point for every input. x: (K); q: (K) bytes. x86-64 builds only. */
void vitc_i8_avx512_quantize_row(const float *restrict x, size_t K, uint8_t *restrict q,
                                 float *scale, int32_t *zero);

#endif /* VITC_KERNELS_I8_AVX512_H */
