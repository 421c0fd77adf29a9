/* VM mode bind mounts, host side (runtime/vm_binds.c): which mounts are
 * shared, how sources resolve, and the errors for bad sources. */
#include <criterion/criterion.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "../../runtime/vm_binds.h"

static char dir[PATH_MAX];

static void setup(void)
{
        snprintf(dir, sizeof(dir), "/tmp/husk-vmbinds-XXXXXX");
        cr_assert_not_null(mkdtemp(dir));
}

static void teardown(void)
{
        char cmd[PATH_MAX + 16];
        snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
        (void)!system(cmd);
}

TestSuite(vm_binds, .init = setup, .fini = teardown);

static struct oci_config *parse(const char *mounts)
{
        char *json = NULL;
        cr_assert(asprintf(&json,
                           "{\"ociVersion\":\"1.3.0\",\"root\":{\"path\":\"rootfs\"},\"process\":{\"args\":[\"true\"],"
                           "\"cwd\":\"/\",\"user\":{\"uid\":0,\"gid\":0}},\"mounts\":[%s]}",
                           mounts) > 0);
        struct oci_config *c = NULL;
        herr_t err = { 0 };
        cr_assert_eq(oci_config_parse(json, strlen(json), &c, &err), 0, "%s", err.msg);
        free(json);
        return c;
}

static void touch(const char *name)
{
        char p[PATH_MAX + 64];
        snprintf(p, sizeof(p), "%s/%s", dir, name);
        FILE *f = fopen(p, "w");
        cr_assert_not_null(f);
        fclose(f);
}

Test(vm_binds, shared_sources)
{
        char sub[PATH_MAX + 8], mounts[4 * PATH_MAX];
        snprintf(sub, sizeof(sub), "%s/d", dir);
        cr_assert_eq(mkdir(sub, 0755), 0);
        touch("f");
        snprintf(mounts, sizeof(mounts),
                 "{\"destination\":\"/proc\",\"type\":\"proc\",\"source\":\"proc\"},"
                 "{\"destination\":\"/a\",\"type\":\"bind\",\"source\":\"%s\",\"options\":[\"rbind\",\"ro\"]},"
                 "{\"destination\":\"/b\",\"source\":\"f\",\"options\":[\"bind\",\"ro\",\"rw\"]},"
                 "{\"destination\":\"/dev/null\",\"type\":\"bind\",\"source\":\"/dev/null\",\"options\":[\"bind\"]}",
                 sub);
        struct oci_config *c = parse(mounts);
        struct vm_bind_plan p;
        herr_t err = { 0 };
        cr_assert_eq(vm_binds_plan(c, dir, &p, &err), 0, "%s", err.msg);
        cr_assert_eq(p.n, 2, "proc is no bind, /dev/null stays the guest's");
        char real[PATH_MAX], want[PATH_MAX + 8];
        cr_assert_not_null(realpath(dir, real));
        cr_expect_str_eq(p.binds[0].name, "1");
        snprintf(want, sizeof(want), "%s/d", real);
        cr_expect_str_eq(p.binds[0].source, want);
        cr_expect(p.binds[0].is_dir && p.binds[0].ro && p.binds[0].recursive);
        cr_expect_str_eq(p.binds[1].name, "2");
        snprintf(want, sizeof(want), "%s/f", real); /* relative: against the bundle */
        cr_expect_str_eq(p.binds[1].source, want);
        cr_expect(!p.binds[1].is_dir && !p.binds[1].ro && !p.binds[1].recursive, "the last of ro/rw wins");
        vm_binds_plan_free(&p);
        oci_config_free(c);
}

Test(vm_binds, missing_source)
{
        struct oci_config *c = parse("{\"destination\":\"/proc\",\"type\":\"proc\",\"source\":\"proc\"},"
                                     "{\"destination\":\"/data\",\"type\":\"bind\",\"source\":\"/nonexistent/x\"}");
        struct vm_bind_plan p;
        herr_t err = { 0 };
        cr_assert_eq(vm_binds_plan(c, dir, &p, &err), -1);
        cr_expect_str_eq(err.msg, "mounts[1] (/data): bind source /nonexistent/x: No such file or directory");
        cr_expect_eq(p.n, 0);
        cr_expect_null(p.binds);
        oci_config_free(c);
}

Test(vm_binds, fifo_refused)
{
        char fifo[PATH_MAX + 8], mounts[2 * PATH_MAX];
        snprintf(fifo, sizeof(fifo), "%s/p", dir);
        cr_assert_eq(mkfifo(fifo, 0600), 0);
        snprintf(mounts, sizeof(mounts), "{\"destination\":\"/p\",\"source\":\"%s\",\"options\":[\"bind\"]}", fifo);
        struct oci_config *c = parse(mounts);
        struct vm_bind_plan p;
        herr_t err = { 0 };
        cr_assert_eq(vm_binds_plan(c, dir, &p, &err), -1);
        cr_expect(strstr(err.msg, "mounts[0] (/p)") && strstr(err.msg, "only directories and files"), "%s", err.msg);
        oci_config_free(c);
}
