/* SPDX-License-Identifier: MIT
 *
 * compare_metrics.c — see compare_metrics.h. Everything is computed in double
 * from the float values, so the metrics of an fp32 target do not drown in the
 * rounding of their own arithmetic.
 */
#include "compare_metrics.h"

#include <math.h>

void cmp_acc_init(cmp_acc *a)
{
    *a = (cmp_acc){.min_cos = INFINITY};
}

/* Counts the non-finite values of x (n) and returns the index of the first, or n. */
static size_t count_nonfinite(const float *x, size_t n, size_t *count)
{
    size_t first = n;
    for (size_t i = 0; i < n; i++) {
        if (!isfinite(x[i])) {
            first = first == n ? i : first;
            ++*count;
        }
    }
    return first;
}

double cmp_acc_add(cmp_acc *a, const float *ref, const float *tgt, size_t n)
{
    size_t bad_ref = 0, bad_tgt = 0;
    size_t first_ref = count_nonfinite(ref, n, &bad_ref);
    size_t first_tgt = count_nonfinite(tgt, n, &bad_tgt);
    size_t image = a->n_images++;
    a->n_values += n;
    if (bad_ref || bad_tgt) {
        if (a->nonfinite_ref + a->nonfinite_target == 0) {
            a->first_nonfinite_image = image;
            a->first_nonfinite_index = first_tgt < first_ref ? first_tgt : first_ref;
        }
        a->nonfinite_ref += bad_ref;
        a->nonfinite_target += bad_tgt;
        return NAN;
    }
    double sum_ref = 0.0;
    for (size_t i = 0; i < n; i++) {
        sum_ref += fabs((double)ref[i]);
    }
    double scale = n ? sum_ref / (double)n : 0.0;
    double dot = 0.0, rr = 0.0, tt = 0.0;
    for (size_t i = 0; i < n; i++) {
        double r = ref[i], t = tgt[i], d = fabs(t - r);
        double den = fabs(r) > scale ? fabs(r) : scale;
        /* Only an all-zero reference leaves den at 0: equal is no difference, anything
         * else is infinitely far from it. */
        double rel = den > 0.0 ? d / den : d > 0.0 ? INFINITY : 0.0;
        a->sum_abs += d;
        a->max_abs = d > a->max_abs ? d : a->max_abs;
        a->sum_rel += rel;
        a->max_rel = rel > a->max_rel ? rel : a->max_rel;
        a->ref_max_abs = fabs(r) > a->ref_max_abs ? fabs(r) : a->ref_max_abs;
        dot += r * t;
        rr += r * r;
        tt += t * t;
    }
    /* sqrt(rr * tt) rather than sqrt(rr) * sqrt(tt): for t == r it is exactly rr (IEEE sqrt
     * of a rounded square), so identical outputs give exactly 1. The clamp keeps rounding
     * from reporting a cosine above 1. */
    double cos = rr > 0.0 && tt > 0.0 ? dot / sqrt(rr * tt) : rr == tt ? 1.0 : 0.0;
    cos = cos > 1.0 ? 1.0 : cos < -1.0 ? -1.0 : cos;
    a->sum_cos += cos;
    a->min_cos = cos < a->min_cos ? cos : a->min_cos;
    return cos;
}

cmp_metrics cmp_acc_result(const cmp_acc *a)
{
    cmp_metrics m = {
        .n_images = a->n_images,
        .n_values = a->n_values,
        .nonfinite = a->nonfinite_ref + a->nonfinite_target,
    };
    if (m.nonfinite > 0 || a->n_images == 0) {
        m.max_abs_diff = m.mean_abs_diff = m.max_rel_diff = m.mean_rel_diff = NAN;
        m.cosine_min = m.cosine_mean = m.ref_max_abs = NAN;
        return m;
    }
    double n = a->n_values > 0 ? (double)a->n_values : 1.0;
    m.max_abs_diff = a->max_abs;
    m.mean_abs_diff = a->sum_abs / n;
    m.max_rel_diff = a->max_rel;
    m.mean_rel_diff = a->sum_rel / n;
    m.cosine_min = a->min_cos;
    m.cosine_mean = a->sum_cos / (double)a->n_images;
    m.ref_max_abs = a->ref_max_abs;
    return m;
}

long cmp_argmax(const float *x, size_t n)
{
    long best = n > 0 ? 0 : -1;
    for (size_t i = 0; i < n; i++) {
        if (isnan(x[i])) {
            return -1;
        }
        if (x[i] > x[best]) {
            best = (long)i;
        }
    }
    return best;
}
