/* cgroup v2 limits enforced on real husk containers, proven in a pure-v2 VM.
 *
 * This host is hybrid (only hugetlb in v2), so the test boots the test VM ONCE
 * (tests/vm/run-in-vm.sh: QEMU microvm, host root read-only over 9p,
 * cgroup_no_v1=all, KVM when the probe says it works, else TCG) and runs
 * tests/cgroups-vm/suite.sh in it as root. The suite prints one
 * "PASS name: ..." / "FAIL name: ..." / "SKIP name: ..." line per check and a
 * "SUITE pass=N fail=N skip=N secs=N" summary; this test asserts that every
 * expected check passed. Skipped when QEMU, the VM kernel (make vm-kernel
 * HUSK_DATA_DIR=build/data) or the agent is missing.
 * env: HUSK (abs ./husk, at the top of the tree), HUSK_ROOTFS,
 *      HUSK_DATA_DIR (default <top>/build/data). */
#include <criterion/criterion.h>
#include <errno.h>
#include <libgen.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#if defined(__SANITIZE_ADDRESS__)
#define CGVM_VARIANT "san"
#else
#define CGVM_VARIANT "release"
#endif

/* Every check the suite must report as PASS. */
static const char *const expected[] = {
        "memory", "pids", "cpu", "update", "freeze", "kill", "kill-all", "devices",
        "bad-unified", "bad-unified-owned", "bad-negative-memory", "bad-negative-pids",
        "bad-huge-cpu", "bad-dotdot", "bad-owned", "nolimits",
        "enforce-memory", "enforce-pids", "enforce-cpu", "enforce-update", "enforce-freeze",
        "enforce-devices",
};

static bool file_ok(const char *path, int mode)
{
        return access(path, mode) == 0;
}

/* The line "PASS name: ..." (or FAIL/SKIP) for name, NULL if absent. */
static const char *find_line(const char *out, const char *name, char *kind, size_t ksize)
{
        size_t n = strlen(name);
        for (const char *l = out; l && *l; l = strchr(l, '\n'), l = l ? l + 1 : NULL) {
                const char *sp = strchr(l, ' ');
                if (!sp || sp - l > 4)
                        continue;
                if (strncmp(l, "PASS ", 5) && strncmp(l, "FAIL ", 5) && strncmp(l, "SKIP ", 5))
                        continue;
                if (strncmp(sp + 1, name, n) || sp[1 + n] != ':')
                        continue;
                snprintf(kind, ksize, "%.4s", l);
                return l;
        }
        return NULL;
}

Test(cgroups_vm, limits_enforced_in_pure_v2_vm, .timeout = 900)
{
        if (geteuid() != 0)
                cr_skip_test("needs root");
        const char *husk = getenv("HUSK"), *rootfs = getenv("HUSK_ROOTFS");
        if (!husk || !rootfs)
                cr_skip_test("HUSK and HUSK_ROOTFS must be set (make integration sets them)");
        char top[PATH_MAX], tmp[PATH_MAX], rootabs[PATH_MAX], huskabs[PATH_MAX];
        cr_assert_not_null(realpath(husk, huskabs), "HUSK=%s: %s", husk, strerror(errno));
        cr_assert_not_null(realpath(rootfs, rootabs), "HUSK_ROOTFS=%s: %s", rootfs, strerror(errno));
        snprintf(tmp, sizeof tmp, "%s", huskabs);
        snprintf(top, sizeof top, "%s", dirname(tmp));

        char data[PATH_MAX + 32], kernel[2 * PATH_MAX], script[2 * PATH_MAX], suite[2 * PATH_MAX],
                vmrun[2 * PATH_MAX], agent[2 * PATH_MAX], bin[2 * PATH_MAX];
        const char *d = getenv("HUSK_DATA_DIR");
        snprintf(data, sizeof data, "%s", d && *d ? d : "");
        if (!*data)
                snprintf(data, sizeof data, "%s/build/data", top);
        snprintf(kernel, sizeof kernel, "%s/kernel/current/vmlinux", data);
        snprintf(script, sizeof script, "%s/tests/vm/run-in-vm.sh", top);
        snprintf(suite, sizeof suite, "%s/tests/cgroups-vm/suite.sh", top);
        snprintf(vmrun, sizeof vmrun, "%s/build/" CGVM_VARIANT "/vmrun", top);
        snprintf(agent, sizeof agent, "%s/build/vm/husk-agent", top);
        snprintf(bin, sizeof bin, "%s/build/" CGVM_VARIANT "/cgroups-vm", top);

        if (system("command -v qemu-system-x86_64 >/dev/null 2>&1") != 0)
                cr_skip_test("qemu-system-x86_64 not installed (apt-get install qemu-system-x86)");
        if (!file_ok(kernel, R_OK))
                cr_skip_test("no VM kernel in %s: run `make vm-kernel HUSK_DATA_DIR=build/data`", data);
        if (!file_ok(script, R_OK) || !file_ok(suite, R_OK))
                cr_skip_test("%s or %s missing", script, suite);
        if (!file_ok(vmrun, X_OK) || !file_ok(agent, X_OK))
                cr_skip_test("%s or %s missing: run `make vm-tools`", vmrun, agent);
        cr_assert(file_ok(bin, X_OK), "%s missing: run `make cgroups-vm`", bin);

        /* The guest sees the host root read-only at the same paths. */
        char *cmd = NULL;
        cr_assert_gt(asprintf(&cmd,
                 "HUSK_DATA_DIR='%s' VMRUN='%s' HUSK_VM_AGENT='%s' VM_MEM=384 sh '%s' "
                 "\"HUSK='%s' HUSK_ROOTFS='%s' CGVM_BIN='%s' sh '%s'\" 2>&1",
                 data, vmrun, agent, script, huskabs, rootabs, bin, suite), 0);
        struct timespec t0, t1;
        clock_gettime(CLOCK_MONOTONIC, &t0);
        FILE *p = popen(cmd, "r");
        cr_assert_not_null(p, "popen: %s", strerror(errno));
        free(cmd);
        size_t cap = 1 << 16, len = 0;
        char *out = malloc(cap);
        cr_assert_not_null(out);
        size_t n;
        while ((n = fread(out + len, 1, cap - len - 1, p)) > 0) {
                len += n;
                if (cap - len < 4096) {
                        cap *= 2;
                        out = realloc(out, cap);
                        cr_assert_not_null(out);
                }
        }
        out[len] = '\0';
        int st = pclose(p);
        clock_gettime(CLOCK_MONOTONIC, &t1);
        double secs = (double)(t1.tv_sec - t0.tv_sec) + (double)(t1.tv_nsec - t0.tv_nsec) / 1e9;
        int rc = WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
        fprintf(stderr, "cgroups_vm: VM suite: exit %d, %.1f s wall (boot included)\n", rc, secs);

        cr_assert_neq(rc, 125, "the VM could not run the suite:\n%s", out);
        cr_assert_neq(rc, 77, "the suite found no usable cgroup v2 in the VM:\n%s", out);
        const char *sum = strstr(out, "SUITE pass=");
        cr_assert_not_null(sum, "no SUITE summary (exit %d):\n%s", rc, out);
        int failed_checks = 0;
        for (size_t i = 0; i < sizeof expected / sizeof expected[0]; i++) {
                char kind[8] = "";
                const char *l = find_line(out, expected[i], kind, sizeof kind);
                if (!l) {
                        cr_expect_not_null(l, "check '%s' did not report", expected[i]);
                        failed_checks++;
                        continue;
                }
                int ll = (int)strcspn(l, "\n");
                cr_expect_str_eq(kind, "PASS", "%.*s", ll, l);
                if (strcmp(kind, "PASS"))
                        failed_checks++;
        }
        /* No FAIL line at all, including checks this list does not know. */
        for (const char *l = out; l && *l; l = strchr(l, '\n'), l = l ? l + 1 : NULL)
                if (!strncmp(l, "FAIL ", 5)) {
                        cr_expect(0, "%.*s", (int)strcspn(l, "\n"), l);
                        failed_checks++;
                }
        cr_expect_eq(rc, 0, "suite exit %d", rc);
        /* The report is the proof: print it (all of it when something failed). */
        if (failed_checks || rc) {
                fprintf(stderr, "cgroups_vm: suite output:\n%s", out);
        } else {
                for (const char *l = out; l && *l; l = strchr(l, '\n'), l = l ? l + 1 : NULL)
                        if (!strncmp(l, "PASS ", 5) || !strncmp(l, "SKIP ", 5) || !strncmp(l, "SUITE ", 6))
                                fprintf(stderr, "cgroups_vm: %.*s\n", (int)strcspn(l, "\n"), l);
        }
        free(out);
}
