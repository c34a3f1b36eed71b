/* SPDX-License-Identifier: MIT
 *
 * compare_metrics.h — the numbers `vitc compare` reports for one model output:
 * absolute and relative differences, cosine similarity and top-1 agreement of a
 * target against a reference, accumulated image by image in double. Pure
 * functions on float arrays: no I/O, no allocation. CLI layer.
 *
 * Definitions, for reference r and target t over every value of the output:
 *   abs_diff = |t - r|
 *   rel_diff = |t - r| / max(|r|, s), s = mean |r| over that image's output
 *              (the floor keeps values near zero from blowing the ratio up)
 *   cosine   = r.t / (|r| |t|) per image's whole output (1 when both are 0,
 *              0 when only one is)
 * A NaN or Inf anywhere in the target (or reference) is counted, never
 * averaged: the metrics then read NaN and the caller must fail.
 */
#ifndef VITC_CLI_COMPARE_METRICS_H
#define VITC_CLI_COMPARE_METRICS_H

#include <stddef.h>

/* The running sums of one output over the images added so far. */
typedef struct cmp_acc {
    size_t n_images;
    size_t n_values;
    double sum_abs, max_abs;
    double sum_rel, max_rel;
    double sum_cos, min_cos;
    double ref_max_abs;           /* largest |r|, the output's scale */
    size_t nonfinite_target;      /* NaN/Inf values in the target    */
    size_t nonfinite_ref;         /* NaN/Inf values in the reference */
    size_t first_nonfinite_image; /* where the first one was         */
    size_t first_nonfinite_index; /* (index within that image)       */
} cmp_acc;

/* The summary of an accumulator. Every field is NaN when a value was not
 * finite (nonfinite > 0) or no image was added. */
typedef struct cmp_metrics {
    size_t n_images, n_values;
    double max_abs_diff, mean_abs_diff;
    double max_rel_diff, mean_rel_diff; /* fractions, not percent */
    double cosine_min, cosine_mean;
    double ref_max_abs;
    size_t nonfinite; /* target + reference */
} cmp_metrics;

/* An empty accumulator. */
void cmp_acc_init(cmp_acc *a);

/* Adds one image's output: ref and tgt are (n) floats. Returns the image's
 * cosine similarity (NaN when a value is not finite). */
double cmp_acc_add(cmp_acc *a, const float *ref, const float *tgt, size_t n);

/* The metrics of everything added. */
cmp_metrics cmp_acc_result(const cmp_acc *a);

/* Index of the largest of x[0..n) (the first on ties, as numpy.argmax), or -1
 * when n is 0 or a value is NaN. */
long cmp_argmax(const float *x, size_t n);

#endif /* VITC_CLI_COMPARE_METRICS_H */
