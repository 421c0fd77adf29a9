/* runtime/init.h: the processes that become the container (internal). */
#ifndef HUSK_RUNTIME_INIT_H
#define HUSK_RUNTIME_INIT_H

#include <stdbool.h>

#include "../namespaces/namespaces.h"
#include "../spec/config.h"

struct init_args {
        const struct oci_config *cfg;
        const char *rootfs;
        const char *bundle;
        struct ns_plan *ns;
        int sync_fd;        /* to husk create */
        int start_fd;       /* listening start socket */
        int console_fd;     /* connected console socket or -1 */
        bool no_pivot;
        bool no_new_keyring;
        int preserve_fds;
};

/* Stage 1: joins and creates namespaces, forks the init, reports its pid
 * and exits. Never returns. */
__attribute__((noreturn)) void init_stage1(struct init_args *a);

/* Bring `lo` up in the current (new) network namespace (netlo.c). */
int net_lo_up(herr_t *err);

#endif
