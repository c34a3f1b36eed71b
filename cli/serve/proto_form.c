/* SPDX-License-Identifier: MIT
 *
 * proto_form.c — the plain routes' body formats of `vitc serve`: multipart/form-data
 * (RFC 7578 over RFC 2046's boundary rules) split into parts, and float32 arrays as the
 * .npy bytes numpy.save writes (header from libvitc). Pure functions over bytes (see
 * proto.h). CLI layer: <vitc.h> and libc only.
 */
#include <strings.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <vitc.h>

#include "proto.h"

/* RFC 2046: a boundary is 1 to 70 characters. */
#define BOUNDARY_MAX 70
/* Bounds on one part's header block, so a hostile body cannot make the parser scan or
 * copy without limit. */
#define PART_HEADER_LINES_MAX 16
#define PART_HEADER_BYTES_MAX 8192

/* ---- header values: `type/subtype; name=value; name="quoted value"` ---- */

static const char *skip_ws(const char *p, const char *end)
{
    while (p < end && (*p == ' ' || *p == '\t')) {
        p++;
    }
    return p;
}

/* Finds parameter `want` (case-insensitive) among the `;`-separated parameters in
 * [p, end) and copies its value (unquoted, backslash escapes resolved) into a new
 * string. Returns 1 found, 0 absent, -1 malformed or out of memory. */
static int header_param(const char *p, const char *end, const char *want, char **value)
{
    size_t want_len = strlen(want);
    while (p < end) {
        const char *semi = memchr(p, ';', (size_t)(end - p));
        if (!semi) {
            return 0;
        }
        p = skip_ws(semi + 1, end);
        const char *name = p;
        while (p < end && *p != '=' && *p != ';' && *p != ' ' && *p != '\t') {
            p++;
        }
        size_t name_len = (size_t)(p - name);
        p = skip_ws(p, end);
        if (p >= end || *p != '=') {
            continue;
        }
        p = skip_ws(p + 1, end);
        char *v = malloc((size_t)(end - p) + 1);
        if (!v) {
            return -1;
        }
        size_t n = 0;
        if (p < end && *p == '"') {
            for (p++; p < end && *p != '"'; p++) {
                if (*p == '\\' && p + 1 < end) {
                    p++;
                }
                v[n++] = *p;
            }
            if (p >= end) {
                free(v);
                return -1;
            }
            p++;
        } else {
            while (p < end && *p != ';' && *p != ' ' && *p != '\t') {
                v[n++] = *p++;
            }
        }
        v[n] = '\0';
        if (name_len == want_len && strncasecmp(name, want, want_len) == 0) {
            *value = v;
            return 1;
        }
        free(v);
    }
    return 0;
}

/* ---- multipart ---- */

void serve_parts_free(serve_part *parts, size_t n_parts)
{
    if (!parts) {
        return;
    }
    for (size_t i = 0; i < n_parts; i++) {
        free(parts[i].name);
        free(parts[i].filename);
    }
    free(parts);
}

/* Reads one part's header block at [p, end): lines up to the blank line. Fills name and
 * filename from Content-Disposition; *body_at: where the part's bytes start. */
static int part_headers(const uint8_t *p, const uint8_t *end, size_t index, serve_part *part,
                        const uint8_t **body_at, char *msg, size_t msg_size)
{
    const uint8_t *start = p;
    for (int line = 0;; line++) {
        size_t room = (size_t)(end - p);
        const uint8_t *eol = memmem(p, room, "\r\n", 2);
        if (!eol) {
            return serve_failf(msg, msg_size, "multipart part %zu: headers never end", index);
        }
        if (eol == p) {
            *body_at = p + 2;
            return 0;
        }
        if (line >= PART_HEADER_LINES_MAX || (size_t)(eol - start) > PART_HEADER_BYTES_MAX) {
            return serve_failf(msg, msg_size,
                               "multipart part %zu: more than %d header lines or %d bytes", index,
                               PART_HEADER_LINES_MAX, PART_HEADER_BYTES_MAX);
        }
        static const char cd[] = "content-disposition:";
        size_t len = (size_t)(eol - p);
        if (len >= sizeof cd - 1 && strncasecmp((const char *)p, cd, sizeof cd - 1) == 0) {
            const char *v = (const char *)p + sizeof cd - 1;
            const char *vend = (const char *)eol;
            if (memchr(v, '\0', (size_t)(vend - v))) {
                return serve_failf(msg, msg_size, "multipart part %zu: NUL in Content-Disposition",
                                   index);
            }
            free(part->name);
            free(part->filename);
            part->name = part->filename = NULL;
            if (header_param(v, vend, "name", &part->name) < 0 ||
                header_param(v, vend, "filename", &part->filename) < 0) {
                return serve_failf(msg, msg_size,
                                   "multipart part %zu: malformed Content-Disposition", index);
            }
        }
        p = eol + 2;
    }
}

int serve_multipart_parse(const char *content_type, const uint8_t *body, size_t size,
                          size_t max_parts, serve_part **parts, size_t *n_parts, char *msg,
                          size_t msg_size)
{
    *parts = NULL;
    *n_parts = 0;
    static const char mtype[] = "multipart/form-data";
    if (!content_type || strncasecmp(content_type, mtype, sizeof mtype - 1) != 0) {
        return serve_failf(msg, msg_size, "Content-Type is not multipart/form-data");
    }
    const char *ct_end = content_type + strlen(content_type);
    char *boundary = NULL;
    int found = header_param(content_type, ct_end, "boundary", &boundary);
    if (found <= 0 || !boundary[0] || strlen(boundary) > BOUNDARY_MAX) {
        free(boundary);
        return serve_failf(msg, msg_size,
                           "multipart/form-data without a boundary of 1 to %d characters",
                           BOUNDARY_MAX);
    }
    /* Delimiters: "--B" opening the body (after an optional preamble), "\r\n--B" later. */
    char delim[BOUNDARY_MAX + 5];
    size_t delim_len = (size_t)snprintf(delim, sizeof delim, "\r\n--%s", boundary);
    free(boundary);

    serve_part *list = NULL;
    size_t n = 0, cap = 0;
    const uint8_t *end = body + size;
    const uint8_t *p;
    if (size >= delim_len - 2 && memcmp(body, delim + 2, delim_len - 2) == 0) {
        p = body + delim_len - 2;
    } else {
        p = memmem(body, size, delim, delim_len);
        if (!p) {
            return serve_failf(msg, msg_size, "multipart body has no boundary line");
        }
        p += delim_len;
    }
    for (;;) {
        /* After a delimiter: "--" closes the body; else transport padding, then CRLF. */
        if (end - p >= 2 && p[0] == '-' && p[1] == '-') {
            break;
        }
        while (p < end && (*p == ' ' || *p == '\t')) {
            p++;
        }
        if (end - p < 2 || p[0] != '\r' || p[1] != '\n') {
            serve_parts_free(list, n);
            return serve_failf(msg, msg_size, "multipart part %zu: boundary line not ended by CRLF",
                               n);
        }
        p += 2;
        if (n == max_parts) {
            serve_parts_free(list, n);
            return serve_failf(msg, msg_size, "multipart body has more than %zu parts", max_parts);
        }
        if (n == cap) {
            size_t ncap = cap ? cap * 2 : 4;
            serve_part *grown = realloc(list, ncap * sizeof *grown);
            if (!grown) {
                serve_parts_free(list, n);
                return serve_failf(msg, msg_size, "out of memory");
            }
            list = grown;
            cap = ncap;
        }
        serve_part *part = &list[n++];
        memset(part, 0, sizeof *part);
        const uint8_t *data = NULL;
        if (part_headers(p, end, n - 1, part, &data, msg, msg_size) < 0) {
            serve_parts_free(list, n);
            return -1;
        }
        const uint8_t *next = memmem(data, (size_t)(end - data), delim, delim_len);
        if (!next) {
            serve_parts_free(list, n);
            return serve_failf(msg, msg_size, "multipart part %zu: no closing boundary", n - 1);
        }
        part->data = (serve_blob){data, (size_t)(next - data)};
        p = next + delim_len;
    }
    if (n == 0) {
        return serve_failf(msg, msg_size, "multipart body has no parts");
    }
    *parts = list;
    *n_parts = n;
    return 0;
}

/* ---- .npy bytes ---- */

int serve_npy_encode(const float *data, size_t ndim, const size_t *shape, uint8_t **out,
                     size_t *out_size)
{
    char header[VITC_NPY_HEADER_MAX];
    size_t header_len = vitc_npy_header(header, sizeof header, ndim, shape);
    if (header_len == 0) {
        return -1;
    }
    size_t n = 1;
    for (size_t d = 0; d < ndim; d++) {
        if (shape[d] != 0 && n > SIZE_MAX / 4 / shape[d]) {
            return -1;
        }
        n *= shape[d];
    }
    if (n * 4 > SIZE_MAX - header_len) {
        return -1;
    }
    uint8_t *b = malloc(header_len + n * 4);
    if (!b) {
        return -1;
    }
    memcpy(b, header, header_len);
    uint8_t *q = b + header_len;
    for (size_t i = 0; i < n; i++) {
        uint32_t u;
        memcpy(&u, &data[i], sizeof u);
        q[4 * i] = (uint8_t)u;
        q[4 * i + 1] = (uint8_t)(u >> 8);
        q[4 * i + 2] = (uint8_t)(u >> 16);
        q[4 * i + 3] = (uint8_t)(u >> 24);
    }
    *out = b;
    *out_size = header_len + n * 4;
    return 0;
}
