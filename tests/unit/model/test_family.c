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
static double run_sized(const char *name, vitc_precision prec, int height, int width,
                        const char *inputs, vitc_output which, const char *expected);

static double run_output(const char *name, vitc_precision prec, vitc_output which,
                         const char *expected)
{
    return run_sized(name, prec, 0, 0, "inputs.pixel_values.npy", which, expected);
}

/* The same at another input size, height x width (image_size when square), from another
 * inputs file. */
static double run_sized(const char *name, vitc_precision prec, int height, int width,
                        const char *inputs, vitc_output which, const char *expected)
{
    char dir[256];
    snprintf(dir, sizeof dir, "%s/%s", DATA, name);
    vitc_model *m = NULL;
    vitc_ctx *ctx = NULL;
    vitc_model_params mp = vitc_model_default_params();
    mp.precision = prec;
    if (height == width) {
        mp.image_size = height;
    } else {
        mp.image_height = height;
        mp.image_width = width;
    }
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

/* Runs vit-interpolate at height x width on the inputs of a size; returns the outputs
 * (caller frees) or NULL. */
static float *run_vit_interpolate(int height, int width, const vitc_tensor *in, size_t *n_out)
{
    vitc_model_params mp = vitc_model_default_params();
    vitc_ctx_params cp = vitc_ctx_default_params();
    vitc_model *m = NULL;
    vitc_ctx *ctx = NULL;
    float *out = NULL;
    mp.image_height = height;
    mp.image_width = width;
    cp.max_batch = (int)in->shape[0];
    cp.n_threads = 2;
    if (vitc_model_load(DATA "/vit-interpolate", &mp, &m) != VITC_OK ||
        vitc_ctx_new(m, &cp, &ctx) != VITC_OK) {
        CHECKF(0, "%dx%d: %s", height, width, vitc_last_error());
        goto done;
    }
    size_t n = in->shape[0], hw = (size_t)height * (size_t)width;
    size_t n_pv = vitc_output_size(m, VITC_OUTPUT_PIXEL_VALUES);
    *n_out = n * vitc_output_size(m, VITC_OUTPUT_LAST_HIDDEN_STATE);
    float *pv = calloc(n * n_pv, sizeof *pv);
    out = malloc(*n_out * sizeof *out);
    CHECK(pv && out && n_pv == 3 * hw);
    /* The inputs in the top-left corner, then values that depend only on (image, channel, y,
     * x), so two sizes see the same pixels where they overlap. */
    size_t ih = in->shape[2], iw = in->shape[3];
    for (size_t i = 0; pv && i < n * 3 * hw; i++) {
        size_t y = (i / (size_t)width) % (size_t)height, x = i % (size_t)width, img_c = i / hw;
        pv[i] = y < ih && x < iw ? ((const float *)in->data)[(img_c * ih + y) * iw + x]
                                 : (float)(((img_c * 131 + y) * 31 + x) % 200) / 100.0f - 1.0f;
    }
    if (!pv || !out || vitc_forward(ctx, pv, n) != VITC_OK ||
        vitc_get_output(ctx, VITC_OUTPUT_LAST_HIDDEN_STATE, out, *n_out) != VITC_OK) {
        CHECKF(0, "%dx%d: %s", height, width, vitc_last_error());
        free(out);
        out = NULL;
    }
    free(pv);
done:
    vitc_ctx_free(ctx);
    vitc_model_free(m);
    return out;
}

/* ViT's interpolate_pos_encoding: the 4x4 table of a 32 px model resized for 48x48 inputs
 * (6x6 patches, the square image_size parameter) and 24x56 inputs (3x7 patches, non-square:
 * image_height x image_width), against transformers; remainder pixels ignored as the patch
 * convolution floors; families without interpolation refuse it. */
static void test_interpolate(void)
{
    const char *names[] = {"last_hidden_state", "pooler_output"};
    const vitc_output which[] = {VITC_OUTPUT_LAST_HIDDEN_STATE, VITC_OUTPUT_POOLER};
    const int sizes[][2] = {{48, 48}, {24, 56}};
    for (int k = 0; k < 2; k++) {
        for (int i = 0; i < 2; i++) {
            char inputs[64], expected[64];
            int h = sizes[k][0], w = sizes[k][1];
            snprintf(inputs, sizeof inputs, "inputs.%dx%d.pixel_values.npy", h, w);
            snprintf(expected, sizeof expected, "expected.%dx%d.%s.npy", h, w, names[i]);
            double d =
                run_sized("vit-interpolate", VITC_PRECISION_FP32, h, w, inputs, which[i], expected);
            printf("  fp32 vit-interpolate %dx%d %-36s max abs diff %.2e\n", h, w, expected, d);
            CHECKF(d <= 1e-4, "%s: max abs diff %g", expected, d);
        }
    }
    vitc_model_params mp = vitc_model_default_params();
    vitc_model *m = NULL;
    mp.image_size = 48;
    CHECK(vitc_model_load(DATA "/vit-interpolate", &mp, &m) == VITC_OK);
    if (m) {
        const vitc_model_info *info = vitc_model_get_info(m);
        CHECK(info->image_size == 48 && info->image_height == 48 && info->image_width == 48 &&
              info->n_tokens == 37 && info->preprocess.height == 48 &&
              info->preprocess.width == 48);
        vitc_model_free(m);
        m = NULL;
    }
    mp.image_size = 0;
    mp.image_height = 24;
    mp.image_width = 56;
    CHECK(vitc_model_load(DATA "/vit-interpolate", &mp, &m) == VITC_OK);
    if (m) {
        const vitc_model_info *info = vitc_model_get_info(m);
        CHECK(info->image_size == 0 && info->image_height == 24 && info->image_width == 56 &&
              info->n_tokens == 22 && info->preprocess.height == 24 &&
              info->preprocess.width == 56);
        CHECK(vitc_output_size(m, VITC_OUTPUT_PIXEL_VALUES) == 3 * 24 * 56 &&
              vitc_output_size(m, VITC_OUTPUT_LAST_HIDDEN_STATE) == 22 * 32);
        vitc_model_free(m);
        m = NULL;
    }

    /* 53x61 has the grid of 48x56 (6x7, floored): the same outputs, bit for bit, whatever the
     * 5 extra rows and columns hold. 50x50 keeps the square rule's 6x6 of 48x48. */
    vitc_tensor *in = test_load_npy(DATA "/vit-interpolate", "inputs.48x48.pixel_values.npy");
    size_t na = 0, nb = 0;
    float *a = in ? run_vit_interpolate(48, 56, in, &na) : NULL;
    float *b = in ? run_vit_interpolate(53, 61, in, &nb) : NULL;
    CHECK(a && b && na == nb && memcmp(a, b, na * sizeof *a) == 0);
    free(a);
    free(b);
    a = in ? run_vit_interpolate(48, 48, in, &na) : NULL;
    b = in ? run_vit_interpolate(50, 50, in, &nb) : NULL;
    CHECK(a && b && na == nb && memcmp(a, b, na * sizeof *a) == 0);
    free(a);
    free(b);
    vitc_tensor_free(in);

    /* A cropping processor asked its own output size stays as published;
     * another size: the short side to the larger asked side, then the crop. */
    vitc_preprocess_params own = {0};
    CHECK(vitc_model_load(DATA "/dinov2", NULL, &m) == VITC_OK);
    if (m) {
        own = vitc_model_get_info(m)->preprocess;
        mp.image_height = own.crop_height;
        mp.image_width = own.crop_width;
        vitc_model_free(m);
        m = NULL;
        CHECK(vitc_model_load(DATA "/dinov2", &mp, &m) == VITC_OK);
    }
    if (m) {
        const vitc_preprocess_params *p = &vitc_model_get_info(m)->preprocess;
        CHECK(own.do_center_crop && p->shortest_edge == own.shortest_edge &&
              p->height == own.height && p->width == own.width &&
              p->crop_height == own.crop_height && p->crop_width == own.crop_width);
        vitc_model_free(m);
        m = NULL;
    }
    mp.image_height = 40;
    mp.image_width = 24;
    CHECK(vitc_model_load(DATA "/dinov2", &mp, &m) == VITC_OK);
    if (m) {
        const vitc_model_info *info = vitc_model_get_info(m);
        CHECK(info->n_tokens == 61 && info->preprocess.shortest_edge == 40 &&
              info->preprocess.crop_height == 40 && info->preprocess.crop_width == 24);
        vitc_model_free(m);
        m = NULL;
    }
    mp.image_height = mp.image_width = 0;

    mp.image_size = 64;
    CHECK(vitc_model_load(DATA "/clip", &mp, &m) == VITC_ERR_UNSUPPORTED && !m);
    CHECKF(strstr(vitc_last_error(), "no position-embedding interpolation") != NULL, "%s",
           vitc_last_error());
    mp.image_size = 7;
    CHECK(vitc_model_load(DATA "/vit-interpolate", &mp, &m) == VITC_ERR_UNSUPPORTED && !m);
    CHECKF(strstr(vitc_last_error(), "smaller than one 8x8 patch") != NULL, "%s",
           vitc_last_error());
    mp.image_size = -1;
    CHECK(vitc_model_load(DATA "/vit-interpolate", &mp, &m) == VITC_ERR_INVALID_ARG && !m);
    mp.image_size = 0;
    mp.image_height = 24;
    CHECK(vitc_model_load(DATA "/vit-interpolate", &mp, &m) == VITC_ERR_INVALID_ARG && !m);
    CHECKF(strstr(vitc_last_error(), "both must be 0") != NULL, "%s", vitc_last_error());
    mp.image_width = 65536;
    CHECK(vitc_model_load(DATA "/vit-interpolate", &mp, &m) == VITC_ERR_INVALID_ARG && !m);
}

/* An interpolation to an absurd size is refused at load, naming the size and the limits
 * (16,384 tokens, 4096 x 4096 pixels; with these 8 and 4 px patches the token bound is the
 * one reached), and the sizes just inside are accepted. */
static void test_absurd_size(void)
{
    vitc_model_params mp = vitc_model_default_params();
    vitc_model *m = NULL;
    mp.image_size = 8192;
    CHECK(vitc_model_load(DATA "/vit-interpolate", &mp, &m) == VITC_ERR_UNSUPPORTED && !m);
    CHECKF(strstr(vitc_last_error(), "8192x8192") && strstr(vitc_last_error(), "1048577 tokens") &&
               strstr(vitc_last_error(), "over the limit of 16384 tokens"),
           "%s", vitc_last_error());
    mp.image_size = 0;
    /* 8 x 65535: a 1 x 8191 grid, 8192 tokens: within both limits. */
    mp.image_height = 8;
    mp.image_width = 65535;
    CHECK(vitc_model_load(DATA "/vit-interpolate", &mp, &m) == VITC_OK);
    if (m) {
        CHECK(vitc_model_get_info(m)->n_tokens == 8192);
        vitc_model_free(m);
        m = NULL;
    }
    /* 1,024 tall x 16,384 wide: 128 x 2048 patches, over. */
    mp.image_height = 1024;
    mp.image_width = 16384;
    CHECK(vitc_model_load(DATA "/vit-interpolate", &mp, &m) == VITC_ERR_UNSUPPORTED && !m);
    CHECKF(strstr(vitc_last_error(), "1024x16384") != NULL, "%s", vitc_last_error());
    /* DINOv2 (patch 4): 512 x 512 px is 16,385 tokens, one over. */
    mp.image_height = mp.image_width = 512;
    CHECK(vitc_model_load(DATA "/dinov2", &mp, &m) == VITC_ERR_UNSUPPORTED && !m);
    CHECKF(strstr(vitc_last_error(), "16385 tokens") != NULL, "%s", vitc_last_error());
    mp.image_height = 508;
    mp.image_width = 512;
    CHECK(vitc_model_load(DATA "/dinov2", &mp, &m) == VITC_OK);
    vitc_model_free(m);
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
    RUN(test_absurd_size);
    RUN(test_info);
    RUN(test_hostile);
    RUN(test_hostile_sizes);
    RUN(test_presets);
    return TEST_REPORT();
}
