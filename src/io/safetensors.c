/* SPDX-License-Identifier: MIT
 *
 * safetensors.c — strict parser for the safetensors container, over a memory
 * buffer (vitc_st_parse, the fuzz entry point) or a read-only mapping of a
 * file (vitc_st_open). Every field of the JSON header is checked, and the
 * tensors must tile the data section exactly. I/O leaf: no ViT knowledge.
 */
#include "io/safetensors.h"

#include <errno.h>
#include <fcntl.h>
#include <jansson.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "base/err.h"

/* ---- dtypes ---- */

static const struct {
    const char *name;
    unsigned bits;
} dtype_table[VITC_ST_N_DTYPES] = {
    [VITC_ST_BOOL] = {"BOOL", 8},
    [VITC_ST_U8] = {"U8", 8},
    [VITC_ST_I8] = {"I8", 8},
    [VITC_ST_U16] = {"U16", 16},
    [VITC_ST_I16] = {"I16", 16},
    [VITC_ST_U32] = {"U32", 32},
    [VITC_ST_I32] = {"I32", 32},
    [VITC_ST_U64] = {"U64", 64},
    [VITC_ST_I64] = {"I64", 64},
    [VITC_ST_F16] = {"F16", 16},
    [VITC_ST_BF16] = {"BF16", 16},
    [VITC_ST_F32] = {"F32", 32},
    [VITC_ST_F64] = {"F64", 64},
    [VITC_ST_C64] = {"C64", 64},
    [VITC_ST_F8_E4M3] = {"F8_E4M3", 8},
    [VITC_ST_F8_E5M2] = {"F8_E5M2", 8},
    [VITC_ST_F8_E8M0] = {"F8_E8M0", 8},
    [VITC_ST_F8_E4M3FNUZ] = {"F8_E4M3FNUZ", 8},
    [VITC_ST_F8_E5M2FNUZ] = {"F8_E5M2FNUZ", 8},
    [VITC_ST_F6_E2M3] = {"F6_E2M3", 6},
    [VITC_ST_F6_E3M2] = {"F6_E3M2", 6},
    [VITC_ST_F4] = {"F4", 4},
};

const char *vitc_st_dtype_name(enum vitc_st_dtype dtype)
{
    return (unsigned)dtype < VITC_ST_N_DTYPES ? dtype_table[dtype].name : "?";
}

unsigned vitc_st_dtype_bits(enum vitc_st_dtype dtype)
{
    return (unsigned)dtype < VITC_ST_N_DTYPES ? dtype_table[dtype].bits : 0;
}

static int dtype_from_name(const char *s, enum vitc_st_dtype *out)
{
    for (int i = 0; i < VITC_ST_N_DTYPES; i++) {
        if (strcmp(s, dtype_table[i].name) == 0) {
            *out = (enum vitc_st_dtype)i;
            return 1;
        }
    }
    return 0;
}

/* ---- header entries ---- */

/* A JSON integer that is >= 0, as a size_t. */
static int get_count(const json_t *v, size_t *out)
{
    if (!json_is_integer(v) || json_integer_value(v) < 0 ||
        (unsigned long long)json_integer_value(v) > SIZE_MAX) {
        return 0;
    }
    *out = (size_t)json_integer_value(v);
    return 1;
}

static vitc_status parse_metadata(const struct vitc_safetensors *st, const json_t *meta)
{
    const char *key;
    const json_t *val;
    if (!json_is_object(meta)) {
        return vitc_error(VITC_ERR_FORMAT, "%s: '__metadata__' is not a JSON object", st->name);
    }
    json_object_foreach ((json_t *)meta, key, val) {
        if (!json_is_string(val)) {
            return vitc_error(VITC_ERR_FORMAT, "%s: '__metadata__' value of '%s' is not a string",
                              st->name, key);
        }
    }
    return VITC_OK;
}

/* Checks one tensor entry and fills t (all but name and data). data_size is
 * the length of the data section. */
static vitc_status parse_entry(const struct vitc_safetensors *st, const char *name,
                               const json_t *entry, size_t data_size, struct vitc_st_tensor *t)
{
    const char *fname = st->name;
    if (!json_is_object(entry)) {
        return vitc_error(VITC_ERR_FORMAT, "%s: tensor '%s': entry is not a JSON object", fname,
                          name);
    }
    const char *key;
    const json_t *val;
    json_object_foreach ((json_t *)entry, key, val) {
        if (strcmp(key, "dtype") != 0 && strcmp(key, "shape") != 0 &&
            strcmp(key, "data_offsets") != 0) {
            return vitc_error(VITC_ERR_FORMAT, "%s: tensor '%s': unexpected key '%s'", fname, name,
                              key);
        }
    }
    const json_t *dtype = json_object_get(entry, "dtype");
    const json_t *shape = json_object_get(entry, "shape");
    const json_t *offs = json_object_get(entry, "data_offsets");
    if (!dtype || !shape || !offs) {
        return vitc_error(VITC_ERR_FORMAT, "%s: tensor '%s': missing '%s'", fname, name,
                          !dtype   ? "dtype"
                          : !shape ? "shape"
                                   : "data_offsets");
    }

    if (!json_is_string(dtype)) {
        return vitc_error(VITC_ERR_FORMAT, "%s: tensor '%s': 'dtype' is not a string", fname, name);
    }
    if (!dtype_from_name(json_string_value(dtype), &t->dtype)) {
        return vitc_error(VITC_ERR_FORMAT, "%s: tensor '%s': unknown dtype '%s'", fname, name,
                          json_string_value(dtype));
    }

    if (!json_is_array(shape)) {
        return vitc_error(VITC_ERR_FORMAT, "%s: tensor '%s': 'shape' is not an array", fname, name);
    }
    size_t ndim = json_array_size(shape);
    if (ndim > VITC_ST_MAX_DIMS) {
        return vitc_error(VITC_ERR_FORMAT,
                          "%s: tensor '%s': shape has %zu dims, at most %d allowed", fname, name,
                          ndim, VITC_ST_MAX_DIMS);
    }
    size_t n_elems = 1;
    for (size_t i = 0; i < ndim; i++) {
        size_t d;
        if (!get_count(json_array_get(shape, i), &d)) {
            return vitc_error(VITC_ERR_FORMAT,
                              "%s: tensor '%s': shape must hold non-negative integers (dim %zu)",
                              fname, name, i);
        }
        if (vitc_mul_size(n_elems, d, &n_elems)) {
            return vitc_error(VITC_ERR_FORMAT, "%s: tensor '%s': shape is too large", fname, name);
        }
        t->shape[i] = d;
    }
    t->ndim = (int)ndim;
    t->n_elems = n_elems;

    /* Sub-byte dtypes (F4, F6_*) are packed; a tensor must end on a byte. */
    size_t n_bits;
    if (vitc_mul_size(n_elems, vitc_st_dtype_bits(t->dtype), &n_bits)) {
        return vitc_error(VITC_ERR_FORMAT, "%s: tensor '%s': shape is too large", fname, name);
    }
    if (n_bits % 8 != 0) {
        return vitc_error(VITC_ERR_FORMAT,
                          "%s: tensor '%s': %zu elements of %s are not whole bytes", fname, name,
                          n_elems, vitc_st_dtype_name(t->dtype));
    }
    t->n_bytes = n_bits / 8;

    size_t begin, end;
    if (!json_is_array(offs) || json_array_size(offs) != 2 ||
        !get_count(json_array_get(offs, 0), &begin) || !get_count(json_array_get(offs, 1), &end)) {
        return vitc_error(VITC_ERR_FORMAT,
                          "%s: tensor '%s': 'data_offsets' must be [begin, end], non-negative "
                          "integers",
                          fname, name);
    }
    if (begin > end) {
        return vitc_error(VITC_ERR_FORMAT, "%s: tensor '%s': data_offsets [%zu, %zu] are reversed",
                          fname, name, begin, end);
    }
    if (end > data_size) {
        return vitc_error(VITC_ERR_FORMAT,
                          "%s: tensor '%s': data_offsets [%zu, %zu] run past the end of the data "
                          "section (%zu bytes)",
                          fname, name, begin, end, data_size);
    }
    if (end - begin != t->n_bytes) {
        return vitc_error(VITC_ERR_FORMAT,
                          "%s: tensor '%s': data_offsets span %zu bytes but %zu elements of %s "
                          "need %zu",
                          fname, name, end - begin, n_elems, vitc_st_dtype_name(t->dtype),
                          t->n_bytes);
    }
    t->offset = begin;
    return VITC_OK;
}

/* ---- layout checks ---- */

static int cmp_offset(const void *a, const void *b)
{
    const struct vitc_st_tensor *x = a, *y = b;
    if (x->offset != y->offset) {
        return x->offset < y->offset ? -1 : 1;
    }
    return (x->n_bytes > y->n_bytes) - (x->n_bytes < y->n_bytes);
}

static int cmp_name(const void *a, const void *b)
{
    return strcmp(((const struct vitc_st_tensor *)a)->name,
                  ((const struct vitc_st_tensor *)b)->name);
}

static int cmp_str(const void *a, const void *b)
{
    return strcmp(*(const char *const *)a, *(const char *const *)b);
}

/* The tensors, in offset order, must tile [0, data_size) with no gap and
 * no overlap: every byte of the file then belongs to exactly one tensor. */
static vitc_status check_tiling(const struct vitc_safetensors *st, size_t data_size)
{
    qsort(st->tensors, st->n_tensors, sizeof *st->tensors, cmp_offset);
    size_t at = 0;
    for (size_t i = 0; i < st->n_tensors; i++) {
        const struct vitc_st_tensor *t = &st->tensors[i];
        if (t->offset > at) {
            return vitc_error(VITC_ERR_FORMAT,
                              "%s: gap in the data section: bytes [%zu, %zu) belong to no tensor "
                              "(next is '%s')",
                              st->name, at, t->offset, t->name);
        }
        if (t->offset < at) {
            return vitc_error(VITC_ERR_FORMAT,
                              "%s: tensor '%s' overlaps tensor '%s' in the data section "
                              "(offset %zu)",
                              st->name, t->name, st->tensors[i - 1].name, t->offset);
        }
        at += t->n_bytes;
    }
    if (at != data_size) {
        return vitc_error(VITC_ERR_FORMAT,
                          "%s: data section is %zu bytes but the tensors cover %zu (%zu trailing "
                          "bytes)",
                          st->name, data_size, at, data_size - at);
    }
    return VITC_OK;
}

/* ---- parse ---- */

static char *pool_put(char **pool, const char *s)
{
    size_t n = strlen(s) + 1;
    char *at = *pool;
    memcpy(at, s, n);
    *pool += n;
    return at;
}

/* Fills st's tables from the parsed header; st->name/bytes/size are set. */
static vitc_status build(struct vitc_safetensors *st, const json_t *root, size_t data_size)
{
    const json_t *meta = json_object_get(root, "__metadata__");
    const char *key;
    const json_t *val;
    size_t pool_size = 0;
    vitc_status s;

    if (meta) {
        s = parse_metadata(st, meta);
        if (s != VITC_OK) {
            return s;
        }
        st->n_meta = json_object_size(meta);
        json_object_foreach ((json_t *)meta, key, val) {
            if (vitc_add_size(pool_size, strlen(key) + 1, &pool_size) ||
                vitc_add_size(pool_size, strlen(json_string_value(val)) + 1, &pool_size)) {
                return vitc_error(VITC_ERR_FORMAT, "%s: header is too large", st->name);
            }
        }
    }
    st->n_tensors = json_object_size(root) - (meta ? 1 : 0);
    json_object_foreach ((json_t *)root, key, val) {
        if (vitc_add_size(pool_size, strlen(key) + 1, &pool_size)) {
            return vitc_error(VITC_ERR_FORMAT, "%s: header is too large", st->name);
        }
    }

    st->tensors = vitc_mem_calloc(st->n_tensors, sizeof *st->tensors);
    st->meta_keys = vitc_mem_calloc(st->n_meta, sizeof *st->meta_keys);
    st->meta_values = vitc_mem_calloc(st->n_meta, sizeof *st->meta_values);
    st->strings = vitc_mem_alloc(pool_size);
    if (!st->tensors || !st->meta_keys || !st->meta_values || !st->strings) {
        return vitc_error(VITC_ERR_NOMEM, "%s: out of memory reading the header", st->name);
    }

    char *pool = st->strings;
    size_t i = 0;
    json_object_foreach ((json_t *)root, key, val) {
        if (strcmp(key, "__metadata__") == 0) {
            continue;
        }
        struct vitc_st_tensor *t = &st->tensors[i++];
        s = parse_entry(st, key, val, data_size, t);
        if (s != VITC_OK) {
            return s;
        }
        t->name = pool_put(&pool, key);
        t->data = st->bytes + 8 + st->header_size + t->offset;
    }
    if (meta) {
        i = 0;
        json_object_foreach ((json_t *)meta, key, val) {
            st->meta_keys[i++] = pool_put(&pool, key);
        }
        qsort(st->meta_keys, st->n_meta, sizeof *st->meta_keys, cmp_str);
        for (i = 0; i < st->n_meta; i++) {
            val = json_object_get(meta, st->meta_keys[i]);
            st->meta_values[i] = pool_put(&pool, json_string_value(val));
        }
    }

    s = check_tiling(st, data_size);
    if (s != VITC_OK) {
        return s;
    }
    qsort(st->tensors, st->n_tensors, sizeof *st->tensors, cmp_name);
    return VITC_OK;
}

vitc_status vitc_st_parse(const char *name, const void *bytes, size_t size,
                          struct vitc_safetensors **out)
{
    const uint8_t *p = bytes;
    struct vitc_safetensors *st = NULL;
    json_t *root = NULL;
    vitc_status s;

    if (!name || (!bytes && size) || !out) {
        return vitc_error(VITC_ERR_INVALID_ARG, "vitc_st_parse: NULL argument");
    }
    if (size < 8) {
        return vitc_error(VITC_ERR_FORMAT,
                          "%s: file is %zu bytes, too short for a safetensors header", name, size);
    }
    /* The header length is a little-endian u64, assembled byte by byte. */
    uint64_t n = 0;
    for (int i = 7; i >= 0; i--) {
        n = (n << 8) | p[i];
    }
    if (n == 0) {
        return vitc_error(VITC_ERR_FORMAT, "%s: header length is 0", name);
    }
    if (n > VITC_ST_MAX_HEADER) {
        return vitc_error(VITC_ERR_FORMAT, "%s: header length %llu is over the limit of %llu bytes",
                          name, (unsigned long long)n, (unsigned long long)VITC_ST_MAX_HEADER);
    }
    if (n > size - 8) {
        return vitc_error(VITC_ERR_FORMAT,
                          "%s: header length %llu runs past the end of the file (%zu bytes)", name,
                          (unsigned long long)n, size);
    }

    json_error_t jerr;
    root = json_loadb((const char *)p + 8, (size_t)n, JSON_REJECT_DUPLICATES, &jerr);
    if (!root) {
        switch (json_error_code(&jerr)) {
        case json_error_out_of_memory:
            return vitc_error(VITC_ERR_NOMEM, "%s: out of memory parsing the header", name);
        case json_error_duplicate_key:
            return vitc_error(VITC_ERR_FORMAT, "%s: header has a duplicate key: %s", name,
                              jerr.text);
        default:
            return vitc_error(VITC_ERR_FORMAT,
                              "%s: header is not valid JSON: %s (line %d, column %d)", name,
                              jerr.text, jerr.line, jerr.column);
        }
    }
    if (!json_is_object(root)) {
        s = vitc_error(VITC_ERR_FORMAT, "%s: header is not a JSON object", name);
        goto fail;
    }

    st = vitc_mem_calloc(1, sizeof *st);
    char *own_name = vitc_mem_strdup(name);
    if (!st || !own_name) {
        vitc_mem_free(own_name);
        s = vitc_error(VITC_ERR_NOMEM, "%s: out of memory", name);
        goto fail;
    }
    st->name = own_name;
    st->bytes = p;
    st->size = size;
    st->header_size = (size_t)n;
    s = build(st, root, size - 8 - (size_t)n);
    if (s != VITC_OK) {
        goto fail;
    }
    json_decref(root);
    *out = st;
    return VITC_OK;

fail:
    json_decref(root);
    vitc_st_close(st);
    return s;
}

/* ---- files ---- */

vitc_status vitc_st_open(const char *path, struct vitc_safetensors **out)
{
    int fd = -1;
    void *map = NULL;
    size_t size = 0;
    struct vitc_safetensors *st = NULL;
    vitc_status s;

    if (!path || !out) {
        return vitc_error(VITC_ERR_INVALID_ARG, "vitc_st_open: NULL argument");
    }
    fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) {
        return vitc_error(VITC_ERR_IO, "%s: cannot open: %s", path, strerror(errno));
    }
    struct stat sb;
    if (fstat(fd, &sb) != 0) {
        s = vitc_error(VITC_ERR_IO, "%s: cannot stat: %s", path, strerror(errno));
        goto done;
    }
    if (!S_ISREG(sb.st_mode)) {
        s = vitc_error(VITC_ERR_IO, "%s: not a regular file", path);
        goto done;
    }
    if ((unsigned long long)sb.st_size > SIZE_MAX) {
        s = vitc_error(VITC_ERR_UNSUPPORTED, "%s: file too large to map", path);
        goto done;
    }
    size = (size_t)sb.st_size;
    if (size < 8) {
        /* Too short for a header; mmap of 0 bytes fails, so read it plainly
         * and let the parser report it. */
        uint8_t small[8] = {0};
        ssize_t got = pread(fd, small, size, 0);
        s = vitc_st_parse(path, small, got > 0 ? (size_t)got : 0, &st);
        goto done;
    }
    map = mmap(NULL, size, PROT_READ, MAP_PRIVATE, fd, 0);
    if (map == MAP_FAILED) {
        map = NULL;
        s = vitc_error(VITC_ERR_IO, "%s: cannot map: %s", path, strerror(errno));
        goto done;
    }
    s = vitc_st_parse(path, map, size, &st);
    if (s == VITC_OK) {
        st->map = map;
        map = NULL;
        *out = st;
        st = NULL;
    }

done:
    if (map) {
        munmap(map, size);
    }
    vitc_st_close(st);
    close(fd);
    return s;
}

void vitc_st_release(const struct vitc_safetensors *st, const void *p, size_t bytes)
{
    long page = sysconf(_SC_PAGESIZE);
    if (!st || !st->map || page <= 0) {
        return;
    }
    uintptr_t lo = (uintptr_t)p, hi = lo + bytes;
    uintptr_t map_lo = (uintptr_t)st->bytes, map_hi = map_lo + st->size;
    if (lo < map_lo || hi > map_hi || hi < lo) {
        return;
    }
    uintptr_t a = (lo + (uintptr_t)page - 1) / (uintptr_t)page * (uintptr_t)page;
    uintptr_t b = hi / (uintptr_t)page * (uintptr_t)page;
    if (b > a) {
        madvise((void *)a, b - a, MADV_DONTNEED);
    }
}

void vitc_st_close(struct vitc_safetensors *st)
{
    if (!st) {
        return;
    }
    if (st->map) {
        munmap(st->map, st->size);
    }
    vitc_mem_free((void *)st->name);
    vitc_mem_free(st->tensors);
    vitc_mem_free(st->meta_keys);
    vitc_mem_free(st->meta_values);
    vitc_mem_free(st->strings);
    vitc_mem_free(st);
}

/* ---- lookup ---- */

const struct vitc_st_tensor *vitc_st_find(const struct vitc_safetensors *st, const char *name)
{
    if (!st || !name || st->n_tensors == 0) {
        return NULL;
    }
    struct vitc_st_tensor key = {.name = name};
    return bsearch(&key, st->tensors, st->n_tensors, sizeof *st->tensors, cmp_name);
}

const char *vitc_st_metadata(const struct vitc_safetensors *st, const char *key)
{
    if (!st || !key || st->n_meta == 0) {
        return NULL;
    }
    const char **hit = bsearch(&key, st->meta_keys, st->n_meta, sizeof *st->meta_keys, cmp_str);
    return hit ? st->meta_values[hit - st->meta_keys] : NULL;
}
