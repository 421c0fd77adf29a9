/* runtime/selfexe.h: CVE-2019-5736. A process of husk that enters a
 * container must not be running the host's husk binary, or the container
 * could open it through /proc/<pid>/exe and overwrite it. Before such a
 * command runs, husk re-executes itself from a sealed, read-only memfd copy
 * of its binary. */
#ifndef HUSK_RUNTIME_SELFEXE_H
#define HUSK_RUNTIME_SELFEXE_H

#include "../common/error.h"

/* Returns 0 when already running from a sealed copy; otherwise re-executes
 * (does not return) or returns -1 with err. */
int selfexe_ensure_sealed(char **argv, herr_t *err);

/* Remember the real path of husk in the environment (before the sealed
 * re-exec, whose /proc/self/exe is a memfd) for selfexe_companion. */
void selfexe_remember_path(void);

/* A program shipped with husk, next to the real husk binary: <dir>/NAME,
 * <dir>/build/BUILD_SUB/NAME (./husk in the source tree), then
 * <dir>/../libexec/husk/NAME (make install). malloc'ed, or NULL. */
char *selfexe_companion(const char *name, const char *build_sub);

#endif
