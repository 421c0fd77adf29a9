/* VM mode when its daemons die (runtime/vm_mode.c, vm/watch.c): QEMU or
 * virtiofsd killed while `husk create` boots the VM (the FAULTS build
 * stops the monitor at vm.boot.after-qemu, HUSK_FAULT_STOP, so the kill
 * lands before the agent's READY), QEMU or virtiofsd killed while the
 * process runs, a guest kernel panic, the monitor or create itself killed.
 * Each time the user sees why (create's error, `husk state`'s annotation
 * husk.vm.exit, run's stderr and exit status) and nothing is left behind:
 * no state dir, cgroup, process (QEMU, virtiofsd, monitor), VM run dir
 * (sockets, logs), pid file or mount.
 *
 * Every test boots a VM (seconds under TCG, more on a loaded machine):
 * waits are polls with generous deadlines, never timings. Skipped without
 * a fetched kernel (make vm-kernel HUSK_DATA_DIR=build/data). */
#include <criterion/criterion.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "helpers.h"

#define BOOT_MS 180000 /* a boot on a loaded 2-core machine under TCG */
#define STOP_POINT "vm.boot.after-qemu"

static char run_tmp[PATH_MAX + 16]; /* TMPDIR of every husk: where VM run dirs go */

/* A test that failed half-way may leave a monitor stopped at STOP_POINT
 * under a husk create: kill what is ours, level by level (a killed create
 * hands its monitor to us, the subreaper), then the helpers' teardown
 * (delete --force of whatever state is left). */
static void fini(void)
{
        char path[64];
        snprintf(path, sizeof path, "/proc/self/task/%d/children", (int)getpid());
        for (int round = 0; round < 20; round++) {
                char *kids = h_read(path);
                bool any = false;
                for (char *p = kids, *end; p && *p; p = end) {
                        long pid = strtol(p, &end, 10);
                        if (end == p)
                                break;
                        any = kill((pid_t)pid, SIGKILL) == 0 || any;
                }
                free(kids);
                if (!any)
                        break;
                usleep(100000);
                h_reap();
        }
        h_teardown();
}

TestSuite(vmfault, .init = h_setup, .fini = fini, .timeout = 600);

static long now_ms(void)
{
        struct timespec t;
        clock_gettime(CLOCK_MONOTONIC, &t);
        return t.tv_sec * 1000 + t.tv_nsec / 1000000;
}

/* Skips without QEMU or a kernel; the run dirs of this test go to run_tmp. */
static void require_vm(void)
{
        h_require_vm();
        snprintf(run_tmp, sizeof run_tmp, "%s/vmrun", h_tmp);
        cr_assert_eq(mkdir(run_tmp, 0700), 0);
        cr_assert_eq(setenv("TMPDIR", run_tmp, 1), 0);
}

/* The FAULTS build of husk; it is not next to the guest agent and the
 * static husk for the guest: name them (they sit next to $HUSK). */
static const char *faults_bin(void)
{
        const char *b = getenv("HUSK_FAULTS_BIN");
        if (!b || access(b, X_OK) < 0)
                cr_skip_test("HUSK_FAULTS_BIN not set (make integration builds it: make husk-faults)");
        char dir[PATH_MAX], p[PATH_MAX + 64];
        snprintf(dir, sizeof dir, "%s", h_husk());
        *strrchr(dir, '/') = '\0';
        snprintf(p, sizeof p, "%s/build/vm/husk-agent", dir);
        if (!getenv("HUSK_VM_AGENT") && access(p, X_OK) == 0)
                setenv("HUSK_VM_AGENT", p, 1);
        snprintf(p, sizeof p, "%s/build/vm/husk-guest", dir);
        if (!getenv("HUSK_VM_GUEST") && access(p, X_OK) == 0)
                setenv("HUSK_VM_GUEST", p, 1);
        return b;
}

/* bin --root h_root ARGS... in the background, stdin /dev/null, stdout and
 * stderr into *outfd (a memfd); env: one extra "K=V" or NULL. */
static pid_t spawn(const char *bin, const char *env, int *outfd, const char *const *args)
{
        *outfd = memfd_create("husk-out", MFD_CLOEXEC);
        cr_assert_geq(*outfd, 0);
        const char *argv[32] = { bin, "--root", h_root };
        size_t n = 3;
        for (size_t i = 0; args[i] && n < 31; i++)
                argv[n++] = args[i];
        argv[n] = NULL;
        fflush(NULL);
        pid_t pid = fork();
        cr_assert_geq(pid, 0);
        if (pid == 0) {
                int in = open("/dev/null", O_RDONLY);
                if (in < 0 || dup2(in, 0) < 0 || dup2(*outfd, 1) < 0 || dup2(*outfd, 2) < 0)
                        _exit(126);
                if (env)
                        putenv((char *)env);
                sigset_t none;
                sigemptyset(&none);
                sigprocmask(SIG_SETMASK, &none, NULL);
                execv(bin, (char *const *)argv);
                _exit(127);
        }
        return pid;
}
#define SPAWN(bin, env, outfd, ...) spawn((bin), (env), (outfd), (const char *const[]){ __VA_ARGS__, NULL })

static char *text_of(int fd)
{
        char buf[16384];
        ssize_t n = pread(fd, buf, sizeof buf - 1, 0);
        buf[n > 0 ? n : 0] = '\0';
        return strdup(buf);
}

/* Poll fd's text for needle; true when it shows up within ms. */
static bool wait_text(int fd, const char *needle, int ms)
{
        for (long end = now_ms() + ms; now_ms() < end; usleep(50000)) {
                char *t = text_of(fd);
                bool hit = strstr(t, needle) != NULL;
                free(t);
                if (hit)
                        return true;
        }
        return false;
}

/* Wait for pid (our child) to exit; its status as husk_run gives it, or -1
 * after ms (then it is killed). */
static int wait_exit(pid_t pid, int ms)
{
        int st;
        for (long end = now_ms() + ms; now_ms() < end; usleep(50000))
                if (waitpid(pid, &st, WNOHANG) == pid)
                        return WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
        kill(pid, SIGKILL);
        waitpid(pid, NULL, 0);
        return -1;
}

/* The state letter of pid from /proc/PID/stat ('\0': gone). */
static char proc_state(pid_t pid)
{
        char path[64], buf[512];
        snprintf(path, sizeof path, "/proc/%d/stat", (int)pid);
        int fd = open(path, O_RDONLY | O_CLOEXEC);
        if (fd < 0)
                return '\0';
        ssize_t n = read(fd, buf, sizeof buf - 1);
        close(fd);
        buf[n > 0 ? n : 0] = '\0';
        char *rp = strrchr(buf, ')');
        return rp && rp[1] == ' ' ? rp[2] : '\0';
}

/* Dead: gone, or a zombie (whoever reaps it), within ms. */
static bool wait_dead(pid_t pid, int ms)
{
        for (long end = now_ms() + ms; now_ms() < end; usleep(50000)) {
                char s = proc_state(pid);
                if (s == '\0' || s == 'Z' || s == 'X')
                        return true;
        }
        return false;
}

static pid_t child_named(pid_t parent, const char *comm)
{
        char path[64];
        snprintf(path, sizeof path, "/proc/%d/task/%d/children", (int)parent, (int)parent);
        char *kids = h_read(path);
        pid_t found = -1;
        for (char *s = NULL, *t = kids ? strtok_r(kids, " \n", &s) : NULL; t && found < 0;
             t = strtok_r(NULL, " \n", &s)) {
                char cpath[64];
                snprintf(cpath, sizeof cpath, "/proc/%s/comm", t);
                char *c = h_read(cpath);
                if (c && !strncmp(c, comm, strlen(comm)))
                        found = atoi(t);
                free(c);
        }
        free(kids);
        return found;
}

/* Nothing of the VM left: no run dir (sockets, logs) under run_tmp, no
 * process of ours (monitor, QEMU, virtiofsd), then the helpers' checks
 * (state dir, cgroup, mounts). */
static void assert_vm_clean(const char *id)
{
        DIR *d = opendir(run_tmp);
        cr_assert_not_null(d);
        struct dirent *de;
        while ((de = readdir(d)))
                cr_expect(de->d_name[0] == '.', "VM run dir %s/%s left behind", run_tmp, de->d_name);
        closedir(d);
        for (long end = now_ms() + 30000; h_children() > 0 && now_ms() < end;)
                usleep(50000);
        h_assert_clean(id, NULL);
}

/* `husk state ID`: its husk.vm.exit annotation (malloc'ed) or NULL. */
static char *exit_annotation(const char *id)
{
        yajl_val st = h_state(id);
        if (!st)
                return NULL;
        const char *path[] = { "annotations", "husk.vm.exit", NULL };
        yajl_val v = yajl_tree_get(st, path, yajl_t_string);
        const char *str = v ? YAJL_GET_STRING(v) : NULL;
        char *r = str ? strdup(str) : NULL;
        yajl_tree_free(st);
        return r;
}

/* ------------------------------------------------------------ mid-boot */

struct stopped {
        pid_t create;  /* husk create, waiting for the monitor's report */
        pid_t monitor; /* stopped at STOP_POINT */
        pid_t qemu, virtiofsd;
        int out;       /* create's (and the monitor's) stdout + stderr */
};

/* `husk create --vm` of the FAULTS build, its monitor stopped with QEMU and
 * virtiofsd spawned and the agent not READY yet. */
static void create_stopped(const char *id, const char *bundle, const char *pidfile, struct stopped *s)
{
        const char *fb = faults_bin();
        s->create = SPAWN(fb, "HUSK_FAULT_STOP=" STOP_POINT, &s->out, "create", "--vm", "--bundle", bundle,
                          "--pid-file", pidfile, id);
        cr_assert(wait_text(s->out, "fault stop at " STOP_POINT " (pid ", BOOT_MS), "the monitor never reached "
                  STOP_POINT ": %s", text_of(s->out));
        char *t = text_of(s->out);
        s->monitor = atoi(strstr(t, "(pid ") + 5);
        free(t);
        for (long end = now_ms() + 30000; proc_state(s->monitor) != 'T' && now_ms() < end;)
                usleep(20000);
        cr_assert_eq(proc_state(s->monitor), 'T', "monitor %d not stopped", s->monitor);
        /* QEMU was forked right before the stop: it may not be exec'ed yet. */
        s->qemu = s->virtiofsd = -1;
        for (long end = now_ms() + 30000; (s->qemu < 0 || s->virtiofsd < 0) && now_ms() < end; usleep(20000)) {
                s->qemu = child_named(s->monitor, "qemu-system");
                s->virtiofsd = child_named(s->monitor, "virtiofsd");
        }
        cr_assert_gt(s->qemu, 0, "no QEMU under the stopped monitor %d", s->monitor);
        cr_assert_gt(s->virtiofsd, 0, "no virtiofsd under the stopped monitor %d", s->monitor);
}

/* (a) QEMU killed before the agent is READY: create fails naming QEMU and
 * the signal; nothing is left. */
Test(vmfault, qemu_killed_mid_boot)
{
        require_vm();
        const char *id = h_id("qboot");
        const char *b = h_bundle(&(struct h_cfg){ .args = "[\"sleep\",\"600\"]" });
        const char *pidfile = h_path("qboot.pid");
        struct stopped s;
        create_stopped(id, b, pidfile, &s);
        cr_assert_eq(kill(s.qemu, SIGKILL), 0);
        cr_assert(wait_dead(s.qemu, 30000));
        cr_assert_eq(kill(s.monitor, SIGCONT), 0);
        int rc = wait_exit(s.create, BOOT_MS);
        char *out = text_of(s.out);
        cr_expect_eq(rc, 1, "create exited %d: %s", rc, out);
        H_HAS(out, "husk: VM mode: VM boot: QEMU killed by signal 9");
        free(out);
        cr_expect(wait_dead(s.virtiofsd, 30000), "virtiofsd %d left running", s.virtiofsd);
        cr_expect(wait_dead(s.monitor, 30000), "monitor %d left running", s.monitor);
        cr_expect_neq(access(pidfile, F_OK), 0, "pid file written by a failed create");
        assert_vm_clean(id);
}

/* (c) virtiofsd killed before the agent is READY: create fails naming
 * virtiofsd (not a 60 s boot timeout), QEMU is stopped, nothing is left. */
Test(vmfault, virtiofsd_killed_mid_boot)
{
        require_vm();
        const char *id = h_id("vboot");
        const char *b = h_bundle(&(struct h_cfg){ .args = "[\"sleep\",\"600\"]" });
        const char *pidfile = h_path("vboot.pid");
        struct stopped s;
        create_stopped(id, b, pidfile, &s);
        cr_assert_eq(kill(s.virtiofsd, SIGKILL), 0);
        cr_assert(wait_dead(s.virtiofsd, 30000));
        cr_assert_eq(kill(s.monitor, SIGCONT), 0);
        int rc = wait_exit(s.create, BOOT_MS);
        char *out = text_of(s.out);
        cr_expect_eq(rc, 1, "create exited %d: %s", rc, out);
        H_HAS(out, "husk: VM mode: VM boot: virtiofsd (the share of the root filesystem ");
        H_HAS(out, ") killed by signal 9, so QEMU was stopped");
        free(out);
        cr_expect(wait_dead(s.qemu, 30000), "QEMU %d left running", s.qemu);
        cr_expect(wait_dead(s.monitor, 30000), "monitor %d left running", s.monitor);
        cr_expect_neq(access(pidfile, F_OK), 0, "pid file written by a failed create");
        assert_vm_clean(id);
}

/* ------------------------------------------------------------- mid-run */

/* `husk run --vm --detach` of a loop that reads the rootfs; returns once
 * the process printed "ready" (stdout: *out). The monitor's pid via state. */
static pid_t run_detached(const char *id, int *out, pid_t *qemu, pid_t *virtiofsd)
{
        const char *b = h_bundle(&(struct h_cfg){
                .args = "[\"sh\",\"-c\",\"echo ready; while :; do cat /etc/passwd >/dev/null; sleep 0.2; done\"]" });
        pid_t run = SPAWN(h_husk(), NULL, out, "run", "--vm", "--detach", "--bundle", b, id);
        int rc = wait_exit(run, BOOT_MS);
        cr_assert_eq(rc, 0, "run --detach exited %d: %s", rc, text_of(*out));
        cr_assert(wait_text(*out, "ready", BOOT_MS), "the process never ran: %s", text_of(*out));
        yajl_val st = h_state(id);
        cr_assert_not_null(st);
        pid_t mon = (pid_t)h_jint(st, "pid");
        yajl_tree_free(st);
        cr_assert_gt(mon, 0);
        *qemu = child_named(mon, "qemu-system");
        *virtiofsd = child_named(mon, "virtiofsd");
        cr_assert_gt(*qemu, 0, "no QEMU under the monitor %d", mon);
        cr_assert_gt(*virtiofsd, 0, "no virtiofsd under the monitor %d", mon);
        return mon;
}

/* Stopped with a reason containing what, then delete leaves nothing. */
static void expect_stopped_then_delete(const char *id, pid_t mon, const char *what)
{
        cr_expect(h_wait_status(id, "stopped", 60000), "still %s", h_status(id));
        char *reason = exit_annotation(id);
        cr_expect(reason && strstr(reason, what), "husk.vm.exit: %s (wanted %s)", h_s(reason), what);
        free(reason);
        cr_expect(wait_dead(mon, 30000), "monitor %d left running", mon);
        struct h_res r;
        HUSK(&r, "delete", id);
        H_OK(&r);
        h_res_free(&r);
        assert_vm_clean(id);
}

/* (b) QEMU killed while the process runs: stopped, the reason in `husk
 * state`, delete cleans up. */
Test(vmfault, qemu_killed_mid_run)
{
        require_vm();
        const char *id = h_id("qrun");
        int out;
        pid_t qemu, vfs, mon = run_detached(id, &out, &qemu, &vfs);
        cr_assert_eq(kill(qemu, SIGKILL), 0);
        expect_stopped_then_delete(id, mon, "VM stopped before the process exited: QEMU killed by signal 9");
        cr_expect(wait_dead(vfs, 30000), "virtiofsd %d left running", vfs);
        /* The monitor said it on the container's stderr too. */
        H_HAS(text_of(out), "QEMU killed by signal 9");
}

/* (b) the same in the foreground: `husk run --vm` says why on stderr and
 * exits 255 (not an exit status of the process). */
Test(vmfault, qemu_killed_mid_run_foreground)
{
        require_vm();
        const char *id = h_id("qfg");
        const char *b = h_bundle(&(struct h_cfg){ .args = "[\"sh\",\"-c\",\"echo ready; sleep 600\"]" });
        int out;
        pid_t run = SPAWN(h_husk(), NULL, &out, "run", "--vm", "--bundle", b, id);
        cr_assert(wait_text(out, "ready", BOOT_MS), "the process never ran: %s", text_of(out));
        pid_t qemu = -1;
        for (long end = now_ms() + 10000; qemu < 0 && now_ms() < end; usleep(50000)) {
                yajl_val st = h_state(id);
                pid_t mon = st ? (pid_t)h_jint(st, "pid") : 0;
                yajl_tree_free(st);
                qemu = mon > 0 ? child_named(mon, "qemu-system") : -1;
        }
        cr_assert_gt(qemu, 0);
        cr_assert_eq(kill(qemu, SIGKILL), 0);
        int rc = wait_exit(run, 60000);
        char *o = text_of(out);
        cr_expect_eq(rc, 255, "run exited %d: %s", rc, o);
        H_HAS(o, "husk: container '");
        H_HAS(o, "': VM stopped before the process exited: QEMU killed by signal 9");
        free(o);
        assert_vm_clean(id);
}

/* (d) virtiofsd killed while the process reads files: the guest lost its
 * root and would hang on I/O; the monitor stops QEMU and says so. */
Test(vmfault, virtiofsd_killed_mid_run)
{
        require_vm();
        const char *id = h_id("vrun");
        int out;
        pid_t qemu, vfs, mon = run_detached(id, &out, &qemu, &vfs);
        cr_assert_eq(kill(vfs, SIGKILL), 0);
        expect_stopped_then_delete(id, mon, "VM stopped before the process exited: virtiofsd (the share of the "
                                            "root filesystem ");
        cr_expect(wait_dead(qemu, 30000), "QEMU %d left running", qemu);
        char *reason = text_of(out);
        H_HAS(reason, ") killed by signal 9, so QEMU was stopped");
        free(reason);
}

/* (e) the guest kernel panics under the process (and takes the agent with
 * it): run says so and exits 255; nothing is left. */
Test(vmfault, guest_panic)
{
        require_vm();
        const char *id = h_id("panic");
        const char *b = h_bundle(&(struct h_cfg){
                .args = "[\"sh\",\"-c\",\"echo ready; echo c > /proc/sysrq-trigger; sleep 600\"]" });
        struct h_res r;
        HUSK_O(&r, &(struct h_opts){ .timeout_ms = BOOT_MS }, "run", "--vm", "--bundle", b, id);
        cr_expect_eq(r.status, 255, "run exited %d: %s", r.status, r.err);
        /* (no check of "ready": output the agent had not relayed yet dies
         * with the guest kernel) */
        H_HAS(r.err, "VM stopped before the process exited: the guest kernel panicked (sysrq triggered crash)");
        h_res_free(&r);
        assert_vm_clean(id);
}

/* ------------------------------------------------------ husk itself dies */

/* The monitor SIGKILLed while the process runs: QEMU and virtiofsd die
 * with it, state says stopped and why, delete --force removes the rest. */
Test(vmfault, monitor_killed)
{
        require_vm();
        const char *id = h_id("mon");
        int out;
        pid_t qemu, vfs, mon = run_detached(id, &out, &qemu, &vfs);
        cr_assert_eq(kill(mon, SIGKILL), 0);
        cr_expect(wait_dead(qemu, 30000), "QEMU %d outlived its monitor", qemu);
        cr_expect(wait_dead(vfs, 30000), "virtiofsd %d outlived its monitor", vfs);
        cr_expect(h_wait_status(id, "stopped", 30000), "still %s", h_status(id));
        char *reason = exit_annotation(id);
        cr_expect(reason && strstr(reason, "VM monitor ended without a reason"), "husk.vm.exit: %s", h_s(reason));
        free(reason);
        struct h_res r;
        HUSK(&r, "delete", "--force", id);
        H_OK(&r);
        h_res_free(&r);
        assert_vm_clean(id);
}

/* husk create SIGKILLed while its monitor boots the VM: the monitor,
 * finding no one to report to, shuts the VM down; delete --force removes
 * the half-made container. */
Test(vmfault, create_killed_mid_boot)
{
        require_vm();
        const char *id = h_id("cboot");
        const char *b = h_bundle(&(struct h_cfg){ .args = "[\"sleep\",\"600\"]" });
        struct stopped s;
        create_stopped(id, b, h_path("cboot.pid"), &s);
        cr_assert_eq(kill(s.create, SIGKILL), 0);
        cr_assert_eq(wait_exit(s.create, 30000), 128 + SIGKILL);
        cr_assert_eq(kill(s.monitor, SIGCONT), 0);
        cr_expect(wait_dead(s.monitor, BOOT_MS), "monitor %d kept the VM of a dead create", s.monitor);
        cr_expect(wait_dead(s.qemu, 30000), "QEMU %d left running", s.qemu);
        cr_expect(wait_dead(s.virtiofsd, 30000), "virtiofsd %d left running", s.virtiofsd);
        struct h_res r;
        HUSK(&r, "delete", "--force", id);
        H_OK(&r);
        h_res_free(&r);
        assert_vm_clean(id);
}
