/* runtime/hooks.h: run OCI hooks (config.md "POSIX-platform Hooks"): the
 * state on stdin, path/args/env as given, optional timeout in seconds. */
#ifndef HUSK_RUNTIME_HOOKS_H
#define HUSK_RUNTIME_HOOKS_H

#include "../common/error.h"
#include "../spec/config.h"

/* Run every hook of the list in order; the first failure stops and is
 * returned as "hook <which>[i] <path>: <cause>". */
int hooks_run(const struct oci_hook_list *l, const char *which, const char *state_json, herr_t *err);
/* The same, each hook chrooted into root (its path resolved there); root
 * NULL: as hooks_run. */
int hooks_run_in(const struct oci_hook_list *l, const char *which, const char *state_json, const char *root,
                 herr_t *err);

#endif
