/* husk run: create + start, then (unless --detach) wait for the container
 * as its subreaper, forwarding signals and relaying the terminal, and
 * delete it when it exits (unless --keep). Exits with the container's
 * status: its exit code, or 128+N when signal N ended it. */
#include "cmd_run.h"

#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <sys/timerfd.h>
#include <sys/wait.h>
#include <unistd.h>

#include "log.h"
#include "supervise.h"
#include "terminal.h"

static int run_foreground(struct cli *c, struct create_args *a, struct container_state *st, herr_t *err)
{
        bool tty = a->cfg->process && a->cfg->process->terminal;
        int pair[2] = { -1, -1 }, master = -1, exit_code = -1;
        sigset_t old;
        if (prctl(PR_SET_CHILD_SUBREAPER, 1) < 0)
                return herr_sys(err, "PR_SET_CHILD_SUBREAPER");
        int sfd = block_signals(&old);
        if (tty && !a->o.console_socket) {
                if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, pair) < 0) {
                        herr_sys(err, "socketpair");
                        goto out;
                }
                a->o.console_fd = pair[1];
        }
        if (container_create(&a->o, a->cfg, st, err) < 0)
                goto out;
        a->created = true;
        if (pair[0] >= 0 && (master = terminal_recv(pair[0], err)) < 0)
                goto out;
        if (container_start_cfg(c->root, a->o.id, a->cfg, err) < 0)
                goto out;
        struct relay r;
        if (master >= 0)
                relay_begin(&r, master, err);
        int tfd = -1;
        bool timed_out = false;
        if (a->fd.timeout_ms > 0) {
                tfd = timerfd_create(CLOCK_MONOTONIC, TFD_CLOEXEC | TFD_NONBLOCK);
                struct itimerspec its = { .it_value = { .tv_sec = a->fd.timeout_ms / 1000,
                                                        .tv_nsec = (a->fd.timeout_ms % 1000) * 1000000 } };
                if (tfd < 0 || timerfd_settime(tfd, 0, &its, NULL) < 0) {
                        herr_sys(err, "--timeout: timerfd");
                        kill(st->pid, SIGKILL);
                }
        }
        exit_code = supervise(st->pid, sfd, tfd, &timed_out, master >= 0 ? &r : NULL);
        if (tfd >= 0)
                close(tfd);
        if (timed_out) {
                log_msg(LOG_LEVEL_WARN, "container %s: --timeout %lldms reached: killed", a->o.id,
                        a->fd.timeout_ms);
                exit_code = EXIT_TIMEOUT;
        }
        if (master >= 0)
                relay_end(&r);
out:
        if (master >= 0)
                close(master);
        if (pair[0] >= 0)
                close(pair[0]);
        if (pair[1] >= 0)
                close(pair[1]);
        if (sfd >= 0)
                close(sfd);
        return exit_code;
}

int cmd_run(struct cli *c, int argc, char **argv, herr_t *err)
{
        struct create_args a;
        struct container_state st = { 0 };
        int exit_code = -1;
        bool image = frontdoor_wants_image(argc, argv);
        int prc = parse_create_args(c, "run", argc, argv, &a, err);
        if (prc == 0 && a.fd.dry_run) {
                /* --dry-run: the config.json the flags made; nothing runs. */
                printf("%s\n", a.json);
                exit_code = 0;
        } else if (prc == 0) {
                a.o.root = c->root;
                if (image && !a.fd.interactive && !a.fd.tty) {
                        /* Without -i the container's stdin is /dev/null, as
                         * with container engines. */
                        int nul = open("/dev/null", O_RDONLY | O_CLOEXEC);
                        if (nul >= 0) {
                                dup2(nul, STDIN_FILENO);
                                close(nul);
                        }
                }
                bool tty = a.cfg->process && a.cfg->process->terminal;
                if (!a.detach) {
                        exit_code = run_foreground(c, &a, &st, err);
                } else if (tty && !a.o.console_socket) {
                        herr_set(err, 0, "run --detach: process.terminal is true: --console-socket is required");
                } else if (container_create(&a.o, a.cfg, &st, err) == 0) {
                        a.created = true;
                        if (container_start_cfg(c->root, a.o.id, a.cfg, err) == 0)
                                exit_code = 0;
                }
        }
        /* A foreground run, or a detached one that failed, is deleted. */
        if (a.created && (exit_code < 0 || (!a.detach && !a.keep))) {
                herr_t e2 = { 0 };
                if (container_delete_cfg(c->root, a.o.id, true, a.cfg, &e2) < 0)
                        log_msg(LOG_LEVEL_WARN, "%s", e2.msg);
        }
        container_state_free(&st);
        free_create_args(&a);
        if (exit_code >= 0)
                return exit_code;
        return image ? EXIT_ENGINE_ERROR : EXIT_HUSK_ERROR;
}
