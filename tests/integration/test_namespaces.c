/* Namespaces: every type new, joined by path, user namespace mappings
 * written by husk, time namespace offsets, hostname and domainname. */
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "helpers.h"

TestSuite(namespaces, .init = h_setup, .fini = h_teardown, .timeout = 60);

static const char *NS_NAMES[] = { "pid", "net", "mnt", "ipc", "uts", "user", "cgroup", "time" };

static char *host_ns(const char *name)
{
        char p[64], buf[128];
        snprintf(p, sizeof p, "/proc/self/ns/%s", name);
        ssize_t n = readlink(p, buf, sizeof buf - 1);
        cr_assert_gt(n, 0);
        buf[n] = '\0';
        return strdup(buf);
}

/* "name:[inode]" of the container's namespace, from its output of
 * `readlink /proc/self/ns/NAME` lines "NAME=value". */
static char *line_value(const char *out, const char *key)
{
        char k[64];
        snprintf(k, sizeof k, "%s=", key);
        for (const char *l = out; l && *l;) {
                const char *nl = strchr(l, '\n');
                size_t len = nl ? (size_t)(nl - l) : strlen(l);
                if (!strncmp(l, k, strlen(k)))
                        return strndup(l + strlen(k), len - strlen(k));
                l = nl ? nl + 1 : NULL;
        }
        return strdup("");
}

#define NS_SCRIPT                                                                             \
        "[\"sh\",\"-c\",\"for n in pid net mnt ipc uts user cgroup time; do echo $n=$(readlink " \
        "/proc/self/ns/$n); done\"]"

Test(namespaces, all_eight_are_new)
{
        const char *b = h_bundle(&(struct h_cfg){
                .args = NS_SCRIPT,
                .namespaces = "[{\"type\":\"pid\"},{\"type\":\"network\"},{\"type\":\"mount\"},{\"type\":\"ipc\"},"
                              "{\"type\":\"uts\"},{\"type\":\"user\"},{\"type\":\"cgroup\"},{\"type\":\"time\"}]",
                .linux_extra = ",\"uidMappings\":[{\"containerID\":0,\"hostID\":100000,\"size\":65536}],"
                               "\"gidMappings\":[{\"containerID\":0,\"hostID\":100000,\"size\":65536}]" });
        struct h_res r;
        HUSK(&r, "run", "-b", b, h_id("allns"));
        H_OK(&r);
        for (size_t i = 0; i < sizeof NS_NAMES / sizeof NS_NAMES[0]; i++) {
                char *h = host_ns(NS_NAMES[i]), *c = line_value(r.out, NS_NAMES[i]);
                cr_assert(c[0], "no %s namespace in: %s", NS_NAMES[i], r.out);
                cr_assert_str_neq(h, c, "%s namespace is the host's", NS_NAMES[i]);
                free(h);
                free(c);
        }
        h_res_free(&r);
}

Test(namespaces, none_asked_none_made)
{
        const char *b = h_bundle(&(struct h_cfg){ .args = NS_SCRIPT, .namespaces = "[{\"type\":\"mount\"}]" });
        struct h_res r;
        HUSK(&r, "run", "-b", b, h_id("fewns"));
        H_OK(&r);
        for (size_t i = 0; i < sizeof NS_NAMES / sizeof NS_NAMES[0]; i++) {
                char *h = host_ns(NS_NAMES[i]), *c = line_value(r.out, NS_NAMES[i]);
                if (!strcmp(NS_NAMES[i], "mnt"))
                        cr_assert_str_neq(h, c);
                else
                        cr_assert_str_eq(h, c, "%s namespace should be the host's", NS_NAMES[i]);
                free(h);
                free(c);
        }
        h_res_free(&r);
}

Test(namespaces, join_by_path)
{
        const char *a = h_id("nsowner");
        h_start_detached(a, h_bundle(&(struct h_cfg){ .args = "[\"sleep\",\"1000\"]", .hostname = "owner" }));
        yajl_val st = h_state(a);
        long long pid = h_jint(st, "pid");
        yajl_tree_free(st);
        char ns[1024];
        snprintf(ns, sizeof ns,
                 "[{\"type\":\"pid\",\"path\":\"/proc/%lld/ns/pid\"},{\"type\":\"network\",\"path\":\"/proc/%lld/ns/net\"},"
                 "{\"type\":\"uts\",\"path\":\"/proc/%lld/ns/uts\"},{\"type\":\"ipc\",\"path\":\"/proc/%lld/ns/ipc\"},"
                 "{\"type\":\"mount\"}]",
                 pid, pid, pid, pid);
        const char *b = h_bundle(&(struct h_cfg){
                .args = "[\"sh\",\"-c\",\"for n in pid net uts ipc; do echo $n=$(readlink /proc/self/ns/$n); done; "
                        "echo h=$(hostname); ps -o pid,comm | grep -c sleep\"]",
                .namespaces = ns,
                /* hostname needs a new uts namespace: the joined one keeps its name */
                .hostname = "" });
        struct h_res r;
        HUSK(&r, "run", "-b", b, h_id("joiner"));
        H_OK(&r);
        const char *names[] = { "pid", "net", "uts", "ipc" };
        for (size_t i = 0; i < 4; i++) {
                char p[64], buf[128];
                snprintf(p, sizeof p, "/proc/%lld/ns/%s", pid, names[i]);
                ssize_t n = readlink(p, buf, sizeof buf - 1);
                cr_assert_gt(n, 0);
                buf[n] = '\0';
                char *c = line_value(r.out, names[i]);
                cr_assert_str_eq(c, buf, "%s namespace not joined", names[i]);
                free(c);
        }
        H_HAS(r.out, "h=owner\n");
        /* The owner's sleep is visible in the joined pid namespace. */
        H_HAS(r.out, "\n1\n");
        h_res_free(&r);
}

Test(namespaces, join_path_of_wrong_type_fails)
{
        const char *id = h_id("wrongns");
        const char *b = h_bundle(&(struct h_cfg){
                .namespaces = "[{\"type\":\"network\",\"path\":\"/proc/self/ns/uts\"},{\"type\":\"mount\"}]" });
        struct h_res r;
        HUSK(&r, "run", "-b", b, id);
        h_assert_fail(&r, "not a network namespace");
        h_res_free(&r);
        h_assert_clean(id, NULL);
}

Test(namespaces, user_namespace_mappings)
{
        const char *b = h_bundle(&(struct h_cfg){
                .args = "[\"sh\",\"-c\",\"cat /proc/self/uid_map /proc/self/gid_map; id -u; id -g; "
                        "cat /proc/self/setgroups; ls -l /dev/null\"]",
                .namespaces = "[{\"type\":\"pid\"},{\"type\":\"mount\"},{\"type\":\"user\"},{\"type\":\"ipc\"},"
                              "{\"type\":\"uts\"}]",
                .linux_extra = ",\"uidMappings\":[{\"containerID\":0,\"hostID\":200000,\"size\":1000}],"
                               "\"gidMappings\":[{\"containerID\":0,\"hostID\":300000,\"size\":2000}]" });
        struct h_res r;
        HUSK(&r, "run", "-b", b, h_id("userns"));
        H_OK(&r);
        /* uid_map lines are padded: compare the numbers. */
        unsigned a, bb, c, d, e, f;
        cr_assert_eq(sscanf(r.out, "%u %u %u %u %u %u", &a, &bb, &c, &d, &e, &f), 6, "%s", r.out);
        cr_assert_eq(a, 0);
        cr_assert_eq(bb, 200000);
        cr_assert_eq(c, 1000);
        cr_assert_eq(d, 0);
        cr_assert_eq(e, 300000);
        cr_assert_eq(f, 2000);
        H_HAS(r.out, "\n0\n0\n");
        /* /dev/null is the host's node bind-mounted (mknod is denied). */
        H_HAS(r.out, "crw-rw-rw-");
        h_res_free(&r);
}

Test(namespaces, user_namespace_process_user_is_mapped)
{
        const char *b = h_bundle(&(struct h_cfg){
                .args = "[\"sh\",\"-c\",\"id -u; id -g\"]",
                .user = "{\"uid\":1000,\"gid\":1000}",
                .namespaces = "[{\"type\":\"mount\"},{\"type\":\"user\"},{\"type\":\"pid\"},{\"type\":\"uts\"}]",
                .linux_extra = ",\"uidMappings\":[{\"containerID\":0,\"hostID\":100000,\"size\":65536}],"
                               "\"gidMappings\":[{\"containerID\":0,\"hostID\":100000,\"size\":65536}]" });
        struct h_res r;
        HUSK(&r, "run", "-b", b, h_id("userns2"));
        H_OK(&r);
        cr_assert_str_eq(r.out, "1000\n1000\n");
        h_res_free(&r);
}

Test(namespaces, time_namespace_offsets)
{
        const char *b = h_bundle(&(struct h_cfg){
                .args = "[\"cut\",\"-d.\",\"-f1\",\"/proc/uptime\"]",
                .namespaces = "[{\"type\":\"mount\"},{\"type\":\"time\"},{\"type\":\"pid\"},{\"type\":\"uts\"}]",
                .linux_extra = ",\"timeOffsets\":{\"monotonic\":{\"secs\":864000,\"nanosecs\":0},"
                               "\"boottime\":{\"secs\":1728000,\"nanosecs\":0}}" });
        struct h_res r;
        HUSK(&r, "run", "-b", b, h_id("timens"));
        H_OK(&r);
        /* /proc/uptime is boottime: shifted by 20 days. */
        long up = strtol(r.out, NULL, 10);
        char *host = h_read("/proc/uptime");
        long hup = strtol(host, NULL, 10);
        free(host);
        cr_assert(up >= hup + 1728000 - 5 && up <= hup + 1728000 + 5, "uptime %ld (host %ld)", up, hup);
        h_res_free(&r);
}

Test(namespaces, hostname_and_domainname)
{
        const char *b = h_bundle(&(struct h_cfg){
                .args = "[\"sh\",\"-c\",\"hostname; cat /proc/sys/kernel/domainname\"]",
                .hostname = "box1",
                .top_extra = ",\"domainname\":\"example.org\"" });
        struct h_res r;
        HUSK(&r, "run", "-b", b, h_id("uts"));
        H_OK(&r);
        cr_assert_str_eq(r.out, "box1\nexample.org\n");
        h_res_free(&r);
        char host[256];
        gethostname(host, sizeof host);
        cr_assert_str_neq(host, "box1");
}

Test(namespaces, pid_namespace_init_is_pid_1)
{
        const char *b = h_bundle(&(struct h_cfg){ .args = "[\"sh\",\"-c\",\"echo $$; ps -o pid | wc -l\"]" });
        struct h_res r;
        HUSK(&r, "run", "-b", b, h_id("pid1"));
        H_OK(&r);
        /* sh is 1; ps lists the header, sh, ps and wc. */
        H_HAS(r.out, "1\n");
        cr_assert_eq(strncmp(r.out, "1\n", 2), 0, "%s", r.out);
        h_res_free(&r);
}

Test(namespaces, network_namespace_has_only_lo)
{
        const char *b = h_bundle(&(struct h_cfg){ .args = "[\"sh\",\"-c\",\"ls /sys/class/net\"]",
                                                   .mounts_extra = "{\"destination\":\"/sys\",\"type\":\"sysfs\","
                                                                   "\"source\":\"sysfs\",\"options\":[\"ro\"]}" });
        struct h_res r;
        HUSK(&r, "run", "-b", b, h_id("net"));
        H_OK(&r);
        cr_assert_str_eq(r.out, "lo\n");
        h_res_free(&r);
}

Test(namespaces, hostname_without_uts_namespace_is_refused)
{
        char before[256], after[256];
        gethostname(before, sizeof before);
        const char *id = h_id("nouts");
        const char *b = h_bundle(&(struct h_cfg){ .hostname = "husk-renamed-host",
                                                   .namespaces = "[{\"type\":\"mount\"},{\"type\":\"pid\"}]" });
        struct h_res r;
        HUSK(&r, "run", "-b", b, id);
        h_assert_fail(&r, "uts namespace");
        h_res_free(&r);
        gethostname(after, sizeof after);
        cr_assert_str_eq(before, after, "the host was renamed");
        h_assert_clean(id, NULL);
}
