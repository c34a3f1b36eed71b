/* SPDX-License-Identifier: MIT
 *
 * bench_kernels.c — micro-benchmark of the CPU linear (GEMM) kernels: for
 * every kernel table this CPU runs and 1..N threads, first checks the
 * backend's linear against the reference table on the same inputs, then
 * times the four ViT-B/16 GEMM shapes at M = 197 (one image) and M = 1576
 * (eight), and prints GFLOP/s beside a register-only FMA loop measured on as
 * many threads just before (the machine's fp32 peak as it is right now).
 * Then the same for the bf16 and int8 tables, checked against their
 * portable oracles and timed against a register-only loop of their own
 * dot-product instruction (vdpbf16ps: 64 FLOP, vpdpbusd: 128 OP, about 2x
 * and 4x the fp32 FMA's 32 on Zen 4).
 * Given a model directory, also times whole forwards at batch 1 and 8 (the
 * same medians, wall and CPU time). Built by `make bench-kernels`; not part
 * of `make test`. The user-facing model benchmark is `vitc bench`.
 *
 * Napkin math: ViT-B/16 at 224 is 35.1 GFLOP per image, 97% of it in these
 * four weight GEMMs (2*M*N*K each, 12 layers): QKV 768->2304, attention out
 * 768->768, MLP up 768->3072, MLP down 3072->768. A Zen 4 core issues one
 * 512-bit FMA per cycle (two 256-bit pipes), 32 FLOP/cycle, ~119 GFLOP/s
 * per core at 3.7 GHz: about 238 GFLOP/s on 2 cores, so ~148 ms per image
 * is the floor; 85% of peak is ~175 ms.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "base/err.h"
#include "bench_peak.h"
#include "cpu/backend_cpu.h"
#include "cpu/dispatch.h"
#include "cpu/kernels.h"

static double clock_s(clockid_t id)
{
    struct timespec ts;
    clock_gettime(id, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

static double now_s(void)
{
    return clock_s(CLOCK_MONOTONIC);
}

/* ---- GEMM timing ---- */

static unsigned long long rng = 0x2545F4914F6CDD1Dull;

static float frand(void)
{
    rng = rng * 6364136223846793005ull + 1442695040888963407ull;
    return (float)((double)(rng >> 40) / (double)(1ull << 23) - 1.0);
}

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

/* Median wall seconds, the fastest run's wall seconds (the figure to trust
 * on a busy machine) and median CPU seconds (all threads) of one linear on
 * be, over repetitions filling ~min_s. A residual is added into y in place,
 * as the model does (the values drift; the time does not). */
static void time_linear(struct vitc_be *be, const struct vitc_linear *l, const float *x, size_t M,
                        float *y, enum vitc_act act, int residual, double min_s, double *wall,
                        double *best, double *cpu)
{
    double t[64], c[64];
    int n = 0;
    double start = now_s();
    be->ops->linear(be, l, x, M, y, act, residual ? y : NULL); /* warm-up */
    while (n < 64 && (n < 5 || now_s() - start < min_s)) {
        double t0 = now_s(), c0 = clock_s(CLOCK_PROCESS_CPUTIME_ID);
        be->ops->linear(be, l, x, M, y, act, residual ? y : NULL);
        c[n] = clock_s(CLOCK_PROCESS_CPUTIME_ID) - c0;
        t[n++] = now_s() - t0;
    }
    qsort(t, (size_t)n, sizeof t[0], cmp_double);
    qsort(c, (size_t)n, sizeof c[0], cmp_double);
    *wall = t[n / 2];
    *best = t[0];
    *cpu = c[n / 2];
}

/* A GEMM of the model with the epilogue the model fuses into it. */
/* ---- whole model ---- */

/* FLOP of one image's forward, 2 per multiply-add: the four linears per
 * layer, attention's two products, patch embedding and the pooler. */
static double model_flop(const vitc_model_info *m)
{
    double D = m->hidden_size, I = m->intermediate_size, T = m->n_tokens, L = m->num_hidden_layers;
    double P = T - 1, cpp = (double)m->num_channels * m->patch_size * m->patch_size;
    return 2.0 * (P * cpp * D + L * (4 * T * D * D + 2 * T * D * I + 2 * T * T * D) + D * D);
}

/* Medians of wall and CPU time of vitc_forward at batch 1 and 8 with 1..max
 * threads, on uniform random pixel_values, the model computing in
 * precision. */
static int bench_model(const char *dir, int max_threads, double min_s, double peak_core,
                       vitc_precision precision)
{
    vitc_model *model = NULL;
    vitc_model_params mp = vitc_model_default_params();
    mp.precision = precision;
    if (vitc_model_load(dir, &mp, &model) != VITC_OK) {
        fprintf(stderr, "%s\n", vitc_last_error());
        return 1;
    }
    const vitc_model_info *info = vitc_model_get_info(model);
    size_t per_image = (size_t)info->num_channels * info->image_height * info->image_width;
    float *px = malloc(8 * per_image * sizeof *px);
    for (size_t i = 0; i < 8 * per_image; i++) {
        px[i] = frand();
    }
    double flop = model_flop(info);
    printf("\nmodel %s: %.2f GFLOP per image\n", dir, flop * 1e-9);
    printf("  %7s %5s %10s %10s %10s %9s %7s\n", "threads", "batch", "ms", "ms/image", "GFLOP/s",
           "per core", "%peak");
    for (int nt = 1; nt <= max_threads; nt++) {
        vitc_ctx_params cp = vitc_ctx_default_params();
        cp.n_threads = nt;
        cp.max_batch = 8;
        vitc_ctx *ctx = NULL;
        if (vitc_ctx_new(model, &cp, &ctx) != VITC_OK) {
            fprintf(stderr, "%s\n", vitc_last_error());
            break;
        }
        const int batches[] = {1, 8};
        for (int bi = 0; bi < 2; bi++) {
            int n = batches[bi];
            double t[64], c[64], start = now_s();
            int runs = 0;
            vitc_forward(ctx, px, (size_t)n); /* warm-up */
            while (runs < 64 && (runs < 5 || now_s() - start < min_s)) {
                double t0 = now_s(), c0 = clock_s(CLOCK_PROCESS_CPUTIME_ID);
                vitc_forward(ctx, px, (size_t)n);
                c[runs] = clock_s(CLOCK_PROCESS_CPUTIME_ID) - c0;
                t[runs++] = now_s() - t0;
            }
            qsort(t, (size_t)runs, sizeof t[0], cmp_double);
            qsort(c, (size_t)runs, sizeof c[0], cmp_double);
            double wall = t[runs / 2], cpu = c[runs / 2], gflop = flop * n * 1e-9;
            printf("  %7d %5d %10.1f %10.1f %10.1f %9.1f %6.1f%%\n", nt, n, wall * 1e3,
                   wall * 1e3 / n, gflop / wall, gflop / cpu,
                   peak_core > 0 ? 100.0 * gflop / cpu / peak_core : 0.0);
        }
        vitc_ctx_free(ctx);
    }
    free(px);
    vitc_model_free(model);
    return 0;
}

/* ---- GEMM shapes ---- */

struct shape {
    const char *name;
    size_t N, K;
    enum vitc_act act;
    int residual;
};

static const struct shape shapes[] = {
    {"qkv 768->2304", 2304, 768, VITC_ACT_NONE, 0},
    {"attn-out 768->768 +res", 768, 768, VITC_ACT_NONE, 1},
    {"mlp-up 768->3072 gelu", 3072, 768, VITC_ACT_GELU, 0},
    {"mlp-down 3072->768 +res", 768, 3072, VITC_ACT_NONE, 1},
};
#define N_SHAPES (sizeof shapes / sizeof shapes[0])

/* The inputs every timed linear shares: x (1576, 3072), W (3072, 3072),
 * b (3072), and two outputs of (1576, 3072). */
struct inputs {
    const float *x, *W, *b;
    float *y, *yr;
};

/* ---- low-precision linears ---- */

/* A CPU backend computing in precision, with the kernels VITC_CPU names
 * (the low-precision table follows the fp32 one, dispatch.h). */
static struct vitc_be *lowp_backend(const char *table, int n_threads, vitc_precision precision)
{
    struct vitc_cpu_backend_params p = {.n_threads = n_threads,
                                        .max_tokens = 4,
                                        .max_head_dim = 4,
                                        .max_k = 3072,
                                        .precision = precision};
    struct vitc_be *be = NULL;
    setenv("VITC_CPU", table, 1);
    if (vitc_backend_cpu_create(&p, &be) != VITC_OK) {
        fprintf(stderr, "%s\n", vitc_last_error());
        return NULL;
    }
    return be;
}

/* bf16 or int8 through the low-precision table of the fp32 table named
 * (isa), 1..max_threads: each shape first checked against the portable
 * oracle of the same precision (same weights, same conversion; the tables
 * differ only in the activations' last bits), then timed. %peak is against
 * the register-only loop of the table's own dot-product instruction, so a
 * table without one (the oracle) shows none. Returns non-zero on a wrong
 * result. */
static int bench_lowp(vitc_precision precision, enum vitc_cpu_isa isa, const char *isa_name,
                      int max_threads, double min_s, const size_t *Ms, size_t n_ms,
                      const struct inputs *in)
{
    const char *pname = precision == VITC_PRECISION_BF16 ? "bf16" : "int8";
    const struct vitc_lowp_kernels *t = vitc_cpu_lowp_kernels(precision, vitc_cpu_kernels_for(isa));
    const struct vitc_lowp_kernels *oracle =
        precision == VITC_PRECISION_BF16 ? &vitc_kernels_bf16_ref : &vitc_kernels_i8_ref;
    if (isa != VITC_ISA_REF && t == oracle) {
        printf("\n%s on %s: no table for this CPU (it runs the portable one), skipped\n", pname,
               isa_name);
        return 0;
    }
    double peak = t == oracle ? 0 : bench_lowp_peak_core(precision);
    int failed = 0;
    for (int nt = 1; nt <= max_threads; nt++) {
        struct vitc_be *be = lowp_backend(isa_name, nt, precision);
        struct vitc_be *ref = lowp_backend("ref", nt, precision);
        if (!be || !ref) {
            vitc_backend_free(be);
            vitc_backend_free(ref);
            return 1;
        }
        printf("\n%s %s, %d thread%s, %s peak %.1f GOP/s per core (x%d = %.1f)\n", pname, t->name,
               nt, nt > 1 ? "s" : "", precision == VITC_PRECISION_BF16 ? "vdpbf16ps" : "vpdpbusd",
               peak, nt, peak * nt);
        printf("  %-24s %6s %10s %8s %10s %9s %7s\n", "shape", "M", "ms", "min ms", "GFLOP/s",
               "per core", "%peak");
        for (size_t si = 0; si < N_SHAPES; si++) {
            const struct shape *s = &shapes[si];
            struct vitc_linear l = {
                .weight = in->W, .bias = in->b, .n_out = (int)s->N, .n_in = (int)s->K};
            if (vitc_cpu_prepare_linear(&l, precision) != VITC_OK) {
                fprintf(stderr, "%s\n", vitc_last_error());
                failed = 1;
                break;
            }
            for (size_t mi = 0; mi < n_ms; mi++) {
                size_t M = Ms[mi];
                if (t == oracle && M > 197) {
                    continue; /* the oracle is slow; one size shows it */
                }
                be->ops->linear(be, &l, in->x, M, in->y, VITC_ACT_GELU, NULL);
                ref->ops->linear(ref, &l, in->x, M, in->yr, VITC_ACT_GELU, NULL);
                double worst = 0;
                for (size_t i = 0; i < M * s->N; i++) {
                    double e = fabs((double)in->y[i] - in->yr[i]) / (1.0 + fabs((double)in->yr[i]));
                    worst = e > worst || e != e ? e : worst;
                }
                if (worst > 1e-5) {
                    printf("  %-24s %6zu  WRONG: relative error %.3g vs %s, not timed\n", s->name,
                           M, worst, oracle->name);
                    failed = 1;
                    continue;
                }
                double wall = 0, best = 0, cpu = 0;
                time_linear(be, &l, in->x, M, in->y, s->act, s->residual, min_s, &wall, &best,
                            &cpu);
                double gflop = 2.0 * (double)M * (double)s->N * (double)s->K * 1e-9;
                printf("  %-24s %6zu %10.3f %8.3f %10.1f %9.1f %6.1f%%\n", s->name, M, wall * 1e3,
                       best * 1e3, gflop / wall, gflop / cpu,
                       peak > 0 ? 100.0 * gflop / cpu / peak : 0.0);
            }
            vitc_cpu_unprepare_linear(&l);
        }
        vitc_backend_free(be);
        vitc_backend_free(ref);
    }
    return failed;
}

int main(int argc, char **argv)
{
    static const struct {
        enum vitc_cpu_isa isa;
        const char *name;
    } tables[] = {{VITC_ISA_AVX512, "avx512"}, {VITC_ISA_AVX2, "avx2"}, {VITC_ISA_REF, "ref"}};
    const size_t Ms[] = {197, 1576};
    int max_threads = argc > 1 ? atoi(argv[1]) : 2;
    double min_s = argc > 2 ? atof(argv[2]) : 0.5;
    const char *only = argc > 3 && strcmp(argv[3], "all") != 0 ? argv[3] : NULL;
    const char *model_dir = argc > 4 ? argv[4] : NULL;
    /* TABLE bf16 or int8: only that precision's table for this CPU. */
    vitc_precision only_lowp = !only                       ? VITC_PRECISION_FP32
                               : strcmp(only, "bf16") == 0 ? VITC_PRECISION_BF16
                               : strcmp(only, "int8") == 0 ? VITC_PRECISION_INT8
                                                           : VITC_PRECISION_FP32;
    /* The model runs the table named, else the one VITC_CPU or the CPU picks. */
    const char *env = getenv("VITC_CPU");
    char *model_table = only && only_lowp == VITC_PRECISION_FP32 ? strdup(only)
                        : env                                    ? strdup(env)
                                                                 : NULL;
    if (max_threads < 1 || max_threads > 64 || min_s < 0) {
        fprintf(stderr, "usage: bench_kernels [MAX_THREADS (1..64, default 2) [SECONDS per "
                        "shape (default 0.5) [TABLE (ref, avx2, avx512, bf16, int8 or all) "
                        "[MODEL_DIR]]]]\n");
        return 2;
    }
    printf("The linears with the model's fused epilogues, medians of repeated runs (checked\n"
           "with GELU against the reference first). GFLOP/s: by wall\n"
           "time; per core: FLOP / CPU seconds of all threads, against the per-core peak of a\n"
           "register-only FMA loop timed in its own CPU time, so a busy machine (threads\n"
           "descheduled) lowers the first figures but not the efficiency.\n");
    size_t maxN = 3072, maxK = 3072, maxM = 1576;
    float *x = malloc(maxM * maxK * sizeof *x), *y = malloc(maxM * maxN * sizeof *y);
    float *yr = malloc(maxM * maxN * sizeof *yr), *W = malloc(maxN * maxK * sizeof *W);
    float *b = malloc(maxN * sizeof *b);
    for (size_t i = 0; i < maxM * maxK; i++) {
        x[i] = frand();
    }
    for (size_t i = 0; i < maxN * maxK; i++) {
        W[i] = frand() * 0.03f;
    }
    for (size_t i = 0; i < maxN; i++) {
        b[i] = frand() * 0.1f;
    }
    int failed = 0;
    for (size_t ti = 0; ti < sizeof tables / sizeof tables[0]; ti++) {
        if (only && strcmp(only, tables[ti].name) != 0) {
            continue;
        }
        if (!vitc_cpu_has(tables[ti].isa)) {
            printf("\n%s: not run by this CPU, skipped\n", tables[ti].name);
            continue;
        }
        setenv("VITC_CPU", tables[ti].name, 1);
        for (int nt = 1; nt <= max_threads; nt++) {
            struct vitc_be *be = NULL, *ref = NULL;
            if (vitc_backend_cpu_new(nt, 4, 4, &be) != VITC_OK) {
                fprintf(stderr, "%s\n", vitc_last_error());
                return 1;
            }
            setenv("VITC_CPU", "ref", 1);
            vitc_backend_cpu_new(nt, 4, 4, &ref);
            setenv("VITC_CPU", tables[ti].name, 1);
            double peak = bench_fma_peak_core(tables[ti].isa);
            printf("\n%s, %d thread%s, FMA peak %.1f GFLOP/s per core (x%d = %.1f)\n",
                   tables[ti].name, nt, nt > 1 ? "s" : "", peak, nt, peak * nt);
            printf("  %-24s %6s %10s %8s %10s %9s %7s\n", "shape", "M", "ms", "min ms", "GFLOP/s",
                   "per core", "%peak");
            for (size_t si = 0; si < N_SHAPES; si++) {
                const struct shape *s = &shapes[si];
                struct vitc_linear l = {
                    .weight = W, .bias = b, .n_out = (int)s->N, .n_in = (int)s->K};
                if (vitc_cpu_prepare_linear(&l, VITC_PRECISION_FP32) != VITC_OK) {
                    fprintf(stderr, "%s\n", vitc_last_error());
                    return 1;
                }
                for (size_t mi = 0; mi < 2; mi++) {
                    size_t M = Ms[mi];
                    /* Validate before timing: the table against the reference. */
                    be->ops->linear(be, &l, x, M, y, VITC_ACT_GELU, NULL);
                    ref->ops->linear(ref, &l, x, M, yr, VITC_ACT_GELU, NULL);
                    double worst = 0;
                    for (size_t i = 0; i < M * s->N; i++) {
                        double e = fabs((double)y[i] - yr[i]) / (1.0 + fabs((double)yr[i]));
                        worst = e > worst || e != e ? e : worst;
                    }
                    if (worst > 1e-5) {
                        printf("  %-24s %6zu  WRONG: relative error %.3g vs ref, not timed\n",
                               s->name, M, worst);
                        failed = 1;
                        continue;
                    }
                    if (tables[ti].isa == VITC_ISA_REF && M > 197) {
                        continue; /* the reference is slow; one size shows it */
                    }
                    double wall = 0, best = 0, cpu = 0;
                    time_linear(be, &l, x, M, y, s->act, s->residual, min_s, &wall, &best, &cpu);
                    double gflop = 2.0 * (double)M * (double)s->N * (double)s->K * 1e-9;
                    printf("  %-24s %6zu %10.3f %8.3f %10.1f %9.1f %6.1f%%\n", s->name, M,
                           wall * 1e3, best * 1e3, gflop / wall, gflop / cpu,
                           peak > 0 ? 100.0 * gflop / cpu / peak : 0.0);
                }
                vitc_cpu_unprepare_linear(&l);
            }
            vitc_backend_free(be);
            vitc_backend_free(ref);
        }
    }
    /* bf16 and int8 on the tables above (the table named, or all); with
     * TABLE bf16 or int8, that one on the best table this CPU runs. */
    const struct inputs in = {.x = x, .W = W, .b = b, .y = y, .yr = yr};
    for (int pi = 0; pi < 2; pi++) {
        vitc_precision prec = pi == 0 ? VITC_PRECISION_BF16 : VITC_PRECISION_INT8;
        if (only_lowp != VITC_PRECISION_FP32 && only_lowp != prec) {
            continue;
        }
        for (size_t ti = 0; ti < sizeof tables / sizeof tables[0]; ti++) {
            if (!vitc_cpu_has(tables[ti].isa) || tables[ti].isa == VITC_ISA_AVX2 ||
                (only_lowp == VITC_PRECISION_FP32 && only && strcmp(only, tables[ti].name) != 0)) {
                continue;
            }
            failed |=
                bench_lowp(prec, tables[ti].isa, tables[ti].name, max_threads, min_s, Ms, 2, &in);
            if (only_lowp != VITC_PRECISION_FP32) {
                break; /* the best table only */
            }
        }
    }
    free(x);
    free(y);
    free(yr);
    free(W);
    free(b);
    if (model_table) {
        setenv("VITC_CPU", model_table, 1);
        free(model_table);
    } else {
        unsetenv("VITC_CPU");
    }
    if (model_dir) {
        const struct vitc_cpu_kernels *k = NULL;
        if (vitc_cpu_kernels_select(&k) != VITC_OK) {
            fprintf(stderr, "%s\n", vitc_last_error());
            return 1;
        }
        enum vitc_cpu_isa isa = strcmp(k->name, "avx512") == 0 ? VITC_ISA_AVX512
                                : strcmp(k->name, "avx2") == 0 ? VITC_ISA_AVX2
                                                               : VITC_ISA_REF;
        if (only_lowp != VITC_PRECISION_FP32) {
            const struct vitc_lowp_kernels *t = vitc_cpu_lowp_kernels(only_lowp, k);
            printf("\nwhole forward in %s with the %s kernels (%%peak: of %s)", only, t->name,
                   only_lowp == VITC_PRECISION_BF16 ? "vdpbf16ps" : "vpdpbusd");
            failed |= bench_model(model_dir, max_threads, min_s, bench_lowp_peak_core(only_lowp),
                                  only_lowp);
        } else {
            printf("\nwhole forward with the %s kernels", k->name);
            failed |= bench_model(model_dir, max_threads, min_s, bench_fma_peak_core(isa),
                                  VITC_PRECISION_FP32);
        }
    }
    return failed;
}
