/* spec/state.h: the OCI state document of runtime.md. */
#ifndef HUSK_SPEC_STATE_H
#define HUSK_SPEC_STATE_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

#include "config.h"

struct oci_state {
        const char *oci_version;
        const char *id;
        const char *status;    /* creating | created | running | stopped */
        pid_t pid;             /* 0: omitted (stopped) */
        const char *bundle;
        const struct oci_kv *annotations; size_t n_annotations;
};

/* Serialise to JSON (pretty: indented, as `husk state` prints it). */
int oci_state_json(const struct oci_state *s, bool pretty, char **out, size_t *len, herr_t *err);

#endif
