/* cgroups/cgroups.h: the cgroup v2 manager (husk is cgroup v2 only).
 *
 * A container's cgroup is a directory in the v2 hierarchy, found at
 * /sys/fs/cgroup (pure v2) or /sys/fs/cgroup/unified (hybrid hosts).
 * All functions return -1 and fill err on failure.
 */
#ifndef HUSK_CGROUPS_H
#define HUSK_CGROUPS_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

#include "../common/error.h"
#include "../spec/config.h"

/* The mount point of the v2 hierarchy, or NULL when the host has none. */
const char *cg_root(void);

/* Resolve linux.cgroupsPath (absolute, relative to husk's own cgroup, or
 * NULL for the default /husk/<id> under husk's own cgroup) to an absolute
 * directory below cg_root(). Refuses "..". *out is malloc'ed. */
int cg_resolve_path(const char *cgroups_path, const char *id, char **out, herr_t *err);

/* Create the cgroup directory (refusing one that already holds processes),
 * enable the controllers res needs up the tree and apply res (may be NULL).
 * A controller res needs that v2 lacks is an error naming it. On failure
 * nothing is left behind. */
int cg_create(const char *dir, const struct oci_resources *res, herr_t *err);

/* Open the cgroup directory (O_DIRECTORY|O_CLOEXEC) for clone3
 * CLONE_INTO_CGROUP. */
int cg_open(const char *dir, herr_t *err);

/* Move pid into the cgroup. */
int cg_enter(const char *dir, pid_t pid, herr_t *err);

/* Apply (or re-apply on update) linux.resources. */
int cg_apply(const char *dir, const struct oci_resources *res, herr_t *err);

/* Freeze (true) or thaw (false), waiting until cgroup.events says so. */
int cg_freeze(const char *dir, bool frozen, herr_t *err);

/* Send sig to every process of the cgroup (cgroup.kill for SIGKILL). */
int cg_signal_all(const char *dir, int sig, herr_t *err);

/* The pids in the cgroup (cgroup.procs), malloc'ed. */
int cg_pids(const char *dir, pid_t **pids, size_t *n, herr_t *err);

/* Remove the cgroup (killing what is left in it); ENOENT is success. */
int cg_destroy(const char *dir, herr_t *err);

#endif
