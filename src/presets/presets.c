/* SPDX-License-Identifier: MIT
 *
 * presets.c — vitc_preset_name / vitc_preset_write: a complete model directory
 * for a built-in preset, with its published config files and seeded random
 * weights streamed tensor by tensor into model.safetensors.
 * Model-layout knowledge is limited to the HF state_dict names and shapes;
 * the texts live in presets_data.c and the file format in safetensors_write.c.
 */
#include <errno.h>
#include <inttypes.h>
#include <jansson.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "base/err.h"
#include "base/rng.h"
#include "io/safetensors_write.h"
#include "model/config.h"
#include "model/family.h"
#include "presets/imagenet_labels.h"
#include "presets/presets_data.h"

/* Floats generated and written per step: 256 KiB, so even ViT-H streams
 * through a small buffer. */
#define CHUNK_FLOATS 65536

const char *vitc_preset_name(size_t i)
{
    const struct vitc_preset *p = vitc_presets_get(i);
    return p ? p->name : NULL;
}

/* ---- config.json text ---- */

struct text {
    char *p;
    size_t len, cap;
};

static int text_put(struct text *t, const char *s, size_t n)
{
    size_t need = 0;
    if (vitc_add_size(t->len, n + 1, &need)) {
        return -1;
    }
    if (need > t->cap) {
        size_t cap = t->cap ? t->cap : 4096;
        while (cap < need) {
            cap *= 2;
        }
        char *p = vitc_mem_realloc(t->p, cap);
        if (!p) {
            return -1;
        }
        t->p = p;
        t->cap = cap;
    }
    memcpy(t->p + t->len, s, n);
    t->len += n;
    t->p[t->len] = '\0';
    return 0;
}

static int text_puts(struct text *t, const char *s)
{
    return text_put(t, s, strlen(s));
}

/* Orders label ids by label bytes (Python's str order for ASCII), then id. */
static int cmp_label_id(const void *a, const void *b)
{
    int ia = *(const int *)a, ib = *(const int *)b;
    int c = strcmp(vitc_imagenet_labels[ia], vitc_imagenet_labels[ib]);
    return c ? c : (ia > ib) - (ia < ib);
}

/* Appends id2label (ids in numeric order) and label2id (labels sorted, a
 * repeated label keeping its last id) exactly as json.dumps(indent=2,
 * sort_keys=True) lays out the ImageNet-1k config. */
static int put_imagenet_labels(struct text *t, const struct vitc_preset *p)
{
    int order[VITC_IMAGENET_N_LABELS];
    char line[256];
    int bad = text_puts(t, p->config_head) || text_puts(t, "  \"id2label\": {\n");
    for (int i = 0; !bad && i < VITC_IMAGENET_N_LABELS; i++) {
        int n = snprintf(line, sizeof line, "    \"%d\": \"%s\"%s\n", i, vitc_imagenet_labels[i],
                         i + 1 < VITC_IMAGENET_N_LABELS ? "," : "");
        bad = n < 0 || (size_t)n >= sizeof line || text_put(t, line, (size_t)n);
    }
    bad = bad || text_puts(t, "  },\n") || text_puts(t, p->config_mid) ||
          text_puts(t, "  \"label2id\": {\n");
    for (int i = 0; i < VITC_IMAGENET_N_LABELS; i++) {
        order[i] = i;
    }
    qsort(order, VITC_IMAGENET_N_LABELS, sizeof order[0], cmp_label_id);
    for (int i = 0; !bad && i < VITC_IMAGENET_N_LABELS; i++) {
        const char *label = vitc_imagenet_labels[order[i]];
        int last = i + 1 == VITC_IMAGENET_N_LABELS;
        if (!last && strcmp(label, vitc_imagenet_labels[order[i + 1]]) == 0) {
            continue;
        }
        int n = snprintf(line, sizeof line, "    \"%s\": %d%s\n", label, order[i], last ? "" : ",");
        bad = n < 0 || (size_t)n >= sizeof line || text_put(t, line, (size_t)n);
    }
    return bad || text_puts(t, "  },\n") || text_puts(t, p->config_tail);
}

/* The preset's config.json bytes; caller frees *out with vitc_mem_free. */
static vitc_status build_config(const struct vitc_preset *p, struct text *out)
{
    struct text t = {0};
    int bad = p->kind == VITC_PRESET_BACKBONE ? text_puts(&t, p->config_json)
                                              : put_imagenet_labels(&t, p);
    if (bad) {
        vitc_mem_free(t.p);
        return vitc_error(VITC_ERR_NOMEM, "preset %s: out of memory building config.json", p->name);
    }
    *out = t;
    return VITC_OK;
}

vitc_status vitc_presets_config(const struct vitc_preset *p, char **text, size_t *len)
{
    struct text t = {0};
    if (!p || !text || !len) {
        return vitc_error(VITC_ERR_INVALID_ARG, "vitc_presets_config: NULL argument");
    }
    vitc_status st = build_config(p, &t);
    if (st == VITC_OK) {
        *text = t.p;
        *len = t.len;
    }
    return st;
}

/* ---- shapes from config.json ---- */

struct dims {
    size_t hidden, layers, inter, image, patch, channels, labels;
    bool qkv_bias, classifier;
};

static int get_size(json_t *root, const char *key, size_t dflt, size_t *out)
{
    json_t *v = json_object_get(root, key);
    if (!v) {
        *out = dflt;
        return 0;
    }
    if (!json_is_integer(v) || json_integer_value(v) <= 0 || json_integer_value(v) > 65536) {
        return -1;
    }
    *out = (size_t)json_integer_value(v);
    return 0;
}

/* Reads the dimensions the state_dict shapes depend on from the config text
 * itself, so the table holds each fact once. */
static vitc_status parse_dims(const struct vitc_preset *p, const struct text *cfg, struct dims *d)
{
    json_error_t jerr;
    json_t *root = json_loadb(cfg->p, cfg->len, 0, &jerr);
    vitc_status st = VITC_OK;

    if (!root) {
        return vitc_error(VITC_ERR_FORMAT, "preset %s: config.json: %s (line %d)", p->name,
                          jerr.text, jerr.line);
    }
    memset(d, 0, sizeof *d);
    json_t *qkv = json_object_get(root, "qkv_bias");
    json_t *labels = json_object_get(root, "id2label");
    d->qkv_bias = !qkv || json_is_true(qkv);
    d->classifier = p->kind == VITC_PRESET_IMAGENET1K;
    d->labels = json_is_object(labels) ? json_object_size(labels) : 0;
    if (get_size(root, "hidden_size", 768, &d->hidden) ||
        get_size(root, "num_hidden_layers", 12, &d->layers) ||
        get_size(root, "intermediate_size", 3072, &d->inter) ||
        get_size(root, "image_size", 224, &d->image) ||
        get_size(root, "patch_size", 16, &d->patch) ||
        get_size(root, "num_channels", 3, &d->channels) || d->image % d->patch != 0 ||
        (d->classifier && d->labels == 0)) {
        st =
            vitc_error(VITC_ERR_FORMAT, "preset %s: config.json: inconsistent dimensions", p->name);
    }
    json_decref(root);
    return st;
}

/* ---- the state_dict ---- */

/* How a tensor's values are drawn (the shared fixtures' scheme). */
enum init {
    INIT_LINEAR, /* N(0, 1/fan_in): Linear and patch-conv weights        */
    INIT_BIAS,   /* N(0, 0.1^2)                                          */
    INIT_LN_W,   /* 1 + N(0, 0.1^2)                                      */
    INIT_LN_B,   /* N(0, 0.1^2)                                          */
    INIT_EMBED   /* N(0, 0.5^2): cls_token and position_embeddings       */
};

struct tspec {
    char name[96];
    size_t ndim;
    size_t shape[4];
    enum init init;
    size_t fan_in;
};

struct tlist {
    struct tspec *t;
    size_t n, cap;
    int bad; /* an append failed (out of memory or a name too long) */
};

static void add(struct tlist *l, const char *prefix, const char *name, enum init init,
                size_t fan_in, size_t ndim, size_t d0, size_t d1, size_t d2, size_t d3)
{
    if (l->bad) {
        return;
    }
    if (l->n == l->cap) {
        size_t cap = l->cap ? 2 * l->cap : 64, bytes = 0;
        struct tspec *t = NULL;
        if (!vitc_mul_size(cap, sizeof *t, &bytes)) {
            t = vitc_mem_realloc(l->t, bytes);
        }
        if (!t) {
            l->bad = 1;
            return;
        }
        l->t = t;
        l->cap = cap;
    }
    struct tspec *s = &l->t[l->n];
    int n = snprintf(s->name, sizeof s->name, "%s%s", prefix, name);
    if (n < 0 || (size_t)n >= sizeof s->name) {
        l->bad = 1;
        return;
    }
    s->ndim = ndim;
    s->shape[0] = d0;
    s->shape[1] = d1;
    s->shape[2] = d2;
    s->shape[3] = d3;
    s->init = init;
    s->fan_in = fan_in;
    l->n++;
}

static void add_linear(struct tlist *l, const char *prefix, const char *name, size_t n_out,
                       size_t n_in, bool bias)
{
    char buf[80];
    snprintf(buf, sizeof buf, "%s.weight", name);
    add(l, prefix, buf, INIT_LINEAR, n_in, 2, n_out, n_in, 0, 0);
    if (bias) {
        snprintf(buf, sizeof buf, "%s.bias", name);
        add(l, prefix, buf, INIT_BIAS, 0, 1, n_out, 0, 0, 0);
    }
}

static void add_layernorm(struct tlist *l, const char *prefix, const char *name, size_t n)
{
    char buf[80];
    snprintf(buf, sizeof buf, "%s.weight", name);
    add(l, prefix, buf, INIT_LN_W, 0, 1, n, 0, 0, 0);
    snprintf(buf, sizeof buf, "%s.bias", name);
    add(l, prefix, buf, INIT_LN_B, 0, 1, n, 0, 0, 0);
}

/* The tensors of transformers' ViTModel (with pooler) or
 * ViTForImageClassification ("vit." prefix, no pooler, classifier head). */
static void build_tensors(struct tlist *l, const struct dims *d)
{
    const char *pre = d->classifier ? "vit." : "";
    size_t H = d->hidden, side = d->image / d->patch, T = 1 + side * side;
    char name[80];

    add(l, pre, "embeddings.cls_token", INIT_EMBED, 0, 3, 1, 1, H, 0);
    add(l, pre, "embeddings.position_embeddings", INIT_EMBED, 0, 3, 1, T, H, 0);
    add(l, pre, "embeddings.patch_embeddings.projection.weight", INIT_LINEAR,
        d->channels * d->patch * d->patch, 4, H, d->channels, d->patch, d->patch);
    add(l, pre, "embeddings.patch_embeddings.projection.bias", INIT_BIAS, 0, 1, H, 0, 0, 0);
    for (size_t i = 0; i < d->layers; i++) {
        static const char *const qkv[3] = {"query", "key", "value"};
        for (int j = 0; j < 3; j++) {
            snprintf(name, sizeof name, "encoder.layer.%zu.attention.attention.%s", i, qkv[j]);
            add_linear(l, pre, name, H, H, d->qkv_bias);
        }
        snprintf(name, sizeof name, "encoder.layer.%zu.attention.output.dense", i);
        add_linear(l, pre, name, H, H, true);
        snprintf(name, sizeof name, "encoder.layer.%zu.intermediate.dense", i);
        add_linear(l, pre, name, d->inter, H, true);
        snprintf(name, sizeof name, "encoder.layer.%zu.output.dense", i);
        add_linear(l, pre, name, H, d->inter, true);
        snprintf(name, sizeof name, "encoder.layer.%zu.layernorm_before", i);
        add_layernorm(l, pre, name, H);
        snprintf(name, sizeof name, "encoder.layer.%zu.layernorm_after", i);
        add_layernorm(l, pre, name, H);
    }
    add_layernorm(l, pre, "layernorm", H);
    if (d->classifier) {
        add_linear(l, "", "classifier", d->labels, H, true);
    } else {
        add_linear(l, "", "pooler.dense", H, H, true);
    }
}

/* The other families' tensors, named by the family table (model/family.c,
 * which the loader reads them by): the vision tower as the family's
 * checkpoint class saves it, random values by the same scheme (layer scale
 * as a LayerNorm weight, 1 + N(0, 0.1^2); SigLIP's probe as an embedding). */
static void build_family_tensors(struct tlist *l, const struct vitc_config *c, bool classifier)
{
    const struct vitc_family_desc *f = vitc_family_get(c->family);
    const char *pre = classifier && f->head_prefix ? f->head_prefix : f->base_prefix;
    size_t H = (size_t)c->hidden_size, I = (size_t)c->intermediate_size, P = (size_t)c->patch_size;
    size_t C = (size_t)c->num_channels, side = (size_t)(c->image_size / c->patch_size);
    size_t T = side * side + (size_t)c->n_prefix;
    char name[80], layer[48];

    if (f->cls && f->token_rank == 3) {
        add(l, pre, f->cls, INIT_EMBED, 0, 3, 1, 1, H, 0);
    } else if (f->cls) {
        add(l, pre, f->cls, INIT_EMBED, 0, 1, H, 0, 0, 0); /* CLIP's class_embedding */
    }
    if (f->dist) {
        add(l, pre, f->dist, INIT_EMBED, 0, 3, 1, 1, H, 0);
    }
    if (f->unused) {
        add(l, pre, f->unused, INIT_EMBED, 0, 2, 1, H, 0, 0); /* DINOv2's mask token */
    }
    if (f->token_rank == 3) {
        add(l, pre, f->pos, INIT_EMBED, 0, 3, 1, T, H, 0);
    } else {
        add(l, pre, f->pos, INIT_EMBED, 0, 2, T, H, 0, 0);
    }
    snprintf(name, sizeof name, "%s.weight", f->patch);
    add(l, pre, name, INIT_LINEAR, C * P * P, 4, H, C, P, P);
    if (f->patch_bias) {
        snprintf(name, sizeof name, "%s.bias", f->patch);
        add(l, pre, name, INIT_BIAS, 0, 1, H, 0, 0, 0);
    }
    if (f->pre_ln) {
        add_layernorm(l, pre, f->pre_ln, H);
    }
    for (int i = 0; i < c->num_hidden_layers; i++) {
        snprintf(layer, sizeof layer, f->layer, i);
#define LNAME(suffix) (snprintf(name, sizeof name, "%s%s", layer, suffix), name)
        add_layernorm(l, pre, LNAME(f->ln1), H);
        add_linear(l, pre, LNAME(f->q), H, H, c->qkv_bias);
        add_linear(l, pre, LNAME(f->k), H, H, c->qkv_bias);
        add_linear(l, pre, LNAME(f->v), H, H, c->qkv_bias);
        add_linear(l, pre, LNAME(f->attn_out), H, H, true);
        add_layernorm(l, pre, LNAME(f->ln2), H);
        add_linear(l, pre, LNAME(c->swiglu ? f->glu_in : f->fc1), c->swiglu ? 2 * I : I, H, true);
        add_linear(l, pre, LNAME(c->swiglu ? f->glu_out : f->fc2), H, I, true);
        if (f->ls1) {
            add(l, pre, LNAME(f->ls1), INIT_LN_W, 0, 1, H, 0, 0, 0);
            add(l, pre, LNAME(f->ls2), INIT_LN_W, 0, 1, H, 0, 0, 0);
        }
#undef LNAME
    }
    add_layernorm(l, pre, f->final_ln, H);
    if (f->head) {
        snprintf(name, sizeof name, "%sprobe", f->head);
        add(l, pre, name, INIT_EMBED, 0, 3, 1, 1, H, 0);
        snprintf(name, sizeof name, "%sattention.in_proj_weight", f->head);
        add(l, pre, name, INIT_LINEAR, H, 2, 3 * H, H, 0, 0);
        snprintf(name, sizeof name, "%sattention.in_proj_bias", f->head);
        add(l, pre, name, INIT_BIAS, 0, 1, 3 * H, 0, 0, 0);
        snprintf(name, sizeof name, "%sattention.out_proj", f->head);
        add_linear(l, pre, name, H, H, true);
        snprintf(name, sizeof name, "%slayernorm", f->head);
        add_layernorm(l, pre, name, H);
        snprintf(name, sizeof name, "%smlp.fc1", f->head);
        add_linear(l, pre, name, I, H, true);
        snprintf(name, sizeof name, "%smlp.fc2", f->head);
        add_linear(l, pre, name, H, I, true);
    }
    if (f->projection) {
        add_linear(l, "", f->projection, (size_t)c->projection_dim, H, false);
    }
    if (classifier && f->classifier) {
        add_linear(l, "", f->classifier, (size_t)c->num_labels, H, true);
        if (f->distill) {
            add_linear(l, "", f->distill, (size_t)c->num_labels, H, true);
        }
    }
}

static int cmp_tspec(const void *a, const void *b)
{
    return strcmp(((const struct tspec *)a)->name, ((const struct tspec *)b)->name);
}

/* FNV-1a of a tensor name: each tensor draws from its own stream seeded by
 * (seed, name), so its values do not depend on the order tensors are written. */
static uint64_t name_hash(const char *s)
{
    uint64_t h = 0xcbf29ce484222325ull;
    for (; *s; s++) {
        h = (h ^ (unsigned char)*s) * 0x100000001b3ull;
    }
    return h;
}

static float draw(struct vitc_rng *r, const struct tspec *s)
{
    double z = vitc_rng_normal(r);
    switch (s->init) {
    case INIT_LINEAR:
        return (float)(z / sqrt((double)s->fan_in));
    case INIT_LN_W:
        return (float)(1.0 + 0.1 * z);
    case INIT_EMBED:
        return (float)(0.5 * z);
    case INIT_BIAS:
    case INIT_LN_B:
        break;
    }
    return (float)(0.1 * z);
}

/* ---- files ---- */

/* mkdir -p: creates dir and its missing parents. */
static vitc_status make_dirs(const char *dir)
{
    struct stat sb;
    char *p = vitc_mem_strdup(dir);
    vitc_status st = VITC_OK;

    if (!p) {
        return vitc_error(VITC_ERR_NOMEM, "%s: out of memory", dir);
    }
    for (char *s = p + 1; *s && st == VITC_OK; s++) {
        if (*s == '/' && s[-1] != '/') {
            *s = '\0';
            if (mkdir(p, 0777) != 0 && errno != EEXIST) {
                st = vitc_error(VITC_ERR_IO, "%s: cannot create directory: %s", p, strerror(errno));
            }
            *s = '/';
        }
    }
    if (st == VITC_OK && mkdir(p, 0777) != 0 && errno != EEXIST) {
        st = vitc_error(VITC_ERR_IO, "%s: cannot create directory: %s", dir, strerror(errno));
    }
    if (st == VITC_OK && (stat(p, &sb) != 0 || !S_ISDIR(sb.st_mode))) {
        st = vitc_error(VITC_ERR_IO, "%s: not a directory", dir);
    }
    vitc_mem_free(p);
    return st;
}

/* Writes a small text file through a temporary beside it, renamed over path. */
static vitc_status write_text(const char *path, const char *text, size_t len)
{
    size_t n = strlen(path);
    char *tmp = vitc_mem_alloc(n + VITC_STW_TEMP_SUFFIX_MAX);
    FILE *f = NULL;
    int fd = -1;
    vitc_status st = VITC_OK;

    if (!tmp) {
        return vitc_error(VITC_ERR_NOMEM, "%s: out of memory", path);
    }
    memcpy(tmp, path, n);
    fd = vitc_stw_create_temp(tmp, n);
    if (fd < 0) {
        st = vitc_error(VITC_ERR_IO, "%s: cannot create: %s", path, strerror(errno));
        goto done;
    }
    f = fdopen(fd, "wb");
    if (!f) {
        st = vitc_error(VITC_ERR_IO, "%s: cannot open: %s", path, strerror(errno));
        close(fd);
        unlink(tmp);
        goto done;
    }
    int bad = fwrite(text, 1, len, f) != len;
    int err = errno;
    if (fclose(f) != 0 && !bad) {
        bad = 1;
        err = errno;
    }
    if (bad) {
        st = vitc_error(VITC_ERR_IO, "%s: write failed: %s", path, strerror(err));
        unlink(tmp);
    } else if (rename(tmp, path) != 0) {
        st = vitc_error(VITC_ERR_IO, "%s: cannot move into place: %s", path, strerror(errno));
        unlink(tmp);
    }
done:
    vitc_mem_free(tmp);
    return st;
}

/* Streams every tensor's random values into an open writer. */
static vitc_status write_weights(struct vitc_stw *w, struct tlist *l, uint64_t seed)
{
    float *buf = vitc_mem_alloc(CHUNK_FLOATS * sizeof *buf);
    const char *name = NULL;
    size_t n = 0, k = 0;
    vitc_status st = VITC_OK;

    if (!buf) {
        return vitc_error(VITC_ERR_NOMEM, "out of memory for the weight buffer");
    }
    qsort(l->t, l->n, sizeof *l->t, cmp_tspec); /* the writer's (file) order */
    while (st == VITC_OK && vitc_stw_next(w, &name, &n)) {
        const struct tspec *s = &l->t[k++];
        struct vitc_rng r;
        if (strcmp(s->name, name) != 0) {
            st = vitc_error(VITC_ERR_INVALID_ARG, "tensor order mismatch at '%s'", name);
            break;
        }
        uint64_t x = seed;
        vitc_rng_seed(&r, vitc_rng_splitmix64(&x) ^ name_hash(s->name));
        for (size_t done = 0; st == VITC_OK && done < n;) {
            size_t m = n - done < CHUNK_FLOATS ? n - done : CHUNK_FLOATS;
            for (size_t i = 0; i < m; i++) {
                buf[i] = draw(&r, s);
            }
            st = vitc_stw_write(w, buf, m);
            done += m;
        }
    }
    vitc_mem_free(buf);
    return st;
}

static vitc_status write_safetensors(const char *path, const struct vitc_preset *p, struct tlist *l,
                                     uint64_t seed)
{
    struct vitc_stw *w = NULL;
    char seed_str[24];
    vitc_status st = vitc_stw_open(path, false, &w);

    snprintf(seed_str, sizeof seed_str, "%" PRIu64, seed);
    if (st == VITC_OK) {
        st = vitc_stw_add_metadata(w, "format", "pt");
    }
    if (st == VITC_OK) {
        st = vitc_stw_add_metadata(w, "vitc_random_weights", "true");
    }
    if (st == VITC_OK) {
        st = vitc_stw_add_metadata(w, "vitc_seed", seed_str);
    }
    if (st == VITC_OK) {
        st = vitc_stw_add_metadata(w, "vitc_preset", p->name);
    }
    for (size_t i = 0; st == VITC_OK && i < l->n; i++) {
        st = vitc_stw_add_tensor(w, l->t[i].name, l->t[i].ndim, l->t[i].shape);
    }
    if (st == VITC_OK) {
        st = vitc_stw_write_header(w);
    }
    if (st == VITC_OK) {
        st = write_weights(w, l, seed);
    }
    if (st == VITC_OK) {
        return vitc_stw_finish(w);
    }
    vitc_stw_abort(w);
    return st;
}

/* ---- public entry ---- */

static vitc_status unknown_preset(const char *preset)
{
    char names[512];
    size_t at = 0;
    names[0] = '\0';
    for (size_t i = 0; vitc_preset_name(i) && at < sizeof names; i++) {
        int n = snprintf(names + at, sizeof names - at, "%s%s", i ? ", " : "", vitc_preset_name(i));
        at += n > 0 ? (size_t)n : 0;
    }
    return vitc_error(VITC_ERR_INVALID_ARG, "unknown preset '%s' (valid: %s)", preset, names);
}

vitc_status vitc_preset_write(const char *dir, const char *preset, uint64_t seed)
{
    const struct vitc_preset *p = NULL;
    struct text cfg = {0};
    struct tlist tensors = {0};
    struct dims d;
    struct stat sb;
    enum vitc_family family = VITC_FAMILY_VIT;
    char *cfg_path = NULL, *pre_path = NULL, *st_path = NULL;
    vitc_status st = VITC_OK;

    if (!dir || !*dir || !preset) {
        return vitc_error(VITC_ERR_INVALID_ARG, "vitc_preset_write: %s is missing",
                          !preset ? "the preset name" : "the directory");
    }
    p = vitc_presets_find(preset);
    if (!p) {
        return unknown_preset(preset);
    }
    st = build_config(p, &cfg);
    struct vitc_config vc;
    if (st == VITC_OK && (st = vitc_config_parse(p->name, cfg.p, cfg.len, &vc)) == VITC_OK) {
        family = vc.family;
        if (family != VITC_FAMILY_VIT) {
            build_family_tensors(&tensors, &vc, p->kind == VITC_PRESET_IMAGENET1K);
        }
        vitc_config_free(&vc);
    }
    if (st == VITC_OK && family == VITC_FAMILY_VIT) {
        st = parse_dims(p, &cfg, &d);
    }
    if (st == VITC_OK) {
        if (family == VITC_FAMILY_VIT) {
            build_tensors(&tensors, &d);
        }
        if (tensors.bad) {
            st = vitc_error(VITC_ERR_NOMEM, "preset %s: out of memory listing tensors", p->name);
        }
    }
    if (st == VITC_OK) {
        cfg_path = vitc_path_join(dir, "config.json");
        pre_path = vitc_path_join(dir, "preprocessor_config.json");
        st_path = vitc_path_join(dir, "model.safetensors");
        st = cfg_path && pre_path && st_path ? VITC_OK : VITC_ERR_NOMEM;
    }
    if (st == VITC_OK) {
        st = make_dirs(dir);
    }
    if (st == VITC_OK && lstat(st_path, &sb) == 0) {
        st = vitc_error(VITC_ERR_IO, "%s: already exists; refusing to overwrite", st_path);
    }
    if (st == VITC_OK) {
        st = write_text(cfg_path, cfg.p, cfg.len);
    }
    if (st == VITC_OK) {
        st = write_text(pre_path, p->preprocessor_json, strlen(p->preprocessor_json));
    }
    if (st == VITC_OK) {
        st = write_safetensors(st_path, p, &tensors, seed);
    }
    vitc_mem_free(cfg.p);
    vitc_mem_free(tensors.t);
    vitc_mem_free(cfg_path);
    vitc_mem_free(pre_path);
    vitc_mem_free(st_path);
    return st;
}
