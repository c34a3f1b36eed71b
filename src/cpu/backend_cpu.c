/* SPDX-License-Identifier: MIT
 *
 * backend_cpu.c — the CPU backend: packs each linear weight once at model
 * load, and implements the backend.h ops by splitting them into independent
 * tasks on the ctx's thread pool, each task calling a kernel from the kernel
 * table dispatch.c chose. Backend layer: knows no model structure beyond the
 * weights it prepares; no file formats, no arithmetic of its own.
 */
#include <math.h>
#include <string.h>

#include "base/err.h"
#include "base/threadpool.h"
#include "cpu/backend_cpu.h"
#include "cpu/dispatch.h"
#include "cpu/kernels.h"
#include "io/safetensors.h"
#include "model/model.h"

/* Rows per LayerNorm task, enough to amortise the task handout. */
#define LAYERNORM_ROWS 8

/* A LayerNorm over fewer floats than this runs on the calling thread alone:
 * one image's (197 x 768, ~50 us) took longer on 2 threads than on 1 on a
 * quiet Zen 5 (the 25 of a forward: 1.46 vs 1.26 ms), and on a busy machine
 * waiting for a descheduled second thread cost up to ~4 ms per call. */
#define LAYERNORM_SERIAL_FLOATS (1u << 18)

/* What vitc_linear.packed points to: the weight in the precision the model
 * computes in, one allocation (this header, then the panels, then the int8
 * scales and column sums). */
struct cpu_packed {
    vitc_precision precision; /* FP32, BF16 or INT8                      */
    const void *panels;       /* float, uint16_t (bf16) or int8_t panels  */
    const float *scale;       /* int8: (n_panels * NB), else NULL         */
    const int32_t *sum;       /* int8: (n_panels * NB), else NULL         */
};
#define PACKED_HEADER 64 /* keeps the panels 64-byte aligned */

struct cpu_backend {
    struct vitc_be base;
    const struct vitc_cpu_kernels *k;
    const struct vitc_lowp_kernels *lowp; /* bf16 or int8 table, or NULL */
    vitc_precision precision;
    struct vitc_threadpool *pool;
    float *work;        /* (n_threads, work_floats) per-thread scratch   */
    size_t work_floats; /* per thread: the larger of the attention scratch,
                           (max_head_dim + VITC_ATTN_SCRATCH_ROWS + 1) *
                           (max_tokens + VITC_ATTN_SCRATCH_ROWS + 1)
                           (kernels.h), and
                           the table's linear scratch; a multiple of 16  */
    size_t max_tokens, max_head_dim, max_k;
};

static struct cpu_backend *cpu(struct vitc_be *be)
{
    return be->impl;
}

/* ---- weight preparation (at model load) ---- */

/* Once a weight lives on in its packed copy, the forward never reads the
 * original, so each weight's pages of the checkpoint's file mapping are
 * dropped once it is packed (the loader drops each tensor's pages after its
 * checks, too), and the whole mapping at the end: a loaded model holds one
 * copy of its weights, in its compute precision, and never much more while
 * loading. Biases, LayerNorm and embeddings are read from the mapping again
 * by the forward (a few MB). Weights in the model's own arena (converted or
 * fused) are left alone. */

static int packed_layout(vitc_precision precision, size_t N, size_t K, size_t *panel_bytes,
                         size_t *n_cols)
{
    size_t elems = 0;
    *n_cols = (N + VITC_PACK_NB - 1) / VITC_PACK_NB * VITC_PACK_NB;
    switch (precision) {
    case VITC_PRECISION_BF16:
        return vitc_kernels_packed_bf16_elems(N, K, &elems) ||
               vitc_mul_size(elems, sizeof(uint16_t), panel_bytes);
    case VITC_PRECISION_INT8:
        return K > VITC_I8_MAX_K || vitc_kernels_packed_i8_bytes(N, K, panel_bytes);
    default:
        return vitc_kernels_packed_floats(N, K, &elems) ||
               vitc_mul_size(elems, sizeof(float), panel_bytes);
    }
}

static vitc_status prepare_linear(const char *name, const struct vitc_safetensors *st,
                                  vitc_precision precision, struct vitc_linear *l)
{
    size_t panel_bytes = 0, n_cols = 0, bytes = 0, src_bytes = 0;
    if (!vitc_linear_present(l) || l->packed) {
        return VITC_OK;
    }
    size_t N = (size_t)(l->n_out > 0 ? l->n_out : 0), K = (size_t)(l->n_in > 0 ? l->n_in : 0);
    if (N == 0 || K == 0 || packed_layout(precision, N, K, &panel_bytes, &n_cols) ||
        vitc_add_size(panel_bytes, PACKED_HEADER + n_cols * (sizeof(float) + sizeof(int32_t)),
                      &bytes) ||
        vitc_mul_size(N * K, sizeof(float), &src_bytes)) {
        if (precision == VITC_PRECISION_INT8 && K > VITC_I8_MAX_K) {
            return vitc_error(VITC_ERR_UNSUPPORTED,
                              "%s: int8 linear with %zu inputs exceeds the %d an int32 "
                              "accumulator holds exactly",
                              name, K, VITC_I8_MAX_K);
        }
        return vitc_error(VITC_ERR_INVALID_ARG, "%s: linear layer of impossible shape (%d, %d)",
                          name, l->n_out, l->n_in);
    }
    unsigned char *block = vitc_mem_alloc_aligned(bytes);
    if (!block) {
        return vitc_error(VITC_ERR_NOMEM, "%s: out of memory packing weights (%zu bytes)", name,
                          bytes);
    }
    const float *W = l->weight;
    float *joined = NULL;
    if (!W) {
        /* Parts are joined for the packer one layer at a time, then dropped. */
        joined = vitc_mem_alloc_aligned(src_bytes);
        if (!joined) {
            vitc_mem_free_aligned(block);
            return vitc_error(VITC_ERR_NOMEM, "%s: out of memory packing weights (%zu bytes)", name,
                              src_bytes);
        }
        vitc_linear_copy_rows(l, 0, N, joined);
        W = joined;
    }
    struct cpu_packed *pk = (struct cpu_packed *)(void *)block;
    unsigned char *panels = block + PACKED_HEADER;
    float *scale = (float *)(void *)(panels + panel_bytes);
    int32_t *sum = (int32_t *)(void *)(scale + n_cols);
    *pk = (struct cpu_packed){.precision = precision, .panels = panels};
    switch (precision) {
    case VITC_PRECISION_BF16:
        vitc_kernels_pack_linear_bf16(W, N, K, (uint16_t *)(void *)panels);
        break;
    case VITC_PRECISION_INT8:
        vitc_kernels_pack_linear_i8(W, N, K, (int8_t *)(void *)panels, scale, sum);
        pk->scale = scale;
        pk->sum = sum;
        break;
    default:
        pk->precision = VITC_PRECISION_FP32;
        vitc_kernels_pack_linear(W, N, K, (float *)(void *)panels);
        break;
    }
    vitc_mem_free_aligned(joined);
    l->packed = pk;
    size_t n_parts = l->n_parts ? (size_t)l->n_parts : 1;
    for (size_t i = 0; i < n_parts; i++) {
        vitc_st_release(st, l->n_parts ? l->parts[i] : l->weight, src_bytes / n_parts);
    }
    return VITC_OK;
}

vitc_status vitc_cpu_prepare_linear(struct vitc_linear *l, vitc_precision precision)
{
    return prepare_linear("linear", NULL, precision, l);
}

void vitc_cpu_unprepare_linear(struct vitc_linear *l)
{
    vitc_mem_free_aligned(l->packed);
    l->packed = NULL;
}

static void unprepare_linear(struct vitc_linear *l)
{
    vitc_mem_free_aligned(l->packed);
    l->packed = NULL;
}

vitc_status vitc_model_prepare_weights(struct vitc_model *m)
{
    const char *name = m->dir ? m->dir : "model";
    struct vitc_weights *w = &m->w;
    const struct vitc_safetensors *st = m->st;
    vitc_precision precision = m->params.precision;
    if (precision == VITC_PRECISION_FP16 || precision == VITC_PRECISION_TF32) {
        return VITC_OK; /* computed on a device only, from the model's own weights */
    }
    if (st) {
        vitc_st_release(st, st->bytes, st->size);
    }
    /* The patch embedding (2% of the work, raw pixels in) stays fp32. */
    vitc_status s = prepare_linear(name, st, VITC_PRECISION_FP32, &w->patch);
    for (int i = 0; s == VITC_OK && w->layers && i < m->cfg.num_hidden_layers; i++) {
        struct vitc_layer_weights *l = &w->layers[i];
        if ((s = prepare_linear(name, st, precision, &l->qkv)) != VITC_OK ||
            (s = prepare_linear(name, st, precision, &l->attn_out)) != VITC_OK ||
            (s = prepare_linear(name, st, precision, &l->fc1)) != VITC_OK) {
            break;
        }
        s = prepare_linear(name, st, precision, &l->fc2);
    }
    /* The heads are a few rows each: fp32 keeps the logits' ranking exact. */
    if (s == VITC_OK &&
        (s = prepare_linear(name, st, VITC_PRECISION_FP32, &w->pooler)) == VITC_OK) {
        s = prepare_linear(name, st, VITC_PRECISION_FP32, &w->classifier);
    }
    if (s == VITC_OK &&
        (s = prepare_linear(name, st, VITC_PRECISION_FP32, &w->distill)) == VITC_OK) {
        s = prepare_linear(name, st, VITC_PRECISION_FP32, &w->projection);
    }
    struct vitc_linear *head[] = {&w->head_kv, &w->head_out, &w->head_fc1, &w->head_fc2};
    for (size_t i = 0; s == VITC_OK && i < sizeof head / sizeof head[0]; i++) {
        s = prepare_linear(name, st, VITC_PRECISION_FP32, head[i]);
    }
    if (s != VITC_OK) {
        vitc_model_unprepare_weights(m);
    } else if (st) {
        vitc_st_release(st, st->bytes, st->size);
    }
    return s;
}

void vitc_model_unprepare_weights(struct vitc_model *m)
{
    struct vitc_weights *w = &m->w;
    unprepare_linear(&w->patch);
    for (int i = 0; w->layers && i < m->cfg.num_hidden_layers; i++) {
        unprepare_linear(&w->layers[i].qkv);
        unprepare_linear(&w->layers[i].attn_out);
        unprepare_linear(&w->layers[i].fc1);
        unprepare_linear(&w->layers[i].fc2);
    }
    unprepare_linear(&w->pooler);
    unprepare_linear(&w->classifier);
    unprepare_linear(&w->distill);
    unprepare_linear(&w->projection);
    unprepare_linear(&w->head_kv);
    unprepare_linear(&w->head_out);
    unprepare_linear(&w->head_fc1);
    unprepare_linear(&w->head_fc2);
}

/* ---- memory ---- */

static vitc_status cpu_alloc(struct vitc_be *be, size_t n_floats, float **out)
{
    size_t bytes = 0;
    if (vitc_mul_size(n_floats, sizeof(float), &bytes)) {
        return vitc_error(VITC_ERR_NOMEM, "cpu backend: %zu floats do not fit in memory", n_floats);
    }
    float *p = vitc_mem_alloc_aligned(bytes);
    if (!p) {
        return vitc_error(VITC_ERR_NOMEM, "cpu backend: out of memory (%zu bytes)", bytes);
    }
    *out = p;
    return VITC_OK;
}

static void cpu_release(struct vitc_be *be, float *buf)
{
    vitc_mem_free_aligned(buf);
}

static vitc_status cpu_copy(struct vitc_be *be, float *dst, const float *src, size_t n)
{
    if (dst != src && n > 0) {
        memcpy(dst, src, n * sizeof *dst);
    }
    return VITC_OK;
}

/* ---- linear ---- */

/* A linear is cut into blocks of at most mc rows x nc columns (the kernel
 * table's cache blocks), sized evenly so no block is a sliver: 197 rows and
 * mc = 96 give three blocks of 72, 72 and 53. Rows are cut finer only when
 * that leaves fewer than LINEAR_TASKS_PER_THREAD tasks per thread, so that
 * every thread has work. More, smaller tasks balance better when a thread
 * is slowed down, but every row block streams the whole weight slice
 * again: the int8 table's 104-row blocks cut to 7 tasks of 32 rows made one
 * ViT-B/16 image 8% slower on two threads of a quiet Zen 5 (batch 1, three
 * builds alternated four times: 37.7-40.0 ms at 4 tasks per thread, 35.4-36.4
 * at 2, 35.0-35.6 at 1; batch 8 and the fp32/bf16 tables, whose 24-row
 * blocks already give 9 or more tasks, unchanged). Results do not depend on
 * the cut (a row's sums never depend on the other rows of its block,
 * kernels.h), so they do not depend on the thread count either. */
#define LINEAR_TASKS_PER_THREAD 1
struct linear_job {
    const struct cpu_backend *b;
    const float *x;                       /* (M, K)            */
    const float *wp;                      /* fp32: (n_panels, K, NB) */
    const struct cpu_packed *pk;          /* bf16 / int8: the weight */
    const struct vitc_lowp_kernels *lowp; /* and its table, else NULL */
    const float *bias;                    /* (N) or NULL       */
    const float *res;                     /* (M, N) or NULL    */
    float *y;                             /* (M, N)            */
    size_t M, N, K;
    size_t mb, nb; /* block rows, block columns (a multiple of NB) */
    size_t n_nblocks;
    enum vitc_act act;
};

/* ceil(n / parts) rounded up to a multiple of q. */
static size_t even_block(size_t n, size_t parts, size_t q)
{
    size_t b = (n + parts - 1) / parts;
    return (b + q - 1) / q * q;
}

static void linear_task(void *arg, size_t task, int ith)
{
    const struct linear_job *j = arg;
    const struct vitc_cpu_kernels *k = j->b->k;
    size_t m0 = (task / j->n_nblocks) * j->mb, n0 = (task % j->n_nblocks) * j->nb;
    size_t rows = j->M - m0 < j->mb ? j->M - m0 : j->mb;
    size_t cols = j->N - n0 < j->nb ? j->N - n0 : j->nb;
    float *scratch = j->b->work + (size_t)ith * j->b->work_floats;
    if (j->lowp) {
        const struct cpu_packed *pk = j->pk;
        size_t kg = pk->precision == VITC_PRECISION_INT8 ? VITC_I8_KGROUP : VITC_BF16_KGROUP;
        size_t elem = pk->precision == VITC_PRECISION_INT8 ? 1 : sizeof(uint16_t);
        size_t Kp = (j->K + kg - 1) / kg * kg;
        j->lowp->linear_block(
            rows, cols, j->K, j->x + m0 * j->K, j->K,
            (const unsigned char *)pk->panels + n0 * Kp * elem, pk->scale ? pk->scale + n0 : NULL,
            pk->sum ? pk->sum + n0 : NULL, j->bias ? j->bias + n0 : NULL,
            j->res ? j->res + m0 * j->N + n0 : NULL, j->y + m0 * j->N + n0, j->N, j->act, scratch);
        return;
    }
    k->linear_block(rows, cols, j->K, j->x + m0 * j->K, j->K, j->wp + n0 * j->K,
                    j->bias ? j->bias + n0 : NULL, j->res ? j->res + m0 * j->N + n0 : NULL,
                    j->y + m0 * j->N + n0, j->N, j->act, scratch);
}

static vitc_status cpu_linear(struct vitc_be *be, const struct vitc_linear *w, const float *x,
                              size_t M, float *y, enum vitc_act act, const float *res)
{
    struct cpu_backend *b = cpu(be);
    if (!w->packed) {
        return vitc_error(VITC_ERR_BACKEND, "cpu backend: linear (%d, %d) has no prepared weights",
                          w->n_out, w->n_in);
    }
    if (M == 0) {
        return VITC_OK;
    }
    const struct cpu_packed *pk = w->packed;
    if (pk->precision != VITC_PRECISION_FP32 &&
        (pk->precision != b->precision || !b->lowp || (size_t)w->n_in > b->max_k)) {
        return vitc_error(VITC_ERR_BACKEND,
                          "cpu backend: linear (%d, %d) was prepared for a precision or size "
                          "this ctx was not made for",
                          w->n_out, w->n_in);
    }
    struct linear_job j = {
        .b = b,
        .x = x,
        .wp = pk->panels,
        .pk = pk,
        .lowp = pk->precision != VITC_PRECISION_FP32 ? b->lowp : NULL,
        .bias = w->bias,
        .res = res,
        .y = y,
        .M = M,
        .N = (size_t)w->n_out,
        .K = (size_t)w->n_in,
        .act = act,
    };
    const struct vitc_cpu_kernels *k = b->k;
    size_t mc = j.lowp ? j.lowp->mc : k->mc, nc = j.lowp ? j.lowp->nc : k->nc;
    size_t mr = j.lowp ? j.lowp->mr : k->mr, nr = j.lowp ? j.lowp->nr : k->nr;
    size_t n_mblocks = (M + mc - 1) / mc, n_nblocks = (j.N + nc - 1) / nc;
    j.nb = even_block(j.N, n_nblocks, nr);
    j.nb = j.nb < nc ? j.nb : nc;
    j.n_nblocks = (j.N + j.nb - 1) / j.nb;
    size_t nth = (size_t)vitc_threadpool_size(b->pool), want = LINEAR_TASKS_PER_THREAD * nth;
    size_t n_tiles = (M + mr - 1) / mr, per_col = (want + j.n_nblocks - 1) / j.n_nblocks;
    if (nth > 1 && n_mblocks < per_col) {
        n_mblocks = per_col < n_tiles ? per_col : n_tiles;
    }
    j.mb = even_block(M, n_mblocks, mr);
    n_mblocks = (M + j.mb - 1) / j.mb;
    vitc_threadpool_parallel_for(b->pool, n_mblocks * j.n_nblocks, linear_task, &j);
    return VITC_OK;
}

/* ---- layernorm ---- */

struct layernorm_job {
    const struct vitc_cpu_kernels *k;
    const float *x;     /* (rows, cols) */
    float *y;           /* (rows, cols) */
    const float *w, *b; /* (cols)       */
    size_t rows, cols;
    double eps;
};

static void layernorm_task(void *arg, size_t task, int ith)
{
    const struct layernorm_job *j = arg;
    size_t r1 = (task + 1) * LAYERNORM_ROWS < j->rows ? (task + 1) * LAYERNORM_ROWS : j->rows;
    for (size_t r = task * LAYERNORM_ROWS; r < r1; r++) {
        j->k->layernorm_row(j->cols, j->x + r * j->cols, j->y + r * j->cols, j->w, j->b, j->eps);
    }
}

static vitc_status cpu_layernorm(struct vitc_be *be, const float *x, float *y, size_t rows,
                                 size_t cols, const float *w, const float *b, double eps)
{
    struct layernorm_job j = {
        .k = cpu(be)->k,
        .x = x,
        .y = y,
        .w = w,
        .b = b,
        .rows = rows,
        .cols = cols,
        .eps = eps,
    };
    size_t n_tasks = (rows + LAYERNORM_ROWS - 1) / LAYERNORM_ROWS;
    if (rows * cols < LAYERNORM_SERIAL_FLOATS) {
        vitc_threadpool_serial_for(cpu(be)->pool, n_tasks, layernorm_task, &j);
    } else {
        vitc_threadpool_parallel_for(cpu(be)->pool, n_tasks, layernorm_task, &j);
    }
    return VITC_OK;
}

/* ---- attention ---- */

struct attention_job {
    const struct cpu_backend *b;
    vitc_attention_head_fn *head; /* lowp_attention() */
    const float *qkv;             /* (n * T, 3 * H * d) */
    float *out;                   /* (n * T, H * d)     */
    size_t T, H, d;
    float sqrt_d;
};

/* The lowp table's attention when this CPU runs it, else the fp32 table's. */
static vitc_attention_head_fn *lowp_attention(const struct cpu_backend *b)
{
    vitc_attention_head_fn *h = b->lowp ? vitc_cpu_lowp_attention(b->lowp) : NULL;
    return h ? h : b->k->attention_head;
}

/* One (image, head) pair per task. */
static void attention_task(void *arg, size_t task, int ith)
{
    const struct attention_job *j = arg;
    size_t img = task / j->H, h = task % j->H, D = j->H * j->d;
    const float *base = j->qkv + img * j->T * 3 * D + h * j->d;
    j->head(j->T, j->d, base, base + D, base + 2 * D, 3 * D, j->out + img * j->T * D + h * j->d, D,
            j->sqrt_d, j->b->work + (size_t)ith * j->b->work_floats);
}

static vitc_status cpu_attention(struct vitc_be *be, const float *qkv, float *out, size_t n_images,
                                 size_t n_tokens, size_t n_heads, size_t head_dim)
{
    struct cpu_backend *b = cpu(be);
    if (n_tokens > b->max_tokens || head_dim > b->max_head_dim) {
        return vitc_error(VITC_ERR_BACKEND,
                          "cpu backend: attention over %zu tokens x %zu dims exceeds the "
                          "%zu x %zu this ctx was sized for",
                          n_tokens, head_dim, b->max_tokens, b->max_head_dim);
    }
    struct attention_job j = {
        .b = b,
        .head = lowp_attention(b),
        .qkv = qkv,
        .out = out,
        .T = n_tokens,
        .H = n_heads,
        .d = head_dim,
        .sqrt_d = (float)sqrt((double)head_dim),
    };
    vitc_threadpool_parallel_for(b->pool, n_images * n_heads, attention_task, &j);
    return VITC_OK;
}

/* ---- embeddings and gathers ---- */

struct unfold_job {
    const float *pixels; /* (n, C, H, W)                */
    float *patches;      /* (n * (H/P)*(W/P), C*P*P)    */
    size_t C, H, W, P;
};

static void unfold_task(void *arg, size_t img, int ith)
{
    const struct unfold_job *j = arg;
    size_t Np = (j->H / j->P) * (j->W / j->P);
    vitc_kernels_patch_unfold(j->pixels + img * j->C * j->H * j->W, 1, j->C, j->H, j->W, j->P,
                              j->patches + img * Np * j->C * j->P * j->P);
}

static vitc_status cpu_patch_unfold(struct vitc_be *be, const float *pixels, size_t n, size_t C,
                                    size_t H, size_t W, size_t P, float *patches)
{
    struct unfold_job j = {.pixels = pixels, .patches = patches, .C = C, .H = H, .W = W, .P = P};
    vitc_threadpool_parallel_for(cpu(be)->pool, n, unfold_task, &j);
    return VITC_OK;
}

static vitc_status cpu_assemble_tokens(struct vitc_be *be, const float *patch_emb, const float *cls,
                                       const float *pos, size_t n, size_t Np, size_t D, float *x)
{
    vitc_kernels_assemble_tokens(patch_emb, cls, pos, n, Np, D, x);
    return VITC_OK;
}

static vitc_status cpu_assemble_prefix(struct vitc_be *be, const float *patch_emb,
                                       const float *prefix, size_t n_prefix, const float *pos,
                                       size_t n, size_t Np, size_t D, float *x)
{
    vitc_kernels_assemble_prefix(patch_emb, prefix, n_prefix, pos, n, Np, D, x);
    return VITC_OK;
}

static vitc_status cpu_swiglu(struct vitc_be *be, const float *x, float *y, size_t rows, size_t I)
{
    vitc_kernels_swiglu(x, y, rows, I);
    return VITC_OK;
}

/* One query per image: a few thousand multiply-adds, run on the calling
 * thread with its scratch. */
static vitc_status cpu_attention_pool(struct vitc_be *be, const float *q, const float *kv,
                                      float *out, size_t n_images, size_t n_tokens, size_t n_heads,
                                      size_t head_dim)
{
    struct cpu_backend *b = cpu(be);
    if (n_tokens > b->work_floats) {
        return vitc_error(VITC_ERR_BACKEND, "cpu backend: attention pooling over %zu tokens",
                          n_tokens);
    }
    vitc_kernels_attention_pool(q, kv, out, n_images, n_tokens, n_heads, head_dim, b->work);
    return VITC_OK;
}

static vitc_status cpu_gather_rows(struct vitc_be *be, const float *x, size_t stride, size_t n_rows,
                                   size_t cols, float *out)
{
    for (size_t i = 0; i < n_rows; i++) {
        memcpy(out + i * cols, x + i * stride * cols, cols * sizeof *out);
    }
    return VITC_OK;
}

/* ---- lifetime ---- */

static void cpu_free(struct vitc_be *be)
{
    struct cpu_backend *b = cpu(be);
    vitc_threadpool_free(b->pool);
    vitc_mem_free_aligned(b->work);
    vitc_mem_free(b);
}

static const struct vitc_backend_ops cpu_ops = {
    .name = "cpu",
    .host_memory = true,
    .free = cpu_free,
    .alloc = cpu_alloc,
    .release = cpu_release,
    .upload = cpu_copy,
    .download = cpu_copy,
    .linear = cpu_linear,
    .layernorm = cpu_layernorm,
    .attention = cpu_attention,
    .patch_unfold = cpu_patch_unfold,
    .assemble_tokens = cpu_assemble_tokens,
    .assemble_prefix = cpu_assemble_prefix,
    .swiglu = cpu_swiglu,
    .attention_pool = cpu_attention_pool,
    .gather_rows = cpu_gather_rows,
};

void vitc_backend_free(struct vitc_be *be)
{
    if (be) {
        be->ops->free(be);
    }
}

vitc_status vitc_backend_cpu_new(int n_threads, size_t max_tokens, size_t max_head_dim,
                                 struct vitc_be **out)
{
    struct vitc_cpu_backend_params p = {
        .n_threads = n_threads,
        .max_tokens = max_tokens,
        .max_head_dim = max_head_dim,
        .precision = VITC_PRECISION_FP32,
    };
    return vitc_backend_cpu_create(&p, out);
}

vitc_status vitc_backend_cpu_create(const struct vitc_cpu_backend_params *p, struct vitc_be **out)
{
    struct cpu_backend *b = NULL;
    const struct vitc_cpu_kernels *k = NULL;
    const struct vitc_lowp_kernels *lowp = NULL;
    size_t per_thread = 0, lowp_scratch = 0, total = 0, bytes = 0;
    vitc_status s = VITC_OK;
    int n_threads = p->n_threads;
    if (n_threads < 1 || n_threads > VITC_THREADPOOL_MAX) {
        return vitc_error(VITC_ERR_INVALID_ARG, "cpu backend: n_threads %d is not in 1..%d",
                          n_threads, VITC_THREADPOOL_MAX);
    }
    switch (p->precision) {
    case VITC_PRECISION_FP32:
    case VITC_PRECISION_BF16:
    case VITC_PRECISION_INT8:
        break;
    default:
        return vitc_error(VITC_ERR_UNSUPPORTED,
                          "precision %s runs on a CUDA device only; the cpu computes in fp32, "
                          "bf16 or int8",
                          p->precision == VITC_PRECISION_FP16 ? "fp16" : "tf32");
    }
    if ((s = vitc_cpu_kernels_select(&k)) != VITC_OK) {
        return s;
    }
    if (p->precision != VITC_PRECISION_FP32) {
        lowp = vitc_cpu_lowp_kernels(p->precision, k);
    }
    /* Scratch per thread, shared by the ops (one runs at a time): attention's
     * k (and v) rearranged and score rows (kernels.h), or the linear's
     * packed or converted activations and partial sums; rounded to 64-byte
     * multiples so each thread's part stays aligned. */
    size_t tokens1 = 0;
    int overflow = vitc_add_size(p->max_head_dim, VITC_ATTN_SCRATCH_ROWS + 1, &per_thread) ||
                   vitc_add_size(p->max_tokens, VITC_ATTN_SCRATCH_ROWS + 1, &tokens1) ||
                   vitc_mul_size(per_thread, tokens1, &per_thread);
    if (per_thread < k->linear_scratch) {
        per_thread = k->linear_scratch;
    }
    if (lowp) {
        overflow = overflow || vitc_mul_size(lowp->scratch_per_k, p->max_k, &lowp_scratch) ||
                   vitc_add_size(lowp_scratch, lowp->linear_scratch, &lowp_scratch);
        per_thread = per_thread < lowp_scratch ? lowp_scratch : per_thread;
    }
    overflow = overflow || vitc_add_size(per_thread, 15, &per_thread);
    per_thread -= per_thread % 16;
    if (overflow || vitc_mul_size(per_thread, (size_t)n_threads, &total) ||
        vitc_mul_size(total, sizeof(float), &bytes)) {
        return vitc_error(VITC_ERR_INVALID_ARG,
                          "cpu backend: scratch for %zu tokens x %zu dims (linears of %zu inputs) "
                          "overflows",
                          p->max_tokens, p->max_head_dim, p->max_k);
    }
    b = vitc_mem_calloc(1, sizeof *b);
    if (!b) {
        return vitc_error(VITC_ERR_NOMEM, "cpu backend: out of memory");
    }
    b->base.ops = &cpu_ops;
    b->base.impl = b;
    b->k = k;
    b->lowp = lowp;
    b->precision = p->precision;
    b->work_floats = per_thread;
    b->max_tokens = p->max_tokens;
    b->max_head_dim = p->max_head_dim;
    b->max_k = p->max_k;
    b->work = vitc_mem_alloc_aligned(bytes);
    if (!b->work) {
        s = vitc_error(VITC_ERR_NOMEM, "cpu backend: out of memory (%zu bytes of scratch)", bytes);
        goto fail;
    }
    if ((s = vitc_threadpool_new(n_threads, &b->pool)) != VITC_OK) {
        goto fail;
    }
    *out = &b->base;
    return VITC_OK;
fail:
    cpu_free(&b->base);
    return s;
}

int vitc_backend_cpu_n_threads(const struct vitc_be *be)
{
    const struct cpu_backend *b = be->impl;
    return vitc_threadpool_size(b->pool);
}

void vitc_backend_cpu_set_busy(struct vitc_be *be, uint64_t *busy_ns)
{
    vitc_threadpool_set_busy(cpu(be)->pool, busy_ns);
}
