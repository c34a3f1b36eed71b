/* SPDX-License-Identifier: MIT
 *
 * cmd_bench.c — `vitc bench`: times vitc_forward on seeded random pixel_values for each
 * batch size and prints the latency table (mean, median, min, max, p99, std, images/s,
 * speed-up vs batch 1) with the model's FLOP count, the achieved GFLOP/s against a measured
 * FMA peak, load time and resident memory. Text or JSON. It measures; it does not tune.
 * CLI layer: only <vitc.h> (jansson for JSON), statistics in stats.c, the peak in peak.c.
 */
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sched.h>
#include <sys/resource.h>
#include <time.h>
#include <unistd.h>

#include <jansson.h>
#include <vitc.h>

#include "args.h"
#include "json_put.h"
#include "random_inputs.h"
#include "model_arg.h"
#include "peak.h"
#include "stats.h"
#include "target.h"

enum {
    OPT_BATCH,
    OPT_WARMUP,
    OPT_ITERS,
    OPT_SECONDS,
    OPT_THREADS,
    OPT_PRECISION,
    OPT_DEVICE,
    OPT_SEED,
    OPT_JSON,
    OPT_IMAGE_SIZE
};

/* Without --iters or --seconds: at least this many timed runs and this many seconds. With
 * --seconds, at least SECONDS_MIN_RUNS runs however slow one is, so the statistics have
 * something to work on. */
#define DEFAULT_MIN_RUNS    10
#define DEFAULT_MIN_SECONDS 2.0
#define SECONDS_MIN_RUNS    5
/* Timed runs kept per batch size at most (8 MB of times), so a long --seconds on a tiny
 * model cannot grow without bound. */
#define MAX_RUNS    1000000
#define MAX_BATCHES 16
/* The FMA peak: 3 runs of about 0.2 s each, best one kept. */
#define PEAK_SECONDS 0.2
#define PEAK_REPS    3

static const cli_option options[] = {
    [OPT_BATCH] = {"batch", 0, "LIST",
                   "Batch sizes, comma separated, each 1 to 4096 (default 1,4,8)."},
    [OPT_WARMUP] = {"warmup", 0, "N",
                    "Untimed runs before each batch size's timed runs (default 2)."},
    [OPT_ITERS] = {"iters", 0, "N", "Timed runs per batch size, exactly N."},
    [OPT_SECONDS] = {"seconds", 0, "S",
                     "Timed runs per batch size until S seconds have passed (at least 5 runs)."},
    [OPT_THREADS] = {"threads", 0, "N", "Worker threads, 0 = all cores (default 0)."},
    [OPT_PRECISION] = {"precision", 0, "P", CLI_PRECISION_HELP},
    [OPT_DEVICE] = {"device", 0, "D", CLI_DEVICE_HELP},
    [OPT_SEED] = {"seed", 0, "S", "Seed of the random pixel_values (default 0)."},
    [OPT_JSON] = {"json", 0, NULL, "Print a JSON object (with every run's time) instead of text."},
    [OPT_IMAGE_SIZE] = {"image-size", 0, "H[xW]", CLI_IMAGE_SIZE_HELP},
};

static int run(const cli_command *cmd, int argc, char **argv);

const cli_command cli_cmd_bench = {
    .name = "bench",
    .summary = "Time the forward pass per batch size: latency table, images/s, GFLOP/s.",
    .synopsis = "MODEL [--batch LIST] [--warmup N] [--iters N | --seconds S]\n"
                "                  [--threads N] [--precision P] [--device D] [--seed S] [--json]\n"
                "                  [--image-size H[xW]]",
    .description =
        "Runs vitc_forward on seeded random pixel_values (uniform in [-1, 1)) for each\n"
        "batch size: first the warm-up runs (not timed), then the timed runs; without\n"
        "--iters or --seconds, at least 10 runs and at least 2 seconds. One run is one\n"
        "vitc_forward of the whole batch, timed with CLOCK_MONOTONIC, in ms; on a CUDA\n"
        "device, where vitc_forward returns once the work is queued, with device events\n"
        "around the forward on the GPU (vitc_ctx_device_time). There a batch size's\n"
        "first run goes op by op and its second records the forward as a CUDA graph,\n"
        "which later runs replay: keep --warmup at 2 or more (the default) to time\n"
        "replays only.\n"
        "Per batch size: mean, median, min, max; p99 = np.percentile(t, 99) (linear\n"
        "interpolation between ranks); std = np.std(t) (population, ddof=0);\n"
        "images/s = batch / median; speed-up = images/s / images/s at batch 1.\n"
        "FLOP per image, 2 per multiply-add, from config.json (L layers, D hidden,\n"
        "I intermediate, T tokens, P = (height/patch_size)*(width/patch_size) patches,\n"
        "C channels,\n"
        "p patch_size; the pooler and classifier terms when the model has them):\n"
        "  2 * (P*C*p^2*D + L*(4*T*D^2 + 2*T*D*I + 2*T^2*D) + D^2 + D*num_labels)\n"
        "  (QKV, output, MLP up and down linears; attention QK^T and PV; patch\n"
        "  embedding; pooler; classifier): 35.1 GFLOP for ViT-B/16 at 224.\n"
        "GFLOP/s = FLOP per image * batch / median; % peak compares it with an fp32 FMA\n"
        "loop (register-only, the widest vector ISA of the CPU) measured on as many\n"
        "threads just before the runs. Peak RSS is getrusage's ru_maxrss and RSS now\n"
        "is /proc/self/statm after the runs; both include the benchmark's inputs. On\n"
        "CUDA, peak device memory is the most this process held on the GPU since the\n"
        "ctx was made (weights, activations, staging, workspace, graphs), and there is\n"
        "no CPU peak or % peak.\n"
        "The header names the vitc version, backend, threads, precision, the CPU\n"
        "(cpuid brand and flags) and VITC_CPU when it forces a kernel table.\n"
        "Exit status: 0 ok, 1 failure (including a precision or device this build\n"
        "does not support), 2 usage error.",
    .options = options,
    .n_options = (int)(sizeof options / sizeof options[0]),
    .run = run,
};

/* What was asked for, after parsing. */
struct bench_opts {
    long batch[MAX_BATCHES];
    int n_batch;
    long warmup;
    long iters;     /* > 0: exactly this many timed runs                 */
    double seconds; /* > 0: timed runs until this long (with iters == 0) */
    long threads;
    cli_target target; /* --device and --precision                      */
    uint64_t seed;
    bool json;
    int image_h, image_w; /* --image-size; 0 x 0: the model's own */
};

/* One batch size's measurements. */
struct bench_result {
    long batch;
    double *times_ms; /* (n_times) */
    size_t n_times;
    cli_stats st;
};

/* ---- parsing ---- */

static int parse_batches(const cli_command *cmd, const char *text, struct bench_opts *o)
{
    char item[32];
    o->n_batch = 0;
    for (const char *p = text;; p++) {
        size_t len = strcspn(p, ",");
        if (len == 0 || len >= sizeof item) {
            return cli_usage_error(cmd, "option '--batch': '%s' is not a list like 1,4,8", text);
        }
        if (o->n_batch == MAX_BATCHES) {
            return cli_usage_error(cmd, "option '--batch': at most %d batch sizes", MAX_BATCHES);
        }
        memcpy(item, p, len);
        item[len] = '\0';
        int rc = cli_parse_long(cmd, "batch", item, 1, 4096, &o->batch[o->n_batch]);
        if (rc != 0) {
            return rc;
        }
        o->n_batch++;
        p += len;
        if (*p == '\0') {
            return 0;
        }
    }
}

/* A positive decimal number of seconds, at most a day. */
static int parse_seconds(const cli_command *cmd, const char *text, double *out)
{
    char *end = NULL;
    errno = 0;
    double v = strtod(text, &end);
    if (!*text || *end || errno != 0 || !isfinite(v) ||
        strspn(text, "0123456789.") != strlen(text)) {
        return cli_usage_error(cmd, "option '--seconds': '%s' is not a number of seconds", text);
    }
    if (v <= 0.0 || v > 86400.0) {
        return cli_usage_error(
            cmd, "option '--seconds': %s is out of range (above 0, at most 86400)", text);
    }
    *out = v;
    return 0;
}

static int parse_opts(const cli_command *cmd, const cli_args *a, struct bench_opts *o)
{
    int rc = 0;
    memset(o, 0, sizeof *o);
    o->batch[0] = 1, o->batch[1] = 4, o->batch[2] = 8, o->n_batch = 3;
    o->warmup = 2;
    o->json = a->value[OPT_JSON] != NULL;
    if (a->value[OPT_ITERS] && a->value[OPT_SECONDS]) {
        return cli_usage_error(cmd, "options '--iters' and '--seconds' exclude each other");
    }
    if ((a->value[OPT_BATCH] && (rc = parse_batches(cmd, a->value[OPT_BATCH], o))) ||
        (a->value[OPT_WARMUP] &&
         (rc = cli_parse_long(cmd, "warmup", a->value[OPT_WARMUP], 0, 1000000, &o->warmup))) ||
        (a->value[OPT_ITERS] &&
         (rc = cli_parse_long(cmd, "iters", a->value[OPT_ITERS], 1, MAX_RUNS, &o->iters))) ||
        (a->value[OPT_SECONDS] && (rc = parse_seconds(cmd, a->value[OPT_SECONDS], &o->seconds))) ||
        (a->value[OPT_THREADS] &&
         (rc = cli_parse_long(cmd, "threads", a->value[OPT_THREADS], 0, 4096, &o->threads))) ||
        (a->value[OPT_SEED] && (rc = cli_parse_u64(cmd, "seed", a->value[OPT_SEED], &o->seed))) ||
        (a->value[OPT_IMAGE_SIZE] &&
         (rc = cli_parse_image_size(cmd, a->value[OPT_IMAGE_SIZE], &o->image_h, &o->image_w)))) {
        return rc;
    }
    return cli_target_parse(cmd, a->value[OPT_DEVICE], a->value[OPT_PRECISION], &o->target);
}

/* ---- measuring ---- */

static double now_ms(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec * 1e3 + (double)t.tv_nsec * 1e-6;
}

/* Threads the library will use: the same rule as vitc_ctx_new (the option, else
 * VITC_NUM_THREADS, else the cores this process may run on), for the header and the peak. */
static int resolve_threads(long requested)
{
    if (requested > 0) {
        return (int)requested;
    }
    const char *env = getenv("VITC_NUM_THREADS");
    char *end = NULL;
    long v = env && *env ? strtol(env, &end, 10) : 0;
    if (end && *end == '\0' && v > 0 && v <= 4096) {
        return (int)v;
    }
    cpu_set_t set;
    if (sched_getaffinity(0, sizeof set, &set) == 0 && CPU_COUNT(&set) > 0) {
        return CPU_COUNT(&set);
    }
    long n = sysconf(_SC_NPROCESSORS_ONLN);
    return n > 0 ? (int)n : 1;
}

/* One forward of n images and its time in *ms: on the CPU, where vitc_forward computes before
 * it returns, the wall time around it; on CUDA, where it returns once the work is queued, the
 * GPU time between the device events around the forward (vitc_ctx_device_time, which waits). */
static vitc_status timed_forward(vitc_ctx *ctx, const float *pv, size_t n, bool cuda, double *ms)
{
    double t0 = now_ms();
    vitc_status s = vitc_forward(ctx, pv, n);
    if (s == VITC_OK && cuda) {
        return vitc_ctx_device_time(ctx, ms);
    }
    *ms = now_ms() - t0;
    return s;
}

/* Warm-up, then the timed runs of one batch size into r (times allocated here). */
static int time_batch(const cli_command *cmd, vitc_ctx *ctx, const float *pv, bool cuda,
                      const struct bench_opts *o, struct bench_result *r)
{
    double ms = 0.0;
    size_t cap = o->iters > 0 ? (size_t)o->iters : 64;
    r->times_ms = malloc(cap * sizeof *r->times_ms);
    if (!r->times_ms) {
        cli_error(cmd, "out of memory");
        return CLI_EXIT_FAIL;
    }
    for (long i = 0; i < o->warmup; i++) {
        if (timed_forward(ctx, pv, (size_t)r->batch, cuda, &ms) != VITC_OK) {
            return cli_fail(cmd);
        }
    }
    double start = now_ms();
    for (;;) {
        if (timed_forward(ctx, pv, (size_t)r->batch, cuda, &ms) != VITC_OK) {
            return cli_fail(cmd);
        }
        double t1 = now_ms();
        if (r->n_times == cap) {
            double *grown = realloc(r->times_ms, 2 * cap * sizeof *grown);
            if (!grown) {
                cli_error(cmd, "out of memory");
                return CLI_EXIT_FAIL;
            }
            r->times_ms = grown;
            cap *= 2;
        }
        r->times_ms[r->n_times++] = ms;
        double elapsed_s = (t1 - start) / 1e3;
        size_t n = r->n_times;
        bool done = o->iters > 0     ? n >= (size_t)o->iters
                    : o->seconds > 0 ? n >= SECONDS_MIN_RUNS && elapsed_s >= o->seconds
                                     : n >= DEFAULT_MIN_RUNS && elapsed_s >= DEFAULT_MIN_SECONDS;
        if (done || n >= MAX_RUNS) {
            break;
        }
    }
    if (cli_stats_compute(r->times_ms, r->n_times, &r->st) != 0) {
        cli_error(cmd, "out of memory");
        return CLI_EXIT_FAIL;
    }
    return 0;
}

/* FLOP per image, 2 per multiply-add (the formula of the help text). */
static double flops_per_image(const vitc_model_info *m)
{
    double D = m->hidden_size, I = m->intermediate_size, L = m->num_hidden_layers;
    double T = m->n_tokens, p = m->patch_size, C = m->num_channels;
    double patches = m->patch_size > 0 ? (double)(m->image_height / m->patch_size) *
                                             (double)(m->image_width / m->patch_size)
                                       : 0.0;
    double mac = patches * C * p * p * D + L * (4 * T * D * D + 2 * T * D * I + 2 * T * T * D);
    if (m->has_pooler) {
        mac += D * D;
    }
    mac += D * m->num_labels;
    return 2.0 * mac;
}

/* Resident memory in bytes: the peak (ru_maxrss, KiB on Linux) and the current
 * (/proc/self/statm, pages); 0 when unknown. */
static void memory_usage(uint64_t *peak, uint64_t *now)
{
    struct rusage ru;
    *peak = getrusage(RUSAGE_SELF, &ru) == 0 ? (uint64_t)ru.ru_maxrss * 1024u : 0;
    *now = 0;
    FILE *f = fopen("/proc/self/statm", "r");
    unsigned long size = 0, resident = 0;
    if (f && fscanf(f, "%lu %lu", &size, &resident) == 2) {
        long page = sysconf(_SC_PAGESIZE);
        *now = (uint64_t)resident * (uint64_t)(page > 0 ? page : 4096);
    }
    if (f) {
        fclose(f);
    }
}

/* ---- output ---- */

/* What the report needs besides the per-batch results. */
struct bench_report {
    const char *model_dir;
    const vitc_model_info *info;
    const struct bench_opts *o;
    const char *backend;
    int threads;
    uint64_t device_bytes; /* peak device memory of a CUDA ctx, else 0 */
    cli_cpu cpu;
    double peak_gflops; /* 0 when not measured */
    double load_ms;
    double flops; /* per image */
    uint64_t peak_rss, rss;
    const struct bench_result *res;
    int n_res;
};

static double images_per_s(const struct bench_result *r)
{
    return r->st.median > 0 ? (double)r->batch * 1e3 / r->st.median : 0.0;
}

/* Images/s of batch 1, or 0 when batch 1 was not run. */
static double batch1_rate(const struct bench_report *b)
{
    for (int i = 0; i < b->n_res; i++) {
        if (b->res[i].batch == 1) {
            return images_per_s(&b->res[i]);
        }
    }
    return 0.0;
}

static void print_text(const struct bench_report *b)
{
    const vitc_model_info *m = b->info;
    char flags[128];
    const char *forced = getenv("VITC_CPU");
    printf("vitc %s  backend %s  threads %d  precision %s  cpu %s (%s)", vitc_version(), b->backend,
           b->threads, cli_precision_name(b->o->target.precision), b->cpu.brand,
           cli_cpu_flags(&b->cpu, flags, sizeof flags));
    if (forced && *forced) {
        printf("  VITC_CPU=%s", forced);
    }
    putchar('\n');
    printf("model %s: %s, %d layers, hidden %d, %dx%d px, %d tokens, %.4g GFLOP per image\n",
           b->model_dir, m->architecture, m->num_hidden_layers, m->hidden_size, m->image_height,
           m->image_width, m->n_tokens, b->flops / 1e9);
    printf("load %.1f ms  peak RSS %.1f MB  RSS now %.1f MB", b->load_ms, b->peak_rss / 1e6,
           b->rss / 1e6);
    if (b->device_bytes > 0) {
        printf("  peak device memory %.1f MB", b->device_bytes / 1e6);
    }
    if (b->peak_gflops > 0) {
        printf("  fp32 FMA peak %.1f GFLOP/s (%s, %d threads)", b->peak_gflops,
               cli_peak_isa(&b->cpu), b->threads);
    }
    printf("\nms per forward of the whole batch, after %ld untimed warm-up run%s\n\n", b->o->warmup,
           b->o->warmup == 1 ? "" : "s");
    printf("%5s %6s %9s %9s %9s %9s %9s %8s %9s %8s %8s %6s\n", "batch", "runs", "mean", "median",
           "min", "max", "p99", "std", "images/s", "speed-up", "GFLOP/s", "%peak");
    double rate1 = batch1_rate(b);
    for (int i = 0; i < b->n_res; i++) {
        const struct bench_result *r = &b->res[i];
        double rate = images_per_s(r), gflops = rate * b->flops / 1e9;
        printf("%5ld %6zu %9.3f %9.3f %9.3f %9.3f %9.3f %8.3f %9.2f", r->batch, r->st.n, r->st.mean,
               r->st.median, r->st.min, r->st.max, r->st.p99, r->st.std, rate);
        if (rate1 > 0) {
            printf(" %7.2fx", rate / rate1);
        } else {
            printf(" %8s", "-");
        }
        printf(" %8.1f", gflops);
        if (b->peak_gflops > 0) {
            printf(" %5.1f%%\n", 100.0 * gflops / b->peak_gflops);
        } else {
            printf(" %6s\n", "-");
        }
    }
}

/* A number, or null when it is not known (JSON has no NaN). */
static json_t *real_or_null(double v, bool known)
{
    return known ? json_real(v) : json_null();
}

static json_t *result_json(const struct bench_report *b, const struct bench_result *r, int *ok)
{
    double rate = images_per_s(r), rate1 = batch1_rate(b), gflops = rate * b->flops / 1e9;
    json_t *times = json_array();
    for (size_t i = 0; times && i < r->n_times; i++) {
        if (json_array_append_new(times, json_real(r->times_ms[i])) != 0) {
            *ok = 0;
        }
    }
    json_t *o = json_object();
    cli_json_put(o, "batch", json_integer(r->batch), ok);
    cli_json_put(o, "runs", json_integer((json_int_t)r->st.n), ok);
    cli_json_put(o, "mean_ms", json_real(r->st.mean), ok);
    cli_json_put(o, "median_ms", json_real(r->st.median), ok);
    cli_json_put(o, "min_ms", json_real(r->st.min), ok);
    cli_json_put(o, "max_ms", json_real(r->st.max), ok);
    cli_json_put(o, "p99_ms", json_real(r->st.p99), ok);
    cli_json_put(o, "std_ms", json_real(r->st.std), ok);
    cli_json_put(o, "images_per_s", json_real(rate), ok);
    cli_json_put(o, "speedup_vs_batch1", real_or_null(rate / rate1, rate1 > 0), ok);
    cli_json_put(o, "gflops", json_real(gflops), ok);
    cli_json_put(o, "peak_fraction", real_or_null(gflops / b->peak_gflops, b->peak_gflops > 0), ok);
    cli_json_put(o, "times_ms", times, ok);
    return o;
}

static json_t *to_json(const struct bench_report *b)
{
    int ok = 1;
    char flags[128];
    const vitc_model_info *m = b->info;
    json_t *results = json_array();
    for (int i = 0; results && i < b->n_res; i++) {
        if (json_array_append_new(results, result_json(b, &b->res[i], &ok)) != 0) {
            ok = 0;
        }
    }
    json_t *o = json_object();
    cli_json_put(o, "vitc_version", json_string(vitc_version()), &ok);
    cli_json_put(o, "model", json_string(b->model_dir), &ok);
    cli_json_put(o, "architecture", json_string(m->architecture), &ok);
    cli_json_put(o, "image_height", json_integer(m->image_height), &ok);
    cli_json_put(o, "image_width", json_integer(m->image_width), &ok);
    cli_json_put(o, "backend", json_string(b->backend), &ok);
    cli_json_put(o, "threads", json_integer(b->threads), &ok);
    cli_json_put(o, "precision", json_string(cli_precision_name(b->o->target.precision)), &ok);
    cli_json_put(o, "cpu", json_string(b->cpu.brand), &ok);
    cli_json_put(o, "cpu_flags", json_string(cli_cpu_flags(&b->cpu, flags, sizeof flags)), &ok);
    cli_json_put(o, "peak_isa", json_string(cli_peak_isa(&b->cpu)), &ok);
    /* The library's kernel table is not public; an explicit choice in the environment is. */
    const char *forced = getenv("VITC_CPU");
    cli_json_put(o, "vitc_cpu_env", forced && *forced ? json_string(forced) : json_null(), &ok);
    cli_json_put(o, "fma_peak_gflops", real_or_null(b->peak_gflops, b->peak_gflops > 0), &ok);
    cli_json_put(o, "flops_per_image", json_real(b->flops), &ok);
    cli_json_put(o, "load_ms", json_real(b->load_ms), &ok);
    cli_json_put(o, "peak_rss_bytes", json_integer((json_int_t)b->peak_rss), &ok);
    cli_json_put(o, "rss_bytes", json_integer((json_int_t)b->rss), &ok);
    cli_json_put(o, "peak_device_bytes",
                 b->device_bytes > 0 ? json_integer((json_int_t)b->device_bytes) : json_null(),
                 &ok);
    cli_json_put(o, "seed", json_integer((json_int_t)b->o->seed), &ok);
    cli_json_put(o, "warmup", json_integer(b->o->warmup), &ok);
    cli_json_put(o, "results", results, &ok);
    if (!ok) {
        json_decref(o);
        return NULL;
    }
    return o;
}

/* ---- the command ---- */

static int run(const cli_command *cmd, int argc, char **argv)
{
    cli_args a;
    int rc = cli_args_parse(cmd, argc, argv, &a);
    if (rc >= 0) {
        return rc;
    }
    struct bench_opts o;
    struct bench_result res[MAX_BATCHES] = {0};
    struct bench_report b = {.o = &o, .res = res};
    vitc_model *model = NULL;
    vitc_ctx *ctx = NULL;
    float *pv = NULL;
    char device[32];
    json_t *json = NULL;

    if (a.n_pos != 1) {
        rc = a.n_pos == 0 ? cli_usage_error(cmd, "missing MODEL")
                          : cli_usage_error(cmd, "expected one MODEL, got %d arguments", a.n_pos);
        goto done;
    }
    if ((rc = parse_opts(cmd, &a, &o)) != 0) {
        goto done;
    }
    b.model_dir = a.pos[0];
    vitc_model_params mp = vitc_model_default_params();
    mp.precision = o.target.precision;
    mp.image_height = o.image_h;
    mp.image_width = o.image_w;
    double t0 = now_ms();
    if (cli_model_load(b.model_dir, &mp, &model) != VITC_OK) {
        rc = cli_fail(cmd);
        goto done;
    }
    b.load_ms = now_ms() - t0;
    b.info = vitc_model_get_info(model);
    long max_batch = 0;
    for (int i = 0; i < o.n_batch; i++) {
        max_batch = o.batch[i] > max_batch ? o.batch[i] : max_batch;
    }
    vitc_ctx_params cp = vitc_ctx_default_params();
    cp.backend = o.target.backend;
    cp.device = o.target.device;
    cp.n_threads = (int)o.threads;
    cp.max_batch = (int)max_batch;
    if (vitc_ctx_new(model, &cp, &ctx) != VITC_OK) {
        rc = cli_fail(cmd);
        goto done;
    }
    size_t n_pv = vitc_output_size(model, VITC_OUTPUT_PIXEL_VALUES);
    pv = n_pv <= SIZE_MAX / sizeof *pv / (size_t)max_batch
             ? malloc((size_t)max_batch * n_pv * sizeof *pv)
             : NULL;
    if (!pv) {
        cli_error(cmd, "out of memory for %ld images of pixel_values", max_batch);
        rc = CLI_EXIT_FAIL;
        goto done;
    }
    uint64_t state = o.seed;
    cli_fill_uniform(pv, (size_t)max_batch * n_pv, &state);
    const bool cuda = o.target.backend == VITC_BACKEND_CUDA;
    b.backend = cli_device_name(&o.target, device, sizeof device);
    b.threads = resolve_threads(o.threads);
    b.flops = flops_per_image(b.info);
    cli_cpu_detect(&b.cpu);
    /* The CPU's peak says nothing about a GPU run; otherwise measure it before the runs,
     * on as many threads as the library uses. */
    if (!cuda && cli_peak_fma(&b.cpu, b.threads, PEAK_SECONDS, PEAK_REPS, &b.peak_gflops) != 0) {
        b.peak_gflops = 0.0;
    }
    for (int i = 0; i < o.n_batch; i++) {
        res[i].batch = o.batch[i];
        b.n_res = i + 1;
        if ((rc = time_batch(cmd, ctx, pv, cuda, &o, &res[i])) != 0) {
            goto done;
        }
    }
    memory_usage(&b.peak_rss, &b.rss);
    b.device_bytes = vitc_ctx_device_memory(ctx);
    if (!o.json) {
        print_text(&b);
        rc = CLI_EXIT_OK;
        goto done;
    }
    json = to_json(&b);
    if (!json || json_dumpf(json, stdout, JSON_INDENT(2) | JSON_REAL_PRECISION(10)) != 0) {
        cli_error(cmd, "cannot encode the results as JSON");
        rc = CLI_EXIT_FAIL;
        goto done;
    }
    putchar('\n');
    rc = CLI_EXIT_OK;

done:
    json_decref(json);
    for (int i = 0; i < MAX_BATCHES; i++) {
        free(res[i].times_ms);
    }
    free(pv);
    vitc_ctx_free(ctx);
    vitc_model_free(model);
    cli_args_free(&a);
    return rc;
}
