/* SPDX-License-Identifier: MIT
 *
 * image.h — internals shared by the image decoders: the checked pixel
 * allocator, the decoders (image_jpeg.c, image_png.c, image_webp.c, ...) and the
 * EXIF orientation helpers (exif.c). I/O leaf: nothing here knows models or
 * preprocessing; image.c sniffs the format and dispatches.
 */
#ifndef VITC_IMAGE_H
#define VITC_IMAGE_H

#include <stddef.h>
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

/* Decode a whole JPEG / PNG file held in memory to RGB as Pillow's
 * Image.open + ImageOps.exif_transpose + convert("RGB") do. */
vitc_status vitc_jpeg_decode(const uint8_t *data, size_t size, const char *name, vitc_image **out);
vitc_status vitc_png_decode(const uint8_t *data, size_t size, const char *name, vitc_image **out);

/* The same for WebP and GIF (image_webp.c, image_gif.c): the first frame of
 * an animation, as Pillow's Image.open shows it. */
vitc_status vitc_webp_decode(const uint8_t *data, size_t size, const char *name, vitc_image **out);
vitc_status vitc_gif_decode(const uint8_t *data, size_t size, const char *name, vitc_image **out);

/* BMP (image_bmp.c), read by hand. */
vitc_status vitc_bmp_decode(const uint8_t *data, size_t size, const char *name, vitc_image **out);

/* TIFF (image_tiff.c) with libtiff: the first page, as Pillow 9.4 reads it. */
vitc_status vitc_tiff_decode(const uint8_t *data, size_t size, const char *name, vitc_image **out);

/* The EXIF orientation (1..8) in a TIFF-structured EXIF block, with or
 * without the "Exif\0\0" prefix; 0 when absent or unreadable; -1 when an
 * allocation failed (the tag could not be looked for, not "absent"). */
int vitc_exif_orientation(const uint8_t *data, size_t size);

/* Replaces *img by its transpose for an EXIF orientation, as
 * ImageOps.exif_transpose does; orientations other than 2..8 leave it as
 * is, and -1 (vitc_exif_orientation ran out of memory) is VITC_ERR_NOMEM.
 * On failure *img is unchanged. */
vitc_status vitc_exif_apply(const char *name, int orientation, vitc_image **img);

#endif /* VITC_IMAGE_H */
