/* SPDX-License-Identifier: MIT
 *
 * context.c — the public inference API (vitc_ctx_*, vitc_forward,
 * vitc_get_output, vitc_output_size): argument checks, backend choice,
 * thread count, and the ctx that owns the backend and activation memory.
 * API layer: the graph itself is graph/graph.c; no arithmetic here.
 */
#include <errno.h>
#include <math.h>
#include <sched.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "base/err.h"
#include "base/threadpool.h"
#include "cpu/backend_cpu.h"
#include "cuda/backend_cuda.h"
#include "graph/graph.h"
#include "model/model.h"

/* The largest max_batch a ctx accepts: far above any useful batch, low
 * enough that the activation plan of a real model stays far from size_t's
 * limits even before the overflow checks. */
#define MAX_BATCH_LIMIT 4096

struct vitc_ctx {
    const struct vitc_model *model;
    struct vitc_be *be;
    struct vitc_acts acts; /* activation buffers for max_batch images */
    size_t n_last;         /* images in the last forward; 0 when none  */
    int n_threads;         /* the CPU backend's pool size; 0 for CUDA  */
    vitc_tap_fn tap;
    void *tap_user;
};

vitc_ctx_params vitc_ctx_default_params(void)
{
    return (vitc_ctx_params){
        .backend = VITC_BACKEND_AUTO,
        .device = 0,
        .n_threads = 0,
        .max_batch = 8,
    };
}

/* Cores this process may run on (its affinity mask), at least 1. */
static int available_cores(void)
{
    cpu_set_t set;
    if (sched_getaffinity(0, sizeof set, &set) == 0) {
        int n = CPU_COUNT(&set);
        if (n > 0) {
            return n;
        }
    }
    long n = sysconf(_SC_NPROCESSORS_ONLN);
    return n > 0 ? (int)(n < VITC_THREADPOOL_MAX ? n : VITC_THREADPOOL_MAX) : 1;
}

/* n_threads from the params, else VITC_NUM_THREADS, else every available core. */
static vitc_status resolve_threads(int requested, int *out)
{
    if (requested < 0 || requested > VITC_THREADPOOL_MAX) {
        return vitc_error(VITC_ERR_INVALID_ARG, "n_threads %d is not in 0..%d", requested,
                          VITC_THREADPOOL_MAX);
    }
    if (requested > 0) {
        *out = requested;
        return VITC_OK;
    }
    const char *env = getenv("VITC_NUM_THREADS");
    if (env && *env) {
        char *end = NULL;
        errno = 0;
        long v = strtol(env, &end, 10);
        if (errno != 0 || *end != '\0' || v < 1 || v > VITC_THREADPOOL_MAX) {
            return vitc_error(VITC_ERR_INVALID_ARG,
                              "VITC_NUM_THREADS: '%.32s' is not a thread count in 1..%d", env,
                              VITC_THREADPOOL_MAX);
        }
        *out = (int)v;
        return VITC_OK;
    }
    *out = available_cores();
    return VITC_OK;
}

/* ---- lifetime ---- */

vitc_status vitc_ctx_new(const vitc_model *model, const vitc_ctx_params *params, vitc_ctx **out)
{
    vitc_ctx_params p = params ? *params : vitc_ctx_default_params();
    struct vitc_ctx *ctx = NULL;
    vitc_status s = VITC_OK;
    int n_threads = 0;
    if (!model || !out) {
        return vitc_error(VITC_ERR_INVALID_ARG, "vitc_ctx_new: %s is NULL",
                          model ? "out" : "model");
    }
    if (p.max_batch < 1 || p.max_batch > MAX_BATCH_LIMIT) {
        return vitc_error(VITC_ERR_INVALID_ARG, "max_batch %d is not in 1..%d", p.max_batch,
                          MAX_BATCH_LIMIT);
    }
    switch (p.backend) {
    case VITC_BACKEND_AUTO:
    case VITC_BACKEND_CPU:
    case VITC_BACKEND_CUDA:
        break;
    default:
        return vitc_error(VITC_ERR_INVALID_ARG, "unknown backend %d", (int)p.backend);
    }
    if ((s = resolve_threads(p.n_threads, &n_threads)) != VITC_OK) {
        return s;
    }
    const struct vitc_config *c = &model->cfg;
    if (c->image_height <= 0 || c->image_width <= 0 || c->patch_size <= 0 || c->hidden_size <= 0 ||
        c->num_attention_heads <= 0) {
        return vitc_error(VITC_ERR_INVALID_ARG, "%s: model dimensions are inconsistent",
                          model->dir ? model->dir : "model");
    }
    size_t n_tokens =
        (size_t)(c->image_height / c->patch_size) * (size_t)(c->image_width / c->patch_size) +
        (size_t)model->arch.n_prefix;
    size_t head_dim = (size_t)(c->hidden_size / c->num_attention_heads);

    ctx = vitc_mem_calloc(1, sizeof *ctx);
    if (!ctx) {
        return vitc_error(VITC_ERR_NOMEM, "out of memory creating a ctx");
    }
    ctx->model = model;
    struct vitc_cpu_backend_params bp = {
        .n_threads = n_threads,
        .max_tokens = n_tokens,
        .max_head_dim = head_dim,
        .max_k =
            (size_t)(c->intermediate_size > c->hidden_size ? c->intermediate_size : c->hidden_size),
        .precision = model->params.precision,
    };
    /* AUTO is the CPU: a GPU is used only when asked for. */
    s = p.backend == VITC_BACKEND_CUDA
            ? vitc_backend_cuda_new(model, p.device, (size_t)p.max_batch, &ctx->be)
            : vitc_backend_cpu_create(&bp, &ctx->be);
    if (s != VITC_OK ||
        (s = vitc_model_acts_new(model, ctx->be, (size_t)p.max_batch, &ctx->acts)) != VITC_OK) {
        vitc_ctx_free(ctx);
        return s;
    }
    /* Read back from the pool rather than copied from the request: what really runs. */
    ctx->n_threads = p.backend == VITC_BACKEND_CUDA ? 0 : vitc_backend_cpu_n_threads(ctx->be);
    *out = ctx;
    return VITC_OK;
}

void vitc_ctx_free(vitc_ctx *ctx)
{
    if (!ctx) {
        return;
    }
    if (ctx->be) {
        vitc_model_acts_free(ctx->be, &ctx->acts);
    }
    vitc_backend_free(ctx->be);
    vitc_mem_free(ctx);
}

int vitc_ctx_n_threads(const vitc_ctx *ctx)
{
    return ctx ? ctx->n_threads : 0;
}

size_t vitc_ctx_device_memory(const vitc_ctx *ctx)
{
    if (!ctx || !ctx->be->ops->device_memory) {
        return 0;
    }
    return ctx->be->ops->device_memory(ctx->be);
}

vitc_status vitc_ctx_device_time(vitc_ctx *ctx, double *ms)
{
    if (!ctx || !ms) {
        return vitc_error(VITC_ERR_INVALID_ARG, "vitc_ctx_device_time: %s is NULL",
                          ctx ? "ms" : "ctx");
    }
    if (!ctx->be->ops->device_time) {
        return vitc_error(VITC_ERR_UNSUPPORTED,
                          "vitc_ctx_device_time: a %s ctx has no device "
                          "time",
                          ctx->be->ops->name);
    }
    if (ctx->n_last == 0) {
        return vitc_error(VITC_ERR_INVALID_ARG,
                          "vitc_ctx_device_time: no forward yet (call vitc_forward first)");
    }
    return ctx->be->ops->device_time(ctx->be, ms);
}

void vitc_ctx_set_tap(vitc_ctx *ctx, vitc_tap_fn fn, void *user)
{
    if (ctx) {
        ctx->tap = fn;
        ctx->tap_user = fn ? user : NULL;
    }
}

/* ---- inference ---- */

static const char *const output_names[VITC_N_OUTPUTS] = {
    [VITC_OUTPUT_PIXEL_VALUES] = "pixel_values",
    [VITC_OUTPUT_LAST_HIDDEN_STATE] = "last_hidden_state",
    [VITC_OUTPUT_POOLER] = "pooler_output",
    [VITC_OUTPUT_CLS] = "cls",
    [VITC_OUTPUT_LOGITS] = "logits",
    [VITC_OUTPUT_IMAGE_EMBEDS] = "image_embeds",
};
_Static_assert(VITC_OUTPUT_IMAGE_EMBEDS == VITC_N_OUTPUTS - 1, "a name for every output");

const char *vitc_output_name(vitc_output which)
{
    return (unsigned)which < VITC_N_OUTPUTS ? output_names[which] : NULL;
}

int vitc_output_by_name(const char *name)
{
    for (int k = 0; name && k < VITC_N_OUTPUTS; k++) {
        if (strcmp(name, output_names[k]) == 0) {
            return k;
        }
    }
    return -1;
}

size_t vitc_output_size(const vitc_model *model, vitc_output which)
{
    if (!model) {
        return 0;
    }
    const struct vitc_config *c = &model->cfg;
    if (c->patch_size <= 0 || c->image_height <= 0 || c->image_width <= 0 || c->hidden_size <= 0) {
        return 0;
    }
    size_t Hp = (size_t)c->image_height, Wp = (size_t)c->image_width, D = (size_t)c->hidden_size;
    size_t Np = (Hp / (size_t)c->patch_size) * (Wp / (size_t)c->patch_size);
    switch (which) {
    case VITC_OUTPUT_PIXEL_VALUES:
        return (size_t)c->num_channels * Hp * Wp;
    case VITC_OUTPUT_LAST_HIDDEN_STATE:
        return (Np + (size_t)model->arch.n_prefix) * D;
    case VITC_OUTPUT_POOLER:
        return model->arch.pool != VITC_POOL_NONE ? D : 0;
    case VITC_OUTPUT_IMAGE_EMBEDS:
        return model->arch.projection ? (size_t)model->w.projection.n_out : 0;
    case VITC_OUTPUT_CLS:
        return D;
    case VITC_OUTPUT_LOGITS:
        return model->w.classifier.weight ? (size_t)model->w.classifier.n_out : 0;
    }
    return 0;
}

vitc_status vitc_forward(vitc_ctx *ctx, const float *pixel_values, size_t n_images)
{
    if (!ctx || !pixel_values) {
        return vitc_error(VITC_ERR_INVALID_ARG, "vitc_forward: %s is NULL",
                          ctx ? "pixel_values" : "ctx");
    }
    if (n_images < 1 || n_images > ctx->acts.max_batch) {
        return vitc_error(VITC_ERR_INVALID_ARG,
                          "vitc_forward: n_images %zu is not in 1..%zu (the ctx's max_batch)",
                          n_images, ctx->acts.max_batch);
    }
    /* Non-finite input would spread through every token; refuse it here
     * rather than return NaN outputs. */
    size_t per_image = vitc_output_size(ctx->model, VITC_OUTPUT_PIXEL_VALUES);
    for (size_t i = 0; i < n_images; i++) {
        const float *img = pixel_values + i * per_image;
        for (size_t j = 0; j < per_image; j++) {
            if (!isfinite(img[j])) {
                return vitc_error(VITC_ERR_INVALID_ARG, "pixel_values contain NaN/Inf at image %zu",
                                  i);
            }
        }
    }
    ctx->n_last = 0;
    vitc_status s = vitc_model_forward(ctx->model, ctx->be, &ctx->acts, pixel_values, n_images,
                                       ctx->tap, ctx->tap_user);
    if (s == VITC_OK) {
        ctx->n_last = n_images;
    }
    return s;
}

/* The buffer holding an output; the outputs a model lacks are refused. */
static vitc_status output_buffer(const vitc_ctx *ctx, vitc_output which, const float **out)
{
    const struct vitc_acts *a = &ctx->acts;
    switch (which) {
    case VITC_OUTPUT_PIXEL_VALUES:
        *out = a->pixels;
        return VITC_OK;
    case VITC_OUTPUT_LAST_HIDDEN_STATE:
        *out = a->last_hidden;
        return VITC_OK;
    case VITC_OUTPUT_CLS:
        *out = a->cls;
        return VITC_OK;
    case VITC_OUTPUT_POOLER:
        if (!a->pooled) {
            return vitc_error(VITC_ERR_UNSUPPORTED, "this model has no pooler (pooler_output); "
                                                    "use cls or last_hidden_state");
        }
        *out = a->pooled;
        return VITC_OK;
    case VITC_OUTPUT_LOGITS:
        if (!a->logits) {
            return vitc_error(VITC_ERR_UNSUPPORTED, "this model has no classifier head "
                                                    "(logits); use pooler_output or cls");
        }
        *out = a->logits;
        return VITC_OK;
    case VITC_OUTPUT_IMAGE_EMBEDS:
        if (!a->embeds) {
            return vitc_error(VITC_ERR_UNSUPPORTED, "this model has no visual projection "
                                                    "(image_embeds); use pooler_output or cls");
        }
        *out = a->embeds;
        return VITC_OK;
    }
    return vitc_error(VITC_ERR_INVALID_ARG, "vitc_get_output: unknown output %d", (int)which);
}

vitc_status vitc_get_output(vitc_ctx *ctx, vitc_output which, float *out, size_t n_floats)
{
    const float *buf = NULL;
    vitc_status s = VITC_OK;
    if (!ctx || !out) {
        return vitc_error(VITC_ERR_INVALID_ARG, "vitc_get_output: %s is NULL", ctx ? "out" : "ctx");
    }
    if ((s = output_buffer(ctx, which, &buf)) != VITC_OK) {
        return s;
    }
    if (ctx->n_last == 0) {
        return vitc_error(VITC_ERR_INVALID_ARG,
                          "vitc_get_output: no results yet (call vitc_forward first)");
    }
    size_t want = ctx->n_last * vitc_output_size(ctx->model, which);
    if (n_floats != want) {
        return vitc_error(VITC_ERR_INVALID_ARG,
                          "vitc_get_output: n_floats is %zu, the output has %zu "
                          "(%zu images x %zu)",
                          n_floats, want, ctx->n_last, want / ctx->n_last);
    }
    return ctx->be->ops->download(ctx->be, out, buf, want);
}
