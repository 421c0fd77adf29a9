/* The mounts of config.json, in order, inside the rootfs.
 * Runs in the container init, in its new mount namespace, as root of its
 * user namespace, before pivot_root: /proc is still the host's. */
#include "rootfs_internal.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "../common/cleanup.h"
#include "../common/fileutil.h"
#include "../spec/mountopts.h"

void fd_path(int fd, char buf[FD_PATH_MAX])
{
        snprintf(buf, FD_PATH_MAX, "/proc/self/fd/%d", fd);
}

struct mount_plan {
        unsigned long flags;
        unsigned long prop[8];
        size_t n_prop;
        bool bind;
        bool recursive;
        char data[4096];
};

static int plan_mount(const struct oci_mount *m, size_t idx, struct mount_plan *p, herr_t *err)
{
        memset(p, 0, sizeof *p);
        size_t dlen = 0;
        for (size_t i = 0; i < m->n_options; i++) {
                const char *o = m->options[i];
                const struct mount_opt *mo = mount_opt_lookup(o);
                if (!mo) {
                        /* Filesystem-specific data (mode=755, size=64k, ...). */
                        size_t ol = strlen(o);
                        if (dlen + ol + 2 > sizeof p->data)
                                return herr_set(err, E2BIG, "mounts[%zu].options: too long", idx);
                        if (dlen)
                                p->data[dlen++] = ',';
                        memcpy(p->data + dlen, o, ol + 1);
                        dlen += ol;
                        continue;
                }
                switch (mo->kind) {
                case MOPT_FLAG:
                        if (mo->clear)
                                p->flags &= ~mo->flag;
                        else
                                p->flags |= mo->flag;
                        break;
                case MOPT_PROPAGATION:
                        if (p->n_prop == ARRAY_SIZE(p->prop))
                                return herr_set(err, E2BIG, "mounts[%zu].options: too many propagation flags", idx);
                        p->prop[p->n_prop++] = mo->flag;
                        break;
                case MOPT_BIND:
                        p->bind = true;
                        p->recursive |= (mo->flag & MS_REC) != 0;
                        break;
                case MOPT_IGNORED:
                        break;
                }
        }
        if (m->type && !strcmp(m->type, "bind"))
                p->bind = true;
        return 0;
}

static unsigned long locked_flags(const char *target)
{
        struct statvfs sv;
        unsigned long f = 0;
        if (statvfs(target, &sv) < 0)
                return 0;
        if (sv.f_flag & ST_NOSUID)
                f |= MS_NOSUID;
        if (sv.f_flag & ST_NODEV)
                f |= MS_NODEV;
        if (sv.f_flag & ST_NOEXEC)
                f |= MS_NOEXEC;
        if (sv.f_flag & ST_NOATIME)
                f |= MS_NOATIME;
        if (sv.f_flag & ST_NODIRATIME)
                f |= MS_NODIRATIME;
        if (sv.f_flag & ST_RELATIME)
                f |= MS_RELATIME;
        return f;
}

int remount_bind(const char *target, unsigned long flags, const char *what, herr_t *err)
{
        unsigned long f = MS_BIND | MS_REMOUNT | flags;
        if (mount(NULL, target, NULL, f, NULL) == 0)
                return 0;
        if (errno == EPERM && mount(NULL, target, NULL, f | locked_flags(target), NULL) == 0)
                return 0;
        return herr_sys(err, "%s: remount", what);
}

int mountpoint_open(int rootfd, const char *dest, bool is_file, herr_t *err)
{
        int fd = root_open(rootfd, dest, O_PATH, err);
        if (fd >= 0 || err->errnum != ENOENT)
                return fd;
        char parent[PATH_MAX];
        snprintf(parent, sizeof parent, "%s", dest);
        char *slash = strrchr(parent, '/');
        if (!is_file)
                return root_mkdir_p(rootfd, dest, 0755, err) < 0 ? -1
                                                                  : root_open(rootfd, dest, O_PATH, err);
        if (slash)
                *slash = '\0';
        if (root_mkdir_p(rootfd, parent, 0755, err) < 0)
                return -1;
        int f = root_open(rootfd, dest, O_WRONLY | O_CREAT | O_NOFOLLOW, err);
        if (f < 0)
                return -1;
        close(f);
        return root_open(rootfd, dest, O_PATH, err);
}

static int source_is_file(const char *src)
{
        struct stat st;
        if (stat(src, &st) < 0)
                return -1;
        return !S_ISDIR(st.st_mode);
}

static int do_mount(const struct oci_mount *m, size_t idx, int rootfd, const char *bundle, herr_t *err)
{
        struct mount_plan p;
        if (plan_mount(m, idx, &p, err) < 0)
                return -1;
        char src[PATH_MAX];
        const char *source = m->source ? m->source : (m->type ? m->type : "none");
        if (p.bind && source[0] != '/')
                snprintf(src, sizeof src, "%s/%s", bundle, source);
        else
                snprintf(src, sizeof src, "%s", source);
        bool is_file = false;
        if (p.bind) {
                int r = source_is_file(src);
                if (r < 0)
                        return herr_sys(err, "mounts[%zu]: source %s", idx, src);
                is_file = r;
        }
        _cleanup_close_ int target = mountpoint_open(rootfd, m->destination, is_file, err);
        if (target < 0)
                return herr_prefix(err, "mounts[%zu] (%s)", idx, m->destination);
        if (m->type && (!strcmp(m->type, "proc") || !strcmp(m->type, "sysfs"))) {
                /* A symlink here could move /proc or /sys anywhere in the rootfs. */
                _cleanup_close_ int chk = root_open(rootfd, m->destination, O_PATH | O_NOFOLLOW, err);
                struct stat st;
                if (chk < 0 || fstat(chk, &st) < 0 || !S_ISDIR(st.st_mode))
                        return herr_set(err, 0, "mounts[%zu]: %s must be a directory, not a symlink",
                                        idx, m->destination);
        }
        char tpath[FD_PATH_MAX];
        fd_path(target, tpath);
        if (p.bind) {
                if (mount(src, tpath, NULL, MS_BIND | (p.recursive ? MS_REC : 0), NULL) < 0)
                        return herr_sys(err, "mounts[%zu]: bind %s on %s", idx, src, m->destination);
                unsigned long extra = p.flags & ~(unsigned long)MS_REMOUNT;
                if (extra) {
                        /* Re-open: the fd still refers to the covered directory. */
                        _cleanup_close_ int t2 = root_open(rootfd, m->destination, O_PATH, err);
                        if (t2 < 0)
                                return herr_prefix(err, "mounts[%zu]", idx);
                        fd_path(t2, tpath);
                        char what[64];
                        snprintf(what, sizeof what, "mounts[%zu]", idx);
                        if (remount_bind(tpath, extra, what, err) < 0)
                                return -1;
                }
        } else {
                const char *type = m->type ? m->type : "none";
                /* husk manages cgroup v2 only: a "cgroup" mount (what
                 * clients ask for on v1 hosts) is the v2 hierarchy, as runc
                 * does on unified hosts. */
                if (!strcmp(type, "cgroup"))
                        type = "cgroup2";
                if (mount(src, tpath, type, p.flags, p.data[0] ? p.data : NULL) < 0)
                        return herr_sys(err, "mounts[%zu]: mount %s (%s) on %s", idx, src, type,
                                        m->destination);
        }
        if (p.n_prop) {
                _cleanup_close_ int t3 = root_open(rootfd, m->destination, O_PATH, err);
                if (t3 < 0)
                        return herr_prefix(err, "mounts[%zu]", idx);
                fd_path(t3, tpath);
                for (size_t i = 0; i < p.n_prop; i++)
                        if (mount(NULL, tpath, NULL, p.prop[i], NULL) < 0)
                                return herr_sys(err, "mounts[%zu]: propagation of %s", idx, m->destination);
        }
        return 0;
}

static bool dev_is_bind_mounted(const struct oci_config *c)
{
        for (size_t i = 0; i < c->n_mounts; i++) {
                const struct oci_mount *m = &c->mounts[i];
                if (strcmp(m->destination, "/dev") != 0)
                        continue;
                if (m->type && !strcmp(m->type, "bind"))
                        return true;
                for (size_t j = 0; j < m->n_options; j++)
                        if (!strcmp(m->options[j], "bind") || !strcmp(m->options[j], "rbind"))
                                return true;
        }
        return false;
}

static int set_sysctls(const struct oci_config *c, herr_t *err)
{
        const struct oci_linux *l = c->linux_;
        for (size_t i = 0; l && i < l->n_sysctl; i++) {
                const char *k = l->sysctl[i].key;
                if (strstr(k, "..") || strchr(k, '/') == k)
                        return herr_set(err, 0, "linux.sysctl: invalid key '%s'", k);
                char path[PATH_MAX] = "/proc/sys/";
                size_t n = strlen(path);
                for (const char *p = k; *p && n < sizeof path - 1; p++)
                        path[n++] = *p == '.' ? '/' : *p;
                path[n] = '\0';
                if (write_file_str(path, l->sysctl[i].value, err) < 0)
                        return herr_prefix(err, "linux.sysctl %s", k);
        }
        return 0;
}

static int set_names(const struct oci_config *c, herr_t *err)
{
        if (c->hostname && *c->hostname && sethostname(c->hostname, strlen(c->hostname)) < 0)
                return herr_sys(err, "hostname '%s'", c->hostname);
        if (c->domainname && *c->domainname && setdomainname(c->domainname, strlen(c->domainname)) < 0)
                return herr_sys(err, "domainname '%s'", c->domainname);
        return 0;
}

static unsigned long propagation_flag(const char *name)
{
        const struct mount_opt *mo = name ? mount_opt_lookup(name) : NULL;
        return mo && mo->kind == MOPT_PROPAGATION ? mo->flag : 0;
}

int rootfs_bind_console(int rootfd, int slave, herr_t *err)
{
        if (slave < 0)
                return 0;
        _cleanup_close_ int t = mountpoint_open(rootfd, "/dev/console", true, err);
        if (t < 0)
                return herr_prefix(err, "/dev/console");
        char sp[FD_PATH_MAX], tp[FD_PATH_MAX];
        fd_path(slave, sp);
        fd_path(t, tp);
        if (mount(sp, tp, NULL, MS_BIND, NULL) < 0)
                return herr_sys(err, "bind the terminal on /dev/console");
        return 0;
}

int rootfs_prepare(const struct oci_config *c, const struct rootfs_opts *o, herr_t *err)
{
        /* Nothing we mount may propagate back to the host. */
        if (mount(NULL, "/", NULL, MS_REC | MS_SLAVE, NULL) < 0)
                return herr_sys(err, "make / a slave mount");
        if (mount(o->rootfs, o->rootfs, NULL, MS_BIND | MS_REC, NULL) < 0)
                return herr_sys(err, "root.path %s: bind", o->rootfs);
        /* The bind must be private so pivot_root accepts it. */
        if (mount(NULL, o->rootfs, NULL, MS_REC | MS_PRIVATE, NULL) < 0)
                return herr_sys(err, "root.path %s: make private", o->rootfs);
        _cleanup_close_ int rootfd = open(o->rootfs, O_PATH | O_DIRECTORY | O_CLOEXEC);
        if (rootfd < 0)
                return herr_sys(err, "root.path %s", o->rootfs);
        for (size_t i = 0; i < c->n_mounts; i++)
                if (do_mount(&c->mounts[i], i, rootfd, o->bundle, err) < 0)
                        return -1;
        if (!dev_is_bind_mounted(c) && devices_create(c, rootfd, o->userns, err) < 0)
                return -1;
        if (set_names(c, err) < 0 || set_sysctls(c, err) < 0)
                return -1;
        return TAKE_FD(rootfd);
}

static int mask_path(int rootfd, const char *path, herr_t *err)
{
        _cleanup_close_ int fd = root_open(rootfd, path, O_PATH | O_NOFOLLOW, err);
        if (fd < 0)
                return err->errnum == ENOENT ? 0 : herr_prefix(err, "linux.maskedPaths");
        struct stat st;
        if (fstat(fd, &st) < 0)
                return herr_sys(err, "linux.maskedPaths: %s", path);
        char tp[FD_PATH_MAX];
        fd_path(fd, tp);
        if (S_ISDIR(st.st_mode)) {
                if (mount("tmpfs", tp, "tmpfs", MS_RDONLY | MS_NOSUID | MS_NODEV | MS_NOEXEC, "size=0k,mode=555") < 0)
                        return herr_sys(err, "linux.maskedPaths: %s", path);
        } else if (mount("/dev/null", tp, NULL, MS_BIND, NULL) < 0) {
                return herr_sys(err, "linux.maskedPaths: %s", path);
        }
        return 0;
}

static int readonly_path(int rootfd, const char *path, herr_t *err)
{
        _cleanup_close_ int fd = root_open(rootfd, path, O_PATH | O_NOFOLLOW, err);
        if (fd < 0)
                return err->errnum == ENOENT ? 0 : herr_prefix(err, "linux.readonlyPaths");
        char tp[FD_PATH_MAX];
        fd_path(fd, tp);
        if (mount(tp, tp, NULL, MS_BIND | MS_REC, NULL) < 0)
                return herr_sys(err, "linux.readonlyPaths: %s", path);
        _cleanup_close_ int fd2 = root_open(rootfd, path, O_PATH | O_NOFOLLOW, err);
        if (fd2 < 0)
                return herr_prefix(err, "linux.readonlyPaths");
        fd_path(fd2, tp);
        char what[PATH_MAX + 32];
        snprintf(what, sizeof what, "linux.readonlyPaths: %s", path);
        return remount_bind(tp, MS_RDONLY | MS_NOSUID | MS_NODEV | MS_NOEXEC | MS_REC, what, err);
}

int rootfs_protect(const struct oci_config *c, int rootfd, herr_t *err)
{
        const struct oci_linux *l = c->linux_;
        if (!l)
                return 0;
        for (size_t i = 0; i < l->n_masked_paths; i++)
                if (mask_path(rootfd, l->masked_paths[i], err) < 0)
                        return -1;
        for (size_t i = 0; i < l->n_readonly_paths; i++)
                if (readonly_path(rootfd, l->readonly_paths[i], err) < 0)
                        return -1;
        return 0;
}

int rootfs_enter(const struct oci_config *c, int rootfd, const struct rootfs_opts *o, herr_t *err)
{
        if (fchdir(rootfd) < 0)
                return herr_sys(err, "root.path: chdir");
        if (o->no_pivot) {
                if (mount(".", "/", NULL, MS_MOVE, NULL) < 0)
                        return herr_sys(err, "root.path: move to /");
                if (chroot(".") < 0)
                        return herr_sys(err, "chroot");
        } else {
                if (syscall(SYS_pivot_root, ".", ".") < 0)
                        return herr_sys(err, "pivot_root");
                /* The old root is stacked under the new one: detach it. */
                if (umount2(".", MNT_DETACH) < 0)
                        return herr_sys(err, "detach the old root");
        }
        if (chdir("/") < 0)
                return herr_sys(err, "chdir /");
        if (c->root && c->root->readonly && remount_bind("/", MS_RDONLY, "root.readonly", err) < 0)
                return -1;
        unsigned long prop = propagation_flag(c->linux_ ? c->linux_->rootfs_propagation : NULL);
        if (prop && mount(NULL, "/", NULL, prop, NULL) < 0)
                return herr_sys(err, "linux.rootfsPropagation %s", c->linux_->rootfs_propagation);
        return 0;
}
