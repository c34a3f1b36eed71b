/* SPDX-License-Identifier: MIT
 *
 * rng.h — a small seeded random generator for reproducible random weights:
 * splitmix64 seeding into xoshiro256** (Blackman & Vigna), uniform doubles
 * from the top 53 bits, and normal samples by Box–Muller in double.
 * Header-only utility leaf; not a cryptographic generator, and no global state.
 */
#ifndef VITC_RNG_H
#define VITC_RNG_H

#include <math.h>
#include <stdint.h>

struct vitc_rng {
    uint64_t s[4];
    double spare; /* second Box–Muller sample, valid when has_spare */
    int has_spare;
};

/* splitmix64 step: advances *x and returns a well-mixed 64-bit value. Used to
 * expand one seed into xoshiro's 256-bit state (never all zero this way). */
static inline uint64_t vitc_rng_splitmix64(uint64_t *x)
{
    uint64_t z = (*x += 0x9e3779b97f4a7c15ull);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
    return z ^ (z >> 31);
}

static inline void vitc_rng_seed(struct vitc_rng *r, uint64_t seed)
{
    uint64_t x = seed;
    for (int i = 0; i < 4; i++) {
        r->s[i] = vitc_rng_splitmix64(&x);
    }
    r->spare = 0.0;
    r->has_spare = 0;
}

static inline uint64_t vitc_rng_rotl(uint64_t x, int k)
{
    return (x << k) | (x >> (64 - k));
}

/* xoshiro256**: the next 64 random bits. */
static inline uint64_t vitc_rng_u64(struct vitc_rng *r)
{
    uint64_t *s = r->s;
    uint64_t result = vitc_rng_rotl(s[1] * 5, 7) * 9;
    uint64_t t = s[1] << 17;
    s[2] ^= s[0];
    s[3] ^= s[1];
    s[1] ^= s[2];
    s[0] ^= s[3];
    s[2] ^= t;
    s[3] = vitc_rng_rotl(s[3], 45);
    return result;
}

/* Uniform double in (0, 1]: 53 random bits, offset by one step so log() in
 * Box–Muller never sees 0. Exact in double, so identical on every platform. */
static inline double vitc_rng_uniform(struct vitc_rng *r)
{
    return (double)((vitc_rng_u64(r) >> 11) + 1) * 0x1.0p-53;
}

/* Standard normal sample (Box–Muller, both outputs used). All arithmetic is
 * IEEE double; log/sin/cos come from libm, whose last-ulp differences across
 * implementations vanish once weights are rounded to float32 in practice. */
static inline double vitc_rng_normal(struct vitc_rng *r)
{
    if (r->has_spare) {
        r->has_spare = 0;
        return r->spare;
    }
    double u1 = vitc_rng_uniform(r);
    double u2 = vitc_rng_uniform(r);
    double rad = sqrt(-2.0 * log(u1));
    double theta = 6.283185307179586476925 * u2; /* 2*pi */
    r->spare = rad * sin(theta);
    r->has_spare = 1;
    return rad * cos(theta);
}

#endif /* VITC_RNG_H */
