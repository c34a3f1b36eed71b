/* SPDX-License-Identifier: MIT
 *
 * cmd_classify.c — `vitc classify`: top-K labels per image of a
 * ViTForImageClassification checkpoint, with softmax probabilities computed in
 * double from the logits; tab-separated text or JSON on stdout. CLI layer:
 * only <vitc.h> (and jansson for JSON output).
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>
#include <vitc.h>

#include "args.h"
#include "model_arg.h"
#include "inputs.h"
#include "rank.h"
#include "target.h"

enum { OPT_TOP_K, OPT_JSON, OPT_BATCH, OPT_THREADS, OPT_DEVICE, OPT_PRECISION, OPT_IMAGE_SIZE };

static const cli_option options[] = {
    [OPT_TOP_K] = {"top-k", 0, "K",
                   "Labels per image, at least 1 (default 5, capped at the "
                   "number of labels)."},
    [OPT_JSON] = {"json", 0, NULL, "Print a JSON array instead of text lines."},
    [OPT_BATCH] = {"batch", 0, "N", "Images per forward pass, 1 to 4096 (default 8)."},
    [OPT_THREADS] = {"threads", 0, "N", "Worker threads, 0 = all cores (default 0)."},
    [OPT_DEVICE] = {"device", 0, "D", CLI_DEVICE_HELP},
    [OPT_PRECISION] = {"precision", 0, "P", CLI_PRECISION_HELP},
    [OPT_IMAGE_SIZE] = {"image-size", 0, "H[xW]", CLI_IMAGE_SIZE_HELP},
};

static int run(const cli_command *cmd, int argc, char **argv);

const cli_command cli_cmd_classify = {
    .name = "classify",
    .summary = "Print the most probable labels of images (classifier checkpoints).",
    .synopsis = "MODEL IMAGE... [--top-k K] [--json] [--batch N] [--threads N]\n"
                "                  [--device D] [--precision P] [--image-size H[xW]]",
    .description = "IMAGE may also be a directory of images (sorted by name) or a .npy of\n"
                   "pixel_values, as for 'vitc embed'. Labels come from config.json's id2label\n"
                   "(LABEL_i when unnamed); probabilities are the softmax of the logits.\n"
                   "Text output, one line per label, best first:\n"
                   "  IMAGE<TAB>RANK<TAB>LABEL<TAB>PROBABILITY\n"
                   "JSON output: [{\"input\": IMAGE, \"predictions\": [{\"rank\": 1, \"id\": ID,\n"
                   "  \"label\": LABEL, \"prob\": P, \"logit\": L}, ...]}, ...]\n"
                   "A checkpoint without a classifier head (ViTModel, e.g. in21k) has no labels:\n"
                   "use 'vitc embed' for its features.",
    .options = options,
    .n_options = (int)(sizeof options / sizeof options[0]),
    .run = run,
};

/* Prints (or appends to json) the top k of one image; returns 0 or CLI_EXIT_FAIL. */
static int report(const vitc_model *model, const char *name, const cli_ranked *r, int k,
                  json_t *json)
{
    char buf[32];
    if (!json) {
        for (int j = 0; j < k; j++) {
            printf("%s\t%d\t%s\t%.6f\n", name, j + 1, cli_label_of(model, r[j].id, buf, sizeof buf),
                   r[j].prob);
        }
        return 0;
    }
    json_t *preds = json_array();
    json_t *item = json_pack("{s:s, s:o}", "input", name, "predictions", preds);
    if (!item || json_array_append_new(json, item) != 0) {
        return CLI_EXIT_FAIL;
    }
    for (int j = 0; j < k; j++) {
        json_t *p = json_pack("{s:i, s:i, s:s, s:f, s:f}", "rank", j + 1, "id", r[j].id, "label",
                              cli_label_of(model, r[j].id, buf, sizeof buf), "prob", r[j].prob,
                              "logit", r[j].logit);
        if (!p || json_array_append_new(preds, p) != 0) {
            return CLI_EXIT_FAIL;
        }
    }
    return 0;
}

/* Classifies every input in batches, reporting each image as its batch finishes. */
static int classify_all(const cli_command *cmd, const vitc_model *model, const cli_inputs *in,
                        long batch, long threads, const cli_target *target, int k, json_t *json)
{
    int n_labels = vitc_model_get_info(model)->num_labels;
    size_t n_pv = vitc_output_size(model, VITC_OUTPUT_PIXEL_VALUES);
    size_t max_batch = (size_t)batch < in->n ? (size_t)batch : in->n;
    vitc_ctx_params cp = vitc_ctx_default_params();
    cp.backend = target->backend;
    cp.device = target->device;
    cp.n_threads = (int)threads;
    cp.max_batch = (int)max_batch;
    vitc_ctx *ctx = NULL;
    float *pv = calloc(max_batch, n_pv * sizeof *pv);
    float *logits = calloc(max_batch, (size_t)n_labels * sizeof *logits);
    cli_ranked *r = calloc((size_t)n_labels, sizeof *r);
    int rc = 0;
    if (!pv || !logits || !r) {
        cli_error(cmd, "out of memory");
        rc = CLI_EXIT_FAIL;
    } else if (vitc_ctx_new(model, &cp, &ctx) != VITC_OK) {
        rc = cli_fail(cmd);
    }
    for (size_t start = 0; start < in->n && rc == 0; start += max_batch) {
        size_t nb = in->n - start < max_batch ? in->n - start : max_batch;
        for (size_t j = 0; j < nb && rc == 0; j++) {
            rc = cli_inputs_pixels(cmd, &in->items[start + j], model, pv + j * n_pv, n_pv);
        }
        if (rc == 0 &&
            (vitc_forward(ctx, pv, nb) != VITC_OK ||
             vitc_get_output(ctx, VITC_OUTPUT_LOGITS, logits, nb * (size_t)n_labels) != VITC_OK)) {
            rc = cli_fail(cmd);
        }
        for (size_t j = 0; j < nb && rc == 0; j++) {
            cli_rank_logits(logits + j * (size_t)n_labels, n_labels, r);
            if (report(model, in->items[start + j].name, r, k, json) != 0) {
                cli_error(cmd, "%s: cannot encode as JSON (not UTF-8?)", in->items[start + j].name);
                rc = CLI_EXIT_FAIL;
            }
        }
    }
    vitc_ctx_free(ctx);
    free(r);
    free(logits);
    free(pv);
    return rc;
}

static int run(const cli_command *cmd, int argc, char **argv)
{
    cli_args a;
    int rc = cli_args_parse(cmd, argc, argv, &a);
    if (rc >= 0) {
        return rc;
    }
    vitc_model *model = NULL;
    cli_inputs in = {0};
    json_t *json = NULL;
    long top_k = 5, batch = 8, threads = 0;
    int image_h = 0, image_w = 0;
    cli_target target;

    if (a.n_pos < 1) {
        rc = cli_usage_error(cmd, "missing MODEL");
        goto done;
    }
    if (a.n_pos < 2) {
        rc = cli_usage_error(cmd, "missing IMAGE");
        goto done;
    }
    if ((a.value[OPT_TOP_K] &&
         (rc = cli_parse_long(cmd, "top-k", a.value[OPT_TOP_K], 1, 1000000, &top_k)) != 0) ||
        (a.value[OPT_BATCH] &&
         (rc = cli_parse_long(cmd, "batch", a.value[OPT_BATCH], 1, 4096, &batch)) != 0) ||
        (a.value[OPT_THREADS] &&
         (rc = cli_parse_long(cmd, "threads", a.value[OPT_THREADS], 0, 4096, &threads)) != 0) ||
        (a.value[OPT_IMAGE_SIZE] &&
         (rc = cli_parse_image_size(cmd, a.value[OPT_IMAGE_SIZE], &image_h, &image_w)) != 0) ||
        (rc = cli_target_parse(cmd, a.value[OPT_DEVICE], a.value[OPT_PRECISION], &target)) != 0) {
        goto done;
    }
    vitc_model_params mp = vitc_model_default_params();
    mp.precision = target.precision;
    mp.image_height = image_h;
    mp.image_width = image_w;
    if (cli_model_load(a.pos[0], &mp, &model) != VITC_OK) {
        rc = cli_fail(cmd);
        goto done;
    }
    const vitc_model_info *info = vitc_model_get_info(model);
    if (info->num_labels <= 0 || vitc_output_size(model, VITC_OUTPUT_LOGITS) == 0) {
        cli_error(cmd,
                  "%s: the checkpoint has no classifier head (%s), so there are no labels; "
                  "use 'vitc embed' to get its features",
                  a.pos[0], info->architecture);
        rc = CLI_EXIT_FAIL;
        goto done;
    }
    if ((rc = cli_inputs_expand(cmd, a.pos + 1, a.n_pos - 1, model, &in)) != 0) {
        goto done;
    }
    if (a.value[OPT_JSON] && !(json = json_array())) {
        cli_error(cmd, "out of memory");
        rc = CLI_EXIT_FAIL;
        goto done;
    }
    int k = top_k < info->num_labels ? (int)top_k : info->num_labels;
    if ((rc = classify_all(cmd, model, &in, batch, threads, &target, k, json)) != 0) {
        goto done;
    }
    if (json) {
        /* 15 significant digits: far below float32 logit precision, and readable. */
        if (json_dumpf(json, stdout, JSON_INDENT(2) | JSON_REAL_PRECISION(15)) != 0) {
            cli_error(cmd, "error writing JSON");
            rc = CLI_EXIT_FAIL;
            goto done;
        }
        putchar('\n');
    }
    rc = CLI_EXIT_OK;

done:
    json_decref(json);
    cli_inputs_free(&in);
    vitc_model_free(model);
    cli_args_free(&a);
    return rc;
}
