/* Mounts, rootfs, devices, masked/readonly paths, sysctl, and path
 * resolution inside the rootfs (symlinks must not escape it). */
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <unistd.h>

#include "helpers.h"

TestSuite(mounts, .init = h_setup, .fini = h_teardown, .timeout = 60);

static struct h_res run_sh(const char *script, const struct h_cfg *base)
{
        struct h_cfg c = base ? *base : (struct h_cfg){ 0 };
        char *args = NULL;
        /* script must not contain double quotes or backslashes */
        cr_assert(asprintf(&args, "[\"sh\",\"-c\",\"%s\"]", script) > 0);
        c.args = args;
        struct h_res r;
        HUSK(&r, "run", "-b", h_bundle(&c), h_id("m"));
        free(args);
        return r;
}

/* The line of /proc/self/mounts for a mount point, from the output. */
static char *mount_line(const char *out, const char *mp)
{
        char k[256];
        snprintf(k, sizeof k, " %s ", mp);
        for (const char *l = out; l && *l;) {
                const char *nl = strchr(l, '\n');
                size_t len = nl ? (size_t)(nl - l) : strlen(l);
                char *line = strndup(l, len);
                if (strstr(line, k))
                        return line;
                free(line);
                l = nl ? nl + 1 : NULL;
        }
        return NULL;
}

static bool has_opt(const char *line, const char *opt)
{
        /* fields: src mp type opts ... */
        char src[256], mp[256], type[64], opts[1024];
        if (!line || sscanf(line, "%255s %255s %63s %1023s", src, mp, type, opts) != 4)
                return false;
        for (char *t = strtok(opts, ","); t; t = strtok(NULL, ","))
                if (!strcmp(t, opt))
                        return true;
        return false;
}

Test(mounts, types_and_options)
{
        struct h_res r = run_sh("cat /proc/self/mounts", &(struct h_cfg){
                .mounts_extra =
                        "{\"destination\":\"/sys\",\"type\":\"sysfs\",\"source\":\"sysfs\",\"options\":[\"nosuid\",\"noexec\",\"nodev\",\"ro\"]},"
                        "{\"destination\":\"/dev/mqueue\",\"type\":\"mqueue\",\"source\":\"mqueue\",\"options\":[\"nosuid\",\"noexec\",\"nodev\"]},"
                        "{\"destination\":\"/sys/fs/cgroup\",\"type\":\"cgroup2\",\"source\":\"cgroup\",\"options\":[\"ro\",\"nosuid\"]},"
                        "{\"destination\":\"/tmp/t\",\"type\":\"tmpfs\",\"source\":\"tmpfs\",\"options\":[\"noexec\",\"nosuid\",\"nodev\",\"size=1m\",\"mode=700\"]}",
                .namespaces = "[{\"type\":\"pid\"},{\"type\":\"mount\"},{\"type\":\"ipc\"},{\"type\":\"uts\"},"
                              "{\"type\":\"network\"},{\"type\":\"cgroup\"}]" });
        H_OK(&r);
        struct { const char *mp, *type; const char *opts[4]; } want[] = {
                { "/proc", "proc", { NULL } },
                { "/dev", "tmpfs", { "nosuid", NULL } },
                { "/dev/pts", "devpts", { "nosuid", "noexec", NULL } },
                { "/sys", "sysfs", { "ro", "nosuid", "noexec", "nodev" } },
                { "/dev/mqueue", "mqueue", { "nosuid", "noexec", "nodev", NULL } },
                { "/sys/fs/cgroup", "cgroup2", { "ro", "nosuid", NULL } },
                { "/tmp/t", "tmpfs", { "noexec", "nosuid", "nodev", "mode=700" } },
        };
        for (size_t i = 0; i < sizeof want / sizeof want[0]; i++) {
                char *l = mount_line(r.out, want[i].mp);
                cr_assert_not_null(l, "no mount on %s in:\n%s", want[i].mp, r.out);
                char type[64];
                sscanf(l, "%*s %*s %63s", type);
                cr_assert_str_eq(type, want[i].type, "%s", l);
                for (size_t j = 0; j < 4 && want[i].opts[j]; j++)
                        cr_assert(has_opt(l, want[i].opts[j]), "%s: no %s in %s", want[i].mp, want[i].opts[j], l);
                free(l);
        }
        h_res_free(&r);
}

Test(mounts, noexec_is_enforced)
{
        struct h_res r = run_sh("cp /bin/busybox /tmp/t/bb && /tmp/t/bb true; echo rc=$?", &(struct h_cfg){
                .mounts_extra = "{\"destination\":\"/tmp/t\",\"type\":\"tmpfs\",\"source\":\"tmpfs\",\"options\":[\"noexec\"]}" });
        H_OK(&r);
        H_HAS(r.out, "rc=126");
        h_res_free(&r);
}

Test(mounts, config_order)
{
        /* A tmpfs on /tmp/a then a tmpfs on /tmp/a/b: the second is only
         * reachable when mounted after the first. */
        struct h_res r = run_sh("echo x > /tmp/a/b/f && grep -c ' /tmp/a' /proc/self/mounts", &(struct h_cfg){
                .mounts_extra = "{\"destination\":\"/tmp/a\",\"type\":\"tmpfs\",\"source\":\"tmpfs\"},"
                                "{\"destination\":\"/tmp/a/b\",\"type\":\"tmpfs\",\"source\":\"tmpfs\",\"options\":[\"size=1m\"]}" });
        H_OK(&r);
        cr_assert_str_eq(r.out, "2\n");
        h_res_free(&r);
        /* The reverse order hides /tmp/a/b under /tmp/a. */
        r = run_sh("grep ' /tmp/a' /proc/self/mounts; ls /tmp/a | wc -l", &(struct h_cfg){
                .mounts_extra = "{\"destination\":\"/tmp/a/b\",\"type\":\"tmpfs\",\"source\":\"tmpfs\",\"options\":[\"size=1m\"]},"
                                "{\"destination\":\"/tmp/a\",\"type\":\"tmpfs\",\"source\":\"tmpfs\"}" });
        H_OK(&r);
        H_HAS(r.out, "\n0\n");
        h_res_free(&r);
}

Test(mounts, bind_ro_and_rw)
{
        const char *d = h_path("data");
        cr_assert_eq(mkdir(d, 0755), 0);
        char f[PATH_MAX];
        snprintf(f, sizeof f, "%s/in", d);
        h_write(f, "from-host\n", 0644);
        char extra[2048];
        snprintf(extra, sizeof extra,
                 "{\"destination\":\"/tmp/ro\",\"type\":\"bind\",\"source\":\"%s\",\"options\":[\"rbind\",\"ro\"]},"
                 "{\"destination\":\"/tmp/rw\",\"type\":\"none\",\"source\":\"%s\",\"options\":[\"bind\",\"rw\"]},"
                 "{\"destination\":\"/tmp/one\",\"type\":\"bind\",\"source\":\"%s\",\"options\":[\"bind\",\"ro\"]}",
                 d, d, f);
        struct h_res r = run_sh("cat /tmp/ro/in /tmp/one; echo x > /tmp/ro/out; echo rc=$?; echo y > /tmp/rw/out; echo rc=$?",
                                &(struct h_cfg){ .mounts_extra = extra });
        H_OK(&r);
        H_HAS(r.out, "from-host\nfrom-host\nrc=1\nrc=0\n");
        h_res_free(&r);
        snprintf(f, sizeof f, "%s/out", d);
        char *s = h_read(f);
        cr_assert_str_eq(h_s(s), "y\n");
        free(s);
}

Test(mounts, bind_source_relative_to_bundle)
{
        struct h_cfg c = { .args = "[\"cat\",\"/tmp/x/hello\"]",
                           .mounts_extra = "{\"destination\":\"/tmp/x\",\"type\":\"bind\",\"source\":\"sub\",\"options\":[\"rbind\"]}" };
        const char *b = h_bundle(&c);
        char p[PATH_MAX];
        snprintf(p, sizeof p, "%s/sub", b);
        mkdir(p, 0755);
        snprintf(p, sizeof p, "%s/sub/hello", b);
        h_write(p, "rel\n", 0644);
        struct h_res r;
        HUSK(&r, "run", "-b", b, h_id("rel"));
        H_OK(&r);
        cr_assert_str_eq(r.out, "rel\n");
        h_res_free(&r);
}

Test(mounts, propagation_flags)
{
        const char *d = h_path("prop");
        mkdir(d, 0755);
        char extra[2048];
        snprintf(extra, sizeof extra,
                 "{\"destination\":\"/tmp/shared\",\"type\":\"bind\",\"source\":\"%s\",\"options\":[\"rbind\",\"rshared\"]},"
                 "{\"destination\":\"/tmp/private\",\"type\":\"bind\",\"source\":\"%s\",\"options\":[\"rbind\",\"rprivate\"]}",
                 d, d);
        struct h_res r = run_sh("grep -E ' /tmp/(shared|private) ' /proc/self/mountinfo", &(struct h_cfg){ .mounts_extra = extra });
        H_OK(&r);
        char *sh = strstr(r.out, " /tmp/shared ");
        char *pr = strstr(r.out, " /tmp/private ");
        cr_assert(sh && pr, "%s", r.out);
        char *shl = strndup(sh, strcspn(sh, "\n")), *prl = strndup(pr, strcspn(pr, "\n"));
        H_HAS(shl, "shared:");
        H_HASNT(prl, "shared:");
        H_HASNT(prl, "master:");
        free(shl);
        free(prl);
        h_res_free(&r);
}

Test(mounts, readonly_root)
{
        struct h_res r = run_sh("touch /newfile; echo rc=$?; touch /tmp/ok && echo tmp-ok", NULL);
        H_OK(&r);
        H_HAS(r.out, "rc=1\ntmp-ok\n");
        H_HAS(r.err, "Read-only file system");
        h_res_free(&r);
        cr_assert(access("/newfile", F_OK) < 0);
}

Test(mounts, pivot_root_hides_the_host)
{
        struct h_res r = run_sh("cat /proc/self/mountinfo | wc -l; ls /", NULL);
        H_OK(&r);
        /* Only the container's own mounts remain visible. */
        long n = strtol(r.out, NULL, 10);
        cr_assert_lt(n, 30, "%s", r.out);
        H_HASNT(r.out, "bundle-");
        h_res_free(&r);
}

Test(mounts, no_pivot_uses_chroot)
{
        const char *b = h_bundle(&(struct h_cfg){ .args = "[\"sh\",\"-c\",\"ls /bin/busybox && cat /proc/self/mountinfo | head -1\"]" });
        struct h_res r;
        HUSK(&r, "run", "--no-pivot", "-b", b, h_id("nopivot"));
        H_OK(&r);
        H_HAS(r.out, "/bin/busybox\n");
        h_res_free(&r);
}

Test(mounts, rootfs_propagation)
{
        struct h_res r = run_sh("awk '$5 == \\\"/\\\"' /proc/self/mountinfo", &(struct h_cfg){ .linux_extra = ",\"rootfsPropagation\":\"shared\"" });
        H_OK(&r);
        H_HAS(r.out, "shared:");
        h_res_free(&r);
        r = run_sh("awk '$5 == \\\"/\\\"' /proc/self/mountinfo", &(struct h_cfg){ .linux_extra = ",\"rootfsPropagation\":\"private\"" });
        H_OK(&r);
        H_HASNT(r.out, "shared:");
        h_res_free(&r);
}

Test(mounts, default_devices_and_symlinks)
{
        struct h_res r = run_sh("for d in null zero full random urandom tty; do stat -c '%n %F %t:%T %a' /dev/$d; done; "
                                "for l in fd stdin stdout stderr ptmx; do echo $l=$(readlink /dev/$l); done; "
                                "echo hi > /dev/null && head -c 3 /dev/zero | wc -c",
                                NULL);
        H_OK(&r);
        const char *want[] = { "/dev/null character special file 1:3 666", "/dev/zero character special file 1:5 666",
                               "/dev/full character special file 1:7 666", "/dev/random character special file 1:8 666",
                               "/dev/urandom character special file 1:9 666", "/dev/tty character special file 5:0 666",
                               "fd=/proc/self/fd\n", "stdin=/proc/self/fd/0\n", "stdout=/proc/self/fd/1\n",
                               "stderr=/proc/self/fd/2\n", "ptmx=pts/ptmx\n", "\n3\n" };
        for (size_t i = 0; i < sizeof want / sizeof want[0]; i++)
                H_HAS(r.out, want[i]);
        h_res_free(&r);
}

Test(mounts, linux_devices_mknod)
{
        struct h_res r = run_sh("stat -c '%n %F %t:%T %a %u:%g' /dev/mynull /dev/sub/myzero; echo hi > /dev/sub/myzero && echo wrote; echo hi > /dev/mynull || echo denied",
                                &(struct h_cfg){ .linux_extra =
                                        ",\"devices\":[{\"path\":\"/dev/mynull\",\"type\":\"c\",\"major\":1,\"minor\":3,"
                                        "\"fileMode\":384,\"uid\":5,\"gid\":6},"
                                        "{\"path\":\"/dev/sub/myzero\",\"type\":\"c\",\"major\":1,\"minor\":5}]" });
        H_OK(&r);
        H_HAS(r.out, "/dev/mynull character special file 1:3 600 5:6\n");
        H_HAS(r.out, "/dev/sub/myzero character special file 1:5 666 0:0\n");
        /* 0600 owned by 5:6 and no CAP_DAC_OVERRIDE: root may not write. */
        H_HAS(r.out, "wrote\ndenied\n");
        h_res_free(&r);
}

Test(mounts, linux_devices_bind_in_userns)
{
        struct h_res r = run_sh("stat -c '%n %t:%T' /dev/kmsg; grep -c /dev/kmsg /proc/self/mountinfo",
                                &(struct h_cfg){
                                        .namespaces = "[{\"type\":\"pid\"},{\"type\":\"mount\"},{\"type\":\"user\"},{\"type\":\"uts\"}]",
                                        .linux_extra =
                                                ",\"uidMappings\":[{\"containerID\":0,\"hostID\":100000,\"size\":65536}],"
                                                "\"gidMappings\":[{\"containerID\":0,\"hostID\":100000,\"size\":65536}],"
                                                "\"devices\":[{\"path\":\"/dev/kmsg\",\"type\":\"c\",\"major\":1,\"minor\":11}]" });
        H_OK(&r);
        /* mknod is denied in a user namespace: the host's node is bound. */
        H_HAS(r.out, "/dev/kmsg 1:b\n1\n");
        h_res_free(&r);
}

Test(mounts, masked_and_readonly_paths)
{
        struct h_res r = run_sh("wc -c < /proc/timer_list; ls /sys/firmware | wc -l; "
                                "echo x > /proc/sys/kernel/hostname; echo rc=$?; "
                                "echo y > /tmp/f && echo tmp-rw",
                                &(struct h_cfg){
                                        .mounts_extra = "{\"destination\":\"/sys\",\"type\":\"sysfs\",\"source\":\"sysfs\",\"options\":[\"ro\"]}",
                                        .linux_extra = ",\"maskedPaths\":[\"/proc/timer_list\",\"/sys/firmware\",\"/proc/nonexistent\"],"
                                                       "\"readonlyPaths\":[\"/proc/sys\",\"/proc/nonexistent2\"]" });
        H_OK(&r);
        H_HAS(r.out, "0\n0\nrc=1\ntmp-rw\n");
        h_res_free(&r);
}

Test(mounts, sysctl)
{
        struct h_res r = run_sh("cat /proc/sys/net/ipv4/ip_forward /proc/sys/kernel/msgmax",
                                &(struct h_cfg){ .linux_extra = ",\"sysctl\":{\"net.ipv4.ip_forward\":\"1\",\"kernel.msgmax\":\"4242\"}" });
        H_OK(&r);
        cr_assert_str_eq(r.out, "1\n4242\n");
        h_res_free(&r);
        char *host = h_read("/proc/sys/kernel/msgmax");
        cr_assert_str_neq(h_s(host), "4242\n");
        free(host);
}

/* A rootfs of our own whose symlinks point out of it: mounts and devices
 * must land inside it, never on the host. */
Test(mounts, symlinks_do_not_escape_the_rootfs)
{
        const char *rootfs = h_path("evilroot");
        char p[PATH_MAX], esc[PATH_MAX], esc2[PATH_MAX], esc3[PATH_MAX];
        cr_assert_eq(mkdir(rootfs, 0755), 0);
        snprintf(esc, sizeof esc, "/tmp/husk-escape-%d", (int)getpid());
        snprintf(esc2, sizeof esc2, "/tmp/husk-escape2-%d", (int)getpid());
        snprintf(esc3, sizeof esc3, "/tmp/husk-escape3-%d", (int)getpid());
        const char *dirs[] = { "bin", "proc", "dev", "tmp" };
        for (size_t i = 0; i < 4; i++) {
                snprintf(p, sizeof p, "%s/%s", rootfs, dirs[i]);
                mkdir(p, 0755);
        }
        /* The targets exist inside the rootfs (and not on the host). */
        const char *escs[] = { esc, esc2, esc3 };
        for (size_t i = 0; i < 3; i++) {
                snprintf(p, sizeof p, "%s%s", rootfs, escs[i]);
                cr_assert_eq(mkdir(p, 0755), 0);
        }
        snprintf(p, sizeof p, "%s/up", rootfs);
        char t[PATH_MAX];
        snprintf(t, sizeof t, "../../../../../../..%s", esc);
        cr_assert_eq(symlink(t, p), 0);
        snprintf(p, sizeof p, "%s/abs", rootfs);
        cr_assert_eq(symlink(esc2, p), 0);
        snprintf(p, sizeof p, "%s/devlink", rootfs);
        cr_assert_eq(symlink(esc3, p), 0);
        char extra[4096], cfgroot[PATH_MAX];
        snprintf(cfgroot, sizeof cfgroot, "%s", rootfs);
        snprintf(extra, sizeof extra,
                 "[{\"destination\":\"/bin\",\"type\":\"bind\",\"source\":\"%s/bin\",\"options\":[\"rbind\",\"ro\"]},"
                 "{\"destination\":\"/proc\",\"type\":\"proc\",\"source\":\"proc\"},"
                 "{\"destination\":\"/up/sub\",\"type\":\"tmpfs\",\"source\":\"tmpfs\"},"
                 "{\"destination\":\"/abs/sub\",\"type\":\"tmpfs\",\"source\":\"tmpfs\"}]",
                 h_rootfs());
        char devs[1024];
        snprintf(devs, sizeof devs,
                 ",\"devices\":[{\"path\":\"/devlink/x\",\"type\":\"c\",\"major\":1,\"minor\":3}]");
        const char *b = h_bundle(&(struct h_cfg){
                .args = "[\"sh\",\"-c\",\"ls -d /up/sub /abs/sub && ls /devlink\"]",
                .root_path = cfgroot, .mounts = extra, .linux_extra = devs });
        struct h_res r;
        HUSK(&r, "run", "-b", b, h_id("escape"));
        H_OK(&r);
        H_HAS(r.out, "x\n");
        h_res_free(&r);
        cr_assert(access(esc, F_OK) < 0, "%s was created on the host", esc);
        cr_assert(access(esc2, F_OK) < 0, "%s was created on the host", esc2);
        cr_assert(access(esc3, F_OK) < 0, "%s was created on the host", esc3);
        /* They were made inside the rootfs instead. */
        snprintf(p, sizeof p, "%s%s/sub", rootfs, esc);
        cr_assert(access(p, F_OK) == 0, "%s missing", p);
        snprintf(p, sizeof p, "%s%s/sub", rootfs, esc2);
        cr_assert(access(p, F_OK) == 0, "%s missing", p);
        snprintf(p, sizeof p, "%s%s/x", rootfs, esc3);
        cr_assert(access(p, F_OK) == 0, "%s missing", p);
}

/* A dangling symlink to an absolute host path: whatever husk does, it
 * does it inside the rootfs. */
Test(mounts, dangling_symlink_does_not_escape)
{
        const char *rootfs = h_path("danglingroot");
        char p[PATH_MAX], esc[PATH_MAX];
        cr_assert_eq(mkdir(rootfs, 0755), 0);
        snprintf(esc, sizeof esc, "/tmp/husk-dangling-%d", (int)getpid());
        snprintf(p, sizeof p, "%s/bin", rootfs);
        mkdir(p, 0755);
        snprintf(p, sizeof p, "%s/tmp", rootfs);
        mkdir(p, 0755);
        snprintf(p, sizeof p, "%s/abs", rootfs);
        cr_assert_eq(symlink(esc, p), 0);
        char mounts[2048];
        snprintf(mounts, sizeof mounts,
                 "[{\"destination\":\"/bin\",\"type\":\"bind\",\"source\":\"%s/bin\",\"options\":[\"rbind\",\"ro\"]},"
                 "{\"destination\":\"/abs/sub\",\"type\":\"tmpfs\",\"source\":\"tmpfs\"}]",
                 h_rootfs());
        const char *id = h_id("dangling");
        const char *b = h_bundle(&(struct h_cfg){ .root_path = rootfs, .mounts = mounts,
                                                   .namespaces = "[{\"type\":\"mount\"}]" });
        struct h_res r;
        HUSK(&r, "run", "-b", b, id);
        h_res_free(&r);
        cr_assert(access(esc, F_OK) < 0, "%s was created on the host", esc);
        h_assert_clean(id, NULL);
}

Test(mounts, proc_on_a_symlink_is_refused)
{
        const char *rootfs = h_path("procroot");
        char p[PATH_MAX];
        cr_assert_eq(mkdir(rootfs, 0755), 0);
        snprintf(p, sizeof p, "%s/bin", rootfs);
        mkdir(p, 0755);
        snprintf(p, sizeof p, "%s/etc", rootfs);
        mkdir(p, 0755);
        snprintf(p, sizeof p, "%s/proc", rootfs);
        cr_assert_eq(symlink("/etc", p), 0);
        char mounts[2048];
        snprintf(mounts, sizeof mounts,
                 "[{\"destination\":\"/bin\",\"type\":\"bind\",\"source\":\"%s/bin\",\"options\":[\"rbind\",\"ro\"]},"
                 "{\"destination\":\"/proc\",\"type\":\"proc\",\"source\":\"proc\"}]",
                 h_rootfs());
        const char *id = h_id("procsym");
        const char *b = h_bundle(&(struct h_cfg){ .root_path = rootfs, .mounts = mounts });
        struct h_res r;
        HUSK(&r, "run", "-b", b, id);
        h_assert_fail(&r, "symlink");
        h_res_free(&r);
        h_assert_clean(id, NULL);
}

Test(mounts, bind_vs_rbind_submounts)
{
        /* A source with a submount (in this test's private mount namespace,
         * which husk inherits): rbind carries it, bind does not. */
        char src[PATH_MAX], sub[PATH_MAX], f[PATH_MAX];
        snprintf(src, sizeof src, "%s", h_path("src"));
        snprintf(sub, sizeof sub, "%s/sub", src);
        cr_assert_eq(mkdir(src, 0755), 0);
        cr_assert_eq(mkdir(sub, 0755), 0);
        cr_assert_eq(mount("tmpfs", sub, "tmpfs", 0, "size=1m"), 0);
        snprintf(f, sizeof f, "%s/marker", sub);
        h_write(f, "in-submount\n", 0644);
        char extra[2048];
        snprintf(extra, sizeof extra,
                 "{\"destination\":\"/tmp/b\",\"type\":\"bind\",\"source\":\"%s\",\"options\":[\"bind\"]},"
                 "{\"destination\":\"/tmp/rb\",\"type\":\"bind\",\"source\":\"%s\",\"options\":[\"rbind\"]}",
                 src, src);
        struct h_res r = run_sh("cat /tmp/rb/sub/marker; ls /tmp/b/sub | wc -l", &(struct h_cfg){ .mounts_extra = extra });
        umount2(sub, MNT_DETACH);
        H_OK(&r);
        cr_assert_str_eq(r.out, "in-submount\n0\n");
        h_res_free(&r);
}
