/* husk run: create + start, then (unless --detach) wait for the container
 * as its subreaper, forwarding signals and relaying the terminal, and
 * delete it when it exits (unless --keep). Exits with the container's
 * status: its exit code, or 128+N when signal N ended it. */
#include "cmd_run.h"

#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include "log.h"
#include "terminal.h"

static int wait_status(int status)
{
        if (WIFEXITED(status))
                return WEXITSTATUS(status);
        if (WIFSIGNALED(status))
                return 128 + WTERMSIG(status);
        return 255;
}

/* Reap every child (we are the subreaper); returns 1 once pid is reaped. */
static int reap(pid_t pid, int *status)
{
        int st, done = 0;
        pid_t r;
        while ((r = waitpid(-1, &st, WNOHANG)) > 0)
                if (r == pid) {
                        *status = st;
                        done = 1;
                }
        return done;
}

static int supervise(pid_t pid, int sfd, struct relay *tty)
{
        int status = 0;
        bool master_open = tty != NULL;
        for (;;) {
                if (reap(pid, &status))
                        break;
                struct pollfd p[2] = { { .fd = sfd, .events = POLLIN }, { .fd = -1 } };
                if (master_open) {
                        /* The relay polls itself; keep our wait short. */
                        if (relay_pump(tty, 20) == 1)
                                master_open = false;
                        if (poll(p, 1, 0) <= 0)
                                continue;
                } else if (poll(p, 1, -1) <= 0) {
                        continue;
                }
                struct signalfd_siginfo si;
                while (read(sfd, &si, sizeof si) == sizeof si) {
                        int sig = (int)si.ssi_signo;
                        if (sig == SIGCHLD)
                                continue;
                        if (sig == SIGWINCH && tty) {
                                relay_resize(tty);
                                continue;
                        }
                        kill(pid, sig);
                }
        }
        /* Drain what the program wrote just before it exited. */
        while (master_open && relay_pump(tty, 0) == 0) {
                struct pollfd p = { .fd = tty->master, .events = POLLIN };
                if (poll(&p, 1, 0) <= 0)
                        break;
        }
        return wait_status(status);
}

static int block_signals(sigset_t *old)
{
        sigset_t all;
        sigfillset(&all);
        sigdelset(&all, SIGSEGV);
        sigdelset(&all, SIGBUS);
        sigdelset(&all, SIGFPE);
        sigdelset(&all, SIGILL);
        sigprocmask(SIG_BLOCK, &all, old);
        return signalfd(-1, &all, SFD_CLOEXEC | SFD_NONBLOCK);
}

int cmd_run(struct cli *c, int argc, char **argv, herr_t *err)
{
        struct create_args a;
        struct container_state st = { 0 };
        int rc = parse_create_args("run", argc, argv, &a, err);
        int exit_code = EXIT_HUSK_ERROR;
        int pair[2] = { -1, -1 };
        int sfd = -1;
        sigset_t old;
        bool created = false;
        if (rc < 0)
                goto out;
        a.o.root = c->root;
        a.o.vm |= c->vm;
        bool tty = a.cfg->process && a.cfg->process->terminal;
        if (a.detach && tty && !a.o.console_socket) {
                herr_set(err, 0, "run --detach: process.terminal is true: --console-socket is required");
                goto out;
        }
        if (!a.detach) {
                if (prctl(PR_SET_CHILD_SUBREAPER, 1) < 0) {
                        herr_sys(err, "PR_SET_CHILD_SUBREAPER");
                        goto out;
                }
                sfd = block_signals(&old);
                if (tty && !a.o.console_socket) {
                        if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, pair) < 0) {
                                herr_sys(err, "socketpair");
                                goto out;
                        }
                        a.o.console_fd = pair[1];
                }
        }
        if (container_create(&a.o, a.cfg, &st, err) < 0)
                goto out;
        created = true;
        int master = -1;
        if (pair[0] >= 0) {
                master = terminal_recv(pair[0], err);
                if (master < 0)
                        goto out;
        }
        if (container_start(c->root, a.o.id, err) < 0) {
                if (master >= 0)
                        close(master);
                goto out;
        }
        if (a.detach) {
                exit_code = 0;
                created = false;
                goto out;
        }
        struct relay r;
        if (master >= 0)
                relay_begin(&r, master, err);
        exit_code = supervise(st.pid, sfd, master >= 0 ? &r : NULL);
        if (master >= 0) {
                relay_end(&r);
                close(master);
        }
        herr_clear(err);
out:
        if (created && !a.keep) {
                herr_t e2 = { 0 };
                if (container_delete(c->root, a.o.id, true, &e2) < 0)
                        log_msg(LOG_LEVEL_WARN, "%s", e2.msg);
        }
        if (pair[0] >= 0)
                close(pair[0]);
        if (pair[1] >= 0)
                close(pair[1]);
        if (sfd >= 0)
                close(sfd);
        container_state_free(&st);
        free_create_args(&a);
        return exit_code;
}
