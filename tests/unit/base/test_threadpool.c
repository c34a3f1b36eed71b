/* SPDX-License-Identifier: MIT
 *
 * test_threadpool.c — the ctx thread pool: every task index runs exactly
 * once for many task counts and thread counts, pools are reusable, can be
 * freed unused, refuse impossible sizes, and keep their profiling busy
 * counters when asked. Run under TSan as well.
 */
#include <stdatomic.h>

#include "base/err.h"
#include "base/threadpool.h"
#include "test.h"

#define MAX_TASKS 1000

struct count_job {
    atomic_int hits[MAX_TASKS]; /* times each task ran                  */
    atomic_int bad_ith;         /* tasks that saw ith out of 0..nth-1   */
    int nth;
};

static void count_task(void *arg, size_t task, int ith)
{
    struct count_job *j = arg;
    atomic_fetch_add(&j->hits[task], 1);
    if (ith < 0 || ith >= j->nth) {
        atomic_fetch_add(&j->bad_ith, 1);
    }
}

/* Runs parallel_for(n) on pool and checks every index ran exactly once. */
static int covers_once(struct vitc_threadpool *pool, size_t n, struct count_job *j)
{
    for (size_t i = 0; i < MAX_TASKS; i++) {
        atomic_store(&j->hits[i], 0);
    }
    atomic_store(&j->bad_ith, 0);
    j->nth = vitc_threadpool_size(pool);
    vitc_threadpool_parallel_for(pool, n, count_task, j);
    for (size_t i = 0; i < MAX_TASKS; i++) {
        int want = i < n ? 1 : 0;
        if (atomic_load(&j->hits[i]) != want) {
            fprintf(stderr, "  task %zu of %zu ran %d times (nth %d)\n", i, n,
                    atomic_load(&j->hits[i]), j->nth);
            return 0;
        }
    }
    return atomic_load(&j->bad_ith) == 0;
}

static void test_every_index_once(void)
{
    static struct count_job job;
    const int threads[] = {1, 2, 3, 4, 7, 16};
    const size_t counts[] = {0, 1, 2, 3, 5, 7, 8, 16, 17, 63, 64, 100, 997, MAX_TASKS};
    for (size_t t = 0; t < sizeof threads / sizeof threads[0]; t++) {
        struct vitc_threadpool *pool = NULL;
        CHECK(vitc_threadpool_new(threads[t], &pool) == VITC_OK);
        if (!pool) {
            continue;
        }
        CHECK(vitc_threadpool_size(pool) == threads[t]);
        for (size_t c = 0; c < sizeof counts / sizeof counts[0]; c++) {
            CHECKF(covers_once(pool, counts[c], &job), "n_threads %d, n_tasks %zu", threads[t],
                   counts[c]);
        }
        vitc_threadpool_free(pool);
    }
}

/* Many back-to-back jobs on one pool: no job may be lost or run twice. */
static void test_repeated_use(void)
{
    static struct count_job job;
    struct vitc_threadpool *pool = NULL;
    CHECK(vitc_threadpool_new(4, &pool) == VITC_OK);
    if (!pool) {
        return;
    }
    int ok = 1;
    for (int rep = 0; rep < 2000 && ok; rep++) {
        ok = covers_once(pool, (size_t)(rep % 37), &job);
    }
    CHECK(ok);
    vitc_threadpool_free(pool);
}

struct sum_job {
    const double *x;
    double *partial; /* one slot per task: results depend on task only */
};

static void sum_task(void *arg, size_t task, int ith)
{
    struct sum_job *j = arg;
    double s = 0;
    for (size_t i = 0; i < 100; i++) {
        s += j->x[task * 100 + i];
    }
    j->partial[task] = s;
}

/* Task results written by workers are visible to the caller afterwards. */
static void test_results_visible(void)
{
    static double x[64 * 100], partial[64];
    for (size_t i = 0; i < 64 * 100; i++) {
        x[i] = (double)(i % 100);
    }
    struct vitc_threadpool *pool = NULL;
    CHECK(vitc_threadpool_new(3, &pool) == VITC_OK);
    if (!pool) {
        return;
    }
    struct sum_job j = {.x = x, .partial = partial};
    vitc_threadpool_parallel_for(pool, 64, sum_task, &j);
    for (size_t t = 0; t < 64; t++) {
        CHECK(partial[t] == 4950.0);
    }
    vitc_threadpool_free(pool);
}

/* Busy counters: with them set, each job adds CPU time to the threads
 * that ran its tasks (the caller always takes tasks, so busy[0] grows, and
 * the sum does); with NULL they stay as they are. On 1 thread too. */
static void test_busy_counters(void)
{
    static double x[64 * 100], partial[64];
    for (int nth = 1; nth <= 3; nth += 2) {
        struct vitc_threadpool *pool = NULL;
        CHECK(vitc_threadpool_new(nth, &pool) == VITC_OK);
        if (!pool) {
            return;
        }
        uint64_t busy[3] = {0, 0, 0};
        struct sum_job j = {.x = x, .partial = partial};
        vitc_threadpool_set_busy(pool, busy);
        for (int rep = 0; rep < 200; rep++) {
            vitc_threadpool_parallel_for(pool, 64, sum_task, &j);
        }
        vitc_threadpool_set_busy(pool, NULL);
        CHECKF(busy[0] > 0, "%d threads: busy[0] stayed 0", nth);
        uint64_t sum = busy[0] + busy[1] + busy[2], after = 0;
        vitc_threadpool_parallel_for(pool, 64, sum_task, &j);
        after = busy[0] + busy[1] + busy[2];
        CHECKF(after == sum, "%d threads: counters moved after set_busy(NULL)", nth);
        vitc_threadpool_free(pool);
    }
}

/* serial_for runs every index once, all on thread 0, on any pool size. */
static void test_serial_for(void)
{
    static struct count_job j;
    struct vitc_threadpool *pool = NULL;
    CHECK(vitc_threadpool_new(3, &pool) == VITC_OK);
    if (!pool) {
        return;
    }
    for (size_t i = 0; i < MAX_TASKS; i++) {
        atomic_store(&j.hits[i], 0);
    }
    atomic_store(&j.bad_ith, 0);
    j.nth = 1; /* any ith but 0 counts as bad */
    vitc_threadpool_serial_for(pool, 37, count_task, &j);
    for (size_t i = 0; i < MAX_TASKS; i++) {
        CHECKF(atomic_load(&j.hits[i]) == (i < 37 ? 1 : 0), "task %zu ran %d times", i,
               atomic_load(&j.hits[i]));
    }
    CHECK(atomic_load(&j.bad_ith) == 0);
    vitc_threadpool_free(pool);
}

static void test_free_without_use(void)
{
    for (int n = 1; n <= 8; n++) {
        struct vitc_threadpool *pool = NULL;
        CHECK(vitc_threadpool_new(n, &pool) == VITC_OK);
        vitc_threadpool_free(pool);
    }
    vitc_threadpool_free(NULL);
}

static void test_bad_sizes(void)
{
    static int sentinel;
    struct vitc_threadpool *const before = (struct vitc_threadpool *)&sentinel;
    struct vitc_threadpool *pool = before;
    CHECK(vitc_threadpool_new(0, &pool) == VITC_ERR_INVALID_ARG);
    CHECK(vitc_threadpool_new(-3, &pool) == VITC_ERR_INVALID_ARG);
    CHECK(vitc_threadpool_new(VITC_THREADPOOL_MAX + 1, &pool) == VITC_ERR_INVALID_ARG);
    CHECK(pool == before);
    CHECK(strstr(vitc_last_error(), "n_threads") != NULL);
}

/* Every allocation of vitc_threadpool_new failing in turn: a clean error,
 * *out untouched, no leak (ASan). */
static void test_alloc_failures(void)
{
    int succeeded = 0;
    for (size_t k = 1; k < 20 && !succeeded; k++) {
        struct vitc_threadpool *pool = NULL;
        vitc_test_fail_alloc_after(k);
        vitc_status s = vitc_threadpool_new(4, &pool);
        vitc_test_fail_alloc_after(0);
        if (s == VITC_OK) {
            succeeded = 1;
            vitc_threadpool_free(pool);
        } else {
            CHECK(s == VITC_ERR_NOMEM);
            CHECK(pool == NULL);
        }
    }
    CHECK(succeeded);
}

int main(void)
{
    RUN(test_every_index_once);
    RUN(test_repeated_use);
    RUN(test_results_visible);
    RUN(test_busy_counters);
    RUN(test_serial_for);
    RUN(test_free_without_use);
    RUN(test_bad_sizes);
    RUN(test_alloc_failures);
    return TEST_REPORT();
}
