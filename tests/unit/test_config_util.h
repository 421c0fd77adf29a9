/* Helpers shared by the tests/unit/test_config*.c suites. */
#ifndef HUSK_TEST_CONFIG_UTIL_H
#define HUSK_TEST_CONFIG_UTIL_H

#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "../../spec/config.h"

/* The runtime-spec reference: $HUSK_SPEC_REF, else beside the repository.
 * Missing reference is a failure, not a skip. */
static inline const char *spec_ref_dir(void)
{
        const char *env = getenv("HUSK_SPEC_REF");
        const char *dir = env && *env ? env : "../../shared/reference/runtime-spec";
        struct stat st;
        if (stat(dir, &st) < 0 || !S_ISDIR(st.st_mode))
                cr_assert_fail("runtime-spec reference not found at '%s' (set HUSK_SPEC_REF)", dir);
        return dir;
}

/* Test documents are written with ' for " to stay readable. */
static inline char *jq(const char *s)
{
        char *d = strdup(s);
        cr_assert_not_null(d);
        for (char *p = d; *p; p++)
                if (*p == '\'')
                        *p = '"';
        return d;
}

/* Parse a NUL-terminated document; on failure err.msg holds the message. */
static inline int parse_str(const char *json, struct oci_config **c, herr_t *err)
{
        herr_clear(err);
        return oci_config_parse(json, strlen(json), c, err);
}

/* Expect parse failure with a message containing want. */
#define expect_reject(json, want)                                                      \
        do {                                                                           \
                struct oci_config *c_ = NULL;                                          \
                herr_t e_;                                                             \
                cr_assert_lt(parse_str((json), &c_, &e_), 0, "accepted: %s", (json));  \
                cr_assert_null(c_);                                                    \
                cr_assert(strstr(e_.msg, (want)) != NULL, "message '%s' lacks '%s'",   \
                          e_.msg, (want));                                             \
        } while (0)

/* Same with ' for ". */
#define REJECT(sq, want)                   \
        do {                               \
                char *j_ = jq(sq);         \
                expect_reject(j_, (want)); \
                free(j_);                  \
        } while (0)

/* Expect success; returns the config (caller frees). */
static inline struct oci_config *expect_accept(const char *json)
{
        struct oci_config *c = NULL;
        herr_t e;
        int r = parse_str(json, &c, &e);
        cr_assert_eq(r, 0, "rejected (%s): %s", e.msg, json);
        cr_assert_not_null(c);
        return c;
}

static inline struct oci_config *accept_sq(const char *sq)
{
        char *j = jq(sq);
        struct oci_config *c = expect_accept(j);
        free(j);
        return c;
}

/* Parse (must succeed), then expect validate_runnable to fail with want. */
#define NOT_RUNNABLE(sq, want)                                                         \
        do {                                                                           \
                struct oci_config *c_ = accept_sq(sq);                                 \
                herr_t e_;                                                             \
                herr_clear(&e_);                                                       \
                cr_expect_lt(oci_config_validate_runnable(c_, &e_), 0, "runnable: %s", sq); \
                cr_expect(strstr(e_.msg, (want)) != NULL, "message '%s' lacks '%s'",   \
                          e_.msg, (want));                                             \
                oci_config_free(c_);                                                   \
        } while (0)

#endif
