/* SPDX-License-Identifier: MIT
 *
 * backend.h — the op-level interface between the ViT graph (graph/graph.c) and a
 * compute backend: a small vtable of the ops a ViT forward needs, in the
 * manner of ggml-backend-impl.h. Not a graph executor: graph/graph.c calls the ops
 * in order. Backend layer; implemented by cpu/backend_cpu.c and
 * cuda/backend_cuda.cu, made through their own headers.
 */
#ifndef VITC_BACKEND_H
#define VITC_BACKEND_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "model/act.h"
#include "model/model.h"
#include "vitc.h"

struct vitc_be;

/* Memory: activation buffers live in backend memory, obtained from `alloc`
 * once per ctx; the graph passes pointers into that allocation to the ops.
 * Host data crosses only through upload/download. Weights are passed as the
 * model's own host pointers (struct vitc_linear, LayerNorm and embedding
 * vectors); a backend whose memory is not host memory keeps device copies,
 * made when it is created, and finds them by those pointers. Ops may run
 * asynchronously; download waits for them. Every op returns a status. */
struct vitc_backend_ops {
    /* Short name for messages and benchmarks ("cpu"). */
    const char *name;

    /* True when backend memory is host memory, readable by the caller
     * without a download (the CPU). */
    bool host_memory;

    /* Frees the backend and everything it owns except buffers from alloc. */
    void (*free)(struct vitc_be *be);

    /* Allocates n_floats of backend memory, 64-byte aligned, into *out; and
     * releases it (NULL-safe). Called only when a ctx is created and freed. */
    vitc_status (*alloc)(struct vitc_be *be, size_t n_floats, float **out);
    void (*release)(struct vitc_be *be, float *buf);

    /* Copies n floats from host src to backend dst, or from backend src to
     * host dst (after all queued ops have finished). */
    vitc_status (*upload)(struct vitc_be *be, float *dst, const float *src, size_t n);
    vitc_status (*download)(struct vitc_be *be, float *dst, const float *src, size_t n);

    /* y = act(x W^T + b) + res for M rows.
     * x: (M, w->n_in); y: (M, w->n_out); res: (M, w->n_out) or NULL, and may
     * be y (in-place residual add); x must not overlap y. Uses the weights
     * the backend prepared in w->packed (vitc_model_prepare_weights). */
    vitc_status (*linear)(struct vitc_be *be, const struct vitc_linear *w, const float *x, size_t M,
                          float *y, enum vitc_act act, const float *res);

    /* Row-wise LayerNorm: x, y: (rows, cols), y may be x; w, b: (cols). */
    vitc_status (*layernorm)(struct vitc_be *be, const float *x, float *y, size_t rows, size_t cols,
                             const float *w, const float *b, double eps);

    /* Multi-head self-attention of n_images sequences of n_tokens.
     * qkv: (n_images * n_tokens, 3 * n_heads * head_dim), each row q | k | v
     * and head h at columns h*head_dim of each third; out: (n_images *
     * n_tokens, n_heads * head_dim), heads concatenated in order. Scores
     * (q.k) / sqrt(head_dim), softmax in float with max subtraction. */
    vitc_status (*attention)(struct vitc_be *be, const float *qkv, float *out, size_t n_images,
                             size_t n_tokens, size_t n_heads, size_t head_dim);

    /* pixels: (n, C, H, W) -> patches: (n * (H/P)*(W/P), C*P*P), see
     * vitc_kernels_patch_unfold for the order. */
    vitc_status (*patch_unfold)(struct vitc_be *be, const float *pixels, size_t n, size_t C,
                                size_t H, size_t W, size_t P, float *patches);

    /* x: (n * (Np+1), D) = [cls; patch_emb of each image] + pos.
     * patch_emb: (n * Np, D); cls: (D) and pos: (Np+1, D) are model weights. */
    vitc_status (*assemble_tokens)(struct vitc_be *be, const float *patch_emb, const float *cls,
                                   const float *pos, size_t n, size_t Np, size_t D, float *x);

    /* x: (n * (n_prefix + Np), D) = [prefix rows; patch_emb of each image]
     * + pos, for n_prefix other than 1 (DeiT's CLS + distillation token).
     * prefix: (n_prefix, D) and pos: (n_prefix + Np, D) are model weights. */
    vitc_status (*assemble_prefix)(struct vitc_be *be, const float *patch_emb, const float *prefix,
                                   size_t n_prefix, const float *pos, size_t n, size_t Np, size_t D,
                                   float *x);

    /* SwiGLU: y (rows, I) = silu(x[:, :I]) * x[:, I:], x: (rows, 2I). */
    vitc_status (*swiglu)(struct vitc_be *be, const float *x, float *y, size_t rows, size_t I);

    /* Attention pooling: query q (n_heads * head_dim, backend memory) shared
     * by the n_images, keys and values kv (n_images * n_tokens, 2 * n_heads
     * * head_dim) rows k | v; out: (n_images, n_heads * head_dim). See
     * vitc_kernels_attention_pool. */
    vitc_status (*attention_pool)(struct vitc_be *be, const float *q, const float *kv, float *out,
                                  size_t n_images, size_t n_tokens, size_t n_heads,
                                  size_t head_dim);

    /* out[i] = x[i * stride] for i < n_rows: x rows of `cols` floats, e.g.
     * the CLS row of each image (stride = n_tokens). out: (n_rows, cols). */
    vitc_status (*gather_rows)(struct vitc_be *be, const float *x, size_t stride, size_t n_rows,
                               size_t cols, float *out);

    /* (optional) Bracket one forward of n_images: begin before its first
     * op, end after its last or after the op that failed (status is then
     * that op's, and end returns it). With capture set (no tap reads the
     * stages in between) a backend may record the forward once per
     * n_images and replay the recording, the ops then only repeating their
     * host side. NULL for the CPU. */
    vitc_status (*forward_begin)(struct vitc_be *be, size_t n_images, bool capture);
    vitc_status (*forward_end)(struct vitc_be *be, vitc_status status);

    /* (optional) The most device memory the backend has held since it was
     * created, in bytes; and the device time of the last forward in ms,
     * after waiting for it. NULL for the CPU. */
    size_t (*device_memory)(struct vitc_be *be);
    vitc_status (*device_time)(struct vitc_be *be, double *ms);
};

/* A backend instance, owned by one ctx. (The tag vitc_backend is the public
 * enum that names backends.) */
struct vitc_be {
    const struct vitc_backend_ops *ops;
    void *impl; /* the backend's private state */
};

/* Frees a backend (NULL-safe). */
void vitc_backend_free(struct vitc_be *be);

#endif /* VITC_BACKEND_H */
