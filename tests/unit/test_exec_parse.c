/* Unit tests of exec's process.json parsing (runtime/exec.c). */
#include <criterion/criterion.h>
#include <string.h>

#include "../../runtime/exec.h"

static int parse(const char *json, struct oci_config **c, herr_t *e)
{
        memset(e, 0, sizeof *e);
        *c = NULL;
        return exec_parse_process(json, strlen(json), c, e);
}

Test(exec_parse, valid_process)
{
        struct oci_config *c;
        herr_t e;
        cr_assert_eq(parse("{\"terminal\":true,\"user\":{\"uid\":5,\"gid\":6,\"additionalGids\":[7]},"
                           "\"args\":[\"sh\",\"-c\",\"exit 3\"],\"env\":[\"A=b\"],\"cwd\":\"/tmp\","
                           "\"capabilities\":{\"effective\":[\"CAP_KILL\"]},\"noNewPrivileges\":true}",
                           &c, &e), 0, "%s", e.msg);
        const struct oci_process *p = c->process;
        cr_assert(p->terminal);
        cr_assert_eq(p->user.uid, 5);
        cr_assert_eq(p->user.gid, 6);
        cr_assert_eq(p->user.n_additional_gids, 1);
        cr_assert_eq(p->n_args, 3);
        cr_assert_str_eq(p->args[2], "exit 3");
        cr_assert_null(p->args[3]);
        cr_assert_str_eq(p->cwd, "/tmp");
        cr_assert(p->no_new_privileges);
        cr_assert_str_eq(p->capabilities->effective[0], "CAP_KILL");
        oci_config_free(c);
}

Test(exec_parse, errors_name_the_field)
{
        struct oci_config *c;
        herr_t e;
        cr_assert_lt(parse("{\"args\":\"sh\",\"cwd\":\"/\"}", &c, &e), 0);
        cr_assert(strstr(e.msg, "process.args"), "%s", e.msg);
        cr_assert_null(c);
        cr_assert_lt(parse("{\"args\":[],\"cwd\":\"/\"}", &c, &e), 0);
        cr_assert(strstr(e.msg, "process.args"), "%s", e.msg);
        cr_assert_lt(parse("{\"args\":[", &c, &e), 0);
        cr_assert(e.msg[0]);
        cr_assert_lt(parse("{\"args\":[\"sh\"],\"cwd\":\"/\",\"user\":{\"uid\":-1}}", &c, &e), 0);
        cr_assert(strstr(e.msg, "uid"), "%s", e.msg);
        cr_assert_lt(parse("[1,2]", &c, &e), 0);
        cr_assert(e.msg[0]);
}

/* The document is embedded in a wrapper: text after the object must not
 * smuggle other config sections in. */
Test(exec_parse, no_injection)
{
        struct oci_config *c;
        herr_t e;
        cr_assert_lt(parse("{\"args\":[\"sh\"],\"cwd\":\"/\"},\"linux\":{\"seccomp\":null}", &c, &e), 0);
        cr_assert(strstr(e.msg, "invalid JSON"), "%s", e.msg);
        cr_assert_null(c);
}
