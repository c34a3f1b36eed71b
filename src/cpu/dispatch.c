/* SPDX-License-Identifier: MIT
 *
 * dispatch.c — the choice of kernel table from the CPU's features
 * (base/cpu_features.c detects them once per process) or from VITC_CPU.
 * Everything here is read-only. Kernel layer: names no op and does no
 * arithmetic.
 */
#include "cpu/dispatch.h"

#include <stdlib.h>

#include "base/err.h"
#include "cpu/kernels_attn_bf16_avx512.h"

#if defined(__x86_64__)
#define VITC_X86 1
#else
#define VITC_X86 0
#endif

const struct vitc_lowp_kernels *vitc_cpu_lowp_kernels(vitc_precision precision,
                                                      const struct vitc_cpu_kernels *fp32)
{
    bool int8 = precision == VITC_PRECISION_INT8;
    (void)fp32;
#if VITC_X86
    if (int8 && fp32 == &vitc_kernels_avx512 && vitc_cpu_has_ext(VITC_EXT_AVX512_VNNI)) {
        return &vitc_kernels_i8_avx512;
    }
    if (!int8 && fp32 == &vitc_kernels_avx512 && vitc_cpu_has_ext(VITC_EXT_AVX512_BF16)) {
        return &vitc_kernels_bf16_avx512;
    }
#endif
    return int8 ? &vitc_kernels_i8_ref : &vitc_kernels_bf16_ref;
}

vitc_attention_head_fn *vitc_cpu_lowp_attention(const struct vitc_lowp_kernels *t)
{
#if VITC_X86
    if (t->attention_head == vitc_attention_head_bf16_avx512 &&
        !vitc_cpu_has_ext(VITC_EXT_AVX512_BF16)) {
        return NULL;
    }
#endif
    return t->attention_head;
}

const struct vitc_cpu_kernels *vitc_cpu_kernels_for(enum vitc_cpu_isa isa)
{
    if (!vitc_cpu_has(isa)) {
        return NULL;
    }
    switch (isa) {
#if VITC_X86
    case VITC_ISA_AVX512:
        return &vitc_kernels_avx512;
    case VITC_ISA_AVX2:
        return &vitc_kernels_avx2;
#endif
    default:
        return &vitc_kernels_ref;
    }
}

vitc_status vitc_cpu_kernels_select(const struct vitc_cpu_kernels **out)
{
    const char *want = getenv("VITC_CPU");
    enum vitc_cpu_isa isa;
    if (!want || !*want) {
        *out = vitc_cpu_kernels_for(vitc_cpu_best());
        return VITC_OK;
    }
    if (vitc_cpu_isa_from_name(want, &isa)) {
        if (!vitc_cpu_has(isa)) {
            return vitc_error(VITC_ERR_INVALID_ARG,
                              "VITC_CPU=%s: this CPU does not run the %s kernels", want, want);
        }
        *out = vitc_cpu_kernels_for(isa);
        return VITC_OK;
    }
    return vitc_error(VITC_ERR_INVALID_ARG,
                      "VITC_CPU: unknown kernel table (use ref, avx2 or avx512)");
}
