/* Native tests of the BPF device filter and hugetlb limits on this host's
 * v2 hierarchy, below <root>/husk-testdev-<pid>. Skipped when not root. */
#include <criterion/criterion.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/bpf.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include "../../cgroups/cgroups.h"
#include "../../common/cleanup.h"
#include "../../common/fileutil.h"

static char top[256];
static bool root_had_hugetlb = true;

static void setup(void)
{
        unsetenv("HUSK_CGROUP_ROOT");
        unsetenv("HUSK_CGROUP_SELF");
        if (geteuid() != 0 || !cg_root())
                cr_skip_test("needs root and a cgroup v2 hierarchy");
        snprintf(top, sizeof top, "%s/husk-testdev-%d", cg_root(), (int)getpid());
        herr_t e;
        cr_assert_eq(cg_create(top, NULL, &e), 0, "%s", e.msg);
}

static void teardown(void)
{
        herr_t e;
        if (top[0] && cg_destroy(top, &e) < 0)
                fprintf(stderr, "teardown: %s\n", e.msg);
        if (!root_had_hugetlb) {
                /* Give the root back as it was; EBUSY when another user needs it. */
                char p[300];
                snprintf(p, sizeof p, "%s/cgroup.subtree_control", cg_root());
                write_file_str(p, "-hugetlb", &e);
        }
}

TestSuite(cgroups_native_dev, .init = setup, .fini = teardown, .timeout = 60);

/* In a child in dir: 0 when open(path) gives want_errno (0 = success). */
static int try_open(const char *dir, const char *path, int want_errno)
{
        herr_t e;
        _cleanup_close_ int fd = cg_open(dir, &e);
        cr_assert_geq(fd, 0, "%s", e.msg);
        pid_t pid = cg_clone_into(fd, &e);
        cr_assert_geq(pid, 0, "%s", e.msg);
        if (pid == 0) {
                int f = open(path, O_RDONLY);
                int got = f >= 0 ? 0 : errno;
                _exit(got == want_errno ? 0 : 1);
        }
        int st;
        cr_assert_eq(waitpid(pid, &st, 0), pid);
        cr_assert(WIFEXITED(st));
        return WEXITSTATUS(st);
}

static uint32_t attached(const char *dir)
{
        _cleanup_close_ int fd = open(dir, O_RDONLY | O_DIRECTORY);
        uint32_t ids[16];
        union bpf_attr a;
        memset(&a, 0, sizeof a);
        a.query.target_fd = (uint32_t)fd;
        a.query.attach_type = BPF_CGROUP_DEVICE;
        a.query.prog_ids = (uint64_t)(uintptr_t)ids;
        a.query.prog_cnt = 16;
        cr_assert_eq(syscall(SYS_bpf, BPF_PROG_QUERY, &a, sizeof a), 0, "%s", strerror(errno));
        return a.query.prog_cnt;
}

Test(cgroups_native_dev, device_filter_denies_null_allows_zero)
{
        char dir[300];
        snprintf(dir, sizeof dir, "%s/devs", top);
        struct oci_device_cgroup rules[] = {
                {.allow = false, .access = "rwm"},
                {.allow = true, .type = "c", .major = {true, 1}, .minor = {true, 5}, .access = "rwm"},
                {.allow = false, .type = "c", .major = {true, 1}, .minor = {true, 3}, .access = "rwm"},
        };
        struct oci_resources r = {.devices = rules, .n_devices = 3};
        herr_t e;
        cr_assert_eq(cg_create(dir, &r, &e), 0, "%s", e.msg);
        cr_assert_eq(attached(dir), 1);
        cr_assert_eq(try_open(dir, "/dev/null", EPERM), 0, "/dev/null must fail with EPERM");
        cr_assert_eq(try_open(dir, "/dev/zero", 0), 0, "/dev/zero must open");
        cr_assert_eq(try_open(top, "/dev/null", 0), 0, "the parent is not filtered");

        /* Update: allow c 1:3 now; the old program must be gone. */
        rules[2].allow = true;
        cr_assert_eq(cg_apply(dir, &r, &e), 0, "%s", e.msg);
        cr_assert_eq(attached(dir), 1, "old program not detached");
        cr_assert_eq(try_open(dir, "/dev/null", 0), 0, "/dev/null must open after the update");
        cr_assert_eq(cg_destroy(dir, &e), 0, "%s", e.msg);
}

Test(cgroups_native_dev, default_rules_load_and_work)
{
        char dir[300];
        snprintf(dir, sizeof dir, "%s/defaults", top);
        const struct oci_device_cgroup *d;
        size_t nd = cg_default_device_rules(&d);
        struct oci_device_cgroup rules[32] = {{.allow = false, .access = "rwm"}};
        memcpy(rules + 1, d, nd * sizeof *d);
        struct oci_resources r = {.devices = rules, .n_devices = nd + 1};
        herr_t e;
        cr_assert_eq(cg_create(dir, &r, &e), 0, "%s", e.msg);
        cr_assert_eq(try_open(dir, "/dev/null", 0), 0);
        cr_assert_eq(try_open(dir, "/dev/urandom", 0), 0);
        cr_assert_eq(try_open(dir, "/dev/kmsg", EPERM), 0, "/dev/kmsg (c 1:11) must be denied");
        cr_assert_eq(try_open(top, "/dev/kmsg", 0), 0, "/dev/kmsg opens outside");
}

/* "hugetlb.2MB.max" -> "2MB" for each size the child cgroup offers. */
static size_t hugepage_sizes(const char *dir, char sizes[][16], size_t max)
{
        _cleanup_closedir_ DIR *d = opendir(dir);
        cr_assert_not_null(d);
        size_t n = 0;
        struct dirent *de;
        while ((de = readdir(d)) && n < max) {
                size_t l = strlen(de->d_name);
                if (strncmp(de->d_name, "hugetlb.", 8) || l < 13 || strcmp(de->d_name + l - 4, ".max") ||
                    strstr(de->d_name, "rsvd"))
                        continue;
                snprintf(sizes[n++], 16, "%.*s", (int)(l - 12), de->d_name + 8);
        }
        return n;
}

static uint64_t page_bytes(const char *s)
{
        uint64_t v = strtoull(s, NULL, 10);
        const char *u = s + strspn(s, "0123456789");
        return v << (!strcmp(u, "KB") ? 10 : !strcmp(u, "MB") ? 20 : 30);
}

Test(cgroups_native_dev, hugetlb_limits)
{
        char *offered = NULL;
        herr_t e;
        cr_assert_eq(cg_root_controllers(&offered, &e), 0, "%s", e.msg);
        bool have = strstr(offered, "hugetlb") != NULL;
        free(offered);
        if (!have)
                cr_skip_test("no hugetlb controller in cgroup v2");
        char *sc = NULL;
        char p[300];
        snprintf(p, sizeof p, "%s/cgroup.subtree_control", cg_root());
        cr_assert_eq(read_file(p, 4096, &sc, NULL, &e), 0, "%s", e.msg);
        root_had_hugetlb = strstr(sc, "hugetlb") != NULL;
        free(sc);

        /* A first limit enables hugetlb up the tree and shows the sizes. */
        char dir[300];
        snprintf(dir, sizeof dir, "%s/huge", top);
        struct oci_hugepage_limit first = {"2MB", 4 << 21};
        struct oci_resources r = {.hugepage_limits = &first, .n_hugepage_limits = 1};
        cr_assert_eq(cg_create(dir, &r, &e), 0, "%s", e.msg);
        char sizes[8][16];
        size_t n = hugepage_sizes(dir, sizes, 8);
        cr_assert_gt(n, 0, "no hugetlb.*.max files in %s", dir);
        struct oci_hugepage_limit lim[8];
        for (size_t i = 0; i < n; i++)
                lim[i] = (struct oci_hugepage_limit){sizes[i], 3 * page_bytes(sizes[i])};
        r = (struct oci_resources){.hugepage_limits = lim, .n_hugepage_limits = n};
        cr_assert_eq(cg_apply(dir, &r, &e), 0, "%s", e.msg);
        for (size_t i = 0; i < n; i++) {
                char f[600], *v = NULL;
                snprintf(f, sizeof f, "%s/hugetlb.%s.max", dir, sizes[i]);
                cr_assert_eq(read_file(f, 64, &v, NULL, &e), 0, "%s", e.msg);
                cr_assert_eq(strtoull(v, NULL, 10), 3 * page_bytes(sizes[i]), "%s: %s", f, v);
                free(v);
        }
        /* unified is written verbatim, after the typed fields. */
        char key[64], val[32], f[600], *v = NULL;
        snprintf(key, sizeof key, "hugetlb.%s.max", sizes[0]);
        snprintf(val, sizeof val, "%lu", (unsigned long)page_bytes(sizes[0]));
        struct oci_kv kv = {key, val};
        r = (struct oci_resources){.unified = &kv, .n_unified = 1};
        cr_assert_eq(cg_apply(dir, &r, &e), 0, "%s", e.msg);
        snprintf(f, sizeof f, "%s/%s", dir, key);
        cr_assert_eq(read_file(f, 64, &v, NULL, &e), 0, "%s", e.msg);
        cr_assert_eq(strtoull(v, NULL, 10), page_bytes(sizes[0]), "%s: %s", f, v);
        free(v);
        struct oci_hugepage_limit bad = {"3MB", 1 << 22};
        r = (struct oci_resources){.hugepage_limits = &bad, .n_hugepage_limits = 1};
        cr_assert_eq(cg_apply(dir, &r, &e), -1);
        cr_assert_not_null(strstr(e.msg, "linux.resources.hugepageLimits: "), "%s", e.msg);
        cr_assert_not_null(strstr(e.msg, "hugetlb.3MB.max does not exist"), "%s", e.msg);
}
