/* images/: declarations shared between the files of images/ only. */
#ifndef HUSK_IMAGES_INTERNAL_H
#define HUSK_IMAGES_INTERNAL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "images.h"

/* A validation error: errnum kept for callers, no strerror in the message. */
#define herr_plain(e, num, ...) herr_errnum(herr_set((e), 0, __VA_ARGS__), (e), (num))
static inline int herr_errnum(int rc, herr_t *e, int num)
{
        e->errnum = num;
        return rc;
}

#define DIGEST_HEX_LEN 64
#define MAX_JSON_BLOB (4u << 20)    /* cap for manifests, indexes, configs */
#define MAX_LAYERS 128

/* ---- digest.c ---- */
/* Validate "sha256:<64 lowercase hex>"; returns a pointer to the hex. */
const char *digest_hex(const char *digest);
/* Copy src_fd into a new blob of the store, verifying size and digest.
 * expect_digest may be NULL (then computed; *out_digest set). */
int blob_store_fd(const char *storage, int src_fd, const char *expect_digest, int64_t expect_size,
                  const struct image_import_opts *opts, char **out_digest, herr_t *err);
int blob_store_mem(const char *storage, const void *buf, size_t len, char **out_digest,
                   herr_t *err);
int blob_path(const char *storage, const char *digest, char **path, herr_t *err);
int blob_read(const char *storage, const char *digest, size_t max, char **out, size_t *len,
              herr_t *err);
int sha256_hex_mem(const void *buf, size_t len, char out[DIGEST_HEX_LEN + 1]);

/* ---- store.c ---- */
int store_init(const char *storage, herr_t *err);
/* Exclusive store lock (refs, prune); returns an fd or -1. */
int store_lock(const char *storage, herr_t *err);
/* gc lock (prune.c): imports and mounts shared, prune exclusive. */
int store_gc_lock(const char *storage, bool shared, herr_t *err);
int refs_set(const char *storage, const char *ref, const char *digest, herr_t *err);
int refs_del(const char *storage, const char *ref, herr_t *err);
struct ref_entry { char *name; char *digest; };
int refs_load(const char *storage, struct ref_entry **out, size_t *n, herr_t *err);
void refs_free(struct ref_entry *r, size_t n);
/* "busybox" -> "busybox:latest" (malloc'd) after validation. */
int ref_normalize(const char *ref, char **out, herr_t *err);

/* ---- manifest.c ---- */
struct image_desc { char *media_type; char *digest; int64_t size; };
struct image_manifest {
        struct image_desc config;
        struct image_desc *layers;
        size_t n_layers;
};
int manifest_parse(const char *json, size_t len, struct image_manifest *m, herr_t *err);
void manifest_free(struct image_manifest *m);
/* Pick the manifest in an index: linux/amd64 (or no platform), optionally
 * with annotation org.opencontainers.image.ref.name == tag. Nested
 * indexes are returned with *is_index = true. *ref_name: its annotation. */
int index_select(const char *json, size_t len, const char *tag, struct image_desc *out,
                 bool *is_index, char **ref_name, herr_t *err);
void desc_free(struct image_desc *d);
bool layer_media_type_ok(const char *mt);
/* config.rootfs.diff_ids of a stored config (NULL-terminated; *out NULL
 * when the config has none); their count must equal n_layers. */
int config_diff_ids(const char *storage, const char *config_digest, size_t n_layers, char ***out,
                    herr_t *err);
/* Load the manifest of a stored image. */
int image_load_manifest(const char *storage, const char *digest, struct image_manifest *m,
                        herr_t *err);

/* ---- unpack.c ---- */
/* Unpack the layer blob into layers/<hex> (once; locked; atomic); the
 * uncompressed stream must hash to diff_id unless that is NULL. */
int layer_unpack(const char *storage, const char *digest, const char *diff_id, bool allow_devices,
                 herr_t *err);
/* Unpack an archive file into an existing directory dirfd (same checks). */
int unpack_archive_fd(int archive_fd, int root_fd, bool allow_devices, const char *diff_id,
                      herr_t *err);

/* ---- layer_stream.c ---- */
struct archive;
struct layer_stream;
/* Decompress fd (tar, gzip, zstd) once; *tar reads it, hashing as it goes. */
int layer_stream_open(int fd, struct layer_stream **s, struct archive **tar, herr_t *err);
/* Hash the rest of the stream and compare with expect (NULL: no check). */
int layer_stream_finish(struct layer_stream *s, const char *expect, herr_t *err);
void layer_stream_free(struct layer_stream *s);

/* ---- import_layout.c / import_docker.c ---- */
/* Open dir/rel for reading with symlinks resolved inside dir. */
int src_open(const char *dir, const char *rel, herr_t *err);
int import_oci_dir(const char *storage, const char *dir, const struct image_import_opts *opts,
                   char **manifest_digest, char **found_name, herr_t *err);
int import_docker_dir(const char *storage, const char *dir, const struct image_import_opts *opts,
                      char **manifest_digest, char **found_name, herr_t *err);
/* Verify and store config + layers of a manifest, then unpack the layers. */
int import_manifest_blobs(const char *storage, const char *src_dir, const struct image_manifest *m,
                          const struct image_import_opts *opts, herr_t *err);

#endif
