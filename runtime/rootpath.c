/* Path resolution inside the container rootfs (openat2 RESOLVE_IN_ROOT). */
#include "rootfs.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <linux/openat2.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "../common/cleanup.h"

static int openat2_in_root(int rootfd, const char *path, int oflags)
{
        struct open_how how = {
                .flags = (unsigned long long)(oflags | O_CLOEXEC),
                .resolve = RESOLVE_IN_ROOT | RESOLVE_NO_MAGICLINKS,
        };
        /* An empty or "/" path is the root itself. */
        while (*path == '/')
                path++;
        if (!*path)
                path = ".";
        int fd;
        do
                fd = (int)syscall(SYS_openat2, rootfd, path, &how, sizeof how);
        while (fd < 0 && (errno == EINTR || errno == EAGAIN));
        return fd;
}

int root_open(int rootfd, const char *path, int oflags, herr_t *err)
{
        int fd = openat2_in_root(rootfd, path, oflags);
        if (fd < 0)
                return herr_sys(err, "%s", path);
        return fd;
}

int root_mkdir_p(int rootfd, const char *path, mode_t mode, herr_t *err)
{
        char buf[PATH_MAX];
        if (snprintf(buf, sizeof buf, "%s", path) >= (int)sizeof buf)
                return herr_set(err, ENAMETOOLONG, "%s", path);
        size_t len = strlen(buf);
        for (size_t i = 1; i <= len; i++) {
                if (buf[i] != '/' && buf[i] != '\0')
                        continue;
                if (buf[i - 1] == '/')
                        continue;
                char c = buf[i];
                buf[i] = '\0';
                int fd = openat2_in_root(rootfd, buf, O_PATH | O_DIRECTORY);
                if (fd >= 0) {
                        close(fd);
                } else if (errno == ENOENT) {
                        char *slash = strrchr(buf, '/');
                        const char *name = slash ? slash + 1 : buf;
                        char parent[PATH_MAX];
                        snprintf(parent, sizeof parent, "%.*s", slash ? (int)(slash - buf) : 0, buf);
                        _cleanup_close_ int pfd = openat2_in_root(rootfd, parent, O_PATH | O_DIRECTORY);
                        if (pfd < 0)
                                return herr_sys(err, "%s", parent[0] ? parent : "/");
                        if (mkdirat(pfd, name, mode) < 0 && errno != EEXIST)
                                return herr_sys(err, "mkdir %s", buf);
                } else {
                        return herr_sys(err, "%s", buf);
                }
                buf[i] = c;
        }
        return 0;
}
