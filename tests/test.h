/* SPDX-License-Identifier: MIT
 *
 * test.h — the whole test harness: TEST functions made of CHECKs, run by
 * RUN, and a summary line "N passed, N failed" with a non-zero exit when
 * anything failed. A test counts once, failed if any of its CHECKs failed.
 * Test programs run from the repository root (tests/data/... paths).
 */
#ifndef VITC_TEST_H
#define VITC_TEST_H

#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "vitc.h"

static int test_passed, test_failed, test_current_failed;
static const char *test_current_name;

#define CHECK(cond)                                                                    \
    do {                                                                               \
        if (!(cond)) {                                                                 \
            fprintf(stderr, "  FAIL %s: %s:%d: %s\n", test_current_name, __FILE__,    \
                    __LINE__, #cond);                                                  \
            test_current_failed = 1;                                                   \
        }                                                                              \
    } while (0)

/* CHECK with a printf-style explanation on failure. */
#define CHECKF(cond, ...)                                                              \
    do {                                                                               \
        if (!(cond)) {                                                                 \
            fprintf(stderr, "  FAIL %s: %s:%d: %s: ", test_current_name, __FILE__,    \
                    __LINE__, #cond);                                                  \
            fprintf(stderr, __VA_ARGS__);                                              \
            fputc('\n', stderr);                                                       \
            test_current_failed = 1;                                                   \
        }                                                                              \
    } while (0)

#define RUN(fn)                                                                        \
    do {                                                                               \
        test_current_name = #fn;                                                       \
        test_current_failed = 0;                                                       \
        fn();                                                                          \
        if (test_current_failed) {                                                     \
            test_failed++;                                                             \
            fprintf(stderr, "not ok %s\n", #fn);                                       \
        } else {                                                                       \
            test_passed++;                                                             \
            printf("ok %s\n", #fn);                                                    \
        }                                                                              \
    } while (0)

/* Records a skipped test with its reason (counted neither way). */
#define SKIP(fn, why) printf("skip %s: %s\n", #fn, why)

#define TEST_REPORT()                                                                  \
    (printf("%d passed, %d failed\n", test_passed, test_failed), test_failed ? 1 : 0)

/* ---- seeded test data (an LCG: the same numbers on every machine) ---- */

/* The generator's state; a test may reseed it by assigning *test_rng(). */
static inline uint64_t *test_rng(void)
{
    static uint64_t state = 0x9E3779B97F4A7C15ull;
    return &state;
}

/* Uniform in [-1, 1), 24 bits. */
static inline float test_frand(void)
{
    uint64_t *s = test_rng();
    *s = *s * 6364136223846793005ull + 1442695040888963407ull;
    return (float)((double)(*s >> 40) / (double)(1ull << 23) - 1.0);
}

/* Uniform in [0, n), n > 0. */
static inline unsigned test_urand(unsigned n)
{
    uint64_t *s = test_rng();
    *s = *s * 6364136223846793005ull + 1442695040888963407ull;
    return (unsigned)((*s >> 33) % n);
}

/* x[i] = scale * test_frand(). */
static inline void test_fill(float *x, size_t n, float scale)
{
    for (size_t i = 0; i < n; i++) {
        x[i] = scale * test_frand();
    }
}

static inline float test_from_bits(uint32_t u)
{
    float f;
    memcpy(&f, &u, sizeof f);
    return f;
}

static inline uint32_t test_to_bits(float f)
{
    uint32_t u;
    memcpy(&u, &f, sizeof u);
    return u;
}

/* The .npy file dir/name, or NULL when it cannot be read. */
static inline vitc_tensor *test_load_npy(const char *dir, const char *name)
{
    char path[512];
    vitc_tensor *t = NULL;
    snprintf(path, sizeof path, "%s/%s", dir, name);
    return vitc_npy_load(path, &t) == VITC_OK ? t : NULL;
}

/* Largest |a[i] - b[i]| over n floats. */
static inline double test_max_abs_diff(const float *a, const float *b, size_t n)
{
    double m = 0;
    for (size_t i = 0; i < n; i++) {
        double d = fabs((double)a[i] - (double)b[i]);
        if (d > m || d != d) {
            m = d;
        }
    }
    return m;
}

/* Reads a whole file into a malloc'd buffer, its length in *n; NULL on failure. */
static inline unsigned char *test_read_file(const char *path, size_t *n)
{
    FILE *f = fopen(path, "rb");
    if (!f) {
        return NULL;
    }
    fseek(f, 0, SEEK_END);
    long size = ftell(f);
    fseek(f, 0, SEEK_SET);
    unsigned char *buf = malloc(size > 0 ? (size_t)size : 1);
    if (buf && fread(buf, 1, (size_t)size, f) != (size_t)size) {
        free(buf);
        buf = NULL;
    }
    fclose(f);
    *n = (size_t)size;
    return buf;
}

#endif /* VITC_TEST_H */
