/* Bad input: a clear one-line error naming the cause, a non-zero exit, and
 * nothing left behind (state dir, cgroup, mounts, processes). */
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "helpers.h"

TestSuite(badinput, .init = h_setup, .fini = h_teardown, .timeout = 60);

static void refused(const struct h_cfg *c, const char *what)
{
        const char *b = h_bundle(c);
        const char *cmds[] = { "create", "run" };
        for (size_t i = 0; i < 2; i++) {
                const char *id = h_id(cmds[i]);
                struct h_res r;
                HUSK(&r, cmds[i], "-b", b, id);
                h_assert_fail(&r, what);
                h_res_free(&r);
                h_assert_clean(id, NULL);
                /* Nothing under --root either. */
                HUSK(&r, "list", "-q");
                cr_assert_str_eq(r.out, "");
                h_res_free(&r);
        }
}

Test(badinput, malformed_json) { refused(&(struct h_cfg){ .raw = "{\"ociVersion\": \"1.0.2\", \"process\": {" }, "config.json"); }
Test(badinput, not_an_object) { refused(&(struct h_cfg){ .raw = "[1,2,3]" }, "config.json"); }
Test(badinput, empty_file) { refused(&(struct h_cfg){ .raw = "" }, "config.json"); }

Test(badinput, schema_invalid_type)
{
        refused(&(struct h_cfg){ .args = "\"sh -c true\"" }, "process.args");
}

Test(badinput, missing_oci_version)
{
        char raw[1024];
        snprintf(raw, sizeof raw, "{\"process\":{\"args\":[\"true\"],\"cwd\":\"/\",\"user\":{\"uid\":0,\"gid\":0}},"
                 "\"root\":{\"path\":\"%s\"}}", h_rootfs());
        refused(&(struct h_cfg){ .raw = raw }, "ociVersion");
}

Test(badinput, missing_process_args)
{
        refused(&(struct h_cfg){ .args = "[]" }, "process.args");
}

Test(badinput, missing_rootfs)
{
        refused(&(struct h_cfg){ .root_path = "/nonexistent/rootfs" }, "root.path");
}

Test(badinput, rootfs_is_a_file)
{
        refused(&(struct h_cfg){ .root_path = "/etc/hostname" }, "root.path");
}

Test(badinput, missing_config_json)
{
        const char *id = h_id("noconfig");
        struct h_res r;
        HUSK(&r, "create", "-b", h_tmp, id);
        h_assert_fail(&r, "config.json");
        h_res_free(&r);
        h_assert_clean(id, NULL);
}

Test(badinput, missing_bundle)
{
        const char *id = h_id("nobundle");
        struct h_res r;
        HUSK(&r, "create", "-b", "/nonexistent/bundle", id);
        h_assert_fail(&r, "/nonexistent/bundle");
        h_res_free(&r);
        h_assert_clean(id, NULL);
}

Test(badinput, unknown_namespace_type)
{
        refused(&(struct h_cfg){ .namespaces = "[{\"type\":\"mount\"},{\"type\":\"bogusns\"}]" }, "bogusns");
}

Test(badinput, duplicate_namespace)
{
        refused(&(struct h_cfg){ .namespaces = "[{\"type\":\"mount\"},{\"type\":\"mount\"}]" }, "mount");
}

Test(badinput, namespace_path_missing)
{
        refused(&(struct h_cfg){ .namespaces = "[{\"type\":\"mount\"},{\"type\":\"network\",\"path\":\"/nonexistent/ns\"}]" },
                "/nonexistent/ns");
}

Test(badinput, user_namespace_without_mappings)
{
        refused(&(struct h_cfg){ .namespaces = "[{\"type\":\"mount\"},{\"type\":\"user\"}]" }, "Mappings");
}

Test(badinput, unknown_user)
{
        /* uid 5000 is not mapped in the container's user namespace. */
        refused(&(struct h_cfg){ .user = "{\"uid\":5000,\"gid\":0}",
                                 .namespaces = "[{\"type\":\"mount\"},{\"type\":\"user\"},{\"type\":\"pid\"}]",
                                 .linux_extra = ",\"uidMappings\":[{\"containerID\":0,\"hostID\":100000,\"size\":1000}],"
                                                "\"gidMappings\":[{\"containerID\":0,\"hostID\":100000,\"size\":1000}]" },
                "process.user.uid 5000");
}

Test(badinput, unmapped_additional_gid)
{
        refused(&(struct h_cfg){ .user = "{\"uid\":0,\"gid\":0,\"additionalGids\":[70000]}",
                                 .namespaces = "[{\"type\":\"mount\"},{\"type\":\"user\"},{\"type\":\"pid\"}]",
                                 .linux_extra = ",\"uidMappings\":[{\"containerID\":0,\"hostID\":100000,\"size\":1000}],"
                                                "\"gidMappings\":[{\"containerID\":0,\"hostID\":100000,\"size\":1000}]" },
                "additionalGids 70000");
}

Test(badinput, bad_mount_type)
{
        refused(&(struct h_cfg){ .mounts_extra = "{\"destination\":\"/tmp/x\",\"type\":\"nosuchfs\",\"source\":\"none\"}" },
                "nosuchfs");
}

Test(badinput, bad_mount_source)
{
        refused(&(struct h_cfg){ .mounts_extra = "{\"destination\":\"/tmp/x\",\"type\":\"bind\",\"source\":\"/nonexistent/src\","
                                                 "\"options\":[\"rbind\"]}" },
                "/nonexistent/src");
}

Test(badinput, relative_mount_destination)
{
        refused(&(struct h_cfg){ .mounts_extra = "{\"destination\":\"mnt/x\",\"type\":\"tmpfs\",\"source\":\"tmpfs\"}" },
                "mnt/x");
}

Test(badinput, bad_mount_option)
{
        refused(&(struct h_cfg){ .mounts_extra = "{\"destination\":\"/tmp/x\",\"type\":\"tmpfs\",\"source\":\"tmpfs\","
                                                 "\"options\":[\"size=notanumber\"]}" },
                "mounts[");
}

Test(badinput, unknown_rlimit)
{
        refused(&(struct h_cfg){ .process_extra = ",\"rlimits\":[{\"type\":\"RLIMIT_BOGUS\",\"soft\":1,\"hard\":1}]" },
                "RLIMIT_BOGUS");
}

Test(badinput, bad_sysctl)
{
        refused(&(struct h_cfg){ .linux_extra = ",\"sysctl\":{\"kernel.no_such_knob\":\"1\"}" }, "kernel.no_such_knob");
}

Test(badinput, failing_hook)
{
        refused(&(struct h_cfg){ .top_extra = ",\"hooks\":{\"createRuntime\":[{\"path\":\"/bin/false\"}]}" },
                "createRuntime");
}

Test(badinput, bad_device)
{
        refused(&(struct h_cfg){ .linux_extra = ",\"devices\":[{\"path\":\"/dev/x\",\"type\":\"q\",\"major\":1,\"minor\":3}]" },
                "devices");
}

Test(badinput, cgroups_path_with_dotdot)
{
        refused(&(struct h_cfg){ .linux_extra = ",\"cgroupsPath\":\"/../../escape\"" }, "cgroupsPath");
}

Test(badinput, id_in_use)
{
        const char *id = h_id("inuse");
        const char *b = h_bundle(&(struct h_cfg){ .args = "[\"sleep\",\"100\"]" });
        h_start_detached(id, b);
        char *cg = h_cgroup_of(id);
        yajl_val before = h_state(id);
        struct h_res r;
        HUSK(&r, "run", "-b", b, id);
        h_assert_fail(&r, "already exists");
        h_res_free(&r);
        yajl_val after = h_state(id);
        cr_assert_not_null(after);
        cr_assert_str_eq(h_jstr(after, "status"), "running");
        cr_assert_eq(h_jint(after, "pid"), h_jint(before, "pid"));
        cr_assert(access(cg, F_OK) == 0, "the first container's cgroup went away");
        yajl_tree_free(before);
        yajl_tree_free(after);
        free(cg);
}

Test(badinput, commands_on_a_missing_container)
{
        /* delete --force of a missing container succeeds, as runc's does
         * (containerd's shim calls it again after delete). */
        const char *cmds[][3] = { { "start", NULL }, { "kill", NULL }, { "delete", NULL }, { "state", NULL } };
        for (size_t i = 0; i < sizeof cmds / sizeof cmds[0]; i++) {
                struct h_res r;
                if (cmds[i][1])
                        HUSK(&r, cmds[i][0], cmds[i][1], "ghost");
                else
                        HUSK(&r, cmds[i][0], "ghost");
                h_assert_fail(&r, "'ghost' does not exist");
                h_res_free(&r);
        }
        struct h_res r;
        HUSK(&r, "delete", "--force", "ghost");
        cr_assert_eq(r.status, 0, "delete --force ghost: %s", r.err);
        h_res_free(&r);
}

Test(badinput, bad_flag_values)
{
        struct h_res r;
        HUSK(&r, "create", "--preserve-fds", "many", "x");
        h_assert_fail(&r, "--preserve-fds");
        h_res_free(&r);
        HUSK(&r, "create", "--pid-file");
        h_assert_fail(&r, "create");
        h_res_free(&r);
        HUSK(&r, "--log", "/nonexistent/dir/log", "list");
        h_assert_fail(&r, "/nonexistent/dir/log");
        h_res_free(&r);
}

Test(badinput, pid_file_in_a_missing_dir)
{
        const char *id = h_id("pidfile");
        struct h_res r;
        HUSK(&r, "create", "--pid-file", "/nonexistent/dir/pid", "-b", h_bundle(&(struct h_cfg){ .args = "[\"sleep\",\"9\"]" }), id);
        h_assert_fail(&r, "--pid-file");
        h_res_free(&r);
        h_assert_clean(id, NULL);
}

Test(badinput, time_offsets_without_a_time_namespace)
{
        refused(&(struct h_cfg){ .linux_extra = ",\"timeOffsets\":{\"monotonic\":{\"secs\":100,\"nanosecs\":0}}" },
                "timeOffsets");
}

Test(badinput, time_offsets_for_a_joined_time_namespace)
{
        refused(&(struct h_cfg){ .namespaces = "[{\"type\":\"mount\"},{\"type\":\"time\",\"path\":\"/proc/self/ns/time\"}]",
                                 .linux_extra = ",\"timeOffsets\":{\"boottime\":{\"secs\":100,\"nanosecs\":0}}" },
                "timeOffsets");
}

Test(badinput, host_sysctl_is_refused)
{
        char *before = h_read("/proc/sys/vm/swappiness");
        int v = atoi(before);
        char cfg[256];
        snprintf(cfg, sizeof cfg, ",\"sysctl\":{\"vm.swappiness\":\"%d\"}", v == 60 ? 61 : 60);
        refused(&(struct h_cfg){ .linux_extra = cfg }, "vm.swappiness");
        char *after = h_read("/proc/sys/vm/swappiness");
        cr_assert_str_eq(before, after, "the host's vm.swappiness changed");
        free(before);
        free(after);
}

Test(badinput, namespaced_sysctl_without_its_namespace)
{
        refused(&(struct h_cfg){ .namespaces = "[{\"type\":\"mount\"},{\"type\":\"pid\"}]",
                                 .linux_extra = ",\"sysctl\":{\"net.ipv4.ip_forward\":\"1\"}" },
                "net.ipv4.ip_forward");
        refused(&(struct h_cfg){ .namespaces = "[{\"type\":\"mount\"},{\"type\":\"pid\"}]",
                                 .linux_extra = ",\"sysctl\":{\"kernel.msgmax\":\"4242\"}" },
                "kernel.msgmax");
        /* Joining the host's own network namespace is no separation. */
        refused(&(struct h_cfg){ .namespaces = "[{\"type\":\"mount\"},{\"type\":\"network\",\"path\":\"/proc/self/ns/net\"}]",
                                 .linux_extra = ",\"sysctl\":{\"net.ipv4.ip_forward\":\"1\"}" },
                "network namespace");
}

/* Without a mount namespace of its own, husk would build the rootfs and
 * pivot_root in its caller's (here this test's private one; the host's in
 * real life). */
Test(badinput, no_mount_namespace)
{
        refused(&(struct h_cfg){ .namespaces = "[{\"type\":\"pid\"},{\"type\":\"uts\"}]" }, "mount namespace");
        cr_assert(access("/proc/self/mountinfo", F_OK) == 0, "the test's root was pivoted away");
        refused(&(struct h_cfg){ .namespaces = "[{\"type\":\"mount\",\"path\":\"/proc/self/ns/mnt\"}]" }, "mount");
        cr_assert(access("/proc/self/mountinfo", F_OK) == 0, "the test's root was pivoted away");
}
