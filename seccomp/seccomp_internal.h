/* seccomp/seccomp_internal.h: shared between the files of seccomp/ only. */
#ifndef HUSK_SECCOMP_INTERNAL_H
#define HUSK_SECCOMP_INTERNAL_H

#include <stdbool.h>

#include "seccomp.h"

/* ctx's BPF (seccomp_export_bpf) into p->insns/p->len. */
int seccomp_export(scmp_filter_ctx ctx, struct seccomp_prog *p, herr_t *err);

/* The seccomp(2) flags of s->flags (+ NEW_LISTENER when notify). */
unsigned long seccomp_kernel_flags(const struct oci_seccomp *s, bool notify);

/* The filter cache (cache.c). The key covers the canonical section
 * (seccomp_gen), husk's and libseccomp's versions and the native arch.
 * get: 0 and p->insns/len filled on a valid entry, -1 on any miss. */
int seccomp_cache_key(const struct oci_seccomp *s, char **key, size_t *len);
int seccomp_cache_get(const char *dir, const char *key, size_t len, struct seccomp_prog *p);
int seccomp_cache_put(const char *dir, const char *key, size_t len, const struct seccomp_prog *p,
                      herr_t *err);

/* The spec names husk recognises, by index; NULL past the end. */
const char *seccomp_action_name(size_t i);
const char *seccomp_op_name(size_t i);
const char *seccomp_flag_name(size_t i);
const char *seccomp_arch_name(size_t i, bool *supported);

#endif
