/* SPDX-License-Identifier: MIT
 *
 * model.h — the internal description of a loaded ViT-family model: config,
 * graph options (struct vitc_arch) and weight views in the canonical layout
 * (PyTorch's: Linear weight (n_out, n_in)). load.c fills these structs from
 * a checkpoint directory; the graph (graph/graph.c) and the backends read
 * them. Nothing here knows file formats, instruction sets or the forward.
 */
#ifndef VITC_MODEL_H
#define VITC_MODEL_H

#include <stddef.h>
#include <string.h>

#include "model/config.h"
#include "vitc.h"

/* y = x W^T + b. weight and bias are float32, owned by the model (either
 * inside the read-only safetensors mapping or in the model's arena). A
 * weight stored as several tensors (q, k, v) is not copied into one at
 * load: parts[] names each block of rows, so a backend packing it reads the
 * file once and no fused fp32 copy stays resident. */
#define VITC_LINEAR_MAX_PARTS 3
struct vitc_linear {
    const float *weight;                       /* (n_out, n_in); NULL when the layer is absent
                                                  or when it comes in parts                   */
    const float *parts[VITC_LINEAR_MAX_PARTS]; /* n_parts blocks of
                             (n_out / n_parts, n_in) rows, in order      */
    int n_parts;                               /* 0: the weight is `weight`                   */
    const float *bias;                         /* (n_out) or NULL for no bias                  */
    int n_out, n_in;
    void *packed; /* backend-prepared copy of weight, or NULL;
                     owned by the model, freed by
                     vitc_model_unprepare_weights                 */
};

struct vitc_layer_weights {
    const float *ln_before_w, *ln_before_b; /* (hidden)                  */
    struct vitc_linear qkv;                 /* (3*hidden, hidden): rows q, then k, then v,
                                               in three parts; the bias (3*hidden) fused
                                               at load, NULL without qkv_bias         */
    struct vitc_linear attn_out;            /* (hidden, hidden)                      */
    const float *ln_after_w, *ln_after_b;   /* (hidden)                  */
    struct vitc_linear fc1;                 /* intermediate.dense (intermediate, hidden);
                                               SwiGLU: (2 * intermediate, hidden)    */
    struct vitc_linear fc2;                 /* output.dense (hidden, intermediate)   */
    /* Layer scale (DINOv2) is folded at load into attn_out's and fc2's
     * rows: lambda * (x W^T + b) = x (lambda W)^T + lambda b. */
};

/* What varies between the ViT-shaped families, as data: the loader fills
 * it from config.json through the family table (model/family.c) and the
 * one forward graph (graph/graph.c) follows it. */
enum vitc_pool {
    VITC_POOL_NONE = 0,   /* no pooled output                                 */
    VITC_POOL_DENSE_TANH, /* ViT's pooler: tanh(dense(last_hidden_state[:, 0])) */
    VITC_POOL_CLS_LN,     /* CLIP: post_layernorm(h[:, 0]), h = last layer out */
    VITC_POOL_CLS,        /* DINOv2: last_hidden_state[:, 0] (normalized CLS) */
    VITC_POOL_MAP         /* SigLIP: attention pooling (a learned query over
                             the tokens, then r + MLP(LayerNorm(r)))          */
};

struct vitc_arch {
    int n_prefix;        /* tokens before the patches: 1 CLS, 2 CLS +
                            distillation (DeiT)                             */
    bool patch_bias;     /* the patch convolution has a bias (not CLIP)      */
    bool pre_norm;       /* LayerNorm on the embeddings (CLIP pre_layrnorm)  */
    bool final_norm;     /* last_hidden_state = LayerNorm(h); else h itself,
                            and ln_final serves the pooling (CLIP)          */
    enum vitc_pool pool; /* pooler_output                                   */
    bool distilled;      /* logits = (classifier(token 0) +
                            distillation head(token 1)) / 2 (DeiT)          */
    bool projection;     /* image_embeds = projection(pooler_output), CLIP  */
    bool swiglu;         /* MLP = fc2(silu(fc1(x)[:I]) * fc1(x)[I:]) (DINOv2) */
};

struct vitc_weights {
    const float *cls_token;               /* (n_prefix, hidden): CLS, then the
                                             distillation token when there is one  */
    const float *pos_embed;               /* (n_tokens, hidden)                    */
    const float *pre_ln_w, *pre_ln_b;     /* (hidden), pre_norm only          */
    struct vitc_linear patch;             /* conv as a linear: (hidden, C*P*P), input
                                             patches unfolded in (c, ky, kx) order */
    struct vitc_layer_weights *layers;    /* (num_hidden_layers)             */
    const float *ln_final_w, *ln_final_b; /* (hidden)                     */
    struct vitc_linear pooler;            /* (hidden, hidden); weight NULL if absent */
    struct vitc_linear classifier;        /* (num_labels, hidden); weight NULL if absent;
                                             halved when distilled               */
    struct vitc_linear distill;           /* (num_labels, hidden) DeiT's distillation
                                             head, halved (so the sum is the mean:
                                             exact, a power of two); else absent */
    struct vitc_linear projection;        /* (projection_dim, hidden), no bias; CLIP */
    /* SigLIP's attention-pooling head (VITC_POOL_MAP). */
    const float *head_query;               /* (hidden) probe W_q^T + b_q, made at load:
                                              the query is the same for every image */
    struct vitc_linear head_kv;            /* (2 * hidden, hidden): in_proj's k, v rows */
    struct vitc_linear head_out;           /* (hidden, hidden) out_proj             */
    const float *head_ln_w, *head_ln_b;    /* (hidden)                       */
    struct vitc_linear head_fc1, head_fc2; /* the head's MLP              */
};

/* True when the layer has a weight (whole or in parts). */
static inline int vitc_linear_present(const struct vitc_linear *l)
{
    return l->weight != NULL || l->n_parts > 0;
}

/* Row r (< n_out) of a present layer's weight, whole or in parts. */
static inline const float *vitc_linear_row(const struct vitc_linear *l, size_t r)
{
    if (l->n_parts == 0) {
        return l->weight + r * (size_t)l->n_in;
    }
    size_t rows = (size_t)l->n_out / (size_t)l->n_parts;
    return l->parts[r / rows] + (r % rows) * (size_t)l->n_in;
}

/* Copies rows [r0, r0 + n) of a present layer's weight into dst (n, n_in). */
static inline void vitc_linear_copy_rows(const struct vitc_linear *l, size_t r0, size_t n,
                                         float *dst)
{
    size_t K = (size_t)l->n_in;
    for (size_t r = 0; r < n; r++) {
        memcpy(dst + r * K, vitc_linear_row(l, r0 + r), K * sizeof *dst);
    }
}

struct vitc_safetensors;

struct vitc_model {
    struct vitc_config cfg;
    struct vitc_arch arch;
    vitc_model_info info; /* public view; strings point into cfg/below */
    vitc_model_params params;
    struct vitc_weights w;
    struct vitc_safetensors *st; /* the mapped checkpoint (owner)        */
    float *arena;                /* converted / fused weights (owner)    */
    char *dir;                   /* model directory, for messages        */
};

/* ---- the loader (load.c, weights.c) ---- */

/* Reads the model directory `dir` (config.json, model.safetensors,
 * preprocessor_config.json) into a new model with params p (already
 * checked by the caller): every tensor checked, viewed or converted. The
 * weights are not yet prepared for a backend (vitc_model_load does that).
 * Writes *out only on success. */
vitc_status vitc_model_read(const char *dir, const vitc_model_params *p, struct vitc_model **out);

/* Frees what vitc_model_read made; a backend's prepared weights must be
 * released first. */
void vitc_model_release(struct vitc_model *m);

/* weights.c: m's weight views from its open checkpoint (m->st) for its
 * config's family, every tensor checked, plus the graph options and the
 * parameter count. Called once by vitc_model_read. */
vitc_status vitc_model_load_weights(struct vitc_model *m);

#endif /* VITC_MODEL_H */
