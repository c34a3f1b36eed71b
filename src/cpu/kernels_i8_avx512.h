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

/* The int8 linear's activation quantizer: rows [0, m) of x (m <= 8, row
 * stride ldx, K floats each) quantized as vitc_kernels_quantize_row_u8
 * does, to the same bytes, scales and zero points, into one 8-row panel:
 * row r's bytes k = 4g .. 4g+3 at dword g * 8 + r of aq, zero past K and
 * for rows r >= m (whose scale and zero point are 0). aq: (ceil(K / 4), 8)
 * dwords; scale, zero: (8). x86-64 builds only. */
void vitc_i8_avx512_quantize_panel(const float *x, size_t ldx, size_t m, size_t K, uint32_t *aq,
                                   float *scale, int32_t *zero);

#endif /* VITC_KERNELS_I8_AVX512_H */
