/* runtime/rootfs.h: the container's root filesystem, built inside its new
 * mount namespace before pivot_root. Every path of the config is resolved
 * inside the rootfs (openat2 RESOLVE_IN_ROOT) and mounted through
 * /proc/self/fd/N, so a symlink in the image can never redirect a mount
 * outside the rootfs. */
#ifndef HUSK_RUNTIME_ROOTFS_H
#define HUSK_RUNTIME_ROOTFS_H

#include <stdbool.h>
#include <sys/types.h>

#include "../common/error.h"
#include "../spec/config.h"

struct rootfs_opts {
        const char *rootfs;    /* absolute host path */
        const char *bundle;    /* absolute, for relative bind sources */
        bool userns;           /* in a new user namespace: bind devices */
        bool no_pivot;
};

/* Propagation, bind of the rootfs, config mounts in order, devices and
 * /dev symlinks, hostname, domainname, sysctl. Returns the rootfs dirfd. */
int rootfs_prepare(const struct oci_config *c, const struct rootfs_opts *o, herr_t *err);

/* Bind the pty slave on /dev/console (no-op for slave < 0). */
int rootfs_bind_console(int rootfd, int slave, herr_t *err);

/* maskedPaths and readonlyPaths (after the createContainer hooks). */
int rootfs_protect(const struct oci_config *c, int rootfd, herr_t *err);

/* pivot_root (or MS_MOVE + chroot with no_pivot), readonly root,
 * rootfsPropagation. */
int rootfs_enter(const struct oci_config *c, int rootfd, const struct rootfs_opts *o, herr_t *err);

/* Resolve path inside root; returns an O_PATH (or oflags) fd. */
int root_open(int rootfd, const char *path, int oflags, herr_t *err);
/* Create the directories of path inside root (like mkdir -p). */
int root_mkdir_p(int rootfd, const char *path, mode_t mode, herr_t *err);

#endif
