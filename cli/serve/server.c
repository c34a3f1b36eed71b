/* SPDX-License-Identifier: MIT
 *
 * server.c — the HTTP side of `vitc serve`, on libmicrohttpd. Threading model: one
 * internal polling thread on epoll serves every connection, and a request waiting for
 * its batch is a *suspended* connection (MHD_suspend_connection), so waiting holds no
 * thread: the polling thread only reads headers and bodies, routes, parses and writes
 * responses, while decoding and the model run on the workers and batchers (batcher.c),
 * which resume the connection when the response is ready. A thread per connection
 * would let slow or idle clients pin threads; a thread pool would add locking for no
 * gain, since the polling thread never computes. Slow clients are bounded by the
 * connection cap and the idle timeout; a body's size is checked against
 * --max-body-bytes from Content-Length before any of it is read (413), and counted as
 * it arrives when chunked (the connection is closed at the limit).
 * CLI layer: <vitc.h>, libmicrohttpd, pthreads.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <microhttpd.h>

#include "serve.h"

/* ---- requests ---- */

static void req_free(serve_req *r)
{
    if (!r) {
        return;
    }
    if (r->names) {
        for (size_t i = 0; i < r->n; i++) {
            free(r->names[i]);
        }
        free(r->names);
    }
    if (r->parts) {
        free((void *)r->blobs); /* multipart: the blobs array is ours */
        serve_parts_free(r->parts, r->n_parts);
    }
    if (r->own_pixels) {
        free(r->pixels);
    }
    for (size_t j = 0; j < SERVE_N_KINDS; j++) {
        free(r->out[j]);
    }
    serve_request_free(&r->v2);
    free(r->body);
    free(r->resp);
    free(r->url);
    free(r);
}

/* Equal in time that depends only on the key's length, not on where they differ. */
static bool key_matches(const char *given, const char *key)
{
    size_t n = strlen(key), m = strlen(given);
    unsigned char d = n != m;
    for (size_t i = 0; i < n; i++) {
        d |= (unsigned char)key[i] ^ (unsigned char)(i < m ? given[i] : 0);
    }
    return d == 0;
}

static bool authorized(serve_server *srv, struct MHD_Connection *conn)
{
    const char *key = srv->opts->api_key;
    if (!key) {
        return true;
    }
    const char *h = MHD_lookup_connection_value(conn, MHD_HEADER_KIND, "Authorization");
    if (!h || strncasecmp(h, "Bearer ", 7) != 0) {
        return false;
    }
    h += 7;
    while (*h == ' ') {
        h++;
    }
    return key_matches(h, key);
}

/* ---- responses ---- */

static enum MHD_Result send_response(serve_req *r, struct MHD_Connection *conn)
{
    serve_server *srv = r->srv;
    struct MHD_Response *resp =
        MHD_create_response_from_buffer(r->resp_size, r->resp, MHD_RESPMEM_MUST_FREE);
    if (!resp) {
        return MHD_NO;
    }
    r->resp = NULL; /* libmicrohttpd frees it */
    if (r->content_type) {
        MHD_add_response_header(resp, MHD_HTTP_HEADER_CONTENT_TYPE, r->content_type);
    }
    if (r->json_size) {
        char v[32];
        snprintf(v, sizeof v, "%zu", r->json_size);
        MHD_add_response_header(resp, "Inference-Header-Content-Length", v);
    }
    if (r->status == 503) {
        MHD_add_response_header(resp, MHD_HTTP_HEADER_RETRY_AFTER, "1");
    }
    if (r->status == 401) {
        MHD_add_response_header(resp, MHD_HTTP_HEADER_WWW_AUTHENTICATE, "Bearer");
    }
    pthread_mutex_lock(&srv->lock);
    bool draining = srv->draining;
    serve_metrics_count(&srv->metrics, r->model ? &r->model->metrics : NULL,
                        r->route < SERVE_N_WORK_ROUTES ? r->route : -1, r->status,
                        serve_now() - r->t_start);
    pthread_mutex_unlock(&srv->lock);
    if (draining) {
        MHD_add_response_header(resp, MHD_HTTP_HEADER_CONNECTION, "close");
    }
    r->state = SERVE_REQ_DONE;
    r->sent = true;
    enum MHD_Result ret = MHD_queue_response(conn, (unsigned int)r->status, resp);
    MHD_destroy_response(resp);
    return ret;
}

static enum MHD_Result send_error(serve_req *r, struct MHD_Connection *conn, int status,
                                  const char *fmt, ...) __attribute__((format(printf, 4, 5)));

static enum MHD_Result send_error(serve_req *r, struct MHD_Connection *conn, int status,
                                  const char *fmt, ...)
{
    char msg[512];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    serve_set_error(r, status, msg);
    return send_response(r, conn);
}

void serve_resume(serve_req *r)
{
    MHD_resume_connection(r->conn);
}

/* ---- the access handler ---- */

/* The first call, once the headers are in: make the request's state and refuse early
 * what can be refused without the body. */
static enum MHD_Result first_call(serve_server *srv, struct MHD_Connection *conn, const char *url,
                                  const char *method, void **con_cls)
{
    serve_req *r = calloc(1, sizeof *r);
    if (!r) {
        return MHD_NO;
    }
    r->srv = srv;
    r->conn = conn;
    r->t_start = serve_now();
    snprintf(r->method, sizeof r->method, "%s", method);
    r->url = strdup(url);
    r->content_length = UINT64_MAX;
    *con_cls = r;
    pthread_mutex_lock(&srv->lock);
    srv->active++;
    r->counted = true;
    pthread_mutex_unlock(&srv->lock);
    if (!r->url) {
        return MHD_NO;
    }
    r->route = serve_route_find(srv, method, url, &r->model);
    bool health = r->route == SERVE_ROUTE_LIVE || r->route == SERVE_ROUTE_READY;
    if (!health && !authorized(srv, conn)) {
        return send_error(r, conn, 401, "missing or wrong API key (Authorization: Bearer KEY)");
    }
    switch (r->route) {
    case SERVE_ROUTE_NOT_FOUND:
        return send_error(r, conn, 404, "no route %s %s", method, url);
    case SERVE_ROUTE_NO_MODEL:
        return send_error(r, conn, 404, "unknown model in '%s'", url);
    case SERVE_ROUTE_NO_VERSION:
        return send_error(r, conn, 404, "unknown version in '%s' (this server has version 1)", url);
    case SERVE_ROUTE_BAD_METHOD:
        return send_error(r, conn, 405, "method %s not allowed on %s", method, url);
    default:
        break;
    }
    if (r->route >= SERVE_N_WORK_ROUTES) {
        serve_route_handle(r, conn);
        return send_response(r, conn);
    }
    const char *cl = MHD_lookup_connection_value(conn, MHD_HEADER_KIND, "Content-Length");
    if (cl) {
        char *end;
        errno = 0;
        unsigned long long v = strtoull(cl, &end, 10);
        if (errno == 0 && end != cl && *end == '\0' && cl[0] != '-') {
            r->content_length = v;
        }
        if (r->content_length > (uint64_t)srv->opts->max_body) {
            return send_error(r, conn, 413, "body of %s bytes is over --max-body-bytes %ld", cl,
                              srv->opts->max_body);
        }
        r->cap = (size_t)r->content_length;
        r->body = malloc(r->cap ? r->cap : 1);
        if (!r->body) {
            return send_error(r, conn, 503, "out of memory for a %zu-byte body", r->cap);
        }
    }
    return MHD_YES;
}

/* Appends a piece of the body; MHD_NO (closing the connection) past --max-body-bytes,
 * or when the body has taken longer than --request-timeout-ms to arrive (a client
 * trickling it byte by byte would otherwise keep its connection for as long as it likes,
 * the idle timeout counting only silence). */
static enum MHD_Result take_body(serve_req *r, const char *data, size_t n)
{
    const serve_opts *o = r->srv->opts;
    size_t max = (size_t)o->max_body;
    if (n > max - r->size) {
        return MHD_NO; /* chunked, over the limit: stop reading */
    }
    if ((serve_now() - r->t_start) * 1e3 > (double)o->request_timeout_ms) {
        return MHD_NO;
    }
    if (r->size + n > r->cap) {
        size_t cap = r->cap ? r->cap : 4096;
        while (cap < r->size + n) {
            cap = cap > max / 2 ? max : cap * 2;
        }
        uint8_t *b = realloc(r->body, cap);
        if (!b) {
            return MHD_NO;
        }
        r->body = b;
        r->cap = cap;
    }
    memcpy(r->body + r->size, data, n);
    r->size += n;
    return MHD_YES;
}

static enum MHD_Result handler(void *cls, struct MHD_Connection *conn, const char *url,
                               const char *method, const char *version, const char *upload_data,
                               size_t *upload_data_size, void **con_cls)
{
    serve_server *srv = cls;
    serve_req *r = *con_cls;
    if (!r) {
        return first_call(srv, conn, url, method, con_cls);
    }
    if (*upload_data_size > 0) {
        size_t n = *upload_data_size;
        *upload_data_size = 0;
        if (r->sent || r->state != SERVE_REQ_RECEIVING) {
            return MHD_YES; /* already answered: discard */
        }
        return take_body(r, upload_data, n);
    }
    if (r->sent) {
        return MHD_YES;
    }
    switch (r->state) {
    case SERVE_REQ_RECEIVING:
        if (serve_route_handle(r, conn) == 1) {
            return MHD_YES; /* suspended until a worker resumes it */
        }
        return send_response(r, conn);
    case SERVE_REQ_DONE:
        return send_response(r, conn); /* resumed by a worker */
    default:
        return MHD_YES;
    }
}

/* ---- completion, access log ---- */

static void access_log(const serve_req *r, struct MHD_Connection *conn,
                       enum MHD_RequestTerminationCode toe)
{
    char addr[INET6_ADDRSTRLEN] = "-";
    const union MHD_ConnectionInfo *ci =
        MHD_get_connection_info(conn, MHD_CONNECTION_INFO_CLIENT_ADDRESS);
    if (ci && ci->client_addr) {
        const struct sockaddr *sa = ci->client_addr;
        if (sa->sa_family == AF_INET) {
            inet_ntop(AF_INET, &((const struct sockaddr_in *)sa)->sin_addr, addr, sizeof addr);
        } else if (sa->sa_family == AF_INET6) {
            inet_ntop(AF_INET6, &((const struct sockaddr_in6 *)sa)->sin6_addr, addr, sizeof addr);
        }
    }
    static const char *const why[] = {"ok",       "error",      "timeout",
                                      "shutdown", "read error", "client abort"};
    double queue_ms = r->t_compute > 0 ? (r->t_compute - r->t_admit) * 1e3 : 0;
    char status[32];
    if (r->sent && toe == MHD_REQUEST_TERMINATED_COMPLETED_OK) {
        snprintf(status, sizeof status, "%d", r->status);
    } else {
        snprintf(status, sizeof status, "%d(%s)", r->sent ? r->status : 0,
                 (unsigned)toe < sizeof why / sizeof why[0] ? why[toe] : "?");
    }
    fprintf(stderr,
            "%s %s %s model=%s status=%s images=%zu queue_ms=%.2f compute_ms=%.2f "
            "total_ms=%.2f\n",
            addr, r->method, r->url ? r->url : "-", r->model ? r->model->name : "-", status, r->n,
            queue_ms, r->compute_ms, (serve_now() - r->t_start) * 1e3);
}

static void completed(void *cls, struct MHD_Connection *conn, void **con_cls,
                      enum MHD_RequestTerminationCode toe)
{
    serve_server *srv = cls;
    serve_req *r = *con_cls;
    if (!r) {
        return;
    }
    *con_cls = NULL;
    if (!srv->opts->quiet) {
        access_log(r, conn, toe);
    }
    if (r->counted) {
        pthread_mutex_lock(&srv->lock);
        srv->active--;
        pthread_cond_broadcast(&srv->idle);
        pthread_mutex_unlock(&srv->lock);
    }
    req_free(r);
}

/* ---- start, drain, stop ---- */

int serve_http_start(serve_server *srv, int fd, char *msg, size_t msg_size)
{
    const serve_opts *o = srv->opts;
    srv->daemon =
        MHD_start_daemon(MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_EPOLL | MHD_ALLOW_SUSPEND_RESUME,
                         0, NULL, NULL, handler, srv, MHD_OPTION_LISTEN_SOCKET, fd,
                         MHD_OPTION_CONNECTION_LIMIT, (unsigned int)o->max_connections,
                         MHD_OPTION_CONNECTION_TIMEOUT, (unsigned int)o->connection_timeout_s,
                         MHD_OPTION_NOTIFY_COMPLETED, completed, srv, MHD_OPTION_END);
    if (!srv->daemon) {
        snprintf(msg, msg_size, "cannot start the HTTP server (libmicrohttpd)");
        return -1;
    }
    return 0;
}

/* Waits (lock held) until no request is active or the deadline (monotonic s) passes. */
static void wait_idle_locked(serve_server *srv, double deadline)
{
    while (srv->active > 0 && serve_now() < deadline) {
        struct timespec t;
        clock_gettime(CLOCK_MONOTONIC, &t);
        t.tv_nsec += 50 * 1000000;
        if (t.tv_nsec >= 1000000000) {
            t.tv_sec++;
            t.tv_nsec -= 1000000000;
        }
        pthread_cond_timedwait(&srv->idle, &srv->lock, &t);
    }
}

void serve_http_drain_and_stop(serve_server *srv, long drain_ms)
{
    pthread_mutex_lock(&srv->lock);
    srv->draining = true;
    pthread_mutex_unlock(&srv->lock);
    if (srv->daemon) {
        /* Stop accepting: the listening socket is ours to close. */
        MHD_socket lfd = MHD_quiesce_daemon(srv->daemon);
        if (lfd != MHD_INVALID_SOCKET) {
            close(lfd);
        }
    }
    pthread_mutex_lock(&srv->lock);
    wait_idle_locked(srv, serve_now() + (double)drain_ms / 1e3);
    pthread_mutex_unlock(&srv->lock);
    /* Whatever is still queued now is answered 503 by the stopping threads; give those
     * answers a moment to go out before the connections close. */
    serve_threads_stop(srv);
    pthread_mutex_lock(&srv->lock);
    wait_idle_locked(srv, serve_now() + 2.0);
    pthread_mutex_unlock(&srv->lock);
    if (srv->daemon) {
        MHD_stop_daemon(srv->daemon);
        srv->daemon = NULL;
    }
}
