/* SPDX-License-Identifier: MIT
 *
 * safetensors_write.c — streaming safetensors writer (see safetensors_write.h):
 * the header is built with jansson, data is appended tensor by tensor to a
 * temporary file that is moved into place only once complete.
 * I/O leaf: no model knowledge, no whole-file buffer.
 */
#include "io/safetensors_write.h"

#include <errno.h>
#include <fcntl.h>
#include <jansson.h>
#include <limits.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "base/err.h"

/* Largest value a jansson integer holds (it stores json_int_t). */
#if JSON_INTEGER_IS_LONG_LONG
#define STW_JSON_INT_MAX LLONG_MAX
#else
#define STW_JSON_INT_MAX LONG_MAX
#endif

struct stw_tensor {
    char *name;
    size_t ndim;
    size_t shape[VITC_STW_MAX_DIMS];
    size_t n_elems;
};

struct stw_meta {
    char *key;
    char *value;
};

struct vitc_stw {
    char *path;     /* final destination, used in messages       */
    char *tmp_path; /* temporary file beside it                  */
    FILE *f;
    bool replace;
    struct stw_meta *meta; /* (n_meta)                                  */
    size_t n_meta, cap_meta;
    struct stw_tensor *t; /* (n_t), sorted by name once the header is out */
    size_t n_t, cap_t;
    bool header_written;
    size_t cur;      /* index of the tensor whose data is due      */
    size_t cur_done; /* elements of it already written            */
};

/* ---- building ---- */

/* O_EXCL picks a fresh k if a name is taken; mode 0666 lets the umask decide
 * the permissions, as for any new file (mkstemp would force 0600). */
int vitc_stw_create_temp(char *buf, size_t n)
{
    for (unsigned k = 0; k < 1000; k++) {
        snprintf(buf + n, VITC_STW_TEMP_SUFFIX_MAX, ".tmp.%ld.%u", (long)getpid(), k);
        int fd = open(buf, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0666);
        if (fd >= 0 || errno != EEXIST) {
            return fd;
        }
    }
    return -1;
}

vitc_status vitc_stw_open(const char *path, bool replace, struct vitc_stw **out)
{
    struct vitc_stw *w = NULL;
    int fd = -1;
    vitc_status st = VITC_OK;

    if (!path || !out) {
        return vitc_error(VITC_ERR_INVALID_ARG, "safetensors writer: NULL argument");
    }
    w = vitc_mem_calloc(1, sizeof *w);
    if (!w) {
        return vitc_error(VITC_ERR_NOMEM, "%s: out of memory", path);
    }
    w->replace = replace;
    size_t n = strlen(path);
    w->path = vitc_mem_strdup(path);
    /* Zeroed: vitc_stw_abort reads tmp_path[0] ("" = no temporary to unlink)
     * even when the path copy failed and no temporary was made. */
    w->tmp_path =
        n + VITC_STW_TEMP_SUFFIX_MAX > n ? vitc_mem_calloc(1, n + VITC_STW_TEMP_SUFFIX_MAX) : NULL;
    if (!w->path || !w->tmp_path) {
        st = vitc_error(VITC_ERR_NOMEM, "%s: out of memory", path);
        goto fail;
    }
    memcpy(w->tmp_path, path, n);
    fd = vitc_stw_create_temp(w->tmp_path, n);
    if (fd < 0) {
        st = vitc_error(VITC_ERR_IO, "%s: cannot create a temporary file beside it: %s", path,
                        strerror(errno));
        w->tmp_path[0] = '\0';
        goto fail;
    }
    w->f = fdopen(fd, "wb");
    if (!w->f) {
        st = vitc_error(VITC_ERR_IO, "%s: cannot open temporary file: %s", path, strerror(errno));
        close(fd);
        goto fail;
    }
    *out = w;
    return VITC_OK;

fail:
    vitc_stw_abort(w);
    return st;
}

vitc_status vitc_stw_add_metadata(struct vitc_stw *w, const char *key, const char *value)
{
    if (!w || !key || !value || w->header_written) {
        return vitc_error(VITC_ERR_INVALID_ARG, "safetensors writer: metadata after header");
    }
    if (w->n_meta == w->cap_meta) {
        size_t cap = w->cap_meta ? 2 * w->cap_meta : 8, bytes = 0;
        if (vitc_mul_size(cap, sizeof *w->meta, &bytes)) {
            return vitc_error(VITC_ERR_NOMEM, "%s: too much metadata", w->path);
        }
        struct stw_meta *m = vitc_mem_realloc(w->meta, bytes);
        if (!m) {
            return vitc_error(VITC_ERR_NOMEM, "%s: out of memory", w->path);
        }
        w->meta = m;
        w->cap_meta = cap;
    }
    struct stw_meta *m = &w->meta[w->n_meta];
    m->key = vitc_mem_strdup(key);
    m->value = vitc_mem_strdup(value);
    if (!m->key || !m->value) {
        vitc_mem_free(m->key);
        vitc_mem_free(m->value);
        return vitc_error(VITC_ERR_NOMEM, "%s: out of memory", w->path);
    }
    w->n_meta++;
    return VITC_OK;
}

vitc_status vitc_stw_add_tensor(struct vitc_stw *w, const char *name, size_t ndim,
                                const size_t *shape)
{
    if (!w || !name || (ndim && !shape) || w->header_written) {
        return vitc_error(VITC_ERR_INVALID_ARG, "safetensors writer: tensor after header");
    }
    if (ndim > VITC_STW_MAX_DIMS) {
        return vitc_error(VITC_ERR_INVALID_ARG, "%s: tensor '%s': %zu dimensions (max %d)", w->path,
                          name, ndim, VITC_STW_MAX_DIMS);
    }
    size_t n = 1, bytes = 0;
    for (size_t i = 0; i < ndim; i++) {
        if (vitc_mul_size(n, shape[i], &n)) {
            return vitc_error(VITC_ERR_INVALID_ARG, "%s: tensor '%s': size overflows", w->path,
                              name);
        }
    }
    if (vitc_mul_size(n, sizeof(float), &bytes)) {
        return vitc_error(VITC_ERR_INVALID_ARG, "%s: tensor '%s': size overflows", w->path, name);
    }
    if (w->n_t == w->cap_t) {
        size_t cap = w->cap_t ? 2 * w->cap_t : 64, total = 0;
        if (vitc_mul_size(cap, sizeof *w->t, &total)) {
            return vitc_error(VITC_ERR_NOMEM, "%s: too many tensors", w->path);
        }
        struct stw_tensor *t = vitc_mem_realloc(w->t, total);
        if (!t) {
            return vitc_error(VITC_ERR_NOMEM, "%s: out of memory", w->path);
        }
        w->t = t;
        w->cap_t = cap;
    }
    struct stw_tensor *t = &w->t[w->n_t];
    memset(t, 0, sizeof *t);
    t->name = vitc_mem_strdup(name);
    if (!t->name) {
        return vitc_error(VITC_ERR_NOMEM, "%s: out of memory", w->path);
    }
    t->ndim = ndim;
    for (size_t i = 0; i < ndim; i++) {
        t->shape[i] = shape[i];
    }
    t->n_elems = n;
    w->n_t++;
    return VITC_OK;
}

/* ---- header ---- */

static int cmp_tensor_name(const void *a, const void *b)
{
    return strcmp(((const struct stw_tensor *)a)->name, ((const struct stw_tensor *)b)->name);
}

/* Builds the compact header JSON; *out is freed with free() (jansson's). */
static vitc_status build_header(struct vitc_stw *w, char **out)
{
    json_t *root = json_object();
    vitc_status st = VITC_OK;
    size_t offset = 0;

    if (!root) {
        return vitc_error(VITC_ERR_NOMEM, "%s: out of memory building the header", w->path);
    }
    if (w->n_meta > 0) {
        json_t *meta = json_object();
        if (!meta || json_object_set_new(root, "__metadata__", meta) != 0) {
            st = vitc_error(VITC_ERR_NOMEM, "%s: out of memory building the header", w->path);
            goto done;
        }
        for (size_t i = 0; i < w->n_meta; i++) {
            json_t *v = json_string(w->meta[i].value);
            if (!v || json_object_set_new(meta, w->meta[i].key, v) != 0) {
                st = vitc_error(VITC_ERR_INVALID_ARG,
                                "%s: metadata '%s' is not valid UTF-8 (or out of memory)", w->path,
                                w->meta[i].key);
                goto done;
            }
        }
    }
    for (size_t i = 0; i < w->n_t; i++) {
        const struct stw_tensor *t = &w->t[i];
        size_t end = 0;
        if (vitc_add_size(offset, t->n_elems * sizeof(float), &end) ||
            end > (size_t)STW_JSON_INT_MAX) {
            st =
                vitc_error(VITC_ERR_INVALID_ARG, "%s: data larger than the format allows", w->path);
            goto done;
        }
        json_t *obj = json_object();
        json_t *shape = json_array();
        json_t *offs = json_array();
        int bad = !obj || !shape || !offs;
        bad = bad || json_object_set_new(obj, "dtype", json_string("F32")) != 0;
        for (size_t d = 0; !bad && d < t->ndim; d++) {
            bad = t->shape[d] > (size_t)STW_JSON_INT_MAX ||
                  json_array_append_new(shape, json_integer((json_int_t)t->shape[d])) != 0;
        }
        bad = bad || json_array_append_new(offs, json_integer((json_int_t)offset)) != 0;
        bad = bad || json_array_append_new(offs, json_integer((json_int_t)end)) != 0;
        if (!bad) {
            /* set_new takes ownership even on failure, so clear the locals first. */
            json_t *s = shape, *o = offs;
            shape = offs = NULL;
            bad = json_object_set_new(obj, "shape", s) != 0 ||
                  json_object_set_new(obj, "data_offsets", o) != 0;
        }
        json_decref(shape);
        json_decref(offs);
        if (bad) {
            json_decref(obj);
            st = vitc_error(VITC_ERR_NOMEM, "%s: out of memory building the header", w->path);
            goto done;
        }
        if (json_object_set_new(root, t->name, obj) != 0) {
            st = vitc_error(VITC_ERR_INVALID_ARG,
                            "%s: tensor name '%s' is not valid UTF-8 (or out of memory)", w->path,
                            t->name);
            goto done;
        }
        offset = end;
    }
    *out = json_dumps(root, JSON_COMPACT | JSON_PRESERVE_ORDER);
    if (!*out) {
        st = vitc_error(VITC_ERR_NOMEM, "%s: out of memory writing the header", w->path);
    }
done:
    json_decref(root);
    return st;
}

static vitc_status write_bytes(struct vitc_stw *w, const void *p, size_t n)
{
    if (n && fwrite(p, 1, n, w->f) != n) {
        return vitc_error(VITC_ERR_IO, "%s: write failed: %s", w->path, strerror(errno));
    }
    return VITC_OK;
}

vitc_status vitc_stw_write_header(struct vitc_stw *w)
{
    char *json = NULL;
    vitc_status st;

    if (!w || w->header_written) {
        return vitc_error(VITC_ERR_INVALID_ARG, "safetensors writer: header written twice");
    }
    if (w->n_t > 1) {
        qsort(w->t, w->n_t, sizeof *w->t, cmp_tensor_name);
    }
    for (size_t i = 1; i < w->n_t; i++) {
        if (strcmp(w->t[i - 1].name, w->t[i].name) == 0) {
            return vitc_error(VITC_ERR_INVALID_ARG, "%s: tensor '%s' declared twice", w->path,
                              w->t[i].name);
        }
    }
    st = build_header(w, &json);
    if (st != VITC_OK) {
        return st;
    }
    /* Pad with spaces so the data starts 8-byte aligned (8 + len is a multiple of 8). */
    size_t len = strlen(json), padded = (len + 7) & ~(size_t)7;
    unsigned char len_le[8];
    for (int i = 0; i < 8; i++) {
        len_le[i] = (unsigned char)((uint64_t)padded >> (8 * i));
    }
    static const char spaces[8] = "        ";
    st = write_bytes(w, len_le, sizeof len_le);
    if (st == VITC_OK) {
        st = write_bytes(w, json, len);
    }
    if (st == VITC_OK) {
        st = write_bytes(w, spaces, padded - len);
    }
    free(json);
    if (st == VITC_OK) {
        w->header_written = true;
    }
    return st;
}

/* ---- data ---- */

bool vitc_stw_next(struct vitc_stw *w, const char **name, size_t *n_elems)
{
    if (!w || !w->header_written) {
        return false;
    }
    while (w->cur < w->n_t && w->cur_done == w->t[w->cur].n_elems) {
        w->cur++;
        w->cur_done = 0;
    }
    if (w->cur == w->n_t) {
        return false;
    }
    if (name) {
        *name = w->t[w->cur].name;
    }
    if (n_elems) {
        *n_elems = w->t[w->cur].n_elems;
    }
    return true;
}

vitc_status vitc_stw_write(struct vitc_stw *w, const float *data, size_t n)
{
    if (!w || (n && !data) || !vitc_stw_next(w, NULL, NULL)) {
        return vitc_error(VITC_ERR_INVALID_ARG, "safetensors writer: no tensor is due");
    }
    const struct stw_tensor *t = &w->t[w->cur];
    if (n > t->n_elems - w->cur_done) {
        return vitc_error(VITC_ERR_INVALID_ARG, "%s: tensor '%s': %zu floats past its end", w->path,
                          t->name, n - (t->n_elems - w->cur_done));
    }
#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_BIG_ENDIAN__
    /* safetensors is little-endian: swap through a small stack buffer. */
    for (size_t done = 0; done < n;) {
        uint32_t buf[1024];
        size_t k = n - done < 1024 ? n - done : 1024;
        memcpy(buf, data + done, k * sizeof *buf);
        for (size_t i = 0; i < k; i++) {
            buf[i] = __builtin_bswap32(buf[i]);
        }
        vitc_status st = write_bytes(w, buf, k * sizeof *buf);
        if (st != VITC_OK) {
            return st;
        }
        done += k;
    }
#else
    vitc_status st = write_bytes(w, data, n * sizeof *data);
    if (st != VITC_OK) {
        return st;
    }
#endif
    w->cur_done += n;
    return VITC_OK;
}

/* ---- finishing ---- */

/* Moves the temporary into place. Without replace, link() refuses an existing
 * destination atomically; where hard links are unsupported, fall back to a
 * checked rename. */
static vitc_status place_file(struct vitc_stw *w)
{
    struct stat sb;
    if (w->replace) {
        if (rename(w->tmp_path, w->path) != 0) {
            return vitc_error(VITC_ERR_IO, "%s: cannot move into place: %s", w->path,
                              strerror(errno));
        }
        return VITC_OK;
    }
    if (link(w->tmp_path, w->path) == 0) {
        unlink(w->tmp_path);
        return VITC_OK;
    }
    if (errno == EEXIST) {
        return vitc_error(VITC_ERR_IO, "%s: already exists; refusing to overwrite", w->path);
    }
    if (lstat(w->path, &sb) == 0) {
        return vitc_error(VITC_ERR_IO, "%s: already exists; refusing to overwrite", w->path);
    }
    if (rename(w->tmp_path, w->path) != 0) {
        return vitc_error(VITC_ERR_IO, "%s: cannot move into place: %s", w->path, strerror(errno));
    }
    return VITC_OK;
}

vitc_status vitc_stw_finish(struct vitc_stw *w)
{
    vitc_status st = VITC_OK;

    if (!w) {
        return vitc_error(VITC_ERR_INVALID_ARG, "safetensors writer: NULL writer");
    }
    if (!w->header_written) {
        st = vitc_error(VITC_ERR_INVALID_ARG, "%s: finished before the header", w->path);
    } else if (vitc_stw_next(w, NULL, NULL)) {
        st = vitc_error(VITC_ERR_INVALID_ARG, "%s: tensor '%s' is incomplete", w->path,
                        w->t[w->cur].name);
    }
    if (st == VITC_OK) {
        int bad = fflush(w->f) != 0 || ferror(w->f);
        int err = errno;
        if (fclose(w->f) != 0 && !bad) {
            bad = 1;
            err = errno;
        }
        w->f = NULL;
        if (bad) {
            st = vitc_error(VITC_ERR_IO, "%s: write failed: %s", w->path, strerror(err));
        }
    }
    if (st == VITC_OK) {
        st = place_file(w);
    }
    if (st == VITC_OK) {
        w->tmp_path[0] = '\0'; /* nothing left to remove */
    }
    vitc_stw_abort(w);
    return st;
}

void vitc_stw_abort(struct vitc_stw *w)
{
    if (!w) {
        return;
    }
    if (w->f) {
        fclose(w->f);
    }
    if (w->tmp_path && w->tmp_path[0]) {
        unlink(w->tmp_path);
    }
    for (size_t i = 0; i < w->n_meta; i++) {
        vitc_mem_free(w->meta[i].key);
        vitc_mem_free(w->meta[i].value);
    }
    for (size_t i = 0; i < w->n_t; i++) {
        vitc_mem_free(w->t[i].name);
    }
    vitc_mem_free(w->meta);
    vitc_mem_free(w->t);
    vitc_mem_free(w->path);
    vitc_mem_free(w->tmp_path);
    vitc_mem_free(w);
}
