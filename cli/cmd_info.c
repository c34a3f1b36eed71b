/* SPDX-License-Identifier: MIT
 *
 * cmd_info.c — `vitc info`: what a checkpoint is (architecture, sizes,
 * parameter count, heads, preprocessing) as an aligned text summary or JSON.
 * Reads everything through vitc_model_get_info; computes nothing.
 * CLI layer: only <vitc.h> (and jansson for JSON output).
 */
#include <math.h>
#include <stdarg.h>
#include <stdio.h>

#include <jansson.h>
#include <vitc.h>

#include "args.h"
#include "json_put.h"
#include "model_arg.h"

enum { OPT_JSON, OPT_IMAGE_SIZE };

static const cli_option options[] = {
    [OPT_JSON] = {"json", 0, NULL, "Print a JSON object instead of text."},
    [OPT_IMAGE_SIZE] = {"image-size", 0, "H[xW]",
                        "Show the model as loaded for H x W inputs (see 'vitc embed --help')."},
};

static int run(const cli_command *cmd, int argc, char **argv);

const cli_command cli_cmd_info = {
    .name = "info",
    .summary = "Show a model's architecture, sizes, heads and preprocessing.",
    .synopsis = "MODEL [--json] [--image-size H[xW]]",
    .description = "MODEL is a directory in Hugging Face layout (config.json, model.safetensors,\n"
                   "preprocessor_config.json). The summary names each value after its config.json\n"
                   "or preprocessor_config.json key; input is the pixel_values the model takes,\n"
                   "height x width (image_size is its side when square, else 0); tokens =\n"
                   "prefix tokens + (height / patch_size) * (width / patch_size).",
    .options = options,
    .n_options = (int)(sizeof options / sizeof options[0]),
    .run = run,
};

/* Names of PIL.Image.Resampling values 0..5 (vitc_resample). */
static const char *resample_name(int r)
{
    static const char *names[] = {"nearest", "lanczos", "bilinear", "bicubic", "box", "hamming"};
    return r >= 0 && r < 6 ? names[r] : "unknown";
}

/* Labels shown in the text summary before "... (N more)". */
#define INFO_LABELS_SHOWN 5

static void print_row(const char *key, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static void print_row(const char *key, const char *fmt, ...)
{
    va_list ap;
    printf("%-21s", key);
    va_start(ap, fmt);
    vprintf(fmt, ap);
    va_end(ap);
    putchar('\n');
}

/* "86,389,248": digits grouped by thousands. */
static const char *grouped(uint64_t v, char *buf, size_t n)
{
    char digits[32];
    int len = snprintf(digits, sizeof digits, "%llu", (unsigned long long)v);
    size_t k = 0;
    for (int i = 0; i < len && k + 2 < n; i++) {
        if (i > 0 && (len - i) % 3 == 0) {
            buf[k++] = ',';
        }
        buf[k++] = digits[i];
    }
    buf[k] = '\0';
    return buf;
}

static void print_text(const char *dir, const vitc_model *model, const vitc_model_info *m)
{
    const vitc_preprocess_params *p = &m->preprocess;
    int gh = m->patch_size > 0 ? m->image_height / m->patch_size : 0;
    int gw = m->patch_size > 0 ? m->image_width / m->patch_size : 0;
    char buf[32];
    print_row("model", "%s", dir);
    print_row("architecture", "%s", m->architecture);
    print_row("hidden_size", "%d", m->hidden_size);
    print_row("num_hidden_layers", "%d", m->num_hidden_layers);
    print_row("num_attention_heads", "%d", m->num_attention_heads);
    print_row("intermediate_size", "%d", m->intermediate_size);
    print_row("image_size", "%d", m->image_size);
    print_row("input", "%dx%d (height x width)", m->image_height, m->image_width);
    print_row("patch_size", "%d", m->patch_size);
    print_row("num_channels", "%d", m->num_channels);
    print_row("family", "%s", m->family ? m->family : "vit");
    print_row("tokens", "%d (%d + %dx%d patches)", m->n_tokens, m->n_prefix_tokens, gh, gw);
    print_row("hidden_act", "%s", m->hidden_act);
    print_row("layer_norm_eps", "%g", m->layer_norm_eps);
    print_row("qkv_bias", "%s", m->qkv_bias ? "true" : "false");
    print_row("parameters", "%s (%.3g M)", grouped(m->n_params, buf, sizeof buf),
              (double)m->n_params / 1e6);
    print_row("file_dtype", "%s", m->file_dtype);
    print_row("pooler", "%s", m->has_pooler ? "yes" : "no");
    print_row("pooling", "%s", m->pooling ? m->pooling : "none");
    if (m->projection_dim > 0) {
        print_row("projection_dim", "%d (image_embeds)", m->projection_dim);
    }
    if (m->num_labels > 0) {
        print_row("classifier", "%d labels", m->num_labels);
        printf("%-21s", "labels");
        for (int i = 0; i < m->num_labels && i < INFO_LABELS_SHOWN; i++) {
            const char *label = vitc_model_label(model, i);
            if (label) {
                printf("%s%s", i ? ", " : "", label);
            } else {
                printf("%sLABEL_%d", i ? ", " : "", i);
            }
        }
        if (m->num_labels > INFO_LABELS_SHOWN) {
            printf(", ... (%d more)", m->num_labels - INFO_LABELS_SHOWN);
        }
        putchar('\n');
    } else {
        print_row("classifier", "none (use 'vitc embed')");
    }
    print_row("processor", "%s", p->processor ? p->processor : "ViTImageProcessor");
    if (p->do_resize && p->shortest_edge > 0) {
        print_row("resize", "shortest edge %d %s", p->shortest_edge, resample_name(p->resample));
    } else if (p->do_resize) {
        print_row("resize", "%dx%d %s", p->width, p->height, resample_name(p->resample));
    } else {
        print_row("resize", "off");
    }
    if (p->do_center_crop) {
        print_row("center_crop", "%dx%d", p->crop_width, p->crop_height);
    }
    if (p->do_rescale) {
        /* Show the usual 1/255 as such; the factor itself is printed exactly. */
        print_row("rescale_factor", "%.15g%s", p->rescale_factor,
                  fabs(p->rescale_factor * 255.0 - 1.0) < 1e-12 ? " (1/255)" : "");
    } else {
        print_row("rescale_factor", "off");
    }
    if (p->do_normalize) {
        print_row("image_mean", "%g %g %g", p->image_mean[0], p->image_mean[1], p->image_mean[2]);
        print_row("image_std", "%g %g %g", p->image_std[0], p->image_std[1], p->image_std[2]);
    } else {
        print_row("normalize", "off");
    }
}

static json_t *triple(const double v[3])
{
    return json_pack("[f, f, f]", v[0], v[1], v[2]);
}

static json_t *preprocess_json(const vitc_preprocess_params *p, int *ok)
{
    json_t *o = json_object();
    cli_json_put(o, "do_resize", json_boolean(p->do_resize), ok);
    cli_json_put(o, "height", json_integer(p->height), ok);
    cli_json_put(o, "width", json_integer(p->width), ok);
    cli_json_put(o, "image_processor_type",
                 json_string(p->processor ? p->processor : "ViTImageProcessor"), ok);
    cli_json_put(o, "shortest_edge", json_integer(p->shortest_edge), ok);
    cli_json_put(o, "do_center_crop", json_boolean(p->do_center_crop), ok);
    cli_json_put(o, "crop_height", json_integer(p->crop_height), ok);
    cli_json_put(o, "crop_width", json_integer(p->crop_width), ok);
    cli_json_put(o, "resample", json_integer(p->resample), ok);
    cli_json_put(o, "resample_name", json_string(resample_name(p->resample)), ok);
    cli_json_put(o, "do_rescale", json_boolean(p->do_rescale), ok);
    cli_json_put(o, "rescale_factor", json_real(p->rescale_factor), ok);
    cli_json_put(o, "do_normalize", json_boolean(p->do_normalize), ok);
    cli_json_put(o, "image_mean", triple(p->image_mean), ok);
    cli_json_put(o, "image_std", triple(p->image_std), ok);
    cli_json_put(o, "do_convert_rgb", json_boolean(p->do_convert_rgb), ok);
    return o;
}

/* The same facts as the text summary; labels as a list indexed by id (null when unnamed). */
static json_t *to_json(const char *dir, const vitc_model *model, const vitc_model_info *m)
{
    int ok = 1;
    json_t *labels = json_array();
    for (int i = 0; labels && i < m->num_labels; i++) {
        const char *label = vitc_model_label(model, i);
        if (json_array_append_new(labels, label ? json_string(label) : json_null()) != 0) {
            ok = 0;
        }
    }
    json_t *o = json_object();
    cli_json_put(o, "model", json_string(dir), &ok);
    cli_json_put(o, "architecture", json_string(m->architecture), &ok);
    cli_json_put(o, "hidden_size", json_integer(m->hidden_size), &ok);
    cli_json_put(o, "num_hidden_layers", json_integer(m->num_hidden_layers), &ok);
    cli_json_put(o, "num_attention_heads", json_integer(m->num_attention_heads), &ok);
    cli_json_put(o, "intermediate_size", json_integer(m->intermediate_size), &ok);
    cli_json_put(o, "image_size", json_integer(m->image_size), &ok);
    cli_json_put(o, "image_height", json_integer(m->image_height), &ok);
    cli_json_put(o, "image_width", json_integer(m->image_width), &ok);
    cli_json_put(o, "patch_size", json_integer(m->patch_size), &ok);
    cli_json_put(o, "num_channels", json_integer(m->num_channels), &ok);
    cli_json_put(o, "tokens", json_integer(m->n_tokens), &ok);
    cli_json_put(o, "hidden_act", json_string(m->hidden_act), &ok);
    cli_json_put(o, "layer_norm_eps", json_real(m->layer_norm_eps), &ok);
    cli_json_put(o, "qkv_bias", json_boolean(m->qkv_bias), &ok);
    cli_json_put(o, "parameters", json_integer((json_int_t)m->n_params), &ok);
    cli_json_put(o, "file_dtype", json_string(m->file_dtype), &ok);
    cli_json_put(o, "pooler", json_boolean(m->has_pooler), &ok);
    cli_json_put(o, "family", json_string(m->family ? m->family : "vit"), &ok);
    cli_json_put(o, "pooling", json_string(m->pooling ? m->pooling : "none"), &ok);
    cli_json_put(o, "projection_dim", json_integer(m->projection_dim), &ok);
    cli_json_put(o, "num_labels", json_integer(m->num_labels), &ok);
    cli_json_put(o, "labels", labels, &ok);
    cli_json_put(o, "preprocess", preprocess_json(&m->preprocess, &ok), &ok);
    if (!ok) {
        json_decref(o);
        return NULL;
    }
    return o;
}

static int run(const cli_command *cmd, int argc, char **argv)
{
    cli_args a;
    int rc = cli_args_parse(cmd, argc, argv, &a);
    if (rc >= 0) {
        return rc;
    }
    vitc_model *model = NULL;
    json_t *json = NULL;
    if (a.n_pos != 1) {
        rc = a.n_pos == 0 ? cli_usage_error(cmd, "missing MODEL")
                          : cli_usage_error(cmd, "expected one MODEL, got %d arguments", a.n_pos);
        goto done;
    }
    vitc_model_params mp = vitc_model_default_params();
    if (a.value[OPT_IMAGE_SIZE] && (rc = cli_parse_image_size(cmd, a.value[OPT_IMAGE_SIZE],
                                                              &mp.image_height, &mp.image_width))) {
        goto done;
    }
    if (cli_model_load(a.pos[0], &mp, &model) != VITC_OK) {
        rc = cli_fail(cmd);
        goto done;
    }
    const vitc_model_info *m = vitc_model_get_info(model);
    if (!a.value[OPT_JSON]) {
        print_text(a.pos[0], model, m);
        rc = CLI_EXIT_OK;
        goto done;
    }
    json = to_json(a.pos[0], model, m);
    if (!json || json_dumpf(json, stdout, JSON_INDENT(2) | JSON_REAL_PRECISION(15)) != 0) {
        cli_error(cmd, "%s: cannot encode as JSON (not UTF-8?)", a.pos[0]);
        rc = CLI_EXIT_FAIL;
        goto done;
    }
    putchar('\n');
    rc = CLI_EXIT_OK;

done:
    json_decref(json);
    vitc_model_free(model);
    cli_args_free(&a);
    return rc;
}
