/* SPDX-License-Identifier: MIT
 *
 * args.c — option parsing and help/usage/error printing for the `vitc`
 * subcommands. Options may come before or after positionals, long options
 * take `--opt value` or `--opt=value`, `--` ends options, and numbers are
 * parsed strictly. CLI layer: prints, never touches the library's internals.
 */
#include "args.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <vitc.h>

/* ---- messages ---- */

static void vprint_error(const cli_command *cmd, const char *fmt, va_list ap)
{
    fprintf(stderr, "vitc %s: ", cmd->name);
    vfprintf(stderr, fmt, ap);
    fputc('\n', stderr);
}

void cli_error(const cli_command *cmd, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vprint_error(cmd, fmt, ap);
    va_end(ap);
}

int cli_usage_error(const cli_command *cmd, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vprint_error(cmd, fmt, ap);
    va_end(ap);
    fprintf(stderr, "Try 'vitc %s --help' for its options.\n", cmd->name);
    return CLI_EXIT_USAGE;
}

int cli_fail(const cli_command *cmd)
{
    fprintf(stderr, "vitc %s: %s\n", cmd->name, vitc_last_error());
    return CLI_EXIT_FAIL;
}

/* ---- help ---- */

/* Help lines stay within this width; option help wraps under its own column. */
#define HELP_WIDTH  79
#define HELP_INDENT 27

/* Prints "  LEFT  text..." with text word-wrapped at HELP_WIDTH. */
static void print_wrapped(const char *left, const char *text)
{
    printf("  %-24s ", left);
    int col = HELP_INDENT;
    while (*text) {
        size_t word = strcspn(text, " ");
        if (col > HELP_INDENT && col + 1 + (int)word > HELP_WIDTH) {
            printf("\n%*s", HELP_INDENT, "");
            col = HELP_INDENT;
        } else if (col > HELP_INDENT) {
            putchar(' ');
            col++;
        }
        printf("%.*s", (int)word, text);
        col += (int)word;
        text += word;
        text += strspn(text, " ");
    }
    putchar('\n');
}

void cli_print_help(const cli_command *cmd)
{
    printf("Usage: vitc %s %s\n\n%s\n\n%s\n\nOptions:\n", cmd->name, cmd->synopsis, cmd->summary,
           cmd->description);
    for (int i = 0; i < cmd->n_options; i++) {
        const cli_option *o = &cmd->options[i];
        char left[64];
        int n = 0;
        if (o->short_name) {
            n += snprintf(left + n, sizeof left - (size_t)n, "-%c%s", o->short_name,
                          o->name ? ", " : "");
        } else {
            n += snprintf(left + n, sizeof left - (size_t)n, "    ");
        }
        if (o->name) {
            n += snprintf(left + n, sizeof left - (size_t)n, "--%s", o->name);
        }
        if (o->arg) {
            snprintf(left + n, sizeof left - (size_t)n, " %s", o->arg);
        }
        print_wrapped(left, o->help);
    }
    print_wrapped("-h, --help", "Show this help and exit.");
}

/* ---- parsing ---- */

static const cli_option *find_long(const cli_command *cmd, const char *name, size_t len, int *idx)
{
    for (int i = 0; i < cmd->n_options; i++) {
        const char *n = cmd->options[i].name;
        if (n && strlen(n) == len && memcmp(n, name, len) == 0) {
            *idx = i;
            return &cmd->options[i];
        }
    }
    return NULL;
}

static const cli_option *find_short(const cli_command *cmd, char c, int *idx)
{
    for (int i = 0; i < cmd->n_options; i++) {
        if (cmd->options[i].short_name == c) {
            *idx = i;
            return &cmd->options[i];
        }
    }
    return NULL;
}

/* Handles one "--name[=value]" argument; *i advances past a separate value. */
static int parse_long_option(const cli_command *cmd, int argc, char **argv, int *i, cli_args *args)
{
    const char *name = argv[*i] + 2;
    const char *eq = strchr(name, '=');
    size_t len = eq ? (size_t)(eq - name) : strlen(name);
    int idx = -1;
    if (len == 4 && memcmp(name, "help", 4) == 0 && !eq) {
        cli_print_help(cmd);
        return CLI_EXIT_OK;
    }
    const cli_option *o = find_long(cmd, name, len, &idx);
    if (!o) {
        return cli_usage_error(cmd, "unknown option '--%.*s'", (int)len, name);
    }
    if (!o->arg) {
        if (eq) {
            return cli_usage_error(cmd, "option '--%s' takes no value", o->name);
        }
        args->value[idx] = "";
    } else if (eq) {
        args->value[idx] = eq + 1;
    } else if (*i + 1 < argc) {
        args->value[idx] = argv[++*i];
    } else {
        return cli_usage_error(cmd, "option '--%s' needs a value (%s)", o->name, o->arg);
    }
    return -1;
}

/* Handles one "-x", "-xVALUE" or "-x VALUE" argument. */
static int parse_short_option(const cli_command *cmd, int argc, char **argv, int *i, cli_args *args)
{
    const char *arg = argv[*i];
    int idx = -1;
    if (strcmp(arg, "-h") == 0) {
        cli_print_help(cmd);
        return CLI_EXIT_OK;
    }
    const cli_option *o = find_short(cmd, arg[1], &idx);
    if (!o) {
        return cli_usage_error(cmd, "unknown option '%s'", arg);
    }
    if (!o->arg) {
        if (arg[2]) {
            return cli_usage_error(cmd, "unknown option '%s'", arg);
        }
        args->value[idx] = "";
    } else if (arg[2]) {
        args->value[idx] = arg + 2;
    } else if (*i + 1 < argc) {
        args->value[idx] = argv[++*i];
    } else {
        return cli_usage_error(cmd, "option '-%c' needs a value (%s)", o->short_name, o->arg);
    }
    return -1;
}

int cli_args_parse(const cli_command *cmd, int argc, char **argv, cli_args *args)
{
    memset(args, 0, sizeof *args);
    args->pos = calloc((size_t)(argc > 0 ? argc : 1), sizeof *args->pos);
    if (!args->pos) {
        cli_error(cmd, "out of memory");
        return CLI_EXIT_FAIL;
    }
    int options_done = 0;
    for (int i = 1; i < argc; i++) {
        const char *arg = argv[i];
        int rc = -1;
        if (options_done || arg[0] != '-' || arg[1] == '\0') {
            args->pos[args->n_pos++] = argv[i]; /* "-" alone is a positional, as usual */
            continue;
        }
        if (strcmp(arg, "--") == 0) {
            options_done = 1;
            continue;
        }
        rc = arg[1] == '-' ? parse_long_option(cmd, argc, argv, &i, args)
                           : parse_short_option(cmd, argc, argv, &i, args);
        if (rc >= 0) {
            cli_args_free(args);
            return rc;
        }
    }
    return -1;
}

void cli_args_free(cli_args *args)
{
    free(args->pos);
    args->pos = NULL;
    args->n_pos = 0;
}

/* ---- numbers ---- */

/* Accepts exactly [-]digits; returns 0 and sets *out, or -1 (not a number), -2 (out of range). */
static int strict_long(const char *text, long *out)
{
    const char *p = text[0] == '-' ? text + 1 : text;
    if (*p == '\0') {
        return -1;
    }
    for (const char *q = p; *q; q++) {
        if (*q < '0' || *q > '9') {
            return -1;
        }
    }
    errno = 0;
    long v = strtol(text, NULL, 10);
    if (errno == ERANGE) {
        return -2;
    }
    *out = v;
    return 0;
}

static const char *opt_label(const char *opt, char *buf, size_t n)
{
    snprintf(buf, n, opt[1] == '\0' ? "-%s" : "--%s", opt);
    return buf;
}

int cli_parse_long(const cli_command *cmd, const char *opt, const char *text, long min, long max,
                   long *out)
{
    char label[64];
    long v = 0;
    int rc = strict_long(text, &v);
    if (rc == -1) {
        return cli_usage_error(cmd, "option '%s': '%s' is not an integer",
                               opt_label(opt, label, sizeof label), text);
    }
    if (rc == -2 || v < min || v > max) {
        return cli_usage_error(cmd, "option '%s': %s is out of range (%ld to %ld)",
                               opt_label(opt, label, sizeof label), text, min, max);
    }
    *out = v;
    return 0;
}

/* One side of --image-size: digits only, 1..65535; end is where it stops. */
static int image_side(const char *text, const char *end, int *out)
{
    long v = 0;
    if (end == text || end - text > 5) {
        return end == text ? -1 : -2;
    }
    for (const char *q = text; q < end; q++) {
        if (*q < '0' || *q > '9') {
            return -1;
        }
        v = v * 10 + (*q - '0');
    }
    if (v < 1 || v > 65535) {
        return -2;
    }
    *out = (int)v;
    return 0;
}

int cli_parse_image_size(const cli_command *cmd, const char *text, int *height, int *width)
{
    const char *x = strchr(text, 'x'), *end = text + strlen(text);
    int h = 0, w = 0;
    int rc = image_side(text, x ? x : end, &h);
    if (rc == 0) {
        rc = x ? image_side(x + 1, end, &w) : 0;
        w = x ? w : h;
    }
    if (rc == -1) {
        return cli_usage_error(cmd,
                               "option '--image-size': '%s' is not S or HxW (e.g. 224 or "
                               "224x320)",
                               text);
    }
    if (rc == -2) {
        return cli_usage_error(cmd, "option '--image-size': '%s': each side must be 1 to 65535",
                               text);
    }
    *height = h;
    *width = w;
    return 0;
}

int cli_parse_u64(const cli_command *cmd, const char *opt, const char *text, uint64_t *out)
{
    char label[64];
    if (*text == '\0' || strspn(text, "0123456789") != strlen(text)) {
        return cli_usage_error(cmd, "option '%s': '%s' is not a non-negative integer",
                               opt_label(opt, label, sizeof label), text);
    }
    errno = 0;
    unsigned long long v = strtoull(text, NULL, 10);
    if (errno == ERANGE || v > UINT64_MAX) {
        return cli_usage_error(cmd, "option '%s': %s is out of range (0 to %llu)",
                               opt_label(opt, label, sizeof label), text,
                               (unsigned long long)UINT64_MAX);
    }
    *out = (uint64_t)v;
    return 0;
}
