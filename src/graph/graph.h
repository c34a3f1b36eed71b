/* SPDX-License-Identifier: MIT
 *
 * graph.h — the one ViT forward graph (graph.c): a ctx's activation
 * buffers and the forward that runs every family's encoder through the
 * backend ops of backend.h. Graph layer: above the backends, below the API.
 */
#ifndef VITC_GRAPH_H
#define VITC_GRAPH_H

#include <stddef.h>

#include "graph/backend.h"
#include "model/model.h"
#include "vitc.h"

/* One ctx's activation buffers for up to max_batch images (n), all in one
 * allocation of backend memory. T = n_tokens, Np = T - n_prefix, D =
 * hidden_size. */
struct vitc_acts {
    float *arena;       /* owner of every buffer below but staging */
    float *pixels;      /* (n, C, S, S) the last input            */
    float *patches;     /* (n*Np, C*P*P) unfolded patches         */
    float *patch_emb;   /* (n*Np, D)                              */
    float *h;           /* (n*T, D) residual stream               */
    float *xn;          /* (n*T, D) LayerNorm output              */
    float *qkv;         /* (n*T, 3D)                              */
    float *attn;        /* (n*T, D) attention output              */
    float *mlp;         /* (n*T, intermediate_size), SwiGLU: 2x   */
    float *glu;         /* (n*T, intermediate_size), SwiGLU only  */
    float *last_hidden; /* (n*T, D) last_hidden_state             */
    float *cls;         /* (n, D) last_hidden_state[:, 0]         */
    float *dist;        /* (n, D) last_hidden_state[:, 1], distilled only */
    float *embeds;      /* (n, projection_dim) image_embeds, or NULL */
    float *pooled;      /* (n, D) pooler output, NULL if absent   */
    float *logits;      /* (n, num_labels), NULL if absent        */
    float *staging;     /* host (n*T*D) for the tap when backend
                           memory is not host memory, else NULL  */
    size_t max_batch;
};

/* Plans and allocates the activation buffers for max_batch images through
 * the backend (overflow-checked). Writes *out only on success. */
vitc_status vitc_model_acts_new(const struct vitc_model *m, struct vitc_be *be, size_t max_batch,
                                struct vitc_acts *out);
void vitc_model_acts_free(struct vitc_be *be, struct vitc_acts *a);

/* Runs the ViT forward on n_images (1..a->max_batch) images of pixel_values
 * (n, C, S, S) host floats, leaving every output in a. Calls tap (if not
 * NULL) after each stage named in vitc.h. Allocates nothing. */
vitc_status vitc_model_forward(const struct vitc_model *m, struct vitc_be *be,
                               const struct vitc_acts *a, const float *pixel_values,
                               size_t n_images, vitc_tap_fn tap, void *tap_user);

#endif /* VITC_GRAPH_H */
