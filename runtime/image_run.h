/* runtime/image_run.h: run/create --image REF — a bundle made from an image
 * of the store (images/), so everything after works on a bundle as usual. */
#ifndef HUSK_RUNTIME_IMAGE_RUN_H
#define HUSK_RUNTIME_IMAGE_RUN_H

#include "../common/error.h"
#include "../images/images.h"

struct image_run {
        const char *ref;       /* --image */
        const char *name;      /* --name */
        const char *storage;
        char **cmd;            /* the command after the id or "--", or NULL */
        char *id;              /* given or generated */
        char *bundle;          /* STORAGE/containers/<id>/bundle */
        struct image_run_opts *opts; /* the front-door flags (frontdoor.h),
                                      * or NULL; .args is set from cmd */
};

/* Take the id and command from the positional arguments: [ID] [--] [CMD...]
 * (after "--" everything is the command). Generates an id when none. */
int image_run_args(struct image_run *r, int argc, char **argv, int optind_, herr_t *err);

/* Mount the rootfs and write the bundle. */
int image_run_prepare(struct image_run *r, bool terminal, herr_t *err);

/* Undo image_run_prepare (after a failed create, or at delete). */
void image_run_release(const char *storage, const char *id);

void image_run_free(struct image_run *r);

#endif
