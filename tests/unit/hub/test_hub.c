/* SPDX-License-Identifier: MIT
 *
 * test_hub.c — the hub client without a network: SHA-256 against FIPS 180-4
 * vectors, repo-id / revision / etag rules, the cache-root environment rule,
 * default params from the environment, the cache layout written and read
 * back (refs, relative snapshot links, .no_exist, blob locks), vitc_hub_resolve's
 * pass-through and offline paths, and allocation failures. The HTTP side is
 * tested against a local server in tests/cli/test_hub.sh.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include "base/err.h"
#include "base/sha256.h"
#include "hub/hub.h"
#include "test.h"

static const char *COMMIT = "0123456789abcdef0123456789abcdef01234567";

static void sha_hex(const void *data, size_t n, char hex[65])
{
    vitc_sha256 s;
    vitc_sha256_init(&s);
    vitc_sha256_update(&s, data, n);
    vitc_sha256_final_hex(&s, hex);
}

/* ---- SHA-256 ---- */

static void test_sha256_vectors(void)
{
    char hex[65];
    sha_hex("", 0, hex);
    CHECK(strcmp(hex, "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855") == 0);
    sha_hex("abc", 3, hex);
    CHECK(strcmp(hex, "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad") == 0);
    const char *two = "abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq";
    sha_hex(two, strlen(two), hex);
    CHECK(strcmp(hex, "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1") == 0);
    /* One million 'a', fed in uneven pieces to cross block boundaries every way. */
    static char a[1000000];
    memset(a, 'a', sizeof a);
    vitc_sha256 s;
    vitc_sha256_init(&s);
    size_t at = 0;
    for (size_t step = 1; at < sizeof a; step = step % 131 + 7) {
        size_t n = sizeof a - at < step ? sizeof a - at : step;
        vitc_sha256_update(&s, a + at, n);
        at += n;
    }
    vitc_sha256_final_hex(&s, hex);
    CHECK(strcmp(hex, "cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0") == 0);
}

static void test_sha256_padding_lengths(void)
{
    /* Lengths around the 55/56/64-byte padding edges: one-shot equals byte by byte. */
    unsigned char buf[130];
    for (size_t i = 0; i < sizeof buf; i++) {
        buf[i] = (unsigned char)(i * 37 + 11);
    }
    for (size_t n = 0; n <= sizeof buf; n++) {
        char one[65], bytes[65];
        sha_hex(buf, n, one);
        vitc_sha256 s;
        vitc_sha256_init(&s);
        for (size_t i = 0; i < n; i++) {
            vitc_sha256_update(&s, buf + i, 1);
        }
        vitc_sha256_final_hex(&s, bytes);
        CHECKF(strcmp(one, bytes) == 0, "length %zu", n);
    }
}

/* ---- names ---- */

static void test_repo_id_rules(void)
{
    const char *good[] = {"google/vit-base-patch16-224-in21k", "org/name", "a/b", "A_1/b.c-d",
                          "facebook/dino-vitb16"};
    const char *bad[] = {"",
                         "name",
                         "/name",
                         "org/",
                         "a/b/c",
                         "org//x",
                         "-org/x",
                         "org/x-",
                         "org/.x",
                         "org/x.",
                         "org/a--b",
                         "org/a..b",
                         "org/x.git",
                         "org/x y",
                         "./x",
                         "../x",
                         "org/\xc3\xa9",
                         "org/aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
                         "aaaaaaaaaaaaaaaaaaaaaaaaaaaa"};
    for (size_t i = 0; i < sizeof good / sizeof good[0]; i++) {
        CHECKF(vitc_hub_repo_id_valid(good[i]), "%s", good[i]);
    }
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        CHECKF(!vitc_hub_repo_id_valid(bad[i]), "%s", bad[i]);
    }
}

static void test_revision_rules(void)
{
    const char *good[] = {"main", "v1.0", "refs/pr/1", COMMIT, "release_2024-01"};
    const char *bad[] = {"",      "/main", "main/", "a//b", "..",   "a/../b", "./a",
                         "a/./b", "a/.",   ".",     "a b",  "a\\b", "a\nb"};
    for (size_t i = 0; i < sizeof good / sizeof good[0]; i++) {
        CHECKF(vitc_hub_revision_valid(good[i]), "%s", good[i]);
    }
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        CHECKF(!vitc_hub_revision_valid(bad[i]), "'%s'", bad[i]);
    }
}

static void test_hash_shapes(void)
{
    CHECK(vitc_hub_is_commit_hash(COMMIT));
    CHECK(!vitc_hub_is_commit_hash("0123456789ABCDEF0123456789abcdef01234567"));
    CHECK(!vitc_hub_is_commit_hash("0123456789abcdef"));
    CHECK(!vitc_hub_is_commit_hash("0123456789abcdef0123456789abcdef012345678"));
    CHECK(vitc_hub_is_sha256("e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"));
    CHECK(!vitc_hub_is_sha256(COMMIT));
}

static void test_etag_normalize(void)
{
    char out[VITC_HUB_TAG_MAX + 1];
    CHECK(vitc_hub_etag_normalize("\"abc123\"", out, sizeof out) && strcmp(out, "abc123") == 0);
    CHECK(vitc_hub_etag_normalize("W/\"abc-1\"", out, sizeof out) && strcmp(out, "abc-1") == 0);
    CHECK(vitc_hub_etag_normalize("abc", out, sizeof out) && strcmp(out, "abc") == 0);
    CHECK(vitc_hub_etag_normalize(" \"abc\" \r\n", out, sizeof out) && strcmp(out, "abc") == 0);
    const char *bad[] = {"", "\"\"", "\"../x\"", "a/b", "a.b", "\"abc", "a b", "W/"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        CHECKF(!vitc_hub_etag_normalize(bad[i], out, sizeof out), "'%s'", bad[i]);
    }
    char longtag[VITC_HUB_TAG_MAX + 2];
    memset(longtag, 'a', sizeof longtag - 1);
    longtag[sizeof longtag - 1] = '\0';
    CHECK(!vitc_hub_etag_normalize(longtag, out, sizeof out));
    char small[8];
    CHECK(!vitc_hub_etag_normalize("abcdefgh", small, sizeof small));
}

/* ---- environment ---- */

static const char *env_vars[] = {
    "HF_HUB_CACHE",           "HUGGINGFACE_HUB_CACHE", "HF_HOME",
    "XDG_CACHE_HOME",         "HF_ENDPOINT",           "HF_TOKEN",
    "HUGGING_FACE_HUB_TOKEN", "HF_HUB_OFFLINE",        "TRANSFORMERS_OFFLINE"};

static void clear_env(void)
{
    for (size_t i = 0; i < sizeof env_vars / sizeof env_vars[0]; i++) {
        unsetenv(env_vars[i]);
    }
}

/* The cache root for params p (NULL: defaults), compared with want. */
static int root_is(const vitc_hub_params *p, const char *want)
{
    char *root = NULL;
    if (vitc_hub_cache_root(p, &root) != VITC_OK) {
        fprintf(stderr, "  cache root: %s\n", vitc_last_error());
        return 0;
    }
    int same = strcmp(root, want) == 0;
    if (!same) {
        fprintf(stderr, "  cache root '%s', want '%s'\n", root, want);
    }
    vitc_mem_free(root);
    return same;
}

static void test_cache_root_rule(void)
{
    char *home = getenv("HOME") ? strdup(getenv("HOME")) : NULL;
    clear_env();
    setenv("HOME", "/h", 1);
    CHECK(root_is(NULL, "/h/.cache/huggingface/hub"));
    setenv("XDG_CACHE_HOME", "/xdg", 1);
    CHECK(root_is(NULL, "/xdg/huggingface/hub"));
    setenv("HF_HOME", "~/hf", 1);
    CHECK(root_is(NULL, "/h/hf/hub"));
    setenv("HUGGINGFACE_HUB_CACHE", "/old", 1);
    CHECK(root_is(NULL, "/old"));
    setenv("HF_HUB_CACHE", "/new", 1);
    CHECK(root_is(NULL, "/new"));
    vitc_hub_params p = {0};
    p.cache_dir = "~";
    CHECK(root_is(&p, "/h"));
    /* Empty variables count as unset. */
    setenv("HF_HUB_CACHE", "", 1);
    CHECK(root_is(NULL, "/old"));
    clear_env();
    setenv("HF_HOME", "", 1);
    CHECK(root_is(NULL, "/h/.cache/huggingface/hub"));
    unsetenv("HOME");
    char *root = NULL;
    CHECK(vitc_hub_cache_root(NULL, &root) == VITC_ERR_IO && root == NULL);
    CHECK(strstr(vitc_last_error(), "HF_HUB_CACHE") != NULL);
    if (home) {
        setenv("HOME", home, 1);
        free(home);
    }
    clear_env();
}

static void test_default_params(void)
{
    clear_env();
    vitc_hub_params p = vitc_hub_default_params();
    CHECK(!p.endpoint && !p.token && !p.cache_dir && !p.revision && !p.offline && !p.progress);
    setenv("HF_ENDPOINT", "http://mirror", 1);
    setenv("HUGGING_FACE_HUB_TOKEN", "old", 1);
    p = vitc_hub_default_params();
    CHECK(p.endpoint && strcmp(p.endpoint, "http://mirror") == 0);
    CHECK(p.token && strcmp(p.token, "old") == 0);
    setenv("HF_TOKEN", "new", 1);
    p = vitc_hub_default_params();
    CHECK(p.token && strcmp(p.token, "new") == 0);
    const char *yes[] = {"1", "true", "TRUE", "on", "Yes"};
    const char *no[] = {"0", "false", "off", "", "2"};
    for (size_t i = 0; i < 5; i++) {
        setenv("HF_HUB_OFFLINE", yes[i], 1);
        CHECKF(vitc_hub_default_params().offline, "%s", yes[i]);
        setenv("HF_HUB_OFFLINE", no[i], 1);
        CHECKF(!vitc_hub_default_params().offline, "%s", no[i]);
    }
    unsetenv("HF_HUB_OFFLINE");
    setenv("TRANSFORMERS_OFFLINE", "1", 1);
    CHECK(vitc_hub_default_params().offline);
    clear_env();
}

/* ---- the layout ---- */

static char tmpdir[256];

static void make_tmp(void)
{
    snprintf(tmpdir, sizeof tmpdir, "%s/vitc-test-hub.XXXXXX",
             getenv("TMPDIR") ? getenv("TMPDIR") : "/tmp");
    if (!mkdtemp(tmpdir)) {
        perror("mkdtemp");
        exit(1);
    }
}

static void remove_tmp(void)
{
    char cmd[300];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", tmpdir);
    if (system(cmd) != 0) {
        fprintf(stderr, "could not remove %s\n", tmpdir);
    }
}

static void write_file(const char *path, const char *text)
{
    FILE *f = fopen(path, "wb");
    if (f) {
        fputs(text, f);
        fclose(f);
    }
}

static void read_link(const char *path, char *out, size_t n)
{
    ssize_t k = readlink(path, out, n - 1);
    out[k < 0 ? 0 : k] = '\0';
}

static void test_repo_dir(void)
{
    char *d = vitc_hub_repo_dir("/c", "google/vit-base");
    CHECK(d && strcmp(d, "/c/models--google--vit-base") == 0);
    vitc_mem_free(d);
}

static void test_write_and_lookup(void)
{
    char repo[512], path[1024], link[256];
    snprintf(repo, sizeof repo, "%s/models--org--m", tmpdir);
    char *dir = NULL;
    CHECK(vitc_hub_cache_lookup(repo, "main", &dir, NULL) == VITC_ERR_IO && dir == NULL);

    snprintf(path, sizeof path, "%s/blobs", repo);
    CHECK(vitc_hub_mkdirs(path) == VITC_OK);
    CHECK(vitc_hub_mkdirs(path) == VITC_OK); /* idempotent */
    snprintf(path, sizeof path, "%s/blobs/aaaa", repo);
    write_file(path, "{}");
    snprintf(path, sizeof path, "%s/blobs/bbbb", repo);
    write_file(path, "weights");
    CHECK(vitc_hub_link_snapshot(repo, COMMIT, "config.json", "aaaa") == VITC_OK);
    CHECK(vitc_hub_write_ref(repo, "main", COMMIT) == VITC_OK);
    /* Half a snapshot is not a model. */
    CHECK(vitc_hub_cache_lookup(repo, "main", &dir, NULL) == VITC_ERR_IO && dir == NULL);
    CHECK(strstr(vitc_last_error(), "model.safetensors") != NULL);
    /* An older link is replaced. */
    CHECK(vitc_hub_link_snapshot(repo, COMMIT, "model.safetensors", "aaaa") == VITC_OK);
    CHECK(vitc_hub_link_snapshot(repo, COMMIT, "model.safetensors", "bbbb") == VITC_OK);
    snprintf(path, sizeof path, "%s/snapshots/%s/model.safetensors", repo, COMMIT);
    read_link(path, link, sizeof link);
    CHECK(strcmp(link, "../../blobs/bbbb") == 0);

    snprintf(path, sizeof path, "%s/refs/main", repo);
    FILE *f = fopen(path, "rb");
    char buf[64] = "";
    size_t n = f ? fread(buf, 1, sizeof buf - 1, f) : 0;
    if (f) {
        fclose(f);
    }
    CHECK(n == 40 && memcmp(buf, COMMIT, 40) == 0);

    char want[1024];
    snprintf(want, sizeof want, "%s/snapshots/%s", repo, COMMIT);
    CHECK(vitc_hub_cache_lookup(repo, "main", &dir, NULL) == VITC_OK && dir &&
          strcmp(dir, want) == 0);
    vitc_mem_free(dir);
    dir = NULL;
    CHECK(vitc_hub_cache_lookup(repo, COMMIT, &dir, NULL) == VITC_OK && dir);
    vitc_mem_free(dir);
    dir = NULL;

    /* Nested revisions and a ref file with a trailing newline (hand-written). */
    CHECK(vitc_hub_write_ref(repo, "refs/pr/1", COMMIT) == VITC_OK);
    CHECK(vitc_hub_cache_lookup(repo, "refs/pr/1", &dir, NULL) == VITC_OK);
    vitc_mem_free(dir);
    dir = NULL;
    snprintf(path, sizeof path, "%s/refs/v1", repo);
    write_file(path, "0123456789abcdef0123456789abcdef01234567\n");
    CHECK(vitc_hub_cache_lookup(repo, "v1", &dir, NULL) == VITC_OK);
    vitc_mem_free(dir);
    dir = NULL;
    write_file(path, "not a hash");
    CHECK(vitc_hub_cache_lookup(repo, "v1", &dir, NULL) == VITC_ERR_FORMAT && dir == NULL);

    bool complete = true;
    CHECK(vitc_hub_cache_lookup(repo, "main", &dir, &complete) == VITC_OK && !complete);
    vitc_mem_free(dir);
    dir = NULL;
    CHECK(vitc_hub_mark_missing(repo, COMMIT, "preprocessor_config.json") == VITC_OK);
    CHECK(vitc_hub_cache_lookup(repo, "main", &dir, &complete) == VITC_OK && complete);
    vitc_mem_free(dir);
    dir = NULL;
    struct stat sb;
    snprintf(path, sizeof path, "%s/.no_exist/%s/preprocessor_config.json", repo, COMMIT);
    CHECK(stat(path, &sb) == 0 && S_ISREG(sb.st_mode) && sb.st_size == 0);

    /* A file where a directory must go. */
    snprintf(path, sizeof path, "%s/blobs/aaaa/x", repo);
    CHECK(vitc_hub_mkdirs(path) == VITC_ERR_IO);
}

static void test_blob_lock(void)
{
    int fd = -1;
    CHECK(vitc_hub_lock_blob(tmpdir, "org/m", "abcd", &fd) == VITC_OK && fd >= 0);
    char path[1024];
    snprintf(path, sizeof path, "%s/.locks/models--org--m/abcd.lock", tmpdir);
    /* Held: another open file description cannot take it, as another process could not. */
    int other = open(path, O_RDWR);
    CHECK(other >= 0 && flock(other, LOCK_EX | LOCK_NB) != 0 && errno == EWOULDBLOCK);
    close(fd);
    CHECK(other >= 0 && flock(other, LOCK_EX | LOCK_NB) == 0);
    if (other >= 0) {
        close(other);
    }
}

static void test_resolve(void)
{
    char cache[256], *dir = NULL;
    snprintf(cache, sizeof cache, "%s", tmpdir);
    vitc_hub_params p = {0};
    p.cache_dir = cache;
    p.offline = true;

    /* Directories and non-repo-ids pass through untouched, for vitc_model_load to judge. */
    CHECK(vitc_hub_resolve(tmpdir, &p, &dir) == VITC_OK && strcmp(dir, tmpdir) == 0);
    vitc_string_free(dir);
    dir = NULL;
    CHECK(vitc_hub_resolve("no-such-dir", &p, &dir) == VITC_OK && strcmp(dir, "no-such-dir") == 0);
    vitc_string_free(dir);
    dir = NULL;

    /* test_write_and_lookup left a complete org/m at main. */
    CHECK(vitc_hub_resolve("org/m", &p, &dir) == VITC_OK && dir && strstr(dir, COMMIT));
    vitc_string_free(dir);
    dir = NULL;
    CHECK(vitc_hub_resolve("org/absent", &p, &dir) == VITC_ERR_IO && dir == NULL);
    CHECK(strstr(vitc_last_error(), "HF_HUB_OFFLINE") != NULL);
    CHECK(strstr(vitc_last_error(), "org/absent") != NULL);
    p.revision = "../x";
    CHECK(vitc_hub_resolve("org/m", &p, &dir) == VITC_ERR_INVALID_ARG && dir == NULL);
    CHECK(vitc_hub_resolve(NULL, &p, &dir) == VITC_ERR_INVALID_ARG);
    vitc_string_free(NULL);
}

static void test_download_refusals(void)
{
    char *dir = NULL;
    vitc_hub_params p = {0};
    p.cache_dir = tmpdir;
    p.endpoint = "http://127.0.0.1:1";
    CHECK(vitc_hub_download("not-a-repo", &p, &dir) == VITC_ERR_INVALID_ARG && dir == NULL);
    CHECK(strstr(vitc_last_error(), "ORG/NAME") != NULL);
    p.token = "a\r\nX-Injected: 1";
    CHECK(vitc_hub_download("org/m", &p, &dir) == VITC_ERR_INVALID_ARG);
    static char long_token[1000];
    memset(long_token, 't', sizeof long_token - 1);
    p.token = long_token;
    CHECK(vitc_hub_download("org/m", &p, &dir) == VITC_ERR_INVALID_ARG);
    p.token = NULL;
    p.offline = true;
    CHECK(vitc_hub_download("org/m", &p, &dir) == VITC_ERR_IO);
    CHECK(strstr(vitc_last_error(), "HF_HUB_OFFLINE") != NULL);
    /* Port 1 on the loopback refuses at once: the network error names the URL. */
    p.offline = false;
    CHECK(vitc_hub_download("org/m", &p, &dir) == VITC_ERR_IO && dir == NULL);
    CHECK(strstr(vitc_last_error(), "http://127.0.0.1:1/org/m/resolve/main/config.json") != NULL);
}

static void test_alloc_failures(void)
{
    vitc_hub_params p = {0};
    p.cache_dir = tmpdir;
    p.offline = true;
    int ok_seen = 0;
    for (size_t k = 1; k < 40 && !ok_seen; k++) {
        char *dir = NULL;
        vitc_test_fail_alloc_after(k);
        vitc_status st = vitc_hub_resolve("org/m", &p, &dir);
        vitc_test_fail_alloc_after(0);
        CHECKF(st == VITC_OK || st == VITC_ERR_NOMEM, "k=%zu: %s", k, vitc_last_error());
        CHECK((st == VITC_OK) == (dir != NULL));
        ok_seen = st == VITC_OK;
        vitc_string_free(dir);
    }
    CHECK(ok_seen);
    char repo[512];
    snprintf(repo, sizeof repo, "%s/models--org--oom", tmpdir);
    ok_seen = 0;
    for (size_t k = 1; k < 40 && !ok_seen; k++) {
        vitc_test_fail_alloc_after(k);
        vitc_status st = vitc_hub_link_snapshot(repo, COMMIT, "config.json", "aaaa");
        if (st == VITC_OK) {
            st = vitc_hub_write_ref(repo, "main", COMMIT);
        }
        vitc_test_fail_alloc_after(0);
        CHECKF(st == VITC_OK || st == VITC_ERR_NOMEM, "k=%zu: %s", k, vitc_last_error());
        ok_seen = st == VITC_OK;
    }
    CHECK(ok_seen);
}

int main(void)
{
    /* The loopback requests below must not go to a proxy from the environment. */
    setenv("NO_PROXY", "*", 1);
    setenv("no_proxy", "*", 1);
    make_tmp();
    RUN(test_sha256_vectors);
    RUN(test_sha256_padding_lengths);
    RUN(test_repo_id_rules);
    RUN(test_revision_rules);
    RUN(test_hash_shapes);
    RUN(test_etag_normalize);
    RUN(test_cache_root_rule);
    RUN(test_default_params);
    RUN(test_repo_dir);
    RUN(test_write_and_lookup);
    RUN(test_blob_lock);
    RUN(test_resolve);
    RUN(test_download_refusals);
    RUN(test_alloc_failures);
    remove_tmp();
    return TEST_REPORT();
}
