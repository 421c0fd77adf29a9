/* runtime/container.h: the lifecycle of runtime.md, composed from spec/,
 * namespaces/, cgroups/ and the rootfs/process steps. */
#ifndef HUSK_RUNTIME_CONTAINER_H
#define HUSK_RUNTIME_CONTAINER_H

#include <stdbool.h>
#include <sys/types.h>

#include "../common/error.h"
#include "../net/net.h" /* net: networking (issue 9) */
#include "../spec/config.h"
#include "state.h"

struct create_opts {
        const char *root;           /* --root */
        const char *id;
        const char *bundle;         /* absolute */
        const char *pid_file;
        const char *console_socket; /* path, or NULL */
        int console_fd;             /* connected console socket, or -1 */
        bool no_pivot;
        bool no_new_keyring;
        int preserve_fds;           /* extra fds after 3 (incl. LISTEN_FDS) */
        const char *image;          /* for `list` when created from an image */
        const char *storage;        /* its image store (released at delete) */
        bool vm;                    /* --vm / run --vm (runtime/vm_mode.h) */
        const char *config_json;    /* the bundle's config.json as read */
        size_t config_len;
        const struct net_opts *net; /* net: --net/-p, NULL: the config as is */
};

/* An existing container, its directory locked (LOCK_SH or LOCK_EX), its
 * record loaded and its status derived. */
struct opened {
        int dirfd;
        struct container_state st;
        const char *status;
};
int container_open(const char *root, const char *id, int lock, struct opened *o, herr_t *err);
void container_close(struct opened *o);

/* create: everything up to the user's program; on return the container is
 * "created" and its init waits for start. On failure nothing is left. */
int container_create(const struct create_opts *o, struct oci_config *cfg,
                     struct container_state *st, herr_t *err);

/* create_record.c: the state record of a new container (id, bundle,
 * rootfs, owner, command, annotations, ...), the copy of its config.json
 * in its state directory, the pid file. */
int container_record(struct container_state *st, const struct create_opts *o, const struct oci_config *cfg,
                     herr_t *err);
int container_save_config(int dirfd, const struct create_opts *o, herr_t *err);
int write_pid_file(const char *path, pid_t pid, herr_t *err);
/* Reserve fd numbers 3 .. 3+n-1 (the preserved fds) so none of husk's own
 * fds lands there. */
void reserve_fds(int n);
/* The listening start socket (<dirfd>/start.sock) the init, or the VM
 * monitor, waits on until `husk start`. */
int container_start_socket(int dirfd, herr_t *err);

/* The checks of create_checks.c: a config that would change the host or
 * could only fail half-way is refused before anything is made. */
int create_check_config(const struct oci_config *cfg, herr_t *err);

/* start: startContainer hooks run, the user's program is executed, the
 * poststart hooks run. */
int container_start(const char *root, const char *id, herr_t *err);
/* The same with the config the container was created from, already parsed
 * (husk run), instead of reading it back from the state directory. */
int container_start_cfg(const char *root, const char *id, const struct oci_config *cfg, herr_t *err);

/* kill: signal the init (all: every process of the container). */
int container_kill(const char *root, const char *id, int sig, bool all, herr_t *err);

/* delete: a stopped container (force: any) is destroyed; poststop hooks. */
int container_delete(const char *root, const char *id, bool force, herr_t *err);
int container_delete_cfg(const char *root, const char *id, bool force, const struct oci_config *cfg,
                         herr_t *err);

/* The container's config as it was at create (saved in its state dir). */
int container_config(int dirfd, struct oci_config **cfg, herr_t *err);

/* Warnings are logged, never fatal. */
void husk_warn(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void husk_warn_str(const char *msg);

#endif
