/* seccomp/cache.c: compiled filters cached on disk, keyed by what the BPF
 * depends on. Entry file <dir>/<hex key>:
 *   magic "HUSKBPF1" | key (32) | SHA-256 of the instructions (32) |
 *   instruction count (u32, native endian) | 0 (u32) | instructions.
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
#include "sha256.h"

/* Bump when the translation of a section into BPF changes in a way the
 * husk version does not capture. */
#define CACHE_FORMAT "husk-seccomp-cache 1"
#define MAGIC "HUSKBPF1"
#define HDR_LEN (8 + 2 * SHA256_LEN + 8)
#define MAX_INSNS 4096 /* BPF_MAXINSNS */
/* Entries kept: each distinct profile and husk build adds one (~10 KiB);
 * past this many, a miss empties the directory before adding its own. */
#define MAX_ENTRIES 128

#ifndef HUSK_VERSION
#define HUSK_VERSION "dev"
#endif
#ifndef HUSK_COMMIT
#define HUSK_COMMIT "unknown"
#endif

int seccomp_cache_key(const struct oci_seccomp *s, unsigned char key[SHA256_LEN])
{
        const struct scmp_version *v = seccomp_version();
        char head[160];
        int n = snprintf(head, sizeof head, "%s\nhusk %s %s\nlibseccomp %u.%u.%u\narch %u\n", CACHE_FORMAT,
                         HUSK_VERSION, HUSK_COMMIT, v ? v->major : 0, v ? v->minor : 0, v ? v->micro : 0,
                         seccomp_arch_native());
        yajl_gen g = yajl_gen_alloc(NULL);
        if (!g || n < 0 || (size_t)n >= sizeof head)
                goto fail;
        const unsigned char *json;
        size_t len;
        if (seccomp_gen(g, s) < 0 || yajl_gen_get_buf(g, &json, &len) != yajl_gen_status_ok)
                goto fail;
        struct sha256 c;
        sha256_init(&c);
        sha256_update(&c, head, (size_t)n);
        sha256_update(&c, json, len);
        sha256_final(&c, key);
        yajl_gen_free(g);
        return 0;
fail:
        if (g)
                yajl_gen_free(g);
        return -1;
}

static int entry_path(const char *dir, const unsigned char key[SHA256_LEN], char *out, size_t size)
{
        int n = snprintf(out, size, "%s/", dir);
        if (n < 0 || (size_t)n + 2 * SHA256_LEN >= size)
                return -1;
        for (int i = 0; i < SHA256_LEN; i++)
                n += snprintf(out + n, size - (size_t)n, "%02x", key[i]);
        return 0;
}

/* Ours and writable by us only. */
static bool private_to_us(const struct stat *st)
{
        return st->st_uid == geteuid() && !(st->st_mode & (S_IWGRP | S_IWOTH));
}

static bool entry_valid(const unsigned char *buf, size_t len, const unsigned char key[SHA256_LEN])
{
        uint32_t n;
        unsigned char sum[SHA256_LEN];
        if (len < HDR_LEN + sizeof(struct sock_filter) || memcmp(buf, MAGIC, 8) != 0 ||
            memcmp(buf + 8, key, SHA256_LEN) != 0)
                return false;
        memcpy(&n, buf + 8 + 2 * SHA256_LEN, sizeof n);
        if (n == 0 || n > MAX_INSNS || len != HDR_LEN + (size_t)n * sizeof(struct sock_filter))
                return false;
        sha256(buf + HDR_LEN, len - HDR_LEN, sum);
        return memcmp(sum, buf + 8 + SHA256_LEN, SHA256_LEN) == 0;
}

int seccomp_cache_get(const char *dir, const unsigned char key[SHA256_LEN], struct seccomp_prog *p)
{
        char path[4096];
        struct stat st;
        if (entry_path(dir, key, path, sizeof path) < 0)
                return -1;
        if (lstat(dir, &st) < 0 || !S_ISDIR(st.st_mode) || !private_to_us(&st))
                return -1;
        _cleanup_close_ int fd = open(path, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
        if (fd < 0 || fstat(fd, &st) < 0 || !S_ISREG(st.st_mode) || !private_to_us(&st) ||
            st.st_size > (off_t)(HDR_LEN + MAX_INSNS * sizeof(struct sock_filter)))
                return -1;
        size_t len = (size_t)st.st_size;
        _cleanup_free_ unsigned char *buf = malloc(len ? len : 1);
        if (!buf || pread(fd, buf, len, 0) != (ssize_t)len || !entry_valid(buf, len, key))
                return -1;
        p->len = (unsigned short)((len - HDR_LEN) / sizeof(struct sock_filter));
        p->insns = malloc(len - HDR_LEN);
        if (!p->insns)
                return -1;
        memcpy(p->insns, buf + HDR_LEN, len - HDR_LEN);
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

int seccomp_cache_put(const char *dir, const unsigned char key[SHA256_LEN], const struct seccomp_prog *p,
                      herr_t *err)
{
        char path[4096];
        size_t body = (size_t)p->len * sizeof(struct sock_filter);
        uint32_t n[2] = { p->len, 0 };
        if (p->len == 0 || p->len > MAX_INSNS)
                return herr_set(err, EINVAL, "seccomp cache: filter of %u instructions", p->len);
        if (ensure_dir(dir, err) < 0)
                return -1;
        prune(dir);
        _cleanup_free_ unsigned char *buf = malloc(HDR_LEN + body);
        if (!buf)
                return herr_set(err, ENOMEM, "seccomp cache entry");
        memcpy(buf, MAGIC, 8);
        memcpy(buf + 8, key, SHA256_LEN);
        sha256(p->insns, body, buf + 8 + SHA256_LEN);
        memcpy(buf + 8 + 2 * SHA256_LEN, n, sizeof n);
        memcpy(buf + HDR_LEN, p->insns, body);
        if (entry_path(dir, key, path, sizeof path) < 0)
                return herr_set(err, ENAMETOOLONG, "seccomp cache %s", dir);
        return write_file_atomic(path, buf, HDR_LEN + body, 0600, err);
}
