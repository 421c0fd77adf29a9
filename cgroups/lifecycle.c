/* cgroups/lifecycle.c: freeze/thaw, signals, destroy, clone into a cgroup. */
#include "cgroups.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#include <linux/sched.h>

#include "../common/cleanup.h"
#include "../common/fileutil.h"
#include "internal.h"

static long now_ms(void)
{
        struct timespec ts;
        clock_gettime(CLOCK_MONOTONIC, &ts);
        return ts.tv_sec * 1000L + ts.tv_nsec / 1000000L;
}

int cg_wait_event(const char *dir, const char *key, int want, int timeout_ms, herr_t *err)
{
        char p[PATH_MAX];
        if (cg_path(p, dir, "cgroup.events", err) < 0)
                return -1;
        _cleanup_close_ int fd = open(p, O_RDONLY | O_CLOEXEC);
        if (fd < 0)
                return herr_sys(err, "%s", p);
        long deadline = now_ms() + timeout_ms;
        for (;;) {
                char buf[512];
                ssize_t n = pread(fd, buf, sizeof buf - 1, 0);
                if (n < 0)
                        return herr_sys(err, "%s", p);
                buf[n] = '\0';
                uint64_t v;
                if (!cg_kv(buf, key, &v))
                        return cg_fail(err, ENOTSUP, "%s: no '%s' entry", p, key);
                if ((int)v == want)
                        return 0;
                long left = deadline - now_ms();
                if (left <= 0)
                        return cg_fail(err, ETIMEDOUT, "%s: '%s' did not become %d within %d ms", p, key,
                                        want, timeout_ms);
                /* cgroup.events raises POLLPRI on change; poll at most 50 ms
                 * at a time in case a change slips between read and poll. */
                struct pollfd pfd = {.fd = fd, .events = POLLPRI};
                poll(&pfd, 1, left < 50 ? (int)left : 50);
        }
}

int cg_freeze(const char *dir, bool frozen, herr_t *err)
{
        char p[PATH_MAX];
        if (cg_path(p, dir, "cgroup.freeze", err) < 0)
                return -1;
        if (write_file_str(p, frozen ? "1" : "0", err) < 0)
                return herr_prefix(err, "%s", frozen ? "freeze" : "thaw");
        if (cg_wait_event(dir, "frozen", frozen ? 1 : 0, 5000, err) < 0)
                return herr_prefix(err, "%s", frozen ? "freeze" : "thaw");
        return 0;
}

int cg_signal_all(const char *dir, int sig, herr_t *err)
{
        if (sig == SIGKILL) {
                char p[PATH_MAX];
                if (cg_path(p, dir, "cgroup.kill", err) < 0)
                        return -1;
                if (access(p, F_OK) == 0)
                        return write_file_str(p, "1", err);
        }
        _cleanup_free_ pid_t *pids = NULL;
        size_t n;
        if (cg_pids(dir, &pids, &n, err) < 0)
                return -1;
        for (size_t i = 0; i < n; i++)
                if (kill(pids[i], sig) < 0 && errno != ESRCH)
                        return herr_sys(err, "kill %d (signal %d)", (int)pids[i], sig);
        return 0;
}

/* rmdir the child cgroups of dir (created inside the container), deepest
 * first. */
static int remove_children(const char *dir, herr_t *err)
{
        _cleanup_closedir_ DIR *d = opendir(dir);
        if (!d)
                return errno == ENOENT ? 0 : herr_sys(err, "cgroup %s", dir);
        struct dirent *de;
        while ((de = readdir(d))) {
                if (de->d_type != DT_DIR || !strcmp(de->d_name, ".") || !strcmp(de->d_name, ".."))
                        continue;
                char sub[PATH_MAX];
                if (snprintf(sub, sizeof sub, "%s/%s", dir, de->d_name) >= (int)sizeof sub)
                        return herr_set(err, ENAMETOOLONG, "%s", dir);
                if (remove_children(sub, err) < 0)
                        return -1;
                if (rmdir(sub) < 0 && errno != ENOENT)
                        return herr_sys(err, "rmdir %s", sub);
        }
        return 0;
}

int cg_destroy(const char *dir, herr_t *err)
{
        struct stat st;
        if (stat(dir, &st) < 0)
                return errno == ENOENT ? 0 : herr_sys(err, "cgroup %s", dir);
        if (cg_signal_all(dir, SIGKILL, err) < 0)
                return herr_prefix(err, "destroying cgroup %s", dir);
        if (cg_wait_event(dir, "populated", 0, 5000, err) < 0)
                return herr_prefix(err, "destroying cgroup %s", dir);
        if (remove_children(dir, err) < 0)
                return herr_prefix(err, "destroying cgroup %s", dir);
        if (rmdir(dir) < 0 && errno != ENOENT)
                return herr_sys(err, "rmdir %s", dir);
        /* The default parent <own>/husk goes when its last container goes. */
        char parent[PATH_MAX];
        snprintf(parent, sizeof parent, "%s", dir);
        char *slash = strrchr(parent, '/');
        if (slash) {
                *slash = '\0';
                const char *base = strrchr(parent, '/');
                if (base && !strcmp(base, "/husk"))
                        rmdir(parent);   /* fails harmlessly while not empty */
        }
        return 0;
}

static pid_t fork_and_enter(int cgroup_fd, herr_t *err)
{
        int pfd[2];
        if (pipe2(pfd, O_CLOEXEC) < 0)
                return herr_sys(err, "pipe");
        pid_t pid = fork();
        if (pid < 0) {
                herr_sys(err, "fork");
                close(pfd[0]);
                close(pfd[1]);
                return -1;
        }
        if (pid == 0) {
                char c;
                close(pfd[1]);
                /* Wait until the parent moved us; EOF without a byte = failure. */
                if (read(pfd[0], &c, 1) != 1)
                        _exit(127);
                close(pfd[0]);
                return 0;
        }
        close(pfd[0]);
        char v[32];
        snprintf(v, sizeof v, "%d", (int)pid);
        _cleanup_close_ int fd = openat(cgroup_fd, "cgroup.procs", O_WRONLY | O_CLOEXEC);
        if (fd < 0 || write_all(fd, v, strlen(v)) < 0) {
                herr_sys(err, "moving pid %d into cgroup", (int)pid);
                close(pfd[1]);
                kill(pid, SIGKILL);
                waitpid(pid, NULL, 0);
                return -1;
        }
        if (write(pfd[1], "x", 1) != 1) {
                herr_sys(err, "starting child");
                close(pfd[1]);
                kill(pid, SIGKILL);
                waitpid(pid, NULL, 0);
                return -1;
        }
        close(pfd[1]);
        return pid;
}

pid_t cg_clone_into(int cgroup_fd, herr_t *err)
{
#ifdef SYS_clone3
        const char *no = getenv("HUSK_CGROUP_NO_CLONE3");
        if (no && !strcmp(no, "1"))
                return fork_and_enter(cgroup_fd, err);
        struct clone_args args = {
                .flags = CLONE_INTO_CGROUP,
                .exit_signal = SIGCHLD,
                .cgroup = (uint64_t)cgroup_fd,
        };
        long r = syscall(SYS_clone3, &args, sizeof args);
        if (r >= 0)
                return (pid_t)r;
        if (errno != ENOSYS && errno != E2BIG && errno != EINVAL)
                return herr_sys(err, "clone3 into cgroup");
#endif
        return fork_and_enter(cgroup_fd, err);
}
