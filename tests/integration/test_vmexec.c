/* husk exec, ps and kill --all of a VM-mode container (runtime/vm_exec.c,
 * vm/sessions.c, vm/agent/session.c): output and exit status, stdin,
 * terminal, detach with a pid file, errors that leave the container
 * running, several execs at once, the guest's process list, kill --all.
 * Each test boots one VM (seconds under TCG); skipped without QEMU or a
 * fetched kernel (make vm-kernel HUSK_DATA_DIR=build/data). */
#include <criterion/criterion.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <pty.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <pthread.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#include "helpers.h"

#define VM_MS 120000 /* a boot, or an exec, on a loaded machine under TCG */

static void vm_setup(void)
{
        h_setup();
        h_require_vm();
}

static void vm_teardown(void)
{
        /* a failed test may leave a VM: its monitor, QEMU and virtiofsd */
        struct h_res r;
        const char *ids[] = { "vx1", "vx2", "vx3", "vx4" };
        for (size_t i = 0; h_root[0] && i < sizeof ids / sizeof ids[0]; i++) {
                h_run(&r, &(struct h_opts){ .timeout_ms = VM_MS }, (const char *const[]){ "delete", "--force", h_id(ids[i]), NULL });
                h_res_free(&r);
        }
        h_teardown();
}

TestSuite(vmexec, .init = vm_setup, .fini = vm_teardown, .timeout = 600);

static const struct h_opts slow = { .fd3 = -1, .timeout_ms = VM_MS };

/* A VM-mode container running args, started. */
/* A seccomp filter the exec'd process must get too. */
#define SECCOMP ",\"seccomp\":{\"defaultAction\":\"SCMP_ACT_ALLOW\",\"syscalls\":[{\"names\":[\"sethostname\"]," \
                "\"action\":\"SCMP_ACT_ERRNO\"}]}"

static const char *start_vm(const char *name, const char *args, bool start)
{
        const char *id = h_id(name);
        const char *b = h_bundle(&(struct h_cfg){ .args = args, .env = "[\"PATH=/bin:/sbin:/usr/bin\"]",
                                                  .linux_extra = SECCOMP });
        struct h_res r;
        HUSK_O(&r, &slow, "create", "--vm", "--bundle", b, id);
        H_OK(&r);
        h_res_free(&r);
        if (start) {
                HUSK_O(&r, &slow, "start", id);
                H_OK(&r);
                h_res_free(&r);
        }
        return id;
}

static int exec_in(struct h_res *r, const char *stdin_data, const char *const *argv)
{
        struct h_opts o = slow;
        o.stdin_data = stdin_data;
        return h_run(r, &o, argv);
}
#define EXEC(r, ...) exec_in((r), NULL, (const char *const[]){ "exec", __VA_ARGS__, NULL })

static void expect_running(const char *id)
{
        char *st = h_status(id);
        cr_expect_str_eq(st, "running", "container %s is %s", id, st);
        free(st);
}

/* Output, exit code, stderr apart, stdin, identity flags, a process.json,
 * the container's confinement, errors that leave the container running. */
Test(vmexec, output_status_stdin_errors)
{
        const char *id = start_vm("vx1", "[\"sleep\",\"600\"]", true);
        struct h_res r;
        EXEC(&r, id, "sh", "-c", "echo out; echo err >&2; echo out2; exit 3");
        cr_expect_eq(r.status, 3, "status %d, stderr %s", r.status, r.err);
        cr_expect_str_eq(r.out, "out\nout2\n");
        cr_expect_str_eq(r.err, "err\n");
        h_res_free(&r);

        exec_in(&r, "hello vm\nline two\n", (const char *const[]){ "exec", id, "cat", NULL });
        H_OK(&r);
        cr_expect_str_eq(r.out, "hello vm\nline two\n");
        h_res_free(&r);

        /* in the container: its pid namespace, seccomp filter, capabilities */
        EXEC(&r, id, "sh", "-c", "tr '\\0' ' ' </proc/1/cmdline; echo; grep '^Seccomp:' /proc/self/status; "
                                 "a=$(grep CapEff /proc/self/status); b=$(grep CapEff /proc/1/status); "
                                 "[ \"$a\" = \"$b\" ] && echo same-caps");
        H_OK(&r);
        H_HAS(r.out, "sleep 600 \n");
        H_HAS(r.out, "Seccomp:\t2\n");
        H_HAS(r.out, "same-caps\n");
        h_res_free(&r);

        EXEC(&r, "--user", "1000:1000", "--cwd", "/tmp", "-e", "FOO=bar", id, "sh", "-c",
             "echo $(id -u):$(id -g) $(pwd) $FOO");
        H_OK(&r);
        cr_expect_str_eq(r.out, "1000:1000 /tmp bar\n");
        h_res_free(&r);

        h_write(h_path("process.json"),
                "{\"args\":[\"sh\",\"-c\",\"echo from-json $X; exit 6\"],\"env\":[\"PATH=/bin:/usr/bin\",\"X=1\"],"
                "\"cwd\":\"/\",\"user\":{\"uid\":0,\"gid\":0}}",
                0644);
        EXEC(&r, "--process", h_path("process.json"), id);
        cr_expect_eq(r.status, 6, "status %d, stderr %s", r.status, r.err);
        cr_expect_str_eq(r.out, "from-json 1\n");
        h_res_free(&r);

        /* killed by a signal: 128+N, as natively */
        EXEC(&r, id, "sh", "-c", "kill -9 $$");
        cr_expect_eq(r.status, 137, "status %d, stderr %s", r.status, r.err);
        h_res_free(&r);
        EXEC(&r, id, "sh", "-c", "kill -TERM $$");
        cr_expect_eq(r.status, 143, "status %d, stderr %s", r.status, r.err);
        h_res_free(&r);

        EXEC(&r, id, "/no/such/binary");
        cr_expect_neq(r.status, 0);
        H_HAS(r.err, "/no/such/binary");
        H_HAS(r.err, "No such file or directory");
        h_res_free(&r);
        EXEC(&r, "--cap", "CAP_SYS_ADMIN", id, "true");
        h_assert_fail(&r, "exec --cap: not supported for VM-mode container");
        h_res_free(&r);
        EXEC(&r, "--preserve-fds", "1", id, "true");
        h_assert_fail(&r, "--preserve-fds: not supported for VM-mode container");
        h_res_free(&r);

        expect_running(id);
        EXEC(&r, id, "echo", "still-here");
        H_OK(&r);
        cr_expect_str_eq(r.out, "still-here\n");
        h_res_free(&r);

        HUSK_O(&r, &slow, "delete", "--force", id);
        H_OK(&r);
        h_res_free(&r);
        h_assert_clean(id, NULL);
}

/* Read a pty master until the child exits (or VM_MS pass); once "ready"
 * shows, resize the pty and tell the child (SIGWINCH), as a terminal does. */
static char *read_pty(int master, pid_t pid, int *status)
{
        size_t cap = 1 << 16, len = 0;
        char *out = calloc(1, cap);
        bool resized = false;
        for (int t = 0; t < VM_MS / 100; t++) {
                struct pollfd p = { .fd = master, .events = POLLIN };
                if (poll(&p, 1, 100) > 0) {
                        ssize_t n = read(master, out + len, cap - 1 - len);
                        if (n <= 0)
                                break;
                        len += (size_t)n;
                }
                if (len >= cap - 1)
                        break;
                if (!resized && strstr(out, "ready")) {
                        struct winsize ws = { .ws_row = 44, .ws_col = 120 };
                        ioctl(master, TIOCSWINSZ, &ws);
                        kill(pid, SIGWINCH);
                        resized = true;
                }
        }
        cr_assert_eq(waitpid(pid, status, 0), pid);
        return out;
}

/* --console-socket: accept one connection, keep the fd it carries. */
struct console {
        int sock, master;
};

static void *console_accept(void *arg)
{
        struct console *c = arg;
        int fd = accept4(c->sock, NULL, NULL, SOCK_CLOEXEC);
        if (fd < 0)
                return NULL;
        char name[256], cbuf[CMSG_SPACE(sizeof(int))];
        struct iovec iov = { name, sizeof name };
        struct msghdr mh = { .msg_iov = &iov, .msg_iovlen = 1, .msg_control = cbuf, .msg_controllen = sizeof cbuf };
        if (recvmsg(fd, &mh, MSG_CMSG_CLOEXEC) > 0) {
                struct cmsghdr *cm = CMSG_FIRSTHDR(&mh);
                if (cm && cm->cmsg_type == SCM_RIGHTS)
                        memcpy(&c->master, CMSG_DATA(cm), sizeof(int));
        }
        close(fd);
        return NULL;
}

/* Read fd until want shows (or VM_MS pass). */
static char *read_until(int fd, const char *want)
{
        static char buf[16384];
        size_t len = 0;
        buf[0] = '\0';
        for (int i = 0; i < VM_MS / 100 && !strstr(buf, want) && len < sizeof buf - 1; i++) {
                struct pollfd p = { fd, POLLIN, 0 };
                if (poll(&p, 1, 100) <= 0)
                        continue;
                ssize_t n = read(fd, buf + len, sizeof buf - 1 - len);
                if (n <= 0)
                        break;
                len += (size_t)n;
                buf[len] = '\0';
        }
        return buf;
}

static int wait_relay(const char *pidfile)
{
        char *p = h_read(pidfile);
        cr_assert_not_null(p, "no pid file %s", pidfile);
        pid_t relay = atoi(p);
        free(p);
        cr_assert_gt(relay, 0);
        /* the test process is a subreaper: the relay is re-parented to it */
        int st = 0;
        pid_t w = -1;
        for (int t = 0; t < VM_MS / 100 && w != relay; t++) {
                w = waitpid(relay, &st, WNOHANG);
                if (w != relay)
                        usleep(100000);
        }
        cr_assert_eq(w, relay, "the detached exec's host process %d did not end", relay);
        return WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
}

/* -t -d with --console-socket: the pty master goes there, input typed on
 * it reaches the guest process. */
Test(vmexec, console_socket_detach)
{
        const char *id = start_vm("vx4", "[\"sleep\",\"600\"]", true);
        struct console c = { .master = -1, .sock = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0) };
        struct sockaddr_un sa = { .sun_family = AF_UNIX };
        snprintf(sa.sun_path, sizeof sa.sun_path, "%s", h_path("console.sock"));
        cr_assert_eq(bind(c.sock, (struct sockaddr *)&sa, sizeof sa), 0);
        cr_assert_eq(listen(c.sock, 1), 0);
        pthread_t t;
        cr_assert_eq(pthread_create(&t, NULL, console_accept, &c), 0);
        struct h_res r;
        const char *pidfile = h_path("tty.pid");
        EXEC(&r, "-t", "-d", "--console-socket", h_path("console.sock"), "--pid-file", pidfile, id, "sh", "-c",
             "test -t 0 && echo via-console; read line; echo got:$line; exit 3");
        H_OK(&r);
        h_res_free(&r);
        pthread_join(t, NULL);
        close(c.sock);
        cr_assert_geq(c.master, 0, "no pty master on the console socket");
        char *got = read_until(c.master, "via-console");
        H_HAS(got, "via-console");
        cr_assert_eq(write(c.master, "abc\n", 4), 4);
        got = read_until(c.master, "got:abc");
        H_HAS(got, "got:abc");
        cr_expect_eq(wait_relay(pidfile), 3);
        close(c.master);
        expect_running(id);
        HUSK_O(&r, &slow, "delete", "--force", id);
        H_OK(&r);
        h_res_free(&r);
        h_assert_clean(id, NULL);
}

/* -t on a pty (its size and a resize reach the guest), and --detach with a pid file:
 * the pid is a host husk standing for the guest process, signals sent to
 * it reach the process and it exits with the process's status. */
Test(vmexec, tty_and_detach)
{
        const char *id = start_vm("vx2", "[\"sleep\",\"600\"]", true);
        int master;
        struct winsize ws = { .ws_row = 33, .ws_col = 101 };
        pid_t pid = forkpty(&master, NULL, NULL, &ws);
        cr_assert_geq(pid, 0);
        if (pid == 0) {
                execl(h_husk(), h_husk(), "--root", h_root, "exec", "-t", id, "sh", "-c",
                      "test -t 0 && test -t 1 && echo is-a-tty; stty size; echo ready; sleep 3; stty size; exit 4",
                      NULL);
                _exit(127);
        }
        int st;
        char *out = read_pty(master, pid, &st);
        close(master);
        cr_expect(WIFEXITED(st) && WEXITSTATUS(st) == 4, "status %#x, output %s", st, out);
        H_HAS(out, "is-a-tty");
        H_HAS(out, "33 101");
        H_HAS(out, "44 120"); /* the resize reached the guest's pty */
        free(out);

        struct h_res r;
        const char *pidfile = h_path("exec.pid");
        EXEC(&r, "--detach", "--pid-file", pidfile, id, "sh", "-c",
             "trap 'echo got-term; exit 7' TERM; while :; do sleep 0.1; done");
        H_OK(&r);
        h_res_free(&r);
        char *p = h_read(pidfile);
        cr_assert_not_null(p);
        pid_t relay = atoi(p);
        free(p);
        cr_assert_gt(relay, 0);
        cr_expect_eq(kill(relay, 0), 0, "pid file names no live process: %d", relay);
        /* the shell is in the guest's process list */
        bool listed = false;
        for (int t = 0; t < 100 && !listed; t++) {
                HUSK_O(&r, &slow, "ps", id);
                listed = r.status == 0 && strstr(r.out, "sh -c trap");
                h_res_free(&r);
                if (!listed)
                        usleep(200000);
        }
        cr_expect(listed, "the detached process never showed in husk ps");
        cr_assert_eq(kill(relay, SIGTERM), 0);
        cr_expect_eq(wait_relay(pidfile), 7);

        expect_running(id);
        HUSK_O(&r, &slow, "delete", "--force", id);
        H_OK(&r);
        h_res_free(&r);
        h_assert_clean(id, NULL);
}

struct bg {
        pid_t pid;
        int out;
};

/* husk exec ID sh -c script in the background, stdout to a memfd. */
static struct bg exec_bg(const char *id, const char *script)
{
        struct bg b = { .out = memfd_create("out", 0) };
        fflush(NULL);
        b.pid = fork();
        cr_assert_geq(b.pid, 0);
        if (b.pid == 0) {
                int in = open("/dev/null", O_RDONLY);
                dup2(in, 0);
                dup2(b.out, 1);
                execl(h_husk(), h_husk(), "--root", h_root, "exec", id, "sh", "-c", script, NULL);
                _exit(127);
        }
        return b;
}

static char *bg_wait(struct bg *b, int *status)
{
        int st = 0;
        pid_t w = -1;
        for (int t = 0; t < VM_MS / 100 && w != b->pid; t++) {
                w = waitpid(b->pid, &st, WNOHANG);
                if (w != b->pid)
                        usleep(100000);
        }
        if (w != b->pid) {
                kill(b->pid, SIGKILL);
                waitpid(b->pid, &st, 0);
        }
        *status = WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
        char *s = calloc(1, 4096);
        cr_assert_geq(pread(b->out, s, 4095, 0), 0);
        close(b->out);
        return s;
}

/* Before start exec is refused; two execs at once keep their output
 * apart; ps shows an exec'd process; kill --all stops the main and the
 * exec'd processes; exec into the stopped container is refused. */
Test(vmexec, concurrent_ps_kill_all_stopped)
{
        const char *id = start_vm("vx3", "[\"sleep\",\"600\"]", false);
        struct h_res r;
        EXEC(&r, id, "true");
        h_assert_fail(&r, "is created but not started");
        h_res_free(&r);
        HUSK_O(&r, &slow, "start", id);
        H_OK(&r);
        h_res_free(&r);

        struct bg a = exec_bg(id, "for i in 1 2 3 4 5 6; do echo A$i; sleep 0.2; done");
        struct bg b = exec_bg(id, "for i in 1 2 3 4 5 6; do echo B$i; sleep 0.2; done; exit 2");
        int sa, sb;
        char *oa = bg_wait(&a, &sa), *ob = bg_wait(&b, &sb);
        cr_expect_eq(sa, 0);
        cr_expect_eq(sb, 2);
        cr_expect_str_eq(oa, "A1\nA2\nA3\nA4\nA5\nA6\n");
        cr_expect_str_eq(ob, "B1\nB2\nB3\nB4\nB5\nB6\n");
        free(oa);
        free(ob);

        struct bg s = exec_bg(id, "exec sleep 321");
        bool listed = false;
        for (int t = 0; t < 100 && !listed; t++) {
                HUSK_O(&r, &slow, "ps", id);
                listed = r.status == 0 && strstr(r.out, "sleep 321");
                if (listed) {
                        H_HAS(r.out, "UID");
                        H_HAS(r.out, "PID");
                        H_HAS(r.out, "CMD");
                        H_HAS(r.out, "sleep 600");
                } else {
                        usleep(200000);
                }
                h_res_free(&r);
        }
        cr_expect(listed, "the exec'd sleep never showed in husk ps");
        HUSK_O(&r, &slow, "ps", "--format", "json", id);
        H_OK(&r);
        cr_expect(r.out[0] == '[' && strchr(r.out, ','), "expected two pids or more: %s", r.out);
        h_res_free(&r);

        HUSK_O(&r, &slow, "kill", "--all", id, "KILL");
        H_OK(&r);
        h_res_free(&r);
        int ss;
        char *os = bg_wait(&s, &ss);
        cr_expect_eq(ss, 137, "the exec'd sleep: status %d", ss);
        free(os);
        cr_expect(h_wait_status(id, "stopped", VM_MS), "kill --all did not stop the main process");

        EXEC(&r, id, "true");
        h_assert_fail(&r, "is stopped: cannot exec into it");
        h_res_free(&r);
        HUSK_O(&r, &slow, "ps", "--format", "json", id);
        H_OK(&r);
        cr_expect_str_eq(r.out, "[]\n");
        h_res_free(&r);
        HUSK_O(&r, &slow, "delete", id);
        H_OK(&r);
        h_res_free(&r);
        h_assert_clean(id, NULL);
}
