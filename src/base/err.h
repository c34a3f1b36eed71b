/* SPDX-License-Identifier: MIT
 *
 * err.h — status codes, the thread-local error message, overflow-checked
 * size arithmetic and the allocation hooks every library allocation goes
 * through (so tests can make the k-th allocation fail).
 * Leaf module: depends on nothing else in vitc.
 */
#ifndef VITC_ERR_H
#define VITC_ERR_H

#include <stddef.h>
#include <stdint.h>

#include "vitc.h"

/* Sets this thread's error message (printf-style) and returns status, so
 * detection sites can write `return vitc_error(VITC_ERR_FORMAT, "%s: ...", path);`.
 * Only the code that detects a problem calls this; callers pass the status on. */
vitc_status vitc_error(vitc_status status, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

/* Allocation hooks. vitc_mem_alloc/calloc return NULL on failure without
 * setting a message; use vitc_alloc_or_fail to also set "out of memory". */
void *vitc_mem_alloc(size_t size);
void *vitc_mem_calloc(size_t count, size_t size);
void *vitc_mem_realloc(void *ptr, size_t size);
void  vitc_mem_free(void *ptr);
char *vitc_mem_strdup(const char *s);

/* Allocates size bytes aligned to 64 (cache line / AVX-512), freed with
 * vitc_mem_free_aligned. Goes through the same failure injection. */
void *vitc_mem_alloc_aligned(size_t size);
void  vitc_mem_free_aligned(void *ptr);

/* Test hook: make the k-th allocation from now on (1-based) on this thread
 * fail; 0 disables. Returns the number of allocations counted since the
 * last call. Not part of the public API. */
VITC_API size_t vitc_test_fail_alloc_after(size_t k);

/* Overflow-checked arithmetic: return 0 on success, non-zero on overflow. */
static inline int vitc_mul_size(size_t a, size_t b, size_t *out)
{
    return __builtin_mul_overflow(a, b, out);
}
static inline int vitc_add_size(size_t a, size_t b, size_t *out)
{
    return __builtin_add_overflow(a, b, out);
}

/* Joins dir and name with '/' into a new string (caller frees with
 * vitc_mem_free); NULL on allocation failure (message set). */
char *vitc_path_join(const char *dir, const char *name);

#endif /* VITC_ERR_H */
