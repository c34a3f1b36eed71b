/* SPDX-License-Identifier: MIT
 *
 * backend.h — the op-level interface between the ViT graph (model.c) and a
 * compute backend: a small vtable of the ops a ViT forward needs, in the
 * manner of ggml-backend-impl.h. Not a graph executor: model.c calls the ops
 * in order. Backend layer; CPU implementation in backend_cpu.c.
 */
#ifndef VITC_BACKEND_H
#define VITC_BACKEND_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "act.h"
#include "model.h"
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

/* The CPU backend with n_threads threads (the caller's thread included).
 * max_tokens and max_head_dim size the per-thread attention scratch; the
 * attention op refuses larger sequences. */
vitc_status vitc_backend_cpu_new(int n_threads, size_t max_tokens, size_t max_head_dim,
                                 struct vitc_be **out);

/* The CPU backend for a model computing in `precision` (FP32, BF16 or
 * INT8; FP16 and TF32 fail with VITC_ERR_UNSUPPORTED): max_k is the largest
 * linear input width (sizes the bf16/int8 conversion scratch). */
struct vitc_cpu_backend_params {
    int n_threads;
    size_t max_tokens, max_head_dim, max_k;
    vitc_precision precision;
};
vitc_status vitc_backend_cpu_create(const struct vitc_cpu_backend_params *p, struct vitc_be **out);

/* Prepares one linear's weights for the CPU backend in a precision (FP32,
 * BF16 or INT8) into l->packed, as model loading does for every layer; and
 * frees them. For tests and benchmarks that build layers by hand. */
vitc_status vitc_cpu_prepare_linear(struct vitc_linear *l, vitc_precision precision);
void vitc_cpu_unprepare_linear(struct vitc_linear *l);

/* The CUDA backend on device `device` for model m, with room for
 * max_batch images: uploads m's weights in the model's precision (FP32,
 * TF32, BF16 or FP16; INT8 fails with VITC_ERR_UNSUPPORTED), creates the
 * ctx's stream and staging buffers. In a build without the CUDA toolkit
 * (backend_cuda_none.c) it always fails with VITC_ERR_UNSUPPORTED. */
vitc_status vitc_backend_cuda_new(const struct vitc_model *m, int device, size_t max_batch,
                                  struct vitc_be **out);

/* Threads of a CPU backend (for reports and tests). */
int vitc_backend_cpu_n_threads(const struct vitc_be *be);

/* Profiling (bench/bench_profile.c): with busy_ns set, each op's threads
 * add the nanoseconds they spent in its tasks to busy_ns[ith] (n_threads
 * counters), see vitc_threadpool_set_busy; NULL turns it off. */
void vitc_backend_cpu_set_busy(struct vitc_be *be, uint64_t *busy_ns);

#endif /* VITC_BACKEND_H */
