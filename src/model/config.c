/* SPDX-License-Identifier: MIT
 *
 * config.c — config.json (transformers' ViTConfig, DeiTConfig, CLIP's vision
 * config) to struct vitc_config, with jansson. model_type picks the family
 * and its defaults; absent fields take them, unknown fields are
 * ignored, and every value the forward pass depends on is type-checked and
 * bounded so later size arithmetic cannot overflow. I/O leaf: no weights.
 */
#include "model/config.h"

#include <errno.h>
#include <jansson.h>
#include <math.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>

#include "base/err.h"

/* Bounds far above any published ViT, low enough that products such as
 * n_tokens * hidden_size * batch stay well inside size_t. */
#define MAX_HIDDEN       65536
#define MAX_LAYERS       1024
#define MAX_INTERMEDIATE 262144
#define MAX_IMAGE        8192
#define MAX_CHANNELS     1024
#define MAX_LABELS       1000000
/* config.json files are a few KiB; id2label of a 21k-class model ~1 MiB. */
#define MAX_CONFIG_BYTES ((long long)64 << 20)

/* ---- activations ---- */

static const struct {
    const char *name;
    enum vitc_act act;
} act_table[] = {
    {"gelu", VITC_ACT_GELU},
    {"gelu_python", VITC_ACT_GELU},
    {"gelu_new", VITC_ACT_GELU_TANH},
    {"gelu_pytorch_tanh", VITC_ACT_GELU_TANH},
    /* gelu_fast is 0.5x(1+tanh(0.7978845608x(1+0.044715x^2))): the same
     * tanh approximation as gelu_new, factored differently. */
    {"gelu_fast", VITC_ACT_GELU_TANH},
    {"quick_gelu", VITC_ACT_QUICK_GELU},
    {"relu", VITC_ACT_RELU},
    {"silu", VITC_ACT_SILU},
    {"swish", VITC_ACT_SILU},
    {"linear", VITC_ACT_NONE},
    {"tanh", VITC_ACT_TANH},
};

/* ---- field readers ---- */

/* A positive integer field in [1, max]; absent keeps *val. */
static vitc_status get_size(const char *path, const json_t *root, const char *key, int max,
                            int *val)
{
    const json_t *v = json_object_get(root, key);
    if (!v) {
        return VITC_OK;
    }
    if (!json_is_integer(v) || json_integer_value(v) <= 0) {
        return vitc_error(VITC_ERR_FORMAT, "%s: '%s' must be a positive integer", path, key);
    }
    if (json_integer_value(v) > max) {
        return vitc_error(VITC_ERR_FORMAT, "%s: '%s' is %lld, over the limit of %d", path, key,
                          (long long)json_integer_value(v), max);
    }
    *val = (int)json_integer_value(v);
    return VITC_OK;
}

/* image_size / patch_size: an int, or [h, w] which must be square here. */
static vitc_status get_side(const char *path, const json_t *root, const char *key, int *val)
{
    const json_t *v = json_object_get(root, key);
    if (!json_is_array(v)) {
        return get_size(path, root, key, MAX_IMAGE, val);
    }
    const json_t *h = json_array_get(v, 0), *w = json_array_get(v, 1);
    if (json_array_size(v) != 2 || !json_is_integer(h) || !json_is_integer(w) ||
        json_integer_value(h) <= 0 || json_integer_value(w) <= 0) {
        return vitc_error(VITC_ERR_FORMAT, "%s: '%s' must be a positive integer or a list of two",
                          path, key);
    }
    if (json_integer_value(h) != json_integer_value(w)) {
        return vitc_error(VITC_ERR_UNSUPPORTED, "%s: non-square '%s' [%lld, %lld] is not supported",
                          path, key, (long long)json_integer_value(h),
                          (long long)json_integer_value(w));
    }
    if (json_integer_value(h) > MAX_IMAGE) {
        return vitc_error(VITC_ERR_FORMAT, "%s: '%s' is %lld, over the limit of %d", path, key,
                          (long long)json_integer_value(h), MAX_IMAGE);
    }
    *val = (int)json_integer_value(h);
    return VITC_OK;
}

static vitc_status get_act(const char *path, const json_t *root, struct vitc_config *cfg)
{
    const json_t *v = json_object_get(root, "hidden_act");
    if (!v) {
        return VITC_OK;
    }
    if (!json_is_string(v)) {
        return vitc_error(VITC_ERR_FORMAT, "%s: 'hidden_act' must be a string", path);
    }
    const char *name = json_string_value(v);
    for (size_t i = 0; i < sizeof act_table / sizeof act_table[0]; i++) {
        if (strcmp(name, act_table[i].name) == 0) {
            cfg->hidden_act = act_table[i].act;
            snprintf(cfg->hidden_act_name, sizeof cfg->hidden_act_name, "%s", name);
            return VITC_OK;
        }
    }
    return vitc_error(VITC_ERR_UNSUPPORTED, "%s: hidden_act '%s' is not supported", path, name);
}

/* Parses a decimal id2label key ("0", "17"); Python's int() also takes
 * leading zeros, so "007" is 7. */
static int parse_label_id(const char *s, size_t *out)
{
    size_t v = 0;
    if (!*s) {
        return 0;
    }
    for (; *s; s++) {
        if (*s < '0' || *s > '9' || v > MAX_LABELS) {
            return 0;
        }
        v = v * 10 + (size_t)(*s - '0');
    }
    *out = v;
    return 1;
}

/* id2label: {"0": "tench", ...}, keys exactly 0..n-1. On failure frees what
 * it made; on success cfg->id2label holds n owned strings. */
static vitc_status get_labels(const char *path, const json_t *root, struct vitc_config *cfg)
{
    const json_t *obj = json_object_get(root, "id2label");
    const json_t *num = json_object_get(root, "num_labels");
    if (!obj || json_is_null(obj)) {
        if (num && !json_is_null(num)) {
            if (!json_is_integer(num) || json_integer_value(num) < 0 ||
                json_integer_value(num) > MAX_LABELS) {
                return vitc_error(VITC_ERR_FORMAT, "%s: 'num_labels' must be an integer in 0..%d",
                                  path, MAX_LABELS);
            }
            cfg->num_labels = (int)json_integer_value(num);
        }
        return VITC_OK;
    }
    if (!json_is_object(obj)) {
        return vitc_error(VITC_ERR_FORMAT, "%s: 'id2label' must be an object", path);
    }
    size_t n = json_object_size(obj);
    if (n > MAX_LABELS) {
        return vitc_error(VITC_ERR_FORMAT, "%s: 'id2label' has %zu labels, over the limit of %d",
                          path, n, MAX_LABELS);
    }
    cfg->num_labels = (int)n;
    if (n == 0) {
        return VITC_OK;
    }
    char **labels = vitc_mem_calloc(n, sizeof *labels);
    if (!labels) {
        return vitc_error(VITC_ERR_NOMEM, "%s: out of memory reading id2label", path);
    }
    cfg->id2label = labels;

    const char *key;
    const json_t *val;
    json_object_foreach ((json_t *)obj, key, val) {
        size_t id;
        if (!parse_label_id(key, &id)) {
            return vitc_error(VITC_ERR_FORMAT, "%s: id2label key '%s' is not a label number", path,
                              key);
        }
        if (id >= n) {
            return vitc_error(VITC_ERR_FORMAT,
                              "%s: id2label key '%s' is out of range: %zu labels must be "
                              "numbered 0..%zu without gaps",
                              path, key, n, n - 1);
        }
        if (labels[id]) {
            return vitc_error(VITC_ERR_FORMAT, "%s: id2label has two keys for label %zu", path, id);
        }
        if (!json_is_string(val)) {
            return vitc_error(VITC_ERR_FORMAT, "%s: id2label['%s'] must be a string", path, key);
        }
        labels[id] = vitc_mem_strdup(json_string_value(val));
        if (!labels[id]) {
            return vitc_error(VITC_ERR_NOMEM, "%s: out of memory reading id2label", path);
        }
    }
    return VITC_OK;
}

/* Fields that only name things or change nothing in inference. */
static vitc_status get_names(const char *path, const json_t *root, struct vitc_config *cfg)
{
    const json_t *v;
    v = json_object_get(root, "architectures");
    if (v && !json_is_null(v)) {
        if (!json_is_array(v)) {
            return vitc_error(VITC_ERR_FORMAT, "%s: 'architectures' must be a list of strings",
                              path);
        }
        const json_t *first = json_array_get(v, 0);
        if (first) {
            if (!json_is_string(first)) {
                return vitc_error(VITC_ERR_FORMAT, "%s: 'architectures' must be a list of strings",
                                  path);
            }
            snprintf(cfg->architecture, sizeof cfg->architecture, "%s", json_string_value(first));
        }
    }
    /* Newer ViTConfig versions can give the pooler another width or
     * activation; only the original tanh pooler of hidden_size exists here. */
    v = json_object_get(root, "pooler_act");
    if (v && !json_is_null(v) && !(json_is_string(v) && !strcmp(json_string_value(v), "tanh"))) {
        return vitc_error(VITC_ERR_UNSUPPORTED,
                          "%s: 'pooler_act' other than \"tanh\" is not "
                          "supported",
                          path);
    }
    v = json_object_get(root, "pooler_output_size");
    if (v && !json_is_null(v) &&
        !(json_is_integer(v) && json_integer_value(v) == cfg->hidden_size)) {
        return vitc_error(VITC_ERR_UNSUPPORTED,
                          "%s: 'pooler_output_size' other than hidden_size is not supported", path);
    }
    return VITC_OK;
}

/* ---- parse ---- */

/* ---- families ---- */

/* model_type -> family; `nested` when the vision tower's fields sit in
 * "vision_config" (two-tower checkpoints: only values that differ from the
 * class defaults are written there). */
static const struct {
    const char *model_type;
    enum vitc_family family;
    bool nested;
} family_table[] = {
    {"vit", VITC_FAMILY_VIT, false},
    {"deit", VITC_FAMILY_DEIT, false},
    {"clip", VITC_FAMILY_CLIP, true},
    {"clip_vision_model", VITC_FAMILY_CLIP, false},
    {"dinov2", VITC_FAMILY_DINOV2, false},
    {"siglip", VITC_FAMILY_SIGLIP, true},
    {"siglip_vision_model", VITC_FAMILY_SIGLIP, false},
};

/* The family's config class defaults (transformers 4.40.2) over ViT's. */
static void family_defaults(enum vitc_family f, struct vitc_config *cfg)
{
    cfg->family = f;
    cfg->n_prefix = f == VITC_FAMILY_DEIT ? 2 : f == VITC_FAMILY_SIGLIP ? 0 : 1;
    if (f == VITC_FAMILY_DINOV2) {
        cfg->layer_norm_eps = 1e-6;
    }
    if (f == VITC_FAMILY_SIGLIP) {
        cfg->layer_norm_eps = 1e-6;
        cfg->hidden_act = VITC_ACT_GELU_TANH;
        snprintf(cfg->hidden_act_name, sizeof cfg->hidden_act_name, "gelu_pytorch_tanh");
    }
    if (f == VITC_FAMILY_CLIP) {
        cfg->patch_size = 32;
        cfg->layer_norm_eps = 1e-5;
        cfg->hidden_act = VITC_ACT_QUICK_GELU;
        snprintf(cfg->hidden_act_name, sizeof cfg->hidden_act_name, "quick_gelu");
        cfg->projection_dim = 512;
    }
}

/* Reads model_type, sets the family's defaults and picks the object that
 * holds the vision fields (*vroot). */
static vitc_status get_family(const char *path, const json_t *root, struct vitc_config *cfg,
                              const json_t **vroot)
{
    const json_t *v = json_object_get(root, "model_type");
    *vroot = root;
    if (!v) {
        return VITC_OK;
    }
    if (!json_is_string(v)) {
        return vitc_error(VITC_ERR_FORMAT, "%s: 'model_type' must be a string", path);
    }
    for (size_t i = 0; i < sizeof family_table / sizeof family_table[0]; i++) {
        if (strcmp(json_string_value(v), family_table[i].model_type) != 0) {
            continue;
        }
        family_defaults(family_table[i].family, cfg);
        if (family_table[i].nested) {
            const json_t *vc = json_object_get(root, "vision_config");
            if (vc && !json_is_null(vc) && !json_is_object(vc)) {
                return vitc_error(VITC_ERR_FORMAT, "%s: 'vision_config' must be an object", path);
            }
            if (vc && json_is_object(vc)) {
                *vroot = vc;
            }
        }
        return VITC_OK;
    }
    return vitc_error(VITC_ERR_UNSUPPORTED,
                      "%s: model_type '%s' is not supported (vit, deit, clip, "
                      "clip_vision_model, dinov2, siglip, siglip_vision_model)",
                      path, json_string_value(v));
}

/* Dinov2Config has no intermediate_size: the MLP is int(hidden * mlp_ratio)
 * wide, or with use_swiglu_ffn SwiGLU's h' = ((int(int(hidden * mlp_ratio)
 * * 2 / 3) + 7) // 8) * 8 (Dinov2SwiGLUFFN). */
static vitc_status get_dinov2_mlp(const char *path, const json_t *root, struct vitc_config *cfg)
{
    double ratio = 4.0;
    const json_t *v = json_object_get(root, "mlp_ratio");
    if (v) {
        if (!json_is_number(v) || !isfinite(json_number_value(v)) || json_number_value(v) <= 0 ||
            json_number_value(v) * cfg->hidden_size > MAX_INTERMEDIATE) {
            return vitc_error(VITC_ERR_FORMAT,
                              "%s: 'mlp_ratio' must be a positive number with hidden_size * "
                              "mlp_ratio at most %d",
                              path, MAX_INTERMEDIATE);
        }
        ratio = json_number_value(v);
    }
    v = json_object_get(root, "use_swiglu_ffn");
    if (v && !json_is_boolean(v)) {
        return vitc_error(VITC_ERR_FORMAT, "%s: 'use_swiglu_ffn' must be true or false", path);
    }
    cfg->swiglu = v && json_is_true(v);
    int hidden = (int)(cfg->hidden_size * ratio);
    if (cfg->swiglu) {
        hidden = ((int)(hidden * 2 / 3) + 7) / 8 * 8;
    }
    if (hidden <= 0) {
        return vitc_error(VITC_ERR_FORMAT, "%s: hidden_size * mlp_ratio gives an empty MLP", path);
    }
    cfg->intermediate_size = hidden;
    return VITC_OK;
}

static vitc_status parse_root(const char *path, const json_t *top, struct vitc_config *cfg)
{
    vitc_status s;
    const json_t *root = top;
    if ((s = get_family(path, top, cfg, &root)) ||
        (s = get_size(path, top, "projection_dim", MAX_HIDDEN, &cfg->projection_dim)) ||
        (s = get_size(path, root, "hidden_size", MAX_HIDDEN, &cfg->hidden_size)) ||
        (s = get_size(path, root, "num_hidden_layers", MAX_LAYERS, &cfg->num_hidden_layers)) ||
        (s = get_size(path, root, "num_attention_heads", MAX_HIDDEN, &cfg->num_attention_heads)) ||
        (s = get_size(path, root, "intermediate_size", MAX_INTERMEDIATE,
                      &cfg->intermediate_size)) ||
        (s = get_side(path, root, "image_size", &cfg->image_size)) ||
        (s = get_side(path, root, "patch_size", &cfg->patch_size)) ||
        (s = get_size(path, root, "num_channels", MAX_CHANNELS, &cfg->num_channels)) ||
        (s = get_act(path, root, cfg)) || (s = get_names(path, top, cfg))) {
        return s;
    }

    const json_t *v = json_object_get(root, "layer_norm_eps");
    if (v) {
        if (!json_is_number(v) || !isfinite(json_number_value(v)) || json_number_value(v) <= 0) {
            return vitc_error(VITC_ERR_FORMAT, "%s: 'layer_norm_eps' must be a positive number",
                              path);
        }
        cfg->layer_norm_eps = json_number_value(v);
    }
    v = json_object_get(root, "qkv_bias");
    if (v) {
        if (!json_is_boolean(v)) {
            return vitc_error(VITC_ERR_FORMAT, "%s: 'qkv_bias' must be true or false", path);
        }
        cfg->qkv_bias = json_is_true(v);
    }

    if (cfg->family == VITC_FAMILY_DINOV2 && (s = get_dinov2_mlp(path, root, cfg))) {
        return s;
    }
    cfg->table_size = cfg->image_size;
    cfg->image_height = cfg->image_width = cfg->image_size;
    if (cfg->hidden_size % cfg->num_attention_heads != 0) {
        return vitc_error(VITC_ERR_FORMAT,
                          "%s: hidden_size %d is not a multiple of num_attention_heads %d", path,
                          cfg->hidden_size, cfg->num_attention_heads);
    }
    if (cfg->image_size % cfg->patch_size != 0) {
        return vitc_error(VITC_ERR_FORMAT, "%s: image_size %d is not a multiple of patch_size %d",
                          path, cfg->image_size, cfg->patch_size);
    }
    return get_labels(path, top, cfg);
}

static void set_defaults(struct vitc_config *cfg)
{
    memset(cfg, 0, sizeof *cfg);
    cfg->hidden_size = 768;
    cfg->num_hidden_layers = 12;
    cfg->num_attention_heads = 12;
    cfg->intermediate_size = 3072;
    cfg->image_size = 224;
    cfg->patch_size = 16;
    cfg->num_channels = 3;
    cfg->layer_norm_eps = 1e-12;
    cfg->qkv_bias = true;
    cfg->hidden_act = VITC_ACT_GELU;
    snprintf(cfg->hidden_act_name, sizeof cfg->hidden_act_name, "gelu");
    cfg->family = VITC_FAMILY_VIT;
    cfg->n_prefix = 1;
    cfg->projection_dim = 0;
    /* PretrainedConfig's default when neither id2label nor num_labels is given. */
    cfg->num_labels = 2;
    cfg->id2label = NULL;
}

vitc_status vitc_config_parse(const char *path, const char *text, size_t len,
                              struct vitc_config *out)
{
    struct vitc_config cfg;
    json_error_t jerr;
    if (!path || (!text && len) || !out) {
        return vitc_error(VITC_ERR_INVALID_ARG, "vitc_config_parse: NULL argument");
    }
    set_defaults(&cfg);
    json_t *root = json_loadb(text ? text : "", len, JSON_REJECT_DUPLICATES, &jerr);
    if (!root) {
        if (json_error_code(&jerr) == json_error_out_of_memory) {
            return vitc_error(VITC_ERR_NOMEM, "%s: out of memory parsing JSON", path);
        }
        return vitc_error(VITC_ERR_FORMAT, "%s: not valid JSON: %s (line %d, column %d)", path,
                          jerr.text, jerr.line, jerr.column);
    }
    vitc_status s = VITC_OK;
    if (!json_is_object(root)) {
        s = vitc_error(VITC_ERR_FORMAT, "%s: not a JSON object", path);
    } else {
        s = parse_root(path, root, &cfg);
    }
    json_decref(root);
    if (s != VITC_OK) {
        vitc_config_free(&cfg);
        return s;
    }
    *out = cfg;
    return VITC_OK;
}

vitc_status vitc_config_load(const char *path, struct vitc_config *out)
{
    FILE *f = NULL;
    char *text = NULL;
    vitc_status s;

    if (!path || !out) {
        return vitc_error(VITC_ERR_INVALID_ARG, "vitc_config_load: NULL argument");
    }
    f = fopen(path, "rb");
    if (!f) {
        return vitc_error(VITC_ERR_IO, "%s: cannot open: %s", path, strerror(errno));
    }
    struct stat sb;
    if (fstat(fileno(f), &sb) != 0 || !S_ISREG(sb.st_mode)) {
        s = vitc_error(VITC_ERR_IO, "%s: not a regular file", path);
        goto done;
    }
    if (sb.st_size > MAX_CONFIG_BYTES) {
        s = vitc_error(VITC_ERR_FORMAT, "%s: %lld bytes, over the limit of %lld for a config", path,
                       (long long)sb.st_size, MAX_CONFIG_BYTES);
        goto done;
    }
    size_t size = (size_t)sb.st_size;
    text = vitc_mem_alloc(size);
    if (!text) {
        s = vitc_error(VITC_ERR_NOMEM, "%s: out of memory", path);
        goto done;
    }
    if (fread(text, 1, size, f) != size) {
        s = vitc_error(VITC_ERR_IO, "%s: read failed", path);
        goto done;
    }
    s = vitc_config_parse(path, text, size, out);

done:
    vitc_mem_free(text);
    fclose(f);
    return s;
}

void vitc_config_free(struct vitc_config *cfg)
{
    if (!cfg || !cfg->id2label) {
        return;
    }
    for (int i = 0; i < cfg->num_labels; i++) {
        vitc_mem_free(cfg->id2label[i]);
    }
    vitc_mem_free(cfg->id2label);
    cfg->id2label = NULL;
}
