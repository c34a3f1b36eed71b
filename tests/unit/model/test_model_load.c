/* SPDX-License-Identifier: MIT
 *
 * test_model_load.c — loading model directories (src/model/load.c, weights.c): the
 * fixture models with their info, labels and weights; F16, BF16, unaligned
 * and mixed re-encodings written here from the F32 fixture; one refusal per
 * kind of broken directory or checkpoint; and allocation-failure injection
 * over the whole load (run under ASan/LSan to prove nothing leaks).
 */
#include <ftw.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "base/err.h"
#include "base/half.h"
#include "io/safetensors.h"
#include "model/model.h"
#include "st_writer.h"
#include "test.h"

#define FIX "tests/data/models/"

static char tmpdir[4096];

/* ---- files ---- */

static int remove_entry(const char *path, const struct stat *sb, int flag, struct FTW *ftw)
{
    (void)sb, (void)flag, (void)ftw;
    return remove(path);
}

static char *read_text(const char *path)
{
    FILE *f = fopen(path, "rb");
    if (!f) {
        fprintf(stderr, "cannot read %s\n", path);
        exit(1);
    }
    char *buf = calloc(1, 1 << 16);
    size_t n = fread(buf, 1, (1 << 16) - 1, f);
    buf[n] = '\0';
    fclose(f);
    return buf;
}

/* tmpdir/label, created empty; returns a static buffer. */
static const char *new_dir(const char *label)
{
    static char path[4200];
    snprintf(path, sizeof path, "%s/%s", tmpdir, label);
    mkdir(path, 0755);
    return path;
}

static void put_text(const char *dir, const char *name, const char *text)
{
    char path[4400];
    snprintf(path, sizeof path, "%s/%s", dir, name);
    write_file(path, text, strlen(text));
}

/* Copies fixture model's file `name` into dir. */
static void copy_fixture(const char *model, const char *name, const char *dir)
{
    char src[512];
    snprintf(src, sizeof src, FIX "%s/%s", model, name);
    char *text = read_text(src);
    put_text(dir, name, text);
    free(text);
}

/* Replaces the first occurrence of from with to in a heap string. */
static char *replace(char *s, const char *from, const char *to)
{
    char *at = strstr(s, from);
    if (!at) {
        fprintf(stderr, "replace: '%s' not found\n", from);
        exit(1);
    }
    size_t a = (size_t)(at - s), nf = strlen(from), nt = strlen(to), ns = strlen(s);
    char *out = malloc(ns - nf + nt + 1);
    memcpy(out, s, a);
    memcpy(out + a, to, nt);
    memcpy(out + a + nt, at + nf, ns - a - nf + 1);
    free(s);
    return out;
}

/* The tensors of a fixture model's checkpoint. */
static void wf_from_fixture(struct wfile *f, const char *model)
{
    char path[512];
    snprintf(path, sizeof path, FIX "%s/model.safetensors", model);
    wf_read(f, path);
}

/* A directory holding model's config files and f as its checkpoint. */
static const char *make_model(const char *label, const char *model, const struct wfile *f)
{
    const char *dir = new_dir(label);
    copy_fixture(model, "config.json", dir);
    copy_fixture(model, "preprocessor_config.json", dir);
    wf_write(f, dir, 0);
    return dir;
}

/* ---- weights as loaded vs the checkpoint ---- */

/* The loaded float view holding tensor `name` (a prefix-free HF name). */
static const float *view_of(const struct vitc_model *m, const char *name)
{
    const struct vitc_weights *w = &m->w;
    size_t H = (size_t)m->cfg.hidden_size;
    int layer, used = 0;
    char rest[128];
    if (sscanf(name, "encoder.layer.%d.%127s%n", &layer, rest, &used) == 2) {
        const struct vitc_layer_weights *l = &w->layers[layer];
        static const char *const qkv[3] = {"query", "key", "value"};
        for (size_t j = 0; j < 3; j++) {
            char n[64];
            snprintf(n, sizeof n, "attention.attention.%s.weight", qkv[j]);
            if (!strcmp(rest, n)) {
                return l->qkv.parts[j];
            }
            snprintf(n, sizeof n, "attention.attention.%s.bias", qkv[j]);
            if (!strcmp(rest, n)) {
                return l->qkv.bias ? l->qkv.bias + j * H : NULL;
            }
        }
        const struct {
            const char *n;
            const float *p;
        } lt[] = {
            {"attention.output.dense.weight", l->attn_out.weight},
            {"attention.output.dense.bias", l->attn_out.bias},
            {"layernorm_before.weight", l->ln_before_w},
            {"layernorm_before.bias", l->ln_before_b},
            {"layernorm_after.weight", l->ln_after_w},
            {"layernorm_after.bias", l->ln_after_b},
            {"intermediate.dense.weight", l->fc1.weight},
            {"intermediate.dense.bias", l->fc1.bias},
            {"output.dense.weight", l->fc2.weight},
            {"output.dense.bias", l->fc2.bias},
        };
        for (size_t j = 0; j < sizeof lt / sizeof lt[0]; j++) {
            if (!strcmp(rest, lt[j].n)) {
                return lt[j].p;
            }
        }
        return NULL;
    }
    const struct {
        const char *n;
        const float *p;
    } t[] = {
        {"embeddings.cls_token", w->cls_token},
        {"embeddings.position_embeddings", w->pos_embed},
        {"embeddings.patch_embeddings.projection.weight", w->patch.weight},
        {"embeddings.patch_embeddings.projection.bias", w->patch.bias},
        {"layernorm.weight", w->ln_final_w},
        {"layernorm.bias", w->ln_final_b},
        {"pooler.dense.weight", w->pooler.weight},
        {"pooler.dense.bias", w->pooler.bias},
        {"classifier.weight", w->classifier.weight},
        {"classifier.bias", w->classifier.bias},
    };
    for (size_t j = 0; j < sizeof t / sizeof t[0]; j++) {
        if (!strcmp(name, t[j].n)) {
            return t[j].p;
        }
    }
    return NULL;
}

/* Every tensor of f (F32, F16 or BF16) equals its loaded view exactly. */
static void check_weights(const struct vitc_model *m, const struct wfile *f)
{
    for (size_t i = 0; i < f->n; i++) {
        const struct wt *t = &f->t[i];
        const char *name = strncmp(t->name, "vit.", 4) == 0 ? t->name + 4 : t->name;
        const float *v = view_of(m, name);
        CHECKF(v != NULL, "no view for %s", t->name);
        if (!v) {
            continue;
        }
        int is16 = strcmp(t->dtype, "F32") != 0;
        size_t n = t->n_bytes / (is16 ? 2 : 4), bad = 0;
        for (size_t k = 0; k < n; k++) {
            float want;
            if (is16) {
                uint16_t h = (uint16_t)(t->data[2 * k] | t->data[2 * k + 1] << 8);
                want = strcmp(t->dtype, "F16") == 0 ? vitc_f16_to_f32(h) : vitc_bf16_to_f32(h);
            } else {
                memcpy(&want, t->data + 4 * k, 4);
            }
            bad += bits_of(v[k]) != bits_of(want);
        }
        CHECKF(bad == 0, "%s: %zu of %zu values differ", t->name, bad, n);
    }
}

/* Loads dir, expecting status and (on failure) a message with phrase. */
static void expect_load(const char *dir, vitc_status status, const char *phrase)
{
    vitc_model *m = NULL;
    vitc_status s = vitc_model_load(dir, NULL, &m);
    const char *msg = vitc_last_error();
    CHECKF(s == status, "%s: got %s, want %s (%s)", dir, vitc_status_str(s),
           vitc_status_str(status), msg);
    if (s != VITC_OK) {
        CHECK(m == NULL);
        CHECKF(strstr(msg, phrase) != NULL, "%s: message lacks '%s': %s", dir, phrase, msg);
        CHECKF(strstr(msg, dir) != NULL, "message does not name the file: %s", msg);
    }
    vitc_model_free(m);
}

/* ---- fixtures ---- */

static void test_fixture_in21k(void)
{
    vitc_model *m = NULL;
    vitc_status s = vitc_model_load(FIX "tiny-in21k", NULL, &m);
    CHECKF(s == VITC_OK, "%s", vitc_last_error());
    if (s != VITC_OK) {
        return;
    }
    const vitc_model_info *info = vitc_model_get_info(m);
    CHECK(strcmp(info->architecture, "ViTModel") == 0);
    CHECK(info->hidden_size == 32 && info->num_hidden_layers == 2);
    CHECK(info->num_attention_heads == 4 && info->intermediate_size == 64);
    CHECK(info->image_size == 32 && info->patch_size == 8 && info->num_channels == 3);
    CHECK(info->n_tokens == 17 && info->layer_norm_eps == 1e-12 && info->qkv_bias);
    CHECK(strcmp(info->hidden_act, "gelu") == 0 && info->has_pooler && info->num_labels == 0);
    CHECK(info->n_params == 24960);
    CHECK(strcmp(info->file_dtype, "F32") == 0);
    CHECK(info->preprocess.height == 32 && info->preprocess.image_mean[0] == 0.5);
    CHECK(vitc_model_label(m, 0) == NULL);

    /* Aligned F32 weights are views into the mapping, not copies. */
    const struct vitc_st_tensor *t = vitc_st_find(m->st, "encoder.layer.1.output.dense.weight");
    CHECK(t && (const void *)m->w.layers[1].fc2.weight == (const void *)t->data);
    CHECK(m->w.patch.n_out == 32 && m->w.patch.n_in == 3 * 8 * 8);
    CHECK(m->w.layers[0].qkv.n_out == 96 && m->w.layers[0].qkv.n_in == 32);
    CHECK(m->w.layers[0].fc1.n_out == 64 && m->w.layers[0].fc2.n_in == 64);
    CHECK(m->w.classifier.weight == NULL && m->w.pooler.n_out == 32);

    struct wfile f;
    wf_from_fixture(&f, "tiny-in21k");
    check_weights(m, &f);
    wf_free(&f);
    vitc_model_free(m);
}

static void test_fixture_classifier(void)
{
    vitc_model *m = NULL;
    vitc_status s = vitc_model_load(FIX "tiny-classifier", NULL, &m);
    CHECKF(s == VITC_OK, "%s", vitc_last_error());
    if (s != VITC_OK) {
        return;
    }
    const vitc_model_info *info = vitc_model_get_info(m);
    CHECK(strcmp(info->architecture, "ViTForImageClassification") == 0);
    CHECK(info->num_hidden_layers == 3 && info->num_labels == 5 && !info->has_pooler);
    CHECK(info->n_params == 32613);
    CHECK(strcmp(vitc_model_label(m, 0), "tabby cat") == 0);
    CHECK(strcmp(vitc_model_label(m, 4), "container ship") == 0);
    CHECK(vitc_model_label(m, 5) == NULL && vitc_model_label(m, -1) == NULL);
    CHECK(m->w.classifier.n_out == 5 && m->w.classifier.n_in == 32);
    struct wfile f;
    wf_from_fixture(&f, "tiny-classifier");
    check_weights(m, &f);
    wf_free(&f);
    vitc_model_free(m);
}

static void test_fixture_variant(void)
{
    vitc_model *m = NULL;
    vitc_status s = vitc_model_load(FIX "tiny-variant", NULL, &m);
    CHECKF(s == VITC_OK, "%s", vitc_last_error());
    if (s != VITC_OK) {
        return;
    }
    const vitc_model_info *info = vitc_model_get_info(m);
    CHECK(info->n_tokens == 10 && !info->qkv_bias && info->layer_norm_eps == 1e-6);
    CHECK(strcmp(info->hidden_act, "gelu_new") == 0 && m->cfg.hidden_act == VITC_ACT_GELU_TANH);
    CHECK(info->n_params == 78296 && info->has_pooler);
    CHECK(info->preprocess.image_mean[0] == 0.485 && info->preprocess.image_std[2] == 0.225);
    CHECK(m->w.layers[1].qkv.bias == NULL);
    struct wfile f;
    wf_from_fixture(&f, "tiny-variant");
    check_weights(m, &f);
    wf_free(&f);
    vitc_model_free(m);
}

/* ---- re-encoded checkpoints ---- */

static void test_rounding_helpers(void)
{
    CHECK(f32_to_f16(1.0f) == 0x3c00 && f32_to_f16(-2.0f) == 0xc000);
    CHECK(f32_to_f16(65504.0f) == 0x7bff && f32_to_f16(65520.0f) == 0x7c00);
    CHECK(f32_to_f16(0x1p-24f) == 0x0001 && f32_to_f16(0x1p-25f) == 0x0000);
    CHECK(f32_to_f16(1.0f + 0x1p-11f) == 0x3c00 && f32_to_f16(1.0f + 0x3p-11f) == 0x3c02);
    CHECK(f32_to_bf16(1.0f) == 0x3f80 && f32_to_bf16(1.0f + 0x1p-8f) == 0x3f80);
    CHECK(f32_to_bf16(1.0f + 0x3p-8f) == 0x3f82);
#ifdef __FLT16_MAX__
    /* The test's own rounding agrees with the compiler's on a sweep. */
    uint32_t u = 0x2f000000u;
    for (int i = 0; i < 200000; i++, u += 0x1357u) {
        float x;
        memcpy(&x, &u, 4);
        _Float16 h = (_Float16)x;
        uint16_t hb;
        memcpy(&hb, &h, 2);
        if (hb != f32_to_f16(x)) {
            CHECKF(0, "f16 rounding of %a", x);
            break;
        }
    }
#endif
}

static void test_f16_bf16(void)
{
    for (int bf16 = 0; bf16 < 2; bf16++) {
        struct wfile f;
        wf_from_fixture(&f, "tiny-in21k");
        for (size_t i = 0; i < f.n; i++) {
            to_16(&f.t[i], bf16);
        }
        const char *dir = make_model(bf16 ? "bf16" : "f16", "tiny-in21k", &f);
        vitc_model *m = NULL;
        vitc_status s = vitc_model_load(dir, NULL, &m);
        CHECKF(s == VITC_OK, "%s", vitc_last_error());
        if (s == VITC_OK) {
            const vitc_model_info *info = vitc_model_get_info(m);
            CHECK(strcmp(info->file_dtype, bf16 ? "BF16" : "F16") == 0);
            CHECK(info->n_params == 24960);
            CHECK(((uintptr_t)m->w.cls_token % 64) == 0);
            check_weights(m, &f);
        }
        vitc_model_free(m);
        wf_free(&f);
    }
}

/* F32 tensors at offsets that are not 4-byte aligned are copied; a mix of
 * dtypes is reported as "mixed". */
static void test_unaligned_and_mixed(void)
{
    struct wfile f;
    wf_from_fixture(&f, "tiny-in21k");
    const char *dir = new_dir("unaligned");
    copy_fixture("tiny-in21k", "config.json", dir);
    wf_write(&f, dir, 2);
    vitc_model *m = NULL;
    CHECKF(vitc_model_load(dir, NULL, &m) == VITC_OK, "%s", vitc_last_error());
    if (m) {
        CHECK(strcmp(vitc_model_get_info(m)->file_dtype, "F32") == 0);
        const struct vitc_st_tensor *t = vitc_st_find(m->st, "embeddings.cls_token");
        CHECK(t && (const void *)m->w.cls_token != (const void *)t->data);
        /* Without preprocessor_config.json the processor defaults apply. */
        CHECK(vitc_model_get_info(m)->preprocess.height == 224);
        check_weights(m, &f);
        vitc_model_free(m);
        m = NULL;
    }
    to_16(wf_get(&f, "encoder.layer.0.output.dense.weight"), 0);
    to_16(wf_get(&f, "pooler.dense.bias"), 1);
    dir = make_model("mixed", "tiny-in21k", &f);
    CHECKF(vitc_model_load(dir, NULL, &m) == VITC_OK, "%s", vitc_last_error());
    if (m) {
        CHECK(strcmp(vitc_model_get_info(m)->file_dtype, "mixed") == 0);
        check_weights(m, &f);
        vitc_model_free(m);
    }
    wf_free(&f);
}

/* ---- broken directories ---- */

static void test_bad_directories(void)
{
    vitc_model *m = NULL;
    expect_load("tests/data/models/no-such-model", VITC_ERR_IO, "cannot open model directory");
    expect_load(FIX "tiny-in21k/config.json", VITC_ERR_IO, "not a directory");
    CHECK(vitc_model_load(NULL, NULL, &m) == VITC_ERR_INVALID_ARG);
    CHECK(vitc_model_load(FIX "tiny-in21k", NULL, NULL) == VITC_ERR_INVALID_ARG);
    vitc_model_params p = vitc_model_default_params();
    CHECK(p.precision == VITC_PRECISION_FP32);
    p.precision = (vitc_precision)99;
    CHECK(vitc_model_load(FIX "tiny-in21k", &p, &m) == VITC_ERR_INVALID_ARG && m == NULL);

    const char *dir = new_dir("no-config");
    copy_fixture("tiny-in21k", "preprocessor_config.json", dir);
    expect_load(dir, VITC_ERR_IO, "config.json: missing");

    dir = new_dir("pytorch-only");
    copy_fixture("tiny-in21k", "config.json", dir);
    put_text(dir, "pytorch_model.bin", "not really");
    expect_load(dir, VITC_ERR_UNSUPPORTED, "found pytorch_model.bin");
    CHECK(strstr(vitc_last_error(), "safe_serialization=True") != NULL);

    dir = new_dir("sharded");
    copy_fixture("tiny-in21k", "config.json", dir);
    put_text(dir, "model.safetensors.index.json", "{}");
    expect_load(dir, VITC_ERR_UNSUPPORTED, "sharded");

    dir = new_dir("no-weights");
    copy_fixture("tiny-in21k", "config.json", dir);
    expect_load(dir, VITC_ERR_IO, "model.safetensors: missing");

    dir = new_dir("bad-config");
    put_text(dir, "config.json", "{\"hidden_size\": 30}");
    put_text(dir, "model.safetensors", "");
    expect_load(dir, VITC_ERR_FORMAT, "hidden_size 30 is not a multiple");

    dir = new_dir("bad-preprocess");
    copy_fixture("tiny-in21k", "config.json", dir);
    copy_fixture("tiny-in21k", "model.safetensors", dir);
    put_text(dir, "preprocessor_config.json", "[");
    expect_load(dir, VITC_ERR_FORMAT, "preprocessor_config.json");

    dir = new_dir("bad-safetensors");
    copy_fixture("tiny-in21k", "config.json", dir);
    char path[4400];
    snprintf(path, sizeof path, "%s/model.safetensors", dir);
    write_file(path, "\x03\0\0\0\0\0\0\0{}", 10);
    expect_load(dir, VITC_ERR_FORMAT, "model.safetensors: header length 3 runs past");
}

/* ---- broken checkpoints ---- */

static void test_missing_tensor(void)
{
    struct wfile f;
    wf_from_fixture(&f, "tiny-classifier");
    wf_remove(&f, "vit.encoder.layer.1.output.dense.bias");
    expect_load(make_model("missing", "tiny-classifier", &f), VITC_ERR_FORMAT,
                "missing tensor 'vit.encoder.layer.1.output.dense.bias'");
    wf_free(&f);

    wf_from_fixture(&f, "tiny-in21k");
    wf_remove(&f, "pooler.dense.weight");
    expect_load(make_model("half-pooler", "tiny-in21k", &f), VITC_ERR_FORMAT,
                "missing tensor 'pooler.dense.weight'");
    wf_remove(&f, "pooler.dense.bias");
    const char *dir = make_model("no-pooler", "tiny-in21k", &f);
    vitc_model *m = NULL;
    CHECKF(vitc_model_load(dir, NULL, &m) == VITC_OK, "%s", vitc_last_error());
    if (m) {
        CHECK(!vitc_model_get_info(m)->has_pooler && m->w.pooler.weight == NULL);
        CHECK(vitc_model_get_info(m)->n_params == 24960 - 32 * 32 - 32);
        vitc_model_free(m);
    }
    wf_free(&f);
}

static void test_wrong_shape(void)
{
    struct wfile f;
    wf_from_fixture(&f, "tiny-in21k");
    struct wt *t = wf_get(&f, "encoder.layer.0.intermediate.dense.weight");
    t->shape[0] = 32;
    t->shape[1] = 64;
    expect_load(make_model("shape", "tiny-in21k", &f), VITC_ERR_FORMAT,
                "tensor 'encoder.layer.0.intermediate.dense.weight': expected shape [64,32], got "
                "F32 [32,64]");
    t->shape[0] = 64;
    t->shape[1] = 32;
    t = wf_get(&f, "embeddings.position_embeddings");
    t->ndim = 2;
    t->shape[0] = 17;
    t->shape[1] = 32;
    expect_load(make_model("shape-pos", "tiny-in21k", &f), VITC_ERR_FORMAT,
                "expected shape [1,17,32], got F32 [17,32]");
    wf_free(&f);

    wf_from_fixture(&f, "tiny-in21k");
    t = wf_get(&f, "layernorm.bias");
    t->dtype = "I32";
    expect_load(make_model("int-weights", "tiny-in21k", &f), VITC_ERR_UNSUPPORTED,
                "tensor 'layernorm.bias': dtype I32 is not supported");
    wf_free(&f);
}

static void test_qkv_bias_mismatch(void)
{
    /* tiny-in21k's tensors (with q/k/v biases) under qkv_bias false. */
    struct wfile f;
    wf_from_fixture(&f, "tiny-in21k");
    const char *dir = make_model("qkv-extra", "tiny-in21k", &f);
    char *cfg = read_text(FIX "tiny-in21k/config.json");
    cfg = replace(cfg, "\"qkv_bias\": true", "\"qkv_bias\": false");
    put_text(dir, "config.json", cfg);
    free(cfg);
    expect_load(dir, VITC_ERR_FORMAT,
                "tensor 'encoder.layer.0.attention.attention.query.bias' is present but "
                "config.json has qkv_bias false");
    wf_free(&f);

    /* tiny-variant's tensors (no biases) under qkv_bias true. */
    wf_from_fixture(&f, "tiny-variant");
    dir = make_model("qkv-missing", "tiny-variant", &f);
    cfg = read_text(FIX "tiny-variant/config.json");
    cfg = replace(cfg, "\"qkv_bias\": false", "\"qkv_bias\": true");
    put_text(dir, "config.json", cfg);
    free(cfg);
    expect_load(dir, VITC_ERR_FORMAT,
                "missing tensor 'encoder.layer.0.attention.attention.query.bias'");
    wf_free(&f);
}

static void test_unknown_tensor(void)
{
    struct wfile f;
    wf_from_fixture(&f, "tiny-in21k");
    wf_add(&f, "embeddings.mask_token", "F32", 128, 32);
    const char *dir = make_model("mask-token", "tiny-in21k", &f);
    vitc_model *m = NULL;
    CHECKF(vitc_model_load(dir, NULL, &m) == VITC_OK, "%s", vitc_last_error());
    CHECK(m && vitc_model_get_info(m)->n_params == 24960);
    vitc_model_free(m);

    wf_add(&f, "encoder.layer.0.extra.weight", "F32", 4, 1);
    expect_load(make_model("unknown", "tiny-in21k", &f), VITC_ERR_UNSUPPORTED,
                "unknown tensor 'encoder.layer.0.extra.weight'");
    wf_remove(&f, "encoder.layer.0.extra.weight");
    wf_add(&f, "classifier.weight", "F32", 4, 1);
    expect_load(make_model("plain-classifier", "tiny-in21k", &f), VITC_ERR_UNSUPPORTED,
                "unknown tensor 'classifier.weight'");
    wf_remove(&f, "classifier.weight");
    snprintf(wf_get(&f, "layernorm.bias")->name, 128, "vit.layernorm.bias");
    expect_load(make_model("mixed-prefix", "tiny-in21k", &f), VITC_ERR_FORMAT,
                "mix 'vit.'-prefixed and unprefixed");
    wf_free(&f);
}

static void test_classifier_rows(void)
{
    struct wfile f;
    wf_from_fixture(&f, "tiny-classifier");
    const char *dir = make_model("rows", "tiny-classifier", &f);
    char *cfg = read_text(FIX "tiny-classifier/config.json");
    cfg = replace(cfg, ",\n    \"4\": \"container ship\"", "");
    put_text(dir, "config.json", cfg);
    expect_load(dir, VITC_ERR_FORMAT,
                "tensor 'classifier.weight' has 5 rows but config.json's id2label has 4 labels");
    free(cfg);

    /* Without id2label the rows give num_labels and the labels are unnamed. */
    cfg = read_text(FIX "tiny-classifier/config.json");
    cfg = replace(cfg, "\"id2label\"", "\"id2label_unused\"");
    put_text(dir, "config.json", cfg);
    free(cfg);
    vitc_model *m = NULL;
    CHECKF(vitc_model_load(dir, NULL, &m) == VITC_OK, "%s", vitc_last_error());
    if (m) {
        CHECK(vitc_model_get_info(m)->num_labels == 5 && vitc_model_label(m, 0) == NULL);
        vitc_model_free(m);
    }
    wf_free(&f);
}

static void test_non_finite(void)
{
    struct wfile f;
    wf_from_fixture(&f, "tiny-in21k");
    struct wt *t = wf_get(&f, "encoder.layer.0.intermediate.dense.weight");
    float nan = NAN;
    memcpy(t->data + 4 * 7, &nan, 4);
    expect_load(make_model("nan", "tiny-in21k", &f), VITC_ERR_FORMAT,
                "tensor 'encoder.layer.0.intermediate.dense.weight': element 7 is NaN");
    wf_free(&f);

    wf_from_fixture(&f, "tiny-in21k");
    t = wf_get(&f, "encoder.layer.1.attention.attention.key.weight");
    to_16(t, 0);
    t->data[2 * 3] = 0x00;
    t->data[2 * 3 + 1] = 0xfc; /* -inf */
    expect_load(make_model("inf", "tiny-in21k", &f), VITC_ERR_FORMAT,
                "tensor 'encoder.layer.1.attention.attention.key.weight': element 3 is infinite");
    wf_free(&f);
}

static void test_null_safety(void)
{
    vitc_model_free(NULL);
    CHECK(vitc_model_get_info(NULL) == NULL);
    CHECK(vitc_model_label(NULL, 0) == NULL);
}

/* A precision the CPU backend does not compute is refused, never silently
 * run in fp32. */
/* Every precision loads; a CPU ctx runs fp32, bf16 and int8 and refuses the
 * CUDA-only fp16 and tf32 with a message rather than computing fp32. */
static void test_precisions_on_cpu(void)
{
    const vitc_precision modes[] = {VITC_PRECISION_FP32, VITC_PRECISION_BF16,
                                    VITC_PRECISION_INT8, VITC_PRECISION_FP16,
                                    VITC_PRECISION_TF32};
    for (size_t i = 0; i < sizeof modes / sizeof modes[0]; i++) {
        vitc_model_params p = vitc_model_default_params();
        p.precision = modes[i];
        vitc_model *m = NULL;
        vitc_ctx *ctx = NULL;
        vitc_status s = vitc_model_load("tests/data/models/tiny-in21k", &p, &m);
        CHECKF(s == VITC_OK, "precision %d: %s", (int)modes[i], vitc_last_error());
        if (s != VITC_OK) {
            continue;
        }
        vitc_ctx_params cp = vitc_ctx_default_params();
        cp.backend = VITC_BACKEND_CPU;
        s = vitc_ctx_new(m, &cp, &ctx);
        if (modes[i] == VITC_PRECISION_FP16 || modes[i] == VITC_PRECISION_TF32) {
            CHECKF(s == VITC_ERR_UNSUPPORTED && ctx == NULL, "precision %d: status %d",
                   (int)modes[i], (int)s);
            CHECKF(strstr(vitc_last_error(), "CUDA") != NULL, "%s", vitc_last_error());
        } else {
            CHECKF(s == VITC_OK, "precision %d: %s", (int)modes[i], vitc_last_error());
        }
        vitc_ctx_free(ctx);
        vitc_model_free(m);
    }
    vitc_model_params p = vitc_model_default_params();
    p.precision = (vitc_precision)99;
    vitc_model *m = NULL;
    CHECK(vitc_model_load("tests/data/models/tiny-in21k", &p, &m) == VITC_ERR_INVALID_ARG);
    CHECK(m == NULL && strstr(vitc_last_error(), "precision") != NULL);
}

/* The 768-wide, 2-layer copy of google/vit-base-patch16-224-in21k in the
 * shared fixture set: the Hub's own config files, 62 MB of weights. */
static void test_extended_base(void)
{
    const char *dir = "../shared/fixtures/models/base-2layer";
    vitc_model *m = NULL;
    vitc_status s = vitc_model_load(dir, NULL, &m);
    CHECKF(s == VITC_OK, "%s", vitc_last_error());
    if (s != VITC_OK) {
        return;
    }
    const vitc_model_info *info = vitc_model_get_info(m);
    CHECK(info->hidden_size == 768 && info->num_hidden_layers == 2 && info->n_tokens == 197);
    CHECK(info->n_params == 15510528 && strcmp(info->file_dtype, "F32") == 0);
    CHECK(info->has_pooler && info->num_labels == 0);
    CHECK(info->preprocess.height == 224 && info->preprocess.width == 224);
    vitc_model_free(m);
}

/* ---- allocation failures ---- */

/* Fails the k-th allocation for k = 1, 2, ... until a load succeeds: every
 * failing run must return an error, leave *out NULL and leak nothing. */
static void alloc_loop(const char *dir)
{
    for (size_t k = 1; k < 10000; k++) {
        vitc_model *m = NULL;
        vitc_test_fail_alloc_after(k);
        vitc_status s = vitc_model_load(dir, NULL, &m);
        vitc_test_fail_alloc_after(0);
        if (s == VITC_OK) {
            CHECKF(k > 5, "%s succeeded with allocation %zu failing", dir, k);
            vitc_model_free(m);
            return;
        }
        CHECKF(s == VITC_ERR_NOMEM, "%s, k=%zu: %s", dir, k, vitc_last_error());
        CHECK(m == NULL);
    }
    CHECKF(0, "%s never loaded", dir);
}

static void test_alloc_failures(void)
{
    alloc_loop(FIX "tiny-in21k");
    alloc_loop(FIX "tiny-classifier");
    alloc_loop(FIX "tiny-variant");
    struct wfile f;
    wf_from_fixture(&f, "tiny-classifier");
    for (size_t i = 0; i < f.n; i++) {
        to_16(&f.t[i], 1);
    }
    alloc_loop(make_model("oom-bf16", "tiny-classifier", &f));
    wf_free(&f);
}

int main(void)
{
    snprintf(tmpdir, sizeof tmpdir, "%s/vitc-test-load-XXXXXX",
             getenv("TMPDIR") ? getenv("TMPDIR") : "/tmp");
    if (!mkdtemp(tmpdir)) {
        perror("mkdtemp");
        return 1;
    }
    RUN(test_fixture_in21k);
    RUN(test_fixture_classifier);
    RUN(test_fixture_variant);
    RUN(test_rounding_helpers);
    RUN(test_f16_bf16);
    RUN(test_unaligned_and_mixed);
    RUN(test_bad_directories);
    RUN(test_missing_tensor);
    RUN(test_wrong_shape);
    RUN(test_qkv_bias_mismatch);
    RUN(test_unknown_tensor);
    RUN(test_classifier_rows);
    RUN(test_non_finite);
    RUN(test_null_safety);
    RUN(test_precisions_on_cpu);
    RUN(test_alloc_failures);
    if (!getenv("VITC_EXTENDED") || strcmp(getenv("VITC_EXTENDED"), "1") != 0) {
        SKIP(test_extended_base, "set VITC_EXTENDED=1 to load ../shared/fixtures/models");
    } else if (access("../shared/fixtures/models/base-2layer/config.json", R_OK) != 0) {
        SKIP(test_extended_base, "../shared/fixtures/models/base-2layer is absent");
    } else {
        RUN(test_extended_base);
    }
    nftw(tmpdir, remove_entry, 16, FTW_DEPTH | FTW_PHYS);
    return TEST_REPORT();
}
