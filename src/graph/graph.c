/* SPDX-License-Identifier: MIT
 *
 * graph.c — the one ViT forward pass (transformers' modeling_vit.py, eval
 * mode; DeiT's and CLIP's vision tower through the options of struct
 * vitc_arch), written once against the backend ops of backend.h, plus the plan of
 * the activation buffers it runs in. Graph layer: no arithmetic, no threads,
 * no knowledge of which backend runs it; no file formats.
 */
#include <stdio.h>

#include "base/err.h"
#include "graph/graph.h"
#include "model/model.h"

/* Passes a failed op's status up; the op has set the message. */
#define TRY(expr)                                                                                  \
    do {                                                                                           \
        vitc_status s_ = (expr);                                                                   \
        if (s_ != VITC_OK) {                                                                       \
            return s_;                                                                             \
        }                                                                                          \
    } while (0)

/* Buffers start on 64-byte boundaries (16 floats), for aligned vector loads. */
#define ALIGN_FLOATS 16

/* The sizes the graph works with, derived from the config and weights. */
struct dims {
    size_t C, P;        /* num_channels, patch_size                 */
    size_t Hp, Wp;      /* the input's pixels: image_height, _width */
    size_t Np, T;       /* patches per image, tokens (Np + n_prefix) */
    size_t pre;         /* prefix tokens (CLS, distillation)        */
    size_t E;           /* image_embeds width, 0 without projection */
    size_t D, H, hd, I; /* hidden, heads, head dim, intermediate    */
    size_t cpp;         /* C*P*P: one unfolded patch                */
    size_t L;           /* classifier outputs, 0 without classifier */
};

static vitc_status get_dims(const struct vitc_model *m, struct dims *o)
{
    const struct vitc_config *c = &m->cfg;
    const char *name = m->dir ? m->dir : "model";
    if (c->num_channels <= 0 || c->image_height < c->patch_size || c->image_width < c->patch_size ||
        c->patch_size <= 0 || c->hidden_size <= 0 || c->num_attention_heads <= 0 ||
        c->intermediate_size <= 0 || c->num_hidden_layers < 0 ||
        c->hidden_size % c->num_attention_heads != 0 ||
        (c->num_hidden_layers > 0 && !m->w.layers)) {
        return vitc_error(VITC_ERR_INVALID_ARG, "%s: model dimensions are inconsistent", name);
    }
    struct dims d = {
        .C = (size_t)c->num_channels,
        .Hp = (size_t)c->image_height,
        .Wp = (size_t)c->image_width,
        .P = (size_t)c->patch_size,
        .D = (size_t)c->hidden_size,
        .H = (size_t)c->num_attention_heads,
        .I = (size_t)c->intermediate_size,
        .L = m->w.classifier.weight ? (size_t)m->w.classifier.n_out : 0,
        .pre = (size_t)m->arch.n_prefix,
        .E = m->arch.projection ? (size_t)m->w.projection.n_out : 0,
    };
    /* The patch grid floors as the stride-P convolution does: remainder
     * pixels at the bottom and right are never read. */
    size_t gh = d.Hp / d.P, gw = d.Wp / d.P;
    d.hd = d.D / d.H;
    /* Every int is < 2^31, so these products of two fit; C*P*P and gh*gw are
     * checked since they are bounded only by the config. */
    if (m->arch.n_prefix < 0 || vitc_mul_size(gh, gw, &d.Np) || vitc_add_size(d.Np, d.pre, &d.T) ||
        vitc_mul_size(d.C * d.P, d.P, &d.cpp)) {
        return vitc_error(VITC_ERR_INVALID_ARG, "%s: model dimensions overflow", name);
    }
    *o = d;
    return VITC_OK;
}

/* ---- activation buffers ---- */

/* *acc = *acc * b, non-zero on overflow. */
static int mul_into(size_t *acc, size_t b)
{
    return vitc_mul_size(*acc, b, acc);
}

vitc_status vitc_model_acts_new(const struct vitc_model *m, struct vitc_be *be, size_t max_batch,
                                struct vitc_acts *out)
{
    struct dims d;
    struct vitc_acts a = {.max_batch = max_batch};
    TRY(get_dims(m, &d));
    size_t n = max_batch;
    bool pooler = m->arch.pool != VITC_POOL_NONE;
    /* Each buffer and its floats per image (the product of three factors),
     * in arena order; a buffer of 0 floats is absent and stays NULL. */
    struct {
        float **p;
        size_t f[3];
    } plan[] = {
        {&a.pixels, {d.C, d.Hp, d.Wp}},                 /* (n, C, H, W)   */
        {&a.patches, {d.Np, d.cpp, 1}},                 /* (n*Np, C*P*P)  */
        {&a.patch_emb, {d.Np, d.D, 1}},                 /* (n*Np, D)      */
        {&a.h, {d.T, d.D, 1}},                          /* (n*T, D)       */
        {&a.xn, {d.T, d.D, 1}},                         /* (n*T, D)       */
        {&a.qkv, {d.T, d.D, 3}},                        /* (n*T, 3D)      */
        {&a.attn, {d.T, d.D, 1}},                       /* (n*T, D)       */
        {&a.mlp, {d.T, d.I, m->arch.swiglu ? 2 : 1}},   /* (n*T, I or 2I) */
        {&a.glu, {m->arch.swiglu ? d.T : 0, d.I, 1}},   /* (n*T, I)   */
        {&a.last_hidden, {d.T, d.D, 1}},                /* (n*T, D)       */
        {&a.cls, {d.D, 1, 1}},                          /* (n, D)         */
        {&a.dist, {m->arch.distilled ? d.D : 0, 1, 1}}, /* (n, D)    */
        {&a.embeds, {d.E, 1, 1}},                       /* (n, E)         */
        {&a.pooled, {pooler ? d.D : 0, 1, 1}},          /* (n, D)         */
        {&a.logits, {d.L, 1, 1}},                       /* (n, L)         */
    };
    const size_t n_plan = sizeof plan / sizeof plan[0];
    size_t offset[sizeof plan / sizeof plan[0]];
    size_t total = 0;
    for (size_t i = 0; i < n_plan; i++) {
        size_t sz = n;
        if (mul_into(&sz, plan[i].f[0]) || mul_into(&sz, plan[i].f[1]) ||
            mul_into(&sz, plan[i].f[2]) || vitc_add_size(sz, ALIGN_FLOATS - 1, &sz)) {
            goto overflow;
        }
        sz -= sz % ALIGN_FLOATS;
        offset[i] = total;
        if (vitc_add_size(total, sz, &total)) {
            goto overflow;
        }
    }
    TRY(be->ops->alloc(be, total, &a.arena));
    for (size_t i = 0; i < n_plan; i++) {
        *plan[i].p = plan[i].f[0] ? a.arena + offset[i] : NULL;
    }
    if (!be->ops->host_memory) {
        /* The largest tapped stage: (n*T, D) or (n, L); both products were
         * checked by the plan above. */
        size_t floats = d.T * d.D > d.L ? d.T * d.D : d.L, bytes = 0;
        if (mul_into(&floats, n) || vitc_mul_size(floats, sizeof(float), &bytes) ||
            !(a.staging = vitc_mem_alloc(bytes))) {
            be->ops->release(be, a.arena);
            return vitc_error(VITC_ERR_NOMEM, "%s: out of memory for the tap staging buffer",
                              m->dir ? m->dir : "model");
        }
    }
    *out = a;
    return VITC_OK;
overflow:
    return vitc_error(VITC_ERR_INVALID_ARG,
                      "%s: activation memory for max_batch %zu overflows size_t",
                      m->dir ? m->dir : "model", max_batch);
}

void vitc_model_acts_free(struct vitc_be *be, struct vitc_acts *a)
{
    if (a->arena) {
        be->ops->release(be, a->arena);
    }
    vitc_mem_free(a->staging);
    *a = (struct vitc_acts){0};
}

/* ---- the forward pass ---- */

/* Hands a stage's buffer (n * rows, cols) to the tap, through the host
 * staging buffer when backend memory is not host memory. */
static vitc_status tap_stage(struct vitc_be *be, const struct vitc_acts *a, vitc_tap_fn tap,
                             void *user, const char *stage, const float *buf, size_t n, size_t rows,
                             size_t cols)
{
    if (!tap) {
        return VITC_OK;
    }
    const float *view = buf;
    if (!be->ops->host_memory) {
        TRY(be->ops->download(be, a->staging, buf, n * rows * cols));
        view = a->staging;
    }
    tap(stage, view, n, rows, cols, user);
    return VITC_OK;
}

static vitc_status forward_ops(const struct vitc_model *m, struct vitc_be *be,
                               const struct vitc_acts *a, const float *pixel_values,
                               size_t n_images, vitc_tap_fn tap, void *tap_user)
{
    const struct vitc_backend_ops *op = be->ops;
    const struct vitc_weights *w = &m->w;
    const double eps = m->cfg.layer_norm_eps;
    struct dims d;
    TRY(get_dims(m, &d));
    const size_t n = n_images, rows = n * d.T;

    /* Embeddings: the patch conv as a linear over unfolded patches, then
     * [CLS; patches] + position embeddings. */
    TRY(op->upload(be, a->pixels, pixel_values, n * d.C * d.Hp * d.Wp));       /* (n, C, H, W) */
    TRY(op->patch_unfold(be, a->pixels, n, d.C, d.Hp, d.Wp, d.P, a->patches)); /* (n*Np, C*P*P) */
    TRY(op->linear(be, &w->patch, a->patches, n * d.Np, a->patch_emb, VITC_ACT_NONE, NULL));
    if (d.pre == 1) {
        TRY(op->assemble_tokens(be, a->patch_emb, w->cls_token, w->pos_embed, n, d.Np, d.D,
                                a->h)); /* (n*T, D) */
    } else {
        TRY(op->assemble_prefix(be, a->patch_emb, w->cls_token, d.pre, w->pos_embed, n, d.Np, d.D,
                                a->h)); /* (n*T, D) */
    }
    if (m->arch.pre_norm) { /* CLIP's pre_layrnorm, in place */
        TRY(op->layernorm(be, a->h, a->h, rows, d.D, w->pre_ln_w, w->pre_ln_b, eps));
    }
    TRY(tap_stage(be, a, tap, tap_user, "embeddings", a->h, n, d.T, d.D));

    /* Encoder: pre-LayerNorm blocks, residuals added in place into h. */
    for (int i = 0; i < m->cfg.num_hidden_layers; i++) {
        const struct vitc_layer_weights *l = &w->layers[i];
        TRY(op->layernorm(be, a->h, a->xn, rows, d.D, l->ln_before_w, l->ln_before_b, eps));
        TRY(op->linear(be, &l->qkv, a->xn, rows, a->qkv, VITC_ACT_NONE, NULL)); /* (n*T, 3D) */
        TRY(op->attention(be, a->qkv, a->attn, n, d.T, d.H, d.hd));             /* (n*T, D) */
        TRY(op->linear(be, &l->attn_out, a->attn, rows, a->h, VITC_ACT_NONE, a->h));
        TRY(op->layernorm(be, a->h, a->xn, rows, d.D, l->ln_after_w, l->ln_after_b, eps));
        if (m->arch.swiglu) {
            TRY(op->linear(be, &l->fc1, a->xn, rows, a->mlp, VITC_ACT_NONE, NULL)); /* (n*T, 2I) */
            TRY(op->swiglu(be, a->mlp, a->glu, rows, d.I));                         /* (n*T, I) */
            TRY(op->linear(be, &l->fc2, a->glu, rows, a->h, VITC_ACT_NONE, a->h));
        } else {
            TRY(op->linear(be, &l->fc1, a->xn, rows, a->mlp, m->cfg.hidden_act,
                           NULL)); /* (n*T, I) */
            TRY(op->linear(be, &l->fc2, a->mlp, rows, a->h, VITC_ACT_NONE, a->h));
        }
        char stage[32];
        snprintf(stage, sizeof stage, "layer.%d", i);
        TRY(tap_stage(be, a, tap, tap_user, stage, a->h, n, d.T, d.D));
    }

    /* Heads. last_hidden_state is the final LayerNorm of every token, or
     * (CLIP) the last layer's output itself; the pooler, classifier and
     * distillation head read its prefix rows (the classifier never sees the
     * pooler). */
    if (m->arch.final_norm) {
        TRY(op->layernorm(be, a->h, a->last_hidden, rows, d.D, w->ln_final_w, w->ln_final_b, eps));
    } else {
        TRY(op->gather_rows(be, a->h, 1, rows, d.D, a->last_hidden));
    }
    TRY(tap_stage(be, a, tap, tap_user, "last_hidden_state", a->last_hidden, n, d.T, d.D));
    TRY(op->gather_rows(be, a->last_hidden, d.T, n, d.D, a->cls)); /* (n, D) */
    switch (m->arch.pool) {
    case VITC_POOL_DENSE_TANH:
        TRY(op->linear(be, &w->pooler, a->cls, n, a->pooled, VITC_ACT_TANH, NULL)); /* (n, D) */
        break;
    case VITC_POOL_CLS_LN:
        TRY(op->layernorm(be, a->cls, a->pooled, n, d.D, w->ln_final_w, w->ln_final_b, eps));
        break;
    case VITC_POOL_CLS:
        TRY(op->gather_rows(be, a->cls, 1, n, d.D, a->pooled));
        break;
    case VITC_POOL_MAP:
        /* The fixed query against each image's tokens: k | v into the qkv
         * buffer, the pooled heads into attn, then out_proj and the MLP with
         * its residual, on n rows. */
        TRY(op->linear(be, &w->head_kv, a->last_hidden, rows, a->qkv, VITC_ACT_NONE, NULL));
        TRY(op->attention_pool(be, w->head_query, a->qkv, a->attn, n, d.T, d.H, d.hd));
        TRY(op->linear(be, &w->head_out, a->attn, n, a->pooled, VITC_ACT_NONE, NULL));
        TRY(op->layernorm(be, a->pooled, a->xn, n, d.D, w->head_ln_w, w->head_ln_b, eps));
        TRY(op->linear(be, &w->head_fc1, a->xn, n, a->mlp, m->cfg.hidden_act, NULL));
        TRY(op->linear(be, &w->head_fc2, a->mlp, n, a->pooled, VITC_ACT_NONE, a->pooled));
        break;
    default:
        break;
    }
    if (a->pooled) {
        TRY(tap_stage(be, a, tap, tap_user, "pooler", a->pooled, n, 1, d.D));
    }
    if (a->embeds) { /* CLIP's visual_projection of the pooled token, no bias */
        TRY(op->linear(be, &w->projection, a->pooled, n, a->embeds, VITC_ACT_NONE, NULL));
        TRY(tap_stage(be, a, tap, tap_user, "image_embeds", a->embeds, n, 1, d.E));
    }
    if (w->classifier.weight) {
        const float *res = NULL;
        if (a->dist) { /* both heads are halved at load: their sum is the mean */
            TRY(op->gather_rows(be, a->last_hidden + d.D, d.T, n, d.D, a->dist));
            TRY(op->linear(be, &w->distill, a->dist, n, a->logits, VITC_ACT_NONE, NULL));
            res = a->logits;
        }
        TRY(op->linear(be, &w->classifier, a->cls, n, a->logits, VITC_ACT_NONE, res));
        TRY(tap_stage(be, a, tap, tap_user, "logits", a->logits, n, 1, d.L)); /* (n, L) */
    }
    return VITC_OK;
}

vitc_status vitc_model_forward(const struct vitc_model *m, struct vitc_be *be,
                               const struct vitc_acts *a, const float *pixel_values,
                               size_t n_images, vitc_tap_fn tap, void *tap_user)
{
    /* A backend may record the ops once and replay them (CUDA graphs), but
     * not while a tap reads stages in the middle. */
    const struct vitc_backend_ops *op = be->ops;
    if (op->forward_begin) {
        TRY(op->forward_begin(be, n_images, tap == NULL));
    }
    vitc_status s = forward_ops(m, be, a, pixel_values, n_images, tap, tap_user);
    return op->forward_end ? op->forward_end(be, s) : s;
}
