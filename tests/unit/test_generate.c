/* Unit tests: the default config.json of `husk spec` (config.md). */
#include <criterion/criterion.h>
#include <stdlib.h>
#include <sys/wait.h>
#include <unistd.h>

#include "../../common/cleanup.h"
#include "../../common/fileutil.h"
#include "../../spec/generate.h"
#include "../../spec/version.h"
#include "test_json_helpers.h"

static yajl_val spec_doc(bool rootless)
{
        _cleanup_free_ char *out = NULL;
        size_t len = 0;
        herr_t err = { 0 };

        cr_assert_eq(oci_default_config_json(rootless, &out, &len, &err), 0, "%s", err.msg);
        cr_assert_eq(len, strlen(out));
        cr_assert_not_null(strchr(out, '\n'), "not pretty-printed");
        return tj_parse(out);
}

/* The mount object with this destination, or NULL. */
static yajl_val find_mount(yajl_val doc, const char *dest)
{
        yajl_val m = tj_arr(doc, "mounts");

        for (size_t i = 0; i < YAJL_GET_ARRAY(m)->len; i++) {
                yajl_val e = YAJL_GET_ARRAY(m)->values[i];
                const char *d = tj_str(e, "destination");

                if (!strcmp(d, dest))
                        return e;
        }
        return NULL;
}

/* Whether linux.namespaces has an entry of this type. */
static bool has_ns(yajl_val doc, const char *type)
{
        yajl_val a = tj_arr(doc, "linux.namespaces");

        for (size_t i = 0; i < YAJL_GET_ARRAY(a)->len; i++)
                if (!strcmp(tj_str(YAJL_GET_ARRAY(a)->values[i], "type"), type))
                        return true;
        return false;
}

static long long int_at(yajl_val v, const char *path)
{
        yajl_val i = tj_get(v, path);

        cr_assert(i && YAJL_IS_INTEGER(i), "%s: expected an integer", path);
        return YAJL_GET_INTEGER(i);
}

Test(generate, process_defaults)
{
        yajl_val v = spec_doc(false);

        cr_assert_str_eq(tj_str(v, "ociVersion"), OCI_VERSION);
        cr_assert(tj_bool(v, "process.terminal"));
        cr_assert_eq(int_at(v, "process.user.uid"), 0);
        cr_assert_eq(int_at(v, "process.user.gid"), 0);
        yajl_val args = tj_arr(v, "process.args");
        cr_assert_eq(YAJL_GET_ARRAY(args)->len, 1u);
        cr_assert(tj_has(args, "sh"));
        yajl_val env = tj_arr(v, "process.env");
        cr_assert(tj_has(env, "PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"));
        cr_assert(tj_has(env, "TERM=xterm"));
        cr_assert_str_eq(tj_str(v, "process.cwd"), "/");
        cr_assert(tj_bool(v, "process.noNewPrivileges"));
        cr_assert_str_eq(tj_str(v, "hostname"), "husk");
        yajl_tree_free(v);
}

Test(generate, capabilities_and_rlimits)
{
        yajl_val v = spec_doc(false);
        const char *sets[] = { "bounding", "effective", "permitted" };

        for (size_t i = 0; i < 3; i++) {
                char path[64];

                snprintf(path, sizeof path, "process.capabilities.%s", sets[i]);
                yajl_val a = tj_arr(v, path);
                cr_assert_eq(YAJL_GET_ARRAY(a)->len, 3u, "%s", path);
                cr_assert(tj_has(a, "CAP_AUDIT_WRITE") && tj_has(a, "CAP_KILL") &&
                          tj_has(a, "CAP_NET_BIND_SERVICE"), "%s", path);
        }
        cr_assert_null(tj_get(v, "process.capabilities.inheritable"));
        yajl_val rl = tj_arr(v, "process.rlimits");
        cr_assert_eq(YAJL_GET_ARRAY(rl)->len, 1u);
        yajl_val r = YAJL_GET_ARRAY(rl)->values[0];
        cr_assert_str_eq(tj_str(r, "type"), "RLIMIT_NOFILE");
        cr_assert_eq(int_at(r, "soft"), 1024);
        cr_assert_eq(int_at(r, "hard"), 1024);
        yajl_tree_free(v);
}

Test(generate, readonly_root)
{
        yajl_val v = spec_doc(false);

        cr_assert_str_eq(tj_str(v, "root.path"), "rootfs");
        cr_assert(tj_bool(v, "root.readonly"));
        yajl_tree_free(v);
}

Test(generate, mounts)
{
        yajl_val v = spec_doc(false);
        yajl_val m;

        cr_assert_eq(YAJL_GET_ARRAY(tj_arr(v, "mounts"))->len, 7u);
        m = find_mount(v, "/proc");
        cr_assert(m && !strcmp(tj_str(m, "type"), "proc"));
        m = find_mount(v, "/dev");
        cr_assert(m && !strcmp(tj_str(m, "type"), "tmpfs"));
        cr_assert(tj_has(tj_arr(m, "options"), "size=65536k"));
        m = find_mount(v, "/dev/pts");
        cr_assert(m && !strcmp(tj_str(m, "type"), "devpts"));
        cr_assert(tj_has(tj_arr(m, "options"), "gid=5"));
        cr_assert(tj_has(tj_arr(m, "options"), "ptmxmode=0666"));
        m = find_mount(v, "/dev/shm");
        cr_assert(m && tj_has(tj_arr(m, "options"), "mode=1777"));
        m = find_mount(v, "/dev/mqueue");
        cr_assert(m && !strcmp(tj_str(m, "type"), "mqueue"));
        m = find_mount(v, "/sys");
        cr_assert(m && !strcmp(tj_str(m, "type"), "sysfs"));
        cr_assert(tj_has(tj_arr(m, "options"), "ro"));
        m = find_mount(v, "/sys/fs/cgroup");
        cr_assert(m && !strcmp(tj_str(m, "type"), "cgroup2"));
        cr_assert(tj_has(tj_arr(m, "options"), "relatime"));
        yajl_tree_free(v);
}

Test(generate, namespaces)
{
        yajl_val v = spec_doc(false);
        const char *want[] = { "pid", "network", "ipc", "uts", "mount", "cgroup" };

        for (size_t i = 0; i < 6; i++)
                cr_assert(has_ns(v, want[i]), "missing namespace %s", want[i]);
        cr_assert_not(has_ns(v, "user"));
        cr_assert_eq(YAJL_GET_ARRAY(tj_arr(v, "linux.namespaces"))->len, 6u);
        cr_assert_null(tj_get(v, "linux.uidMappings"));
        yajl_tree_free(v);
}

Test(generate, masked_and_readonly_paths)
{
        yajl_val v = spec_doc(false);
        const char *masked[] = { "/proc/acpi", "/proc/asound", "/proc/kcore",
                                 "/proc/keys", "/proc/latency_stats", "/proc/timer_list",
                                 "/proc/timer_stats", "/proc/sched_debug", "/sys/firmware",
                                 "/proc/scsi", "/sys/devices/virtual/powercap" };
        const char *ro[] = { "/proc/bus", "/proc/fs", "/proc/irq", "/proc/sys",
                             "/proc/sysrq-trigger" };
        yajl_val a = tj_arr(v, "linux.maskedPaths");

        cr_assert_eq(YAJL_GET_ARRAY(a)->len, ARRAY_SIZE(masked));
        for (size_t i = 0; i < ARRAY_SIZE(masked); i++)
                cr_assert(tj_has(a, masked[i]), "maskedPaths lacks %s", masked[i]);
        a = tj_arr(v, "linux.readonlyPaths");
        cr_assert_eq(YAJL_GET_ARRAY(a)->len, ARRAY_SIZE(ro));
        for (size_t i = 0; i < ARRAY_SIZE(ro); i++)
                cr_assert(tj_has(a, ro[i]), "readonlyPaths lacks %s", ro[i]);
        yajl_tree_free(v);
}

static void assert_mapping(yajl_val v, const char *key, long long host)
{
        yajl_val a = tj_arr(v, key);

        cr_assert_eq(YAJL_GET_ARRAY(a)->len, 1u, "%s", key);
        yajl_val m = YAJL_GET_ARRAY(a)->values[0];
        cr_assert_eq(int_at(m, "containerID"), 0, "%s", key);
        cr_assert_eq(int_at(m, "hostID"), host, "%s", key);
        cr_assert_eq(int_at(m, "size"), 1, "%s", key);
}

Test(generate, rootless)
{
        yajl_val v = spec_doc(true);
        yajl_val m;

        cr_assert(has_ns(v, "user"));
        cr_assert_not(has_ns(v, "network"));
        cr_assert(has_ns(v, "pid") && has_ns(v, "mount"));
        assert_mapping(v, "linux.uidMappings", getuid());
        assert_mapping(v, "linux.gidMappings", getgid());
        m = find_mount(v, "/sys");
        cr_assert_not_null(m);
        cr_assert_str_eq(tj_str(m, "source"), "/sys");
        cr_assert(tj_has(tj_arr(m, "options"), "rbind"));
        cr_assert(tj_has(tj_arr(m, "options"), "ro"));
        m = find_mount(v, "/dev/pts");
        cr_assert(m && !tj_has(tj_arr(m, "options"), "gid=5"));
        cr_assert(tj_has(tj_arr(m, "options"), "newinstance"));
        cr_assert_null(find_mount(v, "/sys/fs/cgroup"));
        cr_assert_eq(YAJL_GET_ARRAY(tj_arr(v, "mounts"))->len, 6u);
        /* Everything else stays as in the default. */
        cr_assert(tj_bool(v, "root.readonly"));
        cr_assert(tj_bool(v, "process.terminal"));
        cr_assert(tj_has(tj_arr(v, "linux.maskedPaths"), "/proc/kcore"));
        yajl_tree_free(v);
}

/* As another user (a forked child drops to uid 4321, gid 1234), the
 * rootless mappings name that user, not root. Needs root to switch. */
Test(generate, rootless_maps_caller_ids)
{
        _cleanup_free_ char *out = NULL;
        int fds[2];
        pid_t pid;
        int status;

        if (getuid() != 0)
                cr_skip_test("needs root to switch ids");
        cr_assert_eq(pipe(fds), 0);
        pid = fork();
        cr_assert_geq(pid, 0);
        if (pid == 0) {
                char *doc = NULL;
                size_t len = 0;
                herr_t err = { 0 };

                close(fds[0]);
                if (setresgid(1234, 1234, 1234) || setresuid(4321, 4321, 4321) ||
                    oci_default_config_json(true, &doc, &len, &err) < 0)
                        _exit(1);
                bool ok = write(fds[1], doc, len) == (ssize_t)len;

                free(doc);
                _exit(ok ? 0 : 1);
        }
        close(fds[1]);
        herr_t err = { 0 };
        size_t len = 0;
        cr_assert_eq(read_fd(fds[0], 1 << 20, &out, &len, &err), 0, "%s", err.msg);
        close(fds[0]);
        cr_assert_eq(waitpid(pid, &status, 0), pid);
        cr_assert(WIFEXITED(status) && WEXITSTATUS(status) == 0);
        yajl_val v = tj_parse(out);
        assert_mapping(v, "linux.uidMappings", 4321);
        assert_mapping(v, "linux.gidMappings", 1234);
        yajl_tree_free(v);
}
