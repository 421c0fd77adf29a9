/* images/digest.c: sha256 digests and verified blob storage. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <openssl/evp.h>

#include "../common/cleanup.h"
#include "../common/fileutil.h"
#include "internal.h"

const char *digest_hex(const char *digest)
{
        if (!digest || strncmp(digest, "sha256:", 7) != 0)
                return NULL;
        const char *h = digest + 7;
        size_t n = 0;
        for (; h[n]; n++)
                if (!((h[n] >= '0' && h[n] <= '9') || (h[n] >= 'a' && h[n] <= 'f')))
                        return NULL;
        return n == DIGEST_HEX_LEN ? h : NULL;
}

static void to_hex(const unsigned char *md, char out[DIGEST_HEX_LEN + 1])
{
        for (int i = 0; i < 32; i++)
                sprintf(out + 2 * i, "%02x", md[i]);
}

int sha256_hex_mem(const void *buf, size_t len, char out[DIGEST_HEX_LEN + 1])
{
        unsigned char md[EVP_MAX_MD_SIZE];
        unsigned int mdlen = 0;
        if (!EVP_Digest(buf, len, md, &mdlen, EVP_sha256(), NULL))
                return -1;
        to_hex(md, out);
        return 0;
}

int blob_path(const char *storage, const char *digest, char **path, herr_t *err)
{
        const char *hex = digest_hex(digest);
        if (!hex)
                return herr_plain(err, EINVAL, "invalid digest \"%s\"", digest ? digest : "");
        if (asprintf(path, "%s/blobs/sha256/%s", storage, hex) < 0)
                return herr_set(err, ENOMEM, "blob path");
        return 0;
}

int blob_read(const char *storage, const char *digest, size_t max, char **out, size_t *len,
              herr_t *err)
{
        _cleanup_free_ char *p = NULL;
        if (blob_path(storage, digest, &p, err) < 0)
                return -1;
        if (read_file(p, max, out, len, err) < 0)
                return herr_prefix(err, "blob %s", digest);
        return 0;
}

static void evp_freep(EVP_MD_CTX **c)
{
        if (*c)
                EVP_MD_CTX_free(*c);
}

/* Copy src into tmp_fd, hashing; checks the size limit as it goes. */
static int copy_hash(int src, int dst, const char *label, int64_t expect_size,
                     const struct image_import_opts *opts, char hex[DIGEST_HEX_LEN + 1],
                     int64_t *total, herr_t *err)
{
        __attribute__((cleanup(evp_freep))) EVP_MD_CTX *ctx = EVP_MD_CTX_new();
        if (!ctx || !EVP_DigestInit_ex(ctx, EVP_sha256(), NULL))
                return herr_set(err, ENOMEM, "sha256");
        _cleanup_free_ char *buf = malloc(1 << 16);
        if (!buf)
                return herr_set(err, ENOMEM, "blob");
        int64_t n = 0, last = 0;
        for (;;) {
                ssize_t r = read(src, buf, 1 << 16);
                if (r < 0 && errno == EINTR)
                        continue;
                if (r < 0)
                        return herr_sys(err, "blob %s: read", label);
                if (r == 0)
                        break;
                n += r;
                if (expect_size >= 0 && n > expect_size)
                        return herr_set(err, 0, "blob %s: size mismatch: larger than %lld bytes",
                                        label, (long long)expect_size);
                EVP_DigestUpdate(ctx, buf, (size_t)r);
                if (write_all(dst, buf, (size_t)r) < 0)
                        return herr_sys(err, "blob %s: write", label);
                if (opts && opts->progress && (n - last >= (4 << 20))) {
                        opts->progress(label, (uint64_t)n, (uint64_t)(expect_size > 0 ? expect_size : n),
                                       opts->progress_data);
                        last = n;
                }
        }
        if (opts && opts->progress && last && last != n)
                opts->progress(label, (uint64_t)n, (uint64_t)n, opts->progress_data);
        unsigned char md[EVP_MAX_MD_SIZE];
        unsigned int mdlen = 0;
        EVP_DigestFinal_ex(ctx, md, &mdlen);
        to_hex(md, hex);
        *total = n;
        return 0;
}

static int store_tmp(int tfd, const char *named, const char *dir, int src_fd, const char *label,
                     const char *expect_digest, int64_t expect_size,
                     const struct image_import_opts *opts, char **out_digest, herr_t *err);

int blob_store_fd(const char *storage, int src_fd, const char *expect_digest, int64_t expect_size,
                  const struct image_import_opts *opts, char **out_digest, herr_t *err)
{
        const char *label = expect_digest ? expect_digest : "(new)";
        if (expect_digest && !digest_hex(expect_digest))
                return herr_plain(err, EINVAL, "blob \"%s\": unsupported or invalid digest",
                                expect_digest);
        _cleanup_free_ char *dir = NULL;
        if (asprintf(&dir, "%s/blobs/sha256", storage) < 0)
                return herr_set(err, ENOMEM, "blob");
        _cleanup_free_ char *named = NULL; /* fallback without O_TMPFILE */
        _cleanup_close_ int tfd = open(dir, O_TMPFILE | O_WRONLY | O_CLOEXEC, 0644);
        if (tfd < 0 && (errno == EOPNOTSUPP || errno == EISDIR || errno == EINVAL)) {
                if (asprintf(&named, "%s/.tmp-XXXXXX", dir) < 0)
                        return herr_set(err, ENOMEM, "blob");
                tfd = mkostemp(named, O_CLOEXEC);
        }
        if (tfd < 0)
                return herr_sys(err, "%s: temporary file", dir);
        int rc = store_tmp(tfd, named, dir, src_fd, label, expect_digest, expect_size, opts,
                           out_digest, err);
        if (rc < 0 && named)
                unlink(named);
        return rc;
}

static int store_tmp(int tfd, const char *named, const char *dir, int src_fd, const char *label,
                     const char *expect_digest, int64_t expect_size,
                     const struct image_import_opts *opts, char **out_digest, herr_t *err)
{
        char hex[DIGEST_HEX_LEN + 1];
        int64_t total = 0;
        if (copy_hash(src_fd, tfd, label, expect_size, opts, hex, &total, err) < 0)
                return -1;
        if (expect_size >= 0 && total != expect_size)
                return herr_set(err, 0, "blob %s: size mismatch: %lld bytes, descriptor says %lld",
                                label, (long long)total, (long long)expect_size);
        if (expect_digest && strcmp(hex, expect_digest + 7) != 0)
                return herr_set(err, 0, "blob %s: digest mismatch (content is sha256:%.12s…)",
                                expect_digest, hex);
        if (fsync(tfd) < 0)
                return herr_sys(err, "blob sha256:%s: fsync", hex);
        _cleanup_free_ char *final = NULL, *fdp = NULL;
        if (asprintf(&final, "%s/%s", dir, hex) < 0 || asprintf(&fdp, "/proc/self/fd/%d", tfd) < 0)
                return herr_set(err, ENOMEM, "blob");
        if (named ? rename(named, final) < 0 :
                    linkat(AT_FDCWD, fdp, AT_FDCWD, final, AT_SYMLINK_FOLLOW) < 0 && errno != EEXIST)
                return herr_sys(err, "blob sha256:%s: link into store", hex);
        if (out_digest && asprintf(out_digest, "sha256:%s", hex) < 0)
                return herr_set(err, ENOMEM, "blob");
        return 0;
}

int blob_store_mem(const char *storage, const void *buf, size_t len, char **out_digest,
                   herr_t *err)
{
        char hex[DIGEST_HEX_LEN + 1];
        if (sha256_hex_mem(buf, len, hex) < 0)
                return herr_plain(err, EIO, "sha256");
        _cleanup_free_ char *path = NULL;
        if (asprintf(&path, "%s/blobs/sha256/%s", storage, hex) < 0)
                return herr_set(err, ENOMEM, "blob");
        struct stat st;
        if (stat(path, &st) < 0 && write_file_atomic(path, buf, len, 0644, err) < 0)
                return herr_prefix(err, "blob sha256:%s", hex);
        if (out_digest && asprintf(out_digest, "sha256:%s", hex) < 0)
                return herr_set(err, ENOMEM, "blob");
        return 0;
}
