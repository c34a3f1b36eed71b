/* SPDX-License-Identifier: MIT
 *
 * resample.c — vitc_image_resize: Pillow 9.4's Image.resize((W, H), filter)
 * on an 8-bit RGB image, bit for bit. The convolution filters are a port of
 * libImaging/Resample.c (precompute_coeffs, normalize_coeffs_8bpc, the
 * horizontal-then-vertical 8bpc passes, whose kernels are
 * resample_kernels.h's, chosen from the CPU); NEAREST follows _imaging.c's
 * _resize into Geometry.c's ImagingScaleAffine. Preprocessing layer: works
 * on pixels only, knows no files.
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "base/cpu_features.h"
#include "base/err.h"
#include "image/pixels.h"
#include "preprocess/resample_kernels.h"

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

/* ---- coefficients ---- */

/* The taps and their layout are resample_kernels.h's. */
#define PRECISION_BITS VITC_RESAMPLE_PRECISION_BITS

static void coeffs_free(struct vitc_resample_coeffs *c)
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
                               const struct filter *f, struct vitc_resample_coeffs *c)
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

/* ---- kernel choice ---- */

const struct vitc_resample_kernels *vitc_resample_kernels_select(void)
{
    enum vitc_cpu_isa isa = vitc_cpu_best();
    enum vitc_cpu_isa want;
    if (vitc_cpu_isa_from_name(getenv("VITC_CPU"), &want) && vitc_cpu_has(want)) {
        isa = want;
    }
    switch (isa) {
#if defined(__x86_64__)
    case VITC_ISA_AVX512:
        return &vitc_resample_avx512;
    case VITC_ISA_AVX2:
        return &vitc_resample_avx2;
#endif
    default:
        return &vitc_resample_ref;
    }
}

/* ---- the passes ---- */

/* Both passes, the horizontal one feeding the vertical one through a
 * window of rows (win = 2 * the most taps + 8): each output row's taps are
 * a run of intermediate rows that only moves down, so the window keeps the
 * rows still needed, slides them to its top when the next run would pass
 * its end, and is filled ahead in large blocks. The rows and sums are those
 * of the whole intermediate image Pillow makes; the window stays in cache
 * and is small enough not to need fresh pages from the OS on every call. */
static vitc_status both_passes(const struct vitc_resample_kernels *kern, const vitc_image *src,
                               const struct vitc_resample_coeffs *ch,
                               const struct vitc_resample_coeffs *cv, vitc_image *dst)
{
    int height = dst->height;
    int first = cv->bounds[0];
    int last = cv->bounds[height * 2 - 2] + cv->bounds[height * 2 - 1];
    size_t rs = (size_t)dst->width * 3; /* bytes of an intermediate row */
    int most = 0;
    for (int i = 0; i < height; i++) {
        most = cv->bounds[i * 2 + 1] > most ? cv->bounds[i * 2 + 1] : most;
    }
    int win = 2 * most + 8 < last - first ? 2 * most + 8 : last - first;
    /* win rows of a width within the image limits: no overflow */
    uint8_t *buf = vitc_mem_alloc((size_t)win * rs);
    if (!buf) {
        return vitc_error(VITC_ERR_NOMEM, "resize: out of memory");
    }
    int base = first, done = first; /* buf holds source rows [base, done) */
    for (int yy = 0; yy < height; yy++) {
        int ymin = cv->bounds[yy * 2], n = cv->bounds[yy * 2 + 1];
        if (ymin + n > base + win) {
            if (done > ymin) {
                memmove(buf, buf + (size_t)(ymin - base) * rs, (size_t)(done - ymin) * rs);
            } else {
                done = ymin; /* rows no output reads */
            }
            base = ymin;
        }
        if (done < ymin + n) {
            int to = base + win < last ? base + win : last;
            kern->horizontal(src->data + (size_t)done * src->stride, src->stride,
                             buf + (size_t)(done - base) * rs, rs, dst->width, to - done, ch);
            done = to;
        }
        int taps[2] = {0, n};
        struct vitc_resample_coeffs one = {cv->ksize, taps, cv->k + (size_t)yy * cv->ksize};
        kern->vertical(buf + (size_t)(ymin - base) * rs, rs, dst->data + (size_t)yy * dst->stride,
                       dst->stride, (int)rs, 1, &one);
    }
    vitc_mem_free(buf);
    return VITC_OK;
}

/* ImagingResampleInner with the default box (0, 0, width, height). Only the
 * input rows the vertical pass reads get a horizontal pass. */
static vitc_status resample(const vitc_image *src, int width, int height, const struct filter *f,
                            vitc_image **out)
{
    const struct vitc_resample_kernels *kern = vitc_resample_kernels_select();
    struct vitc_resample_coeffs ch = {0, NULL, NULL}, cv = {0, NULL, NULL};
    vitc_image *dst = NULL;
    int need_h = width != src->width, need_v = height != src->height;
    vitc_status st;

    st = coeffs_make(src->height, 0.0f, (float)src->height, height, f, &cv);
    if (st == VITC_OK && need_h) {
        st = coeffs_make(src->width, 0.0f, (float)src->width, width, f, &ch);
    }
    if (st != VITC_OK) {
        goto done;
    }
    if (need_h && !need_v) {
        int first = cv.bounds[0];
        int last = cv.bounds[height * 2 - 2] + cv.bounds[height * 2 - 1];
        st = vitc_image_alloc("resize", width, last - first, &dst);
        if (st == VITC_OK) {
            kern->horizontal(src->data + (size_t)first * src->stride, src->stride, dst->data,
                             dst->stride, width, last - first, &ch);
        }
    } else {
        st = vitc_image_alloc("resize", width, height, &dst);
        if (st == VITC_OK && need_h) {
            st = both_passes(kern, src, &ch, &cv, dst);
        } else if (st == VITC_OK) {
            kern->vertical(src->data, src->stride, dst->data, dst->stride, width * 3, height, &cv);
        }
    }
    if (st == VITC_OK) {
        *out = dst;
        dst = NULL;
    }
done:
    vitc_image_free(dst);
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
