/* SPDX-License-Identifier: MIT
 *
 * decoders.h — the image decoders (jpeg.c, png.c, webp.c, gif.c, bmp.c, tiff.c),
 * which load.c calls after sniffing the format, and the EXIF orientation
 * helpers (exif.c) they share. I/O leaf: nothing here knows models or
 * preprocessing. Decoders allocate through pixels.h and never call load.c.
 */
#ifndef VITC_IMAGE_DECODERS_H
#define VITC_IMAGE_DECODERS_H

#include <stddef.h>
#include <stdint.h>

#include "image/pixels.h"
#include "vitc.h"

/* Decode a whole JPEG / PNG file held in memory to RGB as Pillow's
 * Image.open + ImageOps.exif_transpose + convert("RGB") do. */
vitc_status vitc_jpeg_decode(const uint8_t *data, size_t size, const char *name, vitc_image **out);
vitc_status vitc_png_decode(const uint8_t *data, size_t size, const char *name, vitc_image **out);

/* The same for WebP and GIF (webp.c, gif.c): the first frame of
 * an animation, as Pillow's Image.open shows it. */
vitc_status vitc_webp_decode(const uint8_t *data, size_t size, const char *name, vitc_image **out);
vitc_status vitc_gif_decode(const uint8_t *data, size_t size, const char *name, vitc_image **out);

/* BMP (bmp.c), read by hand. */
vitc_status vitc_bmp_decode(const uint8_t *data, size_t size, const char *name, vitc_image **out);

/* TIFF (tiff.c) with libtiff: the first page, as Pillow 9.4 reads it. */
vitc_status vitc_tiff_decode(const uint8_t *data, size_t size, const char *name, vitc_image **out);

/* Pillow's cmyk2rgb (Convert.c) for one channel X (C, M or Y) of a CMYK
 * pixel with black K: with nk = 255 - K and t = X*nk + 128,
 * clip(nk - (((t >> 8) + t) >> 8)), its MULDIV255 rounding. The JPEG and
 * TIFF decoders share it. */
static inline uint8_t vitc_cmyk_channel(uint8_t x, uint8_t k)
{
    int nk = 255 - k;
    int t = x * nk + 128;
    int v = nk - (((t >> 8) + t) >> 8);
    return (uint8_t)(v < 0 ? 0 : v > 255 ? 255 : v);
}

/* The EXIF orientation (1..8) in a TIFF-structured EXIF block, with or
 * without the "Exif\0\0" prefix; 0 when absent or unreadable; -1 when an
 * allocation failed (the tag could not be looked for, not "absent"). */
int vitc_exif_orientation(const uint8_t *data, size_t size);

/* Replaces *img by its transpose for an EXIF orientation, as
 * ImageOps.exif_transpose does; orientations other than 2..8 leave it as
 * is, and -1 (vitc_exif_orientation ran out of memory) is VITC_ERR_NOMEM.
 * On failure *img is unchanged. */
vitc_status vitc_exif_apply(const char *name, int orientation, vitc_image **img);

#endif /* VITC_IMAGE_DECODERS_H */
