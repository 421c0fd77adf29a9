/* images/: layouts and archives written by real tools (umoci, skopeo), a
 * hand-built docker-save archive, concurrent imports, progress. Root. */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include "../../common/cleanup.h"
#include "../../common/fileutil.h"
#include "../../images/images.h"
#include "test_images_util.h"

static char *tmp, *store;

static void setup(void)
{
        tmp = tu_tmpdir();
        store = tu_fmt("%s/store", tmp);
}

static void teardown(void)
{
        tu_rmrf(tmp);
        free(tmp);
        tu_pool_free();
}

TestSuite(images_tools, .init = setup, .fini = teardown);

static void need(const char *tool)
{
        char cmd[128];
        snprintf(cmd, sizeof cmd, "command -v %s >/dev/null", tool);
        cr_assert_eq(system(cmd), 0, "%s is not installed (make deps)", tool);
}

/* Mount REF, check what is visible, release. */
static void check_rootfs(const char *ref, const char *const *present, const char *const *absent)
{
        char *rootfs = NULL;
        herr_t err = { 0 };
        cr_assert_eq(image_rootfs_mount(store, ref, "t", &rootfs, &err), 0, "%s", err.msg);
        for (; present && *present; present++)
                cr_assert(tu_exists(tu_fmt("%s/%s", rootfs, *present)), "%s: %s missing", ref, *present);
        for (; absent && *absent; absent++)
                cr_assert(!tu_exists(tu_fmt("%s/%s", rootfs, *absent)), "%s: %s visible", ref, *absent);
        cr_assert_eq(image_rootfs_release(store, "t", &err), 0, "%s", err.msg);
        free(rootfs);
}

static const char *const present[] = { "etc/keep", "data/old", NULL };
static const char *const absent[] = { "etc/hello", NULL };

Test(images_tools, umoci_skopeo_and_docker_archive)
{
        need("umoci");
        need("skopeo");
        cr_assert_eq(system(tu_fmt("sh images/make-umoci-layout.sh %s/u >/dev/null 2>&1", tmp)), 0,
                     "make-umoci-layout.sh failed");
        herr_t err = { 0 };
        char *ref = NULL;
        struct image_import_opts o = { .select_tag = "t" };
        cr_assert_eq(image_import(store, tu_fmt("%s/u/A", tmp), &o, &ref, &err), 0, "%s", err.msg);
        cr_assert_str_eq(ref, "A:t");
        free(ref);
        check_rootfs("A:t", present, absent);
        o.select_tag = "copied";
        o.name = "skopeo-copy";
        cr_assert_eq(image_import(store, tu_fmt("%s/u/C", tmp), &o, NULL, &err), 0, "%s", err.msg);
        check_rootfs("skopeo-copy", present, absent);
        cr_assert_eq(image_import(store, tu_fmt("%s/u/docker.tar", tmp), NULL, &ref, &err), 0, "%s", err.msg);
        cr_assert_str_eq(ref, "docker.io/local/umoci:v1");
        free(ref);
        check_rootfs("docker.io/local/umoci:v1", present, absent);
        char *bundle = tu_fmt("%s/bundle", tmp), *cfg = NULL;
        cr_assert_eq(image_write_bundle(store, "A:t", NULL, bundle, "/x", &err), 0, "%s", err.msg);
        cr_assert_eq(read_file(tu_fmt("%s/config.json", bundle), 1 << 20, &cfg, NULL, &err), 0);
        cr_assert(strstr(cfg, "FOO=umoci") && strstr(cfg, "\"/data\"") && strstr(cfg, "/bin/true"), "%s", cfg);
        free(cfg);
}

/* A docker-save directory: <hex>.json config, <id>/layer.tar, manifest.json. */
static void docker_dir(const char *d, bool corrupt)
{
        struct tentry e[] = { { "etc", 'd', NULL }, { "etc/keep", 'f', "k" }, { "data", 'd', NULL },
                              { "data/old", 'f', "o" } };
        struct tdesc L, C;
        tu_layer(d, e, ARRAY_SIZE(e), NULL, &L);
        char *cfg = tu_fmt("{\"created\":\"2020-01-01T00:00:00Z\",\"architecture\":\"amd64\",\"os\":\"linux\","
                           "\"config\":{\"Cmd\":[\"sh\"]},\"rootfs\":{\"type\":\"layers\",\"diff_ids\":[\"%s\"]}}",
                           L.digest);
        tu_blob(d, cfg, strlen(cfg), "", &C);
        char *cmd = tu_fmt("cd %s && mkdir l1 && mv blobs/sha256/%s l1/layer.tar && mv blobs/sha256/%s %s.json"
                           " && rm -r blobs && %s", d, L.digest + 7, C.digest + 7, C.digest + 7,
                           corrupt ? "printf X | dd of=l1/layer.tar bs=1 seek=520 conv=notrunc 2>/dev/null" : "true");
        cr_assert_eq(system(cmd), 0);
        char *mj = tu_fmt("[{\"Config\":\"%s.json\",\"RepoTags\":[\"hand/made:1\"],\"Layers\":[\"l1/layer.tar\"]}]",
                          C.digest + 7);
        herr_t err = { 0 };
        cr_assert_eq(write_file_atomic(tu_fmt("%s/manifest.json", d), mj, strlen(mj), 0644, &err), 0);
        cr_assert_eq(system(tu_fmt("tar -C %s -cf %s.tar .", d, d)), 0);
}

Test(images_tools, hand_built_docker_save_archive)
{
        docker_dir(tu_fmt("%s/dk", tmp), false);
        herr_t err = { 0 };
        char *ref = NULL;
        cr_assert_eq(image_import(store, tu_fmt("%s/dk.tar", tmp), NULL, &ref, &err), 0, "%s", err.msg);
        cr_assert_str_eq(ref, "hand/made:1");
        free(ref);
        check_rootfs("hand/made:1", present, absent);
        docker_dir(tu_fmt("%s/bad", tmp), true);
        struct image_import_opts o = { .name = "bad" };
        cr_assert_lt(image_import(store, tu_fmt("%s/bad.tar", tmp), &o, NULL, &err), 0);
        cr_assert(strstr(err.msg, "digest mismatch") && strstr(err.msg, "l1/layer.tar"), "%s", err.msg);
        char *dg = NULL;
        cr_assert_lt(image_resolve(store, "bad", &dg, &err), 0);
}

Test(images_tools, concurrent_imports_of_the_same_image)
{
        char *bb = tu_busybox_layout(tmp);
        pid_t pids[3];
        for (int i = 0; i < 3; i++) {
                pids[i] = fork();
                cr_assert_geq(pids[i], 0);
                if (pids[i] == 0) {
                        herr_t err = { 0 };
                        struct image_import_opts o = { .name = "busybox" };
                        int rc = image_import(store, bb, &o, NULL, &err);
                        if (rc < 0)
                                fprintf(stderr, "child %d: %s\n", i, err.msg);
                        _exit(rc < 0);
                }
        }
        for (int i = 0; i < 3; i++) {
                int st;
                cr_assert_eq(waitpid(pids[i], &st, 0), pids[i]);
                cr_assert(WIFEXITED(st) && WEXITSTATUS(st) == 0, "import %d failed", i);
        }
        cr_assert_eq(system(tu_fmt("test $(ls -A %s/layers | grep -c tmp) = 0", store)), 0, "temporary dirs left");
        cr_assert_eq(system(tu_fmt("cmp -s /bin/busybox %s/layers/*/bin/busybox", store)), 0,
                     "layer content corrupted");
        check_rootfs("busybox", (const char *const[]){ "bin/sh", "etc/passwd", NULL }, NULL);
}

struct prog { int calls; uint64_t last_done, last_total; };

static void on_progress(const char *digest, uint64_t done, uint64_t total, void *data)
{
        struct prog *p = data;
        cr_assert(strncmp(digest, "sha256:", 7) == 0);
        p->calls++;
        p->last_done = done;
        p->last_total = total;
}

Test(images_tools, progress_reported_for_large_layers)
{
        char *layout = tu_fmt("%s/big", tmp);
        char *big = malloc(12u << 20);
        memset(big, 'z', 12u << 20);
        big[(12u << 20) - 1] = '\0';
        struct tentry e[] = { { "big", 'f', big } };
        struct tdesc L, m;
        tu_layer(layout, e, 1, NULL, &L);
        free(big);
        tu_image(layout, &L, 1, "\"Cmd\":[\"sh\"]", "latest", &m);
        struct prog p = { 0 };
        herr_t err = { 0 };
        struct image_import_opts o = { .progress = on_progress, .progress_data = &p };
        cr_assert_eq(image_import(store, layout, &o, NULL, &err), 0, "%s", err.msg);
        cr_assert_geq(p.calls, 3, "expected progress every 4 MiB of a 12 MiB layer");
        cr_assert_eq(p.last_done, (uint64_t)L.size);
        cr_assert_eq(p.last_total, (uint64_t)L.size);
}

Test(images_tools, killed_import_leaves_no_partial_layer)
{
        char *layout = tu_fmt("%s/big", tmp);
        size_t sz = 64u << 20;
        char *big = malloc(sz);
        for (size_t i = 0; i < sz; i++)
                big[i] = (char)('a' + (i * 7919 % 26));
        big[sz - 1] = '\0';
        struct tentry e[] = { { "big1", 'f', big }, { "big2", 'f', big } };
        struct tdesc L, m;
        tu_layer(layout, e, 2, NULL, &L);
        free(big);
        tu_image(layout, &L, 1, "\"Cmd\":[\"sh\"]", "latest", &m);
        const char *final = tu_fmt("%s/layers/%s", store, L.digest + 7);
        for (int delay_ms = 50; delay_ms <= 250; delay_ms += 100) {
                pid_t pid = fork();
                cr_assert_geq(pid, 0);
                if (pid == 0) {
                        herr_t err = { 0 };
                        struct image_import_opts o = { .name = "big" };
                        _exit(image_import(store, layout, &o, NULL, &err) < 0);
                }
                usleep((useconds_t)delay_ms * 1000);
                kill(pid, SIGKILL);
                int st;
                waitpid(pid, &st, 0);
                if (WIFEXITED(st))
                        break; /* finished before the kill: nothing to check */
                struct stat sb;
                if (stat(final, &sb) == 0)
                        cr_assert_eq(system(tu_fmt("cmp -s %s/big1 %s/big2 && test $(stat -c %%s %s/big2) = %zu",
                                                   final, final, final, sz - 1)), 0,
                                     "a visible layer must be complete");
                herr_t err = { 0 };
                unsigned n;
                cr_assert_eq(image_prune(store, &n, &err), 0, "%s", err.msg);
                cr_assert_eq(system(tu_fmt("test $(ls -A %s/layers | grep -c tmp) = 0", store)), 0,
                             "prune must remove the killed import's temporary dir");
        }
        herr_t err = { 0 };
        struct image_import_opts o = { .name = "big" };
        cr_assert_eq(image_import(store, layout, &o, NULL, &err), 0, "re-import: %s", err.msg);
        cr_assert_eq(system(tu_fmt("test $(ls -A %s/layers | grep -c tmp) = 0", store)), 0);
        cr_assert_eq(system(tu_fmt("test $(stat -c %%s %s/big1) = %zu", final, sz - 1)), 0);
}
