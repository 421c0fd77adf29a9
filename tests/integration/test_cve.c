/* Known container-runtime attacks, performed from inside a container (or
 * its image) against husk; each asserts the attack fails and the host is
 * unchanged. Exec-based variants skip while `husk exec` does not exist. */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <stdbool.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "test_hardening_util.h"

static struct hk h;

static void teardown(void)
{
        hk_done(&h);
}

TestSuite(cve, .fini = teardown, .timeout = 120);

static char *slurp(const char *path)
{
        char *out = NULL;
        hk_sh(&out, "cat '%s'", path);
        return out;
}

/* sha256 of a file, for "unchanged" checks. */
static void sha(const char *path, char out[80])
{
        char *o = NULL;
        cr_assert_eq(hk_sh(&o, "sha256sum '%s' | cut -c1-64", path), 0);
        snprintf(out, 80, "%s", o);
        free(o);
}

static int host_mounts_under(const char *dir)
{
        char *o = NULL;
        hk_sh(&o, "grep -c ' %s' /proc/self/mountinfo", dir);
        int n = atoi(o);
        free(o);
        return n;
}

/* ------------------------------------------------------ CVE-2024-21626
 * A leaked fd of husk (state dir, cgroupfs, rootfs parent) as the working
 * directory: process.cwd = /proc/self/fd/N, then walk up with "..". */
Test(cve, cwd_leaked_fd_2024_21626)
{
        hk_init(&h, true);
        char marker[400];
        snprintf(marker, sizeof marker, "%s/HK_HOST_MARKER", h.dir);
        cr_assert_eq(hk_sh(NULL, "touch %s %s.state", marker, h.root), 0);
        for (int fd = 3; fd <= 12; fd++) {
                char cwd[64];
                snprintf(cwd, sizeof cwd, "/proc/self/fd/%d", fd);
                hk_config(&h, &(struct hk_cfg){
                        .cwd = cwd,
                        .args = "\"sh\",\"-c\",\"pwd -P; ls -a . .. ../.. ../../.. ../../../.. "
                                "../../../../..; echo DONE\"",
                });
                char *out = NULL;
                int rc = hk_run(&h, NULL, &out, "run --bundle %s @cwd%d", h.bundle, fd);
                cr_log_info("cwd fd %d: rc %d: %s", fd, rc, out);
                cr_expect_null(strstr(out, "HK_HOST_MARKER"), "fd %d leaks the host: %s", fd, out);
                cr_expect_null(strstr(out, "cgroup.procs"), "fd %d leaks cgroupfs: %s", fd, out);
                cr_expect_null(strstr(out, "state.json"), "fd %d leaks the state dir: %s", fd, out);
                cr_expect_null(strstr(out, "config.json"), "fd %d leaks the state dir: %s", fd, out);
                free(out);
                hk_run(&h, NULL, NULL, "delete --force @cwd%d", fd);
        }
}

/* The same through an exec'd process (husk exec --cwd). */
Test(cve, exec_cwd_leaked_fd_2024_21626)
{
        if (!hk_has_command("exec")) /* before hk_init: skipping skips .fini */
                cr_skip_test("husk exec is not implemented yet");
        hk_init(&h, true);
        char marker[400];
        snprintf(marker, sizeof marker, "%s/HK_HOST_MARKER", h.dir);
        cr_assert_eq(hk_sh(NULL, "touch %s", marker), 0);
        hk_config(&h, &(struct hk_cfg){ .args = "\"sleep\",\"60\"" });
        cr_assert_eq(hk_run(&h, NULL, NULL, "run --detach --bundle %s @ex", h.bundle), 0);
        for (int fd = 3; fd <= 12; fd++) {
                char *out = NULL;
                hk_run(&h, NULL, &out, "exec --cwd /proc/self/fd/%d @ex sh -c 'pwd -P; ls -a . .. "
                                       "../.. ../../.. ../../../..'", fd);
                cr_expect_null(strstr(out, "HK_HOST_MARKER"), "exec fd %d leaks the host: %s", fd, out);
                cr_expect_null(strstr(out, "cgroup.procs"), "exec fd %d leaks cgroupfs: %s", fd, out);
                cr_expect_null(strstr(out, "state.json"), "exec fd %d leaks the state dir: %s", fd, out);
                free(out);
        }
        /* and no fd of husk reaches the exec'd process */
        char *out = NULL;
        hk_run(&h, NULL, &out, "exec @ex sh -c 'for f in /proc/self/fd/*; do readlink $f; done'");
        cr_expect_null(strstr(out, h.root), "exec'd process holds a husk fd: %s", out);
        cr_expect_null(strstr(out, "cgroup"), "exec'd process holds a husk fd: %s", out);
        free(out);
}

/* No fd of husk reaches the container's program (all of them listed). */
Test(cve, no_fd_leaks_into_container)
{
        hk_init(&h, false);
        hk_config(&h, &(struct hk_cfg){
                .args = "\"sh\",\"-c\",\"for f in /proc/self/fd/*; do echo $f $(readlink $f); done\"",
        });
        char *out = NULL;
        cr_assert_eq(hk_run(&h, NULL, &out, "run --bundle %s @fds", h.bundle), 0, "%s", out);
        cr_log_info("fds: %s", out);
        cr_expect_null(strstr(out, h.root), "state dir fd leaked: %s", out);
        cr_expect_null(strstr(out, "/sys/fs/cgroup"), "cgroup fd leaked: %s", out);
        cr_expect_null(strstr(out, "memfd:husk"), "husk's memfd leaked: %s", out);
        cr_expect_null(strstr(out, "socket:"), "a husk socket leaked: %s", out);
        free(out);
}

/* ------------------------------------------------------ CVE-2022-29162
 * Inheritable and ambient capabilities must not appear unless asked for,
 * and must not survive into processes the program execs. */
static unsigned long long cap_field(const char *out, const char *name)
{
        const char *p = strstr(out, name);
        cr_assert_not_null(p, "%s missing in %s", name, out);
        return strtoull(p + strlen(name) + 1, NULL, 16);
}

Test(cve, no_inheritable_or_ambient_caps_2022_29162)
{
        hk_init(&h, false);
        hk_config(&h, &(struct hk_cfg){
                .args = "\"sh\",\"-c\",\"grep ^Cap /proc/self/status; sh -c 'grep ^Cap /proc/self/status' "
                        "| sed s/^Cap/Child/\"",
        });
        char *out = NULL;
        cr_assert_eq(hk_run(&h, NULL, &out, "run --bundle %s @caps", h.bundle), 0, "%s", out);
        cr_expect_eq(cap_field(out, "CapInh:"), 0, "%s", out);
        cr_expect_eq(cap_field(out, "CapAmb:"), 0, "%s", out);
        cr_expect_eq(cap_field(out, "ChildInh:"), 0, "%s", out);
        cr_expect_eq(cap_field(out, "ChildAmb:"), 0, "%s", out);
        /* CAP_KILL (5) and CAP_CHOWN (0): nothing else, in the child too */
        cr_expect_eq(cap_field(out, "CapBnd:"), 0x21ULL, "%s", out);
        cr_expect_eq(cap_field(out, "ChildEff:") & ~0x21ULL, 0, "%s", out);
        free(out);
}

/* A non-root user: without ambient caps, what it execs holds nothing. */
Test(cve, non_root_exec_gets_no_caps_2022_29162)
{
        hk_init(&h, false);
        hk_config(&h, &(struct hk_cfg){
                .user = "\"uid\":1000,\"gid\":1000",
                .caps = "\"bounding\":[\"CAP_KILL\",\"CAP_NET_RAW\"],"
                        "\"effective\":[\"CAP_KILL\"],\"permitted\":[\"CAP_KILL\"],"
                        "\"inheritable\":[\"CAP_KILL\"]",
                .args = "\"sh\",\"-c\",\"grep ^Cap /proc/self/status; sh -c 'grep ^Cap /proc/self/status' "
                        "| sed s/^Cap/Child/\"",
        });
        char *out = NULL;
        cr_assert_eq(hk_run(&h, NULL, &out, "run --bundle %s @capsu", h.bundle), 0, "%s", out);
        cr_expect_eq(cap_field(out, "CapAmb:"), 0, "%s", out);
        cr_expect_eq(cap_field(out, "ChildEff:"), 0, "%s", out);
        cr_expect_eq(cap_field(out, "ChildPrm:"), 0, "%s", out);
        cr_expect_eq(cap_field(out, "ChildAmb:"), 0, "%s", out);
        free(out);
}

Test(cve, exec_no_inheritable_or_ambient_caps_2022_29162)
{
        if (!hk_has_command("exec")) /* before hk_init: skipping skips .fini */
                cr_skip_test("husk exec is not implemented yet");
        hk_init(&h, false);
        hk_config(&h, &(struct hk_cfg){ .args = "\"sleep\",\"60\"" });
        cr_assert_eq(hk_run(&h, NULL, NULL, "run --detach --bundle %s @exc", h.bundle), 0);
        char *out = NULL;
        cr_assert_eq(hk_run(&h, NULL, &out, "exec @exc grep ^Cap /proc/self/status"), 0, "%s", out);
        cr_expect_eq(cap_field(out, "CapInh:"), 0, "%s", out);
        cr_expect_eq(cap_field(out, "CapAmb:"), 0, "%s", out);
        free(out);
}

/* ------------------------------------------------------ devices in images
 * Device nodes shipped in the rootfs must not give raw disk (or memory)
 * access: the device cgroup refuses them, whatever the file says. */
Test(cve, image_device_nodes_refused)
{
        hk_init(&h, true);
        char *o = NULL;
        /* the first real disk of the host (not loop/ram); loop0 otherwise */
        hk_sh(&o, "awk 'NR>2 && $4 !~ /^(loop|ram|zram)/ {print $1\" \"$2; exit}' /proc/partitions");
        unsigned maj = 7, min = 0;
        if (o && sscanf(o, "%u %u", &maj, &min) != 2)
                maj = 7, min = 0;
        free(o);
        cr_assert_eq(hk_sh(NULL, "cd %s && mknod hkdisk b %u %u && mknod hkmem c 1 1 && "
                                 "mknod hkkmsg c 1 11 && chmod 666 hkdisk hkmem hkkmsg",
                           h.rootfs, maj, min), 0);
        hk_config(&h, &(struct hk_cfg){
                .args = "\"sh\",\"-c\",\"dd if=/hkdisk of=/dev/null bs=512 count=1 && echo DISK-READ; "
                        "echo x >> /hkdisk && echo DISK-WRITE; dd if=/hkmem of=/dev/null bs=1 count=1 "
                        "&& echo MEM-READ; echo x > /hkkmsg && echo KMSG-WRITE; echo DONE\"",
        });
        char *out = NULL;
        hk_run(&h, NULL, &out, "run --bundle %s @devs", h.bundle);
        cr_log_info("devices (%u:%u): %s", maj, min, out);
        cr_expect_not_null(strstr(out, "DONE"), "%s", out);
        cr_expect_null(strstr(out, "DISK-READ"), "raw disk readable from the image's node: %s", out);
        cr_expect_null(strstr(out, "DISK-WRITE"), "raw disk writable from the image's node: %s", out);
        cr_expect_null(strstr(out, "MEM-READ"), "/dev/mem readable: %s", out);
        cr_expect_null(strstr(out, "KMSG-WRITE"), "/dev/kmsg writable: %s", out);
        free(out);
}

/* ------------------------------------------------ /proc, masked paths
 * The image replaces /proc, a masked path and a read-only path by
 * symlinks to a host directory; the host directory is a shared mount so a
 * mount husk made through the symlink would propagate to the host. */
static void shared_host_dir(const char *dir)
{
        cr_assert_eq(hk_sh(NULL, "mkdir -p %s && mount --bind %s %s && mount --make-shared %s && "
                                 "echo host > %s/file",
                           dir, dir, dir, dir, dir), 0);
}

static void unshare_host_dir(const char *dir)
{
        hk_sh(NULL, "umount -R %s", dir);
}

Test(cve, proc_symlink_in_image)
{
        hk_init(&h, true);
        char host[400];
        snprintf(host, sizeof host, "%s/hosttarget", h.dir);
        shared_host_dir(host);
        int before = host_mounts_under(host);
        cr_assert_eq(hk_sh(NULL, "cd %s && rm -rf proc && ln -s %s proc && "
                                 "rm -rf sys && ln -s ../../../../../../../..%s sys",
                           h.rootfs, host, host), 0);
        hk_config(&h, &(struct hk_cfg){ .args = "\"sh\",\"-c\",\"echo RAN\"" });
        char *out = NULL;
        int rc = hk_run(&h, NULL, &out, "run --bundle %s @procsym", h.bundle);
        cr_log_info("proc symlink: rc %d: %s", rc, out);
        free(out);
        cr_expect_eq(host_mounts_under(host), before, "a mount reached the host through the symlink");
        char *f = slurp("/proc/self/mountinfo");
        cr_expect_null(strstr(f, "hosttarget/file"), "%s", f);
        free(f);
        char *c = NULL;
        hk_sh(&c, "ls -A %s; cat %s/file", host, host);
        cr_expect_str_eq(c, "file\nhost\n", "host directory changed: %s", c);
        free(c);
        unshare_host_dir(host);
}

Test(cve, masked_and_readonly_symlinks_in_image)
{
        hk_init(&h, true);
        char host[400];
        snprintf(host, sizeof host, "%s/hosttarget", h.dir);
        shared_host_dir(host);
        int before = host_mounts_under(host);
        cr_assert_eq(hk_sh(NULL, "cd %s && ln -s %s/file hkmask && ln -s ../../../../../..%s hkro && "
                                 "ln -s %s hkmaskdir",
                           h.rootfs, host, host, host), 0);
        hk_config(&h, &(struct hk_cfg){
                .args = "\"sh\",\"-c\",\"echo RAN\"",
                .masked = "\"/proc/kcore\",\"/hkmask\",\"/hkmaskdir\"",
                .linux_extra = ",\"readonlyPaths\":[\"/hkro\"]",
        });
        char *out = NULL;
        int rc = hk_run(&h, NULL, &out, "run --bundle %s @masksym", h.bundle);
        cr_log_info("masked symlink: rc %d: %s", rc, out);
        free(out);
        cr_expect_eq(host_mounts_under(host), before, "a mount reached the host through the symlink");
        char *c = NULL;
        hk_sh(&c, "ls -A %s; cat %s/file; touch %s/w && echo WRITABLE", host, host, host);
        cr_expect_str_eq(c, "file\nhost\nWRITABLE\n", "host directory changed: %s", c);
        free(c);
        unshare_host_dir(host);
}

/* ------------------------------------------------------ CVE-2021-30465
 * A mount destination that is (or becomes) a symlink out of the rootfs. */
Test(cve, mount_destination_symlink_2021_30465)
{
        hk_init(&h, true);
        char host[400];
        snprintf(host, sizeof host, "%s/hosttarget", h.dir);
        shared_host_dir(host);
        int before = host_mounts_under(host);
        cr_assert_eq(hk_sh(NULL, "cd %s && ln -s %s data && ln -s ../../../../../../../..%s data2",
                           h.rootfs, host, host), 0);
        hk_config(&h, &(struct hk_cfg){
                .args = "\"sh\",\"-c\",\"echo RAN\"",
                .mounts = ",{\"destination\":\"/data\",\"type\":\"tmpfs\",\"source\":\"tmpfs\"}"
                          ",{\"destination\":\"/data2/sub\",\"type\":\"tmpfs\",\"source\":\"tmpfs\"}",
        });
        char *out = NULL;
        int rc = hk_run(&h, NULL, &out, "run --bundle %s @mntsym", h.bundle);
        cr_log_info("mount symlink: rc %d: %s", rc, out);
        free(out);
        cr_expect_eq(host_mounts_under(host), before, "a mount reached the host through the symlink");
        char *c = NULL;
        hk_sh(&c, "ls -A %s", host);
        cr_expect_str_eq(c, "file\n", "host directory changed: %s", c);
        free(c);
        unshare_host_dir(host);
}

/* The racing variant through a shared volume: container A swaps a
 * directory in the volume for a symlink to "/" (and to the host dir) in a
 * loop while B is created with a tmpfs mounted at that path. B's root
 * must stay its rootfs; nothing may reach the host. */
Test(cve, mount_destination_race_shared_volume_2021_30465, .timeout = 180)
{
        hk_init(&h, true);
        char vol[400], host[400];
        snprintf(vol, sizeof vol, "%s/volume", h.dir);
        snprintf(host, sizeof host, "%s/hosttarget", h.dir);
        shared_host_dir(host);
        int before = host_mounts_under(host);
        cr_assert_eq(hk_sh(NULL, "mkdir -p %s/m && touch %s/.hk-rootfs", vol, h.rootfs), 0);
        char mnt[600];
        snprintf(mnt, sizeof mnt,
                 ",{\"destination\":\"/vol\",\"type\":\"bind\",\"source\":\"%s\",\"options\":[\"rbind\"]}",
                 vol);
        hk_config(&h, &(struct hk_cfg){
                .args = "\"sh\",\"-c\",\"cd /vol; while :; do rm -rf m; ln -s / m; rm -f m; mkdir m; "
                        "rm -rf m; ln -s /../../../../../../../../../../tmp m; rm -f m; mkdir m; done\"",
                .mounts = mnt,
        });
        char *ro = NULL;
        cr_assert_eq(hk_run(&h, NULL, &ro, "run --detach --bundle %s @racer >/dev/null", h.bundle), 0, "%s", ro);
        free(ro);
        char mnt2[900];
        snprintf(mnt2, sizeof mnt2,
                 "%s,{\"destination\":\"/vol/m\",\"type\":\"tmpfs\",\"source\":\"tmpfs\"}", mnt);
        hk_config(&h, &(struct hk_cfg){
                .args = "\"sh\",\"-c\",\"test -e /.hk-rootfs && test -x /bin/busybox && echo ROOT-OK\"",
                .mounts = mnt2,
        });
        int ok = 0, failed = 0;
        for (int i = 0; i < 30; i++) {
                char *out = NULL;
                int rc = hk_run(&h, NULL, &out, "run --bundle %s @victim%d", h.bundle, i);
                if (rc == 0) {
                        cr_expect_not_null(strstr(out, "ROOT-OK"), "victim %d: root replaced: %s", i, out);
                        ok++;
                } else {
                        failed++;
                }
                free(out);
                hk_run(&h, NULL, NULL, "delete --force @victim%d", i);
        }
        cr_log_info("race: %d created, %d refused", ok, failed);
        hk_run(&h, NULL, NULL, "delete --force @racer");
        cr_expect_eq(host_mounts_under(host), before);
        char *c = NULL;
        hk_sh(&c, "ls -A %s", host);
        cr_expect_str_eq(c, "file\n", "host directory changed: %s", c);
        free(c);
        unshare_host_dir(host);
}

/* ------------------------------------- CVE-2019-5736 and ptrace of init
 * A container shares its pid namespace with containers created later: it
 * loops over every process (a victim's init is reparented to it) and
 * tries to write its /proc/<pid>/exe, read its memory map or environment
 * and attach to it, while husk creates and starts containers that join its
 * pid namespace. husk's init (a sealed memfd copy of husk) must refuse all;
 * the husk binary on the host must be unchanged. The attacker is root with
 * docker's usual capabilities but not CAP_SYS_PTRACE (which, without a user
 * namespace, opens every process of its pid namespace by design). */
static void attack_init(bool userns)
{
        hk_init(&h, true);
        char husk[400], before[80], after[80];
        snprintf(husk, sizeof husk, "%s/husk-copy", h.dir);
        /* The fault build widens the windows: husk create pauses before
         * releasing stage 2, the init pauses between start and the
         * identity switch. */
        const char *fb = getenv("HUSK_FAULTS_BIN");
        bool wide = fb && access(fb, X_OK) == 0;
        cr_assert_eq(hk_sh(NULL, "cp %s %s", wide ? fb : hk_husk(), husk), 0);
        char victim_husk[600];
        snprintf(victim_husk, sizeof victim_husk, "%s%s",
                 wide ? "env HUSK_FAULT_DELAY=create.before-init-continue:300 " : "", husk);
        char start_husk[600];
        snprintf(start_husk, sizeof start_husk, "%s", husk);
        sha(husk, before);
        char log[400];
        snprintf(log, sizeof log, "%s/attacker.log", h.dir);
        cr_assert_eq(hk_sh(NULL, "mkdir -p %s/out %s/out && chmod 777 %s/out && touch %s", h.dir, h.rootfs, h.dir, log), 0);
        char mnt[600];
        snprintf(mnt, sizeof mnt,
                 ",{\"destination\":\"/out\",\"type\":\"bind\",\"source\":\"%s/out\",\"options\":[\"rbind\"]}",
                 h.dir);
        /* In a user namespace the attacker holds every capability there,
         * CAP_SYS_PTRACE included: only non-dumpability (the init's mm
         * belongs to the host's user namespace) keeps it out. */
        const char *maps = userns ? ",\"uidMappings\":[{\"containerID\":0,\"hostID\":200000,\"size\":65536}],"
                                    "\"gidMappings\":[{\"containerID\":0,\"hostID\":200000,\"size\":65536}]"
                                  : NULL;
        const char *usercaps = "\"bounding\":[\"CAP_KILL\",\"CAP_DAC_OVERRIDE\",\"CAP_SYS_PTRACE\",\"CAP_SYS_ADMIN\"],"
                               "\"effective\":[\"CAP_KILL\",\"CAP_DAC_OVERRIDE\",\"CAP_SYS_PTRACE\",\"CAP_SYS_ADMIN\"],"
                               "\"permitted\":[\"CAP_KILL\",\"CAP_DAC_OVERRIDE\",\"CAP_SYS_PTRACE\",\"CAP_SYS_ADMIN\"]";
        hk_config(&h, &(struct hk_cfg){
                .no_sysfs = userns,
                .ns = userns ? ",{\"type\":\"user\"}" : NULL,
                .linux_extra = maps,
                .caps = userns ? usercaps :
                        "\"bounding\":[\"CAP_KILL\",\"CAP_DAC_OVERRIDE\",\"CAP_CHOWN\"],"
                        "\"effective\":[\"CAP_KILL\",\"CAP_DAC_OVERRIDE\",\"CAP_CHOWN\"],"
                        "\"permitted\":[\"CAP_KILL\",\"CAP_DAC_OVERRIDE\",\"CAP_CHOWN\"]",
                .args = "\"sh\",\"-c\",\"echo up > /out/up; while :; do for d in /proc/[0-9]*; do "
                        "p=${d#/proc/}; [ $p = 1 ] && continue; "
                        "m=$(cat $d/maps 2>/dev/null); case $m in *memfd:husk*) echo MAPS $p >> /out/log;; esac; "
                        "e=$(readlink $d/exe 2>/dev/null); case $e in *memfd:husk*) echo EXE $p $e >> /out/log;; esac; "
                        "if (echo pwned >> $d/exe) 2>/dev/null; then echo WROTE $p >> /out/log; fi; "
                        "cat $d/environ >/dev/null 2>&1 && case $(cat $d/maps 2>/dev/null) in *memfd:husk*) "
                        "echo ENV $p >> /out/log;; esac; "
                        "done; done\"",
                .mounts = mnt,
        });
        char *ao = NULL;
        cr_assert_eq(hk_run(&h, husk, &ao, "run --detach --bundle %s @attacker", h.bundle), 0, "%s", ao);
        free(ao);
        char *st = NULL;
        cr_assert_eq(hk_run(&h, husk, &st, "state @attacker"), 0);
        const char *pp = strstr(st, "\"pid\"");
        cr_assert_not_null(pp, "%s", st);
        int apid = atoi(pp + 6);
        free(st);
        char ns[160];
        snprintf(ns, sizeof ns, ",{\"type\":\"pid\",\"path\":\"/proc/%d/ns/pid\"}", apid);
        /* the victims: same pid namespace (the first "pid" entry replaced) */
        char userpath[128];
        snprintf(userpath, sizeof userpath, ",{\"type\":\"user\",\"path\":\"/proc/%d/ns/user\"}", apid);
        /* (the mappings repeated: husk needs them to chown its stdio) */
        hk_config(&h, &(struct hk_cfg){ .args = "\"true\"", .no_sysfs = userns,
                                        .caps = userns ? usercaps : NULL,
                                        .ns = userns ? userpath : NULL, .linux_extra = maps });
        cr_assert_eq(hk_sh(NULL, "sed -i 's|{\"type\":\"pid\"}|{\"type\":\"pid\",\"path\":\"/proc/%d/ns/pid\"}|' "
                                 "%s/config.json", apid, h.bundle), 0);
        (void)ns;
        (void)victim_husk;
        (void)start_husk;
        for (int i = 0; i < 12; i++) {
                char *out = NULL;
                /* odd victims pause in the init after start instead */
                char vh[700];
                snprintf(vh, sizeof vh, "%s%s",
                         wide ? (i % 2 ? "env HUSK_FAULT_DELAY=init.after-attrs:300 "
                                       : "env HUSK_FAULT_DELAY=create.before-init-continue:300 ")
                              : "",
                         husk);
                int rc = hk_run(&h, vh, &out, "create --bundle %s @v%d", h.bundle, i);
                cr_expect_eq(rc, 0, "victim %d: %s", i, out);
                free(out);
                hk_run(&h, husk, NULL, "start @v%d", i);
                hk_run(&h, husk, NULL, "delete --force @v%d", i);
        }
        hk_run(&h, husk, NULL, "delete --force @attacker");
        char *l = NULL;
        hk_sh(&l, "cat %s/out/log 2>/dev/null; true", h.dir);
        cr_expect_str_eq(l, "", "the container reached husk's init: %s", l);
        free(l);
        sha(husk, after);
        cr_expect_str_eq(before, after, "the husk binary was modified");
}

Test(cve, overwrite_runtime_and_ptrace_init_2019_5736, .timeout = 180)
{
        attack_init(false);
}

/* The same with attacker and victims in one user namespace. */
Test(cve, ptrace_init_from_user_namespace, .timeout = 180)
{
        attack_init(true);
}

/* ------------------------------------------------------ CVE-2019-19921
 * The image's /proc is a symlink into a volume mounted after /proc: the
 * process attribute writes (oom_score_adj, LSM labels under /proc/self)
 * would land in the volume's (host) files, bypassing the LSM. */
Test(cve, proc_symlink_into_volume_2019_19921)
{
        hk_init(&h, true);
        char vol[400];
        snprintf(vol, sizeof vol, "%s/vol", h.dir);
        cr_assert_eq(hk_sh(NULL, "mkdir -p %s/proc/self/attr && echo host > %s/proc/self/oom_score_adj && "
                                 "echo host > %s/proc/self/attr/exec && cd %s && rm -rf proc && "
                                 "mkdir -p vol/proc && ln -s /vol/proc proc",
                           vol, vol, vol, h.rootfs), 0);
        char mnt[600];
        snprintf(mnt, sizeof mnt,
                 ",{\"destination\":\"/vol\",\"type\":\"bind\",\"source\":\"%s\",\"options\":[\"rbind\"]}", vol);
        hk_config(&h, &(struct hk_cfg){ .args = "\"sh\",\"-c\",\"echo RAN\"", .mounts = mnt });
        cr_assert_eq(hk_sh(NULL, "sed -i 's|\"cwd\":|\"oomScoreAdj\":500,\"cwd\":|' %s/config.json", h.bundle), 0);
        char *out = NULL;
        int rc = hk_run(&h, NULL, &out, "run --bundle %s @procvol", h.bundle);
        cr_log_info("proc into a volume: rc %d: %s", rc, out);
        free(out);
        char *c = NULL;
        hk_sh(&c, "cat %s/proc/self/oom_score_adj %s/proc/self/attr/exec", vol, vol);
        cr_expect_str_eq(c, "host\nhost\n", "the volume's files were written: %s", c);
        free(c);
}
