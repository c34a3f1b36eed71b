/* SPDX-License-Identifier: MIT
 *
 * rank.h — a classifier's logits as ranked labels: softmax in double, best first,
 * with the model's id2label names. Shared by `vitc classify` and the server's
 * classify route so both give the same numbers. CLI layer: only <vitc.h>.
 */
#ifndef VITC_CLI_RANK_H
#define VITC_CLI_RANK_H

#include <stddef.h>

#include <vitc.h>

/* One label of one image. */
typedef struct cli_ranked {
    int id;
    double logit, prob;
} cli_ranked;

/* Softmax in double (max subtracted first), then sorts best first (ties by id).
 * r has n entries. */
void cli_rank_logits(const float *logits, int n, cli_ranked *r);

/* id2label[id], or "LABEL_id" written into buf (n bytes) when unnamed. */
const char *cli_label_of(const vitc_model *model, int id, char *buf, size_t n);

#endif /* VITC_CLI_RANK_H */
