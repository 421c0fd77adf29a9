/* A full disk under the state root: a clear error, no half-written state
 * (state.json is written atomically), nothing left of the failed create,
 * and the containers already there still work. The root is a small tmpfs. */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <unistd.h>

#include "test_hardening_util.h"

static struct hk h;
static bool mounted;

static void teardown(void)
{
        if (mounted) {
                hk_run(&h, NULL, NULL, "delete --force @ok");
                umount2(h.root, MNT_DETACH);
                mounted = false;
        }
        hk_done(&h);
}

TestSuite(diskfull, .fini = teardown, .timeout = 60);

static void fill(const char *dir)
{
        /* fill the tmpfs to the last block */
        hk_sh(NULL, "dd if=/dev/zero of=%s/filler bs=4k 2>/dev/null; "
                    "dd if=/dev/zero of=%s/filler2 bs=64 2>/dev/null; true", dir, dir);
}

Test(diskfull, state_root_full)
{
        hk_init(&h, false);
        cr_assert_eq(hk_sh(NULL, "mkdir -p %s && mount -t tmpfs -o size=256k,nr_inodes=0 hkfull %s",
                           h.root, h.root), 0);
        mounted = true;
        hk_config(&h, &(struct hk_cfg){ .args = "\"sleep\",\"60\"" });
        char *out = NULL;
        cr_assert_eq(hk_run(&h, NULL, &out, "create --bundle %s @ok", h.bundle), 0, "%s", out);
        free(out);
        fill(h.root);

        /* create on a full disk: clear error, nothing left */
        int rc = hk_run(&h, NULL, &out, "create --bundle %s @full", h.bundle);
        cr_expect_neq(rc, 0, "create on a full disk succeeded: %s", out);
        cr_expect_not_null(strstr(out, "No space left on device"), "unclear error: %s", out);
        free(out);
        char *ls = NULL;
        hk_sh(&ls, "ls -A %s", h.root);
        cr_expect_null(strstr(ls, "full"), "the failed create left state: %s", ls);
        free(ls);
        rc = hk_run(&h, NULL, &out, "list");
        cr_expect_eq(rc, 0, "list on a full disk: %s", out);
        cr_expect_null(strstr(out, "full"), "%s", out);
        free(out);

        /* the existing container: intact state, still startable, deletable */
        rc = hk_run(&h, NULL, &out, "state @ok");
        cr_expect_eq(rc, 0, "state of the existing container: %s", out);
        cr_expect_not_null(strstr(out, "\"created\""), "%s", out);
        free(out);
        hk_sh(&ls, "ls -A %s/%sok", h.root, h.tag);
        cr_expect_null(strstr(ls, "tmp"), "temporary files in the state dir: %s", ls);
        free(ls);
        rc = hk_run(&h, NULL, &out, "start @ok");
        cr_expect_eq(rc, 0, "start on a full disk: %s", out);
        free(out);
        rc = hk_run(&h, NULL, &out, "delete --force @ok");
        cr_expect_eq(rc, 0, "delete on a full disk: %s", out);
        free(out);
        hk_sh(&ls, "ls -A %s", h.root);
        cr_expect_null(strstr(ls, h.tag), "left: %s", ls);
        free(ls);
}

/* Disk fills while state.json is written: each size from 0 to the whole
 * state.json, no create leaves a truncated state.json behind. */
Test(diskfull, never_half_written)
{
        hk_init(&h, false);
        cr_assert_eq(hk_sh(NULL, "mkdir -p %s && mount -t tmpfs -o size=256k hkfull %s", h.root, h.root), 0);
        mounted = true;
        hk_config(&h, &(struct hk_cfg){ .args = "\"sleep\",\"60\"" });
        /* leave 0..12 blocks free: the create dies at different writes */
        for (int free_blocks = 0; free_blocks <= 12; free_blocks++) {
                hk_sh(NULL, "rm -f %s/filler*", h.root);
                fill(h.root);
                hk_sh(NULL, "rm -f %s/filler2; truncate -s -%dK %s/filler", h.root, free_blocks * 4, h.root);
                char *out = NULL;
                int rc = hk_run(&h, NULL, &out, "create --bundle %s @f%d", h.bundle, free_blocks);
                cr_log_info("%d free blocks: rc %d: %s", free_blocks, rc, out);
                free(out);
                char *st = NULL;
                int src = hk_run(&h, NULL, &st, "state @f%d", free_blocks);
                if (rc == 0)
                        cr_expect_eq(src, 0, "created but no state: %s", st);
                else
                        cr_expect_neq(src, 0, "failed create left a container: %s", st);
                free(st);
                hk_run(&h, NULL, NULL, "delete --force @f%d", free_blocks);
        }
}
