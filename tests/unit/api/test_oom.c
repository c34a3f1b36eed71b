/* SPDX-License-Identifier: MIT
 *
 * test_oom.c — every constructor run with the k-th allocation failing, for
 * k = 1, 2, ... until it succeeds: each failing run must return
 * VITC_ERR_NOMEM with a message, leave *out NULL (or the caller's struct
 * untouched) and free everything it took. Leaks are measured with glibc's
 * heap statistics (which sanitizer and valgrind runs do not keep; their own
 * leak checkers then cover them). The per-module tests check their own details; this is the
 * one place that holds every constructor to the same contract.
 */
#include <dirent.h>
#include <malloc.h>
#include <sys/stat.h>
#include <unistd.h>

#include "base/err.h"
#include "test.h"
#include "vitc.h"

#define MODEL "tests/data/models/tiny-in21k"
#define MAX_K 5000

#define NO_TCACHE "glibc.malloc.tcache_count=0"

/* Bytes the process holds in malloc'd blocks right now. glibc counts blocks
 * parked in its per-thread cache as in use, so main() turns that cache off. */
static size_t heap_in_use(void)
{
    return mallinfo2().uordblks;
}

/* Re-executes this program with glibc's thread cache disabled (a tunable
 * read only at startup); returns only if that is already so or impossible.
 * Not under a preloaded allocator (valgrind): glibc's statistics are then
 * not the heap's, and re-executing would leave the tool. */
static void exec_without_tcache(char **argv)
{
    const char *t = getenv("GLIBC_TUNABLES");
    if ((t && strstr(t, NO_TCACHE)) || getenv("LD_PRELOAD")) {
        return;
    }
    char buf[1024];
    snprintf(buf, sizeof buf, "%s%s%s", t ? t : "", t ? ":" : "", NO_TCACHE);
    if (setenv("GLIBC_TUNABLES", buf, 1) == 0) {
        execv("/proc/self/exe", argv);
    }
}

/* One call of a constructor that frees what it made: returns the status and
 * sets *made_out when a failing call still handed out an object. */
typedef vitc_status (*ctor_fn)(void *state, int *made_out);

struct oom_result {
    size_t first_ok_k; /* the k that first succeeded (0: never)  */
    size_t n_allocs;   /* allocations the successful run made      */
};

/* Runs fn with failure k = 1.. until it succeeds; checks each failure. */
static struct oom_result run_until_ok(const char *what, ctor_fn fn, void *state)
{
    struct oom_result r = {0, 0};
    int made = 0;
    /* Warm-up: lazy one-time state (stdio, the error buffer) is not a leak. */
    vitc_status st = fn(state, &made);
    CHECKF(st == VITC_OK, "%s: warm-up: %s", what, vitc_last_error());
    for (size_t k = 1; k <= MAX_K; k++) {
        /* The same failing call twice, measuring the second: the first may
         * fill glibc's per-thread caches (thread stacks keep their TLS), which
         * is not a leak; a real leak grows the heap on every call. */
        vitc_test_fail_alloc_after(k);
        fn(state, &made);
        vitc_test_fail_alloc_after(0);
        size_t before = heap_in_use();
        made = 0;
        vitc_test_fail_alloc_after(k);
        st = fn(state, &made);
        size_t n = vitc_test_fail_alloc_after(0);
        size_t after = heap_in_use();
        if (st == VITC_OK) {
            CHECKF(n < k, "%s: k=%zu succeeded although allocation %zu failed", what, k, k);
            r.first_ok_k = k;
            r.n_allocs = n;
            printf("  %s: each of %zu allocations failed in turn\n", what, k - 1);
            break;
        }
        CHECKF(st == VITC_ERR_NOMEM, "%s: k=%zu: status %d: %s", what, k, (int)st,
               vitc_last_error());
        CHECKF(vitc_last_error()[0] != '\0', "%s: k=%zu: empty message", what, k);
        CHECKF(!made, "%s: k=%zu: failed but wrote *out", what, k);
        CHECKF(after <= before, "%s: k=%zu: %zu bytes leaked (%s)", what, k, after - before,
               vitc_last_error());
    }
    CHECKF(r.first_ok_k > 0, "%s: never succeeded within %d failures", what, MAX_K);
    return r;
}

/* ---- the constructors ---- */

/* state: the vitc_model_params to load with, or NULL for the defaults. */
static vitc_status call_model_load(void *state, int *made)
{
    vitc_model *m = NULL;
    vitc_status st = vitc_model_load(MODEL, state, &m);
    if (st == VITC_OK) {
        vitc_model_free(m);
    } else if (m) {
        *made = 1;
    }
    return st;
}

static vitc_status call_ctx_new(void *state, int *made)
{
    vitc_ctx *c = NULL;
    vitc_ctx_params p = vitc_ctx_default_params();
    p.n_threads = 2;
    p.max_batch = 3;
    vitc_status st = vitc_ctx_new(state, &p, &c);
    if (st == VITC_OK) {
        vitc_ctx_free(c);
    } else if (c) {
        *made = 1;
    }
    return st;
}

static vitc_status call_image_load(void *state, int *made)
{
    vitc_image *img = NULL;
    vitc_status st = vitc_image_load(state, &img);
    if (st == VITC_OK) {
        vitc_image_free(img);
    } else if (img) {
        *made = 1;
    }
    return st;
}

static vitc_status call_npy_load(void *state, int *made)
{
    vitc_tensor *t = NULL;
    vitc_status st = vitc_npy_load(state, &t);
    if (st == VITC_OK) {
        vitc_tensor_free(t);
    } else if (t) {
        *made = 1;
    }
    return st;
}

static vitc_status call_preprocess_params_load(void *state, int *made)
{
    vitc_preprocess_params p, sentinel;
    memset(&p, 0x5a, sizeof p);
    sentinel = p;
    vitc_status st = vitc_preprocess_params_load(state, &p);
    if (st != VITC_OK && memcmp(&p, &sentinel, sizeof p) != 0) {
        *made = 1;
    }
    return st;
}

static int is_file(const char *path)
{
    struct stat sb;
    return stat(path, &sb) == 0;
}

/* Empties and removes the preset directory (flat: the writer makes no subdirectories). */
static void remove_dir(const char *dir)
{
    DIR *d = opendir(dir);
    if (!d) {
        return;
    }
    struct dirent *e;
    char p[1024];
    while ((e = readdir(d)) != NULL) {
        if (strcmp(e->d_name, ".") != 0 && strcmp(e->d_name, "..") != 0) {
            snprintf(p, sizeof p, "%s/%s", dir, e->d_name);
            unlink(p);
        }
    }
    closedir(d);
    rmdir(dir);
}

static vitc_status call_preset_write(void *state, int *made)
{
    const char *dir = state;
    char st_path[1024];
    snprintf(st_path, sizeof st_path, "%s/model.safetensors", dir);
    remove_dir(dir);
    vitc_status st = vitc_preset_write(dir, "tiny-test", 7);
    if (st != VITC_OK && is_file(st_path)) {
        *made = 1; /* a half-made model directory */
    }
    remove_dir(dir);
    return st;
}

/* ---- tests ---- */

static void test_model_load(void)
{
    struct oom_result r = run_until_ok("vitc_model_load", call_model_load, NULL);
    CHECK(r.n_allocs > 3);
    /* bf16 and int8 weights are converted at load: their own allocations. */
    vitc_model_params p = vitc_model_default_params();
    p.precision = VITC_PRECISION_BF16;
    r = run_until_ok("vitc_model_load (bf16)", call_model_load, &p);
    CHECK(r.n_allocs > 3);
    p.precision = VITC_PRECISION_INT8;
    r = run_until_ok("vitc_model_load (int8)", call_model_load, &p);
    CHECK(r.n_allocs > 3);
}

static void test_ctx_new(void)
{
    vitc_model *m = NULL;
    CHECK(vitc_model_load(MODEL, NULL, &m) == VITC_OK);
    if (m) {
        struct oom_result r = run_until_ok("vitc_ctx_new", call_ctx_new, m);
        CHECK(r.n_allocs > 1);
    }
    vitc_model_free(m);
}

static void test_image_load(void)
{
    static const char *const images[] = {
        "tests/data/preprocess/images/exif_orient6.jpg", /* JPEG + EXIF rotation      */
        "tests/data/preprocess/images/cmyk.jpg",         /* JPEG CMYK conversion      */
        "tests/data/preprocess/images/palette_trns.png", /* PNG palette + tRNS        */
        "tests/data/preprocess/images/gray16.png",       /* PNG 16-bit gray           */
        "tests/data/preprocess/images/tiny_1x1.png",
        "tests/data/formats/orient6.webp", /* WebP + EXIF rotation */
        "tests/data/formats/trns.gif",     /* GIF, transparency */
        "tests/data/formats/p.bmp",        /* BMP palette */
        "tests/data/formats/orient6.tif",  /* TIFF strips + orientation */
        "tests/data/formats/tiled.tif",    /* TIFF tiles */
        "tests/data/formats/p.tif",        /* TIFF palette */
    };
    for (size_t i = 0; i < sizeof images / sizeof images[0]; i++) {
        run_until_ok(images[i], call_image_load, (void *)images[i]);
    }
}

static void test_npy_load(void)
{
    run_until_ok("vitc_npy_load", call_npy_load, MODEL "/inputs.pixel_values.npy");
}

static void test_preprocess_params_load(void)
{
    run_until_ok("vitc_preprocess_params_load", call_preprocess_params_load,
                 "tests/data/models/tiny-variant/preprocessor_config.json");
}

static void test_preset_write(void)
{
    char tmpl[512];
    const char *base = getenv("TMPDIR");
    snprintf(tmpl, sizeof tmpl, "%s/vitc-oom.XXXXXX", base && *base ? base : "/tmp");
    char *top = mkdtemp(tmpl);
    CHECK(top != NULL);
    if (!top) {
        return;
    }
    char dir[600];
    snprintf(dir, sizeof dir, "%s/tiny", top);
    run_until_ok("vitc_preset_write", call_preset_write, dir);
    CHECK(!is_file(dir));
    rmdir(top);
}

int main(int argc, char **argv)
{
    (void)argc;
    exec_without_tcache(argv);
    RUN(test_model_load);
    RUN(test_ctx_new);
    RUN(test_image_load);
    RUN(test_npy_load);
    RUN(test_preprocess_params_load);
    RUN(test_preset_write);
    return TEST_REPORT();
}
