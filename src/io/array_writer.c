/* SPDX-License-Identifier: MIT
 *
 * array_writer.c — vitc.h's streaming array writer: float32 rows appended to a
 * temporary file whose header is reserved up front, rewritten with the final
 * row count at commit, then renamed into place. Writes .npy (numpy's exact
 * bytes, header from npy.c) and one-tensor .safetensors (its rule: the JSON
 * MUST begin with '{' and MAY be trailing padded with spaces). I/O leaf.
 */
#include <errno.h>
#include <fcntl.h>
#include <jansson.h>
#include <stdint.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include "base/err.h"
#include "io/array_writer.h"
#include "io/safetensors_write.h"

/* Every byte count and shape entry must fit a signed 64-bit integer: file
 * offsets are off_t and the safetensors header stores them as JSON integers. */
#define AW_MAX_BYTES ((size_t)INT64_MAX)
/* The safetensors header is reserved for 19-digit numbers (INT64_MAX) in
 * place of the row count and the data size, the longest they can become. */
#define AW_PLACEHOLDER ((json_int_t)INT64_MAX)
/* Bytes converted per write on big-endian hosts. */
#define AW_SWAP_CHUNK 4096

enum aw_state { AW_OPEN, AW_DONE, AW_FAILED };

struct vitc_array_writer {
    vitc_array_format format; /* NPY or SAFETENSORS (AUTO resolved)             */
    char *path;               /* destination, used in messages                  */
    char *tmp_path;           /* temporary beside it; "" once gone              */
    char *name;               /* safetensors tensor name (NULL for .npy)        */
    json_t *meta;             /* safetensors "__metadata__" object, or NULL     */
    int fd;
    size_t ndim;                        /* 1 + ndim_tail                       */
    size_t shape[VITC_TENSOR_MAX_DIMS]; /* shape[0]: rows appended so far      */
    size_t row_bytes;                   /* bytes of one row                    */
    size_t max_rows;                    /* rows the byte limit allows          */
    size_t header_size;                 /* reserved header bytes, 0 until then */
    enum aw_state state;
};

/* ---- helpers ---- */

static int pwrite_full(int fd, const void *buf, size_t n, size_t off)
{
    const unsigned char *p = buf;
    while (n > 0) {
        ssize_t w = pwrite(fd, p, n, (off_t)off);
        if (w < 0) {
            if (errno == EINTR) {
                continue;
            }
            return -1;
        }
        p += w;
        n -= (size_t)w;
        off += (size_t)w;
    }
    return 0;
}

static int ends_with_ci(const char *s, const char *suffix)
{
    size_t n = strlen(s), m = strlen(suffix);
    return n >= m && strcasecmp(s + n - m, suffix) == 0;
}

/* Marks the writer failed and removes its temporary file; returns st. */
static vitc_status fail(vitc_array_writer *w, vitc_status st)
{
    w->state = AW_FAILED;
    if (w->fd >= 0) {
        close(w->fd);
        w->fd = -1;
    }
    if (w->tmp_path[0]) {
        unlink(w->tmp_path);
        w->tmp_path[0] = '\0';
    }
    return st;
}

/* ---- headers ---- */

/* The compact safetensors JSON header for `rows` rows of `bytes` data bytes; *out is
 * freed with free() (jansson's allocator). */
static vitc_status st_header_json(const vitc_array_writer *w, json_int_t rows, json_int_t bytes,
                                  char **out)
{
    json_t *root = json_object();
    json_t *t = json_object();
    json_t *shape = json_array();
    json_t *offs = json_array();
    vitc_status st = VITC_OK;
    int bad = !root || !t || !shape || !offs;

    bad = bad || (w->meta && json_object_size(w->meta) > 0 &&
                  json_object_set(root, "__metadata__", w->meta) != 0);
    bad = bad || json_object_set_new(t, "dtype", json_string("F32")) != 0;
    bad = bad || json_array_append_new(shape, json_integer(rows)) != 0;
    for (size_t i = 1; !bad && i < w->ndim; i++) {
        bad = json_array_append_new(shape, json_integer((json_int_t)w->shape[i])) != 0;
    }
    bad = bad || json_array_append_new(offs, json_integer(0)) != 0;
    bad = bad || json_array_append_new(offs, json_integer(bytes)) != 0;
    bad = bad || json_object_set(t, "shape", shape) != 0;
    bad = bad || json_object_set(t, "data_offsets", offs) != 0;
    if (bad) {
        st = vitc_error(VITC_ERR_NOMEM, "%s: out of memory building the header", w->path);
    } else if (json_object_set(root, w->name, t) != 0) {
        st = vitc_error(VITC_ERR_INVALID_ARG, "%s: tensor name is not valid UTF-8", w->path);
    } else if (!(*out = json_dumps(root, JSON_COMPACT | JSON_PRESERVE_ORDER))) {
        st = vitc_error(VITC_ERR_NOMEM, "%s: out of memory building the header", w->path);
    }
    json_decref(shape);
    json_decref(offs);
    json_decref(t);
    json_decref(root);
    return st;
}

/* Bytes to reserve for the header: its size for the largest counts, which a
 * real header, padded with spaces, always fits. */
static vitc_status reserve_size(const vitc_array_writer *w, size_t *out)
{
    if (w->format == VITC_ARRAY_NPY) {
        char buf[VITC_NPY_HEADER_MAX];
        *out = vitc_npy_format_header(buf, w->ndim, w->shape);
        return VITC_OK;
    }
    char *json = NULL;
    vitc_status st = st_header_json(w, AW_PLACEHOLDER, AW_PLACEHOLDER, &json);
    if (st == VITC_OK) {
        /* 8-byte length prefix, then JSON padded so the data starts 8-byte aligned. */
        *out = 8 + ((strlen(json) + 7) & ~(size_t)7);
        free(json);
    }
    return st;
}

/* Writes the header for the current row count at the start of the file, padded to the
 * reserved size. */
static vitc_status write_header(vitc_array_writer *w)
{
    if (w->format == VITC_ARRAY_NPY) {
        char buf[VITC_NPY_HEADER_MAX];
        size_t n = vitc_npy_format_header(buf, w->ndim, w->shape);
        if (pwrite_full(w->fd, buf, n, 0) != 0) {
            return vitc_error(VITC_ERR_IO, "%s: write failed: %s", w->path, strerror(errno));
        }
        return VITC_OK;
    }
    char *json = NULL;
    size_t rows = w->shape[0];
    vitc_status st = st_header_json(w, (json_int_t)rows, (json_int_t)(rows * w->row_bytes), &json);
    if (st != VITC_OK) {
        return st;
    }
    /* len <= padded: the reservation was sized for the longest numbers. */
    size_t len = strlen(json), padded = w->header_size - 8;
    unsigned char *buf = vitc_mem_alloc(w->header_size);
    if (!buf) {
        free(json);
        return vitc_error(VITC_ERR_NOMEM, "%s: out of memory for the header", w->path);
    }
    for (int i = 0; i < 8; i++) {
        buf[i] = (unsigned char)((uint64_t)padded >> (8 * i));
    }
    memcpy(buf + 8, json, len);
    memset(buf + 8 + len, ' ', padded - len);
    free(json);
    int rc = pwrite_full(w->fd, buf, w->header_size, 0);
    int err = errno;
    vitc_mem_free(buf);
    if (rc != 0) {
        return vitc_error(VITC_ERR_IO, "%s: write failed: %s", w->path, strerror(err));
    }
    return VITC_OK;
}

/* Reserves the header space (once), writing a valid header for the rows so far. */
static vitc_status ensure_header(vitc_array_writer *w)
{
    if (w->header_size) {
        return VITC_OK;
    }
    vitc_status st = reserve_size(w, &w->header_size);
    if (st == VITC_OK) {
        st = write_header(w);
    }
    return st;
}

/* ---- the public writer ---- */

vitc_status vitc_array_writer_open(const char *path, vitc_array_format format, const char *name,
                                   size_t ndim_tail, const size_t *shape_tail,
                                   vitc_array_writer **out)
{
    vitc_array_writer *w = NULL;
    vitc_status st = VITC_OK;

    if (!path || !*path || !out || (ndim_tail && !shape_tail)) {
        return vitc_error(VITC_ERR_INVALID_ARG, "vitc_array_writer_open: path, out and "
                                                "shape_tail are required");
    }
    if (path[strlen(path) - 1] == '/') {
        return vitc_error(VITC_ERR_INVALID_ARG, "%s: path names a directory", path);
    }
    if (ndim_tail >= VITC_TENSOR_MAX_DIMS) {
        return vitc_error(VITC_ERR_INVALID_ARG, "%s: %zu dimensions per row (at most %d)", path,
                          ndim_tail, VITC_TENSOR_MAX_DIMS - 1);
    }
    if (format == VITC_ARRAY_AUTO) {
        format = ends_with_ci(path, ".safetensors") ? VITC_ARRAY_SAFETENSORS : VITC_ARRAY_NPY;
    }
    if (format != VITC_ARRAY_NPY && format != VITC_ARRAY_SAFETENSORS) {
        return vitc_error(VITC_ERR_INVALID_ARG, "%s: unknown array format %d", path, (int)format);
    }
    if (format == VITC_ARRAY_SAFETENSORS &&
        (!name || !*name || strcmp(name, "__metadata__") == 0)) {
        return vitc_error(VITC_ERR_INVALID_ARG,
                          "%s: a .safetensors tensor needs a name other than __metadata__", path);
    }
    size_t row_bytes = sizeof(float);
    for (size_t i = 0; i < ndim_tail; i++) {
        if (shape_tail[i] > AW_MAX_BYTES || vitc_mul_size(row_bytes, shape_tail[i], &row_bytes) ||
            row_bytes > AW_MAX_BYTES) {
            return vitc_error(VITC_ERR_INVALID_ARG, "%s: row shape overflows", path);
        }
    }
    w = vitc_mem_calloc(1, sizeof *w);
    if (!w) {
        return vitc_error(VITC_ERR_NOMEM, "%s: out of memory", path);
    }
    w->fd = -1;
    w->format = format;
    w->ndim = 1 + ndim_tail;
    for (size_t i = 0; i < ndim_tail; i++) {
        w->shape[1 + i] = shape_tail[i];
    }
    w->row_bytes = row_bytes;
    w->max_rows = row_bytes ? AW_MAX_BYTES / row_bytes : AW_MAX_BYTES;
    size_t n = strlen(path), tmp_size = 0;
    w->path = vitc_mem_strdup(path);
    w->tmp_path = vitc_add_size(n, VITC_STW_TEMP_SUFFIX_MAX, &tmp_size) == 0
                      ? vitc_mem_alloc(tmp_size)
                      : NULL;
    w->name = format == VITC_ARRAY_SAFETENSORS ? vitc_mem_strdup(name) : NULL;
    if (w->tmp_path) {
        w->tmp_path[0] = '\0';
    }
    if (!w->path || !w->tmp_path || (format == VITC_ARRAY_SAFETENSORS && !w->name)) {
        st = vitc_error(VITC_ERR_NOMEM, "%s: out of memory", path);
        goto fail;
    }
    if (format == VITC_ARRAY_SAFETENSORS) {
        char *json = NULL; /* refuse a bad name now rather than at the first append */
        if ((st = st_header_json(w, 0, 0, &json)) != VITC_OK) {
            goto fail;
        }
        free(json);
    }
    memcpy(w->tmp_path, path, n);
    w->fd = vitc_stw_create_temp(w->tmp_path, n);
    if (w->fd < 0) {
        st = vitc_error(VITC_ERR_IO, "%s: cannot create a temporary file beside it: %s", path,
                        strerror(errno));
        w->tmp_path[0] = '\0';
        goto fail;
    }
    *out = w;
    return VITC_OK;

fail:
    vitc_array_writer_free(w);
    return st;
}

vitc_status vitc_array_writer_set_metadata(vitc_array_writer *w, const char *key, const char *value)
{
    if (!w || !key || !value) {
        return vitc_error(VITC_ERR_INVALID_ARG, "vitc_array_writer_set_metadata: NULL argument");
    }
    if (w->state != AW_OPEN || w->header_size) {
        return vitc_error(VITC_ERR_INVALID_ARG, "%s: metadata set after the first rows", w->path);
    }
    if (w->format == VITC_ARRAY_NPY) {
        return VITC_OK;
    }
    if (!w->meta && !(w->meta = json_object())) {
        return vitc_error(VITC_ERR_NOMEM, "%s: out of memory", w->path);
    }
    json_t *v = json_string(value);
    if (!v || json_object_set_new(w->meta, key, v) != 0) {
        return vitc_error(VITC_ERR_INVALID_ARG,
                          "%s: metadata '%s' is not valid UTF-8 (or out of memory)", w->path, key);
    }
    return VITC_OK;
}

vitc_status vitc_array_writer_append(vitc_array_writer *w, const float *rows, size_t n_rows)
{
    if (!w || (n_rows && !rows)) {
        return vitc_error(VITC_ERR_INVALID_ARG, "vitc_array_writer_append: NULL argument");
    }
    if (w->state != AW_OPEN) {
        return vitc_error(VITC_ERR_INVALID_ARG, "%s: writer already %s", w->path,
                          w->state == AW_DONE ? "committed" : "failed");
    }
    if (n_rows > w->max_rows - w->shape[0]) {
        return fail(
            w, vitc_error(VITC_ERR_INVALID_ARG, "%s: more than %zu rows", w->path, w->max_rows));
    }
    vitc_status st = ensure_header(w);
    if (st != VITC_OK) {
        return fail(w, st);
    }
    size_t off = w->header_size + w->shape[0] * w->row_bytes;
    size_t n = n_rows * w->row_bytes;
    int rc = 0;
#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_BIG_ENDIAN__
    /* Both formats store little-endian floats: swap through a small buffer. */
    for (size_t done = 0; rc == 0 && done < n;) {
        uint32_t buf[AW_SWAP_CHUNK / 4];
        size_t k = n - done < sizeof buf ? n - done : sizeof buf;
        memcpy(buf, (const unsigned char *)rows + done, k);
        for (size_t i = 0; i < k / 4; i++) {
            buf[i] = __builtin_bswap32(buf[i]);
        }
        rc = pwrite_full(w->fd, buf, k, off + done);
        done += k;
    }
#else
    rc = pwrite_full(w->fd, rows, n, off);
#endif
    if (rc != 0) {
        return fail(w, vitc_error(VITC_ERR_IO, "%s: write failed: %s", w->path, strerror(errno)));
    }
    w->shape[0] += n_rows;
    return VITC_OK;
}

size_t vitc_array_writer_rows(const vitc_array_writer *w)
{
    return w ? w->shape[0] : 0;
}

/* Makes the rename itself durable; some file systems refuse to sync a
 * directory, which costs nothing but durability, so failures are ignored. */
static void sync_parent_dir(const char *path)
{
    const char *slash = strrchr(path, '/');
    char dir[4096];
    if (!slash) {
        strcpy(dir, ".");
    } else if ((size_t)(slash - path) < sizeof dir) {
        size_t n = slash == path ? 1 : (size_t)(slash - path);
        memcpy(dir, path, n);
        dir[n] = '\0';
    } else {
        return;
    }
    int fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (fd >= 0) {
        fsync(fd);
        close(fd);
    }
}

vitc_status vitc_array_writer_commit(vitc_array_writer *w)
{
    if (!w) {
        return vitc_error(VITC_ERR_INVALID_ARG, "vitc_array_writer_commit: NULL writer");
    }
    if (w->state != AW_OPEN) {
        return vitc_error(VITC_ERR_INVALID_ARG, "%s: writer already %s", w->path,
                          w->state == AW_DONE ? "committed" : "failed");
    }
    vitc_status st = ensure_header(w);
    if (st == VITC_OK) {
        st = write_header(w);
    }
    if (st != VITC_OK) {
        return fail(w, st);
    }
    int rc = fsync(w->fd);
    int err = errno;
    if (close(w->fd) != 0 && rc == 0) {
        rc = -1;
        err = errno;
    }
    w->fd = -1;
    if (rc != 0) {
        return fail(w, vitc_error(VITC_ERR_IO, "%s: write failed: %s", w->path, strerror(err)));
    }
    if (rename(w->tmp_path, w->path) != 0) {
        return fail(
            w, vitc_error(VITC_ERR_IO, "%s: cannot move into place: %s", w->path, strerror(errno)));
    }
    w->tmp_path[0] = '\0';
    w->state = AW_DONE;
    sync_parent_dir(w->path);
    return VITC_OK;
}

void vitc_array_writer_free(vitc_array_writer *w)
{
    if (!w) {
        return;
    }
    if (w->fd >= 0) {
        close(w->fd);
    }
    if (w->tmp_path && w->tmp_path[0]) {
        unlink(w->tmp_path);
    }
    json_decref(w->meta);
    vitc_mem_free(w->path);
    vitc_mem_free(w->tmp_path);
    vitc_mem_free(w->name);
    vitc_mem_free(w);
}
