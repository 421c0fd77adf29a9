/* seccomp/seccomp_internal.h: shared between the files of seccomp/ only. */
#ifndef HUSK_SECCOMP_INTERNAL_H
#define HUSK_SECCOMP_INTERNAL_H

#include <stdbool.h>

#include "seccomp.h"

/* Load ctx's BPF with seccomp(2) directly, with the kernel flags of
 * s->flags (+ NEW_LISTENER when notify). *notify_fd: the listener or -1. */
int seccomp_raw_load(scmp_filter_ctx ctx, const struct oci_seccomp *s, bool notify,
                     int *notify_fd, herr_t *err);

/* The spec names husk recognises, by index; NULL past the end. */
const char *seccomp_action_name(size_t i);
const char *seccomp_op_name(size_t i);
const char *seccomp_flag_name(size_t i);
const char *seccomp_arch_name(size_t i, bool *supported);

#endif
