/* tests/unit/test_json_helpers.h: read back JSON documents husk writes. */
#ifndef HUSK_TEST_JSON_HELPERS_H
#define HUSK_TEST_JSON_HELPERS_H

#include <criterion/criterion.h>
#include <stdbool.h>
#include <string.h>
#include <yajl/yajl_tree.h>

/* Parse s or fail the test with yajl's message. */
static inline yajl_val tj_parse(const char *s)
{
        char ebuf[512];
        yajl_val v = yajl_tree_parse(s, ebuf, sizeof ebuf);

        cr_assert_not_null(v, "invalid JSON: %s\n%s", ebuf, s);
        return v;
}

/* The value at a dotted path ("linux.cgroup.v2"), any type; NULL if absent. */
static inline yajl_val tj_get(yajl_val root, const char *dotted)
{
        char buf[256];
        const char *path[16];
        size_t n = 0;

        cr_assert_lt(strlen(dotted), sizeof buf);
        strcpy(buf, dotted);
        for (char *save = NULL, *t = strtok_r(buf, ".", &save); t;
             t = strtok_r(NULL, ".", &save)) {
                cr_assert_lt(n, 15u);
                path[n++] = t;
        }
        path[n] = NULL;
        return yajl_tree_get(root, path, yajl_t_any);
}

static inline const char *tj_str(yajl_val root, const char *dotted)
{
        yajl_val v = tj_get(root, dotted);

        cr_assert(v && YAJL_IS_STRING(v), "%s: expected a string", dotted);
        return YAJL_GET_STRING(v);
}

static inline bool tj_bool(yajl_val root, const char *dotted)
{
        yajl_val v = tj_get(root, dotted);

        cr_assert(v && (YAJL_IS_TRUE(v) || YAJL_IS_FALSE(v)), "%s: expected a bool",
                  dotted);
        return YAJL_IS_TRUE(v);
}

static inline yajl_val tj_arr(yajl_val root, const char *dotted)
{
        yajl_val v = tj_get(root, dotted);

        cr_assert(v && YAJL_IS_ARRAY(v), "%s: expected an array", dotted);
        return v;
}

/* Whether the array of strings a holds s. */
static inline bool tj_has(yajl_val a, const char *s)
{
        for (size_t i = 0; i < YAJL_GET_ARRAY(a)->len; i++) {
                yajl_val e = YAJL_GET_ARRAY(a)->values[i];

                if (YAJL_IS_STRING(e) && !strcmp(e->u.string, s))
                        return true;
        }
        return false;
}

/* Every element of a is a string. */
static inline bool tj_all_strings(yajl_val a)
{
        for (size_t i = 0; i < YAJL_GET_ARRAY(a)->len; i++)
                if (!YAJL_IS_STRING(YAJL_GET_ARRAY(a)->values[i]))
                        return false;
        return true;
}

#endif
