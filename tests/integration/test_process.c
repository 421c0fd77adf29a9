/* The process of config.json: args, env, cwd, user, capabilities, rlimits,
 * noNewPrivileges, oomScoreAdj, ioPriority, scheduler, personality, LSM
 * labels; fds (preserve-fds, LISTEN_FDS, no leaks) and CVE-2019-5736. */
#include <dirent.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "helpers.h"

TestSuite(process, .init = h_setup, .fini = h_teardown, .timeout = 60);

static struct h_res run_cfg(const struct h_cfg *c)
{
        struct h_res r;
        HUSK(&r, "run", "-b", h_bundle(c), h_id("p"));
        return r;
}

Test(process, args_env_cwd)
{
        struct h_res r = run_cfg(&(struct h_cfg){
                .args = "[\"sh\",\"-c\",\"echo \\\"$0|$1|$FOO|$BAR\\\"; pwd; env | grep -c HUSK_TEST_SECRET\",\"arg0\",\"a b\"]",
                .env = "[\"PATH=/bin\",\"FOO=foo bar\",\"BAR=\"]",
                .cwd = "/tmp" });
        cr_assert_eq(r.status, 1, "%s", r.err); /* grep -c found nothing: exit 1 */
        cr_assert_str_eq(r.out, "arg0|a b|foo bar|\n/tmp\n0\n");
        h_res_free(&r);
}

Test(process, husk_environment_does_not_leak)
{
        struct h_res r;
        HUSK_O(&r, &((struct h_opts){ .fd3 = -1, .env = (const char *[]){ "HUSK_TEST_SECRET=1", NULL } }), "run", "-b",
               h_bundle(&(struct h_cfg){ .args = "[\"env\"]" }), h_id("env"));
        H_OK(&r);
        cr_assert_str_eq(r.out, "PATH=/bin:/sbin:/usr/bin\n");
        h_res_free(&r);
}

Test(process, cwd_is_created_inside_the_rootfs_or_fails)
{
        const char *id = h_id("badcwd");
        struct h_res r = run_cfg(&(struct h_cfg){ .cwd = "/nonexistent/dir" });
        h_assert_fail(&r, "/nonexistent/dir");
        h_res_free(&r);
        h_assert_clean(id, NULL);
}

Test(process, user_groups_umask)
{
        struct h_res r = run_cfg(&(struct h_cfg){
                .args = "[\"sh\",\"-c\",\"id -u; id -g; id -G; umask; touch /tmp/f; stat -c %a /tmp/f\"]",
                .user = "{\"uid\":1000,\"gid\":1001,\"additionalGids\":[5,6],\"umask\":63}" });
        H_OK(&r);
        cr_assert_str_eq(r.out, "1000\n1001\n1001 5 6\n0077\n600\n");
        h_res_free(&r);
}

static unsigned long long capfield(const char *out, const char *name)
{
        const char *p = strstr(out, name);
        cr_assert_not_null(p, "no %s in %s", name, out);
        return strtoull(p + strlen(name) + 1, NULL, 16);
}

#define CAP_BIT(n) (1ULL << (n))

Test(process, five_capability_sets)
{
        /* CAP_CHOWN 0, CAP_KILL 5, CAP_NET_BIND_SERVICE 10. As uid 1000 the
         * sets after exec are exactly what was asked (ambient kept). */
        struct h_res r = run_cfg(&(struct h_cfg){
                .args = "[\"grep\",\"^Cap\",\"/proc/self/status\"]",
                .user = "{\"uid\":1000,\"gid\":1000}",
                .process_extra = ",\"capabilities\":{\"bounding\":[\"CAP_CHOWN\",\"CAP_KILL\",\"CAP_NET_BIND_SERVICE\"],"
                                 "\"effective\":[\"CAP_CHOWN\",\"CAP_KILL\"],\"permitted\":[\"CAP_CHOWN\",\"CAP_KILL\"],"
                                 "\"inheritable\":[\"CAP_CHOWN\",\"CAP_NET_BIND_SERVICE\"],\"ambient\":[\"CAP_CHOWN\"]}" });
        H_OK(&r);
        cr_assert_eq(capfield(r.out, "CapBnd:"), CAP_BIT(0) | CAP_BIT(5) | CAP_BIT(10), "%s", r.out);
        cr_assert_eq(capfield(r.out, "CapInh:"), CAP_BIT(0) | CAP_BIT(10), "%s", r.out);
        cr_assert_eq(capfield(r.out, "CapAmb:"), CAP_BIT(0), "%s", r.out);
        cr_assert_eq(capfield(r.out, "CapPrm:"), CAP_BIT(0), "%s", r.out);
        cr_assert_eq(capfield(r.out, "CapEff:"), CAP_BIT(0), "%s", r.out);
        h_res_free(&r);
}

Test(process, capabilities_of_root)
{
        struct h_res r = run_cfg(&(struct h_cfg){
                .args = "[\"grep\",\"^Cap\",\"/proc/self/status\"]",
                .process_extra = ",\"capabilities\":{\"bounding\":[\"CAP_KILL\",\"CAP_SETUID\"],"
                                 "\"effective\":[\"CAP_KILL\"],\"permitted\":[\"CAP_KILL\"]}" });
        H_OK(&r);
        cr_assert_eq(capfield(r.out, "CapBnd:"), CAP_BIT(5) | CAP_BIT(7), "%s", r.out);
        cr_assert_eq(capfield(r.out, "CapAmb:"), 0);
        cr_assert_eq(capfield(r.out, "CapInh:"), 0);
        h_res_free(&r);
        /* No capabilities object: none at all. */
        r = run_cfg(&(struct h_cfg){ .args = "[\"grep\",\"^Cap\",\"/proc/self/status\"]" });
        H_OK(&r);
        cr_assert_eq(capfield(r.out, "CapBnd:"), 0);
        cr_assert_eq(capfield(r.out, "CapEff:"), 0);
        h_res_free(&r);
}

Test(process, unknown_capability_fails)
{
        const char *id = h_id("p");
        struct h_res r = run_cfg(&(struct h_cfg){ .process_extra = ",\"capabilities\":{\"bounding\":[\"CAP_NOPE\"]}" });
        h_assert_fail(&r, "CAP_NOPE");
        h_res_free(&r);
        h_assert_clean(id, NULL);
}

Test(process, rlimits)
{
        struct h_res r = run_cfg(&(struct h_cfg){
                .args = "[\"sh\",\"-c\",\"ulimit -n; ulimit -Hn; ulimit -c\"]",
                .process_extra = ",\"rlimits\":[{\"type\":\"RLIMIT_NOFILE\",\"soft\":512,\"hard\":1024},"
                                 "{\"type\":\"RLIMIT_CORE\",\"soft\":0,\"hard\":0}]" });
        H_OK(&r);
        cr_assert_str_eq(r.out, "512\n1024\n0\n");
        h_res_free(&r);
}

Test(process, rlimit_above_the_hard_limit_fails_clearly)
{
        const char *id = h_id("p");
        const char *b = h_bundle(&(struct h_cfg){
                .process_extra = ",\"rlimits\":[{\"type\":\"RLIMIT_NOFILE\",\"soft\":1048576,\"hard\":1048576}]" });
        struct h_res r;
        HUSK(&r, "run", "-b", b, id);
        h_assert_fail(&r, "RLIMIT_NOFILE");
        h_res_free(&r);
        h_assert_clean(id, NULL);
        /* create itself fails, as with runc: clients see it there. */
        HUSK(&r, "create", "-b", b, id);
        h_assert_fail(&r, "RLIMIT_NOFILE");
        h_res_free(&r);
        h_assert_clean(id, NULL);
}

Test(process, lowering_oom_score_adj_without_cap_sys_resource_fails_at_create)
{
        char *bnd = h_read("/proc/self/status");
        unsigned long long caps = strtoull(strstr(bnd, "CapBnd:") + 8, NULL, 16);
        free(bnd);
        if (caps & (1ULL << 24))
                cr_skip_test("this host grants CAP_SYS_RESOURCE");
        const char *id = h_id("oom");
        struct h_res r;
        HUSK(&r, "create", "-b", h_bundle(&(struct h_cfg){ .process_extra = ",\"oomScoreAdj\":-500" }), id);
        h_assert_fail(&r, "oomScoreAdj");
        h_res_free(&r);
        h_assert_clean(id, NULL);
}

Test(process, no_new_privileges)
{
        struct h_res r = run_cfg(&(struct h_cfg){ .args = "[\"grep\",\"NoNewPrivs\",\"/proc/self/status\"]",
                                                  .process_extra = ",\"noNewPrivileges\":true" });
        H_OK(&r);
        H_HAS(r.out, "NoNewPrivs:\t1");
        h_res_free(&r);
        r = run_cfg(&(struct h_cfg){ .args = "[\"grep\",\"NoNewPrivs\",\"/proc/self/status\"]" });
        H_OK(&r);
        H_HAS(r.out, "NoNewPrivs:\t0");
        h_res_free(&r);
}

Test(process, oom_score_adj)
{
        struct h_res r = run_cfg(&(struct h_cfg){ .args = "[\"cat\",\"/proc/self/oom_score_adj\"]",
                                                  .process_extra = ",\"oomScoreAdj\":432" });
        H_OK(&r);
        cr_assert_str_eq(r.out, "432\n");
        h_res_free(&r);
}

Test(process, io_priority)
{
        struct h_res r = run_cfg(&(struct h_cfg){ .args = "[\"ionice\"]",
                                                  .process_extra = ",\"ioPriority\":{\"class\":\"IOPRIO_CLASS_BE\",\"priority\":6}" });
        H_OK(&r);
        H_HAS(r.out, "best-effort");
        H_HAS(r.out, "prio 6");
        h_res_free(&r);
}

Test(process, scheduler)
{
        struct h_res r = run_cfg(&(struct h_cfg){
                .args = "[\"sh\",\"-c\",\"awk '/^policy/ {print $3}' /proc/self/sched; cut -d' ' -f19 /proc/self/stat\"]",
                .process_extra = ",\"scheduler\":{\"policy\":\"SCHED_BATCH\",\"nice\":7}" });
        H_OK(&r);
        /* SCHED_BATCH is 3 */
        cr_assert_str_eq(r.out, "3\n7\n");
        h_res_free(&r);
}

Test(process, personality)
{
        struct h_res r = run_cfg(&(struct h_cfg){ .args = "[\"uname\",\"-m\"]",
                                                  .linux_extra = ",\"personality\":{\"domain\":\"LINUX32\"}" });
        H_OK(&r);
        cr_assert_str_eq(r.out, "i686\n");
        h_res_free(&r);
        r = run_cfg(&(struct h_cfg){ .args = "[\"uname\",\"-m\"]", .linux_extra = ",\"personality\":{\"domain\":\"LINUX\"}" });
        H_OK(&r);
        cr_assert_str_eq(r.out, "x86_64\n");
        h_res_free(&r);
}

static bool lsm_on(const char *name)
{
        char *s = h_read("/sys/kernel/security/lsm");
        bool on = s && strstr(s, name);
        free(s);
        return on;
}

Test(process, apparmor_absent_is_a_clear_error)
{
        if (lsm_on("apparmor"))
                cr_skip_test("AppArmor is active here");
        const char *id = h_id("p");
        struct h_res r = run_cfg(&(struct h_cfg){ .process_extra = ",\"apparmorProfile\":\"husk-default\"" });
        h_assert_fail(&r, "AppArmor is not enabled");
        h_res_free(&r);
        h_assert_clean(id, NULL);
}

Test(process, selinux_absent_is_a_clear_error)
{
        if (lsm_on("selinux"))
                cr_skip_test("SELinux is active here");
        const char *id = h_id("p");
        struct h_res r = run_cfg(&(struct h_cfg){ .process_extra = ",\"selinuxLabel\":\"system_u:system_r:container_t:s0\"" });
        h_assert_fail(&r, "SELinux is not enabled");
        h_res_free(&r);
        h_assert_clean(id, NULL);
}

Test(process, no_fd_of_husk_leaks)
{
        /* Only 0, 1, 2 and ls's own directory fd (3: the lowest free). */
        int fd = open("/dev/null", O_RDONLY); /* not CLOEXEC: husk inherits it */
        cr_assert_geq(fd, 0);
        struct h_res r;
        HUSK_O(&r, &((struct h_opts){ .fd3 = fd }), "run", "-b",
               h_bundle(&(struct h_cfg){ .args = "[\"ls\",\"/proc/self/fd\"]" }), h_id("fds"));
        H_OK(&r);
        cr_assert_str_eq(r.out, "0\n1\n2\n3\n", "%s", r.err);
        h_res_free(&r);
        close(fd);
}

Test(process, preserve_fds)
{
        const char *f = h_path("passed");
        h_write(f, "through-fd3\n", 0644);
        int fd = open(f, O_RDONLY);
        struct h_res r;
        HUSK_O(&r, &((struct h_opts){ .fd3 = fd }), "run", "--preserve-fds", "1", "-b",
               h_bundle(&(struct h_cfg){ .args = "[\"sh\",\"-c\",\"cat <&3; exec ls /proc/self/fd\"]" }),
               h_id("pfd"));
        H_OK(&r);
        cr_assert_str_eq(r.out, "through-fd3\n0\n1\n2\n3\n4\n");
        h_res_free(&r);
        close(fd);
}

Test(process, listen_fds_passthrough)
{
        const char *f = h_path("socket-ish");
        h_write(f, "activated\n", 0644);
        int fd = open(f, O_RDONLY);
        struct h_res r;
        HUSK_O(&r, &((struct h_opts){ .fd3 = fd, .env = (const char *[]){ "LISTEN_FDS=1", NULL } }), "run", "-b",
               h_bundle(&(struct h_cfg){
                       .args = "[\"sh\",\"-c\",\"echo $LISTEN_FDS $LISTEN_PID; cat <&3\"]",
                       .env = "[\"PATH=/bin\",\"LISTEN_FDS=7\"]" }),
               h_id("listen"));
        H_OK(&r);
        cr_assert_str_eq(r.out, "1 1\nactivated\n");
        h_res_free(&r);
        close(fd);
}

Test(process, listen_fds_of_another_process_are_ignored)
{
        struct h_res r;
        HUSK_O(&r, &((struct h_opts){ .fd3 = -1, .env = (const char *[]){ "LISTEN_FDS=1", "LISTEN_PID=1", NULL } }),
               "run", "-b", h_bundle(&(struct h_cfg){ .args = "[\"sh\",\"-c\",\"echo x$LISTEN_FDS\"]" }), h_id("lpid"));
        H_OK(&r);
        cr_assert_str_eq(r.out, "x\n");
        h_res_free(&r);
}

Test(process, exec_of_a_missing_program_fails_clearly)
{
        const char *id = h_id("p");
        struct h_res r = run_cfg(&(struct h_cfg){ .args = "[\"/no/such/program\"]" });
        h_assert_fail(&r, "/no/such/program");
        h_res_free(&r);
        h_assert_clean(id, NULL);
        r = run_cfg(&(struct h_cfg){ .args = "[\"nosuchprogram\"]" });
        h_assert_fail(&r, "nosuchprogram");
        h_res_free(&r);
}

/* CVE-2019-5736: the container must not be able to overwrite husk's binary
 * through /proc/<pid>/exe of a husk process. */
Test(process, runtime_binary_cannot_be_overwritten)
{
        char *before = h_read(h_husk());
        struct stat sb0;
        cr_assert_eq(stat(h_husk(), &sb0), 0);
        const char *id = h_id("cve");
        /* A created container: its init is a husk process waiting in the
         * container's namespaces. */
        struct h_res r;
        HUSK(&r, "create", "-b", h_bundle(&(struct h_cfg){ .args = "[\"sleep\",\"100\"]" }), id);
        H_OK(&r);
        h_res_free(&r);
        yajl_val st = h_state(id);
        long long pid = h_jint(st, "pid");
        yajl_tree_free(st);
        char p[64];
        snprintf(p, sizeof p, "/proc/%lld/exe", pid);
        int fd = open(p, O_WRONLY);
        cr_assert_lt(fd, 0, "the init's exe opened for writing");
        /* A second container in the first one's pid namespace tries every
         * /proc/N/exe and its own while husk is executing it. */
        char ns[256];
        snprintf(ns, sizeof ns, "[{\"type\":\"pid\",\"path\":\"/proc/%lld/ns/pid\"},{\"type\":\"mount\"}]", pid);
        HUSK(&r, "run", "-b",
             h_bundle(&(struct h_cfg){
                     .args = "[\"sh\",\"-c\",\"n=0; for e in /proc/[0-9]*/exe /proc/self/exe; do "
                             "(echo pwned >> $e) 2>/dev/null && n=$((n+1)); done; echo wrote=$n\"]",
                     .namespaces = ns,
                     .process_extra = ",\"capabilities\":{\"bounding\":[\"CAP_DAC_OVERRIDE\",\"CAP_SYS_PTRACE\"],"
                                      "\"effective\":[\"CAP_DAC_OVERRIDE\",\"CAP_SYS_PTRACE\"],"
                                      "\"permitted\":[\"CAP_DAC_OVERRIDE\",\"CAP_SYS_PTRACE\"]}",
                     .writable_root = false }),
             h_id("cve2"));
        H_OK(&r);
        cr_assert_str_eq(r.out, "wrote=0\n");
        h_res_free(&r);
        HUSK(&r, "start", id);
        H_OK(&r);
        h_res_free(&r);
        char *after = h_read(h_husk());
        struct stat sb1;
        cr_assert_eq(stat(h_husk(), &sb1), 0);
        cr_assert_eq(sb0.st_size, sb1.st_size);
        cr_assert(before && after && memcmp(before, after, (size_t)sb0.st_size) == 0, "husk's binary changed");
        free(before);
        free(after);
}

/* The waiting init holds no fd of husk's state store or bundle (a lock or
 * a directory of the host reachable from inside the container). */
Test(process, created_init_holds_no_host_paths)
{
        const char *id = h_id("initfds");
        const char *b = h_bundle(&(struct h_cfg){ .args = "[\"sleep\",\"100\"]" });
        struct h_res r;
        HUSK(&r, "create", "-b", b, id);
        H_OK(&r);
        h_res_free(&r);
        yajl_val st = h_state(id);
        long long pid = h_jint(st, "pid");
        yajl_tree_free(st);
        char dir[64];
        snprintf(dir, sizeof dir, "/proc/%lld/fd", pid);
        DIR *d = opendir(dir);
        cr_assert_not_null(d);
        struct dirent *de;
        while ((de = readdir(d))) {
                if (de->d_name[0] == '.')
                        continue;
                char p[128], t[PATH_MAX];
                snprintf(p, sizeof p, "%s/%s", dir, de->d_name);
                ssize_t n = readlink(p, t, sizeof t - 1);
                if (n < 0)
                        continue;
                t[n] = '\0';
                cr_assert(!strstr(t, h_tmp), "init fd %s -> %s", de->d_name, t);
                cr_assert(strncmp(t, "/work", 5) != 0 || atoi(de->d_name) < 3, "init fd %s -> %s", de->d_name, t);
        }
        closedir(d);
}

/* process.execCPUAffinity applies to exec'd processes, not to the init:
 * final pins the exec'd process; -p process.json overrides the config's;
 * a CPU the machine lacks is a clear error. */
Test(process, exec_cpu_affinity)
{
        long ncpu = sysconf(_SC_NPROCESSORS_ONLN);
        if (ncpu < 2)
                cr_skip_test("needs two CPUs");
        const char *id = h_id("aff");
        h_start_detached(id, h_bundle(&(struct h_cfg){
                                     .args = "[\"sleep\",\"60\"]",
                                     .process_extra = ",\"execCPUAffinity\":{\"initial\":\"0\",\"final\":\"1\"}" }));
        struct h_res r;
        HUSK(&r, "exec", id, "grep", "Cpus_allowed_list", "/proc/1/status", "/proc/self/status");
        H_OK(&r);
        /* the init keeps every CPU; the exec'd grep runs on CPU 1 only */
        H_HASNT(r.out, "/proc/1/status:Cpus_allowed_list:\t1\n");
        H_HAS(r.out, "/proc/self/status:Cpus_allowed_list:\t1\n");
        h_res_free(&r);

        h_write(h_path("p0.json"),
                "{\"args\":[\"grep\",\"Cpus_allowed_list\",\"/proc/self/status\"],\"cwd\":\"/\","
                "\"user\":{\"uid\":0,\"gid\":0},\"execCPUAffinity\":{\"final\":\"0\"}}",
                0644);
        HUSK(&r, "exec", "-p", h_path("p0.json"), id);
        H_OK(&r);
        cr_assert_str_eq(r.out, "Cpus_allowed_list:\t0\n");
        h_res_free(&r);

        char big[64];
        snprintf(big, sizeof big, "%ld", ncpu + 7);
        char doc[512];
        snprintf(doc, sizeof doc,
                 "{\"args\":[\"true\"],\"cwd\":\"/\",\"user\":{\"uid\":0,\"gid\":0},"
                 "\"execCPUAffinity\":{\"final\":\"%s\"}}",
                 big);
        h_write(h_path("pbig.json"), doc, 0644);
        HUSK(&r, "exec", "-p", h_path("pbig.json"), id);
        h_assert_fail(&r, "process.execCPUAffinity.final");
        h_res_free(&r);

        h_write(h_path("pbad.json"),
                "{\"args\":[\"true\"],\"cwd\":\"/\",\"user\":{\"uid\":0,\"gid\":0},"
                "\"execCPUAffinity\":{\"initial\":\"3-1\"}}",
                0644);
        HUSK(&r, "exec", "-p", h_path("pbad.json"), id);
        h_assert_fail(&r, "process.execCPUAffinity.initial");
        h_res_free(&r);
        HUSK(&r, "delete", "--force", id);
        H_OK(&r);
        h_res_free(&r);
}
