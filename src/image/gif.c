/* SPDX-License-Identifier: MIT
 *
 * gif.c — the first frame of a GIF to RGB, read as Pillow 9.4's
 * GifImagePlugin and its own LZW decoder (libImaging/GifDecode.c) read it,
 * rules and quirks included, so that damaged files decode or fail as they do
 * there: the screen grows to hold the first frame, the canvas starts as the
 * transparent index (or 0), the local palette (else the global one) is laid
 * over a gray ramp, and convert("RGB") looks every index up. GIF carries no
 * EXIF orientation. I/O leaf.
 */
#include <string.h>

#include "base/err.h"
#include "image/decoders.h"

/* ImageFile.load reads the file in blocks of this many bytes and fails
 * ("image file is truncated") when the decoder wants more at end of file. */
#define READ_BLOCK 65536

/* GIF codes are at most 12 bits. */
#define LZW_BITS  12
#define LZW_TABLE (1 << LZW_BITS)

/* ---- header and extension blocks ---- */

struct reader {
    const uint8_t *d;
    size_t n, pos;
};

static int next_byte(struct reader *r)
{
    return r->pos < r->n ? r->d[r->pos++] : -1;
}

/* Up to k bytes from the reader (fewer at end of file, as Python's read). */
static const uint8_t *take(struct reader *r, size_t k, size_t *got)
{
    const uint8_t *p = r->d + r->pos;
    *got = k < r->n - r->pos ? k : r->n - r->pos;
    r->pos += *got;
    return p;
}

/* GifImageFile.data(): one sub-block, or NULL (length 0 or end of file). */
static const uint8_t *sub_block(struct reader *r, size_t *len)
{
    int k = next_byte(r);
    if (k <= 0) {
        *len = 0;
        return NULL;
    }
    return take(r, (size_t)k, len);
}

static void skip_sub_blocks(struct reader *r)
{
    size_t len;
    while (sub_block(r, &len)) {
    }
}

static unsigned le16(const uint8_t *p)
{
    return (unsigned)p[0] | (unsigned)p[1] << 8;
}

/* What the first frame needs, as GifImageFile._open and _seek(0) find it. */
struct frame {
    int64_t width, height;  /* the screen, grown to hold the frame */
    int64_t x0, y0, x1, y1; /* the frame's rectangle               */
    int interlace, bits;    /* LZW minimum code size (any byte)    */
    int transparency;       /* index, or -1                        */
    const uint8_t *palette; /* local, else global, else NULL       */
    size_t palette_len;     /* bytes, possibly cut short           */
    size_t data;            /* offset of the first LZW sub-block   */
};

static vitc_status corrupt(const char *name, const char *what)
{
    return vitc_error(VITC_ERR_FORMAT, "%s: corrupt or truncated GIF (%s)", name, what);
}

/* One extension block ('!' already read). Pillow fails the open where its
 * code indexes a missing block (TypeError, IndexError, struct.error). */
static vitc_status read_extension(struct reader *r, struct frame *f, const char *name)
{
    int label = next_byte(r);
    size_t len;
    const uint8_t *block;
    if (label < 0) {
        return corrupt(name, "extension label");
    }
    block = sub_block(r, &len);
    if (label == 0xf9) { /* graphic control: flags, delay, transparent index */
        /* A block cut by the end of the file may hold nothing at all. */
        if (!block || len < 3 || ((block[0] & 1) && len < 4)) {
            return corrupt(name, "graphic control extension");
        }
        if (block[0] & 1) { /* a later block without the flag keeps it */
            f->transparency = block[3];
        }
    } else if (label == 0xfe) { /* comment: its blocks, and no skipping after */
        while (block) {
            block = sub_block(r, &len);
        }
        return VITC_OK;
    } else if (label == 0xff) { /* application: NETSCAPE2.0 reads one more block */
        if (!block) {
            return corrupt(name, "application extension");
        }
        if (len >= 11 && memcmp(block, "NETSCAPE2.0", 11) == 0 && !sub_block(r, &len)) {
            return corrupt(name, "NETSCAPE2.0 extension");
        }
    }
    skip_sub_blocks(r);
    return VITC_OK;
}

/* GifImageFile._is_palette_needed, negated. */
static int is_ramp(const uint8_t *p, size_t len)
{
    for (size_t i = 0; i < len / 3; i++) {
        if (p[3 * i] != i || p[3 * i + 1] != i || p[3 * i + 2] != i) {
            return 0;
        }
    }
    return 1;
}

static vitc_status read_header(const uint8_t *d, size_t n, const char *name, struct frame *f)
{
    struct reader r = {d, n, 13};
    const uint8_t *global = NULL;
    size_t global_len = 0;
    int c;
    if (n < 13) {
        return corrupt(name, "header");
    }
    f->width = le16(d + 6);
    f->height = le16(d + 8);
    f->transparency = -1;
    if (d[10] & 0x80) {
        global = take(&r, (size_t)3 << ((d[10] & 7) + 1), &global_len);
    }
    /* Blocks up to the first image descriptor; bytes of no known block are
     * passed over one by one, as Pillow does. */
    while ((c = next_byte(&r)) >= 0 && c != ';') {
        vitc_status st;
        size_t len;
        const uint8_t *desc, *local = NULL;
        size_t local_len = 0;
        if (c == '!') {
            if ((st = read_extension(&r, f, name)) != VITC_OK) {
                return st;
            }
            continue;
        }
        if (c != ',') {
            continue;
        }
        desc = take(&r, 9, &len);
        if (len < 9) {
            return corrupt(name, "image descriptor");
        }
        f->x0 = le16(desc);
        f->y0 = le16(desc + 2);
        f->x1 = f->x0 + le16(desc + 4);
        f->y1 = f->y0 + le16(desc + 6);
        f->width = f->x1 > f->width ? f->x1 : f->width;
        f->height = f->y1 > f->height ? f->y1 : f->height;
        f->interlace = (desc[8] & 0x40) != 0;
        if (desc[8] & 0x80) {
            local = take(&r, (size_t)3 << ((desc[8] & 7) + 1), &local_len);
        }
        if ((f->bits = next_byte(&r)) < 0) {
            return corrupt(name, "LZW code size");
        }
        f->data = r.pos;
        /* Pillow drops an identity (gray ramp) palette and reads the frame
         * as mode L; a frame whose local palette is dropped so still gets
         * the global one, as its image takes that palette when loaded. */
        if (local && !is_ramp(local, local_len)) {
            f->palette = local;
            f->palette_len = local_len;
        } else {
            f->palette = global;
            f->palette_len = global_len;
        }
        return VITC_OK;
    }
    return corrupt(name, "no image");
}

/* ---- LZW, as ImagingGifDecode ---- */

struct lzw {
    /* the region of the canvas being written */
    uint8_t *rgb;
    size_t stride;
    int xoff, yoff, xsize, ysize, x, y;
    const uint8_t (*palette)[3];
    int bits, interlace, step;
    int state; /* 0 start, 1 after a clear code, 2 first code, 3 running */
    uint32_t bitbuffer;
    int bitcount, blocksize, codesize, codemask, clear, end, next, lastcode;
    uint8_t lastdata;
    int bufferindex; /* expanded string, filled from the right */
    uint8_t buffer[LZW_TABLE];
    uint16_t link[LZW_TABLE];
    uint8_t data[LZW_TABLE];
};

enum { LZW_DONE = -1, LZW_BROKEN = -2 };

/* Moves to the next row, through the four passes of an interlaced frame.
 * Returns 0 once the frame is complete. */
static int next_row(struct lzw *z)
{
    z->x = 0;
    z->y += z->step;
    while (z->y >= z->ysize) {
        switch (z->interlace) {
        case 1:
            z->y = 4;
            z->interlace = 2;
            break;
        case 2:
            z->step = 4;
            z->y = 2;
            z->interlace = 3;
            break;
        case 3:
            z->step = 2;
            z->y = 1;
            z->interlace = 0;
            break;
        default:
            return 0;
        }
    }
    return 1;
}

/* The next code, or -1 when buf has no whole sub-block left to take bits
 * from (Pillow's decoder waits for a whole block before reading one). */
static int next_code(struct lzw *z, const uint8_t **ptr, const uint8_t *end)
{
    int c;
    while (z->bitcount < z->codesize) {
        if (z->blocksize > 0) {
            z->bitbuffer |= (uint32_t) * (*ptr)++ << z->bitcount;
            z->bitcount += 8;
            z->blocksize--;
        } else {
            if (*ptr >= end || (size_t)(end - *ptr) < (size_t) * *ptr + 1) {
                return -1;
            }
            z->blocksize = *(*ptr)++;
        }
    }
    c = (int)(z->bitbuffer & (uint32_t)z->codemask);
    z->bitbuffer >>= z->codesize;
    z->bitcount -= z->codesize;
    return c;
}

/* Expands code c (not clear or end) into the string to output: its first
 * byte in lastdata, the rest in buffer[bufferindex..]. Adds the table entry
 * the code implies. Returns 0, or LZW_BROKEN. */
static int expand(struct lzw *z, int c)
{
    int thiscode = c;
    if (z->state == 2) { /* first code after a clear: a literal */
        if (c > z->clear) {
            return LZW_BROKEN;
        }
        z->lastdata = (uint8_t)c;
        z->lastcode = c;
        z->state = 3;
        return 0;
    }
    if (c > z->next) {
        return LZW_BROKEN;
    }
    if (c == z->next) { /* the string of the previous code plus its first byte */
        if (z->bufferindex <= 0) {
            return LZW_BROKEN;
        }
        z->buffer[--z->bufferindex] = z->lastdata;
        c = z->lastcode;
    }
    while (c >= z->clear) {
        if (z->bufferindex <= 0 || c >= LZW_TABLE) {
            return LZW_BROKEN;
        }
        z->buffer[--z->bufferindex] = z->data[c];
        c = z->link[c];
    }
    z->lastdata = (uint8_t)c;
    if (z->next < LZW_TABLE) { /* a full table stays as it is */
        z->data[z->next] = (uint8_t)c;
        z->link[z->next] = (uint16_t)z->lastcode;
        if (z->next == z->codemask && z->codesize < LZW_BITS) {
            z->codesize++;
            z->codemask = (1 << z->codesize) - 1;
        }
        z->next++;
    }
    z->lastcode = thiscode;
    return 0;
}

/* Writes n pixels of p; LZW_DONE once the frame is full, else 0. */
static int put_pixels(struct lzw *z, const uint8_t *p, int n)
{
    for (int k = 0; k < n; k++) {
        uint8_t *o = z->rgb + (size_t)(z->y + z->yoff) * z->stride + 3 * (size_t)(z->x + z->xoff);
        memcpy(o, z->palette[p[k]], 3);
        if (++z->x >= z->xsize && !next_row(z)) {
            return LZW_DONE;
        }
    }
    return 0;
}

/* Decodes from buf[0..n): the number of bytes used (it wants more data, or
 * met an end code), LZW_DONE when every pixel is written, or LZW_BROKEN. */
static long lzw_decode(struct lzw *z, const uint8_t *buf, size_t n)
{
    const uint8_t *ptr = buf, *end = buf + n;
    if (z->state == 0) {
        if (z->bits > LZW_BITS) {
            return LZW_BROKEN;
        }
        z->clear = 1 << z->bits;
        z->end = z->clear + 1;
        z->step = z->interlace ? 8 : 1;
        z->interlace = z->interlace ? 1 : 0;
        z->state = 1;
    }
    for (;;) {
        int c, rc;
        if (z->state == 1) {
            z->next = z->clear + 2;
            z->codesize = z->bits + 1;
            z->codemask = (1 << z->codesize) - 1;
            z->bufferindex = LZW_TABLE;
            z->state = 2;
        }
        if (z->bufferindex < LZW_TABLE) { /* the rest of the last string */
            int i = LZW_TABLE - z->bufferindex;
            const uint8_t *p = z->buffer + z->bufferindex;
            z->bufferindex = LZW_TABLE;
            rc = put_pixels(z, p, i);
        } else {
            if ((c = next_code(z, &ptr, end)) < 0) {
                return ptr - buf;
            }
            if (c == z->clear) {
                if (z->state != 2) {
                    z->state = 1;
                }
                continue;
            }
            if (c == z->end) {
                return ptr - buf;
            }
            if ((rc = expand(z, c)) != 0) {
                return rc;
            }
            rc = put_pixels(z, &z->lastdata, 1);
        }
        if (rc != 0) {
            return rc;
        }
    }
}

/* ---- the frame ---- */

/* ImageFile.load's loop: feeds the decoder what has been read so far, one
 * more block each round, and fails once the file is exhausted. */
static vitc_status decode_frame(const uint8_t *d, size_t n, const char *name, struct lzw *z,
                                size_t start)
{
    size_t pos = start, read_end = start;
    for (;;) {
        long used;
        if (read_end >= n) {
            return vitc_error(VITC_ERR_FORMAT, "%s: truncated (GIF image data ends early)", name);
        }
        read_end = n - read_end > READ_BLOCK ? read_end + READ_BLOCK : n;
        used = lzw_decode(z, d + pos, read_end - pos);
        if (used == LZW_DONE) {
            return VITC_OK;
        }
        if (used == LZW_BROKEN) {
            return corrupt(name, "broken LZW data");
        }
        pos += (size_t)used;
    }
}

vitc_status vitc_gif_decode(const uint8_t *data, size_t size, const char *name, vitc_image **out)
{
    struct frame f;
    struct lzw *z = NULL;
    uint8_t palette[256][3];
    vitc_image *img = NULL;
    vitc_status st;

    memset(&f, 0, sizeof f);
    if ((st = read_header(data, size, name, &f)) != VITC_OK) {
        return st;
    }
    if ((st = vitc_image_check_size(name, f.width, f.height)) != VITC_OK) {
        return st;
    }
    /* A zero-width frame at x 0 is the whole screen to Pillow's setimage;
     * any other empty frame is refused there. */
    if (f.x0 == 0 && f.x1 == 0) {
        f.y0 = 0;
        f.x1 = f.width;
        f.y1 = f.height;
    }
    if (f.x1 <= f.x0 || f.y1 <= f.y0) {
        return corrupt(name, "empty frame");
    }
    /* The palette Pillow's core image gets: a gray ramp, its first entries
     * replaced (an identity palette, which Pillow reads as mode L, is the
     * ramp itself). */
    for (int i = 0; i < 256; i++) {
        palette[i][0] = palette[i][1] = palette[i][2] = (uint8_t)i;
    }
    for (size_t i = 0; i < f.palette_len / 3 && i < 256; i++) {
        memcpy(palette[i], f.palette + 3 * i, 3);
    }
    if ((st = vitc_image_alloc(name, f.width, f.height, &img)) != VITC_OK) {
        return st;
    }
    /* The canvas starts as the transparent index, else index 0. */
    const uint8_t *fill = palette[f.transparency >= 0 ? f.transparency : 0];
    for (int64_t y = 0; y < f.height; y++) {
        uint8_t *row = img->data + (size_t)y * img->stride;
        for (int64_t x = 0; x < f.width; x++) {
            memcpy(row + 3 * x, fill, 3);
        }
    }
    z = vitc_mem_calloc(1, sizeof *z);
    if (!z) {
        vitc_image_free(img);
        return vitc_error(VITC_ERR_NOMEM, "%s: out of memory", name);
    }
    z->rgb = img->data;
    z->stride = img->stride;
    z->xoff = (int)f.x0;
    z->yoff = (int)f.y0;
    z->xsize = (int)(f.x1 - f.x0);
    z->ysize = (int)(f.y1 - f.y0);
    z->palette = (const uint8_t(*)[3])palette;
    z->bits = f.bits;
    z->interlace = f.interlace;
    st = decode_frame(data, size, name, z, f.data);
    vitc_mem_free(z);
    if (st != VITC_OK) {
        vitc_image_free(img);
        return st;
    }
    *out = img;
    return VITC_OK;
}
