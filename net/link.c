/* net/link.c: links, addresses and routes with libnl-route-3. */
#include "internal.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <net/if.h>
#include <sched.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include <netlink/netlink.h>
#include <netlink/route/addr.h>
#include <netlink/route/link.h>
#include <netlink/route/link/veth.h>

/* "what: cause" from a libnl error code. */
#define NLERR(err, rc, ...)                                                              \
        ({                                                                               \
                char _w[256];                                                            \
                snprintf(_w, sizeof _w, __VA_ARGS__);                                    \
                herr_set((err), 0, "%s: %s", _w, nl_geterror(rc));                       \
        })

struct nl_sock *netlink_open(pid_t pid, herr_t *err)
{
        int self = -1, target = -1;
        if (pid > 0) {
                char p[64];
                snprintf(p, sizeof p, "/proc/%d/ns/net", (int)pid);
                self = open("/proc/self/ns/net", O_RDONLY | O_CLOEXEC);
                target = open(p, O_RDONLY | O_CLOEXEC);
                if (self < 0 || target < 0) {
                        herr_sys(err, "network namespace of pid %d", (int)pid);
                        goto fail;
                }
                if (setns(target, CLONE_NEWNET) < 0) {
                        herr_sys(err, "enter the network namespace of pid %d", (int)pid);
                        goto fail;
                }
        }
        struct nl_sock *sk = nl_socket_alloc();
        int rc = sk ? nl_connect(sk, NETLINK_ROUTE) : -NLE_NOMEM;
        if (pid > 0 && setns(self, CLONE_NEWNET) < 0) {
                /* Cannot happen for root; never go on in the wrong netns. */
                herr_sys(err, "return to husk's network namespace");
                if (sk)
                        nl_socket_free(sk);
                abort();
        }
        if (self >= 0)
                close(self);
        if (target >= 0)
                close(target);
        if (rc < 0) {
                if (sk)
                        nl_socket_free(sk);
                NLERR(err, rc, "rtnetlink socket");
                return NULL;
        }
        return sk;
fail:
        if (self >= 0)
                close(self);
        if (target >= 0)
                close(target);
        return NULL;
}

void netlink_close(struct nl_sock *sk)
{
        if (sk)
                nl_socket_free(sk);
}

static int get_link(struct nl_sock *sk, const char *name, struct rtnl_link **out)
{
        return rtnl_link_get_kernel(sk, 0, name, out);
}

/* The link name as the kernel has it and an empty change request for it:
 * 1 with both (put them), 0 when missing and missing_ok, -1 on error. */
static int change_begin(struct nl_sock *sk, const char *name, bool missing_ok, struct rtnl_link **orig,
                        struct rtnl_link **ch, herr_t *err)
{
        *orig = *ch = NULL;
        int rc = get_link(sk, name, orig);
        if (missing_ok && (rc == -NLE_OBJ_NOTFOUND || rc == -NLE_NODEV))
                return 0;
        if (rc < 0)
                return NLERR(err, rc, "link %s", name);
        if (!(*ch = rtnl_link_alloc())) {
                rtnl_link_put(*orig);
                return herr_set(err, ENOMEM, "link %s", name);
        }
        return 1;
}

int link_exists(struct nl_sock *sk, const char *name)
{
        struct rtnl_link *l = NULL;
        int rc = get_link(sk, name, &l);
        if (l)
                rtnl_link_put(l);
        return rc == 0;
}

static int ifindex_of(struct nl_sock *sk, const char *name, herr_t *err)
{
        struct rtnl_link *l = NULL;
        int rc = get_link(sk, name, &l);
        if (rc < 0)
                return NLERR(err, rc, "link %s", name);
        int idx = rtnl_link_get_ifindex(l);
        rtnl_link_put(l);
        return idx;
}

int link_set_master_up(struct nl_sock *sk, const char *name, const char *master, herr_t *err)
{
        struct rtnl_link *orig, *ch;
        int rc = change_begin(sk, name, false, &orig, &ch, err);
        if (rc < 0)
                return -1;
        if (master) {
                int m = ifindex_of(sk, master, err);
                if (m < 0) {
                        rtnl_link_put(ch);
                        rtnl_link_put(orig);
                        return -1;
                }
                rtnl_link_set_master(ch, m);
        }
        rtnl_link_set_flags(ch, IFF_UP);
        rc = rtnl_link_change(sk, orig, ch, 0);
        rtnl_link_put(ch);
        rtnl_link_put(orig);
        if (rc < 0)
                return NLERR(err, rc, "link %s: set up%s%s", name, master ? " on " : "", master ? master : "");
        return 0;
}

int link_up(struct nl_sock *sk, const char *name, herr_t *err)
{
        return link_set_master_up(sk, name, NULL, err);
}

int addr_add(struct nl_sock *sk, const char *ifname, struct in_addr a, int prefix, herr_t *err)
{
        int idx = ifindex_of(sk, ifname, err);
        if (idx < 0)
                return -1;
        struct rtnl_addr *ra = rtnl_addr_alloc();
        struct nl_addr *local = nl_addr_build(AF_INET, &a, sizeof a);
        int rc = -NLE_NOMEM;
        if (ra && local) {
                nl_addr_set_prefixlen(local, prefix);
                rtnl_addr_set_ifindex(ra, idx);
                rtnl_addr_set_family(ra, AF_INET);
                rc = rtnl_addr_set_local(ra, local);
                if (rc == 0)
                        rc = rtnl_addr_add(sk, ra, 0);
        }
        if (local)
                nl_addr_put(local);
        if (ra)
                rtnl_addr_put(ra);
        if (rc < 0 && rc != -NLE_EXIST) {
                char s[INET_ADDRSTRLEN];
                inet_ntop(AF_INET, &a, s, sizeof s);
                return NLERR(err, rc, "address %s/%d on %s", s, prefix, ifname);
        }
        return 0;
}

int link_bridge_ensure(struct nl_sock *sk, const char *name, struct in_addr gw, int prefix, bool *made,
                       herr_t *err)
{
        *made = false;
        if (!link_exists(sk, name)) {
                struct rtnl_link *l = rtnl_link_alloc();
                if (!l)
                        return herr_set(err, ENOMEM, "bridge %s", name);
                rtnl_link_set_name(l, name);
                int rc = rtnl_link_set_type(l, "bridge");
                rtnl_link_set_flags(l, IFF_UP);
                if (rc == 0)
                        rc = rtnl_link_add(sk, l, NLM_F_CREATE | NLM_F_EXCL);
                rtnl_link_put(l);
                if (rc < 0 && rc != -NLE_EXIST)
                        return NLERR(err, rc, "create bridge %s", name);
                *made = rc == 0;
        }
        if (addr_add(sk, name, gw, prefix, err) < 0 || link_up(sk, name, err) < 0)
                return -1;
        return 0;
}

int link_veth_create(struct nl_sock *sk, const char *host_name, const char *bridge, const char *peer_name,
                     pid_t pid, herr_t *err)
{
        int m = ifindex_of(sk, bridge, err);
        if (m < 0)
                return -1;
        struct rtnl_link *l = rtnl_link_veth_alloc();
        if (!l)
                return herr_set(err, ENOMEM, "veth %s", host_name);
        struct rtnl_link *peer = rtnl_link_veth_get_peer(l);
        rtnl_link_set_name(l, host_name);
        rtnl_link_set_name(peer, peer_name);
        rtnl_link_set_ns_pid(peer, pid);
        int rc = rtnl_link_add(sk, l, NLM_F_CREATE | NLM_F_EXCL);
        rtnl_link_put(peer);
        rtnl_link_veth_release(l);
        if (rc < 0)
                return NLERR(err, rc, "create veth %s (peer %s in pid %d)", host_name, peer_name, (int)pid);
        (void)m;
        return link_set_master_up(sk, host_name, bridge, err);
}

int link_delete(struct nl_sock *sk, const char *name, herr_t *err)
{
        struct rtnl_link *l = NULL;
        int rc = get_link(sk, name, &l);
        if (rc == -NLE_OBJ_NOTFOUND || rc == -NLE_NODEV)
                return 0;
        if (rc < 0 || !l)
                return NLERR(err, rc < 0 ? rc : -NLE_OBJ_NOTFOUND, "link %s", name);
        rc = rtnl_link_delete(sk, l);
        rtnl_link_put(l);
        if (rc < 0 && rc != -NLE_OBJ_NOTFOUND && rc != -NLE_NODEV)
                return NLERR(err, rc, "delete link %s", name);
        return 0;
}

int link_move_to_pid(struct nl_sock *sk, const char *name, pid_t pid, herr_t *err)
{
        struct rtnl_link *orig, *ch;
        int rc = change_begin(sk, name, false, &orig, &ch, err);
        if (rc < 0)
                return -1;
        rtnl_link_set_ns_pid(ch, pid);
        rc = rtnl_link_change(sk, orig, ch, 0);
        rtnl_link_put(ch);
        rtnl_link_put(orig);
        if (rc < 0)
                return NLERR(err, rc, "move link %s into the network namespace of pid %d", name, (int)pid);
        return 0;
}

static int on_ack(struct nl_msg *m, void *arg)
{
        (void)m;
        *(bool *)arg = true;
        return NL_STOP;
}

static int on_valid(struct nl_msg *m, void *arg)
{
        (void)m;
        (void)arg;
        return NL_OK;
}

/* RTM_GETLINK of ifindex in the network namespace our netns knows as
 * nsid (IFLA_TARGET_NETNSID): 0 found, else a libnl error (-NLE_INVAL: no
 * live namespace has that id). The reply and the ACK after it are both
 * read, so the socket is clean for the next request. */
static int link_get_in_nsid(struct nl_sock *sk, int32_t nsid, int ifindex)
{
        struct nl_msg *msg = nlmsg_alloc_simple(RTM_GETLINK, 0);
        if (!msg)
                return -NLE_NOMEM;
        struct ifinfomsg ifi = { .ifi_family = AF_UNSPEC, .ifi_index = ifindex };
        int rc = nlmsg_append(msg, &ifi, sizeof ifi, NLMSG_ALIGNTO);
        if (rc == 0)
                rc = nla_put_s32(msg, IFLA_TARGET_NETNSID, nsid);
        if (rc == 0)
                rc = nl_send_auto(sk, msg);
        nlmsg_free(msg);
        if (rc < 0)
                return rc;
        struct nl_cb *orig = nl_socket_get_cb(sk); /* a reference of ours */
        struct nl_cb *cb = orig ? nl_cb_clone(orig) : NULL;
        nl_cb_put(orig);
        if (!cb)
                return -NLE_NOMEM;
        bool acked = false;
        nl_cb_set(cb, NL_CB_ACK, NL_CB_CUSTOM, on_ack, &acked);
        nl_cb_set(cb, NL_CB_VALID, NL_CB_CUSTOM, on_valid, NULL);
        do
                rc = nl_recvmsgs(sk, cb);
        while (rc >= 0 && !acked);
        nl_cb_put(cb);
        return rc < 0 ? rc : 0;
}

int link_veth_dying(struct nl_sock *sk, const char *name, herr_t *err)
{
        struct rtnl_link *l = NULL;
        int rc = get_link(sk, name, &l);
        if (rc == -NLE_OBJ_NOTFOUND || rc == -NLE_NODEV)
                return 1;
        if (rc < 0)
                return NLERR(err, rc, "link %s", name);
        int32_t nsid = -1;
        bool has_nsid = rtnl_link_get_link_netnsid(l, &nsid) == 0;
        int peer = rtnl_link_get_link(l);
        rtnl_link_put(l);
        /* No peer: the pair is being unregistered. An id of -1: the peer's
         * namespace has no reference left (the kernel assigns no id to a
         * dying one). */
        if (peer == 0 || (has_nsid && nsid < 0))
                return 1;
        if (!has_nsid)
                return 0; /* the peer is in our own namespace */
        /* An id assigned while the namespace lived stays until the kernel's
         * cleanup of it: ask the namespace itself. */
        rc = link_get_in_nsid(sk, nsid, peer);
        return rc == -NLE_INVAL ? 1 : 0;
}

int link_nomaster(struct nl_sock *sk, const char *name, herr_t *err)
{
        struct rtnl_link *orig, *ch;
        int rc = change_begin(sk, name, true, &orig, &ch, err);
        if (rc <= 0)
                return rc;
        rtnl_link_set_master(ch, 0);
        rc = rtnl_link_change(sk, orig, ch, 0);
        rtnl_link_put(ch);
        rtnl_link_put(orig);
        if (rc < 0 && rc != -NLE_OBJ_NOTFOUND && rc != -NLE_NODEV)
                return NLERR(err, rc, "link %s: off its bridge", name);
        return 0;
}
