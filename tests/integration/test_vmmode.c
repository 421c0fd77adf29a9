/* VM mode through husk's command line (runtime/vm_mode.c): run, create /
 * start / state / kill / delete, exit codes, stdio, signals, terminal, a
 * memory limit sizing the guest, rootfs writes reaching the host, a killed
 * QEMU, clear errors. Five tests boot a VM (~3 s each under TCG); skipped
 * when no kernel was fetched (make vm-kernel HUSK_DATA_DIR=build/data). */
#include <criterion/criterion.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <pty.h>
#include <sys/ioctl.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/utsname.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "../../common/cleanup.h"
#include "../../common/fileutil.h"
#include "helpers.h"

static char husk[PATH_MAX], rootfs[PATH_MAX], state_root[PATH_MAX];

static void require_vm(void)
{
        const char *h = getenv("HUSK"), *r = getenv("HUSK_ROOTFS");
        if (!h || !r || !realpath(h, husk) || !realpath(r, rootfs))
                cr_skip_test("HUSK and HUSK_ROOTFS must be set (make integration sets them)");
        h_require_vm();
        char tmpl[] = "/tmp/husk-vmmode-root-XXXXXX";
        cr_assert_not_null(mkdtemp(tmpl));
        snprintf(state_root, sizeof(state_root), "%s", tmpl);
}

static void remove_state_root(void)
{
        herr_t e;
        if (state_root[0])
                (void)remove_tree(state_root, &e);
}

TestSuite(vmmode, .fini = remove_state_root);

/* A bundle whose rootfs is a symlink to HUSK_ROOTFS; args_json is the JSON
 * array of process.args, extra is appended inside the top-level object. */
static char *make_bundle(const char *args_json, bool terminal, const char *linux_extra, const char *extra)
{
        char tmpl[] = "/tmp/husk-vmmode-XXXXXX";
        cr_assert_not_null(mkdtemp(tmpl));
        char path[PATH_MAX + 32];
        snprintf(path, sizeof(path), "%s/rootfs", tmpl);
        cr_assert_eq(symlink(rootfs, path), 0);
        snprintf(path, sizeof(path), "%s/config.json", tmpl);
        FILE *f = fopen(path, "w");
        cr_assert_not_null(f);
        fprintf(f,
                "{\"ociVersion\":\"1.3.0\",\"process\":{\"terminal\":%s,\"user\":{\"uid\":0,\"gid\":0},"
                "\"args\":%s,\"env\":[\"PATH=/bin:/sbin:/usr/bin\",\"TERM=xterm\"],\"cwd\":\"/\"},"
                "\"root\":{\"path\":\"rootfs\"},\"hostname\":\"vmhost\",\"mounts\":["
                "{\"destination\":\"/proc\",\"type\":\"proc\",\"source\":\"proc\"},"
                "{\"destination\":\"/dev\",\"type\":\"tmpfs\",\"source\":\"tmpfs\",\"options\":[\"nosuid\",\"mode=755\"]},"
                "{\"destination\":\"/dev/pts\",\"type\":\"devpts\",\"source\":\"devpts\","
                "\"options\":[\"nosuid\",\"noexec\",\"newinstance\",\"ptmxmode=0666\",\"mode=0620\"]},"
                "{\"destination\":\"/sys\",\"type\":\"sysfs\",\"source\":\"sysfs\",\"options\":[\"ro\"]},"
                "{\"destination\":\"/sys/fs/cgroup\",\"type\":\"cgroup2\",\"source\":\"cgroup\",\"options\":[\"ro\"]}],"
                "\"linux\":{\"namespaces\":[{\"type\":\"pid\"},{\"type\":\"mount\"},{\"type\":\"uts\"},"
                "{\"type\":\"ipc\"},{\"type\":\"cgroup\"}]%s}%s}",
                terminal ? "true" : "false", args_json, linux_extra ? linux_extra : "", extra ? extra : "");
        fclose(f);
        return strdup(tmpl);
}

static void remove_bundle(char *b)
{
        herr_t e;
        (void)remove_tree(b, &e);
        free(b);
}

static char *slurp(int fd)
{
        char *s = NULL;
        size_t len;
        herr_t e;
        lseek(fd, 0, SEEK_SET);
        cr_assert_eq(read_fd(fd, 1 << 20, &s, &len, &e), 0);
        close(fd);
        return s;
}

/* Run husk --root <state_root> ARGS... in dir with stdin from /dev/null;
 * stdout/stderr captured (either may be NULL). Returns the exit status. */
static int husk_run(const char *dir, char **out, char **errs, ...)
{
        char *argv[32] = { husk, "--root", state_root };
        int n = 3;
        va_list ap;
        va_start(ap, errs);
        for (char *a; n < 31 && (a = va_arg(ap, char *));)
                argv[n++] = a;
        va_end(ap);
        argv[n] = NULL;
        int ofd = memfd_create("out", 0), efd = memfd_create("err", 0);
        pid_t pid = fork();
        if (pid == 0) {
                int in = open("/dev/null", O_RDONLY);
                dup2(in, 0);
                dup2(ofd, 1);
                dup2(efd, 2);
                if (dir && chdir(dir) < 0)
                        _exit(126);
                execv(husk, argv);
                _exit(127);
        }
        int st;
        cr_assert_eq(waitpid(pid, &st, 0), pid);
        char *o = slurp(ofd), *e = slurp(efd);
        if (out)
                *out = o;
        else
                free(o);
        if (errs)
                *errs = e;
        else
                free(e);
        return WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
}

static char *state_of(const char *id)
{
        char *out = NULL;
        husk_run(NULL, &out, NULL, "state", id, NULL);
        return out;
}

static bool wait_status(const char *id, const char *status, int ms)
{
        char want[64];
        snprintf(want, sizeof(want), "\"status\": \"%s\"", status);
        for (int t = 0; t < ms; t += 100) {
                _cleanup_free_ char *s = state_of(id);
                if (s && strstr(s, want))
                        return true;
                usleep(100000);
        }
        return false;
}

/* Alive and not a zombie (whoever reaps it). */
static bool alive(pid_t pid)
{
        char path[64], buf[512] = "";
        snprintf(path, sizeof(path), "/proc/%d/stat", pid);
        FILE *f = pid > 0 ? fopen(path, "r") : NULL;
        if (!f)
                return false;
        size_t n = fread(buf, 1, sizeof(buf) - 1, f);
        fclose(f);
        buf[n] = '\0';
        char *rp = strrchr(buf, ')');
        return rp && rp[1] == ' ' && rp[2] != 'Z' && rp[2] != 'X';
}

/* One boot: exit status, stdout and stderr apart, the guest kernel, a
 * memory limit sizing the guest, a write reaching the host's rootfs, the
 * config's seccomp filter (compiled on the host, handed to the guest's
 * husk) in force. */
Test(vmmode, run_exit_stdio_kernel_memory_rootfs, .timeout = 120)
{
        require_vm();
        char marker[64], host_path[2 * PATH_MAX];
        snprintf(marker, sizeof(marker), "vmmode-%d", (int)getpid());
        snprintf(host_path, sizeof(host_path), "%s/tmp/%s", rootfs, marker);
        char args[512];
        snprintf(args, sizeof(args),
                 "[\"sh\",\"-c\",\"echo out; echo err >&2; uname -r; grep MemTotal /proc/meminfo; "
                 "echo max=$(cat /sys/fs/cgroup/memory.max); hostname; echo written > /tmp/%s; "
                 "grep Seccomp: /proc/self/status; mkdir /tmp/%s.d 2>/dev/null && echo mkdir=yes || echo mkdir=no; "
                 "exit 3\"]", marker, marker);
        char *b = make_bundle(args, false, ",\"resources\":{\"memory\":{\"limit\":201326592}},"
                              "\"seccomp\":{\"defaultAction\":\"SCMP_ACT_ALLOW\",\"syscalls\":[{\"names\":"
                              "[\"mkdir\",\"mkdirat\"],\"action\":\"SCMP_ACT_ERRNO\",\"errnoRet\":1}]}", NULL);
        char *out = NULL, *errs = NULL;
        int rc = husk_run(b, &out, &errs, "run", "--vm", "r1", NULL);
        cr_expect_eq(rc, 3, "exit status %d, stderr: %s", rc, errs);
        cr_expect(strncmp(out, "out\n", 4) == 0, "stdout: %s", out);
        cr_expect_not_null(strstr(errs, "err\n"), "stderr: %s", errs);
        cr_expect_null(strstr(out, "err"), "stderr leaked into stdout: %s", out);
        struct utsname u;
        uname(&u);
        char *kline = strchr(out, '\n');
        cr_assert_not_null(kline);
        cr_expect(strncmp(kline + 1, u.release, strlen(u.release)) != 0, "guest kernel = host kernel %s", u.release);
        long kb = 0;
        char *m = strstr(out, "MemTotal:");
        cr_assert_not_null(m, "no MemTotal: %s", out);
        sscanf(m, "MemTotal: %ld", &kb);
        /* The VM is the limit + 64 MiB; the limit is memory.max in the guest. */
        cr_expect(kb > 150000 && kb <= 262144, "guest MemTotal %ld kB for a 192 MiB limit", kb);
        cr_expect_not_null(strstr(out, "max=201326592\n"), "memory.max in the guest: %s", out);
        cr_expect_not_null(strstr(out, "\nvmhost\n"), "hostname in the guest: %s", out);
        cr_expect_not_null(strstr(out, "Seccomp:\t2\n"), "seccomp in the guest: %s", out);
        cr_expect_not_null(strstr(out, "mkdir=no\n"), "mkdir not blocked by the seccomp filter: %s", out);
        _cleanup_free_ char *w = NULL;
        size_t len;
        herr_t e;
        cr_expect_eq(read_file(host_path, 100, &w, &len, &e), 0, "%s not written on the host", host_path);
        cr_expect(w && !strcmp(w, "written\n"));
        unlink(host_path);
        char dir_path[2 * PATH_MAX + 8];
        snprintf(dir_path, sizeof(dir_path), "%s.d", host_path);
        (void)rmdir(dir_path);
        cr_expect_eq(access(state_root, F_OK) == 0 ? 0 : 1, 0);
        _cleanup_free_ char *st = state_of("r1");
        cr_expect(!st || !strstr(st, "r1"), "run left the container behind");
        free(out);
        free(errs);
        remove_bundle(b);
}

/* One boot: create (the VM boots), state created with a pid file,
 * start, running, kill TERM reaches the guest process, stopped, delete. */
Test(vmmode, create_start_kill_delete, .timeout = 120)
{
        require_vm();
        char *b = make_bundle("[\"sh\",\"-c\",\"trap 'echo got-term; exit 7' TERM; echo ready; "
                              "while :; do sleep 0.1; done\"]", false, NULL, NULL);
        char pidfile[PATH_MAX + 16], outfile[PATH_MAX + 16];
        snprintf(pidfile, sizeof(pidfile), "%s/pid", b);
        snprintf(outfile, sizeof(outfile), "%s/out", b);
        /* The monitor keeps create's stdout: give it a file. */
        char cmd[8 * PATH_MAX];
        snprintf(cmd, sizeof(cmd), "cd %s && %s --root %s create --vm --pid-file %s c1 >%s 2>&1 </dev/null", b,
                 husk, state_root, pidfile, outfile);
        cr_assert_eq(system(cmd), 0);
        _cleanup_free_ char *st = state_of("c1");
        cr_expect_not_null(strstr(st, "\"status\": \"created\""), "%s", st);
        _cleanup_free_ char *pid_s = NULL;
        size_t len;
        herr_t e;
        cr_assert_eq(read_file(pidfile, 64, &pid_s, &len, &e), 0);
        pid_t pid = atoi(pid_s);
        char pidjson[64];
        snprintf(pidjson, sizeof(pidjson), "\"pid\": %d", pid);
        cr_expect_not_null(strstr(st, pidjson), "pid file %d vs state %s", pid, st);
        cr_expect(alive(pid));
        cr_assert_eq(husk_run(NULL, NULL, NULL, "start", "c1", NULL), 0);
        cr_expect(wait_status("c1", "running", 2000));
        /* Wait for the trap to be set. */
        for (int t = 0; t < 100; t++) {
                _cleanup_free_ char *o = NULL;
                if (read_file(outfile, 4096, &o, &len, &e) == 0 && strstr(o, "ready"))
                        break;
                usleep(100000);
        }
        cr_assert_eq(husk_run(NULL, NULL, NULL, "kill", "c1", "TERM", NULL), 0);
        cr_expect(wait_status("c1", "stopped", 15000));
        _cleanup_free_ char *o = NULL;
        cr_assert_eq(read_file(outfile, 4096, &o, &len, &e), 0);
        cr_expect_not_null(strstr(o, "got-term"), "output: %s", o);
        char reason[PATH_MAX + 32];
        snprintf(reason, sizeof(reason), "%s/c1/vm-exit", state_root);
        _cleanup_free_ char *r = NULL;
        cr_expect_eq(read_file(reason, 4096, &r, &len, &e), 0);
        cr_expect(r && !strcmp(r, "exited 7\n"), "vm-exit: %s", r);
        cr_expect_eq(husk_run(NULL, NULL, NULL, "delete", "c1", NULL), 0);
        cr_expect(!alive(pid));
        remove_bundle(b);
}

/* One boot: SIGINT to a foreground `husk run --vm` reaches the process
 * (pid 1 of its namespace in the guest: it needs a handler, as natively). */
Test(vmmode, run_forwards_signals, .timeout = 120)
{
        require_vm();
        char *b = make_bundle("[\"sh\",\"-c\",\"trap 'echo got-int; exit 9' INT; echo ready; "
                              "while :; do sleep 0.1; done\"]", false, NULL, NULL);
        int ofd = memfd_create("out", 0);
        pid_t pid = fork();
        if (pid == 0) {
                dup2(ofd, 1);
                if (chdir(b) < 0)
                        _exit(126);
                execl(husk, husk, "--root", state_root, "run", "--vm", "s1", NULL);
                _exit(127);
        }
        bool ready = false;
        for (int t = 0; t < 300 && !ready; t++) {
                char buf[64] = "";
                ssize_t n = pread(ofd, buf, sizeof(buf) - 1, 0);
                ready = n > 0 && strstr(buf, "ready");
                if (!ready)
                        usleep(100000);
        }
        cr_assert(ready, "the process never started");
        kill(pid, SIGINT);
        int st;
        cr_assert_eq(waitpid(pid, &st, 0), pid);
        cr_expect(WIFEXITED(st) && WEXITSTATUS(st) == 9, "status %#x", st);
        char buf[64] = "";
        cr_expect(pread(ofd, buf, sizeof(buf) - 1, 0) > 0 && strstr(buf, "got-int"), "output: %s", buf);
        close(ofd);
        remove_bundle(b);
}

/* One boot: process.terminal through `run` on a pty (console socket pair
 * inside husk), a resize after start reaching the guest. */
Test(vmmode, run_terminal, .timeout = 120)
{
        require_vm();
        char *b = make_bundle("[\"sh\",\"-c\",\"test -t 0 && test -t 1 && echo is-a-tty; stty size; "
                              "echo ready; sleep 2; stty size; exit 5\"]",
                              true, NULL, ",\"annotations\":{\"run.oci.handler\":\"vm\"}");
        int master;
        struct winsize ws = { .ws_row = 30, .ws_col = 100 };
        pid_t pid = forkpty(&master, NULL, NULL, &ws);
        cr_assert_geq(pid, 0);
        if (pid == 0) {
                if (chdir(b) < 0)
                        _exit(126);
                execl(husk, husk, "--root", state_root, "run", "t1", NULL);
                _exit(127);
        }
        char out[4096] = "";
        size_t len = 0;
        bool resized = false;
        for (int t = 0; t < 600 && len < sizeof(out) - 1; t++) {
                struct pollfd p = { .fd = master, .events = POLLIN };
                if (poll(&p, 1, 100) > 0) {
                        ssize_t n = read(master, out + len, sizeof(out) - 1 - len);
                        if (n <= 0)
                                break;
                        len += (size_t)n;
                        out[len] = '\0';
                }
                if (!resized && strstr(out, "ready")) {
                        struct winsize w2 = { .ws_row = 50, .ws_col = 132 };
                        ioctl(master, TIOCSWINSZ, &w2);
                        kill(pid, SIGWINCH);
                        resized = true;
                }
        }
        int st;
        cr_assert_eq(waitpid(pid, &st, 0), pid);
        close(master);
        cr_expect(WIFEXITED(st) && WEXITSTATUS(st) == 5, "status %#x, output %s", st, out);
        cr_expect_not_null(strstr(out, "is-a-tty"), "out: %s", out);
        cr_expect_not_null(strstr(out, "30 100"), "out: %s", out);
        cr_expect_not_null(strstr(out, "50 132"), "resize lost: %s", out);
        remove_bundle(b);
}

static pid_t child_named(pid_t parent, const char *comm)
{
        char path[64];
        snprintf(path, sizeof(path), "/proc/%d/task/%d/children", parent, parent);
        _cleanup_free_ char *kids = NULL;
        size_t len;
        herr_t e;
        if (read_file(path, 4096, &kids, &len, &e) < 0)
                return -1;
        for (char *s = NULL, *t = strtok_r(kids, " \n", &s); t; t = strtok_r(NULL, " \n", &s)) {
                char cpath[64];
                _cleanup_free_ char *c = NULL;
                snprintf(cpath, sizeof(cpath), "/proc/%s/comm", t);
                if (read_file(cpath, 64, &c, &len, &e) == 0 && !strncmp(c, comm, strlen(comm)))
                        return atoi(t);
        }
        return -1;
}

/* One boot: kill -9 of QEMU stops the container with the reason, and
 * delete leaves no process, cgroup or run directory behind. */
Test(vmmode, qemu_killed, .timeout = 120)
{
        require_vm();
        char *b = make_bundle("[\"sleep\",\"60\"]", false, NULL, "");
        char cmd[8 * PATH_MAX];
        snprintf(cmd, sizeof(cmd), "cd %s && %s --root %s run --vm --detach q1 >/dev/null 2>&1 </dev/null", b,
                 husk, state_root);
        cr_assert_eq(system(cmd), 0);
        char *st = state_of("q1");
        char *p = st ? strstr(st, "\"pid\": ") : NULL;
        cr_assert_not_null(p, "%s", st);
        pid_t mon = atoi(p + 7);
        free(st);
        pid_t qemu = child_named(mon, "qemu-system");
        pid_t vfs = child_named(mon, "virtiofsd");
        cr_assert_gt(qemu, 0, "no QEMU under the monitor %d", mon);
        char rundir_file[PATH_MAX + 32];
        snprintf(rundir_file, sizeof(rundir_file), "%s/q1/vm-rundir", state_root);
        _cleanup_free_ char *rundir = NULL;
        size_t len;
        herr_t e;
        cr_assert_eq(read_file(rundir_file, PATH_MAX, &rundir, &len, &e), 0);
        /* QEMU's own limits: no core dump of guest memory, few fds */
        char limits_path[64];
        snprintf(limits_path, sizeof(limits_path), "/proc/%d/limits", (int)qemu);
        _cleanup_free_ char *limits = NULL;
        cr_assert_eq(read_file(limits_path, 1 << 16, &limits, &len, &e), 0, "%s", e.msg);
        cr_expect(strstr(limits, "Max core file size        0                    0"), "%s", limits);
        cr_expect(strstr(limits, "Max open files            1024                 1024"), "%s", limits);
        cr_assert_eq(kill(qemu, SIGKILL), 0);
        cr_expect(wait_status("q1", "stopped", 10000));
        char reason[PATH_MAX + 32];
        snprintf(reason, sizeof(reason), "%s/q1/vm-exit", state_root);
        _cleanup_free_ char *r = NULL;
        cr_expect_eq(read_file(reason, 4096, &r, &len, &e), 0);
        cr_expect(r && strstr(r, "QEMU killed by signal 9"), "vm-exit: %s", r);
        cr_expect_eq(husk_run(NULL, NULL, NULL, "delete", "q1", NULL), 0);
        cr_expect(!alive(mon));
        cr_expect(!alive(qemu));
        if (vfs > 0)
                cr_expect(!alive(vfs));
        cr_expect_neq(access(rundir, F_OK), 0, "run dir %s left behind", rundir);
        cr_expect_neq(access("/sys/fs/cgroup/unified/husk/q1", F_OK), 0);
        remove_bundle(b);
}

/* No boot: a bad vm.kernel.path and a missing QEMU are named. */
Test(vmmode, clear_errors)
{
        require_vm();
        char *b = make_bundle("[\"true\"]", false, NULL, ",\"vm\":{\"kernel\":{\"path\":\"/nonexistent/vmlinux\"}}");
        char *errs = NULL;
        cr_expect_eq(husk_run(b, NULL, &errs, "run", "e1", NULL), 1);
        cr_expect_not_null(strstr(errs, "vm.kernel.path /nonexistent/vmlinux: No such file"), "%s", errs);
        free(errs);
        remove_bundle(b);
        b = make_bundle("[\"true\"]", false, NULL,
                        ",\"vm\":{\"hypervisor\":{\"path\":\"/nonexistent/qemu\"},"
                        "\"kernel\":{\"path\":\"/nonexistent/vmlinux\"}}");
        cr_expect_eq(husk_run(b, NULL, &errs, "run", "e2", NULL), 1);
        cr_expect_not_null(strstr(errs, "vm.hypervisor.path /nonexistent/qemu"), "%s", errs);
        free(errs);
        _cleanup_free_ char *st = state_of("e2");
        cr_expect(!st || !strstr(st, "e2"), "a failed create left state: %s", st);
        remove_bundle(b);
}

/* No boot: husk check says which accelerator and why. */
Test(vmmode, check_reports_accelerator)
{
        require_vm();
        char *out = NULL;
        cr_expect_eq(husk_run(NULL, &out, NULL, "check", NULL), 0);
        cr_expect_not_null(strstr(out, "vm: accelerator: "), "%s", out);
        cr_expect(strstr(out, "KVM") || strstr(out, "TCG"), "%s", out);
        cr_expect_not_null(strstr(out, "vm: kernel: "), "%s", out);
        free(out);
}
