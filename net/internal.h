/* net/internal.h: the pieces of net/ behind net.h. */
#ifndef HUSK_NET_INTERNAL_H
#define HUSK_NET_INTERNAL_H

#include "net.h"

struct nl_sock;

#define NET_DIR ".husk-net"
#define NET_RECORD "net.rec"

/* ipam.c: the allocation files, under an flock of <root>/.husk-net (the
 * returned fd; ipam_unlock closes it). */
int ipam_lock(const char *root, herr_t *err);
void ipam_unlock(int dfd);
int ipam_alloc_locked(int dfd, const char *root, const char *bridge, const char *subnet, const char *id,
                      const struct net_port *ports, size_t n_ports, struct in_addr *out, bool *first,
                      herr_t *err);
int ipam_release_locked(int dfd, const char *bridge, const char *id, bool *empty, herr_t *err);

/* link.c: rtnetlink through libnl-route-3. */
/* A connected NETLINK_ROUTE socket in the netns of pid (0: our own). */
struct nl_sock *netlink_open(pid_t pid, herr_t *err);
void netlink_close(struct nl_sock *sk);
int link_up(struct nl_sock *sk, const char *name, herr_t *err);
/* The bridge with gw/prefix on it, up; *made when it was created here. */
int link_bridge_ensure(struct nl_sock *sk, const char *name, struct in_addr gw, int prefix, bool *made,
                       herr_t *err);
/* veth host_name (master bridge, up) <-> peer_name in pid's netns (up). */
int link_veth_create(struct nl_sock *sk, const char *host_name, const char *bridge, const char *peer_name,
                     pid_t pid, herr_t *err);
/* Delete a link; a missing one is not an error. */
int link_delete(struct nl_sock *sk, const char *name, herr_t *err);
int link_exists(struct nl_sock *sk, const char *name);
int link_set_master_up(struct nl_sock *sk, const char *name, const char *master, herr_t *err);
/* 1: the veth name is gone, or its pair goes with its peer's network
 * namespace, which no reference keeps alive any more (the kernel's
 * asynchronous cleanup of that namespace deletes both ends); 0: the peer's
 * namespace lives (something still holds it); -1: error. */
int link_veth_dying(struct nl_sock *sk, const char *name, herr_t *err);
/* Take a link off its bridge; a missing one is not an error. */
int link_nomaster(struct nl_sock *sk, const char *name, herr_t *err);
/* Move a link into the network namespace of pid. */
int link_move_to_pid(struct nl_sock *sk, const char *name, pid_t pid, herr_t *err);
int addr_add(struct nl_sock *sk, const char *ifname, struct in_addr a, int prefix, herr_t *err);

/* ifioctl.c: interface ioctls on an AF_INET datagram socket made in the
 * network namespace of pid (0: our own), for the container's side: unlike a
 * netlink socket it drops its hold on the namespace at close. */
int ifc_open(pid_t pid, herr_t *err);
int ifc_up(int fd, const char *ifname, herr_t *err);
int ifc_addr(int fd, const char *ifname, struct in_addr a, int prefix, herr_t *err);
int ifc_route_default(int fd, const char *ifname, struct in_addr gw, herr_t *err);
int ifc_mac(int fd, const char *ifname, uint8_t mac[6], herr_t *err);

/* nft.c: the nft command with a script on stdin; *out gets its stdout
 * (with -e -a: the added rules with "# handle N"). */
int nft_run(const char *script, bool echo, char **out, herr_t *err);
/* Handles of the "# handle N" lines of out, in order (at most max). */
size_t nft_handles(const char *out, unsigned long *h, size_t max);

/* setup.c: /etc/hosts and resolv.conf of a container (rewritten in place:
 * they are bind-mount sources); addr NULL: 127.0.1.1 for the hostname. */
int net_write_hosts(const char *dir, const char *hostname, const char *addr, herr_t *err);
int net_write_in_place(const char *dir, const char *name, const char *data, herr_t *err);
/* resolv.conf's text for o: o->dns, else the host's non-loopback
 * nameservers with its search and options lines (malloc'd, NULL: ENOMEM). */
char *net_resolv_text(const struct net_opts *o);

/* vmguest.c: net_setup inside a VM (o->guest set): eth0 into pid's netns. */
int net_guest_setup(const struct net_opts *o, pid_t init_pid, const char *files_dir, const char *hostname,
                    herr_t *err);

/* Replace a file atomically (rename), without fsync. */
int net_write_file(const char *path, const char *data, size_t len, herr_t *err);

#endif
