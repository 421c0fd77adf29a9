/* spec/features_probe.h: what the host offers, for the features document.
 * Internal to spec/ (and its tests). */
#ifndef HUSK_SPEC_FEATURES_PROBE_H
#define HUSK_SPEC_FEATURES_PROBE_H

#include <stdbool.h>

/* Whether the LSM is active on this host. */
bool features_apparmor_enabled(void);
bool features_selinux_enabled(void);

#endif
