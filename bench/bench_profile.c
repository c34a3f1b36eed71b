/* SPDX-License-Identifier: MIT
 *
 * bench_profile.c — where each millisecond of one ViT forward goes on this
 * CPU: the model's own graph (graph/graph.c) runs on the CPU backend through a
 * wrapper backend that times every op and sorts it by role (each kind of
 * linear, attention, LayerNorm, the rest), with the time threads waited
 * inside each (the pool's busy counters), the FLOP, the share of the
 * measured peak and the floor that peak implies. GELU's share comes from a
 * second pass with the MLP-up linear's activation left out. Benchmark code
 * (built with -Isrc, like bench_kernels.c); never asserts a time.
 */
#include <math.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "base/err.h"
#include "bench_peak.h"
#include "cpu/backend_cpu.h"
#include "cpu/backend_cpu.h"
#include "cpu/dispatch.h"
#include "cpu/kernels.h"
#include "graph/graph.h"
#include "model/model.h"

#define MAX_THREADS 64

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

static double thread_cpu_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

/* ---- the ops, by role ---- */

enum role { R_PATCH, R_LN, R_QKV, R_ATTN, R_OUT, R_UP, R_DOWN, R_HEADS, R_MOVE, N_ROLES };

static const char *const role_name[N_ROLES] = {
    "patch embedding (linear)",
    "LayerNorm",
    "qkv linear",
    "attention (q.k, softmax, p.v)",
    "attn-out linear +res",
    "mlp-up linear +GELU",
    "mlp-down linear +res",
    "pooler, classifier",
    "unfold, tokens, gather, copies",
};

/* What one forward's ops added up to, per role. */
struct tally {
    double wall[N_ROLES]; /* s                                          */
    double busy[N_ROLES]; /* CPU s in the op's tasks, summed over threads */
    double flop[N_ROLES]; /* 2 per multiply-add                         */
    int calls[N_ROLES];
};

/* The wrapper backend: ops of the inner CPU backend, timed. */
struct prof {
    struct vitc_be base;
    struct vitc_backend_ops ops;
    struct vitc_be *inner;
    const struct vitc_model *m;
    int nth;
    uint64_t busy_ns[MAX_THREADS];
    bool strip_act; /* the GELU pass: linears run without activation */
    struct tally t;
};

static struct prof *prof(struct vitc_be *be)
{
    return be->impl;
}

static double busy_sum(const struct prof *p)
{
    uint64_t s = 0;
    for (int i = 0; i < p->nth; i++) {
        s += p->busy_ns[i];
    }
    return 1e-9 * (double)s;
}

/* Adds one op's wall time and its threads' CPU time in its tasks to a
 * role. b0: the pool's busy sum before the op, or for an op that does not
 * use the pool (pooled false) the calling thread's CPU clock. */
static void account(struct prof *p, enum role r, double t0, double b0, bool pooled, double flop)
{
    p->t.wall[r] += now_s() - t0;
    p->t.busy[r] += pooled ? busy_sum(p) - b0 : thread_cpu_s() - b0;
    p->t.flop[r] += flop;
    p->t.calls[r]++;
}

static enum role linear_role(const struct vitc_model *m, const struct vitc_linear *w)
{
    const struct vitc_weights *W = &m->w;
    if (w == &W->patch) {
        return R_PATCH;
    }
    for (int i = 0; i < m->cfg.num_hidden_layers; i++) {
        const struct vitc_layer_weights *l = &W->layers[i];
        if (w == &l->qkv) {
            return R_QKV;
        }
        if (w == &l->attn_out) {
            return R_OUT;
        }
        if (w == &l->fc1) {
            return R_UP;
        }
        if (w == &l->fc2) {
            return R_DOWN;
        }
    }
    return R_HEADS;
}

static vitc_status p_linear(struct vitc_be *be, const struct vitc_linear *w, const float *x,
                            size_t M, float *y, enum vitc_act act, const float *res)
{
    struct prof *p = prof(be);
    double t0 = now_s(), b0 = busy_sum(p);
    vitc_status s =
        p->inner->ops->linear(p->inner, w, x, M, y, p->strip_act ? VITC_ACT_NONE : act, res);
    account(p, linear_role(p->m, w), t0, b0, true, 2.0 * (double)M * w->n_out * w->n_in);
    return s;
}

static vitc_status p_layernorm(struct vitc_be *be, const float *x, float *y, size_t rows,
                               size_t cols, const float *w, const float *b, double eps)
{
    struct prof *p = prof(be);
    double t0 = now_s(), b0 = busy_sum(p);
    vitc_status s = p->inner->ops->layernorm(p->inner, x, y, rows, cols, w, b, eps);
    account(p, R_LN, t0, b0, true, 0);
    return s;
}

static vitc_status p_attention(struct vitc_be *be, const float *qkv, float *out, size_t n, size_t T,
                               size_t H, size_t d)
{
    struct prof *p = prof(be);
    double t0 = now_s(), b0 = busy_sum(p);
    vitc_status s = p->inner->ops->attention(p->inner, qkv, out, n, T, H, d);
    /* q.k and p.v: 2 * T * T * d multiply-adds per head and image. */
    account(p, R_ATTN, t0, b0, true, 4.0 * (double)n * H * T * T * d);
    return s;
}

static vitc_status p_unfold(struct vitc_be *be, const float *px, size_t n, size_t C, size_t H,
                            size_t W, size_t P, float *out)
{
    struct prof *p = prof(be);
    double t0 = now_s(), b0 = busy_sum(p);
    vitc_status s = p->inner->ops->patch_unfold(p->inner, px, n, C, H, W, P, out);
    account(p, R_MOVE, t0, b0, true, 0);
    return s;
}

static vitc_status p_assemble(struct vitc_be *be, const float *pe, const float *cls,
                              const float *pos, size_t n, size_t Np, size_t D, float *x)
{
    struct prof *p = prof(be);
    double t0 = now_s(), c0 = thread_cpu_s();
    vitc_status s = p->inner->ops->assemble_tokens(p->inner, pe, cls, pos, n, Np, D, x);
    account(p, R_MOVE, t0, c0, false, 0);
    return s;
}

static vitc_status p_gather(struct vitc_be *be, const float *x, size_t stride, size_t n_rows,
                            size_t cols, float *out)
{
    struct prof *p = prof(be);
    double t0 = now_s(), c0 = thread_cpu_s();
    vitc_status s = p->inner->ops->gather_rows(p->inner, x, stride, n_rows, cols, out);
    account(p, R_MOVE, t0, c0, false, 0);
    return s;
}

static vitc_status p_upload(struct vitc_be *be, float *dst, const float *src, size_t n)
{
    struct prof *p = prof(be);
    double t0 = now_s(), c0 = thread_cpu_s();
    vitc_status s = p->inner->ops->upload(p->inner, dst, src, n);
    account(p, R_MOVE, t0, c0, false, 0);
    return s;
}

static vitc_status p_download(struct vitc_be *be, float *dst, const float *src, size_t n)
{
    return prof(be)->inner->ops->download(prof(be)->inner, dst, src, n);
}

static vitc_status p_alloc(struct vitc_be *be, size_t n, float **out)
{
    return prof(be)->inner->ops->alloc(prof(be)->inner, n, out);
}

static void p_release(struct vitc_be *be, float *buf)
{
    prof(be)->inner->ops->release(prof(be)->inner, buf);
}

static void prof_init(struct prof *p, struct vitc_be *inner, const struct vitc_model *m, int nth)
{
    *p = (struct prof){.inner = inner, .m = m, .nth = nth};
    p->ops = *inner->ops;
    p->ops.name = "cpu (profiled)";
    p->ops.free = NULL;
    p->ops.alloc = p_alloc;
    p->ops.release = p_release;
    p->ops.upload = p_upload;
    p->ops.download = p_download;
    p->ops.linear = p_linear;
    p->ops.layernorm = p_layernorm;
    p->ops.attention = p_attention;
    p->ops.patch_unfold = p_unfold;
    p->ops.assemble_tokens = p_assemble;
    p->ops.gather_rows = p_gather;
    p->base = (struct vitc_be){.ops = &p->ops, .impl = p};
    vitc_backend_cpu_set_busy(inner, p->busy_ns);
}

/* ---- runs ---- */

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

/* Runs `runs` forwards; best gets, per role, the least wall time and the
 * least CPU time of any run (each the role's sum over one forward), fwd[]
 * each forward's wall time. */
static int run_forwards(struct prof *p, const struct vitc_acts *a, const float *px, size_t n,
                        int runs, struct tally *best, double *fwd)
{
    for (int r = 0; r < N_ROLES; r++) {
        best->wall[r] = best->busy[r] = INFINITY;
    }
    for (int i = -1; i < runs; i++) { /* i = -1: warm-up */
        memset(&p->t, 0, sizeof p->t);
        double t0 = now_s();
        if (vitc_model_forward(p->m, &p->base, a, px, n, NULL, NULL) != VITC_OK) {
            fprintf(stderr, "bench_profile: %s\n", vitc_last_error());
            return 1;
        }
        if (i < 0) {
            continue;
        }
        fwd[i] = now_s() - t0;
        for (int r = 0; r < N_ROLES; r++) {
            best->wall[r] = p->t.wall[r] < best->wall[r] ? p->t.wall[r] : best->wall[r];
            best->busy[r] = p->t.busy[r] < best->busy[r] ? p->t.busy[r] : best->busy[r];
            best->flop[r] = p->t.flop[r];
            best->calls[r] = p->t.calls[r];
        }
    }
    return 0;
}

/* ---- report ---- */

struct peaks {
    double fp32, lowp, attn; /* GFLOP/s per core for the linears in fp32,
                                in the model's precision, and attention */
};

/* The per-core peak a role runs against (0: none, a memory-bound op). */
static double role_peak(enum role r, const struct peaks *pk)
{
    switch (r) {
    case R_QKV:
    case R_OUT:
    case R_UP:
    case R_DOWN:
        return pk->lowp;
    case R_ATTN:
        return pk->attn;
    case R_PATCH:
    case R_HEADS:
        return pk->fp32;
    default:
        return 0;
    }
}

/* One markdown table. Times are each role's minimum over the runs; "CPU
 * ms per thread" counts only time the threads ran (their CPU clocks), so
 * it stays meaningful on a busy machine, where wall times do not. */
static void print_report(const char *prec, const char *tables, int nth, size_t n, int runs,
                         const struct tally *b, double gelu_s, const double *fwd,
                         const struct peaks *pk)
{
    double sorted[256], wall = 0, cpu = 0, floor_total = 0, flop_total = 0;
    memcpy(sorted, fwd, (size_t)runs * sizeof *fwd);
    qsort(sorted, (size_t)runs, sizeof *sorted, cmp_double);
    for (int r = 0; r < N_ROLES; r++) {
        wall += b->calls[r] ? b->wall[r] : 0;
        cpu += b->calls[r] ? b->busy[r] / nth : 0;
    }
    printf("\n### %s, %d thread%s, batch %zu (%s)\n\n", prec, nth, nth > 1 ? "s" : "", n, tables);
    printf("Forward wall time: median %.1f ms, min %.1f ms over %d runs. Per op: the minimum "
           "over the runs of its sum in one forward.\n\n",
           sorted[runs / 2] * 1e3, sorted[0] * 1e3, runs);
    printf("| op | calls | wall ms | CPU ms per thread | %% of fwd (CPU) | GFLOP | %% of peak | "
           "floor ms | over floor ms | waited ms |\n");
    printf("|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|\n");
    for (int r = 0; r < N_ROLES; r++) {
        if (b->calls[r] == 0) {
            continue;
        }
        double w = b->wall[r] * 1e3, c = b->busy[r] / nth * 1e3, waited = w - c;
        double gflop = b->flop[r] * 1e-9, peak = role_peak((enum role)r, pk) * nth;
        flop_total += gflop;
        printf("| %s | %d | %.2f | %.2f | %.1f%% |", role_name[r], b->calls[r], w, c,
               100 * c / (cpu * 1e3));
        if (gflop > 0 && peak > 0) {
            double floor_ms = gflop / peak * 1e3;
            floor_total += floor_ms;
            printf(" %.2f | %.1f%% | %.2f | %.2f |", gflop, 100 * floor_ms / c, floor_ms,
                   c - floor_ms);
        } else {
            printf(" - | - | - | - |");
        }
        printf(" %.2f |\n", waited > 0 ? waited : 0);
        if (r == R_UP && gelu_s >= 0) {
            printf("| ...of which the GELU epilogue | | | %.2f | %.1f%% | | | | | |\n",
                   gelu_s / nth * 1e3, 100 * gelu_s / nth / cpu);
        }
    }
    printf("| **total** | | **%.2f** | **%.2f** | 100%% | %.2f | %.1f%% | %.2f | %.2f | %.2f |\n",
           wall * 1e3, cpu * 1e3, flop_total, 100 * floor_total / (cpu * 1e3), floor_total,
           cpu * 1e3 - floor_total, (wall - cpu) * 1e3);
    printf("\nPeaks per core (GFLOP/s): fp32 FMA %.1f, linears %.1f, attention %.1f; x%d "
           "thread%s. \"floor\": the op's FLOP at that peak; %% of peak: floor / CPU ms per "
           "thread; \"waited\": wall minus CPU ms per thread (imbalance, wake-up, the closing "
           "barrier, time descheduled).\n",
           pk->fp32, pk->lowp, pk->attn, nth, nth > 1 ? "s" : "");
}

/* ---- main ---- */

static int parse_threads(const char *s, int *out, int max)
{
    int n = 0;
    while (*s && n < max) {
        char *end = NULL;
        long v = strtol(s, &end, 10);
        if (end == s || v < 1 || v > MAX_THREADS) {
            return 0;
        }
        out[n++] = (int)v;
        s = *end == ',' ? end + 1 : end;
        if (*end && *end != ',') {
            return 0;
        }
    }
    return n;
}

static int usage(void)
{
    fprintf(stderr, "usage: bench_profile MODEL_DIR [--precision fp32|bf16|int8] "
                    "[--threads 1,2] [--batch N] [--runs N (<= 256)]\n");
    return 2;
}

int main(int argc, char **argv)
{
    const char *dir = NULL, *prec = "fp32";
    int threads[8] = {1, 2}, n_threads = 2, runs = 10;
    size_t batch = 1;
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--precision") == 0 && i + 1 < argc) {
            prec = argv[++i];
        } else if (strcmp(argv[i], "--threads") == 0 && i + 1 < argc) {
            if (!(n_threads = parse_threads(argv[++i], threads, 8))) {
                return usage();
            }
        } else if (strcmp(argv[i], "--batch") == 0 && i + 1 < argc) {
            batch = (size_t)atoi(argv[++i]);
        } else if (strcmp(argv[i], "--runs") == 0 && i + 1 < argc) {
            runs = atoi(argv[++i]);
        } else if (argv[i][0] != '-' && !dir) {
            dir = argv[i];
        } else {
            return usage();
        }
    }
    vitc_precision precision = strcmp(prec, "bf16") == 0   ? VITC_PRECISION_BF16
                               : strcmp(prec, "int8") == 0 ? VITC_PRECISION_INT8
                                                           : VITC_PRECISION_FP32;
    if (!dir || batch < 1 || batch > 64 || runs < 1 || runs > 256 ||
        (precision == VITC_PRECISION_FP32 && strcmp(prec, "fp32") != 0)) {
        return usage();
    }
    vitc_model_params mp = vitc_model_default_params();
    mp.precision = precision;
    vitc_model *model = NULL;
    if (vitc_model_load(dir, &mp, &model) != VITC_OK) {
        fprintf(stderr, "bench_profile: %s\n", vitc_last_error());
        return 1;
    }
    const struct vitc_cpu_kernels *k = NULL;
    if (vitc_cpu_kernels_select(&k) != VITC_OK) {
        fprintf(stderr, "bench_profile: %s\n", vitc_last_error());
        return 1;
    }
    const struct vitc_lowp_kernels *lowp =
        precision == VITC_PRECISION_FP32 ? NULL : vitc_cpu_lowp_kernels(precision, k);
    enum vitc_cpu_isa isa = strcmp(k->name, "avx512") == 0 ? VITC_ISA_AVX512
                            : strcmp(k->name, "avx2") == 0 ? VITC_ISA_AVX2
                                                           : VITC_ISA_REF;
    struct peaks pk = {.fp32 = bench_fma_peak_core(isa)};
    pk.lowp = lowp ? bench_lowp_peak_core(precision) : pk.fp32;
    /* bf16 and int8 run attention's products with vdpbf16ps where the CPU has it. */
    pk.attn = lowp && vitc_cpu_lowp_attention(lowp) != k->attention_head
                  ? bench_lowp_peak_core(VITC_PRECISION_BF16)
                  : pk.fp32;
    char tables[96];
    snprintf(tables, sizeof tables, "%s%s%s kernels", k->name, lowp ? " + " : "",
             lowp ? lowp->name : "");
    const struct vitc_model_info *info = vitc_model_get_info(model);
    const struct vitc_config *c = &model->cfg;
    size_t per_image = (size_t)info->num_channels * info->image_height * info->image_width;
    float *px = malloc(batch * per_image * sizeof *px);
    unsigned long long rng = 0x2545F4914F6CDD1Dull;
    for (size_t i = 0; px && i < batch * per_image; i++) {
        rng = rng * 6364136223846793005ull + 1442695040888963407ull;
        px[i] = (float)((double)(rng >> 40) / (double)(1ull << 23) - 1.0);
    }
    int failed = !px;
    for (int ti = 0; !failed && ti < n_threads; ti++) {
        int nth = threads[ti];
        struct vitc_cpu_backend_params bp = {
            .n_threads = nth,
            .max_tokens = (size_t)info->n_tokens,
            .max_head_dim = (size_t)(c->hidden_size / c->num_attention_heads),
            .max_k = (size_t)(c->intermediate_size > c->hidden_size ? c->intermediate_size
                                                                    : c->hidden_size),
            .precision = precision,
        };
        struct vitc_be *inner = NULL;
        struct vitc_acts acts = {0};
        struct prof p;
        double fwd[256], fwd_noact[256];
        struct tally best, best_noact;
        if (vitc_backend_cpu_create(&bp, &inner) != VITC_OK) {
            fprintf(stderr, "bench_profile: %s\n", vitc_last_error());
            failed = 1;
            break;
        }
        prof_init(&p, inner, model, nth);
        if (vitc_model_acts_new(model, &p.base, batch, &acts) != VITC_OK ||
            run_forwards(&p, &acts, px, batch, runs, &best, fwd)) {
            fprintf(stderr, "bench_profile: %s\n", vitc_last_error());
            failed = 1;
        } else {
            p.strip_act = true;
            failed = run_forwards(&p, &acts, px, batch, runs, &best_noact, fwd_noact);
            double gelu = best.busy[R_UP] - best_noact.busy[R_UP];
            print_report(prec, tables, nth, batch, runs, &best, gelu > 0 ? gelu : 0, fwd, &pk);
        }
        vitc_model_acts_free(&p.base, &acts);
        vitc_backend_cpu_set_busy(inner, NULL);
        vitc_backend_free(inner);
    }
    free(px);
    vitc_model_free(model);
    return failed;
}
