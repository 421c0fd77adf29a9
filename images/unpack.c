/* images/unpack.c: unpack layer tarballs safely, with OCI whiteouts turned
 * into overlayfs whiteouts (char 0:0) and opaque dirs (trusted.overlay.opaque).
 *
 * Entries are written by hand relative to the layer's root dirfd: parents
 * are walked one component at a time with O_NOFOLLOW|O_DIRECTORY, so no
 * entry can pass through a symlink; absolute paths, ".." components,
 * over-long names, hardlinks leaving the layer and device nodes (unless
 * allowed) are rejected. Layers are unpacked once into layers/.tmp-* under
 * a per-layer flock and renamed into place when complete. */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/xattr.h>
#include <unistd.h>

#include <archive.h>
#include <archive_entry.h>

#include "../common/cleanup.h"
#include "../common/fileutil.h"
#include "internal.h"

#define MAX_ENTRIES (1u << 20)
#define WH_PREFIX ".wh."
#define WH_OPAQUE ".wh..wh..opq"

struct unpack_ctx {
        int root;
        bool allow_devices;
        char *path;     /* normalised entry path (in pathbuf) */
        char pathbuf[PATH_MAX];
        char linkbuf[PATH_MAX];
};

/* Normalise an entry path into out: strips "./", empty and "." components;
 * rejects absolute paths, ".." and over-long names. "" means the root. */
static int clean_path(const char *raw, char *out, size_t outsz, herr_t *err)
{
        if (!raw)
                return herr_plain(err, EINVAL, "unreadable name");
        if (raw[0] == '/')
                return herr_plain(err, EPERM, "%s: absolute path not allowed", raw);
        if (strlen(raw) >= outsz)
                return herr_plain(err, ENAMETOOLONG, "%.64s…: name too long", raw);
        size_t o = 0;
        const char *p = raw;
        while (*p) {
                const char *e = strchrnul(p, '/');
                size_t n = (size_t)(e - p);
                if (n == 2 && p[0] == '.' && p[1] == '.')
                        return herr_plain(err, EPERM, "%s: \"..\" component not allowed", raw);
                if (n > NAME_MAX)
                        return herr_plain(err, ENAMETOOLONG, "%.64s…: component too long", raw);
                if (n && !(n == 1 && p[0] == '.')) {
                        if (o)
                                out[o++] = '/';
                        memcpy(out + o, p, n);
                        o += n;
                }
                p = *e ? e + 1 : e;
        }
        out[o] = '\0';
        return 0;
}

/* Open directory `rel` below root without following any symlink; with
 * create, missing components are made (0755). */
static int open_dir(int root, const char *rel, bool create, herr_t *err)
{
        _cleanup_close_ int cur = fcntl(root, F_DUPFD_CLOEXEC, 3);
        if (cur < 0)
                return herr_sys(err, "dup");
        char comp[NAME_MAX + 1];
        const char *p = rel;
        while (*p) {
                const char *e = strchrnul(p, '/');
                size_t n = (size_t)(e - p);
                memcpy(comp, p, n);
                comp[n] = '\0';
                if (create && mkdirat(cur, comp, 0755) < 0 && errno != EEXIST)
                        return herr_sys(err, "%s: mkdir %s", rel, comp);
                int fd = openat(cur, comp, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
                if (fd < 0) {
                        if (errno == ELOOP || errno == ENOTDIR)
                                return herr_plain(err, EPERM, "%.*s: not a directory or a symlink "
                                                "(entries may not pass through symlinks)",
                                                (int)(e - rel), rel);
                        return herr_sys(err, "%.*s", (int)(e - rel), rel);
                }
                close(cur);
                cur = fd;
                p = *e ? e + 1 : e;
        }
        return TAKE_FD(cur);
}

static int rm_rf_at(int dfd, const char *name)
{
        if (unlinkat(dfd, name, 0) == 0 || errno == ENOENT)
                return 0;
        if (errno != EISDIR)
                return -1;
        int fd = openat(dfd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
        if (fd < 0)
                return -1;
        _cleanup_closedir_ DIR *d = fdopendir(fd);
        if (!d) {
                close(fd);
                return -1;
        }
        struct dirent *de;
        while ((de = readdir(d)))
                if (strcmp(de->d_name, ".") && strcmp(de->d_name, "..") &&
                    rm_rf_at(dirfd(d), de->d_name) < 0)
                        return -1;
        return unlinkat(dfd, name, AT_REMOVEDIR);
}

/* Split "a/b/c" into parent fd (created) and base name pointer. */
static int open_parent(struct unpack_ctx *c, const char **base, herr_t *err)
{
        char *slash = strrchr(c->path, '/');
        if (!slash) {
                *base = c->path;
                return fcntl(c->root, F_DUPFD_CLOEXEC, 3);
        }
        *slash = '\0';
        int fd = open_dir(c->root, c->path, true, err);
        *slash = '/';
        *base = slash + 1;
        if (fd < 0)
                herr_prefix(err, "entry %s", c->path);
        return fd;
}

static void apply_xattrs(int fd, struct archive_entry *e)
{
        const char *name;
        const void *val;
        size_t sz;
        archive_entry_xattr_reset(e);
        while (archive_entry_xattr_next(e, &name, &val, &sz) == ARCHIVE_OK)
                if (strncmp(name, "user.", 5) == 0 || strcmp(name, "security.capability") == 0)
                        (void)fsetxattr(fd, name, val, sz, 0);
}

static void apply_owner_mode(int fd, struct archive_entry *e)
{
        if (fchown(fd, (uid_t)archive_entry_uid(e), (gid_t)archive_entry_gid(e)) < 0 && errno != EPERM)
                return;
        (void)fchmod(fd, archive_entry_perm(e) & 07777);
        apply_xattrs(fd, e);
}

static int write_file(struct archive *a, struct unpack_ctx *c, int pfd, const char *base,
                      struct archive_entry *e, herr_t *err)
{
        _cleanup_close_ int fd = openat(pfd, base, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
        if (fd < 0)
                return herr_sys(err, "entry %s", c->path);
        const void *buf;
        size_t sz;
        la_int64_t off;
        int r;
        while ((r = archive_read_data_block(a, &buf, &sz, &off)) == ARCHIVE_OK) {
                if (sz && pwrite(fd, buf, sz, off) != (ssize_t)sz)
                        return herr_sys(err, "entry %s: write", c->path);
        }
        if (r != ARCHIVE_EOF)
                return herr_plain(err, EIO, "entry %s: %s", c->path, archive_error_string(a));
        if (ftruncate(fd, archive_entry_size(e)) < 0)
                return herr_sys(err, "entry %s: truncate", c->path);
        apply_owner_mode(fd, e);
        struct timespec ts[2] = { { archive_entry_mtime(e), 0 }, { archive_entry_mtime(e), 0 } };
        (void)futimens(fd, ts);
        return 0;
}

static int write_dir(struct unpack_ctx *c, int pfd, const char *base, struct archive_entry *e,
                     herr_t *err)
{
        struct stat st;
        if (fstatat(pfd, base, &st, AT_SYMLINK_NOFOLLOW) == 0 && !S_ISDIR(st.st_mode))
                (void)unlinkat(pfd, base, 0);
        if (mkdirat(pfd, base, 0755) < 0 && errno != EEXIST)
                return herr_sys(err, "entry %s: mkdir", c->path);
        _cleanup_close_ int fd = openat(pfd, base, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
        if (fd < 0)
                return herr_sys(err, "entry %s", c->path);
        apply_owner_mode(fd, e);
        return 0;
}

static int write_hardlink(struct unpack_ctx *c, int pfd, const char *base, const char *target,
                          herr_t *err)
{
        if (clean_path(target, c->linkbuf, sizeof c->linkbuf, err) < 0)
                return herr_prefix(err, "entry %s: hardlink target", c->path);
        if (!c->linkbuf[0])
                return herr_plain(err, EPERM, "entry %s: hardlink to the layer root", c->path);
        char *slash = strrchr(c->linkbuf, '/');
        const char *tbase = c->linkbuf;
        _cleanup_close_ int tfd = -1;
        if (slash) {
                *slash = '\0';
                tbase = slash + 1;
                tfd = open_dir(c->root, c->linkbuf, false, err);
                if (tfd < 0)
                        return herr_prefix(err, "entry %s: hardlink to %s", c->path, target);
        }
        if (linkat(tfd >= 0 ? tfd : c->root, tbase, pfd, base, 0) < 0)
                return herr_sys(err, "entry %s: hardlink to %s", c->path, target);
        return 0;
}

static int write_special(struct unpack_ctx *c, int pfd, const char *base, struct archive_entry *e,
                         herr_t *err)
{
        mode_t t = archive_entry_filetype(e);
        if (t == AE_IFLNK) {
                const char *tg = archive_entry_symlink(e);
                if (!tg || strlen(tg) >= PATH_MAX)
                        return herr_plain(err, EINVAL, "entry %s: invalid symlink target", c->path);
                if (symlinkat(tg, pfd, base) < 0)
                        return herr_sys(err, "entry %s: symlink", c->path);
        } else if (t == AE_IFIFO) {
                if (mknodat(pfd, base, S_IFIFO | 0600, 0) < 0)
                        return herr_sys(err, "entry %s: mkfifo", c->path);
        } else if (t == AE_IFCHR || t == AE_IFBLK) {
                if (!c->allow_devices)
                        return herr_plain(err, EPERM, "entry %s: %s device not allowed in layers",
                                        c->path, t == AE_IFCHR ? "character" : "block");
                if (mknodat(pfd, base, t | 0600, archive_entry_rdev(e)) < 0)
                        return herr_sys(err, "entry %s: mknod", c->path);
        } else {
                return herr_plain(err, EPERM, "entry %s: unsupported file type 0%o", c->path, t);
        }
        if (fchownat(pfd, base, (uid_t)archive_entry_uid(e), (gid_t)archive_entry_gid(e),
                     AT_SYMLINK_NOFOLLOW) < 0 && errno != EPERM)
                return herr_sys(err, "entry %s: chown", c->path);
        if (t != AE_IFLNK && fchmodat(pfd, base, archive_entry_perm(e) & 07777, 0) < 0)
                return herr_sys(err, "entry %s: chmod", c->path);
        return 0;
}

static int whiteout(struct unpack_ctx *c, int pfd, const char *base, herr_t *err)
{
        if (strcmp(base, WH_OPAQUE) == 0) {
                if (fsetxattr(pfd, "trusted.overlay.opaque", "y", 1, 0) < 0)
                        return herr_sys(err, "entry %s: set opaque xattr", c->path);
                return 0;
        }
        const char *name = base + strlen(WH_PREFIX);
        if (strncmp(name, WH_PREFIX, strlen(WH_PREFIX)) == 0)
                return 0; /* other .wh..wh.* metadata (aufs): ignored */
        if (!*name || strcmp(name, ".") == 0 || strcmp(name, "..") == 0)
                return herr_plain(err, EPERM, "entry %s: invalid whiteout", c->path);
        struct stat st;
        if (fstatat(pfd, name, &st, AT_SYMLINK_NOFOLLOW) == 0)
                return 0; /* same-layer content is not hidden by its own layer */
        if (mknodat(pfd, name, S_IFCHR | 0, makedev(0, 0)) < 0)
                return herr_sys(err, "entry %s: whiteout", c->path);
        return 0;
}

static int unpack_entry(struct archive *a, struct unpack_ctx *c, struct archive_entry *e, herr_t *err)
{
        if (clean_path(archive_entry_pathname(e), c->pathbuf, sizeof c->pathbuf, err) < 0)
                return herr_prefix(err, "entry");
        c->path = c->pathbuf;
        mode_t t = archive_entry_filetype(e);
        if (!c->path[0]) {
                if (t == AE_IFDIR && !archive_entry_hardlink(e))
                        apply_owner_mode(c->root, e);
                return 0;
        }
        const char *base;
        _cleanup_close_ int pfd = open_parent(c, &base, err);
        if (pfd < 0)
                return -1;
        if (strncmp(base, WH_PREFIX, strlen(WH_PREFIX)) == 0)
                return whiteout(c, pfd, base, err);
        const char *hl = archive_entry_hardlink(e);
        if (!(t == AE_IFDIR && !hl)) {
                struct stat st;
                if (fstatat(pfd, base, &st, AT_SYMLINK_NOFOLLOW) == 0 && rm_rf_at(pfd, base) < 0)
                        return herr_sys(err, "entry %s: replace", c->path);
        }
        if (hl)
                return write_hardlink(c, pfd, base, hl, err);
        if (t == AE_IFDIR)
                return write_dir(c, pfd, base, e, err);
        if (t == AE_IFREG)
                return write_file(a, c, pfd, base, e, err);
        return write_special(c, pfd, base, e, err);
}

int unpack_archive_fd(int archive_fd, int root_fd, bool allow_devices, const char *diff_id,
                      herr_t *err)
{
        struct layer_stream *ls = NULL;
        struct archive *a = NULL;
        if (layer_stream_open(archive_fd, &ls, &a, err) < 0)
                return -1;
        struct unpack_ctx *c = calloc(1, sizeof *c);
        if (!c) {
                layer_stream_free(ls);
                return herr_set(err, ENOMEM, "unpack");
        }
        c->root = root_fd;
        c->allow_devices = allow_devices;
        int rc = 0;
        for (unsigned n = 0;; n++) {
                struct archive_entry *e;
                int r = archive_read_next_header(a, &e);
                if (r == ARCHIVE_EOF)
                        break;
                if (r != ARCHIVE_OK && r != ARCHIVE_WARN) {
                        rc = herr_plain(err, EINVAL, "bad tar header: %s", archive_error_string(a));
                        break;
                }
                if (n >= MAX_ENTRIES) {
                        rc = herr_plain(err, E2BIG, "more than %u entries", MAX_ENTRIES);
                        break;
                }
                if ((rc = unpack_entry(a, c, e, err)) < 0)
                        break;
        }
        if (rc == 0)
                rc = layer_stream_finish(ls, diff_id, err);
        free(c);
        layer_stream_free(ls);
        return rc;
}

static int open_lock(const char *path, herr_t *err)
{
        _cleanup_close_ int fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0600);
        if (fd < 0)
                return herr_sys(err, "%s", path);
        while (flock(fd, LOCK_EX) < 0)
                if (errno != EINTR)
                        return herr_sys(err, "%s: flock", path);
        return TAKE_FD(fd);
}

static int unpack_into_tmp(const char *storage, const char *digest, const char *diff_id,
                           const char *tmp, bool allow_devices, herr_t *err)
{
        _cleanup_free_ char *bp = NULL;
        if (blob_path(storage, digest, &bp, err) < 0)
                return -1;
        _cleanup_close_ int bfd = open(bp, O_RDONLY | O_CLOEXEC);
        if (bfd < 0)
                return herr_sys(err, "blob %s", digest);
        _cleanup_close_ int rfd = open(tmp, O_RDONLY | O_DIRECTORY | O_CLOEXEC | O_NOFOLLOW);
        if (rfd < 0)
                return herr_sys(err, "%s", tmp);
        if (fchmod(rfd, 0755) < 0)
                return herr_sys(err, "%s", tmp);
        if (unpack_archive_fd(bfd, rfd, allow_devices, diff_id, err) < 0)
                return -1;
        if (syncfs(rfd) < 0)
                return herr_sys(err, "%s: sync", tmp);
        return 0;
}

int layer_unpack(const char *storage, const char *digest, const char *diff_id, bool allow_devices,
                 herr_t *err)
{
        const char *hex = digest_hex(digest);
        if (!hex)
                return herr_plain(err, EINVAL, "layer \"%s\": invalid digest", digest);
        _cleanup_free_ char *final = NULL, *lock = NULL, *tmp = NULL;
        if (asprintf(&final, "%s/layers/%s", storage, hex) < 0 ||
            asprintf(&lock, "%s.lock", final) < 0 ||
            asprintf(&tmp, "%s/layers/.tmp-%s-XXXXXX", storage, hex) < 0)
                return herr_set(err, ENOMEM, "layer");
        struct stat st;
        if (stat(final, &st) == 0)
                return 0;
        _cleanup_close_ int lk = open_lock(lock, err);
        if (lk < 0)
                return herr_prefix(err, "layer %s", digest);
        if (stat(final, &st) == 0)
                return 0; /* unpacked by a concurrent import meanwhile */
        if (!mkdtemp(tmp))
                return herr_sys(err, "layer %s: temporary directory", digest);
        if (unpack_into_tmp(storage, digest, diff_id, tmp, allow_devices, err) < 0) {
                herr_t e2 = { 0 };
                (void)remove_tree(tmp, &e2);
                return herr_prefix(err, "layer %s", digest);
        }
        if (rename(tmp, final) < 0) {
                herr_sys(err, "layer %s: rename into place", digest);
                herr_t e2 = { 0 };
                (void)remove_tree(tmp, &e2);
                return -1;
        }
        return 0;
}
