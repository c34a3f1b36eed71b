/* SPDX-License-Identifier: MIT
 *
 * preprocess_config.h — the image processor classes preprocess_config.c
 * knows, for the model loader: a checkpoint's model type picks the class
 * when preprocessor_config.json names none (AutoImageProcessor's rule).
 * I/O leaf, beside the public vitc_preprocess_params_load.
 */
#ifndef VITC_PREPROCESS_CONFIG_H
#define VITC_PREPROCESS_CONFIG_H

#include "vitc.h"

enum vitc_processor_kind {
    VITC_PROCESSOR_VIT = 0, /* ViTImageProcessor: H x W bilinear, no crop       */
    VITC_PROCESSOR_DEIT,    /* DeiTImageProcessor: H x W bicubic, center crop   */
    VITC_PROCESSOR_CLIP,    /* CLIPImageProcessor: shortest edge, center crop   */
    VITC_PROCESSOR_BIT,     /* BitImageProcessor (DINOv2): as CLIP              */
    VITC_PROCESSOR_SIGLIP   /* SiglipImageProcessor: H x W bicubic, no crop     */
};

/* The class's __init__ defaults (transformers 4.40.2). */
vitc_preprocess_params vitc_preprocess_class_defaults(enum vitc_processor_kind kind);

/* vitc_preprocess_params_load, with `kind` the class used when the file
 * names none. */
vitc_status vitc_preprocess_params_load_kind(const char *path, enum vitc_processor_kind kind,
                                             vitc_preprocess_params *out);

#endif /* VITC_PREPROCESS_CONFIG_H */
