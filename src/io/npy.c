/* SPDX-License-Identifier: MIT
 *
 * npy.c — NumPy .npy files: a strict reader (v1.0/2.0/3.0, little-endian
 * float32 or uint8, C order) and an atomic float32 writer whose bytes are
 * what numpy.save writes. I/O leaf: knows the file format, nothing of models.
 * The header is a tiny Python dict literal, parsed here by hand on purpose:
 * exactly the keys 'descr', 'fortran_order' and 'shape', nothing else.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <unistd.h>

#include "base/err.h"
#include "io/array_writer.h"

/* "\x93NUMPY" + major + minor. */
#define NPY_MAGIC_LEN  6
#define NPY_PREFIX_LEN 8
/* Real headers are a few hundred bytes; refuse anything absurd before allocating. */
#define NPY_MAX_HEADER (1u << 20)
/* numpy aligns the data start to 64 bytes (numpy.lib.format.ARRAY_ALIGN). */
#define NPY_ALIGN 64
/* numpy leaves room for the first axis to grow to 21 digits
 * (numpy.lib.format.GROWTH_AXIS_MAX_DIGITS); copied so files match byte for byte. */
#define NPY_GROWTH_DIGITS 21
/* Largest header the writer produces (VITC_NPY_HEADER_MAX, array_writer.h). */
#define NPY_WRITE_HEADER_MAX VITC_NPY_HEADER_MAX

static const unsigned char npy_magic[NPY_MAGIC_LEN] = {0x93, 'N', 'U', 'M', 'P', 'Y'};

static const char *errno_text(int e, char *buf, size_t n)
{
    return strerror_r(e, buf, n); /* GNU variant: returns the message */
}

static int host_is_little_endian(void)
{
    const uint16_t one = 1;
    unsigned char b;
    memcpy(&b, &one, 1);
    return b == 1;
}

static void swap32_inplace(unsigned char *p, size_t n_words)
{
    for (size_t i = 0; i < n_words; i++, p += 4) {
        unsigned char t0 = p[0], t1 = p[1];
        p[0] = p[3];
        p[1] = p[2];
        p[2] = t1;
        p[3] = t0;
    }
}

/* ---- header parser ---- */

/* A cursor over the header text; `path` is only for messages. */
struct hdr {
    const char *p, *end;
    const char *path;
};

struct npy_header {
    vitc_dtype dtype;
    size_t itemsize;
    size_t ndim;
    size_t shape[VITC_TENSOR_MAX_DIMS];
    size_t n_elems;
};

static void skip_space(struct hdr *h)
{
    while (h->p < h->end && (*h->p == ' ' || *h->p == '\t' || *h->p == '\n' || *h->p == '\r')) {
        h->p++;
    }
}

static int accept_char(struct hdr *h, char c)
{
    skip_space(h);
    if (h->p < h->end && *h->p == c) {
        h->p++;
        return 1;
    }
    return 0;
}

static vitc_status expect_char(struct hdr *h, char c, const char *what)
{
    if (!accept_char(h, c)) {
        return vitc_error(VITC_ERR_FORMAT, "%s: bad .npy header: expected '%c' %s", h->path, c,
                          what);
    }
    return VITC_OK;
}

/* A quoted Python string without escapes; sets s and n to its text inside the header. */
static vitc_status parse_string(struct hdr *h, const char **s, size_t *n)
{
    skip_space(h);
    if (h->p >= h->end || (*h->p != '\'' && *h->p != '"')) {
        return vitc_error(VITC_ERR_FORMAT, "%s: bad .npy header: expected a quoted string",
                          h->path);
    }
    char quote = *h->p++;
    const char *start = h->p;
    while (h->p < h->end && *h->p != quote) {
        if (*h->p == '\\' || *h->p == '\n') {
            return vitc_error(VITC_ERR_FORMAT,
                              "%s: bad .npy header: unexpected character in a "
                              "string",
                              h->path);
        }
        h->p++;
    }
    if (h->p >= h->end) {
        return vitc_error(VITC_ERR_FORMAT, "%s: bad .npy header: unterminated string", h->path);
    }
    *s = start;
    *n = (size_t)(h->p - start);
    h->p++;
    return VITC_OK;
}

static int accept_word(struct hdr *h, const char *word)
{
    size_t n = strlen(word);
    skip_space(h);
    if ((size_t)(h->end - h->p) >= n && memcmp(h->p, word, n) == 0) {
        h->p += n;
        return 1;
    }
    return 0;
}

static vitc_status parse_descr(struct hdr *h, struct npy_header *out)
{
    const char *s = NULL;
    size_t n = 0;
    vitc_status st = parse_string(h, &s, &n);
    if (st != VITC_OK) {
        return st;
    }
    if (n == 3 && memcmp(s, "<f4", 3) == 0) {
        out->dtype = VITC_DTYPE_F32;
        out->itemsize = 4;
    } else if (n == 3 && (memcmp(s, "|u1", 3) == 0 || memcmp(s, "<u1", 3) == 0)) {
        out->dtype = VITC_DTYPE_U8;
        out->itemsize = 1;
    } else if (n > 0 && s[0] == '>') {
        return vitc_error(VITC_ERR_UNSUPPORTED,
                          "%s: big-endian dtype '%.*s' is not supported "
                          "(only '<f4' and '|u1')",
                          h->path, (int)(n > 16 ? 16 : n), s);
    } else {
        return vitc_error(VITC_ERR_UNSUPPORTED,
                          "%s: unsupported dtype '%.*s' (only '<f4' and "
                          "'|u1')",
                          h->path, (int)(n > 16 ? 16 : n), s);
    }
    return VITC_OK;
}

static vitc_status parse_fortran_order(struct hdr *h)
{
    if (accept_word(h, "False")) {
        return VITC_OK;
    }
    if (accept_word(h, "True")) {
        return vitc_error(VITC_ERR_UNSUPPORTED,
                          "%s: fortran_order True is not supported "
                          "(save a C-order array)",
                          h->path);
    }
    return vitc_error(VITC_ERR_FORMAT, "%s: bad .npy header: fortran_order is not True or False",
                      h->path);
}

static vitc_status parse_dim(struct hdr *h, size_t *out)
{
    skip_space(h);
    if (h->p >= h->end || *h->p < '0' || *h->p > '9') {
        return vitc_error(VITC_ERR_FORMAT,
                          "%s: bad .npy header: shape entries must be "
                          "non-negative integers",
                          h->path);
    }
    size_t v = 0;
    while (h->p < h->end && *h->p >= '0' && *h->p <= '9') {
        if (vitc_mul_size(v, 10, &v) || vitc_add_size(v, (size_t)(*h->p - '0'), &v)) {
            return vitc_error(VITC_ERR_FORMAT, "%s: bad .npy header: shape entry too large",
                              h->path);
        }
        h->p++;
    }
    *out = v;
    return VITC_OK;
}

/* A Python tuple of ints: "()", "(n,)", "(a, b)", "(a, b,)". */
static vitc_status parse_shape(struct hdr *h, struct npy_header *out)
{
    vitc_status st = expect_char(h, '(', "to start the shape tuple");
    if (st != VITC_OK) {
        return st;
    }
    out->ndim = 0;
    int trailing_comma = 0;
    while (!accept_char(h, ')')) {
        if (out->ndim == VITC_TENSOR_MAX_DIMS) {
            return vitc_error(VITC_ERR_UNSUPPORTED,
                              "%s: more than %d dimensions are not "
                              "supported",
                              h->path, VITC_TENSOR_MAX_DIMS);
        }
        st = parse_dim(h, &out->shape[out->ndim++]);
        if (st != VITC_OK) {
            return st;
        }
        trailing_comma = accept_char(h, ',');
        if (!trailing_comma) {
            st = expect_char(h, ')', "to end the shape tuple");
            if (st != VITC_OK) {
                return st;
            }
            break;
        }
    }
    /* "(3)" is the int 3 in Python, not a tuple: numpy never writes it. */
    if (out->ndim == 1 && !trailing_comma) {
        return vitc_error(VITC_ERR_FORMAT, "%s: bad .npy header: shape is not a tuple", h->path);
    }
    return VITC_OK;
}

/* Parses the dict literal: each of the three keys exactly once, no other key. */
static vitc_status parse_header(const char *text, size_t len, const char *path,
                                struct npy_header *out)
{
    struct hdr h = {text, text + len, path};
    int have_descr = 0, have_order = 0, have_shape = 0;
    vitc_status st = expect_char(&h, '{', "to start the header dict");
    if (st != VITC_OK) {
        return st;
    }
    while (!accept_char(&h, '}')) {
        const char *key = NULL;
        size_t key_len = 0;
        int *seen = NULL;
        if ((st = parse_string(&h, &key, &key_len)) != VITC_OK ||
            (st = expect_char(&h, ':', "after a key")) != VITC_OK) {
            return st;
        }
        if (key_len == 5 && memcmp(key, "descr", 5) == 0) {
            seen = &have_descr;
            st = *seen ? VITC_OK : parse_descr(&h, out);
        } else if (key_len == 13 && memcmp(key, "fortran_order", 13) == 0) {
            seen = &have_order;
            st = *seen ? VITC_OK : parse_fortran_order(&h);
        } else if (key_len == 5 && memcmp(key, "shape", 5) == 0) {
            seen = &have_shape;
            st = *seen ? VITC_OK : parse_shape(&h, out);
        } else {
            return vitc_error(VITC_ERR_FORMAT, "%s: bad .npy header: unexpected key '%.*s'", path,
                              (int)(key_len > 32 ? 32 : key_len), key);
        }
        if (*seen) {
            return vitc_error(VITC_ERR_FORMAT, "%s: bad .npy header: key '%.*s' repeated", path,
                              (int)key_len, key);
        }
        if (st != VITC_OK) {
            return st;
        }
        *seen = 1;
        if (!accept_char(&h, ',')) {
            if ((st = expect_char(&h, '}', "to end the header dict")) != VITC_OK) {
                return st;
            }
            break;
        }
    }
    skip_space(&h);
    if (h.p != h.end) {
        return vitc_error(VITC_ERR_FORMAT, "%s: bad .npy header: trailing bytes after the dict",
                          path);
    }
    if (!have_descr || !have_order || !have_shape) {
        return vitc_error(VITC_ERR_FORMAT, "%s: bad .npy header: missing '%s'", path,
                          !have_descr   ? "descr"
                          : !have_order ? "fortran_order"
                                        : "shape");
    }
    size_t n = 1;
    for (size_t i = 0; i < out->ndim; i++) {
        if (vitc_mul_size(n, out->shape[i], &n)) {
            return vitc_error(VITC_ERR_FORMAT, "%s: shape overflows the address space", path);
        }
    }
    size_t bytes = 0;
    if (vitc_mul_size(n, out->itemsize, &bytes)) {
        return vitc_error(VITC_ERR_FORMAT, "%s: shape overflows the address space", path);
    }
    out->n_elems = n;
    return VITC_OK;
}

/* ---- reading ---- */

/* Reads exactly n bytes; 0 on success, 1 on a short file, -1 on an error (errno). */
static int read_full(int fd, void *buf, size_t n)
{
    unsigned char *p = buf;
    while (n > 0) {
        ssize_t r = read(fd, p, n);
        if (r < 0) {
            if (errno == EINTR) {
                continue;
            }
            return -1;
        }
        if (r == 0) {
            return 1;
        }
        p += r;
        n -= (size_t)r;
    }
    return 0;
}

static vitc_status read_or_fail(int fd, void *buf, size_t n, const char *path, const char *what)
{
    int r = read_full(fd, buf, n);
    if (r < 0) {
        char eb[128];
        return vitc_error(VITC_ERR_IO, "%s: read error: %s", path,
                          errno_text(errno, eb, sizeof eb));
    }
    if (r > 0) {
        return vitc_error(VITC_ERR_FORMAT, "%s: truncated .npy file (in the %s)", path, what);
    }
    return VITC_OK;
}

vitc_status vitc_npy_load(const char *path, vitc_tensor **out)
{
    int fd = -1;
    char *text = NULL;
    vitc_tensor *t = NULL;
    vitc_status st = VITC_OK;
    char eb[128];
    unsigned char prefix[NPY_PREFIX_LEN + 4];
    struct npy_header hdr;
    struct stat sb;

    if (!path || !out) {
        return vitc_error(VITC_ERR_INVALID_ARG, "vitc_npy_load: path and out must not be NULL");
    }
    memset(&hdr, 0, sizeof hdr);
    fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) {
        return vitc_error(VITC_ERR_IO, "%s: %s", path, errno_text(errno, eb, sizeof eb));
    }
    if (fstat(fd, &sb) != 0) {
        st = vitc_error(VITC_ERR_IO, "%s: %s", path, errno_text(errno, eb, sizeof eb));
        goto done;
    }
    if (!S_ISREG(sb.st_mode)) {
        st = vitc_error(VITC_ERR_IO, "%s: not a regular file", path);
        goto done;
    }
    if ((st = read_or_fail(fd, prefix, NPY_PREFIX_LEN, path, "magic")) != VITC_OK) {
        goto done;
    }
    if (memcmp(prefix, npy_magic, NPY_MAGIC_LEN) != 0) {
        st = vitc_error(VITC_ERR_FORMAT, "%s: not a .npy file (bad magic)", path);
        goto done;
    }
    unsigned major = prefix[6], minor = prefix[7];
    if (major < 1 || major > 3 || minor != 0) {
        st = vitc_error(VITC_ERR_UNSUPPORTED, "%s: unsupported .npy version %u.%u", path, major,
                        minor);
        goto done;
    }
    /* v1.0 has a u16 header length, v2.0/v3.0 a u32; both little-endian. */
    size_t len_size = major == 1 ? 2 : 4;
    if ((st = read_or_fail(fd, prefix + NPY_PREFIX_LEN, len_size, path, "header length")) !=
        VITC_OK) {
        goto done;
    }
    const unsigned char *lp = prefix + NPY_PREFIX_LEN;
    size_t header_len = (size_t)lp[0] | (size_t)lp[1] << 8;
    if (len_size == 4) {
        header_len |= (size_t)lp[2] << 16 | (size_t)lp[3] << 24;
    }
    if (header_len > NPY_MAX_HEADER) {
        st = vitc_error(VITC_ERR_FORMAT, "%s: .npy header length %zu exceeds %u bytes", path,
                        header_len, NPY_MAX_HEADER);
        goto done;
    }
    text = vitc_mem_alloc(header_len);
    if (!text) {
        st = vitc_error(VITC_ERR_NOMEM, "%s: out of memory for the .npy header", path);
        goto done;
    }
    if ((st = read_or_fail(fd, text, header_len, path, "header")) != VITC_OK ||
        (st = parse_header(text, header_len, path, &hdr)) != VITC_OK) {
        goto done;
    }
    size_t data_off = NPY_PREFIX_LEN + len_size + header_len;
    size_t data_size = hdr.n_elems * hdr.itemsize; /* checked in parse_header */
    size_t file_size = (size_t)sb.st_size;
    size_t have = file_size < data_off ? 0 : file_size - data_off;
    if (have != data_size) {
        st = vitc_error(VITC_ERR_FORMAT, "%s: data is %zu bytes but the shape needs %zu (file %s)",
                        path, have, data_size,
                        have < data_size ? "truncated" : "has trailing bytes");
        goto done;
    }
    t = vitc_mem_calloc(1, sizeof *t);
    if (!t || !(t->data = vitc_mem_alloc(data_size))) {
        st = vitc_error(VITC_ERR_NOMEM, "%s: out of memory for %zu bytes of .npy data", path,
                        data_size);
        goto done;
    }
    if ((st = read_or_fail(fd, t->data, data_size, path, "data")) != VITC_OK) {
        goto done;
    }
    if (hdr.dtype == VITC_DTYPE_F32 && !host_is_little_endian()) {
        swap32_inplace(t->data, hdr.n_elems);
    }
    t->dtype = hdr.dtype;
    t->ndim = hdr.ndim;
    memcpy(t->shape, hdr.shape, sizeof t->shape);
    t->n_elems = hdr.n_elems;
    *out = t;
    t = NULL;

done:
    vitc_tensor_free(t);
    vitc_mem_free(text);
    if (fd >= 0) {
        close(fd);
    }
    return st;
}

void vitc_tensor_free(vitc_tensor *t)
{
    if (t) {
        vitc_mem_free(t->data);
        vitc_mem_free(t);
    }
}

/* ---- writing ---- */

/* Formats numpy's v1.0 header for a '<f4' C-order array into buf (prefix included);
 * returns its total length, a multiple of NPY_ALIGN. buf holds NPY_WRITE_HEADER_MAX bytes,
 * enough for VITC_TENSOR_MAX_DIMS axes of 20 digits plus padding. The length does not
 * depend on shape[0] (its growth padding absorbs the digits), which lets the streaming
 * writer reserve the header before it knows the row count. */
size_t vitc_npy_format_header(char *buf, size_t ndim, const size_t *shape)
{
    const size_t start = NPY_PREFIX_LEN + 2;
    size_t n = start;
    n += (size_t)snprintf(buf + n, NPY_WRITE_HEADER_MAX - n,
                          "{'descr': '<f4', 'fortran_order': False, 'shape': (");
    for (size_t i = 0; i < ndim; i++) {
        n += (size_t)snprintf(buf + n, NPY_WRITE_HEADER_MAX - n, "%s%zu", i ? ", " : "", shape[i]);
    }
    n += (size_t)snprintf(buf + n, NPY_WRITE_HEADER_MAX - n, "%s", ndim == 1 ? ",), }" : "), }");
    if (ndim > 0) {
        int digits = snprintf(NULL, 0, "%zu", shape[0]);
        for (int i = digits; i < NPY_GROWTH_DIGITS; i++) {
            buf[n++] = ' ';
        }
    }
    /* numpy always pads with 1..64 spaces, then ends the header with '\n'. */
    size_t pad = NPY_ALIGN - (n + 1) % NPY_ALIGN;
    memset(buf + n, ' ', pad);
    n += pad;
    buf[n++] = '\n';
    size_t header_len = n - start;
    memcpy(buf, npy_magic, NPY_MAGIC_LEN);
    buf[6] = 1;
    buf[7] = 0;
    buf[8] = (char)(header_len & 0xff);
    buf[9] = (char)(header_len >> 8);
    return n;
}

size_t vitc_npy_header(char *buf, size_t buf_size, size_t ndim, const size_t *shape)
{
    if (!buf || buf_size < VITC_NPY_HEADER_MAX || ndim > VITC_TENSOR_MAX_DIMS ||
        (ndim > 0 && !shape)) {
        return 0;
    }
    return vitc_npy_format_header(buf, ndim, shape);
}

static int write_full(int fd, const void *buf, size_t n)
{
    const unsigned char *p = buf;
    while (n > 0) {
        ssize_t w = write(fd, p, n);
        if (w < 0) {
            if (errno == EINTR) {
                continue;
            }
            return -1;
        }
        p += w;
        n -= (size_t)w;
    }
    return 0;
}

/* Creates "<dir>/.<base>.XXXXXX" exclusively with mode 0666 so the umask applies as for
 * any new file (mkstemp would force 0600). Returns the fd, or -1 with errno set. */
static int create_temp(char *tmp, size_t suffix_at)
{
    static const char alphabet[] = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789";
    for (int attempt = 0; attempt < 100; attempt++) {
        unsigned char rnd[6];
        if (getrandom(rnd, sizeof rnd, 0) != (ssize_t)sizeof rnd) {
            return -1;
        }
        for (int i = 0; i < 6; i++) {
            tmp[suffix_at + (size_t)i] = alphabet[rnd[i] % (sizeof alphabet - 1)];
        }
        int fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0666);
        if (fd >= 0 || errno != EEXIST) {
            return fd;
        }
    }
    errno = EEXIST;
    return -1;
}

/* Writes the header and the data (little-endian, converted in chunks on big-endian hosts). */
static int write_contents(int fd, const char *header, size_t header_size, const float *data,
                          size_t n_elems)
{
    if (write_full(fd, header, header_size) != 0) {
        return -1;
    }
    if (host_is_little_endian()) {
        return n_elems ? write_full(fd, data, n_elems * sizeof(float)) : 0;
    }
    unsigned char chunk[4096];
    for (size_t i = 0; i < n_elems;) {
        size_t m = n_elems - i < sizeof chunk / 4 ? n_elems - i : sizeof chunk / 4;
        memcpy(chunk, data + i, m * 4);
        swap32_inplace(chunk, m);
        if (write_full(fd, chunk, m * 4) != 0) {
            return -1;
        }
        i += m;
    }
    return 0;
}

vitc_status vitc_npy_save(const char *path, const float *data, size_t ndim, const size_t *shape)
{
    char *tmp = NULL;
    int fd = -1;
    int created = 0;
    vitc_status st = VITC_OK;
    char eb[128];
    char header[NPY_WRITE_HEADER_MAX];

    if (!path || !*path || (ndim > 0 && !shape)) {
        return vitc_error(VITC_ERR_INVALID_ARG, "vitc_npy_save: path and shape are required");
    }
    if (ndim > VITC_TENSOR_MAX_DIMS) {
        return vitc_error(VITC_ERR_INVALID_ARG, "%s: %zu dimensions (at most %d)", path, ndim,
                          VITC_TENSOR_MAX_DIMS);
    }
    size_t n_elems = 1, n_bytes = 0;
    for (size_t i = 0; i < ndim; i++) {
        if (vitc_mul_size(n_elems, shape[i], &n_elems)) {
            return vitc_error(VITC_ERR_INVALID_ARG, "%s: shape overflows the address space", path);
        }
    }
    if (vitc_mul_size(n_elems, sizeof(float), &n_bytes)) {
        return vitc_error(VITC_ERR_INVALID_ARG, "%s: shape overflows the address space", path);
    }
    if (n_elems > 0 && !data) {
        return vitc_error(VITC_ERR_INVALID_ARG, "%s: data is NULL", path);
    }
    size_t header_size = vitc_npy_format_header(header, ndim, shape);

    /* The temporary file lives beside the target so rename() stays on one file system. */
    const char *slash = strrchr(path, '/');
    size_t dir_len = slash ? (size_t)(slash - path) + 1 : 0;
    const char *base = path + dir_len;
    if (!*base) {
        return vitc_error(VITC_ERR_INVALID_ARG, "%s: path names a directory", path);
    }
    size_t tmp_size = 0;
    if (vitc_add_size(strlen(path), sizeof "/..XXXXXX", &tmp_size) ||
        !(tmp = vitc_mem_alloc(tmp_size))) {
        return vitc_error(VITC_ERR_NOMEM, "%s: out of memory", path);
    }
    size_t suffix_at = (size_t)sprintf(tmp, "%.*s.%s.", (int)dir_len, path, base);
    strcpy(tmp + suffix_at, "XXXXXX");

    fd = create_temp(tmp, suffix_at);
    if (fd < 0) {
        st = vitc_error(VITC_ERR_IO, "%s: cannot create a file in directory '%.*s': %s", path,
                        dir_len ? (int)dir_len : 1, dir_len ? path : ".",
                        errno_text(errno, eb, sizeof eb));
        goto done;
    }
    created = 1;
    if (write_contents(fd, header, header_size, data, n_elems) != 0 || fsync(fd) != 0) {
        st = vitc_error(VITC_ERR_IO, "%s: write error: %s", path, errno_text(errno, eb, sizeof eb));
        goto done;
    }
    int rc = close(fd);
    fd = -1;
    if (rc != 0) {
        st = vitc_error(VITC_ERR_IO, "%s: write error: %s", path, errno_text(errno, eb, sizeof eb));
        goto done;
    }
    if (rename(tmp, path) != 0) {
        st = vitc_error(VITC_ERR_IO, "%s: cannot replace: %s", path,
                        errno_text(errno, eb, sizeof eb));
        goto done;
    }
    created = 0;

done:
    if (fd >= 0) {
        close(fd);
    }
    if (created) {
        unlink(tmp);
    }
    vitc_mem_free(tmp);
    return st;
}
