/* SPDX-License-Identifier: MIT
 *
 * resample.c — vitc_image_resize: Pillow 9.4's Image.resize((W, H), filter)
 * on an 8-bit RGB image, bit for bit. The convolution filters are a port of
 * libImaging/Resample.c (precompute_coeffs, normalize_coeffs_8bpc, the
 * horizontal-then-vertical 8bpc passes); NEAREST follows _imaging.c's
 * _resize into Geometry.c's ImagingScaleAffine. Preprocessing layer: works
 * on pixels only, knows no files.
 */
#include <math.h>
#include <string.h>

#include "base/err.h"
#include "image/pixels.h"

/* ---- filters (Resample.c) ---- */

struct filter {
    double (*fn)(double x);
    double support;
};

static double box_filter(double x)
{
    return x > -0.5 && x <= 0.5 ? 1.0 : 0.0;
}

static double bilinear_filter(double x)
{
    x = x < 0.0 ? -x : x;
    return x < 1.0 ? 1.0 - x : 0.0;
}

static double hamming_filter(double x)
{
    x = x < 0.0 ? -x : x;
    if (x == 0.0) {
        return 1.0;
    }
    if (x >= 1.0) {
        return 0.0;
    }
    x = x * M_PI;
    /* The float constants are Pillow's: they round 0.54 and 0.46 to float. */
    return sin(x) / x * (0.54f + 0.46f * cos(x));
}

static double bicubic_filter(double x)
{
    /* Keys' cubic convolution with a = -0.5. */
    const double a = -0.5;
    x = x < 0.0 ? -x : x;
    if (x < 1.0) {
        return ((a + 2.0) * x - (a + 3.0)) * x * x + 1;
    }
    if (x < 2.0) {
        return (((x - 5) * x + 8) * x - 4) * a;
    }
    return 0.0;
}

static double sinc_filter(double x)
{
    if (x == 0.0) {
        return 1.0;
    }
    x = x * M_PI;
    return sin(x) / x;
}

static double lanczos_filter(double x)
{
    /* sinc windowed by sinc, 3 lobes */
    return -3.0 <= x && x < 3.0 ? sinc_filter(x) * sinc_filter(x / 3) : 0.0;
}

/* Indexed by vitc_resample; NEAREST (0) takes the affine path instead. */
static const struct filter filters[6] = {
    {NULL, 0.0},           {lanczos_filter, 3.0}, {bilinear_filter, 1.0},
    {bicubic_filter, 2.0}, {box_filter, 0.5},     {hamming_filter, 1.0},
};

/* 8 bits of result, and 2 more for the overshoot of filters with negative
 * lobes (sums below 0 or above 1), in a 32-bit int. */
#define PRECISION_BITS (32 - 8 - 2)

/* Pillow's clip8: its lookup table is a clamp of (ss >> PRECISION_BITS).
 * Right shift of a negative int is arithmetic with the compilers vitc
 * supports, as Pillow itself assumes. */
static inline uint8_t clip8(int ss)
{
    int v = ss >> PRECISION_BITS;
    return (uint8_t)(v < 0 ? 0 : v > 255 ? 255 : v);
}

/* ---- coefficients ---- */

/* One pass's taps: for output o, k[o*ksize .. +n[o]) apply to input
 * samples first[o] .. first[o]+n[o]-1. */
struct coeffs {
    int ksize;
    int *bounds; /* (out_size, 2): first input index, tap count */
    int32_t *k;  /* (out_size, ksize) fixed point, PRECISION_BITS   */
};

static void coeffs_free(struct coeffs *c)
{
    vitc_mem_free(c->bounds);
    vitc_mem_free(c->k);
    c->bounds = NULL;
    c->k = NULL;
}

/* precompute_coeffs + normalize_coeffs_8bpc for the box [in0, in1) of an
 * axis of in_size samples mapped onto out_size samples. The arithmetic
 * (float box edges, double weights, sequential sums, truncating casts) is
 * Pillow's, since any change moves pixels by one. */
static vitc_status coeffs_make(int in_size, float in0, float in1, int out_size,
                               const struct filter *f, struct coeffs *c)
{
    double support, scale, filterscale, center, ww, ss;
    double *w = NULL;
    size_t n_k;
    int ksize;

    filterscale = scale = (double)(in1 - in0) / out_size;
    if (filterscale < 1.0) {
        filterscale = 1.0;
    }
    support = f->support * filterscale;
    ksize = (int)ceil(support) * 2 + 1;
    if (vitc_mul_size((size_t)out_size, (size_t)ksize, &n_k) || n_k > SIZE_MAX / sizeof(double)) {
        return vitc_error(VITC_ERR_NOMEM, "resize: coefficient table too large");
    }
    w = vitc_mem_alloc(ksize * sizeof(double));
    c->k = vitc_mem_calloc(n_k, sizeof(int32_t));
    c->bounds = vitc_mem_alloc((size_t)out_size * 2 * sizeof(int));
    if (!w || !c->k || !c->bounds) {
        vitc_mem_free(w);
        coeffs_free(c);
        return vitc_error(VITC_ERR_NOMEM, "resize: out of memory");
    }
    c->ksize = ksize;
    for (int xx = 0; xx < out_size; xx++) {
        int xmin, xmax, x;
        center = in0 + (xx + 0.5) * scale;
        ww = 0.0;
        ss = 1.0 / filterscale;
        xmin = (int)(center - support + 0.5);
        if (xmin < 0) {
            xmin = 0;
        }
        xmax = (int)(center + support + 0.5);
        if (xmax > in_size) {
            xmax = in_size;
        }
        xmax -= xmin;
        for (x = 0; x < xmax; x++) {
            w[x] = f->fn((x + xmin - center + 0.5) * ss);
            ww += w[x];
        }
        int32_t *k = &c->k[(size_t)xx * ksize];
        for (x = 0; x < xmax; x++) {
            double v = ww != 0.0 ? w[x] / ww : w[x];
            k[x] = v < 0 ? (int32_t)(-0.5 + v * (1 << PRECISION_BITS))
                         : (int32_t)(0.5 + v * (1 << PRECISION_BITS));
        }
        c->bounds[xx * 2 + 0] = xmin;
        c->bounds[xx * 2 + 1] = xmax;
    }
    vitc_mem_free(w);
    return VITC_OK;
}

/* ---- passes (ImagingResampleHorizontal_8bpc / Vertical_8bpc) ---- */

/* out row r = horizontal pass over in row (r + offset). */
static void pass_horizontal(const vitc_image *in, vitc_image *out, int offset,
                            const struct coeffs *c)
{
    for (int yy = 0; yy < out->height; yy++) {
        const uint8_t *src = in->data + (size_t)(yy + offset) * in->stride;
        uint8_t *dst = out->data + (size_t)yy * out->stride;
        for (int xx = 0; xx < out->width; xx++) {
            int xmin = c->bounds[xx * 2], n = c->bounds[xx * 2 + 1];
            const int32_t *k = &c->k[(size_t)xx * c->ksize];
            const uint8_t *s = src + (size_t)xmin * 3;
            int ss0 = 1 << (PRECISION_BITS - 1), ss1 = ss0, ss2 = ss0;
            for (int x = 0; x < n; x++) {
                ss0 += s[3 * x + 0] * k[x];
                ss1 += s[3 * x + 1] * k[x];
                ss2 += s[3 * x + 2] * k[x];
            }
            dst[3 * xx + 0] = clip8(ss0);
            dst[3 * xx + 1] = clip8(ss1);
            dst[3 * xx + 2] = clip8(ss2);
        }
    }
}

/* bounds are relative to in's first row. */
static void pass_vertical(const vitc_image *in, vitc_image *out, const struct coeffs *c)
{
    for (int yy = 0; yy < out->height; yy++) {
        int ymin = c->bounds[yy * 2], n = c->bounds[yy * 2 + 1];
        const int32_t *k = &c->k[(size_t)yy * c->ksize];
        uint8_t *dst = out->data + (size_t)yy * out->stride;
        for (int xx = 0; xx < out->width * 3; xx++) {
            int ss = 1 << (PRECISION_BITS - 1);
            for (int y = 0; y < n; y++) {
                ss += in->data[(size_t)(y + ymin) * in->stride + xx] * k[y];
            }
            dst[xx] = clip8(ss);
        }
    }
}

/* ImagingResampleInner with the default box (0, 0, width, height). */
static vitc_status resample(const vitc_image *src, int width, int height, const struct filter *f,
                            vitc_image **out)
{
    struct coeffs ch = {0, NULL, NULL}, cv = {0, NULL, NULL};
    vitc_image *tmp = NULL, *dst = NULL;
    const vitc_image *in = src;
    int need_h = width != src->width, need_v = height != src->height;
    vitc_status st;

    st = coeffs_make(src->height, 0.0f, (float)src->height, height, f, &cv);
    if (st != VITC_OK) {
        goto done;
    }
    if (need_h) {
        /* Only the input rows the vertical pass reads get a horizontal pass. */
        int first = cv.bounds[0];
        int last = cv.bounds[height * 2 - 2] + cv.bounds[height * 2 - 1];
        st = coeffs_make(src->width, 0.0f, (float)src->width, width, f, &ch);
        if (st == VITC_OK) {
            st = vitc_image_alloc("resize", width, last - first, &tmp);
        }
        if (st != VITC_OK) {
            goto done;
        }
        for (int i = 0; i < height; i++) {
            cv.bounds[i * 2] -= first;
        }
        pass_horizontal(src, tmp, first, &ch);
        in = tmp;
    }
    if (need_v) {
        st = vitc_image_alloc("resize", in->width, height, &dst);
        if (st != VITC_OK) {
            goto done;
        }
        pass_vertical(in, dst, &cv);
    } else {
        dst = tmp;
        tmp = NULL;
    }
    *out = dst;
done:
    vitc_image_free(tmp);
    coeffs_free(&ch);
    coeffs_free(&cv);
    return st;
}

/* ---- NEAREST (Geometry.c ImagingScaleAffine) ---- */

/* Pillow's COORD: -1 for negatives, else truncation. */
static int coord(double v)
{
    return v < 0.0 ? -1 : (int)v;
}

/* The affine scale a = (in/out, 0, 0; 0, in/out, 0), sampled at pixel
 * centres by repeated addition (so the float drift is Pillow's), pixels
 * that map outside the source left black. */
static vitc_status nearest(const vitc_image *src, int width, int height, vitc_image **out)
{
    vitc_image *dst = NULL;
    int *xin = NULL;
    double a0 = (double)((float)src->width - 0.0f) / width;
    double a4 = (double)((float)src->height - 0.0f) / height;
    double xo = 0.0 + a0 * 0.5, yo = 0.0 + a4 * 0.5;
    int xmin = width, xmax = 0;
    vitc_status st = vitc_image_alloc("resize", width, height, &dst);

    if (st != VITC_OK) {
        return st;
    }
    xin = vitc_mem_calloc((size_t)width, sizeof *xin);
    if (!xin) {
        vitc_image_free(dst);
        return vitc_error(VITC_ERR_NOMEM, "resize: out of memory");
    }
    for (int x = 0; x < width; x++) {
        int xi = coord(xo);
        if (xi >= 0 && xi < src->width) {
            xmax = x + 1;
            if (x < xmin) {
                xmin = x;
            }
            xin[x] = xi;
        }
        xo += a0;
    }
    for (int y = 0; y < height; y++) {
        int yi = coord(yo);
        if (yi >= 0 && yi < src->height) {
            const uint8_t *s = src->data + (size_t)yi * src->stride;
            uint8_t *d = dst->data + (size_t)y * dst->stride;
            for (int x = xmin; x < xmax; x++) {
                memcpy(d + 3 * (size_t)x, s + 3 * (size_t)xin[x], 3);
            }
        }
        yo += a4;
    }
    vitc_mem_free(xin);
    *out = dst;
    return VITC_OK;
}

/* ---- entry point ---- */

vitc_status vitc_image_resize(const vitc_image *src, int width, int height, int resample_filter,
                              vitc_image **out)
{
    vitc_image *dst = NULL;
    vitc_status st;

    if (!src || !out || !src->data) {
        return vitc_error(VITC_ERR_INVALID_ARG, "vitc_image_resize: NULL argument");
    }
    if (src->width <= 0 || src->height <= 0 || src->stride / 3 < (size_t)src->width) {
        return vitc_error(VITC_ERR_INVALID_ARG,
                          "vitc_image_resize: bad source image %dx%d with stride %zu", src->width,
                          src->height, src->stride);
    }
    if (width <= 0 || height <= 0) {
        return vitc_error(VITC_ERR_INVALID_ARG, "vitc_image_resize: invalid size %dx%d", width,
                          height);
    }
    if (resample_filter < VITC_RESAMPLE_NEAREST || resample_filter > VITC_RESAMPLE_HAMMING) {
        return vitc_error(VITC_ERR_INVALID_ARG, "vitc_image_resize: unknown filter %d",
                          resample_filter);
    }
    if (width == src->width && height == src->height) {
        /* Image.resize returns a copy when nothing changes. */
        st = vitc_image_alloc("resize", width, height, &dst);
        if (st != VITC_OK) {
            return st;
        }
        for (int y = 0; y < height; y++) {
            memcpy(dst->data + (size_t)y * dst->stride, src->data + (size_t)y * src->stride,
                   (size_t)width * 3);
        }
        *out = dst;
        return VITC_OK;
    }
    if (resample_filter == VITC_RESAMPLE_NEAREST) {
        return nearest(src, width, height, out);
    }
    return resample(src, width, height, &filters[resample_filter], out);
}
