/* VM mode: notice at once when QEMU or virtiofsd dies.
 *
 * Both are children of the caller (the container's monitor). One epoll fd
 * holds a pidfd of each; it polls readable when either exits, so the boot
 * wait, the wait for start and the stdio relay each watch one more fd.
 * virtiofsd gone means the guest lost its root filesystem: its process
 * would hang on the next file access, so QEMU is stopped as well and the
 * reason names virtiofsd. */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include "../common/cleanup.h"
#include "internal.h"

/* The pidfd stays open in *slot as long as the epoll fd watches it. */
static void watch_pid(int ep, pid_t pid, int *slot)
{
        if (pid <= 0)
                return;
        int pfd = (int)syscall(SYS_pidfd_open, pid, 0);
        if (pfd < 0)
                return;
        struct epoll_event ev = { .events = EPOLLIN, .data.fd = pfd };
        if (epoll_ctl(ep, EPOLL_CTL_ADD, pfd, &ev) < 0) {
                close(pfd);
                return;
        }
        *slot = pfd;
}

int vm_watch_open(struct vm *vm)
{
        vm->watch_fd = epoll_create1(EPOLL_CLOEXEC);
        if (vm->watch_fd < 0)
                return -1;
        watch_pid(vm->watch_fd, vm->qemu_pid, &vm->watch_pidfd[0]);
        watch_pid(vm->watch_fd, vm->virtiofsd_pid, &vm->watch_pidfd[1]);
        return 0;
}

void vm_watch_close(struct vm *vm)
{
        for (int i = 0; i < 2; i++) {
                if (vm->watch_pidfd[i] >= 0)
                        close(vm->watch_pidfd[i]);
                vm->watch_pidfd[i] = -1;
        }
        if (vm->watch_fd >= 0)
                close(vm->watch_fd);
        vm->watch_fd = -1;
}

int vm_watch_fd(const struct vm *vm)
{
        return vm->watch_fd;
}

/* Who is to blame when both are gone: virtiofsd exits by itself once QEMU
 * closes its connection, never by a signal; a virtiofsd killed by a signal,
 * or gone while QEMU goes on running, is the cause. */
int vm_daemons_check(struct vm *vm, const char *what, herr_t *err)
{
        int st = 0, vst = 0;
        bool vfs_gone = false;
        if (vm->qemu_pid > 0 && waitpid(vm->qemu_pid, &st, WNOHANG) == vm->qemu_pid) {
                vm->qemu_pid = -1;
                vm->qemu_status = st;
        }
        if (vm->virtiofsd_pid > 0 && waitpid(vm->virtiofsd_pid, &vst, WNOHANG) == vm->virtiofsd_pid) {
                vm->virtiofsd_pid = 0;
                vfs_gone = true;
        }
        /* QEMU being killed closes virtiofsd's connection before it can be
         * reaped: give it a moment to show it was first. */
        if (vfs_gone && !WIFSIGNALED(vst) && vm->qemu_pid > 0 && vm_reap(vm->qemu_pid, 1000, &st)) {
                vm->qemu_pid = -1;
                vm->qemu_status = st;
        }
        if (vfs_gone && (vm->qemu_pid > 0 || WIFSIGNALED(vst))) {
                char how[64], tail[300];
                vm_describe_status(vst, how, sizeof(how));
                if (vm->qemu_pid > 0) {
                        kill(vm->qemu_pid, SIGKILL);
                        (void)vm_reap(vm->qemu_pid, -1, &vm->qemu_status);
                        vm->qemu_pid = -1;
                }
                vm_console_tail(vm, tail, sizeof(tail));
                char vlog[300] = ""; /* what virtiofsd said when it gave up by itself */
                _cleanup_free_ char *log = NULL;
                if (!WIFSIGNALED(vst) && vm->run_dir && asprintf(&log, "%s/virtiofsd.log", vm->run_dir) > 0)
                        vm_file_tail(log, vlog, sizeof(vlog));
                return herr_set(err, 0, "%s: virtiofsd (the share of the root filesystem %s) %s%s%s, "
                                "so QEMU was stopped%s%s%s", what, vm->share_dir ? vm->share_dir : "",
                                how, vlog[0] ? ": " : "", vlog, tail[0] ? " (console: " : "", tail,
                                tail[0] ? ")" : "");
        }
        if (vm->qemu_pid < 0)
                return vm_gone(vm, what, err);
        return 0;
}

bool vm_console_panic(const struct vm *vm, char *buf, size_t len)
{
        static const char mark[] = "Kernel panic - not syncing: ";
        char tail[16384];
        int fd = vm->console_path ? open(vm->console_path, O_RDONLY | O_CLOEXEC) : -1;
        if (fd < 0 || len == 0)
                return fd >= 0 ? (close(fd), false) : false;
        off_t end = lseek(fd, 0, SEEK_END);
        off_t start = end > (off_t)sizeof(tail) - 1 ? end - (off_t)sizeof(tail) + 1 : 0;
        ssize_t n = pread(fd, tail, sizeof(tail) - 1, start);
        close(fd);
        tail[n > 0 ? n : 0] = '\0';
        char *p = NULL;
        for (char *q = tail; (q = strstr(q, mark)); q += sizeof(mark) - 1)
                p = q + sizeof(mark) - 1;
        if (!p)
                return false;
        p[strcspn(p, "\r\n")] = '\0';
        snprintf(buf, len, "%s", p);
        return true;
}
