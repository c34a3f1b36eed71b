/* SPDX-License-Identifier: MIT
 *
 * config.h — config.json (transformers' ViTConfig, DeiTConfig, Dinov2Config,
 * CLIP's and SigLIP's vision configs) parsed into a validated struct. I/O leaf: knows JSON and
 * ViTConfig's rules, nothing of weights or backends. Absent fields take transformers' defaults;
 * unknown fields are ignored; inconsistent values are rejected with a message naming the file.
 */
#ifndef VITC_CONFIG_H
#define VITC_CONFIG_H

#include <stdbool.h>
#include <stddef.h>

#include "model/act.h"
#include "vitc.h"

/* The ViT-shaped model types config.json's model_type can name. */
enum vitc_family {
    VITC_FAMILY_VIT = 0, /* "vit": ViTModel, ViTForImageClassification     */
    VITC_FAMILY_DEIT,    /* "deit": DeiTModel, ...WithTeacher (distilled)   */
    VITC_FAMILY_CLIP,    /* "clip" (vision_config) or "clip_vision_model"   */
    VITC_FAMILY_DINOV2,  /* "dinov2": Dinov2Model                           */
    VITC_FAMILY_SIGLIP   /* "siglip" (vision_config) or "siglip_vision_model" */
};

struct vitc_config {
    enum vitc_family family;  /* from model_type (absent: vit)             */
    int n_prefix;             /* tokens before the patches: 1 (CLS), 2 (CLS
                                 + distillation, DeiT)                     */
    int projection_dim;       /* CLIP's visual_projection width (512)      */
    bool swiglu;              /* DINOv2 use_swiglu_ffn: intermediate_size is
                                 then SwiGLU's hidden width h'              */
    int table_size;           /* image_size the position table was made for */
    int image_height;         /* the input's pixels: image_size, unless the */
    int image_width;          /* table is interpolated (model/load.c)       */
    char architecture[64];    /* architectures[0], or "" when absent       */
    int hidden_size;          /* 768                                       */
    int num_hidden_layers;    /* 12                                        */
    int num_attention_heads;  /* 12                                        */
    int intermediate_size;    /* 3072                                      */
    int image_size;           /* 224                                       */
    int patch_size;           /* 16                                        */
    int num_channels;         /* 3                                         */
    double layer_norm_eps;    /* 1e-12                                     */
    bool qkv_bias;            /* true                                      */
    enum vitc_act hidden_act; /* VITC_ACT_GELU                             */
    char hidden_act_name[32];
    int num_labels;  /* len(id2label), or num_labels, default 2   */
    char **id2label; /* (num_labels) owned strings; NULL entries when unnamed */
};

/* Parses config.json text. `path` is used only in messages. On success the
 * caller owns out->id2label and frees it with vitc_config_free. */
vitc_status vitc_config_parse(const char *path, const char *text, size_t len,
                              struct vitc_config *out);

/* Reads and parses a config.json file. */
vitc_status vitc_config_load(const char *path, struct vitc_config *out);

void vitc_config_free(struct vitc_config *cfg);

#endif /* VITC_CONFIG_H */
