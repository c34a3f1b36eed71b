/* SPDX-License-Identifier: MIT
 *
 * png.c — PNG to RGB with libpng, reproducing Pillow 9.4's
 * PngImagePlugin modes/rawmodes and convert("RGB"): bit depths below 8 as
 * Pillow's unpackers expand them, 16-bit gray as mode I clamped to 0..255,
 * other 16-bit samples by their high byte, alpha and tRNS dropped, palette
 * looked up. EXIF orientation from eXIf, "Raw profile type exif" or XMP, as
 * Image.getexif() finds it. I/O leaf; libpng errors longjmp back here.
 */
#include <png.h>
#include <setjmp.h>
#include <string.h>

#include "base/err.h"
#include "image/decoders.h"

/* Ancillary chunks (text, eXIf, ...) larger than this are dropped by
 * libpng instead of being allocated. */
#define MAX_CHUNK_BYTES (8u << 20)

struct png_job {
    const char *name;
    const uint8_t *data;
    size_t size, pos;
    int truncated;     /* the reader ran out of data                    */
    int rows_done;     /* all pixels decoded; only trailing chunks left */
    int nomem;         /* an allocation for libpng failed               */
    char message[256]; /* libpng's error text                           */
    png_structp png;
    png_infop info;
    vitc_image *img;
    uint8_t *raw;    /* (rows, rowbytes) undecoded samples            */
    png_bytep *rows; /* (height) pointers into raw, interlaced files  */
};

/* ---- libpng callbacks ---- */

static void on_error(png_structp png, png_const_charp msg)
{
    struct png_job *j = png_get_error_ptr(png);
    snprintf(j->message, sizeof j->message, "%s", msg);
    png_longjmp(png, 1);
}

static void on_warning(png_structp png, png_const_charp msg)
{
    (void)png;
    (void)msg;
}

static void read_bytes(png_structp png, png_bytep out, size_t n)
{
    struct png_job *j = png_get_io_ptr(png);
    if (n > j->size - j->pos) {
        j->truncated = 1;
        png_error(png, "truncated");
    }
    memcpy(out, j->data + j->pos, n);
    j->pos += n;
}

static png_voidp mem_alloc(png_structp png, png_alloc_size_t n)
{
    png_voidp p = vitc_mem_alloc(n);
    if (!p) {
        ((struct png_job *)png_get_mem_ptr(png))->nomem = 1;
    }
    return p;
}

static void mem_free(png_structp png, png_voidp p)
{
    (void)png;
    vitc_mem_free(p);
}

/* ---- EXIF orientation, Image.getexif() order ---- */

static int hex_value(int c)
{
    if (c >= '0' && c <= '9') {
        return c - '0';
    }
    if (c >= 'a' && c <= 'f') {
        return c - 'a' + 10;
    }
    if (c >= 'A' && c <= 'F') {
        return c - 'A' + 10;
    }
    return -1;
}

/* "Raw profile type exif" text: lines 4.. are hex (ImageMagick's layout);
 * Pillow joins them and decodes with bytes.fromhex. */
static int raw_profile_orientation(const char *text, size_t len)
{
    size_t i = 0, n = 0;
    uint8_t *buf;
    int lines = 0, orientation;
    for (; i < len && lines < 3; i++) {
        lines += text[i] == '\n';
    }
    buf = vitc_mem_alloc(len / 2 + 1);
    if (!buf) {
        return -1;
    }
    while (i < len) {
        int hi, lo;
        if (text[i] == '\n' || text[i] == ' ' || text[i] == '\t' || text[i] == '\r') {
            i++;
            continue;
        }
        if (i + 1 >= len || (hi = hex_value(text[i])) < 0 || (lo = hex_value(text[i + 1])) < 0) {
            vitc_mem_free(buf); /* fromhex raises; Pillow's getexif fails the load */
            return 0;
        }
        buf[n++] = (uint8_t)(hi << 4 | lo);
        i += 2;
    }
    orientation = vitc_exif_orientation(buf, n);
    vitc_mem_free(buf);
    return orientation;
}

/* re.search(r'tiff:Orientation(="|>)([0-9])', xmp) as Image.getexif does. */
static int xmp_orientation(const char *text, size_t len)
{
    static const char key[] = "tiff:Orientation";
    size_t k = sizeof key - 1;
    for (size_t i = 0; i + k < len; i++) {
        if (memcmp(text + i, key, k) != 0) {
            continue;
        }
        const char *p = text + i + k;
        size_t left = len - i - k;
        if (left >= 3 && p[0] == '=' && p[1] == '"' && p[2] >= '0' && p[2] <= '9') {
            return p[2] - '0';
        }
        if (left >= 2 && p[0] == '>' && p[1] >= '0' && p[1] <= '9') {
            return p[1] - '0';
        }
    }
    return 0;
}

/* tEXt/zTXt carry text_length, iTXt (compression >= 1) itxt_length. */
static size_t text_length(const png_text *t)
{
    return t->compression >= PNG_ITXT_COMPRESSION_NONE ? t->itxt_length : t->text_length;
}

static int find_orientation(struct png_job *j)
{
    png_bytep exif = NULL;
    png_uint_32 n_exif = 0;
    png_textp text = NULL;
    int n_text = 0, orientation = 0;
    const png_text *raw = NULL, *xmp = NULL;

    n_text = png_get_text(j->png, j->info, &text, NULL);
    /* Later chunks overwrite earlier ones in Pillow's info dict. */
    for (int i = 0; i < n_text; i++) {
        if (strcmp(text[i].key, "Raw profile type exif") == 0) {
            raw = &text[i];
        } else if (strcmp(text[i].key, "XML:com.adobe.xmp") == 0) {
            xmp = &text[i];
        }
    }
    if (png_get_eXIf_1(j->png, j->info, &n_exif, &exif) && exif) {
        orientation = vitc_exif_orientation(exif, n_exif);
    } else if (raw && raw->text) {
        orientation = raw_profile_orientation(raw->text, text_length(raw));
    }
    if (orientation == 0 && xmp && xmp->text) {
        orientation = xmp_orientation(xmp->text, text_length(xmp));
    }
    return orientation;
}

/* ---- pixels ---- */

/* One row of libpng output (packed depths already spread to a byte per
 * sample by png_set_packing, 16-bit samples big-endian) to RGB. */
static void convert_row(const uint8_t *s, uint8_t *d, png_uint_32 width, int color_type, int depth,
                        const uint8_t palette[256][3])
{
    for (png_uint_32 x = 0; x < width; x++, d += 3) {
        unsigned v;
        switch (color_type) {
        case PNG_COLOR_TYPE_GRAY:
            if (depth == 16) {
                /* mode I; convert("RGB") clamps, it does not scale. */
                v = (unsigned)s[0] << 8 | s[1];
                v = v > 255 ? 255 : v;
                s += 2;
            } else {
                /* Unpackers "1", "L;2", "L;4": 0/255, x*0x55, x*0x11. */
                v = *s++;
                v = depth == 1 ? (v ? 255 : 0) : depth == 2 ? v * 0x55 : depth == 4 ? v * 0x11 : v;
            }
            d[0] = d[1] = d[2] = (uint8_t)v;
            break;
        case PNG_COLOR_TYPE_GRAY_ALPHA: /* "LA" / "LA;16B": gray, high byte */
            d[0] = d[1] = d[2] = s[0];
            s += depth == 16 ? 4 : 2;
            break;
        case PNG_COLOR_TYPE_PALETTE:
            memcpy(d, palette[*s++], 3);
            break;
        case PNG_COLOR_TYPE_RGB:
            if (depth == 16) { /* "RGB;16B" keeps each high byte */
                d[0] = s[0];
                d[1] = s[2];
                d[2] = s[4];
                s += 6;
            } else {
                memcpy(d, s, 3);
                s += 3;
            }
            break;
        default: /* RGBA: alpha dropped, no compositing */
            if (depth == 16) {
                d[0] = s[0];
                d[1] = s[2];
                d[2] = s[4];
                s += 8;
            } else {
                memcpy(d, s, 3);
                s += 4;
            }
            break;
        }
    }
}

/* Pillow's palette starts as a gray ramp (ImagingPaletteNew) and the PLTE
 * entries overwrite the first ones, so indices past PLTE show gray i. */
static void load_palette(struct png_job *j, uint8_t palette[256][3])
{
    png_colorp plte = NULL;
    int n = 0;
    for (int i = 0; i < 256; i++) {
        palette[i][0] = palette[i][1] = palette[i][2] = (uint8_t)i;
    }
    if (png_get_PLTE(j->png, j->info, &plte, &n) && plte) {
        for (int i = 0; i < n && i < 256; i++) {
            palette[i][0] = plte[i].red;
            palette[i][1] = plte[i].green;
            palette[i][2] = plte[i].blue;
        }
    }
}

static vitc_status run(struct png_job *j)
{
    png_uint_32 w, h;
    int depth, color_type, interlace, passes;
    size_t rowbytes, total;
    uint8_t palette[256][3];
    vitc_status st;

    if (setjmp(png_jmpbuf(j->png))) {
        if (j->rows_done) {
            return VITC_OK; /* Pillow stops quietly at broken trailing chunks */
        }
        if (j->nomem) {
            return vitc_error(VITC_ERR_NOMEM, "%s: out of memory", j->name);
        }
        if (j->truncated) {
            return vitc_error(VITC_ERR_FORMAT, "%s: truncated", j->name);
        }
        return vitc_error(VITC_ERR_FORMAT, "%s: %s", j->name, j->message);
    }
    png_set_read_fn(j->png, j, read_bytes);
    png_set_user_limits(j->png, VITC_MAX_IMAGE_SIDE, VITC_MAX_IMAGE_SIDE);
    png_set_chunk_malloc_max(j->png, MAX_CHUNK_BYTES);
    png_read_info(j->png, j->info);
    png_get_IHDR(j->png, j->info, &w, &h, &depth, &color_type, &interlace, NULL, NULL);
    st = vitc_image_check_size(j->name, w, h);
    if (st != VITC_OK) {
        return st;
    }
    if (depth < 8) {
        png_set_packing(j->png);
    }
    passes = png_set_interlace_handling(j->png);
    png_read_update_info(j->png, j->info);
    rowbytes = png_get_rowbytes(j->png, j->info);
    load_palette(j, palette);

    st = vitc_image_alloc(j->name, w, h, &j->img);
    if (st != VITC_OK) {
        return st;
    }
    /* Interlaced passes fill rows sparsely, so they need the whole raw
     * image; progressive rows need one. */
    if (vitc_mul_size(rowbytes, passes > 1 ? h : 1, &total)) {
        return vitc_error(VITC_ERR_FORMAT, "%s: image size overflows", j->name);
    }
    j->raw = vitc_mem_alloc(total);
    if (!j->raw) {
        return vitc_error(VITC_ERR_NOMEM, "%s: out of memory", j->name);
    }
    if (passes > 1) {
        j->rows = vitc_mem_alloc((size_t)h * sizeof *j->rows);
        if (!j->rows) {
            return vitc_error(VITC_ERR_NOMEM, "%s: out of memory", j->name);
        }
        for (png_uint_32 y = 0; y < h; y++) {
            j->rows[y] = j->raw + (size_t)y * rowbytes;
        }
        png_read_image(j->png, j->rows);
        for (png_uint_32 y = 0; y < h; y++) {
            convert_row(j->rows[y], j->img->data + (size_t)y * j->img->stride, w, color_type, depth,
                        (const uint8_t(*)[3])palette);
        }
    } else {
        for (png_uint_32 y = 0; y < h; y++) {
            png_read_row(j->png, j->raw, NULL);
            convert_row(j->raw, j->img->data + (size_t)y * j->img->stride, w, color_type, depth,
                        (const uint8_t(*)[3])palette);
        }
    }
    j->rows_done = 1;
    png_read_end(j->png, j->info);
    return VITC_OK;
}

vitc_status vitc_png_decode(const uint8_t *data, size_t size, const char *name, vitc_image **out)
{
    struct png_job j;
    vitc_status st;

    memset(&j, 0, sizeof j);
    j.name = name;
    j.data = data;
    j.size = size;
    /* Check the IHDR geometry first, for our own message before libpng's
     * user limits or any allocation see it. */
    if (size >= 24 && memcmp(data + 12, "IHDR", 4) == 0) {
        int64_t w = (int64_t)data[16] << 24 | data[17] << 16 | data[18] << 8 | data[19];
        int64_t h = (int64_t)data[20] << 24 | data[21] << 16 | data[22] << 8 | data[23];
        st = vitc_image_check_size(name, w, h);
        if (st != VITC_OK) {
            return st;
        }
    }
    j.png = png_create_read_struct_2(PNG_LIBPNG_VER_STRING, &j, on_error, on_warning, &j, mem_alloc,
                                     mem_free);
    if (!j.png) {
        return vitc_error(VITC_ERR_NOMEM, "%s: out of memory", name);
    }
    j.info = png_create_info_struct(j.png);
    if (!j.info) {
        st = vitc_error(VITC_ERR_NOMEM, "%s: out of memory", name);
    } else {
        st = run(&j);
    }
    if (st == VITC_OK) {
        st = vitc_exif_apply(name, find_orientation(&j), &j.img);
    }
    png_destroy_read_struct(&j.png, &j.info, NULL);
    vitc_mem_free(j.rows);
    vitc_mem_free(j.raw);
    if (st != VITC_OK) {
        vitc_image_free(j.img);
        return st;
    }
    *out = j.img;
    return VITC_OK;
}
