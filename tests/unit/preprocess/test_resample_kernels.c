/* SPDX-License-Identifier: MIT
 *
 * test_resample_kernels.c — the SIMD resize passes (resample_avx2.c,
 * resample_avx512.c) against the scalar reference (resample_ref.c), bit
 * for bit: the kernels directly on random taps over awkward widths, tap
 * counts and row counts, with buffers sized exactly so that ASan sees any
 * read or write past them; and vitc_image_resize end to end with VITC_CPU
 * forcing each table, every filter, up and down, widths 1..70. Tables this
 * CPU cannot run are skipped and reported.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/cpu_features.h"
#include "preprocess/resample_kernels.h"
#include "test.h"
#include "vitc.h"

static const struct {
    const char *name;
    enum vitc_cpu_isa isa;
    const struct vitc_resample_kernels *k;
} tables[] = {
#if defined(__x86_64__)
    {"avx2", VITC_ISA_AVX2, &vitc_resample_avx2},
    {"avx512", VITC_ISA_AVX512, &vitc_resample_avx512},
#endif
    {"ref", VITC_ISA_REF, &vitc_resample_ref},
};
#define N_TABLES (sizeof tables / sizeof tables[0])

/* ---- helpers ---- */

static uint8_t *random_bytes(size_t n)
{
    uint8_t *p = malloc(n ? n : 1);
    for (size_t i = 0; i < n; i++) {
        /* Mostly full range, with runs of 0 and 255 for the clip. */
        unsigned r = test_urand(8);
        p[i] = r == 0 ? 0 : r == 1 ? 255 : (uint8_t)test_urand(256);
    }
    return p;
}

/* Taps for out_size outputs over in_size inputs: each output a random
 * window of 0..max_taps inputs and weights whose magnitudes sum to at most
 * 1.5 in fixed point (filters with negative lobes overshoot), so the sums
 * fit in 32 bits as real coefficients do. */
static void random_coeffs(int in_size, int out_size, int max_taps, struct vitc_resample_coeffs *c)
{
    c->ksize = max_taps;
    c->bounds = malloc((size_t)out_size * 2 * sizeof(int));
    c->k = calloc((size_t)out_size * (size_t)max_taps + 1, sizeof(int32_t));
    for (int o = 0; o < out_size; o++) {
        int n = (int)test_urand((unsigned)(max_taps < in_size ? max_taps : in_size) + 1);
        int xmin = (int)test_urand((unsigned)(in_size - n) + 1);
        int budget = 3 << (VITC_RESAMPLE_PRECISION_BITS - 1);
        c->bounds[2 * o] = xmin;
        c->bounds[2 * o + 1] = n;
        for (int i = 0; i < n; i++) {
            int w = (int)test_urand((unsigned)(budget / (n - i)) + 1);
            budget -= w;
            c->k[(size_t)o * max_taps + i] = test_urand(4) == 0 ? -w : w;
        }
    }
}

static void coeffs_free(struct vitc_resample_coeffs *c)
{
    free(c->bounds);
    free(c->k);
}

/* ---- the kernels on random taps ---- */

static void test_horizontal(void)
{
    int cases = 0;
    *test_rng() = 12;
    for (int in_w = 1; in_w <= 70; in_w++) {
        int out_w = 1 + (int)test_urand(70), rows = 1 + (int)test_urand(9);
        int max_taps = 1 + (int)test_urand(in_w < 40 ? (unsigned)in_w + 2 : 40u);
        size_t sstride = 3 * (size_t)in_w + test_urand(5),
               dstride = 3 * (size_t)out_w + test_urand(3);
        /* exact sizes: the last row ends the buffer */
        size_t sbytes = (size_t)(rows - 1) * sstride + 3 * (size_t)in_w;
        size_t dbytes = (size_t)(rows - 1) * dstride + 3 * (size_t)out_w;
        struct vitc_resample_coeffs c;
        uint8_t *src = random_bytes(sbytes), *want = malloc(dbytes), *got = malloc(dbytes);
        random_coeffs(in_w, out_w, max_taps, &c);
        memset(want, 0xAB, dbytes);
        vitc_resample_ref.horizontal(src, sstride, want, dstride, out_w, rows, &c);
        for (size_t t = 0; t < N_TABLES; t++) {
            if (!vitc_cpu_has(tables[t].isa)) {
                continue;
            }
            memset(got, 0xAB, dbytes);
            tables[t].k->horizontal(src, sstride, got, dstride, out_w, rows, &c);
            CHECKF(memcmp(got, want, dbytes) == 0, "%s: %d -> %d px, %d rows, taps <= %d",
                   tables[t].name, in_w, out_w, rows, max_taps);
            cases++;
        }
        coeffs_free(&c);
        free(src);
        free(want);
        free(got);
    }
    CHECK(cases >= 70);
}

static void test_vertical(void)
{
    *test_rng() = 34;
    for (int w = 1; w <= 70; w++) {
        int in_h = 1 + (int)test_urand(12), out_h = 1 + (int)test_urand(9);
        int max_taps = 1 + (int)test_urand((unsigned)in_h + 2);
        int row_bytes = 3 * w;
        size_t sstride = (size_t)row_bytes + test_urand(5),
               dstride = (size_t)row_bytes + test_urand(3);
        size_t sbytes = (size_t)(in_h - 1) * sstride + (size_t)row_bytes;
        size_t dbytes = (size_t)(out_h - 1) * dstride + (size_t)row_bytes;
        struct vitc_resample_coeffs c;
        uint8_t *src = random_bytes(sbytes), *want = malloc(dbytes), *got = malloc(dbytes);
        random_coeffs(in_h, out_h, max_taps, &c);
        memset(want, 0xAB, dbytes);
        vitc_resample_ref.vertical(src, sstride, want, dstride, row_bytes, out_h, &c);
        for (size_t t = 0; t < N_TABLES; t++) {
            if (!vitc_cpu_has(tables[t].isa)) {
                continue;
            }
            memset(got, 0xAB, dbytes);
            tables[t].k->vertical(src, sstride, got, dstride, row_bytes, out_h, &c);
            CHECKF(memcmp(got, want, dbytes) == 0, "%s: %d bytes, %d -> %d rows, taps <= %d",
                   tables[t].name, row_bytes, in_h, out_h, max_taps);
        }
        coeffs_free(&c);
        free(src);
        free(want);
        free(got);
    }
}

/* ---- vitc_image_resize end to end, VITC_CPU forcing each table ---- */

/* src resized with the table VITC_CPU names; NULL on failure. */
static vitc_image *resize_with(const char *table, const vitc_image *src, int w, int h, int filter)
{
    vitc_image *out = NULL;
    setenv("VITC_CPU", table, 1);
    if (vitc_image_resize(src, w, h, filter, &out) != VITC_OK) {
        out = NULL;
    }
    unsetenv("VITC_CPU");
    return out;
}

static int same_image(const vitc_image *a, const vitc_image *b)
{
    if (!a || !b || a->width != b->width || a->height != b->height) {
        return 0;
    }
    for (int y = 0; y < a->height; y++) {
        if (memcmp(a->data + (size_t)y * a->stride, b->data + (size_t)y * b->stride,
                   (size_t)a->width * 3) != 0) {
            return 0;
        }
    }
    return 1;
}

static void test_resize_tables(void)
{
    *test_rng() = 56;
    for (int filter = VITC_RESAMPLE_LANCZOS; filter <= VITC_RESAMPLE_HAMMING; filter++) {
        for (int in_w = 1; in_w <= 70; in_w += 1 + (int)test_urand(3)) {
            int in_h = 1 + (int)test_urand(40);
            /* down, up, and a big reduction of one axis */
            int sizes[3][2] = {{1 + (int)test_urand((unsigned)in_w), 1 + (int)test_urand(80)},
                               {in_w + 1 + (int)test_urand(60), 1 + (int)test_urand(9)},
                               {1 + (int)test_urand(3), in_h + (int)test_urand(5)}};
            /* a source with a padded stride, at an odd address */
            size_t stride = 3 * (size_t)in_w + 1 + test_urand(7);
            uint8_t *buf = random_bytes(stride * (size_t)in_h + 1);
            vitc_image src = {in_w, in_h, stride, buf + 1};
            for (int s = 0; s < 3; s++) {
                int w = sizes[s][0], h = sizes[s][1];
                vitc_image *want = resize_with("ref", &src, w, h, filter);
                CHECK(want != NULL);
                for (size_t t = 0; t < N_TABLES; t++) {
                    if (!vitc_cpu_has(tables[t].isa)) {
                        continue;
                    }
                    vitc_image *got = resize_with(tables[t].name, &src, w, h, filter);
                    CHECKF(same_image(got, want), "%s: filter %d, %dx%d -> %dx%d", tables[t].name,
                           filter, in_w, in_h, w, h);
                    vitc_image_free(got);
                }
                vitc_image_free(want);
            }
            free(buf);
        }
    }
}

/* The table resize uses follows VITC_CPU, and falls back to the best one
 * this CPU runs when VITC_CPU names none it can run. */
static void test_select(void)
{
    setenv("VITC_CPU", "ref", 1);
    CHECK(vitc_resample_kernels_select() == &vitc_resample_ref);
    setenv("VITC_CPU", "sse9", 1);
    const struct vitc_resample_kernels *k = vitc_resample_kernels_select();
    unsetenv("VITC_CPU");
    CHECK(k == vitc_resample_kernels_select());
    for (size_t t = 0; t < N_TABLES; t++) {
        setenv("VITC_CPU", tables[t].name, 1);
        k = vitc_resample_kernels_select();
        CHECK(!vitc_cpu_has(tables[t].isa) || k == tables[t].k);
        unsetenv("VITC_CPU");
    }
}

int main(void)
{
    for (size_t t = 0; t < N_TABLES; t++) {
        if (!vitc_cpu_has(tables[t].isa)) {
            printf("skip %s: this CPU does not run it\n", tables[t].name);
        }
    }
    RUN(test_horizontal);
    RUN(test_vertical);
    RUN(test_resize_tables);
    RUN(test_select);
    return TEST_REPORT();
}
