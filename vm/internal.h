/* Shared between vm/boot.c, vm/qemu.c and vm/relay.c; not a public API. */
#ifndef HUSK_VM_INTERNAL_H
#define HUSK_VM_INTERNAL_H

#include "proto.h"
#include "vm.h"

struct vm {
        char *run_dir;        /* sockets and logs, removed by vm_free */
        char *ctl_path, *console_path, *qemu_log, *vfs_path;
        char *kernel, *initrd, *share_dir;
        enum vm_share_kind share; /* resolved: 9P, VIRTIOFS or NONE */
        enum vm_accel accel;      /* resolved: KVM or TCG */
        char accel_reason[160];
        pid_t qemu_pid, virtiofsd_pid;
        int qemu_status;          /* valid when qemu_pid was reaped (-1) */
        int listen_fd, ctl_fd;
        uint8_t rbuf[PROTO_HDR_LEN + PROTO_MAX_PAYLOAD];
        size_t rlen;
        bool die_with_parent;
        unsigned long tsc_khz;    /* for tsc_early_khz= under TCG; 0: unknown */
};

/* Build QEMU's argv for vm (and opts) into a NULL-terminated strv. */
int vm_qemu_argv(const struct vm *vm, const struct vm_opts *o, char ***out, herr_t *err);
/* fork+exec argv with stdin /dev/null, stdout+stderr to log. */
int vm_spawn(char **argv, const char *log, const char *cgroup_procs, bool die_with_parent,
             pid_t *pid, herr_t *err);
/* Wait for pid to exit for up to timeout_ms (-1: forever). 1: reaped
 * (status filled), 0: still running. */
int vm_reap(pid_t pid, int timeout_ms, int *status);
/* "exited with status 3" / "killed by signal 9" */
void vm_describe_status(int status, char *buf, size_t len);
/* The last bytes of a log file, newlines as spaces, for error messages. */
void vm_file_tail(const char *path, char *buf, size_t len);
/* The last lines of the guest console, for error messages. */
void vm_console_tail(const struct vm *vm, char *buf, size_t len);
/* Fill err with why the guest is gone: "WHAT: QEMU <status>: <qemu log
 * tail> (console: <tail>)", reaping QEMU if it exited. Returns -1. */
int vm_gone(struct vm *vm, const char *what, herr_t *err);

#endif
