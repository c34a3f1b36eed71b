/* SPDX-License-Identifier: MIT
 *
 * test_safetensors.c — the safetensors parser (src/io/safetensors.c) and the
 * f16/bf16 widening (src/base/half.h): the fixture files parse, and every kind of
 * malformed file, written byte by byte into a temporary directory, is
 * refused with VITC_ERR_FORMAT and a message naming the file and the fault.
 */
#include <ftw.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "base/err.h"
#include "base/half.h"
#include "io/safetensors.h"
#include "test.h"

static char tmpdir[4096];

static int remove_entry(const char *path, const struct stat *sb, int flag, struct FTW *ftw)
{
    (void)sb, (void)flag, (void)ftw;
    return remove(path);
}

static void write_file(const char *path, const void *bytes, size_t n)
{
    FILE *f = fopen(path, "wb");
    if (!f || fwrite(bytes, 1, n, f) != n) {
        fprintf(stderr, "cannot write %s\n", path);
        exit(1);
    }
    fclose(f);
}

/* A safetensors image: header length hlen (normally strlen(header)), the
 * header text, then n_data bytes of a counting pattern. Caller frees. */
static uint8_t *make_image(const char *header, uint64_t hlen, size_t n_data, size_t *size)
{
    size_t n_hdr = strlen(header);
    *size = 8 + n_hdr + n_data;
    uint8_t *b = malloc(*size);
    for (int i = 0; i < 8; i++) {
        b[i] = (uint8_t)(hlen >> (8 * i));
    }
    memcpy(b + 8, header, n_hdr);
    for (size_t i = 0; i < n_data; i++) {
        b[8 + n_hdr + i] = (uint8_t)i;
    }
    return b;
}

/* Writes the bytes as <label>.safetensors and expects vitc_st_open to fail
 * with VITC_ERR_FORMAT, *out untouched, and a message naming the file and
 * containing phrase. The same bytes must fail the same way from memory. */
static void expect_bad_bytes(const char *label, const uint8_t *b, size_t size, const char *phrase)
{
    char path[4200];
    snprintf(path, sizeof path, "%s/%s.safetensors", tmpdir, label);
    write_file(path, b, size);
    struct vitc_safetensors *st = NULL;
    vitc_status s = vitc_st_open(path, &st);
    const char *msg = vitc_last_error();
    CHECKF(s == VITC_ERR_FORMAT, "%s: status %s", label, vitc_status_str(s));
    CHECK(st == NULL);
    CHECKF(strstr(msg, path) != NULL, "%s: message does not name the file: %s", label, msg);
    CHECKF(strstr(msg, phrase) != NULL, "%s: message lacks '%s': %s", label, phrase, msg);
    vitc_st_close(st);

    s = vitc_st_parse(label, b, size, &st);
    CHECKF(s == VITC_ERR_FORMAT, "%s (memory): status %s", label, vitc_status_str(s));
    CHECKF(strstr(vitc_last_error(), phrase) != NULL, "%s (memory): %s", label, vitc_last_error());
}

static void expect_bad(const char *label, const char *header, size_t n_data, const char *phrase)
{
    size_t size;
    uint8_t *b = make_image(header, strlen(header), n_data, &size);
    expect_bad_bytes(label, b, size, phrase);
    free(b);
}

/* ---- valid files ---- */

static void test_fixtures_parse(void)
{
    static const struct {
        const char *dir;
        size_t n_tensors;
        uint64_t n_elems;
    } want[] = {
        {"tests/data/models/tiny-in21k", 40, 24960},
        {"tests/data/models/tiny-classifier", 56, 32613},
        {"tests/data/models/tiny-variant", 34, 78296},
    };
    for (size_t i = 0; i < sizeof want / sizeof want[0]; i++) {
        char path[512];
        snprintf(path, sizeof path, "%s/model.safetensors", want[i].dir);
        struct vitc_safetensors *st = NULL;
        vitc_status s = vitc_st_open(path, &st);
        CHECKF(s == VITC_OK, "%s: %s", path, vitc_last_error());
        if (s != VITC_OK) {
            continue;
        }
        CHECK(st->n_tensors == want[i].n_tensors);
        uint64_t total = 0;
        for (size_t j = 0; j < st->n_tensors; j++) {
            total += st->tensors[j].n_elems;
            CHECK(st->tensors[j].dtype == VITC_ST_F32);
            if (j > 0) {
                CHECK(strcmp(st->tensors[j - 1].name, st->tensors[j].name) < 0);
            }
        }
        CHECK(total == want[i].n_elems);
        const char *fmt = vitc_st_metadata(st, "format");
        CHECK(fmt && strcmp(fmt, "pt") == 0);
        CHECK(vitc_st_metadata(st, "nope") == NULL);
        vitc_st_close(st);
    }
}

static void test_fixture_tensor_view(void)
{
    struct vitc_safetensors *st = NULL;
    CHECK(vitc_st_open("tests/data/models/tiny-in21k/model.safetensors", &st) == VITC_OK);
    if (!st) {
        return;
    }
    const struct vitc_st_tensor *t = vitc_st_find(st, "embeddings.cls_token");
    CHECK(t != NULL);
    if (t) {
        CHECK(t->ndim == 3 && t->shape[0] == 1 && t->shape[1] == 1 && t->shape[2] == 32);
        CHECK(t->n_elems == 32 && t->n_bytes == 128 && t->offset == 0);
        /* The header is padded to 8 bytes, so the data is float-aligned. */
        CHECK(t->data == st->bytes + 8 + st->header_size);
    }
    t = vitc_st_find(st, "embeddings.patch_embeddings.projection.weight");
    CHECK(t && t->ndim == 4 && t->shape[0] == 32 && t->shape[1] == 3 && t->shape[3] == 8);
    CHECK(vitc_st_find(st, "embeddings.cls_tok") == NULL);
    CHECK(vitc_st_find(st, "") == NULL);
    vitc_st_close(st);
    vitc_st_close(NULL);
}

/* Dropping a mapping's pages loses nothing: they read back from the file;
 * ranges outside the mapping and borrowed buffers are left alone. */
static void test_release_pages(void)
{
    struct vitc_safetensors *st = NULL;
    CHECK(vitc_st_open("tests/data/models/tiny-in21k/model.safetensors", &st) == VITC_OK);
    if (!st) {
        return;
    }
    unsigned char *copy = malloc(st->size);
    CHECK(copy != NULL);
    if (copy) {
        memcpy(copy, st->bytes, st->size);
        vitc_st_release(st, st->bytes, st->size);
        vitc_st_release(st, st->bytes + 100, 5000);
        vitc_st_release(st, copy, st->size);              /* not in the mapping */
        vitc_st_release(st, st->bytes + 1, SIZE_MAX - 8); /* wraps around     */
        vitc_st_release(NULL, st->bytes, st->size);
        CHECK(memcmp(copy, st->bytes, st->size) == 0);
        free(copy);
    }
    vitc_st_close(st);
}

static void test_empty_header(void)
{
    size_t size;
    uint8_t *b = make_image("{}      ", 8, 0, &size);
    struct vitc_safetensors *st = NULL;
    CHECKF(vitc_st_parse("empty", b, size, &st) == VITC_OK, "%s", vitc_last_error());
    CHECK(st && st->n_tensors == 0 && st->n_meta == 0);
    CHECK(vitc_st_find(st, "x") == NULL);
    CHECK(vitc_st_metadata(st, "format") == NULL);
    vitc_st_close(st);
    free(b);
}

static void test_every_dtype(void)
{
    /* One tensor of each dtype, laid out back to back in header order. */
    static const struct {
        const char *name;
        const char *shape;
        size_t bytes;
        enum vitc_st_dtype dtype;
    } d[] = {
        {"BOOL", "[3]", 3, VITC_ST_BOOL},
        {"U8", "[2]", 2, VITC_ST_U8},
        {"I8", "[2]", 2, VITC_ST_I8},
        {"U16", "[2]", 4, VITC_ST_U16},
        {"I16", "[2]", 4, VITC_ST_I16},
        {"U32", "[1]", 4, VITC_ST_U32},
        {"I32", "[1]", 4, VITC_ST_I32},
        {"U64", "[1]", 8, VITC_ST_U64},
        {"I64", "[1]", 8, VITC_ST_I64},
        {"F16", "[3]", 6, VITC_ST_F16},
        {"BF16", "[1,2]", 4, VITC_ST_BF16},
        {"F32", "[2,1]", 8, VITC_ST_F32},
        {"F64", "[]", 8, VITC_ST_F64},
        {"C64", "[1]", 8, VITC_ST_C64},
        {"F8_E4M3", "[5]", 5, VITC_ST_F8_E4M3},
        {"F8_E5M2", "[1]", 1, VITC_ST_F8_E5M2},
        {"F8_E8M0", "[1]", 1, VITC_ST_F8_E8M0},
        {"F8_E4M3FNUZ", "[1]", 1, VITC_ST_F8_E4M3FNUZ},
        {"F8_E5M2FNUZ", "[1]", 1, VITC_ST_F8_E5M2FNUZ},
        {"F6_E2M3", "[4]", 3, VITC_ST_F6_E2M3},
        {"F6_E3M2", "[2,2]", 3, VITC_ST_F6_E3M2},
        {"F4", "[2]", 1, VITC_ST_F4},
    };
    size_t n = sizeof d / sizeof d[0];
    char header[4096] = "{";
    size_t at = 0;
    for (size_t i = 0; i < n; i++) {
        char entry[200];
        snprintf(entry, sizeof entry,
                 "%s\"t_%s\":{\"dtype\":\"%s\",\"shape\":%s,\"data_offsets\":[%zu,%zu]}",
                 i ? "," : "", d[i].name, d[i].name, d[i].shape, at, at + d[i].bytes);
        strcat(header, entry);
        at += d[i].bytes;
    }
    strcat(header, "}");
    size_t size;
    uint8_t *b = make_image(header, strlen(header), at, &size);
    struct vitc_safetensors *st = NULL;
    CHECKF(vitc_st_parse("dtypes", b, size, &st) == VITC_OK, "%s", vitc_last_error());
    CHECK(st && st->n_tensors == n);
    for (size_t i = 0; st && i < n; i++) {
        char name[64];
        snprintf(name, sizeof name, "t_%s", d[i].name);
        const struct vitc_st_tensor *t = vitc_st_find(st, name);
        CHECKF(t && t->dtype == d[i].dtype && t->n_bytes == d[i].bytes, "%s", name);
        CHECK(strcmp(vitc_st_dtype_name(d[i].dtype), d[i].name) == 0);
    }
    const struct vitc_st_tensor *t = vitc_st_find(st, "t_F64");
    CHECK(t && t->ndim == 0 && t->n_elems == 1);
    vitc_st_close(st);
    free(b);
}

static void test_zero_size_tensor(void)
{
    const char *h = "{\"a\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0,8]},"
                    "\"e\":{\"dtype\":\"F16\",\"shape\":[0,4],\"data_offsets\":[8,8]},"
                    "\"z\":{\"dtype\":\"U8\",\"shape\":[4],\"data_offsets\":[8,12]}}";
    size_t size;
    uint8_t *b = make_image(h, strlen(h), 12, &size);
    struct vitc_safetensors *st = NULL;
    CHECKF(vitc_st_parse("zero", b, size, &st) == VITC_OK, "%s", vitc_last_error());
    const struct vitc_st_tensor *t = vitc_st_find(st, "e");
    CHECK(t && t->n_elems == 0 && t->n_bytes == 0);
    t = vitc_st_find(st, "z");
    CHECK(t && t->data == b + 8 + strlen(h) + 8 && t->data[0] == 8);
    vitc_st_close(st);
    free(b);
}

static void test_open_errors(void)
{
    struct vitc_safetensors *st = NULL;
    CHECK(vitc_st_open("tests/data/no/such.safetensors", &st) == VITC_ERR_IO);
    CHECK(strstr(vitc_last_error(), "tests/data/no/such.safetensors") != NULL);
    CHECK(vitc_st_open(tmpdir, &st) == VITC_ERR_IO);
    CHECK(strstr(vitc_last_error(), "not a regular file") != NULL);
    CHECK(st == NULL);
    CHECK(vitc_st_open(NULL, &st) == VITC_ERR_INVALID_ARG);
    CHECK(vitc_st_parse("x", NULL, 0, NULL) == VITC_ERR_INVALID_ARG);
}

/* ---- malformed files ---- */

static void test_bad_length(void)
{
    uint8_t five[5] = {1, 0, 0, 0, 0};
    expect_bad_bytes("short", five, sizeof five, "too short");
    expect_bad_bytes("empty_file", five, 0, "too short");

    size_t size;
    uint8_t *b = make_image("{}", 1000, 0, &size);
    expect_bad_bytes("len_past_end", b, size, "past the end of the file");
    free(b);
    b = make_image("{}", (uint64_t)1 << 40, 0, &size);
    expect_bad_bytes("len_huge", b, size, "over the limit");
    free(b);
    b = make_image("{}", UINT64_MAX, 0, &size);
    expect_bad_bytes("len_max", b, size, "over the limit");
    free(b);
    b = make_image("{}", 0, 2, &size);
    expect_bad_bytes("len_zero", b, size, "header length is 0");
    free(b);
}

static void test_bad_json(void)
{
    expect_bad("not_json", "{\"a\": ", 0, "not valid JSON");
    expect_bad("garbage", "\x01\x02\x03\x04", 0, "not valid JSON");
    expect_bad("trailing", "{} x", 0, "not valid JSON");
    expect_bad("array", "[1, 2]", 0, "not a JSON object");
    expect_bad("dup", "{\"__metadata__\":{},\"__metadata__\":{}}", 0, "duplicate");
    expect_bad("dup_tensor",
               "{\"t\":{\"dtype\":\"U8\",\"shape\":[1],\"data_offsets\":[0,1]},"
               "\"t\":{\"dtype\":\"U8\",\"shape\":[1],\"data_offsets\":[1,2]}}",
               2, "duplicate");
    expect_bad("meta_int", "{\"__metadata__\":{\"format\":1}}", 0, "not a string");
    expect_bad("meta_list", "{\"__metadata__\":[\"pt\"]}", 0,
               "'__metadata__' is not a JSON object");
}

static void test_bad_entries(void)
{
    expect_bad("entry_list", "{\"t\":[1]}", 0, "entry is not a JSON object");
    expect_bad("extra_key",
               "{\"t\":{\"dtype\":\"U8\",\"shape\":[1],\"data_offsets\":[0,1],\"x\":1}}", 1,
               "unexpected key 'x'");
    expect_bad("no_offsets", "{\"t\":{\"dtype\":\"U8\",\"shape\":[1]}}", 1,
               "missing 'data_offsets'");
    expect_bad("dtype_int", "{\"t\":{\"dtype\":4,\"shape\":[1],\"data_offsets\":[0,1]}}", 1,
               "'dtype' is not a string");
    expect_bad("dtype_unknown", "{\"t\":{\"dtype\":\"F31\",\"shape\":[1],\"data_offsets\":[0,4]}}",
               4, "unknown dtype 'F31'");
    expect_bad("dtype_lower", "{\"t\":{\"dtype\":\"f32\",\"shape\":[1],\"data_offsets\":[0,4]}}", 4,
               "unknown dtype 'f32'");
}

static void test_bad_shapes(void)
{
    expect_bad("shape_neg", "{\"t\":{\"dtype\":\"U8\",\"shape\":[-1],\"data_offsets\":[0,0]}}", 0,
               "non-negative integers");
    expect_bad("shape_real", "{\"t\":{\"dtype\":\"U8\",\"shape\":[1.5],\"data_offsets\":[0,1]}}", 1,
               "non-negative integers");
    expect_bad("shape_str", "{\"t\":{\"dtype\":\"U8\",\"shape\":[\"2\"],\"data_offsets\":[0,2]}}",
               2, "non-negative integers");
    expect_bad("shape_obj", "{\"t\":{\"dtype\":\"U8\",\"shape\":{},\"data_offsets\":[0,1]}}", 1,
               "'shape' is not an array");
    expect_bad("shape_9d",
               "{\"t\":{\"dtype\":\"U8\",\"shape\":[1,1,1,1,1,1,1,1,1],\"data_offsets\":[0,1]}}", 1,
               "at most 8");
    expect_bad("shape_overflow",
               "{\"t\":{\"dtype\":\"F32\",\"shape\":[4294967296,4294967296,2],"
               "\"data_offsets\":[0,0]}}",
               0, "too large");
    expect_bad("shape_bits_overflow",
               "{\"t\":{\"dtype\":\"F64\",\"shape\":[4294967296,1073741824],"
               "\"data_offsets\":[0,0]}}",
               0, "too large");
    expect_bad("f4_odd", "{\"t\":{\"dtype\":\"F4\",\"shape\":[3],\"data_offsets\":[0,2]}}", 2,
               "not whole bytes");
}

static void test_bad_offsets(void)
{
    expect_bad("off_reversed", "{\"t\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[4,0]}}",
               4, "reversed");
    expect_bad("off_one", "{\"t\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[0]}}", 4,
               "'data_offsets' must be [begin, end]");
    expect_bad("off_neg", "{\"t\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[-4,0]}}", 4,
               "'data_offsets' must be [begin, end]");
    expect_bad("off_range", "{\"t\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0,8]}}", 4,
               "run past the end of the data section");
    expect_bad("off_count", "{\"t\":{\"dtype\":\"F32\",\"shape\":[3],\"data_offsets\":[0,8]}}", 8,
               "span 8 bytes but 3 elements of F32 need 12");
    expect_bad("overlap",
               "{\"a\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0,8]},"
               "\"b\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[4,12]}}",
               12, "overlaps");
    expect_bad("same_range",
               "{\"a\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0,8]},"
               "\"b\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0,8]}}",
               8, "overlaps");
    expect_bad("gap",
               "{\"a\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[0,4]},"
               "\"b\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[8,12]}}",
               12, "gap");
    expect_bad("gap_at_start", "{\"b\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[4,8]}}",
               8, "gap");
    expect_bad("data_short",
               "{\"a\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[0,4]},"
               "\"b\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[4,12]}}",
               10, "run past the end of the data section");
    expect_bad("data_long", "{\"a\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[0,4]}}", 7,
               "3 trailing bytes");
    expect_bad("data_no_tensors", "{}", 4, "4 trailing bytes");
}

/* A real fixture, truncated or extended by a few bytes. */
static void test_fixture_resized(void)
{
    FILE *f = fopen("tests/data/models/tiny-in21k/model.safetensors", "rb");
    CHECK(f != NULL);
    if (!f) {
        return;
    }
    uint8_t *b = malloc(103896 + 16);
    size_t n = fread(b, 1, 103896 + 16, f);
    fclose(f);
    CHECK(n == 103896);
    expect_bad_bytes("fixture_short", b, n - 1, "run past the end of the data section");
    memset(b + n, 0, 16);
    expect_bad_bytes("fixture_long", b, n + 16, "16 trailing bytes");
    free(b);
}

/* Every allocation of vitc_st_open can fail, cleanly. */
static void test_alloc_failures(void)
{
    const char *path = "tests/data/models/tiny-classifier/model.safetensors";
    for (size_t k = 1; k < 100; k++) {
        struct vitc_safetensors *st = NULL;
        vitc_test_fail_alloc_after(k);
        vitc_status s = vitc_st_open(path, &st);
        vitc_test_fail_alloc_after(0);
        if (s == VITC_OK) {
            CHECK(k > 1 && st && st->n_tensors == 56);
            vitc_st_close(st);
            return;
        }
        CHECKF(s == VITC_ERR_NOMEM, "k=%zu: %s", k, vitc_last_error());
        CHECK(st == NULL);
    }
    CHECKF(0, "vitc_st_open never succeeded");
}

/* ---- f16 / bf16 ---- */

static uint32_t bits_of(float f)
{
    uint32_t u;
    memcpy(&u, &f, sizeof u);
    return u;
}

static void test_half_values(void)
{
    CHECK(vitc_f16_to_f32(0x0000) == 0.0f && bits_of(vitc_f16_to_f32(0x8000)) == 0x80000000u);
    CHECK(vitc_f16_to_f32(0x3c00) == 1.0f);
    CHECK(vitc_f16_to_f32(0xc000) == -2.0f);
    CHECK(vitc_f16_to_f32(0x7bff) == 65504.0f);
    CHECK(vitc_f16_to_f32(0x0400) == 0x1p-14f);   /* smallest normal     */
    CHECK(vitc_f16_to_f32(0x0001) == 0x1p-24f);   /* smallest subnormal  */
    CHECK(vitc_f16_to_f32(0x03ff) == 0x3ffp-24f); /* largest subnormal   */
    CHECK(vitc_f16_to_f32(0x8001) == -0x1p-24f);
    CHECK(vitc_f16_to_f32(0x3555) == 0x1.554p-2f); /* 0.333...            */
    CHECK(isinf(vitc_f16_to_f32(0x7c00)) && vitc_f16_to_f32(0xfc00) < 0);
    CHECK(isnan(vitc_f16_to_f32(0x7e00)) && isnan(vitc_f16_to_f32(0x7c01)));

    CHECK(vitc_bf16_to_f32(0x3f80) == 1.0f);
    CHECK(vitc_bf16_to_f32(0xc040) == -3.0f);
    CHECK(vitc_bf16_to_f32(0x0001) == 0x1p-133f);
    CHECK(isinf(vitc_bf16_to_f32(0x7f80)) && isnan(vitc_bf16_to_f32(0x7fc0)));
    for (uint32_t h = 0; h < 65536; h++) {
        if (bits_of(vitc_bf16_to_f32((uint16_t)h)) != h << 16) {
            CHECKF(0, "bf16 %04x", h);
            break;
        }
    }
}

/* Every binary16 value against the compiler's own _Float16 conversion,
 * where the compiler has one. */
static void test_half_exhaustive(void)
{
#ifdef __FLT16_MAX__
    for (uint32_t h = 0; h < 65536; h++) {
        uint16_t v = (uint16_t)h;
        _Float16 x;
        memcpy(&x, &v, sizeof x);
        float want = (float)x, got = vitc_f16_to_f32(v);
        int ok = isnan(want) ? isnan(got) : bits_of(want) == bits_of(got);
        if (!ok) {
            CHECKF(0, "f16 %04x: got %a want %a", h, got, want);
            break;
        }
    }
#else
    /* Without _Float16: monotonic over the positive finite values and
     * exact powers of two at every exponent. */
    for (uint32_t h = 1; h < 0x7c00; h++) {
        CHECK(vitc_f16_to_f32((uint16_t)h) > vitc_f16_to_f32((uint16_t)(h - 1)));
    }
    for (int e = 1; e < 31; e++) {
        CHECK(vitc_f16_to_f32((uint16_t)(e << 10)) == ldexpf(1.0f, e - 15));
    }
#endif
}

int main(void)
{
    snprintf(tmpdir, sizeof tmpdir, "%s/vitc-test-st-XXXXXX",
             getenv("TMPDIR") ? getenv("TMPDIR") : "/tmp");
    if (!mkdtemp(tmpdir)) {
        perror("mkdtemp");
        return 1;
    }
    RUN(test_fixtures_parse);
    RUN(test_fixture_tensor_view);
    RUN(test_release_pages);
    RUN(test_empty_header);
    RUN(test_every_dtype);
    RUN(test_zero_size_tensor);
    RUN(test_open_errors);
    RUN(test_bad_length);
    RUN(test_bad_json);
    RUN(test_bad_entries);
    RUN(test_bad_shapes);
    RUN(test_bad_offsets);
    RUN(test_fixture_resized);
    RUN(test_alloc_failures);
    RUN(test_half_values);
    RUN(test_half_exhaustive);
    nftw(tmpdir, remove_entry, 16, FTW_DEPTH | FTW_PHYS);
    return TEST_REPORT();
}
