/* SPDX-License-Identifier: MIT
 *
 * threadpool.c — pthread workers that take task indices from an atomic
 * counter during a job (dynamic scheduling, as ggml's threadpool hands out
 * chunks) and between jobs poll for the next one for a few tens of
 * microseconds before sleeping on a condition variable: a forward runs ~90
 * short jobs back to back, and a futex wake-up per job cost 13-40 us each.
 * The job is published under the mutex with a release store of its
 * generation; the counters are the only other state touched without it.
 */
#include "base/threadpool.h"

#include <pthread.h>
#include <sched.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <string.h>
#include <time.h>

#include "base/err.h"

struct worker {
    struct vitc_threadpool *pool;
    int ith;
};

struct vitc_threadpool {
    int n_threads;          /* nth: workers + the calling thread      */
    int n_started;          /* workers running (joined at free)        */
    pthread_t *threads;     /* (n_threads - 1)                          */
    struct worker *workers; /* (n_threads - 1)                          */

    pthread_mutex_t mu;
    pthread_cond_t start_cv;         /* a new job or stop: generation changed   */
    pthread_cond_t done_cv;          /* n_busy reached 0                         */
    atomic_uint_fast64_t generation; /* job number; stored under mu (release) */
    atomic_bool stop;                /* stored under mu                          */
    atomic_int n_busy;               /* workers still in the current job         */

    vitc_task_fn fn; /* the current job, written under mu before generation */
    void *arg;
    size_t n_tasks;
    uint64_t *busy_ns;       /* (n_threads) or NULL: see vitc_threadpool_set_busy */
    atomic_size_t next_task; /* next task index to hand out              */
};

/* The calling thread's CPU time: time it spent descheduled (a busy
 * machine) does not count as busy. */
static uint64_t now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
    return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

/* Takes tasks until none are left; with busy set, adds the CPU time this
 * took to busy[ith] (one clock pair per thread and job, not per task). */
static void run_tasks(struct vitc_threadpool *pool, vitc_task_fn fn, void *arg, size_t n_tasks,
                      int ith, uint64_t *busy)
{
    uint64_t t0 = busy ? now_ns() : 0;
    for (;;) {
        size_t t = atomic_fetch_add_explicit(&pool->next_task, 1, memory_order_relaxed);
        if (t >= n_tasks) {
            break;
        }
        fn(arg, t, ith);
    }
    if (busy) {
        busy[ith] += now_ns() - t0;
    }
}

/* Polls between jobs, about 50 us before falling back to the condition
 * variable. Every 64th poll yields the core, so on an oversubscribed
 * machine a poller does not keep the thread it waits for off the CPU. */
#define SPIN_POLLS 2048

static inline void cpu_relax(int i)
{
    if (i % 64 == 63) {
        sched_yield();
        return;
    }
#if defined(__x86_64__) || defined(__i386__)
    __builtin_ia32_pause();
#endif
}

/* True once the pool has moved past generation `seen` or is stopping,
 * polled without the mutex for a while. */
static bool spin_for_job(struct vitc_threadpool *pool, uint64_t seen)
{
    for (int i = 0; i < SPIN_POLLS; i++) {
        if (atomic_load_explicit(&pool->generation, memory_order_acquire) != seen ||
            atomic_load_explicit(&pool->stop, memory_order_acquire)) {
            return true;
        }
        cpu_relax(i);
    }
    return false;
}

static void *worker_main(void *p)
{
    struct worker *w = p;
    struct vitc_threadpool *pool = w->pool;
    uint64_t seen = 0;
    for (;;) {
        if (!spin_for_job(pool, seen)) {
            pthread_mutex_lock(&pool->mu);
            while (!atomic_load(&pool->stop) && atomic_load(&pool->generation) == seen) {
                pthread_cond_wait(&pool->start_cv, &pool->mu);
            }
            pthread_mutex_unlock(&pool->mu);
        }
        if (atomic_load_explicit(&pool->stop, memory_order_acquire)) {
            break;
        }
        /* The acquire load of the generation orders these reads after the
         * owner's writes; the owner writes them again only after this
         * worker has left the job (n_busy). */
        seen = atomic_load_explicit(&pool->generation, memory_order_acquire);
        vitc_task_fn fn = pool->fn;
        void *arg = pool->arg;
        size_t n_tasks = pool->n_tasks;
        uint64_t *busy = pool->busy_ns;

        run_tasks(pool, fn, arg, n_tasks, w->ith, busy);

        if (atomic_fetch_sub_explicit(&pool->n_busy, 1, memory_order_acq_rel) == 1) {
            pthread_mutex_lock(&pool->mu);
            pthread_cond_signal(&pool->done_cv);
            pthread_mutex_unlock(&pool->mu);
        }
    }
    return NULL;
}

/* ---- lifetime ---- */

vitc_status vitc_threadpool_new(int n_threads, struct vitc_threadpool **out)
{
    if (n_threads < 1 || n_threads > VITC_THREADPOOL_MAX) {
        return vitc_error(VITC_ERR_INVALID_ARG, "thread pool: n_threads %d is not in 1..%d",
                          n_threads, VITC_THREADPOOL_MAX);
    }
    struct vitc_threadpool *pool = vitc_mem_calloc(1, sizeof *pool);
    if (!pool) {
        return vitc_error(VITC_ERR_NOMEM, "thread pool: out of memory");
    }
    pool->n_threads = n_threads;
    atomic_init(&pool->next_task, 0);
    atomic_init(&pool->generation, 0);
    atomic_init(&pool->stop, false);
    atomic_init(&pool->n_busy, 0);
    pthread_mutex_init(&pool->mu, NULL);
    pthread_cond_init(&pool->start_cv, NULL);
    pthread_cond_init(&pool->done_cv, NULL);
    size_t n_workers = (size_t)n_threads - 1;
    if (n_workers > 0) {
        pool->threads = vitc_mem_calloc(n_workers, sizeof *pool->threads);
        pool->workers = vitc_mem_calloc(n_workers, sizeof *pool->workers);
        if (!pool->threads || !pool->workers) {
            vitc_threadpool_free(pool);
            return vitc_error(VITC_ERR_NOMEM, "thread pool: out of memory");
        }
    }
    for (size_t i = 0; i < n_workers; i++) {
        pool->workers[i] = (struct worker){.pool = pool, .ith = (int)i + 1};
        int rc = pthread_create(&pool->threads[i], NULL, worker_main, &pool->workers[i]);
        if (rc != 0) {
            vitc_threadpool_free(pool);
            return vitc_error(VITC_ERR_BACKEND, "thread pool: cannot start thread %zu of %d: %s",
                              i + 2, n_threads, strerror(rc));
        }
        pool->n_started++;
    }
    *out = pool;
    return VITC_OK;
}

void vitc_threadpool_free(struct vitc_threadpool *pool)
{
    if (!pool) {
        return;
    }
    if (pool->n_started > 0) {
        pthread_mutex_lock(&pool->mu);
        atomic_store_explicit(&pool->stop, true, memory_order_release);
        pthread_cond_broadcast(&pool->start_cv);
        pthread_mutex_unlock(&pool->mu);
        for (int i = 0; i < pool->n_started; i++) {
            pthread_join(pool->threads[i], NULL);
        }
    }
    pthread_cond_destroy(&pool->done_cv);
    pthread_cond_destroy(&pool->start_cv);
    pthread_mutex_destroy(&pool->mu);
    vitc_mem_free(pool->workers);
    vitc_mem_free(pool->threads);
    vitc_mem_free(pool);
}

int vitc_threadpool_size(const struct vitc_threadpool *pool)
{
    return pool->n_threads;
}

void vitc_threadpool_set_busy(struct vitc_threadpool *pool, uint64_t *busy_ns)
{
    pthread_mutex_lock(&pool->mu);
    pool->busy_ns = busy_ns;
    pthread_mutex_unlock(&pool->mu);
}

/* ---- jobs ---- */

void vitc_threadpool_serial_for(struct vitc_threadpool *pool, size_t n_tasks, vitc_task_fn fn,
                                void *arg)
{
    uint64_t t0 = pool->busy_ns ? now_ns() : 0;
    for (size_t t = 0; t < n_tasks; t++) {
        fn(arg, t, 0);
    }
    if (pool->busy_ns) {
        pool->busy_ns[0] += now_ns() - t0;
    }
}

void vitc_threadpool_parallel_for(struct vitc_threadpool *pool, size_t n_tasks, vitc_task_fn fn,
                                  void *arg)
{
    /* Nothing to share: skip waking the workers. */
    if (pool->n_threads == 1 || n_tasks <= 1) {
        vitc_threadpool_serial_for(pool, n_tasks, fn, arg);
        return;
    }
    pthread_mutex_lock(&pool->mu);
    pool->fn = fn;
    pool->arg = arg;
    pool->n_tasks = n_tasks;
    atomic_store_explicit(&pool->next_task, 0, memory_order_relaxed);
    atomic_store_explicit(&pool->n_busy, pool->n_threads - 1, memory_order_relaxed);
    atomic_fetch_add_explicit(&pool->generation, 1, memory_order_release);
    pthread_cond_broadcast(&pool->start_cv);
    pthread_mutex_unlock(&pool->mu);

    run_tasks(pool, fn, arg, n_tasks, 0, pool->busy_ns);

    /* Poll for the workers to finish, then sleep until the last one signals
     * (it signals under the mutex, so the check below cannot miss it). */
    for (int i = 0; i < SPIN_POLLS; i++) {
        if (atomic_load_explicit(&pool->n_busy, memory_order_acquire) == 0) {
            return;
        }
        cpu_relax(i);
    }
    pthread_mutex_lock(&pool->mu);
    while (atomic_load_explicit(&pool->n_busy, memory_order_acquire) > 0) {
        pthread_cond_wait(&pool->done_cv, &pool->mu);
    }
    pthread_mutex_unlock(&pool->mu);
}
