/* SPDX-License-Identifier: MIT
 *
 * bmp.c — Windows and OS/2 bitmaps to RGB, read by hand with the rules
 * of Pillow 9.4's BmpImagePlugin, raw unpackers and Python RLE decoder
 * (quirks included): 1/4/8-bit palettes (a gray or black-and-white palette
 * read as mode L or 1), 16-bit 5-5-5/5-6-5, 24-bit, 32-bit with the bitfield
 * layouts Pillow knows (alpha dropped), RLE8/RLE4, bottom-up or top-down.
 * Headers of 12, 40, 64, 108 and 124 bytes. No EXIF. I/O leaf.
 */
#include <string.h>

#include "base/err.h"
#include "image/decoders.h"

/* BITMAPINFOHEADER compression values Pillow reads. */
enum { BMP_RAW = 0, BMP_RLE8 = 1, BMP_RLE4 = 2, BMP_BITFIELDS = 3 };

/* Pillow's raw modes for BMP rows, with their bits per pixel. */
enum rawmode { R_1, R_L, R_P1, R_P4, R_P8, R_BGR15, R_BGR16, R_BGR, R_BGRX, R_XBGR, R_RGBX };
static const int raw_bits[] = {1, 8, 1, 4, 8, 16, 16, 24, 32, 32, 32};

struct bmp {
    int64_t width, height;
    int direction; /* -1: rows stored bottom-up */
    int bits, compression;
    enum rawmode raw;
    int indexed;           /* samples go through table (modes 1, L, P) */
    uint8_t table[256][3]; /* palette over a gray ramp, or the ramp    */
    size_t offset;         /* of the pixel data                        */
};

static uint32_t le32(const uint8_t *p)
{
    return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

static unsigned le16(const uint8_t *p)
{
    return (unsigned)p[0] | (unsigned)p[1] << 8;
}

static vitc_status refuse(const char *name, const char *what)
{
    return vitc_error(VITC_ERR_FORMAT, "%s: %s", name, what);
}

/* ---- header ---- */

/* The raw mode a BITFIELDS layout maps to (BmpImagePlugin's MASK_MODES), or
 * -1 for a layout Pillow refuses. */
static int mask_mode(int bits, const uint32_t m[4])
{
    static const struct {
        int bits;
        uint32_t m[4];
        enum rawmode raw;
    } known[] = {
        {32, {0xff0000, 0xff00, 0xff, 0}, R_BGRX},
        {32, {0xff000000, 0xff0000, 0xff00, 0}, R_XBGR},
        {32, {0xff000000, 0xff0000, 0xff00, 0xff}, R_XBGR},
        {32, {0xff, 0xff00, 0xff0000, 0xff000000}, R_RGBX},
        {32, {0xff0000, 0xff00, 0xff, 0xff000000}, R_BGRX},
        {32, {0, 0, 0, 0}, R_BGRX},
        {24, {0xff0000, 0xff00, 0xff, 0}, R_BGR},
        {16, {0xf800, 0x7e0, 0x1f, 0}, R_BGR16},
        {16, {0x7c00, 0x3e0, 0x1f, 0}, R_BGR15},
    };
    for (size_t i = 0; i < sizeof known / sizeof known[0]; i++) {
        /* 24- and 16-bit layouts compare red, green and blue only. */
        int n = bits == 32 ? 4 : 3;
        if (known[i].bits == bits && memcmp(known[i].m, m, n * sizeof *m) == 0) {
            return (int)known[i].raw;
        }
    }
    return -1;
}

/* The palette (1/4/8 bits): a gray or black-and-white one makes the image
 * mode L or 1, read with that raw mode; any other goes over the ramp. */
static vitc_status read_palette(const uint8_t *d, size_t n, size_t *pos, uint64_t colors,
                                int padding, struct bmp *b, const char *name)
{
    size_t want = (size_t)colors * (size_t)padding;
    size_t got = *pos < n ? (n - *pos < want ? n - *pos : want) : 0;
    const uint8_t *pal = d + (*pos < n ? *pos : n);
    int gray = 1;
    *pos += got;
    for (uint64_t i = 0; i < colors && gray; i++) {
        uint8_t v = colors == 2 ? (i ? 255 : 0) : (uint8_t)i;
        size_t at = (size_t)i * (size_t)padding;
        gray = at + 3 <= got && pal[at] == v && pal[at + 1] == v && pal[at + 2] == v;
    }
    if (gray) {
        b->raw = colors == 2 ? R_1 : R_L;
        return VITC_OK;
    }
    /* putpalette refuses more than 256 entries (BGRX or BGR). */
    if (got / (size_t)padding > 256) {
        return refuse(name, "BMP palette of more than 256 colors");
    }
    for (size_t i = 0; i < got / (size_t)padding; i++) {
        b->table[i][0] = pal[i * padding + 2];
        b->table[i][1] = pal[i * padding + 1];
        b->table[i][2] = pal[i * padding];
    }
    return VITC_OK;
}

static vitc_status read_header(const uint8_t *d, size_t n, const char *name, struct bmp *b)
{
    uint32_t header_size, offset;
    uint64_t colors = 0;
    int padding;
    size_t pos;
    const uint8_t *h;

    if (n < 18) {
        return refuse(name, "truncated BMP header");
    }
    offset = le32(d + 10);
    header_size = le32(d + 14);
    if (header_size != 12 && header_size != 40 && header_size != 64 && header_size != 108 &&
        header_size != 124) {
        return vitc_error(VITC_ERR_UNSUPPORTED, "%s: BMP header of %u bytes is not supported", name,
                          header_size);
    }
    if (n - 14 < header_size) {
        return refuse(name, "truncated BMP header");
    }
    h = d + 18; /* the header after its size field */
    pos = 14 + header_size;
    b->direction = -1;
    if (header_size == 12) { /* OS/2 1.x */
        b->width = le16(h);
        b->height = le16(h + 2);
        b->bits = (int)le16(h + 6);
        b->compression = BMP_RAW;
        padding = 3;
    } else {
        uint32_t m[4] = {0, 0, 0, 0};
        int y_flip = h[7] == 0xff; /* a negative height: rows top-down */
        b->direction = y_flip ? 1 : -1;
        b->width = le32(h);
        b->height = y_flip ? ((int64_t)1 << 32) - le32(h + 4) : le32(h + 4);
        b->bits = (int)le16(h + 10);
        b->compression = (int)le32(h + 12);
        colors = le32(h + 28);
        padding = 4;
        if (b->compression == BMP_BITFIELDS) {
            if (header_size >= 56) {
                for (int i = 0; i < 4; i++) {
                    m[i] = le32(h + 36 + 4 * i);
                }
            } else { /* three masks follow a 40-byte header */
                if (n < pos + 12) {
                    return refuse(name, "truncated BMP bitfields");
                }
                for (int i = 0; i < 3; i++) {
                    m[i] = le32(d + pos + 4 * i);
                }
                pos += 12;
            }
        }
        if (b->compression == BMP_BITFIELDS) {
            int raw = mask_mode(b->bits, m);
            if (raw < 0) {
                return vitc_error(VITC_ERR_UNSUPPORTED, "%s: BMP bitfields layout not supported",
                                  name);
            }
            b->raw = (enum rawmode)raw;
        }
    }
    if (colors == 0) {
        colors = b->bits < 64 ? (uint64_t)1 << b->bits : 0;
    }
    if (offset == 14 + header_size && b->bits <= 8) {
        offset += (uint32_t)(4 * colors);
    }
    switch (b->bits) {
    case 1:
    case 4:
    case 8:
        if (b->compression != BMP_BITFIELDS) {
            b->raw = b->bits == 1 ? R_P1 : b->bits == 4 ? R_P4 : R_P8;
        }
        break;
    case 16:
    case 24:
    case 32:
        if (b->compression != BMP_BITFIELDS) {
            b->raw = b->bits == 16 ? R_BGR15 : b->bits == 24 ? R_BGR : R_BGRX;
        }
        break;
    default:
        return vitc_error(VITC_ERR_UNSUPPORTED, "%s: BMP depth of %d bits is not supported", name,
                          b->bits);
    }
    if (b->compression > BMP_BITFIELDS || b->compression < 0) {
        return vitc_error(VITC_ERR_UNSUPPORTED, "%s: BMP compression %d is not supported", name,
                          b->compression);
    }
    for (int i = 0; i < 256; i++) {
        b->table[i][0] = b->table[i][1] = b->table[i][2] = (uint8_t)i;
    }
    b->indexed = b->bits <= 8;
    if (b->indexed) {
        vitc_status st;
        if (colors == 0 || colors > 65536) {
            return refuse(name, "BMP palette size out of range");
        }
        st = read_palette(d, n, &pos, colors, padding, b, name);
        if (st != VITC_OK) {
            return st;
        }
    }
    b->offset = offset ? offset : pos;
    return VITC_OK;
}

/* ---- pixels ---- */

/* One row of samples in raw mode r to RGB, as Pillow's unpackers and then
 * convert("RGB") make it. */
static void unpack_row(const struct bmp *b, const uint8_t *s, uint8_t *d, int64_t width)
{
    for (int64_t x = 0; x < width; x++, d += 3) {
        unsigned v;
        switch (b->raw) {
        case R_1:
            memcpy(d, b->table[(s[x >> 3] >> (7 - (x & 7)) & 1) ? 255 : 0], 3);
            break;
        case R_P1:
            memcpy(d, b->table[s[x >> 3] >> (7 - (x & 7)) & 1], 3);
            break;
        case R_P4:
            memcpy(d, b->table[x & 1 ? s[x >> 1] & 15 : s[x >> 1] >> 4], 3);
            break;
        case R_L:
        case R_P8:
            memcpy(d, b->table[s[x]], 3);
            break;
        case R_BGR15:
            v = le16(s + 2 * x);
            d[0] = (uint8_t)(((v >> 10) & 31) * 255 / 31);
            d[1] = (uint8_t)(((v >> 5) & 31) * 255 / 31);
            d[2] = (uint8_t)((v & 31) * 255 / 31);
            break;
        case R_BGR16:
            v = le16(s + 2 * x);
            d[0] = (uint8_t)(((v >> 11) & 31) * 255 / 31);
            d[1] = (uint8_t)(((v >> 5) & 63) * 255 / 63);
            d[2] = (uint8_t)((v & 31) * 255 / 31);
            break;
        case R_BGR:
            d[0] = s[3 * x + 2];
            d[1] = s[3 * x + 1];
            d[2] = s[3 * x];
            break;
        case R_BGRX:
            d[0] = s[4 * x + 2];
            d[1] = s[4 * x + 1];
            d[2] = s[4 * x];
            break;
        case R_XBGR:
            d[0] = s[4 * x + 3];
            d[1] = s[4 * x + 2];
            d[2] = s[4 * x + 1];
            break;
        case R_RGBX:
            memcpy(d, s + 4 * x, 3);
            break;
        }
    }
}

/* Uncompressed rows: Pillow's raw decoder reads each row's bytes and skips
 * the padding up to the stride, except after the last row. */
static vitc_status decode_raw(const uint8_t *d, size_t n, const char *name, const struct bmp *b,
                              vitc_image *img)
{
    uint64_t stride = (((uint64_t)b->width * (uint64_t)b->bits + 31) >> 3) & ~(uint64_t)3;
    uint64_t bytes = ((uint64_t)b->width * (uint64_t)raw_bits[b->raw] + 7) / 8;
    /* A gray palette on rows of 1 or 4 bits makes mode L, read a byte per
     * pixel: Pillow's decoder refuses a stride shorter than that row, but a
     * file opened by name (transformers' case) whose rows all fit is
     * memory-mapped instead, rows overlapping, bytes past the end zero. */
    if (stride < bytes) {
        if (b->raw != R_L || b->offset > n || (n - b->offset) / stride < (uint64_t)b->height) {
            return refuse(name, "BMP rows too short for their mode");
        }
        for (int64_t y = 0; y < b->height; y++) {
            int64_t row = b->direction < 0 ? b->height - 1 - y : y;
            size_t at = b->offset + (size_t)(y * stride);
            uint8_t *o = img->data + (size_t)row * img->stride;
            for (int64_t x = 0; x < b->width; x++, at++) {
                memset(o + 3 * x, at < n ? d[at] : 0, 3);
            }
        }
        return VITC_OK;
    }
    if (b->offset > n || n - b->offset < bytes ||
        (n - b->offset - bytes) / stride < (uint64_t)(b->height - 1)) {
        return vitc_error(VITC_ERR_FORMAT, "%s: truncated (BMP pixel data ends early)", name);
    }
    for (int64_t y = 0; y < b->height; y++) {
        int64_t row = b->direction < 0 ? b->height - 1 - y : y;
        unpack_row(b, d + b->offset + (size_t)(y * stride), img->data + (size_t)row * img->stride,
                   b->width);
    }
    return VITC_OK;
}

/* Appends one index; past `need` (the last row) only the count grows. */
static void put(uint8_t *out, uint64_t need, uint64_t *got, unsigned v)
{
    if (*got < need) {
        out[*got] = (uint8_t)v;
    }
    (*got)++;
}

/* BmpRleDecoder: expands RLE8/RLE4 into one index per pixel, rows in file
 * order, keeping its quirks (a delta reads two bytes and takes the next
 * two; RLE4 literal runs of odd length lose their last pixel; word
 * alignment by file position). out (need bytes) starts zeroed; *len is the
 * number of pixels the decoder produced. */
static vitc_status expand_rle(const uint8_t *d, size_t n, const char *name, const struct bmp *b,
                              uint8_t *out, uint64_t need, uint64_t *len)
{
    uint64_t w = (uint64_t)b->width, got = 0;
    uint64_t x = 0;
    size_t pos = b->offset;
    int rle4 = b->compression == BMP_RLE4;
    while (got < need) {
        unsigned count, byte;
        if (pos >= n || n - pos < 2) {
            break;
        }
        count = d[pos];
        byte = d[pos + 1];
        pos += 2;
        if (count) { /* a run, cut at the end of the row */
            if (x + count > w) {
                count = x < w ? (unsigned)(w - x) : 0;
            }
            for (unsigned i = 0; i < count; i++) {
                put(out, need, &got, rle4 ? (i % 2 ? byte & 15 : byte >> 4) : byte);
            }
            x += count;
        } else if (byte == 0) { /* end of line: zeros up to the next row */
            got += (w - got % w) % w;
            x = 0;
        } else if (byte == 1) { /* end of bitmap */
            break;
        } else if (byte == 2) { /* delta */
            if (pos >= n || n - pos < 2) {
                break;
            }
            pos += 2;
            if (pos >= n || n - pos < 2) { /* Python's unpacking of a short read raises */
                return refuse(name, "truncated BMP RLE delta");
            }
            got += d[pos] + (uint64_t)d[pos + 1] * w;
            pos += 2;
            x = got % w;
        } else { /* a literal run */
            size_t want = rle4 ? byte / 2 : byte;
            size_t avail = pos < n ? (n - pos < want ? n - pos : want) : 0;
            for (size_t i = 0; i < avail; i++) {
                if (rle4) {
                    put(out, need, &got, d[pos + i] >> 4);
                    put(out, need, &got, d[pos + i] & 15);
                } else {
                    put(out, need, &got, d[pos + i]);
                }
            }
            pos += avail;
            if (avail < want) {
                break;
            }
            x += byte;
            pos += pos % 2;
        }
    }
    *len = got;
    return VITC_OK;
}

static vitc_status decode_rle(const uint8_t *d, size_t n, const char *name, const struct bmp *b,
                              vitc_image *img)
{
    uint64_t need = (uint64_t)b->width * (uint64_t)b->height, len = 0;
    uint8_t *idx;
    vitc_status st;
    /* The decoder hands its bytes on as raw mode L or P: a mode-1 image
     * (black-and-white palette) or a deeper one has no such raw mode. */
    if (!b->indexed || b->raw == R_1) {
        return vitc_error(VITC_ERR_UNSUPPORTED, "%s: BMP RLE at %d bits is not supported", name,
                          b->bits);
    }
    idx = vitc_mem_calloc(1, (size_t)need);
    if (!idx) {
        return vitc_error(VITC_ERR_NOMEM, "%s: out of memory", name);
    }
    st = expand_rle(d, n, name, b, idx, need, &len);
    if (st == VITC_OK && len < need) {
        st = vitc_error(VITC_ERR_FORMAT, "%s: truncated (BMP RLE data ends early)", name);
    }
    for (int64_t y = 0; st == VITC_OK && y < b->height; y++) {
        int64_t row = b->direction < 0 ? b->height - 1 - y : y;
        const uint8_t *s = idx + (size_t)y * (size_t)b->width;
        uint8_t *o = img->data + (size_t)row * img->stride;
        for (int64_t x = 0; x < b->width; x++) {
            memcpy(o + 3 * x, b->table[s[x]], 3);
        }
    }
    vitc_mem_free(idx);
    return st;
}

vitc_status vitc_bmp_decode(const uint8_t *data, size_t size, const char *name, vitc_image **out)
{
    struct bmp b;
    vitc_image *img = NULL;
    vitc_status st;

    memset(&b, 0, sizeof b);
    if ((st = read_header(data, size, name, &b)) != VITC_OK) {
        return st;
    }
    if ((st = vitc_image_check_size(name, b.width, b.height)) != VITC_OK) {
        return st;
    }
    /* Uncompressed data must all be there: refused before any allocation.
     * The stride is at least 4 (width and depth are at least 1). */
    if (b.compression != BMP_RLE8 && b.compression != BMP_RLE4) {
        uint64_t stride = (((uint64_t)b.width * (uint64_t)b.bits + 31) >> 3) & ~(uint64_t)3;
        if (b.offset > size || (size - b.offset) / stride < (uint64_t)b.height - 1) {
            return vitc_error(VITC_ERR_FORMAT, "%s: truncated (BMP pixel data ends early)", name);
        }
    }
    if ((st = vitc_image_alloc(name, b.width, b.height, &img)) != VITC_OK) {
        return st;
    }
    if (b.compression == BMP_RLE8 || b.compression == BMP_RLE4) {
        st = decode_rle(data, size, name, &b, img);
    } else {
        st = decode_raw(data, size, name, &b, img);
    }
    if (st != VITC_OK) {
        vitc_image_free(img);
        return st;
    }
    *out = img;
    return VITC_OK;
}
