/* cgroups on THIS host, natively: real husk containers whose limits this
 * host's cgroup v2 hierarchy cannot (or must not) honour. The development
 * host is hybrid: v2 at /sys/fs/cgroup/unified offers only hugetlb.
 *   - a limit for a missing controller: clear error naming it, nothing left
 *     behind (no state dir, no cgroup dir);
 *   - a container without limits runs (and its cgroup goes with it);
 *   - cgroupsPath with "..", an unknown unified key, negative or absurd
 *     values, a path owned by another container: clear error, nothing left.
 * Every test works below its own cgroup names (husk-cgh-<pid>-...). Root only.
 * env: HUSK (the husk binary), HUSK_ROOTFS (busybox rootfs). */
#include <criterion/criterion.h>
#include <errno.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "../../cgroups/cgroups.h"
#include "../../common/cleanup.h"
#include "../../common/fileutil.h"

static char husk[PATH_MAX], rootfs[PATH_MAX], tmp[PATH_MAX], state[PATH_MAX + 16],
        bundle[PATH_MAX + 16];

static void setup(void)
{
        if (geteuid() != 0)
                cr_skip_test("needs root");
        const char *h = getenv("HUSK"), *r = getenv("HUSK_ROOTFS");
        if (!h || !r || !realpath(h, husk) || !realpath(r, rootfs))
                cr_skip_test("HUSK and HUSK_ROOTFS must name husk and a rootfs (make integration)");
        snprintf(tmp, sizeof tmp, "/tmp/husk-cgh-XXXXXX");
        cr_assert_not_null(mkdtemp(tmp), "mkdtemp: %s", strerror(errno));
        snprintf(state, sizeof state, "%s/state", tmp);
        snprintf(bundle, sizeof bundle, "%s/bundle", tmp);
        cr_assert_eq(mkdir(bundle, 0755), 0);
}

static void teardown(void)
{
        if (!*tmp)
                return;
        char cmd[PATH_MAX * 4];
        /* Containers a failed assertion left: delete them, then the files. */
        snprintf(cmd, sizeof cmd, "for d in '%s'/*/; do [ -d \"$d\" ] && '%s' --root '%s' delete --force "
                 "\"$(basename \"$d\")\"; done >/dev/null 2>&1", state, husk, state);
        if (access(state, F_OK) == 0 && system(cmd) < 0)
                perror("system");
        herr_t e;
        remove_tree(tmp, &e);
}

TestSuite(cgroups_host, .init = setup, .fini = teardown, .timeout = 60);

/* config.json: args (a JSON array), linux_extra (members of "linux", may be
 * ""), cgroups_path (NULL: none, i.e. the default <own>/husk/<id>). */
static void config(const char *args, const char *linux_extra, const char *cgroups_path)
{
        char path[PATH_MAX + 32], cgp[PATH_MAX + 32] = "";
        if (cgroups_path)
                snprintf(cgp, sizeof cgp, "\"cgroupsPath\": \"%s\",", cgroups_path);
        char *json = NULL;
        int n = asprintf(&json,
                "{\"ociVersion\": \"1.0.2\","
                " \"process\": {\"terminal\": false, \"user\": {\"uid\": 0, \"gid\": 0}, \"cwd\": \"/\","
                "  \"args\": %s, \"env\": [\"PATH=/bin:/sbin\"]},"
                " \"root\": {\"path\": \"%s\", \"readonly\": true},"
                " \"mounts\": [{\"destination\": \"/proc\", \"type\": \"proc\", \"source\": \"proc\"},"
                "  {\"destination\": \"/dev\", \"type\": \"tmpfs\", \"source\": \"tmpfs\", \"options\": [\"nosuid\"]}],"
                " \"linux\": {%s %s%s"
                "  \"namespaces\": [{\"type\": \"pid\"}, {\"type\": \"mount\"}, {\"type\": \"ipc\"},"
                "   {\"type\": \"uts\"}]}}",
                args, rootfs, cgp, linux_extra, *linux_extra ? "," : "");
        cr_assert_gt(n, 0);
        snprintf(path, sizeof path, "%s/config.json", bundle);
        herr_t e;
        cr_assert_eq(write_file_atomic(path, json, strlen(json), 0644, &e), 0, "%s", e.msg);
        free(json);
}

/* Run husk --root state ARGS; output (stdout+stderr) in *out; exit code.
 * The output goes through a file, not a pipe: a created container's init
 * keeps husk's stdout open. */
static int hk(char **out, const char *fmt, ...)
{
        char args[2048], cmd[4096 + 4 * PATH_MAX], outf[PATH_MAX + 16];
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(args, sizeof args, fmt, ap);
        va_end(ap);
        snprintf(outf, sizeof outf, "%s/out", tmp);
        snprintf(cmd, sizeof cmd, "'%s' --root '%s' %s </dev/null >'%s' 2>&1", husk, state, args, outf);
        int st = system(cmd);
        herr_t e;
        cr_assert_eq(read_file(outf, 1 << 20, out, NULL, &e), 0, "%s", e.msg);
        return WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
}

/* Absolute cgroup directory of a cgroupsPath (NULL: the default for id). */
static char *cgdir(const char *cgroups_path, const char *id)
{
        char *d = NULL;
        herr_t e;
        cr_assert_eq(cg_resolve_path(cgroups_path, id, &d, &e), 0, "%s", e.msg);
        return d;
}

static bool exists(const char *p)
{
        return access(p, F_OK) == 0;
}

/* Nothing of container id: no state entry, no cgroup dir `dir` (NULL: the
 * default one), none of the extra paths. */
static void assert_nothing_left(const char *id, const char *dir, const char *why)
{
        char sd[PATH_MAX * 2];
        snprintf(sd, sizeof sd, "%s/%s", state, id);
        cr_assert(!exists(sd), "%s: state dir %s left behind", why, sd);
        char *out = NULL;
        cr_assert_neq(hk(&out, "state %s", id), 0, "%s: husk state %s works: %s", why, id, out);
        free(out);
        char *def = dir ? NULL : cgdir(NULL, id);
        cr_assert(!exists(dir ? dir : def), "%s: cgroup %s left behind", why, dir ? dir : def);
        free(def);
}

/* Refused: exit != 0, the message contains want, nothing left behind. */
static void refused(const char *id, const char *cgroups_path, const char *want, const char *why)
{
        char *out = NULL;
        int rc = hk(&out, "run --bundle '%s' %s", bundle, id);
        cr_assert_neq(rc, 0, "%s: accepted: %s", why, out);
        cr_assert_not_null(strstr(out, want), "%s: message lacks \"%s\": %s", why, want, out);
        cr_assert_not_null(strstr(out, "husk: "), "%s: not a husk error: %s", why, out);
        cr_log_info("%s: %s", why, out);
        free(out);
        char *dir = cgroups_path ? cgdir(cgroups_path, id) : NULL;
        assert_nothing_left(id, dir, why);
        free(dir);
}

static bool offers(const char *c)
{
        char *o = NULL;
        herr_t e;
        if (!cg_root() || cg_root_controllers(&o, &e) < 0)
                return false;
        char pad[1024], w[80];
        snprintf(pad, sizeof pad, " %s ", o);
        pad[strcspn(pad, "\n")] = ' ';
        snprintf(w, sizeof w, " %s ", c);
        free(o);
        return strstr(pad, w) != NULL;
}

Test(cgroups_host, limit_for_missing_controller_names_it_and_leaves_nothing)
{
        struct { const char *ctrl, *res, *field; } cases[] = {
                {"memory", "\"resources\": {\"memory\": {\"limit\": 33554432}}", "linux.resources.memory.limit"},
                {"pids", "\"resources\": {\"pids\": {\"limit\": 10}}", "linux.resources.pids.limit"},
                {"cpu", "\"resources\": {\"cpu\": {\"quota\": 10000, \"period\": 100000}}",
                 "linux.resources.cpu"},
                {"io", "\"resources\": {\"blockIO\": {\"weight\": 500}}", "linux.resources.blockIO.weight"},
        };
        int tested = 0;
        for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
                if (offers(cases[i].ctrl))
                        continue;
                char path[128], want[128], id[64];
                snprintf(path, sizeof path, "/husk-cgh-%d-missing/%s", (int)getpid(), cases[i].ctrl);
                snprintf(want, sizeof want, "controller '%s' is not available", cases[i].ctrl);
                snprintf(id, sizeof id, "missing-%s", cases[i].ctrl);
                config("[\"true\"]", cases[i].res, path);
                refused(id, path, want, cases[i].ctrl);
                /* The message names the field too. */
                char *out = NULL;
                hk(&out, "run --bundle '%s' %s", bundle, id);
                cr_assert_not_null(strstr(out, cases[i].field), "%s", out);
                free(out);
                tested++;
        }
        /* Nor the parent husk would have made. */
        char parent[PATH_MAX];
        snprintf(parent, sizeof parent, "%s/husk-cgh-%d-missing", cg_root() ? cg_root() : "/nonexistent",
                 (int)getpid());
        cr_assert(!exists(parent), "%s left behind", parent);
        if (!tested)
                cr_skip_test("this host's cgroup v2 offers memory, pids, cpu and io: nothing is missing");
}

Test(cgroups_host, container_without_limits_runs)
{
        config("[\"sh\", \"-c\", \"echo no-limits-ran\"]", "", NULL);
        char *out = NULL;
        int rc = hk(&out, "run --bundle '%s' nolimits", bundle);
        cr_assert_eq(rc, 0, "exit %d: %s", rc, out);
        cr_assert_not_null(strstr(out, "no-limits-ran"), "%s", out);
        free(out);
        assert_nothing_left("nolimits", NULL, "after run");
        /* With --keep the default cgroup <own>/husk/<id> exists until delete
         * (when the host has a v2 hierarchy at all). */
        rc = hk(&out, "run --keep --bundle '%s' nolimits", bundle);
        cr_assert_eq(rc, 0, "exit %d: %s", rc, out);
        free(out);
        if (cg_root()) {
                char *d = cgdir(NULL, "nolimits");
                cr_assert(exists(d), "no cgroup %s while the container exists", d);
                free(d);
        }
        rc = hk(&out, "delete nolimits");
        cr_assert_eq(rc, 0, "delete: %s", out);
        free(out);
        assert_nothing_left("nolimits", NULL, "after delete");
}

Test(cgroups_host, dotdot_in_cgroups_path_refused)
{
        char path[128];
        snprintf(path, sizeof path, "/husk-cgh-%d/../husk-cgh-%d-escape", (int)getpid(), (int)getpid());
        config("[\"true\"]", "", path);
        refused("dotdot", NULL, "'..' is not allowed", "cgroupsPath with ..");
        char p[PATH_MAX];
        snprintf(p, sizeof p, "%s/husk-cgh-%d-escape", cg_root() ? cg_root() : "/nonexistent", (int)getpid());
        cr_assert(!exists(p), "%s created", p);
        snprintf(p, sizeof p, "%s/husk-cgh-%d", cg_root() ? cg_root() : "/nonexistent", (int)getpid());
        cr_assert(!exists(p), "%s created", p);
        /* Relative too. */
        config("[\"true\"]", "", "a/../../b");
        refused("dotdot2", NULL, "'..' is not allowed", "relative cgroupsPath with ..");
}

Test(cgroups_host, unknown_unified_key_refused)
{
        if (!cg_root())
                cr_skip_test("no cgroup v2 hierarchy");
        char path[128];
        snprintf(path, sizeof path, "/husk-cgh-%d-unified", (int)getpid());
        /* A controller that does not exist. */
        config("[\"true\"]", "\"resources\": {\"unified\": {\"nosuchctl.max\": \"1\"}}", path);
        refused("unified1", path, "nosuchctl.max", "unified key of an unknown controller");
        /* A file the (offered) hugetlb controller does not have. */
        if (offers("hugetlb")) {
                config("[\"true\"]", "\"resources\": {\"unified\": {\"hugetlb.bogus\": \"1\"}}", path);
                refused("unified2", path, "hugetlb.bogus", "unknown key of an offered controller");
        }
        /* Keys that are not a cgroup file name at all, or husk's own. */
        config("[\"true\"]", "\"resources\": {\"unified\": {\"../cgroup.procs\": \"1\"}}", path);
        refused("unified3", path, "../cgroup.procs", "unified key with a path");
        config("[\"true\"]", "\"resources\": {\"unified\": {\"cgroup.subtree_control\": \"+memory\"}}", path);
        refused("unified4", path, "cgroup.subtree_control", "unified key husk manages");
        char p[PATH_MAX];
        snprintf(p, sizeof p, "%s%s", cg_root(), path);
        cr_assert(!exists(p), "%s left behind", p);
}

Test(cgroups_host, negative_and_absurd_values_refused)
{
        char path[128];
        snprintf(path, sizeof path, "/husk-cgh-%d-neg", (int)getpid());
        struct { const char *res, *want; } cases[] = {
                {"\"resources\": {\"memory\": {\"limit\": -5}}", "memory.limit: -5 is negative"},
                {"\"resources\": {\"memory\": {\"limit\": 1048576, \"swap\": -2}}", "memory.swap"},
                {"\"resources\": {\"pids\": {\"limit\": -7}}", "pids.limit: -7 is negative"},
                {"\"resources\": {\"cpu\": {\"quota\": -7}}", "cpu.quota"},
                {"\"resources\": {\"cpu\": {\"quota\": 5000, \"period\": 99999999999}}", "cpu.period"},
                {"\"resources\": {\"cpu\": {\"shares\": 1}}", "cpu.shares"},
                {"\"resources\": {\"memory\": {\"limit\": 99999999999999999999}}", "memory.limit"},
                {"\"resources\": {\"hugepageLimits\": [{\"pageSize\": \"2MB\", \"limit\": -1}]}", "hugepageLimits"},
                {"\"resources\": {\"blockIO\": {\"weight\": 5000}}", "blockIO.weight"},
        };
        for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
                char id[32];
                snprintf(id, sizeof id, "neg%zu", i);
                config("[\"true\"]", cases[i].res, path);
                refused(id, path, cases[i].want, cases[i].res);
        }
}

/* The other container's cgroup must survive the refused one. */
Test(cgroups_host, path_owned_by_another_container_refused)
{
        if (!cg_root())
                cr_skip_test("no cgroup v2 hierarchy");
        char path[128];
        snprintf(path, sizeof path, "/husk-cgh-%d-owned", (int)getpid());
        char *dir = cgdir(path, "x");
        char *out = NULL;

        /* 1. The owner is running (created, its init waits in the cgroup). */
        config("[\"sleep\", \"100\"]", "", path);
        int rc = hk(&out, "create --bundle '%s' owner", bundle);
        cr_assert_eq(rc, 0, "create owner: %s", out);
        free(out);
        _cleanup_free_ char *procs0 = NULL;
        herr_t e;
        char f[PATH_MAX * 2];
        snprintf(f, sizeof f, "%s/cgroup.procs", dir);
        cr_assert_eq(read_file(f, 4096, &procs0, NULL, &e), 0, "%s", e.msg);
        cr_assert_neq(*procs0, '\0', "the owner's init is not in %s", dir);
        config("[\"true\"]", "", path);
        rc = hk(&out, "run --bundle '%s' intruder", bundle);
        cr_assert_neq(rc, 0, "a second container joined %s: %s", path, out);
        cr_assert_not_null(strstr(out, "in use by container owner"), "%s", out);
        free(out);
        char sd[PATH_MAX * 2];
        snprintf(sd, sizeof sd, "%s/intruder", state);
        cr_assert(!exists(sd), "state of the refused container left behind");
        _cleanup_free_ char *procs1 = NULL;
        cr_assert_eq(read_file(f, 4096, &procs1, NULL, &e), 0, "the owner's cgroup is gone: %s", e.msg);
        cr_assert_str_eq(procs1, procs0, "the owner's cgroup changed");
        rc = hk(&out, "delete --force owner");
        cr_assert_eq(rc, 0, "%s", out);
        free(out);
        cr_assert(!exists(dir), "%s left after delete --force", dir);

        /* 2. The owner has exited but is not deleted: its cgroup is empty and
         * still refused (the claim is recorded on the cgroup). */
        config("[\"true\"]", "", path);
        rc = hk(&out, "run --keep --bundle '%s' owner2", bundle);
        cr_assert_eq(rc, 0, "run --keep owner2: %s", out);
        free(out);
        cr_assert(exists(dir), "no cgroup %s for the kept container", dir);
        rc = hk(&out, "run --bundle '%s' intruder2", bundle);
        cr_assert_neq(rc, 0, "a second container took the cgroup of a stopped one: %s", out);
        cr_assert_not_null(strstr(out, "in use by container owner2"), "%s", out);
        free(out);
        cr_assert(exists(dir), "the refused container removed owner2's cgroup");
        rc = hk(&out, "delete owner2");
        cr_assert_eq(rc, 0, "%s", out);
        free(out);
        cr_assert(!exists(dir), "%s left after delete", dir);
        free(dir);
}

/* Where the host's v2 offers hugetlb (the hybrid development host does),
 * a hugetlb limit is really written. */
Test(cgroups_host, offered_controller_limit_applied)
{
        char probe[PATH_MAX];
        snprintf(probe, sizeof probe, "%s/hugetlb.2MB.max", cg_root() ? cg_root() : "/nonexistent");
        if (!offers("hugetlb"))
                cr_skip_test("no hugetlb in this host's cgroup v2");
        char path[128];
        snprintf(path, sizeof path, "/husk-cgh-%d-huge", (int)getpid());
        config("[\"true\"]", "\"resources\": {\"hugepageLimits\": [{\"pageSize\": \"2MB\", \"limit\": 4194304}]}",
               path);
        char *out = NULL;
        int rc = hk(&out, "run --keep --bundle '%s' huge", bundle);
        if (rc != 0 && strstr(out, "does not exist"))
                cr_skip_test("no 2MB huge pages here: %s", out);
        cr_assert_eq(rc, 0, "%s", out);
        free(out);
        char *dir = cgdir(path, "huge"), f[PATH_MAX * 2];
        snprintf(f, sizeof f, "%s/hugetlb.2MB.max", dir);
        _cleanup_free_ char *v = NULL;
        herr_t e;
        cr_assert_eq(read_file(f, 64, &v, NULL, &e), 0, "%s", e.msg);
        cr_assert_str_eq(v, "4194304\n");
        rc = hk(&out, "delete huge");
        cr_assert_eq(rc, 0, "%s", out);
        free(out);
        cr_assert(!exists(dir), "%s left after delete", dir);
        free(dir);
}

/* Inside another container's cgroup, or holding it: refused both ways (the
 * enclosing one's delete would kill or remove the other). */
Test(cgroups_host, path_nested_with_another_container_refused)
{
        if (!cg_root())
                cr_skip_test("no cgroup v2 hierarchy");
        char top[128], path[160], inner[192];
        snprintf(top, sizeof top, "/husk-cgh-%d-nest", (int)getpid());
        snprintf(path, sizeof path, "%s/a", top);
        snprintf(inner, sizeof inner, "%s/a/inner", top);
        char *dir = cgdir(path, "x"), *topdir = cgdir(top, "x"), *out = NULL;
        config("[\"sleep\", \"100\"]", "", path);
        int rc = hk(&out, "create --bundle '%s' owner", bundle);
        cr_assert_eq(rc, 0, "create owner: %s", out);
        free(out);

        config("[\"true\"]", "", inner);
        refused("inner", inner, "inside the cgroup", "cgroupsPath inside another container's");
        config("[\"true\"]", "", top);
        rc = hk(&out, "run --bundle '%s' outer", bundle);
        cr_assert_neq(rc, 0, "a container took the cgroup holding another one's: %s", out);
        cr_assert_not_null(strstr(out, "of container owner"), "%s", out);
        free(out);
        cr_assert(exists(dir), "the refused container removed the owner's cgroup");
        rc = hk(&out, "state owner");
        cr_assert_eq(rc, 0, "%s", out);
        cr_assert_not_null(strstr(out, "\"created\""), "%s", out);
        free(out);

        rc = hk(&out, "delete --force owner");
        cr_assert_eq(rc, 0, "%s", out);
        free(out);
        cr_assert(!exists(dir), "%s left after delete --force", dir);
        rmdir(topdir);   /* the intermediate cgroup the owner's create made */
        free(dir);
        free(topdir);
}
