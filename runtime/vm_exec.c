/* exec, ps and kill --all for a VM-mode container: sessions with the VM
 * monitor (runtime/vm_mode.c), which relays them to the guest agent over
 * the control channel (vm/sessions.c). The monitor listens on
 * <state dir>/exec.sock (mode 0600 in the root-only state directory) while
 * the container's process runs. In the guest, husk's own code makes the
 * process (vm/agent/session.c runs `/husk exec` into the container). */
#include "vm_exec.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pty.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <termios.h>
#include <unistd.h>

#include "../common/cleanup.h"
#include "../vm/vm.h"
#include "container.h"
#include "log.h"
#include "supervise.h"
#include "terminal.h"

static void sock_path(struct sockaddr_un *sa, int dirfd)
{
        memset(sa, 0, sizeof(*sa));
        sa->sun_family = AF_UNIX;
        snprintf(sa->sun_path, sizeof(sa->sun_path), "/proc/self/fd/%d/" VM_EXEC_SOCK, dirfd);
}

int vm_exec_socket(int dirfd, herr_t *err)
{
        struct sockaddr_un sa;
        sock_path(&sa, dirfd);
        (void)unlinkat(dirfd, VM_EXEC_SOCK, 0);
        int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
        if (fd < 0)
                return herr_sys(err, "VM exec socket");
        mode_t old = umask(0077);
        int r = bind(fd, (struct sockaddr *)&sa, sizeof(sa));
        umask(old);
        if (r < 0 || fchmodat(dirfd, VM_EXEC_SOCK, 0600, 0) < 0 || listen(fd, 16) < 0) {
                int e = errno;
                close(fd);
                return herr_set(err, e, "VM exec socket %s", VM_EXEC_SOCK);
        }
        return fd;
}

static int connect_monitor(int dirfd, const char *id, herr_t *err)
{
        struct sockaddr_un sa;
        sock_path(&sa, dirfd);
        int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
        if (fd < 0)
                return herr_sys(err, "socket");
        if (connect(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0) {
                int e = errno;
                close(fd);
                if (e == ENOENT || e == ECONNREFUSED)
                        return herr_set(err, e, "container '%s' is not running (its VM takes no exec)", id);
                return herr_set(err, e, "container '%s': VM monitor", id);
        }
        return fd;
}

/* The status of a VM container as exec/ps/kill see it: only a running
 * process in the guest takes sessions. */
static int need_running(const char *id, const char *status, const char *what, herr_t *err)
{
        if (!strcmp(status, "running"))
                return 0;
        if (!strcmp(status, "created"))
                return herr_set(err, 0, "container '%s' is created but not started: %s of a VM-mode container "
                                        "needs its process running (husk start)", id, what);
        if (!strcmp(status, "paused"))
                return herr_set(err, 0, "container '%s' is paused: cannot %s it", id, what);
        return herr_set(err, 0, "container '%s' is %s: cannot %s it", id, status, what);
}

/* A raw terminal for the session: our own (foreground, stdin a tty), or a
 * new host pty whose master goes to --console-socket (the guest's pty does
 * the line discipline). */
struct term {
        int slave; /* the new pty's slave, or -1 */
        bool raw;
        struct termios saved;
};

static int term_begin(struct term *t, const struct exec_opts *o, const struct oci_process *p,
                      struct vm_process *vp, herr_t *err)
{
        struct winsize ws = { .ws_row = 24, .ws_col = 80 }, in;
        t->slave = -1;
        t->raw = false;
        if (!p->terminal)
                return 0;
        if (p->console_size && p->console_size->height) {
                ws.ws_row = (unsigned short)p->console_size->height;
                ws.ws_col = (unsigned short)p->console_size->width;
        } else if (!o->console_socket && isatty(0) && ioctl(0, TIOCGWINSZ, &in) == 0 && in.ws_row) {
                ws = in;
        }
        vp->terminal = true;
        vp->rows = ws.ws_row;
        vp->cols = ws.ws_col;
        if (o->console_socket) {
                _cleanup_close_ int console = console_socket_connect(o->console_socket, err);
                int master;
                if (console < 0)
                        return herr_prefix(err, "--console-socket %s", o->console_socket);
                if (openpty(&master, &t->slave, NULL, NULL, &ws) < 0)
                        return herr_sys(err, "exec --tty: openpty");
                struct termios tio;
                if (tcgetattr(t->slave, &tio) == 0) {
                        cfmakeraw(&tio);
                        (void)tcsetattr(t->slave, TCSANOW, &tio);
                }
                (void)fcntl(t->slave, F_SETFD, FD_CLOEXEC);
                int r = terminal_send(console, master, err);
                close(master);
                if (r < 0)
                        return -1;
                vp->stdin_fd = vp->stdout_fd = vp->stderr_fd = t->slave;
                return 0;
        }
        if (isatty(0) && tcgetattr(0, &t->saved) == 0) {
                struct termios raw = t->saved;
                cfmakeraw(&raw); /* the guest's ptys do the output processing */
                t->raw = tcsetattr(0, TCSANOW, &raw) == 0;
        }
        vp->stderr_fd = 1; /* one stream, as on a terminal */
        return 0;
}

static void term_end(struct term *t)
{
        if (t->raw)
                (void)tcsetattr(0, TCSANOW, &t->saved);
        if (t->slave >= 0)
                close(t->slave);
        t->slave = -1;
        t->raw = false;
}

/* --detach: a husk process on the host stands for the guest process: it
 * relays its stdio and the signals sent to it, and exits with its status.
 * Its pid is what --pid-file gets. */
static int detach(struct vm_session *s, struct vm_process *vp, const struct exec_opts *o, herr_t *err)
{
        fflush(NULL);
        pid_t pid = fork();
        if (pid < 0)
                return herr_sys(err, "exec --detach: fork");
        if (pid == 0) {
                herr_t e = { 0 };
                int status = 255;
                (void)setsid();
                vp->signal_fd = block_signals(NULL);
                if (vm_session_wait(s, vp, &status, &e) < 0) {
                        fprintf(stderr, "husk: exec into container '%s': %s\n", o->id, e.msg);
                        _exit(255);
                }
                _exit(status & 0xff);
        }
        if (o->pid_file && write_pid_file(o->pid_file, pid, err) < 0) {
                kill(pid, SIGKILL);
                return -1;
        }
        return 0;
}

int vm_container_exec(const struct exec_opts *o, const struct oci_process *p, int *dirfd, const char *status,
                      herr_t *err)
{
        if (need_running(o->id, status, "exec", err) < 0)
                return -1;
        if (o->preserve_fds > 0)
                return herr_set(err, 0, "exec --preserve-fds: not supported for VM-mode container '%s' "
                                        "(host fds cannot cross into the guest)", o->id);
        struct vm_session s = { .fd = -1 };
        struct vm_process vp;
        struct term t = { .slave = -1 };
        sigset_t old;
        int fd = connect_monitor(*dirfd, o->id, err), rc = -1, sfd = -1, st = 255;
        if (fd < 0)
                return -1;
        /* The container may be deleted while we wait. */
        close(*dirfd);
        *dirfd = -1;
        vm_process_init(&vp, p->args);
        vp.env = p->env;
        vp.cwd = p->cwd;
        vp.uid = p->user.uid;
        vp.gid = p->user.gid;
        if (term_begin(&t, o, p, &vp, err) < 0) {
                close(fd);
                goto out;
        }
        pid_t guest_pid;
        if (vm_session_start(&s, fd, VM_SESSION_EXEC, 0, &vp, &guest_pid, err) < 0) {
                herr_prefix(err, "exec into container '%s'", o->id);
                goto out;
        }
        if (o->detach) {
                rc = detach(&s, &vp, o, err);
                goto out;
        }
        sfd = block_signals(&old);
        if (sfd < 0) {
                herr_sys(err, "signalfd");
                goto out;
        }
        vp.signal_fd = sfd;
        if (vm_session_wait(&s, &vp, &st, err) < 0)
                herr_prefix(err, "exec into container '%s'", o->id);
        else
                rc = st;
        sigprocmask(SIG_SETMASK, &old, NULL);
        close(sfd);
out:
        term_end(&t);
        if (s.rbuf || s.fd >= 0)
                vm_session_close(&s);
        return rc;
}

/* A PS or KILL_ALL session: its output goes to ours; returns its status. */
static int tool_session(int dirfd, const char *id, enum vm_session_kind kind, uint32_t arg, herr_t *err)
{
        int fd = connect_monitor(dirfd, id, err), st = 255;
        if (fd < 0)
                return -1;
        struct vm_session s;
        static char *const none[] = { "husk", NULL };
        struct vm_process vp;
        vm_process_init(&vp, none);
        vp.stdin_fd = -1;
        int r = vm_session_start(&s, fd, kind, arg, NULL, NULL, err);
        if (r == 0)
                r = vm_session_wait(&s, &vp, &st, err);
        vm_session_close(&s);
        return r < 0 ? -1 : st;
}

int vm_container_ps(int dirfd, const char *id, const char *status, bool json, herr_t *err)
{
        if (!strcmp(status, "created") || !strcmp(status, "stopped")) { /* nothing runs in the guest */
                if (json)
                        printf("[]\n");
                else
                        printf("%-8s %-8s %-8s %s\n", "UID", "PID", "PPID", "CMD");
                return 0;
        }
        if (need_running(id, status, "list the processes of", err) < 0)
                return -1;
        fflush(stdout);
        int st = tool_session(dirfd, id, VM_SESSION_PS, json ? 1 : 0, err);
        if (st < 0)
                return herr_prefix(err, "ps of container '%s'", id);
        return st;
}

int vm_container_kill_all(int dirfd, const char *id, const char *status, int sig, herr_t *err)
{
        if (need_running(id, status, "signal every process of", err) < 0)
                return -1;
        int st = tool_session(dirfd, id, VM_SESSION_KILL_ALL, (uint32_t)sig, err);
        if (st < 0)
                return herr_prefix(err, "kill --all of container '%s'", id);
        if (st != 0)
                return herr_set(err, 0, "kill --all of container '%s': the guest's husk kill exited %d", id, st);
        return 0;
}
