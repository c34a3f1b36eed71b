/* SPDX-License-Identifier: MIT
 *
 * decode_dump.c — the C side of tests/pillow: runs vitc's decoder and
 * resize over a job list so pillow_check.py can compare them with Pillow.
 * Each line of the list is one of
 *   decode <image> <out>
 *   resize <in.rgb> <width> <height> <filter> <out>
 *   pixels <image> <preprocessor_config.json> <out>
 * and each <out> becomes "RGB <w> <h>\n" plus w*h*3 bytes ("PV <c> <h> <w>\n"
 * plus float32 pixel_values for pixels), or "ERR <status>\n<message>". Uses
 * only the public API.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "vitc.h"

static int write_image(const char *path, const vitc_image *img)
{
    FILE *f = fopen(path, "wb");
    int ok = f != NULL;
    if (ok) {
        fprintf(f, "RGB %d %d\n", img->width, img->height);
        for (int y = 0; y < img->height && ok; y++) {
            ok = fwrite(img->data + (size_t)y * img->stride, 3, (size_t)img->width, f) ==
                 (size_t)img->width;
        }
        ok = fclose(f) == 0 && ok;
    }
    return ok;
}

static int write_error(const char *path, vitc_status st)
{
    FILE *f = fopen(path, "wb");
    if (!f) {
        return 0;
    }
    fprintf(f, "ERR %s\n%s\n", vitc_status_str(st), vitc_last_error());
    return fclose(f) == 0;
}

/* The image's pixel_values under a preprocessor_config.json, as "PV 3 H W\n" + floats. */
static vitc_status pixels(const char *image, const char *config, const char *path)
{
    vitc_preprocess_params p;
    vitc_image *img = NULL;
    float *pv = NULL;
    size_t n = 0;
    vitc_status st = vitc_preprocess_params_load(config, &p);
    if (st == VITC_OK) {
        st = vitc_image_load(image, &img);
    }
    if (st == VITC_OK) {
        n = (size_t)3 * (size_t)p.height * (size_t)p.width;
        pv = malloc(n * sizeof *pv);
        st = pv ? vitc_preprocess(&p, img, pv, n) : VITC_ERR_NOMEM;
    }
    vitc_image_free(img);
    if (st == VITC_OK) {
        FILE *f = fopen(path, "wb");
        int ok = f && fprintf(f, "PV 3 %d %d\n", p.height, p.width) > 0 &&
                 fwrite(pv, sizeof *pv, n, f) == n;
        ok = f && fclose(f) == 0 && ok;
        st = ok ? VITC_OK : VITC_ERR_IO;
    }
    free(pv);
    return st;
}

/* Reads an "RGB <w> <h>\n" file as written above. */
static vitc_status read_rgb(const char *path, vitc_image **out)
{
    FILE *f = fopen(path, "rb");
    vitc_image *img = NULL;
    int w, h;
    vitc_status st = VITC_ERR_IO;
    if (f && fscanf(f, "RGB %d %d", &w, &h) == 2 && fgetc(f) == '\n' &&
        vitc_image_new(w, h, &img) == VITC_OK) {
        st = fread(img->data, 3, (size_t)w * h, f) == (size_t)w * h ? VITC_OK : VITC_ERR_IO;
    }
    if (f) {
        fclose(f);
    }
    if (st == VITC_OK) {
        *out = img;
    } else {
        vitc_image_free(img);
    }
    return st;
}

int main(int argc, char **argv)
{
    char line[4096], a[1024], b[1024], c[1024];
    int w, h, filter, failures = 0;
    FILE *jobs;
    if (argc != 2 || !(jobs = fopen(argv[1], "r"))) {
        fprintf(stderr, "usage: decode_dump JOBS\n");
        return 2;
    }
    while (fgets(line, sizeof line, jobs)) {
        vitc_image *img = NULL, *out = NULL;
        vitc_status st;
        const char *dst;
        if (sscanf(line, "decode %1023s %1023s", a, b) == 2) {
            st = vitc_image_load(a, &img);
            dst = b;
        } else if (sscanf(line, "resize %1023s %d %d %d %1023s", a, &w, &h, &filter, c) == 5) {
            st = read_rgb(a, &out);
            if (st == VITC_OK) {
                st = vitc_image_resize(out, w, h, filter, &img);
                vitc_image_free(out);
            }
            dst = c;
        } else if (sscanf(line, "pixels %1023s %1023s %1023s", a, b, c) == 3) {
            st = pixels(a, b, c);
            if (st != VITC_OK && !write_error(c, st)) {
                fprintf(stderr, "cannot write %s\n", c);
                failures++;
            }
            continue;
        } else {
            fprintf(stderr, "bad job line: %s", line);
            failures++;
            continue;
        }
        if (!(st == VITC_OK ? write_image(dst, img) : write_error(dst, st))) {
            fprintf(stderr, "cannot write %s\n", dst);
            failures++;
        }
        vitc_image_free(img);
    }
    fclose(jobs);
    return failures ? 1 : 0;
}
