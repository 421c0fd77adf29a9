/* Networking (issue 9), as root. Every test first moves itself into a
 * network namespace of its own (unshare(CLONE_NEWNET)): the "host" side of
 * the test (bridge husk0, nft table, published ports) lives there, and all
 * traffic goes to loopback or to the containers' namespaces made from it.
 * Containers run through `husk run --net ...` ($HUSK) on the busybox rootfs
 * ($HUSK_ROOTFS); the tap test drives net/ directly. */
#include <criterion/criterion.h>

#pragma GCC diagnostic ignored "-Wformat-truncation"

#include <arpa/inet.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <netinet/in.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "../../common/fileutil.h"
#include "../../net/net.h"
#include "net_util.h"

/* With --jobs 2 criterion's runner leaks 48 bytes of its own (calloc in
 * libcriterion, seen under ASan with parallel tests); not husk's. */
const char *__lsan_default_suppressions(void);
const char *__lsan_default_suppressions(void)
{
        return "leak:libcriterion.so\n";
}

static bool with_userns; /* root mapped to 100000 */

static void write_config(const char *args_json, const char *netns_path)
{
        char path[PATH_MAX + 32], ns[PATH_MAX + 64] = "{\"type\":\"network\"}";
        if (netns_path)
                snprintf(ns, sizeof ns, "{\"type\":\"network\",\"path\":\"%s\"}", netns_path);
        snprintf(path, sizeof path, "%s/config.json", nt.bundle);
        FILE *f = fopen(path, "w");
        cr_assert(f);
        fprintf(f,
                "{\"ociVersion\":\"1.2.0\",\"process\":{\"terminal\":false,\"user\":{\"uid\":0,\"gid\":0},"
                "\"args\":%s,\"env\":[\"PATH=/bin:/sbin\"],\"cwd\":\"/\","
                "\"capabilities\":{\"bounding\":[\"CAP_NET_BIND_SERVICE\",\"CAP_KILL\"],"
                "\"effective\":[\"CAP_NET_BIND_SERVICE\",\"CAP_KILL\"],\"permitted\":[\"CAP_NET_BIND_SERVICE\",\"CAP_KILL\"]}},"
                "\"root\":{\"path\":\"%s\",\"readonly\":true},\"hostname\":\"nettest\","
                "\"mounts\":[{\"destination\":\"/proc\",\"type\":\"proc\",\"source\":\"proc\"},"
                "{\"destination\":\"/dev\",\"type\":\"tmpfs\",\"source\":\"tmpfs\",\"options\":[\"nosuid\",\"mode=755\"]},"
                "{\"destination\":\"/tmp\",\"type\":\"tmpfs\",\"source\":\"tmpfs\",\"options\":[\"nosuid\"]}],"
                "\"linux\":{%s\"namespaces\":[{\"type\":\"pid\"},%s,{\"type\":\"ipc\"},{\"type\":\"uts\"},"
                "{\"type\":\"mount\"}%s]}}",
                args_json, nt.rootfs,
                with_userns ? "\"uidMappings\":[{\"containerID\":0,\"hostID\":100000,\"size\":65536}],"
                              "\"gidMappings\":[{\"containerID\":0,\"hostID\":100000,\"size\":65536}],"
                            : "",
                ns, with_userns ? ",{\"type\":\"user\"}" : "");
        fclose(f);
}

static void setup(void)
{
        nt_setup("net");
}

static int count_links(void)
{
        return nt_count_lines("ip -o link show", NULL);
}

/* Links once the kernel's asynchronous cleanup of the containers' network
 * namespaces is done: delete leaves a veth pair whose namespace is dying
 * to that cleanup (net_teardown). Polls until want is seen or 10 s pass. */
static int links_settled(int want)
{
        int n = count_links();
        for (int i = 0; i < 200 && n != want; i++) {
                usleep(50000);
                n = count_links();
        }
        return n;
}

/* Lines of `nft list ruleset` (0: no table at all). */
static int count_nft(void)
{
        return nt_count_lines("nft list ruleset 2>/dev/null", NULL);
}

static int count_dir(const char *sub)
{
        char p[PATH_MAX + 32];
        snprintf(p, sizeof p, "%s/%s", nt.root, sub);
        DIR *d = opendir(p);
        int n = 0;
        for (struct dirent *de; d && (de = readdir(d));)
                n += de->d_name[0] != '.';
        if (d)
                closedir(d);
        return n;
}

static void assert_clean(void)
{
        int links = links_settled(1);
        cr_assert_eq(links, 1, "links left: %d (only lo expected)", links);
        cr_assert_eq(count_nft(), 0, "nft rules left");
        char ls[PATH_MAX + 64];
        snprintf(ls, sizeof ls, "ls %s/.husk-net 2>/dev/null", nt.root);
        cr_assert_eq(nt_count_lines(ls, ".ipam"), 0, "allocations left");
        cr_assert_eq(count_dir(".husk-net/files"), 0, "container files left");
        cr_assert_eq(count_dir(""), 0, "containers left");
}

TestSuite(net, .init = setup, .fini = nt_teardown, .timeout = 120);

Test(net, none_mode_has_only_lo_up)
{
        write_config("[\"sh\",\"-c\",\"test $(ip -o link | wc -l) = 1 && ip link show lo | grep -q ,UP "
                     "&& grep -q nettest /etc/hosts\"]",
                     NULL);
        cr_assert_eq(nt_sh("$H run --net none --bundle $B ${P}n1"), 0, "%s", nt_last_err());
        assert_clean();
}

Test(net, netns_path_is_joined_untouched)
{
        /* A namespace held by a child of ours: lo stays down in it. */
        int p[2];
        cr_assert_eq(pipe(p), 0);
        pid_t holder = fork();
        if (holder == 0) {
                close(p[1]);
                if (unshare(CLONE_NEWNET) < 0)
                        _exit(1);
                char c;
                if (read(p[0], &c, 1) < 0)
                        _exit(1);
                _exit(0);
        }
        close(p[0]);
        usleep(100000);
        char ns[64];
        snprintf(ns, sizeof ns, "/proc/%d/ns/net", (int)holder);
        write_config("[\"sh\",\"-c\",\"! ip link show lo | grep -q ,UP\"]", ns);
        int rc = nt_sh("$H run --bundle $B ${P}n2");
        close(p[1]);
        waitpid(holder, NULL, 0);
        cr_assert_eq(rc, 0, "%s", nt_last_err());
}

Test(net, host_to_container_and_back)
{
        write_config("[\"sh\",\"-c\",\"echo from-container | nc -l -p 80\"]", NULL);
        cr_assert_eq(nt_sh("$H run -d --net bridge --bundle $B ${P}c1"), 0, "%s", nt_last_err());
        char buf[256];
        cr_assert_eq(nt_tcp_read("10.88.0.2", 80, buf, sizeof buf, 10), 0, "no answer from 10.88.0.2:80");
        cr_assert(strstr(buf, "from-container"), "got '%s'", buf);
        cr_assert_eq(nt_sh("$H delete -f ${P}c1"), 0, "%s", nt_last_err());

        /* Container to host: the host listens, the container connects to
         * the bridge address. */
        int l = nt_tcp_listen(9000);
        write_config("[\"sh\",\"-c\",\"echo from-c2 | nc 10.88.0.1 9000\"]", NULL);
        cr_assert_eq(nt_sh("$H run -d --net bridge --bundle $B ${P}c2"), 0, "%s", nt_last_err());
        struct pollfd pf = { .fd = l, .events = POLLIN };
        cr_assert_eq(poll(&pf, 1, 10000), 1, "the container did not connect");
        int c = accept(l, NULL, NULL);
        ssize_t n = read(c, buf, sizeof buf - 1);
        cr_assert_gt(n, 0);
        buf[n] = '\0';
        cr_assert(strstr(buf, "from-c2"), "got '%s'", buf);
        close(c);
        close(l);
        cr_assert_eq(nt_sh("$H delete -f ${P}c2"), 0, "%s", nt_last_err());
        assert_clean();
}

Test(net, two_containers_over_the_bridge)
{
        write_config("[\"sh\",\"-c\",\"echo pong | nc -l -p 81 >/dev/null\"]", NULL);
        cr_assert_eq(nt_sh("$H run -d --net bridge --bundle $B ${P}a"), 0, "%s", nt_last_err());
        write_config("[\"sh\",\"-c\",\"for i in 1 2 3 4 5 6 7 8 9 10; do "
                     "r=$(echo ping | nc -w 2 10.88.0.2 81) && [ \\\"$r\\\" = pong ] && exit 0; sleep 0.2; done; exit 1\"]",
                     NULL);
        cr_assert_eq(nt_sh("$H run --net bridge --bundle $B ${P}b"), 0, "b did not reach a: %s", nt_last_err());
        cr_assert_eq(nt_sh("$H delete -f ${P}a"), 0, "%s", nt_last_err());
        assert_clean();
}

Test(net, published_port_from_the_host)
{
        write_config("[\"sh\",\"-c\",\"echo published | nc -l -p 80\"]", NULL);
        cr_assert_eq(nt_sh("$H run -d --net bridge -p 8080:80 --bundle $B ${P}p1"), 0, "%s", nt_last_err());
        char buf[256];
        cr_assert_eq(nt_tcp_read("127.0.0.1", 8080, buf, sizeof buf, 10), 0, "no answer on 127.0.0.1:8080");
        cr_assert(strstr(buf, "published"), "got '%s'", buf);
        cr_assert_eq(nt_sh("$H delete -f ${P}p1"), 0, "%s", nt_last_err());
        assert_clean();
}

Test(net, no_leaks_after_50_cycles, .timeout = 300)
{
        write_config("[\"true\"]", NULL);
        int links = count_links(), rules = count_nft();
        for (int i = 0; i < 50; i++)
                cr_assert_eq(nt_sh("$H run --net bridge -p 8080:80 -p 5353:53/udp --bundle $B ${P}leak%d", i), 0,
                             "cycle %d: %s", i, nt_last_err());
        cr_assert_eq(links_settled(links), links);
        cr_assert_eq(count_nft(), rules);
        assert_clean();
}

Test(net, delete_force_after_a_crash)
{
        write_config("[\"sleep\",\"60\"]", NULL);
        cr_assert_eq(nt_sh("$H run -d --net bridge -p 8081:80 --bundle $B ${P}k1"), 0, "%s", nt_last_err());
        cr_assert_gt(count_links(), 2);
        cr_assert_gt(count_nft(), 0);
        /* The container's init dies (as in a crash); its netns goes with
         * it, but the host side (rules, allocation, bridge) must still be
         * undone by delete --force from the record. */
        char p[PATH_MAX + 32];
        snprintf(p, sizeof p, "%s/net%d-k1/state.json", nt.root, (int)getpid());
        cr_assert_eq(nt_sh("kill -9 $(sed -n 's/.*\"pid\": *\\([0-9]*\\).*/\\1/p' %s)", p), 0, "%s", nt_last_err());
        usleep(200000);
        cr_assert_eq(nt_sh("$H delete --force ${P}k1"), 0, "%s", nt_last_err());
        assert_clean();
}

Test(net, bad_input_leaves_nothing)
{
        write_config("[\"true\"]", NULL);
        cr_assert_neq(nt_sh("$H run --net foo --bundle $B ${P}x1"), 0);
        cr_assert(strstr(nt_last_err(), "--net foo: unknown mode"), "%s", nt_last_err());
        cr_assert_neq(nt_sh("$H run -p 80:abc --bundle $B ${P}x1"), 0);
        cr_assert(strstr(nt_last_err(), "-p 80:abc: container port must be 1-65535"), "%s", nt_last_err());
        cr_assert_neq(nt_sh("$H run --net none -p 80:80 --bundle $B ${P}x1"), 0);
        assert_clean();

        /* A port in use on the host. */
        int l = nt_tcp_listen(8082);
        cr_assert_neq(nt_sh("$H run -p 8082:80 --bundle $B ${P}x2"), 0);
        cr_assert(strstr(nt_last_err(), "host port 8082 is in use"), "%s", nt_last_err());
        close(l);
        assert_clean();

        /* A port published by another container. */
        write_config("[\"sleep\",\"60\"]", NULL);
        cr_assert_eq(nt_sh("$H run -d -p 8083:80 --bundle $B ${P}x3"), 0, "%s", nt_last_err());
        cr_assert_neq(nt_sh("$H run -p 8083:81 --bundle $B ${P}x4"), 0);
        cr_assert(strstr(nt_last_err(), "-x3'"), "%s", nt_last_err());
        cr_assert_eq(nt_sh("$H delete -f ${P}x3"), 0, "%s", nt_last_err());
        assert_clean();

        /* An exhausted subnet: a /30 has one address for containers. */
        cr_assert_eq(nt_sh("HUSK_NET_SUBNET=10.89.0.0/30 $H run -d --net bridge --bundle $B ${P}x5"), 0, "%s", nt_last_err());
        cr_assert_neq(nt_sh("HUSK_NET_SUBNET=10.89.0.0/30 $H run -d --net bridge --bundle $B ${P}x6"), 0);
        cr_assert(strstr(nt_last_err(), "exhausted"), "%s", nt_last_err());
        cr_assert_eq(nt_sh("$H delete -f ${P}x5"), 0, "%s", nt_last_err());
        assert_clean();
}

Test(net, vm_tap_on_the_bridge)
{
        struct net_port port = { 2222, 22, NET_TCP };
        struct net_opts o = { .mode = NET_MODE_BRIDGE, .ports = &port, .n_ports = 1 };
        struct net_alloc a;
        herr_t e = { 0 };
        char cdir[PATH_MAX + 8];
        snprintf(cdir, sizeof cdir, "%s/vm1", nt.root);
        cr_assert_eq(mkdir(cdir, 0700), 0);
        cr_assert_eq(net_tap_create(&o, nt.root, "vm1", &a, NULL, &e), 0, "%s", e.msg);
        char cmd[128];
        snprintf(cmd, sizeof cmd, "ip -o link show %s", a.ifname);
        cr_assert_eq(nt_count_lines(cmd, "master husk0"), 1, "%s is not on husk0", a.ifname);
        char s[INET_ADDRSTRLEN];
        cr_assert_str_eq(inet_ntop(AF_INET, &a.addr, s, sizeof s), "10.88.0.2");
        cr_assert_eq(a.prefix, 16);
        cr_assert_eq(nt_count_lines("nft list ruleset", "dnat to 10.88.0.2:22"), 2);
        cr_assert_eq(net_teardown(nt.root, "vm1", &e), 0, "%s", e.msg);
        rmdir(cdir);
        assert_clean();
}

Test(net, host_mode_shares_the_runtime_netns)
{
        write_config("[\"sleep\",\"60\"]", NULL);
        cr_assert_eq(nt_sh("$H run -d --net bridge --bundle $B ${P}h1"), 0, "%s", nt_last_err());
        write_config("[\"sh\",\"-c\",\"ip link show husk0 >/dev/null\"]", NULL);
        cr_assert_eq(nt_sh("$H run --net host --bundle $B ${P}h2"), 0, "host mode does not see husk0: %s", nt_last_err());
        cr_assert_eq(nt_sh("$H delete -f ${P}h1"), 0, "%s", nt_last_err());
        assert_clean();
}

/* A failure after the bridge, table and allocation were made (the veth
 * cannot go to a pid that does not exist): everything is undone. */
Test(net, failed_setup_is_undone)
{
        char cdir[PATH_MAX + 8], files[PATH_MAX + 16];
        snprintf(cdir, sizeof cdir, "%s/f1", nt.root);
        snprintf(files, sizeof files, "%s/net", cdir);
        cr_assert_eq(mkdir(cdir, 0700), 0);
        cr_assert_eq(mkdir(files, 0755), 0);
        struct net_port port = { 8090, 80, NET_TCP };
        struct net_opts o = { .mode = NET_MODE_BRIDGE, .ports = &port, .n_ports = 1 };
        herr_t e = { 0 };
        pid_t gone = fork();
        if (gone == 0)
                _exit(0);
        waitpid(gone, NULL, 0);
        cr_assert_eq(net_setup(&o, nt.root, "f1", gone, files, NULL, &e), -1);
        cr_assert(strstr(e.msg, "network of 'f1'"), "%s", e.msg);
        char p[PATH_MAX + 32];
        snprintf(p, sizeof p, "%s/net.rec", cdir);
        cr_assert_neq(access(p, F_OK), 0, "record left");
        (void)nt_sh("rm -rf %s", cdir);
        assert_clean();
}

/* husk dies half-way through create, after net_setup: no state.json, but
 * the record; delete --force undoes the network from it. Driven through
 * the library for a process we fork into a new netns. */
Test(net, delete_force_after_husk_crashed_in_create)
{
        char cdir[PATH_MAX + 8], files[PATH_MAX + 16];
        snprintf(cdir, sizeof cdir, "%s/net%d-cr", nt.root, (int)getpid());
        snprintf(files, sizeof files, "%s/net", cdir);
        cr_assert_eq(mkdir(cdir, 0700), 0);
        cr_assert_eq(mkdir(files, 0755), 0);
        int p[2];
        cr_assert_eq(pipe(p), 0);
        pid_t child = fork();
        if (child == 0) {
                close(p[1]);
                if (unshare(CLONE_NEWNET) < 0)
                        _exit(1);
                char c;
                if (read(p[0], &c, 1) < 0)
                        _exit(1);
                _exit(0);
        }
        close(p[0]);
        usleep(100000);
        struct net_port port = { 8091, 80, NET_UDP };
        struct net_opts o = { .mode = NET_MODE_BRIDGE, .ports = &port, .n_ports = 1 };
        struct net_alloc a;
        herr_t e = { 0 };
        char id[64];
        snprintf(id, sizeof id, "net%d-cr", (int)getpid());
        cr_assert_eq(net_setup(&o, nt.root, id, child, files, &a, &e), 0, "%s", e.msg);
        cr_assert_gt(count_links(), 2);
        cr_assert_gt(nt_count_lines("nft list ruleset", "dport 8091"), 0);
        char hosts[PATH_MAX + 32];
        snprintf(hosts, sizeof hosts, "%s/hosts", files);
        cr_assert_eq(nt_sh("grep -q '10.88.0.2' %s", hosts), 0);
        kill(child, SIGKILL);
        waitpid(child, NULL, 0);
        close(p[1]);
        cr_assert_eq(nt_sh("$H delete --force ${P}cr"), 0, "%s", nt_last_err());
        assert_clean();
}

/* With a user namespace the container's netns belongs to it; the veth
 * still goes in from outside and the bind-mount sources stay reachable. */
Test(net, bridge_with_a_user_namespace)
{
        with_userns = true;
        write_config("[\"sh\",\"-c\",\"ip -o addr show eth0 | grep -q 10.88.0.2 && grep -q nettest /etc/hosts\"]",
                     NULL);
        cr_assert_eq(nt_sh("$H run --net bridge --bundle $B ${P}u1"), 0, "%s", nt_last_err());
        assert_clean();
}

/* A container reaches another's published port through the host's
 * address (hairpin: the DNAT'ed connection is masqueraded). */
Test(net, published_port_from_another_container)
{
        write_config("[\"sh\",\"-c\",\"echo hairpin | nc -l -p 80\"]", NULL);
        cr_assert_eq(nt_sh("$H run -d -p 8084:80 --bundle $B ${P}s1"), 0, "%s", nt_last_err());
        write_config("[\"sh\",\"-c\",\"for i in 1 2 3 4 5 6 7 8 9 10; do "
                     "r=$(nc -w 2 10.88.0.1 8084 </dev/null) && [ \\\"$r\\\" = hairpin ] && exit 0; sleep 0.2; done; exit 1\"]",
                     NULL);
        cr_assert_eq(nt_sh("$H run --net bridge --bundle $B ${P}s2"), 0, "%s", nt_last_err());
        cr_assert_eq(nt_sh("$H delete -f ${P}s1"), 0, "%s", nt_last_err());
        assert_clean();
}

/* delete leaves a veth pair to the kernel's cleanup only when the
 * container's network namespace is dying: one held open from outside
 * (here an fd of ours) keeps it alive, and delete must then remove the
 * pair itself. */
Test(net, veth_deleted_while_something_holds_the_netns)
{
        write_config("[\"sleep\",\"60\"]", NULL);
        cr_assert_eq(nt_sh("$H run -d --net bridge --bundle $B ${P}pin"), 0, "%s", nt_last_err());
        char p[PATH_MAX + 32], ns[64];
        snprintf(p, sizeof p, "%s/net%d-pin/state.json", nt.root, (int)getpid());
        FILE *f = fopen(p, "r");
        cr_assert(f);
        char buf[8192];
        size_t n = fread(buf, 1, sizeof buf - 1, f);
        fclose(f);
        buf[n] = '\0';
        const char *pid = strstr(buf, "\"pid\":");
        cr_assert(pid, "%s", buf);
        snprintf(ns, sizeof ns, "/proc/%ld/ns/net", strtol(pid + 6, NULL, 10));
        int hold = open(ns, O_RDONLY | O_CLOEXEC);
        cr_assert_geq(hold, 0, "%s: %s", ns, strerror(errno));
        cr_assert_eq(nt_sh("$H delete -f ${P}pin"), 0, "%s", nt_last_err());
        /* No waiting: the namespace lives, nothing else would remove it. */
        cr_assert_eq(nt_count_lines("ip -o link show", "hk"), 0, "the veth pair outlived delete");
        close(hold);
        assert_clean();
}
