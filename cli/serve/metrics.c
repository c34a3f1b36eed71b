/* SPDX-License-Identifier: MIT
 *
 * metrics.c — counting responses and writing them in the Prometheus text format
 * (version 0.0.4): counters end in _total, durations are microsecond sums beside
 * counts (as Triton's nv_inference_*_duration_us), request latency is also a
 * histogram. Average batch size is vitc_inference_count / vitc_inference_exec_count.
 * CLI layer; the caller holds the server's lock.
 */
#include "metrics.h"

#include <stddef.h>

const double serve_metric_bounds[SERVE_METRIC_BUCKETS] = {
    0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 10,
};

static const char *const route_names[SERVE_METRIC_ROUTES] = {"infer", "embed", "classify"};
static const int status_codes[6] = {200, 400, 401, 404, 413, 503};

void serve_metrics_count(serve_server_metrics *s, serve_model_metrics *m, int route, int status,
                         double request_s)
{
    int k = -1;
    for (int i = 0; i < 6; i++) {
        if (status_codes[i] == status) {
            k = i;
        }
    }
    if (k >= 0) {
        s->responses[k]++;
    } else {
        s->other++;
    }
    if (!m || route < 0 || route >= SERVE_METRIC_ROUTES) {
        return;
    }
    if (status == 200) {
        m->success[route]++;
    } else {
        m->failure[route]++;
    }
    m->request_us += (uint64_t)(request_s * 1e6);
    for (int i = 0; i < SERVE_METRIC_BUCKETS; i++) {
        m->hist[i] += request_s <= serve_metric_bounds[i];
    }
    m->hist_count++;
}

/* One counter family over the models: value(m) per model. */
static void family(FILE *f, const char *name, const char *type, const char *help,
                   const char *const *names, const serve_model_metrics *const *m, size_t n,
                   size_t offset)
{
    fprintf(f, "# HELP %s %s\n# TYPE %s %s\n", name, help, name, type);
    for (size_t i = 0; i < n; i++) {
        const uint64_t *v = (const uint64_t *)((const char *)m[i] + offset);
        fprintf(f, "%s{model=\"%s\"} %llu\n", name, names[i], (unsigned long long)*v);
    }
}

void serve_metrics_write(FILE *f, const char *const *names, const serve_model_metrics *const *m,
                         const size_t *depth, size_t n, const serve_server_metrics *s, int ready)
{
    static const struct {
        const char *name, *help;
        size_t offset;
    } counters[] = {
        {"vitc_inference_count_total", "Images inferred.", offsetof(serve_model_metrics, images)},
        {"vitc_inference_exec_count_total", "Forward passes (batches) run.",
         offsetof(serve_model_metrics, batches)},
        {"vitc_inference_queue_duration_us_total",
         "Microseconds requests waited from admission to their forward pass.",
         offsetof(serve_model_metrics, queue_us)},
        {"vitc_inference_compute_duration_us_total",
         "Microseconds of the forward passes requests were in, summed per request.",
         offsetof(serve_model_metrics, compute_us)},
        {"vitc_inference_request_duration_us_total",
         "Microseconds from a request's headers to its response, summed.",
         offsetof(serve_model_metrics, request_us)},
    };
    const char *outcome[2] = {"success", "failure"};
    for (int k = 0; k < 2; k++) {
        fprintf(f, "# HELP vitc_inference_request_%s_total Requests answered %s.\n", outcome[k],
                k ? "with an error" : "200");
        fprintf(f, "# TYPE vitc_inference_request_%s_total counter\n", outcome[k]);
        for (size_t i = 0; i < n; i++) {
            for (int r = 0; r < SERVE_METRIC_ROUTES; r++) {
                fprintf(f, "vitc_inference_request_%s_total{model=\"%s\",route=\"%s\"} %llu\n",
                        outcome[k], names[i], route_names[r],
                        (unsigned long long)(k ? m[i]->failure[r] : m[i]->success[r]));
            }
        }
    }
    for (size_t c = 0; c < sizeof counters / sizeof counters[0]; c++) {
        family(f, counters[c].name, "counter", counters[c].help, names, m, n, counters[c].offset);
    }
    fprintf(f, "# HELP vitc_inference_queue_depth Requests admitted and not yet answered.\n"
               "# TYPE vitc_inference_queue_depth gauge\n");
    for (size_t i = 0; i < n; i++) {
        fprintf(f, "vitc_inference_queue_depth{model=\"%s\"} %zu\n", names[i], depth[i]);
    }
    const char *h = "vitc_inference_request_duration_seconds";
    fprintf(f, "# HELP %s Request latency.\n# TYPE %s histogram\n", h, h);
    for (size_t i = 0; i < n; i++) {
        for (int b = 0; b < SERVE_METRIC_BUCKETS; b++) {
            fprintf(f, "%s_bucket{model=\"%s\",le=\"%g\"} %llu\n", h, names[i],
                    serve_metric_bounds[b], (unsigned long long)m[i]->hist[b]);
        }
        fprintf(f, "%s_bucket{model=\"%s\",le=\"+Inf\"} %llu\n", h, names[i],
                (unsigned long long)m[i]->hist_count);
        fprintf(f, "%s_sum{model=\"%s\"} %.6f\n", h, names[i], (double)m[i]->request_us / 1e6);
        fprintf(f, "%s_count{model=\"%s\"} %llu\n", h, names[i],
                (unsigned long long)m[i]->hist_count);
    }
    fprintf(f, "# HELP vitc_http_responses_total Responses by status.\n"
               "# TYPE vitc_http_responses_total counter\n");
    for (int i = 0; i < 6; i++) {
        fprintf(f, "vitc_http_responses_total{code=\"%d\"} %llu\n", status_codes[i],
                (unsigned long long)s->responses[i]);
    }
    fprintf(f, "vitc_http_responses_total{code=\"other\"} %llu\n", (unsigned long long)s->other);
    fprintf(f, "# HELP vitc_queue_rejected_total Requests answered 503 because the queue was "
               "full.\n# TYPE vitc_queue_rejected_total counter\n");
    fprintf(f, "vitc_queue_rejected_total %llu\n", (unsigned long long)s->rejected);
    fprintf(f, "# HELP vitc_request_timeouts_total Requests answered 503 after waiting longer "
               "than --request-timeout-ms.\n# TYPE vitc_request_timeouts_total counter\n");
    fprintf(f, "vitc_request_timeouts_total %llu\n", (unsigned long long)s->timeouts);
    fprintf(f,
            "# HELP vitc_ready 1 when every model is loaded and the server is not draining.\n"
            "# TYPE vitc_ready gauge\nvitc_ready %d\n",
            ready);
}
