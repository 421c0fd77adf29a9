/* VM-mode networking (runtime/vm_net.c, net/vmguest.c), as root. Like
 * test_net.c, every test first moves itself into a network namespace of
 * its own: the bridge, the taps, the nft table and the published ports
 * live there, and traffic goes only to loopback and to the VM containers'
 * 10.88.0.x. Each bridge test boots one VM (seconds under TCG: generous
 * timeouts, no timing asserted). Skipped without QEMU or a fetched kernel. */
#include <criterion/criterion.h>

#pragma GCC diagnostic ignored "-Wformat-truncation"

#include <arpa/inet.h>
#include <dirent.h>
#include <errno.h>
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

#include "../../net/net.h"
#include "helpers.h"
#include "net_util.h"

static void setup(void)
{
        h_require_vm();
        nt_setup("vmnet");
}

static void write_config(const char *script)
{
        char path[PATH_MAX + 32];
        snprintf(path, sizeof path, "%s/config.json", nt.bundle);
        FILE *f = fopen(path, "w");
        cr_assert(f);
        fprintf(f,
                "{\"ociVersion\":\"1.2.0\",\"process\":{\"terminal\":false,\"user\":{\"uid\":0,\"gid\":0},"
                "\"args\":[\"sh\",\"-c\",\"%s\"],\"env\":[\"PATH=/bin:/sbin\"],\"cwd\":\"/\"},"
                "\"root\":{\"path\":\"%s\",\"readonly\":true},\"hostname\":\"vmnettest\","
                "\"mounts\":[{\"destination\":\"/proc\",\"type\":\"proc\",\"source\":\"proc\"},"
                "{\"destination\":\"/dev\",\"type\":\"tmpfs\",\"source\":\"tmpfs\",\"options\":[\"nosuid\",\"mode=755\"]},"
                "{\"destination\":\"/tmp\",\"type\":\"tmpfs\",\"source\":\"tmpfs\",\"options\":[\"nosuid\"]}],"
                "\"linux\":{\"namespaces\":[{\"type\":\"pid\"},{\"type\":\"network\"},{\"type\":\"ipc\"},"
                "{\"type\":\"uts\"},{\"type\":\"mount\"}]}}",
                script, nt.rootfs);
        fclose(f);
}

struct counts {
        int links, addrs, rules, allocs;
};

static struct counts counts(void)
{
        char ls[PATH_MAX + 64];
        snprintf(ls, sizeof ls, "cat %s/.husk-net/*.ipam 2>/dev/null | grep -v '^subnet'", nt.root);
        return (struct counts){
                .links = nt_count_lines("ip -o link show", NULL),
                .addrs = nt_count_lines("ip -o addr show", NULL),
                .rules = nt_count_lines("nft list ruleset 2>/dev/null", NULL),
                .allocs = nt_count_lines(ls, NULL),
        };
}

static void assert_counts(struct counts want)
{
        struct counts c = counts();
        cr_assert_eq(c.links, want.links, "links: %d, %d before", c.links, want.links);
        cr_assert_eq(c.addrs, want.addrs, "addresses: %d, %d before", c.addrs, want.addrs);
        cr_assert_eq(c.rules, want.rules, "nft lines: %d, %d before", c.rules, want.rules);
        cr_assert_eq(c.allocs, want.allocs, "allocations: %d, %d before", c.allocs, want.allocs);
        char p[PATH_MAX + 64];
        snprintf(p, sizeof p, "ls -A %s", nt.root);
        cr_assert_eq(nt_count_lines(p, NULL) - nt_count_lines(p, ".husk-net"), 0, "containers left in %s", nt.root);
}

/* Accept one connection within ms and read it to EOF. */
static int accept_read(int l, int ms, char *buf, size_t len)
{
        struct pollfd p = { .fd = l, .events = POLLIN };
        if (poll(&p, 1, ms) != 1)
                return -1;
        int c = accept(l, NULL, NULL);
        size_t n = 0;
        ssize_t r;
        struct pollfd pc = { .fd = c, .events = POLLIN };
        while (n < len - 1 && poll(&pc, 1, 10000) > 0 && (r = read(c, buf + n, len - 1 - n)) > 0)
                n += (size_t)r;
        buf[n] = '\0';
        close(c);
        return 0;
}

TestSuite(vmnet, .init = setup, .fini = nt_teardown, .timeout = 300);

/* One boot: the VM container reaches the host (its /etc/hosts and
 * resolv.conf sent to the bridge address), the host reaches its listener
 * at 10.88.0.2:8000 (an unprivileged port: the process has no
 * capabilities), a published port reaches it through 127.0.0.1, and
 * delete leaves links, addresses, rules and allocations as they were. */
Test(vmnet, bridge_both_ways_published_port_and_no_leak)
{
        struct counts before = counts();
        int l = nt_tcp_listen(9000);
        write_config("ip -o addr show eth0 >/tmp/x; cat /etc/hosts /etc/resolv.conf /tmp/x | nc 10.88.0.1 9000; "
                     "while true; do echo from-vm | nc -l -p 8000; done");
        cr_assert_eq(nt_sh("$H run -d --vm --net bridge -p 8080:8000 --bundle $B ${P}v1"), 0, "%s", nt_last_err());
        char buf[4096];
        cr_assert_eq(accept_read(l, 120000, buf, sizeof buf), 0, "the VM container did not connect to the host");
        close(l);
        cr_assert(strstr(buf, "10.88.0.2\tvmnettest"), "/etc/hosts in the VM: %s", buf);
        cr_assert(strstr(buf, "# written by husk"), "resolv.conf in the VM: %s", buf);
        cr_assert(strstr(buf, "inet 10.88.0.2/16"), "eth0 in the VM: %s", buf);

        cr_assert_eq(nt_tcp_read("10.88.0.2", 8000, buf, sizeof buf, 60), 0, "no answer from 10.88.0.2:8000");
        cr_assert(strstr(buf, "from-vm"), "got '%s'", buf);
        cr_assert_eq(nt_tcp_read("127.0.0.1", 8080, buf, sizeof buf, 60), 0, "no answer on the published 127.0.0.1:8080");
        cr_assert(strstr(buf, "from-vm"), "got '%s'", buf);
        cr_assert_eq(nt_count_lines("nft list ruleset", "dnat to 10.88.0.2:8000"), 2);
        cr_assert_eq(nt_count_lines("ip -o link show master husk0", "hkt"), 1, "no tap on husk0");

        cr_assert_eq(nt_sh("$H delete -f ${P}v1"), 0, "%s", nt_last_err());
        assert_counts(before);
}

/* One boot: --net none gives the VM container lo only (no tap on the
 * host, no eth0 in the guest) and its hostname in /etc/hosts. */
Test(vmnet, none_has_only_lo)
{
        struct counts before = counts();
        write_config("test $(ip -o link | wc -l) = 1 && ip link show lo | grep -q ,UP && grep -q vmnettest /etc/hosts");
        cr_assert_eq(nt_sh("$H run --vm --net none --bundle $B ${P}n1"), 0, "%s", nt_last_err());
        assert_counts(before);
}

/* No boot: --net host is refused with a clear message, nothing left. */
Test(vmnet, host_mode_refused)
{
        struct counts before = counts();
        write_config("true");
        cr_assert_neq(nt_sh("$H run --vm --net host --bundle $B ${P}h1"), 0);
        cr_assert(strstr(nt_last_err(), "--net host: a VM-mode container cannot share the host's network namespace"),
                  "%s", nt_last_err());
        assert_counts(before);
}

/* One boot: QEMU killed (a crash) takes the tap with it; delete removes
 * the allocation and the rules. */
Test(vmnet, qemu_crash_then_delete_leaves_nothing)
{
        struct counts before = counts();
        write_config("sleep 600");
        cr_assert_eq(nt_sh("$H run -d --vm --net bridge -p 8081:80 --bundle $B ${P}c1"), 0, "%s", nt_last_err());
        cr_assert_eq(nt_count_lines("ip -o link show master husk0", "hkt"), 1, "no tap on husk0");
        cr_assert_eq(nt_sh("pkill -KILL -P $($H state ${P}c1 | sed -n 's/.*\"pid\": *\\([0-9]*\\).*/\\1/p') qemu-system"), 0,
                     "%s", nt_last_err());
        for (int i = 0; i < 200 && nt_count_lines("ip -o link show", "hkt"); i++)
                usleep(50000);
        cr_assert_eq(nt_count_lines("ip -o link show", "hkt"), 0, "the tap outlived QEMU");
        cr_assert_eq(nt_sh("$H delete -f ${P}c1"), 0, "%s", nt_last_err());
        assert_counts(before);
}
