/* SPDX-License-Identifier: MIT
 *
 * bench_preprocess.c — vitc's side of the preprocessing comparison in
 * bench/run_collections.sh: for every JPEG/PNG file of a directory, on one
 * thread, the time of vitc_image_load (decode, EXIF, RGB) and of
 * vitc_preprocess (resize, rescale, normalize) apart: each the best of REPS
 * passes over the set (decode_s, preprocess_s), and the sum over the
 * images of each one's best time (decode_min_s, preprocess_min_s; the
 * steadier figure on a shared machine). Prints one JSON line. Public API
 * only.
 */
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <vitc.h>

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

static int is_image(const char *name)
{
    const char *dot = strrchr(name, '.');
    return name[0] != '.' && dot &&
           (!strcasecmp(dot, ".jpg") || !strcasecmp(dot, ".jpeg") || !strcasecmp(dot, ".png"));
}

int main(int argc, char **argv)
{
    if (argc < 3) {
        fprintf(stderr, "usage: bench_preprocess DIR PREPROCESSOR_CONFIG.json [REPS]\n");
        return 2;
    }
    int reps = argc > 3 ? atoi(argv[3]) : 3;
    vitc_preprocess_params pp = vitc_preprocess_default_params();
    if (vitc_preprocess_params_load(argv[2], &pp) != VITC_OK) {
        fprintf(stderr, "bench_preprocess: %s\n", vitc_last_error());
        return 1;
    }
    size_t n_out = 3 * (size_t)pp.height * (size_t)pp.width;
    float *out = malloc(n_out * sizeof *out);
    DIR *d = opendir(argv[1]);
    if (!d || !out) {
        fprintf(stderr, "bench_preprocess: %s: cannot read the directory\n", argv[1]);
        return 1;
    }
    double best_dec = 1e30, best_pre = 1e30;
    double *min_dec = NULL, *min_pre = NULL; /* (n): each image's best times */
    int n = 0, cap = 0;
    for (int r = 0; r < (reps > 0 ? reps : 1); r++) {
        double dec = 0, pre = 0;
        struct dirent *e;
        char path[4096];
        rewinddir(d);
        n = 0;
        while ((e = readdir(d)) != NULL) {
            if (!is_image(e->d_name)) {
                continue;
            }
            snprintf(path, sizeof path, "%s/%s", argv[1], e->d_name);
            vitc_image *img = NULL;
            double t0 = now_s();
            if (vitc_image_load(path, &img) != VITC_OK) {
                fprintf(stderr, "bench_preprocess: %s\n", vitc_last_error());
                return 1;
            }
            double t1 = now_s();
            if (vitc_preprocess(&pp, img, out, n_out) != VITC_OK) {
                fprintf(stderr, "bench_preprocess: %s\n", vitc_last_error());
                return 1;
            }
            double t2 = now_s();
            vitc_image_free(img);
            dec += t1 - t0;
            pre += t2 - t1;
            if (n == cap) {
                cap = cap ? 2 * cap : 64;
                min_dec = realloc(min_dec, (size_t)cap * sizeof *min_dec);
                min_pre = realloc(min_pre, (size_t)cap * sizeof *min_pre);
                if (!min_dec || !min_pre) {
                    fprintf(stderr, "bench_preprocess: out of memory\n");
                    return 1;
                }
            }
            if (r == 0 || t1 - t0 < min_dec[n]) {
                min_dec[n] = t1 - t0;
            }
            if (r == 0 || t2 - t1 < min_pre[n]) {
                min_pre[n] = t2 - t1;
            }
            n++;
        }
        best_dec = dec < best_dec ? dec : best_dec;
        best_pre = pre < best_pre ? pre : best_pre;
    }
    closedir(d);
    free(out);
    double sum_dec = 0, sum_pre = 0;
    for (int i = 0; i < n; i++) {
        sum_dec += min_dec[i];
        sum_pre += min_pre[i];
    }
    free(min_dec);
    free(min_pre);
    printf("{\"engine\": \"vitc\", \"images\": %d, \"decode_s\": %.6f, \"preprocess_s\": %.6f, "
           "\"decode_min_s\": %.6f, \"preprocess_min_s\": %.6f}\n",
           n, best_dec, best_pre, sum_dec, sum_pre);
    return 0;
}
