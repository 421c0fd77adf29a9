/* images/import_docker.c: `docker save` archives (manifest.json with
 * Config/RepoTags/Layers). The layers are verified against the config's
 * rootfs.diff_ids, then an OCI manifest is written for them. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <yajl/yajl_gen.h>
#include <yajl/yajl_tree.h>

#include "../common/cleanup.h"
#include "../common/fileutil.h"
#include "internal.h"

static void yajl_freep(yajl_val *v)
{
        if (*v)
                yajl_tree_free(*v);
}
#define _cleanup_yajl_ __attribute__((cleanup(yajl_freep)))

static bool safe_rel(const char *p)
{
        return p && *p && p[0] != '/' && !strstr(p, "..");
}

static int store_file(const char *storage, const char *dir, const char *rel, const char *expect,
                      const struct image_import_opts *opts, char **digest, int64_t *size, herr_t *err)
{
        if (!safe_rel(rel))
                return herr_plain(err, EPERM, "manifest.json: unsafe path \"%s\"", rel ? rel : "");
        _cleanup_close_ int fd = src_open(dir, rel, err);
        if (fd < 0)
                return -1;
        off_t sz = lseek(fd, 0, SEEK_END);
        if (sz < 0 || lseek(fd, 0, SEEK_SET) < 0)
                return herr_sys(err, "%s", rel);
        *size = sz;
        if (blob_store_fd(storage, fd, expect, sz, opts, digest, err) < 0)
                return herr_prefix(err, "%s", rel);
        return 0;
}

/* "<hex>.json" or "blobs/sha256/<hex>": the digest the config must have. */
static char *expected_config_digest(const char *rel)
{
        const char *b = strrchr(rel, '/');
        b = b ? b + 1 : rel;
        char *d = NULL;
        if (asprintf(&d, "sha256:%.64s", b) < 0)
                return NULL;
        if (!digest_hex(d)) {
                free(d);
                return NULL;
        }
        return d;
}

static void gen_desc(yajl_gen g, const char *mt, const char *digest, int64_t size)
{
        yajl_gen_map_open(g);
        yajl_gen_string(g, (const unsigned char *)"mediaType", 9);
        yajl_gen_string(g, (const unsigned char *)mt, strlen(mt));
        yajl_gen_string(g, (const unsigned char *)"digest", 6);
        yajl_gen_string(g, (const unsigned char *)digest, strlen(digest));
        yajl_gen_string(g, (const unsigned char *)"size", 4);
        yajl_gen_integer(g, size);
        yajl_gen_map_close(g);
}

static int write_manifest(const char *storage, const struct image_manifest *m, char **digest,
                          herr_t *err)
{
        yajl_gen g = yajl_gen_alloc(NULL);
        if (!g)
                return herr_set(err, ENOMEM, "manifest");
        yajl_gen_map_open(g);
        yajl_gen_string(g, (const unsigned char *)"schemaVersion", 13);
        yajl_gen_integer(g, 2);
        static const char mt[] = "application/vnd.oci.image.manifest.v1+json";
        yajl_gen_string(g, (const unsigned char *)"mediaType", 9);
        yajl_gen_string(g, (const unsigned char *)mt, strlen(mt));
        yajl_gen_string(g, (const unsigned char *)"config", 6);
        gen_desc(g, m->config.media_type, m->config.digest, m->config.size);
        yajl_gen_string(g, (const unsigned char *)"layers", 6);
        yajl_gen_array_open(g);
        for (size_t i = 0; i < m->n_layers; i++)
                gen_desc(g, m->layers[i].media_type, m->layers[i].digest, m->layers[i].size);
        yajl_gen_array_close(g);
        yajl_gen_map_close(g);
        const unsigned char *buf;
        size_t len;
        yajl_gen_get_buf(g, &buf, &len);
        int rc = blob_store_mem(storage, buf, len, digest, err);
        yajl_gen_free(g);
        return rc;
}

static int store_layers(const char *storage, const char *dir, yajl_val layers, yajl_val diff_ids,
                        const struct image_import_opts *opts, struct image_manifest *m, herr_t *err)
{
        size_t n = YAJL_GET_ARRAY(layers)->len;
        if (n > MAX_LAYERS)
                return herr_plain(err, E2BIG, "manifest.json: %zu layers (at most %d)", n, MAX_LAYERS);
        if (!diff_ids || YAJL_GET_ARRAY(diff_ids)->len != n)
                return herr_plain(err, EINVAL, "config: rootfs.diff_ids does not match the %zu layers", n);
        m->layers = calloc(n ? n : 1, sizeof *m->layers);
        if (!m->layers)
                return herr_set(err, ENOMEM, "import");
        for (size_t i = 0; i < n; i++) {
                const char *rel = YAJL_GET_STRING(YAJL_GET_ARRAY(layers)->values[i]);
                const char *want = YAJL_GET_STRING(YAJL_GET_ARRAY(diff_ids)->values[i]);
                m->n_layers = i + 1;
                m->layers[i].media_type = strdup("application/vnd.oci.image.layer.v1.tar");
                if (!want || !digest_hex(want))
                        return herr_plain(err, EINVAL, "config: invalid diff_id for layer %zu", i);
                if (store_file(storage, dir, rel, want, opts, &m->layers[i].digest,
                               &m->layers[i].size, err) < 0)
                        return -1;
        }
        return 0;
}

int import_docker_dir(const char *storage, const char *dir, const struct image_import_opts *opts,
                      char **manifest_digest, char **found_name, herr_t *err)
{
        _cleanup_free_ char *mj = NULL, *cfg = NULL, *want = NULL;
        _cleanup_close_ int mfd = src_open(dir, "manifest.json", err);
        if (mfd < 0 || read_fd(mfd, MAX_JSON_BLOB, &mj, NULL, err) < 0)
                return mfd < 0 ? -1 : herr_prefix(err, "manifest.json");
        char eb[256] = "";
        _cleanup_yajl_ yajl_val root = yajl_tree_parse(mj, eb, sizeof eb);
        if (!root || !YAJL_IS_ARRAY(root) || YAJL_GET_ARRAY(root)->len == 0)
                return herr_plain(err, EINVAL, "manifest.json: expected a non-empty array %s", eb);
        yajl_val img = YAJL_GET_ARRAY(root)->values[0];
        const char *cp[] = { "Config", NULL }, *lp[] = { "Layers", NULL }, *tp[] = { "RepoTags", NULL };
        yajl_val c = yajl_tree_get(img, cp, yajl_t_string), l = yajl_tree_get(img, lp, yajl_t_array);
        yajl_val t = yajl_tree_get(img, tp, yajl_t_array);
        if (!c || !l)
                return herr_plain(err, EINVAL, "manifest.json: missing Config or Layers");
        struct image_manifest m = { 0 };
        int rc = -1;
        _cleanup_yajl_ yajl_val cv = NULL;
        const char *crel = YAJL_GET_STRING(c);
        want = expected_config_digest(crel ? crel : "");
        if (store_file(storage, dir, crel, want, opts, &m.config.digest, &m.config.size, err) < 0)
                goto out;
        m.config.media_type = strdup("application/vnd.oci.image.config.v1+json");
        if (blob_read(storage, m.config.digest, MAX_JSON_BLOB, &cfg, NULL, err) < 0)
                goto out;
        cv = yajl_tree_parse(cfg, eb, sizeof eb);
        const char *dp[] = { "rootfs", "diff_ids", NULL };
        if (!cv) {
                herr_plain(err, EINVAL, "config %s: invalid JSON", m.config.digest);
                goto out;
        }
        if (store_layers(storage, dir, l, yajl_tree_get(cv, dp, yajl_t_array), opts, &m, err) < 0)
                goto out;
        for (size_t i = 0; i < m.n_layers; i++)
                if (layer_unpack(storage, m.layers[i].digest, NULL, opts && opts->allow_devices, err) < 0)
                        goto out;
        if (write_manifest(storage, &m, manifest_digest, err) < 0)
                goto out;
        const char *tag = t && YAJL_GET_ARRAY(t)->len ? YAJL_GET_STRING(YAJL_GET_ARRAY(t)->values[0]) : NULL;
        if (tag)
                *found_name = strdup(tag);
        rc = 0;
out:
        manifest_free(&m);
        return rc;
}
