/* SPDX-License-Identifier: MIT
 *
 * test_concurrency.c — one vitc_model shared by several threads, each with
 * its own vitc_ctx (and thread pool), must give bit for bit the outputs of
 * a single-threaded run, whatever the interleaving; error messages stay per
 * thread. Meant to run under ThreadSanitizer too (make SAN=thread), which
 * turns any data race on the shared model into a failure.
 */
#include <pthread.h>
#include <stdint.h>

#include "test.h"
#include "vitc.h"

#define N_WORKERS 4
#define ROUNDS    6

struct fixture {
    const char *dir;
    vitc_model *model;
    vitc_tensor *inputs; /* [n_images, C, S, S] */
    size_t n_images;
    size_t per_image;       /* floats of pixel_values per image */
    vitc_output outputs[2]; /* the two outputs compared */
    size_t out_size[2];     /* floats per image of each */
    float *expected[2];     /* [n_images, out_size] single-threaded run */
};

/* Runs images idx[0..n) in one vitc_forward and copies both outputs out. */
static int run_batch(vitc_ctx *ctx, const struct fixture *f, const size_t *idx, size_t n, float *pv,
                     float *out[2])
{
    for (size_t i = 0; i < n; i++) {
        memcpy(pv + i * f->per_image, (const float *)f->inputs->data + idx[i] * f->per_image,
               f->per_image * sizeof(float));
    }
    if (vitc_forward(ctx, pv, n) != VITC_OK) {
        return 0;
    }
    for (int o = 0; o < 2; o++) {
        if (vitc_get_output(ctx, f->outputs[o], out[o], n * f->out_size[o]) != VITC_OK) {
            return 0;
        }
    }
    return 1;
}

static vitc_ctx *new_ctx(const vitc_model *m, int n_threads, int max_batch)
{
    vitc_ctx *ctx = NULL;
    vitc_ctx_params p = vitc_ctx_default_params();
    p.backend = VITC_BACKEND_CPU;
    p.n_threads = n_threads;
    p.max_batch = max_batch;
    return vitc_ctx_new(m, &p, &ctx) == VITC_OK ? ctx : NULL;
}

/* Loads the model and its inputs and records the single-threaded outputs,
 * one image per forward. */
static int fixture_init(struct fixture *f, const char *dir, vitc_output second)
{
    char path[512];
    memset(f, 0, sizeof *f);
    f->dir = dir;
    f->outputs[0] = VITC_OUTPUT_LAST_HIDDEN_STATE;
    f->outputs[1] = second;
    snprintf(path, sizeof path, "%s/inputs.pixel_values.npy", dir);
    if (vitc_model_load(dir, NULL, &f->model) != VITC_OK ||
        vitc_npy_load(path, &f->inputs) != VITC_OK) {
        fprintf(stderr, "  %s\n", vitc_last_error());
        return 0;
    }
    f->per_image = vitc_output_size(f->model, VITC_OUTPUT_PIXEL_VALUES);
    f->n_images = f->inputs->n_elems / f->per_image;
    vitc_ctx *ctx = new_ctx(f->model, 1, 1);
    float *pv = malloc(f->per_image * sizeof(float));
    int ok = ctx && pv && f->n_images >= 2;
    for (int o = 0; ok && o < 2; o++) {
        f->out_size[o] = vitc_output_size(f->model, f->outputs[o]);
        f->expected[o] = malloc(f->n_images * f->out_size[o] * sizeof(float));
        ok = f->out_size[o] > 0 && f->expected[o] != NULL;
    }
    for (size_t i = 0; ok && i < f->n_images; i++) {
        float *out[2] = {f->expected[0] + i * f->out_size[0], f->expected[1] + i * f->out_size[1]};
        ok = run_batch(ctx, f, &i, 1, pv, out);
    }
    vitc_ctx_free(ctx);
    free(pv);
    return ok;
}

static void fixture_free(struct fixture *f)
{
    vitc_model_free(f->model);
    vitc_tensor_free(f->inputs);
    free(f->expected[0]);
    free(f->expected[1]);
}

/* ---- the workers ---- */

struct worker {
    const struct fixture *f;
    int id;
    int n_threads; /* the ctx's own thread pool size */
    int mismatches;
    int failures;
    char error[256];
};

/* Each round: a batch of a different size and image order, compared image
 * by image with the single-threaded reference. */
static void *work(void *arg)
{
    struct worker *w = arg;
    const struct fixture *f = w->f;
    size_t n_max = f->n_images;
    vitc_ctx *ctx = new_ctx(f->model, w->n_threads, (int)n_max);
    float *pv = malloc(n_max * f->per_image * sizeof(float));
    float *out[2] = {malloc(n_max * f->out_size[0] * sizeof(float)),
                     malloc(n_max * f->out_size[1] * sizeof(float))};
    size_t idx[64];
    if (!ctx || !pv || !out[0] || !out[1] || n_max > 64) {
        snprintf(w->error, sizeof w->error, "setup: %s", vitc_last_error());
        w->failures++;
        goto done;
    }
    for (int r = 0; r < ROUNDS; r++) {
        size_t n = 1 + (size_t)(w->id + r) % n_max;
        for (size_t i = 0; i < n; i++) {
            idx[i] = (size_t)(w->id * 7 + r * 3 + (int)i) % n_max;
        }
        if (!run_batch(ctx, f, idx, n, pv, out)) {
            snprintf(w->error, sizeof w->error, "round %d: %s", r, vitc_last_error());
            w->failures++;
            continue;
        }
        for (size_t i = 0; i < n; i++) {
            for (int o = 0; o < 2; o++) {
                size_t k = f->out_size[o];
                if (memcmp(out[o] + i * k, f->expected[o] + idx[i] * k, k * sizeof(float)) != 0) {
                    w->mismatches++;
                }
            }
        }
    }
done:
    vitc_ctx_free(ctx);
    free(pv);
    free(out[0]);
    free(out[1]);
    return NULL;
}

static void check_shared_model(const char *dir, vitc_output second)
{
    struct fixture f;
    CHECKF(fixture_init(&f, dir, second), "%s: cannot set up", dir);
    if (f.model && f.expected[1]) {
        pthread_t th[N_WORKERS];
        struct worker w[N_WORKERS];
        int started[N_WORKERS] = {0};
        for (int i = 0; i < N_WORKERS; i++) {
            w[i] = (struct worker){.f = &f, .id = i, .n_threads = 1 + i % 3};
            started[i] = pthread_create(&th[i], NULL, work, &w[i]) == 0;
            CHECK(started[i]);
        }
        for (int i = 0; i < N_WORKERS; i++) {
            if (started[i]) {
                pthread_join(th[i], NULL);
            }
            CHECKF(w[i].failures == 0, "%s: worker %d: %s", dir, i, w[i].error);
            CHECKF(w[i].mismatches == 0, "%s: worker %d (%d threads): %d outputs differ", dir, i,
                   w[i].n_threads, w[i].mismatches);
        }
    }
    fixture_free(&f);
}

static void test_shared_pooler_model(void)
{
    check_shared_model("tests/data/models/tiny-in21k", VITC_OUTPUT_POOLER);
}

static void test_shared_classifier(void)
{
    check_shared_model("tests/data/models/tiny-classifier", VITC_OUTPUT_LOGITS);
}

/* ---- loads and errors in parallel ---- */

struct loader {
    int id;
    int ok;
};

/* Even workers load a model while odd ones fail on a missing file: each
 * thread must see its own message, never another thread's. */
static void *load_or_fail(void *arg)
{
    struct loader *l = arg;
    char missing[64];
    snprintf(missing, sizeof missing, "tests/data/no-such-image-%d.png", l->id);
    for (int r = 0; r < 3; r++) {
        if (l->id % 2 == 0) {
            vitc_model *m = NULL;
            l->ok = vitc_model_load("tests/data/models/tiny-variant", NULL, &m) == VITC_OK &&
                    vitc_model_get_info(m)->hidden_size > 0;
            vitc_model_free(m);
        } else {
            vitc_image *img = NULL;
            l->ok = vitc_image_load(missing, &img) == VITC_ERR_IO && img == NULL &&
                    strstr(vitc_last_error(), missing) != NULL;
        }
        if (!l->ok) {
            break;
        }
    }
    return NULL;
}

static void test_parallel_loads_and_errors(void)
{
    pthread_t th[N_WORKERS];
    struct loader l[N_WORKERS];
    int started[N_WORKERS] = {0};
    for (int i = 0; i < N_WORKERS; i++) {
        l[i] = (struct loader){.id = i};
        started[i] = pthread_create(&th[i], NULL, load_or_fail, &l[i]) == 0;
        CHECK(started[i]);
    }
    for (int i = 0; i < N_WORKERS; i++) {
        if (started[i]) {
            pthread_join(th[i], NULL);
        }
        CHECKF(l[i].ok, "worker %d", i);
    }
}

int main(void)
{
    RUN(test_shared_pooler_model);
    RUN(test_shared_classifier);
    RUN(test_parallel_loads_and_errors);
    return TEST_REPORT();
}
