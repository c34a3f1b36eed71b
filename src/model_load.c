/* SPDX-License-Identifier: MIT
 *
 * model_load.c — a Hugging Face ViT directory (config.json, model.safetensors,
 * preprocessor_config.json) to a struct vitc_model. The only file that knows
 * HF tensor names: it checks every tensor's dtype and shape, points F32 views
 * straight into the read-only mapping and converts the rest (and fuses q/k/v)
 * once into one arena. Model layer: no kernels, no forward pass.
 */
#include <errno.h>
#include <limits.h>
#include <math.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>

#include "config.h"
#include "err.h"
#include "half.h"
#include "model.h"
#include "safetensors.h"

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
    const char *prefix;  /* "" (ViTModel) or "vit." (classifier) */
    unsigned char *used; /* (st->n_tensors) per tensor: consumed */
    int filling;         /* 0: plan, 1: fill */
    size_t arena_floats; /* plan: total; fill: cursor */
    uint64_t n_params;
    unsigned dtypes; /* bit per vitc_st_dtype among used tensors */
    char name[MAX_NAME];
};

/* ---- names and shapes ---- */

static const char *tname(struct loader *L, const char *suffix)
{
    snprintf(L->name, sizeof L->name, "%s%s", L->prefix, suffix);
    return L->name;
}

static const char *lname(struct loader *L, int layer, const char *suffix)
{
    snprintf(L->name, sizeof L->name, "%sencoder.layer.%d.%s", L->prefix, layer, suffix);
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
    static const char *const part[3] = {"query", "key", "value"};
    const struct vitc_config *c = &L->m->cfg;
    size_t H = (size_t)c->hidden_size;
    float *b = c->qkv_bias ? reserve(L, 3 * H) : NULL;
    char suffix[64];
    vitc_status s;
    for (int j = 0; j < 3; j++) {
        snprintf(suffix, sizeof suffix, "attention.attention.%s.weight", part[j]);
        s = take(L, lname(L, layer, suffix), (struct shape){2, {H, H}}, &qkv->parts[j]);
        if (s != VITC_OK) {
            return s;
        }
        snprintf(suffix, sizeof suffix, "attention.attention.%s.bias", part[j]);
        const char *bname = lname(L, layer, suffix);
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

void vitc_linear_copy_rows(const struct vitc_linear *l, size_t r0, size_t n, float *dst)
{
    size_t K = (size_t)l->n_in;
    for (size_t r = 0; r < n; r++) {
        memcpy(dst + r * K, vitc_linear_row(l, r0 + r), K * sizeof *dst);
    }
}

static vitc_status take_layer(struct loader *L, int i, struct vitc_layer_weights *lw)
{
    const struct vitc_config *c = &L->m->cfg;
    uint64_t H = (uint64_t)c->hidden_size;
    int I = c->intermediate_size;
    struct shape vec = {1, {H}};
    char bias[MAX_NAME];
    vitc_status s;

    if ((s = take(L, lname(L, i, "layernorm_before.weight"), vec, &lw->ln_before_w)) ||
        (s = take(L, lname(L, i, "layernorm_before.bias"), vec, &lw->ln_before_b)) ||
        (s = take_qkv(L, i, &lw->qkv))) {
        return s;
    }
    snprintf(bias, sizeof bias, "%s", lname(L, i, "attention.output.dense.bias"));
    if ((s = take_linear(L, lname(L, i, "attention.output.dense.weight"), bias, (int)H, (int)H,
                         &lw->attn_out))) {
        return s;
    }
    if ((s = take(L, lname(L, i, "layernorm_after.weight"), vec, &lw->ln_after_w)) ||
        (s = take(L, lname(L, i, "layernorm_after.bias"), vec, &lw->ln_after_b))) {
        return s;
    }
    snprintf(bias, sizeof bias, "%s", lname(L, i, "intermediate.dense.bias"));
    if ((s = take_linear(L, lname(L, i, "intermediate.dense.weight"), bias, I, (int)H, &lw->fc1))) {
        return s;
    }
    snprintf(bias, sizeof bias, "%s", lname(L, i, "output.dense.bias"));
    return take_linear(L, lname(L, i, "output.dense.weight"), bias, (int)H, I, &lw->fc2);
}

/* Classifier rows are id2label's size; without id2label they come from the
 * tensor and the labels stay unnamed. */
static vitc_status take_classifier(struct loader *L)
{
    struct vitc_config *c = &L->m->cfg;
    const struct vitc_st_tensor *t = vitc_st_find(L->st, "classifier.weight");
    if (!t) {
        return VITC_OK;
    }
    int rows = c->num_labels;
    if (!c->id2label) {
        rows = t->ndim == 2 && t->shape[0] > 0 && t->shape[0] <= INT_MAX ? (int)t->shape[0] : 0;
        if (rows == 0) {
            return vitc_error(VITC_ERR_FORMAT,
                              "%s: tensor 'classifier.weight': expected shape [num_labels,%d]",
                              L->st->name, c->hidden_size);
        }
    } else if (t->ndim == 2 && t->shape[1] == (uint64_t)c->hidden_size &&
               t->shape[0] != (uint64_t)rows) {
        return vitc_error(VITC_ERR_FORMAT,
                          "%s: tensor 'classifier.weight' has %llu rows but config.json's "
                          "id2label has %d labels",
                          L->st->name, (unsigned long long)t->shape[0], rows);
    }
    vitc_status s = take_linear(L, "classifier.weight", "classifier.bias", rows, c->hidden_size,
                                &L->m->w.classifier);
    if (s == VITC_OK && L->filling) {
        c->num_labels = rows;
    }
    return s;
}

/* The whole tensor table, in one place for both passes. */
static vitc_status walk(struct loader *L)
{
    struct vitc_model *m = L->m;
    const struct vitc_config *c = &m->cfg;
    struct vitc_weights *w = &m->w;
    uint64_t H = (uint64_t)c->hidden_size, P = (uint64_t)c->patch_size;
    uint64_t C = (uint64_t)c->num_channels;
    uint64_t side = (uint64_t)(c->image_size / c->patch_size);
    uint64_t T = side * side + 1;
    struct shape vec = {1, {H}};
    vitc_status s;

    if ((s = take(L, tname(L, "embeddings.cls_token"), (struct shape){3, {1, 1, H}},
                  &w->cls_token)) ||
        (s = take(L, tname(L, "embeddings.position_embeddings"), (struct shape){3, {1, T, H}},
                  &w->pos_embed)) ||
        (s = take(L, tname(L, "embeddings.patch_embeddings.projection.weight"),
                  (struct shape){4, {H, C, P, P}}, &w->patch.weight)) ||
        (s = take(L, tname(L, "embeddings.patch_embeddings.projection.bias"), vec,
                  &w->patch.bias))) {
        return s;
    }
    /* The conv weight (H, C, P, P) is read as a linear (H, C*P*P). */
    w->patch.n_out = (int)H;
    w->patch.n_in = (int)(C * P * P);

    for (int i = 0; i < c->num_hidden_layers; i++) {
        if ((s = take_layer(L, i, &w->layers[i]))) {
            return s;
        }
    }
    if ((s = take(L, tname(L, "layernorm.weight"), vec, &w->ln_final_w)) ||
        (s = take(L, tname(L, "layernorm.bias"), vec, &w->ln_final_b))) {
        return s;
    }

    char bias[MAX_NAME];
    snprintf(bias, sizeof bias, "%s", tname(L, "pooler.dense.bias"));
    if (vitc_st_find(L->st, bias) || vitc_st_find(L->st, tname(L, "pooler.dense.weight"))) {
        if ((s = take_linear(L, tname(L, "pooler.dense.weight"), bias, (int)H, (int)H,
                             &w->pooler))) {
            return s;
        }
    }
    return L->prefix[0] ? take_classifier(L) : VITC_OK;
}

/* ViTModel files name tensors "embeddings...", ViTForImageClassification
 * files "vit.embeddings..." plus "classifier.*"; a file is one or the other. */
static vitc_status detect_prefix(struct loader *L)
{
    const char *plain = NULL, *vit = NULL;
    for (size_t i = 0; i < L->st->n_tensors; i++) {
        const char *n = L->st->tensors[i].name;
        if (strncmp(n, "vit.", 4) == 0) {
            vit = vit ? vit : n;
        } else if (strncmp(n, "classifier.", 11) != 0) {
            plain = plain ? plain : n;
        }
    }
    if (plain && vit) {
        return vitc_error(VITC_ERR_FORMAT,
                          "%s: tensor names mix 'vit.'-prefixed and unprefixed ones ('%s' and "
                          "'%s')",
                          L->st->name, vit, plain);
    }
    L->prefix = vit ? "vit." : "";
    return VITC_OK;
}

/* Every tensor must have been consumed, except the mask token that only
 * masked-image-modeling uses. */
static vitc_status check_unused(struct loader *L)
{
    for (size_t i = 0; i < L->st->n_tensors; i++) {
        const char *n = L->st->tensors[i].name;
        if (!L->used[i] && strcmp(n, tname(L, "embeddings.mask_token")) != 0) {
            return vitc_error(VITC_ERR_UNSUPPORTED,
                              "%s: unknown tensor '%s' (not part of ViTModel or "
                              "ViTForImageClassification)",
                              L->st->name, n);
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
static vitc_status load_weights(struct vitc_model *m)
{
    struct loader L = {.m = m, .st = m->st};
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
    m->info.n_params = L.n_params;
    m->info.file_dtype = dtype_summary(L.dtypes);

done:
    vitc_mem_free(L.used);
    return s;
}

/* ---- directory ---- */

static int file_exists(const char *dir, const char *name, int *nomem)
{
    char *p = vitc_path_join(dir, name);
    struct stat sb;
    int ok = p && stat(p, &sb) == 0;
    *nomem = !p;
    vitc_mem_free(p);
    return ok;
}

/* model.safetensors is absent: name what is there instead, and how to
 * convert it. */
static vitc_status explain_missing_weights(const char *dir, const char *st_path)
{
    static const char *const other[] = {"pytorch_model.bin", "tf_model.h5", "flax_model.msgpack"};
    int nomem = 0;
    if (file_exists(dir, "model.safetensors.index.json", &nomem)) {
        return vitc_error(
            VITC_ERR_UNSUPPORTED,
            "%s: missing; found model.safetensors.index.json, a sharded "
            "checkpoint, which is not supported (save it as one file with "
            "save_pretrained(DIR, safe_serialization=True, max_shard_size=\"100GB\"))",
            st_path);
    }
    for (size_t i = 0; i < sizeof other / sizeof other[0] && !nomem; i++) {
        if (file_exists(dir, other[i], &nomem)) {
            return vitc_error(VITC_ERR_UNSUPPORTED,
                              "%s: missing; found %s, which vitc cannot read: convert with "
                              "`python -c 'from transformers import ViTModel; "
                              "ViTModel.from_pretrained(DIR).save_pretrained(DIR, "
                              "safe_serialization=True)'` (ViTForImageClassification for "
                              "classifiers)",
                              st_path, other[i]);
        }
    }
    if (nomem) {
        return VITC_ERR_NOMEM;
    }
    return vitc_error(VITC_ERR_IO, "%s: missing (a model directory needs model.safetensors)",
                      st_path);
}

/* Reads the three files of dir into m (config, preprocess params, mapping). */
static vitc_status open_files(struct vitc_model *m, const char *dir)
{
    char *cfg_path = NULL, *st_path = NULL, *pp_path = NULL;
    struct stat sb;
    vitc_status s = VITC_ERR_NOMEM;

    cfg_path = vitc_path_join(dir, "config.json");
    st_path = vitc_path_join(dir, "model.safetensors");
    pp_path = vitc_path_join(dir, "preprocessor_config.json");
    if (!cfg_path || !st_path || !pp_path) {
        goto done;
    }
    if (stat(cfg_path, &sb) != 0) {
        s = vitc_error(VITC_ERR_IO, "%s: missing (not a Hugging Face model directory?)", cfg_path);
        goto done;
    }
    if (stat(st_path, &sb) != 0) {
        s = explain_missing_weights(dir, st_path);
        goto done;
    }
    if ((s = vitc_config_load(cfg_path, &m->cfg))) {
        goto done;
    }
    m->info.preprocess = vitc_preprocess_default_params();
    if (stat(pp_path, &sb) == 0 &&
        (s = vitc_preprocess_params_load(pp_path, &m->info.preprocess))) {
        goto done;
    }
    s = vitc_st_open(st_path, &m->st);

done:
    vitc_mem_free(cfg_path);
    vitc_mem_free(st_path);
    vitc_mem_free(pp_path);
    return s;
}

static void fill_info(struct vitc_model *m)
{
    const struct vitc_config *c = &m->cfg;
    vitc_model_info *info = &m->info;
    int side = c->image_size / c->patch_size;
    info->architecture = m->w.classifier.weight ? "ViTForImageClassification" : "ViTModel";
    info->hidden_size = c->hidden_size;
    info->num_hidden_layers = c->num_hidden_layers;
    info->num_attention_heads = c->num_attention_heads;
    info->intermediate_size = c->intermediate_size;
    info->image_size = c->image_size;
    info->patch_size = c->patch_size;
    info->num_channels = c->num_channels;
    info->n_tokens = side * side + 1;
    info->layer_norm_eps = c->layer_norm_eps;
    info->qkv_bias = c->qkv_bias;
    info->hidden_act = c->hidden_act_name;
    info->has_pooler = m->w.pooler.weight != NULL;
    info->num_labels = m->w.classifier.weight ? c->num_labels : 0;
}

/* Frees what load made; the backend's prepared weights are released by the
 * caller first when they exist. */
static void release(struct vitc_model *m)
{
    vitc_mem_free(m->w.layers);
    vitc_mem_free_aligned(m->arena);
    vitc_st_close(m->st);
    vitc_config_free(&m->cfg);
    vitc_mem_free(m->dir);
    vitc_mem_free(m);
}

/* ---- public API ---- */

vitc_model_params vitc_model_default_params(void)
{
    vitc_model_params p = {.precision = VITC_PRECISION_FP32};
    return p;
}

vitc_status vitc_model_load(const char *dir, const vitc_model_params *params, vitc_model **out)
{
    struct vitc_model *m = NULL;
    struct stat sb;
    vitc_status s;

    if (!dir || !out) {
        return vitc_error(VITC_ERR_INVALID_ARG, "vitc_model_load: NULL %s", !dir ? "dir" : "out");
    }
    if (params && ((unsigned)params->precision > VITC_PRECISION_TF32)) {
        return vitc_error(VITC_ERR_INVALID_ARG, "vitc_model_load: unknown precision %d",
                          (int)params->precision);
    }
    if (stat(dir, &sb) != 0) {
        return vitc_error(VITC_ERR_IO, "%s: cannot open model directory: %s", dir, strerror(errno));
    }
    if (!S_ISDIR(sb.st_mode)) {
        return vitc_error(VITC_ERR_IO,
                          "%s: not a directory (a model is a directory with "
                          "config.json and model.safetensors)",
                          dir);
    }
    m = vitc_mem_calloc(1, sizeof *m);
    if (!m) {
        return vitc_error(VITC_ERR_NOMEM, "%s: out of memory", dir);
    }
    m->params = params ? *params : vitc_model_default_params();
    m->dir = vitc_mem_strdup(dir);
    if (!m->dir) {
        s = vitc_error(VITC_ERR_NOMEM, "%s: out of memory", dir);
        goto fail;
    }
    if ((s = open_files(m, dir)) || (s = load_weights(m))) {
        goto fail;
    }
    fill_info(m);
    if ((s = vitc_model_prepare_weights(m))) {
        vitc_model_unprepare_weights(m);
        goto fail;
    }
    *out = m;
    return VITC_OK;

fail:
    release(m);
    return s;
}

void vitc_model_free(vitc_model *model)
{
    if (!model) {
        return;
    }
    vitc_model_unprepare_weights(model);
    release(model);
}

const vitc_model_info *vitc_model_get_info(const vitc_model *model)
{
    return model ? &model->info : NULL;
}

const char *vitc_model_label(const vitc_model *model, int id)
{
    if (!model || id < 0 || id >= model->info.num_labels || !model->cfg.id2label) {
        return NULL;
    }
    return model->cfg.id2label[id];
}
