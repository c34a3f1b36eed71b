/* SPDX-License-Identifier: MIT
 *
 * image.c — vitc_image lifetime and loading: reads a file, sniffs the
 * format by its magic bytes (never its name) and hands it to the decoder.
 * Formats Pillow could open but vitc does not decode (JPEG 2000, AVIF,
 * HEIF, ...) are named and refused. I/O leaf; no resizing here.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>

#include "err.h"
#include "image.h"

/* What vitc_image_load reads, for messages. */
#define SUPPORTED "JPEG, PNG, WebP, GIF, BMP and TIFF"

/* Files beyond this are refused before reading: even an uncompressed RGB
 * image at the pixel limit is ~512 MiB. */
#define MAX_FILE_BYTES ((size_t)1 << 31)

/* ---- allocation ---- */

static _Thread_local uint64_t test_pixel_budget;

void vitc_test_image_pixel_budget(uint64_t n)
{
    test_pixel_budget = n;
}

vitc_status vitc_image_check_size(const char *name, int64_t width, int64_t height)
{
    if (width <= 0 || height <= 0) {
        return vitc_error(VITC_ERR_FORMAT, "%s: invalid image size %lldx%lld", name,
                          (long long)width, (long long)height);
    }
    if ((uint64_t)width * (uint64_t)height > VITC_MAX_IMAGE_PIXELS) {
        return vitc_error(VITC_ERR_FORMAT, "%s: %lldx%lld exceeds the %u-pixel limit", name,
                          (long long)width, (long long)height, VITC_MAX_IMAGE_PIXELS);
    }
    if (width > VITC_MAX_IMAGE_SIDE || height > VITC_MAX_IMAGE_SIDE) {
        return vitc_error(VITC_ERR_FORMAT, "%s: %lldx%lld exceeds the %u-pixel side limit", name,
                          (long long)width, (long long)height, VITC_MAX_IMAGE_SIDE);
    }
    if (test_pixel_budget && (uint64_t)width * (uint64_t)height > test_pixel_budget) {
        return vitc_error(VITC_ERR_FORMAT, "%s: %lldx%lld exceeds the test budget of %llu pixels",
                          name, (long long)width, (long long)height,
                          (unsigned long long)test_pixel_budget);
    }
    return VITC_OK;
}

vitc_status vitc_image_alloc(const char *name, int64_t width, int64_t height, vitc_image **out)
{
    vitc_status st = vitc_image_check_size(name, width, height);
    size_t stride, bytes, total;
    vitc_image *img;
    if (st != VITC_OK) {
        return st;
    }
    /* One block: the struct, then the pixels; vitc_image_free frees both. */
    if (vitc_mul_size((size_t)width, 3, &stride) || vitc_mul_size(stride, (size_t)height, &bytes) ||
        vitc_add_size(bytes, sizeof(vitc_image), &total)) {
        return vitc_error(VITC_ERR_FORMAT, "%s: image size overflows", name);
    }
    img = vitc_mem_calloc(1, total);
    if (!img) {
        return vitc_error(VITC_ERR_NOMEM, "%s: out of memory for a %lldx%lld image", name,
                          (long long)width, (long long)height);
    }
    img->width = (int)width;
    img->height = (int)height;
    img->stride = stride;
    img->data = (uint8_t *)(img + 1);
    *out = img;
    return VITC_OK;
}

vitc_status vitc_image_new(int width, int height, vitc_image **out)
{
    if (!out) {
        return vitc_error(VITC_ERR_INVALID_ARG, "vitc_image_new: out is NULL");
    }
    if (width <= 0 || height <= 0) {
        return vitc_error(VITC_ERR_INVALID_ARG, "vitc_image_new: invalid size %dx%d", width,
                          height);
    }
    return vitc_image_alloc("vitc_image_new", width, height, out);
}

void vitc_image_free(vitc_image *img)
{
    vitc_mem_free(img);
}

/* ---- format sniffing ---- */

static int starts_with(const uint8_t *d, size_t n, const void *magic, size_t m)
{
    return n >= m && memcmp(d, magic, m) == 0;
}

/* Names the formats Pillow would recognise but vitc does not decode. */
static const char *other_format(const uint8_t *d, size_t n)
{
    if (starts_with(d, n, "\0\0\0\x0cjP  \r\n\x87\n", 12) ||
        starts_with(d, n, "\xff\x4f\xff\x51", 4)) {
        return "JPEG 2000";
    }
    if (n >= 12 && memcmp(d + 4, "ftyp", 4) == 0) {
        return memcmp(d + 8, "avif", 4) == 0 ? "AVIF" : "HEIF/ISO media";
    }
    if (starts_with(d, n, "8BPS", 4)) {
        return "PSD";
    }
    if (starts_with(d, n, "qoif", 4)) {
        return "QOI";
    }
    if (starts_with(d, n, "\0\0\1\0", 4)) {
        return "ICO";
    }
    return NULL;
}

vitc_status vitc_image_load_memory(const void *data, size_t size, const char *name,
                                   vitc_image **out)
{
    const uint8_t *d = data;
    const char *other;
    if (!name) {
        name = "<memory>";
    }
    if (!out || (!data && size > 0)) {
        return vitc_error(VITC_ERR_INVALID_ARG, "%s: NULL argument to vitc_image_load_memory",
                          name);
    }
    if (size == 0) {
        return vitc_error(VITC_ERR_FORMAT, "%s: empty file", name);
    }
    if (starts_with(d, size, "\xff\xd8\xff", 3)) {
        return vitc_jpeg_decode(d, size, name, out);
    }
    if (starts_with(d, size, "\x89PNG\r\n\x1a\n", 8)) {
        return vitc_png_decode(d, size, name, out);
    }
    if (starts_with(d, size, "RIFF", 4) && size >= 12 && memcmp(d + 8, "WEBP", 4) == 0) {
        return vitc_webp_decode(d, size, name, out);
    }
    if (starts_with(d, size, "GIF87a", 6) || starts_with(d, size, "GIF89a", 6)) {
        return vitc_gif_decode(d, size, name, out);
    }
    if (starts_with(d, size, "BM", 2)) {
        return vitc_bmp_decode(d, size, name, out);
    }
    /* Classic TIFF and BigTIFF, both byte orders (Pillow's PREFIXES also
     * take two swapped magics, which libtiff refuses). */
    if (starts_with(d, size, "II*\0", 4) || starts_with(d, size, "MM\0*", 4) ||
        starts_with(d, size, "II+\0", 4) || starts_with(d, size, "MM\0+", 4)) {
        return vitc_tiff_decode(d, size, name, out);
    }
    other = other_format(d, size);
    if (other) {
        return vitc_error(VITC_ERR_UNSUPPORTED,
                          "%s: %s images are not supported (vitc reads " SUPPORTED ")", name,
                          other);
    }
    return vitc_error(VITC_ERR_FORMAT, "%s: not an image file (no " SUPPORTED " signature)", name);
}

vitc_status vitc_image_load(const char *path, vitc_image **out)
{
    FILE *f = NULL;
    uint8_t *buf = NULL;
    vitc_status st;
    struct stat sb;
    size_t size;

    if (!path || !out) {
        return vitc_error(VITC_ERR_INVALID_ARG, "vitc_image_load: NULL argument");
    }
    f = fopen(path, "rb");
    if (!f) {
        return vitc_error(VITC_ERR_IO, "%s: %s", path, strerror(errno));
    }
    if (fstat(fileno(f), &sb) != 0) {
        st = vitc_error(VITC_ERR_IO, "%s: %s", path, strerror(errno));
        goto done;
    }
    if (!S_ISREG(sb.st_mode)) {
        st = vitc_error(VITC_ERR_IO, "%s: not a regular file", path);
        goto done;
    }
    if ((uint64_t)sb.st_size > MAX_FILE_BYTES) {
        st = vitc_error(VITC_ERR_FORMAT, "%s: file too large (%lld bytes)", path,
                        (long long)sb.st_size);
        goto done;
    }
    size = (size_t)sb.st_size;
    buf = vitc_mem_alloc(size);
    if (!buf) {
        st = vitc_error(VITC_ERR_NOMEM, "%s: out of memory reading %zu bytes", path, size);
        goto done;
    }
    if (size > 0 && fread(buf, 1, size, f) != size) {
        st = vitc_error(VITC_ERR_IO, "%s: %s", path, ferror(f) ? strerror(errno) : "short read");
        goto done;
    }
    st = vitc_image_load_memory(buf, size, path, out);
done:
    vitc_mem_free(buf);
    fclose(f);
    return st;
}
