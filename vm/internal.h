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
        int watch_fd, watch_pidfd[2]; /* vm/watch.c: epoll over QEMU's and virtiofsd's pidfds */
        uint8_t rbuf[PROTO_HDR_LEN + PROTO_MAX_PAYLOAD];
        size_t rlen;
        bool die_with_parent;
        /* bind sources (vm/binds.c): staged in binds_dir in a private mount
         * namespace of their server (virtiofsd, or QEMU for 9p) */
        struct vm_bind *binds;
        size_t n_binds;
        char *binds_dir, *binds_sock;
        pid_t binds_pid;
        unsigned long tsc_khz;    /* for tsc_early_khz= under TCG; 0: unknown */
};

/* Build QEMU's argv for vm (and opts) into a NULL-terminated strv. */
int vm_qemu_argv(const struct vm *vm, const struct vm_opts *o, char ***out, herr_t *err);
/* fork+exec argv with stdin /dev/null, stdout+stderr to log. */
int vm_spawn(char **argv, const char *log, const char *cgroup_procs, bool die_with_parent,
             pid_t *pid, herr_t *err);
/* vm_spawn with prep(arg) called in the child just before exec (it
 * _exits on failure, after writing why to stderr, which is the log). */
int vm_spawn_prep(char **argv, const char *log, const char *cgroup_procs, bool die_with_parent,
                  void (*prep)(const struct vm *), const struct vm *arg, pid_t *pid, herr_t *err);

/* vm/binds.c: copy o->binds into vm and name the staging paths (run_dir
 * must exist). */
int vm_binds_init(struct vm *vm, const struct vm_opts *o, herr_t *err);
/* Start the virtiofsd serving the binds (virtiofs share only). */
int vm_binds_start(struct vm *vm, herr_t *err);
/* In the forked child of the server: a private mount namespace with a
 * tmpfs on binds_dir holding one bind mount per entry. */
void vm_binds_stage(const struct vm *vm);

/* QEMU's RLIMIT_NOFILE (soft and hard). */
#define VM_QEMU_NOFILE 1024
/* Reap the binds server within timeout_ms, else kill it. */
void vm_binds_stop(struct vm *vm, int timeout_ms);
/* Kill the server and free what vm_binds_init made. */
void vm_binds_free(struct vm *vm);

/* Wait for pid to exit for up to timeout_ms (-1: forever). 1: reaped
 * (status filled), 0: still running. */
int vm_reap(pid_t pid, int timeout_ms, int *status);
/* "exited with status 3" / "killed by signal 9" */
void vm_describe_status(int status, char *buf, size_t len);
/* The last bytes of a log file, newlines as spaces, for error messages. */
void vm_file_tail(const char *path, char *buf, size_t len);
/* The last lines of the guest console, for error messages. */
void vm_console_tail(const struct vm *vm, char *buf, size_t len);
/* vm/watch.c: open / close the watch over QEMU and virtiofsd (after both
 * are spawned; a failure leaves watch_fd -1 and callers poll less well). */
int vm_watch_open(struct vm *vm);
void vm_watch_close(struct vm *vm);
/* The guest kernel's panic message ("Attempted to kill init! ...") from
 * the end of the console log: true when it panicked. */
bool vm_console_panic(const struct vm *vm, char *buf, size_t len);
/* Fill err with why the guest is gone: "WHAT: QEMU <status>: <qemu log
 * tail> (console: <tail>)", reaping QEMU if it exited. Returns -1. */
int vm_gone(struct vm *vm, const char *what, herr_t *err);

/* vm/relay.c: a frame for the guest (id 0: no session id), queued until the
 * channel takes it; busy while frames wait (session clients are not read
 * then: backpressure). */
struct relay;
int relay_queue_id(struct relay *r, uint32_t type, uint32_t id, const void *data, size_t len, herr_t *err);
bool relay_busy(const struct relay *r);

/* vm/sessions.c: the VM side of vm_session_* clients, inside vm_exec. */
struct vm_sessions;
struct pollfd;
struct vm_sessions *sessions_new(int listen_fd);
/* Tell the clients still connected why their process is gone (ERROR) and free. */
void sessions_free(struct vm_sessions *s, const char *why);
/* Fill up to max pollfds (the listening socket, the clients); returns how many. */
size_t sessions_pollfds(struct vm_sessions *s, const struct relay *r, struct pollfd *p, size_t max);
/* Act on the pollfds filled above: accept, read client frames, queue them for the guest. */
int sessions_pump(struct vm_sessions *s, struct relay *r, const struct pollfd *p, size_t n, herr_t *err);
/* A session frame from the guest: to its client, with the client's types. */
int sessions_guest_frame(struct vm_sessions *s, const struct frame *f, herr_t *err);

#endif
