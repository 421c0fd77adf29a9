/* runtime/cmd_run.h: argument handling shared by create and run. */
#ifndef HUSK_RUNTIME_CMD_RUN_H
#define HUSK_RUNTIME_CMD_RUN_H

#include "cli.h"
#include "container.h"
#include "network.h" /* net */

struct create_args {
        struct create_opts o;
        struct oci_config *cfg;
        char *json;
        char *bundle_abs;
        bool detach;
        bool keep;
        struct net_cli net; /* net: --net, -p */
};

int parse_create_args(const char *cmd, int argc, char **argv, struct create_args *a, herr_t *err);
void free_create_args(struct create_args *a);
int cmd_run(struct cli *c, int argc, char **argv, herr_t *err);

#endif
