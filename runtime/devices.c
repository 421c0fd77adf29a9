/* Device nodes and /dev symlinks (runtime-linux.md "Default Devices" and
 * linux.devices), created inside the rootfs before pivot_root. */
#include "rootfs_internal.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include "../common/cleanup.h"

struct devnode {
        const char *path;
        char type;
        unsigned major, minor;
        mode_t mode;
        uid_t uid;
        gid_t gid;
};

static const struct devnode default_devices[] = {
        { "/dev/null", 'c', 1, 3, 0666, 0, 0 },   { "/dev/zero", 'c', 1, 5, 0666, 0, 0 },
        { "/dev/full", 'c', 1, 7, 0666, 0, 0 },   { "/dev/random", 'c', 1, 8, 0666, 0, 0 },
        { "/dev/urandom", 'c', 1, 9, 0666, 0, 0 }, { "/dev/tty", 'c', 5, 0, 0666, 0, 0 },
};

static const struct {
        const char *target, *link;
} dev_symlinks[] = {
        { "/proc/self/fd", "/dev/fd" },
        { "/proc/self/fd/0", "/dev/stdin" },
        { "/proc/self/fd/1", "/dev/stdout" },
        { "/proc/self/fd/2", "/dev/stderr" },
        { "pts/ptmx", "/dev/ptmx" },
};

static int split_parent(int rootfd, const char *path, char name[NAME_MAX + 1], herr_t *err)
{
        char parent[PATH_MAX];
        snprintf(parent, sizeof parent, "%s", path);
        char *slash = strrchr(parent, '/');
        if (!slash || !slash[1] || strlen(slash + 1) > NAME_MAX)
                return herr_set(err, EINVAL, "%s: invalid device path", path);
        snprintf(name, NAME_MAX + 1, "%s", slash + 1);
        *slash = '\0';
        if (root_mkdir_p(rootfd, parent[0] ? parent : "/", 0755, err) < 0)
                return -1;
        return root_open(rootfd, parent[0] ? parent : "/", O_PATH | O_DIRECTORY, err);
}

static int bind_host_device(int rootfd, const struct devnode *d, herr_t *err)
{
        _cleanup_close_ int t = mountpoint_open(rootfd, d->path, true, err);
        if (t < 0)
                return -1;
        char tp[FD_PATH_MAX];
        fd_path(t, tp);
        if (mount(d->path, tp, NULL, MS_BIND, NULL) < 0)
                return herr_sys(err, "%s: bind from the host", d->path);
        return 0;
}

static int make_device(int rootfd, const struct devnode *d, bool userns, herr_t *err)
{
        if (userns)
                return bind_host_device(rootfd, d, err);
        char name[NAME_MAX + 1];
        _cleanup_close_ int pfd = split_parent(rootfd, d->path, name, err);
        if (pfd < 0)
                return -1;
        /* O_PATH dirfds cannot be used with mknodat: reopen as a directory. */
        char pp[FD_PATH_MAX];
        fd_path(pfd, pp);
        _cleanup_close_ int dfd = open(pp, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        if (dfd < 0)
                return herr_sys(err, "%s", d->path);
        mode_t type = d->type == 'b' ? S_IFBLK : d->type == 'p' ? S_IFIFO : S_IFCHR;
        (void)unlinkat(dfd, name, 0);
        if (mknodat(dfd, name, type | (d->mode & 07777), makedev(d->major, d->minor)) < 0)
                return herr_sys(err, "%s: mknod", d->path);
        if (fchmodat(dfd, name, d->mode & 07777, 0) < 0 ||
            fchownat(dfd, name, d->uid, d->gid, AT_SYMLINK_NOFOLLOW) < 0)
                return herr_sys(err, "%s: chmod/chown", d->path);
        return 0;
}

static int make_symlink(int rootfd, const char *target, const char *link, herr_t *err)
{
        char name[NAME_MAX + 1];
        _cleanup_close_ int pfd = split_parent(rootfd, link, name, err);
        if (pfd < 0)
                return -1;
        char pp[FD_PATH_MAX];
        fd_path(pfd, pp);
        _cleanup_close_ int dfd = open(pp, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        if (dfd < 0)
                return herr_sys(err, "%s", link);
        if (symlinkat(target, dfd, name) < 0 && errno != EEXIST)
                return herr_sys(err, "symlink %s", link);
        return 0;
}

int devices_create(const struct oci_config *c, int rootfd, bool userns, herr_t *err)
{
        for (size_t i = 0; i < ARRAY_SIZE(default_devices); i++)
                if (make_device(rootfd, &default_devices[i], userns, err) < 0)
                        return -1;
        const struct oci_linux *l = c->linux_;
        for (size_t i = 0; l && i < l->n_devices; i++) {
                const struct oci_device *od = &l->devices[i];
                struct devnode d = {
                        .path = od->path,
                        .type = od->type[0] == 'u' ? 'c' : od->type[0],
                        .major = (unsigned)od->major,
                        .minor = (unsigned)od->minor,
                        .mode = od->file_mode.set ? (mode_t)od->file_mode.v : 0666,
                        .uid = od->uid.set ? (uid_t)od->uid.v : 0,
                        .gid = od->gid.set ? (gid_t)od->gid.v : 0,
                };
                if (make_device(rootfd, &d, userns, err) < 0)
                        return herr_prefix(err, "linux.devices[%zu]", i);
        }
        for (size_t i = 0; i < ARRAY_SIZE(dev_symlinks); i++)
                if (make_symlink(rootfd, dev_symlinks[i].target, dev_symlinks[i].link, err) < 0)
                        return -1;
        return 0;
}
