/* SPDX-License-Identifier: MIT
 *
 * test_attention_bf16.c — the bf16 attention head (kernels_attn_bf16_avx512.c)
 * against the fp32 reference head, its portable oracle
 * (in kernels_lowp_ref.c) and a double-precision emulation of its
 * rounding (bf16 q, k, v and probabilities), over awkward token
 * counts and head sizes with strided inputs and outputs; plus its scratch
 * bound, the untouched padding of o, and rows that come out the same
 * whichever block they fall in. Skipped without AVX512_BF16.
 */
#include <stdint.h>
#include <stdlib.h>

#include "cpu/dispatch.h"
#include "cpu/kernels.h"
#include "cpu/kernels_attn_bf16_avx512.h"
#include "test.h"

#if defined(__x86_64__)

static uint32_t rng_state = 12345u;

/* Uniform in [-amp, amp). */
static float frand(float amp)
{
    rng_state = rng_state * 1664525u + 1013904223u;
    return amp * ((float)(rng_state >> 8) / 8388608.0f - 1.0f);
}

static double bf(float x)
{
    return vitc_bf16_to_float(vitc_bf16_from_float(x));
}

/* The kernel's arithmetic in double where it is exact or nearly so: bf16
 * q, k, v; fp32 exp of the scaled, max-subtracted scores; probabilities
 * rounded to bf16, the sum taken before that rounding. out: (T, d). */
static void attention_emulated(size_t T, size_t d, const float *q, const float *k, const float *v,
                               size_t ld, double *out)
{
    double *s = malloc(T * sizeof *s), *p = malloc(T * sizeof *p);
    float scale = 1.0f / sqrtf((float)d);
    for (size_t i = 0; i < T; i++) {
        double mx = -INFINITY, sum = 0;
        for (size_t j = 0; j < T; j++) {
            double dot = 0;
            for (size_t c = 0; c < d; c++) {
                dot += bf(q[i * ld + c]) * bf(k[j * ld + c]);
            }
            s[j] = (float)dot;
            mx = s[j] > mx ? s[j] : mx;
        }
        for (size_t j = 0; j < T; j++) {
            float e = expf((float)(s[j] * scale - mx * scale));
            sum += e;
            p[j] = bf(e);
        }
        for (size_t c = 0; c < d; c++) {
            double o = 0;
            for (size_t j = 0; j < T; j++) {
                o += p[j] * bf(v[j * ld + c]);
            }
            out[i * d + c] = o / sum;
        }
    }
    free(s);
    free(p);
}

static const size_t Ts[] = {1, 2, 5, 17, 64, 197};
static const size_t ds[] = {1, 7, 16, 33, 64};
static const float CANARY = 12345.0f;

static size_t scratch_floats(size_t T, size_t d)
{
    return (d + VITC_ATTN_SCRATCH_ROWS + 1) * (T + VITC_ATTN_SCRATCH_ROWS + 1);
}

/* One head of random data (values in [-amp, amp)) through the bf16 kernel,
 * the fp32 reference and the emulation; worst errors relative to max |v|. */
static void run_case(size_t T, size_t d, float amp, double *vs_ref, double *vs_emul,
                     double *vs_oracle, int *ok)
{
    size_t ld = 3 * d + 2, ldo = d + 3, nw = scratch_floats(T, d);
    float *buf = malloc((T * ld + 1) * sizeof *buf);
    float *o = malloc(T * ldo * sizeof *o), *oref = malloc(T * ldo * sizeof *oref);
    float *orc = malloc(T * ldo * sizeof *orc);
    float *work = malloc((nw + 16) * sizeof *work);
    double *emul = malloc(T * d * sizeof *emul);
    for (size_t i = 0; i < T * ld + 1; i++) {
        buf[i] = frand(amp);
    }
    for (size_t i = 0; i < T * ldo; i++) {
        o[i] = CANARY;
    }
    for (size_t i = 0; i < 16; i++) {
        work[nw + i] = CANARY;
    }
    const float *q = buf + 1, *k = buf + 1 + d, *v = buf + 1 + 2 * d;
    float sd = (float)sqrt((double)d);
    vitc_attention_head_bf16_avx512(T, d, q, k, v, ld, o, ldo, sd, work);
    vitc_kernels_ref.attention_head(T, d, q, k, v, ld, oref, ldo, sd, work);
    vitc_attention_head_bf16_ref(T, d, q, k, v, ld, orc, ldo, sd, work);
    attention_emulated(T, d, q, k, v, ld, emul);
    double vmax = 0;
    for (size_t j = 0; j < T; j++) {
        for (size_t c = 0; c < d; c++) {
            vmax = fmax(vmax, fabs(v[j * ld + c]));
        }
    }
    *vs_ref = *vs_emul = *vs_oracle = 0;
    for (size_t i = 0; i < T; i++) {
        for (size_t c = 0; c < d; c++) {
            *vs_ref = fmax(*vs_ref, fabs(o[i * ldo + c] - oref[i * ldo + c]) / vmax);
            *vs_emul = fmax(*vs_emul, fabs(o[i * ldo + c] - emul[i * d + c]) / vmax);
            *vs_oracle = fmax(*vs_oracle, fabs(o[i * ldo + c] - orc[i * ldo + c]) / vmax);
        }
        for (size_t c = d; c < ldo; c++) {
            *ok &= o[i * ldo + c] == CANARY;
        }
    }
    for (size_t i = 0; i < 16; i++) {
        *ok &= work[nw + i] == CANARY;
    }
    free(buf);
    free(o);
    free(oref);
    free(orc);
    free(work);
    free(emul);
}

/* bf16 keeps 8 significant bits: q.k loses ~2^-9 relative per product and
 * each probability and v ~2^-9, so outputs stay within 1% of max |v| of
 * fp32 (0.4% seen, scores up to ~10 here), and within 5e-4 of the
 * emulation and the portable oracle (sums in other orders, so now and then
 * a probability rounds to the other bf16: 5e-5 seen). */
static void test_vs_reference(void)
{
    for (size_t a = 0; a < sizeof Ts / sizeof Ts[0]; a++) {
        for (size_t c = 0; c < sizeof ds / sizeof ds[0]; c++) {
            double vs_ref = 0, vs_emul = 0, vs_oracle = 0;
            int ok = 1;
            run_case(Ts[a], ds[c], 2.0f, &vs_ref, &vs_emul, &vs_oracle, &ok);
            CHECKF(ok, "T %zu d %zu: wrote outside o's columns or the scratch", Ts[a], ds[c]);
            CHECKF(vs_ref < 1e-2, "T %zu d %zu: vs fp32 %.3g of max |v|", Ts[a], ds[c], vs_ref);
            CHECKF(vs_emul < 5e-4, "T %zu d %zu: vs emulation %.3g of max |v|", Ts[a], ds[c],
                   vs_emul);
            CHECKF(vs_oracle < 5e-4, "T %zu d %zu: vs portable %.3g of max |v|", Ts[a], ds[c],
                   vs_oracle);
        }
    }
}

/* Queries in reverse order give the same rows, bit for bit, though each
 * row now falls in another block and tile. */
static void test_row_grouping(void)
{
    const size_t cases[][2] = {{197, 64}, {29, 33}, {7, 16}};
    for (size_t n = 0; n < sizeof cases / sizeof cases[0]; n++) {
        size_t T = cases[n][0], d = cases[n][1], ld = 3 * d;
        float *buf = malloc(T * ld * sizeof *buf), *qr = malloc(T * ld * sizeof *qr);
        float *o = malloc(T * d * sizeof *o), *o2 = malloc(T * d * sizeof *o2);
        float *work = malloc(scratch_floats(T, d) * sizeof *work);
        for (size_t i = 0; i < T * ld; i++) {
            buf[i] = frand(3.0f);
        }
        for (size_t i = 0; i < T; i++) {
            memcpy(qr + i * ld, buf + (T - 1 - i) * ld, d * sizeof *qr);
        }
        float sd = (float)sqrt((double)d);
        vitc_attention_head_bf16_avx512(T, d, buf, buf + d, buf + 2 * d, ld, o, d, sd, work);
        /* k and v from buf, reversed queries from qr (same ld). */
        const float *k = buf + d, *v = buf + 2 * d;
        vitc_attention_head_bf16_avx512(T, d, qr, k, v, ld, o2, d, sd, work);
        int same = 1;
        for (size_t i = 0; i < T; i++) {
            same &= memcmp(o + i * d, o2 + (T - 1 - i) * d, d * sizeof *o) == 0;
        }
        CHECKF(same, "T %zu d %zu: a row depends on its block", T, d);
        free(buf);
        free(qr);
        free(o);
        free(o2);
        free(work);
    }
}

#endif /* __x86_64__ */

int main(void)
{
#if defined(__x86_64__)
    if (vitc_cpu_has(VITC_ISA_AVX512) && vitc_cpu_has_ext(VITC_EXT_AVX512_BF16)) {
        RUN(test_vs_reference);
        RUN(test_row_grouping);
    } else {
        SKIP(test_vs_reference, "this CPU lacks AVX-512 with AVX512_BF16");
    }
#else
    SKIP(test_vs_reference, "AVX-512 BF16 is x86-64 only");
#endif
    return TEST_REPORT();
}
