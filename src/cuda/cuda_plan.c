/* SPDX-License-Identifier: MIT
 *
 * cuda_plan.c — the CUDA backend's host-side logic (see cuda_plan.h): 16-bit
 * rounding, the device weight layout and lookup, staging sizes, the
 * attention launch shape and the graph cache. Plain C, built with or
 * without the CUDA toolkit, tested by tests/unit/cuda/test_cuda_plan.c.
 */
#include <stdlib.h>
#include <string.h>

#include "base/err.h"
#include "cuda/cuda_plan.h"

/* ---- rounding to 16-bit floats ---- */

static uint32_t f32_bits(float f)
{
    uint32_t u;
    memcpy(&u, &f, sizeof u);
    return u;
}

uint16_t vitc_f32_to_bf16(float f)
{
    uint32_t u = f32_bits(f);
    if ((u & 0x7fffffffu) > 0x7f800000u) {
        /* NaN: truncating could clear every payload bit left and make an
         * infinity; set the quiet bit instead. */
        return (uint16_t)((u >> 16) | 0x0040u);
    }
    /* Adding 0x7fff plus the lowest kept bit rounds the 16 dropped bits to
     * nearest, ties to even; a carry into the exponent is the correct
     * result (up to infinity for the largest finite values). */
    u += 0x7fffu + ((u >> 16) & 1u);
    return (uint16_t)(u >> 16);
}

uint16_t vitc_f32_to_f16(float f)
{
    uint32_t x = f32_bits(f);
    uint16_t sign = (uint16_t)((x >> 16) & 0x8000u);
    x &= 0x7fffffffu;
    if (x > 0x7f800000u) {
        /* NaN: quiet, with the payload's top 9 bits. */
        return (uint16_t)(sign | 0x7e00u | ((x >> 13) & 0x1ffu));
    }
    if (x >= 0x477ff000u) {
        /* 65520 and above (infinity included) round to infinity: 65520 is
         * the tie between 65504 (the largest half) and 65536, and ties go
         * to the even significand, which is the overflow. */
        return (uint16_t)(sign | 0x7c00u);
    }
    if (x < 0x38800000u) {
        /* Below 2^-14, the smallest normal half: the result is a subnormal
         * k * 2^-24, k = round(value * 2^24). 2^-25 (0x33000000) and below
         * round to zero (2^-25 is the tie between 0 and 2^-24). */
        if (x <= 0x33000000u) {
            return sign;
        }
        uint32_t mant = (x & 0x7fffffu) | 0x800000u; /* value = mant * 2^(e - 150) */
        unsigned shift = 126u - (x >> 23);           /* 14 .. 24                     */
        uint32_t r = mant >> shift, rem = mant & ((1u << shift) - 1u), half = 1u << (shift - 1u);
        if (rem > half || (rem == half && (r & 1u))) {
            r++; /* may reach 0x400, the smallest normal: still the right bits */
        }
        return (uint16_t)(sign | r);
    }
    /* Normal: rebias the exponent (127 -> 15) and round 23 mantissa bits
     * to 10 as for bf16; a carry into the exponent is again correct. */
    uint32_t r = x - 0x38000000u;
    r += 0xfffu + ((r >> 13) & 1u);
    return (uint16_t)(sign | (r >> 13));
}

size_t vitc_cuda_elem_size(vitc_precision p)
{
    switch (p) {
    case VITC_PRECISION_FP32:
    case VITC_PRECISION_TF32:
        return 4;
    case VITC_PRECISION_BF16:
    case VITC_PRECISION_FP16:
        return 2;
    case VITC_PRECISION_INT8:
        return 0;
    }
    return 0;
}

void vitc_cuda_convert(vitc_precision p, const float *src, size_t n, void *dst)
{
    uint16_t *h = dst;
    switch (p) {
    case VITC_PRECISION_BF16:
        for (size_t i = 0; i < n; i++) {
            h[i] = vitc_f32_to_bf16(src[i]);
        }
        return;
    case VITC_PRECISION_FP16:
        for (size_t i = 0; i < n; i++) {
            h[i] = vitc_f32_to_f16(src[i]);
        }
        return;
    default:
        memcpy(dst, src, n * sizeof *src);
        return;
    }
}

/* ---- the device weight block ---- */

struct wplan_builder {
    struct vitc_cuda_wplan p;
    size_t cap, elem_size;
    int overflow;
};

static int add_entry(struct wplan_builder *b, const void *key, enum vitc_cuda_wkind kind,
                     const struct vitc_linear *linear, const float *src, size_t n)
{
    if (!key || n == 0) {
        return 0;
    }
    if (b->p.n == b->cap) {
        size_t cap = b->cap ? 2 * b->cap : 64;
        struct vitc_cuda_wentry *e = vitc_mem_realloc(b->p.e, cap * sizeof *e);
        if (!e) {
            return -1;
        }
        b->p.e = e;
        b->cap = cap;
    }
    b->p.e[b->p.n++] =
        (struct vitc_cuda_wentry){.key = key, .kind = kind, .linear = linear, .src = src, .n = n};
    return 0;
}

static int add_linear(struct wplan_builder *b, const struct vitc_linear *l)
{
    if (!vitc_linear_present(l)) {
        return 0;
    }
    size_t n = 0;
    if (l->n_out <= 0 || l->n_in <= 0 || vitc_mul_size((size_t)l->n_out, (size_t)l->n_in, &n)) {
        b->overflow = 1;
        return 0;
    }
    if (add_entry(b, l, VITC_CUDA_W_MATRIX, l, NULL, n)) {
        return -1;
    }
    return l->bias ? add_entry(b, l, VITC_CUDA_W_BIAS, l, l->bias, (size_t)l->n_out) : 0;
}

static int add_vector(struct wplan_builder *b, const float *v, size_t n)
{
    return add_entry(b, v, VITC_CUDA_W_VECTOR, NULL, v, n);
}

static int cmp_key(const void *key, enum vitc_cuda_wkind kind, const struct vitc_cuda_wentry *e)
{
    uintptr_t a = (uintptr_t)key, b = (uintptr_t)e->key;
    if (a != b) {
        return a < b ? -1 : 1;
    }
    return kind == e->kind ? 0 : (kind < e->kind ? -1 : 1);
}

static int cmp_entries(const void *pa, const void *pb)
{
    const struct vitc_cuda_wentry *a = pa;
    return cmp_key(a->key, a->kind, pb);
}

vitc_status vitc_cuda_wplan_build(const struct vitc_model *m, size_t elem_size,
                                  struct vitc_cuda_wplan *out)
{
    const char *name = m->dir ? m->dir : "model";
    const struct vitc_config *c = &m->cfg;
    const struct vitc_weights *w = &m->w;
    struct wplan_builder b = {.elem_size = elem_size};
    size_t D = c->hidden_size > 0 ? (size_t)c->hidden_size : 0, T = 0;
    /* Prefix tokens: the config's count (a model built without one counts
     * its CLS token). */
    size_t P = w->cls_token ? (c->n_prefix > 0 ? (size_t)c->n_prefix : 1) : 0;
    if (c->image_height > 0 && c->image_width > 0 && c->patch_size > 0) {
        /* The position table as used: interpolated to the input's grid. */
        T = (size_t)(c->image_height / c->patch_size) * (size_t)(c->image_width / c->patch_size) +
            P; /* both < 2^31: the product fits */
    }
    size_t pos = 0;
    int fail = vitc_mul_size(T, D, &pos) || add_linear(&b, &w->patch) ||
               (P && add_vector(&b, w->cls_token, P * D)) || add_vector(&b, w->pos_embed, pos) ||
               (w->pre_ln_w && (add_vector(&b, w->pre_ln_w, D) || add_vector(&b, w->pre_ln_b, D)));
    for (int i = 0; !fail && w->layers && i < c->num_hidden_layers; i++) {
        const struct vitc_layer_weights *l = &w->layers[i];
        fail = add_vector(&b, l->ln_before_w, D) || add_vector(&b, l->ln_before_b, D) ||
               add_linear(&b, &l->qkv) || add_linear(&b, &l->attn_out) ||
               add_vector(&b, l->ln_after_w, D) || add_vector(&b, l->ln_after_b, D) ||
               add_linear(&b, &l->fc1) || add_linear(&b, &l->fc2);
    }
    fail = fail || add_vector(&b, w->ln_final_w, D) || add_vector(&b, w->ln_final_b, D) ||
           add_linear(&b, &w->pooler) || add_linear(&b, &w->classifier) ||
           add_linear(&b, &w->distill) || add_linear(&b, &w->projection) ||
           (w->head_query && (add_vector(&b, w->head_query, D) || add_linear(&b, &w->head_kv) ||
                              add_linear(&b, &w->head_out) || add_vector(&b, w->head_ln_w, D) ||
                              add_vector(&b, w->head_ln_b, D) || add_linear(&b, &w->head_fc1) ||
                              add_linear(&b, &w->head_fc2)));
    if (fail) {
        vitc_mem_free(b.p.e);
        return vitc_error(VITC_ERR_NOMEM, "%s: out of memory planning device weights", name);
    }
    /* Sorted for lookup; equal (key, kind) pairs, now adjacent, kept once. */
    if (b.p.n > 1) {
        qsort(b.p.e, b.p.n, sizeof *b.p.e, cmp_entries);
    }
    size_t kept = 0, offset = 0;
    for (size_t i = 0; i < b.p.n; i++) {
        struct vitc_cuda_wentry *e = &b.p.e[i];
        if (kept > 0 && cmp_entries(e, &b.p.e[kept - 1]) == 0) {
            continue;
        }
        size_t bytes = 0;
        size_t esz = e->kind == VITC_CUDA_W_VECTOR ? sizeof(float) : elem_size;
        b.overflow |= vitc_mul_size(e->n, esz, &bytes) ||
                      vitc_add_size(offset, VITC_CUDA_WEIGHT_ALIGN - 1, &offset);
        offset -= offset % VITC_CUDA_WEIGHT_ALIGN;
        e->offset = offset;
        b.overflow |= vitc_add_size(offset, bytes, &offset);
        if (e->n > b.p.max_floats) {
            b.p.max_floats = e->n;
        }
        b.p.e[kept++] = *e;
    }
    b.p.n = kept;
    b.p.bytes = offset;
    if (b.overflow) {
        vitc_mem_free(b.p.e);
        return vitc_error(VITC_ERR_INVALID_ARG, "%s: device weight sizes overflow", name);
    }
    *out = b.p;
    return VITC_OK;
}

void vitc_cuda_wplan_free(struct vitc_cuda_wplan *p)
{
    vitc_mem_free(p->e);
    *p = (struct vitc_cuda_wplan){0};
}

const struct vitc_cuda_wentry *vitc_cuda_wplan_find(const struct vitc_cuda_wplan *p,
                                                    const void *key, enum vitc_cuda_wkind kind)
{
    size_t lo = 0, hi = p->n;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        int c = cmp_key(key, kind, &p->e[mid]);
        if (c == 0) {
            return &p->e[mid];
        }
        if (c < 0) {
            hi = mid;
        } else {
            lo = mid + 1;
        }
    }
    return NULL;
}

/* ---- sizes of a ctx ---- */

int vitc_cuda_io_floats(const struct vitc_config *c, size_t n_labels, size_t max_batch, size_t *out)
{
    if (c->num_channels <= 0 || c->image_height <= 0 || c->image_width <= 0 || c->patch_size <= 0 ||
        c->hidden_size <= 0) {
        return -1;
    }
    size_t Hp = (size_t)c->image_height, Wp = (size_t)c->image_width;
    size_t gh = Hp / (size_t)c->patch_size, gw = Wp / (size_t)c->patch_size;
    size_t pixels = 0, tokens = 0, per_image = 0, total = 0;
    if (vitc_mul_size((size_t)c->num_channels, Hp, &pixels) || vitc_mul_size(pixels, Wp, &pixels) ||
        vitc_mul_size(gh, gw, &tokens) || vitc_add_size(tokens, 1, &tokens) ||
        vitc_mul_size(tokens, (size_t)c->hidden_size, &tokens)) {
        return -1;
    }
    per_image = pixels > tokens ? pixels : tokens;
    per_image = per_image > n_labels ? per_image : n_labels;
    if (vitc_mul_size(per_image, max_batch, &total)) {
        return -1;
    }
    *out = total;
    return 0;
}

/* ---- attention launch shape ---- */

int vitc_cuda_attn_plan(size_t n_tokens, size_t head_dim, struct vitc_cuda_attn_plan *out)
{
    if (n_tokens == 0 || head_dim == 0 || head_dim > VITC_CUDA_ATTN_MAX_HD) {
        return -1;
    }
    /* Shared memory: a tile of keys and one of values, (32, hd + 1) floats
     * each (the +1 staggers rows across banks, so lane j reading key j's
     * column c never collides), then per warp its query (hd) and its tile
     * of probabilities (32). Eight warps when they fit, fewer otherwise. */
    size_t stride = head_dim + 1;
    for (unsigned warps = 8; warps >= 1; warps /= 2) {
        size_t floats = 2 * VITC_CUDA_ATTN_KEYS * stride + warps * (head_dim + VITC_CUDA_ATTN_KEYS);
        size_t bytes = floats * sizeof(float);
        if (bytes <= VITC_CUDA_SMEM_LIMIT) {
            size_t gx = (n_tokens + warps - 1) / warps;
            if (gx > 0x7fffffffu) {
                return -1;
            }
            *out = (struct vitc_cuda_attn_plan){
                .warps = warps, .grid_x = (unsigned)gx, .smem_bytes = bytes, .kv_stride = stride};
            return 0;
        }
    }
    return -1;
}

/* ---- cuBLASLt alignment ---- */

unsigned vitc_cuda_ptr_alignment(uintptr_t p)
{
    unsigned a = 1;
    while (a < 256 && (p & a) == 0) {
        a <<= 1;
    }
    return a;
}

/* ---- captured graphs ---- */

int vitc_cuda_graph_find(struct vitc_cuda_graph_cache *c, size_t key)
{
    for (int i = 0; i < VITC_CUDA_GRAPH_SLOTS; i++) {
        if (c->last_use[i] && c->key[i] == key) {
            c->last_use[i] = ++c->clock;
            return i;
        }
    }
    return -1;
}

int vitc_cuda_graph_claim(struct vitc_cuda_graph_cache *c, size_t key, bool *evict)
{
    int slot = 0;
    for (int i = 0; i < VITC_CUDA_GRAPH_SLOTS; i++) {
        if (c->last_use[i] == 0) {
            slot = i;
            break;
        }
        if (c->last_use[i] < c->last_use[slot]) {
            slot = i;
        }
    }
    *evict = c->last_use[slot] != 0;
    c->key[slot] = key;
    c->last_use[slot] = ++c->clock;
    return slot;
}

void vitc_cuda_graph_forget(struct vitc_cuda_graph_cache *c, int slot)
{
    if (slot >= 0 && slot < VITC_CUDA_GRAPH_SLOTS) {
        c->last_use[slot] = 0;
    }
}
