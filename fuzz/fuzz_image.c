/* SPDX-License-Identifier: MIT
 *
 * fuzz_image.c — libFuzzer target for image decoding, every format (EXIF orientation
 * included) and then preprocessing: every resample filter and a small
 * output size, both picked from the input's last byte so the corpus
 * exercises them all. Images past a fuzzing budget are refused at load
 * (the size caps themselves are the library's, tested in test_image).
 */
#include <math.h>

#include "fuzz.h"
#include "image/decoders.h"

/* Keeps each execution fast; far below VITC_MAX_IMAGE_PIXELS. */
#define FUZZ_MAX_PIXELS        (1u << 20)
#define FUZZ_MAX_RESIZE_PIXELS (4u << 20)

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    vitc_image *img = NULL;
    float *out = NULL;
    /* The budget bounds decoding only: a resize may pass through a larger
     * intermediate image. */
    vitc_test_image_pixel_budget(FUZZ_MAX_PIXELS);
    vitc_status s = vitc_image_load_memory(data, size, "fuzz.img", &img);
    vitc_test_image_pixel_budget(0);
    if (s != VITC_OK) {
        fuzz_check_failure(s);
        FUZZ_REQUIRE(img == NULL);
        return 0;
    }
    FUZZ_REQUIRE(img->width > 0 && img->height > 0);
    FUZZ_REQUIRE((uint64_t)img->width * (uint64_t)img->height <= VITC_MAX_IMAGE_PIXELS);
    FUZZ_REQUIRE(img->stride >= (size_t)img->width * 3);
    if ((uint64_t)img->width * (uint64_t)img->height <= FUZZ_MAX_RESIZE_PIXELS) {
        unsigned char knob = data[size - 1];
        vitc_preprocess_params p = vitc_preprocess_default_params();
        p.resample = knob % 6;
        p.width = 1 + (knob >> 3) % 32;
        p.height = 1 + (knob * 7u >> 2) % 32;
        size_t n = (size_t)3 * (size_t)p.width * (size_t)p.height;
        out = malloc(n * sizeof *out);
        FUZZ_REQUIRE(out != NULL);
        s = vitc_preprocess(&p, img, out, n);
        FUZZ_REQUIRE(s == VITC_OK);
        for (size_t i = 0; i < n; i++) {
            FUZZ_REQUIRE(isfinite(out[i]) && fabsf(out[i]) <= 1.0f);
        }
    }
    free(out);
    vitc_image_free(img);
    return 0;
}
