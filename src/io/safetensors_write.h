/* SPDX-License-Identifier: MIT
 *
 * safetensors_write.h — a streaming writer for safetensors files of F32
 * tensors: declare every tensor, write the header, then stream each
 * tensor's data in header order without holding the whole file in memory.
 * I/O leaf; knows nothing of models. Reading lives elsewhere.
 *
 * File layout written: 8-byte little-endian header length N, N bytes of
 * compact JSON padded with spaces to a multiple of 8, then the raw data.
 * The JSON holds "__metadata__" first, then the tensors sorted by name
 * (byte order), each {"dtype":"F32","shape":[...],"data_offsets":[b,e]},
 * with the data contiguous in that same order.
 *
 * Usage:
 *     vitc_stw_open(path, false, &w);
 *     vitc_stw_add_metadata(w, "format", "pt");
 *     vitc_stw_add_tensor(w, name, ndim, shape);      (any order)
 *     vitc_stw_write_header(w);
 *     while (vitc_stw_next(w, &name, &n)) vitc_stw_write(w, data, count);
 *     vitc_stw_finish(w);            (or vitc_stw_abort(w) on any failure)
 */
#ifndef VITC_SAFETENSORS_WRITE_H
#define VITC_SAFETENSORS_WRITE_H

#include <stdbool.h>
#include <stddef.h>

#include "vitc.h"

#define VITC_STW_MAX_DIMS 8

struct vitc_stw;

/* Starts a file that will appear at `path` when vitc_stw_finish succeeds;
 * until then data goes to a temporary file beside it. With replace false,
 * finishing fails (VITC_ERR_IO) if `path` exists by then; with replace true
 * an existing file is replaced atomically. */
vitc_status vitc_stw_open(const char *path, bool replace, struct vitc_stw **out);

/* Adds a "__metadata__" string entry; entries keep the order they are added.
 * Only before vitc_stw_write_header. */
vitc_status vitc_stw_add_metadata(struct vitc_stw *w, const char *key, const char *value);

/* Declares an F32 tensor of shape[0..ndim-1] (ndim <= VITC_STW_MAX_DIMS).
 * Names must be unique. Only before vitc_stw_write_header. */
vitc_status vitc_stw_add_tensor(struct vitc_stw *w, const char *name, size_t ndim,
                                const size_t *shape);

/* Sorts the tensors, builds and writes the header. */
vitc_status vitc_stw_write_header(struct vitc_stw *w);

/* The tensor whose data is due next, in file order: its name (valid while w
 * lives) and element count. Moves past a tensor once all its data has been
 * written. Returns false when every tensor is complete. */
bool vitc_stw_next(struct vitc_stw *w, const char **name, size_t *n_elems);

/* Appends n floats (native order, stored little-endian) to the current
 * tensor; a call may not run past the end of that tensor. */
vitc_status vitc_stw_write(struct vitc_stw *w, const float *data, size_t n);

/* Checks every tensor is complete, flushes, closes and moves the file into
 * place. Frees w whatever the outcome; on failure the temporary is removed. */
vitc_status vitc_stw_finish(struct vitc_stw *w);

/* Discards the file being written and frees w. NULL-safe. */
void vitc_stw_abort(struct vitc_stw *w);

/* Room needed after a path for vitc_stw_create_temp's suffix and the NUL. */
#define VITC_STW_TEMP_SUFFIX_MAX 48

/* Creates a new file for writing named buf[0..n) + ".tmp.<pid>.<k>", writing
 * the name into buf (which has room for n + VITC_STW_TEMP_SUFFIX_MAX bytes).
 * Returns the descriptor, or -1 with errno set. Shared by writers that move a
 * finished file into place. */
int vitc_stw_create_temp(char *buf, size_t n);

#endif /* VITC_SAFETENSORS_WRITE_H */
