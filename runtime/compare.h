/* runtime/compare.h: `husk compare` — the same probe set in a native
 * container and in a VM-mode container, side by side. */
#ifndef HUSK_RUNTIME_COMPARE_H
#define HUSK_RUNTIME_COMPARE_H

#include <stdbool.h>
#include <yajl/yajl_tree.h>

#include "../common/error.h"

enum compare_mode { COMPARE_NATIVE, COMPARE_VM, COMPARE_MODES };

struct compare_side {
        bool ok;
        char why[512];          /* when !ok: why this mode could not run */
        yajl_val probe;         /* the probe's JSON */
        double start_ms;        /* `run` to the container's first output */
        double host_kib;        /* host memory of a running container */
};

struct compare_result {
        const char *image;
        const char *accel;      /* "KVM" or "TCG" (VM mode), or NULL */
        char date[32];
        struct compare_side side[COMPARE_MODES];
};

/* Run both modes (compare_run.c). */
int compare_run(const char *husk_root, const char *storage, const char *image, const char *probe,
                struct compare_result *r, herr_t *err);
void compare_result_free(struct compare_result *r);

/* Reports (compare_report.c). */
void compare_print_table(const struct compare_result *r);
int compare_json(const struct compare_result *r, char **out, herr_t *err);
int compare_svg(const struct compare_result *r, const char *path, herr_t *err);

#endif
