/* SPDX-License-Identifier: MIT
 *
 * inputs.h — turns the IMAGE|DIR|.npy arguments of `vitc classify` and
 * `vitc embed` (and embed's --list file, --recursive walks) into one ordered
 * list of model inputs, and produces each one's pixel_values. CLI layer: uses
 * only <vitc.h>; prints its errors, or records them with --skip-errors.
 */
#ifndef VITC_CLI_INPUTS_H
#define VITC_CLI_INPUTS_H

#include <stdbool.h>
#include <stddef.h>

#include <vitc.h>

#include "args.h"

/* One model input: an image file, or one row of a float32 pixel_values .npy. */
typedef struct cli_input {
    char *path;             /* the image or .npy file (owned)                       */
    char *name;             /* shown in output: the path, or "path[i]" for a row of an
                               [N,C,S,S] .npy (owned)                               */
    const vitc_tensor *npy; /* the loaded .npy (owned by the list), NULL for an image */
    size_t row;             /* which [C,S,S] row of npy                             */
    char *error;            /* why the input is unusable, found while listing (only with
                               skip_errors; owned), or NULL                          */
} cli_input;

typedef struct cli_inputs {
    cli_input *items; /* (n) in argument order, directories expanded          */
    size_t n;
    vitc_tensor **tensors; /* (n_tensors) every .npy loaded                        */
    size_t n_tensors;
} cli_inputs;

/* Expands the arguments: an image file stays as is; a directory gives its image files
 * (named *.jpg, *.jpeg, *.jpe, *.jfif, *.png, *.webp, *.gif, *.bmp or *.dib; non-recursive, hidden files
 * skipped, sorted by name in byte order), and its other files are named on stderr after a
 * warning with their count; a .npy is loaded and
 * must be float32 [C,S,S] or [N,C,S,S] matching the model. Checks up front that every path
 * exists and that the model's preprocessing yields its input size. On failure prints why
 * and returns CLI_EXIT_FAIL (nothing to free); 0 on success. */
int cli_inputs_expand(const cli_command *cmd, char **args, int n_args, const vitc_model *model,
                      cli_inputs *out);

/* How cli_inputs_collect reads its arguments. */
typedef struct cli_inputs_opts {
    bool recursive;   /* walk directories down to every level                     */
    const char *list; /* a file naming one input per line ("-": stdin), or NULL   */
    bool skip_errors; /* a missing or unreadable input becomes an item with .error,
                         and so does a directory's file that is not an image         */
    bool verbose;     /* name each file a directory skips (always counted)          */
} cli_inputs_opts;

/* cli_inputs_expand with options: the arguments first, then the --list lines (blank lines
 * ignored, a trailing CR dropped), each taken like an argument. With recursive, a directory
 * gives every image file below it, sorted by full path in byte order (as
 * `find DIR | LC_ALL=C sort`); hidden files and directories are skipped and symbolic links
 * to directories are not followed (no cycles). Other files are counted in a warning on
 * stderr and named there (verbose) or, with skip_errors, listed as unusable inputs. Fails
 * when nothing is left to run. */
int cli_inputs_collect(const cli_command *cmd, char **args, int n_args, const cli_inputs_opts *opts,
                       const vitc_model *model, cli_inputs *out);

/* Makes input `in`'s pixel_values, float32 [C,S,S] (n floats), in dst. Returns 0, or -1
 * with the reason ("PATH: ...") in msg; prints nothing, so worker threads can call it. */
int cli_input_pixels_msg(const cli_input *in, const vitc_model *model, float *dst, size_t n,
                         char *msg, size_t msg_size);

/* Writes input `in`'s pixel_values, float32 [C,S,S] (n floats), into dst: decoded and
 * preprocessed with the model's preprocessor_config, or copied from its .npy row.
 * Prints the failure and returns CLI_EXIT_FAIL, or 0. */
int cli_inputs_pixels(const cli_command *cmd, const cli_input *in, const vitc_model *model,
                      float *dst, size_t n);

void cli_inputs_free(cli_inputs *in);

#endif /* VITC_CLI_INPUTS_H */
