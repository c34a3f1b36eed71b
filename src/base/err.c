/* SPDX-License-Identifier: MIT
 *
 * err.c — the thread-local last-error message, status strings, version,
 * and the allocation hooks with per-thread failure injection for tests.
 * The only process-wide state here is thread-local.
 */
#include "base/err.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define ERR_MSG_SIZE 1024

static _Thread_local char last_error[ERR_MSG_SIZE];
/* Failure injection: allocations counted since the last arm, and which one fails (0 = none). */
static _Thread_local size_t alloc_count;
static _Thread_local size_t alloc_fail_at;

const char *vitc_status_str(vitc_status status)
{
    switch (status) {
    case VITC_OK: return "ok";
    case VITC_ERR_INVALID_ARG: return "invalid argument";
    case VITC_ERR_IO: return "i/o error";
    case VITC_ERR_FORMAT: return "bad format";
    case VITC_ERR_UNSUPPORTED: return "unsupported";
    case VITC_ERR_NOMEM: return "out of memory";
    case VITC_ERR_BACKEND: return "backend error";
    }
    return "unknown status";
}

const char *vitc_last_error(void)
{
    return last_error[0] ? last_error : "no error";
}

const char *vitc_version(void)
{
    return "0.1.0";
}

vitc_status vitc_error(vitc_status status, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(last_error, sizeof last_error, fmt, ap);
    va_end(ap);
    return status;
}

/* ---- allocation hooks ---- */

static int should_fail(void)
{
    alloc_count++;
    return alloc_fail_at != 0 && alloc_count == alloc_fail_at;
}

size_t vitc_test_fail_alloc_after(size_t k)
{
    size_t n = alloc_count;
    alloc_count = 0;
    alloc_fail_at = k;
    return n;
}

void *vitc_mem_alloc(size_t size)
{
    if (should_fail()) {
        return NULL;
    }
    return malloc(size ? size : 1);
}

void *vitc_mem_calloc(size_t count, size_t size)
{
    if (should_fail()) {
        return NULL;
    }
    return calloc(count ? count : 1, size ? size : 1);
}

void *vitc_mem_realloc(void *ptr, size_t size)
{
    if (should_fail()) {
        return NULL;
    }
    return realloc(ptr, size ? size : 1);
}

void vitc_mem_free(void *ptr)
{
    free(ptr);
}

char *vitc_mem_strdup(const char *s)
{
    size_t n = strlen(s) + 1;
    char *copy = vitc_mem_alloc(n);
    if (copy) {
        memcpy(copy, s, n);
    }
    return copy;
}

void *vitc_mem_alloc_aligned(size_t size)
{
    void *p = NULL;
    if (should_fail()) {
        return NULL;
    }
    /* Round up: aligned_alloc wants a multiple of the alignment. */
    size_t rounded = (size + 63) & ~(size_t)63;
    if (rounded < size || posix_memalign(&p, 64, rounded ? rounded : 64) != 0) {
        return NULL;
    }
    return p;
}

void vitc_mem_free_aligned(void *ptr)
{
    free(ptr);
}

char *vitc_path_join(const char *dir, const char *name)
{
    size_t a = strlen(dir), b = strlen(name);
    char *p = vitc_mem_alloc(a + b + 2);
    if (!p) {
        vitc_error(VITC_ERR_NOMEM, "out of memory joining path '%s/%s'", dir, name);
        return NULL;
    }
    memcpy(p, dir, a);
    size_t at = a;
    if (a > 0 && dir[a - 1] != '/') {
        p[at++] = '/';
    }
    memcpy(p + at, name, b + 1);
    return p;
}
