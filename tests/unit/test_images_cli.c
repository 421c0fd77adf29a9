/* images/: `husk image ...` through image_cli(), output captured. Root. */
#include <criterion/criterion.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <yajl/yajl_tree.h>

#include "../../common/cleanup.h"
#include "../../common/fileutil.h"
#include "../../images/images.h"
#include "test_images_util.h"

static char *tmp, *store, *layout;

static void setup(void)
{
        tmp = tu_tmpdir();
        store = tu_fmt("%s/store", tmp);
        layout = tu_fmt("%s/layout", tmp);
}

static void teardown(void)
{
        tu_rmrf(tmp);
        free(tmp);
        tu_pool_free();
}

TestSuite(images_cli, .init = setup, .fini = teardown);

/* Run image_cli with stdout captured into *out (freed by the pool). */
static int run(char **out, herr_t *err, const char *a0, const char *a1, const char *a2, const char *a3)
{
        char *argv[] = { (char *)a0, (char *)a1, (char *)a2, (char *)a3, NULL };
        int argc = 0;
        while (argv[argc])
                argc++;
        char *path = tu_fmt("%s/stdout", tmp);
        fflush(stdout);
        int saved = dup(1), fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0600);
        cr_assert(saved >= 0 && fd >= 0);
        dup2(fd, 1);
        close(fd);
        int rc = image_cli(argc, argv, store, err);
        fflush(stdout);
        dup2(saved, 1);
        close(saved);
        char *buf = NULL;
        herr_t e = { 0 };
        cr_assert_eq(read_file(path, 1 << 20, &buf, NULL, &e), 0);
        *out = tu_fmt("%s", buf);
        free(buf);
        return rc;
}

static void two_images(void)
{
        struct tentry a[] = { { "a", 'f', "1" } }, b[] = { { "b", 'f', "2" } };
        struct tdesc L[2], m;
        tu_layer(layout, a, 1, "gzip", &L[0]);
        tu_image(layout, L, 1, "\"Cmd\":[\"sh\"]", "v1", &m);
        herr_t err = { 0 };
        char *out;
        cr_assert_eq(run(&out, &err, "import", tu_fmt("%s:v1", layout), NULL, NULL), 0, "%s", err.msg);
        cr_assert(strstr(out, "imported layout:v1 sha256:"), "%s", out);
        tu_layer(layout, b, 1, NULL, &L[1]);
        tu_image(layout, L, 2, "\"Cmd\":[\"sh\"]", "v2", &m);
        cr_assert_eq(run(&out, &err, "import", "--name", "other/img:2", layout), 0, "%s", err.msg);
}

Test(images_cli, import_ls_inspect_rm_prune)
{
        two_images();
        herr_t err = { 0 };
        char *out;
        cr_assert_eq(run(&out, &err, "ls", NULL, NULL, NULL), 0, "%s", err.msg);
        cr_assert(strstr(out, "REF") && strstr(out, "DIGEST") && strstr(out, "SIZE") && strstr(out, "CREATED"), "%s", out);
        cr_assert(strstr(out, "layout:v1") && strstr(out, "other/img:2") && strstr(out, "2024-05-06T07:08:09"), "%s", out);
        cr_assert_eq(run(&out, &err, "inspect", "other/img:2", NULL, NULL), 0, "%s", err.msg);
        char eb[128];
        yajl_val v = yajl_tree_parse(out, eb, sizeof eb);
        cr_assert(v, "inspect output is not JSON: %s\n%s", eb, out);
        const char *dp[] = { "digest", NULL }, *lp[] = { "manifest", "layers", NULL };
        cr_assert(yajl_tree_get(v, dp, yajl_t_string));
        yajl_val layers = yajl_tree_get(v, lp, yajl_t_array);
        cr_assert(layers && YAJL_GET_ARRAY(layers)->len == 2);
        char *digest = tu_fmt("%s", YAJL_GET_STRING(yajl_tree_get(v, dp, yajl_t_string)));
        yajl_tree_free(v);
        /* inspect by a digest prefix */
        cr_assert_eq(run(&out, &err, "inspect", tu_fmt("%.12s", digest + 7), NULL, NULL), 0, "%s", err.msg);
        cr_assert_eq(run(&out, &err, "inspect", "nope", NULL, NULL), 1);
        cr_assert(strstr(err.msg, "nope"), "%s", err.msg);
        cr_assert_eq(run(&out, &err, "rm", "layout:v1", NULL, NULL), 0, "%s", err.msg);
        cr_assert_eq(run(&out, &err, "prune", NULL, NULL, NULL), 0, "%s", err.msg);
        /* v1's manifest and config go; its layer is shared with other/img:2 */
        cr_assert(strstr(out, "pruned 2 "), "%s", out);
        cr_assert_eq(tu_count_entries(tu_fmt("%s/layers", store)), 4, "2 layers + 2 locks stay");
        cr_assert_eq(run(&out, &err, "rm", digest, NULL, NULL), 0, "%s", err.msg);
        cr_assert_eq(run(&out, &err, "prune", NULL, NULL, NULL), 0, "%s", err.msg);
        cr_assert_eq(tu_count_entries(tu_fmt("%s/blobs/sha256", store)), 0);
        cr_assert_eq(tu_count_entries(tu_fmt("%s/layers", store)), 0);
        cr_assert_eq(run(&out, &err, "ls", NULL, NULL, NULL), 0, "%s", err.msg);
        cr_assert(!strstr(out, "img"), "%s", out);
}

Test(images_cli, usage_errors)
{
        herr_t err = { 0 };
        char *out;
        cr_assert_eq(run(&out, &err, "frobnicate", NULL, NULL, NULL), 2);
        cr_assert(strstr(err.msg, "usage"), "%s", err.msg);
        cr_assert_eq(run(&out, &err, "import", NULL, NULL, NULL), 2);
        cr_assert_eq(run(&out, &err, "import", tu_fmt("%s/missing", tmp), NULL, NULL), 1);
        cr_assert(strstr(err.msg, "missing"), "%s", err.msg);
        cr_assert_eq(run(&out, &err, "inspect", NULL, NULL, NULL), 2);
}
