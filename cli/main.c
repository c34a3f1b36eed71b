/* SPDX-License-Identifier: MIT
 *
 * main.c — the `vitc` command: the subcommand table, top-level usage, help
 * and version, and dispatch. Each subcommand lives in its own cmd_*.c and
 * parses its own options (args.c). CLI layer: includes only <vitc.h>.
 * Exit status: 0 ok, 1 runtime failure, 2 usage error.
 */
#include <stdio.h>
#include <string.h>

#include <vitc.h>

#include "args.h"
#include "model_arg.h"

static const cli_command *const commands[] = {
    &cli_cmd_info,
    &cli_cmd_classify,
    &cli_cmd_embed,
    &cli_cmd_init,
    &cli_cmd_bench,
    &cli_cmd_compare,
    &cli_cmd_pull,
    &cli_cmd_serve,
};
#define N_COMMANDS (sizeof commands / sizeof commands[0])

static void print_usage(FILE *f)
{
    fprintf(f, "Usage: vitc COMMAND [ARGS...]\n\n"
               "Vision Transformer (ViT) inference on Hugging Face checkpoints\n"
               "(a directory with config.json, model.safetensors, preprocessor_config.json).\n\n"
               "Commands:\n");
    for (size_t i = 0; i < N_COMMANDS; i++) {
        fprintf(f, "  %-10s %s\n", commands[i]->name, commands[i]->summary);
    }
    fprintf(f, "  %-10s %s\n\n", "help", "Show help for a command.");
    fprintf(f, "Options:\n"
               "  -h, --help   Show this help and exit.\n"
               "  --version    Print the version and exit.\n\n"
               "Run 'vitc help COMMAND' or 'vitc COMMAND --help' for a command's options.\n"
               "Exit status: 0 ok, 1 failure, 2 usage error.\n");
}

static const cli_command *find_command(const char *name)
{
    for (size_t i = 0; i < N_COMMANDS; i++) {
        if (strcmp(commands[i]->name, name) == 0) {
            return commands[i];
        }
    }
    return NULL;
}

static int unknown_command(const char *name)
{
    fprintf(stderr, "vitc: unknown command '%s'\nRun 'vitc --help' for the list of commands.\n",
            name);
    return CLI_EXIT_USAGE;
}

/* `vitc help [CMD]`. */
static int run_help(int argc, char **argv)
{
    if (argc < 3) {
        print_usage(stdout);
        return CLI_EXIT_OK;
    }
    if (argc > 3) {
        fprintf(stderr, "vitc help: expected one command name\n");
        return CLI_EXIT_USAGE;
    }
    const cli_command *cmd = find_command(argv[2]);
    if (!cmd) {
        return unknown_command(argv[2]);
    }
    cli_print_help(cmd);
    return CLI_EXIT_OK;
}

int main(int argc, char **argv)
{
    if (argc < 2) {
        print_usage(stderr);
        return CLI_EXIT_USAGE;
    }
    const char *first = argv[1];
    if (strcmp(first, "--help") == 0 || strcmp(first, "-h") == 0) {
        print_usage(stdout);
        return CLI_EXIT_OK;
    }
    if (strcmp(first, "--version") == 0) {
        printf("vitc %s\n", vitc_version());
        return CLI_EXIT_OK;
    }
    if (strcmp(first, "help") == 0) {
        return run_help(argc, argv);
    }
    if (first[0] == '-') {
        fprintf(stderr, "vitc: unknown option '%s'\nRun 'vitc --help' for usage.\n", first);
        return CLI_EXIT_USAGE;
    }
    const cli_command *cmd = find_command(first);
    if (!cmd) {
        return unknown_command(first);
    }
    /* Flush here so a full disk or closed stdout turns into a failure, not silent loss. */
    int rc = cmd->run(cmd, argc - 1, argv + 1);
    if (fflush(stdout) != 0 && rc == CLI_EXIT_OK) {
        cli_error(cmd, "error writing to standard output");
        rc = CLI_EXIT_FAIL;
    }
    return rc;
}
