/* SPDX-License-Identifier: MIT
 *
 * cache.c — the Hugging Face cache on disk, laid out exactly as
 * huggingface_hub lays it out (models--ORG--NAME/{blobs,snapshots,refs,.no_exist}),
 * the environment it is configured by (HF_HUB_CACHE, HF_TOKEN, ...), and the
 * naming rules for repo ids, revisions and etags. Knows nothing of
 * HTTP (hub.c). Library layer; never prints.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include "base/err.h"
#include "hub/hub.h"

/* ---- names ---- */

static bool is_name_char(char c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_' ||
           c == '-' || c == '.';
}

/* One part of a repo id: [A-Za-z0-9_.-]+, starting and ending with a word character
 * (the \b of huggingface_hub's REPO_ID_REGEX). */
static bool part_valid(const char *s, size_t n)
{
    if (n == 0) {
        return false;
    }
    for (size_t i = 0; i < n; i++) {
        if (!is_name_char(s[i])) {
            return false;
        }
    }
    return strchr("-.", s[0]) == NULL && strchr("-.", s[n - 1]) == NULL;
}

bool vitc_hub_repo_id_valid(const char *repo_id)
{
    size_t n = strlen(repo_id);
    const char *slash = strchr(repo_id, '/');
    if (n > VITC_HUB_REPO_ID_MAX || !slash || strchr(slash + 1, '/') || strstr(repo_id, "--") ||
        strstr(repo_id, "..")) {
        return false;
    }
    if (n >= 4 && strcmp(repo_id + n - 4, ".git") == 0) {
        return false;
    }
    return part_valid(repo_id, (size_t)(slash - repo_id)) &&
           part_valid(slash + 1, n - (size_t)(slash - repo_id) - 1);
}

bool vitc_hub_revision_valid(const char *revision)
{
    size_t n = strlen(revision);
    if (n == 0 || n > 255 || revision[0] == '/' || revision[n - 1] == '/' ||
        strstr(revision, "..") || strstr(revision, "//") || strcmp(revision, ".") == 0) {
        return false;
    }
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)revision[i];
        if (c <= ' ' || c >= 0x7f || c == '\\') {
            return false;
        }
    }
    /* No "." component: refs/REVISION must stay a plain path below refs/. */
    return strncmp(revision, "./", 2) != 0 && strstr(revision, "/./") == NULL &&
           !(n >= 2 && strcmp(revision + n - 2, "/.") == 0);
}

static bool lower_hex(const char *s, size_t want)
{
    size_t n = strspn(s, "0123456789abcdef");
    return n == want && s[n] == '\0';
}

bool vitc_hub_is_commit_hash(const char *s)
{
    return lower_hex(s, 40);
}

bool vitc_hub_is_sha256(const char *s)
{
    return lower_hex(s, 64);
}

bool vitc_hub_etag_normalize(const char *raw, char *out, size_t n)
{
    while (*raw == ' ') {
        raw++;
    }
    if (strncmp(raw, "W/", 2) == 0) {
        raw += 2;
    }
    size_t len = strlen(raw);
    while (len > 0 && (raw[len - 1] == ' ' || raw[len - 1] == '\r' || raw[len - 1] == '\n')) {
        len--;
    }
    if (len >= 2 && raw[0] == '"' && raw[len - 1] == '"') {
        raw++;
        len -= 2;
    }
    if (len == 0 || len > VITC_HUB_TAG_MAX || len >= n) {
        return false;
    }
    for (size_t i = 0; i < len; i++) {
        if (!is_name_char(raw[i]) || raw[i] == '.') {
            return false;
        }
    }
    memcpy(out, raw, len);
    out[len] = '\0';
    return true;
}

/* ---- paths ---- */

/* printf into a new string (vitc_mem_free); NULL with the message set on OOM. */
static char *pathf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

static char *pathf(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(NULL, 0, fmt, ap);
    va_end(ap);
    char *p = n >= 0 ? vitc_mem_alloc((size_t)n + 1) : NULL;
    if (!p) {
        vitc_error(VITC_ERR_NOMEM, "out of memory building a cache path");
        return NULL;
    }
    va_start(ap, fmt);
    vsnprintf(p, (size_t)n + 1, fmt, ap);
    va_end(ap);
    return p;
}

static const char *env(const char *name)
{
    const char *v = getenv(name);
    return v && *v ? v : NULL;
}

/* huggingface_hub's _is_true. */
static bool env_true(const char *name)
{
    const char *v = env(name);
    return v && (strcmp(v, "1") == 0 || strcasecmp(v, "on") == 0 || strcasecmp(v, "yes") == 0 ||
                 strcasecmp(v, "true") == 0);
}

vitc_hub_params vitc_hub_default_params(void)
{
    vitc_hub_params p = {0};
    p.endpoint = env("HF_ENDPOINT");
    p.token = env("HF_TOKEN") ? env("HF_TOKEN") : env("HUGGING_FACE_HUB_TOKEN");
    p.offline = env_true("HF_HUB_OFFLINE") || env_true("TRANSFORMERS_OFFLINE");
    return p;
}

/* path with a leading "~" or "~/" replaced by $HOME, then suffix appended. */
static vitc_status expand(const char *path, const char *suffix, char **out)
{
    const char *home = "";
    if (path[0] == '~' && (path[1] == '\0' || path[1] == '/')) {
        home = env("HOME");
        if (!home) {
            return vitc_error(VITC_ERR_IO, "%s: cannot expand '~': HOME is not set", path);
        }
        path++;
    }
    char *p = pathf("%s%s%s", home, path, suffix);
    if (!p) {
        return VITC_ERR_NOMEM;
    }
    *out = p;
    return VITC_OK;
}

vitc_status vitc_hub_cache_root(const vitc_hub_params *p, char **out)
{
    const char *v = NULL;
    if (p && p->cache_dir && *p->cache_dir) {
        return expand(p->cache_dir, "", out);
    }
    if ((v = env("HF_HUB_CACHE")) || (v = env("HUGGINGFACE_HUB_CACHE"))) {
        return expand(v, "", out);
    }
    if ((v = env("HF_HOME"))) {
        return expand(v, "/hub", out);
    }
    if ((v = env("XDG_CACHE_HOME"))) {
        return expand(v, "/huggingface/hub", out);
    }
    if (!env("HOME")) {
        return vitc_error(VITC_ERR_IO, "no hub cache directory: set HF_HUB_CACHE or HOME");
    }
    return expand("~", "/.cache/huggingface/hub", out);
}

char *vitc_hub_repo_dir(const char *root, const char *repo_id)
{
    const char *slash = strchr(repo_id, '/');
    if (!slash) {
        return pathf("%s/models--%s", root, repo_id);
    }
    return pathf("%s/models--%.*s--%s", root, (int)(slash - repo_id), repo_id, slash + 1);
}

static bool is_file(const char *path)
{
    struct stat sb;
    return stat(path, &sb) == 0 && S_ISREG(sb.st_mode);
}

/* Reads refs/REVISION: a commit hash, maybe followed by whitespace. */
static vitc_status read_ref(const char *path, char commit[VITC_HUB_TAG_MAX + 1])
{
    FILE *f = fopen(path, "rb");
    if (!f) {
        return vitc_error(VITC_ERR_IO, "%s: not in the cache", path);
    }
    char buf[VITC_HUB_TAG_MAX + 2];
    size_t n = fread(buf, 1, sizeof buf - 1, f);
    fclose(f);
    buf[n] = '\0';
    buf[strcspn(buf, " \t\r\n")] = '\0';
    if (!vitc_hub_is_commit_hash(buf)) {
        return vitc_error(VITC_ERR_FORMAT, "%s: not a commit hash", path);
    }
    memcpy(commit, buf, strlen(buf) + 1);
    return VITC_OK;
}

vitc_status vitc_hub_cache_lookup(const char *repo_dir, const char *revision, char **dir_out,
                                  bool *complete)
{
    char commit[VITC_HUB_TAG_MAX + 1];
    char *ref = NULL, *snap = NULL, *cfg = NULL, *weights = NULL, *pp = NULL, *no_pp = NULL;
    vitc_status st = VITC_OK;
    if (vitc_hub_is_commit_hash(revision)) {
        memcpy(commit, revision, strlen(revision) + 1);
    } else {
        if (!(ref = pathf("%s/refs/%s", repo_dir, revision))) {
            return VITC_ERR_NOMEM;
        }
        if ((st = read_ref(ref, commit)) != VITC_OK) {
            goto done;
        }
    }
    snap = pathf("%s/snapshots/%s", repo_dir, commit);
    cfg = snap ? pathf("%s/config.json", snap) : NULL;
    weights = cfg ? pathf("%s/model.safetensors", snap) : NULL;
    pp = weights ? pathf("%s/preprocessor_config.json", snap) : NULL;
    no_pp = pp ? pathf("%s/.no_exist/%s/preprocessor_config.json", repo_dir, commit) : NULL;
    if (!no_pp) {
        st = VITC_ERR_NOMEM;
        goto done;
    }
    if (!is_file(cfg) || !is_file(weights)) {
        st = vitc_error(VITC_ERR_IO, "%s: not in the cache (no config.json and model.safetensors)",
                        snap);
        goto done;
    }
    if (complete) {
        struct stat sb;
        *complete = is_file(pp) || stat(no_pp, &sb) == 0;
    }
    *dir_out = snap;
    snap = NULL;

done:
    vitc_mem_free(ref);
    vitc_mem_free(snap);
    vitc_mem_free(cfg);
    vitc_mem_free(weights);
    vitc_mem_free(pp);
    vitc_mem_free(no_pp);
    return st;
}

/* ---- writing the layout ---- */

vitc_status vitc_hub_mkdirs(const char *path)
{
    char *p = vitc_mem_strdup(path);
    if (!p) {
        return vitc_error(VITC_ERR_NOMEM, "%s: out of memory", path);
    }
    vitc_status st = VITC_OK;
    for (char *s = p + 1;; s++) {
        if (*s != '/' && *s != '\0') {
            continue;
        }
        char c = *s;
        *s = '\0';
        struct stat sb;
        if (mkdir(p, 0755) != 0 && errno != EEXIST) {
            st = vitc_error(VITC_ERR_IO, "%s: cannot create directory: %s", p, strerror(errno));
            break;
        }
        if (stat(p, &sb) != 0 || !S_ISDIR(sb.st_mode)) {
            st = vitc_error(VITC_ERR_IO, "%s: not a directory", p);
            break;
        }
        *s = c;
        if (c == '\0') {
            break;
        }
    }
    vitc_mem_free(p);
    return st;
}

/* mkdir -p of the directory part of path. */
static vitc_status mkdirs_parent(const char *path)
{
    const char *slash = strrchr(path, '/');
    if (!slash || slash == path) {
        return VITC_OK;
    }
    char *dir = pathf("%.*s", (int)(slash - path), path);
    if (!dir) {
        return VITC_ERR_NOMEM;
    }
    vitc_status st = vitc_hub_mkdirs(dir);
    vitc_mem_free(dir);
    return st;
}

vitc_status vitc_hub_write_ref(const char *repo_dir, const char *revision, const char *commit)
{
    char *path = pathf("%s/refs/%s", repo_dir, revision);
    char *tmp = path ? pathf("%s.XXXXXX", path) : NULL;
    vitc_status st = VITC_OK;
    int fd = -1;
    if (!tmp) {
        st = VITC_ERR_NOMEM;
        goto done;
    }
    if ((st = mkdirs_parent(path)) != VITC_OK) {
        goto done;
    }
    size_t n = strlen(commit);
    if ((fd = mkstemp(tmp)) < 0) {
        st = vitc_error(VITC_ERR_IO, "%s: cannot create: %s", tmp, strerror(errno));
        goto done;
    }
    /* huggingface_hub writes the bare hash, no newline; so does this. */
    if (write(fd, commit, n) != (ssize_t)n || fchmod(fd, 0644) != 0 || close(fd) != 0) {
        fd = -1;
        st = vitc_error(VITC_ERR_IO, "%s: cannot write: %s", tmp, strerror(errno));
        unlink(tmp);
        goto done;
    }
    fd = -1;
    if (rename(tmp, path) != 0) {
        st = vitc_error(VITC_ERR_IO, "%s: cannot rename into place: %s", path, strerror(errno));
        unlink(tmp);
    }

done:
    if (fd >= 0) {
        close(fd);
        unlink(tmp);
    }
    vitc_mem_free(path);
    vitc_mem_free(tmp);
    return st;
}

vitc_status vitc_hub_link_snapshot(const char *repo_dir, const char *commit, const char *filename,
                                   const char *etag)
{
    char *link = pathf("%s/snapshots/%s/%s", repo_dir, commit, filename);
    char *target = NULL;
    vitc_status st = VITC_OK;
    if (!link) {
        return VITC_ERR_NOMEM;
    }
    /* Relative, as huggingface_hub makes it, so the cache can be moved: one "../" per
     * directory between the link and the repo folder. */
    size_t depth = 2;
    for (const char *c = filename; *c; c++) {
        depth += *c == '/';
    }
    char up[3 * 16 + 1] = "";
    for (size_t i = 0; i < depth && i < 16; i++) {
        strcat(up, "../");
    }
    if (!(target = pathf("%sblobs/%s", up, etag))) {
        st = VITC_ERR_NOMEM;
        goto done;
    }
    if ((st = mkdirs_parent(link)) != VITC_OK) {
        goto done;
    }
    if (unlink(link) != 0 && errno != ENOENT) {
        st = vitc_error(VITC_ERR_IO, "%s: cannot replace: %s", link, strerror(errno));
        goto done;
    }
    if (symlink(target, link) != 0) {
        /* Another process linking the same file at the same time is fine if it agrees. */
        int e = errno;
        char have[512];
        ssize_t n = e == EEXIST ? readlink(link, have, sizeof have - 1) : -1;
        if (n >= 0) {
            have[n] = '\0';
        }
        if (n < 0 || strcmp(have, target) != 0) {
            st = vitc_error(VITC_ERR_IO, "%s: cannot create symlink: %s", link, strerror(e));
        }
    }

done:
    vitc_mem_free(link);
    vitc_mem_free(target);
    return st;
}

vitc_status vitc_hub_mark_missing(const char *repo_dir, const char *commit, const char *filename)
{
    char *path = pathf("%s/.no_exist/%s/%s", repo_dir, commit, filename);
    if (!path) {
        return VITC_ERR_NOMEM;
    }
    vitc_status st = mkdirs_parent(path);
    int fd = st == VITC_OK ? open(path, O_WRONLY | O_CREAT | O_CLOEXEC, 0644) : -1;
    if (st == VITC_OK && fd < 0) {
        st = vitc_error(VITC_ERR_IO, "%s: cannot create: %s", path, strerror(errno));
    }
    if (fd >= 0) {
        close(fd);
    }
    vitc_mem_free(path);
    return st;
}

vitc_status vitc_hub_lock_blob(const char *root, const char *repo_id, const char *etag, int *fd_out)
{
    char *repo = vitc_hub_repo_dir("", repo_id); /* "/models--ORG--NAME" */
    char *path = repo ? pathf("%s/.locks%s/%s.lock", root, repo, etag) : NULL;
    vitc_status st = path ? mkdirs_parent(path) : VITC_ERR_NOMEM;
    int fd = -1;
    if (st == VITC_OK && (fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0644)) < 0) {
        st = vitc_error(VITC_ERR_IO, "%s: cannot create: %s", path, strerror(errno));
    }
    while (st == VITC_OK && flock(fd, LOCK_EX) != 0) {
        if (errno != EINTR) {
            st = vitc_error(VITC_ERR_IO, "%s: cannot lock: %s", path, strerror(errno));
        }
    }
    if (st == VITC_OK) {
        *fd_out = fd;
        fd = -1;
    }
    if (fd >= 0) {
        close(fd);
    }
    vitc_mem_free(repo);
    vitc_mem_free(path);
    return st;
}
