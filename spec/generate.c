/* spec/generate.c: the default config.json of `husk spec` (runc-like). */
#include "generate.h"

#include <errno.h>
#include <string.h>
#include <yajl/yajl_tree.h>
#include <unistd.h>

#include "generate_json.h"
#include "../seccomp/seccomp.h"
#include "version.h"

struct default_mount {
        const char *destination;
        const char *type;
        const char *source;
        const char *const *options;     /* NULL-terminated */
};

#define OPTS(...) ((const char *const[]){ __VA_ARGS__, NULL })

static const struct default_mount mounts[] = {
        { "/proc", "proc", "proc", NULL },
        { "/dev", "tmpfs", "tmpfs",
          OPTS("nosuid", "strictatime", "mode=755", "size=65536k") },
        { "/dev/pts", "devpts", "devpts",
          OPTS("nosuid", "noexec", "newinstance", "ptmxmode=0666", "mode=0620", "gid=5") },
        { "/dev/shm", "tmpfs", "shm",
          OPTS("nosuid", "noexec", "nodev", "mode=1777", "size=65536k") },
        { "/dev/mqueue", "mqueue", "mqueue", OPTS("nosuid", "noexec", "nodev") },
        { "/sys", "sysfs", "sysfs", OPTS("nosuid", "noexec", "nodev", "ro") },
        { "/sys/fs/cgroup", "cgroup2", "cgroup",
          OPTS("nosuid", "noexec", "nodev", "relatime", "ro") },
};

/* Rootless: no sysfs (a user namespace cannot mount it without a network
 * namespace of its own), no gid=5 (unmapped), no cgroup2 mount. */
static const struct default_mount rootless_sys = {
        "/sys", "none", "/sys", OPTS("rbind", "nosuid", "noexec", "nodev", "ro")
};
static const struct default_mount rootless_devpts = {
        "/dev/pts", "devpts", "devpts",
        OPTS("nosuid", "noexec", "newinstance", "ptmxmode=0666", "mode=0620")
};

static const char *const default_caps[] = {
        "CAP_AUDIT_WRITE", "CAP_KILL", "CAP_NET_BIND_SERVICE", NULL
};

static const char *const masked_paths[] = {
        "/proc/acpi", "/proc/asound", "/proc/kcore", "/proc/keys",
        "/proc/latency_stats", "/proc/timer_list", "/proc/timer_stats",
        "/proc/sched_debug", "/sys/firmware", "/proc/scsi",
        "/sys/devices/virtual/powercap", NULL
};

static const char *const readonly_paths[] = {
        "/proc/bus", "/proc/fs", "/proc/irq", "/proc/sys", "/proc/sysrq-trigger", NULL
};

static const char *const default_args[] = { "sh", NULL };
static const char *const default_env[] = {
        "PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin",
        "TERM=xterm", NULL
};

void oci_gen_defaults(struct oci_gen_opts *o, bool rootless)
{
        memset(o, 0, sizeof *o);
        o->rootless = rootless;
        o->root_path = "rootfs";
        o->root_readonly = true;
        o->args = default_args;
        o->env = default_env;
        o->cwd = "/";
        o->terminal = true;
        o->hostname = "husk";
        o->no_new_privileges = true;
        o->seccomp = OCI_GEN_SECCOMP_DEFAULT;
        /* Rootless: the host's network (no netns). */
        o->network_ns = !rootless;
}

static int gen_user(yajl_gen g, const struct oci_gen_opts *o)
{
        int st = 0;

        JG(st, jg_kmap_open(g, "user"));
        JG(st, jg_kint(g, "uid", o->uid));
        JG(st, jg_kint(g, "gid", o->gid));
        if (o->n_additional_gids) {
                JG(st, jg_karr_open(g, "additionalGids"));
                for (size_t i = 0; i < o->n_additional_gids; i++)
                        JG(st, (int)yajl_gen_integer(g, o->additional_gids[i]));
                JG(st, (int)yajl_gen_array_close(g));
        }
        JG(st, (int)yajl_gen_map_close(g));
        return st;
}

static int gen_capabilities(yajl_gen g, const struct oci_gen_opts *o)
{
        const char *const *caps = o->caps ? o->caps : default_caps;
        int st = 0;

        JG(st, jg_kmap_open(g, "capabilities"));
        JG(st, jg_kstrv(g, "bounding", caps));
        JG(st, jg_kstrv(g, "effective", caps));
        JG(st, jg_kstrv(g, "permitted", caps));
        JG(st, (int)yajl_gen_map_close(g));
        return st;
}

static int gen_rlimits(yajl_gen g)
{
        int st = 0;

        JG(st, jg_karr_open(g, "rlimits"));
        JG(st, (int)yajl_gen_map_open(g));
        JG(st, jg_kstr(g, "type", "RLIMIT_NOFILE"));
        JG(st, jg_kint(g, "hard", 1024));
        JG(st, jg_kint(g, "soft", 1024));
        JG(st, (int)yajl_gen_map_close(g));
        JG(st, (int)yajl_gen_array_close(g));
        return st;
}

static int gen_process(yajl_gen g, const struct oci_gen_opts *o)
{
        int st = 0;

        JG(st, jg_kmap_open(g, "process"));
        JG(st, jg_kbool(g, "terminal", o->terminal));
        JG(st, gen_user(g, o));
        JG(st, jg_kstrv(g, "args", o->args ? o->args : default_args));
        JG(st, jg_kstrv(g, "env", o->env ? o->env : default_env));
        JG(st, jg_kstr(g, "cwd", o->cwd ? o->cwd : "/"));
        JG(st, gen_capabilities(g, o));
        JG(st, gen_rlimits(g));
        JG(st, jg_kbool(g, "noNewPrivileges", o->no_new_privileges));
        JG(st, (int)yajl_gen_map_close(g));
        return st;
}

static int gen_mount(yajl_gen g, const struct default_mount *m)
{
        int st = 0;

        JG(st, (int)yajl_gen_map_open(g));
        JG(st, jg_kstr(g, "destination", m->destination));
        JG(st, jg_kstr(g, "type", m->type));
        JG(st, jg_kstr(g, "source", m->source));
        if (m->options)
                JG(st, jg_kstrv(g, "options", m->options));
        JG(st, (int)yajl_gen_map_close(g));
        return st;
}

static int gen_mounts(yajl_gen g, const struct oci_gen_opts *o)
{
        bool rootless = o->rootless;
        int st = 0;

        JG(st, jg_karr_open(g, "mounts"));
        for (size_t i = 0; i < sizeof mounts / sizeof mounts[0]; i++) {
                const struct default_mount *m = &mounts[i];

                if (rootless && !strcmp(m->type, "cgroup2"))
                        continue;
                if (rootless && !strcmp(m->type, "sysfs"))
                        m = &rootless_sys;
                else if (rootless && !strcmp(m->type, "devpts"))
                        m = &rootless_devpts;
                JG(st, gen_mount(g, m));
        }
        for (size_t i = 0; i < o->n_mounts; i++) {
                const struct default_mount m = { o->mounts[i].destination, o->mounts[i].type,
                                                 o->mounts[i].source, o->mounts[i].options };
                JG(st, gen_mount(g, &m));
        }
        JG(st, (int)yajl_gen_array_close(g));
        return st;
}

static int gen_namespaces(yajl_gen g, const struct oci_gen_opts *o)
{
        static const char *const types[] = { "pid", "network", "ipc", "uts",
                                             "mount", "cgroup", "user" };
        int st = 0;

        JG(st, jg_karr_open(g, "namespaces"));
        for (size_t i = 0; i < sizeof types / sizeof types[0]; i++) {
                /* Rootless: the caller's own user namespace. */
                if (!strcmp(types[i], "user") && !o->rootless)
                        continue;
                if (!strcmp(types[i], "network") && !o->network_ns)
                        continue;
                JG(st, (int)yajl_gen_map_open(g));
                JG(st, jg_kstr(g, "type", types[i]));
                JG(st, (int)yajl_gen_map_close(g));
        }
        JG(st, (int)yajl_gen_array_close(g));
        return st;
}

/* "key": [ { containerID 0, hostID id, size 1 } ] */
static int gen_id_mapping(yajl_gen g, const char *key, unsigned id)
{
        int st = 0;

        JG(st, jg_karr_open(g, key));
        JG(st, (int)yajl_gen_map_open(g));
        JG(st, jg_kint(g, "containerID", 0));
        JG(st, jg_kint(g, "hostID", id));
        JG(st, jg_kint(g, "size", 1));
        JG(st, (int)yajl_gen_map_close(g));
        JG(st, (int)yajl_gen_array_close(g));
        return st;
}

/* Copy a parsed JSON value into g. */
static int gen_tree(yajl_gen g, yajl_val v)
{
        int st = 0;

        if (YAJL_IS_OBJECT(v)) {
                JG(st, (int)yajl_gen_map_open(g));
                for (size_t i = 0; i < v->u.object.len; i++) {
                        JG(st, jg_str(g, v->u.object.keys[i]));
                        JG(st, gen_tree(g, v->u.object.values[i]));
                }
                JG(st, (int)yajl_gen_map_close(g));
        } else if (YAJL_IS_ARRAY(v)) {
                JG(st, (int)yajl_gen_array_open(g));
                for (size_t i = 0; i < v->u.array.len; i++)
                        JG(st, gen_tree(g, v->u.array.values[i]));
                JG(st, (int)yajl_gen_array_close(g));
        } else if (YAJL_IS_STRING(v)) {
                JG(st, jg_str(g, YAJL_GET_STRING(v)));
        } else if (YAJL_IS_NUMBER(v)) {
                const char *n = YAJL_GET_NUMBER(v);
                JG(st, (int)yajl_gen_number(g, n, strlen(n)));
        } else if (YAJL_IS_TRUE(v) || YAJL_IS_FALSE(v)) {
                JG(st, (int)yajl_gen_bool(g, YAJL_IS_TRUE(v)));
        } else {
                JG(st, (int)yajl_gen_null(g));
        }
        return st;
}

static int gen_resources(yajl_gen g, const struct oci_gen_opts *o)
{
        int st = 0;

        if (!o->memory_limit && !o->pids_limit && !o->cpu_quota)
                return 0;
        JG(st, jg_kmap_open(g, "resources"));
        if (o->memory_limit) {
                JG(st, jg_kmap_open(g, "memory"));
                JG(st, jg_kint(g, "limit", o->memory_limit));
                JG(st, (int)yajl_gen_map_close(g));
        }
        if (o->cpu_quota) {
                JG(st, jg_kmap_open(g, "cpu"));
                JG(st, jg_kint(g, "quota", o->cpu_quota));
                JG(st, jg_kint(g, "period", o->cpu_period ? o->cpu_period : 100000));
                JG(st, (int)yajl_gen_map_close(g));
        }
        if (o->pids_limit) {
                JG(st, jg_kmap_open(g, "pids"));
                JG(st, jg_kint(g, "limit", o->pids_limit));
                JG(st, (int)yajl_gen_map_close(g));
        }
        JG(st, (int)yajl_gen_map_close(g));
        return st;
}

/* The "linux" object (value only; the caller writes the key).
 * Returns 0 or the first yajl_gen_status failure. */
static int gen_linux(yajl_gen g, const struct oci_gen_opts *o, yajl_val seccomp)
{
        int st = 0;

        JG(st, (int)yajl_gen_map_open(g));
        if (o->rootless) {
                JG(st, gen_id_mapping(g, "uidMappings", getuid()));
                JG(st, gen_id_mapping(g, "gidMappings", getgid()));
        }
        JG(st, gen_resources(g, o));
        JG(st, gen_namespaces(g, o));
        JG(st, jg_kstrv(g, "maskedPaths", masked_paths));
        JG(st, jg_kstrv(g, "readonlyPaths", readonly_paths));
        if (o->seccomp == OCI_GEN_SECCOMP_DEFAULT) {
                /* The default seccomp profile of seccomp/ (it assumes the
                 * default capabilities, which leave out CAP_SYS_ADMIN). */
                JG(st, jg_str(g, "seccomp"));
                JG(st, seccomp_default_profile_gen(g));
        } else if (o->seccomp == OCI_GEN_SECCOMP_JSON) {
                JG(st, jg_str(g, "seccomp"));
                JG(st, gen_tree(g, seccomp));
        }
        JG(st, (int)yajl_gen_map_close(g));
        return st;
}

static void yv_freep(yajl_val *v)
{
        if (*v)
                yajl_tree_free(*v);
}

int oci_config_gen(const struct oci_gen_opts *o, char **out, size_t *len, herr_t *err)
{
        __attribute__((cleanup(yv_freep))) yajl_val seccomp = NULL;
        int st = 0;

        if (o->seccomp == OCI_GEN_SECCOMP_JSON) {
                char eb[256];

                seccomp = yajl_tree_parse(o->seccomp_json ? o->seccomp_json : "", eb, sizeof eb);
                if (!seccomp) {
                        eb[strcspn(eb, "\n")] = '\0';
                        return herr_set(err, 0, "seccomp profile: invalid JSON: %s", eb);
                }
                if (!YAJL_IS_OBJECT(seccomp))
                        return herr_set(err, 0,
                                          "seccomp profile: expected a JSON object (an OCI linux.seccomp)");
        }
        _cleanup_jg_ yajl_gen g = jg_new(true, err);
        if (!g)
                return herr_prefix(err, "config.json");
        JG(st, (int)yajl_gen_map_open(g));
        JG(st, jg_kstr(g, "ociVersion", OCI_VERSION));
        JG(st, gen_process(g, o));
        JG(st, jg_kmap_open(g, "root"));
        JG(st, jg_kstr(g, "path", o->root_path ? o->root_path : "rootfs"));
        JG(st, jg_kbool(g, "readonly", o->root_readonly));
        JG(st, (int)yajl_gen_map_close(g));
        if (o->hostname)
                JG(st, jg_kstr(g, "hostname", o->hostname));
        JG(st, gen_mounts(g, o));
        if (o->annotations && o->annotations[0]) {
                JG(st, jg_kmap_open(g, "annotations"));
                for (const char *const *a = o->annotations; a[0] && a[1]; a += 2)
                        JG(st, jg_kstr(g, a[0], a[1]));
                JG(st, (int)yajl_gen_map_close(g));
        }
        JG(st, jg_str(g, "linux"));
        JG(st, gen_linux(g, o, seccomp));
        JG(st, (int)yajl_gen_map_close(g));
        return jg_finish(g, st, "config.json", out, len, err);
}

int oci_default_config_json(bool rootless, char **out, size_t *len, herr_t *err)
{
        struct oci_gen_opts o;

        oci_gen_defaults(&o, rootless);
        if (oci_config_gen(&o, out, len, err) < 0)
                return herr_prefix(err, "default config.json");
        return 0;
}
