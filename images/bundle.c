/* images/bundle.c: config.json for a container of an image: the image
 * config's Entrypoint/Cmd, Env, WorkingDir, User plus hardened defaults.
 *
 * Capabilities: CAP_AUDIT_WRITE, CAP_KILL, CAP_NET_BIND_SERVICE (runc
 * spec) and CAP_CHOWN, CAP_DAC_OVERRIDE, CAP_FOWNER, CAP_FSETID,
 * CAP_SETGID, CAP_SETUID, CAP_SETPCAP (engine defaults). CAP_NET_RAW is
 * deliberately left out (raw sockets allow spoofing inside the network
 * namespace; unprivileged ICMP via ping_group_range still works), as are
 * CAP_MKNOD, CAP_SETFCAP and CAP_SYS_CHROOT. */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <linux/openat2.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <yajl/yajl_gen.h>
#include <yajl/yajl_tree.h>

#include "../common/cleanup.h"
#include "../common/fileutil.h"
#include "internal.h"

static const char *const default_caps[] = {
        "CAP_AUDIT_WRITE", "CAP_KILL", "CAP_NET_BIND_SERVICE", "CAP_CHOWN", "CAP_DAC_OVERRIDE",
        "CAP_FOWNER", "CAP_FSETID", "CAP_SETGID", "CAP_SETUID", "CAP_SETPCAP", NULL,
};
static const char *const masked[] = {
        "/proc/acpi", "/proc/asound", "/proc/kcore", "/proc/keys", "/proc/latency_stats",
        "/proc/timer_list", "/proc/timer_stats", "/proc/sched_debug", "/sys/firmware",
        "/proc/scsi", "/sys/devices/virtual/powercap", NULL,
};
static const char *const readonly[] = {
        "/proc/bus", "/proc/fs", "/proc/irq", "/proc/sys", "/proc/sysrq-trigger", NULL,
};
static const char *const namespaces[] = { "pid", "network", "ipc", "uts", "mount", "cgroup", NULL };

static void yajl_freep(yajl_val *v)
{
        if (*v)
                yajl_tree_free(*v);
}

static void s(yajl_gen g, const char *str)
{
        yajl_gen_string(g, (const unsigned char *)str, strlen(str));
}

static void strv(yajl_gen g, const char *key, const char *const *v)
{
        s(g, key);
        yajl_gen_array_open(g);
        for (; v && *v; v++)
                s(g, *v);
        yajl_gen_array_close(g);
}

/* Read a file of the image rootfs without leaving it (symlinks resolved
 * inside the rootfs). */
static int read_in_root(const char *root, const char *rel, char **out)
{
        _cleanup_close_ int rfd = open(root, O_PATH | O_DIRECTORY | O_CLOEXEC);
        if (rfd < 0)
                return -1;
        struct open_how how = { .flags = O_RDONLY | O_CLOEXEC, .resolve = RESOLVE_IN_ROOT | RESOLVE_NO_MAGICLINKS };
        _cleanup_close_ int fd = (int)syscall(SYS_openat2, rfd, rel, &how, sizeof how);
        herr_t e = { 0 };
        return fd < 0 ? -1 : read_fd(fd, 1 << 20, out, NULL, &e);
}

/* Look `name` up in an /etc/passwd or /etc/group; field 2 = id, 3 = gid. */
static int db_lookup(const char *root, const char *file, const char *name, long id_in,
                     long *id, long *gid)
{
        _cleanup_free_ char *buf = NULL;
        if (read_in_root(root, file, &buf) < 0)
                return -1;
        char *save = NULL;
        for (char *l = strtok_r(buf, "\n", &save); l; l = strtok_r(NULL, "\n", &save)) {
                char *f[4] = { 0 }, *s2 = NULL;
                int n = 0;
                for (char *t = strtok_r(l, ":", &s2); t && n < 4; t = strtok_r(NULL, ":", &s2))
                        f[n++] = t;
                if (n < 3)
                        continue;
                long v = strtol(f[2], NULL, 10);
                if (name ? strcmp(f[0], name) == 0 : v == id_in) {
                        *id = v;
                        if (gid)
                                *gid = n >= 4 ? strtol(f[3], NULL, 10) : 0;
                        return 0;
                }
        }
        return -1;
}

static bool numeric(const char *x, long *v)
{
        char *end;
        if (!*x)
                return false;
        errno = 0;
        *v = strtol(x, &end, 10);
        return !*end && !errno && *v >= 0 && *v <= UINT32_MAX;
}

static int resolve_user(const char *root, const char *spec, long *uid, long *gid, herr_t *err)
{
        _cleanup_free_ char *u = strdup(spec ? spec : "");
        if (!u)
                return herr_set(err, ENOMEM, "user");
        char *g = strchr(u, ':');
        if (g)
                *g++ = '\0';
        long pgid = 0;
        *uid = 0;
        if (!*u)
                ;
        else if (numeric(u, uid))
                (void)db_lookup(root, "/etc/passwd", NULL, *uid, uid, &pgid);
        else if (db_lookup(root, "/etc/passwd", u, 0, uid, &pgid) < 0)
                return herr_plain(err, ENOENT, "user \"%s\": not found in the image's /etc/passwd", u);
        *gid = pgid;
        if (g && *g && !numeric(g, gid) && db_lookup(root, "/etc/group", g, 0, gid, NULL) < 0)
                return herr_plain(err, ENOENT, "group \"%s\": not found in the image's /etc/group", g);
        return 0;
}

struct img_cfg { yajl_val root, env, cmd, entry; const char *cwd, *user; };

static yajl_val cfg_get(yajl_val root, const char *key, yajl_type t)
{
        const char *p[] = { "config", key, NULL };
        return yajl_tree_get(root, p, t);
}

static void gen_args(yajl_gen g, const struct img_cfg *c, const struct image_run_opts *o)
{
        s(g, "args");
        yajl_gen_array_open(g);
        if (o && o->args && o->args[0]) {
                for (char **a = o->args; *a; a++)
                        s(g, *a);
        } else {
                yajl_val parts[] = { c->entry, c->cmd };
                for (size_t i = 0; i < 2; i++)
                        for (size_t j = 0; parts[i] && j < YAJL_GET_ARRAY(parts[i])->len; j++)
                                if (YAJL_IS_STRING(YAJL_GET_ARRAY(parts[i])->values[j]))
                                        s(g, YAJL_GET_STRING(YAJL_GET_ARRAY(parts[i])->values[j]));
        }
        yajl_gen_array_close(g);
}

static bool env_overridden(const struct image_run_opts *o, const char *kv)
{
        size_t k = strcspn(kv, "=");
        for (char **e = o ? o->env : NULL; e && *e; e++)
                if (strncmp(*e, kv, k) == 0 && ((*e)[k] == '=' || (*e)[k] == '\0'))
                        return true;
        return false;
}

static void gen_env(yajl_gen g, const struct img_cfg *c, const struct image_run_opts *o)
{
        bool path = false, term = false;
        s(g, "env");
        yajl_gen_array_open(g);
        for (size_t j = 0; c->env && j < YAJL_GET_ARRAY(c->env)->len; j++) {
                const char *kv = YAJL_GET_STRING(YAJL_GET_ARRAY(c->env)->values[j]);
                if (!kv || env_overridden(o, kv))
                        continue;
                path |= strncmp(kv, "PATH=", 5) == 0;
                term |= strncmp(kv, "TERM=", 5) == 0;
                s(g, kv);
        }
        for (char **e = o ? o->env : NULL; e && *e; e++) {
                path |= strncmp(*e, "PATH=", 5) == 0;
                term |= strncmp(*e, "TERM=", 5) == 0;
                s(g, *e);
        }
        if (!path)
                s(g, "PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin");
        if (!term && o && o->terminal)
                s(g, "TERM=xterm");
        yajl_gen_array_close(g);
}

static void gen_mount(yajl_gen g, const char *dst, const char *type, const char *src,
                      const char *const *opts)
{
        yajl_gen_map_open(g);
        s(g, "destination"); s(g, dst);
        s(g, "type"); s(g, type);
        s(g, "source"); s(g, src);
        strv(g, "options", opts);
        yajl_gen_map_close(g);
}

static void gen_mounts(yajl_gen g)
{
        static const char *const o_proc[] = { "nosuid", "noexec", "nodev", NULL };
        static const char *const o_dev[] = { "nosuid", "strictatime", "mode=755", "size=65536k", NULL };
        static const char *const o_pts[] = { "nosuid", "noexec", "newinstance", "ptmxmode=0666", "mode=0620", "gid=5", NULL };
        static const char *const o_shm[] = { "nosuid", "noexec", "nodev", "mode=1777", "size=65536k", NULL };
        static const char *const o_ro[] = { "nosuid", "noexec", "nodev", "ro", NULL };
        static const char *const o_cg[] = { "nosuid", "noexec", "nodev", "relatime", "ro", NULL };
        s(g, "mounts");
        yajl_gen_array_open(g);
        gen_mount(g, "/proc", "proc", "proc", o_proc);
        gen_mount(g, "/dev", "tmpfs", "tmpfs", o_dev);
        gen_mount(g, "/dev/pts", "devpts", "devpts", o_pts);
        gen_mount(g, "/dev/shm", "tmpfs", "shm", o_shm);
        gen_mount(g, "/dev/mqueue", "mqueue", "mqueue", o_proc);
        gen_mount(g, "/sys", "sysfs", "sysfs", o_ro);
        gen_mount(g, "/sys/fs/cgroup", "cgroup2", "cgroup", o_cg);
        yajl_gen_array_close(g);
}

static void gen_process(yajl_gen g, const struct img_cfg *c, const struct image_run_opts *o,
                        long uid, long gid)
{
        s(g, "process");
        yajl_gen_map_open(g);
        s(g, "terminal"); yajl_gen_bool(g, o && o->terminal);
        s(g, "user"); yajl_gen_map_open(g);
        s(g, "uid"); yajl_gen_integer(g, uid);
        s(g, "gid"); yajl_gen_integer(g, gid);
        yajl_gen_map_close(g);
        gen_args(g, c, o);
        gen_env(g, c, o);
        s(g, "cwd");
        s(g, o && o->cwd ? o->cwd : (c->cwd && *c->cwd ? c->cwd : "/"));
        s(g, "capabilities"); yajl_gen_map_open(g);
        strv(g, "bounding", default_caps);
        strv(g, "effective", default_caps);
        strv(g, "permitted", default_caps);
        yajl_gen_map_close(g);
        s(g, "rlimits"); yajl_gen_array_open(g); yajl_gen_map_open(g);
        s(g, "type"); s(g, "RLIMIT_NOFILE");
        s(g, "hard"); yajl_gen_integer(g, 1024);
        s(g, "soft"); yajl_gen_integer(g, 1024);
        yajl_gen_map_close(g); yajl_gen_array_close(g);
        s(g, "noNewPrivileges"); yajl_gen_bool(g, 1);
        yajl_gen_map_close(g);
}

static void gen_linux(yajl_gen g)
{
        s(g, "linux");
        yajl_gen_map_open(g);
        s(g, "namespaces");
        yajl_gen_array_open(g);
        for (const char *const *n = namespaces; *n; n++) {
                yajl_gen_map_open(g);
                s(g, "type"); s(g, *n);
                yajl_gen_map_close(g);
        }
        yajl_gen_array_close(g);
        strv(g, "maskedPaths", masked);
        strv(g, "readonlyPaths", readonly);
        yajl_gen_map_close(g);
}

static int gen_config(yajl_gen g, const struct img_cfg *c, const struct image_run_opts *o,
                      const char *rootfs, herr_t *err)
{
        long uid = 0, gid = 0;
        const char *user = o && o->user ? o->user : c->user;
        if (user && *user && resolve_user(rootfs, user, &uid, &gid, err) < 0)
                return -1;
        yajl_gen_map_open(g);
        s(g, "ociVersion"); s(g, "1.0.2");
        gen_process(g, c, o, uid, gid);
        s(g, "root"); yajl_gen_map_open(g);
        s(g, "path"); s(g, rootfs);
        s(g, "readonly"); yajl_gen_bool(g, 0);
        yajl_gen_map_close(g);
        s(g, "hostname"); s(g, o && o->hostname ? o->hostname : "husk");
        gen_mounts(g);
        gen_linux(g);
        yajl_gen_map_close(g);
        return 0;
}

static int load_cfg(const char *storage, const char *ref, char **buf, herr_t *err)
{
        _cleanup_free_ char *digest = NULL;
        struct image_manifest m;
        if (image_resolve(storage, ref, &digest, err) < 0 ||
            image_load_manifest(storage, digest, &m, err) < 0)
                return -1;
        int rc = blob_read(storage, m.config.digest, MAX_JSON_BLOB, buf, NULL, err);
        manifest_free(&m);
        return rc;
}

int image_write_bundle(const char *storage, const char *ref, const struct image_run_opts *opts,
                       const char *bundle_dir, const char *rootfs_path, herr_t *err)
{
        _cleanup_free_ char *buf = NULL, *path = NULL;
        if (load_cfg(storage, ref, &buf, err) < 0)
                return herr_prefix(err, "bundle for %s", ref);
        char eb[128];
        __attribute__((cleanup(yajl_freep))) yajl_val root = yajl_tree_parse(buf, eb, sizeof eb);
        if (!root)
                return herr_plain(err, EINVAL, "image %s: config: invalid JSON: %s", ref, eb);
        struct img_cfg c = { root, cfg_get(root, "Env", yajl_t_array), cfg_get(root, "Cmd", yajl_t_array),
                             cfg_get(root, "Entrypoint", yajl_t_array), NULL, NULL };
        yajl_val w = cfg_get(root, "WorkingDir", yajl_t_string), u = cfg_get(root, "User", yajl_t_string);
        c.cwd = w ? YAJL_GET_STRING(w) : NULL;
        c.user = u ? YAJL_GET_STRING(u) : NULL;
        if (!(opts && opts->args && opts->args[0]) && !c.entry && !c.cmd)
                return herr_plain(err, EINVAL, "image %s: no Entrypoint or Cmd: give a command", ref);
        yajl_gen g = yajl_gen_alloc(NULL);
        if (!g)
                return herr_set(err, ENOMEM, "bundle");
        yajl_gen_config(g, yajl_gen_beautify, 1);
        int rc = gen_config(g, &c, opts, rootfs_path, err);
        const unsigned char *out;
        size_t len;
        yajl_gen_get_buf(g, &out, &len);
        if (rc == 0 && (mkdir_p(bundle_dir, 0700, err) < 0 || asprintf(&path, "%s/config.json", bundle_dir) < 0 ||
                        write_file_atomic(path, out, len, 0600, err) < 0))
                rc = -1;
        yajl_gen_free(g);
        return rc < 0 ? herr_prefix(err, "bundle %s", bundle_dir) : 0;
}

int image_prepare_bundle(const char *storage, const char *ref, const char *container_id,
                         const struct image_run_opts *opts, const char *bundle_dir,
                         char **bundle_out, herr_t *err)
{
        _cleanup_free_ char *rootfs = NULL, *b = NULL;
        if (bundle_dir)
                b = strdup(bundle_dir);
        else if (asprintf(&b, "%s/containers/%s/bundle", storage, container_id) < 0)
                b = NULL;
        if (!b)
                return herr_set(err, ENOMEM, "bundle");
        if (image_rootfs_mount(storage, ref, container_id, &rootfs, err) < 0)
                return -1;
        if (image_write_bundle(storage, ref, opts, b, rootfs, err) < 0) {
                herr_t e2 = { 0 };
                (void)image_rootfs_release(storage, container_id, &e2);
                return -1;
        }
        if (bundle_out)
                *bundle_out = TAKE_PTR(b);
        return 0;
}
