/* Unit tests: the features document (features.md, features-linux.md). */
#include <criterion/criterion.h>
#include <ctype.h>
#include <seccomp.h>
#include <stdlib.h>
#include <sys/capability.h>
#include <unistd.h>

#include "../../common/cleanup.h"
#include "../../spec/features_probe.h"
#include "../../spec/generate.h"
#include "../../spec/mountopts.h"
#include "../../spec/version.h"
#include "test_json_helpers.h"

static yajl_val features_doc(void)
{
        _cleanup_free_ char *out = NULL;
        size_t len = 0;
        herr_t err = { 0 };

        cr_assert_eq(oci_features_json(&out, &len, &err), 0, "%s", err.msg);
        cr_assert_eq(len, strlen(out));
        return tj_parse(out);
}

static size_t arr_len(yajl_val a)
{
        return YAJL_GET_ARRAY(a)->len;
}

Test(features, versions)
{
        yajl_val v = features_doc();

        cr_assert_str_eq(tj_str(v, "ociVersionMin"), "1.0.0");
        cr_assert_str_eq(tj_str(v, "ociVersionMax"), OCI_VERSION);
        yajl_tree_free(v);
}

Test(features, all_six_hooks)
{
        yajl_val v = features_doc();
        yajl_val a = tj_arr(v, "hooks");
        const char *want[] = { "prestart", "createRuntime", "createContainer",
                               "startContainer", "poststart", "poststop" };

        cr_assert_eq(arr_len(a), 6u);
        for (size_t i = 0; i < 6; i++)
                cr_assert(tj_has(a, want[i]), "hooks lacks %s", want[i]);
        yajl_tree_free(v);
}

/* mountOptions is exactly the table the runtime uses. */
Test(features, mount_options_from_table)
{
        yajl_val v = features_doc();
        yajl_val a = tj_arr(v, "mountOptions");
        const struct mount_opt *o;
        size_t n = 0;

        cr_assert(tj_has(a, "rbind"));
        cr_assert(tj_has(a, "ro") && tj_has(a, "nosuid") && tj_has(a, "rprivate"));
        for (; (o = mount_opt_at(n)); n++)
                cr_assert(tj_has(a, o->name), "mountOptions lacks %s", o->name);
        cr_assert_eq(arr_len(a), n);
        for (size_t i = 0; i < arr_len(a); i++)
                cr_assert_not_null(mount_opt_lookup(YAJL_GET_STRING(YAJL_GET_ARRAY(a)->values[i])));
        yajl_tree_free(v);
}

Test(features, all_eight_namespaces)
{
        yajl_val v = features_doc();
        yajl_val a = tj_arr(v, "linux.namespaces");
        const char *want[] = { "cgroup", "ipc", "mount", "network", "pid", "time",
                               "user", "uts" };

        cr_assert_eq(arr_len(a), 8u);
        for (size_t i = 0; i < 8; i++)
                cr_assert(tj_has(a, want[i]), "namespaces lacks %s", want[i]);
        yajl_tree_free(v);
}

Test(features, capabilities)
{
        yajl_val v = features_doc();
        yajl_val a = tj_arr(v, "linux.capabilities");

        cr_assert(tj_has(a, "CAP_SYS_ADMIN"));
        cr_assert(tj_has(a, "CAP_CHOWN"));
        cr_assert(tj_has(a, "CAP_NET_BIND_SERVICE"));
        /* Every capability libcap has a name for is listed. */
        for (cap_value_t c = 0; c <= CAP_LAST_CAP; c++) {
                char *name = cap_to_name(c), up[64];
                size_t j;

                cr_assert_not_null(name);
                for (j = 0; name[j] && j < sizeof up - 1; j++)
                        up[j] = (char)toupper((unsigned char)name[j]);
                up[j] = '\0';
                if (!strncmp(name, "cap_", 4))
                        cr_assert(tj_has(a, up), "capabilities lacks %s", up);
                cap_free(name);
        }
        for (size_t i = 0; i < arr_len(a); i++) {
                const char *s = YAJL_GET_STRING(YAJL_GET_ARRAY(a)->values[i]);
                cap_value_t c;

                cr_assert_not_null(s);
                /* schema: ^CAP_[A-Z_]+$, and libcap knows the name */
                cr_assert_eq(strncmp(s, "CAP_", 4), 0, "%s", s);
                cr_assert_eq(strspn(s, "ABCDEFGHIJKLMNOPQRSTUVWXYZ_"), strlen(s), "%s", s);
                cr_assert_eq(cap_from_name(s, &c), 0, "%s", s);
        }
        yajl_tree_free(v);
}

Test(features, cgroup)
{
        yajl_val v = features_doc();

        cr_assert_not(tj_bool(v, "linux.cgroup.v1"));
        cr_assert(tj_bool(v, "linux.cgroup.v2"));
        cr_assert_not(tj_bool(v, "linux.cgroup.systemd"));
        cr_assert_not(tj_bool(v, "linux.cgroup.systemdUser"));
        cr_assert(tj_bool(v, "linux.cgroup.rdma"));
        yajl_tree_free(v);
}

Test(features, seccomp_lists)
{
        yajl_val v = features_doc();

        cr_assert(tj_bool(v, "linux.seccomp.enabled"));
        cr_assert_eq(arr_len(tj_arr(v, "linux.seccomp.actions")), 9u);
        cr_assert(tj_has(tj_arr(v, "linux.seccomp.actions"), "SCMP_ACT_NOTIFY"));
        cr_assert_eq(arr_len(tj_arr(v, "linux.seccomp.operators")), 7u);
        cr_assert(tj_has(tj_arr(v, "linux.seccomp.operators"), "SCMP_CMP_MASKED_EQ"));
        yajl_val known = tj_arr(v, "linux.seccomp.knownFlags");
        cr_assert_eq(arr_len(known), 4u);
        cr_assert(tj_has(known, "SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV"));
        yajl_val sup = tj_arr(v, "linux.seccomp.supportedFlags");
        for (size_t i = 0; i < arr_len(sup); i++)
                cr_assert(tj_has(known, YAJL_GET_STRING(YAJL_GET_ARRAY(sup)->values[i])));
        cr_assert_eq(tj_has(sup, "SECCOMP_FILTER_FLAG_TSYNC"), seccomp_api_get() >= 2);
        cr_assert_eq(tj_has(sup, "SECCOMP_FILTER_FLAG_LOG"), seccomp_api_get() >= 3);
        cr_assert_eq(tj_has(sup, "SECCOMP_FILTER_FLAG_SPEC_ALLOW"), seccomp_api_get() >= 4);
        yajl_tree_free(v);
}

/* Every listed architecture resolves in libseccomp; the native one is listed. */
Test(features, seccomp_archs)
{
        yajl_val v = features_doc();
        yajl_val a = tj_arr(v, "linux.seccomp.archs");

        cr_assert_gt(arr_len(a), 0u);
        cr_assert(tj_all_strings(a));
#if defined(__x86_64__)
        cr_assert(tj_has(a, "SCMP_ARCH_X86_64"));
        cr_assert(tj_has(a, "SCMP_ARCH_X86"));
#elif defined(__aarch64__)
        cr_assert(tj_has(a, "SCMP_ARCH_AARCH64"));
#endif
        cr_assert_not(tj_has(a, "x86_64"));
        cr_assert_eq(seccomp_arch_resolve_name("x86_64"), SCMP_ARCH_X86_64);
        yajl_tree_free(v);
}

static bool file_starts_with_y(const char *path)
{
        _cleanup_fclose_ FILE *f = fopen(path, "re");

        return f && fgetc(f) == 'Y';
}

Test(features, lsm_and_extensions)
{
        yajl_val v = features_doc();

        cr_assert_eq(tj_bool(v, "linux.apparmor.enabled"),
                     file_starts_with_y("/sys/module/apparmor/parameters/enabled"));
        cr_assert_eq(tj_bool(v, "linux.selinux.enabled"),
                     access("/sys/fs/selinux/enforce", F_OK) == 0);
        cr_assert_not(tj_bool(v, "linux.intelRdt.enabled"));
        cr_assert_not(tj_bool(v, "linux.mountExtensions.idmap.enabled"));
        yajl_tree_free(v);
}

Test(features, annotations)
{
        yajl_val v = features_doc();
        yajl_val a = tj_get(v, "annotations");

        cr_assert(a && YAJL_IS_OBJECT(a));
        cr_assert_eq(YAJL_GET_OBJECT(a)->len, 1u);
        cr_assert_str_eq(YAJL_GET_OBJECT(a)->keys[0], "run.oci.handler");
        cr_assert_str_eq(YAJL_GET_STRING(YAJL_GET_OBJECT(a)->values[0]), "vm");
        cr_assert_eq(arr_len(tj_arr(v, "potentiallyUnsafeConfigAnnotations")), 0u);
        yajl_tree_free(v);
}
