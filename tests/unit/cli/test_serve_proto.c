/* SPDX-License-Identifier: MIT
 *
 * test_serve_proto.c — the request and response formats of `vitc serve`
 * (cli/serve/proto_*.c, compiled in here: test programs link only libvitc):
 * v2 requests in JSON (flat, nested, base64 BYTES) and with the binary tensor
 * data extension, every malformed variant a client can send, responses that read
 * back as the same float32, multipart bodies, and .npy bytes equal to
 * vitc_npy_save's.
 */
#include "test.h"

#include <unistd.h>

#include "cli/serve/proto_form.c"
#include "cli/serve/proto_v2.c"

static const serve_limits limits = {8, 1u << 20};
static char msg[512];

static int parse(const char *json, serve_request *r)
{
    return serve_request_parse((const uint8_t *)json, strlen(json), SIZE_MAX, &limits, r, msg,
                               sizeof msg);
}

/* JSON text followed by binary bytes, as a client sends with the extension. */
static uint8_t *with_binary(const char *json, const void *bin, size_t bin_size, size_t *size)
{
    size_t n = strlen(json);
    uint8_t *b = malloc(n + bin_size);
    memcpy(b, json, n);
    memcpy(b + n, bin, bin_size);
    *size = n + bin_size;
    return b;
}

static void test_json_fp32_flat_and_nested(void)
{
    serve_request r;
    CHECK(parse("{\"id\":\"r1\",\"inputs\":[{\"name\":\"pixel_values\",\"datatype\":\"FP32\","
                "\"shape\":[1,2,2],\"data\":[[[1,2],[3.5,-4]]]}]}",
                &r) == 0);
    CHECK(r.id && strcmp(r.id, "r1") == 0);
    CHECK(r.n_inputs == 1 && r.inputs[0].dtype == SERVE_DTYPE_FP32);
    CHECK(r.inputs[0].n_elems == 4 && r.inputs[0].ndim == 3 && r.inputs[0].shape[2] == 2);
    CHECK(r.inputs[0].fp32[0] == 1.0f && r.inputs[0].fp32[2] == 3.5f &&
          r.inputs[0].fp32[3] == -4.0f);
    CHECK(((uintptr_t)r.inputs[0].fp32 & 63) == 0);
    CHECK(r.n_outputs == 0 && !r.binary_data_output);
    serve_request_free(&r);
    CHECK(parse("{\"inputs\":[{\"name\":\"x\",\"datatype\":\"FP32\",\"shape\":[3],"
                "\"data\":[0.1,2e-3,-7]}]}",
                &r) == 0);
    CHECK(r.id == NULL && r.inputs[0].fp32[0] == 0.1f && r.inputs[0].fp32[1] == 2e-3f);
    serve_request_free(&r);
    serve_request_free(&r); /* twice: zeroed after the first */
}

static void test_json_bytes_base64(void)
{
    serve_request r;
    /* "hello" and "" and "\xff\x00" */
    CHECK(parse("{\"inputs\":[{\"name\":\"images\",\"datatype\":\"BYTES\",\"shape\":[3],"
                "\"data\":[\"aGVsbG8=\",\"\",\"/wA\"]}],"
                "\"outputs\":[{\"name\":\"cls\",\"parameters\":{\"binary_data\":true}},"
                "{\"name\":\"logits\"}],\"parameters\":{\"binary_data_output\":false}}",
                &r) == 0);
    CHECK(r.inputs[0].dtype == SERVE_DTYPE_BYTES && r.inputs[0].n_elems == 3);
    CHECK(r.inputs[0].bytes[0].size == 5 && memcmp(r.inputs[0].bytes[0].data, "hello", 5) == 0);
    CHECK(r.inputs[0].bytes[1].size == 0);
    CHECK(r.inputs[0].bytes[2].size == 2 && r.inputs[0].bytes[2].data[0] == 0xff &&
          r.inputs[0].bytes[2].data[1] == 0);
    CHECK(r.n_outputs == 2 && strcmp(r.outputs[0].name, "cls") == 0 && r.outputs[0].binary);
    CHECK(!r.outputs[1].binary);
    serve_request_free(&r);
    /* binary_data_output makes every output binary unless it says otherwise. */
    CHECK(parse("{\"inputs\":[{\"name\":\"i\",\"datatype\":\"BYTES\",\"shape\":[1,1],"
                "\"data\":[[\"AA==\"]]}],\"parameters\":{\"binary_data_output\":true},"
                "\"outputs\":[{\"name\":\"a\"},{\"name\":\"b\",\"parameters\":"
                "{\"binary_data\":false}}]}",
                &r) == 0);
    CHECK(r.binary_data_output && r.outputs[0].binary && !r.outputs[1].binary);
    CHECK(r.inputs[0].bytes[0].size == 1 && r.inputs[0].bytes[0].data[0] == 0);
    serve_request_free(&r);
}

static void test_binary_extension(void)
{
    /* Two inputs: BYTES with two elements, then FP32 [2]; tritonclient's layout. */
    uint8_t bin[4 + 3 + 4 + 1 + 8];
    size_t o = 0;
    memcpy(bin + o, "\x03\0\0\0abc", 7);
    o += 7;
    memcpy(bin + o, "\x01\0\0\0z", 5);
    o += 5;
    float f[2] = {1.5f, -0.25f};
    memcpy(bin + o, f, 8); /* little-endian host */
    o += 8;
    const char *json = "{\"inputs\":[{\"name\":\"images\",\"datatype\":\"BYTES\",\"shape\":[2],"
                       "\"parameters\":{\"binary_data_size\":12}},{\"name\":\"pv\","
                       "\"datatype\":\"FP32\",\"shape\":[2],\"parameters\":"
                       "{\"binary_data_size\":8}}]}";
    size_t size;
    uint8_t *body = with_binary(json, bin, o, &size);
    serve_request r;
    CHECKF(serve_request_parse(body, size, strlen(json), &limits, &r, msg, sizeof msg) == 0, "%s",
           msg);
    CHECK(r.inputs[0].bytes[0].size == 3 && memcmp(r.inputs[0].bytes[0].data, "abc", 3) == 0);
    CHECK(r.inputs[0].bytes[1].size == 1 && r.inputs[0].bytes[1].data[0] == 'z');
    CHECK(r.inputs[1].fp32[0] == 1.5f && r.inputs[1].fp32[1] == -0.25f);
    serve_request_free(&r);

    /* Every cut of the binary section and every wrong header length is refused. */
    for (size_t cut = 0; cut < size; cut++) {
        int rc = serve_request_parse(body, cut, strlen(json), &limits, &r, msg, sizeof msg);
        CHECKF(rc == -1 && msg[0] && r.inputs == NULL, "cut at %zu", cut);
    }
    CHECK(serve_request_parse(body, size, strlen(json) + 1, &limits, &r, msg, sizeof msg) == -1);
    CHECK(serve_request_parse(body, size, size + 1, &limits, &r, msg, sizeof msg) == -1);
    CHECK(strstr(msg, "larger than the body") != NULL);
    CHECK(serve_request_parse(body, size, SIZE_MAX, &limits, &r, msg, sizeof msg) == -1);
    free(body);

    /* A length prefix pointing past its section. */
    memcpy(bin, "\x09\0\0\0", 4);
    body = with_binary(json, bin, o, &size);
    CHECK(serve_request_parse(body, size, strlen(json), &limits, &r, msg, sizeof msg) == -1);
    CHECKF(strstr(msg, "input 'images': element 0 announces 9 bytes") != NULL, "%s", msg);
    free(body);

    /* Bytes after the binary data that belong to no input. */
    memcpy(bin, "\x03\0\0\0", 4);
    uint8_t bigger[sizeof bin + 1];
    memcpy(bigger, bin, o);
    bigger[o] = 0;
    body = with_binary(json, bigger, o + 1, &size);
    CHECK(serve_request_parse(body, size, strlen(json), &limits, &r, msg, sizeof msg) == -1);
    CHECKF(strstr(msg, "belong to no input") != NULL, "%s", msg);
    free(body);

    /* A non-finite FP32 value. */
    float nan_bits[2] = {1.0f, NAN};
    const char *json2 = "{\"inputs\":[{\"name\":\"pv\",\"datatype\":\"FP32\",\"shape\":[2],"
                        "\"parameters\":{\"binary_data_size\":8}}]}";
    body = with_binary(json2, nan_bits, 8, &size);
    CHECK(serve_request_parse(body, size, strlen(json2), &limits, &r, msg, sizeof msg) == -1);
    CHECKF(strstr(msg, "not finite") != NULL, "%s", msg);
    free(body);
}

/* Each malformed request and the words its message must contain. */
static void test_malformed_requests(void)
{
    static const struct {
        const char *json, *want;
    } cases[] = {
        {"", "request JSON"},
        {"{\"inputs\":[", "request JSON"},
        {"[]", "not an object"},
        {"{}", "no \"inputs\""},
        {"{\"inputs\":[]}", "no \"inputs\""},
        {"{\"inputs\":{}}", "no \"inputs\""},
        {"{\"inputs\":[1]}", "inputs[0] is not an object"},
        {"{\"inputs\":[{\"datatype\":\"FP32\",\"shape\":[1],\"data\":[1]}]}", "no \"name\""},
        {"{\"inputs\":[{\"name\":\"\",\"datatype\":\"FP32\",\"shape\":[1],\"data\":[1]}]}",
         "no \"name\""},
        {"{\"inputs\":[{\"name\":\"x\",\"shape\":[1],\"data\":[1]}]}", "no \"datatype\""},
        {"{\"inputs\":[{\"name\":\"x\",\"datatype\":\"INT64\",\"shape\":[1],\"data\":[1]}]}",
         "datatype \"INT64\" is not supported"},
        {"{\"inputs\":[{\"name\":\"x\",\"datatype\":\"FP32\",\"data\":[1]}]}", "\"shape\""},
        {"{\"inputs\":[{\"name\":\"x\",\"datatype\":\"FP32\",\"shape\":[],\"data\":[1]}]}",
         "\"shape\""},
        {"{\"inputs\":[{\"name\":\"x\",\"datatype\":\"FP32\",\"shape\":[1,1,1,1,1,1,1,1,1],"
         "\"data\":[1]}]}",
         "\"shape\""},
        {"{\"inputs\":[{\"name\":\"x\",\"datatype\":\"FP32\",\"shape\":[-1],\"data\":[1]}]}",
         "shape[0]"},
        {"{\"inputs\":[{\"name\":\"x\",\"datatype\":\"FP32\",\"shape\":[1.5],\"data\":[1]}]}",
         "shape[0]"},
        {"{\"inputs\":[{\"name\":\"x\",\"datatype\":\"FP32\",\"shape\":[0],\"data\":[]}]}",
         "no elements"},
        {"{\"inputs\":[{\"name\":\"x\",\"datatype\":\"FP32\",\"shape\":[1048576,2],"
         "\"data\":[1]}]}",
         "the limit"},
        {"{\"inputs\":[{\"name\":\"x\",\"datatype\":\"FP32\",\"shape\":[4294967296,"
         "4294967296],\"data\":[1]}]}",
         "the limit"},
        {"{\"inputs\":[{\"name\":\"x\",\"datatype\":\"FP32\",\"shape\":[3],\"data\":[1,2]}]}",
         "shape holds 3 elements but \"data\" has 2"},
        {"{\"inputs\":[{\"name\":\"x\",\"datatype\":\"FP32\",\"shape\":[1],\"data\":[1,2]}]}",
         "has more than 1"},
        {"{\"inputs\":[{\"name\":\"x\",\"datatype\":\"FP32\",\"shape\":[1],\"data\":[\"a\"]}]}",
         "element 0 is not a number"},
        {"{\"inputs\":[{\"name\":\"x\",\"datatype\":\"FP32\",\"shape\":[1],\"data\":[1e39]}]}",
         "outside float32"},
        {"{\"inputs\":[{\"name\":\"x\",\"datatype\":\"BYTES\",\"shape\":[1],\"data\":[1]}]}",
         "base64"},
        {"{\"inputs\":[{\"name\":\"x\",\"datatype\":\"BYTES\",\"shape\":[1],\"data\":[\"a!==\"]}]}",
         "not valid base64"},
        {"{\"inputs\":[{\"name\":\"x\",\"datatype\":\"BYTES\",\"shape\":[1],\"data\":[\"a\"]}]}",
         "not valid base64"},
        {"{\"inputs\":[{\"name\":\"x\",\"datatype\":\"FP32\",\"shape\":[1]}]}",
         "neither \"data\" nor binary_data_size"},
        {"{\"inputs\":[{\"name\":\"x\",\"datatype\":\"FP32\",\"shape\":[1],\"data\":[1],"
         "\"parameters\":{\"binary_data_size\":4}}]}",
         "both"},
        {"{\"inputs\":[{\"name\":\"x\",\"datatype\":\"FP32\",\"shape\":[1],"
         "\"parameters\":{\"binary_data_size\":-4}}]}",
         "binary_data_size is not"},
        {"{\"inputs\":[{\"name\":\"x\",\"datatype\":\"FP32\",\"shape\":[1],"
         "\"parameters\":{\"binary_data_size\":4}}]}",
         "runs past the end"},
        {"{\"inputs\":[{\"name\":\"x\",\"datatype\":\"FP32\",\"shape\":[1],\"data\":[1]},"
         "{\"name\":\"x\",\"datatype\":\"FP32\",\"shape\":[1],\"data\":[1]}]}",
         "appears twice"},
        {"{\"inputs\":[{\"name\":\"x\",\"datatype\":\"FP32\",\"shape\":[1],\"data\":[1]}],"
         "\"outputs\":[{\"name\":\"a\"},{\"name\":\"a\"}]}",
         "requested twice"},
        {"{\"inputs\":[{\"name\":\"x\",\"datatype\":\"FP32\",\"shape\":[1],\"data\":[1]}],"
         "\"outputs\":[{}]}",
         "outputs[0]"},
        {"{\"inputs\":[{\"name\":\"x\",\"datatype\":\"FP32\",\"shape\":[1],\"data\":[1]}],"
         "\"outputs\":[{\"name\":\"a\",\"parameters\":{\"binary_data\":1}}]}",
         "binary_data is not"},
        {"{\"inputs\":[{\"name\":\"x\",\"datatype\":\"FP32\",\"shape\":[1],\"data\":[1]}],"
         "\"outputs\":[{\"name\":\"a\",\"parameters\":{\"classification\":3}}]}",
         "classification"},
        {"{\"inputs\":[{\"name\":\"x\",\"datatype\":\"FP32\",\"shape\":[1],\"data\":[1]}],"
         "\"parameters\":{\"binary_data_output\":\"yes\"}}",
         "binary_data_output"},
        {"{\"id\":5,\"inputs\":[{\"name\":\"x\",\"datatype\":\"FP32\",\"shape\":[1],"
         "\"data\":[1]}]}",
         "\"id\""},
        {"{\"inputs\":[{\"name\":\"x\",\"datatype\":\"FP32\",\"shape\":[1],\"data\":[1]}],"
         "\"inputs\":[]}",
         "request JSON"},
        {"{\"inputs\":[{\"name\":\"a\",\"datatype\":\"FP32\",\"shape\":[1],\"data\":[1]},"
         "{\"name\":\"b\",\"datatype\":\"FP32\",\"shape\":[1],\"data\":[1]},"
         "{\"name\":\"c\",\"datatype\":\"FP32\",\"shape\":[1],\"data\":[1]},"
         "{\"name\":\"d\",\"datatype\":\"FP32\",\"shape\":[1],\"data\":[1]},"
         "{\"name\":\"e\",\"datatype\":\"FP32\",\"shape\":[1],\"data\":[1]},"
         "{\"name\":\"f\",\"datatype\":\"FP32\",\"shape\":[1],\"data\":[1]},"
         "{\"name\":\"g\",\"datatype\":\"FP32\",\"shape\":[1],\"data\":[1]},"
         "{\"name\":\"h\",\"datatype\":\"FP32\",\"shape\":[1],\"data\":[1]},"
         "{\"name\":\"i\",\"datatype\":\"FP32\",\"shape\":[1],\"data\":[1]}]}",
         "9 inputs (at most 8)"},
        {"{\"inputs\":[{\"name\":\"x\",\"datatype\":\"FP32\",\"shape\":[1],\"data\":[1]}]}  xx",
         "request JSON"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        serve_request r;
        msg[0] = '\0';
        int rc = parse(cases[i].json, &r);
        CHECKF(rc == -1 && strstr(msg, cases[i].want) != NULL && r.inputs == NULL && r.id == NULL,
               "case %zu: rc %d, message \"%s\", want \"%s\"", i, rc, msg, cases[i].want);
    }
}

static void test_response_round_trips(void)
{
    float a[6] = {1.0f, -0.0f, 0.1f, 3.4028235e38f, 1.17549435e-38f, 1.4e-45f};
    float b[2] = {NAN, 2.5f};
    serve_output outs[2] = {
        {"pooler_output", 2, {2, 3}, a, false},
        {"logits", 1, {2}, b, true},
    };
    uint8_t *out = NULL;
    size_t size = 0, json_size = 0;
    CHECK(serve_response_encode("m\"odel\xff", NULL, "req-1", outs, 2, &out, &size, &json_size) ==
          0);
    CHECK(size == json_size + 8);
    json_error_t e;
    json_t *j = json_loadb((const char *)out, json_size, 0, &e);
    CHECKF(j != NULL, "%s", e.text);
    if (j) {
        CHECK(strcmp(json_string_value(json_object_get(j, "model_name")), "m\"odel\xEF\xBF\xBD") ==
              0);
        CHECK(strcmp(json_string_value(json_object_get(j, "model_version")), "1") == 0);
        CHECK(strcmp(json_string_value(json_object_get(j, "id")), "req-1") == 0);
        json_t *o0 = json_array_get(json_object_get(j, "outputs"), 0);
        json_t *data = json_object_get(o0, "data");
        CHECK(strcmp(json_string_value(json_object_get(o0, "datatype")), "FP32") == 0);
        CHECK(json_array_size(data) == 6);
        for (size_t i = 0; i < 6; i++) {
            float back = (float)json_number_value(json_array_get(data, i));
            CHECKF(test_to_bits(back) == test_to_bits(a[i]) || (a[i] == 0 && back == 0),
                   "element %zu: %a read back as %a", i, (double)a[i], (double)back);
        }
        json_t *o1 = json_array_get(json_object_get(j, "outputs"), 1);
        CHECK(json_integer_value(
                  json_object_get(json_object_get(o1, "parameters"), "binary_data_size")) == 8);
        CHECK(json_object_get(o1, "data") == NULL);
        json_decref(j);
    }
    float back[2];
    memcpy(back, out + json_size, 8);
    CHECK(isnan(back[0]) && back[1] == 2.5f);
    free(out);

    /* JSON cannot carry NaN: null in the JSON form. */
    outs[1].binary = false;
    CHECK(serve_response_encode("m", "2", NULL, outs + 1, 1, &out, &size, &json_size) == 0);
    CHECK(size == json_size);
    CHECK(memmem(out, size, "\"data\":[null,2.5]", 17) != NULL);
    CHECK(memmem(out, size, "\"id\"", 4) == NULL);
    free(out);

    char *err = serve_error_json("bad \"x\"\n\x80");
    CHECK(err && strcmp(err, "{\"error\":\"bad \\\"x\\\"\\u000a\xEF\xBF\xBD\"}") == 0);
    free(err);
}

static void test_multipart(void)
{
    const char body[] = "preamble\r\n"
                        "--XyZ\r\n"
                        "Content-Disposition: form-data; name=\"file\"; filename=\"a b.jpg\"\r\n"
                        "Content-Type: image/jpeg\r\n"
                        "\r\n"
                        "JPEG\r\n--XyYbytes\r\n"
                        "--XyZ\r\n"
                        "content-disposition: form-data; NAME=second\r\n"
                        "\r\n"
                        "\r\n"
                        "--XyZ--\r\n"
                        "epilogue";
    serve_part *parts = NULL;
    size_t n = 0;
    CHECKF(serve_multipart_parse("multipart/form-data; boundary=XyZ", (const uint8_t *)body,
                                 sizeof body - 1, 4, &parts, &n, msg, sizeof msg) == 0,
           "%s", msg);
    CHECK(n == 2);
    if (n == 2) {
        CHECK(strcmp(parts[0].name, "file") == 0 && strcmp(parts[0].filename, "a b.jpg") == 0);
        CHECK(parts[0].data.size == 16 &&
              memcmp(parts[0].data.data, "JPEG\r\n--XyYbytes", 16) == 0);
        CHECK(strcmp(parts[1].name, "second") == 0 && parts[1].filename == NULL);
        CHECK(parts[1].data.size == 0);
    }
    serve_parts_free(parts, n);

    /* Quoted boundary, no preamble, as curl -F sends it. */
    const char b2[] = "--\"q\"\r\n\r\nx\r\n--\"q\"--";
    CHECK(serve_multipart_parse("Multipart/Form-Data; charset=utf-8; Boundary=\"\\\"q\\\"\"",
                                (const uint8_t *)b2, sizeof b2 - 1, 4, &parts, &n, msg,
                                sizeof msg) == 0);
    CHECK(n == 1 && parts[0].data.size == 1 && parts[0].name == NULL);
    serve_parts_free(parts, n);

    static const struct {
        const char *ct, *body, *want;
    } bad[] = {
        {"application/json", "{}", "not multipart"},
        {NULL, "", "not multipart"},
        {"multipart/form-data", "--a\r\n\r\nx\r\n--a--", "boundary"},
        {"multipart/form-data; boundary=", "--\r\n", "boundary"},
        {"multipart/form-data; boundary=\"open", "--a", "boundary"},
        {"multipart/form-data; boundary=a", "no delimiter", "no boundary line"},
        {"multipart/form-data; boundary=a", "--a\r\nname: x\r\n", "headers never end"},
        {"multipart/form-data; boundary=a", "--a\r\n\r\nunclosed", "no closing boundary"},
        {"multipart/form-data; boundary=a", "--aX\r\n\r\n\r\n--a--", "not ended by CRLF"},
        {"multipart/form-data; boundary=a", "--a--", "no parts"},
        {"multipart/form-data; boundary=a",
         "--a\r\n\r\n1\r\n--a\r\n\r\n2\r\n--a\r\n\r\n3\r\n--a\r\n\r\n4\r\n--a\r\n\r\n5\r\n--a--",
         "more than 4 parts"},
        {"multipart/form-data; boundary=a",
         "--a\r\nContent-Disposition: form-data; name=\"x\r\n\r\n\r\n--a--", "malformed"},
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        msg[0] = '\0';
        int rc = serve_multipart_parse(bad[i].ct, (const uint8_t *)bad[i].body, strlen(bad[i].body),
                                       4, &parts, &n, msg, sizeof msg);
        CHECKF(rc == -1 && parts == NULL && n == 0 && strstr(msg, bad[i].want),
               "case %zu: rc %d, \"%s\"", i, rc, msg);
    }
    /* Too many header lines in one part. */
    char many[2048] = "--a\r\n";
    for (int i = 0; i < 20; i++) {
        strcat(many, "X-H: v\r\n");
    }
    strcat(many, "\r\nx\r\n--a--");
    CHECK(serve_multipart_parse("multipart/form-data; boundary=a", (const uint8_t *)many,
                                strlen(many), 4, &parts, &n, msg, sizeof msg) == -1);
    CHECKF(strstr(msg, "header lines") != NULL, "%s", msg);
}

static void test_npy_bytes_match_npy_save(void)
{
    float data[6] = {1, 2, 3, -4, 5.5f, 0};
    size_t shape[2] = {2, 3};
    uint8_t *b = NULL;
    size_t size = 0;
    CHECK(serve_npy_encode(data, 2, shape, &b, &size) == 0);
    char path[] = "/tmp/vitc-test-serve-XXXXXX";
    int fd = mkstemp(path);
    CHECK(fd >= 0);
    close(fd);
    CHECK(vitc_npy_save(path, data, 2, shape) == VITC_OK);
    size_t file_size = 0;
    unsigned char *file = test_read_file(path, &file_size);
    unlink(path);
    CHECK(file && file_size == size && memcmp(file, b, size) == 0);
    free(file);
    free(b);
    /* 1-D, and a shape too deep for .npy's writer. */
    CHECK(serve_npy_encode(data, 1, shape, &b, &size) == 0 && (size - 8) % 64 == 0);
    free(b);
    size_t deep[9] = {1, 1, 1, 1, 1, 1, 1, 1, 1};
    b = NULL;
    CHECK(serve_npy_encode(data, 9, deep, &b, &size) == -1 && b == NULL);
}

int main(void)
{
    RUN(test_json_fp32_flat_and_nested);
    RUN(test_json_bytes_base64);
    RUN(test_binary_extension);
    RUN(test_malformed_requests);
    RUN(test_response_round_trips);
    RUN(test_multipart);
    RUN(test_npy_bytes_match_npy_save);
    return TEST_REPORT();
}
