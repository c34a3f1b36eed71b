/* SPDX-License-Identifier: MIT
 *
 * presets_data.h — the built-in model presets behind `vitc init`: for each,
 * the exact config.json and preprocessor_config.json texts published on the
 * Hugging Face hub. Pure data leaf; presets.c turns an entry into files.
 */
#ifndef VITC_PRESETS_DATA_H
#define VITC_PRESETS_DATA_H

#include <stdbool.h>
#include <stddef.h>

#include "vitc.h"

enum vitc_preset_kind {
    VITC_PRESET_BACKBONE,  /* ViTModel with pooler; config_json is the whole file   */
    VITC_PRESET_IMAGENET1K /* ViTForImageClassification, 1000 ImageNet-1k labels:
                              config.json = head + id2label + mid + label2id + tail */
};

struct vitc_preset {
    const char *name;  /* e.g. "vit-base-patch16-224-in21k"            */
    const char *about; /* one line for listings                         */
    bool published;    /* false only for the small test preset         */
    enum vitc_preset_kind kind;
    const char *config_json; /* VITC_PRESET_BACKBONE                          */
    const char *config_head; /* VITC_PRESET_IMAGENET1K: up to "hidden_size"  */
    const char *config_mid;  /* between the id2label and label2id objects     */
    const char *config_tail; /* after label2id, through the final newline    */
    const char *preprocessor_json;
};

/* The i-th preset (0 is the default), or NULL past the last. */
const struct vitc_preset *vitc_presets_get(size_t i);

/* The preset called name, or NULL. */
const struct vitc_preset *vitc_presets_find(const char *name);

/* The complete config.json bytes of a preset (for the ImageNet-1k kind, with
 * its id2label and label2id generated from imagenet_labels.c). *text is
 * NUL-terminated, *len excludes the NUL; free with vitc_mem_free.
 * Implemented in presets.c. */
vitc_status vitc_presets_config(const struct vitc_preset *p, char **text, size_t *len);

/* The family presets' texts (presets_data_family.c). */
extern const char vitc_preset_config_clip_vit_base_patch32[];
extern const char vitc_preset_config_siglip_base_patch16_224[];
extern const char vitc_preset_config_dinov2_small[];
extern const char vitc_preset_config_dinov2_base[];
extern const char vitc_preset_head_deit_base_distilled[];
extern const char vitc_preset_mid_deit_base_distilled[];
extern const char vitc_preset_tail_deit_base_distilled[];
extern const char vitc_preset_preprocessor_clip[];
extern const char vitc_preset_preprocessor_siglip[];
extern const char vitc_preset_preprocessor_bit[];
extern const char vitc_preset_preprocessor_deit[];

#endif /* VITC_PRESETS_DATA_H */
