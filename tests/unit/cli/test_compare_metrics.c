/* SPDX-License-Identifier: MIT
 *
 * test_compare_metrics.c — the metrics of `vitc compare` (cli/compare_metrics.c,
 * compiled in here: test programs link only libvitc) against values worked out
 * by hand: differences, the relative floor, cosine, all-zero references, NaN and
 * Inf that must be counted rather than averaged away, argmax ties.
 */
#include "test.h"

#include "cli/compare_metrics.c"

/* Equal within a few double ulps of the hand-computed value. */
static int near(double got, double want)
{
    return fabs(got - want) <= 1e-15 * (fabs(want) > 1.0 ? fabs(want) : 1.0);
}

static void test_identical_outputs_are_zero_apart(void)
{
    const float r[5] = {0.25f, -3.5f, 1e-30f, 7.0f, -0.0f};
    cmp_acc a;
    cmp_acc_init(&a);
    CHECK(cmp_acc_add(&a, r, r, 5) == 1.0);
    CHECK(cmp_acc_add(&a, r, r, 5) == 1.0);
    cmp_metrics m = cmp_acc_result(&a);
    CHECK(m.n_images == 2 && m.n_values == 10 && m.nonfinite == 0);
    CHECK(m.max_abs_diff == 0.0 && m.mean_abs_diff == 0.0);
    CHECK(m.max_rel_diff == 0.0 && m.mean_rel_diff == 0.0);
    CHECK(m.cosine_min == 1.0 && m.cosine_mean == 1.0);
    CHECK(m.ref_max_abs == 7.0);
}

/* r = (1, -2, 3, 0), t = (1.5, -2, 2, 0): s = mean |r| = 1.5;
 * |t - r| = (0.5, 0, 1, 0); denominators max(|r|, s) = (1.5, 2, 3, 1.5);
 * rel = (1/3, 0, 1/3, 0); r.t = 11.5, |r|^2 = 14, |t|^2 = 10.25. */
static void test_hand_computed(void)
{
    const float r[4] = {1.0f, -2.0f, 3.0f, 0.0f}, t[4] = {1.5f, -2.0f, 2.0f, 0.0f};
    cmp_acc a;
    cmp_acc_init(&a);
    double cos = cmp_acc_add(&a, r, t, 4);
    double want_cos = 11.5 / sqrt(14.0 * 10.25);
    CHECKF(near(cos, want_cos), "%.17g vs %.17g", cos, want_cos);
    cmp_metrics m = cmp_acc_result(&a);
    CHECK(m.max_abs_diff == 1.0);
    CHECK(m.mean_abs_diff == 0.375);
    CHECKF(near(m.max_rel_diff, 1.0 / 3.0), "%.17g", m.max_rel_diff);
    CHECKF(near(m.mean_rel_diff, 1.0 / 6.0), "%.17g", m.mean_rel_diff);
    CHECK(near(m.cosine_min, want_cos) && near(m.cosine_mean, want_cos));
    CHECK(m.ref_max_abs == 3.0);
}

/* The floor is per image: image 1 is image 0 scaled by 1000, so its relative differences
 * are the same although its absolute ones are 1000 times larger. */
static void test_floor_follows_each_image(void)
{
    const float r0[2] = {0.001f, 0.0f}, t0[2] = {0.001f, 0.0005f};
    const float r1[2] = {1.0f, 0.0f}, t1[2] = {1.0f, 0.5f};
    cmp_acc a;
    cmp_acc_init(&a);
    cmp_acc_add(&a, r0, t0, 2);
    cmp_acc_add(&a, r1, t1, 2);
    cmp_metrics m = cmp_acc_result(&a);
    /* s = 0.0005 (image 0) and 0.5 (image 1): rel = 0.0005 / 0.0005 = 1 and 0.5 / 0.5 = 1
     * (image 0 up to the rounding of 0.001f and 0.0005f). */
    CHECKF(fabs(m.max_rel_diff - 1.0) < 1e-6, "%.17g", m.max_rel_diff);
    CHECKF(fabs(m.mean_rel_diff - 0.5) < 1e-7, "%.17g", m.mean_rel_diff);
    CHECK(m.max_abs_diff == 0.5);
    /* cosine of both = 1 / sqrt(1 + 0.25). */
    CHECKF(fabs(m.cosine_min - 1.0 / sqrt(1.25)) < 1e-6, "%.17g", m.cosine_min);
    CHECK(m.n_images == 2 && m.n_values == 4);
}

/* One float ulp at 1.0 (2^-23) is seen exactly: the arithmetic is double. */
static void test_one_ulp(void)
{
    const float r[1] = {1.0f};
    const float t[1] = {nextafterf(1.0f, 2.0f)};
    cmp_acc a;
    cmp_acc_init(&a);
    cmp_acc_add(&a, r, t, 1);
    cmp_metrics m = cmp_acc_result(&a);
    CHECK(m.max_abs_diff == ldexp(1.0, -23) && m.mean_rel_diff == ldexp(1.0, -23));
}

/* An all-zero reference has no scale: equal outputs are 0 apart, anything else is
 * infinitely far in relative terms (and orthogonal). */
static void test_zero_reference(void)
{
    const float z[3] = {0.0f, 0.0f, -0.0f}, t[3] = {0.0f, 1e-3f, 0.0f};
    cmp_acc a;
    cmp_acc_init(&a);
    CHECK(cmp_acc_add(&a, z, z, 3) == 1.0);
    cmp_metrics m = cmp_acc_result(&a);
    CHECK(m.max_rel_diff == 0.0 && m.mean_rel_diff == 0.0 && m.cosine_min == 1.0);
    CHECK(cmp_acc_add(&a, z, t, 3) == 0.0);
    m = cmp_acc_result(&a);
    CHECK(m.max_abs_diff == (double)1e-3f);
    CHECK(isinf(m.max_rel_diff) && isinf(m.mean_rel_diff));
    CHECK(m.cosine_min == 0.0 && m.cosine_mean == 0.5);
    CHECK(m.nonfinite == 0);
    /* A zero target against a non-zero reference: cosine 0, rel 1 everywhere. */
    const float r[2] = {2.0f, -2.0f};
    cmp_acc_init(&a);
    CHECK(cmp_acc_add(&a, r, z, 2) == 0.0);
    m = cmp_acc_result(&a);
    CHECK(m.max_rel_diff == 1.0 && m.mean_rel_diff == 1.0);
}

/* A NaN or Inf is counted with its place and turns every metric into NaN, even after
 * clean images: it must never disappear into a mean. */
static void test_nonfinite_target_fails_loudly(void)
{
    const float r[3] = {1.0f, 2.0f, 3.0f};
    const float t_nan[3] = {1.0f, NAN, 3.0f}, t_inf[3] = {INFINITY, 2.0f, -INFINITY};
    cmp_acc a;
    cmp_acc_init(&a);
    CHECK(cmp_acc_add(&a, r, r, 3) == 1.0);
    CHECK(isnan(cmp_acc_add(&a, r, t_nan, 3)));
    CHECK(isnan(cmp_acc_add(&a, r, t_inf, 3)));
    CHECK(cmp_acc_add(&a, r, r, 3) == 1.0);
    CHECK(a.nonfinite_target == 3 && a.nonfinite_ref == 0);
    CHECK(a.first_nonfinite_image == 1 && a.first_nonfinite_index == 1);
    cmp_metrics m = cmp_acc_result(&a);
    CHECK(m.nonfinite == 3 && m.n_images == 4 && m.n_values == 12);
    CHECK(isnan(m.max_abs_diff) && isnan(m.mean_abs_diff));
    CHECK(isnan(m.max_rel_diff) && isnan(m.mean_rel_diff));
    CHECK(isnan(m.cosine_min) && isnan(m.cosine_mean));
}

static void test_nonfinite_reference_counts_too(void)
{
    const float r[2] = {NAN, 1.0f}, t[2] = {0.0f, 1.0f};
    cmp_acc a;
    cmp_acc_init(&a);
    CHECK(isnan(cmp_acc_add(&a, r, t, 2)));
    CHECK(a.nonfinite_ref == 1 && a.nonfinite_target == 0 && a.first_nonfinite_index == 0);
    CHECK(cmp_acc_result(&a).nonfinite == 1);
}

static void test_nothing_added(void)
{
    cmp_acc a;
    cmp_acc_init(&a);
    cmp_metrics m = cmp_acc_result(&a);
    CHECK(m.n_images == 0 && isnan(m.max_abs_diff) && isnan(m.cosine_min));
}

static void test_argmax(void)
{
    const float x[5] = {-3.0f, 2.0f, -1.0f, 2.0f, 1.0f};
    const float neg[3] = {-5.0f, -4.0f, -4.5f};
    const float nan[3] = {1.0f, NAN, 0.0f};
    CHECK(cmp_argmax(x, 5) == 1); /* first of the tie, as numpy.argmax */
    CHECK(cmp_argmax(neg, 3) == 1);
    CHECK(cmp_argmax(nan, 3) == -1);
    CHECK(cmp_argmax(x, 0) == -1);
    CHECK(cmp_argmax(x, 1) == 0);
}

int main(void)
{
    RUN(test_identical_outputs_are_zero_apart);
    RUN(test_hand_computed);
    RUN(test_floor_follows_each_image);
    RUN(test_one_ulp);
    RUN(test_zero_reference);
    RUN(test_nonfinite_target_fails_loudly);
    RUN(test_nonfinite_reference_counts_too);
    RUN(test_nothing_added);
    RUN(test_argmax);
    return TEST_REPORT();
}
