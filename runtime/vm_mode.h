/* runtime/vm_mode.h: VM mode in the container lifecycle.
 *
 * A VM-mode container is a small monitor process (forked at create, its pid
 * is the container's pid in state.json) that boots QEMU with husk's guest
 * agent (vm/), the bundle's rootfs shared as the guest's root. The monitor
 * listens on the container's start.sock like the native init, so start,
 * state, kill (forwarded to the guest process), delete, pid files and
 * `run` (exit status = the monitor's) work unchanged. */
#ifndef HUSK_RUNTIME_VM_MODE_H
#define HUSK_RUNTIME_VM_MODE_H

#include <stdbool.h>
#include <stdint.h>

#include "../common/error.h"
#include "../spec/config.h"
#include "cli.h"
#include "container.h"

/* The file in the state dir where the monitor writes why the VM ended
 * ("exited 3", or the QEMU/agent failure). */
/* husk's --root inside the guest (runtime/vm_guest.c) */
#define VM_GUEST_ROOT "/run/husk"

/* A file for the guest's husk, made on the host. */
struct vm_guest_file {
        char path[64];
        unsigned char *data; /* malloc'd */
        size_t len;
};

/* The compiled seccomp filter of cfg as an entry of the guest's filter
 * cache (compiled here, with the host cache under root). false: none (no
 * linux.seccomp, or it failed here: the guest's husk reports why). */
bool vm_seccomp_entry(const struct oci_config *cfg, const char *root, struct vm_guest_file *f);

#define VM_STATE_REASON "vm-exit"
/* `husk state` of a stopped VM container: the annotation carrying that
 * reason for the user. */
#define VM_EXIT_ANNOTATION "husk.vm.exit"
/* The file in the state dir naming the VM's run directory (sockets, logs). */
#define VM_STATE_RUNDIR "vm-rundir"

/* The environment variable naming the host's bundle to husk vm-guest (the
 * bundle of the state document its hooks read). */
#define VM_GUEST_BUNDLE_ENV "HUSK_VM_BUNDLE"

/* Set in the guest (husk vm-guest): containers there are native. */
extern bool vm_mode_guest;

/* `husk vm-guest ID CONFIG_JSON` (runtime/vm_guest.c). */
int cmd_vm_guest(struct cli *c, int argc, char **argv, herr_t *err);

/* VM mode is asked for: `--vm`, the config's `vm` object, or the
 * annotation run.oci.handler=vm. */
bool vm_mode_wanted(const struct oci_config *cfg, bool flag);

/* The VM's size for cfg (0: vm/'s default): vm.hwConfig, else memory =
 * linux.resources.memory.limit + 64 MiB (at least 128 MiB), vCPUs =
 * ceil(cpu.quota / cpu.period) capped at the host's CPUs. */
void vm_mode_size(const struct oci_config *cfg, uint64_t *mem_bytes, unsigned *vcpus);

/* container_create() for VM mode (same contract). */
int vm_container_create(const struct create_opts *o, struct oci_config *cfg,
                        struct container_state *st, herr_t *err);

/* Why the VM ended (the first line of VM_STATE_REASON, malloc'ed), or
 * NULL when the monitor wrote none (it still runs, or was killed). */
char *vm_container_exit_reason(int dirfd);
/* Add VM_EXIT_ANNOTATION with that reason to st's annotations (for a
 * stopped container: no reason says the monitor was killed); -1 only when
 * out of memory. */
int vm_container_annotate_exit(int dirfd, struct container_state *st);

/* delete: remove what a killed monitor left (the VM run directory). */
void vm_container_cleanup(int dirfd);

/* The `husk check` command table. */
const struct command *commands_vm(void);

#endif
