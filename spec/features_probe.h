/* spec/features_probe.h: what libseccomp and the host offer, for the
 * features document. Internal to spec/ (and its tests). */
#ifndef HUSK_SPEC_FEATURES_PROBE_H
#define HUSK_SPEC_FEATURES_PROBE_H

#include <stdbool.h>
#include <stddef.h>

/* NULL-terminated name lists of features-linux.md / defs-linux.json. */
extern const char *const features_seccomp_actions[];
extern const char *const features_seccomp_operators[];
extern const char *const features_seccomp_known_flags[];

/* Room for every list below, NULL included. */
#define FEATURES_PROBE_MAX 32

/* The SCMP_ARCH_* names the installed libseccomp resolves; fills out (of
 * FEATURES_PROBE_MAX entries), NULL-terminated; returns the count. */
size_t features_seccomp_archs(const char **out);

/* The SECCOMP_FILTER_FLAG_* names the running kernel and libseccomp
 * support (seccomp_api_get(3) levels); same contract. */
size_t features_seccomp_supported_flags(const char **out);

/* Whether the LSM is active on this host. */
bool features_apparmor_enabled(void);
bool features_selinux_enabled(void);

#endif
