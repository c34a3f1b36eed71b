/* SPDX-License-Identifier: MIT
 *
 * dispatch.c — CPU feature detection (cpuid leaves 1 and 7, xgetbv for the
 * register state the OS saves) and the choice of kernel table. Runs the
 * detection once per process (pthread_once); everything else is read-only.
 * Kernel layer: names no op and does no arithmetic.
 */
#include "cpu/dispatch.h"

#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "base/err.h"
#include "cpu/kernels_attn_bf16_avx512.h"

#if defined(__x86_64__)
#include <cpuid.h>
#define VITC_X86 1
#else
#define VITC_X86 0
#endif

static pthread_once_t detect_once = PTHREAD_ONCE_INIT;
static enum vitc_cpu_isa detected = VITC_ISA_REF; /* written once, under detect_once */
static unsigned detected_ext;                     /* likewise: vitc_cpu_ext bits   */

#if VITC_X86
/* XCR0 bits: SSE and AVX state (1, 2), and AVX-512 opmask, upper zmm0-15 and
 * zmm16-31 (5, 6, 7). */
#define XCR0_YMM 0x06u
#define XCR0_ZMM 0xE6u

static unsigned long long read_xcr0(void)
{
    unsigned int lo = 0, hi = 0;
    __asm__ volatile("xgetbv" : "=a"(lo), "=d"(hi) : "c"(0));
    return ((unsigned long long)hi << 32) | lo;
}

static void detect(void)
{
    unsigned int a = 0, b = 0, c = 0, d = 0;
    if (!__get_cpuid(1, &a, &b, &c, &d)) {
        return;
    }
    bool fma = c & bit_FMA, osxsave = c & bit_OSXSAVE, avx = c & bit_AVX;
    if (!osxsave || !avx) {
        return;
    }
    unsigned long long xcr0 = read_xcr0();
    if ((xcr0 & XCR0_YMM) != XCR0_YMM || !__get_cpuid_count(7, 0, &a, &b, &c, &d)) {
        return;
    }
    if (!(b & bit_AVX2) || !fma) {
        return;
    }
    detected = VITC_ISA_AVX2;
    bool avx512 = (b & bit_AVX512F) && (b & bit_AVX512BW) && (b & bit_AVX512DQ) &&
                  (b & bit_AVX512VL) && (xcr0 & XCR0_ZMM) == XCR0_ZMM;
    if (avx512) {
        detected = VITC_ISA_AVX512;
        if (c & bit_AVX512VNNI) {
            detected_ext |= VITC_EXT_AVX512_VNNI;
        }
        if (__get_cpuid_count(7, 1, &a, &b, &c, &d) && (a & bit_AVX512BF16)) {
            detected_ext |= VITC_EXT_AVX512_BF16;
        }
    }
}
#else
static void detect(void)
{
}
#endif

bool vitc_cpu_has(enum vitc_cpu_isa isa)
{
    pthread_once(&detect_once, detect);
    return isa <= detected;
}

bool vitc_cpu_has_ext(enum vitc_cpu_ext ext)
{
    pthread_once(&detect_once, detect);
    return (detected_ext & (unsigned)ext) != 0;
}

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
    static const struct {
        const char *name;
        enum vitc_cpu_isa isa;
    } names[] = {{"ref", VITC_ISA_REF}, {"avx2", VITC_ISA_AVX2}, {"avx512", VITC_ISA_AVX512}};
    const char *want = getenv("VITC_CPU");
    pthread_once(&detect_once, detect);
    if (!want || !*want) {
        *out = vitc_cpu_kernels_for(detected);
        return VITC_OK;
    }
    for (size_t i = 0; i < sizeof names / sizeof names[0]; i++) {
        if (strcmp(want, names[i].name) == 0) {
            if (!vitc_cpu_has(names[i].isa)) {
                return vitc_error(VITC_ERR_INVALID_ARG,
                                  "VITC_CPU=%s: this CPU does not run the %s kernels",
                                  names[i].name, names[i].name);
            }
            *out = vitc_cpu_kernels_for(names[i].isa);
            return VITC_OK;
        }
    }
    return vitc_error(VITC_ERR_INVALID_ARG,
                      "VITC_CPU: unknown kernel table (use ref, avx2 or avx512)");
}
