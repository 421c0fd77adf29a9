/* husk VM mode: boot a Debian kernel under QEMU (-M microvm) with husk's
 * guest agent as PID 1 and run one process in it with full stdio and exit
 * status over a framed virtio-serial control channel (vm/proto.h).
 *
 *   vm_start()  boots QEMU and waits until the agent reports READY
 *   vm_exec()   sends the process, relays stdio/signals, returns its status
 *   vm_free()   acknowledges, reaps QEMU (and virtiofsd), removes run files
 *   vm_run()    all three in one call
 */
#ifndef HUSK_VM_VM_H
#define HUSK_VM_VM_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#include "../common/error.h"

enum vm_share_kind { VM_SHARE_AUTO, VM_SHARE_9P, VM_SHARE_VIRTIOFS, VM_SHARE_NONE };
enum vm_accel { VM_ACCEL_AUTO, VM_ACCEL_KVM, VM_ACCEL_TCG };

/* A host directory or file shared into the guest for a bind mount (see
 * vm/binds.c): all of them appear under one share tagged "husk-binds", each
 * as the entry <name> (a directory, or a single file). */
struct vm_bind {
        const char *name;   /* entry name in the share, e.g. "3" */
        const char *source; /* absolute host path */
        bool is_dir;
        bool ro;            /* read-only on the host side too */
        bool recursive;     /* rbind: submounts of source included */
};

struct vm_opts {
        const char *qemu;          /* NULL: qemu-system-x86_64 from PATH */
        char *const *qemu_extra;   /* NULL-terminated extra QEMU arguments, or NULL */
        const char *data_dir;      /* NULL: $HUSK_DATA_DIR or /var/lib/husk */
        const char *kernel;        /* NULL: <data_dir>/kernel/current/vmlinux */
        const char *initrd;        /* NULL: built from agent + modules, cached */
        const char *agent;         /* NULL: $HUSK_VM_AGENT, next to the program, or
                                      HUSK_AGENT_DEFAULT (see vm/boot.c) */
        const char *share_dir;     /* the guest's root; NULL: stay in the initramfs */
        bool share_ro;
        enum vm_share_kind share_kind;
        const char *extra_cmdline; /* appended to the kernel command line */
        unsigned vcpus;            /* 0: 1 */
        uint64_t mem_bytes;        /* 0: 128 MiB (64 MiB does not boot) */
        enum vm_accel accel;
        unsigned boot_timeout_ms;  /* 0: 60 s until the agent's READY */
        const char *cgroup_procs;  /* cgroup.procs file to put QEMU in, or NULL */
        bool die_with_parent;      /* SIGKILL QEMU/virtiofsd when the caller dies */
        const char *run_dir;       /* an empty directory for sockets and logs (from
                                      vm_run_dir_make), removed by vm_free; NULL: made */
        const char *guest_husk;    /* a static husk put in the initramfs as /husk: the
                                      agent stays in the initramfs (husk.oci=1) with the
                                      share at /newroot and cgroup2 mounted, and the
                                      process sets the container up; NULL: chroot */
        const struct vm_bind *binds; /* shared as tag "husk-binds"; kernel gets husk.binds=1 */
        size_t n_binds;
        bool net;                  /* a virtio-net device on the tap net_fd (open, given to
                                      QEMU as -netdev tap,fd=N: QEMU needs no privilege for
                                      it) with MAC net_mac; husk.net=1 on the command line */
        int net_fd;
        uint8_t net_mac[6];
};

#define HUSK_AGENT_DEFAULT "/usr/local/libexec/husk/husk-agent"

struct vm_process {
        char *const *args;  /* NULL-terminated, non-empty */
        char *const *env;   /* NULL-terminated, or NULL for a default PATH */
        const char *cwd;    /* NULL: "/" */
        uid_t uid;
        gid_t gid;
        bool terminal;
        unsigned short rows, cols;
        int stdin_fd;       /* -1: no input (EOF at once) */
        int stdout_fd;      /* -1: discard */
        int stderr_fd;      /* -1: discard */
        int signal_fd;      /* a signalfd whose signals are forwarded, or -1 */
        int session_listen_fd; /* a listening unix socket: while the process runs, a
                                  vm_session_start() client connected there runs
                                  another process in the same guest; -1: none */
        /* what the guest process wrote to its fd 3 (husk.oci=1 only) */
        void (*on_status)(void *arg, const uint8_t *data, size_t len);
        void *status_arg;
        const struct vm_file *files; /* written in the guest before the process starts;
                                        left out when they do not fit one SPEC frame */
        size_t n_files;
};

/* A file for the guest (path under /run/husk/, at most 64 KiB with its
 * path); the agent writes it best effort (a failure is logged on the
 * console). */
struct vm_file {
        const char *path;
        const void *data;
        size_t len;
};

/* Sessions at once per VM (besides the main process). */
#define VM_MAX_SESSIONS 32

/* Defaults: stdio 0/1/2, signal_fd -1, uid/gid 0. */
void vm_process_init(struct vm_process *p, char *const *args);

struct vm;

int vm_start(const struct vm_opts *o, struct vm **out, herr_t *err);
/* A new VM run directory $TMPDIR/husk-vm-XXXXXX (/tmp without TMPDIR):
 * callers that must remember it before the boot (to remove it after a
 * crash) make it first and pass it as vm_opts.run_dir. */
#define VM_RUN_DIR_PREFIX "husk-vm-"
int vm_run_dir_make(char **out, herr_t *err);
/* exit_status: the exit code, or 128 + signal number. */
int vm_exec(struct vm *vm, const struct vm_process *p, int *exit_status, herr_t *err);
/* Wait up to timeout_ms for QEMU to exit after the exit was acknowledged;
 * then kill it. Reaps QEMU and virtiofsd. */
int vm_wait(struct vm *vm, unsigned timeout_ms, herr_t *err);
pid_t vm_qemu_pid(const struct vm *vm);
/* An fd that polls readable when QEMU or virtiofsd exits (-1: none). */
int vm_watch_fd(const struct vm *vm);
/* 0 while QEMU (and virtiofsd, when the share uses it) run. Else -1 with
 * "WHAT: " and the cause in err; when virtiofsd died the guest lost its
 * root filesystem, so QEMU is stopped too. Both are reaped. */
int vm_daemons_check(struct vm *vm, const char *what, herr_t *err);
/* Which accelerator was chosen and why (one line, for a notice). */
const char *vm_accel_notice(const struct vm *vm);
/* Kill whatever still runs, reap, remove the run directory. NULL is fine. */
void vm_free(struct vm *vm);

/* The client end of a session: fd is a connection to the session_listen_fd
 * of a VM's vm_exec (the VM monitor's socket). EXEC runs p (args, env, cwd,
 * uid/gid, terminal, rows/cols) in the guest, PS prints the processes of
 * the guest's container (arg: 1 for JSON), KILL_ALL signals all of them
 * (arg: the signal). start returns once the guest runs it (*guest_pid: its
 * pid in the guest; 0 when it finished at once) or with the guest's reason; wait relays p's stdio and
 * signals and returns the exit status (code, or 128 + signal). */
enum vm_session_kind { VM_SESSION_EXEC, VM_SESSION_PS, VM_SESSION_KILL_ALL };
struct vm_session {
        int fd;
        uint8_t *rbuf;
        size_t rlen;
};
int vm_session_start(struct vm_session *s, int fd, enum vm_session_kind kind, uint32_t arg,
                     const struct vm_process *p, pid_t *guest_pid, herr_t *err);
int vm_session_wait(struct vm_session *s, const struct vm_process *p, int *exit_status, herr_t *err);
/* Closes fd too. */
void vm_session_close(struct vm_session *s);

int vm_run(const struct vm_opts *o, const struct vm_process *p, int *exit_status, herr_t *err);

/* ---- building blocks (vm/initramfs.c, vm/qemu.c, vm/kvm_probe.c) ---- */

/* Build (or reuse) DATA/initramfs/initramfs-<sha256>.cpio holding the agent
 * as /init and the modules VM mode needs (with their dependencies, in load
 * order) from modules_dir (…/lib/modules/<ver>). */
int vm_initramfs_get(const char *agent, const char *modules_dir, const char *cache_dir,
                     char **out_path, herr_t *err);
/* The layout and module list of husk's initramfs; part of its cache keys.
 * 3: modules without their signatures, virtio_net and its dependencies. */
#define VM_INITRAMFS_FORMAT "husk-initramfs-3"

/* The module load order resolved from the .ko files' depends= (testable). */
/* Same, with a static husk as /husk when guest_husk is not NULL. */
int vm_initramfs_get_with(const char *agent, const char *guest_husk, const char *modules_dir,
                          const char *cache_dir, char **out_path, herr_t *err);
int vm_modules_resolve(const char *modules_dir, char ***out_paths, herr_t *err);

/* Host TSC frequency in kHz (for tsc_early_khz=), 0 when unknown. */
unsigned long vm_host_tsc_khz(void);
/* The same, measured once per host boot and kept in dir/tsc-khz (vm/tsc.c). */
unsigned long vm_host_tsc_khz_cached(const char *dir);

/* Probe KVM by timing a tiny real-mode loop. Returns true when KVM is fit
 * for booting a guest; reason (always filled) says why or why not. */
bool vm_kvm_usable(char *reason, size_t len);

/* `husk check`: a few "vm: ..." lines (QEMU, kernel, share, accelerator and
 * why, vsock) in *report (malloc'd, always set); -1 when VM mode cannot run. */
int vm_check(const struct vm_opts *o, char **report, herr_t *err);

#endif
