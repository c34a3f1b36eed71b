/* SPDX-License-Identifier: MIT
 *
 * bench_peak.h — per-core arithmetic peaks for the benchmarks in bench/
 * (bench_peak.c): what "% of peak" divides by. Benchmark code only.
 */
#ifndef VITC_BENCH_PEAK_H
#define VITC_BENCH_PEAK_H

#include "cpu/dispatch.h"
#include "vitc.h"

/* GFLOP/s of one core (per second it runs) of the fp32 FMA at an ISA's
 * widest vectors; 0 for the reference. Takes about a second. */
double bench_fma_peak_core(enum vitc_cpu_isa isa);

/* The same for the dot product a low-precision mode runs on: vdpbf16ps
 * (64 FLOP) for bf16, vpdpbusd (128 integer OP) for int8; 0 where the CPU
 * lacks it. */
double bench_lowp_peak_core(vitc_precision precision);

#endif /* VITC_BENCH_PEAK_H */
