/* SPDX-License-Identifier: MIT
 *
 * safetensors.h — a strict reader of the safetensors format: an 8-byte
 * little-endian header length, a JSON header, then the raw tensor bytes.
 * I/O leaf: it validates the container (dtypes, shapes, offsets, coverage)
 * and hands out read-only views; it knows nothing of ViT tensor names.
 */
#ifndef VITC_SAFETENSORS_H
#define VITC_SAFETENSORS_H

#include <stddef.h>
#include <stdint.h>

#include "vitc.h"

/* Headers larger than this are refused before any parsing (100 MiB). */
#define VITC_ST_MAX_HEADER ((uint64_t)100 << 20)
#define VITC_ST_MAX_DIMS   8

/* Every dtype the safetensors specification names. Only F32, F16 and BF16
 * are usable as weights; the rest are parsed so that a file using them is
 * rejected by the loader with a precise message rather than here. */
enum vitc_st_dtype {
    VITC_ST_BOOL = 0,
    VITC_ST_U8,
    VITC_ST_I8,
    VITC_ST_U16,
    VITC_ST_I16,
    VITC_ST_U32,
    VITC_ST_I32,
    VITC_ST_U64,
    VITC_ST_I64,
    VITC_ST_F16,
    VITC_ST_BF16,
    VITC_ST_F32,
    VITC_ST_F64,
    VITC_ST_C64,
    VITC_ST_F8_E4M3,
    VITC_ST_F8_E5M2,
    VITC_ST_F8_E8M0,
    VITC_ST_F8_E4M3FNUZ,
    VITC_ST_F8_E5M2FNUZ,
    VITC_ST_F6_E2M3,
    VITC_ST_F6_E3M2,
    VITC_ST_F4,
    VITC_ST_N_DTYPES
};

struct vitc_st_tensor {
    const char *name;         /* owned by the vitc_safetensors            */
    enum vitc_st_dtype dtype;
    int ndim;                 /* 0 (a scalar) .. VITC_ST_MAX_DIMS         */
    uint64_t shape[VITC_ST_MAX_DIMS];
    uint64_t n_elems;         /* product of shape (1 for a scalar)        */
    const uint8_t *data;      /* n_bytes inside the borrowed buffer/mapping */
    size_t n_bytes;
    size_t offset;            /* data_offsets[0], from the data section's start */
};

struct vitc_safetensors {
    const char *name;         /* file name used in messages (owned)       */
    const uint8_t *bytes;     /* the whole file (borrowed or mapped)      */
    size_t size;
    void *map;                /* the mapping when opened from a file, else NULL */
    size_t header_size;       /* N: JSON bytes after the 8-byte length    */
    size_t n_tensors;
    struct vitc_st_tensor *tensors; /* (n_tensors) sorted by name         */
    size_t n_meta;
    const char **meta_keys;   /* (n_meta) __metadata__ keys, sorted       */
    const char **meta_values; /* (n_meta)                                 */
    char *strings;            /* one block holding every name/key/value   */
};

/* Parses and validates a safetensors image held in memory. The buffer is
 * borrowed: it must outlive the result and is never written. `name` is used
 * in messages. Free with vitc_st_close. */
vitc_status vitc_st_parse(const char *name, const void *bytes, size_t size,
                          struct vitc_safetensors **out);

/* Maps path read-only (PROT_READ, MAP_PRIVATE) and parses it; the mapping
 * belongs to the result. Messages name path. */
vitc_status vitc_st_open(const char *path, struct vitc_safetensors **out);

/* Drops the resident pages wholly inside [p, p + bytes) of a file mapping
 * (no-op for a borrowed buffer or a range outside the mapping). The mapping
 * is private and read-only, so a dropped page is read back from the file
 * (the page cache) if touched again: the loader uses it to keep resident only
 * what it is working on. */
void vitc_st_release(const struct vitc_safetensors *st, const void *p, size_t bytes);

/* Releases the tables and unmaps the file if it was mapped. NULL-safe. */
void vitc_st_close(struct vitc_safetensors *st);

/* The tensor called name, or NULL. Borrowed from st. */
const struct vitc_st_tensor *vitc_st_find(const struct vitc_safetensors *st, const char *name);

/* The __metadata__ value for key, or NULL. Borrowed from st. */
const char *vitc_st_metadata(const struct vitc_safetensors *st, const char *key);

/* "F32", "BF16", ... as written in the header. Static; never NULL. */
const char *vitc_st_dtype_name(enum vitc_st_dtype dtype);

/* Bits per element of a dtype (4 for F4, 6 for F6_*, 8..128 for the others). */
unsigned vitc_st_dtype_bits(enum vitc_st_dtype dtype);

#endif /* VITC_SAFETENSORS_H */
