/* net/net.h: container networking (issue 9).
 *
 * Modes: none (a new netns with lo up only), host (the runtime's netns),
 * bridge (a bridge, default husk0 with 10.88.0.1/16, a veth pair per
 * container whose peer is eth0 in the container, an address from a
 * file-locked allocator, a default route, resolv.conf and hosts, IPv4
 * masquerade and -p port publishing). Links, addresses and routes use
 * libnl-route-3; nftables rules go through the `nft` command (package
 * nftables) into a husk-owned table, `table ip husk` for husk0.
 *
 * Files under the state root (--root):
 *   <root>/.husk-net/<bridge>.ipam   allocations "ADDR ID PORTS", flock'ed
 *   <root>/<id>/net.rec              what net_setup made, for net_teardown
 *   <root>/.husk-net/files/<id>/{hosts,resolv.conf}  bind-mounted into the
 *                                    container (runtime/network.c's choice)
 * The bridge and its nft table are made by the first container on the
 * bridge and removed with the last one.
 */
#ifndef HUSK_NET_NET_H
#define HUSK_NET_NET_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>
#include <netinet/in.h>

#include "../common/error.h"
#include "../spec/config.h"

#define NET_DEFAULT_BRIDGE "husk0"
#define NET_DEFAULT_SUBNET "10.88.0.0/16"

enum net_mode {
        NET_MODE_DEFAULT = 0, /* leave the config's network namespace alone */
        NET_MODE_NONE,
        NET_MODE_HOST,
        NET_MODE_BRIDGE,
};

enum net_proto { NET_TCP = 0, NET_UDP = 1 };

struct net_port {
        uint16_t host_port;
        uint16_t container_port;
        enum net_proto proto;
};

struct net_guest;

struct net_opts {
        enum net_mode mode;
        const char *bridge;        /* NULL: husk0 */
        const char *subnet;        /* NULL: 10.88.0.0/16 */
        struct net_port *ports; size_t n_ports;
        const char *hostname;      /* NULL: the config's hostname, else the id */
        const char **dns; size_t n_dns; /* NULL: the host's non-loopback nameservers */
        const struct net_guest *guest; /* inside a VM: eth0 exists, see net_guest_parse */
};

/* What net_setup made, for the caller (and for a VM's guest config). */
struct net_alloc {
        char ifname[16];           /* host side: veth or tap */
        struct in_addr addr;       /* container address */
        struct in_addr gateway;    /* the bridge's address */
        int prefix;
        uint8_t mac[6];            /* container side (tap: the guest's) */
};

/* ---------------------------------------------------------------- parsing */
/* "none" | "host" | "bridge": "--net foo: unknown mode (none, host, bridge)". */
int net_parse_mode(const char *s, enum net_mode *out, herr_t *err);
const char *net_mode_name(enum net_mode m);
/* HOSTPORT:CPORT[/tcp|udp], e.g. "-p 80:abc: container port must be 1-65535". */
int net_parse_port(const char *spec, struct net_port *out, herr_t *err);
/* A.B.C.D/N with 8 <= N <= 30, host bits zero. */
int net_parse_subnet(const char *s, struct in_addr *net, int *prefix, herr_t *err);

/* -------------------------------------------------------- address allocator */
/* Allocate the lowest free address of subnet (first host = gateway, never
 * handed out) for id on bridge; ports are recorded with it and refused when
 * another allocation under root publishes the same host port. */
int net_ipam_alloc(const char *root, const char *bridge, const char *subnet, const char *id,
                   const struct net_port *ports, size_t n_ports, struct in_addr *out,
                   bool *first, herr_t *err);
/* Release id's allocation; *empty tells whether none is left on bridge. */
int net_ipam_release(const char *root, const char *bridge, const char *id, bool *empty, herr_t *err);
/* Number of allocations on bridge (tests). */
int net_ipam_count(const char *root, const char *bridge, herr_t *err);

/* -------------------------------------------------------------- life cycle */
/* Bring lo up in the calling process's network namespace (the init calls
 * this right after creating a new one). */
int net_lo_up(herr_t *err);

/* Before create: set the network namespace of cfg for the mode (none and
 * bridge: a new one, host: none), and for none/bridge add bind mounts of
 * <files_dir>/{hosts,resolv.conf} (created empty here, written by
 * net_setup) over /etc/hosts and /etc/resolv.conf; host mode binds the
 * host's files read-only. A netns path in cfg is kept untouched (and the
 * mode must then be the default). */
int net_prepare_config(struct oci_config *cfg, const struct net_opts *o, const char *files_dir,
                       herr_t *err);

/* Bridge mode, with the init's netns in place (pid init_pid): allocate,
 * make the bridge and nft table when first, the veth pair (eth0 inside),
 * address, route, port rules, and write hosts/resolv.conf into files_dir.
 * The record <root>/<id>/net.rec is written before anything is made. On
 * failure everything made is undone. Other modes: only the files. */
int net_setup(const struct net_opts *o, const char *root, const char *id, pid_t init_pid,
              const char *files_dir, struct net_alloc *out, herr_t *err);

/* VM mode: a tap device on the bridge, with an address allocated for the
 * guest (out->addr, ->gateway, ->prefix, ->mac); o->ports are published to
 * the guest's address. tap_fd NULL: a persistent tap, attached by name.
 * Else a non-persistent one whose open queue (O_CLOEXEC) is returned for
 * QEMU (-netdev tap,fd=N): the kernel removes the tap when its last holder
 * (QEMU) exits, so a crash of QEMU cannot leave it behind. Undone (the
 * allocation, rules, and the tap if still there) by net_teardown. */
int net_tap_create(const struct net_opts *o, const char *root, const char *id,
                   struct net_alloc *out, int *tap_fd, herr_t *err);

/* ------------------------------------------------ the VM guest's network
 * A VM-mode container in bridge mode gets a tap on the host and eth0
 * (virtio-net) in the VM; husk in the guest moves eth0 into the container's
 * network namespace and configures it as net_setup does for a veth. What
 * the guest needs travels as a small text with the container's config over
 * the VM's control channel (net_guest_format on the host, net_guest_parse
 * in the guest):
 *   mode bridge|none
 *   addr 10.88.0.2/16
 *   gateway 10.88.0.1
 *   resolv <one line of resolv.conf>     (any number)
 */
struct net_guest {
        struct in_addr addr, gateway;
        int prefix;
        char *resolv; /* resolv.conf as the host would write it */
};

/* alloc: the tap's allocation (bridge mode), NULL for none. *out malloc'd. */
int net_guest_format(const struct net_opts *o, const struct net_alloc *alloc, char **out, herr_t *err);
/* Fill o (mode, guest) and g from text; g->resolv is malloc'd (free it). */
int net_guest_parse(const char *text, struct net_opts *o, struct net_guest *g, herr_t *err);

/* Undo what <root>/<id>/net.rec lists (missing objects are fine), release
 * the allocation, remove the bridge and table with the last container.
 * A veth pair whose container netns is dying (no reference left) is only
 * taken off the bridge: the kernel's cleanup of that netns removes it a
 * few ms later. No record: nothing to do. */
int net_teardown(const char *root, const char *id, herr_t *err);

#endif
