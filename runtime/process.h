/* runtime/process.h: the last steps before the user's program runs, shared
 * by the container init and `exec`. Each runs in the container's
 * namespaces, as root of its user namespace, in this order:
 *   process_set_attrs  rlimits, oom_score_adj, scheduler, ioPriority,
 *                      personality, LSM exec labels (need privilege)
 *   process_set_ids    bounding set, groups, gid, uid, capabilities,
 *                      ambient set, no_new_privs
 *   process_exec       PATH lookup in process.env and execve
 */
#ifndef HUSK_RUNTIME_PROCESS_H
#define HUSK_RUNTIME_PROCESS_H

#include "../common/error.h"
#include "../spec/config.h"

typedef void (*process_warn_fn)(const char *msg);

/* Report the capabilities of p that husk cannot grant on this host (not in
 * its own bounding set): they are dropped at exec. */
void process_warn_caps(const struct oci_process *p, process_warn_fn warn);

int process_set_attrs(const struct oci_process *p, herr_t *err);
int process_set_ids(const struct oci_process *p, process_warn_fn warn, herr_t *err);
/* Change to process.cwd, resolved inside the current root without
 * following magic links (so /proc/self/fd/N cannot lead outside). */
int process_chdir(const struct oci_process *p, herr_t *err);
/* Only returns on failure. */
int process_exec(const struct oci_process *p, herr_t *err);

#endif
