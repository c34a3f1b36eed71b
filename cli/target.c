/* SPDX-License-Identifier: MIT
 *
 * target.c — parsing of --device / VITC_DEVICE and --precision, shared by
 * the model-running subcommands. CLI layer.
 */
#include "target.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const struct {
    const char *name;
    vitc_precision precision;
} precisions[] = {
    {"fp32", VITC_PRECISION_FP32}, {"bf16", VITC_PRECISION_BF16}, {"int8", VITC_PRECISION_INT8},
    {"fp16", VITC_PRECISION_FP16}, {"tf32", VITC_PRECISION_TF32},
};

const char *cli_precision_name(vitc_precision p)
{
    for (size_t i = 0; i < sizeof precisions / sizeof precisions[0]; i++) {
        if (precisions[i].precision == p) {
            return precisions[i].name;
        }
    }
    return "?";
}

/* "cpu", "cuda" or "cuda:N"; source names the option or variable for messages. */
static int parse_device(const cli_command *cmd, const char *source, const char *text, cli_target *t)
{
    if (strcmp(text, "cpu") == 0) {
        t->backend = VITC_BACKEND_CPU;
        return 0;
    }
    if (strncmp(text, "cuda", 4) == 0 && (text[4] == '\0' || text[4] == ':')) {
        long index = 0;
        t->backend = VITC_BACKEND_CUDA;
        if (text[4] == ':') {
            int rc = cli_parse_long(cmd, source, text + 5, 0, 255, &index);
            if (rc) {
                return rc;
            }
        }
        t->device = (int)index;
        return 0;
    }
    return cli_usage_error(cmd, "%s: unknown device '%s' (cpu, cuda, cuda:N)", source, text);
}

int cli_target_parse(const cli_command *cmd, const char *device, const char *precision,
                     cli_target *out)
{
    cli_target t = {.backend = VITC_BACKEND_AUTO, .device = 0, .precision = VITC_PRECISION_FP32};
    int rc = 0;
    if (device) {
        rc = parse_device(cmd, "option '--device'", device, &t);
    } else {
        const char *env = getenv("VITC_DEVICE");
        if (env && *env) {
            rc = parse_device(cmd, "VITC_DEVICE", env, &t);
        }
    }
    if (rc) {
        return rc;
    }
    if (!precision) {
        t.precision = t.backend == VITC_BACKEND_CUDA ? VITC_PRECISION_BF16 : VITC_PRECISION_FP32;
    } else {
        size_t i = 0, n = sizeof precisions / sizeof precisions[0];
        while (i < n && strcmp(precision, precisions[i].name) != 0) {
            i++;
        }
        if (i == n) {
            return cli_usage_error(cmd,
                                   "option '--precision': unknown precision '%s' (fp32, bf16, "
                                   "int8, fp16, tf32)",
                                   precision);
        }
        t.precision = precisions[i].precision;
    }
    *out = t;
    return 0;
}

const char *cli_device_name(const cli_target *t, char *buf, size_t size)
{
    if (t->backend == VITC_BACKEND_CUDA) {
        snprintf(buf, size, "cuda:%d", t->device);
    } else {
        snprintf(buf, size, "cpu");
    }
    return buf;
}
