/* Native tests of the cgroup v2 manager on this host's v2 hierarchy. Every
 * test works below its own <root>/husk-test-<pid> and removes it. Skipped
 * when not root or without a v2 hierarchy. */
#include <criterion/criterion.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "../../cgroups/cgroups.h"
#include "../../common/cleanup.h"
#include "../../common/fileutil.h"

static char top[256];

static void setup(void)
{
        unsetenv("HUSK_CGROUP_ROOT");
        unsetenv("HUSK_CGROUP_SELF");
        if (geteuid() != 0 || !cg_root())
                cr_skip_test("needs root and a cgroup v2 hierarchy");
        snprintf(top, sizeof top, "%s/husk-test-%d", cg_root(), (int)getpid());
        herr_t e;
        cr_assert_eq(cg_create(top, NULL, &e), 0, "%s", e.msg);
}

static void teardown(void)
{
        herr_t e;
        if (top[0] && cg_destroy(top, &e) < 0)
                fprintf(stderr, "teardown: %s\n", e.msg);
}

TestSuite(cgroups_native, .init = setup, .fini = teardown, .timeout = 60);

static char *sub(const char *name)
{
        static char p[4][320];
        static int k;
        k = (k + 1) % 4;
        snprintf(p[k], sizeof p[k], "%s/%s", top, name);
        return p[k];
}

static char *slurp(const char *dir, const char *file)
{
        static char buf[4096];
        char p[512];
        snprintf(p, sizeof p, "%s/%s", dir, file);
        int fd = open(p, O_RDONLY);
        cr_assert_geq(fd, 0, "%s: %s", p, strerror(errno));
        ssize_t n = read(fd, buf, sizeof buf - 1);
        close(fd);
        buf[n > 0 ? n : 0] = '\0';
        return buf;
}

/* A child in the cgroup that runs fn (or sleeps) and _exits. */
static pid_t spawn_in(const char *dir, int (*fn)(void))
{
        herr_t e;
        _cleanup_close_ int fd = cg_open(dir, &e);
        cr_assert_geq(fd, 0, "%s", e.msg);
        pid_t pid = cg_clone_into(fd, &e);
        cr_assert_geq(pid, 0, "%s", e.msg);
        if (pid == 0)
                _exit(fn ? fn() : (pause(), 0));
        return pid;
}

static int busy(void)
{
        for (volatile unsigned long i = 0;; i++)
                ;
        return 0;
}

static uint64_t cpu_usec(const char *dir)
{
        struct cg_stats st;
        herr_t e;
        cr_assert_eq(cg_stats(dir, &st, &e), 0, "%s", e.msg);
        cr_assert(st.have_cpu);
        return st.cpu_usage_usec;
}

static void msleep(int ms)
{
        struct timespec ts = {ms / 1000, (ms % 1000) * 1000000L};
        nanosleep(&ts, NULL);
}

Test(cgroups_native, create_destroy_leaves_nothing)
{
        char *dir = sub("c1/inner");
        herr_t e;
        cr_assert_eq(cg_create(dir, NULL, &e), 0, "%s", e.msg);
        cr_assert_eq(access(dir, F_OK), 0);
        pid_t pid = spawn_in(dir, NULL);
        cr_assert_eq(cg_destroy(dir, &e), 0, "%s", e.msg);
        int st;
        cr_assert_eq(waitpid(pid, &st, 0), pid);
        cr_assert(WIFSIGNALED(st) && WTERMSIG(st) == SIGKILL, "the leftover process was killed");
        cr_assert_eq(access(dir, F_OK), -1, "cgroup still there");
        cr_assert_eq(cg_destroy(dir, &e), 0, "destroying again succeeds");
}

Test(cgroups_native, clone_into_places_child)
{
        char *dir = sub("clone");
        herr_t e;
        cr_assert_eq(cg_create(dir, NULL, &e), 0, "%s", e.msg);
        pid_t pid = spawn_in(dir, NULL);
        pid_t *pids = NULL;
        size_t n = 0;
        cr_assert_eq(cg_pids(dir, &pids, &n, &e), 0, "%s", e.msg);
        cr_assert_eq(n, 1);
        cr_assert_eq(pids[0], pid);
        free(pids);
        char want[300], proc[64];
        snprintf(want, sizeof want, "0::%s\n", dir + strlen(cg_root()));
        snprintf(proc, sizeof proc, "/proc/%d", (int)pid);
        cr_assert_str_eq(slurp(proc, "cgroup") + strlen(slurp(proc, "cgroup")) - strlen(want), want);
        kill(pid, SIGKILL);
        waitpid(pid, NULL, 0);
}

Test(cgroups_native, fork_fallback_places_child)
{
        setenv("HUSK_CGROUP_NO_CLONE3", "1", 1);
        char *dir = sub("fallback");
        herr_t e;
        cr_assert_eq(cg_create(dir, NULL, &e), 0, "%s", e.msg);
        pid_t pid = spawn_in(dir, NULL);
        pid_t *pids = NULL;
        size_t n = 0;
        cr_assert_eq(cg_pids(dir, &pids, &n, &e), 0, "%s", e.msg);
        cr_assert_eq(n, 1);
        cr_assert_eq(pids[0], pid);
        free(pids);
        kill(pid, SIGKILL);
        waitpid(pid, NULL, 0);
        unsetenv("HUSK_CGROUP_NO_CLONE3");
}

Test(cgroups_native, default_parent_goes_with_last_container)
{
        setenv("HUSK_CGROUP_SELF", top + strlen(cg_root()), 1);
        char *a = NULL, *b = NULL;
        herr_t e;
        cr_assert_eq(cg_resolve_path(NULL, "ca", &a, &e), 0, "%s", e.msg);
        cr_assert_eq(cg_resolve_path(NULL, "cb", &b, &e), 0, "%s", e.msg);
        cr_assert_str_eq(a, sub("husk/ca"));
        cr_assert_eq(cg_create_owned(a, "ca", NULL, &e), 0, "%s", e.msg);
        cr_assert_eq(cg_create_owned(b, "cb", NULL, &e), 0, "%s", e.msg);
        cr_assert_eq(cg_create_owned(a, "cb", NULL, &e), -1, "cb must not take ca's cgroup");
        cr_assert_eq(cg_destroy(a, &e), 0, "%s", e.msg);
        cr_assert_eq(access(sub("husk"), F_OK), 0, "husk/ still holds cb");
        cr_assert_eq(cg_destroy(b, &e), 0, "%s", e.msg);
        cr_assert_eq(access(sub("husk"), F_OK), -1, "empty husk/ left behind");
        free(a);
        free(b);
        unsetenv("HUSK_CGROUP_SELF");
}

Test(cgroups_native, create_refuses_cgroup_in_use)
{
        char *dir = sub("busy");
        herr_t e;
        cr_assert_eq(cg_create(dir, NULL, &e), 0, "%s", e.msg);
        pid_t pid = spawn_in(dir, NULL);
        cr_assert_eq(cg_create(dir, NULL, &e), -1);
        char want[300];
        snprintf(want, sizeof want, "cgroupsPath %s: already in use", dir + strlen(cg_root()));
        cr_assert_str_eq(e.msg, want);
        pid_t *pids = NULL;
        size_t n = 0;
        cr_assert_eq(cg_pids(dir, &pids, &n, &e), 0);
        cr_assert_eq(n, 1, "the process is still there");
        free(pids);
        kill(pid, SIGKILL);
        waitpid(pid, NULL, 0);
}

Test(cgroups_native, signal_all_and_kill)
{
        char *dir = sub("sig");
        herr_t e;
        cr_assert_eq(cg_create(dir, NULL, &e), 0, "%s", e.msg);
        pid_t a = spawn_in(dir, NULL), b = spawn_in(dir, NULL);
        pid_t *pids = NULL;
        size_t n = 0;
        cr_assert_eq(cg_pids(dir, &pids, &n, &e), 0, "%s", e.msg);
        cr_assert_eq(n, 2);
        cr_assert((pids[0] == a && pids[1] == b) || (pids[0] == b && pids[1] == a));
        free(pids);
        int st;
        cr_assert_eq(cg_signal_all(dir, SIGTERM, &e), 0, "%s", e.msg);
        cr_assert_eq(waitpid(a, &st, 0), a);
        cr_assert(WIFSIGNALED(st) && WTERMSIG(st) == SIGTERM);
        cr_assert_eq(waitpid(b, &st, 0), b);
        cr_assert(WIFSIGNALED(st) && WTERMSIG(st) == SIGTERM);
        a = spawn_in(dir, NULL);
        cr_assert_eq(cg_signal_all(dir, SIGKILL, &e), 0, "%s", e.msg);   /* cgroup.kill */
        cr_assert_eq(waitpid(a, &st, 0), a);
        cr_assert(WIFSIGNALED(st) && WTERMSIG(st) == SIGKILL);
}

Test(cgroups_native, create_refuses_frozen_cgroup)
{
        char *dir = sub("cold");
        herr_t e;
        cr_assert_eq(cg_create(dir, NULL, &e), 0, "%s", e.msg);
        cr_assert_eq(cg_freeze(dir, true, &e), 0, "%s", e.msg);
        cr_assert_eq(cg_create(dir, NULL, &e), -1);
        cr_assert_not_null(strstr(e.msg, ": the cgroup is frozen"), "%s", e.msg);
        cr_assert_eq(cg_freeze(dir, false, &e), 0, "%s", e.msg);
        cr_assert_eq(cg_create(dir, NULL, &e), 0, "%s", e.msg);
}

Test(cgroups_native, freeze_stops_a_busy_child)
{
        char *dir = sub("frz");
        herr_t e;
        cr_assert_eq(cg_create(dir, NULL, &e), 0, "%s", e.msg);
        pid_t pid = spawn_in(dir, busy);
        msleep(200);
        cr_assert_eq(cg_freeze(dir, true, &e), 0, "%s", e.msg);
        cr_assert_not_null(strstr(slurp(dir, "cgroup.events"), "frozen 1"));
        uint64_t t0 = cpu_usec(dir);
        msleep(400);
        uint64_t t1 = cpu_usec(dir);
        cr_assert_leq(t1 - t0, 1000, "frozen child used %lu us of CPU", (unsigned long)(t1 - t0));
        cr_assert_eq(cg_freeze(dir, false, &e), 0, "%s", e.msg);
        cr_assert_not_null(strstr(slurp(dir, "cgroup.events"), "frozen 0"));
        msleep(400);
        uint64_t t2 = cpu_usec(dir);
        cr_assert_gt(t2 - t1, 20000, "thawed child used only %lu us", (unsigned long)(t2 - t1));
        kill(pid, SIGKILL);
        waitpid(pid, NULL, 0);
}

static const char *offers(void)
{
        static char *o;
        herr_t e;
        if (!o)
                cr_assert_eq(cg_root_controllers(&o, &e), 0, "%s", e.msg);
        return o;
}

static bool offered(const char *c)
{
        char pad[256];
        snprintf(pad, sizeof pad, " %s ", offers());
        pad[strcspn(pad, "\n")] = ' ';
        char w[64];
        snprintf(w, sizeof w, " %s ", c);
        return strstr(pad, w) != NULL;
}

static void expect_missing(const struct oci_resources *r, const char *field, const char *ctrl)
{
        if (offered(ctrl))
                return;   /* a pure-v2 host: nothing to show */
        char *dir = sub("nope");
        herr_t e;
        cr_assert_eq(cg_create(dir, r, &e), -1);
        char want[512];
        snprintf(want, sizeof want, "%s: cgroup v2 controller '%s' is not available (this host offers: %.*s)",
                 field, ctrl, (int)strcspn(offers(), "\n"), offers());
        cr_assert_str_eq(e.msg, want);
        cr_assert_eq(access(dir, F_OK), -1, "nothing left behind");
}

Test(cgroups_native, missing_controllers_are_named)
{
        struct oci_memory m = {.limit = {true, 1 << 26}};
        struct oci_resources r1 = {.memory = &m};
        expect_missing(&r1, "linux.resources.memory.limit", "memory");
        struct oci_pids p = {.limit = 10};
        struct oci_resources r2 = {.pids = &p};
        expect_missing(&r2, "linux.resources.pids.limit", "pids");
        struct oci_cpu c = {.quota = {true, 20000}};
        struct oci_resources r3 = {.cpu = &c};
        expect_missing(&r3, "linux.resources.cpu.quota", "cpu");
        struct oci_kv kv = {"memory.high", "1000000"};
        struct oci_resources r4 = {.unified = &kv, .n_unified = 1};
        expect_missing(&r4, "linux.resources.unified.memory.high", "memory");
}
