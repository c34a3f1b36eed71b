/* SPDX-License-Identifier: MIT
 *
 * half.h — exact conversions of IEEE binary16 (F16) and bfloat16 (BF16) to
 * float32. Every 16-bit value, subnormals, infinities and NaN payloads
 * included, has an exact float32 image, so no rounding happens here.
 * Leaf helpers for the loader and the kernels; no rounding in the other
 * direction lives here.
 */
#ifndef VITC_HALF_H
#define VITC_HALF_H

#include <stdint.h>
#include <string.h>

static inline float vitc_f32_from_bits(uint32_t bits)
{
    float f;
    memcpy(&f, &bits, sizeof f);
    return f;
}

/* binary16: 1 sign, 5 exponent (bias 15), 10 mantissa bits. */
static inline float vitc_f16_to_f32(uint16_t h)
{
    uint32_t sign = (uint32_t)(h & 0x8000u) << 16;
    uint32_t exp = (h >> 10) & 0x1fu;
    uint32_t mant = h & 0x3ffu;
    if (exp == 0) {
        /* Zero or subnormal: mant * 2^-24; both factors and the product are
         * exact in float32 (mant < 2^10, a power-of-two scale). */
        float mag = (float)mant * 0x1p-24f;
        return sign ? -mag : mag;
    }
    if (exp == 31) {
        /* Inf or NaN: keep the payload in the top mantissa bits. */
        return vitc_f32_from_bits(sign | 0x7f800000u | (mant << 13));
    }
    /* Normal: rebias the exponent from 15 to 127. */
    return vitc_f32_from_bits(sign | ((exp + 112u) << 23) | (mant << 13));
}

/* bfloat16 is the top half of a float32. */
static inline float vitc_bf16_to_f32(uint16_t b)
{
    return vitc_f32_from_bits((uint32_t)b << 16);
}

#endif /* VITC_HALF_H */
