/* SPDX-License-Identifier: MIT
 *
 * target.h — where and how a command computes: the --device and --precision
 * options every model-running subcommand shares, with VITC_DEVICE as the
 * device default and each device's default precision. CLI layer.
 */
#ifndef VITC_CLI_TARGET_H
#define VITC_CLI_TARGET_H

#include <vitc.h>

#include "args.h"

typedef struct cli_target {
    vitc_backend backend; /* AUTO when neither --device nor VITC_DEVICE */
    int device;           /* CUDA device index                          */
    vitc_precision precision;
} cli_target;

/* Help text for the two options, for the commands' option tables. */
#define CLI_DEVICE_HELP "cpu, cuda or cuda:N (default: $VITC_DEVICE, else cpu)."
#define CLI_PRECISION_HELP                                                                         \
    "fp32, bf16, int8 (cpu), fp16, tf32 (cuda) (default: fp32 on cpu, bf16 on cuda)."

/* Parses device (the --device value, or NULL to read VITC_DEVICE) and
 * precision (the --precision value, or NULL for the device's default).
 * Returns 0, or CLI_EXIT_USAGE after printing the reason. */
int cli_target_parse(const cli_command *cmd, const char *device, const char *precision,
                     cli_target *out);

/* "fp32", "bf16", ... for a precision; "?" for an unknown value. */
const char *cli_precision_name(vitc_precision p);

/* "cpu" or "cuda:N" into buf (size >= 16). */
const char *cli_device_name(const cli_target *t, char *buf, size_t size);

#endif /* VITC_CLI_TARGET_H */
