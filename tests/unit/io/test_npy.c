/* SPDX-License-Identifier: MIT
 *
 * test_npy.c — the .npy reader and writer: round trips, byte-identity with
 * numpy's own files (the fixtures), strict rejection of bad headers, and the
 * writer's atomic replace (failures never touch an existing target).
 * Uses the public API plus err.h's allocation-failure hook.
 */
#include <dirent.h>
#include <errno.h>
#include <signal.h>
#include <stdint.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <unistd.h>

#include "base/err.h"
#include "test.h"
#include "vitc.h"

static char tmpdir[256];

/* ---- helpers ---- */

static void tmp_path(char *buf, size_t n, const char *name)
{
    snprintf(buf, n, "%s/%s", tmpdir, name);
}

static int write_file(const char *path, const void *data, size_t n)
{
    FILE *f = fopen(path, "wb");
    if (!f) {
        return -1;
    }
    size_t w = fwrite(data, 1, n, f);
    return fclose(f) == 0 && w == n ? 0 : -1;
}

/* Entries of tmpdir whose name starts with '.' other than "." and ".." (leftover temp files). */
static int count_hidden_files(void)
{
    DIR *d = opendir(tmpdir);
    int n = 0;
    struct dirent *e;
    while (d && (e = readdir(d))) {
        if (e->d_name[0] == '.' && strcmp(e->d_name, ".") && strcmp(e->d_name, "..")) {
            n++;
        }
    }
    if (d) {
        closedir(d);
    }
    return n;
}

/* Builds a v1.0 .npy from a header dict text (padded like numpy) and n data bytes. */
static size_t build_npy(unsigned char *buf, int major, const char *dict, const void *data, size_t n)
{
    size_t len_size = major == 1 ? 2 : 4;
    size_t dlen = strlen(dict);
    size_t hlen = dlen + 1;
    size_t pad = (64 - (8 + len_size + hlen) % 64) % 64;
    hlen += pad;
    memcpy(buf, "\x93NUMPY", 6);
    buf[6] = (unsigned char)major;
    buf[7] = 0;
    for (size_t i = 0; i < len_size; i++) {
        buf[8 + i] = (unsigned char)(hlen >> (8 * i));
    }
    size_t at = 8 + len_size;
    memcpy(buf + at, dict, dlen);
    memset(buf + at + dlen, ' ', pad);
    buf[at + hlen - 1] = '\n';
    at += hlen;
    if (n) {
        memcpy(buf + at, data, n);
    }
    return at + n;
}

/* Writes a built .npy under name and loads it; returns the status, *out the tensor. */
static vitc_status load_built(const char *name, int major, const char *dict, const void *data,
                              size_t n, vitc_tensor **out)
{
    static unsigned char buf[8192];
    char path[512];
    tmp_path(path, sizeof path, name);
    size_t size = build_npy(buf, major, dict, data, n);
    if (write_file(path, buf, size) != 0) {
        return VITC_ERR_IO;
    }
    vitc_status st = vitc_npy_load(path, out);
    unlink(path);
    return st;
}

/* Loads a malformed .npy and checks the status, that *out stays NULL, and that the message
 * names the file and contains `why`. */
static void expect_reject(const char *name, int major, const char *dict, size_t n_data,
                          vitc_status want, const char *why)
{
    static float zeros[1024];
    vitc_tensor *t = NULL;
    vitc_status st = load_built(name, major, dict, zeros, n_data, &t);
    CHECKF(st == want, "%s: status %d, want %d (%s)", name, st, want, vitc_last_error());
    CHECK(t == NULL);
    CHECKF(strstr(vitc_last_error(), name) != NULL, "message names the file: %s",
           vitc_last_error());
    CHECKF(strstr(vitc_last_error(), why) != NULL, "message says '%s': %s", why, vitc_last_error());
    vitc_tensor_free(t);
}

/* ---- tests ---- */

static void test_round_trip_shapes(void)
{
    static const size_t shapes[][8] = {
        {5}, {2, 3}, {1, 17, 32}, {2, 3, 4, 5}, {1, 1, 1, 1, 1, 1, 1, 2}, {0}, {4, 0, 3},
    };
    static const size_t ndims[] = {1, 2, 3, 4, 8, 1, 3};
    char path[512];
    tmp_path(path, sizeof path, "rt.npy");
    for (size_t s = 0; s < sizeof ndims / sizeof ndims[0]; s++) {
        size_t n = 1;
        for (size_t i = 0; i < ndims[s]; i++) {
            n *= shapes[s][i];
        }
        float *data = malloc((n ? n : 1) * sizeof *data);
        for (size_t i = 0; i < n; i++) {
            data[i] = (float)i * 0.25f - 3.0f;
        }
        vitc_tensor *t = NULL;
        CHECKF(vitc_npy_save(path, data, ndims[s], shapes[s]) == VITC_OK, "%s", vitc_last_error());
        CHECKF(vitc_npy_load(path, &t) == VITC_OK, "%s", vitc_last_error());
        if (t) {
            CHECK(t->dtype == VITC_DTYPE_F32);
            CHECK(t->ndim == ndims[s]);
            CHECK(memcmp(t->shape, shapes[s], ndims[s] * sizeof(size_t)) == 0);
            CHECK(t->n_elems == n);
            CHECK(n == 0 || memcmp(t->data, data, n * sizeof *data) == 0);
        }
        vitc_tensor_free(t);
        free(data);
    }
    /* A 0-d array (numpy scalar): shape (), one element. */
    float one = 42.5f;
    vitc_tensor *t = NULL;
    CHECK(vitc_npy_save(path, &one, 0, NULL) == VITC_OK);
    CHECK(vitc_npy_load(path, &t) == VITC_OK);
    CHECK(t && t->ndim == 0 && t->n_elems == 1 && ((float *)t->data)[0] == 42.5f);
    vitc_tensor_free(t);
    unlink(path);
    CHECK(count_hidden_files() == 0);
}

/* Saving a fixture's data with its shape reproduces numpy's file byte for byte. */
static void test_matches_numpy_bytes(void)
{
    static const char *files[] = {
        "tests/data/models/tiny-in21k/inputs.pixel_values.npy",
        "tests/data/models/tiny-in21k/expected.last_hidden_state.npy",
        "tests/data/models/tiny-in21k/expected.pooler_output.npy",
        "tests/data/models/tiny-classifier/expected.logits.npy",
        "tests/data/models/tiny-classifier/expected.hidden_states.npy",
    };
    char path[512];
    tmp_path(path, sizeof path, "same.npy");
    for (size_t i = 0; i < sizeof files / sizeof files[0]; i++) {
        vitc_tensor *t = NULL;
        CHECKF(vitc_npy_load(files[i], &t) == VITC_OK, "%s", vitc_last_error());
        if (!t) {
            continue;
        }
        CHECK(t->dtype == VITC_DTYPE_F32);
        CHECK(vitc_npy_save(path, t->data, t->ndim, t->shape) == VITC_OK);
        size_t na = 0, nb = 0;
        unsigned char *a = test_read_file(files[i], &na);
        unsigned char *b = test_read_file(path, &nb);
        CHECKF(a && b && na == nb && memcmp(a, b, na) == 0, "%s differs from numpy's bytes",
               files[i]);
        free(a);
        free(b);
        vitc_tensor_free(t);
    }
    unlink(path);
}

static void test_fixtures(void)
{
    vitc_tensor *t = NULL;
    CHECKF(vitc_npy_load("tests/data/models/tiny-in21k/inputs.pixel_values.npy", &t) == VITC_OK,
           "%s", vitc_last_error());
    CHECK(t && t->dtype == VITC_DTYPE_F32 && t->ndim == 4 && t->shape[0] == 3 && t->shape[1] == 3 &&
          t->shape[2] == 32 && t->shape[3] == 32 && t->n_elems == 9216);
    vitc_tensor_free(t);
    t = NULL;
    CHECKF(vitc_npy_load("tests/data/preprocess/expected/cmyk.jpg.resized_u8.npy", &t) == VITC_OK,
           "%s", vitc_last_error());
    CHECK(t && t->dtype == VITC_DTYPE_U8 && t->ndim == 3 && t->shape[0] == 224 &&
          t->shape[1] == 224 && t->shape[2] == 3);
    vitc_tensor_free(t);
    t = NULL;
    CHECKF(vitc_npy_load("tests/data/preprocess/u8_to_pixel_value_lut.npy", &t) == VITC_OK, "%s",
           vitc_last_error());
    /* LUT[0] = (0/255 - 0.5) / 0.5 = -1, LUT[255] = 1. */
    CHECK(t && t->ndim == 1 && t->shape[0] == 256 && ((float *)t->data)[0] == -1.0f &&
          ((float *)t->data)[255] == 1.0f);
    vitc_tensor_free(t);
}

static void test_versions_and_spellings(void)
{
    const float v[6] = {1, 2, 3, 4, 5, 6};
    vitc_tensor *t = NULL;
    CHECKF(load_built("v2.npy", 2, "{'descr': '<f4', 'fortran_order': False, 'shape': (2, 3), }", v,
                      sizeof v, &t) == VITC_OK,
           "%s", vitc_last_error());
    CHECK(t && t->ndim == 2 && t->shape[0] == 2 && ((float *)t->data)[5] == 6.0f);
    vitc_tensor_free(t);
    t = NULL;
    /* v3.0 (utf-8 header), double quotes, other key order, no trailing comma. */
    CHECKF(load_built("v3.npy", 3,
                      "{\"shape\": (6,), \"fortran_order\": False, \"descr\": \"<f4\"}", v,
                      sizeof v, &t) == VITC_OK,
           "%s", vitc_last_error());
    CHECK(t && t->ndim == 1 && t->shape[0] == 6);
    vitc_tensor_free(t);
    t = NULL;
    const unsigned char u[4] = {0, 1, 254, 255};
    CHECKF(load_built("u1.npy", 1, "{'descr': '<u1', 'fortran_order': False, 'shape': (2,2), }", u,
                      sizeof u, &t) == VITC_OK,
           "%s", vitc_last_error());
    CHECK(t && t->dtype == VITC_DTYPE_U8 && ((unsigned char *)t->data)[2] == 254);
    vitc_tensor_free(t);
}

static void test_bad_headers(void)
{
    const char *ok_f4 = "{'descr': '<f4', 'fortran_order': False, 'shape': (2,), }";
    /* Wrong magic and versions. */
    unsigned char buf[256];
    char path[512];
    size_t n = build_npy(buf, 1, ok_f4, "\0\0\0\0\0\0\0\0", 8);
    buf[1] = 'X';
    tmp_path(path, sizeof path, "magic.npy");
    write_file(path, buf, n);
    vitc_tensor *t = NULL;
    CHECK(vitc_npy_load(path, &t) == VITC_ERR_FORMAT && t == NULL);
    CHECK(strstr(vitc_last_error(), "magic.npy") && strstr(vitc_last_error(), "magic"));
    n = build_npy(buf, 1, ok_f4, "\0\0\0\0\0\0\0\0", 8);
    buf[6] = 4;
    write_file(path, buf, n);
    CHECK(vitc_npy_load(path, &t) == VITC_ERR_UNSUPPORTED && t == NULL);
    CHECK(strstr(vitc_last_error(), "version 4.0"));
    /* Truncated inside the prefix, the header, and the data. */
    n = build_npy(buf, 1, ok_f4, "\0\0\0\0\0\0\0\0", 8);
    size_t cuts[] = {0, 5, 9, 40, n - 1};
    for (size_t i = 0; i < sizeof cuts / sizeof cuts[0]; i++) {
        write_file(path, buf, cuts[i]);
        CHECKF(vitc_npy_load(path, &t) == VITC_ERR_FORMAT && t == NULL, "cut at %zu: %s", cuts[i],
               vitc_last_error());
        CHECKF(strstr(vitc_last_error(), "truncated") != NULL, "%s", vitc_last_error());
    }
    /* Header length beyond the bound. */
    memcpy(buf, "\x93NUMPY\x02\x00\x00\x00\x20\x00", 12);
    write_file(path, buf, 12);
    CHECK(vitc_npy_load(path, &t) == VITC_ERR_FORMAT && strstr(vitc_last_error(), "exceeds"));
    unlink(path);
    CHECK(vitc_npy_load("tests/data/no-such-file.npy", &t) == VITC_ERR_IO && t == NULL);
    CHECK(strstr(vitc_last_error(), "no-such-file.npy") != NULL);
    CHECK(vitc_npy_load("tests/data", &t) == VITC_ERR_IO && t == NULL);

    expect_reject("be.npy", 1, "{'descr': '>f4', 'fortran_order': False, 'shape': (2,), }", 8,
                  VITC_ERR_UNSUPPORTED, "big-endian");
    expect_reject("f8.npy", 1, "{'descr': '<f8', 'fortran_order': False, 'shape': (1,), }", 8,
                  VITC_ERR_UNSUPPORTED, "unsupported dtype '<f8'");
    expect_reject("i4.npy", 1, "{'descr': '<i4', 'fortran_order': False, 'shape': (2,), }", 8,
                  VITC_ERR_UNSUPPORTED, "unsupported dtype");
    expect_reject("fo.npy", 1, "{'descr': '<f4', 'fortran_order': True, 'shape': (2,), }", 8,
                  VITC_ERR_UNSUPPORTED, "fortran_order");
    expect_reject("ovf.npy", 1,
                  "{'descr': '<f4', 'fortran_order': False, 'shape': "
                  "(4294967296, 4294967296, 2), }",
                  8, VITC_ERR_FORMAT, "overflow");
    expect_reject("ovf4.npy", 1,
                  "{'descr': '<f4', 'fortran_order': False, 'shape': "
                  "(4611686018427387904,), }",
                  8, VITC_ERR_FORMAT, "overflow");
    expect_reject("big.npy", 1,
                  "{'descr': '<f4', 'fortran_order': False, 'shape': "
                  "(99999999999999999999999,), }",
                  8, VITC_ERR_FORMAT, "too large");
    expect_reject("dims.npy", 1,
                  "{'descr': '<f4', 'fortran_order': False, 'shape': "
                  "(1,1,1,1,1,1,1,1,2), }",
                  8, VITC_ERR_UNSUPPORTED, "dimensions");
    expect_reject("short.npy", 1, "{'descr': '<f4', 'fortran_order': False, 'shape': (3,), }", 8,
                  VITC_ERR_FORMAT, "truncated");
    expect_reject("long.npy", 1, "{'descr': '<f4', 'fortran_order': False, 'shape': (1,), }", 8,
                  VITC_ERR_FORMAT, "trailing bytes");
    expect_reject("nokey.npy", 1, "{'descr': '<f4', 'shape': (2,), }", 8, VITC_ERR_FORMAT,
                  "missing 'fortran_order'");
    expect_reject("extra.npy", 1,
                  "{'descr': '<f4', 'fortran_order': False, 'shape': (2,), "
                  "'x': 1}",
                  8, VITC_ERR_FORMAT, "unexpected key");
    expect_reject("twice.npy", 1,
                  "{'descr': '<f4', 'descr': '<f4', 'fortran_order': False, "
                  "'shape': (2,)}",
                  8, VITC_ERR_FORMAT, "repeated");
    expect_reject("notuple.npy", 1, "{'descr': '<f4', 'fortran_order': False, 'shape': (2)}", 8,
                  VITC_ERR_FORMAT, "not a tuple");
    expect_reject("neg.npy", 1, "{'descr': '<f4', 'fortran_order': False, 'shape': (-2,)}", 8,
                  VITC_ERR_FORMAT, "non-negative");
    expect_reject("trail.npy", 1, "{'descr': '<f4', 'fortran_order': False, 'shape': (2,)} x", 8,
                  VITC_ERR_FORMAT, "trailing");
    expect_reject("nodict.npy", 1, "['descr', '<f4']", 8, VITC_ERR_FORMAT, "expected '{'");
    expect_reject("quote.npy", 1, "{'descr: '<f4', 'fortran_order': False, 'shape': (2,)}", 8,
                  VITC_ERR_FORMAT, "bad .npy header");
    CHECK(count_hidden_files() == 0);
}

static void test_save_bad_path(void)
{
    const float v[3] = {1, 2, 3};
    const size_t shape[1] = {3};
    char path[512];
    tmp_path(path, sizeof path, "missing-dir/out.npy");
    CHECK(vitc_npy_save(path, v, 1, shape) == VITC_ERR_IO);
    CHECKF(strstr(vitc_last_error(), path) && strstr(vitc_last_error(), strerror(ENOENT)), "%s",
           vitc_last_error());
    /* A regular file where a directory should be. */
    char file[512];
    tmp_path(file, sizeof file, "plain");
    write_file(file, "x", 1);
    tmp_path(path, sizeof path, "plain/out.npy");
    CHECK(vitc_npy_save(path, v, 1, shape) == VITC_ERR_IO);
    CHECKF(strstr(vitc_last_error(), strerror(ENOTDIR)) != NULL, "%s", vitc_last_error());
    unlink(file);
    CHECK(vitc_npy_save(NULL, v, 1, shape) == VITC_ERR_INVALID_ARG);
    CHECK(vitc_npy_save(file, NULL, 1, shape) == VITC_ERR_INVALID_ARG);
    CHECK(vitc_npy_save(file, v, 9, shape) == VITC_ERR_INVALID_ARG);
    CHECK(access(file, F_OK) != 0);
}

/* Failures while writing (a file-size limit makes write() fail half way, an allocation
 * fails) leave an existing target byte for byte as it was and no temporary file behind. */
static void test_save_failure_keeps_target(void)
{
    char path[512];
    tmp_path(path, sizeof path, "keep.npy");
    const float old[2] = {7, 8};
    const size_t old_shape[1] = {2};
    CHECK(vitc_npy_save(path, old, 1, old_shape) == VITC_OK);
    size_t n_before = 0, n_after = 0;
    unsigned char *before = test_read_file(path, &n_before);

    enum { N = 100000 };
    float *big = calloc(N, sizeof *big);
    const size_t big_shape[1] = {N};
    struct rlimit saved, small;
    getrlimit(RLIMIT_FSIZE, &saved);
    small = saved;
    small.rlim_cur = 4096;
    void (*old_handler)(int) = signal(SIGXFSZ, SIG_IGN);
    if (setrlimit(RLIMIT_FSIZE, &small) == 0) {
        vitc_status st = vitc_npy_save(path, big, 1, big_shape);
        setrlimit(RLIMIT_FSIZE, &saved);
        CHECKF(st == VITC_ERR_IO, "status %d: %s", st, vitc_last_error());
        CHECKF(strstr(vitc_last_error(), "keep.npy") && strstr(vitc_last_error(), "write error"),
               "%s", vitc_last_error());
    } else {
        printf("skip part of %s: setrlimit failed\n", test_current_name);
    }
    signal(SIGXFSZ, old_handler);

    for (size_t k = 1; k <= 3; k++) {
        vitc_test_fail_alloc_after(k);
        vitc_status st = vitc_npy_save(path, big, 1, big_shape);
        vitc_test_fail_alloc_after(0);
        if (st == VITC_OK) {
            break; /* the writer needs fewer than k allocations */
        }
        CHECK(st == VITC_ERR_NOMEM);
        unsigned char *now = test_read_file(path, &n_after);
        CHECK(now && n_after == n_before && memcmp(now, before, n_before) == 0);
        free(now);
    }
    /* The last loop iteration succeeded: restore and compare the failure cases only. */
    CHECK(vitc_npy_save(path, old, 1, old_shape) == VITC_OK);
    unsigned char *after = test_read_file(path, &n_after);
    CHECK(before && after && n_after == n_before && memcmp(before, after, n_before) == 0);
    CHECK(count_hidden_files() == 0);
    free(before);
    free(after);
    free(big);
    unlink(path);
}

/* Saving over an existing file replaces it whole: a new inode renamed into place. */
static void test_save_replaces_atomically(void)
{
    char path[512];
    tmp_path(path, sizeof path, "replace.npy");
    write_file(path, "old contents that are not a .npy", 32);
    struct stat a, b;
    stat(path, &a);
    const float v[4] = {1, 2, 3, 4};
    const size_t shape[2] = {2, 2};
    CHECK(vitc_npy_save(path, v, 2, shape) == VITC_OK);
    stat(path, &b);
    CHECK(a.st_ino != b.st_ino);
    CHECK(b.st_size == 128 + 16);
    vitc_tensor *t = NULL;
    CHECK(vitc_npy_load(path, &t) == VITC_OK);
    CHECK(t && t->n_elems == 4 && memcmp(t->data, v, sizeof v) == 0);
    vitc_tensor_free(t);
    /* A bare file name in the current directory works too (no directory part). */
    char cwd[512];
    if (getcwd(cwd, sizeof cwd) && chdir(tmpdir) == 0) {
        CHECKF(vitc_npy_save("bare.npy", v, 2, shape) == VITC_OK, "%s", vitc_last_error());
        CHECK(access("bare.npy", F_OK) == 0);
        unlink("bare.npy");
        CHECK(chdir(cwd) == 0);
    }
    unlink(path);
    CHECK(count_hidden_files() == 0);
    vitc_tensor_free(NULL);
}

static void test_load_oom(void)
{
    for (size_t k = 1; k < 10; k++) {
        vitc_tensor *t = NULL;
        vitc_test_fail_alloc_after(k);
        vitc_status st = vitc_npy_load("tests/data/models/tiny-in21k/inputs.pixel_values.npy", &t);
        vitc_test_fail_alloc_after(0);
        if (st == VITC_OK) {
            CHECK(t != NULL);
            vitc_tensor_free(t);
            break;
        }
        CHECK(st == VITC_ERR_NOMEM && t == NULL);
    }
}

int main(void)
{
    snprintf(tmpdir, sizeof tmpdir, "%s/vitc-npy-XXXXXX",
             getenv("TMPDIR") ? getenv("TMPDIR") : "/tmp");
    if (!mkdtemp(tmpdir)) {
        perror("mkdtemp");
        return 1;
    }
    RUN(test_round_trip_shapes);
    RUN(test_matches_numpy_bytes);
    RUN(test_fixtures);
    RUN(test_versions_and_spellings);
    RUN(test_bad_headers);
    RUN(test_save_bad_path);
    RUN(test_save_failure_keeps_target);
    RUN(test_save_replaces_atomically);
    RUN(test_load_oom);
    if (rmdir(tmpdir) != 0) {
        fprintf(stderr, "leftover files in %s\n", tmpdir);
        test_failed++;
    }
    return TEST_REPORT();
}
