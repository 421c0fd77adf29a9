/* images/: husk's OCI image store and overlay rootfs.
 *
 * Store layout under STORAGE (default /var/lib/husk):
 *   blobs/sha256/<hex>       every verified blob (manifests, configs, layers)
 *   layers/<hex>/            unpacked layer (<hex> = the layer blob's digest);
 *                            only complete layers appear under this name
 *   layers/<hex>.lock        flock()ed while the layer is unpacked
 *   refs                     "name:tag sha256:<manifest>" lines, atomic rewrite
 *   containers/<id>/         upper/, work/, rootfs/ and "image" (manifest digest)
 * All functions return -1 and fill err on failure; none print, none exit,
 * except image_cli() which implements `husk image ...` and prints results.
 */
#ifndef HUSK_IMAGES_H
#define HUSK_IMAGES_H

#include <stdbool.h>
#include <stdint.h>

#include "../common/error.h"

#define IMAGE_DEFAULT_STORAGE "/var/lib/husk"

/* Progress of a blob copy: done/total bytes of blob `digest`. */
typedef void (*image_progress_fn)(const char *digest, uint64_t done, uint64_t total, void *data);

struct image_import_opts {
        const char *name;          /* ref to store ("name[:tag]"); NULL: from the image */
        const char *select_tag;    /* OCI layout: pick the manifest with this ref.name */
        bool allow_devices;        /* allow device nodes in layers (default: rejected) */
        image_progress_fn progress;
        void *progress_data;
};

/* Import an OCI image layout (directory or tar of one) or a `docker save`
 * archive. On success *ref_out (may be NULL) is the stored ref. */
int image_import(const char *storage, const char *path, const struct image_import_opts *opts,
                 char **ref_out, herr_t *err);

/* Resolve REF (name, name:tag, sha256:<hex>, or a unique hex prefix of
 * >= 6 digits) to the manifest digest "sha256:<hex>". */
int image_resolve(const char *storage, const char *ref, char **digest, herr_t *err);

/* Drop a ref (blobs and layers stay until image_prune). */
int image_remove(const char *storage, const char *ref, herr_t *err);

/* Remove blobs and layers that no ref and no container uses. *freed counts
 * removed blobs + layers (may be NULL). */
int image_prune(const char *storage, unsigned *freed, herr_t *err);

/* Mount the image's rootfs for a container: overlay with the layers as
 * lowerdir, containers/<id>/{upper,work}; mounted at containers/<id>/rootfs. */
int image_rootfs_mount(const char *storage, const char *ref, const char *container_id,
                       char **rootfs_path, herr_t *err);
/* Unmount and remove only that container's directories. */
int image_rootfs_release(const char *storage, const char *container_id, herr_t *err);

struct oci_gen_opts;

/* The capabilities of an image container (NULL-terminated). */
extern const char *const image_default_caps[];

struct image_run_opts {
        char **args;        /* NULL-terminated; NULL/empty: Entrypoint + Cmd */
        char **env;         /* NULL-terminated "K=V"; override/extend the image's Env */
        const char *cwd;    /* NULL: image WorkingDir or "/" */
        const char *user;   /* NULL: image User */
        const char *hostname; /* NULL: "husk" */
        bool terminal;
        /* The rest of the config (caps, seccomp, mounts, resources,
         * namespaces, annotations...); NULL: the image defaults. args, env,
         * cwd, user, root path, terminal, hostname come from above. */
        const struct oci_gen_opts *gen;
};

/* Write bundle_dir/config.json from the image config plus hardened
 * defaults; root.path = rootfs_path. */
int image_write_bundle(const char *storage, const char *ref, const struct image_run_opts *opts,
                       const char *bundle_dir, const char *rootfs_path, herr_t *err);

/* run/create --image in one call: mount the rootfs of container_id and
 * write BUNDLE/config.json for it, BUNDLE = bundle_dir or (NULL)
 * STORAGE/containers/<id>/bundle, which image_rootfs_release() removes too.
 * *bundle_out (may be NULL) gets BUNDLE. On failure nothing is left. */
int image_prepare_bundle(const char *storage, const char *ref, const char *container_id,
                         const struct image_run_opts *opts, const char *bundle_dir,
                         char **bundle_out, herr_t *err);

/* `husk image import|ls|inspect|rm|prune`; argv[0] is the subcommand.
 * Prints results to stdout; returns an exit status (0 ok, 1 failure with
 * err filled, 2 usage with err filled). */
int image_cli(int argc, char **argv, const char *storage, herr_t *err);

#endif
