/* Crash recovery: husk (the FAULTS=1 build, HUSK_FAULTS_BIN) is killed with
 * SIGKILL at each named fault point (runtime/fault.h); then `husk delete
 * --force` and `husk list` must recover and leave nothing behind: no state
 * directory, cgroup, process, mount or zombie. Skipped without
 * HUSK_FAULTS_BIN (make integration builds and sets it). */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "test_hardening_util.h"

static struct hk h;

static void teardown(void)
{
        hk_done(&h);
}

TestSuite(faults, .fini = teardown, .timeout = 60);

static const char *faults_bin(void)
{
        const char *b = getenv("HUSK_FAULTS_BIN");
        if (!b || access(b, X_OK) < 0)
                cr_skip_test("HUSK_FAULTS_BIN not set (make integration builds it: make husk-faults)");
        return b;
}

/* Kill husk at point during the step (0 create, 1 start, 2 delete). */
static void crash_at(const char *point, int step)
{
        const char *fb = faults_bin();
        hk_init(&h, false);
        hk_config(&h, &(struct hk_cfg){ .args = "\"sleep\",\"600\"" });
        struct hk_counts before, after;
        hk_counts(&h, h.tag, &before);
        char fh[600];
        snprintf(fh, sizeof fh, "env HUSK_FAULT=%s %s", point, fb);
        char *out = NULL;
        int rc;
        if (step > 0) {
                rc = hk_run(&h, fb, &out, "create --bundle %s @c", h.bundle);
                cr_assert_eq(rc, 0, "create: %s", out);
                free(out);
        }
        if (step > 1) {
                rc = hk_run(&h, fb, &out, "start @c");
                cr_assert_eq(rc, 0, "start: %s", out);
                free(out);
        }
        const char *cmd = step == 0 ? "create --bundle %s @c" : step == 1 ? "start @c" : "delete --force @c";
        char full[200];
        snprintf(full, sizeof full, cmd, h.bundle);
        rc = hk_run(&h, fh, &out, "%s", full);
        cr_assert_eq(rc, 137, "husk was not killed at %s (rc %d): %s", point, rc, out);
        cr_assert_not_null(strstr(out, point), "%s", out);
        free(out);

        /* recovery with the release husk */
        rc = hk_run(&h, NULL, &out, "delete --force @c");
        cr_expect_eq(rc, 0, "delete --force after %s: %s", point, out);
        free(out);
        rc = hk_run(&h, NULL, &out, "list");
        cr_expect_eq(rc, 0, "list after %s: %s", point, out);
        cr_expect_null(strstr(out, h.tag), "list still shows the container: %s", out);
        free(out);
        char p[600];
        snprintf(p, sizeof p, "%s/%sc", h.root, h.tag);
        cr_expect_neq(access(p, F_OK), 0, "state dir left behind after %s", point);
        char id[64], cg[512];
        snprintf(id, sizeof id, "%sc", h.tag);
        hk_cgroup_dir(id, cg, sizeof cg);
        if (cg[0])
                cr_expect_neq(access(cg, F_OK), 0, "cgroup %s left behind after %s", cg, point);
        for (int i = 0; i < 50 && hk_procs_with(id) > 0; i++)
                usleep(100000);
        hk_counts(&h, h.tag, &after);
        cr_expect_eq(after.procs_tag, 0, "processes left behind after %s", point);
        cr_expect_eq(after.mounts, before.mounts, "mounts after %s: %d -> %d", point, before.mounts,
                     after.mounts);
        cr_expect_eq(after.state, 0, "state entries left after %s", point);
        cr_expect_eq(after.zombies, 0, "zombies after %s", point);
}

Test(faults, create_after_statedir) { crash_at("create.after-statedir", 0); }
Test(faults, create_after_cgroup) { crash_at("create.after-cgroup", 0); }
Test(faults, create_after_spawn) { crash_at("create.after-spawn", 0); }
Test(faults, create_after_state) { crash_at("create.after-state", 0); }
Test(faults, start_before_exec) { crash_at("start.before-exec", 1); }
Test(faults, delete_after_kill) { crash_at("delete.after-kill", 2); }

/* A release build ignores HUSK_FAULT entirely. */
Test(faults, release_build_ignores_fault_env)
{
        hk_init(&h, false);
        hk_config(&h, &(struct hk_cfg){ .args = "\"true\"" });
        char *out = NULL;
        char rh[600];
        snprintf(rh, sizeof rh, "env HUSK_FAULT=create.after-cgroup %s", hk_husk());
        int rc = hk_run(&h, rh, &out, "run --bundle %s @r", h.bundle);
        cr_expect_eq(rc, 0, "%s", out);
        free(out);
}
