/* Unit tests of cgroupsPath resolution and cg_create's refusal/rollback,
 * against a scratch "hierarchy" (HUSK_CGROUP_ROOT, HUSK_CGROUP_SELF). */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/xattr.h>
#include <unistd.h>

#include "../../cgroups/cgroups.h"
#include "../../cgroups/internal.h"
#include "../../common/fileutil.h"

static char root[64];

static void setup(void)
{
        strcpy(root, "/tmp/husk-cgroot-XXXXXX");
        cr_assert_not_null(mkdtemp(root));
        setenv("HUSK_CGROUP_ROOT", root, 1);
        setenv("HUSK_CGROUP_SELF", "/user.slice/sess", 1);
}

static void teardown(void)
{
        herr_t e;
        remove_tree(root, &e);
        unsetenv("HUSK_CGROUP_ROOT");
        unsetenv("HUSK_CGROUP_SELF");
}

TestSuite(cgroups_path, .init = setup, .fini = teardown);

static void expect_path(const char *cp, const char *id, const char *rel)
{
        char *out = NULL;
        herr_t e;
        cr_assert_eq(cg_resolve_path(cp, id, &out, &e), 0, "%s", e.msg);
        char want[256];
        snprintf(want, sizeof want, "%s%s", root, rel);
        cr_assert_str_eq(out, want);
        free(out);
}

static void expect_path_error(const char *cp, const char *needle)
{
        char *out = NULL;
        herr_t e;
        cr_assert_eq(cg_resolve_path(cp, "c1", &out, &e), -1, "%s resolved", cp);
        cr_assert_null(out);
        cr_assert_not_null(strstr(e.msg, needle), "'%s' lacks '%s'", e.msg, needle);
}

Test(cgroups_path, resolve)
{
        expect_path(NULL, "c1", "/user.slice/sess/husk/c1");
        expect_path("", "c1", "/user.slice/sess/husk/c1");
        expect_path("/myRuntime/myContainer", "c1", "/myRuntime/myContainer");
        expect_path("/a//b/", "c1", "/a/b");
        expect_path("pods/c2", "c1", "/user.slice/sess/pods/c2");
        setenv("HUSK_CGROUP_SELF", "", 1);
        expect_path(NULL, "x", "/husk/x");
        expect_path("rel", "x", "/rel");
}

Test(cgroups_path, resolve_refuses)
{
        expect_path_error("/a/../../etc", "cgroupsPath /a/../../etc: '..' is not allowed");
        expect_path_error("..", "'..' is not allowed");
        expect_path_error("a/..", "'..' is not allowed");
        expect_path_error("system.slice:husk:c1", "systemd slice:prefix:name");
        expect_path_error("/", "is the cgroup root itself");
        char *out = NULL;
        herr_t e;
        cr_assert_eq(cg_resolve_path(NULL, "a/b", &out, &e), -1);
        cr_assert_not_null(strstr(e.msg, "container id 'a/b'"), "%s", e.msg);
        /* A name merely containing dots is fine. */
        expect_path("/a..b/c", "c1", "/a..b/c");
}

static bool exists(const char *rel)
{
        char p[256];
        snprintf(p, sizeof p, "%s%s", root, rel);
        return access(p, F_OK) == 0;
}

static void put(const char *rel, const char *content)
{
        char p[256];
        snprintf(p, sizeof p, "%s%s", root, rel);
        FILE *f = fopen(p, "w");
        cr_assert_not_null(f, "%s", p);
        fputs(content, f);
        fclose(f);
}

Test(cgroups_path, create_without_limits_and_destroy)
{
        char dir[256];
        snprintf(dir, sizeof dir, "%s/a/b/c", root);
        herr_t e;
        cr_assert_eq(cg_create(dir, NULL, &e), 0, "%s", e.msg);
        cr_assert(exists("/a/b/c"));
}

Test(cgroups_path, create_refuses_path_in_use)
{
        cr_assert_eq(mkdir(strcat(strcpy((char[256]){0}, root), "/busy"), 0755), 0);
        put("/busy/cgroup.procs", "4242\n");
        char dir[256];
        snprintf(dir, sizeof dir, "%s/busy", root);
        herr_t e;
        cr_assert_eq(cg_create(dir, NULL, &e), -1);
        cr_assert_str_eq(e.msg, "cgroupsPath /busy: already in use");
        cr_assert(exists("/busy/cgroup.procs"), "the other container's cgroup is untouched");
}

Test(cgroups_path, create_failure_leaves_nothing_behind)
{
        put("/cgroup.controllers", "memory pids\n");
        put("/cgroup.subtree_control", "");
        struct oci_pids p = {.limit = 5};
        struct oci_resources r = {.pids = &p};
        char dir[256];
        snprintf(dir, sizeof dir, "%s/x/y/z", root);
        herr_t e;
        /* The scratch x/ has no cgroup.subtree_control: enabling fails. */
        cr_assert_eq(cg_create(dir, &r, &e), -1);
        cr_assert_not_null(strstr(e.msg, "x/cgroup.subtree_control"), "%s", e.msg);
        cr_assert_not(exists("/x"), "x/ was left behind");
}

Test(cgroups_path, create_validates_before_mkdir)
{
        put("/cgroup.controllers", "hugetlb\n");
        struct oci_memory m = {.limit = {true, 1 << 20}};
        struct oci_resources r = {.memory = &m};
        char dir[256];
        snprintf(dir, sizeof dir, "%s/v/w", root);
        herr_t e;
        cr_assert_eq(cg_create(dir, &r, &e), -1);
        cr_assert_str_eq(e.msg, "linux.resources.memory.limit: cgroup v2 controller 'memory' is not "
                         "available (this host offers: hugetlb)");
        cr_assert_not(exists("/v"));
        struct oci_pids p = {.limit = -9};
        struct oci_resources r2 = {.pids = &p};
        cr_assert_eq(cg_create(dir, &r2, &e), -1);
        cr_assert_not_null(strstr(e.msg, "pids.limit: -9"), "%s", e.msg);
        cr_assert_not(exists("/v"));
}

Test(cgroups_path, create_outside_root_is_refused)
{
        herr_t e;
        cr_assert_eq(cg_create("/tmp/elsewhere-husk", NULL, &e), -1);
        cr_assert_not_null(strstr(e.msg, "not below the cgroup v2 root"), "%s", e.msg);
        cr_assert_eq(access("/tmp/elsewhere-husk", F_OK), -1);
}

Test(cgroups_path, create_refuses_cgroup_of_another_container)
{
        char dir[256];
        snprintf(dir, sizeof dir, "%s/pods/shared", root);
        herr_t e;
        cr_assert_eq(cg_create_owned(dir, "first", NULL, &e), 0, "%s", e.msg);
        char owner[64] = "";
        if (getxattr(dir, "trusted.husk.owner", owner, sizeof owner) < 0)
                cr_skip_test("no trusted xattrs on %s", root);
        cr_assert_str_eq(owner, "first");
        put("/pods/shared/cgroup.procs", "");   /* empty: no process, still claimed */
        cr_assert_eq(cg_create_owned(dir, "second", NULL, &e), -1);
        cr_assert_str_eq(e.msg, "cgroupsPath /pods/shared: already in use by container first");
        cr_assert(exists("/pods/shared"), "the first container's cgroup stays");
        cr_assert_eq(cg_create_owned(dir, "first", NULL, &e), 0, "the owner may create again: %s", e.msg);
}

Test(cgroups_path, own_cgroup_from_proc_self_cgroup)
{
        char buf[256];
        herr_t e;
        cr_assert_eq(cg_parse_own_cgroup("0::/\n", buf, sizeof buf, &e), 0, "%s", e.msg);
        cr_assert_str_eq(buf, "");
        cr_assert_eq(cg_parse_own_cgroup("9:name=systemd:/\n4:memory:/m\n0::/user.slice/s.scope\n", buf,
                                         sizeof buf, &e), 0, "%s", e.msg);
        cr_assert_str_eq(buf, "/user.slice/s.scope");
        cr_assert_eq(cg_parse_own_cgroup("0::/a/b", buf, sizeof buf, &e), 0, "%s", e.msg);
        cr_assert_str_eq(buf, "/a/b");
        cr_assert_eq(cg_parse_own_cgroup("4:memory:/m\n", buf, sizeof buf, &e), -1);
        cr_assert_str_eq(e.msg, "no cgroup v2 entry (0::)");
        cr_assert_eq(cg_parse_own_cgroup("0::/../outside\n", buf, sizeof buf, &e), -1);
        cr_assert_not_null(strstr(e.msg, "outside this cgroup namespace"), "%s", e.msg);
}

Test(cgroups_path, cgroup2_mount_from_mountinfo)
{
        char mi[256], buf[256];
        snprintf(mi, sizeof mi, "%s/mountinfo", root);
        put("/mountinfo",
            "22 1 0:21 / /sys rw,nosuid shared:7 - sysfs sysfs rw\n"
            "25 22 0:23 / /sys/fs/cgroup ro,nosuid shared:9 - tmpfs tmpfs ro,mode=755\n"
            "26 25 0:24 / /sys/fs/cgroup/memory rw shared:10 - cgroup cgroup rw,memory\n"
            "27 25 0:25 / /run/my\\040cg rw shared:11 - cgroup2 cgroup2 rw\n"
            "28 25 0:26 / /run/cg2 rw shared:12 - cgroup2 cgroup2 rw,nsdelegate\n");
        cr_assert(cg_find_cgroup2_mount(mi, buf, sizeof buf));
        cr_assert_str_eq(buf, "/run/cg2");
        put("/mountinfo", "26 25 0:24 / /sys/fs/cgroup/memory rw shared:10 - cgroup cgroup rw,memory\n");
        cr_assert_not(cg_find_cgroup2_mount(mi, buf, sizeof buf));
}
