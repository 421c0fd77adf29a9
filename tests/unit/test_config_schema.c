/* The runtime-spec's own schema test configs: every good one parses, every
 * bad one is rejected with a message naming the offending field. */
#include <dirent.h>
#include <stdio.h>

#include "test_config_util.h"

static void config_path(char *buf, size_t sz, const char *kind, const char *name)
{
        snprintf(buf, sz, "%s/schema/test/config/%s/%s", spec_ref_dir(), kind, name);
}

/* Calls fn for every *.json in schema/test/config/<kind>; returns the count. */
static int for_each_config(const char *kind, void (*fn)(const char *path, const char *name))
{
        char dir[4096];
        int n = 0;
        snprintf(dir, sizeof dir, "%s/schema/test/config/%s", spec_ref_dir(), kind);
        DIR *d = opendir(dir);
        cr_assert_not_null(d, "cannot open %s", dir);
        struct dirent *de;
        while ((de = readdir(d))) {
                size_t len = strlen(de->d_name);
                if (len < 6 || strcmp(de->d_name + len - 5, ".json") != 0)
                        continue;
                char path[8192];
                snprintf(path, sizeof path, "%s/%s", dir, de->d_name);
                fn(path, de->d_name);
                n++;
        }
        closedir(d);
        return n;
}

static void check_good(const char *path, const char *name)
{
        struct oci_config *c = NULL;
        herr_t e;
        herr_clear(&e);
        int r = oci_config_load(path, &c, &e);
        cr_expect_eq(r, 0, "good/%s rejected: %s", name, e.msg);
        oci_config_free(c);
}

static void check_bad(const char *path, const char *name)
{
        struct oci_config *c = NULL;
        herr_t e;
        herr_clear(&e);
        int r = oci_config_load(path, &c, &e);
        cr_expect_lt(r, 0, "bad/%s accepted", name);
        cr_expect_null(c);
        cr_expect(strncmp(e.msg, name, strlen(name)) == 0, "bad/%s: message '%s' lacks file name",
                  name, e.msg);
        oci_config_free(c);
}

Test(config_schema, every_good_config_parses)
{
        cr_assert_geq(for_each_config("good", check_good), 9);
}

Test(config_schema, every_bad_config_is_rejected)
{
        cr_assert_geq(for_each_config("bad", check_bad), 5);
}

static void load_expect_error(const char *file, const char *want)
{
        char path[4096];
        struct oci_config *c = NULL;
        herr_t e;
        config_path(path, sizeof path, "bad", file);
        herr_clear(&e);
        cr_assert_lt(oci_config_load(path, &c, &e), 0, "%s accepted", file);
        cr_assert_null(c);
        cr_assert(strstr(e.msg, want), "%s: message '%s' lacks '%s'", file, e.msg, want);
}

Test(config_schema, bad_freebsd_vnet_disable)
{
        load_expect_error("freebsd-vnet-disable.json",
                          "freebsd-vnet-disable.json: freebsd.jail.vnet: invalid value 'disable'");
}

Test(config_schema, bad_invalid_json)
{
        load_expect_error("invalid-json.json", "invalid-json.json: invalid JSON: ");
}

Test(config_schema, bad_linux_hugepage)
{
        load_expect_error("linux-hugepage.json",
                          "linux.resources.hugepageLimits[0].pageSize: invalid page size '64kB'");
}

Test(config_schema, bad_linux_netdevice)
{
        load_expect_error("linux-netdevice.json", "linux.netDevices.eth0.name: expected string");
}

Test(config_schema, bad_linux_rdma)
{
        load_expect_error("linux-rdma.json",
                          "linux.resources.rdma.mlx5_1.hcaHandles: expected integer");
}

static struct oci_config *load_good(const char *file)
{
        char path[4096];
        struct oci_config *c = NULL;
        herr_t e;
        config_path(path, sizeof path, "good", file);
        herr_clear(&e);
        cr_assert_eq(oci_config_load(path, &c, &e), 0, "%s: %s", file, e.msg);
        return c;
}

Test(config_schema, other_platforms_parse_but_do_not_run)
{
        static const struct { const char *file, *msg; } cases[] = {
                { "freebsd-example.json", "freebsd: not supported on Linux" },
                { "freebsd-minimal.json", "freebsd: not supported on Linux" },
                { "zos-example.json", "zos: not supported on Linux" },
                { "zos-minimal.json", "zos: not supported on Linux" },
        };
        for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
                struct oci_config *c = load_good(cases[i].file);
                herr_t e;
                herr_clear(&e);
                cr_expect_lt(oci_config_validate_runnable(c, &e), 0, "%s runnable", cases[i].file);
                cr_expect_str_eq(e.msg, cases[i].msg);
                oci_config_free(c);
        }
}

Test(config_schema, minimal_for_start_is_runnable)
{
        struct oci_config *c = load_good("minimal-for-start.json");
        herr_t e;
        herr_clear(&e);
        cr_expect_eq(oci_config_validate_runnable(c, &e), 0, "%s", e.msg);
        oci_config_free(c);
}

Test(config_schema, minimal_is_not_runnable)
{
        struct oci_config *c = load_good("minimal.json");
        herr_t e;
        herr_clear(&e);
        cr_expect_lt(oci_config_validate_runnable(c, &e), 0);
        cr_expect_str_eq(e.msg, "process: required to run a container");
        oci_config_free(c);
}

Test(config_schema, spec_example_values)
{
        struct oci_config *c = load_good("spec-example.json");
        herr_t e;
        herr_clear(&e);
        cr_expect_eq(oci_config_validate_runnable(c, &e), 0, "%s", e.msg);
        cr_assert_not_null(c->process);
        cr_expect_str_eq(c->oci_version, "0.5.0-dev");
        cr_expect_str_eq(c->process->args[0], "sh");
        cr_assert_not_null(c->linux_);
        cr_expect_not_null(oci_config_namespace(c, OCI_NS_PID));
        cr_expect_not_null(c->linux_->seccomp);
        oci_config_free(c);
}
