/* Unit tests: the front-door flag parsers (runtime/frontdoor.c) and the
 * generic config builder they feed (spec/generate.c oci_config_gen). */
#include <criterion/criterion.h>
#include <stdlib.h>
#include <string.h>

#include "../../runtime/frontdoor.h"
#include "../../spec/generate.h"
#include "test_json_helpers.h"

Test(frontdoor_unit, durations)
{
        long long ms;
        cr_assert_eq(frontdoor_duration("30s", &ms), 0);
        cr_assert_eq(ms, 30000);
        cr_assert_eq(frontdoor_duration("500ms", &ms), 0);
        cr_assert_eq(ms, 500);
        cr_assert_eq(frontdoor_duration("2m", &ms), 0);
        cr_assert_eq(ms, 120000);
        cr_assert_eq(frontdoor_duration("1h", &ms), 0);
        cr_assert_eq(ms, 3600000);
        cr_assert_eq(frontdoor_duration("10", &ms), 0);
        cr_assert_eq(ms, 10000);
        cr_assert_eq(frontdoor_duration("1.5s", &ms), 0);
        cr_assert_eq(ms, 1500);
        const char *bad[] = { "", "0", "-1s", "5x", "s", "1e30h", "nan", "inf" };
        for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
                cr_assert_lt(frontdoor_duration(bad[i], &ms), 0, "%s", bad[i]);
}

Test(frontdoor_unit, sizes)
{
        long long b;
        cr_assert_eq(frontdoor_size("256m", &b), 0);
        cr_assert_eq(b, 256ll << 20);
        cr_assert_eq(frontdoor_size("1g", &b), 0);
        cr_assert_eq(b, 1ll << 30);
        cr_assert_eq(frontdoor_size("1GB", &b), 0);
        cr_assert_eq(b, 1ll << 30);
        cr_assert_eq(frontdoor_size("512k", &b), 0);
        cr_assert_eq(b, 512ll << 10);
        cr_assert_eq(frontdoor_size("1000", &b), 0);
        cr_assert_eq(b, 1000);
        const char *bad[] = { "", "m", "-1m", "12q", "1mm", "0", "1bb", " 1m" };
        for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
                cr_assert_lt(frontdoor_size(bad[i], &b), 0, "%s", bad[i]);
}

static int opt(struct frontdoor *f, int o, const char *arg, herr_t *err)
{
        return frontdoor_opt(f, o, arg, "--flag", err);
}

Test(frontdoor_unit, caps_and_gen_opts)
{
        struct frontdoor f = { 0 };
        herr_t err = { 0 };
        cr_assert_eq(opt(&f, FD_OPT_CAP_ADD, "sys_time", &err), 1, "%s", err.msg);
        cr_assert_eq(opt(&f, FD_OPT_CAP_DROP, "CAP_KILL", &err), 1, "%s", err.msg);
        cr_assert_eq(opt(&f, FD_OPT_CAP_ADD, "NOPE", &err), -1);
        f.net = FD_NET_HOST; /* --net is net/'s; the CLI passes its mode on */
        cr_assert_eq(opt(&f, FD_OPT_VM, NULL, &err), 1);
        cr_assert_eq(opt(&f, FD_OPT_MEMORY, "64m", &err), 1);
        cr_assert_eq(opt(&f, FD_OPT_MEMORY, "1k", &err), -1, "below 4m");
        cr_assert_eq(opt(&f, 'Z', NULL, &err), 0, "not a front-door flag");
        cr_assert_str_eq(f.first_flag, "--flag");
        char *args[] = { "true", NULL };
        cr_assert_eq(frontdoor_finish(&f, args, false, false, &err), 0, "%s", err.msg);
        cr_assert(!f.gen.network_ns);
        cr_assert_eq(f.gen.memory_limit, 64ll << 20);
        cr_assert_eq(f.run.args, args);
        char *out = NULL;
        f.gen.args = (const char *const *)args;
        cr_assert_eq(oci_config_gen(&f.gen, &out, NULL, &err), 0, "%s", err.msg);
        yajl_val v = tj_parse(out);
        yajl_val caps = tj_arr(v, "process.capabilities.bounding");
        cr_assert(tj_has(caps, "CAP_SYS_TIME") && !tj_has(caps, "CAP_KILL") && tj_has(caps, "CAP_CHOWN"));
        cr_assert_eq(YAJL_GET_INTEGER(tj_get(v, "linux.resources.memory.limit")), 64ll << 20);
        yajl_tree_free(v);
        free(out);
        frontdoor_free(&f);
}

Test(frontdoor_unit, seccomp_json_must_be_an_object)
{
        struct oci_gen_opts o;
        herr_t err = { 0 };
        char *out = NULL;
        oci_gen_defaults(&o, false);
        o.seccomp = OCI_GEN_SECCOMP_JSON;
        o.seccomp_json = "[1,2]";
        cr_assert_lt(oci_config_gen(&o, &out, NULL, &err), 0);
        cr_assert(strstr(err.msg, "seccomp profile"), "%s", err.msg);
        o.seccomp_json = "{bad";
        cr_assert_lt(oci_config_gen(&o, &out, NULL, &err), 0);
        cr_assert(strstr(err.msg, "invalid JSON"), "%s", err.msg);
        o.seccomp_json = "{\"defaultAction\":\"SCMP_ACT_LOG\",\"n\":1.5,\"t\":true,\"z\":null}";
        cr_assert_eq(oci_config_gen(&o, &out, NULL, &err), 0, "%s", err.msg);
        yajl_val v = tj_parse(out);
        cr_assert_str_eq(tj_str(v, "linux.seccomp.defaultAction"), "SCMP_ACT_LOG");
        cr_assert(tj_bool(v, "linux.seccomp.t"));
        yajl_tree_free(v);
        free(out);
}
