/* SPDX-License-Identifier: MIT
 *
 * test_presets.c — built-in presets: the preset list, the published config
 * texts and ImageNet-1k labels, vitc_preset_write on the small tiny-test
 * preset (determinism, file layout, loading, refusal to overwrite, failures)
 * and the streaming safetensors writer underneath.
 */
#include <dirent.h>
#include <ftw.h>
#include <jansson.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "base/err.h"
#include "io/safetensors_write.h"
#include "presets/imagenet_labels.h"
#include "presets/presets_data.h"
#include "test.h"
#include "vitc.h"

#define SHARED_BASE "../shared/fixtures/models/base-2layer"

/* ---- helpers ---- */

static char *tmp_root;

static char *path_of(const char *dir, const char *name)
{
    static char buf[4][1024];
    static int slot;
    char *p = buf[slot++ & 3];
    snprintf(p, sizeof buf[0], "%s/%s", dir, name);
    return p;
}

/* A fresh empty directory under the test's temporary root. */
static const char *fresh_dir(const char *name)
{
    static char buf[8][1024];
    static int slot;
    char *p = buf[slot++ & 7];
    snprintf(p, sizeof buf[0], "%s/%s", tmp_root, name);
    return p;
}

static int rm_one(const char *p, const struct stat *sb, int flag, struct FTW *ftw)
{
    (void)sb;
    (void)flag;
    (void)ftw;
    chmod(p, 0700);
    return remove(p);
}

static void rm_tree(const char *p)
{
    nftw(p, rm_one, 16, FTW_DEPTH | FTW_PHYS);
}

static unsigned char *slurp(const char *path, size_t *len)
{
    FILE *f = fopen(path, "rb");
    if (!f) {
        return NULL;
    }
    fseek(f, 0, SEEK_END);
    long n = ftell(f);
    fseek(f, 0, SEEK_SET);
    unsigned char *p = malloc((size_t)n + 1);
    if (p && fread(p, 1, (size_t)n, f) != (size_t)n) {
        free(p);
        p = NULL;
    }
    fclose(f);
    if (p) {
        p[n] = 0;
        *len = (size_t)n;
    }
    return p;
}

static int same_file(const char *a, const char *b)
{
    size_t na = 0, nb = 0;
    unsigned char *pa = slurp(a, &na), *pb = slurp(b, &nb);
    int same = pa && pb && na == nb && memcmp(pa, pb, na) == 0;
    free(pa);
    free(pb);
    return same;
}

static int exists(const char *p)
{
    struct stat sb;
    return lstat(p, &sb) == 0;
}

/* Number of directory entries other than . and .. (-1 if unreadable). */
static int count_entries(const char *dir)
{
    DIR *d = opendir(dir);
    struct dirent *e;
    int n = 0;
    if (!d) {
        return -1;
    }
    while ((e = readdir(d)) != NULL) {
        n += strcmp(e->d_name, ".") != 0 && strcmp(e->d_name, "..") != 0;
    }
    closedir(d);
    return n;
}

/* Reads a safetensors header (checked: length a multiple of 8, padding is
 * spaces) as JSON; *data_len is the file size after the header. */
static json_t *read_header(const char *path, size_t *data_len)
{
    size_t len = 0;
    unsigned char *p = slurp(path, &len);
    json_t *root = NULL;
    if (p && len >= 8) {
        uint64_t n = 0;
        for (int i = 7; i >= 0; i--) {
            n = (n << 8) | p[i];
        }
        if (n % 8 == 0 && n <= len - 8) {
            size_t end = 8 + (size_t)n;
            while (end > 8 && p[end - 1] == ' ') {
                end--;
            }
            root = json_loadb((const char *)p + 8, end - 8, JSON_REJECT_DUPLICATES, NULL);
            *data_len = len - 8 - (size_t)n;
        }
    }
    free(p);
    return root;
}

static int shape_is(json_t *t, size_t ndim, const long long *dims)
{
    json_t *shape = json_object_get(t, "shape");
    if (json_array_size(shape) != ndim) {
        return 0;
    }
    for (size_t i = 0; i < ndim; i++) {
        if (json_integer_value(json_array_get(shape, i)) != dims[i]) {
            return 0;
        }
    }
    return 1;
}

/* ---- the preset list and labels ---- */

static void test_names(void)
{
    static const char *const want[] = {"vit-base-patch16-224-in21k",
                                       "vit-base-patch32-224-in21k",
                                       "vit-large-patch16-224-in21k",
                                       "vit-large-patch32-224-in21k",
                                       "vit-huge-patch14-224-in21k",
                                       "vit-base-patch16-224",
                                       "vit-base-patch16-384",
                                       "vit-base-patch32-384",
                                       "vit-large-patch16-224",
                                       "vit-large-patch16-384",
                                       "vit-large-patch32-384",
                                       "clip-vit-base-patch32",
                                       "siglip-base-patch16-224",
                                       "dinov2-small",
                                       "dinov2-base",
                                       "deit-base-distilled-patch16-224",
                                       "tiny-test"};
    size_t n = 0;
    while (vitc_preset_name(n)) {
        n++;
    }
    CHECKF(n == sizeof want / sizeof want[0], "%zu presets", n);
    CHECK(strcmp(vitc_preset_name(0), "vit-base-patch16-224-in21k") == 0); /* the default */
    for (size_t i = 0; i < sizeof want / sizeof want[0]; i++) {
        const struct vitc_preset *p = vitc_presets_find(want[i]);
        CHECKF(p != NULL, "%s missing", want[i]);
        if (p) {
            CHECK(p->published == (strcmp(want[i], "tiny-test") != 0));
            CHECK(p->about && *p->about);
        }
    }
    CHECK(vitc_preset_name(n) == NULL && vitc_preset_name(1000) == NULL);
    CHECK(vitc_presets_find("vit-base") == NULL && vitc_presets_find(NULL) == NULL);
}

static void test_labels(void)
{
    int dup_pairs = 0;
    CHECK(strcmp(vitc_imagenet_labels[0], "tench, Tinca tinca") == 0);
    CHECK(strcmp(vitc_imagenet_labels[1], "goldfish, Carassius auratus") == 0);
    CHECK(strcmp(vitc_imagenet_labels[999], "toilet tissue, toilet paper, bathroom tissue") == 0);
    CHECK(strcmp(vitc_imagenet_labels[134], "crane") == 0);
    CHECK(strcmp(vitc_imagenet_labels[517], "crane") == 0);
    CHECK(strcmp(vitc_imagenet_labels[638], "maillot") == 0);
    CHECK(strcmp(vitc_imagenet_labels[639], "maillot, tank suit") == 0);
    for (int i = 0; i < VITC_IMAGENET_N_LABELS; i++) {
        const char *l = vitc_imagenet_labels[i];
        CHECKF(l && *l, "label %d empty", i);
        for (const char *c = l; c && *c; c++) {
            CHECKF(*c >= 0x20 && *c < 0x7f && *c != '"' && *c != '\\', "label %d: byte 0x%02x", i,
                   (unsigned char)*c);
        }
        for (int j = i + 1; j < VITC_IMAGENET_N_LABELS; j++) {
            dup_pairs += strcmp(l, vitc_imagenet_labels[j]) == 0;
        }
    }
    CHECKF(dup_pairs == 1, "%d duplicate pairs", dup_pairs);
}

/* ---- config texts ---- */

static json_t *config_of(const char *name, size_t *len)
{
    char *text = NULL;
    json_t *root = NULL;
    if (vitc_presets_config(vitc_presets_find(name), &text, len) == VITC_OK) {
        root = json_loadb(text, *len, JSON_REJECT_DUPLICATES, NULL);
        CHECKF(root != NULL, "%s: config.json does not parse", name);
        CHECKF(*len > 0 && text[*len - 1] == '\n', "%s: no final newline", name);
        vitc_mem_free(text);
    }
    return root;
}

static void test_configs(void)
{
    for (size_t i = 0; vitc_preset_name(i); i++) {
        const char *name = vitc_preset_name(i);
        const struct vitc_preset *p = vitc_presets_find(name);
        size_t len = 0;
        json_t *root = config_of(name, &len);
        if (!root) {
            CHECKF(0, "%s: no config", name);
            continue;
        }
        const char *arch =
            json_string_value(json_array_get(json_object_get(root, "architectures"), 0));
        int image = (int)json_integer_value(json_object_get(root, "image_size"));
        int patch = (int)json_integer_value(json_object_get(root, "patch_size"));
        const char *type = json_string_value(json_object_get(root, "model_type"));
        if (type && strcmp(type, "vit") != 0) {
            /* The family presets: tests/unit/model/test_family.c checks what they load as. */
            CHECKF(arch && image > 0 && patch > 0 && image % patch == 0, "%s: %s", name, type);
            json_decref(root);
            continue;
        }
        CHECKF(arch && strcmp(arch, p->kind == VITC_PRESET_IMAGENET1K ? "ViTForImageClassification"
                                                                      : "ViTModel") == 0,
               "%s: architecture", name);
        CHECKF(image > 0 && patch > 0 && image % patch == 0, "%s: image/patch", name);
        CHECKF((strstr(name, "-384") != NULL) == (image == 384), "%s: image_size %d", name, image);
        if (p->published) {
            char want[96];
            snprintf(want, sizeof want, "google/%s", name);
            const char *np = json_string_value(json_object_get(root, "_name_or_path"));
            CHECKF(np && strcmp(np, want) == 0, "%s: _name_or_path", name);
            CHECKF(json_is_true(json_object_get(root, "qkv_bias")), "%s: qkv_bias", name);
        }
        /* Sizes of the hub files (config.json listing sizes). */
        static const struct {
            const char *name;
            size_t len;
        } sizes[] = {{"vit-base-patch16-224-in21k", 502},
                     {"vit-base-patch32-224-in21k", 502},
                     {"vit-large-patch16-224-in21k", 504},
                     {"vit-large-patch32-224-in21k", 504},
                     {"vit-huge-patch14-224-in21k", 503}};
        for (size_t k = 0; k < sizeof sizes / sizeof sizes[0]; k++) {
            if (strcmp(sizes[k].name, name) == 0) {
                CHECKF(len == sizes[k].len, "%s: %zu bytes", name, len);
            }
        }
        /* Each preprocessor text parses and matches the model's input size. */
        vitc_preprocess_params pp;
        char *ppath = path_of(tmp_root, "pp.json");
        FILE *f = fopen(ppath, "wb");
        if (f) {
            fputs(p->preprocessor_json, f);
            fclose(f);
        }
        CHECKF(vitc_preprocess_params_load(ppath, &pp) == VITC_OK, "%s: %s", name,
               vitc_last_error());
        CHECKF(pp.height == image && pp.width == image, "%s: preprocess size %dx%d", name,
               pp.height, pp.width);
        remove(ppath);
        json_decref(root);
    }
}

/* google/vit-base-patch16-224: 69665 bytes and 2024 lines as on the hub, ids in
 * numeric order, label2id sorted with 999 keys and "crane" -> 517. */
static void test_imagenet_config(void)
{
    char *text = NULL;
    size_t len = 0, lines = 0;
    CHECK(vitc_presets_config(vitc_presets_find("vit-base-patch16-224"), &text, &len) == VITC_OK);
    if (!text) {
        return;
    }
    for (size_t i = 0; i < len; i++) {
        lines += text[i] == '\n';
    }
    CHECKF(len == 69665, "%zu bytes", len);
    CHECKF(lines == 2024, "%zu lines", lines);
    CHECK(strncmp(text, "{\n  \"_name_or_path\": \"google/vit-base-patch16-224\",\n", 52) == 0);
    CHECK(strstr(text, "\n    \"0\": \"tench, Tinca tinca\",\n    \"1\": \"goldfish, Carassius "
                       "auratus\",\n") != NULL);
    CHECK(strstr(text, "\n    \"999\": \"toilet tissue, toilet paper, bathroom tissue\"\n  },\n"
                       "  \"image_size\": 224,\n") != NULL);
    CHECK(strstr(text, "  \"label2id\": {\n    \"Afghan hound, Afghan\": 160,\n") != NULL);
    CHECK(strstr(text, "    \"zucchini, courgette\": 939\n  },\n  \"layer_norm_eps\": 1e-12,\n") !=
          NULL);
    CHECK(strstr(text, "  \"transformers_version\": \"4.13.0.dev0\"\n}\n") == text + len - 42);

    json_t *root = json_loadb(text, len, JSON_REJECT_DUPLICATES, NULL);
    json_t *id2label = json_object_get(root, "id2label");
    json_t *label2id = json_object_get(root, "label2id");
    CHECK(json_object_size(id2label) == 1000);
    CHECK(json_object_size(label2id) == 999);
    CHECK(json_integer_value(json_object_get(label2id, "crane")) == 517);
    CHECK(json_integer_value(json_object_get(label2id, "maillot")) == 638);
    const char *key, *prev = "";
    json_t *v;
    int sorted = 1, consistent = 1;
    json_object_foreach (label2id, key, v) {
        sorted &= strcmp(prev, key) < 0;
        prev = key;
        consistent &= strcmp(vitc_imagenet_labels[json_integer_value(v)], key) == 0;
    }
    CHECK(sorted && consistent);
    json_decref(root);
    vitc_mem_free(text);
}

/* The shared fixture's base-2layer config is the in21k file with
 * num_hidden_layers changed; it also lacks the hub's "_name_or_path" line
 * (added by the hub commit that introduced "qkv_bias"), so that key is
 * compared separately. The preprocessor file must match byte for byte. */
static void test_base_config_vs_fixture(void)
{
    size_t len = 0;
    json_t *ours = config_of("vit-base-patch16-224-in21k", &len);
    json_t *fix = json_load_file(SHARED_BASE "/config.json", 0, NULL);
    CHECK(ours && fix);
    if (ours && fix) {
        CHECK(json_integer_value(json_object_get(ours, "num_hidden_layers")) == 12);
        CHECK(json_object_del(ours, "num_hidden_layers") == 0);
        CHECK(json_object_del(fix, "num_hidden_layers") == 0);
        CHECK(json_object_del(ours, "_name_or_path") == 0);
        json_object_del(fix, "_name_or_path");
        CHECK(json_equal(ours, fix));
    }
    json_decref(ours);
    json_decref(fix);

    const struct vitc_preset *p = vitc_presets_find("vit-base-patch16-224-in21k");
    size_t n = 0;
    unsigned char *want = slurp(SHARED_BASE "/preprocessor_config.json", &n);
    CHECK(want && n == strlen(p->preprocessor_json) && memcmp(want, p->preprocessor_json, n) == 0);
    free(want);
}

/* tests/data keeps the in21k preprocessor_config.json verbatim. */
static void test_preprocessor_vs_data(void)
{
    const struct vitc_preset *p = vitc_presets_find("vit-base-patch16-224-in21k");
    size_t n = 0;
    unsigned char *want = slurp("tests/data/preprocess/preprocessor_config.json", &n);
    CHECK(want && n == strlen(p->preprocessor_json) && memcmp(want, p->preprocessor_json, n) == 0);
    free(want);
}

/* ---- writing tiny-test ---- */

static void test_write_deterministic(void)
{
    const char *a = fresh_dir("det-a"), *b = fresh_dir("det-b/nested/dir"), *c = fresh_dir("det-c");
    CHECKF(vitc_preset_write(a, "tiny-test", 7) == VITC_OK, "%s", vitc_last_error());
    CHECKF(vitc_preset_write(b, "tiny-test", 7) == VITC_OK, "%s", vitc_last_error());
    CHECKF(vitc_preset_write(c, "tiny-test", 8) == VITC_OK, "%s", vitc_last_error());
    CHECK(same_file(path_of(a, "model.safetensors"), path_of(b, "model.safetensors")));
    CHECK(same_file(path_of(a, "config.json"), path_of(b, "config.json")));
    CHECK(
        same_file(path_of(a, "preprocessor_config.json"), path_of(c, "preprocessor_config.json")));
    CHECK(!same_file(path_of(a, "model.safetensors"), path_of(c, "model.safetensors")));
    CHECK(count_entries(a) == 3 && count_entries(b) == 3);
}

static void test_write_layout(void)
{
    const char *d = fresh_dir("layout");
    size_t data_len = 0;
    CHECKF(vitc_preset_write(d, "tiny-test", 12345) == VITC_OK, "%s", vitc_last_error());
    json_t *h = read_header(path_of(d, "model.safetensors"), &data_len);
    CHECK(h != NULL);
    if (!h) {
        return;
    }
    void *iter = json_object_iter(h);
    CHECK(iter && strcmp(json_object_iter_key(iter), "__metadata__") == 0);
    json_t *meta = json_object_get(h, "__metadata__");
    CHECK(json_object_size(meta) == 4);
    CHECK(strcmp(json_string_value(json_object_get(meta, "format")), "pt") == 0);
    CHECK(strcmp(json_string_value(json_object_get(meta, "vitc_random_weights")), "true") == 0);
    CHECK(strcmp(json_string_value(json_object_get(meta, "vitc_seed")), "12345") == 0);
    CHECK(strcmp(json_string_value(json_object_get(meta, "vitc_preset")), "tiny-test") == 0);

    /* 4 embedding tensors + 16 per layer x 2 + final LayerNorm 2 + pooler 2. */
    CHECKF(json_object_size(h) == 1 + 40, "%zu entries", json_object_size(h));
    const char *prev = "";
    long long offset = 0;
    for (iter = json_object_iter_next(h, iter); iter; iter = json_object_iter_next(h, iter)) {
        const char *key = json_object_iter_key(iter);
        json_t *t = json_object_iter_value(iter);
        json_t *offs = json_object_get(t, "data_offsets");
        long long b = json_integer_value(json_array_get(offs, 0));
        long long e = json_integer_value(json_array_get(offs, 1));
        long long n = 4;
        json_t *dim;
        size_t k;
        json_array_foreach (json_object_get(t, "shape"), k, dim) {
            n *= json_integer_value(dim);
        }
        CHECKF(strcmp(prev, key) < 0, "%s not sorted", key);
        CHECK(strcmp(json_string_value(json_object_get(t, "dtype")), "F32") == 0);
        CHECKF(b == offset && e - b == n, "%s: offsets", key);
        prev = key;
        offset = e;
    }
    CHECK((size_t)offset == data_len);
    CHECK(shape_is(json_object_get(h, "embeddings.cls_token"), 3, (long long[]){1, 1, 64}));
    CHECK(shape_is(json_object_get(h, "embeddings.position_embeddings"), 3,
                   (long long[]){1, 17, 64}));
    CHECK(shape_is(json_object_get(h, "embeddings.patch_embeddings.projection.weight"), 4,
                   (long long[]){64, 3, 8, 8}));
    CHECK(shape_is(json_object_get(h, "encoder.layer.1.intermediate.dense.weight"), 2,
                   (long long[]){128, 64}));
    CHECK(shape_is(json_object_get(h, "encoder.layer.1.output.dense.weight"), 2,
                   (long long[]){64, 128}));
    CHECK(shape_is(json_object_get(h, "pooler.dense.weight"), 2, (long long[]){64, 64}));
    CHECK(json_object_get(h, "encoder.layer.0.attention.attention.query.bias") != NULL);
    json_decref(h);
}

static void test_write_loads(void)
{
    const char *d = fresh_dir("loads");
    vitc_model *m = NULL;
    CHECKF(vitc_preset_write(d, "tiny-test", 1) == VITC_OK, "%s", vitc_last_error());
    CHECKF(vitc_model_load(d, NULL, &m) == VITC_OK, "%s", vitc_last_error());
    if (m) {
        const vitc_model_info *info = vitc_model_get_info(m);
        CHECK(strcmp(info->architecture, "ViTModel") == 0);
        CHECK(info->hidden_size == 64 && info->num_hidden_layers == 2);
        CHECK(info->num_attention_heads == 4 && info->intermediate_size == 128);
        CHECK(info->image_size == 32 && info->patch_size == 8 && info->n_tokens == 17);
        CHECK(info->has_pooler && info->num_labels == 0);
        CHECKF(info->n_params == 84736, "%llu params", (unsigned long long)info->n_params);
        CHECK(info->preprocess.height == 32 && info->preprocess.width == 32);
        vitc_model_free(m);
    }
}

/* ---- refusals and failures ---- */

static void test_unknown_preset(void)
{
    const char *d = fresh_dir("unknown");
    CHECK(vitc_preset_write(d, "vit-gigantic", 1) == VITC_ERR_INVALID_ARG);
    CHECK(strstr(vitc_last_error(), "unknown preset 'vit-gigantic'") != NULL);
    CHECK(strstr(vitc_last_error(), "vit-base-patch16-224-in21k") != NULL);
    CHECK(strstr(vitc_last_error(), "tiny-test") != NULL);
    CHECK(!exists(d));
    CHECK(vitc_preset_write(NULL, "tiny-test", 1) == VITC_ERR_INVALID_ARG);
    CHECK(vitc_preset_write("", "tiny-test", 1) == VITC_ERR_INVALID_ARG);
    CHECK(vitc_preset_write(d, NULL, 1) == VITC_ERR_INVALID_ARG);
}

static void test_no_overwrite(void)
{
    const char *d = fresh_dir("keep"), *ref = fresh_dir("keep-ref");
    CHECK(vitc_preset_write(d, "tiny-test", 3) == VITC_OK);
    CHECK(vitc_preset_write(ref, "tiny-test", 3) == VITC_OK);
    CHECK(vitc_preset_write(d, "tiny-test", 4) == VITC_ERR_IO);
    CHECK(strstr(vitc_last_error(), "model.safetensors") != NULL);
    CHECK(strstr(vitc_last_error(), "refusing to overwrite") != NULL);
    CHECK(same_file(path_of(d, "model.safetensors"), path_of(ref, "model.safetensors")));
    CHECK(count_entries(d) == 3);
}

static void test_unwritable(void)
{
    const char *d = fresh_dir("blocker");
    FILE *f = fopen(d, "wb"); /* a regular file where a directory is needed */
    CHECK(f != NULL);
    if (f) {
        fclose(f);
    }
    CHECK(vitc_preset_write(path_of(d, "sub"), "tiny-test", 1) == VITC_ERR_IO);
    CHECK(strstr(vitc_last_error(), "blocker") != NULL);
    CHECK(vitc_preset_write(d, "tiny-test", 1) == VITC_ERR_IO);

    if (geteuid() == 0) {
        printf("  (running as root: read-only directory case not checkable)\n");
        return;
    }
    const char *ro = fresh_dir("readonly");
    CHECK(mkdir(ro, 0555) == 0);
    CHECK(vitc_preset_write(ro, "tiny-test", 1) == VITC_ERR_IO);
    CHECK(count_entries(ro) == 0);
    CHECK(vitc_preset_write(path_of(ro, "sub"), "tiny-test", 1) == VITC_ERR_IO);
}

/* Every allocation failing in turn gives VITC_ERR_NOMEM, never a partial
 * model.safetensors or a stray temporary. */
static void test_alloc_failures(void)
{
    int reached_ok = 0;
    for (size_t k = 1; k < 500 && !reached_ok; k++) {
        char name[32];
        snprintf(name, sizeof name, "oom-%zu", k);
        const char *d = fresh_dir(name);
        vitc_test_fail_alloc_after(k);
        vitc_status st = vitc_preset_write(d, "tiny-test", 9);
        vitc_test_fail_alloc_after(0);
        if (st == VITC_OK) {
            reached_ok = 1;
            CHECK(count_entries(d) == 3);
        } else {
            CHECKF(st == VITC_ERR_NOMEM, "k=%zu: %s", k, vitc_last_error());
            CHECKF(!exists(path_of(d, "model.safetensors")), "k=%zu", k);
            CHECKF(!exists(d) || count_entries(d) <= 2, "k=%zu: stray files", k);
        }
        rm_tree(d);
    }
    CHECK(reached_ok);
}

/* ---- the safetensors writer itself ---- */

static void test_writer(void)
{
    const char *d = fresh_dir("stw");
    CHECK(mkdir(d, 0777) == 0);
    char *path = path_of(d, "t.safetensors");
    struct vitc_stw *w = NULL;
    const size_t s_b[] = {3}, s_a[] = {2, 2};
    const float a[4] = {1, 2, 3, 4}, b[3] = {-1, -2, -3};
    const char *name = NULL;
    size_t n = 0, data_len = 0;

    CHECK(vitc_stw_open(path, false, &w) == VITC_OK);
    CHECK(vitc_stw_add_metadata(w, "format", "pt") == VITC_OK);
    CHECK(vitc_stw_add_tensor(w, "b", 1, s_b) == VITC_OK);
    CHECK(vitc_stw_add_tensor(w, "a", 2, s_a) == VITC_OK);
    CHECK(vitc_stw_write(w, a, 1) == VITC_ERR_INVALID_ARG); /* before the header */
    CHECK(vitc_stw_write_header(w) == VITC_OK);
    CHECK(vitc_stw_add_tensor(w, "c", 1, s_b) == VITC_ERR_INVALID_ARG);
    CHECK(vitc_stw_next(w, &name, &n) && strcmp(name, "a") == 0 && n == 4);
    CHECK(vitc_stw_write(w, a, 3) == VITC_OK);
    CHECK(vitc_stw_write(w, a + 3, 2) == VITC_ERR_INVALID_ARG); /* past the end of "a" */
    CHECK(vitc_stw_write(w, a + 3, 1) == VITC_OK);
    CHECK(vitc_stw_next(w, &name, &n) && strcmp(name, "b") == 0 && n == 3);
    CHECK(vitc_stw_write(w, b, 3) == VITC_OK);
    CHECK(!vitc_stw_next(w, &name, &n));
    CHECK(!exists(path));
    CHECK(vitc_stw_finish(w) == VITC_OK);
    CHECK(count_entries(d) == 1);

    json_t *h = read_header(path, &data_len);
    CHECK(h && data_len == 28);
    if (h) {
        CHECK(strcmp(json_object_iter_key(json_object_iter(h)), "__metadata__") == 0);
        json_t *offs = json_object_get(json_object_get(h, "b"), "data_offsets");
        CHECK(json_integer_value(json_array_get(offs, 0)) == 16);
        CHECK(json_integer_value(json_array_get(offs, 1)) == 28);
        json_decref(h);
    }
    size_t len = 0;
    unsigned char *bytes = slurp(path, &len);
    CHECK(bytes && len >= 28 && bytes[len - 12] == 0x00 && bytes[len - 9] == 0xbf); /* -1.0f LE */
    free(bytes);

    /* Not replacing: a finished file at path makes finish fail and vanish. */
    CHECK(vitc_stw_open(path, false, &w) == VITC_OK);
    CHECK(vitc_stw_write_header(w) == VITC_OK);
    CHECK(vitc_stw_finish(w) == VITC_ERR_IO);
    CHECK(count_entries(d) == 1);
    /* Replacing: an empty file (header only) takes its place. */
    CHECK(vitc_stw_open(path, true, &w) == VITC_OK);
    CHECK(vitc_stw_write_header(w) == VITC_OK);
    CHECK(vitc_stw_finish(w) == VITC_OK);
    h = read_header(path, &data_len);
    CHECK(h && json_object_size(h) == 0 && data_len == 0);
    json_decref(h);
    CHECK(count_entries(d) == 1);

    /* Incomplete data, duplicate names: errors, nothing left behind. */
    char *path2 = path_of(d, "u.safetensors");
    CHECK(vitc_stw_open(path2, false, &w) == VITC_OK);
    CHECK(vitc_stw_add_tensor(w, "a", 2, s_a) == VITC_OK);
    CHECK(vitc_stw_write_header(w) == VITC_OK);
    CHECK(vitc_stw_write(w, a, 2) == VITC_OK);
    CHECK(vitc_stw_finish(w) == VITC_ERR_INVALID_ARG);
    CHECK(strstr(vitc_last_error(), "'a' is incomplete") != NULL);
    CHECK(vitc_stw_open(path2, false, &w) == VITC_OK);
    CHECK(vitc_stw_add_tensor(w, "a", 2, s_a) == VITC_OK);
    CHECK(vitc_stw_add_tensor(w, "a", 1, s_b) == VITC_OK);
    CHECK(vitc_stw_write_header(w) == VITC_ERR_INVALID_ARG);
    vitc_stw_abort(w);
    CHECK(!exists(path2) && count_entries(d) == 1);
}

/* ---- optional: a full-size write (VITC_EXTENDED=1) ---- */

static void test_extended_vit_b(void)
{
    const char *d = fresh_dir("vit-b");
    vitc_model *m = NULL;
    CHECKF(vitc_preset_write(d, "vit-base-patch16-224", 2024) == VITC_OK, "%s", vitc_last_error());
    CHECKF(vitc_model_load(d, NULL, &m) == VITC_OK, "%s", vitc_last_error());
    if (m) {
        const vitc_model_info *info = vitc_model_get_info(m);
        CHECK(info->num_labels == 1000 && !info->has_pooler);
        CHECKF(info->n_params == 86567656, "%llu", (unsigned long long)info->n_params);
        CHECK(strcmp(vitc_model_label(m, 517), "crane") == 0);
        vitc_model_free(m);
    }
    rm_tree(d);
}

int main(void)
{
    char tmpl[1024];
    const char *base = getenv("TMPDIR");
    snprintf(tmpl, sizeof tmpl, "%s/vitc-presets-XXXXXX", base && *base ? base : "/tmp");
    tmp_root = mkdtemp(tmpl);
    if (!tmp_root) {
        perror("mkdtemp");
        return 1;
    }
    umask(022);

    RUN(test_names);
    RUN(test_labels);
    RUN(test_configs);
    RUN(test_imagenet_config);
    if (access(SHARED_BASE "/config.json", R_OK) == 0) {
        RUN(test_base_config_vs_fixture);
    } else {
        SKIP(test_base_config_vs_fixture, "../shared fixtures not present");
    }
    RUN(test_preprocessor_vs_data);
    RUN(test_write_deterministic);
    RUN(test_write_layout);
    RUN(test_write_loads);
    RUN(test_unknown_preset);
    RUN(test_no_overwrite);
    RUN(test_unwritable);
    RUN(test_alloc_failures);
    RUN(test_writer);
    const char *ext = getenv("VITC_EXTENDED");
    if (ext && strcmp(ext, "1") == 0) {
        RUN(test_extended_vit_b);
    } else {
        SKIP(test_extended_vit_b, "set VITC_EXTENDED=1 for the full-size ViT-B write");
    }
    rm_tree(tmp_root);
    return TEST_REPORT();
}
