/* SPDX-License-Identifier: MIT
 *
 * hub.h — internals of the Hugging Face hub client: repo-id and revision
 * rules, etag normalisation, and the on-disk cache layout shared with
 * huggingface_hub (hub/cache.c). The HTTP side lives in hub.c.
 * Library layer; never prints.
 */
#ifndef VITC_HUB_H
#define VITC_HUB_H

#include <stdbool.h>
#include <stddef.h>

#include "vitc.h"

/* Longest repo id the hub accepts (huggingface_hub's validate_repo_id). */
#define VITC_HUB_REPO_ID_MAX 96
/* Etags and commit hashes are hex digests; anything longer is refused. */
#define VITC_HUB_TAG_MAX 128

/* "ORG/NAME": two parts of [A-Za-z0-9_.-], neither starting or ending with '.'
 * or '-', no "--" or "..", not ending in ".git", at most 96 characters. */
bool vitc_hub_repo_id_valid(const char *repo_id);

/* A branch, tag, "refs/pr/N" or commit: printable, no "..", no leading or
 * trailing '/', no "//", no backslash, at most 255 characters. Also safe as
 * the path refs/REVISION. */
bool vitc_hub_revision_valid(const char *revision);

/* 40 lowercase hex digits (a git commit or blob sha1). */
bool vitc_hub_is_commit_hash(const char *s);

/* 64 lowercase hex digits (the sha256 the hub gives LFS files as etag). */
bool vitc_hub_is_sha256(const char *s);

/* Normalises an ETag header value as huggingface_hub does (drops a weak "W/"
 * and the quotes) into out[n]; false unless the result is 1..128 characters
 * of [A-Za-z0-9_-], so it is safe as a file name under blobs/. */
bool vitc_hub_etag_normalize(const char *raw, char *out, size_t n);

/* The cache root for p (p->cache_dir, else the environment rule documented on
 * vitc_hub_default_params). Free *out with vitc_mem_free. */
vitc_status vitc_hub_cache_root(const vitc_hub_params *p, char **out);

/* root/models--ORG--NAME. Free with vitc_mem_free; NULL on OOM (message set). */
char *vitc_hub_repo_dir(const char *root, const char *repo_id);

/* The snapshot directory of revision in repo_dir when it holds config.json and
 * model.safetensors (a revision that is a commit hash is used directly, else
 * refs/REVISION names the commit). VITC_ERR_IO with a message when absent.
 * *complete (may be NULL) tells whether preprocessor_config.json is there or
 * known not to exist (.no_exist), i.e. whether a download could add nothing. */
vitc_status vitc_hub_cache_lookup(const char *repo_dir, const char *revision, char **dir_out,
                                  bool *complete);

/* mkdir -p with mode 0755. */
vitc_status vitc_hub_mkdirs(const char *path);

/* Writes refs/REVISION = commit (atomically, via a temporary file). */
vitc_status vitc_hub_write_ref(const char *repo_dir, const char *revision, const char *commit);

/* snapshots/COMMIT/FILENAME -> ../../blobs/ETAG, replacing an older link. */
vitc_status vitc_hub_link_snapshot(const char *repo_dir, const char *commit, const char *filename,
                                   const char *etag);

/* Takes huggingface_hub's lock for a blob: flock(LOCK_EX) on
 * ROOT/.locks/models--ORG--NAME/ETAG.lock (what its filelock uses on POSIX), so
 * two programs fetching the same file, vitc or Python, take turns. Waits for
 * the lock; *fd_out is then released by close(). */
vitc_status vitc_hub_lock_blob(const char *root, const char *repo_id, const char *etag,
                               int *fd_out);

/* Records that FILENAME does not exist at COMMIT: an empty
 * .no_exist/COMMIT/FILENAME, as huggingface_hub leaves it. */
vitc_status vitc_hub_mark_missing(const char *repo_dir, const char *commit, const char *filename);

#endif /* VITC_HUB_H */
