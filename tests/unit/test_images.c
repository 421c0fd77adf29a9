/* images/: import, store, overlay rootfs, prune, bundle. Run as root. */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/xattr.h>
#include <unistd.h>

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

TestSuite(images, .init = setup, .fini = teardown);

#define path_in(base, rel) tu_fmt("%s/%s", (base), (rel))

static void import_ok(const char *path, const char *name)
{
        herr_t err = { 0 };
        struct image_import_opts o = { .name = name };
        cr_assert_eq(image_import(store, path, &o, NULL, &err), 0, "import %s: %s", path, err.msg);
}

Test(images, busybox_layout_import_mount_release)
{
        char *bb = tu_busybox_layout(tmp), *ref = NULL, *rootfs = NULL;
        herr_t err = { 0 };
        cr_assert_eq(image_import(store, bb, NULL, &ref, &err), 0, "%s", err.msg);
        cr_assert_str_eq(ref, "busybox-oci:latest");
        char *dg = NULL;
        cr_assert_eq(image_resolve(store, "busybox-oci", &dg, &err), 0, "%s", err.msg);
        cr_assert_eq(strncmp(dg, "sha256:", 7), 0);
        cr_assert_eq(image_rootfs_mount(store, "busybox-oci", "c1", &rootfs, &err), 0, "%s", err.msg);
        char *bin = path_in(rootfs, "bin/busybox"), *up = path_in(store, "containers/c1/upper/new");
        cr_assert(tu_exists(bin), "busybox missing in the overlay rootfs");
        char *nf = path_in(rootfs, "new");
        herr_t e2 = { 0 };
        cr_assert_eq(write_file_atomic(nf, "x", 1, 0644, &e2), 0, "%s", e2.msg);
        cr_assert(tu_exists(up), "writes must land in the container's upper dir");
        /* a second mount of the same id is refused */
        cr_assert_lt(image_rootfs_mount(store, "busybox-oci", "c1", NULL, &err), 0);
        cr_assert_eq(image_rootfs_release(store, "c1", &err), 0, "%s", err.msg);
        char *cdir = path_in(store, "containers/c1");
        cr_assert(!tu_exists(cdir), "release must remove the container dir");
        cr_assert_eq(tu_count_entries(path_in(store, "layers")), 2, "layer dir + lock stay"); free(ref); free(rootfs); free(dg); 
}

Test(images, layout_tarball_import_and_tag_selection)
{
        char *bb = tu_busybox_layout(tmp), cmd[1024];
        snprintf(cmd, sizeof cmd, "tar -C %s -cf %s/bb.tar .", bb, tmp);
        cr_assert_eq(system(cmd), 0);
        char *tarp = path_in(tmp, "bb.tar"), *ref = NULL;
        herr_t err = { 0 };
        struct image_import_opts o = { .select_tag = "latest" };
        cr_assert_eq(image_import(store, tarp, &o, &ref, &err), 0, "%s", err.msg);
        cr_assert_str_eq(ref, "bb:latest");
        o.select_tag = "nope";
        cr_assert_lt(image_import(store, tarp, &o, NULL, &err), 0);
        cr_assert(strstr(err.msg, "nope"), "%s", err.msg);
        cr_assert_eq(tu_count_entries(path_in(store, "tmp")), 0, "staging dirs must be removed"); free(ref);
}

static struct tdesc wh_layers[2];

static void whiteout_image(void)
{
        struct tentry l1[] = {
                { "a", 'd', NULL }, { "a/keep", 'f', "k" }, { "a/gone", 'f', "g" },
                { "d", 'd', NULL }, { "d/old", 'f', "o" }, { "d/sub", 'd', NULL }, { "d/sub/x", 'f', "x" },
        };
        struct tentry l2[] = {
                { "a/.wh.gone", 'f', NULL }, { "d", 'd', NULL }, { "d/.wh..wh..opq", 'f', NULL },
                { "d/new", 'f', "n" },
        };
        struct tdesc *L = wh_layers, m;
        tu_layer(layout, l1, ARRAY_SIZE(l1), "gzip", &L[0]);
        tu_layer(layout, l2, ARRAY_SIZE(l2), "zstd", &L[1]);
        tu_image(layout, L, 2, "\"Cmd\":[\"sh\"]", "latest", &m);
}

Test(images, whiteouts_and_opaque_dirs_in_overlay)
{
        whiteout_image();
        import_ok(layout, "wh");
        char *rootfs = NULL;
        herr_t err = { 0 };
        cr_assert_eq(image_rootfs_mount(store, "wh", "w1", &rootfs, &err), 0, "%s", err.msg);
        const char *present[] = { "a/keep", "d/new" }, *absent[] = { "a/gone", "d/old", "d/sub" };
        for (size_t i = 0; i < 2; i++)
                cr_assert(tu_exists(path_in(rootfs, present[i])), "%s should be visible", present[i]);
        for (size_t i = 0; i < 3; i++)
                cr_assert(!tu_exists(path_in(rootfs, absent[i])), "%s should be hidden", absent[i]);
        cr_assert_eq(image_rootfs_release(store, "w1", &err), 0, "%s", err.msg);
        free(rootfs);
}

Test(images, whiteout_representation_in_layer_dir)
{
        whiteout_image();
        import_ok(layout, "wh");
        const char *top = tu_fmt("%s/layers/%s", store, wh_layers[1].digest + 7);
        struct stat st;
        cr_assert_eq(lstat(tu_fmt("%s/a/gone", top), &st), 0, "whiteout a/gone not created");
        cr_assert(S_ISCHR(st.st_mode) && st.st_rdev == 0, "whiteout must be char 0:0");
        char v[8] = "";
        cr_assert_eq(lgetxattr(tu_fmt("%s/d", top), "trusted.overlay.opaque", v, sizeof v), 1,
                     "opaque xattr missing");
        cr_assert_eq(v[0], 'y');
        const char *bottom = tu_fmt("%s/layers/%s", store, wh_layers[0].digest + 7);
        cr_assert_eq(lstat(tu_fmt("%s/a/gone", bottom), &st), 0);
        cr_assert(S_ISREG(st.st_mode), "the lower layer keeps its file");
        cr_assert_lt(lgetxattr(tu_fmt("%s/d", bottom), "trusted.overlay.opaque", v, sizeof v), 0);
}

Test(images, shared_layer_unpacked_once)
{
        struct tentry base[] = { { "etc", 'd', NULL }, { "etc/os", 'f', "shared" } };
        struct tentry top1[] = { { "one", 'f', "1" } }, top2[] = { { "two", 'f', "2" } };
        struct tdesc L[2], m;
        tu_layer(layout, base, 2, "gzip", &L[0]);
        tu_layer(layout, top1, 1, NULL, &L[1]);
        tu_image(layout, L, 2, "\"Cmd\":[\"one\"]", "latest", &m);
        import_ok(layout, "one");
        char *lp = path_in(store, "layers"), *shared = NULL;
        shared = tu_fmt("%s/%s/etc/os", lp, L[0].digest + 7);
        struct stat a, b;
        cr_assert_eq(stat(shared, &a), 0);
        tu_layer(layout, top2, 1, NULL, &L[1]);
        tu_image(layout, L, 2, "\"Cmd\":[\"two\"]", "latest", &m);
        import_ok(layout, "two");
        cr_assert_eq(stat(shared, &b), 0);
        cr_assert_eq(a.st_ino, b.st_ino, "shared layer was unpacked again");
        cr_assert_eq(tu_count_entries(lp), 6, "3 layer dirs + 3 locks expected"); 
}

static void corrupt_case(bool size_only)
{
        struct tentry l1[] = { { "f", 'f', "hello world" } };
        struct tdesc L, m;
        tu_layer(layout, l1, 1, NULL, &L);
        if (size_only) {
                L.size += 1;
        } else {
                char *p = path_in(layout, "blobs/sha256"), *f;
                f = tu_fmt("%s/%s", p, L.digest + 7);
                FILE *fp = fopen(f, "r+");
                fseek(fp, 600, SEEK_SET);
                fputc('X', fp);
                fclose(fp); 
        }
        tu_image(layout, &L, 1, "\"Cmd\":[\"sh\"]", "latest", &m);
        herr_t err = { 0 };
        struct image_import_opts o = { .name = "bad" };
        cr_assert_lt(image_import(store, layout, &o, NULL, &err), 0);
        cr_assert(strstr(err.msg, L.digest), "error must name the blob: %s", err.msg);
        cr_assert(strstr(err.msg, size_only ? "size mismatch" : "digest mismatch"), "%s", err.msg);
        char *dg = NULL;
        cr_assert_lt(image_resolve(store, "bad", &dg, &err), 0, "no ref may be left");
        cr_assert_eq(tu_count_entries(path_in(store, "layers")), 0, "no layer may be left");
        char *blob = NULL;
        blob = tu_fmt("%s/blobs/sha256/%s", store, L.digest + 7);
        cr_assert(!tu_exists(blob), "the corrupt blob must not enter the store");
}

Test(images, corrupted_blob_digest_mismatch) { corrupt_case(false); }
Test(images, corrupted_blob_size_mismatch) { corrupt_case(true); }

Test(images, rm_and_prune_keep_what_is_used)
{
        struct tentry base[] = { { "b", 'f', "base" } }, t1[] = { { "x", 'f', "1" } }, t2[] = { { "y", 'f', "2" } };
        struct tdesc L[2], m;
        tu_layer(layout, base, 1, NULL, &L[0]);
        tu_layer(layout, t1, 1, NULL, &L[1]);
        tu_image(layout, L, 2, "\"Cmd\":[\"a\"]", "latest", &m);
        import_ok(layout, "a");
        char *only_a = path_in(store, "layers"), *base_dir = NULL, *a_dir = NULL;
        a_dir = tu_fmt("%s/%s", only_a, L[1].digest + 7);
        base_dir = tu_fmt("%s/%s", only_a, L[0].digest + 7);
        tu_layer(layout, t2, 1, NULL, &L[1]);
        tu_image(layout, L, 2, "\"Cmd\":[\"b\"]", "latest", &m);
        import_ok(layout, "b");
        herr_t err = { 0 };
        unsigned n = 0;
        cr_assert_eq(image_rootfs_mount(store, "a", "ca", NULL, &err), 0, "%s", err.msg);
        cr_assert_eq(image_remove(store, "a", &err), 0, "%s", err.msg);
        cr_assert_lt(image_remove(store, "a", &err), 0);
        cr_assert_eq(image_prune(store, &n, &err), 0, "%s", err.msg);
        cr_assert(tu_exists(a_dir), "a layer used by a container was pruned");
        cr_assert_eq(image_rootfs_release(store, "ca", &err), 0, "%s", err.msg);
        cr_assert_eq(image_prune(store, &n, &err), 0, "%s", err.msg);
        cr_assert(!tu_exists(a_dir), "unused layer not pruned");
        cr_assert(tu_exists(base_dir), "layer of image b was pruned");
        cr_assert_gt(n, 0);
        cr_assert_eq(image_remove(store, "b", &err), 0, "%s", err.msg);
        cr_assert_eq(image_prune(store, &n, &err), 0, "%s", err.msg);
        cr_assert_eq(tu_count_entries(path_in(store, "layers")), 0);
        cr_assert_eq(tu_count_entries(path_in(store, "blobs/sha256")), 0); 
}

Test(images, bundle_from_image_config)
{
        struct tentry l1[] = {
                { "etc", 'd', NULL },
                { "etc/passwd", 'f', "root:x:0:0::/root:/bin/sh\nappuser:x:1000:1001::/home/app:/bin/sh\n" },
                { "etc/group", 'f', "root:x:0:\nstaff:x:50:\n" },
        };
        struct tdesc L, m;
        tu_layer(layout, l1, 3, "gzip", &L);
        tu_image(layout, &L, 1,
                 "\"Env\":[\"PATH=/bin\",\"FOO=image\",\"KEEP=1\"],\"Entrypoint\":[\"/bin/ep\"],"
                 "\"Cmd\":[\"--flag\"],\"WorkingDir\":\"/srv\",\"User\":\"appuser\"", "latest", &m);
        import_ok(layout, "app");
        char *rootfs = NULL, *bundle = path_in(tmp, "bundle");
        herr_t err = { 0 };
        cr_assert_eq(image_rootfs_mount(store, "app", "b1", &rootfs, &err), 0, "%s", err.msg);
        char *env[] = { "FOO=cli", NULL };
        struct image_run_opts o = { .env = env };
        cr_assert_eq(image_write_bundle(store, "app", &o, bundle, rootfs, &err), 0, "%s", err.msg);
        char *cfg = NULL;
        cr_assert_eq(read_file(path_in(bundle, "config.json"), 1 << 20, &cfg, NULL, &err), 0);
        const char *want[] = { "\"/bin/ep\"", "\"--flag\"", "\"FOO=cli\"", "\"KEEP=1\"", "\"/srv\"",
                               "\"uid\": 1000", "\"gid\": 1001", "\"noNewPrivileges\": true", rootfs };
        for (size_t i = 0; i < ARRAY_SIZE(want); i++)
                cr_assert(strstr(cfg, want[i]), "config.json lacks %s:\n%s", want[i], cfg);
        cr_assert(!strstr(cfg, "FOO=image"), "opts env must override the image's");
        cr_assert(!strstr(cfg, "CAP_NET_RAW"));
        free(cfg);
        char *args[] = { "echo", "hi", NULL };
        struct image_run_opts o2 = { .args = args, .user = "1:staff" };
        cr_assert_eq(image_write_bundle(store, "app", &o2, bundle, rootfs, &err), 0, "%s", err.msg);
        cr_assert_eq(read_file(path_in(bundle, "config.json"), 1 << 20, &cfg, NULL, &err), 0);
        cr_assert(strstr(cfg, "\"echo\"") && !strstr(cfg, "/bin/ep"), "%s", cfg);
        cr_assert(strstr(cfg, "\"uid\": 1,") && strstr(cfg, "\"gid\": 50"), "%s", cfg);
        struct image_run_opts o3 = { .user = "nosuch" };
        cr_assert_lt(image_write_bundle(store, "app", &o3, bundle, rootfs, &err), 0);
        cr_assert(strstr(err.msg, "nosuch"), "%s", err.msg);
        cr_assert_eq(image_rootfs_release(store, "b1", &err), 0, "%s", err.msg);
        free(cfg); free(rootfs); 
}

Test(images, multi_arch_index_picks_linux_amd64)
{
        struct tentry arm[] = { { "arch", 'f', "arm64" } }, amd[] = { { "arch", 'f', "amd64" } };
        struct tdesc La, Lb, ma, mb, idx;
        tu_layer(layout, arm, 1, NULL, &La);
        tu_image(layout, &La, 1, "\"Cmd\":[\"sh\"]", "x", &ma);
        tu_layer(layout, amd, 1, NULL, &Lb);
        tu_image(layout, &Lb, 1, "\"Cmd\":[\"sh\"]", "x", &mb);
        char *inner = tu_fmt("{\"schemaVersion\":2,\"mediaType\":\"application/vnd.oci.image.index.v1+json\","
                             "\"manifests\":[{\"mediaType\":\"%s\",\"digest\":\"%s\",\"size\":%lld,"
                             "\"platform\":{\"architecture\":\"arm64\",\"os\":\"linux\"}},"
                             "{\"mediaType\":\"%s\",\"digest\":\"%s\",\"size\":%lld,"
                             "\"platform\":{\"architecture\":\"amd64\",\"os\":\"linux\"}}]}",
                             ma.media_type, ma.digest, (long long)ma.size, mb.media_type, mb.digest,
                             (long long)mb.size);
        tu_blob(layout, inner, strlen(inner), "application/vnd.oci.image.index.v1+json", &idx);
        char *top = tu_fmt("{\"schemaVersion\":2,\"manifests\":[{\"mediaType\":\"%s\",\"digest\":\"%s\","
                           "\"size\":%lld,\"annotations\":{\"org.opencontainers.image.ref.name\":\"multi\"}}]}",
                           idx.media_type, idx.digest, (long long)idx.size);
        herr_t err = { 0 };
        cr_assert_eq(write_file_atomic(path_in(layout, "index.json"), top, strlen(top), 0644, &err), 0);
        import_ok(layout, "multi");
        char *dg = NULL;
        cr_assert_eq(image_resolve(store, "multi", &dg, &err), 0, "%s", err.msg);
        cr_assert_str_eq(dg, mb.digest, "the linux/amd64 manifest must be chosen");
        free(dg);
}

Test(images, layout_symlinks_cannot_reach_host_files)
{
        struct tentry a[] = { { "f", 'f', "x" } };
        struct tdesc L, m;
        tu_layer(layout, a, 1, NULL, &L);
        tu_image(layout, &L, 1, "\"Cmd\":[\"sh\"]", "latest", &m);
        /* a layout whose index.json is a symlink to a host file */
        char *cmd = tu_fmt("cd %s && rm index.json && ln -s /etc/hostname index.json && tar -cf ../l.tar .",
                           layout);
        cr_assert_eq(system(cmd), 0);
        herr_t err = { 0 };
        cr_assert_lt(image_import(store, path_in(tmp, "l.tar"), NULL, NULL, &err), 0);
        cr_assert(strstr(err.msg, "index.json"), "%s", err.msg);
}

Test(images, many_layers_mount_in_order)
{
        /* 60 layers: the lowerdir list is longer than one page */
        struct tdesc L[60], m;
        for (int i = 0; i < 60; i++) {
                char *name = tu_fmt("f%02d", i), *val = tu_fmt("%d", i);
                struct tentry e[] = { { name, 'f', val }, { "top", 'f', val } };
                tu_layer(layout, e, 2, NULL, &L[i]);
        }
        tu_image(layout, L, 60, "\"Cmd\":[\"sh\"]", "latest", &m);
        import_ok(layout, "many");
        char *rootfs = NULL, *top = NULL;
        herr_t err = { 0 };
        cr_assert_eq(image_rootfs_mount(store, "many", "m1", &rootfs, &err), 0, "%s", err.msg);
        cr_assert(tu_exists(path_in(rootfs, "f00")) && tu_exists(path_in(rootfs, "f59")));
        cr_assert_eq(read_file(path_in(rootfs, "top"), 64, &top, NULL, &err), 0, "%s", err.msg);
        cr_assert_str_eq(top, "59", "the last layer must be on top");
        cr_assert_eq(image_rootfs_release(store, "m1", &err), 0, "%s", err.msg);
        free(rootfs);
        free(top);
}

Test(images, containers_of_one_image_are_isolated)
{
        struct tentry e[] = { { "etc", 'd', NULL }, { "etc/conf", 'f', "orig" } };
        struct tdesc L, m;
        tu_layer(layout, e, 2, "gzip", &L);
        tu_image(layout, &L, 1, "\"Cmd\":[\"sh\"]", "latest", &m);
        import_ok(layout, "shared");
        char *r1 = NULL, *r2 = NULL, *s = NULL;
        herr_t err = { 0 };
        cr_assert_eq(image_rootfs_mount(store, "shared", "one", &r1, &err), 0, "%s", err.msg);
        cr_assert_eq(image_rootfs_mount(store, "shared", "two", &r2, &err), 0, "%s", err.msg);
        cr_assert_eq(write_file_atomic(path_in(r1, "etc/conf"), "changed", 7, 0644, &err), 0, "%s", err.msg);
        cr_assert_eq(unlink(path_in(r2, "etc/conf")), 0);
        cr_assert_eq(read_file(path_in(r1, "etc/conf"), 64, &s, NULL, &err), 0);
        cr_assert_str_eq(s, "changed");
        free(s);
        cr_assert(!tu_exists(path_in(r2, "etc/conf")));
        cr_assert_eq(read_file(tu_fmt("%s/layers/%s/etc/conf", store, L.digest + 7), 64, &s, NULL, &err), 0);
        cr_assert_str_eq(s, "orig", "a container wrote into the shared layer");
        free(s);
        cr_assert_eq(image_rootfs_release(store, "one", &err), 0, "%s", err.msg);
        cr_assert(!tu_exists(path_in(r2, "etc/conf")), "releasing one container changed another");
        cr_assert(tu_exists(path_in(r2, "etc")));
        cr_assert_eq(image_rootfs_release(store, "two", &err), 0, "%s", err.msg);
        cr_assert_eq(tu_count_entries(path_in(store, "containers")), 0);
        free(r1);
        free(r2);
}

Test(images, prepare_bundle_and_release)
{
        char *bb = tu_busybox_layout(tmp), *bundle = NULL, *cfg = NULL;
        herr_t err = { 0 };
        struct image_import_opts io = { .name = "busybox" };
        cr_assert_eq(image_import(store, bb, &io, NULL, &err), 0, "%s", err.msg);
        char *args[] = { "sh", "-c", "echo hello", NULL };
        struct image_run_opts o = { .args = args, .terminal = true };
        cr_assert_eq(image_prepare_bundle(store, "busybox", "demo", &o, NULL, &bundle, &err), 0, "%s", err.msg);
        cr_assert_str_eq(bundle, path_in(store, "containers/demo/bundle"));
        cr_assert_eq(read_file(path_in(bundle, "config.json"), 1 << 20, &cfg, NULL, &err), 0, "%s", err.msg);
        cr_assert(strstr(cfg, "\"echo hello\"") && strstr(cfg, "\"terminal\": true") && strstr(cfg, "TERM=xterm"),
                  "%s", cfg);
        cr_assert(strstr(cfg, path_in(store, "containers/demo/rootfs")), "%s", cfg);
        cr_assert(tu_exists(path_in(store, "containers/demo/rootfs/bin/busybox")));
        /* a failing prepare (no such user) leaves nothing behind */
        struct image_run_opts bad = { .user = "nobody-here" };
        cr_assert_lt(image_prepare_bundle(store, "busybox", "demo2", &bad, NULL, NULL, &err), 0);
        cr_assert(!tu_exists(path_in(store, "containers/demo2")), "failed prepare left a container dir");
        cr_assert_eq(image_rootfs_release(store, "demo", &err), 0, "%s", err.msg);
        cr_assert(!tu_exists(bundle));
        free(bundle);
        free(cfg);
}

Test(images, diff_id_mismatch_rejected)
{
        struct tentry a[] = { { "f", 'f', "real" } }, b[] = { { "f", 'f', "other" } };
        struct tdesc L, other, m;
        tu_layer(layout, a, 1, "gzip", &L);
        tu_layer(layout, b, 1, "gzip", &other);
        memcpy(L.diff_id, other.diff_id, sizeof L.diff_id); /* config lies about the content */
        tu_image(layout, &L, 1, "\"Cmd\":[\"sh\"]", "latest", &m);
        herr_t err = { 0 };
        struct image_import_opts o = { .name = "liar" };
        cr_assert_lt(image_import(store, layout, &o, NULL, &err), 0);
        cr_assert(strstr(err.msg, "diff_id mismatch") && strstr(err.msg, L.digest), "%s", err.msg);
        char *dg = NULL;
        cr_assert_lt(image_resolve(store, "liar", &dg, &err), 0);
        cr_assert_eq(system(tu_fmt("test -z \"$(ls -A %s/layers | grep -v lock)\"", store)), 0,
                     "no layer may be left");
}
