/* SPDX-License-Identifier: MIT
 *
 * cmd_serve.c — `vitc serve`: loads the models, binds the listening socket, starts the
 * server (cli/serve/) and waits for SIGINT or SIGTERM, then drains: readiness false,
 * no new connections, every admitted request answered, exit 0. Everything that can
 * fail (a model, the port) fails before the URL line is printed. CLI layer: <vitc.h>.
 */
#include <errno.h>
#include <netdb.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include <vitc.h>

#include "args.h"
#include "model_arg.h"
#include "serve/serve.h"
#include "target.h"

enum {
    OPT_HOST,
    OPT_PORT,
    OPT_DEVICE,
    OPT_PRECISION,
    OPT_THREADS,
    OPT_MAX_BATCH,
    OPT_MAX_DELAY,
    OPT_MAX_QUEUE,
    OPT_MAX_BODY,
    OPT_TIMEOUT,
    OPT_WORKERS,
    OPT_KEY_FILE,
    OPT_MAX_CONN,
    OPT_IDLE,
    OPT_QUIET
};

static const cli_option options[] = {
    [OPT_HOST] = {"host", 0, "ADDR", "Address to listen on (default 127.0.0.1)."},
    [OPT_PORT] = {"port", 0, "PORT", "Port, 0 = any free port (default 8000)."},
    [OPT_DEVICE] = {"device", 0, "D", CLI_DEVICE_HELP},
    [OPT_PRECISION] = {"precision", 0, "P", CLI_PRECISION_HELP},
    [OPT_THREADS] = {"threads", 0, "N", "Compute threads per model, 0 = all cores (default 0)."},
    [OPT_MAX_BATCH] = {"max-batch", 0, "N",
                       "Most images per forward pass and per request, 1 to 4096 (default 8)."},
    [OPT_MAX_DELAY] = {"max-delay-us", 0, "U",
                       "Longest wait for a batch to fill after its first request (default 2000)."},
    [OPT_MAX_QUEUE] = {"max-queue", 0, "N",
                       "Requests admitted per model before 503 Queue full (default 64)."},
    [OPT_MAX_BODY] = {"max-body-bytes", 0, "B",
                      "Largest request body; larger gets 413 (default 16777216)."},
    [OPT_TIMEOUT] = {"request-timeout-ms", 0, "T",
                     "A request not computing T ms after admission gets 503; a body still arriving "
                     "after T ms is cut off (default 30000)."},
    [OPT_WORKERS] = {"workers", 0, "N",
                     "Image decoding threads, 0 = one per available core (default 0)."},
    [OPT_KEY_FILE] = {"api-key-file", 0, "F",
                      "Require 'Authorization: Bearer KEY' (KEY: F's first line; or "
                      "$VITC_API_KEY) on every route but health."},
    [OPT_MAX_CONN] = {"max-connections", 0, "N", "Open connections at most (default 64)."},
    [OPT_IDLE] = {"idle-timeout-s", 0, "S",
                  "Close a connection silent for S seconds, headers or body (default 10)."},
    [OPT_QUIET] = {"quiet", 0, NULL, "No access log on stderr."},
};

static int run(const cli_command *cmd, int argc, char **argv);

const cli_command cli_cmd_serve = {
    .name = "serve",
    .summary = "Serve models over HTTP (KServe v2 / Triton protocol and plain image routes).",
    .synopsis = "[NAME=]MODEL... [--host ADDR] [--port PORT] [--max-batch N] [--max-delay-us U]\n"
                "                  [--max-queue N] [--max-body-bytes B] [--request-timeout-ms T]\n"
                "                  [--workers N] [--threads N] [--api-key-file F] [options]",
    .description =
        "Each MODEL (a directory or a repo id) is served as NAME: NAME=MODEL, else the repo\n"
        "id or the directory's base name. The first line on stdout is the URL listened on.\n"
        "Routes (KServe v2 / Open Inference Protocol, as Triton serves it):\n"
        "  GET  /v2/health/live, /v2/health/ready, /v2, /metrics (Prometheus text)\n"
        "  GET  /v2/models/NAME[/versions/1], /v2/models/NAME/ready, /v2/models/NAME/stats\n"
        "  POST /v2/models/NAME/infer      inputs: 'images' BYTES [N] (JPEG/PNG) or\n"
        "                                  'pixel_values' FP32 [N,C,S,S]; outputs by name\n"
        "                                  (pooler_output, cls, last_hidden_state, logits,\n"
        "                                  pixel_values); JSON or binary tensor data\n"
        "  POST /v2/models/NAME/embed[?output=KIND]   one image body, or multipart/form-data\n"
        "                                  files; JSON {model, output, shape, names, data},\n"
        "                                  or .npy with 'Accept: application/x-npy'\n"
        "  POST /v2/models/NAME/classify[?top_k=K]    as 'vitc classify --json'\n"
        "Results are bitwise those of 'vitc embed' whatever batch a request joins.\n"
        "Errors are {\"error\": \"...\"}: 400 bad request, 401 no key, 404 unknown model or\n"
        "route, 413 body over --max-body-bytes, 503 queue full, timeout or draining\n"
        "(with Retry-After). SIGINT/SIGTERM: stop accepting, readiness false, answer every\n"
        "admitted request (waiting at most --request-timeout-ms + 10 s), exit 0.\n"
        "One access-log line per request on stderr unless --quiet.",
    .options = options,
    .n_options = (int)(sizeof options / sizeof options[0]),
    .run = run,
};

/* ---- models ---- */

/* A served name: letters, digits, '.', '_', '-' and '/' between parts. */
static bool valid_name(const char *s)
{
    if (!*s || *s == '/' || s[strlen(s) - 1] == '/' || strstr(s, "//") || strstr(s, "..")) {
        return false;
    }
    for (; *s; s++) {
        if (!(strchr("._-/", *s) || (*s >= 'a' && *s <= 'z') || (*s >= 'A' && *s <= 'Z') ||
              (*s >= '0' && *s <= '9'))) {
            return false;
        }
    }
    return true;
}

/* The name for a MODEL argument without NAME=: a directory's (or a path's) base name,
 * else the argument (a repo id). Caller frees. */
static char *default_name(const char *arg)
{
    struct stat sb;
    bool path = arg[0] == '/' || arg[0] == '.' || (stat(arg, &sb) == 0 && S_ISDIR(sb.st_mode));
    if (!path) {
        return strdup(arg);
    }
    size_t n = strlen(arg);
    while (n > 1 && arg[n - 1] == '/') {
        n--;
    }
    size_t start = n;
    while (start > 0 && arg[start - 1] != '/') {
        start--;
    }
    return strndup(arg + start, n - start);
}

static int load_model(const cli_command *cmd, const serve_opts *o, const char *arg, serve_model *m)
{
    const char *eq = strchr(arg, '=');
    const char *path = eq ? eq + 1 : arg;
    m->name = eq ? strndup(arg, (size_t)(eq - arg)) : default_name(arg);
    if (!m->name) {
        cli_error(cmd, "out of memory");
        return CLI_EXIT_FAIL;
    }
    if (!valid_name(m->name)) {
        cli_error(cmd,
                  "'%s': model name '%s' may hold only letters, digits, '.', '_', '-' and "
                  "'/' (choose one with NAME=MODEL)",
                  arg, m->name);
        return CLI_EXIT_USAGE;
    }
    vitc_model_params mp = vitc_model_default_params();
    mp.precision = o->target.precision;
    if (cli_model_load(path, &mp, &m->model) != VITC_OK) {
        cli_error(cmd, "model '%s': %s", m->name, vitc_last_error());
        return CLI_EXIT_FAIL;
    }
    m->info = vitc_model_get_info(m->model);
    vitc_ctx_params cp = vitc_ctx_default_params();
    cp.backend = o->target.backend;
    cp.device = o->target.device;
    cp.n_threads = (int)o->threads;
    cp.max_batch = (int)o->max_batch;
    if (vitc_ctx_new(m->model, &cp, &m->ctx) != VITC_OK) {
        cli_error(cmd, "model '%s': %s", m->name, vitc_last_error());
        return CLI_EXIT_FAIL;
    }
    size_t largest = 0;
    for (int k = 0; k < SERVE_N_KINDS; k++) {
        m->out_size[k] = vitc_output_size(m->model, (vitc_output)k);
        largest = m->out_size[k] > largest ? m->out_size[k] : largest;
    }
    m->n_pv = m->out_size[VITC_OUTPUT_PIXEL_VALUES];
    m->default_kind = m->info->default_output;
    m->batch_pixels = malloc((size_t)o->max_batch * m->n_pv * sizeof(float));
    m->scratch = malloc((size_t)o->max_batch * largest * sizeof(float));
    if (!m->batch_pixels || !m->scratch) {
        cli_error(cmd, "model '%s': out of memory for batches of %ld", m->name, o->max_batch);
        return CLI_EXIT_FAIL;
    }
    return 0;
}

static void free_model(serve_model *m)
{
    vitc_ctx_free(m->ctx);
    vitc_model_free(m->model);
    free(m->batch_pixels);
    free(m->scratch);
    free(m->name);
}

/* ---- the listening socket ---- */

/* Binds and listens on host:port; prints why not. Writes the URL into url. */
static int listen_on(const cli_command *cmd, const char *host, long port, int *fd_out, char *url,
                     size_t url_size)
{
    char port_s[16];
    snprintf(port_s, sizeof port_s, "%ld", port);
    struct addrinfo hints = {.ai_family = AF_UNSPEC,
                             .ai_socktype = SOCK_STREAM,
                             .ai_flags = AI_PASSIVE | AI_NUMERICSERV};
    struct addrinfo *ai = NULL;
    int e = getaddrinfo(host, port_s, &hints, &ai);
    if (e != 0) {
        cli_error(cmd, "--host '%s': %s", host, gai_strerror(e));
        return CLI_EXIT_FAIL;
    }
    int fd = socket(ai->ai_family, ai->ai_socktype | SOCK_CLOEXEC, ai->ai_protocol);
    int one = 1;
    /* SO_REUSEADDR lets a restart bind past TIME_WAIT; Linux still refuses a port that
     * another socket listens on. */
    if (fd < 0 || setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one) != 0 ||
        bind(fd, ai->ai_addr, ai->ai_addrlen) != 0 || listen(fd, 128) != 0) {
        cli_error(cmd, "cannot listen on %s:%s: %s", host, port_s, strerror(errno));
        if (fd >= 0) {
            close(fd);
        }
        freeaddrinfo(ai);
        return CLI_EXIT_FAIL;
    }
    struct sockaddr_storage ss;
    socklen_t len = sizeof ss;
    char h[NI_MAXHOST] = "", p[NI_MAXSERV] = "";
    if (getsockname(fd, (struct sockaddr *)&ss, &len) != 0 ||
        getnameinfo((struct sockaddr *)&ss, len, h, sizeof h, p, sizeof p,
                    NI_NUMERICHOST | NI_NUMERICSERV) != 0) {
        snprintf(h, sizeof h, "%s", host);
        snprintf(p, sizeof p, "%s", port_s);
    }
    snprintf(url, url_size, strchr(h, ':') ? "http://[%s]:%s" : "http://%s:%s", h, p);
    freeaddrinfo(ai);
    *fd_out = fd;
    return 0;
}

/* ---- the command ---- */

/* The API key: --api-key-file's first line, else $VITC_API_KEY, else none. */
static int read_key(const cli_command *cmd, const char *file, char **key)
{
    *key = NULL;
    if (!file) {
        const char *env = getenv("VITC_API_KEY");
        if (env && *env) {
            *key = strdup(env);
        }
        return 0;
    }
    FILE *f = fopen(file, "r");
    if (!f) {
        cli_error(cmd, "%s: cannot read the API key: %s", file, strerror(errno));
        return CLI_EXIT_FAIL;
    }
    char buf[1024] = "";
    if (!fgets(buf, sizeof buf, f)) {
        buf[0] = '\0';
    }
    fclose(f);
    size_t n = strcspn(buf, "\r\n");
    buf[n] = '\0';
    if (n == 0) {
        cli_error(cmd, "%s: the API key file's first line is empty", file);
        return CLI_EXIT_FAIL;
    }
    *key = strdup(buf);
    return 0;
}

static int parse_numbers(const cli_command *cmd, const cli_args *a, serve_opts *o)
{
    static const struct {
        int opt;
        const char *name;
        long lo, hi;
        size_t offset;
    } nums[] = {
        {OPT_PORT, "port", 0, 65535, offsetof(serve_opts, port)},
        {OPT_THREADS, "threads", 0, 4096, offsetof(serve_opts, threads)},
        {OPT_MAX_BATCH, "max-batch", 1, 4096, offsetof(serve_opts, max_batch)},
        {OPT_MAX_DELAY, "max-delay-us", 0, 10000000, offsetof(serve_opts, max_delay_us)},
        {OPT_MAX_QUEUE, "max-queue", 1, 1000000, offsetof(serve_opts, max_queue)},
        {OPT_MAX_BODY, "max-body-bytes", 1, 1L << 40, offsetof(serve_opts, max_body)},
        {OPT_TIMEOUT, "request-timeout-ms", 1, 86400000, offsetof(serve_opts, request_timeout_ms)},
        {OPT_WORKERS, "workers", 0, 4096, offsetof(serve_opts, workers)},
        {OPT_MAX_CONN, "max-connections", 1, 100000, offsetof(serve_opts, max_connections)},
        {OPT_IDLE, "idle-timeout-s", 1, 86400, offsetof(serve_opts, connection_timeout_s)},
    };
    for (size_t i = 0; i < sizeof nums / sizeof nums[0]; i++) {
        const char *v = a->value[nums[i].opt];
        int rc;
        if (v && (rc = cli_parse_long(cmd, nums[i].name, v, nums[i].lo, nums[i].hi,
                                      (long *)((char *)o + nums[i].offset))) != 0) {
            return rc;
        }
    }
    return 0;
}

static int run(const cli_command *cmd, int argc, char **argv)
{
    cli_args a;
    int rc = cli_args_parse(cmd, argc, argv, &a);
    if (rc >= 0) {
        return rc;
    }
    serve_opts o = {
        .host = "127.0.0.1",
        .port = 8000,
        .max_batch = 8,
        .max_delay_us = 2000,
        .max_queue = 64,
        .max_body = 16L << 20,
        .request_timeout_ms = 30000,
        .max_connections = 64,
        .connection_timeout_s = 10,
    };
    serve_server srv = {.opts = &o};
    char *key = NULL, url[128], msg[256];
    int fd = -1;
    bool started = false;
    sigset_t sigs;

    if (a.n_pos < 1) {
        rc = cli_usage_error(cmd, "missing MODEL");
        goto done;
    }
    if (a.value[OPT_HOST]) {
        o.host = a.value[OPT_HOST];
    }
    o.quiet = a.value[OPT_QUIET] != NULL;
    if ((rc = parse_numbers(cmd, &a, &o)) != 0 ||
        (rc = cli_target_parse(cmd, a.value[OPT_DEVICE], a.value[OPT_PRECISION], &o.target)) != 0 ||
        (rc = read_key(cmd, a.value[OPT_KEY_FILE], &key)) != 0) {
        goto done;
    }
    o.api_key = key;
    srv.models = calloc((size_t)a.n_pos, sizeof *srv.models);
    if (!srv.models) {
        cli_error(cmd, "out of memory");
        rc = CLI_EXIT_FAIL;
        goto done;
    }
    for (int i = 0; i < a.n_pos; i++) {
        serve_model *m = &srv.models[i];
        m->srv = &srv;
        srv.n_models++;
        if ((rc = load_model(cmd, &o, a.pos[i], m)) != 0) {
            goto done;
        }
        for (int j = 0; j < i; j++) {
            if (strcmp(srv.models[j].name, m->name) == 0) {
                rc =
                    cli_usage_error(cmd, "two models named '%s' (choose with NAME=MODEL)", m->name);
                goto done;
            }
        }
    }
    if ((rc = listen_on(cmd, o.host, o.port, &fd, url, sizeof url)) != 0) {
        goto done;
    }

    /* The signals are taken by sigwait below: block them before any thread starts, so
     * every thread inherits the mask. A closed client never raises SIGPIPE. */
    sigemptyset(&sigs);
    sigaddset(&sigs, SIGINT);
    sigaddset(&sigs, SIGTERM);
    pthread_sigmask(SIG_BLOCK, &sigs, NULL);
    signal(SIGPIPE, SIG_IGN);
    pthread_condattr_t ca;
    pthread_condattr_init(&ca);
    pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
    pthread_mutex_init(&srv.lock, NULL);
    pthread_cond_init(&srv.work, &ca);
    pthread_cond_init(&srv.idle, &ca);
    for (size_t i = 0; i < srv.n_models; i++) {
        pthread_cond_init(&srv.models[i].wake, &ca);
    }
    pthread_condattr_destroy(&ca);
    started = true;
    if (serve_threads_start(&srv, msg, sizeof msg) != 0 ||
        serve_http_start(&srv, fd, msg, sizeof msg) != 0) {
        cli_error(cmd, "%s", msg);
        rc = CLI_EXIT_FAIL;
        goto done;
    }
    fd = -1; /* the server's now */
    printf("%s\n", url);
    fflush(stdout);
    if (!o.quiet) {
        for (size_t i = 0; i < srv.n_models; i++) {
            fprintf(stderr, "vitc serve: %s/v2/models/%s (%s, %s)\n", url, srv.models[i].name,
                    srv.models[i].info->architecture, cli_precision_name(o.target.precision));
        }
    }
    int sig = 0;
    sigwait(&sigs, &sig);
    if (!o.quiet) {
        fprintf(stderr, "vitc serve: %s: draining\n", sig == SIGINT ? "SIGINT" : "SIGTERM");
    }
    /* A second signal ends the process at once. */
    signal(SIGINT, SIG_DFL);
    signal(SIGTERM, SIG_DFL);
    pthread_sigmask(SIG_UNBLOCK, &sigs, NULL);
    serve_http_drain_and_stop(&srv, o.request_timeout_ms + 10000);
    if (!o.quiet) {
        fprintf(stderr, "vitc serve: stopped\n");
    }
    rc = CLI_EXIT_OK;

done:
    if (started && srv.n_workers > 0) {
        serve_threads_stop(&srv);
    }
    if (fd >= 0) {
        close(fd);
    }
    for (size_t i = 0; i < srv.n_models; i++) {
        free_model(&srv.models[i]);
        if (started) {
            pthread_cond_destroy(&srv.models[i].wake);
        }
    }
    if (started) {
        pthread_mutex_destroy(&srv.lock);
        pthread_cond_destroy(&srv.work);
        pthread_cond_destroy(&srv.idle);
    }
    free(srv.models);
    free(key);
    cli_args_free(&a);
    return rc;
}
