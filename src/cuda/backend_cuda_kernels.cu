/* SPDX-License-Identifier: MIT
 *
 * backend_cuda_kernels.cu — vitc's own CUDA kernels (backend_cuda.cuh):
 * conversions, LayerNorm, fused attention, patch unfold, token assembly,
 * row gather and activations. Each is templated on the activation storage
 * type (float, __nv_bfloat16, __half) and computes in float32; the CPU
 * kernels in kernels_ref.c are their reference, and tests/unit/cuda/test_cuda.c
 * compares whole forwards. Kernel layer: no allocation, no synchronisation,
 * no error handling beyond returning the launch status.
 */
#include <cuda_bf16.h>
#include <cuda_fp16.h>
#include <math.h>
#include <type_traits>

#include "cuda/backend_cuda.cuh"

/* ---- storage types ---- */

static __device__ __forceinline__ float ld(const float *p, size_t i)
{
    return p[i];
}
static __device__ __forceinline__ float ld(const __nv_bfloat16 *p, size_t i)
{
    return __bfloat162float(p[i]);
}
static __device__ __forceinline__ float ld(const __half *p, size_t i)
{
    return __half2float(p[i]);
}
static __device__ __forceinline__ void st(float *p, size_t i, float v)
{
    p[i] = v;
}
static __device__ __forceinline__ void st(__nv_bfloat16 *p, size_t i, float v)
{
    p[i] = __float2bfloat16_rn(v);
}
static __device__ __forceinline__ void st(__half *p, size_t i, float v)
{
    p[i] = __float2half_rn(v);
}

/* Calls f with a null pointer of the storage type of t, so one generic
 * lambda launches the matching kernel instance. */
template <typename F> static cudaError_t by_dtype(enum vitc_cuda_dtype t, F f)
{
    switch (t) {
    case VITC_CUDA_BF16:
        return f(static_cast<__nv_bfloat16 *>(nullptr));
    case VITC_CUDA_F16:
        return f(static_cast<__half *>(nullptr));
    case VITC_CUDA_F32:
        break;
    }
    return f(static_cast<float *>(nullptr));
}

/* Element-wise kernels: 256 threads per block, grid-stride loops over
 * size_t indices, at most 2^16 blocks (enough to fill any GPU; the loop
 * covers the rest). */
#define EW_THREADS 256
static unsigned ew_blocks(size_t n)
{
    size_t b = (n + EW_THREADS - 1) / EW_THREADS;
    return (unsigned)(b < 65536 ? b : 65536);
}

static __device__ __forceinline__ size_t ew_index()
{
    return (size_t)blockIdx.x * blockDim.x + threadIdx.x;
}
static __device__ __forceinline__ size_t ew_stride()
{
    return (size_t)gridDim.x * blockDim.x;
}

/* ---- conversions ---- */

template <typename T> __global__ void from_f32_kernel(const float *src, T *dst, size_t n)
{
    for (size_t i = ew_index(); i < n; i += ew_stride()) {
        st(dst, i, src[i]);
    }
}

template <typename T> __global__ void to_f32_kernel(const T *src, float *dst, size_t n)
{
    for (size_t i = ew_index(); i < n; i += ew_stride()) {
        dst[i] = ld(src, i);
    }
}

cudaError_t vitc_cuda_from_f32(cudaStream_t s, enum vitc_cuda_dtype t, const float *src, void *dst,
                               size_t n)
{
    if (n == 0) {
        return cudaSuccess;
    }
    return by_dtype(t, [&](auto tag) {
        using T = std::remove_pointer_t<decltype(tag)>;
        from_f32_kernel<T><<<ew_blocks(n), EW_THREADS, 0, s>>>(src, static_cast<T *>(dst), n);
        return cudaGetLastError();
    });
}

cudaError_t vitc_cuda_to_f32(cudaStream_t s, enum vitc_cuda_dtype t, const void *src, float *dst,
                             size_t n)
{
    if (n == 0) {
        return cudaSuccess;
    }
    return by_dtype(t, [&](auto tag) {
        using T = std::remove_pointer_t<decltype(tag)>;
        to_f32_kernel<T><<<ew_blocks(n), EW_THREADS, 0, s>>>(static_cast<const T *>(src), dst, n);
        return cudaGetLastError();
    });
}

/* ---- warp reductions ---- */

static __device__ __forceinline__ float warp_sum(float v)
{
    for (int o = 16; o > 0; o >>= 1) {
        v += __shfl_xor_sync(0xffffffffu, v, o);
    }
    return v;
}

static __device__ __forceinline__ float warp_max(float v)
{
    for (int o = 16; o > 0; o >>= 1) {
        v = fmaxf(v, __shfl_xor_sync(0xffffffffu, v, o));
    }
    return v;
}

/* ---- LayerNorm ---- */

/* One warp per row, 8 rows per block. Three passes over the row (mean,
 * variance around the mean, normalise), the later ones from L1/L2: a ViT
 * row is 3 KB. Traffic: one read and one write of x. */
#define LN_WARPS 8

template <typename T>
__global__ void layernorm_kernel(const T *x, T *y, size_t rows, size_t cols, const float *w,
                                 const float *b, float eps)
{
    size_t row = (size_t)blockIdx.x * LN_WARPS + threadIdx.x / 32;
    unsigned lane = threadIdx.x % 32;
    if (row >= rows) {
        return; /* whole warps leave together: row is uniform in a warp */
    }
    const T *xr = x + row * cols;
    T *yr = y + row * cols;
    float sum = 0.0f;
    for (size_t c = lane; c < cols; c += 32) {
        sum += ld(xr, c);
    }
    float mean = warp_sum(sum) / (float)cols;
    float var = 0.0f;
    for (size_t c = lane; c < cols; c += 32) {
        float d = ld(xr, c) - mean;
        var += d * d;
    }
    var = warp_sum(var) / (float)cols;
    float rstd = 1.0f / sqrtf(var + eps);
    /* y may be x: each element is read by the lane that writes it. */
    for (size_t c = lane; c < cols; c += 32) {
        st(yr, c, (ld(xr, c) - mean) * rstd * w[c] + b[c]);
    }
}

cudaError_t vitc_cuda_layernorm(cudaStream_t s, enum vitc_cuda_dtype t, const void *x, void *y,
                                size_t rows, size_t cols, const float *w, const float *b, float eps)
{
    if (rows == 0 || cols == 0) {
        return cudaSuccess;
    }
    size_t blocks = (rows + LN_WARPS - 1) / LN_WARPS;
    if (blocks > 0x7fffffffu) {
        return cudaErrorInvalidConfiguration;
    }
    return by_dtype(t, [&](auto tag) {
        using T = std::remove_pointer_t<decltype(tag)>;
        layernorm_kernel<T><<<(unsigned)blocks, LN_WARPS * 32, 0, s>>>(
            static_cast<const T *>(x), static_cast<T *>(y), rows, cols, w, b, eps);
        return cudaGetLastError();
    });
}

/* ---- attention ---- */

/* Grid (ceil(T / warps), H, n); one warp per query row. The block streams
 * the head's keys and values through shared memory in tiles of 32 keys
 * (float32, rows padded to hd + 1 floats so lane j reading key j's column
 * c hits bank (j * (hd + 1) + c) % 32, distinct for even hd). Per tile each
 * lane scores one key (q.k over hd, both from shared memory), the warp
 * updates a running max m and sum l (online softmax: earlier output and
 * sum are rescaled by exp(m_old - m_new)), and each lane accumulates its
 * output dims c = lane + 32 i. Scores never leave the chip; q, k and v are
 * each read once per block from global memory. Scores are (q.k) / sqrt(hd)
 * as in transformers (division of the product, not of q). */
#define ATTN_DIMS_PER_LANE (VITC_CUDA_ATTN_MAX_HD / 32)

template <typename T>
__global__ void attention_kernel(const T *qkv, T *out, int n_tokens, int n_heads, int hd,
                                 int kv_stride, float sqrt_d)
{
    extern __shared__ float smem[];
    const int warps = blockDim.x / 32, warp = threadIdx.x / 32, lane = threadIdx.x % 32;
    float *ks = smem;                                 /* (32, kv_stride) */
    float *vs = ks + VITC_CUDA_ATTN_KEYS * kv_stride; /* (32, kv_stride) */
    float *qs = vs + VITC_CUDA_ATTN_KEYS * kv_stride + (size_t)warp * (hd + VITC_CUDA_ATTN_KEYS);
    float *ps = qs + hd; /* (32) this tile's probabilities */

    const size_t D = (size_t)n_heads * hd, ld_qkv = 3 * D;
    const T *base = qkv + (size_t)blockIdx.z * n_tokens * ld_qkv + (size_t)blockIdx.y * hd;
    const int row = blockIdx.x * warps + warp;
    const bool active = row < n_tokens; /* uniform in the warp */
    if (active) {
        for (int c = lane; c < hd; c += 32) {
            qs[c] = ld(base, (size_t)row * ld_qkv + c);
        }
    }
    float m = -INFINITY, l = 0.0f, o[ATTN_DIMS_PER_LANE];
#pragma unroll
    for (int i = 0; i < ATTN_DIMS_PER_LANE; i++) {
        o[i] = 0.0f;
    }
    for (int j0 = 0; j0 < n_tokens; j0 += VITC_CUDA_ATTN_KEYS) {
        const int nk = min(VITC_CUDA_ATTN_KEYS, n_tokens - j0);
        __syncthreads(); /* the previous tile is consumed (and qs written) */
        for (int idx = threadIdx.x; idx < nk * hd; idx += blockDim.x) {
            int j = idx / hd, c = idx % hd;
            size_t at = (size_t)(j0 + j) * ld_qkv + c;
            ks[j * kv_stride + c] = ld(base, at + D);
            vs[j * kv_stride + c] = ld(base, at + 2 * D);
        }
        __syncthreads();
        if (!active) {
            continue;
        }
        float score = -INFINITY;
        if (lane < nk) {
            float acc = 0.0f;
            const float *kr = ks + lane * kv_stride;
            for (int c = 0; c < hd; c++) {
                acc = fmaf(qs[c], kr[c], acc);
            }
            score = acc / sqrt_d;
        }
        /* nk >= 1, so the tile's max is finite and so is m_new. */
        float m_new = fmaxf(m, warp_max(score));
        float p = lane < nk ? expf(score - m_new) : 0.0f;
        float scale = expf(m - m_new); /* 0 on the first tile (m = -inf) */
        l = l * scale + warp_sum(p);
        ps[lane] = p;
        __syncwarp();
#pragma unroll
        for (int i = 0; i < ATTN_DIMS_PER_LANE; i++) {
            o[i] *= scale;
        }
        for (int j = 0; j < nk; j++) {
            const float pj = ps[j];
            const float *vr = vs + j * kv_stride;
#pragma unroll
            for (int i = 0; i < ATTN_DIMS_PER_LANE; i++) {
                int c = lane + 32 * i;
                if (c < hd) {
                    o[i] = fmaf(pj, vr[c], o[i]);
                }
            }
        }
        __syncwarp(); /* ps is read before the next tile overwrites it */
        m = m_new;
    }
    if (active) {
        T *dst = out + ((size_t)blockIdx.z * n_tokens + row) * D + (size_t)blockIdx.y * hd;
#pragma unroll
        for (int i = 0; i < ATTN_DIMS_PER_LANE; i++) {
            int c = lane + 32 * i;
            if (c < hd) {
                st(dst, c, o[i] / l);
            }
        }
    }
}

cudaError_t vitc_cuda_attention(cudaStream_t s, enum vitc_cuda_dtype t,
                                const struct vitc_cuda_attn_plan *plan, const void *qkv, void *out,
                                size_t n, size_t T, size_t H, size_t hd)
{
    if (n == 0) {
        return cudaSuccess;
    }
    if (n > 65535 || H > 65535 || T > 0x7fffffff || hd > VITC_CUDA_ATTN_MAX_HD ||
        plan->kv_stride != hd + 1 || (size_t)plan->grid_x * plan->warps < T) {
        return cudaErrorInvalidConfiguration;
    }
    dim3 grid(plan->grid_x, (unsigned)H, (unsigned)n);
    float sqrt_d = sqrtf((float)hd);
    return by_dtype(t, [&](auto tag) {
        using E = std::remove_pointer_t<decltype(tag)>;
        attention_kernel<E><<<grid, plan->warps * 32, plan->smem_bytes, s>>>(
            static_cast<const E *>(qkv), static_cast<E *>(out), (int)T, (int)H, (int)hd,
            (int)plan->kv_stride, sqrt_d);
        return cudaGetLastError();
    });
}

/* ---- embeddings and gathers ---- */

/* One thread per output element (c, ky, kx fastest last): reads of a
 * patch row are P floats apart in the image, writes are contiguous. */
template <typename T>
__global__ void patch_unfold_kernel(const float *px, size_t n, size_t C, size_t H, size_t W,
                                    size_t P, T *patches)
{
    const size_t gh = H / P, gw = W / P, cols = C * P * P, total = n * gh * gw * cols;
    for (size_t i = ew_index(); i < total; i += ew_stride()) {
        size_t col = i % cols, prow = i / cols;
        size_t img = prow / (gh * gw), g = prow % (gh * gw), gy = g / gw, gx = g % gw;
        size_t c = col / (P * P), ky = (col / P) % P, kx = col % P;
        st(patches, i, px[((img * C + c) * H + gy * P + ky) * W + gx * P + kx]);
    }
}

cudaError_t vitc_cuda_patch_unfold(cudaStream_t s, enum vitc_cuda_dtype t, const float *pixels,
                                   size_t n, size_t C, size_t H, size_t W, size_t P,
                                   void *patches)
{
    size_t gh = P ? H / P : 0, gw = P ? W / P : 0;
    size_t total = n * gh * gw * C * P * P; /* the ctx's plan bounds it */
    if (total == 0) {
        return cudaSuccess;
    }
    return by_dtype(t, [&](auto tag) {
        using E = std::remove_pointer_t<decltype(tag)>;
        patch_unfold_kernel<E>
            <<<ew_blocks(total), EW_THREADS, 0, s>>>(pixels, n, C, H, W, P,
                                                     static_cast<E *>(patches));
        return cudaGetLastError();
    });
}

template <typename T>
__global__ void assemble_tokens_kernel(const T *patch_emb, const float *cls, const float *pos,
                                       size_t n, size_t Np, size_t D, T *x)
{
    const size_t T_ = Np + 1, total = n * T_ * D;
    for (size_t i = ew_index(); i < total; i += ew_stride()) {
        size_t d = i % D, tok = (i / D) % T_, img = i / (D * T_);
        float v = tok == 0 ? cls[d] : ld(patch_emb, (img * Np + tok - 1) * D + d);
        st(x, i, v + pos[tok * D + d]);
    }
}

cudaError_t vitc_cuda_assemble_tokens(cudaStream_t s, enum vitc_cuda_dtype t, const void *patch_emb,
                                      const float *cls, const float *pos, size_t n, size_t Np,
                                      size_t D, void *x)
{
    size_t total = n * (Np + 1) * D;
    if (total == 0) {
        return cudaSuccess;
    }
    return by_dtype(t, [&](auto tag) {
        using E = std::remove_pointer_t<decltype(tag)>;
        assemble_tokens_kernel<E><<<ew_blocks(total), EW_THREADS, 0, s>>>(
            static_cast<const E *>(patch_emb), cls, pos, n, Np, D, static_cast<E *>(x));
        return cudaGetLastError();
    });
}

template <typename T>
__global__ void assemble_prefix_kernel(const T *patch_emb, const float *prefix, size_t n_prefix,
                                       const float *pos, size_t n, size_t Np, size_t D, T *x)
{
    const size_t T_ = Np + n_prefix, total = n * T_ * D;
    for (size_t i = ew_index(); i < total; i += ew_stride()) {
        size_t d = i % D, tok = (i / D) % T_, img = i / (D * T_);
        float v = tok < n_prefix ? prefix[tok * D + d]
                                 : ld(patch_emb, (img * Np + tok - n_prefix) * D + d);
        st(x, i, v + pos[tok * D + d]);
    }
}

cudaError_t vitc_cuda_assemble_prefix(cudaStream_t s, enum vitc_cuda_dtype t, const void *patch_emb,
                                      const float *prefix, size_t n_prefix, const float *pos,
                                      size_t n, size_t Np, size_t D, void *x)
{
    size_t total = n * (Np + n_prefix) * D;
    if (total == 0) {
        return cudaSuccess;
    }
    return by_dtype(t, [&](auto tag) {
        using E = std::remove_pointer_t<decltype(tag)>;
        assemble_prefix_kernel<E><<<ew_blocks(total), EW_THREADS, 0, s>>>(
            static_cast<const E *>(patch_emb), prefix, n_prefix, pos, n, Np, D,
            static_cast<E *>(x));
        return cudaGetLastError();
    });
}

template <typename T>
__global__ void swiglu_kernel(const T *x, T *y, size_t rows, size_t I)
{
    const size_t total = rows * I;
    for (size_t i = ew_index(); i < total; i += ew_stride()) {
        size_t r = i / I, c = i % I;
        float a = ld(x, r * 2 * I + c), g = ld(x, r * 2 * I + I + c);
        st(y, i, a / (1.0f + expf(-a)) * g);
    }
}

cudaError_t vitc_cuda_swiglu(cudaStream_t s, enum vitc_cuda_dtype t, const void *x, void *y,
                             size_t rows, size_t I)
{
    size_t total = rows * I;
    if (total == 0) {
        return cudaSuccess;
    }
    return by_dtype(t, [&](auto tag) {
        using E = std::remove_pointer_t<decltype(tag)>;
        swiglu_kernel<E><<<ew_blocks(total), EW_THREADS, 0, s>>>(static_cast<const E *>(x),
                                                                 static_cast<E *>(y), rows, I);
        return cudaGetLastError();
    });
}

/* Attention pooling: one thread per (image, head, output column); it is a
 * small head (one query), so plain loops over the tokens, mirroring
 * vitc_kernels_attention_pool. */
template <typename T>
__global__ void attention_pool_kernel(const float *q, const T *kv, T *out, size_t n, size_t n_tok,
                                      size_t H, size_t hd)
{
    const size_t D = H * hd, total = n * D;
    const float scale = 1.0f / sqrtf((float)hd);
    for (size_t i = ew_index(); i < total; i += ew_stride()) {
        size_t img = i / D, h = (i % D) / hd, j = i % hd;
        float mx = -INFINITY;
        for (size_t t = 0; t < n_tok; t++) {
            float sc = 0.0f;
            for (size_t e = 0; e < hd; e++) {
                sc += q[h * hd + e] * ld(kv, (img * n_tok + t) * 2 * D + h * hd + e);
            }
            mx = fmaxf(mx, sc * scale);
        }
        float sum = 0.0f, acc = 0.0f;
        for (size_t t = 0; t < n_tok; t++) {
            float sc = 0.0f;
            for (size_t e = 0; e < hd; e++) {
                sc += q[h * hd + e] * ld(kv, (img * n_tok + t) * 2 * D + h * hd + e);
            }
            float p = expf(sc * scale - mx);
            sum += p;
            acc += p * ld(kv, (img * n_tok + t) * 2 * D + D + h * hd + j);
        }
        st(out, i, acc / sum);
    }
}

cudaError_t vitc_cuda_attention_pool(cudaStream_t s, enum vitc_cuda_dtype t, const float *q,
                                     const void *kv, void *out, size_t n, size_t n_tok, size_t H,
                                     size_t hd)
{
    size_t total = n * H * hd;
    if (total == 0) {
        return cudaSuccess;
    }
    return by_dtype(t, [&](auto tag) {
        using E = std::remove_pointer_t<decltype(tag)>;
        attention_pool_kernel<E><<<ew_blocks(total), EW_THREADS, 0, s>>>(
            q, static_cast<const E *>(kv), static_cast<E *>(out), n,
            n_tok, H, hd);
        return cudaGetLastError();
    });
}

template <typename T>
__global__ void gather_rows_kernel(const T *x, size_t stride, size_t n_rows, size_t cols, T *out)
{
    const size_t total = n_rows * cols;
    for (size_t i = ew_index(); i < total; i += ew_stride()) {
        size_t r = i / cols, c = i % cols;
        out[i] = x[r * stride * cols + c];
    }
}

cudaError_t vitc_cuda_gather_rows(cudaStream_t s, enum vitc_cuda_dtype t, const void *x,
                                  size_t stride, size_t n_rows, size_t cols, void *out)
{
    size_t total = n_rows * cols;
    if (total == 0) {
        return cudaSuccess;
    }
    return by_dtype(t, [&](auto tag) {
        using E = std::remove_pointer_t<decltype(tag)>;
        gather_rows_kernel<E><<<ew_blocks(total), EW_THREADS, 0, s>>>(
            static_cast<const E *>(x), stride, n_rows, cols, static_cast<E *>(out));
        return cudaGetLastError();
    });
}

/* ---- activations ---- */

/* The formulas of kernels_ref.c's act_row_ref, in the same float
 * operations (erff, tanhf and expf are CUDA's accurate versions: vitc is
 * not built with --use_fast_math). */
static __device__ __forceinline__ float act_fn(enum vitc_act act, float x)
{
    switch (act) {
    case VITC_ACT_NONE:
        return x;
    case VITC_ACT_GELU:
        return x * 0.5f * (1.0f + erff(x * 0.70710678118654752f));
    case VITC_ACT_GELU_TANH:
        return 0.5f * x * (1.0f + tanhf(0.7978845608028654f * (x + 0.044715f * (x * x * x))));
    case VITC_ACT_QUICK_GELU:
        return x / (1.0f + expf(-1.702f * x));
    case VITC_ACT_RELU:
        return x > 0.0f ? x : 0.0f;
    case VITC_ACT_SILU:
        return x / (1.0f + expf(-x));
    case VITC_ACT_TANH:
        return tanhf(x);
    }
    return x;
}

template <typename T>
__global__ void activation_kernel(enum vitc_act act, T *y, const T *res, size_t n)
{
    for (size_t i = ew_index(); i < n; i += ew_stride()) {
        float v = act_fn(act, ld(y, i));
        st(y, i, res ? v + ld(res, i) : v);
    }
}

cudaError_t vitc_cuda_activation(cudaStream_t s, enum vitc_cuda_dtype t, enum vitc_act act, void *y,
                                 const void *res, size_t n)
{
    if (n == 0) {
        return cudaSuccess;
    }
    return by_dtype(t, [&](auto tag) {
        using E = std::remove_pointer_t<decltype(tag)>;
        activation_kernel<E><<<ew_blocks(n), EW_THREADS, 0, s>>>(act, static_cast<E *>(y),
                                                                 static_cast<const E *>(res), n);
        return cudaGetLastError();
    });
}
