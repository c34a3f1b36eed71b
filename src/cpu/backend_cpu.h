/* SPDX-License-Identifier: MIT
 *
 * backend_cpu.h — making the CPU backend (backend_cpu.c), which implements
 * graph/backend.h's ops with the kernels of this folder, and preparing a
 * model's weights for it once at load (packing, bf16/int8 conversion).
 */
#ifndef VITC_BACKEND_CPU_H
#define VITC_BACKEND_CPU_H

#include <stddef.h>
#include <stdint.h>

#include "graph/backend.h"
#include "model/model.h"
#include "vitc.h"

/* The CPU backend with n_threads threads (the caller's thread included).
 * max_tokens and max_head_dim size the per-thread attention scratch; the
 * attention op refuses larger sequences. */
vitc_status vitc_backend_cpu_new(int n_threads, size_t max_tokens, size_t max_head_dim,
                                 struct vitc_be **out);

/* The CPU backend for a model computing in `precision` (FP32, BF16 or
 * INT8; FP16 and TF32 fail with VITC_ERR_UNSUPPORTED): max_k is the largest
 * linear input width (sizes the bf16/int8 conversion scratch). */
struct vitc_cpu_backend_params {
    int n_threads;
    size_t max_tokens, max_head_dim, max_k;
    vitc_precision precision;
};
vitc_status vitc_backend_cpu_create(const struct vitc_cpu_backend_params *p, struct vitc_be **out);

/* Prepares one linear's weights for the CPU backend in a precision (FP32,
 * BF16 or INT8) into l->packed, as model loading does for every layer; and
 * frees them. For tests and benchmarks that build layers by hand. */
vitc_status vitc_cpu_prepare_linear(struct vitc_linear *l, vitc_precision precision);
void vitc_cpu_unprepare_linear(struct vitc_linear *l);

/* Threads of a CPU backend (for reports and tests). */
int vitc_backend_cpu_n_threads(const struct vitc_be *be);

/* Profiling (bench/bench_profile.c): with busy_ns set, each op's threads
 * add the nanoseconds they spent in its tasks to busy_ns[ith] (n_threads
 * counters), see vitc_threadpool_set_busy; NULL turns it off. */
void vitc_backend_cpu_set_busy(struct vitc_be *be, uint64_t *busy_ns);

/* Prepares every linear of a loaded model once (packing, precision
 * conversion) into each vitc_linear.packed; vitc_model_load calls it after
 * the loader has set all weight views. vitc_model_unprepare_weights frees
 * what it made and is safe on a partly prepared model. */
vitc_status vitc_model_prepare_weights(struct vitc_model *m);
void vitc_model_unprepare_weights(struct vitc_model *m);

#endif /* VITC_BACKEND_CPU_H */
