/* SPDX-License-Identifier: MIT
 *
 * test_preprocess.c — decode + resize + rescale/normalize against the
 * transformers/Pillow fixtures in tests/data/preprocess, bit for bit, and
 * the preprocessor_config.json parser and vitc_preprocess argument checks.
 * With VITC_EXTENDED=1 also every pixel_values file of ../shared/fixtures.
 */
#include <dirent.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "test.h"
#include "vitc.h"

#define DATA   "tests/data/preprocess"
#define SHARED "../shared/fixtures/preprocess"

/* ---- helpers ---- */

static int file_exists(const char *path)
{
    return access(path, R_OK) == 0;
}

/* Number of differing bytes between two RGB images of the same size, or -1
 * when the sizes differ. */
static long image_diff(const vitc_image *a, const vitc_image *b)
{
    long n = 0;
    if (a->width != b->width || a->height != b->height) {
        return -1;
    }
    for (int y = 0; y < a->height; y++) {
        const uint8_t *ra = a->data + (size_t)y * a->stride;
        const uint8_t *rb = b->data + (size_t)y * b->stride;
        for (int x = 0; x < a->width * 3; x++) {
            n += ra[x] != rb[x];
        }
    }
    return n;
}

/* Count of floats whose bits differ. */
static size_t float_bits_diff(const float *a, const float *b, size_t n)
{
    size_t d = 0;
    for (size_t i = 0; i < n; i++) {
        d += memcmp(&a[i], &b[i], sizeof(float)) != 0;
    }
    return d;
}

static char *write_temp(const char *text)
{
    char *path = malloc(64);
    snprintf(path, 64, "%s/vitc_pp_XXXXXX", getenv("TMPDIR") ? getenv("TMPDIR") : "/tmp");
    int fd = mkstemp(path);
    if (fd < 0) {
        free(path);
        return NULL;
    }
    size_t len = strlen(text);
    if (write(fd, text, len) != (ssize_t)len) {
        len = 0;
    }
    close(fd);
    return path;
}

/* Loads a config from text; returns the status, fills *p (starting from
 * a sentinel so "unchanged on failure" can be checked). */
static vitc_status load_text(const char *text, vitc_preprocess_params *p)
{
    char *path = write_temp(text);
    vitc_status st = VITC_ERR_IO;
    if (path) {
        st = vitc_preprocess_params_load(path, p);
        unlink(path);
        free(path);
    }
    return st;
}

/* ---- fixture comparison ---- */

/* Decodes one fixture image and checks every expected file that exists for
 * it; `lut` is the 256-entry HF table for the fixture config. */
static void check_fixture(const char *dir, const char *name, const vitc_preprocess_params *pp,
                          const float *lut, int *n_checked)
{
    char path[512], exp[512];
    vitc_image *img = NULL, *ref = NULL, *resized = NULL;
    vitc_tensor *t = NULL;
    float *pv = NULL;
    size_t n_pv = (size_t)3 * pp->height * pp->width;

    snprintf(path, sizeof path, "%s/images/%s", dir, name);
    vitc_status st = vitc_image_load(path, &img);
    CHECKF(st == VITC_OK, "%s: %s", path, vitc_last_error());
    if (st != VITC_OK) {
        return;
    }
    snprintf(exp, sizeof exp, "%s/expected/%s.loaded_rgb.png", dir, name);
    if (file_exists(exp)) {
        CHECKF(vitc_image_load(exp, &ref) == VITC_OK, "%s", vitc_last_error());
        if (ref) {
            long d = image_diff(img, ref);
            CHECKF(d == 0, "%s: decoded %dx%d differs from loaded_rgb %dx%d in %ld bytes", name,
                   img->width, img->height, ref->width, ref->height, d);
            ++*n_checked;
        }
    }
    snprintf(exp, sizeof exp, "%s/expected/%s.resized_u8.npy", dir, name);
    if (file_exists(exp)) {
        CHECK(vitc_image_resize(img, pp->width, pp->height, pp->resample, &resized) == VITC_OK);
        CHECKF(vitc_npy_load(exp, &t) == VITC_OK, "%s", vitc_last_error());
        if (resized && t) {
            CHECK(t->dtype == VITC_DTYPE_U8 && t->ndim == 3 && t->shape[0] == 224 &&
                  t->shape[1] == 224 && t->shape[2] == 3);
            long d = 0;
            int maxd = 0;
            const uint8_t *e = t->data;
            for (int y = 0; y < resized->height; y++) {
                for (int x = 0; x < resized->width * 3; x++) {
                    int a = resized->data[(size_t)y * resized->stride + x];
                    int b = e[(size_t)y * 224 * 3 + x];
                    d += a != b;
                    maxd = abs(a - b) > maxd ? abs(a - b) : maxd;
                }
            }
            CHECKF(d == 0, "%s: resize differs in %ld bytes (max %d)", name, d, maxd);
            ++*n_checked;
        }
        vitc_tensor_free(t);
        t = NULL;
    }
    pv = malloc(n_pv * sizeof(float));
    CHECKF(vitc_preprocess(pp, img, pv, n_pv) == VITC_OK, "%s", vitc_last_error());
    if (resized && lut) {
        size_t plane = (size_t)pp->height * pp->width, bad = 0;
        for (size_t i = 0; i < plane; i++) {
            int y = (int)(i / pp->width), x = (int)(i % pp->width);
            for (int c = 0; c < 3; c++) {
                float want = lut[resized->data[(size_t)y * resized->stride + 3 * x + c]];
                bad += memcmp(&pv[c * plane + i], &want, sizeof want) != 0;
            }
        }
        CHECKF(bad == 0, "%s: %zu values differ from lut[resized]", name, bad);
    }
    snprintf(exp, sizeof exp, "%s/expected/%s.pixel_values.npy", dir, name);
    if (file_exists(exp)) {
        CHECKF(vitc_npy_load(exp, &t) == VITC_OK, "%s", vitc_last_error());
        if (t) {
            CHECK(t->dtype == VITC_DTYPE_F32 && t->n_elems == n_pv);
            if (t->n_elems == n_pv) {
                size_t d = float_bits_diff(pv, t->data, n_pv);
                CHECKF(d == 0, "%s: %zu pixel_values differ (max abs %g)", name, d,
                       test_max_abs_diff(pv, t->data, n_pv));
            }
            ++*n_checked;
        }
        vitc_tensor_free(t);
    }
    free(pv);
    vitc_image_free(resized);
    vitc_image_free(ref);
    vitc_image_free(img);
}

static float *load_lut(const char *path)
{
    vitc_tensor *t = NULL;
    float *lut = NULL;
    if (vitc_npy_load(path, &t) != VITC_OK) {
        return NULL;
    }
    if (t->dtype == VITC_DTYPE_F32 && t->n_elems == 256) {
        lut = malloc(256 * sizeof(float));
        memcpy(lut, t->data, 256 * sizeof(float));
    }
    vitc_tensor_free(t);
    return lut;
}

static void check_dir(const char *dir, int *n_images, int *n_checked)
{
    char path[512];
    vitc_preprocess_params pp;
    DIR *d;
    struct dirent *de;
    snprintf(path, sizeof path, "%s/preprocessor_config.json", dir);
    CHECKF(vitc_preprocess_params_load(path, &pp) == VITC_OK, "%s", vitc_last_error());
    snprintf(path, sizeof path, "%s/u8_to_pixel_value_lut.npy", dir);
    float *lut = load_lut(path);
    CHECKF(lut != NULL, "%s: %s", path, vitc_last_error());
    snprintf(path, sizeof path, "%s/images", dir);
    d = opendir(path);
    CHECKF(d != NULL, "cannot list %s", path);
    while (d && (de = readdir(d)) != NULL) {
        if (de->d_name[0] == '.') {
            continue;
        }
        check_fixture(dir, de->d_name, &pp, lut, n_checked);
        ++*n_images;
    }
    if (d) {
        closedir(d);
    }
    free(lut);
}

static void test_fixtures(void)
{
    int n_images = 0, n_checked = 0;
    check_dir(DATA, &n_images, &n_checked);
    CHECKF(n_images == 17, "found %d images", n_images);
    /* 11 loaded_rgb + 17 resized + 4 pixel_values */
    CHECKF(n_checked == 32, "checked %d expected files", n_checked);
}

static void test_extended(void)
{
    int n_images = 0, n_checked = 0;
    check_dir(SHARED, &n_images, &n_checked);
    CHECKF(n_checked >= 17 + 17, "checked %d expected files", n_checked);
}

/* Our per-channel table (seen through a 256x1 image without resize)
 * equals HF's rescale+normalize of 0..255 exactly. */
static void test_table_matches_lut(void)
{
    float *lut = load_lut(DATA "/u8_to_pixel_value_lut.npy");
    vitc_preprocess_params pp;
    vitc_image *img = NULL;
    float out[3 * 256];
    CHECK(lut != NULL);
    CHECK(vitc_preprocess_params_load(DATA "/preprocessor_config.json", &pp) == VITC_OK);
    CHECK(vitc_image_new(256, 1, &img) == VITC_OK);
    if (!lut || !img) {
        free(lut);
        vitc_image_free(img);
        return;
    }
    for (int v = 0; v < 256; v++) {
        img->data[3 * v] = img->data[3 * v + 1] = img->data[3 * v + 2] = (uint8_t)v;
    }
    pp.do_resize = false;
    CHECK(vitc_preprocess(&pp, img, out, 3 * 256) == VITC_OK);
    for (int c = 0; c < 3; c++) {
        CHECKF(float_bits_diff(out + 256 * c, lut, 256) == 0, "channel %d", c);
    }
    /* The README's equivalent float32 formula, as a second witness. */
    for (int v = 0; v < 256; v++) {
        float want = (float)v / 127.5f - 1.0f;
        CHECKF(memcmp(&out[v], &want, 4) == 0, "value %d", v);
    }
    free(lut);
    vitc_image_free(img);
}

/* ---- preprocessor_config.json ---- */

static int params_equal(const vitc_preprocess_params *a, const vitc_preprocess_params *b)
{
    return a->do_resize == b->do_resize && a->height == b->height && a->width == b->width &&
           a->resample == b->resample && a->do_rescale == b->do_rescale &&
           a->rescale_factor == b->rescale_factor && a->do_normalize == b->do_normalize &&
           memcmp(a->image_mean, b->image_mean, sizeof a->image_mean) == 0 &&
           memcmp(a->image_std, b->image_std, sizeof a->image_std) == 0 &&
           a->do_convert_rgb == b->do_convert_rgb;
}

static void test_config_defaults(void)
{
    vitc_preprocess_params d = vitc_preprocess_default_params(), p;
    CHECK(d.do_resize && d.height == 224 && d.width == 224 && d.resample == 2);
    CHECK(d.do_rescale && d.rescale_factor == 1.0 / 255.0 && d.do_normalize);
    CHECK(d.image_mean[0] == 0.5 && d.image_std[2] == 0.5 && d.do_convert_rgb);
    memset(&p, 0x5a, sizeof p);
    CHECK(load_text("{}", &p) == VITC_OK);
    CHECK(params_equal(&p, &d));
    /* Unknown keys (as save_pretrained writes them) are ignored. */
    CHECK(load_text("{\"_valid_processor_keys\": [\"images\"], \"image_processor_type\": "
                    "\"ViTImageProcessor\", \"crop_size\": {\"height\": 1}}",
                    &p) == VITC_OK);
    CHECK(params_equal(&p, &d));
}

static void test_config_values(void)
{
    vitc_preprocess_params p;
    CHECK(load_text("{\"size\": 384}", &p) == VITC_OK);
    CHECK(p.height == 384 && p.width == 384);
    CHECK(load_text("{\"size\": {\"height\": 32, \"width\": 48}, \"resample\": 3, "
                    "\"do_rescale\": false, \"rescale_factor\": 2, \"do_normalize\": false, "
                    "\"image_mean\": [0.485, 0.456, 0.406], \"image_std\": 0.25, "
                    "\"do_convert_rgb\": false, \"do_resize\": false}",
                    &p) == VITC_OK);
    CHECK(p.height == 32 && p.width == 48 && p.resample == 3 && !p.do_rescale);
    CHECK(p.rescale_factor == 2.0 && !p.do_normalize && !p.do_resize && !p.do_convert_rgb);
    CHECK(p.image_mean[1] == 0.456 && p.image_std[0] == 0.25 && p.image_std[2] == 0.25);
    CHECK(load_text("{\"size\": [10, 20], \"image_mean\": [0.1]}", &p) == VITC_OK);
    CHECK(p.height == 10 && p.width == 20 && p.image_mean[2] == 0.1);
    CHECK(vitc_preprocess_params_load("tests/data/models/tiny-variant/preprocessor_config.json",
                                      &p) == VITC_OK);
    CHECK(p.height == 48 && p.image_mean[0] == 0.485 && p.image_std[2] == 0.225);
}

static void test_config_errors(void)
{
    static const struct {
        const char *text;
        vitc_status st;
        const char *needle;
    } cases[] = {
        {"{\"size\": {\"shortest_edge\": 224}}", VITC_ERR_UNSUPPORTED, "shortest"},
        {"{\"size\": {\"height\": 224}}", VITC_ERR_FORMAT, "size"},
        {"{\"size\": 0}", VITC_ERR_FORMAT, "size"},
        {"{\"size\": 9000}", VITC_ERR_FORMAT, "size"},
        {"{\"size\": \"224\"}", VITC_ERR_FORMAT, "size"},
        {"{\"size\": 224.5}", VITC_ERR_FORMAT, "size"},
        {"{\"resample\": 6}", VITC_ERR_FORMAT, "resample"},
        {"{\"resample\": \"bilinear\"}", VITC_ERR_FORMAT, "resample"},
        {"{\"do_resize\": 1}", VITC_ERR_FORMAT, "do_resize"},
        {"{\"do_normalize\": null}", VITC_ERR_FORMAT, "do_normalize"},
        {"{\"rescale_factor\": \"x\"}", VITC_ERR_FORMAT, "rescale_factor"},
        {"{\"image_std\": [0.5, 0, 0.5]}", VITC_ERR_FORMAT, "image_std"},
        {"{\"image_std\": [0.5, 0.5]}", VITC_ERR_FORMAT, "image_std"},
        {"{\"image_mean\": [0.5, \"a\", 0.5]}", VITC_ERR_FORMAT, "image_mean"},
        {"{\"image_mean\": {}}", VITC_ERR_FORMAT, "image_mean"},
        {"{\"size\": 224, \"size\": 384}", VITC_ERR_FORMAT, "size"},
        {"[1, 2]", VITC_ERR_FORMAT, "object"},
        {"{\"size\": ", VITC_ERR_FORMAT, "vitc_pp_"},
        {"", VITC_ERR_FORMAT, "vitc_pp_"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        vitc_preprocess_params p, before;
        memset(&p, 0x33, sizeof p);
        before = p;
        vitc_status st = load_text(cases[i].text, &p);
        CHECKF(st == cases[i].st, "%s: got %d (%s)", cases[i].text, (int)st, vitc_last_error());
        CHECKF(strstr(vitc_last_error(), cases[i].needle) != NULL, "%s: message '%s'",
               cases[i].text, vitc_last_error());
        CHECKF(strstr(vitc_last_error(), "vitc_pp_") != NULL, "no file name in '%s'",
               vitc_last_error());
        CHECK(memcmp(&p, &before, sizeof p) == 0);
    }
    vitc_preprocess_params p;
    CHECK(vitc_preprocess_params_load("tests/data/no/such/preprocessor_config.json", &p) ==
          VITC_ERR_IO);
    CHECK(strstr(vitc_last_error(), "no/such/preprocessor_config.json") != NULL);
    CHECK(vitc_preprocess_params_load(NULL, &p) == VITC_ERR_INVALID_ARG);
}

/* ---- vitc_preprocess ---- */

static void test_preprocess_args(void)
{
    vitc_preprocess_params p = vitc_preprocess_default_params();
    vitc_image *img = NULL;
    float *out = malloc(3 * 224 * 224 * sizeof(float));
    CHECK(vitc_image_new(5, 3, &img) == VITC_OK);
    CHECK(vitc_preprocess(NULL, img, out, 3 * 224 * 224) == VITC_ERR_INVALID_ARG);
    CHECK(vitc_preprocess(&p, NULL, out, 3 * 224 * 224) == VITC_ERR_INVALID_ARG);
    CHECK(vitc_preprocess(&p, img, NULL, 3 * 224 * 224) == VITC_ERR_INVALID_ARG);
    CHECK(vitc_preprocess(&p, img, out, 3 * 224 * 223) == VITC_ERR_INVALID_ARG);
    CHECK(strstr(vitc_last_error(), "expected") != NULL);
    p.resample = 9;
    CHECK(vitc_preprocess(&p, img, out, 3 * 224 * 224) == VITC_ERR_INVALID_ARG);
    p = vitc_preprocess_default_params();
    p.image_std[1] = 0.0;
    CHECK(vitc_preprocess(&p, img, out, 3 * 224 * 224) == VITC_ERR_INVALID_ARG);
    p = vitc_preprocess_default_params();
    p.width = 0;
    CHECK(vitc_preprocess(&p, img, out, 0) == VITC_ERR_INVALID_ARG);
    /* Without resize the output is the image's own size, CHW; a 3-pixel-
     * high image stays HWC (no channel-axis guess). */
    p = vitc_preprocess_default_params();
    p.do_resize = false;
    for (int i = 0; i < 5 * 3; i++) {
        img->data[3 * i] = 255;
        img->data[3 * i + 1] = 0;
        img->data[3 * i + 2] = (uint8_t)i;
    }
    CHECK(vitc_preprocess(&p, img, out, 3 * 224 * 224) == VITC_ERR_INVALID_ARG);
    CHECK(vitc_preprocess(&p, img, out, 3 * 5 * 3) == VITC_OK);
    CHECK(out[0] == 1.0f && out[14] == 1.0f && out[15] == -1.0f && out[29] == -1.0f);
    CHECK(out[30] == -1.0f && out[44] == (float)(14.0 / 255.0) / 0.5f - 1.0f);
    /* No rescale, no normalize: the u8 values as floats. */
    p.do_rescale = false;
    p.do_normalize = false;
    CHECK(vitc_preprocess(&p, img, out, 3 * 5 * 3) == VITC_OK);
    CHECK(out[0] == 255.0f && out[15] == 0.0f && out[44] == 14.0f);
    /* No rescale but normalize: float32(u8) then (x - mean) / std. */
    p.do_normalize = true;
    CHECK(vitc_preprocess(&p, img, out, 3 * 5 * 3) == VITC_OK);
    CHECK(out[0] == (255.0f - 0.5f) / 0.5f);
    free(out);
    vitc_image_free(img);
}

static void test_resize_basics(void)
{
    vitc_image *img = NULL, *out = NULL;
    CHECK(vitc_image_new(1, 1, &img) == VITC_OK);
    img->data[0] = 200;
    img->data[1] = 100;
    img->data[2] = 50;
    for (int f = 0; f <= 5; f++) {
        CHECK(vitc_image_resize(img, 7, 3, f, &out) == VITC_OK);
        if (out) {
            int ok = 1;
            for (int i = 0; i < 21; i++) {
                ok &= out->data[3 * i] == 200 && out->data[3 * i + 1] == 100 &&
                      out->data[3 * i + 2] == 50;
            }
            CHECKF(ok, "filter %d", f);
        }
        vitc_image_free(out);
        out = NULL;
    }
    CHECK(vitc_image_resize(img, 1, 1, 2, &out) == VITC_OK);
    CHECK(out && out != img && out->data[0] == 200);
    vitc_image_free(out);
    out = NULL;
    CHECK(vitc_image_resize(img, 0, 1, 2, &out) == VITC_ERR_INVALID_ARG && out == NULL);
    CHECK(vitc_image_resize(img, 2, 2, 6, &out) == VITC_ERR_INVALID_ARG && out == NULL);
    CHECK(vitc_image_resize(NULL, 2, 2, 2, &out) == VITC_ERR_INVALID_ARG);
    vitc_image_free(img);
}

int main(void)
{
    RUN(test_config_defaults);
    RUN(test_config_values);
    RUN(test_config_errors);
    RUN(test_preprocess_args);
    RUN(test_resize_basics);
    RUN(test_table_matches_lut);
    RUN(test_fixtures);
    if (getenv("VITC_EXTENDED") && strcmp(getenv("VITC_EXTENDED"), "1") == 0) {
        if (file_exists(SHARED "/preprocessor_config.json")) {
            RUN(test_extended);
        } else {
            SKIP(test_extended, SHARED " not found");
        }
    } else {
        SKIP(test_extended, "set VITC_EXTENDED=1 to compare ../shared/fixtures");
    }
    return TEST_REPORT();
}
