/* seccomp/cache.c: compiled filters cached on disk, keyed by what the BPF
 * depends on. The key is the whole canonical text (format, husk, libseccomp
 * and arch versions, the section as seccomp_gen writes it) and is stored in
 * the entry and compared byte for byte, so no digest is needed: the file
 * name is only a lookup hint (FNV-1a of the key; a clash is a miss).
 * Entry file <dir>/<16 hex digits>:
 *   magic "HUSKBPF2" | key length (u32) | instruction count (u32) |
 *   FNV-1a 64 of the instructions | key | instructions.
 * The entry is trusted only when it is a regular file of ours that nobody
 * else can write, in a directory of ours that nobody else can write, and
 * every header field checks out; anything else is a miss (the caller
 * rebuilds and replaces it). */
#include "seccomp_internal.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <yajl/yajl_gen.h>

#include "../common/cleanup.h"
#include "../common/fileutil.h"

/* Bump when the translation of a section into BPF changes in a way the
 * husk version does not capture. */
#define CACHE_FORMAT "husk-seccomp-cache 2"
#define MAGIC "HUSKBPF2"
#define HDR_LEN (8 + 4 + 4 + 8)
#define MAX_INSNS 4096 /* BPF_MAXINSNS */
#define MAX_KEY (1u << 20)
/* Entries kept: each distinct profile and husk build adds one (~30 KiB);
 * past this many, a miss empties the directory before adding its own. */
#define MAX_ENTRIES 128

#ifndef HUSK_VERSION
#define HUSK_VERSION "dev"
#endif
#ifndef HUSK_COMMIT
#define HUSK_COMMIT "unknown"
#endif

static uint64_t fnv1a(const void *data, size_t len)
{
        const unsigned char *p = data;
        uint64_t h = 0xcbf29ce484222325ULL;
        for (size_t i = 0; i < len; i++)
                h = (h ^ p[i]) * 0x100000001b3ULL;
        return h;
}

int seccomp_cache_key(const struct oci_seccomp *s, char **key, size_t *len)
{
        const struct scmp_version *v = seccomp_version();
        yajl_gen g = yajl_gen_alloc(NULL);
        const unsigned char *json;
        size_t jlen;
        int rc = -1;
        if (g && seccomp_gen(g, s) == 0 && yajl_gen_get_buf(g, &json, &jlen) == yajl_gen_status_ok) {
                int n = asprintf(key, "%s\nhusk %s %s\nlibseccomp %u.%u.%u\narch %u\n%.*s", CACHE_FORMAT,
                                 HUSK_VERSION, HUSK_COMMIT, v ? v->major : 0, v ? v->minor : 0,
                                 v ? v->micro : 0, seccomp_arch_native(), (int)jlen, json);
                if (n > 0 && (size_t)n < MAX_KEY) {
                        *len = (size_t)n;
                        rc = 0;
                } else if (n > 0) {
                        free(*key);
                }
        }
        if (g)
                yajl_gen_free(g);
        return rc;
}

static int entry_path(const char *dir, const char *key, size_t klen, char *out, size_t size)
{
        int n = snprintf(out, size, "%s/%016llx", dir, (unsigned long long)fnv1a(key, klen));
        return n < 0 || (size_t)n >= size ? -1 : 0;
}

/* Ours and writable by us only. */
static bool private_to_us(const struct stat *st)
{
        return st->st_uid == geteuid() && !(st->st_mode & (S_IWGRP | S_IWOTH));
}

static bool entry_valid(const unsigned char *buf, size_t len, const char *key, size_t klen)
{
        uint32_t kl, n;
        uint64_t sum;
        if (len < HDR_LEN || memcmp(buf, MAGIC, 8) != 0)
                return false;
        memcpy(&kl, buf + 8, 4);
        memcpy(&n, buf + 12, 4);
        memcpy(&sum, buf + 16, 8);
        if (kl != klen || n == 0 || n > MAX_INSNS ||
            len != HDR_LEN + klen + (size_t)n * sizeof(struct sock_filter))
                return false;
        if (memcmp(buf + HDR_LEN, key, klen) != 0)
                return false;
        return fnv1a(buf + HDR_LEN + klen, (size_t)n * sizeof(struct sock_filter)) == sum;
}

int seccomp_cache_get(const char *dir, const char *key, size_t klen, struct seccomp_prog *p)
{
        char path[4096];
        struct stat st;
        if (entry_path(dir, key, klen, path, sizeof path) < 0)
                return -1;
        if (lstat(dir, &st) < 0 || !S_ISDIR(st.st_mode) || !private_to_us(&st))
                return -1;
        _cleanup_close_ int fd = open(path, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
        if (fd < 0 || fstat(fd, &st) < 0 || !S_ISREG(st.st_mode) || !private_to_us(&st) ||
            st.st_size > (off_t)(HDR_LEN + klen + MAX_INSNS * sizeof(struct sock_filter)))
                return -1;
        size_t len = (size_t)st.st_size;
        _cleanup_free_ unsigned char *buf = malloc(len ? len : 1);
        if (!buf || pread(fd, buf, len, 0) != (ssize_t)len || !entry_valid(buf, len, key, klen))
                return -1;
        size_t body = len - HDR_LEN - klen;
        p->len = (unsigned short)(body / sizeof(struct sock_filter));
        p->insns = malloc(body);
        if (!p->insns)
                return -1;
        memcpy(p->insns, buf + HDR_LEN + klen, body);
        return 0;
}

static int ensure_dir(const char *dir, herr_t *err)
{
        struct stat st;
        if (mkdir(dir, 0700) < 0 && errno != EEXIST)
                return herr_sys(err, "seccomp cache %s", dir);
        if (lstat(dir, &st) < 0)
                return herr_sys(err, "seccomp cache %s", dir);
        if (!S_ISDIR(st.st_mode) || !private_to_us(&st))
                return herr_set(err, EPERM, "seccomp cache %s: not a private directory", dir);
        return 0;
}

static void prune(const char *dir)
{
        _cleanup_closedir_ DIR *d = opendir(dir);
        struct dirent *de;
        size_t n = 0;
        if (!d)
                return;
        while ((de = readdir(d)))
                n += de->d_name[0] != '.';
        if (n < MAX_ENTRIES)
                return;
        rewinddir(d);
        while ((de = readdir(d)))
                if (de->d_name[0] != '.')
                        (void)unlinkat(dirfd(d), de->d_name, 0);
}

static int entry_bytes(const char *key, size_t klen, const struct seccomp_prog *p, unsigned char **out,
                       size_t *out_len, herr_t *err)
{
        size_t body = (size_t)p->len * sizeof(struct sock_filter);
        uint32_t kl = (uint32_t)klen, n = p->len;
        if (p->len == 0 || p->len > MAX_INSNS || klen >= MAX_KEY)
                return herr_set(err, EINVAL, "seccomp cache: filter of %u instructions", p->len);
        unsigned char *buf = malloc(HDR_LEN + klen + body);
        if (!buf)
                return herr_set(err, ENOMEM, "seccomp cache entry");
        uint64_t sum = fnv1a(p->insns, body);
        memcpy(buf, MAGIC, 8);
        memcpy(buf + 8, &kl, 4);
        memcpy(buf + 12, &n, 4);
        memcpy(buf + 16, &sum, 8);
        memcpy(buf + HDR_LEN, key, klen);
        memcpy(buf + HDR_LEN + klen, p->insns, body);
        *out = buf;
        *out_len = HDR_LEN + klen + body;
        return 0;
}

int seccomp_cache_put(const char *dir, const char *key, size_t klen, const struct seccomp_prog *p, herr_t *err)
{
        char path[4096];
        _cleanup_free_ unsigned char *buf = NULL;
        size_t len;
        if (entry_bytes(key, klen, p, &buf, &len, err) < 0 || ensure_dir(dir, err) < 0)
                return -1;
        prune(dir);
        if (entry_path(dir, key, klen, path, sizeof path) < 0)
                return herr_set(err, ENAMETOOLONG, "seccomp cache %s", dir);
        return write_file_atomic(path, buf, len, 0600, err);
}

int seccomp_cache_entry(const struct oci_seccomp *s, const struct seccomp_prog *p, char name[17],
                        unsigned char **data, size_t *len, herr_t *err)
{
        _cleanup_free_ char *key = NULL;
        size_t klen;
        if (seccomp_cache_key(s, &key, &klen) < 0)
                return herr_set(err, ENOMEM, "seccomp cache key");
        snprintf(name, 17, "%016llx", (unsigned long long)fnv1a(key, klen));
        return entry_bytes(key, klen, p, data, len, err);
}
