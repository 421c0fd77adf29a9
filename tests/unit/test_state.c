/* Unit tests: the state document (runtime.md, schema/state-schema.json). */
#include <criterion/criterion.h>
#include <errno.h>
#include <stdlib.h>

#include "../../common/cleanup.h"
#include "../../spec/state.h"
#include "../../spec/version.h"
#include "test_json_helpers.h"

static const struct oci_state base = {
        .oci_version = OCI_VERSION,
        .id = "oci-container1",
        .status = "running",
        .pid = 4422,
        .bundle = "/containers/redis",
};

static yajl_val state_doc(const struct oci_state *s, bool pretty)
{
        _cleanup_free_ char *out = NULL;
        size_t len = 0;
        herr_t err = { 0 };

        cr_assert_eq(oci_state_json(s, pretty, &out, &len, &err), 0, "%s", err.msg);
        cr_assert_eq(len, strlen(out));
        return tj_parse(out);
}

Test(state, required_keys_and_types)
{
        yajl_val v = state_doc(&base, false);

        cr_assert(YAJL_IS_OBJECT(v));
        cr_assert_str_eq(tj_str(v, "ociVersion"), OCI_VERSION);
        cr_assert_str_eq(tj_str(v, "id"), "oci-container1");
        cr_assert_str_eq(tj_str(v, "status"), "running");
        cr_assert_str_eq(tj_str(v, "bundle"), "/containers/redis");
        yajl_val pid = tj_get(v, "pid");
        cr_assert(pid && YAJL_IS_INTEGER(pid));
        cr_assert_eq(YAJL_GET_INTEGER(pid), 4422);
        cr_assert_null(tj_get(v, "annotations"));
        yajl_tree_free(v);
}

Test(state, pid_omitted_when_zero)
{
        struct oci_state s = base;

        s.pid = 0;
        s.status = "stopped";
        yajl_val v = state_doc(&s, true);
        cr_assert_null(tj_get(v, "pid"));
        cr_assert_str_eq(tj_str(v, "status"), "stopped");
        yajl_tree_free(v);
}

Test(state, annotations_when_present)
{
        struct oci_kv kv[] = { { "myKey", "myValue" }, { "other", "x\"y" } };
        struct oci_state s = base;

        s.annotations = kv;
        s.n_annotations = 2;
        yajl_val v = state_doc(&s, true);
        cr_assert_str_eq(tj_str(v, "annotations.myKey"), "myValue");
        cr_assert_str_eq(tj_str(v, "annotations.other"), "x\"y");
        yajl_tree_free(v);
}

Test(state, empty_annotations_omitted)
{
        struct oci_kv kv[] = { { "k", "v" } };
        struct oci_state s = base;

        s.annotations = kv;
        s.n_annotations = 0;
        yajl_val v = state_doc(&s, false);
        cr_assert_null(tj_get(v, "annotations"));
        yajl_tree_free(v);
}

/* The schema's example (schema/test/state/good/spec-example.json). */
Test(state, matches_schema_example)
{
        struct oci_kv kv[] = { { "myKey", "myValue" } };
        struct oci_state s = base;
        _cleanup_free_ char *out = NULL;
        herr_t err = { 0 };

        s.oci_version = "0.2.0";
        s.annotations = kv;
        s.n_annotations = 1;
        cr_assert_eq(oci_state_json(&s, false, &out, NULL, &err), 0, "%s", err.msg);
        cr_assert_str_eq(out, "{\"ociVersion\":\"0.2.0\",\"id\":\"oci-container1\","
                              "\"status\":\"running\",\"pid\":4422,"
                              "\"bundle\":\"/containers/redis\","
                              "\"annotations\":{\"myKey\":\"myValue\"}}");
}

Test(state, pretty_is_indented)
{
        _cleanup_free_ char *out = NULL;
        herr_t err = { 0 };

        cr_assert_eq(oci_state_json(&base, true, &out, NULL, &err), 0, "%s", err.msg);
        cr_assert_not_null(strstr(out, "\n    \"id\": \"oci-container1\""), "%s", out);
}

Test(state, rejects_bad_status)
{
        struct oci_state s = base;
        char *out = NULL;
        herr_t err = { 0 };

        s.status = "sleeping";
        cr_assert_lt(oci_state_json(&s, false, &out, NULL, &err), 0);
        cr_assert_null(out);
        cr_assert_not_null(strstr(err.msg, "sleeping"), "%s", err.msg);
        cr_assert_not_null(strstr(err.msg, "oci-container1"), "%s", err.msg);
}

Test(state, accepts_runc_paused)
{
        struct oci_state s = base;
        char *out = NULL;
        herr_t err = { 0 };

        s.status = "paused";
        cr_assert_eq(oci_state_json(&s, false, &out, NULL, &err), 0, "%s", err.msg);
        cr_assert_not_null(strstr(out, "\"status\":\"paused\""), "%s", out);
        free(out);
}

Test(state, rejects_missing_bundle)
{
        struct oci_state s = base;
        char *out = NULL;
        herr_t err = { 0 };

        s.bundle = NULL;
        cr_assert_lt(oci_state_json(&s, false, &out, NULL, &err), 0);
        cr_assert_not_null(strstr(err.msg, "bundle"), "%s", err.msg);
}

Test(state, rejects_invalid_utf8)
{
        struct oci_kv kv[] = { { "k", "\xff\xfe" } };
        struct oci_state s = base;
        char *out = NULL;
        herr_t err = { 0 };

        s.annotations = kv;
        s.n_annotations = 1;
        cr_assert_lt(oci_state_json(&s, false, &out, NULL, &err), 0);
        cr_assert_null(out);
        cr_assert_not_null(strstr(err.msg, "UTF-8"), "%s", err.msg);
}
