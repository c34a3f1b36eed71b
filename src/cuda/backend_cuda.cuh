/* SPDX-License-Identifier: MIT
 *
 * backend_cuda.cuh — the CUDA kernels vitc launches itself (everything but
 * the GEMMs, which cuBLASLt runs), as plain launch functions on a stream:
 * each enqueues one kernel and returns the launch's cudaError_t, never
 * synchronising. Activations are stored in one element type per ctx
 * (float32, bfloat16 or binary16, enum vitc_cuda_dtype); every kernel
 * computes in float32. Kernels in backend_cuda_kernels.cu; the backend that
 * calls them in backend_cuda.cu.
 */
#ifndef VITC_BACKEND_CUDA_CUH
#define VITC_BACKEND_CUDA_CUH

#include <cuda_runtime.h>
#include <stddef.h>

extern "C" {
#include "cuda/cuda_plan.h"
#include "model/act.h"
}

enum vitc_cuda_dtype { VITC_CUDA_F32 = 0, VITC_CUDA_BF16, VITC_CUDA_F16 };

/* C linkage: the library exports no C++ names (and these none at all). */
extern "C" {

/* dst (n, dtype) = src (n, float32), rounding to nearest even. */
cudaError_t vitc_cuda_from_f32(cudaStream_t s, enum vitc_cuda_dtype t, const float *src, void *dst,
                               size_t n);

/* dst (n, float32) = src (n, dtype), exactly. */
cudaError_t vitc_cuda_to_f32(cudaStream_t s, enum vitc_cuda_dtype t, const void *src, float *dst,
                             size_t n);

/* Row-wise LayerNorm, statistics in float32 (two passes: mean, then the
 * variance around it). x, y: (rows, cols) dtype, y may be x; w, b: (cols)
 * float32. */
cudaError_t vitc_cuda_layernorm(cudaStream_t s, enum vitc_cuda_dtype t, const void *x, void *y,
                                size_t rows, size_t cols, const float *w, const float *b,
                                float eps);

/* Fused multi-head attention (see vitc_cuda_attn_plan for the shape):
 * qkv (n * T, 3 * H * hd) dtype, rows q | k | v; out (n * T, H * hd) dtype. */
cudaError_t vitc_cuda_attention(cudaStream_t s, enum vitc_cuda_dtype t,
                                const struct vitc_cuda_attn_plan *plan, const void *qkv, void *out,
                                size_t n, size_t T, size_t H, size_t hd);

/* pixels (n, C, H, W) float32 -> patches (n * (H/P)*(W/P), C*P*P) dtype, in
 * the order of vitc_kernels_patch_unfold. */
cudaError_t vitc_cuda_patch_unfold(cudaStream_t s, enum vitc_cuda_dtype t, const float *pixels,
                                   size_t n, size_t C, size_t H, size_t W, size_t P,
                                   void *patches);

/* x (n * (Np + 1), D) dtype = [cls; patch_emb (n * Np, D) dtype] + pos
 * ((Np + 1), D); cls and pos float32. */
cudaError_t vitc_cuda_assemble_tokens(cudaStream_t s, enum vitc_cuda_dtype t, const void *patch_emb,
                                      const float *cls, const float *pos, size_t n, size_t Np,
                                      size_t D, void *x);

/* The same with n_prefix float32 rows `prefix` (n_prefix, D) before the
 * patches: x (n * (Np + n_prefix), D), pos ((Np + n_prefix), D). */
cudaError_t vitc_cuda_assemble_prefix(cudaStream_t s, enum vitc_cuda_dtype t, const void *patch_emb,
                                      const float *prefix, size_t n_prefix, const float *pos,
                                      size_t n, size_t Np, size_t D, void *x);

/* y (rows, I) = silu(x[:, :I]) * x[:, I:] (dtype), x (rows, 2I). */
cudaError_t vitc_cuda_swiglu(cudaStream_t s, enum vitc_cuda_dtype t, const void *x, void *y,
                             size_t rows, size_t I);

/* out (n, H * hd) = attention of the one query q (H * hd, float32) over each
 * image's n_tok rows of kv (n * n_tok, 2 * H * hd: k | v), kv and out dtype. */
cudaError_t vitc_cuda_attention_pool(cudaStream_t s, enum vitc_cuda_dtype t, const float *q,
                                     const void *kv, void *out, size_t n, size_t n_tok, size_t H,
                                     size_t hd);

/* out (n_rows, cols) = x rows 0, stride, 2 * stride, ... (dtype). */
cudaError_t vitc_cuda_gather_rows(cudaStream_t s, enum vitc_cuda_dtype t, const void *x,
                                  size_t stride, size_t n_rows, size_t cols, void *out);

/* y = act(y) + res for n elements (dtype); res may be NULL, not y. */
cudaError_t vitc_cuda_activation(cudaStream_t s, enum vitc_cuda_dtype t, enum vitc_act act, void *y,
                                 const void *res, size_t n);

}

#endif /* VITC_BACKEND_CUDA_CUH */
