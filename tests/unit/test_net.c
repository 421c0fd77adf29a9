/* net/: the --net and -p parsers, subnets and the address allocator (files
 * only: no network object is made here). */
#include <criterion/criterion.h>

#include <arpa/inet.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "../../common/fileutil.h"
#include "../../net/net.h"

#pragma GCC diagnostic ignored "-Wformat-truncation"

Test(net_parse, modes)
{
        enum net_mode m;
        herr_t e = { 0 };
        cr_assert_eq(net_parse_mode("none", &m, &e), 0);
        cr_assert_eq(m, NET_MODE_NONE);
        cr_assert_eq(net_parse_mode("host", &m, &e), 0);
        cr_assert_eq(m, NET_MODE_HOST);
        cr_assert_eq(net_parse_mode("bridge", &m, &e), 0);
        cr_assert_eq(m, NET_MODE_BRIDGE);
        cr_assert_str_eq(net_mode_name(NET_MODE_BRIDGE), "bridge");
        cr_assert_eq(net_parse_mode("Bridge", &m, &e), -1);
        cr_assert_str_eq(e.msg, "--net Bridge: unknown mode (none, host, bridge)");
        cr_assert_eq(net_parse_mode("", &m, &e), -1);
}

Test(net_parse, ports)
{
        struct net_port p;
        herr_t e = { 0 };
        cr_assert_eq(net_parse_port("8080:80", &p, &e), 0);
        cr_assert_eq(p.host_port, 8080);
        cr_assert_eq(p.container_port, 80);
        cr_assert_eq(p.proto, NET_TCP);
        cr_assert_eq(net_parse_port("53:5353/udp", &p, &e), 0);
        cr_assert_eq(p.proto, NET_UDP);
        cr_assert_eq(p.host_port, 53);
        cr_assert_eq(net_parse_port("1:65535/tcp", &p, &e), 0);
        cr_assert_eq(p.container_port, 65535);

        static const struct { const char *in, *msg; } bad[] = {
                { "80:abc", "-p 80:abc: container port must be 1-65535" },
                { "abc:80", "-p abc:80: host port must be 1-65535" },
                { "0:80", "-p 0:80: host port must be 1-65535" },
                { "80:65536", "-p 80:65536: container port must be 1-65535" },
                { "80", "-p 80: expected HOSTPORT:CONTAINERPORT[/tcp|udp]" },
                { "80:80/sctp", "-p 80:80/sctp: protocol must be tcp or udp" },
                { ":80", "-p :80: host port must be 1-65535" },
                { "80:", "-p 80:: container port must be 1-65535" },
                { "-1:80", "-p -1:80: host port must be 1-65535" },
                { "123456:80", "-p 123456:80: host port must be 1-65535" },
        };
        for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
                cr_assert_eq(net_parse_port(bad[i].in, &p, &e), -1, "%s", bad[i].in);
                cr_assert_str_eq(e.msg, bad[i].msg);
        }
}

Test(net_parse, subnets)
{
        struct in_addr n;
        int pfx;
        herr_t e = { 0 };
        cr_assert_eq(net_parse_subnet("10.88.0.0/16", &n, &pfx, &e), 0);
        cr_assert_eq(pfx, 16);
        cr_assert_eq(ntohl(n.s_addr), 0x0a580000u);
        cr_assert_eq(net_parse_subnet("10.88.0.1/16", &n, &pfx, &e), -1);
        cr_assert(strstr(e.msg, "host bits"), "%s", e.msg);
        cr_assert_eq(net_parse_subnet("10.88.0.0/31", &n, &pfx, &e), -1);
        cr_assert_eq(net_parse_subnet("10.88.0.0", &n, &pfx, &e), -1);
        cr_assert_eq(net_parse_subnet("10.300.0.0/16", &n, &pfx, &e), -1);
        cr_assert_eq(net_parse_subnet("10.88.0.0/x", &n, &pfx, &e), -1);
}

static char root[PATH_MAX];

static void mk_root(void)
{
        snprintf(root, sizeof root, "/tmp/husk-net-unit.XXXXXX");
        cr_assert(mkdtemp(root));
}

static void rm_root(void)
{
        herr_t e = { 0 };
        remove_tree(root, &e);
}

/* The allocator reclaims entries of containers whose directory is gone. */
static void mk_container(const char *id)
{
        char p[PATH_MAX + 300];
        snprintf(p, sizeof p, "%s/%s", root, id);
        cr_assert_eq(mkdir(p, 0700), 0);
}

static const char *ip(struct in_addr a)
{
        static char s[INET_ADDRSTRLEN];
        return inet_ntop(AF_INET, &a, s, sizeof s);
}

Test(net_ipam, lowest_free_and_release, .init = mk_root, .fini = rm_root)
{
        struct in_addr a;
        bool first;
        herr_t e = { 0 };
        const char *ids[] = { "a", "b", "c" };
        for (int i = 0; i < 3; i++) {
                mk_container(ids[i]);
                cr_assert_eq(net_ipam_alloc(root, "husk0", "10.88.0.0/16", ids[i], NULL, 0, &a, &first, &e), 0,
                             "%s", e.msg);
                cr_assert_eq(first, i == 0);
        }
        cr_assert_str_eq(ip(a), "10.88.0.4");
        cr_assert_eq(net_ipam_count(root, "husk0", &e), 3);
        bool empty;
        cr_assert_eq(net_ipam_release(root, "husk0", "b", &empty, &e), 0);
        cr_assert_not(empty);
        mk_container("d");
        cr_assert_eq(net_ipam_alloc(root, "husk0", "10.88.0.0/16", "d", NULL, 0, &a, &first, &e), 0);
        cr_assert_str_eq(ip(a), "10.88.0.3", "a released address is reused");
        cr_assert_eq(net_ipam_alloc(root, "husk0", "10.88.0.0/16", "d", NULL, 0, &a, &first, &e), -1);
        cr_assert(strstr(e.msg, "already has an address"), "%s", e.msg);
        cr_assert_eq(net_ipam_alloc(root, "husk0", "10.77.0.0/16", "e", NULL, 0, &a, &first, &e), -1);
        cr_assert_str_eq(e.msg, "bridge husk0 uses subnet 10.88.0.0/16, not 10.77.0.0/16");
        const char *all[] = { "a", "c", "d" };
        for (int i = 0; i < 3; i++)
                cr_assert_eq(net_ipam_release(root, "husk0", all[i], &empty, &e), 0);
        cr_assert(empty);
        cr_assert_eq(net_ipam_count(root, "husk0", &e), 0);
        char p[PATH_MAX + 32];
        snprintf(p, sizeof p, "%s/.husk-net/husk0.ipam", root);
        cr_assert_neq(access(p, F_OK), 0, "the file goes with the last allocation");
}

Test(net_ipam, exhausted, .init = mk_root, .fini = rm_root)
{
        struct in_addr a;
        bool first;
        herr_t e = { 0 };
        mk_container("a");
        mk_container("b");
        /* /29: .0 net, .1 gateway, .2-.6 containers, .7 broadcast */
        char id[8];
        for (int i = 0; i < 5; i++) {
                snprintf(id, sizeof id, "c%d", i);
                mk_container(id);
                cr_assert_eq(net_ipam_alloc(root, "br1", "10.89.0.0/29", id, NULL, 0, &a, &first, &e), 0, "%s",
                             e.msg);
        }
        cr_assert_str_eq(ip(a), "10.89.0.6");
        cr_assert_eq(net_ipam_alloc(root, "br1", "10.89.0.0/29", "a", NULL, 0, &a, &first, &e), -1);
        cr_assert_str_eq(e.msg, "subnet 10.89.0.0/29 of bridge br1 is exhausted (5 containers)");
        cr_assert_eq(net_ipam_count(root, "br1", &e), 5);
}

Test(net_ipam, stale_entries_reclaimed, .init = mk_root, .fini = rm_root)
{
        struct in_addr a;
        bool first;
        herr_t e = { 0 };
        mk_container("gone");
        cr_assert_eq(net_ipam_alloc(root, "husk0", "10.88.0.0/30", "gone", NULL, 0, &a, &first, &e), 0);
        char p[PATH_MAX + 8];
        snprintf(p, sizeof p, "%s/gone", root);
        rmdir(p);
        mk_container("new");
        cr_assert_eq(net_ipam_alloc(root, "husk0", "10.88.0.0/30", "new", NULL, 0, &a, &first, &e), 0, "%s", e.msg);
        cr_assert_str_eq(ip(a), "10.88.0.2");
}

Test(net_ipam, published_ports_are_exclusive, .init = mk_root, .fini = rm_root)
{
        struct in_addr a;
        bool first;
        herr_t e = { 0 };
        struct net_port p1[] = { { 8080, 80, NET_TCP }, { 53, 53, NET_UDP } };
        mk_container("web");
        mk_container("other");
        cr_assert_eq(net_ipam_alloc(root, "husk0", "10.88.0.0/16", "web", p1, 2, &a, &first, &e), 0);
        struct net_port p2[] = { { 8080, 81, NET_TCP } };
        cr_assert_eq(net_ipam_alloc(root, "br2", "10.90.0.0/16", "other", p2, 1, &a, &first, &e), -1);
        cr_assert_str_eq(e.msg, "-p 8080/tcp: host port is in use: published by container 'web'");
        struct net_port p3[] = { { 8080, 81, NET_UDP }, { 53, 53, NET_TCP } };
        cr_assert_eq(net_ipam_alloc(root, "husk0", "10.88.0.0/16", "other", p3, 2, &a, &first, &e), 0,
                     "another protocol is another port: %s", e.msg);
        struct net_port p4[] = { { 9000, 1, NET_TCP }, { 9000, 2, NET_TCP } };
        mk_container("twice");
        cr_assert_eq(net_ipam_alloc(root, "husk0", "10.88.0.0/16", "twice", p4, 2, &a, &first, &e), -1);
        cr_assert(strstr(e.msg, "given twice"), "%s", e.msg);
}

Test(net_config, prepare_sets_netns_and_mounts, .init = mk_root, .fini = rm_root)
{
        const char *json = "{\"ociVersion\":\"1.2.0\",\"process\":{\"args\":[\"true\"],\"cwd\":\"/\","
                           "\"user\":{\"uid\":0,\"gid\":0}},\"root\":{\"path\":\"rootfs\"},"
                           "\"linux\":{\"namespaces\":[{\"type\":\"mount\"}]}}";
        struct oci_config *cfg = NULL;
        herr_t e = { 0 };
        cr_assert_eq(oci_config_parse(json, strlen(json), &cfg, &e), 0, "%s", e.msg);
        char dir[PATH_MAX + 8];
        snprintf(dir, sizeof dir, "%s/net", root);
        struct net_opts o = { .mode = NET_MODE_BRIDGE };
        cr_assert_eq(net_prepare_config(cfg, &o, dir, &e), 0, "%s", e.msg);
        const struct oci_namespace *ns = oci_config_namespace(cfg, OCI_NS_NETWORK);
        cr_assert(ns && !ns->path);
        cr_assert_eq(cfg->n_mounts, 2);
        cr_assert_str_eq(cfg->mounts[0].destination, "/etc/hosts");
        cr_assert_str_eq(cfg->mounts[1].destination, "/etc/resolv.conf");
        cr_assert_eq(oci_config_validate(cfg, &e), 0, "%s", e.msg);
        oci_config_free(cfg);

        const char *joined = "{\"ociVersion\":\"1.2.0\",\"process\":{\"args\":[\"true\"],\"cwd\":\"/\","
                             "\"user\":{\"uid\":0,\"gid\":0}},\"root\":{\"path\":\"rootfs\"},"
                             "\"linux\":{\"namespaces\":[{\"type\":\"network\",\"path\":\"/proc/1/ns/net\"}]}}";
        cr_assert_eq(oci_config_parse(joined, strlen(joined), &cfg, &e), 0, "%s", e.msg);
        struct net_opts def = { 0 };
        cr_assert_eq(net_prepare_config(cfg, &def, dir, &e), 0, "the default mode keeps a netns path");
        cr_assert_eq(net_prepare_config(cfg, &o, dir, &e), -1);
        cr_assert_str_eq(e.msg, "--net bridge: config.json joins the network namespace /proc/1/ns/net");
        struct net_opts host = { .mode = NET_MODE_HOST };
        oci_config_free(cfg);
        cr_assert_eq(oci_config_parse(json, strlen(json), &cfg, &e), 0);
        cr_assert_eq(net_prepare_config(cfg, &host, dir, &e), 0, "%s", e.msg);
        cr_assert_null(oci_config_namespace(cfg, OCI_NS_NETWORK));
        oci_config_free(cfg);
}

/* The VM guest's network description (net/vmguest.c): what the host
 * formats, the guest parses back; malformed text is refused by name. */
Test(net_guest, format_and_parse)
{
        const char *dns[] = { "192.0.2.53" };
        struct net_opts o = { .mode = NET_MODE_BRIDGE, .dns = dns, .n_dns = 1 };
        struct net_alloc a = { .prefix = 16 };
        inet_pton(AF_INET, "10.88.0.7", &a.addr);
        inet_pton(AF_INET, "10.88.0.1", &a.gateway);
        herr_t e = { 0 };
        char *text = NULL;
        cr_assert_eq(net_guest_format(&o, &a, &text, &e), 0, "%s", e.msg);
        cr_assert_str_eq(text, "mode bridge\naddr 10.88.0.7/16\ngateway 10.88.0.1\n"
                               "resolv # written by husk\nresolv nameserver 192.0.2.53\n");
        struct net_opts p = { 0 };
        struct net_guest g;
        cr_assert_eq(net_guest_parse(text, &p, &g, &e), 0, "%s", e.msg);
        cr_assert_eq(p.mode, NET_MODE_BRIDGE);
        cr_assert_eq(p.guest, &g);
        cr_assert_eq(g.addr.s_addr, a.addr.s_addr);
        cr_assert_eq(g.gateway.s_addr, a.gateway.s_addr);
        cr_assert_eq(g.prefix, 16);
        cr_assert_str_eq(g.resolv, "# written by husk\nnameserver 192.0.2.53\n");
        free(g.resolv);
        free(text);

        struct net_opts none = { .mode = NET_MODE_NONE };
        cr_assert_eq(net_guest_format(&none, NULL, &text, &e), 0, "%s", e.msg);
        cr_assert_str_eq(text, "mode none\n");
        cr_assert_eq(net_guest_parse(text, &p, &g, &e), 0, "%s", e.msg);
        cr_assert_eq(p.mode, NET_MODE_NONE);
        cr_assert_null(p.guest);
        free(g.resolv);
        free(text);

        struct net_opts host = { .mode = NET_MODE_HOST };
        cr_assert_eq(net_guest_format(&host, NULL, &text, &e), -1);
        cr_assert_eq(net_guest_parse("mode bridge\naddr 10.88.0.2/16\n", &p, &g, &e), -1);
        cr_assert_str_eq(e.msg, "VM network: bridge without gateway");
        cr_assert_eq(net_guest_parse("mode bridge\naddr 10.88.0.2/33\ngateway 10.88.0.1\n", &p, &g, &e), -1);
        cr_assert_str_eq(e.msg, "VM network: bad prefix in '10.88.0.2/33'");
        cr_assert_eq(net_guest_parse("mode none\nfoo bar\n", &p, &g, &e), -1);
        cr_assert_str_eq(e.msg, "VM network: unknown line 'foo bar'");
}
