/* The VM initramfs: the static agent as /init plus the kernel modules VM
 * mode needs, as an uncompressed newc cpio (unpacks faster than gzip under
 * TCG), cached under a SHA-256 of its inputs. */
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <openssl/evp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "../common/cleanup.h"
#include "../common/fileutil.h"
#include "vm.h"

#define MODULE_MAX (64u << 20)

/* Modules loaded by the agent; dependencies come first automatically
 * (virtio_net: net_failover, failover). */
static const char *const wanted[] = {
        "virtio_mmio", "virtio_console", "9pnet_virtio", "9p", "virtiofs", "overlay", "virtio_net",
};

struct modindex {
        char **names; /* normalized: '-' -> '_' */
        char **paths;
        size_t n, cap;
};

static struct modindex *walk_index; /* nftw has no user pointer */

static int index_one(const char *path, const struct stat *st, int type, struct FTW *f)
{
        (void)st;
        size_t len = strlen(path);
        if (type != FTW_F || len < 3 || strcmp(path + len - 3, ".ko"))
                return 0;
        struct modindex *ix = walk_index;
        if (ix->n == ix->cap) {
                size_t cap = ix->cap ? ix->cap * 2 : 1024;
                char **a = realloc(ix->names, cap * sizeof(char *));
                if (!a)
                        return -1;
                ix->names = a;
                char **b = realloc(ix->paths, cap * sizeof(char *));
                if (!b)
                        return -1;
                ix->paths = b;
                ix->cap = cap;
        }
        char *name = strndup(path + f->base, len - f->base - 3);
        char *p = strdup(path);
        if (!name || !p) {
                free(name);
                free(p);
                return -1;
        }
        for (char *c = name; *c; c++)
                if (*c == '-')
                        *c = '_';
        ix->names[ix->n] = name;
        ix->paths[ix->n++] = p;
        return 0;
}

static void modindex_free(struct modindex *ix)
{
        for (size_t i = 0; i < ix->n; i++) {
                free(ix->names[i]);
                free(ix->paths[i]);
        }
        free(ix->names);
        free(ix->paths);
}

static const char *modindex_find(const struct modindex *ix, const char *name)
{
        for (size_t i = 0; i < ix->n; i++)
                if (!strcmp(ix->names[i], name))
                        return ix->paths[i];
        return NULL;
}

/* The "depends=" entry of the module's .modinfo (a NUL-separated list of
 * key=value strings inside the ELF file). */
static int module_depends(const char *path, char **out, herr_t *err)
{
        _cleanup_free_ char *data = NULL;
        size_t len;
        if (read_file(path, MODULE_MAX, &data, &len, err) < 0)
                return -1;
        static const char key[] = "depends=";
        for (size_t i = 1; i + sizeof(key) - 1 <= len; i++) {
                if (data[i - 1] != 0 || memcmp(data + i, key, sizeof(key) - 1))
                        continue;
                *out = strndup(data + i + sizeof(key) - 1, strnlen(data + i + sizeof(key) - 1,
                                                                 len - i - sizeof(key) + 1));
                return *out ? 0 : herr_set(err, ENOMEM, "%s", path);
        }
        *out = strdup("");
        return *out ? 0 : herr_set(err, ENOMEM, "%s", path);
}

struct order {
        char **paths;
        size_t n;
};

static bool order_has(const struct order *o, const char *p)
{
        for (size_t i = 0; i < o->n; i++)
                if (!strcmp(o->paths[i], p))
                        return true;
        return false;
}

/* Depth-first: dependencies before the module itself. */
static int resolve(const struct modindex *ix, const char *name, struct order *o, int depth,
                   herr_t *err)
{
        const char *path = modindex_find(ix, name);
        if (!path)
                return herr_set(err, ENOENT, "kernel module %s not found", name);
        if (order_has(o, path))
                return 0;
        if (depth > 32)
                return herr_set(err, ELOOP, "kernel module %s: dependency loop", name);
        _cleanup_free_ char *deps = NULL;
        if (module_depends(path, &deps, err) < 0)
                return -1;
        for (char *save, *d = strtok_r(deps, ",", &save); d; d = strtok_r(NULL, ",", &save))
                if (resolve(ix, d, o, depth + 1, err) < 0)
                        return herr_prefix(err, "%s", name);
        char **a = realloc(o->paths, (o->n + 2) * sizeof(char *));
        if (!a)
                return herr_set(err, ENOMEM, "%s", name);
        o->paths = a;
        if (!(a[o->n] = strdup(path)))
                return herr_set(err, ENOMEM, "%s", name);
        a[++o->n] = NULL;
        return 0;
}

int vm_modules_resolve(const char *modules_dir, char ***out_paths, herr_t *err)
{
        struct modindex ix = { 0 };
        struct order o = { 0 };
        _cleanup_free_ char *kdir = NULL;
        if (asprintf(&kdir, "%s/kernel", modules_dir) < 0)
                return herr_set(err, ENOMEM, "%s", modules_dir);
        walk_index = &ix;
        int r = nftw(kdir, index_one, 32, FTW_PHYS);
        walk_index = NULL;
        if (r != 0) {
                modindex_free(&ix);
                return herr_set(err, r < 0 ? errno : ENOMEM, "kernel modules %s", kdir);
        }
        for (size_t i = 0; i < ARRAY_SIZE(wanted); i++)
                if (resolve(&ix, wanted[i], &o, 0, err) < 0) {
                        modindex_free(&ix);
                        cleanup_strvp(&o.paths);
                        return herr_prefix(err, "%s", modules_dir);
                }
        modindex_free(&ix);
        *out_paths = o.paths;
        return 0;
}

/* ------------------------------------------------------------ newc cpio */

struct cpio {
        FILE *f;
        unsigned ino;
};

static int cpio_entry(struct cpio *c, const char *name, unsigned mode, const void *data,
                      size_t len, unsigned rmaj, unsigned rmin)
{
        static const char zero[4];
        size_t nlen = strlen(name) + 1;
        if (fprintf(c->f, "070701%08X%08X%08X%08X%08X%08X%08zX%08X%08X%08X%08X%08zX%08X",
                    ++c->ino, mode, 0u, 0u, (mode & S_IFMT) == S_IFDIR ? 2u : 1u, 0u, len, 0u, 0u,
                    rmaj, rmin, nlen, 0u) < 0)
                return -1;
        if (fwrite(name, 1, nlen, c->f) != nlen ||
            fwrite(zero, 1, (4 - (110 + nlen) % 4) % 4, c->f) != (4 - (110 + nlen) % 4) % 4)
                return -1;
        if (len && fwrite(data, 1, len, c->f) != len)
                return -1;
        return fwrite(zero, 1, (4 - len % 4) % 4, c->f) == (4 - len % 4) % 4 ? 0 : -1;
}

static int cpio_file(struct cpio *c, const char *name, const char *src, unsigned mode,
                     herr_t *err)
{
        _cleanup_free_ char *data = NULL;
        size_t len;
        if (read_file(src, MODULE_MAX, &data, &len, err) < 0)
                return -1;
        if (cpio_entry(c, name, S_IFREG | mode, data, len, 0, 0) < 0)
                return herr_sys(err, "initramfs: write %s", name);
        return 0;
}

/* A signed module ends with the signature, a 12-byte struct
 * module_signature whose last 4 bytes are the signature's length (big
 * endian), and this marker. The guest kernel does not enforce signatures
 * and the initramfs is husk's own, so checking them only costs boot time
 * (a SHA-256 of every module and a public-key operation, slow under TCG):
 * the modules go in without them (the guest kernel notes the taint). */
static size_t module_unsigned_len(const char *data, size_t len)
{
        static const char marker[] = "~Module signature appended~\n";
        const size_t ml = sizeof(marker) - 1, info = 12;
        if (len < ml + info || memcmp(data + len - ml, marker, ml))
                return len;
        const unsigned char *p = (const unsigned char *)data + len - ml - 4;
        size_t sig = (size_t)p[0] << 24 | (size_t)p[1] << 16 | (size_t)p[2] << 8 | p[3];
        return sig <= len - ml - info ? len - ml - info - sig : len;
}

static int cpio_module(struct cpio *c, const char *name, const char *src, herr_t *err)
{
        _cleanup_free_ char *data = NULL;
        size_t len;
        if (read_file(src, MODULE_MAX, &data, &len, err) < 0)
                return -1;
        if (cpio_entry(c, name, S_IFREG | 0644, data, module_unsigned_len(data, len), 0, 0) < 0)
                return herr_sys(err, "initramfs: write %s", name);
        return 0;
}

static int write_cpio(FILE *f, const char *agent, const char *guest_husk, char **mods, herr_t *err)
{
        static const char *const dirs[] = { "dev", "proc", "sys", "newroot", "etc",
                                            "etc/husk", "lib", "lib/modules", "tmp" };
        struct cpio c = { f, 0 };
        for (size_t i = 0; i < ARRAY_SIZE(dirs); i++)
                if (cpio_entry(&c, dirs[i], S_IFDIR | 0755, NULL, 0, 0, 0) < 0)
                        return herr_sys(err, "initramfs: write %s", dirs[i]);
        if (cpio_entry(&c, "dev/console", S_IFCHR | 0600, NULL, 0, 5, 1) < 0)
                return herr_sys(err, "initramfs: write dev/console");
        if (cpio_file(&c, "init", agent, 0755, err) < 0)
                return -1;
        if (guest_husk && cpio_file(&c, "husk", guest_husk, 0755, err) < 0)
                return -1;
        _cleanup_free_ char *list = NULL;
        size_t llen = 0;
        _cleanup_fclose_ FILE *lf = open_memstream(&list, &llen);
        if (!lf)
                return herr_sys(err, "initramfs: module list");
        for (size_t i = 0; mods[i]; i++) {
                const char *base = strrchr(mods[i], '/') + 1;
                char name[300];
                snprintf(name, sizeof(name), "lib/modules/%s", base);
                if (cpio_module(&c, name, mods[i], err) < 0)
                        return -1;
                fprintf(lf, "/%s\n", name);
        }
        fclose(TAKE_PTR(lf));
        if (cpio_entry(&c, "etc/husk/modules", S_IFREG | 0644, list, llen, 0, 0) < 0 ||
            cpio_entry(&c, "TRAILER!!!", 0, NULL, 0, 0, 0) < 0)
                return herr_sys(err, "initramfs: write");
        return 0;
}

/* ---------------------------------------------------------- input hash */

static int hash_file(EVP_MD_CTX *ctx, const char *path, herr_t *err)
{
        _cleanup_free_ char *data = NULL;
        size_t len;
        if (read_file(path, MODULE_MAX, &data, &len, err) < 0)
                return -1;
        EVP_DigestUpdate(ctx, path, strlen(path) + 1);
        EVP_DigestUpdate(ctx, &len, sizeof(len));
        EVP_DigestUpdate(ctx, data, len);
        return 0;
}

static int inputs_hash(const char *agent, const char *guest_husk, char **mods, char hex[65], herr_t *err)
{
        EVP_MD_CTX *ctx = EVP_MD_CTX_new();
        unsigned char md[32];
        unsigned mdlen = 0;
        int r = -1;
        if (!ctx || !EVP_DigestInit_ex(ctx, EVP_sha256(), NULL)) {
                herr_set(err, ENOMEM, "initramfs: sha256");
                goto out;
        }
        EVP_DigestUpdate(ctx, VM_INITRAMFS_FORMAT, sizeof(VM_INITRAMFS_FORMAT));
        if (hash_file(ctx, agent, err) < 0)
                goto out;
        if (guest_husk) {
                EVP_DigestUpdate(ctx, "husk", 5);
                if (hash_file(ctx, guest_husk, err) < 0)
                        goto out;
        }
        for (size_t i = 0; mods[i]; i++)
                if (hash_file(ctx, mods[i], err) < 0)
                        goto out;
        EVP_DigestFinal_ex(ctx, md, &mdlen);
        for (unsigned i = 0; i < 32; i++)
                sprintf(hex + 2 * i, "%02x", md[i]);
        r = 0;
out:
        EVP_MD_CTX_free(ctx);
        return r;
}

int vm_initramfs_get(const char *agent, const char *modules_dir, const char *cache_dir,
                     char **out_path, herr_t *err)
{
        return vm_initramfs_get_with(agent, NULL, modules_dir, cache_dir, out_path, err);
}

int vm_initramfs_get_with(const char *agent, const char *guest_husk, const char *modules_dir,
                          const char *cache_dir, char **out_path, herr_t *err)
{
        _cleanup_strv_ char **mods = NULL;
        _cleanup_free_ char *path = NULL, *tmp = NULL;
        char hex[65];
        if (access(agent, R_OK) < 0)
                return herr_sys(err, "guest agent %s", agent);
        if (vm_modules_resolve(modules_dir, &mods, err) < 0 ||
            inputs_hash(agent, guest_husk, mods, hex, err) < 0)
                return herr_prefix(err, "initramfs");
        if (asprintf(&path, "%s/initramfs-%s.cpio", cache_dir, hex) < 0 ||
            asprintf(&tmp, "%s.tmp.%d", path, getpid()) < 0)
                return herr_set(err, ENOMEM, "initramfs");
        if (access(path, R_OK) == 0) {
                *out_path = TAKE_PTR(path);
                return 0;
        }
        if (mkdir_p(cache_dir, 0755, err) < 0)
                return herr_prefix(err, "initramfs cache");
        FILE *f = fopen(tmp, "we");
        if (!f)
                return herr_sys(err, "initramfs %s", tmp);
        int r = write_cpio(f, agent, guest_husk, mods, err);
        if (fclose(f) != 0 && r == 0)
                r = herr_sys(err, "initramfs %s", tmp);
        if (r == 0 && rename(tmp, path) < 0)
                r = herr_sys(err, "initramfs %s", path);
        if (r < 0) {
                (void)unlink(tmp);
                return -1;
        }
        *out_path = TAKE_PTR(path);
        return 0;
}
