/* SPDX-License-Identifier: MIT
 *
 * test_cuda_plan.c — the CUDA backend's host-side logic, on the CPU: float32
 * to bf16/fp16 rounding (against independent references, with NaN, infinity,
 * overflow and subnormals), the device weight plan and its lookup on the
 * tiny fixture models, staging sizes, the attention launch shape, pointer
 * alignment and the graph cache. Runs on every machine, GPU or not.
 */
#include <stdint.h>

#include "base/half.h"
#include "cuda/cuda_plan.h"
#include "model/model.h"
#include "test.h"
#include "vitc.h"

/* Float bit patterns visited by the sampled sweeps: every 2^32 / STRIDE-th,
 * a prime stride so every mantissa bit position varies. */
#define STRIDE 997u

/* bf16 reference: of the two bf16 values around f (truncation and the next
 * one up in magnitude), the nearer one in exact double arithmetic, ties to
 * the even one. f finite. */
static uint16_t bf16_ref(float f)
{
    uint32_t u = test_to_bits(f);
    uint16_t lo = (uint16_t)(u >> 16), hi = (uint16_t)(lo + 1);
    double x = fabs((double)f), a = fabs((double)vitc_bf16_to_f32(lo));
    double b = (hi & 0x7fffu) >= 0x7f80u ? ldexp(1.0, 128) : fabs((double)vitc_bf16_to_f32(hi));
    if (x - a < b - x) {
        return lo;
    }
    if (x - a > b - x) {
        return hi;
    }
    return (lo & 1u) ? hi : lo;
}

static uint16_t f16_ref(float f)
{
    _Float16 h = (_Float16)f; /* the compiler's own rounding (libgcc or F16C) */
    uint16_t u;
    memcpy(&u, &h, sizeof u);
    return u;
}

/* ---- rounding ---- */

static void test_bf16_sweep(void)
{
    size_t bad = 0;
    for (uint64_t i = 0; i <= 0xffffffffu; i += STRIDE) {
        float f = test_from_bits((uint32_t)i);
        if (isnan(f)) {
            continue;
        }
        if (vitc_f32_to_bf16(f) != bf16_ref(f) && bad++ < 5) {
            CHECKF(0, "bf16(0x%08x) = 0x%04x, expected 0x%04x", (unsigned)i, vitc_f32_to_bf16(f),
                   bf16_ref(f));
        }
    }
    CHECK(bad == 0);
}

static void test_f16_sweep(void)
{
    size_t bad = 0;
    for (uint64_t i = 0; i <= 0xffffffffu; i += STRIDE) {
        float f = test_from_bits((uint32_t)i);
        if (isnan(f)) {
            continue;
        }
        if (vitc_f32_to_f16(f) != f16_ref(f) && bad++ < 5) {
            CHECKF(0, "f16(0x%08x) = 0x%04x, expected 0x%04x", (unsigned)i, vitc_f32_to_f16(f),
                   f16_ref(f));
        }
    }
    CHECK(bad == 0);
}

/* Every 16-bit value goes to float32 and back unchanged (NaNs stay NaN). */
static void test_round_trips(void)
{
    for (uint32_t h = 0; h <= 0xffffu; h++) {
        float f = vitc_f16_to_f32((uint16_t)h);
        float b = vitc_bf16_to_f32((uint16_t)h);
        if (isnan(f)) {
            CHECK(isnan(vitc_f16_to_f32(vitc_f32_to_f16(f))));
        } else {
            CHECKF(vitc_f32_to_f16(f) == h, "f16 0x%04x", (unsigned)h);
        }
        if (isnan(b)) {
            CHECK(isnan(vitc_bf16_to_f32(vitc_f32_to_bf16(b))));
        } else {
            CHECKF(vitc_f32_to_bf16(b) == h, "bf16 0x%04x", (unsigned)h);
        }
    }
}

static void test_special_values(void)
{
    /* NaN with only low payload bits: truncation alone would give infinity. */
    float nan_low = test_from_bits(0x7f800001u), neg_nan = test_from_bits(0xff800001u);
    CHECK(isnan(vitc_bf16_to_f32(vitc_f32_to_bf16(nan_low))));
    CHECK(isnan(vitc_f16_to_f32(vitc_f32_to_f16(nan_low))));
    CHECK(vitc_f32_to_bf16(neg_nan) & 0x8000u);
    CHECK(vitc_f32_to_f16(neg_nan) & 0x8000u);
    CHECK(vitc_f32_to_bf16(INFINITY) == 0x7f80u && vitc_f32_to_bf16(-INFINITY) == 0xff80u);
    CHECK(vitc_f32_to_f16(INFINITY) == 0x7c00u && vitc_f32_to_f16(-INFINITY) == 0xfc00u);
    /* Overflow: FLT_MAX to bf16 infinity; 65504 stays, 65519 rounds down, 65520 overflows. */
    CHECK(vitc_f32_to_bf16(test_from_bits(0x7f7fffffu)) == 0x7f80u);
    CHECK(vitc_f32_to_f16(65504.0f) == 0x7bffu);
    CHECK(vitc_f32_to_f16(65519.0f) == 0x7bffu);
    CHECK(vitc_f32_to_f16(65520.0f) == 0x7c00u);
    CHECK(vitc_f32_to_f16(-1e10f) == 0xfc00u);
    /* Ties to even: 1 + 2^-8 is halfway between bf16 1 and 1 + 2^-7. */
    CHECK(vitc_f32_to_bf16(1.0f + 0x1p-8f) == 0x3f80u);
    CHECK(vitc_f32_to_bf16(1.0f + 3 * 0x1p-8f) == 0x3f82u);
    CHECK(vitc_f32_to_f16(1.0f + 0x1p-11f) == 0x3c00u);
    CHECK(vitc_f32_to_f16(1.0f + 3 * 0x1p-11f) == 0x3c02u);
    /* fp16 subnormals: 2^-24 is the smallest, 2^-25 a tie to zero, just
     * above it rounds up; the largest subnormal rounds up to the smallest
     * normal; float32 subnormals are kept by bf16 and flushed by fp16. */
    CHECK(vitc_f32_to_f16(0x1p-24f) == 0x0001u);
    CHECK(vitc_f32_to_f16(0x1p-25f) == 0x0000u);
    CHECK(vitc_f32_to_f16(-0x1p-25f) == 0x8000u);
    CHECK(vitc_f32_to_f16(test_from_bits(0x33000001u)) == 0x0001u);
    CHECK(vitc_f32_to_f16(3 * 0x1p-25f) == 0x0002u);
    CHECK(vitc_f32_to_f16(0x1p-14f - 0x1p-26f) == 0x0400u);
    CHECK(vitc_f32_to_f16(test_from_bits(0x00000001u)) == 0x0000u);
    CHECK(vitc_f32_to_bf16(test_from_bits(0x00010000u)) == 0x0001u);
    CHECK(vitc_f32_to_bf16(-0.0f) == 0x8000u && vitc_f32_to_f16(-0.0f) == 0x8000u);
}

static void test_convert(void)
{
    const float src[4] = {1.0f, -2.5f, 0x1p-20f, 3.0e5f};
    uint16_t h[4];
    float f[4];
    CHECK(vitc_cuda_elem_size(VITC_PRECISION_FP32) == 4);
    CHECK(vitc_cuda_elem_size(VITC_PRECISION_TF32) == 4);
    CHECK(vitc_cuda_elem_size(VITC_PRECISION_BF16) == 2);
    CHECK(vitc_cuda_elem_size(VITC_PRECISION_FP16) == 2);
    CHECK(vitc_cuda_elem_size(VITC_PRECISION_INT8) == 0);
    CHECK(vitc_cuda_elem_size((vitc_precision)99) == 0);
    vitc_cuda_convert(VITC_PRECISION_BF16, src, 4, h);
    for (int i = 0; i < 4; i++) {
        CHECK(h[i] == vitc_f32_to_bf16(src[i]));
    }
    vitc_cuda_convert(VITC_PRECISION_FP16, src, 4, h);
    for (int i = 0; i < 4; i++) {
        CHECK(h[i] == vitc_f32_to_f16(src[i]));
    }
    CHECK(h[3] == 0x7c00u);
    vitc_cuda_convert(VITC_PRECISION_FP32, src, 4, f);
    CHECK(memcmp(f, src, sizeof f) == 0);
}

/* ---- the device weight block ---- */

/* Strictly increasing (key, kind): sorted, no entry twice. */
static int cmp_order_ok(const struct vitc_cuda_wentry *a, const struct vitc_cuda_wentry *b)
{
    uintptr_t ka = (uintptr_t)a->key, kb = (uintptr_t)b->key;
    return ka < kb || (ka == kb && a->kind < b->kind);
}

/* The plan of a loaded model: every weight the forward passes is found,
 * with the right size, aligned, inside the block and overlapping nothing. */
static void check_plan(const struct vitc_model *m, size_t elem)
{
    struct vitc_cuda_wplan p;
    if (vitc_cuda_wplan_build(m, elem, &p) != VITC_OK) {
        CHECKF(0, "wplan_build: %s", vitc_last_error());
        return;
    }
    const struct vitc_weights *w = &m->w;
    const struct vitc_config *c = &m->cfg;
    size_t D = (size_t)c->hidden_size;
    size_t Np =
        (size_t)(c->image_height / c->patch_size) * (size_t)(c->image_width / c->patch_size);
    const struct vitc_cuda_wentry *e = vitc_cuda_wplan_find(&p, &w->patch, VITC_CUDA_W_MATRIX);
    CHECK(e && e->n == (size_t)w->patch.n_out * (size_t)w->patch.n_in);
    e = vitc_cuda_wplan_find(&p, w->pos_embed, VITC_CUDA_W_VECTOR);
    CHECK(e && e->n == (Np + 1) * D && e->src == w->pos_embed);
    CHECK(vitc_cuda_wplan_find(&p, w->cls_token, VITC_CUDA_W_VECTOR) != NULL);
    for (int i = 0; i < c->num_hidden_layers; i++) {
        const struct vitc_layer_weights *l = &w->layers[i];
        const struct vitc_linear *lin[4] = {&l->qkv, &l->attn_out, &l->fc1, &l->fc2};
        for (int j = 0; j < 4; j++) {
            e = vitc_cuda_wplan_find(&p, lin[j], VITC_CUDA_W_MATRIX);
            CHECK(e && e->linear == lin[j] && e->n == (size_t)lin[j]->n_out * lin[j]->n_in);
            e = vitc_cuda_wplan_find(&p, lin[j], VITC_CUDA_W_BIAS);
            CHECK(lin[j]->bias ? e && e->n == (size_t)lin[j]->n_out : e == NULL);
        }
        CHECK(vitc_cuda_wplan_find(&p, l->ln_before_w, VITC_CUDA_W_VECTOR) != NULL);
        CHECK(vitc_cuda_wplan_find(&p, l->ln_after_b, VITC_CUDA_W_VECTOR) != NULL);
        /* A vector is not a bias of the same address. */
        CHECK(vitc_cuda_wplan_find(&p, l->ln_after_b, VITC_CUDA_W_BIAS) == NULL);
    }
    CHECK(vitc_cuda_wplan_find(&p, w->ln_final_w, VITC_CUDA_W_VECTOR) != NULL);
    CHECK((vitc_cuda_wplan_find(&p, &w->pooler, VITC_CUDA_W_MATRIX) != NULL) ==
          (w->pooler.weight != NULL));
    CHECK((vitc_cuda_wplan_find(&p, &w->classifier, VITC_CUDA_W_MATRIX) != NULL) ==
          (w->classifier.weight != NULL));
    size_t end = 0, max = 0;
    for (size_t i = 0; i < p.n; i++) {
        size_t esz = p.e[i].kind == VITC_CUDA_W_VECTOR ? 4 : elem;
        CHECK(p.e[i].offset % VITC_CUDA_WEIGHT_ALIGN == 0);
        CHECK(i == 0 || cmp_order_ok(&p.e[i - 1], &p.e[i]));
        max = p.e[i].n > max ? p.e[i].n : max;
        end = p.e[i].offset + p.e[i].n * esz > end ? p.e[i].offset + p.e[i].n * esz : end;
        for (size_t j = 0; j < i; j++) {
            size_t a0 = p.e[j].offset, b0 = p.e[i].offset;
            size_t a1 = a0 + p.e[j].n * (p.e[j].kind == VITC_CUDA_W_VECTOR ? 4 : elem);
            size_t b1 = b0 + p.e[i].n * esz;
            CHECK(a1 <= b0 || b1 <= a0);
        }
    }
    CHECK(end == p.bytes && max == p.max_floats);
    CHECK(vitc_cuda_wplan_find(&p, &p, VITC_CUDA_W_MATRIX) == NULL);
    vitc_cuda_wplan_free(&p);
    CHECK(p.e == NULL && p.n == 0);
}

static const char *const MODELS[] = {
    "tests/data/models/tiny-in21k",
    "tests/data/models/tiny-classifier",
    "tests/data/models/tiny-variant",
};

static void test_wplan_models(void)
{
    for (size_t i = 0; i < sizeof MODELS / sizeof MODELS[0]; i++) {
        vitc_model *m = NULL;
        if (vitc_model_load(MODELS[i], NULL, &m) != VITC_OK) {
            CHECKF(0, "%s: %s", MODELS[i], vitc_last_error());
            continue;
        }
        check_plan(m, 2);
        check_plan(m, 4);
        vitc_model_free(m);
    }
}

/* A tensor reached twice (LayerNorm weights shared by two layers) is stored
 * once; a model without layers, pooler or classifier plans what it has. */
static void test_wplan_shared(void)
{
    static float ln[8], cls[8], pos[5 * 8], wq[3][8 * 8], wo[8 * 8], bias[24];
    struct vitc_layer_weights layers[2] = {0};
    for (int i = 0; i < 2; i++) {
        layers[i].ln_before_w = layers[i].ln_after_w = ln;
        layers[i].qkv = (struct vitc_linear){
            .parts = {wq[0], wq[1], wq[2]}, .n_parts = 3, .bias = bias, .n_out = 24, .n_in = 8};
        layers[i].attn_out = (struct vitc_linear){.weight = wo, .n_out = 8, .n_in = 8};
    }
    struct vitc_model m = {0};
    m.cfg.hidden_size = 8;
    m.cfg.image_size = m.cfg.image_height = m.cfg.image_width = 4;
    m.cfg.patch_size = 2;
    m.cfg.num_hidden_layers = 2;
    m.w.cls_token = cls;
    m.w.pos_embed = pos;
    m.w.layers = layers;
    struct vitc_cuda_wplan p;
    CHECK(vitc_cuda_wplan_build(&m, 2, &p) == VITC_OK);
    /* cls, pos, ln (once), 2 x (qkv matrix + bias, attn_out matrix) */
    CHECK(p.n == 3 + 2 * 3);
    const struct vitc_cuda_wentry *e = vitc_cuda_wplan_find(&p, ln, VITC_CUDA_W_VECTOR);
    CHECK(e && e->n == 8);
    e = vitc_cuda_wplan_find(&p, &layers[1].qkv, VITC_CUDA_W_MATRIX);
    CHECK(e && e->n == 24 * 8 && e->src == NULL);
    e = vitc_cuda_wplan_find(&p, &layers[0].qkv, VITC_CUDA_W_BIAS);
    CHECK(e && e->n == 24 && e->src == bias);
    CHECK(vitc_cuda_wplan_find(&p, &layers[0].attn_out, VITC_CUDA_W_BIAS) == NULL);
    CHECK(p.max_floats == 24 * 8);
    vitc_cuda_wplan_free(&p);
}

/* ---- sizes and shapes ---- */

static void test_io_floats(void)
{
    struct vitc_config c = {0};
    size_t n = 0;
    c.num_channels = 3;
    c.image_size = c.image_height = c.image_width = 224;
    c.patch_size = 16;
    c.hidden_size = 768;
    /* max(3*224*224, 197*768, 1000) = 151296 per image */
    CHECK(vitc_cuda_io_floats(&c, 1000, 1, &n) == 0 && n == 197 * 768);
    CHECK(vitc_cuda_io_floats(&c, 0, 64, &n) == 0 && n == 64 * 197 * 768);
    CHECK(vitc_cuda_io_floats(&c, 200000, 2, &n) == 0 && n == 400000);
    c.hidden_size = 8;
    CHECK(vitc_cuda_io_floats(&c, 0, 3, &n) == 0 && n == 3 * 3 * 224 * 224);
    CHECK(vitc_cuda_io_floats(&c, 0, SIZE_MAX / 1000, &n) != 0);
    /* A non-square input: 24x56 pixels, a 3x7 grid of 8 px patches. */
    c.image_height = 24;
    c.image_width = 56;
    c.patch_size = 8;
    CHECK(vitc_cuda_io_floats(&c, 0, 2, &n) == 0 && n == 2 * 3 * 24 * 56);
    c.hidden_size = 400;
    CHECK(vitc_cuda_io_floats(&c, 0, 1, &n) == 0 && n == (3 * 7 + 1) * 400);
    c.patch_size = 0;
    CHECK(vitc_cuda_io_floats(&c, 0, 1, &n) != 0);
}

static void test_attn_plan(void)
{
    struct vitc_cuda_attn_plan p;
    CHECK(vitc_cuda_attn_plan(197, 64, &p) == 0);
    CHECK(p.warps == 8 && p.grid_x == 25 && p.kv_stride == 65);
    CHECK(p.smem_bytes == (2 * 32 * 65 + 8 * (64 + 32)) * 4);
    CHECK(vitc_cuda_attn_plan(1, 1, &p) == 0 && p.grid_x == 1);
    CHECK(vitc_cuda_attn_plan(577, 80, &p) == 0 && p.smem_bytes <= VITC_CUDA_SMEM_LIMIT);
    /* Every head_dim that plans fits the limit; the first that does not is refused. */
    size_t last = 0;
    for (size_t hd = 1; hd <= VITC_CUDA_ATTN_MAX_HD + 1; hd++) {
        if (vitc_cuda_attn_plan(197, hd, &p) == 0) {
            CHECK(p.smem_bytes <= VITC_CUDA_SMEM_LIMIT && p.warps >= 1);
            CHECK((size_t)p.grid_x * p.warps >= 197);
            CHECK(last == hd - 1);
            last = hd;
        }
    }
    CHECK(last >= 128 && last < VITC_CUDA_ATTN_MAX_HD + 1);
    CHECK(vitc_cuda_attn_plan(0, 64, &p) != 0);
    CHECK(vitc_cuda_attn_plan(197, 0, &p) != 0);
}

static void test_alignment(void)
{
    CHECK(vitc_cuda_ptr_alignment(0) == 256);
    CHECK(vitc_cuda_ptr_alignment(0x1000) == 256);
    CHECK(vitc_cuda_ptr_alignment(0x1040) == 64);
    CHECK(vitc_cuda_ptr_alignment(0x1002) == 2);
    CHECK(vitc_cuda_ptr_alignment(0x1001) == 1);
}

static void test_graph_cache(void)
{
    struct vitc_cuda_graph_cache c = {0};
    bool evict = true;
    CHECK(vitc_cuda_graph_find(&c, 1) == -1);
    for (size_t k = 1; k <= VITC_CUDA_GRAPH_SLOTS; k++) {
        int s = vitc_cuda_graph_claim(&c, k, &evict);
        CHECK(s == (int)k - 1 && !evict);
    }
    for (size_t k = 1; k <= VITC_CUDA_GRAPH_SLOTS; k++) {
        CHECK(vitc_cuda_graph_find(&c, k) == (int)k - 1);
    }
    /* Key 1 used again: key 2 is now the least recently used. */
    CHECK(vitc_cuda_graph_find(&c, 1) == 0);
    int s = vitc_cuda_graph_claim(&c, 100, &evict);
    CHECK(s == 1 && evict);
    CHECK(vitc_cuda_graph_find(&c, 2) == -1 && vitc_cuda_graph_find(&c, 100) == 1);
    /* A forgotten slot is reused first, with nothing to evict. */
    vitc_cuda_graph_forget(&c, 4);
    CHECK(vitc_cuda_graph_find(&c, 5) == -1);
    s = vitc_cuda_graph_claim(&c, 7000, &evict);
    CHECK(s == 4 && !evict);
    vitc_cuda_graph_forget(&c, -1);
    vitc_cuda_graph_forget(&c, VITC_CUDA_GRAPH_SLOTS);
}

int main(void)
{
    RUN(test_bf16_sweep);
    RUN(test_f16_sweep);
    RUN(test_round_trips);
    RUN(test_special_values);
    RUN(test_convert);
    RUN(test_wplan_models);
    RUN(test_wplan_shared);
    RUN(test_io_floats);
    RUN(test_attn_plan);
    RUN(test_alignment);
    RUN(test_graph_cache);
    return TEST_REPORT();
}
