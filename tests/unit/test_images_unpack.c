/* images/: malicious and unusual layer tarballs. Run as root. */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "../../common/cleanup.h"
#include "../../common/fileutil.h"
#include "../../images/images.h"
#include "test_images_util.h"

static char *tmp, *store, *layout, *outside;

static void setup(void)
{
        tmp = tu_tmpdir();
        store = tu_fmt("%s/store", tmp);
        layout = tu_fmt("%s/layout", tmp);
        outside = tu_fmt("%s/outside", tmp);
        cr_assert_eq(mkdir(outside, 0755), 0);
}

static void teardown(void)
{
        tu_rmrf(tmp);
        free(tmp);
        tu_pool_free();
}

TestSuite(images_unpack, .init = setup, .fini = teardown);

/* Import a one-layer image of entries; returns import's result. */
static struct tdesc last_layer;

static int import_entries(const struct tentry *e, size_t n, bool allow_devices, herr_t *err)
{
        struct tdesc L, m;
        tu_layer(layout, e, n, "gzip", &L);
        last_layer = L;
        tu_image(layout, &L, 1, "\"Cmd\":[\"sh\"]", "latest", &m);
        struct image_import_opts o = { .name = "evil", .allow_devices = allow_devices };
        return image_import(store, layout, &o, NULL, err);
}

/* Entries of layers/ other than lock files. */
static int layer_dirs(void)
{
        char cmd[512];
        snprintf(cmd, sizeof cmd, "test -z \"$(ls -A %s/layers | grep -v '\\.lock$')\"", store);
        return system(cmd) == 0 ? 0 : 1;
}

static void expect_rejected(const struct tentry *e, size_t n, const char *why)
{
        herr_t err = { 0 };
        cr_assert_lt(import_entries(e, n, false, &err), 0, "a layer with %s was accepted", why);
        cr_assert(strstr(err.msg, "entry") || strstr(err.msg, "hardlink"), "unclear error: %s", err.msg);
        cr_log_info("%s: %s", why, err.msg);
        char *dg = NULL;
        cr_assert_lt(image_resolve(store, "evil", &dg, &err), 0, "ref left after rejected import");
        cr_assert_eq(layer_dirs(), 0, "only lock files may remain in layers/ (no partial layer)");
        cr_assert_eq(tu_count_entries(outside), 0, "something was written outside the layer");
}

Test(images_unpack, absolute_path_rejected)
{
        struct tentry e[] = { { "ok", 'f', "x" }, { tu_fmt("%s/pwned", outside), 'f', "x" } };
        expect_rejected(e, 2, "an absolute path");
}

Test(images_unpack, dotdot_rejected)
{
        const char *rel = tu_fmt("a/../../../../../../../..%s/pwned", outside);
        struct tentry e[] = { { "a", 'd', NULL }, { rel, 'f', "x" } };
        expect_rejected(e, 2, "a .. component");
}

Test(images_unpack, symlink_escape_rejected)
{
        struct tentry e[] = { { "a", 'l', outside }, { "a/passwd", 'f', "root::0:0::/:/bin/sh\n" } };
        expect_rejected(e, 2, "a path through a symlink");
}

Test(images_unpack, relative_symlink_escape_rejected)
{
        struct tentry e[] = { { "up", 'l', "../../../../../../../../.." }, { "up/tmp/x", 'f', "x" } };
        expect_rejected(e, 2, "a path through a relative symlink");
}

Test(images_unpack, hardlink_escape_rejected)
{
        struct tentry e[] = { { "h", 'h', "../../etc/passwd" } };
        expect_rejected(e, 1, "a hardlink to ../../etc/passwd");
        struct tentry e2[] = { { "h", 'h', "/etc/passwd" } };
        expect_rejected(e2, 1, "a hardlink to /etc/passwd");
        struct tentry e3[] = { { "s", 'l', "/etc" }, { "h", 'h', "s/passwd" } };
        expect_rejected(e3, 2, "a hardlink through a symlink");
}

Test(images_unpack, device_nodes_rejected_unless_allowed)
{
        struct tentry e[] = { { "dev", 'd', NULL }, { "dev/sda", 'b', NULL } };
        expect_rejected(e, 2, "a block device");
        struct tentry c[] = { { "dev", 'd', NULL }, { "dev/mem", 'c', NULL } };
        expect_rejected(c, 2, "a char device");
        herr_t err = { 0 };
        cr_assert_eq(import_entries(e, 2, true, &err), 0, "%s", err.msg);
}

Test(images_unpack, overlong_name_rejected)
{
        char name[400];
        memset(name, 'n', sizeof name - 1);
        name[sizeof name - 1] = '\0';
        struct tentry e[] = { { name, 'f', "x" } };
        expect_rejected(e, 1, "a 399-byte name component");
}

Test(images_unpack, safe_links_inside_layer_work)
{
        struct tentry e[] = {
                { "bin", 'd', NULL }, { "bin/prog", 'f', "#!" }, { "bin/alias", 'h', "bin/prog" },
                { "bin/sl", 'l', "/bin/prog" }, { "etc", 'l', "/nonexistent/etc" },
                { "./dup", 'f', "first" }, { "dup", 'f', "second" },
        };
        herr_t err = { 0 };
        cr_assert_eq(import_entries(e, ARRAY_SIZE(e), false, &err), 0, "%s", err.msg);
        char *dg = NULL;
        cr_assert_eq(image_resolve(store, "evil", &dg, &err), 0);
        const char *root = tu_fmt("%s/layers/%s", store, last_layer.digest + 7);
        struct stat a, b;
        cr_assert_eq(stat(tu_fmt("%s/bin/prog", root), &a), 0);
        cr_assert_eq(stat(tu_fmt("%s/bin/alias", root), &b), 0);
        cr_assert_eq(a.st_ino, b.st_ino, "hardlink inside the layer must be a hardlink");
        char *s = NULL;
        cr_assert_eq(read_file(tu_fmt("%s/dup", root), 64, &s, NULL, &err), 0);
        cr_assert_str_eq(s, "second", "a later entry must replace an earlier one");
        free(s);
        free(dg);
}

Test(images_unpack, interrupted_unpack_leaves_no_layer_and_prune_cleans)
{
        /* a stale temporary dir of a crashed import */
        struct tentry e[] = { { "f", 'f', "x" } };
        herr_t err = { 0 };
        cr_assert_eq(import_entries(e, 1, false, &err), 0, "%s", err.msg);
        const char *stale = tu_fmt("%s/layers/.tmp-%064d-abcdef", store, 0);
        cr_assert_eq(mkdir(stale, 0700), 0);
        unsigned n = 0;
        cr_assert_eq(image_prune(store, &n, &err), 0, "%s", err.msg);
        cr_assert(!tu_exists(stale), "prune must remove stale temporary layer dirs");
        cr_assert_eq(tu_count_entries(tu_fmt("%s/layers", store)), 2, "the used layer stays");
}

Test(images_unpack, oversized_path_rejected)
{
        /* 5000 bytes of short components: a pax header longer than PATH_MAX */
        char *p = malloc(5001);
        for (int i = 0; i < 2500; i++)
                memcpy(p + 2 * i, "d/", 2);
        p[4999] = 'f';
        p[5000] = '\0';
        struct tentry e[] = { { p, 'f', "x" } };
        expect_rejected(e, 1, "a 5000-byte path");
        free(p);
}

Test(images_unpack, whiteout_cannot_name_dotdot)
{
        struct tentry e[] = { { "a", 'd', NULL }, { "a/.wh...", 'f', NULL } };
        expect_rejected(e, 2, "a whiteout of ..");
}
