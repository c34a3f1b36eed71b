/* SPDX-License-Identifier: MIT
 *
 * dispatch.h — which CPU kernel table runs: the one chosen from the
 * instruction sets this CPU and OS support (base/cpu_features.h, detected
 * once) or forced with VITC_CPU=ref|avx2|avx512. Kernel layer; no state.
 */
#ifndef VITC_DISPATCH_H
#define VITC_DISPATCH_H

#include <stdbool.h>

#include "base/cpu_features.h"
#include "cpu/kernels.h"
#include "vitc.h"

/* The table for isa (NULL when !vitc_cpu_has(isa)). */
const struct vitc_cpu_kernels *vitc_cpu_kernels_for(enum vitc_cpu_isa isa);

/* The low-precision table matching the fp32 table fp32 (the same
 * instruction set when the CPU has the extension it needs, else the
 * portable one). precision: VITC_PRECISION_BF16 or VITC_PRECISION_INT8. */
const struct vitc_lowp_kernels *vitc_cpu_lowp_kernels(vitc_precision precision,
                                                      const struct vitc_cpu_kernels *fp32);

/* A low-precision table's attention (vitc_lowp_kernels.attention_head)
 * if this CPU runs it, else NULL (use the fp32 table's): the int8 AVX-512
 * table's attention is the bf16 one, and a CPU may have VNNI without
 * AVX512_BF16. */
vitc_attention_head_fn *vitc_cpu_lowp_attention(const struct vitc_lowp_kernels *t);

/* The table a new backend uses: the best the CPU runs, or the one VITC_CPU
 * names. Fails with VITC_ERR_INVALID_ARG when VITC_CPU names an unknown
 * table or one this CPU cannot run. */
vitc_status vitc_cpu_kernels_select(const struct vitc_cpu_kernels **out);

#endif /* VITC_DISPATCH_H */
