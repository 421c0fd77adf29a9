/* spec/generate.c: the default config.json of `husk spec` (runc-like). */
#include "generate.h"

#include <string.h>
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

static int gen_user(yajl_gen g)
{
        int st = 0;

        JG(st, jg_kmap_open(g, "user"));
        JG(st, jg_kint(g, "uid", 0));
        JG(st, jg_kint(g, "gid", 0));
        JG(st, (int)yajl_gen_map_close(g));
        return st;
}

static int gen_capabilities(yajl_gen g)
{
        int st = 0;

        JG(st, jg_kmap_open(g, "capabilities"));
        JG(st, jg_kstrv(g, "bounding", default_caps));
        JG(st, jg_kstrv(g, "effective", default_caps));
        JG(st, jg_kstrv(g, "permitted", default_caps));
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

static int gen_process(yajl_gen g)
{
        static const char *const args[] = { "sh", NULL };
        static const char *const env[] = {
                "PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin",
                "TERM=xterm", NULL
        };
        int st = 0;

        JG(st, jg_kmap_open(g, "process"));
        JG(st, jg_kbool(g, "terminal", true));
        JG(st, gen_user(g));
        JG(st, jg_kstrv(g, "args", args));
        JG(st, jg_kstrv(g, "env", env));
        JG(st, jg_kstr(g, "cwd", "/"));
        JG(st, gen_capabilities(g));
        JG(st, gen_rlimits(g));
        JG(st, jg_kbool(g, "noNewPrivileges", true));
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

static int gen_mounts(yajl_gen g, bool rootless)
{
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
        JG(st, (int)yajl_gen_array_close(g));
        return st;
}

static int gen_namespaces(yajl_gen g, bool rootless)
{
        static const char *const types[] = { "pid", "network", "ipc", "uts",
                                             "mount", "cgroup", "user" };
        /* Rootless: the caller's own user namespace, the host's network. */
        const char *skip = rootless ? "network" : "user";
        int st = 0;

        JG(st, jg_karr_open(g, "namespaces"));
        for (size_t i = 0; i < sizeof types / sizeof types[0]; i++) {
                if (!strcmp(types[i], skip))
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

/* The "linux" object (value only; the caller writes the key).
 * Returns 0 or the first yajl_gen_status failure. */
static int gen_linux(yajl_gen g, bool rootless)
{
        int st = 0;

        JG(st, (int)yajl_gen_map_open(g));
        if (rootless) {
                JG(st, gen_id_mapping(g, "uidMappings", getuid()));
                JG(st, gen_id_mapping(g, "gidMappings", getgid()));
        }
        JG(st, gen_namespaces(g, rootless));
        JG(st, jg_kstrv(g, "maskedPaths", masked_paths));
        JG(st, jg_kstrv(g, "readonlyPaths", readonly_paths));
        /* The default seccomp profile of seccomp/ (it assumes the default
         * capabilities above, which leave out CAP_SYS_ADMIN). */
        JG(st, jg_str(g, "seccomp"));
        JG(st, seccomp_default_profile_gen(g));
        JG(st, (int)yajl_gen_map_close(g));
        return st;
}

int oci_default_config_json(bool rootless, char **out, size_t *len, herr_t *err)
{
        _cleanup_jg_ yajl_gen g = jg_new(true, err);
        int st = 0;

        if (!g)
                return herr_prefix(err, "default config.json");
        JG(st, (int)yajl_gen_map_open(g));
        JG(st, jg_kstr(g, "ociVersion", OCI_VERSION));
        JG(st, gen_process(g));
        JG(st, jg_kmap_open(g, "root"));
        JG(st, jg_kstr(g, "path", "rootfs"));
        JG(st, jg_kbool(g, "readonly", true));
        JG(st, (int)yajl_gen_map_close(g));
        JG(st, jg_kstr(g, "hostname", "husk"));
        JG(st, gen_mounts(g, rootless));
        JG(st, jg_str(g, "linux"));
        JG(st, gen_linux(g, rootless));
        JG(st, (int)yajl_gen_map_close(g));
        return jg_finish(g, st, "default config.json", out, len, err);
}
