/* VM mode in the container lifecycle: create forks a monitor that boots
 * the VM (vm_start) in the container's cgroup and then behaves like the
 * native init towards the rest of husk:
 *   - its pid (and start time) is the container's pid in state.json;
 *   - it listens on start.sock: SYNC_START runs the OCI process in the
 *     guest (vm_exec); the connection is closed once the process is sent;
 *   - signals sent to it are forwarded to the guest process;
 *   - it exits with the process's status (code, or 128+signal) after the
 *     agent's exit was acknowledged and QEMU powered off, writing the
 *     reason to <state dir>/vm-exit; a QEMU or agent crash ends it too,
 *     with the cause in vm-exit and on its stderr.
 * Sync points between create (parent) and monitor (child):
 *   1. the monitor reports "R" (VM booted, agent READY) or "E<message>"
 *      over a pipe; create then saves state.json and the pid file. */
#include "vm_mode.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <libgen.h>
#include <malloc.h>
#include <poll.h>
#include <pty.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/ioctl.h>
#include <sys/prctl.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <termios.h>
#include <time.h>
#include <unistd.h>

#include "../cgroups/cgroups.h"
#include "../common/cleanup.h"
#include "../common/fileutil.h"
#include "../vm/internal.h"
#include "../vm/vm.h"
#include "hooks.h"
#include "log.h"
#include "selfexe.h"
#include "sync.h"
#include "terminal.h"
#include "vm_binds.h"
#include "vm_exec.h"
#include "network.h"
#include "vm_net.h"


bool vm_mode_guest;

bool vm_mode_wanted(const struct oci_config *cfg, bool flag)
{
        if (vm_mode_guest)
                return false;
        if (flag || cfg->vm)
                return true;
        for (size_t i = 0; i < cfg->n_annotations; i++)
                if (!strcmp(cfg->annotations[i].key, "run.oci.handler") &&
                    !strcmp(cfg->annotations[i].value, "vm"))
                        return true;
        return false;
}

static char *find_agent(void)
{
        const char *env = getenv("HUSK_VM_AGENT");
        return env && *env ? NULL : selfexe_companion("husk-agent", "vm");
}

/* The static husk for the guest: $HUSK_VM_GUEST ("none": do without), else
 * husk-guest next to husk. Without it the agent runs the process itself
 * in a chroot of the rootfs (args, env, cwd, uid/gid, terminal only). */
static char *find_guest(void)
{
        const char *env = getenv("HUSK_VM_GUEST");
        if (env && *env)
                return strcmp(env, "none") ? strdup(env) : NULL;
        return selfexe_companion("husk-guest", "vm");
}

/* ------------------------------------------------------------ VM sizing */

#define MIN_VM_MEM (128ull << 20) /* 64 MiB does not boot */
/* Guest kernel + agent + husk on top of the container's memory limit (the
 * limit itself is memory.max of the container's cgroup in the guest). */
#define VM_MEM_OVERHEAD (64ull << 20)

static void vm_size(const struct oci_config *cfg, struct vm_opts *vo);

void vm_mode_size(const struct oci_config *cfg, uint64_t *mem_bytes, unsigned *vcpus)
{
        struct vm_opts vo = { 0 };
        vm_size(cfg, &vo);
        *mem_bytes = vo.mem_bytes;
        *vcpus = vo.vcpus;
}

/* vm.hwConfig first; else linux.resources memory limit (+ overhead) and CPU quota. */
static void vm_size(const struct oci_config *cfg, struct vm_opts *vo)
{
        const struct oci_resources *res = cfg->linux_ ? cfg->linux_->resources : NULL;
        if (cfg->vm && cfg->vm->hw_memory.set)
                vo->mem_bytes = cfg->vm->hw_memory.v;
        else if (res && res->memory && res->memory->limit.set && res->memory->limit.v > 0)
                vo->mem_bytes = (uint64_t)res->memory->limit.v + VM_MEM_OVERHEAD;
        if (vo->mem_bytes && vo->mem_bytes < MIN_VM_MEM)
                vo->mem_bytes = MIN_VM_MEM;
        if (cfg->vm && cfg->vm->hw_vcpus.set)
                vo->vcpus = (unsigned)cfg->vm->hw_vcpus.v;
        else if (res && res->cpu && res->cpu->quota.set && res->cpu->quota.v > 0) {
                uint64_t period = res->cpu->period.set && res->cpu->period.v ? res->cpu->period.v : 100000;
                vo->vcpus = (unsigned)(((uint64_t)res->cpu->quota.v + period - 1) / period);
        }
        long ncpu = sysconf(_SC_NPROCESSORS_ONLN);
        if (vo->vcpus > 0 && ncpu > 0 && vo->vcpus > (unsigned)ncpu)
                vo->vcpus = (unsigned)ncpu;
}

/* vm.hypervisor.parameters (vm/qemu.c already turns QEMU's own seccomp
 * sandbox on). */
static char **qemu_extra(const struct oci_config *cfg)
{
        size_t n = cfg->vm ? cfg->vm->n_hypervisor_parameters : 0;
        char **v = calloc(n + 1, sizeof(*v));
        for (size_t i = 0; v && i < n; i++)
                v[i] = cfg->vm->hypervisor_parameters[i];
        return v;
}

static char *join(char **v, size_t n)
{
        size_t len = 1;
        for (size_t i = 0; i < n; i++)
                len += strlen(v[i]) + 1;
        char *s = calloc(1, len);
        for (size_t i = 0; s && i < n; i++) {
                if (i)
                        strcat(s, " ");
                strcat(s, v[i]);
        }
        return s;
}

/* ---------------------------------------------------------- the monitor */

struct monitor {
        const struct create_opts *o;
        struct oci_config *cfg;
        const char *rootfs;
        int statefd;   /* the state dir, a new open file (not the locked one) */
        int start_fd;  /* listening start.sock */
        int ready_fd;  /* pipe to create */
        int tty_slave; /* host pty for process.terminal, or -1 */
        int sfd;       /* signalfd */
        int exec_fd;   /* exec.sock: sessions (husk exec, ps, kill --all) while the process runs */
        struct vm *vm;
        char *guest;   /* the static husk in the initramfs, or NULL */
        const struct vm_bind_plan *binds; /* host paths of bind mounts */
        int start_conn; /* husk start, until the guest reports the start */
        char *start_error; /* why the guest could not start the container */
        struct vm_net *net; /* the tap (closed once QEMU has it), the guest's text */
};

static void write_reason(struct monitor *m, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void write_reason(struct monitor *m, const char *fmt, ...)
{
        char buf[2048];
        va_list ap;
        va_start(ap, fmt);
        int n = vsnprintf(buf, sizeof(buf), fmt, ap);
        va_end(ap);
        if (n < 0)
                return;
        if ((size_t)n >= sizeof(buf))
                n = sizeof(buf) - 1;
        int fd = openat(m->statefd, VM_STATE_REASON, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOFOLLOW, 0600);
        if (fd >= 0) {
                (void)write_all(fd, buf, (size_t)n);
                (void)write_all(fd, "\n", 1);
                close(fd);
        }
}

static const char *data_dir(void)
{
        const char *env = getenv("HUSK_DATA_DIR");
        return env && *env ? env : "/var/lib/husk";
}

/* Tell the user (once per data dir and reason) which accelerator runs the
 * VM and why. */
static void accel_notice(const char *reason)
{
        char path[PATH_MAX], old[256] = "";
        snprintf(path, sizeof(path), "%s/accel-notice", data_dir());
        int fd = open(path, O_RDONLY | O_CLOEXEC);
        if (fd >= 0) {
                ssize_t n = read(fd, old, sizeof(old) - 1);
                old[n > 0 ? n : 0] = '\0';
                close(fd);
        }
        if (!strcmp(old, reason))
                return;
        log_msg(LOG_LEVEL_INFO, "VM mode: %s", reason);
        herr_t e = { 0 };
        (void)write_file_atomic(path, reason, strlen(reason), 0644, &e);
}

/* The KVM probe (~70 ms) gives the same answer until the host reboots:
 * cached per boot id in <data dir>/kvm-probe ("boot id\nKVM|TCG\nreason"). */
static enum vm_accel probe_accel(char *reason, size_t len)
{
        char boot_id[64] = "", path[PATH_MAX], buf[512] = "";
        int fd = open("/proc/sys/kernel/random/boot_id", O_RDONLY | O_CLOEXEC);
        if (fd >= 0) {
                ssize_t n = read(fd, boot_id, sizeof(boot_id) - 1);
                boot_id[n > 0 ? n : 0] = '\0';
                boot_id[strcspn(boot_id, "\n")] = '\0';
                close(fd);
        }
        snprintf(path, sizeof(path), "%s/kvm-probe", data_dir());
        fd = open(path, O_RDONLY | O_CLOEXEC);
        if (fd >= 0) {
                ssize_t n = read(fd, buf, sizeof(buf) - 1);
                buf[n > 0 ? n : 0] = '\0';
                close(fd);
        }
        char *nl = strchr(buf, '\n'), *nl2 = nl ? strchr(nl + 1, '\n') : NULL;
        if (boot_id[0] && nl2 && (size_t)(nl - buf) == strlen(boot_id) && !strncmp(buf, boot_id, strlen(boot_id)) &&
            (!strncmp(nl + 1, "KVM\n", 4) || !strncmp(nl + 1, "TCG\n", 4))) {
                snprintf(reason, len, "%s", nl2 + 1);
                return nl[1] == 'K' ? VM_ACCEL_KVM : VM_ACCEL_TCG;
        }
        bool kvm = vm_kvm_usable(reason, len);
        char rec[512];
        int n = snprintf(rec, sizeof(rec), "%s\n%s\n%s", boot_id, kvm ? "KVM" : "TCG", reason);
        herr_t e = { 0 };
        if (boot_id[0] && n > 0 && (size_t)n < sizeof(rec))
                (void)write_file_atomic(path, rec, (size_t)n, 0644, &e);
        return kvm ? VM_ACCEL_KVM : VM_ACCEL_TCG;
}

/* Finding the modules (a walk of the kernel's module tree) and hashing the
 * initramfs inputs costs 100-300 ms a boot. The last result is kept in
 * <data dir>/initramfs/last: a key of the inputs' paths, sizes, mtimes and
 * inodes, then the cpio's path. */
static void file_key(FILE *f, const char *what, const char *path)
{
        struct stat sb;
        char real[PATH_MAX];
        if (!path || !realpath(path, real) || stat(real, &sb) < 0) {
                fprintf(f, "%s=?\n", what);
                return;
        }
        fprintf(f, "%s=%s:%lld:%lld.%09ld:%llu\n", what, real, (long long)sb.st_size, (long long)sb.st_mtim.tv_sec,
                sb.st_mtim.tv_nsec, (unsigned long long)sb.st_ino);
}

static char *initrd_key(const char *kernel, const char *agent, const char *guest)
{
        char *key = NULL, kdir[PATH_MAX];
        size_t len = 0;
        FILE *f = open_memstream(&key, &len);
        if (!f)
                return NULL;
        fprintf(f, "format=%s\n", VM_INITRAMFS_FORMAT);
        const char *env = getenv("HUSK_VM_AGENT");
        char def_kernel[PATH_MAX];
        snprintf(def_kernel, sizeof(def_kernel), "%s/kernel/current/vmlinux", data_dir());
        file_key(f, "kernel", kernel ? kernel : def_kernel);
        if (realpath(kernel ? kernel : def_kernel, kdir)) {
                char *slash = strrchr(kdir, '/');
                if (slash) {
                        strcpy(slash, "/lib/modules");
                        file_key(f, "modules", kdir);
                }
        }
        file_key(f, "agent", agent ? agent : env && *env ? env : HUSK_AGENT_DEFAULT);
        file_key(f, "guest", guest);
        return fclose(f) == 0 ? key : (free(key), NULL);
}

static char *initrd_cached(const char *key)
{
        char path[PATH_MAX];
        snprintf(path, sizeof(path), "%s/initramfs/last", data_dir());
        _cleanup_free_ char *data = NULL;
        size_t len;
        herr_t e = { 0 };
        if (!key || read_file(path, 16384, &data, &len, &e) < 0)
                return NULL;
        size_t kl = strlen(key);
        if (len <= kl || memcmp(data, key, kl) != 0)
                return NULL;
        char *initrd = data + kl;
        initrd[strcspn(initrd, "\n")] = '\0';
        return access(initrd, R_OK) == 0 ? strdup(initrd) : NULL;
}

static void initrd_remember(const char *key, const char *initrd)
{
        char path[PATH_MAX];
        snprintf(path, sizeof(path), "%s/initramfs/last", data_dir());
        _cleanup_free_ char *rec = NULL;
        herr_t e = { 0 };
        if (key && initrd && asprintf(&rec, "%s%s\n", key, initrd) > 0)
                (void)write_file_atomic(path, rec, strlen(rec), 0644, &e);
}

static int boot(struct monitor *m, herr_t *err)
{
        const struct oci_config *cfg = m->cfg;
        const struct oci_vm *v = cfg->vm;
        _cleanup_free_ char *agent = find_agent(), *cmdline = NULL;
        _cleanup_free_ char **extra = qemu_extra(cfg);
        if (!extra)
                return herr_set(err, ENOMEM, "VM options");
        struct vm_opts vo = {
                .qemu = v && v->hypervisor_path ? v->hypervisor_path : NULL,
                .qemu_extra = extra,
                .kernel = v && v->kernel_path ? v->kernel_path : NULL,
                .initrd = v && v->kernel_initrd ? v->kernel_initrd : NULL,
                .agent = agent,
                .share_dir = m->rootfs,
                .share_ro = cfg->root->readonly && !m->guest,
                .die_with_parent = true,
                .guest_husk = m->guest,
                .net = m->net->tap_fd >= 0,
                .net_fd = m->net->tap_fd,
        };
        const char *share = getenv("HUSK_VM_SHARE"); /* testing: force 9p or virtiofs */
        if (share && !strcmp(share, "9p"))
                vo.share_kind = VM_SHARE_9P;
        else if (share && !strcmp(share, "virtiofs"))
                vo.share_kind = VM_SHARE_VIRTIOFS;
        if (m->guest) { /* husk in the guest binds them (runtime/vm_binds.c) */
                vo.binds = m->binds->binds;
                vo.n_binds = m->binds->n;
        } else if (m->binds->n) {
                husk_warn("VM mode: bind mounts of host paths are skipped without husk-guest");
        }
        memcpy(vo.net_mac, m->net->alloc.mac, sizeof(vo.net_mac));
        if (v && v->n_kernel_parameters) {
                cmdline = join(v->kernel_parameters, v->n_kernel_parameters);
                if (!cmdline)
                        return herr_set(err, ENOMEM, "vm.kernel.parameters");
                vo.extra_cmdline = cmdline;
        }
        if (vo.qemu && access(vo.qemu, X_OK) < 0)
                return herr_sys(err, "vm.hypervisor.path %s", vo.qemu);
        if (!vo.qemu) {
                _cleanup_free_ char *p = NULL;
                const char *path = getenv("PATH");
                bool found = false;
                _cleanup_free_ char *dirs = strdup(path ? path : "/usr/bin:/bin");
                for (char *s = NULL, *d = dirs ? strtok_r(dirs, ":", &s) : NULL; d && !found;
                     d = strtok_r(NULL, ":", &s)) {
                        free(p);
                        p = NULL;
                        found = asprintf(&p, "%s/qemu-system-x86_64", d) > 0 && access(p, X_OK) == 0;
                }
                if (!found)
                        return herr_set(err, ENOENT, "VM mode: qemu-system-x86_64 not found in PATH "
                                        "(apt-get install qemu-system-x86, or set vm.hypervisor.path)");
        }
        if (vo.kernel && access(vo.kernel, R_OK) < 0)
                return herr_sys(err, "vm.kernel.path %s", vo.kernel);
        if (vo.initrd && access(vo.initrd, R_OK) < 0)
                return herr_sys(err, "vm.kernel.initrd %s", vo.initrd);
        vm_size(cfg, &vo);
        _cleanup_free_ char *key = vo.initrd ? NULL : initrd_key(vo.kernel, agent, m->guest);
        _cleanup_free_ char *initrd = initrd_cached(key);
        if (initrd)
                vo.initrd = initrd;
        char reason[256];
        vo.accel = probe_accel(reason, sizeof(reason));
        /* Named in the state dir before anything runs in it: a crash of the
         * monitor at any point leaves delete (or create's undo) the path. */
        _cleanup_free_ char *run_dir = NULL;
        if (vm_run_dir_make(&run_dir, err) < 0)
                return herr_prefix(err, "VM mode");
        vo.run_dir = run_dir;
        int fd = openat(m->statefd, VM_STATE_RUNDIR, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOFOLLOW, 0600);
        if (fd < 0 || write_all(fd, run_dir, strlen(run_dir)) < 0) {
                herr_sys(err, "VM mode: %s in the state directory", VM_STATE_RUNDIR);
                if (fd >= 0)
                        close(fd);
                (void)rmdir(run_dir);
                return -1;
        }
        close(fd);
        if (vm_start(&vo, &m->vm, err) < 0)
                return herr_prefix(err, "VM mode");
        /* Hashing the initramfs inputs left ~50 MB of freed heap: give it
         * back, the monitor lives as long as the container. */
        (void)malloc_trim(0);
        accel_notice(reason);
        if (key && !initrd)
                initrd_remember(key, m->vm->initrd);
        return 0;
}

/* Created: wait for start (1), a signal (0: stop, *sig set), or QEMU's
 * death (-1 with err). */
static int wait_start(struct monitor *m, int *conn, int *sig, herr_t *err)
{
        for (;;) {
                struct pollfd p[3] = {
                        { .fd = m->start_fd, .events = POLLIN },
                        { .fd = m->sfd, .events = POLLIN },
                        { .fd = vm_watch_fd(m->vm), .events = POLLIN }, /* QEMU or virtiofsd died */
                };
                if (poll(p, 3, p[2].fd < 0 ? 1000 : -1) < 0) {
                        if (errno == EINTR)
                                continue;
                        return herr_sys(err, "VM monitor: poll");
                }
                if ((p[2].revents || p[2].fd < 0) && vm_daemons_check(m->vm, "VM stopped before start", err) < 0)
                        return -1;
                if (p[1].revents) {
                        struct signalfd_siginfo si;
                        if (read(m->sfd, &si, sizeof(si)) == sizeof(si) && si.ssi_signo != SIGWINCH &&
                            si.ssi_signo != SIGCHLD) {
                                *sig = (int)si.ssi_signo;
                                return 0;
                        }
                }
                if (p[0].revents) {
                        int c = accept4(m->start_fd, NULL, NULL, SOCK_CLOEXEC);
                        if (c < 0)
                                continue;
                        struct sync_msg msg;
                        if (sync_recv(c, &msg) == 0 && msg.type == SYNC_START) {
                                sync_msg_free(&msg);
                                *conn = c;
                                return 1;
                        }
                        close(c);
                }
        }
}

/* husk vm-guest reports on its fd 3 (PROTO_STATUS): "S" once the
 * container's program runs (startContainer hooks passed): husk start
 * returns; "E<message>" when making or starting the container failed: the
 * guest stops, and husk start fails with the message once the VM is gone
 * (start_failed). */
static void on_status(void *arg, const uint8_t *data, size_t len)
{
        struct monitor *m = arg;
        if (m->start_conn < 0 || len == 0)
                return;
        if (data[0] == 'E') {
                free(m->start_error);
                m->start_error = strndup((const char *)data + 1, len - 1);
                return;
        }
        close(m->start_conn);
        m->start_conn = -1;
}

/* The container stopped without starting: husk start fails with the
 * guest's message, or why (fmt) when it sent none. */
static void start_failed(struct monitor *m, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void start_failed(struct monitor *m, const char *fmt, ...)
{
        char buf[2048];
        va_list ap;
        if (m->start_conn < 0)
                return;
        va_start(ap, fmt);
        vsnprintf(buf, sizeof(buf), fmt, ap);
        va_end(ap);
        (void)sync_send_str(m->start_conn, SYNC_ERROR, m->start_error ? m->start_error : buf);
        close(m->start_conn);
        m->start_conn = -1;
}

static int run_process(struct monitor *m, int *status, herr_t *err)
{
        const struct oci_process *proc = m->cfg->process;
        struct vm_process p;
        char *guest_args[] = { "/husk", "vm-guest", (char *)m->o->id, (char *)m->o->config_json,
                               m->net->guest /* NULL: no --net */, NULL };
        _cleanup_free_ char *json = m->guest ? strndup(m->o->config_json, m->o->config_len) : NULL;
        _cleanup_free_ char *bundle_env = NULL;
        char *guest_env[] = { "PATH=/usr/sbin:/usr/bin:/sbin:/bin", NULL, NULL };
        struct vm_guest_file sc = { 0 };
        struct vm_file file;
        if (m->guest) {
                /* the state the hooks in the guest read names the host's bundle */
                if (asprintf(&bundle_env, "%s=%s", VM_GUEST_BUNDLE_ENV, m->o->bundle) < 0)
                        bundle_env = NULL;
                guest_env[1] = bundle_env;
                if (!json || !bundle_env)
                        return herr_set(err, ENOMEM, "config.json");
                guest_args[3] = json;
                vm_process_init(&p, guest_args);
                p.env = guest_env;
                p.on_status = on_status;
                p.status_arg = m;
                if (vm_seccomp_entry(m->cfg, m->o->root, &sc)) {
                        file = (struct vm_file){ sc.path, sc.data, sc.len };
                        p.files = &file;
                        p.n_files = 1;
                }
        } else {
                vm_process_init(&p, proc->args);
                p.env = proc->env;
                p.cwd = proc->cwd;
                p.uid = proc->user.uid;
                p.gid = proc->user.gid;
        }
        p.signal_fd = m->sfd;
        p.session_listen_fd = m->exec_fd;
        if (proc->terminal) {
                p.terminal = true;
                p.stdin_fd = p.stdout_fd = p.stderr_fd = m->tty_slave;
                struct winsize ws = { 0 };
                if (ioctl(m->tty_slave, TIOCGWINSZ, &ws) == 0 && ws.ws_row) {
                        p.rows = ws.ws_row;
                        p.cols = ws.ws_col;
                } else {
                        p.rows = 24;
                        p.cols = 80;
                }
        }
        int r = vm_exec(m->vm, &p, status, err);
        free(sc.data);
        return r;
}

/* The monitor's life after boot. Returns its exit status. */
static int monitor_loop(struct monitor *m)
{
        herr_t err = { 0 };
        int conn = -1, sig = 0, status = 255;
        int r = wait_start(m, &conn, &sig, &err);
        close(m->start_fd);
        m->start_fd = -1;
        if (r == 0) {
                write_reason(m, "stopped by signal %d before start", sig);
                return 128 + sig;
        }
        if (r < 0) {
                write_reason(m, "%s", err.msg);
                fprintf(stderr, "husk: container '%s': %s\n", m->o->id, err.msg);
                return 255;
        }
        herr_t e1 = { 0 };
        m->exec_fd = vm_exec_socket(m->statefd, &e1); /* before start returns */
        if (m->exec_fd < 0)
                fprintf(stderr, "husk: warning: container '%s': %s: exec, ps and kill --all will not work\n",
                        m->o->id, e1.msg);
        if (m->guest) /* start returns when the guest reports (on_status) */
                m->start_conn = conn;
        else
                close(conn); /* start: the process is about to run */
        int rp = run_process(m, &status, &err);
        if (m->exec_fd >= 0) {
                close(m->exec_fd);
                m->exec_fd = -1;
                (void)unlinkat(m->statefd, VM_EXEC_SOCK, 0);
        }
        if (rp < 0) {
                write_reason(m, "%s", err.msg);
                if (m->start_conn >= 0 && !m->start_error)
                        m->start_error = strdup(err.msg);
                fprintf(stderr, "husk: container '%s': %s\n", m->o->id, err.msg);
                return 255;
        }
        herr_t e2 = { 0 };
        if (vm_wait(m->vm, 10000, &e2) < 0)
                fprintf(stderr, "husk: container '%s': %s\n", m->o->id, e2.msg);
        if (m->start_error)
                write_reason(m, "start failed: %s", m->start_error);
        else
                write_reason(m, "exited %d", status);
        return status;
}

static void block_signals(int *sfd)
{
        sigset_t all, fwd;
        sigfillset(&all);
        sigdelset(&all, SIGSEGV);
        sigdelset(&all, SIGBUS);
        sigdelset(&all, SIGFPE);
        sigdelset(&all, SIGILL);
        sigprocmask(SIG_BLOCK, &all, NULL);
        fwd = all;
        sigdelset(&fwd, SIGCHLD); /* QEMU and virtiofsd are our children */
        *sfd = signalfd(-1, &fwd, SFD_CLOEXEC | SFD_NONBLOCK);
}

static void ready_error(int fd, const char *msg)
{
        char buf[4096];
        int n = snprintf(buf, sizeof(buf), "E%s", msg);
        (void)write_all(fd, buf, n < (int)sizeof(buf) ? (size_t)n : sizeof(buf) - 1);
}

static __attribute__((noreturn)) void monitor_main(struct monitor *m)
{
        herr_t err = { 0 };
        (void)setsid();
        block_signals(&m->sfd);
        if (m->sfd < 0) {
                ready_error(m->ready_fd, "VM monitor: signalfd failed");
                _exit(255);
        }
        m->guest = find_guest();
        int booted = boot(m, &err);
        if (m->net->tap_fd >= 0) /* QEMU holds the tap now: it goes when QEMU does */
                close(m->net->tap_fd);
        m->net->tap_fd = -1;
        if (booted < 0) {
                ready_error(m->ready_fd, err.msg);
                vm_free(m->vm);
                _exit(255);
        }
        /* The host pty becomes our controlling terminal (QEMU and virtiofsd
         * have sessions of their own): a resize reaches us as SIGWINCH and
         * is forwarded to the guest's pty. */
        if (m->tty_slave >= 0)
                (void)ioctl(m->tty_slave, TIOCSCTTY, 0);
        if (write_all(m->ready_fd, "R", 1) < 0) {
                /* create is gone (killed): no one will start, delete or
                 * even know of this VM; its half-made state dir is for
                 * delete --force. */
                vm_free(m->vm);
                _exit(255);
        }
        close(m->ready_fd);
        int st = monitor_loop(m);
        vm_free(m->vm);
        /* a failed start returns once QEMU and its daemons are gone */
        start_failed(m, "VM mode: the container exited with status %d before it started", st);
        _exit(st);
}

/* ------------------------------------------------------------- create */

struct vcreate {
        const struct create_opts *o;
        struct oci_config *cfg;
        struct container_state *st;
        int dirfd;
        int start_fd;
        int console_fd;
        int tty_master, tty_slave;
        pid_t pid;
        struct vm_bind_plan binds;
        struct vm_net net;
};



/* process.terminal: a raw host pty whose master goes to the console
 * socket; the guest's own pty does the line discipline. */
static int open_terminal(struct vcreate *c, herr_t *err)
{
        const struct oci_process *p = c->cfg->process;
        if (!p->terminal)
                return 0;
        if (c->console_fd < 0) {
                if (!c->o->console_socket)
                        return herr_set(err, 0, "process.terminal is true: --console-socket is required");
                c->console_fd = console_socket_connect(c->o->console_socket, err);
                if (c->console_fd < 0)
                        return -1;
        }
        struct winsize ws = { .ws_row = 24, .ws_col = 80 }, in;
        if (isatty(0) && ioctl(0, TIOCGWINSZ, &in) == 0 && in.ws_row && in.ws_col)
                ws = in; /* run on a terminal: start with its size */
        if (p->console_size && p->console_size->height) {
                ws.ws_row = (unsigned short)p->console_size->height;
                ws.ws_col = (unsigned short)p->console_size->width;
        }
        if (openpty(&c->tty_master, &c->tty_slave, NULL, NULL, &ws) < 0)
                return herr_sys(err, "process.terminal: openpty");
        struct termios t;
        if (tcgetattr(c->tty_slave, &t) == 0) {
                cfmakeraw(&t);
                (void)tcsetattr(c->tty_slave, TCSANOW, &t);
        }
        (void)fcntl(c->tty_master, F_SETFD, FD_CLOEXEC);
        (void)fcntl(c->tty_slave, F_SETFD, FD_CLOEXEC);
        return terminal_send(c->console_fd, c->tty_master, err);
}

static int setup_cgroup(struct vcreate *c, herr_t *err)
{
        const struct oci_linux *l = c->cfg->linux_;
        if (!cg_root())
                return 0;
        if (cg_resolve_path(l ? l->cgroups_path : NULL, c->o->id, &c->st->cgroup, err) < 0)
                return -1;
        /* The limits size the VM (and are the guest's business): the host
         * cgroup only holds the monitor, QEMU and virtiofsd. */
        if (cg_create_owned(c->st->cgroup, c->o->id, NULL, err) < 0) {
                free(c->st->cgroup);
                c->st->cgroup = NULL;
                return -1;
        }
        return 0;
}

/* Fork the monitor and wait for its boot report (sync point 1). */
static int spawn_monitor(struct vcreate *c, herr_t *err)
{
        int pfd[2];
        if (pipe2(pfd, O_CLOEXEC) < 0)
                return herr_sys(err, "pipe");
        fflush(NULL);
        /* Born in the container's cgroup (clone3 CLONE_INTO_CGROUP): moving
         * a running process costs ~15 ms on this host's kernel. */
        _cleanup_close_ int cgfd = c->st->cgroup ? cg_open(c->st->cgroup, err) : -1;
        pid_t pid = c->st->cgroup && cgfd < 0 ? -1 : cgfd >= 0 ? cg_clone_into(cgfd, err) : fork();
        if (pid < 0) {
                close(pfd[0]);
                close(pfd[1]);
                return cgfd >= 0 || c->st->cgroup ? -1 : herr_sys(err, "fork the VM monitor");
        }
        if (pid == 0) {
                if (cgfd >= 0)
                        close(cgfd);
                close(pfd[0]);
                struct monitor m = {
                        .o = c->o, .cfg = c->cfg, .rootfs = c->st->rootfs,
                        .statefd = openat(c->dirfd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC),
                        .start_fd = c->start_fd, .ready_fd = pfd[1], .tty_slave = c->tty_slave, .sfd = -1,
                        .exec_fd = -1, .binds = &c->binds, .start_conn = -1,
                        .net = &c->net,
                };
                /* The locked state dir fd, the console socket and the master
                 * stay with create. */
                close(c->dirfd);
                if (c->console_fd >= 0)
                        close(c->console_fd);
                if (c->tty_master >= 0)
                        close(c->tty_master);
                monitor_main(&m);
        }
        close(pfd[1]);
        c->pid = pid;
        char buf[4096];
        size_t len = 0;
        ssize_t n;
        while (len < sizeof(buf) - 1 && (n = read(pfd[0], buf + len, sizeof(buf) - 1 - len)) != 0) {
                if (n < 0 && errno == EINTR)
                        continue;
                if (n < 0)
                        break;
                len += (size_t)n;
        }
        close(pfd[0]);
        buf[len] = '\0';
        if (len >= 1 && buf[0] == 'R')
                return 0;
        if (len >= 1 && buf[0] == 'E')
                return herr_set(err, 0, "%s", buf + 1);
        return herr_set(err, 0, "VM monitor died during boot");
}

static int create_steps(struct vcreate *c, herr_t *err)
{
        if (container_record(c->st, c->o, c->cfg, err) < 0)
                return -1;
        c->st->vm = true; /* also when the config or an annotation asked */
        if (container_save_config(c->dirfd, c->o, err) < 0 || open_terminal(c, err) < 0 ||
            setup_cgroup(c, err) < 0)
                return -1;
        _cleanup_free_ char *guest = find_guest();
        if (vm_net_setup(c->o, c->cfg, guest != NULL, &c->net, err) < 0) /* net */
                return -1;
        c->start_fd = container_start_socket(c->dirfd, err);
        if (c->start_fd < 0 || spawn_monitor(c, err) < 0)
                return -1;
        c->st->pid = c->pid;
        c->st->pid_start = pid_start_time(c->pid);
        const struct oci_hooks *h = c->cfg->hooks;
        _cleanup_free_ char *json = NULL;
        if (state_oci_json(c->st, "creating", false, &json, err) < 0)
                return -1;
        if (h && (hooks_run(&h->prestart, "prestart", json, err) < 0 ||
                  hooks_run(&h->create_runtime, "createRuntime", json, err) < 0))
                return -1;
        if (state_save(c->dirfd, c->st, err) < 0)
                return -1;
        if (c->o->pid_file && write_pid_file(c->o->pid_file, c->st->pid, err) < 0)
                return -1;
        return 0;
}

static void undo(struct vcreate *c)
{
        herr_t e2 = { 0 };
        if (c->pid > 0) {
                kill(c->pid, SIGKILL);
                (void)waitpid(c->pid, NULL, 0);
        }
        vm_container_cleanup(c->dirfd);
        if (c->st->cgroup && cg_destroy(c->st->cgroup, &e2) < 0)
                husk_warn("%s", e2.msg);
        vm_net_release(&c->net);
        network_teardown(c->o->root, c->o->id); /* net */
        if (store_remove(c->o->root, c->o->id, &e2) < 0)
                husk_warn("%s", e2.msg);
}

int vm_container_create(const struct create_opts *o, struct oci_config *cfg, struct container_state *st,
                        herr_t *err)
{
        struct vcreate c = {
                .o = o, .cfg = cfg, .st = st, .start_fd = -1, .console_fd = o->console_fd,
                .tty_master = -1, .tty_slave = -1, .net = VM_NET_INIT,
        };
        memset(st, 0, sizeof(*st));
        if (vm_net_check(o, cfg, err) < 0)
                return -1;
        const char *dd = getenv("HUSK_DATA_DIR");
        char abs[PATH_MAX];
        if (dd && *dd && dd[0] != '/' && realpath(dd, abs))
                (void)setenv("HUSK_DATA_DIR", abs, 1); /* the monitor outlives our cwd */
        /* Bind sources are checked before anything is made. */
        if (vm_binds_plan(cfg, o->bundle, &c.binds, err) < 0)
                return -1;
        c.dirfd = store_create(o->root, o->id, err);
        if (c.dirfd < 0) {
                vm_binds_plan_free(&c.binds);
                return -1;
        }
        int rc = create_steps(&c, err);
        if (rc < 0)
                undo(&c);
        if (c.start_fd >= 0)
                close(c.start_fd);
        if (c.console_fd >= 0 && c.console_fd != o->console_fd)
                close(c.console_fd);
        if (c.tty_master >= 0)
                close(c.tty_master);
        if (c.tty_slave >= 0)
                close(c.tty_slave);
        vm_net_release(&c.net);
        close(c.dirfd);
        vm_binds_plan_free(&c.binds);
        return rc;
}

void vm_container_cleanup(int dirfd)
{
        if (getenv("HUSK_VM_KEEP"))
                return; /* debugging: keep the console and QEMU logs (vm/boot.c) */
        int fd = openat(dirfd, VM_STATE_RUNDIR, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
        if (fd < 0)
                return;
        _cleanup_free_ char *dir = NULL;
        size_t len;
        herr_t e = { 0 };
        int r = read_fd(fd, PATH_MAX, &dir, &len, &e);
        close(fd);
        /* Only ever a directory vm_run_dir_make made. */
        const char *base = r == 0 ? strrchr(dir, '/') : NULL;
        if (base && dir[0] == '/' && !strncmp(base + 1, VM_RUN_DIR_PREFIX, strlen(VM_RUN_DIR_PREFIX)) &&
            !strstr(dir, ".."))
                (void)remove_tree(dir, &e);
}

/* ------------------------------------------------------------ husk check */

static int cmd_check(struct cli *c, int argc, char **argv, herr_t *err)
{
        (void)c;
        (void)argv;
        if (argc > 1)
                return cli_usage_error("check", "too many arguments", err), EXIT_HUSK_ERROR;
        struct vm_opts vo = { 0 };
        _cleanup_free_ char *agent = find_agent(), *report = NULL;
        vo.agent = agent;
        int r = vm_check(&vo, &report, err);
        if (report)
                fputs(report, stdout);
        const char *a = agent ? agent : getenv("HUSK_VM_AGENT");
        printf("vm: agent: %s\n", a ? a : HUSK_AGENT_DEFAULT);
        _cleanup_free_ char *guest = find_guest();
        printf("vm: guest setup: %s\n", guest ? guest : "no husk-guest (make vm-guest): the agent runs the "
                                                     "process in a chroot (args, env, cwd, user, terminal only)");
        return r < 0 ? EXIT_HUSK_ERROR : 0;
}

static const struct command table[] = {
        { "check", "report what VM mode would use on this host (KVM or TCG and why, QEMU, kernel)",
          "check", cmd_check, false },
        { "vm-guest", "internal: make and run the container inside a VM (run by the guest agent)",
          "vm-guest ID CONFIG_JSON [NETWORK]", cmd_vm_guest, false },
        /* not re-executed from a sealed copy: /husk lives in the guest's RAM
         * only, a container overwriting it changes nothing on the host (and
         * the 6 MB copy costs ~50 ms under TCG) */
        { NULL, NULL, NULL, NULL, false },
};

const struct command *commands_vm(void)
{
        return table;
}
