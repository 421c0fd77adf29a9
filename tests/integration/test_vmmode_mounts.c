/* VM mode: bind mounts of host paths (runtime/vm_binds.c, vm/binds.c) and
 * the hooks that run in the guest (createContainer, startContainer).
 * Seven tests boot a VM (a few seconds each under TCG); skipped when no
 * kernel was fetched (make vm-kernel HUSK_DATA_DIR=build/data). */
#include <criterion/criterion.h>
#include <dirent.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/utsname.h>
#include <unistd.h>

#include "helpers.h"

#define VM_TIMEOUT_MS 180000

static void vm_setup(void)
{
        h_setup();
        h_require_vm();
}

TestSuite(vmmounts, .init = vm_setup, .fini = h_teardown);

static const struct h_opts vm_opts = { .timeout_ms = VM_TIMEOUT_MS };

static void mkdir_in(const char *path)
{
        cr_assert_eq(mkdir(path, 0755), 0, "mkdir %s", path);
}

/* Processes whose command line mentions needle (the VM's run directory). */
static int procs_with(const char *needle)
{
        DIR *d = opendir("/proc");
        struct dirent *e;
        int n = 0;
        while (d && (e = readdir(d))) {
                char path[300], buf[4096];
                if (e->d_name[0] < '1' || e->d_name[0] > '9')
                        continue;
                snprintf(path, sizeof(path), "/proc/%s/cmdline", e->d_name);
                FILE *f = fopen(path, "re");
                size_t len = f ? fread(buf, 1, sizeof(buf) - 1, f) : 0;
                if (f)
                        fclose(f);
                for (size_t i = 0; i < len; i++)
                        if (!buf[i])
                                buf[i] = ' ';
                buf[len] = '\0';
                n += strstr(buf, needle) != NULL;
        }
        if (d)
                closedir(d);
        return n;
}

/* How many processes have a command line starting with prefix and
 * mentioning needle; *caps gets the OR of their effective capabilities. */
static int procs_caps(const char *prefix, const char *needle, unsigned long long *caps)
{
        DIR *d = opendir("/proc");
        struct dirent *e;
        int n = 0;
        *caps = 0;
        while (d && (e = readdir(d))) {
                char path[300], buf[4096];
                if (e->d_name[0] < '1' || e->d_name[0] > '9')
                        continue;
                snprintf(path, sizeof(path), "/proc/%s/cmdline", e->d_name);
                FILE *f = fopen(path, "re");
                size_t len = f ? fread(buf, 1, sizeof(buf) - 1, f) : 0;
                if (f)
                        fclose(f);
                for (size_t i = 0; i < len; i++)
                        if (!buf[i])
                                buf[i] = ' ';
                buf[len] = '\0';
                if (strncmp(buf, prefix, strlen(prefix)) || !strstr(buf, needle))
                        continue;
                snprintf(path, sizeof(path), "/proc/%s/status", e->d_name);
                char *status = h_read(path), *cap = status ? strstr(status, "CapEff:") : NULL;
                if (cap)
                        *caps |= strtoull(cap + 7, NULL, 16);
                free(status);
                n++;
        }
        if (d)
                closedir(d);
        return n;
}

/* share: NULL (virtiofs here) or "9p" (QEMU serves the staged binds) */
static void rw_ro_file(const char *share)
{
        char rw[PATH_MAX], ro[PATH_MAX], files[PATH_MAX], mounts[4 * PATH_MAX];
        snprintf(rw, sizeof(rw), "%s", h_path("rw"));
        snprintf(ro, sizeof(ro), "%s", h_path("ro"));
        snprintf(files, sizeof(files), "%s", h_path("files"));
        mkdir_in(rw);
        mkdir_in(ro);
        mkdir_in(files);
        h_write(h_path("ro/hello"), "from the host\n", 0644);
        h_write(h_path("files/one"), "one\n", 0644);
        h_write(h_path("files/two"), "sibling\n", 0644);
        snprintf(mounts, sizeof(mounts),
                 "{\"destination\":\"/data\",\"type\":\"bind\",\"source\":\"%s\",\"options\":[\"rbind\",\"rw\"]},"
                 "{\"destination\":\"/conf\",\"type\":\"bind\",\"source\":\"%s\",\"options\":[\"bind\",\"ro\"]},"
                 "{\"destination\":\"/etc/one\",\"type\":\"bind\",\"source\":\"%s/one\",\"options\":[\"bind\"]}",
                 rw, ro, files);
        const char *b = h_bundle(&(struct h_cfg){
                .args = "[\"sh\",\"-c\",\"echo written-in-guest > /data/out; "
                        "touch /conf/new 2>/dev/null && echo ro-writable || echo ro-refused; cat /conf/hello; "
                        "cat /etc/one; echo appended >> /etc/one; ls /etc | grep -c '^two$'; "
                        "ls /run/husk-binds 2>/dev/null | wc -l; grep ' /data ' /proc/mounts | cut -d' ' -f3; uname -r\"]",
                .mounts_extra = mounts,
        });
        struct h_res r;
        char env[64];
        snprintf(env, sizeof(env), "HUSK_VM_SHARE=%s", share ? share : "");
        const char *envs[] = { env, NULL };
        struct h_opts o = { .timeout_ms = VM_TIMEOUT_MS, .env = envs };
        HUSK_O(&r, &o, "run", "--vm", "--bundle", b, h_id("binds"));
        H_OK(&r);
        struct utsname u;
        uname(&u);
        char want[512];
        snprintf(want, sizeof(want), "ro-refused\nfrom the host\none\n0\n0\n%s\n", share ? share : "virtiofs");
        H_HAS(r.out, want);
        H_HASNT(r.out, u.release); /* it ran in the guest */
        char *out = h_read(h_path("rw/out"));
        cr_assert_str_eq(h_s(out), "written-in-guest\n", "a write to the rw bind reaches the host");
        cr_assert(access(h_path("ro/new"), F_OK) < 0, "the ro bind was written");
        char *one = h_read(h_path("files/one")), *two = h_read(h_path("files/two"));
        cr_assert_str_eq(h_s(one), "one\nappended\n", "a write to the file bind reaches the host");
        cr_assert_str_eq(h_s(two), "sibling\n");
        free(out);
        free(one);
        free(two);
        h_res_free(&r);
        h_assert_clean(h_id("binds"), NULL);
}

Test(vmmounts, rw_ro_and_file_binds, .timeout = 300)
{
        rw_ro_file(NULL);
}

Test(vmmounts, rw_ro_and_file_binds_9p, .timeout = 300)
{
        rw_ro_file("9p");
}

/* The binds' virtiofsd runs without CAP_MKNOD and is gone after a crash
 * of the monitor and delete --force. */
Test(vmmounts, bind_daemon_gone_after_crash, .timeout = 300)
{
        char dir[PATH_MAX], mounts[2 * PATH_MAX];
        snprintf(dir, sizeof(dir), "%s", h_path("shared"));
        mkdir_in(dir);
        snprintf(mounts, sizeof(mounts),
                 "{\"destination\":\"/shared\",\"type\":\"bind\",\"source\":\"%s\",\"options\":[\"rbind\"]}", dir);
        const char *b = h_bundle(&(struct h_cfg){ .args = "[\"sleep\",\"300\"]", .mounts_extra = mounts });
        const char *id = h_id("crash");
        struct h_res r;
        HUSK_O(&r, &vm_opts, "create", "--vm", "--bundle", b, id);
        H_OK(&r);
        h_res_free(&r);
        char path[PATH_MAX + 64];
        snprintf(path, sizeof(path), "%s/%s/vm-rundir", h_root, id);
        char *rundir = h_read(path);
        cr_assert_not_null(rundir);
        char sock[PATH_MAX + 32];
        snprintf(sock, sizeof(sock), "%s/binds.sock", rundir);
        unsigned long long eff;
        cr_assert_gt(procs_caps("/usr/lib/qemu/virtiofsd", sock, &eff), 0, "no virtiofsd serving %s", sock);
        cr_assert_eq(eff & (1ull << 27), 0, "virtiofsd for binds has CAP_MKNOD: %llx", eff);
        cr_assert_eq(eff & (1ull << 21), 0, "virtiofsd for binds has CAP_SYS_ADMIN: %llx", eff);
        yajl_val st = h_state(id);
        cr_assert_not_null(st);
        pid_t monitor = (pid_t)h_jint(st, "pid");
        yajl_tree_free(st);
        cr_assert_eq(kill(monitor, SIGKILL), 0);
        HUSK(&r, "delete", "--force", id);
        H_OK(&r);
        h_res_free(&r);
        int left = 0;
        for (int i = 0; i < 200 && (left = procs_with(rundir)) > 0; i++)
                usleep(50000);
        cr_assert_eq(left, 0, "%d process(es) of %s left after delete --force", left, rundir);
        cr_assert(access(rundir, F_OK) < 0, "VM run directory %s left behind", rundir);
        free(rundir);
        h_assert_clean(id, NULL);
}

Test(vmmounts, missing_bind_source)
{
        const char *b = h_bundle(&(struct h_cfg){
                .mounts_extra = "{\"destination\":\"/data\",\"type\":\"bind\",\"source\":\"/nonexistent/husk-src\","
                                "\"options\":[\"rbind\"]}",
        });
        const char *id = h_id("missing");
        struct h_res r;
        HUSK_O(&r, &vm_opts, "create", "--vm", "--bundle", b, id);
        h_assert_fail(&r, "(/data): bind source /nonexistent/husk-src: No such file or directory");
        H_HAS(r.err, "mounts[");
        h_res_free(&r);
        cr_assert_eq(procs_with(id), 0, "a process of %s was left", id);
        h_assert_clean(id, NULL);
}

static char *copy_rootfs(void)
{
        char *dst = strdup(h_path("rootfs-copy")), cmd[2 * PATH_MAX + 32];
        snprintf(cmd, sizeof(cmd), "cp -a '%s' '%s'", h_rootfs(), dst);
        cr_assert_eq(system(cmd), 0);
        return dst;
}

/* createContainer and startContainer run in the guest (its kernel), in the
 * container's root; poststart on the host. */
Test(vmmounts, hooks_in_the_guest, .timeout = 300)
{
        char *root = copy_rootfs(), top[4 * PATH_MAX], poststart[PATH_MAX];
        snprintf(poststart, sizeof(poststart), "%s", h_path("poststart-kernel"));
        snprintf(top, sizeof(top),
                 ",\"hooks\":{"
                 "\"createContainer\":[{\"path\":\"/bin/sh\",\"args\":[\"sh\",\"-c\","
                 "\"uname -r > /cc-kernel; cat > /cc-state; echo $HOOKVAR > /cc-env\"],\"env\":[\"HOOKVAR=set\"]}],"
                 "\"startContainer\":[{\"path\":\"/bin/sh\",\"args\":[\"sh\",\"-c\","
                 "\"uname -r > /sc-kernel; cat > /sc-state\"],\"timeout\":60}],"
                 "\"poststart\":[{\"path\":\"/bin/sh\",\"args\":[\"sh\",\"-c\",\"uname -r > %s\"]}]}",
                 poststart);
        const char *b = h_bundle(&(struct h_cfg){
                .args = "[\"sh\",\"-c\",\"cat /sc-kernel\"]", .root_path = root, .writable_root = true,
                .top_extra = top,
        });
        const char *id = h_id("hooks");
        struct h_res r;
        HUSK_O(&r, &vm_opts, "run", "--vm", "--bundle", b, id);
        H_OK(&r);
        struct utsname u;
        uname(&u);
        char p[PATH_MAX + 32];
        snprintf(p, sizeof(p), "%s/cc-kernel", root);
        char *cc = h_read(p);
        snprintf(p, sizeof(p), "%s/sc-kernel", root);
        char *sc = h_read(p);
        char *ps = h_read(poststart);
        cr_assert_not_null(cc, "the createContainer hook did not run");
        cr_assert_not_null(sc, "the startContainer hook did not run");
        cr_assert_str_eq(h_s(r.out), sc, "the program saw what startContainer wrote");
        cr_assert(strncmp(cc, u.release, strlen(u.release)), "createContainer ran on the host kernel: %s", cc);
        cr_assert_str_eq(cc, sc, "both hooks ran in the same guest kernel");
        cr_assert_not_null(ps);
        cr_assert(!strncmp(ps, u.release, strlen(u.release)), "poststart ran on the host: %s", ps);
        snprintf(p, sizeof(p), "%s/cc-env", root);
        char *env = h_read(p);
        cr_assert_str_eq(h_s(env), "set\n");
        snprintf(p, sizeof(p), "%s/cc-state", root);
        char *state = h_read(p);
        H_HAS(state, "\"status\":\"creating\"");
        H_HAS(state, b); /* the host's bundle */
        snprintf(p, sizeof(p), "%s/sc-state", root);
        char *sstate = h_read(p);
        H_HAS(sstate, "\"status\":\"created\"");
        free(cc);
        free(sc);
        free(ps);
        free(env);
        free(state);
        free(sstate);
        free(root);
        h_res_free(&r);
        h_assert_clean(id, NULL);
}

/* runtime.md: a failing startContainer (or, in VM mode where the guest's
 * container is made at start, createContainer) hook fails start, and the
 * container is stopped (the program never ran). */
static void failing_hook(const char *kind)
{
        char *root = copy_rootfs(), top[512], want[128];
        snprintf(top, sizeof(top),
                 ",\"hooks\":{\"%s\":[{\"path\":\"/bin/sh\",\"args\":[\"sh\",\"-c\",\"exit 3\"]}]}", kind);
        const char *b = h_bundle(&(struct h_cfg){
                .args = "[\"sh\",\"-c\",\"echo ran > /program-ran\"]", .root_path = root, .writable_root = true,
                .top_extra = top,
        });
        const char *id = h_id("failhook");
        struct h_res r;
        HUSK_O(&r, &vm_opts, "create", "--vm", "--bundle", b, id);
        H_OK(&r);
        h_res_free(&r);
        HUSK_O(&r, &vm_opts, "start", id);
        snprintf(want, sizeof(want), "hook %s[0] /bin/sh: exited with status 3", kind);
        h_assert_fail(&r, want);
        h_res_free(&r);
        cr_assert(h_wait_status(id, "stopped", 60000), "the container is not stopped after a failed start");
        char p[PATH_MAX + 32];
        snprintf(p, sizeof(p), "%s/program-ran", root);
        cr_assert(access(p, F_OK) < 0, "the program ran despite the failed hook");
        HUSK(&r, "delete", id);
        H_OK(&r);
        h_res_free(&r);
        free(root);
        h_assert_clean(id, NULL);
}

Test(vmmounts, failing_start_hook, .timeout = 300)
{
        failing_hook("startContainer");
}

Test(vmmounts, failing_create_container_hook, .timeout = 300)
{
        failing_hook("createContainer");
}
