/* QEMU command line and process helpers for VM mode. */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "../common/cleanup.h"
#include "../common/fileutil.h"
#include "internal.h"

struct strv {
        char **v;
        size_t n;
        bool oom;
};

static void sv_add(struct strv *s, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void sv_add(struct strv *s, const char *fmt, ...)
{
        char *str = NULL;
        va_list ap;
        va_start(ap, fmt);
        int r = vasprintf(&str, fmt, ap);
        va_end(ap);
        char **v = r < 0 ? NULL : realloc(s->v, (s->n + 2) * sizeof(char *));
        if (!v) {
                if (r >= 0)
                        free(str);
                s->oom = true;
                return;
        }
        s->v = v;
        v[s->n++] = str;
        v[s->n] = NULL;
}

#if defined(__x86_64__) || defined(__i386__)
/* Count TSC ticks over ~10 ms of CLOCK_MONOTONIC_RAW. */
static unsigned long measure_tsc_khz(void)
{
        struct timespec a, b;
        clock_gettime(CLOCK_MONOTONIC_RAW, &a);
        uint64_t t0 = __builtin_ia32_rdtsc();
        do
                clock_gettime(CLOCK_MONOTONIC_RAW, &b);
        while ((b.tv_sec - a.tv_sec) * 1000000000L + (b.tv_nsec - a.tv_nsec) < 10000000L);
        uint64_t t1 = __builtin_ia32_rdtsc();
        long ns = (b.tv_sec - a.tv_sec) * 1000000000L + (b.tv_nsec - a.tv_nsec);
        return (unsigned long)((t1 - t0) * 1000000ull / (uint64_t)ns);
}
#else
static unsigned long measure_tsc_khz(void)
{
        return 0;
}
#endif

/* The TSC rate the guest sees under TCG is the host's. "cpu MHz" in
 * /proc/cpuinfo can be a scaled core clock, so measure; fall back to it. */
unsigned long vm_host_tsc_khz(void)
{
        static unsigned long cached;
        if (cached)
                return cached;
        unsigned long khz = measure_tsc_khz();
        _cleanup_fclose_ FILE *f = khz ? NULL : fopen("/proc/cpuinfo", "re");
        char line[256];
        double mhz;
        while (f && fgets(line, sizeof(line), f))
                if (sscanf(line, "cpu MHz : %lf", &mhz) == 1 && mhz > 0) {
                        khz = (unsigned long)(mhz * 1000.0);
                        break;
                }
        return cached = khz;
}

static void add_cmdline(struct strv *s, const struct vm *vm, const struct vm_opts *o)
{
        char tsc[48] = "";
        if (vm->accel == VM_ACCEL_TCG && vm->tsc_khz)
                snprintf(tsc, sizeof(tsc), " tsc_early_khz=%lu", vm->tsc_khz);
        sv_add(s, "-append");
        sv_add(s, "console=ttyS0 reboot=t panic=-1 quiet cryptomgr.notests%s husk.share=%s%s%s%s%s%s%s",
               tsc, vm->share == VM_SHARE_9P ? "9p" : vm->share == VM_SHARE_VIRTIOFS ? "virtiofs" : "none",
               o->share_ro ? " husk.ro=1" : "", o->guest_husk ? " husk.oci=1" : "",
               vm->n_binds ? " husk.binds=1" : "", o->net ? " husk.net=1" : "", o->extra_cmdline ? " " : "",
               o->extra_cmdline ? o->extra_cmdline : "");
}

static void add_share(struct strv *s, const struct vm *vm, const struct vm_opts *o)
{
        if (vm->share == VM_SHARE_9P) {
                sv_add(s, "-fsdev");
                sv_add(s, "local,id=fs0,path=%s,security_model=passthrough%s", vm->share_dir,
                       o->share_ro ? ",readonly=on" : "");
                sv_add(s, "-device");
                sv_add(s, "virtio-9p-device,fsdev=fs0,mount_tag=husk");
        } else if (vm->share == VM_SHARE_VIRTIOFS) {
                sv_add(s, "-chardev");
                sv_add(s, "socket,id=vfs,path=%s", vm->vfs_path);
                sv_add(s, "-device");
                sv_add(s, "vhost-user-fs-device,chardev=vfs,tag=husk");
        }
        if (vm->n_binds && vm->share == VM_SHARE_9P) { /* QEMU stages them (vm_binds_stage) */
                sv_add(s, "-fsdev");
                sv_add(s, "local,id=fsb,path=%s,security_model=passthrough", vm->binds_dir);
                sv_add(s, "-device");
                sv_add(s, "virtio-9p-device,fsdev=fsb,mount_tag=husk-binds");
        } else if (vm->n_binds && vm->share == VM_SHARE_VIRTIOFS) {
                sv_add(s, "-chardev");
                sv_add(s, "socket,id=vfsb,path=%s", vm->binds_sock);
                sv_add(s, "-device");
                sv_add(s, "vhost-user-fs-device,chardev=vfsb,tag=husk-binds");
        }
}

/* virtio-net on virtio-mmio, backed by the tap QEMU inherits (vhost=off:
 * no /dev/vhost-net to open). */
static void add_net(struct strv *s, const struct vm_opts *o)
{
        if (!o->net)
                return;
        const uint8_t *m = o->net_mac;
        sv_add(s, "-netdev");
        sv_add(s, "tap,id=n0,fd=%d,vhost=off", o->net_fd);
        sv_add(s, "-device");
        sv_add(s, "virtio-net-device,netdev=n0,mac=%02x:%02x:%02x:%02x:%02x:%02x", m[0], m[1], m[2], m[3], m[4],
               m[5]);
}

int vm_qemu_argv(const struct vm *vm, const struct vm_opts *o, char ***out, herr_t *err)
{
        struct strv s = { 0 };
        uint64_t mib = (o->mem_bytes ? o->mem_bytes : (128ull << 20)) >> 20;
        bool memfd = vm->share == VM_SHARE_VIRTIOFS;
        sv_add(&s, "%s", o->qemu ? o->qemu : "qemu-system-x86_64");
        sv_add(&s, "-M");
        sv_add(&s, "microvm,x-option-roms=off,isa-serial=on,rtc=on%s", memfd ? ",memory-backend=mem" : "");
        sv_add(&s, "-accel");
        sv_add(&s, "%s", vm->accel == VM_ACCEL_KVM ? "kvm" : "tcg");
        if (vm->accel == VM_ACCEL_KVM) {
                sv_add(&s, "-cpu");
                sv_add(&s, "host");
        }
        sv_add(&s, "-m");
        sv_add(&s, "%" PRIu64 "M", mib);
        if (memfd) {
                sv_add(&s, "-object");
                sv_add(&s, "memory-backend-memfd,id=mem,size=%" PRIu64 "M,share=on", mib);
        }
        sv_add(&s, "-smp");
        sv_add(&s, "%u", o->vcpus ? o->vcpus : 1);
        static const char *const fixed[] = {
                "-no-reboot", "-nodefaults", "-no-user-config", "-display", "none",
                "-global", "virtio-mmio.force-legacy=false",
                "-sandbox", "on,obsolete=deny,spawn=deny,resourcecontrol=deny",
                "-device", "virtio-serial-device",
                "-device", "virtserialport,chardev=ctl,name=husk.ctl",
        };
        for (size_t i = 0; i < ARRAY_SIZE(fixed); i++)
                sv_add(&s, "%s", fixed[i]);
        sv_add(&s, "-chardev");
        sv_add(&s, "socket,id=ctl,path=%s", vm->ctl_path);
        sv_add(&s, "-serial");
        sv_add(&s, "file:%s", vm->console_path);
        sv_add(&s, "-kernel");
        sv_add(&s, "%s", vm->kernel);
        sv_add(&s, "-initrd");
        sv_add(&s, "%s", vm->initrd);
        add_cmdline(&s, vm, o);
        add_share(&s, vm, o);
        add_net(&s, o);
        for (size_t i = 0; o->qemu_extra && o->qemu_extra[i]; i++)
                sv_add(&s, "%s", o->qemu_extra[i]);
        if (s.oom) {
                cleanup_strvp(&s.v);
                return herr_set(err, ENOMEM, "qemu command line");
        }
        *out = s.v;
        return 0;
}

static void child_setup(const char *log, const char *cgroup_procs, bool die_with_parent,
                        pid_t parent)
{
        if (die_with_parent && (prctl(PR_SET_PDEATHSIG, SIGKILL) < 0 || getppid() != parent))
                _exit(127);
        int null = open("/dev/null", O_RDONLY | O_CLOEXEC);
        int lf = open(log, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0600);
        if (null < 0 || lf < 0 || dup2(null, 0) < 0 || dup2(lf, 1) < 0 || dup2(lf, 2) < 0)
                _exit(127);
        if (cgroup_procs) {
                int cg = open(cgroup_procs, O_WRONLY | O_CLOEXEC);
                if (cg < 0 || write(cg, "0", 1) != 1) {
                        dprintf(2, "husk: join %s: %s\n", cgroup_procs, strerror(errno));
                        _exit(127);
                }
        }
        struct rlimit nocore = { 0, 0 }; /* a daemon's core would hold guest data */
        if (setrlimit(RLIMIT_CORE, &nocore) < 0)
                _exit(127);
        sigset_t none;
        sigemptyset(&none);
        sigprocmask(SIG_SETMASK, &none, NULL);
        setsid();
}

int vm_spawn(char **argv, const char *log, const char *cgroup_procs, bool die_with_parent,
             pid_t *pid, herr_t *err)
{
        return vm_spawn_prep(argv, log, cgroup_procs, die_with_parent, NULL, NULL, pid, err);
}

int vm_spawn_prep(char **argv, const char *log, const char *cgroup_procs, bool die_with_parent,
                  void (*prep)(const struct vm *), const struct vm *arg, pid_t *pid, herr_t *err)
{
        pid_t parent = getpid();
        pid_t p = fork();
        if (p < 0)
                return herr_sys(err, "fork %s", argv[0]);
        if (p == 0) {
                child_setup(log, cgroup_procs, die_with_parent, parent);
                if (prep)
                        prep(arg);
                execvp(argv[0], argv);
                dprintf(2, "husk: exec %s: %s\n", argv[0], strerror(errno));
                _exit(127);
        }
        *pid = p;
        return 0;
}

int vm_reap(pid_t pid, int timeout_ms, int *status)
{
        struct timespec t0;
        clock_gettime(CLOCK_MONOTONIC, &t0);
        int pfd = (int)syscall(SYS_pidfd_open, pid, 0);
        for (;;) {
                pid_t r = waitpid(pid, status, WNOHANG);
                if (r == pid || (r < 0 && errno == ECHILD)) {
                        if (r < 0)
                                *status = 0;
                        if (pfd >= 0)
                                close(pfd);
                        return 1;
                }
                struct timespec t;
                clock_gettime(CLOCK_MONOTONIC, &t);
                long spent = (t.tv_sec - t0.tv_sec) * 1000 + (t.tv_nsec - t0.tv_nsec) / 1000000;
                if (timeout_ms >= 0 && spent >= timeout_ms)
                        break;
                int wait = timeout_ms < 0 ? 1000 : (int)(timeout_ms - spent);
                struct pollfd p = { .fd = pfd, .events = POLLIN };
                if (pfd >= 0)
                        (void)poll(&p, 1, wait);
                else
                        usleep(10000);
        }
        if (pfd >= 0)
                close(pfd);
        return 0;
}

void vm_describe_status(int status, char *buf, size_t len)
{
        if (WIFSIGNALED(status))
                snprintf(buf, len, "killed by signal %d", WTERMSIG(status));
        else
                snprintf(buf, len, "exited with status %d", WEXITSTATUS(status));
}

void vm_file_tail(const char *path, char *buf, size_t len)
{
        _cleanup_close_ int fd = open(path, O_RDONLY | O_CLOEXEC);
        buf[0] = 0;
        if (fd < 0 || len < 2)
                return;
        off_t end = lseek(fd, 0, SEEK_END);
        off_t start = end > (off_t)len - 1 ? end - (off_t)len + 1 : 0;
        ssize_t n = pread(fd, buf, len - 1, start);
        buf[n > 0 ? n : 0] = 0;
        for (char *c = buf; *c; c++)
                if (*c == '\n' || *c == '\r')
                        *c = ' ';
}

void vm_console_tail(const struct vm *vm, char *buf, size_t len)
{
        vm_file_tail(vm->console_path, buf, len);
}

int vm_gone(struct vm *vm, const char *what, herr_t *err)
{
        char st[64] = "still running", tail[300], qlog[300];
        if (vm->qemu_pid > 0 && vm_reap(vm->qemu_pid, 2000, &vm->qemu_status)) {
                vm->qemu_pid = -1;
                vm_describe_status(vm->qemu_status, st, sizeof(st));
        } else if (vm->qemu_pid < 0) {
                vm_describe_status(vm->qemu_status, st, sizeof(st));
        }
        char panic[200];
        if (vm_console_panic(vm, panic, sizeof(panic)))
                return herr_set(err, 0, "%s: the guest kernel panicked (%s), QEMU %s", what, panic, st);
        vm_console_tail(vm, tail, sizeof(tail));
        vm_file_tail(vm->qemu_log, qlog, sizeof(qlog));
        return herr_set(err, 0, "%s: QEMU %s%s%s%s%s%s", what, st, qlog[0] ? ": " : "", qlog,
                        tail[0] ? " (console: " : "", tail, tail[0] ? ")" : "");
}
