/* SPDX-License-Identifier: MIT
 *
 * preprocess.c — vitc_preprocess: transformers' image processors (ViT,
 * DeiT, CLIP, Bit, SigLIP) on one RGB image: resize with Pillow (to a size
 * or by the shortest edge), center crop, rescale, normalize, HWC -> CHW
 * float32. Preprocessing layer: no file I/O; the resize is resample.c.
 *
 * The decoded image is always taken as (height, width, 3). transformers
 * guesses the channel axis of the numpy array instead and takes an image 1
 * or 3 pixels high for channels-first; that guess is a bug and is not
 * reproduced here.
 */
#include <math.h>
#include <string.h>

#include "base/err.h"

/* The float each u8 value becomes, per channel. The result depends only on
 * the value, so a 256-entry table is exact:
 *   rescale (image_transforms.rescale): float32(float64(u8) * factor)
 *   without rescale, normalize casts the uint8 array to float32 first;
 *   normalize: (x - float32(mean[c])) / float32(std[c]) in float32. */
static void make_table(const vitc_preprocess_params *p, float table[3][256])
{
    for (int c = 0; c < 3; c++) {
        float mean = (float)p->image_mean[c];
        float std = (float)p->image_std[c];
        for (int v = 0; v < 256; v++) {
            float x = p->do_rescale ? (float)((double)v * p->rescale_factor) : (float)v;
            if (p->do_normalize) {
                x = (x - mean) / std;
            }
            table[c][v] = x;
        }
    }
}

static vitc_status check_params(const vitc_preprocess_params *p)
{
    if (p->do_center_crop &&
        (p->crop_width <= 0 || p->crop_height <= 0 || p->crop_width > (int)VITC_MAX_IMAGE_SIDE ||
         p->crop_height > (int)VITC_MAX_IMAGE_SIDE)) {
        return vitc_error(VITC_ERR_INVALID_ARG, "vitc_preprocess: invalid crop size %dx%d",
                          p->crop_width, p->crop_height);
    }
    if (p->do_resize && p->shortest_edge > (int)VITC_MAX_IMAGE_SIDE) {
        return vitc_error(VITC_ERR_INVALID_ARG, "vitc_preprocess: invalid shortest_edge %d",
                          p->shortest_edge);
    }
    if (p->do_resize && p->shortest_edge <= 0) {
        if (p->width <= 0 || p->height <= 0 || p->width > (int)VITC_MAX_IMAGE_SIDE ||
            p->height > (int)VITC_MAX_IMAGE_SIDE) {
            return vitc_error(VITC_ERR_INVALID_ARG, "vitc_preprocess: invalid size %dx%d", p->width,
                              p->height);
        }
        if (p->resample < VITC_RESAMPLE_NEAREST || p->resample > VITC_RESAMPLE_HAMMING) {
            return vitc_error(VITC_ERR_INVALID_ARG, "vitc_preprocess: unknown resample filter %d",
                              p->resample);
        }
    }
    if (p->do_rescale && !isfinite(p->rescale_factor)) {
        return vitc_error(VITC_ERR_INVALID_ARG, "vitc_preprocess: rescale_factor is not finite");
    }
    if (p->do_normalize) {
        for (int c = 0; c < 3; c++) {
            if (!isfinite(p->image_mean[c]) || !isfinite(p->image_std[c]) ||
                p->image_std[c] == 0.0) {
                return vitc_error(VITC_ERR_INVALID_ARG,
                                  "vitc_preprocess: image_mean/image_std[%d] unusable (std %g)", c,
                                  p->image_std[c]);
            }
        }
    }
    return VITC_OK;
}

/* get_resize_output_image_size with default_to_square false: the short
 * side becomes s, the long side int(s * long / short) in float64 (which
 * truncates, like the integer floor for these sizes). */
static void shortest_edge_size(int s, int w, int h, int *ow, int *oh)
{
    int shrt = w <= h ? w : h, lng = w <= h ? h : w;
    int other = (int)((double)((long long)s * lng) / (double)shrt);
    *ow = w <= h ? s : other;
    *oh = w <= h ? other : s;
}

/* The resize step's output size for an image of w x h. */
static void resize_size(const vitc_preprocess_params *p, int w, int h, int *ow, int *oh)
{
    *ow = w;
    *oh = h;
    if (!p->do_resize) {
        return;
    }
    if (p->shortest_edge > 0) {
        shortest_edge_size(p->shortest_edge, w, h, ow, oh);
    } else {
        *ow = p->width;
        *oh = p->height;
    }
}

bool vitc_preprocess_fixed_size(const vitc_preprocess_params *p, int *out_width, int *out_height)
{
    if (!p) {
        return false;
    }
    if (p->do_center_crop) {
        *out_width = p->crop_width;
        *out_height = p->crop_height;
        return true;
    }
    if (p->do_resize && p->shortest_edge <= 0) {
        *out_width = p->width;
        *out_height = p->height;
        return true;
    }
    return false;
}

vitc_status vitc_preprocess_output_size(const vitc_preprocess_params *p, int width, int height,
                                        int *out_width, int *out_height)
{
    if (!p || !out_width || !out_height || width <= 0 || height <= 0) {
        return vitc_error(VITC_ERR_INVALID_ARG, "vitc_preprocess_output_size: bad argument");
    }
    if (!vitc_preprocess_fixed_size(p, out_width, out_height)) {
        resize_size(p, width, height, out_width, out_height);
    }
    return VITC_OK;
}

/* transformers' center_crop on the uint8 image: top = floor((h - ch) / 2),
 * left likewise (an odd difference drops the extra row / column at the
 * bottom / right); a crop larger than the image pads with zeros, the image
 * placed at ceil((ch - h) / 2). */
static vitc_status center_crop(const vitc_image *in, int cw, int ch, vitc_image **out)
{
    vitc_image *o = NULL;
    vitc_status st = vitc_image_new(cw, ch, &o);
    if (st != VITC_OK) {
        return st;
    }
    /* Python's floor division of a possibly negative difference. */
    int top = (in->height - ch) >= 0 ? (in->height - ch) / 2 : -((ch - in->height + 1) / 2);
    int left = (in->width - cw) >= 0 ? (in->width - cw) / 2 : -((cw - in->width + 1) / 2);
    for (int y = 0; y < ch; y++) {
        int sy = top + y;
        if (sy < 0 || sy >= in->height) {
            continue;
        }
        const uint8_t *srow = in->data + (size_t)sy * in->stride;
        uint8_t *drow = o->data + (size_t)y * o->stride;
        for (int x = 0; x < cw; x++) {
            int sx = left + x;
            if (sx >= 0 && sx < in->width) {
                memcpy(drow + 3 * (size_t)x, srow + 3 * (size_t)sx, 3);
            }
        }
    }
    *out = o;
    return VITC_OK;
}

vitc_status vitc_preprocess(const vitc_preprocess_params *p, const vitc_image *img, float *out,
                            size_t n_out)
{
    vitc_image *cropped = NULL;
    vitc_image *resized = NULL;
    const vitc_image *src = img;
    float table[3][256];
    size_t plane, need;
    vitc_status st;

    if (!p || !img || !out || !img->data) {
        return vitc_error(VITC_ERR_INVALID_ARG, "vitc_preprocess: NULL argument");
    }
    if (img->width <= 0 || img->height <= 0 || img->stride / 3 < (size_t)img->width) {
        return vitc_error(VITC_ERR_INVALID_ARG, "vitc_preprocess: bad image %dx%d with stride %zu",
                          img->width, img->height, img->stride);
    }
    st = check_params(p);
    if (st != VITC_OK) {
        return st;
    }
    int rw, rh, w, h;
    resize_size(p, img->width, img->height, &rw, &rh);
    vitc_preprocess_output_size(p, img->width, img->height, &w, &h);
    if (rw > (int)VITC_MAX_IMAGE_SIDE || rh > (int)VITC_MAX_IMAGE_SIDE ||
        (uint64_t)rw * (uint64_t)rh > VITC_MAX_IMAGE_PIXELS) {
        return vitc_error(VITC_ERR_INVALID_ARG,
                          "vitc_preprocess: resizing a %dx%d image by its shortest edge to %d "
                          "gives %dx%d, over the image size limit",
                          img->width, img->height, p->shortest_edge, rw, rh);
    }
    if (vitc_mul_size((size_t)w, (size_t)h, &plane) || vitc_mul_size(plane, 3, &need)) {
        return vitc_error(VITC_ERR_INVALID_ARG, "vitc_preprocess: output size overflows");
    }
    if (n_out != need) {
        return vitc_error(VITC_ERR_INVALID_ARG,
                          "vitc_preprocess: output holds %zu floats, expected 3x%dx%d = %zu", n_out,
                          h, w, need);
    }
    if (p->do_resize && (rw != img->width || rh != img->height)) {
        st = vitc_image_resize(img, rw, rh, p->resample, &resized);
        if (st != VITC_OK) {
            return st;
        }
        src = resized;
    }
    if (p->do_center_crop && (w != src->width || h != src->height)) {
        st = center_crop(src, w, h, &cropped);
        if (st != VITC_OK) {
            vitc_image_free(resized);
            return st;
        }
        src = cropped;
    }
    make_table(p, table);
    for (int y = 0; y < h; y++) {
        const uint8_t *row = src->data + (size_t)y * src->stride;
        for (int x = 0; x < w; x++) {
            size_t at = (size_t)y * w + x;
            out[at] = table[0][row[3 * x + 0]];
            out[plane + at] = table[1][row[3 * x + 1]];
            out[2 * plane + at] = table[2][row[3 * x + 2]];
        }
    }
    vitc_image_free(cropped);
    vitc_image_free(resized);
    return VITC_OK;
}
