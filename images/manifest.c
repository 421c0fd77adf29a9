/* images/manifest.c: parse OCI (and Docker v2) manifests and indexes. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <yajl/yajl_tree.h>

#include "../common/cleanup.h"
#include "internal.h"

static void yajl_freep(yajl_val *v)
{
        if (*v)
                yajl_tree_free(*v);
}
#define _cleanup_yajl_ __attribute__((cleanup(yajl_freep)))

static const char *get_str(yajl_val obj, const char *key)
{
        const char *path[] = { key, NULL };
        yajl_val v = yajl_tree_get(obj, path, yajl_t_string);
        return v ? YAJL_GET_STRING(v) : NULL;
}

void desc_free(struct image_desc *d)
{
        free(d->media_type);
        free(d->digest);
        d->media_type = d->digest = NULL;
}

static int desc_parse(yajl_val v, const char *what, struct image_desc *d, herr_t *err)
{
        const char *mt = get_str(v, "mediaType"), *dg = get_str(v, "digest");
        const char *path[] = { "size", NULL };
        yajl_val sz = yajl_tree_get(v, path, yajl_t_number);
        if (!dg || !digest_hex(dg))
                return herr_plain(err, EINVAL, "%s: missing or unsupported digest \"%s\"", what,
                                dg ? dg : "");
        if (!sz || !YAJL_IS_INTEGER(sz) || YAJL_GET_INTEGER(sz) < 0)
                return herr_plain(err, EINVAL, "%s %s: missing or invalid size", what, dg);
        d->media_type = strdup(mt ? mt : "");
        d->digest = strdup(dg);
        d->size = YAJL_GET_INTEGER(sz);
        if (!d->media_type || !d->digest)
                return herr_set(err, ENOMEM, "%s", what);
        return 0;
}

bool layer_media_type_ok(const char *mt)
{
        static const char *const ok[] = {
                "application/vnd.oci.image.layer.v1.tar",
                "application/vnd.oci.image.layer.v1.tar+gzip",
                "application/vnd.oci.image.layer.v1.tar+zstd",
                "application/vnd.docker.image.rootfs.diff.tar",
                "application/vnd.docker.image.rootfs.diff.tar.gzip",
                "application/vnd.oci.image.layer.nondistributable.v1.tar",
                "application/vnd.oci.image.layer.nondistributable.v1.tar+gzip",
                "application/vnd.oci.image.layer.nondistributable.v1.tar+zstd",
        };
        for (size_t i = 0; i < ARRAY_SIZE(ok); i++)
                if (strcmp(mt, ok[i]) == 0)
                        return true;
        return false;
}

static yajl_val parse(const char *json, size_t len, const char *what, herr_t *err)
{
        char ebuf[256] = "";
        if (len > MAX_JSON_BLOB) {
                herr_plain(err, EFBIG, "%s: larger than %u bytes", what, MAX_JSON_BLOB);
                return NULL;
        }
        /* yajl wants a C string: never read past json + len (and an
         * embedded NUL cannot hide the rest of a verified blob). */
        if (memchr(json, '\0', len)) {
                herr_plain(err, EINVAL, "%s: invalid JSON: NUL byte", what);
                return NULL;
        }
        _cleanup_free_ char *buf = strndup(json, len);
        if (!buf) {
                herr_plain(err, ENOMEM, "%s", what);
                return NULL;
        }
        yajl_val v = yajl_tree_parse(buf, ebuf, sizeof ebuf);
        if (!v || !YAJL_IS_OBJECT(v)) {
                herr_plain(err, EINVAL, "%s: invalid JSON%s%s", what, ebuf[0] ? ": " : "", ebuf);
                if (v)
                        yajl_tree_free(v);
                return NULL;
        }
        return v;
}

void manifest_free(struct image_manifest *m)
{
        desc_free(&m->config);
        for (size_t i = 0; i < m->n_layers; i++)
                desc_free(&m->layers[i]);
        free(m->layers);
        memset(m, 0, sizeof *m);
}

int manifest_parse(const char *json, size_t len, struct image_manifest *m, herr_t *err)
{
        memset(m, 0, sizeof *m);
        _cleanup_yajl_ yajl_val root = parse(json, len, "manifest", err);
        if (!root)
                return -1;
        const char *cp[] = { "config", NULL }, *lp[] = { "layers", NULL };
        yajl_val cfg = yajl_tree_get(root, cp, yajl_t_object);
        yajl_val layers = yajl_tree_get(root, lp, yajl_t_array);
        if (!cfg)
                return herr_plain(err, EINVAL, "manifest: missing config");
        if (desc_parse(cfg, "manifest config", &m->config, err) < 0)
                return -1;
        size_t n = layers ? YAJL_GET_ARRAY(layers)->len : 0;
        if (n > MAX_LAYERS) {
                manifest_free(m);
                return herr_plain(err, E2BIG, "manifest: %zu layers (at most %d)", n, MAX_LAYERS);
        }
        m->layers = calloc(n ? n : 1, sizeof *m->layers);
        if (!m->layers) {
                manifest_free(m);
                return herr_set(err, ENOMEM, "manifest");
        }
        for (size_t i = 0; i < n; i++) {
                if (desc_parse(YAJL_GET_ARRAY(layers)->values[i], "layer", &m->layers[i], err) < 0) {
                        m->n_layers = i + 1;
                        manifest_free(m);
                        return herr_prefix(err, "manifest");
                }
                m->n_layers = i + 1;
                if (!layer_media_type_ok(m->layers[i].media_type)) {
                        herr_plain(err, ENOTSUP, "manifest: layer %s: unsupported media type \"%s\"",
                                 m->layers[i].digest, m->layers[i].media_type);
                        manifest_free(m);
                        return -1;
                }
        }
        return 0;
}

static bool platform_ok(yajl_val d)
{
        const char *pp[] = { "platform", NULL };
        yajl_val p = yajl_tree_get(d, pp, yajl_t_object);
        if (!p)
                return true;
        const char *os = get_str(p, "os"), *arch = get_str(p, "architecture");
        return (!os || strcmp(os, "linux") == 0) && (!arch || strcmp(arch, "amd64") == 0);
}

static const char *ref_name_of(yajl_val d)
{
        const char *ap[] = { "annotations", "org.opencontainers.image.ref.name", NULL };
        yajl_val v = yajl_tree_get(d, ap, yajl_t_string);
        return v ? YAJL_GET_STRING(v) : NULL;
}

int index_select(const char *json, size_t len, const char *tag, struct image_desc *out,
                 bool *is_index, char **ref_name, herr_t *err)
{
        _cleanup_yajl_ yajl_val root = parse(json, len, "index", err);
        if (!root)
                return -1;
        const char *mp[] = { "manifests", NULL };
        yajl_val ms = yajl_tree_get(root, mp, yajl_t_array);
        size_t n = ms ? YAJL_GET_ARRAY(ms)->len : 0;
        for (size_t i = 0; i < n; i++) {
                yajl_val d = YAJL_GET_ARRAY(ms)->values[i];
                const char *rn = ref_name_of(d), *mt = get_str(d, "mediaType");
                if (tag && (!rn || strcmp(rn, tag) != 0))
                        continue;
                if (!platform_ok(d))
                        continue;
                if (desc_parse(d, "index manifest", out, err) < 0)
                        return -1;
                *is_index = mt && (strstr(mt, "image.index") || strstr(mt, "manifest.list"));
                *ref_name = rn ? strdup(rn) : NULL;
                return 0;
        }
        if (tag)
                return herr_plain(err, ENOENT, "index: no manifest named \"%s\"", tag);
        return herr_plain(err, ENOENT, "index: no manifest for linux/amd64");
}

int image_load_manifest(const char *storage, const char *digest, struct image_manifest *m,
                        herr_t *err)
{
        _cleanup_free_ char *buf = NULL;
        size_t len = 0;
        if (blob_read(storage, digest, MAX_JSON_BLOB, &buf, &len, err) < 0)
                return -1;
        if (manifest_parse(buf, len, m, err) < 0)
                return herr_prefix(err, "image %s", digest);
        return 0;
}

int config_diff_ids(const char *storage, const char *config_digest, size_t n_layers, char ***out,
                    herr_t *err)
{
        _cleanup_free_ char *buf = NULL;
        size_t len = 0;
        *out = NULL;
        if (blob_read(storage, config_digest, MAX_JSON_BLOB, &buf, &len, err) < 0)
                return -1;
        _cleanup_yajl_ yajl_val root = parse(buf, len, "config", err);
        if (!root)
                return herr_prefix(err, "%s", config_digest);
        const char *p[] = { "rootfs", "diff_ids", NULL };
        yajl_val ids = yajl_tree_get(root, p, yajl_t_array);
        if (!ids)
                return 0; /* no diff_ids: only the blob digests are checked */
        if (YAJL_GET_ARRAY(ids)->len != n_layers)
                return herr_plain(err, EINVAL, "config %s: %zu diff_ids for %zu layers", config_digest,
                                  YAJL_GET_ARRAY(ids)->len, n_layers);
        char **v = calloc(n_layers + 1, sizeof *v);
        if (!v)
                return herr_set(err, ENOMEM, "config");
        for (size_t i = 0; i < n_layers; i++) {
                const char *s = YAJL_GET_STRING(YAJL_GET_ARRAY(ids)->values[i]);
                if (!s || !digest_hex(s) || !(v[i] = strdup(s))) {
                        cleanup_strvp(&v);
                        return herr_plain(err, EINVAL, "config %s: invalid diff_id %zu", config_digest, i);
                }
        }
        *out = v;
        return 0;
}
