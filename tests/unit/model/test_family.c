/* SPDX-License-Identifier: MIT
 *
 * test_family.c — DeiT (distilled and plain-ViT), DINO v1 and CLIP's vision
 * tower (CLIPModel two-tower and CLIPVisionModelWithProjection) against
 * transformers 4.40.2 (tests/data/family/models): every output within 1e-4
 * of the reference (the fixtures' fp32-vs-fp64 spread is <= 3e-6), each
 * max abs diff printed; bf16 / int8 within their bars; hostile files.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "test.h"
#include "vitc.h"

#define DATA "tests/data/family/models"

/* Runs a model on its inputs and compares one output with expected.<name>. */
static double run_sized(const char *name, vitc_precision prec, int image_size, const char *inputs,
                        vitc_output which, const char *expected);

static double run_output(const char *name, vitc_precision prec, vitc_output which,
                         const char *expected)
{
    return run_sized(name, prec, 0, "inputs.pixel_values.npy", which, expected);
}

/* The same at another input size, from another inputs file. */
static double run_sized(const char *name, vitc_precision prec, int image_size, const char *inputs,
                        vitc_output which, const char *expected)
{
    char dir[256];
    snprintf(dir, sizeof dir, "%s/%s", DATA, name);
    vitc_model *m = NULL;
    vitc_ctx *ctx = NULL;
    vitc_model_params mp = vitc_model_default_params();
    mp.precision = prec;
    mp.image_size = image_size;
    double diff = 1e9;
    vitc_tensor *in = test_load_npy(dir, inputs);
    vitc_tensor *ex = test_load_npy(dir, expected);
    vitc_ctx_params cp = vitc_ctx_default_params();
    cp.n_threads = 2;
    if (!in || !ex) {
        CHECKF(0, "%s: fixture files missing", name);
        goto done;
    }
    cp.max_batch = (int)in->shape[0];
    if (vitc_model_load(dir, &mp, &m) != VITC_OK || vitc_ctx_new(m, &cp, &ctx) != VITC_OK) {
        CHECKF(0, "%s: %s", name, vitc_last_error());
        goto done;
    }
    size_t n = in->shape[0], per = vitc_output_size(m, which);
    CHECKF(per * n == ex->n_elems, "%s %s: %zu x %zu floats, expected %zu", name, expected, n, per,
           ex->n_elems);
    if (per * n != ex->n_elems) {
        goto done;
    }
    float *out = malloc(ex->n_elems * sizeof *out);
    CHECKF(vitc_forward(ctx, in->data, n) == VITC_OK, "%s: %s", name, vitc_last_error());
    CHECKF(vitc_get_output(ctx, which, out, ex->n_elems) == VITC_OK, "%s", vitc_last_error());
    diff = test_max_abs_diff(out, ex->data, ex->n_elems);
    free(out);
done:
    vitc_ctx_free(ctx);
    vitc_model_free(m);
    vitc_tensor_free(in);
    vitc_tensor_free(ex);
    return diff;
}

struct check {
    const char *model;
    vitc_output which;
    const char *expected;
};

static const struct check checks[] = {
    {"deit-distilled", VITC_OUTPUT_LAST_HIDDEN_STATE, "expected.last_hidden_state.npy"},
    {"deit-distilled", VITC_OUTPUT_LOGITS, "expected.logits.npy"},
    {"deit-vit", VITC_OUTPUT_LAST_HIDDEN_STATE, "expected.last_hidden_state.npy"},
    {"deit-vit", VITC_OUTPUT_LOGITS, "expected.logits.npy"},
    {"dino-v1", VITC_OUTPUT_LAST_HIDDEN_STATE, "expected.last_hidden_state.npy"},
    {"clip", VITC_OUTPUT_LAST_HIDDEN_STATE, "expected.last_hidden_state.npy"},
    {"clip", VITC_OUTPUT_POOLER, "expected.pooler_output.npy"},
    {"clip", VITC_OUTPUT_IMAGE_EMBEDS, "expected.image_embeds.npy"},
    {"clip-vision-proj", VITC_OUTPUT_LAST_HIDDEN_STATE, "expected.last_hidden_state.npy"},
    {"clip-vision-proj", VITC_OUTPUT_POOLER, "expected.pooler_output.npy"},
    {"clip-vision-proj", VITC_OUTPUT_IMAGE_EMBEDS, "expected.image_embeds.npy"},
    {"dinov2", VITC_OUTPUT_LAST_HIDDEN_STATE, "expected.last_hidden_state.npy"},
    {"dinov2", VITC_OUTPUT_POOLER, "expected.pooler_output.npy"},
    {"dinov2-swiglu", VITC_OUTPUT_LAST_HIDDEN_STATE, "expected.last_hidden_state.npy"},
    {"dinov2-swiglu", VITC_OUTPUT_POOLER, "expected.pooler_output.npy"},
    {"siglip", VITC_OUTPUT_LAST_HIDDEN_STATE, "expected.last_hidden_state.npy"},
    {"siglip", VITC_OUTPUT_POOLER, "expected.pooler_output.npy"},
};

static void test_fp32(void)
{
    for (size_t i = 0; i < sizeof checks / sizeof checks[0]; i++) {
        double d =
            run_output(checks[i].model, VITC_PRECISION_FP32, checks[i].which, checks[i].expected);
        printf("  fp32 %-17s %-32s max abs diff %.2e\n", checks[i].model, checks[i].expected, d);
        CHECKF(d <= 1e-4, "%s %s: max abs diff %g", checks[i].model, checks[i].expected, d);
    }
}

/* ViT's interpolate_pos_encoding: the 4x4 table of a 32 px model resized
 * for 48 px inputs (6x6 patches), as the library parameter asks; families
 * without interpolation refuse it. */
static void test_interpolate(void)
{
    const char *out[] = {"expected.48x48.last_hidden_state.npy",
                         "expected.48x48.pooler_output.npy"};
    const vitc_output which[] = {VITC_OUTPUT_LAST_HIDDEN_STATE, VITC_OUTPUT_POOLER};
    for (int i = 0; i < 2; i++) {
        double d = run_sized("vit-interpolate", VITC_PRECISION_FP32, 48,
                             "inputs.48x48.pixel_values.npy", which[i], out[i]);
        printf("  fp32 vit-interpolate 48x48 %-32s max abs diff %.2e\n", out[i], d);
        CHECKF(d <= 1e-4, "%s: max abs diff %g", out[i], d);
    }
    vitc_model_params mp = vitc_model_default_params();
    vitc_model *m = NULL;
    mp.image_size = 48;
    CHECK(vitc_model_load(DATA "/vit-interpolate", &mp, &m) == VITC_OK);
    if (m) {
        const vitc_model_info *info = vitc_model_get_info(m);
        CHECK(info->image_size == 48 && info->n_tokens == 37 && info->preprocess.height == 48 &&
              info->preprocess.width == 48);
        vitc_model_free(m);
        m = NULL;
    }
    mp.image_size = 64;
    CHECK(vitc_model_load(DATA "/clip", &mp, &m) == VITC_ERR_UNSUPPORTED && !m);
    CHECKF(strstr(vitc_last_error(), "no position-embedding interpolation") != NULL, "%s",
           vitc_last_error());
    mp.image_size = 50;
    CHECK(vitc_model_load(DATA "/vit-interpolate", &mp, &m) == VITC_ERR_UNSUPPORTED && !m);
    CHECKF(strstr(vitc_last_error(), "patch_size 8") != NULL, "%s", vitc_last_error());
    mp.image_size = 8192;
    CHECK(vitc_model_load(DATA "/vit-interpolate", &mp, &m) == VITC_ERR_UNSUPPORTED && !m);
    CHECKF(strstr(vitc_last_error(), "over the limit") != NULL, "%s", vitc_last_error());
    mp.image_size = -1;
    CHECK(vitc_model_load(DATA "/vit-interpolate", &mp, &m) == VITC_ERR_INVALID_ARG && !m);
    /* DINOv2 at another size than its processor's crop. */
    mp.image_size = 40;
    CHECK(vitc_model_load(DATA "/dinov2", &mp, &m) == VITC_OK);
    if (m) {
        CHECK(vitc_model_get_info(m)->n_tokens == 101 &&
              vitc_model_get_info(m)->preprocess.crop_height == 40);
        vitc_model_free(m);
    }
}

/* Reduced precision: the same bars as ViT's (test_precision.c) on these
 * tiny random models, whose values reach 3-8: bf16 within 0.15, int8
 * within 0.3 of the fp32 reference. */
static void test_lowp(void)
{
    const vitc_precision precs[] = {VITC_PRECISION_BF16, VITC_PRECISION_INT8};
    const double bar[] = {0.15, 0.3};
    for (int p = 0; p < 2; p++) {
        for (size_t i = 0; i < sizeof checks / sizeof checks[0]; i++) {
            double d = run_output(checks[i].model, precs[p], checks[i].which, checks[i].expected);
            printf("  %s %-17s %-32s max abs diff %.2e\n", p ? "int8" : "bf16", checks[i].model,
                   checks[i].expected, d);
            CHECKF(d <= bar[p], "%s %s %s: max abs diff %g", p ? "int8" : "bf16", checks[i].model,
                   checks[i].expected, d);
        }
    }
}

static void test_info(void)
{
    vitc_model *m = NULL;
    CHECK(vitc_model_load(DATA "/clip", NULL, &m) == VITC_OK);
    if (m) {
        const vitc_model_info *info = vitc_model_get_info(m);
        CHECK(strcmp(info->family, "clip") == 0 && strcmp(info->architecture, "CLIPModel") == 0);
        CHECK(info->projection_dim == 24 && info->default_output == VITC_OUTPUT_IMAGE_EMBEDS);
        CHECK(info->n_tokens == 26 && info->n_prefix_tokens == 1 && info->has_pooler);
        CHECK(strcmp(info->hidden_act, "quick_gelu") == 0 && info->layer_norm_eps == 1e-5);
        CHECK(strcmp(info->preprocess.processor, "CLIPImageProcessor") == 0 &&
              info->preprocess.shortest_edge == 40 && info->preprocess.crop_height == 40);
        CHECK(vitc_output_size(m, VITC_OUTPUT_LOGITS) == 0);
        vitc_model_free(m);
    }
    m = NULL;
    CHECK(vitc_model_load(DATA "/deit-distilled", NULL, &m) == VITC_OK);
    if (m) {
        const vitc_model_info *info = vitc_model_get_info(m);
        CHECK(strcmp(info->family, "deit") == 0 && info->n_tokens == 18 &&
              info->n_prefix_tokens == 2 && info->num_labels == 5 && !info->has_pooler);
        CHECK(info->default_output == VITC_OUTPUT_CLS);
        CHECK(strcmp(vitc_model_label(m, 1), "golden retriever") == 0);
        CHECK(vitc_output_size(m, VITC_OUTPUT_IMAGE_EMBEDS) == 0);
        vitc_model_free(m);
    }
    m = NULL;
    CHECK(vitc_model_load(DATA "/dino-v1", NULL, &m) == VITC_OK);
    if (m) {
        const vitc_model_info *info = vitc_model_get_info(m);
        CHECK(!info->has_pooler && info->default_output == VITC_OUTPUT_CLS);
        CHECK(vitc_output_size(m, VITC_OUTPUT_POOLER) == 0);
        vitc_model_free(m);
    }
}

static void put(const char *dir, const char *name, const void *bytes, size_t n)
{
    char path[512];
    snprintf(path, sizeof path, "%s/%s", dir, name);
    FILE *f = fopen(path, "wb");
    CHECK(f && fwrite(bytes, 1, n, f) == n);
    if (f) {
        fclose(f);
    }
}

/* A CLIPModel file with only its text tower, and a model_type vitc does not
 * read: clear errors naming the file. */
static void test_hostile(void)
{
    char dir[64];
    snprintf(dir, sizeof dir, "%s/vitc_family_XXXXXX",
             getenv("TMPDIR") ? getenv("TMPDIR") : "/tmp");
    CHECK(mkdtemp(dir) != NULL);
    const char *cfg = "{\"architectures\": [\"CLIPModel\"], \"model_type\": \"clip\", "
                      "\"vision_config\": {\"hidden_size\": 8, \"intermediate_size\": 16, "
                      "\"num_attention_heads\": 2, \"num_hidden_layers\": 1, "
                      "\"image_size\": 8, \"patch_size\": 4}}";
    put(dir, "config.json", cfg, strlen(cfg));
    char st[128] = {0};
    const char *hdr = "{\"text_model.x\":{\"dtype\":\"F32\",\"shape\":[1],"
                      "\"data_offsets\":[0,4]}}";
    size_t hl = (strlen(hdr) + 7) / 8 * 8;
    memset(st + 8, ' ', hl);
    memcpy(st + 8, hdr, strlen(hdr));
    st[0] = (char)hl;
    put(dir, "model.safetensors", st, 8 + hl + 4);
    vitc_model *m = NULL;
    CHECK(vitc_model_load(dir, NULL, &m) == VITC_ERR_FORMAT && m == NULL);
    CHECKF(strstr(vitc_last_error(), "no vision tower") != NULL &&
               strstr(vitc_last_error(), "model.safetensors") != NULL,
           "%s", vitc_last_error());
    const char *other = "{\"model_type\": \"beit\"}";
    put(dir, "config.json", other, strlen(other));
    CHECK(vitc_model_load(dir, NULL, &m) == VITC_ERR_UNSUPPORTED);
    CHECKF(strstr(vitc_last_error(), "config.json") && strstr(vitc_last_error(), "beit"), "%s",
           vitc_last_error());
    char path[512];
    snprintf(path, sizeof path, "%s/config.json", dir);
    unlink(path);
    snprintf(path, sizeof path, "%s/model.safetensors", dir);
    unlink(path);
    rmdir(dir);
}

/* Copies a fixture model into dir, with config.json or
 * preprocessor_config.json replaced when text is given. */
static void copy_model(const char *name, const char *dir, const char *config, const char *pp)
{
    const char *files[] = {"config.json", "preprocessor_config.json", "model.safetensors"};
    for (int i = 0; i < 3; i++) {
        char path[512];
        size_t n = 0;
        snprintf(path, sizeof path, "%s/%s/%s", DATA, name, files[i]);
        unsigned char *bytes = test_read_file(path, &n);
        const char *repl = i == 0 ? config : i == 1 ? pp : NULL;
        if (repl) {
            put(dir, files[i], repl, strlen(repl));
        } else if (bytes) {
            put(dir, files[i], bytes, n);
        }
        free(bytes);
    }
}

static void remove_model(const char *dir)
{
    const char *files[] = {"config.json", "preprocessor_config.json", "model.safetensors"};
    for (int i = 0; i < 3; i++) {
        char path[512];
        snprintf(path, sizeof path, "%s/%s", dir, files[i]);
        unlink(path);
    }
    rmdir(dir);
}

/* A SwiGLU config whose sizes disagree with the file, and an input size
 * that would interpolate the position table to an absurd grid. */
static void test_hostile_sizes(void)
{
    char dir[64];
    snprintf(dir, sizeof dir, "%s/vitc_family_XXXXXX",
             getenv("TMPDIR") ? getenv("TMPDIR") : "/tmp");
    CHECK(mkdtemp(dir) != NULL);
    vitc_model *m = NULL;
    /* mlp_ratio 3 makes h' = 80: weights_in must be [160, 40], the file has [224, 40]. */
    copy_model("dinov2-swiglu", dir,
               "{\"model_type\": \"dinov2\", \"hidden_size\": 40, \"num_hidden_layers\": 2, "
               "\"num_attention_heads\": 4, \"image_size\": 52, \"patch_size\": 4, "
               "\"mlp_ratio\": 3, \"use_swiglu_ffn\": true}",
               NULL);
    CHECK(vitc_model_load(dir, NULL, &m) == VITC_ERR_FORMAT && m == NULL);
    CHECKF(strstr(vitc_last_error(), "mlp.weights_in") && strstr(vitc_last_error(), "[160,40]"),
           "%s", vitc_last_error());
    copy_model("dinov2-swiglu", dir, "{\"model_type\": \"dinov2\", \"use_swiglu_ffn\": \"yes\"}",
               NULL);
    CHECK(vitc_model_load(dir, NULL, &m) == VITC_ERR_FORMAT);
    CHECKF(strstr(vitc_last_error(), "use_swiglu_ffn") != NULL, "%s", vitc_last_error());
    /* A crop of 4096 px with 4 px patches: 1024 x 1024 positions. */
    copy_model("dinov2", dir, NULL,
               "{\"image_processor_type\": \"BitImageProcessor\", \"size\": "
               "{\"shortest_edge\": 4096}, \"crop_size\": 4096}");
    CHECK(vitc_model_load(dir, NULL, &m) == VITC_ERR_UNSUPPORTED && m == NULL);
    CHECKF(strstr(vitc_last_error(), "over the limit") && strstr(vitc_last_error(), "config.json"),
           "%s", vitc_last_error());
    remove_model(dir);
}

/* The published family presets: written (random weights), loaded as their
 * family with the published sizes, and run on one random image. */
static void test_presets(void)
{
    static const struct {
        const char *name, *family;
        int tokens, out_dim;
        unsigned long long params;
        vitc_output def;
    } want[] = {
        {"dinov2-small", "dinov2", 257, 384, 22056192ull, VITC_OUTPUT_POOLER},
        {"clip-vit-base-patch32", "clip", 50, 512, 87849216ull, VITC_OUTPUT_IMAGE_EMBEDS},
        {"siglip-base-patch16-224", "siglip", 196, 768, 92884224ull, VITC_OUTPUT_POOLER},
        {"deit-base-distilled-patch16-224", "deit", 198, 768, 87338192ull, VITC_OUTPUT_CLS},
    };
    char root[64];
    snprintf(root, sizeof root, "%s/vitc_fpre_XXXXXX",
             getenv("TMPDIR") ? getenv("TMPDIR") : "/tmp");
    CHECK(mkdtemp(root) != NULL);
    /* Each is 90-350 MB of weights: the plain run writes the smallest,
     * VITC_EXTENDED=1 all of them. */
    const char *ext = getenv("VITC_EXTENDED");
    size_t n_presets = ext && strcmp(ext, "1") == 0 ? sizeof want / sizeof want[0] : 1;
    for (size_t i = 0; i < n_presets; i++) {
        char dir[128];
        snprintf(dir, sizeof dir, "%s/m", root);
        vitc_model *m = NULL;
        vitc_ctx *ctx = NULL;
        CHECKF(vitc_preset_write(dir, want[i].name, 1) == VITC_OK, "%s", vitc_last_error());
        CHECKF(vitc_model_load(dir, NULL, &m) == VITC_OK, "%s: %s", want[i].name,
               vitc_last_error());
        if (m) {
            const vitc_model_info *info = vitc_model_get_info(m);
            CHECKF(strcmp(info->family, want[i].family) == 0 && info->n_tokens == want[i].tokens &&
                       info->n_params == want[i].params &&
                       info->default_output == (int)want[i].def && info->image_size == 224,
                   "%s: %s, %d tokens, %llu params", want[i].name, info->family, info->n_tokens,
                   (unsigned long long)info->n_params);
            size_t n = vitc_output_size(m, VITC_OUTPUT_PIXEL_VALUES);
            float *px = malloc(n * sizeof *px), out[1024];
            test_fill(px, n, 1.0f);
            vitc_ctx_params cp = vitc_ctx_default_params();
            cp.max_batch = 1;
            CHECK(vitc_ctx_new(m, &cp, &ctx) == VITC_OK);
            CHECK(vitc_forward(ctx, px, 1) == VITC_OK);
            CHECK(vitc_output_size(m, (vitc_output)info->default_output) ==
                  (size_t)want[i].out_dim);
            CHECK(vitc_get_output(ctx, (vitc_output)info->default_output, out,
                                  (size_t)want[i].out_dim) == VITC_OK);
            int finite = 1;
            for (int k = 0; k < want[i].out_dim; k++) {
                finite &= isfinite(out[k]);
            }
            CHECKF(finite, "%s: non-finite output", want[i].name);
            free(px);
            vitc_ctx_free(ctx);
            vitc_model_free(m);
        }
        const char *files[] = {"config.json", "preprocessor_config.json", "model.safetensors"};
        for (int k = 0; k < 3; k++) {
            char path[256];
            snprintf(path, sizeof path, "%s/%s", dir, files[k]);
            unlink(path);
        }
        rmdir(dir);
    }
    rmdir(root);
}

int main(void)
{
    RUN(test_fp32);
    RUN(test_lowp);
    RUN(test_interpolate);
    RUN(test_info);
    RUN(test_hostile);
    RUN(test_hostile_sizes);
    RUN(test_presets);
    return TEST_REPORT();
}
