/* SPDX-License-Identifier: MIT
 *
 * cpu_features.c — CPU feature detection: cpuid leaves 1 and 7, and xgetbv
 * for the register state the OS saves. Runs once per process
 * (pthread_once); the result is read-only afterwards and is the only
 * process-wide table vitc keeps. Base layer: chooses no code itself.
 */
#include "base/cpu_features.h"

#include <pthread.h>
#include <string.h>

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

enum vitc_cpu_isa vitc_cpu_best(void)
{
    pthread_once(&detect_once, detect);
    return detected;
}

bool vitc_cpu_isa_from_name(const char *name, enum vitc_cpu_isa *isa)
{
    static const struct {
        const char *name;
        enum vitc_cpu_isa isa;
    } names[] = {{"ref", VITC_ISA_REF}, {"avx2", VITC_ISA_AVX2}, {"avx512", VITC_ISA_AVX512}};
    for (size_t i = 0; name && i < sizeof names / sizeof names[0]; i++) {
        if (strcmp(name, names[i].name) == 0) {
            *isa = names[i].isa;
            return true;
        }
    }
    return false;
}
