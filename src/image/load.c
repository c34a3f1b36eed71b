/* SPDX-License-Identifier: MIT
 *
 * load.c — vitc_image loading: reads a file, sniffs the format by its
 * magic bytes (never its name) and hands it to the decoder.
 * Formats Pillow could open but vitc does not decode (JPEG 2000, AVIF,
 * HEIF, ...) are named and refused. I/O leaf; no resizing here.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>

#include "base/err.h"
#include "image/decoders.h"

/* What vitc_image_load reads, for messages. */
#define SUPPORTED "JPEG, PNG, WebP, GIF, BMP and TIFF"

/* Files beyond this are refused before reading: even an uncompressed RGB
 * image at the pixel limit is ~512 MiB. */
#define MAX_FILE_BYTES ((size_t)1 << 31)

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
