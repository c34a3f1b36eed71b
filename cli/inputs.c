/* SPDX-License-Identifier: MIT
 *
 * inputs.c — expands IMAGE|DIR|.npy arguments (and --list lines, --recursive
 * walks) into an ordered input list and makes each input's pixel_values (image
 * decode + preprocess through the public API, or a copy of a .npy row). CLI
 * layer: only <vitc.h> and libc; prints its own errors as "vitc CMD: PATH:
 * reason", or with skip_errors keeps them on the list as unusable items.
 */
#include "inputs.h"

#include <dirent.h>
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>

/* Longest reason kept for an unusable input (library messages are shorter). */
#define MSG_SIZE 1024

/* Everything the list building shares. */
struct builder {
    const cli_command *cmd;
    const vitc_model_info *info;
    const cli_inputs_opts *opts;
    cli_inputs in;
    size_t cap;
    int images_checked;
};

/* ---- list building ---- */

static int push(struct builder *b, const char *path, const char *name, const vitc_tensor *npy,
                size_t row, const char *error)
{
    cli_inputs *in = &b->in;
    if (in->n == b->cap) {
        size_t new_cap = b->cap ? b->cap * 2 : 16;
        cli_input *items = realloc(in->items, new_cap * sizeof *items);
        if (!items) {
            return -1;
        }
        in->items = items;
        b->cap = new_cap;
    }
    cli_input *it = &in->items[in->n];
    it->path = strdup(path);
    it->name = strdup(name);
    it->npy = npy;
    it->row = row;
    it->error = error ? strdup(error) : NULL;
    if (!it->path || !it->name || (error && !it->error)) {
        free(it->path);
        free(it->name);
        free(it->error);
        return -1;
    }
    in->n++;
    return 0;
}

/* An input that cannot be used: with skip_errors it stays on the list carrying msg, so it
 * is reported in input order; otherwise msg is printed and the run fails. */
static int unusable(struct builder *b, const char *path, const char *msg)
{
    if (!b->opts->skip_errors) {
        cli_error(b->cmd, "%s", msg);
        return CLI_EXIT_FAIL;
    }
    if (push(b, path, path, NULL, 0, msg) != 0) {
        cli_error(b->cmd, "out of memory");
        return CLI_EXIT_FAIL;
    }
    return 0;
}

static int unusable_errno(struct builder *b, const char *path, int e)
{
    char msg[MSG_SIZE];
    snprintf(msg, sizeof msg, "%s: %s", path, strerror(e));
    return unusable(b, path, msg);
}

static int ends_with_ci(const char *s, const char *suffix)
{
    size_t n = strlen(s), m = strlen(suffix);
    return n >= m && strcasecmp(s + n - m, suffix) == 0;
}

/* The file names a directory gives as images, by the formats the library reads (which
 * go by a file's bytes, not its name: a misnamed file listed by hand still decodes). */
static const char *const image_suffixes[] = {".jpg", ".jpeg", ".jpe", ".jfif", ".png", ".webp",
                                             ".gif", ".bmp",  ".dib", ".tif",  ".tiff"};
#define IMAGE_FORMATS "JPEG, PNG, WebP, GIF, BMP, TIFF"

static int is_image_name(const char *name)
{
    for (size_t i = 0; i < sizeof image_suffixes / sizeof image_suffixes[0]; i++) {
        if (ends_with_ci(name, image_suffixes[i])) {
            return 1;
        }
    }
    return 0;
}

static int cmp_str(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

static char *join(const char *dir, const char *name)
{
    size_t n = strlen(dir);
    int slash = n > 0 && dir[n - 1] != '/';
    char *p = malloc(n + (size_t)slash + strlen(name) + 1);
    if (p) {
        sprintf(p, "%s%s%s", dir, slash ? "/" : "", name);
    }
    return p;
}

/* ---- directories ---- */

/* A growing array of owned path strings. */
struct paths {
    char **v;
    size_t n, cap;
};

static int paths_add(struct paths *p, char *path)
{
    if (p->n == p->cap) {
        size_t cap = p->cap ? p->cap * 2 : 16;
        char **v = realloc(p->v, cap * sizeof *v);
        if (!v) {
            return -1;
        }
        p->v = v;
        p->cap = cap;
    }
    p->v[p->n++] = path;
    return 0;
}

/* A directory being walked and the one it was entered from: the chain up to the top. */
struct visit {
    dev_t dev;
    ino_t ino;
    const struct visit *up;
};

/* Collects the image files of dir into out, and with recursive those of its
 * subdirectories; every other file that is not hidden goes to skipped. A symbolic link
 * counts as what it points to, except that links to directories are never entered, and a
 * directory met again below itself (a bind mount) is passed over: no walk can loop. Returns
 * 0, -1 when out of memory, or CLI_EXIT_FAIL after reporting an unreadable directory. */
static int walk(struct builder *b, const char *dir, const struct visit *up, struct paths *out,
                struct paths *skipped)
{
    DIR *d = opendir(dir);
    struct dirent *e;
    struct stat sb;
    int rc = 0;
    if (!d) {
        return unusable_errno(b, dir, errno);
    }
    struct visit here = {0, 0, up};
    if (fstat(dirfd(d), &sb) == 0) {
        here.dev = sb.st_dev;
        here.ino = sb.st_ino;
        for (const struct visit *v = up; v; v = v->up) {
            if (v->dev == here.dev && v->ino == here.ino) {
                closedir(d);
                return 0;
            }
        }
    }
    while (rc == 0 && (e = readdir(d))) {
        if (e->d_name[0] == '.') {
            continue;
        }
        char *path = join(dir, e->d_name);
        if (!path) {
            rc = -1;
            break;
        }
        int is_dir = 0, is_file = 0, is_dir_link = 0;
        if (lstat(path, &sb) == 0) {
            is_dir = S_ISDIR(sb.st_mode);
            if (S_ISLNK(sb.st_mode) && stat(path, &sb) == 0) {
                is_file = S_ISREG(sb.st_mode);
                is_dir_link = S_ISDIR(sb.st_mode);
            } else {
                is_file = S_ISREG(sb.st_mode);
            }
        }
        if (is_dir_link) {
            free(path);
            continue; /* never entered, and not a file to report */
        }
        if (!is_dir) {
            if (paths_add(is_file && is_image_name(e->d_name) ? out : skipped, path) != 0) {
                free(path);
                rc = -1;
            }
            continue;
        }
        if (b->opts->recursive) {
            rc = walk(b, path, &here, out, skipped);
        }
        free(path);
    }
    closedir(d);
    return rc;
}

/* Says which files of dir were left out: a warning with their count, then (verbose) each
 * name. With skip_errors they become unusable inputs instead, so that the run names each
 * one on stderr and in OUT.errors.txt. */
static int report_skipped(struct builder *b, const char *dir, struct paths *skipped)
{
    static const char why[] = "not an image file of a format vitc reads (" IMAGE_FORMATS ")";
    int rc = 0;
    if (skipped->n == 0) {
        return 0;
    }
    qsort(skipped->v, skipped->n, sizeof *skipped->v, cmp_str);
    cli_error(b->cmd,
              "warning: %s: skipped %zu file%s that %s not image files of a format vitc "
              "reads (%s)%s",
              dir, skipped->n, skipped->n == 1 ? "" : "s", skipped->n == 1 ? "is" : "are",
              IMAGE_FORMATS,
              b->opts->skip_errors ? ""
              : b->opts->verbose   ? ":"
                                   : "; --verbose names them");
    for (size_t i = 0; i < skipped->n && rc == 0; i++) {
        char msg[MSG_SIZE];
        snprintf(msg, sizeof msg, "%s: %s", skipped->v[i], why);
        if (b->opts->skip_errors) {
            rc = push(b, skipped->v[i], skipped->v[i], NULL, 0, msg);
        } else if (b->opts->verbose) {
            cli_error(b->cmd, "skipped %s", msg);
        }
    }
    return rc;
}

/* Appends a directory's image files (all levels with recursive), sorted by path in byte
 * order, after reporting the other files it holds. */
static int expand_dir(struct builder *b, const char *dir)
{
    struct paths found = {0}, skipped = {0};
    size_t n_before = b->in.n; /* unreadable subdirectories pushed by walk */
    int rc = walk(b, dir, NULL, &found, &skipped);
    if (rc == 0) {
        rc = report_skipped(b, dir, &skipped);
    }
    if (rc == 0 && found.n == 0 && b->in.n == n_before) {
        char msg[MSG_SIZE];
        snprintf(msg, sizeof msg, "%s: no image files (%s) in this directory%s", dir, IMAGE_FORMATS,
                 b->opts->recursive ? " tree" : "");
        rc = unusable(b, dir, msg);
    }
    if (rc == 0 && found.n > 0) {
        qsort(found.v, found.n, sizeof *found.v, cmp_str);
        for (size_t i = 0; i < found.n && rc == 0; i++) {
            rc = push(b, found.v[i], found.v[i], NULL, 0, NULL);
        }
    }
    if (rc == -1) {
        cli_error(b->cmd, "out of memory listing %s", dir);
        rc = CLI_EXIT_FAIL;
    }
    for (size_t i = 0; i < found.n; i++) {
        free(found.v[i]);
    }
    for (size_t i = 0; i < skipped.n; i++) {
        free(skipped.v[i]);
    }
    free(found.v);
    free(skipped.v);
    return rc;
}

/* ---- .npy ---- */

/* Loads a pixel_values .npy and appends one input per [C,H,W] row. */
static int expand_npy(struct builder *b, const char *path)
{
    cli_inputs *in = &b->in;
    vitc_tensor *t = NULL;
    char msg[MSG_SIZE];
    if (vitc_npy_load(path, &t) != VITC_OK) {
        return unusable(b, path, vitc_last_error());
    }
    size_t c = (size_t)b->info->num_channels, h = (size_t)b->info->image_height;
    size_t w = (size_t)b->info->image_width;
    int batched = t->ndim == 4;
    const size_t *dims = t->shape + (batched ? 1 : 0);
    if (t->dtype != VITC_DTYPE_F32) {
        vitc_tensor_free(t);
        snprintf(msg, sizeof msg, "%s: pixel_values must be float32, this file is uint8", path);
        return unusable(b, path, msg);
    }
    if ((t->ndim != 3 && t->ndim != 4) || dims[0] != c || dims[1] != h || dims[2] != w ||
        (batched && t->shape[0] == 0)) {
        char shape[VITC_TENSOR_MAX_DIMS * 24] = ""; /* 20 digits and ", " per axis */
        size_t k = 0;
        for (size_t i = 0; i < t->ndim; i++) {
            k += (size_t)snprintf(shape + k, sizeof shape - k, "%s%zu", i ? ", " : "", t->shape[i]);
        }
        vitc_tensor_free(t);
        snprintf(msg, sizeof msg,
                 "%s: shape [%s] is not pixel_values [%zu,%zu,%zu] or [N,%zu,%zu,%zu] for "
                 "this model",
                 path, shape, c, h, w, c, h, w);
        return unusable(b, path, msg);
    }
    vitc_tensor **grown = realloc(in->tensors, (in->n_tensors + 1) * sizeof *grown);
    if (!grown) {
        vitc_tensor_free(t);
        cli_error(b->cmd, "out of memory");
        return CLI_EXIT_FAIL;
    }
    in->tensors = grown;
    in->tensors[in->n_tensors++] = t;
    size_t rows = batched ? t->shape[0] : 1;
    for (size_t r = 0; r < rows; r++) {
        char name[4096];
        if (batched) {
            snprintf(name, sizeof name, "%s[%zu]", path, r);
        }
        if (push(b, path, batched ? name : path, t, r, NULL) != 0) {
            cli_error(b->cmd, "out of memory");
            return CLI_EXIT_FAIL;
        }
    }
    return 0;
}

/* ---- one argument ---- */

/* Images are preprocessed to preprocessor_config.json's size, which must be the model's. */
static int check_image_path(const cli_command *cmd, const vitc_model_info *info)
{
    const vitc_preprocess_params *pp = &info->preprocess;
    if (info->num_channels != 3) {
        cli_error(cmd, "the model takes %d channels; images give 3 (use a .npy input)",
                  info->num_channels);
        return CLI_EXIT_FAIL;
    }
    int w = 0, h = 0;
    if (vitc_preprocess_fixed_size(pp, &w, &h) &&
        (h != info->image_height || w != info->image_width)) {
        cli_error(cmd,
                  "preprocessor_config.json %s %dx%d (width x height) but the model takes "
                  "%dx%d",
                  pp->do_center_crop ? "crops to" : "resizes to", w, h, info->image_width,
                  info->image_height);
        return CLI_EXIT_FAIL;
    }
    if (pp->do_resize && pp->shortest_edge > 0 && !pp->do_center_crop) {
        cli_error(cmd,
                  "preprocessor_config.json resizes by the shortest edge without a center "
                  "crop: images would not all be %dx%d (width x height)",
                  info->image_width, info->image_height);
        return CLI_EXIT_FAIL;
    }
    return 0;
}

static int add_arg(struct builder *b, const char *arg)
{
    struct stat sb;
    size_t n_before = b->in.n;
    int rc = 0;
    if (stat(arg, &sb) != 0) {
        rc = unusable_errno(b, arg, errno);
    } else if (S_ISDIR(sb.st_mode)) {
        rc = expand_dir(b, arg);
    } else if (ends_with_ci(arg, ".npy")) {
        rc = expand_npy(b, arg);
    } else if (push(b, arg, arg, NULL, 0, NULL) != 0) {
        cli_error(b->cmd, "out of memory");
        rc = CLI_EXIT_FAIL;
    }
    for (size_t i = n_before; rc == 0 && !b->images_checked && i < b->in.n; i++) {
        if (!b->in.items[i].npy && !b->in.items[i].error) {
            rc = check_image_path(b->cmd, b->info);
            b->images_checked = 1;
        }
    }
    return rc;
}

/* Adds every non-blank line of the list file (stdin for "-") as an argument. */
static int add_list(struct builder *b, const char *list)
{
    int from_stdin = strcmp(list, "-") == 0;
    FILE *f = from_stdin ? stdin : fopen(list, "r");
    char *line = NULL;
    size_t line_cap = 0;
    ssize_t len;
    int rc = 0;
    if (!f) {
        cli_error(b->cmd, "%s: %s", list, strerror(errno));
        return CLI_EXIT_FAIL;
    }
    while (rc == 0 && (len = getline(&line, &line_cap, f)) >= 0) {
        if (len > 0 && line[len - 1] == '\n') {
            line[--len] = '\0';
        }
        if (len > 0 && line[len - 1] == '\r') {
            line[--len] = '\0';
        }
        if (line[strspn(line, " \t")] != '\0') {
            rc = add_arg(b, line);
        }
    }
    if (rc == 0 && ferror(f)) {
        cli_error(b->cmd, "%s: read error", from_stdin ? "standard input" : list);
        rc = CLI_EXIT_FAIL;
    }
    free(line);
    if (!from_stdin) {
        fclose(f);
    }
    return rc;
}

int cli_inputs_collect(const cli_command *cmd, char **args, int n_args, const cli_inputs_opts *opts,
                       const vitc_model *model, cli_inputs *out)
{
    struct builder b = {.cmd = cmd, .info = vitc_model_get_info(model), .opts = opts};
    int rc = 0;
    for (int i = 0; i < n_args && rc == 0; i++) {
        rc = add_arg(&b, args[i]);
    }
    if (rc == 0 && opts->list) {
        rc = add_list(&b, opts->list);
    }
    if (rc == 0 && b.in.n == 0) {
        cli_error(cmd, "%s: names no inputs", opts->list ? opts->list : "the command line");
        rc = CLI_EXIT_FAIL;
    }
    if (rc != 0) {
        cli_inputs_free(&b.in);
        return rc;
    }
    *out = b.in;
    return 0;
}

int cli_inputs_expand(const cli_command *cmd, char **args, int n_args, const vitc_model *model,
                      cli_inputs *out)
{
    const cli_inputs_opts opts = {.verbose = true};
    return cli_inputs_collect(cmd, args, n_args, &opts, model, out);
}

/* ---- pixel values ---- */

int cli_input_pixels_msg(const cli_input *in, const vitc_model *model, float *dst, size_t n,
                         char *msg, size_t msg_size)
{
    if (in->error) {
        snprintf(msg, msg_size, "%s", in->error);
        return -1;
    }
    if (in->npy) {
        const float *row = (const float *)in->npy->data + in->row * n;
        /* Checked here, where the file is known: vitc_forward would refuse the
         * batch too, but could only name the image's index in it. */
        for (size_t i = 0; i < n; i++) {
            if (!isfinite(row[i])) {
                snprintf(msg, msg_size, "%s: pixel_values contain NaN/Inf (first at value %zu)",
                         in->name, i);
                return -1;
            }
        }
        memcpy(dst, row, n * sizeof *dst);
        return 0;
    }
    const vitc_model_info *info = vitc_model_get_info(model);
    vitc_image *img = NULL;
    if (vitc_image_load(in->path, &img) != VITC_OK) {
        snprintf(msg, msg_size, "%s", vitc_last_error());
        return -1;
    }
    if (!info->preprocess.do_resize && !info->preprocess.do_center_crop &&
        (img->width != info->image_width || img->height != info->image_height)) {
        snprintf(msg, msg_size,
                 "%s: image is %dx%d; the model takes %dx%d (width x height) and its "
                 "preprocessor_config.json has do_resize false",
                 in->path, img->width, img->height, info->image_width, info->image_height);
        vitc_image_free(img);
        return -1;
    }
    vitc_status st = vitc_preprocess(&info->preprocess, img, dst, n);
    vitc_image_free(img);
    if (st != VITC_OK) {
        snprintf(msg, msg_size, "%s", vitc_last_error());
        return -1;
    }
    return 0;
}

int cli_inputs_pixels(const cli_command *cmd, const cli_input *in, const vitc_model *model,
                      float *dst, size_t n)
{
    char msg[MSG_SIZE];
    if (cli_input_pixels_msg(in, model, dst, n, msg, sizeof msg) != 0) {
        cli_error(cmd, "%s", msg);
        return CLI_EXIT_FAIL;
    }
    return 0;
}

void cli_inputs_free(cli_inputs *in)
{
    for (size_t i = 0; i < in->n; i++) {
        free(in->items[i].path);
        free(in->items[i].name);
        free(in->items[i].error);
    }
    free(in->items);
    for (size_t i = 0; i < in->n_tensors; i++) {
        vitc_tensor_free(in->tensors[i]);
    }
    free(in->tensors);
    in->items = NULL;
    in->tensors = NULL;
    in->n = in->n_tensors = 0;
}
