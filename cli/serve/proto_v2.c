/* SPDX-License-Identifier: MIT
 *
 * proto_v2.c — the KServe v2 / Open Inference Protocol inference request and response
 * (REST), with Triton's binary tensor data extension: a JSON header of
 * Inference-Header-Content-Length bytes, then each binary tensor's bytes in order.
 * Pure functions over bytes (see proto.h); no sockets, threads or model. CLI layer:
 * jansson and libc only.
 */
#include <errno.h>
#include <float.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "proto.h"

/* ---- messages and owned storage ---- */

int serve_failf(char *msg, size_t msg_size, const char *fmt, ...)
{
    if (msg && msg_size) {
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(msg, msg_size, fmt, ap);
        va_end(ap);
    }
    return -1;
}

/* Chunks a request owns (base64-decoded BYTES), freed together. */
struct chunk {
    struct chunk *next;
    uint8_t data[];
};

static uint8_t *storage_alloc(serve_request *r, size_t size)
{
    if (size > SIZE_MAX - sizeof(struct chunk)) {
        return NULL;
    }
    struct chunk *c = malloc(sizeof *c + size);
    if (!c) {
        return NULL;
    }
    c->next = r->storage;
    r->storage = c;
    return c->data;
}

void serve_request_free(serve_request *r)
{
    if (!r) {
        return;
    }
    free(r->id);
    for (size_t i = 0; i < r->n_inputs; i++) {
        free(r->inputs[i].name);
        free(r->inputs[i].bytes);
        free(r->inputs[i].fp32);
    }
    free(r->inputs);
    for (size_t i = 0; i < r->n_outputs; i++) {
        free(r->outputs[i].name);
    }
    free(r->outputs);
    for (struct chunk *c = r->storage, *next; c; c = next) {
        next = c->next;
        free(c);
    }
    memset(r, 0, sizeof *r);
}

/* ---- base64 (RFC 4648, standard alphabet, padding optional) ---- */

static int b64_value(unsigned char c)
{
    if (c >= 'A' && c <= 'Z') {
        return c - 'A';
    }
    if (c >= 'a' && c <= 'z') {
        return c - 'a' + 26;
    }
    if (c >= '0' && c <= '9') {
        return c - '0' + 52;
    }
    return c == '+' ? 62 : c == '/' ? 63 : -1;
}

/* Decodes src (len chars) into dst (room for len / 4 * 3 + 2 bytes). Returns the decoded
 * length, or -1 for a character outside the alphabet, misplaced padding or a lone
 * trailing character. */
static long b64_decode(const char *src, size_t len, uint8_t *dst)
{
    while (len > 0 && src[len - 1] == '=') {
        len--;
    }
    if (len % 4 == 1) {
        return -1;
    }
    size_t o = 0;
    uint32_t acc = 0;
    int bits = 0;
    for (size_t i = 0; i < len; i++) {
        int v = b64_value((unsigned char)src[i]);
        if (v < 0) {
            return -1;
        }
        acc = (acc << 6) | (uint32_t)v;
        bits += 6;
        if (bits >= 8) {
            bits -= 8;
            dst[o++] = (uint8_t)(acc >> bits);
        }
    }
    return (long)o;
}

/* ---- the JSON header ---- */

/* Counts the leaves of a (possibly nested) JSON array, up to limit + 1. */
static size_t count_leaves(const json_t *a, size_t limit)
{
    if (!json_is_array(a)) {
        return 1;
    }
    size_t n = 0;
    for (size_t i = 0; i < json_array_size(a) && n <= limit; i++) {
        n += count_leaves(json_array_get(a, i), limit - n);
    }
    return n;
}

/* Fills input `in` from its JSON "data", flat or nested, in row-major order. */
static int take_json_leaf(serve_request *r, serve_input *in, const json_t *v, size_t *k, char *msg,
                          size_t msg_size)
{
    size_t i = (*k)++;
    if (in->dtype == SERVE_DTYPE_FP32) {
        if (!json_is_number(v)) {
            return serve_failf(msg, msg_size, "input '%s': data element %zu is not a number",
                               in->name, i);
        }
        double d = json_number_value(v);
        if (!(fabs(d) <= FLT_MAX)) {
            return serve_failf(msg, msg_size,
                               "input '%s': data element %zu (%g) is outside float32", in->name, i,
                               d);
        }
        in->fp32[i] = (float)d;
        return 0;
    }
    if (!json_is_string(v)) {
        return serve_failf(
            msg, msg_size,
            "input '%s': data element %zu is not a string (BYTES in JSON are base64 text)",
            in->name, i);
    }
    const char *s = json_string_value(v);
    size_t len = json_string_length(v);
    uint8_t *dst = storage_alloc(r, len / 4 * 3 + 3);
    if (!dst) {
        return serve_failf(msg, msg_size, "out of memory");
    }
    long n = b64_decode(s, len, dst);
    if (n < 0) {
        return serve_failf(msg, msg_size, "input '%s': data element %zu is not valid base64",
                           in->name, i);
    }
    in->bytes[i] = (serve_blob){dst, (size_t)n};
    return 0;
}

static int take_json_data(serve_request *r, serve_input *in, const json_t *a, size_t *k, char *msg,
                          size_t msg_size)
{
    if (!json_is_array(a)) {
        return take_json_leaf(r, in, a, k, msg, msg_size);
    }
    for (size_t i = 0; i < json_array_size(a); i++) {
        if (take_json_data(r, in, json_array_get(a, i), k, msg, msg_size) < 0) {
            return -1;
        }
    }
    return 0;
}

static int alloc_elems(serve_input *in, char *msg, size_t msg_size)
{
    if (in->dtype == SERVE_DTYPE_FP32) {
        /* 64-byte alignment: the server hands these rows to the model as they are. */
        size_t bytes = (in->n_elems * sizeof(float) + 63) / 64 * 64;
        in->fp32 = aligned_alloc(64, bytes);
        if (!in->fp32) {
            return serve_failf(msg, msg_size, "out of memory for input '%s'", in->name);
        }
    } else {
        in->bytes = calloc(in->n_elems, sizeof *in->bytes);
        if (!in->bytes) {
            return serve_failf(msg, msg_size, "out of memory for input '%s'", in->name);
        }
    }
    return 0;
}

/* Reads one element of "inputs". *binary_size: parameters.binary_data_size, or
 * SIZE_MAX when the data is in the JSON. */
static int parse_input(serve_request *r, const json_t *j, size_t index, const serve_limits *lim,
                       serve_input *in, size_t *binary_size, char *msg, size_t msg_size)
{
    if (!json_is_object(j)) {
        return serve_failf(msg, msg_size, "inputs[%zu] is not an object", index);
    }
    const json_t *name = json_object_get(j, "name");
    if (!json_is_string(name) || json_string_length(name) == 0) {
        return serve_failf(msg, msg_size, "inputs[%zu] has no \"name\" string", index);
    }
    in->name = strdup(json_string_value(name));
    if (!in->name) {
        return serve_failf(msg, msg_size, "out of memory");
    }
    const json_t *dt = json_object_get(j, "datatype");
    if (!json_is_string(dt)) {
        return serve_failf(msg, msg_size, "input '%s' has no \"datatype\" string", in->name);
    }
    if (strcmp(json_string_value(dt), "BYTES") == 0) {
        in->dtype = SERVE_DTYPE_BYTES;
    } else if (strcmp(json_string_value(dt), "FP32") == 0) {
        in->dtype = SERVE_DTYPE_FP32;
    } else {
        return serve_failf(msg, msg_size,
                           "input '%s': datatype \"%.32s\" is not supported (BYTES images or FP32 "
                           "pixel_values)",
                           in->name, json_string_value(dt));
    }
    const json_t *shape = json_object_get(j, "shape");
    if (!json_is_array(shape) || json_array_size(shape) == 0 ||
        json_array_size(shape) > SERVE_MAX_DIMS) {
        return serve_failf(msg, msg_size,
                           "input '%s': \"shape\" must be an array of 1 to %d integers", in->name,
                           SERVE_MAX_DIMS);
    }
    in->ndim = json_array_size(shape);
    size_t n = 1;
    for (size_t d = 0; d < in->ndim; d++) {
        const json_t *v = json_array_get(shape, d);
        if (!json_is_integer(v) || json_integer_value(v) < 0) {
            return serve_failf(msg, msg_size,
                               "input '%s': shape[%zu] is not a non-negative integer", in->name, d);
        }
        in->shape[d] = json_integer_value(v);
        uint64_t dim = (uint64_t)in->shape[d];
        if (dim != 0 && n > lim->max_elems / dim) {
            return serve_failf(msg, msg_size,
                               "input '%s': shape holds more than %zu elements (the limit)",
                               in->name, lim->max_elems);
        }
        n *= (size_t)dim;
    }
    if (n == 0) {
        return serve_failf(msg, msg_size, "input '%s': shape holds no elements", in->name);
    }
    in->n_elems = n;

    *binary_size = SIZE_MAX;
    const json_t *params = json_object_get(j, "parameters");
    if (params && !json_is_object(params)) {
        return serve_failf(msg, msg_size, "input '%s': \"parameters\" is not an object", in->name);
    }
    const json_t *bds = params ? json_object_get(params, "binary_data_size") : NULL;
    const json_t *data = json_object_get(j, "data");
    if (bds) {
        if (!json_is_integer(bds) || json_integer_value(bds) < 0) {
            return serve_failf(msg, msg_size,
                               "input '%s': binary_data_size is not a non-negative integer",
                               in->name);
        }
        if (data) {
            return serve_failf(msg, msg_size, "input '%s' has both \"data\" and binary_data_size",
                               in->name);
        }
        *binary_size = (size_t)json_integer_value(bds);
        if ((json_int_t)*binary_size != json_integer_value(bds) || *binary_size == SIZE_MAX) {
            return serve_failf(msg, msg_size, "input '%s': binary_data_size is too large",
                               in->name);
        }
        return alloc_elems(in, msg, msg_size);
    }
    if (!data) {
        return serve_failf(msg, msg_size, "input '%s' has neither \"data\" nor binary_data_size",
                           in->name);
    }
    size_t leaves = count_leaves(data, n);
    if (leaves != n) {
        return serve_failf(msg, msg_size,
                           "input '%s': shape holds %zu elements but \"data\" has %s%zu", in->name,
                           n, leaves > n ? "more than " : "", leaves > n ? n : leaves);
    }
    if (alloc_elems(in, msg, msg_size) < 0) {
        return -1;
    }
    size_t k = 0;
    return take_json_data(r, in, data, &k, msg, msg_size);
}

static int parse_outputs(serve_request *r, const json_t *outs, char *msg, size_t msg_size)
{
    if (!json_is_array(outs)) {
        return serve_failf(msg, msg_size, "\"outputs\" is not an array");
    }
    size_t n = json_array_size(outs);
    if (n == 0) {
        return 0;
    }
    if (n > 16) {
        return serve_failf(msg, msg_size, "\"outputs\" names %zu tensors (at most 16)", n);
    }
    r->outputs = calloc(n, sizeof *r->outputs);
    if (!r->outputs) {
        return serve_failf(msg, msg_size, "out of memory");
    }
    for (size_t i = 0; i < n; i++) {
        const json_t *o = json_array_get(outs, i);
        const json_t *name = json_is_object(o) ? json_object_get(o, "name") : NULL;
        if (!json_is_string(name) || json_string_length(name) == 0) {
            return serve_failf(msg, msg_size, "outputs[%zu] has no \"name\" string", i);
        }
        serve_output_req *out = &r->outputs[r->n_outputs];
        out->name = strdup(json_string_value(name));
        if (!out->name) {
            return serve_failf(msg, msg_size, "out of memory");
        }
        r->n_outputs++;
        for (size_t e = 0; e < i; e++) {
            if (strcmp(r->outputs[e].name, out->name) == 0) {
                return serve_failf(msg, msg_size, "output '%s' is requested twice", out->name);
            }
        }
        const json_t *params = json_object_get(o, "parameters");
        if (params && !json_is_object(params)) {
            return serve_failf(msg, msg_size, "output '%s': \"parameters\" is not an object",
                               out->name);
        }
        const json_t *bin = params ? json_object_get(params, "binary_data") : NULL;
        if (bin && !json_is_boolean(bin)) {
            return serve_failf(msg, msg_size, "output '%s': binary_data is not true or false",
                               out->name);
        }
        out->binary = bin ? json_is_true(bin) : r->binary_data_output;
        const json_t *cc = params ? json_object_get(params, "classification") : NULL;
        if (cc) {
            return serve_failf(msg, msg_size,
                               "output '%s': the classification extension is not supported (use "
                               "/v2/models/NAME/classify)",
                               out->name);
        }
    }
    return 0;
}

/* ---- the binary section ---- */

static uint32_t le32(const uint8_t *p)
{
    return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

/* Takes input `in`'s binary_data_size bytes at p. */
static int take_binary(serve_input *in, const uint8_t *p, size_t size, char *msg, size_t msg_size)
{
    if (in->dtype == SERVE_DTYPE_FP32) {
        if (size / sizeof(float) != in->n_elems || size % sizeof(float) != 0) {
            return serve_failf(
                msg, msg_size,
                "input '%s': binary_data_size %zu does not hold the %zu FP32 values of "
                "its shape (%zu bytes)",
                in->name, size, in->n_elems, in->n_elems * sizeof(float));
        }
        for (size_t i = 0; i < in->n_elems; i++) {
            uint32_t u = le32(p + 4 * i);
            memcpy(&in->fp32[i], &u, sizeof u);
            if (!isfinite(in->fp32[i])) {
                return serve_failf(msg, msg_size, "input '%s': value %zu is not finite", in->name,
                                   i);
            }
        }
        return 0;
    }
    size_t off = 0;
    for (size_t i = 0; i < in->n_elems; i++) {
        if (size - off < 4) {
            return serve_failf(msg, msg_size,
                               "input '%s': binary_data_size %zu ends before element %zu of %zu "
                               "(its 4-byte length)",
                               in->name, size, i, in->n_elems);
        }
        size_t len = le32(p + off);
        off += 4;
        if (len > size - off) {
            return serve_failf(
                msg, msg_size,
                "input '%s': element %zu announces %zu bytes but binary_data_size %zu "
                "ends after %zu",
                in->name, i, len, size, size - off);
        }
        in->bytes[i] = (serve_blob){p + off, len};
        off += len;
    }
    if (off != size) {
        return serve_failf(
            msg, msg_size,
            "input '%s': its %zu elements take %zu bytes but binary_data_size is %zu", in->name,
            in->n_elems, off, size);
    }
    return 0;
}

/* ---- request ---- */

static int parse_request(const uint8_t *body, size_t size, size_t json_size,
                         const serve_limits *lim, serve_request *r, char *msg, size_t msg_size)
{
    if (json_size == SIZE_MAX) {
        json_size = size;
    }
    if (json_size > size) {
        return serve_failf(
            msg, msg_size,
            "Inference-Header-Content-Length %zu is larger than the body (%zu bytes)", json_size,
            size);
    }
    json_error_t jerr;
    json_t *root = json_loadb((const char *)body, json_size, JSON_REJECT_DUPLICATES, &jerr);
    if (!root) {
        return serve_failf(msg, msg_size, "request JSON: %s (line %d, column %d)", jerr.text,
                           jerr.line, jerr.column);
    }
    int rc = -1;
    size_t *binary_sizes = NULL;
    if (!json_is_object(root)) {
        serve_failf(msg, msg_size, "request JSON is not an object");
        goto out;
    }
    const json_t *id = json_object_get(root, "id");
    if (id) {
        if (!json_is_string(id)) {
            serve_failf(msg, msg_size, "\"id\" is not a string");
            goto out;
        }
        if (!(r->id = strdup(json_string_value(id)))) {
            serve_failf(msg, msg_size, "out of memory");
            goto out;
        }
    }
    const json_t *params = json_object_get(root, "parameters");
    if (params) {
        const json_t *bdo =
            json_is_object(params) ? json_object_get(params, "binary_data_output") : NULL;
        if (!json_is_object(params) || (bdo && !json_is_boolean(bdo))) {
            serve_failf(msg, msg_size,
                        "\"parameters\" is not an object with a boolean binary_data_output");
            goto out;
        }
        r->binary_data_output = bdo && json_is_true(bdo);
    }
    const json_t *inputs = json_object_get(root, "inputs");
    if (!json_is_array(inputs) || json_array_size(inputs) == 0) {
        serve_failf(msg, msg_size, "request has no \"inputs\" array");
        goto out;
    }
    size_t n_in = json_array_size(inputs);
    if (n_in > lim->max_inputs) {
        serve_failf(msg, msg_size, "request has %zu inputs (at most %zu)", n_in, lim->max_inputs);
        goto out;
    }
    r->inputs = calloc(n_in, sizeof *r->inputs);
    binary_sizes = calloc(n_in, sizeof *binary_sizes);
    if (!r->inputs || !binary_sizes) {
        serve_failf(msg, msg_size, "out of memory");
        goto out;
    }
    for (size_t i = 0; i < n_in; i++) {
        r->n_inputs++;
        if (parse_input(r, json_array_get(inputs, i), i, lim, &r->inputs[i], &binary_sizes[i], msg,
                        msg_size) < 0) {
            goto out;
        }
        for (size_t e = 0; e < i; e++) {
            if (strcmp(r->inputs[e].name, r->inputs[i].name) == 0) {
                serve_failf(msg, msg_size, "input '%s' appears twice", r->inputs[i].name);
                goto out;
            }
        }
    }
    const json_t *outs = json_object_get(root, "outputs");
    if (outs && parse_outputs(r, outs, msg, msg_size) < 0) {
        goto out;
    }
    /* The binary section: each binary input's bytes in input order, nothing else. */
    size_t off = json_size;
    for (size_t i = 0; i < n_in; i++) {
        if (binary_sizes[i] == SIZE_MAX) {
            continue;
        }
        if (binary_sizes[i] > size - off) {
            serve_failf(msg, msg_size,
                        "input '%s': binary_data_size %zu runs past the end of the body (%zu bytes "
                        "of binary data left)",
                        r->inputs[i].name, binary_sizes[i], size - off);
            goto out;
        }
        if (take_binary(&r->inputs[i], body + off, binary_sizes[i], msg, msg_size) < 0) {
            goto out;
        }
        off += binary_sizes[i];
    }
    if (off != size) {
        serve_failf(msg, msg_size,
                    json_size == size
                        ? "%zu bytes follow the JSON but no input has binary_data_size"
                        : "%zu bytes after the binary data belong to no input",
                    size - off);
        goto out;
    }
    rc = 0;
out:
    free(binary_sizes);
    json_decref(root);
    return rc;
}

int serve_request_parse(const uint8_t *body, size_t size, size_t json_size,
                        const serve_limits *limits, serve_request *out, char *msg, size_t msg_size)
{
    memset(out, 0, sizeof *out);
    if (parse_request(body, size, json_size, limits, out, msg, msg_size) < 0) {
        serve_request_free(out);
        return -1;
    }
    return 0;
}

/* ---- response ---- */

/* A growing byte buffer; `failed` sticks after the first allocation failure. */
typedef struct buf {
    uint8_t *data;
    size_t len, cap;
    int failed;
} buf;

static void buf_reserve(buf *b, size_t more)
{
    if (b->failed || more <= b->cap - b->len) {
        return;
    }
    size_t cap = b->cap ? b->cap : 256;
    while (cap - b->len < more) {
        if (cap > SIZE_MAX / 2) {
            b->failed = 1;
            return;
        }
        cap *= 2;
    }
    uint8_t *p = realloc(b->data, cap);
    if (!p) {
        b->failed = 1;
        return;
    }
    b->data = p;
    b->cap = cap;
}

static void buf_put(buf *b, const void *p, size_t n)
{
    buf_reserve(b, n);
    if (!b->failed) {
        memcpy(b->data + b->len, p, n);
        b->len += n;
    }
}

static void buf_puts(buf *b, const char *s)
{
    buf_put(b, s, strlen(s));
}

/* s as a JSON string literal; bytes that are not UTF-8 become U+FFFD, so any name
 * (a model directory, a file name) can be sent. */
static void buf_json_string(buf *b, const char *s)
{
    buf_puts(b, "\"");
    const unsigned char *p = (const unsigned char *)s;
    while (*p) {
        unsigned c = *p;
        size_t n = c < 0x80             ? 1
                   : (c & 0xE0) == 0xC0 ? 2
                   : (c & 0xF0) == 0xE0 ? 3
                   : (c & 0xF8) == 0xF0 ? 4
                                        : 0;
        int valid = n > 0;
        for (size_t k = 1; valid && k < n; k++) {
            valid = (p[k] & 0xC0) == 0x80;
        }
        if (valid && n > 1) {
            /* Overlong forms, surrogates and code points past U+10FFFF are not UTF-8. */
            uint32_t cp = n == 2   ? (c & 0x1Fu) << 6 | (p[1] & 0x3Fu)
                          : n == 3 ? (c & 0x0Fu) << 12 | (p[1] & 0x3Fu) << 6 | (p[2] & 0x3Fu)
                                   : (c & 0x07u) << 18 | (p[1] & 0x3Fu) << 12 |
                                         (p[2] & 0x3Fu) << 6 | (p[3] & 0x3Fu);
            static const uint32_t min_cp[5] = {0, 0, 0x80, 0x800, 0x10000};
            valid = cp >= min_cp[n] && cp <= 0x10FFFF && (cp < 0xD800 || cp > 0xDFFF);
        }
        if (!valid) {
            buf_puts(b, "\xEF\xBF\xBD");
            p++;
            continue;
        }
        if (c == '"' || c == '\\') {
            char esc[2] = {'\\', (char)c};
            buf_put(b, esc, 2);
        } else if (c < 0x20) {
            char esc[8];
            snprintf(esc, sizeof esc, "\\u%04x", c);
            buf_puts(b, esc);
        } else {
            buf_put(b, p, n);
        }
        p += n;
    }
    buf_puts(b, "\"");
}

/* The shortest decimal that reads back as the same float32 (at most 9 significant
 * digits always do); non-finite values, which JSON cannot carry, as null. */
static void buf_float(buf *b, float v)
{
    if (!isfinite(v)) {
        buf_puts(b, "null");
        return;
    }
    char s[32];
    for (int digits = 1; digits <= 9; digits++) {
        snprintf(s, sizeof s, "%.*g", digits, (double)v);
        if (strtof(s, NULL) == v) {
            break;
        }
    }
    buf_puts(b, s);
}

static void buf_size(buf *b, uint64_t v)
{
    char s[24];
    snprintf(s, sizeof s, "%llu", (unsigned long long)v);
    buf_puts(b, s);
}

static size_t output_elems(const serve_output *o)
{
    size_t n = 1;
    for (size_t d = 0; d < o->ndim; d++) {
        n *= (size_t)o->shape[d];
    }
    return n;
}

int serve_response_encode(const char *model_name, const char *model_version, const char *id,
                          const serve_output *outputs, size_t n_outputs, uint8_t **out,
                          size_t *out_size, size_t *json_size)
{
    buf b = {0};
    buf_puts(&b, "{\"model_name\":");
    buf_json_string(&b, model_name);
    buf_puts(&b, ",\"model_version\":");
    buf_json_string(&b, model_version ? model_version : "1");
    if (id) {
        buf_puts(&b, ",\"id\":");
        buf_json_string(&b, id);
    }
    buf_puts(&b, ",\"outputs\":[");
    for (size_t i = 0; i < n_outputs; i++) {
        const serve_output *o = &outputs[i];
        size_t n = output_elems(o);
        buf_puts(&b, i ? ",{\"name\":" : "{\"name\":");
        buf_json_string(&b, o->name);
        buf_puts(&b, ",\"datatype\":\"FP32\",\"shape\":[");
        for (size_t d = 0; d < o->ndim; d++) {
            if (d) {
                buf_puts(&b, ",");
            }
            buf_size(&b, (uint64_t)o->shape[d]);
        }
        if (o->binary) {
            buf_puts(&b, "],\"parameters\":{\"binary_data_size\":");
            buf_size(&b, (uint64_t)n * sizeof(float));
            buf_puts(&b, "}}");
            continue;
        }
        buf_puts(&b, "],\"data\":[");
        /* Each float takes at most 15 characters plus a comma. */
        buf_reserve(&b, n < SIZE_MAX / 16 ? n * 16 : SIZE_MAX);
        for (size_t k = 0; k < n && !b.failed; k++) {
            if (k) {
                buf_puts(&b, ",");
            }
            buf_float(&b, o->data[k]);
        }
        buf_puts(&b, "]}");
    }
    buf_puts(&b, "]}");
    size_t json_len = b.len;
    for (size_t i = 0; i < n_outputs; i++) {
        if (!outputs[i].binary) {
            continue;
        }
        size_t n = output_elems(&outputs[i]);
        buf_reserve(&b, n * sizeof(float));
        for (size_t k = 0; k < n && !b.failed; k++) {
            uint32_t u;
            memcpy(&u, &outputs[i].data[k], sizeof u);
            uint8_t le[4] = {(uint8_t)u, (uint8_t)(u >> 8), (uint8_t)(u >> 16), (uint8_t)(u >> 24)};
            buf_put(&b, le, 4);
        }
    }
    if (b.failed) {
        free(b.data);
        return -1;
    }
    *out = b.data;
    *out_size = b.len;
    *json_size = json_len;
    return 0;
}

char *serve_error_json(const char *message)
{
    buf b = {0};
    buf_puts(&b, "{\"error\":");
    buf_json_string(&b, message);
    buf_put(&b, "}", 2); /* with the terminating NUL */
    if (b.failed) {
        free(b.data);
        return NULL;
    }
    return (char *)b.data;
}
