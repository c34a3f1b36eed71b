/* SPDX-License-Identifier: MIT
 *
 * proto.h — the request and response formats of `vitc serve`, as pure functions over
 * bytes: the KServe v2 / Open Inference Protocol inference request (JSON, and Triton's
 * binary tensor data extension), its response, multipart/form-data bodies and .npy
 * bytes. No sockets, threads or model here (the server in serve*.c owns those), so each
 * decoder is unit-tested and fuzzed on its own. CLI layer: jansson and libc only.
 */
#ifndef VITC_CLI_SERVE_PROTO_H
#define VITC_CLI_SERVE_PROTO_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define SERVE_MAX_DIMS 8

/* Bytes borrowed from a request body (or from storage the request owns). */
typedef struct serve_blob {
    const uint8_t *data;
    size_t size;
} serve_blob;

typedef enum serve_dtype {
    SERVE_DTYPE_BYTES = 0, /* encoded images                                           */
    SERVE_DTYPE_FP32       /* pixel_values                                             */
} serve_dtype;

/* One tensor of an inference request. */
typedef struct serve_input {
    char *name; /* owned                                          */
    serve_dtype dtype;
    size_t ndim;
    int64_t shape[SERVE_MAX_DIMS]; /* (ndim) as sent; the product is n_elems          */
    size_t n_elems;
    serve_blob *bytes; /* (n_elems) BYTES elements, or NULL; the blobs
                          point into the body (binary form) or into
                          base64-decoded storage the request owns       */
    float *fp32;       /* (n_elems) FP32 values, or NULL; owned, aligned
                          (copied from the body: it may be unaligned)    */
} serve_input;

/* One output the client asked for. */
typedef struct serve_output_req {
    char *name;  /* owned                                          */
    bool binary; /* parameters.binary_data                         */
} serve_output_req;

/* A parsed POST /v2/models/{name}/infer body. */
typedef struct serve_request {
    char *id;            /* "id", or NULL; owned                           */
    serve_input *inputs; /* (n_inputs) owned                               */
    size_t n_inputs;
    serve_output_req *outputs; /* (n_outputs) owned; 0: the model's default      */
    size_t n_outputs;
    bool binary_data_output; /* parameters.binary_data_output: every output
                                binary unless it says otherwise              */
    void *storage;           /* decoded base64 and the like; owned            */
} serve_request;

/* Limits a decoder enforces before allocating for what a request announces. */
typedef struct serve_limits {
    size_t max_inputs; /* tensors in one request                         */
    size_t max_elems;  /* BYTES elements or FP32 values of one tensor    */
} serve_limits;

/* Parses a v2 inference request. body/size: the whole HTTP body; json_size: the value
 * of the Inference-Header-Content-Length header (the JSON part, binary tensor data
 * after it), or SIZE_MAX when the header is absent (the whole body is JSON).
 *
 * JSON data may be flat or nested (row-major); BYTES elements in JSON are base64 text,
 * since a JSON string cannot carry arbitrary bytes. In binary form an input has
 * parameters.binary_data_size and its bytes follow the JSON in input order: FP32 as
 * little-endian floats, BYTES as a 4-byte little-endian length before each element.
 * Everything is checked: known datatype (BYTES or FP32), shape product = element
 * count, binary sizes adding up to exactly the bytes after the JSON, lengths inside
 * their section, no duplicate input names, the limits.
 *
 * Returns 0 with *out filled (free with serve_request_free; the body must outlive it),
 * or -1 with a one-line reason in msg naming the input ("input 'images': shape [2]
 * holds 2 elements but binary_data_size 13 ends inside element 1") and *out zeroed. */
int serve_request_parse(const uint8_t *body, size_t size, size_t json_size,
                        const serve_limits *limits, serve_request *out, char *msg, size_t msg_size);

/* Frees what a request owns. NULL-safe; leaves *r zeroed. */
void serve_request_free(serve_request *r);

/* One tensor of a response: float32 data, row-major. */
typedef struct serve_output {
    const char *name;
    size_t ndim;
    int64_t shape[SERVE_MAX_DIMS]; /* (ndim)                                         */
    const float *data;             /* (product of shape)                             */
    bool binary;                   /* send as binary tensor data, else JSON numbers  */
} serve_output;

/* Encodes a v2 inference response:
 * {"model_name", "model_version", "id" (when not NULL), "outputs": [{"name",
 * "datatype": "FP32", "shape", "data" | "parameters": {"binary_data_size"}}]}
 * followed by the binary outputs' bytes in output order. Floats in JSON are written so
 * that they read back as the same float32 (shortest round-trip form).
 * *out: malloc'd, *out_size bytes; *json_size: the JSON part's length (the
 * Inference-Header-Content-Length to send when it is less than *out_size).
 * Returns 0, or -1 when memory is short. */
int serve_response_encode(const char *model_name, const char *model_version, const char *id,
                          const serve_output *outputs, size_t n_outputs, uint8_t **out,
                          size_t *out_size, size_t *json_size);

/* {"error": MESSAGE} as a malloc'd NUL-terminated string (the message JSON-escaped),
 * or NULL when memory is short. */
char *serve_error_json(const char *message);

/* One part of a multipart/form-data body. */
typedef struct serve_part {
    char *name;      /* the form field name, or NULL; owned            */
    char *filename;  /* the filename parameter, or NULL; owned         */
    serve_blob data; /* the part's bytes, borrowed from the body       */
} serve_part;

/* Splits a multipart/form-data body (RFC 7578) by the boundary named in content_type
 * (the Content-Type header value: quoted or plain boundary, case-insensitive
 * parameter names). Header lines inside parts are bounded; parts beyond max_parts,
 * a missing closing boundary, a part without a blank line after its headers, a
 * non-multipart content type: each an error. Returns 0 with *parts (n_parts of them;
 * free with serve_parts_free), or -1 with the reason in msg and *parts NULL. */
int serve_multipart_parse(const char *content_type, const uint8_t *body, size_t size,
                          size_t max_parts, serve_part **parts, size_t *n_parts, char *msg,
                          size_t msg_size);

void serve_parts_free(serve_part *parts, size_t n_parts);

/* A float32 array as the bytes numpy.save writes (format 1.0, '<f4', C order):
 * *out malloc'd, *out_size bytes. Returns 0, or -1 when memory is short or the
 * size overflows. */
int serve_npy_encode(const float *data, size_t ndim, const size_t *shape, uint8_t **out,
                     size_t *out_size);

/* Writes a printf-style message into msg (when msg_size > 0) and returns -1: how the
 * decoders here (and the server's validation) report a refusal in one statement. */
int serve_failf(char *msg, size_t msg_size, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

#endif /* VITC_CLI_SERVE_PROTO_H */
