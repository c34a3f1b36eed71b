/* SPDX-License-Identifier: MIT
 *
 * serve.h — what the parts of `vitc serve` share: the options, the served models with
 * their batchers, one request's state from its first header to its last byte, and the
 * server that owns them. server.c speaks HTTP (libmicrohttpd), routes.c turns requests
 * into work and results into bodies, batcher.c runs the decode workers and one batcher
 * per model, metrics.c counts. CLI layer: <vitc.h>, pthreads and libmicrohttpd.
 */
#ifndef VITC_CLI_SERVE_SERVE_H
#define VITC_CLI_SERVE_SERVE_H

#include <pthread.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <vitc.h>

#include "../target.h"
#include "metrics.h"
#include "proto.h"

/* The outputs a request may name: every vitc_output, by vitc_output_name (the names
 * `vitc embed --output` takes). */
#define SERVE_N_KINDS VITC_N_OUTPUTS

/* What `vitc serve` was asked for; fixed once the server starts. */
typedef struct serve_opts {
    const char *host;
    long port;
    long max_batch;          /* images per forward, and per request            */
    long max_delay_us;       /* how long a batch may wait to fill              */
    long max_queue;          /* admitted, unfinished requests per model        */
    long max_body;           /* bytes of one request body                      */
    long request_timeout_ms; /* admission to the start of its forward          */
    long max_connections;
    long connection_timeout_s; /* idle time before a connection is closed      */
    long threads;              /* compute threads per model, 0 = all cores     */
    long workers;              /* decode threads, 0 = one per core             */
    bool quiet;                /* no access log                                */
    const char *api_key;       /* NULL: no authentication                      */
    cli_target target;
} serve_opts;

struct serve_server;
struct serve_req;

/* One served model: the model, its one ctx and the batcher that feeds it. */
typedef struct serve_model {
    char *name; /* in URLs: /v2/models/{name}/...                         */
    vitc_model *model;
    const vitc_model_info *info;
    vitc_ctx *ctx;
    size_t n_pv;                    /* floats of one image's pixel_values        */
    size_t out_size[SERVE_N_KINDS]; /* floats per image of each output, 0: none  */
    int default_kind;               /* pooler_output, else cls                   */
    struct serve_server *srv;
    /* The batcher (batcher.c); fields below are guarded by srv->lock. */
    pthread_t thread;
    bool thread_started;
    pthread_cond_t wake;                       /* a request became ready, or stopping       */
    struct serve_req *ready_head, *ready_tail; /* decoded, waiting for a batch      */
    size_t admitted;                           /* requests admitted and not yet answered    */
    float *batch_pixels;                       /* (max_batch, n_pv) the forward's input      */
    float *scratch;                            /* (max_batch, largest output) one output     */
    serve_model_metrics metrics;
} serve_model;

enum serve_route_kind {
    SERVE_ROUTE_INFER = 0, /* POST /v2/models/{name}[/versions/1]/infer                */
    SERVE_ROUTE_EMBED,     /* POST /v2/models/{name}/embed                             */
    SERVE_ROUTE_CLASSIFY,  /* POST /v2/models/{name}/classify                          */
    SERVE_N_WORK_ROUTES,   /* the routes above run the model and take a body           */
    SERVE_ROUTE_LIVE = SERVE_N_WORK_ROUTES, /* GET /v2/health/live                     */
    SERVE_ROUTE_READY,                      /* GET /v2/health/ready                    */
    SERVE_ROUTE_SERVER_META,                /* GET /v2                                 */
    SERVE_ROUTE_MODEL_META,                 /* GET /v2/models/{name}[/versions/1]      */
    SERVE_ROUTE_MODEL_READY,                /* GET /v2/models/{name}/ready             */
    SERVE_ROUTE_MODEL_STATS,                /* GET /v2/models/{name}/stats             */
    SERVE_ROUTE_METRICS,                    /* GET /metrics                            */
    SERVE_ROUTE_NO_MODEL,                   /* a /v2/models/ URL naming no model       */
    SERVE_ROUTE_NO_VERSION,                 /* a version other than 1                  */
    SERVE_ROUTE_BAD_METHOD,                 /* a known path with the wrong method      */
    SERVE_ROUTE_NOT_FOUND
};

enum serve_req_state {
    SERVE_REQ_RECEIVING = 0, /* headers and body arriving                              */
    SERVE_REQ_QUEUED,        /* admitted: the connection is suspended                  */
    SERVE_REQ_DONE           /* the response is ready (or queued)                      */
};

/* One HTTP request, from its headers to the end of its response (the connection's
 * con_cls). Everything it holds is bounded by the options: its body by max_body, its
 * images by max_batch, its outputs by max_batch times the model's outputs. */
typedef struct serve_req {
    struct serve_server *srv;
    void *conn; /* struct MHD_Connection *                                          */
    char method[8];
    char *url; /* copy of the path (for the access log)                            */
    int route; /* enum serve_route_kind                                            */
    serve_model *model;
    double t_start, t_admit, t_compute, compute_ms;

    /* The body. */
    uint8_t *body;
    size_t size, cap;
    uint64_t content_length; /* UINT64_MAX: chunked                                  */

    /* The work, once parsed. */
    serve_request v2; /* the infer route's parsed body                               */
    serve_part *parts;
    size_t n_parts;
    size_t n;                /* images                                              */
    const serve_blob *blobs; /* (n) encoded images, or NULL for pixel_values         */
    serve_blob one_blob;     /* a raw-body image                                    */
    char **names;            /* (n) each image's name in messages and replies        */
    float *pixels;           /* (n, n_pv)                                           */
    bool own_pixels;
    int kinds[SERVE_N_KINDS]; /* the outputs to return, in order                     */
    bool binary[SERVE_N_KINDS];
    size_t n_kinds;
    float *out[SERVE_N_KINDS]; /* (n, out_size[kinds[j]])                            */
    int top_k;                 /* classify                                            */
    bool npy;                  /* embed: Accept: application/x-npy                    */

    /* Progress (guarded by srv->lock while queued). */
    int state;
    size_t next_image;  /* the next image a worker decodes                           */
    size_t images_left; /* images not yet decoded                                    */
    int fail_status;    /* 0, or the HTTP status the request fails with              */
    char fail_msg[512];
    struct serve_req *next; /* in one queue at a time                                */
    bool counted;           /* in srv->active                                        */
    bool sent;              /* the response is queued with libmicrohttpd              */

    /* The response. */
    int status;
    uint8_t *resp; /* malloc'd; handed to libmicrohttpd                               */
    size_t resp_size;
    size_t json_size; /* Inference-Header-Content-Length when < resp_size            */
    const char *content_type;
} serve_req;

/* The whole server. */
typedef struct serve_server {
    const serve_opts *opts;
    serve_model *models;
    size_t n_models;
    void *daemon; /* struct MHD_Daemon *                                             */
    pthread_mutex_t lock;
    pthread_cond_t work; /* decode or finish work for the workers                  */
    pthread_cond_t idle; /* active fell                                            */
    serve_req *decode_head, *decode_tail;
    serve_req *finish_head, *finish_tail;
    pthread_t *workers;
    size_t n_workers;
    bool stopping;      /* threads exit; queued work fails with 503                        */
    bool batchers_done; /* the batchers have exited: workers may too                  */
    bool draining;      /* not ready; new requests get 503                                 */
    size_t active;      /* requests between their first header and their completion       */
    serve_server_metrics metrics;
} serve_server;

/* ---- batcher.c ---- */

/* Starts the decode workers and one batcher per model. Returns 0, or -1 with msg. */
int serve_threads_start(serve_server *srv, char *msg, size_t msg_size);

/* Stops and joins them; requests still queued are answered 503. */
void serve_threads_stop(serve_server *srv);

/* Queues an admitted request (srv->lock held; already counted in model->admitted, its
 * connection suspended): its images to the workers, or, when it carries pixel_values,
 * straight to its model's batcher. */
void serve_enqueue_locked(serve_req *r);

/* Fails a request with status and message and hands it to a worker to answer
 * (srv->lock held). */
void serve_fail_locked(serve_req *r, int status, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* ---- routes.c ---- */

/* Names a route's kind from the URL and method; sets *model (NULL when none or
 * unknown). Returns enum serve_route_kind. */
int serve_route_find(serve_server *srv, const char *method, const char *url, serve_model **model);

/* Answers a request whose body is complete: at once into r->status/resp (returns 0), or
 * by suspending its connection and queuing its work (returns 1; a worker resumes it
 * once the response is ready). Called on the HTTP thread, without srv->lock. */
int serve_route_handle(serve_req *r, void *conn);

/* Encodes a finished request's response from its outputs (a worker thread). */
void serve_route_encode(serve_req *r);

/* Sets r's response to {"error": msg} with status. */
void serve_set_error(serve_req *r, int status, const char *msg);

/* Seconds on the monotonic clock. */
double serve_now(void);

/* ---- server.c ---- */

/* Resumes a suspended request's connection once its response is ready (any thread;
 * srv->lock not held: libmicrohttpd takes its own). */
void serve_resume(serve_req *r);

/* Starts answering on the listening socket fd. Returns 0, or -1 with msg. */
int serve_http_start(serve_server *srv, int fd, char *msg, size_t msg_size);

/* Drains (stop accepting, readiness false, wait for every request, at most
 * drain_ms) and stops everything. */
void serve_http_drain_and_stop(serve_server *srv, long drain_ms);

#endif /* VITC_CLI_SERVE_SERVE_H */
