/* SPDX-License-Identifier: MIT
 *
 * st_writer.h — test-side tools to build checkpoints: read a safetensors
 * file into editable tensors, change them, write them back (optionally
 * misaligned), and round float32 to F16/BF16 (nearest even) independently
 * of the library. Included by test programs only; never by src/.
 */
#ifndef VITC_TEST_ST_WRITER_H
#define VITC_TEST_ST_WRITER_H

#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "io/safetensors.h"

static void write_file(const char *path, const void *bytes, size_t n)
{
    FILE *f = fopen(path, "wb");
    if (!f || fwrite(bytes, 1, n, f) != n) {
        fprintf(stderr, "cannot write %s\n", path);
        exit(1);
    }
    fclose(f);
}

/* ---- a safetensors writer for test checkpoints ---- */

struct wt {
    char name[128];
    const char *dtype;
    int ndim;
    uint64_t shape[8];
    uint8_t *data;
    size_t n_bytes;
};

struct wfile {
    struct wt t[96];
    size_t n;
};

/* Reads every tensor of the safetensors file at path into f (copies). */
static void wf_read(struct wfile *f, const char *path)
{
    struct vitc_safetensors *st = NULL;
    if (vitc_st_open(path, &st) != VITC_OK || st->n_tensors > 96) {
        fprintf(stderr, "%s: %s\n", path, vitc_last_error());
        exit(1);
    }
    f->n = st->n_tensors;
    for (size_t i = 0; i < st->n_tensors; i++) {
        const struct vitc_st_tensor *s = &st->tensors[i];
        struct wt *t = &f->t[i];
        snprintf(t->name, sizeof t->name, "%s", s->name);
        t->dtype = vitc_st_dtype_name(s->dtype);
        t->ndim = s->ndim;
        memcpy(t->shape, s->shape, sizeof t->shape);
        t->n_bytes = s->n_bytes;
        t->data = malloc(s->n_bytes + 1);
        memcpy(t->data, s->data, s->n_bytes);
    }
    vitc_st_close(st);
}

static void wf_free(struct wfile *f)
{
    for (size_t i = 0; i < f->n; i++) {
        free(f->t[i].data);
    }
    f->n = 0;
}

static struct wt *wf_get(struct wfile *f, const char *name)
{
    for (size_t i = 0; i < f->n; i++) {
        if (strcmp(f->t[i].name, name) == 0) {
            return &f->t[i];
        }
    }
    fprintf(stderr, "no tensor %s\n", name);
    exit(1);
}

static void wf_remove(struct wfile *f, const char *name)
{
    struct wt *t = wf_get(f, name);
    free(t->data);
    *t = f->t[--f->n];
}

static void wf_add(struct wfile *f, const char *name, const char *dtype, size_t n_bytes,
                   uint64_t dim0)
{
    struct wt *t = &f->t[f->n++];
    snprintf(t->name, sizeof t->name, "%s", name);
    t->dtype = dtype;
    t->ndim = 1;
    t->shape[0] = dim0;
    t->n_bytes = n_bytes;
    t->data = calloc(1, n_bytes + 1);
}

/* Writes f as dir/model.safetensors; the JSON header is padded with spaces
 * to a multiple of 8 plus `misalign` bytes. */
static void wf_write(const struct wfile *f, const char *dir, size_t misalign)
{
    char *hdr = malloc(1 << 16);
    size_t at = (size_t)sprintf(hdr, "{\"__metadata__\":{\"format\":\"pt\"}");
    size_t off = 0;
    for (size_t i = 0; i < f->n; i++) {
        const struct wt *t = &f->t[i];
        at += (size_t)sprintf(hdr + at, ",\"%s\":{\"dtype\":\"%s\",\"shape\":[", t->name, t->dtype);
        for (int d = 0; d < t->ndim; d++) {
            at +=
                (size_t)sprintf(hdr + at, "%s%llu", d ? "," : "", (unsigned long long)t->shape[d]);
        }
        at += (size_t)sprintf(hdr + at, "],\"data_offsets\":[%zu,%zu]}", off, off + t->n_bytes);
        off += t->n_bytes;
    }
    hdr[at++] = '}';
    while ((at % 8) != misalign) {
        hdr[at++] = ' ';
    }
    size_t size = 8 + at + off;
    uint8_t *b = malloc(size);
    for (int i = 0; i < 8; i++) {
        b[i] = (uint8_t)((uint64_t)at >> (8 * i));
    }
    memcpy(b + 8, hdr, at);
    off = 8 + at;
    for (size_t i = 0; i < f->n; i++) {
        memcpy(b + off, f->t[i].data, f->t[i].n_bytes);
        off += f->t[i].n_bytes;
    }
    char path[4400];
    snprintf(path, sizeof path, "%s/model.safetensors", dir);
    write_file(path, b, size);
    free(b);
    free(hdr);
}

/* ---- rounding to 16-bit floats (round to nearest even) ---- */

static uint32_t bits_of(float x)
{
    uint32_t u;
    memcpy(&u, &x, sizeof u);
    return u;
}

static uint16_t f32_to_f16(float x)
{
    uint32_t u = bits_of(x), sign = (u >> 16) & 0x8000u, a = u & 0x7fffffffu;
    if (a >= 0x7f800000u) {
        return (uint16_t)(sign | 0x7c00u | (a > 0x7f800000u ? 0x200u : 0));
    }
    if (a >= 0x477ff000u) { /* 65520 and up round to infinity */
        return (uint16_t)(sign | 0x7c00u);
    }
    if (a < 0x38800000u) { /* below 2^-14: a subnormal, in units of 2^-24 */
        return (uint16_t)(sign | (uint32_t)nearbyintf(fabsf(x) * 0x1p24f));
    }
    uint32_t h = (((a >> 23) - 112u) << 10) | ((a & 0x7fffffu) >> 13);
    uint32_t rest = a & 0x1fffu;
    if (rest > 0x1000u || (rest == 0x1000u && (h & 1u))) {
        h++;
    }
    return (uint16_t)(sign | h);
}

static uint16_t f32_to_bf16(float x)
{
    uint32_t u = bits_of(x);
    if ((u & 0x7fffffffu) > 0x7f800000u) {
        return (uint16_t)((u >> 16) | 0x40u);
    }
    return (uint16_t)((u + 0x7fffu + ((u >> 16) & 1u)) >> 16);
}

/* Re-encodes tensor t of F32 as F16 or BF16 in place. */
static void to_16(struct wt *t, int bf16)
{
    size_t n = t->n_bytes / 4;
    uint8_t *out = malloc(2 * n + 1);
    for (size_t i = 0; i < n; i++) {
        float x;
        memcpy(&x, t->data + 4 * i, 4);
        uint16_t h = bf16 ? f32_to_bf16(x) : f32_to_f16(x);
        out[2 * i] = (uint8_t)h;
        out[2 * i + 1] = (uint8_t)(h >> 8);
    }
    free(t->data);
    t->data = out;
    t->n_bytes = 2 * n;
    t->dtype = bf16 ? "BF16" : "F16";
}

#endif /* VITC_TEST_ST_WRITER_H */
