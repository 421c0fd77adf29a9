/* husk-image: a stand-alone driver of image_cli() and the rootfs/bundle
 * functions, used by `make image-busybox`, the shell tests and bench
 * before (and independently of) the wiring into husk's main.
 *   husk-image [--storage DIR] import|ls|inspect|rm|prune ...
 *   husk-image [--storage DIR] mount REF ID | release ID | bundle REF DIR ROOTFS [ARGS...]
 *   husk-image [--storage DIR] prepare REF ID [ARGS...]   (rootfs + bundle; prints the bundle) */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../../images/images.h"

static int extra(int argc, char **argv, const char *storage, herr_t *err)
{
        if (strcmp(argv[0], "mount") == 0 && argc == 3) {
                char *p = NULL;
                if (image_rootfs_mount(storage, argv[1], argv[2], &p, err) < 0)
                        return 1;
                puts(p);
                free(p);
                return 0;
        }
        if (strcmp(argv[0], "release") == 0 && argc == 2)
                return image_rootfs_release(storage, argv[1], err) < 0;
        if (strcmp(argv[0], "prepare") == 0 && argc >= 3) {
                struct image_run_opts o = { .args = argc > 3 ? argv + 3 : NULL };
                char *b = NULL;
                if (image_prepare_bundle(storage, argv[1], argv[2], &o, NULL, &b, err) < 0)
                        return 1;
                puts(b);
                free(b);
                return 0;
        }
        if (strcmp(argv[0], "bundle") == 0 && argc >= 4) {
                struct image_run_opts o = { .args = argc > 4 ? argv + 4 : NULL };
                return image_write_bundle(storage, argv[1], &o, argv[2], argv[3], err) < 0;
        }
        return -1;
}

int main(int argc, char **argv)
{
        const char *storage = IMAGE_DEFAULT_STORAGE;
        herr_t err = { 0 };
        argc--, argv++;
        if (argc >= 2 && strcmp(argv[0], "--storage") == 0) {
                storage = argv[1];
                argc -= 2, argv += 2;
        }
        int rc = argc ? extra(argc, argv, storage, &err) : -1;
        if (rc < 0)
                rc = image_cli(argc, argv, storage, &err);
        if (rc)
                fprintf(stderr, "husk-image: %s\n", err.msg);
        return rc;
}
