/* runtime/vm_net.h: the network of a VM-mode container, host side.
 *
 *   --net bridge  a tap on the bridge (net_tap_create, not persistent: it
 *                 lives while QEMU holds its fd), a virtio-net device on it,
 *                 and the allocation sent to husk in the guest, which moves
 *                 eth0 into the container's network namespace there;
 *                 -p publishes to the guest's address as for a container
 *   --net none    nothing on the host; lo only in the guest's container
 *   --net host    an error: the VM's kernel has its own network stack
 * delete's network_teardown removes the allocation, rules and tap. */
#ifndef HUSK_RUNTIME_VM_NET_H
#define HUSK_RUNTIME_VM_NET_H

#include <stdbool.h>

#include "../common/error.h"
#include "../net/net.h"
#include "container.h"

struct vm_net {
        int tap_fd;           /* for QEMU, or -1 */
        struct net_alloc alloc;
        char *guest;          /* the text for husk vm-guest (net.h), or NULL */
};

#define VM_NET_INIT { .tap_fd = -1 }

/* Before anything is made: the modes a VM can have. */
int vm_net_check(const struct create_opts *o, const struct oci_config *cfg, herr_t *err);
/* After the state directory exists. with_guest: husk runs in the guest
 * (without it the process runs in a chroot of the VM and gets no network). */
int vm_net_setup(const struct create_opts *o, const struct oci_config *cfg, bool with_guest, struct vm_net *n,
                 herr_t *err);
/* Close the tap fd (the caller's copy) and free the text. */
void vm_net_release(struct vm_net *n);

#endif
