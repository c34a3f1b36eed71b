/* SPDX-License-Identifier: MIT
 *
 * weights.c — a checkpoint's tensors to a model's weight views. With the
 * family table (family.c) the only code that knows Hugging Face tensor
 * names: it finds the family's prefix, checks every tensor's dtype and
 * shape, points F32 views straight into the read-only mapping and converts
 * the rest (and fuses q/k/v) once into one arena, then sets the graph's
 * options from what the file holds. load.c opens the files and calls it.
 * Model layer: no kernels, no forward pass.
 */
#include <limits.h>
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "base/err.h"
#include "base/half.h"
#include "io/safetensors.h"
#include "model/config.h"
#include "model/family.h"
#include "model/model.h"
#include "model/pos_interp.h"

/* Weights are viewed in place as float32, so the file's little-endian floats
 * must be the host's. */
_Static_assert(__BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__, "vitc needs a little-endian host");

/* Converted tensors start on 64-byte boundaries inside the arena. */
#define ARENA_ALIGN_FLOATS 16
#define MAX_NAME           256

struct shape {
    int ndim;
    uint64_t d[4];
};

/* One pass of the loader. The tensor walk runs twice with the same code: a
 * planning pass that validates everything and sizes the arena, then a
 * filling pass that sets the views and converts into the arena. */
struct loader {
    struct vitc_model *m;
    const struct vitc_safetensors *st;
    const struct vitc_family_desc *fam; /* the family's names      */
    const char *prefix;                 /* the tower's: "" (ViTModel), "vit." (classifier), ... */
    unsigned char *used;                /* (st->n_tensors) per tensor: consumed */
    int filling;                        /* 0: plan, 1: fill */
    size_t arena_floats;                /* plan: total; fill: cursor */
    uint64_t n_params;
    unsigned dtypes; /* bit per vitc_st_dtype among used tensors */
    char name[MAX_NAME];
};

/* ---- names and shapes ---- */

/* Layer `layer`'s tensor: the family's layer prefix, then a name and an
 * optional ".weight" / ".bias" (suffix2). */
static const char *lname2(struct loader *L, int layer, const char *suffix, const char *suffix2)
{
    char lp[64];
    snprintf(lp, sizeof lp, L->fam->layer, layer);
    snprintf(L->name, sizeof L->name, "%s%s%s%s", L->prefix, lp, suffix, suffix2);
    return L->name;
}

static const char *tname2(struct loader *L, const char *suffix, const char *suffix2)
{
    snprintf(L->name, sizeof L->name, "%s%s%s", L->prefix, suffix, suffix2);
    return L->name;
}

static void format_dims(char *buf, size_t n, int ndim, const uint64_t *d)
{
    size_t at = (size_t)snprintf(buf, n, "[");
    for (int i = 0; i < ndim && at < n; i++) {
        at += (size_t)snprintf(buf + at, n - at, "%s%llu", i ? "," : "", (unsigned long long)d[i]);
    }
    if (at < n) {
        snprintf(buf + at, n - at, "]");
    }
}

static int usable_dtype(enum vitc_st_dtype d)
{
    return d == VITC_ST_F32 || d == VITC_ST_F16 || d == VITC_ST_BF16;
}

/* Finds name, checks dtype and shape, and marks it used (counting its
 * parameters in the planning pass). */
static vitc_status lookup(struct loader *L, const char *name, struct shape want,
                          const struct vitc_st_tensor **out)
{
    const struct vitc_st_tensor *t = vitc_st_find(L->st, name);
    if (!t) {
        return vitc_error(VITC_ERR_FORMAT, "%s: missing tensor '%s'", L->st->name, name);
    }
    int same = t->ndim == want.ndim;
    for (int i = 0; same && i < want.ndim; i++) {
        same = t->shape[i] == want.d[i];
    }
    if (!same) {
        char exp[96], got[160];
        format_dims(exp, sizeof exp, want.ndim, want.d);
        format_dims(got, sizeof got, t->ndim, t->shape);
        return vitc_error(VITC_ERR_FORMAT, "%s: tensor '%s': expected shape %s, got %s %s",
                          L->st->name, name, exp, vitc_st_dtype_name(t->dtype), got);
    }
    if (!usable_dtype(t->dtype)) {
        return vitc_error(VITC_ERR_UNSUPPORTED,
                          "%s: tensor '%s': dtype %s is not supported (weights must be F32, F16 "
                          "or BF16)",
                          L->st->name, name, vitc_st_dtype_name(t->dtype));
    }
    size_t idx = (size_t)(t - L->st->tensors);
    if (!L->filling && !L->used[idx]) {
        L->n_params += t->n_elems;
        L->dtypes |= 1u << t->dtype;
    }
    L->used[idx] = 1;
    *out = t;
    return VITC_OK;
}

/* ---- weights ---- */

static void convert(const struct vitc_st_tensor *t, float *dst)
{
    const uint8_t *p = t->data;
    switch (t->dtype) {
    case VITC_ST_F32:
        memcpy(dst, p, t->n_elems * sizeof(float));
        break;
    case VITC_ST_F16:
        for (size_t i = 0; i < t->n_elems; i++) {
            dst[i] = vitc_f16_to_f32((uint16_t)(p[2 * i] | p[2 * i + 1] << 8));
        }
        break;
    default: /* BF16: lookup() admits nothing else */
        for (size_t i = 0; i < t->n_elems; i++) {
            dst[i] = vitc_bf16_to_f32((uint16_t)(p[2 * i] | p[2 * i + 1] << 8));
        }
        break;
    }
}

static vitc_status check_finite(const struct loader *L, const char *name, const float *x, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        if (!isfinite(x[i])) {
            return vitc_error(VITC_ERR_FORMAT, "%s: tensor '%s': element %zu is %s", L->st->name,
                              name, i, isnan(x[i]) ? "NaN" : "infinite");
        }
    }
    return VITC_OK;
}

static size_t round_floats(size_t n)
{
    return (n + ARENA_ALIGN_FLOATS - 1) / ARENA_ALIGN_FLOATS * ARENA_ALIGN_FLOATS;
}

/* Reserves n floats of the arena (plan: counts; fill: returns the slot). */
static float *reserve(struct loader *L, size_t n)
{
    float *slot = L->filling ? L->m->arena + L->arena_floats : NULL;
    L->arena_floats += round_floats(n);
    return slot;
}

/* A weight view: F32 tensors that are 4-byte aligned in the mapping are
 * used in place; the others are converted into the arena. */
static vitc_status take(struct loader *L, const char *name, struct shape want, const float **dst)
{
    const struct vitc_st_tensor *t = NULL;
    vitc_status s = lookup(L, name, want, &t);
    if (s != VITC_OK) {
        return s;
    }
    int in_place = t->dtype == VITC_ST_F32 && ((uintptr_t)t->data % sizeof(float)) == 0;
    if (in_place) {
        if (L->filling) {
            *dst = (const float *)(const void *)t->data;
            s = check_finite(L, name, *dst, t->n_elems);
            /* Checked: its pages need not stay resident until it is packed. */
            vitc_st_release(L->st, t->data, t->n_elems * sizeof(float));
            return s;
        }
        return VITC_OK;
    }
    float *slot = reserve(L, t->n_elems);
    if (L->filling) {
        convert(t, slot);
        *dst = slot;
        return check_finite(L, name, slot, t->n_elems);
    }
    return VITC_OK;
}

/* Converts a tensor into a given place of the arena (the fused q/k/v bias). */
static vitc_status take_into(struct loader *L, const char *name, struct shape want, float *dst)
{
    const struct vitc_st_tensor *t = NULL;
    vitc_status s = lookup(L, name, want, &t);
    if (s != VITC_OK || !L->filling) {
        return s;
    }
    convert(t, dst);
    return check_finite(L, name, dst, t->n_elems);
}

/* A Linear's weight (n_out, n_in) and bias (n_out). bname must not be
 * L->name, which wname may be. */
static vitc_status take_linear(struct loader *L, const char *wname, const char *bname, int n_out,
                               int n_in, struct vitc_linear *lin)
{
    vitc_status s =
        take(L, wname, (struct shape){2, {(uint64_t)n_out, (uint64_t)n_in}}, &lin->weight);
    if (s == VITC_OK) {
        s = take(L, bname, (struct shape){1, {(uint64_t)n_out}}, &lin->bias);
    }
    lin->n_out = n_out;
    lin->n_in = n_in;
    return s;
}

/* q, k, v as one linear of rows q then k then v: weight (3H, H) in three
 * parts (views, converted only when the file's dtype needs it), bias (3H)
 * fused in the arena or NULL. */
static vitc_status take_qkv(struct loader *L, int layer, struct vitc_linear *qkv)
{
    const char *const part[3] = {L->fam->q, L->fam->k, L->fam->v};
    const struct vitc_config *c = &L->m->cfg;
    size_t H = (size_t)c->hidden_size;
    float *b = c->qkv_bias ? reserve(L, 3 * H) : NULL;
    vitc_status s;
    for (int j = 0; j < 3; j++) {
        s = take(L, lname2(L, layer, part[j], ".weight"), (struct shape){2, {H, H}},
                 &qkv->parts[j]);
        if (s != VITC_OK) {
            return s;
        }
        const char *bname = lname2(L, layer, part[j], ".bias");
        if (!c->qkv_bias) {
            if (vitc_st_find(L->st, bname)) {
                return vitc_error(VITC_ERR_FORMAT,
                                  "%s: tensor '%s' is present but config.json has qkv_bias false",
                                  L->st->name, bname);
            }
            continue;
        }
        s = take_into(L, bname, (struct shape){1, {H}}, b ? b + (size_t)j * H : NULL);
        if (s != VITC_OK) {
            return s;
        }
    }
    qkv->weight = NULL;
    qkv->n_parts = 3;
    qkv->bias = b;
    qkv->n_out = (int)(3 * H);
    qkv->n_in = (int)H;
    return VITC_OK;
}

/* A LayerNorm's weight and bias (hidden) of layer i (i < 0: of the tower). */
static vitc_status take_ln(struct loader *L, int i, const char *name, const float **w,
                           const float **b)
{
    struct shape vec = {1, {(uint64_t)L->m->cfg.hidden_size}};
    vitc_status s =
        take(L, i < 0 ? tname2(L, name, ".weight") : lname2(L, i, name, ".weight"), vec, w);
    if (s == VITC_OK) {
        s = take(L, i < 0 ? tname2(L, name, ".bias") : lname2(L, i, name, ".bias"), vec, b);
    }
    return s;
}

/* A Linear of layer i (i < 0: of the tower; absolute: no tower prefix). */
static vitc_status take_named_linear(struct loader *L, int i, const char *name, int absolute,
                                     int n_out, int n_in, int has_bias, struct vitc_linear *lin)
{
    char wname[MAX_NAME], bname[MAX_NAME];
    if (absolute) {
        snprintf(wname, sizeof wname, "%s.weight", name);
        snprintf(bname, sizeof bname, "%s.bias", name);
    } else {
        snprintf(wname, sizeof wname, "%s",
                 i < 0 ? tname2(L, name, ".weight") : lname2(L, i, name, ".weight"));
        snprintf(bname, sizeof bname, "%s",
                 i < 0 ? tname2(L, name, ".bias") : lname2(L, i, name, ".bias"));
    }
    if (has_bias) {
        return take_linear(L, wname, bname, n_out, n_in, lin);
    }
    if (vitc_st_find(L->st, bname)) {
        return vitc_error(VITC_ERR_FORMAT,
                          "%s: tensor '%s' is not expected (this layer has no bias)", L->st->name,
                          bname);
    }
    lin->n_out = n_out;
    lin->n_in = n_in;
    lin->bias = NULL;
    return take(L, wname, (struct shape){2, {(uint64_t)n_out, (uint64_t)n_in}}, &lin->weight);
}

/* A copy of lin in the arena with row r scaled by scale[r] (DINOv2's layer
 * scale folded into the linear before it: lambda * (x W^T + b) = x (lambda
 * W)^T + lambda b, one rounding per weight instead of one per output). */
static vitc_status scale_rows(struct loader *L, struct vitc_linear *lin, const float *scale)
{
    size_t N = (size_t)lin->n_out, K = (size_t)lin->n_in;
    float *w = reserve(L, N * K), *b = reserve(L, N);
    if (L->filling) {
        for (size_t r = 0; r < N; r++) {
            for (size_t k = 0; k < K; k++) {
                w[r * K + k] = lin->weight[r * K + k] * scale[r];
            }
            b[r] = lin->bias[r] * scale[r];
        }
        lin->weight = w;
        lin->bias = b;
    }
    return VITC_OK;
}

static vitc_status take_layer(struct loader *L, int i, struct vitc_layer_weights *lw)
{
    const struct vitc_family_desc *f = L->fam;
    const struct vitc_config *c = &L->m->cfg;
    int H = c->hidden_size, I = c->intermediate_size;
    const char *fc1 = c->swiglu ? f->glu_in : f->fc1, *fc2 = c->swiglu ? f->glu_out : f->fc2;
    vitc_status s;
    if (c->swiglu && !f->glu_in) {
        return vitc_error(VITC_ERR_UNSUPPORTED, "%s: a %s model has no SwiGLU feed-forward",
                          L->st->name, f->model_type);
    }
    if ((s = take_ln(L, i, f->ln1, &lw->ln_before_w, &lw->ln_before_b)) ||
        (s = take_qkv(L, i, &lw->qkv)) ||
        (s = take_named_linear(L, i, f->attn_out, 0, H, H, 1, &lw->attn_out)) ||
        (s = take_ln(L, i, f->ln2, &lw->ln_after_w, &lw->ln_after_b)) ||
        (s = take_named_linear(L, i, fc1, 0, c->swiglu ? 2 * I : I, H, 1, &lw->fc1)) ||
        (s = take_named_linear(L, i, fc2, 0, H, I, 1, &lw->fc2))) {
        return s;
    }
    if (f->ls1) {
        struct shape vec = {1, {(uint64_t)H}};
        const float *l1 = NULL, *l2 = NULL;
        char n2[MAX_NAME];
        snprintf(n2, sizeof n2, "%s", lname2(L, i, f->ls2, ""));
        if ((s = take(L, lname2(L, i, f->ls1, ""), vec, &l1)) || (s = take(L, n2, vec, &l2)) ||
            (s = scale_rows(L, &lw->attn_out, l1)) || (s = scale_rows(L, &lw->fc2, l2))) {
            return s;
        }
    }
    return VITC_OK;
}

/* SigLIP's attention-pooling head: probe, the packed in_proj (q rows, then
 * k, then v), out_proj, layernorm and mlp. The query is the same for every
 * image, so probe W_q^T + b_q is computed here once (in double, rounded
 * once) and k | v stay one linear of 2H rows. */
static vitc_status take_head(struct loader *L)
{
    struct vitc_weights *w = &L->m->w;
    const struct vitc_config *c = &L->m->cfg;
    uint64_t H = (uint64_t)c->hidden_size;
    char hp[64], name[MAX_NAME];
    const float *probe = NULL, *inw = NULL, *inb = NULL;
    vitc_status s;
    snprintf(hp, sizeof hp, "%s", L->fam->head);
    snprintf(name, sizeof name, "%sprobe", hp);
    if ((s = take(L, tname2(L, name, ""), (struct shape){3, {1, 1, H}}, &probe))) {
        return s;
    }
    snprintf(name, sizeof name, "%sattention.in_proj_weight", hp);
    if ((s = take(L, tname2(L, name, ""), (struct shape){2, {3 * H, H}}, &inw))) {
        return s;
    }
    snprintf(name, sizeof name, "%sattention.in_proj_bias", hp);
    if ((s = take(L, tname2(L, name, ""), (struct shape){1, {3 * H}}, &inb))) {
        return s;
    }
    float *q = reserve(L, H);
    w->head_kv.n_out = (int)(2 * H);
    w->head_kv.n_in = (int)H;
    if (L->filling) {
        for (size_t r = 0; r < H; r++) {
            double acc = inb[r];
            for (size_t k = 0; k < H; k++) {
                acc += (double)probe[k] * inw[r * H + k];
            }
            q[r] = (float)acc;
        }
        w->head_query = q;
        w->head_kv.weight = inw + H * H;
        w->head_kv.bias = inb + H;
    }
    snprintf(name, sizeof name, "%sattention.out_proj", hp);
    if ((s = take_named_linear(L, -1, name, 0, (int)H, (int)H, 1, &w->head_out))) {
        return s;
    }
    snprintf(name, sizeof name, "%slayernorm", hp);
    if ((s = take_ln(L, -1, name, &w->head_ln_w, &w->head_ln_b))) {
        return s;
    }
    snprintf(name, sizeof name, "%smlp.fc1", hp);
    if ((s = take_named_linear(L, -1, name, 0, c->intermediate_size, (int)H, 1, &w->head_fc1))) {
        return s;
    }
    snprintf(name, sizeof name, "%smlp.fc2", hp);
    return take_named_linear(L, -1, name, 0, (int)H, c->intermediate_size, 1, &w->head_fc2);
}

/* The position table: the file's (n_prefix + N*N rows, N = table_size /
 * patch_size). As transformers 4.40.2's interpolate_pos_encoding, it is
 * used as it is when the input's grid has N*N patches and the input is
 * square, else interpolated into the arena for the input's gh x gw grid
 * (a non-square input with N*N patches too: resampling is not the
 * identity, and transformers does it). */
static vitc_status take_pos(struct loader *L)
{
    const struct vitc_family_desc *f = L->fam;
    const struct vitc_config *c = &L->m->cfg;
    uint64_t H = (uint64_t)c->hidden_size, pre = (uint64_t)c->n_prefix;
    uint64_t N = (uint64_t)(c->table_size / c->patch_size);
    uint64_t gh = (uint64_t)(c->image_height / c->patch_size);
    uint64_t gw = (uint64_t)(c->image_width / c->patch_size);
    uint64_t T = N * N + pre;
    struct shape pos =
        f->token_rank == 3 ? (struct shape){3, {1, T, H}} : (struct shape){2, {T, H}};
    const float *table = NULL;
    vitc_status s = take(L, tname2(L, f->pos, ""), pos, &table);
    if (s != VITC_OK || (gh * gw == N * N && c->image_height == c->image_width)) {
        L->m->w.pos_embed = table;
        return s;
    }
    float *out = reserve(L, (size_t)((gh * gw + pre) * H));
    if (L->filling) {
        vitc_pos_interpolate(table, (size_t)pre, (size_t)N, (size_t)H, (size_t)gh, (size_t)gw, out);
        L->m->w.pos_embed = out;
    }
    return VITC_OK;
}

/* A linear whose rows are halved into the arena (DeiT's two heads, whose
 * mean is then their sum: halving is exact in binary floating point). */
static vitc_status halve(struct loader *L, struct vitc_linear *lin)
{
    size_t nw = (size_t)lin->n_out * (size_t)lin->n_in, nb = (size_t)lin->n_out;
    /* The views are set only in the filling pass: reserve for both. */
    float *w = reserve(L, nw), *b = reserve(L, nb);
    if (L->filling) {
        for (size_t i = 0; i < nw; i++) {
            w[i] = lin->weight[i] * 0.5f;
        }
        for (size_t i = 0; b && i < nb; i++) {
            b[i] = lin->bias[i] * 0.5f;
        }
        lin->weight = w;
        lin->bias = b;
    }
    return VITC_OK;
}

/* Classifier rows are id2label's size; without id2label they come from the
 * tensor and the labels stay unnamed. DeiT's distillation head has the same
 * shape. */
static vitc_status take_classifier(struct loader *L)
{
    struct vitc_config *c = &L->m->cfg;
    const struct vitc_family_desc *f = L->fam;
    char wname[MAX_NAME];
    if (!f->classifier) {
        return VITC_OK;
    }
    snprintf(wname, sizeof wname, "%s.weight", f->classifier);
    const struct vitc_st_tensor *t = vitc_st_find(L->st, wname);
    if (!t) {
        return VITC_OK;
    }
    int rows = c->num_labels;
    if (!c->id2label) {
        rows = t->ndim == 2 && t->shape[0] > 0 && t->shape[0] <= INT_MAX ? (int)t->shape[0] : 0;
        if (rows == 0) {
            return vitc_error(VITC_ERR_FORMAT, "%s: tensor '%s': expected shape [num_labels,%d]",
                              L->st->name, wname, c->hidden_size);
        }
    } else if (t->ndim == 2 && t->shape[1] == (uint64_t)c->hidden_size &&
               t->shape[0] != (uint64_t)rows) {
        return vitc_error(VITC_ERR_FORMAT,
                          "%s: tensor '%s' has %llu rows but config.json's "
                          "id2label has %d labels",
                          L->st->name, wname, (unsigned long long)t->shape[0], rows);
    }
    vitc_status s =
        take_named_linear(L, -1, f->classifier, 1, rows, c->hidden_size, 1, &L->m->w.classifier);
    if (s == VITC_OK && f->distill) {
        s = take_named_linear(L, -1, f->distill, 1, rows, c->hidden_size, 1, &L->m->w.distill);
        if (s == VITC_OK) {
            L->m->arch.distilled = true;
            s = halve(L, &L->m->w.classifier);
        }
        if (s == VITC_OK) {
            s = halve(L, &L->m->w.distill);
        }
    }
    if (s == VITC_OK && L->filling) {
        c->num_labels = rows;
    }
    return s;
}

/* The prefix tokens: CLS alone is viewed in place; CLS and the
 * distillation token are joined into (2, H) in the arena. */
static vitc_status take_tokens(struct loader *L)
{
    const struct vitc_family_desc *f = L->fam;
    uint64_t H = (uint64_t)L->m->cfg.hidden_size;
    struct shape tok = f->token_rank == 3 ? (struct shape){3, {1, 1, H}} : (struct shape){1, {H}};
    if (!f->cls) {
        return VITC_OK; /* SigLIP: no prefix token */
    }
    if (!f->dist) {
        return take(L, tname2(L, f->cls, ""), tok, &L->m->w.cls_token);
    }
    float *both = reserve(L, 2 * H);
    vitc_status s = take_into(L, tname2(L, f->cls, ""), tok, both);
    if (s == VITC_OK) {
        s = take_into(L, tname2(L, f->dist, ""), tok, both ? both + H : NULL);
    }
    L->m->w.cls_token = both;
    return s;
}

/* The whole tensor table, in one place for both passes. */
static vitc_status walk(struct loader *L)
{
    struct vitc_model *m = L->m;
    const struct vitc_family_desc *f = L->fam;
    const struct vitc_config *c = &m->cfg;
    struct vitc_weights *w = &m->w;
    uint64_t H = (uint64_t)c->hidden_size, P = (uint64_t)c->patch_size;
    uint64_t C = (uint64_t)c->num_channels;
    vitc_status s;

    if ((s = take_tokens(L)) || (s = take_pos(L)) ||
        (s = take(L, tname2(L, f->patch, ".weight"), (struct shape){4, {H, C, P, P}},
                  &w->patch.weight))) {
        return s;
    }
    if (f->patch_bias) {
        s = take(L, tname2(L, f->patch, ".bias"), (struct shape){1, {H}}, &w->patch.bias);
    } else if (vitc_st_find(L->st, tname2(L, f->patch, ".bias"))) {
        s = vitc_error(VITC_ERR_FORMAT, "%s: tensor '%s' is not expected (no patch bias in %s)",
                       L->st->name, L->name, f->model_type);
    }
    if (s != VITC_OK) {
        return s;
    }
    /* The conv weight (H, C, P, P) is read as a linear (H, C*P*P). */
    w->patch.n_out = (int)H;
    w->patch.n_in = (int)(C * P * P);
    if (f->pre_ln && (s = take_ln(L, -1, f->pre_ln, &w->pre_ln_w, &w->pre_ln_b))) {
        return s;
    }
    for (int i = 0; i < c->num_hidden_layers; i++) {
        if ((s = take_layer(L, i, &w->layers[i]))) {
            return s;
        }
    }
    if ((s = take_ln(L, -1, f->final_ln, &w->ln_final_w, &w->ln_final_b))) {
        return s;
    }
    if (f->pooler && (vitc_st_find(L->st, tname2(L, f->pooler, ".weight")) ||
                      vitc_st_find(L->st, tname2(L, f->pooler, ".bias")))) {
        if ((s = take_named_linear(L, -1, f->pooler, 0, (int)H, (int)H, 1, &w->pooler))) {
            return s;
        }
    }
    if (f->head && (s = take_head(L))) {
        return s;
    }
    if (f->projection) {
        if ((s = take_named_linear(L, -1, f->projection, 1, c->projection_dim, (int)H, 0,
                                   &w->projection))) {
            return s;
        }
    }
    return L->prefix[0] || !f->head_prefix ? take_classifier(L) : VITC_OK;
}

/* ViTModel files name tensors "embeddings...", ViTForImageClassification
 * files "vit.embeddings..." plus "classifier.*" (DeiT: "deit." and its two
 * heads); a file is one or the other. CLIP's tower is always under
 * "vision_model.", beside a text tower that is never read. */
static int is_other(const struct vitc_family_desc *f, const char *n)
{
    for (size_t i = 0; i < sizeof f->other / sizeof f->other[0] && f->other[i]; i++) {
        if (strncmp(n, f->other[i], strlen(f->other[i])) == 0) {
            return 1;
        }
    }
    return 0;
}

static int is_head(const struct vitc_family_desc *f, const char *n)
{
    const char *heads[] = {f->classifier, f->distill, f->projection};
    for (size_t i = 0; i < 3; i++) {
        size_t k = heads[i] ? strlen(heads[i]) : 0;
        if (k && strncmp(n, heads[i], k) == 0 && n[k] == '.') {
            return 1;
        }
    }
    return 0;
}

static vitc_status detect_prefix(struct loader *L)
{
    const struct vitc_family_desc *f = L->fam;
    const char *plain = NULL, *pre = NULL;
    if (!f->head_prefix) {
        L->prefix = f->base_prefix;
        size_t k = strlen(f->base_prefix);
        for (size_t i = 0; i < L->st->n_tensors; i++) {
            if (strncmp(L->st->tensors[i].name, f->base_prefix, k) == 0) {
                return VITC_OK;
            }
        }
        return vitc_error(VITC_ERR_FORMAT,
                          "%s: no vision tower: no tensor is named '%s*' (a %s checkpoint "
                          "without its image encoder?)",
                          L->st->name, f->base_prefix, f->model_type);
    }
    size_t hk = strlen(f->head_prefix);
    for (size_t i = 0; i < L->st->n_tensors; i++) {
        const char *n = L->st->tensors[i].name;
        if (strncmp(n, f->head_prefix, hk) == 0) {
            pre = pre ? pre : n;
        } else if (!is_head(f, n) && !is_other(f, n)) {
            plain = plain ? plain : n;
        }
    }
    if (plain && pre) {
        return vitc_error(VITC_ERR_FORMAT,
                          "%s: tensor names mix '%s'-prefixed and unprefixed ones ('%s' and "
                          "'%s')",
                          L->st->name, f->head_prefix, pre, plain);
    }
    L->prefix = pre ? f->head_prefix : "";
    return VITC_OK;
}

/* Every tensor must have been consumed, except the mask token that only
 * masked-image-modeling uses. */
static vitc_status check_unused(struct loader *L)
{
    for (size_t i = 0; i < L->st->n_tensors; i++) {
        const char *n = L->st->tensors[i].name;
        if (!L->used[i] && !(L->fam->unused && strcmp(n, tname2(L, L->fam->unused, "")) == 0) &&
            !is_other(L->fam, n)) {
            return vitc_error(VITC_ERR_UNSUPPORTED,
                              "%s: unknown tensor '%s' (not part of a %s checkpoint vitc reads)",
                              L->st->name, n, L->fam->model_type);
        }
    }
    return VITC_OK;
}

static const char *dtype_summary(unsigned dtypes)
{
    switch (dtypes) {
    case 1u << VITC_ST_F32:
        return "F32";
    case 1u << VITC_ST_F16:
        return "F16";
    case 1u << VITC_ST_BF16:
        return "BF16";
    default:
        return "mixed";
    }
}

/* Plans, allocates and fills every weight view of m from m->st. */
vitc_status vitc_model_load_weights(struct vitc_model *m)
{
    struct loader L = {.m = m, .st = m->st, .fam = vitc_family_get(m->cfg.family)};
    vitc_status s;

    L.used = vitc_mem_calloc(m->st->n_tensors, 1);
    m->w.layers = vitc_mem_calloc((size_t)m->cfg.num_hidden_layers, sizeof *m->w.layers);
    if (!L.used || !m->w.layers) {
        s = vitc_error(VITC_ERR_NOMEM, "%s: out of memory", m->st->name);
        goto done;
    }
    if ((s = detect_prefix(&L)) || (s = walk(&L)) || (s = check_unused(&L))) {
        goto done;
    }
    size_t bytes;
    if (vitc_mul_size(L.arena_floats, sizeof(float), &bytes)) {
        s = vitc_error(VITC_ERR_NOMEM, "%s: weights too large", m->st->name);
        goto done;
    }
    m->arena = vitc_mem_alloc_aligned(bytes);
    if (!m->arena) {
        s = vitc_error(VITC_ERR_NOMEM, "%s: out of memory for %zu bytes of weights", m->st->name,
                       bytes);
        goto done;
    }
    L.filling = 1;
    L.arena_floats = 0;
    if ((s = walk(&L))) {
        goto done;
    }
    /* The graph's options, from the family and what the file holds. */
    m->arch.n_prefix = m->cfg.n_prefix;
    m->arch.patch_bias = L.fam->patch_bias;
    m->arch.pre_norm = L.fam->pre_ln != NULL;
    m->arch.final_norm = L.fam->final_norm;
    m->arch.pool = m->w.pooler.weight ? VITC_POOL_DENSE_TANH : L.fam->pool;
    m->arch.swiglu = m->cfg.swiglu;
    m->arch.projection = L.fam->projection != NULL;
    m->info.n_params = L.n_params;
    m->info.file_dtype = dtype_summary(L.dtypes);

done:
    vitc_mem_free(L.used);
    return s;
}
