/* The lifecycle commands and global flags of husk with real busybox
 * containers: create/start/state/kill/delete/run/list/spec/features. */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "../../spec/config.h"
#include "helpers.h"

TestSuite(lifecycle, .init = h_setup, .fini = h_teardown, .timeout = 60);

static const char *SLEEPER = "[\"sleep\",\"1000\"]";
/* pid 1 of a pid namespace ignores signals it has no handler for. */
static const char *TRAPPER = "[\"sh\",\"-c\",\"trap 'exit 3' TERM USR1; while :; do sleep 0.02; done\"]";

static char *exe_of(long pid)
{
        char p[64], buf[PATH_MAX];
        snprintf(p, sizeof p, "/proc/%ld/exe", pid);
        ssize_t n = readlink(p, buf, sizeof buf - 1);
        if (n < 0)
                return strdup("");
        buf[n] = '\0';
        return strdup(buf);
}

Test(lifecycle, create_start_kill_delete_states)
{
        const char *id = h_id("life");
        const char *b = h_bundle(&(struct h_cfg){ .args = SLEEPER });
        struct h_res r;
        HUSK(&r, "create", "--bundle", b, id);
        H_OK(&r);
        h_res_free(&r);
        char *cg = h_cgroup_of(id);

        yajl_val st = h_state(id);
        cr_assert_not_null(st);
        cr_assert_str_eq(h_jstr(st, "status"), "created");
        long long pid = h_jint(st, "pid");
        cr_assert_gt(pid, 0);
        /* create leaves the init waiting before the user's program: it is
         * still husk (from its sealed memfd copy), not sleep. */
        char *exe = exe_of(pid);
        H_HAS(exe, "memfd:husk");
        free(exe);
        yajl_tree_free(st);

        HUSK(&r, "start", id);
        H_OK(&r);
        h_res_free(&r);
        st = h_state(id);
        cr_assert_str_eq(h_jstr(st, "status"), "running");
        cr_assert_eq(h_jint(st, "pid"), pid);
        yajl_tree_free(st);
        exe = exe_of(pid);
        H_HAS(exe, "/bin/busybox");
        free(exe);

        HUSK(&r, "kill", id, "KILL");
        H_OK(&r);
        h_res_free(&r);
        cr_assert(h_wait_status(id, "stopped", 5000));
        st = h_state(id);
        cr_assert_leq(h_jint(st, "pid"), 0, "a stopped container has no pid");
        yajl_tree_free(st);

        HUSK(&r, "delete", id);
        H_OK(&r);
        h_res_free(&r);
        h_assert_clean(id, cg);
        free(cg);
}

Test(lifecycle, state_json_has_the_schema_keys)
{
        const char *id = h_id("schema");
        const char *b = h_bundle(&(struct h_cfg){
                .args = SLEEPER, .top_extra = ",\"annotations\":{\"org.test.k\":\"v1\"}" });
        struct h_res r;
        HUSK(&r, "create", "-b", b, id);
        H_OK(&r);
        h_res_free(&r);
        yajl_val st = h_state(id);
        cr_assert_not_null(st);
        /* state.schema.json: required ociVersion, id, status, bundle; pid
         * while created or running. */
        cr_assert_not_null(h_jstr(st, "ociVersion"));
        cr_assert_str_eq(h_jstr(st, "id"), id);
        cr_assert_str_eq(h_jstr(st, "status"), "created");
        cr_assert_str_eq(h_jstr(st, "bundle"), b);
        cr_assert_gt(h_jint(st, "pid"), 0);
        const char *ap[] = { "annotations", "org.test.k", NULL };
        yajl_val a = yajl_tree_get(st, ap, yajl_t_string);
        cr_assert(a && !strcmp(h_s(YAJL_GET_STRING(a)), "v1"));
        yajl_tree_free(st);
}

Test(lifecycle, state_is_stopped_when_the_program_exits)
{
        const char *id = h_id("exits");
        const char *b = h_bundle(&(struct h_cfg){ .args = "[\"true\"]" });
        struct h_res r;
        HUSK(&r, "create", "-b", b, id);
        H_OK(&r);
        h_res_free(&r);
        HUSK(&r, "start", id);
        H_OK(&r);
        h_res_free(&r);
        cr_assert(h_wait_status(id, "stopped", 5000));
        HUSK(&r, "start", id);
        h_assert_fail(&r, "not created");
        h_res_free(&r);
        HUSK(&r, "kill", id, "TERM");
        h_assert_fail(&r, "stopped");
        h_res_free(&r);
        HUSK(&r, "delete", id);
        H_OK(&r);
        h_res_free(&r);
        h_assert_clean(id, NULL);
}

static void kill_with(const char *sig)
{
        const char *id = h_id("killsig");
        h_start_detached(id, h_bundle(&(struct h_cfg){ .args = TRAPPER }));
        usleep(100000); /* let sh install its trap */
        struct h_res r;
        if (sig)
                HUSK(&r, "kill", id, sig);
        else
                HUSK(&r, "kill", id);
        H_OK(&r);
        h_res_free(&r);
        cr_assert(h_wait_status(id, "stopped", 5000), "signal %s did not reach the container", sig);
        HUSK(&r, "delete", id);
        H_OK(&r);
        h_res_free(&r);
}

Test(lifecycle, kill_default_is_term) { kill_with(NULL); }
Test(lifecycle, kill_by_name) { kill_with("TERM"); }
Test(lifecycle, kill_by_sig_name) { kill_with("SIGUSR1"); }
Test(lifecycle, kill_by_number) { kill_with("15"); }

Test(lifecycle, kill_unknown_signal_fails)
{
        const char *id = h_id("badsig");
        h_start_detached(id, h_bundle(&(struct h_cfg){ .args = SLEEPER }));
        struct h_res r;
        HUSK(&r, "kill", id, "NOPE");
        h_assert_fail(&r, "NOPE");
        h_res_free(&r);
        cr_assert(h_wait_status(id, "running", 0));
}

Test(lifecycle, kill_all_reaches_every_process)
{
        const char *id = h_id("killall");
        /* Without a pid namespace, children are visible from the host. */
        h_start_detached(id, h_bundle(&(struct h_cfg){
                                     .args = "[\"sh\",\"-c\",\"sleep 1000 & sleep 1000 & wait\"]",
                                     .namespaces = "[{\"type\":\"mount\"}]" }));
        char *cg = h_cgroup_of(id);
        cr_assert_not_null(cg, "no cgroup in state.json");
        char procs[PATH_MAX + 32];
        snprintf(procs, sizeof procs, "%s/cgroup.procs", cg);
        int n = 0;
        for (int i = 0; i < 200 && n < 3; i++) {
                char *s = h_read(procs);
                n = 0;
                for (char *p = s; p && *p; p++)
                        n += *p == '\n';
                free(s);
                usleep(10000);
        }
        cr_assert_eq(n, 3, "expected sh and two sleeps in %s", procs);
        struct h_res r;
        HUSK(&r, "kill", "--all", id, "9");
        H_OK(&r);
        h_res_free(&r);
        for (int i = 0; i < 300 && n > 0; i++) {
                h_reap();
                char *s = h_read(procs);
                n = s && *s;
                free(s);
                usleep(10000);
        }
        cr_assert_eq(n, 0, "processes left in %s after kill --all", procs);
        HUSK(&r, "delete", id);
        H_OK(&r);
        h_res_free(&r);
        h_assert_clean(id, cg);
        free(cg);
}

Test(lifecycle, delete_running_needs_force)
{
        const char *id = h_id("delforce");
        h_start_detached(id, h_bundle(&(struct h_cfg){ .args = SLEEPER }));
        char *cg = h_cgroup_of(id);
        struct h_res r;
        HUSK(&r, "delete", id);
        h_assert_fail(&r, "--force");
        h_res_free(&r);
        cr_assert(h_wait_status(id, "running", 0));
        HUSK(&r, "delete", "--force", id);
        H_OK(&r);
        h_res_free(&r);
        h_assert_clean(id, cg);
        free(cg);
}

Test(lifecycle, delete_force_of_created)
{
        const char *id = h_id("delcreated");
        struct h_res r;
        HUSK(&r, "create", "-b", h_bundle(&(struct h_cfg){ .args = SLEEPER }), id);
        H_OK(&r);
        h_res_free(&r);
        char *cg = h_cgroup_of(id);
        HUSK(&r, "delete", "-f", id);
        H_OK(&r);
        h_res_free(&r);
        h_assert_clean(id, cg);
        free(cg);
}

Test(lifecycle, duplicate_id_is_refused)
{
        const char *id = h_id("dup");
        const char *b = h_bundle(&(struct h_cfg){ .args = SLEEPER });
        h_start_detached(id, b);
        yajl_val before = h_state(id);
        struct h_res r;
        HUSK(&r, "create", "-b", b, id);
        h_assert_fail(&r, "already exists");
        h_res_free(&r);
        yajl_val after = h_state(id);
        cr_assert_not_null(after, "the first container's state went away");
        cr_assert_str_eq(h_jstr(after, "status"), "running");
        cr_assert_eq(h_jint(after, "pid"), h_jint(before, "pid"));
        yajl_tree_free(before);
        yajl_tree_free(after);
}

Test(lifecycle, invalid_ids_are_refused)
{
        const char *b = h_bundle(NULL);
        char longid[300];
        memset(longid, 'a', sizeof longid - 1);
        longid[sizeof longid - 1] = '\0';
        const char *bad[] = { "a/b", "..", ".", "", "../x", longid, "a b" };
        for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
                struct h_res r;
                HUSK(&r, "create", "-b", b, bad[i]);
                h_assert_fail(&r, "container id");
                h_res_free(&r);
                HUSK(&r, "state", bad[i]);
                h_assert_fail(&r, "container id");
                h_res_free(&r);
        }
        /* Nothing was made under --root (it may not even exist). */
        char cmd[PATH_MAX + 64];
        snprintf(cmd, sizeof cmd, "test -z \"$(ls -A '%s' 2>/dev/null)\"", h_root);
        cr_assert_eq(system(cmd), 0, "entries left in %s", h_root);
        cr_assert(access(h_path("a"), F_OK) < 0);
}

Test(lifecycle, run_returns_the_exit_status)
{
        const char *id = h_id("exit7");
        struct h_res r;
        HUSK(&r, "run", "-b", h_bundle(&(struct h_cfg){ .args = "[\"sh\",\"-c\",\"echo out; echo err >&2; exit 7\"]" }), id);
        cr_assert_eq(r.status, 7, "status %d, stderr %s", r.status, r.err);
        cr_assert_str_eq(r.out, "out\n");
        H_HAS(r.err, "err\n");
        h_res_free(&r);
        /* run deletes the container when it exits. */
        h_assert_clean(id, NULL);
}

Test(lifecycle, run_returns_128_plus_signal)
{
        const char *id = h_id("sig");
        struct h_res r;
        /* No pid namespace: sh is not a namespace init and can be killed. */
        HUSK(&r, "run", "-b", h_bundle(&(struct h_cfg){ .args = "[\"sh\",\"-c\",\"kill -9 $$\"]",
                                                         .namespaces = "[{\"type\":\"mount\"}]" }),
             id);
        cr_assert_eq(r.status, 128 + 9, "status %d, stderr %s", r.status, r.err);
        h_res_free(&r);
        h_assert_clean(id, NULL);
}

Test(lifecycle, run_forwards_signals)
{
        const char *id = h_id("fwd");
        const char *b = h_bundle(&(struct h_cfg){ .args = TRAPPER });
        /* Run husk in the background, signal it, collect its status. */
        pid_t pid = fork();
        cr_assert(pid >= 0);
        if (pid == 0) {
                struct h_res r;
                HUSK(&r, "run", "-b", b, id);
                _exit(r.status);
        }
        cr_assert(h_wait_status(id, "running", 5000));
        usleep(150000);
        /* The husk run process is the child of our child. */
        char path[64];
        snprintf(path, sizeof path, "/proc/%d/task/%d/children", (int)pid, (int)pid);
        char *kids = h_read(path);
        long husk = kids ? strtol(kids, NULL, 10) : 0;
        free(kids);
        cr_assert_gt(husk, 0);
        kill((pid_t)husk, SIGUSR1);
        int st;
        cr_assert_eq(waitpid(pid, &st, 0), pid);
        cr_assert(WIFEXITED(st));
        cr_assert_eq(WEXITSTATUS(st), 3, "the trap did not run: status %d", WEXITSTATUS(st));
        h_assert_clean(id, NULL);
}

Test(lifecycle, run_detach_and_keep)
{
        const char *id = h_id("detach");
        struct timespec t0, t1;
        clock_gettime(CLOCK_MONOTONIC, &t0);
        h_start_detached(id, h_bundle(&(struct h_cfg){ .args = SLEEPER }));
        clock_gettime(CLOCK_MONOTONIC, &t1);
        cr_assert_lt(t1.tv_sec - t0.tv_sec, 3, "run --detach did not return");
        cr_assert(h_wait_status(id, "running", 0));

        const char *id2 = h_id("keep");
        struct h_res r;
        HUSK(&r, "run", "--keep", "-b", h_bundle(NULL), id2);
        H_OK(&r);
        h_res_free(&r);
        cr_assert(h_wait_status(id2, "stopped", 0), "--keep must leave the stopped container");
}

Test(lifecycle, pid_file)
{
        const char *id = h_id("pidfile");
        const char *pf = h_path("pid");
        struct h_res r;
        HUSK(&r, "create", "--pid-file", pf, "--bundle", h_bundle(&(struct h_cfg){ .args = SLEEPER }), id);
        H_OK(&r);
        h_res_free(&r);
        char *s = h_read(pf);
        cr_assert_not_null(s);
        yajl_val st = h_state(id);
        cr_assert_eq(strtoll(s, NULL, 10), h_jint(st, "pid"));
        free(s);
        yajl_tree_free(st);
}

Test(lifecycle, bundle_defaults_to_cwd)
{
        const char *id = h_id("cwd");
        struct h_res r;
        HUSK_O(&r, &((struct h_opts){ .fd3 = -1, .cwd = h_bundle(&(struct h_cfg){ .args = "[\"sh\",\"-c\",\"echo here\"]" }) }),
               "run", id);
        H_OK(&r);
        cr_assert_str_eq(r.out, "here\n");
        h_res_free(&r);
}

Test(lifecycle, list_table_json_quiet)
{
        const char *a = h_id("lista"), *b = h_id("listb");
        h_start_detached(a, h_bundle(&(struct h_cfg){ .args = SLEEPER }));
        struct h_res r;
        HUSK(&r, "create", "-b", h_bundle(&(struct h_cfg){ .args = SLEEPER }), b);
        H_OK(&r);
        h_res_free(&r);

        HUSK(&r, "list");
        H_OK(&r);
        H_HAS(r.out, "ID");
        H_HAS(r.out, "STATUS");
        H_HAS(r.out, a);
        H_HAS(r.out, "running");
        H_HAS(r.out, "created");
        h_res_free(&r);

        HUSK(&r, "list", "-q");
        H_OK(&r);
        char want[256];
        snprintf(want, sizeof want, "%s\n%s\n", a, b);
        cr_assert_str_eq(r.out, want);
        h_res_free(&r);

        HUSK(&r, "ps", "--format", "json");
        H_OK(&r);
        char eb[256];
        yajl_val v = yajl_tree_parse(r.out, eb, sizeof eb);
        cr_assert(v && YAJL_IS_ARRAY(v), "not a JSON array: %s", r.out);
        cr_assert_eq(v->u.array.len, 2);
        yajl_val e0 = v->u.array.values[0], e1 = v->u.array.values[1];
        cr_assert_str_eq(h_jstr(e0, "id"), a);
        cr_assert_str_eq(h_jstr(e0, "status"), "running");
        cr_assert_gt(h_jint(e0, "pid"), 0);
        cr_assert_not_null(h_jstr(e0, "bundle"));
        cr_assert_str_eq(h_jstr(e1, "status"), "created");
        yajl_tree_free(v);
        h_res_free(&r);

        HUSK(&r, "list", "--format", "yaml");
        h_assert_fail(&r, "yaml");
        h_res_free(&r);
}

Test(lifecycle, list_of_missing_root_is_empty)
{
        struct h_res r;
        HUSK(&r, "list", "--format=json");
        H_OK(&r);
        cr_assert_str_eq(r.out, "[]\n");
        h_res_free(&r);
}

Test(lifecycle, default_root_is_run_husk)
{
        const char *id = h_id("defroot");
        struct h_res r;
        HUSK_O(&r, &((struct h_opts){ .fd3 = -1, .no_root = true }), "create", "-b",
               h_bundle(&(struct h_cfg){ .args = SLEEPER }), id);
        H_OK(&r);
        h_res_free(&r);
        char p[PATH_MAX];
        snprintf(p, sizeof p, "/run/husk/%s/state.json", id);
        bool there = access(p, F_OK) == 0;
        HUSK_O(&r, &((struct h_opts){ .fd3 = -1, .no_root = true }), "delete", "--force", id);
        H_OK(&r);
        h_res_free(&r);
        cr_assert(there, "%s missing", p);
        snprintf(p, sizeof p, "/run/husk/%s", id);
        cr_assert(access(p, F_OK) < 0);
}

Test(lifecycle, version_and_help)
{
        struct h_res r;
        HUSK(&r, "--version");
        H_OK(&r);
        H_HAS(r.out, "husk version");
        H_HAS(r.out, "spec: 1.");
        h_res_free(&r);
        HUSK(&r, "-v");
        H_OK(&r);
        H_HAS(r.out, "husk version");
        h_res_free(&r);
        HUSK(&r, "--help");
        H_OK(&r);
        H_HAS(r.out, "Usage: husk");
        h_res_free(&r);
        const char *cmds[] = { "create", "start", "run", "kill", "delete", "state", "list", "ps", "spec",
                               "features", "checkpoint", "restore" };
        for (size_t i = 0; i < sizeof cmds / sizeof cmds[0]; i++) {
                char want[64];
                snprintf(want, sizeof want, "Usage: husk %s", cmds[i]);
                HUSK(&r, cmds[i], "--help");
                H_OK(&r);
                H_HAS(r.out, want);
                h_res_free(&r);
                HUSK(&r, cmds[i], "-h");
                H_OK(&r);
                H_HAS(r.out, want);
                h_res_free(&r);
        }
}

Test(lifecycle, usage_errors)
{
        struct h_res r;
        HUSK(&r, "frobnicate");
        h_assert_fail(&r, "unknown command 'frobnicate'");
        h_res_free(&r);
        HUSK(&r, "--frob", "list");
        h_assert_fail(&r, "--frob");
        h_res_free(&r);
        HUSK(&r, "start");
        h_assert_fail(&r, "missing container id");
        h_res_free(&r);
        HUSK(&r, "create", "--bogus", "x");
        h_assert_fail(&r, "create");
        h_res_free(&r);
        HUSK(&r, "state", "nosuch");
        h_assert_fail(&r, "'nosuch' does not exist");
        h_res_free(&r);
        HUSK(&r, "--log-format", "xml", "list");
        h_assert_fail(&r, "xml");
        h_res_free(&r);
        HUSK(&r, "checkpoint", "x");
        h_assert_fail(&r, "not supported");
        h_res_free(&r);
}

Test(lifecycle, log_text_and_json)
{
        const char *lt = h_path("log.txt"), *lj = h_path("log.json");
        struct h_res r;
        HUSK(&r, "--log", lt, "state", "nosuch");
        h_assert_fail(&r, "does not exist");
        h_res_free(&r);
        char *s = h_read(lt);
        H_HAS(s, "level=error");
        H_HAS(s, "nosuch");
        free(s);

        HUSK(&r, "--log", lj, "--log-format", "json", "state", "nosuch");
        h_assert_fail(&r, "does not exist");
        h_res_free(&r);
        HUSK(&r, "--log=" , "list");
        h_res_free(&r);
        s = h_read(lj);
        cr_assert_not_null(s);
        char eb[256];
        yajl_val v = yajl_tree_parse(s, eb, sizeof eb);
        cr_assert_not_null(v, "not one JSON record: %s", s);
        cr_assert_str_eq(h_jstr(v, "level"), "error");
        H_HAS(h_jstr(v, "msg"), "'nosuch' does not exist");
        cr_assert_not_null(h_jstr(v, "time"));
        yajl_tree_free(v);
        free(s);

        /* --debug is accepted; a container still runs. */
        HUSK(&r, "--debug", "--log", lt, "run", "-b", h_bundle(NULL), h_id("dbg"));
        H_OK(&r);
        h_res_free(&r);
}

Test(lifecycle, systemd_cgroup_is_accepted_with_a_warning)
{
        struct h_res r;
        HUSK(&r, "--systemd-cgroup", "run", "-b", h_bundle(NULL), h_id("sd"));
        H_OK(&r);
        H_HAS(r.err, "--systemd-cgroup");
        H_HAS(r.err, "not supported");
        h_res_free(&r);
}

Test(lifecycle, spec_parses_and_runs)
{
        const char *dir = h_path("specb");
        cr_assert_eq(mkdir(dir, 0755), 0);
        struct h_res r;
        HUSK(&r, "spec", "--bundle", dir);
        H_OK(&r);
        h_res_free(&r);
        HUSK(&r, "spec", "-b", dir);
        h_assert_fail(&r, "config.json");
        h_res_free(&r);
        char p[PATH_MAX];
        snprintf(p, sizeof p, "%s/config.json", dir);
        char *json = h_read(p);
        cr_assert_not_null(json);
        struct oci_config *cfg = NULL;
        herr_t err = { 0 };
        cr_assert_eq(oci_config_parse(json, strlen(json), &cfg, &err), 0, "%s", err.msg);
        cr_assert_eq(oci_config_validate_runnable(cfg, &err), 0, "%s", err.msg);
        cr_assert(cfg->process->terminal);
        cr_assert_str_eq(cfg->root->path, "rootfs");
        oci_config_free(cfg);
        /* terminal false, args replaced: runnable as is through husk. */
        char *t = strstr(json, "\"terminal\": true");
        cr_assert_not_null(t);
        memcpy(t, "\"terminal\":false", 16);
        char *a = strstr(json, "\"sh\"");
        cr_assert_not_null(a);
        char *out = NULL;
        cr_assert(asprintf(&out, "%.*s\"sh\",\"-c\",\"echo spec-ok; id -u\"%s", (int)(a - json), json,
                           a + 4) > 0);
        h_write(p, out, 0644);
        free(out);
        free(json);
        snprintf(p, sizeof p, "%s/rootfs", dir);
        cr_assert_eq(symlink(h_rootfs(), p), 0);
        HUSK(&r, "run", "-b", dir, h_id("spec"));
        H_OK(&r);
        cr_assert_str_eq(r.out, "spec-ok\n0\n");
        h_res_free(&r);

        const char *dir2 = h_path("specr");
        cr_assert_eq(mkdir(dir2, 0755), 0);
        HUSK_O(&r, &((struct h_opts){ .fd3 = -1, .cwd = dir2 }), "spec", "--rootless");
        H_OK(&r);
        h_res_free(&r);
        snprintf(p, sizeof p, "%s/config.json", dir2);
        json = h_read(p);
        H_HAS(json, "uidMappings");
        /* The rootless config runs too (a user namespace mapping uid 0). */
        t = strstr(json, "\"terminal\": true");
        cr_assert_not_null(t);
        memcpy(t, "\"terminal\":false", 16);
        h_write(p, json, 0644);
        free(json);
        snprintf(p, sizeof p, "%s/rootfs", dir2);
        cr_assert_eq(symlink(h_rootfs(), p), 0);
        HUSK_O(&r, &((struct h_opts){ .fd3 = -1, .stdin_data = "cat /proc/self/uid_map\n" }), "run", "-b", dir2,
               h_id("specr"));
        H_OK(&r);
        unsigned m0, m1, m2;
        cr_assert_eq(sscanf(r.out, "%u %u %u", &m0, &m1, &m2), 3, "%s", r.out);
        cr_assert_eq(m2, 1);
        h_res_free(&r);
}

Test(lifecycle, features_json)
{
        struct h_res r;
        HUSK(&r, "features");
        H_OK(&r);
        char eb[256];
        yajl_val v = yajl_tree_parse(r.out, eb, sizeof eb);
        cr_assert_not_null(v, "%s", eb);
        cr_assert_not_null(h_jstr(v, "ociVersionMin"));
        cr_assert_not_null(h_jstr(v, "ociVersionMax"));
        const char *np[] = { "linux", "namespaces", NULL };
        yajl_val ns = yajl_tree_get(v, np, yajl_t_array);
        cr_assert_not_null(ns);
        bool time_ns = false;
        for (size_t i = 0; i < ns->u.array.len; i++)
                time_ns |= !strcmp(h_s(YAJL_GET_STRING(ns->u.array.values[i])), "time");
        cr_assert(time_ns);
        yajl_tree_free(v);
        h_res_free(&r);
}

Test(lifecycle, concurrent_commands_are_serialised)
{
        /* Two creates of one id at once: exactly one wins, the loser leaves
         * the winner's state alone. */
        const char *id = h_id("race");
        const char *b = h_bundle(&(struct h_cfg){ .args = SLEEPER });
        pid_t kids[4];
        for (int i = 0; i < 4; i++) {
                kids[i] = fork();
                if (kids[i] == 0) {
                        struct h_res r;
                        HUSK(&r, "create", "-b", b, id);
                        _exit(r.status == 0 ? 0 : 1);
                }
        }
        int ok = 0;
        for (int i = 0; i < 4; i++) {
                int st;
                waitpid(kids[i], &st, 0);
                ok += WIFEXITED(st) && WEXITSTATUS(st) == 0;
        }
        cr_assert_eq(ok, 1);
        cr_assert(h_wait_status(id, "created", 0));
}

Test(lifecycle, runc_create_flags_are_accepted)
{
        const char *id = h_id("flags");
        struct h_res r;
        HUSK(&r, "run", "--no-new-keyring", "--no-pivot", "--preserve-fds", "0", "--bundle",
             h_bundle(&(struct h_cfg){ .args = "[\"sh\",\"-c\",\"echo flags-ok\"]" }), id);
        H_OK(&r);
        cr_assert_str_eq(r.out, "flags-ok\n");
        h_res_free(&r);
        h_assert_clean(id, NULL);
}

Test(lifecycle, created_container_rules)
{
        const char *id = h_id("createdrules");
        struct h_res r;
        HUSK(&r, "create", "-b", h_bundle(&(struct h_cfg){ .args = SLEEPER }), id);
        H_OK(&r);
        h_res_free(&r);
        /* runtime.md: delete of a container that is not stopped fails and
         * has no effect. */
        HUSK(&r, "delete", id);
        h_assert_fail(&r, "created");
        h_res_free(&r);
        cr_assert(h_wait_status(id, "created", 0));
        /* kill works on a created container. */
        HUSK(&r, "kill", id, "KILL");
        H_OK(&r);
        h_res_free(&r);
        cr_assert(h_wait_status(id, "stopped", 5000));
        HUSK(&r, "start", id);
        h_assert_fail(&r, "stopped");
        h_res_free(&r);
        HUSK(&r, "delete", id);
        H_OK(&r);
        h_res_free(&r);
        h_assert_clean(id, NULL);
}

Test(lifecycle, start_of_a_running_container_fails)
{
        const char *id = h_id("startrunning");
        h_start_detached(id, h_bundle(&(struct h_cfg){ .args = SLEEPER }));
        struct h_res r;
        HUSK(&r, "start", id);
        h_assert_fail(&r, "running");
        h_res_free(&r);
        cr_assert(h_wait_status(id, "running", 0));
}

Test(lifecycle, container_is_in_its_cgroup_and_it_goes_away)
{
        const char *id = h_id("cgpath");
        char *def = h_default_cgroup(id);
        char *parent = strdup(def);
        *strrchr(parent, '/') = '\0';
        *strrchr(parent, '/') = '\0';
        char cp[512];
        snprintf(cp, sizeof cp, ",\"cgroupsPath\":\"husk-it-%d/%s\"", (int)getpid(), id);
        h_start_detached(id, h_bundle(&(struct h_cfg){ .args = SLEEPER, .linux_extra = cp }));
        char *cg = h_cgroup_of(id);
        char want[PATH_MAX];
        snprintf(want, sizeof want, "%s/husk-it-%d/%s", parent, (int)getpid(), id);
        cr_assert_str_eq(h_s(cg), want);
        yajl_val st = h_state(id);
        char procs[PATH_MAX + 32], pid[32];
        snprintf(procs, sizeof procs, "%s/cgroup.procs", cg);
        snprintf(pid, sizeof pid, "%lld\n", h_jint(st, "pid"));
        yajl_tree_free(st);
        char *p = h_read(procs);
        H_HAS(p, pid);
        free(p);
        struct h_res r;
        HUSK(&r, "delete", "--force", id);
        H_OK(&r);
        h_res_free(&r);
        h_assert_clean(id, cg);
        /* Like runc, husk leaves the intermediate cgroups of a custom
         * cgroupsPath (only its default <own>/husk parent is its own). */
        snprintf(want, sizeof want, "%s/husk-it-%d", parent, (int)getpid());
        rmdir(want);
        free(cg);
        free(def);
        free(parent);
}

Test(lifecycle, run_passes_stdin_through)
{
        struct h_res r;
        HUSK_O(&r, &((struct h_opts){ .fd3 = -1, .stdin_data = "line one\nline two\n" }), "run", "-b",
               h_bundle(&(struct h_cfg){ .args = "[\"sh\",\"-c\",\"cat; exit 3\"]" }), h_id("stdin"));
        cr_assert_eq(r.status, 3);
        cr_assert_str_eq(r.out, "line one\nline two\n");
        h_res_free(&r);
}

Test(lifecycle, longest_id)
{
        char id[256];
        memset(id, 'x', 255);
        id[255] = '\0';
        memcpy(id, h_id("l"), strlen(h_id("l")));
        struct h_res r;
        HUSK(&r, "run", "-b", h_bundle(&(struct h_cfg){ .args = "[\"sh\",\"-c\",\"echo long\"]" }), id);
        H_OK(&r);
        cr_assert_str_eq(r.out, "long\n");
        h_res_free(&r);
        h_assert_clean(id, NULL);
}

Test(lifecycle, damaged_state_dir)
{
        /* A create that died half-way: a state dir without state.json. */
        char d[PATH_MAX];
        mkdir(h_root, 0711);
        snprintf(d, sizeof d, "%s/half", h_root);
        cr_assert_eq(mkdir(d, 0700), 0);
        struct h_res r;
        HUSK(&r, "list", "-q");
        H_OK(&r);
        cr_assert_str_eq(r.out, "half\n");
        h_res_free(&r);
        HUSK(&r, "delete", "half");
        h_assert_fail(&r, "half");
        h_res_free(&r);
        HUSK(&r, "delete", "--force", "half");
        H_OK(&r);
        h_res_free(&r);
        cr_assert(access(d, F_OK) < 0);
}

Test(lifecycle, log_json_records_warnings)
{
        const char *lj = h_path("warn.json");
        struct h_res r;
        HUSK(&r, "--log", lj, "--log-format=json", "--systemd-cgroup", "list");
        H_OK(&r);
        h_res_free(&r);
        char *s = h_read(lj);
        char eb[256];
        yajl_val v = s ? yajl_tree_parse(s, eb, sizeof eb) : NULL;
        cr_assert_not_null(v, "%s", s);
        cr_assert_str_eq(h_s(h_jstr(v, "level")), "warning");
        H_HAS(h_jstr(v, "msg"), "systemd-cgroup");
        yajl_tree_free(v);
        free(s);
}

Test(lifecycle, run_cleans_up_orphans_without_a_pid_namespace)
{
        const char *id = h_id("orphans");
        struct h_res r;
        struct timespec t0, t1;
        clock_gettime(CLOCK_MONOTONIC, &t0);
        HUSK(&r, "run", "-b",
             h_bundle(&(struct h_cfg){ .args = "[\"sh\",\"-c\",\"sleep 100 > /dev/null 2>&1 & exit 0\"]",
                                        .namespaces = "[{\"type\":\"mount\"}]" }),
             id);
        clock_gettime(CLOCK_MONOTONIC, &t1);
        H_OK(&r);
        h_res_free(&r);
        cr_assert_lt(t1.tv_sec - t0.tv_sec, 5, "run waited for the orphan");
        h_assert_clean(id, NULL);
}

Test(lifecycle, delete_of_a_stopped_container_kills_its_orphans)
{
        const char *id = h_id("stoppedorphans");
        h_start_detached(id, h_bundle(&(struct h_cfg){ .args = "[\"sh\",\"-c\",\"sleep 100 > /dev/null 2>&1 & exit 0\"]",
                                                       .namespaces = "[{\"type\":\"mount\"}]" }));
        char *cg = h_cgroup_of(id);
        cr_assert(h_wait_status(id, "stopped", 5000));
        char procs[PATH_MAX + 32];
        snprintf(procs, sizeof procs, "%s/cgroup.procs", cg);
        char *p = h_read(procs);
        cr_assert(p && *p, "the orphan sleep should still be in %s", procs);
        free(p);
        struct h_res r;
        HUSK(&r, "delete", id);
        H_OK(&r);
        h_res_free(&r);
        h_assert_clean(id, cg);
        free(cg);
}
