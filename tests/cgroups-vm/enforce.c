/* tests/cgroups-vm/enforce.c: proof that husk's cgroup v2 limits are
 * enforced by the kernel. Meant for a pure-v2 host (e.g. a VM booted with
 * cgroup_no_v1=all); run as root:
 *     enforce            exit 0 all passed, 1 a check failed, 77 skipped
 *     enforce --available   only the checks whose controllers exist (for
 *                           hybrid hosts: freeze and devices always run)
 * It works below <v2 root>/husk-enforce-<pid> and removes it.
 * Checks: memory.max -> OOM kill counted in memory.events; fork fails at
 * pids.max; cpu.max throttles (nr_throttled > 0); freeze stops a busy loop;
 * cg_apply changes cpu.max of a running child; the device filter. */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "../../cgroups/cgroups.h"
#include "../../common/fileutil.h"

static char top[512];
static int failures;

static void fail(const char *check, const char *fmt, ...)
{
        va_list ap;
        va_start(ap, fmt);
        fprintf(stderr, "FAIL %s: ", check);
        vfprintf(stderr, fmt, ap);
        fputc('\n', stderr);
        va_end(ap);
        failures++;
}

static void msleep(int ms)
{
        struct timespec ts = {ms / 1000, (ms % 1000) * 1000000L};
        while (nanosleep(&ts, &ts) < 0 && errno == EINTR)
                ;
}

/* Microseconds of CLOCK_MONOTONIC. Under TCG on a loaded host a 1 s sleep
 * can take much longer: checks compare CPU use per wall second. */
static uint64_t now_us(void)
{
        struct timespec ts;
        clock_gettime(CLOCK_MONOTONIC, &ts);
        return (uint64_t)ts.tv_sec * 1000000u + (uint64_t)ts.tv_nsec / 1000u;
}

static uint64_t per_sec(uint64_t used, uint64_t t0, uint64_t t1)
{
        return t1 > t0 ? used * 1000000u / (t1 - t0) : used;
}

static int busy(void)
{
        for (volatile unsigned long i = 0;; i++)
                ;
        return 0;
}

/* Create top/name with res; NULL (and a FAIL) on error. */
static const char *mk(const char *name, const struct oci_resources *res)
{
        static char dir[8][600];
        static int k;
        k = (k + 1) % 8;
        snprintf(dir[k], sizeof dir[k], "%s/%s", top, name);
        herr_t e;
        if (cg_create(dir[k], res, &e) < 0) {
                fail(name, "cg_create: %s", e.msg);
                return NULL;
        }
        return dir[k];
}

static pid_t spawn(const char *dir, int (*fn)(void))
{
        herr_t e;
        int fd = cg_open(dir, &e);
        if (fd < 0) {
                fail(dir, "%s", e.msg);
                return -1;
        }
        pid_t pid = cg_clone_into(fd, &e);
        if (pid == 0)
                _exit(fn());
        close(fd);
        if (pid < 0)
                fail(dir, "cg_clone_into: %s", e.msg);
        return pid;
}

static struct cg_stats stats(const char *dir)
{
        struct cg_stats st;
        herr_t e;
        if (cg_stats(dir, &st, &e) < 0) {
                fail(dir, "cg_stats: %s", e.msg);
                memset(&st, 0, sizeof st);
        }
        return st;
}

static void reap(pid_t pid)
{
        if (pid > 0) {
                kill(pid, SIGKILL);
                waitpid(pid, NULL, 0);
        }
}

static int eat_memory(void)
{
        for (int i = 0; i < 1024; i++) {   /* 1 GiB in 1 MiB steps */
                char *p = mmap(NULL, 1 << 20, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
                if (p == MAP_FAILED)
                        return 2;
                memset(p, 0x5a, 1 << 20);
        }
        return 3;   /* not killed: the limit did not work */
}

static void check_memory(void)
{
        struct oci_memory m = {.limit = {true, 32 << 20}};
        struct oci_resources r = {.memory = &m};
        const char *dir = mk("memory", &r);
        if (!dir)
                return;
        char swap[700];
        snprintf(swap, sizeof swap, "%s/memory.swap.max", dir);
        if (access(swap, F_OK) == 0) {   /* no swapping around the limit */
                herr_t e;
                if (write_file_str(swap, "0", &e) < 0)
                        fail("memory", "%s", e.msg);
        }
        pid_t pid = spawn(dir, eat_memory);
        int st = 0;
        if (pid < 0 || waitpid(pid, &st, 0) != pid)
                return fail("memory", "no child");
        struct cg_stats s = stats(dir);
        if (!WIFSIGNALED(st) || WTERMSIG(st) != SIGKILL)
                return fail("memory", "child was not OOM-killed (status 0x%x)", st);
        if (s.oom_kill < 1)
                return fail("memory", "memory.events oom_kill is %lu", (unsigned long)s.oom_kill);
        printf("PASS memory: 32 MiB limit, child OOM-killed, oom=%lu oom_kill=%lu\n", (unsigned long)s.oom,
               (unsigned long)s.oom_kill);
}

/* Forks until fork fails; exit code: forks that worked, +100 if EAGAIN. */
static int fork_bomb(void)
{
        int ok = 0;
        for (int i = 0; i < 50; i++) {
                pid_t p = fork();
                if (p == 0) {
                        pause();
                        _exit(0);
                }
                if (p < 0)
                        return ok + (errno == EAGAIN ? 100 : 0);
                ok++;
        }
        return ok;
}

static void check_pids(void)
{
        struct oci_pids p = {.limit = 5};
        struct oci_resources r = {.pids = &p};
        const char *dir = mk("pids", &r);
        if (!dir)
                return;
        pid_t pid = spawn(dir, fork_bomb);
        int st = 0;
        if (pid < 0 || waitpid(pid, &st, 0) != pid)
                return fail("pids", "no child");
        herr_t e;
        cg_signal_all(dir, SIGKILL, &e);
        if (!WIFEXITED(st) || WEXITSTATUS(st) != 104)
                return fail("pids", "expected 4 forks then EAGAIN (code 104), got status 0x%x", st);
        printf("PASS pids: pids.max 5, the 5th fork failed with EAGAIN\n");
}

static void check_cpu_throttle(void)
{
        struct oci_cpu c = {.quota = {true, 10000}, .period = {true, 100000}};
        struct oci_resources r = {.cpu = &c};
        const char *dir = mk("cpu", &r);
        if (!dir)
                return;
        uint64_t t0 = now_us();
        pid_t pid = spawn(dir, busy);
        msleep(1000);
        struct cg_stats s = stats(dir);
        uint64_t rate = per_sec(s.cpu_usage_usec, t0, now_us());
        reap(pid);
        if (s.nr_throttled == 0)
                return fail("cpu", "nr_throttled is 0 (nr_periods %lu)", (unsigned long)s.nr_periods);
        if (rate > 250000)
                return fail("cpu", "10%% quota but %lu us used per second", (unsigned long)rate);
        printf("PASS cpu: 10%% quota, %lu us per second, nr_throttled=%lu\n", (unsigned long)rate,
               (unsigned long)s.nr_throttled);
}

static void check_freeze(void)
{
        const char *dir = mk("freeze", NULL);
        if (!dir)
                return;
        pid_t pid = spawn(dir, busy);
        herr_t e;
        msleep(200);
        if (cg_freeze(dir, true, &e) < 0) {
                reap(pid);
                return fail("freeze", "%s", e.msg);
        }
        uint64_t t0 = stats(dir).cpu_usage_usec;
        msleep(500);
        uint64_t t1 = stats(dir).cpu_usage_usec;
        if (cg_freeze(dir, false, &e) < 0)
                fail("freeze", "thaw: %s", e.msg);
        msleep(500);
        uint64_t t2 = stats(dir).cpu_usage_usec;
        reap(pid);
        if (t1 - t0 > 1000)
                return fail("freeze", "frozen busy loop used %lu us", (unsigned long)(t1 - t0));
        if (t2 - t1 < 20000)
                return fail("freeze", "thawed busy loop used only %lu us", (unsigned long)(t2 - t1));
        printf("PASS freeze: frozen %lu us, thawed %lu us in 0.5 s\n", (unsigned long)(t1 - t0),
               (unsigned long)(t2 - t1));
}

static void check_update(void)
{
        struct oci_cpu c = {.quota = {true, 5000}};
        struct oci_resources r = {.cpu = &c};
        const char *dir = mk("update", &r);
        if (!dir)
                return;
        pid_t pid = spawn(dir, busy);
        uint64_t w0 = now_us(), t0 = stats(dir).cpu_usage_usec;
        msleep(1000);
        uint64_t w1 = now_us(), t1 = stats(dir).cpu_usage_usec;
        c.quota.v = 90000;
        herr_t e;
        if (cg_apply(dir, &r, &e) < 0) {
                reap(pid);
                return fail("update", "cg_apply: %s", e.msg);
        }
        uint64_t w2 = now_us(), t2 = stats(dir).cpu_usage_usec;
        msleep(1000);
        uint64_t w3 = now_us(), t3 = stats(dir).cpu_usage_usec;
        reap(pid);
        uint64_t before = per_sec(t1 - t0, w0, w1), after = per_sec(t3 - t2, w2, w3);
        if (after < 2 * before)
                return fail("update", "quota 5%% -> 90%%: %lu us then %lu us per second",
                            (unsigned long)before, (unsigned long)after);
        printf("PASS update: quota 5%% -> 90%% on a running child: %lu -> %lu us per second\n",
               (unsigned long)before, (unsigned long)after);
}

static int open_null(void)
{
        int fd = open("/dev/null", O_RDONLY);
        if (fd >= 0)
                return 1;
        if (errno != EPERM)
                return 2;
        return open("/dev/zero", O_RDONLY) >= 0 ? 0 : 3;
}

static void check_devices(void)
{
        struct oci_device_cgroup d[] = {
                {.allow = false, .access = "rwm"},
                {.allow = true, .type = "c", .major = {true, 1}, .minor = {true, 5}, .access = "rwm"},
        };
        struct oci_resources r = {.devices = d, .n_devices = 2};
        const char *dir = mk("devices", &r);
        if (!dir)
                return;
        pid_t pid = spawn(dir, open_null);
        int st = 0;
        if (pid < 0 || waitpid(pid, &st, 0) != pid)
                return fail("devices", "no child");
        if (!WIFEXITED(st) || WEXITSTATUS(st) != 0)
                return fail("devices", "/dev/null not denied or /dev/zero denied (status 0x%x)", st);
        printf("PASS devices: /dev/null EPERM, /dev/zero opens\n");
}

static int missing(const char *offered, const char *c)
{
        char pad[1024], w[64];
        snprintf(pad, sizeof pad, " %s ", offered);
        pad[strcspn(pad, "\n")] = ' ';
        snprintf(w, sizeof w, " %s ", c);
        return strstr(pad, w) == NULL;
}

int main(int argc, char **argv)
{
        setvbuf(stdout, NULL, _IOLBF, 0);
        bool partial = argc > 1 && !strcmp(argv[1], "--available");
        if (geteuid() != 0) {
                printf("SKIP: enforce needs root\n");
                return 77;
        }
        char *offered = NULL;
        herr_t e;
        if (!cg_root() || cg_root_controllers(&offered, &e) < 0) {
                printf("SKIP: no cgroup v2 hierarchy\n");
                return 77;
        }
        offered[strcspn(offered, "\n")] = '\0';
        bool have_mem = !missing(offered, "memory"), have_pids = !missing(offered, "pids"),
             have_cpu = !missing(offered, "cpu");
        const char *need[] = {"memory", "pids", "cpu"};
        for (size_t i = 0; i < sizeof need / sizeof need[0] && !partial; i++)
                if (missing(offered, need[i])) {
                        printf("SKIP: cgroup v2 controller '%s' is missing (%s offers: %s)\n", need[i], cg_root(),
                               offered);
                        free(offered);
                        return 77;
                }
        free(offered);
        snprintf(top, sizeof top, "%s/husk-enforce-%d", cg_root(), (int)getpid());
        if (cg_create(top, NULL, &e) < 0) {
                fprintf(stderr, "FAIL setup: %s\n", e.msg);
                return 1;
        }
        if (have_mem)
                check_memory();
        if (have_pids)
                check_pids();
        if (have_cpu) {
                check_cpu_throttle();
                check_update();
        }
        check_freeze();
        check_devices();
        if (cg_destroy(top, &e) < 0)
                fail("cleanup", "%s", e.msg);
        if (partial && !(have_mem && have_pids && have_cpu))
                printf("SKIPPED: memory/pids/cpu checks whose controller is missing\n");
        printf("%s: %d failure(s)\n", failures ? "FAILED" : "OK", failures);
        return failures ? 1 : 0;
}
