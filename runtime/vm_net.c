/* runtime/vm_net.c: the network of a VM-mode container, host side. */
#include "vm_net.h"

#include <errno.h>
#include <stdlib.h>
#include <unistd.h>

int vm_net_check(const struct create_opts *o, const struct oci_config *cfg, herr_t *err)
{
        if (!o->net || o->net->mode == NET_MODE_DEFAULT)
                return 0;
        if (o->net->mode == NET_MODE_HOST)
                return herr_set(err, 0, "--net host: a VM-mode container cannot share the host's network "
                                "namespace (the VM runs its own kernel); use --net bridge or --net none");
        const struct oci_namespace *ns = oci_config_namespace(cfg, OCI_NS_NETWORK);
        if (ns && ns->path)
                return herr_set(err, 0, "--net %s: config.json joins the network namespace %s",
                                net_mode_name(o->net->mode), ns->path);
        return 0;
}

int vm_net_setup(const struct create_opts *o, const struct oci_config *cfg, bool with_guest, struct vm_net *n,
                 herr_t *err)
{
        if (!o->net || o->net->mode == NET_MODE_DEFAULT)
                return 0;
        if (!with_guest) {
                if (o->net->mode == NET_MODE_BRIDGE)
                        husk_warn("VM mode: --net bridge needs husk-guest (make vm-guest): the VM gets no network");
                return 0;
        }
        struct net_opts opts = *o->net;
        if (!opts.hostname && cfg->hostname)
                opts.hostname = cfg->hostname;
        if (opts.mode == NET_MODE_BRIDGE &&
            net_tap_create(&opts, o->root, o->id, &n->alloc, &n->tap_fd, err) < 0)
                return -1;
        return net_guest_format(&opts, opts.mode == NET_MODE_BRIDGE ? &n->alloc : NULL, &n->guest, err);
}

void vm_net_release(struct vm_net *n)
{
        if (n->tap_fd >= 0)
                close(n->tap_fd);
        n->tap_fd = -1;
        free(n->guest);
        n->guest = NULL;
}
