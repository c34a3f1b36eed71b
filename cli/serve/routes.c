/* SPDX-License-Identifier: MIT
 *
 * routes.c — what each URL of `vitc serve` means: routing, the KServe v2 metadata and
 * health answers, parsing and validating a request's work (v2 infer bodies through
 * proto.c, raw or multipart image bodies), admission to the bounded queue, and encoding
 * results (v2 responses, embed JSON or .npy, classify's ranked labels). Runs on the HTTP
 * thread except serve_route_encode (a worker). CLI layer: <vitc.h>, jansson, proto.h.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include <jansson.h>
#include <microhttpd.h>

#include "../rank.h"
#include "serve.h"

/* Most tensors one v2 request may carry (one is used; the rest are refused by name). */
#define MAX_INPUTS 8

double serve_now(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec + (double)t.tv_nsec / 1e9;
}

/* ---- responses ---- */

/* Sets the response to body (taken; may be NULL only on OOM, which becomes a 500). */
static void set_body(serve_req *r, int status, char *body, size_t size, const char *type)
{
    free(r->resp);
    r->status = body ? status : 500;
    r->resp = (uint8_t *)body;
    r->resp_size = body ? size : 0;
    r->json_size = 0;
    r->content_type = type;
}

void serve_set_error(serve_req *r, int status, const char *msg)
{
    char *body = serve_error_json(msg);
    set_body(r, status, body, body ? strlen(body) : 0, "application/json");
}

static void set_errorf(serve_req *r, int status, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static void set_errorf(serve_req *r, int status, const char *fmt, ...)
{
    char msg[512];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    serve_set_error(r, status, msg);
}

/* Sets a JSON response from a jansson value (taken). */
static void set_json(serve_req *r, int status, json_t *v)
{
    char *text = v ? json_dumps(v, JSON_COMPACT | JSON_REAL_PRECISION(9)) : NULL;
    json_decref(v);
    set_body(r, status, text, text ? strlen(text) : 0, "application/json");
}

/* ---- routing ---- */

/* The model whose name the path starts with (followed by '/' or the end), longest name
 * first since a repo id may contain '/'. *rest: what follows the name. */
static serve_model *match_model(serve_server *srv, const char *path, const char **rest)
{
    serve_model *best = NULL;
    size_t best_len = 0;
    for (size_t i = 0; i < srv->n_models; i++) {
        size_t n = strlen(srv->models[i].name);
        if (n > best_len && strncmp(path, srv->models[i].name, n) == 0 &&
            (path[n] == '/' || path[n] == '\0')) {
            best = &srv->models[i];
            best_len = n;
        }
    }
    *rest = path + best_len;
    return best;
}

int serve_route_find(serve_server *srv, const char *method, const char *url, serve_model **model)
{
    bool get = strcmp(method, "GET") == 0, post = strcmp(method, "POST") == 0;
    *model = NULL;
    int kind = SERVE_ROUTE_NOT_FOUND;
    if (strcmp(url, "/v2/health/live") == 0) {
        kind = SERVE_ROUTE_LIVE;
    } else if (strcmp(url, "/v2/health/ready") == 0) {
        kind = SERVE_ROUTE_READY;
    } else if (strcmp(url, "/v2") == 0 || strcmp(url, "/v2/") == 0) {
        kind = SERVE_ROUTE_SERVER_META;
    } else if (strcmp(url, "/metrics") == 0) {
        kind = SERVE_ROUTE_METRICS;
    } else if (strncmp(url, "/v2/models/", 11) == 0) {
        const char *rest;
        *model = match_model(srv, url + 11, &rest);
        if (!*model) {
            return SERVE_ROUTE_NO_MODEL;
        }
        if (strncmp(rest, "/versions/", 10) == 0) {
            const char *v = rest + 10;
            if (v[0] != '1' || (v[1] != '\0' && v[1] != '/')) {
                return SERVE_ROUTE_NO_VERSION;
            }
            rest = v + 1;
        }
        if (*rest == '\0' || strcmp(rest, "/") == 0) {
            kind = SERVE_ROUTE_MODEL_META;
        } else if (strcmp(rest, "/ready") == 0) {
            kind = SERVE_ROUTE_MODEL_READY;
        } else if (strcmp(rest, "/stats") == 0) {
            kind = SERVE_ROUTE_MODEL_STATS;
        } else if (strcmp(rest, "/infer") == 0) {
            kind = SERVE_ROUTE_INFER;
        } else if (strcmp(rest, "/embed") == 0) {
            kind = SERVE_ROUTE_EMBED;
        } else if (strcmp(rest, "/classify") == 0) {
            kind = SERVE_ROUTE_CLASSIFY;
        }
    }
    if (kind == SERVE_ROUTE_NOT_FOUND) {
        return kind;
    }
    if (kind < SERVE_N_WORK_ROUTES ? !post : !get) {
        return SERVE_ROUTE_BAD_METHOD;
    }
    return kind;
}

/* ---- metadata, health, metrics ---- */

static json_t *tensor_meta(const char *name, const char *dtype, json_t *shape)
{
    return json_pack("{s:s, s:s, s:o}", "name", name, "datatype", dtype, "shape", shape);
}

static void model_meta(serve_req *r)
{
    const serve_model *m = r->model;
    const vitc_model_info *info = m->info;
    json_t *inputs = json_array(), *outputs = json_array();
    json_array_append_new(inputs, tensor_meta("images", "BYTES", json_pack("[i]", -1)));
    json_array_append_new(inputs, tensor_meta("pixel_values", "FP32",
                                              json_pack("[i,i,i,i]", -1, info->num_channels,
                                                        info->image_height, info->image_width)));
    for (int k = 0; k < SERVE_N_KINDS; k++) {
        if (!m->out_size[k]) {
            continue;
        }
        json_t *shape = json_pack("[i]", -1);
        if (k == VITC_OUTPUT_PIXEL_VALUES) {
            json_array_append_new(shape, json_integer(info->num_channels));
            json_array_append_new(shape, json_integer(info->image_height));
            json_array_append_new(shape, json_integer(info->image_width));
        } else if (k == VITC_OUTPUT_LAST_HIDDEN_STATE) {
            json_array_append_new(shape, json_integer(info->n_tokens));
            json_array_append_new(shape, json_integer(info->hidden_size));
        } else {
            json_array_append_new(shape, json_integer((json_int_t)m->out_size[k]));
        }
        json_array_append_new(outputs,
                              tensor_meta(vitc_output_name((vitc_output)k), "FP32", shape));
    }
    set_json(r, 200,
             json_pack("{s:s, s:[s], s:s, s:o, s:o, s:{s:i, s:s, s:s}}", "name", m->name,
                       "versions", "1", "platform", "vitc", "inputs", inputs, "outputs", outputs,
                       "parameters", "max_batch_size", (int)r->srv->opts->max_batch, "architecture",
                       info->architecture, "default_output",
                       vitc_output_name((vitc_output)m->default_kind)));
}

static void server_meta(serve_req *r)
{
    set_json(r, 200,
             json_pack("{s:s, s:s, s:[s,s]}", "name", "vitc", "version", vitc_version(),
                       "extensions", "binary_tensor_data", "statistics"));
}

/* Triton's statistics extension for one model: counts and nanosecond totals. The
 * compute time is split as Triton splits it, with input and output copies counted as 0
 * (they are part of compute_infer here). */
static void model_stats(serve_req *r)
{
    serve_server *srv = r->srv;
    pthread_mutex_lock(&srv->lock);
    serve_model_metrics m = r->model->metrics;
    pthread_mutex_unlock(&srv->lock);
    uint64_t ok = 0, bad = 0;
    for (int i = 0; i < SERVE_METRIC_ROUTES; i++) {
        ok += m.success[i];
        bad += m.failure[i];
    }
    json_t *stats = json_pack(
        "{s:s, s:s, s:I, s:I, s:I, s:{s:{s:I, s:I}, s:{s:I, s:I}, s:{s:I, s:I}, s:{s:I, s:I}, "
        "s:{s:I, s:I}, s:{s:I, s:I}}}",
        "name", r->model->name, "version", "1", "last_inference", (json_int_t)0, "inference_count",
        (json_int_t)m.images, "execution_count", (json_int_t)m.batches, "inference_stats",
        "success", "count", (json_int_t)ok, "ns", (json_int_t)(m.request_us * 1000), "fail",
        "count", (json_int_t)bad, "ns", (json_int_t)0, "queue", "count", (json_int_t)ok, "ns",
        (json_int_t)(m.queue_us * 1000), "compute_input", "count", (json_int_t)ok, "ns",
        (json_int_t)0, "compute_infer", "count", (json_int_t)ok, "ns",
        (json_int_t)(m.compute_us * 1000), "compute_output", "count", (json_int_t)ok, "ns",
        (json_int_t)0);
    set_json(r, 200, json_pack("{s:[o]}", "model_stats", stats));
}

static void metrics_text(serve_req *r)
{
    serve_server *srv = r->srv;
    char *text = NULL;
    size_t size = 0;
    FILE *f = open_memstream(&text, &size);
    const char **names = calloc(srv->n_models, sizeof *names);
    const serve_model_metrics **mm = calloc(srv->n_models, sizeof *mm);
    size_t *depth = calloc(srv->n_models, sizeof *depth);
    serve_model_metrics *copy = calloc(srv->n_models, sizeof *copy);
    if (!f || !names || !mm || !depth || !copy) {
        if (f) {
            fclose(f);
        }
        free(text);
        text = NULL;
    } else {
        /* Copy under the lock, print outside it. */
        serve_server_metrics s;
        pthread_mutex_lock(&srv->lock);
        for (size_t i = 0; i < srv->n_models; i++) {
            names[i] = srv->models[i].name;
            copy[i] = srv->models[i].metrics;
            mm[i] = &copy[i];
            depth[i] = srv->models[i].admitted;
        }
        s = srv->metrics;
        int ready = !srv->draining;
        pthread_mutex_unlock(&srv->lock);
        serve_metrics_write(f, names, mm, depth, srv->n_models, &s, ready);
        if (fclose(f) != 0) {
            free(text);
            text = NULL;
        }
    }
    free(names);
    free(mm);
    free(depth);
    free(copy);
    set_body(r, 200, text, size, "text/plain; version=0.0.4; charset=utf-8");
}

static bool is_ready(serve_server *srv)
{
    pthread_mutex_lock(&srv->lock);
    bool ready = !srv->draining;
    pthread_mutex_unlock(&srv->lock);
    return ready;
}

/* ---- the work routes: parse and validate ---- */

/* Adds output kind (binary or not) to the request; 0, or -1 with the 400 set. */
static int want_kind(serve_req *r, const char *name, bool binary)
{
    int k = vitc_output_by_name(name);
    if (k < 0) {
        set_errorf(r, 400,
                   "unknown output '%s' (pixel_values, last_hidden_state, pooler_output, cls, "
                   "logits, image_embeds)",
                   name);
        return -1;
    }
    if (!r->model->out_size[k]) {
        set_errorf(r, 400, "model '%s' has no output '%s' (%s)", r->model->name, name,
                   k == VITC_OUTPUT_LOGITS         ? "no classifier head"
                   : k == VITC_OUTPUT_IMAGE_EMBEDS ? "no projection"
                                                   : "no pooler");
        return -1;
    }
    for (size_t j = 0; j < r->n_kinds; j++) {
        if (r->kinds[j] == k) {
            set_errorf(r, 400, "output '%s' requested twice", name);
            return -1;
        }
    }
    if (r->n_kinds == SERVE_N_KINDS) {
        set_errorf(r, 400, "too many outputs");
        return -1;
    }
    r->kinds[r->n_kinds] = k;
    r->binary[r->n_kinds++] = binary;
    return 0;
}

static int check_count(serve_req *r, const char *what, size_t n)
{
    if (n == 0) {
        set_errorf(r, 400, "%s: no images", what);
        return -1;
    }
    if (n > (size_t)r->srv->opts->max_batch) {
        set_errorf(r, 400, "%s: %zu images, more than the server's --max-batch %ld", what, n,
                   r->srv->opts->max_batch);
        return -1;
    }
    return 0;
}

/* Names "INPUT[i]" for each BYTES element, for messages. */
static int name_elements(serve_req *r, const char *input)
{
    r->names = calloc(r->n, sizeof *r->names);
    if (!r->names) {
        return -1;
    }
    for (size_t i = 0; i < r->n; i++) {
        if (asprintf(&r->names[i], "input '%s' element %zu", input, i) < 0) {
            r->names[i] = NULL;
            return -1;
        }
    }
    return 0;
}

static int parse_infer(serve_req *r, struct MHD_Connection *conn)
{
    serve_model *m = r->model;
    const serve_opts *o = r->srv->opts;
    char msg[512];
    size_t json_size = SIZE_MAX;
    const char *ihcl =
        MHD_lookup_connection_value(conn, MHD_HEADER_KIND, "Inference-Header-Content-Length");
    if (ihcl) {
        char *end;
        errno = 0;
        unsigned long long v = strtoull(ihcl, &end, 10);
        if (errno || end == ihcl || *end || ihcl[0] == '-' || v > r->size) {
            set_errorf(r, 400,
                       "Inference-Header-Content-Length '%s' is not a length within the "
                       "%zu-byte body",
                       ihcl, r->size);
            return -1;
        }
        json_size = (size_t)v;
    }
    size_t max_elems = (size_t)o->max_batch * m->n_pv;
    serve_limits limits = {.max_inputs = MAX_INPUTS, .max_elems = max_elems};
    if (serve_request_parse(r->body, r->size, json_size, &limits, &r->v2, msg, sizeof msg) != 0) {
        serve_set_error(r, 400, msg);
        return -1;
    }
    if (r->v2.n_inputs != 1) {
        set_errorf(r, 400,
                   "expected one input, 'images' (BYTES [N]) or 'pixel_values' (FP32 "
                   "[N,%d,%d,%d]), got %zu",
                   m->info->num_channels, m->info->image_height, m->info->image_width,
                   r->v2.n_inputs);
        return -1;
    }
    const serve_input *in = &r->v2.inputs[0];
    if (in->dtype == SERVE_DTYPE_BYTES) {
        if (!(in->ndim == 1 || (in->ndim == 2 && in->shape[1] == 1))) {
            set_errorf(r, 400, "input '%s': BYTES shape must be [N] or [N,1]", in->name);
            return -1;
        }
        r->n = in->n_elems;
        r->blobs = in->bytes;
        if (check_count(r, in->name, r->n) != 0) {
            return -1;
        }
        if (name_elements(r, in->name) != 0) {
            serve_set_error(r, 500, "out of memory");
            return -1;
        }
    } else {
        const vitc_model_info *info = m->info;
        if (in->ndim != 4 || in->shape[1] != info->num_channels ||
            in->shape[2] != info->image_height || in->shape[3] != info->image_width) {
            set_errorf(r, 400, "input '%s': FP32 shape must be [N,%d,%d,%d] for model '%s'",
                       in->name, info->num_channels, info->image_height, info->image_width,
                       m->name);
            return -1;
        }
        r->n = (size_t)in->shape[0];
        if (check_count(r, in->name, r->n) != 0) {
            return -1;
        }
        r->pixels = in->fp32;
    }
    for (size_t j = 0; j < r->v2.n_outputs; j++) {
        if (want_kind(r, r->v2.outputs[j].name,
                      r->v2.outputs[j].binary || r->v2.binary_data_output) != 0) {
            return -1;
        }
    }
    if (r->n_kinds == 0) {
        want_kind(r, vitc_output_name((vitc_output)m->default_kind), r->v2.binary_data_output);
    }
    return 0;
}

/* A query argument as a whole number in [lo, hi]; 0 (with *out set or left), or -1 with
 * the 400 set. */
static int query_long(serve_req *r, struct MHD_Connection *conn, const char *key, long lo, long hi,
                      long *out)
{
    const char *v = MHD_lookup_connection_value(conn, MHD_GET_ARGUMENT_KIND, key);
    if (!v) {
        return 0;
    }
    char *end;
    errno = 0;
    long x = strtol(v, &end, 10);
    if (errno || end == v || *end || x < lo || x > hi) {
        set_errorf(r, 400, "query '%s=%s': expected a whole number from %ld to %ld", key, v, lo,
                   hi);
        return -1;
    }
    *out = x;
    return 0;
}

static int parse_images(serve_req *r, struct MHD_Connection *conn)
{
    serve_model *m = r->model;
    char msg[512];
    const char *ctype = MHD_lookup_connection_value(conn, MHD_HEADER_KIND, "Content-Type");
    if (ctype && strncasecmp(ctype, "multipart/form-data", 19) == 0) {
        if (serve_multipart_parse(ctype, r->body, r->size, (size_t)r->srv->opts->max_batch + 1,
                                  &r->parts, &r->n_parts, msg, sizeof msg) != 0) {
            serve_set_error(r, 400, msg);
            return -1;
        }
        r->n = r->n_parts;
        if (check_count(r, "multipart body", r->n) != 0) {
            return -1;
        }
        serve_blob *blobs = calloc(r->n, sizeof *blobs);
        r->names = calloc(r->n, sizeof *r->names);
        if (!blobs || !r->names) {
            free(blobs);
            serve_set_error(r, 500, "out of memory");
            return -1;
        }
        for (size_t i = 0; i < r->n; i++) {
            blobs[i] = r->parts[i].data;
            const char *name = r->parts[i].filename ? r->parts[i].filename : r->parts[i].name;
            r->names[i] = name ? strdup(name) : NULL;
            if (!name && asprintf(&r->names[i], "part %zu", i) < 0) {
                r->names[i] = NULL;
            }
            if (!r->names[i]) {
                serve_set_error(r, 500, "out of memory");
                return -1;
            }
        }
        r->blobs = blobs;
    } else {
        if (r->size == 0) {
            serve_set_error(r, 400,
                            "empty body: send an image (curl --data-binary @FILE) or "
                            "multipart/form-data");
            return -1;
        }
        r->n = 1;
        r->one_blob = (serve_blob){r->body, r->size};
        r->blobs = &r->one_blob;
        r->names = calloc(1, sizeof *r->names);
        if (!r->names || !(r->names[0] = strdup("body"))) {
            serve_set_error(r, 500, "out of memory");
            return -1;
        }
    }
    if (r->route == SERVE_ROUTE_CLASSIFY) {
        if (!m->out_size[VITC_OUTPUT_LOGITS]) {
            set_errorf(r, 400, "model '%s' has no classifier head; use /embed", m->name);
            return -1;
        }
        long k = 5;
        if (query_long(r, conn, "top_k", 1, 1000000, &k) != 0) {
            return -1;
        }
        r->top_k = (int)(k < m->info->num_labels ? k : m->info->num_labels);
        return want_kind(r, "logits", false);
    }
    const char *out = MHD_lookup_connection_value(conn, MHD_GET_ARGUMENT_KIND, "output");
    const char *accept = MHD_lookup_connection_value(conn, MHD_HEADER_KIND, "Accept");
    r->npy = accept && strstr(accept, "application/x-npy") != NULL;
    return want_kind(r, out ? out : vitc_output_name((vitc_output)m->default_kind), false);
}

/* Allocates what the work needs (pixels for encoded images, the outputs): bounded by
 * max_batch. 0, or -1 with a 500 set. */
static int alloc_work(serve_req *r)
{
    const serve_model *m = r->model;
    if (!r->pixels) {
        r->pixels = malloc(r->n * m->n_pv * sizeof(float));
        r->own_pixels = true;
        if (!r->pixels) {
            serve_set_error(r, 500, "out of memory");
            return -1;
        }
    }
    for (size_t j = 0; j < r->n_kinds; j++) {
        r->out[j] = malloc(r->n * m->out_size[r->kinds[j]] * sizeof(float));
        if (!r->out[j]) {
            serve_set_error(r, 500, "out of memory");
            return -1;
        }
    }
    return 0;
}

/* Admits r into its model's queue, or answers 503 at once. Returns 1 when admitted. */
static int admit(serve_req *r, struct MHD_Connection *conn)
{
    serve_server *srv = r->srv;
    serve_model *m = r->model;
    pthread_mutex_lock(&srv->lock);
    if (srv->draining) {
        pthread_mutex_unlock(&srv->lock);
        serve_set_error(r, 503, "the server is shutting down");
        return 0;
    }
    if (m->admitted >= (size_t)srv->opts->max_queue) {
        srv->metrics.rejected++;
        pthread_mutex_unlock(&srv->lock);
        set_errorf(r, 503, "model '%s': queue full (%ld requests); retry later", m->name,
                   srv->opts->max_queue);
        return 0;
    }
    m->admitted++;
    pthread_mutex_unlock(&srv->lock);
    /* Suspend before queuing, so that a worker's resume always finds it suspended. */
    r->t_admit = serve_now();
    MHD_suspend_connection(conn);
    pthread_mutex_lock(&srv->lock);
    serve_enqueue_locked(r);
    pthread_mutex_unlock(&srv->lock);
    return 1;
}

int serve_route_handle(serve_req *r, void *connection)
{
    struct MHD_Connection *conn = connection;
    serve_server *srv = r->srv;
    switch (r->route) {
    case SERVE_ROUTE_LIVE:
        set_body(r, 200, strdup(""), 0, "text/plain");
        return 0;
    case SERVE_ROUTE_READY:
    case SERVE_ROUTE_MODEL_READY:
        if (is_ready(srv)) {
            set_body(r, 200, strdup(""), 0, "text/plain");
        } else {
            serve_set_error(r, 503, "not ready: the server is shutting down");
        }
        return 0;
    case SERVE_ROUTE_SERVER_META:
        server_meta(r);
        return 0;
    case SERVE_ROUTE_MODEL_META:
        model_meta(r);
        return 0;
    case SERVE_ROUTE_METRICS:
        metrics_text(r);
        return 0;
    case SERVE_ROUTE_MODEL_STATS:
        model_stats(r);
        return 0;
    case SERVE_ROUTE_INFER:
    case SERVE_ROUTE_EMBED:
    case SERVE_ROUTE_CLASSIFY:
        break;
    default:
        serve_set_error(r, 404, "no such route");
        return 0;
    }
    int rc = r->route == SERVE_ROUTE_INFER ? parse_infer(r, conn) : parse_images(r, conn);
    if (rc != 0 || alloc_work(r) != 0) {
        return 0;
    }
    return admit(r, conn);
}

/* ---- encoding results (worker threads) ---- */

static void encode_infer(serve_req *r)
{
    const serve_model *m = r->model;
    serve_output outs[SERVE_N_KINDS];
    for (size_t j = 0; j < r->n_kinds; j++) {
        int k = r->kinds[j];
        serve_output *o = &outs[j];
        *o = (serve_output){
            .name = vitc_output_name((vitc_output)k), .data = r->out[j], .binary = r->binary[j]};
        o->shape[o->ndim++] = (int64_t)r->n;
        if (k == VITC_OUTPUT_PIXEL_VALUES) {
            o->shape[o->ndim++] = m->info->num_channels;
            o->shape[o->ndim++] = m->info->image_height;
            o->shape[o->ndim++] = m->info->image_width;
        } else if (k == VITC_OUTPUT_LAST_HIDDEN_STATE) {
            o->shape[o->ndim++] = m->info->n_tokens;
            o->shape[o->ndim++] = m->info->hidden_size;
        } else {
            o->shape[o->ndim++] = (int64_t)m->out_size[k];
        }
    }
    uint8_t *body = NULL;
    size_t size = 0, json_size = 0;
    if (serve_response_encode(m->name, "1", r->v2.id, outs, r->n_kinds, &body, &size, &json_size) !=
        0) {
        serve_set_error(r, 500, "out of memory encoding the response");
        return;
    }
    set_body(r, 200, (char *)body, size,
             json_size < size ? "application/octet-stream" : "application/json");
    r->json_size = json_size < size ? json_size : 0;
}

static json_t *float_array(const float *x, size_t n)
{
    json_t *a = json_array();
    for (size_t i = 0; a && i < n; i++) {
        if (json_array_append_new(a, json_real(x[i])) != 0) {
            json_decref(a);
            return NULL;
        }
    }
    return a;
}

static void encode_embed(serve_req *r)
{
    const serve_model *m = r->model;
    int k = r->kinds[0];
    size_t per = m->out_size[k];
    size_t shape[4] = {r->n}, ndim = 1;
    if (k == VITC_OUTPUT_PIXEL_VALUES) {
        shape[ndim++] = (size_t)m->info->num_channels;
        shape[ndim++] = (size_t)m->info->image_height;
        shape[ndim++] = (size_t)m->info->image_width;
    } else if (k == VITC_OUTPUT_LAST_HIDDEN_STATE) {
        shape[ndim++] = (size_t)m->info->n_tokens;
        shape[ndim++] = (size_t)m->info->hidden_size;
    } else {
        shape[ndim++] = per;
    }
    if (r->npy) {
        uint8_t *body = NULL;
        size_t size = 0;
        if (serve_npy_encode(r->out[0], ndim, shape, &body, &size) != 0) {
            serve_set_error(r, 500, "out of memory encoding the response");
            return;
        }
        set_body(r, 200, (char *)body, size, "application/x-npy");
        return;
    }
    json_t *jshape = json_array(), *names = json_array(), *data = json_array();
    for (size_t i = 0; i < ndim; i++) {
        json_array_append_new(jshape, json_integer((json_int_t)shape[i]));
    }
    for (size_t i = 0; i < r->n; i++) {
        json_array_append_new(names, json_string(r->names[i]));
        json_t *row = float_array(r->out[0] + i * per, per);
        if (!row || json_array_append_new(data, row) != 0) {
            json_decref(jshape);
            json_decref(names);
            json_decref(data);
            serve_set_error(r, 500, "out of memory encoding the response");
            return;
        }
    }
    set_json(r, 200,
             json_pack("{s:s, s:s, s:o, s:o, s:o}", "model", m->name, "output",
                       vitc_output_name((vitc_output)k), "shape", jshape, "names", names, "data",
                       data));
}

static void encode_classify(serve_req *r)
{
    const serve_model *m = r->model;
    int n_labels = m->info->num_labels;
    cli_ranked *rk = calloc((size_t)n_labels, sizeof *rk);
    json_t *all = json_array();
    char buf[32];
    for (size_t i = 0; rk && all && i < r->n; i++) {
        cli_rank_logits(r->out[0] + i * (size_t)n_labels, n_labels, rk);
        json_t *preds = json_array();
        for (int j = 0; preds && j < r->top_k; j++) {
            json_array_append_new(
                preds, json_pack("{s:i, s:i, s:s, s:f, s:f}", "rank", j + 1, "id", rk[j].id,
                                 "label", cli_label_of(m->model, rk[j].id, buf, sizeof buf), "prob",
                                 rk[j].prob, "logit", rk[j].logit));
        }
        json_array_append_new(all, json_pack("{s:s, s:o}", "input", r->names[i], "predictions",
                                             preds ? preds : json_null()));
    }
    free(rk);
    char *text = all ? json_dumps(all, JSON_COMPACT | JSON_REAL_PRECISION(15)) : NULL;
    json_decref(all);
    set_body(r, 200, text, text ? strlen(text) : 0, "application/json");
}

void serve_route_encode(serve_req *r)
{
    if (r->route == SERVE_ROUTE_INFER) {
        encode_infer(r);
    } else if (r->route == SERVE_ROUTE_EMBED) {
        encode_embed(r);
    } else {
        encode_classify(r);
    }
}
