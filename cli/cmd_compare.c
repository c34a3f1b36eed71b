/* SPDX-License-Identifier: MIT
 *
 * cmd_compare.c — `vitc compare`: runs the CPU fp32 reference and a target
 * (device, precision) on the same inputs (seeded random pixel_values and/or
 * images preprocessed as `vitc embed` does) and reports, per output, the
 * absolute and relative differences, cosine similarity and top-1 agreement
 * (compare_metrics.c), as a table or JSON, with optional pass/fail limits. It
 * measures accuracy; speed is `vitc bench`. CLI layer: only <vitc.h> (jansson
 * for JSON).
 */
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <jansson.h>
#include <vitc.h>

#include "args.h"
#include "compare_metrics.h"
#include "inputs.h"
#include "json_put.h"
#include "random_inputs.h"
#include "model_arg.h"
#include "target.h"

enum {
    OPT_DEVICE,
    OPT_PRECISION,
    OPT_SAMPLES,
    OPT_SEED,
    OPT_ONLY,
    OPT_BATCH,
    OPT_THREADS,
    OPT_JSON,
    OPT_OUT,
    OPT_MAX_ABS,
    OPT_MAX_MEAN_REL,
    OPT_MIN_COSINE,
    OPT_MIN_TOP1,
    OPT_IMAGE_SIZE
};

/* Random samples when no INPUT is given. */
#define DEFAULT_SAMPLES 8

static const cli_option options[] = {
    [OPT_DEVICE] = {"device", 0, "D", "The target's device: " CLI_DEVICE_HELP},
    [OPT_PRECISION] = {"precision", 0, "P", "The target's precision: " CLI_PRECISION_HELP},
    [OPT_SAMPLES] = {"samples", 0, "N",
                     "Random inputs, 0 to 100000 (default 8 without INPUT, else 0)."},
    [OPT_SEED] = {"seed", 0, "S", "Seed of the random inputs (default 0)."},
    [OPT_ONLY] = {"only", 0, "LIST",
                  "Compare only these outputs, comma separated: last_hidden_state, "
                  "pooler_output, cls, logits, image_embeds (default: every one the model "
                  "has)."},
    [OPT_BATCH] = {"batch", 0, "N", "Images per forward pass, 1 to 4096 (default 8)."},
    [OPT_THREADS] = {"threads", 0, "N", "CPU threads, 0 = all cores (default 0)."},
    [OPT_JSON] = {"json", 0, NULL, "Print the report as a JSON object instead of the table."},
    [OPT_OUT] = {"output", 'o', "FILE",
                 "Also write the JSON report to FILE (replaced only when complete)."},
    [OPT_MAX_ABS] = {"max-abs", 0, "X", "Fail (exit 1) if any output's max_abs_diff > X."},
    [OPT_MAX_MEAN_REL] = {"max-mean-rel", 0, "X",
                          "Fail if any output's mean_rel_diff > X (a fraction, or a percentage "
                          "with %: 0.005 = 0.5%)."},
    [OPT_MIN_COSINE] = {"min-cosine", 0, "X", "Fail if any output's cosine_min < X."},
    [OPT_MIN_TOP1] = {"min-top1", 0, "X",
                      "Fail if top1_match_rate < X (a fraction or a percentage; logits "
                      "needed)."},
    [OPT_IMAGE_SIZE] = {"image-size", 0, "H[xW]", "Reference and target: " CLI_IMAGE_SIZE_HELP},
};

static int run(const cli_command *cmd, int argc, char **argv);

const cli_command cli_cmd_compare = {
    .name = "compare",
    .summary = "Compare a device/precision's outputs with the CPU fp32 reference.",
    .synopsis = "MODEL [INPUT...] [--device D] [--precision P]\n"
                "                    [--samples N] [--seed S] [--only LIST] [--json] [-o FILE]\n"
                "                    [--max-abs X] [--max-mean-rel X] [--min-cosine X]\n"
                "                    [--min-top1 X] [--image-size H[xW]]",
    .description =
        "Runs MODEL twice on the same inputs: the reference on the CPU in fp32, and the\n"
        "target on --device in --precision (defaults as for the other commands: cpu\n"
        "fp32 compares the CPU with itself, every difference 0). Inputs: N random\n"
        "images of pixel_values uniform in [-1, 1) (the stream of 'vitc bench --seed S',\n"
        "image i the same whatever --batch), then each INPUT (an image, a directory of\n"
        "images or a .npy of pixel_values), preprocessed as 'vitc embed' does.\n"
        "One row per output the model has (last_hidden_state, pooler_output, cls,\n"
        "logits, image_embeds), over every value of every image, in double, with r the reference\n"
        "and t the target:\n"
        "  max_abs_diff, mean_abs_diff   of |t - r|\n"
        "  max_rel_diff, mean_rel_diff   of |t - r| / max(|r|, s), s = mean |r| over\n"
        "                                that image's output: values near zero are\n"
        "                                measured against the output's own scale, so\n"
        "                                the ratio does not explode (percent in the\n"
        "                                table, fractions in JSON)\n"
        "  cosine_min                    the lowest over images of r.t / (|r| |t|),\n"
        "                                each image's output taken as one vector\n"
        "  top1_match_rate               images whose argmax of the logits is the same\n"
        "                                (classifier checkpoints)\n"
        "A NaN or Inf in either output is reported on stderr (output, image, index),\n"
        "its row reads nan, and the exit status is 1.\n"
        "--json prints one object: model, reference and target (device, precision),\n"
        "samples, seed, inputs, images, \"outputs\" {NAME: {values, max_abs_diff,\n"
        "mean_abs_diff, max_rel_diff, mean_rel_diff, cosine_min, cosine_mean,\n"
        "reference_max_abs, nonfinite}}, top1_match_rate, \"per_image\" [{input,\n"
        "cosine {NAME: c}, top1_reference, top1_target}], \"checks\" [{option, limit,\n"
        "passed, failed [NAME...]}] and \"passed\" (numbers that are not finite are\n"
        "null). -o FILE writes the same object to a file, whichever form goes to\n"
        "stdout; the outputs themselves are not saved.\n"
        "The limits (--max-abs, --max-mean-rel, --min-cosine: every compared output;\n"
        "--min-top1) turn the comparison into a check: a violated one is named on\n"
        "stderr and the exit status is 1.\n"
        "Exit status: 0 ok, 1 failure (a precision or device this build does not\n"
        "support, a NaN/Inf, a limit violated), 2 usage error.",
    .options = options,
    .n_options = (int)(sizeof options / sizeof options[0]),
    .run = run,
};

/* ---- what is compared ---- */

static const struct {
    const char *name;
    vitc_output which;
} kinds[] = {
    {"last_hidden_state", VITC_OUTPUT_LAST_HIDDEN_STATE},
    {"pooler_output", VITC_OUTPUT_POOLER},
    {"cls", VITC_OUTPUT_CLS},
    {"logits", VITC_OUTPUT_LOGITS},
    {"image_embeds", VITC_OUTPUT_IMAGE_EMBEDS},
};
#define N_KINDS (sizeof kinds / sizeof kinds[0])

/* A pass/fail limit from the command line. */
struct check {
    int opt;          /* OPT_MAX_ABS ... OPT_MIN_TOP1 */
    double limit;     /* as a fraction for the rates  */
    const char *text; /* as given                     */
    int passed;
    unsigned failed; /* bit k: rows[k] violated it */
};

/* What was asked for, after parsing. */
struct opts {
    cli_target target;
    long samples, batch, threads;
    uint64_t seed;
    int want[N_KINDS]; /* from --only, or all */
    int only;          /* --only was given    */
    int json;
    const char *out;
    struct check checks[4];
    int n_checks;
    int image_h, image_w; /* --image-size; 0 x 0: the model's own */
};

/* One compared output. */
struct row {
    int kind;
    size_t per_image; /* floats per image */
    cmp_acc acc;
    cmp_metrics m;
};

/* The whole comparison. */
struct report {
    const char *model_arg;
    const vitc_model_info *info;
    const struct opts *o;
    struct row rows[N_KINDS];
    int n_rows;
    size_t n_images; /* samples + inputs                      */
    const cli_inputs *in;
    double *cosine; /* (n_images, n_rows)                    */
    long *top1;     /* (n_images, 2) argmax: reference, target */
    int logits_row; /* index into rows, or -1                */
    size_t top1_matches;
    int passed;
};

/* ---- parsing ---- */

/* A non-negative finite number; with percent_ok a trailing '%' divides it by 100. */
static int parse_limit(const cli_command *cmd, const char *opt, const char *text, int percent_ok,
                       double *out)
{
    size_t len = strlen(text);
    int percent = percent_ok && len > 1 && text[len - 1] == '%';
    char buf[64];
    char *end = NULL;
    if (len == 0 || len >= sizeof buf) {
        return cli_usage_error(cmd, "option '--%s': '%s' is not a number", opt, text);
    }
    memcpy(buf, text, len - (size_t)percent);
    buf[len - (size_t)percent] = '\0';
    errno = 0;
    double v = strtod(buf, &end);
    if (*end || errno != 0 || !isfinite(v) || strspn(buf, "0123456789.eE+-") != strlen(buf)) {
        return cli_usage_error(cmd, "option '--%s': '%s' is not a number", opt, text);
    }
    if (v < 0) {
        return cli_usage_error(cmd, "option '--%s': %s is negative", opt, text);
    }
    *out = percent ? v / 100.0 : v;
    return 0;
}

static int parse_only(const cli_command *cmd, const char *text, int want[N_KINDS])
{
    memset(want, 0, N_KINDS * sizeof *want);
    for (const char *p = text;; p++) {
        size_t len = strcspn(p, ","), k = 0;
        while (k < N_KINDS && !(strlen(kinds[k].name) == len && !strncmp(p, kinds[k].name, len))) {
            k++;
        }
        if (k == N_KINDS) {
            return cli_usage_error(cmd,
                                   "option '--only': unknown output '%.*s' (last_hidden_state, "
                                   "pooler_output, cls, logits, image_embeds)",
                                   (int)len, p);
        }
        want[k] = 1;
        p += len;
        if (*p == '\0') {
            return 0;
        }
    }
}

static int parse_opts(const cli_command *cmd, const cli_args *a, struct opts *o)
{
    static const int limit_opts[] = {OPT_MAX_ABS, OPT_MAX_MEAN_REL, OPT_MIN_COSINE, OPT_MIN_TOP1};
    int rc = 0;
    memset(o, 0, sizeof *o);
    o->samples = a->n_pos > 1 ? 0 : DEFAULT_SAMPLES;
    o->batch = 8;
    o->json = a->value[OPT_JSON] != NULL;
    o->out = a->value[OPT_OUT];
    for (size_t k = 0; k < N_KINDS; k++) {
        o->want[k] = 1;
    }
    if ((rc = cli_target_parse(cmd, a->value[OPT_DEVICE], a->value[OPT_PRECISION], &o->target)) ||
        (a->value[OPT_SAMPLES] &&
         (rc = cli_parse_long(cmd, "samples", a->value[OPT_SAMPLES], 0, 100000, &o->samples))) ||
        (a->value[OPT_SEED] && (rc = cli_parse_u64(cmd, "seed", a->value[OPT_SEED], &o->seed))) ||
        (a->value[OPT_BATCH] &&
         (rc = cli_parse_long(cmd, "batch", a->value[OPT_BATCH], 1, 4096, &o->batch))) ||
        (a->value[OPT_THREADS] &&
         (rc = cli_parse_long(cmd, "threads", a->value[OPT_THREADS], 0, 4096, &o->threads))) ||
        (a->value[OPT_ONLY] && (rc = parse_only(cmd, a->value[OPT_ONLY], o->want))) ||
        (a->value[OPT_IMAGE_SIZE] &&
         (rc = cli_parse_image_size(cmd, a->value[OPT_IMAGE_SIZE], &o->image_h, &o->image_w)))) {
        return rc;
    }
    o->only = a->value[OPT_ONLY] != NULL;
    /* The documented default device is the CPU: name it, rather than leave the library's
     * automatic choice to a target the header would not describe. */
    if (o->target.backend == VITC_BACKEND_AUTO) {
        o->target.backend = VITC_BACKEND_CPU;
    }
    for (size_t i = 0; i < sizeof limit_opts / sizeof limit_opts[0]; i++) {
        int opt = limit_opts[i];
        struct check *c = &o->checks[o->n_checks];
        if (!a->value[opt]) {
            continue;
        }
        int percent_ok = opt == OPT_MAX_MEAN_REL || opt == OPT_MIN_TOP1;
        if ((rc = parse_limit(cmd, options[opt].name, a->value[opt], percent_ok, &c->limit))) {
            return rc;
        }
        if ((opt == OPT_MIN_COSINE || opt == OPT_MIN_TOP1) && c->limit > 1.0) {
            return cli_usage_error(cmd, "option '--%s': %s is above 1", options[opt].name,
                                   a->value[opt]);
        }
        c->opt = opt;
        c->text = a->value[opt];
        o->n_checks++;
    }
    if (o->out && !*o->out) {
        return cli_usage_error(cmd, "option '--output': empty file name");
    }
    if (o->samples == 0 && a->n_pos < 2) {
        return cli_usage_error(cmd, "nothing to compare: --samples 0 and no INPUT");
    }
    return 0;
}

/* ---- running ---- */

/* "random[i]" or the input's name, for messages and the JSON list. */
static const char *image_name(const struct report *r, size_t i, char *buf, size_t n)
{
    if (i < (size_t)r->o->samples) {
        snprintf(buf, n, "random[%zu]", i);
        return buf;
    }
    return r->in->items[i - (size_t)r->o->samples].name;
}

/* Runs both contexts over every image, batch by batch, into the report's accumulators. */
static int compare_all(const cli_command *cmd, const vitc_model *ref_model, vitc_ctx *ref,
                       vitc_ctx *tgt, size_t max_batch, struct report *r)
{
    size_t n_pv = vitc_output_size(ref_model, VITC_OUTPUT_PIXEL_VALUES), most = 0;
    for (int k = 0; k < r->n_rows; k++) {
        most = r->rows[k].per_image > most ? r->rows[k].per_image : most;
    }
    float *pv = calloc(max_batch, n_pv * sizeof *pv);
    float *out_ref = calloc(max_batch, most * sizeof *out_ref);
    float *out_tgt = calloc(max_batch, most * sizeof *out_tgt);
    uint64_t state = r->o->seed;
    int rc = 0;
    if (!pv || !out_ref || !out_tgt) {
        cli_error(cmd, "out of memory for a batch of %zu images", max_batch);
        rc = CLI_EXIT_FAIL;
    }
    for (size_t start = 0; start < r->n_images && rc == 0; start += max_batch) {
        size_t nb = r->n_images - start < max_batch ? r->n_images - start : max_batch;
        for (size_t j = 0; j < nb && rc == 0; j++) {
            size_t i = start + j;
            if (i < (size_t)r->o->samples) {
                cli_fill_uniform(pv + j * n_pv, n_pv, &state);
            } else {
                rc = cli_inputs_pixels(cmd, &r->in->items[i - (size_t)r->o->samples], ref_model,
                                       pv + j * n_pv, n_pv);
            }
        }
        if (rc == 0 && vitc_forward(ref, pv, nb) != VITC_OK) {
            rc = cli_fail(cmd);
        }
        if (rc == 0 && vitc_forward(tgt, pv, nb) != VITC_OK) {
            rc = cli_fail(cmd);
        }
        for (int k = 0; k < r->n_rows && rc == 0; k++) {
            struct row *row = &r->rows[k];
            size_t n = row->per_image;
            if (vitc_get_output(ref, kinds[row->kind].which, out_ref, nb * n) != VITC_OK ||
                vitc_get_output(tgt, kinds[row->kind].which, out_tgt, nb * n) != VITC_OK) {
                rc = cli_fail(cmd);
                break;
            }
            for (size_t j = 0; j < nb; j++) {
                size_t i = start + j;
                r->cosine[i * (size_t)r->n_rows + (size_t)k] =
                    cmp_acc_add(&row->acc, out_ref + j * n, out_tgt + j * n, n);
                if (k == r->logits_row) {
                    long a = cmp_argmax(out_ref + j * n, n), b = cmp_argmax(out_tgt + j * n, n);
                    r->top1[2 * i] = a;
                    r->top1[2 * i + 1] = b;
                    r->top1_matches += a >= 0 && a == b;
                }
            }
        }
    }
    free(out_tgt);
    free(out_ref);
    free(pv);
    return rc;
}

/* Reports NaN/Inf values loudly; returns 1 when there were any. */
static int report_nonfinite(const cli_command *cmd, const struct report *r)
{
    int any = 0;
    char buf[32];
    for (int k = 0; k < r->n_rows; k++) {
        const cmp_acc *a = &r->rows[k].acc;
        if (a->nonfinite_target + a->nonfinite_ref == 0) {
            continue;
        }
        cli_error(cmd,
                  "%s: %zu NaN/Inf values in the target, %zu in the reference (the first: "
                  "image %s, index %zu); the comparison fails",
                  kinds[r->rows[k].kind].name, a->nonfinite_target, a->nonfinite_ref,
                  image_name(r, a->first_nonfinite_image, buf, sizeof buf),
                  a->first_nonfinite_index);
        any = 1;
    }
    return any;
}

static double top1_rate(const struct report *r)
{
    return r->n_images ? (double)r->top1_matches / (double)r->n_images : NAN;
}

/* Evaluates the limits; a violated one is named on stderr. */
static void evaluate_checks(const cli_command *cmd, struct report *r, struct opts *o)
{
    for (int c = 0; c < o->n_checks; c++) {
        struct check *ch = &o->checks[c];
        ch->passed = 1;
        if (ch->opt == OPT_MIN_TOP1) {
            double rate = top1_rate(r);
            ch->passed = rate >= ch->limit;
            if (!ch->passed) {
                ch->failed = 1u << r->logits_row;
                cli_error(cmd, "top1_match_rate %.4g%% < %.4g%% (--min-top1)", 100.0 * rate,
                          100.0 * ch->limit);
            }
            continue;
        }
        for (int k = 0; k < r->n_rows; k++) {
            const cmp_metrics *m = &r->rows[k].m;
            const char *name = kinds[r->rows[k].kind].name;
            double v = ch->opt == OPT_MAX_ABS        ? m->max_abs_diff
                       : ch->opt == OPT_MAX_MEAN_REL ? m->mean_rel_diff
                                                     : m->cosine_min;
            /* Written so that NaN violates every limit. */
            int ok = ch->opt == OPT_MIN_COSINE ? v >= ch->limit : v <= ch->limit;
            if (ok) {
                continue;
            }
            ch->passed = 0;
            ch->failed |= 1u << k;
            if (ch->opt == OPT_MAX_ABS) {
                cli_error(cmd, "%s: max_abs_diff %.4g > %.4g (--max-abs)", name, v, ch->limit);
            } else if (ch->opt == OPT_MAX_MEAN_REL) {
                cli_error(cmd, "%s: mean_rel_diff %.4g%% > %.4g%% (--max-mean-rel)", name,
                          100.0 * v, 100.0 * ch->limit);
            } else {
                cli_error(cmd, "%s: cosine_min %.10g < %.10g (--min-cosine)", name, v, ch->limit);
            }
        }
    }
}

/* ---- the report ---- */

/* A fraction as "0.369%" (three significant digits), or "nan"/"inf" as they are. */
static const char *percent(double v, char *buf, size_t n)
{
    if (isfinite(v)) {
        snprintf(buf, n, "%#.3g%%", 100.0 * v);
    } else {
        snprintf(buf, n, "%g", v);
    }
    return buf;
}

static void print_text(const struct report *r)
{
    const vitc_model_info *m = r->info;
    const struct opts *o = r->o;
    char dev[16];
    printf("vitc compare  model %s (%s, %d layers, hidden %d)\n", r->model_arg, m->architecture,
           m->num_hidden_layers, m->hidden_size);
    printf("reference cpu fp32  target %s %s  images %zu (%ld random, seed %llu; %zu input%s)\n",
           cli_device_name(&o->target, dev, sizeof dev), cli_precision_name(o->target.precision),
           r->n_images, o->samples, (unsigned long long)o->seed, r->in->n,
           r->in->n == 1 ? "" : "s");
    printf("rel_diff = |t - r| / max(|r|, mean |r| of the image's output); cosine per image, "
           "lowest shown\n\n");
    printf("%-17s %9s  %13s  %13s  %12s  %13s  %10s\n", "output", "values", "max_abs_diff",
           "mean_abs_diff", "max_rel_diff", "mean_rel_diff", "cosine_min");
    for (int k = 0; k < r->n_rows; k++) {
        const cmp_metrics *x = &r->rows[k].m;
        char max_rel[32], mean_rel[32];
        printf("%-17s %9zu  %13.3e  %13.3e  %12s  %13s  %10.8f%s\n", kinds[r->rows[k].kind].name,
               x->n_values, x->max_abs_diff, x->mean_abs_diff,
               percent(x->max_rel_diff, max_rel, sizeof max_rel),
               percent(x->mean_rel_diff, mean_rel, sizeof mean_rel), x->cosine_min,
               x->nonfinite ? "  NaN/Inf!" : "");
    }
    if (r->logits_row >= 0) {
        printf("\ntop1_match_rate %.2f%% (%zu of %zu images)\n", 100.0 * top1_rate(r),
               r->top1_matches, r->n_images);
    }
    if (o->n_checks) {
        putchar('\n');
    }
    for (int c = 0; c < o->n_checks; c++) {
        const struct check *ch = &o->checks[c];
        printf("check --%s %s: %s", options[ch->opt].name, ch->text,
               ch->passed ? "passed" : "FAILED on");
        for (int k = 0; k < r->n_rows; k++) {
            if (ch->failed & (1u << k)) {
                printf(" %s", kinds[r->rows[k].kind].name);
            }
        }
        putchar('\n');
    }
}

/* A number, or null when it is not finite (JSON has no NaN or Inf). */
static json_t *real_or_null(double v)
{
    return isfinite(v) ? json_real(v) : json_null();
}

static json_t *row_json(const struct row *row, int *ok)
{
    const cmp_metrics *m = &row->m;
    json_t *o = json_object();
    cli_json_put(o, "values", json_integer((json_int_t)m->n_values), ok);
    cli_json_put(o, "max_abs_diff", real_or_null(m->max_abs_diff), ok);
    cli_json_put(o, "mean_abs_diff", real_or_null(m->mean_abs_diff), ok);
    cli_json_put(o, "max_rel_diff", real_or_null(m->max_rel_diff), ok);
    cli_json_put(o, "mean_rel_diff", real_or_null(m->mean_rel_diff), ok);
    cli_json_put(o, "cosine_min", real_or_null(m->cosine_min), ok);
    cli_json_put(o, "cosine_mean", real_or_null(m->cosine_mean), ok);
    cli_json_put(o, "reference_max_abs", real_or_null(m->ref_max_abs), ok);
    cli_json_put(o, "nonfinite", json_integer((json_int_t)m->nonfinite), ok);
    return o;
}

static json_t *image_json(const struct report *r, size_t i, int *ok)
{
    char buf[32];
    json_t *cos = json_object();
    for (int k = 0; k < r->n_rows; k++) {
        cli_json_put(cos, kinds[r->rows[k].kind].name,
                     real_or_null(r->cosine[i * (size_t)r->n_rows + (size_t)k]), ok);
    }
    json_t *o = json_object();
    cli_json_put(o, "input", json_string(image_name(r, i, buf, sizeof buf)), ok);
    cli_json_put(o, "cosine", cos, ok);
    if (r->logits_row >= 0) {
        long a = r->top1[2 * i], b = r->top1[2 * i + 1];
        cli_json_put(o, "top1_reference", a >= 0 ? json_integer(a) : json_null(), ok);
        cli_json_put(o, "top1_target", b >= 0 ? json_integer(b) : json_null(), ok);
    }
    return o;
}

static json_t *to_json(const struct report *r)
{
    const struct opts *o = r->o;
    int ok = 1;
    char dev[16];
    json_t *outputs = json_object(), *images = json_array(), *inputs = json_array();
    json_t *checks = json_array();
    for (int k = 0; k < r->n_rows; k++) {
        cli_json_put(outputs, kinds[r->rows[k].kind].name, row_json(&r->rows[k], &ok), &ok);
    }
    for (size_t i = 0; images && i < r->n_images; i++) {
        ok &= json_array_append_new(images, image_json(r, i, &ok)) == 0;
    }
    for (size_t i = 0; inputs && i < r->in->n; i++) {
        ok &= json_array_append_new(inputs, json_string(r->in->items[i].name)) == 0;
    }
    for (int c = 0; checks && c < o->n_checks; c++) {
        const struct check *ch = &o->checks[c];
        json_t *failed = json_array();
        for (int k = 0; failed && k < r->n_rows; k++) {
            if (ch->failed & (1u << k)) {
                ok &= json_array_append_new(failed, json_string(kinds[r->rows[k].kind].name)) == 0;
            }
        }
        json_t *x = json_object();
        cli_json_put(x, "option", json_string(options[ch->opt].name), &ok);
        cli_json_put(x, "limit", json_real(ch->limit), &ok);
        cli_json_put(x, "passed", json_boolean(ch->passed), &ok);
        cli_json_put(x, "failed", failed, &ok);
        ok &= json_array_append_new(checks, x) == 0;
    }
    json_t *ref = json_pack("{s:s, s:s}", "device", "cpu", "precision", "fp32");
    json_t *tgt = json_pack("{s:s, s:s}", "device", cli_device_name(&o->target, dev, sizeof dev),
                            "precision", cli_precision_name(o->target.precision));
    json_t *j = json_object();
    cli_json_put(j, "vitc_version", json_string(vitc_version()), &ok);
    cli_json_put(j, "model", json_string(r->model_arg), &ok);
    cli_json_put(j, "architecture", json_string(r->info->architecture), &ok);
    cli_json_put(j, "reference", ref, &ok);
    cli_json_put(j, "target", tgt, &ok);
    cli_json_put(j, "samples", json_integer(o->samples), &ok);
    cli_json_put(j, "seed", json_integer((json_int_t)o->seed), &ok);
    cli_json_put(j, "inputs", inputs, &ok);
    cli_json_put(j, "images", json_integer((json_int_t)r->n_images), &ok);
    cli_json_put(j, "rel_diff", json_string("|t - r| / max(|r|, mean |r| of the image's output)"),
                 &ok);
    cli_json_put(j, "outputs", outputs, &ok);
    cli_json_put(j, "top1_match_rate",
                 r->logits_row >= 0 ? real_or_null(top1_rate(r)) : json_null(), &ok);
    cli_json_put(j, "per_image", images, &ok);
    cli_json_put(j, "checks", checks, &ok);
    cli_json_put(j, "passed", json_boolean(r->passed), &ok);
    if (!ok) {
        json_decref(j);
        return NULL;
    }
    return j;
}

/* The -o file: created (exclusively, under a temporary name) before the run, so an
 * unwritable place fails at once, and renamed into place only when complete. */
struct out_file {
    char *tmp;
    FILE *f;
};

static int out_open(const cli_command *cmd, const char *path, struct out_file *of)
{
    size_t n = strlen(path) + 32;
    of->tmp = malloc(n);
    if (!of->tmp) {
        cli_error(cmd, "out of memory");
        return CLI_EXIT_FAIL;
    }
    snprintf(of->tmp, n, "%s.tmp.%ld", path, (long)getpid());
    of->f = fopen(of->tmp, "wx");
    if (!of->f) {
        cli_error(cmd, "%s: cannot create: %s", of->tmp, strerror(errno));
        return CLI_EXIT_FAIL;
    }
    return 0;
}

static int out_commit(const cli_command *cmd, const char *path, struct out_file *of, json_t *j)
{
    int bad = json_dumpf(j, of->f, JSON_INDENT(2) | JSON_REAL_PRECISION(10)) != 0 ||
              fputc('\n', of->f) == EOF || fflush(of->f) != 0 || ferror(of->f);
    int e = errno;
    if (fclose(of->f) != 0 && !bad) {
        bad = 1;
        e = errno;
    }
    of->f = NULL;
    if (!bad && rename(of->tmp, path) != 0) {
        bad = 1;
        e = errno;
    }
    if (bad) {
        unlink(of->tmp);
        cli_error(cmd, "%s: write failed: %s", path, strerror(e));
        return CLI_EXIT_FAIL;
    }
    return 0;
}

static void out_discard(struct out_file *of)
{
    if (of->f) {
        fclose(of->f);
        unlink(of->tmp);
    }
    free(of->tmp);
}

/* ---- the command ---- */

/* Loads the target's model (the reference's own when the precision is fp32) and makes
 * both contexts. A refusal names the target: the library says why. */
static int open_target(const cli_command *cmd, const struct opts *o, const char *model_arg,
                       vitc_model *ref_model, vitc_model **tgt_model, size_t max_batch,
                       vitc_ctx **ref, vitc_ctx **tgt)
{
    char dev[16];
    const char *prec = cli_precision_name(o->target.precision);
    cli_device_name(&o->target, dev, sizeof dev);
    vitc_ctx_params cp = vitc_ctx_default_params();
    cp.n_threads = (int)o->threads;
    cp.max_batch = (int)max_batch;
    cp.backend = VITC_BACKEND_CPU;
    if (vitc_ctx_new(ref_model, &cp, ref) != VITC_OK) {
        return cli_fail(cmd);
    }
    if (o->target.precision != VITC_PRECISION_FP32) {
        vitc_model_params mp = vitc_model_default_params();
        mp.precision = o->target.precision;
        mp.image_height = o->image_h;
        mp.image_width = o->image_w;
        if (cli_model_load(model_arg, &mp, tgt_model) != VITC_OK) {
            cli_error(cmd, "target %s %s: %s", dev, prec, vitc_last_error());
            return CLI_EXIT_FAIL;
        }
    }
    cp.backend = o->target.backend;
    cp.device = o->target.device;
    if (vitc_ctx_new(*tgt_model ? *tgt_model : ref_model, &cp, tgt) != VITC_OK) {
        cli_error(cmd, "target %s %s: %s", dev, prec, vitc_last_error());
        return CLI_EXIT_FAIL;
    }
    return 0;
}

/* The report's rows: every output the model has among those wanted. */
static int choose_rows(const cli_command *cmd, const vitc_model *model, struct report *r)
{
    const struct opts *o = r->o;
    r->logits_row = -1;
    for (size_t k = 0; k < N_KINDS; k++) {
        size_t n = vitc_output_size(model, kinds[k].which);
        if (!o->want[k]) {
            continue;
        }
        if (n == 0) {
            /* By default the outputs the checkpoint lacks are left out; --only asked. */
            if (!o->only) {
                continue;
            }
            cli_error(cmd, "%s: the checkpoint has no %s (%s)", r->model_arg,
                      kinds[k].which == VITC_OUTPUT_LOGITS         ? "classifier head"
                      : kinds[k].which == VITC_OUTPUT_IMAGE_EMBEDS ? "visual projection"
                                                                   : "pooler",
                      kinds[k].name);
            return CLI_EXIT_FAIL;
        }
        if (kinds[k].which == VITC_OUTPUT_LOGITS) {
            r->logits_row = r->n_rows;
        }
        r->rows[r->n_rows].kind = (int)k;
        r->rows[r->n_rows].per_image = n;
        cmp_acc_init(&r->rows[r->n_rows].acc);
        r->n_rows++;
    }
    for (int c = 0; c < o->n_checks; c++) {
        if (o->checks[c].opt == OPT_MIN_TOP1 && r->logits_row < 0) {
            cli_error(cmd, "--min-top1: no logits compared (%s)",
                      r->info->num_labels ? "not in --only" : "the checkpoint has no classifier");
            return CLI_EXIT_FAIL;
        }
    }
    return 0;
}

static int run(const cli_command *cmd, int argc, char **argv)
{
    cli_args a;
    int rc = cli_args_parse(cmd, argc, argv, &a);
    if (rc >= 0) {
        return rc;
    }
    struct opts o;
    struct report r = {.o = &o};
    vitc_model *ref_model = NULL, *tgt_model = NULL;
    vitc_ctx *ref = NULL, *tgt = NULL;
    cli_inputs in = {0};
    struct out_file of = {0};
    json_t *json = NULL;
    r.in = &in;

    if (a.n_pos < 1) {
        rc = cli_usage_error(cmd, "missing MODEL");
        goto done;
    }
    if ((rc = parse_opts(cmd, &a, &o)) != 0) {
        goto done;
    }
    if (o.out && (rc = out_open(cmd, o.out, &of)) != 0) {
        goto done;
    }
    r.model_arg = a.pos[0];
    vitc_model_params ref_params = vitc_model_default_params();
    ref_params.image_height = o.image_h;
    ref_params.image_width = o.image_w;
    if (cli_model_load(r.model_arg, &ref_params, &ref_model) != VITC_OK) {
        rc = cli_fail(cmd);
        goto done;
    }
    r.info = vitc_model_get_info(ref_model);
    if ((rc = choose_rows(cmd, ref_model, &r)) != 0) {
        goto done;
    }
    if (a.n_pos > 1 && (rc = cli_inputs_expand(cmd, a.pos + 1, a.n_pos - 1, ref_model, &in))) {
        goto done;
    }
    r.n_images = (size_t)o.samples + in.n;
    size_t max_batch = (size_t)o.batch < r.n_images ? (size_t)o.batch : r.n_images;
    r.cosine = calloc(r.n_images * (size_t)r.n_rows, sizeof *r.cosine);
    r.top1 = calloc(2 * r.n_images, sizeof *r.top1);
    if (!r.cosine || !r.top1) {
        cli_error(cmd, "out of memory for %zu images", r.n_images);
        rc = CLI_EXIT_FAIL;
        goto done;
    }
    if ((rc = open_target(cmd, &o, r.model_arg, ref_model, &tgt_model, max_batch, &ref, &tgt)) ||
        (rc = compare_all(cmd, ref_model, ref, tgt, max_batch, &r))) {
        goto done;
    }
    for (int k = 0; k < r.n_rows; k++) {
        r.rows[k].m = cmp_acc_result(&r.rows[k].acc);
    }
    int nonfinite = report_nonfinite(cmd, &r);
    evaluate_checks(cmd, &r, &o);
    r.passed = !nonfinite;
    for (int c = 0; c < o.n_checks; c++) {
        r.passed &= o.checks[c].passed;
    }
    if (o.json || o.out) {
        json = to_json(&r);
        if (!json) {
            cli_error(cmd, "cannot encode the report as JSON (a name not UTF-8?)");
            rc = CLI_EXIT_FAIL;
            goto done;
        }
    }
    if (o.out && (rc = out_commit(cmd, o.out, &of, json)) != 0) {
        goto done;
    }
    rc = r.passed ? CLI_EXIT_OK : CLI_EXIT_FAIL;
    if (!o.json) {
        print_text(&r);
    } else if (json_dumpf(json, stdout, JSON_INDENT(2) | JSON_REAL_PRECISION(10)) != 0) {
        cli_error(cmd, "cannot write the JSON report");
        rc = CLI_EXIT_FAIL;
    } else {
        putchar('\n');
    }

done:
    json_decref(json);
    out_discard(&of);
    free(r.top1);
    free(r.cosine);
    vitc_ctx_free(tgt);
    vitc_ctx_free(ref);
    vitc_model_free(tgt_model);
    vitc_model_free(ref_model);
    cli_inputs_free(&in);
    cli_args_free(&a);
    return rc;
}
