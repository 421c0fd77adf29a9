/* runtime/vm_binds.h: bind mounts of host paths in VM mode.
 *
 * Host side (create): every bind mount of config.json whose source is a
 * host directory or file is shared into the guest (vm/binds.c stages it as
 * entry "<index>" of the share "husk-binds"); a missing source is an error
 * naming the mount, before anything is made. Device nodes are bound from
 * the guest's own /dev (a host device means nothing in the VM); sockets and
 * fifos cannot be shared and are refused.
 *
 * Guest side (husk vm-guest): the share is mounted at VM_GUEST_BINDS and the
 * source of each shared mount is rewritten to its entry there; the native
 * mount code then binds it with the requested options (ro, nosuid, ...). */
#ifndef HUSK_RUNTIME_VM_BINDS_H
#define HUSK_RUNTIME_VM_BINDS_H

#include <stddef.h>

#include "../common/error.h"
#include "../spec/config.h"
#include "../vm/vm.h"

#define VM_GUEST_BINDS "/run/husk-binds"

struct vm_bind_plan {
        struct vm_bind *binds;
        size_t n;
};

/* Check and resolve the bind sources of cfg (relative ones against bundle). */
int vm_binds_plan(const struct oci_config *cfg, const char *bundle, struct vm_bind_plan *out, herr_t *err);
void vm_binds_plan_free(struct vm_bind_plan *p);

/* A bind mount (type "bind" or option bind/rbind). */
bool vm_mount_is_bind(const struct oci_mount *m);

/* In the guest: mount the share when the host made one (husk.binds=1 on the
 * kernel command line) and point the shared mounts' sources at it. */
int vm_guest_binds(struct oci_config *cfg, herr_t *err);

#endif
