/* SPDX-License-Identifier: MIT
 *
 * test_kernels.c — every kernel table this CPU runs (ref, avx2, avx512;
 * the others are skipped and named) against a plain double-precision loop
 * and against the reference table, over awkward sizes (1 .. 2*MR+1 rows,
 * columns not multiples of NR, K around the KC block, leading dimensions
 * larger than the row, unaligned pointers) and every epilogue; erf and tanh
 * in ulps over dense ranges; then the CPU backend's ops with 1, 2, 3, 4 and 7
 * threads, which must agree bit for bit with each other for each table.
 */
#include <stdint.h>
#include <stdlib.h>

#include "base/err.h"
#include "cpu/backend_cpu.h"
#include "cpu/dispatch.h"
#include "cpu/kernels.h"
#include "test.h"

static const struct vitc_cpu_kernels *K_REF = &vitc_kernels_ref;

/* The table under test (each available one in turn, see main). */
static const struct vitc_cpu_kernels *KT = &vitc_kernels_ref;
static const char *K_ENV = "ref"; /* its VITC_CPU name */

/* ---- helpers ---- */

static double act_ref(enum vitc_act act, double x)
{
    switch (act) {
    case VITC_ACT_NONE:
        return x;
    case VITC_ACT_GELU:
        return 0.5 * x * (1.0 + erf(x / sqrt(2.0)));
    case VITC_ACT_GELU_TANH:
        return 0.5 * x * (1.0 + tanh(sqrt(2.0 / M_PI) * (x + 0.044715 * x * x * x)));
    case VITC_ACT_QUICK_GELU:
        return x / (1.0 + exp(-1.702 * x));
    case VITC_ACT_RELU:
        return x > 0 ? x : 0;
    case VITC_ACT_SILU:
        return x / (1.0 + exp(-x));
    case VITC_ACT_TANH:
        return tanh(x);
    }
    return NAN;
}

static const enum vitc_act ALL_ACTS[] = {
    VITC_ACT_NONE, VITC_ACT_GELU, VITC_ACT_GELU_TANH, VITC_ACT_QUICK_GELU,
    VITC_ACT_RELU, VITC_ACT_SILU, VITC_ACT_TANH,
};
#define N_ACTS (sizeof ALL_ACTS / sizeof ALL_ACTS[0])

/* |got - want| <= tol * (1 + |want|) for all n. */
static int close_rel(const float *got, const double *want, size_t n, double tol, double *worst)
{
    double w = 0;
    for (size_t i = 0; i < n; i++) {
        double e = fabs((double)got[i] - want[i]) / (1.0 + fabs(want[i]));
        if (e > w || e != e) {
            w = e;
        }
    }
    if (worst) {
        *worst = w;
    }
    return w <= tol;
}

/* ---- linear ---- */

/* Naive y = act(x W^T + b) + res in double. x: (M, K) ld ldx; W: (N, K). */
static void linear_naive(size_t M, size_t N, size_t K, const float *x, size_t ldx, const float *W,
                         const float *b, const float *res, size_t ldr, enum vitc_act act, double *y)
{
    for (size_t i = 0; i < M; i++) {
        for (size_t n = 0; n < N; n++) {
            double s = b ? b[n] : 0.0;
            for (size_t k = 0; k < K; k++) {
                s += (double)x[i * ldx + k] * W[n * K + k];
            }
            s = act_ref(act, s);
            y[i * N + n] = s + (res ? res[i * ldr + n] : 0.0);
        }
    }
}

/* The full linear through a table's block kernel, cut into its mc x nc
 * blocks: y (M, N) with row stride ldy. */
static void linear_by_blocks(const struct vitc_cpu_kernels *k, size_t M, size_t N, size_t Kd,
                             const float *x, size_t ldx, const float *packed, const float *b,
                             const float *res, float *y, size_t ldy, enum vitc_act act)
{
    float *scratch = k->linear_scratch
                         ? aligned_alloc(64, (k->linear_scratch * sizeof(float) + 63) / 64 * 64)
                         : NULL;
    for (size_t m0 = 0; m0 < M; m0 += k->mc) {
        size_t rows = M - m0 < k->mc ? M - m0 : k->mc;
        for (size_t n0 = 0; n0 < N; n0 += k->nc) {
            size_t cols = N - n0 < k->nc ? N - n0 : k->nc;
            k->linear_block(rows, cols, Kd, x + m0 * ldx, ldx, packed + n0 * Kd, b ? b + n0 : NULL,
                            res ? res + m0 * ldy + n0 : NULL, y + m0 * ldy + n0, ldy, act, scratch);
        }
    }
    free(scratch);
}

static void test_pack_layout(void)
{
    const size_t Ns[] = {1, 15, 16, 17, 33};
    for (size_t a = 0; a < 5; a++) {
        size_t N = Ns[a], K = 3, floats = 0;
        CHECK(vitc_kernels_packed_floats(N, K, &floats) == 0);
        CHECK(floats == ((N + 15) / 16) * 16 * K);
        float *W = malloc(N * K * sizeof *W), *P = malloc(floats * sizeof *P);
        test_fill(W, N * K, 1.0f);
        vitc_kernels_pack_linear(W, N, K, P);
        for (size_t n = 0; n < (N + 15) / 16 * 16; n++) {
            for (size_t k = 0; k < K; k++) {
                float got = P[(n / 16) * K * 16 + k * 16 + n % 16];
                CHECK(got == (n < N ? W[n * K + k] : 0.0f));
            }
        }
        free(W);
        free(P);
    }
    size_t out = 0;
    CHECK(vitc_kernels_packed_floats(SIZE_MAX / 2, 64, &out) != 0);
    CHECK(vitc_kernels_packed_floats(64, SIZE_MAX / 8, &out) != 0);
}

/* One linear shape through table K, every bias / residual / in-place mode,
 * with the activations in acts; x and y start one float in (off any vector
 * alignment) and ldx > K, ldy > N. Each output is checked against the
 * double loop and against the reference table. Returns the failures. */
static int linear_case(size_t M, size_t N, size_t Kd, const enum vitc_act *acts, size_t n_acts,
                       double *worst_all)
{
    size_t ldx = Kd + 3, ldy = N + 5, floats = 0;
    int bad = 0;
    vitc_kernels_packed_floats(N, Kd, &floats);
    float *xb = malloc((M * ldx + 1) * sizeof *xb);
    float *W = malloc(N * Kd * sizeof *W), *b = malloc(N * sizeof *b);
    float *P = malloc(floats * sizeof *P);
    float *res = malloc(M * ldy * sizeof *res), *saved = malloc(M * ldy * sizeof *saved);
    float *yb = malloc((M * ldy + 1) * sizeof *yb), *yr = malloc(M * ldy * sizeof *yr);
    double *want = malloc(M * N * sizeof *want);
    float *x = xb + 1, *y = yb + 1;
    test_fill(xb, M * ldx + 1, 1.0f);
    test_fill(W, N * Kd, 1.0f / sqrtf((float)Kd));
    test_fill(b, N, 0.3f);
    test_fill(res, M * ldy, 2.0f);
    memcpy(saved, res, M * ldy * sizeof *saved);
    vitc_kernels_pack_linear(W, N, Kd, P);
    /* mode: bit 0 bias; mode / 2: 0 no residual, 1 residual into another
     * buffer, 2 residual added in place. */
    for (int mode = 0; mode < 6; mode++) {
        const float *bias = mode & 1 ? b : NULL;
        int in_place = mode / 2 == 2;
        const float *r = mode / 2 ? res : NULL;
        for (size_t ai = 0; ai < n_acts; ai++) {
            enum vitc_act act = acts[ai];
            float *out = in_place ? res : y;
            linear_naive(M, N, Kd, x, ldx, W, bias, r, ldy, act, want);
            if (in_place) {
                linear_by_blocks(K_REF, M, N, Kd, x, ldx, P, bias, r, res, ldy, act);
                memcpy(yr, res, M * ldy * sizeof *yr);
                memcpy(res, saved, M * ldy * sizeof *res);
            } else {
                linear_by_blocks(K_REF, M, N, Kd, x, ldx, P, bias, r, yr, ldy, act);
            }
            linear_by_blocks(KT, M, N, Kd, x, ldx, P, bias, r, out, ldy, act);
            for (size_t i = 0; i < M; i++) {
                double w = 0, wr = 0;
                double *ref_row = want + i * N; /* reused for the ref-table comparison */
                /* Float sums drift from the double loop as sqrt(K) roundings. */
                double tol = 2e-6 * (Kd > 64 ? sqrt((double)Kd / 64.0) : 1.0);
                int ok = close_rel(out + i * ldy, ref_row, N, tol, &w);
                for (size_t j = 0; j < N; j++) {
                    double e = fabs((double)out[i * ldy + j] - yr[i * ldy + j]) /
                               (1.0 + fabs((double)yr[i * ldy + j]));
                    wr = e > wr || e != e ? e : wr;
                }
                ok &= wr <= 4e-6;
                if (!ok && bad++ < 5) {
                    fprintf(stderr,
                            "  %s: M %zu N %zu K %zu mode %d act %d row %zu: rel err %.3g"
                            " (vs ref %.3g)\n",
                            KT->name, M, N, Kd, mode, (int)act, i, w, wr);
                }
                *worst_all = w > *worst_all ? w : *worst_all;
            }
            if (in_place) {
                memcpy(res, saved, M * ldy * sizeof *res);
            }
        }
    }
    free(xb);
    free(W);
    free(b);
    free(P);
    free(res);
    free(saved);
    free(yb);
    free(yr);
    free(want);
    return bad;
}

/* Rows 1 .. 2*MR+1, columns around 1, NB and NR (never all multiples), small
 * K of every residue; each shape with every epilogue mode and one
 * activation, rotating so every activation meets every size class. */
static void test_linear_shapes(void)
{
    const size_t Ns[] = {1, 2, 3, 8, 15, 16, 17, 33, KT->nr - 1, KT->nr + 1, 2 * KT->nr + 1};
    const size_t Ks[] = {1, 3, 7, 16, 17, 64};
    double worst = 0;
    int bad = 0;
    size_t turn = 0;
    for (size_t M = 1; M <= 2 * KT->mr + 1; M++) {
        for (size_t ni = 0; ni < sizeof Ns / sizeof Ns[0]; ni++) {
            for (size_t ki = 0; ki < sizeof Ks / sizeof Ks[0]; ki++) {
                enum vitc_act act = ALL_ACTS[turn++ % N_ACTS];
                bad += linear_case(M, Ns[ni], Ks[ki], &act, 1, &worst);
            }
        }
    }
    /* Every activation on a tile-and-a-bit shape. */
    bad += linear_case(KT->mr + 1, KT->nr + 3, 9, ALL_ACTS, N_ACTS, &worst);
    printf("  %s linear shapes: worst relative error %.3g\n", KT->name, worst);
    CHECK(bad == 0);
}

/* K around the KC block (partial sums carried across K blocks), and M and N
 * past one mc x nc block. */
static void test_linear_blocks(void)
{
    size_t kc = KT->kc ? KT->kc : 64;
    const size_t Ks[] = {kc - 1, kc, kc + 1, 2 * kc + 3};
    const size_t Ms[] = {1, KT->mr, 2 * KT->mr + 1, KT->mc + 3};
    const size_t Ns[] = {KT->nr, KT->nc + 17};
    const enum vitc_act acts[] = {VITC_ACT_NONE, VITC_ACT_GELU};
    double worst = 0;
    int bad = 0;
    for (size_t ki = 0; ki < 4; ki++) {
        for (size_t mi = 0; mi < 4; mi++) {
            for (size_t ni = 0; ni < 2; ni++) {
                bad += linear_case(Ms[mi], Ns[ni], Ks[ki], acts, 2, &worst);
            }
        }
    }
    printf("  %s linear blocks: worst relative error %.3g\n", KT->name, worst);
    CHECK(bad == 0);
}

/* A row's result must not depend on how many rows are computed with it
 * (the batch-independence the model test relies on), nor on the block cut. */
static void test_linear_rows_independent(void)
{
    size_t M = 2 * KT->mr + 3, N = KT->nr + 21, Kd = (KT->kc ? KT->kc : 64) + 29, floats = 0;
    vitc_kernels_packed_floats(N, Kd, &floats);
    float *x = malloc(M * Kd * sizeof *x), *W = malloc(N * Kd * sizeof *W);
    float *P = malloc(floats * sizeof *P), *b = malloc(N * sizeof *b);
    float *all = malloc(M * N * sizeof *all), *one = malloc(N * sizeof *one);
    test_fill(x, M * Kd, 1.0f);
    test_fill(W, N * Kd, 0.5f);
    test_fill(b, N, 0.1f);
    vitc_kernels_pack_linear(W, N, Kd, P);
    linear_by_blocks(KT, M, N, Kd, x, Kd, P, b, NULL, all, N, VITC_ACT_GELU);
    for (size_t i = 0; i < M; i++) {
        linear_by_blocks(KT, 1, N, Kd, x + i * Kd, Kd, P, b, NULL, one, N, VITC_ACT_GELU);
        CHECKF(memcmp(one, all + i * N, N * sizeof *one) == 0, "%s: row %zu differs", KT->name, i);
    }
    /* The last 16 columns alone (a block that starts at a later panel). */
    size_t n0 = (N - 1) / 16 * 16;
    for (size_t i = 0; i < M; i++) {
        linear_by_blocks(KT, 1, N - n0, Kd, x + i * Kd, Kd, P + n0 * Kd, b + n0, NULL, one, N - n0,
                         VITC_ACT_GELU);
        CHECKF(memcmp(one, all + i * N + n0, (N - n0) * sizeof *one) == 0,
               "%s: row %zu, last columns differ", KT->name, i);
    }
    free(x);
    free(W);
    free(P);
    free(b);
    free(all);
    free(one);
}

/* ---- activations, softmax, layernorm ---- */

static void test_activation_accuracy(void)
{
    for (size_t ai = 0; ai < N_ACTS; ai++) {
        enum vitc_act act = ALL_ACTS[ai];
        size_t n = 40001;
        float *x = malloc(n * sizeof *x);
        double *want = malloc(n * sizeof *want);
        for (size_t i = 0; i < n; i++) {
            x[i] = -10.0f + 20.0f * (float)i / (float)(n - 1);
            want[i] = act_ref(act, x[i]);
        }
        KT->act_row(act, x, n);
        double worst = 0;
        /* A few float ulps of the result's magnitude (erf/tanh/exp are
         * within ~2 ulps; the formula adds a few roundings). */
        CHECKF(close_rel(x, want, n, 1e-6, &worst), "%s act %d: worst rel err %.3g", KT->name,
               (int)act, worst);
        free(x);
        free(want);
    }
    /* GELU's exact-erf definition at known points (GELU(1) = 0.841344746...). */
    float g[3] = {1.0f, -1.0f, 0.0f};
    KT->act_row(VITC_ACT_GELU, g, 3);
    CHECK(fabs(g[0] - 0.8413447460685429) < 1e-7);
    CHECK(fabs(g[1] + 0.15865525393145707) < 1e-7);
    CHECK(g[2] == 0.0f);
}

/* The bf16/int8 modes' GELU (A&S 7.1.28 erf), portable and AVX-512, against
 * the exact GELU in double: within 1e-6 of max(1, |x|) over [-10, 10]
 * (the erf's 2e-6 times x / 2), and the AVX-512 one within 2e-7 of the
 * portable one it mirrors. Other activations are act_row's, unchanged. */
static void test_lowp_gelu(void)
{
    size_t n = 200001;
    float *x = malloc(n * sizeof *x), *y = malloc(n * sizeof *y), *v = malloc(n * sizeof *v);
    for (size_t i = 0; i < n; i++) {
        x[i] = -10.0f + 20.0f * (float)i / (float)(n - 1);
    }
    memcpy(y, x, n * sizeof *x);
    vitc_kernels_act_row_lowp(VITC_ACT_GELU, y, n);
    double worst = 0, worst_simd = 0;
    for (size_t i = 0; i < n; i++) {
        double d = fabs(y[i] - act_ref(VITC_ACT_GELU, x[i])) / fmax(1.0, fabs(x[i]));
        worst = d > worst || d != d ? d : worst;
    }
    printf("  portable: worst |GELU error| / max(1, |x|) %.3g\n", worst);
    CHECK(worst <= 1e-6);
    if (vitc_cpu_has(VITC_ISA_AVX512)) {
        memcpy(v, x, n * sizeof *x);
        vitc_avx512_act_row_lowp(VITC_ACT_GELU, v + 1, n - 1); /* unaligned, tail lanes */
        for (size_t i = 1; i < n; i++) {
            double d = fabs((double)v[i] - y[i]) / fmax(1.0, fabs(x[i]));
            worst_simd = d > worst_simd || d != d ? d : worst_simd;
        }
        printf("  avx512 vs portable: worst %.3g\n", worst_simd);
        CHECK(worst_simd <= 2e-7);
        CHECK(v[0] == x[0]);
    }
    float r[2] = {1.5f, -2.0f}, want[2] = {1.5f, -2.0f};
    vitc_kernels_act_row_lowp(VITC_ACT_RELU, r, 2);
    vitc_kernels_ref.act_row(VITC_ACT_RELU, want, 2);
    CHECK(memcmp(r, want, sizeof r) == 0);
    free(x);
    free(y);
    free(v);
}

/* Distance in float ulps between got and the double want (ulps of want's
 * magnitude, so 0 and tiny values compare absolutely at the denormal ulp). */
static double ulps(float got, double want)
{
    float w = (float)want;
    double ulp = nextafterf(fabsf(w), INFINITY) - fabsf(w);
    return fabs((double)got - want) / ulp;
}

/* The vector erf (GELU's) and tanh (the pooler's, gelu_new's) against libm
 * in double over dense ranges: within 2.5 float ulps everywhere. */
static void test_erf_tanh_ulps(void)
{
    size_t n = 1 << 20;
    float *x = malloc(n * sizeof *x), *y = malloc(n * sizeof *y);
    double worst_erf = 0, worst_tanh = 0;
    float at_erf = 0, at_tanh = 0;
    for (int pass = 0; pass < 2; pass++) {
        /* pass 0: uniform over [-6, 6]; pass 1: log-spaced magnitudes from
         * 1e-30 to 10, both signs (the small-argument branch). */
        for (size_t i = 0; i < n; i++) {
            double u = (double)i / (double)(n - 1);
            x[i] = pass == 0 ? (float)(-6.0 + 12.0 * u)
                             : (float)((i & 1 ? -1 : 1) * pow(10.0, -30.0 + 31.0 * u));
        }
        memcpy(y, x, n * sizeof *y);
        KT->erf_row(y, n);
        for (size_t i = 0; i < n; i++) {
            double e = ulps(y[i], erf((double)x[i]));
            if (e > worst_erf || e != e) {
                worst_erf = e;
                at_erf = x[i];
            }
        }
        memcpy(y, x, n * sizeof *y);
        KT->act_row(VITC_ACT_TANH, y, n);
        for (size_t i = 0; i < n; i++) {
            double e = ulps(y[i], tanh((double)x[i]));
            if (e > worst_tanh || e != e) {
                worst_tanh = e;
                at_tanh = x[i];
            }
        }
    }
    printf("  %s: erf within %.2f ulp (worst at %.9g), tanh within %.2f ulp (at %.9g)\n", KT->name,
           worst_erf, (double)at_erf, worst_tanh, (double)at_tanh);
    CHECKF(worst_erf <= 2.5, "%s erf: %.2f ulp at %.9g", KT->name, worst_erf, (double)at_erf);
    CHECKF(worst_tanh <= 2.5, "%s tanh: %.2f ulp at %.9g", KT->name, worst_tanh, (double)at_tanh);
    /* Saturation and signs. */
    float big[6] = {INFINITY, -INFINITY, 100.0f, -100.0f, 0.0f, -0.0f};
    KT->erf_row(big, 6);
    CHECK(big[0] == 1.0f && big[1] == -1.0f && big[2] == 1.0f && big[3] == -1.0f);
    CHECK(big[4] == 0.0f && !signbit(big[4]) && signbit(big[5]));
    free(x);
    free(y);
}

static void test_softmax(void)
{
    for (size_t n = 1; n <= 40; n++) {
        float x[40];
        double want[40], mx = -INFINITY, sum = 0;
        /* +1000: exp without the max subtraction would overflow. */
        for (size_t i = 0; i < n; i++) {
            x[i] = 1000.0f + 8.0f * test_frand();
            mx = x[i] > mx ? x[i] : mx;
        }
        for (size_t i = 0; i < n; i++) {
            want[i] = exp(x[i] - mx);
            sum += want[i];
        }
        for (size_t i = 0; i < n; i++) {
            want[i] /= sum;
        }
        KT->softmax_row(x, n);
        double worst = 0;
        CHECKF(close_rel(x, want, n, 1e-6, &worst), "n %zu: %.3g", n, worst);
    }
}

static void test_layernorm(void)
{
    const size_t ns[] = {1, 2, 7, 16, 17, 32, 100, 768};
    const double epss[] = {1e-12, 1e-6, 1e-5};
    for (size_t a = 0; a < sizeof ns / sizeof ns[0]; a++) {
        for (size_t e = 0; e < 3; e++) {
            size_t n = ns[a];
            float *xb = malloc((n + 1) * sizeof *xb), *y = malloc(n * sizeof *y);
            float *w = malloc(n * sizeof *w), *b = malloc(n * sizeof *b);
            double *want = malloc(n * sizeof *want);
            float *x = xb + 1;
            /* A large common offset: one-pass E[x^2] - E[x]^2 would lose it. */
            for (size_t i = 0; i < n; i++) {
                x[i] = 300.0f + test_frand();
                w[i] = 1.0f + 0.1f * test_frand();
                b[i] = 0.1f * test_frand();
            }
            double mean = 0, var = 0;
            for (size_t i = 0; i < n; i++) {
                mean += x[i];
            }
            mean /= (double)n;
            for (size_t i = 0; i < n; i++) {
                var += (x[i] - mean) * (x[i] - mean);
            }
            var /= (double)n;
            for (size_t i = 0; i < n; i++) {
                want[i] = (x[i] - mean) / sqrt(var + epss[e]) * w[i] + b[i];
            }
            KT->layernorm_row(n, x, y, w, b, epss[e]);
            double worst = 0;
            CHECKF(close_rel(y, want, n, 1e-6, &worst), "n %zu eps %g: %.3g", n, epss[e], worst);
            KT->layernorm_row(n, x, x, w, b, epss[e]); /* in place */
            CHECK(memcmp(x, y, n * sizeof *y) == 0);
            free(xb);
            free(y);
            free(w);
            free(b);
            free(want);
        }
    }
}

/* ---- attention ---- */

/* Naive head in double. q, k, v: (T, d) row stride ld; out: (T, d). */
static void attention_naive(size_t T, size_t d, const float *q, const float *k, const float *v,
                            size_t ld, double *out)
{
    double *s = malloc(T * sizeof *s);
    for (size_t i = 0; i < T; i++) {
        double mx = -INFINITY, sum = 0;
        for (size_t j = 0; j < T; j++) {
            double dot = 0;
            for (size_t c = 0; c < d; c++) {
                dot += (double)q[i * ld + c] * k[j * ld + c];
            }
            s[j] = dot / sqrt((double)d);
            mx = s[j] > mx ? s[j] : mx;
        }
        for (size_t j = 0; j < T; j++) {
            s[j] = exp(s[j] - mx);
            sum += s[j];
        }
        for (size_t c = 0; c < d; c++) {
            double o = 0;
            for (size_t j = 0; j < T; j++) {
                o += s[j] / sum * v[j * ld + c];
            }
            out[i * d + c] = o;
        }
    }
    free(s);
}

static void test_attention_head(void)
{
    const size_t Ts[] = {1, 2, 3, 4, 5, 16, 17, 33, 197};
    const size_t ds[] = {1, 3, 8, 16, 17, 64, 65, 80};
    for (size_t a = 0; a < sizeof Ts / sizeof Ts[0]; a++) {
        for (size_t c = 0; c < sizeof ds / sizeof ds[0]; c++) {
            size_t T = Ts[a], d = ds[c], ld = 3 * d + 2, ldo = d + 3;
            float *buf = malloc((T * ld + 1) * sizeof *buf);
            float *o = malloc((T * ldo + 1) * sizeof *o);
            float *work = malloc((d + VITC_ATTN_SCRATCH_ROWS) * T * sizeof *work);
            double *want = malloc(T * d * sizeof *want);
            test_fill(buf, T * ld + 1, 2.0f);
            const float *q = buf + 1, *k = buf + 1 + d, *v = buf + 1 + 2 * d;
            attention_naive(T, d, q, k, v, ld, want);
            KT->attention_head(T, d, q, k, v, ld, o + 1, ldo, (float)sqrt((double)d), work);
            double worst = 0;
            for (size_t i = 0; i < T; i++) {
                double w = 0;
                close_rel(o + 1 + i * ldo, want + i * d, d, 0, &w);
                worst = w > worst ? w : worst;
            }
            CHECKF(worst < 2e-6, "%s T %zu d %zu: rel err %.3g", KT->name, T, d, worst);
            free(buf);
            free(o);
            free(work);
            free(want);
        }
    }
}

/* ---- data movement ---- */

/* A non-square image whose sides are not multiples of P: a 3x4 grid of 4 px
 * patches from 13x18 pixels, the last row and two columns never read. */
static void test_patch_unfold_and_tokens(void)
{
    size_t n = 2, C = 3, Hp = 13, Wp = 18, P = 4, G = Wp / P, Np = (Hp / P) * G, D = 5;
    float *px = malloc(n * C * Hp * Wp * sizeof *px);
    float *patches = malloc(n * Np * C * P * P * sizeof *patches);
    for (size_t i = 0; i < n * C * Hp * Wp; i++) {
        px[i] = (float)i;
    }
    vitc_kernels_patch_unfold(px, n, C, Hp, Wp, P, patches);
    int ok = 1;
    for (size_t img = 0; img < n; img++) {
        for (size_t p = 0; p < Np; p++) {
            for (size_t c = 0; c < C; c++) {
                for (size_t ky = 0; ky < P; ky++) {
                    for (size_t kx = 0; kx < P; kx++) {
                        size_t yy = (p / G) * P + ky, xx = (p % G) * P + kx;
                        float want = px[((img * C + c) * Hp + yy) * Wp + xx];
                        float got = patches[(img * Np + p) * C * P * P + (c * P + ky) * P + kx];
                        ok &= got == want;
                    }
                }
            }
        }
    }
    CHECK(ok);

    float *emb = malloc(n * Np * D * sizeof *emb), *cls = malloc(D * sizeof *cls);
    float *pos = malloc((Np + 1) * D * sizeof *pos), *x = malloc(n * (Np + 1) * D * sizeof *x);
    test_fill(emb, n * Np * D, 1.0f);
    test_fill(cls, D, 1.0f);
    test_fill(pos, (Np + 1) * D, 1.0f);
    vitc_kernels_assemble_tokens(emb, cls, pos, n, Np, D, x);
    ok = 1;
    for (size_t img = 0; img < n; img++) {
        for (size_t t = 0; t <= Np; t++) {
            for (size_t j = 0; j < D; j++) {
                float src = t == 0 ? cls[j] : emb[(img * Np + t - 1) * D + j];
                ok &= x[(img * (Np + 1) + t) * D + j] == src + pos[t * D + j];
            }
        }
    }
    CHECK(ok);
    free(px);
    free(patches);
    free(emb);
    free(cls);
    free(pos);
    free(x);
}

/* ---- backend ops across thread counts ---- */

/* Runs each op on one backend with n_threads; outputs go to out[]. */
struct op_outputs {
    float *lin, *lin_res, *ln, *att, *unf, *cls;
};

static const size_t BM = 133, BN = 70, BK = 45;      /* linear   */
static const size_t BI = 3, BT = 19, BH = 3, BD = 7; /* attention */
static const size_t BC = 3, BS = 16, BP = 4;         /* unfold    */

static int run_ops(int n_threads, const float *x, const struct vitc_linear *lin, const float *res0,
                   const float *lnw, const float *lnb, const float *qkv, const float *px,
                   struct op_outputs *o)
{
    struct vitc_be *be = NULL;
    if (vitc_backend_cpu_new(n_threads, BT, BD, &be) != VITC_OK) {
        return 0;
    }
    int ok = vitc_backend_cpu_n_threads(be) == n_threads;
    const struct vitc_backend_ops *op = be->ops;
    ok &= op->linear(be, lin, x, BM, o->lin, VITC_ACT_GELU, NULL) == VITC_OK;
    memcpy(o->lin_res, res0, BM * BN * sizeof *res0);
    ok &= op->linear(be, lin, x, BM, o->lin_res, VITC_ACT_NONE, o->lin_res) == VITC_OK;
    ok &= op->layernorm(be, x, o->ln, BM, BK, lnw, lnb, 1e-6) == VITC_OK;
    ok &= op->attention(be, qkv, o->att, BI, BT, BH, BD) == VITC_OK;
    ok &= op->patch_unfold(be, px, BI, BC, BS, BS, BP, o->unf) == VITC_OK;
    ok &= op->gather_rows(be, o->lin, 10, BM / 10, BN, o->cls) == VITC_OK;
    /* Refusals: a sequence larger than the scratch was sized for. */
    ok &= op->attention(be, qkv, o->att, 1, BT + 1, BH, BD) == VITC_ERR_BACKEND;
    vitc_backend_free(be);
    return ok;
}

static void test_backend_ops_threads(void)
{
    size_t floats = 0;
    vitc_kernels_packed_floats(BN, BK, &floats);
    float *x = malloc(BM * BK * sizeof *x), *W = malloc(BN * BK * sizeof *W);
    float *b = malloc(BN * sizeof *b), *P = malloc(floats * sizeof *P);
    float *res0 = malloc(BM * BN * sizeof *res0);
    float *lnw = malloc(BK * sizeof *lnw), *lnb = malloc(BK * sizeof *lnb);
    float *qkv = malloc(BI * BT * 3 * BH * BD * sizeof *qkv);
    float *px = malloc(BI * BC * BS * BS * sizeof *px);
    test_fill(x, BM * BK, 1.0f);
    test_fill(W, BN * BK, 0.2f);
    test_fill(b, BN, 0.1f);
    test_fill(res0, BM * BN, 1.0f);
    test_fill(lnw, BK, 1.0f);
    test_fill(lnb, BK, 0.1f);
    test_fill(qkv, BI * BT * 3 * BH * BD, 1.5f);
    test_fill(px, BI * BC * BS * BS, 1.0f);
    vitc_kernels_pack_linear(W, BN, BK, P);
    struct vitc_linear lin = {.weight = W, .bias = b, .n_out = (int)BN, .n_in = (int)BK};
    CHECK(vitc_cpu_prepare_linear(&lin, VITC_PRECISION_FP32) == VITC_OK);

    const int threads[] = {1, 2, 3, 4, 7};
    enum { N_THREADS = sizeof threads / sizeof threads[0] };
    struct op_outputs outs[N_THREADS];
    size_t sizes[6] = {BM * BN,           BM * BN,           BM * BK,
                       BI * BT * BH * BD, BI * BC * BS * BS, (BM / 10) * BN};
    setenv("VITC_CPU", K_ENV, 1);
    for (int t = 0; t < N_THREADS; t++) {
        float **f[6] = {&outs[t].lin, &outs[t].lin_res, &outs[t].ln,
                        &outs[t].att, &outs[t].unf,     &outs[t].cls};
        for (int i = 0; i < 6; i++) {
            *f[i] = calloc(sizes[i], sizeof(float));
        }
        CHECKF(run_ops(threads[t], x, &lin, res0, lnw, lnb, qkv, px, &outs[t]),
               "%s ops with %d threads", KT->name, threads[t]);
    }
    unsetenv("VITC_CPU");
    for (int t = 1; t < N_THREADS; t++) {
        CHECKF(memcmp(outs[t].lin, outs[0].lin, sizes[0] * 4) == 0, "linear, %d threads",
               threads[t]);
        CHECKF(memcmp(outs[t].lin_res, outs[0].lin_res, sizes[1] * 4) == 0,
               "linear+res, %d threads", threads[t]);
        CHECKF(memcmp(outs[t].ln, outs[0].ln, sizes[2] * 4) == 0, "layernorm, %d threads",
               threads[t]);
        CHECKF(memcmp(outs[t].att, outs[0].att, sizes[3] * 4) == 0, "attention, %d threads",
               threads[t]);
        CHECKF(memcmp(outs[t].unf, outs[0].unf, sizes[4] * 4) == 0, "unfold, %d threads",
               threads[t]);
        CHECKF(memcmp(outs[t].cls, outs[0].cls, sizes[5] * 4) == 0, "gather, %d threads",
               threads[t]);
    }

    /* And the 1-thread results are right. */
    double *want = malloc(BM * BN * sizeof *want);
    linear_naive(BM, BN, BK, x, BK, W, b, NULL, 0, VITC_ACT_GELU, want);
    CHECK(close_rel(outs[0].lin, want, BM * BN, 2e-6, NULL));
    linear_naive(BM, BN, BK, x, BK, W, b, res0, BN, VITC_ACT_NONE, want);
    CHECK(close_rel(outs[0].lin_res, want, BM * BN, 2e-6, NULL));
    for (size_t i = 0; i < BM / 10; i++) {
        CHECK(memcmp(outs[0].cls + i * BN, outs[0].lin + i * 10 * BN, BN * 4) == 0);
    }
    size_t D = BH * BD;
    double *head = malloc(BT * BD * sizeof *head);
    double worst = 0;
    for (size_t img = 0; img < BI; img++) {
        for (size_t h = 0; h < BH; h++) {
            const float *base = qkv + img * BT * 3 * D + h * BD;
            attention_naive(BT, BD, base, base + D, base + 2 * D, 3 * D, head);
            for (size_t i = 0; i < BT; i++) {
                double w = 0;
                close_rel(outs[0].att + (img * BT + i) * D + h * BD, head + i * BD, BD, 0, &w);
                worst = w > worst ? w : worst;
            }
        }
    }
    CHECKF(worst < 2e-6, "attention rel err %.3g", worst);

    for (int t = 0; t < N_THREADS; t++) {
        free(outs[t].lin);
        free(outs[t].lin_res);
        free(outs[t].ln);
        free(outs[t].att);
        free(outs[t].unf);
        free(outs[t].cls);
    }
    free(x);
    free(W);
    free(b);
    free(P);
    free(res0);
    free(lnw);
    free(lnb);
    free(qkv);
    free(px);
    free(want);
    free(head);
    vitc_cpu_unprepare_linear(&lin);
}

/* The linear op refuses unprepared weights instead of reading NULL. */
static void test_backend_refusals(void)
{
    struct vitc_be *be = NULL;
    CHECK(vitc_backend_cpu_new(0, 4, 4, &be) == VITC_ERR_INVALID_ARG);
    CHECK(be == NULL);
    CHECK(vitc_backend_cpu_new(1, SIZE_MAX / 2, 4, &be) == VITC_ERR_INVALID_ARG);
    CHECK(vitc_backend_cpu_new(2, 4, 4, &be) == VITC_OK);
    if (!be) {
        return;
    }
    float W[4] = {1, 2, 3, 4}, x[2] = {1, 1}, y[2];
    struct vitc_linear lin = {.weight = W, .n_out = 2, .n_in = 2};
    CHECK(be->ops->linear(be, &lin, x, 1, y, VITC_ACT_NONE, NULL) == VITC_ERR_BACKEND);
    CHECK(strstr(vitc_last_error(), "prepared") != NULL);
    vitc_backend_free(be);
    vitc_backend_free(NULL);
}

/* VITC_CPU picks a table or is refused with a message; ref always runs. */
static void test_dispatch(void)
{
    struct vitc_be *be = NULL;
    CHECK(vitc_cpu_has(VITC_ISA_REF) && vitc_cpu_kernels_for(VITC_ISA_REF) == &vitc_kernels_ref);
    setenv("VITC_CPU", "sse9", 1);
    CHECK(vitc_backend_cpu_new(1, 4, 4, &be) == VITC_ERR_INVALID_ARG && be == NULL);
    CHECK(strstr(vitc_last_error(), "VITC_CPU") != NULL);
    const struct vitc_cpu_kernels *k = NULL;
    setenv("VITC_CPU", "ref", 1);
    CHECK(vitc_cpu_kernels_select(&k) == VITC_OK && k == &vitc_kernels_ref);
    unsetenv("VITC_CPU");
    CHECK(vitc_cpu_kernels_select(&k) == VITC_OK && k != NULL);
    printf("  default table on this CPU: %s\n", k ? k->name : "none");
    for (int isa = VITC_ISA_AVX2; isa <= VITC_ISA_AVX512; isa++) {
        const char *name = isa == VITC_ISA_AVX2 ? "avx2" : "avx512";
        setenv("VITC_CPU", name, 1);
        vitc_status s = vitc_cpu_kernels_select(&k);
        CHECK(vitc_cpu_has((enum vitc_cpu_isa)isa) ? s == VITC_OK && strcmp(k->name, name) == 0
                                                   : s == VITC_ERR_INVALID_ARG);
    }
    unsetenv("VITC_CPU");
}

int main(void)
{
    static const struct {
        enum vitc_cpu_isa isa;
        const char *name;
    } tables[] = {{VITC_ISA_REF, "ref"}, {VITC_ISA_AVX2, "avx2"}, {VITC_ISA_AVX512, "avx512"}};
    RUN(test_pack_layout);
    RUN(test_patch_unfold_and_tokens);
    RUN(test_backend_refusals);
    RUN(test_dispatch);
    RUN(test_lowp_gelu);
    for (size_t t = 0; t < sizeof tables / sizeof tables[0]; t++) {
        KT = vitc_cpu_kernels_for(tables[t].isa);
        K_ENV = tables[t].name;
        if (!KT) {
            printf("skip %s kernels: this CPU or build does not run them\n", tables[t].name);
            continue;
        }
        printf("kernel table: %s\n", KT->name);
        RUN(test_linear_shapes);
        RUN(test_linear_blocks);
        RUN(test_linear_rows_independent);
        RUN(test_activation_accuracy);
        RUN(test_erf_tanh_ulps);
        RUN(test_softmax);
        RUN(test_layernorm);
        RUN(test_attention_head);
        RUN(test_backend_ops_threads);
    }
    return TEST_REPORT();
}
