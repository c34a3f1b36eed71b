/* SPDX-License-Identifier: MIT
 *
 * fuzz_serve_request.c — libFuzzer target for the request decoders of `vitc serve`
 * (cli/serve/proto_*.c, compiled in). The first byte picks the decoder: 'J' a v2
 * request whose whole body is JSON, 'B' a v2 request with the binary extension (the
 * next two bytes, little-endian, are Inference-Header-Content-Length), 'M' a
 * multipart/form-data body with boundary "b". Contracts: a refusal has a message and
 * leaves nothing allocated; an accepted request's blobs lie inside the body or its own
 * storage, its FP32 values are finite, and its FP32 inputs encode as a response that
 * jansson reads back; a multipart part lies inside the body.
 */
#include <math.h>

#include <jansson.h>

#include "fuzz.h"

#include "../cli/serve/proto_form.c"
#include "../cli/serve/proto_v2.c"

static void check_request(const serve_request *r, const uint8_t *body, size_t size)
{
    FUZZ_REQUIRE(r->n_inputs > 0 && r->inputs);
    for (size_t i = 0; i < r->n_inputs; i++) {
        const serve_input *in = &r->inputs[i];
        FUZZ_REQUIRE(in->name && in->name[0] && in->n_elems > 0);
        size_t n = 1;
        for (size_t d = 0; d < in->ndim; d++) {
            n *= (size_t)in->shape[d];
        }
        FUZZ_REQUIRE(n == in->n_elems);
        size_t sum = 0;
        if (in->dtype == SERVE_DTYPE_FP32) {
            FUZZ_REQUIRE(in->fp32 && !in->bytes);
            for (size_t k = 0; k < n; k++) {
                FUZZ_REQUIRE(isfinite(in->fp32[k]));
            }
            /* Echo it as a response: the JSON part must parse and hold n numbers. */
            serve_output o = {in->name, in->ndim, {0}, in->fp32, (size & 1) != 0};
            memcpy(o.shape, in->shape, sizeof o.shape);
            uint8_t *out = NULL;
            size_t out_size = 0, json_size = 0;
            if (serve_response_encode("m", NULL, r->id, &o, 1, &out, &out_size, &json_size) ==
                0) {
                json_t *j = json_loadb((const char *)out, json_size, 0, NULL);
                FUZZ_REQUIRE(j != NULL);
                json_t *o0 = json_array_get(json_object_get(j, "outputs"), 0);
                FUZZ_REQUIRE(o0 != NULL);
                if (o.binary) {
                    FUZZ_REQUIRE(out_size - json_size == n * sizeof(float));
                } else {
                    FUZZ_REQUIRE(json_array_size(json_object_get(o0, "data")) == n);
                }
                json_decref(j);
                free(out);
            }
        } else {
            FUZZ_REQUIRE(in->bytes && !in->fp32);
            for (size_t k = 0; k < n; k++) {
                const serve_blob *b = &in->bytes[k];
                int in_body = b->data >= body && b->data + b->size <= body + size;
                FUZZ_REQUIRE(in_body || b->size == 0 || r->storage != NULL);
                for (size_t q = 0; q < b->size; q++) {
                    sum += b->data[q];
                }
            }
        }
        fuzz_consume(sum);
    }
    for (size_t i = 0; i < r->n_outputs; i++) {
        FUZZ_REQUIRE(r->outputs[i].name && r->outputs[i].name[0]);
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1) {
        return 0;
    }
    const uint8_t mode = data[0];
    data++;
    size--;
    char msg[256];
    msg[0] = '\0';
    if (mode == 'M') {
        serve_part *parts = NULL;
        size_t n = 0;
        if (serve_multipart_parse("multipart/form-data; boundary=b", data, size, 8, &parts, &n,
                                  msg, sizeof msg) < 0) {
            FUZZ_REQUIRE(msg[0] != '\0' && parts == NULL && n == 0);
            return 0;
        }
        FUZZ_REQUIRE(n > 0 && n <= 8);
        for (size_t i = 0; i < n; i++) {
            const serve_blob *b = &parts[i].data;
            FUZZ_REQUIRE(b->data >= data && b->data + b->size <= data + size);
        }
        serve_parts_free(parts, n);
        return 0;
    }
    size_t json_size = SIZE_MAX;
    if (mode == 'B') {
        if (size < 2) {
            return 0;
        }
        json_size = (size_t)data[0] | (size_t)data[1] << 8;
        data += 2;
        size -= 2;
    } else if (mode != 'J') {
        return 0;
    }
    /* Copied so ASan sees any read past the body's end. */
    uint8_t *body = malloc(size ? size : 1);
    if (!body) {
        return 0;
    }
    memcpy(body, data, size);
    const serve_limits limits = {4, 4096};
    serve_request r;
    if (serve_request_parse(body, size, json_size, &limits, &r, msg, sizeof msg) < 0) {
        FUZZ_REQUIRE(msg[0] != '\0' && r.inputs == NULL && r.id == NULL && r.storage == NULL);
    } else {
        check_request(&r, body, size);
        serve_request_free(&r);
    }
    free(body);
    return 0;
}
