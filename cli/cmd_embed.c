/* SPDX-License-Identifier: MIT
 *
 * cmd_embed.c — `vitc embed`: runs the model on images, directories, file
 * lists or pixel_values .npy files and streams one float32 array of the chosen
 * output (.npy or .safetensors), rows in input order, with a sidecar listing
 * the inputs of the rows. Decoding runs on worker threads (pipeline.c) while
 * the model computes; memory stays bounded whatever the number of inputs.
 * CLI layer: only <vitc.h>.
 */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <vitc.h>

#include "args.h"
#include "model_arg.h"
#include "inputs.h"
#include "pipeline.h"
#include "progress.h"
#include "target.h"

enum {
    OPT_OUT,
    OPT_OUTPUT,
    OPT_BATCH,
    OPT_THREADS,
    OPT_WORKERS,
    OPT_RECURSIVE,
    OPT_LIST,
    OPT_SKIP_ERRORS,
    OPT_QUIET,
    OPT_FORMAT,
    OPT_DEVICE,
    OPT_PRECISION,
    OPT_SHARD,
    OPT_VERBOSE,
    OPT_IMAGE_SIZE
};

static const cli_option options[] = {
    [OPT_OUT] = {NULL, 'o', "OUT", "Write the result here (required). Replaced atomically."},
    [OPT_OUTPUT] = {"output", 0, "KIND",
                    "pixel_values, last_hidden_state, pooler_output, cls, logits or "
                    "image_embeds. Default: image_embeds for CLIP, else pooler_output if the "
                    "model has a pooler, else cls."},
    [OPT_BATCH] = {"batch", 0, "N", "Images per forward pass, 1 to 4096 (default 8)."},
    [OPT_THREADS] = {"threads", 0, "N", "Compute threads, 0 = all cores (default 0)."},
    [OPT_WORKERS] = {"workers", 0, "N",
                     "Image decoding threads, 0 = one per available core (default 0)."},
    [OPT_RECURSIVE] = {"recursive", 0, NULL, "Take directories' subdirectories too."},
    [OPT_LIST] = {"list", 0, "FILE",
                  "Also take the inputs named in FILE, one per line ('-' reads stdin)."},
    [OPT_SKIP_ERRORS] = {"skip-errors", 0, NULL,
                         "Skip unreadable inputs, listing them in OUT.errors.txt, instead of "
                         "failing."},
    [OPT_QUIET] = {"quiet", 0, NULL, "No progress bar and no summary line."},
    [OPT_FORMAT] = {"format", 0, "FMT",
                    "npy or safetensors. Default: safetensors if OUT ends in .safetensors, "
                    "else npy."},
    [OPT_DEVICE] = {"device", 0, "D", CLI_DEVICE_HELP},
    [OPT_PRECISION] = {"precision", 0, "P", CLI_PRECISION_HELP},
    [OPT_SHARD] = {"shard", 0, "K/N",
                   "Embed only the K-th (1..N) of N contiguous slices of the inputs."},
    [OPT_VERBOSE] = {"verbose", 0, NULL,
                     "Name each file a directory holds that is not an image vitc reads."},
    [OPT_IMAGE_SIZE] = {"image-size", 0, "H[xW]", CLI_IMAGE_SIZE_HELP},
};

static int run(const cli_command *cmd, int argc, char **argv);

const cli_command cli_cmd_embed = {
    .name = "embed",
    .summary = "Write a model output for images or pixel_values to a .npy or .safetensors file.",
    .synopsis = "MODEL INPUT... -o OUT [--list FILE] [--recursive] [--skip-errors] [options]",
    .description =
        "INPUT is an image (JPEG, PNG, WebP, GIF, BMP or TIFF), a directory (its files named\n"
        ".jpg, .jpeg, .jpe, .jfif, .png, .webp, .gif, .bmp, .dib, .tif or .tiff, hidden files\n"
        "skipped;\n"
        "with --recursive also those of its subdirectories, symbolic links to directories\n"
        "not followed; sorted by path in byte order; its other files are counted in a\n"
        "warning, named with --verbose or --skip-errors) or a .npy of float32 pixel_values\n"
        "[C,S,S] or [N,C,S,S] for the model. --list FILE adds the inputs named in FILE after\n"
        "the INPUT arguments (one per line, blank lines ignored); INPUT may then be omitted.\n"
        "Images are preprocessed with the model's preprocessor_config.json, as transformers'\n"
        "ViTImageProcessor does, on worker threads while the model runs.\n"
        "OUT is float32 (.npy, or .safetensors with one tensor named after KIND and\n"
        "__metadata__ giving the model and the output); its first axis follows the inputs:\n"
        "  pooler_output, cls  [N, hidden_size]\n"
        "  last_hidden_state   [N, tokens, hidden_size]\n"
        "  logits              [N, num_labels]  (classifier checkpoints)\n"
        "  image_embeds        [N, projection_dim] (CLIP)\n"
        "  pixel_values        [N, C, S, S]     (preprocessing only, no forward pass)\n"
        "OUT.paths.txt lists the input of each row, one per line (PATH[i] for row i of a\n"
        "batched .npy). Rows are streamed to disk: memory does not grow with N.\n"
        "On any failure or interruption (SIGINT, SIGTERM) OUT is not written and an\n"
        "existing file is left untouched.\n"
        "--skip-errors: unreadable inputs are reported on stderr and listed in\n"
        "OUT.errors.txt (PATH<TAB>reason) and get no row; the exit status is 0 if any\n"
        "input was embedded, else 1. After a run without skipped inputs no OUT.errors.txt\n"
        "is left. A progress bar shows on stderr when it is a terminal; a one-line summary\n"
        "goes to stderr; stdout stays empty.\n"
        "--shard K/N: of the M inputs, listed and ordered as above, only the K-th of N\n"
        "contiguous slices runs: inputs floor(M*(K-1)/N)+1 to floor(M*K/N), counted from 1.\n"
        "N processes with K = 1..N cover every input exactly once, and their OUT files\n"
        "concatenated in K order equal a run without --shard. A shard may be empty (N > M):\n"
        "it writes an OUT with no rows.",
    .options = options,
    .n_options = (int)(sizeof options / sizeof options[0]),
    .run = run,
};

/* The K-th of N slices, as parsed from --shard K/N (n == 0: no sharding). */
struct shard {
    long k, n;
};

/* What one run needs besides the inputs. */
struct job {
    const cli_command *cmd;
    const char *model_arg;
    const vitc_model *model;
    const char *out;
    vitc_array_format format;
    int kind;
    long batch, threads, workers;
    bool skip_errors, quiet;
    cli_target target;
    struct shard shard; /* --shard K/N, or n == 0                          */
    size_t shard_first; /* the index of the shard's first input among all  */
    size_t n_all;       /* the inputs before sharding                      */
};

/* The signal that interrupted the run (SIGINT, SIGTERM), or 0. The loop stops at the next
 * batch, the temporary files are removed, then the signal is raised again. */
static volatile sig_atomic_t interrupted;

static void on_signal(int sig)
{
    interrupted = sig;
}

/* Catches sig unless it is ignored (as for a background job), keeping the old action. */
static void catch_signal(int sig, struct sigaction *old)
{
    struct sigaction sa = {.sa_handler = on_signal, .sa_flags = SA_RESETHAND};
    sigemptyset(&sa.sa_mask);
    *old = (struct sigaction){.sa_handler = SIG_DFL};
    if (sigaction(sig, NULL, old) == 0 && old->sa_handler != SIG_IGN) {
        sigaction(sig, &sa, NULL);
    }
}

/* ---- sharding ---- */

/* Parses "K/N" with 1 <= K <= N <= 1000000 (more than any job array runs). Returns 0 or
 * CLI_EXIT_USAGE. */
static int parse_shard(const cli_command *cmd, const char *text, struct shard *out)
{
    const long max = 1000000;
    char *end = NULL;
    long k = 0, n = 0;
    errno = 0;
    if (text[0] >= '0' && text[0] <= '9') {
        k = strtol(text, &end, 10);
    }
    if (end && *end == '/' && end[1] >= '0' && end[1] <= '9') {
        n = strtol(end + 1, &end, 10);
    }
    if (errno != 0 || !end || *end != '\0' || n < 1 || n > max || k < 1 || k > n) {
        return cli_usage_error(cmd,
                               "option '--shard': '%s' is not K/N with 1 <= K <= N <= %ld "
                               "(K counts from 1)",
                               text, max);
    }
    out->k = k;
    out->n = n;
    return 0;
}

/* floor(m * k / n) without overflow: m = q*n + r gives q*k + floor(r*k / n), r*k < 10^12. */
static size_t shard_bound(size_t m, long k, long n)
{
    return m / (size_t)n * (size_t)k + m % (size_t)n * (size_t)k / (size_t)n;
}

/* Narrows all to the inputs of shard sh (all of them when sh.n is 0): a view into all's
 * items that owns nothing (all keeps the items and the loaded .npy files and is what gets
 * freed). *first is the index of the view's first input in all. */
static cli_inputs shard_view(const cli_inputs *all, struct shard sh, size_t *first)
{
    cli_inputs view = *all;
    *first = 0;
    if (sh.n > 0) {
        *first = shard_bound(all->n, sh.k - 1, sh.n);
        view.items = all->items + *first;
        view.n = shard_bound(all->n, sh.k, sh.n) - *first;
    }
    return view;
}

/* ---- output checks and sidecar files ---- */

/* Fails before any work when OUT cannot be written: a directory, or a directory part that
 * is missing or not writable. The temporary files are made there. */
static int check_output_path(const cli_command *cmd, const char *out)
{
    struct stat sb;
    const char *slash = strrchr(out, '/');
    if (slash && slash[1] == '\0') {
        cli_error(cmd, "%s: output names a directory, not a file", out);
        return CLI_EXIT_FAIL;
    }
    if (stat(out, &sb) == 0 && S_ISDIR(sb.st_mode)) {
        cli_error(cmd, "%s: output is a directory", out);
        return CLI_EXIT_FAIL;
    }
    char *dir = slash ? strndup(out, slash == out ? 1 : (size_t)(slash - out)) : strdup(".");
    if (!dir) {
        cli_error(cmd, "out of memory");
        return CLI_EXIT_FAIL;
    }
    int e = 0;
    if (stat(dir, &sb) != 0) {
        e = errno;
    } else if (!S_ISDIR(sb.st_mode)) {
        e = ENOTDIR;
    } else if (access(dir, W_OK | X_OK) != 0) {
        e = errno;
    }
    if (e) {
        cli_error(cmd, "%s: cannot write to directory '%s': %s", out, dir, strerror(e));
    }
    free(dir);
    return e ? CLI_EXIT_FAIL : 0;
}

/* A text file beside OUT ("OUT.paths.txt"): written under a temporary name and renamed
 * into place only by sidecar_commit, so a failed run leaves no partial list. */
struct sidecar {
    char *path;
    char *tmp;
    FILE *f;
};

static int sidecar_open(const cli_command *cmd, struct sidecar *s, const char *out,
                        const char *suffix)
{
    size_t n = strlen(out) + strlen(suffix) + 1;
    s->path = malloc(n);
    s->tmp = malloc(n + 32);
    if (!s->path || !s->tmp) {
        cli_error(cmd, "out of memory");
        return CLI_EXIT_FAIL;
    }
    snprintf(s->path, n, "%s%s", out, suffix);
    snprintf(s->tmp, n + 32, "%s.tmp.%ld", s->path, (long)getpid());
    s->f = fopen(s->tmp, "wx");
    if (!s->f) {
        cli_error(cmd, "%s: cannot create: %s", s->tmp, strerror(errno));
        return CLI_EXIT_FAIL;
    }
    return 0;
}

static int sidecar_commit(const cli_command *cmd, struct sidecar *s)
{
    int bad = fflush(s->f) != 0 || ferror(s->f) || fsync(fileno(s->f)) != 0;
    int e = errno;
    if (fclose(s->f) != 0 && !bad) {
        bad = 1;
        e = errno;
    }
    s->f = NULL;
    if (!bad && rename(s->tmp, s->path) != 0) {
        bad = 1;
        e = errno;
    }
    if (bad) {
        unlink(s->tmp);
        cli_error(cmd, "%s: write failed: %s", s->path, strerror(e));
        return CLI_EXIT_FAIL;
    }
    return 0;
}

/* Removes an unfinished sidecar and frees it; safe on one never opened. */
static void sidecar_discard(struct sidecar *s)
{
    if (s->f) {
        fclose(s->f);
        unlink(s->tmp);
    }
    free(s->path);
    free(s->tmp);
    memset(s, 0, sizeof *s);
}

/* ---- the run ---- */

/* The array shape of one row of `which`; returns the number of axes. */
static size_t row_shape(const vitc_model_info *info, vitc_output which, size_t shape[3])
{
    switch (which) {
    case VITC_OUTPUT_PIXEL_VALUES:
        shape[0] = (size_t)info->num_channels;
        shape[1] = (size_t)info->image_height;
        shape[2] = (size_t)info->image_width;
        return 3;
    case VITC_OUTPUT_LAST_HIDDEN_STATE:
        shape[0] = (size_t)info->n_tokens;
        shape[1] = (size_t)info->hidden_size;
        return 2;
    case VITC_OUTPUT_LOGITS:
        shape[0] = (size_t)info->num_labels;
        return 1;
    case VITC_OUTPUT_IMAGE_EMBEDS:
        shape[0] = (size_t)info->projection_dim;
        return 1;
    case VITC_OUTPUT_POOLER:
    case VITC_OUTPUT_CLS:
        break;
    }
    shape[0] = (size_t)info->hidden_size;
    return 1;
}

/* Records a skipped input: a line on stderr and "NAME<TAB>reason" in the errors file. */
static void record_skip(const struct job *job, cli_progress *bar, FILE *errors, const char *name,
                        const char *msg)
{
    size_t n = strlen(name);
    const char *reason =
        strncmp(msg, name, n) == 0 && msg[n] == ':' && msg[n + 1] == ' ' ? msg + n + 2 : msg;
    cli_progress_clear(bar);
    cli_error(job->cmd, "skipping %s", msg);
    fprintf(errors, "%s\t%s\n", name, reason);
}

/* Streams every input through the model into w, names into paths (and skips into
 * errors). Returns 0 or an exit status; *n_ok counts the rows written, *n_skipped the
 * inputs skipped. */
static int embed_all(const struct job *job, const cli_inputs *in, vitc_array_writer *w, FILE *paths,
                     FILE *errors, size_t *n_ok, size_t *n_skipped)
{
    const cli_command *cmd = job->cmd;
    vitc_output which = (vitc_output)job->kind;
    size_t n_pv = vitc_output_size(job->model, VITC_OUTPUT_PIXEL_VALUES);
    size_t per_image = vitc_output_size(job->model, which);
    size_t max_batch = (size_t)job->batch < in->n ? (size_t)job->batch : in->n;
    if (in->n == 0) {
        return 0; /* an empty shard: OUT gets no rows */
    }
    vitc_ctx *ctx = NULL;
    cli_pipeline *pipe = NULL;
    float *result = NULL;
    size_t *rows = calloc(max_batch, sizeof *rows);
    cli_progress bar;
    cli_batch b;
    int rc = 0;

    if (!rows) {
        cli_error(cmd, "out of memory");
        return CLI_EXIT_FAIL;
    }
    if (which != VITC_OUTPUT_PIXEL_VALUES) {
        vitc_ctx_params cp = vitc_ctx_default_params();
        cp.backend = job->target.backend;
        cp.device = job->target.device;
        cp.n_threads = (int)job->threads;
        cp.max_batch = (int)max_batch;
        result = malloc(max_batch * per_image * sizeof *result);
        if (!result) {
            cli_error(cmd, "out of memory for %zu results of %zu floats", max_batch, per_image);
            rc = CLI_EXIT_FAIL;
        } else if (vitc_ctx_new(job->model, &cp, &ctx) != VITC_OK) {
            rc = cli_fail(cmd);
        }
    }
    if (rc == 0 && cli_pipeline_start(in, job->model, max_batch, (int)job->workers, &pipe) != 0) {
        cli_error(cmd, "cannot start the decoding threads: %s", strerror(errno));
        rc = CLI_EXIT_FAIL;
    }
    cli_progress_start(&bar, in->n, job->quiet);
    while (rc == 0 && !interrupted && cli_pipeline_next(pipe, &b)) {
        /* Failed inputs leave the batch; the rest close ranks in order. */
        size_t k = 0;
        for (size_t j = 0; j < b.n && rc == 0; j++) {
            const cli_input *it = &in->items[b.first + j];
            if (b.errors[j] && !job->skip_errors) {
                cli_progress_clear(&bar);
                cli_error(cmd, "%s", b.errors[j]);
                rc = CLI_EXIT_FAIL;
            } else if (b.errors[j]) {
                record_skip(job, &bar, errors, it->name, b.errors[j]);
                ++*n_skipped;
            } else {
                if (k != j) {
                    memmove(b.pixels + k * n_pv, b.pixels + j * n_pv, n_pv * sizeof *b.pixels);
                }
                rows[k++] = b.first + j;
            }
        }
        if (rc == 0 && k > 0) {
            const float *data = b.pixels;
            if (ctx) {
                if (vitc_forward(ctx, b.pixels, k) != VITC_OK ||
                    vitc_get_output(ctx, which, result, k * per_image) != VITC_OK) {
                    rc = cli_fail(cmd);
                }
                data = result;
            }
            if (rc == 0 && vitc_array_writer_append(w, data, k) != VITC_OK) {
                rc = cli_fail(cmd);
            }
            for (size_t j = 0; j < k && rc == 0; j++) {
                fprintf(paths, "%s\n", in->items[rows[j]].name);
            }
            *n_ok += k;
        }
        cli_pipeline_release(pipe);
        if (rc == 0) {
            cli_progress_update(&bar, b.first + b.n);
        }
    }
    if (rc == 0 && interrupted) {
        cli_progress_clear(&bar);
        cli_error(cmd, "interrupted; %s not written", job->out);
        rc = CLI_EXIT_FAIL;
    }
    cli_progress_finish(&bar);
    cli_pipeline_free(pipe);
    vitc_ctx_free(ctx);
    free(result);
    free(rows);
    return rc;
}

/* Opens the MODEL argument (a model directory) in the chosen precision, at an input
 * size of height x width (0 x 0: the model's own). The one place MODEL becomes a model. */
static int open_model(const cli_command *cmd, const char *arg, vitc_precision precision, int height,
                      int width, vitc_model **out)
{
    vitc_model_params mp = vitc_model_default_params();
    mp.precision = precision;
    mp.image_height = height;
    mp.image_width = width;
    return cli_model_load(arg, &mp, out) == VITC_OK ? 0 : cli_fail(cmd);
}

/* Writes OUT and its sidecars for the collected inputs. */
static int write_outputs(const struct job *job, const cli_inputs *in)
{
    const cli_command *cmd = job->cmd;
    const vitc_model_info *info = vitc_model_get_info(job->model);
    const char *kind = vitc_output_name((vitc_output)job->kind);
    struct sidecar paths = {0}, errors = {0};
    vitc_array_writer *w = NULL;
    size_t tail[3], n_ok = 0, n_skipped = 0;
    size_t ndim_tail = row_shape(info, (vitc_output)job->kind, tail);
    int rc = 0;

    /* From here on temporary files exist: catch the signals that would strand them.
     * SA_RESETHAND: a second Ctrl-C kills at once, should cleaning up hang. */
    struct sigaction old_int, old_term;
    catch_signal(SIGINT, &old_int);
    catch_signal(SIGTERM, &old_term);
    if (vitc_array_writer_open(job->out, job->format, kind, ndim_tail, tail, &w) != VITC_OK ||
        vitc_array_writer_set_metadata(w, "format", "pt") != VITC_OK ||
        vitc_array_writer_set_metadata(w, "model", job->model_arg) != VITC_OK ||
        vitc_array_writer_set_metadata(w, "output", kind) != VITC_OK) {
        rc = cli_fail(cmd);
    }
    if (rc == 0) {
        rc = sidecar_open(cmd, &paths, job->out, ".paths.txt");
    }
    if (rc == 0 && job->skip_errors) {
        rc = sidecar_open(cmd, &errors, job->out, ".errors.txt");
    }
    if (rc == 0) {
        rc = embed_all(job, in, w, paths.f, errors.f, &n_ok, &n_skipped);
    }
    int none_read = rc == 0 && n_ok == 0 && in->n > 0;
    if (none_read) {
        cli_error(cmd, "none of the %zu inputs could be read (see %s)", in->n, errors.path);
        rc = CLI_EXIT_FAIL;
    }
    /* The list of skips is worth keeping even when it is all the run produced. */
    if (errors.f && n_skipped > 0 && (rc == 0 || none_read) && sidecar_commit(cmd, &errors) != 0) {
        rc = CLI_EXIT_FAIL;
    }
    if (rc == 0 && (vitc_array_writer_commit(w) != VITC_OK)) {
        rc = cli_fail(cmd);
    }
    if (rc == 0) {
        rc = sidecar_commit(cmd, &paths);
    }
    if (rc == 0 && n_skipped == 0) {
        /* A list from an earlier run would describe a file that is gone. */
        char *stale = malloc(strlen(job->out) + sizeof ".errors.txt");
        if (stale) {
            sprintf(stale, "%s.errors.txt", job->out);
            unlink(stale);
            free(stale);
        }
    }
    if (rc == 0 && !job->quiet) {
        fprintf(stderr, "vitc embed: wrote %s: %s [%zu", job->out, kind, n_ok);
        for (size_t i = 0; i < ndim_tail; i++) {
            fprintf(stderr, ", %zu", tail[i]);
        }
        fprintf(stderr, "] float32 from %zu input%s", n_ok, n_ok == 1 ? "" : "s");
        if (job->shard.n > 0 && in->n > 0) {
            fprintf(stderr, " (shard %ld/%ld: inputs %zu to %zu of %zu)", job->shard.k,
                    job->shard.n, job->shard_first + 1, job->shard_first + in->n, job->n_all);
        } else if (job->shard.n > 0) {
            fprintf(stderr, " (shard %ld/%ld: none of the %zu inputs)", job->shard.k, job->shard.n,
                    job->n_all);
        }
        fputc('\n', stderr);
    }
    if (rc == 0 && n_skipped > 0) {
        cli_error(cmd, "warning: skipped %zu of %zu inputs (listed in %s)", n_skipped, in->n,
                  errors.path);
    }
    sidecar_discard(&paths);
    sidecar_discard(&errors);
    vitc_array_writer_free(w);
    sigaction(SIGINT, &old_int, NULL);
    sigaction(SIGTERM, &old_term, NULL);
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
    struct job job = {.cmd = cmd, .kind = -1, .batch = 8, .out = a.value[OPT_OUT]};
    cli_inputs_opts opts = {
        .recursive = a.value[OPT_RECURSIVE] != NULL,
        .list = a.value[OPT_LIST],
        .skip_errors = a.value[OPT_SKIP_ERRORS] != NULL,
        .verbose = a.value[OPT_VERBOSE] != NULL,
    };
    job.skip_errors = opts.skip_errors;
    job.quiet = a.value[OPT_QUIET] != NULL;
    int image_h = 0, image_w = 0;

    if (a.n_pos < 1) {
        rc = cli_usage_error(cmd, "missing MODEL");
        goto done;
    }
    if (a.n_pos < 2 && !opts.list) {
        rc = cli_usage_error(cmd, "missing INPUT (an image, a directory, a .npy or --list FILE)");
        goto done;
    }
    if (!job.out || !*job.out) {
        rc = cli_usage_error(cmd, "missing -o OUT");
        goto done;
    }
    if (opts.list && !*opts.list) {
        rc = cli_usage_error(cmd, "option '--list': empty file name");
        goto done;
    }
    if (a.value[OPT_OUTPUT]) {
        job.kind = vitc_output_by_name(a.value[OPT_OUTPUT]);
        if (job.kind < 0) {
            rc = cli_usage_error(cmd,
                                 "option '--output': unknown output '%s' (pixel_values, "
                                 "last_hidden_state, pooler_output, cls, logits, image_embeds)",
                                 a.value[OPT_OUTPUT]);
            goto done;
        }
    }
    const char *fmt = a.value[OPT_FORMAT];
    if (fmt && strcmp(fmt, "npy") != 0 && strcmp(fmt, "safetensors") != 0) {
        rc = cli_usage_error(cmd, "option '--format': unknown format '%s' (npy, safetensors)", fmt);
        goto done;
    }
    job.format = !fmt                              ? VITC_ARRAY_AUTO
                 : strcmp(fmt, "safetensors") == 0 ? VITC_ARRAY_SAFETENSORS
                                                   : VITC_ARRAY_NPY;
    if ((a.value[OPT_BATCH] &&
         (rc = cli_parse_long(cmd, "batch", a.value[OPT_BATCH], 1, 4096, &job.batch)) != 0) ||
        (a.value[OPT_THREADS] &&
         (rc = cli_parse_long(cmd, "threads", a.value[OPT_THREADS], 0, 4096, &job.threads)) != 0) ||
        (a.value[OPT_WORKERS] &&
         (rc = cli_parse_long(cmd, "workers", a.value[OPT_WORKERS], 0, 4096, &job.workers)) != 0) ||
        (rc = cli_target_parse(cmd, a.value[OPT_DEVICE], a.value[OPT_PRECISION], &job.target)) !=
            0 ||
        (a.value[OPT_SHARD] && (rc = parse_shard(cmd, a.value[OPT_SHARD], &job.shard)) != 0) ||
        (a.value[OPT_IMAGE_SIZE] &&
         (rc = cli_parse_image_size(cmd, a.value[OPT_IMAGE_SIZE], &image_h, &image_w)) != 0) ||
        (rc = check_output_path(cmd, job.out)) != 0) {
        goto done;
    }
    job.model_arg = a.pos[0];
    if ((rc = open_model(cmd, a.pos[0], job.target.precision, image_h, image_w, &model)) != 0) {
        goto done;
    }
    job.model = model;
    const vitc_model_info *info = vitc_model_get_info(model);
    if (job.kind < 0) {
        job.kind = info->default_output;
    }
    if (vitc_output_size(model, (vitc_output)job.kind) == 0) {
        cli_error(cmd, "%s: the checkpoint has no %s (%s); choose another --output", a.pos[0],
                  job.kind == VITC_OUTPUT_LOGITS         ? "classifier head"
                  : job.kind == VITC_OUTPUT_IMAGE_EMBEDS ? "visual projection"
                                                         : "pooler",
                  vitc_output_name((vitc_output)job.kind));
        rc = CLI_EXIT_FAIL;
        goto done;
    }
    if ((rc = cli_inputs_collect(cmd, a.pos + 1, a.n_pos - 1, &opts, model, &in)) != 0) {
        goto done;
    }
    /* Sharding slices the final, ordered list, so every K sees the same list and order. */
    job.n_all = in.n;
    cli_inputs shard = shard_view(&in, job.shard, &job.shard_first);
    rc = write_outputs(&job, &shard);
    /* A signal that came after OUT was committed stopped nothing: the run succeeded, and dying
     * of it would report an interruption while OUT is written. */
    if (interrupted && rc != 0) {
        /* Everything is cleaned up: die of the signal, as the caller expects. */
        signal(interrupted, SIG_DFL);
        raise(interrupted);
    }

done:
    cli_inputs_free(&in);
    vitc_model_free(model);
    cli_args_free(&a);
    return rc;
}
