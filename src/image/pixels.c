/* SPDX-License-Identifier: MIT
 *
 * pixels.c — vitc_image memory: the size checks every decoder runs on a
 * header before it allocates (Pillow's decompression-bomb bound), the
 * checked allocator and the public new/free. The bottom of the image
 * folder: it knows no file format.
 */
#include "base/err.h"
#include "image/pixels.h"

static _Thread_local uint64_t test_pixel_budget;

void vitc_test_image_pixel_budget(uint64_t n)
{
    test_pixel_budget = n;
}

vitc_status vitc_image_check_size(const char *name, int64_t width, int64_t height)
{
    if (width <= 0 || height <= 0) {
        return vitc_error(VITC_ERR_FORMAT, "%s: invalid image size %lldx%lld", name,
                          (long long)width, (long long)height);
    }
    if ((uint64_t)width * (uint64_t)height > VITC_MAX_IMAGE_PIXELS) {
        return vitc_error(VITC_ERR_FORMAT, "%s: %lldx%lld exceeds the %u-pixel limit", name,
                          (long long)width, (long long)height, VITC_MAX_IMAGE_PIXELS);
    }
    if (width > VITC_MAX_IMAGE_SIDE || height > VITC_MAX_IMAGE_SIDE) {
        return vitc_error(VITC_ERR_FORMAT, "%s: %lldx%lld exceeds the %u-pixel side limit", name,
                          (long long)width, (long long)height, VITC_MAX_IMAGE_SIDE);
    }
    if (test_pixel_budget && (uint64_t)width * (uint64_t)height > test_pixel_budget) {
        return vitc_error(VITC_ERR_FORMAT, "%s: %lldx%lld exceeds the test budget of %llu pixels",
                          name, (long long)width, (long long)height,
                          (unsigned long long)test_pixel_budget);
    }
    return VITC_OK;
}

vitc_status vitc_image_alloc(const char *name, int64_t width, int64_t height, vitc_image **out)
{
    vitc_status st = vitc_image_check_size(name, width, height);
    size_t stride, bytes, total;
    vitc_image *img;
    if (st != VITC_OK) {
        return st;
    }
    /* One block: the struct, then the pixels; vitc_image_free frees both. */
    if (vitc_mul_size((size_t)width, 3, &stride) || vitc_mul_size(stride, (size_t)height, &bytes) ||
        vitc_add_size(bytes, sizeof(vitc_image), &total)) {
        return vitc_error(VITC_ERR_FORMAT, "%s: image size overflows", name);
    }
    img = vitc_mem_calloc(1, total);
    if (!img) {
        return vitc_error(VITC_ERR_NOMEM, "%s: out of memory for a %lldx%lld image", name,
                          (long long)width, (long long)height);
    }
    img->width = (int)width;
    img->height = (int)height;
    img->stride = stride;
    img->data = (uint8_t *)(img + 1);
    *out = img;
    return VITC_OK;
}

vitc_status vitc_image_new(int width, int height, vitc_image **out)
{
    if (!out) {
        return vitc_error(VITC_ERR_INVALID_ARG, "vitc_image_new: out is NULL");
    }
    if (width <= 0 || height <= 0) {
        return vitc_error(VITC_ERR_INVALID_ARG, "vitc_image_new: invalid size %dx%d", width,
                          height);
    }
    return vitc_image_alloc("vitc_image_new", width, height, out);
}

void vitc_image_free(vitc_image *img)
{
    vitc_mem_free(img);
}
