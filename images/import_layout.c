/* images/import_layout.c: image_import() and OCI image layouts. */
#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "../common/cleanup.h"
#include "../common/fileutil.h"
#include "../runtime/fault.h"
#include "internal.h"

#include <linux/openat2.h>
#include <sys/syscall.h>

int src_open(const char *dir, const char *rel, herr_t *err)
{
        _cleanup_close_ int dfd = open(dir, O_PATH | O_DIRECTORY | O_CLOEXEC);
        if (dfd < 0)
                return herr_sys(err, "%s", dir);
        /* symlinks inside an image layout or archive stay inside it */
        struct open_how how = { .flags = O_RDONLY | O_CLOEXEC,
                                .resolve = RESOLVE_IN_ROOT | RESOLVE_NO_MAGICLINKS | RESOLVE_NO_XDEV };
        int fd = (int)syscall(SYS_openat2, dfd, rel, &how, sizeof how);
        if (fd < 0)
                return herr_sys(err, "%s/%s", dir, rel);
        return fd;
}

static int store_from_src(const char *storage, const char *src_dir, const struct image_desc *d,
                          const struct image_import_opts *opts, herr_t *err)
{
        _cleanup_free_ char *dst = NULL, *src = NULL;
        if (blob_path(storage, d->digest, &dst, err) < 0)
                return -1;
        struct stat st;
        if (stat(dst, &st) == 0 && st.st_size == d->size)
                return 0; /* already verified into the store */
        if (asprintf(&src, "blobs/sha256/%s", digest_hex(d->digest)) < 0)
                return herr_set(err, ENOMEM, "blob");
        _cleanup_close_ int fd = src_open(src_dir, src, err);
        if (fd < 0)
                return herr_prefix(err, "blob %s", d->digest);
        return blob_store_fd(storage, fd, d->digest, d->size, opts, NULL, err);
}

int import_manifest_blobs(const char *storage, const char *src_dir, const struct image_manifest *m,
                          const struct image_import_opts *opts, herr_t *err)
{
        if (m->config.size > (int64_t)MAX_JSON_BLOB)
                return herr_plain(err, EFBIG, "config %s: larger than %u bytes", m->config.digest,
                                MAX_JSON_BLOB);
        if (store_from_src(storage, src_dir, &m->config, opts, err) < 0)
                return -1;
        for (size_t i = 0; i < m->n_layers; i++) {
                if (store_from_src(storage, src_dir, &m->layers[i], opts, err) < 0)
                        return -1;
                HUSK_FAULT_POINT("image.after-blob");
        }
        bool devs = opts && opts->allow_devices;
        _cleanup_strv_ char **diff_ids = NULL;
        if (config_diff_ids(storage, m->config.digest, m->n_layers, &diff_ids, err) < 0)
                return -1;
        for (size_t i = 0; i < m->n_layers; i++)
                if (layer_unpack(storage, m->layers[i].digest, diff_ids ? diff_ids[i] : NULL, devs, err) < 0)
                        return -1;
        return 0;
}

static int read_small(const char *dir, const char *name, size_t max, char **buf, size_t *len,
                      herr_t *err)
{
        _cleanup_close_ int fd = src_open(dir, name, err);
        if (fd < 0 || read_fd(fd, max, buf, len, err) < 0)
                return fd < 0 ? -1 : herr_prefix(err, "%s/%s", dir, name);
        return 0;
}

int import_oci_dir(const char *storage, const char *dir, const struct image_import_opts *opts,
                   char **manifest_digest, char **found_name, herr_t *err)
{
        _cleanup_free_ char *layout = NULL, *idx = NULL;
        size_t len = 0;
        if (read_small(dir, "oci-layout", 4096, &layout, NULL, err) < 0)
                return -1;
        if (!strstr(layout, "imageLayoutVersion"))
                return herr_plain(err, EINVAL, "%s/oci-layout: no imageLayoutVersion", dir);
        if (read_small(dir, "index.json", MAX_JSON_BLOB, &idx, &len, err) < 0)
                return -1;
        const char *tag = opts ? opts->select_tag : NULL;
        struct image_desc d = { 0 };
        for (int depth = 0;; depth++) {
                bool is_index = false;
                char *rn = NULL;
                if (depth > 3)
                        return herr_plain(err, ELOOP, "%s: image indexes nested too deep", dir);
                if (index_select(idx, len, depth ? NULL : tag, &d, &is_index, &rn, err) < 0)
                        return herr_prefix(err, "%s", dir);
                if (rn && !*found_name)
                        *found_name = rn;
                else
                        free(rn);
                free(idx);
                idx = NULL;
                if (d.size > (int64_t)MAX_JSON_BLOB) {
                        herr_plain(err, EFBIG, "manifest %s: larger than %u bytes", d.digest, MAX_JSON_BLOB);
                        desc_free(&d);
                        return -1;
                }
                int r = store_from_src(storage, dir, &d, opts, err);
                if (r == 0)
                        r = blob_read(storage, d.digest, MAX_JSON_BLOB, &idx, &len, err);
                if (r < 0 || !is_index)
                        break;
                desc_free(&d);
        }
        if (!idx) {
                desc_free(&d);
                return -1;
        }
        struct image_manifest m;
        if (manifest_parse(idx, len, &m, err) < 0) {
                herr_prefix(err, "%s", d.digest);
                desc_free(&d);
                return -1;
        }
        int rc = import_manifest_blobs(storage, dir, &m, opts, err);
        manifest_free(&m);
        if (rc < 0) {
                desc_free(&d);
                return -1;
        }
        *manifest_digest = TAKE_PTR(d.digest);
        desc_free(&d);
        return 0;
}

/* Name for the ref: opts->name, else a full name found in the image, else
 * the file's basename (minus .tar/.tar.gz) with the found tag or "latest". */
static int choose_name(const char *path, const struct image_import_opts *opts, const char *found,
                       char **out, herr_t *err)
{
        if (opts && opts->name)
                return ref_normalize(opts->name, out, err);
        if (found && (strchr(found, ':') || strchr(found, '/')))
                return ref_normalize(found, out, err);
        _cleanup_free_ char *copy = strdup(path);
        if (!copy)
                return herr_set(err, ENOMEM, "name");
        size_t n = strlen(copy);
        while (n > 1 && copy[n - 1] == '/')
                copy[--n] = '\0';
        char *b = basename(copy);
        for (const char *ext = ".tar.gz\0.tgz\0.tar\0"; *ext; ext += strlen(ext) + 1) {
                size_t bl = strlen(b), el = strlen(ext);
                if (bl > el && strcmp(b + bl - el, ext) == 0) {
                        b[bl - el] = '\0';
                        break;
                }
        }
        _cleanup_free_ char *s = NULL;
        if (asprintf(&s, "%s:%s", b, found ? found : "latest") < 0)
                return herr_set(err, ENOMEM, "name");
        return ref_normalize(s, out, err);
}

static int extract_to_tmp(const char *storage, const char *path, char **tmp_out, herr_t *err)
{
        _cleanup_free_ char *tmp = NULL;
        if (asprintf(&tmp, "%s/tmp/import-XXXXXX", storage) < 0)
                return herr_set(err, ENOMEM, "import");
        if (!mkdtemp(tmp))
                return herr_sys(err, "%s", tmp);
        _cleanup_close_ int afd = open(path, O_RDONLY | O_CLOEXEC);
        _cleanup_close_ int rfd = open(tmp, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        if (afd < 0 || rfd < 0 || unpack_archive_fd(afd, rfd, false, NULL, err) < 0) {
                if (afd < 0 || rfd < 0)
                        herr_sys(err, "%s", afd < 0 ? path : tmp);
                herr_t e2 = { 0 };
                (void)remove_tree(tmp, &e2);
                return herr_prefix(err, "%s", path);
        }
        *tmp_out = TAKE_PTR(tmp);
        return 0;
}

static int import_dir(const char *storage, const char *dir, const struct image_import_opts *opts,
                      char **digest, char **found, herr_t *err)
{
        _cleanup_free_ char *a = NULL, *b = NULL;
        struct stat st;
        if (asprintf(&a, "%s/oci-layout", dir) < 0 || asprintf(&b, "%s/manifest.json", dir) < 0)
                return herr_set(err, ENOMEM, "import");
        if (stat(a, &st) == 0)
                return import_oci_dir(storage, dir, opts, digest, found, err);
        if (stat(b, &st) == 0)
                return import_docker_dir(storage, dir, opts, digest, found, err);
        return herr_plain(err, EINVAL, "neither an OCI image layout (oci-layout) nor a docker "
                        "save archive (manifest.json)");
}

int image_import(const char *storage, const char *path, const struct image_import_opts *opts,
                 char **ref_out, herr_t *err)
{
        struct stat st;
        if (stat(path, &st) < 0)
                return herr_sys(err, "%s", path);
        if (store_init(storage, err) < 0)
                return -1;
        _cleanup_close_ int gl = store_gc_lock(storage, true, err);
        if (gl < 0)
                return -1;
        _cleanup_free_ char *tmp = NULL, *digest = NULL, *found = NULL, *name = NULL;
        if (!S_ISDIR(st.st_mode) && extract_to_tmp(storage, path, &tmp, err) < 0)
                return -1;
        int rc = import_dir(storage, tmp ? tmp : path, opts, &digest, &found, err);
        if (tmp) {
                herr_t e2 = { 0 };
                (void)remove_tree(tmp, &e2);
        }
        if (rc < 0)
                return herr_prefix(err, "import %s", path);
        if (choose_name(path, opts, found, &name, err) < 0 ||
            refs_set(storage, name, digest, err) < 0)
                return herr_prefix(err, "import %s", path);
        if (ref_out)
                *ref_out = TAKE_PTR(name);
        return 0;
}
