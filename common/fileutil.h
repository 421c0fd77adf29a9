/* Small file helpers shared by every folder. All return -1 and fill err. */
#ifndef HUSK_COMMON_FILEUTIL_H
#define HUSK_COMMON_FILEUTIL_H

#include <stddef.h>
#include <sys/types.h>

#include "error.h"

/* Read a whole file (at most max bytes) into a NUL-terminated buffer. */
int read_file(const char *path, size_t max, char **out, size_t *len, herr_t *err);
/* Read a whole fd (from its current offset). */
int read_fd(int fd, size_t max, char **out, size_t *len, herr_t *err);
/* Write data to path via a temporary file, fsync and rename (atomic). */
int write_file_atomic(const char *path, const void *data, size_t len, mode_t mode, herr_t *err);
/* Write a short string to an existing file (sysfs, procfs, cgroupfs). */
int write_file_str(const char *path, const char *s, herr_t *err);
/* Write all of buf to fd, retrying on EINTR and short writes. */
int write_all(int fd, const void *buf, size_t len);
/* mkdir -p with mode for every created component. */
int mkdir_p(const char *path, mode_t mode, herr_t *err);
/* rm -rf that does not cross mount points and never follows symlinks. */
int remove_tree(const char *path, herr_t *err);

#endif
