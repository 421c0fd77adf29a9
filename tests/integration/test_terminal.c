/* process.terminal: the pty master reaches --console-socket (SCM_RIGHTS);
 * `run` in the foreground relays it to its own stdio. */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <sys/un.h>
#include <termios.h>
#include <unistd.h>

#include "helpers.h"

TestSuite(terminal, .init = h_setup, .fini = h_teardown, .timeout = 60);

struct listener {
        int sock;
        int master;     /* received */
        char name[256]; /* the pty name sent along */
};

static void *accept_master(void *arg)
{
        struct listener *l = arg;
        int c = accept4(l->sock, NULL, NULL, SOCK_CLOEXEC);
        if (c < 0)
                return NULL;
        char cbuf[CMSG_SPACE(sizeof(int))];
        struct iovec iov = { l->name, sizeof l->name - 1 };
        struct msghdr mh = { .msg_iov = &iov, .msg_iovlen = 1, .msg_control = cbuf, .msg_controllen = sizeof cbuf };
        ssize_t n = recvmsg(c, &mh, MSG_CMSG_CLOEXEC);
        if (n > 0) {
                l->name[n] = '\0';
                struct cmsghdr *cm = CMSG_FIRSTHDR(&mh);
                if (cm && cm->cmsg_type == SCM_RIGHTS)
                        memcpy(&l->master, CMSG_DATA(cm), sizeof(int));
        }
        close(c);
        return NULL;
}

static const char *listen_on(struct listener *l, pthread_t *t)
{
        const char *path = h_path("console.sock");
        l->master = -1;
        l->sock = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
        struct sockaddr_un sa = { .sun_family = AF_UNIX };
        snprintf(sa.sun_path, sizeof sa.sun_path, "%s", path);
        cr_assert_eq(bind(l->sock, (struct sockaddr *)&sa, sizeof sa), 0);
        cr_assert_eq(listen(l->sock, 1), 0);
        cr_assert_eq(pthread_create(t, NULL, accept_master, l), 0);
        return path;
}

/* Read from fd until want appears (or 5 s pass). */
static char *read_until(int fd, const char *want)
{
        static char buf[16384];
        size_t len = 0;
        buf[0] = '\0';
        for (int i = 0; i < 250 && !strstr(buf, want); i++) {
                struct pollfd p = { fd, POLLIN, 0 };
                if (poll(&p, 1, 20) <= 0)
                        continue;
                ssize_t n = read(fd, buf + len, sizeof buf - 1 - len);
                if (n <= 0)
                        break;
                len += (size_t)n;
                buf[len] = '\0';
        }
        return buf;
}

Test(terminal, console_socket_gets_the_master)
{
        struct listener l;
        pthread_t t;
        const char *sock = listen_on(&l, &t);
        const char *id = h_id("tty");
        const char *b = h_bundle(&(struct h_cfg){ .args = "[\"sh\"]", .terminal = true,
                                                   .process_extra = ",\"consoleSize\":{\"height\":33,\"width\":111}" });
        struct h_res r;
        HUSK(&r, "create", "--console-socket", sock, "-b", b, id);
        H_OK(&r);
        h_res_free(&r);
        pthread_join(t, NULL);
        cr_assert_geq(l.master, 0, "no pty master received");
        H_HAS(l.name, "/dev/pts/");
        HUSK(&r, "start", id);
        H_OK(&r);
        h_res_free(&r);
        const char *cmd = "echo hi; tty; stty size; ls -l /dev/console | grep -c pts\n";
        cr_assert_eq(write(l.master, cmd, strlen(cmd)), (ssize_t)strlen(cmd));
        char *out = read_until(l.master, "\n1\r\n");
        H_HAS(out, "hi\r\n");
        H_HAS(out, "/dev/pts/0\r\n");
        H_HAS(out, "33 111\r\n");
        cr_assert(write(l.master, "exit 4\n", 7) == 7);
        cr_assert(h_wait_status(id, "stopped", 5000));
        close(l.master);
        close(l.sock);
        HUSK(&r, "delete", id);
        H_OK(&r);
        h_res_free(&r);
        h_assert_clean(id, NULL);
}

Test(terminal, create_without_console_socket_fails)
{
        const char *id = h_id("nosock");
        struct h_res r;
        HUSK(&r, "create", "-b", h_bundle(&(struct h_cfg){ .args = "[\"sh\"]", .terminal = true }), id);
        h_assert_fail(&r, "--console-socket");
        h_res_free(&r);
        h_assert_clean(id, NULL);
}

Test(terminal, console_socket_that_does_not_listen)
{
        const char *id = h_id("badsock");
        struct h_res r;
        HUSK(&r, "create", "--console-socket", h_path("nobody-listens"), "-b",
             h_bundle(&(struct h_cfg){ .args = "[\"sh\"]", .terminal = true }), id);
        h_assert_fail(&r, "--console-socket");
        h_res_free(&r);
        h_assert_clean(id, NULL);
}

Test(terminal, run_foreground_relays_the_pty)
{
        const char *id = h_id("fg");
        struct h_res r;
        HUSK_O(&r, &((struct h_opts){ .fd3 = -1, .stdin_data = "echo hi-from-$((6*7)); exit 5\n" }), "run", "-b",
               h_bundle(&(struct h_cfg){ .args = "[\"sh\"]", .terminal = true }), id);
        cr_assert_eq(r.status, 5, "status %d: %s", r.status, r.err);
        H_HAS(r.out, "hi-from-42");
        h_res_free(&r);
        h_assert_clean(id, NULL);
}

Test(terminal, run_detach_with_console_socket)
{
        struct listener l;
        pthread_t t;
        const char *sock = listen_on(&l, &t);
        const char *id = h_id("fgd");
        struct h_res r;
        HUSK(&r, "run", "-d", "--console-socket", sock, "-b",
             h_bundle(&(struct h_cfg){ .args = "[\"sh\",\"-c\",\"echo detached-tty; sleep 100\"]", .terminal = true }), id);
        H_OK(&r);
        h_res_free(&r);
        pthread_join(t, NULL);
        cr_assert_geq(l.master, 0);
        char *st = h_status(id);
        char *got = read_until(l.master, "detached-tty");
        cr_assert(strstr(got, "detached-tty"), "got '%s' from %s (fd %d), container %s", got, l.name, l.master, st);
        close(l.master);
        close(l.sock);
        HUSK(&r, "run", "-d", "-b", h_bundle(&(struct h_cfg){ .args = "[\"sh\"]", .terminal = true }), h_id("fgd2"));
        h_assert_fail(&r, "--console-socket");
        h_res_free(&r);
}

/* `run` on a real terminal: the user's terminal is put in raw mode, relays
 * both ways, and is restored when the container exits. */
Test(terminal, run_on_a_real_terminal_restores_it)
{
        int master = posix_openpt(O_RDWR | O_NOCTTY | O_CLOEXEC);
        cr_assert_geq(master, 0);
        cr_assert_eq(grantpt(master), 0);
        cr_assert_eq(unlockpt(master), 0);
        char *sname = ptsname(master);
        int slave = open(sname, O_RDWR | O_NOCTTY);
        cr_assert_geq(slave, 0);
        struct termios before, after;
        cr_assert_eq(tcgetattr(slave, &before), 0);
        const char *b = h_bundle(&(struct h_cfg){ .args = "[\"sh\"]", .terminal = true });
        const char *id = h_id("realtty");
        pid_t pid = fork();
        cr_assert(pid >= 0);
        if (pid == 0) {
                setsid();
                ioctl(slave, TIOCSCTTY, 0);
                dup2(slave, 0);
                dup2(slave, 1);
                dup2(slave, 2);
                execl(h_husk(), "husk", "--root", h_root, "run", "-b", b, id, (char *)NULL);
                _exit(127);
        }
        const char *cmd = "echo tty-$((40+2)); exit 6\n";
        usleep(200000);
        cr_assert_eq(write(master, cmd, strlen(cmd)), (ssize_t)strlen(cmd));
        char *out = read_until(master, "tty-42");
        H_HAS(out, "tty-42");
        int st = 0xffff; /* not "exited" until waitpid says so */
        for (int i = 0; i < 500 && waitpid(pid, &st, WNOHANG) == 0; i++)
                usleep(10000);
        cr_assert(WIFEXITED(st), "husk run did not exit");
        cr_assert_eq(WEXITSTATUS(st), 6);
        cr_assert_eq(tcgetattr(slave, &after), 0);
        cr_assert_eq(before.c_lflag, after.c_lflag, "terminal lflag not restored");
        cr_assert_eq(before.c_iflag, after.c_iflag, "terminal iflag not restored");
        cr_assert_eq(before.c_oflag, after.c_oflag, "terminal oflag not restored");
        close(slave);
        close(master);
        h_assert_clean(id, NULL);
}
