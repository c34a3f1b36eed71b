/* SPDX-License-Identifier: MIT
 *
 * metrics.h — the counters `vitc serve` keeps and their Prometheus text exposition
 * (GET /metrics), named in the spirit of Triton's nv_inference_*. Plain structs: the
 * server updates them under its lock; nothing here locks or allocates but the text.
 * CLI layer.
 */
#ifndef VITC_CLI_SERVE_METRICS_H
#define VITC_CLI_SERVE_METRICS_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#define SERVE_METRIC_ROUTES  3 /* infer, embed, classify                         */
#define SERVE_METRIC_BUCKETS 12

/* Request latency histogram bounds, in seconds (Prometheus "le"). */
extern const double serve_metric_bounds[SERVE_METRIC_BUCKETS];

typedef struct serve_model_metrics {
    uint64_t success[SERVE_METRIC_ROUTES]; /* requests answered 200                   */
    uint64_t failure[SERVE_METRIC_ROUTES]; /* answered with any other status          */
    uint64_t images;                       /* images through the model                */
    uint64_t batches;                      /* forward passes                          */
    uint64_t queue_us;                     /* admission to forward, summed            */
    uint64_t compute_us;                   /* forward passes, summed per request      */
    uint64_t request_us;                   /* first header to response, summed        */
    uint64_t hist[SERVE_METRIC_BUCKETS];   /* request durations, cumulative per bound */
    uint64_t hist_count;
} serve_model_metrics;

typedef struct serve_server_metrics {
    uint64_t responses[6]; /* by status class: 2xx, 400, 401, 404, 413, 503; the rest  */
    uint64_t other;        /* other statuses                                           */
    uint64_t rejected;     /* 503s from a full queue                                   */
    uint64_t timeouts;     /* 503s from --request-timeout-ms                           */
} serve_server_metrics;

/* Counts one request's response. route < SERVE_METRIC_ROUTES for model work, else -1. */
void serve_metrics_count(serve_server_metrics *s, serve_model_metrics *m, int route, int status,
                         double request_s);

/* Writes the whole exposition: each family once (as the format requires), a line per
 * model. names, m, depth: (n_models) each model's name, counters and admitted requests. */
void serve_metrics_write(FILE *f, const char *const *names, const serve_model_metrics *const *m,
                         const size_t *depth, size_t n_models, const serve_server_metrics *s,
                         int ready);

#endif /* VITC_CLI_SERVE_METRICS_H */
