/* images/prune.c: garbage collection of blobs and layers, and the gc lock
 * that imports and rootfs mounts hold shared while prune holds it
 * exclusively (so prune never removes what an import is adding). */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include "../common/cleanup.h"
#include "../common/fileutil.h"
#include "internal.h"

int store_gc_lock(const char *storage, bool shared, herr_t *err)
{
        _cleanup_free_ char *p = NULL;
        if (asprintf(&p, "%s/gc.lock", storage) < 0)
                return herr_set(err, ENOMEM, "store");
        _cleanup_close_ int fd = open(p, O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0600);
        if (fd < 0)
                return herr_sys(err, "%s", p);
        while (flock(fd, shared ? LOCK_SH : LOCK_EX) < 0)
                if (errno != EINTR)
                        return herr_sys(err, "%s: flock", p);
        return TAKE_FD(fd);
}

struct hexset { char (*v)[DIGEST_HEX_LEN + 1]; size_t n, cap; };

static int set_add(struct hexset *s, const char *digest)
{
        const char *h = digest_hex(digest);
        if (!h)
                return 0;
        if (s->n == s->cap) {
                size_t nc = s->cap ? s->cap * 2 : 64;
                void *nv = realloc(s->v, nc * sizeof *s->v);
                if (!nv)
                        return -1;
                s->v = nv;
                s->cap = nc;
        }
        memcpy(s->v[s->n++], h, DIGEST_HEX_LEN + 1);
        return 0;
}

static bool set_has(const struct hexset *s, const char *hex, size_t n)
{
        for (size_t i = 0; i < s->n; i++)
                if (strlen(hex) >= n && strncmp(s->v[i], hex, n) == 0 && n == DIGEST_HEX_LEN)
                        return true;
        return false;
}

static int mark_image(const char *storage, const char *digest, struct hexset *s, herr_t *err)
{
        struct image_manifest m;
        if (set_add(s, digest) < 0)
                return herr_set(err, ENOMEM, "prune");
        if (image_load_manifest(storage, digest, &m, err) < 0) {
                herr_clear(err); /* a broken image keeps nothing alive */
                return 0;
        }
        int rc = set_add(s, m.config.digest);
        for (size_t i = 0; i < m.n_layers && rc == 0; i++)
                rc = set_add(s, m.layers[i].digest);
        manifest_free(&m);
        return rc < 0 ? herr_set(err, ENOMEM, "prune") : 0;
}

/* opendir <storage>/<sub> into *d, its path into *p: 1 when opened, 0 when
 * it does not exist, -1 on error. */
static int open_sub(const char *storage, const char *sub, char **p, DIR **d, herr_t *err)
{
        if (asprintf(p, "%s/%s", storage, sub) < 0) {
                *p = NULL;
                return herr_set(err, ENOMEM, "prune");
        }
        *d = opendir(*p);
        if (!*d)
                return errno == ENOENT ? 0 : herr_sys(err, "%s", *p);
        return 1;
}

static int mark_containers(const char *storage, struct hexset *s, herr_t *err)
{
        _cleanup_free_ char *p = NULL;
        _cleanup_closedir_ DIR *d = NULL;
        int r = open_sub(storage, "containers", &p, &d, err);
        if (r <= 0)
                return r;
        struct dirent *de;
        while ((de = readdir(d))) {
                if (de->d_name[0] == '.')
                        continue;
                _cleanup_free_ char *ip = NULL, *dg = NULL;
                if (asprintf(&ip, "%s/%s/image", p, de->d_name) < 0)
                        return herr_set(err, ENOMEM, "prune");
                herr_t e2 = { 0 };
                if (read_file(ip, 128, &dg, NULL, &e2) == 0 && mark_image(storage, dg, s, err) < 0)
                        return -1;
        }
        return 0;
}

static int sweep_blobs(const char *storage, const struct hexset *s, unsigned *freed, herr_t *err)
{
        _cleanup_free_ char *p = NULL;
        _cleanup_closedir_ DIR *d = NULL;
        int r = open_sub(storage, "blobs/sha256", &p, &d, err);
        if (r <= 0)
                return r;
        struct dirent *de;
        while ((de = readdir(d))) {
                if (strncmp(de->d_name, ".tmp-", 5) == 0) /* a dead import's */
                        (void)unlinkat(dirfd(d), de->d_name, 0);
                else if (de->d_name[0] != '.' && !set_has(s, de->d_name, strlen(de->d_name)) &&
                         unlinkat(dirfd(d), de->d_name, 0) == 0)
                        (*freed)++;
        }
        return 0;
}

/* The hex a layers/ entry belongs to: "<hex>", "<hex>.lock", ".tmp-<hex>-X". */
static const char *entry_hex(const char *name, int *kind)
{
        if (strncmp(name, ".tmp-", 5) == 0) {
                *kind = 2;
                return name + 5;
        }
        *kind = strlen(name) > DIGEST_HEX_LEN ? 1 : 0;
        return name;
}

static int sweep_layers(const char *storage, const struct hexset *s, unsigned *freed, herr_t *err)
{
        _cleanup_free_ char *p = NULL;
        _cleanup_closedir_ DIR *d = NULL;
        int r = open_sub(storage, "layers", &p, &d, err);
        if (r <= 0)
                return r;
        struct dirent *de;
        while ((de = readdir(d))) {
                int kind;
                const char *hex = entry_hex(de->d_name, &kind);
                if (!strcmp(de->d_name, ".") || !strcmp(de->d_name, "..") ||
                    strlen(hex) < DIGEST_HEX_LEN || (kind != 2 && set_has(s, hex, DIGEST_HEX_LEN)))
                        continue;
                _cleanup_free_ char *e = NULL;
                if (asprintf(&e, "%s/%s", p, de->d_name) < 0)
                        return herr_set(err, ENOMEM, "prune");
                if (kind == 1) {
                        (void)unlink(e);
                } else if (kind == 2 || !set_has(s, hex, DIGEST_HEX_LEN)) {
                        /* a .tmp- of an import that died: the gc lock excludes live ones */
                        if (remove_tree(e, err) < 0)
                                return -1;
                        if (kind == 0)
                                (*freed)++;
                }
        }
        return 0;
}

int image_prune(const char *storage, unsigned *freed, herr_t *err)
{
        unsigned n = 0;
        struct stat st;
        if (stat(storage, &st) < 0)
                return herr_sys(err, "store %s", storage);
        _cleanup_close_ int gl = store_gc_lock(storage, false, err);
        if (gl < 0)
                return -1;
        struct ref_entry *refs = NULL;
        size_t nr = 0;
        struct hexset s = { 0 };
        int rc = refs_load(storage, &refs, &nr, err);
        for (size_t i = 0; i < nr && rc == 0; i++)
                rc = mark_image(storage, refs[i].digest, &s, err);
        refs_free(refs, nr);
        if (rc == 0)
                rc = mark_containers(storage, &s, err);
        if (rc == 0)
                rc = sweep_blobs(storage, &s, &n, err);
        if (rc == 0)
                rc = sweep_layers(storage, &s, &n, err);
        free(s.v);
        if (freed)
                *freed = n;
        return rc;
}
