/* Shared between the rootfs_*.c files; not part of the public header. */
#ifndef HUSK_RUNTIME_ROOTFS_INTERNAL_H
#define HUSK_RUNTIME_ROOTFS_INTERNAL_H

#include "rootfs.h"

/* "/proc/self/fd/N" for fd. */
#define FD_PATH_MAX 32
void fd_path(int fd, char buf[FD_PATH_MAX]);

/* Re-mount a bind mount with flags, keeping the flags the kernel locks
 * (nosuid, nodev, noexec, atime) when it refuses to drop them. */
int remount_bind(const char *target, unsigned long flags, const char *what, herr_t *err);

/* Create the mount point for dest inside root: a directory, or an empty
 * file when is_file. Returns an O_PATH fd of it. */
int mountpoint_open(int rootfd, const char *dest, bool is_file, herr_t *err);

int devices_create(const struct oci_config *c, int rootfd, bool userns, herr_t *err);

#endif
