/* SPDX-License-Identifier: MIT
 *
 * test_image.c — vitc_image_load / _load_memory on hostile input: empty,
 * truncated, random and foreign-format files, headers declaring huge or
 * zero sizes (refused before allocation), missing paths; every message must
 * name the file. Also allocation-failure injection and byte-flip damage on
 * the fixtures (no crash, no leak under ASan). Mode-by-mode pixel checks
 * against Pillow live in tests/pillow.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "test.h"
#include "vitc.h"

/* From err.h (test hook, not public API). */
size_t vitc_test_fail_alloc_after(size_t k);

#define IMAGES  "tests/data/preprocess/images"
#define FORMATS "tests/data/formats"

static uint8_t *read_all(const char *path, size_t *size)
{
    FILE *f = fopen(path, "rb");
    uint8_t *buf = NULL;
    long n;
    if (!f) {
        return NULL;
    }
    if (fseek(f, 0, SEEK_END) == 0 && (n = ftell(f)) > 0 && fseek(f, 0, SEEK_SET) == 0) {
        buf = malloc((size_t)n);
        if (buf && fread(buf, 1, (size_t)n, f) != (size_t)n) {
            free(buf);
            buf = NULL;
        }
        *size = (size_t)n;
    }
    fclose(f);
    return buf;
}

/* Decodes `data` from memory as `name`; checks the status and that the
 * message names the file and contains `needle`. */
static void expect_fail(const void *data, size_t size, const char *name, vitc_status want,
                        const char *needle)
{
    vitc_image *img = (vitc_image *)(uintptr_t)1;
    vitc_image *before = img;
    vitc_status st = vitc_image_load_memory(data, size, name, &img);
    CHECKF(st == want, "%s: status %d, want %d (%s)", name, (int)st, (int)want, vitc_last_error());
    CHECKF(img == before, "%s: *out written on failure", name);
    CHECKF(strstr(vitc_last_error(), name) != NULL, "%s: message '%s' lacks the name", name,
           vitc_last_error());
    CHECKF(strstr(vitc_last_error(), needle) != NULL, "%s: message '%s' lacks '%s'", name,
           vitc_last_error(), needle);
}

/* Same through a real file under $TMPDIR. */
static void expect_file_fail(const void *data, size_t size, vitc_status want, const char *needle)
{
    char path[256];
    snprintf(path, sizeof path, "%s/vitc_img_XXXXXX", getenv("TMPDIR") ? getenv("TMPDIR") : "/tmp");
    int fd = mkstemp(path);
    CHECK(fd >= 0);
    if (fd < 0) {
        return;
    }
    CHECK(size == 0 || write(fd, data, size) == (ssize_t)size);
    close(fd);
    vitc_image *img = NULL;
    CHECKF(vitc_image_load(path, &img) == want, "%s", vitc_last_error());
    CHECK(img == NULL);
    CHECKF(strstr(vitc_last_error(), path) != NULL && strstr(vitc_last_error(), needle) != NULL,
           "message '%s'", vitc_last_error());
    unlink(path);
}

/* ---- crafted headers ---- */

static void put_be32(uint8_t *p, uint32_t v)
{
    p[0] = (uint8_t)(v >> 24);
    p[1] = (uint8_t)(v >> 16);
    p[2] = (uint8_t)(v >> 8);
    p[3] = (uint8_t)v;
}

/* A PNG signature + IHDR declaring w x h RGB (CRC left zero: the size
 * must be refused before libpng checks anything). */
static size_t png_header(uint8_t *buf, uint32_t w, uint32_t h)
{
    static const uint8_t sig[8] = {0x89, 'P', 'N', 'G', '\r', '\n', 0x1a, '\n'};
    memcpy(buf, sig, 8);
    put_be32(buf + 8, 13);
    memcpy(buf + 12, "IHDR", 4);
    put_be32(buf + 16, w);
    put_be32(buf + 20, h);
    buf[24] = 8;
    buf[25] = 2;
    buf[26] = buf[27] = buf[28] = 0;
    put_be32(buf + 29, 0);
    return 33;
}

/* SOI, SOF0 (8-bit, 1 component, w x h), SOS: enough for jpeg_read_header. */
static size_t jpeg_header(uint8_t *buf, uint16_t w, uint16_t h)
{
    static const uint8_t head[] = {0xff, 0xd8, 0xff, 0xc0, 0, 11, 8};
    static const uint8_t tail[] = {1, 1, 0x11, 0, 0xff, 0xda, 0, 8, 1, 1, 0, 0, 63, 0};
    size_t n = 0;
    memcpy(buf, head, sizeof head);
    n += sizeof head;
    buf[n++] = (uint8_t)(h >> 8);
    buf[n++] = (uint8_t)h;
    buf[n++] = (uint8_t)(w >> 8);
    buf[n++] = (uint8_t)w;
    memcpy(buf + n, tail, sizeof tail);
    return n + sizeof tail;
}

static void put_le(uint8_t *p, uint32_t v, int bytes)
{
    for (int i = 0; i < bytes; i++) {
        p[i] = (uint8_t)(v >> 8 * i);
    }
}

/* A RIFF/WEBP file of one VP8X chunk declaring an animation on a w x h
 * canvas (24-bit sides), then an empty ANIM chunk and no frames. */
static size_t webp_vp8x_header(uint8_t *buf, uint32_t w, uint32_t h)
{
    memcpy(buf, "RIFF\0\0\0\0WEBPVP8X", 16);
    put_le(buf + 16, 10, 4);
    memset(buf + 20, 0, 4);
    buf[20] = 0x02; /* animation */
    put_le(buf + 24, w - 1, 3);
    put_le(buf + 27, h - 1, 3);
    memcpy(buf + 30, "ANIM", 4);
    put_le(buf + 34, 6, 4);
    memset(buf + 38, 0, 6);
    put_le(buf + 4, 44 - 8, 4);
    return 44;
}

/* A simple lossless WebP: its VP8L header alone (14-bit sides). */
static size_t webp_vp8l_header(uint8_t *buf, uint32_t w, uint32_t h)
{
    memcpy(buf, "RIFF\0\0\0\0WEBPVP8L", 16);
    put_le(buf + 16, 6, 4);
    buf[20] = 0x2f;
    put_le(buf + 21, (w - 1) | (h - 1) << 14, 4);
    buf[25] = 0;
    put_le(buf + 4, 26 - 8, 4);
    return 26;
}

/* A GIF whose screen is sw x sh and whose first frame is fw x fh at (x, y),
 * with no image data. */
static size_t gif_header(uint8_t *buf, uint16_t sw, uint16_t sh, uint16_t x, uint16_t y,
                         uint16_t fw, uint16_t fh)
{
    const uint16_t v[6] = {sw, sh, x, y, fw, fh};
    memcpy(buf, "GIF89a", 6);
    put_le(buf + 6, v[0], 2);
    put_le(buf + 8, v[1], 2);
    buf[10] = buf[11] = buf[12] = 0;
    buf[13] = ',';
    for (int i = 0; i < 4; i++) {
        put_le(buf + 14 + 2 * i, v[2 + i], 2);
    }
    buf[22] = 0; /* no local palette, not interlaced */
    buf[23] = 8; /* LZW code size */
    buf[24] = 0; /* no data */
    buf[25] = ';';
    return 26;
}

/* A BMP file header and a 40-byte info header for w x h at `bits` (height
 * negative: top-down), no palette, no pixels. */
static size_t bmp_header(uint8_t *buf, uint32_t w, uint32_t h, int bits, int compression)
{
    memset(buf, 0, 54);
    memcpy(buf, "BM", 2);
    put_le(buf + 2, 54, 4);
    put_le(buf + 10, 54, 4);
    put_le(buf + 14, 40, 4);
    put_le(buf + 18, w, 4);
    put_le(buf + 22, h, 4);
    put_le(buf + 26, 1, 2);
    put_le(buf + 28, (uint32_t)bits, 2);
    put_le(buf + 30, (uint32_t)compression, 4);
    return 54;
}

/* ---- tests ---- */

static void test_empty_and_garbage(void)
{
    uint8_t junk[512];
    uint32_t s = 12345;
    for (size_t i = 0; i < sizeof junk; i++) {
        s = s * 1103515245u + 12345u;
        junk[i] = (uint8_t)(s >> 16);
    }
    junk[0] = 0x42; /* not a magic byte of any format */
    expect_fail("", 0, "empty.png", VITC_ERR_FORMAT, "empty");
    expect_fail(junk, sizeof junk, "random.jpg", VITC_ERR_FORMAT, "not an image");
    expect_fail("\xff\xd8", 2, "short.jpg", VITC_ERR_FORMAT, "not an image");
    expect_fail("GIF89a\x01\x00\x01\x00", 10, "x.gif", VITC_ERR_FORMAT, "GIF");
    expect_fail("BM\x3a\0\0\0\0\0\0\0", 10, "x.bmp", VITC_ERR_FORMAT, "BMP");
    expect_fail("RIFF\0\0\0\0WEBPVP8 ", 16, "x.webp", VITC_ERR_FORMAT, "WebP");
    expect_fail("\0\0\0\x1c"
                "ftypheic\0\0\0\0",
                16, "x.heic", VITC_ERR_UNSUPPORTED, "HEIF");
    expect_fail("\0\0\0\x1c"
                "ftypavif\0\0\0\0",
                16, "x.avif", VITC_ERR_UNSUPPORTED, "AVIF");
    expect_fail("\xff\x4f\xff\x51\0\0", 6, "x.j2k", VITC_ERR_UNSUPPORTED, "JPEG 2000");
    expect_fail("II*\0\x08\0\0\0", 8, "x.tif", VITC_ERR_FORMAT, "TIFF");
    expect_fail("MM\0+\0\x08\0\0", 8, "big.tif", VITC_ERR_FORMAT, "TIFF");
    expect_file_fail("", 0, VITC_ERR_FORMAT, "empty");
    expect_file_fail(junk, sizeof junk, VITC_ERR_FORMAT, "not an image");
}

static void test_missing_paths(void)
{
    vitc_image *img = NULL;
    CHECK(vitc_image_load("tests/data/no-such-image.png", &img) == VITC_ERR_IO && img == NULL);
    CHECK(strstr(vitc_last_error(), "tests/data/no-such-image.png") != NULL);
    CHECK(strstr(vitc_last_error(), "No such file") != NULL);
    CHECK(vitc_image_load("tests/data", &img) == VITC_ERR_IO && img == NULL);
    CHECK(strstr(vitc_last_error(), "tests/data") != NULL);
    CHECK(vitc_image_load(NULL, &img) == VITC_ERR_INVALID_ARG);
    CHECK(vitc_image_load(IMAGES "/rgb.png", NULL) == VITC_ERR_INVALID_ARG);
    CHECK(vitc_image_load_memory(NULL, 10, "x", &img) == VITC_ERR_INVALID_ARG);
}

static void test_huge_and_zero_sizes(void)
{
    uint8_t buf[64];
    size_t n = png_header(buf, 100000, 100000);
    expect_fail(buf, n, "huge.png", VITC_ERR_FORMAT, "100000x100000 exceeds the 178956970-pixel");
    n = png_header(buf, 70000, 1);
    expect_fail(buf, n, "wide.png", VITC_ERR_FORMAT, "side limit");
    n = png_header(buf, 0, 10);
    expect_fail(buf, n, "zero.png", VITC_ERR_FORMAT, "0x10");
    n = png_header(buf, 0x80000000u, 1);
    expect_fail(buf, n, "neg.png", VITC_ERR_FORMAT, "exceeds");
    n = jpeg_header(buf, 20000, 20000);
    expect_fail(buf, n, "huge.jpg", VITC_ERR_FORMAT, "20000x20000 exceeds the 178956970-pixel");
    n = jpeg_header(buf, 65535, 65535); /* past libjpeg-turbo's own 65500 bound */
    expect_fail(buf, n, "huge.jpg", VITC_ERR_FORMAT, "huge.jpg");
    n = jpeg_header(buf, 0, 10);
    expect_fail(buf, n, "zero.jpg", VITC_ERR_FORMAT, "zero.jpg");
    expect_file_fail(buf, png_header(buf, 100000, 100000), VITC_ERR_FORMAT, "pixel limit");
    n = webp_vp8x_header(buf, 60000, 60000);
    expect_fail(buf, n, "huge.webp", VITC_ERR_FORMAT, "60000x60000 exceeds the 178956970-pixel");
    n = webp_vp8x_header(buf, 1 << 24, 1);
    expect_fail(buf, n, "wide.webp", VITC_ERR_FORMAT, "16777216x1 exceeds");
    n = webp_vp8l_header(buf, 16384, 16384);
    expect_fail(buf, n, "huge_lossless.webp", VITC_ERR_FORMAT, "16384x16384 exceeds");
    n = gif_header(buf, 65535, 65535, 0, 0, 10, 10);
    expect_fail(buf, n, "huge.gif", VITC_ERR_FORMAT, "65535x65535 exceeds the 178956970-pixel");
    n = gif_header(buf, 10, 10, 65535, 0, 65535, 1); /* the frame grows the screen */
    expect_fail(buf, n, "grows.gif", VITC_ERR_FORMAT, "131070x10 exceeds");
    n = gif_header(buf, 0, 0, 0, 0, 0, 0);
    expect_fail(buf, n, "zero.gif", VITC_ERR_FORMAT, "0x0");
    n = gif_header(buf, 40, 30, 0, 0, 40, 30);
    expect_fail(buf, n, "no_data.gif", VITC_ERR_FORMAT, "truncated");
    n = bmp_header(buf, 100000, 100000, 24, 0);
    expect_fail(buf, n, "huge.bmp", VITC_ERR_FORMAT, "100000x100000 exceeds the 178956970-pixel");
    n = bmp_header(buf, 70000, 1, 24, 0);
    expect_fail(buf, n, "wide.bmp", VITC_ERR_FORMAT, "side limit");
    n = bmp_header(buf, 10, 0xff000000u, 24, 0); /* top-down, 16777216 rows */
    expect_fail(buf, n, "tall.bmp", VITC_ERR_FORMAT, "10x16777216 exceeds");
    n = bmp_header(buf, 0, 10, 24, 0);
    expect_fail(buf, n, "zero.bmp", VITC_ERR_FORMAT, "0x10");
    n = bmp_header(buf, 4000, 4000, 24, 0);
    expect_fail(buf, n, "no_pixels.bmp", VITC_ERR_FORMAT, "truncated");
    n = bmp_header(buf, 4000, 4000, 24, 1); /* RLE8 on 24 bits */
    expect_fail(buf, n, "rle24.bmp", VITC_ERR_UNSUPPORTED, "RLE");
    n = bmp_header(buf, 8, 8, 24, 4); /* embedded JPEG */
    expect_fail(buf, n, "jpeg_in.bmp", VITC_ERR_UNSUPPORTED, "compression 4");
    n = bmp_header(buf, 8, 8, 2, 0);
    expect_fail(buf, n, "depth2.bmp", VITC_ERR_UNSUPPORTED, "2 bits");
    /* A graphic control block whose length byte promises data the file
     * lacks (a fuzzing finding: the flags byte was read past the end). */
    uint8_t *cut = malloc(16); /* exactly the file, so ASan sees a read past it */
    CHECK(cut != NULL);
    if (cut) {
        memcpy(cut, "GIF89a\x01\0\x01\0\0\0\0!\xf9\x04", 16);
        expect_fail(cut, 16, "gce_cut.gif", VITC_ERR_FORMAT, "graphic control");
        free(cut);
    }
    n = webp_vp8l_header(buf, 64, 64);
    expect_fail(buf, n, "no_data.webp", VITC_ERR_FORMAT, "no_data.webp");
}

static void test_truncated(void)
{
    static const char *files[] = {"photo_progressive.jpg",
                                  "photo_baseline_exif.jpg",
                                  "rgb.png",
                                  "palette_trns.png",
                                  "gray16.png",
                                  "cmyk.jpg"};
    for (size_t i = 0; i < sizeof files / sizeof files[0]; i++) {
        char path[256];
        size_t size = 0;
        snprintf(path, sizeof path, IMAGES "/%s", files[i]);
        uint8_t *data = read_all(path, &size);
        CHECK(data != NULL);
        if (!data) {
            continue;
        }
        expect_fail(data, size / 2, files[i], VITC_ERR_FORMAT, "truncated");
        expect_fail(data, 40, files[i], VITC_ERR_FORMAT, files[i]);
        expect_fail(data, 9, files[i], VITC_ERR_FORMAT, files[i]);
        free(data);
    }
    static const char *formats[] = {"lossy.webp",     "lossless_alpha.webp",
                                    "anim.webp",      "orient6.webp",
                                    "interlaced.gif", "trns.gif",
                                    "rgb.bmp",        "p.bmp",
                                    "bw.bmp",         "rgb_lzw.tif",
                                    "tiled.tif",      "p.tif",
                                    "orient6.tif"};
    for (size_t i = 0; i < sizeof formats / sizeof formats[0]; i++) {
        char path[256];
        size_t size = 0;
        snprintf(path, sizeof path, FORMATS "/%s", formats[i]);
        uint8_t *data = read_all(path, &size);
        CHECKF(data != NULL, "%s", path);
        if (!data) {
            continue;
        }
        /* A GIF cut after its image data (a terminator, the trailer) still
         * decodes, as in Pillow. */
        size_t end = strstr(formats[i], ".gif") ? size - 2 : size;
        for (size_t cut = 1; cut < end; cut += 1 + cut / 3) {
            expect_fail(data, cut, formats[i], VITC_ERR_FORMAT, formats[i]);
        }
        free(data);
    }
}

static void test_decode_fixtures(void)
{
    static const struct {
        const char *file;
        int w, h;
    } want[] = {
        {"photo_progressive.jpg", 720, 477},
        {"exif_orient6.jpg", 200, 320},
        {"gray16.png", 200, 150},
        {"tiny_1x1.png", 1, 1},
        {"tall_40x3000.jpg", 40, 3000},
        {"palette_trns.png", 280, 210},
        {"../../formats/lossy.webp", 48, 32},
        {"../../formats/lossless_alpha.webp", 48, 32},
        {"../../formats/anim.webp", 24, 16},
        {"../../formats/orient6.webp", 32, 48},
        {"../../formats/interlaced.gif", 48, 32},
        {"../../formats/anim.gif", 24, 16},
        {"../../formats/rgb.bmp", 48, 32},
        {"../../formats/p.bmp", 48, 32},
        {"../../formats/rgb_lzw.tif", 48, 32},
        {"../../formats/tiled.tif", 48, 32},
        {"../../formats/p.tif", 48, 32},
        {"../../formats/orient6.tif", 48, 32}, /* turned twice, as Pillow 9.4 does */
    };
    for (size_t i = 0; i < sizeof want / sizeof want[0]; i++) {
        char path[256];
        vitc_image *img = NULL;
        snprintf(path, sizeof path, IMAGES "/%s", want[i].file);
        CHECKF(vitc_image_load(path, &img) == VITC_OK, "%s", vitc_last_error());
        CHECKF(img && img->width == want[i].w && img->height == want[i].h &&
                   img->stride == (size_t)want[i].w * 3,
               "%s", want[i].file);
        vitc_image_free(img);
    }
    vitc_image *img = NULL;
    CHECK(vitc_image_load(IMAGES "/tiny_1x1.png", &img) == VITC_OK);
    CHECK(img && img->data[0] == 200 && img->data[1] == 100 && img->data[2] == 50);
    vitc_image_free(img);
    vitc_image_free(NULL);
}

static void test_image_new(void)
{
    vitc_image *img = NULL;
    CHECK(vitc_image_new(3, 2, &img) == VITC_OK);
    CHECK(img && img->width == 3 && img->height == 2 && img->stride == 9);
    CHECK(img && img->data[17] == 0);
    vitc_image_free(img);
    img = NULL;
    CHECK(vitc_image_new(0, 2, &img) == VITC_ERR_INVALID_ARG && img == NULL);
    CHECK(vitc_image_new(65536, 65536, &img) == VITC_ERR_FORMAT && img == NULL);
    CHECK(vitc_image_new(1, 1, NULL) == VITC_ERR_INVALID_ARG);
}

/* Every allocation of a decode (and of a resize) failing in turn gives
 * NOMEM and leaks nothing; the run without failure succeeds. */
static void test_alloc_failures(void)
{
    static const char *files[] = {"rgb.png",
                                  "photo_baseline_exif.jpg",
                                  "exif_orient6.jpg",
                                  "../../formats/orient6.webp",
                                  "../../formats/trns.gif",
                                  "../../formats/p.bmp",
                                  "../../formats/tiled.tif",
                                  "../../formats/orient6.tif"};
    for (size_t i = 0; i < sizeof files / sizeof files[0]; i++) {
        char path[256];
        snprintf(path, sizeof path, IMAGES "/%s", files[i]);
        int done = 0;
        for (size_t k = 1; k < 200 && !done; k++) {
            vitc_image *img = NULL, *small = NULL;
            vitc_test_fail_alloc_after(k);
            vitc_status st = vitc_image_load(path, &img);
            if (st == VITC_OK) {
                st = vitc_image_resize(img, 31, 17, VITC_RESAMPLE_BICUBIC, &small);
            }
            vitc_test_fail_alloc_after(0);
            CHECKF(st == VITC_OK || st == VITC_ERR_NOMEM, "%s k=%zu: %d %s", files[i], k, (int)st,
                   vitc_last_error());
            done = st == VITC_OK;
            vitc_image_free(small);
            vitc_image_free(img);
        }
        CHECKF(done, "%s never succeeded", files[i]);
    }
}

/* Flipped bytes anywhere must give OK or FORMAT, never a crash. */
static void test_damaged(void)
{
    static const char *files[] = {"photo_progressive.jpg",
                                  "cmyk.jpg",
                                  "rgba.png",
                                  "palette_trns.png",
                                  "gray16.png",
                                  "exif_orient6.jpg",
                                  "../../formats/lossy.webp",
                                  "../../formats/lossless_alpha.webp",
                                  "../../formats/anim.webp",
                                  "../../formats/interlaced.gif",
                                  "../../formats/trns.gif",
                                  "../../formats/p.bmp",
                                  "../../formats/rgb_lzw.tif",
                                  "../../formats/tiled.tif"};
    uint32_t s = 777;
    for (size_t i = 0; i < sizeof files / sizeof files[0]; i++) {
        char path[256];
        size_t size = 0;
        snprintf(path, sizeof path, IMAGES "/%s", files[i]);
        uint8_t *data = read_all(path, &size);
        CHECK(data != NULL);
        if (!data) {
            continue;
        }
        uint8_t *copy = malloc(size);
        for (int round = 0; round < 40; round++) {
            memcpy(copy, data, size);
            for (int j = 0; j < 1 + round % 4; j++) {
                s = s * 1103515245u + 12345u;
                /* Mostly the headers, where parsing decisions are made. */
                size_t at = round % 2 ? (s >> 8) % size : (s >> 8) % (size < 600 ? size : 600);
                copy[at] ^= (uint8_t)(1u << (s % 8));
            }
            vitc_image *img = NULL;
            vitc_status st = vitc_image_load_memory(copy, size, files[i], &img);
            CHECKF(st == VITC_OK || st == VITC_ERR_FORMAT || st == VITC_ERR_UNSUPPORTED,
                   "%s round %d: %d %s", files[i], round, (int)st, vitc_last_error());
            CHECK((st == VITC_OK) == (img != NULL));
            vitc_image_free(img);
        }
        free(copy);
        free(data);
    }
}

/* TIFF: tiles decode to the same pixels as strips, the orientation tag
 * turns the image twice (6 then 6: half a turn), and lying or oversized
 * files are refused before their pixels are allocated. */
static void test_tiff(void)
{
    vitc_image *strips = NULL, *tiles = NULL, *turned = NULL, *img = NULL;
    CHECK(vitc_image_load(FORMATS "/rgb_lzw.tif", &strips) == VITC_OK);
    CHECK(vitc_image_load(FORMATS "/tiled.tif", &tiles) == VITC_OK);
    CHECK(vitc_image_load(FORMATS "/orient6.tif", &turned) == VITC_OK);
    if (strips && tiles && turned) {
        int same = 1, half_turn = 1;
        for (int y = 0; y < strips->height; y++) {
            for (int x = 0; x < strips->width * 3; x++) {
                uint8_t v = strips->data[(size_t)y * strips->stride + (size_t)x];
                int rx = (strips->width - 1 - x / 3) * 3 + x % 3, ry = strips->height - 1 - y;
                same &= tiles->data[(size_t)y * tiles->stride + (size_t)x] == v;
                half_turn &= turned->data[(size_t)ry * turned->stride + (size_t)rx] == v;
            }
        }
        CHECK(same);
        CHECK(half_turn);
    }
    vitc_image_free(strips);
    vitc_image_free(tiles);
    vitc_image_free(turned);
    static const struct {
        const char *file, *why;
        vitc_status st;
    } bad[] = {
        {"bad_huge.tif", "60000x60000 exceeds the 178956970-pixel limit", VITC_ERR_FORMAT},
        {"bad_offset.tif", "bad_offset.tif: corrupt TIFF (strip data", VITC_ERR_FORMAT},
        {"bad_short_strip.tif", "bad_short_strip.tif: corrupt TIFF", VITC_ERR_FORMAT},
        {"bad_no_strips.tif", "StripOffsets", VITC_ERR_FORMAT},
        {"bad_tile.tif", "TIFF tiles of 32768x32768 for a 8x8 image", VITC_ERR_FORMAT},
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        char path[256];
        snprintf(path, sizeof path, FORMATS "/%s", bad[i].file);
        vitc_status st = vitc_image_load(path, &img);
        CHECKF(st == bad[i].st && img == NULL && strstr(vitc_last_error(), bad[i].why), "%s: %d %s",
               bad[i].file, (int)st, vitc_last_error());
    }
    /* 4 MiB of deflated zeros for a 4 KiB strip: libtiff stops at the
     * strip, as in Pillow, and the image is the 64x64 it declares. */
    CHECK(vitc_image_load(FORMATS "/bad_bomb.tif", &img) == VITC_OK);
    CHECK(img && img->width == 64 && img->height == 64 && img->data[0] == 0);
    vitc_image_free(img);
}

int main(void)
{
    RUN(test_empty_and_garbage);
    RUN(test_missing_paths);
    RUN(test_huge_and_zero_sizes);
    RUN(test_truncated);
    RUN(test_decode_fixtures);
    RUN(test_image_new);
    RUN(test_alloc_failures);
    RUN(test_damaged);
    RUN(test_tiff);
    return TEST_REPORT();
}
