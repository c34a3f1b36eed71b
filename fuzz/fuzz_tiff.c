/* SPDX-License-Identifier: MIT
 *
 * fuzz_tiff.c — libFuzzer target for the TIFF decoder alone (src/image/tiff.c
 * over libtiff): every input goes to vitc_tiff_decode whatever its first
 * bytes, so no executions are spent on the format sniffing fuzz_image
 * already covers. Images past a fuzzing budget are refused at the size
 * check, before libtiff decodes a pixel. Checks the decoder's contract
 * only; pixels are compared with Pillow in tests/pillow.
 */
#include "fuzz.h"
#include "image/decoders.h"

/* Keeps each execution fast; far below VITC_MAX_IMAGE_PIXELS. */
#define FUZZ_MAX_PIXELS (1u << 20)

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    vitc_image *img = NULL;
    vitc_test_image_pixel_budget(FUZZ_MAX_PIXELS);
    vitc_status s = vitc_tiff_decode(data, size, "fuzz.tif", &img);
    vitc_test_image_pixel_budget(0);
    if (s != VITC_OK) {
        fuzz_check_failure(s);
        FUZZ_REQUIRE(img == NULL);
        return 0;
    }
    FUZZ_REQUIRE(img->width > 0 && img->height > 0);
    FUZZ_REQUIRE((uint64_t)img->width * (uint64_t)img->height <= FUZZ_MAX_PIXELS);
    FUZZ_REQUIRE(img->stride >= (size_t)img->width * 3);
    size_t sum = 0;
    for (int y = 0; y < img->height; y++) {
        for (size_t x = 0; x < (size_t)img->width * 3; x++) {
            sum += img->data[(size_t)y * img->stride + x];
        }
    }
    fuzz_consume(sum);
    vitc_image_free(img);
    return 0;
}
