/* SPDX-License-Identifier: MIT
 *
 * exif.c — the EXIF Orientation tag (read with libexif) and the eight
 * transposes Pillow's ImageOps.exif_transpose applies for it. Mirrors
 * Image.getexif()[0x0112] and Image.transpose (libImaging/Geometry.c).
 * Knows no file format: the decoders hand it the EXIF bytes.
 */
#include <libexif/exif-data.h>
#include <string.h>

#include "base/err.h"
#include "image/decoders.h"

/* ---- reading the tag ---- */

/* libexif allocations go through the vitc hooks too (it expects zeroed
 * memory from its allocator, as its default uses calloc). libexif skips
 * what it cannot allocate and carries on, so a failure is noted here (per
 * thread: the callbacks have no user pointer) to tell "no tag" from "out of
 * memory". */
static _Thread_local int exif_alloc_failed;

static void *exif_alloc(ExifLong size)
{
    void *p = vitc_mem_calloc(1, size);
    exif_alloc_failed |= p == NULL;
    return p;
}

static void *exif_realloc(void *p, ExifLong size)
{
    void *q = vitc_mem_realloc(p, size);
    exif_alloc_failed |= q == NULL && size > 0;
    return q;
}

static void exif_free(void *p)
{
    vitc_mem_free(p);
}

int vitc_exif_orientation(const uint8_t *data, size_t size)
{
    static const uint8_t prefix[6] = {'E', 'x', 'i', 'f', 0, 0};
    ExifMem *mem = NULL;
    ExifData *ed = NULL;
    ExifEntry *e;
    int orientation = 0;
    uint8_t *buf = NULL;

    if (!data || size < 8 || size > 0xffffffffu - sizeof prefix) {
        return 0;
    }
    /* libexif wants the "Exif\0\0" header that Pillow strips if present. */
    buf = vitc_mem_alloc(size + sizeof prefix);
    if (!buf) {
        return -1;
    }
    if (size >= sizeof prefix && memcmp(data, prefix, sizeof prefix) == 0) {
        memcpy(buf, data, size);
    } else {
        memcpy(buf, prefix, sizeof prefix);
        memcpy(buf + sizeof prefix, data, size);
        size += sizeof prefix;
    }
    exif_alloc_failed = 0;
    mem = exif_mem_new(exif_alloc, exif_realloc, exif_free);
    if (!mem) {
        orientation = -1;
        goto done;
    }
    ed = exif_data_new_mem(mem);
    if (!ed) {
        orientation = -1;
        goto done;
    }
    /* Read the tags as stored: the specification fix-ups would invent
     * entries Pillow never sees. */
    exif_data_unset_option(ed, EXIF_DATA_OPTION_FOLLOW_SPECIFICATION);
    exif_data_unset_option(ed, EXIF_DATA_OPTION_IGNORE_UNKNOWN_TAGS);
    exif_data_load_data(ed, buf, (unsigned int)size);
    e = exif_content_get_entry(ed->ifd[EXIF_IFD_0], EXIF_TAG_ORIENTATION);
    /* Pillow yields a tuple for several components, which matches no
     * transpose; a single SHORT or LONG is an int. */
    if (e && e->components == 1 && e->data) {
        ExifByteOrder order = exif_data_get_byte_order(ed);
        if (e->format == EXIF_FORMAT_SHORT && e->size >= 2) {
            orientation = exif_get_short(e->data, order);
        } else if (e->format == EXIF_FORMAT_LONG && e->size >= 4) {
            ExifLong v = exif_get_long(e->data, order);
            orientation = v <= 8 ? (int)v : 0;
        }
    }
    if (orientation < 1 || orientation > 8) {
        orientation = 0;
    }
    if (exif_alloc_failed) {
        orientation = -1;
    }
done:
    if (ed) {
        exif_data_unref(ed);
    }
    if (mem) {
        exif_mem_unref(mem);
    }
    vitc_mem_free(buf);
    return orientation;
}

/* ---- transposes ---- */

/* Pillow's Image.Transpose, as exif_transpose maps orientation 2..8. */
enum transpose {
    FLIP_LEFT_RIGHT,
    FLIP_TOP_BOTTOM,
    ROTATE_90, /* counter-clockwise */
    ROTATE_180,
    ROTATE_270, /* counter-clockwise, i.e. 90 clockwise */
    TRANSPOSE,
    TRANSVERSE
};

vitc_status vitc_exif_apply(const char *name, int orientation, vitc_image **img)
{
    static const int method[9] = {
        -1,        -1,         FLIP_LEFT_RIGHT, ROTATE_180, FLIP_TOP_BOTTOM,
        TRANSPOSE, ROTATE_270, TRANSVERSE,      ROTATE_90};
    const vitc_image *in = *img;
    vitc_image *out = NULL;
    int W = in->width, H = in->height, m, swap;
    vitc_status st;

    if (orientation < 0) {
        return vitc_error(VITC_ERR_NOMEM, "%s: out of memory reading the EXIF orientation", name);
    }
    if (orientation < 2 || orientation > 8) {
        return VITC_OK;
    }
    m = method[orientation];
    swap = m == ROTATE_90 || m == ROTATE_270 || m == TRANSPOSE || m == TRANSVERSE;
    st = vitc_image_alloc(name, swap ? H : W, swap ? W : H, &out);
    if (st != VITC_OK) {
        return st;
    }
    /* For each output pixel (c, r), the source pixel (x, y) as Geometry.c's
     * ImagingFlip*, ImagingRotate* and ImagingTranspose/Transverse place it. */
    for (int r = 0; r < out->height; r++) {
        uint8_t *o = out->data + (size_t)r * out->stride;
        for (int c = 0; c < out->width; c++) {
            int x, y;
            switch (m) {
            case FLIP_LEFT_RIGHT:
                x = W - 1 - c;
                y = r;
                break;
            case FLIP_TOP_BOTTOM:
                x = c;
                y = H - 1 - r;
                break;
            case ROTATE_180:
                x = W - 1 - c;
                y = H - 1 - r;
                break;
            case ROTATE_90:
                x = W - 1 - r;
                y = c;
                break;
            case ROTATE_270:
                x = r;
                y = H - 1 - c;
                break;
            case TRANSPOSE:
                x = r;
                y = c;
                break;
            default:
                x = W - 1 - r;
                y = H - 1 - c;
                break; /* TRANSVERSE */
            }
            memcpy(o + 3 * (size_t)c, in->data + (size_t)y * in->stride + 3 * (size_t)x, 3);
        }
    }
    vitc_image_free(*img);
    *img = out;
    return VITC_OK;
}
