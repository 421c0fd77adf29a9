/* images/overlay.c: a container's rootfs as an overlay of the image's
 * layers (lowerdir, top first) with a per-container upper and work dir. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <unistd.h>

#include "../common/cleanup.h"
#include "../common/fileutil.h"
#include "internal.h"

static int check_id(const char *id, herr_t *err)
{
        size_t n = strlen(id);
        if (n == 0 || n > 128 || id[0] == '.')
                return herr_plain(err, EINVAL, "container id \"%s\": invalid", id);
        for (size_t i = 0; i < n; i++)
                if (!strchr("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_.-", id[i]))
                        return herr_plain(err, EINVAL, "container id \"%s\": invalid character", id);
        return 0;
}

/* "L/top:...:L/bottom" (or the container's empty dir for 0 layers). */
static int lowerdirs(const char *storage, const struct image_manifest *m, const char *cdir,
                     char **out, herr_t *err)
{
        size_t len = 0;
        FILE *f = open_memstream(out, &len);
        if (!f)
                return herr_set(err, ENOMEM, "overlay");
        int rc = 0;
        for (size_t i = m->n_layers; i-- > 0;) {
                _cleanup_free_ char *p = NULL;
                struct stat st;
                if (asprintf(&p, "%s/layers/%s", storage, digest_hex(m->layers[i].digest)) < 0)
                        rc = herr_set(err, ENOMEM, "overlay");
                else if (stat(p, &st) < 0)
                        rc = herr_sys(err, "layer %s: not unpacked (import the image again)",
                                      m->layers[i].digest);
                else if (strchr(p, ':') || strchr(p, ','))
                        rc = herr_plain(err, EINVAL, "%s: ':' or ',' in the storage path", p);
                if (rc < 0)
                        break;
                fprintf(f, "%s%s", i == m->n_layers - 1 ? "" : ":", p);
        }
        if (rc == 0 && m->n_layers == 0) {
                _cleanup_free_ char *e = NULL;
                if (asprintf(&e, "%s/empty", cdir) < 0 || mkdir(e, 0755) < 0)
                        rc = herr_sys(err, "%s/empty", cdir);
                else
                        fputs(e, f);
        }
        fclose(f);
        return rc;
}

/* The new mount API with one "lowerdir+" per layer (Linux >= 6.8): no
 * page-size limit on the option string, so any number of layers fits. */
static int mount_many_layers(char *lower, const char *cdir, const char *rootfs, herr_t *err)
{
        _cleanup_close_ int fs = fsopen("overlay", FSOPEN_CLOEXEC);
        if (fs < 0)
                return herr_sys(err, "fsopen overlay");
        char *save = NULL;
        for (char *l = strtok_r(lower, ":", &save); l; l = strtok_r(NULL, ":", &save))
                if (fsconfig(fs, FSCONFIG_SET_STRING, "lowerdir+", l, 0) < 0)
                        return herr_sys(err, "overlay lowerdir+ %s (kernel older than 6.8?)", l);
        _cleanup_free_ char *up = NULL, *wk = NULL;
        if (asprintf(&up, "%s/upper", cdir) < 0 || asprintf(&wk, "%s/work", cdir) < 0)
                return herr_set(err, ENOMEM, "overlay");
        if (fsconfig(fs, FSCONFIG_SET_STRING, "upperdir", up, 0) < 0 ||
            fsconfig(fs, FSCONFIG_SET_STRING, "workdir", wk, 0) < 0 ||
            fsconfig(fs, FSCONFIG_CMD_CREATE, NULL, NULL, 0) < 0)
                return herr_sys(err, "overlay upper/work");
        _cleanup_close_ int mfd = fsmount(fs, FSMOUNT_CLOEXEC, 0);
        if (mfd < 0 || move_mount(mfd, "", AT_FDCWD, rootfs, MOVE_MOUNT_F_EMPTY_PATH) < 0)
                return herr_sys(err, "mount overlay at %s", rootfs);
        return 0;
}

static int do_mount(const char *storage, const char *digest, const char *cdir, herr_t *err)
{
        struct image_manifest m;
        if (image_load_manifest(storage, digest, &m, err) < 0)
                return -1;
        _cleanup_free_ char *lower = NULL, *opts = NULL, *rootfs = NULL, *img = NULL;
        int rc = lowerdirs(storage, &m, cdir, &lower, err);
        manifest_free(&m);
        if (rc < 0)
                return -1;
        static const char *const sub[] = { "upper", "work", "rootfs" };
        for (size_t i = 0; i < ARRAY_SIZE(sub); i++) {
                _cleanup_free_ char *p = NULL;
                if (asprintf(&p, "%s/%s", cdir, sub[i]) < 0 || mkdir(p, 0755) < 0)
                        return herr_sys(err, "%s/%s", cdir, sub[i]);
        }
        if (asprintf(&img, "%s/image", cdir) < 0 ||
            asprintf(&rootfs, "%s/rootfs", cdir) < 0 ||
            asprintf(&opts, "lowerdir=%s,upperdir=%s/upper,workdir=%s/work", lower, cdir, cdir) < 0)
                return herr_set(err, ENOMEM, "overlay");
        if (write_file_atomic(img, digest, strlen(digest), 0600, err) < 0)
                return -1;
        if (strlen(opts) >= (size_t)sysconf(_SC_PAGESIZE) - 1)
                return mount_many_layers(lower, cdir, rootfs, err);
        if (mount("overlay", rootfs, "overlay", 0, opts) < 0)
                return herr_sys(err, "mount overlay at %s", rootfs);
        return 0;
}

int image_rootfs_mount(const char *storage, const char *ref, const char *container_id,
                       char **rootfs_path, herr_t *err)
{
        _cleanup_free_ char *digest = NULL, *cdir = NULL;
        if (check_id(container_id, err) < 0 || store_init(storage, err) < 0 ||
            image_resolve(storage, ref, &digest, err) < 0)
                return -1;
        _cleanup_close_ int gl = store_gc_lock(storage, true, err);
        if (gl < 0)
                return -1;
        if (asprintf(&cdir, "%s/containers/%s", storage, container_id) < 0)
                return herr_set(err, ENOMEM, "rootfs");
        if (mkdir(cdir, 0700) < 0)
                return herr_sys(err, "container %s: rootfs directory %s", container_id, cdir);
        if (do_mount(storage, digest, cdir, err) < 0) {
                herr_t e2 = { 0 };
                (void)remove_tree(cdir, &e2);
                return herr_prefix(err, "container %s: image %s", container_id, ref);
        }
        if (rootfs_path && asprintf(rootfs_path, "%s/rootfs", cdir) < 0)
                return herr_set(err, ENOMEM, "rootfs");
        return 0;
}

int image_rootfs_release(const char *storage, const char *container_id, herr_t *err)
{
        _cleanup_free_ char *cdir = NULL, *rootfs = NULL;
        if (check_id(container_id, err) < 0)
                return -1;
        if (asprintf(&cdir, "%s/containers/%s", storage, container_id) < 0 ||
            asprintf(&rootfs, "%s/rootfs", cdir) < 0)
                return herr_set(err, ENOMEM, "rootfs");
        struct stat st;
        if (stat(cdir, &st) < 0)
                return errno == ENOENT ? 0 : herr_sys(err, "container %s", container_id);
        if (umount2(rootfs, MNT_DETACH) < 0 && errno != EINVAL && errno != ENOENT)
                return herr_sys(err, "container %s: unmount %s", container_id, rootfs);
        if (remove_tree(cdir, err) < 0)
                return herr_prefix(err, "container %s", container_id);
        return 0;
}
