#include "hooks.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <poll.h>
#include <signal.h>
#include <string.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "../common/cleanup.h"
#include "../common/fileutil.h"

static int pidfd_open_(pid_t pid)
{
        return (int)syscall(SYS_pidfd_open, pid, 0);
}

static int run_one(const struct oci_hook *h, const char *state_json, const char *root, herr_t *err)
{
        int pipefd[2];
        if (pipe2(pipefd, O_CLOEXEC) < 0)
                return herr_sys(err, "pipe");
        pid_t pid = fork();
        if (pid < 0) {
                close(pipefd[0]);
                close(pipefd[1]);
                return herr_sys(err, "fork");
        }
        if (pid == 0) {
                /* Child: the state on stdin; stdout/stderr stay husk's. */
                if (dup2(pipefd[0], 0) < 0)
                        _exit(127);
                /* Its own process group: a timeout kills what it started too. */
                (void)setpgid(0, 0);
                if (root && (chroot(root) < 0 || chdir("/") < 0))
                        _exit(127);
                char *argv0[] = { h->path, NULL };
                char **argv = h->n_args ? h->args : argv0;
                char *envp0[] = { NULL };
                sigset_t all;
                sigemptyset(&all);
                sigprocmask(SIG_SETMASK, &all, NULL);
                execve(h->path, argv, h->env ? h->env : envp0);
                _exit(127);
        }
        (void)setpgid(pid, pid); /* no race with the child's own setpgid */
        close(pipefd[0]);
        /* The hook may not read stdin at all: ignore EPIPE. */
        signal(SIGPIPE, SIG_IGN);
        (void)write_all(pipefd[1], state_json, strlen(state_json));
        close(pipefd[1]);

        _cleanup_close_ int pfd = pidfd_open_(pid);
        if (h->timeout.set && pfd >= 0) {
                struct pollfd p = { .fd = pfd, .events = POLLIN };
                int ms = h->timeout.v > 1000000 ? 1000000000 : (int)h->timeout.v * 1000;
                int r;
                do
                        r = poll(&p, 1, ms);
                while (r < 0 && errno == EINTR);
                if (r == 0) {
                        kill(-pid, SIGKILL);
                        kill(pid, SIGKILL);
                        waitpid(pid, NULL, 0);
                        return herr_set(err, 0, "timed out after %llds", (long long)h->timeout.v);
                }
        }
        int status;
        while (waitpid(pid, &status, 0) < 0)
                if (errno != EINTR)
                        return herr_sys(err, "wait");
        if (WIFEXITED(status) && WEXITSTATUS(status) == 0)
                return 0;
        char in_root[PATH_MAX];
        snprintf(in_root, sizeof(in_root), "%s%s", root ? root : "", h->path);
        if (WIFEXITED(status) && WEXITSTATUS(status) == 127 && access(in_root, X_OK) < 0)
                return herr_sys(err, "cannot execute%s", root ? " in the container's root" : "");
        if (WIFEXITED(status))
                return herr_set(err, 0, "exited with status %d", WEXITSTATUS(status));
        return herr_set(err, 0, "killed by signal %d", WTERMSIG(status));
}

int hooks_run(const struct oci_hook_list *l, const char *which, const char *state_json, herr_t *err)
{
        return hooks_run_in(l, which, state_json, NULL, err);
}

int hooks_run_in(const struct oci_hook_list *l, const char *which, const char *state_json, const char *root,
                 herr_t *err)
{
        for (size_t i = 0; l && i < l->n; i++)
                if (run_one(&l->hooks[i], state_json, root, err) < 0)
                        return herr_prefix(err, "hook %s[%zu] %s", which, i, l->hooks[i].path);
        return 0;
}
