/* SPDX-License-Identifier: MIT
 *
 * rank.c — softmax and ranking of logits, and label names (see rank.h). CLI layer.
 */
#include "rank.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>

static int by_logit_desc(const void *a, const void *b)
{
    const cli_ranked *x = a, *y = b;
    if (x->logit != y->logit) {
        return x->logit > y->logit ? -1 : 1;
    }
    return x->id - y->id;
}

void cli_rank_logits(const float *logits, int n, cli_ranked *r)
{
    double max = logits[0], sum = 0;
    for (int i = 1; i < n; i++) {
        max = logits[i] > max ? logits[i] : max;
    }
    for (int i = 0; i < n; i++) {
        r[i].id = i;
        r[i].logit = logits[i];
        r[i].prob = exp((double)logits[i] - max);
        sum += r[i].prob;
    }
    for (int i = 0; i < n; i++) {
        r[i].prob /= sum;
    }
    qsort(r, (size_t)n, sizeof *r, by_logit_desc);
}

const char *cli_label_of(const vitc_model *model, int id, char *buf, size_t n)
{
    const char *label = vitc_model_label(model, id);
    if (label) {
        return label;
    }
    snprintf(buf, n, "LABEL_%d", id);
    return buf;
}
