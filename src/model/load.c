/* SPDX-License-Identifier: MIT
 *
 * load.c — a Hugging Face model directory (config.json, model.safetensors,
 * preprocessor_config.json) to a struct vitc_model: opens and parses the
 * files, settles the input size (and the processor with it), has
 * weights.c read the tensors, and fills the public info. Model layer: no
 * kernels, no forward pass, no tensor names.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>

#include "base/err.h"
#include "io/safetensors.h"
#include "model/config.h"
#include "model/family.h"
#include "model/model.h"
#include "preprocess/preprocess_config.h"

/* ---- directory ---- */

static int file_exists(const char *dir, const char *name, int *nomem)
{
    char *p = vitc_path_join(dir, name);
    struct stat sb;
    int ok = p && stat(p, &sb) == 0;
    *nomem = !p;
    vitc_mem_free(p);
    return ok;
}

/* model.safetensors is absent: name what is there instead, and how to
 * convert it. */
static vitc_status explain_missing_weights(const char *dir, const char *st_path)
{
    static const char *const other[] = {"pytorch_model.bin", "tf_model.h5", "flax_model.msgpack"};
    int nomem = 0;
    if (file_exists(dir, "model.safetensors.index.json", &nomem)) {
        return vitc_error(
            VITC_ERR_UNSUPPORTED,
            "%s: missing; found model.safetensors.index.json, a sharded "
            "checkpoint, which is not supported (save it as one file with "
            "save_pretrained(DIR, safe_serialization=True, max_shard_size=\"100GB\"))",
            st_path);
    }
    for (size_t i = 0; i < sizeof other / sizeof other[0] && !nomem; i++) {
        if (file_exists(dir, other[i], &nomem)) {
            return vitc_error(VITC_ERR_UNSUPPORTED,
                              "%s: missing; found %s, which vitc cannot read: convert with "
                              "`python -c 'from transformers import ViTModel; "
                              "ViTModel.from_pretrained(DIR).save_pretrained(DIR, "
                              "safe_serialization=True)'` (ViTForImageClassification for "
                              "classifiers)",
                              st_path, other[i]);
        }
    }
    if (nomem) {
        return VITC_ERR_NOMEM;
    }
    return vitc_error(VITC_ERR_IO, "%s: missing (a model directory needs model.safetensors)",
                      st_path);
}

/* The input size asked in params: image_height x image_width, else the
 * square image_size; 0 x 0 for none. */
static void asked_size(const vitc_model_params *p, int *h, int *w)
{
    if (p->image_height > 0 || p->image_width > 0) {
        *h = p->image_height;
        *w = p->image_width;
    } else {
        *h = *w = p->image_size;
    }
}

/* The input size: the one asked in params (ViT and DINOv2 only: the
 * families whose position table transformers 4.40.2 interpolates), else
 * for a family whose table always follows the input (DINOv2) the
 * processor's output size: the crop (224 for the published checkpoints,
 * whose tables are for 518). An asked size also sets the processor to
 * make it (see the end). */
static vitc_status set_input_size(struct vitc_model *m, const char *cfg_path)
{
    struct vitc_config *c = &m->cfg;
    vitc_preprocess_params *pp = &m->info.preprocess;
    const struct vitc_family_desc *f = vitc_family_get(c->family);
    int w = 0, h = 0, ah = 0, aw = 0;
    asked_size(&m->params, &ah, &aw);
    bool asked = ah > 0;
    if (asked && (ah != c->image_size || aw != c->image_size) && !f->interpolate &&
        c->family != VITC_FAMILY_VIT) {
        return vitc_error(VITC_ERR_UNSUPPORTED,
                          "%s: image size %dx%d: a %s model has no position-embedding "
                          "interpolation (its image_size is %d)",
                          cfg_path, ah, aw, f->model_type, c->image_size);
    }
    if (asked) {
        h = ah;
        w = aw;
    } else if (!f->interpolate || !vitc_preprocess_fixed_size(pp, &w, &h)) {
        return VITC_OK;
    }
    if (!asked && w == c->image_size && h == c->image_size) {
        return VITC_OK;
    }
    /* As the stride-P patch convolution, the grid floors. */
    long gh = h / c->patch_size, gw = w / c->patch_size;
    if (gh < 1 || gw < 1) {
        return vitc_error(VITC_ERR_UNSUPPORTED,
                          "%s: input %dx%d (height x width) is smaller than one %dx%d patch",
                          cfg_path, h, w, c->patch_size, c->patch_size);
    }
    if ((uint64_t)h * (uint64_t)w > VITC_MAX_INPUT_PIXELS ||
        (uint64_t)gh * (uint64_t)gw + (uint64_t)c->n_prefix > VITC_MAX_INPUT_TOKENS) {
        return vitc_error(VITC_ERR_UNSUPPORTED,
                          "%s: input %dx%d (height x width): %ldx%ld patches, %llu tokens, is "
                          "over the limit of %u tokens and %u pixels",
                          cfg_path, h, w, gh, gw,
                          (unsigned long long)((uint64_t)gh * (uint64_t)gw + (uint64_t)c->n_prefix),
                          VITC_MAX_INPUT_TOKENS, VITC_MAX_INPUT_PIXELS);
    }
    c->image_height = h;
    c->image_width = w;
    int own_w, own_h;
    if (asked && !(vitc_preprocess_fixed_size(pp, &own_w, &own_h) && own_w == w && own_h == h)) {
        /* The processor makes the asked size. One that crops keeps its
         * shape: the short side resized to the larger asked side, then the
         * asked size cropped from the centre, so nothing is stretched; one
         * that does not resizes to exactly h x w. The processor's own size
         * leaves it as published. */
        pp->do_resize = true;
        if (pp->do_center_crop) {
            pp->shortest_edge = h > w ? h : w;
            pp->crop_height = h;
            pp->crop_width = w;
        } else {
            pp->shortest_edge = 0;
            pp->height = h;
            pp->width = w;
        }
    }
    return VITC_OK;
}

/* Reads the three files of dir into m (config, preprocess params, mapping). */
static vitc_status open_files(struct vitc_model *m, const char *dir)
{
    char *cfg_path = NULL, *st_path = NULL, *pp_path = NULL;
    struct stat sb;
    vitc_status s = VITC_ERR_NOMEM;

    cfg_path = vitc_path_join(dir, "config.json");
    st_path = vitc_path_join(dir, "model.safetensors");
    pp_path = vitc_path_join(dir, "preprocessor_config.json");
    if (!cfg_path || !st_path || !pp_path) {
        goto done;
    }
    if (stat(cfg_path, &sb) != 0) {
        s = vitc_error(VITC_ERR_IO, "%s: missing (not a Hugging Face model directory?)", cfg_path);
        goto done;
    }
    if (stat(st_path, &sb) != 0) {
        s = explain_missing_weights(dir, st_path);
        goto done;
    }
    if ((s = vitc_config_load(cfg_path, &m->cfg))) {
        goto done;
    }
    enum vitc_processor_kind kind = vitc_family_get(m->cfg.family)->processor;
    m->info.preprocess = vitc_preprocess_class_defaults(kind);
    if (stat(pp_path, &sb) == 0 &&
        (s = vitc_preprocess_params_load_kind(pp_path, kind, &m->info.preprocess))) {
        goto done;
    }
    if ((s = set_input_size(m, cfg_path)) != VITC_OK) {
        goto done;
    }
    s = vitc_st_open(st_path, &m->st);

done:
    vitc_mem_free(cfg_path);
    vitc_mem_free(st_path);
    vitc_mem_free(pp_path);
    return s;
}

static void fill_info(struct vitc_model *m)
{
    const struct vitc_config *c = &m->cfg;
    vitc_model_info *info = &m->info;
    const struct vitc_family_desc *f = vitc_family_get(c->family);
    static const char *const pooling[] = {"none", "tanh dense", "post-LayerNorm CLS",
                                          "LayerNorm'd CLS", "attention pooling head"};
    if (c->architecture[0]) {
        info->architecture = c->architecture;
    } else {
        info->architecture = m->w.classifier.weight ? "ViTForImageClassification" : "ViTModel";
    }
    info->family = f->model_type;
    info->pooling = pooling[m->arch.pool];
    info->n_prefix_tokens = m->arch.n_prefix;
    info->projection_dim = m->arch.projection ? m->w.projection.n_out : 0;
    info->default_output = m->arch.projection ? VITC_OUTPUT_IMAGE_EMBEDS
                           : m->arch.pool     ? VITC_OUTPUT_POOLER
                                              : VITC_OUTPUT_CLS;
    info->hidden_size = c->hidden_size;
    info->num_hidden_layers = c->num_hidden_layers;
    info->num_attention_heads = c->num_attention_heads;
    info->intermediate_size = c->intermediate_size;
    info->image_height = c->image_height;
    info->image_width = c->image_width;
    info->image_size = c->image_height == c->image_width ? c->image_height : 0;
    info->patch_size = c->patch_size;
    info->num_channels = c->num_channels;
    info->n_tokens =
        (c->image_height / c->patch_size) * (c->image_width / c->patch_size) + m->arch.n_prefix;
    info->layer_norm_eps = c->layer_norm_eps;
    info->qkv_bias = c->qkv_bias;
    info->hidden_act = c->hidden_act_name;
    info->has_pooler = m->arch.pool != VITC_POOL_NONE;
    info->num_labels = m->w.classifier.weight ? c->num_labels : 0;
}

void vitc_model_release(struct vitc_model *m)
{
    vitc_mem_free(m->w.layers);
    vitc_mem_free_aligned(m->arena);
    vitc_st_close(m->st);
    vitc_config_free(&m->cfg);
    vitc_mem_free(m->dir);
    vitc_mem_free(m);
}

/* ---- entry point ---- */

vitc_status vitc_model_read(const char *dir, const vitc_model_params *params,
                            struct vitc_model **out)
{
    struct vitc_model *m = NULL;
    struct stat sb;
    vitc_status s;

    if (stat(dir, &sb) != 0) {
        return vitc_error(VITC_ERR_IO, "%s: cannot open model directory: %s", dir, strerror(errno));
    }
    if (!S_ISDIR(sb.st_mode)) {
        return vitc_error(VITC_ERR_IO,
                          "%s: not a directory (a model is a directory with "
                          "config.json and model.safetensors)",
                          dir);
    }
    m = vitc_mem_calloc(1, sizeof *m);
    if (!m) {
        return vitc_error(VITC_ERR_NOMEM, "%s: out of memory", dir);
    }
    m->params = *params;
    m->dir = vitc_mem_strdup(dir);
    if (!m->dir) {
        s = vitc_error(VITC_ERR_NOMEM, "%s: out of memory", dir);
        goto fail;
    }
    if ((s = open_files(m, dir)) || (s = vitc_model_load_weights(m))) {
        goto fail;
    }
    fill_info(m);
    *out = m;
    return VITC_OK;

fail:
    vitc_model_release(m);
    return s;
}
