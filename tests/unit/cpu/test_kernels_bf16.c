/* SPDX-License-Identifier: MIT
 *
 * test_kernels_bf16.c — the bf16 low-precision linears: weight packing
 * (layout, zero padding, round-to-nearest-even ties, NaN and overflow), the
 * activation rounding inside the kernels, and the AVX-512 BF16 table
 * against the portable oracle over awkward shapes (odd K, N not a multiple
 * of 16, one row, one column, unaligned pointers, ldx > K, ldy > N), every
 * epilogue, block splits and thread counts. The dot products must match the
 * oracle bit for bit; the activations are the AVX-512 low-precision ones.
 * Skipped, with the reason, on CPUs without AVX512_BF16.
 */
#include <stdint.h>
#include <stdlib.h>

#include "cpu/backend_cpu.h"
#include "cpu/dispatch.h"
#include "cpu/kernels.h"
#include "test.h"

/* ---- helpers ---- */

static const enum vitc_act ALL_ACTS[] = {
    VITC_ACT_NONE, VITC_ACT_GELU, VITC_ACT_GELU_TANH, VITC_ACT_QUICK_GELU,
    VITC_ACT_RELU, VITC_ACT_SILU, VITC_ACT_TANH,
};
#define N_ACTS (sizeof ALL_ACTS / sizeof ALL_ACTS[0])

/* A bf16-packed (N, K) weight, malloc'd. */
static uint16_t *pack(const float *W, size_t N, size_t K)
{
    size_t elems = 0;
    if (vitc_kernels_packed_bf16_elems(N, K, &elems)) {
        return NULL;
    }
    uint16_t *P = malloc(elems * sizeof *P);
    vitc_kernels_pack_linear_bf16(W, N, K, P);
    return P;
}

/* The full linear through a table's block kernel, cut into blocks of at
 * most mb rows x nb columns (nb a multiple of 16, both within the table's
 * mc and nc): y (M, N) with row stride ldy. */
static void linear_by_blocks(const struct vitc_lowp_kernels *t, size_t mb, size_t nb, size_t M,
                             size_t N, size_t K, const float *x, size_t ldx, const uint16_t *P,
                             const float *b, const float *res, float *y, size_t ldy,
                             enum vitc_act act)
{
    size_t floats = t->linear_scratch + t->scratch_per_k * K;
    float *scratch = aligned_alloc(64, (floats * sizeof(float) + 63) / 64 * 64);
    size_t K2 = (K + 1) / 2 * 2;
    for (size_t m0 = 0; m0 < M; m0 += mb) {
        size_t rows = M - m0 < mb ? M - m0 : mb;
        for (size_t n0 = 0; n0 < N; n0 += nb) {
            size_t cols = N - n0 < nb ? N - n0 : nb;
            t->linear_block(rows, cols, K, x + m0 * ldx, ldx, P + n0 * K2, NULL, NULL,
                            b ? b + n0 : NULL, res ? res + m0 * ldy + n0 : NULL, y + m0 * ldy + n0,
                            ldy, act, scratch);
        }
    }
    free(scratch);
}

static void linear_table(const struct vitc_lowp_kernels *t, size_t M, size_t N, size_t K,
                         const float *x, size_t ldx, const uint16_t *P, const float *b,
                         const float *res, float *y, size_t ldy, enum vitc_act act)
{
    linear_by_blocks(t, t->mc, t->nc, M, N, K, x, ldx, P, b, res, y, ldy, act);
}

/* ---- packing ---- */

static void test_pack_layout(void)
{
    const size_t Ns[] = {1, 15, 16, 17, 33}, Ks[] = {1, 2, 3, 5};
    for (size_t a = 0; a < 5; a++) {
        for (size_t c = 0; c < 4; c++) {
            size_t N = Ns[a], K = Ks[c], K2 = (K + 1) / 2 * 2, Np = (N + 15) / 16 * 16, elems = 0;
            CHECK(vitc_kernels_packed_bf16_elems(N, K, &elems) == 0);
            CHECK(elems == Np * K2);
            float *W = malloc(N * K * sizeof *W);
            test_fill(W, N * K, 3.0f);
            uint16_t *P = pack(W, N, K);
            for (size_t n = 0; n < Np; n++) {
                for (size_t k = 0; k < K2; k++) {
                    uint16_t got = P[(n / 16) * K2 * 16 + (k / 2) * 32 + (n % 16) * 2 + k % 2];
                    uint16_t want = n < N && k < K ? vitc_bf16_from_float(W[n * K + k]) : 0;
                    CHECKF(got == want, "N %zu K %zu n %zu k %zu: %04x, want %04x", N, K, n, k, got,
                           want);
                }
            }
            free(W);
            free(P);
        }
    }
    size_t out = 0;
    CHECK(vitc_kernels_packed_bf16_elems(SIZE_MAX / 2, 64, &out) != 0);
    CHECK(vitc_kernels_packed_bf16_elems(64, SIZE_MAX / 8, &out) != 0);
    CHECK(vitc_kernels_packed_bf16_elems(64, SIZE_MAX, &out) != 0);
}

/* Rounding of single values: nearest, ties to even, NaN stays a (quiet)
 * NaN with its sign, overflow rounds to infinity, infinities and zeros
 * keep their sign. */
static void test_bf16_rounding(void)
{
    static const struct {
        uint32_t in;
        uint16_t want;
    } cases[] = {
        {0x3F800000u, 0x3F80}, /* 1.0 exact                          */
        {0x3F808000u, 0x3F80}, /* tie, even below: down              */
        {0x3F818000u, 0x3F82}, /* tie, odd below: up                 */
        {0x3F808001u, 0x3F81}, /* just above the tie: up             */
        {0x3F807FFFu, 0x3F80}, /* just below the tie: down           */
        {0xBF818000u, 0xBF82}, /* negative tie: away from zero (even) */
        {0x3FFF8000u, 0x4000}, /* carry into the exponent            */
        {0x7F7FFFFFu, 0x7F80}, /* FLT_MAX rounds to +inf             */
        {0x7F800000u, 0x7F80}, /* +inf                               */
        {0xFF800000u, 0xFF80}, /* -inf                               */
        {0x00000000u, 0x0000}, /* +0                                 */
        {0x80000000u, 0x8000}, /* -0                                 */
        {0x7FC00000u, 0x7FC0}, /* quiet NaN                          */
        {0x7F800001u, 0x7FC0}, /* signalling NaN, low payload: quiet */
        {0xFFFFFFFFu, 0xFFFF}, /* NaN that would carry into inf      */
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        uint16_t got = vitc_bf16_from_float(test_from_bits(cases[i].in));
        CHECKF(got == cases[i].want, "%08x -> %04x, want %04x", cases[i].in, got, cases[i].want);
    }
    /* Packed weights round the same way, NaN included. */
    float W[4] = {test_from_bits(0x3F808000u), test_from_bits(0x3F818000u), NAN, -NAN};
    uint16_t *P = pack(W, 1, 4);
    CHECK(P[0] == 0x3F80 && P[1] == 0x3F82);
    CHECK(vitc_bf16_to_float(P[32]) != vitc_bf16_to_float(P[32])); /* NaN */
    CHECK(vitc_bf16_to_float(P[33]) != vitc_bf16_to_float(P[33]));
    CHECK((P[33] & 0x8000) != 0);
    free(P);
}

/* ---- the AVX-512 BF16 table ---- */

#if defined(__x86_64__)

static const struct vitc_lowp_kernels *KT = NULL; /* the table under test */

/* The activation rounding inside the kernel: with K = 1 and a weight of
 * 1, each output is bf16(x) exactly, which must equal the scalar rounding
 * (ties to even) for every finite normal x; NaN stays NaN. */
static void test_activation_rounding(void)
{
    static const uint32_t special[] = {
        0x3F808000u, 0x3F818000u, 0x3F808001u, 0x3F807FFFu, 0xBF818000u, 0x3FFF8000u,
        0x7F7FFFFFu, 0x7F800000u, 0xFF800000u, 0x00000000u, 0x80000000u, 0x00800000u,
    };
    size_t n_special = sizeof special / sizeof special[0], M = 1000;
    float *x = malloc(M * sizeof *x), *y = malloc(M * sizeof *y), one = 1.0f;
    for (size_t i = 0; i < M; i++) {
        x[i] = i < n_special ? test_from_bits(special[i]) : test_frand() * 1e3f;
    }
    x[M - 1] = NAN;
    uint16_t *P = pack(&one, 1, 1);
    linear_table(KT, M, 1, 1, x, 1, P, NULL, NULL, y, 1, VITC_ACT_NONE);
    int bad = 0;
    for (size_t i = 0; i + 1 < M; i++) {
        float want = 0.0f + vitc_bf16_to_float(vitc_bf16_from_float(x[i])); /* acc starts at +0 */
        if (test_to_bits(y[i]) != test_to_bits(want) && bad++ < 5) {
            fprintf(stderr, "  x %08x -> %08x, want %08x\n", test_to_bits(x[i]), test_to_bits(y[i]),
                    test_to_bits(want));
        }
    }
    CHECK(bad == 0);
    CHECK(y[M - 1] != y[M - 1]);
    free(x);
    free(y);
    free(P);
}

/* The oracle's outputs with the table's epilogue: the reference's dot
 * product plus bias (act NONE, no residual), then the AVX-512
 * low-precision activation, then the residual; what the table must produce bit for bit. */
static void expected(size_t M, size_t N, size_t K, const float *x, size_t ldx, const uint16_t *P,
                     const float *b, const float *res, float *y, size_t ldy, enum vitc_act act)
{
    linear_table(&vitc_kernels_bf16_ref, M, N, K, x, ldx, P, b, NULL, y, ldy, VITC_ACT_NONE);
    for (size_t i = 0; i < M; i++) {
        vitc_avx512_act_row_lowp(act, y + i * ldy, N);
        for (size_t j = 0; res && j < N; j++) {
            y[i * ldy + j] += res[i * ldy + j];
        }
    }
}

/* One shape, every bias / residual / in-place mode and the activations
 * given, x, y and res one float off alignment, ldx > K, ldy > N. Bitwise against
 * expected(); the worst relative difference to the oracle's own output
 * (its scalar activations) goes into *worst. Returns the mismatches. */
static int linear_case(size_t M, size_t N, size_t K, const enum vitc_act *acts, size_t n_acts,
                       double *worst)
{
    size_t ldx = K + 3, ldy = N + 5;
    int bad = 0;
    float *xb = malloc((M * ldx + 1) * sizeof *xb), *W = malloc(N * K * sizeof *W);
    float *b = malloc(N * sizeof *b), *resb = malloc((M * ldy + 1) * sizeof *resb);
    float *yb = malloc((M * ldy + 1) * sizeof *yb), *want = malloc(M * ldy * sizeof *want);
    float *oracle = malloc(M * ldy * sizeof *oracle);
    float *x = xb + 1, *y = yb + 1, *res = resb + 1;
    test_fill(xb, M * ldx + 1, 1.0f);
    test_fill(W, N * K, 1.0f / sqrtf((float)K));
    test_fill(b, N, 0.3f);
    uint16_t *P = pack(W, N, K);
    /* mode: bit 0 bias; mode / 2: 0 no residual, 1 a separate residual, 2
     * the residual added in place (res == y). */
    for (int mode = 0; mode < 6; mode++) {
        const float *bias = mode & 1 ? b : NULL;
        int in_place = mode / 2 == 2;
        for (size_t ai = 0; ai < n_acts; ai++) {
            enum vitc_act act = acts[ai];
            test_fill(res, M * ldy, 2.0f);
            const float *r = mode / 2 ? res : NULL;
            expected(M, N, K, x, ldx, P, bias, r, want, ldy, act);
            linear_table(&vitc_kernels_bf16_ref, M, N, K, x, ldx, P, bias, r, oracle, ldy, act);
            float *out = y;
            if (in_place) {
                memcpy(y, res, M * ldy * sizeof *y);
                r = y;
            } else {
                for (size_t i = 0; i < M * ldy; i++) {
                    y[i] = NAN; /* every output must be written */
                }
            }
            linear_table(KT, M, N, K, x, ldx, P, bias, r, out, ldy, act);
            for (size_t i = 0; i < M; i++) {
                double row_max = 0;
                for (size_t j = 0; j < N; j++) {
                    row_max = fmax(row_max, fabs(oracle[i * ldy + j]));
                }
                for (size_t j = 0; j < N; j++) {
                    float g = out[i * ldy + j], e = want[i * ldy + j];
                    if (test_to_bits(g) != test_to_bits(e)) {
                        if (bad++ < 3) {
                            fprintf(stderr,
                                    "  M %zu N %zu K %zu mode %d act %d [%zu][%zu]: %.9g, want "
                                    "%.9g\n",
                                    M, N, K, mode, (int)act, i, j, g, e);
                        }
                    }
                    double d = fabs((double)g - oracle[i * ldy + j]) / (row_max + 1e-30);
                    *worst = d > *worst || d != d ? d : *worst;
                }
            }
        }
    }
    free(xb);
    free(W);
    free(b);
    free(resb);
    free(yb);
    free(want);
    free(oracle);
    free(P);
    return bad;
}

/* Small shapes in full cross, with every activation; the large sizes
 * (M = 197, N = 2304, K = 768 and 3072) one at a time against small
 * others. */
static void test_linear_shapes(void)
{
    static const size_t Ms[] = {1, 2, 7, 8, 9, 31}, Ns[] = {1, 15, 16, 17, 47, 48, 49, 100},
                        Ks[] = {1, 2, 3, 4, 5, 31, 32, 33};
    static const enum vitc_act none_gelu[] = {VITC_ACT_NONE, VITC_ACT_GELU};
    double worst = 0;
    int bad = 0;
    for (size_t a = 0; a < sizeof Ms / sizeof Ms[0]; a++) {
        for (size_t c = 0; c < sizeof Ns / sizeof Ns[0]; c++) {
            for (size_t d = 0; d < sizeof Ks / sizeof Ks[0]; d++) {
                int all = (a + c + d) % 5 == 0; /* every activation on a fifth of them */
                bad += linear_case(Ms[a], Ns[c], Ks[d], all ? ALL_ACTS : none_gelu,
                                   all ? N_ACTS : 2, &worst);
            }
        }
    }
    bad += linear_case(197, 49, 33, ALL_ACTS, N_ACTS, &worst);
    bad += linear_case(9, 2304, 5, none_gelu, 2, &worst);
    bad += linear_case(7, 100, 768, none_gelu, 2, &worst);
    bad += linear_case(31, 17, 768, ALL_ACTS, N_ACTS, &worst);
    bad += linear_case(197, 100, 768, none_gelu, 1, &worst);
    bad += linear_case(9, 49, 3072, none_gelu, 2, &worst); /* ViT-B's longest K */
    printf("  bf16 %s vs oracle: %d bitwise mismatches; worst |diff| / row max %.3g "
           "(the activations' rounding)\n",
           KT->name, bad, worst);
    CHECK(bad == 0);
    CHECK(worst <= 1e-5);
}

/* A row's result does not depend on the block it is in: blocks of one
 * row tile and odd column counts give the same bits as the table's own. */
static void test_block_split(void)
{
    size_t M = 45, N = 200, K = 77, ldx = K, ldy = N;
    float *x = malloc(M * K * sizeof *x), *W = malloc(N * K * sizeof *W), *b = malloc(N * 4);
    float *y0 = malloc(M * N * sizeof *y0), *y1 = malloc(M * N * sizeof *y1);
    test_fill(x, M * K, 1.0f);
    test_fill(W, N * K, 0.2f);
    test_fill(b, N, 0.5f);
    uint16_t *P = pack(W, N, K);
    linear_table(KT, M, N, K, x, ldx, P, b, NULL, y0, ldy, VITC_ACT_GELU);
    const size_t splits[][2] = {{1, 16}, {KT->mr, 32}, {3, 48}, {KT->mc, 16 * 7}};
    for (size_t s = 0; s < 4; s++) {
        linear_by_blocks(KT, splits[s][0], splits[s][1], M, N, K, x, ldx, P, b, NULL, y1, ldy,
                         VITC_ACT_GELU);
        CHECKF(memcmp(y0, y1, M * N * sizeof *y0) == 0, "blocks of %zu x %zu", splits[s][0],
               splits[s][1]);
    }
    free(x);
    free(W);
    free(b);
    free(y0);
    free(y1);
    free(P);
}

/* The table's blocking data fit the backend's expectations. */
static void test_table_shape(void)
{
    CHECK(KT->nc % VITC_PACK_NB == 0 && KT->nr % VITC_PACK_NB == 0);
    CHECK(KT->mc % KT->mr == 0 && KT->nc % KT->nr == 0);
    CHECK(KT->linear_block != NULL);
    /* The default bf16 table on this CPU, with the AVX-512 fp32 table. */
    CHECK(vitc_cpu_lowp_kernels(VITC_PRECISION_BF16, &vitc_kernels_avx512) == KT);
    CHECK(vitc_cpu_lowp_kernels(VITC_PRECISION_BF16, &vitc_kernels_ref) == &vitc_kernels_bf16_ref);
}

/* Through the CPU backend (its own block split) with 1, 2 and 3 threads:
 * the same bits as the table called directly. */
static void test_backend_threads(void)
{
    size_t M = 197, N = 300, K = 130;
    float *x = malloc(M * K * sizeof *x), *W = malloc(N * K * sizeof *W), *b = malloc(N * 4);
    float *y0 = malloc(M * N * sizeof *y0), *y1 = malloc(M * N * sizeof *y1);
    test_fill(x, M * K, 1.0f);
    test_fill(W, N * K, 0.2f);
    test_fill(b, N, 0.5f);
    uint16_t *P = pack(W, N, K);
    linear_table(KT, M, N, K, x, K, P, b, NULL, y0, N, VITC_ACT_GELU);
    struct vitc_linear l = {.weight = W, .bias = b, .n_out = (int)N, .n_in = (int)K};
    CHECK(vitc_cpu_prepare_linear(&l, VITC_PRECISION_BF16) == VITC_OK);
    setenv("VITC_CPU", "avx512", 1);
    for (int nt = 1; nt <= 3; nt++) {
        struct vitc_cpu_backend_params p = {.n_threads = nt,
                                            .max_tokens = 4,
                                            .max_head_dim = 4,
                                            .max_k = K,
                                            .precision = VITC_PRECISION_BF16};
        struct vitc_be *be = NULL;
        CHECK(vitc_backend_cpu_create(&p, &be) == VITC_OK);
        if (!be) {
            continue;
        }
        memset(y1, 0, M * N * sizeof *y1);
        CHECK(be->ops->linear(be, &l, x, M, y1, VITC_ACT_GELU, NULL) == VITC_OK);
        CHECKF(memcmp(y0, y1, M * N * sizeof *y0) == 0, "%d threads", nt);
        vitc_backend_free(be);
    }
    unsetenv("VITC_CPU");
    vitc_cpu_unprepare_linear(&l);
    free(x);
    free(W);
    free(b);
    free(y0);
    free(y1);
    free(P);
}

#endif /* __x86_64__ */

int main(void)
{
    RUN(test_pack_layout);
    RUN(test_bf16_rounding);
#if defined(__x86_64__)
    if (vitc_cpu_has(VITC_ISA_AVX512) && vitc_cpu_has_ext(VITC_EXT_AVX512_BF16)) {
        KT = &vitc_kernels_bf16_avx512;
        RUN(test_table_shape);
        RUN(test_activation_rounding);
        RUN(test_linear_shapes);
        RUN(test_block_split);
        RUN(test_backend_threads);
    } else {
        SKIP(test_linear_shapes, "this CPU lacks AVX-512 with AVX512_BF16");
    }
#else
    SKIP(test_linear_shapes, "AVX-512 BF16 is x86-64 only");
#endif
    return TEST_REPORT();
}
