#include "supervise.h"

#include <errno.h>
#include <poll.h>
#include <stdint.h>
#include <sys/signalfd.h>
#include <sys/wait.h>
#include <unistd.h>

int wait_status(int status)
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

int supervise(pid_t pid, int sfd, int tfd, bool *timed_out, struct relay *tty)
{
        int status = 0;
        bool master_open = tty != NULL;
        for (;;) {
                if (reap(pid, &status))
                        break;
                struct pollfd p[2] = { { .fd = sfd, .events = POLLIN }, { .fd = tfd, .events = POLLIN } };
                if (master_open) {
                        /* The relay polls itself; keep our wait short. */
                        if (relay_pump(tty, 20) == 1)
                                master_open = false;
                        if (poll(p, 2, 0) <= 0)
                                continue;
                } else if (poll(p, 2, -1) <= 0) {
                        continue;
                }
                uint64_t ticks;
                if (tfd >= 0 && (p[1].revents & POLLIN) && read(tfd, &ticks, sizeof ticks) == sizeof ticks) {
                        /* --timeout: pid is the init of its pid namespace,
                         * so SIGKILL ends every process of the container. */
                        if (timed_out)
                                *timed_out = true;
                        kill(pid, SIGKILL);
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

int block_signals(sigset_t *old)
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

