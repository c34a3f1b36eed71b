/* SPDX-License-Identifier: MIT
 *
 * sha256.h — SHA-256 (FIPS 180-4), incremental, to check hub downloads
 * against their LFS etag. Not a general crypto library: no HMAC, no
 * constant-time claims. Leaf module.
 */
#ifndef VITC_SHA256_H
#define VITC_SHA256_H

#include <stddef.h>
#include <stdint.h>

#include "vitc.h"

typedef struct vitc_sha256 {
    uint32_t state[8];
    uint64_t n_bytes;
    uint8_t block[64];
    size_t n_block; /* bytes waiting in block */
} vitc_sha256;

void vitc_sha256_init(vitc_sha256 *s);
void vitc_sha256_update(vitc_sha256 *s, const void *data, size_t n);
/* Writes the digest as 64 lowercase hex digits and a NUL into hex[65]. */
void vitc_sha256_final_hex(vitc_sha256 *s, char hex[65]);

/* The SHA-256 of a whole file, as above. VITC_ERR_IO (message set) when unreadable. */
vitc_status vitc_sha256_file(const char *path, char hex[65]);

#endif /* VITC_SHA256_H */
