/* SPDX-License-Identifier: MIT
 *
 * pixels.h — the checked pixel allocator every decoder uses (pixels.c).
 * The bottom of the image folder: decoders and the EXIF transpose include
 * it; it includes no decoder.
 */
#ifndef VITC_IMAGE_PIXELS_H
#define VITC_IMAGE_PIXELS_H

#include <stdint.h>

#include "vitc.h"

/* Refuses a zero, negative or oversized geometry with a message naming
 * `name`: side over VITC_MAX_IMAGE_SIDE, or more than VITC_MAX_IMAGE_PIXELS
 * pixels (Pillow's decompression-bomb bound). Called before any pixel
 * memory is allocated. */
vitc_status vitc_image_check_size(const char *name, int64_t width, int64_t height);

/* Test hook: on this thread, also refuse images of more than n pixels (0:
 * no extra bound), so fuzzing spends no time on huge legitimate canvases
 * (a few bytes of WebP can declare 170 million pixels that libwebp then
 * clears). Not part of the public API. */
VITC_API void vitc_test_image_pixel_budget(uint64_t n);

/* vitc_image_check_size, then a zero-filled RGB image with stride 3*width,
 * freed with vitc_image_free. */
vitc_status vitc_image_alloc(const char *name, int64_t width, int64_t height, vitc_image **out);

#endif /* VITC_IMAGE_PIXELS_H */
