/* seccomp/profile.c: the default seccomp profile of `husk spec` and a JSON
 * emitter for any seccomp section.
 *
 * The allowlist is husk's own: the syscalls ordinary programs (libc start-up,
 * shells, servers, threads, timers, IPC, file I/O) need on x86_64, x86 and
 * x32. Everything else gets EPERM (defaultErrnoRet 1). Deliberately absent:
 * keyring (keyctl, add_key, request_key), bpf, userfaultfd, perf_event_open,
 * kexec_load, kexec_file_load, init_module, finit_module, delete_module,
 * mount and the new mount API (fsopen, fsmount, fsconfig, fspick, move_mount,
 * open_tree, mount_setattr), umount2, unshare, setns, pivot_root, swapon,
 * swapoff, reboot, acct, quotactl, syslog, settimeofday, clock_settime,
 * clock_adjtime, iopl, ioperm, kcmp, lookup_dcookie, open_by_handle_at,
 * fanotify_init, vhangup, io_uring_*, migrate_pages, move_pages, uselib,
 * ustat, sysfs, vm86. These need CAP_SYS_ADMIN (or another capability husk
 * spec does not grant) or widen the kernel attack surface. */
#include "seccomp.h"

#include <stdio.h>
#include <string.h>
#include <yajl/yajl_gen.h>

#include "../common/cleanup.h"

static char *allow_names[] = {
        "_llseek", "_newselect", "accept", "accept4", "access", "adjtimex", "alarm",
        "arch_prctl", "bind", "brk", "cachestat", "capget", "capset", "chdir", "chmod",
        "chown", "chown32", "chroot", "clock_getres", "clock_getres_time64",
        "clock_gettime", "clock_gettime64", "clock_nanosleep", "clock_nanosleep_time64",
        "close", "close_range", "connect", "copy_file_range", "creat", "dup", "dup2",
        "dup3", "epoll_create", "epoll_create1", "epoll_ctl", "epoll_ctl_old",
        "epoll_pwait", "epoll_pwait2", "epoll_wait", "epoll_wait_old", "eventfd",
        "eventfd2", "execve", "execveat", "exit", "exit_group", "faccessat", "faccessat2",
        "fadvise64", "fadvise64_64", "fallocate", "fanotify_mark", "fchdir", "fchmod",
        "fchmodat", "fchmodat2", "fchown", "fchown32", "fchownat", "fcntl", "fcntl64",
        "fdatasync", "fgetxattr", "flistxattr", "flock", "fork", "fremovexattr",
        "fsetxattr", "fstat", "fstat64", "fstatat64", "fstatfs", "fstatfs64", "fsync",
        "ftruncate", "ftruncate64", "futex", "futex_requeue", "futex_time64", "futex_wait",
        "futex_waitv", "futex_wake", "futimesat", "get_mempolicy", "get_robust_list",
        "get_thread_area", "getcpu", "getcwd", "getdents", "getdents64", "getegid",
        "getegid32", "geteuid", "geteuid32", "getgid", "getgid32", "getgroups",
        "getgroups32", "getitimer", "getpeername", "getpgid", "getpgrp", "getpid",
        "getppid", "getpriority", "getrandom", "getresgid", "getresgid32", "getresuid",
        "getresuid32", "getrlimit", "getrusage", "getsid", "getsockname", "getsockopt",
        "gettid", "gettimeofday", "getuid", "getuid32", "getxattr", "inotify_add_watch",
        "inotify_init", "inotify_init1", "inotify_rm_watch", "io_cancel", "io_destroy",
        "io_getevents", "io_pgetevents", "io_pgetevents_time64", "io_setup", "io_submit",
        "ioctl", "ioprio_get", "ioprio_set", "ipc", "kill", "landlock_add_rule",
        "landlock_create_ruleset", "landlock_restrict_self", "lchown", "lchown32",
        "lgetxattr", "link", "linkat", "listen", "listxattr", "llistxattr", "lremovexattr",
        "lseek", "lsetxattr", "lstat", "lstat64", "madvise", "map_shadow_stack", "mbind",
        "membarrier", "memfd_create", "memfd_secret", "mincore", "mkdir", "mkdirat",
        "mknod", "mknodat", "mlock", "mlock2", "mlockall", "mmap", "mmap2", "mprotect",
        "mq_getsetattr", "mq_notify", "mq_open", "mq_timedreceive",
        "mq_timedreceive_time64", "mq_timedsend", "mq_timedsend_time64", "mq_unlink",
        "mremap", "msgctl", "msgget", "msgrcv", "msgsnd", "msync", "munlock", "munlockall",
        "munmap", "name_to_handle_at", "nanosleep", "newfstatat", "open", "openat",
        "openat2", "pause", "pidfd_getfd", "pidfd_open", "pidfd_send_signal", "pipe",
        "pipe2", "pkey_alloc", "pkey_free", "pkey_mprotect", "poll", "ppoll",
        "ppoll_time64", "prctl", "pread64", "preadv", "preadv2", "prlimit64",
        "process_mrelease", "process_vm_readv", "process_vm_writev", "pselect6",
        "pselect6_time64", "ptrace", "pwrite64", "pwritev", "pwritev2", "read", "readahead",
        "readlink", "readlinkat", "readv", "recv", "recvfrom", "recvmmsg",
        "recvmmsg_time64", "recvmsg", "remap_file_pages", "removexattr", "rename",
        "renameat", "renameat2", "restart_syscall", "rmdir", "rseq", "rt_sigaction",
        "rt_sigpending", "rt_sigprocmask", "rt_sigqueueinfo", "rt_sigreturn",
        "rt_sigsuspend", "rt_sigtimedwait", "rt_sigtimedwait_time64", "rt_tgsigqueueinfo",
        "sched_get_priority_max", "sched_get_priority_min", "sched_getaffinity",
        "sched_getattr", "sched_getparam", "sched_getscheduler", "sched_rr_get_interval",
        "sched_rr_get_interval_time64", "sched_setaffinity", "sched_setattr",
        "sched_setparam", "sched_setscheduler", "sched_yield", "seccomp", "select",
        "semctl", "semget", "semop", "semtimedop", "semtimedop_time64", "send", "sendfile",
        "sendfile64", "sendmmsg", "sendmsg", "sendto", "set_mempolicy", "set_robust_list",
        "set_thread_area", "set_tid_address", "setdomainname", "setfsgid", "setfsgid32",
        "setfsuid", "setfsuid32", "setgid", "setgid32", "setgroups", "setgroups32",
        "sethostname", "setitimer", "setpgid", "setpriority", "setregid", "setregid32",
        "setresgid", "setresgid32", "setresuid", "setresuid32", "setreuid", "setreuid32",
        "setrlimit", "setsid", "setsockopt", "setuid", "setuid32", "setxattr", "shmat",
        "shmctl", "shmdt", "shmget", "shutdown", "sigaction", "sigaltstack", "signal",
        "signalfd", "signalfd4", "sigpending", "sigprocmask", "sigreturn", "sigsuspend",
        "socket", "socketcall", "socketpair", "splice", "stat", "stat64", "statfs",
        "statfs64", "statx", "symlink", "symlinkat", "sync", "sync_file_range", "syncfs",
        "sysinfo", "tee", "tgkill", "time", "timer_create", "timer_delete",
        "timer_getoverrun", "timer_gettime", "timer_gettime64", "timer_settime",
        "timer_settime64", "timerfd_create", "timerfd_gettime", "timerfd_gettime64",
        "timerfd_settime", "timerfd_settime64", "times", "tkill", "truncate", "truncate64",
        "ugetrlimit", "umask", "uname", "unlink", "unlinkat", "utime", "utimensat",
        "utimensat_time64", "utimes", "vfork", "wait4", "waitid", "waitpid", "write",
        "writev",
};

/* clone without any CLONE_NEW* flag: NEWNS 0x00020000, NEWCGROUP 0x02000000,
 * NEWUTS 0x04000000, NEWIPC 0x08000000, NEWUSER 0x10000000, NEWPID
 * 0x20000000, NEWNET 0x40000000. */
#define CLONE_NS_MASK 0x7E020000ULL

static struct oci_seccomp_arg clone_args[] = {
        { .index = 0, .value = CLONE_NS_MASK, .value_two = { true, 0 }, .op = "SCMP_CMP_MASKED_EQ" },
};

/* personality: only the harmless domains (query, PER_LINUX, PER_LINUX32,
 * UNAME26 and UNAME26|PER_LINUX32). One entry per value. */
static struct oci_seccomp_arg pers_args[] = {
        { .index = 0, .value = 0x0, .op = "SCMP_CMP_EQ" },
        { .index = 0, .value = 0x8, .op = "SCMP_CMP_EQ" },
        { .index = 0, .value = 0x20000, .op = "SCMP_CMP_EQ" },
        { .index = 0, .value = 0x20008, .op = "SCMP_CMP_EQ" },
        { .index = 0, .value = 0xffffffff, .op = "SCMP_CMP_EQ" },
};

static char *clone_name[] = { "clone" };
static char *clone3_name[] = { "clone3" };
static char *pers_name[] = { "personality" };

#define PERS(i) { .names = pers_name, .n_names = 1, .action = "SCMP_ACT_ALLOW", \
                  .args = &pers_args[i], .n_args = 1 }

static struct oci_seccomp_syscall default_syscalls[] = {
        { .names = allow_names, .n_names = ARRAY_SIZE(allow_names), .action = "SCMP_ACT_ALLOW" },
        { .names = clone_name, .n_names = 1, .action = "SCMP_ACT_ALLOW",
          .args = clone_args, .n_args = ARRAY_SIZE(clone_args) },
        /* ENOSYS (38): libc then falls back to clone, which is filtered. */
        { .names = clone3_name, .n_names = 1, .action = "SCMP_ACT_ERRNO",
          .errno_ret = { true, 38 } },
        PERS(0), PERS(1), PERS(2), PERS(3), PERS(4),
};

static char *default_arches[] = { "SCMP_ARCH_X86_64", "SCMP_ARCH_X86", "SCMP_ARCH_X32" };

static const struct oci_seccomp default_profile = {
        .default_action = "SCMP_ACT_ERRNO",
        .default_errno_ret = { true, 1 },
        .architectures = default_arches,
        .n_architectures = ARRAY_SIZE(default_arches),
        .syscalls = default_syscalls,
        .n_syscalls = ARRAY_SIZE(default_syscalls),
};

const struct oci_seccomp *seccomp_default_profile(void)
{
        return &default_profile;
}

/* ------------------------------------------------------------ JSON emit */

/* A NULL string (invalid section) is emitted as null, never dereferenced. */
static void GS(yajl_gen g, const char *s)
{
        if (s)
                yajl_gen_string(g, (const unsigned char *)s, strlen(s));
        else
                yajl_gen_null(g);
}

static void gen_u64(yajl_gen g, uint64_t v)
{
        char buf[24];
        int n = snprintf(buf, sizeof buf, "%llu", (unsigned long long)v);
        yajl_gen_number(g, buf, (size_t)n);
}

static void gen_strv(yajl_gen g, const char *key, char **v, size_t n)
{
        GS(g, key);
        yajl_gen_array_open(g);
        for (size_t i = 0; i < n; i++)
                GS(g, v[i]);
        yajl_gen_array_close(g);
}

static void gen_args(yajl_gen g, const struct oci_seccomp_arg *a, size_t n)
{
        GS(g, "args");
        yajl_gen_array_open(g);
        for (size_t i = 0; i < n; i++) {
                yajl_gen_map_open(g);
                GS(g, "index");
                gen_u64(g, a[i].index);
                GS(g, "value");
                gen_u64(g, a[i].value);
                if (a[i].value_two.set) {
                        GS(g, "valueTwo");
                        gen_u64(g, a[i].value_two.v);
                }
                GS(g, "op");
                GS(g, a[i].op);
                yajl_gen_map_close(g);
        }
        yajl_gen_array_close(g);
}

static void gen_syscall(yajl_gen g, const struct oci_seccomp_syscall *sc)
{
        yajl_gen_map_open(g);
        gen_strv(g, "names", sc->names, sc->n_names);
        GS(g, "action");
        GS(g, sc->action);
        if (sc->errno_ret.set) {
                GS(g, "errnoRet");
                gen_u64(g, sc->errno_ret.v);
        }
        if (sc->n_args)
                gen_args(g, sc->args, sc->n_args);
        yajl_gen_map_close(g);
}

int seccomp_gen(void *handle, const struct oci_seccomp *s)
{
        yajl_gen g = handle;
        yajl_gen_map_open(g);
        GS(g, "defaultAction");
        GS(g, s->default_action);
        if (s->default_errno_ret.set) {
                GS(g, "defaultErrnoRet");
                gen_u64(g, s->default_errno_ret.v);
        }
        if (s->n_architectures)
                gen_strv(g, "architectures", s->architectures, s->n_architectures);
        if (s->n_flags)
                gen_strv(g, "flags", s->flags, s->n_flags);
        if (s->listener_path) {
                GS(g, "listenerPath");
                GS(g, s->listener_path);
        }
        if (s->listener_metadata) {
                GS(g, "listenerMetadata");
                GS(g, s->listener_metadata);
        }
        if (s->n_syscalls) {
                GS(g, "syscalls");
                yajl_gen_array_open(g);
                for (size_t i = 0; i < s->n_syscalls; i++)
                        gen_syscall(g, &s->syscalls[i]);
                yajl_gen_array_close(g);
        }
        return yajl_gen_map_close(g) == yajl_gen_status_ok ? 0 : -1;
}

int seccomp_default_profile_gen(void *handle)
{
        return seccomp_gen(handle, &default_profile);
}
