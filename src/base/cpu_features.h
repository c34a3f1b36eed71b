/* SPDX-License-Identifier: MIT
 *
 * cpu_features.h — what this CPU and OS run: the x86 instruction-set levels
 * and extensions (cpuid + xgetbv, detected once per process), and the
 * VITC_CPU=ref|avx2|avx512 names. Base layer, so that both the kernel
 * tables (cpu/dispatch.c) and the preprocessing passes (preprocess/) can
 * choose their code from it; it names no kernel.
 */
#ifndef VITC_CPU_FEATURES_H
#define VITC_CPU_FEATURES_H

#include <stdbool.h>

/* Instruction-set levels, each implying the ones before it. */
enum vitc_cpu_isa {
    VITC_ISA_REF = 0, /* portable C                                   */
    VITC_ISA_AVX2,    /* AVX2 + FMA, OS saves the ymm state           */
    VITC_ISA_AVX512,  /* AVX-512 F/BW/DQ/VL, OS saves the zmm state   */
};

/* Extensions beyond an ISA level, for the low-precision tables. */
enum vitc_cpu_ext {
    VITC_EXT_AVX512_BF16 = 1, /* vdpbf16ps                                  */
    VITC_EXT_AVX512_VNNI = 2, /* vpdpbusd                                   */
};

/* True when this CPU and OS run isa (always for VITC_ISA_REF). */
bool vitc_cpu_has(enum vitc_cpu_isa isa);

/* True when this CPU has the extension (and the zmm state, as for AVX512). */
bool vitc_cpu_has_ext(enum vitc_cpu_ext ext);

/* The best level this CPU runs. */
enum vitc_cpu_isa vitc_cpu_best(void);

/* The level VITC_CPU names ("ref", "avx2", "avx512"): true and *isa set
 * when name is one of them, false otherwise (*isa untouched). */
bool vitc_cpu_isa_from_name(const char *name, enum vitc_cpu_isa *isa);

#endif /* VITC_CPU_FEATURES_H */
