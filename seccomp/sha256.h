/* seccomp/sha256.h: SHA-256 (FIPS 180-4) for the filter cache's keys.
 * In-tree because libcrypto's EVP digests cost ~4 MiB of peak RSS per
 * process (OpenSSL 3 provider initialisation) on the hot `husk run` path;
 * the unit tests check it against libcrypto's EVP_sha256. */
#ifndef HUSK_SECCOMP_SHA256_H
#define HUSK_SECCOMP_SHA256_H

#include <stddef.h>
#include <stdint.h>

#define SHA256_LEN 32

struct sha256 {
        uint32_t h[8];
        uint64_t total;        /* bytes hashed so far */
        unsigned char buf[64];
        size_t fill;           /* bytes waiting in buf */
};

void sha256_init(struct sha256 *c);
void sha256_update(struct sha256 *c, const void *data, size_t len);
void sha256_final(struct sha256 *c, unsigned char out[SHA256_LEN]);

/* One-shot digest of a buffer. */
void sha256(const void *data, size_t len, unsigned char out[SHA256_LEN]);

#endif
