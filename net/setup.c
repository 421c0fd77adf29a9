/* net/setup.c: net_prepare_config, net_setup, net_tap_create and
 * net_teardown, driven by the record <root>/<id>/net.rec:
 *   bridge husk0
 *   veth hk1a2b3c4d      (or: tap hkt1a2b3c4)
 *   addr 10.88.0.2/16
 *   ports 1              (port rules were planned)
 *   rule prerouting 7    (one line per nft rule made, by handle)
 * The record is written before anything is made, so a crash at any point
 * leaves enough for `delete --force` to undo it. */
#include "internal.h"

/* Names are bounded (IFNAMSIZ, table names); truncation is checked where it matters. */
#pragma GCC diagnostic ignored "-Wformat-truncation"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <linux/if_tun.h>
#include <net/if.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include "../common/cleanup.h"
#include "../common/fileutil.h"

/* ------------------------------------------------------------------ names */

static uint32_t fnv1a(const char *s, uint32_t salt)
{
        uint32_t h = 2166136261u ^ salt;
        for (; *s; s++) {
                h ^= (unsigned char)*s;
                h *= 16777619u;
        }
        return h;
}

static const char *bridge_of(const struct net_opts *o)
{
        return o->bridge && *o->bridge ? o->bridge : NET_DEFAULT_BRIDGE;
}

static const char *subnet_of(const struct net_opts *o)
{
        return o->subnet && *o->subnet ? o->subnet : NET_DEFAULT_SUBNET;
}

/* `table ip husk` for husk0, `table ip husk-<bridge>` for others. */
static void table_name(const char *bridge, char *buf, size_t len)
{
        if (!strcmp(bridge, NET_DEFAULT_BRIDGE))
                snprintf(buf, len, "husk");
        else
                snprintf(buf, len, "husk-%s", bridge);
}

static int check_bridge_name(const char *b, herr_t *err)
{
        size_t l = strlen(b);
        if (l == 0 || l >= IFNAMSIZ)
                return herr_set(err, 0, "bridge name '%s': 1-15 characters", b);
        for (size_t i = 0; i < l; i++)
                if (!((b[i] >= 'a' && b[i] <= 'z') || (b[i] >= 'A' && b[i] <= 'Z') ||
                      (b[i] >= '0' && b[i] <= '9') || b[i] == '-' || b[i] == '_'))
                        return herr_set(err, 0, "bridge name '%s': only letters, digits, - and _", b);
        return 0;
}

/* ---------------------------------------------------------------- record */

struct record {
        char bridge[IFNAMSIZ];
        char veth[IFNAMSIZ];
        char tap[IFNAMSIZ];
        bool ports;
        struct { char chain[32]; unsigned long handle; } rules[64];
        size_t n_rules;
};

static int record_path(const char *root, const char *id, char *buf, size_t len)
{
        return snprintf(buf, len, "%s/%s/" NET_RECORD, root, id) >= (int)len ? -1 : 0;
}

static int record_write(const char *root, const char *id, const struct record *r, const char *addr,
                        herr_t *err)
{
        char path[PATH_MAX];
        if (record_path(root, id, path, sizeof path) < 0)
                return herr_set(err, ENAMETOOLONG, "network record");
        char buf[8192];
        int n = snprintf(buf, sizeof buf, "bridge %s\n", r->bridge);
        if (r->veth[0])
                n += snprintf(buf + n, sizeof buf - (size_t)n, "veth %s\n", r->veth);
        if (r->tap[0])
                n += snprintf(buf + n, sizeof buf - (size_t)n, "tap %s\n", r->tap);
        if (addr)
                n += snprintf(buf + n, sizeof buf - (size_t)n, "addr %s\n", addr);
        if (r->ports)
                n += snprintf(buf + n, sizeof buf - (size_t)n, "ports 1\n");
        for (size_t i = 0; i < r->n_rules; i++)
                n += snprintf(buf + n, sizeof buf - (size_t)n, "rule %s %lu\n", r->rules[i].chain,
                              r->rules[i].handle);
        if (net_write_file(path, buf, (size_t)n, err) < 0)
                return herr_prefix(err, "network record");
        return 0;
}

/* 1: read, 0: no record. */
static int record_read(const char *root, const char *id, struct record *r, herr_t *err)
{
        memset(r, 0, sizeof *r);
        char path[PATH_MAX];
        if (record_path(root, id, path, sizeof path) < 0)
                return herr_set(err, ENAMETOOLONG, "network record");
        _cleanup_free_ char *buf = NULL;
        size_t len;
        if (read_file(path, 1u << 16, &buf, &len, err) < 0) {
                if (err->errnum == ENOENT) {
                        herr_clear(err);
                        return 0;
                }
                return herr_prefix(err, "network record");
        }
        char *save = NULL;
        for (char *l = strtok_r(buf, "\n", &save); l; l = strtok_r(NULL, "\n", &save)) {
                char k[16], v[64];
                unsigned long h;
                if (sscanf(l, "bridge %15s", v) == 1)
                        snprintf(r->bridge, sizeof r->bridge, "%s", v);
                else if (sscanf(l, "veth %15s", v) == 1)
                        snprintf(r->veth, sizeof r->veth, "%s", v);
                else if (sscanf(l, "tap %15s", v) == 1)
                        snprintf(r->tap, sizeof r->tap, "%s", v);
                else if (!strncmp(l, "ports ", 6))
                        r->ports = true;
                else if (sscanf(l, "rule %15s %lu", k, &h) == 2 && r->n_rules < 64) {
                        snprintf(r->rules[r->n_rules].chain, sizeof r->rules[0].chain, "%s", k);
                        r->rules[r->n_rules++].handle = h;
                }
        }
        return 1;
}

/* ----------------------------------------------------------------- config */

static int add_mount(struct oci_config *cfg, const char *src, const char *dst, bool ro, herr_t *err)
{
        struct oci_mount *nm = realloc(cfg->mounts, (cfg->n_mounts + 1) * sizeof *nm);
        if (!nm)
                return herr_set(err, ENOMEM, "mounts");
        cfg->mounts = nm;
        struct oci_mount *m = &nm[cfg->n_mounts];
        memset(m, 0, sizeof *m);
        m->destination = strdup(dst);
        m->source = strdup(src);
        m->type = strdup("bind");
        m->options = calloc(4, sizeof *m->options);
        if (m->options) {
                m->options[0] = strdup("rbind");
                m->options[1] = strdup(ro ? "ro" : "rw");
                m->options[2] = strdup("nosuid");
                m->n_options = 3;
        }
        cfg->n_mounts++;
        if (!m->destination || !m->source || !m->type || !m->options || !m->options[0] || !m->options[1] ||
            !m->options[2])
                return herr_set(err, ENOMEM, "mounts");
        return 0;
}

static int set_netns(struct oci_config *cfg, bool want, herr_t *err)
{
        if (!cfg->linux_) {
                if (!want)
                        return 0;
                cfg->linux_ = calloc(1, sizeof *cfg->linux_);
                if (!cfg->linux_)
                        return herr_set(err, ENOMEM, "linux");
        }
        struct oci_linux *l = cfg->linux_;
        for (size_t i = 0; i < l->n_namespaces; i++)
                if (l->namespaces[i].type == OCI_NS_NETWORK) {
                        if (!want) {
                                free(l->namespaces[i].path);
                                l->namespaces[i] = l->namespaces[--l->n_namespaces];
                        }
                        return 0;
                }
        if (!want)
                return 0;
        struct oci_namespace *nn = realloc(l->namespaces, (l->n_namespaces + 1) * sizeof *nn);
        if (!nn)
                return herr_set(err, ENOMEM, "linux.namespaces");
        l->namespaces = nn;
        nn[l->n_namespaces++] = (struct oci_namespace){ .type = OCI_NS_NETWORK, .path = NULL };
        return 0;
}

static int touch(const char *dir, const char *name, char *path, size_t len, herr_t *err)
{
        snprintf(path, len, "%s/%s", dir, name);
        int fd = open(path, O_WRONLY | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0644);
        if (fd < 0)
                return herr_sys(err, "%s", path);
        close(fd);
        return 0;
}

int net_prepare_config(struct oci_config *cfg, const struct net_opts *o, const char *files_dir, herr_t *err)
{
        if (o->mode == NET_MODE_DEFAULT)
                return 0;
        const struct oci_namespace *ns = oci_config_namespace(cfg, OCI_NS_NETWORK);
        if (ns && ns->path)
                return herr_set(err, 0, "--net %s: config.json joins the network namespace %s",
                                net_mode_name(o->mode), ns->path);
        if (o->mode == NET_MODE_HOST) {
                if (set_netns(cfg, false, err) < 0)
                        return -1;
                if (access("/etc/resolv.conf", R_OK) == 0 &&
                    add_mount(cfg, "/etc/resolv.conf", "/etc/resolv.conf", true, err) < 0)
                        return -1;
                if (access("/etc/hosts", R_OK) == 0 && add_mount(cfg, "/etc/hosts", "/etc/hosts", true, err) < 0)
                        return -1;
                return 0;
        }
        if (o->mode == NET_MODE_BRIDGE) {
                struct in_addr n;
                int p;
                if (check_bridge_name(bridge_of(o), err) < 0 || net_parse_subnet(subnet_of(o), &n, &p, err) < 0)
                        return -1;
        }
        if (set_netns(cfg, true, err) < 0)
                return -1;
        if (mkdir_p(files_dir, 0755, err) < 0)
                return -1;
        char path[PATH_MAX];
        if (touch(files_dir, "hosts", path, sizeof path, err) < 0 ||
            add_mount(cfg, path, "/etc/hosts", true, err) < 0)
                return -1;
        if (o->mode == NET_MODE_BRIDGE &&
            (touch(files_dir, "resolv.conf", path, sizeof path, err) < 0 ||
             add_mount(cfg, path, "/etc/resolv.conf", true, err) < 0))
                return -1;
        return 0;
}

/* ------------------------------------------------------------------ files */

/* Rewrite in place: the file is already bind-mounted (its inode counts). */
int net_write_in_place(const char *dir, const char *name, const char *data, herr_t *err)
{
        char path[PATH_MAX];
        snprintf(path, sizeof path, "%s/%s", dir, name);
        int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOFOLLOW, 0644);
        if (fd < 0)
                return herr_sys(err, "%s", path);
        int rc = write_all(fd, data, strlen(data));
        int e = errno;
        close(fd);
        return rc < 0 ? herr_set(err, e, "%s", path) : 0;
}

int net_write_hosts(const char *dir, const char *hostname, const char *addr, herr_t *err)
{
        char buf[1024];
        int n = snprintf(buf, sizeof buf,
                         "127.0.0.1\tlocalhost\n::1\tlocalhost ip6-localhost ip6-loopback\n");
        if (addr)
                snprintf(buf + n, sizeof buf - (size_t)n, "%s\t%s\n", addr, hostname);
        else
                snprintf(buf + n, sizeof buf - (size_t)n, "127.0.1.1\t%s\n", hostname);
        return net_write_in_place(dir, "hosts", buf, err);
}

/* The host's nameservers, except loopback ones (unreachable from the
 * container), or the ones given. */
char *net_resolv_text(const struct net_opts *o)
{
        char *buf = NULL;
        size_t len = 0;
        FILE *m = open_memstream(&buf, &len);
        if (!m)
                return NULL;
        fprintf(m, "# written by husk\n");
        if (o->n_dns) {
                for (size_t i = 0; i < o->n_dns; i++)
                        fprintf(m, "nameserver %s\n", o->dns[i]);
        } else {
                FILE *h = fopen("/etc/resolv.conf", "re");
                char line[512];
                while (h && fgets(line, sizeof line, h)) {
                        char ns[256];
                        if (sscanf(line, "nameserver %255s", ns) == 1) {
                                if (!strncmp(ns, "127.", 4) || !strcmp(ns, "::1"))
                                        continue;
                                fprintf(m, "nameserver %s\n", ns);
                        } else if (!strncmp(line, "search ", 7) || !strncmp(line, "options ", 8)) {
                                fputs(line, m);
                        }
                }
                if (h)
                        fclose(h);
        }
        if (fclose(m) != 0) {
                free(buf);
                return NULL;
        }
        return buf;
}

static int write_resolv(const char *dir, const struct net_opts *o, herr_t *err)
{
        char *buf = o->guest ? NULL : net_resolv_text(o);
        if (!o->guest && !buf)
                return herr_set(err, ENOMEM, "resolv.conf");
        int rc = net_write_in_place(dir, "resolv.conf", o->guest ? o->guest->resolv : buf, err);
        free(buf);
        return rc;
}

/* ------------------------------------------------------------------- nft */

static int nft_table_create(const char *table, const char *bridge, const char *subnet, herr_t *err)
{
        char s[2048];
        snprintf(s, sizeof s,
                 "add table ip %1$s\n"
                 "delete table ip %1$s\n"
                 "table ip %1$s {\n"
                 "  chain prerouting { type nat hook prerouting priority dstnat; policy accept; }\n"
                 "  chain output { type nat hook output priority -100; policy accept; }\n"
                 "  chain postrouting {\n"
                 "    type nat hook postrouting priority srcnat; policy accept;\n"
                 "    ip saddr %3$s oifname != \"%2$s\" masquerade\n"
                 "    ip saddr 127.0.0.0/8 oifname \"%2$s\" masquerade\n"
                 "    ip saddr %3$s oifname \"%2$s\" ct status dnat masquerade\n"
                 "  }\n"
                 "}\n",
                 table, bridge, subnet);
        return nft_run(s, false, NULL, err);
}

static int nft_table_delete(const char *table, herr_t *err)
{
        char s[256];
        snprintf(s, sizeof s, "add table ip %1$s\ndelete table ip %1$s\n", table);
        return nft_run(s, false, NULL, err);
}

static int nft_ports_add(const char *table, const char *tag, const struct net_opts *o, const char *addr,
                         struct record *r, herr_t *err)
{
        char *s = NULL;
        size_t len = 0;
        FILE *m = open_memstream(&s, &len);
        if (!m)
                return herr_sys(err, "nftables");
        static const char *chains[] = { "prerouting", "output" };
        for (size_t i = 0; i < o->n_ports; i++)
                for (size_t c = 0; c < 2; c++)
                        fprintf(m, "add rule ip %s %s fib daddr type local %s dport %u dnat to %s:%u comment \"%s\"\n",
                                table, chains[c], o->ports[i].proto == NET_UDP ? "udp" : "tcp",
                                o->ports[i].host_port, addr, o->ports[i].container_port, tag);
        fclose(m);
        _cleanup_free_ char *out = NULL;
        int rc = nft_run(s, true, &out, err);
        free(s);
        if (rc < 0)
                return herr_prefix(err, "publish ports");
        unsigned long h[64];
        size_t n = nft_handles(out, h, 64);
        for (size_t i = 0; i < n && r->n_rules < 64; i++) {
                snprintf(r->rules[r->n_rules].chain, sizeof r->rules[0].chain, "%s", chains[i % 2]);
                r->rules[r->n_rules++].handle = h[i];
        }
        return 0;
}

/* Delete rules by handle; when that fails (table recreated, crash before
 * the handles were recorded), delete every rule that carries our tag. */
static int nft_rules_delete(const char *table, const char *tag, const struct record *r, herr_t *err)
{
        if (r->n_rules) {
                char s[8192];
                int n = 0;
                for (size_t i = 0; i < r->n_rules; i++)
                        n += snprintf(s + n, sizeof s - (size_t)n, "delete rule ip %s %s handle %lu\n", table,
                                      r->rules[i].chain, r->rules[i].handle);
                herr_t e2 = { 0 };
                if (nft_run(s, false, NULL, &e2) == 0)
                        return 0;
        }
        char ls[256];
        snprintf(ls, sizeof ls, "add table ip %1$s\nlist table ip %1$s\n", table);
        _cleanup_free_ char *out = NULL;
        if (nft_run(ls, true, &out, err) < 0)
                return herr_prefix(err, "list port rules");
        char want[64];
        snprintf(want, sizeof want, "comment \"%s\"", tag);
        char *s = NULL;
        size_t len = 0;
        FILE *m = open_memstream(&s, &len);
        if (!m)
                return herr_sys(err, "nftables");
        char chain[64] = "";
        bool any = false;
        char *save = NULL;
        for (char *l = strtok_r(out, "\n", &save); l; l = strtok_r(NULL, "\n", &save)) {
                char c[64];
                if (sscanf(l, " chain %63s", c) == 1)
                        snprintf(chain, sizeof chain, "%s", c);
                const char *h = strstr(l, "# handle ");
                if (chain[0] && h && strstr(l, want)) {
                        fprintf(m, "delete rule ip %s %s handle %lu\n", table, chain,
                                strtoul(h + 9, NULL, 10));
                        any = true;
                }
        }
        fclose(m);
        int rc = any ? nft_run(s, false, NULL, err) : 0;
        free(s);
        return rc;
}

/* -------------------------------------------------------------- teardown */

static void tag_of(const struct record *r, char *buf, size_t len)
{
        snprintf(buf, len, "husk %s", r->veth[0] ? r->veth : r->tap);
}

static int tap_unpersist(const char *name)
{
        int fd = open("/dev/net/tun", O_RDWR | O_CLOEXEC);
        if (fd < 0)
                return -1;
        struct ifreq ifr = { 0 };
        snprintf(ifr.ifr_name, sizeof ifr.ifr_name, "%s", name);
        ifr.ifr_flags = IFF_TAP | IFF_NO_PI;
        int rc = ioctl(fd, TUNSETIFF, &ifr);
        if (rc == 0)
                rc = ioctl(fd, TUNSETPERSIST, 0);
        close(fd);
        return rc;
}

/* Deleting a veth pair costs the deleter ~25 ms in the kernel (RCU
 * grace periods, rcu_barrier). The pair goes by itself with the
 * container's network namespace, and once the container's processes are
 * gone nothing else normally holds that namespace: when the kernel shows
 * it has no reference left (link_veth_dying), the pair is only taken off
 * the bridge (no duplicate address on it while the kernel's asynchronous
 * cleanup runs, a few ms) and left to that cleanup, which cannot fail.
 * A namespace something still holds (a bind mount, an fd, a process that
 * escaped) keeps the synchronous delete. */
static int veth_teardown(struct nl_sock *sk, const char *veth, herr_t *err)
{
        herr_t e2 = { 0 };
        int dying = link_veth_dying(sk, veth, &e2);
        if (dying == 1)
                return link_nomaster(sk, veth, err);
        return link_delete(sk, veth, err);
}

int net_teardown(const char *root, const char *id, herr_t *err)
{
        struct record r;
        int have = record_read(root, id, &r, err);
        if (have <= 0)
                return have;
        int rc = 0;
        herr_t e2 = { 0 };
        char table[64], tag[64];
        table_name(r.bridge[0] ? r.bridge : NET_DEFAULT_BRIDGE, table, sizeof table);
        tag_of(&r, tag, sizeof tag);
        struct nl_sock *sk = netlink_open(0, err);
        if (!sk)
                return herr_prefix(err, "network teardown of '%s'", id);
        /* The container's own objects first, without the lock; the
         * allocation, and with the last one the bridge and table, under it. */
        if ((r.ports || r.n_rules) && nft_rules_delete(table, tag, &r, &e2) < 0) {
                rc = -1;
                *err = e2;
        }
        if (r.veth[0] && veth_teardown(sk, r.veth, &e2) < 0) {
                rc = -1;
                *err = e2;
        }
        if (r.tap[0] && link_delete(sk, r.tap, &e2) < 0) {
                if (tap_unpersist(r.tap) < 0) {
                        rc = -1;
                        *err = e2;
                }
        }
        int dfd = ipam_lock(root, err);
        if (dfd < 0) {
                netlink_close(sk);
                return herr_prefix(err, "network teardown of '%s'", id);
        }
        bool empty = false;
        if (r.bridge[0]) {
                if (ipam_release_locked(dfd, r.bridge, id, &empty, &e2) < 0) {
                        rc = -1;
                        *err = e2;
                } else if (empty) {
                        /* The last container on the bridge: the bridge and table go. */
                        if (nft_table_delete(table, &e2) < 0) {
                                rc = -1;
                                *err = e2;
                        }
                        if (link_delete(sk, r.bridge, &e2) < 0) {
                                rc = -1;
                                *err = e2;
                        }
                }
        }
        ipam_unlock(dfd);
        netlink_close(sk);
        if (rc == 0) {
                char path[PATH_MAX];
                record_path(root, id, path, sizeof path);
                if (unlink(path) < 0 && errno != ENOENT)
                        rc = herr_sys(err, "network record");
        }
        return rc < 0 ? herr_prefix(err, "network teardown of '%s'", id) : 0;
}

/* ----------------------------------------------------------------- setup */

static int port_free_on_host(const struct net_port *p, herr_t *err)
{
        int fd = socket(AF_INET, (p->proto == NET_UDP ? SOCK_DGRAM : SOCK_STREAM) | SOCK_CLOEXEC, 0);
        if (fd < 0)
                return herr_sys(err, "socket");
        int one = 1;
        (void)setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
        struct sockaddr_in sa = { .sin_family = AF_INET, .sin_port = htons(p->host_port) };
        int rc = bind(fd, (struct sockaddr *)&sa, sizeof sa);
        int e = errno;
        close(fd);
        if (rc < 0 && e == EADDRINUSE)
                return herr_set(err, 0, "-p %u:%u/%s: host port %u is in use", p->host_port,
                                p->container_port, p->proto == NET_UDP ? "udp" : "tcp", p->host_port);
        return 0;
}

/* Common part of veth and tap: allocate, bridge and table when first. */
static int attach_common(const struct net_opts *o, const char *root, const char *id, struct record *r,
                         struct nl_sock *sk, struct net_alloc *out, herr_t *err)
{
        const char *bridge = bridge_of(o), *subnet = subnet_of(o);
        struct in_addr net;
        int prefix;
        if (check_bridge_name(bridge, err) < 0 || net_parse_subnet(subnet, &net, &prefix, err) < 0)
                return -1;
        for (size_t i = 0; i < o->n_ports; i++)
                if (port_free_on_host(&o->ports[i], err) < 0)
                        return -1;
        snprintf(r->bridge, sizeof r->bridge, "%s", bridge);
        r->ports = o->n_ports > 0;
        int dfd = ipam_lock(root, err);
        if (dfd < 0)
                return -1;
        bool first = false;
        struct in_addr a;
        if (ipam_alloc_locked(dfd, root, bridge, subnet, id, o->ports, o->n_ports, &a, &first, err) < 0) {
                ipam_unlock(dfd);
                return -1;
        }
        /* From here on the record covers the allocation. */
        out->addr = a;
        out->prefix = prefix;
        out->gateway.s_addr = htonl(ntohl(net.s_addr) + 1);
        char as[INET_ADDRSTRLEN + 4];
        inet_ntop(AF_INET, &a, as, sizeof as);
        int rc = record_write(root, id, r, as, err);
        bool made = false;
        char table[64];
        table_name(bridge, table, sizeof table);
        if (rc == 0)
                rc = link_bridge_ensure(sk, bridge, out->gateway, prefix, &made, err);
        if (rc == 0 && (first || made)) {
                char path[128];
                snprintf(path, sizeof path, "/proc/sys/net/ipv4/conf/%s/route_localnet", bridge);
                herr_t e2 = { 0 };
                (void)write_file_str("/proc/sys/net/ipv4/ip_forward", "1", &e2);
                (void)write_file_str(path, "1", &e2);
                rc = nft_table_create(table, bridge, subnet, err);
        }
        ipam_unlock(dfd);
        return rc;
}

static void ifname_for(const char *prefix, const char *id, struct nl_sock *sk, char *buf, size_t len)
{
        for (uint32_t salt = 0; salt < 16; salt++) {
                snprintf(buf, len, "%s%08x", prefix, fnv1a(id, salt));
                if (!link_exists(sk, buf))
                        return;
        }
}

int net_setup(const struct net_opts *o, const char *root, const char *id, pid_t init_pid, const char *files_dir,
              struct net_alloc *out, herr_t *err)
{
        struct net_alloc dummy;
        if (!out)
                out = &dummy;
        memset(out, 0, sizeof *out);
        const char *hostname = o->hostname && *o->hostname ? o->hostname : id;
        if (o->mode == NET_MODE_NONE)
                return net_write_hosts(files_dir, hostname, NULL, err);
        if (o->mode != NET_MODE_BRIDGE)
                return 0;
        if (o->guest) { /* inside a VM: the host made the tap, eth0 is ours */
                if (net_guest_setup(o, init_pid, files_dir, hostname, err) < 0 ||
                    write_resolv(files_dir, o, err) < 0)
                        return herr_prefix(err, "network of '%s'", id);
                return 0;
        }
        struct record r = { 0 };
        struct nl_sock *sk = netlink_open(0, err);
        if (!sk)
                return -1;
        int cfd = -1; /* in the container's netns: see ifioctl.c */
        ifname_for("hk", id, sk, r.veth, sizeof r.veth);
        snprintf(out->ifname, sizeof out->ifname, "%s", r.veth);
        int rc = attach_common(o, root, id, &r, sk, out, err);
        char as[INET_ADDRSTRLEN];
        inet_ntop(AF_INET, &out->addr, as, sizeof as);
        if (rc == 0)
                rc = link_veth_create(sk, r.veth, r.bridge, "eth0", init_pid, err);
        if (rc == 0) {
                cfd = ifc_open(init_pid, err);
                if (cfd < 0)
                        rc = -1;
        }
        if (rc == 0)
                rc = ifc_addr(cfd, "eth0", out->addr, out->prefix, err);
        if (rc == 0)
                rc = ifc_up(cfd, "eth0", err);
        if (rc == 0)
                rc = ifc_route_default(cfd, "eth0", out->gateway, err);
        if (rc == 0)
                (void)ifc_mac(cfd, "eth0", out->mac, err);
        if (rc == 0 && o->n_ports) {
                char table[64], tag[64];
                table_name(r.bridge, table, sizeof table);
                tag_of(&r, tag, sizeof tag);
                rc = nft_ports_add(table, tag, o, as, &r, err);
                if (rc == 0) {
                        char a2[INET_ADDRSTRLEN + 4];
                        snprintf(a2, sizeof a2, "%s/%d", as, out->prefix);
                        rc = record_write(root, id, &r, a2, err);
                }
        }
        if (rc == 0)
                rc = net_write_hosts(files_dir, hostname, as, err);
        if (rc == 0)
                rc = write_resolv(files_dir, o, err);
        if (cfd >= 0)
                close(cfd);
        netlink_close(sk);
        if (rc < 0) {
                herr_t e2 = { 0 };
                if (net_teardown(root, id, &e2) < 0)
                        herr_prefix(err, "(undo failed: %s)", e2.msg);
                return herr_prefix(err, "network of '%s'", id);
        }
        return 0;
}

/* A tap named name with a vnet header (virtio-net's), persistent or not;
 * returns its open queue. */
static int tap_open(const char *name, bool persist, herr_t *err)
{
        int fd = open("/dev/net/tun", O_RDWR | O_CLOEXEC);
        if (fd < 0)
                return herr_sys(err, "tap %s: /dev/net/tun", name);
        struct ifreq ifr = { 0 };
        snprintf(ifr.ifr_name, sizeof ifr.ifr_name, "%s", name);
        ifr.ifr_flags = IFF_TAP | IFF_NO_PI | IFF_VNET_HDR;
        if (ioctl(fd, TUNSETIFF, &ifr) < 0 || (persist && ioctl(fd, TUNSETPERSIST, 1) < 0)) {
                int e = errno;
                close(fd);
                return herr_set(err, e, "tap %s", name);
        }
        return fd;
}

int net_tap_create(const struct net_opts *o, const char *root, const char *id, struct net_alloc *out,
                   int *tap_fd, herr_t *err)
{
        memset(out, 0, sizeof *out);
        int fd = -1;
        if (tap_fd)
                *tap_fd = -1;
        struct record r = { 0 };
        struct nl_sock *sk = netlink_open(0, err);
        if (!sk)
                return -1;
        ifname_for("hkt", id, sk, r.tap, sizeof r.tap);
        snprintf(out->ifname, sizeof out->ifname, "%s", r.tap);
        int rc = attach_common(o, root, id, &r, sk, out, err);
        if (rc == 0) {
                fd = tap_open(r.tap, !tap_fd, err);
                if (fd < 0)
                        rc = -1;
                else if (!tap_fd) {
                        close(fd);
                        fd = -1;
                }
        }
        if (rc == 0)
                rc = link_set_master_up(sk, r.tap, r.bridge, err);
        if (rc == 0) {
                /* A locally administered MAC derived from the address. */
                uint32_t a = ntohl(out->addr.s_addr);
                uint8_t mac[6] = { 0x02, 0x42, (uint8_t)(a >> 24), (uint8_t)(a >> 16), (uint8_t)(a >> 8),
                                   (uint8_t)a };
                memcpy(out->mac, mac, 6);
        }
        if (rc == 0 && o->n_ports) {
                char table[64], tag[64], as[INET_ADDRSTRLEN], a2[INET_ADDRSTRLEN + 4];
                table_name(r.bridge, table, sizeof table);
                tag_of(&r, tag, sizeof tag);
                inet_ntop(AF_INET, &out->addr, as, sizeof as);
                rc = nft_ports_add(table, tag, o, as, &r, err);
                snprintf(a2, sizeof a2, "%s/%d", as, out->prefix);
                if (rc == 0)
                        rc = record_write(root, id, &r, a2, err);
        }
        netlink_close(sk);
        if (rc < 0) {
                if (fd >= 0)
                        close(fd); /* a non-persistent tap goes with it */
                herr_t e2 = { 0 };
                if (net_teardown(root, id, &e2) < 0)
                        herr_prefix(err, "(undo failed: %s)", e2.msg);
                return herr_prefix(err, "network of '%s'", id);
        }
        if (tap_fd)
                *tap_fd = fd;
        return 0;
}
