/* Load: many lifecycles in a row and in parallel on one --root. Counts of
 * mounts, cgroups, processes, zombies and state entries are measured
 * before and after and must match. HUSK_LONG=1: 1,000 cycles (CI). */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "test_hardening_util.h"

static struct hk h;

static void teardown(void)
{
        hk_done(&h);
}

TestSuite(load, .fini = teardown, .timeout = 900);

static int cgroups_with_tag(const char *tag)
{
        char cg[512];
        hk_cgroup_dir("x", cg, sizeof cg);
        char *slash = strrchr(cg, '/');
        if (!cg[0] || !slash)
                return 0;
        *slash = '\0';
        char *o = NULL;
        hk_sh(&o, "ls %s 2>/dev/null | grep -c '^%s'", cg, tag);
        int n = atoi(o);
        free(o);
        return n;
}

static int fds_of_self(void)
{
        char *o = NULL;
        hk_sh(&o, "ls /proc/%d/fd | wc -l", (int)getpid());
        int n = atoi(o);
        free(o);
        return n;
}

static void expect_same(const struct hk_counts *a, const struct hk_counts *b, int cga, int cgb)
{
        cr_expect_eq(b->mounts, a->mounts, "mounts %d -> %d", a->mounts, b->mounts);
        cr_expect_eq(b->state, a->state, "state entries %d -> %d", a->state, b->state);
        cr_expect_eq(b->procs_tag, a->procs_tag, "processes %d -> %d", a->procs_tag, b->procs_tag);
        cr_expect_eq(b->zombies, 0, "zombies: %d", b->zombies);
        cr_expect_eq(cgb, cga, "cgroups %d -> %d", cga, cgb);
}

Test(load, create_start_delete_cycles)
{
        hk_init(&h, false);
        int n = getenv("HUSK_LONG") ? 1000 : 200;
        hk_config(&h, &(struct hk_cfg){ .args = "\"true\"" });
        struct hk_counts a, b;
        hk_counts(&h, h.tag, &a);
        int cga = cgroups_with_tag(h.tag), fda = fds_of_self();
        /* one shell per batch keeps the test's own overhead low */
        char script[400];
        snprintf(script, sizeof script, "%s/cycles.sh", h.dir);
        FILE *f = fopen(script, "w");
        cr_assert_not_null(f);
        fprintf(f, "set -e\nH=\"$1\"; R=\"$2\"; B=\"$3\"; T=\"$4\"; N=$5\n"
                   "i=0; while [ $i -lt $N ]; do\n"
                   "  $H --root $R create --bundle $B $T-$i >/dev/null\n"
                   "  $H --root $R start $T-$i\n"
                   "  $H --root $R delete --force $T-$i\n"
                   "  i=$((i+1))\n"
                   "done\necho CYCLES-DONE\n");
        fclose(f);
        char *out = NULL;
        int rc = hk_sh(&out, "sh %s %s %s %s %s %d", script, hk_husk(), h.root, h.bundle, h.tag, n);
        cr_assert_eq(rc, 0, "cycles failed: %s", out);
        cr_assert_not_null(strstr(out, "CYCLES-DONE"), "%s", out);
        free(out);
        hk_counts(&h, h.tag, &b);
        expect_same(&a, &b, cga, cgroups_with_tag(h.tag));
        cr_expect_eq(fds_of_self(), fda);
        char *l = NULL;
        hk_run(&h, NULL, &l, "list -q");
        cr_expect_null(strstr(l, h.tag), "list: %s", l);
        free(l);
}

/* 50 lifecycles (husk run) at once on one --root: all succeed, nothing
 * left. */
Test(load, parallel_lifecycles_one_root)
{
        hk_init(&h, false);
        hk_config(&h, &(struct hk_cfg){ .args = "\"sh\",\"-c\",\"echo ok\"" });
        struct hk_counts a, b;
        hk_counts(&h, h.tag, &a);
        int cga = cgroups_with_tag(h.tag);
        enum { N = 50 };
        pid_t kids[N];
        for (int i = 0; i < N; i++) {
                kids[i] = fork();
                cr_assert_geq(kids[i], 0);
                if (kids[i] == 0) {
                        char *out = NULL;
                        int rc = hk_run(&h, NULL, &out, "run --bundle %s @p%d", h.bundle, i);
                        if (rc != 0 || !strstr(out, "ok")) {
                                fprintf(stderr, "run p%d: rc %d: %s\n", i, rc, out);
                                _exit(1);
                        }
                        /* run deletes what it ran (no --keep) */
                        rc = hk_run(&h, NULL, &out, "state @p%d", i);
                        if (rc == 0) {
                                fprintf(stderr, "p%d left after run: %s\n", i, out);
                                _exit(2);
                        }
                        _exit(0);
                }
        }
        int failed = 0;
        for (int i = 0; i < N; i++) {
                int st;
                cr_assert_eq(waitpid(kids[i], &st, 0), kids[i]);
                failed += !(WIFEXITED(st) && WEXITSTATUS(st) == 0);
        }
        cr_expect_eq(failed, 0, "%d of %d lifecycles failed", failed, N);
        hk_counts(&h, h.tag, &b);
        expect_same(&a, &b, cga, cgroups_with_tag(h.tag));
}

/* Concurrent commands on one id: one create wins, the others fail cleanly;
 * one start wins; concurrent deletes leave no state and no error other
 * than "does not exist". */
static int race(int n, const char *fmt)
{
        pid_t kids[16];
        for (int i = 0; i < n; i++) {
                kids[i] = fork();
                cr_assert_geq(kids[i], 0);
                if (kids[i] == 0)
                        _exit(hk_run(&h, NULL, NULL, fmt, h.bundle) == 0 ? 0 : 1);
        }
        int ok = 0;
        for (int i = 0; i < n; i++) {
                int st;
                waitpid(kids[i], &st, 0);
                ok += WIFEXITED(st) && WEXITSTATUS(st) == 0;
        }
        return ok;
}

Test(load, concurrent_commands_same_id)
{
        hk_init(&h, false);
        hk_config(&h, &(struct hk_cfg){ .args = "\"sleep\",\"60\"" });
        struct hk_counts a, b;
        hk_counts(&h, h.tag, &a);
        int cga = cgroups_with_tag(h.tag);
        for (int round = 0; round < 5; round++) {
                cr_expect_eq(race(8, "create --bundle %s @same"), 1, "round %d: creates", round);
                char *st = NULL;
                cr_expect_eq(hk_run(&h, NULL, &st, "state @same"), 0, "%s", st);
                cr_expect_not_null(strstr(st, "\"created\""), "%s", st);
                free(st);
                cr_expect_eq(race(8, "start @same %.0s"), 1, "round %d: starts", round);
                st = NULL;
                cr_expect_eq(hk_run(&h, NULL, &st, "state @same"), 0, "%s", st);
                cr_expect_not_null(strstr(st, "\"running\""), "%s", st);
                free(st);
                race(8, "delete --force @same %.0s");
                cr_expect_neq(hk_run(&h, NULL, NULL, "state @same"), 0, "round %d: still exists", round);
        }
        hk_counts(&h, h.tag, &b);
        expect_same(&a, &b, cga, cgroups_with_tag(h.tag));
}
