/* seccomp: the features-linux.md seccomp object is truthful. */
#include <criterion/criterion.h>
#include <stdlib.h>
#include <yajl/yajl_gen.h>
#include <yajl/yajl_tree.h>

#include "test_seccomp_util.h"

static bool has(yajl_val obj, const char *key, const char *name)
{
        yajl_val arr = yajl_tree_get(obj, (const char *[]){ key, NULL }, yajl_t_array);
        cr_assert_not_null(arr, "%s missing", key);
        for (size_t i = 0; i < arr->u.array.len; i++)
                if (YAJL_IS_STRING(arr->u.array.values[i]) &&
                    strcmp(arr->u.array.values[i]->u.string, name) == 0)
                        return true;
        return false;
}

static size_t count(yajl_val obj, const char *key)
{
        yajl_val arr = yajl_tree_get(obj, (const char *[]){ key, NULL }, yajl_t_array);
        return arr ? arr->u.array.len : 0;
}

Test(seccomp_features, lists_what_husk_recognises_and_supports)
{
        yajl_gen g = yajl_gen_alloc(NULL);
        cr_assert_eq(seccomp_features_gen(g), 0);
        const unsigned char *buf;
        size_t len;
        yajl_gen_get_buf(g, &buf, &len);
        char *text = strndup((const char *)buf, len);
        yajl_gen_free(g);
        yajl_val v = yajl_tree_parse(text, NULL, 0);
        free(text);
        cr_assert_not_null(v);
        cr_assert(YAJL_IS_TRUE(yajl_tree_get(v, (const char *[]){ "enabled", NULL }, yajl_t_true)));
        cr_assert_eq(count(v, "actions"), 9);
        cr_assert(has(v, "actions", "SCMP_ACT_NOTIFY") && has(v, "actions", "SCMP_ACT_KILL_PROCESS"));
        cr_assert_eq(count(v, "operators"), 7);
        cr_assert(has(v, "operators", "SCMP_CMP_MASKED_EQ"));
        cr_assert(has(v, "archs", "SCMP_ARCH_X86_64") && has(v, "archs", "SCMP_ARCH_X32"));
        /* every listed arch is accepted by seccomp_validate */
        yajl_val archs = yajl_tree_get(v, (const char *[]){ "archs", NULL }, yajl_t_array);
        for (size_t i = 0; i < archs->u.array.len; i++) {
                char *a = archs->u.array.values[i]->u.string;
                struct oci_seccomp s = { .default_action = "SCMP_ACT_ALLOW",
                                         .architectures = &a, .n_architectures = 1 };
                herr_t err = { 0 };
                cr_assert_eq(seccomp_validate(&s, &err), 0, "%s: %s", a, err.msg);
        }
        cr_assert_eq(count(v, "knownFlags"), 4);
        /* kernel 5.19+ and this build support all four */
        cr_assert(has(v, "supportedFlags", "SECCOMP_FILTER_FLAG_TSYNC"));
        cr_assert(has(v, "supportedFlags", "SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV"));
        yajl_tree_free(v);
}
