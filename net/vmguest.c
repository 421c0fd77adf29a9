/* net/vmguest.c: the network of a VM-mode container. The host makes a tap
 * on the bridge (net_tap_create) and QEMU gives the VM a virtio-net device
 * on it; husk inside the VM moves that device (eth0) into the container's
 * network namespace and configures it with the host's allocation. The
 * allocation goes to the guest as a few lines of text (net.h) with the
 * container's config over the VM's control channel, not on the kernel
 * command line: resolv.conf's search and options lines hold spaces, which
 * the command line cannot carry. */
#include "internal.h"

#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "../common/cleanup.h"

/* The guest's one network device: the kernel names the first virtio-net
 * device eth0 (the initramfs has no udev to rename it). */
#define GUEST_IFNAME "eth0"
#define GUEST_TEXT_MAX 8192

int net_guest_format(const struct net_opts *o, const struct net_alloc *alloc, char **out, herr_t *err)
{
        *out = NULL;
        if (o->mode != NET_MODE_NONE && (o->mode != NET_MODE_BRIDGE || !alloc))
                return herr_set(err, 0, "VM network: only --net none and bridge reach a guest");
        char *buf = NULL;
        size_t len = 0;
        FILE *m = open_memstream(&buf, &len);
        if (!m)
                return herr_sys(err, "VM network");
        fprintf(m, "mode %s\n", net_mode_name(o->mode));
        if (o->mode == NET_MODE_BRIDGE) {
                char a[INET_ADDRSTRLEN], g[INET_ADDRSTRLEN];
                inet_ntop(AF_INET, &alloc->addr, a, sizeof a);
                inet_ntop(AF_INET, &alloc->gateway, g, sizeof g);
                fprintf(m, "addr %s/%d\ngateway %s\n", a, alloc->prefix, g);
                _cleanup_free_ char *resolv = net_resolv_text(o);
                if (!resolv) {
                        fclose(m);
                        free(buf);
                        return herr_set(err, ENOMEM, "resolv.conf");
                }
                char *save = NULL;
                for (char *l = strtok_r(resolv, "\n", &save); l; l = strtok_r(NULL, "\n", &save))
                        fprintf(m, "resolv %s\n", l);
        }
        if (fclose(m) != 0) {
                free(buf);
                return herr_set(err, ENOMEM, "VM network");
        }
        if (len > GUEST_TEXT_MAX) {
                free(buf);
                return herr_set(err, E2BIG, "VM network: resolv.conf too long for the guest (%zu bytes)", len);
        }
        *out = buf;
        return 0;
}

static int parse_addr(const char *s, struct in_addr *a, int *prefix, herr_t *err)
{
        char ip[INET_ADDRSTRLEN + 4];
        int p = 32;
        snprintf(ip, sizeof ip, "%s", s);
        char *slash = strchr(ip, '/');
        if (slash) {
                char *end;
                long v = strtol(slash + 1, &end, 10);
                if (*end || v < 1 || v > 32)
                        return herr_set(err, 0, "VM network: bad prefix in '%s'", s);
                p = (int)v;
                *slash = '\0';
        }
        if (inet_pton(AF_INET, ip, a) != 1)
                return herr_set(err, 0, "VM network: bad address '%s'", s);
        if (prefix)
                *prefix = p;
        else if (slash)
                return herr_set(err, 0, "VM network: '%s': an address without prefix expected", s);
        return 0;
}

int net_guest_parse(const char *text, struct net_opts *o, struct net_guest *g, herr_t *err)
{
        memset(g, 0, sizeof *g);
        if (strlen(text) > GUEST_TEXT_MAX)
                return herr_set(err, E2BIG, "VM network: description too long");
        _cleanup_free_ char *copy = strdup(text);
        char *resolv = NULL;
        size_t rlen = 0;
        FILE *m = copy ? open_memstream(&resolv, &rlen) : NULL;
        if (!m)
                return herr_set(err, ENOMEM, "VM network");
        bool have_mode = false, have_addr = false, have_gw = false;
        int rc = 0;
        char *save = NULL;
        for (char *l = strtok_r(copy, "\n", &save); l && rc == 0; l = strtok_r(NULL, "\n", &save)) {
                if (!strncmp(l, "mode ", 5)) {
                        rc = net_parse_mode(l + 5, &o->mode, err);
                        if (rc == 0 && o->mode == NET_MODE_HOST)
                                rc = herr_set(err, 0, "VM network: mode host");
                        have_mode = true;
                } else if (!strncmp(l, "addr ", 5)) {
                        rc = parse_addr(l + 5, &g->addr, &g->prefix, err);
                        have_addr = true;
                } else if (!strncmp(l, "gateway ", 8)) {
                        rc = parse_addr(l + 8, &g->gateway, NULL, err);
                        have_gw = true;
                } else if (!strncmp(l, "resolv ", 7)) {
                        fprintf(m, "%s\n", l + 7);
                } else {
                        rc = herr_set(err, 0, "VM network: unknown line '%.40s'", l);
                }
        }
        if (fclose(m) != 0 && rc == 0)
                rc = herr_set(err, ENOMEM, "VM network");
        if (rc == 0 && !have_mode)
                rc = herr_set(err, 0, "VM network: no mode");
        if (rc == 0 && o->mode == NET_MODE_BRIDGE && (!have_addr || !have_gw))
                rc = herr_set(err, 0, "VM network: bridge without %s", have_addr ? "gateway" : "address");
        if (rc < 0) {
                free(resolv);
                return -1;
        }
        g->resolv = resolv;
        o->guest = o->mode == NET_MODE_BRIDGE ? g : NULL;
        return 0;
}

/* Runs in the VM's own network namespace (husk in the guest is root
 * there); the container's init (init_pid) has its new namespace. */
int net_guest_setup(const struct net_opts *o, pid_t init_pid, const char *files_dir, const char *hostname,
                    herr_t *err)
{
        const struct net_guest *g = o->guest;
        struct nl_sock *sk = netlink_open(0, err);
        if (!sk)
                return -1;
        int rc = 0;
        if (!link_exists(sk, GUEST_IFNAME))
                rc = herr_set(err, ENODEV, "VM network: no %s in the VM (virtio_net not loaded?)", GUEST_IFNAME);
        if (rc == 0)
                rc = link_move_to_pid(sk, GUEST_IFNAME, init_pid, err);
        netlink_close(sk);
        if (rc < 0)
                return -1;
        int cfd = ifc_open(init_pid, err);
        if (cfd < 0)
                return -1;
        rc = ifc_addr(cfd, GUEST_IFNAME, g->addr, g->prefix, err);
        if (rc == 0)
                rc = ifc_up(cfd, GUEST_IFNAME, err);
        if (rc == 0)
                rc = ifc_route_default(cfd, GUEST_IFNAME, g->gateway, err);
        close(cfd);
        if (rc < 0)
                return -1;
        char as[INET_ADDRSTRLEN];
        inet_ntop(AF_INET, &g->addr, as, sizeof as);
        return net_write_hosts(files_dir, hostname, as, err);
}
