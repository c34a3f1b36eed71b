/* SPDX-License-Identifier: MIT
 *
 * family.h — each ViT-shaped family as data: its Hugging Face tensor
 * names and the graph options it needs (struct vitc_arch). Read only by the
 * loader (weights.c), which stays the one place that knows HF names; a
 * new ViT-shaped family is a table entry here and a test. Model layer.
 */
#ifndef VITC_MODEL_FAMILY_H
#define VITC_MODEL_FAMILY_H

#include <stdbool.h>

#include "model/config.h"
#include "model/model.h"
#include "preprocess/preprocess_config.h"

/* Names are relative to the tower's prefix (base) unless said otherwise;
 * NULL where the family has no such tensor. Linear and LayerNorm names take
 * ".weight" / ".bias". */
struct vitc_family_desc {
    enum vitc_family family;
    const char *model_type;             /* "vit", "deit", "clip" (for info)          */
    enum vitc_processor_kind processor; /* when preprocessor_config.json names none */
    const char *head_prefix;            /* tower prefix of head checkpoints ("vit."),
                                           detected from the tensor names; or NULL     */
    const char *base_prefix;            /* fixed tower prefix ("vision_model."), or "" */
    const char *cls, *dist;             /* prefix tokens                             */
    int token_rank;                     /* 3: [1,1,H] and pos [1,T,H]; 1: [H], pos [T,H] */
    const char *pos, *patch;            /* position table, patch convolution          */
    bool patch_bias;
    const char *pre_ln; /* LayerNorm on the embeddings (CLIP)         */
    const char *layer;  /* printf format of a layer's prefix ("%d")   */
    const char *ln1, *q, *k, *v, *attn_out, *ln2, *fc1, *fc2;
    const char *ls1, *ls2;        /* layer scale vectors (DINOv2), folded into
                                     attn_out and fc2 at load                    */
    const char *glu_in, *glu_out; /* SwiGLU's linears, used instead of fc1 and
                                  fc2 when config.json asks for it (DINOv2)   */
    const char *final_ln;         /* on all tokens (final_norm) or on the pooled
                                     token only (CLIP's post_layernorm)          */
    bool final_norm;
    enum vitc_pool pool;    /* pooler_output when the file has no pooler  */
    const char *head;       /* the attention-pooling head's prefix (SigLIP) */
    bool interpolate;       /* the position table is always resized to the
                               input's grid (DINOv2)                       */
    const char *pooler;     /* tanh dense pooler, optional in the file    */
    const char *classifier; /* absolute; optional in the file             */
    const char *distill;    /* absolute; DeiT's second head               */
    const char *projection; /* absolute; CLIP's visual_projection         */
    const char *unused;     /* a tensor inference never reads (mask token) */
    const char *other[4];   /* absolute prefixes of another tower, never read */
};

/* The description of a family (never NULL for a valid enum value). */
const struct vitc_family_desc *vitc_family_get(enum vitc_family f);

#endif /* VITC_MODEL_FAMILY_H */
