/* SPDX-License-Identifier: MIT
 *
 * test_kernels_i8.c — the int8 path: weight packing (layout, padding,
 * rounding half to even, column sums) and activation quantization against
 * hand-made cases, the AVX-512 VNNI quantizer against the portable one byte
 * for byte, and the AVX-512 VNNI linear against the reference int8 table
 * over awkward shapes, every epilogue, unaligned pointers and wide leading
 * dimensions; then through the CPU backend with 1, 2 and 3 threads, which
 * must agree bit for bit. The VNNI parts are skipped on CPUs without it.
 */
#include <float.h>
#include <stdint.h>
#include <stdlib.h>

#include "cpu/backend_cpu.h"
#include "cpu/dispatch.h"
#include "cpu/kernels.h"
#if defined(__x86_64__)
#include "cpu/kernels_i8_avx512.h"
#endif
#include "test.h"

/* ---- helpers ---- */

static size_t round_up(size_t n, size_t q)
{
    return (n + q - 1) / q * q;
}

static const enum vitc_act ALL_ACTS[] = {
    VITC_ACT_NONE, VITC_ACT_GELU, VITC_ACT_GELU_TANH, VITC_ACT_QUICK_GELU,
    VITC_ACT_RELU, VITC_ACT_SILU, VITC_ACT_TANH,
};
#define N_ACTS (sizeof ALL_ACTS / sizeof ALL_ACTS[0])

/* An int8-packed weight (N, K) with its per-column scales and sums. */
struct packed_i8 {
    int8_t *w;
    float *scale;
    int32_t *sum;
};

static struct packed_i8 pack_i8(const float *W, size_t N, size_t K)
{
    size_t bytes = 0, Np = round_up(N, VITC_PACK_NB);
    vitc_kernels_packed_i8_bytes(N, K, &bytes);
    struct packed_i8 p = {malloc(bytes), malloc(Np * sizeof(float)), malloc(Np * sizeof(int32_t))};
    vitc_kernels_pack_linear_i8(W, N, K, p.w, p.scale, p.sum);
    return p;
}

static void packed_free(struct packed_i8 *p)
{
    free(p->w);
    free(p->scale);
    free(p->sum);
}

/* A whole linear through a table's block kernel, cut into its mc x nc
 * blocks as the backend does (any cut gives the same result). */
static void linear_by_blocks(const struct vitc_lowp_kernels *k, size_t M, size_t N, size_t K,
                             const float *x, size_t ldx, const struct packed_i8 *p, const float *b,
                             const float *res, float *y, size_t ldy, enum vitc_act act)
{
    size_t floats = k->linear_scratch + k->scratch_per_k * K;
    float *scratch = aligned_alloc(64, round_up(floats * sizeof(float), 64));
    size_t K4 = round_up(K, VITC_I8_KGROUP);
    for (size_t m0 = 0; m0 < M; m0 += k->mc) {
        size_t rows = M - m0 < k->mc ? M - m0 : k->mc;
        for (size_t n0 = 0; n0 < N; n0 += k->nc) {
            size_t cols = N - n0 < k->nc ? N - n0 : k->nc;
            k->linear_block(rows, cols, K, x + m0 * ldx, ldx, p->w + n0 * K4, p->scale + n0,
                            p->sum + n0, b ? b + n0 : NULL, res ? res + m0 * ldy + n0 : NULL,
                            y + m0 * ldy + n0, ldy, act, scratch);
        }
    }
    free(scratch);
}

/* ---- packing and quantization, portable ---- */

static void test_pack_i8_layout(void)
{
    const size_t Ns[] = {1, 15, 16, 17, 33}, Ks[] = {1, 3, 4, 5, 9};
    for (size_t a = 0; a < 5; a++) {
        size_t N = Ns[a], K = Ks[a], K4 = round_up(K, 4), Np = round_up(N, 16), bytes = 0;
        CHECK(vitc_kernels_packed_i8_bytes(N, K, &bytes) == 0);
        CHECK(bytes == Np * K4);
        float *W = malloc(N * K * sizeof *W);
        test_fill(W, N * K, 2.0f);
        struct packed_i8 p = pack_i8(W, N, K);
        for (size_t n = 0; n < Np; n++) {
            float amax = 0;
            for (size_t k = 0; n < N && k < K; k++) {
                amax = fabsf(W[n * K + k]) > amax ? fabsf(W[n * K + k]) : amax;
            }
            int32_t sum = 0;
            for (size_t k = 0; k < K4; k++) {
                int q = p.w[(n / 16) * K4 * 16 + (k / 4) * 64 + (n % 16) * 4 + k % 4];
                int want = n < N && k < K ? (int)rintf(W[n * K + k] * (127.0f / amax)) : 0;
                CHECKF(q == want, "n %zu k %zu: %d, want %d", n, k, q, want);
                sum += q;
            }
            CHECK(p.sum[n] == sum);
            CHECK(p.scale[n] == (n < N ? amax / 127.0f : 0.0f));
        }
        free(W);
        packed_free(&p);
    }
}

static void test_pack_i8_rounding(void)
{
    /* amax 127 makes the multiplier 1, so the values are the roundings:
     * ties go to even; a zero row has scale 1 and no weights. */
    const float row[8] = {127.0f, 2.5f, 3.5f, -2.5f, -0.5f, 0.5f, 1.49f, -127.0f};
    const int8_t want[8] = {127, 2, 4, -2, 0, 0, 1, -127};
    float W[2 * 8] = {0};
    memcpy(W, row, sizeof row);
    struct packed_i8 p = pack_i8(W, 2, 8);
    int32_t sum = 0;
    for (size_t k = 0; k < 8; k++) {
        CHECKF(p.w[(k / 4) * 64 + k % 4] == want[k], "k %zu: %d", k, p.w[(k / 4) * 64 + k % 4]);
        CHECK(p.w[(k / 4) * 64 + 4 + k % 4] == 0);
        sum += want[k];
    }
    CHECK(p.sum[0] == sum && p.sum[1] == 0);
    CHECK(p.scale[0] == 1.0f && p.scale[1] == 1.0f);
    for (size_t n = 2; n < 16; n++) {
        CHECK(p.scale[n] == 0.0f && p.sum[n] == 0);
    }
    packed_free(&p);
}

static void test_quantize_row_cases(void)
{
    uint8_t q[8];
    float s;
    int32_t z;
    /* Range [-100, 155]: scale 1, zero 100, ties at .5 to even. */
    const float x[6] = {-100.0f, 155.0f, 0.5f, 1.5f, -2.5f, 0.0f};
    vitc_kernels_quantize_row_u8(x, 6, q, &s, &z);
    CHECK(s == 1.0f && z == 100);
    const uint8_t want[6] = {0, 255, 100, 102, 98, 100};
    CHECK(memcmp(q, want, 6) == 0);
    /* All zero: scale 1, zero 0. All positive (range 255, so scale 1): zero
     * 0. All negative: zero 255. Ties to even again. */
    const float zeros[4] = {0.0f, -0.0f, 0.0f, 0.0f}, pos[4] = {255.0f, 127.5f, 0.5f, 1.5f},
                neg[4] = {-255.0f, -127.5f, -0.5f, -2.5f};
    vitc_kernels_quantize_row_u8(zeros, 4, q, &s, &z);
    CHECK(s == 1.0f && z == 0 && q[0] == 0 && q[1] == 0 && q[2] == 0 && q[3] == 0);
    vitc_kernels_quantize_row_u8(pos, 4, q, &s, &z);
    CHECK(s == 1.0f && z == 0 && q[0] == 255 && q[1] == 128 && q[2] == 0 && q[3] == 2);
    vitc_kernels_quantize_row_u8(neg, 4, q, &s, &z);
    CHECK(s == 1.0f && z == 255 && q[0] == 0 && q[1] == 127 && q[2] == 255 && q[3] == 253);
}

/* ---- the AVX-512 VNNI table ---- */

#if defined(__x86_64__)

/* Rows that stress the quantizer: random of many lengths and magnitudes,
 * exact ties at .5, all zero, all positive, all negative, signed zeros,
 * NaN and infinities. kind picks one; x holds K floats. */
static void make_row(float *x, size_t K, unsigned kind)
{
    switch (kind) {
    case 0:
        test_fill(x, K, 3.0f);
        break;
    case 1: /* range exactly 255 (scale 1), the rest n + 0.5: ties */
        for (size_t k = 0; k < K; k++) {
            x[k] = (float)((int)test_urand(255) - 100) + 0.5f;
        }
        x[0] = -100.0f;
        if (K > 1) {
            x[K - 1] = 155.0f;
        }
        break;
    case 2: /* range 2.55 (inv 100): ties up to float rounding of x * inv */
        for (size_t k = 0; k < K; k++) {
            x[k] = (float)((int)test_urand(255) - 128) * 0.01f + 0.005f;
        }
        break;
    case 3:
        for (size_t k = 0; k < K; k++) {
            x[k] = k % 2 ? 0.0f : -0.0f;
        }
        break;
    case 4:
        for (size_t k = 0; k < K; k++) {
            x[k] = fabsf(test_frand()) * 50.0f + 1e-3f;
        }
        break;
    case 5:
        for (size_t k = 0; k < K; k++) {
            x[k] = -fabsf(test_frand()) * 1e-3f - 1e-7f;
        }
        break;
    case 6:
        test_fill(x, K, 1e30f);
        break;
    case 7:
        test_fill(x, K, 1e-30f);
        break;
    case 8: /* NaN somewhere: skipped by min/max, quantized to 0 */
        test_fill(x, K, 1.0f);
        x[test_urand((unsigned)K)] = NAN;
        break;
    case 9: /* +inf: scale inf, everything 0 */
        test_fill(x, K, 1.0f);
        x[test_urand((unsigned)K)] = INFINITY;
        break;
    default: /* -inf: the zero point rint(inf * 0) is NaN, mapped to 0 */
        test_fill(x, K, 1.0f);
        x[test_urand((unsigned)K)] = -INFINITY;
        break;
    }
}

/* The kernel's panel quantizer against vitc_kernels_quantize_row_u8, byte
 * for byte, with every number of rows and rows of mixed kinds; padding (k
 * past K, rows past m) zero, nothing written past the panel. */
static void test_quantize_matches_ref(void)
{
    const size_t Ks[] = {1, 2, 3, 4, 5, 15, 16, 17, 31, 32, 33, 47, 100, 768, 3072};
    float *x = malloc(8 * (3072 + 2) * sizeof *x);
    uint32_t *aq = malloc((8 * 768 + 64) * sizeof *aq);
    uint8_t *qr = malloc(3072);
    int bad = 0;
    for (size_t a = 0; a < sizeof Ks / sizeof Ks[0]; a++) {
        for (size_t m = 1; m <= 8; m++) {
            for (int rep = 0; rep < 10; rep++) {
                size_t K = Ks[a], groups = (K + 3) / 4, ldx = K + (size_t)rep % 3;
                for (size_t r = 0; r < m; r++) {
                    make_row(x + r * ldx, K, test_urand(11));
                }
                float s[8];
                int32_t z[8];
                memset(aq, 0xAB, (8 * groups + 64) * sizeof *aq);
                vitc_i8_avx512_quantize_panel(x, ldx, m, K, aq, s, z);
                const uint8_t *qb = (const uint8_t *)aq;
                int ok = 1;
                for (size_t r = 0; r < 8; r++) {
                    float sr = 0;
                    int32_t zr = 0;
                    if (r < m) {
                        vitc_kernels_quantize_row_u8(x + r * ldx, K, qr, &sr, &zr);
                    }
                    ok &= s[r] == sr && z[r] == zr;
                    for (size_t k = 0; k < 4 * groups; k++) {
                        uint8_t want = r < m && k < K ? qr[k] : 0;
                        ok &= qb[((k / 4) * 8 + r) * 4 + k % 4] == want;
                    }
                }
                for (size_t i = 8 * groups; i < 8 * groups + 64; i++) {
                    ok &= aq[i] == 0xABABABABu;
                }
                if (!ok && bad++ < 5) {
                    CHECKF(0, "K %zu m %zu rep %d", K, m, rep);
                }
            }
        }
    }
    CHECK(bad == 0);
    free(x);
    free(aq);
    free(qr);
}

/* The table against the reference int8 table on one shape; returns the
 * worst difference relative to the row's largest magnitude (result plus
 * residual). Without an activation the two must agree bit for bit (the
 * same integer sums and the same float operations in the same order). */
static double check_shape(size_t M, size_t N, size_t K, int with_bias, enum vitc_act act,
                          int res_mode, size_t pad, size_t off)
{
    const struct vitc_lowp_kernels *k = &vitc_kernels_i8_avx512;
    size_t ldx = K + pad, ldy = N + pad;
    float *xbuf = malloc((M * ldx + off) * sizeof(float)), *x = xbuf + off;
    float *W = malloc(N * K * sizeof *W), *b = malloc((N + off) * sizeof *b);
    float *rbuf = malloc((M * ldy + off) * sizeof(float)), *r = rbuf + off;
    float *ybuf = malloc((M * ldy + off) * sizeof(float)), *y = ybuf + off;
    float *yrbuf = malloc((M * ldy + off) * sizeof(float)), *yr = yrbuf + off;
    test_fill(x, M * ldx, 2.0f);
    test_fill(W, N * K, 0.1f);
    test_fill(b + off, N, 0.5f);
    test_fill(r, M * ldy, 1.0f);
    struct packed_i8 p = pack_i8(W, N, K);
    const float *bias = with_bias ? b + off : NULL;
    /* res_mode 0: none; 1: a separate array; 2: in place (res is y). */
    for (size_t i = 0; i < M * ldy; i++) {
        y[i] = yr[i] = res_mode == 2 ? r[i] : -7.0f;
    }
    linear_by_blocks(k, M, N, K, x, ldx, &p, bias,
                     res_mode == 1   ? r
                     : res_mode == 2 ? y
                                     : NULL,
                     y, ldy, act);
    linear_by_blocks(&vitc_kernels_i8_ref, M, N, K, x, ldx, &p, bias,
                     res_mode == 1   ? r
                     : res_mode == 2 ? yr
                                     : NULL,
                     yr, ldy, act);
    double worst = 0;
    for (size_t i = 0; i < M; i++) {
        /* The scale of the row's sums, before a residual can cancel them. */
        double mag = 1e-30;
        for (size_t j = 0; j < N; j++) {
            double m = fabs(yr[i * ldy + j]) + (res_mode ? fabs(r[i * ldy + j]) : 0.0);
            mag = m > mag ? m : mag;
        }
        for (size_t j = 0; j < ldy; j++) {
            double d = fabs((double)y[i * ldy + j] - yr[i * ldy + j]);
            if (j >= N || act == VITC_ACT_NONE) {
                d = y[i * ldy + j] == yr[i * ldy + j] ? 0 : INFINITY; /* exact, padding kept */
            }
            d /= mag;
            worst = d > worst || d != d ? d : worst;
        }
    }
    free(xbuf);
    free(W);
    free(b);
    free(rbuf);
    free(ybuf);
    free(yrbuf);
    packed_free(&p);
    return worst;
}

static void test_linear_shapes(void)
{
    const size_t Ms[] = {1, 2, 7, 8, 9, 12, 31, 197};
    const size_t Ns[] = {1, 15, 16, 17, 47, 48, 49, 100, 2304};
    const size_t Ks[] = {1, 2, 3, 4, 5, 31, 32, 33, 768};
    double worst = 0;
    int n = 0;
    for (size_t a = 0; a < sizeof Ms / sizeof Ms[0]; a++) {
        for (size_t c = 0; c < sizeof Ns / sizeof Ns[0]; c++) {
            for (size_t d = 0; d < sizeof Ks / sizeof Ks[0]; d++) {
                size_t M = Ms[a], N = Ns[c], K = Ks[d];
                if (M * N * K > 20000000) {
                    continue; /* the reference is slow; 197 x 100 x 768 and smaller */
                }
                /* Vary the epilogue, residual, padding and alignment with the shape. */
                unsigned pick = (unsigned)(a * 81 + c * 9 + d);
                enum vitc_act act = ALL_ACTS[pick % N_ACTS];
                int bias = pick % 2 == 0, res = (int)(pick / 2 % 3);
                size_t pad = pick % 5 == 0 ? 3 : 0, off = pick % 3 == 0;
                double e = check_shape(M, N, K, bias, act, res, pad, off);
                CHECKF(e <= 8 * FLT_EPSILON,
                       "M %zu N %zu K %zu act %d bias %d res %d pad %zu "
                       "off %zu: %.3g",
                       M, N, K, (int)act, bias, res, pad, off, e);
                worst = e > worst ? e : worst;
                n++;
            }
        }
    }
    printf("  %d shapes, worst difference %.3g of the row's magnitude\n", n, worst);
}

static void test_linear_epilogues(void)
{
    /* Every activation with every residual mode on shapes with tails in
     * rows, columns and K; the largest shapes once each. */
    double worst = 0;
    for (size_t ai = 0; ai < N_ACTS; ai++) {
        for (int res = 0; res < 3; res++) {
            for (int bias = 0; bias < 2; bias++) {
                double e = check_shape(9, 49, 33, bias, ALL_ACTS[ai], res, bias, (size_t)res % 2);
                CHECKF(e <= 8 * FLT_EPSILON, "act %d res %d bias %d: %.3g", (int)ALL_ACTS[ai], res,
                       bias, e);
                worst = e > worst ? e : worst;
            }
        }
    }
    double e = check_shape(197, 2304, 32, 1, VITC_ACT_GELU, 0, 1, 1);
    CHECKF(e <= 8 * FLT_EPSILON, "197 x 2304 x 32 gelu: %.3g", e);
    e = check_shape(31, 100, 3072, 1, VITC_ACT_NONE, 2, 0, 1);
    CHECKF(e == 0, "31 x 100 x 3072 in place: %.3g", e);
    printf("  worst difference %.3g of the row's magnitude\n", worst);
}

/* A row's result does not depend on the rows computed with it: the block of
 * 31 rows equals each row computed alone, bit for bit. */
static void test_linear_rows_independent(void)
{
    const struct vitc_lowp_kernels *k = &vitc_kernels_i8_avx512;
    size_t M = 31, N = 100, K = 77;
    float *x = malloc(M * K * sizeof *x), *W = malloc(N * K * sizeof *W), *b = malloc(N * 4);
    float *y = malloc(M * N * sizeof *y), *y1 = malloc(M * N * sizeof *y1);
    test_fill(x, M * K, 1.0f);
    test_fill(W, N * K, 1.0f);
    test_fill(b, N, 1.0f);
    struct packed_i8 p = pack_i8(W, N, K);
    linear_by_blocks(k, M, N, K, x, K, &p, b, NULL, y, N, VITC_ACT_GELU);
    for (size_t i = 0; i < M; i++) {
        linear_by_blocks(k, 1, N, K, x + i * K, K, &p, b, NULL, y1 + i * N, N, VITC_ACT_GELU);
    }
    CHECK(memcmp(y, y1, M * N * sizeof *y) == 0);
    free(x);
    free(W);
    free(b);
    free(y);
    free(y1);
    packed_free(&p);
}

/* The backend picks this table for int8 on this CPU, and its results are
 * the same bit for bit with 1, 2 and 3 threads and equal the table's own
 * block-by-block result. */
static void test_backend_threads(void)
{
    CHECK(vitc_cpu_lowp_kernels(VITC_PRECISION_INT8, &vitc_kernels_avx512) ==
          &vitc_kernels_i8_avx512);
    size_t M = 197, N = 2304, K = 768;
    float *x = malloc(M * K * sizeof *x), *W = malloc(N * K * sizeof *W), *b = malloc(N * 4);
    float *y[3], *yt = malloc(M * N * sizeof *yt);
    test_fill(x, M * K, 1.0f);
    test_fill(W, N * K, 0.05f);
    test_fill(b, N, 1.0f);
    struct vitc_linear l = {.weight = W, .bias = b, .n_out = (int)N, .n_in = (int)K};
    CHECK(vitc_cpu_prepare_linear(&l, VITC_PRECISION_INT8) == VITC_OK);
    for (int t = 0; t < 3; t++) {
        struct vitc_cpu_backend_params bp = {.n_threads = t + 1,
                                             .max_tokens = 4,
                                             .max_head_dim = 4,
                                             .max_k = K,
                                             .precision = VITC_PRECISION_INT8};
        struct vitc_be *be = NULL;
        y[t] = malloc(M * N * sizeof *y[t]);
        CHECK(vitc_backend_cpu_create(&bp, &be) == VITC_OK);
        if (be) {
            CHECK(be->ops->linear(be, &l, x, M, y[t], VITC_ACT_GELU, NULL) == VITC_OK);
            vitc_backend_free(be);
        }
    }
    CHECK(memcmp(y[0], y[1], M * N * sizeof *yt) == 0);
    CHECK(memcmp(y[0], y[2], M * N * sizeof *yt) == 0);
    struct packed_i8 p = pack_i8(W, N, K);
    linear_by_blocks(&vitc_kernels_i8_avx512, M, N, K, x, K, &p, b, NULL, yt, N, VITC_ACT_GELU);
    CHECK(memcmp(y[0], yt, M * N * sizeof *yt) == 0);
    vitc_cpu_unprepare_linear(&l);
    packed_free(&p);
    for (int t = 0; t < 3; t++) {
        free(y[t]);
    }
    free(yt);
    free(x);
    free(W);
    free(b);
}

#endif /* __x86_64__ */

int main(void)
{
    *test_rng() = 0x853C49E6748FEA9Bull;
    RUN(test_pack_i8_layout);
    RUN(test_pack_i8_rounding);
    RUN(test_quantize_row_cases);
#if defined(__x86_64__)
    if (vitc_cpu_has(VITC_ISA_AVX512) && vitc_cpu_has_ext(VITC_EXT_AVX512_VNNI)) {
        RUN(test_quantize_matches_ref);
        RUN(test_linear_shapes);
        RUN(test_linear_epilogues);
        RUN(test_linear_rows_independent);
        RUN(test_backend_threads);
    } else {
        SKIP(test_quantize_matches_ref, "this CPU has no AVX-512 VNNI");
        SKIP(test_linear_shapes, "this CPU has no AVX-512 VNNI");
        SKIP(test_linear_epilogues, "this CPU has no AVX-512 VNNI");
        SKIP(test_linear_rows_independent, "this CPU has no AVX-512 VNNI");
        SKIP(test_backend_threads, "this CPU has no AVX-512 VNNI");
    }
#else
    SKIP(test_quantize_matches_ref, "AVX-512 VNNI is x86-64 only");
#endif
    return TEST_REPORT();
}
