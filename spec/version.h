/* spec/version.h: the OCI runtime-spec versions husk speaks. One place for
 * the state document, `husk spec` and `husk features`. */
#ifndef HUSK_SPEC_VERSION_H
#define HUSK_SPEC_VERSION_H

/* The runtime-spec version of /work/shared/reference/runtime-spec (its
 * schema test configs and config-linux.md document v1.3.0). */
#define OCI_VERSION "1.3.0"

/* The oldest config.json ociVersion husk accepts (features ociVersionMin). */
#define OCI_VERSION_MIN "1.0.0"

#endif
