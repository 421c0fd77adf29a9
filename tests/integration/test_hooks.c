/* Hooks: the six kinds, in order, with the state on stdin, env, args and
 * timeout; failing hooks stop the lifecycle and leave nothing behind. */
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "helpers.h"

TestSuite(hooks, .init = h_setup, .fini = h_teardown, .timeout = 60);

static char logdir[PATH_MAX];

/* A hook appending "NAME <env> <args> <stdin>" to LOG (a host path; in the
 * container /tmp/log/hooks.log for startContainer, which runs after pivot_root). */
static char *hook(const char *name, const char *log, const char *extra)
{
        char *h = NULL;
        cr_assert(asprintf(&h,
                           "{\"path\":\"/bin/sh\",\"args\":[\"sh\",\"-c\",\"echo %s $HOOKVAR $0 $(cat) >> %s%s\",\"a0\"],"
                           "\"env\":[\"HOOKVAR=hv-%s\"]}",
                           name, log, extra ? extra : "", name) > 0);
        return h;
}

static const char *hooks_json(const char *fail_kind, const char *fail_cmd)
{
        snprintf(logdir, sizeof logdir, "%s", h_path("logs"));
        mkdir(logdir, 0777);
        char log[PATH_MAX];
        snprintf(log, sizeof log, "%s/hooks.log", logdir);
        const char *kinds[] = { "prestart", "createRuntime", "createContainer", "startContainer", "poststart", "poststop" };
        static char json[16384];
        size_t n = (size_t)snprintf(json, sizeof json, ",\"hooks\":{");
        for (size_t i = 0; i < 6; i++) {
                char *h = hook(kinds[i], i == 3 ? "/tmp/log/hooks.log" : log, NULL);
                char *f = NULL;
                if (fail_kind && !strcmp(fail_kind, kinds[i]))
                        cr_assert(asprintf(&f, ",{\"path\":\"/bin/sh\",\"args\":[\"sh\",\"-c\",\"%s\"]%s}", fail_cmd,
                                           strstr(fail_cmd, "sleep") ? ",\"timeout\":1" : "") > 0);
                n += (size_t)snprintf(json + n, sizeof json - n, "%s\"%s\":[%s%s]", i ? "," : "", kinds[i], h,
                                      f ? f : "");
                free(h);
                free(f);
        }
        snprintf(json + n, sizeof json - n, "}");
        return json;
}

static const char *bundle_with_hooks(const char *args, const char *fail_kind, const char *fail_cmd)
{
        const char *top = hooks_json(fail_kind, fail_cmd);
        static char mounts[1024];
        snprintf(mounts, sizeof mounts, "{\"destination\":\"/tmp/log\",\"type\":\"bind\",\"source\":\"%s\",\"options\":[\"rbind\"]}",
                 logdir);
        return h_bundle(&(struct h_cfg){ .args = args, .top_extra = top, .mounts_extra = mounts });
}

static char **log_lines(size_t *n)
{
        char p[PATH_MAX + 16];
        snprintf(p, sizeof p, "%s/hooks.log", logdir);
        char *s = h_read(p);
        char **v = calloc(32, sizeof *v);
        *n = 0;
        for (char *l = s ? strtok(s, "\n") : NULL; l && *n < 31; l = strtok(NULL, "\n"))
                v[(*n)++] = strdup(l);
        free(s);
        return v;
}

Test(hooks, all_six_in_order_with_state_env_args)
{
        const char *id = h_id("hooks");
        const char *b = bundle_with_hooks("[\"sleep\",\"100\"]", NULL, NULL);
        struct h_res r;
        HUSK(&r, "create", "-b", b, id);
        H_OK(&r);
        h_res_free(&r);
        size_t n;
        char **l = log_lines(&n);
        cr_assert_eq(n, 3, "after create: prestart, createRuntime, createContainer; got %zu", n);
        yajl_val st = h_state(id);
        long long pid = h_jint(st, "pid");
        yajl_tree_free(st);
        HUSK(&r, "start", id);
        H_OK(&r);
        h_res_free(&r);
        HUSK(&r, "kill", id, "KILL");
        H_OK(&r);
        h_res_free(&r);
        cr_assert(h_wait_status(id, "stopped", 5000));
        HUSK(&r, "delete", id);
        H_OK(&r);
        h_res_free(&r);
        l = log_lines(&n);
        cr_assert_eq(n, 6, "expected 6 hook runs, got %zu", n);
        struct { const char *name, *status; } want[] = {
                { "prestart", "creating" },       { "createRuntime", "creating" }, { "createContainer", "creating" },
                { "startContainer", "created" }, { "poststart", "running" },      { "poststop", "stopped" },
        };
        for (size_t i = 0; i < 6; i++) {
                char pre[128], idk[256], st[64];
                snprintf(pre, sizeof pre, "%s hv-%s a0 {", want[i].name, want[i].name);
                cr_assert_eq(strncmp(l[i], pre, strlen(pre)), 0, "line %zu: %s (want %s...)", i, l[i], pre);
                snprintf(idk, sizeof idk, "\"id\":\"%s\"", id);
                H_HAS(l[i], idk);
                snprintf(st, sizeof st, "\"status\":\"%s\"", want[i].status);
                H_HAS(l[i], st);
                H_HAS(l[i], "\"bundle\":\"");
                H_HAS(l[i], "\"ociVersion\"");
                /* runtime.md: the pid as seen from the namespace the hook
                 * runs in (1 in the container's pid namespace). */
                char pidk[64];
                if (i == 2 || i == 3)
                        snprintf(pidk, sizeof pidk, "\"pid\":1,");
                else if (i == 5)
                        snprintf(pidk, sizeof pidk, "\"status\":\"stopped\"");
                else
                        snprintf(pidk, sizeof pidk, "\"pid\":%lld,", pid);
                H_HAS(l[i], pidk);
        }
        h_assert_clean(id, NULL);
}

Test(hooks, run_runs_them_all)
{
        const char *id = h_id("hooksrun");
        struct h_res r;
        HUSK(&r, "run", "-b", bundle_with_hooks("[\"true\"]", NULL, NULL), id);
        H_OK(&r);
        h_res_free(&r);
        size_t n;
        char **l = log_lines(&n);
        cr_assert_eq(n, 6);
        cr_assert_eq(strncmp(l[5], "poststop", 8), 0);
        h_assert_clean(id, NULL);
}

static void failing(const char *kind, const char *cmd, const char *what, bool at_start)
{
        const char *id = h_id("hookfail");
        const char *b = bundle_with_hooks("[\"sleep\",\"100\"]", kind, cmd);
        struct h_res r;
        struct timespec t0, t1;
        clock_gettime(CLOCK_MONOTONIC, &t0);
        if (at_start) {
                HUSK(&r, "create", "-b", b, id);
                H_OK(&r);
                h_res_free(&r);
                HUSK(&r, "start", id);
        } else {
                HUSK(&r, "create", "-b", b, id);
        }
        clock_gettime(CLOCK_MONOTONIC, &t1);
        char hk[64];
        snprintf(hk, sizeof hk, "hook %s[1]", kind);
        h_assert_fail(&r, hk);
        H_HAS(r.err, what);
        h_res_free(&r);
        cr_assert_lt(t1.tv_sec - t0.tv_sec, 4, "took %lds", (long)(t1.tv_sec - t0.tv_sec));
        if (at_start) {
                /* The container is stopped, then deleted. */
                cr_assert(h_wait_status(id, "stopped", 5000));
                HUSK(&r, "delete", id);
                H_OK(&r);
                h_res_free(&r);
        }
        h_assert_clean(id, NULL);
        /* runtime.md: the lifecycle goes on with delete: poststop runs. */
        size_t n;
        char **l = log_lines(&n);
        cr_assert_gt(n, 0);
        cr_assert_eq(strncmp(l[n - 1], "poststop", 8), 0, "last hook run: %s", l[n - 1]);
}

Test(hooks, failing_prestart) { failing("prestart", "exit 3", "exited with status 3", false); }
Test(hooks, failing_create_runtime) { failing("createRuntime", "exit 4", "exited with status 4", false); }
Test(hooks, failing_create_container) { failing("createContainer", "kill -9 $$", "killed by signal 9", false); }
Test(hooks, prestart_timeout) { failing("prestart", "sleep 10", "timed out", false); }
Test(hooks, failing_start_container) { failing("startContainer", "exit 5", "exited with status 5", true); }
Test(hooks, failing_poststart) { failing("poststart", "exit 6", "exited with status 6", true); }

Test(hooks, missing_hook_binary)
{
        const char *id = h_id("nohook");
        const char *b = h_bundle(&(struct h_cfg){
                .top_extra = ",\"hooks\":{\"prestart\":[{\"path\":\"/no/such/hook\"}]}" });
        struct h_res r;
        HUSK(&r, "run", "-b", b, id);
        h_assert_fail(&r, "/no/such/hook");
        h_res_free(&r);
        h_assert_clean(id, NULL);
}

Test(hooks, failing_poststop_only_warns)
{
        const char *id = h_id("poststopfail");
        const char *b = h_bundle(&(struct h_cfg){
                .top_extra = ",\"hooks\":{\"poststop\":[{\"path\":\"/bin/sh\",\"args\":[\"sh\",\"-c\",\"exit 9\"]}]}" });
        struct h_res r;
        HUSK(&r, "run", "-b", b, id);
        H_OK(&r);
        H_HAS(r.err, "poststop");
        h_res_free(&r);
        h_assert_clean(id, NULL);
}

/* runtime.md: while the container is being created, `state` answers
 * "creating" (a hook asking must not deadlock on the create's lock). */
Test(hooks, state_is_creating_during_create_hooks)
{
        const char *id = h_id("creating");
        const char *out = h_path("state-from-hook");
        char top[4096];
        snprintf(top, sizeof top,
                 ",\"hooks\":{\"createRuntime\":[{\"path\":\"%s\",\"args\":[\"husk\",\"--root\",\"%s\",\"state\",\"%s\"],"
                 "\"timeout\":3}]}",
                 h_husk(), h_root, id);
        /* The hook's stdout is husk's: capture it through a wrapper. */
        char script[8192];
        snprintf(script, sizeof script, "#!/bin/sh\n%s --root %s state %s > %s 2>&1\nexec %s --root %s list >> %s 2>&1\n",
                 h_husk(), h_root, id, out, h_husk(), h_root, out);
        const char *wrapper = h_path("state-hook.sh");
        h_write(wrapper, script, 0755);
        snprintf(top, sizeof top, ",\"hooks\":{\"createRuntime\":[{\"path\":\"%s\",\"timeout\":3}]}", wrapper);
        struct h_res r;
        HUSK(&r, "create", "-b", h_bundle(&(struct h_cfg){ .args = "[\"sleep\",\"100\"]", .top_extra = top }), id);
        H_OK(&r);
        h_res_free(&r);
        char *s = h_read(out);
        cr_assert_not_null(s);
        H_HAS(s, "\"status\": \"creating\"");
        /* list does not wait either. */
        char row[256];
        snprintf(row, sizeof row, "%s ", id);
        H_HAS(s, row);
        H_HAS(s, " creating ");
        free(s);
        cr_assert(h_wait_status(id, "created", 0));
}

/* config.md: prestart/createRuntime/poststart/poststop in the runtime
 * namespace, createContainer/startContainer in the container's. */
Test(hooks, namespaces_of_each_kind)
{
        snprintf(logdir, sizeof logdir, "%s", h_path("nslogs"));
        mkdir(logdir, 0777);
        char top[8192];
        const char *kinds[] = { "prestart", "createRuntime", "createContainer", "startContainer", "poststart", "poststop" };
        size_t n = (size_t)snprintf(top, sizeof top, ",\"hooks\":{");
        for (size_t i = 0; i < 6; i++)
                n += (size_t)snprintf(top + n, sizeof top - n,
                                      "%s\"%s\":[{\"path\":\"/bin/sh\",\"args\":[\"sh\",\"-c\",\"echo %s $(cat "
                                      "/proc/sys/kernel/hostname) >> %s/hooks.log\"]}]",
                                      i ? "," : "", kinds[i], kinds[i], i == 3 ? "/tmp/log" : logdir);
        snprintf(top + n, sizeof top - n, "}");
        char mounts[1024];
        snprintf(mounts, sizeof mounts, "{\"destination\":\"/tmp/log\",\"type\":\"bind\",\"source\":\"%s\",\"options\":[\"rbind\"]}",
                 logdir);
        struct h_res r;
        HUSK(&r, "run", "-b", h_bundle(&(struct h_cfg){ .hostname = "in-container", .top_extra = top, .mounts_extra = mounts }),
             h_id("hookns"));
        H_OK(&r);
        h_res_free(&r);
        char host[256];
        gethostname(host, sizeof host);
        size_t k;
        char **l = log_lines(&k);
        cr_assert_eq(k, 6);
        for (size_t i = 0; i < 6; i++) {
                char want[512];
                snprintf(want, sizeof want, "%s %s", kinds[i], i == 2 || i == 3 ? "in-container" : host);
                cr_assert_str_eq(l[i], want);
        }
}
