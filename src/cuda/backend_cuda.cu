/* SPDX-License-Identifier: MIT
 *
 * backend_cuda.cu — the CUDA backend: implements backend.h on one device
 * and one stream per ctx. At creation it uploads the model's weights once,
 * converted to the compute precision (cuda_plan.c lays them out; the ops
 * find them by the host pointers the graph passes), and sizes everything a
 * forward needs: the activation arena (through alloc), a pinned host and a
 * float32 device staging buffer, the cuBLASLt workspace. A forward then
 * allocates nothing and synchronises nowhere (it only waits, before it
 * starts, for the previous forward to release the pinned buffer); its only
 * host round trip is the copy of outputs (download). GEMMs run in cuBLASLt (bias, ReLU and the
 * residual fused in its epilogue), the rest in backend_cuda_kernels.cu.
 * Without a tap, a batch size's first forward runs op by op (a warm-up:
 * kernels load, cuBLASLt initialises), its second is captured into a CUDA
 * graph and launched, and later ones replay that graph: the ops then only
 * copy the pixels into the pinned buffer (forward_begin/forward_end).
 *
 * Storage: weights and activations in one element type (float32 for fp32
 * and tf32, bfloat16 or binary16), accumulation in float32; the pixel
 * buffer alone stays float32 (upload writes it, patch_unfold reads it), as
 * do LayerNorm weights, CLS and position embeddings. Downloads convert back
 * to float32. Backend layer: no model structure beyond the weights it
 * uploads, no file formats. cuBLASLt is opened with dlopen when a ctx is
 * created, and cudart is linked statically, so a vitc built here runs on
 * machines without a GPU, a driver or the CUDA libraries (a CUDA ctx then
 * fails with a message).
 */
#include <cublasLt.h>
#include <cuda_runtime.h>
#include <dlfcn.h>
#include <math.h>
#include <string.h>

#include "cuda/backend_cuda.cuh"

extern "C" {
#include "base/err.h"
#include "cuda/backend_cuda.h"
#include "cuda/cuda_plan.h"
#include "model/model.h"
}

/* cuBLASLt's recommended workspace for Hopper (32 MiB; 4 MiB would do on
 * Ampere): lets it pick split-K and stream-K algorithms. */
#define LT_WORKSPACE_BYTES ((size_t)32 << 20)

#define STR2(x) #x
#define STR(x)  STR2(x)
/* The soname of the cuBLASLt this file was compiled against. */
#define LT_SONAME "libcublasLt.so." STR(CUBLAS_VER_MAJOR)

/* Turns a failed CUDA runtime call into VITC_ERR_BACKEND with its reason,
 * returning from the calling function. */
#define CU_TRY(call, what)                                                                         \
    do {                                                                                           \
        cudaError_t e_ = (call);                                                                   \
        if (e_ != cudaSuccess) {                                                                   \
            return cuda_fail(e_, what);                                                            \
        }                                                                                          \
    } while (0)

static vitc_status cuda_fail(cudaError_t e, const char *what)
{
    return vitc_error(VITC_ERR_BACKEND, "cuda backend: %s: %s (%s)", what, cudaGetErrorString(e),
                      cudaGetErrorName(e));
}

/* ---- cuBLASLt, opened at run time ---- */

struct lt_api {
    void *so;
    decltype(&cublasLtCreate) create;
    decltype(&cublasLtDestroy) destroy;
    decltype(&cublasLtGetStatusString) status_string;
    decltype(&cublasLtMatmulDescCreate) desc_create;
    decltype(&cublasLtMatmulDescDestroy) desc_destroy;
    decltype(&cublasLtMatmulDescSetAttribute) desc_set;
    decltype(&cublasLtMatrixLayoutCreate) layout_create;
    decltype(&cublasLtMatrixLayoutDestroy) layout_destroy;
    decltype(&cublasLtMatrixLayoutSetAttribute) layout_set;
    decltype(&cublasLtMatmulPreferenceCreate) pref_create;
    decltype(&cublasLtMatmulPreferenceDestroy) pref_destroy;
    decltype(&cublasLtMatmulPreferenceSetAttribute) pref_set;
    decltype(&cublasLtMatmulAlgoGetHeuristic) heuristic;
    decltype(&cublasLtMatmul) matmul;
};

/* Looks one symbol up into *slot; false when it is missing. */
template <typename F> static bool lt_sym(void *so, const char *name, F *slot)
{
    void *p = dlsym(so, name);
    memcpy(slot, &p, sizeof p); /* object to function pointer: POSIX allows it */
    return p != NULL;
}

static vitc_status lt_open(struct lt_api *lt)
{
    const char *tried = LT_SONAME;
    lt->so = dlopen(LT_SONAME, RTLD_NOW | RTLD_LOCAL);
#ifdef VITC_CUDA_LIBDIR
    /* The toolkit this build used, for machines where its lib directory is
     * not in the loader's path. */
    if (!lt->so) {
        tried = VITC_CUDA_LIBDIR "/" LT_SONAME;
        lt->so = dlopen(tried, RTLD_NOW | RTLD_LOCAL);
    }
#endif
    if (!lt->so) {
        return vitc_error(VITC_ERR_UNSUPPORTED, "cuda backend: cannot load %s (cuBLASLt): %s",
                          tried, dlerror());
    }
    struct {
        const char *name;
        bool ok;
    } sym[] = {
        {"cublasLtCreate", lt_sym(lt->so, "cublasLtCreate", &lt->create)},
        {"cublasLtDestroy", lt_sym(lt->so, "cublasLtDestroy", &lt->destroy)},
        {"cublasLtGetStatusString", lt_sym(lt->so, "cublasLtGetStatusString", &lt->status_string)},
        {"cublasLtMatmulDescCreate", lt_sym(lt->so, "cublasLtMatmulDescCreate", &lt->desc_create)},
        {"cublasLtMatmulDescDestroy",
         lt_sym(lt->so, "cublasLtMatmulDescDestroy", &lt->desc_destroy)},
        {"cublasLtMatmulDescSetAttribute",
         lt_sym(lt->so, "cublasLtMatmulDescSetAttribute", &lt->desc_set)},
        {"cublasLtMatrixLayoutCreate",
         lt_sym(lt->so, "cublasLtMatrixLayoutCreate", &lt->layout_create)},
        {"cublasLtMatrixLayoutDestroy",
         lt_sym(lt->so, "cublasLtMatrixLayoutDestroy", &lt->layout_destroy)},
        {"cublasLtMatrixLayoutSetAttribute",
         lt_sym(lt->so, "cublasLtMatrixLayoutSetAttribute", &lt->layout_set)},
        {"cublasLtMatmulPreferenceCreate",
         lt_sym(lt->so, "cublasLtMatmulPreferenceCreate", &lt->pref_create)},
        {"cublasLtMatmulPreferenceDestroy",
         lt_sym(lt->so, "cublasLtMatmulPreferenceDestroy", &lt->pref_destroy)},
        {"cublasLtMatmulPreferenceSetAttribute",
         lt_sym(lt->so, "cublasLtMatmulPreferenceSetAttribute", &lt->pref_set)},
        {"cublasLtMatmulAlgoGetHeuristic",
         lt_sym(lt->so, "cublasLtMatmulAlgoGetHeuristic", &lt->heuristic)},
        {"cublasLtMatmul", lt_sym(lt->so, "cublasLtMatmul", &lt->matmul)},
    };
    for (size_t i = 0; i < sizeof sym / sizeof sym[0]; i++) {
        if (!sym[i].ok) {
            return vitc_error(VITC_ERR_UNSUPPORTED, "cuda backend: %s has no %s", tried,
                              sym[i].name);
        }
    }
    return VITC_OK;
}

/* ---- the backend's state ---- */

enum mode {
    MODE_IDLE,    /* between forwards                                        */
    MODE_EAGER,   /* a forward whose ops run as they come (a tap is set)     */
    MODE_CAPTURE, /* a forward recorded into a graph, launched at its end    */
    MODE_REPLAY   /* a forward replaying a graph: ops only do host work      */
};

struct cuda_backend {
    struct vitc_be base;
    int device;
    vitc_precision precision;
    enum vitc_cuda_dtype dtype;
    size_t elem; /* bytes per stored weight / activation element */
    cudaStream_t stream;
    cudaEvent_t start; /* recorded before each forward's first operation      */
    cudaEvent_t done;  /* and after its last: io_host is free again           */
    bool done_pending; /* done has been recorded since the last wait          */
    bool timed;        /* start and done bracket the last successful forward  */
    size_t free_at_start, peak_bytes;

    struct lt_api lt;
    cublasLtHandle_t lt_handle;
    cublasLtMatmulDesc_t mm;           /* one descriptor, epilogue set per call   */
    cublasLtMatrixLayout_t la, lb, lc; /* W, x and y/res; sizes set per call     */
    cublasLtMatmulPreference_t pref;
    void *workspace;

    struct vitc_cuda_wplan wplan;
    unsigned char *weights; /* the device weight block (wplan.bytes)          */

    size_t io_floats;
    float *io_host;       /* pinned (io_floats): every upload and download         */
    float *io_dev;        /* device (io_floats) float32, for 16-bit conversions;
                             NULL when activations are float32                  */
    const float *f32_buf; /* the pixel buffer upload wrote: float32 storage  */
    size_t f32_n;

    enum mode mode;
    int slot; /* its graph cache slot (capture, replay) */
    struct vitc_cuda_graph_cache graphs;
    cudaGraphExec_t exec[VITC_CUDA_GRAPH_SLOTS];
};

static struct cuda_backend *cu(struct vitc_be *be)
{
    return static_cast<struct cuda_backend *>(be->impl);
}

static vitc_status lt_fail(const struct cuda_backend *b, cublasStatus_t st, const char *what)
{
    return vitc_error(VITC_ERR_BACKEND, "cuda backend: cuBLASLt %s: %s", what,
                      b->lt.status_string ? b->lt.status_string(st) : "error");
}

/* Samples the device memory in use (all of this process's on the device)
 * into the peak. Host-only query; called outside forwards. */
static void sample_memory(struct cuda_backend *b)
{
    size_t free_b = 0, total = 0;
    if (cudaMemGetInfo(&free_b, &total) == cudaSuccess && free_b < b->free_at_start &&
        b->free_at_start - free_b > b->peak_bytes) {
        b->peak_bytes = b->free_at_start - free_b;
    }
}

/* The device copy of a weight the graph passes by its host pointer. */
static const void *weight(const struct cuda_backend *b, const void *key, enum vitc_cuda_wkind kind)
{
    const struct vitc_cuda_wentry *e = vitc_cuda_wplan_find(&b->wplan, key, kind);
    return e ? b->weights + e->offset : NULL;
}

static vitc_status missing_weight(const char *what)
{
    return vitc_error(VITC_ERR_BACKEND, "cuda backend: %s was not uploaded with the model", what);
}

/* True when ops must enqueue work (not a replay). */
static bool enqueue(const struct cuda_backend *b)
{
    return b->mode != MODE_REPLAY;
}

/* ---- memory ---- */

static vitc_status cuda_alloc(struct vitc_be *be, size_t n_floats, float **out)
{
    struct cuda_backend *b = cu(be);
    size_t bytes = 0;
    void *p = NULL;
    if (vitc_mul_size(n_floats, sizeof(float), &bytes)) {
        return vitc_error(VITC_ERR_NOMEM, "cuda backend: %zu floats do not fit in memory",
                          n_floats);
    }
    CU_TRY(cudaSetDevice(b->device), "cudaSetDevice");
    cudaError_t e = cudaMalloc(&p, bytes ? bytes : 1);
    if (e != cudaSuccess) {
        return vitc_error(e == cudaErrorMemoryAllocation ? VITC_ERR_NOMEM : VITC_ERR_BACKEND,
                          "cuda backend: cannot allocate %zu bytes of activations on cuda:%d: %s",
                          bytes, b->device, cudaGetErrorString(e));
    }
    *out = static_cast<float *>(p);
    sample_memory(b);
    return VITC_OK;
}

static void cuda_release(struct vitc_be *be, float *buf)
{
    struct cuda_backend *b = cu(be);
    if (buf && cudaSetDevice(b->device) == cudaSuccess) {
        cudaStreamSynchronize(b->stream);
        cudaFree(buf);
    }
}

/* Waits until the last forward no longer reads io_host (called before a
 * forward starts, so never inside a capture). */
static vitc_status wait_done(struct cuda_backend *b)
{
    if (b->done_pending) {
        CU_TRY(cudaEventSynchronize(b->done), "waiting for the previous forward");
        b->done_pending = false;
    }
    return VITC_OK;
}

/* Host pixels into the float32 buffer dst, through the pinned staging
 * buffer. In a replay only the host copy runs: the graph holds the H2D. */
static vitc_status cuda_upload(struct vitc_be *be, float *dst, const float *src, size_t n)
{
    struct cuda_backend *b = cu(be);
    if (n > b->io_floats) {
        return vitc_error(VITC_ERR_BACKEND,
                          "cuda backend: upload of %zu floats exceeds the %zu "
                          "this ctx was sized for",
                          n, b->io_floats);
    }
    memcpy(b->io_host, src, n * sizeof *src); /* forward_begin waited for the last reader */
    b->f32_buf = dst;
    b->f32_n = n;
    if (enqueue(b)) {
        CU_TRY(cudaMemcpyAsync(dst, b->io_host, n * sizeof *src, cudaMemcpyHostToDevice, b->stream),
               "copying pixel_values to the device");
    }
    return VITC_OK;
}

/* Backend memory to host floats: converted to float32 on the device when
 * stored in 16 bits, copied into the pinned buffer, then waited for. */
static vitc_status cuda_download(struct vitc_be *be, float *dst, const float *src, size_t n)
{
    struct cuda_backend *b = cu(be);
    if (b->mode == MODE_CAPTURE || b->mode == MODE_REPLAY) {
        return vitc_error(VITC_ERR_BACKEND, "cuda backend: download inside a captured forward");
    }
    if (n > b->io_floats) {
        return vitc_error(VITC_ERR_BACKEND,
                          "cuda backend: download of %zu floats exceeds the %zu "
                          "this ctx was sized for",
                          n, b->io_floats);
    }
    if (n == 0) {
        return VITC_OK;
    }
    CU_TRY(cudaSetDevice(b->device), "cudaSetDevice");
    const float *from = src;
    bool f32 = b->elem == sizeof(float) || (src >= b->f32_buf && src < b->f32_buf + b->f32_n);
    if (!f32) {
        CU_TRY(vitc_cuda_to_f32(b->stream, b->dtype, src, b->io_dev, n), "converting to float32");
        from = b->io_dev;
    }
    CU_TRY(cudaMemcpyAsync(b->io_host, from, n * sizeof *dst, cudaMemcpyDeviceToHost, b->stream),
           "copying results to the host");
    CU_TRY(cudaStreamSynchronize(b->stream), "running the forward");
    b->done_pending = false;
    memcpy(dst, b->io_host, n * sizeof *dst);
    sample_memory(b);
    return VITC_OK;
}

/* ---- linear ---- */

static cudaDataType_t lt_type(enum vitc_cuda_dtype t)
{
    return t == VITC_CUDA_BF16 ? CUDA_R_16BF : t == VITC_CUDA_F16 ? CUDA_R_16F : CUDA_R_32F;
}

/* Sets a layout's rows, columns and leading dimension (column-major). */
static cublasStatus_t set_layout(const struct cuda_backend *b, cublasLtMatrixLayout_t l,
                                 uint64_t rows, uint64_t cols, int64_t ld)
{
    cublasStatus_t st = b->lt.layout_set(l, CUBLASLT_MATRIX_LAYOUT_ROWS, &rows, sizeof rows);
    if (st == CUBLAS_STATUS_SUCCESS) {
        st = b->lt.layout_set(l, CUBLASLT_MATRIX_LAYOUT_COLS, &cols, sizeof cols);
    }
    if (st == CUBLAS_STATUS_SUCCESS) {
        st = b->lt.layout_set(l, CUBLASLT_MATRIX_LAYOUT_LD, &ld, sizeof ld);
    }
    return st;
}

static cublasStatus_t set_alignment(const struct cuda_backend *b,
                                    cublasLtMatmulPreferenceAttributes_t a, const void *p)
{
    uint32_t align = vitc_cuda_ptr_alignment((uintptr_t)p);
    return b->lt.pref_set(b->pref, a, &align, sizeof align);
}

/* y (M, N) = act(x (M, K) W^T + bias) + res as one cuBLASLt matmul in
 * column-major terms: y^T (N, M) = W (N, K) x^T, so A = W read transposed
 * (a (K, N) column-major matrix with ld K), B = x^T ((K, M), ld K) and
 * C = D = y^T ((N, M), ld N); the bias runs along D's rows. The residual
 * is C with beta = 1 (C may be D: in place). ReLU is cuBLASLt's epilogue;
 * the other activations (its GELU is the tanh form, not erf) run after in
 * vitc_cuda_activation, which also adds the residual in that case. */
static vitc_status cuda_linear(struct vitc_be *be, const struct vitc_linear *w, const float *x,
                               size_t M, float *y, enum vitc_act act, const float *res)
{
    struct cuda_backend *b = cu(be);
    static const float one = 1.0f, zero = 0.0f;
    const void *W = weight(b, w, VITC_CUDA_W_MATRIX);
    const void *bias = w->bias ? weight(b, w, VITC_CUDA_W_BIAS) : NULL;
    const size_t N = (size_t)w->n_out, K = (size_t)w->n_in;
    if (!W || (w->bias && !bias)) {
        return missing_weight("a linear layer's weight");
    }
    if (act != VITC_ACT_NONE && res && res == y) {
        return vitc_error(VITC_ERR_UNSUPPORTED,
                          "cuda backend: an activation with an in-place residual");
    }
    if (M == 0 || !enqueue(b)) {
        return VITC_OK;
    }
    /* The residual joins the matmul (as C) only without an activation, which
     * must come before it; ReLU joins it only without a residual. */
    const bool res_in_lt = res && act == VITC_ACT_NONE;
    const bool relu_in_lt = act == VITC_ACT_RELU && !res;
    uint32_t epi = bias ? (relu_in_lt ? CUBLASLT_EPILOGUE_RELU_BIAS : CUBLASLT_EPILOGUE_BIAS)
                        : (relu_in_lt ? CUBLASLT_EPILOGUE_RELU : CUBLASLT_EPILOGUE_DEFAULT);
    const void *C = res_in_lt ? res : y;
    const float *beta = res_in_lt ? &one : &zero;
    cublasStatus_t st = b->lt.desc_set(b->mm, CUBLASLT_MATMUL_DESC_EPILOGUE, &epi, sizeof epi);
    if (st == CUBLAS_STATUS_SUCCESS) {
        st = b->lt.desc_set(b->mm, CUBLASLT_MATMUL_DESC_BIAS_POINTER, &bias, sizeof bias);
    }
    if (st == CUBLAS_STATUS_SUCCESS) {
        st = set_layout(b, b->la, K, N, (int64_t)K);
    }
    if (st == CUBLAS_STATUS_SUCCESS) {
        st = set_layout(b, b->lb, K, M, (int64_t)K);
    }
    if (st == CUBLAS_STATUS_SUCCESS) {
        st = set_layout(b, b->lc, N, M, (int64_t)N);
    }
    /* The heuristic may only pick algorithms that hold for these pointers. */
    if (st == CUBLAS_STATUS_SUCCESS) {
        st = set_alignment(b, CUBLASLT_MATMUL_PREF_MIN_ALIGNMENT_A_BYTES, W);
    }
    if (st == CUBLAS_STATUS_SUCCESS) {
        st = set_alignment(b, CUBLASLT_MATMUL_PREF_MIN_ALIGNMENT_B_BYTES, x);
    }
    if (st == CUBLAS_STATUS_SUCCESS) {
        st = set_alignment(b, CUBLASLT_MATMUL_PREF_MIN_ALIGNMENT_C_BYTES, C);
    }
    if (st == CUBLAS_STATUS_SUCCESS) {
        st = set_alignment(b, CUBLASLT_MATMUL_PREF_MIN_ALIGNMENT_D_BYTES, y);
    }
    if (st != CUBLAS_STATUS_SUCCESS) {
        return lt_fail(b, st, "setting up a matmul");
    }
    cublasLtMatmulHeuristicResult_t h;
    int found = 0;
    st = b->lt.heuristic(b->lt_handle, b->mm, b->la, b->lb, b->lc, b->lc, b->pref, 1, &h, &found);
    if (st != CUBLAS_STATUS_SUCCESS || found == 0) {
        return st != CUBLAS_STATUS_SUCCESS
                   ? lt_fail(b, st, "algorithm search")
                   : vitc_error(VITC_ERR_BACKEND,
                                "cuda backend: cuBLASLt has no algorithm for a (%zu x %zu) x "
                                "(%zu x %zu)^T matmul",
                                M, K, N, K);
    }
    st = b->lt.matmul(b->lt_handle, b->mm, &one, W, b->la, x, b->lb, beta, C, b->lc, y, b->lc,
                      &h.algo, b->workspace, LT_WORKSPACE_BYTES, b->stream);
    if (st != CUBLAS_STATUS_SUCCESS) {
        return lt_fail(b, st, "matmul");
    }
    if (act != VITC_ACT_NONE && !relu_in_lt) {
        CU_TRY(vitc_cuda_activation(b->stream, b->dtype, act, y, res, M * N), "activation");
    }
    return VITC_OK;
}

/* ---- the other ops ---- */

static vitc_status cuda_layernorm(struct vitc_be *be, const float *x, float *y, size_t rows,
                                  size_t cols, const float *w, const float *bias, double eps)
{
    struct cuda_backend *b = cu(be);
    const float *dw = static_cast<const float *>(weight(b, w, VITC_CUDA_W_VECTOR));
    const float *db = static_cast<const float *>(weight(b, bias, VITC_CUDA_W_VECTOR));
    if (!dw || !db) {
        return missing_weight("a LayerNorm weight");
    }
    if (enqueue(b)) {
        CU_TRY(vitc_cuda_layernorm(b->stream, b->dtype, x, y, rows, cols, dw, db, (float)eps),
               "layernorm");
    }
    return VITC_OK;
}

static vitc_status cuda_attention(struct vitc_be *be, const float *qkv, float *out, size_t n_images,
                                  size_t n_tokens, size_t n_heads, size_t head_dim)
{
    struct cuda_backend *b = cu(be);
    struct vitc_cuda_attn_plan plan;
    if (vitc_cuda_attn_plan(n_tokens, head_dim, &plan) != 0) {
        return vitc_error(VITC_ERR_UNSUPPORTED,
                          "cuda backend: attention over %zu tokens x %zu dims has no launch shape",
                          n_tokens, head_dim);
    }
    if (enqueue(b)) {
        CU_TRY(vitc_cuda_attention(b->stream, b->dtype, &plan, qkv, out, n_images, n_tokens,
                                   n_heads, head_dim),
               "attention");
    }
    return VITC_OK;
}

static vitc_status cuda_patch_unfold(struct vitc_be *be, const float *pixels, size_t n, size_t C,
                                     size_t H, size_t W, size_t P, float *patches)
{
    struct cuda_backend *b = cu(be);
    if (enqueue(b)) {
        CU_TRY(vitc_cuda_patch_unfold(b->stream, b->dtype, pixels, n, C, H, W, P, patches),
               "patch unfold");
    }
    return VITC_OK;
}

static vitc_status cuda_assemble_tokens(struct vitc_be *be, const float *patch_emb,
                                        const float *cls, const float *pos, size_t n, size_t Np,
                                        size_t D, float *x)
{
    struct cuda_backend *b = cu(be);
    const float *dc = static_cast<const float *>(weight(b, cls, VITC_CUDA_W_VECTOR));
    const float *dp = static_cast<const float *>(weight(b, pos, VITC_CUDA_W_VECTOR));
    if (!dc || !dp) {
        return missing_weight("the CLS token or position embeddings");
    }
    if (enqueue(b)) {
        CU_TRY(vitc_cuda_assemble_tokens(b->stream, b->dtype, patch_emb, dc, dp, n, Np, D, x),
               "token assembly");
    }
    return VITC_OK;
}

static vitc_status cuda_assemble_prefix(struct vitc_be *be, const float *patch_emb,
                                        const float *prefix, size_t n_prefix, const float *pos,
                                        size_t n, size_t Np, size_t D, float *x)
{
    struct cuda_backend *b = cu(be);
    const float *dc =
        n_prefix ? static_cast<const float *>(weight(b, prefix, VITC_CUDA_W_VECTOR)) : NULL;
    const float *dp = static_cast<const float *>(weight(b, pos, VITC_CUDA_W_VECTOR));
    if ((n_prefix && !dc) || !dp) {
        return missing_weight("the prefix tokens or position embeddings");
    }
    if (enqueue(b)) {
        CU_TRY(vitc_cuda_assemble_prefix(b->stream, b->dtype, patch_emb, dc, n_prefix, dp, n, Np,
                                         D, x),
               "token assembly");
    }
    return VITC_OK;
}

static vitc_status cuda_swiglu(struct vitc_be *be, const float *x, float *y, size_t rows,
                               size_t I)
{
    struct cuda_backend *b = cu(be);
    if (enqueue(b)) {
        CU_TRY(vitc_cuda_swiglu(b->stream, b->dtype, x, y, rows, I), "swiglu");
    }
    return VITC_OK;
}

static vitc_status cuda_attention_pool(struct vitc_be *be, const float *q, const float *kv,
                                       float *out, size_t n_images, size_t n_tokens,
                                       size_t n_heads, size_t head_dim)
{
    struct cuda_backend *b = cu(be);
    const float *dq = static_cast<const float *>(weight(b, q, VITC_CUDA_W_VECTOR));
    if (!dq) {
        return missing_weight("the attention-pooling query");
    }
    if (enqueue(b)) {
        CU_TRY(vitc_cuda_attention_pool(b->stream, b->dtype, dq, kv, out, n_images, n_tokens,
                                        n_heads, head_dim),
               "attention pooling");
    }
    return VITC_OK;
}

static vitc_status cuda_gather_rows(struct vitc_be *be, const float *x, size_t stride,
                                    size_t n_rows, size_t cols, float *out)
{
    struct cuda_backend *b = cu(be);
    if (enqueue(b)) {
        CU_TRY(vitc_cuda_gather_rows(b->stream, b->dtype, x, stride, n_rows, cols, out),
               "row gather");
    }
    return VITC_OK;
}

/* ---- graph capture and replay ---- */

/* Records the start of a forward on the stream (outside any capture). */
static vitc_status record_start(struct cuda_backend *b)
{
    CU_TRY(cudaEventRecord(b->start, b->stream), "recording the start of a forward");
    return VITC_OK;
}

/* Starts a forward whose ops run as they come. */
static vitc_status begin_eager(struct cuda_backend *b)
{
    vitc_status s = record_start(b);
    b->mode = s == VITC_OK ? MODE_EAGER : MODE_IDLE;
    return s;
}

static vitc_status cuda_forward_begin(struct vitc_be *be, size_t n_images, bool capture)
{
    struct cuda_backend *b = cu(be);
    if (b->mode != MODE_IDLE) {
        return vitc_error(VITC_ERR_BACKEND, "cuda backend: a forward is already running on "
                                            "this ctx");
    }
    vitc_status s = VITC_OK;
    CU_TRY(cudaSetDevice(b->device), "cudaSetDevice");
    if ((s = wait_done(b)) != VITC_OK) {
        return s;
    }
    b->timed = false;
    if (!capture) {
        return begin_eager(b);
    }
    /* A batch size's first forward runs as it comes and claims a cache
     * slot: it loads the kernels and lets cuBLASLt initialise outside any
     * capture. The second is captured, the later ones replay. */
    b->slot = vitc_cuda_graph_find(&b->graphs, n_images);
    if (b->slot < 0) {
        bool evict = false;
        b->slot = vitc_cuda_graph_claim(&b->graphs, n_images, &evict);
        if (b->exec[b->slot]) {
            /* The evicted graph's last launch ended: wait_done waited for it. */
            cudaGraphExecDestroy(b->exec[b->slot]);
            b->exec[b->slot] = NULL;
        }
        return begin_eager(b);
    }
    if (b->exec[b->slot]) {
        b->mode = MODE_REPLAY;
        return VITC_OK;
    }
    /* Thread-local mode: this thread may call nothing unsafe to capture
     * (synchronous copies, device-wide syncs) until the capture ends. */
    cudaError_t e = cudaStreamBeginCapture(b->stream, cudaStreamCaptureModeThreadLocal);
    if (e != cudaSuccess) {
        b->mode = MODE_IDLE;
        return cuda_fail(e, "starting a graph capture");
    }
    b->mode = MODE_CAPTURE;
    return VITC_OK;
}

/* Records the end of a forward on the stream. */
static vitc_status record_done(struct cuda_backend *b)
{
    CU_TRY(cudaEventRecord(b->done, b->stream), "recording the end of a forward");
    b->done_pending = true;
    b->timed = true;
    return VITC_OK;
}

/* Launches graph slot between the start and done events. */
static vitc_status launch(struct cuda_backend *b, int slot)
{
    vitc_status s = record_start(b);
    if (s != VITC_OK) {
        return s;
    }
    CU_TRY(cudaGraphLaunch(b->exec[slot], b->stream), "launching the captured forward");
    return record_done(b);
}

/* Ends a capture: the recorded graph is instantiated into its cache slot
 * and launched; on a failed forward it is dropped (the slot stays claimed
 * and the next forward of that size captures again). */
static vitc_status end_capture(struct cuda_backend *b, vitc_status status)
{
    cudaGraph_t g = NULL;
    cudaError_t e = cudaStreamEndCapture(b->stream, &g);
    if (status != VITC_OK || e != cudaSuccess) {
        if (g) {
            cudaGraphDestroy(g);
        }
        return status != VITC_OK ? status : cuda_fail(e, "ending a graph capture");
    }
    e = cudaGraphInstantiate(&b->exec[b->slot], g, 0);
    cudaGraphDestroy(g);
    if (e != cudaSuccess) {
        b->exec[b->slot] = NULL;
        return cuda_fail(e, "instantiating the captured forward");
    }
    sample_memory(b);
    return launch(b, b->slot);
}

static vitc_status cuda_forward_end(struct vitc_be *be, vitc_status status)
{
    struct cuda_backend *b = cu(be);
    enum mode m = b->mode;
    b->mode = MODE_IDLE;
    switch (m) {
    case MODE_CAPTURE:
        return end_capture(b, status);
    case MODE_REPLAY:
        return status != VITC_OK ? status : launch(b, b->slot);
    case MODE_EAGER:
        return status != VITC_OK ? status : record_done(b);
    case MODE_IDLE:
        break;
    }
    return status;
}

static size_t cuda_device_memory(struct vitc_be *be)
{
    return cu(be)->peak_bytes;
}

static vitc_status cuda_device_time(struct vitc_be *be, double *ms)
{
    struct cuda_backend *b = cu(be);
    float t = 0.0f;
    if (!b->timed) {
        return vitc_error(VITC_ERR_INVALID_ARG, "cuda backend: the last forward failed");
    }
    CU_TRY(cudaSetDevice(b->device), "cudaSetDevice");
    CU_TRY(cudaEventSynchronize(b->done), "running the forward");
    CU_TRY(cudaEventElapsedTime(&t, b->start, b->done), "reading the forward's time");
    *ms = t;
    return VITC_OK;
}

/* ---- lifetime ---- */

static void cuda_free(struct vitc_be *be)
{
    struct cuda_backend *b = cu(be);
    if (!b) {
        return;
    }
    if (cudaSetDevice(b->device) == cudaSuccess && b->stream) {
        cudaStreamSynchronize(b->stream);
    }
    for (int i = 0; i < VITC_CUDA_GRAPH_SLOTS; i++) {
        if (b->exec[i]) {
            cudaGraphExecDestroy(b->exec[i]);
        }
    }
    if (b->lt.so) {
        if (b->pref) {
            b->lt.pref_destroy(b->pref);
        }
        if (b->la) {
            b->lt.layout_destroy(b->la);
        }
        if (b->lb) {
            b->lt.layout_destroy(b->lb);
        }
        if (b->lc) {
            b->lt.layout_destroy(b->lc);
        }
        if (b->mm) {
            b->lt.desc_destroy(b->mm);
        }
        if (b->lt_handle) {
            b->lt.destroy(b->lt_handle);
        }
        dlclose(b->lt.so);
    }
    cudaFree(b->workspace);
    cudaFree(b->weights);
    cudaFree(b->io_dev);
    cudaFreeHost(b->io_host);
    if (b->start) {
        cudaEventDestroy(b->start);
    }
    if (b->done) {
        cudaEventDestroy(b->done);
    }
    if (b->stream) {
        cudaStreamDestroy(b->stream);
    }
    vitc_cuda_wplan_free(&b->wplan);
    vitc_mem_free(b);
}

static const struct vitc_backend_ops cuda_ops = {
    .name = "cuda",
    .host_memory = false,
    .free = cuda_free,
    .alloc = cuda_alloc,
    .release = cuda_release,
    .upload = cuda_upload,
    .download = cuda_download,
    .linear = cuda_linear,
    .layernorm = cuda_layernorm,
    .attention = cuda_attention,
    .patch_unfold = cuda_patch_unfold,
    .assemble_tokens = cuda_assemble_tokens,
    .assemble_prefix = cuda_assemble_prefix,
    .swiglu = cuda_swiglu,
    .attention_pool = cuda_attention_pool,
    .gather_rows = cuda_gather_rows,
    .forward_begin = cuda_forward_begin,
    .forward_end = cuda_forward_end,
    .device_memory = cuda_device_memory,
    .device_time = cuda_device_time,
};

/* The device, checked: present, in range, and able to run this build's
 * code (sm_80 and sm_90 binaries, sm_90 PTX for newer GPUs): compute
 * capability 8.0 or newer, which bfloat16 needs anyway. */
static vitc_status open_device(int device)
{
    int n = 0;
    cudaError_t e = cudaGetDeviceCount(&n);
    if (e == cudaErrorInsufficientDriver) {
        /* What cudart reports when libcuda.so.1 is absent, too. */
        return vitc_error(VITC_ERR_UNSUPPORTED,
                          "cuda:%d: no CUDA device available (no NVIDIA driver, or one older "
                          "than CUDA %d.%d)",
                          device, CUDART_VERSION / 1000, CUDART_VERSION % 1000 / 10);
    }
    if (e != cudaSuccess || n == 0) {
        return vitc_error(VITC_ERR_UNSUPPORTED, "cuda:%d: no CUDA device available (%s)", device,
                          e != cudaSuccess ? cudaGetErrorString(e) : "no device found");
    }
    if (device < 0 || device >= n) {
        return vitc_error(VITC_ERR_INVALID_ARG, "cuda:%d: no such device (this machine has %d)",
                          device, n);
    }
    struct cudaDeviceProp prop;
    CU_TRY(cudaGetDeviceProperties(&prop, device), "cudaGetDeviceProperties");
    if (prop.major < 8) {
        return vitc_error(VITC_ERR_UNSUPPORTED,
                          "cuda:%d: %s has compute capability %d.%d; vitc's CUDA backend "
                          "needs 8.0 or newer",
                          device, prop.name, prop.major, prop.minor);
    }
    CU_TRY(cudaSetDevice(device), "cudaSetDevice");
    return VITC_OK;
}

/* cuBLASLt: handle, one matmul descriptor (compute type of the precision,
 * float32 scale, W transposed), three layouts and the preference. */
static vitc_status open_lt(struct cuda_backend *b)
{
    vitc_status s = lt_open(&b->lt);
    if (s != VITC_OK) {
        return s;
    }
    const cudaDataType_t t = lt_type(b->dtype);
    const cublasComputeType_t ct =
        b->precision == VITC_PRECISION_TF32 ? CUBLAS_COMPUTE_32F_FAST_TF32 : CUBLAS_COMPUTE_32F;
    const int32_t transa = CUBLAS_OP_T, transb = CUBLAS_OP_N;
    const uint64_t ws = LT_WORKSPACE_BYTES;
    cublasStatus_t st = b->lt.create(&b->lt_handle);
    if (st == CUBLAS_STATUS_SUCCESS) {
        st = b->lt.desc_create(&b->mm, ct, CUDA_R_32F);
    }
    if (st == CUBLAS_STATUS_SUCCESS) {
        st = b->lt.desc_set(b->mm, CUBLASLT_MATMUL_DESC_TRANSA, &transa, sizeof transa);
    }
    if (st == CUBLAS_STATUS_SUCCESS) {
        st = b->lt.desc_set(b->mm, CUBLASLT_MATMUL_DESC_TRANSB, &transb, sizeof transb);
    }
    if (st == CUBLAS_STATUS_SUCCESS) {
        st = b->lt.layout_create(&b->la, t, 1, 1, 1);
    }
    if (st == CUBLAS_STATUS_SUCCESS) {
        st = b->lt.layout_create(&b->lb, t, 1, 1, 1);
    }
    if (st == CUBLAS_STATUS_SUCCESS) {
        st = b->lt.layout_create(&b->lc, t, 1, 1, 1);
    }
    if (st == CUBLAS_STATUS_SUCCESS) {
        st = b->lt.pref_create(&b->pref);
    }
    if (st == CUBLAS_STATUS_SUCCESS) {
        st = b->lt.pref_set(b->pref, CUBLASLT_MATMUL_PREF_MAX_WORKSPACE_BYTES, &ws, sizeof ws);
    }
    if (st != CUBLAS_STATUS_SUCCESS) {
        return lt_fail(b, st, "setup");
    }
    CU_TRY(cudaMalloc(&b->workspace, LT_WORKSPACE_BYTES), "allocating the cuBLASLt workspace");
    return VITC_OK;
}

/* Converts and copies every planned weight into the device block, one
 * entry at a time through two host buffers (float32 and converted). */
static vitc_status upload_weights(struct cuda_backend *b, const struct vitc_model *m)
{
    const char *name = m->dir ? m->dir : "model";
    vitc_status s = vitc_cuda_wplan_build(m, b->elem, &b->wplan);
    if (s != VITC_OK) {
        return s;
    }
    CU_TRY(cudaMalloc(reinterpret_cast<void **>(&b->weights), b->wplan.bytes ? b->wplan.bytes : 1),
           "allocating the weights");
    size_t max = b->wplan.max_floats;
    float *f32 = static_cast<float *>(vitc_mem_alloc(max * sizeof(float)));
    void *conv = vitc_mem_alloc(max * b->elem);
    if (!f32 || !conv) {
        vitc_mem_free(f32);
        vitc_mem_free(conv);
        return vitc_error(VITC_ERR_NOMEM, "%s: out of memory staging weights for the device", name);
    }
    cudaError_t e = cudaSuccess;
    for (size_t i = 0; i < b->wplan.n && e == cudaSuccess; i++) {
        const struct vitc_cuda_wentry *en = &b->wplan.e[i];
        const void *host = en->src;
        size_t bytes = en->n * sizeof(float);
        if (en->kind != VITC_CUDA_W_VECTOR) {
            if (en->kind == VITC_CUDA_W_MATRIX) {
                vitc_linear_copy_rows(en->linear, 0, (size_t)en->linear->n_out, f32);
            } else {
                memcpy(f32, en->src, en->n * sizeof(float));
            }
            vitc_cuda_convert(b->precision, f32, en->n, conv);
            host = conv;
            bytes = en->n * b->elem;
        }
        e = cudaMemcpy(b->weights + en->offset, host, bytes, cudaMemcpyHostToDevice);
    }
    vitc_mem_free(f32);
    vitc_mem_free(conv);
    CU_TRY(e, "copying the weights to the device");
    return VITC_OK;
}

vitc_status vitc_backend_cuda_new(const struct vitc_model *m, int device, size_t max_batch,
                                  struct vitc_be **out)
{
    static const char *const names[] = {"fp32", "bf16", "int8", "fp16", "tf32"};
    const vitc_precision p = m->params.precision;
    const size_t elem = vitc_cuda_elem_size(p);
    const struct vitc_config *c = &m->cfg;
    size_t n_labels = m->w.classifier.weight ? (size_t)m->w.classifier.n_out : 0;
    struct cuda_backend *b = NULL;
    struct vitc_cuda_attn_plan attn;
    vitc_status s = VITC_OK;
    if (elem == 0) {
        return vitc_error(VITC_ERR_UNSUPPORTED,
                          "cuda backend: precision %s is not supported on CUDA (use fp32, tf32, "
                          "bf16 or fp16)",
                          (unsigned)p < 5 ? names[p] : "?");
    }
    if (c->num_attention_heads <= 0 || c->hidden_size % c->num_attention_heads != 0 ||
        c->patch_size <= 0 || c->image_height < c->patch_size || c->image_width < c->patch_size) {
        return vitc_error(VITC_ERR_INVALID_ARG, "%s: model dimensions are inconsistent",
                          m->dir ? m->dir : "model");
    }
    size_t gh = (size_t)(c->image_height / c->patch_size);
    size_t gw = (size_t)(c->image_width / c->patch_size);
    size_t hd = (size_t)(c->hidden_size / c->num_attention_heads);
    if (vitc_cuda_attn_plan(gh * gw + (size_t)c->n_prefix, hd, &attn) != 0 || max_batch > 65535 ||
        (size_t)c->num_attention_heads > 65535) {
        return vitc_error(VITC_ERR_UNSUPPORTED,
                          "cuda backend: attention with head_dim %zu (at most %d), %d heads or "
                          "max_batch %zu (at most 65535) has no launch shape",
                          hd, VITC_CUDA_ATTN_MAX_HD, c->num_attention_heads, max_batch);
    }
    if ((s = open_device(device)) != VITC_OK) {
        return s;
    }
    b = static_cast<struct cuda_backend *>(vitc_mem_calloc(1, sizeof *b));
    if (!b) {
        return vitc_error(VITC_ERR_NOMEM, "cuda backend: out of memory");
    }
    b->base.ops = &cuda_ops;
    b->base.impl = b;
    b->device = device;
    b->precision = p;
    b->elem = elem;
    b->dtype = p == VITC_PRECISION_BF16   ? VITC_CUDA_BF16
               : p == VITC_PRECISION_FP16 ? VITC_CUDA_F16
                                          : VITC_CUDA_F32;
    b->mode = MODE_IDLE;
    {
        size_t total = 0;
        cudaError_t e = cudaMemGetInfo(&b->free_at_start, &total);
        if (e != cudaSuccess) {
            s = cuda_fail(e, "cudaMemGetInfo");
            goto fail;
        }
    }
    if (vitc_cuda_io_floats(c, n_labels, max_batch, &b->io_floats) != 0) {
        s = vitc_error(VITC_ERR_INVALID_ARG, "cuda backend: staging for max_batch %zu overflows",
                       max_batch);
        goto fail;
    }
    {
        cudaError_t e = cudaStreamCreateWithFlags(&b->stream, cudaStreamNonBlocking);
        if (e == cudaSuccess) {
            e = cudaEventCreate(&b->start);
        }
        if (e == cudaSuccess) {
            e = cudaEventCreate(&b->done);
        }
        if (e == cudaSuccess) {
            e = cudaMallocHost(reinterpret_cast<void **>(&b->io_host),
                               b->io_floats * sizeof(float));
        }
        if (e == cudaSuccess && elem != sizeof(float)) {
            e = cudaMalloc(reinterpret_cast<void **>(&b->io_dev), b->io_floats * sizeof(float));
        }
        if (e != cudaSuccess) {
            s = cuda_fail(e, "creating the stream and staging buffers");
            goto fail;
        }
    }
    if ((s = open_lt(b)) != VITC_OK || (s = upload_weights(b, m)) != VITC_OK) {
        goto fail;
    }
    sample_memory(b);
    *out = &b->base;
    return VITC_OK;
fail:
    cuda_free(&b->base);
    return s;
}
