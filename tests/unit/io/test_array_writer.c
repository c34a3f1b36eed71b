/* SPDX-License-Identifier: MIT
 *
 * test_array_writer.c — the streaming array writer (vitc_array_writer_*):
 * .npy and .safetensors round trips through vitc_npy_load and the internal
 * safetensors parser, rows appended in pieces, zero rows, byte identity with
 * vitc_npy_save, abort and failure leaving nothing behind, atomic replace,
 * misuse refused, and every allocation failure handled.
 */
#include <dirent.h>
#include <stdint.h>
#include <sys/stat.h>
#include <unistd.h>

#include "base/err.h"
#include "io/safetensors.h"
#include "test.h"
#include "vitc.h"

static char tmpdir[256];

/* ---- helpers ---- */

static void tmp_path(char *buf, size_t n, const char *name)
{
    snprintf(buf, n, "%s/%s", tmpdir, name);
}

/* Entries of tmpdir other than "." and "..". */
static int count_files(void)
{
    DIR *d = opendir(tmpdir);
    int n = 0;
    struct dirent *e;
    while (d && (e = readdir(d))) {
        n += strcmp(e->d_name, ".") != 0 && strcmp(e->d_name, "..") != 0;
    }
    if (d) {
        closedir(d);
    }
    return n;
}

static int write_text(const char *path, const char *text)
{
    FILE *f = fopen(path, "wb");
    if (!f) {
        return -1;
    }
    fputs(text, f);
    return fclose(f);
}

/* Fills n floats with a recognisable sequence starting at `start`. */
static void fill(float *x, size_t n, size_t start)
{
    for (size_t i = 0; i < n; i++) {
        x[i] = (float)(start + i) * 0.25f - 3.0f;
    }
}

/* Writes rows [0, n_rows) of `data` in pieces of the given sizes (cycled). */
static vitc_status write_pieces(vitc_array_writer *w, const float *data, size_t n_rows,
                                size_t row_elems, const size_t *pieces, size_t n_pieces)
{
    size_t done = 0;
    for (size_t k = 0; done < n_rows; k++) {
        size_t m = pieces[k % n_pieces];
        if (m > n_rows - done) {
            m = n_rows - done;
        }
        vitc_status st = vitc_array_writer_append(w, data + done * row_elems, m);
        if (st != VITC_OK) {
            return st;
        }
        done += m;
    }
    return VITC_OK;
}

/* ---- .npy ---- */

static void test_npy_round_trip_pieces(void)
{
    char path[512], ref[512];
    const size_t tail[] = {3, 4};
    const size_t n_rows = 23, row = 12;
    static const size_t pieces[] = {1, 0, 5, 2, 7};
    float data[23 * 12];
    fill(data, n_rows * row, 0);
    tmp_path(path, sizeof path, "a.npy");
    tmp_path(ref, sizeof ref, "ref.npy");

    vitc_array_writer *w = NULL;
    CHECK(vitc_array_writer_open(path, VITC_ARRAY_NPY, NULL, 2, tail, &w) == VITC_OK);
    CHECK(write_pieces(w, data, n_rows, row, pieces, 5) == VITC_OK);
    CHECK(vitc_array_writer_rows(w) == n_rows);
    CHECKF(access(path, F_OK) != 0, "nothing at the path before commit");
    CHECK(vitc_array_writer_commit(w) == VITC_OK);
    vitc_array_writer_free(w);

    vitc_tensor *t = NULL;
    CHECK(vitc_npy_load(path, &t) == VITC_OK);
    CHECK(t && t->ndim == 3 && t->shape[0] == n_rows && t->shape[1] == 3 && t->shape[2] == 4);
    CHECK(t && t->n_elems == n_rows * row && memcmp(t->data, data, sizeof data) == 0);
    vitc_tensor_free(t);

    /* The same bytes as the one-shot writer, which writes what numpy.save writes. */
    const size_t shape[] = {n_rows, 3, 4};
    CHECK(vitc_npy_save(ref, data, 3, shape) == VITC_OK);
    size_t na = 0, nb = 0;
    unsigned char *a = test_read_file(path, &na), *b = test_read_file(ref, &nb);
    CHECK(a && b && na == nb && memcmp(a, b, na) == 0);
    free(a);
    free(b);
    unlink(path);
    unlink(ref);
    CHECK(count_files() == 0);
}

static void test_npy_zero_rows_and_vectors(void)
{
    char path[512];
    const size_t tail[] = {7};
    tmp_path(path, sizeof path, "empty.npy");
    vitc_array_writer *w = NULL;
    CHECK(vitc_array_writer_open(path, VITC_ARRAY_AUTO, NULL, 1, tail, &w) == VITC_OK);
    CHECK(vitc_array_writer_commit(w) == VITC_OK);
    vitc_array_writer_free(w);
    vitc_tensor *t = NULL;
    CHECK(vitc_npy_load(path, &t) == VITC_OK);
    CHECK(t && t->ndim == 2 && t->shape[0] == 0 && t->shape[1] == 7 && t->n_elems == 0);
    vitc_tensor_free(t);
    t = NULL;

    /* Rows of zero dimensions: a 1-D array (n,), rows appended one at a time. */
    float x[1000];
    fill(x, 1000, 7);
    CHECK(vitc_array_writer_open(path, VITC_ARRAY_NPY, NULL, 0, NULL, &w) == VITC_OK);
    for (size_t i = 0; i < 1000; i++) {
        CHECK(vitc_array_writer_append(w, x + i, 1) == VITC_OK);
    }
    CHECK(vitc_array_writer_commit(w) == VITC_OK);
    vitc_array_writer_free(w);
    CHECK(vitc_npy_load(path, &t) == VITC_OK);
    CHECK(t && t->ndim == 1 && t->shape[0] == 1000 && memcmp(t->data, x, sizeof x) == 0);
    vitc_tensor_free(t);
    unlink(path);
    CHECK(count_files() == 0);
}

/* ---- .safetensors ---- */

/* Opens path with the strict parser and checks one F32 tensor `name` equal to data. */
static void check_safetensors(const char *path, const char *name, const float *data, size_t n_rows,
                              size_t ndim_tail, const size_t *tail)
{
    struct vitc_safetensors *st = NULL;
    vitc_status s = vitc_st_open(path, &st);
    CHECKF(s == VITC_OK, "%s", vitc_last_error());
    if (s != VITC_OK) {
        return;
    }
    CHECK(st->n_tensors == 1);
    CHECK(st->header_size % 8 == 0);
    const struct vitc_st_tensor *t = vitc_st_find(st, name);
    CHECK(t != NULL);
    if (t) {
        size_t n = n_rows;
        CHECK(t->dtype == VITC_ST_F32 && t->ndim == (int)(1 + ndim_tail));
        CHECK(t->shape[0] == n_rows);
        for (size_t i = 0; i < ndim_tail; i++) {
            CHECK(t->shape[1 + i] == tail[i]);
            n *= tail[i];
        }
        CHECK(t->n_bytes == n * sizeof(float));
        CHECK(n == 0 || memcmp(t->data, data, n * sizeof(float)) == 0);
    }
    vitc_st_close(st);
}

static void test_safetensors_round_trip(void)
{
    char path[512];
    const size_t tail[] = {5, 2};
    const size_t n_rows = 17, row = 10;
    static const size_t pieces[] = {4, 1, 3};
    float data[17 * 10];
    fill(data, n_rows * row, 100);
    tmp_path(path, sizeof path, "out.SafeTensors");

    vitc_array_writer *w = NULL;
    CHECK(vitc_array_writer_open(path, VITC_ARRAY_AUTO, "pooler_output", 2, tail, &w) == VITC_OK);
    CHECK(vitc_array_writer_set_metadata(w, "format", "pt") == VITC_OK);
    CHECK(vitc_array_writer_set_metadata(w, "model", "models/x") == VITC_OK);
    CHECK(vitc_array_writer_set_metadata(w, "model", "models/tiny") == VITC_OK);
    CHECK(write_pieces(w, data, n_rows, row, pieces, 3) == VITC_OK);
    CHECK(vitc_array_writer_commit(w) == VITC_OK);
    vitc_array_writer_free(w);
    check_safetensors(path, "pooler_output", data, n_rows, 2, tail);

    struct vitc_safetensors *st = NULL;
    if (vitc_st_open(path, &st) == VITC_OK) {
        CHECK(st->n_meta == 2);
        const char *fmt = vitc_st_metadata(st, "format"), *model = vitc_st_metadata(st, "model");
        CHECK(fmt && strcmp(fmt, "pt") == 0);
        CHECK(model && strcmp(model, "models/tiny") == 0);
        /* The JSON is padded with spaces only, right up to the data. */
        const char *json = (const char *)st->bytes + 8;
        size_t end = st->header_size;
        while (end > 0 && json[end - 1] == ' ') {
            end--;
        }
        CHECK(end > 0 && json[end - 1] == '}' && json[0] == '{');
        vitc_st_close(st);
    }
    unlink(path);

    /* Zero rows: shape [0, 5, 2], empty data, still valid. */
    CHECK(vitc_array_writer_open(path, VITC_ARRAY_SAFETENSORS, "cls", 2, tail, &w) == VITC_OK);
    CHECK(vitc_array_writer_commit(w) == VITC_OK);
    vitc_array_writer_free(w);
    check_safetensors(path, "cls", NULL, 0, 2, tail);
    unlink(path);

    /* --format wins over the extension. */
    tmp_path(path, sizeof path, "named.npy");
    CHECK(vitc_array_writer_open(path, VITC_ARRAY_SAFETENSORS, "x", 2, tail, &w) == VITC_OK);
    CHECK(vitc_array_writer_append(w, data, 3) == VITC_OK);
    CHECK(vitc_array_writer_commit(w) == VITC_OK);
    vitc_array_writer_free(w);
    check_safetensors(path, "x", data, 3, 2, tail);
    unlink(path);
    CHECK(count_files() == 0);
}

/* ---- failure and atomicity ---- */

static void test_abort_leaves_nothing(void)
{
    char path[512];
    const size_t tail[] = {4};
    float data[40];
    fill(data, 40, 0);
    tmp_path(path, sizeof path, "aborted.npy");
    for (int fmt = VITC_ARRAY_NPY; fmt <= VITC_ARRAY_SAFETENSORS; fmt++) {
        vitc_array_writer *w = NULL;
        CHECK(vitc_array_writer_open(path, (vitc_array_format)fmt, "t", 1, tail, &w) == VITC_OK);
        CHECK(count_files() == 1); /* the temporary */
        CHECK(vitc_array_writer_append(w, data, 10) == VITC_OK);
        vitc_array_writer_free(w);
        CHECK(access(path, F_OK) != 0);
        CHECK(count_files() == 0);
    }
    vitc_array_writer_free(NULL);
}

static void test_commit_replaces_atomically(void)
{
    char path[512];
    const size_t tail[] = {2};
    float data[8];
    fill(data, 8, 1);
    tmp_path(path, sizeof path, "existing.npy");
    CHECK(write_text(path, "old contents\n") == 0);

    /* Until commit the old file stays whole; a writer freed without commit keeps it. */
    vitc_array_writer *w = NULL;
    CHECK(vitc_array_writer_open(path, VITC_ARRAY_NPY, NULL, 1, tail, &w) == VITC_OK);
    CHECK(vitc_array_writer_append(w, data, 4) == VITC_OK);
    size_t n = 0;
    unsigned char *old = test_read_file(path, &n);
    CHECK(old && n == 13 && memcmp(old, "old contents\n", 13) == 0);
    free(old);
    vitc_array_writer_free(w);
    old = test_read_file(path, &n);
    CHECK(old && n == 13 && memcmp(old, "old contents\n", 13) == 0);
    free(old);

    CHECK(vitc_array_writer_open(path, VITC_ARRAY_NPY, NULL, 1, tail, &w) == VITC_OK);
    CHECK(vitc_array_writer_append(w, data, 4) == VITC_OK);
    CHECK(vitc_array_writer_commit(w) == VITC_OK);
    vitc_array_writer_free(w);
    vitc_tensor *t = NULL;
    CHECK(vitc_npy_load(path, &t) == VITC_OK);
    CHECK(t && t->shape[0] == 4 && memcmp(t->data, data, sizeof data) == 0);
    vitc_tensor_free(t);
    unlink(path);
    CHECK(count_files() == 0);
}

static void test_misuse_refused(void)
{
    char path[512];
    const size_t tail[] = {2}, big[] = {SIZE_MAX / 2, 4};
    const size_t eight[] = {1, 1, 1, 1, 1, 1, 1, 1};
    float data[4] = {0};
    vitc_array_writer *w = NULL;
    tmp_path(path, sizeof path, "misuse.safetensors");

    CHECK(vitc_array_writer_open(NULL, VITC_ARRAY_NPY, NULL, 1, tail, &w) == VITC_ERR_INVALID_ARG);
    CHECK(vitc_array_writer_open(path, VITC_ARRAY_NPY, NULL, 1, NULL, &w) == VITC_ERR_INVALID_ARG);
    CHECK(vitc_array_writer_open(path, VITC_ARRAY_NPY, NULL, 8, eight, &w) == VITC_ERR_INVALID_ARG);
    CHECK(vitc_array_writer_open(path, VITC_ARRAY_NPY, NULL, 2, big, &w) == VITC_ERR_INVALID_ARG);
    CHECK(vitc_array_writer_open(path, (vitc_array_format)9, NULL, 1, tail, &w) ==
          VITC_ERR_INVALID_ARG);
    CHECK(vitc_array_writer_open(path, VITC_ARRAY_AUTO, NULL, 1, tail, &w) == VITC_ERR_INVALID_ARG);
    CHECK(vitc_array_writer_open(path, VITC_ARRAY_AUTO, "__metadata__", 1, tail, &w) ==
          VITC_ERR_INVALID_ARG);
    CHECK(vitc_array_writer_open(path, VITC_ARRAY_AUTO, "bad\xff", 1, tail, &w) ==
          VITC_ERR_INVALID_ARG);
    CHECK(vitc_array_writer_open("no/such/dir/x.npy", VITC_ARRAY_AUTO, NULL, 1, tail, &w) ==
          VITC_ERR_IO);
    CHECKF(strstr(vitc_last_error(), "no/such/dir/x.npy") != NULL, "%s", vitc_last_error());
    CHECK(w == NULL);
    CHECK(count_files() == 0);

    CHECK(vitc_array_writer_open(path, VITC_ARRAY_AUTO, "t", 1, tail, &w) == VITC_OK);
    CHECK(vitc_array_writer_set_metadata(w, "k", "bad\xff") == VITC_ERR_INVALID_ARG);
    CHECK(vitc_array_writer_append(w, NULL, 1) == VITC_ERR_INVALID_ARG);
    CHECK(vitc_array_writer_append(w, data, 2) == VITC_OK);
    CHECK(vitc_array_writer_set_metadata(w, "k", "v") == VITC_ERR_INVALID_ARG);
    CHECK(vitc_array_writer_commit(w) == VITC_OK);
    CHECK(vitc_array_writer_append(w, data, 1) == VITC_ERR_INVALID_ARG);
    CHECK(vitc_array_writer_commit(w) == VITC_ERR_INVALID_ARG);
    vitc_array_writer_free(w);
    check_safetensors(path, "t", data, 2, 1, tail);
    unlink(path);
    CHECK(count_files() == 0);
}

/* Fails the k-th allocation for k = 1, 2, ... until a whole write succeeds: every failure
 * is NOMEM (or INVALID_ARG from jansson's own allocations), leaves nothing on disk, and the
 * eventual success is correct. */
static void test_allocation_failures(void)
{
    char path[512];
    const size_t tail[] = {3};
    float data[30];
    fill(data, 30, 5);
    for (int fmt = VITC_ARRAY_NPY; fmt <= VITC_ARRAY_SAFETENSORS; fmt++) {
        tmp_path(path, sizeof path, fmt == VITC_ARRAY_NPY ? "oom.npy" : "oom.safetensors");
        int succeeded = 0;
        for (size_t k = 1; k < 100 && !succeeded; k++) {
            vitc_array_writer *w = NULL;
            vitc_test_fail_alloc_after(k);
            vitc_status st = vitc_array_writer_open(path, (vitc_array_format)fmt, "t", 1, tail, &w);
            if (st == VITC_OK) {
                st = vitc_array_writer_set_metadata(w, "format", "pt");
            }
            if (st == VITC_OK) {
                st = vitc_array_writer_append(w, data, 4);
            }
            if (st == VITC_OK) {
                st = vitc_array_writer_append(w, data + 12, 6);
            }
            if (st == VITC_OK) {
                st = vitc_array_writer_commit(w);
            }
            vitc_test_fail_alloc_after(0);
            vitc_array_writer_free(w);
            if (st == VITC_OK) {
                succeeded = 1;
                CHECKF(k > 1, "the first allocation failure went unnoticed");
            } else {
                CHECKF(st == VITC_ERR_NOMEM, "k=%zu: status %d: %s", k, st, vitc_last_error());
                CHECKF(count_files() == 0, "k=%zu: files left behind", k);
            }
        }
        CHECK(succeeded);
        if (fmt == VITC_ARRAY_NPY) {
            vitc_tensor *t = NULL;
            CHECK(vitc_npy_load(path, &t) == VITC_OK);
            CHECK(t && t->shape[0] == 10 && memcmp(t->data, data, sizeof data) == 0);
            vitc_tensor_free(t);
        } else {
            check_safetensors(path, "t", data, 10, 1, tail);
        }
        unlink(path);
    }
}

int main(void)
{
    snprintf(tmpdir, sizeof tmpdir, "%s/vitc-aw-XXXXXX",
             getenv("TMPDIR") ? getenv("TMPDIR") : "/tmp");
    if (!mkdtemp(tmpdir)) {
        perror("mkdtemp");
        return 1;
    }
    RUN(test_npy_round_trip_pieces);
    RUN(test_npy_zero_rows_and_vectors);
    RUN(test_safetensors_round_trip);
    RUN(test_abort_leaves_nothing);
    RUN(test_commit_replaces_atomically);
    RUN(test_misuse_refused);
    RUN(test_allocation_failures);
    if (rmdir(tmpdir) != 0) {
        fprintf(stderr, "  FAIL leftover files in %s\n", tmpdir);
        test_failed++;
    }
    return TEST_REPORT();
}
