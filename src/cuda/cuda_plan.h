/* SPDX-License-Identifier: MIT
 *
 * cuda_plan.h — the host-side decisions of the CUDA backend, in plain C so
 * they are built and tested on every machine, GPU or not: float32 to
 * bfloat16/binary16 rounding, the layout of the device weight block and the
 * lookup of a weight by the host pointer the graph passes, the size of the
 * I/O staging buffers, the attention kernel's launch shape, cuBLASLt pointer
 * alignment and the cache of captured CUDA graphs. Backend layer; no CUDA
 * calls here (backend_cuda.cu makes them).
 */
#ifndef VITC_CUDA_PLAN_H
#define VITC_CUDA_PLAN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "model/model.h"
#include "vitc.h"

/* ---- rounding to 16-bit floats ---- */

/* float32 -> bfloat16 / IEEE binary16, round to nearest, ties to even.
 * NaN stays NaN (quiet, sign and top payload bits kept), infinities stay
 * infinite, overflow gives infinity, subnormal results are produced (fp16)
 * or kept (bf16 shares float32's exponent range). */
uint16_t vitc_f32_to_bf16(float f);
uint16_t vitc_f32_to_f16(float f);

/* The storage of a compute precision on the device: bytes per element of
 * weights and activations (4 for fp32/tf32, 2 for bf16/fp16). Returns 0 for
 * a precision the CUDA backend does not run (int8, unknown values). */
size_t vitc_cuda_elem_size(vitc_precision p);

/* Converts n floats to the storage of precision p into dst (n elements of
 * vitc_cuda_elem_size(p) bytes). p must have a non-zero element size. */
void vitc_cuda_convert(vitc_precision p, const float *src, size_t n, void *dst);

/* ---- the device weight block ---- */

/* What a weight entry holds: a linear's weight (n_out, n_in) or its bias
 * (n_out), both in the compute precision (cuBLASLt reads them); or a vector
 * kept in float32 (LayerNorm weight and bias, CLS token, position
 * embeddings: read by vitc's own kernels, which compute in float32). */
enum vitc_cuda_wkind { VITC_CUDA_W_MATRIX = 0, VITC_CUDA_W_BIAS, VITC_CUDA_W_VECTOR };

struct vitc_cuda_wentry {
    const void *key; /* linears: the struct vitc_linear *; vectors: the
                        host float pointer the graph passes          */
    enum vitc_cuda_wkind kind;
    const struct vitc_linear *linear; /* the layer (matrix and bias)      */
    const float *src;                 /* host data of a bias or vector; NULL for a matrix
                                         (read with vitc_linear_copy_rows)           */
    size_t n;                         /* elements                                     */
    size_t offset;                    /* bytes from the start of the device block     */
};

struct vitc_cuda_wplan {
    struct vitc_cuda_wentry *e; /* (n) sorted by (key, kind)              */
    size_t n;
    size_t bytes;      /* the whole device block                        */
    size_t max_floats; /* the largest entry, for one host staging buffer */
};

/* Device offsets are multiples of this (cuBLASLt's preferred alignment). */
#define VITC_CUDA_WEIGHT_ALIGN 256

/* Lays out every weight of m that the forward uses, matrices and biases in
 * elements of elem_size bytes, vectors in float32; an entry reached twice
 * (a tensor shared by two layers) is stored once. Writes *out only on
 * success; free it with vitc_cuda_wplan_free. */
vitc_status vitc_cuda_wplan_build(const struct vitc_model *m, size_t elem_size,
                                  struct vitc_cuda_wplan *out);
void vitc_cuda_wplan_free(struct vitc_cuda_wplan *p);

/* The entry for (key, kind), or NULL. */
const struct vitc_cuda_wentry *vitc_cuda_wplan_find(const struct vitc_cuda_wplan *p,
                                                    const void *key, enum vitc_cuda_wkind kind);

/* ---- sizes of a ctx ---- */

/* Floats of the largest host <-> device transfer a ctx of max_batch images
 * makes: the pixel_values upload, a tapped (n*T, D) stage, or an output.
 * Sizes the pinned host staging buffer and the float32 device staging
 * buffer the conversions go through. Non-zero on overflow. */
int vitc_cuda_io_floats(const struct vitc_config *c, size_t n_labels, size_t max_batch,
                        size_t *out);

/* ---- attention launch shape ---- */

/* Fused attention: one warp per query row, WARPS rows per block; keys and
 * values stream through shared memory in tiles of 32 keys (one per lane),
 * with an online softmax, so any sequence length fits. */
#define VITC_CUDA_ATTN_KEYS   32
#define VITC_CUDA_ATTN_MAX_HD 256 /* 8 output dims per lane in registers */
/* The static shared-memory limit every CUDA GPU since sm_20 has without an
 * opt-in. */
#define VITC_CUDA_SMEM_LIMIT (48 * 1024)

struct vitc_cuda_attn_plan {
    unsigned warps;    /* query rows per block                            */
    unsigned grid_x;   /* blocks per (image, head): ceil(T / warps)       */
    size_t smem_bytes; /* dynamic shared memory per block                 */
    size_t kv_stride;  /* floats per key row in shared memory (hd + 1)    */
};

/* Plans attention over n_tokens of head_dim; 0 on success, -1 when no shape
 * fits (head_dim above VITC_CUDA_ATTN_MAX_HD or the shared memory limit). */
int vitc_cuda_attn_plan(size_t n_tokens, size_t head_dim, struct vitc_cuda_attn_plan *out);

/* ---- cuBLASLt alignment ---- */

/* The largest power of two (at most 256) dividing the address: what a
 * matmul may assume of the pointer (cuBLASLt's MIN_ALIGNMENT preferences). */
unsigned vitc_cuda_ptr_alignment(uintptr_t p);

/* ---- captured graphs ---- */

/* Captured forwards kept per ctx. A forward depends on the ctx's buffers,
 * weights and matmul algorithms, all fixed for its life, and on the number
 * of images, which is therefore the key. Least recently used goes first. */
#define VITC_CUDA_GRAPH_SLOTS 8

struct vitc_cuda_graph_cache {
    size_t key[VITC_CUDA_GRAPH_SLOTS];
    uint64_t last_use[VITC_CUDA_GRAPH_SLOTS]; /* 0: slot empty */
    uint64_t clock;
};

/* The slot holding key (marked used now), or -1. */
int vitc_cuda_graph_find(struct vitc_cuda_graph_cache *c, size_t key);

/* A slot for a new key: an empty one, else the least recently used, whose
 * graph the caller destroys first (*evict is then true). */
int vitc_cuda_graph_claim(struct vitc_cuda_graph_cache *c, size_t key, bool *evict);

/* Empties a slot (its graph failed or was destroyed). */
void vitc_cuda_graph_forget(struct vitc_cuda_graph_cache *c, int slot);

#endif /* VITC_CUDA_PLAN_H */
