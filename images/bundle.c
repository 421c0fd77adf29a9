/* images/bundle.c: config.json for a container of an image: the image
 * config's Entrypoint/Cmd, Env, WorkingDir, User plus hardened defaults.
 *
 * Capabilities: CAP_AUDIT_WRITE, CAP_KILL, CAP_NET_BIND_SERVICE (runc
 * spec) and CAP_CHOWN, CAP_DAC_OVERRIDE, CAP_FOWNER, CAP_FSETID,
 * CAP_SETGID, CAP_SETUID, CAP_SETPCAP (engine defaults). CAP_NET_RAW is
 * deliberately left out (raw sockets allow spoofing inside the network
 * namespace; unprivileged ICMP via ping_group_range still works), as are
 * CAP_MKNOD, CAP_SETFCAP and CAP_SYS_CHROOT. The rest of the config is
 * spec/generate.c's (oci_config_gen), so `husk spec` and image bundles
 * share one set of mounts, namespaces, masked paths and seccomp profile. */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <linux/openat2.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <yajl/yajl_tree.h>

#include "../common/cleanup.h"
#include "../common/fileutil.h"
#include "../spec/generate.h"
#include "internal.h"

const char *const image_default_caps[] = {
        "CAP_AUDIT_WRITE", "CAP_KILL", "CAP_NET_BIND_SERVICE", "CAP_CHOWN", "CAP_DAC_OVERRIDE",
        "CAP_FOWNER", "CAP_FSETID", "CAP_SETGID", "CAP_SETUID", "CAP_SETPCAP", NULL,
};
static void yajl_freep(yajl_val *v)
{
        if (*v)
                yajl_tree_free(*v);
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

/* A growable NULL-terminated string vector (borrowed strings). */
struct sv { const char **v; size_t n, cap; };

static int sv_add(struct sv *v, const char *x)
{
        if (v->n + 2 > v->cap) {
                size_t cap = v->cap ? v->cap * 2 : 16;
                const char **nv = realloc(v->v, cap * sizeof *nv);
                if (!nv)
                        return -1;
                v->v = nv;
                v->cap = cap;
        }
        v->v[v->n++] = x;
        v->v[v->n] = NULL;
        return 0;
}

static void sv_freep(struct sv *v)
{
        free(v->v);
}

static int img_args(struct sv *v, const struct img_cfg *c, const struct image_run_opts *o)
{
        int rc = 0;
        if (o && o->args && o->args[0]) {
                for (char **a = o->args; *a; a++)
                        rc |= sv_add(v, *a);
        } else {
                yajl_val parts[] = { c->entry, c->cmd };
                for (size_t i = 0; i < 2; i++)
                        for (size_t j = 0; parts[i] && j < YAJL_GET_ARRAY(parts[i])->len; j++)
                                if (YAJL_IS_STRING(YAJL_GET_ARRAY(parts[i])->values[j]))
                                        rc |= sv_add(v, YAJL_GET_STRING(YAJL_GET_ARRAY(parts[i])->values[j]));
        }
        return rc;
}

static bool env_overridden(const struct image_run_opts *o, const char *kv)
{
        size_t k = strcspn(kv, "=");
        for (char **e = o ? o->env : NULL; e && *e; e++)
                if (strncmp(*e, kv, k) == 0 && ((*e)[k] == '=' || (*e)[k] == '\0'))
                        return true;
        return false;
}

static int img_env(struct sv *v, const struct img_cfg *c, const struct image_run_opts *o)
{
        bool path = false, term = false;
        int rc = 0;
        for (size_t j = 0; c->env && j < YAJL_GET_ARRAY(c->env)->len; j++) {
                const char *kv = YAJL_GET_STRING(YAJL_GET_ARRAY(c->env)->values[j]);
                if (!kv || env_overridden(o, kv))
                        continue;
                path |= strncmp(kv, "PATH=", 5) == 0;
                term |= strncmp(kv, "TERM=", 5) == 0;
                rc |= sv_add(v, kv);
        }
        for (char **e = o ? o->env : NULL; e && *e; e++) {
                path |= strncmp(*e, "PATH=", 5) == 0;
                term |= strncmp(*e, "TERM=", 5) == 0;
                rc |= sv_add(v, *e);
        }
        if (!path)
                rc |= sv_add(v, "PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin");
        if (!term && o && o->terminal)
                rc |= sv_add(v, "TERM=xterm");
        return rc;
}

/* The image-derived values on top of opts->gen (or the image defaults:
 * `husk spec`'s config with the capabilities above, a writable root). */
static int gen_config(const struct img_cfg *c, const struct image_run_opts *o, const char *rootfs,
                      char **out, size_t *len, herr_t *err)
{
        long uid = 0, gid = 0;
        const char *user = o && o->user ? o->user : c->user;
        if (user && *user && resolve_user(rootfs, user, &uid, &gid, err) < 0)
                return -1;
        struct oci_gen_opts g;
        if (o && o->gen) {
                g = *o->gen;
        } else {
                oci_gen_defaults(&g, false);
                g.caps = image_default_caps;
                g.root_readonly = false;
        }
        __attribute__((cleanup(sv_freep))) struct sv args = { 0 }, env = { 0 };
        if (img_args(&args, c, o) < 0 || img_env(&env, c, o) < 0)
                return herr_set(err, ENOMEM, "config.json");
        g.args = args.v;
        g.env = env.v;
        g.cwd = o && o->cwd ? o->cwd : (c->cwd && *c->cwd ? c->cwd : "/");
        g.uid = (unsigned)uid;
        g.gid = (unsigned)gid;
        g.root_path = rootfs;
        g.terminal = o && o->terminal;
        g.hostname = o && o->hostname ? o->hostname : "husk";
        return oci_config_gen(&g, out, len, err);
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
        _cleanup_free_ char *out = NULL;
        size_t len = 0;
        int rc = gen_config(&c, opts, rootfs_path, &out, &len, err);
        if (rc == 0 && (mkdir_p(bundle_dir, 0700, err) < 0 || asprintf(&path, "%s/config.json", bundle_dir) < 0 ||
                        write_file_atomic(path, out, len, 0600, err) < 0))
                rc = -1;
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
