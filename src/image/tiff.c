/* SPDX-License-Identifier: MIT
 *
 * tiff.c — the first page of a TIFF to RGB as Pillow 9.4 reads it
 * (TiffImagePlugin + libImaging/TiffDecode.c, Unpack.c, Convert.c), with
 * libtiff for the container and the decompression. Pillow picks a mode and
 * a "rawmode" from a table keyed by (byte order, photometric, sample format,
 * fill order, bits per sample, extra samples); this file keeps the rows of
 * that table it can convert to RGB and refuses the rest by name. Pixels are
 * read the way Pillow's libtiff decoder reads them: whole strips or tiles,
 * planes of separate-plane files one by one, YCbCr through TIFFRGBAImage
 * unless it is JPEG-compressed (then libjpeg converts it to RGB). Pillow
 * reads uncompressed files with its own raw decoder instead; for the files
 * both can read the bytes are the same, and where Pillow's two paths differ
 * this file follows the one Pillow takes (big-endian 32-bit samples it reads
 * byte-swapped) or refuses (uncompressed YCbCr, some separate-plane
 * layouts, damaged strip tables libtiff rejects). The orientation tag is
 * applied twice, as Pillow 9.4 does: once when the image loads, once by
 * exif_transpose. Not here: writing TIFF, later pages, LAB, 12-bit gray.
 * I/O leaf.
 */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include <tiffio.h>

#include "base/err.h"
#include "image/decoders.h"

/* The largest single allocation libtiff may make for one file (its own
 * strip and tile buffers, tag arrays): an uncompressed RGBA strip of a
 * maximal image side is far below this. */
#define TIFF_MAX_ALLOC ((tmsize_t)256 << 20)

/* Tiles of more pixels than this must not exceed four times their image. */
#define TIFF_MAX_TILE_PIXELS ((uint64_t)1 << 22)

/* ---- memory source and per-handle messages ---- */

struct source {
    const uint8_t *data;
    toff_t size, pos;
    char msg[200];   /* libtiff's first error, for the vitc message       */
    int mode_warn;   /* libtiff guessed or dropped a tag the mode rests on */
    int extra_added; /* libtiff made samples past the colors ExtraSamples  */
};

static tmsize_t src_read(thandle_t h, void *buf, tmsize_t n)
{
    struct source *s = h;
    toff_t left = s->pos < s->size ? s->size - s->pos : 0;
    if (n < 0) {
        return -1;
    }
    if ((toff_t)n > left) {
        n = (tmsize_t)left;
    }
    memcpy(buf, s->data + s->pos, (size_t)n);
    s->pos += (toff_t)n;
    return n;
}

static tmsize_t src_write(thandle_t h, void *buf, tmsize_t n)
{
    return -1;
}

static toff_t src_seek(thandle_t h, toff_t off, int whence)
{
    struct source *s = h;
    toff_t base = whence == SEEK_CUR ? s->pos : whence == SEEK_END ? s->size : 0;
    if (off > UINT64_MAX - base) {
        return (toff_t)-1;
    }
    s->pos = base + off;
    return s->pos;
}

static int src_close(thandle_t h)
{
    return 0;
}

static toff_t src_size(thandle_t h)
{
    return ((struct source *)h)->size;
}

/* libtiff reads mapped strips in place and never writes to a mapping it
 * opened for reading, so the caller's buffer serves as the map. */
static int src_map(thandle_t h, void **base, toff_t *size)
{
    struct source *s = h;
    *base = (void *)(uintptr_t)s->data;
    *size = s->size;
    return 1;
}

static void src_unmap(thandle_t h, void *base, toff_t size)
{
}

/* Keeps libtiff's first error for the message; returning 1 keeps it off
 * stderr (libtiff's global handlers are not called). */
static int on_error(TIFF *tif, void *user, const char *module, const char *fmt, va_list ap)
{
    struct source *s = user;
    if (!s->msg[0]) {
        vsnprintf(s->msg, sizeof s->msg, fmt, ap);
    }
    return 1;
}

/* Warnings are dropped, except those where libtiff replaced or guessed a
 * tag that decides the pixel layout: Pillow reads the tags as written and
 * would decode such a file differently, so it is refused. */
static int on_warning(TIFF *tif, void *user, const char *module, const char *fmt, va_list ap)
{
    struct source *s = user;
    char text[200];
    vsnprintf(text, sizeof text, fmt, ap);
    /* A fourth RGB sample without an ExtraSamples tag: libtiff adds one
     * (unspecified), Pillow keys the file without it ("RGBA"). */
    if (strstr(text, "Defining non-color channels as ExtraSamples")) {
        s->extra_added = 1;
        return 1;
    }
    if (strstr(text, "Photometric") || strstr(text, "ColorMap") || strstr(text, "BitsPerSample") ||
        strstr(text, "SamplesPerPixel") || strstr(text, "ExtraSamples") ||
        strstr(text, "SampleFormat")) {
        s->mode_warn = 1;
        if (!s->msg[0]) {
            snprintf(s->msg, sizeof s->msg, "%s", text);
        }
    }
    return 1;
}

/* ---- Pillow's OPEN_INFO ---- */

enum mode { M_1, M_L, M_I16, M_I16B, M_I, M_F, M_LA, M_P, M_PA, M_RGB, M_RGBA, M_RGBX, M_CMYK };

/* How a rawmode unpacks: 'g' gray/bilevel packed samples, 'p' palette
 * indices, 'b' 8-bit samples to bands, 'w' 16-bit samples (their high byte)
 * to bands, 'i' 16/32-bit integers, 'f' 32-bit floats. */
struct open_info {
    uint16_t photo, format, bps, spp;
    int8_t extra[3]; /* ExtraSamples, -1 past the end                */
    uint8_t order;   /* 0: both byte orders, 'I' or 'M' only          */
    uint8_t fill2;   /* FillOrder 2 also has a row: 0 no, 1 yes, 'I'  */
    enum mode mode;
    char kind;
    uint8_t invert; /* MinIsWhite samples ("1;I", "L;I")             */
    uint8_t premul; /* "RGBa": associated alpha                      */
    uint8_t is_signed;
};

static const struct open_info OPEN_INFO[] = {
    {0, 1, 1, 1, {-1, -1, -1}, 0, 1, M_1, 'g', 1, 0, 0},
    {1, 1, 1, 1, {-1, -1, -1}, 0, 1, M_1, 'g', 0, 0, 0},
    {0, 1, 2, 1, {-1, -1, -1}, 0, 1, M_L, 'g', 1, 0, 0},
    {1, 1, 2, 1, {-1, -1, -1}, 0, 1, M_L, 'g', 0, 0, 0},
    {0, 1, 4, 1, {-1, -1, -1}, 0, 1, M_L, 'g', 1, 0, 0},
    {1, 1, 4, 1, {-1, -1, -1}, 0, 1, M_L, 'g', 0, 0, 0},
    {0, 1, 8, 1, {-1, -1, -1}, 0, 1, M_L, 'g', 1, 0, 0},
    {1, 1, 8, 1, {-1, -1, -1}, 0, 1, M_L, 'g', 0, 0, 0},
    {0, 1, 16, 1, {-1, -1, -1}, 'I', 0, M_I16, 'i', 0, 0, 0}, /* no inversion: "I;16" */
    {1, 1, 16, 1, {-1, -1, -1}, 'I', 'I', M_I16, 'i', 0, 0, 0},
    {1, 1, 16, 1, {-1, -1, -1}, 'M', 0, M_I16B, 'i', 0, 0, 0},
    {1, 2, 16, 1, {-1, -1, -1}, 0, 0, M_I, 'i', 0, 0, 1},
    {0, 3, 32, 1, {-1, -1, -1}, 0, 0, M_F, 'f', 0, 0, 0},
    {1, 1, 32, 1, {-1, -1, -1}, 'I', 0, M_I, 'i', 0, 0, 0},
    {1, 2, 32, 1, {-1, -1, -1}, 0, 0, M_I, 'i', 0, 0, 1},
    {1, 3, 32, 1, {-1, -1, -1}, 0, 0, M_F, 'f', 0, 0, 0},
    {1, 1, 8, 2, {2, -1, -1}, 0, 0, M_LA, 'b', 0, 0, 0},
    {2, 1, 8, 3, {-1, -1, -1}, 0, 1, M_RGB, 'b', 0, 0, 0},
    {2, 1, 8, 4, {-1, -1, -1}, 0, 0, M_RGBA, 'b', 0, 0, 0},
    {2, 1, 8, 4, {0, -1, -1}, 0, 0, M_RGBX, 'b', 0, 0, 0},
    {2, 1, 8, 5, {0, 0, -1}, 0, 0, M_RGBX, 'b', 0, 0, 0},
    {2, 1, 8, 6, {0, 0, 0}, 0, 0, M_RGBX, 'b', 0, 0, 0},
    {2, 1, 8, 4, {1, -1, -1}, 0, 0, M_RGBA, 'b', 0, 1, 0},
    {2, 1, 8, 5, {1, 0, -1}, 0, 0, M_RGBA, 'b', 0, 1, 0},
    {2, 1, 8, 6, {1, 0, 0}, 0, 0, M_RGBA, 'b', 0, 1, 0},
    {2, 1, 8, 4, {2, -1, -1}, 0, 0, M_RGBA, 'b', 0, 0, 0},
    {2, 1, 8, 5, {2, 0, -1}, 0, 0, M_RGBA, 'b', 0, 0, 0},
    {2, 1, 8, 6, {2, 0, 0}, 0, 0, M_RGBA, 'b', 0, 0, 0},
    {2, 1, 16, 3, {-1, -1, -1}, 0, 0, M_RGB, 'w', 0, 0, 0},
    {2, 1, 16, 4, {-1, -1, -1}, 0, 0, M_RGBA, 'w', 0, 0, 0},
    {2, 1, 16, 4, {0, -1, -1}, 0, 0, M_RGBX, 'w', 0, 0, 0},
    {2, 1, 16, 4, {1, -1, -1}, 0, 0, M_RGBA, 'w', 0, 1, 0},
    {2, 1, 16, 4, {2, -1, -1}, 0, 0, M_RGBA, 'w', 0, 0, 0},
    {3, 1, 1, 1, {-1, -1, -1}, 0, 1, M_P, 'p', 0, 0, 0},
    {3, 1, 2, 1, {-1, -1, -1}, 0, 1, M_P, 'p', 0, 0, 0},
    {3, 1, 4, 1, {-1, -1, -1}, 0, 1, M_P, 'p', 0, 0, 0},
    {3, 1, 8, 1, {-1, -1, -1}, 0, 1, M_P, 'p', 0, 0, 0},
    {3, 1, 8, 2, {2, -1, -1}, 0, 0, M_PA, 'b', 0, 0, 0},
    {5, 1, 8, 4, {-1, -1, -1}, 0, 0, M_CMYK, 'b', 0, 0, 0},
    {5, 1, 8, 5, {0, -1, -1}, 0, 0, M_CMYK, 'b', 0, 0, 0},
    {5, 1, 8, 6, {0, 0, -1}, 0, 0, M_CMYK, 'b', 0, 0, 0},
    {5, 1, 16, 4, {-1, -1, -1}, 'I', 0, M_CMYK, 'w', 0, 0, 0},
    {6, 1, 8, 3, {-1, -1, -1}, 0, 0, M_RGB, 'b', 0, 0, 0}, /* YCbCr: "RGBX", see below */
};

/* The bands of each mode in Pillow's 4-byte pixel (1, L, P, I, F: 1). */
static int mode_bands(enum mode m)
{
    switch (m) {
    case M_LA:
    case M_PA:
        return 2;
    case M_RGB:
        return 3;
    case M_RGBA:
    case M_RGBX:
    case M_CMYK:
        return 4;
    default:
        return 1;
    }
}

static const struct open_info *find_open_info(int big_endian, unsigned photo, unsigned format,
                                              unsigned fill, unsigned bps, unsigned spp,
                                              const uint16_t *extra, unsigned n_extra)
{
    for (size_t i = 0; i < sizeof OPEN_INFO / sizeof OPEN_INFO[0]; i++) {
        const struct open_info *e = &OPEN_INFO[i];
        unsigned n = 0;
        while (n < 3 && e->extra[n] >= 0) {
            n++;
        }
        if (e->photo != photo || e->format != format || e->bps != bps || e->spp != spp ||
            n != n_extra) {
            continue;
        }
        if (e->order && e->order != (big_endian ? 'M' : 'I')) {
            continue;
        }
        if (fill != 1 && !(fill == 2 && (e->fill2 == 1 || e->fill2 == (big_endian ? 'M' : 'I')))) {
            continue;
        }
        int same = 1;
        for (unsigned k = 0; k < n; k++) {
            same &= extra[k] == (uint16_t)e->extra[k];
        }
        if (same) {
            return e;
        }
    }
    return NULL;
}

/* ---- unpacking: one row of samples to Pillow's 4-byte pixels ---- */

struct layout {
    const struct open_info *info;
    unsigned bps, spp;
    int swap32; /* 32-bit big-endian rawmode applied to libtiff's native bytes */
};

static uint8_t clip_i(int64_t v)
{
    return v <= 0 ? 0 : v >= 255 ? 255 : (uint8_t)v;
}

/* Pillow's I16L_L / I16B_L (Convert.c): 16-bit gray clipped to 8 bits. */
static uint8_t i16_to_l(uint16_t v)
{
    return v > 255 ? 255 : (uint8_t)v;
}

static uint32_t rd32(const uint8_t *p, int swap)
{
    uint32_t v;
    memcpy(&v, p, 4);
    return swap ? __builtin_bswap32(v) : v;
}

/* Unpacks n pixels of a contiguous row into out (4 bytes each). */
static void unpack_row(const struct layout *l, const uint8_t *in, uint8_t *out, uint32_t n)
{
    const struct open_info *e = l->info;
    switch (e->kind) {
    case 'g':
    case 'p': {
        unsigned bits = l->bps, mask = (1u << bits) - 1;
        for (uint32_t x = 0; x < n; x++) {
            uint64_t bit = (uint64_t)x * bits;
            unsigned v = (in[bit >> 3] >> (8 - bits - (bit & 7))) & mask;
            if (e->kind == 'g') {
                v = bits == 1 ? (v ? 255 : 0) : v * (255 / mask);
                if (e->invert) {
                    v = 255 - v;
                }
            }
            out[4 * x] = (uint8_t)v;
        }
        break;
    }
    case 'b':
    case 'w': {
        unsigned step = l->bps / 8, bands = (unsigned)mode_bands(e->mode);
        for (uint32_t x = 0; x < n; x++, out += 4) {
            const uint8_t *s = in + (size_t)x * l->spp * step;
            uint8_t v[4];
            for (unsigned b = 0; b < 4 && b < l->spp; b++) {
                uint16_t w;
                if (step == 2) {
                    memcpy(&w, s + 2 * b, 2);
                    v[b] = (uint8_t)(w >> 8);
                } else {
                    v[b] = s[b];
                }
            }
            if (bands == 2) { /* LA, PA: the second sample is band 3 */
                out[0] = out[1] = out[2] = v[0];
                out[3] = v[1];
            } else {
                memcpy(out, v, 3);
                out[3] = bands == 4 ? v[3] : 255;
            }
        }
        break;
    }
    case 'i':
        for (uint32_t x = 0; x < n; x++) {
            uint8_t v;
            if (l->bps == 16) {
                uint16_t w;
                memcpy(&w, in + 2 * (size_t)x, 2);
                if (e->mode == M_I) {
                    v = clip_i(e->is_signed ? (int16_t)w : w);
                } else {
                    v = i16_to_l(w);
                }
            } else {
                uint32_t w = rd32(in + 4 * (size_t)x, l->swap32);
                v = clip_i(e->is_signed ? (int64_t)(int32_t)w : (int64_t)w);
            }
            out[4 * x] = v;
        }
        break;
    case 'f':
        for (uint32_t x = 0; x < n; x++) {
            uint32_t w = rd32(in + 4 * (size_t)x, l->swap32);
            float f;
            memcpy(&f, &w, 4);
            /* Pillow's f2l: NaN fails both tests and casts; keep it 0 */
            out[4 * x] = f <= 0.0f ? 0 : f >= 255.0f ? 255 : f == f ? (uint8_t)f : 0;
        }
        break;
    }
}

/* Pillow's "R", "G", "B", "A" (or ";16N") plane unpackers: sample plane p
 * into byte p of each pixel. */
static void unpack_plane(unsigned bps, unsigned p, const uint8_t *in, uint8_t *out, uint32_t n)
{
    for (uint32_t x = 0; x < n; x++) {
        if (bps == 16) {
            uint16_t w;
            memcpy(&w, in + 2 * (size_t)x, 2);
            out[4 * x + p] = (uint8_t)(w >> 8);
        } else {
            out[4 * x + p] = in[x];
        }
    }
}

/* Unpack.c unpackRGBa: associated alpha divided out. */
static void unpremultiply(uint8_t *px, size_t n)
{
    for (size_t i = 0; i < n; i++, px += 4) {
        unsigned a = px[3];
        if (a == 0) {
            memset(px, 0, 4);
        } else if (a != 255) {
            for (int c = 0; c < 3; c++) {
                unsigned v = px[c] * 255u / a;
                px[c] = (uint8_t)(v > 255 ? 255 : v);
            }
        }
    }
}

/* ---- reading strips and tiles (TiffDecode.c _decodeStrip / _decodeTile) ---- */

struct job {
    TIFF *tif;
    struct source *src;
    const char *name;
    struct layout lay;
    uint32_t width, height;
    unsigned planes; /* 1, or the mode's bands for separate planes */
    int raw;         /* uncompressed: Pillow's raw decoder reads it  */
    uint64_t bits;   /* the rawmode's bits per pixel               */
    uint8_t *px;     /* (height, width, 4) Pillow pixels           */
};

static vitc_status broken(const struct job *j, const char *what)
{
    if (j->src->msg[0]) {
        return vitc_error(VITC_ERR_FORMAT, "%s: corrupt TIFF (%s: %s)", j->name, what, j->src->msg);
    }
    return vitc_error(VITC_ERR_FORMAT, "%s: corrupt TIFF (%s)", j->name, what);
}

static void put_rows(struct job *j, const uint8_t *buf, tmsize_t row_bytes, uint32_t x0,
                     uint32_t y0, uint32_t n_cols, uint32_t n_rows, unsigned plane)
{
    for (uint32_t r = 0; r < n_rows; r++) {
        const uint8_t *in = buf + (size_t)r * (size_t)row_bytes;
        uint8_t *out = j->px + ((size_t)(y0 + r) * j->width + x0) * 4;
        if (j->planes > 1) {
            unpack_plane(j->lay.bps, plane, in, out, n_cols);
        } else {
            unpack_row(&j->lay, in, out, n_cols);
        }
    }
}

static vitc_status read_strips(struct job *j)
{
    uint32_t rps = 0;
    tmsize_t strip_size, row_bytes;
    uint64_t unpack_row_bytes;
    uint8_t *buf;
    vitc_status st = VITC_OK;

    if (TIFFGetField(j->tif, TIFFTAG_ROWSPERSTRIP, &rps) != 1 || rps == UINT32_MAX) {
        rps = j->height;
    }
    if (rps == 0 || rps > INT32_MAX) {
        return broken(j, "rows per strip");
    }
    strip_size = TIFFStripSize(j->tif);
    row_bytes = TIFFScanlineSize(j->tif);
    unpack_row_bytes = ((uint64_t)j->width * j->bits / j->planes + 7) / 8;
    /* Pillow's libtiff decoder refuses strips larger than its unpacker
     * expects, and rows shorter than what the unpacker reads. */
    if (strip_size <= 0 || strip_size > INT32_MAX - 1 || row_bytes <= 0 ||
        (!j->raw && ((uint64_t)strip_size > unpack_row_bytes * rps ||
                     unpack_row_bytes > (uint64_t)row_bytes))) {
        return broken(j, "strip size");
    }
    /* What the unpacker in use reads of each row. */
    unpack_row_bytes = j->planes > 1 ? (uint64_t)j->width * (j->lay.bps / 8)
                                     : ((uint64_t)j->width * j->bits + 7) / 8;
    if (unpack_row_bytes > (uint64_t)row_bytes) {
        return broken(j, "strip size");
    }
    buf = vitc_mem_calloc(1, (size_t)strip_size);
    if (!buf) {
        return vitc_error(VITC_ERR_NOMEM, "%s: out of memory for a TIFF strip", j->name);
    }
    for (uint32_t y = 0; y < j->height; y += rps) {
        uint32_t rows = j->height - y < rps ? j->height - y : rps;
        if ((uint64_t)(rows - 1) * (uint64_t)row_bytes + unpack_row_bytes > (uint64_t)strip_size) {
            st = broken(j, "strip size");
            break;
        }
        for (unsigned p = 0; p < j->planes; p++) {
            uint32_t strip = TIFFComputeStrip(j->tif, y, (uint16_t)p);
            if (strip >= TIFFNumberOfStrips(j->tif) ||
                TIFFReadEncodedStrip(j->tif, strip, buf, strip_size) < 0) {
                st = broken(j, "strip data");
                goto done;
            }
            put_rows(j, buf, row_bytes, 0, y, j->width, rows, p);
        }
        if (rps > UINT32_MAX - y) {
            break;
        }
    }
done:
    vitc_mem_free(buf);
    return st;
}

static vitc_status read_tiles(struct job *j)
{
    uint32_t tw = 0, tl = 0;
    tmsize_t tile_size = TIFFTileSize(j->tif), row_bytes = TIFFTileRowSize(j->tif);
    uint8_t *buf;
    vitc_status st = VITC_OK;

    if (tile_size <= 0 || row_bytes <= 0 || row_bytes > tile_size || tile_size > INT32_MAX - 1) {
        return broken(j, "tile size");
    }
    TIFFGetField(j->tif, TIFFTAG_TILEWIDTH, &tw);
    TIFFGetField(j->tif, TIFFTAG_TILELENGTH, &tl);
    if (tw == 0 || tl == 0 || tw > INT32_MAX || tl > INT32_MAX) {
        return broken(j, "tile geometry");
    }
    /* A tile far larger than its image is a way to make a small file cost
     * gigabytes (Pillow allocates it): refused past TIFF_MAX_TILE_PIXELS
     * unless the image itself is that large. */
    if ((uint64_t)tw * tl > TIFF_MAX_TILE_PIXELS &&
        (uint64_t)tw * tl > 4 * (uint64_t)j->width * j->height) {
        return vitc_error(VITC_ERR_FORMAT, "%s: TIFF tiles of %ux%u for a %ux%u image", j->name, tw,
                          tl, j->width, j->height);
    }
    /* TiffDecode.c's own check, its formula kept as it is. */
    if ((uint64_t)tile_size > (((uint64_t)tl * j->bits / j->planes + 7) / 8) * tw) {
        return broken(j, "tile size");
    }
    buf = vitc_mem_calloc(1, (size_t)tile_size);
    if (!buf) {
        return vitc_error(VITC_ERR_NOMEM, "%s: out of memory for a TIFF tile", j->name);
    }
    for (uint64_t y = 0; y < j->height; y += tl) {
        uint32_t rows = j->height - y < tl ? (uint32_t)(j->height - y) : tl;
        for (unsigned p = 0; p < j->planes; p++) {
            for (uint64_t x = 0; x < j->width; x += tw) {
                uint32_t cols = j->width - x < tw ? (uint32_t)(j->width - x) : tw;
                uint64_t need = j->planes > 1 ? (uint64_t)cols * (j->lay.bps / 8)
                                              : ((uint64_t)cols * j->bits + 7) / 8;
                if (need > (uint64_t)row_bytes ||
                    (uint64_t)(rows - 1) * (uint64_t)row_bytes + need > (uint64_t)tile_size) {
                    st = broken(j, "tile size");
                    goto done;
                }
                if (TIFFReadTile(j->tif, buf, (uint32_t)x, (uint32_t)y, 0, (uint16_t)p) < 0) {
                    st = broken(j, "tile data");
                    goto done;
                }
                put_rows(j, buf, row_bytes, (uint32_t)x, (uint32_t)y, cols, rows, p);
            }
        }
    }
done:
    vitc_mem_free(buf);
    return st;
}

/* TiffDecode.c _decodeAsRGBA: YCbCr not in JPEG, through TIFFRGBAImage in
 * blocks of a strip's (or tile's) rows, each block asked for top-left. */
static vitc_status read_rgba(struct job *j)
{
    TIFFRGBAImage img;
    char emsg[1024] = "";
    uint32_t rpb = 0;
    uint32_t *buf = NULL;
    vitc_status st = VITC_OK;
    int ok = TIFFIsTiled(j->tif) ? TIFFGetFieldDefaulted(j->tif, TIFFTAG_TILELENGTH, &rpb)
                                 : TIFFGetFieldDefaulted(j->tif, TIFFTAG_ROWSPERSTRIP, &rpb);
    size_t n;
    if (ok != 1 || rpb == UINT32_MAX) {
        rpb = j->height;
    }
    if (rpb == 0) {
        return broken(j, "rows per strip");
    }
    if (rpb > j->height) {
        rpb = j->height; /* Pillow reads at most the image's rows per call */
    }
    if (!TIFFRGBAImageOK(j->tif, emsg) || !TIFFRGBAImageBegin(&img, j->tif, 0, emsg)) {
        return vitc_error(VITC_ERR_FORMAT, "%s: TIFF YCbCr data not readable (%s)", j->name, emsg);
    }
    img.req_orientation = ORIENTATION_TOPLEFT;
    img.col_offset = 0;
    if (img.width != j->width || vitc_mul_size((size_t)img.width * 4, rpb, &n) || n > INT32_MAX) {
        st = broken(j, "YCbCr block size");
        goto done;
    }
    buf = vitc_mem_calloc(1, n);
    if (!buf) {
        st = vitc_error(VITC_ERR_NOMEM, "%s: out of memory for a TIFF block", j->name);
        goto done;
    }
    for (uint32_t y = 0; y < j->height; y += rpb) {
        uint32_t rows = j->height - y < rpb ? j->height - y : rpb;
        img.row_offset = (int)y;
        if (!TIFFRGBAImageGet(&img, buf, img.width, rows)) {
            st = broken(j, "YCbCr data");
            goto done;
        }
        for (uint32_t r = 0; r < rows; r++) {
            uint8_t *out = j->px + (size_t)(y + r) * j->width * 4;
            for (uint32_t x = 0; x < j->width; x++) {
                uint32_t v = buf[(size_t)r * img.width + x];
                out[4 * x] = (uint8_t)TIFFGetR(v);
                out[4 * x + 1] = (uint8_t)TIFFGetG(v);
                out[4 * x + 2] = (uint8_t)TIFFGetB(v);
                out[4 * x + 3] = 255;
            }
        }
        if (rpb > UINT32_MAX - y) {
            break;
        }
    }
done:
    vitc_mem_free(buf);
    TIFFRGBAImageEnd(&img);
    return st;
}

/* ---- the file ---- */

/* The compressions Pillow names (COMPRESSION_INFO); others it refuses. */
static int pillow_knows_compression(unsigned c)
{
    static const unsigned known[] = {1,     2,     3,     4,     5,     6,     7,     8,    32771,
                                     32773, 32809, 32946, 34676, 34677, 34925, 50000, 50001};
    for (size_t i = 0; i < sizeof known / sizeof known[0]; i++) {
        if (known[i] == c) {
            return 1;
        }
    }
    return 0;
}

static vitc_status unsupported(const char *name, const char *what)
{
    return vitc_error(VITC_ERR_UNSUPPORTED, "%s: %s", name, what);
}

/* Pillow's mode to RGB (Convert.c: l2rgb, la2rgb, p2rgb, cmyk2rgb, ...). */
static void to_rgb(const uint8_t *px, enum mode m, const uint8_t pal[256][3], vitc_image *img)
{
    for (int y = 0; y < img->height; y++) {
        uint8_t *d = img->data + (size_t)y * img->stride;
        for (int x = 0; x < img->width; x++, px += 4, d += 3) {
            if (m == M_P || m == M_PA) {
                memcpy(d, pal[px[0]], 3);
            } else if (m == M_CMYK) {
                for (int c = 0; c < 3; c++) {
                    d[c] = vitc_cmyk_channel(px[c], px[3]);
                }
            } else if (mode_bands(m) >= 3) {
                memcpy(d, px, 3);
            } else {
                d[0] = d[1] = d[2] = px[0];
            }
        }
    }
}

/* Pillow's raw decoder reads a separate-plane single-sample file with the
 * first letter of the rawmode ("1", "L", "P", ...): the same pixels only
 * for plain 1-bit, 8-bit gray and 8-bit palette data in fill order 1. */
static int raw_single_plane_ok(const struct open_info *e, unsigned bps, unsigned fill)
{
    if (fill != 1 || e->invert) {
        return 0;
    }
    /* 32-bit "I;32..." and "F;32..." become "I" and "F": native order */
    return (e->kind == 'g' && (bps == 1 || bps == 8)) || (e->kind == 'p' && bps == 8) || bps == 32;
}

/* Decides Pillow's mode for the current directory, or refuses. */
static vitc_status pick_layout(struct job *j, uint16_t compression, uint16_t photo, uint16_t planar,
                               int *rgba_path, int *jpeg_rgb)
{
    TIFF *tif = j->tif;
    uint16_t bps = 1, spp = 1, format = 1, fill = 1, n_extra = 0, *extra = NULL;
    const struct open_info *e;
    int raw = compression == COMPRESSION_NONE;

    TIFFGetFieldDefaulted(tif, TIFFTAG_BITSPERSAMPLE, &bps);
    TIFFGetFieldDefaulted(tif, TIFFTAG_SAMPLESPERPIXEL, &spp);
    TIFFGetFieldDefaulted(tif, TIFFTAG_SAMPLEFORMAT, &format);
    TIFFGetFieldDefaulted(tif, TIFFTAG_FILLORDER, &fill);
    if (!TIFFGetField(tif, TIFFTAG_EXTRASAMPLES, &n_extra, &extra) || j->src->extra_added) {
        n_extra = 0;
    }
    if (spp > 6) {
        return vitc_error(VITC_ERR_FORMAT, "%s: TIFF with %u samples per pixel", j->name, spp);
    }
    /* Pillow keys multi-sample images by a per-band SampleFormat it accepts
     * only when all are 1 (unsigned). */
    if (spp > 1 && format != 1) {
        return unsupported(j->name, "TIFF with non-integer or signed multi-sample pixels");
    }
    if (photo == PHOTOMETRIC_CIELAB) {
        return unsupported(j->name, "TIFF in the CIE L*a*b* color space is not supported");
    }
    e = find_open_info(TIFFIsBigEndian(tif), photo, format, fill, bps, spp, extra, n_extra);
    if (!e) {
        return vitc_error(VITC_ERR_UNSUPPORTED,
                          "%s: TIFF pixel layout Pillow does not read (photometric %u, %u x %u-bit "
                          "samples, sample format %u, %u extra, fill order %u)",
                          j->name, photo, spp, bps, format, n_extra, fill);
    }
    /* Pillow's raw decoder has no "P;1R", "P;2R", "P;4R" or "L;IR". */
    if (raw && fill == 2 &&
        ((e->kind == 'p' && bps < 8) || (e->kind == 'g' && bps == 8 && e->invert))) {
        return unsupported(j->name, "uncompressed TIFF in fill order 2 of this kind (Pillow "
                                    "has no unpacker for it)");
    }
    j->lay.info = e;
    j->lay.bps = bps;
    j->lay.spp = spp;
    j->bits = (uint64_t)bps * spp;
    j->planes = 1;
    j->raw = raw;
    /* ";16B" rawmodes become ";16N" for libtiff, 32-bit ones ("I;32BS",
     * "F;32BF") do not: libtiff's native bytes are then read big-endian. */
    j->lay.swap32 = !raw && bps == 32 && TIFFIsBigEndian(tif);

    if (photo == PHOTOMETRIC_YCBCR) {
        if (raw) {
            return unsupported(j->name, "uncompressed YCbCr TIFF is not supported (Pillow "
                                        "reads its samples as RGB)");
        }
        if (compression == COMPRESSION_JPEG && planar == PLANARCONFIG_CONTIG) {
            *jpeg_rgb = 1;
        } else {
            *rgba_path = 1;
        }
        return VITC_OK;
    }
    if (planar == PLANARCONFIG_SEPARATE && mode_bands(e->mode) > 1) {
        if (raw) {
            /* Pillow's raw decoder unpacks each plane by one letter of the
             * rawmode: right only for 8-bit RGB, RGBA, RGBX and CMYK. */
            if (bps != 8 || fill != 1 || e->premul || e->mode == M_LA || e->mode == M_PA ||
                (spp != (unsigned)mode_bands(e->mode) && e->mode != M_RGBX)) {
                return unsupported(j->name, "uncompressed separate-plane TIFF of this kind is "
                                            "not supported");
            }
        } else if (bps != 8 && bps != 16) {
            return broken(j, "separate planes of this depth");
        }
        j->planes = (unsigned)mode_bands(e->mode);
    } else if (planar == PLANARCONFIG_SEPARATE && raw) {
        if (!raw_single_plane_ok(e, bps, fill)) {
            return unsupported(j->name, "uncompressed single-sample TIFF marked separate-plane");
        }
        /* "I" and "F" read the file's bytes in native (little-endian) order */
        j->lay.swap32 = bps == 32 && TIFFIsBigEndian(tif);
    }
    return VITC_OK;
}

static vitc_status decode_page(struct job *j, vitc_image **out)
{
    TIFF *tif = j->tif;
    uint16_t compression = 1, photo = 0, planar = 1, orientation = 0;
    uint8_t pal[256][3] = {{0}};
    int rgba_path = 0, jpeg_rgb = 0;
    vitc_image *img = NULL;
    size_t n_px;
    vitc_status st;

    if (!TIFFGetField(tif, TIFFTAG_IMAGEWIDTH, &j->width) ||
        !TIFFGetField(tif, TIFFTAG_IMAGELENGTH, &j->height)) {
        return broken(j, "no image size");
    }
    st = vitc_image_check_size(j->name, j->width, j->height);
    if (st != VITC_OK) {
        return st;
    }
    TIFFGetFieldDefaulted(tif, TIFFTAG_COMPRESSION, &compression);
    TIFFGetFieldDefaulted(tif, TIFFTAG_PLANARCONFIG, &planar);
    if (!pillow_knows_compression(compression)) {
        return vitc_error(VITC_ERR_UNSUPPORTED, "%s: TIFF compression %u is not supported", j->name,
                          compression);
    }
    if (!TIFFIsCODECConfigured(compression)) {
        return vitc_error(VITC_ERR_UNSUPPORTED, "%s: TIFF compression %u is not available", j->name,
                          compression);
    }
    if (j->src->mode_warn) {
        return vitc_error(VITC_ERR_FORMAT, "%s: TIFF with a damaged pixel layout (%s)", j->name,
                          j->src->msg);
    }
    /* Pillow takes a missing Photometric tag as 0 (MinIsWhite) where
     * libtiff guesses; old-style JPEG is YCbCr for both. */
    if (!TIFFGetField(tif, TIFFTAG_PHOTOMETRIC, &photo)) {
        photo = 0;
    }
    if (compression == COMPRESSION_OJPEG) {
        photo = PHOTOMETRIC_YCBCR;
    }
    st = pick_layout(j, compression, photo, planar, &rgba_path, &jpeg_rgb);
    if (st != VITC_OK) {
        return st;
    }
    if (j->lay.info->mode == M_P || j->lay.info->mode == M_PA) {
        uint16_t *r, *g, *b;
        if (!TIFFGetField(tif, TIFFTAG_COLORMAP, &r, &g, &b)) {
            return broken(j, "palette without a color map");
        }
        for (unsigned i = 0; i < (1u << j->lay.bps) && i < 256; i++) {
            pal[i][0] = (uint8_t)(r[i] >> 8); /* Pillow: o8(v // 256) */
            pal[i][1] = (uint8_t)(g[i] >> 8);
            pal[i][2] = (uint8_t)(b[i] >> 8);
        }
    }
    if (vitc_mul_size((size_t)j->width * 4, j->height, &n_px)) {
        return vitc_error(VITC_ERR_FORMAT, "%s: image size overflows", j->name);
    }
    j->px = vitc_mem_calloc(1, n_px);
    if (!j->px) {
        return vitc_error(VITC_ERR_NOMEM, "%s: out of memory for a %ux%u image", j->name, j->width,
                          j->height);
    }
    if (rgba_path) {
        st = read_rgba(j);
    } else {
        if (jpeg_rgb) {
            /* libjpeg converts YCbCr to RGB; Pillow's rawmode is "RGB". */
            TIFFSetField(tif, TIFFTAG_JPEGCOLORMODE, JPEGCOLORMODE_RGB);
        }
        st = TIFFIsTiled(tif) ? read_tiles(j) : read_strips(j);
        if (st == VITC_OK && j->lay.info->premul && j->planes == 1) {
            unpremultiply(j->px, (size_t)j->width * j->height);
        } else if (st == VITC_OK && j->planes > 3 && j->lay.info->mode == M_RGBA) {
            /* TiffDecode.c: separate planes of RGBA with ExtraSamples 0 or 1 */
            uint16_t n_extra = 0, *extra = NULL;
            TIFFGetFieldDefaulted(tif, TIFFTAG_EXTRASAMPLES, &n_extra, &extra);
            if (n_extra >= 1 && extra && (extra[0] == 0 || extra[0] == 1)) {
                unpremultiply(j->px, (size_t)j->width * j->height);
            }
        }
    }
    if (st != VITC_OK) {
        return st;
    }
    st = vitc_image_alloc(j->name, j->width, j->height, &img);
    if (st != VITC_OK) {
        return st;
    }
    to_rgb(j->px, j->lay.info->mode, (const uint8_t(*)[3])pal, img);
    /* Pillow 9.4 turns a TIFF by its orientation tag when it loads it, and
     * exif_transpose turns it again by the same tag. */
    if (TIFFGetField(tif, TIFFTAG_ORIENTATION, &orientation) && orientation >= 2 &&
        orientation <= 8) {
        st = vitc_exif_apply(j->name, orientation, &img);
        if (st == VITC_OK) {
            st = vitc_exif_apply(j->name, orientation, &img);
        }
    }
    if (st != VITC_OK) {
        vitc_image_free(img);
        return st;
    }
    *out = img;
    return VITC_OK;
}

vitc_status vitc_tiff_decode(const uint8_t *data, size_t size, const char *name, vitc_image **out)
{
    struct source src = {data, size, 0, "", 0, 0};
    struct job j;
    TIFFOpenOptions *opts = TIFFOpenOptionsAlloc();
    TIFF *tif;
    vitc_status st;

    if (!opts) {
        return vitc_error(VITC_ERR_NOMEM, "%s: out of memory opening a TIFF", name);
    }
    TIFFOpenOptionsSetMaxSingleMemAlloc(opts, TIFF_MAX_ALLOC);
    TIFFOpenOptionsSetErrorHandlerExtR(opts, on_error, &src);
    TIFFOpenOptionsSetWarningHandlerExtR(opts, on_warning, &src);
    /* "C": strip chopping, as Pillow opens it ("rC"). */
    tif = TIFFClientOpenExt(name, "rC", &src, src_read, src_write, src_seek, src_close, src_size,
                            src_map, src_unmap, opts);
    TIFFOpenOptionsFree(opts);
    if (!tif) {
        return vitc_error(VITC_ERR_FORMAT, "%s: corrupt or truncated TIFF (%s)", name,
                          src.msg[0] ? src.msg : "unreadable header or first directory");
    }
    memset(&j, 0, sizeof j);
    j.tif = tif;
    j.src = &src;
    j.name = name;
    st = decode_page(&j, out);
    vitc_mem_free(j.px);
    TIFFClose(tif);
    return st;
}
