/* spec/generate.h: documents husk writes rather than reads. */
#ifndef HUSK_SPEC_GENERATE_H
#define HUSK_SPEC_GENERATE_H

#include <stdbool.h>
#include <stddef.h>

#include "../common/error.h"

/* The default config.json of `husk spec` (runc-like: busybox-friendly sh,
 * masked/readonly paths, default capability set, namespaces; rootless:
 * user namespace with the caller's ids mapped, no network namespace). */
int oci_default_config_json(bool rootless, char **out, size_t *len, herr_t *err);

/* The features document of features.md / features-linux.md, truthful
 * about what this build of husk supports. */
int oci_features_json(char **out, size_t *len, herr_t *err);

#endif
