/* SPDX-License-Identifier: MIT
 *
 * hub.c — fetching a model from the Hugging Face hub with libcurl, the way
 * huggingface_hub's hf_hub_download does: a HEAD on /REPO/resolve/REV/FILE
 * (redirects not followed) for X-Repo-Commit, the etag and the size, then a
 * GET of the file (or of the CDN address it redirects to) into the cache,
 * resumable, verified, renamed into place. The cache layout is hub/cache.c.
 * Library layer; never prints: progress goes to a callback.
 */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

#include <curl/curl.h>

#include "base/err.h"
#include "base/sha256.h"
#include "hub/hub.h"

#define HUB_DEFAULT_ENDPOINT "https://huggingface.co"
/* Relative redirects followed by the metadata request (renamed repos). */
#define HUB_MAX_REDIRECTS 10
/* Attempts of one download when the connection drops after some progress. */
#define HUB_MAX_ATTEMPTS 5
#define HUB_LOCATION_MAX 8192
/* Hub tokens are about 40 characters; the Authorization header is built in a fixed buffer. */
#define HUB_TOKEN_MAX 900

/* ---- process-wide libcurl initialisation ---- */

/* Written once inside pthread_once and only read afterwards. */
static pthread_once_t curl_once = PTHREAD_ONCE_INIT;
static CURLcode curl_init_rc = CURLE_FAILED_INIT;

static void curl_init(void)
{
    curl_init_rc = curl_global_init(CURL_GLOBAL_DEFAULT);
}

static vitc_status ensure_curl(void)
{
    pthread_once(&curl_once, curl_init);
    if (curl_init_rc != CURLE_OK) {
        return vitc_error(VITC_ERR_IO, "libcurl: cannot initialise: %s",
                          curl_easy_strerror(curl_init_rc));
    }
    return VITC_OK;
}

/* ---- strings ---- */

void vitc_string_free(char *s)
{
    vitc_mem_free(s);
}

/* ---- one download job ---- */

/* What the whole pull shares. */
typedef struct job {
    const char *repo_id;
    const char *revision;
    const vitc_hub_params *params;
    const char *root;                  /* the cache root */
    char *endpoint;                    /* without a trailing '/' */
    char *repo_dir;                    /* ROOT/models--ORG--NAME */
    char commit[VITC_HUB_TAG_MAX + 1]; /* "" until the first file's metadata */
} job;

/* The metadata of one response, from its headers. */
typedef struct meta {
    long status;
    char commit[VITC_HUB_TAG_MAX + 1];
    char etag[VITC_HUB_TAG_MAX + 1];        /* ETag, normalised */
    char linked_etag[VITC_HUB_TAG_MAX + 1]; /* X-Linked-Etag, normalised */
    bool bad_etag;                          /* a present etag header was unusable */
    uint64_t size, linked_size;
    bool has_size, has_linked_size;
    uint64_t range_start; /* Content-Range of a 206 */
    bool has_range;
    char error_code[64]; /* X-Error-Code */
    char *location;
} meta;

static void meta_reset(meta *m)
{
    vitc_mem_free(m->location);
    memset(m, 0, sizeof *m);
}

static bool parse_u64(const char *s, uint64_t *out)
{
    if (*s < '0' || *s > '9') {
        return false;
    }
    errno = 0;
    char *end = NULL;
    unsigned long long v = strtoull(s, &end, 10);
    if (errno != 0) {
        return false;
    }
    *out = v;
    return true;
}

static void copy_value(char *dst, size_t n, const char *v, size_t len)
{
    if (len >= n) {
        len = n - 1;
    }
    memcpy(dst, v, len);
    dst[len] = '\0';
}

/* libcurl header callback: one "Name: value\r\n" line; a status line starts a new
 * response (redirects, 100 Continue), so everything is reset there. */
static size_t on_header(char *line, size_t size, size_t count, void *user)
{
    meta *m = user;
    size_t n = size * count;
    if (n >= 5 && strncmp(line, "HTTP/", 5) == 0) {
        meta_reset(m);
        return n;
    }
    const char *colon = memchr(line, ':', n);
    if (!colon) {
        return n;
    }
    size_t klen = (size_t)(colon - line);
    const char *v = colon + 1;
    size_t vlen = n - klen - 1;
    while (vlen > 0 && (*v == ' ' || *v == '\t')) {
        v++;
        vlen--;
    }
    while (vlen > 0 && (v[vlen - 1] == '\r' || v[vlen - 1] == '\n' || v[vlen - 1] == ' ')) {
        vlen--;
    }
    char value[VITC_HUB_TAG_MAX * 2];
    copy_value(value, sizeof value, v, vlen);
#define IS(name) (klen == sizeof name - 1 && strncasecmp(line, name, klen) == 0)
    if (IS("X-Repo-Commit")) {
        copy_value(m->commit, sizeof m->commit, v, vlen);
    } else if (IS("ETag")) {
        m->bad_etag |= !vitc_hub_etag_normalize(value, m->etag, sizeof m->etag);
    } else if (IS("X-Linked-Etag")) {
        m->bad_etag |= !vitc_hub_etag_normalize(value, m->linked_etag, sizeof m->linked_etag);
    } else if (IS("Content-Length")) {
        m->has_size = parse_u64(value, &m->size);
    } else if (IS("X-Linked-Size")) {
        m->has_linked_size = parse_u64(value, &m->linked_size);
    } else if (IS("Content-Range")) {
        m->has_range = strncmp(value, "bytes ", 6) == 0 && parse_u64(value + 6, &m->range_start);
    } else if (IS("X-Error-Code")) {
        copy_value(m->error_code, sizeof m->error_code, v, vlen);
    } else if (IS("Location") && vlen < HUB_LOCATION_MAX) {
        vitc_mem_free(m->location);
        m->location = vitc_mem_alloc(vlen + 1);
        if (!m->location) {
            return 0; /* aborts the transfer: CURLE_WRITE_ERROR */
        }
        copy_value(m->location, vlen + 1, v, vlen);
    }
#undef IS
    return n;
}

/* ---- URLs ---- */

/* endpoint/REPO/resolve/REV/FILE with REV percent-encoded like Python's quote(rev, safe=""). */
static char *file_url(const job *j, const char *revision, const char *filename)
{
    size_t n =
        strlen(j->endpoint) + strlen(j->repo_id) + 3 * strlen(revision) + strlen(filename) + 16;
    char *url = vitc_mem_alloc(n);
    if (!url) {
        vitc_error(VITC_ERR_NOMEM, "%s: out of memory", j->repo_id);
        return NULL;
    }
    int k = snprintf(url, n, "%s/%s/resolve/", j->endpoint, j->repo_id);
    for (const char *c = revision; *c; c++) {
        unsigned char u = (unsigned char)*c;
        if ((u >= 'a' && u <= 'z') || (u >= 'A' && u <= 'Z') || (u >= '0' && u <= '9') ||
            strchr("_.-~", u)) {
            url[k++] = (char)u;
        } else {
            k += snprintf(url + k, 4, "%%%02X", u);
        }
    }
    snprintf(url + k, n - (size_t)k, "/%s", filename);
    return url;
}

/* base resolved against a (maybe relative) Location, as a new string; NULL on failure. */
static char *resolve_url(const char *base, const char *location)
{
    CURLU *u = curl_url();
    char *out = NULL, *copy = NULL;
    if (u && curl_url_set(u, CURLUPART_URL, base, 0) == CURLUE_OK &&
        curl_url_set(u, CURLUPART_URL, location, 0) == CURLUE_OK &&
        curl_url_get(u, CURLUPART_URL, &out, 0) == CURLUE_OK) {
        copy = vitc_mem_strdup(out);
    }
    curl_free(out);
    curl_url_cleanup(u);
    return copy;
}

/* Same scheme, host and port: the token may go there. */
static bool same_origin(const char *a, const char *b)
{
    static const CURLUPart parts[] = {CURLUPART_SCHEME, CURLUPART_HOST, CURLUPART_PORT};
    CURLU *ua = curl_url(), *ub = curl_url();
    bool same = ua && ub && curl_url_set(ua, CURLUPART_URL, a, 0) == CURLUE_OK &&
                curl_url_set(ub, CURLUPART_URL, b, 0) == CURLUE_OK;
    for (size_t i = 0; same && i < sizeof parts / sizeof parts[0]; i++) {
        char *pa = NULL, *pb = NULL;
        same = curl_url_get(ua, parts[i], &pa, CURLU_DEFAULT_PORT) == CURLUE_OK &&
               curl_url_get(ub, parts[i], &pb, CURLU_DEFAULT_PORT) == CURLUE_OK &&
               strcasecmp(pa, pb) == 0;
        curl_free(pa);
        curl_free(pb);
    }
    curl_url_cleanup(ua);
    curl_url_cleanup(ub);
    return same;
}

/* ---- requests ---- */

/* A configured handle for url with the job's headers; extra is one more header or NULL. */
static vitc_status easy_new(const job *j, const char *url, const char *extra, meta *m, char *errbuf,
                            CURL **h_out, struct curl_slist **hdr_out)
{
    CURL *h = curl_easy_init();
    struct curl_slist *hdr = NULL, *t = NULL;
    char auth[1024];
    if (!h) {
        return vitc_error(VITC_ERR_NOMEM, "%s: cannot create a libcurl handle", url);
    }
    bool ok = true;
    if (j->params->token && same_origin(url, j->endpoint)) {
        snprintf(auth, sizeof auth, "Authorization: Bearer %s", j->params->token);
        ok = (t = curl_slist_append(hdr, auth)) != NULL;
        hdr = t ? t : hdr;
    }
    if (ok && extra) {
        ok = (t = curl_slist_append(hdr, extra)) != NULL;
        hdr = t ? t : hdr;
    }
    char agent[64];
    snprintf(agent, sizeof agent, "vitc/%s", vitc_version());
    errbuf[0] = '\0';
    curl_easy_setopt(h, CURLOPT_URL, url);
    curl_easy_setopt(h, CURLOPT_ERRORBUFFER, errbuf);
    curl_easy_setopt(h, CURLOPT_USERAGENT, agent);
    curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(h, CURLOPT_PROTOCOLS_STR, "http,https");
    curl_easy_setopt(h, CURLOPT_REDIR_PROTOCOLS_STR, "http,https");
    curl_easy_setopt(h, CURLOPT_CONNECTTIMEOUT, 30L);
    /* A stalled transfer (under 1 byte/s for a minute) fails instead of hanging. */
    curl_easy_setopt(h, CURLOPT_LOW_SPEED_LIMIT, 1L);
    curl_easy_setopt(h, CURLOPT_LOW_SPEED_TIME, 60L);
    curl_easy_setopt(h, CURLOPT_HTTPHEADER, hdr);
    curl_easy_setopt(h, CURLOPT_HEADERFUNCTION, on_header);
    curl_easy_setopt(h, CURLOPT_HEADERDATA, m);
    if (!ok) {
        curl_slist_free_all(hdr);
        curl_easy_cleanup(h);
        return vitc_error(VITC_ERR_NOMEM, "%s: out of memory", url);
    }
    *h_out = h;
    *hdr_out = hdr;
    return VITC_OK;
}

static vitc_status curl_failed(const char *url, CURLcode rc, const char *errbuf)
{
    return vitc_error(VITC_ERR_IO, "%s: %s", url, errbuf[0] ? errbuf : curl_easy_strerror(rc));
}

/* The message for an HTTP error status on repo_id's file. */
static vitc_status http_failed(const job *j, const char *filename, long status, const meta *m)
{
    const char *rev = j->revision;
    if (status == 401 || status == 403) {
        return vitc_error(VITC_ERR_IO,
                          "%s: access denied (HTTP %ld): the repository is gated, private or "
                          "does not exist; %s",
                          j->repo_id, status,
                          j->params->token ? "the token in HF_TOKEN has no access to it"
                                           : "set HF_TOKEN to a token with access");
    }
    if (status == 404) {
        if (strcmp(m->error_code, "RepoNotFound") == 0) {
            return vitc_error(VITC_ERR_IO, "%s: no such repository (HTTP 404)", j->repo_id);
        }
        if (strcmp(m->error_code, "RevisionNotFound") == 0) {
            return vitc_error(VITC_ERR_IO, "%s: no such revision '%s' (HTTP 404)", j->repo_id, rev);
        }
        if (strcmp(m->error_code, "EntryNotFound") == 0) {
            return vitc_error(VITC_ERR_IO, "%s: no file %s at revision '%s' (HTTP 404)", j->repo_id,
                              filename, rev);
        }
        return vitc_error(VITC_ERR_IO,
                          "%s: %s not found (HTTP 404): no such repository, revision '%s' or file",
                          j->repo_id, filename, rev);
    }
    return vitc_error(VITC_ERR_IO, "%s: %s: HTTP %ld", j->repo_id, filename, status);
}

/* HEAD url, following only relative redirects (as huggingface_hub does), so an LFS file's
 * metadata comes from the hub's own 302 and not from the CDN. On VITC_OK *m holds the last
 * response; its status may still be an HTTP error for the caller to judge. */
static vitc_status head(const job *j, const char *url, meta *m)
{
    char errbuf[CURL_ERROR_SIZE];
    char *cur = vitc_mem_strdup(url);
    vitc_status st = cur ? VITC_OK : vitc_error(VITC_ERR_NOMEM, "%s: out of memory", url);
    for (int hop = 0; st == VITC_OK; hop++) {
        CURL *h = NULL;
        struct curl_slist *hdr = NULL;
        meta_reset(m);
        if ((st = easy_new(j, cur, "Accept-Encoding: identity", m, errbuf, &h, &hdr)) != VITC_OK) {
            break;
        }
        curl_easy_setopt(h, CURLOPT_NOBODY, 1L);
        CURLcode rc = curl_easy_perform(h);
        curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &m->status);
        curl_easy_cleanup(h);
        curl_slist_free_all(hdr);
        if (rc != CURLE_OK) {
            st = curl_failed(cur, rc, errbuf);
            break;
        }
        bool relative = m->location && m->location[0] == '/' && m->location[1] != '/';
        if (m->status < 300 || m->status >= 400 || !relative) {
            break;
        }
        if (hop == HUB_MAX_REDIRECTS) {
            st = vitc_error(VITC_ERR_IO, "%s: too many redirects", url);
            break;
        }
        char *next = resolve_url(cur, m->location);
        vitc_mem_free(cur);
        cur = next;
        if (!cur) {
            st = vitc_error(VITC_ERR_FORMAT, "%s: bad redirect", url);
        }
    }
    vitc_mem_free(cur);
    return st;
}

/* ---- downloading a blob ---- */

typedef struct transfer {
    CURL *h;
    int fd;
    uint64_t offset;  /* bytes already in the file when this attempt started */
    uint64_t written; /* bytes written by this attempt */
    uint64_t total;
    long status; /* of the response whose body arrives */
    bool discard;
    int write_errno;
    const meta *m;
    const char *filename;
    const vitc_hub_params *params;
} transfer;

static size_t on_body(char *data, size_t size, size_t count, void *user)
{
    transfer *t = user;
    size_t n = size * count;
    if (t->status == 0) {
        curl_easy_getinfo(t->h, CURLINFO_RESPONSE_CODE, &t->status);
        if (t->status == 206 && (!t->m->has_range || t->m->range_start != t->offset)) {
            t->write_errno = ERANGE; /* a range we did not ask for: start over */
            return 0;
        }
        if (t->status == 200 && t->offset > 0) {
            /* The server ignored the Range: the body is the whole file. */
            if (ftruncate(t->fd, 0) != 0) {
                t->write_errno = errno;
                return 0;
            }
            t->offset = 0;
        }
        t->discard = t->status != 200 && t->status != 206;
    }
    if (t->discard) {
        return n;
    }
    for (size_t done = 0; done < n;) {
        ssize_t w = write(t->fd, data + done, n - done);
        if (w < 0 && errno == EINTR) {
            continue;
        }
        if (w <= 0) {
            t->write_errno = w < 0 ? errno : EIO;
            return 0;
        }
        done += (size_t)w;
    }
    t->written += n;
    return n;
}

static int on_progress(void *user, curl_off_t dltotal, curl_off_t dlnow, curl_off_t ultotal,
                       curl_off_t ulnow)
{
    transfer *t = user;
    if (t->params->progress && !t->discard && t->status != 0) {
        t->params->progress(t->filename, t->offset + (uint64_t)dlnow, t->total,
                            t->params->progress_user);
    }
    return 0;
}

static bool transient(CURLcode rc)
{
    return rc == CURLE_PARTIAL_FILE || rc == CURLE_RECV_ERROR || rc == CURLE_SEND_ERROR ||
           rc == CURLE_OPERATION_TIMEDOUT || rc == CURLE_GOT_NOTHING || rc == CURLE_HTTP2_STREAM ||
           rc == CURLE_HTTP2;
}

static uint64_t file_size(const char *path)
{
    struct stat sb;
    return stat(path, &sb) == 0 ? (uint64_t)sb.st_size : 0;
}

/* One GET of url appended to part (resuming from its current size). */
static vitc_status get_once(const job *j, const char *url, const char *part, const char *filename,
                            uint64_t total, transfer *t, CURLcode *rc)
{
    char errbuf[CURL_ERROR_SIZE], range[64];
    meta resp = {0};
    CURL *h = NULL;
    struct curl_slist *hdr = NULL;
    *t =
        (transfer){.fd = -1, .total = total, .m = &resp, .filename = filename, .params = j->params};
    t->offset = file_size(part);
    snprintf(range, sizeof range, "Range: bytes=%" PRIu64 "-", t->offset);
    vitc_status st = easy_new(j, url, t->offset > 0 ? range : NULL, &resp, errbuf, &h, &hdr);
    if (st != VITC_OK) {
        return st;
    }
    t->h = h;
    t->fd = open(part, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
    if (t->fd < 0) {
        st = vitc_error(VITC_ERR_IO, "%s: cannot create: %s", part, strerror(errno));
        goto done;
    }
    curl_easy_setopt(h, CURLOPT_FOLLOWLOCATION, 1L);
    curl_easy_setopt(h, CURLOPT_MAXREDIRS, (long)HUB_MAX_REDIRECTS);
    curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, on_body);
    curl_easy_setopt(h, CURLOPT_WRITEDATA, t);
    curl_easy_setopt(h, CURLOPT_NOPROGRESS, 0L);
    curl_easy_setopt(h, CURLOPT_XFERINFOFUNCTION, on_progress);
    curl_easy_setopt(h, CURLOPT_XFERINFODATA, t);
    *rc = curl_easy_perform(h);
    if (t->status == 0) {
        curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &t->status);
    }
    if (t->write_errno == ERANGE) {
        if (ftruncate(t->fd, 0) != 0) {
            st = vitc_error(VITC_ERR_IO, "%s: cannot truncate: %s", part, strerror(errno));
        }
    } else if (t->write_errno) {
        st = vitc_error(VITC_ERR_IO, "%s: cannot write: %s", part, strerror(t->write_errno));
    } else if (*rc == CURLE_OK && t->status >= 400 && t->status != 416) {
        st = http_failed(j, filename, t->status, &resp);
    } else if (*rc != CURLE_OK && !transient(*rc)) {
        st = curl_failed(url, *rc, errbuf);
    }
    if (*rc != CURLE_OK && st == VITC_OK) {
        /* Kept for the caller's retry or for the final message. */
        vitc_error(VITC_ERR_IO, "%s: %s", url, errbuf[0] ? errbuf : curl_easy_strerror(*rc));
    }
    if (t->fd >= 0 && close(t->fd) != 0 && st == VITC_OK) {
        st = vitc_error(VITC_ERR_IO, "%s: cannot write: %s", part, strerror(errno));
    }
    t->fd = -1;

done:
    if (t->fd >= 0) {
        close(t->fd);
    }
    meta_reset(&resp);
    curl_slist_free_all(hdr);
    curl_easy_cleanup(h);
    return st;
}

/* Downloads url into blob via blob.incomplete: resumes, retries a dropped connection that
 * made progress, checks the size and (for LFS files) the sha256, renames into place. */
static vitc_status download_blob(const job *j, const char *url, const char *blob,
                                 const char *filename, const char *etag, bool has_size,
                                 uint64_t size)
{
    char *part = vitc_mem_alloc(strlen(blob) + sizeof ".incomplete");
    if (!part) {
        return vitc_error(VITC_ERR_NOMEM, "%s: out of memory", blob);
    }
    strcpy(part, blob);
    strcat(part, ".incomplete");
    vitc_status st = VITC_OK;
    for (int attempt = 1;; attempt++) {
        uint64_t have = file_size(part);
        if (has_size && have == size) {
            break; /* complete from an earlier run: verify below */
        }
        if (has_size && have > size && truncate(part, 0) != 0) {
            st = vitc_error(VITC_ERR_IO, "%s: cannot truncate: %s", part, strerror(errno));
            goto done;
        }
        transfer t;
        CURLcode rc = CURLE_OK;
        if ((st = get_once(j, url, part, filename, has_size ? size : 0, &t, &rc)) != VITC_OK) {
            goto done;
        }
        bool range_retry = t.write_errno == ERANGE || (rc == CURLE_OK && t.status == 416);
        if (rc == CURLE_OK && !range_retry) {
            break;
        }
        if (range_retry) {
            if (truncate(part, 0) != 0 || attempt >= 2) {
                st = vitc_error(VITC_ERR_IO, "%s: the server does not resume downloads", url);
                goto done;
            }
            continue;
        }
        if (t.written == 0 || attempt >= HUB_MAX_ATTEMPTS) {
            /* The message set by get_once stands; the partial file stays for the next run. */
            st = VITC_ERR_IO;
            goto done;
        }
    }
    uint64_t got = file_size(part);
    if (has_size && got != size) {
        unlink(part);
        st = vitc_error(VITC_ERR_IO,
                        "%s: %s: size mismatch: got %" PRIu64 " bytes, expected %" PRIu64
                        "; the download was deleted, run again",
                        j->repo_id, filename, got, size);
        goto done;
    }
    if (vitc_hub_is_sha256(etag)) {
        char hex[65];
        if ((st = vitc_sha256_file(part, hex)) != VITC_OK) {
            goto done;
        }
        if (strcmp(hex, etag) != 0) {
            unlink(part);
            st = vitc_error(VITC_ERR_IO,
                            "%s: %s: sha256 mismatch: got %s, expected %s; the download was "
                            "deleted, run again",
                            j->repo_id, filename, hex, etag);
            goto done;
        }
    }
    if (rename(part, blob) != 0) {
        st = vitc_error(VITC_ERR_IO, "%s: cannot rename into place: %s", blob, strerror(errno));
    }

done:
    vitc_mem_free(part);
    return st;
}

/* ---- one file of the pull ---- */

/* Fetches filename into the cache and links it into the snapshot. An optional file the hub
 * does not have is recorded under .no_exist and is not an error. */
static bool blob_ready(const char *blob, bool has_size, uint64_t size)
{
    struct stat sb;
    return stat(blob, &sb) == 0 && S_ISREG(sb.st_mode) &&
           (!has_size || (uint64_t)sb.st_size == size);
}

static vitc_status fetch_file(job *j, const char *filename, bool optional)
{
    meta m = {0};
    int lock = -1;
    char *url = file_url(j, j->commit[0] ? j->commit : j->revision, filename);
    char *get_url = NULL, *blob = NULL;
    vitc_status st = url ? head(j, url, &m) : VITC_ERR_NOMEM;
    if (st != VITC_OK) {
        goto done;
    }
    bool file_missing = m.status == 404 && strcmp(m.error_code, "RepoNotFound") != 0 &&
                        strcmp(m.error_code, "RevisionNotFound") != 0;
    if (optional && file_missing) {
        const char *commit = j->commit[0] ? j->commit : m.commit;
        if (vitc_hub_is_commit_hash(commit)) {
            st = vitc_hub_mark_missing(j->repo_dir, commit, filename);
        }
        goto done;
    }
    if (m.status >= 400 || m.status < 200) {
        st = http_failed(j, filename, m.status, &m);
        goto done;
    }
    const char *etag = m.linked_etag[0] ? m.linked_etag : m.etag;
    if (!vitc_hub_is_commit_hash(m.commit)) {
        st = vitc_error(VITC_ERR_FORMAT,
                        "%s: no commit hash in the X-Repo-Commit header: not a Hugging Face hub "
                        "endpoint?",
                        url);
        goto done;
    }
    if (m.bad_etag || !etag[0]) {
        st = vitc_error(VITC_ERR_FORMAT, "%s: missing or malformed ETag header", url);
        goto done;
    }
    if (j->commit[0] && strcmp(j->commit, m.commit) != 0) {
        st = vitc_error(VITC_ERR_FORMAT, "%s: answered for commit %s, expected %s", url, m.commit,
                        j->commit);
        goto done;
    }
    memcpy(j->commit, m.commit, sizeof j->commit);
    bool has_size = m.has_linked_size || m.has_size;
    uint64_t size = m.has_linked_size ? m.linked_size : m.size;

    char sub[VITC_HUB_TAG_MAX + 8];
    snprintf(sub, sizeof sub, "/blobs/%s", etag);
    blob = vitc_path_join(j->repo_dir, sub + 1);
    if (!blob) {
        st = VITC_ERR_NOMEM;
        goto done;
    }
    if (!blob_ready(blob, has_size, size)) {
        get_url =
            m.status >= 300 && m.location ? resolve_url(url, m.location) : vitc_mem_strdup(url);
        if (!get_url) {
            st = vitc_error(VITC_ERR_FORMAT, "%s: bad redirect", url);
            goto done;
        }
        char *blobs_dir = vitc_path_join(j->repo_dir, "blobs");
        st = blobs_dir ? vitc_hub_mkdirs(blobs_dir) : VITC_ERR_NOMEM;
        vitc_mem_free(blobs_dir);
        if (st != VITC_OK ||
            (st = vitc_hub_lock_blob(j->root, j->repo_id, etag, &lock)) != VITC_OK) {
            goto done;
        }
        /* Another program may have fetched it while this one waited for the lock. */
        if (!blob_ready(blob, has_size, size) &&
            (st = download_blob(j, get_url, blob, filename, etag, has_size, size)) != VITC_OK) {
            goto done;
        }
    }
    if (j->params->progress) {
        uint64_t n = file_size(blob);
        j->params->progress(filename, n, n, j->params->progress_user);
    }
    st = vitc_hub_link_snapshot(j->repo_dir, j->commit, filename, etag);

done:
    if (lock >= 0) {
        close(lock);
    }
    meta_reset(&m);
    vitc_mem_free(url);
    vitc_mem_free(get_url);
    vitc_mem_free(blob);
    return st;
}

/* ---- public entry points ---- */

static vitc_status check_args(const char *repo_id, const vitc_hub_params *p, const char *rev)
{
    if (!vitc_hub_repo_id_valid(repo_id)) {
        return vitc_error(VITC_ERR_INVALID_ARG, "%s: not a hub repo id (expected ORG/NAME)",
                          repo_id);
    }
    if (!vitc_hub_revision_valid(rev)) {
        return vitc_error(VITC_ERR_INVALID_ARG, "%s: bad revision '%s'", repo_id, rev);
    }
    if (p->token && (strpbrk(p->token, "\r\n") || strlen(p->token) > HUB_TOKEN_MAX)) {
        return vitc_error(VITC_ERR_INVALID_ARG, "HF_TOKEN: a line break or over %d characters",
                          HUB_TOKEN_MAX);
    }
    return VITC_OK;
}

vitc_status vitc_hub_download(const char *repo_id, const vitc_hub_params *params, char **dir_out)
{
    static const struct {
        const char *name;
        bool optional;
    } files[] = {
        {"config.json", false}, {"preprocessor_config.json", true}, {"model.safetensors", false}};
    vitc_hub_params defaults = vitc_hub_default_params();
    const vitc_hub_params *p = params ? params : &defaults;
    job j = {.repo_id = repo_id, .params = p, .revision = p->revision ? p->revision : "main"};
    char *root = NULL, *snap = NULL;
    vitc_status st = repo_id ? check_args(repo_id, p, j.revision)
                             : vitc_error(VITC_ERR_INVALID_ARG, "hub: no repo id");
    if (st != VITC_OK) {
        return st;
    }
    if (p->offline) {
        return vitc_error(VITC_ERR_IO, "%s: cannot download: HF_HUB_OFFLINE is set", repo_id);
    }
    if ((st = ensure_curl()) != VITC_OK || (st = vitc_hub_cache_root(p, &root)) != VITC_OK) {
        goto done;
    }
    j.endpoint = vitc_mem_strdup(p->endpoint && *p->endpoint ? p->endpoint : HUB_DEFAULT_ENDPOINT);
    j.root = root;
    j.repo_dir = vitc_hub_repo_dir(root, repo_id);
    if (!j.endpoint || !j.repo_dir) {
        st = vitc_error(VITC_ERR_NOMEM, "%s: out of memory", repo_id);
        goto done;
    }
    for (size_t n = strlen(j.endpoint); n > 0 && j.endpoint[n - 1] == '/'; n--) {
        j.endpoint[n - 1] = '\0';
    }
    /* The first file pins the commit; the others are fetched at that commit, so a push
     * during the pull cannot mix two versions. */
    for (size_t i = 0; i < sizeof files / sizeof files[0]; i++) {
        if ((st = fetch_file(&j, files[i].name, files[i].optional)) != VITC_OK) {
            goto done;
        }
    }
    if (strcmp(j.revision, j.commit) != 0 &&
        (st = vitc_hub_write_ref(j.repo_dir, j.revision, j.commit)) != VITC_OK) {
        goto done;
    }
    char sub[VITC_HUB_TAG_MAX + 16];
    snprintf(sub, sizeof sub, "snapshots/%s", j.commit);
    if (!(snap = vitc_path_join(j.repo_dir, sub))) {
        st = VITC_ERR_NOMEM;
        goto done;
    }
    *dir_out = snap;

done:
    vitc_mem_free(root);
    vitc_mem_free(j.endpoint);
    vitc_mem_free(j.repo_dir);
    return st;
}

vitc_status vitc_hub_resolve(const char *model, const vitc_hub_params *params, char **dir_out)
{
    vitc_hub_params defaults = vitc_hub_default_params();
    const vitc_hub_params *p = params ? params : &defaults;
    const char *rev = p->revision ? p->revision : "main";
    char *root = NULL, *repo_dir = NULL, *dir = NULL;
    struct stat sb;
    if (!model || !dir_out) {
        return vitc_error(VITC_ERR_INVALID_ARG, "vitc_hub_resolve: NULL argument");
    }
    /* Local paths win, as in transformers' from_pretrained. */
    if (stat(model, &sb) == 0 || !vitc_hub_repo_id_valid(model)) {
        if (!(dir = vitc_mem_strdup(model))) {
            return vitc_error(VITC_ERR_NOMEM, "%s: out of memory", model);
        }
        *dir_out = dir;
        return VITC_OK;
    }
    vitc_status st = check_args(model, p, rev);
    if (st != VITC_OK || (st = vitc_hub_cache_root(p, &root)) != VITC_OK) {
        goto done;
    }
    if (!(repo_dir = vitc_hub_repo_dir(root, model))) {
        st = VITC_ERR_NOMEM;
        goto done;
    }
    /* A snapshot left without preprocessor_config.json (say, by a program that fetched only
     * the weights) is completed when online, since its preprocessing may differ from the
     * defaults; offline it is used as it is. */
    bool complete = false;
    vitc_status found = vitc_hub_cache_lookup(repo_dir, rev, &dir, &complete);
    if (found == VITC_ERR_NOMEM || (found == VITC_OK && (complete || p->offline))) {
        if (found == VITC_OK) {
            *dir_out = dir;
        }
        st = found;
        goto done;
    }
    vitc_mem_free(dir);
    dir = NULL;
    if (p->offline) {
        st = vitc_error(VITC_ERR_IO,
                        "%s: not in the hub cache %s (revision '%s') and HF_HUB_OFFLINE is set; "
                        "download it once with network access",
                        model, root, rev);
        goto done;
    }
    st = vitc_hub_download(model, p, dir_out);

done:
    vitc_mem_free(root);
    vitc_mem_free(repo_dir);
    return st;
}
