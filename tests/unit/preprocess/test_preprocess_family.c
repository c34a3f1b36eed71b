/* SPDX-License-Identifier: MIT
 *
 * test_preprocess_family.c — the cropping and bicubic image processors
 * (CLIP, Bit, DeiT, Siglip) against transformers 4.40.2: pixel_values of all
 * 17 fixture images bit for bit (sha256 of the reference float32 CHW bytes,
 * tests/data/family/preprocess), each class's defaults, legacy
 * feature-extractor files, the shortest-edge size rule and the crop's pad.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "base/sha256.h"
#include "test.h"
#include "vitc.h"

#define DATA   "tests/data/family/preprocess"
#define IMAGES "tests/data/preprocess/images"

static const char *const processors[] = {"CLIPImageProcessor", "SiglipImageProcessor",
                                         "BitImageProcessor", "DeiTImageProcessor"};

/* Preprocesses one image and returns the sha256 of its float32 bytes. */
static int preprocess_hash(const vitc_preprocess_params *pp, const char *image, char hex[65])
{
    char path[512];
    vitc_image *img = NULL;
    snprintf(path, sizeof path, "%s/%s", IMAGES, image);
    if (vitc_image_load(path, &img) != VITC_OK) {
        return -1;
    }
    int w = 0, h = 0;
    CHECK(vitc_preprocess_output_size(pp, img->width, img->height, &w, &h) == VITC_OK);
    size_t n = (size_t)3 * w * h;
    float *pv = malloc(n * sizeof *pv);
    vitc_status st = vitc_preprocess(pp, img, pv, n);
    CHECKF(st == VITC_OK, "%s: %s", image, vitc_last_error());
    vitc_sha256 s;
    vitc_sha256_init(&s);
    vitc_sha256_update(&s, pv, n * sizeof *pv);
    vitc_sha256_final_hex(&s, hex);
    free(pv);
    vitc_image_free(img);
    return st == VITC_OK ? 0 : -1;
}

static void test_fixtures(void)
{
    for (size_t i = 0; i < sizeof processors / sizeof processors[0]; i++) {
        char path[512], line[512];
        vitc_preprocess_params pp;
        snprintf(path, sizeof path, "%s/%s/preprocessor_config.json", DATA, processors[i]);
        CHECKF(vitc_preprocess_params_load(path, &pp) == VITC_OK, "%s", vitc_last_error());
        CHECKF(pp.processor && strcmp(pp.processor, processors[i]) == 0, "%s", processors[i]);
        snprintf(path, sizeof path, "%s/%s/pixel_values.sha256", DATA, processors[i]);
        FILE *f = fopen(path, "r");
        CHECKF(f != NULL, "%s", path);
        int n = 0;
        while (f && fgets(line, sizeof line, f)) {
            char want[65], image[256], got[65] = "";
            if (sscanf(line, "%64s %255s", want, image) != 2) {
                continue;
            }
            int rc = preprocess_hash(&pp, image, got);
            CHECKF(rc == 0 && strcmp(got, want) == 0, "%s %s: pixel_values differ", processors[i],
                   image);
            n++;
        }
        CHECKF(n == 17, "%s: %d images", processors[i], n);
        if (f) {
            fclose(f);
        }
    }
}

static vitc_status load_text(const char *text, vitc_preprocess_params *p)
{
    char path[64];
    snprintf(path, sizeof path, "%s/vitc_ppf_XXXXXX", getenv("TMPDIR") ? getenv("TMPDIR") : "/tmp");
    int fd = mkstemp(path);
    if (fd < 0) {
        return VITC_ERR_IO;
    }
    size_t len = strlen(text);
    vitc_status st = VITC_ERR_IO;
    if (write(fd, text, len) == (ssize_t)len) {
        st = vitc_preprocess_params_load(path, p);
    }
    close(fd);
    unlink(path);
    return st;
}

static void test_class_defaults(void)
{
    vitc_preprocess_params p;
    /* CLIP and Bit: shortest edge 224, crop 224, bicubic, CLIP's mean/std. */
    const char *edge[] = {"{\"image_processor_type\": \"CLIPImageProcessor\"}",
                          "{\"image_processor_type\": \"BitImageProcessor\"}"};
    for (int i = 0; i < 2; i++) {
        CHECK(load_text(edge[i], &p) == VITC_OK);
        CHECK(p.shortest_edge == 224 && p.do_center_crop && p.crop_height == 224 &&
              p.crop_width == 224 && p.resample == VITC_RESAMPLE_BICUBIC);
        CHECK(p.image_mean[0] == 0.48145466 && p.image_std[2] == 0.27577711);
    }
    CHECK(load_text("{\"image_processor_type\": \"DeiTImageProcessor\"}", &p) == VITC_OK);
    CHECK(p.shortest_edge == 0 && p.height == 256 && p.width == 256 && p.do_center_crop &&
          p.crop_height == 224 && p.resample == VITC_RESAMPLE_BICUBIC && p.image_mean[0] == 0.5);
    CHECK(load_text("{\"image_processor_type\": \"SiglipImageProcessor\"}", &p) == VITC_OK);
    CHECK(p.height == 224 && !p.do_center_crop && p.resample == VITC_RESAMPLE_BICUBIC);
    CHECK(load_text("{}", &p) == VITC_OK);
    CHECK(strcmp(p.processor, "ViTImageProcessor") == 0 && !p.do_center_crop &&
          p.resample == VITC_RESAMPLE_BILINEAR);
}

static void test_legacy_files(void)
{
    vitc_preprocess_params p;
    /* openai/clip-vit-base-patch32's old layout: a bare size is the shortest edge. */
    CHECK(load_text("{\"feature_extractor_type\": \"CLIPFeatureExtractor\", \"size\": 48, "
                    "\"crop_size\": 48, \"do_center_crop\": true}",
                    &p) == VITC_OK);
    CHECK(strcmp(p.processor, "CLIPImageProcessor") == 0 && p.shortest_edge == 48 &&
          p.crop_height == 48 && p.crop_width == 48);
    /* DeiTFeatureExtractor on a ViT checkpoint: a bare size is N x N. */
    CHECK(load_text("{\"feature_extractor_type\": \"DeiTFeatureExtractor\", \"size\": 36, "
                    "\"crop_size\": 32, \"resample\": 3}",
                    &p) == VITC_OK);
    CHECK(strcmp(p.processor, "DeiTImageProcessor") == 0 && p.shortest_edge == 0 &&
          p.height == 36 && p.width == 36 && p.crop_height == 32 && p.do_center_crop);
    CHECK(load_text("{\"feature_extractor_type\": \"ViTFeatureExtractor\", \"size\": 32}", &p) ==
          VITC_OK);
    CHECK(strcmp(p.processor, "ViTImageProcessor") == 0 && p.height == 32 && !p.do_center_crop);
    /* ViT has no crop: crop keys are ignored. */
    CHECK(load_text("{\"crop_size\": 20, \"do_center_crop\": true}", &p) == VITC_OK);
    CHECK(!p.do_center_crop);
    /* Errors name the file and the reason. */
    CHECK(load_text("{\"image_processor_type\": \"SiglipImageProcessor\", \"size\": 32}", &p) ==
          VITC_ERR_FORMAT);
    CHECK(strstr(vitc_last_error(), "Siglip") != NULL);
    CHECK(load_text("{\"image_processor_type\": \"BeitImageProcessor\"}", &p) ==
          VITC_ERR_UNSUPPORTED);
    CHECK(strstr(vitc_last_error(), "BeitImageProcessor") != NULL);
    CHECK(load_text("{\"image_processor_type\": \"CLIPImageProcessor\", \"crop_size\": [3]}", &p) ==
          VITC_ERR_FORMAT);
    CHECK(load_text("{\"image_processor_type\": 3}", &p) == VITC_ERR_FORMAT);
}

/* get_resize_output_image_size's examples (fixture README, fact 4). */
static void test_shortest_edge_rule(void)
{
    vitc_preprocess_params p = vitc_preprocess_default_params();
    p.shortest_edge = 224;
    p.resample = VITC_RESAMPLE_BICUBIC;
    int w, h;
    const int cases[][4] = {
        {720, 477, 338, 224},   {200, 320, 224, 358}, {50, 37, 302, 224},
        {3000, 40, 16800, 224}, {224, 224, 224, 224}, {40, 3000, 224, 16800},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        CHECK(vitc_preprocess_output_size(&p, cases[i][0], cases[i][1], &w, &h) == VITC_OK);
        CHECKF(w == cases[i][2] && h == cases[i][3], "%dx%d -> %dx%d", cases[i][0], cases[i][1], w,
               h);
    }
    CHECK(!vitc_preprocess_fixed_size(&p, &w, &h));
    p.do_center_crop = true;
    p.crop_width = 30;
    p.crop_height = 20;
    CHECK(vitc_preprocess_fixed_size(&p, &w, &h) && w == 30 && h == 20);
}

/* A crop larger than the image pads with zeros, the image at
 * ceil((crop - size) / 2) (transformers' center_crop). */
static void test_crop_pads(void)
{
    vitc_image *img = NULL;
    CHECK(vitc_image_new(1, 2, &img) == VITC_OK);
    memset(img->data, 255, img->stride * 2);
    vitc_preprocess_params p = vitc_preprocess_default_params();
    p.do_resize = false;
    p.do_normalize = false;
    p.do_rescale = false;
    p.do_center_crop = true;
    p.crop_width = 4;
    p.crop_height = 3;
    float out[3 * 12];
    CHECK(vitc_preprocess(&p, img, out, 36) == VITC_OK);
    /* rows: ceil(1/2) = 1 -> image rows at 1..2; columns: ceil(3/2) = 2. */
    for (int y = 0; y < 3; y++) {
        for (int x = 0; x < 4; x++) {
            float want = (y >= 1 && x == 2) ? 255.0f : 0.0f;
            CHECKF(out[y * 4 + x] == want, "(%d,%d) = %g", y, x, out[y * 4 + x]);
        }
    }
    CHECK(vitc_preprocess(&p, img, out, 35) == VITC_ERR_INVALID_ARG);
    p.crop_width = 0;
    CHECK(vitc_preprocess(&p, img, out, 36) == VITC_ERR_INVALID_ARG);
    vitc_image_free(img);
}

int main(void)
{
    RUN(test_fixtures);
    RUN(test_class_defaults);
    RUN(test_legacy_files);
    RUN(test_shortest_edge_rule);
    RUN(test_crop_pads);
    return TEST_REPORT();
}
