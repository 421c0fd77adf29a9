#include "fileutil.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cleanup.h"

int read_fd(int fd, size_t max, char **out, size_t *len, herr_t *err)
{
        size_t cap = 4096, n = 0;
        _cleanup_free_ char *buf = malloc(cap + 1);
        if (!buf)
                return herr_set(err, ENOMEM, "read");
        for (;;) {
                if (n == cap) {
                        if (cap >= max)
                                return herr_set(err, EFBIG, "file larger than %zu bytes", max);
                        cap = cap * 2 > max ? max : cap * 2;
                        char *nb = realloc(buf, cap + 1);
                        if (!nb)
                                return herr_set(err, ENOMEM, "read");
                        buf = nb;
                }
                ssize_t r = read(fd, buf + n, cap - n);
                if (r < 0) {
                        if (errno == EINTR)
                                continue;
                        return herr_sys(err, "read");
                }
                if (r == 0)
                        break;
                n += (size_t)r;
        }
        buf[n] = '\0';
        if (len)
                *len = n;
        *out = TAKE_PTR(buf);
        return 0;
}

int read_file(const char *path, size_t max, char **out, size_t *len, herr_t *err)
{
        _cleanup_close_ int fd = open(path, O_RDONLY | O_CLOEXEC);
        if (fd < 0)
                return herr_sys(err, "%s", path);
        if (read_fd(fd, max, out, len, err) < 0)
                return herr_prefix(err, "%s", path);
        return 0;
}

int write_all(int fd, const void *buf, size_t len)
{
        const char *p = buf;
        while (len > 0) {
                ssize_t w = write(fd, p, len);
                if (w < 0) {
                        if (errno == EINTR)
                                continue;
                        return -1;
                }
                p += w;
                len -= (size_t)w;
        }
        return 0;
}

int write_file_atomic(const char *path, const void *data, size_t len, mode_t mode, herr_t *err)
{
        char tmp[PATH_MAX];
        if (snprintf(tmp, sizeof tmp, "%s.tmp.%d", path, (int)getpid()) >= (int)sizeof tmp)
                return herr_set(err, ENAMETOOLONG, "%s", path);
        int fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOFOLLOW, mode);
        if (fd < 0)
                return herr_sys(err, "%s", tmp);
        if (write_all(fd, data, len) < 0 || fsync(fd) < 0) {
                int e = errno;
                close(fd);
                unlink(tmp);
                return herr_set(err, e, "%s: write", path);
        }
        if (close(fd) < 0 || rename(tmp, path) < 0) {
                int e = errno;
                unlink(tmp);
                return herr_set(err, e, "%s", path);
        }
        return 0;
}

int write_file_str(const char *path, const char *s, herr_t *err)
{
        _cleanup_close_ int fd = open(path, O_WRONLY | O_CLOEXEC);
        if (fd < 0)
                return herr_sys(err, "%s", path);
        if (write_all(fd, s, strlen(s)) < 0)
                return herr_sys(err, "%s: write '%s'", path, s);
        return 0;
}

int mkdir_p(const char *path, mode_t mode, herr_t *err)
{
        char buf[PATH_MAX];
        if (snprintf(buf, sizeof buf, "%s", path) >= (int)sizeof buf)
                return herr_set(err, ENAMETOOLONG, "%s", path);
        for (char *p = buf + 1;; p++) {
                if (*p != '/' && *p != '\0')
                        continue;
                char c = *p;
                *p = '\0';
                if (mkdir(buf, mode) < 0 && errno != EEXIST)
                        return herr_sys(err, "mkdir %s", buf);
                *p = c;
                if (!c)
                        break;
        }
        return 0;
}

static int remove_at(int parent, const char *name, dev_t dev, herr_t *err)
{
        struct stat st;
        if (fstatat(parent, name, &st, AT_SYMLINK_NOFOLLOW) < 0)
                return errno == ENOENT ? 0 : herr_sys(err, "stat %s", name);
        if (!S_ISDIR(st.st_mode)) {
                if (unlinkat(parent, name, 0) < 0 && errno != ENOENT)
                        return herr_sys(err, "unlink %s", name);
                return 0;
        }
        if (st.st_dev != dev)
                return herr_set(err, EXDEV, "%s: refusing to cross a mount point", name);
        int fd = openat(parent, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
        if (fd < 0)
                return herr_sys(err, "open %s", name);
        _cleanup_closedir_ DIR *d = fdopendir(fd);
        if (!d) {
                close(fd);
                return herr_sys(err, "opendir %s", name);
        }
        struct dirent *de;
        while ((de = readdir(d))) {
                if (!strcmp(de->d_name, ".") || !strcmp(de->d_name, ".."))
                        continue;
                if (remove_at(dirfd(d), de->d_name, dev, err) < 0)
                        return herr_prefix(err, "%s", name);
        }
        if (unlinkat(parent, name, AT_REMOVEDIR) < 0 && errno != ENOENT)
                return herr_sys(err, "rmdir %s", name);
        return 0;
}

int remove_tree(const char *path, herr_t *err)
{
        struct stat st;
        if (lstat(path, &st) < 0)
                return errno == ENOENT ? 0 : herr_sys(err, "stat %s", path);
        return remove_at(AT_FDCWD, path, st.st_dev, err);
}
