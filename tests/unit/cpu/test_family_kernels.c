/* SPDX-License-Identifier: MIT
 *
 * test_family_kernels.c — the kernels the ViT family added (prefix-token
 * assembly, SwiGLU, attention pooling) and the position-table resize
 * against plain double-precision oracles written from their definitions.
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "cpu/kernels.h"
#include "model/pos_interp.h"
#include "test.h"

static void test_assemble_prefix(void)
{
    enum { N = 2, NP = 3, D = 5 };
    float pe[N * NP * D], prefix[2 * D], pos[(NP + 2) * D], x[N * (NP + 2) * D];
    test_fill(pe, sizeof pe / sizeof pe[0], 1.0f);
    test_fill(prefix, sizeof prefix / sizeof prefix[0], 1.0f);
    test_fill(pos, sizeof pos / sizeof pos[0], 1.0f);
    for (size_t pre = 0; pre <= 2; pre++) {
        size_t T = NP + pre;
        vitc_kernels_assemble_prefix(pe, prefix, pre, pos, N, NP, D, x);
        int bad = 0;
        for (size_t i = 0; i < N; i++) {
            for (size_t t = 0; t < T; t++) {
                for (size_t d = 0; d < D; d++) {
                    float src = t < pre ? prefix[t * D + d] : pe[(i * NP + t - pre) * D + d];
                    bad += x[(i * T + t) * D + d] != src + pos[t * D + d];
                }
            }
        }
        CHECKF(bad == 0, "n_prefix %zu: %d wrong", pre, bad);
    }
    /* n_prefix 1 is the existing op's layout. */
    float y[N * (NP + 1) * D];
    vitc_kernels_assemble_prefix(pe, prefix, 1, pos, N, NP, D, x);
    vitc_kernels_assemble_tokens(pe, prefix, pos, N, NP, D, y);
    CHECK(memcmp(x, y, sizeof y) == 0);
}

static void test_swiglu(void)
{
    enum { R = 3, I = 37 };
    float x[R * 2 * I], y[R * I];
    test_fill(x, R * 2 * I, 6.0f);
    vitc_kernels_swiglu(x, y, R, I);
    double worst = 0;
    for (size_t r = 0; r < R; r++) {
        for (size_t i = 0; i < I; i++) {
            double a = x[r * 2 * I + i], g = x[r * 2 * I + I + i];
            double want = a / (1.0 + exp(-a)) * g;
            double e = fabs(y[r * I + i] - want) / (fabs(want) + 1e-6);
            worst = e > worst ? e : worst;
        }
    }
    CHECKF(worst < 1e-5, "relative error %g", worst);
}

static void test_attention_pool(void)
{
    enum { N = 2, T = 11, H = 3, HD = 8, D = H * HD };
    float q[D], kv[N * T * 2 * D], out[N * D], work[T];
    test_fill(q, D, 1.0f);
    test_fill(kv, N * T * 2 * D, 1.0f);
    vitc_kernels_attention_pool(q, kv, out, N, T, H, HD, work);
    double worst = 0;
    for (size_t i = 0; i < N; i++) {
        for (size_t h = 0; h < H; h++) {
            double s[T], mx = -1e300, sum = 0;
            for (size_t t = 0; t < T; t++) {
                double dot = 0;
                for (size_t j = 0; j < HD; j++) {
                    dot += (double)q[h * HD + j] * kv[(i * T + t) * 2 * D + h * HD + j];
                }
                s[t] = dot / sqrt((double)HD);
                mx = s[t] > mx ? s[t] : mx;
            }
            for (size_t t = 0; t < T; t++) {
                s[t] = exp(s[t] - mx);
                sum += s[t];
            }
            for (size_t j = 0; j < HD; j++) {
                double want = 0;
                for (size_t t = 0; t < T; t++) {
                    want += s[t] / sum * kv[(i * T + t) * 2 * D + D + h * HD + j];
                }
                double e = fabs(out[i * D + h * HD + j] - want);
                worst = e > worst ? e : worst;
            }
        }
    }
    CHECKF(worst < 1e-6, "max abs error %g", worst);
}

/* PyTorch's bicubic with a scale factor, from its definition, in double:
 * src = (o + 0.5) / factor - 0.5, taps clamped, A = -0.75. */
static double cubic(double x)
{
    const double A = -0.75;
    x = fabs(x);
    if (x <= 1) {
        return ((A + 2) * x - (A + 3)) * x * x + 1;
    }
    return x < 2 ? ((A * x - 5 * A) * x + 8 * A) * x - 4 * A : 0;
}

static void test_pos_interpolate(void)
{
    enum { PRE = 1, N = 5, D = 3, G = 7 };
    float table[(PRE + N * N) * D], out[(PRE + G * G) * D];
    test_fill(table, sizeof table / sizeof table[0], 1.0f);
    vitc_pos_interpolate(table, PRE, N, D, G, G, out);
    CHECK(memcmp(out, table, PRE * D * sizeof(float)) == 0);
    double f = (G + 0.1) / N, worst = 0;
    for (int y = 0; y < G; y++) {
        for (int x = 0; x < G; x++) {
            double sy = (y + 0.5) / f - 0.5, sx = (x + 0.5) / f - 0.5;
            int iy = (int)floor(sy), ix = (int)floor(sx);
            for (int d = 0; d < D; d++) {
                double v = 0;
                for (int a = -1; a <= 2; a++) {
                    for (int b = -1; b <= 2; b++) {
                        int ry = iy + a < 0 ? 0 : iy + a > N - 1 ? N - 1 : iy + a;
                        int rx = ix + b < 0 ? 0 : ix + b > N - 1 ? N - 1 : ix + b;
                        v += cubic(sy - (iy + a)) * cubic(sx - (ix + b)) *
                             table[(PRE + ry * N + rx) * D + d];
                    }
                }
                double e = fabs(out[(PRE + y * G + x) * D + d] - v);
                worst = e > worst ? e : worst;
            }
        }
    }
    CHECKF(worst < 1e-5, "max abs error %g", worst);
}

int main(void)
{
    RUN(test_assemble_prefix);
    RUN(test_swiglu);
    RUN(test_attention_pool);
    RUN(test_pos_interpolate);
    return TEST_REPORT();
}
