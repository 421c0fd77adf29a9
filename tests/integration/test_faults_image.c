/* Image import killed after a blob (image.after-blob, FAULTS=1 husk-image)
 * and image import onto a full store: no ref, no partial blob or layer,
 * prune reclaims everything, a new import succeeds. Skipped without
 * HUSK_IMAGE_FAULTS_BIN and HUSK_OCI_LAYOUT (make integration sets them). */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <unistd.h>

#include "test_hardening_util.h"

static struct hk h;
static char store[400];
static bool mounted;

static void teardown(void)
{
        if (mounted)
                umount2(store, MNT_DETACH);
        mounted = false;
        hk_done(&h);
}

TestSuite(faults_image, .fini = teardown, .timeout = 120);

static const char *img_bin, *layout;

static void need(void)
{
        img_bin = getenv("HUSK_IMAGE_FAULTS_BIN");
        layout = getenv("HUSK_OCI_LAYOUT");
        if (!img_bin || access(img_bin, X_OK) < 0 || !layout || access(layout, F_OK) < 0)
                cr_skip_test("HUSK_IMAGE_FAULTS_BIN / HUSK_OCI_LAYOUT not set (make integration)");
        hk_init(&h, false);
        snprintf(store, sizeof store, "%s/store", h.dir);
}

static int img(char **out, const char *env, const char *args)
{
        return hk_sh(out, "%s %s --storage %s %s", env, img_bin, store, args);
}

/* nothing half-written: temporary files, partial layers */
static void expect_no_partials(void)
{
        char *o = NULL;
        hk_sh(&o, "cd %s && find . -name '.tmp*' -o -path './tmp/*' | head", store);
        cr_expect_str_eq(o, "", "partial files left: %s", o);
        free(o);
}

Test(faults_image, killed_after_blob)
{
        need();
        char *out = NULL;
        char args[600];
        snprintf(args, sizeof args, "import --name busybox %s", layout);
        int rc = img(&out, "HUSK_FAULT=image.after-blob", args);
        cr_assert_eq(rc, 137, "not killed: %d %s", rc, out);
        free(out);
        expect_no_partials();
        cr_expect_eq(img(&out, "", "ls"), 0, "%s", out);
        cr_expect_null(strstr(out, "busybox"), "a ref to a half-imported image: %s", out);
        free(out);
        cr_expect_eq(img(&out, "", "prune"), 0, "prune: %s", out);
        free(out);
        hk_sh(&out, "(ls -A %s/blobs/sha256; ls -A %s/layers) | wc -l", store, store);
        cr_expect_eq(atoi(out), 0, "prune left %s blobs or layers", out);
        free(out);
        cr_expect_eq(img(&out, "", args), 0, "import after the crash: %s", out);
        free(out);
        cr_expect_eq(img(&out, "", "ls"), 0);
        cr_expect_not_null(strstr(out, "busybox"), "%s", out);
        free(out);
        expect_no_partials();
}

Test(faults_image, store_full)
{
        need();
        cr_assert_eq(hk_sh(NULL, "mkdir -p %s && mount -t tmpfs -o size=512k hkimg %s", store, store), 0);
        mounted = true;
        char *out = NULL;
        char args[600];
        snprintf(args, sizeof args, "import --name busybox %s", layout);
        int rc = img(&out, "", args);
        cr_expect_neq(rc, 0, "import into a full store succeeded: %s", out);
        cr_expect_not_null(strstr(out, "No space left on device"), "unclear error: %s", out);
        free(out);
        expect_no_partials();
        cr_expect_eq(img(&out, "", "ls"), 0, "%s", out);
        cr_expect_null(strstr(out, "busybox"), "%s", out);
        free(out);
        cr_expect_eq(img(&out, "", "prune"), 0, "prune: %s", out);
        free(out);
}
