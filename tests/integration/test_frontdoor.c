/* The front door (issue 11): `husk run --image` with engine flags. Each
 * flag is checked in the --dry-run config.json and, where this host can,
 * in a real run; bad input exits 125 with one line and leaves nothing.
 * Every test has a private --root and --storage (busybox imported from
 * build/busybox-oci). Needs root, HUSK=<abs husk>. */
#include <criterion/criterion.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pty.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <sched.h>
#include <termios.h>
#include <time.h>
#include <unistd.h>

#include "../../common/cleanup.h"
#include "../../common/fileutil.h"
#include "../../net/net.h"
#include "../unit/test_json_helpers.h"

static char tmp[256], husk[4096], layout[4096];

static char *fmt(const char *f, ...)
{
        va_list ap;
        char *s;
        va_start(ap, f);
        cr_assert_geq(vasprintf(&s, f, ap), 0);
        va_end(ap);
        return s;
}

static void setup(void)
{
        const char *h = getenv("HUSK");
        if (!h || access(h, X_OK) < 0)
                cr_skip_test("HUSK not set (make integration sets it)");
        if (geteuid() != 0)
                cr_skip_test("needs root");
        snprintf(husk, sizeof husk, "%s", h);
        /* Images get a bridged network by default: keep the bridge, its
         * addresses and NAT rules in a network namespace of this test. */
        cr_assert_eq(unshare(CLONE_NEWNET), 0, "unshare(CLONE_NEWNET): %s", strerror(errno));
        herr_t e = { 0 };
        cr_assert_eq(net_lo_up(&e), 0, "%s", e.msg);
        /* build/busybox-oci of the repository: $HUSK_BUSYBOX_OCI, or next
         * to ./husk, or under the working directory (make integration). */
        char dir[4096];
        snprintf(dir, sizeof dir, "%s", h);
        char *slash = strrchr(dir, '/');
        if (slash)
                *slash = '\0';
        char *cands[] = { getenv("HUSK_BUSYBOX_OCI") ? strdup(getenv("HUSK_BUSYBOX_OCI")) : NULL,
                          fmt("%s/build/busybox-oci", dir), fmt("%s/../../build/busybox-oci", dir),
                          strdup("build/busybox-oci") };
        layout[0] = '\0';
        for (size_t i = 0; i < sizeof cands / sizeof cands[0]; i++) {
                char *idx = cands[i] ? fmt("%s/index.json", cands[i]) : NULL;
                if (!layout[0] && idx && access(idx, R_OK) == 0 && realpath(cands[i], layout) == NULL)
                        layout[0] = '\0';
                free(idx);
                free(cands[i]);
        }
        if (!layout[0])
                cr_skip_test("no busybox OCI layout (make build/busybox-oci/index.json, or set HUSK_BUSYBOX_OCI)");
        snprintf(tmp, sizeof tmp, "/tmp/husk-fd.XXXXXX");
        cr_assert_not_null(mkdtemp(tmp));
        char *cmd = fmt("%s --storage %s/storage image import --name busybox %s >/dev/null", husk, tmp, layout);
        cr_assert_eq(system(cmd), 0, "%s", cmd);
        free(cmd);
}

static void teardown(void)
{
        if (!tmp[0])
                return;
        char *cmd = fmt("for c in $(%s --root %s/root list -q 2>/dev/null); do %s --root %s/root --storage %s/storage "
                        "delete -f $c; done; umount -R %s/storage/containers/*/rootfs 2>/dev/null; rm -rf %s",
                        husk, tmp, husk, tmp, tmp, tmp, tmp);
        if (system(cmd) != 0)
                fprintf(stderr, "teardown: %s failed\n", cmd);
        free(cmd);
}

TestSuite(frontdoor, .init = setup, .fini = teardown, .timeout = 120);

/* Run `husk --root --storage ARGS` through sh; stdout and stderr into
 * malloc'd strings (may be NULL). Returns the exit status. */
static int husk_run(char **out, char **err, const char *args_fmt, ...)
{
        va_list ap;
        char *args;
        va_start(ap, args_fmt);
        cr_assert_geq(vasprintf(&args, args_fmt, ap), 0);
        va_end(ap);
        char *cmd = fmt("%s --root %s/root --storage %s/storage %s >%s/out 2>%s/err </dev/null", husk, tmp, tmp,
                        args, tmp, tmp);
        int st = system(cmd);
        free(cmd);
        free(args);
        herr_t e = { 0 };
        char *p;
        if (out) {
                p = fmt("%s/out", tmp);
                cr_assert_eq(read_file(p, 8 << 20, out, NULL, &e), 0, "%s", e.msg);
                free(p);
        }
        if (err) {
                p = fmt("%s/err", tmp);
                cr_assert_eq(read_file(p, 1 << 20, err, NULL, &e), 0, "%s", e.msg);
                free(p);
        }
        cr_assert(WIFEXITED(st), "husk did not exit normally");
        return WEXITSTATUS(st);
}

static yajl_val dry_run(const char *flags)
{
        char *out = NULL, *err = NULL;
        int rc = husk_run(&out, &err, "run --image busybox --dry-run %s", flags);
        cr_assert_eq(rc, 0, "--dry-run %s: exit %d: %s", flags, rc, err);
        yajl_val v = tj_parse(out);
        free(out);
        free(err);
        return v;
}

static yajl_val find_mount(yajl_val doc, const char *dest)
{
        yajl_val m = tj_arr(doc, "mounts");
        for (size_t i = 0; i < YAJL_GET_ARRAY(m)->len; i++)
                if (!strcmp(tj_str(YAJL_GET_ARRAY(m)->values[i], "destination"), dest))
                        return YAJL_GET_ARRAY(m)->values[i];
        return NULL;
}

static bool has_ns(yajl_val doc, const char *type)
{
        yajl_val a = tj_arr(doc, "linux.namespaces");
        for (size_t i = 0; i < YAJL_GET_ARRAY(a)->len; i++)
                if (!strcmp(tj_str(YAJL_GET_ARRAY(a)->values[i], "type"), type))
                        return true;
        return false;
}

static long long int_at(yajl_val v, const char *path)
{
        yajl_val i = tj_get(v, path);
        cr_assert(i && YAJL_IS_INTEGER(i), "%s: expected an integer", path);
        return YAJL_GET_INTEGER(i);
}

static int count_entries(const char *dir)
{
        _cleanup_closedir_ DIR *d = opendir(dir);
        int n = 0;
        struct dirent *de;
        while (d && (de = readdir(d)))
                n += de->d_name[0] != '.';
        return n;
}

/* Nothing of any container: no state, no bundle/rootfs, no mount. */
static void assert_nothing_left(const char *what)
{
        char *root = fmt("%s/root", tmp), *ctrs = fmt("%s/storage/containers", tmp);
        cr_assert_eq(count_entries(root), 0, "%s: a state dir is left in %s", what, root);
        cr_assert_eq(count_entries(ctrs), 0, "%s: a container dir is left in %s", what, ctrs);
        char *cmd = fmt("grep -q ' %s/' /proc/self/mountinfo", tmp);
        cr_assert_neq(system(cmd), 0, "%s: a mount under %s is left", what, tmp);
        free(cmd);
        free(root);
        free(ctrs);
}

Test(frontdoor, dry_run_maps_every_flag)
{
        char *seccomp = fmt("%s/sc.json", tmp);
        herr_t e = { 0 };
        const char *prof = "{\"defaultAction\":\"SCMP_ACT_ALLOW\",\"syscalls\":[{\"names\":[\"mkdir\"],"
                           "\"action\":\"SCMP_ACT_ERRNO\"}]}";
        cr_assert_eq(write_file_atomic(seccomp, prof, strlen(prof), 0644, &e), 0, "%s", e.msg);
        char *envf = fmt("%s/env", tmp);
        const char *envs = "# comment\nFROMFILE=yes\n\nB=2\n";
        cr_assert_eq(write_file_atomic(envf, envs, strlen(envs), 0644, &e), 0, "%s", e.msg);
        char *flags = fmt("-e A=1 --env-file %s -w /tmp -u 1000:1001 -v %s:/data:ro -v %s:/rw --tmpfs /scratch:size=1m "
                          "--read-only --memory 256m --cpus 1.5 --pids-limit 64 --net none --hostname web1 "
                          "--cap-add NET_ADMIN --cap-drop chown --security-opt seccomp=%s -t -i --vm --timeout 30s "
                          "--rm -- sh -c 'echo hi'",
                          envf, tmp, tmp, seccomp);
        yajl_val v = dry_run(flags);
        yajl_val env = tj_arr(v, "process.env");
        cr_assert(tj_has(env, "A=1") && tj_has(env, "FROMFILE=yes") && tj_has(env, "B=2"));
        cr_assert(tj_has(env, "TERM=xterm"), "-t sets TERM");
        cr_assert_str_eq(tj_str(v, "process.cwd"), "/tmp");
        cr_assert_eq(int_at(v, "process.user.uid"), 1000);
        cr_assert_eq(int_at(v, "process.user.gid"), 1001);
        cr_assert(tj_bool(v, "process.terminal"));
        yajl_val args = tj_arr(v, "process.args");
        cr_assert_eq(YAJL_GET_ARRAY(args)->len, 3u);
        cr_assert(tj_has(args, "echo hi"));
        yajl_val m = find_mount(v, "/data");
        cr_assert_not_null(m, "-v: no /data mount");
        cr_assert_str_eq(tj_str(m, "type"), "bind");
        cr_assert_str_eq(tj_str(m, "source"), tmp);
        cr_assert(tj_has(tj_arr(m, "options"), "rbind") && tj_has(tj_arr(m, "options"), "ro"));
        m = find_mount(v, "/rw");
        cr_assert(m && tj_has(tj_arr(m, "options"), "rw"));
        m = find_mount(v, "/scratch");
        cr_assert(m && !strcmp(tj_str(m, "type"), "tmpfs") && tj_has(tj_arr(m, "options"), "size=1m"));
        cr_assert(tj_bool(v, "root.readonly"), "--read-only");
        cr_assert_eq(int_at(v, "linux.resources.memory.limit"), 256ll << 20);
        cr_assert_eq(int_at(v, "linux.resources.cpu.quota"), 150000);
        cr_assert_eq(int_at(v, "linux.resources.cpu.period"), 100000);
        cr_assert_eq(int_at(v, "linux.resources.pids.limit"), 64);
        cr_assert(has_ns(v, "network"), "--net none: a network namespace");
        cr_assert_str_eq(tj_str(v, "hostname"), "web1");
        yajl_val caps = tj_arr(v, "process.capabilities.bounding");
        cr_assert(tj_has(caps, "CAP_NET_ADMIN") && !tj_has(caps, "CAP_CHOWN") && tj_has(caps, "CAP_KILL"));
        cr_assert_str_eq(tj_str(v, "linux.seccomp.defaultAction"), "SCMP_ACT_ALLOW");
        const char *ann[] = { "annotations", "run.oci.handler", NULL };
        yajl_val h = yajl_tree_get(v, ann, yajl_t_string);
        cr_assert_not_null(h, "--vm: no annotation run.oci.handler");
        cr_assert_str_eq(YAJL_GET_STRING(h), "vm");
        yajl_tree_free(v);
        free(flags);
        assert_nothing_left("--dry-run");

        /* Defaults: the default seccomp profile, a netns, writable root. */
        v = dry_run("-- true");
        cr_assert_not_null(tj_get(v, "linux.seccomp.syscalls"), "default seccomp profile");
        cr_assert(has_ns(v, "network") && !tj_bool(v, "root.readonly"));
        cr_assert_null(tj_get(v, "linux.resources"));
        cr_assert_null(tj_get(v, "annotations"));
        cr_assert(!tj_bool(v, "process.terminal"));
        yajl_tree_free(v);
        v = dry_run("--net host --security-opt seccomp=unconfined --cap-drop ALL -- true");
        cr_assert(!has_ns(v, "network"), "--net host: no network namespace");
        cr_assert_null(tj_get(v, "linux.seccomp"), "seccomp=unconfined");
        cr_assert_eq(YAJL_GET_ARRAY(tj_arr(v, "process.capabilities.effective"))->len, 0u);
        yajl_tree_free(v);
        free(seccomp);
        free(envf);
}

Test(frontdoor, env_workdir_user_hostname)
{
        char *out = NULL;
        int rc = husk_run(&out, NULL, "run --image busybox -e A=1 -e 'B=two words' -w /tmp -u 1000:1001 "
                          "--hostname web1 -- sh -c 'echo \"$A|$B|$(pwd)|$(id -u):$(id -g)|$(hostname)\"'");
        cr_assert_eq(rc, 0);
        cr_assert_str_eq(out, "1|two words|/tmp|1000:1001|web1\n");
        free(out);
        assert_nothing_left("run");
}

Test(frontdoor, volumes_tmpfs_read_only)
{
        char *vol = fmt("%s/vol", tmp), *out = NULL;
        cr_assert_eq(mkdir(vol, 0755), 0);
        int rc = husk_run(&out, NULL, "run --image busybox -v %s:/data -v %s:/ro:ro --tmpfs /scratch --read-only -- "
                          "sh -c 'echo w > /data/f && cat /data/f; echo x > /ro/g 2>/dev/null || echo ro-denied; "
                          "echo t > /scratch/t && cat /scratch/t; touch /newfile 2>/dev/null || echo root-ro'",
                          vol, vol);
        cr_assert_eq(rc, 0);
        cr_assert_str_eq(out, "w\nro-denied\nt\nroot-ro\n");
        char *f = fmt("%s/f", vol);
        cr_assert_eq(access(f, F_OK), 0, "-v: the write reached the host");
        free(f);
        f = fmt("%s/g", vol);
        cr_assert_neq(access(f, F_OK), 0);
        free(f);
        free(out);
        free(vol);
        assert_nothing_left("run -v");
}

Test(frontdoor, capabilities_and_seccomp)
{
        char *out = NULL;
        cr_assert_eq(husk_run(&out, NULL, "run --image busybox -- sh -c 'grep -E \"^(CapEff|Seccomp):\" "
                              "/proc/self/status'"), 0);
        cr_assert(strstr(out, "CapEff:\t00000000200005fb"), "default caps: %s", out);
        cr_assert(strstr(out, "Seccomp:\t2"), "default: seccomp filter: %s", out);
        free(out);
        cr_assert_eq(husk_run(&out, NULL, "run --image busybox --cap-add sys_admin --cap-drop CAP_CHOWN "
                              "--security-opt seccomp=unconfined -- sh -c 'grep -E \"^(CapEff|Seccomp):\" "
                              "/proc/self/status'"), 0);
        /* + CAP_SYS_ADMIN (21), - CAP_CHOWN (0) */
        cr_assert(strstr(out, "CapEff:\t00000000202005fa"), "%s", out);
        cr_assert(strstr(out, "Seccomp:\t0"), "unconfined: %s", out);
        free(out);
        cr_assert_eq(husk_run(&out, NULL, "run --image busybox --cap-drop ALL -- sh -c 'grep ^CapEff "
                              "/proc/self/status'"), 0);
        cr_assert_str_eq(out, "CapEff:\t0000000000000000\n");
        free(out);
}

Test(frontdoor, net_none_has_lo_up_and_host_shares)
{
        char *out = NULL;
        cr_assert_eq(husk_run(&out, NULL, "run --image busybox --net none -- sh -c 'ls /sys/class/net; "
                              "cat /sys/class/net/lo/flags'"), 0);
        cr_assert_str_eq(out, "lo\n0x9\n", "--net none: lo only, up");
        free(out);
        cr_assert_eq(husk_run(&out, NULL, "run --image busybox --net host -- readlink /proc/1/ns/net"), 0);
        /* /proc/1 in the container is its own init: compare with ours. */
        char self[128] = { 0 };
        cr_assert_gt(readlink("/proc/self/ns/net", self, sizeof self - 1), 0);
        cr_assert(!strncmp(out, self, strlen(self)), "--net host: %s vs %s", out, self);
        free(out);
}

Test(frontdoor, exit_status_timeout_and_stdin)
{
        cr_assert_eq(husk_run(NULL, NULL, "run --image busybox -- sh -c 'exit 7'"), 7);
        cr_assert_eq(husk_run(NULL, NULL, "run --image busybox -- sh -c 'exit 0'"), 0);
        cr_assert_eq(husk_run(NULL, NULL, "run --image busybox -- sh -c 'exit 255'"), 255);
        char *err = NULL;
        time_t t0 = time(NULL);
        cr_assert_eq(husk_run(NULL, &err, "run --image busybox --timeout 1s -- sleep 30"), 124);
        cr_assert_lt(time(NULL) - t0, 10);
        cr_assert(strstr(err, "timeout"), "%s", err);
        free(err);
        assert_nothing_left("--timeout");
        /* Without -i stdin is /dev/null; with -i it is husk's. */
        char *out = NULL;
        cr_assert_eq(husk_run(&out, NULL, "run --image busybox -- cat"), 0);
        cr_assert_str_eq(out, "");
        free(out);
        char *cmd = fmt("echo piped | %s --root %s/root --storage %s/storage run --image busybox -i -- cat >%s/o",
                        husk, tmp, tmp, tmp);
        cr_assert_eq(system(cmd), 0);
        free(cmd);
        herr_t e = { 0 };
        char *p = fmt("%s/o", tmp);
        cr_assert_eq(read_file(p, 4096, &out, NULL, &e), 0);
        cr_assert_str_eq(out, "piped\n");
        free(out);
        free(p);
}

/* SIGTERM or SIGINT sent to husk reaches the container: it traps the
 * signal and exits 40+N, which husk passes on. */
static void signal_reaches_container(int sig)
{
        char *ready = fmt("%s/ready", tmp), *script = fmt("trap 'exit %d' %s; touch /x/ready; "
                                                          "while :; do sleep 0.1; done", 40 + sig,
                                                          sig == SIGINT ? "INT" : "TERM");
        unlink(ready);
        pid_t pid = fork();
        cr_assert_geq(pid, 0);
        if (pid == 0) {
                char *r = fmt("%s/root", tmp), *s = fmt("%s/storage", tmp), *v = fmt("%s:/x", tmp);
                int nul = open("/dev/null", O_RDWR);
                dup2(nul, 0);
                dup2(nul, 1);
                execl(husk, husk, "--root", r, "--storage", s, "run", "--image", "busybox", "-v", v, "--", "sh",
                      "-c", script, (char *)NULL);
                _exit(127);
        }
        for (int i = 0; i < 200 && access(ready, F_OK) < 0; i++)
                usleep(50000);
        cr_assert_eq(access(ready, F_OK), 0, "the container never started");
        kill(pid, sig);
        int st;
        cr_assert_eq(waitpid(pid, &st, 0), pid);
        cr_assert(WIFEXITED(st) && WEXITSTATUS(st) == 40 + sig, "signal %d: status %d", sig, st);
        free(ready);
        free(script);
        assert_nothing_left("signal");
}

Test(frontdoor, sigterm_to_husk_reaches_the_container)
{
        signal_reaches_container(SIGTERM);
}

Test(frontdoor, sigint_to_husk_reaches_the_container)
{
        signal_reaches_container(SIGINT);
}

/* Bad input: exit 125, one line naming the problem, nothing left. */
Test(frontdoor, bad_input_is_one_line_and_125)
{
        static const struct { const char *args, *want; } cases[] = {
                { "--image busybox --bogus -- true", "unknown option '--bogus'" },
                { "--bogus --image busybox -- true", "unknown option '--bogus'" },
                { "--image busybox -e", "needs a value" },
                { "--image busybox -v /nonexistent/x:/data -- true", "host path /nonexistent/x" },
                { "--image busybox -v /tmp -- true", "HOST:CONTAINER[:ro|rw]" },
                { "--image busybox -v /tmp:data -- true", "must be absolute" },
                { "--image busybox -v /tmp:/d:rx -- true", "HOST:CONTAINER[:ro|rw]" },
                { "--image busybox -p 80 -- true", "HOSTPORT:CONTAINERPORT" },
                { "--image busybox -p 8080:99999 -- true", "1-65535" },
                { "--image busybox --net none -p 8080:80 -- true", "needs --net bridge" },
                { "--image busybox --net foo -- true", "unknown mode (none, host, bridge)" },
                { "--image busybox --memory 12q -- true", "--memory '12q'" },
                { "--image busybox --cpus 0 -- true", "--cpus '0'" },
                { "--image busybox --pids-limit -1 -- true", "--pids-limit '-1'" },
                { "--image busybox --timeout 5x -- true", "--timeout '5x'" },
                { "--image busybox --cap-add FOO -- true", "unknown capability" },
                { "--image busybox --security-opt apparmor=x -- true", "seccomp=unconfined" },
                { "--image busybox --security-opt seccomp=/nonexistent -- true", "/nonexistent" },
                { "--image busybox -u nosuch -- true", "nosuch" },
                { "--image busybox -w rel -- true", "absolute path" },
                { "--image busybox --hostname a_b -- true", "--hostname 'a_b'" },
                { "--image nosuch -- true", "no such image" },
                { "--image busybox --name bad/id -- true", "bad/id" },
                { "--image busybox -d --timeout 1s -- true", "--timeout with --detach" },
                { "--image busybox --rm --keep -- true", "--rm with --keep" },
                { "--image busybox --memory", "'--memory' needs a value" },
        };
        for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
                char *out = NULL, *err = NULL;
                int rc = husk_run(&out, &err, "run %s", cases[i].args);
                cr_assert_eq(rc, 125, "run %s: exit %d (%s)", cases[i].args, rc, err);
                cr_assert(strstr(err, cases[i].want), "run %s: %s lacks %s", cases[i].args, err, cases[i].want);
                char *nl = strchr(err, '\n');
                cr_assert(nl && nl[1] == '\0', "run %s: not one line: %s", cases[i].args, err);
                cr_assert_str_eq(out, "");
                assert_nothing_left(cases[i].args);
                free(out);
                free(err);
        }
}

Test(frontdoor, create_with_image_flags)
{
        char *out = NULL, *err = NULL;
        cr_assert_eq(husk_run(&out, &err, "create --image busybox --name c1 --timeout 1s -- true"), 125);
        cr_assert(strstr(err, "only with husk run"), "%s", err);
        free(out);
        free(err);
        assert_nothing_left("create --timeout");
        cr_assert_eq(husk_run(&out, NULL, "create --image busybox --name c1 --dry-run -e X=1 -- true"), 0);
        yajl_val v = tj_parse(out);
        cr_assert(tj_has(tj_arr(v, "process.env"), "X=1"));
        yajl_tree_free(v);
        free(out);
        assert_nothing_left("create --dry-run");
        char *e2 = NULL;
        int rc = husk_run(NULL, &e2, "create --image busybox --name c1 -e X=1 -- sh -c 'echo $X'");
        cr_assert_eq(rc, 0, "create: %d %s", rc, e2);
        free(e2);
        cr_assert_eq(husk_run(&out, NULL, "start c1"), 0);
        free(out);
        cr_assert_eq(husk_run(NULL, NULL, "delete -f c1"), 0);
        assert_nothing_left("create + delete");
}

/* This host's cgroup v2 has no memory/pids/cpu controller: a clear error
 * naming it, exit 125, nothing left (the limits are proven in a VM). */
Test(frontdoor, limits_error_names_the_controller)
{
        static const struct { const char *flag, *ctl; } cases[] = {
                { "--memory 256m", "'memory'" }, { "--pids-limit 64", "'pids'" }, { "--cpus 1", "'cpu'" },
        };
        if (system("grep -qw memory /sys/fs/cgroup/cgroup.controllers 2>/dev/null || "
                   "grep -qw memory /sys/fs/cgroup/unified/cgroup.controllers 2>/dev/null") == 0)
                cr_skip_test("this host has the cgroup v2 memory controller");
        for (size_t i = 0; i < 3; i++) {
                char *err = NULL;
                int rc = husk_run(NULL, &err, "run --image busybox --net none %s -- true", cases[i].flag);
                cr_assert_eq(rc, 125, "%s: %d %s", cases[i].flag, rc, err);
                cr_assert(strstr(err, cases[i].ctl) && strstr(err, "not available"), "%s: %s", cases[i].flag, err);
                free(err);
                assert_nothing_left(cases[i].flag);
        }
}

/* The CI line, 100 times: output, status, no leftovers every time. */
Test(frontdoor, ci_line_100_times_leaves_nothing, .timeout = 600)
{
        for (int i = 0; i < 100; i++) {
                char *out = NULL;
                int rc = husk_run(&out, NULL, "run --image busybox --net none --timeout 30s -- sh -c "
                                  "'echo run %d; exit 3'", i);
                cr_assert_eq(rc, 3, "run %d: exit %d", i, rc);
                char want[32];
                snprintf(want, sizeof want, "run %d\n", i);
                cr_assert_str_eq(out, want);
                free(out);
                char *what = fmt("CI run %d", i);
                assert_nothing_left(what);
                free(what);
        }
}

Test(frontdoor, ps_shows_image_command_status_age)
{
        cr_assert_eq(husk_run(NULL, NULL, "run --image busybox --keep --name kept -- sh -c 'exit 0'"), 0);
        cr_assert_eq(husk_run(NULL, NULL, "run --image busybox -d --name bg -- sleep 60"), 0);
        char *out = NULL;
        cr_assert_eq(husk_run(&out, NULL, "ps"), 0);
        cr_assert(strstr(out, "IMAGE") && strstr(out, "COMMAND") && strstr(out, "STATUS") && strstr(out, "AGE"),
                  "%s", out);
        char *kept = strstr(out, "kept"), *bg = strstr(out, "bg ");
        cr_assert(kept && bg, "%s", out);
        cr_assert(strstr(kept, "busybox") && strstr(kept, "sh -c exit 0") && strstr(kept, "stopped") &&
                  strstr(kept, "s ago"), "%s", out);
        cr_assert(strstr(bg, "sleep 60") && strstr(bg, "running"), "%s", out);
        free(out);
        cr_assert_eq(husk_run(NULL, NULL, "delete -f bg"), 0);
        cr_assert_eq(husk_run(NULL, NULL, "delete kept"), 0);
        assert_nothing_left("ps");
}

/* -t: husk's terminal is raw while the container runs, and a window resize
 * reaches the container (SIGWINCH -> its pty's size). */
Test(frontdoor, tty_raw_and_resize)
{
        int master;
        struct winsize ws = { .ws_row = 24, .ws_col = 80 };
        pid_t pid = forkpty(&master, NULL, NULL, &ws);
        cr_assert_geq(pid, 0);
        if (pid == 0) {
                char *r = fmt("%s/root", tmp), *s = fmt("%s/storage", tmp);
                execl(husk, husk, "--root", r, "--storage", s, "run", "--image", "busybox", "-t", "--", "sh", "-c",
                      /* relay_begin's first resize is a SIGWINCH too: trap
                       * only once the size is set. */
                      "while [ \"$(stty size)\" = '0 0' ]; do sleep 0.05; done; stty size; "
                      "trap 'stty size; exit 0' WINCH; echo ready; while :; do sleep 0.1; done",
                      (char *)NULL);
                _exit(127);
        }
        char buf[4096];
        size_t n = 0;
        bool ready = false;
        for (int i = 0; i < 200 && !ready; i++) {
                struct pollfd p = { .fd = master, .events = POLLIN };
                if (poll(&p, 1, 50) > 0) {
                        ssize_t r = read(master, buf + n, sizeof buf - 1 - n);
                        if (r > 0)
                                n += (size_t)r;
                }
                buf[n] = '\0';
                ready = strstr(buf, "ready") != NULL;
        }
        cr_assert(ready, "no ready: %s", buf);
        cr_assert(strstr(buf, "24 80"), "the container's pty starts at the window's size: %s", buf);
        struct termios t;
        cr_assert_eq(tcgetattr(master, &t), 0);
        cr_assert_eq(t.c_lflag & (ICANON | ECHO), 0u, "husk's terminal is not raw");
        ws.ws_row = 40;
        ws.ws_col = 120;
        cr_assert_eq(ioctl(master, TIOCSWINSZ, &ws), 0);   /* SIGWINCH to husk */
        bool resized = false;
        for (int i = 0; i < 200 && !resized; i++) {
                struct pollfd p = { .fd = master, .events = POLLIN };
                if (poll(&p, 1, 50) > 0) {
                        ssize_t r = read(master, buf + n, sizeof buf - 1 - n);
                        if (r > 0)
                                n += (size_t)r;
                }
                buf[n] = '\0';
                resized = strstr(buf, "40 120") != NULL;
        }
        cr_assert(resized, "the resize did not reach the container: %s", buf);
        int st;
        cr_assert_eq(waitpid(pid, &st, 0), pid);
        cr_assert(WIFEXITED(st) && WEXITSTATUS(st) == 0, "status %d", st);
        close(master);
        assert_nothing_left("-t");
}
