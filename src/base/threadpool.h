/* SPDX-License-Identifier: MIT
 *
 * threadpool.h — a fixed set of pthreads owned by one ctx's CPU backend,
 * started once and joined at free, running parallel_for jobs. No threads are
 * created and nothing is allocated per job. Not a general task scheduler:
 * one job at a time, called from the owning thread only.
 */
#ifndef VITC_THREADPOOL_H
#define VITC_THREADPOOL_H

#include <stddef.h>
#include <stdint.h>

#include "vitc.h"

struct vitc_threadpool;

/* One task of a job: `task` is in [0, n_tasks), `ith` in [0, nth) names the
 * thread running it (for per-thread scratch). Which thread runs which task is
 * not fixed, so a task's result must depend only on `task`. */
typedef void (*vitc_task_fn)(void *arg, size_t task, int ith);

/* Starts n_threads - 1 worker threads (the caller of parallel_for is thread
 * 0); n_threads == 1 starts none. 1 <= n_threads <= VITC_THREADPOOL_MAX. */
#define VITC_THREADPOOL_MAX 1024
vitc_status vitc_threadpool_new(int n_threads, struct vitc_threadpool **out);

/* Stops and joins the workers. NULL-safe. */
void vitc_threadpool_free(struct vitc_threadpool *pool);

/* Threads taking part in a job, the caller included (nth). */
int vitc_threadpool_size(const struct vitc_threadpool *pool);

/* Profiling: with busy_ns set (n_threads counters, zeroed by the caller),
 * every job adds to busy_ns[ith] the CPU time, in ns, thread ith spent
 * taking and running its tasks, so n_threads x a job's wall time minus
 * their sum is the time threads waited (imbalance, wake-up, the final
 * barrier, and time descheduled on a busy machine). The counters may be
 * read after parallel_for returns; NULL (the default) turns it off. Called
 * between jobs by the owning thread. */
void vitc_threadpool_set_busy(struct vitc_threadpool *pool, uint64_t *busy_ns);

/* Runs fn(arg, task, ith) once for every task in [0, n_tasks) across the
 * pool and returns when all have finished. */
void vitc_threadpool_parallel_for(struct vitc_threadpool *pool, size_t n_tasks, vitc_task_fn fn,
                                  void *arg);

/* Runs the same job on the calling thread alone (ith 0), for jobs too small
 * to be worth waking the workers; counted in busy_ns[0] like any job. */
void vitc_threadpool_serial_for(struct vitc_threadpool *pool, size_t n_tasks, vitc_task_fn fn,
                                void *arg);

#endif /* VITC_THREADPOOL_H */
