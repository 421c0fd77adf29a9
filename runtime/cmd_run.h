/* runtime/cmd_run.h: argument handling shared by create and run. */
#ifndef HUSK_RUNTIME_CMD_RUN_H
#define HUSK_RUNTIME_CMD_RUN_H

#include "cli.h"
#include "container.h"
#include "frontdoor.h"
#include "image_run.h"
#include "network.h" /* net */

struct create_args {
        struct create_opts o;
        struct oci_config *cfg;
        char *json;
        char *bundle_abs;
        bool detach;
        bool keep;
        struct image_run img;  /* img.ref set: --image mode */
        bool img_ready;        /* the image rootfs is mounted */
        bool created;          /* container_create succeeded: the container
                                * owns the image rootfs from then on */
        struct net_cli net; /* net: --net, -p */
        struct frontdoor fd;   /* the engine flags of --image mode */
};

/* Exit status of husk's own errors in --image mode (like container
 * engines), distinct from any status of the container. */
#define EXIT_ENGINE_ERROR 125
/* --timeout reached: the container was killed (as timeout(1) exits). */
#define EXIT_TIMEOUT 124

int parse_create_args(struct cli *c, const char *cmd, int argc, char **argv, struct create_args *a, herr_t *err);
void free_create_args(struct create_args *a);
int cmd_run(struct cli *c, int argc, char **argv, herr_t *err);

#endif
