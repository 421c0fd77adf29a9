/* namespaces/namespaces.h: create, join and map Linux namespaces. */
#ifndef HUSK_NAMESPACES_H
#define HUSK_NAMESPACES_H

#include <sys/types.h>

#include "../common/error.h"
#include "../spec/config.h"

/* CLONE_NEW* flag of a namespace type. */
int ns_clone_flag(enum oci_ns_type t);
/* Name of the namespace under /proc/<pid>/ns/ ("pid", "net", "mnt", ...). */
const char *ns_proc_name(enum oci_ns_type t);

/* The namespaces a config asks for: fds[t] is an open fd of the namespace
 * to join (path given), -1 otherwise; *new_flags are the CLONE_NEW* flags of
 * the namespaces to create. Each path is checked to be a namespace of the
 * declared type. On failure every fd is closed. */
struct ns_plan {
        int fds[OCI_NS_COUNT];
        int new_flags;
};
int ns_plan_open(const struct oci_config *c, struct ns_plan *plan, herr_t *err);
void ns_plan_close(struct ns_plan *plan);

/* Join the namespaces of plan with setns(2): the user namespace first, then
 * the others. Joining a pid or time namespace only affects children. */
int ns_plan_join(struct ns_plan *plan, herr_t *err);

/* Write /proc/<pid>/{uid_map,gid_map} from linux.uidMappings/gidMappings. */
int ns_write_id_maps(pid_t pid, const struct oci_linux *l, herr_t *err);

/* Write /proc/self/timens_offsets from linux.timeOffsets (call after
 * unshare(CLONE_NEWTIME), before any process enters the namespace). */
int ns_write_time_offsets(const struct oci_linux *l, herr_t *err);

/* Open /proc/<pid>/ns/<name> for every type, -1 where the kernel lacks it. */
int ns_open_of_pid(pid_t pid, int fds[OCI_NS_COUNT], herr_t *err);

#endif
