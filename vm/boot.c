/* VM mode: boot QEMU with husk's initramfs and wait for the agent. */
#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <limits.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "../common/cleanup.h"
#include "../common/fileutil.h"
#include "../runtime/fault.h"
#include "internal.h"

#define VIRTIOFSD "/usr/lib/qemu/virtiofsd"

static const char *data_dir(const struct vm_opts *o)
{
        const char *e = getenv("HUSK_DATA_DIR");
        return o->data_dir ? o->data_dir : e && *e ? e : "/var/lib/husk";
}

/* $HUSK_VM_AGENT, else next to the running program: <exe dir>/husk-agent,
 * <exe dir>/build/vm/husk-agent (./husk in the source tree),
 * <exe dir>/../libexec/husk/husk-agent, else HUSK_AGENT_DEFAULT. */
static char *find_agent(const struct vm_opts *o)
{
        const char *env = getenv("HUSK_VM_AGENT");
        if (o->agent || (env && *env))
                return strdup(o->agent ? o->agent : env);
        char exe[PATH_MAX];
        ssize_t n = readlink("/proc/self/exe", exe, sizeof(exe) - 1);
        if (n > 0) {
                exe[n] = 0;
                char *dir = dirname(exe);
                static const char *const rel[] = { "husk-agent", "build/vm/husk-agent",
                                                   "../libexec/husk/husk-agent" };
                for (size_t i = 0; i < ARRAY_SIZE(rel); i++) {
                        char *p = NULL;
                        if (asprintf(&p, "%s/%s", dir, rel[i]) < 0)
                                return NULL;
                        if (access(p, X_OK) == 0)
                                return p;
                        free(p);
                }
        }
        return strdup(HUSK_AGENT_DEFAULT);
}

/* kernel = <dir>/vmlinux with modules in <dir>/lib/modules/<basename(realpath(dir))> */
static int resolve_initrd(struct vm *vm, const struct vm_opts *o, herr_t *err)
{
        if (o->initrd)
                return (vm->initrd = strdup(o->initrd)) ? 0 : herr_set(err, ENOMEM, "initrd");
        _cleanup_free_ char *agent = find_agent(o), *kdir = NULL, *mods = NULL, *cache = NULL;
        char real[PATH_MAX];
        if (!agent || !(kdir = strdup(vm->kernel)))
                return herr_set(err, ENOMEM, "kernel");
        if (!realpath(dirname(kdir), real))
                return herr_sys(err, "kernel directory of %s", vm->kernel);
        if (asprintf(&mods, "%s/lib/modules/%s", real, strrchr(real, '/') + 1) < 0 ||
            asprintf(&cache, "%s/initramfs", data_dir(o)) < 0)
                return herr_set(err, ENOMEM, "initrd");
        return vm_initramfs_get_with(agent, o->guest_husk, mods, cache, &vm->initrd, err);
}

static int resolve_paths(struct vm *vm, const struct vm_opts *o, herr_t *err)
{
        if (o->kernel)
                vm->kernel = strdup(o->kernel);
        else if (asprintf(&vm->kernel, "%s/kernel/current/vmlinux", data_dir(o)) < 0)
                vm->kernel = NULL;
        if (!vm->kernel)
                return herr_set(err, ENOMEM, "kernel");
        if (access(vm->kernel, R_OK) < 0)
                return herr_sys(err, "VM kernel %s (run `make vm-kernel`)", vm->kernel);
        if (resolve_initrd(vm, o, err) < 0)
                return -1;
        if (o->run_dir)
                vm->run_dir = strdup(o->run_dir);
        else if (vm_run_dir_make(&vm->run_dir, err) < 0)
                return -1;
        const char *d = vm->run_dir;
        if (!d || asprintf(&vm->ctl_path, "%s/ctl.sock", d) < 0 ||
            asprintf(&vm->console_path, "%s/console.log", d) < 0 ||
            asprintf(&vm->qemu_log, "%s/qemu.log", d) < 0 ||
            asprintf(&vm->vfs_path, "%s/virtiofs.sock", d) < 0)
                return herr_set(err, ENOMEM, "VM paths");
        return 0;
}

int vm_run_dir_make(char **out, herr_t *err)
{
        const char *tmp = getenv("TMPDIR");
        if (!tmp || tmp[0] != '/')
                tmp = "/tmp";
        if (asprintf(out, "%s/" VM_RUN_DIR_PREFIX "XXXXXX", tmp) < 0) {
                *out = NULL;
                return herr_set(err, ENOMEM, "VM run directory");
        }
        if (!mkdtemp(*out)) {
                herr_sys(err, "VM run directory %s", *out);
                free(*out);
                *out = NULL;
                return -1;
        }
        return 0;
}

static void resolve_share_accel(struct vm *vm, const struct vm_opts *o)
{
        vm->share = o->share_kind;
        if (!o->share_dir)
                vm->share = VM_SHARE_NONE;
        else if (vm->share == VM_SHARE_AUTO)
                vm->share = access(VIRTIOFSD, X_OK) == 0 ? VM_SHARE_VIRTIOFS : VM_SHARE_9P;
        vm->accel = o->accel;
        if (o->accel == VM_ACCEL_AUTO)
                vm->accel = vm_kvm_usable(vm->accel_reason, sizeof(vm->accel_reason))
                                    ? VM_ACCEL_KVM : VM_ACCEL_TCG;
        else
                snprintf(vm->accel_reason, sizeof(vm->accel_reason), "%s requested",
                         o->accel == VM_ACCEL_KVM ? "KVM" : "TCG");
}

static int listen_ctl(struct vm *vm, herr_t *err)
{
        struct sockaddr_un a = { .sun_family = AF_UNIX };
        if (strlen(vm->ctl_path) >= sizeof(a.sun_path))
                return herr_set(err, ENAMETOOLONG, "control socket %s", vm->ctl_path);
        strcpy(a.sun_path, vm->ctl_path);
        vm->listen_fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
        if (vm->listen_fd < 0 || bind(vm->listen_fd, (struct sockaddr *)&a, sizeof(a)) < 0 ||
            listen(vm->listen_fd, 1) < 0)
                return herr_sys(err, "control socket %s", vm->ctl_path);
        return 0;
}

static long now_ms(void)
{
        struct timespec t;
        clock_gettime(CLOCK_MONOTONIC, &t);
        return t.tv_sec * 1000 + t.tv_nsec / 1000000;
}

/* husk listens on the vhost-user socket itself and hands it to virtiofsd
 * (--fd): QEMU can start at once, its connection waits in the backlog
 * until virtiofsd accepts it (instead of polling for virtiofsd's socket). */
static int start_virtiofsd(struct vm *vm, herr_t *err)
{
        _cleanup_free_ char *fdarg = NULL, *src = NULL, *log = NULL;
        struct sockaddr_un a = { .sun_family = AF_UNIX };
        if (strlen(vm->vfs_path) >= sizeof(a.sun_path))
                return herr_set(err, ENAMETOOLONG, "virtiofs socket %s", vm->vfs_path);
        strcpy(a.sun_path, vm->vfs_path);
        /* not close-on-exec: virtiofsd inherits it (closed here after the fork) */
        _cleanup_close_ int fd = socket(AF_UNIX, SOCK_STREAM, 0);
        if (fd < 0 || bind(fd, (struct sockaddr *)&a, sizeof(a)) < 0 || listen(fd, 1) < 0)
                return herr_sys(err, "virtiofs socket %s", vm->vfs_path);
        if (asprintf(&fdarg, "--fd=%d", fd) < 0 || asprintf(&log, "%s/virtiofsd.log", vm->run_dir) < 0 ||
            asprintf(&src, "source=%s", vm->share_dir) < 0)
                return herr_set(err, ENOMEM, "virtiofsd");
        char *argv[] = { VIRTIOFSD, fdarg, "-o", src, "-o", "cache=auto", "-o",
                         "sandbox=namespace", NULL };
        return vm_spawn(argv, log, NULL, vm->die_with_parent, &vm->virtiofsd_pid, err);
}

/* Accept QEMU's connection, then wait for READY; both bounded by deadline. */
static int wait_ready(struct vm *vm, long deadline, herr_t *err)
{
        for (;;) {
                int fd = vm->ctl_fd >= 0 ? vm->ctl_fd : vm->listen_fd;
                struct pollfd p = { .fd = fd, .events = POLLIN };
                long left = deadline - now_ms();
                if (left <= 0)
                        return herr_set(err, ETIMEDOUT, "VM boot: no READY from the agent");
                struct pollfd pw[2] = { p, { .fd = vm->watch_fd, .events = POLLIN } };
                int r = poll(pw, 2, left < 100 ? (int)left : 100);
                if (r < 0 && errno != EINTR)
                        return herr_sys(err, "VM boot: poll");
                if (r <= 0 || !pw[0].revents) {
                        if (vm_daemons_check(vm, "VM boot", err) < 0)
                                return -1;
                        continue;
                }
                if (vm->ctl_fd < 0) {
                        vm->ctl_fd = accept4(vm->listen_fd, NULL, NULL, SOCK_CLOEXEC);
                        if (vm->ctl_fd < 0)
                                return herr_sys(err, "VM boot: accept control channel");
                        continue;
                }
                struct frame f;
                size_t used;
                ssize_t n = read(vm->ctl_fd, vm->rbuf + vm->rlen, sizeof(vm->rbuf) - vm->rlen);
                if (n <= 0) {
                        /* QEMU's end closes the channel: let it be reaped
                         * first, so its status (or virtiofsd's) is the reason */
                        if (vm->qemu_pid > 0 && vm_reap(vm->qemu_pid, 2000, &vm->qemu_status))
                                vm->qemu_pid = -1;
                        if (vm_daemons_check(vm, "VM boot", err) < 0)
                                return -1;
                        return vm_gone(vm, "VM boot: control channel closed", err);
                }
                vm->rlen += (size_t)n;
                r = proto_parse(vm->rbuf, vm->rlen, &f, &used);
                if (r < 0)
                        return herr_set(err, EPROTO, "VM boot: malformed frame from the agent");
                if (r == 1 && f.type == PROTO_ERROR)
                        return herr_set(err, 0, "VM agent: %.*s", (int)f.len, f.data);
                if (r == 1) {
                        memmove(vm->rbuf, vm->rbuf + used, vm->rlen - used);
                        vm->rlen -= used;
                        if (f.type == PROTO_READY)
                                return 0;
                }
        }
}

/* In QEMU's child before exec: its resource limits (no core dump of guest
 * memory, a few fds: it opens what its devices need at start); with 9p it
 * serves the bind sources itself, staged in its mount namespace. */
static void qemu_prep(const struct vm *vm)
{
        struct rlimit nofile = { VM_QEMU_NOFILE, VM_QEMU_NOFILE };
        if (setrlimit(RLIMIT_NOFILE, &nofile) < 0)
                _exit(127);
        if (vm->n_binds && vm->share == VM_SHARE_9P)
                vm_binds_stage(vm);
}

int vm_start(const struct vm_opts *o, struct vm **out, herr_t *err)
{
        struct vm *vm = calloc(1, sizeof(*vm));
        _cleanup_strv_ char **argv = NULL;
        if (!vm)
                return herr_set(err, ENOMEM, "vm");
        vm->listen_fd = vm->ctl_fd = vm->watch_fd = vm->watch_pidfd[0] = vm->watch_pidfd[1] = -1;
        vm->die_with_parent = o->die_with_parent;
        if (o->share_dir && !(vm->share_dir = strdup(o->share_dir)))
                goto oom;
        if (resolve_paths(vm, o, err) < 0)
                goto fail;
        resolve_share_accel(vm, o);
        if (vm->accel == VM_ACCEL_TCG)
                vm->tsc_khz = vm_host_tsc_khz_cached(data_dir(o));
        if (vm_binds_init(vm, o, err) < 0 || listen_ctl(vm, err) < 0 ||
            (vm->share == VM_SHARE_VIRTIOFS && start_virtiofsd(vm, err) < 0) ||
            (vm->n_binds && vm->share == VM_SHARE_VIRTIOFS && vm_binds_start(vm, err) < 0) ||
            vm_qemu_argv(vm, o, &argv, err) < 0)
                goto fail;
        /* The tap goes to QEMU alone (not to the virtiofsd's, spawned before). */
        if (o->net && fcntl(o->net_fd, F_SETFD, 0) < 0) {
                herr_sys(err, "VM network: tap fd %d", o->net_fd);
                goto fail;
        }
        int spawned = vm_spawn_prep(argv, vm->qemu_log, o->cgroup_procs, o->die_with_parent, qemu_prep, vm,
                                    &vm->qemu_pid, err);
        if (o->net)
                (void)fcntl(o->net_fd, F_SETFD, FD_CLOEXEC);
        if (spawned < 0)
                goto fail;
        (void)vm_watch_open(vm);
        HUSK_FAULT_POINT("vm.boot.after-qemu");
        if (wait_ready(vm, now_ms() + (o->boot_timeout_ms ? o->boot_timeout_ms : 60000), err) < 0)
                goto fail;
        *out = vm;
        return 0;
oom:
        herr_set(err, ENOMEM, "vm");
fail:
        vm_free(vm);
        return -1;
}

pid_t vm_qemu_pid(const struct vm *vm)
{
        return vm->qemu_pid;
}

const char *vm_accel_notice(const struct vm *vm)
{
        return vm->accel_reason;
}

int vm_wait(struct vm *vm, unsigned timeout_ms, herr_t *err)
{
        int st;
        if (vm->qemu_pid > 0) {
                if (!vm_reap(vm->qemu_pid, (int)timeout_ms, &st)) {
                        kill(vm->qemu_pid, SIGKILL);
                        vm_reap(vm->qemu_pid, -1, &st);
                        vm->qemu_pid = -1;
                        return herr_set(err, ETIMEDOUT, "QEMU did not power off in %u ms, killed",
                                        timeout_ms);
                }
                vm->qemu_pid = -1;
                vm->qemu_status = st;
        }
        if (vm->virtiofsd_pid > 0 && !vm_reap(vm->virtiofsd_pid, 1000, &st)) {
                kill(vm->virtiofsd_pid, SIGKILL);
                vm_reap(vm->virtiofsd_pid, -1, &st);
        }
        vm->virtiofsd_pid = 0;
        vm_binds_stop(vm, 1000);
        return 0;
}

void vm_free(struct vm *vm)
{
        if (!vm)
                return;
        int st;
        if (vm->qemu_pid > 0) {
                kill(vm->qemu_pid, SIGKILL);
                vm_reap(vm->qemu_pid, -1, &st);
        }
        if (vm->virtiofsd_pid > 0) {
                kill(vm->virtiofsd_pid, SIGKILL);
                vm_reap(vm->virtiofsd_pid, -1, &st);
        }
        vm_watch_close(vm);
        vm_binds_free(vm);
        if (vm->ctl_fd >= 0)
                close(vm->ctl_fd);
        if (vm->listen_fd >= 0)
                close(vm->listen_fd);
        if (vm->run_dir && !getenv("HUSK_VM_KEEP")) {
                herr_t e;
                (void)remove_tree(vm->run_dir, &e);
        }
        free(vm->run_dir);
        free(vm->ctl_path);
        free(vm->console_path);
        free(vm->qemu_log);
        free(vm->vfs_path);
        free(vm->kernel);
        free(vm->initrd);
        free(vm->share_dir);
        free(vm);
}

int vm_run(const struct vm_opts *o, const struct vm_process *p, int *exit_status, herr_t *err)
{
        struct vm *vm;
        if (vm_start(o, &vm, err) < 0)
                return -1;
        int r = vm_exec(vm, p, exit_status, err);
        if (r == 0)
                r = vm_wait(vm, 10000, err);
        vm_free(vm);
        return r;
}
