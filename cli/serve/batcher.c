/* SPDX-License-Identifier: MIT
 *
 * batcher.c — the server's compute side. Decode workers take admitted requests'
 * images one at a time (decode + preprocess into the request's pixel_values) and
 * encode finished requests' responses; one batcher thread per model owns that model's
 * only vitc_ctx and runs whole requests together, up to --max-batch images, waiting at
 * most --max-delay-us after the first for more to arrive. Requests move between
 * intrusive FIFO lists under the server's one lock, so queuing never allocates.
 * Batch invariance of vitc_forward makes each request's rows bitwise those of
 * `vitc embed`, whatever it is batched with. CLI layer: <vitc.h> and pthreads.
 */
#include <errno.h>
#include <sched.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "serve.h"

/* ---- lists ---- */

static void push(serve_req **head, serve_req **tail, serve_req *r)
{
    r->next = NULL;
    if (*tail) {
        (*tail)->next = r;
    } else {
        *head = r;
    }
    *tail = r;
}

static serve_req *pop(serve_req **head, serve_req **tail)
{
    serve_req *r = *head;
    if (r) {
        *head = r->next;
        if (!*head) {
            *tail = NULL;
        }
        r->next = NULL;
    }
    return r;
}

void serve_fail_locked(serve_req *r, int status, const char *fmt, ...)
{
    if (!r->fail_status) {
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(r->fail_msg, sizeof r->fail_msg, fmt, ap);
        va_end(ap);
        r->fail_status = status;
    }
}

/* Hands a request whose outputs (or failure) are final to the workers to answer. */
static void finish_locked(serve_req *r)
{
    serve_server *srv = r->srv;
    push(&srv->finish_head, &srv->finish_tail, r);
    pthread_cond_signal(&srv->work);
}

static void ready_locked(serve_req *r)
{
    serve_model *m = r->model;
    push(&m->ready_head, &m->ready_tail, r);
    pthread_cond_signal(&m->wake);
}

void serve_enqueue_locked(serve_req *r)
{
    serve_server *srv = r->srv;
    r->state = SERVE_REQ_QUEUED;
    if (r->blobs) {
        r->next_image = 0;
        r->images_left = r->n;
        push(&srv->decode_head, &srv->decode_tail, r);
        pthread_cond_broadcast(&srv->work);
    } else {
        ready_locked(r);
    }
}

static bool expired(const serve_req *r, double now)
{
    return now - r->t_admit > (double)r->srv->opts->request_timeout_ms / 1e3;
}

static void fail_timeout_locked(serve_req *r)
{
    r->srv->metrics.timeouts++;
    serve_fail_locked(r, 503, "request waited longer than --request-timeout-ms %ld",
                      r->srv->opts->request_timeout_ms);
}

/* ---- decode workers ---- */

/* Decodes and preprocesses image i of r into its pixel_values row (no lock held). */
static void decode_one(serve_req *r, size_t i, char *msg, size_t msg_size, int *status)
{
    const serve_model *m = r->model;
    vitc_image *img = NULL;
    *status = 0;
    if (vitc_image_load_memory(r->blobs[i].data, r->blobs[i].size, r->names[i], &img) != VITC_OK ||
        vitc_preprocess(&m->info->preprocess, img, r->pixels + i * m->n_pv, m->n_pv) != VITC_OK) {
        snprintf(msg, msg_size, "%s", vitc_last_error());
        *status = 400;
    }
    vitc_image_free(img);
}

static void *worker_main(void *arg)
{
    serve_server *srv = arg;
    char msg[512];
    pthread_mutex_lock(&srv->lock);
    for (;;) {
        serve_req *r = pop(&srv->finish_head, &srv->finish_tail);
        if (r) {
            /* Answer a finished request: encode outside the lock, then resume. */
            pthread_mutex_unlock(&srv->lock);
            if (r->fail_status) {
                serve_set_error(r, r->fail_status, r->fail_msg);
            } else {
                serve_route_encode(r);
            }
            pthread_mutex_lock(&srv->lock);
            r->model->admitted--;
            r->state = SERVE_REQ_DONE;
            pthread_mutex_unlock(&srv->lock);
            serve_resume(r); /* the last touch: the HTTP thread owns r from here */
            pthread_mutex_lock(&srv->lock);
            continue;
        }
        r = srv->decode_head;
        if (!r) {
            if (srv->stopping && srv->batchers_done) {
                break;
            }
            pthread_cond_wait(&srv->work, &srv->lock);
            continue;
        }
        size_t i = r->next_image++;
        if (r->next_image == r->n) {
            pop(&srv->decode_head, &srv->decode_tail);
        }
        if (srv->stopping) {
            serve_fail_locked(r, 503, "the server is shutting down");
        } else if (!r->fail_status && expired(r, serve_now())) {
            fail_timeout_locked(r);
        }
        if (!r->fail_status) {
            int status;
            pthread_mutex_unlock(&srv->lock);
            decode_one(r, i, msg, sizeof msg, &status);
            pthread_mutex_lock(&srv->lock);
            if (status) {
                serve_fail_locked(r, status, "%s", msg);
            } else if (srv->stopping) {
                serve_fail_locked(r, 503, "the server is shutting down");
            }
        }
        if (--r->images_left == 0) {
            if (r->fail_status) {
                finish_locked(r);
            } else {
                ready_locked(r);
            }
        }
    }
    pthread_mutex_unlock(&srv->lock);
    return NULL;
}

/* ---- batchers ---- */

/* Adds microseconds to a CLOCK_MONOTONIC time (the conds use that clock). */
static struct timespec after_us(long us)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    long long ns = (long long)t.tv_nsec + (long long)us * 1000;
    t.tv_sec += (time_t)(ns / 1000000000);
    t.tv_nsec = (long)(ns % 1000000000);
    return t;
}

/* Waits (lock held) for the next batch: whole requests in arrival order, up to
 * max_batch images, at most max_delay_us after the first one is there (or until the
 * first one's timeout, if sooner). Requests past their timeout are failed on the way,
 * including any that ran out while the batch filled. Returns the number of requests put
 * in batch[]; 0 only when stopping with nothing left. */
static size_t form_batch(serve_model *m, serve_req **batch, size_t *n_images)
{
    serve_server *srv = m->srv;
    const serve_opts *o = srv->opts;
    size_t k = 0, n = 0;
    struct timespec deadline = {0};
    for (;;) {
        serve_req *r = m->ready_head;
        if (r && (srv->stopping || expired(r, serve_now()))) {
            pop(&m->ready_head, &m->ready_tail);
            if (srv->stopping) {
                serve_fail_locked(r, 503, "the server is shutting down");
            } else {
                fail_timeout_locked(r);
            }
            finish_locked(r);
            continue;
        }
        if (r && n + r->n <= (size_t)o->max_batch) {
            pop(&m->ready_head, &m->ready_tail);
            if (k == 0) {
                double left_us =
                    (r->t_admit + (double)o->request_timeout_ms / 1e3 - serve_now()) * 1e6;
                long wait = left_us < (double)o->max_delay_us ? (long)left_us + 1 : o->max_delay_us;
                deadline = after_us(wait > 0 ? wait : 0);
            }
            batch[k++] = r;
            n += r->n;
            continue;
        }
        if (k == 0) {
            if (srv->stopping) {
                break;
            }
            pthread_cond_wait(&m->wake, &srv->lock);
            continue;
        }
        if (r || n == (size_t)o->max_batch || o->max_delay_us == 0 || srv->stopping ||
            pthread_cond_timedwait(&m->wake, &srv->lock, &deadline) == ETIMEDOUT) {
            /* Full, the next request would not fit, or the wait is over. Drop those whose
             * time ran out meanwhile; if that is all of them, start again. */
            size_t kept = 0;
            double now = serve_now();
            n = 0;
            for (size_t j = 0; j < k; j++) {
                if (expired(batch[j], now)) {
                    fail_timeout_locked(batch[j]);
                    finish_locked(batch[j]);
                } else {
                    n += batch[j]->n;
                    batch[kept++] = batch[j];
                }
            }
            k = kept;
            if (k > 0 || srv->stopping) {
                break;
            }
        }
    }
    *n_images = n;
    return k;
}

/* Runs one batch (no lock held): gathers the pixels, one forward, scatters each
 * requested output's rows back to its request. Returns 0, or -1 with msg. */
static int run_batch(serve_model *m, serve_req **batch, size_t k, size_t n, char *msg,
                     size_t msg_size)
{
    size_t at = 0;
    for (size_t j = 0; j < k; j++) {
        memcpy(m->batch_pixels + at * m->n_pv, batch[j]->pixels,
               batch[j]->n * m->n_pv * sizeof(float));
        at += batch[j]->n;
    }
    if (vitc_forward(m->ctx, m->batch_pixels, n) != VITC_OK) {
        snprintf(msg, msg_size, "model '%s': %s", m->name, vitc_last_error());
        return -1;
    }
    for (int kind = 0; kind < SERVE_N_KINDS; kind++) {
        bool wanted = false;
        for (size_t j = 0; j < k; j++) {
            for (size_t q = 0; q < batch[j]->n_kinds; q++) {
                wanted |= batch[j]->kinds[q] == kind;
            }
        }
        if (!wanted) {
            continue;
        }
        size_t per = m->out_size[kind];
        const float *src = m->batch_pixels;
        if (kind != VITC_OUTPUT_PIXEL_VALUES) {
            if (vitc_get_output(m->ctx, (vitc_output)kind, m->scratch, n * per) != VITC_OK) {
                snprintf(msg, msg_size, "model '%s': %s", m->name, vitc_last_error());
                return -1;
            }
            src = m->scratch;
        }
        at = 0;
        for (size_t j = 0; j < k; j++) {
            for (size_t q = 0; q < batch[j]->n_kinds; q++) {
                if (batch[j]->kinds[q] == kind) {
                    memcpy(batch[j]->out[q], src + at * per, batch[j]->n * per * sizeof(float));
                }
            }
            at += batch[j]->n;
        }
    }
    return 0;
}

static void *batcher_main(void *arg)
{
    serve_model *m = arg;
    serve_server *srv = m->srv;
    size_t max = (size_t)srv->opts->max_batch;
    serve_req **batch = calloc(max, sizeof *batch);
    char msg[512];
    pthread_mutex_lock(&srv->lock);
    while (batch) {
        size_t n;
        size_t k = form_batch(m, batch, &n);
        if (k == 0) {
            break; /* stopping, nothing left */
        }
        double t0 = serve_now();
        pthread_mutex_unlock(&srv->lock);
        int rc = run_batch(m, batch, k, n, msg, sizeof msg);
        double t1 = serve_now();
        pthread_mutex_lock(&srv->lock);
        m->metrics.batches++;
        m->metrics.images += n;
        for (size_t j = 0; j < k; j++) {
            serve_req *r = batch[j];
            r->t_compute = t0;
            r->compute_ms = (t1 - t0) * 1e3;
            m->metrics.queue_us += (uint64_t)((t0 - r->t_admit) * 1e6);
            m->metrics.compute_us += (uint64_t)((t1 - t0) * 1e6);
            if (rc != 0) {
                serve_fail_locked(r, 500, "%s", msg);
            }
            finish_locked(r);
        }
    }
    pthread_mutex_unlock(&srv->lock);
    free(batch);
    return NULL;
}

/* ---- start and stop ---- */

static int available_cores(void)
{
    cpu_set_t set;
    if (sched_getaffinity(0, sizeof set, &set) == 0 && CPU_COUNT(&set) > 0) {
        return CPU_COUNT(&set);
    }
    return 1;
}

int serve_threads_start(serve_server *srv, char *msg, size_t msg_size)
{
    long w = srv->opts->workers > 0 ? srv->opts->workers : available_cores();
    srv->workers = calloc((size_t)w, sizeof *srv->workers);
    if (!srv->workers) {
        snprintf(msg, msg_size, "out of memory");
        return -1;
    }
    for (long i = 0; i < w; i++) {
        int e = pthread_create(&srv->workers[i], NULL, worker_main, srv);
        if (e) {
            snprintf(msg, msg_size, "cannot start a decode thread: %s", strerror(e));
            return -1;
        }
        srv->n_workers++;
    }
    for (size_t i = 0; i < srv->n_models; i++) {
        serve_model *m = &srv->models[i];
        int e = pthread_create(&m->thread, NULL, batcher_main, m);
        if (e) {
            snprintf(msg, msg_size, "cannot start the batcher of '%s': %s", m->name, strerror(e));
            return -1;
        }
        m->thread_started = true;
    }
    return 0;
}

void serve_threads_stop(serve_server *srv)
{
    pthread_mutex_lock(&srv->lock);
    srv->stopping = true;
    pthread_cond_broadcast(&srv->work);
    for (size_t i = 0; i < srv->n_models; i++) {
        pthread_cond_broadcast(&srv->models[i].wake);
    }
    pthread_mutex_unlock(&srv->lock);
    /* Batchers first: they hand what they drop to the workers, who answer it. */
    for (size_t i = 0; i < srv->n_models; i++) {
        if (srv->models[i].thread_started) {
            pthread_join(srv->models[i].thread, NULL);
            srv->models[i].thread_started = false;
        }
    }
    pthread_mutex_lock(&srv->lock);
    srv->batchers_done = true;
    pthread_cond_broadcast(&srv->work);
    pthread_mutex_unlock(&srv->lock);
    for (size_t i = 0; i < srv->n_workers; i++) {
        pthread_join(srv->workers[i], NULL);
    }
    srv->n_workers = 0;
    free(srv->workers);
    srv->workers = NULL;
}
