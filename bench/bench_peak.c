/* SPDX-License-Identifier: MIT
 *
 * bench_peak.c — the arithmetic peaks the benchmarks in bench/ divide by:
 * register-only loops of the fp32 FMA (AVX-512, AVX2), vdpbf16ps and
 * vpdpbusd, 12 independent chains per thread, timed in each thread's own
 * CPU time. Benchmark code, never linked into the library.
 */
#include "bench_peak.h"

#include <pthread.h>
#include <time.h>

#if defined(__x86_64__)
#include <immintrin.h>
#endif

static double thread_cpu_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

/* Iterations of the peak loop per thread, each 12 independent FMAs: enough
 * chains to hide the 4-cycle latency on both FMA pipes. */
#define PEAK_ITERS 20000000L

struct peak_arg {
    float (*loop)(long iters);
    double seconds;
    float sink;
};

#if defined(__x86_64__)
__attribute__((target("avx512f"))) static float peak_avx512(long iters)
{
    __m512 a[12], m = _mm512_set1_ps(0.999999f), c = _mm512_set1_ps(1e-7f);
    for (int i = 0; i < 12; i++) {
        a[i] = _mm512_set1_ps((float)i);
    }
    for (long it = 0; it < iters; it++) {
#pragma GCC unroll 12
        for (int i = 0; i < 12; i++) {
            a[i] = _mm512_fmadd_ps(a[i], m, c);
        }
    }
    __m512 s = a[0];
    for (int i = 1; i < 12; i++) {
        s = _mm512_add_ps(s, a[i]);
    }
    return _mm512_reduce_add_ps(s);
}

__attribute__((target("avx2,fma"))) static float peak_avx2(long iters)
{
    __m256 a[12], m = _mm256_set1_ps(0.999999f), c = _mm256_set1_ps(1e-7f);
    for (int i = 0; i < 12; i++) {
        a[i] = _mm256_set1_ps((float)i);
    }
    for (long it = 0; it < iters; it++) {
#pragma GCC unroll 12
        for (int i = 0; i < 12; i++) {
            a[i] = _mm256_fmadd_ps(a[i], m, c);
        }
    }
    float out[8];
    __m256 s = a[0];
    for (int i = 1; i < 12; i++) {
        s = _mm256_add_ps(s, a[i]);
    }
    _mm256_storeu_ps(out, s);
    return out[0] + out[7];
}

/* The bf16 dot product: each vdpbf16ps is 16 lanes x 2 multiply-adds. */
__attribute__((target("avx512f,avx512bf16"))) static float peak_bf16(long iters)
{
    __m512 a[12];
    __m512bh m = (__m512bh)_mm512_set1_epi32(0x3F803F80),
             c = (__m512bh)_mm512_set1_epi32(0x33D633D6);
    for (int i = 0; i < 12; i++) {
        a[i] = _mm512_set1_ps((float)i);
    }
    for (long it = 0; it < iters; it++) {
#pragma GCC unroll 12
        for (int i = 0; i < 12; i++) {
            a[i] = _mm512_dpbf16_ps(a[i], m, c);
        }
    }
    __m512 s = a[0];
    for (int i = 1; i < 12; i++) {
        s = _mm512_add_ps(s, a[i]);
    }
    return _mm512_reduce_add_ps(s);
}

/* The int8 dot product: each vpdpbusd is 16 lanes x 4 multiply-adds. */
__attribute__((target("avx512f,avx512vnni"))) static float peak_vnni(long iters)
{
    __m512i a[12], m = _mm512_set1_epi8(3), c = _mm512_set1_epi8(-2);
    for (int i = 0; i < 12; i++) {
        a[i] = _mm512_set1_epi32(i);
    }
    for (long it = 0; it < iters; it++) {
#pragma GCC unroll 12
        for (int i = 0; i < 12; i++) {
            a[i] = _mm512_dpbusd_epi32(a[i], m, c);
        }
    }
    __m512i s = a[0];
    for (int i = 1; i < 12; i++) {
        s = _mm512_add_epi32(s, a[i]);
    }
    return (float)_mm512_reduce_add_epi32(s);
}

static float peak_avx512_loop(long iters)
{
    return peak_avx512(iters);
}

static float peak_avx2_loop(long iters)
{
    return peak_avx2(iters);
}
#endif

/* The loop timed in the thread's own CPU time, so time spent descheduled
 * (a shared machine) does not count. */
static void *peak_thread(void *p)
{
    struct peak_arg *a = p;
    double t0 = thread_cpu_s();
    a->sink = a->loop(PEAK_ITERS);
    a->seconds = thread_cpu_s() - t0;
    return NULL;
}

/* GFLOP/s of one core, per second it runs, of a peak loop doing
 * flop_per_op FLOP (2 per multiply-add) in each of its 12 instructions per
 * iteration; two threads run at once and the faster counts, so a neighbour
 * on the same core's sibling does not halve it. */
static double peak_core(float (*loop)(long), double flop_per_op)
{
    pthread_t th[2];
    struct peak_arg args[2];
    double best = 1e30;
    for (int t = 0; t < 2; t++) {
        args[t] = (struct peak_arg){.loop = loop};
        pthread_create(&th[t], NULL, peak_thread, &args[t]);
    }
    for (int t = 0; t < 2; t++) {
        pthread_join(th[t], NULL);
        best = args[t].seconds < best ? args[t].seconds : best;
    }
    return flop_per_op * 12.0 * (double)PEAK_ITERS / best * 1e-9;
}

/* The fp32 FMA peak of an ISA's widest vectors (0 for the reference). */
double bench_fma_peak_core(enum vitc_cpu_isa isa)
{
#if defined(__x86_64__)
    if (isa == VITC_ISA_AVX512) {
        return peak_core(peak_avx512_loop, 2.0 * 16);
    }
    if (isa == VITC_ISA_AVX2) {
        return peak_core(peak_avx2_loop, 2.0 * 8);
    }
#endif
    return 0;
}

/* The dot-product peak a low-precision table runs at: vdpbf16ps (64 FLOP)
 * for bf16, vpdpbusd (128 integer OP) for int8; 0 where the CPU lacks it. */
double bench_lowp_peak_core(vitc_precision precision)
{
#if defined(__x86_64__)
    if (precision == VITC_PRECISION_BF16 && vitc_cpu_has_ext(VITC_EXT_AVX512_BF16)) {
        return peak_core(peak_bf16, 2.0 * 16 * 2);
    }
    if (precision == VITC_PRECISION_INT8 && vitc_cpu_has_ext(VITC_EXT_AVX512_VNNI)) {
        return peak_core(peak_vnni, 2.0 * 16 * 4);
    }
#endif
    return 0;
}
