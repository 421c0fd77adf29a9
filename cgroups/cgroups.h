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
#include <stdint.h>
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

/* cg_create() that also records the container id on the cgroup (xattr
 * trusted.husk.owner) and refuses a cgroup recorded for another id, even an
 * empty one: "cgroupsPath /x: already in use by container other". */
int cg_create_owned(const char *dir, const char *id, const struct oci_resources *res, herr_t *err);

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

/* ------------------------------------------------------------ the plan
 *
 * cg_plan() is the pure mapping of linux.resources (everything except
 * devices) to cgroup v2 file writes; cg_plan_apply() performs them in a
 * directory. Mapping decisions (see cgroups/plan.c for details):
 *   memory.limit -> memory.max, reservation -> memory.low, swap (OCI:
 *   memory+swap) -> memory.swap.max = swap - limit, -1 -> "max";
 *   disableOOMKiller=true, swappiness, kernelTCP>0, kernel>0 -> error
 *   (cgroup v2 has no equivalent); useHierarchy is ignored.
 *   cpu.shares -> cpu.weight = 1 + ((shares-2)*9999)/262142,
 *   quota/period -> cpu.max, burst -> cpu.max.burst, idle -> cpu.idle,
 *   cpus/mems -> cpuset.cpus/cpuset.mems, realtime* -> error.
 *   pids.limit -> pids.max (-1 -> "max", 0 is a real limit).
 *   blockIO.weight -> io.weight (converted 10..1000 -> 1..10000) and
 *   io.bfq.weight (raw, only when the file exists); weightDevice likewise;
 *   throttle* -> io.max "MAJ:MIN rbps= wbps= riops= wiops=" (0 -> max);
 *   leafWeight -> error.
 *   hugepageLimits -> hugetlb.<size>.max (+ .rsvd.max when present).
 *   rdma -> rdma.max "dev hca_handle=N hca_object=N".
 *   network -> error (v1 only).
 *   unified -> verbatim, written last; keys are "<controller>.<name>" of
 *   [A-Za-z0-9_.-], no "/" or ".."; "cgroup." keys other than
 *   cgroup.max.depth, cgroup.max.descendants and cgroup.pressure are
 *   refused (cgroup.procs, cgroup.subtree_control, ... belong to husk). */

#define CG_W_OPTIONAL 1u  /* skip silently when the file does not exist */

struct cg_write {
        char *file;        /* name inside the cgroup, e.g. "memory.max" */
        char *value;
        char *field;       /* "linux.resources.memory.limit", for errors */
        unsigned flags;
};

struct cg_plan {
        struct cg_write *w;
        size_t n;
};

int cg_plan(const struct oci_resources *res, struct cg_plan *plan, herr_t *err);
void cg_plan_free(struct cg_plan *plan);
/* The controller a cgroup file belongs to ("memory" for memory.max) copied
 * into buf; "" for core "cgroup." files. */
void cg_file_controller(const char *file, char *buf, size_t size);
/* Check that every controller the plan needs is in `offered` (the
 * content of a cgroup.controllers file; NULL: the host has no v2 hierarchy).
 * Error names field and controller. */
int cg_plan_check(const struct cg_plan *plan, const char *offered, herr_t *err);
/* Validate res and check that this host's v2 hierarchy offers every
 * controller it needs (an error naming field and controller when the host
 * has no v2 hierarchy at all). Touches nothing. */
int cg_check_available(const struct oci_resources *res, herr_t *err);
/* Perform the writes in dir, in order. */
int cg_plan_apply(const struct cg_plan *plan, const char *dir, herr_t *err);

/* ---------------------------------------------------------- devices */

/* Generate the BPF_PROG_TYPE_CGROUP_DEVICE program for the OCI rule list
 * (later rules take precedence, default deny). *insns is malloc'ed
 * (struct bpf_insn[]). */
int cg_devices_prog(const struct oci_device_cgroup *rules, size_t n,
                    void **insns, size_t *n_insns, herr_t *err);
/* Load the program, attach it to dir with BPF_F_ALLOW_MULTI and detach the
 * programs attached before. */
int cg_devices_apply(const char *dir, const struct oci_device_cgroup *rules,
                     size_t n, herr_t *err);

/* Allow rules for the devices every container gets (runtime-spec "Default
 * Devices" plus /dev/pts/N and mknod). The runtime appends them after the
 * config's rules (later rules win) and passes the whole list. */
size_t cg_default_device_rules(const struct oci_device_cgroup **rules);

/* ------------------------------------------------------------ more */

/* fork() that starts the child inside the cgroup open as cgroup_fd
 * (clone3 CLONE_INTO_CGROUP, or fork()+cg_enter on older kernels; env
 * HUSK_CGROUP_NO_CLONE3=1 forces the fallback for tests).
 * Returns 0 in the child, the pid in the parent. The raw clone3 does not
 * run glibc's atfork handlers: in a multi-threaded caller the child must
 * only use async-signal-safe functions until it execs. */
pid_t cg_clone_into(int cgroup_fd, herr_t *err);

#define CG_MAX_IO_DEVICES 16
#define CG_UNLIMITED UINT64_MAX

struct cg_io_stat {
        unsigned major, minor;
        uint64_t rbytes, wbytes, rios, wios;
};

/* Counters of `events --stats`; have_* say which files existed. Limits of
 * "max" are CG_UNLIMITED. */
struct cg_stats {
        bool have_memory, have_cpu, have_pids, have_io;
        /* memory.current, memory.max, memory.peak, memory.swap.* */
        uint64_t mem_usage, mem_limit, mem_max_usage, swap_usage, swap_limit;
        /* memory.stat */
        uint64_t anon, file, kernel_stack, slab, sock, shmem, file_mapped,
                file_dirty, file_writeback, active_anon, inactive_anon,
                active_file, inactive_file, unevictable, pgfault, pgmajfault;
        /* memory.events */
        uint64_t oom, oom_kill;
        /* cpu.stat */
        uint64_t cpu_usage_usec, cpu_user_usec, cpu_system_usec,
                nr_periods, nr_throttled, throttled_usec;
        /* pids.current, pids.max */
        uint64_t pids_current, pids_limit;
        /* io.stat */
        struct cg_io_stat io[CG_MAX_IO_DEVICES];
        size_t n_io;
};

int cg_stats(const char *dir, struct cg_stats *st, herr_t *err);

/* The controllers of the v2 root (cgroup.controllers), malloc'ed. */
int cg_root_controllers(char **out, herr_t *err);

#endif
