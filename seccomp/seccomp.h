/* seccomp/seccomp.h: linux.seccomp through libseccomp. */
#ifndef HUSK_SECCOMP_H
#define HUSK_SECCOMP_H

#include "../common/error.h"
#include "../spec/config.h"

/* Check a seccomp section without loading it (unknown action, arch, flag,
 * op: errors naming the JSON path). Unknown syscall names are not errors. */
int seccomp_validate(const struct oci_seccomp *s, herr_t *err);

/* Build and load the filter into the calling process. Called last before
 * exec. When an action is SCMP_ACT_NOTIFY, *notify_fd receives the listener
 * fd (else -1). */
int seccomp_load(const struct oci_seccomp *s, int *notify_fd, herr_t *err);

/* Send the listener fd with the container state to listenerPath as
 * config-linux.md specifies (SCM_RIGHTS, state JSON as the payload). */
int seccomp_send_listener(const char *listener_path, int notify_fd, const char *state_json,
                          herr_t *err);

#endif
