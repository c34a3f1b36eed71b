/* SPDX-License-Identifier: MIT
 *
 * test_model.c — the forward pass end to end against transformers' outputs
 * (every model in tests/data/models: last_hidden_state, pooler_output /
 * logits, and every layer's hidden states through the tap), and the ctx
 * API's contracts:
 * batch and thread-count independence, argument refusals with messages,
 * NULL-safe frees and allocation-failure injection over vitc_ctx_new.
 */
#include <stdint.h>
#include <string.h>
#include <unistd.h>

#include "base/err.h"
#include "cpu/backend_cpu.h"
#include "model/model.h"
#include "test.h"
#include "vitc.h"

/* Suggested by the fixtures' README: ~30x the fp32-vs-fp64 spread of HF itself. */
#define TOL 1e-4

static const char *const TINY_MODELS[] = {
    "tests/data/models/tiny-in21k",
    "tests/data/models/tiny-classifier",
    "tests/data/models/tiny-variant",
};
#define N_TINY (sizeof TINY_MODELS / sizeof TINY_MODELS[0])

/* ---- helpers ---- */

static vitc_model *load_model(const char *dir)
{
    vitc_model *m = NULL;
    if (vitc_model_load(dir, NULL, &m) != VITC_OK) {
        fprintf(stderr, "  cannot load %s: %s\n", dir, vitc_last_error());
        return NULL;
    }
    return m;
}

static vitc_ctx *new_ctx(const vitc_model *m, int n_threads, int max_batch)
{
    vitc_ctx_params p = vitc_ctx_default_params();
    vitc_ctx *ctx = NULL;
    p.n_threads = n_threads;
    p.max_batch = max_batch;
    if (vitc_ctx_new(m, &p, &ctx) != VITC_OK) {
        fprintf(stderr, "  vitc_ctx_new: %s\n", vitc_last_error());
        return NULL;
    }
    return ctx;
}

/* A copy of output `which` for the last forward of n images (caller frees). */
static float *get(vitc_ctx *ctx, const vitc_model *m, vitc_output which, size_t n)
{
    size_t len = n * vitc_output_size(m, which);
    float *out = malloc((len ? len : 1) * sizeof *out);
    if (vitc_get_output(ctx, which, out, len) != VITC_OK) {
        fprintf(stderr, "  vitc_get_output(%d): %s\n", (int)which, vitc_last_error());
        free(out);
        return NULL;
    }
    return out;
}

/* What the tap saw: hidden states [L+1, n, T, D] and which stages ran. */
struct tap_record {
    float *hidden; /* (L+1, n, T, D) */
    size_t n, T, D, L;
    int bad_shape;
    int seen_last, seen_pooler, seen_logits;
};

static void record_tap(const char *stage, const float *data, size_t n_images, size_t rows,
                       size_t cols, void *user)
{
    struct tap_record *r = user;
    long idx = -1;
    if (strcmp(stage, "embeddings") == 0) {
        idx = 0;
    } else if (strncmp(stage, "layer.", 6) == 0) {
        idx = 1 + strtol(stage + 6, NULL, 10);
    } else if (strcmp(stage, "last_hidden_state") == 0) {
        r->seen_last++;
        r->bad_shape |= rows != r->T || cols != r->D;
    } else if (strcmp(stage, "pooler") == 0) {
        r->seen_pooler++;
        r->bad_shape |= rows != 1 || cols != r->D;
    } else if (strcmp(stage, "logits") == 0) {
        r->seen_logits++;
        r->bad_shape |= rows != 1;
    } else {
        r->bad_shape = 1;
    }
    if (idx >= 0) {
        if ((size_t)idx > r->L || n_images != r->n || rows != r->T || cols != r->D) {
            r->bad_shape = 1;
            return;
        }
        memcpy(r->hidden + (size_t)idx * r->n * r->T * r->D, data,
               r->n * r->T * r->D * sizeof *data);
    }
}

/* ---- against transformers ---- */

static void check_model_against_reference(const char *dir)
{
    vitc_model *m = load_model(dir);
    vitc_tensor *px = test_load_npy(dir, "inputs.pixel_values.npy");
    vitc_tensor *lhs = test_load_npy(dir, "expected.last_hidden_state.npy");
    vitc_tensor *hs = test_load_npy(dir, "expected.hidden_states.npy");
    vitc_tensor *pool = test_load_npy(dir, "expected.pooler_output.npy");
    vitc_tensor *logits = test_load_npy(dir, "expected.logits.npy");
    vitc_ctx *ctx = NULL;
    struct tap_record rec = {0};
    float *got = NULL;
    CHECKF(m && px && lhs && hs && (pool || logits), "%s: fixture missing", dir);
    if (!m || !px || !lhs || !hs || !(pool || logits)) {
        goto done;
    }
    const vitc_model_info *info = vitc_model_get_info(m);
    size_t n = px->shape[0];
    ctx = new_ctx(m, 0, (int)n);
    CHECK(ctx != NULL);
    if (!ctx) {
        goto done;
    }
    rec = (struct tap_record){.n = n,
                              .T = (size_t)info->n_tokens,
                              .D = (size_t)info->hidden_size,
                              .L = (size_t)info->num_hidden_layers};
    rec.hidden = calloc((rec.L + 1) * n * rec.T * rec.D, sizeof *rec.hidden);
    CHECK(hs->n_elems == (rec.L + 1) * n * rec.T * rec.D);
    vitc_ctx_set_tap(ctx, record_tap, &rec);
    CHECKF(vitc_forward(ctx, px->data, n) == VITC_OK, "%s", vitc_last_error());

    got = get(ctx, m, VITC_OUTPUT_LAST_HIDDEN_STATE, n);
    CHECK(got && lhs->n_elems == n * rec.T * rec.D);
    if (got) {
        double d = test_max_abs_diff(got, lhs->data, lhs->n_elems);
        printf("  %s: last_hidden_state max abs diff %.3g\n", dir, d);
        CHECK(d <= TOL);
    }
    free(got);
    if (pool) {
        got = get(ctx, m, VITC_OUTPUT_POOLER, n);
        CHECK(got != NULL);
        if (got) {
            double d = test_max_abs_diff(got, pool->data, pool->n_elems);
            printf("  %s: pooler_output max abs diff %.3g\n", dir, d);
            CHECK(d <= TOL);
        }
        free(got);
        CHECK(rec.seen_pooler == 1 && rec.seen_logits == 0);
    }
    if (logits) {
        got = get(ctx, m, VITC_OUTPUT_LOGITS, n);
        CHECK(got != NULL);
        if (got) {
            double d = test_max_abs_diff(got, logits->data, logits->n_elems);
            printf("  %s: logits max abs diff %.3g\n", dir, d);
            CHECK(d <= TOL);
        }
        free(got);
        CHECK(rec.seen_logits == 1 && rec.seen_pooler == 0);
    }
    CHECK(rec.seen_last == 1);
    CHECK(!rec.bad_shape);
    if (hs->n_elems == (rec.L + 1) * n * rec.T * rec.D) {
        double worst = 0;
        for (size_t l = 0; l <= rec.L; l++) {
            size_t len = n * rec.T * rec.D;
            double d = test_max_abs_diff(rec.hidden + l * len, (float *)hs->data + l * len, len);
            worst = d > worst ? d : worst;
        }
        printf("  %s: hidden_states (embeddings + %zu layers) max abs diff %.3g\n", dir, rec.L,
               worst);
        CHECK(worst <= TOL);
    }
    /* CLS is last_hidden_state[:, 0] and PIXEL_VALUES the input, exactly. */
    float *cls = get(ctx, m, VITC_OUTPUT_CLS, n);
    float *all = get(ctx, m, VITC_OUTPUT_LAST_HIDDEN_STATE, n);
    float *pv = get(ctx, m, VITC_OUTPUT_PIXEL_VALUES, n);
    CHECK(cls && all && pv);
    if (cls && all && pv) {
        for (size_t i = 0; i < n; i++) {
            CHECK(memcmp(cls + i * rec.D, all + i * rec.T * rec.D, rec.D * sizeof *cls) == 0);
        }
        CHECK(memcmp(pv, px->data, px->n_elems * sizeof *pv) == 0);
    }
    free(cls);
    free(all);
    free(pv);
done:
    free(rec.hidden);
    vitc_ctx_free(ctx);
    vitc_model_free(m);
    vitc_tensor_free(px);
    vitc_tensor_free(lhs);
    vitc_tensor_free(hs);
    vitc_tensor_free(pool);
    vitc_tensor_free(logits);
}

static void test_reference_outputs(void)
{
    for (size_t i = 0; i < N_TINY; i++) {
        check_model_against_reference(TINY_MODELS[i]);
    }
}

/* ---- independence of batch and thread count ---- */

/* Every output a model has, for the last forward of n images, concatenated. */
static float *all_outputs(vitc_ctx *ctx, const vitc_model *m, size_t n, size_t *len)
{
    const vitc_output which[] = {VITC_OUTPUT_LAST_HIDDEN_STATE, VITC_OUTPUT_CLS, VITC_OUTPUT_POOLER,
                                 VITC_OUTPUT_LOGITS};
    size_t total = 0;
    for (size_t w = 0; w < 4; w++) {
        total += n * vitc_output_size(m, which[w]);
    }
    float *out = malloc(total * sizeof *out);
    size_t at = 0;
    for (size_t w = 0; w < 4; w++) {
        size_t k = n * vitc_output_size(m, which[w]);
        if (k && vitc_get_output(ctx, which[w], out + at, k) != VITC_OK) {
            free(out);
            return NULL;
        }
        at += k;
    }
    *len = total;
    return out;
}

/* Image i alone must give bitwise the same outputs as image i in a batch. */
static void test_batch_independent(void)
{
    for (size_t mi = 0; mi < N_TINY; mi++) {
        vitc_model *m = load_model(TINY_MODELS[mi]);
        vitc_tensor *px = test_load_npy(TINY_MODELS[mi], "inputs.pixel_values.npy");
        vitc_ctx *ctx = m ? new_ctx(m, 2, 3) : NULL;
        CHECK(m && px && ctx && px->shape[0] == 3);
        if (!m || !px || !ctx || px->shape[0] != 3) {
            vitc_ctx_free(ctx);
            vitc_model_free(m);
            vitc_tensor_free(px);
            continue;
        }
        const vitc_output which[] = {VITC_OUTPUT_LAST_HIDDEN_STATE, VITC_OUTPUT_CLS,
                                     VITC_OUTPUT_POOLER, VITC_OUTPUT_LOGITS};
        float *batch[4] = {0};
        CHECK(vitc_forward(ctx, px->data, 3) == VITC_OK);
        for (size_t w = 0; w < 4; w++) {
            batch[w] = vitc_output_size(m, which[w]) ? get(ctx, m, which[w], 3) : NULL;
        }
        size_t per_px = vitc_output_size(m, VITC_OUTPUT_PIXEL_VALUES);
        for (size_t i = 0; i < 3; i++) {
            CHECK(vitc_forward(ctx, (float *)px->data + i * per_px, 1) == VITC_OK);
            for (size_t w = 0; w < 4; w++) {
                size_t per = vitc_output_size(m, which[w]);
                if (!per || !batch[w]) {
                    continue;
                }
                float *one = get(ctx, m, which[w], 1);
                CHECKF(one && memcmp(one, batch[w] + i * per, per * sizeof *one) == 0,
                       "%s: output %d of image %zu differs alone and in a batch", TINY_MODELS[mi],
                       (int)which[w], i);
                free(one);
            }
        }
        for (size_t w = 0; w < 4; w++) {
            free(batch[w]);
        }
        vitc_ctx_free(ctx);
        vitc_model_free(m);
        vitc_tensor_free(px);
    }
}

/* The outputs of `dir` with 1, 2 and 3 threads, bit for bit. */
static void check_threads_identical(const char *dir)
{
    vitc_model *m = load_model(dir);
    vitc_tensor *px = test_load_npy(dir, "inputs.pixel_values.npy");
    float *ref = NULL;
    size_t ref_len = 0;
    CHECK(m && px);
    for (int t = 1; m && px && t <= 3; t++) {
        size_t n = px->shape[0], len = 0;
        vitc_ctx *ctx = new_ctx(m, t, (int)n);
        CHECK(ctx != NULL);
        if (!ctx) {
            break;
        }
        CHECK(vitc_forward(ctx, px->data, n) == VITC_OK);
        float *out = all_outputs(ctx, m, n, &len);
        CHECK(out != NULL);
        if (out && !ref) {
            ref = out;
            ref_len = len;
        } else if (out) {
            CHECKF(len == ref_len && memcmp(out, ref, len * sizeof *out) == 0,
                   "%s: %d threads differ from 1 thread", dir, t);
            free(out);
        }
        vitc_ctx_free(ctx);
    }
    free(ref);
    vitc_model_free(m);
    vitc_tensor_free(px);
}

static void test_threads_identical(void)
{
    for (size_t i = 0; i < N_TINY; i++) {
        check_threads_identical(TINY_MODELS[i]);
    }
}

/* ---- the ctx API's contracts ---- */

static void test_forward_refusals(void)
{
    vitc_model *m = load_model(TINY_MODELS[0]);
    vitc_ctx *ctx = m ? new_ctx(m, 1, 2) : NULL;
    CHECK(ctx != NULL);
    if (!ctx) {
        vitc_model_free(m);
        return;
    }
    size_t per = vitc_output_size(m, VITC_OUTPUT_PIXEL_VALUES);
    float *px = calloc(3 * per, sizeof *px);
    float out[64];

    /* Nothing to read before the first forward. */
    CHECK(vitc_get_output(ctx, VITC_OUTPUT_CLS, out, 32) == VITC_ERR_INVALID_ARG);
    CHECK(vitc_forward(ctx, px, 3) == VITC_ERR_INVALID_ARG);
    CHECKF(strstr(vitc_last_error(), "max_batch") && strstr(vitc_last_error(), "1..2"), "%s",
           vitc_last_error());
    CHECK(vitc_forward(ctx, px, 0) == VITC_ERR_INVALID_ARG);
    CHECK(vitc_forward(ctx, NULL, 1) == VITC_ERR_INVALID_ARG);
    CHECK(vitc_forward(NULL, px, 1) == VITC_ERR_INVALID_ARG);

    px[per + 17] = NAN;
    CHECK(vitc_forward(ctx, px, 2) == VITC_ERR_INVALID_ARG);
    CHECKF(strstr(vitc_last_error(), "NaN/Inf at image 1") != NULL, "%s", vitc_last_error());
    px[per + 17] = 0.0f;
    px[5] = INFINITY;
    CHECK(vitc_forward(ctx, px, 1) == VITC_ERR_INVALID_ARG);
    CHECKF(strstr(vitc_last_error(), "at image 0") != NULL, "%s", vitc_last_error());
    px[5] = 0.0f;

    CHECK(vitc_forward(ctx, px, 1) == VITC_OK);
    /* An output the model lacks, with a message saying what to use. */
    CHECK(vitc_output_size(m, VITC_OUTPUT_LOGITS) == 0);
    CHECK(vitc_get_output(ctx, VITC_OUTPUT_LOGITS, out, 0) == VITC_ERR_UNSUPPORTED);
    CHECKF(strstr(vitc_last_error(), "no classifier head") != NULL, "%s", vitc_last_error());
    /* n_floats must be exact. */
    CHECK(vitc_get_output(ctx, VITC_OUTPUT_CLS, out, 31) == VITC_ERR_INVALID_ARG);
    CHECK(vitc_get_output(ctx, VITC_OUTPUT_CLS, out, 64) == VITC_ERR_INVALID_ARG);
    CHECK(vitc_get_output(ctx, VITC_OUTPUT_CLS, out, 32) == VITC_OK);
    CHECK(vitc_get_output(ctx, VITC_OUTPUT_CLS, NULL, 32) == VITC_ERR_INVALID_ARG);
    CHECK(vitc_get_output(ctx, (vitc_output)99, out, 32) == VITC_ERR_INVALID_ARG);
    CHECK(vitc_output_size(m, (vitc_output)99) == 0);
    CHECK(vitc_output_size(NULL, VITC_OUTPUT_CLS) == 0);
    /* A tap can be removed; the forward still works. */
    vitc_ctx_set_tap(ctx, NULL, NULL);
    vitc_ctx_set_tap(NULL, record_tap, NULL);
    CHECK(vitc_forward(ctx, px, 2) == VITC_OK);
    free(px);
    vitc_ctx_free(ctx);
    vitc_model_free(m);

    m = load_model(TINY_MODELS[1]);
    ctx = m ? new_ctx(m, 1, 1) : NULL;
    CHECK(ctx != NULL);
    if (ctx) {
        px = calloc(per, sizeof *px);
        CHECK(vitc_forward(ctx, px, 1) == VITC_OK);
        CHECK(vitc_output_size(m, VITC_OUTPUT_POOLER) == 0);
        CHECK(vitc_output_size(m, VITC_OUTPUT_LOGITS) == 5);
        CHECK(vitc_get_output(ctx, VITC_OUTPUT_POOLER, out, 0) == VITC_ERR_UNSUPPORTED);
        CHECKF(strstr(vitc_last_error(), "no pooler") != NULL, "%s", vitc_last_error());
        free(px);
    }
    vitc_ctx_free(ctx);
    vitc_model_free(m);
}

static void test_ctx_params(void)
{
    vitc_model *m = load_model(TINY_MODELS[0]);
    CHECK(m != NULL);
    if (!m) {
        return;
    }
    static int sentinel;
    vitc_ctx *const before = (vitc_ctx *)&sentinel;
    vitc_ctx *ctx = before;
    vitc_ctx_params p = vitc_ctx_default_params();
    CHECK(p.backend == VITC_BACKEND_AUTO && p.n_threads == 0 && p.max_batch == 8 && p.device == 0);

    p.backend = VITC_BACKEND_CUDA; /* this test runs where no GPU is usable (test_cuda does) */
    CHECK(vitc_ctx_new(m, &p, &ctx) == VITC_ERR_UNSUPPORTED);
    CHECKF(strstr(vitc_last_error(), "no CUDA backend") ||
               strstr(vitc_last_error(), "no CUDA device"),
           "%s", vitc_last_error());
    p = vitc_ctx_default_params();
    p.backend = (vitc_backend)42;
    CHECK(vitc_ctx_new(m, &p, &ctx) == VITC_ERR_INVALID_ARG);
    p = vitc_ctx_default_params();
    p.max_batch = 0;
    CHECK(vitc_ctx_new(m, &p, &ctx) == VITC_ERR_INVALID_ARG);
    p.max_batch = 4097;
    CHECK(vitc_ctx_new(m, &p, &ctx) == VITC_ERR_INVALID_ARG);
    CHECK(strstr(vitc_last_error(), "max_batch") != NULL);
    p = vitc_ctx_default_params();
    p.n_threads = -1;
    CHECK(vitc_ctx_new(m, &p, &ctx) == VITC_ERR_INVALID_ARG);
    CHECK(vitc_ctx_new(NULL, NULL, &ctx) == VITC_ERR_INVALID_ARG);
    CHECK(vitc_ctx_new(m, NULL, NULL) == VITC_ERR_INVALID_ARG);
    CHECK(ctx == before);

    /* VITC_NUM_THREADS applies when n_threads is 0, and is checked. */
    const char *saved = getenv("VITC_NUM_THREADS");
    char *saved_copy = saved ? strdup(saved) : NULL;
    setenv("VITC_NUM_THREADS", "two", 1);
    CHECK(vitc_ctx_new(m, NULL, &ctx) == VITC_ERR_INVALID_ARG);
    CHECKF(strstr(vitc_last_error(), "VITC_NUM_THREADS") != NULL, "%s", vitc_last_error());
    CHECK(ctx == before);
    setenv("VITC_NUM_THREADS", "3", 1);
    ctx = NULL;
    CHECK(vitc_ctx_new(m, NULL, &ctx) == VITC_OK);
    CHECKF(vitc_ctx_n_threads(ctx) == 3, "%d", vitc_ctx_n_threads(ctx));
    vitc_ctx_free(ctx);
    /* An explicit n_threads wins over the environment. */
    p = vitc_ctx_default_params();
    p.n_threads = 2;
    ctx = NULL;
    CHECK(vitc_ctx_new(m, &p, &ctx) == VITC_OK);
    CHECKF(vitc_ctx_n_threads(ctx) == 2, "%d", vitc_ctx_n_threads(ctx));
    vitc_ctx_free(ctx);
    CHECK(vitc_ctx_n_threads(NULL) == 0);
    if (saved_copy) {
        setenv("VITC_NUM_THREADS", saved_copy, 1);
    } else {
        unsetenv("VITC_NUM_THREADS");
    }
    free(saved_copy);

    vitc_ctx_free(NULL);
    vitc_model_free(NULL);
    vitc_model_free(m);
}

/* Every allocation vitc_ctx_new makes failing in turn: VITC_ERR_NOMEM with
 * *out untouched and nothing leaked (checked by ASan), until it succeeds. */
static void test_ctx_alloc_failures(void)
{
    vitc_model *m = load_model(TINY_MODELS[2]);
    CHECK(m != NULL);
    if (!m) {
        return;
    }
    vitc_ctx_params p = vitc_ctx_default_params();
    p.n_threads = 3;
    p.max_batch = 2;
    int succeeded = 0;
    size_t k = 1;
    for (; k < 100 && !succeeded; k++) {
        vitc_ctx *ctx = NULL;
        vitc_test_fail_alloc_after(k);
        vitc_status s = vitc_ctx_new(m, &p, &ctx);
        vitc_test_fail_alloc_after(0);
        if (s == VITC_OK) {
            succeeded = 1;
            vitc_tensor *px = test_load_npy(TINY_MODELS[2], "inputs.pixel_values.npy");
            CHECK(px && vitc_forward(ctx, px->data, 2) == VITC_OK);
            vitc_tensor_free(px);
            vitc_ctx_free(ctx);
        } else {
            CHECKF(s == VITC_ERR_NOMEM && ctx == NULL, "allocation %zu: %s", k, vitc_last_error());
        }
    }
    printf("  vitc_ctx_new survived failure of each of its %zu allocations\n", k - 2);
    CHECK(succeeded);
    vitc_model_free(m);
}

/* Counts the linears of a hand-built model that hold packed weights. */
static int count_packed(const struct vitc_model *m)
{
    const struct vitc_weights *w = &m->w;
    int n = (w->patch.packed != NULL) + (w->pooler.packed != NULL) + (w->classifier.packed != NULL);
    for (int i = 0; i < m->cfg.num_hidden_layers; i++) {
        n += (w->layers[i].qkv.packed != NULL) + (w->layers[i].attn_out.packed != NULL) +
             (w->layers[i].fc1.packed != NULL) + (w->layers[i].fc2.packed != NULL);
    }
    return n;
}

/* Weight packing with each of its allocations failing: VITC_ERR_NOMEM and
 * nothing left packed (no leak under ASan); then success, idempotence, and
 * an unprepare that clears everything. Absent heads (weight NULL) are skipped. */
static void test_prepare_weights_failures(void)
{
    static float W[64 * 64];
    struct vitc_layer_weights layers[2];
    struct vitc_model m;
    memset(&m, 0, sizeof m);
    memset(layers, 0, sizeof layers);
    for (size_t i = 0; i < sizeof W / sizeof W[0]; i++) {
        W[i] = (float)(i % 13) - 6.0f;
    }
    m.cfg.num_hidden_layers = 2;
    m.w.layers = layers;
    m.w.patch = (struct vitc_linear){.weight = W, .n_out = 8, .n_in = 12};
    for (int i = 0; i < 2; i++) {
        layers[i].qkv = (struct vitc_linear){.weight = W, .n_out = 24, .n_in = 8};
        layers[i].attn_out = (struct vitc_linear){.weight = W, .n_out = 8, .n_in = 8};
        layers[i].fc1 = (struct vitc_linear){.weight = W, .n_out = 17, .n_in = 8};
        layers[i].fc2 = (struct vitc_linear){.weight = W, .n_out = 8, .n_in = 17};
    }
    m.w.pooler = (struct vitc_linear){.weight = W, .n_out = 8, .n_in = 8};
    m.w.classifier = (struct vitc_linear){.weight = NULL, .n_out = 3, .n_in = 8};

    int succeeded = 0;
    for (size_t k = 1; k < 40 && !succeeded; k++) {
        vitc_test_fail_alloc_after(k);
        vitc_status s = vitc_model_prepare_weights(&m);
        vitc_test_fail_alloc_after(0);
        if (s == VITC_OK) {
            succeeded = 1;
        } else {
            CHECKF(s == VITC_ERR_NOMEM && count_packed(&m) == 0, "allocation %zu", k);
        }
    }
    CHECK(succeeded);
    CHECK(count_packed(&m) == 10);
    void *first = m.w.patch.packed;
    CHECK(vitc_model_prepare_weights(&m) == VITC_OK);
    CHECK(m.w.patch.packed == first);
    vitc_model_unprepare_weights(&m);
    CHECK(count_packed(&m) == 0);
    vitc_model_unprepare_weights(&m);
}

/* ---- the larger shared fixture (VITC_EXTENDED=1) ---- */

/* Every output has a name, each name maps back, and nothing else does. */
static void test_output_names(void)
{
    const char *names[VITC_N_OUTPUTS] = {"pixel_values", "last_hidden_state", "pooler_output",
                                         "cls",          "logits",            "image_embeds"};
    for (int k = 0; k < VITC_N_OUTPUTS; k++) {
        const char *n = vitc_output_name((vitc_output)k);
        CHECKF(n && strcmp(n, names[k]) == 0, "output %d is called %s", k, n ? n : "NULL");
        CHECK(vitc_output_by_name(names[k]) == k);
    }
    CHECK(vitc_output_name((vitc_output)VITC_N_OUTPUTS) == NULL);
    CHECK(vitc_output_name((vitc_output)-1) == NULL);
    CHECK(vitc_output_by_name("pooler") == -1 && vitc_output_by_name("") == -1 &&
          vitc_output_by_name(NULL) == -1 && vitc_output_by_name("CLS") == -1);
}

static void test_extended_base_2layer(void)
{
    const char *dir = "../shared/fixtures/models/base-2layer";
    check_model_against_reference(dir);
    check_threads_identical(dir);
}

int main(void)
{
    RUN(test_reference_outputs);
    RUN(test_batch_independent);
    RUN(test_threads_identical);
    RUN(test_forward_refusals);
    RUN(test_ctx_params);
    RUN(test_ctx_alloc_failures);
    RUN(test_prepare_weights_failures);
    RUN(test_output_names);
    const char *ext = getenv("VITC_EXTENDED");
    if (!ext || strcmp(ext, "1") != 0) {
        SKIP(test_extended_base_2layer, "set VITC_EXTENDED=1 to run it");
    } else if (access("../shared/fixtures/models/base-2layer/model.safetensors", R_OK) != 0) {
        SKIP(test_extended_base_2layer, "../shared/fixtures/models/base-2layer is absent");
    } else {
        RUN(test_extended_base_2layer);
    }
    return TEST_REPORT();
}
