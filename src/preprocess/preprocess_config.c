/* SPDX-License-Identifier: MIT
 *
 * preprocess_config.c — preprocessor_config.json (transformers' ViT, DeiT,
 * CLIP, Bit and Siglip image processor settings) parsed with jansson into
 * vitc_preprocess_params. I/O leaf: knows the JSON keys and each class's
 * defaults, nothing of images. Absent keys keep the defaults, unknown keys are ignored, bad types
 * or values are refused with a message naming the file and the key.
 */
#include <errno.h>
#include <jansson.h>
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "base/err.h"
#include "preprocess/preprocess_config.h"

/* Larger sides than this are refused: no ViT processor asks for them and
 * they would make preprocess buffers absurd (8192^2 * 3 floats = 768 MiB). */
#define MAX_SIZE_SIDE 8192

/* A preprocessor_config.json is a few hundred bytes; refuse anything huge
 * before reading it into memory. */
#define MAX_CONFIG_BYTES (16u << 20)

vitc_preprocess_params vitc_preprocess_default_params(void)
{
    /* ViTImageProcessor.__init__ defaults (transformers 4.40). */
    vitc_preprocess_params p = {
        .do_resize = true,
        .height = 224,
        .width = 224,
        .resample = VITC_RESAMPLE_BILINEAR,
        .do_rescale = true,
        .rescale_factor = 1.0 / 255.0,
        .do_normalize = true,
        .image_mean = {0.5, 0.5, 0.5},
        .image_std = {0.5, 0.5, 0.5},
        .do_convert_rgb = true,
        .processor = "ViTImageProcessor",
    };
    return p;
}

/* ---- processor classes ---- */

/* The processors transformers 4.40.2 has for ViT-shaped models, with the
 * defaults each one's __init__ gives keys missing from the file. */
static const double CLIP_MEAN[3] = {0.48145466, 0.4578275, 0.40821073};
static const double CLIP_STD[3] = {0.26862954, 0.26130258, 0.27577711};

static const struct processor_class {
    const char *name;
    enum vitc_processor_kind kind;
} classes[] = {
    {"ViTImageProcessor", VITC_PROCESSOR_VIT},       {"DeiTImageProcessor", VITC_PROCESSOR_DEIT},
    {"CLIPImageProcessor", VITC_PROCESSOR_CLIP},     {"BitImageProcessor", VITC_PROCESSOR_BIT},
    {"SiglipImageProcessor", VITC_PROCESSOR_SIGLIP},
};

vitc_preprocess_params vitc_preprocess_class_defaults(enum vitc_processor_kind kind)
{
    vitc_preprocess_params p = vitc_preprocess_default_params();
    p.processor = classes[kind].name;
    switch (kind) {
    case VITC_PROCESSOR_DEIT: /* 256x256, crop 224, bicubic, mean = std = 0.5 */
        p.height = p.width = 256;
        p.resample = VITC_RESAMPLE_BICUBIC;
        p.do_center_crop = true;
        p.crop_height = p.crop_width = 224;
        break;
    case VITC_PROCESSOR_CLIP: /* shortest edge 224, crop 224, bicubic, CLIP mean/std */
    case VITC_PROCESSOR_BIT:  /* the same defaults as CLIP's */
        p.shortest_edge = 224;
        p.resample = VITC_RESAMPLE_BICUBIC;
        p.do_center_crop = true;
        p.crop_height = p.crop_width = 224;
        memcpy(p.image_mean, CLIP_MEAN, sizeof CLIP_MEAN);
        memcpy(p.image_std, CLIP_STD, sizeof CLIP_STD);
        break;
    case VITC_PROCESSOR_SIGLIP: /* 224x224, bicubic, no crop */
        p.resample = VITC_RESAMPLE_BICUBIC;
        break;
    default:
        break;
    }
    return p;
}

/* image_processor_type, else feature_extractor_type with "FeatureExtractor"
 * read as "ImageProcessor" (AutoImageProcessor's rule), else *kind stays. */
static vitc_status get_class(const char *path, json_t *root, enum vitc_processor_kind *kind)
{
    const char *keys[] = {"image_processor_type", "feature_extractor_type"};
    for (size_t k = 0; k < 2; k++) {
        json_t *v = json_object_get(root, keys[k]);
        if (!v || json_is_null(v)) {
            continue;
        }
        if (!json_is_string(v)) {
            return vitc_error(VITC_ERR_FORMAT, "%s: '%s' must be a string", path, keys[k]);
        }
        char name[96];
        const char *s = json_string_value(v), *fe = strstr(s, "FeatureExtractor");
        if (k == 1 && fe && strlen(s) < 64) {
            snprintf(name, sizeof name, "%.*sImageProcessor%s", (int)(fe - s), s, fe + 16);
        } else {
            snprintf(name, sizeof name, "%s", s);
        }
        for (size_t i = 0; i < sizeof classes / sizeof classes[0]; i++) {
            if (strcmp(name, classes[i].name) == 0) {
                *kind = classes[i].kind;
                return VITC_OK;
            }
        }
        return vitc_error(VITC_ERR_UNSUPPORTED,
                          "%s: %s '%s' is not supported (ViT, DeiT, CLIP, Bit or Siglip "
                          "ImageProcessor)",
                          path, keys[k], s);
    }
    return VITC_OK;
}

/* ---- field readers ---- */

static vitc_status get_bool(const char *path, json_t *root, const char *key, bool *out)
{
    json_t *v = json_object_get(root, key);
    if (!v) {
        return VITC_OK;
    }
    if (!json_is_boolean(v)) {
        return vitc_error(VITC_ERR_FORMAT, "%s: '%s' must be true or false", path, key);
    }
    *out = json_is_true(v);
    return VITC_OK;
}

/* A JSON integer in [1, MAX_SIZE_SIDE]; `what` names it in messages. */
static vitc_status get_side(const char *path, json_t *v, const char *what, int *out)
{
    if (!json_is_integer(v)) {
        return vitc_error(VITC_ERR_FORMAT, "%s: '%s' must be an integer", path, what);
    }
    json_int_t n = json_integer_value(v);
    if (n < 1 || n > MAX_SIZE_SIDE) {
        return vitc_error(VITC_ERR_FORMAT, "%s: '%s' is %lld, expected 1..%d", path, what,
                          (long long)n, MAX_SIZE_SIDE);
    }
    *out = (int)n;
    return VITC_OK;
}

/* size: a bare int N, a [height, width] list, {"height": H, "width": W} or
 * {"shortest_edge": N}, as get_size_dict reads them for each class: a bare
 * int is N x N for ViT and DeiT, the shortest edge for CLIP and Bit, and an
 * error for Siglip (4.40.2 fails on it); only CLIP and Bit resize by the
 * shortest edge. */
static vitc_status get_size(const char *path, json_t *root, enum vitc_processor_kind kind,
                            vitc_preprocess_params *p)
{
    json_t *v = json_object_get(root, "size");
    int h = 0, w = 0, edge = 0;
    bool by_edge = kind == VITC_PROCESSOR_CLIP || kind == VITC_PROCESSOR_BIT;
    vitc_status st = VITC_OK;
    if (!v) {
        return VITC_OK;
    }
    if (json_is_integer(v)) {
        if (kind == VITC_PROCESSOR_SIGLIP) {
            return vitc_error(VITC_ERR_FORMAT,
                              "%s: SiglipImageProcessor needs 'size' as {\"height\", \"width\"}, "
                              "not a bare integer",
                              path);
        }
        st = get_side(path, v, "size", by_edge ? &edge : &h);
        w = h;
    } else if (json_is_array(v)) {
        if (json_array_size(v) != 2) {
            return vitc_error(VITC_ERR_FORMAT, "%s: 'size' list must be [height, width]", path);
        }
        st = get_side(path, json_array_get(v, 0), "size[0]", &h);
        if (st == VITC_OK) {
            st = get_side(path, json_array_get(v, 1), "size[1]", &w);
        }
    } else if (json_is_object(v)) {
        json_t *jh = json_object_get(v, "height"), *jw = json_object_get(v, "width");
        json_t *je = json_object_get(v, "shortest_edge");
        if (je && by_edge && !jh && !jw) {
            st = get_side(path, je, "size.shortest_edge", &edge);
        } else if (!jh || !jw) {
            if (je || json_object_get(v, "longest_edge")) {
                return vitc_error(VITC_ERR_UNSUPPORTED,
                                  "%s: 'size' by shortest/longest edge is not supported "
                                  "(%s needs 'height' and 'width')",
                                  path, classes[kind].name);
            }
            return vitc_error(VITC_ERR_FORMAT, "%s: 'size' must have 'height' and 'width'", path);
        } else {
            st = get_side(path, jh, "size.height", &h);
            if (st == VITC_OK) {
                st = get_side(path, jw, "size.width", &w);
            }
        }
    } else {
        return vitc_error(VITC_ERR_FORMAT,
                          "%s: 'size' must be an integer or {\"height\", \"width\"}", path);
    }
    if (st != VITC_OK) {
        return st;
    }
    p->shortest_edge = edge;
    if (!edge) {
        p->height = h;
        p->width = w;
    }
    return VITC_OK;
}

/* crop_size: a bare int N (N x N) or {"height": H, "width": W}. */
static vitc_status get_crop(const char *path, json_t *root, vitc_preprocess_params *p)
{
    json_t *v = json_object_get(root, "crop_size");
    int h = 0, w = 0;
    vitc_status st;
    if (!v || json_is_null(v)) {
        return VITC_OK;
    }
    if (json_is_integer(v)) {
        st = get_side(path, v, "crop_size", &h);
        w = h;
    } else if (json_is_object(v) && json_object_get(v, "height") && json_object_get(v, "width")) {
        st = get_side(path, json_object_get(v, "height"), "crop_size.height", &h);
        if (st == VITC_OK) {
            st = get_side(path, json_object_get(v, "width"), "crop_size.width", &w);
        }
    } else {
        return vitc_error(VITC_ERR_FORMAT,
                          "%s: 'crop_size' must be an integer or {\"height\", \"width\"}", path);
    }
    if (st == VITC_OK) {
        p->crop_height = h;
        p->crop_width = w;
    }
    return st;
}

static vitc_status get_number(const char *path, json_t *v, const char *key, double *out)
{
    if (!json_is_number(v)) {
        return vitc_error(VITC_ERR_FORMAT, "%s: '%s' must be a number", path, key);
    }
    double d = json_number_value(v);
    if (!isfinite(d)) {
        return vitc_error(VITC_ERR_FORMAT, "%s: '%s' must be finite", path, key);
    }
    *out = d;
    return VITC_OK;
}

/* image_mean / image_std: a bare number or a list of 1 or 3 numbers; one
 * value applies to all three channels (HF's normalize broadcasts it). */
static vitc_status get_triple(const char *path, json_t *root, const char *key, bool nonzero,
                              double out[3])
{
    json_t *v = json_object_get(root, key);
    double t[3];
    vitc_status st;
    if (!v) {
        return VITC_OK;
    }
    if (json_is_number(v)) {
        st = get_number(path, v, key, &t[0]);
        t[1] = t[2] = t[0];
    } else if (json_is_array(v) && (json_array_size(v) == 1 || json_array_size(v) == 3)) {
        size_t n = json_array_size(v);
        st = VITC_OK;
        for (size_t i = 0; i < n && st == VITC_OK; i++) {
            st = get_number(path, json_array_get(v, i), key, &t[i]);
        }
        if (n == 1) {
            t[1] = t[2] = t[0];
        }
    } else {
        return vitc_error(VITC_ERR_FORMAT, "%s: '%s' must be a number or a list of 1 or 3 numbers",
                          path, key);
    }
    if (st != VITC_OK) {
        return st;
    }
    for (int c = 0; c < 3; c++) {
        if (nonzero && t[c] == 0.0) {
            return vitc_error(VITC_ERR_FORMAT, "%s: '%s' must not contain 0", path, key);
        }
    }
    memcpy(out, t, sizeof t);
    return VITC_OK;
}

/* ---- loading ---- */

static vitc_status parse(const char *path, json_t *root, enum vitc_processor_kind kind,
                         vitc_preprocess_params *out)
{
    vitc_status st;
    json_t *v;
    if (!json_is_object(root)) {
        return vitc_error(VITC_ERR_FORMAT, "%s: expected a JSON object", path);
    }
    if ((st = get_class(path, root, &kind)) != VITC_OK) {
        return st;
    }
    vitc_preprocess_params *p = out;
    *p = vitc_preprocess_class_defaults(kind);
    bool crops =
        kind == VITC_PROCESSOR_DEIT || kind == VITC_PROCESSOR_CLIP || kind == VITC_PROCESSOR_BIT;
    if ((st = get_bool(path, root, "do_resize", &p->do_resize)) != VITC_OK ||
        (st = get_size(path, root, kind, p)) != VITC_OK ||
        (crops && (st = get_bool(path, root, "do_center_crop", &p->do_center_crop)) != VITC_OK) ||
        (crops && (st = get_crop(path, root, p)) != VITC_OK) ||
        (st = get_bool(path, root, "do_rescale", &p->do_rescale)) != VITC_OK ||
        (st = get_bool(path, root, "do_normalize", &p->do_normalize)) != VITC_OK ||
        (st = get_bool(path, root, "do_convert_rgb", &p->do_convert_rgb)) != VITC_OK ||
        (st = get_triple(path, root, "image_mean", false, p->image_mean)) != VITC_OK ||
        (st = get_triple(path, root, "image_std", true, p->image_std)) != VITC_OK) {
        return st;
    }
    if ((v = json_object_get(root, "resample")) != NULL) {
        if (!json_is_integer(v) || json_integer_value(v) < 0 || json_integer_value(v) > 5) {
            return vitc_error(VITC_ERR_FORMAT, "%s: 'resample' must be a Pillow filter number 0..5",
                              path);
        }
        p->resample = (int)json_integer_value(v);
    }
    if ((v = json_object_get(root, "rescale_factor")) != NULL) {
        st = get_number(path, v, "rescale_factor", &p->rescale_factor);
    }
    return st;
}

vitc_status vitc_preprocess_params_load(const char *path, vitc_preprocess_params *out)
{
    return vitc_preprocess_params_load_kind(path, VITC_PROCESSOR_VIT, out);
}

vitc_status vitc_preprocess_params_load_kind(const char *path, enum vitc_processor_kind kind,
                                             vitc_preprocess_params *out)
{
    FILE *f = NULL;
    char *text = NULL;
    json_t *root = NULL;
    vitc_status st = VITC_OK;
    vitc_preprocess_params p = vitc_preprocess_default_params();
    json_error_t jerr;
    long len;

    if (!path || !out) {
        return vitc_error(VITC_ERR_INVALID_ARG, "vitc_preprocess_params_load: NULL argument");
    }
    f = fopen(path, "rb");
    if (!f) {
        return vitc_error(VITC_ERR_IO, "%s: %s", path, strerror(errno));
    }
    if (fseek(f, 0, SEEK_END) != 0 || (len = ftell(f)) < 0 || fseek(f, 0, SEEK_SET) != 0) {
        st = vitc_error(VITC_ERR_IO, "%s: %s", path, strerror(errno));
        goto done;
    }
    if ((unsigned long)len > MAX_CONFIG_BYTES) {
        st = vitc_error(VITC_ERR_FORMAT, "%s: %ld bytes is too large for a preprocessor config",
                        path, len);
        goto done;
    }
    text = vitc_mem_alloc((size_t)len + 1);
    if (!text) {
        st = vitc_error(VITC_ERR_NOMEM, "%s: out of memory", path);
        goto done;
    }
    if (fread(text, 1, (size_t)len, f) != (size_t)len) {
        st = vitc_error(VITC_ERR_IO, "%s: read failed", path);
        goto done;
    }
    root = json_loadb(text, (size_t)len, JSON_REJECT_DUPLICATES, &jerr);
    if (!root) {
        st = vitc_error(VITC_ERR_FORMAT, "%s:%d: %s", path, jerr.line, jerr.text);
        goto done;
    }
    st = parse(path, root, kind, &p);
    if (st == VITC_OK) {
        *out = p;
    }
done:
    json_decref(root);
    vitc_mem_free(text);
    if (f) {
        fclose(f);
    }
    return st;
}
