/* SPDX-License-Identifier: MIT
 *
 * args.h — what the `vitc` subcommands share: the command descriptor, option
 * parsing (options anywhere, --opt=v, --, strict numbers), help text, exit
 * codes and error reporting. CLI layer: uses only <vitc.h>; may print.
 */
#ifndef VITC_CLI_ARGS_H
#define VITC_CLI_ARGS_H

#include <stdbool.h>
#include <stdint.h>

/* Exit status of every subcommand. */
enum {
    CLI_EXIT_OK = 0,
    CLI_EXIT_FAIL = 1, /* runtime failure: bad file, bad model, unwritable output */
    CLI_EXIT_USAGE = 2 /* unknown command/option, missing argument, bad option value */
};

#define CLI_MAX_OPTIONS 16

/* One option of a subcommand. An option takes a value when `arg` is set. */
typedef struct cli_option {
    const char *name; /* long name without "--", or NULL for a short-only option */
    char short_name;  /* 'o' for -o, or 0 */
    const char *arg;  /* value placeholder shown in help ("N"), NULL for a flag */
    const char *help; /* one line; may mention the default */
} cli_option;

/* A subcommand: its name, what `vitc --help` says of it, its own help and its options. */
typedef struct cli_command {
    const char *name;
    const char *summary;     /* one line for the command list */
    const char *synopsis;    /* "MODEL IMAGE... [options]" */
    const char *description; /* paragraph(s) for `vitc CMD --help` */
    const cli_option *options;
    int n_options;
    int (*run)(const struct cli_command *cmd, int argc, char **argv);
} cli_command;

/* The parsed command line: option values indexed like the command's option table
 * (NULL when absent, "" for a given flag) and the positionals in order. */
typedef struct cli_args {
    const char *value[CLI_MAX_OPTIONS];
    char **pos;
    int n_pos;
} cli_args;

/* Parses argv[1..argc) (argv[0] is the subcommand's name). Returns -1 to go on, or the
 * exit status to return at once: 0 after printing help (--help, -h), 2 after printing a
 * usage error. On -1 the caller frees args with cli_args_free. */
int cli_args_parse(const cli_command *cmd, int argc, char **argv, cli_args *args);
void cli_args_free(cli_args *args);

/* Prints `vitc CMD --help` to stdout. */
void cli_print_help(const cli_command *cmd);

/* Strict integer parsing of an option value: decimal digits with an optional leading '-',
 * nothing else, within [min, max]. On failure prints a usage error naming the option and
 * returns CLI_EXIT_USAGE; returns 0 on success. */
int cli_parse_long(const cli_command *cmd, const char *opt, const char *text, long min, long max,
                   long *out);
int cli_parse_u64(const cli_command *cmd, const char *opt, const char *text, uint64_t *out);

/* --image-size: "S" (S x S) or "HxW" (height x width), each decimal digits in 1..65535,
 * nothing else (no sign, spaces or 'X'). On failure prints a usage error and returns
 * CLI_EXIT_USAGE; returns 0 with *height and *width set on success. */
int cli_parse_image_size(const cli_command *cmd, const char *text, int *height, int *width);

/* The help line of --image-size, shared by embed, classify, bench and compare. */
#define CLI_IMAGE_SIZE_HELP                                                                        \
    "Run at H x W pixels (S: S x S): ViT and DINOv2 interpolate their position embeddings as "     \
    "transformers' interpolate_pos_encoding does, the grid is floor(H/patch) x floor(W/patch); "   \
    "images are resized to H x W (a cropping processor resizes the short side to max(H, W) and "  \
    "crops H x W)."

/* Prints "vitc CMD: message" to stderr. */
void cli_error(const cli_command *cmd, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* Prints a usage error and the hint to run --help; returns CLI_EXIT_USAGE. */
int cli_usage_error(const cli_command *cmd, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

/* Prints vitc_last_error() for a failed library call; returns CLI_EXIT_FAIL. */
int cli_fail(const cli_command *cmd);

/* ---- the subcommands (one file each) ---- */

extern const cli_command cli_cmd_info;
extern const cli_command cli_cmd_classify;
extern const cli_command cli_cmd_embed;
extern const cli_command cli_cmd_init;
extern const cli_command cli_cmd_bench;
extern const cli_command cli_cmd_compare;
extern const cli_command cli_cmd_serve;

#endif /* VITC_CLI_ARGS_H */
