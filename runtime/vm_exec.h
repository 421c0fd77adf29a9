/* runtime/vm_exec.h: exec, ps and kill --all of a VM-mode container, as
 * sessions with its VM monitor (runtime/vm_exec.c). */
#ifndef HUSK_RUNTIME_VM_EXEC_H
#define HUSK_RUNTIME_VM_EXEC_H

#include <stdbool.h>

#include "../common/error.h"
#include "../spec/config.h"
#include "exec.h"

/* In the state dir: the monitor's session socket (0600), while the
 * container's process runs. */
#define VM_EXEC_SOCK "exec.sock"

/* The monitor: bind and listen on <dirfd>/exec.sock. */
int vm_exec_socket(int dirfd, herr_t *err);

/* container_exec() for a VM-mode container whose state dir is *dirfd (closed
 * and set to -1 once the session is open). p's args, env, cwd, uid/gid and
 * terminal go to the guest, where the process gets the container's
 * namespaces, cgroup, capabilities and seccomp filter. Returns the exit
 * status (code, or 128+N), 0 with detach, or -1 with err. */
int vm_container_exec(const struct exec_opts *o, const struct oci_process *p, int *dirfd, const char *status,
                      herr_t *err);

/* husk ps: what `husk ps [--format json]` prints in the guest (guest pids).
 * Returns the exit status of that, or -1 with err. */
int vm_container_ps(int dirfd, const char *id, const char *status, bool json, herr_t *err);

/* husk kill --all: every process of the container in the guest. */
int vm_container_kill_all(int dirfd, const char *id, const char *status, int sig, herr_t *err);

#endif
